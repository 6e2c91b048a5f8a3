//! Reads arbitrary input as a traffic model (`traffic.toml`) and checks it
//! against a fixed program and a roster with `Traffic::parse`; a model it
//! accepts is then played through the simulator, cut down to a few minutes
//! of virtual time. Nothing may panic; a rejected model is an `Err` with a
//! message.
//!
//! The input is split at the first NUL byte: the traffic file, then an
//! agents file (so shifts can name agents). Without a second part, or when
//! it is not a valid roster, a small fixed roster stands in. Input that is
//! not UTF-8 is read lossily, as in `parse_check`. The program is
//! `inputs.dial` beside this file, compiled once.
//!
//! The simulation is bounded: at most `MAX_STREAMS` streams, a run of at
//! most `MAX_LENGTH_MS`, each stream's peak rate at most `MAX_PEAK_PER_HOUR`
//! calls an hour, and `DRAIN_MS` for calls in progress to end. So a run has
//! a few dozen calls at most, whatever the file asks for.

#![no_main]

use std::sync::{Arc, OnceLock};

use dialect::program::{Engine, Program};
use dialect::runtime::Roster;
use dialect::sim::run::Options;
use dialect::sim::traffic::silent_menus;
use dialect::sim::{Traffic, simulate};
use libfuzzer_sys::fuzz_target;

const MAX_STREAMS: usize = 3;
const MAX_LENGTH_MS: i64 = 5 * 60_000;
const MAX_PEAK_PER_HOUR: f64 = 240.0;
const DRAIN_MS: i64 = 5 * 60_000;

fn program() -> &'static Arc<Program> {
    static PROGRAM: OnceLock<Arc<Program>> = OnceLock::new();
    PROGRAM.get_or_init(|| {
        Arc::new(
            Program::from_text(include_str!("inputs.dial"))
                .unwrap_or_else(|e| panic!("the fuzz script does not compile:\n{e}")),
        )
    })
}

fn fixed_roster() -> &'static Roster {
    static ROSTER: OnceLock<Roster> = OnceLock::new();
    ROSTER.get_or_init(|| {
        Roster::parse(
            r#"
            [[agent]]
            id = "ana"
            extension = "2001"
            skills = { language = ["english", "spanish"], billing = 7, tech = 3 }

            [[agent]]
            id = "bob"
            extension = "2002"
            skills = { language = "english", retention = 5, fraud = 2 }

            [[agent]]
            id = "cy"
            skills = { dispatch = 4, claims = 1 }
            "#,
        )
        .expect("the fixed roster parses")
    })
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (traffic_text, roster_text) = match text.split_once('\0') {
        Some((traffic, roster)) => (traffic, Some(roster)),
        None => (&*text, None),
    };
    let program = program();
    let given = roster_text.and_then(|r| Roster::parse(r).ok());
    let roster = given.as_ref().unwrap_or_else(|| fixed_roster());

    let traffic = match Traffic::parse(traffic_text, program, roster) {
        Ok(traffic) => traffic,
        Err(e) => {
            assert!(!e.to_string().trim().is_empty(), "{e:?} has no message");
            return;
        }
    };

    // What an accepted model promises the simulator.
    assert!(traffic.length_ms > 0 && traffic.interval_ms >= 60_000);
    assert!(!traffic.streams.is_empty());
    for s in &traffic.streams {
        assert!(s.per_hour.is_finite() && s.per_hour > 0.0);
        let peak = s.max_factor();
        assert!(peak.is_finite() && peak >= 0.0);
    }
    for (agent, spans) in &traffic.shifts {
        assert!(roster.agents.iter().any(|a| &a.id == agent));
        for &(login, logout) in spans {
            assert!(
                0 <= login && login < logout && login < traffic.length_ms,
                "{agent}: shift {login}..{logout} in a run of {} ms",
                traffic.length_ms
            );
        }
    }
    let expected = traffic.expected_calls();
    assert!(
        expected.is_finite() && expected >= 0.0,
        "{expected} calls expected"
    );
    let _ = silent_menus(&traffic, program.checked());

    // A short run of it.
    let mut short = traffic;
    short.length_ms = short.length_ms.min(MAX_LENGTH_MS);
    short.streams.truncate(MAX_STREAMS);
    for s in &mut short.streams {
        let peak = s.max_factor();
        if peak > 0.0 {
            s.per_hour = s.per_hour.min(MAX_PEAK_PER_HOUR / peak);
        }
    }
    let options = Options {
        seed: u64::from(data.first().copied().unwrap_or(1)),
        engine: Engine::Jit,
        drain_ms: DRAIN_MS,
        ..Options::default()
    };
    match simulate(Arc::clone(program), roster, &short, &options, &mut |_| {}) {
        Ok(report) => {
            assert_eq!(report.length_s, short.length_ms / 1000);
            assert!(report.unfinished <= report.calls);
        }
        Err(e) => assert!(!e.to_string().trim().is_empty(), "{e:?} has no message"),
    }
});
