//! `dialect serve` started from integration tests: on a free loopback
//! port with the SIP tests' script, roster and configuration, stopped
//! with SIGTERM, its counters read from what it prints when it stops.
//! Each test file uses part of it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

const SCRIPT: &str = "tests/fixtures/redirect/main.dial";
const AGENTS: &str = "tests/fixtures/serve/agents.toml";
const CONFIG: &str = "tests/fixtures/serve/dialect.toml";

/// Whether SIPp is here; under CI its absence is a failure.
pub fn have_sipp() -> bool {
    let found = Command::new("sipp")
        .arg("-v")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "`sipp` is not installed (Debian package `sip-tester`); .ci/run installs it"
        );
        eprintln!("skipped: `sipp` is not installed (Debian package `sip-tester`)");
    }
    found
}

/// A free UDP port on loopback (SIPp's own address).
pub fn free_port() -> u16 {
    let s = UdpSocket::bind("127.0.0.1:0").expect("a free port");
    s.local_addr().expect("its address").port()
}

pub struct Server {
    child: Child,
    out: BufReader<ChildStdout>,
    pub port: u16,
    pub version: String,
    /// The scratch folder of the server's call-record database
    /// (`dialect.db`), removed on drop unless `stop_keeping_db` kept it.
    db_dir: PathBuf,
    keep_db: bool,
    /// What `wait_for` read, given back by `stop`.
    seen: String,
    /// The admin API's address and token file, when it runs.
    pub admin: Option<(String, PathBuf)>,
}

impl Server {
    /// Starts `dialect serve` on a free port and waits until it listens.
    pub fn start() -> Server {
        Server::start_with(SCRIPT, AGENTS, Path::new(CONFIG))
    }

    /// Starts `dialect serve` with a script, roster and configuration.
    pub fn start_with(script: &str, agents: &str, config: &Path) -> Server {
        Server::start_with_db(script, agents, config, scratch("db"))
    }

    /// As [`start_with`](Server::start_with), its database `dialect.db` in
    /// `db_dir` (removed on drop unless kept).
    pub fn start_with_db(script: &str, agents: &str, config: &Path, db_dir: PathBuf) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_dialect"))
            .args(["serve", script, "--agents", agents, "--config"])
            .arg(config)
            .args(["--sip", "127.0.0.1:0", "--db"])
            .arg(db_dir.join("dialect.db"))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("dialect serve starts");
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        let (mut port, mut version, mut admin) = (0, String::new(), None);
        let mut line = String::new();
        loop {
            line.clear();
            let n = out.read_line(&mut line).expect("serve's output");
            assert!(n > 0, "dialect serve ended before listening");
            if let Some(rest) = line.split("program version ").nth(1) {
                version = rest.split_whitespace().next().unwrap_or("").to_string();
            }
            if let Some(addr) = line.trim().strip_prefix("listening on udp://") {
                port = addr
                    .rsplit(':')
                    .next()
                    .and_then(|p| p.parse().ok())
                    .unwrap_or(0);
            }
            if let Some(rest) = line.trim().strip_prefix("admin API on http://")
                && let Some((addr, file)) = rest.split_once(" (token in ")
            {
                admin = Some((addr.to_string(), PathBuf::from(file.trim_end_matches(')'))));
            }
            if line.contains("to stop") {
                break;
            }
        }
        assert!(
            port > 0 && version.len() == 12,
            "port {port}, version {version:?}"
        );
        Server {
            child,
            out,
            port,
            version,
            db_dir,
            keep_db: false,
            seen: String::new(),
            admin,
        }
    }

    /// The admin API's token, read from its file.
    pub fn token(&self) -> String {
        let file = &self.admin.as_ref().expect("the admin API runs").1;
        std::fs::read_to_string(file)
            .expect("the token file")
            .trim()
            .to_string()
    }

    /// One request to the admin API with the token (or `token`): status
    /// and body.
    pub fn admin(&self, method: &str, path: &str, body: &[u8]) -> (u16, String) {
        let addr = &self.admin.as_ref().expect("the admin API runs").0;
        http(addr, method, path, Some(&self.token()), body)
    }

    /// Stops the server as [`stop`](Server::stop) does and keeps its
    /// call-record database: what it printed, and the database's path
    /// (the caller removes its folder).
    pub fn stop_keeping_db(mut self) -> (String, PathBuf) {
        self.keep_db = true;
        let db = self.db_dir.join("dialect.db");
        (self.stop(), db)
    }

    /// Kills the server with SIGKILL, as a crash would; what it had
    /// printed. Its database is kept.
    pub fn kill(mut self) -> String {
        self.keep_db = true;
        let _ = self.child.kill();
        let _ = self.child.wait();
        let mut rest = std::mem::take(&mut self.seen);
        let _ = self.out.read_to_string(&mut rest);
        rest
    }

    /// Sends SIGHUP (a reload).
    pub fn hangup(&self) {
        let status = Command::new("kill")
            .args(["-HUP", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
    }

    /// Reads standard output up to a line containing `needle`; that line.
    /// What it reads is also part of what `stop` returns.
    pub fn wait_for(&mut self, needle: &str) -> String {
        let mut line = String::new();
        loop {
            line.clear();
            let n = self.out.read_line(&mut line).expect("serve's output");
            assert!(n > 0, "dialect serve ended before saying {needle:?}");
            self.seen.push_str(&line);
            if line.contains(needle) {
                return line;
            }
        }
    }

    /// Runs a SIPp scenario against the server; its exit status.
    pub fn sipp(&self, scenario: &str, local_port: u16, args: &[&str]) -> i32 {
        self.sipp_start(scenario, local_port, args).wait()
    }

    /// Starts a SIPp scenario against the server in the background.
    pub fn sipp_start(&self, scenario: &str, local_port: u16, args: &[&str]) -> Sipp {
        let dir = scratch(scenario);
        let scenario = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/sipp")
            .join(scenario);
        let child = Command::new("sipp")
            .arg("-sf")
            .arg(&scenario)
            .arg(format!("127.0.0.1:{}", self.port))
            .args(["-i", "127.0.0.1", "-p", &local_port.to_string()])
            .args([
                "-timeout",
                "20s",
                "-timeout_error",
                "-nostdin",
                "-trace_err",
            ])
            .args(args)
            .current_dir(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("sipp runs");
        Sipp { child, dir }
    }

    /// Stops the server with SIGTERM; what it printed then (its counters).
    pub fn stop(mut self) -> String {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                assert!(status.success(), "serve stopped with {status}");
                let mut rest = std::mem::take(&mut self.seen);
                let _ = self.out.read_to_string(&mut rest);
                return rest;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        panic!("dialect serve did not stop within 10 s of SIGTERM");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if !self.keep_db {
            let _ = std::fs::remove_dir_all(&self.db_dir);
        }
    }
}

/// A SIPp process running a scenario.
pub struct Sipp {
    child: Child,
    dir: PathBuf,
}

impl Sipp {
    /// Waits for SIPp to end; its exit status (its trace files are
    /// printed when it is not 0).
    pub fn wait(mut self) -> i32 {
        let status = self.child.wait().expect("sipp ends");
        let code = status.code().unwrap_or(-1);
        if code != 0 {
            for f in std::fs::read_dir(&self.dir).into_iter().flatten().flatten() {
                if let Ok(text) = std::fs::read_to_string(f.path()) {
                    eprintln!("--- {}\n{}", f.path().display(), tail(&text));
                }
            }
        }
        code
    }
}

impl Drop for Sipp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "dialect-sipp-{}-{}-{}",
        std::process::id(),
        name.trim_end_matches(".xml"),
        free_port()
    ));
    std::fs::create_dir_all(&dir).expect("a scratch folder");
    dir
}

fn tail(text: &str) -> &str {
    let start = text.len().saturating_sub(3000);
    let start = (start..text.len())
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(text.len());
    &text[start..]
}

/// `name=N` in the counters line's `section` (`received`, `answered`).
pub fn counted(out: &str, section: &str, name: &str) -> u64 {
    let line = out
        .lines()
        .find(|l| l.trim_start().starts_with("received"))
        .unwrap_or_else(|| panic!("no counters line in {out:?}"));
    line.split(';')
        .find(|part| part.trim_start().starts_with(section))
        .and_then(|part| {
            part.split_whitespace()
                .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
        })
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

pub fn decided(out: &str) -> u64 {
    out.lines()
        .find_map(|l| l.split("stopped; ").nth(1))
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no decisions line in {out:?}"))
}

/// (correlation, disposition) of every row of a call-record database,
/// sorted; `PRAGMA integrity_check` must pass.
pub fn database_rows(db: &Path) -> Vec<(String, String)> {
    let conn = rusqlite::Connection::open(db).expect("the call-record database");
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("an integrity check");
    assert_eq!(check, "ok");
    let mut rows: Vec<(String, String)> = conn
        .prepare("SELECT coalesce(correlation, ''), disposition FROM calls")
        .expect("a query")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("rows")
        .map(|r| r.expect("a row"))
        .collect();
    rows.sort();
    rows
}

/// One HTTP/1.1 request to `addr` (with `Authorization: Bearer TOKEN` when
/// a token is given): the status and the body.
pub fn http(
    addr: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &[u8],
) -> (u16, String) {
    let mut stream = std::net::TcpStream::connect(addr).expect("the admin API answers");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("a timeout");
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\n{auth}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).expect("a request");
    stream.write_all(body).expect("a body");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).expect("an answer");
    let answer = String::from_utf8_lossy(&answer).to_string();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("an HTTP status in {head:?}"));
    (status, body.to_string())
}
