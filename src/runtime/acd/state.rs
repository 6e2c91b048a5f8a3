//! The agent state machine: which operation may move an agent from which
//! state, what each end of an offer or a call does to the agents in it,
//! and the bookkeeping every change keeps true (the skill indexes of
//! available and logged-in agents, and each agent's row of what ranking
//! reads).

use super::index::SkillIndex;
use super::inner::{AcdError, Agent, Inner, Offer};
use crate::checked::AgentState;

/// An agent operation: its name for errors, the states it starts from and
/// the state it leads to.
pub(super) struct Transition {
    what: &'static str,
    from: &'static [AgentState],
    needs: &'static str,
    pub(super) to: AgentState,
}

pub(super) const LOGIN: Transition = Transition {
    what: "logging in",
    from: &[AgentState::LoggedOut],
    needs: "logged out",
    to: AgentState::Available,
};

pub(super) const LOGOUT: Transition = Transition {
    what: "logging out",
    from: &[
        AgentState::Available,
        AgentState::Paused,
        AgentState::Wrapup,
    ],
    needs: "available, paused or in wrap-up",
    to: AgentState::LoggedOut,
};

pub(super) const PAUSE: Transition = Transition {
    what: "pausing",
    from: &[AgentState::Available, AgentState::Wrapup],
    needs: "available or in wrap-up",
    to: AgentState::Paused,
};

pub(super) const UNPAUSE: Transition = Transition {
    what: "unpausing",
    from: &[AgentState::Paused],
    needs: "paused",
    to: AgentState::Available,
};

/// The agent fields that follow the skills in an agent's row.
#[derive(Clone, Copy)]
pub(super) enum Hot {
    IdleSince,
    CallsToday,
    TalkToday,
}

impl Hot {
    const COUNT: usize = 3;
}

/// Whether an agent is busy with a call: ringing for it or talking.
pub(super) fn busy(state: AgentState) -> bool {
    matches!(state, AgentState::Ringing | AgentState::OnCall)
}

impl Inner {
    /// Moves an agent (not a departing one) by an operation, if their
    /// state allows it.
    pub(super) fn transition(
        &mut self,
        id: &str,
        t: &Transition,
        now_ms: i64,
    ) -> Result<(), AcdError> {
        let index = *self
            .by_id
            .get(id)
            .filter(|&&i| !self.agents[i].departing)
            .ok_or_else(|| AcdError::UnknownAgent(id.to_string()))?;
        let state = self.agents[index].state;
        if !t.from.contains(&state) {
            return Err(AcdError::WrongState {
                agent: id.to_string(),
                state: state.name(),
                what: t.what,
                needs: t.needs,
            });
        }
        self.set_state(index, t.to, now_ms);
        Ok(())
    }

    /// An offered agent answered: they are on the call, the others offered
    /// with them are available again. Returns the states that changed.
    pub(super) fn answered(
        &mut self,
        offer: &Offer,
        winner: &str,
        now_ms: i64,
    ) -> Vec<(String, AgentState)> {
        let mut changed = Vec::new();
        self.answers += 1;
        let seq = self.answers;
        for id in &offer.agents {
            let Some(a) = self.ringing(id) else {
                continue;
            };
            if id == winner {
                self.set_state(a, AgentState::OnCall, now_ms);
                let agent = &mut self.agents[a];
                agent.missed_in_row = 0;
                agent.calls_today += 1;
                agent.last_answer_seq = seq;
                self.refresh_row(a);
                changed.push((id.clone(), AgentState::OnCall));
            } else {
                let to = self.release(a, AgentState::Available, now_ms);
                changed.push((id.clone(), to));
            }
        }
        self.forget_departed();
        changed
    }

    /// An offer rang out (or the caller hung up while it rang). Returns
    /// the states that changed.
    pub(super) fn not_answered(
        &mut self,
        offer: &Offer,
        missed: bool,
        pause_after: Option<u32>,
        now_ms: i64,
    ) -> Vec<(String, AgentState)> {
        let mut changed = Vec::new();
        for id in &offer.agents {
            let Some(a) = self.ringing(id) else {
                continue;
            };
            if missed {
                self.agents[a].missed_in_row += 1;
            }
            let pause = missed && pause_after.is_some_and(|n| self.agents[a].missed_in_row >= n);
            let to = if pause {
                AgentState::Paused
            } else {
                AgentState::Available
            };
            let to = self.release(a, to, now_ms);
            changed.push((id.clone(), to));
        }
        self.forget_departed();
        changed
    }

    /// The conversation ended: the agent goes to wrap-up, whose deadline
    /// is kept, or straight back to available. Returns the state they are
    /// in and when the wrap-up ends; `None` when the agent was not on a
    /// call.
    pub(super) fn call_ended(
        &mut self,
        agent: &str,
        talk_ms: i64,
        wrapup_ms: i64,
        now_ms: i64,
    ) -> Option<(AgentState, Option<i64>)> {
        let to = if wrapup_ms > 0 {
            AgentState::Wrapup
        } else {
            AgentState::Available
        };
        let &a = self.by_id.get(agent)?;
        self.agents[a].talk_ms_today += talk_ms;
        self.refresh_row(a);
        if self.agents[a].state != AgentState::OnCall {
            return None;
        }
        let to = self.release(a, to, now_ms);
        let due = (to == AgentState::Wrapup).then(|| {
            self.agents[a].wrapups += 1;
            let due = now_ms + wrapup_ms;
            (self.deadlines).add_wrapup(due, agent, self.agents[a].wrapups);
            due
        });
        self.forget_departed();
        Some((to, due))
    }

    /// Ends wrap-up number `wrapup` of an agent; false when they are no
    /// longer in it (they paused or logged out, or are in a later one).
    pub(super) fn wrapup_done(&mut self, agent: &str, wrapup: u64, now_ms: i64) -> bool {
        let Some(&a) = self.by_id.get(agent) else {
            return false;
        };
        let x = &self.agents[a];
        if x.state != AgentState::Wrapup || x.wrapups != wrapup {
            return false;
        }
        self.set_state(a, AgentState::Available, now_ms);
        true
    }

    /// Makes the available agents with these extensions `ringing`.
    /// Returns their offer and the states that changed.
    pub(super) fn reserve(
        &mut self,
        extensions: &[String],
        now_ms: i64,
    ) -> (Offer, Vec<(String, AgentState)>) {
        let mut changed = Vec::new();
        let mut taken = Vec::new();
        for e in extensions {
            let Some(&a) = self.by_extension.get(e) else {
                continue;
            };
            if self.agents[a].state == AgentState::Available {
                self.set_state(a, AgentState::Ringing, now_ms);
                changed.push((self.agents[a].spec.id.clone(), AgentState::Ringing));
                taken.push(a);
            }
        }
        let offer = Offer {
            targets: taken.iter().map(|&a| self.agents[a].target()).collect(),
            agents: taken
                .iter()
                .map(|&a| self.agents[a].spec.id.clone())
                .collect(),
        };
        (offer, changed)
    }

    /// Puts a new table of agents in force, rebuilding what is derived
    /// from it (lookups by id and extension, rows, indexes).
    pub(super) fn set_agents(&mut self, agents: Vec<Agent>) {
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

    /// Moves an agent to a state, keeping the indexes and their row true.
    pub(super) fn set_state(&mut self, agent: usize, to: AgentState, now_ms: i64) {
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
    pub(super) fn row_matches(&self, agent: usize) -> bool {
        let a = &self.agents[agent];
        self.skills(agent) == a.skills.as_slice()
            && self.hot(agent, Hot::IdleSince) == a.idle_since_ms
            && self.hot(agent, Hot::CallsToday) == a.calls_today
            && self.hot(agent, Hot::TalkToday) == a.talk_ms_today
    }

    /// An agent's skills, as held, from their row.
    pub(super) fn skills(&self, agent: usize) -> &[i64] {
        let width = self.row_len();
        &self.rows[agent * width..agent * width + self.layout.len()]
    }

    #[inline]
    pub(super) fn hot(&self, agent: usize, field: Hot) -> i64 {
        self.rows[agent * self.row_len() + self.layout.len() + field as usize]
    }

    /// What decisions read of an agent besides skills (see
    /// `facts::attr_index`).
    pub(super) fn attrs(&self, agent: usize, now_ms: i64) -> [i64; 3] {
        [
            (now_ms - self.hot(agent, Hot::IdleSince)).max(0) / 60_000,
            self.hot(agent, Hot::CallsToday),
            self.hot(agent, Hot::TalkToday) / 60_000,
        ]
    }
}
