//! Collecting key presses: what a menu or an extension prompt asks of the
//! caller's keypad, and when an entry is complete. One definition serves
//! every channel: a SIP call collecting RFC 4733 digits, the simulated
//! caller, and the walk behind `dialect test` and `dialect explain`.
//!
//! An entry ends at the first of: `max_digits` keys; `#` where `#` ends
//! entries (it is then not part of the entry); in a menu, a key that no
//! longer key can follow (with keys `1`, `4` and `42`, `1` ends at once
//! and `4` waits for a possible `2`); or a pause longer than the digit
//! timeout. Keys pressed after the entry ended belong to no entry and are
//! dropped: `12` in a menu of `1` and `4` is `1`, and `20011` at a
//! four-digit extension prompt dials `2001`.

/// A request for key presses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Collect {
    /// The menu's name (empty for an extension prompt outside menus).
    pub menu: String,
    /// Prompt to play first (the caller may press keys while it plays).
    pub prompt: Option<String>,
    /// Wait for the first key.
    pub first_timeout_ms: i64,
    /// Wait between keys.
    pub digit_timeout_ms: i64,
    /// Stop after this many keys.
    pub max_digits: usize,
    /// Whether `#` ends the entry (it is then not part of it).
    pub hash_ends: bool,
    /// A menu's keys (empty for free-form entry): once no key is longer
    /// than the entry and starts with it, the entry is complete, and the
    /// channel returns it without waiting for more.
    pub keys: Vec<String>,
}

/// What a request for keys got.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Collected {
    /// The keys pressed (may be empty after a partial entry timed out).
    Keys(String),
    Timeout,
    HungUp,
}

/// How long `dial extension` waits for the first digit.
pub const EXTENSION_FIRST_TIMEOUT_MS: i64 = 5_000;
/// How long `dial extension` waits between digits.
pub const EXTENSION_DIGIT_TIMEOUT_MS: i64 = 3_000;

impl Collect {
    /// Whether `entry` is all the caller can mean: `max_digits` keys, or,
    /// in a menu, no key left that the entry could grow into (`1` when the
    /// keys are `1`, `2` and `42`; not `4`).
    pub fn is_complete(&self, entry: &str) -> bool {
        entry.chars().count() >= self.max_digits.max(1)
            || (!self.keys.is_empty()
                && !self
                    .keys
                    .iter()
                    .any(|k| k.len() > entry.len() && k.starts_with(entry)))
    }

    /// Collects `keys` pressed one at a time, `delay(n)` milliseconds
    /// before key number `n` (from the end of the prompt for the first,
    /// from the previous key for the others). Returns what the collector
    /// takes and how long collecting lasted, prompt excluded.
    ///
    /// A key that comes after the timeout (the first timeout for the
    /// first key, the digit timeout for the others) is too late: the entry
    /// is what came before it, or a timeout when nothing did. An entry
    /// that could still grow is taken once the digit timeout has passed
    /// after its last key.
    pub fn take(&self, keys: &str, mut delay: impl FnMut(usize) -> i64) -> (Collected, i64) {
        let mut got = String::new();
        let mut elapsed = 0;
        for (count, key) in keys.chars().enumerate() {
            let wait = delay(count);
            let limit = if count == 0 {
                self.first_timeout_ms
            } else {
                self.digit_timeout_ms
            };
            if wait >= limit {
                elapsed += limit.max(0);
                return if count == 0 {
                    (Collected::Timeout, elapsed)
                } else {
                    (Collected::Keys(got), elapsed)
                };
            }
            elapsed += wait;
            if key == '#' && self.hash_ends {
                return (Collected::Keys(got), elapsed);
            }
            got.push(key);
            if self.is_complete(&got) {
                return (Collected::Keys(got), elapsed);
            }
        }
        if got.is_empty() {
            // Nothing pressed: the collector waits out the first timeout.
            return (Collected::Timeout, elapsed + self.first_timeout_ms.max(0));
        }
        // More keys could follow: the collector waits for them.
        (Collected::Keys(got), elapsed + self.digit_timeout_ms.max(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(max_digits: usize, hash_ends: bool, keys: &[&str]) -> Collect {
        Collect {
            menu: "main".into(),
            prompt: None,
            first_timeout_ms: 5_000,
            digit_timeout_ms: 2_000,
            max_digits,
            hash_ends,
            keys: keys.iter().map(|k| k.to_string()).collect(),
        }
    }

    fn take(r: &Collect, keys: &str) -> (Collected, i64) {
        r.take(keys, |_| 500)
    }

    fn keys(k: &str) -> Collected {
        Collected::Keys(k.into())
    }

    #[test]
    fn an_entry_stops_at_max_digits_and_drops_the_rest() {
        let r = request(4, true, &[]);
        assert_eq!(take(&r, "20011"), (keys("2001"), 2_000));
        assert_eq!(take(&r, "12#"), (keys("12"), 1_500));
        assert_eq!(take(&r, "12"), (keys("12"), 1_000 + 2_000));
    }

    #[test]
    fn a_menu_entry_stops_at_the_first_complete_key() {
        let r = request(2, false, &["1", "4", "42"]);
        assert_eq!(take(&r, "12"), (keys("1"), 500));
        assert_eq!(take(&r, "42"), (keys("42"), 1_000));
        // `4` could become `42`: the collector waits out the digit timeout.
        assert_eq!(take(&r, "4"), (keys("4"), 500 + 2_000));
        assert_eq!(take(&r, "7"), (keys("7"), 500));
    }

    #[test]
    fn late_keys_end_the_entry() {
        let r = request(10, true, &[]);
        assert_eq!(
            r.take("123", |n| if n == 0 { 6_000 } else { 500 }),
            (Collected::Timeout, 5_000)
        );
        assert_eq!(
            r.take("123", |n| if n == 2 { 2_000 } else { 500 }),
            (keys("12"), 3_000)
        );
        assert_eq!(r.take("", |_| 500), (Collected::Timeout, 5_000));
    }
}
