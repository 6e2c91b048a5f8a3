//! Ending calls at a shutdown's deadline. Every call talks to its channel
//! through [`Cutting`], whose waits (a prompt, keys, hold music, ringing,
//! a conversation) also end when the runtime cuts its calls. A cut wait
//! reads as the caller hanging up, so the call leaves queues, releases the
//! agents it rang and ends a conversation by the same code as any other
//! hang-up, and its record says it was cut.
//!
//! Each call has its own [`Signal`] (a flag and a waker), registered in
//! the runtime's [`Signals`] while the call runs: racing it costs a flag
//! check per wait, and a waker registration only when the wait is not
//! over at once, with no lock; a shutdown sets every flag. Registering
//! takes the lock of the calling thread's shard of the registry, so calls
//! on different threads do not share one, and reuses the signal of a call
//! that ended, so a call allocates none.

use std::cell::Cell;
use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
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

/// The signals of the calls in progress, so a shutdown can cut them all:
/// in shards, each thread registering its calls in a shard of its own.
#[derive(Default)]
pub struct Signals {
    shards: [Padded; SHARDS],
}

/// A shard alone on its cache lines, so that threads taking neighbouring
/// shards do not write to one line.
#[derive(Default)]
#[repr(align(128))]
struct Padded(Mutex<Shard>);

const SHARDS: usize = 16;

#[derive(Default)]
struct Shard {
    /// Whether every call was cut.
    cut: bool,
    /// Per slot, a signal and whether a call in progress holds it. Slots
    /// outlive their calls, so the next call reuses the signal.
    slots: Vec<(Arc<Signal>, bool)>,
    /// The slots no call holds.
    free: Vec<usize>,
}

/// Where a call's signal is registered, to take it off when the call ends.
#[derive(Clone, Copy, Debug)]
pub struct Ticket {
    shard: usize,
    slot: usize,
}

/// The shard of the current thread: threads take shards in turn.
fn thread_shard() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static SHARD: Cell<usize> = const { Cell::new(usize::MAX) };
    }
    SHARD.with(|shard| {
        if shard.get() == usize::MAX {
            shard.set(NEXT.fetch_add(1, Ordering::Relaxed) % SHARDS);
        }
        shard.get()
    })
}

impl Signals {
    fn shard(&self, i: usize) -> MutexGuard<'_, Shard> {
        self.shards[i].0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A signal for a call that starts, already cut if every call has
    /// been; with the ticket that takes it off again ([`Signals::remove`]).
    pub fn register(&self) -> (Arc<Signal>, Ticket) {
        let i = thread_shard();
        let mut shard = self.shard(i);
        let slot = match shard.free.pop() {
            Some(slot) => slot,
            None => {
                shard.slots.push((Arc::default(), false));
                shard.slots.len() - 1
            }
        };
        let cut = shard.cut;
        let (signal, held) = &mut shard.slots[slot];
        *held = true;
        // The last call to hold this signal has let go of it (its channel
        // is dropped before it is removed); if anyone still holds it, the
        // call gets a new one.
        match Arc::get_mut(signal) {
            Some(s) => *s = Signal::default(),
            None => *signal = Arc::default(),
        }
        if cut {
            signal.cut.store(true, Ordering::Release);
        }
        (Arc::clone(signal), Ticket { shard: i, slot })
    }

    /// The call that holds `ticket` has ended.
    pub fn remove(&self, ticket: Ticket) {
        let mut shard = self.shard(ticket.shard);
        if let Some((signal, held)) = shard.slots.get_mut(ticket.slot)
            && *held
        {
            *held = false;
            // The waker would keep the ended call's task alive.
            drop(signal.waker.take());
            shard.free.push(ticket.slot);
        }
    }

    /// Cuts every call in progress, and every call registered from now on.
    pub fn cut_all(&self) {
        for i in 0..SHARDS {
            let mut shard = self.shard(i);
            shard.cut = true;
            for (signal, held) in &shard.slots {
                if *held {
                    signal.cut();
                }
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

/// One poll of a wait raced with the call's cut: the work first, so a
/// wait that is over at once never registers with the signal; `cut` makes
/// the result when the call was cut.
fn poll_or_cut<T>(
    signal: &Signal,
    work: Pin<&mut impl Future<Output = T>>,
    cx: &mut Context<'_>,
    cut: impl FnOnce() -> T,
) -> Poll<T> {
    if let Poll::Ready(done) = work.poll(cx) {
        return Poll::Ready(done);
    }
    signal.waker.register(cx.waker());
    // Checked after registering: a cut set in between is not missed.
    if signal.is_cut() {
        Poll::Ready(cut())
    } else {
        Poll::Pending
    }
}

/// Runs `work` unless or until the call is cut; `cut` is the result then.
/// The work future is made in place in the method's own state (no copy
/// of it per wait).
macro_rules! or_cut {
    ($self:ident, $work:expr) => {
        or_cut!($self, $work, Default::default())
    };
    ($self:ident, $work:expr, $cut:expr) => {{
        let signal = &*$self.signal;
        if signal.is_cut() {
            return $cut;
        }
        let mut work = pin!($work);
        std::future::poll_fn(|cx| poll_or_cut(signal, work.as_mut(), cx, || $cut)).await
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

    async fn voicemail(&mut self, mailbox: &str) -> Option<String> {
        or_cut!(self, self.inner.voicemail(mailbox), None)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_that_ended_leaves_its_signal_to_the_next_uncut() {
        let signals = Signals::default();
        let (first, ticket) = signals.register();
        let first_ptr = Arc::as_ptr(&first);
        drop(first);
        signals.remove(ticket);
        let (second, again) = signals.register();
        assert_eq!(again.slot, ticket.slot);
        assert_eq!(Arc::as_ptr(&second), first_ptr, "the signal is reused");
        assert!(!second.is_cut());
        // A signal someone still holds is not reused.
        let held = Arc::clone(&second);
        drop(second);
        signals.remove(again);
        let (third, _) = signals.register();
        assert!(!Arc::ptr_eq(&third, &held));
    }

    #[test]
    fn cutting_reaches_calls_in_progress_and_calls_to_come() {
        let signals = Signals::default();
        let (running, _) = signals.register();
        let (ended, ticket) = signals.register();
        signals.remove(ticket);
        signals.cut_all();
        assert!(running.is_cut());
        assert!(!ended.is_cut(), "a call that ended is not cut");
        let (late, _) = signals.register();
        assert!(late.is_cut());
    }

    /// `or_cut!` as a channel method uses it.
    async fn or_cut(signal: &Arc<Signal>, work: impl Future<Output = i32>, cut: i32) -> i32 {
        struct Holder {
            signal: Arc<Signal>,
        }
        let holder = Holder {
            signal: Arc::clone(signal),
        };
        or_cut!(holder, work, cut)
    }

    #[tokio::test(start_paused = true)]
    async fn a_cut_ends_a_wait_and_a_finished_wait_is_not_cut() {
        let signal = Arc::new(Signal::default());
        assert_eq!(or_cut(&signal, async { 1 }, 0).await, 1);
        let cutter = Arc::clone(&signal);
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            cutter.cut();
        });
        let waited = or_cut(&signal, std::future::pending::<i32>(), 0).await;
        assert_eq!(waited, 0);
        assert_eq!(or_cut(&signal, async { 1 }, 0).await, 0, "cut before");
    }
}
