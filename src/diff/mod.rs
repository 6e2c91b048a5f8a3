//! `dialect diff`: which calls two versions of a script send to different
//! places. For each entry of either version, calls are followed through
//! both (`flow::walk`, on the interpreter by default) over an ordinary
//! week cut wherever some hours or calendar changes, the calendars' dates
//! of the coming year, the keys of every menu met, and the values of the
//! queue statistics, lookup rows and callers the rules compare, split at
//! each constant (`check::logic`'s atoms). Calls that end differently are
//! grouped into [`Change`]s: "calls to +1 800 555 0100 on Saturdays
//! 09:00–13:00: before `queue support`, now `voicemail "general"`".
//!
//! `model.rs` holds the typed result, `inputs.rs` the inputs and their
//! values, `times.rs` the times, `explore.rs` the walks, `group.rs` the
//! grouping and `text.rs` the text form. **Invariant:** no I/O and no
//! clock: the caller gives the first day (`Options::new`).

mod explore;
mod group;
mod inputs;
mod model;
mod text;
mod times;

#[cfg(test)]
mod tests;

pub use model::{Change, Condition, DateRange, Decision, Diff, Outcome, WeeklyRange, When};

use std::collections::BTreeMap;

use crate::number::Pattern;
use crate::program::{Engine, Program};
use explore::{Explorer, Side};
use inputs::{Cand, Domain, Inputs, Kind, Subject};
use times::Times;

/// How a diff runs.
#[derive(Clone, Debug)]
pub struct Options {
    /// The first day of the year of calendar dates compared, and from
    /// which the ordinary week is chosen.
    pub from: jiff::civil::Date,
    pub engine: Engine,
    /// Calls followed per entry (each on both versions) before the search
    /// stops and says so in [`Diff::notes`].
    pub calls_per_entry: usize,
}

impl Options {
    pub fn new(from: jiff::civil::Date) -> Options {
        Options {
            from,
            engine: Engine::Interp,
            calls_per_entry: 200_000,
        }
    }
}

/// The calls `new` sends elsewhere than `old` does.
pub fn compare(old: &Program, new: &Program, options: &Options) -> Diff {
    let mut inputs = Inputs::of(old.checked(), new.checked());
    let times = Times::of(old, new, &inputs, options.from, options.engine);
    inputs.domains.insert(
        Subject::Time,
        Domain {
            values: (0..times.classes.len()).map(Cand::Time).collect(),
            labels: Vec::new(),
            kind: Kind::Time,
            pieces: Vec::new(),
            constants: Default::default(),
        },
    );
    // Entries by pattern: the new version's spelling when it has one.
    let mut entries: BTreeMap<String, (String, Pattern)> = BTreeMap::new();
    for p in [old, new] {
        for e in &p.checked().entries {
            entries.insert(e.pattern.to_string(), (e.number.clone(), e.pattern.clone()));
        }
    }
    let patterns: Vec<&Pattern> = entries.values().map(|(_, p)| p).collect();
    let old_side = Side::new(old);
    let new_side = Side::new(new);
    let mut diff = Diff {
        from: options.from.to_string(),
        zone: times.zone.clone(),
        week: times.monday.to_string(),
        entries: entries.len(),
        notes: times.notes.clone(),
        ..Diff::default()
    };
    for (number, pattern) in entries.values() {
        let dialed = inputs::dialed_for(pattern, &patterns);
        let mut explorer = Explorer {
            old: &old_side,
            new: &new_side,
            engine: options.engine,
            inputs: &inputs,
            times: &times,
            budget: options.calls_per_entry,
            walks: 0,
            cut: false,
            leaves: Vec::new(),
        };
        explorer.entry(&dialed);
        diff.calls += explorer.walks;
        if explorer.cut {
            diff.notes.push(format!(
                "calls to {number}: stopped after {} calls; later combinations of keys and inputs were not compared",
                explorer.walks
            ));
        }
        diff.changes.extend(group::changes(
            number,
            &dialed,
            &explorer.leaves,
            &inputs,
            &times,
        ));
    }
    diff
}
