//! Who could take a queue's calls: the logged-in agents passing one of
//! its filters, for the queue statistics and for `no agents`. Counted from
//! the skill indexes when the filters are skill comparisons only, else by
//! running the filters on each logged-in agent.

use super::inner::Inner;
use super::reload::Translation;
use crate::checked::{AgentState, QueueId};
use crate::facts::{Facts, QueueStats};
use crate::ir::FuncId;
use crate::ir::needs::Need;
use crate::program::Program;

impl Inner {
    /// Calls `each` with every logged-in agent (departing ones aside) who
    /// passes one of `filters` (`None`: no filter) for these facts, in
    /// table order, until it returns false.
    pub(super) fn each_taker(
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
        let translation = Translation::between(&self.layout, &program.checked().skills);
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
    pub(super) fn takers(
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
            && Translation::between(&self.layout, &program.checked().skills).is_none()
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

    /// Whether every queue's statistics are zero whatever the call: nobody
    /// logged in, nobody waiting, nothing pinned (a redirect server
    /// without a roster, a runtime before its agents log in).
    pub(super) fn counts_nothing(&self) -> bool {
        self.logged.all.is_empty() && self.waiting.is_empty() && self.pinned.is_empty()
    }

    /// One queue's statistics for [`super::Acd::stats`] at `now_ms`;
    /// `filters` is room for the queue's widest filters, reused across
    /// queues.
    pub(super) fn queue_stats(
        &self,
        program: &Program,
        queue: QueueId,
        facts: &Facts,
        aht_ms: i64,
        now_ms: i64,
        filters: &mut Vec<Option<FuncId>>,
    ) -> QueueStats {
        let name = &program.checked().queue(queue).name;
        program.ir().queues[queue.index()].widest_into(filters);
        let clauses = program.queue_clauses()[queue.index()].as_deref();
        let (waiting, earliest) = self
            .waiting
            .values()
            .filter(|w| &w.queue_name == name)
            .fold((0i64, i64::MAX), |(n, earliest), w| {
                (n + 1, earliest.min(w.since_ms))
            });
        let (agents, available) = self.takers(program, filters, clauses, facts, now_ms);
        let mut stats = QueueStats {
            waiting,
            available,
            agents,
            longest_wait_ms: if waiting == 0 {
                0
            } else {
                (now_ms - earliest).max(0)
            },
            expected_wait_ms: if agents == 0 {
                0
            } else {
                (waiting + 1) * aht_ms / agents
            },
        };
        if !self.pinned.is_empty() {
            for &(stat, value) in self.pinned.get(name).into_iter().flatten() {
                stats.set(stat, value);
            }
        }
        stats
    }
}
