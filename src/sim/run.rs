//! Plays a traffic model through the real call runtime on tokio's paused
//! clock: a day of calls runs in as long as the decisions and bookkeeping
//! take. Callers arrive as Poisson processes (thinned for the time-of-day
//! profile), agents log in and out with their shifts, and the runtime's
//! event stream is folded into figures as it goes.
//!
//! **Determinism:** every random draw happens in one task, in arrival
//! order, from a seeded generator; the runtime is single-threaded and its
//! `select!`s are biased. The same seed gives the same report.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;
use tokio::sync::mpsc::UnboundedSender;

use crate::lookup::{DataMismatch, LookupTables};
use crate::program::{Engine, Program};
use crate::random::Rng;
use crate::runtime::{Arrival, Clock, Event, Roster, RosterError, Runtime, Summary};
use crate::sim::caller::{Behaviour, SimCaller};
use crate::sim::stats::{Report, Stats};
use crate::sim::traffic::{Stream, Traffic};

/// How to run a simulation.
#[derive(Clone, Debug)]
pub struct Options {
    pub seed: u64,
    pub engine: Engine,
    /// After arrivals stop, how long calls in progress may take to end.
    pub drain_ms: i64,
    /// The lookup rows calls read; `None` for none. They must fit the
    /// program.
    pub tables: Option<Arc<LookupTables>>,
    /// Where each call's record goes as the call ends. The channel never
    /// waits: a writer that fell behind must not hold the simulated clock,
    /// which moves on whenever every call waits.
    pub records: Option<UnboundedSender<Arc<Summary>>>,
    /// The switches on for the whole run (the others are off).
    pub switches: Vec<String>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            seed: 1,
            engine: Engine::Jit,
            drain_ms: 4 * 3_600_000,
            tables: None,
            records: None,
            switches: Vec::new(),
        }
    }
}

/// Where a run is, for progress bars.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    /// Simulated time reached, ms.
    pub at_ms: i64,
    pub calls: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error(transparent)]
    Roster(#[from] RosterError),
    #[error(transparent)]
    Data(#[from] DataMismatch),
    #[error("cannot start the simulator: {0}")]
    Start(String),
}

/// Runs the traffic against the program and roster.
pub fn simulate(
    program: Arc<Program>,
    roster: &Roster,
    traffic: &Traffic,
    options: &Options,
    progress: &mut dyn FnMut(Progress),
) -> Result<Report, SimError> {
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .map_err(|e| SimError::Start(e.to_string()))?;
    tokio.block_on(run(program, roster, traffic, options, progress))
}

async fn run(
    program: Arc<Program>,
    roster: &Roster,
    traffic: &Traffic,
    options: &Options,
    progress: &mut dyn FnMut(Progress),
) -> Result<Report, SimError> {
    let clock = Clock::starting_at(traffic.start_instant);
    let rt = Runtime::builder(Arc::clone(&program), roster)
        .clock(clock.clone())
        .engine(options.engine)
        .build()?;
    if let Some(tables) = &options.tables {
        rt.reload_data(Arc::clone(tables))?;
    }
    for name in &options.switches {
        let flip = crate::runtime::Flip {
            on: true,
            at: traffic.start_instant,
            by: "simulate".into(),
        };
        rt.switches().set(name, flip);
    }
    let queues = program
        .checked()
        .queues
        .iter()
        .map(|q| (q.name.clone(), q.wrapup_ms))
        .collect();
    let stats = Stats::new(
        queues,
        traffic.length_ms,
        traffic.interval_ms,
        traffic.service_level_ms,
    );
    let stats = collect(&rt, stats);
    if let Some(records) = options.records.clone() {
        rt.events().sink(Box::new(move |event| {
            if let Event::CallEnded(summary) = event {
                // An error only means that nobody reads the records now.
                let _ = records.send(Arc::clone(summary));
            }
        }));
    }

    for agent in &roster.agents {
        let spans = traffic
            .shifts
            .get(&agent.id)
            .cloned()
            .unwrap_or_else(|| vec![(0, i64::MAX)]);
        tokio::spawn(work_shifts(Arc::clone(&rt), agent.id.clone(), spans));
    }
    // Let agents log in before the first caller.
    tokio::task::yield_now().await;

    let active = Arc::new(AtomicU64::new(0));
    let idle = Arc::new(Notify::new());
    let mut rng = Rng::new(options.seed);
    let mut arrivals: Vec<Arrivals> = traffic
        .streams
        .iter()
        .enumerate()
        .map(|(i, s)| Arrivals::new(i, s, rng.fork()))
        .collect();
    for a in arrivals.iter_mut() {
        a.advance(traffic);
    }
    let mut calls = 0u64;
    let mut reported_at = 0i64;
    while let Some((k, at)) = arrivals
        .iter()
        .enumerate()
        .map(|(k, a)| (k, a.next_ms))
        .min_by(|a, b| a.1.total_cmp(&b.1))
    {
        if at >= traffic.length_ms as f64 {
            break;
        }
        let at = at.round() as i64;
        clock.sleep(at - clock.elapsed_ms()).await;
        let stream = &traffic.streams[k];
        let a = &mut arrivals[k];
        let behaviour = Behaviour {
            presses: Default::default(),
            keys: Some(Arc::clone(&stream.keys)),
            rng: a.rng.fork(),
            patience_ms: stream.patience.map(|p| p.draw(&mut a.rng)),
            answer_ms: traffic.answer_ms,
            unanswering: Vec::new(),
            talk_ms: stream.talk.draw(&mut a.rng),
            keying: stream.keying,
        };
        let from = if stream.from.is_empty() {
            String::new()
        } else {
            stream.from[a.rng.below(stream.from.len())].clone()
        };
        a.advance(traffic);
        active.fetch_add(1, Ordering::SeqCst);
        calls += 1;
        // Boxed: a call's future is kilobytes, and spawning moves it by
        // value several times; behind a box it is written once. On this
        // one thread the box is freed where it was made, so the second
        // allocation costs little (unlike on a multi-threaded runtime,
        // docs/performance.md, issue 10's fourth pass).
        tokio::spawn(Box::pin(call(
            Arc::clone(&rt),
            behaviour,
            from,
            stream.to.clone(),
            Arc::clone(&active),
            Arc::clone(&idle),
        )));
        if at - reported_at >= 60_000 {
            reported_at = at;
            progress(Progress { at_ms: at, calls });
        }
    }
    // Arrivals are over; let the calls in progress end.
    let deadline = traffic.length_ms + options.drain_ms;
    clock.sleep(traffic.length_ms - clock.elapsed_ms()).await;
    while active.load(Ordering::SeqCst) > 0 && clock.elapsed_ms() < deadline {
        tokio::select! {
            biased;
            _ = idle.notified() => {}
            _ = clock.sleep(deadline - clock.elapsed_ms()) => {}
        }
    }
    progress(Progress {
        at_ms: traffic.length_ms,
        calls,
    });
    let end_ms = clock.elapsed_ms();
    // Calls cut off by the drain limit still hold the runtime; the
    // statistics are taken out of the shared cell.
    let stats = stats
        .lock()
        .map_err(|_| SimError::Start("the statistics were poisoned".into()))?
        .take()
        .ok_or_else(|| SimError::Start("the statistics were taken twice".into()))?;
    let zone = &program.checked().zones[0];
    let label = |i: usize| {
        traffic
            .start_instant
            .checked_add(jiff::SignedDuration::from_millis(
                i as i64 * traffic.interval_ms,
            ))
            .map(|t| {
                t.to_zoned(zone.tz.clone())
                    .strftime("%Y-%m-%d %H:%M")
                    .to_string()
            })
            .unwrap_or_default()
    };
    let header = Report {
        seed: options.seed,
        start: traffic.start.strftime("%Y-%m-%d %H:%M").to_string(),
        zone: zone.name.clone(),
        length_s: traffic.length_ms / 1000,
        interval_s: traffic.interval_ms / 1000,
        service_level_s: traffic.service_level_ms / 1000,
        calls: 0,
        dispositions: Vec::new(),
        unfinished: 0,
        intervals: Vec::new(),
        totals: Vec::new(),
    };
    Ok(stats.finish(end_ms, label, header))
}

/// Folds the runtime's events into `stats` as they are published.
fn collect(rt: &Runtime, stats: Stats) -> Arc<Mutex<Option<Stats>>> {
    let stats = Arc::new(Mutex::new(Some(stats)));
    let sink = Arc::clone(&stats);
    rt.events().sink(Box::new(move |event| {
        if let Ok(mut s) = sink.lock()
            && let Some(s) = s.as_mut()
        {
            s.add(event);
        }
    }));
    stats
}

/// One simulated call, start to end.
async fn call(
    rt: Arc<Runtime>,
    behaviour: Behaviour,
    from: String,
    to: String,
    active: Arc<AtomicU64>,
    idle: Arc<Notify>,
) {
    let mut caller = SimCaller::new(rt.clock().clone(), behaviour);
    caller.logging = false;
    rt.run_call(&mut caller, Arrival::new(from, to)).await;
    if active.fetch_sub(1, Ordering::SeqCst) == 1 {
        idle.notify_one();
    }
}

/// An agent's working day: logs in and out at the shift times. An agent
/// still on a call at the end of a shift logs out once it is over.
async fn work_shifts(rt: Arc<Runtime>, id: String, spans: Vec<(i64, i64)>) {
    for (login, logout) in spans {
        rt.clock().sleep(login - rt.clock().elapsed_ms()).await;
        let _ = rt.acd().login(&id);
        if logout == i64::MAX {
            return;
        }
        rt.clock().sleep(logout - rt.clock().elapsed_ms()).await;
        while rt.acd().logout(&id).is_err() {
            rt.clock().sleep(5_000).await;
        }
    }
}

/// The arrival process of one stream: Poisson with the stream's peak
/// rate, thinned by the time-of-day profile.
struct Arrivals {
    rng: Rng,
    /// Mean gap between candidate arrivals at the peak rate, ms.
    gap_ms: f64,
    max_factor: f64,
    /// Index into the traffic's streams.
    stream: usize,
    next_ms: f64,
}

impl Arrivals {
    fn new(index: usize, stream: &Stream, rng: Rng) -> Arrivals {
        let max_factor = stream.max_factor();
        Arrivals {
            rng,
            gap_ms: 3_600_000.0 / (stream.per_hour * max_factor),
            max_factor,
            stream: index,
            next_ms: 0.0,
        }
    }

    /// Moves `next_ms` to the next arrival (or past the end).
    fn advance(&mut self, traffic: &Traffic) {
        if self.max_factor <= 0.0 {
            self.next_ms = f64::INFINITY;
            return;
        }
        loop {
            self.next_ms += self.rng.exponential(self.gap_ms);
            if self.next_ms >= traffic.length_ms as f64 {
                return;
            }
            let factor =
                traffic.streams[self.stream].factor(traffic.time_of_day(self.next_ms as i64));
            if self.rng.uniform() * self.max_factor < factor {
                return;
            }
        }
    }
}
