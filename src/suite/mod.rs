//! Running a script's `test` blocks and saying, per test, whether its call
//! ends where expected: every test walks the compiled decisions
//! (`decisions`), and a test with agents or expectations about them also
//! runs its call through the call runtime (`runtime`) and is checked
//! against what rang and who answered (`expect`). `dialect test` renders
//! the outcomes; a server can refuse a script whose tests fail.

mod decisions;
mod expect;
mod runtime;
mod trace;

use std::sync::Arc;

pub use decisions::{call_instant, given_row};
pub use expect::{Left, LeftKind, Miss, ended, fallbacks, misses, rings_text};
pub use runtime::{Run, TALK_MS, TIME_LIMIT_MS};
pub use trace::clock_text;

use crate::checked::Test;
use crate::flow::walk::Walk;
use crate::lookup::LookupTables;
use crate::program::{Engine, Program};

/// The result of one test.
pub struct Outcome {
    pub name: String,
    pub passed: bool,
    /// The decisions' path, checked against `expect ACTIONS`.
    pub walk: Walk,
    /// Whether the walk ends as `expect ACTIONS` says (true without one).
    pub walk_passed: bool,
    /// For a runtime test: what the runtime did, and the expectations it
    /// did not meet.
    pub runtime: Option<(Run, Vec<Miss>)>,
}

/// Runs every test of the program on `engine`, in the script's order,
/// its lookups reading `tables`.
pub fn run_all(program: &Arc<Program>, tables: &Arc<LookupTables>, engine: Engine) -> Vec<Outcome> {
    program
        .checked()
        .tests
        .iter()
        .map(|test| run_test(program, tables, engine, test))
        .collect()
}

/// Runs one test: builds the call's facts from the test and walks its
/// decisions; a runtime test also runs the call through the runtime, and
/// its decisions read the queue statistics the runtime counts. Lookups the
/// test gives no rows for read `tables`.
pub fn run_test(
    program: &Arc<Program>,
    tables: &Arc<LookupTables>,
    engine: Engine,
    test: &Test,
) -> Outcome {
    let runtime = test.runtime.as_ref().map(|spec| {
        let run = runtime::run(program, tables, engine, test, spec);
        let misses = expect::misses(program, test, spec, &run);
        (run, misses)
    });
    let counted = runtime.as_ref().map(|(run, _)| run.stats.as_slice());
    let (walk, walk_passed) = decisions::run(program, tables, engine, test, counted);
    let passed = walk_passed && runtime.as_ref().is_none_or(|(_, misses)| misses.is_empty());
    Outcome {
        name: test.name.clone(),
        passed,
        walk,
        walk_passed,
        runtime,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `dialect test --engine interp` runs the ACD's `require`, `prefer`
    /// and `score` on the interpreter too, not only the routes.
    #[test]
    fn the_acd_runs_on_the_test_engine() {
        let program = Program::from_text(
            r#"
timezone "UTC"
skill billing
queue billing { strategy best_score; require billing >= 3; score billing }
entry "+18005550100" -> queue billing
test "ana answers" {
  call to "+18005550100" at 2026-11-23 10:00
  given agent ana available { billing: 5 }
  expect answered by ana
}
"#,
        )
        .expect("compiles");
        let program = Arc::new(program);
        let tables = Arc::new(LookupTables::empty(program.checked()));
        let test = &program.checked().tests[0];
        let spec = test.runtime.as_ref().expect("a runtime test");
        for engine in [Engine::Jit, Engine::Interp] {
            let run = runtime::run(&program, &tables, engine, test, spec);
            assert_eq!(run.engine, engine);
            assert!(misses(&program, test, spec, &run).is_empty());
        }
    }

    /// A library caller runs every test of a compiled program and reads
    /// typed outcomes: which passed, and for the ones that failed, the
    /// walk or the runtime's expectations that did not hold.
    #[test]
    fn every_test_of_a_program_has_an_outcome() {
        let program = Program::from_text(
            r#"
timezone "UTC"
skill billing
queue billing { strategy linear; require billing >= 1 }
entry "+18005550100" -> queue billing
entry "+18005550111" -> voicemail "sales"
test "sales goes to voicemail" {
  call to "+18005550111"
  expect voicemail "sales"
}
test "sales wrongly expects a hangup" {
  call to "+18005550111"
  expect hangup
}
test "ana answers" {
  call to "+18005550100"
  given agent ana available { billing: 2 }
  given agent bob available { billing: 1 }
  expect answered by ana
}
test "bob wrongly expected" {
  call to "+18005550100"
  given agent ana available { billing: 2 }
  given agent bob available { billing: 1 }
  expect answered by bob
}
"#,
        )
        .expect("compiles");
        let program = Arc::new(program);
        for engine in [Engine::Jit, Engine::Interp] {
            let outcomes = run_all(
                &program,
                &Arc::new(LookupTables::empty(program.checked())),
                engine,
            );
            let seen: Vec<(&str, bool, bool, Option<&[Miss]>)> = outcomes
                .iter()
                .map(|o| {
                    (
                        o.name.as_str(),
                        o.passed,
                        o.walk_passed,
                        o.runtime.as_ref().map(|(_, m)| m.as_slice()),
                    )
                })
                .collect();
            let bob = [Miss {
                expected: "answered by bob".into(),
                got: "answered by ana".into(),
            }];
            assert_eq!(
                seen,
                vec![
                    ("sales goes to voicemail", true, true, None),
                    ("sales wrongly expects a hangup", false, false, None),
                    ("ana answers", true, true, Some(&[][..])),
                    ("bob wrongly expected", false, true, Some(&bob[..])),
                ],
                "{engine:?}"
            );
            let (run, _) = outcomes[2].runtime.as_ref().expect("a runtime test");
            assert_eq!(ended(run.summary.as_deref()), "answered by ana");
        }
    }
}
