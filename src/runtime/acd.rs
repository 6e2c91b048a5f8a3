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

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::oneshot;

use super::channel::Target;
use super::events::{Event, EventBus};
use super::roster::{AgentSpec, Roster};
use crate::checked::{AgentState, Presentation, QueueId, SkillId, Strategy};
use crate::facts::{AgentFacts, Facts};
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
}

/// Agents offered a call. They stay `ringing` until the call reports back.
#[derive(Debug)]
pub struct Offer {
    pub agents: Vec<usize>,
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
    agents: Vec<Agent>,
    by_id: HashMap<String, usize>,
    by_extension: HashMap<String, usize>,
    /// Available agents, in roster order.
    available: BTreeSet<usize>,
    /// Per skill: available agents holding it.
    skill_index: Vec<BTreeSet<usize>>,
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
}

impl Acd {
    pub fn new(roster: &Roster, skills: Vec<Vec<i64>>, events: Arc<EventBus>) -> Acd {
        let agents: Vec<Agent> = roster
            .agents
            .iter()
            .zip(skills)
            .map(|(spec, skills)| Agent {
                spec: spec.clone(),
                skills,
                state: AgentState::LoggedOut,
                idle_since_ms: 0,
                calls_today: 0,
                talk_ms_today: 0,
                missed_in_row: 0,
                last_answer_seq: 0,
            })
            .collect();
        let mut inner = Inner {
            agents: Vec::new(),
            by_id: HashMap::new(),
            by_extension: HashMap::new(),
            available: BTreeSet::new(),
            skill_index: Vec::new(),
            waiting: BTreeMap::new(),
            round_robin: HashMap::new(),
            random: 0x9E37_79B9_7F4A_7C15,
            answers: 0,
            next_place: 0,
            pinned: HashMap::new(),
        };
        inner.set_agents(agents);
        Acd {
            inner: Mutex::new(inner),
            events,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock would be a bug; keep serving.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Replaces the roster, keeping the state of agents that remain. Agents
    /// who left are logged out once their current call ends.
    pub fn reload_roster(&self, roster: &Roster, skills: Vec<Vec<i64>>) {
        let mut inner = self.lock();
        let agents: Vec<Agent> = roster
            .agents
            .iter()
            .zip(skills)
            .map(|(spec, skills)| {
                match inner.by_id.get(&spec.id).map(|&i| inner.agents[i].clone()) {
                    Some(old) => Agent {
                        spec: spec.clone(),
                        skills,
                        ..old
                    },
                    None => Agent {
                        spec: spec.clone(),
                        skills,
                        state: AgentState::LoggedOut,
                        idle_since_ms: 0,
                        calls_today: 0,
                        talk_ms_today: 0,
                        missed_in_row: 0,
                        last_answer_seq: 0,
                    },
                }
            })
            .collect();
        inner.set_agents(agents);
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
            inner
                .waiting
                .insert((Reverse(waiter.priority), seq), waiter);
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
    pub fn answered(&self, offer: &Offer, winner: usize, now_ms: i64) {
        let mut changed = Vec::new();
        {
            let mut inner = self.lock();
            inner.answers += 1;
            let seq = inner.answers;
            for &a in &offer.agents {
                if inner.agents.get(a).map(|x| x.state) != Some(AgentState::Ringing) {
                    continue;
                }
                if a == winner {
                    inner.set_state(a, AgentState::OnCall, now_ms);
                    let agent = &mut inner.agents[a];
                    agent.missed_in_row = 0;
                    agent.calls_today += 1;
                    agent.last_answer_seq = seq;
                    changed.push((agent.spec.id.clone(), AgentState::OnCall));
                } else {
                    inner.set_state(a, AgentState::Available, now_ms);
                    changed.push((inner.agents[a].spec.id.clone(), AgentState::Available));
                }
            }
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
            for &a in &offer.agents {
                if inner.agents.get(a).map(|x| x.state) != Some(AgentState::Ringing) {
                    continue;
                }
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
                inner.set_state(a, to, now_ms);
                changed.push((inner.agents[a].spec.id.clone(), to));
            }
        }
        self.publish_states(changed, now_ms);
        self.dispatch(now_ms);
    }

    /// The conversation ended; the agent goes to wrap-up (or straight back
    /// to available without one).
    pub fn call_ended(&self, agent: usize, talk_ms: i64, wrapup_ms: i64, now_ms: i64) {
        let to = if wrapup_ms > 0 {
            AgentState::Wrapup
        } else {
            AgentState::Available
        };
        let id = {
            let mut inner = self.lock();
            let Some(a) = inner.agents.get_mut(agent) else {
                return;
            };
            a.talk_ms_today += talk_ms;
            if a.state != AgentState::OnCall {
                return;
            }
            inner.set_state(agent, to, now_ms);
            inner.agents[agent].spec.id.clone()
        };
        self.publish_states(vec![(id, to)], now_ms);
        self.dispatch(now_ms);
    }

    /// Wrap-up is over: the agent is available, unless they paused or
    /// logged out meanwhile.
    pub fn wrapup_done(&self, agent: usize, now_ms: i64) {
        let id = {
            let mut inner = self.lock();
            if inner.agents.get(agent).map(|a| a.state) != Some(AgentState::Wrapup) {
                return;
            }
            inner.set_state(agent, AgentState::Available, now_ms);
            inner.agents[agent].spec.id.clone()
        };
        self.publish_states(vec![(id, AgentState::Available)], now_ms);
        self.dispatch(now_ms);
    }

    /// Reserves agents for a hunt group or a direct extension: those that
    /// are available become `ringing`. Returns the offer for them.
    pub fn reserve(&self, agents: &[usize], now_ms: i64) -> Offer {
        let mut changed = Vec::new();
        let offer = {
            let mut inner = self.lock();
            let mut taken = Vec::new();
            for &a in agents {
                if inner.agents.get(a).map(|x| x.state) == Some(AgentState::Available) {
                    inner.set_state(a, AgentState::Ringing, now_ms);
                    changed.push((inner.agents[a].spec.id.clone(), AgentState::Ringing));
                    taken.push(a);
                }
            }
            Offer {
                targets: taken.iter().map(|&a| inner.agents[a].target()).collect(),
                agents: taken,
            }
        };
        self.publish_states(changed, now_ms);
        offer
    }

    /// Index of the agent with this extension.
    pub fn agent_index_by_extension(&self, extension: &str) -> Option<usize> {
        self.lock().by_extension.get(extension).copied()
    }

    /// Queue statistics as decisions read them: waiting, available, agents
    /// logged in, longest wait and expected wait (milliseconds).
    pub fn stats(&self, queue: &str, now_ms: i64, aht_ms: i64) -> [i64; 5] {
        let inner = self.lock();
        let waiting: Vec<i64> = inner
            .waiting
            .values()
            .filter(|w| w.queue_name == queue)
            .map(|w| w.since_ms)
            .collect();
        let logged_in = inner
            .agents
            .iter()
            .filter(|a| a.state != AgentState::LoggedOut)
            .count() as i64;
        let available = inner.available.len() as i64;
        let longest = waiting
            .iter()
            .map(|since| now_ms - since)
            .max()
            .unwrap_or(0)
            .max(0);
        let expected = if logged_in == 0 {
            0
        } else {
            (waiting.len() as i64 + 1) * aht_ms / logged_in
        };
        let mut stats = [
            waiting.len() as i64,
            available,
            logged_in,
            longest,
            expected,
        ];
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
        let logged: Vec<usize> = (0..inner.agents.len())
            .filter(|&a| inner.agents[a].state != AgentState::LoggedOut)
            .collect();
        let Some(f) = require else {
            return !logged.is_empty();
        };
        let frame = program.native().frame(facts);
        logged.into_iter().any(|a| {
            let facts = inner.agent_facts(a, now_ms);
            let agent = AgentFrame::new(program.native(), &facts);
            program.native().run(f, &frame, Some(&agent)) != 0
        })
    }

    /// Matches waiting callers with available agents and sends offers.
    pub fn dispatch(&self, now_ms: i64) {
        let mut offers: Vec<(String, u64, Vec<String>)> = Vec::new();
        {
            let mut inner = self.lock();
            if inner.available.is_empty() || inner.waiting.is_empty() {
                return;
            }
            let keys: Vec<(Reverse<u32>, u64)> = inner.waiting.keys().copied().collect();
            for key in keys {
                if inner.available.is_empty() {
                    break;
                }
                let Some(w) = inner.waiting.remove(&key) else {
                    continue;
                };
                let chosen = inner.select(&w, now_ms);
                if chosen.is_empty() {
                    inner.waiting.insert(key, w);
                    continue;
                }
                for &a in &chosen {
                    inner.set_state(a, AgentState::Ringing, now_ms);
                }
                let offer = Offer {
                    targets: chosen.iter().map(|&a| inner.agents[a].target()).collect(),
                    agents: chosen.clone(),
                };
                let ids: Vec<String> = chosen
                    .iter()
                    .map(|&a| inner.agents[a].spec.id.clone())
                    .collect();
                if let Err(offer) = w.offer.send(offer) {
                    // The call went away between waiting and the offer.
                    for a in offer.agents {
                        inner.set_state(a, AgentState::Available, now_ms);
                    }
                    continue;
                }
                offers.push((w.queue_name.clone(), w.call, ids));
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
            .filter(|(_, a)| !a.spec.extension.is_empty())
            .map(|(i, a)| (a.spec.extension.clone(), i))
            .collect();
        let skills = agents.first().map_or(0, |a| a.skills.len());
        self.agents = agents;
        self.available.clear();
        self.skill_index = vec![BTreeSet::new(); skills];
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
                if available {
                    set.insert(agent);
                } else {
                    set.remove(&agent);
                }
            }
        }
        if available {
            self.available.insert(agent);
        } else {
            self.available.remove(&agent);
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
        self.agents[agent].state = to;
        if to == AgentState::Available {
            self.agents[agent].idle_since_ms = now_ms;
            self.index(agent, true);
        }
    }

    fn agent_facts(&self, agent: usize, now_ms: i64) -> AgentFacts {
        let a = &self.agents[agent];
        AgentFacts {
            skills: a.skills.clone(),
            attrs: [
                (now_ms - a.idle_since_ms).max(0) / 60_000,
                a.calls_today,
                a.talk_ms_today / 60_000,
            ],
        }
    }

    /// The agents to offer a waiting caller, in the order to ring them;
    /// empty when nobody eligible is available.
    fn select(&mut self, w: &Waiter, now_ms: i64) -> Vec<usize> {
        let program = &w.program;
        let queue = program.checked.queue(w.queue);
        let fns = &program.ir.queues[w.queue.index()];
        // Candidates: available agents holding every skill the filter
        // needs, from the smallest per-skill index.
        let needed = w
            .require
            .map(|f| required_skills(&program.ir, f))
            .unwrap_or_default();
        let pool: Vec<usize> = match needed
            .iter()
            .filter_map(|s| self.skill_index.get(s.index()))
            .min_by_key(|set| set.len())
        {
            Some(set) => set.iter().copied().collect(),
            None => self.available.iter().copied().collect(),
        };
        if pool.is_empty() {
            return Vec::new();
        }
        let native = program.native();
        let frame = native.frame(&w.facts);
        let mut eligible: Vec<(usize, bool, i64)> = Vec::with_capacity(pool.len());
        for a in pool {
            let facts = self.agent_facts(a, now_ms);
            let agent = AgentFrame::new(native, &facts);
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
        let ring_all = matches!(queue.presentation, Presentation::All { .. })
            || queue.strategy == Strategy::RingAll;
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
