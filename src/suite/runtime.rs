//! A test's call through the call runtime: a roster made of the test's
//! `given agent` lines, a simulated caller with the test's key presses and
//! patience on tokio's paused clock, and a record of what rang, who
//! answered and what happened when (`Run`), for `expect` to compare with
//! the test's runtime expectations.

use std::sync::Arc;
use std::time::Duration;

use super::decisions::{call_instant, given_row};
use super::trace::Traced;
use crate::checked::{self, AgentState, LookupKey, Press, QueueId, RuntimeTest, SkillValue, Test};
use crate::facts::{Facts, QueueStats, Slot};
use crate::lookup::LookupTables;
use crate::program::{Engine, Program};
use crate::runtime::channel::Target;
use crate::runtime::roster::AgentSpec;
use crate::runtime::{Arrival, Clock, Roster, Runtime, Summary};
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
    pub summary: Option<Arc<Summary>>,
    /// Everyone rung, one entry per ring, in order.
    pub rings: Vec<Vec<Target>>,
    /// What happened, in milliseconds since the call arrived.
    pub timeline: Vec<(i64, String)>,
    /// Why the call could not run at all.
    pub error: Option<String>,
    /// The engine the runtime's decisions and its ACD ran on.
    pub engine: Engine,
}

/// Runs the test's call through the runtime on `engine`, its lookups
/// reading `tables` with the test's `given` rows put in.
pub fn run(
    program: &Arc<Program>,
    tables: &Arc<LookupTables>,
    engine: Engine,
    test: &Test,
    spec: &RuntimeTest,
) -> Run {
    let tables = with_given_rows(program, tables, test);
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
    tokio.block_on(simulate(Arc::clone(program), tables, engine, test, spec))
}

async fn simulate(
    program: Arc<Program>,
    tables: Arc<LookupTables>,
    engine: Engine,
    test: &Test,
    spec: &RuntimeTest,
) -> Run {
    let mut run = Run::default();
    let roster = roster(program.checked(), test);
    // The clock is made inside the paused runtime, so it reads paused time.
    let clock = Clock::starting_at(call_instant(&program, test));
    // The engine is the runtime's from the start: the ACD runs the queues'
    // `require`, `prefer` and `score` on it too.
    let rt = match Runtime::builder(Arc::clone(&program), &roster)
        .clock(clock)
        .engine(engine)
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            run.error = Some(format!("the test's agents do not fit the script: {e}"));
            return run;
        }
    };
    if let Err(e) = rt.reload_data(Arc::clone(&tables)) {
        run.error = Some(format!("the lookup rows do not fit the script: {e}"));
        return run;
    }
    run.engine = rt.acd().engine();
    for &(switch, on) in &test.switches {
        let flip = crate::runtime::Flip {
            on,
            at: rt.clock().now(),
            by: "test".into(),
        };
        rt.switches()
            .set(&program.checked().switch(switch).name, flip);
    }
    for a in &test.agents {
        let placed = match a.state {
            AgentState::LoggedOut => Ok(()),
            AgentState::Available => rt.acd().login(&a.id),
            AgentState::Paused => rt.acd().login(&a.id).and_then(|_| rt.acd().pause(&a.id)),
            other => rt.acd().place(&a.id, other),
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
        rt.acd()
            .pin_stats(&program.checked().queue(*queue).name, pins);
    }
    // Counted for this call, as its decisions would at arrival.
    let mut facts = Facts::new(&program.ir().layout);
    facts.caller = test.from.clone().unwrap_or_default();
    facts.dialed = test.to.clone();
    facts.set_time(&program.checked().zones, call_instant(&program, test));
    tables.look_up(&mut facts, LookupKey::Caller, &[]);
    tables.look_up(&mut facts, LookupKey::Dialed, &[]);
    run.stats = (0..program.checked().queues.len())
        .map(|q| (rt.acd()).stats(&program, QueueId(q as u32), &facts, rt.aht_ms()))
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
    // Every event in order, none missed: a sink, not a live subscriber.
    let (events, heard) = tokio::sync::mpsc::unbounded_channel();
    rt.events().sink(Box::new(move |e| {
        let _ = events.send(e.clone());
    }));
    let mut channel = Traced::new(
        SimCaller::new(rt.clock().clone(), behaviour),
        rt.clock().clone(),
        heard,
    );
    let caller = test.from.clone().unwrap_or_default();
    let limit = Duration::from_millis(TIME_LIMIT_MS as u64);
    run.summary = tokio::time::timeout(
        limit,
        rt.run_call(&mut channel, Arrival::new(caller, &test.to)),
    )
    .await
    .ok();
    channel.drain();
    if run.summary.is_none() {
        channel.timeline.push((
            rt.clock().elapsed_ms(),
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
    program: &Program,
    tables: &Arc<LookupTables>,
    test: &Test,
) -> Arc<LookupTables> {
    if test.lookups.is_empty() {
        return Arc::clone(tables);
    }
    let checked = &program.checked();
    let mut data = LookupTables::clone(tables);
    let caller =
        crate::number::normalize(test.from.as_deref().unwrap_or_default()).unwrap_or_default();
    let dialed = crate::number::normalize(&test.to).unwrap_or_else(|_| test.to.clone());
    for (lookup, given) in &test.lookups {
        data.clear(lookup.index());
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
            data.insert(lookup.index(), k, row.clone());
        }
    }
    Arc::new(data)
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
