//! The call runtime end to end on tokio's paused clock: menus, queues with
//! offers, no-answer hand-on, relaxation, overflow, abandonment, hunt
//! groups, wrap-up and agent states, `no agents` on arrival and while
//! waiting, with simulated callers and agents.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use dialect::checked::AgentState;
use dialect::program::Program;
use dialect::runtime::record::{Heard, Outcome, Rule, Step, routing};
use dialect::runtime::{Arrival, Clock, Disposition, Event, Roster, Runtime};
use dialect::sim::{Behaviour, SimCaller};
use dialect::source::Place;

/// A menu over three queues and a hunt group (its rules' lines are checked
/// in the call records below: the text starts with an empty line).
const SCRIPT: &str = include_str!("fixtures/runtime/menu_queues.dial");

const ROSTER: &str = include_str!("fixtures/runtime/menu_queues.toml");

fn runtime() -> Arc<Runtime> {
    let program = Arc::new(Program::from_text(SCRIPT).expect("the script compiles"));
    let roster = Roster::parse(ROSTER).expect("roster");
    let clock = Clock::starting_at("2026-11-23T16:00:00Z".parse().expect("instant"));
    Runtime::builder(program, &roster)
        .clock(clock)
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

fn state(rt: &Runtime, id: &str) -> AgentState {
    rt.acd()
        .states()
        .into_iter()
        .find(|(a, _)| a == id)
        .map(|(_, s)| s)
        .expect("agent")
}

#[tokio::test(start_paused = true)]
async fn a_qualified_agent_answers_and_wraps_up() {
    let rt = runtime();
    rt.acd().login("ana").expect("login");
    rt.acd().login("bob").expect("login");
    let mut c = caller(&rt, &["1"], None);
    let summary = rt
        .run_call(&mut c, Arrival::new("+15125550101", "+18005550100"))
        .await;
    assert_eq!(summary.disposition, Disposition::Answered, "{:?}", c.log);
    assert_eq!(
        summary.agent.as_deref(),
        Some("ana"),
        "bob's billing level is below 3"
    );
    assert_eq!(summary.queue.as_deref(), Some("billing"));
    assert_eq!(summary.talk_ms, 60_000);
    assert_eq!(state(&rt, "ana"), AgentState::Wrapup);
    tokio::time::sleep(std::time::Duration::from_secs(11)).await;
    assert_eq!(
        state(&rt, "ana"),
        AgentState::Available,
        "wrap-up ends after 10s"
    );
    assert_eq!(
        routing(&summary.path),
        [
            "entry +18005550100",
            "route inbound",
            "menu main",
            "queue billing"
        ]
    );
    // The record is typed: the rule that fired and where it is written,
    // the keys and what they meant, who rang and who answered.
    assert_eq!(
        summary.path,
        [
            Step::Entry {
                number: "+18005550100".into()
            },
            Step::Route {
                route: "inbound".into(),
                rule: Some(Rule {
                    index: 0,
                    at: Some(Place {
                        file: "main.dial".into(),
                        line: 30
                    })
                })
            },
            Step::Menu {
                menu: "main".into()
            },
            Step::Keys {
                menu: "main".into(),
                keys: "1".into(),
                heard: Heard::Key(0)
            },
            Step::Queue {
                queue: "billing".into()
            },
            Step::Offer {
                queue: Some("billing".into()),
                agents: vec!["ana".into()],
                outcome: Outcome::Answered("ana".into())
            },
        ]
    );
    assert_eq!(summary.call.caller, "+15125550101");
    assert_eq!(summary.call.dialed, "+18005550100");
}

#[tokio::test(start_paused = true)]
async fn relaxation_widens_the_filter_then_overflow_takes_the_call() {
    let rt = runtime();
    rt.acd().login("bob").expect("login");
    // Only bob (billing 1) is in: the call waits until the 2-minute step.
    let mut c = caller(&rt, &["1"], None);
    let summary = rt
        .run_call(&mut c, Arrival::new("+15125550101", "+18005550100"))
        .await;
    assert_eq!(summary.disposition, Disposition::Answered, "{:?}", c.log);
    assert_eq!(summary.agent.as_deref(), Some("bob"));
    assert!(
        summary.wait_ms >= 120_000 && summary.wait_ms < 125_000,
        "waited {}",
        summary.wait_ms
    );

    // Nobody logged in who could take it: overflow at 5 minutes.
    let rt = runtime();
    let mut c = caller(&rt, &["1"], None);
    let summary = rt
        .run_call(&mut c, Arrival::new("+15125550101", "+18005550100"))
        .await;
    assert_eq!(summary.disposition, Disposition::Voicemail, "{:?}", c.log);
    assert!(summary.wait_ms >= 300_000, "waited {}", summary.wait_ms);
    assert!(c.log.contains(&"voicemail billing".to_string()));
}

#[tokio::test(start_paused = true)]
async fn an_unanswered_offer_moves_on_and_misses_pause_the_agent() {
    let rt = runtime();
    rt.acd().login("ana").expect("login");
    let mut c = caller(&rt, &["1"], Some(100));
    c.behaviour.unanswering = vec!["ana".into()];
    let summary = rt
        .run_call(&mut c, Arrival::new("+15125550101", "+18005550100"))
        .await;
    assert_eq!(summary.disposition, Disposition::Abandoned, "{:?}", c.log);
    let rings = c.log.iter().filter(|l| l.starts_with("ring ana")).count();
    assert_eq!(
        rings, 2,
        "offered twice, then paused after two misses: {:?}",
        c.log
    );
    assert_eq!(state(&rt, "ana"), AgentState::Paused);
    assert_eq!(rt.acd().waiting(), 0, "the abandoned call left the queue");
}

#[tokio::test(start_paused = true)]
async fn no_agents_and_ring_all() {
    let rt = runtime();
    let mut c = caller(&rt, &["2"], None);
    let summary = rt
        .run_call(&mut c, Arrival::new("+15125550101", "+18005550100"))
        .await;
    assert_eq!(
        summary.disposition,
        Disposition::Voicemail,
        "nobody logged in: {:?}",
        c.log
    );
    assert!(routing(&summary.path).contains(&"no agents".to_string()));

    rt.acd().login("ana").expect("login");
    rt.acd().login("bob").expect("login");
    let mut c = caller(&rt, &["2"], None);
    let summary = rt
        .run_call(&mut c, Arrival::new("+15125550101", "+18005550100"))
        .await;
    assert_eq!(summary.disposition, Disposition::Answered);
    assert!(
        c.log
            .iter()
            .any(|l| l == "ring ana,bob" || l == "ring bob,ana"),
        "{:?}",
        c.log
    );
}

#[tokio::test(start_paused = true)]
async fn hunt_group_rings_members_in_turn_then_voicemail() {
    let rt = runtime();
    rt.acd().login("cy").expect("login");
    let mut c = caller(&rt, &["3"], None);
    let summary = rt
        .run_call(&mut c, Arrival::new("+15125550101", "+18005550100"))
        .await;
    assert_eq!(summary.disposition, Disposition::Answered, "{:?}", c.log);
    assert_eq!(summary.agent.as_deref(), Some("cy"));

    let rt = runtime();
    let mut c = caller(&rt, &["3"], None);
    let summary = rt
        .run_call(&mut c, Arrival::new("+15125550101", "+18005550100"))
        .await;
    assert_eq!(summary.disposition, Disposition::Voicemail, "{:?}", c.log);
    // Members on the roster ring only while available (cy is logged out);
    // 3002 is a plain extension, rings out its 10 s, and the group falls
    // through to voicemail.
    assert_eq!(
        c.log
            .iter()
            .filter(|l| l.starts_with("ring"))
            .collect::<Vec<_>>(),
        ["ring 3002"],
        "{:?}",
        c.log
    );
}

#[tokio::test(start_paused = true)]
async fn invalid_keys_repeat_then_the_caller_gives_up() {
    let rt = runtime();
    let mut c = caller(&rt, &["9", "8"], None);
    let summary = rt
        .run_call(&mut c, Arrival::new("+15125550101", "+18005550100"))
        .await;
    assert_eq!(summary.disposition, Disposition::Abandoned, "{:?}", c.log);
    assert_eq!(c.log.iter().filter(|l| *l == "play invalid").count(), 2);

    let mut c = caller(&rt, &[], None);
    let summary = rt
        .run_call(&mut c, Arrival::new("+15125550101", "+18005559999"))
        .await;
    assert_eq!(
        summary.disposition,
        Disposition::Rejected,
        "no entry for the number"
    );
}

#[tokio::test(start_paused = true)]
async fn agent_operations_check_states() {
    let rt = runtime();
    assert!(
        rt.acd().pause("ana").is_err(),
        "a logged-out agent cannot pause"
    );
    assert!(rt.acd().login("nobody").is_err());
    rt.acd().login("ana").expect("login");
    rt.acd().pause("ana").expect("pause");
    rt.acd().unpause("ana").expect("unpause");
    rt.acd().logout("ana").expect("logout");
    // Reloading the roster keeps states.
    rt.acd().login("bob").expect("login");
    let roster = Roster::parse(ROSTER).expect("roster");
    rt.reload(rt.program(), rt.tables(), Some(&roster))
        .expect("reload");
    assert_eq!(state(&rt, "bob"), AgentState::Available);
    assert_eq!(state(&rt, "ana"), AgentState::LoggedOut);
}

/// Round robin goes on after the last agent offered, by who they are: a
/// roster reload that puts a new agent first does not restart or repeat
/// the rotation.
#[tokio::test(start_paused = true)]
async fn round_robin_keeps_its_place_across_a_roster_reload() {
    const SCRIPT: &str = r#"
timezone "America/Chicago"
queue rota { strategy round_robin; ring 10s then next }
entry "+18005550100" -> queue rota
"#;
    let agents = |ids: &[&str]| {
        let text: String = ids
            .iter()
            .map(|id| format!("[[agent]]\nid = \"{id}\"\n\n"))
            .collect();
        Roster::parse(&text).expect("roster")
    };
    let program = Arc::new(Program::from_text(SCRIPT).expect("the script compiles"));
    let clock = Clock::starting_at("2026-11-23T16:00:00Z".parse().expect("instant"));
    let rt = Runtime::builder(program, &agents(&["ana", "bob", "cy"]))
        .clock(clock)
        .build()
        .expect("runtime");
    for id in ["ana", "bob", "cy"] {
        rt.acd().login(id).expect("login");
    }
    let mut answered_by = Vec::new();
    for round in 0..4 {
        if round == 2 {
            // zed joins at the front; bob was offered last, so cy is next.
            let roster = agents(&["zed", "ana", "bob", "cy"]);
            rt.reload(rt.program(), rt.tables(), Some(&roster))
                .expect("reload");
            rt.acd().login("zed").expect("login");
        }
        let mut c = caller(&rt, &[], None);
        let summary = rt
            .run_call(&mut c, Arrival::new("+15125550101", "+18005550100"))
            .await;
        answered_by.push(summary.agent.clone().unwrap_or_default());
    }
    assert_eq!(answered_by, ["ana", "bob", "cy", "zed"]);
}

/// An agent who leaves the roster while logged in and idle is logged out,
/// and the event stream says so.
#[tokio::test(start_paused = true)]
async fn an_idle_agent_dropped_by_a_roster_reload_is_logged_out() {
    let rt = runtime();
    rt.acd().login("ana").expect("login");
    rt.acd().login("bob").expect("login");
    rt.acd().pause("bob").expect("pause");
    let mut events = rt.events().subscribe();
    let without_ana_and_bob = ROSTER
        .split("[[agent]]")
        .filter(|a| a.contains("\"cy\""))
        .map(|a| format!("[[agent]]{a}"))
        .collect::<String>();
    let roster = Roster::parse(&without_ana_and_bob).expect("roster");
    rt.reload(rt.program(), rt.tables(), Some(&roster))
        .expect("reload");
    let mut logged_out = Vec::new();
    while let Ok(event) = events.try_recv() {
        if let dialect::runtime::events::Event::AgentState {
            agent,
            state: AgentState::LoggedOut,
            ..
        } = event
        {
            logged_out.push(agent);
        }
    }
    logged_out.sort();
    assert_eq!(logged_out, ["ana", "bob"]);
}

/// Calls keep up to date the statistics of the queues decisions read, and
/// only those.
#[tokio::test(start_paused = true)]
async fn routes_read_live_queue_statistics() {
    const SCRIPT: &str = r#"
timezone "America/Chicago"
queue busy { strategy linear; ring 10s then next }
queue spare { strategy linear; ring 10s then next }
route inbound {
  when queue(busy).waiting >= 1 -> voicemail "full"
  otherwise -> queue busy
}
entry "+18005550100" -> route inbound
entry "+18005550101" -> queue spare
"#;
    let program = Arc::new(Program::from_text(SCRIPT).expect("the script compiles"));
    let busy = program
        .checked()
        .queues
        .iter()
        .position(|q| q.name == "busy")
        .expect("queue");
    assert_eq!(program.queues_read(), [busy], "nothing reads `spare`");
    let roster = Roster::parse("[[agent]]\nid = \"ana\"\n").expect("roster");
    let clock = Clock::starting_at("2026-11-23T16:00:00Z".parse().expect("instant"));
    let rt = Runtime::builder(program, &roster)
        .clock(clock)
        .build()
        .expect("runtime");
    // Nobody is logged in: the first caller waits in `busy`, and the next
    // one finds them there.
    let first = {
        let rt = Arc::clone(&rt);
        tokio::spawn(async move {
            let mut c = caller(&rt, &[], Some(60));
            rt.run_call(&mut c, Arrival::new("+15125550101", "+18005550100"))
                .await
        })
    };
    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    let mut second = caller(&rt, &[], Some(60));
    let summary = rt
        .run_call(&mut second, Arrival::new("+15125550102", "+18005550100"))
        .await;
    assert_eq!(
        summary.disposition,
        Disposition::Voicemail,
        "{:?}",
        summary.path
    );
    let first = first.await.expect("first call");
    assert_eq!(first.disposition, Disposition::Abandoned);
}

/// Spawns a call that presses `presses` and waits forever; returns its
/// task (the summary and what the caller's channel saw).
fn spawn_call(
    rt: &Arc<Runtime>,
    presses: &[&str],
) -> tokio::task::JoinHandle<(Arc<dialect::runtime::Summary>, Vec<String>)> {
    let rt = Arc::clone(rt);
    let mut c = caller(&rt, presses, None);
    tokio::spawn(async move {
        let summary = rt
            .run_call(&mut c, Arrival::new("+15125550101", "+18005550100"))
            .await;
        (summary, c.log)
    })
}

/// Waits for a spawned call to end: within ten minutes of simulated time,
/// or the test fails (rather than waiting forever).
async fn finish(
    call: tokio::task::JoinHandle<(Arc<dialect::runtime::Summary>, Vec<String>)>,
) -> (Arc<dialect::runtime::Summary>, Vec<String>) {
    tokio::time::timeout(Duration::from_secs(600), call)
        .await
        .expect("the call ends within ten minutes")
        .expect("call task")
}

/// `no_agents` events: call, queue, when.
type Left = Vec<(u64, String, i64)>;

/// Counts each call's `call_ended` events and the `no_agents` events.
fn ends_and_leaves(
    events: &mut tokio::sync::broadcast::Receiver<Event>,
) -> (HashMap<u64, usize>, Left) {
    let mut ended: HashMap<u64, usize> = HashMap::new();
    let mut left = Vec::new();
    while let Ok(e) = events.try_recv() {
        match e {
            Event::CallEnded(s) => *ended.entry(s.call.id).or_default() += 1,
            Event::NoAgents { call, queue, at_ms } => left.push((call.id, queue, at_ms)),
            _ => {}
        }
    }
    (ended, left)
}

/// Callers waiting in a queue with `no agents` leave it, and its actions
/// run, when the last agent who could take them logs out. A paused agent
/// still counts; an agent the queue's `require` turns away never did.
#[tokio::test(start_paused = true)]
async fn waiting_callers_leave_when_the_last_agent_who_could_take_them_logs_out() {
    let rt = runtime();
    let mut events = rt.events().subscribe();
    rt.acd().login("ana").expect("login");
    rt.acd().login("bob").expect("login");
    // Ana (the only Spanish speaker) is on a break: callers wait.
    rt.acd().pause("ana").expect("pause");
    let first = spawn_call(&rt, &["4"]);
    let second = spawn_call(&rt, &["4"]);
    tokio::time::sleep(Duration::from_secs(90)).await;
    assert_eq!(
        rt.acd().waiting(),
        2,
        "a paused agent could still take them"
    );
    // Bob cannot take the calls: his logging out changes nothing.
    rt.acd().logout("bob").expect("logout");
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert_eq!(rt.acd().waiting(), 2, "bob never could take them");
    let left_at = rt.clock().elapsed_ms();
    rt.acd().logout("ana").expect("logout");
    for call in [first, second] {
        let (summary, log) = finish(call).await;
        assert_eq!(summary.disposition, Disposition::Voicemail, "{log:?}");
        assert_eq!(
            routing(&summary.path),
            [
                "entry +18005550100",
                "route inbound",
                "menu main",
                "queue spanish",
                "no agents",
                "voicemail spanish"
            ]
        );
        assert_eq!(summary.queue.as_deref(), Some("spanish"));
        assert!(
            summary.wait_ms >= 90_000 && summary.started_ms() + 2_500 + summary.wait_ms == left_at,
            "waited {} ms, from {} ms, until {left_at} ms",
            summary.wait_ms,
            summary.started_ms()
        );
        assert!(log.contains(&"voicemail spanish".to_string()), "{log:?}");
        assert!(!log.iter().any(|l| l.starts_with("ring")), "{log:?}");
    }
    assert_eq!(rt.acd().waiting(), 0);
    let (ended, left) = ends_and_leaves(&mut events);
    assert_eq!(ended.len(), 2, "{ended:?}");
    assert!(
        ended.values().all(|&n| n == 1),
        "one summary each: {ended:?}"
    );
    assert_eq!(left.len(), 2, "{left:?}");
    assert!(
        left.iter()
            .all(|(_, q, at)| q == "spanish" && *at == left_at)
    );
}

/// Agents in wrap-up, ringing or on a call count as able to take the call;
/// only agents who log out or leave the roster do not. A roster reload
/// that drops the last one sends waiting callers to `no agents` too.
#[tokio::test(start_paused = true)]
async fn busy_agents_keep_callers_waiting_and_a_roster_reload_can_empty_the_queue() {
    let rt = runtime();
    rt.acd().login("ana").expect("login");
    // Ana answers the first call and talks for a minute; the second caller
    // waits for her.
    let first = spawn_call(&rt, &["4"]);
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert_eq!(state(&rt, "ana"), AgentState::OnCall);
    let second = spawn_call(&rt, &["4"]);
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert_eq!(rt.acd().waiting(), 1);
    // Something else logging out wakes the caller, who sees ana on a call
    // and keeps waiting.
    rt.acd().login("bob").expect("login");
    rt.acd().logout("bob").expect("logout");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(rt.acd().waiting(), 1, "ana, on a call, could take it later");
    let (summary, log) = finish(first).await;
    assert_eq!(summary.agent.as_deref(), Some("ana"), "{log:?}");
    let (summary, log) = finish(second).await;
    assert_eq!(summary.disposition, Disposition::Answered, "{log:?}");
    assert_eq!(summary.agent.as_deref(), Some("ana"));
    assert!(!routing(&summary.path).contains(&"no agents".to_string()));

    // A roster without ana, while a caller waits for her (she is paused).
    rt.acd().pause("ana").expect("pause");
    let third = spawn_call(&rt, &["4"]);
    tokio::time::sleep(Duration::from_secs(30)).await;
    assert_eq!(rt.acd().waiting(), 1);
    let without_ana = Roster::parse(
        "[[agent]]\nid = \"bob\"\nextension = \"2002\"\n\
         skills = { billing = 1, language = \"english\" }\n",
    )
    .expect("roster");
    rt.reload(rt.program(), rt.tables(), Some(&without_ana))
        .expect("reload");
    let (summary, log) = finish(third).await;
    assert_eq!(summary.disposition, Disposition::Voicemail, "{log:?}");
    assert_eq!(
        routing(&summary.path)[routing(&summary.path).len() - 3..],
        ["queue spanish", "no agents", "voicemail spanish"]
    );
}

const IDLE_SCRIPT: &str = r#"
timezone "America/Chicago"
skill billing
queue rested {
  strategy longest_idle
  require  agent.idle_minutes >= 2
  ring     20s then next
  after 10m -> voicemail "rested"
}
queue relaxed {
  strategy longest_idle
  require  billing >= 5
  ring     20s then next
  after 30s require agent.idle_minutes >= 3
  after 10m -> voicemail "relaxed"
}
entry "+18005550100" -> queue rested
entry "+18005550101" -> queue relaxed
"#;

/// A runtime with `IDLE_SCRIPT` and one agent, ana (billing 1), who
/// logged in when the clock started and has been idle since.
fn idle_runtime() -> Arc<Runtime> {
    let program = Arc::new(Program::from_text(IDLE_SCRIPT).expect("the script compiles"));
    let roster =
        Roster::parse("[[agent]]\nid = \"ana\"\nskills = { billing = 1 }\n").expect("roster");
    let clock = Clock::starting_at("2026-11-23T16:00:00Z".parse().expect("instant"));
    let rt = Runtime::builder(program, &roster)
        .clock(clock)
        .build()
        .expect("runtime");
    rt.acd().login("ana").expect("login");
    rt
}

/// A caller whose `require` only time makes true (`agent.idle_minutes`)
/// is offered the agent once it holds, in a center where nothing else
/// happens: dispatch runs on a timer while such a filter waits, not only
/// when an agent or a caller comes along.
#[tokio::test(start_paused = true)]
async fn a_filter_that_time_makes_true_is_dispatched_without_another_event() {
    let rt = idle_runtime();
    assert_eq!(rt.acd().next_pass_ms(), None, "no timer without a waiter");
    let mut c = caller(&rt, &[], None);
    let summary = rt
        .run_call(&mut c, Arrival::new("+15125550101", "+18005550100"))
        .await;
    assert_eq!(summary.disposition, Disposition::Answered, "{:?}", c.log);
    assert_eq!(summary.agent.as_deref(), Some("ana"));
    // Ana reaches two idle minutes at 2:00; she answers after 3 s.
    assert_eq!(summary.wait_ms, 123_000, "{:?}", c.log);
    assert_eq!(
        rt.acd().next_pass_ms(),
        None,
        "no timer once nobody waits for one"
    );
}

/// The same after a relaxation step: the step's filter, which only time
/// makes true, is looked at again each minute after the step.
#[tokio::test(start_paused = true)]
async fn a_relaxed_filter_that_time_makes_true_is_dispatched_without_another_event() {
    let rt = idle_runtime();
    let mut c = caller(&rt, &[], None);
    let summary = rt
        .run_call(&mut c, Arrival::new("+15125550101", "+18005550101"))
        .await;
    assert_eq!(summary.disposition, Disposition::Answered, "{:?}", c.log);
    assert_eq!(summary.agent.as_deref(), Some("ana"));
    // The step at 0:30 asks for three idle minutes, which ana has at 3:00
    // (a timed pass is due each minute); she answers after 3 s.
    assert_eq!(summary.wait_ms, 183_000, "{:?}", c.log);
}

/// The timed pass offers within a minute of the filter holding, whenever
/// the agent's idle time began; an agent who becomes available meanwhile
/// is offered at once as before.
#[tokio::test(start_paused = true)]
async fn the_timed_pass_runs_each_minute_while_a_timed_filter_waits() {
    let rt = idle_runtime();
    // Ana takes a break at 0:30 and comes back at 0:40: her two idle
    // minutes end at 2:40, and the next pass (each minute after the last)
    // finds her at 3:00.
    let call = {
        let rt = Arc::clone(&rt);
        tokio::spawn(async move {
            let mut c = caller(&rt, &[], None);
            let summary = rt
                .run_call(&mut c, Arrival::new("+15125550101", "+18005550100"))
                .await;
            (summary, c.log)
        })
    };
    tokio::time::sleep(Duration::from_secs(30)).await;
    rt.acd().pause("ana").expect("pause");
    assert!(rt.acd().next_pass_ms().is_some(), "a timed filter waits");
    tokio::time::sleep(Duration::from_secs(10)).await;
    rt.acd().unpause("ana").expect("unpause");
    let (summary, log) = finish(call).await;
    assert_eq!(summary.disposition, Disposition::Answered, "{log:?}");
    assert_eq!(summary.wait_ms, 183_000, "{log:?}");
}

/// A reload while calls are in progress: each keeps the version it
/// started with in its record, the next call takes the new one; a caller
/// waiting in a queue the new version also has moves to it (and says so
/// in its record), a caller in a queue it removed finishes under the old
/// one; and the old program, code and all, is freed when the last call
/// that holds it ends, whether or not the moved call still runs.
#[tokio::test(start_paused = true)]
async fn a_call_keeps_its_version_across_a_reload_and_the_old_code_goes_with_it() {
    const SCRIPT: &str = "timezone \"America/Chicago\"\nqueue desk { strategy linear }\n\
                          entry \"+18005550100\" -> queue desk\n";
    const OLD: &str = "queue old { strategy linear }\nentry \"+18005550101\" -> queue old\n";
    let roster = Roster::parse("[[agent]]\nid = \"ana\"\n").expect("roster");
    let v1 = Arc::new(
        Program::from_text(&format!("{SCRIPT}{OLD}"))
            .expect("the script compiles")
            .with_version("v1".into()),
    );
    let old = Arc::downgrade(&v1);
    let clock = Clock::starting_at("2026-11-23T16:00:00Z".parse().expect("instant"));
    let rt = Runtime::builder(v1, &roster)
        .clock(clock)
        .build()
        .expect("runtime");
    // Nobody is logged in: the callers wait, in desk for 30 s and in old
    // for 10 s, then give up.
    let spawn = |dialed: &'static str, patience: i64| {
        let rt = Arc::clone(&rt);
        let mut c = caller(&rt, &[], Some(patience));
        tokio::spawn(async move {
            rt.run_call(&mut c, Arrival::new("+15125550101", dialed))
                .await
        })
    };
    let (moving, staying) = (spawn("+18005550100", 30), spawn("+18005550101", 10));
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(rt.calls_in_progress(), 2);
    let v2 = Arc::new(
        Program::from_text(&format!("{SCRIPT}# edited\n"))
            .expect("the script compiles")
            .with_version("v2".into()),
    );
    rt.reload(v2, rt.tables(), None).expect("reload");
    assert!(old.upgrade().is_some(), "the calls in progress hold v1");
    let next = {
        let rt = Arc::clone(&rt);
        let mut c = caller(&rt, &[], Some(1));
        tokio::spawn(async move {
            rt.run_call(&mut c, Arrival::new("+15125550102", "+18005550100"))
                .await
        })
    };
    let staying = tokio::time::timeout(Duration::from_secs(600), staying)
        .await
        .expect("the call ends")
        .expect("call task");
    assert_eq!(staying.disposition, Disposition::Abandoned);
    assert_eq!(staying.call.program_version.as_deref(), Some("v1"));
    assert_eq!(staying.moved_to_version, None, "old is not in v2");
    drop(staying);
    assert_eq!(rt.calls_in_progress(), 1, "the moved call still waits");
    assert!(
        old.upgrade().is_none(),
        "v1 is freed once its last call has ended: the moved call let go of it"
    );
    let moved = tokio::time::timeout(Duration::from_secs(600), moving)
        .await
        .expect("the call ends")
        .expect("call task");
    let second = tokio::time::timeout(Duration::from_secs(600), next)
        .await
        .expect("the call ends")
        .expect("call task");
    assert_eq!(moved.call.program_version.as_deref(), Some("v1"));
    assert_eq!(moved.moved_to_version.as_deref(), Some("v2"));
    assert_eq!(moved.disposition, Disposition::Abandoned);
    assert_eq!(moved.wait_ms, 30_000, "the wait counts from when it began");
    assert_eq!(second.call.program_version.as_deref(), Some("v2"));
    assert_eq!(second.moved_to_version, None);
}

/// Two queues' worth of script for the moves below: `desk` as `DESK`
/// declares it, `old` with an overflow of its own.
fn desk_script(desk: &str) -> String {
    format!(
        "timezone \"America/Chicago\"\nskill billing\n\
         queue desk {{ strategy linear; {desk} }}\n\
         entry \"+18005550100\" -> queue desk\n"
    )
}

fn desk_runtime(desk: &str, roster: &str) -> Arc<Runtime> {
    let program = Program::from_text(&desk_script(desk))
        .expect("the script compiles")
        .with_version("v1".into());
    let clock = Clock::starting_at("2026-11-23T16:00:00Z".parse().expect("instant"));
    Runtime::builder(Arc::new(program), &Roster::parse(roster).expect("roster"))
        .clock(clock)
        .build()
        .expect("runtime")
}

fn reload_desk(rt: &Runtime, desk: &str) {
    let v2 = Program::from_text(&desk_script(desk))
        .expect("the script compiles")
        .with_version("v2".into());
    rt.reload(Arc::new(v2), rt.tables(), None).expect("reload");
}

/// A reload that widens desk's `require` so that an idle agent now
/// qualifies: the callers waiting there move to the new definition in
/// their order, and the first in line is offered the agent at once.
#[tokio::test(start_paused = true)]
async fn a_reload_moves_waiting_callers_to_the_new_definition_in_order() {
    let rt = desk_runtime(
        "require billing >= 3",
        "[[agent]]\nid = \"ana\"\nskills = { billing = 1 }\n",
    );
    rt.acd().login("ana").expect("login");
    let mut events = rt.events().subscribe();
    let first = spawn_call(&rt, &[]);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let second = spawn_call(&rt, &[]);
    tokio::time::sleep(Duration::from_secs(59)).await;
    assert_eq!(rt.acd().waiting(), 2, "ana does not qualify under v1");
    assert_eq!(state(&rt, "ana"), AgentState::Available);
    reload_desk(&rt, "require billing >= 1");
    assert_eq!(
        state(&rt, "ana"),
        AgentState::Ringing,
        "offered within the reload"
    );
    // The calls in progress say so once each call has taken its move.
    tokio::time::sleep(Duration::from_millis(10)).await;
    let moved: Vec<Option<String>> = (rt.calls().iter())
        .map(|c| c.moved_to_version.as_deref().map(str::to_string))
        .collect();
    assert_eq!(moved, [Some("v2".to_string()), Some("v2".to_string())]);
    let (first, log) = finish(first).await;
    let (second, log2) = finish(second).await;
    assert_eq!(first.disposition, Disposition::Answered, "{log:?}");
    assert_eq!(second.disposition, Disposition::Answered, "{log2:?}");
    // Ana answers the first caller 3 s after the reload, talks for a
    // minute, then takes the second.
    assert_eq!(first.wait_ms, 63_000, "{log:?}");
    assert_eq!(second.wait_ms, 62_000 + 63_000, "{log2:?}");
    for s in [&first, &second] {
        assert_eq!(s.call.program_version.as_deref(), Some("v1"));
        assert_eq!(s.moved_to_version.as_deref(), Some("v2"));
        assert_eq!(s.agent.as_deref(), Some("ana"));
    }
    let offered: Vec<(u64, i64)> = std::iter::from_fn(|| events.try_recv().ok())
        .filter_map(|e| match e {
            Event::Offered { call, at_ms, .. } => Some((call.id, at_ms)),
            _ => None,
        })
        .collect();
    assert_eq!(
        offered,
        [(first.call.id, 60_000), (second.call.id, 123_000)],
        "in the order they joined, the first at the reload"
    );
}

/// A reload that adds an overflow step after a minute: a caller who has
/// waited two minutes overflows at once, under the new version's action,
/// and the record shows both versions. A caller in a queue the new
/// version lacks finishes under the old definition.
#[tokio::test(start_paused = true)]
async fn a_moved_caller_overflows_at_once_and_a_removed_queue_keeps_its_own() {
    let old = "queue old { strategy linear; after 3m -> voicemail \"old\" }\n\
               entry \"+18005550101\" -> queue old\n";
    let program = Program::from_text(&format!("{}{old}", desk_script("require billing >= 1")))
        .expect("the script compiles")
        .with_version("v1".into());
    let clock = Clock::starting_at("2026-11-23T16:00:00Z".parse().expect("instant"));
    let rt = Runtime::builder(Arc::new(program), &Roster::parse("").expect("roster"))
        .clock(clock)
        .build()
        .expect("runtime");
    let desk = spawn_call(&rt, &[]);
    let elsewhere = {
        let rt = Arc::clone(&rt);
        let mut c = caller(&rt, &[], None);
        tokio::spawn(async move {
            let summary = rt
                .run_call(&mut c, Arrival::new("+15125550101", "+18005550101"))
                .await;
            (summary, c.log)
        })
    };
    tokio::time::sleep(Duration::from_secs(120)).await;
    reload_desk(&rt, "require billing >= 1; after 1m -> voicemail \"x\"");
    let (desk, log) = finish(desk).await;
    assert_eq!(desk.disposition, Disposition::Voicemail, "{log:?}");
    assert_eq!(desk.wait_ms, 120_000, "out at once: {log:?}");
    assert_eq!(
        desk.path[desk.path.len() - 2..],
        [
            Step::Left {
                queue: "desk".into(),
                reason: dialect::runtime::record::LeftReason::Overflow,
            },
            Step::Voicemail {
                mailbox: "x".into()
            },
        ]
    );
    assert_eq!(desk.call.program_version.as_deref(), Some("v1"));
    assert_eq!(desk.moved_to_version.as_deref(), Some("v2"));
    let record = serde_json::to_value(&*desk).expect("json");
    assert_eq!(record["call"]["program_version"], "v1");
    assert_eq!(record["moved_to_version"], "v2");
    let (elsewhere, log) = finish(elsewhere).await;
    assert_eq!(elsewhere.disposition, Disposition::Voicemail, "{log:?}");
    assert_eq!(elsewhere.wait_ms, 180_000, "v1's step: {log:?}");
    assert_eq!(
        elsewhere.path.last(),
        Some(&Step::Voicemail {
            mailbox: "old".into()
        })
    );
    assert_eq!(elsewhere.moved_to_version, None);
    assert!(
        serde_json::to_value(&*elsewhere).expect("json")["moved_to_version"].is_null(),
        "no move, no field"
    );
}

/// A switch flipped while a call is in progress changes nothing for that
/// call, not even its decisions still to come (the route after the menu
/// reads the switch as it was when the call arrived); the next call sees
/// the flip, and each record lists the switches that were on.
#[tokio::test(start_paused = true)]
async fn a_switch_flip_takes_effect_from_the_next_call() {
    const SCRIPT: &str = "timezone \"America/Chicago\"\n\
        switch storm \"Storm closure\"\n\
        menu main { prompt \"welcome\"\n timeout 5s, retries 1\n 1 -> route later }\n\
        route later {\n when switch(storm) -> play \"closed\", hangup\n \
        otherwise -> play \"open\", hangup\n}\n\
        entry \"+18005550100\" -> menu main\n";
    let program = Arc::new(Program::from_text(SCRIPT).expect("the script compiles"));
    let clock = Clock::starting_at("2026-11-23T16:00:00Z".parse().expect("instant"));
    let rt = Runtime::builder(program, &Roster::default())
        .clock(clock)
        .build()
        .expect("runtime");
    let flip = |on| dialect::runtime::Flip {
        on,
        at: "2026-11-23T16:00:00Z".parse().expect("instant"),
        by: "test".into(),
    };
    // The first caller is in the menu (prompts last 2 s) when the storm
    // switch goes on; the route after the menu still sees it off.
    let first = spawn_call(&rt, &["1"]);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(rt.calls_in_progress(), 1);
    rt.switches().set("storm", flip(true));
    let (first, first_log) = finish(first).await;
    let second = spawn_call(&rt, &["1"]);
    let (second, second_log) = finish(second).await;
    let played = |log: &[String], p: &str| log.iter().any(|l| l.contains(p));
    assert!(
        played(&first_log, "open") && !played(&first_log, "closed"),
        "{first_log:?}"
    );
    assert!(played(&second_log, "closed"), "{second_log:?}");
    assert!(first.call.switches.is_empty());
    assert_eq!(second.call.switches, ["storm"]);
    let json = serde_json::to_string(&*second).expect("record");
    assert!(json.contains("\"switches\":[\"storm\"]"), "{json}");
}

/// The registry of calls in progress follows a call: in the menu, in
/// line, ringing the agent, talking, then gone.
#[tokio::test(start_paused = true)]
async fn the_calls_in_progress_say_where_each_call_is() {
    use dialect::runtime::live::Place as Where;
    let rt = runtime();
    rt.acd().login("ana").expect("login");
    rt.acd().pause("ana").expect("pause");
    assert!(rt.calls().is_empty());
    let call = spawn_call(&rt, &["1"]);
    let mut seen: Vec<Where> = Vec::new();
    for _ in 0..2_000 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let calls = rt.calls();
        let Some(now) = calls.first() else {
            break;
        };
        assert_eq!(calls.len(), 1);
        assert_eq!(now.call.dialed, "+18005550100");
        let place = match &now.place {
            // Only where, not since when.
            Where::Queued { queue, .. } => Where::Queued {
                queue: queue.clone(),
                since_ms: 0,
            },
            other => other.clone(),
        };
        if seen.last() != Some(&place) {
            if matches!(place, Where::Queued { .. }) {
                rt.acd().unpause("ana").expect("unpause");
            }
            seen.push(place);
        }
    }
    let (summary, _) = finish(call).await;
    assert_eq!(summary.disposition, Disposition::Answered);
    assert!(rt.calls().is_empty(), "the call left the registry");
    assert_eq!(
        seen,
        [
            Where::Menu {
                menu: "main".into()
            },
            Where::Queued {
                queue: "billing".into(),
                since_ms: 0
            },
            Where::Ringing {
                queue: Some("billing".into()),
                agents: vec!["ana".into()]
            },
            Where::Talking {
                agent: "ana".into(),
                queue: Some("billing".into())
            },
        ]
    );
}

/// A caller whose offer is ringing when the reload comes is not moved
/// while it rings: the ring ends as it began, and the caller moves as it
/// rejoins the line, where the new definition's overflow is already due.
#[tokio::test(start_paused = true)]
async fn a_ringing_caller_moves_when_it_rejoins_the_line() {
    let rt = desk_runtime(
        "ring 20s then next",
        "[[agent]]\nid = \"ana\"\nskills = { billing = 1 }\n",
    );
    rt.acd().login("ana").expect("login");
    let call = {
        let rt = Arc::clone(&rt);
        let mut c = caller(&rt, &[], None);
        c.behaviour.unanswering = vec!["ana".into()];
        tokio::spawn(async move {
            let summary = rt
                .run_call(&mut c, Arrival::new("+15125550101", "+18005550100"))
                .await;
            (summary, c.log)
        })
    };
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert_eq!(state(&rt, "ana"), AgentState::Ringing);
    reload_desk(&rt, "ring 20s then next; after 15s -> voicemail \"x\"");
    assert_eq!(state(&rt, "ana"), AgentState::Ringing, "the ring goes on");
    let (summary, log) = finish(call).await;
    assert_eq!(summary.disposition, Disposition::Voicemail, "{log:?}");
    assert_eq!(summary.wait_ms, 20_000, "out when the ring ended: {log:?}");
    assert_eq!(summary.moved_to_version.as_deref(), Some("v2"));
    assert_eq!(
        summary.path.last(),
        Some(&Step::Voicemail {
            mailbox: "x".into()
        })
    );
}
