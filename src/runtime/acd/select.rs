//! Selection: which waiting caller is matched with which available agent,
//! and the offer. Dispatch looks only at what changed since it last ran
//! (a caller who joined, an agent who freed up), or at everything; a
//! caller's candidates come from the skill indexes, are filtered by the
//! queue's `require`, split by `prefer` and ordered by its strategy.

use std::cmp::Reverse;

use super::index::Term;
use super::inner::{FULL_PASS_MS, Inner, Offer, Turn, Waiter};
use super::reload::Translation;
use super::state::Hot;
use crate::checked::QueueId;
use crate::checked::{AgentState, Presentation, Strategy};
use crate::facts::Facts;
use crate::ir::needs::{Need, Needs, exact_skills, required_skills};
use crate::ir::{self, FuncId};
use crate::program::Program;
use crate::runtime::roster::AgentSpec;

/// What selection reads of a caller: a waiting caller's, or a call's that
/// only asks who would be chosen (`Acd::pick`, for redirect mode).
pub(super) struct Ask<'a> {
    pub(super) program: &'a Program,
    pub(super) queue: QueueId,
    pub(super) queue_name: &'a str,
    pub(super) facts: &'a Facts,
    /// The filter in force.
    pub(super) require: Option<FuncId>,
    /// Agents already rung for this caller: last choices.
    pub(super) passed_over: &'a [String],
    /// Agents this returns false for are passed by (for redirect mode:
    /// agents with no registered phone).
    pub(super) reachable: Option<&'a dyn Fn(&AgentSpec) -> bool>,
}

impl Waiter {
    fn ask(&self) -> Ask<'_> {
        Ask {
            program: &self.program,
            queue: self.queue,
            queue_name: &self.queue_name,
            facts: &self.facts,
            require: self.require,
            passed_over: &self.passed_over,
            reachable: None,
        }
    }
}

/// An offer made by dispatch, for its events: the queue, the call and the
/// agents now ringing.
pub(super) struct Made {
    pub(super) queue: String,
    pub(super) call: std::sync::Arc<crate::runtime::record::CallInfo>,
    pub(super) agents: Vec<String>,
}

impl Inner {
    /// Matches waiting callers with available agents and sends offers;
    /// returns the offers made.
    ///
    /// After each dispatch no waiting caller can take any available agent
    /// (the invariant), so only what changed since needs looking at: a
    /// caller who joined is matched against the available agents, and an
    /// agent who became available goes to the first caller in line who
    /// can take them. Several changes at once, a roster change, or a
    /// minute gone by make a full pass. A filter that time alone makes
    /// true (`agent.idle_minutes`) breaks the invariant with no change at
    /// all: while one waits, the full pass runs each minute through
    /// [`super::Acd::tick`].
    pub(super) fn dispatch(&mut self, now_ms: i64) -> Vec<Made> {
        let mut offers = Vec::new();
        let fresh = std::mem::take(&mut self.fresh);
        let changes = fresh.agents.len() + fresh.waiters.len();
        let full = fresh.everything || changes > 1 || now_ms - fresh.full_pass_ms >= FULL_PASS_MS;
        self.fresh.full_pass_ms = if full { now_ms } else { fresh.full_pass_ms };
        self.passes.0 += 1;
        self.passes.1 += u64::from(full);
        if self.available.all.is_empty() || self.waiting.is_empty() {
            return offers;
        }
        let keys: Vec<(Reverse<u32>, u64)> = if full {
            self.waiting.keys().copied().collect()
        } else if let Some(&key) = fresh.waiters.first() {
            vec![key]
        } else if let Some(&agent) = fresh.agents.first() {
            self.first_taker(agent, now_ms).into_iter().collect()
        } else {
            Vec::new()
        };
        for key in keys {
            if self.available.all.is_empty() {
                break;
            }
            if let Some(offer) = self.offer(key, now_ms) {
                offers.push(offer);
            }
        }
        // Agents offered are ringing now. One still available here was
        // released by a call that went away mid-offer: look again at
        // everyone next time.
        let released = std::mem::take(&mut self.fresh.agents);
        if released.iter().any(|&a| {
            self.agents
                .get(a)
                .is_some_and(|x| x.state == AgentState::Available)
        }) {
            self.fresh.everything = true;
        }
        offers
    }

    /// The index sets whose intersection holds every available agent that
    /// meets `needs`, and whether it holds only those (false when a need
    /// does not fit the layout and is left out); `None` when no agent can.
    pub(super) fn terms(&self, needs: &[Need]) -> Option<(Vec<Term<'_>>, bool)> {
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

    /// Offers the waiting caller `key` to the agents `select` picks, if
    /// any: they become ringing and the caller leaves the line.
    fn offer(&mut self, key: (Reverse<u32>, u64), now_ms: i64) -> Option<Made> {
        let w = self.waiting.remove(&key)?;
        let chosen = self.select(&w.ask(), now_ms);
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
        if w.offer.send(Turn::Offer(offer)).is_err() {
            // The call went away between waiting and the offer.
            for &a in &chosen {
                self.set_state(a, AgentState::Available, now_ms);
            }
            return None;
        }
        Some(Made {
            queue: w.queue_name.clone(),
            call: std::sync::Arc::clone(&w.call),
            agents: ids,
        })
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
            let translation = Translation::between(&self.layout, &w.program.checked().skills);
            let skills = self.skills_for(agent, translation.as_ref(), &mut scratch);
            let calls = w.program.agent_calls(self.engine, &w.facts);
            (calls.bind(f).run(skills, attrs) != 0).then_some(*key)
        })
    }

    /// The agents to offer a waiting caller, in the order to ring them;
    /// empty when nobody eligible is available.
    pub(super) fn select(&mut self, w: &Ask<'_>, now_ms: i64) -> Vec<usize> {
        let program = w.program;
        let queue = program.checked().queue(w.queue);
        let fns = &program.ir().queues[w.queue.index()];
        // A caller who joined before a reload changed the skills reads
        // agents through a translation, and the skill indexes (by the new
        // skill ids) cannot narrow the candidates.
        let translation = Translation::between(&self.layout, &program.checked().skills);
        // Candidates: available agents with the skill levels and values
        // the filter needs, intersecting the indexes.
        let needs = match (w.require, &translation) {
            (Some(f), None) => required_skills(program.ir(), f),
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
        let calls = program.agent_calls(self.engine, w.facts);
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
            (Some(f), None) if !keep_all => self.preferred_terms(&terms, program.ir(), f),
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
                if let Some(reachable) = w.reachable
                    && !reachable(&self.agents[a].spec)
                {
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
            let after = self.round_robin.get(w.queue_name).copied();
            let next = after
                .and_then(|last| group.iter().copied().find(|&a| a > last))
                .or_else(|| group.first().copied());
            if let Some(n) = next {
                self.round_robin.insert(w.queue_name.to_string(), n);
            }
            next
        } else {
            group.get(self.random.below(group.len())).copied()
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
