//! Tests of `message`, `validate` and `response`: what the server reads
//! from requests as they arrive on the wire, which it rejects, and the
//! bytes of its answers.

use std::net::SocketAddr;

use crate::sip::message::{ContactEntry, Message, Method, Request, parse};
use crate::sip::response::response;
use crate::sip::validate::{Invalid, validate};

/// A request from lines joined with CRLF, ending with an empty line.
fn req(lines: &[&str]) -> Request {
    let text = format!("{}\r\n\r\n", lines.join("\r\n"));
    match parse(text.as_bytes()) {
        Ok(Message::Request(r)) => r,
        other => panic!("not a request: {other:?}"),
    }
}

const INVITE: &[&str] = &[
    "INVITE sip:5551234@example.com SIP/2.0",
    "Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK776asdhds;rport",
    "Max-Forwards: 70",
    "To: Bob <sip:5551234@example.com>",
    "From: \"Alice\" <sip:+15125550100@example.com>;tag=1928301774",
    "Call-ID: a84b4c76e66710@pc33",
    "CSeq: 314159 INVITE",
    "Contact: <sip:alice@192.0.2.10:5062>",
    "Content-Length: 0",
];

fn invite_with(replace: &str, with: Option<&str>) -> Request {
    let lines: Vec<&str> = INVITE
        .iter()
        .filter_map(|l| {
            if l.starts_with(replace) {
                with
            } else {
                Some(*l)
            }
        })
        .collect();
    req(&lines)
}

#[test]
fn reads_what_the_server_needs_from_an_invite() {
    let r = req(INVITE);
    assert_eq!(r.method(), &Method::Invite);
    assert_eq!(r.uri_user().as_deref(), Some("5551234"));
    assert_eq!(r.uri_scheme(), "sip");
    assert_eq!(r.call_id(), Some("a84b4c76e66710@pc33"));
    let cseq = r.cseq().unwrap();
    assert_eq!((cseq.seq, cseq.method), (314159, Method::Invite));
    let via = r.top_via().unwrap();
    assert_eq!(via.transport, "UDP");
    assert_eq!((via.host.as_str(), via.port), ("192.0.2.10", Some(5062)));
    assert_eq!(via.branch.as_deref(), Some("z9hG4bK776asdhds"));
    assert_eq!(via.rport, Some(None));
    let from = r.from().unwrap();
    assert_eq!(from.user.as_deref(), Some("+15125550100"));
    assert_eq!(from.tag.as_deref(), Some("1928301774"));
    assert_eq!(from.display.as_deref(), Some("Alice"));
    assert_eq!(r.to().unwrap().tag, None);
    assert_eq!(r.max_forwards(), Some(Some(70)));
    assert_eq!(r.content_length(), Some(Some(0)));
    assert_eq!(r.p_asserted_identity(), None);
    assert_eq!(r.expires(), None);
    assert_eq!(r.authorization(), None);
    assert!(validate(&r).is_ok());
}

#[test]
fn a_tel_uri_gives_its_number() {
    let r = invite_with(
        "INVITE",
        Some("INVITE tel:+15125550100;phone-context=x SIP/2.0"),
    );
    assert_eq!(r.uri_scheme(), "tel");
    assert_eq!(r.uri_user().as_deref(), Some("+15125550100"));
}

#[test]
fn compact_headers_are_read_under_their_full_names() {
    let r = req(&[
        "OPTIONS sip:a@b SIP/2.0",
        "v: SIP/2.0/UDP h.example.com;branch=z9hG4bKc1",
        "i: compact-1",
        "f: <sip:x@y>;tag=f1",
        "t: <sip:a@b>",
        "m: <sip:x@h.example.com>",
        "l: 0",
        "CSeq: 1 OPTIONS",
    ]);
    assert_eq!(r.call_id(), Some("compact-1"));
    assert_eq!(r.top_via().unwrap().host, "h.example.com");
    assert_eq!(r.from().unwrap().tag.as_deref(), Some("f1"));
    assert_eq!(r.contacts().unwrap().len(), 1);
    assert!(validate(&r).is_ok());
}

#[test]
fn every_via_is_read_in_order_including_several_on_one_line() {
    let r = invite_with(
        "Via:",
        Some(
            "Via: SIP/2.0/UDP [::1]:5070;branch=z9hG4bKa, SIP/2.0/TCP p2.example.com;branch=z9hG4bKb\r\nVia: SIP/2.0/UDP p3:5080;branch=z9hG4bKc;received=10.0.0.1",
        ),
    );
    let vias = r.vias().unwrap();
    let hops: Vec<(&str, Option<u16>)> = vias.iter().map(|v| (v.host.as_str(), v.port)).collect();
    assert_eq!(
        hops,
        [
            ("[::1]", Some(5070)),
            ("p2.example.com", None),
            ("p3", Some(5080))
        ]
    );
    assert_eq!(vias[1].transport, "TCP");
    assert_eq!(vias[2].received.as_deref(), Some("10.0.0.1"));
    assert_eq!(r.top_via().unwrap().host_ip(), Some("::1".parse().unwrap()));
}

#[test]
fn a_folded_header_line_is_joined() {
    let folded = req(&[
        "OPTIONS sip:a@b SIP/2.0",
        "Via: SIP/2.0/UDP h;branch=z9hG4bKf",
        "From: <sip:x@y>",
        " ;tag=folded",
        "To: <sip:a@b>",
        "Call-ID: f",
        "CSeq: 2 OPTIONS",
    ]);
    assert_eq!(folded.from().unwrap().tag.as_deref(), Some("folded"));
    assert!(validate(&folded).is_ok());
}

#[test]
fn identities_contacts_expiry_and_credentials() {
    let r = req(&[
        "REGISTER sip:example.com SIP/2.0",
        "Via: SIP/2.0/UDP 192.0.2.4;branch=z9hG4bKr",
        "From: <sip:1001@example.com>;tag=r1",
        "To: <sip:1001@example.com>",
        "Call-ID: reg-1",
        "CSeq: 7 REGISTER",
        "P-Asserted-Identity: \"Desk\" <sip:+4930123@example.com>, <tel:+4930123>",
        "Contact: <sip:1001@192.0.2.4:5060>;expires=60;q=0.7, <sip:1001@10.0.0.4>",
        "Contact: *",
        "Expires: 3600",
        "Authorization: Digest username=\"1001\", realm=\"example.com\"",
    ]);
    assert_eq!(
        r.p_asserted_identity().unwrap().user.as_deref(),
        Some("+4930123")
    );
    assert_eq!(
        r.contacts().unwrap(),
        vec![
            ContactEntry {
                uri: "sip:1001@192.0.2.4:5060".into(),
                expires: Some("60".into()),
                q: Some("0.7".into()),
            },
            ContactEntry {
                uri: "sip:1001@10.0.0.4".into(),
                expires: None,
                q: None,
            },
            ContactEntry {
                uri: "*".into(),
                expires: None,
                q: None,
            },
        ]
    );
    assert!(r.contacts().unwrap()[2].is_star());
    assert_eq!(r.expires(), Some(Some(3600)));
    assert!(
        r.authorization()
            .unwrap()
            .starts_with("Digest username=\"1001\"")
    );
}

#[test]
fn an_unknown_method_is_parsed_not_dropped() {
    let r = req(&[
        "NEWMETHOD sip:a@b SIP/2.0",
        "Via: SIP/2.0/UDP h;branch=z9hG4bKn",
        "From: <sip:x@y>;tag=1",
        "To: <sip:a@b>",
        "Call-ID: n",
        "CSeq: 8 NEWMETHOD",
    ]);
    assert_eq!(r.method(), &Method::Other("NEWMETHOD".into()));
    assert_eq!(r.method().index(), Method::KNOWN.len());
    assert!(validate(&r).is_ok());
}

#[test]
fn garbage_and_responses_are_told_apart() {
    for junk in [
        &b""[..],
        b"\x00\x01\x02",
        b"hello world\r\n\r\n",
        b"INVITE\r\n\r\n",
    ] {
        assert!(parse(junk).is_err(), "{junk:?}");
    }
    let resp = b"SIP/2.0 180 Ringing\r\nCall-ID: r\r\nContent-Length: 0\r\n\r\n";
    match parse(resp) {
        Ok(Message::Response(r)) => {
            assert_eq!(r.code(), 180);
            assert_eq!(r.call_id(), Some("r"));
        }
        other => panic!("{other:?}"),
    }
}

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

#[test]
fn stamping_the_source_fills_received_and_rport() {
    // Sent-by is 192.0.2.10 with rport: both are filled.
    let mut r = req(INVITE);
    r.stamp_source(addr("203.0.113.7:40000"));
    let via = r.top_via().unwrap();
    assert_eq!(via.received.as_deref(), Some("203.0.113.7"));
    assert_eq!(via.rport, Some(Some(40000)));
    assert!(r.header("Via").unwrap().contains("rport=40000"));
    // Same host, no rport: nothing to add.
    let mut same = invite_with(
        "Via:",
        Some("Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bKs"),
    );
    same.stamp_source(addr("192.0.2.10:5062"));
    assert_eq!(same.top_via().unwrap().received, None);
    assert_eq!(same.top_via().unwrap().rport, None);
    // A host name always differs from the source address; only the top
    // Via is touched.
    let mut named = invite_with(
        "Via:",
        Some("Via: SIP/2.0/UDP pc.example.com;branch=z9hG4bKn, SIP/2.0/UDP p2;branch=z9hG4bKo"),
    );
    named.stamp_source(addr("[::1]:5099"));
    let vias = named.vias().unwrap();
    assert_eq!(vias[0].received.as_deref(), Some("::1"));
    assert_eq!(vias[1].received, None);
}

fn invalid(replace: &str, with: Option<&str>) -> Option<&'static str> {
    validate(&invite_with(replace, with))
        .err()
        .map(|e| e.reason())
}

#[test]
fn invalid_requests_get_a_reason() {
    assert_eq!(invalid("Call-ID", None), Some("Missing Call-ID Header"));
    assert_eq!(invalid("From", None), Some("Missing From Header"));
    assert_eq!(invalid("To", None), Some("Missing To Header"));
    assert_eq!(invalid("To", Some("To: <sip:a@b")), Some("Bad To Header"));
    assert_eq!(invalid("To", Some("To: nobody")), Some("Bad To Header"));
    assert_eq!(invalid("From", Some("From: <:x>")), Some("Bad From Header"));
    assert_eq!(invalid("CSeq", None), Some("Missing CSeq Header"));
    assert_eq!(invalid("Via", None), Some("Missing Via Header"));
    assert_eq!(
        invalid("Via", Some("Via: nonsense")),
        Some("Bad Via Header")
    );
    for via in [
        "Via: SIP/2.0/UDP host:port;branch=z9hG4bK1",
        "Via: SIP/2.0/UDP host;rport=x;branch=z9hG4bK1",
        "Via: SIP/2.0/UDP [::1;branch=z9hG4bK1",
    ] {
        assert_eq!(invalid("Via", Some(via)), Some("Bad Via Header"), "{via}");
    }
    assert_eq!(
        invalid("CSeq", Some("CSeq: -1 INVITE")),
        Some("Bad CSeq Header")
    );
    assert_eq!(
        invalid("CSeq", Some("CSeq: 99999999999 INVITE")),
        Some("Bad CSeq Header")
    );
    assert_eq!(invalid("CSeq", Some("CSeq: 1")), Some("Bad CSeq Header"));
    assert_eq!(
        invalid("CSeq", Some("CSeq: 1 OPTIONS")),
        Some("CSeq Method Does Not Match Request")
    );
    assert_eq!(
        invalid("Max-Forwards", Some("Max-Forwards: many")),
        Some("Bad Max-Forwards Header")
    );
    assert_eq!(
        invalid("Content-Length", Some("Content-Length: 40")),
        Some("Content-Length Exceeds Body")
    );
    assert_eq!(
        invalid("Content-Length", Some("Content-Length: x")),
        Some("Bad Content-Length Header")
    );
    // Max-Forwards may be missing (RFC 3261 §16.3 step 2).
    assert_eq!(invalid("Max-Forwards", None), None);
    assert_eq!(
        Invalid::CSeqMethod.to_string(),
        "CSeq method does not match the request method"
    );
}

#[test]
fn a_response_copies_the_request_and_adds_a_to_tag() {
    let r = invite_with(
        "Via:",
        Some(
            "Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK1, SIP/2.0/UDP p2;branch=z9hG4bK2\r\nVia: SIP/2.0/TCP p3;branch=z9hG4bK3",
        ),
    );
    let moved = response(&r, 302, "Moved Temporarily")
        .contact("sip:+4930123@trunk.example.com", None)
        .contact("sip:1001@192.0.2.4", Some(0.5))
        .header("X-Dialect-Version", "abc123")
        .finish();
    assert_eq!(moved.code, 302);
    let text = moved.text();
    let tag = format!(";tag={:016x}", crate::sip::response::to_tag(&r));
    let expected = [
        "SIP/2.0 302 Moved Temporarily",
        "Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK1, SIP/2.0/UDP p2;branch=z9hG4bK2",
        "Via: SIP/2.0/TCP p3;branch=z9hG4bK3",
        "From: \"Alice\" <sip:+15125550100@example.com>;tag=1928301774",
        &format!("To: Bob <sip:5551234@example.com>{tag}"),
        "Call-ID: a84b4c76e66710@pc33",
        "CSeq: 314159 INVITE",
        "Contact: <sip:+4930123@trunk.example.com>",
        "Contact: <sip:1001@192.0.2.4>;q=0.5",
        "X-Dialect-Version: abc123",
        "Content-Length: 0",
        "",
        "",
    ]
    .join("\r\n");
    assert_eq!(text, expected);
    // The answer parses back, with the same tag on a second build.
    match parse(&moved.bytes) {
        Ok(Message::Response(p)) => assert_eq!(p.code(), 302),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        response(&r, 302, "Moved Temporarily")
            .finish()
            .text()
            .matches(&tag)
            .count(),
        1
    );
}

#[test]
fn a_100_has_no_to_tag_and_an_existing_tag_is_kept() {
    let r = req(INVITE);
    let trying = response(&r, 100, "Trying").finish().text();
    assert!(
        trying.contains("\r\nTo: Bob <sip:5551234@example.com>\r\n"),
        "{trying}"
    );
    let tagged = invite_with("To:", Some("To: <sip:5551234@example.com>;tag=mine"));
    let text = response(&tagged, 486, "Busy Here").finish().text();
    assert!(
        text.contains("To: <sip:5551234@example.com>;tag=mine\r\n"),
        "{text}"
    );
}

#[test]
fn extra_headers_and_bodies_cannot_break_the_framing() {
    let r = req(INVITE);
    let answer = response(&r, 503, "Service\r\nX-Evil: 1 Unavailable")
        .header("Retry-After", "5\r\nX-Evil: 2")
        .body("text/plain", b"busy");
    let text = answer.text();
    assert!(!text.contains("\r\nX-Evil"), "{text}");
    assert!(text.starts_with("SIP/2.0 503 Service  X-Evil: 1 Unavailable\r\n"));
    assert!(text.ends_with("Content-Type: text/plain\r\nContent-Length: 4\r\n\r\nbusy"));
    let allow = response(&r, 200, "OK")
        .header("Allow", "INVITE, ACK, CANCEL, OPTIONS, REGISTER")
        .header(
            "WWW-Authenticate",
            "Digest realm=\"x\", nonce=\"n\", algorithm=SHA-256",
        )
        .finish();
    match parse(&allow.bytes) {
        Ok(Message::Response(p)) => assert_eq!(p.code(), 200),
        other => panic!("{other:?}"),
    }
}

#[test]
fn without_content_length_the_body_runs_to_the_end_of_the_datagram() {
    let text = "MESSAGE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKm\r\n\
                From: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: m\r\nCSeq: 1 MESSAGE\r\n\r\nhello";
    let Ok(Message::Request(r)) = parse(text.as_bytes()) else {
        panic!("a request");
    };
    assert_eq!(r.body(), b"hello");
    let with = text.replace("CSeq: 1 MESSAGE", "CSeq: 1 MESSAGE\r\nContent-Length: 2");
    let Ok(Message::Request(r)) = parse(with.as_bytes()) else {
        panic!("a request");
    };
    assert_eq!(r.body(), b"he", "bytes beyond Content-Length are dropped");
}

#[test]
fn escapes_in_a_user_part_are_decoded() {
    use super::message::unescape;
    assert_eq!(unescape("%2B18005550100"), "+18005550100");
    assert_eq!(unescape("a%20b"), "a b");
    assert_eq!(unescape("100%"), "100%", "a lone % stays");
    assert_eq!(unescape("%zz1"), "%zz1");
    assert_eq!(unescape("%e2%82%ac"), "€");
}

#[test]
fn contact_parameters_are_kept_as_written_for_the_registrar_to_judge() {
    let r = req(&[
        "REGISTER sip:example.com SIP/2.0",
        "Via: SIP/2.0/UDP 192.0.2.4;branch=z9hG4bKr2",
        "From: <sip:1001@example.com>;tag=r2",
        "To: <sip:1001@example.com>",
        "Call-ID: reg-2",
        "CSeq: 1 REGISTER",
        "Contact: <sip:1001@192.0.2.4>;expires=soon;q=high",
    ]);
    let contacts = r.contacts().unwrap();
    assert_eq!(contacts[0].expires.as_deref(), Some("soon"));
    assert_eq!(contacts[0].q.as_deref(), Some("high"));
}

#[test]
fn every_known_method_parses_back_from_its_name() {
    for method in Method::KNOWN {
        assert_eq!(Method::parse(method.as_str()), method);
    }
    assert_eq!(Method::parse("invite"), Method::Other("invite".into()));
}

#[test]
fn any_via_the_reader_takes_is_stamped_and_keeps_its_other_parameters() {
    let mut r = invite_with(
        "Via:",
        Some(
            "Via: SIP / 2.0 / UDP pc.example.com ;rport; branch=z9hG4bKw ;received=old, SIP/2.0/UDP p2;branch=z9hG4bKo",
        ),
    );
    r.stamp_source(addr("203.0.113.7:40000"));
    let line = r.header("Via").unwrap();
    assert!(
        line.ends_with(
            ";branch=z9hG4bKw;rport=40000;received=203.0.113.7, SIP/2.0/UDP p2;branch=z9hG4bKo"
        ),
        "{line}"
    );
    let via = r.top_via().unwrap();
    assert_eq!(via.rport, Some(Some(40000)));
    assert_eq!(via.received.as_deref(), Some("203.0.113.7"));
    assert_eq!(via.branch.as_deref(), Some("z9hG4bKw"));
}
