//! How the ACD's one lock behaves under load: how often an operation found
//! it taken and how long it waited, and (with the `bench` feature) how long
//! after an operation began its offers went out. Waiting is timed only
//! when the lock is taken (`try_lock` first), so an uncontended operation
//! writes no counter here; the ACD counts acquisitions in the state the
//! lock guards, so that no counter line is written by every thread.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, TryLockError};
use std::time::Instant;

/// Buckets of nanoseconds: four per power of two (durations within 25% of
/// each other share one), up to about 18 minutes.
const BUCKETS: usize = 4 * 40;

/// The bucket of a duration in nanoseconds.
#[cfg_attr(not(any(test, feature = "offer-latency")), allow(dead_code))]
fn bucket(ns: u64) -> usize {
    if ns < 4 {
        return ns as usize;
    }
    let e = 63 - ns.leading_zeros() as usize;
    let sub = ((ns >> (e - 2)) & 3) as usize;
    (e * 4 + sub).min(BUCKETS - 1)
}

/// The upper end of a bucket (exclusive), in nanoseconds.
fn bucket_end(i: usize) -> u64 {
    if i < 8 {
        // Buckets 0 to 3 hold 0 to 3 ns; 4 to 7 are never used (2 and 3
        // are below 4).
        return i as u64 + 1;
    }
    let (e, sub) = (i / 4, i % 4);
    ((4 + sub as u64) + 1) << (e - 2)
}

/// Counters of the lock, read with [`Meter::read`].
pub(super) struct Meter {
    contended: AtomicU64,
    wait_ns: AtomicU64,
    max_wait_ns: AtomicU64,
    /// Per bucket of nanoseconds, offers made that long after the
    /// operation that made them began (`offer-latency` feature only).
    offer_ns: [AtomicU64; BUCKETS],
}

/// When an operation began, for the offer latency; nothing at all without
/// the `offer-latency` feature (two clock reads per operation, which
/// `benches/select.rs` would otherwise measure).
#[derive(Clone, Copy)]
pub(super) struct Stamp {
    #[cfg(feature = "offer-latency")]
    at: Instant,
}

impl Stamp {
    #[inline]
    pub(super) fn now() -> Stamp {
        Stamp {
            #[cfg(feature = "offer-latency")]
            at: Instant::now(),
        }
    }
}

/// What the lock went through so far.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Contention {
    /// Times the lock was taken.
    pub acquired: u64,
    /// Times it was held by another thread when asked for.
    pub contended: u64,
    /// Time spent waiting for it, in all.
    pub wait_ns: u64,
    /// The longest single wait.
    pub max_wait_ns: u64,
    /// Dispatches run.
    pub dispatches: u64,
    /// Dispatches that matched every waiting caller against every
    /// available agent, rather than only what changed.
    pub full_passes: u64,
    /// Offers made, by how long after the operation that made them began
    /// (buckets of nanoseconds, four per power of two; empty without the
    /// `offer-latency` feature).
    pub offer_ns: Vec<u64>,
}

impl Contention {
    /// The duration (ns, the upper end of its bucket, so at most 25% over)
    /// under which a share
    /// `p` (0 to 1) of the offers were made; `None` without any.
    pub fn offer_percentile_ns(&self, p: f64) -> Option<u64> {
        let total: u64 = self.offer_ns.iter().sum();
        if total == 0 {
            return None;
        }
        let want = ((total as f64 * p).ceil() as u64).clamp(1, total);
        let mut seen = 0;
        for (i, &n) in self.offer_ns.iter().enumerate() {
            seen += n;
            if seen >= want {
                return Some(bucket_end(i));
            }
        }
        None
    }
}

impl Default for Meter {
    fn default() -> Meter {
        Meter {
            contended: AtomicU64::new(0),
            wait_ns: AtomicU64::new(0),
            max_wait_ns: AtomicU64::new(0),
            offer_ns: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }
}

impl Meter {
    /// Takes the lock, timing the wait when another thread holds it. A
    /// panic while holding the lock would be a bug; the ACD keeps serving.
    pub(super) fn lock<'m, T>(&self, mutex: &'m Mutex<T>) -> MutexGuard<'m, T> {
        match mutex.try_lock() {
            Ok(guard) => guard,
            Err(TryLockError::Poisoned(e)) => e.into_inner(),
            Err(TryLockError::WouldBlock) => {
                let start = Instant::now();
                let guard = mutex.lock().unwrap_or_else(|e| e.into_inner());
                let waited = start.elapsed().as_nanos() as u64;
                self.contended.fetch_add(1, Ordering::Relaxed);
                self.wait_ns.fetch_add(waited, Ordering::Relaxed);
                self.max_wait_ns.fetch_max(waited, Ordering::Relaxed);
                guard
            }
        }
    }

    /// `offers` were made by the operation that began at `stamp`.
    #[inline]
    pub(super) fn offered(&self, stamp: Stamp, offers: usize) {
        #[cfg(feature = "offer-latency")]
        {
            let ns = stamp.at.elapsed().as_nanos() as u64;
            self.offer_ns[bucket(ns)].fetch_add(offers as u64, Ordering::Relaxed);
        }
        #[cfg(not(feature = "offer-latency"))]
        let _ = (stamp, offers);
    }

    pub(super) fn read(&self) -> Contention {
        let offer_ns: Vec<u64> = (self.offer_ns.iter())
            .map(|n| n.load(Ordering::Relaxed))
            .collect();
        Contention {
            acquired: 0,
            contended: self.contended.load(Ordering::Relaxed),
            wait_ns: self.wait_ns.load(Ordering::Relaxed),
            max_wait_ns: self.max_wait_ns.load(Ordering::Relaxed),
            dispatches: 0,
            full_passes: 0,
            offer_ns: if offer_ns.iter().all(|&n| n == 0) {
                Vec::new()
            } else {
                offer_ns
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// A lock held by another thread is counted as contended, with the
    /// time waited; one taken freely is not.
    #[test]
    fn waits_are_counted_only_when_the_lock_is_held() {
        let meter = Arc::new(Meter::default());
        let mutex = Arc::new(Mutex::new(0));
        drop(meter.lock(&mutex));
        let free = meter.read();
        assert_eq!((free.contended, free.wait_ns), (0, 0));

        let (held_tx, held_rx) = std::sync::mpsc::channel();
        let holder = {
            let (meter, mutex) = (Arc::clone(&meter), Arc::clone(&mutex));
            std::thread::spawn(move || {
                let guard = meter.lock(&mutex);
                held_tx.send(()).expect("the test waits");
                std::thread::sleep(std::time::Duration::from_millis(20));
                drop(guard);
            })
        };
        held_rx.recv().expect("the holder took the lock");
        *meter.lock(&mutex) += 1;
        holder.join().expect("the holder ends");
        let after = meter.read();
        assert_eq!(after.contended, 1);
        assert!(after.wait_ns >= 10_000_000, "waited {} ns", after.wait_ns);
        assert_eq!(after.max_wait_ns, after.wait_ns);
    }

    #[test]
    fn percentiles_read_the_buckets() {
        let mut c = Contention {
            offer_ns: vec![0; BUCKETS],
            ..Contention::default()
        };
        assert_eq!(c.offer_percentile_ns(0.99), None);
        c.offer_ns[bucket(1_000)] = 98;
        c.offer_ns[bucket(1_000_000)] = 2;
        assert_eq!(c.offer_percentile_ns(0.5), Some(1_024));
        assert_eq!(c.offer_percentile_ns(0.98), Some(1_024));
        assert_eq!(c.offer_percentile_ns(0.99), Some(1_048_576));
    }

    /// Every duration up to about 18 minutes falls in a bucket that ends
    /// above it, within 25%; longer ones in the last bucket.
    #[test]
    fn buckets_hold_their_durations() {
        assert_eq!(bucket(1 << 40), BUCKETS - 1);
        assert_eq!(bucket(u64::MAX), BUCKETS - 1);
        let mut ns = 0u64;
        while ns < 1 << 40 {
            let i = bucket(ns);
            let end = bucket_end(i);
            assert!(end > ns, "{ns} ns in bucket {i}, which ends at {end}");
            assert!(
                end <= ns + ns / 4 + 1,
                "{ns} ns in bucket {i}, which ends at {end}"
            );
            assert!(
                i == 0 || bucket_end(i - 1) <= ns || i == 8,
                "{ns} ns in bucket {i}"
            );
            ns = ns * 9 / 8 + 1;
        }
    }
}
