//! The media engine under load, over loopback: hold music from the one
//! 20 ms ticker to many receivers, and bridged pairs relaying RTP.
//!
//! - `hold N SECS`: N streams loop `prompts/hold-en.wav` to N receiving
//!   sockets for SECS seconds. Reports how far each packet's inter-arrival
//!   time is from 20 ms (p50, p99, max), packets received against the
//!   50 per second per stream expected (the packet-rate drift), the CPU
//!   time of the server's threads (the engine's runtime) as a percentage of
//!   one core, and the ticker's own counters (late ticks, the longest
//!   tick).
//! - `relay N SECS`: N bridged pairs; a phone on each side sends 50
//!   packets a second (the sends spread over the 20 ms period, as
//!   unsynchronised phones would), each payload stamped with its send
//!   time; the phone on the far side reads the stamp. Reports the relay
//!   latency (send to receive, both sides' socket calls and the engine's
//!   receive task included) p50, p99, max, and the server's CPU.
//!
//! The server runs on a 2-worker tokio runtime whose threads are named
//! `media-srv` (their CPU is read from /proc/self/task/*/schedstat); the
//! phones run on a current-thread runtime on another thread, on the same
//! two cores. Arrival times are taken when the receiving task runs, so the
//! phones' own scheduling is in the figures (they are upper bounds).
//!
//! Run: `cargo bench --features bench --bench media -- hold 1000 10`, or
//! `bench/media.sh` for the sweeps recorded in docs/performance.md.

use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dialect::media::engine::{Media, MediaConfig, Source, bridge};
use dialect::media::prompt::Prompt;
use dialect::media::rtp::{self, Header};
use dialect::media::sdp::{Codec, Direction, Negotiated};
use nix::sys::socket::{ControlMessageOwned, MsgFlags, recvmsg, setsockopt, sockopt};
use tokio::net::UdpSocket;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let n = |i: usize, default: usize| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default);
    match args.first().map(String::as_str) {
        Some("relay") => relay(n(1, 500), n(2, 10) as u64),
        Some("hold") | None => hold(n(1, 1000), n(2, 10) as u64),
        Some(other) => {
            eprintln!("unknown mode {other}: use `hold N SECS` or `relay N SECS`");
            std::process::exit(2);
        }
    }
}

fn server() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("media-srv")
        .enable_all()
        .build()
        .expect("a runtime")
}

fn phones() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

fn config() -> MediaConfig {
    MediaConfig {
        ports: 20_000..=39_999,
        ..MediaConfig::default()
    }
}

fn remote(addr: SocketAddr) -> Negotiated {
    Negotiated {
        remote: addr,
        codec: Codec::Pcmu,
        payload_type: 0,
        dtmf: Some(101),
        direction: Direction::SendRecv,
        ptime_ms: 20,
    }
}

/// CPU time of this process's threads named `media-srv`, in nanoseconds.
fn server_cpu_ns() -> u64 {
    let mut total = 0;
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    for task in tasks.flatten() {
        let path = task.path();
        let comm = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
        if !comm.starts_with("media-srv") {
            continue;
        }
        let stat = std::fs::read_to_string(path.join("schedstat")).unwrap_or_default();
        total += stat
            .split_whitespace()
            .next()
            .and_then(|ns| ns.parse::<u64>().ok())
            .unwrap_or(0);
    }
    total
}

fn quantiles(mut values: Vec<f64>) -> (f64, f64, f64) {
    if values.is_empty() {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    values.sort_by(f64::total_cmp);
    let at = |q: f64| values[((values.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.99), *values.last().unwrap())
}

fn hold(n: usize, secs: u64) {
    let server = server();
    let phones = phones();
    let music = Arc::new(
        Prompt::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("prompts/hold-en.wav"))
            .expect("prompts/hold-en.wav"),
    );
    let media = server.block_on(async { Media::start(config()) });
    let sockets: Vec<UdpSocket> = phones.block_on(async {
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            v.push(stamped_socket().await);
        }
        v
    });
    let streams: Vec<_> = server.block_on(async {
        sockets
            .iter()
            .map(|s| {
                let stream = media.open().expect("a stream (raise ulimit -n?)");
                stream.play(Source::Loop {
                    prompt: music.clone(),
                    key: "hold".into(),
                });
                stream.connect(&remote(s.local_addr().unwrap()));
                stream
            })
            .collect()
    });
    // Let every stream start, then measure for `secs`.
    std::thread::sleep(Duration::from_millis(200));
    let before = media.counters();
    let cpu_before = server_cpu_ns();
    let began = Instant::now();
    let end_at = began + Duration::from_secs(secs);
    let arrivals: Vec<(Instant, Vec<Arrival>)> = phones.block_on(async {
        let end = tokio::time::Instant::from_std(end_at);
        let tasks: Vec<_> = sockets
            .into_iter()
            .map(|socket| {
                tokio::spawn(async move {
                    let mut at = Vec::with_capacity(secs as usize * 50 + 10);
                    let mut buf = [0u8; 512];
                    let mut control = nix::cmsg_space!(nix::sys::time::TimeSpec);
                    // Packets queued in the socket while the phones were
                    // set up would all be read at once, as gaps of 0 ms
                    // and a surplus: drop them, and measure from here.
                    if let Ok(Ok(())) = tokio::time::timeout_at(end, socket.readable()).await {
                        while socket.try_recv_from(&mut buf).is_ok() {}
                    }
                    let drained_at = Instant::now();
                    // No timer per packet (its cost would be in the
                    // figures): packets keep coming every 20 ms, so the
                    // loop ends at the first one after the window, or a
                    // second later if a stream fell silent.
                    let receive = async {
                        while socket.readable().await.is_ok() {
                            match recv_stamped(&socket, &mut buf, &mut control) {
                                Ok(kernel_ns) => {
                                    let read = Instant::now();
                                    if read >= end_at {
                                        break;
                                    }
                                    at.push(Arrival { kernel_ns, read });
                                }
                                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                                Err(e) => panic!("receiving: {e}"),
                            }
                        }
                    };
                    let _ = tokio::time::timeout_at(end + Duration::from_secs(1), receive).await;
                    (drained_at, at)
                })
            })
            .collect();
        let mut all = Vec::new();
        for t in tasks {
            all.push(t.await.unwrap());
        }
        all
    });
    let wall = began.elapsed();
    let cpu = server_cpu_ns() - cpu_before;
    let after = media.counters();
    drop(streams);
    let received: usize = arrivals.iter().map(|(_, a)| a.len()).sum();
    let off = |ms: f64| (ms - 20.0).abs();
    let sent_gaps: Vec<f64> = arrivals
        .iter()
        .flat_map(|(_, a)| a.windows(2))
        .map(|w| off((w[1].kernel_ns - w[0].kernel_ns) as f64 / 1e6))
        .collect();
    let read_gaps: Vec<f64> = arrivals
        .iter()
        .flat_map(|(_, a)| a.windows(2))
        .map(|w| off((w[1].read - w[0].read).as_secs_f64() * 1000.0))
        .collect();
    let (p50, p99, max) = quantiles(sent_gaps);
    let (_, read_p99, _) = quantiles(read_gaps);
    // 50 packets a second for each stream from the moment its phone had
    // drained its socket to the end of the window (the first packet of
    // each stream can fall just before or after its edges).
    let expected: f64 = arrivals
        .iter()
        .map(|(drained_at, _)| end_at.saturating_duration_since(*drained_at).as_secs_f64() * 50.0)
        .sum();
    println!(
        "hold: {n} streams, {secs} s: spacing off 20 ms p50 {p50:.2} ms, p99 {p99:.2} ms, \
         max {max:.2} ms (as the kernel queued them; as the phones' task read them, \
         99 % within {read_p99:.2} ms); received {received} of {expected:.0} expected ({:+.2} %); \
         server CPU {:.1} % of one core; ticks {}, late {}, longest tick {} µs, send errors {}",
        (received as f64 / expected - 1.0) * 100.0,
        cpu as f64 / wall.as_nanos() as f64 * 100.0,
        after.ticks - before.ticks,
        after.late_ticks - before.late_ticks,
        after.max_tick_work_us,
        after.send_errors - before.send_errors,
    );
    media.stop();
}

/// One packet at a holding phone: when the kernel queued it on the
/// phone's socket (on loopback, during the server's send) and when the
/// phone's task read it.
struct Arrival {
    kernel_ns: i64,
    read: Instant,
}

/// A socket whose datagrams carry the kernel's receive time.
async fn stamped_socket() -> UdpSocket {
    let socket = UdpSocket::bind("127.0.0.1:0")
        .await
        .expect("a phone socket");
    setsockopt(&socket, sockopt::ReceiveTimestampns, &true).expect("SO_TIMESTAMPNS");
    socket
}

/// Reads one datagram without waiting and returns its kernel receive time
/// (CLOCK_REALTIME, ns).
#[allow(clippy::ptr_arg)] // nix's `recvmsg` takes the control buffer as `&mut Vec<u8>`
fn recv_stamped(socket: &UdpSocket, buf: &mut [u8], control: &mut Vec<u8>) -> std::io::Result<i64> {
    socket.try_io(tokio::io::Interest::READABLE, || {
        let mut iov = [std::io::IoSliceMut::new(buf)];
        let msg = recvmsg::<()>(
            socket.as_raw_fd(),
            &mut iov,
            Some(control),
            MsgFlags::MSG_DONTWAIT,
        )
        .map_err(std::io::Error::from)?;
        for c in msg.cmsgs().map_err(std::io::Error::from)? {
            if let ControlMessageOwned::ScmTimestampns(ts) = c {
                return Ok(ts.tv_sec() * 1_000_000_000 + ts.tv_nsec());
            }
        }
        Err(std::io::Error::other("a datagram without its timestamp"))
    })
}

/// What a phone's payload starts with, then its send time in ns.
const MAGIC: [u8; 4] = *b"DLCT";

fn relay(pairs: usize, secs: u64) {
    let server = server();
    let phones = phones();
    let media = server.block_on(async { Media::start(config()) });
    let sockets: Vec<Arc<UdpSocket>> = phones.block_on(async {
        let mut v = Vec::with_capacity(2 * pairs);
        for _ in 0..2 * pairs {
            v.push(Arc::new(
                UdpSocket::bind("127.0.0.1:0")
                    .await
                    .expect("a phone socket"),
            ));
        }
        v
    });
    let (streams, bridges): (Vec<_>, Vec<_>) = server.block_on(async {
        let mut streams = Vec::new();
        let mut bridges = Vec::new();
        for pair in sockets.chunks(2) {
            let a = media.open().expect("a stream (raise ulimit -n?)");
            let b = media.open().expect("a stream (raise ulimit -n?)");
            a.connect(&remote(pair[0].local_addr().unwrap()));
            b.connect(&remote(pair[1].local_addr().unwrap()));
            bridges.push(bridge(&a, &b, None).expect("a bridge"));
            streams.push((a, b));
        }
        (streams, bridges)
    });
    // Each phone sends to its own stream's local address.
    let targets: Vec<SocketAddr> = streams
        .iter()
        .flat_map(|(a, b)| [a.local(), b.local()])
        .collect();
    let epoch = Instant::now();
    std::thread::sleep(Duration::from_millis(100));
    let before = media.counters();
    let cpu_before = server_cpu_ns();
    let began = Instant::now();
    let (latencies, sent) = phones.block_on(async {
        let end = tokio::time::Instant::now() + Duration::from_secs(secs);
        let receivers: Vec<_> = sockets
            .iter()
            .map(|socket| {
                let socket = socket.clone();
                tokio::spawn(async move {
                    let mut lat = Vec::with_capacity(secs as usize * 50 + 10);
                    let mut buf = [0u8; 512];
                    while let Ok(Ok((len, _))) =
                        tokio::time::timeout_at(end, socket.recv_from(&mut buf)).await
                    {
                        let Ok(packet) = rtp::parse(&buf[..len]) else {
                            continue;
                        };
                        let p = packet.payload;
                        if p.len() >= 12 && p[..4] == MAGIC {
                            let stamp = u64::from_be_bytes(p[4..12].try_into().unwrap());
                            let now = epoch.elapsed().as_nanos() as u64;
                            lat.push(now.saturating_sub(stamp) as f64 / 1000.0);
                        }
                    }
                    lat
                })
            })
            .collect();
        // One sender: every millisecond, the twentieth of the phones whose
        // turn it is sends one packet.
        let mut tick = tokio::time::interval(Duration::from_millis(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut sent = 0u64;
        let mut sequence = vec![0u16; sockets.len()];
        let mut slot = 0usize;
        let mut payload = [0xFFu8; 160];
        payload[..4].copy_from_slice(&MAGIC);
        let mut buf = [0u8; 256];
        while tokio::time::Instant::now() < end {
            tick.tick().await;
            for (i, socket) in sockets.iter().enumerate() {
                if i % 20 != slot {
                    continue;
                }
                let stamp = epoch.elapsed().as_nanos() as u64;
                payload[4..12].copy_from_slice(&stamp.to_be_bytes());
                let header = Header {
                    payload_type: 0,
                    marker: false,
                    sequence: sequence[i],
                    timestamp: u32::from(sequence[i]).wrapping_mul(160),
                    ssrc: i as u32,
                };
                sequence[i] = sequence[i].wrapping_add(1);
                let len = rtp::write(&header, &payload, &mut buf).unwrap();
                if socket.try_send_to(&buf[..len], targets[i]).is_ok() {
                    sent += 1;
                }
            }
            slot = (slot + 1) % 20;
        }
        let mut all = Vec::new();
        for r in receivers {
            all.extend(r.await.unwrap());
        }
        (all, sent)
    });
    let wall = began.elapsed();
    let cpu = server_cpu_ns() - cpu_before;
    let after = media.counters();
    drop(bridges);
    drop(streams);
    let received = latencies.len();
    let (p50, p99, max) = quantiles(latencies);
    println!(
        "relay: {pairs} pairs, {secs} s: latency p50 {p50:.0} µs, p99 {p99:.0} µs, \
         max {max:.0} µs; {received} of {sent} sent arrived; relayed {}; \
         server CPU {:.1} % of one core",
        after.relayed - before.relayed,
        cpu as f64 / wall.as_nanos() as f64 * 100.0,
    );
    media.stop();
}
