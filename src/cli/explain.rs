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
  dialect explain examples/bank/bank.dial --from +15125550101 \\
    --to +18005550300 --at \"2026-11-23 10:00\"
  dialect explain examples/office/office.dial --to \"+1 512 555 0100\" \\
    --at \"2026-12-24 17:30\" --press 3,2001
  dialect explain examples/support/support.dial --to +18885550150 \\
    --at \"2026-11-24 09:30\" --format json
  dialect explain examples/support/support.dial --to +18885550100 \\
    --at \"2026-11-24 09:30\" --switch storm_closure

`--at` may be left out when no route, menu or queue the call may reach reads
the time. A local time that does not exist (clocks go forward) is taken as the
same time after the change; one that occurs twice, as its first occurrence;
the report says so. Lookups are read from their sources (CSV or SQLite)
with the caller's or dialed number; queue statistics are zero. Switches
are off unless named with `--switch`; the report lists the script's
switches and how it took each.
Exit status: 0 when the path is shown (also when no entry answers the
number), 1 when the script has errors, 2 on usage or I/O errors (a bad
number or time, a file that cannot be read).")]
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

    /// Local date and time of the call, `YYYY-MM-DD HH:MM`, in the script's
    /// zone; needed when the script's routing reads the time
    #[arg(long, value_name = "WHEN")]
    pub at: Option<String>,

    /// Key presses, one entry per menu, comma-separated (`9,1`; `timeout` for none)
    #[arg(long, value_name = "KEYS", value_delimiter = ',')]
    pub press: Vec<String>,

    /// A switch to take as on (repeat for several); the others are off
    #[arg(long = "switch", value_name = "NAME")]
    pub switches: Vec<String>,

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
    /// RFC 3339 with the zone's UTC offset; `null` without `--at`.
    at: Option<String>,
    zone: &'a str,
    /// How a skipped or repeated local time was read.
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<String>,
    /// The script's switches that were taken as on.
    switches_on: &'a [String],
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
    let Some((program, tables)) = scripts::compile_first(&scripts, &mut out, "explain")? else {
        return Ok(ExitCode::from(1));
    };

    let from = match &args.from {
        Some(f) => number::normalize_in(f, program.checked().country)
            .map_err(|e| format!("--from `{f}`: {e}"))?,
        None => String::new(),
    };
    let to = number::normalize_in(&args.to, program.checked().country)
        .map_err(|e| format!("--to `{}`: {e}", args.to))?;
    let zone = &program.checked().zones[0];
    let when = match &args.at {
        Some(at) => Some(call_time(at, zone)?),
        None => match reads_time(&program, &to) {
            None => None,
            Some(reader) => {
                return Err(format!(
                    "--at is needed: {reader} reads the local time, so the call's path depends on when it happens (give it as --at \"2026-11-23 10:00\", in {})",
                    zone.name
                ));
            }
        },
    };
    // Nothing reads the time without `--at`, so any instant will do.
    let instant = when
        .as_ref()
        .map_or(jiff::Timestamp::default(), |w| w.zoned.timestamp());
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

    let checked = program.checked();
    scripts::check_switches(checked, &args.switches)?;
    let switches_on: Vec<String> = (checked.switches.iter())
        .filter(|s| args.switches.contains(&s.name))
        .map(|s| s.name.clone())
        .collect();
    let mut facts = Facts::new(&program.ir().layout);
    facts.caller = from.clone();
    facts.dialed = to.clone();
    facts.set_switches(checked, &switches_on);
    let engine: Engine = args.engine.into();
    let walk = crate::flow::walk::walk(
        &program,
        &tables,
        engine,
        facts,
        instant,
        &presses,
        Vec::new(),
    );
    let lines = path::lines(&program, &scripts.loader.sources, &walk, true);
    let outcome = path::outcome(&program, &walk);
    let note = when.as_ref().and_then(|w| w.note.clone());
    match args.format {
        Format::Json => {
            let report = Report {
                from: &from,
                to: &to,
                at: when
                    .as_ref()
                    .map(|w| w.zoned.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string()),
                zone: &zone.name,
                note,
                switches_on: &switches_on,
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
            match &when {
                Some(w) => {
                    let _ = writeln!(
                        out,
                        "call from {caller} to {to} at {} {:?} ({})",
                        w.zoned.strftime("%Y-%m-%d %H:%M"),
                        w.zoned.weekday(),
                        zone.name
                    );
                }
                None => {
                    let _ = writeln!(
                        out,
                        "call from {caller} to {to} (no time given; no decision this call meets reads it)"
                    );
                }
            }
            if let Some(note) = &note {
                let _ = writeln!(out, "note: {note}");
            }
            if !checked.switches.is_empty() {
                let states: Vec<String> = (checked.switches.iter())
                    .map(|s| {
                        let on = switches_on.contains(&s.name);
                        format!("{} {}", s.name, if on { "on" } else { "off" })
                    })
                    .collect();
                let _ = writeln!(out, "switches: {}", states.join(", "));
            }
            let _ = write!(out, "{}", path::render(&lines, "  "));
            let _ = writeln!(out, "ends: {outcome}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The call's time as `--at` gives it, in the script's zone.
struct CallTime {
    zoned: jiff::Zoned,
    /// Set when the local time was skipped or repeated by a clock change.
    note: Option<String>,
}

fn call_time(at: &str, zone: &crate::checked::Zone) -> Result<CallTime, String> {
    use jiff::tz::AmbiguousOffset;
    let local: jiff::civil::DateTime = at
        .trim()
        .replace(' ', "T")
        .parse()
        .map_err(|_| format!("--at `{at}` is not a local time such as \"2026-12-24 17:30\""))?;
    let ambiguous = zone.tz.to_ambiguous_zoned(local);
    let offset = ambiguous.offset();
    let zoned = ambiguous
        .compatible()
        .map_err(|e| format!("--at `{at}`: {e}"))?;
    let clock = |d: jiff::civil::DateTime| d.strftime("%H:%M").to_string();
    let note = match offset {
        AmbiguousOffset::Unambiguous { .. } => None,
        AmbiguousOffset::Gap { .. } => Some(format!(
            "{} does not exist on {} in {} (the clocks go forward); taken as {}",
            clock(local),
            local.date(),
            zone.name,
            clock(zoned.datetime())
        )),
        AmbiguousOffset::Fold { before, after } => Some(format!(
            "{} occurs twice on {} in {} (the clocks go back); taken as the first, at UTC{} rather than UTC{}",
            clock(local),
            local.date(),
            zone.name,
            before,
            after
        )),
    };
    Ok(CallTime { zoned, note })
}

/// The first decision a call to `to` may meet that reads the local time,
/// directly or through hours and calendars it tests, by name (route
/// `inbound`); `None` when none does.
fn reads_time(program: &crate::program::Program, to: &str) -> Option<String> {
    use crate::ir::Node;
    let ir = &program.ir();
    let entry = program.checked().entry_for(to)?;
    let reached = program.checked().reachable_from(&entry.actions);
    let queue_fns = (reached.queues.iter())
        .map(|q| &ir.queues[q.index()])
        .flat_map(|q| {
            (q.require.into_iter())
                .chain(q.prefer)
                .chain(q.score)
                .chain(q.steps.iter().flatten().copied())
        });
    let roots = std::iter::once(ir.entries)
        .chain(reached.routes.iter().map(|r| ir.routes[r.index()]))
        .chain(reached.menus.iter().map(|m| ir.menus[m.index()]))
        .chain(queue_fns);
    let root = ir.first_reading(roots, |n| matches!(n, Node::Time(..)))?;
    // `route inbound` → route `inbound`
    let name = &ir.function(root).name;
    Some(match name.split_once(' ') {
        Some((kind, rest)) => match rest.split_once(' ') {
            Some((decl, more)) => format!("{kind} `{decl}` ({more})"),
            None => format!("{kind} `{rest}`"),
        },
        None => name.clone(),
    })
}
