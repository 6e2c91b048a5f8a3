//! The ACD's state behind its one lock (`Inner`), and the types it holds
//! and hands out: agents, callers waiting in line, offers, and why an
//! agent operation was refused; with when the ACD's next deadline is due.
//! What changes `Inner` lives in the file of its concern (`state`,
//! `select`, `count`, `reload`), which imports this one; this file imports
//! only the leaf files its fields' types come from (`index`, `deadlines`).

use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use tokio::sync::oneshot;

use super::deadlines::Deadlines;
use super::index::SkillIndex;
use crate::checked::{self, AgentState, QueueId, QueueStat};
use crate::facts::Facts;
use crate::ir::FuncId;
use crate::lookup::LookupTables;
use crate::program::{Engine, Program};
use crate::runtime::channel::Target;
use crate::runtime::roster::AgentSpec;

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
    /// Wrap-ups begun so far: a wrap-up's deadline ends only the wrap-up
    /// it was set for, not a later one.
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

    pub(super) fn new(spec: AgentSpec, skills: Vec<i64>) -> Agent {
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
    pub call: Arc<crate::runtime::record::CallInfo>,
    /// When the caller first joined the queue.
    pub since_ms: i64,
    pub queue_name: String,
    pub queue: QueueId,
    pub priority: u32,
    pub program: Arc<Program>,
    pub facts: Facts,
    /// The filter in force: the queue's `require` or a relaxation step's.
    pub require: Option<FuncId>,
    /// Where the caller hears of an offer, or of a reload that moved them
    /// to another version of their queue.
    pub offer: oneshot::Sender<Turn>,
    /// Agents this caller already rang without an answer: the next offer
    /// goes to someone else while anyone else is eligible.
    pub passed_over: Vec<String>,
}

/// What a waiting caller hears from the ACD.
pub enum Turn {
    /// Agents are offered the call: the caller is out of line.
    Offer(Offer),
    /// A reload moved the caller, in place, to its version's queue of the
    /// same name: the caller waits on under that definition, and hears
    /// what comes next on `next`.
    Moved(Moved),
}

/// A caller moved to a new version of the program (see
/// `super::Acd::move_waiting`).
pub struct Moved {
    pub program: Arc<Program>,
    /// The lookup rows that fit `program`.
    pub tables: Arc<LookupTables>,
    /// The caller's queue in `program`.
    pub queue: QueueId,
    /// False when an overflow step of the new definition was already due
    /// for how long the caller has waited: the ACD took them out of line,
    /// and the call overflows.
    pub in_line: bool,
    pub next: oneshot::Receiver<Turn>,
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

/// The ACD's state, behind its one lock.
pub(super) struct Inner {
    /// The roster's agents in roster order, then departing agents.
    pub(super) agents: Vec<Agent>,
    /// How many of `agents` are the roster's.
    pub(super) roster_len: usize,
    /// The skills agents' `skills` are laid out for: the program's the
    /// roster was last loaded with.
    pub(super) layout: Vec<checked::Skill>,
    pub(super) by_id: HashMap<String, usize>,
    pub(super) by_extension: HashMap<String, usize>,
    /// Per agent, what ranking reads, side by side so that candidates are
    /// read from one table rather than from scattered agent records: the
    /// skills (per skill of the layout), then `state::Hot`. A copy of
    /// fields of `agents`, refreshed wherever those change.
    pub(super) rows: Vec<i64>,
    /// Available agents, by skill.
    pub(super) available: SkillIndex,
    /// Waiting callers: (priority, then arrival) → waiter.
    pub(super) waiting: BTreeMap<(Reverse<u32>, u64), Waiter>,
    /// Per queue name: the agent index round robin starts after.
    pub(super) round_robin: HashMap<String, usize>,
    /// The draws of `strategy random`.
    pub(super) random: crate::random::Rng,
    pub(super) answers: u64,
    pub(super) next_place: u64,
    /// Per queue name: statistics held at a value (see `pin_stats`).
    pub(super) pinned: HashMap<String, Vec<(QueueStat, i64)>>,
    /// Agents logged in (any state but logged out), departing ones
    /// aside, by skill: who could take a queue's calls now or later.
    pub(super) logged: SkillIndex,
    /// What changed since the last dispatch, so that it need not match
    /// every waiting caller against every available agent: agents who
    /// became available, callers who joined or relaxed their filter, or
    /// "everything" (a roster change, or time for a full pass).
    pub(super) fresh: Fresh,
    /// Waiting callers whose filter reads what changes with time alone
    /// (`agent.idle_minutes`): while there are any, dispatch must also run
    /// on a timer (see [`super::Acd::next_pass_ms`]).
    pub(super) timed: HashSet<(Reverse<u32>, u64)>,
    /// When wrap-ups end.
    pub(super) deadlines: Deadlines,
    /// Dispatches run, and how many of them were full passes.
    pub(super) passes: (u64, u64),
    /// Times the lock was taken (counted here, under the lock).
    pub(super) acquired: u64,
    /// What runs the queues' `require`, `prefer` and `score`.
    pub(super) engine: Engine,
    /// The version callers in line were last moved to, if a reload moved
    /// any (`moving`).
    pub(super) in_force: Option<InForce>,
}

/// The version a reload put in force, for the callers in line then.
pub(super) struct InForce {
    pub(super) program: Arc<Program>,
    pub(super) tables: Arc<LookupTables>,
    /// Callers whose place in line is below this one were in line, or
    /// being offered, when it came into force: those whose offer was
    /// ringing move when they rejoin the line.
    pub(super) below: u64,
}

/// See `Inner::fresh`.
#[derive(Default)]
pub(super) struct Fresh {
    pub(super) agents: Vec<usize>,
    pub(super) waiters: Vec<(Reverse<u32>, u64)>,
    pub(super) everything: bool,
    /// When the last full pass ran (clock ms).
    pub(super) full_pass_ms: i64,
}

/// How often dispatch matches every waiting caller against every available
/// agent, for filters that change with time alone (`agent.idle_minutes`,
/// which counts whole minutes).
pub const FULL_PASS_MS: i64 = 60_000;

impl Inner {
    /// See [`super::Acd::next_pass_ms`].
    pub(super) fn next_pass_ms(&self) -> Option<i64> {
        (!self.timed.is_empty()).then(|| self.fresh.full_pass_ms + FULL_PASS_MS)
    }

    /// See [`super::Acd::next_due_ms`].
    pub(super) fn next_due_ms(&self) -> Option<i64> {
        match (self.deadlines.first(), self.next_pass_ms()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}
