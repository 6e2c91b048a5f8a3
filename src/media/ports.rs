//! RTP ports from a configured range: even ports only (RTP's convention,
//! RFC 3550 §11; the RTCP port above each is not opened), handed out round
//! robin so that a port just freed is the last to be used again (a late
//! packet of the call before lands on a closed port, not in a new call).
//!
//! A port is in use while its socket is open: the operating system's bind
//! says so, here or in another process, and the range's cursor moves on.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The even ports of a range on one address.
pub struct Ports {
    ip: IpAddr,
    range: RangeInclusive<u16>,
    /// The even ports of the range, in order.
    even: Vec<u16>,
    /// Where the next search starts (an index into `even`, modulo).
    next: AtomicUsize,
}

impl Ports {
    pub fn new(ip: IpAddr, range: RangeInclusive<u16>) -> Ports {
        let even = range.clone().filter(|p| p % 2 == 0 && *p != 0).collect();
        Ports {
            ip,
            range,
            even,
            next: AtomicUsize::new(0),
        }
    }

    /// A UDP socket bound on the next free even port of the range (round
    /// robin, skipping ports in use); an `AddrInUse` error naming the range
    /// when all are busy. Needs a tokio runtime (the socket registers with
    /// its reactor).
    pub fn bind(&self) -> io::Result<tokio::net::UdpSocket> {
        let n = self.even.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        for i in 0..n {
            let index = (start + i) % n;
            let addr = SocketAddr::new(self.ip, self.even[index]);
            match std::net::UdpSocket::bind(addr) {
                Ok(socket) => {
                    // The next search starts after this port.
                    self.next.store(index + 1, Ordering::Relaxed);
                    socket.set_nonblocking(true)?;
                    return tokio::net::UdpSocket::from_std(socket);
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

    /// How many ports the range gives (its even ports).
    pub fn capacity(&self) -> usize {
        self.even.len()
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
        let ports = Ports::new("127.0.0.1".parse().unwrap(), range.clone());
        assert_eq!(ports.capacity(), 2);
        let a = ports.bind().unwrap();
        let b = ports.bind().unwrap();
        let (pa, pb) = (
            a.local_addr().unwrap().port(),
            b.local_addr().unwrap().port(),
        );
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
        drop(a);
        let c = ports.bind().unwrap();
        assert_eq!(c.local_addr().unwrap().port(), pa, "freed on drop");
    }

    #[tokio::test]
    async fn ports_go_round_robin_and_skip_ports_in_use() {
        let range = free_range();
        let ports = Ports::new("127.0.0.1".parse().unwrap(), range.clone());
        let first = ports.bind().unwrap().local_addr().unwrap().port();
        // Dropped at once, yet the next bind takes the other port.
        let second = ports.bind().unwrap().local_addr().unwrap().port();
        assert_ne!(first, second);
        // Another process (here: a plain socket) holds the first port.
        let _other = std::net::UdpSocket::bind(("127.0.0.1", first)).unwrap();
        let third = ports.bind().unwrap().local_addr().unwrap().port();
        assert_eq!(third, second);
        let odd = Ports::new("127.0.0.1".parse().unwrap(), 41_001..=41_001);
        assert_eq!(odd.capacity(), 0);
        assert_eq!(odd.bind().unwrap_err().kind(), io::ErrorKind::AddrInUse);
    }
}
