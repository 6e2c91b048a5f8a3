//! Property tests of `ingress::process`: random bytes and mutated
//! requests never panic, and every answer it sends is itself a response
//! that parses, for a request that parsed.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use proptest::prelude::*;

use crate::sip::counters::Counters;
use crate::sip::ingress::{Incoming, Limits, Transport, process};
use crate::sip::message::{Message, parse};
use crate::sip::response::{Response, response};
use crate::sip::transaction::{Table, Timers};

const INVITE: &str = "INVITE sip:+18005550100@127.0.0.1 SIP/2.0\r\n\
v: SIP/2.0/UDP [::1]:5061;branch=z9hG4bK77, SIP/2.0/TCP p2;branch=z9hG4bK78\r\n\
From: \"A \\\"q\\\"\" <sip:+15125550199@127.0.0.1:5061>;tag=t1\r\n\
To: <tel:+18005550100>\r\nCall-ID: c@h\r\nCSeq: 1 INVITE\r\n\
Max-Forwards: 70\r\nP-Asserted-Identity: <sip:+1512@h>, <tel:+1512>\r\n\
Contact: <sip:a@h>;expires=60;q=0.5\r\nContent-Type: application/sdp\r\n\
Content-Length: 4\r\n\r\nv=0\r\n";

fn answer(incoming: &Incoming<'_>) -> Option<Response> {
    let req = incoming.request;
    // Read everything a handler might read: none of it may panic.
    let _ = (req.uri(), req.uri_user(), req.vias(), req.contacts());
    let _ = (
        req.from(),
        req.to(),
        req.p_asserted_identity(),
        req.expires(),
    );
    Some(
        response(req, 302, "Moved")
            .contact(&req.uri(), Some(0.5))
            .finish(),
    )
}

/// Runs bytes through a fresh table; checks any answer parses.
fn run(bytes: &[u8]) {
    let mut table = Table::new(Timers::default(), 4);
    let counters = Counters::default();
    let source: SocketAddr = "127.0.0.1:5061".parse().unwrap();
    let now = Instant::now();
    for transport in [Transport::Udp, Transport::Tcp] {
        let reply = process(
            bytes,
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
    assert!(table.is_empty());
}

fn mutate(text: &str, edits: &[(usize, u8, u8)]) -> Vec<u8> {
    let mut bytes = text.as_bytes().to_vec();
    for &(at, op, byte) in edits {
        let at = at % (bytes.len() + 1);
        match op % 3 {
            0 if at < bytes.len() => bytes[at] = byte,
            1 => bytes.insert(at, byte),
            _ if at < bytes.len() => {
                bytes.remove(at);
            }
            _ => {}
        }
    }
    bytes
}

#[test]
fn the_sample_request_is_answered() {
    let mut table = Table::new(Timers::default(), 4);
    let source: SocketAddr = "[::1]:5061".parse().unwrap();
    let reply = process(
        INVITE.as_bytes(),
        source,
        source,
        Transport::Udp,
        &mut table,
        &answer,
        &Counters::default(),
        &Limits::default(),
        Instant::now(),
    );
    assert!(reply.unwrap().bytes.starts_with(b"SIP/2.0 302 Moved\r\n"));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        run(&bytes);
    }

    #[test]
    fn mutated_requests_never_panic(
        edits in prop::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..10)
    ) {
        run(&mutate(INVITE, &edits));
    }

    #[test]
    fn mutated_requests_with_sip_bytes_never_panic(
        edits in prop::collection::vec(
            (any::<usize>(), any::<u8>(), prop::sample::select(b";:,<>\"[]@= \r\n\t\\%".to_vec())),
            1..10,
        )
    ) {
        run(&mutate(INVITE, &edits));
    }
}
