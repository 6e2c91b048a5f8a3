//! The rows of every lookup of one program, keyed by the normalised key,
//! kept apart from the compiled program so that they can be read again and
//! swapped without compiling the script.
//!
//! Tables remember, per lookup, a fingerprint of the declaration their rows
//! were read for (key, country, fields and their types), so that a runtime
//! can refuse tables that do not fit its program before any call reads them.
//!
//! **Invariant:** no I/O here; loading tables from a script's sources is
//! `sources.rs`'s.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use crate::checked::{self, Lookup, LookupKey, SkillKind, Type};
use crate::facts::{Facts, Row};

/// The rows of every lookup of one program, in the program's lookup order.
/// Shared between calls behind an `Arc`; a call keeps the tables it started
/// with.
#[derive(Clone, Default)]
pub struct LookupTables {
    tables: Vec<Table>,
}

#[derive(Clone)]
struct Table {
    name: String,
    key: LookupKey,
    fields: usize,
    /// What the rows were read for; see [`fingerprint`].
    fingerprint: u64,
    rows: HashMap<String, Row>,
}

/// Why tables do not fit a program: its lookups are not the ones the rows
/// were read for.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DataMismatch {
    #[error("the lookup tables hold {tables} lookup(s) but the script declares {script}")]
    Count { tables: usize, script: usize },
    #[error("the script's lookup `{script}` is where the tables hold lookup `{tables}`")]
    Name { tables: String, script: String },
    #[error(
        "lookup `{0}` is declared differently (key, country or fields) from the lookup its rows were read for"
    )]
    Declaration(String),
}

impl LookupTables {
    /// Tables for `program`'s lookups, with no rows.
    pub fn empty(program: &checked::Program) -> LookupTables {
        let tables = (program.lookups.iter())
            .map(|l| Table {
                name: l.name.clone(),
                key: l.key,
                fields: l.fields.len(),
                fingerprint: fingerprint(program, l),
                rows: HashMap::new(),
            })
            .collect();
        LookupTables { tables }
    }

    /// Adds a row to lookup `lookup` (an index into the program's lookups)
    /// unless the lookup already has a row for `key`: the first row for a
    /// key wins. A row must hold one slot per field of the lookup. Returns
    /// whether the row was added.
    pub fn insert(&mut self, lookup: usize, key: String, row: Row) -> bool {
        let Some(table) = self.tables.get_mut(lookup) else {
            return false;
        };
        if row.len() != table.fields || table.rows.contains_key(&key) {
            return false;
        }
        table.rows.insert(key, row);
        true
    }

    /// Removes every row of lookup `lookup`.
    pub fn clear(&mut self, lookup: usize) {
        if let Some(table) = self.tables.get_mut(lookup) {
            table.rows.clear();
        }
    }

    /// The row of lookup `lookup` for a normalised key.
    pub fn row(&self, lookup: usize, key: &str) -> Option<&Row> {
        self.tables.get(lookup).and_then(|t| t.rows.get(key))
    }

    /// How many rows lookup `lookup` holds.
    pub fn len(&self, lookup: usize) -> usize {
        self.tables.get(lookup).map_or(0, |t| t.rows.len())
    }

    /// Whether no lookup holds a row.
    pub fn is_empty(&self) -> bool {
        self.tables.iter().all(|t| t.rows.is_empty())
    }

    /// Whether these tables were read for `program`'s lookups: the same
    /// lookups in the same order, each with the same key, country, fields
    /// and field types (the values of an enumerated skill included). This
    /// costs a hash of each declaration, not a look at the rows.
    pub fn check(&self, program: &checked::Program) -> Result<(), DataMismatch> {
        if self.tables.len() != program.lookups.len() {
            return Err(DataMismatch::Count {
                tables: self.tables.len(),
                script: program.lookups.len(),
            });
        }
        for (table, l) in self.tables.iter().zip(&program.lookups) {
            if table.name != l.name {
                return Err(DataMismatch::Name {
                    tables: table.name.clone(),
                    script: l.name.clone(),
                });
            }
            if table.fingerprint != fingerprint(program, l) {
                return Err(DataMismatch::Declaration(l.name.clone()));
            }
        }
        Ok(())
    }

    /// Fills in the rows of lookups keyed by `key` from the call's number
    /// or digits in `facts`, leaving alone the lookups in `fixed` (rows a
    /// test supplied).
    pub fn look_up(&self, facts: &mut Facts, key: LookupKey, fixed: &[bool]) {
        for (l, table) in self.tables.iter().enumerate() {
            if table.key != key || fixed.get(l).copied().unwrap_or(false) {
                continue;
            }
            let value = match key {
                LookupKey::Caller => &facts.caller,
                LookupKey::Dialed => &facts.dialed,
                LookupKey::Digits => &facts.digits,
            };
            let row = table.rows.get(value).cloned();
            if let Some(slot) = facts.lookups.get_mut(l) {
                *slot = row;
            }
        }
    }
}

impl std::fmt::Debug for LookupTables {
    /// Each lookup with its count of rows, not the rows: tables can hold
    /// many thousands.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.tables.iter().map(|t| (&t.name, t.rows.len())))
            .finish()
    }
}

/// A hash of what a lookup's rows depend on: how keys are read (the key
/// kind and the country) and what each slot holds (field names and types,
/// with an enumerated skill's values, since a slot holds a value's
/// position). Not the source: the same declaration may read another file.
/// Compared only within one process, so the std hasher is enough.
fn fingerprint(program: &checked::Program, l: &Lookup) -> u64 {
    let mut h = DefaultHasher::new();
    l.key.hash(&mut h);
    l.country.hash(&mut h);
    l.fields.len().hash(&mut h);
    for f in &l.fields {
        f.name.hash(&mut h);
        f.ty.hash(&mut h);
        if let Type::Enum(s) = &f.ty {
            match program.skills.get(s.index()).map(|s| &s.kind) {
                Some(SkillKind::Values(values)) => values.hash(&mut h),
                Some(SkillKind::Level) | None => 0u8.hash(&mut h),
            }
        }
    }
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::Slot;

    /// A script with its CSV sources (headers only), checked.
    fn checked(script: &str) -> checked::Program {
        let fs = crate::load::MemoryFs::default()
            .with("main.dial", script)
            .with("customers.csv", "phone,tier,vip\n")
            .with("accounts.csv", "account,owner\n");
        crate::load::check_in_memory(&fs).unwrap_or_else(|e| panic!("{e}"))
    }

    const SCRIPT: &str = r#"
skill tier { gold, silver }
lookup customer by caller from "customers.csv" {
  tier: tier
  vip:  bool
}
lookup account by digits from "accounts.csv" {
  owner: text
}
entry "+1 512 555 0100" -> voicemail "general"
"#;

    fn row(tier: i64, vip: bool) -> Row {
        vec![Slot::int(tier), Slot::int(vip as i64)]
    }

    #[test]
    fn looks_up_rows_by_key_kind_and_leaves_fixed_lookups() {
        let p = crate::program::Program::compile(checked(SCRIPT)).expect("compiles");
        let mut t = LookupTables::empty(p.checked());
        assert!(t.insert(0, "+15125550101".into(), row(1, true)));
        assert!(t.insert(1, "42".into(), vec![Slot::default()]));
        let mut facts = Facts::new(&p.ir().layout);
        facts.caller = "+15125550101".into();
        facts.digits = "42".into();
        t.look_up(&mut facts, LookupKey::Caller, &[]);
        assert_eq!(facts.lookups[0], Some(row(1, true)));
        // Only lookups by caller were read.
        assert_eq!(facts.lookups[1], None);
        t.look_up(&mut facts, LookupKey::Digits, &[]);
        assert_eq!(facts.lookups[1], Some(vec![Slot::default()]));
        // A fixed lookup keeps what the test gave; others are read again.
        facts.caller = "+15125550199".into();
        t.look_up(&mut facts, LookupKey::Caller, &[true]);
        assert_eq!(facts.lookups[0], Some(row(1, true)));
        t.look_up(&mut facts, LookupKey::Caller, &[false]);
        assert_eq!(facts.lookups[0], None);
    }

    #[test]
    fn first_row_wins_and_bad_rows_are_refused() {
        let mut t = LookupTables::empty(&checked(SCRIPT));
        assert!(t.insert(0, "k".into(), row(0, false)));
        assert!(!t.insert(0, "k".into(), row(1, true)));
        assert_eq!(t.row(0, "k"), Some(&row(0, false)));
        // Wrong width, unknown lookup.
        assert!(!t.insert(0, "j".into(), vec![Slot::default()]));
        assert!(!t.insert(7, "k".into(), row(0, false)));
        assert_eq!((t.len(0), t.len(1), t.len(7)), (1, 0, 0));
        assert!(!t.is_empty());
        t.clear(0);
        assert!(t.is_empty());
    }

    #[test]
    fn tables_fit_the_program_they_were_read_for() {
        let p = checked(SCRIPT);
        assert_eq!(LookupTables::empty(&p).check(&p), Ok(()));
        // Another script with the same lookups fits too: only declarations
        // count, not entries, routes or queues.
        let other = checked(&SCRIPT.replace("voicemail \"general\"", "hangup"));
        assert_eq!(LookupTables::empty(&p).check(&other), Ok(()));
    }

    #[test]
    fn tables_for_other_declarations_are_refused() {
        let t = LookupTables::empty(&checked(SCRIPT));
        let refused = |script: String| t.check(&checked(&script)).unwrap_err();
        assert_eq!(
            refused(SCRIPT.replace("vip:  bool", "vip:  int")),
            DataMismatch::Declaration("customer".into())
        );
        assert_eq!(
            refused(SCRIPT.replace("tier: tier\n  vip:  bool", "vip:  bool\n  tier: tier")),
            DataMismatch::Declaration("customer".into())
        );
        assert_eq!(
            refused(SCRIPT.replace("customer by caller", "customer by dialed")),
            DataMismatch::Declaration("customer".into())
        );
        // An enumerated skill's values are what a slot's position means.
        assert_eq!(
            refused(SCRIPT.replace("{ gold, silver }", "{ silver, gold }")),
            DataMismatch::Declaration("customer".into())
        );
        assert_eq!(
            refused(SCRIPT.replace("lookup customer", "lookup client")),
            DataMismatch::Name {
                tables: "customer".into(),
                script: "client".into()
            }
        );
        let one = "lookup account by digits from \"accounts.csv\" {\n  owner: text\n}";
        let err = refused(SCRIPT.replace(one, ""));
        assert_eq!(
            err,
            DataMismatch::Count {
                tables: 2,
                script: 1
            }
        );
        assert_eq!(
            err.to_string(),
            "the lookup tables hold 2 lookup(s) but the script declares 1"
        );
    }

    #[test]
    fn debug_shows_counts_not_rows() {
        let mut t = LookupTables::empty(&checked(SCRIPT));
        t.insert(0, "k".into(), row(0, false));
        assert_eq!(format!("{t:?}"), r#"{"customer": 1, "account": 0}"#);
    }
}
