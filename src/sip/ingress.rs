//! One received message, from bytes to the bytes of its answer, without
//! I/O: parse, stamp the top Via, absorb the ACK of an answer sent, validate
//! (400), find the transaction (retransmissions, stray ACKs, 503 when the
//! table is full), ask the handler, count. The UDP and TCP transports and a fuzz target share it.

use std::borrow::Cow;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::sip::counters::{Counters, Dropped};
use crate::sip::message::{self, Message, Method, ReceivedResponse, Request, Via};
use crate::sip::response::{Response, response};
use crate::sip::scan;
use crate::sip::transaction::{Arrival, Key, Table, Timers};
use crate::sip::validate::validate;

/// The transport a request arrived on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Udp,
    Tcp,
}

impl Transport {
    /// Whether the transport retransmits for us (no Timer G, no Timer J wait).
    pub fn reliable(self) -> bool {
        self == Transport::Tcp
    }
}

/// A request for the handler, with where it came from.
#[derive(Debug)]
pub struct Incoming<'a> {
    pub request: &'a Request,
    pub source: SocketAddr,
    pub local: SocketAddr,
    pub transport: Transport,
    /// Where its answers go ([`reply_address`]).
    pub reply_to: SocketAddr,
    /// Its server transaction, for an answer sent later
    /// ([`crate::sip::outbox::Outgoing::Answer`]).
    pub key: &'a Key,
    /// For a CANCEL: whether the INVITE it cancels is a transaction this
    /// transport holds (RFC 3261 §9.2: if not, the answer is 481).
    pub cancels_known_invite: bool,
}

/// What answers requests: called once per new transaction (and for ACKs
/// that match none), synchronously, on the transport's task. `None`
/// means no answer now (an ACK, or an answer the caller sends later).
pub trait Handler: Send + Sync + 'static {
    fn handle(&self, incoming: &Incoming<'_>) -> Option<Response>;

    /// A response received from `source` (to a request this server
    /// sent); false when nothing expects it (it is counted as dropped).
    fn response(&self, response: ReceivedResponse, source: SocketAddr) -> bool {
        let _ = (response, source);
        false
    }

    /// An ACK that matched no transaction (the ACK of a 2xx, or a stray
    /// one): true when the handler took it (it is then not counted as
    /// dropped).
    fn ack(&self, incoming: &Incoming<'_>) -> bool {
        self.handle(incoming);
        false
    }

    /// Called once by each UDP transport as it starts: a handler that
    /// sends requests and late answers of its own returns the receiving
    /// end of that socket's outbox ([`crate::sip::outbox::Outbox`]).
    fn attach(&self, local: SocketAddr) -> Option<crate::sip::outbox::OutboxReceiver> {
        let _ = local;
        None
    }
}

impl<F> Handler for F
where
    F: Fn(&Incoming<'_>) -> Option<Response> + Send + Sync + 'static,
{
    fn handle(&self, incoming: &Incoming<'_>) -> Option<Response> {
        self(incoming)
    }
}

/// Bounds of the SIP transports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Server transactions held per UDP socket or TCP connection; beyond
    /// it new requests get 503.
    pub max_pending: usize,
    /// Seconds in the Retry-After of that 503.
    pub retry_after: u32,
    /// Largest message accepted, in bytes (a longer datagram is dropped,
    /// a longer stream message closes the connection).
    pub max_message: usize,
    /// TCP connections served at once; more are closed when accepted.
    pub max_connections: usize,
    /// A TCP connection silent this long is closed.
    pub tcp_idle: Duration,
    pub timers: Timers,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_pending: 65_536,
            retry_after: 5,
            max_message: 65_535,
            max_connections: 1024,
            tcp_idle: Duration::from_secs(300),
            timers: Timers::default(),
        }
    }
}

/// Bytes to send and where (over TCP, always the connection they came on).
#[derive(Debug, PartialEq, Eq)]
pub struct Reply<'t> {
    pub to: SocketAddr,
    pub bytes: Cow<'t, [u8]>,
}

/// Where an answer to a request from `source` goes (RFC 3261 §18.2.2 and
/// RFC 3581 §4): over UDP, the source address (it is the `received`
/// address, or equal to sent-by) with the source port if `rport` was asked
/// for, else the sent-by port or 5060; over TCP, the connection. A `maddr`
/// parameter is not honoured: answers go where the request came from.
pub fn reply_address(via: Option<&Via>, source: SocketAddr, transport: Transport) -> SocketAddr {
    match via {
        Some(via) if transport == Transport::Udp && via.rport.is_none() => {
            SocketAddr::new(source.ip(), via.port.unwrap_or(5060))
        }
        _ => source,
    }
}

/// Processes one message received at `now`; returns what to send.
#[allow(clippy::too_many_arguments)]
pub fn process<'t>(
    bytes: &[u8],
    source: SocketAddr,
    local: SocketAddr,
    transport: Transport,
    table: &'t mut Table,
    handler: &dyn Handler,
    counters: &Counters,
    limits: &Limits,
    now: Instant,
) -> Option<Reply<'t>> {
    let glanced = scan::glance(bytes).and_then(|g| {
        let method = Method::parse(g.method);
        let key = Key::glanced(g.via, &method)?;
        Some((method, key))
    });
    if let Some((method, key)) = &glanced {
        match known_transaction(method, key, table, counters, now) {
            Some(Known::Quiet) => return None,
            Some(Known::Resend(peer)) => {
                return table.last_response(key).map(|last| Reply {
                    to: peer,
                    bytes: Cow::Borrowed(last),
                });
            }
            None => {}
        }
    }
    let mut req = match message::parse(bytes) {
        Ok(Message::Request(req)) => req,
        Ok(Message::Response(answer)) => {
            if !handler.response(answer, source) {
                counters.dropped(Dropped::Response);
            }
            return None;
        }
        Err(e) => {
            tracing::debug!(%source, error = %e, "dropped an unparseable message");
            counters.dropped(Dropped::Unparseable);
            return None;
        }
    };
    counters.request(req.method());
    // The key is read from the Via as received, as the glance reads it:
    // the glance's own when its method is the one parsed.
    let key = match glanced {
        Some((method, key)) if method == *req.method() => Some(key),
        _ => Key::of(&req),
    };
    req.stamp_source(source);
    let to = reply_address(req.top_via(), source, transport);
    let is_ack = *req.method() == Method::Ack;
    if let Err(invalid) = validate(&req) {
        if is_ack {
            counters.dropped(Dropped::InvalidAck);
            return None;
        }
        tracing::debug!(%source, call_id = req.call_id(), %invalid, "answered 400");
        return Some(stateless(
            response(&req, 400, invalid.reason()).finish(),
            to,
            counters,
        ));
    }
    let Some(key) = key else {
        counters.dropped(Dropped::NoTransaction);
        return None;
    };
    let cancels_known_invite =
        *req.method() == Method::Cancel && table.contains(&key.cancelled_invite());
    let incoming = Incoming {
        request: &req,
        source,
        local,
        transport,
        reply_to: to,
        key: &key,
        cancels_known_invite,
    };
    match table.on_request(&key, is_ack, to, transport.reliable(), now) {
        Arrival::New => {}
        Arrival::Resend(peer) => {
            counters.resent(1);
            return table.last_response(&key).map(|last| Reply {
                to: peer,
                bytes: Cow::Borrowed(last),
            });
        }
        Arrival::Absorbed | Arrival::AckMatched => return None,
        Arrival::StrayAck => {
            if !handler.ack(&incoming) {
                counters.dropped(Dropped::StrayAck);
            }
            return None;
        }
        Arrival::Full => {
            let busy = response(&req, 503, "Service Unavailable")
                .header("Retry-After", &limits.retry_after.to_string())
                .finish();
            return Some(stateless(busy, to, counters));
        }
    }
    let Some(answer) = handler.handle(&incoming) else {
        table.waiting(&key, now);
        return None;
    };
    counters.response(answer.code);
    table.answer(&key, answer, now).map(|bytes| Reply {
        to,
        bytes: Cow::Borrowed(bytes),
    })
}

/// The fast path: a request whose transaction the table holds, seen at a
/// glance ([`scan::glance`]) without parsing it. An ACK of a final answer
/// sent is absorbed (RFC 3261 §17.2.1: nothing else in it is read), a
/// retransmission is answered with the last response or absorbed.
/// `None` sends the message down the full path: anything new, anything
/// the glance cannot read, and stray ACKs (the handler sees those).
fn known_transaction(
    method: &Method,
    key: &Key,
    table: &mut Table,
    counters: &Counters,
    now: Instant,
) -> Option<Known> {
    let known = match table.on_known(key, *method == Method::Ack, now)? {
        Arrival::AckMatched | Arrival::Absorbed => Known::Quiet,
        Arrival::Resend(peer) => {
            counters.resent(1);
            Known::Resend(peer)
        }
        Arrival::StrayAck | Arrival::New | Arrival::Full => return None,
    };
    counters.request(method);
    Some(known)
}

/// What the fast path did with a request of a known transaction.
enum Known {
    /// Absorbed: nothing to send.
    Quiet,
    /// A retransmission: send the transaction's last response to the peer.
    Resend(SocketAddr),
}

fn stateless(answer: Response, to: SocketAddr, counters: &Counters) -> Reply<'static> {
    counters.response(answer.code);
    Reply {
        to,
        bytes: Cow::Owned(answer.bytes),
    }
}
