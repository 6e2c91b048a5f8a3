//! Reloading lookup data apart from the script, on tokio's paused clock: a
//! data-only reload takes effect for the next call and not for a call in
//! progress, tables that do not fit the program are refused, and a script
//! reload takes its tables along.

use std::sync::Arc;

use dialect::load::{Loader, MemoryFs};
use dialect::lookup::{DataMismatch, LookupTables, load_tables};
use dialect::program::Program;
use dialect::runtime::{Arrival, Clock, ReloadError, Roster, Runtime};
use dialect::sim::{Behaviour, SimCaller};

/// Callers type an account number; what they hear depends on its row,
/// read after they typed it (a lookup by digits).
const SCRIPT: &str = r#"
lookup account by digits from "accounts.csv" {
  tier: text
}
menu identify {
  prompt "enter-account"
  timeout 8s, digit timeout 3s
  collect 4 digits -> route by_account
}
route by_account {
  when not known account        -> play "unknown", hangup
  when account.tier == "gold"   -> play "gold", hangup
  otherwise                     -> play "standard", hangup
}
entry "+18005550100" -> menu identify
"#;

const STANDARD: &str = "account,tier\n1234,standard\n";
const GOLD: &str = "account,tier\n1234,gold\n5678,standard\n";

/// Checks and compiles `script` with `csv` as its accounts, and loads the
/// tables, as a server would on a reload.
fn load(script: &str, csv: &str) -> (Arc<Program>, Arc<LookupTables>) {
    let fs = MemoryFs::default()
        .with("main.dial", script)
        .with("accounts.csv", csv);
    let mut loader = Loader::new(&fs);
    let root = loader
        .load(std::path::Path::new("main.dial"))
        .expect("loads");
    let checked = loader.check(root, None);
    let errors: Vec<_> = (checked.diagnostics.iter())
        .filter(|d| d.is_error())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    let tables = load_tables(&loader, &checked.program).expect("rows");
    let program = Program::compile(checked.program).expect("compiles");
    (Arc::new(program), Arc::new(tables))
}

fn runtime(csv: &str) -> Arc<Runtime> {
    let (program, tables) = load(SCRIPT, csv);
    let clock = Clock::starting_at("2026-11-23T16:00:00Z".parse().expect("instant"));
    let rt = Runtime::builder(program, &Roster::default())
        .clock(clock)
        .build()
        .expect("runtime");
    rt.reload_data(tables).expect("the rows fit");
    rt
}

/// A caller who types `account`; returns what they heard, in order.
async fn call(rt: Arc<Runtime>, account: &str) -> Vec<String> {
    let mut caller = SimCaller::new(
        rt.clock().clone(),
        Behaviour {
            presses: [Some(account.to_string())].into(),
            ..Behaviour::default()
        },
    );
    rt.run_call(&mut caller, Arrival::new("+15125550101", "+18005550100"))
        .await;
    caller
        .log
        .into_iter()
        .filter(|l| l.starts_with("play "))
        .collect()
}

#[tokio::test(start_paused = true)]
async fn a_data_reload_takes_effect_for_the_next_call_not_the_one_in_progress() {
    let rt = runtime(STANDARD);
    assert_eq!(
        call(Arc::clone(&rt), "1234").await,
        ["play enter-account", "play standard"]
    );

    // A call starts and hears the menu's prompt (2 s) before it types.
    let in_progress = tokio::spawn(call(Arc::clone(&rt), "1234"));
    tokio::time::sleep(std::time::Duration::from_millis(1_000)).await;
    let before = rt.clock().elapsed_ms();
    let (_, gold) = load(SCRIPT, GOLD);
    rt.reload_data(Arc::clone(&gold)).expect("the rows fit");
    assert!(Arc::ptr_eq(&rt.tables(), &gold));

    // It looks its account up after the reload, in the tables it started with.
    let heard = in_progress.await.expect("the call ends");
    assert!(
        rt.clock().elapsed_ms() > before,
        "the call went on after the reload"
    );
    assert_eq!(heard, ["play enter-account", "play standard"]);

    // The next call reads the new rows, including a row that is new.
    assert_eq!(
        call(Arc::clone(&rt), "1234").await,
        ["play enter-account", "play gold"]
    );
    assert_eq!(
        call(Arc::clone(&rt), "5678").await,
        ["play enter-account", "play standard"]
    );
    assert_eq!(
        call(Arc::clone(&rt), "9999").await,
        ["play enter-account", "play unknown"]
    );
}

#[tokio::test(start_paused = true)]
async fn tables_for_other_lookups_are_refused_and_the_old_ones_kept() {
    let rt = runtime(STANDARD);
    let kept = rt.tables();
    // The same rows read for a declaration whose field changed type.
    let (_, other) = load(
        &SCRIPT
            .replace("tier: text", "tier: int")
            .replace("== \"gold\"", "== 1"),
        "account,tier\n1234,7\n",
    );
    assert_eq!(
        rt.reload_data(other).unwrap_err(),
        DataMismatch::Declaration("account".into())
    );
    // Tables of a script with no lookups.
    assert_eq!(
        rt.reload_data(Arc::new(LookupTables::default()))
            .unwrap_err(),
        DataMismatch::Count {
            tables: 0,
            script: 1
        }
    );
    assert!(Arc::ptr_eq(&rt.tables(), &kept));
    assert_eq!(
        call(Arc::clone(&rt), "1234").await,
        ["play enter-account", "play standard"]
    );
}

#[tokio::test(start_paused = true)]
async fn a_script_reload_takes_its_tables_along() {
    let rt = runtime(STANDARD);
    let old = rt.program();
    // A new script whose lookup has another field: the old tables do not
    // fit it, and the runtime keeps its program and tables.
    let script = SCRIPT
        .replace("tier: text", "tier: text\n  vip: bool")
        .replace(
            "when account.tier == \"gold\"",
            "when account.vip -> play \"vip\", hangup\n  when account.tier == \"gold\"",
        );
    let (program, tables) = load(&script, "account,tier,vip\n1234,standard,true\n");
    let refused = rt.reload(Arc::clone(&program), rt.tables(), None);
    assert!(
        matches!(refused, Err(ReloadError::Data(DataMismatch::Declaration(ref l))) if l == "account"),
        "{refused:?}"
    );
    assert!(Arc::ptr_eq(&rt.program(), &old));
    assert_eq!(
        call(Arc::clone(&rt), "1234").await,
        ["play enter-account", "play standard"]
    );

    // With its own tables it goes in, and the next call reads both.
    rt.reload(program, Arc::clone(&tables), None)
        .expect("reload");
    assert!(Arc::ptr_eq(&rt.tables(), &tables));
    assert_eq!(
        call(Arc::clone(&rt), "1234").await,
        ["play enter-account", "play vip"]
    );
}
