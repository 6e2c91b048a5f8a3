//! The body of the `sip_ingress` fuzz target, kept apart so that
//! `tests/sip_ingress.rs` runs the same function on random and mutated
//! datagrams under `cargo test` (the fuzz target itself needs cargo-fuzz).
//!
//! One input is one datagram (and one TCP-framed message) through
//! `sip::ingress::process` with a handler that reads everything a server
//! reads from a request and answers 302. Nothing may panic; every answer
//! sent must parse as a SIP response; once every timer has fired the
//! transaction table is empty.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use dialect::sip::counters::Counters;
use dialect::sip::ingress::{Incoming, Limits, Transport, process};
use dialect::sip::message::{Message, parse};
use dialect::sip::response::{Response, response};
use dialect::sip::transaction::{Table, Timers};

fn answer(incoming: &Incoming<'_>) -> Option<Response> {
    let req = incoming.request;
    let _ = (req.uri(), req.uri_user(), req.vias(), req.contacts());
    let _ = (
        req.from(),
        req.to(),
        req.p_asserted_identity(),
        req.expires(),
    );
    let _ = (
        req.max_forwards(),
        req.authorization(),
        req.cseq(),
        req.body(),
    );
    Some(
        response(req, 302, "Moved Temporarily")
            .contact(&req.uri(), Some(0.5))
            .header("X-Dialect-Version", "fuzz")
            .finish(),
    )
}

/// Runs `data` through the ingress path over UDP and over TCP.
pub fn run(data: &[u8]) {
    let mut table = Table::new(Timers::default(), 4);
    let counters = Counters::default();
    let source: SocketAddr = "127.0.0.1:5061".parse().unwrap();
    let now = Instant::now();
    for transport in [Transport::Udp, Transport::Tcp] {
        let reply = process(
            data,
            source,
            source,
            transport,
            &mut table,
            &answer,
            &counters,
            &Limits::default(),
            now,
        );
        if let Some(reply) = reply {
            assert!(
                matches!(parse(&reply.bytes), Ok(Message::Response(_))),
                "an answer that does not parse: {:?}",
                String::from_utf8_lossy(&reply.bytes)
            );
        }
    }
    table.on_timers(now + Duration::from_secs(200), |_, _| {});
    assert!(table.is_empty(), "every transaction ends");
}
