//! `dialect diff OLD NEW`: which calls a new version of a script sends
//! elsewhere than the old one, before it goes live.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use super::render;
use super::scripts;
use super::test::EngineArg;
use crate::diff::{self, Options};
use crate::program::Program;

#[derive(clap::Args, Debug)]
#[command(after_help = "\
Examples:
  dialect diff tests/fixtures/diff/base.dial tests/fixtures/diff/saturday.dial
  dialect diff examples/support/support.dial examples/support/support.dial
  dialect diff tests/fixtures/diff/base.dial tests/fixtures/diff/holiday.dial \\
    --from 2026-12-01 --format json

For each entry of either script, calls are followed through both versions
over an ordinary week (cut at every minute where some hours, calendar or
`now` comparison changes, in each zone), over the calendars' dates in the
year from --from, over the keys of each menu met, and over the queue
statistics, lookup rows and callers the rules compare (each value at and
past every constant compared with). Calls that end elsewhere are printed in
groups:

  calls to +1 800 555 0100 on Saturdays 09:00–13:00: before `menu main`,
  now `voicemail \"general\"`
    before: route inbound, otherwise (base.dial:31)
    now:    route inbound, rule 2 (saturday.dial:27)

A group says which callers, keys pressed and queue or lookup values it
covers when not all of them, and the decisions that send its calls there.

Lookup rows are made up from what the rules compare, not read from the
lookups' sources. Where a call goes after it joins a queue or rings a
group is not followed.
Exit status: 0 when no call ends elsewhere, 1 when some do, 2 when a script
has errors (printed as `dialect lint` prints them, in JSON with --format
json) or on usage or I/O errors.")]
pub struct Args {
    /// The script as it is (its includes are read too)
    #[arg(value_name = "OLD")]
    pub old: PathBuf,

    /// The script as it would be
    #[arg(value_name = "NEW")]
    pub new: PathBuf,

    /// First day of the year of holidays compared, `YYYY-MM-DD`; today by default
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,

    /// `text` or `json`
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// `interp` runs the reference interpreter; `jit` native code
    #[arg(long, value_enum, default_value_t = EngineArg::Interp)]
    pub engine: EngineArg,

    #[command(flatten)]
    pub access: scripts::Access,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

pub fn run(args: &Args) -> ExitCode {
    match diff(args) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("dialect diff: {message}");
            ExitCode::from(2)
        }
    }
}

fn diff(args: &Args) -> Result<ExitCode, String> {
    let from = match &args.from {
        Some(text) => text
            .trim()
            .parse::<jiff::civil::Date>()
            .map_err(|_| format!("--from `{text}` is not a date such as 2026-12-01"))?,
        None => jiff::Zoned::now().date(),
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let json = args.format == Format::Json;
    let (Some(old), Some(new)) = (
        compile(&args.old, args.access, json, &mut out)?,
        compile(&args.new, args.access, json, &mut out)?,
    ) else {
        return Ok(ExitCode::from(2));
    };
    let mut options = Options::new(from);
    options.engine = args.engine.into();
    let diff = diff::compare(&old, &new, &options);
    match args.format {
        Format::Json => {
            let text = serde_json::to_string_pretty(&diff).map_err(|e| e.to_string())?;
            let _ = writeln!(out, "{text}");
        }
        Format::Text => {
            let _ = write!(out, "{}", diff.render_text());
        }
    }
    Ok(ExitCode::from(if diff.changed() { 1 } else { 0 }))
}

/// Checks and compiles one side; a script with errors gets them printed
/// as `dialect lint` prints them (one JSON object per line with `json`,
/// the summary then on standard error) and `None`.
fn compile(
    path: &PathBuf,
    access: scripts::Access,
    json: bool,
    out: &mut dyn Write,
) -> Result<Option<Program>, String> {
    let scripts = scripts::load_with(std::slice::from_ref(path), None, access)?;
    let errors: Vec<&crate::diagnostic::Diagnostic> = scripts
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .collect();
    if !errors.is_empty() {
        let summary = format!(
            "cannot diff: `{}` has {} error(s)",
            crate::load::display(path),
            errors.len()
        );
        if json {
            for d in errors.iter().take(render::MAX_PER_FILE) {
                let line = serde_json::to_string(&render::json(&scripts.loader.sources, d))
                    .unwrap_or_default();
                let _ = writeln!(out, "{line}");
            }
            eprintln!("{summary}");
        } else {
            scripts::print_errors(&scripts, out);
            let _ = writeln!(out, "{summary}");
        }
        return Ok(None);
    }
    let checked = scripts.checked.first().ok_or("no script")?;
    Program::compile(checked.program.clone())
        .map(Some)
        .map_err(|e| e.to_string())
}
