//! The calls a B2BUA call places to agents' phones (and to the trunk),
//! and the requests it sends and must see answered. Sans-IO: each
//! response or timer gives back what to send; the channel sends it.
//!
//! An outgoing INVITE is sent again (Timer A) until a response comes and
//! given up after Timer B; a BYE or CANCEL until its final answer
//! (Timers E and F). The race classes are handled here:
//! - a 200 after our CANCEL (they crossed): ACK it, then BYE;
//! - a failure (a 487 after CANCEL, a 486, ...): ACKed on the INVITE's
//!   branch, again for each copy of it;
//! - a 200 sent again: our ACK sent again.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use crate::media::engine::Stream;
use crate::media::sdp::{self, Direction, Negotiated};
use crate::sip::dialog::{Body, Dialog, Resend, Sent};
use crate::sip::message::{Method, ReceivedResponse};

use super::reoffer::Reoffer;

/// Where an outgoing call is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// INVITE sent, no answer yet.
    Calling,
    /// A provisional answer came (the phone rings).
    Ringing,
    /// Answered and ACKed: a dialog.
    Answered,
    /// We sent CANCEL (or gave up) and wait for the final answer.
    Cancelling,
    /// Over: failed, cancelled, or hung up.
    Ended,
}

/// A call placed to one contact of one target.
pub struct Leg {
    /// The index of the target (of the `ring` that placed it).
    pub target: usize,
    pub dialog: Dialog,
    pub invite: Sent,
    resend: Option<Resend>,
    pub state: State,
    /// The final code, once one came.
    pub code: Option<u16>,
    pub stream: Arc<Stream>,
    /// What the phone's SDP answer said.
    pub media: Option<Negotiated>,
    /// The ACK of the 2xx, sent again when the 2xx comes again.
    ack: Option<Vec<u8>>,
    /// Whether the far side hung up (BYE).
    pub hung_up: bool,
    /// The direction the phone's last SDP stated.
    pub direction: Direction,
    /// The re-INVITEs we send the phone (hold relayed from the caller).
    pub reoffer: Reoffer,
}

/// A request in flight (BYE, CANCEL): sent again until answered.
pub struct Pending {
    pub call_id: String,
    pub branch: String,
    pub bytes: Vec<u8>,
    pub to: SocketAddr,
    pub resend: Resend,
}

/// What to send.
pub type Sends = Vec<(SocketAddr, Vec<u8>)>;

impl Leg {
    /// An INVITE to `dialog`'s target offering `offer`.
    pub fn new(
        target: usize,
        mut dialog: Dialog,
        stream: Arc<Stream>,
        offer: &str,
        auto_answer: bool,
        now: Instant,
    ) -> Leg {
        let headers: &[(&str, &str)] = if auto_answer {
            &[
                ("Call-Info", "answer-after=0"),
                ("Alert-Info", "info=alert-autoanswer"),
            ]
        } else {
            &[]
        };
        let invite = dialog.invite(headers, Body::Sdp(offer));
        Leg {
            target,
            dialog,
            invite,
            resend: Some(Resend::new(true, now)),
            state: State::Calling,
            code: None,
            stream,
            media: None,
            ack: None,
            hung_up: false,
            direction: Direction::SendRecv,
            reoffer: Reoffer::new(true),
        }
    }

    /// The INVITE to send first.
    pub fn first(&self) -> (SocketAddr, Vec<u8>) {
        (self.dialog.peer, self.invite.bytes.clone())
    }

    pub fn call_id(&self) -> &str {
        &self.dialog.call_id
    }

    /// Whether the leg still waits for the phone (ringing).
    pub fn is_open(&self) -> bool {
        matches!(self.state, State::Calling | State::Ringing)
    }

    /// The earliest time a timer of the leg is due.
    pub fn deadline(&self) -> Option<Instant> {
        self.resend.map(|r| r.next.min(r.give_up))
    }

    /// Timers due at `now`: the INVITE sent again, or given up (Timer B:
    /// the leg ends as a 408).
    pub fn on_timer(&mut self, now: Instant, out: &mut Sends) {
        let Some(resend) = &mut self.resend else {
            return;
        };
        if now >= resend.give_up {
            self.resend = None;
            self.code.get_or_insert(408);
            self.state = State::Ended;
            return;
        }
        if now >= resend.next {
            out.push((self.dialog.peer, self.invite.bytes.clone()));
            resend.again();
        }
    }

    /// Stops ringing: CANCEL (RFC 3261 §9.1) while it rings; an INVITE
    /// with no answer yet is cancelled too (a 200 that crosses it is
    /// ACKed and hung up).
    pub fn cancel(&mut self, now: Instant, pending: &mut Vec<Pending>, out: &mut Sends) {
        if !self.is_open() {
            return;
        }
        self.state = State::Cancelling;
        let bytes = self.dialog.cancel(&self.invite);
        out.push((self.dialog.peer, bytes.clone()));
        pending.push(Pending {
            call_id: self.dialog.call_id.clone(),
            branch: self.invite.branch.clone(),
            bytes,
            to: self.dialog.peer,
            resend: Resend::new(false, now),
        });
    }

    /// Hangs up an answered leg with BYE.
    pub fn bye(&mut self, now: Instant, pending: &mut Vec<Pending>, out: &mut Sends) {
        if self.state != State::Answered || self.hung_up {
            self.state = State::Ended;
            return;
        }
        self.state = State::Ended;
        let sent = self.dialog.request(&Method::Bye, &[], Body::None);
        out.push((self.dialog.peer, sent.bytes.clone()));
        pending.push(Pending {
            call_id: self.dialog.call_id.clone(),
            branch: sent.branch,
            bytes: sent.bytes,
            to: self.dialog.peer,
            resend: Resend::new(false, now),
        });
    }

    /// A response to the leg's INVITE.
    pub fn on_invite_response(
        &mut self,
        answer: &ReceivedResponse,
        now: Instant,
        pending: &mut Vec<Pending>,
        out: &mut Sends,
    ) {
        let code = answer.code();
        if code < 200 {
            if let Some(r) = &mut self.resend {
                r.provisional();
            }
            if self.state == State::Calling {
                self.state = State::Ringing;
            }
            return;
        }
        self.resend = None;
        if code >= 300 {
            // Every copy of a failure gets its ACK on the INVITE's branch.
            if self.dialog.remote_tag.is_none() {
                self.dialog.remote_tag = answer.to().and_then(|t| t.tag);
            }
            out.push((
                self.dialog.peer,
                self.dialog.ack(&self.invite, code, Body::None),
            ));
            self.code.get_or_insert(code);
            self.state = State::Ended;
            return;
        }
        // A 2xx: a copy of one already ACKed gets the same ACK again.
        if let Some(ack) = &self.ack {
            out.push((self.dialog.peer, ack.clone()));
            return;
        }
        self.dialog.confirm(answer);
        let ack = self.dialog.ack(&self.invite, code, Body::None);
        out.push((self.dialog.peer, ack.clone()));
        self.ack = Some(ack);
        self.code = Some(code);
        match sdp::read_answer(answer.body()) {
            Ok(media) if self.state != State::Cancelling => {
                self.stream.connect(&media);
                self.direction = media.direction;
                self.media = Some(media);
                self.state = State::Answered;
            }
            Ok(_) => {
                // Answered after our CANCEL crossed it: hang up.
                self.state = State::Answered;
                self.bye(now, pending, out);
            }
            Err(e) => {
                tracing::debug!(call_id = %self.dialog.call_id, error = %e, "agent's SDP refused");
                self.state = State::Answered;
                self.bye(now, pending, out);
            }
        }
    }
}

/// Fires the timers of requests in flight; drops those given up.
pub fn pending_timers(pending: &mut Vec<Pending>, now: Instant, out: &mut Sends) {
    pending.retain_mut(|p| {
        if now >= p.resend.give_up {
            return false;
        }
        if now >= p.resend.next {
            out.push((p.to, p.bytes.clone()));
            p.resend.again();
        }
        true
    });
}

/// A response to a BYE or CANCEL in flight: a final one ends it.
pub fn pending_response(pending: &mut Vec<Pending>, answer: &ReceivedResponse) -> bool {
    let Some(branch) = answer.branch() else {
        return false;
    };
    let method = answer.cseq().map(|c| c.method);
    let Some(at) = pending
        .iter()
        .position(|p| p.branch == branch && method.as_ref() != Some(&Method::Invite))
    else {
        return false;
    };
    if answer.code() >= 200 {
        pending.remove(at);
    } else {
        pending[at].resend.provisional();
    }
    true
}

/// The earliest deadline of requests in flight.
pub fn pending_deadline(pending: &[Pending]) -> Option<Instant> {
    pending
        .iter()
        .map(|p| p.resend.next.min(p.resend.give_up))
        .min()
}
