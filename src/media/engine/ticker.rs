//! The one ticker of the server: every stream's frames are sent by it
//! (a copy of pre-encoded bytes and a non-blocking send), rather than by a
//! timer per stream.
//!
//! The 20 ms period is cut into [`SLOTS`] slots of 1 ms, and each stream
//! has its slot (its id modulo `SLOTS`, so streams opened one after the
//! other spread evenly): at every 1 ms tick the ticker sends the frames of
//! that slot's streams. A stream's packets therefore leave every 20 ms at
//! the same point of its slot, and how long the other slots take to send
//! does not move them. With one send for every stream at once, a stream
//! late in the list was sent after all the others, and that wait varied
//! from one period to the next by as much as the whole burst took (about
//! 7 ms for 1,000 streams here); the network and the phones also see 20
//! small bursts instead of one large one.
//!
//! Empty slots are slept through, so an idle server wakes once a period.
//! A tick that starts late is sent late, and the ticks after it keep to
//! the 1 ms grid; the ticker falls more than a period behind only if the
//! runtime stalls, and then drops the frames it missed (whole periods)
//! rather than sending them in a burst, so the packet rate does not drift.
//! A period in which a tick started 5 ms or more late is counted late.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::shared::{Atomics, Inner, Playing, StreamShared, next_frame};
use crate::media::prompt::FRAME;
use crate::media::rtp;

/// The frame period.
pub(crate) const PERIOD: Duration = Duration::from_millis(20);
/// Slots per period: a tick every `PERIOD / SLOTS`.
const SLOTS: u64 = 20;
/// The time between two ticks.
const SLOT: Duration = Duration::from_nanos(PERIOD.as_nanos() as u64 / SLOTS);
/// A tick starting this late or later makes its period late.
const LATE: Duration = Duration::from_millis(5);

/// Runs until `stop` is cancelled.
pub(crate) async fn run(inner: Arc<Inner>, stop: CancellationToken) {
    let start = Instant::now();
    // The next tick: the period is `next / SLOTS`, the slot `next % SLOTS`.
    let mut next: u64 = 0;
    let sleep = tokio::time::sleep_until(start);
    tokio::pin!(sleep);
    let mut slots: Vec<Vec<Arc<StreamShared>>> = vec![Vec::new(); SLOTS as usize];
    let mut registered: Vec<Arc<StreamShared>> = Vec::new();
    let mut version = u64::MAX;
    let mut period_late = false;
    let mut buf = [0u8; 12 + FRAME];
    loop {
        let due = start + Duration::from_nanos(next.saturating_mul(SLOT.as_nanos() as u64));
        sleep.as_mut().reset(due);
        tokio::select! {
            () = &mut sleep => {}
            () = stop.cancelled() => return,
        }
        let started = Instant::now();
        let mut lateness = started.saturating_duration_since(due);
        if lateness >= PERIOD {
            // Stalled for more than a period: drop the frames missed.
            let periods = (lateness.as_nanos() / PERIOD.as_nanos()) as u64;
            next += periods * SLOTS;
            lateness = Duration::from_nanos((lateness.as_nanos() % PERIOD.as_nanos()) as u64);
        }
        let (period, slot) = (next / SLOTS, (next % SLOTS) as usize);
        next += 1;
        if slot == 0 {
            // The RTP clock of every stream: periods since the start.
            inner.tick.store(period + 1, Ordering::Relaxed);
            inner.ticks.fetch_add(1, Ordering::Relaxed);
            period_late = false;
        }
        if lateness >= LATE && !period_late {
            period_late = true;
            inner.late_ticks.fetch_add(1, Ordering::Relaxed);
        }
        inner
            .max_lateness_us
            .fetch_max(lateness.as_micros() as u64, Ordering::Relaxed);
        let now = inner.version.load(Ordering::Acquire);
        if now != version {
            version = now;
            for s in &mut slots {
                s.clear();
            }
            // Copied out first: `sends` takes each stream's send lock,
            // which is not taken under the registry's.
            registered.extend(super::record::lock(&inner.streams).values().cloned());
            for stream in registered.drain(..).filter(|s| s.sends()) {
                slots[(stream.id % SLOTS) as usize].push(stream);
            }
        }
        let tick = period + 1;
        let mut sent = 0;
        let mut failed = 0;
        for stream in &slots[slot] {
            match send_frame(stream, tick, &mut buf) {
                Some(true) => sent += 1,
                Some(false) => failed += 1,
                None => {}
            }
        }
        Atomics::add(&inner.counters.sent, sent);
        Atomics::add(&inner.counters.send_errors, failed);
        inner
            .max_work_us
            .fetch_max(started.elapsed().as_micros() as u64, Ordering::Relaxed);
        // Sleep through empty slots: an idle server wakes once a period,
        // at slot 0, where the period's clock moves on. A stream opened
        // meanwhile is seen there, at most a period later.
        while !next.is_multiple_of(SLOTS) && slots[(next % SLOTS) as usize].is_empty() {
            next += 1;
        }
    }
}

/// Sends one stream's frame for `tick`: `None` if it sends nothing now
/// (not connected, bridged, closed), else whether the socket took it.
fn send_frame(stream: &StreamShared, tick: u64, buf: &mut [u8; 12 + FRAME]) -> Option<bool> {
    if stream.closed.load(Ordering::Relaxed) {
        return None;
    }
    let mut frame = [0u8; FRAME];
    let mut finished = false;
    let (header, destination) = {
        let mut tx = super::record::lock(&stream.tx);
        if tx.bridged {
            return None;
        }
        let destination = tx.destination.filter(|d| d.reachable())?;
        let codec = destination.codec;
        match &mut tx.playing {
            Playing::Once { audio, at } => {
                let more = next_frame(audio, codec, at, false, &mut frame);
                if !more || *at >= audio.len() {
                    finished = true;
                    tx.playing = Playing::Silence;
                    if !more {
                        frame.fill(super::shared::silence(codec));
                    }
                }
            }
            Playing::Loop { audio, at, .. } => {
                next_frame(audio, codec, at, true, &mut frame);
            }
            Playing::Silence => frame.fill(super::shared::silence(codec)),
        }
        (tx.out.next(destination.payload_type, tick), destination)
    };
    if finished {
        stream.once.send_replace(false);
    }
    let len = rtp::write(&header, &frame, buf)?;
    let ok = stream
        .socket
        .try_send_to(&buf[..len], destination.addr)
        .is_ok();
    let counter = if ok {
        &stream.counters.sent
    } else {
        &stream.counters.send_errors
    };
    Atomics::add(counter, 1);
    Some(ok)
}
