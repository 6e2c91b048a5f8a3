//! The runtime as a server runs it, on tokio's paused clock: a call's
//! identity from its channel to its record, shutdown with calls in
//! progress, the call-record path that loses nothing however slow its
//! writer, and live subscribers that fall behind without growing memory.

use std::sync::Arc;
use std::time::Duration;

use dialect::checked::AgentState;
use dialect::program::Program;
use dialect::runtime::record::Step;
use dialect::runtime::{Arrival, Clock, Disposition, Event, Roster, Runtime, Summary};
use dialect::sim::{Behaviour, SimCaller};
use tokio::sync::broadcast::error::RecvError;

const SCRIPT: &str = r#"
timezone "UTC"
skill billing
queue billing {
  strategy longest_idle
  ring     20s then next
  wrapup   30s
}
menu main {
  prompt "main"
  1 -> queue billing
}
entry "+18005550100" -> menu main
entry "+18005550199" -> reject busy
"#;

const ROSTER: &str = r#"
[[agent]]
id = "ana"
extension = "2001"
skills = { billing = 5 }
"#;

fn runtime(events: usize) -> Arc<Runtime> {
    let program = Arc::new(Program::from_text(SCRIPT).expect("the script compiles"));
    let roster = Roster::parse(ROSTER).expect("roster");
    let clock = Clock::starting_at("2026-11-23T16:00:00Z".parse().expect("instant"));
    Runtime::builder(program, &roster)
        .clock(clock)
        .event_capacity(events)
        .build()
        .expect("runtime")
}

/// A caller who presses 1, waits as long as it takes and talks `talk_s`.
fn caller(rt: &Runtime, talk_s: i64) -> SimCaller {
    let mut c = SimCaller::new(
        rt.clock().clone(),
        Behaviour {
            presses: [Some("1".to_string())].into(),
            talk_ms: talk_s * 1000,
            ..Behaviour::default()
        },
    );
    c.logging = false;
    c
}

fn spawn_call(rt: &Arc<Runtime>, talk_s: i64) -> tokio::task::JoinHandle<Arc<Summary>> {
    let rt = Arc::clone(rt);
    let mut c = caller(&rt, talk_s);
    tokio::spawn(async move {
        rt.run_call(&mut c, Arrival::new("+15125550101", "+18005550100"))
            .await
    })
}

fn state(rt: &Runtime, id: &str) -> AgentState {
    (rt.acd().states().into_iter())
        .find(|(a, _)| a == id)
        .map(|(_, s)| s)
        .expect("agent")
}

/// The channel's name for a call reaches every event of the call and its
/// record.
#[tokio::test(start_paused = true)]
async fn a_calls_identity_reaches_its_events_and_its_record() {
    let rt = runtime(64);
    let mut events = rt.events().subscribe();
    rt.acd().login("ana").expect("login");
    let mut c = caller(&rt, 10);
    let summary = rt
        .run_call(
            &mut c,
            Arrival::new("5125550101", "+18005550100").correlation("a84b4c76e66710@pc33"),
        )
        .await;
    assert_eq!(summary.disposition, Disposition::Answered);
    assert_eq!(
        summary.call.correlation.as_deref(),
        Some("a84b4c76e66710@pc33")
    );
    assert_eq!(summary.call.caller, "5125550101", "no country: as given");
    assert_eq!(
        summary.call.arrived,
        "2026-11-23T16:00:00Z".parse().expect("instant")
    );
    let mut seen = 0;
    while let Ok(e) = events.try_recv() {
        let call = match &e {
            Event::CallArrived { call, .. }
            | Event::MenuInput { call, .. }
            | Event::Queued { call, .. }
            | Event::Offered { call, .. }
            | Event::Answered { call, .. } => Arc::clone(call),
            Event::CallEnded(s) => Arc::clone(&s.call),
            _ => continue,
        };
        assert_eq!(call, summary.call, "{e:?}");
        seen += 1;
    }
    assert_eq!(seen, 6, "arrived, keys, queued, offered, answered, ended");
}

/// Shutdown: new calls are turned away at once; calls in progress have
/// until the deadline; then every call still going is ended with a
/// disposition and its record, the ACD lets go of it, and no task of the
/// runtime is left.
#[tokio::test(start_paused = true)]
async fn shutdown_ends_every_call_with_a_record_and_leaves_no_task() {
    let rt = runtime(64);
    let mut records = rt.events().records(16);
    rt.acd().login("ana").expect("login");
    // One call talks with ana for an hour; two more wait behind it.
    let talking = spawn_call(&rt, 3_600);
    tokio::time::sleep(Duration::from_secs(10)).await;
    let waiting = [spawn_call(&rt, 60), spawn_call(&rt, 60)];
    // One that ends by itself within the grace period: busy, rejected.
    let quick = {
        let rt = Arc::clone(&rt);
        tokio::spawn(async move {
            let mut c = caller(&rt, 0);
            rt.run_call(&mut c, Arrival::new("+15125550101", "+18005550199"))
                .await
        })
    };
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert_eq!(state(&rt, "ana"), AgentState::OnCall);
    assert_eq!(rt.acd().waiting(), 2);
    assert_eq!(rt.calls_in_progress(), 3);

    let began = rt.clock().elapsed_ms();
    let done = rt.shutdown(30_000).await;
    assert_eq!(done.cut, 3, "three calls were still going at the deadline");
    assert_eq!(
        rt.clock().elapsed_ms() - began,
        30_000,
        "waited the grace period"
    );
    assert_eq!(rt.calls_in_progress(), 0);

    let talked = talking.await.expect("call task");
    assert_eq!(talked.disposition, Disposition::Answered);
    assert_eq!(talked.path.last(), Some(&Step::Shutdown));
    // The conversation counts until the deadline cut it.
    assert_eq!(talked.ended_ms, began + 30_000);
    assert!(
        talked.talk_ms > 30_000 && talked.talk_ms <= began + 30_000,
        "talked {} ms",
        talked.talk_ms
    );
    for w in waiting {
        let s = w.await.expect("call task");
        assert_eq!(s.disposition, Disposition::Failed, "{:?}", s.path);
        assert_eq!(s.path.last(), Some(&Step::Shutdown));
        assert!(s.wait_ms >= 30_000, "waited {} ms", s.wait_ms);
    }
    assert_eq!(
        quick.await.expect("call task").disposition,
        Disposition::Rejected
    );
    // The ACD holds nothing of the calls, and ana is not on a call.
    assert_eq!(rt.acd().waiting(), 0);
    assert_ne!(state(&rt, "ana"), AgentState::OnCall);
    assert_ne!(state(&rt, "ana"), AgentState::Ringing);

    // After the shutdown, a call is turned away at once, with a record.
    let mut late = caller(&rt, 10);
    let s = rt
        .run_call(&mut late, Arrival::new("+15125550101", "+18005550100"))
        .await;
    assert_eq!(s.disposition, Disposition::Rejected);
    assert_eq!(s.path, [Step::Shutdown]);

    // No task of the runtime is left (the wrap-up timer ended with it).
    assert_eq!(
        tokio::runtime::Handle::current()
            .metrics()
            .num_alive_tasks(),
        0
    );
    // Every call has exactly one record, and the record stream has ended.
    let mut ids = Vec::new();
    while let Some(r) = records.recv().await {
        ids.push(r.call.id);
    }
    ids.sort_unstable();
    assert_eq!(
        ids,
        [1, 2, 3, 4],
        "the call after the shutdown has no record subscriber"
    );
}

/// Calls that end by themselves within the grace period are not cut.
#[tokio::test(start_paused = true)]
async fn shutdown_waits_for_calls_that_end_in_time() {
    let rt = runtime(64);
    rt.acd().login("ana").expect("login");
    let call = spawn_call(&rt, 20);
    tokio::time::sleep(Duration::from_secs(5)).await;
    let began = rt.clock().elapsed_ms();
    let done = rt.shutdown(600_000).await;
    assert_eq!(done.cut, 0);
    let s = call.await.expect("call task");
    assert_eq!(s.disposition, Disposition::Answered);
    assert!(!s.path.contains(&Step::Shutdown));
    assert!(
        rt.clock().elapsed_ms() - began < 60_000,
        "did not wait the whole grace"
    );
}

/// A record writer slower than the calls loses no record: calls that end
/// wait for it instead.
#[tokio::test(start_paused = true)]
async fn a_slow_record_writer_loses_nothing() {
    let rt = runtime(64);
    let mut records = rt.events().records(2);
    let writer = tokio::spawn(async move {
        let mut got = Vec::new();
        while let Some(r) = records.recv().await {
            // One second per record: far slower than the calls end.
            tokio::time::sleep(Duration::from_secs(1)).await;
            got.push(r.call.id);
        }
        got
    });
    let calls: Vec<_> = (0..200)
        .map(|_| {
            let rt = Arc::clone(&rt);
            tokio::spawn(async move {
                let mut c = caller(&rt, 0);
                let s = rt
                    .run_call(&mut c, Arrival::new("+15125550101", "+18005550199"))
                    .await;
                (s, rt.clock().elapsed_ms())
            })
        })
        .collect();
    let mut last_return = 0;
    for c in calls {
        let (s, returned_at) = c.await.expect("call");
        assert_eq!(s.disposition, Disposition::Rejected);
        last_return = last_return.max(returned_at);
    }
    // The queue holds two records: the calls behind them waited for the
    // writer, about a second each, before their records were taken.
    assert!(
        last_return >= 195_000,
        "the last call returned at {last_return} ms"
    );
    rt.shutdown(0).await;
    let mut got = writer.await.expect("writer");
    got.sort_unstable();
    assert_eq!(got, (1..=200).collect::<Vec<u64>>());
}

/// A live subscriber that never reads costs no more than the bus's
/// capacity (a ring of that many events, overwritten as new ones come),
/// and is told how many events it missed.
#[tokio::test(start_paused = true)]
async fn a_slow_live_subscriber_misses_events_without_growing_memory() {
    let rt = runtime(32);
    let mut live = rt.events().subscribe();
    for _ in 0..500 {
        let mut c = caller(&rt, 0);
        rt.run_call(&mut c, Arrival::new("+15125550101", "+18005550199"))
            .await;
    }
    // Each rejected call publishes two events: arrived and ended.
    match live.recv().await {
        Err(RecvError::Lagged(missed)) => assert_eq!(missed, 1_000 - 32),
        other => panic!("expected to hear of missed events, got {other:?}"),
    }
    let mut kept = 0;
    while live.try_recv().is_ok() {
        kept += 1;
    }
    assert_eq!(kept, 32, "the newest events are still there");
}

/// Dropping the runtime without a shutdown stops its timer too, also while
/// an agent's wrap-up keeps it waiting for a deadline.
#[tokio::test(start_paused = true)]
async fn dropping_the_runtime_stops_its_timer() {
    let rt = runtime(16);
    rt.acd().login("ana").expect("login");
    let mut c = caller(&rt, 10);
    let s = rt
        .run_call(&mut c, Arrival::new("+15125550101", "+18005550100"))
        .await;
    assert_eq!(s.disposition, Disposition::Answered);
    let alive = || {
        tokio::runtime::Handle::current()
            .metrics()
            .num_alive_tasks()
    };
    // The timer has taken in the wrap-up and waits for its end.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(alive(), 1, "the timer runs until the wrap-up ends");
    drop(rt);
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    assert_eq!(alive(), 0);
}
