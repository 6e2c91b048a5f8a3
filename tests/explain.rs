//! `dialect explain` and time: `--at` is optional when the script reads no
//! time and required, with the reason, when it does; a local time skipped
//! or repeated by a clock change is reported with the time used, and the
//! JSON `at` carries the UTC offset.

mod common;

use common::{dialect, stderr, stdout};

/// `minimal.dial` never reads the clock.
#[test]
fn at_is_optional_when_the_script_reads_no_time() {
    let args = [
        "explain",
        "tests/fixtures/lint/ok/minimal.dial",
        "--to",
        "+1 888 555 0100",
    ];
    let out = dialect(&args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("no time given; no decision this call meets reads it"),
        "{text}"
    );
    assert!(text.contains("transfer \"+15125550100\""), "{text}");

    let mut json = args.to_vec();
    json.extend(["--format", "json"]);
    let report: serde_json::Value =
        serde_json::from_slice(&dialect(&json).stdout).expect("JSON report");
    assert!(report["at"].is_null(), "{report}");
}

/// `main.dial` routes by the time, but its direct line to extension 2001
/// meets no decision that reads it.
#[test]
fn at_is_optional_when_the_call_meets_no_decision_that_reads_time() {
    let script = "examples/multisite/main.dial";
    let out = dialect(&["explain", script, "--to", "+1 312 555 0199"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("ends: extension 2001"),
        "{}",
        stdout(&out)
    );

    let out = dialect(&["explain", script, "--to", "+1 312 555 0100"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("reads the local time"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn at_is_required_with_the_reason_when_routing_reads_time() {
    let out = dialect(&[
        "explain",
        "tests/fixtures/cli/failing_test.dial",
        "--to",
        "+33 1 23 45 67 89",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let text = stderr(&out);
    assert!(
        text.contains("--at is needed: route `inbound` reads the local time"),
        "{text}"
    );
    assert!(text.contains("Europe/Paris"), "{text}");
}

const OFFICE: &str = "examples/office/office.dial";

#[test]
fn a_skipped_local_time_says_which_time_was_used() {
    let out = dialect(&[
        "explain",
        OFFICE,
        "--to",
        "+1 512 555 0100",
        "--at",
        "2026-03-08 02:30",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("at 2026-03-08 03:30 Sunday (America/Chicago)"),
        "{text}"
    );
    assert!(
        text.contains(
            "note: 02:30 does not exist on 2026-03-08 in America/Chicago (the clocks go forward); taken as 03:30"
        ),
        "{text}"
    );

    let out = dialect(&[
        "explain",
        OFFICE,
        "--to",
        "+1 512 555 0100",
        "--at",
        "2026-03-08 02:30",
        "--format",
        "json",
    ]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert_eq!(report["at"], "2026-03-08T03:30:00-05:00");
    assert_eq!(report["zone"], "America/Chicago");
    assert!(
        report["note"]
            .as_str()
            .is_some_and(|n| n.contains("taken as 03:30")),
        "{report}"
    );
}

#[test]
fn json_at_carries_the_offset_and_a_repeated_time_is_the_first() {
    let out = dialect(&[
        "explain",
        OFFICE,
        "--to",
        "+1 512 555 0100",
        "--at",
        "2026-07-01 10:00",
        "--format",
        "json",
    ]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert_eq!(report["at"], "2026-07-01T10:00:00-05:00");
    assert!(report.get("note").is_none(), "{report}");

    let out = dialect(&[
        "explain",
        OFFICE,
        "--to",
        "+1 512 555 0100",
        "--at",
        "2026-11-01 01:30",
    ]);
    let text = stdout(&out);
    assert!(
        text.contains("note: 01:30 occurs twice on 2026-11-01 in America/Chicago (the clocks go back); taken as the first"),
        "{text}"
    );
}

/// `--switch` takes a switch as on: the report lists the script's switches
/// and the call goes where the switch sends it; without it the switch is
/// off; a name the script does not declare is a usage error with a
/// suggestion.
#[test]
fn switches_are_off_unless_named() {
    let base = [
        "explain",
        "examples/support/support.dial",
        "--to",
        "+18885550100",
        "--at",
        "2026-11-24 09:30",
    ];
    let off = stdout(&dialect(&base));
    assert!(off.contains("switches: storm_closure off"), "{off}");
    assert!(off.contains("ends: menu language"), "{off}");

    let mut on = base.to_vec();
    on.extend(["--switch", "storm_closure"]);
    let text = stdout(&dialect(&on));
    assert!(text.contains("switches: storm_closure on"), "{text}");
    assert!(text.contains("when switch(storm_closure)"), "{text}");
    assert!(
        text.contains("ends: play \"storm-closed-bilingual\", voicemail \"support\""),
        "{text}"
    );
    on.extend(["--format", "json"]);
    let report: serde_json::Value =
        serde_json::from_slice(&dialect(&on).stdout).expect("JSON report");
    assert_eq!(report["switches_on"], serde_json::json!(["storm_closure"]));

    let mut wrong = base.to_vec();
    wrong.extend(["--switch", "storm"]);
    let out = dialect(&wrong);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("did you mean `storm_closure`?"),
        "{}",
        stderr(&out)
    );
}
