//! The scripts of the SIP redirect benchmark and of the SIPp scenarios
//! (`bench/sip-redirect/`): they check without errors, their own tests (the
//! calls the benchmark and `tests/sipp/README.md` place, with the answers
//! expected of them) pass on both engines, and the Kamailio routes
//! generated beside them redirect to the same targets.

mod common;

use common::{dialect, stderr, stdout};

#[test]
fn benchmark_scripts_have_no_errors() {
    let out = dialect(&["lint", "bench/sip-redirect/"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(text.contains("0 errors"), "{text}");
}

#[test]
fn benchmark_calls_go_where_both_servers_send_them() {
    for engine in ["jit", "interp"] {
        let out = dialect(&["test", "--engine", engine, "bench/sip-redirect/"]);
        let text = stdout(&out);
        assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
        // 8 calls of small.dial and 3 of large.dial: a test block lost from
        // the generator would otherwise pass unnoticed.
        assert!(text.contains("11 passed, 0 failed"), "{text}");
    }
}

/// Every target of a `.dial` script appears as a Contact in the Kamailio
/// routes generated from the same rules, so hand edits to one side show.
#[test]
fn kamailio_routes_redirect_to_the_scripts_targets() {
    for (dial, cfg) in [
        (
            "bench/sip-redirect/small.dial",
            "bench/kamailio/routes-small.cfg",
        ),
        (
            "bench/sip-redirect/large.dial",
            "bench/kamailio/routes-large.cfg",
        ),
    ] {
        let dial_text = std::fs::read_to_string(dial).expect("script exists");
        let cfg_text = std::fs::read_to_string(cfg).expect("routes exist");
        let targets = targets(&dial_text);
        assert!(!targets.is_empty(), "{dial} redirects nowhere");
        for target in targets {
            assert!(
                cfg_text.contains(&format!("\"sip:{target}@")),
                "{cfg} has no Contact for `{target}` of {dial}"
            );
        }
        let dial_rules = dial_text
            .lines()
            .filter(|l| l.starts_with("  when "))
            .count();
        assert_eq!(
            dial_rules,
            inbound_rules(&cfg_text),
            "{dial} and {cfg} have different numbers of rules"
        );
    }
}

/// The Contact user each redirecting action of a script leads to:
/// `transfer "NUMBER"` → the number in E.164, `queue Q` → `Q`,
/// `voicemail "M"` → `M`.
fn targets(dial: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in dial.lines().filter(|l| l.contains("->")) {
        let action = line.split("->").nth(1).unwrap_or("").trim();
        if let Some(number) = quoted_after(action, "transfer ") {
            out.push(
                number
                    .chars()
                    .filter(|c| *c == '+' || c.is_ascii_digit())
                    .collect(),
            );
        } else if let Some(mailbox) = quoted_after(action, "voicemail ") {
            out.push(mailbox.to_string());
        } else if let Some(queue) = action.strip_prefix("queue ") {
            out.push(queue.split_whitespace().next().unwrap_or("").to_string());
        }
    }
    out
}

fn quoted_after<'a>(action: &'a str, keyword: &str) -> Option<&'a str> {
    action.strip_prefix(keyword)?.split('"').nth(1)
}

/// The rules of the Kamailio route `INBOUND`: one `if` line each.
fn inbound_rules(cfg: &str) -> usize {
    cfg.split("route[INBOUND] {\n")
        .nth(1)
        .and_then(|rest| rest.split("\n}\n").next())
        .unwrap_or("")
        .lines()
        .filter(|l| l.starts_with("    if ("))
        .count()
}
