//! The SIP hot path of a redirect: what parsing an INVITE, checking it and
//! writing its 302 costs, the whole ingress path with server transactions
//! (INVITE, 302, ACK, timers), and a UDP round trip over loopback.
//!
//! - `parse_invite`: `message::parse` of a SIPp-style INVITE with SDP.
//! - `parse_check_302`: parse, stamp the Via, validate, write the 302 (two
//!   Contacts and a version header): the redirect's SIP work per INVITE.
//! - `write_302`: that 302 alone, from a parsed INVITE.
//! - `302_through_rsipstack`: the same 302 built with rsipstack's
//!   `Response` and `to_bytes`, the alternative `sip::response` avoids.
//! - `ingress_invite_ack`: `ingress::process` of an INVITE and its ACK
//!   with a transaction table and timers firing on a virtual clock that
//!   moves 33 µs per call (30,000 calls/s); the handler writes the 302.
//! - `udp_loopback_invite_ack`: a client and `transport::serve_udp` on one
//!   current-thread runtime: INVITE sent, 302 received, ACK sent. Both
//!   sides' syscalls and the runtime are in the figure.
//!
//! Run: `cargo bench --features bench --bench sip`; record results in
//! docs/performance.md.

use std::hint::black_box;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use dialect::sip::counters::Counters;
use dialect::sip::ingress::{Incoming, Limits, Transport, process};
use dialect::sip::message::{Message, Method, Request, parse};
use dialect::sip::response::{Response, response};
use dialect::sip::transaction::{Table, Timers};
use dialect::sip::transport::serve_udp;
use dialect::sip::validate::validate;
use tokio_util::sync::CancellationToken;

/// An INVITE as SIPp's `uac` scenario sends it; the ten digits after
/// `z9hG4bK` and in the Call-ID are rewritten per call.
const INVITE: &str = "INVITE sip:+18005550100@127.0.0.1:5060 SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK0000000000\r\n\
From: sipp <sip:+15125550199@127.0.0.1:5061>;tag=1SIPpTag001\r\n\
To: <sip:+18005550100@127.0.0.1:5060>\r\n\
Call-ID: 0000000000-1@127.0.0.1\r\n\
CSeq: 1 INVITE\r\n\
Contact: sip:sipp@127.0.0.1:5061\r\n\
Max-Forwards: 70\r\n\
Subject: Performance Test\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 129\r\n\
\r\n\
v=0\r\n\
o=user1 53655765 2353687637 IN IP4 127.0.0.1\r\n\
s=-\r\n\
c=IN IP4 127.0.0.1\r\n\
t=0 0\r\n\
m=audio 6000 RTP/AVP 0\r\n\
a=rtpmap:0 PCMU/8000\r\n";

const ACK: &str = "ACK sip:+18005550100@127.0.0.1:5060 SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK0000000000\r\n\
From: sipp <sip:+15125550199@127.0.0.1:5061>;tag=1SIPpTag001\r\n\
To: <sip:+18005550100@127.0.0.1:5060>;tag=x\r\n\
Call-ID: 0000000000-1@127.0.0.1\r\n\
CSeq: 1 ACK\r\n\
Max-Forwards: 70\r\n\
Content-Length: 0\r\n\
\r\n";

/// A message whose branch and Call-ID digits are rewritten in place.
struct Numbered {
    bytes: Vec<u8>,
    spots: Vec<usize>,
}

impl Numbered {
    fn new(text: &str) -> Numbered {
        let bytes = text.as_bytes().to_vec();
        let spots = text.match_indices("0000000000").map(|(i, _)| i).collect();
        Numbered { bytes, spots }
    }

    fn set(&mut self, n: u64) -> &[u8] {
        let digits = format!("{n:010}");
        for &at in &self.spots {
            self.bytes[at..at + 10].copy_from_slice(digits.as_bytes());
        }
        &self.bytes
    }
}

fn request(bytes: &[u8]) -> Request {
    match parse(bytes) {
        Ok(Message::Request(r)) => r,
        other => panic!("{other:?}"),
    }
}

fn redirect(req: &Request) -> Response {
    response(req, 302, "Moved Temporarily")
        .contact("sip:+18005550100@trunk.example.com", Some(1.0))
        .contact("sip:1001@192.0.2.4:5060", Some(0.5))
        .header("X-Dialect-Version", "3f2a9c1d")
        .finish()
}

fn handler(incoming: &Incoming<'_>) -> Option<Response> {
    (*incoming.request.method() == Method::Invite).then(|| redirect(incoming.request))
}

fn source() -> SocketAddr {
    "127.0.0.1:5061".parse().unwrap()
}

fn bench_messages(c: &mut Criterion) {
    let mut g = c.benchmark_group("sip");
    g.bench_function("parse_invite", |b| {
        b.iter(|| black_box(parse(black_box(INVITE.as_bytes())).is_ok()))
    });
    g.bench_function("parse_check_302", |b| {
        b.iter(|| {
            let mut req = request(black_box(INVITE.as_bytes()));
            req.stamp_source(source());
            validate(&req).unwrap();
            black_box(redirect(&req).bytes.len())
        })
    });
    g.bench_function("write_302", |b| {
        let req = request(INVITE.as_bytes());
        b.iter(|| black_box(redirect(black_box(&req)).bytes.len()))
    });
    g.bench_function("302_through_rsipstack", |b| {
        use rsipstack::sip as rs;
        use rsipstack::sip::{HeadersExt, typed};
        let rs::SipMessage::Request(req) = rs::SipMessage::try_from(INVITE.as_bytes()).unwrap()
        else {
            panic!("a request");
        };
        b.iter(|| {
            let req = black_box(&req);
            let mut headers: Vec<rs::Header> = req
                .headers
                .iter()
                .filter(|h| {
                    matches!(
                        h,
                        rs::Header::Via(_)
                            | rs::Header::From(_)
                            | rs::Header::CallId(_)
                            | rs::Header::CSeq(_)
                    )
                })
                .cloned()
                .collect();
            let to = typed::To::parse(req.to_header().unwrap().value()).unwrap();
            headers.push(to.with_tag("0123456789abcdef".into()).into());
            for (uri, q) in [
                ("sip:+18005550100@trunk.example.com", "1"),
                ("sip:1001@192.0.2.4:5060", "0.5"),
            ] {
                headers.push(rs::Header::Contact(rs::headers::Contact::new(format!(
                    "<{uri}>;q={q}"
                ))));
            }
            headers.push(rs::Header::Other(
                "X-Dialect-Version".into(),
                "3f2a9c1d".into(),
            ));
            headers.push(rs::Header::ContentLength(rs::headers::ContentLength::new(
                "0",
            )));
            let resp = rs::Response {
                status_code: rs::StatusCode::MovedTemporarily,
                wire_reason: None,
                version: rs::Version::V2,
                headers: headers.into(),
                body: Vec::new(),
            };
            black_box(resp.to_bytes().len())
        })
    });
    g.finish();
}

fn bench_ingress(c: &mut Criterion) {
    let mut g = c.benchmark_group("sip");
    let counters = Counters::default();
    let limits = Limits::default();
    let local: SocketAddr = "127.0.0.1:5060".parse().unwrap();
    let mut table = Table::new(Timers::default(), limits.max_pending);
    let (mut invite, mut ack) = (Numbered::new(INVITE), Numbered::new(ACK));
    let start = Instant::now();
    let mut call = 0u64;
    g.bench_function("ingress_invite_ack", |b| {
        b.iter(|| {
            call += 1;
            let now = start + Duration::from_micros(33 * call);
            table.on_timers(now, |_, _| {});
            for message in [invite.set(call), ack.set(call)] {
                let reply = process(
                    message,
                    source(),
                    local,
                    Transport::Udp,
                    &mut table,
                    &handler,
                    &counters,
                    &limits,
                    now,
                );
                black_box(reply.map(|r| r.bytes.len()));
            }
        })
    });
    g.finish();
    assert!(
        table.len() < 200_000,
        "timers keep the table bounded: {}",
        table.len()
    );
    assert_eq!(
        counters.snapshot().responses(302),
        counters.snapshot().received("INVITE")
    );
}

fn bench_loopback(c: &mut Criterion) {
    let mut g = c.benchmark_group("sip");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let shutdown = CancellationToken::new();
    let (server, client) = rt.block_on(async {
        let server = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let client = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        (server, client)
    });
    let server_addr = server.local_addr().unwrap();
    let via = client.local_addr().unwrap().to_string();
    let counters = Arc::new(Counters::default());
    rt.spawn(serve_udp(
        server,
        Arc::new(handler),
        counters.clone(),
        Limits::default(),
        shutdown.clone(),
    ));
    let (mut invite, mut ack) = (
        Numbered::new(&INVITE.replace("127.0.0.1:5061", &via)),
        Numbered::new(&ACK.replace("127.0.0.1:5061", &via)),
    );
    let mut call = 0u64;
    g.bench_function("udp_loopback_invite_ack", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut buf = vec![0u8; 65536];
                let begin = Instant::now();
                for _ in 0..iters {
                    call += 1;
                    client.send_to(invite.set(call), server_addr).await.unwrap();
                    let (n, _) = client.recv_from(&mut buf).await.unwrap();
                    black_box(n);
                    client.send_to(ack.set(call), server_addr).await.unwrap();
                }
                begin.elapsed()
            })
        })
    });
    g.finish();
    shutdown.cancel();
    let seen = counters.snapshot();
    assert_eq!(seen.responses(302), seen.received("INVITE"));
}

criterion_group!(benches, bench_messages, bench_ingress, bench_loopback);
criterion_main!(benches);
