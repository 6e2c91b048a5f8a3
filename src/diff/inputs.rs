//! The inputs a call's way through a script depends on, apart from the
//! time (`times.rs`) and the keys (`explore.rs`): who calls, the queue
//! statistics and the lookup rows the rules read, each with the few values
//! that stand for all others. Found from the atoms of both versions' rule
//! conditions (`check::logic`): a comparison with a constant `c` splits its
//! subject at `c` and `c + 1`, so one value per piece decides as every
//! value of that piece does.

use std::collections::{BTreeMap, BTreeSet};

use crate::check::logic;
use crate::checked::{self, BinOp, Expr, ExprKind, QueueStat, Type, Value};
use crate::facts::Slot;
use crate::number::Pattern;

/// Something a rule reads that the diff tries several values of, named the
/// same in both versions (queues, lookups and fields by name).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Subject {
    /// The local time (hours, calendars, `now`): see `times.rs`.
    Time,
    Caller,
    /// A queue's statistic, by queue name and index in [`QueueStat::ALL`].
    Stat(String, usize),
    /// Whether a lookup found a row.
    Known(String),
    /// A field of a lookup's row.
    Field(String, String),
    /// Whether a supervisor has a switch on.
    Switch(String),
}

/// One value a subject is tried with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cand {
    Int(i64),
    Text(String),
    Bool(bool),
    /// A class of times (`times::Times::classes`).
    Time(usize),
}

/// How a subject's values read in a report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Counts and integers: each value stands for itself up to the next.
    Int,
    /// Milliseconds, likewise.
    Duration,
    Text,
    Bool,
    Caller,
    Time,
}

/// The values a subject is tried with.
#[derive(Clone, Debug)]
pub struct Domain {
    pub values: Vec<Cand>,
    /// Per value, how it reads (callers: which patterns it matches).
    pub labels: Vec<String>,
    pub kind: Kind,
    /// For `Int` and `Duration`: per value, the ranges it stands for.
    pub pieces: Vec<Pieces>,
    /// The constants compared with, for reading bounds back (`> 20`).
    pub constants: BTreeSet<i64>,
}

/// Every subject either version's rules read, with its values.
#[derive(Clone, Debug, Default)]
pub struct Inputs {
    pub domains: BTreeMap<Subject, Domain>,
    /// `now.time` constants, minutes (the script's own zone), by zone name.
    pub now_minutes: Vec<(String, u16)>,
    /// `now.date` constants.
    pub now_dates: Vec<jiff::civil::Date>,
    /// Which `now` fields rules read: time, weekday, date.
    pub reads_now: [bool; 3],
}

/// What one version contributes before the domains are built.
#[derive(Default)]
struct Found {
    /// Per subject: how its values read, whether values below 0 exist,
    /// and each comparison with a constant.
    ints: BTreeMap<Subject, (Kind, bool, Comparisons)>,
    texts: BTreeMap<Subject, BTreeSet<String>>,
    bools: BTreeSet<Subject>,
    callers: CallerTests,
}

#[derive(Default)]
struct CallerTests {
    patterns: Vec<Pattern>,
    prefixes: Vec<String>,
    numbers: Vec<String>,
}

impl CallerTests {
    /// What a caller's number satisfies, as a report says it.
    fn label(&self, number: &str) -> String {
        if number.is_empty() {
            return "a withheld number".into();
        }
        let mut parts: Vec<String> = Vec::new();
        parts.extend((self.numbers.iter()).filter(|n| *n == number).cloned());
        parts.extend(
            (self.patterns.iter())
                .filter(|p| p.matches(number))
                .map(|p| format!("`{p}`")),
        );
        parts.extend(
            (self.prefixes.iter())
                .filter(|s| number.starts_with(s.as_str()))
                .map(|s| format!("numbers starting {s}")),
        );
        if parts.is_empty() {
            format!("other numbers (such as {number})")
        } else {
            parts.join(" and ")
        }
    }
}

impl Inputs {
    /// The subjects and values of two versions together.
    pub fn of(old: &checked::Program, new: &checked::Program) -> Inputs {
        let mut found = Found::default();
        let mut inputs = Inputs::default();
        for p in [old, new] {
            inputs.declare(p, &mut found);
            for route in &p.routes {
                for rule in &route.rules {
                    if let Some(when) = &rule.when {
                        inputs.read(p, when, &mut found);
                    }
                }
            }
        }
        let tests = &mut found.callers;
        dedup(&mut tests.patterns);
        dedup(&mut tests.prefixes);
        dedup(&mut tests.numbers);
        inputs.build(found);
        inputs
    }

    /// The values of a subject; a subject no version declares has one.
    pub fn domain(&self, s: &Subject) -> Option<&Domain> {
        self.domains.get(s)
    }

    /// Every queue statistic and lookup of a version, so that subjects no
    /// rule compares still have their values.
    fn declare(&mut self, p: &checked::Program, found: &mut Found) {
        for q in &p.queues {
            for (i, stat) in QueueStat::ALL.iter().enumerate() {
                let kind = match stat.ty() {
                    Type::Duration => Kind::Duration,
                    _ => Kind::Int,
                };
                found
                    .ints
                    .entry(Subject::Stat(q.name.clone(), i))
                    .or_insert((kind, false, Vec::new()));
            }
        }
        for s in &p.switches {
            found.bools.insert(Subject::Switch(s.name.clone()));
        }
        for l in &p.lookups {
            found.bools.insert(Subject::Known(l.name.clone()));
            for f in &l.fields {
                let s = Subject::Field(l.name.clone(), f.name.clone());
                match f.ty {
                    Type::Bool => {
                        found.bools.insert(s);
                    }
                    Type::Text | Type::Phone => {
                        found.texts.entry(s).or_default();
                    }
                    Type::Duration => {
                        found
                            .ints
                            .entry(s)
                            .or_insert((Kind::Duration, true, Vec::new()));
                    }
                    _ => {
                        found.ints.entry(s).or_insert((Kind::Int, true, Vec::new()));
                    }
                }
            }
        }
    }

    /// What one condition compares.
    fn read(&mut self, p: &checked::Program, when: &Expr, found: &mut Found) {
        for atom in logic::atoms(when) {
            match &atom.kind {
                ExprKind::Matches(x, pattern) if x.kind == ExprKind::Caller => {
                    found.callers.patterns.push(pattern.clone());
                }
                ExprKind::StartsWith(x, prefix) if x.kind == ExprKind::Caller => {
                    found.callers.prefixes.push(prefix.clone());
                }
                _ => {}
            }
            visit_now(atom, &mut self.reads_now);
            let Some((subject, op, values)) = logic::compared(atom) else {
                continue;
            };
            match &subject.kind {
                ExprKind::Caller => {
                    for v in values {
                        if let Value::Phone(n) | Value::Text(n) = v {
                            found.callers.numbers.push(n.clone());
                        }
                    }
                }
                ExprKind::Now(checked::NowField::Time) => {
                    for v in values {
                        if let Value::Time(m) = v {
                            let zone = p.zones.first().map(|z| z.name.clone()).unwrap_or_default();
                            self.now_minutes.push((zone.clone(), *m));
                            self.now_minutes.push((zone, m.saturating_add(1)));
                        }
                    }
                }
                ExprKind::Now(checked::NowField::Date) => {
                    for v in values {
                        if let Value::Date(d) = v {
                            self.now_dates.push(*d);
                            self.now_dates.extend(d.tomorrow().ok());
                        }
                    }
                }
                ExprKind::QueueStat(q, stat) => {
                    let i = QueueStat::ALL.iter().position(|s| s == stat).unwrap_or(0);
                    let s = Subject::Stat(p.queue(*q).name.clone(), i);
                    add_ints(found, s, op, &values);
                }
                ExprKind::Field(l, f) => {
                    let lookup = p.lookup(*l);
                    let Some(field) = lookup.fields.get(*f as usize) else {
                        continue;
                    };
                    let s = Subject::Field(lookup.name.clone(), field.name.clone());
                    match field.ty {
                        Type::Text | Type::Phone => {
                            let texts = found.texts.entry(s).or_default();
                            for v in values {
                                if let Value::Text(t) | Value::Phone(t) = v {
                                    texts.insert(t.clone());
                                }
                            }
                        }
                        Type::Bool => {}
                        _ => add_ints(found, s, op, &values),
                    }
                }
                _ => {}
            }
        }
    }

    fn build(&mut self, found: Found) {
        for (s, (kind, open_below, comparisons)) in found.ints {
            let classes = int_classes(open_below, &comparisons);
            self.domains.insert(
                s,
                Domain {
                    labels: (classes.iter())
                        .map(|(v, _)| number_text(kind, *v))
                        .collect(),
                    values: classes.iter().map(|(v, _)| Cand::Int(*v)).collect(),
                    pieces: classes.into_iter().map(|(_, p)| p).collect(),
                    kind,
                    constants: comparisons.iter().map(|(_, c)| *c).collect(),
                },
            );
        }
        for (s, texts) in found.texts {
            // The empty text stands for every value the rules do not name.
            let mut values: Vec<String> = texts.into_iter().filter(|t| !t.is_empty()).collect();
            values.push(String::new());
            self.domains.insert(
                s,
                Domain {
                    labels: (values.iter())
                        .map(|t| {
                            if t.is_empty() {
                                "another value".into()
                            } else {
                                format!("{t:?}")
                            }
                        })
                        .collect(),
                    values: values.into_iter().map(Cand::Text).collect(),
                    kind: Kind::Text,
                    pieces: Vec::new(),
                    constants: BTreeSet::new(),
                },
            );
        }
        for s in found.bools {
            self.domains.insert(
                s,
                Domain {
                    values: vec![Cand::Bool(false), Cand::Bool(true)],
                    labels: vec!["false".into(), "true".into()],
                    kind: Kind::Bool,
                    pieces: Vec::new(),
                    constants: BTreeSet::new(),
                },
            );
        }
        let numbers = caller_numbers(&found.callers);
        self.domains.insert(
            Subject::Caller,
            Domain {
                labels: numbers.iter().map(|n| found.callers.label(n)).collect(),
                values: numbers.into_iter().map(Cand::Text).collect(),
                kind: Kind::Caller,
                pieces: Vec::new(),
                constants: BTreeSet::new(),
            },
        );
        self.now_minutes.sort();
        self.now_minutes.dedup();
        self.now_dates.sort();
        self.now_dates.dedup();
    }
}

/// Keeps the first of equal items.
fn dedup<T: PartialEq>(items: &mut Vec<T>) {
    let mut kept: Vec<T> = Vec::with_capacity(items.len());
    for item in items.drain(..) {
        if !kept.contains(&item) {
            kept.push(item);
        }
    }
    *items = kept;
}

fn add_ints(found: &mut Found, s: Subject, op: BinOp, values: &[&Value]) {
    let entry = found.ints.entry(s).or_insert((Kind::Int, true, Vec::new()));
    for v in values {
        if let Value::Duration(_) = v {
            entry.0 = Kind::Duration;
        }
        let c = Slot::from_value(v).int;
        if !entry.2.contains(&(op, c)) {
            entry.2.push((op, c));
        }
    }
}

/// Whether `v op c` holds.
fn holds(v: i64, op: BinOp, c: i64) -> bool {
    match op {
        BinOp::Eq => v == c,
        BinOp::Ne => v != c,
        BinOp::Lt => v < c,
        BinOp::Le => v <= c,
        BinOp::Gt => v > c,
        BinOp::Ge => v >= c,
        _ => false,
    }
}

/// The values of a counted subject: cut at each constant and one past it,
/// each piece standing for itself up to the next cut; pieces on which
/// every comparison agrees are one class, tried once. Returns each class's
/// first value and its pieces (`None` bounds are open).
fn int_classes(open_below: bool, comparisons: &[(BinOp, i64)]) -> Vec<(i64, Pieces)> {
    let mut cuts: BTreeSet<i64> = BTreeSet::new();
    for &(_, c) in comparisons {
        cuts.insert(c);
        cuts.insert(c.saturating_add(1));
    }
    if open_below {
        let low = cuts.first().copied().unwrap_or(0);
        cuts.insert(low.saturating_sub(1).min(0));
    } else {
        cuts.retain(|v| *v >= 0);
        cuts.insert(0);
    }
    let cuts: Vec<i64> = cuts.into_iter().collect();
    let mut classes: Vec<(Vec<bool>, i64, Pieces)> = Vec::new();
    for (i, &v) in cuts.iter().enumerate() {
        let lo = (i > 0 || !open_below).then_some(v);
        let hi = cuts.get(i + 1).map(|next| next.saturating_sub(1));
        let signature: Vec<bool> = (comparisons.iter())
            .map(|&(op, c)| holds(v, op, c))
            .collect();
        match classes.iter_mut().find(|(sig, _, _)| *sig == signature) {
            Some((_, _, pieces)) => match pieces.last_mut() {
                Some((_, last)) if last.is_some_and(|h| lo == Some(h.saturating_add(1))) => {
                    *last = hi;
                }
                _ => pieces.push((lo, hi)),
            },
            None => classes.push((signature, v, vec![(lo, hi)])),
        }
    }
    classes.into_iter().map(|(_, v, p)| (v, p)).collect()
}

/// A subject's comparisons with constants.
type Comparisons = Vec<(BinOp, i64)>;

/// Ranges of integers, inclusive; `None` is unbounded.
pub type Pieces = Vec<(Option<i64>, Option<i64>)>;

/// Notes which `now` fields an expression reads.
fn visit_now(e: &Expr, reads: &mut [bool; 3]) {
    match &e.kind {
        ExprKind::Now(f) => {
            let i = match f {
                checked::NowField::Time => 0,
                checked::NowField::Weekday => 1,
                checked::NowField::Date => 2,
            };
            reads[i] = true;
        }
        ExprKind::Not(x) | ExprKind::Neg(x) => visit_now(x, reads),
        ExprKind::Binary { lhs, rhs, .. } => {
            visit_now(lhs, reads);
            visit_now(rhs, reads);
        }
        ExprKind::Matches(x, _) | ExprKind::StartsWith(x, _) | ExprKind::In(x, _) => {
            visit_now(x, reads)
        }
        _ => {}
    }
}

/// A value as a report writes it: durations in their largest whole unit.
pub fn number_text(kind: Kind, v: i64) -> String {
    if kind != Kind::Duration || v == 0 {
        return v.to_string();
    }
    for (unit, ms) in [("h", 3_600_000), ("m", 60_000), ("s", 1_000)] {
        if v % ms == 0 {
            return format!("{}{unit}", v / ms);
        }
    }
    format!("{v}ms")
}

/// Callers that between them meet every combination of the rules' caller
/// tests that some number meets: withheld, one of each pattern, of each
/// overlap and difference of two patterns, each prefix, each number
/// compared with, and one that meets none.
fn caller_numbers(tests: &CallerTests) -> Vec<String> {
    let mut out: Vec<String> = vec![String::new()];
    let push = |n: String, out: &mut Vec<String>| {
        if !out.contains(&n) {
            out.push(n);
        }
    };
    for p in &tests.patterns {
        push(p.example(), &mut out);
        for q in &tests.patterns {
            if let Some(both) = p.intersection(q) {
                push(both.example(), &mut out);
            }
            if let Some(n) = outside(p, q) {
                push(n, &mut out);
            }
        }
    }
    for prefix in &tests.prefixes {
        let mut n = prefix.clone();
        while n.trim_start_matches('+').len() < 11 {
            n.push('0');
        }
        push(n, &mut out);
    }
    for n in &tests.numbers {
        push(n.clone(), &mut out);
    }
    let meets_none = |n: &str| {
        !tests.patterns.iter().any(|p| p.matches(n))
            && !tests.prefixes.iter().any(|s| n.starts_with(s.as_str()))
            && !tests.numbers.iter().any(|x| x == n)
    };
    if let Some(n) = [
        "+19995550100",
        "+33199990000",
        "+81399990000",
        "+611999900001",
    ]
    .into_iter()
    .find(|n| meets_none(n))
    {
        push(n.to_string(), &mut out);
    }
    out
}

/// A number `p` matches and `q` does not, if there is one.
fn outside(p: &Pattern, q: &Pattern) -> Option<String> {
    if !p.overlaps(q) {
        return None;
    }
    let i = (0..p.positions.len()).find(|&i| p.positions[i] & !q.positions[i] != 0)?;
    let mut one = p.clone();
    one.positions[i] &= !q.positions[i];
    Some(one.example())
}

/// A number an entry's pattern matches that no narrower pattern among
/// `all` does, so the call reaches this entry; the pattern's first number
/// when every one is taken (or the search is too long).
pub fn dialed_for(pattern: &Pattern, all: &[&Pattern]) -> String {
    let narrower: Vec<&&Pattern> = (all.iter())
        .filter(|q| **q != pattern && q.is_subset_of(pattern))
        .collect();
    let sets: Vec<Vec<u8>> = (pattern.positions.iter())
        .map(|set| (0..10u8).filter(|d| set & (1 << d) != 0).collect())
        .collect();
    if sets.iter().any(|s| s.is_empty()) {
        return pattern.example();
    }
    // An odometer over the digits each position allows, last position
    // fastest.
    let mut at = vec![0usize; sets.len()];
    for _ in 0..4_096 {
        let digits: String = (sets.iter().zip(&at))
            .map(|(s, &i)| char::from(b'0' + s[i]))
            .collect();
        let number = format!("{}{digits}", if pattern.plus { "+" } else { "" });
        if !narrower.iter().any(|q| q.matches(&number)) {
            return number;
        }
        let mut k = sets.len();
        loop {
            if k == 0 {
                return pattern.example();
            }
            k -= 1;
            at[k] += 1;
            if at[k] < sets[k].len() {
                break;
            }
            at[k] = 0;
        }
    }
    pattern.example()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(text: &str) -> Pattern {
        Pattern::parse(text).expect("a pattern")
    }

    /// A pattern's number is one no narrower entry answers.
    #[test]
    fn dialed_numbers_avoid_narrower_entries() {
        let wide = pattern("+1 312 555 01XX");
        let narrow = pattern("+1 312 555 0100");
        let narrower = pattern("+1 312 555 015X");
        let all = [&wide, &narrow, &narrower];
        let n = dialed_for(&wide, &all);
        assert!(
            wide.matches(&n) && !narrow.matches(&n) && !narrower.matches(&n),
            "{n}"
        );
        assert_eq!(dialed_for(&narrow, &all), "+13125550100");
    }

    /// Comparisons split a statistic at the constant and one past it, and
    /// callers cover withheld, each pattern and neither.
    #[test]
    fn values_come_from_the_rules() {
        let p = crate::program::Program::from_text(
            r#"
timezone "UTC"
queue support { }
route inbound {
  when caller matches "+1 617 XXX XXXX" -> voicemail "boston"
  when queue(support).waiting > 20 -> voicemail "busy"
  otherwise -> queue support
}
entry "+18005550100" -> route inbound
"#,
        )
        .expect("compiles");
        let inputs = Inputs::of(p.checked(), p.checked());
        let waiting = inputs
            .domain(&Subject::Stat("support".into(), 0))
            .expect("waiting");
        // 0 and 20 are alike for `> 20`: one class, from 0 to 20.
        assert_eq!(waiting.values, vec![Cand::Int(0), Cand::Int(21)]);
        assert_eq!(
            waiting.pieces,
            vec![vec![(Some(0), Some(20))], vec![(Some(21), None)]]
        );
        let callers = inputs.domain(&Subject::Caller).expect("callers");
        assert_eq!(
            callers.labels,
            vec![
                "a withheld number".to_string(),
                "`+1617XXXXXXX`".into(),
                "other numbers (such as +19995550100)".into()
            ]
        );
    }
}
