//! Bridging two streams: each one's receive task relays what it receives
//! to the other's remote from the other's socket, with no ticker hop, and
//! the ticker sends nothing on either while they are bridged.

use std::io;
use std::path::Path;
use std::sync::{Arc, Mutex};

use super::record::{Channel, RecordingInfo, Stereo, lock};
use super::shared::{Inner, Playing, Relay, StreamShared};
use super::stream::Stream;

/// Two bridged streams. Dropping it (or [`finish`](Bridge::finish)) ends
/// the relay; both streams go back to playing silence.
pub struct Bridge {
    a: Arc<StreamShared>,
    b: Arc<StreamShared>,
    inner: Arc<Inner>,
    record: Option<Arc<Mutex<Stereo>>>,
    ended: bool,
}

/// Relays RTP both ways between two streams: what `a` receives goes to
/// `b`'s remote from `b`'s socket, and back. Payload types are rewritten to
/// what each side negotiated, G.711 transcoded if the laws differ (PCMU
/// and PCMA), telephone-events passed with the other side's payload type or
/// dropped if it has none. With `record`, both directions go to one stereo
/// WAV (left: what `a` received, right: what `b` received).
pub fn bridge(a: &Stream, b: &Stream, record: Option<&Path>) -> io::Result<Bridge> {
    if Arc::ptr_eq(&a.shared, &b.shared) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "cannot bridge a stream to itself",
        ));
    }
    for s in [&a.shared, &b.shared] {
        if lock(&s.rx).relay.is_some() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("stream {} is already bridged", s.local),
            ));
        }
    }
    let sink = match record {
        Some(path) => Some(Arc::new(Mutex::new(Stereo::create(path)?))),
        None => None,
    };
    for (from, to, channel) in [
        (&a.shared, &b.shared, Channel::Left),
        (&b.shared, &a.shared, Channel::Right),
    ] {
        {
            let mut tx = lock(&to.tx);
            tx.bridged = true;
            tx.relay = None;
            // What played stops (a loop keeps its place).
            tx.replace(Playing::Silence);
        }
        to.once.send_replace(false);
        lock(&from.rx).relay = Some(Relay {
            to: Arc::downgrade(to),
            record: sink.clone().map(|s| (s, channel)),
        });
    }
    a.inner.changed();
    Ok(Bridge {
        a: a.shared.clone(),
        b: b.shared.clone(),
        inner: a.inner.clone(),
        record: sink,
        ended: false,
    })
}

impl Bridge {
    /// Ends the relay and completes the recording, if any.
    pub fn finish(mut self) -> io::Result<Option<RecordingInfo>> {
        self.end();
        match self.record.take() {
            Some(sink) => lock(&sink).finish().map(Some),
            None => Ok(None),
        }
    }

    fn end(&mut self) {
        if std::mem::replace(&mut self.ended, true) {
            return;
        }
        for s in [&self.a, &self.b] {
            lock(&s.rx).relay = None;
            let mut tx = lock(&s.tx);
            tx.bridged = false;
            tx.relay = None;
            tx.replace(Playing::Silence);
            drop(tx);
            s.once.send_replace(false);
        }
        self.inner.changed();
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        self.end();
        if let Some(sink) = self.record.take() {
            let _ = lock(&sink).finish();
        }
    }
}
