//! What the runtime and each of its calls share: the clock, the ACD, the
//! event bus, the engine and the handle-time estimate, and the runtime's
//! own tasks. `Runtime` holds it behind an `Arc` and hands a clone to every
//! call, so a call's code needs nothing of `Runtime` itself.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::acd::Acd;
use super::clock::Clock;
use super::events::EventBus;
use crate::program::Engine;

pub(super) struct Shared {
    pub(super) clock: Clock,
    pub(super) acd: Acd,
    pub(super) events: Arc<EventBus>,
    pub(super) engine: Engine,
    /// Average handle time used to estimate waits.
    pub(super) aht_ms: i64,
    /// The runtime's own tasks (wrap-up timers), which end at shutdown.
    pub(super) tasks: TaskTracker,
    pub(super) stop_tasks: CancellationToken,
}

impl Shared {
    /// Wakes the ACD at `due_ms` (a wrap-up's end, which it keeps), in a
    /// task of the runtime's: the call that caused it is over for the
    /// caller. At shutdown the task ends and the agent stays in wrap-up.
    pub(super) fn wrapup(self: &Arc<Self>, due_ms: i64) {
        let rt = Arc::clone(self);
        let stop = self.stop_tasks.clone();
        self.tasks.spawn(async move {
            tokio::select! {
                () = rt.clock.sleep(due_ms - rt.clock.elapsed_ms()) => rt.acd.tick(),
                () = stop.cancelled() => {}
            }
        });
    }
}
