//! Simulator speed: a 200-agent, 8-hour day (about 20,000 calls) and a
//! run of about a million calls (2,000 agents, 40 hours), through the full
//! runtime on the virtual clock: menu, skill-based queues with relaxation,
//! wrap-up and abandonment.
//!
//! `cargo bench --bench simulate` prints each run's wall time and calls
//! per second. Runs are timed whole (a run is one long measurement, so a
//! statistics harness adds nothing); the day is run five times and the
//! median reported.

use std::sync::Arc;
use std::time::Instant;

use dialect::program::Program;
use dialect::runtime::Roster;
use dialect::sim::run::Options;
use dialect::sim::{Traffic, simulate};

const SCRIPT: &str = r#"
timezone "America/New_York"
skill language { english, spanish }
skill billing
skill tech

queue billing {
  strategy longest_idle
  require  billing >= 3
  prefer   billing >= 7
  ring     20s then next
  wrapup   20s
  after 2m  require billing >= 1
  after 10m -> voicemail "billing"
}

queue tech {
  strategy best_score
  require  tech >= 2
  score    tech * 10 + agent.idle_minutes - agent.calls_today
  ring     20s then next
  wrapup   30s
  after 3m  require tech >= 1
  after 15m -> voicemail "tech"
}

queue spanish {
  strategy fewest_calls
  require  language == spanish
  ring     20s then next
  wrapup   20s
  after 10m -> voicemail "spanish"
}

menu main {
  prompt  "main"
  timeout 5s, retries 2
  1 -> queue billing
  2 -> queue tech
  3 -> queue spanish
  invalid -> repeat
  timeout -> queue tech
}

route inbound {
  when queue(tech).waiting >= 200 -> play "outage", menu main
  otherwise -> menu main
}

entry "+1 800 555 0100" -> route inbound
"#;

fn roster(agents: usize) -> Roster {
    let mut text = String::new();
    for i in 0..agents {
        let language = if i % 5 == 0 {
            "[\"english\", \"spanish\"]"
        } else {
            "\"english\""
        };
        text += &format!(
            "[[agent]]\nid = \"a{i}\"\nextension = \"{}\"\nskills = {{ language = {language}, billing = {}, tech = {} }}\n",
            10_000 + i,
            1 + i % 9,
            1 + (i * 7) % 9,
        );
    }
    Roster::parse(&text).expect("roster")
}

fn traffic(per_hour: f64, hours: u32) -> String {
    format!(
        "start = \"2026-11-23 08:00\"\nlength = \"{hours}h\"\ninterval = \"30m\"\n\
         [[calls]]\nto = \"+18005550100\"\nper_hour = {per_hour}\n\
         profile = {{ \"08:00\" = 0.8, \"10:00\" = 1.2, \"12:00\" = 1.0, \"14:00\" = 1.1 }}\n\
         talk = {{ distribution = \"lognormal\", mean = \"3m30s\", sd = \"2m\" }}\n\
         patience = {{ distribution = \"exponential\", mean = \"3m\" }}\n\
         keys.main = {{ \"1\" = 0.4, \"2\" = 0.45, \"3\" = 0.1, timeout = 0.03 }}\n"
    )
}

fn program() -> Arc<Program> {
    Arc::new(Program::from_text(SCRIPT).expect("the script compiles"))
}

/// Runs once; returns (seconds, calls, answered share).
fn run(agents: usize, per_hour: f64, hours: u32, seed: u64) -> (f64, u64, f64) {
    let program = program();
    let roster = roster(agents);
    let traffic = Traffic::parse(&traffic(per_hour, hours), &program, &roster).expect("traffic");
    let options = Options {
        seed,
        ..Options::default()
    };
    let started = Instant::now();
    let report = simulate(program, &roster, &traffic, &options, &mut |_| {}).expect("runs");
    let seconds = started.elapsed().as_secs_f64();
    let all = report.total("all").expect("all row");
    (
        seconds,
        report.calls,
        all.answered as f64 / report.calls.max(1) as f64,
    )
}

fn main() {
    // `cargo test --benches` runs bench targets with `--bench`-less
    // arguments; only measure under `cargo bench`.
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.iter().any(|a| a == "--bench") {
        return;
    }
    // `cargo bench --bench simulate -- day` runs one of the two.
    let only: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let wants = |name: &str| only.is_empty() || only.iter().any(|o| name.contains(o.as_str()));
    if wants("day") {
        day();
    }
    if wants("million") {
        million();
    }
}

fn day() {
    let mut day: Vec<(f64, u64, f64)> = (1..=5).map(|seed| run(200, 2_500.0, 8, seed)).collect();
    day.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (s, calls, answered) = day[2];
    println!(
        "day: 200 agents, 8 h, {calls} calls: median {s:.3} s over 5 runs ({:.0} calls/s, {:.1}% answered); min {:.3} s, max {:.3} s",
        calls as f64 / s,
        answered * 100.0,
        day[0].0,
        day[4].0
    );
}

fn million() {
    let (s, calls, answered) = run(2_000, 25_000.0, 40, 1);
    println!(
        "million: 2000 agents, 40 h, {calls} calls: {s:.2} s ({:.0} calls/s, {:.1}% answered)",
        calls as f64 / s,
        answered * 100.0
    );
}
