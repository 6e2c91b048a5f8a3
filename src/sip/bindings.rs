//! One address-of-record's bindings (RFC 3261 §10.3): contact URIs with
//! their expiry, q-value, Call-ID and CSeq, updated all at once or not at
//! all, ordered by q for ringing. Time is milliseconds passed in.

use std::cmp::Reverse;
use std::fmt;

/// A q-value (RFC 3261 §20.10) in thousandths, 0 to 1000.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Q(u16);

impl Q {
    /// What a contact without `q` is ranked as.
    pub const ONE: Q = Q(1000);

    /// `0`, `0.5`, `0.125`, `1`, `1.000` (at most three decimals, at most 1).
    pub fn parse(text: &str) -> Option<Q> {
        let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
        if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let mut thousandths: u16 = 0;
        for (i, b) in frac.bytes().enumerate() {
            thousandths += u16::from(b - b'0') * [100, 10, 1][i];
        }
        match whole {
            "0" => Some(Q(thousandths)),
            "1" if thousandths == 0 => Some(Q::ONE),
            _ => None,
        }
    }

    pub fn thousandths(self) -> u16 {
        self.0
    }
}

impl fmt::Display for Q {
    /// The shortest form: `1`, `0.5`, `0.125`, `0`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 1000 {
            return f.write_str("1");
        }
        let digits = format!("{:03}", self.0);
        let digits = digits.trim_end_matches('0');
        if digits.is_empty() {
            f.write_str("0")
        } else {
            write!(f, "0.{digits}")
        }
    }
}

/// A live binding as the 200 answer lists it and the server rings it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contact {
    pub uri: String,
    /// As registered; `None` ranks as 1.
    pub q: Option<Q>,
    /// Seconds left, rounded up (a live binding never says 0).
    pub expires_in: u32,
}

/// A binding to add or refresh (`expires_s` > 0) or remove (0).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub uri: String,
    pub q: Option<Q>,
    pub expires_s: u32,
}

/// What one REGISTER asks of an address-of-record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Update {
    /// Contacts to add, refresh or remove (none: a query).
    Set(Vec<Change>),
    /// `Contact: *` with `Expires: 0`: remove them all.
    RemoveAll,
}

/// The request was older than a binding it touches: the same Call-ID with
/// a CSeq not above the stored one (RFC 3261 §10.3 step 6 and 7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutOfOrder;

#[derive(Clone, Debug, PartialEq, Eq)]
struct Binding {
    uri: String,
    q: Option<Q>,
    expires_at_ms: u64,
    call_id: String,
    cseq: u32,
    /// The update that last set it: of two equal q, the later ranks first
    /// (within one update, the order the request listed them).
    update: u64,
}

/// The bindings of one address-of-record.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bindings {
    list: Vec<Binding>,
    /// Updates applied so far.
    updates: u64,
}

impl Bindings {
    /// Applies an update made with `call_id` and `cseq` at `now_ms`, keeping
    /// at most `max` bindings (the ones nearest to expiry that this update
    /// did not touch go first). Either every change is made or none.
    pub fn apply(
        &mut self,
        update: &Update,
        call_id: &str,
        cseq: u32,
        now_ms: u64,
        max: usize,
    ) -> Result<(), OutOfOrder> {
        self.expire(now_ms);
        let stale = |b: &Binding| b.call_id == call_id && cseq <= b.cseq;
        let changes = match update {
            Update::RemoveAll => {
                if self.list.iter().any(stale) {
                    return Err(OutOfOrder);
                }
                self.list.clear();
                return Ok(());
            }
            Update::Set(changes) => changes,
        };
        let mut next = self.list.clone();
        let mut touched: Vec<&str> = Vec::new();
        for c in changes {
            let existing = next.iter().position(|b| b.uri == c.uri);
            if let Some(i) = existing {
                if stale(&next[i]) {
                    return Err(OutOfOrder);
                }
                next.remove(i);
            }
            if c.expires_s > 0 {
                next.push(Binding {
                    uri: c.uri.clone(),
                    q: c.q,
                    expires_at_ms: now_ms.saturating_add(u64::from(c.expires_s) * 1000),
                    call_id: call_id.to_string(),
                    cseq,
                    update: self.updates + 1,
                });
                touched.push(&c.uri);
            }
        }
        while next.len() > max {
            let evict = next
                .iter()
                .enumerate()
                .filter(|(_, b)| !touched.contains(&b.uri.as_str()))
                .min_by_key(|(_, b)| b.expires_at_ms)
                .map(|(i, _)| i);
            match evict {
                Some(i) => next.remove(i),
                // Only this update's own contacts are left: the caller
                // limits an update to `max` contacts.
                None => break,
            };
        }
        self.list = next;
        self.updates += 1;
        Ok(())
    }

    /// Drops the bindings expired at `now_ms`; returns how many.
    pub fn expire(&mut self, now_ms: u64) -> usize {
        let before = self.list.len();
        self.list.retain(|b| b.expires_at_ms > now_ms);
        before - self.list.len()
    }

    /// The live bindings, highest q first, then the most recently updated.
    pub fn contacts(&self, now_ms: u64) -> Vec<Contact> {
        let mut live: Vec<&Binding> = self
            .list
            .iter()
            .filter(|b| b.expires_at_ms > now_ms)
            .collect();
        live.sort_by_key(|b| (Reverse(b.q.unwrap_or(Q::ONE)), Reverse(b.update)));
        live.into_iter()
            .map(|b| Contact {
                uri: b.uri.clone(),
                q: b.q,
                expires_in: u32::try_from((b.expires_at_ms - now_ms).div_ceil(1000))
                    .unwrap_or(u32::MAX),
            })
            .collect()
    }

    /// Whether any binding is live at `now_ms`.
    pub fn is_live(&self, now_ms: u64) -> bool {
        self.list.iter().any(|b| b.expires_at_ms > now_ms)
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(changes: &[(&str, Option<&str>, u32)]) -> Update {
        Update::Set(
            changes
                .iter()
                .map(|&(uri, q, expires_s)| Change {
                    uri: uri.into(),
                    q: q.map(|q| Q::parse(q).expect("q")),
                    expires_s,
                })
                .collect(),
        )
    }

    /// `uri q expires_in` of each live binding, in ringing order.
    fn shown(b: &Bindings, now_ms: u64) -> Vec<String> {
        b.contacts(now_ms)
            .iter()
            .map(|c| {
                let q = c.q.map_or("-".to_string(), |q| q.to_string());
                format!("{} {q} {}", c.uri, c.expires_in)
            })
            .collect()
    }

    #[test]
    fn q_values_parse_and_print() {
        for (text, thousandths, printed) in [
            ("0", 0, "0"),
            ("0.", 0, "0"),
            ("0.5", 500, "0.5"),
            ("0.125", 125, "0.125"),
            ("0.050", 50, "0.05"),
            ("1", 1000, "1"),
            ("1.000", 1000, "1"),
        ] {
            let q = Q::parse(text).unwrap_or_else(|| panic!("{text}"));
            assert_eq!(
                (q.thousandths(), q.to_string().as_str()),
                (thousandths, printed)
            );
        }
        for bad in ["", "2", "1.5", "0.1234", "-0", "0.x", ".5", "01", "é"] {
            assert_eq!(Q::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn contacts_add_refresh_and_order_by_q() {
        let mut b = Bindings::default();
        b.apply(&set(&[("sip:a@h", Some("0.5"), 60)]), "c1", 1, 0, 10)
            .expect("add");
        b.apply(&set(&[("sip:b@h", None, 120)]), "c2", 1, 1_000, 10)
            .expect("add");
        b.apply(&set(&[("sip:c@h", Some("0.5"), 30)]), "c3", 1, 2_000, 10)
            .expect("add");
        assert_eq!(
            shown(&b, 2_500),
            ["sip:b@h - 119", "sip:c@h 0.5 30", "sip:a@h 0.5 58"]
        );
        // A refresh from the same Call-ID with a higher CSeq moves it.
        b.apply(&set(&[("sip:a@h", Some("0.9"), 60)]), "c1", 2, 3_000, 10)
            .expect("refresh");
        assert_eq!(shown(&b, 3_000)[1], "sip:a@h 0.9 60");
        // Expiry: gone when due, lazily and by `expire`.
        assert_eq!(shown(&b, 32_000).len(), 2);
        assert_eq!(b.expire(63_000), 2);
        assert_eq!(shown(&b, 63_000), ["sip:b@h - 58"]);
        assert!(b.is_live(120_999));
        assert!(!b.is_live(121_000));
    }

    #[test]
    fn same_call_id_needs_a_higher_cseq_and_fails_whole() {
        let mut b = Bindings::default();
        b.apply(&set(&[("sip:a@h", None, 60)]), "c1", 5, 0, 10)
            .expect("add");
        let before = b.clone();
        for cseq in [4, 5] {
            let update = set(&[("sip:new@h", None, 60), ("sip:a@h", None, 0)]);
            assert_eq!(b.apply(&update, "c1", cseq, 1, 10), Err(OutOfOrder));
            assert_eq!(b, before, "nothing of a failed update is kept");
            assert_eq!(
                b.apply(&Update::RemoveAll, "c1", cseq, 1, 10),
                Err(OutOfOrder)
            );
        }
        // Another Call-ID (a phone that restarted) may change it at once.
        b.apply(&set(&[("sip:a@h", None, 0)]), "c9", 1, 1, 10)
            .expect("remove");
        assert!(b.is_empty());
        b.apply(
            &set(&[("sip:a@h", None, 60), ("sip:b@h", None, 60)]),
            "c1",
            6,
            2,
            10,
        )
        .expect("add");
        b.apply(&Update::RemoveAll, "c1", 7, 3, 10).expect("all");
        assert!(b.is_empty());
    }

    #[test]
    fn over_the_limit_the_nearest_expiry_goes() {
        let mut b = Bindings::default();
        b.apply(&set(&[("sip:a@h", None, 300)]), "a", 1, 0, 2)
            .expect("a");
        b.apply(&set(&[("sip:b@h", None, 100)]), "b", 1, 0, 2)
            .expect("b");
        b.apply(&set(&[("sip:c@h", None, 60)]), "c", 1, 0, 2)
            .expect("c");
        assert_eq!(shown(&b, 0), ["sip:c@h - 60", "sip:a@h - 300"]);
        // A query changes nothing.
        b.apply(&set(&[]), "q", 1, 0, 2).expect("query");
        assert_eq!(shown(&b, 0).len(), 2);
    }
}
