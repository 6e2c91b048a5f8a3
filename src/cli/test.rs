//! `dialect test PATH...`: run every `test` block through the compiled
//! decisions, and tests about agents through the call runtime
//! (`runtime_test`), and report, per test, whether the call ends where
//! expected.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use super::data::lookup_data;
use super::path;
use super::runtime_test::{self, Miss, given_row};
use super::scripts;
use crate::checked::Test;
use crate::facts::{Facts, Slot};
use crate::flow::walk::{self, Walk};
use crate::program::{Engine, Program};

#[derive(clap::Args, Debug)]
#[command(after_help = "\
Examples:
  dialect test examples/                                all tests of all scripts
  dialect test --engine interp examples/bank/bank.dial  on the interpreter
  dialect test --filter holiday examples/               names with `holiday`

A test names a call (from, to, at), the rows its lookups find, queue
statistics, key presses, and where the call should end up. A test with
agents (`given agent`) or with expectations about them (`expect rings`,
`expect answered by`, ...) also runs through the call runtime on a
simulated clock. A failing test prints the decision path with the source
of each step, and for runtime tests what rang, who answered and how long
the caller waited.
Exit status: 0 when every test passes, 1 when one fails, a script has
errors or no test matches --filter, 2 on usage or I/O errors.")]
pub struct Args {
    /// Files or folders with tests; folders are searched for `.dial` files
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// `jit` runs native code; `interp` the reference interpreter
    #[arg(long, value_enum, default_value_t = EngineArg::Jit)]
    pub engine: EngineArg,

    /// Run only tests whose name contains this text
    #[arg(long, value_name = "TEXT")]
    pub filter: Option<String>,

    #[command(flatten)]
    pub access: scripts::Access,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum EngineArg {
    Jit,
    Interp,
}

impl From<EngineArg> for Engine {
    fn from(e: EngineArg) -> Engine {
        match e {
            EngineArg::Jit => Engine::Jit,
            EngineArg::Interp => Engine::Interp,
        }
    }
}

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
    pub runtime: Option<(runtime_test::Run, Vec<Miss>)>,
}

pub fn run(args: &Args) -> ExitCode {
    let scripts = match scripts::load_with(&args.paths, None, args.access) {
        Ok(s) => s,
        Err(message) => {
            eprintln!("dialect test: {message}");
            return ExitCode::from(2);
        }
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let errors = scripts::print_errors(&scripts, &mut out);
    if errors > 0 {
        let _ = writeln!(
            out,
            "cannot run tests: {errors} error{} (see `dialect lint`)",
            if errors == 1 { "" } else { "s" }
        );
        return ExitCode::from(1);
    }
    let (mut passed, mut failed) = (0, 0);
    for checked in &scripts.checked {
        let name = scripts.loader.sources.get(checked.files[0]).name.clone();
        let data = match lookup_data(&scripts.loader, &checked.program) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("dialect test: {name}: {e}");
                return ExitCode::from(2);
            }
        };
        let program = match Program::compile(checked.program.clone(), data) {
            Ok(p) => Arc::new(p),
            Err(e) => {
                eprintln!("dialect test: {name}: {e}");
                return ExitCode::from(1);
            }
        };
        let tests: Vec<&Test> = program
            .checked
            .tests
            .iter()
            .filter(|t| {
                args.filter
                    .as_ref()
                    .is_none_or(|f| t.name.contains(f.as_str()))
            })
            .collect();
        if tests.is_empty() {
            continue;
        }
        let _ = writeln!(out, "{name}");
        for test in tests {
            let result = run_test(&program, args.engine.into(), test);
            if result.passed {
                passed += 1;
                let _ = writeln!(out, "  ok    {}", test.name);
            } else {
                failed += 1;
                let sources = &scripts.loader.sources;
                let (file, line) = {
                    let f = sources.get(test.loc.file);
                    (f.name.clone(), f.line_col(test.loc.span.start).0)
                };
                let _ = writeln!(out, "  FAIL  {}  ({file}:{line})", test.name);
                let _ = write!(out, "{}", failure(&program, sources, test, &result));
            }
        }
    }
    if let Some(filter) = args.filter.as_ref().filter(|_| passed + failed == 0) {
        // A filter that matches nothing is a mistake, not a pass.
        let _ = writeln!(out, "no test name contains `{filter}`: nothing was run");
        return ExitCode::from(1);
    }
    let _ = writeln!(out, "{passed} passed, {failed} failed");
    ExitCode::from(u8::from(failed > 0))
}

/// Lines of a runtime test's timeline shown from its start and its end.
const TIMELINE_HEAD: usize = 24;
const TIMELINE_TAIL: usize = 8;

/// What a failing test shows: each expectation that did not hold with
/// what happened instead, the decision path when `expect ACTIONS` failed,
/// and for a runtime test the runtime's path and timeline.
fn failure(
    program: &Program,
    sources: &crate::source::SourceMap,
    test: &Test,
    result: &Outcome,
) -> String {
    let mut out = String::new();
    let mut pair = |expected: &str, got: &str| {
        out.push_str(&format!("        expected  {expected}\n"));
        out.push_str(&format!("        got       {got}\n"));
    };
    if !result.walk_passed
        && let Some(expect) = &test.expect
    {
        let expected: Vec<String> = expect
            .list
            .iter()
            .map(|a| program.checked.action_text(&a.kind))
            .collect();
        pair(&expected.join(", "), &path::outcome(program, &result.walk));
    }
    if let Some((_, misses)) = &result.runtime {
        for m in misses {
            pair(&m.expected, &m.got);
        }
    }
    if !result.walk_passed {
        out.push_str("        path:\n");
        let lines = path::lines(program, sources, &result.walk, false);
        out.push_str(&path::render(&lines, "          "));
    }
    if let Some((run, _)) = &result.runtime {
        if let Some(summary) = &run.summary {
            out.push_str(&format!("        call      {}\n", summary.path.join(" → ")));
        }
        out.push_str("        timeline:\n");
        // A caller waiting for hours makes a long timeline: its start and
        // its end tell the story.
        let (head, tail) = (TIMELINE_HEAD, TIMELINE_TAIL);
        let lines = &run.timeline;
        let width = lines
            .last()
            .map_or(0, |(ms, _)| runtime_test::clock_text(*ms).len());
        for (i, (ms, what)) in lines.iter().enumerate() {
            if lines.len() > head + tail + 1 && i >= head && i < lines.len() - tail {
                if i == head {
                    out.push_str(&format!(
                        "          {:>width$}  … {} more …\n",
                        "",
                        lines.len() - head - tail
                    ));
                }
                continue;
            }
            out.push_str(&format!(
                "          {:>width$}  {what}\n",
                runtime_test::clock_text(*ms)
            ));
        }
        out.push_str(&format!(
            "        ended     {}\n",
            runtime_test::ended(run.summary.as_ref())
        ));
    }
    out
}

/// When the test's call happens: its `at` in its zone (a skipped local
/// time moves forward by the gap, a repeated one is its first
/// occurrence), or the epoch without one.
pub fn call_instant(program: &Program, test: &Test) -> jiff::Timestamp {
    match test.at {
        Some((local, zone)) => {
            let tz = &program.checked.zone(zone).tz;
            tz.to_ambiguous_zoned(local)
                .compatible()
                .map(|z| z.timestamp())
                .unwrap_or_default()
        }
        None => jiff::Timestamp::default(),
    }
}

/// Runs one test: builds the call's facts from the test and walks its
/// decisions; a runtime test also runs the call through the runtime, and
/// its decisions read the queue statistics the runtime counts.
pub fn run_test(program: &Arc<Program>, engine: Engine, test: &Test) -> Outcome {
    let mut facts = Facts::new(&program.ir.layout);
    facts.caller = test.from.clone().unwrap_or_default();
    facts.dialed = test.to.clone();
    let mut fixed = vec![false; program.checked.lookups.len()];
    for (lookup, row) in &test.lookups {
        fixed[lookup.index()] = true;
        facts.lookups[lookup.index()] = row
            .as_ref()
            .map(|given| given_row(&program.checked, lookup.index(), given));
    }
    for (queue, stats) in &test.queues {
        for (stat, value) in stats {
            facts.queues[queue.index()].set(*stat, Slot::from_value(value).int);
        }
    }
    let runtime = test.runtime.as_ref().map(|spec| {
        let run = runtime_test::run(program, engine, test, spec);
        let misses = runtime_test::misses(program, test, spec, &run);
        (run, misses)
    });
    if let Some((run, _)) = &runtime {
        for (i, stats) in run.stats.iter().enumerate() {
            if let Some(q) = facts.queues.get_mut(i) {
                *q = *stats;
            }
        }
    }
    let at = call_instant(program, test);
    let walk = walk::walk(program, engine, facts, at, &test.presses, fixed);
    let walk_passed = test
        .expect
        .as_ref()
        .is_none_or(|expect| walk.ends_with(&expect.list));
    let passed = walk_passed && runtime.as_ref().is_none_or(|(_, misses)| misses.is_empty());
    Outcome {
        name: test.name.clone(),
        passed,
        walk,
        walk_passed,
        runtime,
    }
}
