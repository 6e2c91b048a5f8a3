//! The media engine: every RTP stream of the server, one shared 20 ms
//! ticker task that sends each playing stream's next frame (not a timer
//! per stream), one receive task per stream, bridges that relay between
//! two streams in their receive tasks, and recordings.
//!
//! - `shared.rs`: the registry, counters, encoded-prompt cache and each
//!   stream's state;
//! - `ticker.rs`: the ticker; `receive.rs`: the receive task (source check,
//!   DTMF, recording, relay);
//! - `stream.rs`: [`Stream`], one call leg's endpoint; `bridge.rs`:
//!   [`bridge`]; `record.rs`: WAV recordings.
//!
//! Prompts are encoded once per law and cached by the engine while the
//! prompt lives, so a tick copies 160 bytes and sends per stream.

mod bridge;
mod receive;
mod record;
mod shared;
mod stream;
mod ticker;

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

pub use bridge::{Bridge, bridge};
pub use record::{Recording, RecordingInfo};
pub use shared::{MediaConfig, MediaCounters, StreamCounters};
pub use stream::{Source, Stream};

/// All RTP streams of the server and their ticker.
pub struct Media {
    inner: Arc<shared::Inner>,
    stop: CancellationToken,
}

impl Media {
    /// Starts the ticker task (needs a tokio runtime).
    pub fn start(config: MediaConfig) -> Arc<Media> {
        let inner = Arc::new(shared::Inner::new(config));
        let stop = CancellationToken::new();
        tokio::spawn(ticker::run(inner.clone(), stop.clone()));
        Arc::new(Media { inner, stop })
    }

    /// Opens one RTP endpoint for one call leg, on the next free even port
    /// of the range.
    pub fn open(self: &Arc<Self>) -> std::io::Result<Stream> {
        Stream::open(&self.inner)
    }

    pub fn config(&self) -> &MediaConfig {
        &self.inner.config
    }

    pub fn counters(&self) -> MediaCounters {
        self.inner.counters()
    }

    /// Stops the ticker: streams stop sending (relays and receive tasks go
    /// on until their streams are dropped).
    pub fn stop(&self) {
        self.stop.cancel();
    }
}

impl Drop for Media {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

#[cfg(test)]
mod tests;
