//! The ACD: agents and their states, callers waiting in queues, and the
//! choice of which agent is offered which call.
//!
//! Callers wait by priority, then by arrival, across all queues. When an
//! agent frees up or a caller arrives, waiting callers are matched in that
//! order with available agents: candidates come from per-skill indexes of
//! available agents (not a scan of the roster), are filtered by the
//! queue's `require` (the current relaxation step's), split by `prefer`,
//! and ordered by the queue's strategy. An agent is offered at most one
//! call at a time: offered agents are `ringing` until the call says how the
//! offer ended.
//!
//! Outside this module agents are named by their roster id, never by their
//! place in the table: a roster reload reorders the table while offers,
//! calls and wrap-up timers are in flight.

use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::oneshot;

use super::channel::Target;
use super::events::{Event, EventBus};
use super::roster::{AgentSpec, Roster, RosterError};
use crate::checked::{self, AgentState, Presentation, QueueId, SkillId, SkillKind, Strategy};
use crate::facts::Facts;
use crate::ir::{self, CmpOp, FuncId, Node};
use crate::jit::AgentFrame;
use crate::program::Program;

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

impl Agent {
    pub fn target(&self) -> Target {
        Target {
            agent: Some(self.spec.id.clone()),
            extension: self.spec.extension.clone(),
            sip_user: self.spec.sip_user.clone(),
        }
    }
}

/// A caller waiting in a queue.
pub struct Waiter {
    pub call: u64,
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
}

struct Inner {
    /// The roster's agents in roster order, then departing agents.
    agents: Vec<Agent>,
    /// The skills agents' `skills` are laid out for: the program's the
    /// roster was last loaded with.
    layout: Vec<checked::Skill>,
    by_id: HashMap<String, usize>,
    by_extension: HashMap<String, usize>,
    /// Available agents.
    available: AgentSet,
    /// Per skill of the layout: available agents holding it.
    skill_index: Vec<AgentSet>,
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
    /// Agents logged in (any state but logged out), departing ones aside.
    logged_in: usize,
    /// Agents who left the roster and are finishing a call.
    departing: usize,
    /// What changed since the last dispatch, so that it need not match
    /// every waiting caller against every available agent: agents who
    /// became available, callers who joined or relaxed their filter, or
    /// "everything" (a roster change, or time for a full pass).
    fresh: Fresh,
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
/// agent, for filters that change with time alone (`agent.idle_minutes`).
const FULL_PASS_MS: i64 = 60_000;

impl Acd {
    /// An ACD for a roster, every agent logged out; the roster's skills
    /// must be the program's.
    pub fn new(
        roster: &Roster,
        program: &checked::Program,
        events: Arc<EventBus>,
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
            by_id: HashMap::new(),
            by_extension: HashMap::new(),
            available: AgentSet::default(),
            skill_index: Vec::new(),
            waiting: BTreeMap::new(),
            round_robin: HashMap::new(),
            random: 0x9E37_79B9_7F4A_7C15,
            answers: 0,
            next_place: 0,
            pinned: HashMap::new(),
            logged_in: 0,
            departing: 0,
            fresh: Fresh::default(),
        };
        inner.set_agents(agents);
        Ok(Acd {
            inner: Mutex::new(inner),
            events,
        })
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
        self.replace_roster(roster, program, skills);
        self.dispatch(now_ms);
        Ok(())
    }

    fn replace_roster(&self, roster: &Roster, program: &checked::Program, skills: Vec<Vec<i64>>) {
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
        for old in &inner.agents {
            if !staying.contains(old.spec.id.as_str()) && busy(old.state) {
                agents.push(Agent {
                    // Never selected again, so never read: no skills.
                    skills: vec![0; program.skills.len()],
                    departing: true,
                    ..old.clone()
                });
            }
        }
        inner.layout = program.skills.clone();
        inner.set_agents(agents);
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

    /// A copy of every agent, in roster order.
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
        self.dispatch(now_ms);
        Ok(())
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
            if let Some(w) = inner.waiting.get_mut(&(Reverse(priority), place)) {
                w.require = require;
                inner.fresh.waiters.push((Reverse(priority), place));
            }
        }
        self.dispatch(now_ms);
    }

    /// Takes a caller out of line (abandoned or overflowed); false if the
    /// caller was not waiting (an offer is on its way).
    pub fn leave(&self, priority: u32, place: u64) -> bool {
        self.lock()
            .waiting
            .remove(&(Reverse(priority), place))
            .is_some()
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

    /// Queue statistics as decisions read them: waiting, available, agents
    /// logged in, longest wait and expected wait (milliseconds).
    pub fn stats(&self, queue: &str, now_ms: i64, aht_ms: i64) -> [i64; 5] {
        let inner = self.lock();
        let (waiting, earliest) = inner
            .waiting
            .values()
            .filter(|w| w.queue_name == queue)
            .fold((0i64, i64::MAX), |(n, earliest), w| {
                (n + 1, earliest.min(w.since_ms))
            });
        let logged_in = inner.logged_in as i64;
        let available = inner.available.len() as i64;
        let longest = if waiting == 0 {
            0
        } else {
            (now_ms - earliest).max(0)
        };
        let expected = if logged_in == 0 {
            0
        } else {
            (waiting + 1) * aht_ms / logged_in
        };
        let mut stats = [waiting, available, logged_in, longest, expected];
        for &(i, value) in inner.pinned.get(queue).into_iter().flatten() {
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

    /// Whether any logged-in agent passes a filter for these facts (for
    /// `no agents`).
    pub fn anyone_could(
        &self,
        program: &Program,
        require: Option<FuncId>,
        facts: &Facts,
        now_ms: i64,
    ) -> bool {
        let inner = self.lock();
        let mut logged = (0..inner.agents.len()).filter(|&a| {
            inner.agents[a].state != AgentState::LoggedOut && !inner.agents[a].departing
        });
        let Some(f) = require else {
            return logged.next().is_some();
        };
        let native = program.native();
        let frame = native.frame(facts);
        let translation = Translation::between(&inner.layout, &program.checked.skills);
        let mut scratch = Vec::new();
        logged.any(|a| {
            let skills = inner.skills_for(a, translation.as_ref(), &mut scratch);
            let agent = AgentFrame::of(native, skills, inner.attrs(a, now_ms));
            native.run(f, &frame, Some(&agent)) != 0
        })
    }

    /// Matches waiting callers with available agents and sends offers.
    ///
    /// After each dispatch no waiting caller can take any available agent
    /// (the invariant), so only what changed since needs looking at: a
    /// caller who joined is matched against the available agents, and an
    /// agent who became available goes to the first caller in line who
    /// can take them. Several changes at once, a roster change, or a
    /// minute gone by make a full pass.
    pub fn dispatch(&self, now_ms: i64) {
        let mut offers: Vec<(String, u64, Vec<String>)> = Vec::new();
        {
            let mut inner = self.lock();
            let fresh = std::mem::take(&mut inner.fresh);
            let changes = fresh.agents.len() + fresh.waiters.len();
            let full =
                fresh.everything || changes > 1 || now_ms - fresh.full_pass_ms >= FULL_PASS_MS;
            inner.fresh.full_pass_ms = if full { now_ms } else { fresh.full_pass_ms };
            if inner.available.is_empty() || inner.waiting.is_empty() {
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
                if inner.available.is_empty() {
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

    /// The state of every agent, for checks: (id, state).
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
        let skills = self.layout.len();
        self.fresh.everything = true;
        self.agents = agents;
        self.logged_in = self
            .agents
            .iter()
            .filter(|a| a.state != AgentState::LoggedOut && !a.departing)
            .count();
        self.departing = self.agents.iter().filter(|a| a.departing).count();
        self.available = AgentSet::new(self.agents.len());
        self.skill_index = vec![self.available.clone(); skills];
        for i in 0..self.agents.len() {
            if self.agents[i].state == AgentState::Available {
                self.index(i, true);
            }
        }
    }

    fn index(&mut self, agent: usize, available: bool) {
        let a = &self.agents[agent];
        for (s, &value) in a.skills.iter().enumerate() {
            if value != 0
                && let Some(set) = self.skill_index.get_mut(s)
            {
                set.set(agent, available);
            }
        }
        self.available.set(agent, available);
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
        if self.departing > 0
            && self
                .agents
                .iter()
                .any(|a| a.departing && a.state == AgentState::LoggedOut)
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
        if from == AgentState::Available {
            self.index(agent, false);
        }
        if !self.agents[agent].departing {
            if from == AgentState::LoggedOut {
                self.logged_in += 1;
            } else if to == AgentState::LoggedOut {
                self.logged_in -= 1;
            }
        }
        self.agents[agent].state = to;
        if to == AgentState::Available {
            self.agents[agent].idle_since_ms = now_ms;
            self.index(agent, true);
            self.fresh.agents.push(agent);
        }
    }

    /// What decisions read of an agent besides skills (see
    /// `facts::attr_index`).
    fn attrs(&self, agent: usize, now_ms: i64) -> [i64; 3] {
        let a = &self.agents[agent];
        [
            (now_ms - a.idle_since_ms).max(0) / 60_000,
            a.calls_today,
            a.talk_ms_today / 60_000,
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
        let skills = &self.agents[agent].skills;
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
    ) -> Option<(String, u64, Vec<String>)> {
        let w = self.waiting.remove(&key)?;
        let chosen = self.select(&w, now_ms);
        if chosen.is_empty() {
            self.waiting.insert(key, w);
            return None;
        }
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
        Some((w.queue_name.clone(), w.call, ids))
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
            let native = w.program.native();
            let translation = Translation::between(&self.layout, &w.program.checked.skills);
            let skills = self.skills_for(agent, translation.as_ref(), &mut scratch);
            let frame = native.frame(&w.facts);
            let view = AgentFrame::of(native, skills, attrs);
            (native.run(f, &frame, Some(&view)) != 0).then_some(*key)
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
        // Candidates: available agents holding every skill the filter
        // needs, intersecting the per-skill indexes.
        let mut sets: Vec<&AgentSet> = match (w.require, &translation) {
            (Some(f), None) => required_skills(&program.ir, f)
                .iter()
                .filter_map(|s| self.skill_index.get(s.index()))
                .collect(),
            _ => Vec::new(),
        };
        if sets.is_empty() {
            sets.push(&self.available);
        }
        if sets.iter().any(|s| s.is_empty()) {
            return Vec::new();
        }
        let native = program.native();
        let frame = native.frame(&w.facts);
        let mut scratch = Vec::new();
        let mut eligible: Vec<(usize, bool, i64)> = Vec::new();
        for a in AgentSet::intersection(&sets) {
            let skills = self.skills_for(a, translation.as_ref(), &mut scratch);
            let agent = AgentFrame::of(native, skills, self.attrs(a, now_ms));
            if let Some(f) = w.require
                && native.run(f, &frame, Some(&agent)) == 0
            {
                continue;
            }
            let preferred = fns
                .prefer
                .is_none_or(|f| native.run(f, &frame, Some(&agent)) != 0);
            let score = fns.score.map_or(0, |f| native.run(f, &frame, Some(&agent)));
            eligible.push((a, preferred, score));
        }
        if eligible.is_empty() {
            return Vec::new();
        }
        let ring_all = matches!(queue.presentation, Presentation::All { .. })
            || queue.strategy == Strategy::RingAll;
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
        // Preferred agents first, then the strategy's order.
        let key =
            |inner: &Inner, &(a, preferred, score): &(usize, bool, i64)| -> (bool, i64, i64) {
                let agent = &inner.agents[a];
                let rank = match queue.strategy {
                    Strategy::LongestIdle | Strategy::RingAll => agent.idle_since_ms,
                    Strategy::FewestCalls => agent.calls_today,
                    Strategy::LeastTalkTime => agent.talk_ms_today,
                    Strategy::Linear | Strategy::RoundRobin | Strategy::Random => a as i64,
                    Strategy::BestScore => -score,
                };
                let tie = if queue.strategy == Strategy::BestScore {
                    agent.idle_since_ms
                } else {
                    a as i64
                };
                (!preferred, rank, tie)
            };
        if ring_all {
            let mut all = eligible;
            all.sort_by_key(|e| key(self, e));
            return all.into_iter().map(|e| e.0).collect();
        }
        let best_preferred = eligible.iter().any(|e| e.1);
        let choice = match queue.strategy {
            Strategy::RoundRobin => {
                let after = self.round_robin.get(&w.queue_name).copied();
                let group: Vec<usize> = eligible
                    .iter()
                    .filter(|e| e.1 == best_preferred)
                    .map(|e| e.0)
                    .collect();
                let next = after
                    .and_then(|last| group.iter().copied().find(|&a| a > last))
                    .or_else(|| group.first().copied());
                if let Some(n) = next {
                    self.round_robin.insert(w.queue_name.clone(), n);
                }
                next
            }
            Strategy::Random => {
                let group: Vec<usize> = eligible
                    .iter()
                    .filter(|e| e.1 == best_preferred)
                    .map(|e| e.0)
                    .collect();
                self.random ^= self.random << 13;
                self.random ^= self.random >> 7;
                self.random ^= self.random << 17;
                group
                    .get((self.random % group.len().max(1) as u64) as usize)
                    .copied()
            }
            _ => eligible.iter().min_by_key(|e| key(self, e)).map(|e| e.0),
        };
        choice.into_iter().collect()
    }
}

/// Skills an agent must hold (level or value non-zero) for a filter to
/// pass, read from its top-level `and`s: `billing >= 3`, `language ==
/// spanish` and the like. Used to pick candidates from the skill indexes.
pub fn required_skills(module: &ir::Module, f: FuncId) -> Vec<SkillId> {
    fn walk(n: &Node, out: &mut Vec<SkillId>) {
        match n {
            Node::And(a, b) => {
                walk(a, out);
                walk(b, out);
            }
            Node::Cmp(op, a, b) => match (op, a.as_ref(), b.as_ref()) {
                (CmpOp::Ge | CmpOp::Eq, Node::Skill(s), Node::Int(k)) if *k >= 1 => out.push(*s),
                (CmpOp::Gt, Node::Skill(s), Node::Int(k)) if *k >= 0 => out.push(*s),
                (CmpOp::Le | CmpOp::Eq, Node::Int(k), Node::Skill(s)) if *k >= 1 => out.push(*s),
                (CmpOp::Lt, Node::Int(k), Node::Skill(s)) if *k >= 0 => out.push(*s),
                _ => {}
            },
            Node::HasBit { mask, .. } => {
                if let Node::Skill(s) = mask.as_ref() {
                    out.push(*s);
                }
            }
            Node::AnyBit(x, bits) if *bits != 0 => {
                if let Node::Skill(s) = x.as_ref() {
                    out.push(*s);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    if let ir::Body::Bool(n) = &module.function(f).body {
        walk(n, &mut out);
    }
    out
}

/// A set of agents, by place in the table, as bits: the per-skill indexes
/// intersect a word (64 agents) at a time.
#[derive(Clone, Debug, Default)]
struct AgentSet {
    words: Vec<u64>,
    len: usize,
}

impl AgentSet {
    /// An empty set for a table of `agents`.
    fn new(agents: usize) -> AgentSet {
        AgentSet {
            words: vec![0; agents.div_ceil(64)],
            len: 0,
        }
    }

    fn set(&mut self, agent: usize, member: bool) {
        let (word, bit) = (agent / 64, 1u64 << (agent % 64));
        let Some(w) = self.words.get_mut(word) else {
            return;
        };
        if (*w & bit != 0) != member {
            *w ^= bit;
            if member {
                self.len += 1;
            } else {
                self.len -= 1;
            }
        }
    }

    fn len(&self) -> usize {
        self.len
    }

    fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The agents in every one of `sets`, in table order.
    fn intersection<'s>(sets: &'s [&'s AgentSet]) -> impl Iterator<Item = usize> + 's {
        let words = sets.iter().map(|s| s.words.len()).min().unwrap_or(0);
        (0..words).flat_map(move |i| {
            let mut bits = sets.iter().fold(!0u64, |acc, s| acc & s.words[i]);
            std::iter::from_fn(move || {
                if bits == 0 {
                    return None;
                }
                let bit = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                Some(i * 64 + bit)
            })
        })
    }
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
