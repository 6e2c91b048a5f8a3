//! Ending calls at a shutdown's deadline. Every call talks to its channel
//! through [`Cutting`], whose waits (a prompt, keys, hold music, ringing,
//! a conversation) also end when the runtime cuts its calls. A cut wait
//! reads as the caller hanging up, so the call leaves queues, releases the
//! agents it rang and ends a conversation by the same code as any other
//! hang-up, and its record says it was cut.

use tokio_util::sync::CancellationToken;

use super::channel::{Announce, Channel, Collect, Collected, Ended, Rang, Ring, Target};
use crate::checked::RejectReason;

/// A channel whose waits end when `cut` is cancelled.
pub struct Cutting<'c, C: Channel> {
    inner: &'c mut C,
    cut: CancellationToken,
}

impl<'c, C: Channel> Cutting<'c, C> {
    pub fn new(inner: &'c mut C, cut: CancellationToken) -> Self {
        Cutting { inner, cut }
    }

    /// Whether the call's waits were cut short.
    pub fn is_cut(&self) -> bool {
        self.cut.is_cancelled()
    }

    /// Hangs up the channel itself (after a cut, the call's own hang-up
    /// would be cut short too).
    pub async fn hang_up_now(&mut self) {
        self.inner.hangup().await;
    }
}

/// Runs `work` unless or until the call is cut; `cut` is the result then.
macro_rules! or_cut {
    ($self:ident, $work:expr, $cut:expr) => {{
        let token = $self.cut.clone();
        tokio::select! {
            biased;
            _ = token.cancelled() => { $cut }
            done = $work => done,
        }
    }};
}

impl<C: Channel> Channel for Cutting<'_, C> {
    async fn answer(&mut self) -> bool {
        or_cut!(self, self.inner.answer(), false)
    }

    async fn play(&mut self, prompt: &str) -> bool {
        or_cut!(self, self.inner.play(prompt), false)
    }

    async fn collect(&mut self, request: &Collect) -> Collected {
        or_cut!(self, self.inner.collect(request), Collected::HungUp)
    }

    async fn ring(&mut self, targets: &[Target], ring: Ring) -> Rang {
        or_cut!(self, self.inner.ring(targets, ring), Rang::HungUp)
    }

    async fn bridge(&mut self, target: &Target, whisper: Option<&str>, record: bool) -> Ended {
        or_cut!(
            self,
            self.inner.bridge(target, whisper, record),
            Ended::Caller
        )
    }

    async fn announce(&mut self, what: &Announce) -> bool {
        or_cut!(self, self.inner.announce(what), false)
    }

    async fn hold(&mut self, music: Option<&str>, ms: i64) -> bool {
        or_cut!(self, self.inner.hold(music, ms), false)
    }

    async fn voicemail(&mut self, mailbox: &str) {
        or_cut!(self, self.inner.voicemail(mailbox), ())
    }

    async fn transfer(&mut self, number: &str) -> bool {
        or_cut!(self, self.inner.transfer(number), false)
    }

    async fn reject(&mut self, reason: RejectReason) {
        or_cut!(self, self.inner.reject(reason), ())
    }

    async fn hangup(&mut self) {
        or_cut!(self, self.inner.hangup(), ())
    }
}
