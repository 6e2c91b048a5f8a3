//! The ACD: agents and their states, callers waiting in queues, and the
//! choice of which agent is offered which call.
//!
//! Callers wait by priority, then by arrival, across all queues. When an
//! agent frees up or a caller arrives, waiting callers are matched in that
//! order with available agents: candidates come from per-skill indexes of
//! available agents (`index`), are filtered by the queue's `require` (the
//! current relaxation step's), split by `prefer`, and ordered by the
//! queue's strategy (`select`). An agent is offered at most one call at a
//! time: offered agents are `ringing` until the call says how the offer
//! ended (`state`). Filters that time alone makes true are matched again
//! each minute while a caller with one waits, and wrap-ups end at
//! deadlines the ACD keeps (`deadlines`). Queue statistics count each
//! queue's own agents, for the call that asks (`count`). A reload swaps
//! the roster and reads agents through a translation for calls that began
//! under the old skills (`reload`), and moves callers in line to the new
//! version's queue of the same name, in their place (`moving`).
//!
//! This file is the facade: every public operation takes the one lock
//! once, makes its change and the dispatch that change allows, and
//! publishes the events before it lets go, so that the event stream's
//! order is the order of the changes even with calls on many threads.
//! Time comes from the runtime's `Clock`, read once per operation. The
//! state behind the lock (`Inner`) and the types the files here share
//! live in `inner`, which the other files import and which imports none of
//! them back; this file re-exports the public ones.
//!
//! Outside this module agents are named by their roster id, never by their
//! place in the table: a roster reload reorders the table while offers,
//! calls and wrap-ups are in flight.

mod contention;
mod count;
mod deadlines;
mod index;
mod inner;
mod moving;
mod reload;
mod select;
mod state;
mod view;

use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{Notify, watch};

pub use self::contention::Contention;
use self::contention::{Meter, Stamp};
use self::deadlines::Deadlines;
use self::index::SkillIndex;
pub use self::inner::{AcdError, Agent, FULL_PASS_MS, Moved, Offer, Turn, Waiter};
use self::inner::{Fresh, Inner};
pub use self::moving::Due;
use self::select::Made;
pub use self::view::{QueueAgent, QueueView, WaitingCaller};
use super::channel::Target;
use super::clock::Clock;
use super::events::{Event, EventBus};
use super::roster::{AgentSpec, Roster, RosterError};
use crate::checked::{self, AgentState, QueueId, QueueStat};
use crate::facts::{Facts, QueueStats};
use crate::ir::FuncId;
use crate::lookup::LookupTables;
use crate::program::{Engine, Program};

pub struct Acd {
    inner: Mutex<Inner>,
    events: Arc<EventBus>,
    clock: Clock,
    /// Counts the times agents may have left the logged-in set (a logout,
    /// a roster reload): callers waiting in a queue with `no agents` watch
    /// it and check again whether anyone could still take their call.
    departures: watch::Sender<u64>,
    /// Told when [`Acd::next_due_ms`] moved earlier (a wrap-up began, a
    /// timed filter started waiting), so that whoever sleeps until the
    /// next deadline wakes and sleeps again for the new one.
    due: Notify,
    /// How long operations waited for the lock.
    meter: Meter,
}

impl Acd {
    /// An ACD for a roster, every agent logged out; the roster's skills
    /// must be the program's. It reads time from `clock`.
    pub fn new(
        roster: &Roster,
        program: &checked::Program,
        events: Arc<EventBus>,
        engine: Engine,
        clock: Clock,
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
            random: crate::random::Rng::new(0x9E37_79B9_7F4A_7C15),
            answers: 0,
            next_place: 0,
            pinned: HashMap::new(),
            logged: SkillIndex::default(),
            fresh: Fresh::default(),
            timed: HashSet::new(),
            deadlines: Deadlines::default(),
            passes: (0, 0),
            acquired: 0,
            engine,
            in_force: None,
        };
        inner.set_agents(agents);
        Ok(Acd {
            inner: Mutex::new(inner),
            events,
            clock,
            departures: watch::Sender::new(0),
            due: Notify::new(),
            meter: Meter::default(),
        })
    }

    /// What runs the queues' `require`, `prefer` and `score`.
    pub fn engine(&self) -> Engine {
        self.lock().engine
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        let mut inner = self.meter.lock(&self.inner);
        inner.acquired += 1;
        inner
    }

    /// How long operations have waited for the ACD's lock so far, and how
    /// much matching dispatch did.
    pub fn contention(&self) -> Contention {
        let mut c = self.meter.read();
        let inner = self.lock();
        (c.dispatches, c.full_passes) = inner.passes;
        c.acquired = inner.acquired;
        c
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
    ) -> Result<(), RosterError> {
        let stamp = Stamp::now();
        let skills = roster.skills_for(program)?;
        let now_ms = self.clock.elapsed_ms();
        let mut inner = self.lock();
        let (dropped, offers) = {
            let dropped = inner.replace_roster(roster, program, skills);
            (dropped, inner.dispatch(now_ms))
        };
        self.publish_states(
            dropped
                .into_iter()
                .map(|id| (id, AgentState::LoggedOut))
                .collect(),
            now_ms,
        );
        // Agents may have left, or lost the skills a waiting caller needs.
        self.departed();
        self.publish_offers(offers, now_ms, stamp);
        Ok(())
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

    pub fn login(&self, id: &str) -> Result<(), AcdError> {
        self.transition(id, state::LOGIN)
    }

    pub fn logout(&self, id: &str) -> Result<(), AcdError> {
        self.transition(id, state::LOGOUT)
    }

    pub fn pause(&self, id: &str) -> Result<(), AcdError> {
        self.transition(id, state::PAUSE)
    }

    pub fn unpause(&self, id: &str) -> Result<(), AcdError> {
        self.transition(id, state::UNPAUSE)
    }

    fn transition(&self, id: &str, t: state::Transition) -> Result<(), AcdError> {
        let stamp = Stamp::now();
        let now_ms = self.clock.elapsed_ms();
        let mut inner = self.lock();
        let offers = {
            inner.transition(id, &t, now_ms)?;
            inner.dispatch(now_ms)
        };
        self.events.publish(Event::AgentState {
            agent: id.to_string(),
            state: t.to,
            at_ms: now_ms,
        });
        if t.to == AgentState::LoggedOut {
            self.departed();
        }
        self.publish_offers(offers, now_ms, stamp);
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
    /// deadline owns such a state, so the agent keeps it until an
    /// operation moves them.
    pub(crate) fn place(&self, id: &str, state: AgentState) -> Result<(), AcdError> {
        let stamp = Stamp::now();
        let now_ms = self.clock.elapsed_ms();
        let mut inner = self.lock();
        let offers = {
            let index = *inner
                .by_id
                .get(id)
                .ok_or_else(|| AcdError::UnknownAgent(id.to_string()))?;
            inner.set_state(index, state, now_ms);
            inner.dispatch(now_ms)
        };
        self.publish_states(vec![(id.to_string(), state)], now_ms);
        if state == AgentState::LoggedOut {
            self.departed();
        }
        self.publish_offers(offers, now_ms, stamp);
        Ok(())
    }

    /// Holds statistics of a queue at given values, whatever the ACD
    /// counts: for `dialect test`, whose `given queue` lines set what
    /// decisions read.
    pub(crate) fn pin_stats(&self, queue: &str, pins: Vec<(QueueStat, i64)>) {
        self.lock().pinned.insert(queue.to_string(), pins);
    }

    /// Puts a caller in line. Offers arrive on the waiter's channel.
    /// Returns the caller's place in line (kept when re-queued).
    pub fn enqueue(&self, waiter: Waiter, place: Option<u64>) -> u64 {
        let stamp = Stamp::now();
        // Read from the IR before taking the lock.
        let timed = (waiter.require).is_some_and(|f| waiter.program.ir().reads_idle_time(f));
        let now_ms = self.clock.elapsed_ms();
        let mut inner = self.lock();
        let (seq, moved, offers) = {
            let before = inner.next_due_ms();
            let seq = place.unwrap_or(inner.next_place);
            inner.next_place = inner.next_place.max(seq + 1);
            let key = (Reverse(waiter.priority), seq);
            if timed {
                inner.timed.insert(key);
            }
            inner.waiting.insert(key, waiter);
            inner.fresh.waiters.push(key);
            // A caller whose offer rang through a reload rejoins under the
            // version in force (`moving`).
            if place.is_some() {
                let now = self.clock.now();
                inner.move_behind(key, now, now_ms);
            }
            let moved = deadlines::earlier(inner.next_due_ms(), before);
            (seq, moved, inner.dispatch(now_ms))
        };
        self.due_moved(moved);
        self.publish_offers(offers, now_ms, stamp);
        seq
    }

    /// Puts a new version of the program in force for the callers in
    /// line: each whose queue `program` also has (by name) waits on in
    /// that queue, keeping its place, under its definition: its filters,
    /// with the relaxation steps due since the caller joined, and the
    /// caller's facts carried over (lookup rows read again from `tables`,
    /// which must fit `program`). Each moved caller hears of it
    /// ([`Turn::Moved`]) before any offer made under the new definition,
    /// which the one dispatch that follows may make. Callers in queues
    /// `program` lacks stay as they are. A caller whose offer is ringing
    /// now moves when it rejoins the line, if it does.
    pub fn move_waiting(&self, program: &Arc<Program>, tables: &Arc<LookupTables>) {
        let stamp = Stamp::now();
        let (now, now_ms) = (self.clock.now(), self.clock.elapsed_ms());
        let mut inner = self.lock();
        let (moved, offers) = {
            let before = inner.next_due_ms();
            inner.move_waiting(program, tables, now, now_ms);
            let moved = deadlines::earlier(inner.next_due_ms(), before);
            (moved, inner.dispatch(now_ms))
        };
        self.due_moved(moved);
        self.publish_offers(offers, now_ms, stamp);
    }

    /// Changes a waiting caller's filter (a relaxation step).
    pub fn relax(&self, priority: u32, place: u64, require: Option<FuncId>) {
        let stamp = Stamp::now();
        let now_ms = self.clock.elapsed_ms();
        let mut inner = self.lock();
        let (moved, offers) = {
            let before = inner.next_due_ms();
            let key = (Reverse(priority), place);
            // Whose program the IR is read from needs the lock; what it
            // reads is small (one filter and the functions it calls).
            if let Some(w) = inner.waiting.get_mut(&key) {
                w.require = require;
                let timed = require.is_some_and(|f| w.program.ir().reads_idle_time(f));
                if timed {
                    inner.timed.insert(key);
                } else {
                    inner.timed.remove(&key);
                }
                inner.fresh.waiters.push(key);
            }
            let moved = deadlines::earlier(inner.next_due_ms(), before);
            (moved, inner.dispatch(now_ms))
        };
        self.due_moved(moved);
        self.publish_offers(offers, now_ms, stamp);
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
    /// agent match). Callers in line wake by then and call [`Acd::tick`].
    pub fn next_pass_ms(&self) -> Option<i64> {
        self.lock().next_pass_ms()
    }

    /// The ACD's next deadline, on the runtime's clock: the earliest of
    /// the wrap-ups' ends and the timed full pass ([`Acd::next_pass_ms`]);
    /// `None` when nothing is due. Whoever owns the runtime's time sleeps
    /// until then (or until [`Acd::due_changed`] says it moved earlier)
    /// and calls [`Acd::tick`].
    pub fn next_due_ms(&self) -> Option<i64> {
        self.lock().next_due_ms()
    }

    /// Notified when [`Acd::next_due_ms`] moves earlier. A notification
    /// sent while nobody waits is kept for the next waiter, so one that
    /// comes between reading the deadline and starting to wait is not lost.
    pub fn due_changed(&self) -> &Notify {
        &self.due
    }

    fn due_moved(&self, moved: bool) {
        if moved {
            self.due.notify_one();
        }
    }

    /// Does what is due by now: ends the wrap-ups whose time is up, in the
    /// order of their deadlines (each agent's `available` published and
    /// dispatch run as it ends, as when each had its own timer), then
    /// runs the timed full pass if it is due. Does nothing when nothing is
    /// due, so anyone may call it whenever they wake.
    pub fn tick(&self) {
        let now_ms = self.clock.elapsed_ms();
        loop {
            // One lock per wrap-up ended, and one when nothing is due (a
            // waiting caller's tick, most often).
            let stamp = Stamp::now();
            let mut inner = self.lock();
            if let Some((agent, wrapup)) = inner.deadlines.pop_due(now_ms) {
                self.wrapup_done(inner, &agent, wrapup, now_ms, stamp);
                continue;
            }
            let offers = match inner.next_pass_ms() {
                Some(due) if now_ms >= due => inner.dispatch(now_ms),
                _ => return,
            };
            self.publish_offers(offers, now_ms, stamp);
            return;
        }
    }

    /// An offered agent answered: they are on the call, the others offered
    /// with them are available again.
    pub fn answered(&self, offer: &Offer, winner: &str) {
        let stamp = Stamp::now();
        let now_ms = self.clock.elapsed_ms();
        let mut inner = self.lock();
        let (changed, offers) = {
            let changed = inner.answered(offer, winner, now_ms);
            (changed, inner.dispatch(now_ms))
        };
        self.publish_states(changed, now_ms);
        self.publish_offers(offers, now_ms, stamp);
    }

    /// An offer rang out (or the caller hung up while it rang): the agents
    /// are available again, and agents who let `pause_after` offers in a
    /// row ring out are paused.
    pub fn not_answered(&self, offer: &Offer, missed: bool, pause_after: Option<u32>) {
        let stamp = Stamp::now();
        let now_ms = self.clock.elapsed_ms();
        let mut inner = self.lock();
        let (changed, offers) = {
            let changed = inner.not_answered(offer, missed, pause_after, now_ms);
            (changed, inner.dispatch(now_ms))
        };
        self.publish_states(changed, now_ms);
        self.publish_offers(offers, now_ms, stamp);
    }

    /// The conversation ended; the agent goes to wrap-up for `wrapup_ms`
    /// (or straight back to available without one). Returns when the
    /// wrap-up ends (clock ms), when one began: the ACD keeps that
    /// deadline, and [`Acd::tick`] ends the wrap-up once it has passed.
    pub fn call_ended(&self, agent: &str, talk_ms: i64, wrapup_ms: i64) -> Option<i64> {
        let stamp = Stamp::now();
        let now_ms = self.clock.elapsed_ms();
        let mut inner = self.lock();
        let (to, due, moved, offers) = {
            let before = inner.next_due_ms();
            let (to, due) = inner.call_ended(agent, talk_ms, wrapup_ms, now_ms)?;
            let moved = deadlines::earlier(inner.next_due_ms(), before);
            (to, due, moved, inner.dispatch(now_ms))
        };
        self.due_moved(moved);
        self.publish_states(vec![(agent.to_string(), to)], now_ms);
        self.publish_offers(offers, now_ms, stamp);
        due
    }

    /// Wrap-up number `wrapup` is over: the agent is available, unless they
    /// paused or logged out meanwhile (or are in a later wrap-up).
    fn wrapup_done(
        &self,
        mut inner: MutexGuard<'_, Inner>,
        agent: &str,
        wrapup: u64,
        now_ms: i64,
        stamp: Stamp,
    ) {
        let offers = {
            if !inner.wrapup_done(agent, wrapup, now_ms) {
                return;
            }
            inner.dispatch(now_ms)
        };
        self.publish_states(vec![(agent.to_string(), AgentState::Available)], now_ms);
        self.publish_offers(offers, now_ms, stamp);
    }

    /// Reserves the agents with these extensions for a hunt group or a
    /// direct call: those that are available become `ringing`. Returns the
    /// offer for them.
    pub fn reserve(&self, extensions: &[String]) -> Offer {
        let now_ms = self.clock.elapsed_ms();
        let mut inner = self.lock();
        let (offer, changed) = inner.reserve(extensions, now_ms);
        self.publish_states(changed, now_ms);
        offer
    }

    /// Queue statistics as a call's decisions read them: callers waiting
    /// in the queue, the queue's agents who are available, the queue's
    /// agents (logged in, in any state), the longest wait and the expected
    /// wait (milliseconds).
    ///
    /// The queue's agents are those who could take this call there: logged
    /// in (departing agents aside) and passing the queue's `require` or
    /// one of its relaxation steps' (the widest filter, as for `no
    /// agents`), run with the call's facts, so a filter that reads the
    /// caller's lookup row counts for this caller. The expected wait is
    /// the callers ahead, and this one, times the average handle time
    /// over the queue's agents (0 without any). Values pinned with
    /// `pin_stats` replace what is counted.
    pub fn stats(
        &self,
        program: &Program,
        queue: QueueId,
        facts: &Facts,
        aht_ms: i64,
    ) -> QueueStats {
        let now_ms = self.clock.elapsed_ms();
        let inner = self.lock();
        inner.queue_stats(program, queue, facts, aht_ms, now_ms, &mut Vec::new())
    }

    /// A queue as someone watching it sees it, under one lock: its
    /// waiting callers (by priority, then arrival, with their positions),
    /// its agents (those its statistics count: logged in and passing its
    /// widest filter for these facts) with their states, and its
    /// statistics as [`Acd::stats`] counts them.
    pub fn queue_view(
        &self,
        program: &Program,
        queue: QueueId,
        facts: &Facts,
        aht_ms: i64,
    ) -> QueueView {
        let now_ms = self.clock.elapsed_ms();
        self.lock()
            .queue_view(program, queue, facts, aht_ms, now_ms)
    }

    /// The statistics of every queue the program's decisions read
    /// ([`Program::queues_read`]) into `facts.queues`, as [`Acd::stats`]
    /// counts them, in that order, under one lock and one reading of the
    /// clock: what a call does before each decision.
    pub fn read_stats(&self, program: &Program, facts: &mut Facts, aht_ms: i64) {
        let queues = program.queues_read();
        if queues.is_empty() {
            return;
        }
        let now_ms = self.clock.elapsed_ms();
        let inner = self.lock();
        if inner.counts_nothing() {
            for &i in queues {
                facts.queues[i] = QueueStats::default();
            }
            return;
        }
        let mut filters = Vec::new();
        for &i in queues {
            let queue = QueueId(i as u32);
            facts.queues[i] =
                inner.queue_stats(program, queue, facts, aht_ms, now_ms, &mut filters);
        }
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
    ) -> bool {
        let now_ms = self.clock.elapsed_ms();
        let inner = self.lock();
        let mut found = false;
        inner.each_taker(program, filters, facts, now_ms, |_| {
            found = true;
            false
        });
        found
    }

    /// The agents a caller in `queue` with these facts would be offered
    /// now, in the order to ring them, without offering the call: the
    /// queue's `require` (not its relaxation steps: nobody waits), then
    /// `prefer`, `score` and strategy over available agents, passing by
    /// those `reachable` refuses. Nobody changes state (a round robin
    /// moves on). Empty when nobody eligible is available. For a server
    /// that answers without keeping calls (redirect mode).
    pub fn pick(
        &self,
        program: &Program,
        queue: QueueId,
        facts: &Facts,
        reachable: &dyn Fn(&AgentSpec) -> bool,
    ) -> Vec<Target> {
        let now_ms = self.clock.elapsed_ms();
        let ask = select::Ask {
            program,
            queue,
            queue_name: &program.checked().queue(queue).name,
            facts,
            require: program.ir().queues[queue.index()].require,
            passed_over: &[],
            reachable: Some(reachable),
        };
        let mut inner = self.lock();
        let chosen = inner.select(&ask, now_ms);
        chosen.iter().map(|&a| inner.agents[a].target()).collect()
    }

    /// Matches waiting callers with available agents and sends offers
    /// (see `select`'s `Inner::dispatch` for what it looks at). Every
    /// operation that can make a match does this itself.
    pub fn dispatch(&self) {
        let stamp = Stamp::now();
        let now_ms = self.clock.elapsed_ms();
        let mut inner = self.lock();
        let offers = inner.dispatch(now_ms);
        self.publish_offers(offers, now_ms, stamp);
    }

    /// Publishes the offers dispatch made for an operation that began at
    /// `stamp` (the caller holds the lock): each agent ringing, then the
    /// offer.
    fn publish_offers(&self, offers: Vec<Made>, now_ms: i64, stamp: Stamp) {
        if !offers.is_empty() {
            self.meter.offered(stamp, offers.len());
        }
        for made in offers {
            for a in &made.agents {
                self.events.publish(Event::AgentState {
                    agent: a.clone(),
                    state: AgentState::Ringing,
                    at_ms: now_ms,
                });
            }
            self.events.publish(Event::Offered {
                call: made.call,
                queue: made.queue,
                agents: made.agents,
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

#[cfg(test)]
mod tests;
