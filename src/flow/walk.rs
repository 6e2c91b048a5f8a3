//! The walk: a call followed through a program's decisions on a virtual
//! clock, with given key presses, up to where it rings someone, joins a
//! queue or is handed on. `dialect test` checks `expect ACTIONS` against
//! it and `dialect explain` shows it.
//!
//! Time moves as it does for the runtime's simulated caller
//! (`sim::SimCaller`), so a decision after a menu sees the same local time
//! in both: each prompt lasts [`PROMPT_MS`], the caller presses each key
//! [`KEY_MS`] after the prompt or the previous key, silence lasts the
//! menu's timeout, and an entry that could still grow waits out the digit
//! timeout.

use jiff::{SignedDuration, Timestamp};

use super::{Collected, Effect, End, Flow, Path, Performed};
use crate::checked::{Action, ActionKind, ExtensionTarget, Press};
use crate::facts::Facts;
use crate::lookup::LookupTables;
use crate::program::{Engine, Program};

/// How long a prompt plays on a simulated call.
pub const PROMPT_MS: i64 = 2_000;

/// How long a simulated caller takes to press a key: from the end of the
/// prompt to the first key, and between keys. Half a second is well under
/// any menu's timeouts.
pub const KEY_MS: i64 = 500;

/// The path of a walked call and where it ended.
pub type Walk = Path;

/// Follows a call that arrives at `at` with `facts` (numbers, and the
/// rows of the lookups `fixed` marks, and queue statistics, which stay as
/// given), pressing `presses` at the menus it meets, to where it ends up.
/// Other lookups read their rows from `tables`.
pub fn walk(
    program: &Program,
    tables: &LookupTables,
    engine: Engine,
    facts: Facts,
    at: Timestamp,
    presses: &[Press],
    fixed: Vec<bool>,
) -> Walk {
    let zones = &program.checked().zones;
    let clock = |ms: i64| {
        at.checked_add(SignedDuration::from_millis(ms))
            .unwrap_or(at)
    };
    let mut elapsed_ms: i64 = 0;
    let mut presses = presses.iter();
    let mut flow = Flow::new(program, tables, engine, facts, fixed);
    let mut effect = flow.start(&mut |f: &mut Facts| f.set_time(zones, at));
    let mut times = Vec::new();
    loop {
        times.resize(flow.path().steps.len(), elapsed_ms);
        effect = match effect {
            Effect::Play(_) => {
                elapsed_ms += PROMPT_MS;
                let now = clock(elapsed_ms);
                flow.played(&mut |f: &mut Facts| f.set_time(zones, now))
            }
            Effect::Collect(request) => {
                if request.prompt.is_some() {
                    elapsed_ms += PROMPT_MS;
                }
                let got = match presses.next() {
                    None => {
                        flow.stop_waiting();
                        break;
                    }
                    Some(Press::Timeout) => {
                        elapsed_ms += request.first_timeout_ms.max(0);
                        Collected::Timeout
                    }
                    Some(Press::Keys(keys)) => {
                        let (got, ms) = request.take(keys, |_| KEY_MS);
                        elapsed_ms += ms;
                        got
                    }
                };
                let now = clock(elapsed_ms);
                flow.collected(got, &mut |f: &mut Facts| f.set_time(zones, now))
            }
            // Queues, groups and rings are the runtime's: the walk ends
            // where the call meets people or is handed on.
            _ => break,
        };
    }
    let mut path = flow.into_path();
    times.resize(path.steps.len(), elapsed_ms);
    path.times = times;
    path
}

impl Path {
    /// Whether the expected actions are the last actions performed. An
    /// expected `extension NUMBER` also matches a `dial extension` or
    /// `extension last N` that rang that number.
    pub fn ends_with(&self, expected: &[Action]) -> bool {
        let performed = self.outcome_actions();
        if expected.len() > performed.len() {
            return false;
        }
        let tail = &performed[performed.len() - expected.len()..];
        tail.iter()
            .zip(expected)
            .all(|(p, e)| match (&e.kind, &p.extension) {
                (ActionKind::Extension(ExtensionTarget::Number(x)), Some(rang)) => x == rang,
                (kind, _) => *kind == p.action.kind,
            })
    }

    /// The performed actions, plus `menu M` when the call is left waiting
    /// in a menu it re-entered by `repeat` or `back`, and `hangup` when a
    /// menu's tries ran out.
    pub fn outcome_actions(&self) -> Vec<Performed> {
        let mut out: Vec<Performed> = self.actions().cloned().collect();
        let synthetic = |kind: ActionKind, like: Option<&Performed>| Performed {
            action: Action {
                kind,
                loc: like.map(|p| p.action.loc).unwrap_or_default(),
            },
            extension: None,
        };
        match &self.end {
            End::WaitingInMenu(m)
                if out.last().map(|p| &p.action.kind) != Some(&ActionKind::Menu(*m)) =>
            {
                let s = synthetic(ActionKind::Menu(*m), out.last());
                out.push(s);
            }
            End::Exhausted(_) => {
                let s = synthetic(ActionKind::Hangup, out.last());
                out.push(s);
            }
            _ => {}
        }
        out
    }
}
