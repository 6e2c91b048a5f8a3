//! The SIP ingress path on hostile input: random bytes and mutated
//! requests (a compact, IPv6, multi-Via, quoted, `tel:` INVITE with a
//! body) through the body of the `sip_ingress` fuzz target, which never
//! panics and answers only with responses that parse.

use proptest::prelude::*;

// The body of the `sip_ingress` fuzz target (fuzz/fuzz_targets/sip_datagram.rs).
#[path = "../fuzz/fuzz_targets/sip_datagram.rs"]
mod sip_datagram;

const INVITE: &str = "INVITE sip:+18005550100@127.0.0.1 SIP/2.0\r\n\
v: SIP/2.0/UDP [::1]:5061;branch=z9hG4bK77;rport, SIP/2.0/TCP p2;branch=z9hG4bK78\r\n\
From: \"A \\\"q\\\"\" <sip:+15125550199@127.0.0.1:5061>;tag=t1\r\n\
To: <tel:+18005550100>\r\nCall-ID: c@h\r\nCSeq: 1 INVITE\r\n\
Max-Forwards: 70\r\nP-Asserted-Identity: <sip:+1512@h>, <tel:+1512>\r\n\
Contact: <sip:a@h>;expires=60;q=0.5\r\nContent-Type: application/sdp\r\n\
Content-Length: 4\r\n\r\nv=0\r\n";

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
    use dialect::sip::counters::Counters;
    use dialect::sip::ingress::{Incoming, Limits, Transport, process};
    use dialect::sip::response::{Response, response};
    use dialect::sip::transaction::{Table, Timers};
    let handler =
        |i: &Incoming<'_>| -> Option<Response> { Some(response(i.request, 302, "Moved").finish()) };
    let mut table = Table::new(Timers::default(), 4);
    let source = "[::1]:5061".parse().unwrap();
    let reply = process(
        INVITE.as_bytes(),
        source,
        source,
        Transport::Udp,
        &mut table,
        &handler,
        &Counters::default(),
        &Limits::default(),
        std::time::Instant::now(),
    );
    let text = String::from_utf8(reply.expect("answered").bytes.into_owned()).unwrap();
    assert!(text.starts_with("SIP/2.0 302 Moved\r\n"), "{text}");
    assert!(text.contains("rport=5061;received=::1"), "{text}");
    sip_datagram::run(INVITE.as_bytes());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        sip_datagram::run(&bytes);
    }

    #[test]
    fn mutated_requests_never_panic(
        edits in prop::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..10)
    ) {
        sip_datagram::run(&mutate(INVITE, &edits));
    }

    #[test]
    fn mutations_with_sip_punctuation_never_panic(
        edits in prop::collection::vec(
            (any::<usize>(), any::<u8>(), prop::sample::select(b";:,<>\"[]@= \r\n\t\\%".to_vec())),
            1..10,
        )
    ) {
        sip_datagram::run(&mutate(INVITE, &edits));
    }
}
