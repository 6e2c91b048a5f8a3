//! Digest nonces without a table of issued ones: a nonce is the time it
//! was issued, a serial number, and a tag, the first 128 bits of SHA-256
//! over a server secret, that time and that number, so any nonce this
//! server issued can be checked and dated, and none can be forged without
//! the secret. A restart with a
//! new secret makes old nonces invalid; clients then get `stale=true`
//! (their response was right) and retry without asking for a password.
//!
//! `NonceCounts` is the replay guard one user's registrations keep: each
//! nonce's highest nonce count (`nc`) seen, so a captured request cannot be
//! sent again while its nonce is still fresh.
//!
//! Time is milliseconds on one clock that never goes backwards, passed in.

use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};

use super::digest::hex;

/// The secret nonces are tagged with. Give it 32 random bytes at start-up
/// (from the operating system); nothing else reads it.
pub struct NonceKey {
    secret: [u8; 32],
    /// The next nonce's serial number: two nonces never look alike, even
    /// when issued in the same millisecond.
    serial: AtomicU64,
}

/// Which nonce: its issue time and serial number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct NonceId {
    pub issued_ms: u64,
    pub serial: u64,
}

/// What a nonce turned out to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NonceCheck {
    /// Issued by this key, and younger than the lifetime.
    Fresh(NonceId),
    /// Issued by this key, but older than the lifetime.
    Expired,
    /// Not issued by this key (forged, garbled, or from before a restart).
    Invalid,
}

/// Hex digits of the issue time and of the serial, then bytes of the tag.
const TIME_HEX: usize = 16;
const SERIAL_HEX: usize = 16;
const TAG_BYTES: usize = 16;
const NONCE_LEN: usize = TIME_HEX + SERIAL_HEX + 2 * TAG_BYTES;

impl NonceKey {
    pub fn new(secret: [u8; 32]) -> NonceKey {
        NonceKey {
            secret,
            serial: AtomicU64::new(0),
        }
    }

    /// A new nonce issued at `now_ms`: 64 lowercase hex digits.
    pub fn issue(&self, now_ms: u64) -> String {
        let id = NonceId {
            issued_ms: now_ms,
            serial: self.serial.fetch_add(1, Ordering::Relaxed),
        };
        format!(
            "{:016x}{:016x}{}",
            id.issued_ms,
            id.serial,
            hex(&self.tag(id))
        )
    }

    /// Whether `nonce` is ours and younger than `lifetime_ms` at `now_ms`.
    pub fn check(&self, nonce: &str, now_ms: u64, lifetime_ms: u64) -> NonceCheck {
        if nonce.len() != NONCE_LEN || !nonce.bytes().all(|b| b.is_ascii_hexdigit()) {
            return NonceCheck::Invalid;
        }
        let number = |range: std::ops::Range<usize>| u64::from_str_radix(&nonce[range], 16);
        let (Ok(issued_ms), Ok(serial)) =
            (number(0..TIME_HEX), number(TIME_HEX..TIME_HEX + SERIAL_HEX))
        else {
            return NonceCheck::Invalid;
        };
        let id = NonceId { issued_ms, serial };
        let tag = hex(&self.tag(id));
        let given = nonce[TIME_HEX + SERIAL_HEX..].to_ascii_lowercase();
        // A nonce from the future was not issued on this clock.
        if !super::digest::constant_time_eq(tag.as_bytes(), given.as_bytes()) || issued_ms > now_ms
        {
            return NonceCheck::Invalid;
        }
        if now_ms - issued_ms > lifetime_ms {
            NonceCheck::Expired
        } else {
            NonceCheck::Fresh(id)
        }
    }

    fn tag(&self, id: NonceId) -> [u8; TAG_BYTES] {
        // The secret, the time and the serial have fixed lengths and the
        // nonce's length is checked, so SHA-256's length extension gives an
        // attacker nothing: there is no longer nonce to extend into.
        let digest = Sha256::new()
            .chain_update(self.secret)
            .chain_update(id.issued_ms.to_be_bytes())
            .chain_update(id.serial.to_be_bytes())
            .finalize();
        let mut tag = [0; TAG_BYTES];
        tag.copy_from_slice(&digest[..TAG_BYTES]);
        tag
    }
}

/// The nonces one user has used, with the highest nonce count of each. A
/// request is a replay when its count is not above the highest seen for
/// its nonce; a response without qop has no count and counts as 1, so its
/// nonce serves once (the client gets `stale=true` and a new one).
#[derive(Clone, Debug, Default)]
pub struct NonceCounts {
    /// Each nonce used and its highest count.
    seen: Vec<(NonceId, u32)>,
    /// Nonces issued up to this one are refused: they were forgotten to
    /// bound the list, and so might have been used.
    floor: Option<NonceId>,
}

/// How many nonces a user's list keeps before it forgets the oldest.
const KEPT: usize = 4;

impl NonceCounts {
    /// Records a use of nonce `id` with count `nc` (`None` without qop), or
    /// returns false if it is a replay. Entries older than `lifetime_ms`
    /// are dropped: their nonces are refused by age anyway.
    pub fn accept(&mut self, id: NonceId, nc: Option<u32>, now_ms: u64, lifetime_ms: u64) -> bool {
        let nc = nc.unwrap_or(1);
        let expired = |n: &NonceId| now_ms.saturating_sub(n.issued_ms) > lifetime_ms;
        self.seen.retain(|(n, _)| !expired(n));
        if let Some(entry) = self.seen.iter_mut().find(|(n, _)| *n == id) {
            if nc <= entry.1 {
                return false;
            }
            entry.1 = nc;
            return true;
        }
        if self.floor.is_some_and(|floor| id <= floor) {
            return false;
        }
        if self.seen.len() == KEPT
            && let Some(oldest) = self.seen.iter().map(|&(n, _)| n).min()
        {
            self.seen.retain(|&(n, _)| n != oldest);
            self.floor = Some(self.floor.map_or(oldest, |f| f.max(oldest)));
        }
        self.seen.push((id, nc));
        true
    }

    /// Whether forgetting this list changes nothing at `now_ms`: every
    /// nonce it remembers or refuses has expired anyway.
    pub fn is_idle(&self, now_ms: u64, lifetime_ms: u64) -> bool {
        let expired = |n: &NonceId| now_ms.saturating_sub(n.issued_ms) > lifetime_ms;
        self.seen.iter().all(|(n, _)| expired(n)) && self.floor.as_ref().is_none_or(expired)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIFE: u64 = 300_000;

    fn key(byte: u8) -> NonceKey {
        NonceKey::new([byte; 32])
    }

    /// A nonce id issued at `ms`, with the same serial.
    fn id(ms: u64) -> NonceId {
        NonceId {
            issued_ms: ms,
            serial: ms,
        }
    }

    fn fresh(ms: u64, serial: u64) -> NonceCheck {
        NonceCheck::Fresh(NonceId {
            issued_ms: ms,
            serial,
        })
    }

    #[test]
    fn issued_nonces_check_until_they_expire() {
        let k = key(7);
        let n = k.issue(1_000);
        assert_eq!(n.len(), 64);
        assert_eq!(k.check(&n, 1_000, LIFE), fresh(1_000, 0));
        assert_eq!(
            k.check(&n.to_uppercase(), 1_000 + LIFE, LIFE),
            fresh(1_000, 0)
        );
        assert_eq!(k.check(&n, 1_001 + LIFE, LIFE), NonceCheck::Expired);
        // Issued later than now: not from this clock.
        assert_eq!(k.check(&n, 999, LIFE), NonceCheck::Invalid);
        // Two nonces of the same millisecond differ.
        let m = k.issue(1_000);
        assert_ne!(m, n);
        assert_eq!(k.check(&m, 1_000, LIFE), fresh(1_000, 1));
    }

    #[test]
    fn forged_and_foreign_nonces_are_invalid() {
        let k = key(7);
        let n = k.issue(5_000);
        // Another key (a restart) does not know it.
        assert_eq!(key(8).check(&n, 5_000, LIFE), NonceCheck::Invalid);
        // A changed time or serial with the old tag.
        let moved = format!("{:016x}{}", 4_000, &n[16..]);
        assert_eq!(k.check(&moved, 6_000, LIFE), NonceCheck::Invalid);
        let renumbered = format!("{}{:016x}{}", &n[..16], 9, &n[32..]);
        assert_eq!(k.check(&renumbered, 6_000, LIFE), NonceCheck::Invalid);
        // One flipped tag digit.
        let mut flipped = n.clone().into_bytes();
        flipped[63] = if flipped[63] == b'0' { b'1' } else { b'0' };
        let flipped = String::from_utf8(flipped).expect("ascii");
        assert_eq!(k.check(&flipped, 5_000, LIFE), NonceCheck::Invalid);
        let long = format!("{n}0");
        let letters = "g".repeat(64);
        let accented = format!("{}é", &n[..62]);
        for garbage in ["", "xyz", &n[..63], &long, &letters, &accented] {
            assert_eq!(
                k.check(garbage, 5_000, LIFE),
                NonceCheck::Invalid,
                "{garbage}"
            );
        }
    }

    #[test]
    fn counts_refuse_replays() {
        let mut c = NonceCounts::default();
        assert!(c.accept(id(100), Some(1), 100, LIFE));
        assert!(
            !c.accept(id(100), Some(1), 101, LIFE),
            "the same count again"
        );
        assert!(c.accept(id(100), Some(3), 102, LIFE), "counts may skip");
        assert!(!c.accept(id(100), Some(2), 103, LIFE), "a lower count");
        // Without qop a nonce serves once.
        assert!(c.accept(id(200), None, 200, LIFE));
        assert!(!c.accept(id(200), None, 201, LIFE));
    }

    #[test]
    fn forgotten_nonces_stay_refused() {
        let mut c = NonceCounts::default();
        for t in 1..=KEPT as u64 {
            assert!(c.accept(id(t), Some(1), 10, LIFE));
        }
        // A fifth nonce pushes out the oldest (issued at 1) ...
        assert!(c.accept(id(50), Some(1), 60, LIFE));
        // ... which is then refused however high its count,
        assert!(!c.accept(id(1), Some(9), 61, LIFE));
        // while those still listed go on.
        assert!(c.accept(id(2), Some(2), 62, LIFE));
        // An expired entry is simply dropped, with no floor: its nonce is
        // refused by age before it gets here.
        let mut c = NonceCounts::default();
        assert!(c.accept(id(10), Some(1), 10, LIFE));
        assert!(c.accept(id(LIFE + 100), Some(1), LIFE + 100, LIFE));
        assert_eq!(c.seen.len(), 1);
        assert_eq!(c.floor, None);
    }

    #[test]
    fn a_list_is_idle_once_everything_in_it_expired() {
        let mut c = NonceCounts::default();
        assert!(c.is_idle(0, LIFE));
        for t in 0..=KEPT as u64 {
            assert!(c.accept(id(t * 1_000), Some(1), t * 1_000, LIFE));
        }
        // The newest nonce, issued at 4 s, is listed until 304 s; the
        // floor (the forgotten nonce of 0 s) until 300 s.
        assert!(!c.is_idle(304_000, LIFE));
        assert!(c.is_idle(304_001, LIFE));
        c.seen.clear();
        assert!(!c.is_idle(300_000, LIFE), "the floor still refuses");
        assert!(c.is_idle(300_001, LIFE));
    }
}
