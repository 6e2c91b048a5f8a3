//! A test's call through the compiled decisions: its facts (numbers, the
//! rows and queue statistics it gives), its instant, and the walk of its
//! decisions checked against `expect ACTIONS`.

use crate::checked::{self, Test};
use crate::facts::{Facts, QueueStats, Row, Slot};
use crate::flow::walk::{self, Walk};
use crate::lookup::LookupTables;
use crate::program::{Engine, Program};

/// Walks the test's decisions on `engine` and says whether the walk ends
/// as its `expect ACTIONS` says (true without one). `counted` are the
/// queue statistics the runtime counted for a runtime test, which the
/// decisions then read.
pub fn run(
    program: &Program,
    tables: &LookupTables,
    engine: Engine,
    test: &Test,
    counted: Option<&[QueueStats]>,
) -> (Walk, bool) {
    let mut facts = Facts::new(&program.ir().layout);
    facts.caller = test.from.clone().unwrap_or_default();
    facts.dialed = test.to.clone();
    for &(switch, on) in &test.switches {
        facts.switches[switch.index()] = on as i64;
    }
    let mut fixed = vec![false; program.checked().lookups.len()];
    for (lookup, row) in &test.lookups {
        fixed[lookup.index()] = true;
        facts.lookups[lookup.index()] = row
            .as_ref()
            .map(|given| given_row(program.checked(), lookup.index(), given));
    }
    for (queue, stats) in &test.queues {
        for (stat, value) in stats {
            facts.queues[queue.index()].set(*stat, Slot::from_value(value).int);
        }
    }
    for (i, stats) in counted.unwrap_or_default().iter().enumerate() {
        if let Some(q) = facts.queues.get_mut(i) {
            *q = *stats;
        }
    }
    let at = call_instant(program, test);
    let walk = walk::walk(program, tables, engine, facts, at, &test.presses, fixed);
    let passed = test
        .expect
        .as_ref()
        .is_none_or(|expect| walk.ends_with(&expect.list));
    (walk, passed)
}

/// When the test's call happens: its `at` in its zone (a skipped local
/// time moves forward by the gap, a repeated one is its first
/// occurrence), or the epoch without one.
pub fn call_instant(program: &Program, test: &Test) -> jiff::Timestamp {
    match test.at {
        Some((local, zone)) => {
            let tz = &program.checked().zone(zone).tz;
            tz.to_ambiguous_zoned(local)
                .compatible()
                .map(|z| z.timestamp())
                .unwrap_or_default()
        }
        None => jiff::Timestamp::default(),
    }
}

/// A row from a test's `given`: the fields given, zeros for the rest.
pub fn given_row(program: &checked::Program, lookup: usize, given: &checked::Row) -> Row {
    let mut row = vec![Slot::default(); program.lookups[lookup].fields.len()];
    for (field, value) in given {
        if let Some(slot) = row.get_mut(*field as usize) {
            *slot = Slot::from_value(value);
        }
    }
    row
}
