//! The call runtime: runs calls against a compiled program, independent of
//! SIP. Each call is an async task asking the `Program` "what next?" and
//! doing it through a `Channel`; the ACD keeps agents and queues; time
//! comes from a `Clock`, so the same code runs on the wall clock, on tokio's
//! paused clock in tests, and in the simulator.
//!
//! **Invariant:** the runtime knows nothing of SIP. A call keeps the program
//! it started with; a reload only affects calls that start afterwards.

pub mod acd;
mod call;
pub mod channel;
pub mod clock;
pub mod events;
pub mod roster;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

pub use acd::{Acd, AcdError};
pub use channel::Channel;
pub use clock::Clock;
pub use events::{Disposition, Event, EventBus, Summary};
pub use roster::{Roster, RosterError};

use crate::program::{Engine, Program};

/// Average handle time assumed for expected-wait estimates before any
/// call has been measured.
pub const DEFAULT_AHT_MS: i64 = 180_000;

pub struct Runtime {
    pub clock: Clock,
    pub acd: Acd,
    pub events: Arc<EventBus>,
    pub engine: Engine,
    /// Average handle time used to estimate waits.
    pub aht_ms: i64,
    program: RwLock<Arc<Program>>,
    next_call: AtomicU64,
}

impl Runtime {
    /// A runtime for a program and a roster; the roster's skills must be
    /// the program's.
    pub fn new(
        program: Arc<Program>,
        roster: &Roster,
        clock: Clock,
    ) -> Result<Arc<Runtime>, RosterError> {
        Runtime::with_engine(program, roster, clock, Engine::Jit)
    }

    /// A runtime whose decisions run on `engine` (the JIT, or the
    /// reference interpreter).
    pub fn with_engine(
        program: Arc<Program>,
        roster: &Roster,
        clock: Clock,
        engine: Engine,
    ) -> Result<Arc<Runtime>, RosterError> {
        let events = Arc::new(EventBus::default());
        Ok(Arc::new(Runtime {
            acd: Acd::new(
                roster,
                &program.checked,
                Arc::clone(&events),
                engine,
                clock.clone(),
            )?,
            clock,
            events,
            engine,
            aht_ms: DEFAULT_AHT_MS,
            program: RwLock::new(program),
            next_call: AtomicU64::new(1),
        }))
    }

    /// The program new calls start with.
    pub fn program(&self) -> Arc<Program> {
        self.program
            .read()
            .map_or_else(|e| Arc::clone(&e.into_inner()), |p| Arc::clone(&p))
    }

    /// Swaps in a new program (and roster, if given). Calls in progress
    /// keep theirs; agents keep their states.
    pub fn reload(
        &self,
        program: Arc<Program>,
        roster: Option<&Roster>,
    ) -> Result<(), RosterError> {
        match roster {
            Some(r) => self.acd.reload_roster(r, &program.checked)?,
            None => (self.acd).reload_roster(&self.acd.roster(), &program.checked)?,
        }
        match self.program.write() {
            Ok(mut p) => *p = program,
            Err(e) => *e.into_inner() = program,
        }
        Ok(())
    }

    /// Runs one call to its end and returns its summary (also published
    /// as `Event::CallEnded`).
    pub async fn run_call<C: Channel>(
        self: &Arc<Self>,
        channel: &mut C,
        caller: &str,
        dialed: &str,
    ) -> Summary {
        let id = self.next_call.fetch_add(1, Ordering::Relaxed);
        let program = self.program();
        // National numbers are read in the script's country; a withheld or
        // unreadable caller is empty (`caller withheld`).
        let country = program.checked.country;
        let caller = crate::number::normalize_in(caller, country).unwrap_or_default();
        let dialed =
            crate::number::normalize_in(dialed, country).unwrap_or_else(|_| dialed.to_string());
        call::Call::new(Arc::clone(self), program, channel, id, caller, dialed)
            .run()
            .await
    }

    /// Wakes the ACD at `due_ms` (a wrap-up's end, which it keeps) in a
    /// task of its own: the call that caused it is over for the caller.
    fn wrapup(self: &Arc<Self>, due_ms: i64) {
        let rt = Arc::clone(self);
        tokio::spawn(async move {
            rt.clock.sleep(due_ms - rt.clock.elapsed_ms()).await;
            rt.acd.tick();
        });
    }
}
