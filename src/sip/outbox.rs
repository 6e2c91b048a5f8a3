//! What a handler sends through a UDP socket's task besides the answers
//! it returns at once: the B2BUA's late answers, requests and ACKs, over
//! a channel the socket's task reads (`transport::serve_udp`).

use std::net::SocketAddr;

use tokio::sync::mpsc;

use crate::sip::response::Response;
use crate::sip::transaction::Key;

/// What a handler sends through a UDP socket's task besides the answers
/// it returns at once (the B2BUA's calls: answers given later, requests,
/// ACKs).
#[derive(Debug)]
pub enum Outgoing {
    /// An answer to a server transaction the socket holds, recorded in
    /// its table (so a final answer is sent again until its ACK, and a
    /// repeated request gets it again) and sent to `to`. Sent as it is
    /// when the transaction has already ended.
    Answer {
        key: Key,
        response: Response,
        to: SocketAddr,
    },
    /// Bytes sent as they are: requests, ACKs, a 2xx sent again.
    Send { to: SocketAddr, bytes: Vec<u8> },
}

/// The sending end of a UDP socket's outbox.
pub type Outbox = mpsc::UnboundedSender<Outgoing>;
/// The receiving end, which the socket's task reads.
pub type OutboxReceiver = mpsc::UnboundedReceiver<Outgoing>;
