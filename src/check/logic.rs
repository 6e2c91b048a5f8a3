//! A small decision procedure for route conditions: which rules can ever
//! fire, and whether the rules together cover every call.
//!
//! Conditions are boolean formulas over atoms. An atom that compares
//! something with a constant (`queue(q).waiting > 20`, `customer.tier ==
//! "gold"`, `now.weekday in [sat, sun]`) also constrains that something, so
//! `x > 20` and `x <= 20` are known to be exclusive. Every truth assignment
//! of the atoms that the constraints allow is tried, which is exact for the
//! simple cases and gives up (returns `None`) beyond [`MAX_ATOMS`] atoms.

use std::collections::HashMap;

use crate::checked::{BinOp, Expr, ExprKind, MAX_SKILL_LEVEL, SkillKind, Type, Value};

/// Most distinct atoms analysed; routes with more are not analysed.
pub const MAX_ATOMS: usize = 16;

pub struct Analysis {
    /// Per rule: some call reaches and fires it.
    pub reachable: Vec<bool>,
    /// Per rule: its condition holds for some call, earlier rules aside.
    pub satisfiable: Vec<bool>,
    /// Some rule fires for every call.
    pub exhaustive: bool,
}

/// Analyses rule conditions in order; `None` stands for `otherwise`.
/// `skills` gives the values of each enumerated skill.
pub fn analyse(conditions: &[Option<&Expr>], skills: &[SkillKind]) -> Option<Analysis> {
    let mut atoms = Atoms {
        list: Vec::new(),
        index: HashMap::new(),
        skills,
    };
    let formulas: Vec<F> = conditions
        .iter()
        .map(|c| match c {
            None => F::Const(true),
            Some(e) => atoms.formula(e),
        })
        .collect();
    if atoms.list.len() > MAX_ATOMS {
        return None;
    }
    let n = atoms.list.len();
    let groups = atoms.consistency_tables();
    // Every assignment of the atoms is one bit of a bit set: assignment `m`
    // gives atom `j` the value of bit `j` of `m`. Formulas are evaluated on
    // all assignments at once, 64 per word.
    let size = 1usize << n;
    let consistent = consistent_assignments(&groups, size);
    let mut remaining = consistent.clone();
    let mut reachable = Vec::with_capacity(formulas.len());
    let mut satisfiable = Vec::with_capacity(formulas.len());
    for f in &formulas {
        let holds = f.bits(size);
        satisfiable.push(consistent.intersects(&holds));
        reachable.push(remaining.intersects(&holds));
        remaining.and_not(&holds);
    }
    let exhaustive = remaining.is_empty();
    Some(Analysis {
        reachable,
        satisfiable,
        exhaustive,
    })
}

enum F {
    Const(bool),
    Atom(usize),
    Not(Box<F>),
    And(Box<F>, Box<F>),
    Or(Box<F>, Box<F>),
}

impl F {
    /// The assignments (out of `size`) under which the formula holds.
    fn bits(&self, size: usize) -> Bits {
        match self {
            F::Const(true) => Bits::ones(size),
            F::Const(false) => Bits::zeros(size),
            F::Atom(j) => Bits::atom(*j, size),
            F::Not(x) => {
                let mut b = x.bits(size);
                b.invert(size);
                b
            }
            F::And(x, y) => {
                let mut b = x.bits(size);
                b.and(&y.bits(size));
                b
            }
            F::Or(x, y) => {
                let mut b = x.bits(size);
                b.or(&y.bits(size));
                b
            }
        }
    }
}

/// The assignments (out of `size`) that every group's constraints allow.
fn consistent_assignments(groups: &[(Vec<usize>, Vec<bool>)], size: usize) -> Bits {
    let words = Bits::words(size);
    // Removing each impossible combination of a group's atoms costs a bit
    // set operation per atom; testing every assignment costs a loop over
    // all of them. Take the cheaper.
    let removal: usize = groups
        .iter()
        .map(|(atoms, table)| table.iter().filter(|ok| !**ok).count() * atoms.len() * words)
        .sum();
    let scan: usize = size * groups.iter().map(|(atoms, _)| atoms.len()).sum::<usize>();
    if removal <= scan {
        by_removal(groups, size)
    } else {
        by_scan(groups, size)
    }
}

/// Starts from every assignment and removes each impossible combination.
fn by_removal(groups: &[(Vec<usize>, Vec<bool>)], size: usize) -> Bits {
    let mut consistent = Bits::ones(size);
    for (atoms, table) in groups {
        for (local, _) in table.iter().enumerate().filter(|(_, ok)| !**ok) {
            let mut impossible = Bits::ones(size);
            for (j, &a) in atoms.iter().enumerate() {
                let mut atom = Bits::atom(a, size);
                if local & (1 << j) == 0 {
                    atom.invert(size);
                }
                impossible.and(&atom);
            }
            consistent.and_not(&impossible);
        }
    }
    consistent
}

/// Tests every assignment against every group.
fn by_scan(groups: &[(Vec<usize>, Vec<bool>)], size: usize) -> Bits {
    let mut consistent = Bits::zeros(size);
    for m in 0..size {
        let ok = groups.iter().all(|(atoms, table)| {
            let local = atoms
                .iter()
                .enumerate()
                .fold(0usize, |acc, (j, &a)| acc | (((m >> a) & 1) << j));
            table[local]
        });
        if ok {
            consistent.set(m);
        }
    }
    consistent
}

/// A set of assignments, one bit each.
#[derive(Clone)]
struct Bits(Vec<u64>);

impl Bits {
    fn words(size: usize) -> usize {
        size.div_ceil(64)
    }

    fn zeros(size: usize) -> Bits {
        Bits(vec![0; Bits::words(size)])
    }

    fn ones(size: usize) -> Bits {
        let mut b = Bits(vec![u64::MAX; Bits::words(size)]);
        b.trim(size);
        b
    }

    /// The assignments in which atom `j` is true.
    fn atom(j: usize, size: usize) -> Bits {
        const LOW: [u64; 6] = [
            0xAAAA_AAAA_AAAA_AAAA,
            0xCCCC_CCCC_CCCC_CCCC,
            0xF0F0_F0F0_F0F0_F0F0,
            0xFF00_FF00_FF00_FF00,
            0xFFFF_0000_FFFF_0000,
            0xFFFF_FFFF_0000_0000,
        ];
        let mut b = Bits(
            (0..Bits::words(size))
                .map(|w| {
                    if j < 6 {
                        LOW[j]
                    } else if (w >> (j - 6)) & 1 == 1 {
                        u64::MAX
                    } else {
                        0
                    }
                })
                .collect(),
        );
        b.trim(size);
        b
    }

    /// Clears the bits past `size` in the last word.
    fn trim(&mut self, size: usize) {
        if !size.is_multiple_of(64)
            && let Some(last) = self.0.last_mut()
        {
            *last &= (1u64 << (size % 64)) - 1;
        }
    }

    fn set(&mut self, m: usize) {
        self.0[m / 64] |= 1 << (m % 64);
    }

    fn invert(&mut self, size: usize) {
        for w in &mut self.0 {
            *w = !*w;
        }
        self.trim(size);
    }

    fn and(&mut self, other: &Bits) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a &= b;
        }
    }

    fn or(&mut self, other: &Bits) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a |= b;
        }
    }

    fn and_not(&mut self, other: &Bits) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a &= !b;
        }
    }

    fn intersects(&self, other: &Bits) -> bool {
        self.0.iter().zip(&other.0).any(|(a, b)| a & b != 0)
    }

    fn is_empty(&self) -> bool {
        self.0.iter().all(|w| *w == 0)
    }
}

/// A relation and whether it holds.
type Fact<'a> = (&'a Rel, bool);

/// What an atom says about its subject.
#[derive(Clone, Debug)]
enum Rel {
    Cmp(BinOp, Val),
    In(Vec<Val>),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Val {
    Num(i128),
    Str(String),
    /// An index into a finite domain (enum value, weekday, bool).
    Idx(u32),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Domain {
    /// Integers within inclusive bounds.
    Ordered(i128, i128),
    /// `n` values.
    Finite(u32),
    /// Unbounded and unordered (text, phone numbers).
    Open,
}

struct Atom {
    /// Constraint on a subject, if the atom compares with a constant.
    constraint: Option<(String, Domain, Rel)>,
}

struct Atoms<'s> {
    list: Vec<Atom>,
    index: HashMap<String, usize>,
    skills: &'s [SkillKind],
}

impl Atoms<'_> {
    fn formula(&mut self, e: &Expr) -> F {
        match &e.kind {
            ExprKind::Const(Value::Bool(b)) => F::Const(*b),
            ExprKind::Not(x) => F::Not(Box::new(self.formula(x))),
            ExprKind::Binary {
                op: BinOp::And,
                lhs,
                rhs,
            } => F::And(Box::new(self.formula(lhs)), Box::new(self.formula(rhs))),
            ExprKind::Binary {
                op: BinOp::Or,
                lhs,
                rhs,
            } => F::Or(Box::new(self.formula(lhs)), Box::new(self.formula(rhs))),
            _ => {
                let k = key(e);
                if let Some(&i) = self.index.get(&k) {
                    return F::Atom(i);
                }
                let constraint = constraint(e, self.skills);
                self.list.push(Atom { constraint });
                self.index.insert(k, self.list.len() - 1);
                F::Atom(self.list.len() - 1)
            }
        }
    }

    /// Atoms grouped by the subject they constrain, each group with a table
    /// saying, for every truth assignment of its atoms (bit `j` for the
    /// group's `j`th atom), whether the constraints can all hold.
    fn consistency_tables(&self) -> Vec<(Vec<usize>, Vec<bool>)> {
        let mut by_subject: HashMap<&str, (Domain, Vec<usize>)> = HashMap::new();
        for (i, atom) in self.list.iter().enumerate() {
            if let Some((subject, domain, _)) = &atom.constraint {
                by_subject
                    .entry(subject.as_str())
                    .or_insert((*domain, Vec::new()))
                    .1
                    .push(i);
            }
        }
        by_subject
            .into_values()
            .filter(|(_, atoms)| {
                atoms.len() > 1
                    || matches!(
                        self.list[atoms[0]].constraint,
                        Some((_, Domain::Finite(_) | Domain::Ordered(..), _))
                    )
            })
            .map(|(domain, atoms)| {
                let table = (0..1usize << atoms.len())
                    .map(|local| {
                        let facts: Vec<Fact> = atoms
                            .iter()
                            .enumerate()
                            .filter_map(|(j, &a)| {
                                self.list[a]
                                    .constraint
                                    .as_ref()
                                    .map(|(_, _, rel)| (rel, local & (1 << j) != 0))
                            })
                            .collect();
                        satisfiable(domain, &facts)
                    })
                    .collect();
                (atoms, table)
            })
            // A group whose every assignment is possible constrains nothing.
            .filter(|(_, table): &(Vec<usize>, Vec<bool>)| table.iter().any(|ok| !ok))
            .collect()
    }
}

fn satisfiable(domain: Domain, rels: &[Fact]) -> bool {
    match domain {
        Domain::Finite(n) => {
            let all: u64 = if n >= 64 { u64::MAX } else { (1u64 << n) - 1 };
            let mut allowed = all;
            for (rel, t) in rels {
                let set = match rel {
                    Rel::Cmp(op, Val::Idx(v)) => {
                        let one = 1u64.checked_shl(*v).unwrap_or(0);
                        match op {
                            BinOp::Eq => one,
                            BinOp::Ne => all & !one,
                            _ => all,
                        }
                    }
                    Rel::In(vals) => vals.iter().fold(0, |acc, v| match v {
                        Val::Idx(i) => acc | 1u64.checked_shl(*i).unwrap_or(0),
                        _ => acc,
                    }),
                    _ => all,
                };
                allowed &= if *t { set } else { all & !set };
            }
            allowed != 0
        }
        Domain::Ordered(mut lo, mut hi) => {
            let mut candidates: Option<Vec<i128>> = None;
            let mut excluded: Vec<i128> = Vec::new();
            let narrow = |candidates: &mut Option<Vec<i128>>, set: Vec<i128>| {
                *candidates = Some(match candidates.take() {
                    None => set,
                    Some(c) => c.into_iter().filter(|x| set.contains(x)).collect(),
                });
            };
            for (rel, t) in rels {
                match rel {
                    Rel::Cmp(op, Val::Num(c)) => {
                        let c = *c;
                        // Rewrite a false comparison as its negation.
                        let op = if *t { *op } else { negate(*op) };
                        match op {
                            BinOp::Eq => narrow(&mut candidates, vec![c]),
                            BinOp::Ne => excluded.push(c),
                            BinOp::Lt => hi = hi.min(c - 1),
                            BinOp::Le => hi = hi.min(c),
                            BinOp::Gt => lo = lo.max(c + 1),
                            BinOp::Ge => lo = lo.max(c),
                            _ => {}
                        }
                    }
                    Rel::In(vals) => {
                        let nums: Vec<i128> = vals
                            .iter()
                            .filter_map(|v| match v {
                                Val::Num(n) => Some(*n),
                                _ => None,
                            })
                            .collect();
                        if *t {
                            narrow(&mut candidates, nums);
                        } else {
                            excluded.extend(nums);
                        }
                    }
                    Rel::Cmp(..) => {}
                }
            }
            if lo > hi {
                return false;
            }
            match candidates {
                Some(c) => c
                    .iter()
                    .any(|x| *x >= lo && *x <= hi && !excluded.contains(x)),
                None => {
                    excluded.sort_unstable();
                    excluded.dedup();
                    let inside = excluded.iter().filter(|x| **x >= lo && **x <= hi).count() as i128;
                    hi - lo + 1 > inside
                }
            }
        }
        Domain::Open => {
            let mut candidates: Option<Vec<&Val>> = None;
            let mut excluded: Vec<&Val> = Vec::new();
            for (rel, t) in rels {
                match (rel, t) {
                    (Rel::Cmp(BinOp::Eq, v), true) | (Rel::Cmp(BinOp::Ne, v), false) => {
                        candidates = Some(match candidates.take() {
                            None => vec![v],
                            Some(c) => c.into_iter().filter(|x| *x == v).collect(),
                        });
                    }
                    (Rel::Cmp(BinOp::Eq, v), false) | (Rel::Cmp(BinOp::Ne, v), true) => {
                        excluded.push(v)
                    }
                    (Rel::In(vals), true) => {
                        candidates = Some(match candidates.take() {
                            None => vals.iter().collect(),
                            Some(c) => c.into_iter().filter(|x| vals.contains(x)).collect(),
                        });
                    }
                    (Rel::In(vals), false) => excluded.extend(vals.iter()),
                    _ => {}
                }
            }
            match candidates {
                Some(c) => c.iter().any(|x| !excluded.contains(x)),
                None => true,
            }
        }
    }
}

fn negate(op: BinOp) -> BinOp {
    match op {
        BinOp::Eq => BinOp::Ne,
        BinOp::Ne => BinOp::Eq,
        BinOp::Lt => BinOp::Ge,
        BinOp::Le => BinOp::Gt,
        BinOp::Gt => BinOp::Le,
        BinOp::Ge => BinOp::Lt,
        other => other,
    }
}

fn flip(op: BinOp) -> BinOp {
    match op {
        BinOp::Lt => BinOp::Gt,
        BinOp::Le => BinOp::Ge,
        BinOp::Gt => BinOp::Lt,
        BinOp::Ge => BinOp::Le,
        other => other,
    }
}

/// The atoms of a condition, in the order they are written: what sits
/// under its `and`, `or` and `not` (constants aside), each once by [`key`].
/// `dialect diff` reads them to find what a route's rules compare.
pub fn atoms(e: &Expr) -> Vec<&Expr> {
    fn go<'e>(e: &'e Expr, seen: &mut Vec<String>, out: &mut Vec<&'e Expr>) {
        match &e.kind {
            ExprKind::Const(Value::Bool(_)) => {}
            ExprKind::Not(x) => go(x, seen, out),
            ExprKind::Binary {
                op: BinOp::And | BinOp::Or,
                lhs,
                rhs,
            } => {
                go(lhs, seen, out);
                go(rhs, seen, out);
            }
            _ => {
                let k = key(e);
                if !seen.contains(&k) {
                    seen.push(k);
                    out.push(e);
                }
            }
        }
    }
    let mut out = Vec::new();
    go(e, &mut Vec::new(), &mut out);
    out
}

/// What an atom compares with constants: its subject, the comparison (an
/// `in` list reads as `==` with each of its values) and the constants, when
/// it compares a non-constant with constants (`queue(q).waiting > 20`,
/// `20 < queue(q).waiting`, `customer.tier in ["gold", "private"]`).
pub fn compared(atom: &Expr) -> Option<(&Expr, BinOp, Vec<&Value>)> {
    match &atom.kind {
        ExprKind::Binary { op, lhs, rhs } => match (&lhs.kind, &rhs.kind) {
            (ExprKind::Const(_), ExprKind::Const(_)) => None,
            (_, ExprKind::Const(v)) => Some((lhs, *op, vec![v])),
            (ExprKind::Const(v), _) => Some((rhs, flip(*op), vec![v])),
            _ => None,
        },
        ExprKind::In(subject, values) => Some((subject, BinOp::Eq, values.iter().collect())),
        _ => None,
    }
}

/// The constraint an atom puts on its subject, when it compares a
/// non-constant with a constant.
fn constraint(e: &Expr, skills: &[SkillKind]) -> Option<(String, Domain, Rel)> {
    let (subject, op, values) = compared(e)?;
    let domain = domain(subject, skills)?;
    let rel = match &e.kind {
        ExprKind::In(..) => Rel::In(values.into_iter().filter_map(val).collect()),
        _ => Rel::Cmp(op, val(values.first()?)?),
    };
    Some((key(subject), domain, rel))
}

fn domain(subject: &Expr, skills: &[SkillKind]) -> Option<Domain> {
    const NOT_NEGATIVE: Domain = Domain::Ordered(0, i64::MAX as i128);
    const ANY: Domain = Domain::Ordered(i64::MIN as i128, i64::MAX as i128);
    Some(match (&subject.kind, &subject.ty) {
        // An agent's set of values is not one value; leave it opaque.
        (ExprKind::SkillValues(_), _) => return None,
        (ExprKind::QueueStat(..) | ExprKind::Agent(_), _) => NOT_NEGATIVE,
        (ExprKind::SkillLevel(_), _) => Domain::Ordered(0, MAX_SKILL_LEVEL as i128),
        (ExprKind::Now(_), Type::Time) => Domain::Ordered(0, 1439),
        (_, Type::Int | Type::Duration | Type::Date | Type::Time) => ANY,
        (_, Type::Weekday) => Domain::Finite(7),
        (_, Type::Bool) => Domain::Finite(2),
        (_, Type::Enum(s)) => match skills.get(s.index()) {
            Some(SkillKind::Values(values)) => Domain::Finite(values.len() as u32),
            _ => return None,
        },
        (_, Type::Text | Type::Phone) => Domain::Open,
        _ => return None,
    })
}

fn val(v: &Value) -> Option<Val> {
    Some(match v {
        Value::Bool(b) => Val::Idx(*b as u32),
        Value::Int(i) | Value::Duration(i) => Val::Num(*i as i128),
        Value::Time(t) => Val::Num(*t as i128),
        Value::Date(d) => Val::Num(crate::checked::epoch_days(*d) as i128),
        Value::Weekday(w) => Val::Idx(w.index() as u32),
        Value::Enum(_, i) => Val::Idx(*i as u32),
        Value::Text(s) | Value::Phone(s) => Val::Str(s.clone()),
    })
}

/// A canonical text for an expression, ignoring locations.
pub fn key(e: &Expr) -> String {
    let mut out = String::new();
    write_key(e, &mut out);
    out
}

fn write_key(e: &Expr, out: &mut String) {
    use std::fmt::Write;
    match &e.kind {
        ExprKind::Not(x) => {
            out.push_str("!(");
            write_key(x, out);
            out.push(')');
        }
        ExprKind::Neg(x) => {
            out.push_str("-(");
            write_key(x, out);
            out.push(')');
        }
        ExprKind::Binary { op, lhs, rhs } => {
            out.push('(');
            write_key(lhs, out);
            let _ = write!(out, " {} ", op.symbol());
            write_key(rhs, out);
            out.push(')');
        }
        ExprKind::Matches(x, p) => {
            write_key(x, out);
            let _ = write!(out, " matches {p}");
        }
        ExprKind::StartsWith(x, p) => {
            write_key(x, out);
            let _ = write!(out, " starts_with {p:?}");
        }
        ExprKind::In(x, values) => {
            write_key(x, out);
            let _ = write!(out, " in {values:?}");
        }
        other => {
            let _ = write!(out, "{other:?}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checked::{QueueId, QueueStat};
    use crate::source::Loc;

    fn e(kind: ExprKind, ty: Type) -> Expr {
        Expr {
            kind,
            ty,
            loc: Loc::default(),
        }
    }
    fn waiting() -> Expr {
        e(
            ExprKind::QueueStat(QueueId(0), QueueStat::Waiting),
            Type::Int,
        )
    }
    fn cmp(op: BinOp, n: i64) -> Expr {
        e(
            ExprKind::Binary {
                op,
                lhs: Box::new(waiting()),
                rhs: Box::new(e(ExprKind::Const(Value::Int(n)), Type::Int)),
            },
            Type::Bool,
        )
    }

    #[test]
    fn complementary_comparisons_are_exhaustive() {
        let a = cmp(BinOp::Gt, 20);
        let b = cmp(BinOp::Le, 20);
        let r = analyse(&[Some(&a), Some(&b)], &[]).unwrap();
        assert!(r.exhaustive);
        assert_eq!(r.reachable, vec![true, true]);
    }

    #[test]
    fn implied_rule_is_unreachable() {
        let a = cmp(BinOp::Gt, 10);
        let b = cmp(BinOp::Gt, 20);
        let r = analyse(&[Some(&a), Some(&b), None], &[]).unwrap();
        assert_eq!(r.reachable, vec![true, false, true]);
    }

    #[test]
    fn contradictory_condition_is_unsatisfiable() {
        let a = e(
            ExprKind::Binary {
                op: BinOp::And,
                lhs: Box::new(cmp(BinOp::Gt, 5)),
                rhs: Box::new(cmp(BinOp::Lt, 6)),
            },
            Type::Bool,
        );
        let b = cmp(BinOp::Gt, 20);
        let r = analyse(&[Some(&a), Some(&b), Some(&b)], &[]).unwrap();
        assert_eq!(r.reachable, vec![false, true, false]);
        assert_eq!(r.satisfiable, vec![false, true, true]);
    }

    #[test]
    fn both_ways_of_finding_consistent_assignments_agree() {
        let groups = vec![
            (
                vec![0, 3, 7],
                vec![true, false, true, true, false, true, true, false],
            ),
            (vec![2, 5], vec![true, true, false, true]),
        ];
        for size in [1 << 8, 1 << 9] {
            assert_eq!(by_removal(&groups, size).0, by_scan(&groups, size).0);
        }
    }

    /// The atoms under `and`, `or` and `not` come out once each, and what
    /// they compare with constants reads the same from either side.
    #[test]
    fn atoms_and_what_they_compare() {
        let a = cmp(BinOp::Gt, 20);
        let flipped = e(
            ExprKind::Binary {
                op: BinOp::Lt,
                lhs: Box::new(e(ExprKind::Const(Value::Int(5)), Type::Int)),
                rhs: Box::new(waiting()),
            },
            Type::Bool,
        );
        let both = e(
            ExprKind::Binary {
                op: BinOp::Or,
                lhs: Box::new(e(ExprKind::Not(Box::new(a.clone())), Type::Bool)),
                rhs: Box::new(e(
                    ExprKind::Binary {
                        op: BinOp::And,
                        lhs: Box::new(flipped.clone()),
                        rhs: Box::new(a.clone()),
                    },
                    Type::Bool,
                )),
            },
            Type::Bool,
        );
        assert_eq!(atoms(&both), vec![&a, &flipped]);
        let (subject, op, values) = compared(&flipped).unwrap();
        assert_eq!(
            (subject, op, values),
            (&waiting(), BinOp::Gt, vec![&Value::Int(5)])
        );
    }

    #[test]
    fn counts_are_never_negative() {
        let a = cmp(BinOp::Gt, 0);
        let b = cmp(BinOp::Eq, 0);
        let r = analyse(&[Some(&a), Some(&b)], &[]).unwrap();
        assert!(r.exhaustive);
    }
}
