//! `dialect simulate`: plays a day of traffic through the call runtime on a
//! virtual clock and reports service level, ASA, AHT and occupancy per
//! queue and interval, before a script goes live.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use indicatif::{ProgressBar, ProgressStyle};

use super::scripts;
use super::test::EngineArg;
use crate::runtime::Roster;
use crate::server::records::{RecordStore, RecordWriter};
use crate::sim::run::Options;
use crate::sim::stats::Row;
use crate::sim::traffic::silent_menus;
use crate::sim::{Report, Traffic, simulate};

#[derive(clap::Args, Debug)]
#[command(after_help = "\
Examples:
  dialect simulate examples/support/support.dial
  dialect simulate examples/bank/bank.dial --seed 7 --format csv > day.csv
  dialect simulate examples/support/support.dial --switch storm_closure
  dialect simulate examples/office/office.dial --format json \\
    --agents examples/office/agents.toml --traffic examples/office/traffic.toml

The agents file lists the roster ([[agent]] with id, extension and skills);
the traffic file gives the start and length of the day, the calls per hour
to each number with a time-of-day profile, talk time and patience
distributions, what callers press at each menu, and agent shifts. Both
default to agents.toml and traffic.toml beside the script; see
docs/simulation.md.

Calls run through the call runtime itself (menus, queues, agents, hunt
groups), on a virtual clock: an 8-hour day takes about a second. The same
seed gives the same figures.

The figures per queue and interval: offered, answered, abandoned (hung up
while waiting or ringing), overflow (sent on by an `after` step or by `no
agents`), SL (answered within the traffic file's service_level, divided by
answered plus abandoned), ASA (mean wait of answered calls), AHT (talk plus
wrap-up) and occupancy.
`--switch NAME` plays the day with a switch on (a storm closure, say), so
its effect on service level shows before a supervisor flips it.
Exit status: 0 when the day is simulated, 1 when the script has errors, 2
on usage or I/O errors and on agents or traffic files that cannot be used
(the message names the problem).")]
pub struct Args {
    /// The script to simulate
    #[arg(value_name = "SCRIPT")]
    pub script: PathBuf,

    /// The agent roster [default: agents.toml beside the script]
    #[arg(long, value_name = "FILE")]
    pub agents: Option<PathBuf>,

    /// The traffic model [default: traffic.toml beside the script]
    #[arg(long, value_name = "FILE")]
    pub traffic: Option<PathBuf>,

    /// Seed for arrivals, talk times, patience and key presses
    #[arg(long, default_value_t = 1)]
    pub seed: u64,

    /// How to print the report
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Also write one record per simulated call to this SQLite file, as
    /// `dialect serve` writes real calls (created if absent; rows are
    /// added to those already there)
    #[arg(long, value_name = "FILE")]
    pub db: Option<PathBuf>,

    /// A switch to turn on for the whole day (repeat for several); the
    /// others are off
    #[arg(long = "switch", value_name = "NAME")]
    pub switches: Vec<String>,

    /// Which engine runs the decisions and the queues' require, prefer and
    /// score: compiled code, or the reference interpreter
    #[arg(long, value_enum, default_value_t = EngineArg::Jit)]
    pub engine: EngineArg,

    #[command(flatten)]
    pub access: scripts::Access,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Aligned columns for people
    Table,
    /// The whole report as one JSON object
    Json,
    /// One row per queue and interval, then the totals
    Csv,
}

pub fn run(args: &Args) -> ExitCode {
    match run_inner(args) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("dialect simulate: {message}");
            ExitCode::from(2)
        }
    }
}

fn beside(script: &Path, name: &str) -> PathBuf {
    script
        .parent()
        .map_or_else(|| PathBuf::from(name), |d| d.join(name))
}

fn read(path: &Path, what: &str) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| {
        format!(
            "cannot read the {what} {}: {e}{}",
            path.display(),
            if e.kind() == std::io::ErrorKind::NotFound {
                format!("; pass --{what} FILE")
            } else {
                String::new()
            }
        )
    })
}

fn run_inner(args: &Args) -> Result<ExitCode, String> {
    let scripts = scripts::load_with(std::slice::from_ref(&args.script), None, args.access)?;
    let Some((program, tables)) =
        scripts::compile_first(&scripts, &mut std::io::stderr(), "simulate")?
    else {
        return Ok(ExitCode::from(1));
    };
    // Its version goes into each call's record (`simulate --db`).
    let program =
        Arc::new(program.with_version(crate::server::version(&scripts.loader.sources).into()));

    scripts::check_switches(program.checked(), &args.switches)?;
    let agents_path = args
        .agents
        .clone()
        .unwrap_or_else(|| beside(&args.script, "agents.toml"));
    let roster = Roster::parse(&read(&agents_path, "agents")?)
        .map_err(|e| format!("{}: {e}", agents_path.display()))?;
    roster
        .skills_for(program.checked())
        .map_err(|e| format!("{}: {e}", agents_path.display()))?;
    let traffic_path = args
        .traffic
        .clone()
        .unwrap_or_else(|| beside(&args.script, "traffic.toml"));
    let traffic = Traffic::parse(&read(&traffic_path, "traffic")?, &program, &roster)
        .map_err(|e| format!("{}: {e}", traffic_path.display()))?;
    let silent = silent_menus(&traffic, program.checked());
    if !silent.is_empty() && args.format == Format::Table {
        eprintln!(
            "note: the traffic gives no key presses for menu(s) {}; callers stay silent there",
            silent.join(", ")
        );
    }

    let bar = ProgressBar::new((traffic.length_ms / 60_000) as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} simulating {bar:30} {pos}/{len} min, {msg} calls ({elapsed})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let writer = match &args.db {
        Some(path) => {
            let store = RecordStore::open(path).map_err(|e| e.to_string())?;
            let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
            let writer = RecordWriter::start(store, rx, false)
                .map_err(|e| format!("cannot start the call-record writer: {e}"))?;
            Some((tx, writer, path))
        }
        None => None,
    };
    let options = Options {
        seed: args.seed,
        engine: args.engine.into(),
        tables: Some(Arc::new(tables)),
        records: writer.as_ref().map(|(tx, _, _)| tx.clone()),
        switches: args.switches.clone(),
        ..Options::default()
    };
    let report = simulate(program, &roster, &traffic, &options, &mut |p| {
        bar.set_position((p.at_ms / 60_000) as u64);
        bar.set_message(p.calls.to_string());
    })
    .map_err(|e| e.to_string())?;
    bar.finish_and_clear();
    drop(options);
    if let Some((tx, writer, path)) = writer {
        // The last sender: the writer drains the rest and ends.
        drop(tx);
        eprintln!("{}", writer.finish().line(path));
    }

    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let text = match args.format {
        Format::Json => serde_json::to_string_pretty(&report).map_err(|e| e.to_string())? + "\n",
        Format::Csv => csv(&report),
        Format::Table => table(&report),
    };
    let _ = out.write_all(text.as_bytes());
    Ok(ExitCode::SUCCESS)
}

fn percent(x: Option<f64>) -> String {
    x.map_or_else(|| "-".into(), |x| format!("{:.1}%", x * 100.0))
}

fn seconds(x: Option<f64>) -> String {
    x.map_or_else(|| "-".into(), |x| format!("{x:.1}s"))
}

fn table_row(r: &Row) -> String {
    format!(
        "{:<17} {:<14} {:>7} {:>8} {:>9} {:>8} {:>7} {:>8} {:>8} {:>6}\n",
        r.interval,
        r.queue,
        r.offered,
        r.answered,
        r.abandoned,
        r.overflowed,
        percent(r.service_level),
        seconds(r.asa_s),
        seconds(r.aht_s),
        percent(r.occupancy),
    )
}

/// The report for people: a summary, per-interval rows for queues that had
/// calls, and the totals.
pub fn table(report: &Report) -> String {
    let mut s = format!(
        "simulated {} ({}) for {}, seed {}: {} calls\n",
        report.start,
        report.zone,
        hours(report.length_s),
        report.seed,
        report.calls
    );
    let ends: Vec<String> = report
        .dispositions
        .iter()
        .map(|(d, n)| format!("{d} {n}"))
        .collect();
    s += &format!("  ended: {}", ends.join(", "));
    if report.unfinished > 0 {
        s += &format!(
            "; {} still in progress when the run stopped",
            report.unfinished
        );
    }
    s += &format!(
        "\n  service level: answered within {}s\n\n",
        report.service_level_s
    );
    let header = format!(
        "{:<17} {:<14} {:>7} {:>8} {:>9} {:>8} {:>7} {:>8} {:>8} {:>6}\n",
        "interval",
        "queue",
        "offered",
        "answered",
        "abandoned",
        "overflow",
        "SL",
        "ASA",
        "AHT",
        "occ"
    );
    s += &header;
    for r in &report.intervals {
        if r.queue == "all" || r.offered > 0 || r.occupancy.is_some_and(|o| o > 0.0) {
            s += &table_row(r);
        }
    }
    s += "\n";
    s += &header;
    for r in &report.totals {
        s += &table_row(r);
    }
    s
}

fn hours(seconds: i64) -> String {
    if seconds % 3600 == 0 {
        format!("{}h", seconds / 3600)
    } else {
        format!("{}m", seconds / 60)
    }
}

fn opt(x: Option<f64>) -> String {
    x.map_or_else(String::new, |x| format!("{x:.4}"))
}

/// The report as CSV: every interval row, then the totals.
pub fn csv(report: &Report) -> String {
    let mut s = String::from(
        "interval,queue,offered,answered,abandoned,overflowed,answered_in_sl,waited,service_level,asa_s,aht_s,occupancy\n",
    );
    for r in report.intervals.iter().chain(&report.totals) {
        s += &format!(
            "{},{},{},{},{},{},{},{},{},{},{},{}\n",
            r.interval,
            r.queue,
            r.offered,
            r.answered,
            r.abandoned,
            r.overflowed,
            r.answered_in_sl,
            r.waited,
            opt(r.service_level),
            opt(r.asa_s),
            opt(r.aht_s),
            opt(r.occupancy)
        );
    }
    s
}
