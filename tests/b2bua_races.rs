//! The race classes that have bitten other B2BUAs, played against
//! `dialect serve --mode b2bua` with hand-written SIP over loopback UDP
//! (exact timing that SIPp scenarios cannot give):
//! - BYE before the caller's ACK: the BYE is answered and our 200 is not
//!   sent again afterwards;
//! - the ACK of a failure (486): absorbed, the failure not sent again;
//! - INVITE and CANCEL sent at once: either 487 (whose ACK ends it) or the
//!   200 crossed the CANCEL (the caller ACKs and hangs up); a
//!   retransmitted CANCEL gets the same 200;
//! - a re-INVITE for hold gets an SDP answer that says `recvonly`, and a
//!   second INVITE while our 200 to the first waits for its ACK gets 500
//!   with Retry-After (RFC 3261 §14.2);
//! - keys sent as SIP INFO (`application/dtmf-relay`) drive the menu;
//! - on an agent's leg, the agent's 200 crossing our CANCEL: the server
//!   ACKs it and hangs up with BYE;
//! - hold across the bridge and re-INVITE glare: the caller's hold goes to
//!   the agent's phone in a re-INVITE; the phone's own re-INVITE crossing
//!   it gets 491, the phone's 491 to ours is ACKed and ours comes again
//!   after 2.1 to 4 s; unhold follows, and the agent's hold reaches the
//!   caller the same way;
//! - a transfer after answering: the trunk is called with the caller's
//!   number and bridged; its BYE ends the call.
//!
//! And bad input and endings: an SDP that does not parse and one with no
//! codec the server takes get 488 with a Warning; a caller who sends no
//! RTP is hung up after the media timeout; at a stop, a new INVITE gets
//! 503 and a call in progress is hung up with BYE after the grace period.
//!
//! Each test checks the call records the server prints.

mod serve_common;

use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::time::{Duration, Instant};

use md5::{Digest, Md5};
use serve_common::{Server, database_rows, scratch};

const SCRIPT: &str = "tests/fixtures/b2bua/main.dial";
const AGENTS: &str = "tests/fixtures/b2bua/agents.toml";

fn start(name: &str, rtp_base: u16) -> (Server, std::path::PathBuf) {
    start_with(name, rtp_base, "")
}

/// A server whose `[media]` section also has `media`.
fn start_with(name: &str, rtp_base: u16, media: &str) -> (Server, std::path::PathBuf) {
    let dir = scratch(&format!("races-{name}"));
    let prompts = Path::new(env!("CARGO_MANIFEST_DIR")).join("prompts");
    let lo = rtp_base + (std::process::id() % 40) as u16 * 100;
    let config = dir.join("dialect.toml");
    std::fs::write(
        &config,
        format!(
            "mode = \"b2bua\"\nprompts = \"{}\"\n\n[registrar]\ndigest = [\"MD5\"]\n\n\
             [media]\nrtp_ports = \"{lo}-{}\"\nrecordings = \"{}\"\nshutdown_grace = 1\n{media}\n",
            prompts.display(),
            lo + 40,
            dir.join("recordings").display(),
        ),
    )
    .expect("a configuration");
    (Server::start_with(SCRIPT, AGENTS, &config), dir)
}

fn records(out: &str) -> Vec<serde_json::Value> {
    out.lines()
        .filter_map(|l| l.strip_prefix("call "))
        .map(|j| serde_json::from_str(j).expect("JSON"))
        .collect()
}

/// Stops the server and returns its one call record, which must have
/// ended with `disposition` and be the one row of its database.
fn only_record(server: Server, disposition: &str) -> serde_json::Value {
    let (out, db) = server.stop_keeping_db();
    let mut r = records(&out);
    assert_eq!(r.len(), 1, "{out}");
    let record = r.remove(0);
    assert_eq!(record["disposition"], disposition, "{record}");
    assert!(out.contains("call records: 1 written to"), "{out}");
    assert_eq!(
        database_rows(&db),
        vec![(
            record["call"]["correlation"]
                .as_str()
                .unwrap_or("")
                .to_string(),
            disposition.to_string()
        )]
    );
    let _ = std::fs::remove_dir_all(db.parent().expect("its folder"));
    record
}

/// One side of SIP over a loopback socket.
struct Peer {
    socket: UdpSocket,
    server: SocketAddr,
    tag: String,
}

impl Peer {
    fn new(server_port: u16) -> Peer {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("a socket");
        Peer {
            socket,
            server: SocketAddr::from(([127, 0, 0, 1], server_port)),
            tag: format!("t{}", std::process::id()),
        }
    }

    fn port(&self) -> u16 {
        self.socket.local_addr().expect("address").port()
    }

    fn send_to(&self, to: SocketAddr, text: &str) {
        let text = text.replace("\r\n", "\n").replace('\n', "\r\n");
        self.socket.send_to(text.as_bytes(), to).expect("sent");
    }

    fn send(&self, text: &str) {
        self.send_to(self.server, text);
    }

    /// The next message within `wait`.
    fn recv(&self, wait: Duration) -> Option<(String, SocketAddr)> {
        self.socket
            .set_read_timeout(Some(wait.max(Duration::from_millis(1))))
            .expect("timeout");
        let mut buf = [0u8; 8192];
        let (n, from) = self.socket.recv_from(&mut buf).ok()?;
        Some((String::from_utf8_lossy(&buf[..n]).into_owned(), from))
    }

    /// The first message `want` accepts within `wait` (others are skipped).
    fn expect(&self, wait: Duration, want: impl Fn(&str) -> bool) -> (String, SocketAddr) {
        let until = Instant::now() + wait;
        while let Some(left) = until.checked_duration_since(Instant::now()) {
            if let Some((m, from)) = self.recv(left)
                && want(&m)
            {
                return (m, from);
            }
        }
        panic!("nothing expected came within {wait:?}");
    }

    /// Messages `want` accepts within `wait`.
    fn count(&self, wait: Duration, want: impl Fn(&str) -> bool) -> usize {
        let until = Instant::now() + wait;
        let mut n = 0;
        while let Some(left) = until.checked_duration_since(Instant::now()) {
            if let Some((m, _)) = self.recv(left)
                && want(&m)
            {
                n += 1;
            }
        }
        n
    }

    fn invite(&self, call_id: &str, dialed: &str, branch: &str, sdp: &str) -> String {
        let port = self.port();
        format!(
            "INVITE sip:{dialed}@{server} SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:{port};branch={branch}
From: <sip:+15125550123@127.0.0.1:{port}>;tag={tag}
To: <sip:{dialed}@{server}>
Call-ID: {call_id}
CSeq: 1 INVITE
Contact: <sip:caller@127.0.0.1:{port}>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: {len}

{sdp}",
            server = self.server,
            tag = self.tag,
            len = sdp.replace('\n', "\r\n").len(),
        )
    }

    /// Places a call (an offer from RTP port `rtp`), waits for the 200
    /// and ACKs it; returns the 200.
    fn answered(&self, call_id: &str, dialed: &str, branch: &str, rtp: u16) -> String {
        self.send(&self.invite(call_id, dialed, branch, &sdp(rtp, "sendrecv")));
        let (ok, _) = self.expect(5 * SECOND, is_status(200, "INVITE"));
        self.send(&self.in_dialog("ACK", 1, call_id, &ok, "", ""));
        ok
    }

    /// A request in the dialog the 200 `ok` opened.
    fn in_dialog(
        &self,
        method: &str,
        seq: u32,
        call_id: &str,
        ok: &str,
        extra: &str,
        body: &str,
    ) -> String {
        let port = self.port();
        let to = header(ok, "To");
        let body = body.replace('\n', "\r\n");
        format!(
            "{method} sip:x@{server} SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK{method}{seq}{call_id}
From: <sip:+15125550123@127.0.0.1:{port}>;tag={tag}
To: {to}
Call-ID: {call_id}
CSeq: {seq} {method}
Contact: <sip:caller@127.0.0.1:{port}>
Max-Forwards: 70
{extra}Content-Length: {len}

{body}",
            server = self.server,
            tag = self.tag,
            len = body.len(),
        )
    }
}

fn sdp(port: u16, direction: &str) -> String {
    format!(
        "v=0
o=- 1 1 IN IP4 127.0.0.1
s=-
c=IN IP4 127.0.0.1
t=0 0
m=audio {port} RTP/AVP 0 101
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a={direction}
"
    )
}

fn header(message: &str, name: &str) -> String {
    message
        .lines()
        .find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
        .unwrap_or_default()
}

fn status(message: &str) -> u16 {
    message
        .strip_prefix("SIP/2.0 ")
        .and_then(|r| r.get(..3))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

fn is_status(code: u16, method: &'static str) -> impl Fn(&str) -> bool {
    move |m| status(m) == code && header(m, "CSeq").ends_with(method)
}

const SECOND: Duration = Duration::from_secs(1);

#[test]
fn bye_before_ack_stops_the_200_and_ends_the_call() {
    let (server, _dir) = start("bye-before-ack", 35_000);
    let caller = Peer::new(server.port);
    let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = rtp.local_addr().unwrap().port();
    caller.send(&caller.invite(
        "bba-1",
        "+18005550100",
        "z9hG4bKbba1",
        &sdp(port, "sendrecv"),
    ));
    let (ok, _) = caller.expect(5 * SECOND, is_status(200, "INVITE"));
    // No ACK: BYE at once.
    caller.send(&caller.in_dialog("BYE", 2, "bba-1", &ok, "", ""));
    caller.expect(2 * SECOND, is_status(200, "BYE"));
    // Our 200 goes out again only until the BYE (T1 = 500 ms).
    let again = caller.count(Duration::from_millis(1800), is_status(200, "INVITE"));
    assert_eq!(
        again, 0,
        "the 200 was sent {again} more times after the BYE"
    );
    let r = only_record(server, "abandoned");
    assert_eq!(r["call"]["correlation"], "bba-1");
}

#[test]
fn a_failure_is_acked_on_its_transaction_and_not_sent_again() {
    let (server, _dir) = start("ack-486", 35_100);
    let caller = Peer::new(server.port);
    caller.send(&caller.invite(
        "ack-1",
        "+18005550400",
        "z9hG4bKack1",
        &sdp(4000, "sendrecv"),
    ));
    let (busy, _) = caller.expect(5 * SECOND, is_status(486, "INVITE"));
    let to = header(&busy, "To");
    caller.send(&format!(
        "ACK sip:+18005550400@{} SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:{};branch=z9hG4bKack1
From: <sip:+15125550123@127.0.0.1:{}>;tag={}
To: {to}
Call-ID: ack-1
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0

",
        caller.server,
        caller.port(),
        caller.port(),
        caller.tag
    ));
    let again = caller.count(Duration::from_millis(1500), is_status(486, "INVITE"));
    assert_eq!(again, 0, "the 486 was sent again after its ACK");
    let out = server.stop();
    assert!(out.contains("ACK=1"), "{out}");
    assert_eq!(records(&out)[0]["disposition"], "rejected");
}

#[test]
fn a_cancel_with_the_invite_and_its_retransmission() {
    let (server, _dir) = start("cancel", 35_200);
    let caller = Peer::new(server.port);
    let invite = caller.invite(
        "can-1",
        "+18005550100",
        "z9hG4bKcan1",
        &sdp(4002, "sendrecv"),
    );
    let cancel = format!(
        "CANCEL sip:+18005550100@{} SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:{};branch=z9hG4bKcan1
From: <sip:+15125550123@127.0.0.1:{}>;tag={}
To: <sip:+18005550100@{}>
Call-ID: can-1
CSeq: 1 CANCEL
Max-Forwards: 70
Content-Length: 0

",
        caller.server,
        caller.port(),
        caller.port(),
        caller.tag,
        caller.server
    );
    caller.send(&invite);
    caller.send(&cancel);
    caller.send(&cancel);
    let mut cancel_oks = 0;
    let mut final_answer = None;
    let until = Instant::now() + 5 * SECOND;
    while Instant::now() < until && (cancel_oks < 2 || final_answer.is_none()) {
        let Some((m, _)) = caller.recv(Duration::from_millis(200)) else {
            continue;
        };
        if is_status(200, "CANCEL")(&m) {
            cancel_oks += 1;
        } else if header(&m, "CSeq").ends_with("INVITE") && status(&m) >= 200 {
            final_answer.get_or_insert(m);
        }
    }
    assert_eq!(cancel_oks, 2, "both CANCELs got 200");
    let answer = final_answer.expect("a final answer to the INVITE");
    match status(&answer) {
        487 => {
            let to = header(&answer, "To");
            caller.send(&format!(
                "ACK sip:+18005550100@{} SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:{};branch=z9hG4bKcan1\n\
                 From: <sip:+15125550123@127.0.0.1:{}>;tag={}\nTo: {to}\nCall-ID: can-1\n\
                 CSeq: 1 ACK\nMax-Forwards: 70\nContent-Length: 0\n\n",
                caller.server,
                caller.port(),
                caller.port(),
                caller.tag
            ));
            assert_eq!(
                caller.count(Duration::from_millis(1500), is_status(487, "INVITE")),
                0
            );
        }
        200 => {
            // The 200 crossed the CANCEL: the caller ACKs and hangs up.
            caller.send(&caller.in_dialog("ACK", 1, "can-1", &answer, "", ""));
            caller.send(&caller.in_dialog("BYE", 2, "can-1", &answer, "", ""));
            caller.expect(2 * SECOND, is_status(200, "BYE"));
        }
        other => panic!("{other} to a cancelled INVITE"),
    }
    only_record(server, "abandoned");
}

#[test]
fn hold_by_re_invite_and_an_invite_before_the_ack() {
    let (server, _dir) = start("reinvite", 35_300);
    let caller = Peer::new(server.port);
    let ok = caller.answered("rei-1", "+18005550100", "z9hG4bKrei1", 4004);
    // Hold: a re-INVITE offering sendonly.
    let hold = sdp(4004, "sendonly");
    caller.send(&caller.in_dialog(
        "INVITE",
        2,
        "rei-1",
        &ok,
        "Content-Type: application/sdp\n",
        &hold,
    ));
    let (held, _) = caller.expect(3 * SECOND, |m| {
        header(m, "CSeq") == "2 INVITE" && status(m) >= 200
    });
    assert_eq!(status(&held), 200, "{held}");
    assert!(
        held.contains("a=recvonly"),
        "the answer to sendonly is recvonly: {held}"
    );
    // A second INVITE before the ACK of the first one's 200.
    caller.send(&caller.in_dialog(
        "INVITE",
        3,
        "rei-1",
        &ok,
        "Content-Type: application/sdp\n",
        &sdp(4004, "sendrecv"),
    ));
    let (second, _) = caller.expect(3 * SECOND, |m| {
        header(m, "CSeq") == "3 INVITE" && status(m) >= 200
    });
    assert_eq!(status(&second), 500, "{second}");
    assert!(!header(&second, "Retry-After").is_empty(), "{second}");
    caller.send(&caller.in_dialog("ACK", 2, "rei-1", &ok, "", ""));
    caller.send(&caller.in_dialog("BYE", 4, "rei-1", &ok, "", ""));
    caller.expect(3 * SECOND, is_status(200, "BYE"));
    let out = server.stop();
    assert_eq!(records(&out).len(), 1, "{out}");
}

#[test]
fn keys_sent_as_sip_info_choose_in_the_menu() {
    let (server, _dir) = start("info", 35_400);
    let caller = Peer::new(server.port);
    let ok = caller.answered("info-1", "+18005550100", "z9hG4bKinfo1", 4006);
    caller.send(&caller.in_dialog(
        "INFO",
        2,
        "info-1",
        &ok,
        "Content-Type: application/dtmf-relay\n",
        "Signal=2\nDuration=160\n",
    ));
    caller.expect(2 * SECOND, is_status(200, "INFO"));
    // Key 2 is voicemail: after the beep, the message; then hang up.
    std::thread::sleep(Duration::from_millis(1500));
    caller.send(&caller.in_dialog("BYE", 3, "info-1", &ok, "", ""));
    caller.expect(3 * SECOND, is_status(200, "BYE"));
    only_record(server, "voicemail");
}

/// The digest response to a challenge (MD5, with or without qop=auth).
fn authorization(challenge: &str, user: &str, password: &str, uri: &str) -> String {
    let param = |name: &str| {
        challenge.split(',').find_map(|p| {
            let (n, v) = p.trim().trim_start_matches("Digest ").split_once('=')?;
            (n.trim() == name).then(|| v.trim().trim_matches('"').to_string())
        })
    };
    let hex = |s: String| {
        Md5::digest(s.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    let realm = param("realm").unwrap_or_default();
    let nonce = param("nonce").unwrap_or_default();
    let ha1 = hex(format!("{user}:{realm}:{password}"));
    let ha2 = hex(format!("REGISTER:{uri}"));
    match param("qop") {
        Some(_) => {
            let response = hex(format!("{ha1}:{nonce}:00000001:c0ffee:auth:{ha2}"));
            format!(
                "Digest username=\"{user}\", realm=\"{realm}\", nonce=\"{nonce}\", uri=\"{uri}\", \
                 response=\"{response}\", algorithm=MD5, qop=auth, nc=00000001, cnonce=\"c0ffee\""
            )
        }
        None => {
            let response = hex(format!("{ha1}:{nonce}:{ha2}"));
            format!(
                "Digest username=\"{user}\", realm=\"{realm}\", nonce=\"{nonce}\", uri=\"{uri}\", \
                 response=\"{response}\", algorithm=MD5"
            )
        }
    }
}

/// Registers `user` at the peer's address.
fn register(agent: &Peer, user: &str) {
    let uri = format!("sip:{}", agent.server);
    let request = |seq: u32, auth: &str| {
        format!(
            "REGISTER {uri} SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bKreg{seq}
From: <sip:{user}@{server}>;tag=r1
To: <sip:{user}@{server}>
Call-ID: reg-{user}
CSeq: {seq} REGISTER
Contact: <sip:{user}@127.0.0.1:{port}>
Expires: 300
Max-Forwards: 70
{auth}Content-Length: 0

",
            port = agent.port(),
            server = agent.server,
        )
    };
    agent.send(&request(1, ""));
    let (challenge, _) = agent.expect(2 * SECOND, is_status(401, "REGISTER"));
    let auth = authorization(
        &header(&challenge, "WWW-Authenticate"),
        user,
        &format!("{user}-secret"),
        &uri,
    );
    agent.send(&request(2, &format!("Authorization: {auth}\n")));
    agent.expect(2 * SECOND, is_status(200, "REGISTER"));
}

/// An answer to a request the agent received, in its dialog.
fn answer(request: &str, code: u16, reason: &str, extra: &str, body: &str) -> String {
    let mut out = format!("SIP/2.0 {code} {reason}\n");
    for name in ["Via", "From", "Call-ID", "CSeq"] {
        out.push_str(&format!("{name}: {}\n", header(request, name)));
    }
    let to = header(request, "To");
    if to.contains("tag=") {
        out.push_str(&format!("To: {to}\n"));
    } else {
        out.push_str(&format!("To: {to};tag=agent1\n"));
    }
    out.push_str(extra);
    let body = body.replace('\n', "\r\n");
    out.push_str(&format!("Content-Length: {}\n\n{body}", body.len()));
    out
}

#[test]
fn an_agents_200_crossing_our_cancel_is_acked_and_hung_up() {
    let (server, _dir) = start("crossing", 35_500);
    let agent = Peer::new(server.port);
    register(&agent, "ana");
    let caller = Peer::new(server.port);
    let ok = caller.answered("cross-1", "+18005550200", "z9hG4bKcross1", 4008);
    let (invite, from) = agent.expect(5 * SECOND, |m| m.starts_with("INVITE "));
    agent.send_to(from, &answer(&invite, 180, "Ringing", "", ""));
    // The caller hangs up: the server CANCELs the agent's INVITE...
    caller.send(&caller.in_dialog("BYE", 2, "cross-1", &ok, "", ""));
    let (cancel, _) = agent.expect(3 * SECOND, |m| m.starts_with("CANCEL "));
    // ... and the agent answers the INVITE 200 before the CANCEL.
    let contact = format!("Contact: <sip:ana@127.0.0.1:{}>\n", agent.port());
    agent.send_to(
        from,
        &answer(
            &invite,
            200,
            "OK",
            &format!("{contact}Content-Type: application/sdp\n"),
            &sdp(4010, "sendrecv"),
        ),
    );
    agent.send_to(from, &answer(&cancel, 200, "OK", "", ""));
    // The server ACKs the 200, then hangs up with BYE.
    agent.expect(3 * SECOND, |m| {
        m.starts_with("ACK ") && header(m, "CSeq").ends_with("ACK")
    });
    let (bye, _) = agent.expect(3 * SECOND, |m| m.starts_with("BYE "));
    agent.send_to(from, &answer(&bye, 200, "OK", "", ""));
    caller.expect(2 * SECOND, is_status(200, "BYE"));
    only_record(server, "abandoned");
}

#[test]
fn bad_sdp_and_unknown_codecs_get_488() {
    let (server, _dir) = start("488", 35_600);
    let caller = Peer::new(server.port);
    let opus_only = "v=0\no=- 1 1 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\n\
                     m=audio 4012 RTP/AVP 111\na=rtpmap:111 opus/48000/2\n";
    for (call_id, body) in [("bad-1", "this is not SDP\n"), ("bad-2", opus_only)] {
        let branch = format!("z9hG4bK{call_id}");
        caller.send(&caller.invite(call_id, "+18005550100", &branch, body));
        let (answer, _) = caller.expect(5 * SECOND, |m| {
            header(m, "Call-ID") == call_id
                && header(m, "CSeq").ends_with("INVITE")
                && status(m) >= 200
        });
        assert_eq!(status(&answer), 488, "{answer}");
        assert!(header(&answer, "Warning").starts_with("305 "), "{answer}");
    }
    let out = server.stop();
    let r = records(&out);
    assert_eq!(r.len(), 2, "{out}");
    assert!(r.iter().all(|r| r["disposition"] == "abandoned"), "{out}");
}

#[test]
fn a_caller_who_sends_no_rtp_is_hung_up_after_the_media_timeout() {
    let (server, _dir) = start_with("silent", 35_700, "media_timeout = 2");
    let caller = Peer::new(server.port);
    caller.send(&caller.invite(
        "quiet-1",
        "+18005550100",
        "z9hG4bKquiet1",
        &sdp(4014, "sendrecv"),
    ));
    let (ok, _) = caller.expect(5 * SECOND, is_status(200, "INVITE"));
    let answered = Instant::now();
    caller.send(&caller.in_dialog("ACK", 1, "quiet-1", &ok, "", ""));
    let (bye, from) = caller.expect(6 * SECOND, |m| m.starts_with("BYE "));
    let after = answered.elapsed();
    assert!(
        after >= Duration::from_millis(1900) && after < Duration::from_millis(4000),
        "hung up after {after:?}"
    );
    caller.send_to(from, &answer(&bye, 200, "OK", "", ""));
    only_record(server, "abandoned");
}

#[test]
fn a_stop_refuses_new_calls_and_hangs_up_those_in_progress() {
    let (server, _dir) = start("stop", 35_800);
    let caller = Peer::new(server.port);
    // Voicemail: the message lasts until the grace period ends.
    caller.answered("stop-1", "+18005550300", "z9hG4bKstop1", 4016);
    std::thread::sleep(Duration::from_millis(300));
    let stopping = std::thread::spawn(move || server.stop());
    std::thread::sleep(Duration::from_millis(300));
    caller.send(&caller.invite(
        "stop-2",
        "+18005550100",
        "z9hG4bKstop2",
        &sdp(4018, "sendrecv"),
    ));
    let (refused, _) = caller.expect(3 * SECOND, |m| {
        header(m, "Call-ID") == "stop-2" && status(m) >= 200
    });
    assert_eq!(status(&refused), 503, "{refused}");
    assert!(!header(&refused, "Retry-After").is_empty());
    // The call in progress gets BYE once the grace second has passed.
    let (bye, from) = caller.expect(4 * SECOND, |m| {
        m.starts_with("BYE ") && header(m, "Call-ID") == "stop-1"
    });
    caller.send_to(from, &answer(&bye, 200, "OK", "", ""));
    let out = stopping.join().expect("the stop");
    assert!(out.contains("1 hung up at the deadline"), "{out}");
    assert!(out.contains("1 refused while stopping"), "{out}");
    let r = records(&out);
    assert_eq!(r.len(), 1, "{out}");
    assert_eq!(r[0]["call"]["correlation"], "stop-1");
}

#[test]
fn requests_of_unknown_dialogs_get_481_and_a_transfer_before_answering_is_a_302() {
    let (server, _dir) = start("481", 35_900);
    let caller = Peer::new(server.port);
    let port = caller.port();
    caller.send(&format!(
        "BYE sip:x@{} SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bKno1\n\
         From: <sip:a@127.0.0.1>;tag=a\nTo: <sip:b@127.0.0.1>;tag=b\nCall-ID: nobody\n\
         CSeq: 5 BYE\nMax-Forwards: 70\nContent-Length: 0\n\n",
        caller.server
    ));
    caller.expect(2 * SECOND, is_status(481, "BYE"));
    caller.send(&caller.invite(
        "xfer-1",
        "+18005550500",
        "z9hG4bKxfer1",
        &sdp(4020, "sendrecv"),
    ));
    let (moved, _) = caller.expect(3 * SECOND, |m| {
        header(m, "CSeq").ends_with("INVITE") && status(m) >= 200
    });
    assert_eq!(status(&moved), 302, "{moved}");
    assert_eq!(
        header(&moved, "Contact"),
        "<sip:+15125550199@trunk.invalid>"
    );
    only_record(server, "transferred");
}

#[test]
fn auto_answer_whisper_and_a_recorded_call() {
    let (server, dir) = start("whisper", 36_000);
    let agent = Peer::new(server.port);
    register(&agent, "ana");
    let agent_rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let agent_rtp_port = agent_rtp.local_addr().unwrap().port();
    let caller = Peer::new(server.port);
    let ok = caller.answered("wh-1", "+18005550600", "z9hG4bKwh1", 4022);
    // The queue asks the phone to pick up by itself.
    let (invite, from) = agent.expect(5 * SECOND, |m| m.starts_with("INVITE "));
    assert_eq!(header(&invite, "Call-Info"), "answer-after=0", "{invite}");
    let contact = format!("Contact: <sip:ana@127.0.0.1:{}>\n", agent.port());
    agent.send_to(
        from,
        &answer(
            &invite,
            200,
            "OK",
            &format!("{contact}Content-Type: application/sdp\n"),
            &sdp(agent_rtp_port, "sendrecv"),
        ),
    );
    agent.expect(3 * SECOND, |m| m.starts_with("ACK "));
    // The whisper (the 400 ms beep) reaches the agent: about 20 packets.
    agent_rtp
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut whispered = 0;
    let mut buf = [0u8; 2048];
    let until = Instant::now() + Duration::from_millis(1500);
    while Instant::now() < until {
        if agent_rtp.recv(&mut buf).is_ok() {
            whispered += 1;
        }
    }
    assert!(
        (15..=40).contains(&whispered),
        "{whispered} packets whispered"
    );
    caller.send(&caller.in_dialog("BYE", 2, "wh-1", &ok, "", ""));
    caller.expect(2 * SECOND, is_status(200, "BYE"));
    let (bye, _) = agent.expect(3 * SECOND, |m| m.starts_with("BYE "));
    agent.send_to(from, &answer(&bye, 200, "OK", "", ""));
    only_record(server, "answered");
    // `record`: both directions in one stereo file.
    let recorded = dir.join("recordings").join("wh-1-call.wav");
    let wav = hound::WavReader::open(&recorded).expect("the call's recording");
    assert_eq!(wav.spec().channels, 2, "{recorded:?}");
}

/// A request the agent's phone sends in the dialog the server's `invite`
/// opened (the phone's tag is `agent1`, as [`answer`] gives it).
fn agent_request(agent: &Peer, method: &str, seq: u32, invite: &str, body: &str) -> String {
    let port = agent.port();
    let body = body.replace('\n', "\r\n");
    let uri = header(invite, "Contact")
        .trim_matches(|c| c == '<' || c == '>')
        .to_string();
    format!(
        "{method} {uri} SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bKagent{method}{seq}
From: {to};tag=agent1
To: {from}
Call-ID: {call_id}
CSeq: {seq} {method}
Contact: <sip:ana@127.0.0.1:{port}>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: {len}

{body}",
        to = header(invite, "To"),
        from = header(invite, "From"),
        call_id = header(invite, "Call-ID"),
        len = body.len(),
    )
}

fn cseq_number(message: &str) -> u32 {
    header(message, "CSeq")
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

#[test]
fn hold_goes_across_the_bridge_and_a_re_invite_glare_gets_491_and_a_retry() {
    let (server, _dir) = start("glare", 36_100);
    let agent = Peer::new(server.port);
    register(&agent, "ana");
    let caller = Peer::new(server.port);
    let ok = caller.answered("glare-1", "+18005550200", "z9hG4bKglare1", 4012);
    let (invite, from) = agent.expect(5 * SECOND, |m| m.starts_with("INVITE "));
    let contact = format!("Contact: <sip:ana@127.0.0.1:{}>\n", agent.port());
    let with_sdp = format!("{contact}Content-Type: application/sdp\n");
    agent.send_to(
        from,
        &answer(&invite, 200, "OK", &with_sdp, &sdp(4014, "sendrecv")),
    );
    agent.expect(3 * SECOND, |m| m.starts_with("ACK "));

    // The caller puts the call on hold: the server tells the agent's phone.
    let hold = sdp(4012, "sendonly");
    let reinvite = "Content-Type: application/sdp\n";
    caller.send(&caller.in_dialog("INVITE", 2, "glare-1", &ok, reinvite, &hold));
    caller.expect(3 * SECOND, |m| {
        header(m, "CSeq") == "2 INVITE" && status(m) == 200
    });
    caller.send(&caller.in_dialog("ACK", 2, "glare-1", &ok, "", ""));
    let (ours, _) = agent.expect(3 * SECOND, |m| {
        m.starts_with("INVITE ") && m.contains("a=sendonly")
    });
    assert_eq!(header(&ours, "Call-ID"), header(&invite, "Call-ID"));
    assert!(cseq_number(&ours) > cseq_number(&invite), "{ours}");

    // Glare: the phone sends its own re-INVITE before answering ours. The
    // server answers it 491; the phone answers ours 491 too.
    agent.send_to(
        from,
        &agent_request(&agent, "INVITE", 2, &invite, &sdp(4014, "sendonly")),
    );
    let (refused, _) = agent.expect(3 * SECOND, |m| header(m, "CSeq") == "2 INVITE");
    assert_eq!(status(&refused), 491, "{refused}");
    agent.send_to(from, &agent_request(&agent, "ACK", 2, &invite, ""));
    agent.send_to(from, &answer(&ours, 491, "Request Pending", "", ""));
    let (ack, _) = agent.expect(3 * SECOND, |m| m.starts_with("ACK "));
    assert_eq!(header(&ack, "Via"), header(&ours, "Via"), "a failure's ACK");
    let refused_at = Instant::now();
    // The server offers again after 2.1 to 4 s (it chose the Call-ID).
    let (again, _) = agent.expect(6 * SECOND, |m| {
        m.starts_with("INVITE ") && m.contains("a=sendonly")
    });
    let waited = refused_at.elapsed();
    assert!(
        (Duration::from_millis(2_000)..Duration::from_millis(4_500)).contains(&waited),
        "the retry came after {waited:?}"
    );
    assert!(cseq_number(&again) > cseq_number(&ours), "{again}");
    agent.send_to(
        from,
        &answer(&again, 200, "OK", &with_sdp, &sdp(4014, "recvonly")),
    );
    let (ack, _) = agent.expect(3 * SECOND, |m| m.starts_with("ACK "));
    assert_eq!(cseq_number(&ack), cseq_number(&again), "{ack}");

    // The caller takes the call off hold: so does the phone.
    caller.send(&caller.in_dialog(
        "INVITE",
        3,
        "glare-1",
        &ok,
        reinvite,
        &sdp(4012, "sendrecv"),
    ));
    caller.expect(3 * SECOND, |m| {
        header(m, "CSeq") == "3 INVITE" && status(m) == 200
    });
    caller.send(&caller.in_dialog("ACK", 3, "glare-1", &ok, "", ""));
    let (unhold, _) = agent.expect(3 * SECOND, |m| {
        m.starts_with("INVITE ") && m.contains("a=sendrecv")
    });
    agent.send_to(
        from,
        &answer(&unhold, 200, "OK", &with_sdp, &sdp(4014, "sendrecv")),
    );
    agent.expect(3 * SECOND, |m| m.starts_with("ACK "));

    // The agent puts the caller on hold: the caller's side is told.
    agent.send_to(
        from,
        &agent_request(&agent, "INVITE", 3, &invite, &sdp(4014, "inactive")),
    );
    let (held, _) = agent.expect(3 * SECOND, |m| header(m, "CSeq") == "3 INVITE");
    assert_eq!(status(&held), 200, "{held}");
    assert!(held.contains("a=inactive"), "{held}");
    agent.send_to(from, &agent_request(&agent, "ACK", 3, &invite, ""));
    let (told, caller_side) = caller.expect(3 * SECOND, |m| m.starts_with("INVITE "));
    assert!(told.contains("a=inactive"), "{told}");
    assert_eq!(header(&told, "Call-ID"), "glare-1");
    caller.send_to(
        caller_side,
        &answer(
            &told,
            200,
            "OK",
            "Content-Type: application/sdp\n",
            &sdp(4012, "inactive"),
        ),
    );
    caller.expect(3 * SECOND, |m| m.starts_with("ACK "));

    // The caller hangs up; the agent's phone gets BYE.
    caller.send(&caller.in_dialog("BYE", 4, "glare-1", &ok, "", ""));
    caller.expect(3 * SECOND, is_status(200, "BYE"));
    let (bye, _) = agent.expect(3 * SECOND, |m| m.starts_with("BYE "));
    agent.send_to(from, &answer(&bye, 200, "OK", "", ""));
    let r = only_record(server, "answered");
    assert_eq!(r["agent"], "ana", "{r}");
}

#[test]
fn a_transfer_after_answering_calls_the_trunk_and_bridges_it() {
    let trunk = Peer::new(0);
    let (server, _dir) = start_with(
        "xfer-answered",
        36_200,
        &format!(
            "\n[targets]\ntrunk = \"sip:{{number}}@127.0.0.1:{}\"\n",
            trunk.port()
        ),
    );
    let caller = Peer::new(server.port);
    // Answered to play the prompt, then the trunk is called.
    caller.answered("xfer-2", "+18005550700", "z9hG4bKxfer2", 4024);
    let (invite, from) = trunk.expect(5 * SECOND, |m| m.starts_with("INVITE "));
    assert!(
        invite.starts_with(&format!(
            "INVITE sip:+15125550199@127.0.0.1:{} ",
            trunk.port()
        )),
        "{invite}"
    );
    assert!(
        invite.contains("From: <sip:+15125550123@"),
        "the caller's number: {invite}"
    );
    trunk.send_to(from, &answer(&invite, 180, "Ringing", "", ""));
    let contact = format!("Contact: <sip:far@127.0.0.1:{}>\n", trunk.port());
    trunk.send_to(
        from,
        &answer(
            &invite,
            200,
            "OK",
            &format!("{contact}Content-Type: application/sdp\n"),
            &sdp(4026, "sendrecv"),
        ),
    );
    trunk.expect(3 * SECOND, |m| m.starts_with("ACK "));
    // The far end hangs up: the caller gets BYE.
    trunk.send_to(from, &agent_request(&trunk, "BYE", 2, &invite, ""));
    trunk.expect(3 * SECOND, |m| {
        header(m, "CSeq") == "2 BYE" && status(m) == 200
    });
    let (bye, caller_side) = caller.expect(3 * SECOND, |m| m.starts_with("BYE "));
    caller.send_to(caller_side, &answer(&bye, 200, "OK", "", ""));
    only_record(server, "transferred");
}
