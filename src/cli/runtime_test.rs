//! Runs a `test` block through the call runtime: a roster made of the
//! test's `given agent` lines, a simulated caller with the test's key
//! presses and patience on tokio's paused clock, and the call's rings,
//! answer, waits and fallbacks compared with the test's runtime
//! expectations.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc::UnboundedReceiver;

pub use super::path::clock_text;
use super::test::call_instant;
use crate::checked::{
    self, Actions, AgentState, Fallback, LookupKey, Press, QueueId, RuntimeOutcome, RuntimeTest,
    SkillValue, StepKind, Test,
};
use crate::facts::{Facts, QueueStats, Row, Slot};
use crate::program::{Engine, Program};
use crate::runtime::channel::{Announce, Channel, Collect, Collected, Ended, Rang, Ring, Target};
use crate::runtime::roster::AgentSpec;
use crate::runtime::{Clock, Disposition, Event, Roster, Runtime, Summary};
use crate::sim::{Behaviour, SimCaller};

/// Simulated time after which a call that has not ended fails its test (a
/// caller who waits forever in a queue nobody serves).
pub const TIME_LIMIT_MS: i64 = 4 * 3600 * 1000;

/// How long a simulated conversation lasts once an agent answers.
pub const TALK_MS: i64 = 60_000;

/// What the runtime did with a test's call.
#[derive(Debug, Default)]
pub struct Run {
    /// Queue statistics when the call arrived, as decisions read them:
    /// counted from the test's agents, or as its `given queue` lines say.
    pub stats: Vec<QueueStats>,
    /// The call's summary; `None` when it was still going at the time limit.
    pub summary: Option<Summary>,
    /// Everyone rung, one entry per ring, in order.
    pub rings: Vec<Vec<Target>>,
    /// What happened, in milliseconds since the call arrived.
    pub timeline: Vec<(i64, String)>,
    /// Why the call could not run at all.
    pub error: Option<String>,
    /// The engine the runtime's decisions and its ACD ran on.
    pub engine: Engine,
}

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

/// Runs the test's call through the runtime on `engine`.
pub fn run(program: &Arc<Program>, engine: Engine, test: &Test, spec: &RuntimeTest) -> Run {
    let program = match with_given_rows(program, test) {
        Ok(p) => p,
        Err(e) => {
            return Run {
                error: Some(format!(
                    "cannot compile the script with the test's rows: {e}"
                )),
                ..Run::default()
            };
        }
    };
    let tokio = match tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
    {
        Ok(t) => t,
        Err(e) => {
            return Run {
                error: Some(format!("cannot start the simulated clock: {e}")),
                ..Run::default()
            };
        }
    };
    tokio.block_on(simulate(program, engine, test, spec))
}

async fn simulate(program: Arc<Program>, engine: Engine, test: &Test, spec: &RuntimeTest) -> Run {
    let mut run = Run::default();
    let roster = roster(&program.checked, test);
    // The clock is made inside the paused runtime, so it reads paused time.
    let clock = Clock::starting_at(call_instant(&program, test));
    // The engine is the runtime's from the start: the ACD runs the queues'
    // `require`, `prefer` and `score` on it too.
    let rt = match Runtime::with_engine(Arc::clone(&program), &roster, clock, engine) {
        Ok(rt) => rt,
        Err(e) => {
            run.error = Some(format!("the test's agents do not fit the script: {e}"));
            return run;
        }
    };
    run.engine = rt.acd.engine();
    for a in &test.agents {
        let placed = match a.state {
            AgentState::LoggedOut => Ok(()),
            AgentState::Available => rt.acd.login(&a.id),
            AgentState::Paused => rt.acd.login(&a.id).and_then(|_| rt.acd.pause(&a.id)),
            other => rt.acd.place(&a.id, other),
        };
        if let Err(e) = placed {
            run.error = Some(format!("cannot place agent `{}`: {e}", a.id));
            return run;
        }
    }
    for (queue, stats) in &test.queues {
        let pins = stats
            .iter()
            .map(|(stat, value)| (*stat, Slot::from_value(value).int))
            .collect();
        rt.acd.pin_stats(&program.checked.queue(*queue).name, pins);
    }
    // Counted for this call, as its decisions would at arrival.
    let mut facts = Facts::new(&program.ir.layout);
    facts.caller = test.from.clone().unwrap_or_default();
    facts.dialed = test.to.clone();
    facts.set_time(&program.checked.zones, call_instant(&program, test));
    program.look_up(&mut facts, LookupKey::Caller, &[]);
    program.look_up(&mut facts, LookupKey::Dialed, &[]);
    run.stats = (0..program.checked.queues.len())
        .map(|q| (rt.acd).stats(&program, QueueId(q as u32), &facts, rt.aht_ms))
        .collect();
    let behaviour = Behaviour {
        presses: test
            .presses
            .iter()
            .map(|p| match p {
                Press::Keys(k) => Some(k.clone()),
                Press::Timeout => None,
            })
            .collect(),
        patience_ms: spec.patience_ms,
        answer_ms: spec.answer_ms,
        unanswering: spec.unanswering.clone(),
        talk_ms: TALK_MS,
        ..Behaviour::default()
    };
    let mut channel = Traced {
        inner: SimCaller::new(rt.clock.clone(), behaviour),
        clock: rt.clock.clone(),
        events: rt.events.subscribe(),
        timeline: Vec::new(),
        rings: Vec::new(),
    };
    let caller = test.from.clone().unwrap_or_default();
    let limit = Duration::from_millis(TIME_LIMIT_MS as u64);
    run.summary = tokio::time::timeout(limit, rt.run_call(&mut channel, &caller, &test.to))
        .await
        .ok();
    channel.drain();
    if run.summary.is_none() {
        channel.timeline.push((
            rt.clock.elapsed_ms(),
            "the call is still going: the test gives up".into(),
        ));
    }
    run.rings = channel.rings;
    run.timeline = channel.timeline;
    run
}

/// The program with the test's `given` rows as its lookup data, so that
/// the runtime, which looks rows up itself, finds them: a row for a lookup
/// by caller or by dialed number is keyed by the test's numbers, one by
/// digits by every entry the test presses; `unknown` empties the lookup.
fn with_given_rows(
    program: &Arc<Program>,
    test: &Test,
) -> Result<Arc<Program>, crate::jit::CompileError> {
    if test.lookups.is_empty() {
        return Ok(Arc::clone(program));
    }
    let checked = &program.checked;
    let mut data = program.data.clone();
    data.tables
        .resize_with(checked.lookups.len(), Default::default);
    let caller =
        crate::number::normalize(test.from.as_deref().unwrap_or_default()).unwrap_or_default();
    let dialed = crate::number::normalize(&test.to).unwrap_or_else(|_| test.to.clone());
    for (lookup, given) in &test.lookups {
        let table = &mut data.tables[lookup.index()];
        table.clear();
        let Some(given) = given else {
            continue;
        };
        let row = given_row(checked, lookup.index(), given);
        let keys: Vec<String> = match checked.lookup(*lookup).key {
            LookupKey::Caller => vec![caller.clone()],
            LookupKey::Dialed => vec![dialed.clone()],
            LookupKey::Digits => test
                .presses
                .iter()
                .filter_map(|p| match p {
                    Press::Keys(k) => Some([k.clone(), k.trim_end_matches('#').to_string()]),
                    Press::Timeout => None,
                })
                .flatten()
                .collect(),
        };
        for k in keys {
            table.insert(k, row.clone());
        }
    }
    Ok(Arc::new(Program::compile(checked.clone(), data)?))
}

/// A row from a test's `given`: the fields given, zeros for the rest.
pub fn given_row(program: &checked::Program, lookup: usize, given: &checked::Row) -> Row {
    let mut row = vec![Slot::default(); program.lookups[lookup].fields.len()];
    for (field, value) in given {
        if let Some(slot) = row.get_mut(*field as usize) {
            *slot = Slot::from_value(value);
        }
    }
    row
}

/// The test's agents as a roster, in the order given (the order `linear`
/// rings them in and ties are broken in).
fn roster(program: &checked::Program, test: &Test) -> Roster {
    let agents = test
        .agents
        .iter()
        .map(|a| AgentSpec {
            id: a.id.clone(),
            name: String::new(),
            sip_user: a.id.clone(),
            password: String::new(),
            extension: a.extension.clone().unwrap_or_default(),
            skills: a
                .skills
                .iter()
                .map(|(skill, value)| {
                    let s = program.skill(*skill);
                    let value = match (value, &s.kind) {
                        (SkillValue::Level(l), _) => toml::Value::Integer(i64::from(*l)),
                        (SkillValue::Values(mask), checked::SkillKind::Values(names)) => {
                            toml::Value::Array(
                                names
                                    .iter()
                                    .enumerate()
                                    .filter(|(i, _)| mask & (1 << i) != 0)
                                    .map(|(_, n)| toml::Value::String(n.clone()))
                                    .collect(),
                            )
                        }
                        (SkillValue::Values(_), checked::SkillKind::Level) => {
                            toml::Value::Integer(0)
                        }
                    };
                    (s.name.clone(), value)
                })
                .collect(),
        })
        .collect();
    Roster { agents }
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
    let checked = &program.checked;
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
                    ended(run.summary.as_ref())
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
                got: ended(summary),
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
        Disposition::Voicemail => match s.path.last().and_then(|v| v.strip_prefix("voicemail ")) {
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
    for name in rings.iter().flatten().map(target_name) {
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
fn parties_text(parties: &[String]) -> String {
    if parties.is_empty() {
        "rings nobody".into()
    } else {
        format!("rings {}", parties.join(", "))
    }
}

fn target_name(t: &Target) -> &str {
    t.agent.as_deref().unwrap_or(&t.extension)
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

/// How the call left queues and groups unanswered, read from its path.
/// The path's words are the runtime's (`runtime::call`): `queue NAME`
/// followed by `overflow` or `no agents`, and `group NAME` followed by
/// more steps when nobody in the group answered.
pub fn fallbacks(program: &checked::Program, path: &[String]) -> Vec<Left> {
    let mut out = Vec::new();
    for (i, step) in path.iter().enumerate() {
        let next = path.get(i + 1).map(String::as_str);
        if let Some(name) = step.strip_prefix("queue ") {
            let Some(queue) = program.queues.iter().find(|q| q.name == name) else {
                continue;
            };
            let actions = match next {
                Some("overflow") => queue.steps.iter().find_map(|s| match &s.kind {
                    StepKind::Overflow(a) => Some(a),
                    StepKind::Relax(_) => None,
                }),
                Some("no agents") => queue.no_agents.as_ref(),
                _ => None,
            };
            if let Some(actions) = actions {
                let kind = if next == Some("overflow") {
                    LeftKind::Overflow(name.to_string())
                } else {
                    LeftKind::NoAgents(name.to_string())
                };
                out.push(Left {
                    kind,
                    actions: actions.clone(),
                });
            }
        } else if let Some(name) = step.strip_prefix("group ")
            && let Some(next) = next
            && let Some(group) = program.groups.iter().find(|g| g.name == name)
        {
            // Nobody answered: the group's `then`, or, without one, the
            // hangup that ends the call.
            let actions = match &group.then {
                Some(then) => then.clone(),
                None if next == "hangup" => Actions {
                    list: vec![checked::Action {
                        kind: checked::ActionKind::Hangup,
                        loc: group.loc,
                    }],
                    loc: group.loc,
                },
                None => continue,
            };
            out.push(Left {
                kind: LeftKind::GroupThen(name.to_string()),
                actions,
            });
        }
    }
    out
}

/// The simulated caller, noting what happens and when: every ring with
/// its targets, key presses, prompts, and the queue events in between.
struct Traced {
    inner: SimCaller,
    clock: Clock,
    events: UnboundedReceiver<Event>,
    timeline: Vec<(i64, String)>,
    rings: Vec<Vec<Target>>,
}

impl Traced {
    fn note(&mut self, what: String) {
        self.drain();
        self.timeline.push((self.clock.elapsed_ms(), what));
    }

    /// Moves the events published so far into the timeline.
    fn drain(&mut self) {
        while let Ok(event) = self.events.try_recv() {
            let line = match event {
                Event::Queued {
                    queue,
                    priority,
                    at_ms,
                    ..
                } => Some((
                    at_ms,
                    if priority > 0 {
                        format!("waits in queue {queue} (priority {priority})")
                    } else {
                        format!("waits in queue {queue}")
                    },
                )),
                Event::Overflowed { queue, at_ms, .. } => {
                    Some((at_ms, format!("leaves queue {queue}: overflow")))
                }
                Event::NoAgents { queue, at_ms, .. } => Some((
                    at_ms,
                    format!(
                        "leaves queue {queue}: no agents (nobody who could take the call is logged in)"
                    ),
                )),
                Event::Abandoned {
                    queue,
                    waited_ms,
                    at_ms,
                    ..
                } => Some((
                    at_ms,
                    match queue {
                        Some(q) => format!(
                            "hangs up after waiting {} in queue {q}",
                            clock_text(waited_ms)
                        ),
                        None => "hangs up".to_string(),
                    },
                )),
                _ => None,
            };
            self.timeline.extend(line);
        }
    }
}

impl Channel for Traced {
    async fn answer(&mut self) -> bool {
        self.inner.answer().await
    }

    async fn play(&mut self, prompt: &str) -> bool {
        self.note(format!("hears \"{prompt}\""));
        self.inner.play(prompt).await
    }

    async fn collect(&mut self, request: &Collect) -> Collected {
        let got = self.inner.collect(request).await;
        let menu = if request.menu.is_empty() {
            "the extension prompt".to_string()
        } else {
            format!("menu {}", request.menu)
        };
        self.note(match &got {
            Collected::Keys(k) => format!("presses {k} in {menu}"),
            Collected::Timeout => format!("presses nothing in {menu}"),
            Collected::HungUp => format!("hangs up in {menu}: the test has no more presses"),
        });
        got
    }

    async fn ring(&mut self, targets: &[Target], ring: Ring) -> Rang {
        let names: Vec<&str> = targets.iter().map(target_name).collect();
        self.note(if ring.auto_answer {
            format!("rings {} to answer by itself", names.join(", "))
        } else {
            format!(
                "rings {} for up to {}",
                names.join(", "),
                clock_text(ring.timeout_ms)
            )
        });
        self.rings.push(targets.to_vec());
        let rang = self.inner.ring(targets, ring).await;
        self.note(match &rang {
            Rang::Answered(i) => {
                format!("{} answers", targets.get(*i).map_or("someone", target_name))
            }
            Rang::NoAnswer => "nobody answers".to_string(),
            Rang::HungUp => "hangs up while it rings".to_string(),
        });
        rang
    }

    async fn bridge(&mut self, target: &Target, whisper: Option<&str>, record: bool) -> Ended {
        self.note(format!("talks with {}", target_name(target)));
        let ended = self.inner.bridge(target, whisper, record).await;
        self.note("the conversation ends".to_string());
        ended
    }

    async fn announce(&mut self, what: &Announce) -> bool {
        self.inner.announce(what).await
    }

    async fn hold(&mut self, music: Option<&str>, ms: i64) -> bool {
        self.inner.hold(music, ms).await
    }

    async fn voicemail(&mut self, mailbox: &str) {
        self.note(format!("voicemail \"{mailbox}\""));
        self.inner.voicemail(mailbox).await;
    }

    async fn transfer(&mut self, number: &str) -> bool {
        self.note(format!("transfer to {number}"));
        self.inner.transfer(number).await
    }

    async fn reject(&mut self, reason: checked::RejectReason) {
        self.note(format!("reject {}", reason.name()));
        self.inner.reject(reason).await;
    }

    async fn hangup(&mut self) {
        self.note("the script hangs up".to_string());
        self.inner.hangup().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `dialect test --engine interp` runs the ACD's `require`, `prefer`
    /// and `score` on the interpreter too, not only the routes.
    #[test]
    fn the_acd_runs_on_the_test_engine() {
        let program = Program::from_text(
            r#"
timezone "UTC"
skill billing
queue billing { strategy best_score; require billing >= 3; score billing }
entry "+18005550100" -> queue billing
test "ana answers" {
  call to "+18005550100" at 2026-11-23 10:00
  given agent ana available { billing: 5 }
  expect answered by ana
}
"#,
        )
        .expect("compiles");
        let program = Arc::new(program);
        let test = &program.checked.tests[0];
        let spec = test.runtime.as_ref().expect("a runtime test");
        for engine in [Engine::Jit, Engine::Interp] {
            let run = run(&program, engine, test, spec);
            assert_eq!(run.engine, engine);
            assert!(misses(&program, test, spec, &run).is_empty());
        }
    }
}
