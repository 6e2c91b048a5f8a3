//! Callers' numbers as calls deliver them: withheld callers, and national
//! numbers read through the script's `country`. Every check runs on both
//! engines.

use std::sync::Arc;

use dialect::flow::Step;
use dialect::lookup::LookupTables;
use dialect::program::{Engine, Program};
use dialect::suite::run_test;

/// Runs every test of a script on both engines and returns the names of
/// those that fail.
fn failing(text: &str) -> Vec<String> {
    let p = Arc::new(Program::from_text(text).expect("checks clean"));
    let tables = Arc::new(LookupTables::empty(p.checked()));
    let mut failed = Vec::new();
    for engine in [Engine::Jit, Engine::Interp] {
        for t in &p.checked().tests {
            if !run_test(&p, &tables, engine, t).passed {
                failed.push(format!("{} ({engine:?})", t.name));
            }
        }
    }
    failed
}

const WITHHELD: &str = r#"
queue support { strategy longest_idle }

route inbound {
  when caller withheld -> play "please-unblock", hangup
  otherwise            -> queue support
}

route callback_line {
  when not caller withheld -> queue support
  otherwise                -> voicemail "anonymous"
}

entry "+1 800 555 0100" -> route inbound
entry "+1 800 555 0200" -> route callback_line

test "a withheld caller is asked to unblock" {
  call from withheld to "+18005550100"
  expect play "please-unblock", hangup
}

test "a call without `from` is withheld" {
  call to "+18005550100"
  expect play "please-unblock", hangup
}

test "a caller with a number reaches support" {
  call from "+15125550101" to "+18005550100"
  expect queue support
}

test "the runtime sees a withheld caller too" {
  call from withheld to "+18005550200"
  given agent ana available
  expect rings nobody
  expect voicemail "anonymous"
}

test "the runtime rings an agent for a caller with a number" {
  call from "+15125550101" to "+18005550200"
  given agent ana available
  expect answered by ana
}
"#;

#[test]
fn withheld_callers_in_rules_and_tests() {
    assert_eq!(failing(WITHHELD), Vec::<String>::new());
}

#[test]
fn a_withheld_test_fails_when_its_expectation_is_wrong() {
    let wrong = WITHHELD.replace(
        "call from withheld to \"+18005550100\"\n  expect play \"please-unblock\", hangup",
        "call from withheld to \"+18005550100\"\n  expect queue support",
    );
    assert_eq!(failing(&wrong).len(), 2, "fails on both engines");
}

const US: &str = r#"
country "US"

lookup customer by caller from "customers.csv" {
  tier: text
}

queue gold    { strategy longest_idle }
queue support { strategy longest_idle }

route inbound {
  when caller == "(512) 555-0101"                   -> voicemail "owner"
  when known customer and customer.tier == "gold"   -> queue gold
  when caller matches "512 555 01XX"                -> queue support
  otherwise                                         -> voicemail "general"
}

entry "800 555 0100" -> route inbound
entry "1 888 555 0150" -> voicemail "sales"

test "national numbers in a test meet national numbers in the script" {
  call from "(512) 555-0101" to "18005550100"
  expect voicemail "owner"
}

test "an E.164 caller matches a national pattern" {
  call from "+1 512 555 0142" to "+1 800 555 0100"
  expect queue support
}

test "a national entry takes an international-prefix number" {
  call from "+44 20 7946 0000" to "1 888 555 0150"
  expect voicemail "sales"
}
"#;

const CUSTOMERS: &str = "caller,tier\n(737) 555-0199,gold\n+1 737 555 0100,silver\n";

fn us_program() -> (
    Arc<Program>,
    Arc<LookupTables>,
    Vec<dialect::diagnostic::Diagnostic>,
) {
    use dialect::load::{Loader, MemoryFs};
    let fs = MemoryFs::default()
        .with("main.dial", US)
        .with("customers.csv", CUSTOMERS);
    let mut loader = Loader::new(&fs);
    let root = loader
        .load(std::path::Path::new("main.dial"))
        .expect("loads");
    let checked = loader.check(root, None);
    let tables = dialect::lookup::load_tables(&loader, &checked.program).expect("rows");
    let p = Program::compile(checked.program).expect("compiles");
    (Arc::new(p), Arc::new(tables), checked.diagnostics)
}

#[test]
fn country_reads_national_numbers_in_the_script_tests_and_lookups() {
    let (p, tables, diagnostics) = us_program();
    assert!(diagnostics.is_empty(), "{diagnostics:#?}");
    for engine in [Engine::Jit, Engine::Interp] {
        for t in &p.checked().tests {
            assert!(
                run_test(&p, &tables, engine, t).passed,
                "{} ({engine:?})",
                t.name
            );
        }
    }
    // The CSV key `(737) 555-0199` is read as +17375550199.
    let mut facts = dialect::facts::Facts::new(&p.ir().layout);
    facts.caller = "+17375550199".into();
    facts.dialed = "+18005550100".into();
    for engine in [Engine::Jit, Engine::Interp] {
        let walk = dialect::flow::walk::walk(
            &p,
            &tables,
            engine,
            facts.clone(),
            "2026-11-23T16:00:00Z".parse().expect("instant"),
            &[],
            vec![false],
        );
        assert!(
            walk.steps
                .iter()
                .any(|s| matches!(s, Step::Route { fired: Some(1), .. })),
            "the national CSV key matched, so the gold rule fired: {walk:?}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn the_runtime_reads_carrier_numbers_in_the_scripts_country() {
    use dialect::runtime::{Arrival, Clock, Roster, Runtime};
    use dialect::sim::{Behaviour, SimCaller};
    let (p, tables, _) = us_program();
    let clock = Clock::starting_at("2026-11-23T16:00:00Z".parse().expect("instant"));
    let rt = Runtime::builder(p, &Roster::default())
        .clock(clock)
        .build()
        .expect("runtime");
    rt.reload_data(tables).expect("the rows fit");
    for (caller, dialed, expect) in [
        ("5125550101", "18005550100", "voicemail owner"),
        ("(512) 555-0101", "8005550100", "voicemail owner"),
        ("15125550142", "800 555 0100", "queue support"),
        ("anonymous", "+18005550100", "voicemail general"),
        ("+15125550101", "011 1 888 555 0150", "voicemail sales"),
    ] {
        let behaviour = Behaviour {
            patience_ms: Some(1_000),
            ..Behaviour::default()
        };
        let mut c = SimCaller::new(rt.clock().clone(), behaviour);
        let summary = rt.run_call(&mut c, Arrival::new(caller, dialed)).await;
        let path = dialect::runtime::record::routing(&summary.path).join(", ") + &c.log.join(", ");
        assert!(
            path.contains(expect),
            "{caller} -> {dialed}: {path} ({:?})",
            summary.disposition
        );
    }
}

const SQLITE_SCRIPT: &str = r#"
country "US"

lookup account by caller from "accounts.db" table "accounts" {
  tier: text
}

queue gold { strategy longest_idle }

route inbound {
  when known account and account.tier == "gold" -> queue gold
  otherwise                                     -> voicemail "general"
}

entry "800 555 0100" -> route inbound

test "a national key in SQLite matches an E.164 caller" {
  call from "+1 737 555 0199" to "+18005550100"
  expect queue gold
}
"#;

/// `dialect test` reads SQLite keys, and `dialect explain` its `--from`
/// and `--to`, in the script's country.
#[test]
fn the_cli_reads_sqlite_keys_and_explain_numbers_in_the_country() {
    let dir = std::env::temp_dir().join(format!("dialect-numbers-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let script = dir.join("main.dial");
    std::fs::write(&script, SQLITE_SCRIPT).expect("script");
    let db_path = dir.join("accounts.db");
    let _ = std::fs::remove_file(&db_path);
    let db = rusqlite::Connection::open(&db_path).expect("db");
    db.execute_batch(
        "CREATE TABLE accounts (caller TEXT, tier TEXT);
         INSERT INTO accounts VALUES ('(737) 555-0199', 'gold');",
    )
    .expect("rows");
    drop(db);
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_dialect"))
            .args(args)
            .env("NO_COLOR", "1")
            .output()
            .expect("runs");
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        (out.status.success(), text)
    };
    let script = script.to_str().expect("utf-8 path");
    let (ok, text) = run(&["test", script]);
    assert!(ok, "{text}");
    let (ok, text) = run(&[
        "explain",
        script,
        "--from",
        "737-555-0199",
        "--to",
        "8005550100",
        "--at",
        "2026-11-23 10:00",
    ]);
    assert!(ok && text.contains("+17375550199"), "{text}");
    assert!(text.contains("ends: queue gold"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A traffic file's numbers are read as the runtime reads calls'.
#[test]
fn traffic_files_read_national_numbers_in_the_country() {
    let (p, _, _) = us_program();
    let traffic = r#"
start = "2026-11-23 08:00"
[[calls]]
to = "800 555 0100"
from = ["(512) 555-0101"]
per_hour = 60
talk = { distribution = "exponential", mean = "3m" }
"#;
    let roster = dialect::runtime::Roster::default();
    let parsed = dialect::sim::Traffic::parse(traffic, &p, &roster);
    assert!(parsed.is_ok(), "{:?}", parsed.err());
}

/// The tests written in the fixtures of holidays by rule and national
/// numbers pass on both engines.
#[test]
fn fixture_tests_pass() {
    for path in [
        "tests/fixtures/lint/ok/national_numbers.dial",
        "tests/fixtures/lint/ok/calendars_and_hours.dial",
    ] {
        let text = std::fs::read_to_string(path).expect("fixture");
        assert_eq!(failing(&text), Vec::<String>::new(), "{path}");
    }
}
