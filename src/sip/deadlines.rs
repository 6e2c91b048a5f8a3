//! The deadlines of a transaction table: one first-in-first-out queue per
//! delay (T1, 2·T1, ..., T4, 64·T1, ...). Deadlines pushed into one queue
//! at a time that does not go backwards come out in order, so a push and a
//! pop cost O(1) and no entry holds a copy of its transaction's key.
//! A deadline that no longer counts (its transaction moved on) stays in
//! its queue until it comes out and is skipped; a transaction keeps at
//! most one deadline current, and its stale ones are at most T2 or 64·T1
//! old.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// A deadline: when, and which slot of the table at which generation.
pub type Deadline = (Instant, u32, u32);

#[derive(Debug, Default)]
pub struct Deadlines {
    queues: Vec<(Duration, VecDeque<Deadline>)>,
}

impl Deadlines {
    /// Adds a deadline to the queue of `delay`. A deadline earlier than
    /// the queue's last (a time that went backwards, or one cut short) is
    /// put in its place.
    pub fn push(&mut self, delay: Duration, deadline: Deadline) {
        let queue = match self.queues.iter().position(|(d, _)| *d == delay) {
            Some(i) => &mut self.queues[i].1,
            None => {
                self.queues.push((delay, VecDeque::new()));
                &mut self.queues.last_mut().expect("just pushed").1
            }
        };
        match queue.back() {
            Some(last) if last.0 > deadline.0 => {
                let at = queue.partition_point(|d| d.0 <= deadline.0);
                queue.insert(at, deadline);
            }
            _ => queue.push_back(deadline),
        }
    }

    /// The earliest deadline that still counts (`current` says which do);
    /// stale ones ahead of it are dropped.
    pub fn first(&mut self, current: impl Fn(&Deadline) -> bool) -> Option<Deadline> {
        let mut best: Option<Deadline> = None;
        for (_, queue) in &mut self.queues {
            while let Some(front) = queue.front() {
                if current(front) {
                    if best.is_none_or(|b| front.0 < b.0) {
                        best = Some(*front);
                    }
                    break;
                }
                queue.pop_front();
            }
        }
        best
    }

    /// Takes the earliest deadline that still counts if it is due at `now`.
    pub fn pop_due(
        &mut self,
        now: Instant,
        current: impl Fn(&Deadline) -> bool,
    ) -> Option<Deadline> {
        let first = self.first(&current)?;
        if first.0 > now {
            return None;
        }
        for (_, queue) in &mut self.queues {
            if queue.front() == Some(&first) {
                return queue.pop_front();
            }
        }
        None
    }

    /// Deadlines held, stale ones included.
    pub fn len(&self) -> usize {
        self.queues.iter().map(|(_, q)| q.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_come_out_in_order_across_queues_and_stale_ones_are_skipped() {
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        let mut d = Deadlines::default();
        d.push(Duration::from_millis(500), (ms(500), 1, 0));
        d.push(Duration::from_secs(32), (ms(32_000), 2, 0));
        d.push(Duration::from_millis(500), (ms(700), 3, 0));
        // Out of order in its queue: put in place.
        d.push(Duration::from_millis(500), (ms(600), 4, 0));
        d.push(Duration::from_secs(5), (ms(5_100), 5, 0));
        let stale = |x: &Deadline| x.1 != 3;
        assert_eq!(d.first(stale), Some((ms(500), 1, 0)));
        let mut out = Vec::new();
        while let Some(x) = d.pop_due(ms(40_000), stale) {
            out.push(x.1);
        }
        assert_eq!(out, [1, 4, 5, 2]);
        assert!(d.is_empty());
        d.push(Duration::ZERO, (ms(10), 6, 0));
        assert_eq!(d.pop_due(ms(9), |_| true), None);
        assert_eq!(d.pop_due(ms(10), |_| true), Some((ms(10), 6, 0)));
    }
}
