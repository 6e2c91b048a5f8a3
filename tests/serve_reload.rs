//! Reloading a running `dialect serve` (redirect mode, where each answer
//! names the version that decided it): SIGHUP and `--watch` put an edited
//! script in force for the next INVITE; a script with errors or a failing
//! test changes nothing and the diagnostics are printed; every call
//! answered in between is answered.

mod serve_common;

use std::io::{BufRead, BufReader};
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const CONFIG: &str = "mode = \"redirect\"\n\n[targets]\ntrunk = \"sip:{number}@trunk.test\"\n";

fn script(target: &str, extra: &str) -> String {
    format!(
        "entry \"+1 800 555 0100\" -> transfer \"{target}\"\n\n\
         test \"the line goes to the trunk\" {{\n  \
         call from \"+15125550123\" to \"+18005550100\" at 2026-11-23 10:00\n  \
         expect transfer \"{target}\"\n}}\n{extra}"
    )
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dialect-reload-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

struct Server {
    child: Child,
    lines: mpsc::Receiver<String>,
    errors: mpsc::Receiver<String>,
    port: u16,
    version: String,
    /// The admin API's address and token file, when it runs.
    admin: Option<(String, PathBuf)>,
}

fn reader<R: std::io::Read + Send + 'static>(r: R) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(r).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Lines from `rx` up to one containing `needle` (within 20 s), all of
/// them; the test fails naming `what` otherwise.
fn until(rx: &mpsc::Receiver<String>, needle: &str, what: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut all = String::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = rx
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("serve did not say {what} ({needle:?}); said {all}"));
        all.push_str(&line);
        all.push('\n');
        if line.contains(needle) {
            return all;
        }
    }
}

impl Server {
    fn start(dir: &Path, extra: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_dialect"))
            .arg("serve")
            .arg(dir.join("main.dial"))
            .args(["--sip", "127.0.0.1:0"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("dialect serve starts");
        let out: ChildStdout = child.stdout.take().expect("stdout");
        let lines = reader(out);
        let errors = reader(child.stderr.take().expect("stderr"));
        let mut server = Server {
            child,
            lines,
            errors,
            port: 0,
            version: String::new(),
            admin: None,
        };
        let said = until(&server.lines, "to stop", "where it listens");
        for line in said.lines() {
            if let Some(rest) = line.split("program version ").nth(1) {
                server.version = rest.split_whitespace().next().unwrap_or("").into();
            }
            if let Some(addr) = line.trim().strip_prefix("listening on udp://") {
                server.port = addr.rsplit(':').next().unwrap().parse().unwrap();
            }
            if let Some(rest) = line.trim().strip_prefix("admin API on http://") {
                let (addr, file) = rest.split_once(" (token in ").expect("the token file");
                let file = file.trim_end_matches(')');
                server.admin = Some((addr.to_string(), PathBuf::from(file)));
            }
        }
        server
    }

    fn admin_addr(&self) -> String {
        self.admin.as_ref().expect("the admin API runs").0.clone()
    }

    fn token(&self) -> String {
        let file = &self.admin.as_ref().expect("the admin API runs").1;
        std::fs::read_to_string(file).unwrap().trim().to_string()
    }

    /// One HTTP request to the admin API: status and body.
    fn http(&self, method: &str, path: &str, token: Option<&str>, body: &[u8]) -> (u16, String) {
        serve_common::http(&self.admin_addr(), method, path, token, body)
    }

    /// `dialect ARGS... --server ADDR`: exit status, stdout, stderr.
    fn command(&self, args: &[&str]) -> (i32, String, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_dialect"))
            .args(args)
            .args(["--server", &self.admin_addr()])
            .output()
            .expect("dialect runs");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into(),
            String::from_utf8_lossy(&out.stderr).into(),
        )
    }

    fn hangup(&self) {
        let status = Command::new("kill")
            .args(["-HUP", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
    }

    /// The next line on standard output containing `needle`.
    fn said(&self, needle: &str) -> String {
        let all = until(&self.lines, needle, "it");
        all.lines().last().unwrap_or("").to_string()
    }

    /// Standard error until a line containing `needle`, all of it.
    fn complained(&self, needle: &str) -> String {
        until(&self.errors, needle, "its complaint")
    }

    /// An INVITE to the line; the answer's (Contact, version).
    fn call(&self, n: u32) -> (String, String) {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let port = socket.local_addr().unwrap().port();
        let invite = format!(
            "INVITE sip:+18005550100@127.0.0.1 SIP/2.0\r\n\
             Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bKreload{n}\r\n\
             From: <sip:+15125550123@127.0.0.1>;tag=t{n}\r\n\
             To: <sip:+18005550100@127.0.0.1>\r\n\
             Call-ID: reload-{n}@127.0.0.1\r\n\
             CSeq: 1 INVITE\r\n\
             Contact: <sip:caller@127.0.0.1:{port}>\r\n\
             Max-Forwards: 70\r\n\
             Content-Length: 0\r\n\r\n"
        );
        socket
            .send_to(invite.as_bytes(), ("127.0.0.1", self.port))
            .unwrap();
        let mut buf = [0u8; 4096];
        loop {
            let (len, _) = socket.recv_from(&mut buf).expect("an answer");
            let text = String::from_utf8_lossy(&buf[..len]).to_string();
            if text.starts_with("SIP/2.0 1") {
                continue;
            }
            assert!(text.starts_with("SIP/2.0 302"), "{text}");
            let header = |name: &str| {
                text.lines()
                    .find_map(|l| l.strip_prefix(name))
                    .map(|v| v.trim().to_string())
                    .unwrap_or_default()
            };
            return (header("Contact:"), header("X-Dialect-Version:"));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn sighup_puts_an_edited_script_in_force_and_refuses_a_broken_one() {
    let dir = scratch("hup");
    std::fs::write(dir.join("dialect.toml"), CONFIG).unwrap();
    std::fs::write(dir.join("main.dial"), script("+15125550100", "")).unwrap();
    let server = Server::start(&dir, &[]);
    let first = server.version.clone();
    let (contact, version) = server.call(1);
    assert!(contact.contains("+15125550100"), "{contact}");
    assert_eq!(version, first);

    // An edit, then SIGHUP: the next call takes the new version.
    std::fs::write(dir.join("main.dial"), script("+15125550111", "")).unwrap();
    server.hangup();
    let line = server.said("reloaded:");
    assert!(line.contains("(SIGHUP)"), "{line}");
    assert!(line.contains("1 test(s) passed"), "{line}");
    // What the edit does to calls, as `dialect diff` says it.
    let change = server.said("calls to +1 800 555 0100");
    assert!(
        change.contains("now `transfer \"+15125550111\"`"),
        "{change}"
    );
    let (contact, second) = server.call(2);
    assert!(contact.contains("+15125550111"), "{contact}");
    assert_ne!(second, first);
    assert!(
        line.contains(&format!("version {second} in force (was {first})")),
        "{line}"
    );

    // A script with an error: nothing changes, the diagnostic is shown.
    std::fs::write(
        dir.join("main.dial"),
        script(
            "+15125550122",
            "entry \"+1 800 555 0199\" -> queue nowhere\n",
        ),
    )
    .unwrap();
    server.hangup();
    let complaint = server.complained("refused");
    assert!(complaint.contains("nowhere"), "{complaint}");
    assert!(
        complaint.contains("cannot reload: the script has 1 error(s)"),
        "{complaint}"
    );
    let (contact, version) = server.call(3);
    assert!(contact.contains("+15125550111"), "{contact}");
    assert_eq!(version, second);

    // A failing test refuses it too.
    let failing = script("+15125550133", "").replace(
        "expect transfer \"+15125550133\"",
        "expect transfer \"+15125550144\"",
    );
    std::fs::write(dir.join("main.dial"), failing).unwrap();
    server.hangup();
    let complaint = server.complained("refused");
    assert!(complaint.contains("1 of 1 test(s)"), "{complaint}");
    assert!(
        complaint.contains("`the line goes to the trunk`"),
        "{complaint}"
    );
    let (_, version) = server.call(4);
    assert_eq!(version, second);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn watch_reloads_when_the_script_is_saved() {
    let dir = scratch("watch");
    std::fs::write(dir.join("dialect.toml"), CONFIG).unwrap();
    std::fs::write(dir.join("main.dial"), script("+15125550100", "")).unwrap();
    let server = Server::start(&dir, &["--watch"]);
    let first = server.version.clone();
    std::fs::write(dir.join("main.dial"), script("+15125550155", "")).unwrap();
    let line = server.said("reloaded:");
    assert!(line.contains("(watch)"), "{line}");
    let (contact, version) = server.call(1);
    assert!(contact.contains("+15125550155"), "{contact}");
    assert_ne!(version, first);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn dialect_reload_through_the_admin_api_with_its_token() {
    let dir = scratch("admin");
    std::fs::write(dir.join("dialect.toml"), CONFIG).unwrap();
    let script_path = dir.join("main.dial");
    std::fs::write(&script_path, script("+15125550100", "")).unwrap();
    let server = Server::start(&dir, &["--admin", "127.0.0.1:0"]);
    let script_arg = script_path.to_str().unwrap();
    let token = server.token();
    assert_eq!(token.len(), 48);
    {
        use std::os::unix::fs::PermissionsExt;
        let file = &server.admin.as_ref().unwrap().1;
        let mode = std::fs::metadata(file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the token file is the owner's only");
    }

    // The health check is open; everything else wants the token.
    assert_eq!(server.http("GET", "/health", None, b"").0, 200);
    for (method, path) in [
        ("GET", "/status"),
        ("GET", "/versions"),
        ("POST", "/reload"),
        ("POST", "/rollback"),
        ("GET", "/agents"),
        ("GET", "/agents/ana"),
        ("POST", "/agents/ana/login"),
        ("POST", "/agents/ana/logout"),
        ("POST", "/agents/ana/pause"),
        ("POST", "/agents/ana/unpause"),
        ("GET", "/queues"),
        ("GET", "/queues/sales"),
        ("GET", "/calls"),
    ] {
        let (status, body) = server.http(method, path, None, b"");
        assert_eq!(status, 401, "{method} {path} without a token: {body}");
        assert!(body.contains("\"error\""), "{body}");
        let (status, _) = server.http(method, path, Some("not-the-token"), b"");
        assert_eq!(status, 401, "{method} {path} with a wrong token");
    }
    let (status, body) = server.http("GET", "/status", Some(&token), b"");
    assert_eq!(status, 200);
    assert!(body.contains(&server.version), "{body}");
    assert_eq!(server.http("GET", "/nowhere", Some(&token), b"").0, 404);

    // A dry run says what would change and changes nothing.
    std::fs::write(&script_path, script("+15125550166", "")).unwrap();
    let (code, out, err) = server.command(&["reload", "--dry-run", script_arg]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("dry run"), "{out}");
    assert!(out.contains("now `transfer \"+15125550166\"`"), "{out}");
    assert_eq!(server.call(1).1, server.version, "nothing changed");

    // The reload itself.
    let (code, out, err) = server.command(&["reload", script_arg]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("in force"), "{out}");
    // Where the time went, step by step, in order.
    let steps = [
        "ms after the request (stamp ",
        " ms, read and check ",
        ", compile ",
        ", rows (beside compile) ",
        ", roster and digests ",
        ", tests ",
        ", swap ",
    ];
    let mut at = 0;
    for step in steps {
        let found = out[at..].find(step).map(|i| at + i);
        at = found.unwrap_or_else(|| panic!("`{step}` after byte {at} of: {out}"));
    }
    let (contact, second) = server.call(2);
    assert!(contact.contains("+15125550166"), "{contact}");
    assert_ne!(second, server.version);

    // A broken script: exit 1, the diagnostics, nothing changed.
    std::fs::write(
        &script_path,
        script(
            "+15125550177",
            "entry \"+1 800 555 0199\" -> queue nowhere\n",
        ),
    )
    .unwrap();
    let (code, out, err) = server.command(&["reload", script_arg]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("nowhere"), "{err}");
    assert_eq!(server.call(3).1, second);

    // The versions, oldest first.
    let (code, out, _) = server.command(&["versions", script_arg]);
    assert_eq!(code, 0);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].starts_with(&server.version) && lines[0].contains("by start"),
        "{out}"
    );
    assert!(
        lines[1].starts_with(&second) && lines[1].contains("(in force)"),
        "{out}"
    );
    assert!(lines[1].contains("by dialect reload"), "{out}");

    // Rollback: the first version is back, as it was, for the next call.
    let (code, out, err) = server.command(&["rollback", script_arg]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(&format!(
            "version {} back in force (was {second})",
            server.version
        )),
        "{out}"
    );
    let (contact, version) = server.call(4);
    assert!(contact.contains("+15125550100"), "{contact}");
    assert_eq!(version, server.version);
    // ...and forward again: the second is kept now.
    let (code, out, err) = server.command(&["rollback", "--to", &second, script_arg]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(server.call(5).1, second);
    let (code, _, err) = server.command(&["rollback", "--to", "ffffffffffff", script_arg]);
    assert_eq!(code, 1);
    assert!(err.contains("is not kept"), "{err}");
    let (code, _, err) = server.command(&["rollback", "--to", &second, script_arg]);
    assert_eq!(code, 1);
    assert!(err.contains("is the one in force"), "{err}");
    let (code, out, _) = server.command(&["versions", script_arg]);
    assert_eq!(code, 0);
    assert_eq!(out.lines().count(), 4, "{out}");
    assert!(
        out.lines()
            .nth(2)
            .unwrap()
            .contains("by rollback (dialect rollback)"),
        "{out}"
    );

    // A wrong token from the command line: exit 2 and the reason.
    let out = Command::new(env!("CARGO_BIN_EXE_dialect"))
        .args(["reload", "--server", &server.admin_addr()])
        .env("DIALECT_TOKEN", "wrong")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("401"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The roster of the redirect tests that need agents.
const AGENTS: &str = "[[agent]]\nid = \"ana\"\nname = \"Ana\"\nsip_user = \"ana\"\n\
                      password = \"ana-secret\"\nextension = \"2001\"\n";

/// In redirect mode agents are logged in from the start and a
/// supervisor's login and logout go straight to the ACD; no call is kept,
/// so none is in progress.
#[test]
fn agents_in_redirect_mode_answer_to_the_admin_api_alone() {
    let dir = scratch("admin-agents");
    std::fs::write(dir.join("dialect.toml"), CONFIG).unwrap();
    std::fs::write(dir.join("main.dial"), script("+15125550100", "")).unwrap();
    std::fs::write(dir.join("agents.toml"), AGENTS).unwrap();
    let server = Server::start(&dir, &["--admin", "127.0.0.1:0"]);
    let token = server.token();
    let ask = |method: &str, path: &str| {
        let (status, body) = server.http(method, path, Some(&token), b"");
        let value: serde_json::Value =
            serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
        (status, value)
    };
    let (status, agents) = ask("GET", "/agents");
    assert_eq!(status, 200);
    let ana = &agents[0];
    assert_eq!(ana["id"], "ana", "{agents}");
    assert_eq!(ana["name"], "Ana", "{agents}");
    assert_eq!(ana["state"], "available", "{agents}");
    assert_eq!(ana["phone_registered"], false, "{agents}");
    assert!(ana.get("held_out").is_none(), "B2BUA only: {agents}");
    // A login needs no phone here: redirect mode skips agents without one
    // when it picks.
    let (status, ana) = ask("POST", "/agents/ana/logout");
    assert_eq!(
        (status, &ana["state"]),
        (200, &"logged_out".into()),
        "{ana}"
    );
    let (status, answer) = ask("POST", "/agents/ana/logout");
    assert_eq!(status, 409, "{answer}");
    assert!(
        answer["error"].as_str().unwrap().contains("logged_out"),
        "{answer}"
    );
    let (status, ana) = ask("POST", "/agents/ana/login");
    assert_eq!((status, &ana["state"]), (200, &"available".into()), "{ana}");
    // A body may say who asks; anything else in it is a 400.
    let (status, _) = server.http(
        "POST",
        "/agents/ana/pause",
        Some(&token),
        br#"{"by": "the supervisor"}"#,
    );
    assert_eq!(status, 200);
    let line = server.said("agent `ana` paused");
    assert!(line.contains("(by the supervisor)"), "{line}");
    let (status, body) = server.http("POST", "/agents/ana/unpause", Some(&token), b"{\"x\": 1}");
    assert_eq!(status, 400, "{body}");
    assert_eq!(ask("GET", "/agents/ana").1["state"], "paused");
    assert_eq!(ask("GET", "/calls"), (200, serde_json::json!([])));
    assert_eq!(ask("GET", "/queues"), (200, serde_json::json!([])));
    assert_eq!(ask("GET", "/agents/nobody").0, 404);
    assert_eq!(ask("GET", "/queues/nowhere").0, 404);
    // A name that is not UTF-8 once decoded is a 400 that says so.
    let (status, body) = server.http("GET", "/agents/%FF", Some(&token), b"");
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("\"error\""), "{body}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn malformed_reload_requests_get_a_4xx_never_a_5xx() {
    use proptest::prelude::*;
    let dir = scratch("admin-fuzz");
    std::fs::write(dir.join("dialect.toml"), CONFIG).unwrap();
    std::fs::write(dir.join("main.dial"), script("+15125550100", "")).unwrap();
    std::fs::write(dir.join("agents.toml"), AGENTS).unwrap();
    let server = Server::start(&dir, &["--admin", "127.0.0.1:0"]);
    let token = server.token();
    let body = prop_oneof![
        proptest::collection::vec(any::<u8>(), 1..64),
        "\\{\"(force|dry_run|by|to|other)\": (true|false|1|\"x\"|null|\\[\\]|-1|1e400)\\}"
            .prop_map(String::into_bytes),
    ];
    // Every POST endpoint, and agents who are and are not in the roster.
    let path = prop_oneof![
        Just("/reload".to_string()),
        Just("/rollback".to_string()),
        ("(ana|nobody|%FF|a%2Fb)", "(login|logout|pause|unpause)")
            .prop_map(|(id, op)| format!("/agents/{id}/{op}")),
    ];
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 64,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    runner
        .run(&(path, body), |(path, body)| {
            let (status, answer) = server.http("POST", &path, Some(&token), &body);
            prop_assert!(
                status == 200 || (400..500).contains(&status),
                "{status} for POST {path} {:?}: {answer}",
                String::from_utf8_lossy(&body)
            );
            if status != 200 {
                prop_assert!(answer.contains("\"error\""), "{answer}");
            }
            Ok(())
        })
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

/// A script whose line goes to the trunk, or elsewhere while switch
/// `storm` is on.
const STORM: &str = "switch storm \"Storm: calls go to the answering service\"\n\n\
    route line {\n  when switch(storm) -> transfer \"+15125550199\"\n  \
    otherwise -> transfer \"+15125550100\"\n}\n\n\
    entry \"+1 800 555 0100\" -> route line\n\n\
    test \"a storm sends calls to the answering service\" {\n  \
    given switch storm on\n  \
    call from \"+15125550123\" to \"+18005550100\"\n  \
    expect transfer \"+15125550199\"\n}\n";

/// `dialect switch` flips a switch with no reload: the next call sees it,
/// the flip is logged, listed and kept in the database, so a restarted
/// server still has it. Unknown switches and bad bodies get 4xx.
#[test]
fn a_switch_flips_without_a_reload_and_survives_a_restart() {
    let dir = scratch("switch");
    std::fs::write(dir.join("dialect.toml"), CONFIG).unwrap();
    let script_path = dir.join("main.dial");
    std::fs::write(&script_path, STORM).unwrap();
    let script_arg = script_path.to_str().unwrap();
    let server = Server::start(&dir, &["--admin", "127.0.0.1:0"]);
    assert!(server.call(1).0.contains("+15125550100"), "off by default");

    let (code, out, err) = server.command(&["switches", script_arg]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("storm  off") && out.contains("Storm: calls go"),
        "{out}"
    );

    let (code, out, err) = server.command(&["switch", "storm", "on", script_arg, "--by", "ana"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("switch storm  on") && out.contains("(was off)"),
        "{out}"
    );
    let line = server.said("switch storm");
    assert!(line.contains("storm on (was off), by ana"), "{line}");
    let (contact, version) = server.call(2);
    assert!(
        contact.contains("+15125550199"),
        "the next call sees it: {contact}"
    );
    assert_eq!(version, server.version, "no reload happened");
    let (code, out, _) = server.command(&["switches", script_arg]);
    assert_eq!(code, 0);
    assert!(
        out.contains("storm  on  since") && out.contains("by ana"),
        "{out}"
    );

    // Unknown switches, bad names and bodies, no token.
    let (code, _, err) = server.command(&["switch", "strom", "on", script_arg]);
    assert_eq!(code, 1);
    assert!(err.contains("did you mean `storm`"), "{err}");
    let (code, _, err) = server.command(&["switch", "a/b", "on", script_arg]);
    assert_eq!(code, 2, "{err}");
    let token = server.token();
    for body in [
        &b""[..],
        b"{}",
        b"{\"on\": 1}",
        b"{\"on\": true, \"x\": 1}",
        b"\xff",
    ] {
        let (status, answer) = server.http("PUT", "/switches/storm", Some(&token), body);
        assert_eq!(status, 400, "{}: {answer}", String::from_utf8_lossy(body));
        assert!(answer.contains("\"error\""), "{answer}");
    }
    assert_eq!(server.http("GET", "/switches", None, b"").0, 401);
    assert_eq!(
        server
            .http("PUT", "/switches/storm", Some("wrong"), b"{\"on\": false}")
            .0,
        401
    );
    assert_eq!(server.http("PUT", "/switches", Some(&token), b"{}").0, 405);

    // A restart reads the flip back from the database.
    drop(server);
    let server = Server::start(&dir, &["--admin", "127.0.0.1:0"]);
    assert!(
        server.call(3).0.contains("+15125550199"),
        "kept across a restart"
    );
    let (code, _, _) = server.command(&["switch", "storm", "off", script_arg]);
    assert_eq!(code, 0);
    assert!(server.call(4).0.contains("+15125550100"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// `dialect reload` shows what the change does before it swaps (a dry run
/// first), and a reload that expects the version a dry run showed is
/// refused with 409 when the files changed in between.
#[test]
fn dialect_reload_shows_the_change_before_the_swap_and_refuses_a_stale_one() {
    let dir = scratch("preview");
    std::fs::write(dir.join("dialect.toml"), CONFIG).unwrap();
    let script_path = dir.join("main.dial");
    std::fs::write(&script_path, script("+15125550100", "")).unwrap();
    let script_arg = script_path.to_str().unwrap();
    let server = Server::start(&dir, &["--admin", "127.0.0.1:0"]);
    let token = server.token();

    std::fs::write(&script_path, script("+15125550111", "")).unwrap();
    let (code, out, err) = server.command(&["reload", script_arg]);
    assert_eq!(code, 0, "{out}{err}");
    let change = out
        .find("now `transfer \"+15125550111\"`")
        .unwrap_or_else(|| panic!("the change is shown: {out}"));
    let swapped = out.find("reloaded:").expect("the reload's line");
    assert!(change < swapped, "the change comes first: {out}");
    assert!(out.contains("what it changes:"), "{out}");
    // The server still logs the change after the swap.
    let line = server.said("reloaded:");
    assert!(line.contains("(dialect reload)"), "{line}");
    server.said("now `transfer \"+15125550111\"`");
    let (contact, second) = server.call(1);
    assert!(contact.contains("+15125550111"), "{contact}");

    // A dry run shows a version; the files change; the reload that
    // expects the version shown is refused and nothing changes.
    std::fs::write(&script_path, script("+15125550122", "")).unwrap();
    let (status, body) = server.http("POST", "/reload", Some(&token), br#"{"dry_run": true}"#);
    assert_eq!(status, 200, "{body}");
    let shown: serde_json::Value = serde_json::from_str(&body).unwrap();
    let shown = shown["version"].as_str().unwrap().to_string();
    std::fs::write(&script_path, script("+15125550133", "")).unwrap();
    let ask = format!("{{\"expect\": \"{shown}\"}}");
    let (status, body) = server.http("POST", "/reload", Some(&token), ask.as_bytes());
    assert_eq!(status, 409, "{body}");
    let refused: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(refused["refused"], "stale", "{body}");
    assert_eq!(refused["expected"], shown.as_str(), "{body}");
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .contains("changed since version"),
        "{body}"
    );
    assert_eq!(server.call(2).1, second, "nothing changed");
    // Expecting what the files hold puts it in force.
    let (status, body) = server.http("POST", "/reload", Some(&token), br#"{"dry_run": true}"#);
    assert_eq!(status, 200, "{body}");
    let now: serde_json::Value = serde_json::from_str(&body).unwrap();
    let ask = format!("{{\"expect\": {}}}", now["version"]);
    let (status, body) = server.http("POST", "/reload", Some(&token), ask.as_bytes());
    assert_eq!(status, 200, "{body}");
    assert!(server.call(3).0.contains("+15125550133"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A script with errors: `dialect reload --format json` prints the
/// server's refusal, which carries the diagnostics as `dialect lint
/// --format json` writes them, beside the rendered text.
#[test]
fn a_refused_reload_in_json_carries_the_diagnostics() {
    let dir = scratch("json");
    std::fs::write(dir.join("dialect.toml"), CONFIG).unwrap();
    let script_path = dir.join("main.dial");
    std::fs::write(&script_path, script("+15125550100", "")).unwrap();
    let script_arg = script_path.to_str().unwrap();
    let server = Server::start(&dir, &["--admin", "127.0.0.1:0"]);
    let broken = script(
        "+15125550100",
        "entry \"+1 800 555 0199\" -> queue nowhere\n",
    );
    std::fs::write(&script_path, &broken).unwrap();
    let (code, out, err) = server.command(&["reload", "--format", "json", script_arg]);
    assert_eq!(code, 1, "{out}{err}");
    let answer: serde_json::Value =
        serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(answer["refused"], "script", "{answer}");
    assert!(
        answer["error"].as_str().unwrap().contains("nowhere"),
        "{answer}"
    );
    let diagnostics = answer["diagnostics"].as_array().expect("diagnostics");
    assert_eq!(diagnostics.len(), 1, "{answer}");
    let d = &diagnostics[0];
    // The same object `dialect lint --format json` writes.
    let lint = Command::new(env!("CARGO_BIN_EXE_dialect"))
        .args(["lint", "--format", "json", script_arg])
        .output()
        .unwrap();
    let linted: serde_json::Value = serde_json::from_str(
        String::from_utf8_lossy(&lint.stdout)
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(d["code"], linted["code"], "{d} {linted}");
    assert!(d["code"].as_str().unwrap().starts_with('D'), "{d}");
    assert_eq!(d["severity"], "error", "{d}");
    assert_eq!(d["line"], 7, "{d}");
    for field in ["message", "file", "column", "help", "labels"] {
        assert_eq!(d[field], linted[field], "{field}: {d} {linted}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A script whose line goes elsewhere for the callers a lookup source
/// marks `gold`; the source is in a folder of its own.
const VIP: &str = "lookup vip by caller from \"../data/vip.csv\" {\n  tier: text\n}\n\n\
    route line {\n  when known vip and vip.tier == \"gold\" -> transfer \"+15125550199\"\n  \
    otherwise -> transfer \"+15125550100\"\n}\n\n\
    entry \"+1 800 555 0100\" -> route line\n";

/// `--watch` watches a lookup source outside the script's folder and puts
/// its new rows in force without loading the script again; a roster
/// change alone reloads only the roster.
#[test]
fn watch_reloads_data_only_from_a_source_outside_the_script_folder() {
    let top = scratch("data");
    let dir = top.join("script");
    let data = top.join("data");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(dir.join("dialect.toml"), CONFIG).unwrap();
    std::fs::write(dir.join("main.dial"), VIP).unwrap();
    std::fs::write(data.join("vip.csv"), "phone,tier\n+15125550123,standard\n").unwrap();
    std::fs::write(dir.join("agents.toml"), AGENTS).unwrap();
    let server = Server::start(&dir, &["--watch", "--admin", "127.0.0.1:0"]);
    let (contact, version) = server.call(1);
    assert!(contact.contains("+15125550100"), "{contact}");
    assert_eq!(version, server.version);

    std::fs::write(data.join("vip.csv"), "phone,tier\n+15125550123,gold\n").unwrap();
    let line = server.said("reloaded");
    assert!(
        line.contains("reloaded data only: the lookup rows"),
        "{line}"
    );
    assert!(line.contains("(watch)"), "{line}");
    assert!(line.contains("not parsed or compiled"), "{line}");
    let (contact, version) = server.call(2);
    assert!(contact.contains("+15125550199"), "the new rows: {contact}");
    assert_eq!(version, server.version, "the same program");

    // The roster alone: read again, the script untouched.
    let renamed = AGENTS.replace("name = \"Ana\"", "name = \"Ana María\"");
    std::fs::write(dir.join("agents.toml"), renamed).unwrap();
    let line = server.said("reloaded");
    assert!(line.contains("reloaded data only: the roster"), "{line}");
    let token = server.token();
    let (status, body) = server.http("GET", "/agents/ana", Some(&token), b"");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Ana María"), "{body}");

    // A script edit still takes the data along.
    std::fs::write(data.join("vip.csv"), "phone,tier\n+15125550123,standard\n").unwrap();
    let line = server.said("reloaded");
    assert!(line.contains("data only"), "{line}");
    std::fs::write(
        dir.join("main.dial"),
        VIP.replace("+15125550100", "+15125550111"),
    )
    .unwrap();
    let line = server.said("reloaded:");
    assert!(line.contains("in force (was"), "{line}");
    let (contact, version) = server.call(3);
    assert!(contact.contains("+15125550111"), "{contact}");
    assert_ne!(version, server.version);
    let _ = std::fs::remove_dir_all(&top);
}

/// SIGHUP after a roster edit reloads the roster alone, and says how long
/// that took beside the last script reload.
#[test]
fn sighup_after_a_roster_edit_reloads_the_roster_alone() {
    let dir = scratch("roster");
    std::fs::write(dir.join("dialect.toml"), CONFIG).unwrap();
    std::fs::write(dir.join("main.dial"), script("+15125550100", "")).unwrap();
    std::fs::write(dir.join("agents.toml"), AGENTS).unwrap();
    let server = Server::start(&dir, &[]);
    // A script reload first, so the line has one to compare with.
    std::fs::write(dir.join("main.dial"), script("+15125550111", "")).unwrap();
    server.hangup();
    let line = server.said("reloaded:");
    assert!(line.contains("in force (was"), "{line}");
    let version = server.call(1).1;
    std::fs::write(
        dir.join("agents.toml"),
        AGENTS.replace("ana-secret", "new-secret"),
    )
    .unwrap();
    server.hangup();
    let line = server.said("reloaded");
    assert!(
        line.contains("reloaded data only: the roster read again"),
        "{line}"
    );
    assert!(
        line.contains("the last reload that loaded the script took"),
        "{line}"
    );
    assert!(line.contains("(SIGHUP)"), "{line}");
    assert_eq!(server.call(2).1, version);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `GET /diff` compares two versions the server holds compiled: by default
/// the one before the version in force with that one, as `dialect diff`
/// says it; unknown versions, bad queries and a missing token get 4xx.
#[test]
fn the_api_says_what_the_last_reload_changed() {
    let dir = scratch("api-diff");
    std::fs::write(dir.join("dialect.toml"), CONFIG).unwrap();
    let script_path = dir.join("main.dial");
    std::fs::write(&script_path, script("+15125550100", "")).unwrap();
    let server = Server::start(&dir, &["--admin", "127.0.0.1:0"]);
    let token = server.token();
    let (status, answer) = server.http("GET", "/diff", Some(&token), b"");
    assert_eq!(status, 409, "one version only: {answer}");
    assert!(answer.contains("nothing to compare"), "{answer}");

    std::fs::write(&script_path, script("+15125550111", "")).unwrap();
    let (code, out, err) = server.command(&["reload", script_path.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    let (status, answer) = server.http("GET", "/diff", Some(&token), b"");
    assert_eq!(status, 200, "{answer}");
    let json: serde_json::Value = serde_json::from_str(&answer).expect("JSON");
    assert_eq!(json["from"], server.version.as_str());
    let text = json["text"].as_str().unwrap_or_default();
    assert!(
        text.contains("before `transfer \"+15125550100\"`, now `transfer \"+15125550111\"`"),
        "{text}"
    );
    assert!(
        json["diff"]["changes"]
            .as_array()
            .is_some_and(|c| !c.is_empty()),
        "{json}"
    );
    let to = json["to"].as_str().unwrap().to_string();
    let path = format!("/diff?from={to}&to={}", &server.version[..6]);
    let (status, back) = server.http("GET", &path, Some(&token), b"");
    assert_eq!(status, 200, "{back}");
    assert!(
        back.contains("now `transfer \\\"+15125550100\\\"`"),
        "{back}"
    );

    for (path, want) in [
        ("/diff?from=abcdef0123", 404),
        ("/diff?from=xyz", 400),
        ("/diff?since=1", 400),
        ("/diff?from=", 400),
    ] {
        let (status, answer) = server.http("GET", path, Some(&token), b"");
        assert_eq!(status, want, "{path}: {answer}");
        assert!(answer.contains("\"error\""), "{answer}");
    }
    assert_eq!(server.http("GET", "/diff", None, b"").0, 401);
    let _ = std::fs::remove_dir_all(&dir);
}
