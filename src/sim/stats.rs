//! Contact-center figures from the runtime's event stream: per queue and
//! per reporting interval, calls offered, answered, abandoned and
//! overflowed, service level, average speed of answer, average handle time
//! and agent occupancy.
//!
//! Definitions (the usual ones, stated so the numbers can be checked):
//! - a call counts in the interval in which it joined the queue;
//! - **offered**: calls that joined the queue;
//! - **overflowed**: calls the script sent out of the queue; in the `all`
//!   row, calls sent out of a queue that nothing later counted as
//!   answered or abandoned;
//! - **service level**: answered within the threshold ÷ (answered +
//!   abandoned); calls that overflowed out (by an `after D ->` step, or
//!   by `no agents` when everyone who could take them logged out) are in
//!   neither;
//! - **ASA**: mean wait of answered calls;
//! - **AHT**: mean talk time plus the queue's wrap-up, of answered calls;
//! - **occupancy**: time agents spent ringing, talking or in wrap-up for
//!   the queue's calls ÷ all staffed agent time (available, ringing,
//!   talking, wrap-up; not paused) in the interval. The queues' figures
//!   add up to the interval's total.

use std::collections::HashMap;

use serde::Serialize;

use crate::checked::AgentState;
use crate::runtime::{Disposition, Event};

/// Queue figures for one interval (or the whole run).
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Row {
    /// Local start of the interval, `YYYY-MM-DD HH:MM`; `total` for the run.
    pub interval: String,
    /// Queue name; `all` for every call.
    pub queue: String,
    pub offered: u64,
    pub answered: u64,
    pub abandoned: u64,
    pub overflowed: u64,
    pub answered_in_sl: u64,
    /// Answered calls that waited at all.
    pub waited: u64,
    /// Fraction in [0, 1]; `None` without answered or abandoned calls.
    pub service_level: Option<f64>,
    /// Seconds.
    pub asa_s: Option<f64>,
    /// Seconds.
    pub aht_s: Option<f64>,
    pub occupancy: Option<f64>,
    #[serde(skip)]
    wait_ms: i64,
    #[serde(skip)]
    handle_ms: i64,
    #[serde(skip)]
    abandoned_wait_ms: i64,
    #[serde(skip)]
    busy_ms: i64,
    #[serde(skip)]
    staffed_ms: i64,
}

impl Row {
    fn add(&mut self, other: &Row) {
        self.offered += other.offered;
        self.answered += other.answered;
        self.abandoned += other.abandoned;
        self.overflowed += other.overflowed;
        self.answered_in_sl += other.answered_in_sl;
        self.waited += other.waited;
        self.wait_ms += other.wait_ms;
        self.handle_ms += other.handle_ms;
        self.abandoned_wait_ms += other.abandoned_wait_ms;
        self.busy_ms += other.busy_ms;
        self.staffed_ms += other.staffed_ms;
    }

    fn finish(&mut self, staffed_ms: i64) {
        self.staffed_ms = staffed_ms;
        let judged = self.answered + self.abandoned;
        self.service_level = (judged > 0).then(|| self.answered_in_sl as f64 / judged as f64);
        self.asa_s =
            (self.answered > 0).then(|| self.wait_ms as f64 / self.answered as f64 / 1000.0);
        self.aht_s =
            (self.answered > 0).then(|| self.handle_ms as f64 / self.answered as f64 / 1000.0);
        self.occupancy = (staffed_ms > 0).then(|| self.busy_ms as f64 / staffed_ms as f64);
    }

    /// Mean wait of every caller who joined (answered or abandoned), seconds.
    pub fn mean_wait_s(&self) -> Option<f64> {
        let n = self.answered + self.abandoned;
        (n > 0).then(|| (self.wait_ms + self.abandoned_wait_ms) as f64 / n as f64 / 1000.0)
    }
}

/// What a simulation found.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Report {
    pub seed: u64,
    pub start: String,
    pub zone: String,
    pub length_s: i64,
    pub interval_s: i64,
    pub service_level_s: i64,
    /// Calls that arrived.
    pub calls: u64,
    /// How calls ended, by disposition.
    pub dispositions: Vec<(String, u64)>,
    /// Calls still in progress when the run stopped (waiting for agents
    /// who went home, or talking past the drain limit).
    pub unfinished: u64,
    /// Per interval: a row per queue, then `all`.
    pub intervals: Vec<Row>,
    /// The whole run: a row per queue, then `all`.
    pub totals: Vec<Row>,
}

impl Report {
    /// The whole-run row for a queue.
    pub fn total(&self, queue: &str) -> Option<&Row> {
        self.totals.iter().find(|r| r.queue == queue)
    }

    /// A queue's figures over the intervals after the first `skip` (to
    /// leave out the warm-up of a run that starts with nobody waiting).
    pub fn after_warmup(&self, queue: &str, skip: usize) -> Row {
        let mut row = Row::default();
        let rows = self.intervals.iter().filter(|r| r.queue == queue);
        for r in rows.skip(skip) {
            row.add(r);
        }
        let staffed = row.staffed_ms;
        row.queue = queue.to_string();
        row.interval = format!("after {skip} intervals");
        row.finish(staffed);
        row
    }
}

/// A state an agent is in since some time, and the queue whose call it is.
#[derive(Clone)]
struct AgentSpan {
    state: AgentState,
    since_ms: i64,
    queue: Option<usize>,
}

/// Folds events into figures.
pub struct Stats {
    interval_ms: i64,
    service_level_ms: i64,
    intervals: usize,
    queues: Vec<String>,
    wrapup_ms: Vec<i64>,
    /// [interval][queue] for queues; the extra last column is `all`.
    rows: Vec<Vec<Row>>,
    staffed_ms: Vec<i64>,
    /// Per call in a queue: (queue, interval it joined in).
    in_queue: HashMap<u64, (usize, usize)>,
    /// Per call sent out of its last queue by the script: the interval it
    /// had joined that queue in. Counted as overflow in `all` unless a
    /// later queue, hunt group or extension counts the call as answered or
    /// abandoned.
    sent_on: HashMap<u64, usize>,
    agents: HashMap<String, AgentSpan>,
    pub arrived: u64,
    pub ended: u64,
    pub dispositions: HashMap<Disposition, u64>,
}

impl Stats {
    /// `queues`: every queue's name and wrap-up; intervals cover the run.
    pub fn new(
        queues: Vec<(String, i64)>,
        length_ms: i64,
        interval_ms: i64,
        service_level_ms: i64,
    ) -> Stats {
        let intervals = ((length_ms + interval_ms - 1) / interval_ms).max(1) as usize;
        let (queues, wrapup_ms): (Vec<String>, Vec<i64>) = queues.into_iter().unzip();
        Stats {
            interval_ms,
            service_level_ms,
            intervals,
            rows: vec![vec![Row::default(); queues.len() + 1]; intervals],
            staffed_ms: vec![0; intervals],
            queues,
            wrapup_ms,
            in_queue: HashMap::new(),
            sent_on: HashMap::new(),
            agents: HashMap::new(),
            arrived: 0,
            ended: 0,
            dispositions: HashMap::new(),
        }
    }

    fn interval(&self, at_ms: i64) -> usize {
        ((at_ms.max(0) / self.interval_ms) as usize).min(self.intervals - 1)
    }

    fn queue(&self, name: &str) -> Option<usize> {
        self.queues.iter().position(|q| q == name)
    }

    fn all(&self) -> usize {
        self.queues.len()
    }

    pub fn add(&mut self, event: &Event) {
        match event {
            Event::CallArrived { at_ms, .. } => {
                self.arrived += 1;
                let (i, all) = (self.interval(*at_ms), self.all());
                self.rows[i][all].offered += 1;
            }
            Event::Queued {
                call, queue, at_ms, ..
            } => {
                let Some(q) = self.queue(queue) else { return };
                let i = self.interval(*at_ms);
                self.rows[i][q].offered += 1;
                self.in_queue.insert(call.id, (q, i));
                // Its outcome is this queue's now.
                self.sent_on.remove(&call.id);
            }
            Event::Answered {
                call,
                queue: Some(_),
                waited_ms,
                ..
            } => {
                let Some(&(q, i)) = self.in_queue.get(&call.id) else {
                    return;
                };
                let in_sl = *waited_ms <= self.service_level_ms;
                let all = self.all();
                for c in [q, all] {
                    let row = &mut self.rows[i][c];
                    row.answered += 1;
                    row.wait_ms += waited_ms;
                    row.answered_in_sl += u64::from(in_sl);
                    row.waited += u64::from(*waited_ms > 0);
                }
            }
            Event::Answered {
                call,
                at_ms,
                waited_ms,
                ..
            } => {
                // A hunt group or an extension: the wait is the ringing.
                self.sent_on.remove(&call.id);
                let (i, all) = (self.interval(*at_ms), self.all());
                let row = &mut self.rows[i][all];
                row.answered += 1;
                row.wait_ms += waited_ms;
                row.answered_in_sl += u64::from(*waited_ms <= self.service_level_ms);
                row.waited += u64::from(*waited_ms > 0);
            }
            Event::Abandoned {
                call,
                queue: Some(_),
                waited_ms,
                ..
            } => {
                let Some(&(q, i)) = self.in_queue.get(&call.id) else {
                    return;
                };
                let all = self.all();
                for c in [q, all] {
                    let row = &mut self.rows[i][c];
                    row.abandoned += 1;
                    row.abandoned_wait_ms += waited_ms;
                }
            }
            Event::Abandoned {
                call,
                at_ms,
                waited_ms,
                ..
            } => {
                self.sent_on.remove(&call.id);
                let (i, all) = (self.interval(*at_ms), self.all());
                self.rows[i][all].abandoned += 1;
                self.rows[i][all].abandoned_wait_ms += waited_ms;
            }
            // Sent on by the script: an `after D ->` step, or `no agents`
            // once nobody who could take the call was logged in.
            Event::Overflowed { call, .. } | Event::NoAgents { call, .. } => {
                if let Some((q, i)) = self.in_queue.remove(&call.id) {
                    self.rows[i][q].overflowed += 1;
                    self.sent_on.insert(call.id, i);
                }
            }
            Event::Offered { queue, agents, .. } => {
                let q = self.queue(queue);
                for a in agents {
                    if let Some(span) = self.agents.get_mut(a) {
                        span.queue = q;
                    }
                }
            }
            Event::AgentState {
                agent,
                state,
                at_ms,
            } => {
                let previous = self.agents.get(agent).cloned();
                if let Some(p) = &previous {
                    self.account(p, *at_ms);
                }
                let keeps_queue = matches!(
                    state,
                    AgentState::Ringing | AgentState::OnCall | AgentState::Wrapup
                );
                let queue = previous.and_then(|p| p.queue).filter(|_| keeps_queue);
                self.agents.insert(
                    agent.clone(),
                    AgentSpan {
                        state: *state,
                        since_ms: *at_ms,
                        queue,
                    },
                );
            }
            Event::CallEnded(summary) => {
                self.ended += 1;
                *self.dispositions.entry(summary.disposition).or_default() += 1;
                let queued = self.in_queue.remove(&summary.call.id);
                if let Some(i) = self.sent_on.remove(&summary.call.id)
                    && summary.disposition != Disposition::Answered
                {
                    // Sent out of the queues, and counted as answered or
                    // abandoned nowhere since.
                    let all = self.all();
                    self.rows[i][all].overflowed += 1;
                }
                if summary.disposition == Disposition::Answered {
                    let all = self.all();
                    match queued {
                        Some((q, i)) => {
                            let handle = summary.talk_ms + self.wrapup_ms[q];
                            self.rows[i][q].handle_ms += handle;
                            self.rows[i][all].handle_ms += handle;
                        }
                        None => {
                            let i = self.interval(summary.ended_ms - summary.talk_ms);
                            self.rows[i][all].handle_ms += summary.talk_ms;
                        }
                    }
                }
            }
            Event::MenuInput { .. } => {}
        }
    }

    /// Adds an agent's span up to `until` to the intervals it covers.
    fn account(&mut self, span: &AgentSpan, until: i64) {
        let busy = matches!(
            span.state,
            AgentState::Ringing | AgentState::OnCall | AgentState::Wrapup
        );
        let staffed = busy || span.state == AgentState::Available;
        if !staffed {
            return;
        }
        let mut t = span.since_ms.max(0);
        let until = until.min(self.intervals as i64 * self.interval_ms);
        let all = self.all();
        while t < until {
            let i = self.interval(t);
            let end = until.min((i as i64 + 1) * self.interval_ms);
            self.staffed_ms[i] += end - t;
            if busy {
                self.rows[i][all].busy_ms += end - t;
                if let Some(q) = span.queue {
                    self.rows[i][q].busy_ms += end - t;
                }
            }
            t = end;
        }
    }

    /// Closes agents' spans at `end_ms` and builds the report.
    pub fn finish(
        mut self,
        end_ms: i64,
        label: impl Fn(usize) -> String,
        header: Report,
    ) -> Report {
        let spans: Vec<AgentSpan> = self.agents.values().cloned().collect();
        for s in &spans {
            self.account(s, end_ms);
        }
        let names: Vec<String> = self
            .queues
            .iter()
            .cloned()
            .chain(std::iter::once("all".to_string()))
            .collect();
        let mut totals = vec![Row::default(); names.len()];
        let mut intervals = Vec::new();
        for (i, row) in self.rows.iter().enumerate() {
            for (q, r) in row.iter().enumerate() {
                totals[q].add(r);
                let mut r = r.clone();
                r.queue = names[q].clone();
                r.interval = label(i);
                r.finish(self.staffed_ms[i]);
                intervals.push(r);
            }
        }
        let staffed: i64 = self.staffed_ms.iter().sum();
        for (q, t) in totals.iter_mut().enumerate() {
            t.queue = names[q].clone();
            t.interval = "total".into();
            t.finish(staffed);
        }
        let mut dispositions: Vec<(String, u64)> = self
            .dispositions
            .iter()
            .map(|(d, n)| (d.name().to_string(), *n))
            .collect();
        dispositions.sort();
        Report {
            calls: self.arrived,
            unfinished: self.arrived.saturating_sub(self.ended),
            dispositions,
            intervals,
            totals,
            ..header
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::runtime::{CallInfo, Summary};

    fn info(id: u64) -> Arc<CallInfo> {
        Arc::new(CallInfo {
            id,
            caller: String::new(),
            dialed: String::new(),
            correlation: None,
            arrived: jiff::Timestamp::UNIX_EPOCH,
            arrived_ms: 0,
            program_version: None,
            switches: Vec::new(),
        })
    }

    fn queued(call: u64, queue: &str, at_ms: i64) -> Event {
        Event::Queued {
            call: info(call),
            queue: queue.into(),
            priority: 0,
            at_ms,
        }
    }

    fn ended(call: u64, disposition: Disposition, ended_ms: i64) -> Event {
        Event::CallEnded(Arc::new(Summary {
            ended_ms,
            disposition,
            ..Summary::begun(info(call))
        }))
    }

    /// A call sent out of a queue counts as overflow there; in `all` only
    /// if nothing later counts it as answered or abandoned.
    #[test]
    fn overflow_counts_in_all_only_for_calls_that_end_sent_on() {
        let mut stats = Stats::new(
            vec![("fraud".into(), 0), ("service".into(), 0)],
            3_600_000,
            3_600_000,
            20_000,
        );
        let overflowed = |call| Event::Overflowed {
            call: info(call),
            queue: "fraud".into(),
            at_ms: 60_000,
        };
        // 1: to voicemail. 2: on to `service`, answered there.
        // 3: sent on, then hangs up outside any queue or group.
        for call in [1, 2, 3] {
            stats.add(&Event::CallArrived {
                call: info(call),
                at_ms: 0,
            });
            stats.add(&queued(call, "fraud", 0));
            stats.add(&overflowed(call));
        }
        stats.add(&ended(1, Disposition::Voicemail, 90_000));
        stats.add(&queued(2, "service", 60_000));
        stats.add(&Event::Answered {
            call: info(2),
            agent: "ana".into(),
            queue: Some("service".into()),
            waited_ms: 10_000,
            at_ms: 70_000,
        });
        stats.add(&ended(2, Disposition::Answered, 200_000));
        stats.add(&ended(3, Disposition::Abandoned, 90_000));
        let report = stats.finish(3_600_000, |_| "h".into(), Report::default());
        let fraud = report.total("fraud").expect("fraud");
        assert_eq!((fraud.offered, fraud.overflowed), (3, 3));
        let all = report.total("all").expect("all");
        // No queue or group counted 3 as abandoned: it counts as sent on.
        assert_eq!((all.offered, all.answered, all.overflowed), (3, 1, 2));
    }
}
