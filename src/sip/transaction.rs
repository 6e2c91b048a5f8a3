//! Server transactions (RFC 3261 §17.2), sans I/O: the table is told what
//! arrived and what was answered, at a time it is given, and says what to
//! send again; the transport owns the sockets and the timer that calls
//! `on_timers`. So tests run on virtual time, and a transaction costs a map
//! entry and a stored response, not a task and a channel
//! (docs/decisions.md, "Server transactions of our own").
//!
//! INVITE: a retransmitted INVITE gets the last response again; a non-2xx
//! final is sent again on Timer G (T1 doubling to T2) over UDP until the
//! ACK (absorbed here, then Timer I) or Timer H (64·T1) ends it. A 2xx
//! ends the transaction's answering (RFC 6026 Accepted: retransmissions
//! are absorbed until Timer L). Non-INVITE: retransmissions get the last
//! response; Timer J ends the transaction.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::sip::message::{Method, Request};
use crate::sip::response::Response;

/// RFC 3261's timer values (§17.1.1.1, table 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timers {
    pub t1: Duration,
    pub t2: Duration,
    pub t4: Duration,
}

impl Default for Timers {
    fn default() -> Timers {
        Timers {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            t4: Duration::from_secs(5),
        }
    }
}

/// What identifies a server transaction (RFC 3261 §17.2.3).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Key {
    /// The top Via's `z9hG4bK` branch, its sent-by, and the method (ACK
    /// counted as INVITE).
    Branch {
        branch: Box<str>,
        sent_by: Box<str>,
        method: Method,
    },
    /// RFC 2543 peers: Call-ID, CSeq number, From-tag and sent-by, method
    /// as above. The To-tag is left out: the INVITE has none, its ACK has ours.
    Legacy {
        call_id: Box<str>,
        cseq: u32,
        from_tag: Box<str>,
        sent_by: Box<str>,
        method: Method,
    },
}

impl Key {
    /// The key of the transaction `req` belongs to; `None` without a
    /// parseable top Via (or, for RFC 2543 peers, Call-ID and CSeq).
    pub fn of(req: &Request) -> Option<Key> {
        let via = req.top_via()?;
        let method = match req.method() {
            Method::Ack => Method::Invite,
            other => other.clone(),
        };
        if let Some(branch) = via.rfc3261_branch() {
            return Some(Key::Branch {
                branch: branch.into(),
                sent_by: via.sent_by().into(),
                method,
            });
        }
        Some(Key::Legacy {
            call_id: req.call_id()?.into(),
            cseq: req.cseq()?.seq,
            from_tag: req.from().and_then(|f| f.tag).unwrap_or_default().into(),
            sent_by: via.sent_by().into(),
            method,
        })
    }

    /// For a CANCEL: the key of the INVITE it cancels (RFC 3261 §9.2).
    pub fn cancelled_invite(&self) -> Key {
        let mut key = self.clone();
        match &mut key {
            Key::Branch { method, .. } | Key::Legacy { method, .. } => *method = Method::Invite,
        }
        key
    }

    fn is_invite(&self) -> bool {
        matches!(
            self,
            Key::Branch {
                method: Method::Invite,
                ..
            } | Key::Legacy {
                method: Method::Invite,
                ..
            }
        )
    }
}

/// What the transport does with a request, by `Table::on_request`.
#[derive(Debug, PartialEq, Eq)]
pub enum Arrival {
    /// A new transaction: pass the request to the handler, then `respond`.
    New,
    /// A retransmission: send the last response (`last_response`) again,
    /// to this address.
    Resend(SocketAddr),
    /// A retransmission before any response, or after a 2xx: nothing to send.
    Absorbed,
    /// An ACK that matched a non-2xx final response: the transaction now
    /// only waits (Timer I); nothing goes to the handler.
    AckMatched,
    /// An ACK that matched nothing (for a 2xx, or late): the handler decides.
    StrayAck,
    /// The table holds its limit of transactions: answer 503 statelessly.
    Full,
}

/// What `on_timers` did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Fired {
    /// Responses sent again (Timer G).
    pub retransmitted: usize,
    /// INVITE transactions that gave up waiting for an ACK (Timer H).
    pub timed_out: usize,
    /// Transactions ended normally (Timers I, J, L).
    pub ended: usize,
    /// Transactions the handler never answered, ended at their deadline.
    pub unanswered: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// No response yet (or only provisional ones).
    Proceeding,
    /// A final response was sent; INVITE: waiting for the ACK.
    Completed,
    /// INVITE after the ACK: absorbing ACK retransmissions (Timer I).
    Confirmed,
    /// INVITE after a 2xx: absorbing retransmissions (Timer L, RFC 6026).
    Accepted,
}

#[derive(Debug)]
struct Entry {
    state: State,
    last: Option<Response>,
    peer: SocketAddr,
    reliable: bool,
    /// The next Timer G interval.
    interval: Duration,
    /// When Timer G fires next (INVITE, Completed, unreliable).
    retransmit_at: Option<Instant>,
    /// When the transaction ends (Timer H, I, J or L).
    end_at: Option<Instant>,
}

/// The server transactions of one transport, bounded by `limit`.
#[derive(Debug)]
pub struct Table {
    timers: Timers,
    limit: usize,
    entries: HashMap<Key, Entry>,
    /// Entries still waiting for an answer or an ACK (Proceeding,
    /// Completed): what `limit` bounds. Confirmed and Accepted entries only
    /// absorb retransmissions for a few seconds, so at a steady call rate
    /// their number is the rate times T4 or 64·T1, bounded by the rate.
    pending: usize,
    /// Every deadline set, earliest first; stale ones are skipped when
    /// popped (a key's entry says which deadline is current).
    deadlines: BinaryHeap<Reverse<(Instant, Key)>>,
}

impl Table {
    pub fn new(timers: Timers, limit: usize) -> Table {
        Table {
            timers,
            limit,
            entries: HashMap::new(),
            pending: 0,
            deadlines: BinaryHeap::new(),
        }
    }

    /// Transactions held, whatever their state.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Transactions waiting for an answer or an ACK.
    pub fn pending(&self) -> usize {
        self.pending
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether the table holds the transaction `key`.
    pub fn contains(&self, key: &Key) -> bool {
        self.entries.contains_key(key)
    }

    /// Whether a new transaction would exceed the limit of pending ones.
    pub fn is_full(&self) -> bool {
        self.pending >= self.limit
    }

    /// Looks up the transaction a request from `peer` belongs to. A new
    /// one is created (unless the table is full) for anything but an ACK.
    pub fn on_request(
        &mut self,
        key: &Key,
        is_ack: bool,
        peer: SocketAddr,
        reliable: bool,
        now: Instant,
    ) -> Arrival {
        let full = self.is_full();
        let t4 = self.timers.t4;
        if let Some(entry) = self.entries.get_mut(key) {
            if is_ack {
                if entry.state != State::Completed {
                    // A retransmitted ACK (Confirmed), or one for a 2xx.
                    return match entry.state {
                        State::Confirmed => Arrival::AckMatched,
                        _ => Arrival::StrayAck,
                    };
                }
                entry.state = State::Confirmed;
                self.pending -= 1;
                entry.retransmit_at = None;
                let end = now + if entry.reliable { Duration::ZERO } else { t4 };
                entry.end_at = Some(end);
                self.deadlines.push(Reverse((end, key.clone())));
                return Arrival::AckMatched;
            }
            return match (&entry.last, entry.state) {
                (_, State::Accepted) | (None, _) => Arrival::Absorbed,
                (Some(_), _) => Arrival::Resend(entry.peer),
            };
        }
        if is_ack {
            return Arrival::StrayAck;
        }
        if full {
            return Arrival::Full;
        }
        // An unanswered transaction cannot hold its slot for ever: an
        // INVITE gets Timer C's three minutes, others 64·T1 (§17.1.2.2).
        let end = now
            + if key.is_invite() {
                Duration::from_secs(180)
            } else {
                64 * self.timers.t1
            };
        self.deadlines.push(Reverse((end, key.clone())));
        self.pending += 1;
        self.entries.insert(
            key.clone(),
            Entry {
                state: State::Proceeding,
                last: None,
                peer,
                reliable,
                interval: self.timers.t1,
                retransmit_at: None,
                end_at: Some(end),
            },
        );
        Arrival::New
    }

    /// Records the response sent for `key` and sets its timers. Returns
    /// false, recording nothing, if the transaction is unknown (ended, or
    /// never created) or already has its final response.
    pub fn respond(&mut self, key: &Key, response: Response, now: Instant) -> bool {
        let timers = self.timers;
        let invite = key.is_invite();
        let Some(entry) = self.entries.get_mut(key) else {
            return false;
        };
        if entry.state != State::Proceeding {
            return false;
        }
        let code = response.code;
        entry.last = Some(response);
        if code < 200 {
            return true;
        }
        let (state, retransmit, end) = match (invite, (200..300).contains(&code)) {
            (true, true) => (State::Accepted, None, Some(now + 64 * timers.t1)),
            (true, false) => {
                let retransmit = (!entry.reliable).then(|| now + timers.t1);
                (State::Completed, retransmit, Some(now + 64 * timers.t1))
            }
            (false, _) => {
                let j = if entry.reliable {
                    Duration::ZERO
                } else {
                    64 * timers.t1
                };
                (State::Completed, None, Some(now + j))
            }
        };
        if state == State::Accepted {
            self.pending -= 1;
        }
        entry.state = state;
        entry.interval = timers.t1;
        entry.retransmit_at = retransmit;
        entry.end_at = end;
        for at in [retransmit, end].into_iter().flatten() {
            self.deadlines.push(Reverse((at, key.clone())));
        }
        true
    }

    /// The bytes of the last response sent for `key`.
    pub fn last_response(&self, key: &Key) -> Option<&[u8]> {
        self.entries.get(key)?.last.as_ref().map(|r| &r.bytes[..])
    }

    /// The earliest time `on_timers` has something to do.
    pub fn next_deadline(&mut self) -> Option<Instant> {
        while let Some(Reverse((at, key))) = self.deadlines.peek() {
            if self.is_current(key, *at) {
                return Some(*at);
            }
            self.deadlines.pop();
        }
        None
    }

    /// Fires every timer due at `now`: `send` gets each response to send
    /// again and where; ended transactions leave the table.
    pub fn on_timers(&mut self, now: Instant, mut send: impl FnMut(SocketAddr, &[u8])) -> Fired {
        let mut fired = Fired::default();
        while let Some(Reverse((at, _))) = self.deadlines.peek() {
            if *at > now {
                break;
            }
            let Some(Reverse((at, key))) = self.deadlines.pop() else {
                break;
            };
            if !self.is_current(&key, at) {
                continue;
            }
            let t2 = self.timers.t2;
            let Some(entry) = self.entries.get_mut(&key) else {
                continue;
            };
            if entry.end_at == Some(at) {
                if entry.state == State::Completed && key.is_invite() {
                    fired.timed_out += 1;
                } else if entry.state == State::Proceeding {
                    fired.unanswered += 1;
                } else {
                    fired.ended += 1;
                }
                if matches!(entry.state, State::Proceeding | State::Completed) {
                    self.pending -= 1;
                }
                self.entries.remove(&key);
                continue;
            }
            // Timer G: send the final response again, doubling up to T2.
            if let Some(last) = &entry.last {
                send(entry.peer, &last.bytes);
                fired.retransmitted += 1;
            }
            entry.interval = (entry.interval * 2).min(t2);
            let next = at + entry.interval;
            entry.retransmit_at = Some(next);
            self.deadlines.push(Reverse((next, key)));
        }
        fired
    }

    fn is_current(&self, key: &Key, at: Instant) -> bool {
        self.entries
            .get(key)
            .is_some_and(|e| e.retransmit_at == Some(at) || e.end_at == Some(at))
    }
}

/// When a 100 Trying is sent: for an INVITE whose final answer is not
/// ready at once (RFC 3261 §17.2.1 asks for it within 200 ms). A redirect
/// answers at once, so it sends none; the B2BUA sends one before ringing.
pub fn needs_trying(method: &Method, answered_at_once: bool) -> bool {
    *method == Method::Invite && !answered_at_once
}
