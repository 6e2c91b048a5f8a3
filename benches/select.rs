//! Agent selection: what it costs the ACD to match one arriving caller
//! with an agent among 10,000 available ones, through `Acd::enqueue` (the
//! caller joins the line, `dispatch` runs the queue's `require`, `prefer`
//! and `score` over the candidates and sends the offer). The offered agent
//! is released after each selection, outside the timing.
//!
//! The ACD reads tokio's clock, paused here: a second passes between
//! selections, moved on outside the timing.
//!
//! Criterion gives mean and median; a second pass times 100,000 selections
//! one by one and prints p50, p99 and p99.9, since the target is a p99.
//!
//! Run: `cargo bench --features bench --bench select`; record results in docs/performance.md.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use dialect::checked::QueueId;
use dialect::facts::Facts;
use dialect::program::Program;
use dialect::runtime::acd::{Turn, Waiter};
use dialect::runtime::{CallInfo, Clock, Roster, Runtime};
use tokio::sync::oneshot;

const AGENTS: usize = 10_000;

/// Levelled skills; each agent holds `HELD` of them.
const LEVELLED: [&str; 12] = [
    "billing",
    "tech",
    "sales",
    "retention",
    "claims",
    "fraud",
    "travel",
    "loans",
    "cards",
    "mortgage",
    "business",
    "premium",
];
const HELD: usize = 3;

/// Values of the enumerated skill, and how many agents in 100 speak each.
const LANGUAGES: [(&str, u64); 5] = [
    ("english", 70),
    ("spanish", 25),
    ("french", 10),
    ("german", 5),
    ("chinese", 5),
];

/// Queues over the same filter: `best_score` with a `score` and a `prefer`
/// (the target); the same with a `prefer` of two skills joined by `or`
/// (twice the preferred candidates); `longest_idle` with the first
/// `prefer`; and a `best_score` queue whose `require` no skill index can
/// narrow (every available agent is a candidate).
fn script() -> String {
    let mut s = String::from("timezone \"America/Chicago\"\n");
    for skill in LEVELLED {
        s.push_str(&format!("skill {skill}\n"));
    }
    let values: Vec<&str> = LANGUAGES.iter().map(|l| l.0).collect();
    s.push_str(&format!("skill language {{ {} }}\n", values.join(", ")));
    s.push_str(
        r#"
queue best {
  strategy best_score
  require  billing >= 3 and language == spanish
  prefer   sales >= 5
  score    billing * 10 + agent.idle_minutes
  ring     20s then next
}
queue best_or {
  strategy best_score
  require  billing >= 3 and language == spanish
  prefer   sales >= 5 or premium >= 5
  score    billing * 10 + agent.idle_minutes
  ring     20s then next
}
queue idle {
  strategy longest_idle
  require  billing >= 3 and language == spanish
  prefer   sales >= 5
  ring     20s then next
}
queue everyone {
  strategy best_score
  require  agent.calls_today < 1000
  prefer   sales >= 5
  score    agent.idle_minutes * 100 - agent.calls_today
  ring     20s then next
}
route inbound { otherwise -> queue best }
entry "+18005550100" -> route inbound
"#,
    );
    s
}

/// 10,000 agents with skills from a fixed pseudo-random sequence.
fn roster() -> String {
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut s = String::new();
    for i in 0..AGENTS {
        let mut skills: Vec<String> = Vec::new();
        let mut held: Vec<usize> = Vec::new();
        while held.len() < HELD {
            let k = (next() % LEVELLED.len() as u64) as usize;
            if !held.contains(&k) {
                held.push(k);
                skills.push(format!("{} = {}", LEVELLED[k], 1 + next() % 10));
            }
        }
        let mut spoken: Vec<String> = LANGUAGES
            .iter()
            .filter(|(_, per_100)| next() % 100 < *per_100)
            .map(|(l, _)| format!("\"{l}\""))
            .collect();
        if spoken.is_empty() {
            spoken.push("\"english\"".into());
        }
        skills.push(format!("language = [{}]", spoken.join(", ")));
        s.push_str(&format!(
            "[[agent]]\nid = \"a{i}\"\nskills = {{ {} }}\n",
            skills.join(", ")
        ));
    }
    s
}

struct Bench {
    /// A paused clock for the ACD to read, entered by the caller.
    tokio: Arc<tokio::runtime::Runtime>,
    rt: Arc<Runtime>,
    program: Arc<Program>,
    facts: Facts,
    call: u64,
}

impl Bench {
    /// A bench on `tokio`'s paused clock, which the caller has entered.
    fn new(tokio: Arc<tokio::runtime::Runtime>) -> Bench {
        let program = Arc::new(Program::from_text(&script()).expect("the script compiles"));
        let roster = Roster::parse(&roster()).expect("roster");
        let clock = Clock::starting_at("2026-11-23T16:00:00Z".parse().expect("instant"));
        let rt = Runtime::builder(Arc::clone(&program), &roster)
            .clock(clock)
            .build()
            .expect("runtime");
        for a in &roster.agents {
            rt.acd().login(&a.id).expect("login");
        }
        // How selective the filters are, for the record.
        let skill = |name: &str| {
            let skills = &program.checked().skills;
            skills.iter().position(|s| s.name == name).expect("skill")
        };
        let (billing, sales, language) = (skill("billing"), skill("sales"), skill("language"));
        let agents = rt.acd().agents();
        let eligible: Vec<_> = agents
            .iter()
            .filter(|a| a.skills[billing] >= 3 && a.skills[language] & 0b10 != 0)
            .collect();
        let preferred = eligible.iter().filter(|a| a.skills[sales] >= 5).count();
        println!(
            "{} agents available; {} pass `billing >= 3 and language == spanish`, {preferred} of them preferred",
            agents.len(),
            eligible.len()
        );
        let mut facts = Facts::new(&program.ir().layout);
        facts.caller = "+15125550101".into();
        facts.dialed = "+18005550100".into();
        // An hour in, so idle minutes differ between agents.
        tokio.block_on(tokio::time::advance(Duration::from_secs(3_600)));
        Bench {
            tokio,
            rt,
            program,
            facts,
            call: 0,
        }
    }

    fn queue(&self, name: &str) -> QueueId {
        let i = self
            .program
            .checked()
            .queues
            .iter()
            .position(|q| q.name == name)
            .expect("queue");
        QueueId(i as u32)
    }

    /// A caller for `queue`, ready to join the line.
    fn caller(&mut self, queue: QueueId) -> (Waiter, oneshot::Receiver<Turn>) {
        let (tx, rx) = oneshot::channel();
        self.call += 1;
        let waiter = Waiter {
            call: Arc::new(CallInfo {
                id: self.call,
                caller: String::new(),
                dialed: String::new(),
                correlation: None,
                arrived: jiff::Timestamp::UNIX_EPOCH,
                arrived_ms: self.rt.clock().elapsed_ms(),
                program_version: None,
                switches: Vec::new(),
            }),
            since_ms: self.rt.clock().elapsed_ms(),
            queue_name: self.program.checked().queue(queue).name.clone(),
            queue,
            priority: 0,
            program: Arc::clone(&self.program),
            facts: self.facts.clone(),
            require: self.program.ir().queues[queue.index()].require,
            offer: tx,
            passed_over: Vec::new(),
        };
        (waiter, rx)
    }

    /// One selection, timed: the caller joins the line and is offered an
    /// agent. The agent is released afterwards, untimed.
    fn select(&mut self, queue: QueueId) -> Duration {
        let (waiter, mut rx) = self.caller(queue);
        (self.tokio).block_on(tokio::time::advance(Duration::from_secs(1)));
        let start = Instant::now();
        self.rt.acd().enqueue(black_box(waiter), None);
        let took = start.elapsed();
        let Ok(Turn::Offer(offer)) = rx.try_recv() else {
            panic!("an agent was offered");
        };
        self.rt.acd().not_answered(&offer, false, None);
        took
    }
}

/// p50, p99 and p99.9 of 100,000 selections timed one by one.
fn percentiles(b: &mut Bench, name: &str, queue: QueueId) {
    const N: usize = 100_000;
    let mut samples: Vec<Duration> = (0..N).map(|_| b.select(queue)).collect();
    samples.sort();
    let at = |p: f64| samples[((N as f64 * p) as usize).min(N - 1)];
    let mean = samples.iter().sum::<Duration>() / N as u32;
    println!(
        "select/{name}: {N} selections, mean {:.2?}, p50 {:.2?}, p99 {:.2?}, p99.9 {:.2?}, max {:.2?}",
        mean,
        at(0.50),
        at(0.99),
        at(0.999),
        samples[N - 1]
    );
}

fn bench(c: &mut Criterion) {
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a tokio runtime");
    let tokio = Arc::new(tokio);
    // The clock reads tokio's paused time inside the runtime's context.
    let _context = tokio.enter();
    let mut b = Bench::new(Arc::clone(&tokio));
    let queues = [
        ("best_score", b.queue("best")),
        ("best_score_prefer_or", b.queue("best_or")),
        ("longest_idle", b.queue("idle")),
        ("unfiltered_best_score", b.queue("everyone")),
    ];
    let mut group = c.benchmark_group("select");
    for (name, queue) in queues {
        group.bench_function(name, |bencher| {
            bencher.iter_custom(|iters| (0..iters).map(|_| b.select(queue)).sum());
        });
    }
    group.finish();
    for (name, queue) in queues {
        percentiles(&mut b, name, queue);
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
