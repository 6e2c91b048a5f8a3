//! The SIP transports over real loopback sockets: UDP and TCP listeners
//! answering through a handler, retransmissions, ACKs and Timer G on
//! tokio's paused clock, TCP framing, IPv6, bad input, Via `received` and
//! `rport`, and the 503 of a full transaction table.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use dialect::sip::counters::{Counters, Dropped};
use dialect::sip::ingress::{Incoming, Limits};
use dialect::sip::message::Method;
use dialect::sip::response::{Response, response};
use dialect::sip::transport::{serve_tcp, serve_udp};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::task::JoinHandle;
use tokio::time::{Instant, timeout};
use tokio_util::sync::CancellationToken;

/// A running server: its address, what its handler saw, its counters.
struct Server {
    addr: SocketAddr,
    calls: Arc<AtomicUsize>,
    counters: Arc<Counters>,
    shutdown: CancellationToken,
    task: JoinHandle<std::io::Result<()>>,
}

impl Server {
    async fn stop(self) {
        self.shutdown.cancel();
        self.task
            .await
            .expect("the server task ends")
            .expect("cleanly");
    }
}

/// Answers INVITE with a 302, OPTIONS with 200 and Allow, a `hold` user
/// with nothing (the answer would come later), anything else with 501.
fn handler(calls: Arc<AtomicUsize>) -> impl Fn(&Incoming<'_>) -> Option<Response> + Send + Sync {
    move |incoming| {
        let req = incoming.request;
        if *req.method() == Method::Ack {
            return None;
        }
        calls.fetch_add(1, Ordering::SeqCst);
        if req.uri_user().as_deref() == Some("hold") {
            return None;
        }
        Some(match req.method() {
            Method::Invite => response(req, 302, "Moved Temporarily")
                .contact("sip:+4930123@trunk.example.com", None)
                .header("X-Dialect-Version", "test")
                .finish(),
            Method::Options => response(req, 200, "OK")
                .header("Allow", "INVITE, ACK, OPTIONS")
                .finish(),
            Method::Cancel if incoming.cancels_known_invite => response(req, 200, "OK").finish(),
            Method::Cancel => response(req, 481, "Call/Transaction Does Not Exist").finish(),
            _ => response(req, 501, "Not Implemented").finish(),
        })
    }
}

fn limits() -> Limits {
    Limits::default()
}

async fn udp_server(bind: &str, limits: Limits) -> Server {
    let socket = UdpSocket::bind(bind).await.expect("bind UDP");
    let addr = socket.local_addr().unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let counters = Arc::new(Counters::default());
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(serve_udp(
        socket,
        Arc::new(handler(calls.clone())),
        counters.clone(),
        limits,
        shutdown.clone(),
    ));
    Server {
        addr,
        calls,
        counters,
        shutdown,
        task,
    }
}

async fn tcp_server(bind: &str) -> Server {
    let listener = TcpListener::bind(bind).await.expect("bind TCP");
    let addr = listener.local_addr().unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let counters = Arc::new(Counters::default());
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(serve_tcp(
        listener,
        Arc::new(handler(calls.clone())),
        counters.clone(),
        limits(),
        shutdown.clone(),
    ));
    Server {
        addr,
        calls,
        counters,
        shutdown,
        task,
    }
}

/// A request from `via` (its sent-by and parameters), as text.
fn request(method: &str, user: &str, via: &str, branch: &str) -> String {
    format!(
        "{method} sip:{user}@dialect.test SIP/2.0\r\n\
         Via: SIP/2.0/UDP {via};branch={branch}\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:alice@client.test>;tag=a1\r\n\
         To: <sip:{user}@dialect.test>\r\n\
         Call-ID: {branch}@client\r\n\
         CSeq: 1 {method}\r\n\
         Content-Length: 0\r\n\r\n"
    )
}

/// A client socket and a request whose Via names it, with `rport`.
async fn client(bind: &str) -> (UdpSocket, String) {
    let socket = UdpSocket::bind(bind).await.unwrap();
    let via = format!("{};rport", socket.local_addr().unwrap());
    (socket, via)
}

async fn recv(socket: &UdpSocket) -> String {
    try_recv(socket, Duration::from_secs(5))
        .await
        .expect("an answer within 5 s")
}

async fn try_recv(socket: &UdpSocket, wait: Duration) -> Option<String> {
    let mut buf = vec![0u8; 65536];
    let (n, _) = timeout(wait, socket.recv_from(&mut buf))
        .await
        .ok()?
        .unwrap();
    Some(String::from_utf8_lossy(&buf[..n]).into_owned())
}

async fn nothing_within(socket: &UdpSocket, wait: Duration) {
    let mut buf = vec![0u8; 65536];
    let got = timeout(wait, socket.recv_from(&mut buf)).await;
    assert!(
        got.is_err(),
        "unexpected datagram: {:?}",
        got.map(|r| r.map(|(n, _)| String::from_utf8_lossy(&buf[..n]).into_owned()))
    );
}

#[tokio::test]
async fn udp_request_gets_its_answer() {
    let server = udp_server("127.0.0.1:0", limits()).await;
    let (socket, via) = client("127.0.0.1:0").await;
    let req = request("OPTIONS", "100", &via, "z9hG4bKo1");
    socket.send_to(req.as_bytes(), server.addr).await.unwrap();
    let answer = recv(&socket).await;
    assert!(answer.starts_with("SIP/2.0 200 OK\r\n"), "{answer}");
    assert!(answer.contains("\r\nAllow: INVITE, ACK, OPTIONS\r\n"));
    assert!(answer.contains("\r\nCall-ID: z9hG4bKo1@client\r\n"));
    assert!(answer.contains("\r\nCSeq: 1 OPTIONS\r\n"));
    let seen = server.counters.snapshot();
    assert_eq!((seen.received("OPTIONS"), seen.responses(200)), (1, 1));
    server.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_retransmitted_invite_is_answered_once_and_the_ack_stops_timer_g() {
    let server = udp_server("127.0.0.1:0", limits()).await;
    let (socket, via) = client("127.0.0.1:0").await;
    let invite = request("INVITE", "100", &via, "z9hG4bKi1");
    let start = Instant::now();
    socket
        .send_to(invite.as_bytes(), server.addr)
        .await
        .unwrap();
    let first = recv(&socket).await;
    assert!(
        first.starts_with("SIP/2.0 302 Moved Temporarily\r\n"),
        "{first}"
    );
    assert!(first.contains("\r\nContact: <sip:+4930123@trunk.example.com>\r\n"));
    // The INVITE again: the same answer, the handler not asked again.
    socket
        .send_to(invite.as_bytes(), server.addr)
        .await
        .unwrap();
    assert_eq!(recv(&socket).await, first);
    assert_eq!(server.calls.load(Ordering::SeqCst), 1);
    // Timer G on the paused clock: 0.5 s, then 1 s later.
    assert_eq!(recv(&socket).await, first);
    assert_eq!(start.elapsed(), Duration::from_millis(500));
    assert_eq!(recv(&socket).await, first);
    assert_eq!(start.elapsed(), Duration::from_millis(1500));
    // The ACK is absorbed (the handler never sees it) and G stops.
    let ack = request("ACK", "100", &via, "z9hG4bKi1");
    socket.send_to(ack.as_bytes(), server.addr).await.unwrap();
    nothing_within(&socket, Duration::from_secs(40)).await;
    let seen = server.counters.snapshot();
    assert_eq!(seen.received("INVITE"), 2);
    assert_eq!(seen.received("ACK"), 1);
    assert_eq!(seen.responses(302), 1, "answered once");
    assert_eq!(seen.resent, 3, "one for the retransmission, two by Timer G");
    assert_eq!(seen.timed_out, 0);
    assert_eq!(seen.drops(Dropped::StrayAck), 0);
    server.stop().await;
}

#[tokio::test(start_paused = true)]
async fn without_an_ack_timer_h_ends_the_transaction() {
    let server = udp_server("127.0.0.1:0", limits()).await;
    let (socket, via) = client("127.0.0.1:0").await;
    let start = Instant::now();
    let invite = request("INVITE", "100", &via, "z9hG4bKh1");
    socket
        .send_to(invite.as_bytes(), server.addr)
        .await
        .unwrap();
    let mut copies = 0;
    while try_recv(&socket, Duration::from_secs(10)).await.is_some() {
        copies += 1;
    }
    // The first answer and ten Timer G copies (0.5 s to 31.5 s), then H at 32 s.
    assert_eq!(copies, 11);
    assert!(start.elapsed() >= Duration::from_secs(32));
    let seen = server.counters.snapshot();
    assert_eq!((seen.resent, seen.timed_out), (10, 1));
    server.stop().await;
}

#[tokio::test]
async fn a_garbage_datagram_is_counted_and_the_next_one_answered() {
    let server = udp_server("127.0.0.1:0", limits()).await;
    let (socket, via) = client("127.0.0.1:0").await;
    socket
        .send_to(b"\x00\xffnot sip at all", server.addr)
        .await
        .unwrap();
    socket
        .send_to(b"SIP/2.0 200 OK\r\n\r\n", server.addr)
        .await
        .unwrap();
    let req = request("OPTIONS", "100", &via, "z9hG4bKg1");
    socket.send_to(req.as_bytes(), server.addr).await.unwrap();
    assert!(recv(&socket).await.starts_with("SIP/2.0 200 OK"));
    let seen = server.counters.snapshot();
    assert_eq!(seen.drops(Dropped::Unparseable), 1);
    assert_eq!(seen.drops(Dropped::Response), 1);
    server.stop().await;
}

#[tokio::test]
async fn an_invalid_request_gets_400_and_an_unknown_method_501() {
    let server = udp_server("127.0.0.1:0", limits()).await;
    let (socket, via) = client("127.0.0.1:0").await;
    let no_call_id =
        request("INVITE", "100", &via, "z9hG4bKb1").replace("Call-ID: z9hG4bKb1@client\r\n", "");
    socket
        .send_to(no_call_id.as_bytes(), server.addr)
        .await
        .unwrap();
    assert!(
        recv(&socket)
            .await
            .starts_with("SIP/2.0 400 Missing Call-ID Header\r\n")
    );
    let unknown = request("FROB", "100", &via, "z9hG4bKb2");
    socket
        .send_to(unknown.as_bytes(), server.addr)
        .await
        .unwrap();
    assert!(
        recv(&socket)
            .await
            .starts_with("SIP/2.0 501 Not Implemented\r\n")
    );
    assert_eq!(
        server.calls.load(Ordering::SeqCst),
        1,
        "the 400 never reaches the handler"
    );
    assert_eq!(server.counters.snapshot().received("other"), 1);
    server.stop().await;
}

#[tokio::test]
async fn via_received_and_rport_are_filled_and_the_answer_goes_to_rport() {
    let server = udp_server("127.0.0.1:0", limits()).await;
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let port = socket.local_addr().unwrap().port();
    // Sent-by names another host and asks for rport.
    let req = request("OPTIONS", "100", "192.0.2.99:5999;rport", "z9hG4bKv1");
    socket.send_to(req.as_bytes(), server.addr).await.unwrap();
    let answer = recv(&socket).await;
    let expected = format!(
        "\r\nVia: SIP/2.0/UDP 192.0.2.99:5999;branch=z9hG4bKv1;rport={port};received=127.0.0.1\r\n"
    );
    assert!(answer.contains(&expected), "{answer}");
    server.stop().await;
}

#[tokio::test]
async fn without_rport_the_answer_goes_to_the_sent_by_port() {
    let server = udp_server("127.0.0.1:0", limits()).await;
    let sender = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let listener = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let via = listener.local_addr().unwrap().to_string();
    let req = request("OPTIONS", "100", &via, "z9hG4bKp1");
    sender.send_to(req.as_bytes(), server.addr).await.unwrap();
    let answer = recv(&listener).await;
    assert!(
        answer.contains(&format!("\r\nVia: SIP/2.0/UDP {via};branch=z9hG4bKp1\r\n")),
        "{answer}"
    );
    nothing_within(&sender, Duration::from_millis(50)).await;
    server.stop().await;
}

#[tokio::test]
async fn ipv6_loopback_over_udp_and_tcp() {
    let server = udp_server("[::1]:0", limits()).await;
    let (socket, via) = client("[::1]:0").await;
    let req = request("OPTIONS", "100", &via, "z9hG4bK6a");
    socket.send_to(req.as_bytes(), server.addr).await.unwrap();
    let answer = recv(&socket).await;
    assert!(answer.starts_with("SIP/2.0 200 OK"), "{answer}");
    let port = socket.local_addr().unwrap().port();
    let stamped =
        format!("Via: SIP/2.0/UDP [::1]:{port};branch=z9hG4bK6a;rport={port};received=::1\r\n");
    assert!(answer.contains(&stamped), "{answer}");
    server.stop().await;
    let server = tcp_server("[::1]:0").await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(request("OPTIONS", "100", "[::1]:5060", "z9hG4bK6b").as_bytes())
        .await
        .unwrap();
    assert!(read_answers(&mut stream, 1).await[0].starts_with("SIP/2.0 200 OK"));
    server.stop().await;
}

/// Reads from a stream until `n` answers have arrived.
async fn read_answers(stream: &mut TcpStream, n: usize) -> Vec<String> {
    let mut text = String::new();
    let mut buf = vec![0u8; 65536];
    while text.matches("SIP/2.0 ").count() < n || !text.ends_with("\r\n\r\n") {
        let got = timeout(Duration::from_secs(5), stream.read(&mut buf))
            .await
            .expect("answers within 5 s")
            .unwrap();
        assert!(got > 0, "connection closed after {text:?}");
        text.push_str(&String::from_utf8_lossy(&buf[..got]));
    }
    text.split_inclusive("Content-Length: 0\r\n\r\n")
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn tcp_two_messages_in_one_write_and_one_in_two() {
    let server = tcp_server("127.0.0.1:0").await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let both = format!(
        "{}{}",
        request("OPTIONS", "100", "127.0.0.1:5060", "z9hG4bKt1"),
        request("INVITE", "100", "127.0.0.1:5060", "z9hG4bKt2")
    );
    stream.write_all(both.as_bytes()).await.unwrap();
    let answers = read_answers(&mut stream, 2).await;
    assert!(answers[0].starts_with("SIP/2.0 200 OK") && answers[0].contains("CSeq: 1 OPTIONS"));
    assert!(answers[1].starts_with("SIP/2.0 302") && answers[1].contains("CSeq: 1 INVITE"));
    let split = request("OPTIONS", "100", "127.0.0.1:5060", "z9hG4bKt3");
    let (a, b) = split.split_at(split.len() / 2);
    stream.write_all(a.as_bytes()).await.unwrap();
    stream.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    stream.write_all(b.as_bytes()).await.unwrap();
    let answers = read_answers(&mut stream, 1).await;
    assert!(
        answers[0].contains("Call-ID: z9hG4bKt3@client"),
        "{answers:?}"
    );
    assert_eq!(server.calls.load(Ordering::SeqCst), 3);
    server.stop().await;
}

#[tokio::test]
async fn a_bad_tcp_frame_closes_only_its_connection() {
    let server = tcp_server("127.0.0.1:0").await;
    let mut bad = TcpStream::connect(server.addr).await.unwrap();
    let mut good = TcpStream::connect(server.addr).await.unwrap();
    // A peer that sends half a message and stalls holds nobody up.
    let mut stalled = TcpStream::connect(server.addr).await.unwrap();
    stalled
        .write_all(b"INVITE sip:1@x SIP/2.0\r\nVia: SIP/2.0/TCP")
        .await
        .unwrap();
    bad.write_all(b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: lots\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 64];
    let closed = timeout(Duration::from_secs(5), bad.read(&mut buf))
        .await
        .expect("closed");
    assert!(matches!(closed, Ok(0) | Err(_)), "{closed:?}");
    good.write_all(request("OPTIONS", "100", "127.0.0.1:5060", "z9hG4bKgd").as_bytes())
        .await
        .unwrap();
    assert!(read_answers(&mut good, 1).await[0].starts_with("SIP/2.0 200 OK"));
    assert_eq!(server.counters.snapshot().drops(Dropped::BadFrame), 1);
    server.stop().await;
}

#[tokio::test]
async fn a_full_transaction_table_answers_503_with_retry_after() {
    let server = udp_server(
        "127.0.0.1:0",
        Limits {
            max_pending: 1,
            retry_after: 7,
            ..limits()
        },
    )
    .await;
    let (socket, via) = client("127.0.0.1:0").await;
    // The handler keeps the first INVITE unanswered: it holds the one slot.
    let held = request("INVITE", "hold", &via, "z9hG4bKf1");
    socket.send_to(held.as_bytes(), server.addr).await.unwrap();
    let next = request("INVITE", "100", &via, "z9hG4bKf2");
    socket.send_to(next.as_bytes(), server.addr).await.unwrap();
    let answer = recv(&socket).await;
    assert!(
        answer.starts_with("SIP/2.0 503 Service Unavailable\r\n"),
        "{answer}"
    );
    assert!(answer.contains("\r\nRetry-After: 7\r\n"));
    assert!(answer.contains("Call-ID: z9hG4bKf2@client"));
    server.stop().await;
}

#[tokio::test]
async fn a_datagram_larger_than_the_limit_is_dropped() {
    let server = udp_server(
        "127.0.0.1:0",
        Limits {
            max_message: 600,
            ..limits()
        },
    )
    .await;
    let (socket, via) = client("127.0.0.1:0").await;
    let big = request("OPTIONS", "100", &via, "z9hG4bKl1").replace(
        "Max-Forwards: 70\r\n",
        &format!("Max-Forwards: 70\r\nX-Pad: {}\r\n", "p".repeat(600)),
    );
    socket.send_to(big.as_bytes(), server.addr).await.unwrap();
    let small = request("OPTIONS", "100", &via, "z9hG4bKl2");
    socket.send_to(small.as_bytes(), server.addr).await.unwrap();
    assert!(recv(&socket).await.contains("z9hG4bKl2"));
    assert_eq!(server.counters.snapshot().drops(Dropped::TooLarge), 1);
    server.stop().await;
}

#[tokio::test]
async fn a_cancel_knows_whether_its_invite_is_held() {
    let server = udp_server("127.0.0.1:0", limits()).await;
    let (socket, via) = client("127.0.0.1:0").await;
    let invite = request("INVITE", "100", &via, "z9hG4bKc1");
    socket
        .send_to(invite.as_bytes(), server.addr)
        .await
        .unwrap();
    assert!(recv(&socket).await.starts_with("SIP/2.0 302"));
    let cancel = request("CANCEL", "100", &via, "z9hG4bKc1");
    socket
        .send_to(cancel.as_bytes(), server.addr)
        .await
        .unwrap();
    let answer = recv(&socket).await;
    assert!(
        answer.starts_with("SIP/2.0 200 OK\r\n") && answer.contains("CSeq: 1 CANCEL"),
        "{answer}"
    );
    let stray = request("CANCEL", "100", &via, "z9hG4bKc2");
    socket.send_to(stray.as_bytes(), server.addr).await.unwrap();
    assert!(recv(&socket).await.starts_with("SIP/2.0 481"));
    server.stop().await;
}
