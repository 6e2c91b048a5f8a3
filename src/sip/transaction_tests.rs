//! Tests of `transaction`: every state change and timer, on virtual time
//! (an `Instant` taken once, moved forward by hand).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::sip::message::{Message, Method, Request, parse};
use crate::sip::response::{Response, response};
use crate::sip::transaction::{Arrival, Fired, Key, Table, Timers, needs_trying};

fn req(method: &str, branch: &str) -> Request {
    let text = format!(
        "{method} sip:100@h SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch={branch}\r\n\
         From: <sip:a@h>;tag=ft\r\nTo: <sip:100@h>\r\nCall-ID: c1\r\nCSeq: 1 {method}\r\n\r\n"
    );
    match parse(text.as_bytes()) {
        Ok(Message::Request(r)) => r,
        other => panic!("{other:?}"),
    }
}

fn key(method: &str, branch: &str) -> Key {
    Key::of(&req(method, branch)).unwrap()
}

const PEER: &str = "192.0.2.1:5060";

fn peer() -> SocketAddr {
    PEER.parse().unwrap()
}

fn answer(code: u16) -> Response {
    response(&req("INVITE", "z9hG4bKx"), code, "X").finish()
}

/// A table over UDP (unreliable) with the default timers, and time zero.
fn table() -> (Table, Instant) {
    (Table::new(Timers::default(), 8), Instant::now())
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Fires timers at `at`, returning what fired and how many sends.
fn fire(t: &mut Table, at: Instant) -> (Fired, usize) {
    let mut sends = 0;
    let fired = t.on_timers(at, |to, bytes| {
        assert_eq!(to, peer());
        assert!(bytes.starts_with(b"SIP/2.0 "));
        sends += 1;
    });
    (fired, sends)
}

#[test]
fn keys_follow_rfc_3261_17_2_3() {
    // ACK matches its INVITE; CANCEL is its own transaction but finds it.
    assert_eq!(key("ACK", "z9hG4bK1"), key("INVITE", "z9hG4bK1"));
    assert_ne!(key("CANCEL", "z9hG4bK1"), key("INVITE", "z9hG4bK1"));
    assert_eq!(
        key("CANCEL", "z9hG4bK1").cancelled_invite(),
        key("INVITE", "z9hG4bK1")
    );
    assert_ne!(key("INVITE", "z9hG4bK1"), key("INVITE", "z9hG4bK2"));
    // RFC 2543 branches fall back to Call-ID, CSeq and From-tag.
    match key("INVITE", "old1") {
        Key::Legacy {
            call_id,
            cseq,
            from_tag,
            ..
        } => {
            assert_eq!((&*call_id, cseq, &*from_tag), ("c1", 1, "ft"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(key("ACK", "old1"), key("INVITE", "old2"));
}

#[test]
fn a_retransmitted_invite_is_absorbed_then_answered_with_the_last_response() {
    let (mut t, now) = table();
    let k = key("INVITE", "z9hG4bK1");
    assert_eq!(t.on_request(&k, false, peer(), false, now), Arrival::New);
    // Before any answer: nothing to send.
    assert_eq!(
        t.on_request(&k, false, peer(), false, now),
        Arrival::Absorbed
    );
    assert!(t.respond(&k, answer(180), now));
    assert_eq!(
        t.on_request(&k, false, peer(), false, now),
        Arrival::Resend(peer())
    );
    assert!(t.last_response(&k).unwrap().starts_with(b"SIP/2.0 180"));
    assert!(t.respond(&k, answer(302), now));
    assert_eq!(
        t.on_request(&k, false, peer(), false, now),
        Arrival::Resend(peer())
    );
    assert!(t.last_response(&k).unwrap().starts_with(b"SIP/2.0 302"));
    assert_eq!(t.len(), 1);
}

#[test]
fn timer_g_doubles_to_t2_until_timer_h() {
    let (mut t, now) = table();
    let k = key("INVITE", "z9hG4bK1");
    t.on_request(&k, false, peer(), false, now);
    t.respond(&k, answer(486), now);
    // G fires at 0.5, 1.5, 3.5, 7.5, 11.5, ... s (intervals 0.5, 1, 2, 4, 4, ...).
    let mut at = Vec::new();
    while let Some(next) = t.next_deadline() {
        let (fired, sends) = fire(&mut t, next);
        if fired.timed_out == 1 {
            assert_eq!(next - now, ms(32_000), "Timer H is 64·T1");
            break;
        }
        assert_eq!((fired.retransmitted, sends), (1, 1));
        at.push((next - now).as_millis());
    }
    assert_eq!(&at[..6], &[500, 1500, 3500, 7500, 11500, 15500]);
    assert_eq!(*at.last().unwrap(), 31500);
    assert!(t.is_empty(), "Timer H ends the transaction");
    assert_eq!(t.next_deadline(), None);
}

#[test]
fn the_ack_stops_timer_g_and_timer_i_ends_the_transaction() {
    let (mut t, now) = table();
    let k = key("INVITE", "z9hG4bK1");
    t.on_request(&k, false, peer(), false, now);
    t.respond(&k, answer(302), now);
    assert_eq!(fire(&mut t, now + ms(500)).1, 1);
    let ack = key("ACK", "z9hG4bK1");
    assert_eq!(
        t.on_request(&ack, true, peer(), false, now + ms(600)),
        Arrival::AckMatched
    );
    // A retransmitted ACK is absorbed too; nothing is sent any more.
    assert_eq!(
        t.on_request(&ack, true, peer(), false, now + ms(700)),
        Arrival::AckMatched
    );
    assert_eq!(
        t.next_deadline(),
        Some(now + ms(600) + Timers::default().t4)
    );
    let (fired, sends) = fire(&mut t, now + ms(5600));
    assert_eq!((fired.ended, fired.retransmitted, sends), (1, 0, 0));
    assert!(t.is_empty());
    // An ACK after the transaction ended matches nothing.
    assert_eq!(
        t.on_request(&ack, true, peer(), false, now + ms(6000)),
        Arrival::StrayAck
    );
}

#[test]
fn a_2xx_to_invite_absorbs_retransmissions_until_timer_l() {
    let (mut t, now) = table();
    let k = key("INVITE", "z9hG4bK1");
    t.on_request(&k, false, peer(), false, now);
    t.respond(&k, answer(200), now);
    assert_eq!(
        t.on_request(&k, false, peer(), false, now),
        Arrival::Absorbed
    );
    // The ACK of a 2xx is its own transaction: the handler sees it.
    assert_eq!(
        t.on_request(&k, true, peer(), false, now),
        Arrival::StrayAck
    );
    assert_eq!(fire(&mut t, now + ms(31_999)), (Fired::default(), 0));
    assert_eq!(fire(&mut t, now + ms(32_000)).0.ended, 1);
    assert!(t.is_empty());
}

#[test]
fn over_a_reliable_transport_nothing_is_retransmitted() {
    let (mut t, now) = table();
    let k = key("INVITE", "z9hG4bK1");
    t.on_request(&k, false, peer(), true, now);
    t.respond(&k, answer(404), now);
    assert_eq!(t.next_deadline(), Some(now + ms(32_000)), "only Timer H");
    assert_eq!(
        t.on_request(&k, true, peer(), true, now),
        Arrival::AckMatched
    );
    assert_eq!(fire(&mut t, now).0.ended, 1, "Timer I is 0 over TCP");
    let n = key("OPTIONS", "z9hG4bK2");
    t.on_request(&n, false, peer(), true, now);
    t.respond(&n, answer(200), now);
    assert_eq!(fire(&mut t, now).0.ended, 1, "Timer J is 0 over TCP");
}

#[test]
fn non_invite_retransmissions_get_the_last_response_until_timer_j() {
    let (mut t, now) = table();
    let k = key("OPTIONS", "z9hG4bK9");
    assert_eq!(t.on_request(&k, false, peer(), false, now), Arrival::New);
    t.respond(&k, answer(200), now);
    assert_eq!(
        t.on_request(&k, false, peer(), false, now + ms(1)),
        Arrival::Resend(peer())
    );
    // Non-INVITE finals are never retransmitted by timer.
    assert_eq!(fire(&mut t, now + ms(31_999)), (Fired::default(), 0));
    assert_eq!(fire(&mut t, now + ms(32_000)).0.ended, 1);
    assert_eq!(
        t.on_request(&k, false, peer(), false, now + ms(32_001)),
        Arrival::New
    );
}

#[test]
fn an_unanswered_transaction_leaves_at_its_deadline() {
    let (mut t, now) = table();
    let o = key("OPTIONS", "z9hG4bK1");
    let i = key("INVITE", "z9hG4bK2");
    t.on_request(&o, false, peer(), false, now);
    t.on_request(&i, false, peer(), false, now);
    // Until the handler says it will answer later, no deadline is set
    // (an answer at once needs none).
    assert_eq!(t.next_deadline(), None);
    t.waiting(&o, now);
    t.waiting(&i, now);
    assert_eq!(fire(&mut t, now + ms(31_999)), (Fired::default(), 0));
    assert_eq!(fire(&mut t, now + ms(32_000)).0.unanswered, 1);
    assert_eq!(fire(&mut t, now + Duration::from_secs(180)).0.unanswered, 1);
    assert!(t.is_empty());
    assert!(!t.respond(&i, answer(200), now), "too late to answer");
}

#[test]
fn a_full_table_refuses_new_transactions_but_serves_old_ones() {
    let mut t = Table::new(Timers::default(), 2);
    let now = Instant::now();
    let keys: Vec<Key> = (0..3)
        .map(|i| key("INVITE", &format!("z9hG4bK{i}")))
        .collect();
    assert_eq!(
        t.on_request(&keys[0], false, peer(), false, now),
        Arrival::New
    );
    assert!(!t.is_full());
    assert_eq!(
        t.on_request(&keys[1], false, peer(), false, now),
        Arrival::New
    );
    assert!(t.is_full());
    assert_eq!(
        t.on_request(&keys[2], false, peer(), false, now),
        Arrival::Full
    );
    t.respond(&keys[0], answer(302), now);
    assert_eq!(
        t.on_request(&keys[0], false, peer(), false, now),
        Arrival::Resend(peer())
    );
}

#[test]
fn trying_is_sent_only_when_the_invite_waits() {
    assert!(needs_trying(&Method::Invite, false));
    assert!(!needs_trying(&Method::Invite, true));
    assert!(!needs_trying(&Method::Options, false));
}

#[test]
fn only_transactions_waiting_for_an_answer_or_an_ack_count_against_the_limit() {
    let mut t = Table::new(Timers::default(), 1);
    let now = Instant::now();
    let (a, b, c) = (
        key("INVITE", "z9hG4bKa"),
        key("INVITE", "z9hG4bKb"),
        key("INVITE", "z9hG4bKc"),
    );
    t.on_request(&a, false, peer(), false, now);
    t.respond(&a, answer(302), now);
    // Completed, waiting for its ACK: still pending.
    assert_eq!((t.pending(), t.is_full()), (1, true));
    assert_eq!(t.on_request(&b, false, peer(), false, now), Arrival::Full);
    t.on_request(&a, true, peer(), false, now);
    // Confirmed: held for Timer I, but no longer pending.
    assert_eq!((t.len(), t.pending()), (1, 0));
    assert_eq!(t.on_request(&b, false, peer(), false, now), Arrival::New);
    t.respond(&b, answer(200), now);
    assert_eq!((t.len(), t.pending()), (2, 0), "Accepted is not pending");
    assert!(!t.respond(&b, answer(486), now), "one final answer only");
    assert_eq!(t.on_request(&c, false, peer(), false, now), Arrival::New);
    t.waiting(&c, now);
    fire(&mut t, now + Duration::from_secs(180));
    assert_eq!((t.len(), t.pending()), (0, 0));
    // A non-INVITE answered waits for nothing: held for Timer J only.
    let o = key("OPTIONS", "z9hG4bKo");
    assert_eq!(t.on_request(&o, false, peer(), false, now), Arrival::New);
    assert_eq!(t.pending(), 1);
    t.respond(&o, answer(200), now);
    assert_eq!((t.len(), t.pending()), (1, 0));
    assert_eq!(t.on_request(&a, false, peer(), false, now), Arrival::New);
    fire(&mut t, now + Duration::from_secs(33));
    assert_eq!(t.len(), 1, "Timer J ended the OPTIONS");
}

#[test]
fn a_provisional_answer_keeps_the_transaction_waiting_for_its_final_one() {
    let (mut t, now) = table();
    let k = key("INVITE", "z9hG4bK1");
    t.on_request(&k, false, peer(), false, now);
    t.respond(&k, answer(180), now);
    assert_eq!(t.next_deadline(), Some(now + Duration::from_secs(180)));
    assert!(t.respond(&k, answer(302), now + ms(10)));
    assert_eq!(
        t.next_deadline(),
        Some(now + ms(510)),
        "Timer G replaces the wait"
    );
}

#[test]
fn slots_are_reused_without_old_deadlines_firing_on_new_transactions() {
    let (mut t, now) = table();
    let a = key("OPTIONS", "z9hG4bKa");
    t.on_request(&a, false, peer(), false, now);
    t.respond(&a, answer(200), now);
    assert_eq!(fire(&mut t, now + ms(32_000)).0.ended, 1);
    let b = key("OPTIONS", "z9hG4bKb");
    t.on_request(&b, false, peer(), false, now + ms(32_000));
    t.respond(&b, answer(200), now + ms(32_000));
    assert_eq!(t.len(), 1);
    assert_eq!(fire(&mut t, now + ms(63_999)), (Fired::default(), 0));
    assert_eq!(fire(&mut t, now + ms(64_000)).0.ended, 1);
}
