//! The re-INVITEs a B2BUA call sends to change a leg's media direction:
//! when one side of a bridged call puts it on hold (or takes it off), the
//! other side is told with a re-INVITE offering the same direction.
//! Sans-IO, one per dialog: the channel writes the offer, this keeps the
//! transaction (Timers A and B, the ACKs) and the glare rules.
//!
//! Glare (RFC 3261 §14): while a re-INVITE of ours waits for its final
//! answer, an INVITE or UPDATE from the other side gets 491 Request
//! Pending ([`Reoffer::busy`]); a 491 to ours is ACKed and the offer sent
//! again after a random wait, 2.1 to 4 s if we chose the dialog's Call-ID
//! and 0 to 2 s if not (§14.1), so the two sides do not collide again.
//! A direction asked for while one is in flight is sent once it is
//! answered; only the last one asked for is sent.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::media::sdp::{self, Direction, Negotiated};
use crate::sip::dialog::{Body, Dialog, Resend, Sent};
use crate::sip::message::{Method, ReceivedResponse};

/// What to send (the same as `legs::Sends`; this file does not depend on
/// `legs`, which holds one of these per leg).
type Sends = Vec<(SocketAddr, Vec<u8>)>;

/// A re-INVITE of ours, waiting for its final answer.
struct InFlight {
    sent: Sent,
    direction: Direction,
    resend: Resend,
}

/// What a response to one of our re-INVITEs did.
#[derive(Debug, PartialEq)]
pub enum Answered {
    /// Not an answer to our re-INVITE, or a provisional one.
    Nothing,
    /// A 2xx with an SDP answer: connect the leg's stream to it.
    Media(Negotiated),
    /// A 2xx whose SDP cannot be used: the leg's media stays as it was.
    Unusable,
    /// 491: the offer goes again after the glare wait.
    Glare,
    /// Another failure: the session stays as it was (§14.1).
    Refused(u16),
}

/// One dialog's re-INVITEs.
pub struct Reoffer {
    /// Whether we chose the dialog's Call-ID (we placed the call).
    owner: bool,
    in_flight: Option<InFlight>,
    /// The direction to offer once nothing is in flight, and from when.
    wanted: Option<(Direction, Instant)>,
    /// The ACK of the last 2xx, sent again for each copy of it.
    ack: Option<(u32, Vec<u8>)>,
}

impl Reoffer {
    pub fn new(owner: bool) -> Reoffer {
        Reoffer {
            owner,
            in_flight: None,
            wanted: None,
            ack: None,
        }
    }

    /// Whether a re-INVITE of ours waits for its final answer: an INVITE
    /// or UPDATE from the other side now gets 491.
    pub fn busy(&self) -> bool {
        self.in_flight.is_some()
    }

    /// Asks for `direction` to be offered; it goes at the next
    /// [`Reoffer::due`] that finds nothing in flight.
    pub fn want(&mut self, direction: Direction, now: Instant) {
        let at = match self.wanted {
            // A glare wait in progress is kept.
            Some((_, at)) => at,
            None => now,
        };
        self.wanted = Some((direction, at));
    }

    /// The direction to offer now, if one is due: the channel writes the
    /// offer and hands it to [`Reoffer::send`].
    pub fn due(&mut self, now: Instant) -> Option<Direction> {
        match self.wanted {
            Some((direction, at)) if self.in_flight.is_none() && now >= at => {
                self.wanted = None;
                Some(direction)
            }
            _ => None,
        }
    }

    /// Sends `offer`, which offers `direction`, in a re-INVITE of `dialog`.
    pub fn send(
        &mut self,
        dialog: &mut Dialog,
        direction: Direction,
        offer: &str,
        now: Instant,
        out: &mut Sends,
    ) {
        let sent = dialog.request(&Method::Invite, &[], Body::Sdp(offer));
        out.push((dialog.peer, sent.bytes.clone()));
        self.in_flight = Some(InFlight {
            sent,
            direction,
            resend: Resend::new(true, now),
        });
    }

    /// The earliest time something is due: the re-INVITE sent again, or
    /// given up, or a waiting offer.
    pub fn deadline(&self) -> Option<Instant> {
        let flight = self
            .in_flight
            .as_ref()
            .map(|f| f.resend.next.min(f.resend.give_up));
        let wanted = self
            .wanted
            .filter(|_| self.in_flight.is_none())
            .map(|(_, at)| at);
        flight.into_iter().chain(wanted).min()
    }

    /// Timers A and B of the re-INVITE in flight. Given up, the session
    /// stays as it was.
    pub fn on_timer(&mut self, peer: SocketAddr, now: Instant, out: &mut Sends) {
        let Some(f) = &mut self.in_flight else {
            return;
        };
        if now >= f.resend.give_up {
            self.in_flight = None;
        } else if now >= f.resend.next {
            out.push((peer, f.sent.bytes.clone()));
            f.resend.again();
        }
    }

    /// A response in the dialog with the CSeq method INVITE: handled if it
    /// answers our re-INVITE (or is a copy of a 2xx already ACKed).
    pub fn on_response(
        &mut self,
        dialog: &Dialog,
        answer: &ReceivedResponse,
        now: Instant,
        out: &mut Sends,
    ) -> Answered {
        let seq = answer.cseq().map(|c| c.seq);
        let code = answer.code();
        if let Some((acked, ack)) = &self.ack
            && Some(*acked) == seq
            && (200..300).contains(&code)
        {
            out.push((dialog.peer, ack.clone()));
            return Answered::Nothing;
        }
        let Some(f) = &mut self.in_flight else {
            return Answered::Nothing;
        };
        if Some(f.sent.seq) != seq {
            return Answered::Nothing;
        }
        if code < 200 {
            f.resend.provisional();
            return Answered::Nothing;
        }
        let Some(f) = self.in_flight.take() else {
            return Answered::Nothing;
        };
        let ack = dialog.ack(&f.sent, code, Body::None);
        out.push((dialog.peer, ack.clone()));
        if (200..300).contains(&code) {
            self.ack = Some((f.sent.seq, ack));
            return match sdp::read_answer(answer.body()) {
                Ok(media) => Answered::Media(media),
                Err(_) => Answered::Unusable,
            };
        }
        if code == 491 {
            let direction = match self.wanted {
                // A newer direction asked for meanwhile goes instead.
                Some((d, _)) => d,
                None => f.direction,
            };
            self.wanted = Some((direction, now + self.glare_wait()));
            return Answered::Glare;
        }
        Answered::Refused(code)
    }

    /// The random wait after a 491 (RFC 3261 §14.1), in 10 ms units.
    fn glare_wait(&self) -> Duration {
        let (low, high) = if self.owner { (210, 400) } else { (0, 200) };
        let mut rng = crate::random::Rng::new(getrandom::u64().unwrap_or(0x5eed));
        let units = (low + rng.below(high - low + 1)) as u64;
        Duration::from_millis(units * 10)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::sdp::{Codec, Local};
    use crate::sip::message::{Message, parse};

    fn peer() -> SocketAddr {
        "127.0.0.1:5070".parse().unwrap()
    }

    fn dialog() -> Dialog {
        let local = "127.0.0.1:5060".parse().unwrap();
        let mut d = Dialog::calling(
            "sip:caller@127.0.0.1",
            "sip:ana@127.0.0.1:5070",
            peer(),
            local,
        );
        d.remote_tag = Some("agent1".into());
        d
    }

    fn offer(direction: Direction) -> String {
        let local = Local {
            addr: "127.0.0.1:40000".parse().unwrap(),
            session_id: 1,
            version: 2,
        };
        sdp::offer(&local, &[Codec::Pcmu], direction)
    }

    /// The answer `code` to the request `bytes`, from the far side.
    fn answer_to(bytes: &[u8], code: u16, body: &str) -> ReceivedResponse {
        let request = String::from_utf8_lossy(bytes);
        let line = |name: &str| {
            request
                .lines()
                .find(|l| l.starts_with(&format!("{name}:")))
                .unwrap()
                .to_string()
        };
        let mut text = format!("SIP/2.0 {code} Whatever\r\n");
        for name in ["Via", "From", "To", "Call-ID", "CSeq"] {
            text.push_str(&line(name));
            text.push_str("\r\n");
        }
        if !body.is_empty() {
            text.push_str("Content-Type: application/sdp\r\n");
        }
        text.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
        match parse(text.as_bytes()).unwrap() {
            Message::Response(r) => r,
            Message::Request(_) => unreachable!(),
        }
    }

    fn agent_sdp(direction: &str) -> String {
        format!(
            "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
             m=audio 4010 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na={direction}\r\n"
        )
    }

    /// A hold asked for and its re-INVITE sent: the time, the dialog, the
    /// `Reoffer` and the INVITE.
    fn hold_sent(owner: bool) -> (Instant, Dialog, Reoffer, Vec<u8>) {
        let now = Instant::now();
        let mut d = dialog();
        let mut r = Reoffer::new(owner);
        r.want(Direction::SendOnly, now);
        assert_eq!(r.due(now), Some(Direction::SendOnly));
        let mut out = Vec::new();
        let hold = offer(Direction::SendOnly);
        r.send(&mut d, Direction::SendOnly, &hold, now, &mut out);
        (now, d, r, out.pop().unwrap().1)
    }

    #[test]
    fn a_hold_is_offered_answered_and_acked() {
        let (now, d, mut r, invite) = hold_sent(true);
        assert_eq!(r.due(now), None, "asked once, sent once");
        assert!(r.busy());
        let mut out = Vec::new();
        assert!(String::from_utf8_lossy(&invite).contains("a=sendonly"));
        let ok = answer_to(&invite, 200, &agent_sdp("recvonly"));
        match r.on_response(&d, &ok, now, &mut out) {
            Answered::Media(m) => assert_eq!(m.direction, Direction::RecvOnly),
            other => panic!("{other:?}"),
        }
        assert!(!r.busy());
        let ack = String::from_utf8_lossy(&out.pop().unwrap().1).into_owned();
        assert!(ack.starts_with("ACK "), "{ack}");
        // The 2xx again: the same ACK again, nothing else.
        assert_eq!(r.on_response(&d, &ok, now, &mut out), Answered::Nothing);
        assert_eq!(String::from_utf8_lossy(&out.pop().unwrap().1), ack);
    }

    #[test]
    fn a_491_is_acked_and_the_offer_goes_again_after_the_glare_wait() {
        for owner in [true, false] {
            let (now, d, mut r, invite) = hold_sent(owner);
            let mut out = Vec::new();
            let pending = answer_to(&invite, 491, "");
            assert_eq!(r.on_response(&d, &pending, now, &mut out), Answered::Glare);
            let ack = String::from_utf8_lossy(&out.pop().unwrap().1).into_owned();
            assert!(ack.starts_with("ACK "), "{ack}");
            // The failure's ACK is on the INVITE's branch.
            let branch = |m: &str| {
                m.lines()
                    .find(|l| l.starts_with("Via:"))
                    .unwrap()
                    .to_string()
            };
            assert_eq!(branch(&ack), branch(&String::from_utf8_lossy(&invite)));
            let at = r.deadline().unwrap();
            let wait = at - now;
            if owner {
                assert!((2_100..=4_000).contains(&wait.as_millis()), "{wait:?}");
            } else {
                assert!(wait.as_millis() <= 2_000, "{wait:?}");
            }
            assert_eq!(r.due(at - Duration::from_millis(1)), None);
            assert_eq!(r.due(at), Some(Direction::SendOnly));
        }
    }

    #[test]
    fn only_the_last_direction_asked_for_goes_after_the_one_in_flight() {
        let (now, d, mut r, invite) = hold_sent(false);
        let mut out = Vec::new();
        r.want(Direction::Inactive, now);
        r.want(Direction::SendRecv, now);
        assert_eq!(r.due(now), None, "one re-INVITE at a time");
        r.on_response(
            &d,
            &answer_to(&invite, 200, &agent_sdp("recvonly")),
            now,
            &mut out,
        );
        assert_eq!(r.due(now), Some(Direction::SendRecv));
    }

    #[test]
    fn a_refusal_or_timer_b_leaves_the_session_as_it_was() {
        let (now, mut d, mut r, invite) = hold_sent(true);
        let mut out = Vec::new();
        assert_eq!(
            r.on_response(&d, &answer_to(&invite, 488, ""), now, &mut out),
            Answered::Refused(488)
        );
        assert!(!r.busy());
        r.send(
            &mut d,
            Direction::SendOnly,
            &offer(Direction::SendOnly),
            now,
            &mut out,
        );
        out.clear();
        // Timer A sends it again; Timer B gives up.
        r.on_timer(peer(), now + Duration::from_millis(500), &mut out);
        assert_eq!(out.len(), 1);
        r.on_timer(peer(), now + Duration::from_secs(33), &mut out);
        assert!(!r.busy());
        assert_eq!(r.deadline(), None);
    }
}
