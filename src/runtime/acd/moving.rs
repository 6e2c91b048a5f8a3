//! What a reload does to callers in line: each whose queue the new version
//! also has waits on there, in the same place, under the new definition
//! (see `docs/decisions.md`); and which of a queue's steps are due after a
//! wait, which the move and the waiting call both read.

use std::cmp::Reverse;
use std::sync::Arc;

use jiff::Timestamp;
use tokio::sync::oneshot;

use super::inner::{InForce, Inner, Moved, Turn};
use crate::checked::{QueueId, StepKind};
use crate::flow;
use crate::ir::FuncId;
use crate::lookup::LookupTables;
use crate::program::Program;

/// Where a caller who has waited some time stands among their queue's
/// relaxation and overflow steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Due {
    /// The filter in force: the queue's `require`, or the last relaxation
    /// step's that is due.
    pub require: Option<FuncId>,
    /// The first step not yet taken: not yet due, or an overflow step
    /// that is due (then `overflow` is true).
    pub step: usize,
    pub overflow: bool,
}

impl Due {
    /// The steps of `queue` in `program` taken after waiting `waited_ms`.
    pub fn after(program: &Program, queue: QueueId, waited_ms: i64) -> Due {
        let steps = &program.checked().queue(queue).steps;
        let fns = &program.ir().queues[queue.index()];
        let mut due = Due {
            require: fns.require,
            step: 0,
            overflow: false,
        };
        for (i, s) in steps.iter().enumerate() {
            if waited_ms < s.after_ms {
                break;
            }
            if let StepKind::Overflow(_) = s.kind {
                due.overflow = true;
                break;
            }
            due.require = fns.steps[i];
            due.step = i + 1;
        }
        due
    }
}

impl Inner {
    /// See [`super::Acd::move_waiting`]; the caller dispatches.
    pub(super) fn move_waiting(
        &mut self,
        program: &Arc<Program>,
        tables: &Arc<LookupTables>,
        now: Timestamp,
        now_ms: i64,
    ) {
        self.in_force = Some(InForce {
            program: Arc::clone(program),
            tables: Arc::clone(tables),
            below: self.next_place,
        });
        let keys: Vec<_> = self.waiting.keys().copied().collect();
        for key in keys {
            self.move_one(key, now, now_ms);
        }
    }

    /// A caller who rejoins the line (their offer rang out) moves if a
    /// reload came while it rang.
    pub(super) fn move_behind(&mut self, key: (Reverse<u32>, u64), now: Timestamp, now_ms: i64) {
        if self.in_force.as_ref().is_some_and(|f| key.1 < f.below) {
            self.move_one(key, now, now_ms);
        }
    }

    /// Moves the caller `key` to the version in force, if they wait under
    /// another and their queue is there.
    fn move_one(&mut self, key: (Reverse<u32>, u64), now: Timestamp, now_ms: i64) {
        let (Some(to), Some(w)) = (&self.in_force, self.waiting.get_mut(&key)) else {
            return;
        };
        if Arc::ptr_eq(&w.program, &to.program) {
            return;
        }
        let checked = to.program.checked();
        let Some(q) = (checked.queues.iter()).position(|q| q.name == w.queue_name) else {
            return;
        };
        let queue = QueueId(q as u32);
        let facts = flow::carry_facts(&w.facts, &to.program, &to.tables, &w.call.switches, now);
        let due = Due::after(&to.program, queue, now_ms - w.since_ms);
        let (tx, next) = oneshot::channel();
        let told = std::mem::replace(&mut w.offer, tx);
        w.program = Arc::clone(&to.program);
        w.queue = queue;
        w.facts = facts;
        w.require = due.require;
        // A call that went away meanwhile is not told; its next offer
        // finds it gone, as before.
        let _ = told.send(Turn::Moved(Moved {
            program: Arc::clone(&to.program),
            tables: Arc::clone(&to.tables),
            queue,
            in_line: !due.overflow,
            next,
        }));
        if due.overflow {
            // Out of line before anyone is offered the call.
            self.waiting.remove(&key);
            self.timed.remove(&key);
            return;
        }
        let timed = (due.require).is_some_and(|f| to.program.ir().reads_idle_time(f));
        if timed {
            self.timed.insert(key);
        } else {
            self.timed.remove(&key);
        }
        // The filters changed: look at everyone.
        self.fresh.everything = true;
    }
}
