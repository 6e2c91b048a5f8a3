//! Dialogs (RFC 3261 §12) and the requests this server sends: an INVITE
//! to an agent's phone, its CANCEL and ACKs, a BYE or a re-INVITE inside a
//! dialog. Written straight to bytes as responses are
//! ([`crate::sip::response`]); no I/O and no clock of its own: the caller
//! sends the bytes and runs the [`Resend`] schedule of each request it
//! sends over UDP (Timers A and B, E and F, RFC 3261 §17.1).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::sip::message::{self, Method, ReceivedResponse, Request};
use crate::sip::response::to_tag;

/// What this server calls itself in `User-Agent` and `Server`.
pub const USER_AGENT: &str = concat!("Dialect/", env!("CARGO_PKG_VERSION"));

/// A token for branches, tags and Call-IDs: unique in this process
/// (a counter) and hard to guess across processes (mixed with a seed
/// from the system).
pub fn token() -> String {
    static SEED: AtomicU64 = AtomicU64::new(0);
    static COUNT: AtomicU64 = AtomicU64::new(0);
    let mut seed = SEED.load(Ordering::Relaxed);
    if seed == 0 {
        let mut bytes = [0u8; 8];
        let _ = getrandom::fill(&mut bytes);
        seed = u64::from_le_bytes(bytes) | 1;
        SEED.store(seed, Ordering::Relaxed);
    }
    let mut rng = crate::random::Rng::new(seed ^ COUNT.fetch_add(1, Ordering::Relaxed));
    format!("{:016x}", rng.next_u64())
}

/// A new branch (RFC 3261 §8.1.1.7: it starts with the magic cookie).
pub fn branch() -> String {
    format!("z9hG4bK{}", token())
}

/// One side's view of a dialog: what goes into the requests it sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dialog {
    pub call_id: String,
    pub local_tag: String,
    /// The far side's tag; `None` while an INVITE we sent has no answer
    /// with one.
    pub remote_tag: Option<String>,
    /// Our URI and the far side's, as From and To of our requests.
    pub local_uri: String,
    pub remote_uri: String,
    /// Where requests go: the far side's Contact.
    pub remote_target: String,
    /// Route headers for our requests, in order.
    pub route_set: Vec<String>,
    /// Our CSeq number, raised for each request but ACK and CANCEL.
    pub local_seq: u32,
    /// The far side's last CSeq number (a lower one is out of order).
    pub remote_seq: Option<u32>,
    /// Where our requests are sent.
    pub peer: SocketAddr,
    /// Our address, for Via and Contact.
    pub local: SocketAddr,
}

impl Dialog {
    /// The dialog an INVITE received from `source` opens on our side
    /// (UAS, RFC 3261 §12.1.1): our tag is the To-tag every answer to it
    /// carries. `None` if the INVITE lacks what a dialog needs.
    pub fn answering(req: &Request, source: SocketAddr, local: SocketAddr) -> Option<Dialog> {
        let from = req.from()?;
        let to = req.to()?;
        let target = req
            .contacts()
            .and_then(|c| c.into_iter().next())
            .map(|c| c.uri)
            .unwrap_or_else(|| from.uri.clone());
        // Requests go where the caller's Contact says when it is an
        // address, else back to where the INVITE came from.
        let peer = message::uri_address(&target)
            .filter(|a| !a.ip().is_unspecified())
            .unwrap_or(source);
        Some(Dialog {
            call_id: req.call_id()?.to_string(),
            local_tag: format!("{:016x}", to_tag(req)),
            remote_tag: from.tag.clone(),
            local_uri: to.uri.clone(),
            remote_uri: from.uri.clone(),
            remote_target: target,
            route_set: req
                .header_values("Record-Route")
                .flat_map(message::split_top_level)
                .map(str::to_string)
                .collect(),
            local_seq: 1,
            remote_seq: req.cseq().map(|c| c.seq),
            peer,
            local,
        })
    }

    /// A dialog we open by sending an INVITE to `target` (UAC).
    pub fn calling(local_uri: &str, target: &str, peer: SocketAddr, local: SocketAddr) -> Dialog {
        Dialog {
            call_id: format!("{}@dialect", token()),
            local_tag: token(),
            remote_tag: None,
            local_uri: local_uri.to_string(),
            remote_uri: target.to_string(),
            remote_target: target.to_string(),
            route_set: Vec::new(),
            local_seq: 1,
            remote_seq: None,
            peer,
            local,
        }
    }

    /// Completes a dialog we opened from the answer that confirmed it:
    /// the far side's tag, Contact and route set (reversed, §12.1.2).
    pub fn confirm(&mut self, answer: &ReceivedResponse) {
        if let Some(tag) = answer.to().and_then(|t| t.tag) {
            self.remote_tag = Some(tag);
        }
        if let Some(contact) = answer.contact_uri() {
            if let Some(addr) = message::uri_address(&contact).filter(|a| !a.ip().is_unspecified())
            {
                self.peer = addr;
            }
            self.remote_target = contact;
        }
        let mut routes: Vec<String> = answer
            .header_values("Record-Route")
            .flat_map(message::split_top_level)
            .map(str::to_string)
            .collect();
        routes.reverse();
        self.route_set = routes;
    }

    /// Our Contact.
    pub fn contact(&self) -> String {
        format!("<sip:dialect@{}>", self.local)
    }

    /// A new request in the dialog (BYE, re-INVITE, INFO, ...), with its
    /// own CSeq number. Returns it with its branch.
    pub fn request(&mut self, method: &Method, headers: &[(&str, &str)], body: Body<'_>) -> Sent {
        self.local_seq += 1;
        let seq = self.local_seq;
        let branch = branch();
        let to = self.remote_tag.as_deref();
        let bytes = write(&Head {
            method,
            uri: &self.remote_target,
            branch: &branch,
            local: self.local,
            from: (&self.local_uri, Some(&self.local_tag)),
            to: (&self.remote_uri, to),
            call_id: &self.call_id,
            seq,
            routes: &self.route_set,
            contact: needs_contact(method).then(|| self.contact()),
            headers,
            body,
        });
        Sent { branch, seq, bytes }
    }

    /// The first INVITE of a dialog we open.
    pub fn invite(&mut self, headers: &[(&str, &str)], body: Body<'_>) -> Sent {
        let seq = self.local_seq;
        let branch = branch();
        let bytes = write(&Head {
            method: &Method::Invite,
            uri: &self.remote_target,
            branch: &branch,
            local: self.local,
            from: (&self.local_uri, Some(&self.local_tag)),
            to: (&self.remote_uri, None),
            call_id: &self.call_id,
            seq,
            routes: &self.route_set,
            contact: Some(self.contact()),
            headers,
            body,
        });
        Sent { branch, seq, bytes }
    }

    /// The CANCEL of an INVITE we sent and that has no final answer
    /// (RFC 3261 §9.1): the INVITE's branch, Request-URI and CSeq number.
    pub fn cancel(&self, invite: &Sent) -> Vec<u8> {
        write(&Head {
            method: &Method::Cancel,
            uri: &self.remote_target,
            branch: &invite.branch,
            local: self.local,
            from: (&self.local_uri, Some(&self.local_tag)),
            to: (&self.remote_uri, None),
            call_id: &self.call_id,
            seq: invite.seq,
            routes: &self.route_set,
            contact: None,
            headers: &[],
            body: Body::None,
        })
    }

    /// The ACK of a final answer to an INVITE we sent. For a failure it is
    /// part of the INVITE's transaction (same branch, §17.1.1.3); for a
    /// 2xx it is a request of its own, to the Contact (§13.2.2.4).
    pub fn ack(&self, invite: &Sent, code: u16, body: Body<'_>) -> Vec<u8> {
        let own;
        let branch = if (200..300).contains(&code) {
            own = branch();
            &own
        } else {
            &invite.branch
        };
        write(&Head {
            method: &Method::Ack,
            uri: &self.remote_target,
            branch,
            local: self.local,
            from: (&self.local_uri, Some(&self.local_tag)),
            to: (&self.remote_uri, self.remote_tag.as_deref()),
            call_id: &self.call_id,
            seq: invite.seq,
            routes: &self.route_set,
            contact: None,
            headers: &[],
            body,
        })
    }
}

fn needs_contact(method: &Method) -> bool {
    matches!(method, Method::Invite | Method::Update)
}

/// A body and its type.
#[derive(Debug, Clone, Copy)]
pub enum Body<'a> {
    None,
    Sdp(&'a str),
}

/// A request written, with what its answers and its CANCEL need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub branch: String,
    pub seq: u32,
    pub bytes: Vec<u8>,
}

struct Head<'a> {
    method: &'a Method,
    uri: &'a str,
    branch: &'a str,
    local: SocketAddr,
    from: (&'a str, Option<&'a str>),
    to: (&'a str, Option<&'a str>),
    call_id: &'a str,
    seq: u32,
    routes: &'a [String],
    contact: Option<String>,
    headers: &'a [(&'a str, &'a str)],
    body: Body<'a>,
}

/// Writes a request; line breaks in any value become spaces. Written in
/// place, with no string made per header: a call writes several.
fn write(h: &Head<'_>) -> Vec<u8> {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(600);
    let method = h.method.as_str();
    // Writing to a String cannot fail.
    let _ = write!(out, "{method} {} SIP/2.0\r\n", Clean(h.uri));
    let _ = write!(
        out,
        "Via: SIP/2.0/UDP {};branch={};rport\r\n",
        h.local,
        Clean(h.branch)
    );
    out.push_str("Max-Forwards: 70\r\n");
    for (name, (uri, tag)) in [("From", h.from), ("To", h.to)] {
        let _ = write!(out, "{name}: <{}>", Clean(uri));
        if let Some(tag) = tag {
            let _ = write!(out, ";tag={}", Clean(tag));
        }
        out.push_str("\r\n");
    }
    let _ = write!(out, "Call-ID: {}\r\n", Clean(h.call_id));
    let _ = write!(out, "CSeq: {} {method}\r\n", h.seq);
    for route in h.routes {
        let _ = write!(out, "Route: {}\r\n", Clean(route));
    }
    if let Some(contact) = &h.contact {
        let _ = write!(out, "Contact: {contact}\r\n");
    }
    for (name, value) in h.headers {
        let _ = write!(out, "{}: {}\r\n", Clean(name), Clean(value));
    }
    let _ = write!(out, "User-Agent: {USER_AGENT}\r\n");
    let body = match h.body {
        Body::None => "",
        Body::Sdp(sdp) => {
            out.push_str("Content-Type: application/sdp\r\n");
            sdp
        }
    };
    let _ = write!(out, "Content-Length: {}\r\n\r\n", body.len());
    out.push_str(body);
    out.into_bytes()
}

/// A header value as written: each CR or LF becomes a space, so no value
/// can end its header line.
struct Clean<'a>(&'a str);

impl std::fmt::Display for Clean<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut rest = self.0;
        while let Some(at) = rest.find(['\r', '\n']) {
            f.write_str(&rest[..at])?;
            f.write_str(" ")?;
            rest = &rest[at + 1..];
        }
        f.write_str(rest)
    }
}

/// When to send a request again over UDP and when to give up (RFC 3261
/// §17.1.1.2 Timers A and B for an INVITE, §17.1.2.2 Timers E and F
/// otherwise): T1, doubling (capped at T2 unless an INVITE), for 64·T1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resend {
    pub next: Instant,
    interval: Duration,
    pub give_up: Instant,
    invite: bool,
}

/// RFC 3261's T1 and T2.
pub const T1: Duration = Duration::from_millis(500);
pub const T2: Duration = Duration::from_secs(4);

impl Resend {
    pub fn new(invite: bool, now: Instant) -> Resend {
        Resend {
            next: now + T1,
            interval: T1,
            give_up: now + 64 * T1,
            invite,
        }
    }

    /// The request was sent again at `next`: when the one after is due.
    pub fn again(&mut self) {
        self.interval = if self.invite {
            self.interval * 2
        } else {
            (self.interval * 2).min(T2)
        };
        self.next += self.interval;
    }

    /// A provisional answer came: a non-INVITE is sent again every T2
    /// (§17.1.2.2); an INVITE no more (Timer A stops, §17.1.1.2).
    pub fn provisional(&mut self) {
        if self.invite {
            self.next = self.give_up;
        } else {
            self.interval = T2;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::message::{Message, parse};

    fn local() -> SocketAddr {
        "127.0.0.1:5060".parse().unwrap()
    }

    fn received(text: &str) -> Request {
        match parse(text.replace('\n', "\r\n").as_bytes()).unwrap() {
            Message::Request(r) => r,
            Message::Response(_) => panic!("a request"),
        }
    }

    const INVITE: &str = "INVITE sip:+18005550100@127.0.0.1 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1
Record-Route: <sip:proxy.test;lr>
From: \"Ann\" <sip:+15125550123@127.0.0.1>;tag=abc
To: <sip:+18005550100@127.0.0.1>
Call-ID: c1@test
CSeq: 7 INVITE
Contact: <sip:ann@127.0.0.1:5070>
Max-Forwards: 70
Content-Length: 0

";

    #[test]
    fn a_received_invite_opens_a_dialog_whose_bye_parses() {
        let req = received(INVITE);
        let source: SocketAddr = "127.0.0.1:5099".parse().unwrap();
        let mut d = Dialog::answering(&req, source, local()).unwrap();
        assert_eq!(d.remote_tag.as_deref(), Some("abc"));
        assert_eq!(d.peer, "127.0.0.1:5070".parse().unwrap());
        assert_eq!(d.remote_seq, Some(7));
        assert_eq!(d.local_tag.len(), 16);
        let bye = d.request(&Method::Bye, &[], Body::None);
        let Message::Request(bye) = parse(&bye.bytes).unwrap() else {
            panic!("a request")
        };
        assert_eq!(*bye.method(), Method::Bye);
        assert_eq!(bye.uri(), "sip:ann@127.0.0.1:5070");
        assert_eq!(bye.to().unwrap().tag.as_deref(), Some("abc"));
        assert_eq!(
            bye.from().unwrap().tag.as_deref(),
            Some(d.local_tag.as_str())
        );
        assert_eq!(bye.header("Route"), Some("<sip:proxy.test;lr>"));
        assert_eq!(bye.cseq().unwrap().seq, 2);
        assert!(
            bye.top_via()
                .unwrap()
                .branch
                .as_deref()
                .unwrap()
                .starts_with("z9hG4bK")
        );
    }

    #[test]
    fn a_cancel_and_the_ack_of_a_failure_share_the_invites_branch() {
        let peer: SocketAddr = "127.0.0.1:5080".parse().unwrap();
        let mut d = Dialog::calling(
            "sip:queue@dialect",
            "sip:1001@127.0.0.1:5080",
            peer,
            local(),
        );
        let invite = d.invite(&[("Call-Info", "answer-after=0")], Body::Sdp("v=0\r\n"));
        let Message::Request(inv) = parse(&invite.bytes).unwrap() else {
            panic!()
        };
        assert_eq!(inv.header("Call-Info"), Some("answer-after=0"));
        assert_eq!(inv.body(), b"v=0\r\n");
        for bytes in [d.cancel(&invite), d.ack(&invite, 487, Body::None)] {
            let Message::Request(r) = parse(&bytes).unwrap() else {
                panic!()
            };
            assert_eq!(r.top_via().unwrap().branch, Some(invite.branch.clone()));
            assert_eq!(r.cseq().unwrap().seq, invite.seq);
        }
        let ack2xx = d.ack(&invite, 200, Body::None);
        let Message::Request(r) = parse(&ack2xx).unwrap() else {
            panic!()
        };
        assert_ne!(r.top_via().unwrap().branch, Some(invite.branch.clone()));
    }

    #[test]
    fn line_breaks_in_values_become_spaces() {
        let peer: SocketAddr = "127.0.0.1:5080".parse().unwrap();
        let mut d = Dialog::calling(
            "sip:queue@dialect\r\nX-Uri: 1",
            "sip:1001@127.0.0.1:5080",
            peer,
            local(),
        );
        let invite = d.invite(&[("Call-Info", "a\r\nX-Injected: 1\nb")], Body::None);
        let Message::Request(inv) = parse(&invite.bytes).unwrap() else {
            panic!("a request")
        };
        assert_eq!(inv.header("Call-Info"), Some("a  X-Injected: 1 b"));
        assert_eq!(inv.header("X-Injected"), None);
        assert_eq!(inv.header("X-Uri"), None);
        assert!(
            inv.header("From")
                .unwrap()
                .starts_with("<sip:queue@dialect  X-Uri: 1>;tag=")
        );
    }

    #[test]
    fn resending_doubles_and_gives_up_at_64_t1() {
        let now = Instant::now();
        let mut r = Resend::new(false, now);
        let mut gaps = Vec::new();
        let mut last = now;
        while r.next < r.give_up {
            gaps.push((r.next - last).as_millis());
            last = r.next;
            r.again();
        }
        assert_eq!(&gaps[..5], &[500, 1000, 2000, 4000, 4000]);
        let mut i = Resend::new(true, now);
        i.again();
        i.again();
        i.again();
        assert_eq!(
            i.next - now,
            Duration::from_millis(500 + 1000 + 2000 + 4000)
        );
        assert_eq!(i.give_up - now, Duration::from_secs(32));
    }

    #[test]
    fn tokens_differ() {
        let a: std::collections::HashSet<String> = (0..1000).map(|_| token()).collect();
        assert_eq!(a.len(), 1000);
    }
}
