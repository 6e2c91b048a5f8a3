//! `dialect test PATH...`: run every `test` block of the scripts found
//! (`suite` runs them: through the compiled decisions, and tests about
//! agents through the call runtime) and report, per test, whether the call
//! ends where expected, with what happened instead when it does not.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use super::path;
use super::scripts;
use crate::checked::Test;
use crate::lookup::load_tables;
use crate::program::{Engine, Program};
use crate::suite::{self, Outcome, clock_text, ended};

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
        let tables = match load_tables(&scripts.loader, &checked.program) {
            Ok(t) => Arc::new(t),
            Err(e) => {
                eprintln!("dialect test: {name}: {e}");
                return ExitCode::from(2);
            }
        };
        let program = match Program::compile(checked.program.clone()) {
            Ok(p) => Arc::new(p),
            Err(e) => {
                eprintln!("dialect test: {name}: {e}");
                return ExitCode::from(1);
            }
        };
        let tests: Vec<&Test> = program
            .checked()
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
            let result = suite::run_test(&program, &tables, args.engine.into(), test);
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
            .map(|a| program.checked().action_text(&a.kind))
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
            out.push_str(&format!(
                "        call      {}\n",
                crate::runtime::record::routing_text(&summary.path)
            ));
        }
        out.push_str("        timeline:\n");
        // A caller waiting for hours makes a long timeline: its start and
        // its end tell the story.
        let (head, tail) = (TIMELINE_HEAD, TIMELINE_TAIL);
        let lines = &run.timeline;
        let width = lines.last().map_or(0, |(ms, _)| clock_text(*ms).len());
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
            out.push_str(&format!("          {:>width$}  {what}\n", clock_text(*ms)));
        }
        out.push_str(&format!(
            "        ended     {}\n",
            ended(run.summary.as_deref())
        ));
    }
    out
}
