//! The call runtime: runs calls against a compiled program, independent of
//! SIP. Each call is an async task asking the `Program` "what next?" and
//! doing it through a `Channel`; the ACD keeps agents and queues; time
//! comes from a `Clock`, so the same code runs on the wall clock, on tokio's
//! paused clock in tests, and in the simulator.
//!
//! **Invariant:** the runtime knows nothing of SIP. A call keeps the program
//! and the lookup tables it started with; a reload (of the script, or of
//! the data alone) only affects calls that start afterwards.

pub mod acd;
mod call;
pub mod channel;
pub mod clock;
pub mod events;
pub mod index;
pub mod roster;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

pub use acd::{Acd, AcdError};
pub use channel::Channel;
pub use clock::Clock;
pub use events::{Disposition, Event, EventBus, Summary};
pub use roster::{Roster, RosterError};

use crate::lookup::{DataMismatch, LookupTables};
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
    /// What new calls start with. Program and tables sit under one lock,
    /// so a call never starts with tables that do not fit its program.
    current: RwLock<Current>,
    next_call: AtomicU64,
}

/// The program new calls start with, and the lookup rows they read.
#[derive(Clone)]
struct Current {
    program: Arc<Program>,
    tables: Arc<LookupTables>,
}

/// Why a script reload was refused; the runtime keeps what it had.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    #[error(transparent)]
    Roster(#[from] RosterError),
    #[error(transparent)]
    Data(#[from] DataMismatch),
}

impl Runtime {
    /// A runtime for a program and a roster; the roster's skills must be
    /// the program's. Its lookups start with no rows: load them with
    /// `lookup::load_tables` and swap them in with [`Runtime::reload_data`].
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
            clock,
            acd: Acd::new(roster, &program.checked, Arc::clone(&events), engine)?,
            events,
            engine,
            aht_ms: DEFAULT_AHT_MS,
            current: RwLock::new(Current {
                tables: Arc::new(LookupTables::empty(&program.checked)),
                program,
            }),
            next_call: AtomicU64::new(1),
        }))
    }

    /// The program new calls start with.
    pub fn program(&self) -> Arc<Program> {
        self.current().program
    }

    /// The lookup tables new calls start with.
    pub fn tables(&self) -> Arc<LookupTables> {
        self.current().tables
    }

    fn current(&self) -> Current {
        self.current
            .read()
            .map_or_else(|e| e.into_inner().clone(), |c| c.clone())
    }

    /// Swaps in a new program with its lookup tables (and roster, if
    /// given): a script reload. The tables must fit the new program
    /// ([`LookupTables::check`]); to keep the rows a runtime has, pass
    /// [`Runtime::tables`], which fits as long as the lookup declarations
    /// did not change. Calls in progress keep their program and tables;
    /// agents keep their states. On an error nothing changes.
    pub fn reload(
        &self,
        program: Arc<Program>,
        tables: Arc<LookupTables>,
        roster: Option<&Roster>,
    ) -> Result<(), ReloadError> {
        tables.check(&program.checked)?;
        let now = self.clock.elapsed_ms();
        match roster {
            Some(r) => self.acd.reload_roster(r, &program.checked, now)?,
            None => self
                .acd
                .reload_roster(&self.acd.roster(), &program.checked, now)?,
        }
        let new = Current { program, tables };
        let mut current = match self.current.write() {
            Ok(c) => c,
            Err(e) => e.into_inner(),
        };
        let old = std::mem::replace(&mut *current, new);
        // The old rows and code are freed (when no call holds them) after
        // the lock is released, so calls starting meanwhile do not wait.
        drop(current);
        drop(old);
        Ok(())
    }

    /// Swaps in new lookup tables for the current program: a data reload,
    /// which compiles nothing. Tables read for other lookup declarations
    /// than the program's are refused and the old ones kept. Calls in
    /// progress keep the tables they started with.
    pub fn reload_data(&self, tables: Arc<LookupTables>) -> Result<(), DataMismatch> {
        let mut current = match self.current.write() {
            Ok(c) => c,
            Err(e) => e.into_inner(),
        };
        tables.check(&current.program.checked)?;
        let old = std::mem::replace(&mut current.tables, tables);
        drop(current);
        drop(old);
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
        let Current { program, tables } = self.current();
        // National numbers are read in the script's country; a withheld or
        // unreadable caller is empty (`caller withheld`).
        let country = program.checked.country;
        let caller = crate::number::normalize_in(caller, country).unwrap_or_default();
        let dialed =
            crate::number::normalize_in(dialed, country).unwrap_or_else(|_| dialed.to_string());
        call::Call::new(
            Arc::clone(self),
            program,
            tables,
            channel,
            id,
            caller,
            dialed,
        )
        .run()
        .await
    }

    /// Ends an agent's wrap-up number `wrapup` after `ms`, on the
    /// runtime's clock, in a task of its own: the call that caused it is
    /// over for the caller.
    fn wrapup(self: &Arc<Self>, agent: String, wrapup: u64, ms: i64) {
        let rt = Arc::clone(self);
        tokio::spawn(async move {
            rt.clock.sleep(ms).await;
            rt.acd.wrapup_done(&agent, wrapup, rt.clock.elapsed_ms());
        });
    }
}
