//! RTP ports from a configured range: even ports only (RTP's convention,
//! RFC 3550 §11; the RTCP port above each is not opened), handed out round
//! robin so that a port just freed is the last to be used again (a late
//! packet of the call before lands on a closed port, not in a new call).
//!
//! A port is in use while its socket is open: the operating system's bind
//! says so, here or in another process, and the range's cursor moves on.
//!
//! A socket a stream no longer needs is kept open and bound, idle, and
//! handed to a later stream once it has been idle for the quarantine
//! (datagrams that arrived meanwhile are read and dropped first): a new
//! socket costs seven system calls (socket, bind, the non-blocking flag,
//! its address, registering with the reactor, and on close deregistering
//! and closing), a reused one none or one. The quarantine keeps a late
//! packet of the call before (a DTMF event's last copies, say) out of the
//! next one, as the round robin did; when the range has no fresh port
//! left, the longest-idle socket is reused even within its quarantine.
//! Sockets idle for [`IDLE_CLOSE`] are closed, so a burst's sockets go
//! back to the system (docs/decisions.md, "RTP sockets are kept and
//! reused").

use std::collections::VecDeque;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::ops::{Deref, RangeInclusive};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How long a released socket rests before another stream gets it.
pub const QUARANTINE: Duration = Duration::from_secs(1);

/// How long a socket may stay idle before it is closed.
pub const IDLE_CLOSE: Duration = Duration::from_secs(60);

/// The even ports of a range on one address, and the sockets this range
/// keeps open between streams.
pub struct Ports {
    ip: IpAddr,
    range: RangeInclusive<u16>,
    /// The even ports of the range, in order.
    even: Vec<u16>,
    quarantine: Duration,
    state: Mutex<State>,
}

struct State {
    /// Where the next search for a fresh port starts (an index into
    /// `even`, modulo).
    next: usize,
    /// Per even port: whether this range holds its socket (in a stream or
    /// idle), so the search skips it without asking the system.
    held: Vec<bool>,
    /// Released sockets, longest idle first.
    idle: VecDeque<Idle>,
}

struct Idle {
    index: usize,
    since: Instant,
    socket: tokio::net::UdpSocket,
}

/// A bound RTP socket that goes back to its range when dropped.
pub struct Port {
    socket: Option<tokio::net::UdpSocket>,
    index: usize,
    ports: Arc<Ports>,
}

impl std::fmt::Debug for Port {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Port")
            .field("local", &self.local())
            .finish()
    }
}

impl Port {
    /// The address the socket is bound to.
    pub fn local(&self) -> SocketAddr {
        SocketAddr::new(self.ports.ip, self.ports.even[self.index])
    }
}

impl Deref for Port {
    type Target = tokio::net::UdpSocket;
    fn deref(&self) -> &tokio::net::UdpSocket {
        // Taken only in `drop`.
        self.socket
            .as_ref()
            .expect("a port's socket is there until drop")
    }
}

impl Drop for Port {
    fn drop(&mut self) {
        if let Some(socket) = self.socket.take() {
            self.ports.release(self.index, socket);
        }
    }
}

impl Ports {
    pub fn new(ip: IpAddr, range: RangeInclusive<u16>) -> Ports {
        Ports::with_quarantine(ip, range, QUARANTINE)
    }

    /// A range whose released sockets rest `quarantine` before reuse.
    pub fn with_quarantine(ip: IpAddr, range: RangeInclusive<u16>, quarantine: Duration) -> Ports {
        let even: Vec<u16> = range.clone().filter(|p| p % 2 == 0 && *p != 0).collect();
        Ports {
            ip,
            range,
            state: Mutex::new(State {
                next: 0,
                held: vec![false; even.len()],
                idle: VecDeque::new(),
            }),
            even,
            quarantine,
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A UDP socket bound on an even port of the range: an idle one past
    /// its quarantine, else the next free port (round robin, skipping
    /// ports in use), else the longest-idle one; an `AddrInUse` error
    /// naming the range when all are busy. Needs a tokio runtime (the
    /// socket registers with its reactor).
    pub fn bind(self: &Arc<Self>) -> io::Result<Port> {
        let now = Instant::now();
        let mut state = self.state();
        if state
            .idle
            .front()
            .is_some_and(|idle| now.duration_since(idle.since) >= self.quarantine)
            && let Some(port) = self.reuse(&mut state)
        {
            return Ok(port);
        }
        let n = self.even.len();
        let start = state.next;
        for i in 0..n {
            let index = (start + i) % n;
            if state.held[index] {
                continue;
            }
            let addr = SocketAddr::new(self.ip, self.even[index]);
            match std::net::UdpSocket::bind(addr) {
                Ok(socket) => {
                    // The next search starts after this port.
                    state.next = index + 1;
                    socket.set_nonblocking(true)?;
                    let socket = tokio::net::UdpSocket::from_std(socket)?;
                    state.held[index] = true;
                    return Ok(Port {
                        socket: Some(socket),
                        index,
                        ports: Arc::clone(self),
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::AddrInUse => continue,
                Err(e) => {
                    return Err(io::Error::new(
                        e.kind(),
                        format!("cannot bind an RTP port on {addr}: {e}"),
                    ));
                }
            }
        }
        if let Some(port) = self.reuse(&mut state) {
            return Ok(port);
        }
        Err(io::Error::new(
            io::ErrorKind::AddrInUse,
            format!(
                "no free RTP port on {}: all {} even ports of {}-{} are in use",
                self.ip,
                n,
                self.range.start(),
                self.range.end()
            ),
        ))
    }

    /// The longest-idle socket, emptied of what arrived while it rested.
    fn reuse(self: &Arc<Self>, state: &mut State) -> Option<Port> {
        let Idle { index, socket, .. } = state.idle.pop_front()?;
        let mut buf = [0u8; 2048];
        while socket.try_recv_from(&mut buf).is_ok() {}
        Some(Port {
            socket: Some(socket),
            index,
            ports: Arc::clone(self),
        })
    }

    fn release(&self, index: usize, socket: tokio::net::UdpSocket) {
        let now = Instant::now();
        let mut state = self.state();
        state.idle.push_back(Idle {
            index,
            since: now,
            socket,
        });
        // One long-idle socket closed per release: a burst's sockets go
        // back to the system as later streams come and go.
        if let Some(front) = state.idle.front()
            && now.duration_since(front.since) >= IDLE_CLOSE
            && let Some(old) = state.idle.pop_front()
        {
            state.held[old.index] = false;
            drop(state);
            drop(old);
        }
    }

    /// How many ports the range gives (its even ports).
    pub fn capacity(&self) -> usize {
        self.even.len()
    }

    /// How many sockets rest idle, open, between streams.
    pub fn idle(&self) -> usize {
        self.state().idle.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Four free consecutive ports starting at an even one, found by
    /// binding: the test must not collide with other tests' sockets.
    fn free_range() -> RangeInclusive<u16> {
        for base in (41_000..60_000u16)
            .step_by(4)
            .skip(std::process::id() as usize % 2000)
        {
            let held: Vec<_> = (base..base + 4)
                .map_while(|p| std::net::UdpSocket::bind(("127.0.0.1", p)).ok())
                .collect();
            if held.len() == 4 {
                return base..=base + 3;
            }
        }
        panic!("no four free ports");
    }

    #[tokio::test]
    async fn a_range_of_four_gives_two_even_ports_then_a_clear_error() {
        let range = free_range();
        let ports = Arc::new(Ports::new("127.0.0.1".parse().unwrap(), range.clone()));
        assert_eq!(ports.capacity(), 2);
        let a = ports.bind().unwrap();
        let b = ports.bind().unwrap();
        let (pa, pb) = (a.local().port(), b.local().port());
        assert_eq!(pa % 2, 0);
        assert_eq!(pb % 2, 0);
        assert_ne!(pa, pb);
        let err = ports.bind().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
        assert_eq!(
            err.to_string(),
            format!(
                "no free RTP port on 127.0.0.1: all 2 even ports of {}-{} are in use",
                range.start(),
                range.end()
            )
        );
        // Within its quarantine, yet the only one left.
        drop(a);
        let c = ports.bind().unwrap();
        assert_eq!(c.local().port(), pa, "back on drop");
    }

    #[tokio::test]
    async fn ports_go_round_robin_and_skip_ports_in_use() {
        let range = free_range();
        // Another process (here: a plain socket) holds the first even port.
        let _other = std::net::UdpSocket::bind(("127.0.0.1", *range.start())).unwrap();
        let ports = Arc::new(Ports::new("127.0.0.1".parse().unwrap(), range.clone()));
        let first = ports.bind().unwrap();
        assert_eq!(first.local().port(), range.start() + 2);
        assert_eq!(first.local(), first.local_addr().unwrap());
        let odd = Arc::new(Ports::new("127.0.0.1".parse().unwrap(), 41_001..=41_001));
        assert_eq!(odd.capacity(), 0);
        assert_eq!(odd.bind().unwrap_err().kind(), io::ErrorKind::AddrInUse);
    }

    #[tokio::test]
    async fn a_released_socket_rests_then_comes_back_emptied() {
        let range = free_range();
        let quarantine = Duration::from_millis(50);
        let ports = Arc::new(Ports::with_quarantine(
            "127.0.0.1".parse().unwrap(),
            range.clone(),
            quarantine,
        ));
        let a = ports.bind().unwrap();
        let pa = a.local().port();
        // A late packet of the call before reaches the port...
        let peer = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        drop(a);
        assert_eq!(ports.idle(), 1);
        peer.send_to(b"late", ("127.0.0.1", pa)).unwrap();
        // ...which rests: the next stream gets the other port.
        let b = ports.bind().unwrap();
        assert_ne!(b.local().port(), pa);
        tokio::time::sleep(quarantine + Duration::from_millis(20)).await;
        let c = ports.bind().unwrap();
        assert_eq!(c.local().port(), pa, "the rested socket, not a new one");
        assert_eq!(ports.idle(), 0);
        let mut buf = [0u8; 16];
        assert_eq!(
            c.try_recv_from(&mut buf).unwrap_err().kind(),
            io::ErrorKind::WouldBlock,
            "what arrived while it rested was dropped"
        );
        // The socket still receives.
        peer.send_to(b"new", ("127.0.0.1", pa)).unwrap();
        let (n, from) = c.recv_from(&mut buf).await.unwrap();
        assert_eq!((&buf[..n], from), (&b"new"[..], peer.local_addr().unwrap()));
    }
}
