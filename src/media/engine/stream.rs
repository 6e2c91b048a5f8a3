//! One call leg's RTP endpoint: where it sends, what it plays, the digits
//! and silence it receives, and its recordings.

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use tokio::task::JoinHandle;

use super::record::{Mono, Recording, lock};
use super::shared::{Destination, Inner, Playing, StreamCounters, StreamShared};
use crate::media::prompt::Prompt;
use crate::media::sdp::Negotiated;

/// What a stream plays.
pub enum Source {
    /// A prompt once; [`Stream::finished`] resolves when its last frame
    /// has gone out. Then the stream plays silence.
    Once(Arc<Prompt>),
    /// Audio looped (hold music). `key` names the music: starting the same
    /// key again on the same stream resumes where it stopped instead of
    /// restarting.
    Loop { prompt: Arc<Prompt>, key: String },
    /// Comfort silence: keeps NAT and firewall paths and the peer's jitter
    /// buffer alive. What a stream plays when nothing else does.
    Silence,
}

/// One RTP endpoint. Dropping it ends its receive task, takes it off the
/// ticker and frees its port (once the task has ended, at the runtime's
/// next turn, and the ticker's next tick has let go of it).
pub struct Stream {
    pub(crate) shared: Arc<StreamShared>,
    pub(super) inner: Arc<Inner>,
    task: JoinHandle<()>,
}

impl Stream {
    pub(crate) fn open(inner: &Arc<Inner>) -> std::io::Result<Stream> {
        let socket = inner.ports.bind()?;
        let tick = inner.tick.load(Ordering::Relaxed);
        let out = crate::media::rtp::Outgoing::new(inner.random(), tick);
        let shared = Arc::new(StreamShared::new(inner.next_id(), socket, out));
        inner.register(shared.clone());
        let task = tokio::spawn(super::receive::run(shared.clone(), inner.clone()));
        Ok(Stream {
            shared,
            inner: inner.clone(),
            task,
        })
    }

    /// The local address (the SDP's `c=` and `m=` port).
    pub fn local(&self) -> SocketAddr {
        self.shared.local
    }

    /// Where and how to send (and from where to accept) RTP; called again
    /// after a re-INVITE. While the remote only sends or is inactive
    /// (hold), the stream keeps sending but expects nothing (no media
    /// timeout).
    pub fn connect(&self, remote: &Negotiated) {
        {
            let mut tx = lock(&self.shared.tx);
            let destination = Destination {
                addr: remote.remote,
                payload_type: remote.payload_type,
                codec: remote.codec,
                dtmf: remote.dtmf,
            };
            if tx.destination.is_none_or(|d| d.addr != destination.addr) {
                tx.out.marker = true;
            }
            tx.destination = Some(destination);
        }
        self.inner.changed();
        lock(&self.shared.rx).remote = Some(remote.clone());
        let sends = remote.direction.sends() && !remote.remote.ip().is_unspecified();
        let was = self.shared.expect.swap(sends, Ordering::AcqRel);
        if sends && !was {
            // The media timeout counts from now.
            self.shared
                .last_received_ms
                .store(self.inner.now_ms(), Ordering::Relaxed);
        }
        self.shared.changed.notify_waiters();
    }

    /// Stops sending to the remote and expecting anything from it, as
    /// when the call is ending: the ticker leaves the stream out at once,
    /// while its port stays bound until it is dropped. `connect` sends
    /// again.
    pub fn disconnect(&self) {
        lock(&self.shared.tx).destination = None;
        self.inner.changed();
        self.shared.expect.store(false, Ordering::Release);
        self.shared.changed.notify_waiters();
    }

    /// Replaces what the stream plays (nothing is sent before `connect`,
    /// and a prompt does not move on until then).
    pub fn play(&self, source: Source) {
        let mut tx = lock(&self.shared.tx);
        match source {
            Source::Once(prompt) => {
                let audio = self.inner.encoded(&prompt);
                let empty = audio.len() == 0;
                tx.replace(if empty {
                    Playing::Silence
                } else {
                    Playing::Once { audio, at: 0 }
                });
                self.shared.once.send_replace(!empty);
            }
            Source::Loop { prompt, key } => {
                let audio = self.inner.encoded(&prompt);
                if let Playing::Loop {
                    key: playing,
                    audio: same,
                    ..
                } = &tx.playing
                    && *playing == key
                    && Arc::ptr_eq(same, &audio)
                {
                    // Already playing: carry on.
                } else {
                    let at = tx.loops.get(&key).copied().unwrap_or(0);
                    let at = if audio.len() == 0 {
                        0
                    } else {
                        at % audio.len()
                    };
                    tx.replace(Playing::Loop { audio, at, key });
                }
                self.shared.once.send_replace(false);
            }
            Source::Silence => {
                if !matches!(tx.playing, Playing::Silence) {
                    tx.replace(Playing::Silence);
                }
                self.shared.once.send_replace(false);
            }
        }
    }

    /// Resolves when the current `Source::Once` has played out (at once if
    /// nothing, a loop or silence plays). Cancel-safe.
    pub fn finished(&self) -> impl Future<Output = ()> + Send + '_ {
        let mut playing = self.shared.once.subscribe();
        async move {
            // The sender lives as long as the stream.
            let _ = playing.wait_for(|once| !*once).await;
        }
    }

    /// The next DTMF digit received (RFC 4733 events, or pushed with
    /// [`push_digit`](Stream::push_digit)), in order. Cancel-safe: a digit
    /// is taken off the queue only when the future returns it.
    pub async fn digit(&self) -> char {
        loop {
            let notified = self.shared.digit_ready.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(digit) = lock(&self.shared.digits).pop_front() {
                return digit;
            }
            notified.await;
        }
    }

    /// A digit from SIP INFO (`application/dtmf-relay`), queued with the
    /// others.
    pub fn push_digit(&self, digit: char) {
        self.shared.push_digit(digit);
    }

    pub fn clear_digits(&self) {
        lock(&self.shared.digits).clear();
    }

    /// Resolves when a connected stream whose remote sends (sendrecv or
    /// sendonly) has received no RTP for the media timeout. Cancel-safe.
    pub fn silent(&self) -> impl Future<Output = ()> + Send + '_ {
        let timeout = self.inner.config.media_timeout;
        async move {
            loop {
                let changed = self.shared.changed.notified();
                tokio::pin!(changed);
                changed.as_mut().enable();
                if !self.shared.expect.load(Ordering::Acquire) {
                    changed.await;
                    continue;
                }
                let last = self.shared.last_received_ms.load(Ordering::Relaxed);
                let deadline = self.inner.epoch + std::time::Duration::from_millis(last) + timeout;
                if std::time::Instant::now() >= deadline {
                    return;
                }
                tokio::select! {
                    () = tokio::time::sleep_until(deadline.into()) => {}
                    () = &mut changed => {}
                }
            }
        }
    }

    /// Starts writing the audio received on this stream (decoded to 16-bit
    /// PCM, 8 kHz, mono) to a WAV file, creating its folder if need be;
    /// the file is complete when the recording is finished or dropped. A
    /// recording already running on the stream stops receiving.
    pub fn record(&self, path: &Path) -> std::io::Result<Recording> {
        let sink = Arc::new(Mutex::new(Mono::create(path)?));
        lock(&self.shared.rx).record = Some(sink.clone());
        Ok(Recording::new(sink))
    }

    pub fn counters(&self) -> StreamCounters {
        self.shared.counters()
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        self.shared.closed.store(true, Ordering::Relaxed);
        self.task.abort();
        self.inner.unregister(self.shared.id);
    }
}
