//! UDP and TCP listeners: one task per UDP socket that receives, answers
//! through `ingress::process` and the handler synchronously, sends, and
//! fires its transactions' timers; one task per TCP connection, framed by
//! Content-Length and answered on the same connection.
//!
//! A UDP message costs one `recv_from`, one parse, one handler call and
//! one `send_to` on the same task: no channel between receiving and
//! answering, no task per message, no lock (docs/decisions.md, "The SIP
//! transport: one task per socket"). Datagrams already queued when one is
//! answered are read straight away, a few at a time, before the task
//! waits again.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::Semaphore;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::sip::counters::{Counters, Dropped};
use crate::sip::framing::Framer;
use crate::sip::ingress::{Handler, Limits, Transport, process};
use crate::sip::outbox::{OutboxReceiver, Outgoing};
use crate::sip::transaction::{Fired, Table};

/// The next message of an outbox; never, without one.
async fn next_outgoing(outbox: &mut Option<OutboxReceiver>) -> Option<Outgoing> {
    match outbox {
        Some(receiver) => receiver.recv().await,
        None => std::future::pending().await,
    }
}

/// Serves requests arriving on `socket` until `shutdown` is cancelled.
/// Returns an error only if the socket has no local address.
pub async fn serve_udp<H: Handler>(
    socket: UdpSocket,
    handler: Arc<H>,
    counters: Arc<Counters>,
    limits: Limits,
    shutdown: CancellationToken,
) -> io::Result<()> {
    let local = socket.local_addr()?;
    let mut table = Table::new(limits.timers, limits.max_pending);
    // One byte more than the largest message, to see a datagram too long.
    let mut buf = vec![0u8; limits.max_message + 1];
    let cancelled = shutdown.cancelled();
    tokio::pin!(cancelled);
    let timer = tokio::time::sleep_until(Instant::now());
    tokio::pin!(timer);
    let mut armed = None;
    let mut outbox = handler.attach(local);
    loop {
        let next = table.next_deadline();
        if next != armed {
            if let Some(at) = next {
                timer.as_mut().reset(Instant::from_std(at));
            }
            armed = next;
        }
        tokio::select! {
            biased;
            () = &mut cancelled => return Ok(()),
            () = &mut timer, if armed.is_some() => {
                armed = None;
                let now = Instant::now().into_std();
                let fired = table.on_timers(now, |to, bytes| {
                    if socket.try_send_to(bytes, to).is_err() {
                        counters.dropped(Dropped::SendFailed);
                    }
                });
                count_fired(&counters, fired);
            }
            Some(out) = next_outgoing(&mut outbox) => {
                let now = Instant::now().into_std();
                let (to, bytes): (SocketAddr, std::borrow::Cow<'_, [u8]>) = match out {
                    Outgoing::Answer { key, response, to } => {
                        counters.response(response.code);
                        if table.contains(&key) {
                            match table.answer(&key, response, now) {
                                Some(bytes) => (to, bytes.into()),
                                // Already answered: nothing more to send.
                                None => continue,
                            }
                        } else {
                            (to, response.bytes.into())
                        }
                    }
                    Outgoing::Send { to, bytes } => (to, bytes.into()),
                };
                if socket.send_to(&bytes, to).await.is_err() {
                    counters.dropped(Dropped::SendFailed);
                }
            }
            received = socket.recv_from(&mut buf) => {
                // Errors here are ICMP reports of earlier sends; the
                // socket itself is fine.
                let Ok((n, source)) = received else { continue };
                let at = Datagram { local, limits: &limits, counters: &counters };
                at.answer(&socket, &buf[..n], source, &mut table, handler.as_ref()).await;
                // What else is queued is answered without going back
                // through the select (a few at most, so timers and the
                // shutdown are not kept waiting by a flood).
                for _ in 0..DRAIN {
                    match socket.try_recv_from(&mut buf) {
                        Ok((n, source)) => {
                            at.answer(&socket, &buf[..n], source, &mut table, handler.as_ref())
                                .await;
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(_) => {}
                    }
                }
            }
        }
    }
}

/// Datagrams answered in a row after the one that woke the task.
const DRAIN: usize = 32;

/// What answering a datagram needs besides the socket and the table.
struct Datagram<'a> {
    local: SocketAddr,
    limits: &'a Limits,
    counters: &'a Counters,
}

impl Datagram<'_> {
    /// Answers one datagram of `n` bytes from `source` (`n` may be one
    /// more than the largest message: such a datagram is dropped).
    async fn answer<H: Handler>(
        &self,
        socket: &UdpSocket,
        bytes: &[u8],
        source: SocketAddr,
        table: &mut Table,
        handler: &H,
    ) {
        if bytes.len() > self.limits.max_message {
            self.counters.dropped(Dropped::TooLarge);
            return;
        }
        let now = Instant::now().into_std();
        let reply = process(
            bytes,
            source,
            self.local,
            Transport::Udp,
            table,
            handler,
            self.counters,
            self.limits,
            now,
        );
        if let Some(reply) = reply {
            let sent = match socket.try_send_to(&reply.bytes, reply.to) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    socket.send_to(&reply.bytes, reply.to).await.map(|_| ())
                }
                other => other.map(|_| ()),
            };
            if sent.is_err() {
                self.counters.dropped(Dropped::SendFailed);
            }
        }
    }
}

/// Accepts connections on `listener` until `shutdown` is cancelled, each
/// served by its own task (at most `limits.max_connections` at once).
pub async fn serve_tcp<H: Handler>(
    listener: TcpListener,
    handler: Arc<H>,
    counters: Arc<Counters>,
    limits: Limits,
    shutdown: CancellationToken,
) -> io::Result<()> {
    let local = listener.local_addr()?;
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    loop {
        let accepted = tokio::select! {
            () = shutdown.cancelled() => return Ok(()),
            accepted = listener.accept() => accepted,
        };
        let Ok((stream, peer)) = accepted else {
            continue;
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tracing::debug!(%peer, "closed a connection: too many open");
            continue;
        };
        let (handler, counters, shutdown) = (handler.clone(), counters.clone(), shutdown.clone());
        tokio::spawn(async move {
            let end = connection(
                stream,
                peer,
                local,
                handler.as_ref(),
                &counters,
                limits,
                shutdown,
            );
            if let Err(e) = end.await {
                tracing::debug!(%peer, error = %e, "closed a connection");
            }
            drop(slot);
        });
    }
}

/// Serves one TCP connection until the peer closes it, its framing
/// breaks, it stays silent for `tcp_idle`, or the server shuts down.
async fn connection(
    mut stream: TcpStream,
    peer: SocketAddr,
    local: SocketAddr,
    handler: &dyn Handler,
    counters: &Counters,
    limits: Limits,
    shutdown: CancellationToken,
) -> io::Result<()> {
    let mut framer = Framer::new(limits.max_message);
    let mut table = Table::new(limits.timers, limits.max_pending);
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let read = tokio::select! {
            () = shutdown.cancelled() => return Ok(()),
            read = tokio::time::timeout(limits.tcp_idle, stream.read(&mut buf)) => read,
        };
        let n = match read {
            Err(_) => return Err(io::Error::new(io::ErrorKind::TimedOut, "idle")),
            Ok(read) => read?,
        };
        if n == 0 {
            return Ok(());
        }
        framer.push(&buf[..n]);
        let now = Instant::now().into_std();
        // Over TCP, Timer G never runs and the rest only frees entries.
        count_fired(counters, table.on_timers(now, |_, _| {}));
        loop {
            let message = match framer.next_message() {
                Ok(Some(message)) => message,
                Ok(None) => break,
                Err(e) => {
                    counters.dropped(Dropped::BadFrame);
                    return Err(io::Error::new(io::ErrorKind::InvalidData, e));
                }
            };
            let reply = process(
                message,
                peer,
                local,
                Transport::Tcp,
                &mut table,
                handler,
                counters,
                &limits,
                now,
            );
            if let Some(reply) = reply {
                stream.write_all(&reply.bytes).await?;
            }
        }
    }
}

fn count_fired(counters: &Counters, fired: Fired) {
    counters.resent(fired.retransmitted);
    counters.timed_out(fired.timed_out);
}
