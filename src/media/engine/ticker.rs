//! The one 20 ms ticker of the server: at every tick it sends each playing
//! stream's next frame (a copy of pre-encoded bytes and a non-blocking
//! send), rather than a timer per stream.
//!
//! The interval skips missed ticks (`MissedTickBehavior::Skip`): a tick
//! that starts late is sent late but the next stays on the 20 ms grid, so
//! the packet rate does not drift, and a tick more than a period late is
//! dropped rather than sent in a burst. Ticks that start 5 ms or more late
//! are counted.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use super::shared::{Atomics, Inner, Playing, StreamShared, next_frame};
use crate::media::prompt::FRAME;
use crate::media::rtp;

/// The frame period.
pub(crate) const PERIOD: Duration = Duration::from_millis(20);
/// A tick starting this late or later is counted late.
const LATE: Duration = Duration::from_millis(5);

/// Runs until `stop` is cancelled.
pub(crate) async fn run(inner: Arc<Inner>, stop: CancellationToken) {
    let mut interval = tokio::time::interval(PERIOD);
    interval.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut streams: Vec<Arc<StreamShared>> = Vec::new();
    let mut version = u64::MAX;
    let mut buf = [0u8; 12 + FRAME];
    loop {
        let due = tokio::select! {
            due = interval.tick() => due,
            () = stop.cancelled() => return,
        };
        let started = Instant::now();
        let lateness = started.saturating_duration_since(due);
        if lateness >= LATE {
            inner.late_ticks.fetch_add(1, Ordering::Relaxed);
        }
        inner
            .max_lateness_us
            .fetch_max(lateness.as_micros() as u64, Ordering::Relaxed);
        let tick = inner.tick.fetch_add(1, Ordering::Relaxed) + 1;
        let now = inner.version.load(Ordering::Acquire);
        if now != version {
            version = now;
            streams.clear();
            streams.extend(super::record::lock(&inner.streams).values().cloned());
        }
        let mut sent = 0;
        let mut failed = 0;
        for stream in &streams {
            match send_frame(stream, tick, &mut buf) {
                Some(true) => sent += 1,
                Some(false) => failed += 1,
                None => {}
            }
        }
        Atomics::add(&inner.counters.sent, sent);
        Atomics::add(&inner.counters.send_errors, failed);
        inner.ticks.fetch_add(1, Ordering::Relaxed);
        inner
            .max_work_us
            .fetch_max(started.elapsed().as_micros() as u64, Ordering::Relaxed);
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
