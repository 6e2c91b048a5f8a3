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

use std::collections::HashMap;
use std::collections::hash_map::Entry as MapEntry;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::sip::deadlines::{Deadline, Deadlines};
use crate::sip::message::{Method, Request};
use crate::sip::response::Response;
use crate::sip::scan::{self, ViaKey};

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
        let via = scan::via_key(req.header("Via")?)?;
        let method = Key::method(req.method());
        if let Some(key) = Key::rfc3261(via, &method) {
            return Some(key);
        }
        Some(Key::Legacy {
            call_id: req.call_id()?.into(),
            cseq: req.cseq()?.seq,
            from_tag: req
                .from()
                .and_then(|f| f.tag.as_deref())
                .unwrap_or_default()
                .into(),
            sent_by: via.sent_by.into(),
            method,
        })
    }

    /// The key of a request seen only at a glance: `None` unless its top
    /// Via has an RFC 3261 branch (legacy keys need the parsed request).
    /// For the same request it equals [`Key::of`].
    pub fn glanced(via: ViaKey<'_>, method: &Method) -> Option<Key> {
        Key::rfc3261(via, &Key::method(method))
    }

    fn rfc3261(via: ViaKey<'_>, method: &Method) -> Option<Key> {
        let branch = via.branch.filter(|b| b.starts_with("z9hG4bK"))?;
        Some(Key::Branch {
            branch: branch.into(),
            sent_by: via.sent_by.into(),
            method: method.clone(),
        })
    }

    /// The method a key holds: an ACK belongs to its INVITE's transaction.
    fn method(method: &Method) -> Method {
        match method {
            Method::Ack => Method::Invite,
            other => other.clone(),
        }
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
    key: Key,
    /// Tells this transaction's deadlines from those of an earlier one
    /// that used the same slot.
    generation: u32,
    state: State,
    last: Option<Response>,
    peer: SocketAddr,
    reliable: bool,
    /// The next Timer G interval.
    interval: Duration,
    /// When the final response was sent (Timer H counts from it).
    completed_at: Option<Instant>,
    /// The one deadline that counts: what happens then follows from the
    /// state (Timer G or H, I, J, L, or giving up on an unanswered one).
    deadline: Option<Instant>,
}

/// The server transactions of one transport, bounded by `limit`.
#[derive(Debug)]
pub struct Table {
    timers: Timers,
    limit: usize,
    /// Transactions in slots reused through `free`; `index` finds a key's
    /// slot, and deadlines name slots, not keys.
    slots: Vec<Option<Entry>>,
    free: Vec<u32>,
    index: HashMap<Key, u32>,
    generation: u32,
    /// Entries still waiting for an answer or an ACK (Proceeding, and
    /// Completed INVITEs): what `limit` bounds. The others (Confirmed,
    /// Accepted, Completed non-INVITEs) only absorb retransmissions for a
    /// few seconds, so at a steady rate their number is the rate times T4
    /// or 64·T1, bounded by the rate.
    pending: usize,
    deadlines: Deadlines,
}

impl Table {
    pub fn new(timers: Timers, limit: usize) -> Table {
        Table {
            timers,
            limit,
            slots: Vec::new(),
            free: Vec::new(),
            index: HashMap::new(),
            generation: 0,
            pending: 0,
            deadlines: Deadlines::default(),
        }
    }

    /// Transactions held, whatever their state.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Transactions waiting for an answer or an ACK.
    pub fn pending(&self) -> usize {
        self.pending
    }

    /// Whether the table holds the transaction `key`.
    pub fn contains(&self, key: &Key) -> bool {
        self.index.contains_key(key)
    }

    /// Whether a new transaction would exceed the limit of pending ones.
    pub fn is_full(&self) -> bool {
        self.pending >= self.limit
    }

    /// What a request of a transaction the table holds does to it:
    /// `None` if it holds none under `key` (a new request, or an ACK that
    /// matches nothing). Never opens a transaction, so a request seen
    /// only at a glance can be matched before it is parsed and checked.
    pub fn on_known(&mut self, key: &Key, is_ack: bool, now: Instant) -> Option<Arrival> {
        let &slot = self.index.get(key)?;
        Some(match is_ack {
            true => self.ack(slot, now),
            false => self.repeated(slot),
        })
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
        if is_ack {
            return self.on_known(key, true, now).unwrap_or(Arrival::StrayAck);
        }
        let full = self.is_full();
        // One lookup finds the transaction or the place of a new one.
        let vacant = match self.index.entry(key.clone()) {
            MapEntry::Occupied(known) => {
                let slot = *known.get();
                return self.repeated(slot);
            }
            MapEntry::Vacant(vacant) => vacant,
        };
        if full {
            return Arrival::Full;
        }
        self.generation = self.generation.wrapping_add(1);
        let entry = Entry {
            key: key.clone(),
            generation: self.generation,
            state: State::Proceeding,
            last: None,
            peer,
            reliable,
            interval: self.timers.t1,
            completed_at: None,
            deadline: None,
        };
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slots[slot as usize] = Some(entry);
                slot
            }
            None => {
                self.slots.push(Some(entry));
                (self.slots.len() - 1) as u32
            }
        };
        vacant.insert(slot);
        self.pending += 1;
        Arrival::New
    }

    /// An ACK for the transaction in `slot`.
    fn ack(&mut self, slot: u32, now: Instant) -> Arrival {
        let entry = self.slots[slot as usize]
            .as_mut()
            .expect("indexed slots are full");
        match entry.state {
            State::Completed => {
                entry.state = State::Confirmed;
                // Confirmed only absorbs ACKs: the response is not sent
                // again, so its bytes go now rather than after T4.
                entry.last = None;
                self.pending -= 1;
                let delay = if entry.reliable {
                    Duration::ZERO
                } else {
                    self.timers.t4
                };
                self.arm(slot, delay, now + delay);
                Arrival::AckMatched
            }
            // A retransmitted ACK.
            State::Confirmed => Arrival::AckMatched,
            // The ACK of a 2xx is a transaction of its own.
            _ => Arrival::StrayAck,
        }
    }

    /// A retransmission of the request that opened the transaction in `slot`.
    fn repeated(&self, slot: u32) -> Arrival {
        let entry = self.slots[slot as usize]
            .as_ref()
            .expect("indexed slots are full");
        match (&entry.last, entry.state) {
            (_, State::Accepted | State::Confirmed) | (None, _) => Arrival::Absorbed,
            (Some(_), _) => Arrival::Resend(entry.peer),
        }
    }

    /// The handler did not answer at once: from now the transaction has
    /// Timer C's three minutes (an INVITE) or 64·T1 to be answered before
    /// it leaves the table (RFC 3261 §17.1.2.2), so an unanswered one
    /// cannot hold its slot for ever.
    pub fn waiting(&mut self, key: &Key, now: Instant) {
        let Some(&slot) = self.index.get(key) else {
            return;
        };
        let entry = self.slots[slot as usize]
            .as_ref()
            .expect("indexed slots are full");
        if entry.state == State::Proceeding && entry.deadline.is_none() {
            let delay = if key.is_invite() {
                Duration::from_secs(180)
            } else {
                64 * self.timers.t1
            };
            self.arm(slot, delay, now + delay);
        }
    }

    /// Records the response sent for `key` and sets its timers. Returns
    /// false, recording nothing, if the transaction is unknown (ended, or
    /// never created) or already has its final response.
    pub fn respond(&mut self, key: &Key, response: Response, now: Instant) -> bool {
        self.answer(key, response, now).is_some()
    }

    /// [`Table::respond`], returning the bytes to send: the response as
    /// recorded (`None` if it was not).
    pub fn answer(&mut self, key: &Key, response: Response, now: Instant) -> Option<&[u8]> {
        let &slot = self.index.get(key)?;
        let timers = self.timers;
        let entry = self.slots[slot as usize]
            .as_mut()
            .expect("indexed slots are full");
        if entry.state != State::Proceeding {
            return None;
        }
        let code = response.code;
        entry.last = Some(response);
        if code < 200 {
            self.waiting(key, now);
            return self.slot_response(slot);
        }
        let long = 64 * timers.t1;
        let (state, delay) = match (key.is_invite(), (200..300).contains(&code)) {
            (true, true) => (State::Accepted, long),
            (true, false) if entry.reliable => (State::Completed, long),
            (true, false) => (State::Completed, timers.t1),
            (false, _) if entry.reliable => (State::Completed, Duration::ZERO),
            (false, _) => (State::Completed, long),
        };
        // Only an INVITE still waits (for its ACK) once it has a final answer.
        if !waits(state, key.is_invite()) {
            self.pending -= 1;
        }
        entry.state = state;
        entry.interval = timers.t1;
        entry.completed_at = Some(now);
        self.arm(slot, delay, now + delay);
        self.slot_response(slot)
    }

    fn slot_response(&self, slot: u32) -> Option<&[u8]> {
        let entry = self.slots[slot as usize].as_ref()?;
        entry.last.as_ref().map(|r| &r.bytes[..])
    }

    /// The bytes of the last response sent for `key`.
    pub fn last_response(&self, key: &Key) -> Option<&[u8]> {
        self.slot_response(*self.index.get(key)?)
    }

    /// The earliest time `on_timers` has something to do.
    pub fn next_deadline(&mut self) -> Option<Instant> {
        let slots = &self.slots;
        self.deadlines.first(|d| is_current(slots, d)).map(|d| d.0)
    }

    /// Fires every timer due at `now`: `send` gets each response to send
    /// again and where; ended transactions leave the table.
    pub fn on_timers(&mut self, now: Instant, mut send: impl FnMut(SocketAddr, &[u8])) -> Fired {
        let mut fired = Fired::default();
        loop {
            let slots = &self.slots;
            let Some((at, slot, _)) = self.deadlines.pop_due(now, |d| is_current(slots, d)) else {
                break;
            };
            let t2 = self.timers.t2;
            let timer_h = 64 * self.timers.t1;
            let entry = self.slots[slot as usize]
                .as_mut()
                .expect("current deadlines name full slots");
            let invite = entry.key.is_invite();
            match entry.state {
                State::Proceeding => {
                    fired.unanswered += 1;
                    self.remove(slot);
                }
                State::Completed if invite && !entry.reliable => {
                    let h = entry.completed_at.unwrap_or(at) + timer_h;
                    if at >= h {
                        fired.timed_out += 1;
                        self.remove(slot);
                        continue;
                    }
                    // Timer G: send the final response again, doubling up to T2.
                    if let Some(last) = &entry.last {
                        send(entry.peer, &last.bytes);
                        fired.retransmitted += 1;
                    }
                    entry.interval = (entry.interval * 2).min(t2);
                    let interval = entry.interval;
                    self.arm(slot, interval, (at + interval).min(h));
                }
                State::Completed if invite => {
                    fired.timed_out += 1;
                    self.remove(slot);
                }
                _ => {
                    fired.ended += 1;
                    self.remove(slot);
                }
            }
        }
        fired
    }

    /// Makes `at` the one deadline of the transaction in `slot`.
    fn arm(&mut self, slot: u32, delay: Duration, at: Instant) {
        let entry = self.slots[slot as usize]
            .as_mut()
            .expect("armed slots are full");
        entry.deadline = Some(at);
        self.deadlines.push(delay, (at, slot, entry.generation));
    }

    fn remove(&mut self, slot: u32) {
        if let Some(entry) = self.slots[slot as usize].take() {
            if waits(entry.state, entry.key.is_invite()) {
                self.pending -= 1;
            }
            self.index.remove(&entry.key);
            self.free.push(slot);
        }
    }
}

/// Whether a transaction in `state` waits for an answer or an ACK (and so
/// counts against the table's limit): any without a final answer, and an
/// INVITE whose non-2xx answer awaits its ACK. A non-INVITE one answered
/// only absorbs retransmissions until Timer J.
fn waits(state: State, invite: bool) -> bool {
    match state {
        State::Proceeding => true,
        State::Completed => invite,
        State::Confirmed | State::Accepted => false,
    }
}

/// Whether a deadline is still its transaction's current one.
fn is_current(slots: &[Option<Entry>], (at, slot, generation): &Deadline) -> bool {
    slots
        .get(*slot as usize)
        .and_then(Option::as_ref)
        .is_some_and(|e| e.generation == *generation && e.deadline == Some(*at))
}

/// When a 100 Trying is sent: for an INVITE whose final answer is not
/// ready at once (RFC 3261 §17.2.1 asks for it within 200 ms). A redirect
/// answers at once, so it sends none; the B2BUA sends one before ringing.
pub fn needs_trying(method: &Method, answered_at_once: bool) -> bool {
    *method == Method::Invite && !answered_at_once
}
