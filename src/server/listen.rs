//! Opening the server's SIP sockets and running a transport on each: UDP
//! and TCP on the configured addresses. An address whose port is 0 gets
//! a port from the system, the same for UDP and TCP on one address, so a
//! test can start a server on a free port and read where it listens.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::{TcpListener, UdpSocket};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::config::{Listen, Transport};
use crate::sip::counters::Counters;
use crate::sip::ingress::{Handler, Limits};
use crate::sip::transport::{serve_tcp, serve_udp};

/// The kernel's receive and send buffers of each UDP socket: a burst of
/// requests waits there while the socket's task is busy. The usual
/// default (about 200 kB, some 500 INVITEs) overflowed in the redirect
/// benchmark at 10,000 calls/s; the system may grant less than this
/// (`net.core.rmem_max`).
const UDP_BUFFER: usize = 4 << 20;

/// A UDP socket bound to `addr` with large kernel buffers.
fn udp_socket(addr: SocketAddr) -> io::Result<UdpSocket> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    // Best effort: a smaller buffer is no reason not to serve.
    let _ = socket.set_recv_buffer_size(UDP_BUFFER);
    let _ = socket.set_send_buffer_size(UDP_BUFFER);
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.bind(&addr.into())?;
    socket.set_nonblocking(true)?;
    UdpSocket::from_std(socket.into())
}

/// A socket that could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("cannot listen on {listen}: {reason}")]
pub struct ListenError {
    pub listen: Listen,
    pub reason: String,
}

impl ListenError {
    fn new(listen: Listen, e: &io::Error) -> ListenError {
        let reason = match e.kind() {
            io::ErrorKind::AddrInUse => {
                "the address is in use (another SIP server, or another `dialect serve`?); \
                 choose another with `--sip ADDR:PORT` or `listen` in dialect.toml"
                    .to_string()
            }
            io::ErrorKind::PermissionDenied => {
                "permission denied (ports below 1024 need privileges); \
                 choose another with `--sip ADDR:PORT`"
                    .to_string()
            }
            io::ErrorKind::AddrNotAvailable => {
                "no such address on this machine; choose another with `--sip ADDR:PORT`".to_string()
            }
            _ => e.to_string(),
        };
        ListenError { listen, reason }
    }
}

/// The transports running, and where they listen.
pub struct Listening {
    /// Where each socket listens (ports chosen by the system filled in).
    pub bound: Vec<Listen>,
    stop: CancellationToken,
    tasks: JoinSet<()>,
}

impl Listening {
    /// Stops every transport and waits until their tasks have ended.
    pub async fn stop(mut self) {
        self.stop.cancel();
        while self.tasks.join_next().await.is_some() {}
    }
}

/// Opens every socket of `listen`, then starts a transport on each. Any
/// socket that cannot be opened stops the start (none is left open).
pub async fn listen<H: Handler>(
    listen: &[Listen],
    handler: Arc<H>,
    counters: Arc<Counters>,
    limits: Limits,
) -> Result<Listening, ListenError> {
    let mut udp = Vec::new();
    let mut tcp = Vec::new();
    let mut bound = Vec::new();
    // Ports the system chose, by the address asked for: UDP and TCP on
    // `host:0` share one.
    let mut chosen: Vec<(SocketAddr, SocketAddr)> = Vec::new();
    // UDP first, so TCP can take the port UDP was given.
    let mut order: Vec<&Listen> = listen.iter().collect();
    order.sort_by_key(|l| l.transport == Transport::Tcp);
    for l in order {
        let asked = l.addr;
        let addr = chosen
            .iter()
            .find(|(a, _)| *a == asked)
            .map_or(asked, |(_, got)| *got);
        match l.transport {
            Transport::Udp => {
                let socket = udp_socket(addr).map_err(|e| ListenError::new(*l, &e))?;
                let got = socket.local_addr().map_err(|e| ListenError::new(*l, &e))?;
                if asked.port() == 0 {
                    chosen.push((asked, got));
                }
                bound.push(Listen {
                    transport: Transport::Udp,
                    addr: got,
                });
                udp.push(socket);
            }
            Transport::Tcp => {
                let listener = TcpListener::bind(addr)
                    .await
                    .map_err(|e| ListenError::new(*l, &e))?;
                let got = listener
                    .local_addr()
                    .map_err(|e| ListenError::new(*l, &e))?;
                bound.push(Listen {
                    transport: Transport::Tcp,
                    addr: got,
                });
                tcp.push(listener);
            }
        }
    }
    let stop = CancellationToken::new();
    let mut tasks = JoinSet::new();
    for socket in udp {
        let (h, c, s) = (Arc::clone(&handler), Arc::clone(&counters), stop.clone());
        tasks.spawn(async move {
            if let Err(e) = serve_udp(socket, h, c, limits, s).await {
                tracing::error!(error = %e, "a UDP transport stopped");
            }
        });
    }
    for listener in tcp {
        let (h, c, s) = (Arc::clone(&handler), Arc::clone(&counters), stop.clone());
        tasks.spawn(async move {
            if let Err(e) = serve_tcp(listener, h, c, limits, s).await {
                tracing::error!(error = %e, "a TCP transport stopped");
            }
        });
    }
    Ok(Listening { bound, stop, tasks })
}
