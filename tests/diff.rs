//! `dialect diff OLD NEW` end to end: the fixture pairs in
//! `tests/fixtures/diff/` (Saturday mornings closed, a holiday added, a
//! menu key remapped, a queue threshold lowered, a switch added) as text
//! snapshots, JSON, identical scripts, scripts with errors, and the
//! examples of `--help`.

mod common;

use common::{dialect, stderr, stdout};

const BASE: &str = "tests/fixtures/diff/base.dial";

fn diff_with(name: &str, extra: &[&str]) -> std::process::Output {
    let new = format!("tests/fixtures/diff/{name}.dial");
    let mut args = vec!["diff", BASE, new.as_str(), "--from", "2026-12-01"];
    args.extend_from_slice(extra);
    dialect(&args)
}

/// Each pair with a known difference: exit 1, and the groups as a person
/// reads them, on both engines.
#[test]
fn known_differences_are_reported() {
    for name in ["saturday", "holiday", "menu", "threshold", "storm"] {
        let out = diff_with(name, &[]);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{name}: {}{}",
            stdout(&out),
            stderr(&out)
        );
        let text = stdout(&out);
        insta::assert_snapshot!(format!("diff_{name}"), text);
        let jit = diff_with(name, &["--engine", "jit"]);
        assert_eq!(stdout(&jit), text, "{name}: the engines agree");
    }
}

#[test]
fn the_changes_read_as_the_issue_asks() {
    let text = stdout(&diff_with("saturday", &[]));
    assert!(
        text.contains(
            "calls to +1 800 555 0100 when queue(support).waiting from 0 to 20 on Saturdays 09:00–13:00: before `menu main`, now `voicemail \"general\"`"
        ),
        "{text}"
    );
    let text = stdout(&diff_with("menu", &[]));
    assert!(text.contains(" pressing 2 "), "{text}");
    assert!(
        text.contains("menu main, key 2 (tests/fixtures/diff/menu.dial:21)"),
        "{text}"
    );
    let text = stdout(&diff_with("holiday", &[]));
    assert!(text.contains("on 2026-12-24 (Christmas Eve)"), "{text}");
    let text = stdout(&diff_with("storm", &[]));
    assert!(
        text.contains("and switch(storm) on Mondays to Fridays 08:00–18:00"),
        "{text}"
    );
    assert!(
        text.contains("before `menu main`, now `voicemail \"general\"`"),
        "{text}"
    );
    assert!(
        !text.contains("not switch(storm)"),
        "with it off, nothing changes: {text}"
    );
    let text = stdout(&diff_with("threshold", &[]));
    assert!(
        text.contains("queue(support).waiting from 11 to 20"),
        "{text}"
    );
}

#[test]
fn identical_scripts_exit_0() {
    let out = diff_with("base", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(
        stdout(&out).starts_with("no call ends elsewhere ("),
        "{}",
        stdout(&out)
    );
}

/// Every example is the same as itself, on both engines.
#[test]
fn every_example_is_unchanged_against_itself() {
    for script in [
        "examples/bank/bank.dial",
        "examples/hotline/hotline.dial",
        "examples/multisite/main.dial",
        "examples/office/office.dial",
        "examples/support/support.dial",
    ] {
        for engine in ["interp", "jit"] {
            let out = dialect(&["diff", script, script, "--engine", engine]);
            assert_eq!(
                out.status.code(),
                Some(0),
                "{script} on {engine}: {}{}",
                stdout(&out),
                stderr(&out)
            );
        }
    }
}

/// A script with errors on either side: its errors as `lint` prints
/// them, and exit 2.
#[test]
fn scripts_with_errors_exit_2() {
    let out = diff_with("broken", &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let text = stdout(&out);
    for needle in [
        "D2001",
        "there is no queue named `sale`",
        "tests/fixtures/diff/broken.dial:20:14",
        "cannot diff: `tests/fixtures/diff/broken.dial` has 1 error(s)",
    ] {
        assert!(text.contains(needle), "missing `{needle}` in:\n{text}");
    }
    let out = dialect(&[
        "diff",
        "tests/fixtures/diff/broken.dial",
        "tests/fixtures/diff/broken.dial",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stdout(&out).matches("cannot diff:").count(),
        2,
        "{}",
        stdout(&out)
    );
    // With `--format json`, the errors as `lint --format json` gives them.
    let out = diff_with("broken", &["--format", "json"]);
    assert_eq!(out.status.code(), Some(2));
    let rows: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is a JSON object"))
        .collect();
    assert_eq!(rows.len(), 1, "{}", stdout(&out));
    assert_eq!(rows[0]["code"], "D2001");
    assert!(stderr(&out).contains("cannot diff:"), "{}", stderr(&out));
}

#[test]
fn usage_errors_exit_2() {
    let out = dialect(&[
        "diff",
        BASE,
        "tests/fixtures/diff/menu.dial",
        "--from",
        "next tuesday",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--from `next tuesday` is not a date such as 2026-12-01"),
        "{}",
        stderr(&out)
    );
    let out = dialect(&["diff", BASE, "tests/fixtures/diff/missing.dial"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("does not exist"), "{}", stderr(&out));
}

/// `--format json` is one object: the changes with their conditions,
/// times and deciding rules.
#[test]
fn json_holds_the_same_changes() {
    let out = diff_with("saturday", &["--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let diff: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("one JSON object");
    assert_eq!(diff["zone"], "America/Chicago");
    assert_eq!(diff["week"], "2026-12-07");
    let changes = diff["changes"].as_array().expect("changes");
    assert_eq!(changes.len(), 2, "{diff:#}");
    let first = &changes[0];
    assert_eq!(first["entry"], "+1 800 555 0100");
    assert_eq!(first["when"]["weekly"][0]["days"][0], "sat");
    assert_eq!(first["when"]["weekly"][0]["from"], "09:00");
    assert_eq!(first["when"]["weekly"][0]["to"], "13:00");
    assert_eq!(first["conditions"][0]["subject"], "queue(support).waiting");
    assert_eq!(first["before"]["ends"], "menu main");
    assert_eq!(first["after"]["ends"], "voicemail \"general\"");
    assert_eq!(
        first["after"]["decided_by"][0]["what"],
        "route inbound, rule 2"
    );
    assert_eq!(first["after"]["decided_by"][0]["place"]["line"], 27);
}

/// `--help` teaches with examples that run from the repository root and
/// says what each exit status means.
#[test]
fn help_examples_run() {
    let help = stdout(&dialect(&["diff", "--help"]));
    assert!(help.contains("Exit status: 0 when"), "{help}");
    let examples = help
        .split("Examples:\n")
        .nth(1)
        .and_then(|e| e.split("\n\n").next())
        .expect("examples");
    let mut ran = 0;
    let mut line = String::new();
    for part in examples.lines() {
        assert!(
            part.chars().count() <= 80,
            "wider than 80 columns: `{part}`"
        );
        match part.trim().strip_suffix(" \\") {
            Some(head) => {
                line.push_str(head);
                line.push(' ');
                continue;
            }
            None => line.push_str(part.trim()),
        }
        let words: Vec<String> = std::mem::take(&mut line)
            .split_whitespace()
            .map(str::to_string)
            .collect();
        assert_eq!(words[..2], ["dialect", "diff"]);
        let args: Vec<&str> = words[1..].iter().map(String::as_str).collect();
        let out = dialect(&args);
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "`{}` failed:\n{}{}",
            words.join(" "),
            stdout(&out),
            stderr(&out)
        );
        ran += 1;
    }
    assert_eq!(ran, 3, "three examples");
}

// ------------------------------------------------- generated scripts ----

fn generated(seed: u64) -> dialect::program::Program {
    use dialect::synth::{self, LOOKUP_CSV, LOOKUP_SOURCE, Size};
    let text = synth::large_script(Size::units(1).seed(seed));
    let fs = dialect::load::MemoryFs::default()
        .with("main.dial", &text)
        .with(LOOKUP_SOURCE, LOOKUP_CSV);
    let checked = dialect::load::check_in_memory(&fs).expect("a generated script checks");
    dialect::program::Program::compile(checked).expect("compiles")
}

/// Generated scripts (hours, calendars, lookups, queues, menus, many
/// rules): a script is the same as itself, and two different ones are
/// compared without a panic, both ways, on both engines alike. Their
/// routes read more inputs than a few thousand calls cover: the search
/// stops there and says so.
#[test]
fn generated_scripts_compare() {
    use dialect::diff::{Options, compare};
    use dialect::program::Engine;
    let (a, b) = (generated(1), generated(2));
    let mut options = Options::new(jiff::civil::date(2026, 12, 1));
    options.calls_per_entry = 3_000;
    let same = compare(&a, &a, &options);
    assert!(!same.changed(), "{}", same.render_text());
    let there = compare(&a, &b, &options);
    let back = compare(&b, &a, &options);
    assert!(there.changed() && back.changed());
    assert!(
        there
            .notes
            .iter()
            .any(|n| n.contains("stopped after 3000 calls")),
        "{:?}",
        there.notes
    );
    options.engine = Engine::Jit;
    assert_eq!(compare(&a, &b, &options), there, "the engines agree");
}
