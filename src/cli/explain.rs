//! `dialect explain FILE --from NUM --to NUM --at TIME`: show every decision
//! a call would meet, with the rule that fired and the source of each step.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use serde::Serialize;

use super::path;
use super::scripts;
use super::test::EngineArg;
use crate::checked::Press;
use crate::facts::Facts;
use crate::number;
use crate::program::Engine;

#[derive(clap::Args, Debug)]
#[command(after_help = "\
Examples:
  dialect explain examples/bank/bank.dial --from +15125550101 --to +18005550300 --at \"2026-11-23 10:00\"
  dialect explain office.dial --to \"+1 512 555 0100\" --at \"2026-12-24 17:30\" --press 3,2001
  dialect explain support.dial --to +18005550400 --at \"2026-11-24 09:30\" --format json

Lookups are read from their sources (CSV or SQLite) with the caller's or
dialed number; queue statistics are zero.")]
pub struct Args {
    /// The script (its includes are read too)
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// The caller's number; leave out for a withheld number
    #[arg(long, value_name = "NUMBER")]
    pub from: Option<String>,

    /// The number dialed
    #[arg(long, value_name = "NUMBER")]
    pub to: String,

    /// Local date and time of the call, `YYYY-MM-DD HH:MM`, in the script's zone
    #[arg(long, value_name = "WHEN")]
    pub at: String,

    /// Key presses, one entry per menu, comma-separated (`9,1`; `timeout` for none)
    #[arg(long, value_name = "KEYS", value_delimiter = ',')]
    pub press: Vec<String>,

    /// `human` or `json`
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,

    /// `jit` runs native code; `interp` the reference interpreter
    #[arg(long, value_enum, default_value_t = EngineArg::Jit)]
    pub engine: EngineArg,

    #[command(flatten)]
    pub access: scripts::Access,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
}

#[derive(Serialize)]
struct Report<'a> {
    from: &'a str,
    to: &'a str,
    at: String,
    zone: &'a str,
    steps: &'a [path::Line],
    outcome: String,
}

pub fn run(args: &Args) -> ExitCode {
    match explain(args) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("dialect explain: {message}");
            ExitCode::from(2)
        }
    }
}

fn explain(args: &Args) -> Result<ExitCode, String> {
    let scripts = scripts::load_with(std::slice::from_ref(&args.file), None, args.access)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let Some(program) = scripts::compile_first(&scripts, &mut out, "explain")? else {
        return Ok(ExitCode::from(1));
    };

    let from = match &args.from {
        Some(f) => number::normalize(f).map_err(|e| format!("--from `{f}`: {e}"))?,
        None => String::new(),
    };
    let to = number::normalize(&args.to).map_err(|e| format!("--to `{}`: {e}", args.to))?;
    let local: jiff::civil::DateTime = args.at.trim().replace(' ', "T").parse().map_err(|_| {
        format!(
            "--at `{}` is not a local time such as \"2026-12-24 17:30\"",
            args.at
        )
    })?;
    let zone = &program.checked.zones[0];
    let instant = zone
        .tz
        .to_ambiguous_zoned(local)
        .compatible()
        .map_err(|e| format!("--at `{}`: {e}", args.at))?
        .timestamp();
    let presses: Vec<Press> = args
        .press
        .iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .map(|p| {
            if p == "timeout" {
                Ok(Press::Timeout)
            } else if p
                .chars()
                .all(|c| c.is_ascii_digit() || c == '*' || c == '#')
            {
                Ok(Press::Keys(p.to_string()))
            } else {
                Err(format!(
                    "--press `{p}` is not a key press (digits, `*`, `#` or `timeout`)"
                ))
            }
        })
        .collect::<Result<_, _>>()?;

    let mut facts = Facts::new(&program.ir.layout);
    facts.caller = from.clone();
    facts.dialed = to.clone();
    facts.set_time(&program.checked.zones, instant);
    let engine: Engine = args.engine.into();
    let walk = program.walk(engine, &mut facts, &presses, &[]);
    let lines = path::lines(&program, &scripts.loader.sources, &walk, true);
    let outcome = path::outcome(&program, &walk);
    let weekday = zone.tz.to_datetime(instant).weekday();
    match args.format {
        Format::Json => {
            let report = Report {
                from: &from,
                to: &to,
                at: local.to_string(),
                zone: &zone.name,
                steps: &lines,
                outcome,
            };
            let _ = writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&report).unwrap_or_default()
            );
        }
        Format::Human => {
            let caller = if from.is_empty() {
                "a withheld number".to_string()
            } else {
                from.clone()
            };
            let _ = writeln!(
                out,
                "call from {caller} to {to} at {} {:?} ({})",
                args.at.trim(),
                weekday,
                zone.name
            );
            let _ = write!(out, "{}", path::render(&lines, "  "));
            let _ = writeln!(out, "ends: {outcome}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
