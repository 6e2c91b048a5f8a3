//! Callers' numbers as calls deliver them: withheld callers, and national
//! numbers read through the script's `country`. Every check runs on both
//! engines.

use std::sync::Arc;

use dialect::cli::test::run_test;
use dialect::program::{Engine, Program};

/// Runs every test of a script on both engines and returns the names of
/// those that fail.
fn failing(text: &str) -> Vec<String> {
    let p = Arc::new(Program::from_text(text).expect("checks clean"));
    let mut failed = Vec::new();
    for engine in [Engine::Jit, Engine::Interp] {
        for t in &p.checked.tests {
            if !run_test(&p, engine, t).passed {
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
