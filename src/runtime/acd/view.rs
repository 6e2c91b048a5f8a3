//! A queue as someone watching it sees it (the admin API): its callers in
//! line with their positions and waits, its agents with their states, and
//! its statistics, read under one lock so that they agree.

use serde::Serialize;

use super::inner::Inner;
use crate::checked::{AgentState, QueueId};
use crate::facts::{Facts, QueueStats};
use crate::program::Program;

/// A caller waiting in a queue.
#[derive(Clone, Debug, Serialize)]
pub struct WaitingCaller {
    /// The runtime's number for the call.
    pub call: u64,
    /// The channel's name for the call (a SIP Call-ID), when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correlation: Option<String>,
    /// Counting from 1, by priority then arrival, as announcements say it.
    pub position: usize,
    pub priority: u32,
    /// Since the caller first joined the queue.
    pub waited_ms: i64,
}

/// One of a queue's agents and their state.
#[derive(Clone, Debug, Serialize)]
pub struct QueueAgent {
    pub id: String,
    pub state: AgentState,
}

/// A queue now: see [`super::Acd::queue_view`].
#[derive(Clone, Debug)]
pub struct QueueView {
    pub callers: Vec<WaitingCaller>,
    pub agents: Vec<QueueAgent>,
    pub stats: QueueStats,
}

impl Inner {
    /// See [`super::Acd::queue_view`].
    pub(super) fn queue_view(
        &self,
        program: &Program,
        queue: QueueId,
        facts: &Facts,
        aht_ms: i64,
        now_ms: i64,
    ) -> QueueView {
        let name = &program.checked().queue(queue).name;
        let mut filters = Vec::new();
        let stats = self.queue_stats(program, queue, facts, aht_ms, now_ms, &mut filters);
        // `queue_stats` left the queue's widest filters in `filters`.
        let callers = self
            .waiting
            .values()
            .filter(|w| &w.queue_name == name)
            .enumerate()
            .map(|(i, w)| WaitingCaller {
                call: w.call.id,
                correlation: w.call.correlation.clone(),
                position: i + 1,
                priority: w.priority,
                waited_ms: (now_ms - w.since_ms).max(0),
            })
            .collect();
        let mut agents = Vec::new();
        self.each_taker(program, &filters, facts, now_ms, |a| {
            agents.push(QueueAgent {
                id: self.agents[a].spec.id.clone(),
                state: self.agents[a].state,
            });
            true
        });
        QueueView {
            callers,
            agents,
            stats,
        }
    }
}
