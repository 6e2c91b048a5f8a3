//! RFC 4475-style messages sent as raw datagrams (and a TCP stream) to
//! `dialect serve --mode redirect` on loopback, each with the answer it
//! must get: compact headers, a folded line, `tel:` URIs, IPv6 in Via,
//! several Vias in one header, an unknown method and unknown headers, a
//! huge header, a wrong Content-Length, escaped characters, missing
//! headers, `Max-Forwards: 0`, garbage. Every row of the message-model
//! table in docs/decisions.md is here as a message on the wire, so a
//! change of SIP library cannot quietly bring one back.

mod serve_common;

use std::io::{Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::time::Duration;

use serve_common::{Server, counted};

/// Sends `message` (with `\n` line ends turned into CRLF) from a fresh
/// socket; the first line of the answer, or `None` if none came in 1 s.
fn ask(server: &Server, message: &str) -> Option<String> {
    answer(server, message).map(|a| a.lines().next().unwrap_or("").to_string())
}

/// The whole answer to `message`.
fn answer(server: &Server, message: &str) -> Option<String> {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("a socket");
    socket
        .set_read_timeout(Some(Duration::from_secs(1)))
        .expect("a timeout");
    let port = socket.local_addr().expect("its address").port();
    let message = message
        .replace("PORT", &port.to_string())
        .replace('\n', "\r\n");
    socket
        .send_to(message.as_bytes(), ("127.0.0.1", server.port))
        .expect("sent");
    let mut buf = vec![0u8; 65_536];
    let n = socket.recv(&mut buf).ok()?;
    Some(String::from_utf8_lossy(&buf[..n]).into_owned())
}

fn invite(uri: &str, extra: &str) -> String {
    format!(
        "INVITE {uri} SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:PORT;rport;branch=z9hG4bK-{tag}
Max-Forwards: 70
From: <sip:+15125550123@example.com>;tag=a1
To: <{uri}>
Call-ID: {tag}@torture
CSeq: 1 INVITE
{extra}Content-Length: 0

",
        tag = uri.len() * 7919 + extra.len()
    )
}

#[test]
fn rfc4475_style_messages_get_the_answers_they_should() {
    let server = Server::start();
    let plain = invite("sip:+18005550100@dialect.test", "");
    assert_eq!(
        ask(&server, &plain).as_deref(),
        Some("SIP/2.0 302 Moved Temporarily")
    );

    // Compact headers: v, i, f, t, m, l.
    let compact = "INVITE sip:+18005550100@dialect.test SIP/2.0
v: SIP/2.0/UDP 127.0.0.1:PORT;rport;branch=z9hG4bK-compact
Max-Forwards: 70
f: <sip:+15125550123@example.com>;tag=c1
t: <sip:+18005550100@dialect.test>
i: compact@torture
CSeq: 1 INVITE
m: <sip:caller@127.0.0.1:PORT>
l: 0

";
    let a = answer(&server, compact).expect("an answer");
    assert!(a.starts_with("SIP/2.0 302"), "{a}");
    assert!(a.contains("compact@torture"), "the Call-ID is read: {a}");

    // A folded header line (its continuation starts with a space).
    let folded = invite(
        "sip:+18005550100@dialect.test",
        "Subject: a subject\n  folded onto a second line\n",
    );
    assert_eq!(
        ask(&server, &folded).as_deref(),
        Some("SIP/2.0 302 Moved Temporarily")
    );

    // A tel: URI, decided by its number.
    let tel = invite("tel:+18005550100", "");
    let a = answer(&server, &tel).expect("an answer");
    assert!(a.starts_with("SIP/2.0 302"), "{a}");
    assert!(a.contains("<sip:+15125550100@trunk.test>"), "{a}");

    // IPv6 in Via: the answer still comes back (to the source, rport).
    let v6 = plain.replace(
        "Via: SIP/2.0/UDP 127.0.0.1:PORT;rport;",
        "Via: SIP/2.0/UDP [::1]:5062;rport;",
    );
    let a = answer(&server, &v6).expect("an answer");
    assert!(a.starts_with("SIP/2.0 302"), "{a}");
    assert!(a.contains("received=127.0.0.1"), "received is added: {a}");

    // Two Vias in one header line: both come back, in order.
    let two = plain.replace(
        "Via: SIP/2.0/UDP 127.0.0.1:PORT;rport;branch=z9hG4bK-",
        "Via: SIP/2.0/UDP 127.0.0.1:PORT;rport;branch=z9hG4bK-two, SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bK-",
    );
    let a = answer(&server, &two).expect("an answer");
    assert!(a.starts_with("SIP/2.0 302"), "{a}");
    assert!(a.contains("10.0.0.9:5060"), "the second Via is kept: {a}");

    // Unknown headers are ignored; an unknown method gets 501.
    let unknown_header = invite("sip:+18005550100@dialect.test", "X-Strange: ~!@#$%^&*()\n");
    assert_eq!(
        ask(&server, &unknown_header).as_deref(),
        Some("SIP/2.0 302 Moved Temporarily")
    );
    let unknown_method = plain
        .replacen("INVITE sip", "NEWMETHOD sip", 1)
        .replace("CSeq: 1 INVITE", "CSeq: 1 NEWMETHOD");
    assert_eq!(
        ask(&server, &unknown_method).as_deref(),
        Some("SIP/2.0 501 Not Implemented")
    );

    // A huge header (8 kB) is still one datagram and still answered.
    let huge = invite(
        "sip:+18005550100@dialect.test",
        &format!("Subject: {}\n", "x".repeat(8_000)),
    );
    assert_eq!(
        ask(&server, &huge).as_deref(),
        Some("SIP/2.0 302 Moved Temporarily")
    );

    // A Content-Length larger than the body: 400.
    let long = plain.replace("Content-Length: 0", "Content-Length: 500");
    let a = ask(&server, &long).expect("an answer");
    assert!(a.starts_with("SIP/2.0 400"), "{a}");

    // Missing Call-ID, and a CSeq whose method is not the request's: 400.
    let no_call_id = plain.replace("Call-ID: ", "X-Was-Call-ID: ");
    assert!(
        ask(&server, &no_call_id)
            .expect("an answer")
            .starts_with("SIP/2.0 400")
    );
    let bad_cseq = plain.replace("CSeq: 1 INVITE", "CSeq: 1 BYE");
    assert!(
        ask(&server, &bad_cseq)
            .expect("an answer")
            .starts_with("SIP/2.0 400")
    );

    // Escaped characters in the user part: `%2B` is `+`.
    let escaped = invite("sip:%2B18005550100@dialect.test", "");
    assert_eq!(
        ask(&server, &escaped).as_deref(),
        Some("SIP/2.0 302 Moved Temporarily")
    );

    // Max-Forwards: 0 is 483; OPTIONS is 200 with Allow; BYE outside a
    // dialog is 481.
    let hops = plain.replace("Max-Forwards: 70", "Max-Forwards: 0");
    assert_eq!(
        ask(&server, &hops).as_deref(),
        Some("SIP/2.0 483 Too Many Hops")
    );
    let options = plain
        .replacen("INVITE sip", "OPTIONS sip", 1)
        .replace("CSeq: 1 INVITE", "CSeq: 1 OPTIONS");
    let a = answer(&server, &options).expect("an answer");
    assert!(
        a.starts_with("SIP/2.0 200 OK") && a.contains("Allow: INVITE"),
        "{a}"
    );
    let bye = plain
        .replacen("INVITE sip", "BYE sip", 1)
        .replace("CSeq: 1 INVITE", "CSeq: 2 BYE");
    assert_eq!(
        ask(&server, &bye).as_deref(),
        Some("SIP/2.0 481 Call/Transaction Does Not Exist")
    );

    // Garbage gets no answer, is counted, and the next message is served.
    assert_eq!(ask(&server, "\u{1}\u{2} not SIP at all\n\n"), None);
    let again = invite("sip:+18005550131@dialect.test", "");
    assert_eq!(ask(&server, &again).as_deref(), Some("SIP/2.0 603 Decline"));

    let out = server.stop();
    assert!(out.contains("dropped unparseable=1"), "{out}");
    assert_eq!(counted(&out, "answered", "400"), 3, "{out}");
}

#[test]
fn a_tcp_stream_is_cut_by_content_length() {
    let server = Server::start();
    let sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";
    let with_body = |tag: &str| {
        format!(
            "INVITE sip:+18005550100@dialect.test SIP/2.0\r\n\
             Via: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bK-{tag}\r\n\
             Max-Forwards: 70\r\n\
             From: <sip:+15125550123@example.com>;tag={tag}\r\n\
             To: <sip:+18005550100@dialect.test>\r\n\
             Call-ID: {tag}@tcp\r\n\
             CSeq: 1 INVITE\r\n\
             Content-Type: application/sdp\r\n\
             Content-Length: {}\r\n\r\n{sdp}",
            sdp.len()
        )
    };
    let mut stream = TcpStream::connect(("127.0.0.1", server.port)).expect("connects");
    stream
        .set_read_timeout(Some(Duration::from_secs(2)))
        .expect("a timeout");
    // Two messages in one write, the second right after the first's body.
    let both = with_body("first") + &with_body("second");
    stream.write_all(both.as_bytes()).expect("written");
    let mut got = String::new();
    let mut buf = [0u8; 4096];
    while got.matches("SIP/2.0 302").count() < 2 {
        let n = stream.read(&mut buf).expect("answers");
        assert!(n > 0, "closed early: {got}");
        got.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    assert!(
        got.contains("first@tcp") && got.contains("second@tcp"),
        "{got}"
    );
    let out = server.stop();
    assert_eq!(counted(&out, "answered", "302"), 2, "{out}");
}
