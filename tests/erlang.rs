//! The simulator against queueing theory. A single queue with Poisson
//! arrivals and exponential talk times must give Erlang C's probability of
//! waiting, ASA and service level (70% to 95% occupancy); with exponential
//! patience, Erlang A's abandonment and waits. Each run is long (hundreds
//! of simulated hours) and the first hours are left out as warm-up.

use std::sync::Arc;

use dialect::program::Program;
use dialect::runtime::Roster;
use dialect::sim::erlang::{erlang_a, erlang_c, erlang_c_service_level};
use dialect::sim::run::Options;
use dialect::sim::{Traffic, simulate};

const SCRIPT: &str = r#"
timezone "UTC"
skill support
queue q {
  strategy longest_idle
  require  support >= 1
  ring     30s then next
}
route inbound { otherwise -> queue q }
entry "+1 800 555 0100" -> route inbound
"#;

fn program() -> Arc<Program> {
    Arc::new(Program::from_text(SCRIPT).expect("the script compiles"))
}

fn roster(agents: u32) -> Roster {
    let text: String = (0..agents)
        .map(|i| {
            format!(
                "[[agent]]\nid = \"a{i}\"\nextension = \"{}\"\nskills = {{ support = 1 }}\n",
                1000 + i
            )
        })
        .collect();
    Roster::parse(&text).expect("roster")
}

struct Run {
    p_wait: f64,
    asa_s: f64,
    service_level: f64,
    abandon: f64,
    mean_wait_s: f64,
    occupancy: f64,
    answered: u64,
}

/// Simulates `hours` of one queue and returns its figures after a
/// two-hour warm-up.
fn run(
    agents: u32,
    per_hour: f64,
    aht_s: f64,
    patience_s: Option<f64>,
    hours: i64,
    seed: u64,
) -> Run {
    let program = program();
    let roster = roster(agents);
    let patience = patience_s
        .map(|p| format!("patience = {{ distribution = \"exponential\", mean = \"{p}s\" }}\n"))
        .unwrap_or_default();
    let traffic = format!(
        "start = \"2026-11-23 00:00\"\nlength = \"{hours}h\"\ninterval = \"1h\"\nservice_level = \"20s\"\nanswer_after = \"0s\"\n\
         [[calls]]\nto = \"+18005550100\"\nper_hour = {per_hour}\n\
         talk = {{ distribution = \"exponential\", mean = \"{aht_s}s\" }}\n{patience}"
    );
    let traffic = Traffic::parse(&traffic, &program, &roster).expect("traffic");
    let options = Options {
        seed,
        ..Options::default()
    };
    let report = simulate(program, &roster, &traffic, &options, &mut |_| {}).expect("runs");
    let row = report.after_warmup("q", 2);
    let answered = row.answered as f64;
    Run {
        p_wait: row.waited as f64 / answered,
        asa_s: row.asa_s.expect("answered calls"),
        service_level: row.answered_in_sl as f64 / answered,
        abandon: row.abandoned as f64 / (row.answered + row.abandoned) as f64,
        mean_wait_s: row.mean_wait_s().expect("calls"),
        occupancy: row.occupancy.expect("staffed"),
        answered: row.answered,
    }
}

/// Runs several seeds (two at a time) and pools their figures, weighting
/// each by its answered calls, as one longer run would.
fn pooled(agents: u32, per_hour: f64, aht_s: f64, hours: i64, seeds: &[u64]) -> Run {
    let runs: Vec<Run> = std::thread::scope(|scope| {
        let halves: Vec<_> = seeds
            .chunks(seeds.len().div_ceil(2))
            .map(|half| {
                scope.spawn(move || {
                    half.iter()
                        .map(|&seed| run(agents, per_hour, aht_s, None, hours, seed))
                        .collect::<Vec<Run>>()
                })
            })
            .collect();
        halves
            .into_iter()
            .flat_map(|h| h.join().expect("a simulation thread"))
            .collect()
    });
    let answered: u64 = runs.iter().map(|r| r.answered).sum();
    let mean = |f: fn(&Run) -> f64| {
        runs.iter().map(|r| f(r) * r.answered as f64).sum::<f64>() / answered as f64
    };
    Run {
        p_wait: mean(|r| r.p_wait),
        asa_s: mean(|r| r.asa_s),
        service_level: mean(|r| r.service_level),
        abandon: mean(|r| r.abandon),
        mean_wait_s: mean(|r| r.mean_wait_s),
        occupancy: mean(|r| r.occupancy),
        answered,
    }
}

/// How far the simulated figures may be from Erlang C, relative.
struct Tolerance {
    p_wait: f64,
    asa: f64,
    service_level: f64,
}

fn close(what: &str, got: f64, want: f64, relative: f64, absolute: f64) {
    let ok = (got - want).abs() <= (want.abs() * relative).max(absolute);
    assert!(ok, "{what}: simulated {got:.4}, theory {want:.4}");
}

fn check_erlang_c(agents: u32, occupancy: f64, hours: i64, seeds: &[u64], tolerance: Tolerance) {
    let aht = 180.0;
    let per_hour = occupancy * f64::from(agents) * 3600.0 / aht;
    let theory = erlang_c(agents, per_hour, aht).expect("stable");
    let sl = erlang_c_service_level(agents, per_hour, aht, 20.0).expect("stable");
    let sim = pooled(agents, per_hour, aht, hours, seeds);
    eprintln!(
        "Erlang C n={agents} occ={occupancy}: P(wait) {:.4}/{:.4} ASA {:.2}/{:.2} SL {:.4}/{:.4} occ {:.4} ({} calls)",
        sim.p_wait,
        theory.p_wait,
        sim.asa_s,
        theory.asa_s,
        sim.service_level,
        sl,
        sim.occupancy,
        sim.answered
    );
    close("P(wait)", sim.p_wait, theory.p_wait, tolerance.p_wait, 0.0);
    close("ASA", sim.asa_s, theory.asa_s, tolerance.asa, 0.0);
    close(
        "service level",
        sim.service_level,
        sl,
        tolerance.service_level,
        0.0,
    );
    close("occupancy", sim.occupancy, occupancy, 0.03, 0.0);
}

// One run's figures depend on its seed more than one would guess: a queue
// forgets its past slowly, the more so the busier it is. The relative
// error against Erlang C of single runs, in percent (20 seeds at 95 %, 12
// at 70 % and 85 %; mean ± standard deviation, then the range):
//
//   case                 ASA                       P(wait)                  SL (20 s)
//   20 agents 70 % 200 h −3.9 ± 11.6 (−24.7, +13.0)  −1.5 ± 8.1 (−16.3, +10.8)  +0.1 ± 0.6 (−0.6, +1.1)
//   20 agents 85 % 300 h +0.3 ± 7.8 (−17.2, +9.8)    −0.2 ± 2.7 (−7.3, +3.0)    −0.1 ± 1.4 (−1.7, +3.9)
//   50 agents 95 % 300 h +0.2 ± 10.1 (−14.0, +22.8)  −0.3 ± 2.1 (−4.6, +3.3)    +0.4 ± 3.2 (−4.1, +5.6)
//
// With the old single-seed tolerances (10 % on ASA, 5 % on P(wait) and SL,
// with absolute floors), 8 of the 20 seeds at 95 % and 1 of the 12 at 85 %
// failed. So each case pools four seeds (run two at a time), which halves
// the standard deviations, and allows 4.5 of the pooled deviations (rounded
// up): a different order of random draws then fails a figure about once in
// 150,000 runs, while a simulator off by more than that still fails.

#[test]
fn erlang_c_at_70_percent() {
    let tolerance = Tolerance {
        asa: 0.265,
        p_wait: 0.185,
        service_level: 0.015,
    };
    check_erlang_c(20, 0.70, 200, &[1, 2, 3, 4], tolerance);
}

#[test]
fn erlang_c_at_85_percent() {
    let tolerance = Tolerance {
        asa: 0.18,
        p_wait: 0.065,
        service_level: 0.035,
    };
    check_erlang_c(20, 0.85, 300, &[1, 2, 3, 4], tolerance);
}

#[test]
fn erlang_c_at_95_percent() {
    let tolerance = Tolerance {
        asa: 0.23,
        p_wait: 0.05,
        service_level: 0.075,
    };
    check_erlang_c(50, 0.95, 300, &[1, 2, 3, 4], tolerance);
}

#[test]
fn erlang_a_with_patience() {
    let (agents, aht, patience) = (20, 180.0, 120.0);
    // Offered load above the agents: only abandonment keeps it stable.
    let per_hour = 21.0 * 3600.0 / aht;
    let theory = erlang_a(agents, per_hour, aht, patience);
    let sim = run(agents, per_hour, aht, Some(patience), 200, 4);
    eprintln!(
        "Erlang A: abandon {:.4}/{:.4} mean wait {:.2}/{:.2} ASA {:.2}/{:.2} occ {:.4}/{:.4}",
        sim.abandon,
        theory.p_abandon,
        sim.mean_wait_s,
        theory.mean_wait_s,
        sim.asa_s,
        theory.asa_s,
        sim.occupancy,
        theory.occupancy
    );
    close("abandonment", sim.abandon, theory.p_abandon, 0.08, 0.01);
    close("mean wait", sim.mean_wait_s, theory.mean_wait_s, 0.08, 1.0);
    close("ASA", sim.asa_s, theory.asa_s, 0.10, 1.0);
    close("occupancy", sim.occupancy, theory.occupancy, 0.03, 0.0);
}
