//! The ACD's own time: when wrap-ups end, and whether a deadline moved
//! earlier. `Inner::next_due_ms` (in `inner`) weighs the first wrap-up's
//! end against the timed full pass (for filters that time alone makes
//! true). Nothing here sleeps: the runtime's one timer asks
//! [`super::Acd::next_due_ms`] and calls [`super::Acd::tick`], so no task
//! is spawned per wrap-up. A leaf: `inner` holds a `Deadlines`.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Wrap-ups that will end, by deadline: a heap, since only the first is
/// ever read or taken (one contiguous array, no tree nodes to allocate).
#[derive(Default)]
pub(super) struct Deadlines {
    wrapups: BinaryHeap<Reverse<Wrapup>>,
    set: u64,
}

/// A wrap-up's end, ordered by deadline, then by the order the wrap-ups
/// began (`set`, unique), so wrap-ups that end at the same moment end in
/// the order they began.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Wrapup {
    due_ms: i64,
    set: u64,
    agent: String,
    /// The agent's wrap-up number.
    wrapup: u64,
}

impl Deadlines {
    /// Wrap-up number `wrapup` of `agent` ends at `due_ms`.
    pub(super) fn add_wrapup(&mut self, due_ms: i64, agent: &str, wrapup: u64) {
        self.set += 1;
        self.wrapups.push(Reverse(Wrapup {
            due_ms,
            set: self.set,
            agent: agent.to_string(),
            wrapup,
        }));
    }

    /// When the first wrap-up ends.
    pub(super) fn first(&self) -> Option<i64> {
        self.wrapups.peek().map(|w| w.0.due_ms)
    }

    /// Takes the first wrap-up that has ended by `now_ms`.
    pub(super) fn pop_due(&mut self, now_ms: i64) -> Option<(String, u64)> {
        if self.wrapups.peek()?.0.due_ms > now_ms {
            return None;
        }
        let Reverse(w) = self.wrapups.pop()?;
        Some((w.agent, w.wrapup))
    }
}

/// Whether a deadline `now` is earlier than `before` (a deadline where
/// there was none counts as earlier).
pub(super) fn earlier(now: Option<i64>, before: Option<i64>) -> bool {
    match (now, before) {
        (Some(n), Some(b)) => n < b,
        (Some(_), None) => true,
        (None, _) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapups_end_in_deadline_order_then_in_the_order_they_began() {
        let mut d = Deadlines::default();
        d.add_wrapup(5_000, "bob", 1);
        d.add_wrapup(3_000, "ana", 4);
        d.add_wrapup(5_000, "cy", 2);
        assert_eq!(d.first(), Some(3_000));
        assert_eq!(d.pop_due(2_999), None, "nothing is due before 3 s");
        assert_eq!(d.pop_due(10_000), Some(("ana".into(), 4)));
        assert_eq!(d.pop_due(10_000), Some(("bob".into(), 1)));
        assert_eq!(d.pop_due(10_000), Some(("cy".into(), 2)));
        assert_eq!(d.pop_due(10_000), None);
        assert_eq!(d.first(), None);
    }

    #[test]
    fn a_new_deadline_is_earlier_than_none_and_than_a_later_one() {
        assert!(earlier(Some(5), None));
        assert!(earlier(Some(5), Some(6)));
        assert!(!earlier(Some(6), Some(6)));
        assert!(!earlier(None, Some(6)));
        assert!(!earlier(None, None));
    }
}
