//! The `dialect` binary end to end: output formats, exit status, scripts
//! whose errors are spread over several files, `test`, `explain` and
//! `simulate`.

mod common;

use common::{dialect, stderr, stdout};
use std::process::{Command, Output};

#[test]
fn examples_lint_clean() {
    let out = dialect(&["lint", "--deny", "warnings", "examples/"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("0 errors, 0 warnings"),
        "{}",
        stdout(&out)
    );
}

/// One error in each of three files: every one is reported with its file,
/// line and code, in both formats.
#[test]
fn errors_in_several_files_are_all_reported() {
    let out = dialect(&["lint", "tests/fixtures/multi/main.dial"]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    for needle in [
        "D2001",
        "tests/fixtures/multi/main.dial:13:34",
        "D2011",
        "tests/fixtures/multi/sites/chicago.dial:4:12",
        "D3006",
        "tests/fixtures/multi/sites/london.dial:3:38",
        "3 errors, 0 warnings in 3 files",
    ] {
        assert!(text.contains(needle), "missing `{needle}` in:\n{text}");
    }

    let out = dialect(&["lint", "--format", "json", "tests/fixtures/multi/main.dial"]);
    assert_eq!(out.status.code(), Some(1));
    let rows: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is a JSON object"))
        .collect();
    let found: Vec<(String, String, u64, u64)> = rows
        .iter()
        .map(|r| {
            (
                r["code"].as_str().unwrap_or("").to_string(),
                r["file"].as_str().unwrap_or("").to_string(),
                r["line"].as_u64().unwrap_or(0),
                r["column"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        found,
        vec![
            (
                "D2001".into(),
                "tests/fixtures/multi/main.dial".into(),
                13,
                34
            ),
            (
                "D2011".into(),
                "tests/fixtures/multi/sites/chicago.dial".into(),
                4,
                12
            ),
            (
                "D3006".into(),
                "tests/fixtures/multi/sites/london.dial".into(),
                3,
                38
            ),
        ]
    );
    for r in &rows {
        assert_eq!(r["severity"], "error");
        assert!(
            !r["help"].as_str().unwrap_or("").is_empty(),
            "help line in {r}"
        );
        assert!(
            r["span"]["end"].as_u64() > r["span"]["start"].as_u64(),
            "span in {r}"
        );
        assert!(
            r["labels"].as_array().is_some_and(|l| !l.is_empty()),
            "labels in {r}"
        );
    }
}

#[test]
fn warnings_fail_only_when_denied() {
    let out = dialect(&["lint", "tests/fixtures/cli/warning_only.dial"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("0 errors, 1 warning in 1 file"),
        "{}",
        stdout(&out)
    );
    let out = dialect(&[
        "lint",
        "--deny",
        "warnings",
        "tests/fixtures/cli/warning_only.dial",
    ]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn bad_paths_are_usage_errors() {
    let out = dialect(&["lint", "tests/fixtures/does-not-exist.dial"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("does not exist"));

    let empty = std::env::temp_dir().join(format!("dialect-empty-{}", std::process::id()));
    std::fs::create_dir_all(&empty).expect("temp dir");
    let out = dialect(&["lint", empty.to_str().expect("utf-8 path")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no `.dial` files"));
    let _ = std::fs::remove_dir(&empty);

    let out = dialect(&["lint"]);
    assert_eq!(out.status.code(), Some(2));
    let out = dialect(&["lint", "--format", "xml", "examples/"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn help_teaches() {
    let out = dialect(&["lint", "--help"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    for needle in [
        "--format",
        "--deny",
        "--prompts",
        "Exit status",
        "docs/diagnostics.md",
    ] {
        assert!(
            text.contains(needle),
            "`{needle}` missing from --help:\n{text}"
        );
    }
}

#[test]
fn example_tests_pass_on_both_engines() {
    for engine in ["jit", "interp"] {
        let out = dialect(&["test", "--engine", engine, "examples/"]);
        let text = stdout(&out);
        assert_eq!(out.status.code(), Some(0), "{text}");
        assert!(text.contains(" passed, 0 failed"), "{text}");
        assert!(!text.contains("FAIL"), "{text}");
    }
}

/// A failing test exits 1 and shows expected, got and the decision path
/// with the source line of each step.
#[test]
fn a_failing_test_shows_its_path() {
    let out = dialect(&["test", "tests/fixtures/cli/failing_test.dial"]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    for needle in [
        "FAIL  weekends go to voicemail  (tests/fixtures/cli/failing_test.dial:",
        "expected  voicemail \"weekend\"",
        "got       queue desk",
        "entry \"+33 1 23 45 67 89\" answers the call",
        "route inbound: rule 2 fires",
        "tests/fixtures/cli/failing_test.dial:7 │ when open(office)",
        "ok    weekdays reach the desk",
        "1 passed, 1 failed",
    ] {
        assert!(text.contains(needle), "missing `{needle}` in:\n{text}");
    }
}

/// Tests with agents run the call through the call runtime on both
/// engines: the passing ones pass, and a failing one shows each expectation
/// against what happened, the runtime's path and a timeline of what rang,
/// who answered and how long the caller waited.
#[test]
fn runtime_tests_show_rings_answers_and_waits() {
    for engine in ["jit", "interp"] {
        let out = dialect(&[
            "test",
            "--engine",
            engine,
            "tests/fixtures/cli/runtime_tests.dial",
        ]);
        assert_eq!(out.status.code(), Some(1));
        let text = stdout(&out);
        for needle in [
            "ok    a qualified agent answers",
            "ok    an unanswered offer moves on to the agent idle longest",
            "ok    callers wait, then leave a message",
            "ok    an impatient caller hangs up",
            "ok    the desk phones ring in turn",
            // What rang and who answered, against what was expected.
            "FAIL  wrongly expects bob  (tests/fixtures/cli/runtime_tests.dial:71)",
            "expected  rings bob\n        got       rings ana\n",
            "expected  answered by bob\n        got       answered by ana\n",
            "call      entry +18005550100 → route inbound → menu main → queue billing",
            "0:02  rings ana for up to 0:20\n          0:02  ana answers\n",
            "ended     answered by ana\n",
            // A wrong decision-level expectation shows the decision path
            // too; the caller's wait shows in the timeline.
            "FAIL  wrongly expects voicemail and an answer",
            "expected  voicemail \"billing\"\n        got       queue billing\n",
            "tests/fixtures/cli/runtime_tests.dial:19 │ 1 -> queue billing",
            "expected  answered\n        got       abandoned after waiting 0:30\n",
            "0:32  hangs up after waiting 0:30 in queue billing",
            "5 passed, 2 failed",
        ] {
            assert!(
                text.contains(needle),
                "{engine}: missing `{needle}` in:\n{text}"
            );
        }
    }
}

/// A runtime expectation that names an agent the test does not place is
/// an error with a suggestion, and no test runs.
#[test]
fn runtime_tests_check_agent_names() {
    let dir = std::env::temp_dir().join(format!("dialect-agents-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let script = dir.join("agents.dial");
    std::fs::write(
        &script,
        r#"
timezone "America/Chicago"
queue desk { strategy linear }
entry "+18005550100" -> queue desk
test "ana answers" {
  call to "+18005550100"
  given agent ana available
  expect answered by anna
}
"#,
    )
    .expect("writes the script");
    let out = dialect(&["test", script.to_str().expect("utf-8 path")]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    for needle in [
        "there is no agent `anna` in this test",
        "did you mean `ana`?",
        "cannot run tests: 1 error",
    ] {
        assert!(text.contains(needle), "missing `{needle}` in:\n{text}");
    }
}

/// `expect rings nobody` holds when no agent or extension rang (nobody
/// logged in, a group whose members are all away) and fails, naming who
/// rang, when someone did. An `auto answer` queue rings its agent's phone
/// too.
#[test]
fn expect_rings_nobody_fails_when_someone_rang() {
    let dir = std::env::temp_dir().join(format!("dialect-nobody-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let script = dir.join("nobody.dial");
    std::fs::write(
        &script,
        r#"
timezone "America/Chicago"
skill billing
queue billing {
  strategy longest_idle
  require  billing >= 3
  ring     20s then next
  no agents -> voicemail "billing"
}
queue hotline { strategy linear; auto answer }
group desk { members 2001; mode sequential 10s; then -> voicemail "desk" }
menu main { prompt "main"; 1 -> queue billing; 2 -> group desk; 3 -> queue hotline }
route inbound { otherwise -> menu main }
entry "+18005550100" -> route inbound
test "nobody rings when nobody is in" {
  call to "+18005550100"
  given agent ana logged_out { billing: 5 }
  press 1
  expect no agents then voicemail "billing"
  expect rings nobody
}
test "a desk whose only member is away rings nobody" {
  call to "+18005550100"
  given agent ana logged_out extension 2001
  press 2
  expect rings nobody then voicemail "desk"
}
test "an auto answer queue rings its agent's phone" {
  call to "+18005550100"
  given agent ana available { billing: 5 }
  press 3
  expect rings ana
  expect answered by ana
}
test "wrongly expects nobody to ring" {
  call to "+18005550100"
  given agent ana available { billing: 5 }
  press 1
  expect rings nobody
}
"#,
    )
    .expect("writes the script");
    let path = script.to_str().expect("utf-8 path");
    for engine in ["jit", "interp"] {
        let out = dialect(&["test", "--engine", engine, path]);
        let text = stdout(&out);
        assert_eq!(out.status.code(), Some(1), "{engine}: {text}");
        for needle in [
            "ok    nobody rings when nobody is in",
            "ok    a desk whose only member is away rings nobody",
            "FAIL  wrongly expects nobody to ring",
            "expected  rings nobody\n        got       rings ana\n",
            "rings ana for up to 0:20",
            "ok    an auto answer queue rings its agent's phone",
            "3 passed, 1 failed",
        ] {
            assert!(
                text.contains(needle),
                "{engine}: missing `{needle}` in:\n{text}"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `dialect test` follows a call as the runtime does: time moves through
/// menus, over-long entries are cut where the collector stops, and a hunt
/// group without `then` can be expected to hang up.
#[test]
fn tests_follow_the_runtimes_path() {
    for engine in ["jit", "interp"] {
        let out = dialect(&[
            "test",
            "--engine",
            engine,
            "tests/fixtures/cli/same_path.dial",
        ]);
        let text = stdout(&out);
        assert_eq!(out.status.code(), Some(0), "{engine}: {text}");
        assert!(text.contains("5 passed, 0 failed"), "{engine}: {text}");
    }
    // `explain` shows the same path.
    let out = dialect(&[
        "explain",
        "tests/fixtures/cli/same_path.dial",
        "--to",
        "+18005550100",
        "--at",
        "2026-11-23 10:00",
        "--press",
        "timeout",
    ]);
    let text = stdout(&out);
    assert!(text.contains("ends: voicemail \"closed\""), "{text}");
}

#[test]
fn explain_lists_every_rule_with_its_result() {
    let args = [
        "explain",
        "tests/fixtures/cli/failing_test.dial",
        "--from",
        "+33 6 12 34 56 78",
        "--to",
        "+33 1 23 45 67 89",
        "--at",
        "2026-11-23 10:00",
    ];
    let out = dialect(&args);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    for needle in [
        "call from +33612345678 to +33123456789 at 2026-11-23 10:00 Monday (Europe/Paris)",
        "route inbound: rule 1 does not hold",
        "route inbound: rule 2 fires",
        "ends: queue desk",
    ] {
        assert!(text.contains(needle), "missing `{needle}` in:\n{text}");
    }
    let mut json_args = args.to_vec();
    json_args.extend(["--format", "json"]);
    let out = dialect(&json_args);
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("explain --format json prints JSON");
    assert_eq!(report["outcome"], "queue desk");
    assert_eq!(report["zone"], "Europe/Paris");
    let kinds: Vec<&str> = report["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter_map(|s| s["kind"].as_str())
        .collect();
    assert_eq!(kinds, ["entry", "rule", "rule", "action"]);

    let out = dialect(&[
        "explain",
        "tests/fixtures/cli/failing_test.dial",
        "--to",
        "+33 1 23 45 67 89",
        "--at",
        "tomorrow",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("is not a local time"));
}

// ----------------------------------------------------------- simulate ----
//
// Every example simulates with plausible figures, a seed gives the same
// report, the formats parse, and bad traffic or roster files get a message
// naming the problem.

const EXAMPLES: [&str; 4] = [
    "examples/office/office.dial",
    "examples/support/support.dial",
    "examples/bank/bank.dial",
    "examples/multisite/main.dial",
];

#[test]
fn every_example_simulates_with_plausible_figures() {
    for script in EXAMPLES {
        let out = dialect(&["simulate", script, "--format", "json"]);
        assert_eq!(out.status.code(), Some(0), "{script}: {}", stderr(&out));
        let report: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
        let calls = report["calls"].as_u64().expect("calls");
        assert!(calls > 100, "{script}: only {calls} calls");
        let ended: u64 = report["dispositions"]
            .as_array()
            .expect("dispositions")
            .iter()
            .map(|d| d[1].as_u64().expect("count"))
            .sum();
        let unfinished = report["unfinished"].as_u64().expect("unfinished");
        assert_eq!(
            ended + unfinished,
            calls,
            "{script}: every call is counted once"
        );
        let all = report["totals"]
            .as_array()
            .expect("totals")
            .iter()
            .find(|r| r["queue"] == "all")
            .expect("all row");
        let answered = all["answered"].as_u64().expect("answered");
        assert!(
            answered as f64 > 0.5 * calls as f64,
            "{script}: {answered} of {calls} answered"
        );
        let occupancy = all["occupancy"].as_f64().expect("occupancy");
        assert!(
            (0.05..=1.0).contains(&occupancy),
            "{script}: occupancy {occupancy}"
        );
        for row in report["totals"].as_array().expect("totals") {
            if let Some(sl) = row["service_level"].as_f64() {
                assert!((0.0..=1.0).contains(&sl), "{script}: {row}");
            }
        }
    }
}

#[test]
fn a_seed_gives_the_same_report_and_another_seed_a_different_one() {
    let script = "examples/support/support.dial";
    let a = dialect(&["simulate", script, "--seed", "5", "--format", "csv"]);
    let b = dialect(&["simulate", script, "--seed", "5", "--format", "csv"]);
    let c = dialect(&["simulate", script, "--seed", "6", "--format", "csv"]);
    assert_eq!(a.status.code(), Some(0), "{}", stderr(&a));
    assert_eq!(stdout(&a), stdout(&b));
    assert_ne!(stdout(&a), stdout(&c));
    let text = stdout(&a);
    let header = text.lines().next().expect("header");
    assert!(
        header.starts_with("interval,queue,offered,answered"),
        "{header}"
    );
    let columns = header.split(',').count();
    assert!(text.lines().all(|l| l.split(',').count() == columns));
    assert!(text.contains("\ntotal,billing_en,"), "{text}");
    // The bank's callers draw their key timing too (`think`, `digit_gap`).
    let script = "examples/bank/bank.dial";
    let a = dialect(&["simulate", script, "--seed", "5", "--format", "csv"]);
    let b = dialect(&["simulate", script, "--seed", "5", "--format", "csv"]);
    assert_eq!(a.status.code(), Some(0), "{}", stderr(&a));
    assert_eq!(stdout(&a), stdout(&b));
}

#[test]
fn the_table_names_queues_and_columns() {
    let out = dialect(&["simulate", "examples/bank/bank.dial"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    for needle in [
        "simulated 2026-11-23 07:00 (America/Chicago)",
        "offered",
        "ASA",
        "collections",
        "total ",
    ] {
        assert!(text.contains(needle), "no `{needle}` in:\n{text}");
    }
}

fn with_traffic(traffic: &str) -> Output {
    let dir = std::env::temp_dir().join(format!(
        "dialect-sim-{}-{}",
        std::process::id(),
        traffic.len()
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("traffic.toml");
    std::fs::write(&path, traffic).expect("write");
    let out = dialect(&[
        "simulate",
        "examples/support/support.dial",
        "--traffic",
        path.to_str().expect("utf-8 path"),
    ]);
    let _ = std::fs::remove_dir_all(&dir);
    out
}

#[test]
fn bad_traffic_gets_a_message_naming_the_problem() {
    let base = "start = \"2026-11-23 08:00\"\n[[calls]]\nto = \"+18885550100\"\nper_hour = 10\ntalk = { distribution = \"exponential\", mean = \"3m\" }\n";
    let cases = [
        (
            base.replace("+18885550100", "+18885550999"),
            "no entry of the script answers +18885550999",
        ),
        (
            base.replace("\"3m\"", "\"three minutes\""),
            "is not a duration",
        ),
        (
            format!("{base}keys.main_enn = {{ \"1\" = 0.5 }}\n"),
            "did you mean `main_en`",
        ),
        (
            format!("{base}keys.main_en = {{ \"1\" = 0.8, \"2\" = 0.5 }}\n"),
            "add up to 1.300",
        ),
        (
            format!("{base}[[shifts]]\nagents = [\"anna\"]\nfrom = \"08:00\"\nto = \"12:00\"\n"),
            "did you mean `ana`",
        ),
        (
            base.replace("per_hour = 10", "per_hour = -1"),
            "per_hour is -1",
        ),
        (
            format!("{base}colour = \"blue\"\n"),
            "unknown field `colour`",
        ),
        (
            base.replace("2026-11-23 08:00", "Monday"),
            "is not a local time",
        ),
        (
            base.replace("2026-11-23 08:00", "9999-12-31 08:00"),
            "a run starts between the years 1900 and 2999",
        ),
        (
            format!("{base}digit_gap = {{ distribution = \"fixed\", value = \"2m\" }}\n"),
            "calls[1] (to +18885550100).digit_gap: the mean is 120 s",
        ),
        (
            format!("{base}think = {{ distribution = \"exponential\", mean = \"0s\" }}\n"),
            "calls[1] (to +18885550100).think: the mean must be more than 0",
        ),
    ];
    for (traffic, message) in cases {
        let out = with_traffic(&traffic);
        assert_eq!(out.status.code(), Some(2), "{traffic}\n{}", stderr(&out));
        assert!(
            stderr(&out).contains(message),
            "expected `{message}` in: {}",
            stderr(&out)
        );
    }
}

#[test]
fn a_missing_roster_says_which_file_and_how_to_pass_one() {
    let out = dialect(&[
        "simulate",
        "examples/support/support.dial",
        "--agents",
        "nowhere/agents.toml",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("nowhere/agents.toml") && err.contains("--agents"),
        "{err}"
    );
}

/// `queue(Q).available` and `queue(Q).agents` count the queue's own
/// agents in `dialect test` as in the runtime: those who pass its
/// `require` or a relaxation step's, for this caller (a filter that reads
/// the caller's lookup row counts the agents it holds for this caller).
/// A filter that only time makes true is dispatched in a test's quiet
/// center too.
#[test]
fn queue_statistics_count_the_queues_own_agents_in_tests() {
    let dir = std::env::temp_dir().join(format!("dialect-stats-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(dir.join("customers.csv"), "number,language\n").expect("writes the csv");
    let script = dir.join("stats.dial");
    std::fs::write(
        &script,
        r#"
timezone "America/Chicago"
skill billing
skill language { english, spanish }
lookup customer by caller from "customers.csv" {
  language: language
}
queue billing {
  strategy longest_idle
  require  billing >= 3
  ring     20s then next
  after 1m require billing >= 2
}
queue care {
  strategy longest_idle
  require  known customer and language == customer.language
  ring     20s then next
}
route billing_line {
  when queue(billing).available == 1 and queue(billing).agents == 2 -> queue billing
  otherwise -> voicemail "billing"
}
route care_line {
  when queue(care).available == 0 -> voicemail "care"
  otherwise                       -> queue care
}
queue rested {
  strategy longest_idle
  require  agent.idle_minutes >= 2
  ring     20s then next
  after 10m -> voicemail "rested"
}
entry "+18005550100" -> route billing_line
entry "+18005550101" -> route care_line
entry "+18005550102" -> queue rested
test "billing counts only agents with the billing skill" {
  call from "+15125550101" to "+18005550100"
  given agent ana on_call { billing: 5 }
  given agent bob available { billing: 2 }
  given agent cy available { billing: 1 }
  given agent dee available
  expect queue billing
  expect answered by bob
}
test "care counts agents who speak this caller's language" {
  call from "+15125550101" to "+18005550101"
  given customer { language: spanish }
  given agent ana available { language: english }
  given agent lucia on_call { language: spanish }
  expect voicemail "care"
}
test "an English speaker finds ana" {
  call from "+15125550101" to "+18005550101"
  given customer { language: english }
  given agent ana available { language: english }
  given agent lucia on_call { language: spanish }
  expect queue care
  expect answered by ana
}
test "a rested agent takes the call once idle two minutes" {
  call from "+15125550101" to "+18005550102"
  given agent ana available
  expect answered by ana
}
"#,
    )
    .expect("writes the script");
    let path = script.to_str().expect("utf-8 path");
    for engine in ["jit", "interp"] {
        let out = dialect(&["test", "--engine", engine, path]);
        let text = stdout(&out);
        assert_eq!(out.status.code(), Some(0), "{engine}: {text}");
        assert!(text.contains("4 passed, 0 failed"), "{engine}: {text}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

// ------------------------------------------------------ help examples ----

/// The words of an example command line from `--help`: double quotes group
/// words, and the line ends at a redirection (`> day.csv`) or at two spaces
/// (a description follows).
fn example_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let (mut quoted, mut spaces) = (false, 0);
    for c in line.trim().chars() {
        match c {
            '"' => quoted = !quoted,
            ' ' if !quoted => {
                spaces += 1;
                if spaces == 2 {
                    break;
                }
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                continue;
            }
            _ => word.push(c),
        }
        spaces = 0;
    }
    if !word.is_empty() {
        words.push(word);
    }
    words.into_iter().take_while(|w| w != ">").collect()
}

/// The `--help` of `lint`, `test`, `explain` and `simulate` documents
/// the exit statuses, and every example in it fits 80 columns (a command too long for one line continues
/// with ` \`), runs from the repository root and succeeds; an `explain`
/// example shows a call that some entry answers.
#[test]
fn help_examples_run() {
    let mut ran = 0;
    for command in ["lint", "test", "explain", "simulate"] {
        let help = stdout(&dialect(&[command, "--help"]));
        assert!(
            help.contains("Exit status: 0 when"),
            "`dialect {command} --help` says what its exit statuses mean"
        );
        let examples = help
            .split("Examples:\n")
            .nth(1)
            .and_then(|e| e.split("\n\n").next())
            .unwrap_or_else(|| panic!("`dialect {command} --help` has examples"));
        let mut line = String::new();
        for part in examples.lines() {
            assert!(part.len() <= 80, "wider than 80 columns: `{part}`");
            // A continued line's next part is indented under the command.
            let part = if line.is_empty() {
                part
            } else {
                part.trim_start()
            };
            match part.strip_suffix(" \\") {
                Some(head) => {
                    line.push_str(head);
                    line.push(' ');
                    continue;
                }
                None => line.push_str(part),
            }
            let words = example_words(&std::mem::take(&mut line));
            assert_eq!(words[..2], ["dialect", command], "{part}");
            let args: Vec<&str> = words[1..].iter().map(String::as_str).collect();
            let out = dialect(&args);
            assert_eq!(
                out.status.code(),
                Some(0),
                "`{}` failed:\n{}{}",
                words.join(" "),
                stdout(&out),
                stderr(&out)
            );
            assert!(
                !stdout(&out).contains("no entry answers"),
                "`{}` dials a number no entry answers",
                words.join(" ")
            );
            ran += 1;
        }
    }
    assert!(ran >= 12, "expected three examples per command, ran {ran}");
}

#[test]
fn example_words_follow_the_help_layout() {
    assert_eq!(
        example_words("  dialect explain a.dial --at \"2026-12-24 17:30\" --press 3,2001"),
        [
            "dialect",
            "explain",
            "a.dial",
            "--at",
            "2026-12-24 17:30",
            "--press",
            "3,2001"
        ]
    );
    assert_eq!(
        example_words("  dialect lint examples/      check every script"),
        ["dialect", "lint", "examples/"]
    );
    assert_eq!(
        example_words("  dialect simulate b.dial --format csv > day.csv"),
        ["dialect", "simulate", "b.dial", "--format", "csv"]
    );
}

/// `--filter` that matches no test says so and fails, rather than
/// reporting "0 passed, 0 failed" as a success.
#[test]
fn a_filter_that_matches_nothing_fails() {
    let out = dialect(&["test", "--filter", "no such test name", "examples/"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("no test name contains `no such test name`"),
        "{}",
        stdout(&out)
    );
    let out = dialect(&["test", "--filter", "holiday", "examples/"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

// ------------------------------------------------------ hostile input ----
//
// Each case is built in a fresh folder and run with a deadline, so that a
// regression (a read that blocks, a quadratic renderer, a stack overflow)
// fails the test instead of hanging it.

/// A fresh, empty folder for one test.
fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cli-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

/// Runs `dialect` in `dir`, killing it after `secs` seconds. Output goes to
/// files, so a large report cannot block the child on a full pipe.
fn dialect_within(dir: &std::path::Path, args: &[&str], secs: u64) -> Output {
    use std::process::Stdio;
    let out_path = dir.join(".stdout");
    let err_path = dir.join(".stderr");
    let mut child = Command::new(env!("CARGO_BIN_EXE_dialect"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).expect("stdout file"))
        .stderr(std::fs::File::create(&err_path).expect("stderr file"))
        .spawn()
        .expect("the dialect binary runs");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`dialect {}` took more than {secs} s", args.join(" "));
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    Output {
        status,
        stdout: std::fs::read(&out_path).unwrap_or_default(),
        stderr: std::fs::read(&err_path).unwrap_or_default(),
    }
}

/// The first JSON diagnostic with this code.
fn json_row(out: &Output, code: &str) -> serde_json::Value {
    stdout(out)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("JSON"))
        .find(|r| r["code"] == code)
        .unwrap_or_else(|| panic!("no {code} in {}", stdout(out)))
}

const MINIMAL: &str = "timezone \"America/Chicago\"\nqueue q { strategy linear }\n\
                       entry \"+1 800 555 0100\" -> queue q\n";

#[cfg(unix)]
#[test]
fn dev_zero_is_a_diagnostic_not_a_hang() {
    let dir = scratch("dev-zero");
    let out = dialect_within(&dir, &["lint", "/dev/zero"], 30);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    assert!(
        text.contains("D1006") && text.contains("character device"),
        "{text}"
    );

    std::fs::write(
        dir.join("main.dial"),
        format!("include \"/dev/zero\"\n{MINIMAL}"),
    )
    .expect("write");
    let out = dialect_within(&dir, &["lint", "main.dial"], 30);
    let text = stdout(&out);
    assert!(text.contains("D1007"), "{text}");
    let out = dialect_within(&dir, &["lint", "--allow-include-outside", "main.dial"], 30);
    let text = stdout(&out);
    assert!(
        text.contains("D1004") && text.contains("character device"),
        "{text}"
    );
}

#[cfg(unix)]
#[test]
fn fifos_are_diagnostics_not_hangs() {
    let dir = scratch("fifo");
    let made = Command::new("mkfifo")
        .arg(dir.join("pipe.dial"))
        .status()
        .expect("mkfifo runs");
    assert!(made.success(), "mkfifo failed");
    std::fs::write(
        dir.join("main.dial"),
        format!("include \"pipe.dial\"\n{MINIMAL}"),
    )
    .expect("write");

    let out = dialect_within(&dir, &["lint", "pipe.dial"], 30);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    assert!(text.contains("D1006") && text.contains("FIFO"), "{text}");

    let out = dialect_within(&dir, &["lint", "main.dial"], 30);
    let text = stdout(&out);
    assert!(text.contains("D1004") && text.contains("FIFO"), "{text}");
    assert!(text.contains("main.dial:1:9"), "{text}");

    // A folder holding the FIFO: the include of it and the FIFO itself are
    // reported, and nothing blocks.
    let out = dialect_within(&dir, &["lint", "--format", "json", "."], 30);
    let codes: Vec<String> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("JSON"))
        .map(|r| r["code"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(codes, ["D1004", "D1006"], "{}", stderr(&out));
}

#[test]
fn a_file_over_the_size_limit_is_not_read() {
    let dir = scratch("too-large");
    // Sparse: nine mebibytes of nothing, written in no time.
    let f = std::fs::File::create(dir.join("big.dial")).expect("create");
    f.set_len(9 << 20).expect("set_len");
    std::fs::write(
        dir.join("main.dial"),
        format!("include \"big.dial\"\n{MINIMAL}"),
    )
    .expect("write");
    let out = dialect_within(&dir, &["lint", "big.dial"], 30);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    assert!(
        text.contains("D1006") && text.contains("larger than 8 MiB"),
        "{text}"
    );
    let out = dialect_within(&dir, &["lint", "main.dial"], 30);
    let text = stdout(&out);
    assert!(
        text.contains("D1004") && text.contains("larger than 8 MiB"),
        "{text}"
    );
}

/// 40,000 duplicate declarations (1.1 MB): both formats answer promptly,
/// show 100 diagnostics and count the rest; the summary counts them all.
#[test]
fn many_duplicates_render_in_linear_time_and_are_capped() {
    let dir = scratch("duplicates");
    let n = 40_000;
    std::fs::write(
        dir.join("dups.dial"),
        "queue q { strategy linear }\n".repeat(n),
    )
    .expect("write");
    let out = dialect_within(&dir, &["lint", "dups.dial"], 120);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(text.matches("D2002\n").count(), 100);
    assert!(
        text.contains("and 39,899 more D2002 (duplicate-declaration) in dups.dial"),
        "{}",
        &text[text.len().saturating_sub(500)..]
    );
    assert!(text.contains("39999 errors, 0 warnings in 1 file"));
    // A report shows the lines around its labels, not everything between.
    assert!(
        text.lines().count() < 100 * 20,
        "{} lines",
        text.lines().count()
    );

    let out = dialect_within(&dir, &["lint", "--format", "json", "dups.dial"], 120);
    assert_eq!(stdout(&out).lines().count(), 100);
    let err = stderr(&out);
    assert!(
        err.contains("and 39,899 more D2002") && err.contains("39999 errors"),
        "{err}"
    );

    let out = dialect_within(
        &dir,
        &[
            "lint",
            "--format",
            "json",
            "--max-diagnostics",
            "0",
            "dups.dial",
        ],
        120,
    );
    assert_eq!(stdout(&out).lines().count(), n - 1);
}

/// Errors come before warnings when a file has more than the limit.
#[test]
fn the_cap_shows_errors_before_warnings() {
    let dir = scratch("cap-errors-first");
    let mut text = String::from("timezone \"America/Chicago\"\n");
    for i in 0..20 {
        text.push_str(&format!("queue unused{i} {{ strategy linear }}\n"));
    }
    text.push_str("entry \"+1 800 555 0100\" -> queue nowhere\n");
    std::fs::write(dir.join("main.dial"), text).expect("write");
    let out = dialect_within(
        &dir,
        &[
            "lint",
            "--format",
            "json",
            "--max-diagnostics",
            "5",
            "main.dial",
        ],
        30,
    );
    let codes: Vec<String> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("JSON"))
        .map(|r| r["code"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(codes.len(), 5, "{codes:?}");
    assert!(codes.contains(&"D2001".to_string()), "{codes:?}");
    assert!(stderr(&out).contains("more D4001"), "{}", stderr(&out));
}

#[test]
fn an_include_chain_8000_deep_loads() {
    let dir = scratch("deep-includes");
    let n = 8000;
    for i in 0..n {
        let text = if i + 1 < n {
            format!("include \"f{}.dial\"\n", i + 1)
        } else {
            // The last file has an error, so the whole chain must be read.
            format!("{MINIMAL}route r {{ otherwise -> queue nowhere }}\n")
        };
        std::fs::write(dir.join(format!("f{i}.dial")), text).expect("write");
    }
    let out = dialect_within(&dir, &["lint", "f0.dial"], 120);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        text.contains("D2001") && text.contains(&format!("f{}.dial:4:", n - 1)),
        "{text}"
    );
    assert!(text.contains("in 8000 files"), "{text}");
}

/// A file with old Mac line ends (`\r` alone): a leading comment ends at
/// the first `\r`, and lines and columns count them as line ends.
#[test]
fn cr_line_ends_are_line_ends() {
    let dir = scratch("cr-only");
    let text = "# a comment\rtimezone \"America/Chicago\"\rqueue q { strategy linear }\r\
                entry \"+1 800 555 0100\" -> queue nowhere\r";
    std::fs::write(dir.join("cr.dial"), text).expect("write");
    std::fs::write(dir.join("crlf.dial"), text.replace('\r', "\r\n")).expect("write");
    for file in ["cr.dial", "crlf.dial"] {
        let out = dialect_within(&dir, &["lint", file], 30);
        let text = stdout(&out);
        assert_eq!(out.status.code(), Some(1), "{file}: {text}");
        assert!(
            text.contains("D2001") && text.contains(&format!("{file}:4:34")),
            "{file}: {text}"
        );
        // The snippet shows the lines, not one long line.
        assert!(text.contains(" 4 │ entry"), "{file}: {text}");
        let out = dialect_within(&dir, &["lint", "--format", "json", file], 30);
        let row = json_row(&out, "D2001");
        assert_eq!(
            (row["line"].as_u64(), row["column"].as_u64()),
            (Some(4), Some(34))
        );
    }
}

/// A file that is not UTF-8 gets a coded diagnostic at its first invalid
/// byte, and the other files of the folder are still checked.
#[test]
fn a_file_that_is_not_utf8_does_not_stop_the_folder() {
    let dir = scratch("not-utf8");
    std::fs::write(
        dir.join("a.dial"),
        b"timezone \"Europe/Paris\"\nqueue caf\xe9 { strategy linear }\n",
    )
    .expect("write");
    std::fs::write(
        dir.join("b.dial"),
        format!("{MINIMAL}route r {{ otherwise -> queue nowhere }}\n"),
    )
    .expect("write");
    let out = dialect_within(&dir, &["lint", "."], 30);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    assert!(
        text.contains("D1006") && text.contains("a.dial:2:10"),
        "{text}"
    );
    assert!(text.contains("0xE9"), "{text}");
    assert!(
        text.contains("D2001") && text.contains("b.dial:4:"),
        "{text}"
    );
}

/// `include "/etc/passwd"` is refused without reading the file, so nothing
/// of it is quoted; a relative path out of the folder is refused too.
#[test]
fn includes_stay_in_the_scripts_folder() {
    let dir = scratch("include-outside");
    std::fs::create_dir_all(dir.join("site")).expect("mkdir");
    std::fs::write(dir.join("secret.dial"), "top secret words\n").expect("write");
    std::fs::write(
        dir.join("site/main.dial"),
        format!("include \"../secret.dial\"\ninclude \"/etc/passwd\"\n{MINIMAL}"),
    )
    .expect("write");
    for args in [
        &["lint", "site/main.dial"][..],
        &["lint", "site"],
        &["test", "site/main.dial"],
        &[
            "explain",
            "site/main.dial",
            "--to",
            "+18005550100",
            "--at",
            "2026-11-23 10:00",
        ],
    ] {
        let out = dialect_within(&dir, args, 30);
        let text = format!("{}{}", stdout(&out), stderr(&out));
        assert_eq!(text.matches("D1007").count(), 2, "{args:?}: {text}");
        assert!(
            !text.contains("secret words") && !text.contains("root:"),
            "{args:?}: {text}"
        );
    }
    // Linting the parent folder puts `../secret.dial` inside it.
    let out = dialect_within(&dir, &["lint", "."], 30);
    let text = stdout(&out);
    assert_eq!(text.matches("D1007").count(), 1, "{text}");
    // With the flag, the include is read (and its text fails to parse).
    let out = dialect_within(
        &dir,
        &["lint", "--allow-include-outside", "site/main.dial"],
        30,
    );
    let text = stdout(&out);
    assert!(!text.contains("D1007") && text.contains("D1001"), "{text}");
}

/// Columns count characters in both formats.
#[test]
fn columns_count_characters_in_both_formats() {
    let dir = scratch("columns");
    std::fs::write(
        dir.join("main.dial"),
        "timezone \"America/Chicago\"\nqueue q { strategy linear }\n\
         menu m { prompt \"café 😀\" 1 -> queue nowhere }\n\
         entry \"+1 800 555 0100\" -> menu m\n",
    )
    .expect("write");
    // `nowhere` is the 37th character of its line, and starts at its 41st byte.
    let out = dialect_within(&dir, &["lint", "main.dial"], 30);
    assert!(stdout(&out).contains("main.dial:3:37"), "{}", stdout(&out));
    let out = dialect_within(&dir, &["lint", "--format", "json", "main.dial"], 30);
    let row = json_row(&out, "D2001");
    assert_eq!(
        (row["line"].as_u64(), row["column"].as_u64()),
        (Some(3), Some(37))
    );
}

/// A file that is one long line (40,000 declarations, 1.1 MB): each report
/// shows the part of the line around its labels, not the whole line.
#[test]
fn snippets_of_one_long_line_are_cut_to_the_labels() {
    let dir = scratch("one-line");
    std::fs::write(
        dir.join("line.dial"),
        "queue q { strategy linear } ".repeat(40_000),
    )
    .expect("write");
    let out = dialect_within(&dir, &["lint", "line.dial"], 120);
    let text = stdout(&out);
    assert_eq!(text.matches("D2002\n").count(), 100);
    assert!(
        text.contains("line.dial:1:35"),
        "{}",
        &text[..2000.min(text.len())]
    );
    // 100 reports of at most a few kilobytes each, not 100 copies of the file.
    assert!(text.len() < 1_000_000, "{} bytes of output", text.len());
}

/// `simulate --db` leaves one row per simulated call, with the report's
/// dispositions, and the same seed gives the same rows.
#[test]
fn a_simulated_day_writes_one_record_per_call() {
    let dir = scratch("simulate-db");
    let db = dir.join("day.db");
    let db_arg = db.to_str().expect("a path");
    let script = "examples/support/support.dial";
    let out = dialect(&[
        "simulate", script, "--seed", "3", "--format", "json", "--db", db_arg,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    let calls = report["calls"].as_i64().expect("calls");
    assert!(calls > 100, "{report}");
    assert!(
        stderr(&out).contains(&format!("call records: {calls} written to")),
        "{}",
        stderr(&out)
    );
    let conn = rusqlite::Connection::open(&db).expect("the database");
    let mut rows: Vec<(String, i64)> = conn
        .prepare("SELECT disposition, count(*) FROM calls GROUP BY 1 ORDER BY 1")
        .expect("a query")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("rows")
        .map(|r| r.expect("a row"))
        .collect();
    let mut want: Vec<(String, i64)> = report["dispositions"]
        .as_array()
        .expect("dispositions")
        .iter()
        .map(|d| {
            (
                d[0].as_str().unwrap_or("").to_string(),
                d[1].as_i64().unwrap_or(0),
            )
        })
        .collect();
    rows.sort();
    want.sort();
    assert_eq!(rows, want);
    let first: String = conn
        .query_row("SELECT record FROM calls ORDER BY id LIMIT 1", [], |r| {
            r.get(0)
        })
        .expect("a record");
    drop(conn);
    // A second run adds its rows; the same seed, the same records.
    let again = dialect(&["simulate", script, "--seed", "3", "--db", db_arg]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    let conn = rusqlite::Connection::open(&db).expect("the database");
    let total: i64 = conn
        .query_row("SELECT count(*) FROM calls", [], |r| r.get(0))
        .expect("a count");
    assert_eq!(total, 2 * calls);
    let repeated: String = conn
        .query_row(
            "SELECT record FROM calls WHERE id = (SELECT min(id) FROM calls) + ?1",
            [calls],
            |r| r.get(0),
        )
        .expect("the second run's first record");
    assert_eq!(first, repeated);
    // A file that is not a database is refused before anything runs.
    let bad = dir.join("not.db");
    std::fs::write(&bad, "this is a text file, not an SQLite database at all").unwrap();
    let out = dialect(&["simulate", script, "--db", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("not a database"), "{}", stderr(&out));
    let _ = std::fs::remove_dir_all(&dir);
}
