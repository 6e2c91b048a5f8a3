//! Model-based property tests of the ACD: random interleavings of calls to
//! queues of every strategy and presentation, agents answering or letting
//! offers ring out, callers hanging up at any moment, agents logging in and
//! out and pausing, roster reloads and program reloads, all on tokio's
//! paused clock. A model fed by the event stream, the ACD's own states and
//! what each caller's channel saw are checked against the invariants an
//! ACD must keep:
//!
//! - an agent is offered (or rung) for one call at a time, and only when
//!   available and eligible for the caller's queue;
//! - no caller waits while an agent who could take the call is available;
//!   for a filter that time alone makes true (`agent.idle_minutes`), not
//!   longer than a minute after it holds, with nothing else happening;
//! - every call that arrives ends with exactly one summary;
//! - a caller of a queue with `no agents` waits only while an agent who
//!   could take the call is logged in (in any state), and leaves the line
//!   for `no agents` only when none is;
//! - once calls are over and wrap-ups have run out, nobody is ringing, on
//!   a call or in wrap-up, and nobody waits; a wrap-up lasts its time.
//!
//! The deterministic tests at the end replay bugs these properties found.
//! `ACD_MODEL_TRACE=1` prints every event a run publishes.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::Config;

use dialect::checked::{AgentState, RejectReason};
use dialect::lookup::LookupTables;
use dialect::program::{Engine, Program};
use dialect::runtime::channel::{Announce, Channel, Collect, Collected, Ended, Rang, Ring, Target};
use dialect::runtime::{Arrival, Clock, Disposition, Event, Roster, Runtime, Summary};
use dialect::sim::{Behaviour, SimCaller};

// ------------------------------------------------------------ scripts ----

/// One queue per strategy and presentation, with wrap-ups, relaxation,
/// overflow (into another queue and to voicemail), `no agents`, auto-pause,
/// announcements, priorities, a hunt group and an extension. `SKILLS` and
/// `RING` vary between the two program variants.
const SCRIPT: &str = r#"
timezone "America/Chicago"
SKILLS
queue everyone { strategy ring_all; ring all 15s; wrapup 5s }
queue billing {
  strategy longest_idle
  require  billing >= 3
  prefer   language == spanish
  ring     RING then next
  wrapup   10s
  after 30s require billing >= 1
  after 2m -> voicemail "billing"
  pause after 2 misses
}
queue rotation {
  strategy round_robin
  require  billing != 1
  ring     8s then next
  announce position, wait every 20s
}
queue fewest {
  strategy fewest_calls
  require  language in [english, spanish] and billing > 1
  ring     all 12s
  wrapup   4s
}
queue linear { strategy linear; auto answer; wrapup 3s }
queue spanish {
  strategy random
  require  language == spanish
  ring     RING then next
  no agents -> voicemail "es"
}
queue best {
  strategy best_score
  require  billing >= 1
  score    billing * 10 + agent.idle_minutes
  prefer   language == english or billing >= 3
  ring     RING then next
  wrapup   7s
}
queue talk {
  strategy least_talk_time
  prefer   billing != 1
  ring     9s then next
  after 45s -> queue everyone
}
queue rested {
  strategy longest_idle
  require  billing >= 1 and agent.idle_minutes >= 1
  ring     RING then next
  after 3m -> voicemail "rested"
}
group desk { members 2001, 2002, 2999; mode simultaneous 10s; then -> voicemail "desk" }
entry "+18005550101" -> queue everyone
entry "+18005550102" -> queue billing
entry "+18005550103" -> queue billing priority 5
entry "+18005550104" -> queue rotation
entry "+18005550105" -> queue fewest
entry "+18005550106" -> queue linear
entry "+18005550107" -> queue spanish
entry "+18005550108" -> queue best
entry "+18005550109" -> queue talk
entry "+18005550110" -> group desk
entry "+18005550111" -> extension 2003
entry "+18005550112" -> queue rested
"#;

/// The numbers callers dial, one per entry.
const ENTRIES: [&str; 12] = [
    "+18005550101",
    "+18005550102",
    "+18005550103",
    "+18005550104",
    "+18005550105",
    "+18005550106",
    "+18005550107",
    "+18005550108",
    "+18005550109",
    "+18005550110",
    "+18005550111",
    "+18005550112",
];

/// Wrap-up per queue, as the script says.
fn wrapup_ms(queue: &str) -> i64 {
    match queue {
        "everyone" => 5_000,
        "billing" => 10_000,
        "fewest" => 4_000,
        "linear" => 3_000,
        "best" => 7_000,
        _ => 0,
    }
}

const LONGEST_WRAPUP_MS: i64 = 10_000;

/// When `billing` relaxes its `require`.
const BILLING_RELAXES_MS: i64 = 30_000;

/// Whether `queue` has `no agents ->` in the script.
fn has_no_agents(queue: &str) -> bool {
    queue == "spanish"
}

/// Whether an agent may take a call of `queue`: the script's `require`
/// (relaxed or not) in Rust, for an agent idle for `idle_ms`.
fn eligible(queue: &str, relaxed: bool, skills: &Skills, idle_ms: i64) -> bool {
    match queue {
        "rested" => skills.billing >= 1 && idle_ms >= 60_000,
        "billing" if !relaxed => skills.billing >= 3,
        "billing" | "best" => skills.billing >= 1,
        "spanish" => skills.spanish,
        "fewest" => (skills.english || skills.spanish) && skills.billing > 1,
        "rotation" => skills.billing != 1,
        _ => true,
    }
}

/// When a queue's callers overflow out of it.
fn overflow_ms(queue: &str) -> Option<i64> {
    match queue {
        "billing" => Some(120_000),
        "talk" => Some(45_000),
        "rested" => Some(180_000),
        _ => None,
    }
}

/// Program variants: the second declares its skills in another order,
/// with one more, so skill ids differ between them, and rings longer.
fn programs() -> &'static [Arc<Program>; 2] {
    static PROGRAMS: OnceLock<[Arc<Program>; 2]> = OnceLock::new();
    PROGRAMS.get_or_init(|| {
        [
            compile("skill billing\nskill language { english, spanish }", "10s"),
            compile(
                "skill tech\nskill language { english, spanish }\nskill billing",
                "12s",
            ),
        ]
    })
}

fn compile(skills: &str, ring: &str) -> Arc<Program> {
    let text = SCRIPT.replace("SKILLS", skills).replace("RING", ring);
    Arc::new(Program::from_text(&text).expect("the script compiles"))
}

// ------------------------------------------------------------ rosters ----

/// Every agent any roster has: id, extension.
const AGENTS: [(&str, &str); 6] = [
    ("ana", "2001"),
    ("bob", "2002"),
    ("cy", "2003"),
    ("dee", "2004"),
    ("eve", "2005"),
    ("fay", "2006"),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Skills {
    billing: i64,
    english: bool,
    spanish: bool,
}

/// Roster variants: agents in different orders, some missing, skills
/// changed. (id, billing, english, spanish), in roster order.
const ROSTERS: [&[(&str, i64, bool, bool)]; 3] = [
    &[
        ("ana", 5, true, true),
        ("bob", 1, true, false),
        ("cy", 3, false, true),
        ("dee", 0, false, false),
        ("eve", 8, true, false),
        ("fay", 2, false, true),
    ],
    &[
        ("fay", 2, false, true),
        ("eve", 8, true, false),
        ("dee", 4, true, true),
        ("bob", 4, true, false),
        ("ana", 2, false, true),
    ],
    &[
        ("bob", 1, true, true),
        ("dee", 0, false, false),
        ("ana", 5, true, true),
        ("cy", 6, false, true),
        ("fay", 6, true, false),
    ],
];

/// A roster variant, and its agents' skills in roster order.
fn roster(variant: usize) -> (Roster, Vec<(String, Skills)>) {
    let mut text = String::new();
    let mut skills = Vec::new();
    for &(id, billing, english, spanish) in ROSTERS[variant] {
        let extension = AGENTS.iter().find(|a| a.0 == id).expect("agent").1;
        let languages: Vec<&str> = [(english, "\"english\""), (spanish, "\"spanish\"")]
            .into_iter()
            .filter(|l| l.0)
            .map(|l| l.1)
            .collect();
        text.push_str(&format!(
            "[[agent]]\nid = \"{id}\"\nextension = \"{extension}\"\n\
             skills = {{ billing = {billing}, language = [{}] }}\n",
            languages.join(", ")
        ));
        skills.push((
            id.to_string(),
            Skills {
                billing,
                english,
                spanish,
            },
        ));
    }
    (Roster::parse(&text).expect("roster"), skills)
}

// ------------------------------------------------------ the operations ----

#[derive(Clone, Debug)]
struct CallSpec {
    entry: usize,
    patience_ms: i64,
    answer_ms: i64,
    talk_ms: i64,
    /// Agents (bits over `AGENTS`) that never answer this call.
    unanswering: u8,
}

#[derive(Clone, Copy, Debug)]
enum AgentOp {
    Login,
    Logout,
    Pause,
    Unpause,
}

#[derive(Clone, Debug)]
enum Op {
    Call(CallSpec),
    Agent(AgentOp, usize),
    Roster(usize),
    Program(usize),
    Wait(u64),
}

fn call_spec() -> impl Strategy<Value = CallSpec> {
    (
        0..ENTRIES.len(),
        0i64..200_000,
        prop_oneof![Just(0i64), 0i64..16_000],
        0i64..90_000,
        prop_oneof![Just(0u8), any::<u8>()],
    )
        .prop_map(
            |(entry, patience_ms, answer_ms, talk_ms, unanswering)| CallSpec {
                entry,
                patience_ms,
                answer_ms,
                talk_ms,
                unanswering,
            },
        )
}

fn op() -> impl Strategy<Value = Op> {
    let agent_op = prop_oneof![
        Just(AgentOp::Login),
        Just(AgentOp::Logout),
        Just(AgentOp::Pause),
        Just(AgentOp::Unpause),
    ];
    prop_oneof![
        5 => call_spec().prop_map(Op::Call),
        4 => (agent_op, 0..AGENTS.len()).prop_map(|(o, a)| Op::Agent(o, a)),
        1 => (0..ROSTERS.len()).prop_map(Op::Roster),
        1 => (0usize..2).prop_map(Op::Program),
        4 => prop_oneof![0u64..3_000, 0u64..40_000].prop_map(Op::Wait),
    ]
}

// ------------------------------------------------------- the harness ----

/// A stretch of time an agent was busy with a call, as the channel saw it.
#[derive(Clone, Debug)]
struct Busy {
    agent: String,
    from_ms: i64,
    to_ms: i64,
    call: usize,
    what: &'static str,
}

/// A channel that records whom it rings and bridges, and when, then lets a
/// `SimCaller` do the rest.
struct Probe {
    inner: SimCaller,
    clock: Clock,
    call: usize,
    busy: Arc<Mutex<Vec<Busy>>>,
}

impl Probe {
    fn record(&self, agent: &Option<String>, from_ms: i64, what: &'static str) {
        if let Some(agent) = agent {
            self.busy.lock().expect("busy log").push(Busy {
                agent: agent.clone(),
                from_ms,
                to_ms: self.clock.elapsed_ms(),
                call: self.call,
                what,
            });
        }
    }
}

impl Channel for Probe {
    async fn answer(&mut self) -> bool {
        self.inner.answer().await
    }
    async fn play(&mut self, prompt: &str) -> bool {
        self.inner.play(prompt).await
    }
    async fn collect(&mut self, request: &Collect) -> Collected {
        self.inner.collect(request).await
    }
    async fn ring(&mut self, targets: &[Target], ring: Ring) -> Rang {
        let from = self.clock.elapsed_ms();
        let rang = self.inner.ring(targets, ring).await;
        for t in targets {
            self.record(&t.agent, from, "ring");
        }
        rang
    }
    async fn bridge(&mut self, target: &Target, whisper: Option<&str>, record: bool) -> Ended {
        let from = self.clock.elapsed_ms();
        let ended = self.inner.bridge(target, whisper, record).await;
        self.record(&target.agent, from, "talk");
        ended
    }
    async fn announce(&mut self, what: &Announce) -> bool {
        self.inner.announce(what).await
    }
    async fn hold(&mut self, music: Option<&str>, ms: i64) -> bool {
        self.inner.hold(music, ms).await
    }
    async fn voicemail(&mut self, mailbox: &str) -> Option<String> {
        self.inner.voicemail(mailbox).await
    }
    async fn transfer(&mut self, number: &str) -> bool {
        self.inner.transfer(number).await
    }
    async fn reject(&mut self, reason: RejectReason) {
        self.inner.reject(reason).await
    }
    async fn hangup(&mut self) {
        self.inner.hangup().await
    }
}

/// An offer the model follows until every agent it rings is released.
struct Ringing {
    queue: String,
    since_ms: i64,
    agents: HashSet<String>,
}

/// What the event stream says so far, and the violations it showed.
#[derive(Default)]
struct Model {
    /// The time of the latest event.
    last_ms: i64,
    /// Callers in line: queue, since.
    waiting: HashMap<u64, (String, i64)>,
    /// Callers with an offer ringing.
    ringing: HashMap<u64, Ringing>,
    /// The roster in force: id → skills, and the ids in roster order.
    roster: HashMap<String, Skills>,
    order: Vec<String>,
    /// What strategies rank agents by, as events tell it: when each last
    /// became available, calls answered, time talked.
    idle_since: HashMap<String, i64>,
    calls: HashMap<String, i64>,
    talk_ms: HashMap<String, i64>,
    on_call_since: HashMap<String, i64>,
    /// Agent states as the events told them.
    states: BTreeMap<String, AgentState>,
    /// Per agent: the wrap-up of the queue of their last answered call.
    next_wrapup: HashMap<String, i64>,
    /// Agents in wrap-up: since, length.
    in_wrapup: HashMap<String, (i64, i64)>,
    /// Per call: the queue it last joined, and when.
    queued: HashMap<u64, (String, i64)>,
    /// Per call: the agents offered it since it last joined a queue (an
    /// offer that rang out hands the call to someone else first).
    rung: HashMap<u64, HashSet<String>>,
    arrived: HashSet<u64>,
    ended: HashMap<u64, Summary>,
    answered: HashMap<u64, usize>,
    errors: Vec<String>,
}

impl Model {
    /// Records a violation, once, keeping the first few.
    fn fail(&mut self, at_ms: i64, what: String) {
        if self.errors.len() < 10 && !self.errors.iter().any(|e| e.ends_with(&what)) {
            self.errors.push(format!("at {at_ms} ms: {what}"));
        }
    }

    /// A roster reload: agents who stay keep their state, new ones are
    /// logged out, and those who left are logged out, at once unless they
    /// are still busy with a call (then when it ends): an event must say
    /// so, and takes them off the model's table.
    fn reload(&mut self, agents: Vec<(String, Skills)>) {
        let roster: HashMap<String, Skills> = agents.iter().cloned().collect();
        self.states
            .retain(|id, s| roster.contains_key(id) || *s != AgentState::LoggedOut);
        self.in_wrapup.retain(|id, _| roster.contains_key(id));
        for id in roster.keys() {
            if !self.states.contains_key(id) {
                // A new agent (or one who left and came back) starts afresh.
                self.states.insert(id.clone(), AgentState::LoggedOut);
                for counter in [&mut self.idle_since, &mut self.calls, &mut self.talk_ms] {
                    counter.remove(id);
                }
            }
        }
        self.order = agents.into_iter().map(|(id, _)| id).collect();
        self.roster = roster;
    }

    /// Checks that the offered agents are the ones the queue's strategy
    /// puts first among eligible agents who were available (the offered
    /// ones included): all of them in order for `ring all`, else the first,
    /// who is someone the call has not rung yet if anyone eligible is.
    fn check_choice(
        &mut self,
        call: u64,
        queue: &str,
        waited: i64,
        offered: &[String],
        at_ms: i64,
    ) {
        if queue == "billing" && waited == BILLING_RELAXES_MS {
            // At that very instant the filter may be either.
            return;
        }
        let relaxed = waited >= BILLING_RELAXES_MS;
        let get = |map: &HashMap<String, i64>, id: &str| map.get(id).copied().unwrap_or(0);
        // The strategy's key, then the place in the roster: the first of
        // equals wins.
        let ring_all = matches!(queue, "everyone" | "fewest");
        let rung = self.rung.get(&call);
        // Passed over, the strategy's key, the place in the roster.
        type Rank = (bool, (bool, i64, i64), i64);
        let mut ranked: Vec<(Rank, &String)> = Vec::new();
        for (i, id) in self.order.iter().enumerate() {
            let skills = &self.roster[id];
            let free = self.states.get(id) == Some(&AgentState::Available) || offered.contains(id);
            let (i, idle) = (i as i64, get(&self.idle_since, id));
            if !free || !eligible(queue, relaxed, skills, at_ms - idle) {
                continue;
            }
            let key = match queue {
                "everyone" | "rested" => (false, idle, i),
                "fewest" => (false, get(&self.calls, id), i),
                "billing" => (!skills.spanish, idle, i),
                "linear" => (false, i, i),
                "best" => {
                    let score = skills.billing * 10 + (at_ms - idle).max(0) / 60_000;
                    (!(skills.english || skills.billing >= 3), -score, idle)
                }
                "talk" => (skills.billing == 1, get(&self.talk_ms, id), i),
                // Round robin and random: any eligible agent will do.
                _ => return,
            };
            let passed_over = !ring_all && rung.is_some_and(|r| r.contains(id));
            ranked.push(((passed_over, key, i), id));
        }
        ranked.sort();
        let expected: Vec<&String> = ranked.iter().map(|r| r.1).collect();
        let expected = if ring_all {
            &expected[..]
        } else {
            &expected[..1.min(expected.len())]
        };
        if expected != offered.iter().collect::<Vec<_>>() {
            self.fail(
                at_ms,
                format!("call {call} of {queue} offered {offered:?}, not {expected:?}"),
            );
        }
    }

    fn event(&mut self, e: Event) {
        let at_ms = match &e {
            Event::CallArrived { at_ms, .. }
            | Event::MenuInput { at_ms, .. }
            | Event::Queued { at_ms, .. }
            | Event::Offered { at_ms, .. }
            | Event::Answered { at_ms, .. }
            | Event::Abandoned { at_ms, .. }
            | Event::Overflowed { at_ms, .. }
            | Event::NoAgents { at_ms, .. }
            | Event::AgentState { at_ms, .. } => *at_ms,
            Event::CallEnded(s) => s.ended_ms,
        };
        if at_ms < self.last_ms {
            self.fail(
                at_ms,
                format!("{e:?} after an event at {} ms", self.last_ms),
            );
        }
        self.last_ms = self.last_ms.max(at_ms);
        match e {
            Event::CallArrived { call, at_ms, .. } => {
                let call = call.id;
                if !self.arrived.insert(call) {
                    self.fail(at_ms, format!("call {call} arrived twice"));
                }
            }
            Event::Queued {
                call, queue, at_ms, ..
            } => {
                let call = call.id;
                self.queued.insert(call, (queue.clone(), at_ms));
                self.rung.remove(&call);
                self.waiting.insert(call, (queue, at_ms));
            }
            Event::Offered {
                call,
                queue,
                agents,
                at_ms,
            } => {
                let call = call.id;
                let since = match self.waiting.remove(&call) {
                    Some((q, since)) if q == queue => since,
                    _ => {
                        self.fail(
                            at_ms,
                            format!("call {call} offered from {queue} not in line"),
                        );
                        at_ms
                    }
                };
                let waited = at_ms - since;
                if overflow_ms(&queue).is_some_and(|o| waited > o) {
                    self.fail(
                        at_ms,
                        format!("call {call} offered after {waited} ms in {queue}"),
                    );
                }
                self.ringing.insert(
                    call,
                    Ringing {
                        queue: queue.clone(),
                        since_ms: since,
                        agents: agents.iter().cloned().collect(),
                    },
                );
                self.check_choice(call, &queue, waited, &agents, at_ms);
                self.rung
                    .entry(call)
                    .or_default()
                    .extend(agents.iter().cloned());
                for a in agents {
                    if self.states.get(&a) != Some(&AgentState::Ringing) {
                        self.fail(at_ms, format!("{a} offered call {call} without ringing"));
                    }
                    let relaxed = waited >= BILLING_RELAXES_MS;
                    let idle = at_ms - self.idle_since.get(&a).copied().unwrap_or(0);
                    match self.roster.get(&a) {
                        Some(s) if eligible(&queue, relaxed, s, idle) => {}
                        Some(s) => {
                            let s = *s;
                            self.fail(
                                at_ms,
                                format!(
                                    "{a} ({s:?}) offered call {call} of {queue} after {waited} ms"
                                ),
                            );
                        }
                        None => self.fail(at_ms, format!("{a} offered but not on the roster")),
                    }
                }
            }
            Event::Answered {
                call, agent, queue, ..
            } => {
                let call = call.id;
                *self.answered.entry(call).or_default() += 1;
                self.ringing.remove(&call);
                self.waiting.remove(&call);
                let wrapup = queue.as_deref().map_or(0, wrapup_ms);
                self.next_wrapup.insert(agent, wrapup);
            }
            Event::AgentState {
                agent,
                state,
                at_ms,
            } => self.agent_state(agent, state, at_ms),
            Event::CallEnded(s) => {
                self.waiting.remove(&s.call.id);
                self.ringing.remove(&s.call.id);
                if !self.arrived.contains(&s.call.id) {
                    self.fail(
                        s.ended_ms,
                        format!("call {} ended, never arrived", s.call.id),
                    );
                }
                if let Some(first) = self.ended.insert(s.call.id, (*s).clone()) {
                    self.fail(
                        s.ended_ms,
                        format!("call {} ended twice: {first:?} and {s:?}", s.call.id),
                    );
                }
            }
            Event::NoAgents { call, queue, at_ms } => {
                let call = call.id;
                if self.waiting.remove(&call).is_none() {
                    self.fail(
                        at_ms,
                        format!("call {call} left {queue} for no agents, not in line"),
                    );
                }
                if !has_no_agents(&queue) {
                    self.fail(at_ms, format!("call {call} left {queue} for no agents"));
                } else if let Some(agent) = self.could_take(&queue) {
                    self.fail(
                        at_ms,
                        format!("call {call} left {queue} for no agents, though {agent} is in"),
                    );
                }
            }
            Event::Abandoned { call, .. } | Event::Overflowed { call, .. } => {
                let call = call.id;
                self.waiting.remove(&call);
                self.ringing.remove(&call);
            }
            Event::MenuInput { .. } => {}
        }
    }

    /// An agent of the roster, logged in (in any state), who could take a
    /// call of `queue` under its widest filter: who keeps a caller of a
    /// queue with `no agents` waiting.
    fn could_take(&self, queue: &str) -> Option<String> {
        self.order
            .iter()
            .find(|id| {
                self.states
                    .get(*id)
                    .is_some_and(|s| *s != AgentState::LoggedOut)
                    && self
                        .roster
                        .get(*id)
                        .is_some_and(|skills| eligible(queue, true, skills, i64::MAX))
            })
            .cloned()
    }

    fn agent_state(&mut self, agent: String, to: AgentState, at_ms: i64) {
        use AgentState::*;
        let from = self.states.get(&agent).copied().unwrap_or(LoggedOut);
        let legal = match (from, to) {
            (LoggedOut, Available) => true,
            (Available, LoggedOut | Paused | Ringing) => true,
            (Paused, Available | LoggedOut) => true,
            (Ringing, OnCall | Available | Paused) => true,
            (OnCall, Wrapup | Available) => true,
            (Wrapup, Available | Paused | LoggedOut) => true,
            // An agent who left the roster is logged out once their call
            // (or the offer ringing them) is over.
            (Ringing | OnCall, LoggedOut) => !self.roster.contains_key(&agent),
            _ => false,
        };
        if !legal {
            self.fail(at_ms, format!("{agent}: {from:?} -> {to:?}"));
        }
        // An offer is over once it rings nobody; unless answered, the caller
        // is back in line (or gone, which a later event says).
        if to != Ringing {
            let call = self
                .ringing
                .iter()
                .find(|(_, r)| r.agents.contains(&agent))
                .map(|(&c, _)| c);
            if let Some(call) = call
                && let Some(r) = self.ringing.get_mut(&call)
            {
                r.agents.remove(&agent);
                if r.agents.is_empty() {
                    let r = self.ringing.remove(&call).expect("ringing");
                    self.waiting.insert(call, (r.queue, r.since_ms));
                }
            }
        }
        match to {
            Available => {
                self.idle_since.insert(agent.clone(), at_ms);
            }
            OnCall => {
                *self.calls.entry(agent.clone()).or_default() += 1;
                self.on_call_since.insert(agent.clone(), at_ms);
            }
            _ => {}
        }
        if from == OnCall
            && let Some(since) = self.on_call_since.remove(&agent)
        {
            *self.talk_ms.entry(agent.clone()).or_default() += at_ms - since;
        }
        if to == Wrapup {
            let length = self.next_wrapup.get(&agent).copied().unwrap_or(0);
            self.in_wrapup.insert(agent.clone(), (at_ms, length));
        } else if let Some((since, length)) = self.in_wrapup.remove(&agent)
            && to == Available
            && at_ms - since != length
        {
            self.fail(
                at_ms,
                format!(
                    "{agent}'s wrap-up ended after {} ms, not {length}",
                    at_ms - since
                ),
            );
        }
        if to == LoggedOut && !self.roster.contains_key(&agent) {
            self.states.remove(&agent);
        } else {
            self.states.insert(agent, to);
        }
    }
}

struct Harness {
    rt: Arc<Runtime>,
    events: tokio::sync::mpsc::UnboundedReceiver<Event>,
    model: Model,
    busy: Arc<Mutex<Vec<Busy>>>,
    calls: Vec<tokio::task::JoinHandle<Arc<Summary>>>,
}

impl Harness {
    fn new(engine: Engine) -> Harness {
        let (r, skills) = roster(0);
        let clock = Clock::starting_at("2026-11-23T16:00:00Z".parse().expect("instant"));
        let rt = Runtime::builder(Arc::clone(&programs()[0]), &r)
            .clock(clock)
            .engine(engine)
            .build()
            .expect("runtime");
        // Every event, as published: the model must see them all.
        let (tx, events) = tokio::sync::mpsc::unbounded_channel();
        rt.events().sink(Box::new(move |e| {
            let _ = tx.send(e.clone());
        }));
        let mut model = Model::default();
        model.reload(skills);
        Harness {
            rt,
            events,
            model,
            busy: Arc::default(),
            calls: Vec::new(),
        }
    }

    fn now(&self) -> i64 {
        self.rt.clock().elapsed_ms()
    }

    fn call(&mut self, spec: &CallSpec) {
        let unanswering = AGENTS
            .iter()
            .enumerate()
            .filter(|(i, _)| spec.unanswering & (1 << i) != 0)
            .map(|(_, a)| a.0.to_string())
            .collect();
        let behaviour = Behaviour {
            patience_ms: Some(spec.patience_ms),
            answer_ms: spec.answer_ms,
            talk_ms: spec.talk_ms,
            unanswering,
            ..Behaviour::default()
        };
        let mut probe = Probe {
            inner: SimCaller::new(self.rt.clock().clone(), behaviour),
            clock: self.rt.clock().clone(),
            call: self.calls.len(),
            busy: Arc::clone(&self.busy),
        };
        let rt = Arc::clone(&self.rt);
        let dialed = ENTRIES[spec.entry];
        self.calls.push(tokio::spawn(async move {
            rt.run_call(&mut probe, Arrival::new("+15125550101", dialed))
                .await
        }));
    }

    /// Applies an agent operation and checks the ACD accepted it exactly
    /// when the agent's state allows it.
    fn agent(&mut self, op: AgentOp, agent: usize) {
        let id = AGENTS[agent].0;
        let now = self.now();
        let before = self.model.states.get(id).copied();
        let result = match op {
            AgentOp::Login => self.rt.acd().login(id),
            AgentOp::Logout => self.rt.acd().logout(id),
            AgentOp::Pause => self.rt.acd().pause(id),
            AgentOp::Unpause => self.rt.acd().unpause(id),
        };
        use AgentState::*;
        let allowed = match (op, before) {
            (_, None) => false,
            (AgentOp::Login, Some(s)) => s == LoggedOut,
            (AgentOp::Logout, Some(s)) => matches!(s, Available | Paused | Wrapup),
            (AgentOp::Pause, Some(s)) => matches!(s, Available | Wrapup),
            (AgentOp::Unpause, Some(s)) => s == Paused,
        };
        // An agent who left the roster but is still on a call is not
        // theirs to operate on.
        let allowed = allowed && self.model.roster.contains_key(id);
        if result.is_ok() != allowed {
            let msg = format!("{op:?} {id} while {before:?}: {result:?}");
            self.model.fail(now, msg);
        }
    }

    /// Feeds every published event to the model, then checks the model's
    /// agent states against the ACD's, and that no caller waits while an
    /// agent who could take them is available.
    fn drain(&mut self) {
        while let Ok(e) = self.events.try_recv() {
            if std::env::var("ACD_MODEL_TRACE").is_ok() {
                eprintln!("{e:?}");
            }
            self.model.event(e);
        }
        let actual: BTreeMap<String, AgentState> = self.rt.acd().states().into_iter().collect();
        if actual != self.model.states {
            let msg = format!(
                "the ACD's states {actual:?} are not what its events said: {:?}",
                self.model.states
            );
            self.model.fail(self.now(), msg);
        }
        let now = self.now();
        let mut idle = Vec::new();
        for (call, (queue, since)) in &self.model.waiting {
            // A relaxation is certain only once its time has passed: at
            // that very instant the caller may not have woken up yet.
            let relaxed = now - since > BILLING_RELAXES_MS;
            for (agent, state) in &self.model.states {
                // A filter that time alone makes true (`rested`'s idle
                // minute) is looked at again within a minute of holding:
                // an agent counts as missed only after that minute.
                let idle_ms = now - self.model.idle_since.get(agent).copied().unwrap_or(0);
                let grace = if queue == "rested" { 60_000 } else { 0 };
                if *state == AgentState::Available
                    && let Some(skills) = self.model.roster.get(agent)
                    && eligible(queue, relaxed, skills, idle_ms - grace - 1)
                {
                    idle.push(format!(
                        "call {call} waits in {queue} while {agent} is available"
                    ));
                }
            }
        }
        // A caller of a queue with `no agents` waits only while someone
        // logged in could take the call: when the last one logs out or
        // leaves the roster, the caller leaves the line.
        for (call, (queue, _)) in &self.model.waiting {
            if has_no_agents(queue) && self.model.could_take(queue).is_none() {
                idle.push(format!(
                    "call {call} waits in {queue}, though nobody logged in could take it"
                ));
            }
        }
        for msg in idle {
            self.model.fail(now, msg);
        }
    }

    async fn step(&mut self, op: &Op) {
        match op {
            Op::Call(spec) => self.call(spec),
            Op::Agent(o, a) => self.agent(*o, *a),
            Op::Roster(v) => {
                let (r, skills) = roster(*v);
                self.rt
                    .reload(self.rt.program(), self.rt.tables(), Some(&r))
                    .expect("reload");
                self.model.reload(skills);
            }
            Op::Program(v) => {
                let program = Arc::clone(&programs()[*v]);
                let tables = Arc::new(LookupTables::empty(program.checked()));
                self.rt.reload(program, tables, None).expect("reload");
            }
            Op::Wait(ms) => tokio::time::sleep(Duration::from_millis(*ms)).await,
        }
        // Let spawned calls reach their first wait.
        tokio::task::yield_now().await;
        self.drain();
    }

    /// Lets every call end, then wrap-ups run out, and checks what must
    /// hold when all is quiet. Returns every violation seen.
    async fn finish(mut self) -> Vec<String> {
        let mut summaries = Vec::new();
        for call in std::mem::take(&mut self.calls) {
            // Each call's caller has a finite patience and talk time, so
            // it ends; wrap-up and other timers run as time passes.
            summaries.push(call.await.expect("call task"));
            self.drain();
        }
        tokio::time::sleep(Duration::from_millis(LONGEST_WRAPUP_MS as u64 + 1_000)).await;
        self.drain();
        let now = self.now();
        let m = &mut self.model;

        // Exactly one summary per call, the one the call returned.
        if m.arrived.len() != summaries.len() {
            let msg = format!(
                "{} calls placed, {} arrived",
                summaries.len(),
                m.arrived.len()
            );
            m.fail(now, msg);
        }
        for s in &summaries {
            if m.ended.get(&s.call.id) != Some(s) {
                let msg = format!(
                    "call {} returned {s:?}, event {:?}",
                    s.call.id,
                    m.ended.get(&s.call.id)
                );
                m.fail(now, msg);
            }
            let answers = m.answered.get(&s.call.id).copied().unwrap_or(0);
            if answers > 1 || (answers == 1 && s.disposition != Disposition::Answered) {
                let msg = format!(
                    "call {} answered {answers} times, ended {:?}",
                    s.call.id, s.disposition
                );
                m.fail(now, msg);
            }
        }
        if m.ended.len() != summaries.len() {
            let msg = format!("{} summaries for {} calls", m.ended.len(), summaries.len());
            m.fail(now, msg);
        }

        // Nobody stuck, nobody waiting.
        for (agent, state) in self.rt.acd().states() {
            if matches!(
                state,
                AgentState::Ringing | AgentState::OnCall | AgentState::Wrapup
            ) {
                m.fail(now, format!("{agent} is stuck {}", state.name()));
            }
        }
        let waiting = self.rt.acd().waiting();
        if waiting != 0 {
            m.fail(now, format!("{waiting} callers still wait"));
        }

        // No agent rung or talking for two calls at once.
        let busy = self.busy.lock().expect("busy log").clone();
        for (i, a) in busy.iter().enumerate() {
            for b in &busy[i + 1..] {
                if a.agent != b.agent
                    || a.call == b.call
                    || b.from_ms >= a.to_ms
                    || a.from_ms >= b.to_ms
                {
                    continue;
                }
                let msg = format!(
                    "{} busy twice at once: {} call {} ({}..{} ms) and {} call {} ({}..{} ms)",
                    a.agent, a.what, a.call, a.from_ms, a.to_ms, b.what, b.call, b.from_ms, b.to_ms
                );
                m.fail(b.from_ms, msg);
            }
        }
        std::mem::take(&mut m.errors)
    }
}

/// Runs operations on a fresh runtime under paused time; the violations.
/// Runs the operations on a runtime whose decisions and queue functions
/// run on `engine`, and returns the violations.
fn run(ops: &[Op], engine: Engine) -> Vec<String> {
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("tokio");
    tokio.block_on(async {
        let mut h = Harness::new(engine);
        // Start with the first three agents in, so calls meet agents early.
        for a in 0..3 {
            h.agent(AgentOp::Login, a);
        }
        h.drain();
        for op in ops {
            h.step(op).await;
        }
        h.finish().await
    })
}

fn config(cases: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(cases);
    Config {
        cases,
        // Failures are shrunk and printed; no regression files are written
        // next to the sources.
        failure_persistence: None,
        max_shrink_iters: 4_096,
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config(128))]

    /// Random interleavings keep every invariant.
    #[test]
    fn the_acd_keeps_its_invariants(
        ops in proptest::collection::vec(op(), 10..60),
        interp in proptest::bool::weighted(0.25),
    ) {
        // A quarter of the cases run `require`, `prefer` and `score` on
        // the interpreter: the choices must be the same.
        let engine = if interp { Engine::Interp } else { Engine::Jit };
        let errors = run(&ops, engine);
        prop_assert!(errors.is_empty(), "{}", errors.join("\n"));
    }
}

// --------------------------------------------- regressions, replayed ----

fn call(entry: usize, patience_ms: i64, answer_ms: i64, talk_ms: i64, unanswering: u8) -> Op {
    Op::Call(CallSpec {
        entry,
        patience_ms,
        answer_ms,
        talk_ms,
        unanswering,
    })
}

/// Asserts a replay keeps every invariant.
fn replay(ops: &[Op]) {
    for engine in [Engine::Jit, Engine::Interp] {
        let errors = run(ops, engine);
        assert!(errors.is_empty(), "{engine:?}: {}", errors.join("\n"));
    }
}

use AgentOp::{Login, Logout};

// Agents by place in `AGENTS`; ana, bob and cy start logged in.
const ANA: usize = 0;
const BOB: usize = 1;
const CY: usize = 2;

/// The ACD named agents by their place in the table: a roster reload that
/// reordered it sent the end of ana's call, and her wrap-up timer, to fay,
/// leaving ana on a call forever.
#[test]
fn a_call_ends_for_its_agent_across_a_roster_reload() {
    replay(&[
        Op::Agent(Logout, BOB),
        Op::Agent(Logout, CY),
        call(0, 60_000, 0, 10_000, 0),
        Op::Wait(1_000),
        Op::Roster(1),
        Op::Wait(30_000),
    ]);
}

/// An agent dropped from the roster while on a call, then added back and
/// logged in, was offered calls while still talking.
#[test]
fn an_agent_who_leaves_the_roster_mid_call_is_busy_until_it_ends() {
    replay(&[
        Op::Agent(Logout, ANA),
        Op::Agent(Logout, BOB),
        call(0, 60_000, 0, 60_000, 0),
        Op::Wait(1_000),
        Op::Roster(1),
        Op::Roster(0),
        Op::Agent(Login, CY),
        call(0, 60_000, 0, 1_000, 0),
        Op::Wait(90_000),
    ]);
}

/// A caller who hung up during an announcement, while an offer was on its
/// way, left the offered agent ringing forever.
#[test]
fn a_hang_up_during_an_announcement_releases_the_offer() {
    replay(&[
        Op::Agent(Logout, ANA),
        Op::Agent(Logout, BOB),
        Op::Agent(Logout, CY),
        call(3, 21_000, 0, 0, 0),
        Op::Wait(20_500),
        Op::Agent(Login, ANA),
        Op::Wait(5_000),
    ]);
}

/// A caller hanging up while an agent rang released the agent as of when
/// the ringing began: the event went back in time and the agent's idle
/// time started too early.
#[test]
fn a_hang_up_while_ringing_releases_the_agent_as_of_now() {
    replay(&[
        Op::Agent(Logout, BOB),
        Op::Agent(Logout, CY),
        call(7, 5_000, 0, 0, 1 << ANA),
        Op::Wait(2_000),
        call(0, 10_000, 0, 0, 0),
        Op::Wait(20_000),
    ]);
}

/// A roster reload that made a waiting caller's agent eligible did not
/// offer the call until something else happened.
#[test]
fn a_roster_reload_offers_waiting_callers_at_once() {
    replay(&[
        Op::Agent(Logout, ANA),
        Op::Agent(Logout, CY),
        call(1, 60_000, 0, 1_000, 0),
        Op::Wait(1_000),
        Op::Roster(1),
        Op::Wait(1_000),
    ]);
}

/// A caller who started before a program reload that declared skills in
/// another order read agents' skills by the new skill ids: nobody matched
/// (or the wrong agents did).
#[test]
fn a_waiting_caller_reads_skills_by_name_across_a_program_reload() {
    replay(&[
        Op::Agent(Logout, ANA),
        Op::Agent(Logout, BOB),
        Op::Agent(Logout, CY),
        call(7, 60_000, 0, 1_000, 0),
        call(1, 60_000, 0, 1_000, 0),
        Op::Wait(1_000),
        Op::Program(1),
        Op::Agent(Login, ANA),
        Op::Wait(1_000),
        Op::Agent(Login, BOB),
        Op::Wait(1_000),
    ]);
}

/// An overflow step that fell due while an offer rang was skipped: the
/// caller was offered again and again past the overflow time.
#[test]
fn an_overflow_due_while_an_offer_rings_happens_when_it_rings_out() {
    replay(&[
        Op::Agent(Logout, ANA),
        Op::Agent(Logout, BOB),
        Op::Agent(Logout, CY),
        call(8, 100_000, 0, 0, 1 << ANA),
        Op::Wait(40_000),
        Op::Agent(Login, ANA),
        Op::Wait(60_000),
    ]);
}

/// The timer of a wrap-up the agent had left (by logging out) ended a
/// later wrap-up early.
#[test]
fn a_wrapup_timer_ends_only_its_own_wrapup() {
    replay(&[
        Op::Agent(Logout, BOB),
        Op::Agent(Logout, CY),
        call(1, 60_000, 0, 0, 0),
        Op::Wait(1_000),
        Op::Agent(Logout, ANA),
        Op::Agent(Login, ANA),
        Op::Wait(1_000),
        call(1, 60_000, 0, 0, 0),
        Op::Wait(20_000),
    ]);
}

/// A caller turned away by `no agents` was reported as queued, though
/// they never waited in line.
#[test]
fn a_caller_turned_away_by_no_agents_never_joins_the_line() {
    replay(&[
        Op::Agent(Logout, ANA),
        Op::Agent(Logout, CY),
        call(6, 60_000, 0, 0, 0),
        Op::Wait(1_000),
        Op::Agent(Login, CY),
        Op::Wait(1_000),
    ]);
}

/// A caller waiting in a queue with `no agents` stayed in line after the
/// last agent who could take the call logged out (cy, paused, still
/// counted until then).
#[test]
fn a_waiting_caller_leaves_for_no_agents_when_the_last_taker_logs_out() {
    replay(&[
        Op::Agent(Logout, ANA),
        Op::Agent(AgentOp::Pause, CY),
        call(6, 60_000, 0, 0, 0),
        Op::Wait(5_000),
        Op::Agent(Logout, CY),
        Op::Wait(1_000),
    ]);
}

/// A caller whose filter only time makes true (`agent.idle_minutes >= 1`)
/// waited, in a center where nothing else happened, until the overflow:
/// dispatch ran only on events.
#[test]
fn a_filter_that_time_makes_true_is_dispatched_in_a_quiet_center() {
    // Ana, bob and cy are in from the start.
    replay(&[
        call(11, 200_000, 0, 1_000, 0),
        Op::Wait(40_000),
        Op::Wait(40_000),
        Op::Wait(40_000),
        Op::Wait(40_000),
    ]);
}
