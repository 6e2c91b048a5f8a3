//! The call runtime: runs calls against a compiled program, independent of
//! SIP. Each call is an async task asking the `Program` "what next?" and
//! doing it through a `Channel`; the ACD keeps agents and queues; time
//! comes from a `Clock`, so the same code runs on the wall clock, on tokio's
//! paused clock in tests, and in the simulator.
//!
//! **Invariant:** the runtime knows nothing of SIP. A call keeps the program
//! and the lookup tables it started with; a reload (of the script, or of
//! the data alone) only affects calls that start afterwards, except that
//! callers waiting in a queue the new script also has move to it, in their
//! place in line (`acd::Acd::move_waiting`), and go on under it.

pub mod acd;
mod call;
pub mod channel;
pub mod clock;
mod cut;
pub mod events;
pub mod live;
pub mod record;
pub mod roster;
mod shared;
pub mod switches;

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;

use tokio::sync::Notify;

pub use acd::{Acd, AcdError};
pub use channel::Channel;
pub use clock::Clock;
pub use events::{Disposition, Event, EventBus, Summary};
pub use live::{LiveCall, Place};
pub use record::{Arrival, CallInfo};
pub use roster::{Roster, RosterError};
pub use switches::{Flip, SwitchStates};

use self::shared::{Current, Shared};
use crate::lookup::{DataMismatch, LookupTables};
use crate::program::{Engine, Program};

/// Average handle time assumed for expected-wait estimates before any
/// call has been measured.
pub const DEFAULT_AHT_MS: i64 = 180_000;

/// The call runtime: build it with [`Runtime::builder`].
pub struct Runtime {
    /// What calls share with the runtime: clock, ACD, events, tasks.
    shared: Arc<Shared>,
    /// What new calls start with. Program and tables sit under one lock,
    /// so a call never starts with tables that do not fit its program.
    current: ArcSwap<Current>,
    /// Held by a reload while it checks and swaps, so two reloads do not
    /// interleave; calls starting never take it.
    reloading: Mutex<()>,
    /// Written by every call: on lines of their own, apart from what
    /// every call reads (`shared`, `current`).
    counts: Counts,
    /// Told when the last call in progress ends.
    idle: Notify,
    /// Each call in progress's cut signal, set at a shutdown's deadline.
    signals: cut::Signals,
    /// The switches' states, read by each call as it arrives.
    switches: SwitchStates,
}

/// How to build a [`Runtime`]: a program and a roster, and optionally a
/// clock (the wall clock by default), an engine (the JIT by default) and
/// options.
pub struct RuntimeBuilder<'r> {
    program: Arc<Program>,
    roster: &'r Roster,
    clock: Option<Clock>,
    engine: Engine,
    aht_ms: i64,
    event_capacity: usize,
}

impl RuntimeBuilder<'_> {
    /// The clock the runtime reads all its time from.
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Which engine runs decisions and the queues' filters.
    pub fn engine(mut self, engine: Engine) -> Self {
        self.engine = engine;
        self
    }

    /// The average handle time that estimates waits
    /// ([`DEFAULT_AHT_MS`] unless set).
    pub fn aht_ms(mut self, ms: i64) -> Self {
        self.aht_ms = ms;
        self
    }

    /// How far a live event subscriber may fall behind before it misses
    /// events ([`events::DEFAULT_EVENT_CAPACITY`] unless set).
    pub fn event_capacity(mut self, events: usize) -> Self {
        self.event_capacity = events;
        self
    }

    /// The runtime; fails when the roster's skills are not the program's.
    pub fn build(self) -> Result<Arc<Runtime>, RosterError> {
        let events = Arc::new(EventBus::new(self.event_capacity));
        let clock = self.clock.unwrap_or_else(Clock::wall);
        let acd = Acd::new(
            self.roster,
            self.program.checked(),
            Arc::clone(&events),
            self.engine,
            clock.clone(),
        )?;
        Ok(Arc::new(Runtime {
            shared: Arc::new(Shared::new(clock, acd, events, self.engine, self.aht_ms)),
            current: ArcSwap::from_pointee(Current {
                tables: Arc::new(LookupTables::empty(self.program.checked())),
                program: self.program,
            }),
            reloading: Mutex::new(()),
            counts: Counts {
                next_call: AtomicU64::new(1),
                active: AtomicUsize::new(0),
            },
            idle: Notify::new(),
            signals: cut::Signals::default(),
            switches: SwitchStates::default(),
        }))
    }
}

impl Drop for Runtime {
    /// Stops the runtime's timer, which would otherwise hold the ACD.
    fn drop(&mut self) {
        self.shared.stop();
    }
}

/// What a shutdown did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shutdown {
    /// Calls still in progress at the deadline, which the runtime ended.
    pub cut: usize,
}

/// The counters every call writes.
#[repr(align(128))]
struct Counts {
    next_call: AtomicU64,
    /// How many calls are in `run_call` now, and in the top bit
    /// ([`CLOSING`]) whether a shutdown began: in one word, so that a call
    /// counts itself in and learns whether it may start in one step, and
    /// a shutdown closes and counts in one step.
    active: AtomicUsize,
}

/// The bit of `Counts::active` that says a shutdown began.
const CLOSING: usize = 1 << (usize::BITS - 1);

/// Counts a call in progress for as long as it lives, and takes its cut
/// signal off the runtime's list and the call out of the registry of
/// calls in progress when it ends.
struct Active<'a> {
    rt: &'a Runtime,
    ticket: Option<cut::Ticket>,
    /// The call's number, once it is in the registry.
    live: Option<u64>,
}

impl<'a> Active<'a> {
    /// Counts a call in; also says whether a shutdown had begun.
    fn new(rt: &'a Runtime) -> (Self, bool) {
        let before = rt.counts.active.fetch_add(1, Ordering::SeqCst);
        (
            Active {
                rt,
                ticket: None,
                live: None,
            },
            before & CLOSING != 0,
        )
    }
}

impl Drop for Active<'_> {
    fn drop(&mut self) {
        if let Some(ticket) = self.ticket {
            self.rt.signals.remove(ticket);
        }
        if let Some(id) = self.live {
            self.rt.shared.live.end(id);
        }
        if self.rt.counts.active.fetch_sub(1, Ordering::SeqCst) & !CLOSING == 1 {
            self.rt.idle.notify_waiters();
        }
    }
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
    /// Starts building a runtime for a program and a roster; the roster's
    /// skills must be the program's.
    pub fn builder(program: Arc<Program>, roster: &Roster) -> RuntimeBuilder<'_> {
        RuntimeBuilder {
            program,
            roster,
            clock: None,
            engine: Engine::Jit,
            aht_ms: DEFAULT_AHT_MS,
            event_capacity: events::DEFAULT_EVENT_CAPACITY,
        }
    }

    /// The clock all of the runtime's time comes from.
    pub fn clock(&self) -> &Clock {
        &self.shared.clock
    }

    /// The agents and queues: logins, pauses, states, statistics.
    pub fn acd(&self) -> &Acd {
        &self.shared.acd
    }

    /// The event stream: live subscribers, record subscribers, sinks.
    pub fn events(&self) -> &EventBus {
        &self.shared.events
    }

    /// The engine that runs decisions.
    pub fn engine(&self) -> Engine {
        self.shared.engine
    }

    /// The average handle time that estimates waits.
    pub fn aht_ms(&self) -> i64 {
        self.shared.aht_ms
    }

    /// How many calls are in progress.
    pub fn calls_in_progress(&self) -> usize {
        self.counts.active.load(Ordering::SeqCst) & !CLOSING
    }

    /// The switches' states, which supervisors flip and calls read as
    /// they arrive.
    pub fn switches(&self) -> &SwitchStates {
        &self.switches
    }

    /// Every call in progress, where it is now, in the order they arrived.
    pub fn calls(&self) -> Vec<LiveCall> {
        self.shared.live.calls()
    }

    /// The program new calls start with.
    pub fn program(&self) -> Arc<Program> {
        Arc::clone(&self.current.load().program)
    }

    /// The lookup tables new calls start with.
    pub fn tables(&self) -> Arc<LookupTables> {
        Arc::clone(&self.current.load().tables)
    }

    fn reloading(&self) -> std::sync::MutexGuard<'_, ()> {
        self.reloading.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Swaps in a new program with its lookup tables (and roster, if
    /// given): a script reload. The tables must fit the new program
    /// ([`LookupTables::check`]); to keep the rows a runtime has, pass
    /// [`Runtime::tables`], which fits as long as the lookup declarations
    /// did not change. Calls in progress keep their program and tables,
    /// but callers waiting in a queue the new program also has move to it
    /// ([`Acd::move_waiting`]); agents keep their states. On an error
    /// nothing changes.
    pub fn reload(
        &self,
        program: Arc<Program>,
        tables: Arc<LookupTables>,
        roster: Option<&Roster>,
    ) -> Result<(), ReloadError> {
        tables.check(program.checked())?;
        let _reloading = self.reloading();
        match roster {
            Some(r) => self.shared.acd.reload_roster(r, program.checked())?,
            None => {
                (self.shared.acd).reload_roster(&self.shared.acd.roster(), program.checked())?
            }
        }
        // Callers waiting in queues the new version also has move to it
        // (`acd::moving`); the old rows and code are freed when no call
        // holds them.
        self.shared.acd.move_waiting(&program, &tables);
        self.current.store(Arc::new(Current { program, tables }));
        Ok(())
    }

    /// Swaps in new lookup tables for the current program: a data reload,
    /// which compiles nothing. Tables read for other lookup declarations
    /// than the program's are refused and the old ones kept. Calls in
    /// progress keep the tables they started with.
    pub fn reload_data(&self, tables: Arc<LookupTables>) -> Result<(), DataMismatch> {
        let _reloading = self.reloading();
        let program = Arc::clone(&self.current.load().program);
        tables.check(program.checked())?;
        self.current.store(Arc::new(Current { program, tables }));
        Ok(())
    }

    /// Runs one call to its end and returns its summary (also handed to
    /// record subscribers and published as `Event::CallEnded`). After a
    /// shutdown began, the call is turned away at once.
    pub async fn run_call<C: Channel>(
        self: &Arc<Self>,
        channel: &mut C,
        arrival: Arrival,
    ) -> Arc<Summary> {
        // Counted in and told whether a shutdown began in one step: a call
        // either is turned away or is waited for.
        let id = self.counts.next_call.fetch_add(1, Ordering::Relaxed);
        let (mut active, closing) = Active::new(self);
        self.shared.start_timer();
        let current = self.current.load_full();
        let program = &current.program;
        // National numbers are read in the script's country; a withheld or
        // unreadable caller is empty (`caller withheld`).
        let country = program.checked().country;
        let info = Arc::new(CallInfo {
            id,
            caller: crate::number::normalize_in(&arrival.caller, country).unwrap_or_default(),
            dialed: crate::number::normalize_in(&arrival.dialed, country).unwrap_or(arrival.dialed),
            correlation: arrival.correlation,
            arrived: self.shared.clock.now(),
            arrived_ms: self.shared.clock.elapsed_ms(),
            program_version: program.version().cloned(),
            switches: self.switches.on_for(program.checked()),
        });
        let (signal, ticket) = self.signals.register();
        active.ticket = Some(ticket);
        self.shared.live.start(Arc::clone(&info));
        active.live = Some(id);
        let mut channel = cut::Cutting::new(channel, signal);
        let call = call::Call::new(&self.shared, &mut channel, info);
        // The call's state stays in the caller's future (kilobytes, which
        // spawning copies): boxing it saved the copies but cost a second
        // large allocation per call, slower on a multi-threaded runtime
        // (docs/performance.md, issue 10's fourth pass).
        if closing {
            call.turn_away().await
        } else {
            call.run(current).await
        }
    }

    /// Returns once no call is in progress.
    async fn all_ended(&self) {
        loop {
            let idle = self.idle.notified();
            tokio::pin!(idle);
            idle.as_mut().enable();
            if self.calls_in_progress() == 0 {
                return;
            }
            idle.await;
        }
    }

    /// Shuts the runtime down: new calls are turned away from now on,
    /// calls in progress may end by themselves for up to `grace_ms` on the
    /// runtime's clock, and those still going then are ended (hung up,
    /// out of their queues, their agents released; each with its record).
    /// Returns once every call has ended and every task of the runtime has
    /// stopped; record subscribers then reach the end of their streams.
    pub async fn shutdown(&self, grace_ms: i64) -> Shutdown {
        self.counts.active.fetch_or(CLOSING, Ordering::SeqCst);
        let ended = tokio::select! {
            () = self.all_ended() => true,
            () = self.shared.clock.sleep(grace_ms) => false,
        };
        let cut = if ended {
            0
        } else {
            let cut = self.calls_in_progress();
            self.signals.cut_all();
            self.all_ended().await;
            cut
        };
        self.shared.stop();
        self.shared.tasks.close();
        self.shared.tasks.wait().await;
        self.shared.events.close_records();
        Shutdown { cut }
    }
}
