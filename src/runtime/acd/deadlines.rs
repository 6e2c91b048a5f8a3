//! The ACD's own time: when wrap-ups end, and whether a deadline moved
//! earlier. `Inner::next_due_ms` (in `inner`) weighs the first wrap-up's
//! end against the timed full pass (for filters that time alone makes
//! true). Nothing here sleeps: the runtime's one timer asks
//! [`super::Acd::next_due_ms`] and calls [`super::Acd::tick`], so no task
//! is spawned per wrap-up. A leaf: `inner` holds a `Deadlines`.

use std::collections::BTreeMap;

/// Wrap-ups that will end, by deadline.
#[derive(Default)]
pub(super) struct Deadlines {
    /// (deadline, order set) → (agent, wrap-up number). The order keeps
    /// wrap-ups that end at the same moment in the order they began.
    wrapups: BTreeMap<(i64, u64), (String, u64)>,
    set: u64,
}

impl Deadlines {
    /// Wrap-up number `wrapup` of `agent` ends at `due_ms`.
    pub(super) fn add_wrapup(&mut self, due_ms: i64, agent: &str, wrapup: u64) {
        self.set += 1;
        (self.wrapups).insert((due_ms, self.set), (agent.to_string(), wrapup));
    }

    /// When the first wrap-up ends.
    pub(super) fn first(&self) -> Option<i64> {
        self.wrapups.keys().next().map(|&(due, _)| due)
    }

    /// Takes the first wrap-up that has ended by `now_ms`.
    pub(super) fn pop_due(&mut self, now_ms: i64) -> Option<(String, u64)> {
        let entry = self.wrapups.first_entry()?;
        (entry.key().0 <= now_ms).then(|| entry.remove())
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
