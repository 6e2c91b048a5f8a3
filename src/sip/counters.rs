//! Counters of what the SIP transports saw and did: requests by method,
//! responses by code, drops by reason. Atomic and lock-free, shared by
//! every listener through an `Arc`; `snapshot` gives plain numbers for an
//! admin API or a test.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::sip::message::Method;

/// Why a message got no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dropped {
    /// Bytes that are not a SIP message.
    Unparseable,
    /// A response arrived (this server sends no requests).
    Response,
    /// An invalid request that may not be answered (an ACK).
    InvalidAck,
    /// A request without a usable top Via or Call-ID: no transaction, no answer.
    NoTransaction,
    /// A stream whose framing broke (bad or huge Content-Length, no end of
    /// headers within the limit); the connection was closed.
    BadFrame,
    /// A datagram larger than the receive buffer.
    TooLarge,
    /// A response that could not be sent.
    SendFailed,
    /// An ACK matching no transaction, which the handler did not take.
    StrayAck,
}

impl Dropped {
    pub const ALL: [Dropped; 8] = [
        Dropped::Unparseable,
        Dropped::Response,
        Dropped::InvalidAck,
        Dropped::NoTransaction,
        Dropped::BadFrame,
        Dropped::TooLarge,
        Dropped::SendFailed,
        Dropped::StrayAck,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Dropped::Unparseable => "unparseable",
            Dropped::Response => "response",
            Dropped::InvalidAck => "invalid_ack",
            Dropped::NoTransaction => "no_transaction",
            Dropped::BadFrame => "bad_frame",
            Dropped::TooLarge => "too_large",
            Dropped::SendFailed => "send_failed",
            Dropped::StrayAck => "stray_ack",
        }
    }
}

/// Lowest and highest status codes counted one by one.
const FIRST_CODE: u16 = 100;
const CODES: usize = 600;

/// The counters. `Default` gives zeros.
#[derive(Debug)]
pub struct Counters {
    /// By `Method::index`; the last slot counts unknown methods.
    received: [AtomicU64; Method::KNOWN.len() + 1],
    /// By status code, 100 to 699.
    responses: Box<[AtomicU64; CODES]>,
    /// Responses sent again by the transaction layer (retransmissions
    /// answered and Timer G).
    resent: AtomicU64,
    /// INVITE transactions that ended on Timer H without an ACK.
    timed_out: AtomicU64,
    drops: [AtomicU64; Dropped::ALL.len()],
}

impl Default for Counters {
    fn default() -> Counters {
        Counters {
            received: Default::default(),
            responses: Box::new(std::array::from_fn(|_| AtomicU64::new(0))),
            resent: AtomicU64::new(0),
            timed_out: AtomicU64::new(0),
            drops: Default::default(),
        }
    }
}

impl Counters {
    pub fn request(&self, method: &Method) {
        self.received[method.index()].fetch_add(1, Ordering::Relaxed);
    }

    pub fn response(&self, code: u16) {
        if let Some(slot) = code
            .checked_sub(FIRST_CODE)
            .and_then(|i| self.responses.get(usize::from(i)))
        {
            slot.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn resent(&self, n: usize) {
        self.resent.fetch_add(n as u64, Ordering::Relaxed);
    }

    pub fn timed_out(&self, n: usize) {
        self.timed_out.fetch_add(n as u64, Ordering::Relaxed);
    }

    pub fn dropped(&self, why: Dropped) {
        self.drops[why as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// The counters now, zeros left out.
    pub fn snapshot(&self) -> Snapshot {
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let mut received: Vec<(String, u64)> = Method::KNOWN
            .iter()
            .map(|m| (m.as_str().to_string(), load(&self.received[m.index()])))
            .collect();
        received.push((
            "other".to_string(),
            load(&self.received[Method::KNOWN.len()]),
        ));
        received.retain(|(_, n)| *n > 0);
        let responses = (0..CODES)
            .map(|i| (FIRST_CODE + i as u16, load(&self.responses[i])))
            .filter(|(_, n)| *n > 0)
            .collect();
        let drops = Dropped::ALL
            .iter()
            .map(|d| (d.name(), load(&self.drops[*d as usize])))
            .filter(|(_, n)| *n > 0)
            .collect();
        Snapshot {
            received,
            responses,
            resent: load(&self.resent),
            timed_out: load(&self.timed_out),
            drops,
        }
    }
}

/// Plain numbers read from `Counters`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Snapshot {
    pub received: Vec<(String, u64)>,
    pub responses: Vec<(u16, u64)>,
    pub resent: u64,
    pub timed_out: u64,
    pub drops: Vec<(&'static str, u64)>,
}

impl Snapshot {
    pub fn received(&self, method: &str) -> u64 {
        self.received
            .iter()
            .find(|(m, _)| m == method)
            .map_or(0, |(_, n)| *n)
    }

    pub fn responses(&self, code: u16) -> u64 {
        self.responses
            .iter()
            .find(|(c, _)| *c == code)
            .map_or(0, |(_, n)| *n)
    }

    pub fn drops(&self, why: Dropped) -> u64 {
        self.drops
            .iter()
            .find(|(d, _)| *d == why.name())
            .map_or(0, |(_, n)| *n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_method_code_and_reason_and_leaves_zeros_out() {
        let c = Counters::default();
        c.request(&Method::Invite);
        c.request(&Method::Invite);
        c.request(&Method::Other("FROB".into()));
        c.response(302);
        c.response(699);
        // Codes outside 100..=699 are not SIP status codes: not counted.
        c.response(99);
        c.response(700);
        c.dropped(Dropped::Unparseable);
        c.resent(3);
        c.timed_out(1);
        let s = c.snapshot();
        assert_eq!(
            s.received,
            vec![("INVITE".to_string(), 2), ("other".to_string(), 1)]
        );
        assert_eq!(s.responses, vec![(302, 1), (699, 1)]);
        assert_eq!(s.drops, vec![("unparseable", 1)]);
        assert_eq!((s.resent, s.timed_out), (3, 1));
        assert_eq!(
            (
                s.received("ACK"),
                s.responses(200),
                s.drops(Dropped::BadFrame)
            ),
            (0, 0, 0)
        );
    }
}
