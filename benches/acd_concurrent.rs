//! The ACD under real concurrency: calls through `Runtime::run_call` on a
//! multi-threaded tokio runtime (2 and 8 worker threads) on the wall
//! clock, 2,000 agents, 5,000 calls in flight, a channel whose agents
//! answer after a random (seeded) delay and talk for a random while, and a
//! task pausing, unpausing, logging out and in agents meanwhile.
//!
//! Prints, per configuration: calls per second; offer latency (from the
//! start of the ACD operation that made an offer, a caller joining or an
//! agent freeing up, to the offer sent: lock wait, matching and the
//! offer), p50 and p99; and how the ACD's lock behaved (how often it was
//! found taken, the time waited in all and at most, and that time as a
//! share of the worker threads' time), dispatches and full passes, agent
//! operations done, and how many agents' last published state is not
//! their state at the end (`stale`: events published out of order).
//!
//! Run: `cargo bench --features offer-latency --bench acd_concurrent`; record
//! results in docs/performance.md. Each configuration stops starting calls
//! after `--calls` calls or `LIMIT`, whichever comes first.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dialect::checked::{AgentState, RejectReason};
use dialect::program::Program;
use dialect::random::Rng;
use dialect::runtime::channel::{Announce, Collect, Collected, Ended, Rang, Ring, Target};
use dialect::runtime::{Arrival, Channel, Clock, Event, Roster, Runtime};

const AGENTS: usize = 2_000;
const IN_FLIGHT: usize = 5_000;
/// Wall time after which no call starts (calls in flight still end).
const LIMIT: Duration = Duration::from_secs(20);

/// What a run does: calls in all, and how long agents take to answer
/// (uniformly from 0) and talk (uniformly from 1 ms). Set with `--calls
/// N`, `--answer-ms N`, `--talk-ms N`; the defaults keep agents quick, so
/// that the runtime and the ACD, not the agents, limit the calls per
/// second.
#[derive(Clone, Copy)]
struct Load {
    calls: u64,
    answer_ms: u64,
    talk_ms: u64,
}

impl Load {
    fn from_args() -> Load {
        let args: Vec<String> = std::env::args().collect();
        let arg = |name: &str, default: u64| {
            args.iter()
                .position(|a| a == name)
                .and_then(|i| args.get(i + 1))
                .and_then(|v| v.parse().ok())
                .unwrap_or(default)
        };
        Load {
            calls: arg("--calls", 200_000),
            answer_ms: arg("--answer-ms", 2),
            talk_ms: arg("--talk-ms", 10).max(1),
        }
    }
}

/// Four queues, one per entry: a skill filter the indexes answer with a
/// `prefer`; a `best_score` queue whose filter runs on each candidate; an
/// enumerated skill with `fewest_calls`; and round robin over everyone.
const SCRIPT: &str = r#"
timezone "America/Chicago"
skill billing
skill tech
skill sales
skill language { english, spanish }
queue billing {
  strategy longest_idle
  require  billing >= 3
  prefer   sales >= 5
  ring     20s then next
}
queue tech {
  strategy best_score
  require  tech >= 2 and agent.calls_today < 100000
  score    tech * 10 + agent.idle_minutes
  ring     20s then next
}
queue spanish {
  strategy fewest_calls
  require  language == spanish
  ring     20s then next
}
queue general { strategy round_robin; ring 20s then next }
entry "+18005550100" -> queue billing
entry "+18005550101" -> queue tech
entry "+18005550102" -> queue spanish
entry "+18005550103" -> queue general
"#;

const DIALED: [&str; 4] = [
    "+18005550100",
    "+18005550101",
    "+18005550102",
    "+18005550103",
];

/// 2,000 agents with skills from a fixed sequence.
fn roster() -> String {
    let mut rng = Rng::new(0x2545_F491_4F6C_DD1D);
    let mut s = String::new();
    for i in 0..AGENTS {
        let language = if rng.below(4) == 0 {
            r#"["english", "spanish"]"#
        } else {
            r#""english""#
        };
        s.push_str(&format!(
            "[[agent]]\nid = \"a{i}\"\nskills = {{ billing = {}, tech = {}, sales = {}, language = {language} }}\n",
            rng.below(11),
            rng.below(11),
            rng.below(11),
        ));
    }
    s
}

/// A caller who waits as long as it takes, and agents who answer after a
/// random delay and talk for a random while, on the wall clock.
struct Caller {
    rng: Rng,
    load: Load,
}

impl Channel for Caller {
    async fn answer(&mut self) -> bool {
        true
    }
    async fn play(&mut self, _prompt: &str) -> bool {
        true
    }
    async fn collect(&mut self, _request: &Collect) -> Collected {
        Collected::Timeout
    }
    async fn ring(&mut self, _targets: &[Target], _ring: Ring) -> Rang {
        let ms = self.rng.below(self.load.answer_ms as usize + 1) as u64;
        tokio::time::sleep(Duration::from_millis(ms)).await;
        Rang::Answered(0)
    }
    async fn bridge(&mut self, _target: &Target, _whisper: Option<&str>, _record: bool) -> Ended {
        let ms = 1 + self.rng.below(self.load.talk_ms as usize) as u64;
        tokio::time::sleep(Duration::from_millis(ms)).await;
        Ended::Other
    }
    async fn announce(&mut self, _what: &Announce) -> bool {
        true
    }
    async fn hold(&mut self, _music: Option<&str>, ms: i64) -> bool {
        tokio::time::sleep(Duration::from_millis(ms.max(0) as u64)).await;
        true
    }
    async fn voicemail(&mut self, _mailbox: &str) -> Option<String> {
        None
    }
    async fn transfer(&mut self, _number: &str) -> bool {
        false
    }
    async fn reject(&mut self, _reason: RejectReason) {}
    async fn hangup(&mut self) {}
}

/// One configuration's figures.
struct Figures {
    threads: usize,
    calls: u64,
    secs: f64,
    offer_p50_ns: u64,
    offer_p99_ns: u64,
    acquired: u64,
    contended: u64,
    wait_ns: u64,
    max_wait_ns: u64,
    dispatches: u64,
    full_passes: u64,
    agent_ops: u64,
    stale: usize,
}

fn run(threads: usize, load: Load) -> Figures {
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_time()
        .build()
        .expect("a tokio runtime");
    let program = Arc::new(Program::from_text(SCRIPT).expect("the script compiles"));
    let roster = Roster::parse(&roster()).expect("roster");
    tokio.block_on(async move {
        let rt = Runtime::builder(program, &roster)
            .clock(Clock::wall())
            .build()
            .expect("runtime");
        // Each agent's last state as the event stream tells it, in the
        // order events were published.
        let told: Arc<Mutex<HashMap<String, AgentState>>> = Arc::default();
        {
            let told = Arc::clone(&told);
            rt.events().sink(Box::new(move |e| {
                if let Event::AgentState { agent, state, .. } = e {
                    told.lock()
                        .expect("the sink's map")
                        .insert(agent.clone(), *state);
                }
            }));
        }
        for a in &roster.agents {
            rt.acd().login(&a.id).expect("login");
        }
        let started = Instant::now();
        let begun = Arc::new(AtomicU64::new(0));
        let done = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        // Agents take 50 ms breaks (one a millisecond), and one in ten
        // logs out for 100 ms now and then (one every 5 ms).
        let ops = {
            let (rt, stop) = (Arc::clone(&rt), Arc::clone(&stop));
            tokio::spawn(async move {
                let mut rng = Rng::new(0x9E37_79B9_7F4A_7C15);
                let mut on_break: VecDeque<(Instant, String)> = VecDeque::new();
                let mut away: VecDeque<(Instant, String)> = VecDeque::new();
                let mut n = 0u64;
                let mut tick = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    tick += 1;
                    let now = Instant::now();
                    // Most agents are busy: try a few for one who is free.
                    for _ in 0..20 {
                        let id = format!("a{}", rng.below(AGENTS));
                        if rt.acd().pause(&id).is_ok() {
                            on_break.push_back((now + Duration::from_millis(50), id));
                            n += 1;
                            break;
                        }
                    }
                    if tick.is_multiple_of(5) {
                        for _ in 0..20 {
                            let id = format!("a{}", rng.below(AGENTS / 10));
                            if rt.acd().logout(&id).is_ok() {
                                away.push_back((now + Duration::from_millis(100), id));
                                n += 1;
                                break;
                            }
                        }
                    }
                    while on_break.front().is_some_and(|(at, _)| *at <= now) {
                        let (_, id) = on_break.pop_front().expect("a break");
                        n += u64::from(rt.acd().unpause(&id).is_ok());
                    }
                    while away.front().is_some_and(|(at, _)| *at <= now) {
                        let (_, id) = away.pop_front().expect("an absence");
                        n += u64::from(rt.acd().login(&id).is_ok());
                    }
                }
                n
            })
        };
        let mut callers = Vec::with_capacity(IN_FLIGHT);
        for c in 0..IN_FLIGHT {
            let (rt, begun, done) = (Arc::clone(&rt), Arc::clone(&begun), Arc::clone(&done));
            callers.push(tokio::spawn(async move {
                let mut caller = Caller {
                    rng: Rng::new(0x2545_F491_4F6C_DD1D ^ ((c as u64 + 1) * 0x9E37_79B9)),
                    load,
                };
                while begun.fetch_add(1, Ordering::Relaxed) < load.calls
                    && started.elapsed() < LIMIT
                {
                    let dialed = DIALED[caller.rng.below(DIALED.len())];
                    rt.run_call(&mut caller, Arrival::new("+15125550101", dialed))
                        .await;
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }));
        }
        for c in callers {
            c.await.expect("a caller");
        }
        let secs = started.elapsed().as_secs_f64();
        stop.store(true, Ordering::Relaxed);
        let agent_ops = ops.await.expect("the agents' task");
        // Every call ended: nobody waits, and no agent is left ringing or
        // on a call.
        assert_eq!(rt.acd().waiting(), 0, "callers left in line");
        let busy = (rt.acd().states().into_iter())
            .filter(|(_, s)| matches!(s, AgentState::Ringing | AgentState::OnCall))
            .count();
        assert_eq!(busy, 0, "agents left ringing or on a call");
        // Agents whose last published state is not their state.
        let told = told.lock().expect("the sink's map");
        let stale = (rt.acd().states().into_iter())
            .filter(|(id, s)| told.get(id) != Some(s))
            .count();
        let lock = rt.acd().contention();
        Figures {
            threads,
            calls: done.load(Ordering::Relaxed),
            secs,
            offer_p50_ns: lock.offer_percentile_ns(0.50).unwrap_or(0),
            offer_p99_ns: lock.offer_percentile_ns(0.99).unwrap_or(0),
            acquired: lock.acquired,
            contended: lock.contended,
            wait_ns: lock.wait_ns,
            max_wait_ns: lock.max_wait_ns,
            dispatches: lock.dispatches,
            full_passes: lock.full_passes,
            agent_ops,
            stale,
        }
    })
}

fn main() {
    let load = Load::from_args();
    println!(
        "{AGENTS} agents, {IN_FLIGHT} calls in flight, up to {} calls or {}s per run; agents answer in 0-{} ms and talk 1-{} ms",
        load.calls,
        LIMIT.as_secs(),
        load.answer_ms,
        load.talk_ms
    );
    println!(
        "{:>7} {:>7} {:>7} {:>9} {:>10} {:>10} {:>10} {:>9} {:>10} {:>10} {:>8} {:>9} {:>6} {:>7} {:>6}",
        "threads",
        "calls",
        "secs",
        "calls/s",
        "offer p50",
        "offer p99",
        "locks",
        "contended",
        "wait all",
        "wait max",
        "wait %",
        "dispatches",
        "full",
        "ops",
        "stale"
    );
    let us = |ns: u64| format!("{:.1}µs", ns as f64 / 1_000.0);
    for threads in [2, 8] {
        let f = run(threads, load);
        println!(
            "{:>7} {:>7} {:>7.2} {:>9.0} {:>10} {:>10} {:>10} {:>8.2}% {:>10} {:>10} {:>7.2}% {:>9} {:>6} {:>7} {:>6}",
            f.threads,
            f.calls,
            f.secs,
            f.calls as f64 / f.secs,
            us(f.offer_p50_ns),
            us(f.offer_p99_ns),
            f.acquired,
            100.0 * f.contended as f64 / f.acquired.max(1) as f64,
            format!("{:.1}ms", f.wait_ns as f64 / 1e6),
            us(f.max_wait_ns),
            100.0 * f.wait_ns as f64 / (f.secs * 1e9 * f.threads as f64),
            f.dispatches,
            f.full_passes,
            f.agent_ops,
            f.stale,
        );
    }
}
