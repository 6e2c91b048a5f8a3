//! The ACD: agents and their states, callers waiting in queues, and the
//! choice of which agent is offered which call.
//!
//! Callers wait by priority, then by arrival, across all queues. When an
//! agent frees up or a caller arrives, waiting callers are matched in that
//! order with available agents: candidates come from per-skill indexes of
//! available agents (not a scan of the roster: bit sets per skill level and
//! per skill value, intersected a word at a time; see `index`), are filtered by the
//! queue's `require` (the current relaxation step's), split by `prefer`,
//! and ordered by the queue's strategy. An agent is offered at most one
//! call at a time: offered agents are `ringing` until the call says how the
//! offer ended. Filters that time alone makes true are matched again each
//! minute while a caller with one waits. Queue statistics count each
//! queue's own agents, for the call that asks.
//!
//! Outside this module agents are named by their roster id, never by their
//! place in the table: a roster reload reorders the table while offers,
//! calls and wrap-up timers are in flight.

use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{oneshot, watch};

use super::channel::Target;
use super::events::{Event, EventBus};
use super::index::{Need, Needs, SkillIndex, Term, exact_skills, required_skills};
use super::roster::{AgentSpec, Roster, RosterError};
use crate::checked::{self, AgentAttr, AgentState, Presentation, QueueId, SkillKind, Strategy};
use crate::facts::Facts;
use crate::ir::{self, FuncId, Node};
use crate::program::{Engine, Program};

/// An agent and what the ACD tracks about them.
#[derive(Clone, Debug)]
pub struct Agent {
    pub spec: AgentSpec,
    /// Per skill of the current program: level or bit set of values.
    pub skills: Vec<i64>,
    pub state: AgentState,
    /// When the agent last became available (for longest idle).
    pub idle_since_ms: i64,
    pub calls_today: i64,
    pub talk_ms_today: i64,
    /// Offers in a row the agent let ring out.
    pub missed_in_row: u32,
    /// Order of last answer, for `most_recent` hunt groups.
    pub last_answer_seq: u64,
    /// Wrap-ups begun so far: a wrap-up timer ends only the wrap-up it was
    /// started for, not a later one.
    pub wrapups: u64,
    /// The agent left the roster while ringing or on a call; they are
    /// logged out, and forgotten, once that offer or call is over.
    pub departing: bool,
}

impl Agent {
    pub fn target(&self) -> Target {
        Target {
            agent: Some(self.spec.id.clone()),
            extension: self.spec.extension.clone(),
            sip_user: self.spec.sip_user.clone(),
        }
    }

    fn new(spec: AgentSpec, skills: Vec<i64>) -> Agent {
        Agent {
            spec,
            skills,
            state: AgentState::LoggedOut,
            idle_since_ms: 0,
            calls_today: 0,
            talk_ms_today: 0,
            missed_in_row: 0,
            last_answer_seq: 0,
            wrapups: 0,
            departing: false,
        }
    }
}

/// A caller waiting in a queue.
pub struct Waiter {
    pub call: Arc<super::record::CallInfo>,
    /// When the caller first joined the queue.
    pub since_ms: i64,
    pub queue_name: String,
    pub queue: QueueId,
    pub priority: u32,
    pub program: Arc<Program>,
    pub facts: Facts,
    /// The filter in force: the queue's `require` or a relaxation step's.
    pub require: Option<FuncId>,
    pub offer: oneshot::Sender<Offer>,
    /// Agents this caller already rang without an answer: the next offer
    /// goes to someone else while anyone else is eligible.
    pub passed_over: Vec<String>,
}

/// Agents offered a call. They stay `ringing` until the call reports back.
#[derive(Debug)]
pub struct Offer {
    /// Roster ids of the agents offered, in the order of `targets`.
    pub agents: Vec<String>,
    pub targets: Vec<Target>,
}

/// Why an agent operation was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AcdError {
    #[error("there is no agent `{0}`")]
    UnknownAgent(String),
    #[error("agent `{agent}` is {state}; {what} needs them to be {needs}")]
    WrongState {
        agent: String,
        state: &'static str,
        what: &'static str,
        needs: &'static str,
    },
}

pub struct Acd {
    inner: Mutex<Inner>,
    events: Arc<EventBus>,
    /// Counts the times agents may have left the logged-in set (a logout,
    /// a roster reload): callers waiting in a queue with `no agents` watch
    /// it and check again whether anyone could still take their call.
    departures: watch::Sender<u64>,
}

struct Inner {
    /// The roster's agents in roster order, then departing agents.
    agents: Vec<Agent>,
    /// How many of `agents` are the roster's.
    roster_len: usize,
    /// The skills agents' `skills` are laid out for: the program's the
    /// roster was last loaded with.
    layout: Vec<checked::Skill>,
    by_id: HashMap<String, usize>,
    by_extension: HashMap<String, usize>,
    /// Per agent, what ranking reads, side by side so that candidates are
    /// read from one table rather than from scattered agent records: the
    /// skills (per skill of the layout), then [`Hot`]. A copy of fields of
    /// `agents`, refreshed wherever those change.
    rows: Vec<i64>,
    /// Available agents, by skill.
    available: SkillIndex,
    /// Waiting callers: (priority, then arrival) → waiter.
    waiting: BTreeMap<(Reverse<u32>, u64), Waiter>,
    /// Per queue name: the agent index round robin starts after.
    round_robin: HashMap<String, usize>,
    /// A seed for `random`.
    random: u64,
    answers: u64,
    next_place: u64,
    /// Per queue name: statistics held at a value (see `pin_stats`).
    pinned: HashMap<String, Vec<(usize, i64)>>,
    /// Agents logged in (any state but logged out), departing ones
    /// aside, by skill: who could take a queue's calls now or later.
    logged: SkillIndex,
    /// What changed since the last dispatch, so that it need not match
    /// every waiting caller against every available agent: agents who
    /// became available, callers who joined or relaxed their filter, or
    /// "everything" (a roster change, or time for a full pass).
    fresh: Fresh,
    /// Waiting callers whose filter reads what changes with time alone
    /// (`agent.idle_minutes`): while there are any, dispatch must also run
    /// on a timer (see [`Acd::next_pass_ms`]).
    timed: HashSet<(Reverse<u32>, u64)>,
    /// What runs the queues' `require`, `prefer` and `score`.
    engine: Engine,
}

/// See `Inner::fresh`.
#[derive(Default)]
struct Fresh {
    agents: Vec<usize>,
    waiters: Vec<(Reverse<u32>, u64)>,
    everything: bool,
    /// When the last full pass ran (clock ms).
    full_pass_ms: i64,
}

/// How often dispatch matches every waiting caller against every available
/// agent, for filters that change with time alone (`agent.idle_minutes`,
/// which counts whole minutes).
pub const FULL_PASS_MS: i64 = 60_000;

impl Acd {
    /// An ACD for a roster, every agent logged out; the roster's skills
    /// must be the program's.
    pub fn new(
        roster: &Roster,
        program: &checked::Program,
        events: Arc<EventBus>,
        engine: Engine,
    ) -> Result<Acd, RosterError> {
        let skills = roster.skills_for(program)?;
        let agents: Vec<Agent> = roster
            .agents
            .iter()
            .zip(skills)
            .map(|(spec, skills)| Agent::new(spec.clone(), skills))
            .collect();
        let mut inner = Inner {
            agents: Vec::new(),
            layout: program.skills.clone(),
            rows: Vec::new(),
            roster_len: 0,
            by_id: HashMap::new(),
            by_extension: HashMap::new(),
            available: SkillIndex::default(),
            waiting: BTreeMap::new(),
            round_robin: HashMap::new(),
            random: 0x9E37_79B9_7F4A_7C15,
            answers: 0,
            next_place: 0,
            pinned: HashMap::new(),
            logged: SkillIndex::default(),
            fresh: Fresh::default(),
            timed: HashSet::new(),
            engine,
        };
        inner.set_agents(agents);
        Ok(Acd {
            inner: Mutex::new(inner),
            events,
            departures: watch::Sender::new(0),
        })
    }

    /// What runs the queues' `require`, `prefer` and `score`.
    pub fn engine(&self) -> Engine {
        self.lock().engine
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock would be a bug; keep serving.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Replaces the roster, and the skills agents are read with, keeping the
    /// state of agents that remain. Agents who left are logged out; those
    /// ringing or on a call stay (departing, out of reach of new offers and
    /// of agent operations) until that offer or call is over. Callers who
    /// wait are offered agents the new roster makes eligible.
    pub fn reload_roster(
        &self,
        roster: &Roster,
        program: &checked::Program,
        now_ms: i64,
    ) -> Result<(), RosterError> {
        let skills = roster.skills_for(program)?;
        let dropped = self.replace_roster(roster, program, skills);
        self.publish_states(
            dropped
                .into_iter()
                .map(|id| (id, AgentState::LoggedOut))
                .collect(),
            now_ms,
        );
        // Agents may have left, or lost the skills a waiting caller needs.
        self.departed();
        self.dispatch(now_ms);
        Ok(())
    }

    /// Puts a new roster in force; returns the agents who left it while
    /// logged in but not busy (now gone, so logged out).
    fn replace_roster(
        &self,
        roster: &Roster,
        program: &checked::Program,
        skills: Vec<Vec<i64>>,
    ) -> Vec<String> {
        let mut inner = self.lock();
        let mut agents: Vec<Agent> = roster
            .agents
            .iter()
            .zip(skills)
            .map(|(spec, skills)| {
                match inner.by_id.get(&spec.id).map(|&i| inner.agents[i].clone()) {
                    Some(old) => Agent {
                        spec: spec.clone(),
                        skills,
                        departing: false,
                        ..old
                    },
                    None => Agent::new(spec.clone(), skills),
                }
            })
            .collect();
        let staying: HashSet<&str> = roster.agents.iter().map(|a| a.id.as_str()).collect();
        let mut dropped = Vec::new();
        for old in &inner.agents {
            if staying.contains(old.spec.id.as_str()) {
                continue;
            }
            if busy(old.state) {
                agents.push(Agent {
                    // Never selected again, so never read: no skills.
                    skills: vec![0; program.skills.len()],
                    departing: true,
                    ..old.clone()
                });
            } else if old.state != AgentState::LoggedOut && !old.departing {
                dropped.push(old.spec.id.clone());
            }
        }
        // Round robin goes on after the last agent offered, or after the
        // nearest agent before them who stayed.
        let place: HashMap<&str, usize> = agents[..roster.agents.len()]
            .iter()
            .enumerate()
            .map(|(i, a)| (a.spec.id.as_str(), i))
            .collect();
        let round_robin = inner
            .round_robin
            .iter()
            .filter_map(|(queue, &last)| {
                let stayed = (inner.agents.get(..=last))
                    .unwrap_or(&inner.agents)
                    .iter()
                    .rev()
                    .find_map(|a| place.get(a.spec.id.as_str()).copied())?;
                Some((queue.clone(), stayed))
            })
            .collect();
        inner.round_robin = round_robin;
        inner.layout = program.skills.clone();
        inner.set_agents(agents);
        dropped
    }

    /// The roster in force (without departing agents).
    pub fn roster(&self) -> Roster {
        Roster {
            agents: self
                .lock()
                .agents
                .iter()
                .filter(|a| !a.departing)
                .map(|a| a.spec.clone())
                .collect(),
        }
    }

    /// A copy of every agent, in roster order, then departing agents.
    pub fn agents(&self) -> Vec<Agent> {
        self.lock().agents.clone()
    }

    pub fn agent_by_extension(&self, extension: &str) -> Option<Agent> {
        let inner = self.lock();
        inner
            .by_extension
            .get(extension)
            .map(|&i| inner.agents[i].clone())
    }

    pub fn login(&self, id: &str, now_ms: i64) -> Result<(), AcdError> {
        self.transition(
            id,
            now_ms,
            "logging in",
            &[AgentState::LoggedOut],
            "logged out",
            AgentState::Available,
        )
    }

    pub fn logout(&self, id: &str, now_ms: i64) -> Result<(), AcdError> {
        self.transition(
            id,
            now_ms,
            "logging out",
            &[
                AgentState::Available,
                AgentState::Paused,
                AgentState::Wrapup,
            ],
            "available, paused or in wrap-up",
            AgentState::LoggedOut,
        )
    }

    pub fn pause(&self, id: &str, now_ms: i64) -> Result<(), AcdError> {
        self.transition(
            id,
            now_ms,
            "pausing",
            &[AgentState::Available, AgentState::Wrapup],
            "available or in wrap-up",
            AgentState::Paused,
        )
    }

    pub fn unpause(&self, id: &str, now_ms: i64) -> Result<(), AcdError> {
        self.transition(
            id,
            now_ms,
            "unpausing",
            &[AgentState::Paused],
            "paused",
            AgentState::Available,
        )
    }

    fn transition(
        &self,
        id: &str,
        now_ms: i64,
        what: &'static str,
        from: &[AgentState],
        needs: &'static str,
        to: AgentState,
    ) -> Result<(), AcdError> {
        {
            let mut inner = self.lock();
            let index = *inner
                .by_id
                .get(id)
                .filter(|&&i| !inner.agents[i].departing)
                .ok_or_else(|| AcdError::UnknownAgent(id.to_string()))?;
            let state = inner.agents[index].state;
            if !from.contains(&state) {
                return Err(AcdError::WrongState {
                    agent: id.to_string(),
                    state: state.name(),
                    what,
                    needs,
                });
            }
            inner.set_state(index, to, now_ms);
        }
        self.events.publish(Event::AgentState {
            agent: id.to_string(),
            state: to,
            at_ms: now_ms,
        });
        if to == AgentState::LoggedOut {
            self.departed();
        }
        self.dispatch(now_ms);
        Ok(())
    }

    /// Wakes the callers who watch [`Acd::departures`].
    fn departed(&self) {
        self.departures.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// A receiver that changes whenever agents may have left the logged-in
    /// set: a logout or a roster reload (departing agents, who no longer
    /// count, included). Waiting callers of queues with `no agents` watch
    /// it, so that nobody needs to look at them when nobody leaves.
    pub fn departures(&self) -> watch::Receiver<u64> {
        self.departures.subscribe()
    }

    /// Puts an agent straight into a state, without the steps that
    /// normally lead there: for `dialect test`, whose `given agent` lines
    /// may place agents `ringing`, `on_call` or in `wrapup`. No call or
    /// timer owns such a state, so the agent keeps it until an operation
    /// moves them.
    pub fn place(&self, id: &str, state: AgentState, now_ms: i64) -> Result<(), AcdError> {
        {
            let mut inner = self.lock();
            let index = *inner
                .by_id
                .get(id)
                .ok_or_else(|| AcdError::UnknownAgent(id.to_string()))?;
            inner.set_state(index, state, now_ms);
        }
        self.publish_states(vec![(id.to_string(), state)], now_ms);
        if state == AgentState::LoggedOut {
            self.departed();
        }
        self.dispatch(now_ms);
        Ok(())
    }

    /// Holds statistics of a queue at given values, whatever the ACD
    /// counts: for `dialect test`, whose `given queue` lines set what
    /// decisions read. Each pin is an index into what `stats` returns and
    /// the value to report there.
    pub fn pin_stats(&self, queue: &str, pins: Vec<(usize, i64)>) {
        self.lock().pinned.insert(queue.to_string(), pins);
    }

    /// Puts a caller in line. Offers arrive on the waiter's channel.
    /// Returns the caller's place in line (kept when re-queued).
    pub fn enqueue(&self, waiter: Waiter, place: Option<u64>, now_ms: i64) -> u64 {
        let seq = {
            let mut inner = self.lock();
            let seq = place.unwrap_or(inner.next_place);
            inner.next_place = inner.next_place.max(seq + 1);
            let key = (Reverse(waiter.priority), seq);
            if waiter
                .require
                .is_some_and(|f| reads_idle_time(&waiter.program.ir, f))
            {
                inner.timed.insert(key);
            }
            inner.waiting.insert(key, waiter);
            inner.fresh.waiters.push(key);
            seq
        };
        self.dispatch(now_ms);
        seq
    }

    /// Changes a waiting caller's filter (a relaxation step).
    pub fn relax(&self, priority: u32, place: u64, require: Option<FuncId>, now_ms: i64) {
        {
            let mut inner = self.lock();
            let key = (Reverse(priority), place);
            if let Some(w) = inner.waiting.get_mut(&key) {
                w.require = require;
                let timed = require.is_some_and(|f| reads_idle_time(&w.program.ir, f));
                if timed {
                    inner.timed.insert(key);
                } else {
                    inner.timed.remove(&key);
                }
                inner.fresh.waiters.push(key);
            }
        }
        self.dispatch(now_ms);
    }

    /// Takes a caller out of line (abandoned or overflowed); false if the
    /// caller was not waiting (an offer is on its way).
    pub fn leave(&self, priority: u32, place: u64) -> bool {
        let mut inner = self.lock();
        let key = (Reverse(priority), place);
        inner.timed.remove(&key);
        inner.waiting.remove(&key).is_some()
    }

    /// When dispatch should next run on a timer, on the runtime's clock:
    /// a minute after the last full pass while some waiting caller's
    /// filter reads what changes with time alone (`agent.idle_minutes`),
    /// `None` while none does (then only events can make a caller and an
    /// agent match). Callers in line wake by then and call [`Acd::tick`]:
    /// the ACD needs no task of its own.
    pub fn next_pass_ms(&self) -> Option<i64> {
        let inner = self.lock();
        (!inner.timed.is_empty()).then(|| inner.fresh.full_pass_ms + FULL_PASS_MS)
    }

    /// Runs the timed full pass if it is due (see [`Acd::next_pass_ms`]);
    /// does nothing otherwise, so every waiting caller may call it when
    /// they wake and only the first does the work.
    pub fn tick(&self, now_ms: i64) {
        if self.next_pass_ms().is_some_and(|due| now_ms >= due) {
            self.dispatch(now_ms);
        }
    }

    /// An offered agent answered: they are on the call, the others offered
    /// with them are available again.
    pub fn answered(&self, offer: &Offer, winner: &str, now_ms: i64) {
        let mut changed = Vec::new();
        {
            let mut inner = self.lock();
            inner.answers += 1;
            let seq = inner.answers;
            for id in &offer.agents {
                let Some(a) = inner.ringing(id) else {
                    continue;
                };
                if id == winner {
                    inner.set_state(a, AgentState::OnCall, now_ms);
                    let agent = &mut inner.agents[a];
                    agent.missed_in_row = 0;
                    agent.calls_today += 1;
                    agent.last_answer_seq = seq;
                    inner.refresh_row(a);
                    changed.push((id.clone(), AgentState::OnCall));
                } else {
                    let to = inner.release(a, AgentState::Available, now_ms);
                    changed.push((id.clone(), to));
                }
            }
            inner.forget_departed();
        }
        self.publish_states(changed, now_ms);
        self.dispatch(now_ms);
    }

    /// An offer rang out (or the caller hung up while it rang): the agents
    /// are available again, and agents who let `pause_after` offers in a
    /// row ring out are paused.
    pub fn not_answered(&self, offer: &Offer, missed: bool, pause_after: Option<u32>, now_ms: i64) {
        let mut changed = Vec::new();
        {
            let mut inner = self.lock();
            for id in &offer.agents {
                let Some(a) = inner.ringing(id) else {
                    continue;
                };
                if missed {
                    inner.agents[a].missed_in_row += 1;
                }
                let pause =
                    missed && pause_after.is_some_and(|n| inner.agents[a].missed_in_row >= n);
                let to = if pause {
                    AgentState::Paused
                } else {
                    AgentState::Available
                };
                let to = inner.release(a, to, now_ms);
                changed.push((id.clone(), to));
            }
            inner.forget_departed();
        }
        self.publish_states(changed, now_ms);
        self.dispatch(now_ms);
    }

    /// The conversation ended; the agent goes to wrap-up (or straight back
    /// to available without one). Returns the wrap-up's number, for
    /// [`Acd::wrapup_done`], when one began.
    pub fn call_ended(
        &self,
        agent: &str,
        talk_ms: i64,
        wrapup_ms: i64,
        now_ms: i64,
    ) -> Option<u64> {
        let to = if wrapup_ms > 0 {
            AgentState::Wrapup
        } else {
            AgentState::Available
        };
        let (to, wrapup) = {
            let mut inner = self.lock();
            let &a = inner.by_id.get(agent)?;
            inner.agents[a].talk_ms_today += talk_ms;
            inner.refresh_row(a);
            if inner.agents[a].state != AgentState::OnCall {
                return None;
            }
            let to = inner.release(a, to, now_ms);
            let wrapup = (to == AgentState::Wrapup).then(|| {
                inner.agents[a].wrapups += 1;
                inner.agents[a].wrapups
            });
            inner.forget_departed();
            (to, wrapup)
        };
        self.publish_states(vec![(agent.to_string(), to)], now_ms);
        self.dispatch(now_ms);
        wrapup
    }

    /// Wrap-up number `wrapup` is over: the agent is available, unless they
    /// paused or logged out meanwhile (or are in a later wrap-up).
    pub fn wrapup_done(&self, agent: &str, wrapup: u64, now_ms: i64) {
        {
            let mut inner = self.lock();
            let Some(&a) = inner.by_id.get(agent) else {
                return;
            };
            let x = &inner.agents[a];
            if x.state != AgentState::Wrapup || x.wrapups != wrapup {
                return;
            }
            inner.set_state(a, AgentState::Available, now_ms);
        }
        self.publish_states(vec![(agent.to_string(), AgentState::Available)], now_ms);
        self.dispatch(now_ms);
    }

    /// Reserves the agents with these extensions for a hunt group or a
    /// direct call: those that are available become `ringing`. Returns the
    /// offer for them.
    pub fn reserve(&self, extensions: &[String], now_ms: i64) -> Offer {
        let mut changed = Vec::new();
        let offer = {
            let mut inner = self.lock();
            let mut taken = Vec::new();
            for e in extensions {
                let Some(&a) = inner.by_extension.get(e) else {
                    continue;
                };
                if inner.agents[a].state == AgentState::Available {
                    inner.set_state(a, AgentState::Ringing, now_ms);
                    changed.push((inner.agents[a].spec.id.clone(), AgentState::Ringing));
                    taken.push(a);
                }
            }
            Offer {
                targets: taken.iter().map(|&a| inner.agents[a].target()).collect(),
                agents: taken
                    .iter()
                    .map(|&a| inner.agents[a].spec.id.clone())
                    .collect(),
            }
        };
        self.publish_states(changed, now_ms);
        offer
    }

    /// Queue statistics as a call's decisions read them, in the order of
    /// `facts::stat_index`: callers waiting in the queue, the queue's
    /// agents who are available, the queue's agents (logged in, in any
    /// state), the longest wait and the expected wait (milliseconds).
    ///
    /// The queue's agents are those who could take this call there: logged
    /// in (departing agents aside) and passing the queue's `require` or
    /// one of its relaxation steps' (the widest filter, as for `no
    /// agents`), run with the call's facts, so a filter that reads the
    /// caller's lookup row counts for this caller. The expected wait is
    /// the callers ahead, and this one, times the average handle time
    /// over the queue's agents (0 without any). Values pinned with
    /// [`Acd::pin_stats`] replace what is counted.
    pub fn stats(
        &self,
        program: &Program,
        queue: QueueId,
        facts: &Facts,
        now_ms: i64,
        aht_ms: i64,
    ) -> [i64; 5] {
        let name = &program.checked.queue(queue).name;
        let inner = self.lock();
        let (waiting, earliest) = inner
            .waiting
            .values()
            .filter(|w| &w.queue_name == name)
            .fold((0i64, i64::MAX), |(n, earliest), w| {
                (n + 1, earliest.min(w.since_ms))
            });
        let filters = program.ir.queues[queue.index()].widest();
        let clauses = program.queue_clauses[queue.index()].as_deref();
        let (agents, available) = inner.takers(program, &filters, clauses, facts, now_ms);
        let longest = if waiting == 0 {
            0
        } else {
            (now_ms - earliest).max(0)
        };
        let expected = if agents == 0 {
            0
        } else {
            (waiting + 1) * aht_ms / agents
        };
        let mut stats = [waiting, available, agents, longest, expected];
        for &(i, value) in inner.pinned.get(name).into_iter().flatten() {
            if let Some(s) = stats.get_mut(i) {
                *s = value;
            }
        }
        stats
    }

    /// A waiting caller's position in their queue, counting from 1.
    pub fn position(&self, priority: u32, place: u64) -> usize {
        let inner = self.lock();
        let Some(me) = inner.waiting.get(&(Reverse(priority), place)) else {
            return 0;
        };
        let queue = me.queue_name.clone();
        inner
            .waiting
            .range(..(Reverse(priority), place))
            .filter(|(_, w)| w.queue_name == queue)
            .count()
            + 1
    }

    /// Whether any logged-in agent passes one of these filters (`None`:
    /// no filter) for these facts, for `no agents`: paused agents, agents
    /// in wrap-up, ringing or on a call count; logged-out and departing
    /// agents do not. Stops at the first who passes.
    pub fn anyone_could(
        &self,
        program: &Program,
        filters: &[Option<FuncId>],
        facts: &Facts,
        now_ms: i64,
    ) -> bool {
        let inner = self.lock();
        let mut found = false;
        inner.each_taker(program, filters, facts, now_ms, |_| {
            found = true;
            false
        });
        found
    }

    /// Matches waiting callers with available agents and sends offers.
    ///
    /// After each dispatch no waiting caller can take any available agent
    /// (the invariant), so only what changed since needs looking at: a
    /// caller who joined is matched against the available agents, and an
    /// agent who became available goes to the first caller in line who
    /// can take them. Several changes at once, a roster change, or a
    /// minute gone by make a full pass. A filter that time alone makes
    /// true (`agent.idle_minutes`) breaks the invariant with no change at
    /// all: while one waits, callers in line run the full pass each minute
    /// through [`Acd::tick`].
    pub fn dispatch(&self, now_ms: i64) {
        let mut offers: Vec<(String, Arc<super::record::CallInfo>, Vec<String>)> = Vec::new();
        {
            let mut inner = self.lock();
            let fresh = std::mem::take(&mut inner.fresh);
            let changes = fresh.agents.len() + fresh.waiters.len();
            let full =
                fresh.everything || changes > 1 || now_ms - fresh.full_pass_ms >= FULL_PASS_MS;
            inner.fresh.full_pass_ms = if full { now_ms } else { fresh.full_pass_ms };
            if inner.available.all.is_empty() || inner.waiting.is_empty() {
                return;
            }
            let keys: Vec<(Reverse<u32>, u64)> = if full {
                inner.waiting.keys().copied().collect()
            } else if let Some(&key) = fresh.waiters.first() {
                vec![key]
            } else if let Some(&agent) = fresh.agents.first() {
                inner.first_taker(agent, now_ms).into_iter().collect()
            } else {
                Vec::new()
            };
            for key in keys {
                if inner.available.all.is_empty() {
                    break;
                }
                if let Some(offer) = inner.offer(key, now_ms) {
                    offers.push(offer);
                }
            }
            // Agents offered are ringing now. One still available here was
            // released by a call that went away mid-offer: look again at
            // everyone next time.
            let released = std::mem::take(&mut inner.fresh.agents);
            if released.iter().any(|&a| {
                inner
                    .agents
                    .get(a)
                    .is_some_and(|x| x.state == AgentState::Available)
            }) {
                inner.fresh.everything = true;
            }
        }
        for (queue, call, agents) in offers {
            for a in &agents {
                self.events.publish(Event::AgentState {
                    agent: a.clone(),
                    state: AgentState::Ringing,
                    at_ms: now_ms,
                });
            }
            self.events.publish(Event::Offered {
                call,
                queue,
                agents,
                at_ms: now_ms,
            });
        }
    }

    fn publish_states(&self, changed: Vec<(String, AgentState)>, now_ms: i64) {
        for (agent, state) in changed {
            self.events.publish(Event::AgentState {
                agent,
                state,
                at_ms: now_ms,
            });
        }
    }

    /// The state of every agent (departing ones too), for checks: (id,
    /// state).
    pub fn states(&self) -> Vec<(String, AgentState)> {
        self.lock()
            .agents
            .iter()
            .map(|a| (a.spec.id.clone(), a.state))
            .collect()
    }

    /// How many callers wait, across queues.
    pub fn waiting(&self) -> usize {
        self.lock().waiting.len()
    }
}

impl Inner {
    fn set_agents(&mut self, agents: Vec<Agent>) {
        self.by_id = agents
            .iter()
            .enumerate()
            .map(|(i, a)| (a.spec.id.clone(), i))
            .collect();
        self.by_extension = agents
            .iter()
            .enumerate()
            .filter(|(_, a)| !a.spec.extension.is_empty() && !a.departing)
            .map(|(i, a)| (a.spec.extension.clone(), i))
            .collect();
        self.roster_len = agents.iter().take_while(|a| !a.departing).count();
        debug_assert!(agents[self.roster_len..].iter().all(|a| a.departing));
        self.fresh.everything = true;
        self.agents = agents;
        self.rows = vec![0; self.agents.len() * self.row_len()];
        for a in 0..self.agents.len() {
            self.refresh_row(a);
        }
        self.available = SkillIndex::new(&self.layout, self.agents.len());
        self.logged = SkillIndex::new(&self.layout, self.agents.len());
        for i in 0..self.agents.len() {
            let a = &self.agents[i];
            if a.state == AgentState::Available {
                self.available.set(&self.layout, i, &a.skills, true);
            }
            if a.state != AgentState::LoggedOut && !a.departing {
                self.logged.set(&self.layout, i, &a.skills, true);
            }
        }
    }

    /// The index sets whose intersection holds every available agent that
    /// meets `needs`, and whether it holds only those (false when a need
    /// does not fit the layout and is left out); `None` when no agent can.
    fn terms(&self, needs: &[Need]) -> Option<(Vec<Term<'_>>, bool)> {
        self.available.terms(&self.layout, needs)
    }

    /// When the indexes answer a `prefer` exactly: the terms whose
    /// intersection holds the candidates (`candidates`) who are preferred,
    /// or `Some(None)` when nobody can be preferred.
    fn preferred_terms<'s>(
        &'s self,
        candidates: &[Term<'s>],
        module: &ir::Module,
        prefer: FuncId,
    ) -> Option<Option<Vec<Term<'s>>>> {
        let mut clauses = Vec::new();
        for clause in exact_skills(module, prefer)? {
            match self.terms(&clause) {
                Some((terms, true)) => clauses.push(terms),
                // Skills the layout does not have: the indexes cannot say.
                Some((_, false)) => return None,
                // A clause nobody can meet.
                None => {}
            }
        }
        let mut terms = candidates.to_vec();
        match clauses.len() {
            0 => return Some(None),
            1 => terms.extend(clauses.pop().into_iter().flatten()),
            _ => terms.push(Term::Any(clauses)),
        }
        Some(Some(terms))
    }

    /// Calls `each` with every logged-in agent (departing ones aside) who
    /// passes one of `filters` (`None`: no filter) for these facts, in
    /// table order, until it returns false.
    fn each_taker(
        &self,
        program: &Program,
        filters: &[Option<FuncId>],
        facts: &Facts,
        now_ms: i64,
        mut each: impl FnMut(usize) -> bool,
    ) {
        let logged = (0..self.agents.len()).filter(|&a| {
            self.agents[a].state != AgentState::LoggedOut && !self.agents[a].departing
        });
        if filters.iter().any(Option::is_none) {
            for a in logged {
                if !each(a) {
                    return;
                }
            }
            return;
        }
        let calls = program.agent_calls(self.engine, facts);
        let filters: Vec<_> = filters.iter().flatten().map(|&f| calls.bind(f)).collect();
        let translation = Translation::between(&self.layout, &program.checked.skills);
        let mut scratch = Vec::new();
        for a in logged {
            let skills = self.skills_for(a, translation.as_ref(), &mut scratch);
            let attrs = self.attrs(a, now_ms);
            if filters.iter().any(|f| f.run(skills, attrs) != 0) && !each(a) {
                return;
            }
        }
    }

    /// How many logged-in agents pass one of `filters` for these facts,
    /// and how many of them are available. Filters made of skill
    /// comparisons with constants (`and`, `or`) are counted from the
    /// indexes of logged-in and available agents, without looking at any
    /// agent (`clauses`, the program's `queue_clauses`, say when they
    /// can be); others run on each logged-in agent.
    fn takers(
        &self,
        program: &Program,
        filters: &[Option<FuncId>],
        clauses: Option<&[Vec<Need>]>,
        facts: &Facts,
        now_ms: i64,
    ) -> (i64, i64) {
        if filters.iter().any(Option::is_none) {
            return (
                self.logged.all.len() as i64,
                self.available.all.len() as i64,
            );
        }
        if let Some(clauses) = clauses
            && Translation::between(&self.layout, &program.checked.skills).is_none()
            && let (Some(agents), Some(available)) = (
                self.logged.count(&self.layout, clauses),
                self.available.count(&self.layout, clauses),
            )
        {
            return (agents as i64, available as i64);
        }
        let (mut agents, mut available) = (0, 0);
        self.each_taker(program, filters, facts, now_ms, |a| {
            agents += 1;
            available += i64::from(self.agents[a].state == AgentState::Available);
            true
        });
        (agents, available)
    }

    /// The index of an agent who is ringing.
    fn ringing(&self, id: &str) -> Option<usize> {
        self.by_id
            .get(id)
            .copied()
            .filter(|&a| self.agents[a].state == AgentState::Ringing)
    }

    /// Ends an agent's offer or call: they go to `to`, or are logged out
    /// if they left the roster meanwhile. Returns the state they are in.
    fn release(&mut self, agent: usize, to: AgentState, now_ms: i64) -> AgentState {
        let to = if self.agents[agent].departing {
            AgentState::LoggedOut
        } else {
            to
        };
        self.set_state(agent, to, now_ms);
        to
    }

    /// Forgets departing agents whose call is over.
    fn forget_departed(&mut self) {
        // Departing agents follow the roster's, so only they are looked at.
        if self.agents[self.roster_len..]
            .iter()
            .any(|a| a.state == AgentState::LoggedOut)
        {
            let mut agents = std::mem::take(&mut self.agents);
            agents.retain(|a| !(a.departing && a.state == AgentState::LoggedOut));
            self.set_agents(agents);
        }
    }

    fn set_state(&mut self, agent: usize, to: AgentState, now_ms: i64) {
        let from = self.agents[agent].state;
        if from == to {
            return;
        }
        let a = &self.agents[agent];
        if from == AgentState::Available {
            self.available.set(&self.layout, agent, &a.skills, false);
        }
        if !a.departing && (from == AgentState::LoggedOut || to == AgentState::LoggedOut) {
            let logged_in = to != AgentState::LoggedOut;
            self.logged.set(&self.layout, agent, &a.skills, logged_in);
        }
        self.agents[agent].state = to;
        if to == AgentState::Available {
            self.agents[agent].idle_since_ms = now_ms;
            self.refresh_row(agent);
            let a = &self.agents[agent];
            self.available.set(&self.layout, agent, &a.skills, true);
            self.fresh.agents.push(agent);
        }
    }

    fn row_len(&self) -> usize {
        self.layout.len() + Hot::COUNT
    }

    /// Copies what ranking reads of an agent into their row.
    fn refresh_row(&mut self, agent: usize) {
        let n = self.layout.len();
        let width = self.row_len();
        let a = &self.agents[agent];
        let row = &mut self.rows[agent * width..(agent + 1) * width];
        for (i, cell) in row[..n].iter_mut().enumerate() {
            *cell = a.skills.get(i).copied().unwrap_or(0);
        }
        row[n + Hot::IdleSince as usize] = a.idle_since_ms;
        row[n + Hot::CallsToday as usize] = a.calls_today;
        row[n + Hot::TalkToday as usize] = a.talk_ms_today;
    }

    /// Whether an agent's row is up to date (checked in debug builds,
    /// which the model tests run).
    fn row_matches(&self, agent: usize) -> bool {
        let a = &self.agents[agent];
        self.skills(agent) == a.skills.as_slice()
            && self.hot(agent, Hot::IdleSince) == a.idle_since_ms
            && self.hot(agent, Hot::CallsToday) == a.calls_today
            && self.hot(agent, Hot::TalkToday) == a.talk_ms_today
    }

    /// An agent's skills, as held, from their row.
    fn skills(&self, agent: usize) -> &[i64] {
        let width = self.row_len();
        &self.rows[agent * width..agent * width + self.layout.len()]
    }

    #[inline]
    fn hot(&self, agent: usize, field: Hot) -> i64 {
        self.rows[agent * self.row_len() + self.layout.len() + field as usize]
    }

    /// What decisions read of an agent besides skills (see
    /// `facts::attr_index`).
    fn attrs(&self, agent: usize, now_ms: i64) -> [i64; 3] {
        [
            (now_ms - self.hot(agent, Hot::IdleSince)).max(0) / 60_000,
            self.hot(agent, Hot::CallsToday),
            self.hot(agent, Hot::TalkToday) / 60_000,
        ]
    }

    /// An agent's skills as a program reads them: as held, or translated
    /// into `scratch` for a program that declares skills differently.
    fn skills_for<'s>(
        &'s self,
        agent: usize,
        translation: Option<&Translation>,
        scratch: &'s mut Vec<i64>,
    ) -> &'s [i64] {
        debug_assert!(self.row_matches(agent), "the row of agent {agent} is stale");
        let skills = self.skills(agent);
        match translation {
            None => skills,
            Some(t) => {
                t.apply(skills, scratch);
                scratch
            }
        }
    }

    /// Offers the waiting caller `key` to the agents `select` picks, if
    /// any: they become ringing and the caller leaves the line. Returns
    /// (queue, call, agent ids) for the events.
    fn offer(
        &mut self,
        key: (Reverse<u32>, u64),
        now_ms: i64,
    ) -> Option<(String, Arc<super::record::CallInfo>, Vec<String>)> {
        let w = self.waiting.remove(&key)?;
        let chosen = self.select(&w, now_ms);
        if chosen.is_empty() {
            self.waiting.insert(key, w);
            return None;
        }
        // Out of line from here, offered or gone.
        self.timed.remove(&key);
        for &a in &chosen {
            self.set_state(a, AgentState::Ringing, now_ms);
        }
        let ids: Vec<String> = chosen
            .iter()
            .map(|&a| self.agents[a].spec.id.clone())
            .collect();
        let offer = Offer {
            targets: chosen.iter().map(|&a| self.agents[a].target()).collect(),
            agents: ids.clone(),
        };
        if w.offer.send(offer).is_err() {
            // The call went away between waiting and the offer.
            for &a in &chosen {
                self.set_state(a, AgentState::Available, now_ms);
            }
            return None;
        }
        Some((w.queue_name.clone(), Arc::clone(&w.call), ids))
    }

    /// The first caller in line whose filter the agent passes.
    fn first_taker(&self, agent: usize, now_ms: i64) -> Option<(Reverse<u32>, u64)> {
        if self.agents.get(agent)?.state != AgentState::Available {
            return None;
        }
        let mut scratch = Vec::new();
        let attrs = self.attrs(agent, now_ms);
        self.waiting.iter().find_map(|(key, w)| {
            let Some(f) = w.require else {
                return Some(*key);
            };
            let translation = Translation::between(&self.layout, &w.program.checked.skills);
            let skills = self.skills_for(agent, translation.as_ref(), &mut scratch);
            let calls = w.program.agent_calls(self.engine, &w.facts);
            (calls.bind(f).run(skills, attrs) != 0).then_some(*key)
        })
    }

    /// The agents to offer a waiting caller, in the order to ring them;
    /// empty when nobody eligible is available.
    fn select(&mut self, w: &Waiter, now_ms: i64) -> Vec<usize> {
        let program = &w.program;
        let queue = program.checked.queue(w.queue);
        let fns = &program.ir.queues[w.queue.index()];
        // A caller who joined before a reload changed the skills reads
        // agents through a translation, and the skill indexes (by the new
        // skill ids) cannot narrow the candidates.
        let translation = Translation::between(&self.layout, &program.checked.skills);
        // Candidates: available agents with the skill levels and values
        // the filter needs, intersecting the indexes.
        let needs = match (w.require, &translation) {
            (Some(f), None) => required_skills(&program.ir, f),
            _ => Needs::default(),
        };
        let Some((terms, all)) = self.terms(&needs.needs) else {
            return Vec::new();
        };
        // When the filter is nothing but what the indexes answered, every
        // candidate passes it: it need not run.
        let indexes_decide = needs.exact && all;
        if terms.iter().any(Term::is_empty) {
            return Vec::new();
        }
        let calls = program.agent_calls(self.engine, &w.facts);
        let bind = |f: Option<FuncId>| f.map(|f| calls.bind(f));
        let require_fn = if indexes_decide {
            None
        } else {
            bind(w.require)
        };
        let (prefer_fn, score_fn) = (bind(fns.prefer), bind(fns.score));
        let strategy = queue.strategy;
        let ring_all =
            matches!(queue.presentation, Presentation::All { .. }) || strategy == Strategy::RingAll;
        // Strategies that pick one agent by an order keep only the best so
        // far; the others need every eligible agent.
        let keep_all = ring_all || matches!(strategy, Strategy::RoundRobin | Strategy::Random);
        // Orders that read no function: an agent who would not come first
        // even if preferred need not be looked at further.
        let order_known = !keep_all && strategy != Strategy::BestScore;
        // When the indexes can answer `prefer` too, a strategy that picks
        // one agent looks at the preferred candidates first, and at the
        // others only if none of them is eligible.
        let preferred_terms = match (fns.prefer, &translation) {
            (Some(f), None) if !keep_all => self.preferred_terms(&terms, &program.ir, f),
            _ => None,
        };
        let mut best: Option<((bool, i64, i64), usize)> = None;
        let mut best_passed_over: Option<((bool, i64, i64), usize)> = None;
        let mut eligible: Vec<(usize, bool, i64)> = Vec::new();
        let mut scratch = Vec::new();
        // Looks at one candidate (`preferred` when already known); true
        // once `best` holds an agent (who was not passed over).
        let mut consider = |a: usize, preferred: Option<bool>| -> bool {
            'look: {
                if order_known
                    && let Some((k, _)) = best
                    && k <= self.rank(strategy, a, preferred.unwrap_or(true), 0)
                {
                    // Behind an eligible agent, whether eligible or not.
                    break 'look;
                }
                // Everything below reads the agent's row only.
                let skills = self.skills_for(a, translation.as_ref(), &mut scratch);
                let attrs = self.attrs(a, now_ms);
                if let Some(f) = &require_fn
                    && f.run(skills, attrs) == 0
                {
                    break 'look;
                }
                let preferred = preferred.unwrap_or_else(|| {
                    prefer_fn.as_ref().is_none_or(|f| f.run(skills, attrs) != 0)
                });
                if !keep_all
                    && !preferred
                    && best.is_some_and(|((not_preferred, ..), _)| !not_preferred)
                {
                    // A preferred agent is ahead whatever this one scores.
                    break 'look;
                }
                let score = score_fn.as_ref().map_or(0, |f| f.run(skills, attrs));
                if keep_all {
                    eligible.push((a, preferred, score));
                    break 'look;
                }
                let key = self.rank(strategy, a, preferred, score);
                // Agents this caller already rang come last: the call goes
                // to someone else while anyone else is eligible.
                let passed =
                    !w.passed_over.is_empty() && w.passed_over.contains(&self.agents[a].spec.id);
                let slot = if passed {
                    &mut best_passed_over
                } else {
                    &mut best
                };
                // Strictly better only: the first of equals (in table
                // order) wins.
                if slot.is_none_or(|(k, _)| key < k) {
                    *slot = Some((key, a));
                }
            }
            best.is_some()
        };
        match &preferred_terms {
            Some(preferred) => {
                let mut found = false;
                for a in preferred.iter().flat_map(|t| Term::intersection(t)) {
                    found = consider(a, Some(true));
                }
                if !found {
                    // No eligible candidate is preferred, or every one
                    // was rung already.
                    for a in Term::intersection(&terms) {
                        consider(a, Some(false));
                    }
                }
            }
            None => {
                for a in Term::intersection(&terms) {
                    consider(a, None);
                }
            }
        }
        if !keep_all {
            return best
                .or(best_passed_over)
                .map(|(_, a)| a)
                .into_iter()
                .collect();
        }
        if !ring_all && !w.passed_over.is_empty() {
            let fresh: Vec<(usize, bool, i64)> = eligible
                .iter()
                .copied()
                .filter(|&(a, ..)| !w.passed_over.contains(&self.agents[a].spec.id))
                .collect();
            // Once everyone eligible has been tried, start over.
            if !fresh.is_empty() {
                eligible = fresh;
            }
        }
        if ring_all {
            eligible.sort_by_key(|&(a, preferred, score)| self.rank(strategy, a, preferred, score));
            return eligible.into_iter().map(|e| e.0).collect();
        }
        // Round robin and random choose among the preferred, if any.
        let best_preferred = eligible.iter().any(|e| e.1);
        let group: Vec<usize> = eligible
            .iter()
            .filter(|e| e.1 == best_preferred)
            .map(|e| e.0)
            .collect();
        let choice = if strategy == Strategy::RoundRobin {
            let after = self.round_robin.get(&w.queue_name).copied();
            let next = after
                .and_then(|last| group.iter().copied().find(|&a| a > last))
                .or_else(|| group.first().copied());
            if let Some(n) = next {
                self.round_robin.insert(w.queue_name.clone(), n);
            }
            next
        } else {
            self.random ^= self.random << 13;
            self.random ^= self.random >> 7;
            self.random ^= self.random << 17;
            group
                .get((self.random % group.len().max(1) as u64) as usize)
                .copied()
        };
        choice.into_iter().collect()
    }

    /// Where an eligible agent ranks for a strategy, lowest first:
    /// preferred agents first, then the strategy's order, then a tie-break.
    #[inline(always)]
    fn rank(&self, strategy: Strategy, a: usize, preferred: bool, score: i64) -> (bool, i64, i64) {
        let rank = match strategy {
            Strategy::LongestIdle | Strategy::RingAll => self.hot(a, Hot::IdleSince),
            Strategy::FewestCalls => self.hot(a, Hot::CallsToday),
            Strategy::LeastTalkTime => self.hot(a, Hot::TalkToday),
            Strategy::Linear | Strategy::RoundRobin | Strategy::Random => a as i64,
            Strategy::BestScore => -score,
        };
        let tie = if strategy == Strategy::BestScore {
            self.hot(a, Hot::IdleSince)
        } else {
            a as i64
        };
        (!preferred, rank, tie)
    }
}

/// The agent fields that follow the skills in an agent's row.
#[derive(Clone, Copy)]
enum Hot {
    IdleSince,
    CallsToday,
    TalkToday,
}

impl Hot {
    const COUNT: usize = 3;
}

/// Whether a filter reads what changes with time alone, with no event to
/// say so: `agent.idle_minutes` (following calls into other functions).
/// Calls made and talk time change only when calls end, which dispatch
/// already follows.
pub fn reads_idle_time(module: &ir::Module, f: FuncId) -> bool {
    (module.first_reading([f], |n| matches!(n, Node::Agent(AgentAttr::IdleMinutes)))).is_some()
}

/// How a program reads agents' skills when it declares them differently
/// from the layout the ACD holds them in (a caller who started before a
/// reload): skills are matched by name, values of enumerated skills by
/// name; a skill the layout lacks reads as 0.
struct Translation {
    skills: Vec<Read>,
}

enum Read {
    Missing,
    Level(usize),
    /// The layout's skill, and per value of the layout's its bit in the
    /// program's.
    Values(usize, Vec<Option<u32>>),
}

impl Translation {
    /// `None` when the program reads skills as the layout holds them.
    fn between(layout: &[checked::Skill], program: &[checked::Skill]) -> Option<Translation> {
        let same = layout.len() == program.len()
            && layout
                .iter()
                .zip(program)
                .all(|(l, p)| l.name == p.name && l.kind == p.kind);
        if same {
            return None;
        }
        let skills = program
            .iter()
            .map(|p| {
                let Some(i) = layout.iter().position(|l| l.name == p.name) else {
                    return Read::Missing;
                };
                match (&layout[i].kind, &p.kind) {
                    (SkillKind::Level, SkillKind::Level) => Read::Level(i),
                    (SkillKind::Values(from), SkillKind::Values(to)) => Read::Values(
                        i,
                        from.iter()
                            .map(|v| to.iter().position(|t| t == v).map(|b| b as u32))
                            .collect(),
                    ),
                    _ => Read::Missing,
                }
            })
            .collect();
        Some(Translation { skills })
    }

    fn apply(&self, skills: &[i64], out: &mut Vec<i64>) {
        out.clear();
        out.extend(self.skills.iter().map(|r| match r {
            Read::Missing => 0,
            Read::Level(i) => skills.get(*i).copied().unwrap_or(0),
            Read::Values(i, bits) => {
                let held = skills.get(*i).copied().unwrap_or(0);
                bits.iter()
                    .enumerate()
                    .filter(|&(from, _)| held & (1 << from) != 0)
                    .filter_map(|(_, to)| *to)
                    .fold(0, |mask, to| mask | 1 << to)
            }
        }));
    }
}

/// Whether an agent is busy with a call: ringing for it or talking.
fn busy(state: AgentState) -> bool {
    matches!(state, AgentState::Ringing | AgentState::OnCall)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCRIPT: &str = r#"
timezone "America/Chicago"
skill billing
skill language { english, spanish, french }
queue plain { strategy linear }
queue level { require billing >= 3 }
queue either { require language == spanish or billing > 7 }
queue both { require language in [english, french] and billing >= 2 }
queue relaxing { require billing >= 9; after 1m require language == french }
queue other { require billing != 1 }
queue never { require billing > 10 }
queue rested { require billing >= 1 and agent.idle_minutes >= 1 }
"#;

    /// Counting a queue's agents from the indexes gives what running its
    /// filters on every logged-in agent gives, over rosters wider than a
    /// word of the bit sets, with agents in every state.
    #[test]
    fn indexed_counts_match_running_the_filters() {
        let program = Program::from_text(SCRIPT).expect("the script compiles");
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        for round in 0..20 {
            let size = 1 + next(200);
            let mut text = String::new();
            for i in 0..size {
                let languages: Vec<&str> = ["english", "spanish", "french"]
                    .into_iter()
                    .filter(|_| next(3) == 0)
                    .collect();
                text.push_str(&format!(
                    "[[agent]]\nid = \"a{i}\"\nskills = {{ billing = {}, language = {languages:?} }}\n",
                    next(11)
                ));
            }
            let roster = Roster::parse(&text).expect("roster");
            let acd = Acd::new(
                &roster,
                &program.checked,
                Arc::new(EventBus::default()),
                Engine::Jit,
            )
            .expect("acd");
            for i in 0..size {
                let id = format!("a{i}");
                let state = match next(6) {
                    0 => AgentState::LoggedOut,
                    1 => AgentState::Paused,
                    2 => AgentState::OnCall,
                    3 => AgentState::Wrapup,
                    _ => AgentState::Available,
                };
                acd.place(&id, state, (i as i64) * 1_000).expect("places");
            }
            let facts = Facts::new(&program.ir.layout);
            let now = 90_000;
            let inner = acd.lock();
            for (q, queue) in program.checked.queues.iter().enumerate() {
                let filters = program.ir.queues[q].widest();
                let (mut agents, mut available) = (0, 0);
                inner.each_taker(&program, &filters, &facts, now, |a| {
                    agents += 1;
                    available += i64::from(inner.agents[a].state == AgentState::Available);
                    true
                });
                let clauses = program.queue_clauses[q].as_deref();
                assert_eq!(
                    inner.takers(&program, &filters, clauses, &facts, now),
                    (agents, available),
                    "round {round}, queue {}",
                    queue.name
                );
            }
        }
    }
}
