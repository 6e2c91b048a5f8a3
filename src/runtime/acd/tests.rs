//! The ACD's unit tests: counting from the indexes against running the
//! filters, the hooks `dialect test` uses (placing agents, pinning
//! statistics), and the deadlines that end wrap-ups.

use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::checked::QueueId;
use crate::runtime::{Arrival, Disposition, Runtime};
use crate::sim::{Behaviour, SimCaller};

fn clock() -> Clock {
    Clock::starting_at("2026-11-23T16:00:00Z".parse().expect("instant"))
}

const SCRIPT: &str = r#"
timezone "America/Chicago"
skill billing
skill language { english, spanish, french }
queue plain { strategy linear }
queue level { require billing >= 3 }
queue either { require language == spanish or billing > 7 }
queue both { require language in [english, french] and billing >= 2 }
queue relaxing { require billing >= 9; after 1m require language == french }
queue other { require billing != 1 }
queue never { require billing > 10 }
queue rested { require billing >= 1 and agent.idle_minutes >= 1 }
"#;

/// Counting a queue's agents from the indexes gives what running its
/// filters on every logged-in agent gives, over rosters wider than a
/// word of the bit sets, with agents in every state.
#[test]
fn indexed_counts_match_running_the_filters() {
    let program = Program::from_text(SCRIPT).expect("the script compiles");
    let mut rng = crate::random::Rng::new(0x2545_F491_4F6C_DD1D);
    let mut next = move |n: u64| rng.below(n as usize) as u64;
    for round in 0..20 {
        let size = 1 + next(200);
        let mut text = String::new();
        for i in 0..size {
            let languages: Vec<&str> = ["english", "spanish", "french"]
                .into_iter()
                .filter(|_| next(3) == 0)
                .collect();
            text.push_str(&format!(
                "[[agent]]\nid = \"a{i}\"\nskills = {{ billing = {}, language = {languages:?} }}\n",
                next(11)
            ));
        }
        let roster = Roster::parse(&text).expect("roster");
        let acd = Acd::new(
            &roster,
            program.checked(),
            Arc::new(EventBus::default()),
            Engine::Jit,
            clock(),
        )
        .expect("acd");
        for i in 0..size {
            let id = format!("a{i}");
            let state = match next(6) {
                0 => AgentState::LoggedOut,
                1 => AgentState::Paused,
                2 => AgentState::OnCall,
                3 => AgentState::Wrapup,
                _ => AgentState::Available,
            };
            acd.place(&id, state).expect("places");
        }
        let facts = Facts::new(&program.ir().layout);
        let now = 90_000;
        let inner = acd.lock();
        for (q, queue) in program.checked().queues.iter().enumerate() {
            let filters = program.ir().queues[q].widest();
            let (mut agents, mut available) = (0, 0);
            inner.each_taker(&program, &filters, &facts, now, |a| {
                agents += 1;
                available += i64::from(inner.agents[a].state == AgentState::Available);
                true
            });
            let clauses = program.queue_clauses()[q].as_deref();
            assert_eq!(
                inner.takers(&program, &filters, clauses, &facts, now),
                (agents, available),
                "round {round}, queue {}",
                queue.name
            );
        }
    }
}

// Moved from the runtime's integration tests: `place` and `pin_stats` are
// the crate's own (for `dialect test`).

const RT_SCRIPT: &str = include_str!("../../../tests/fixtures/runtime/menu_queues.dial");

const RT_ROSTER: &str = include_str!("../../../tests/fixtures/runtime/menu_queues.toml");

fn runtime() -> Arc<Runtime> {
    let program = Arc::new(Program::from_text(RT_SCRIPT).expect("the script compiles"));
    let roster = Roster::parse(RT_ROSTER).expect("roster");
    Runtime::builder(program, &roster)
        .clock(clock())
        .build()
        .expect("runtime")
}

fn caller(rt: &Runtime, presses: &[&str], patience_s: Option<i64>) -> SimCaller {
    SimCaller::new(
        rt.clock().clone(),
        Behaviour {
            presses: presses.iter().map(|p| Some(p.to_string())).collect(),
            patience_ms: patience_s.map(|s| s * 1000),
            answer_ms: 3_000,
            talk_ms: 60_000,
            ..Behaviour::default()
        },
    )
}

/// A queue's statistics now as a call with no facts of its own (withheld
/// number, no lookup rows) reads them, in the order of `QueueStat::ALL`.
fn stats(rt: &Runtime, queue: &str, aht_ms: i64) -> [i64; 5] {
    let program = rt.program();
    let i = (program.checked().queues.iter())
        .position(|q| q.name == queue)
        .expect("queue");
    let facts = Facts::new(&program.ir().layout);
    let stats = rt.acd().stats(&program, QueueId(i as u32), &facts, aht_ms);
    QueueStat::ALL.map(|s| stats.get(s))
}

fn state(rt: &Runtime, id: &str) -> AgentState {
    rt.acd()
        .states()
        .into_iter()
        .find(|(a, _)| a == id)
        .map(|(_, s)| s)
        .expect("agent")
}

/// `dialect test` places agents straight into any state and pins the
/// queue statistics a test gives.
#[tokio::test(start_paused = true)]
async fn tests_place_agents_and_pin_statistics() {
    let rt = runtime();
    rt.acd()
        .place("ana", AgentState::OnCall)
        .expect("places ana");
    assert_eq!(state(&rt, "ana"), AgentState::OnCall);
    assert!(rt.acd().place("nobody", AgentState::Wrapup).is_err());
    rt.acd().login("bob").expect("login");
    // Waiting, available, logged in: ana on a call and bob count as in.
    assert_eq!(stats(&rt, "billing", 1_000)[..3], [0, 1, 2]);
    rt.acd().pin_stats(
        "billing",
        vec![(QueueStat::Waiting, 25), (QueueStat::Available, 0)],
    );
    assert_eq!(stats(&rt, "billing", 1_000)[..3], [25, 0, 2]);
    assert_eq!(
        stats(&rt, "sales", 1_000)[..3],
        [0, 1, 2],
        "pins hold for one queue"
    );
    // A caller still reaches bob (after the 2-minute relaxation): pins
    // change what decisions read, not who is free.
    let mut c = caller(&rt, &["1"], None);
    let summary = rt
        .run_call(&mut c, Arrival::new("+15125550101", "+18005550100"))
        .await;
    assert_eq!(summary.disposition, Disposition::Answered, "{:?}", c.log);
    assert_eq!(summary.agent.as_deref(), Some("bob"));
}

/// A queue's statistics count the queue's own agents: `agents` those
/// logged in who pass its `require` or a relaxation step's, `available`
/// those of them who are free; agents the queue never offers a call to
/// count for neither, and the expected wait divides by the queue's agents.
#[tokio::test(start_paused = true)]
async fn queue_statistics_count_the_queues_own_agents() {
    const SCRIPT: &str = r#"
timezone "America/Chicago"
skill billing
queue billing {
  strategy longest_idle
  require  billing >= 3
  after 1m require billing >= 2
  ring     20s then next
}
queue anyone { strategy linear; ring 10s then next }
route inbound {
  when queue(billing).available == 1 and queue(billing).agents == 2
    -> set tag "per queue", queue billing
  otherwise -> set tag "over all agents", queue billing
}
entry "+18005550100" -> route inbound
"#;
    const ROSTER: &str = r#"
[[agent]]
id = "ana"
skills = { billing = 5 }

[[agent]]
id = "bob"
skills = { billing = 2 }

[[agent]]
id = "cy"
skills = { billing = 1 }

[[agent]]
id = "dee"
"#;
    let program = Arc::new(Program::from_text(SCRIPT).expect("the script compiles"));
    let roster = Roster::parse(ROSTER).expect("roster");
    let rt = Runtime::builder(program, &roster)
        .clock(clock())
        .build()
        .expect("runtime");
    // Ana is on a call; bob, cy and dee are free, but only bob (billing 2,
    // after the one-minute step) could ever take a billing call.
    rt.acd()
        .place("ana", AgentState::OnCall)
        .expect("places ana");
    for id in ["bob", "cy", "dee"] {
        rt.acd().login(id).expect("login");
    }
    assert_eq!(
        stats(&rt, "billing", 60_000),
        [0, 1, 2, 0, 30_000],
        "waiting, available, agents, longest wait, expected wait"
    );
    assert_eq!(
        stats(&rt, "anyone", 60_000),
        [0, 3, 4, 0, 15_000],
        "a queue without `require` counts every agent logged in"
    );
    // The route reads the same numbers, and bob takes the call once the
    // filter relaxes.
    let mut c = caller(&rt, &[], None);
    let summary = rt
        .run_call(&mut c, Arrival::new("+15125550101", "+18005550100"))
        .await;
    assert_eq!(summary.tags, ["per queue"], "{:?}", summary.path);
    assert_eq!(summary.disposition, Disposition::Answered, "{:?}", c.log);
    assert_eq!(summary.agent.as_deref(), Some("bob"));
}

/// Events of agent states, as (agent, state, at).
fn states_seen(rx: &mut tokio::sync::broadcast::Receiver<Event>) -> Vec<(String, AgentState, i64)> {
    let mut seen = Vec::new();
    while let Ok(e) = rx.try_recv() {
        if let Event::AgentState {
            agent,
            state,
            at_ms,
        } = e
        {
            seen.push((agent, state, at_ms));
        }
    }
    seen
}

/// Whether `due_changed` has a notification waiting.
async fn told(acd: &Acd) -> bool {
    tokio::time::timeout(Duration::ZERO, acd.due_changed().notified())
        .await
        .is_ok()
}

/// Wrap-ups end at deadlines the ACD keeps: `tick` ends one once its time
/// has come and not before, whoever sleeps until the next deadline is told
/// when it moves earlier (not later), and a wrap-up the agent left early
/// ends nothing when its deadline passes.
#[tokio::test(start_paused = true)]
async fn wrapups_end_at_deadlines_the_acd_keeps() {
    let program = Program::from_text(SCRIPT).expect("the script compiles");
    let roster = Roster::parse(
        "[[agent]]\nid = \"ana\"\n\n[[agent]]\nid = \"bob\"\n\n[[agent]]\nid = \"cy\"\n",
    )
    .expect("roster");
    let events = Arc::new(EventBus::default());
    let mut rx = events.subscribe();
    let acd = Acd::new(&roster, program.checked(), events, Engine::Jit, clock()).expect("acd");
    for id in ["ana", "bob", "cy"] {
        acd.place(id, AgentState::OnCall).expect("places");
    }
    states_seen(&mut rx);
    assert_eq!(acd.next_due_ms(), None);
    assert!(!told(&acd).await);

    tokio::time::advance(Duration::from_secs(1)).await;
    assert_eq!(acd.call_ended("ana", 1_000, 30_000), Some(31_000));
    assert_eq!(acd.next_due_ms(), Some(31_000));
    assert!(told(&acd).await, "a first deadline is news");
    // A later deadline leaves the next one where it was; an earlier one
    // moves it.
    assert_eq!(acd.call_ended("bob", 1_000, 60_000), Some(61_000));
    assert!(!told(&acd).await, "a later deadline is not news");
    assert_eq!(acd.call_ended("cy", 1_000, 10_000), Some(11_000));
    assert!(told(&acd).await, "an earlier deadline is news");
    assert_eq!(acd.next_due_ms(), Some(11_000));
    // Without a wrap-up the agent is free at once, and no deadline is kept.
    acd.place("cy", AgentState::OnCall).expect("places");
    assert_eq!(acd.call_ended("cy", 1_000, 0), None);
    assert_eq!(acd.next_due_ms(), Some(11_000), "cy's first deadline stays");

    // Bob pauses during his wrap-up: its end changes nothing.
    acd.pause("bob").expect("pause");
    assert_eq!(
        states_seen(&mut rx).len(),
        6,
        "three wrap-ups, cy again, bob's pause"
    );
    tokio::time::advance(Duration::from_millis(9_999)).await;
    acd.tick();
    tokio::time::advance(Duration::from_millis(1)).await;
    acd.tick(); // cy's stale deadline, at 11 s: she is available already
    assert_eq!(acd.next_due_ms(), Some(31_000));
    tokio::time::advance(Duration::from_millis(19_999)).await;
    acd.tick();
    let early = states_seen(&mut rx);
    assert!(
        early.is_empty(),
        "nothing ends before its deadline, nor twice: {early:?}"
    );
    tokio::time::advance(Duration::from_millis(1)).await;
    acd.tick();
    assert_eq!(
        states_seen(&mut rx),
        [("ana".to_string(), AgentState::Available, 31_000)]
    );
    tokio::time::advance(Duration::from_secs(60)).await;
    acd.tick();
    assert_eq!(acd.next_due_ms(), None, "every deadline is spent");
    assert!(states_seen(&mut rx).is_empty(), "bob stays paused");
    assert_eq!(
        acd.states(),
        [
            ("ana".to_string(), AgentState::Available),
            ("bob".to_string(), AgentState::Paused),
            ("cy".to_string(), AgentState::Available),
        ]
    );
}

/// `pick` chooses as an offer would (require, prefer, strategy) among
/// available agents that `reachable` accepts, and changes nobody's state.
#[tokio::test(start_paused = true)]
async fn pick_chooses_without_offering() {
    let program = Program::from_text(
        r#"
skill billing
queue idle { strategy longest_idle
  require billing >= 3
  prefer billing >= 7 }
queue everyone { strategy ring_all
  require billing >= 3
  ring all 20s }
"#,
    )
    .expect("the script compiles");
    let mut text = String::new();
    for (id, level) in [("a", 2), ("b", 4), ("c", 8), ("d", 9), ("e", 5)] {
        text.push_str(&format!(
            "[[agent]]\nid = \"{id}\"\nsip_user = \"{id}\"\nskills = {{ billing = {level} }}\n"
        ));
    }
    let roster = Roster::parse(&text).expect("roster");
    let acd = Acd::new(
        &roster,
        program.checked(),
        Arc::new(EventBus::default()),
        Engine::Jit,
        clock(),
    )
    .expect("acd");
    // Idle longest first: d, then c, b, a; e is paused.
    for id in ["d", "c", "b", "a", "e"] {
        acd.place(id, AgentState::Available).expect("places");
        tokio::time::advance(Duration::from_secs(1)).await;
    }
    acd.place("e", AgentState::Paused).expect("places");
    let facts = Facts::new(&program.ir().layout);
    let pick = |queue: u32, unreachable: &[&str]| -> Vec<String> {
        acd.pick(&program, QueueId(queue), &facts, &|spec| {
            !unreachable.contains(&spec.sip_user.as_str())
        })
        .into_iter()
        .map(|t| t.name().to_string())
        .collect()
    };
    // Preferred (billing >= 7) and idle longest.
    assert_eq!(pick(0, &[]), ["d"]);
    assert_eq!(pick(0, &["d"]), ["c"]);
    // Nobody preferred is reachable: the eligible one left.
    assert_eq!(pick(0, &["d", "c"]), ["b"]);
    // `a` fails `require`, `e` is paused.
    assert!(pick(0, &["d", "c", "b"]).is_empty());
    // Ring-all: every eligible reachable agent, longest idle first.
    assert_eq!(pick(1, &[]), ["d", "c", "b"]);
    assert_eq!(pick(1, &["c"]), ["d", "b"]);
    // Picking offered nothing: everyone is where they were.
    let states = acd.states();
    for (id, state) in &states {
        let expected = if id == "e" {
            AgentState::Paused
        } else {
            AgentState::Available
        };
        assert_eq!(*state, expected, "{id}");
    }
}

/// Each operation takes the lock once, and the count says so (it is kept
/// under the lock, not by the meter).
#[test]
fn each_operation_counts_one_acquisition() {
    let program = Program::from_text(SCRIPT).expect("the script compiles");
    let roster =
        Roster::parse("[[agent]]\nid = \"ana\"\nskills = { billing = 3 }\n").expect("roster");
    let acd = Acd::new(
        &roster,
        program.checked(),
        Arc::new(EventBus::default()),
        Engine::Jit,
        clock(),
    )
    .expect("acd");
    let before = acd.contention().acquired;
    acd.login("ana").expect("login");
    acd.pause("ana").expect("pause");
    acd.unpause("ana").expect("unpause");
    // Reading the counts takes the lock too.
    assert_eq!(acd.contention().acquired, before + 4);
}
