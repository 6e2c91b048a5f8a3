//! The simulator's inputs and outputs under random data: traffic and roster
//! files, random or mutated, get `Ok` or a message and never a panic; and
//! random valid traffic simulates with consistent figures (every call
//! counted once, rates between 0 and 1, no queue answering more than it
//! was offered).

use std::path::Path;
use std::sync::{Arc, LazyLock};

use dialect::cli::RealFs;
use dialect::load::Loader;
use dialect::program::Program;
use dialect::runtime::Roster;
use dialect::sim::run::Options;
use dialect::sim::{Traffic, simulate};
use proptest::prelude::*;
use proptest::test_runner::Config;

const SUPPORT: &str = "examples/support/support.dial";

static PROGRAM: LazyLock<Arc<Program>> = LazyLock::new(|| {
    let fs = RealFs;
    let mut loader = Loader::new(&fs);
    let root = loader.load(Path::new(SUPPORT)).expect("loads");
    let checked = loader.check(root, None);
    assert!(checked.diagnostics.iter().all(|d| !d.is_error()));
    Arc::new(Program::compile(checked.program).expect("compiles"))
});

static ROSTER_TEXT: LazyLock<String> =
    LazyLock::new(|| std::fs::read_to_string("examples/support/agents.toml").expect("roster"));

static TRAFFIC_TEXT: LazyLock<String> =
    LazyLock::new(|| std::fs::read_to_string("examples/support/traffic.toml").expect("traffic"));

fn roster() -> Roster {
    Roster::parse(&ROSTER_TEXT).expect("the example roster parses")
}

/// Deletes, duplicates or replaces a few bytes of `text`.
fn mutate(text: &str, edits: &[(usize, u8, u8)]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for &(at, kind, byte) in edits {
        if bytes.is_empty() {
            break;
        }
        let at = at % bytes.len();
        match kind % 3 {
            0 => {
                bytes.remove(at);
            }
            1 => bytes.insert(at, byte),
            _ => bytes[at] = byte,
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

proptest! {
    #![proptest_config(Config { cases: 256, ..Config::default() })]

    #[test]
    fn random_text_never_panics(text in "\\PC{0,400}") {
        let _ = Traffic::parse(&text, &PROGRAM, &roster());
        let _ = Roster::parse(&text);
    }

    #[test]
    fn mutated_files_never_panic(edits in prop::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..8)) {
        let traffic = mutate(&TRAFFIC_TEXT, &edits);
        let _ = Traffic::parse(&traffic, &PROGRAM, &roster());
        let text = mutate(&ROSTER_TEXT, &edits);
        if let Ok(r) = Roster::parse(&text) {
            let _ = r.skills_for(PROGRAM.checked());
        }
    }
}

/// A small random traffic model for the support script.
fn traffic_strategy() -> impl Strategy<Value = String> {
    (
        5u32..150,
        10u32..90,
        1u32..8,
        prop::option::of(10u32..400),
        0u32..6,
        prop::collection::vec(0u32..100, 4),
        prop::sample::select(vec!["exponential", "lognormal", "fixed"]),
        prop::option::of((100u32..8_000, 100u32..3_000)),
    )
        .prop_map(|(per_hour, minutes, talk_m, patience_s, answer_s, keys, dist, keying)| {
            let talk = match dist {
                "lognormal" => format!("{{ distribution = \"lognormal\", mean = \"{talk_m}m\", sd = \"1m\" }}"),
                "fixed" => format!("{{ distribution = \"fixed\", value = \"{talk_m}m\" }}"),
                _ => format!("{{ distribution = \"exponential\", mean = \"{talk_m}m\" }}"),
            };
            let patience = patience_s
                .map(|p| format!("patience = {{ distribution = \"exponential\", mean = \"{p}s\" }}\n"))
                .unwrap_or_default();
            // Slow callers: some think past a menu's timeout.
            let keying = keying
                .map(|(think, gap)| format!(
                    "think = {{ distribution = \"exponential\", mean = \"{think}ms\" }}\n\
                     digit_gap = {{ distribution = \"lognormal\", mean = \"{gap}ms\", sd = \"300ms\" }}\n"
                ))
                .unwrap_or_default();
            let total: u32 = keys.iter().sum::<u32>().max(1);
            let p = |i: usize| f64::from(keys[i]) / f64::from(total);
            format!(
                "start = \"2026-11-23 09:00\"\nlength = \"{minutes}m\"\ninterval = \"15m\"\nanswer_after = \"{answer_s}s\"\n\
                 [[calls]]\nto = \"+18885550100\"\nper_hour = {per_hour}\ntalk = {talk}\n{patience}{keying}\
                 keys.language = {{ \"1\" = {}, \"2\" = {}, \"9\" = {}, timeout = {} }}\n\
                 keys.main_en = {{ \"1\" = 0.4, \"2\" = 0.4, \"3\" = 0.1 }}\n\
                 keys.main_es = {{ \"1\" = 0.5, \"2\" = 0.4 }}\n\
                 [[shifts]]\nagents = [\"ana\", \"bob\", \"carla\"]\nfrom = \"09:10\"\nto = \"09:40\"\n",
                p(0) * 0.99,
                p(1) * 0.99,
                p(2) * 0.99,
                p(3) * 0.99,
            )
        })
}

proptest! {
    #![proptest_config(Config { cases: 64, ..Config::default() })]

    #[test]
    fn random_traffic_gives_consistent_figures(traffic in traffic_strategy(), seed in 0u64..1000) {
        let roster = roster();
        let traffic = Traffic::parse(&traffic, &PROGRAM, &roster).expect("valid traffic");
        let options = Options { seed, ..Options::default() };
        let report = simulate(Arc::clone(&PROGRAM), &roster, &traffic, &options, &mut |_| {}).expect("runs");
        let ended: u64 = report.dispositions.iter().map(|d| d.1).sum();
        prop_assert_eq!(ended + report.unfinished, report.calls);
        for row in report.intervals.iter().chain(&report.totals) {
            prop_assert!(row.answered_in_sl <= row.answered);
            prop_assert!(row.waited <= row.answered);
            if row.queue != "all" {
                prop_assert!(row.answered + row.abandoned + row.overflowed <= row.offered, "{:?}", row);
            }
            for rate in [row.service_level, row.occupancy].into_iter().flatten() {
                prop_assert!((0.0..=1.0 + 1e-9).contains(&rate), "{:?}", row);
            }
        }
        let all = report.total("all").expect("all row");
        prop_assert_eq!(all.offered, report.calls);
    }
}
