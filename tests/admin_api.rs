//! The admin API's agents, queues and calls on a B2BUA `dialect serve`
//! with SIPp as an agent's phone and as a caller: agents listed with
//! their states and phones; a supervisor's logout that neither the
//! presence refresh nor a new REGISTER undoes, until a supervisor logs
//! the agent in; a login refused while no phone is registered; pause and
//! unpause; 404s for unknown agents and queues; a caller waiting in a
//! queue shown in the queue's statistics and in the calls in progress,
//! and gone from them once they hang up; agents a roster reload adds or
//! changes, whose logins follow their phones from then on.
//!
//! Without SIPp these tests say so and pass, except under CI
//! (`CI=true`), where a missing `sipp` fails them.

mod serve_common;

use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;
use serve_common::{Server, free_port, have_sipp, scratch};

const SCRIPT: &str = "tests/fixtures/b2bua/main.dial";
const AGENTS: &str = "tests/fixtures/b2bua/agents.toml";

/// A B2BUA configuration in `dir`: the admin API on a free port, and
/// agents' logins brought in line with their phones every second.
fn config(dir: &Path) -> PathBuf {
    let prompts = Path::new(env!("CARGO_MANIFEST_DIR")).join("prompts");
    let lo = 41_000 + (std::process::id() % 50) as u16 * 40;
    let config = dir.join("dialect.toml");
    std::fs::write(
        &config,
        format!(
            "mode = \"b2bua\"\nprompts = \"{}\"\nadmin = \"127.0.0.1:0\"\n\n\
             [registrar]\ndigest = [\"MD5\"]\nrefresh = 1\n\n\
             [media]\nrtp_ports = \"{lo}-{}\"\nrecordings = \"{}\"\nmedia_timeout = 20\n\
             shutdown_grace = 2\n",
            prompts.display(),
            lo + 39,
            dir.join("recordings").display(),
        ),
    )
    .expect("a configuration");
    config
}

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

/// `GET path`, which must answer 200 with JSON.
fn get(server: &Server, path: &str) -> Value {
    let (status, body) = server.admin("GET", path, b"");
    assert_eq!(status, 200, "GET {path}: {body}");
    json(&body)
}

/// `POST path` with an empty body: the status and the body as JSON.
fn post(server: &Server, path: &str) -> (u16, Value) {
    let (status, body) = server.admin("POST", path, b"");
    (status, json(&body))
}

/// Registers `user` (password `USER-secret`) with its Contact at `port`.
fn register(server: &Server, user: &str, port: u16) {
    let password = format!("{user}-secret");
    let status = server.sipp(
        "uac_register.xml",
        port,
        &[
            "-s", user, "-au", user, "-ap", &password, "-key", "expires", "300", "-m", "1",
        ],
    );
    assert_eq!(status, 0, "{user} registers");
}

/// Asks `GET path` until `done` holds of the answer (within 5 s).
fn until(server: &Server, path: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let answer = get(server, path);
        if done(&answer) {
            return answer;
        }
        assert!(Instant::now() < deadline, "{what}: {answer}");
        thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn supervisors_see_and_move_agents_queues_and_calls() {
    if !have_sipp() {
        return;
    }
    let dir = scratch("admin-b2bua");
    let server = Server::start_with(SCRIPT, AGENTS, &config(&dir));

    // The roster, nobody logged in: no phone is registered.
    let agents = get(&server, "/agents");
    let ids: Vec<&str> = agents
        .as_array()
        .expect("a list")
        .iter()
        .map(|a| a["id"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(ids, ["ana", "bob"], "{agents}");
    for a in agents.as_array().unwrap() {
        assert_eq!(a["state"], "logged_out", "{a}");
        assert_eq!(a["logged_in"], false, "{a}");
        assert_eq!(a["phone_registered"], false, "{a}");
        assert_eq!(a["held_out"], false, "{a}");
    }
    assert_eq!(agents[0]["extension"], "2001");

    // Logging in an agent without a phone is refused, with the reason.
    let (status, answer) = post(&server, "/agents/bob/login");
    assert_eq!(status, 409, "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .is_some_and(|e| e.contains("no phone registered")),
        "{answer}"
    );
    // Unknown agents and queues.
    for (method, path) in [
        ("GET", "/agents/nobody"),
        ("POST", "/agents/nobody/login"),
        ("POST", "/agents/nobody/logout"),
        ("POST", "/agents/nobody/pause"),
        ("POST", "/agents/nobody/unpause"),
        ("GET", "/queues/nowhere"),
    ] {
        let (status, body) = server.admin(method, path, b"");
        assert_eq!(status, 404, "{method} {path}: {body}");
        assert!(
            json(&body)["error"]
                .as_str()
                .is_some_and(|e| e.contains("no"))
        );
    }

    // Ana's phone registers: she is logged in.
    let ana_port = free_port();
    register(&server, "ana", ana_port);
    let ana = until(&server, "/agents/ana", "ana logs in", |a| {
        a["state"] == "available"
    });
    assert_eq!(ana["phone_registered"], true, "{ana}");
    let (status, answer) = post(&server, "/agents/ana/login");
    assert_eq!(status, 409, "already logged in: {answer}");

    // A supervisor logs her out: neither the presence refresh (every
    // second here) nor her phone registering again logs her back in.
    let (status, ana) = post(&server, "/agents/ana/logout");
    assert_eq!(status, 200, "{ana}");
    assert_eq!(ana["state"], "logged_out", "{ana}");
    assert_eq!(ana["held_out"], true, "{ana}");
    thread::sleep(Duration::from_millis(2500));
    register(&server, "ana", ana_port);
    let ana = get(&server, "/agents/ana");
    assert_eq!(ana["state"], "logged_out", "{ana}");
    assert_eq!(ana["phone_registered"], true, "{ana}");
    // ...until a supervisor logs her in.
    let (status, ana) = post(&server, "/agents/ana/login");
    assert_eq!(status, 200, "{ana}");
    assert_eq!(ana["state"], "available", "{ana}");
    assert_eq!(ana["held_out"], false, "{ana}");
    thread::sleep(Duration::from_millis(1500));
    assert_eq!(get(&server, "/agents/ana")["state"], "available");

    // Pause and unpause; pausing twice is a conflict that says why.
    let (status, ana) = post(&server, "/agents/ana/pause");
    assert_eq!((status, &ana["state"]), (200, &Value::from("paused")));
    let (status, answer) = post(&server, "/agents/ana/pause");
    assert_eq!(status, 409, "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .is_some_and(|e| e.contains("paused")),
        "{answer}"
    );
    let (status, ana) = post(&server, "/agents/ana/unpause");
    assert_eq!((status, &ana["state"]), (200, &Value::from("available")));
    let (status, _) = post(&server, "/agents/ana/pause");
    assert_eq!(status, 200);

    // A caller to the sales queue waits (ana is paused, so the queue has
    // an agent and the caller stays in line), then hangs up after 4 s.
    let rtp = free_port().to_string();
    let caller = server.sipp_start(
        "uac_hangup.xml",
        free_port(),
        &[
            "-s",
            "+18005550200",
            "-key",
            "caller",
            "+15125550123",
            "-key",
            "rtp_port",
            &rtp,
            "-d",
            "4000",
            "-m",
            "1",
        ],
    );
    let calls = until(&server, "/calls", "the caller waits in the queue", |c| {
        c[0]["state"] == "queued"
    });
    assert_eq!(calls.as_array().map(Vec::len), Some(1), "{calls}");
    let call = &calls[0];
    assert_eq!(call["queue"], "sales", "{call}");
    assert_eq!(call["caller"], "+15125550123", "{call}");
    assert_eq!(call["dialed"], "+18005550200", "{call}");
    assert_eq!(call["program_version"], server.version.as_str(), "{call}");
    assert!(
        call["sip_call_id"].as_str().is_some_and(|c| !c.is_empty()),
        "{call}"
    );
    assert!(call["waited_ms"].as_i64().is_some(), "{call}");
    assert!(call["started_at"].as_str().is_some(), "{call}");

    let sales = get(&server, "/queues/sales");
    assert_eq!(sales["name"], "sales");
    assert_eq!(sales["stats"]["waiting"], 1, "{sales}");
    assert_eq!(sales["stats"]["agents"], 1, "{sales}");
    assert_eq!(sales["stats"]["available"], 0, "{sales}");
    assert!(sales["stats"]["expected_wait_ms"].as_i64().unwrap() > 0);
    let waiting = &sales["callers"][0];
    assert_eq!(waiting["position"], 1, "{sales}");
    assert_eq!(waiting["call"], call["id"], "{sales}");
    assert_eq!(waiting["correlation"], call["sip_call_id"], "{sales}");
    assert!(waiting["waited_ms"].as_i64().is_some(), "{sales}");
    assert_eq!(sales["agents"][0]["id"], "ana", "{sales}");
    assert_eq!(sales["agents"][0]["state"], "paused", "{sales}");
    let queues = get(&server, "/queues");
    let names: Vec<&str> = queues
        .as_array()
        .expect("a list")
        .iter()
        .map(|q| q["name"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(names, ["sales", "desk"], "{queues}");
    assert_eq!(queues[1]["stats"]["waiting"], 0, "{queues}");

    // The caller hangs up: no call is in progress, nobody waits.
    assert_eq!(caller.wait(), 0, "the caller hung up");
    until(&server, "/calls", "the call ends", |c| {
        c.as_array().is_some_and(Vec::is_empty)
    });
    assert_eq!(get(&server, "/queues/sales")["stats"]["waiting"], 0);
    let out = server.stop();
    assert!(
        out.contains("agent `ana` logged out (by admin API)"),
        "{out}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A roster reloaded while the server runs: an agent added to it logs in
/// once their phone registers, and one whose SIP user changed follows the
/// new user's phone, whether the reload read the roster alone (data only)
/// or the script with it.
#[test]
fn agents_added_by_a_roster_reload_log_in_with_their_phones() {
    if !have_sipp() {
        return;
    }
    let dir = scratch("admin-roster-reload");
    let roster = dir.join("agents.toml");
    let original = std::fs::read_to_string(AGENTS).expect("the roster");
    std::fs::write(&roster, &original).unwrap();
    let server = Server::start_with(SCRIPT, roster.to_str().unwrap(), &config(&dir));
    let logged_in = |a: &Value| a["logged_in"] == true && a["phone_registered"] == true;

    // Cy is not in the roster: their phone cannot register, nobody is cy.
    assert_eq!(server.admin("GET", "/agents/cy", b"").0, 404);

    // Added, and the roster alone read again: cy's phone registers and
    // cy logs in.
    let added = format!(
        "{original}\n[[agent]]\nid = \"cy\"\nsip_user = \"cy\"\npassword = \"cy-secret\"\n\
         extension = \"2003\"\n"
    );
    std::fs::write(&roster, &added).unwrap();
    let (status, body) = server.admin("POST", "/reload", b"{}");
    assert_eq!(status, 200, "{body}");
    assert!(
        json(&body)["data"] == serde_json::json!(["roster"]),
        "{body}"
    );
    register(&server, "cy", free_port());
    until(
        &server,
        "/agents/cy",
        "cy logs in with their phone",
        logged_in,
    );

    // Bob's SIP user changes to `bee`: bob's login follows bee's phone,
    // which registers after the reload.
    let moved = added.replace(
        "sip_user = \"bob\"\npassword = \"bob-secret\"",
        "sip_user = \"bee\"\npassword = \"bee-secret\"",
    );
    assert_ne!(moved, added);
    std::fs::write(&roster, &moved).unwrap();
    let (status, body) = server.admin("POST", "/reload", b"{}");
    assert_eq!(status, 200, "{body}");
    register(&server, "bee", free_port());
    until(
        &server,
        "/agents/bob",
        "bob logs in with bee's phone",
        logged_in,
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}
