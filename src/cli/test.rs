//! `dialect test PATH...`: run every `test` block through the compiled
//! decisions and report, per test, whether the call ends where expected.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use super::data::lookup_data;
use super::path;
use super::render::{self, Style};
use super::scripts;
use crate::checked::{self, Test};
use crate::facts::{Facts, Slot, stat_index};
use crate::program::{Engine, Program, Walk};

#[derive(clap::Args, Debug)]
#[command(after_help = "\
Examples:
  dialect test examples/                 run every test of every script
  dialect test --engine interp bank.dial run them on the reference interpreter
  dialect test --filter holiday examples/

A test names a call (from, to, at), the rows its lookups find, queue
statistics, key presses, and where the call should end up. A failing test
prints the decision path with the source of each step.
Exit status: 0 when every test passes, 1 when one fails or a script has
errors, 2 on usage or I/O errors.")]
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
    pub walk: Walk,
}

pub fn run(args: &Args) -> ExitCode {
    let scripts = match scripts::load(&args.paths, None) {
        Ok(s) => s,
        Err(message) => {
            eprintln!("dialect test: {message}");
            return ExitCode::from(2);
        }
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let errors: Vec<_> = scripts
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .collect();
    if !errors.is_empty() {
        let style = Style {
            color: false,
            width: 100,
        };
        for d in &errors {
            let _ = writeln!(out, "{}", render::human(&scripts.loader.sources, d, style));
        }
        let _ = writeln!(
            out,
            "cannot run tests: {} error{} (see `dialect lint`)",
            errors.len(),
            if errors.len() == 1 { "" } else { "s" }
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
            Ok(p) => p,
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
                let expected: Vec<String> = test
                    .expect
                    .list
                    .iter()
                    .map(|a| program.checked.action_text(&a.kind))
                    .collect();
                let _ = writeln!(out, "  FAIL  {}  ({file}:{line})", test.name);
                let _ = writeln!(out, "        expected  {}", expected.join(", "));
                let _ = writeln!(
                    out,
                    "        got       {}",
                    path::outcome(&program, &result.walk)
                );
                let _ = writeln!(out, "        path:");
                let lines = path::lines(&program, sources, &result.walk, false);
                let _ = write!(out, "{}", path::render(&lines, "          "));
            }
        }
    }
    let _ = writeln!(out, "{passed} passed, {failed} failed");
    ExitCode::from(u8::from(failed > 0))
}

/// Runs one test: builds the call's facts from the test and walks it.
pub fn run_test(program: &Program, engine: Engine, test: &Test) -> Outcome {
    let mut facts = Facts::new(&program.ir.layout);
    facts.caller = test.from.clone().unwrap_or_default();
    facts.dialed = test.to.clone();
    let instant = match test.at {
        Some((local, zone)) => {
            let tz = &program.checked.zone(zone).tz;
            // A skipped local time moves forward by the gap; a repeated one
            // is its first occurrence (jiff's "compatible" choice).
            tz.to_ambiguous_zoned(local)
                .compatible()
                .map(|z| z.timestamp())
                .unwrap_or_default()
        }
        None => jiff::Timestamp::default(),
    };
    facts.set_time(&program.checked.zones, instant);
    let mut fixed = vec![false; program.checked.lookups.len()];
    for (lookup, row) in &test.lookups {
        fixed[lookup.index()] = true;
        facts.lookups[lookup.index()] = row
            .as_ref()
            .map(|given| given_row(&program.checked, lookup.index(), given));
    }
    for (queue, stats) in &test.queues {
        for (stat, value) in stats {
            facts.queues[queue.index()][stat_index(*stat)] = Slot::from_value(value).int;
        }
    }
    let walk = program.walk(engine, &mut facts, &test.presses, &fixed);
    Outcome {
        name: test.name.clone(),
        passed: walk.ends_with(&test.expect.list),
        walk,
    }
}

/// A row from a test's `given`: the fields given, zeros for the rest.
fn given_row(program: &checked::Program, lookup: usize, given: &checked::Row) -> crate::facts::Row {
    let mut row = vec![Slot::default(); program.lookups[lookup].fields.len()];
    for (field, value) in given {
        if let Some(slot) = row.get_mut(*field as usize) {
            *slot = Slot::from_value(value);
        }
    }
    row
}
