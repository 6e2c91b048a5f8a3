//! Ending calls at a shutdown's deadline. Every call talks to its channel
//! through [`Cutting`], whose waits (a prompt, keys, hold music, ringing,
//! a conversation) also end when the runtime cuts its calls. A cut wait
//! reads as the caller hanging up, so the call leaves queues, releases the
//! agents it rang and ends a conversation by the same code as any other
//! hang-up, and its record says it was cut.
//!
//! Each call has its own [`Signal`] (a flag and a waker), registered in
//! the runtime's [`Signals`] while the call runs: racing it costs a waker
//! registration per wait, with no lock, and a shutdown sets every flag.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use futures_util::task::AtomicWaker;

use super::channel::{Announce, Channel, Collect, Collected, Ended, Rang, Ring, Target};
use crate::checked::RejectReason;

/// One call's cut: set once, at the deadline.
#[derive(Default)]
pub struct Signal {
    cut: AtomicBool,
    waker: AtomicWaker,
}

impl Signal {
    fn cut(&self) {
        self.cut.store(true, Ordering::Release);
        self.waker.wake();
    }

    pub fn is_cut(&self) -> bool {
        self.cut.load(Ordering::Acquire)
    }
}

/// Ready once the call is cut.
struct WhenCut<'a>(&'a Signal);

impl Future for WhenCut<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.0.waker.register(cx.waker());
        if self.0.is_cut() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

/// The signals of the calls in progress, so a shutdown can cut them all:
/// in shards by call number, so calls on different threads rarely wait
/// for one another to register.
#[derive(Default)]
pub struct Signals {
    shards: [Shard; SHARDS],
}

/// Whether every call was cut, and the signals of the calls in progress.
type Shard = Mutex<(bool, HashMap<u64, Arc<Signal>>)>;

const SHARDS: usize = 16;

impl Signals {
    fn shard(&self, id: u64) -> std::sync::MutexGuard<'_, (bool, HashMap<u64, Arc<Signal>>)> {
        self.shards[id as usize % SHARDS]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// The signal of call `id`, already cut if every call has been.
    pub fn register(&self, id: u64) -> Arc<Signal> {
        let signal = Arc::new(Signal::default());
        let mut calls = self.shard(id);
        if calls.0 {
            signal.cut.store(true, Ordering::Release);
        } else {
            calls.1.insert(id, Arc::clone(&signal));
        }
        signal
    }

    /// Call `id` has ended.
    pub fn remove(&self, id: u64) {
        self.shard(id).1.remove(&id);
    }

    /// Cuts every call in progress, and every call registered from now on.
    pub fn cut_all(&self) {
        for shard in &self.shards {
            let mut calls = shard.lock().unwrap_or_else(|e| e.into_inner());
            calls.0 = true;
            for signal in calls.1.values() {
                signal.cut();
            }
        }
    }
}

/// A channel whose waits end when its call is cut.
pub struct Cutting<'c, C: Channel> {
    inner: &'c mut C,
    signal: Arc<Signal>,
}

impl<'c, C: Channel> Cutting<'c, C> {
    pub fn new(inner: &'c mut C, signal: Arc<Signal>) -> Self {
        Cutting { inner, signal }
    }

    /// Whether the call's waits were cut short.
    pub fn is_cut(&self) -> bool {
        self.signal.is_cut()
    }

    /// Hangs up the channel itself (after a cut, the call's own hang-up
    /// would be cut short too).
    pub async fn hang_up_now(&mut self) {
        self.inner.hangup().await;
    }
}

/// Runs `work` unless or until the call is cut; `cut` is the result then.
/// The work is polled first: a wait that is over at once never registers
/// with the signal.
macro_rules! or_cut {
    ($self:ident, $work:expr) => {
        or_cut!($self, $work, Default::default())
    };
    ($self:ident, $work:expr, $cut:expr) => {{
        if $self.signal.is_cut() {
            return $cut;
        }
        let signal = &$self.signal;
        tokio::select! {
            biased;
            done = $work => done,
            () = WhenCut(signal) => { $cut }
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
        or_cut!(self, self.inner.voicemail(mailbox))
    }

    async fn transfer(&mut self, number: &str) -> bool {
        or_cut!(self, self.inner.transfer(number), false)
    }

    async fn reject(&mut self, reason: RejectReason) {
        or_cut!(self, self.inner.reject(reason))
    }

    async fn hangup(&mut self) {
        or_cut!(self, self.inner.hangup())
    }
}
