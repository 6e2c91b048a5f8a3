//! Test support, compiled only with the `testkit` feature (tests and
//! benchmarks turn it on through the crate's dev-dependency on itself):
//! public doors to what the library keeps to itself, so that integration
//! tests can set up states no call or operation would reach in a few
//! steps. Nothing here is part of the interface an embedder uses.

use crate::checked::AgentState;
use crate::runtime::{Acd, AcdError};

/// Puts an agent straight into a state, as `dialect test` does for its
/// `given agent` lines (see `Acd::place`).
pub fn place(acd: &Acd, id: &str, state: AgentState, now_ms: i64) -> Result<(), AcdError> {
    acd.place(id, state, now_ms)
}

/// Holds statistics of a queue at given values, as `dialect test` does for
/// its `given queue` lines: each pin is an index into the queue's
/// statistics and the value to report there (see `Acd::pin_stats`).
pub fn pin_stats(acd: &Acd, queue: &str, pins: Vec<(usize, i64)>) {
    acd.pin_stats(queue, pins);
}
