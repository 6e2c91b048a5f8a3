//! `dialect simulate` end to end: every example simulates with plausible
//! figures, a seed gives the same report, the formats parse, and bad
//! traffic or roster files get a message naming the problem.

use std::process::{Command, Output};

fn dialect(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dialect"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("the dialect binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

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
