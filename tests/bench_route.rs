//! The decide benchmark's 500-rule route (`benches/shared/route500.rs`):
//! its script lints clean with every hours and calendar used, its
//! ahead-of-time twin (`benches/shared/route500_aot.rs`) is the one its
//! generator writes today, and the native code of its decision stays
//! within a budget, so code bloat in the JIT shows up here.

#[allow(dead_code)]
#[path = "../benches/shared/route500.rs"]
mod route500;

#[path = "../benches/shared/aot.rs"]
mod aot;

use std::collections::BTreeSet;
use std::path::Path;

use dialect::program::Program;
use route500::{CALENDARS, HOURS, Rule, load, script, spec};

#[test]
fn the_benchmark_script_lints_clean_and_uses_every_hours_and_calendar() {
    let spec = spec();
    // `load` fails on any diagnostic, warnings included.
    load(&script(&spec));
    let hours: BTreeSet<usize> = (spec.rules.iter())
        .filter_map(|r| match r {
            Rule::OpenAndBusy { hours, .. } => Some(*hours),
            _ => None,
        })
        .collect();
    let calendars: BTreeSet<usize> = (spec.rules.iter())
        .filter_map(|r| match r {
            Rule::HolidayWeekend { calendar } => Some(*calendar),
            _ => None,
        })
        .collect();
    assert_eq!(hours, (0..HOURS).collect());
    assert_eq!(calendars, (0..CALENDARS).collect());
}

#[test]
fn the_ahead_of_time_route_is_generated_from_the_current_spec() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(aot::PATH);
    let wanted = aot::source(&spec());
    if std::env::var_os("DIALECT_WRITE_AOT").is_some() {
        std::fs::write(&path, &wanted).expect("writes the generated route");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == wanted,
        "{} is stale: run `DIALECT_WRITE_AOT=1 cargo test --test bench_route`",
        aot::PATH
    );
}

/// The route's native code, in bytes, must stay below this: about 5 %
/// above what the JIT emits today (68,360 bytes; 80,264 before issue 14,
/// see docs/performance.md, "Against ahead-of-time Rust"), so a change that
/// bloats the code of a decision fails here rather than only in a
/// benchmark.
const ROUTE_CODE_BUDGET: usize = 72_000;

#[test]
fn the_500_rule_route_compiles_to_code_within_its_budget() {
    let program = Program::compile(load(&script(&spec()))).expect("compiles");
    let route = program.ir().routes[0];
    let bytes = program.native().code_bytes_of(route);
    println!(
        "route: {bytes} bytes of native code for {} rules ({} for the program)",
        route500::RULES,
        program.code_bytes()
    );
    assert!(bytes > 0);
    assert!(
        bytes <= ROUTE_CODE_BUDGET,
        "the 500-rule route takes {bytes} bytes of native code, over its budget of {ROUTE_CODE_BUDGET}"
    );
}
