//! What the runtime and each of its calls share: the clock, the ACD, the
//! event bus, the engine, the handle-time estimate, the registry of calls
//! in progress, and the runtime's own task. `Runtime` holds it behind an `Arc` and hands a clone to every
//! call, so a call's code needs nothing of `Runtime` itself.
//!
//! The runtime keeps the ACD's time with one task ([`Shared::keep_time`]):
//! it sleeps until the ACD's next deadline (a wrap-up's end, the timed
//! full pass), ticks it, and wakes early when a deadline moves earlier. A
//! wrap-up costs a map entry, not a task and a timer of its own.

use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::acd::Acd;
use super::clock::Clock;
use super::events::EventBus;
use super::live::Live;
use crate::lookup::LookupTables;
use crate::program::{Engine, Program};

/// The program calls start with, and the lookup rows that fit it: what
/// a reload swaps, and what each call holds until it ends.
pub(super) struct Current {
    pub(super) program: Arc<Program>,
    pub(super) tables: Arc<LookupTables>,
}

/// How long the timer sleeps when the ACD has no deadline: it wakes
/// sooner when one is set.
const IDLE_MS: i64 = 3_600_000;

pub(super) struct Shared {
    pub(super) clock: Clock,
    pub(super) acd: Acd,
    pub(super) events: Arc<EventBus>,
    pub(super) engine: Engine,
    /// Average handle time used to estimate waits.
    pub(super) aht_ms: i64,
    /// The calls in progress and where each is.
    pub(super) live: Live,
    /// The runtime's own task (the ACD's timer), which ends at shutdown
    /// or when the runtime is dropped.
    pub(super) tasks: TaskTracker,
    pub(super) stop_tasks: CancellationToken,
    /// Whether the timer task runs.
    timer: AtomicBool,
}

impl Shared {
    pub(super) fn new(
        clock: Clock,
        acd: Acd,
        events: Arc<EventBus>,
        engine: Engine,
        aht_ms: i64,
    ) -> Shared {
        Shared {
            clock,
            acd,
            events,
            engine,
            aht_ms,
            live: Live::default(),
            tasks: TaskTracker::new(),
            stop_tasks: CancellationToken::new(),
            timer: AtomicBool::new(false),
        }
    }

    /// Starts the ACD's timer unless it runs: on the first call, which is
    /// inside a tokio runtime (building a `Runtime` need not be).
    pub(super) fn start_timer(self: &Arc<Self>) {
        if self.timer.load(Ordering::Relaxed) || self.timer.swap(true, Ordering::AcqRel) {
            return;
        }
        let rt = Arc::clone(self);
        self.tasks.spawn(async move { rt.keep_time().await });
    }

    /// Stops the runtime's tasks. The timer waits on the ACD's deadline
    /// changes, not on the token (whose every poll takes its lock): the
    /// notification wakes it, or waits for it if it is busy, and it sees
    /// the token cancelled.
    pub(super) fn stop(&self) {
        self.stop_tasks.cancel();
        self.acd.due_changed().notify_one();
    }

    /// Ticks the ACD at each of its deadlines until the runtime stops. The
    /// waits live across turns of the loop (one timer, set again each
    /// turn), and the timer is polled first, so a turn that a deadline
    /// ends registers nothing anew.
    async fn keep_time(&self) {
        // Made before the deadline is read: `notify_one` keeps a
        // notification sent in between for this wait.
        let mut moved = pin!(self.acd.due_changed().notified());
        let mut timer = pin!(self.clock.timer(IDLE_MS));
        loop {
            let wait_ms = match self.acd.next_due_ms() {
                Some(due_ms) => due_ms - self.clock.elapsed_ms(),
                None => IDLE_MS,
            };
            self.clock.reset(timer.as_mut(), wait_ms);
            tokio::select! {
                biased;
                () = &mut timer => self.acd.tick(),
                // A deadline moved earlier, or the runtime stops.
                () = &mut moved => {
                    if self.stop_tasks.is_cancelled() {
                        return;
                    }
                    moved.set(self.acd.due_changed().notified());
                }
            }
        }
    }
}
