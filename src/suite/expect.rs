//! A runtime test's expectations against what the runtime did: each one
//! that does not hold becomes a `Miss` in script words (`expected rings
//! ana, bob`, `got rings bob`), with how the call left queues and groups
//! (`fallbacks`) and how it ended (`ended`).

use super::runtime::{Run, TIME_LIMIT_MS};
use super::trace::clock_text;
use crate::checked::{self, Actions, Fallback, RuntimeOutcome, RuntimeTest, StepKind, Test};
use crate::program::Program;
use crate::runtime::channel::Target;
use crate::runtime::record::{LeftReason, Step};
use crate::runtime::{Disposition, Summary};

/// One expectation that did not hold, in script words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Miss {
    pub expected: String,
    pub got: String,
}

/// How a call left a queue or a hunt group unanswered, and what ran then.
#[derive(Clone, Debug)]
pub struct Left {
    pub kind: LeftKind,
    pub actions: Actions,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LeftKind {
    /// An `after D ->` step of this queue.
    Overflow(String),
    /// The `no agents ->` of this queue.
    NoAgents(String),
    /// The `then ->` of this hunt group.
    GroupThen(String),
}

/// The expectations of `spec` that the run does not meet.
pub fn misses(program: &Program, test: &Test, spec: &RuntimeTest, run: &Run) -> Vec<Miss> {
    let mut out = Vec::new();
    if let Some(e) = &run.error {
        out.push(Miss {
            expected: "the call to run".into(),
            got: e.clone(),
        });
        return out;
    }
    let checked = &program.checked();
    // A party names an agent by id or by extension.
    let is = |party: &str, agent: Option<&str>, extension: &str| {
        agent == Some(party)
            || extension == party
            || test
                .agents
                .iter()
                .any(|a| Some(a.id.as_str()) == agent && a.extension.as_deref() == Some(party))
    };
    if let Some(expected) = &spec.rings {
        let rung: Vec<&Target> = run.rings.iter().flatten().collect();
        let holds = rung.len() == expected.len()
            && rung
                .iter()
                .zip(expected)
                .all(|(t, p)| is(p, t.agent.as_deref(), &t.extension));
        if !holds {
            out.push(Miss {
                expected: parties_text(expected),
                got: rings_text(&run.rings),
            });
        }
    }
    let left = run
        .summary
        .as_ref()
        .map(|s| fallbacks(checked, &s.path))
        .unwrap_or_default();
    if let Some((kind, expected)) = &spec.then {
        let holds = left.iter().any(|l| {
            let kind_fits = matches!(
                (kind, &l.kind),
                (Fallback::Overflow, LeftKind::Overflow(_))
                    | (Fallback::NoAgents, LeftKind::NoAgents(_))
                    | (
                        Fallback::AfterRinging,
                        LeftKind::Overflow(_) | LeftKind::GroupThen(_)
                    )
            );
            kind_fits && ends_with(&l.actions, expected)
        });
        if !holds {
            let expected_text = actions_text(checked, expected);
            let expected = match kind {
                Fallback::Overflow => format!("waits then {expected_text}"),
                Fallback::NoAgents => format!("no agents then {expected_text}"),
                Fallback::AfterRinging => format!(
                    "{} then {expected_text}",
                    parties_text(spec.rings.as_deref().unwrap_or_default())
                ),
            };
            let got = if left.is_empty() {
                format!(
                    "nothing ran after a queue or group: {}",
                    ended(run.summary.as_deref())
                )
            } else {
                left.iter()
                    .map(|l| left_text(checked, l))
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            out.push(Miss { expected, got });
        }
    }
    if let Some(outcome) = &spec.outcome {
        let summary = run.summary.as_ref();
        let disposition = summary.map(|s| s.disposition);
        let (holds, expected) = match outcome {
            RuntimeOutcome::Answered(None) => (
                disposition == Some(Disposition::Answered),
                "answered".to_string(),
            ),
            RuntimeOutcome::Answered(Some(p)) => (
                disposition == Some(Disposition::Answered)
                    && summary
                        .and_then(|s| s.agent.as_deref())
                        .is_some_and(|a| is(p, Some(a), a)),
                format!("answered by {p}"),
            ),
            RuntimeOutcome::Abandoned => (
                disposition == Some(Disposition::Abandoned),
                "abandoned".to_string(),
            ),
        };
        if !holds {
            out.push(Miss {
                expected,
                got: ended(summary.map(|s| &**s)),
            });
        }
    }
    out
}

/// How the call ended, in words: `answered by ana after waiting 0:20`.
pub fn ended(summary: Option<&Summary>) -> String {
    let Some(s) = summary else {
        return format!(
            "still going after {} of simulated time",
            clock_text(TIME_LIMIT_MS)
        );
    };
    let waited = if s.wait_ms > 0 {
        format!(" after waiting {}", clock_text(s.wait_ms))
    } else {
        String::new()
    };
    match s.disposition {
        Disposition::Answered => format!(
            "answered by {}{waited}",
            s.agent.as_deref().unwrap_or("someone")
        ),
        Disposition::Abandoned => format!("abandoned{waited}"),
        Disposition::Voicemail => match s.path.iter().rev().find_map(|step| match step {
            Step::Voicemail { mailbox } => Some(mailbox),
            _ => None,
        }) {
            Some(mailbox) => format!("voicemail \"{mailbox}\"{waited}"),
            None => format!("voicemail{waited}"),
        },
        other => format!("{}{waited}", other.name()),
    }
}

/// `rings ana, bob` or `rings nobody`; a name rung many times in a row is
/// counted (`rings bob ×12, ana`).
pub fn rings_text(rings: &[Vec<Target>]) -> String {
    let mut runs: Vec<(&str, usize)> = Vec::new();
    for name in rings.iter().flatten().map(Target::name) {
        match runs.last_mut() {
            Some((last, n)) if *last == name => *n += 1,
            _ => runs.push((name, 1)),
        }
    }
    if runs.is_empty() {
        return "rings nobody".into();
    }
    let parts: Vec<String> = runs
        .iter()
        .flat_map(|&(name, n)| match n {
            1..=3 => vec![name.to_string(); n],
            _ => vec![format!("{name} ×{n}")],
        })
        .collect();
    format!("rings {}", parts.join(", "))
}

/// An `expect rings` line's parties: `rings ana, bob` or `rings nobody`.
pub(super) fn parties_text(parties: &[String]) -> String {
    if parties.is_empty() {
        "rings nobody".into()
    } else {
        format!("rings {}", parties.join(", "))
    }
}

fn actions_text(program: &checked::Program, actions: &Actions) -> String {
    actions
        .list
        .iter()
        .map(|a| program.action_text(&a.kind))
        .collect::<Vec<_>>()
        .join(", ")
}

fn left_text(program: &checked::Program, l: &Left) -> String {
    let actions = actions_text(program, &l.actions);
    match &l.kind {
        LeftKind::Overflow(q) => format!("waits in queue {q} then {actions}"),
        LeftKind::NoAgents(q) => format!("no agents in queue {q} then {actions}"),
        LeftKind::GroupThen(g) => format!("nobody in group {g} answers then {actions}"),
    }
}

/// Whether `expected` are the last actions of `actions`.
fn ends_with(actions: &Actions, expected: &Actions) -> bool {
    let (have, want) = (&actions.list, &expected.list);
    want.len() <= have.len()
        && have[have.len() - want.len()..]
            .iter()
            .zip(want)
            .all(|(h, w)| h.kind == w.kind)
}

/// How the call left queues and groups unanswered, read from its path:
/// a queue left by an overflow step or by `no agents`, and a hunt group
/// followed by more steps when nobody in it answered.
pub fn fallbacks(program: &checked::Program, path: &[Step]) -> Vec<Left> {
    let mut out = Vec::new();
    for (i, step) in path.iter().enumerate() {
        match step {
            Step::Left {
                queue: name,
                reason,
            } => {
                let Some(queue) = program.queues.iter().find(|q| q.name == *name) else {
                    continue;
                };
                let (kind, actions) = match reason {
                    LeftReason::Overflow => (
                        LeftKind::Overflow(name.clone()),
                        queue.steps.iter().find_map(|s| match &s.kind {
                            StepKind::Overflow(a) => Some(a),
                            StepKind::Relax(_) => None,
                        }),
                    ),
                    LeftReason::NoAgents => {
                        (LeftKind::NoAgents(name.clone()), queue.no_agents.as_ref())
                    }
                    LeftReason::Abandoned => continue,
                };
                if let Some(actions) = actions {
                    out.push(Left {
                        kind,
                        actions: actions.clone(),
                    });
                }
            }
            Step::Group { group: name } => {
                // What came after the group's ringing, if anything.
                let next = path[i + 1..]
                    .iter()
                    .find(|s| !matches!(s, Step::Offer { .. }));
                let (Some(next), Some(group)) =
                    (next, program.groups.iter().find(|g| g.name == *name))
                else {
                    continue;
                };
                // Nobody answered: the group's `then`, or, without one, the
                // hangup that ends the call.
                let actions = match &group.then {
                    Some(then) => then.clone(),
                    None if *next == Step::Hangup => Actions {
                        list: vec![checked::Action {
                            kind: checked::ActionKind::Hangup,
                            loc: group.loc,
                        }],
                        loc: group.loc,
                    },
                    None => continue,
                };
                out.push(Left {
                    kind: LeftKind::GroupThen(name.clone()),
                    actions,
                });
            }
            _ => {}
        }
    }
    out
}
