//! Following calls through both versions: for one entry, every
//! combination of the inputs that some rule on the call's way reads, and
//! of the keys the menus on its way take, each walked once on each version
//! (`flow::walk`, as `dialect test` and `dialect explain` walk calls). An
//! input is tried with its several values only once a rule the call meets
//! reads it, so the search grows with the ways through the script, not
//! with the product of everything a script could read.

use std::collections::{BTreeMap, HashMap};

use super::inputs::{Cand, Inputs, Subject};
use super::model::{Decision, Outcome};
use super::times::Times;
use crate::checked::{ActionKind, ExprKind, Press, QueueStat, Type};
use crate::facts::{Facts, Row, Slot};
use crate::flow::walk::{self, Walk};
use crate::flow::{End, Meaning, Step};
use crate::lookup::LookupTables;
use crate::program::{Engine, Program};

/// Most keys pressed on one call: menus deeper than this are left
/// waiting, as a call whose caller stopped pressing.
pub const MAX_PRESSES: usize = 4;

/// One version of the script with the (empty) tables its walks are given:
/// every lookup's row comes from the diff's inputs.
pub struct Side<'p> {
    pub program: &'p Program,
    pub tables: LookupTables,
    /// Queues and lookups by name.
    queues: HashMap<String, usize>,
    lookups: HashMap<String, usize>,
}

impl<'p> Side<'p> {
    pub fn new(program: &'p Program) -> Side<'p> {
        let c = program.checked();
        Side {
            program,
            tables: LookupTables::empty(c),
            queues: (c.queues.iter().enumerate())
                .map(|(i, q)| (q.name.clone(), i))
                .collect(),
            lookups: (c.lookups.iter().enumerate())
                .map(|(i, l)| (l.name.clone(), i))
                .collect(),
        }
    }
}

/// A call that ends differently: the inputs it was given (by index into
/// each subject's values) and where each version sends it.
#[derive(Clone, Debug)]
pub struct Leaf {
    pub assign: BTreeMap<Subject, usize>,
    pub presses: Vec<Press>,
    pub before: Outcome,
    pub after: Outcome,
}

pub struct Explorer<'a> {
    pub old: &'a Side<'a>,
    pub new: &'a Side<'a>,
    pub engine: Engine,
    pub inputs: &'a Inputs,
    pub times: &'a Times,
    /// Walks allowed for this entry, each on both versions.
    pub budget: usize,
    pub walks: usize,
    pub cut: bool,
    pub leaves: Vec<Leaf>,
}

impl Explorer<'_> {
    /// Every way a call to `dialed` can go, recording those that end
    /// differently.
    pub fn entry(&mut self, dialed: &str) {
        let mut assign = BTreeMap::new();
        let mut presses = Vec::new();
        self.explore(dialed, &mut assign, &mut presses, None);
    }

    /// Walks the call with the inputs and presses so far; branches on the
    /// first input a rule on its way reads that has no value yet, then on
    /// the keys of the menus where it waits. `waited` is where the call
    /// waited before its last press: a press that leaves both versions
    /// waiting there again (an invalid key, silence, `repeat`) adds
    /// nothing that the calls without it did not show.
    fn explore(
        &mut self,
        dialed: &str,
        assign: &mut BTreeMap<Subject, usize>,
        presses: &mut Vec<Press>,
        waited: Option<&(End, End)>,
    ) {
        if self.walks >= self.budget {
            self.cut = true;
            return;
        }
        self.walks += 1;
        let before = self.walk(self.old, dialed, assign, presses);
        let after = self.walk(self.new, dialed, assign, presses);
        let mut reads = read(self.old.program, &before);
        reads.extend(read(self.new.program, &after));
        let next = reads.into_iter().find(|s| {
            !assign.contains_key(s)
                && self.inputs.domain(s).is_some_and(|d| !d.values.is_empty())
                && !self.hidden(s, assign)
        });
        if let Some(subject) = next {
            let n = self.inputs.domain(&subject).map_or(0, |d| d.values.len());
            for i in 0..n {
                assign.insert(subject.clone(), i);
                self.explore(dialed, assign, presses, waited);
            }
            assign.remove(&subject);
            return;
        }
        let keys_before = waiting_keys(self.old.program, &before);
        let keys_after = waiting_keys(self.new.program, &after);
        let ends = (before.end.clone(), after.end.clone());
        if keys_before.is_some() && keys_after.is_some() && waited == Some(&ends) {
            return;
        }
        if let (Some(a), Some(b)) = (&keys_before, &keys_after)
            && presses.len() < MAX_PRESSES
        {
            let mut keys: Vec<Press> = Vec::new();
            for k in a.iter().chain(b) {
                if !keys.contains(k) {
                    keys.push(k.clone());
                }
            }
            let known: Vec<&str> = (keys.iter())
                .filter_map(|k| match k {
                    Press::Keys(k) => Some(k.as_str()),
                    Press::Timeout => None,
                })
                .collect();
            if let Some(invalid) = invalid_key(&known) {
                keys.push(Press::Keys(invalid));
            }
            keys.push(Press::Timeout);
            for k in keys {
                presses.push(k);
                self.explore(dialed, assign, presses, Some(&ends));
                presses.pop();
            }
            return;
        }
        let before = outcome(self.old.program, &before);
        let after = outcome(self.new.program, &after);
        if before.ends != after.ends {
            self.leaves.push(Leaf {
                assign: assign.clone(),
                presses: presses.clone(),
                before,
                after,
            });
        }
    }

    /// A field of a lookup whose row is absent reads nothing.
    fn hidden(&self, s: &Subject, assign: &BTreeMap<Subject, usize>) -> bool {
        match s {
            Subject::Field(lookup, _) => {
                let known = Subject::Known(lookup.clone());
                assign.get(&known).is_some_and(|&i| {
                    (self.inputs.domain(&known))
                        .and_then(|d| d.values.get(i))
                        .is_some_and(|v| *v == Cand::Bool(false))
                })
            }
            _ => false,
        }
    }

    /// A found row of a lookup: each field's value.
    fn row(&self, lookup: &crate::checked::Lookup, assign: &BTreeMap<Subject, usize>) -> Row {
        (lookup.fields.iter())
            .map(|f| {
                let s = Subject::Field(lookup.name.clone(), f.name.clone());
                match (self.value(&s, assign), &f.ty) {
                    (Some(Cand::Int(v)), _) => Slot::int(*v),
                    (Some(Cand::Bool(b)), _) => Slot::int(*b as i64),
                    (Some(Cand::Text(t)), Type::Text | Type::Phone) => Slot {
                        int: 0,
                        text: t.clone(),
                    },
                    _ => Slot::default(),
                }
            })
            .collect()
    }

    /// The value of a subject: the one assigned, or its first.
    fn value(&self, s: &Subject, assign: &BTreeMap<Subject, usize>) -> Option<&Cand> {
        let d = self.inputs.domain(s)?;
        d.values.get(assign.get(s).copied().unwrap_or(0))
    }

    fn walk(
        &self,
        side: &Side,
        dialed: &str,
        assign: &BTreeMap<Subject, usize>,
        presses: &[Press],
    ) -> Walk {
        let p = side.program;
        let c = p.checked();
        let mut facts = Facts::new(&p.ir().layout);
        facts.dialed = dialed.to_string();
        if let Some(Cand::Text(n)) = self.value(&Subject::Caller, assign) {
            facts.caller = n.clone();
        }
        // An input without a value has its first, which is what empty
        // facts hold: no statistic above 0, no row found. Only the
        // assigned ones are set.
        for (s, &i) in assign {
            match s {
                Subject::Stat(queue, k) => {
                    if let (Some(&q), Some(stat)) = (side.queues.get(queue), QueueStat::ALL.get(*k))
                        && let Some(Cand::Int(v)) =
                            self.inputs.domain(s).and_then(|d| d.values.get(i))
                        && let Some(stats) = facts.queues.get_mut(q)
                    {
                        stats.set(*stat, *v);
                    }
                }
                Subject::Switch(name) => {
                    if self.value(s, assign) == Some(&Cand::Bool(true))
                        && let Some(id) = c.switch_named(name)
                        && let Some(v) = facts.switches.get_mut(id.index())
                    {
                        *v = 1;
                    }
                }
                Subject::Known(name) => {
                    let found = self.value(s, assign) == Some(&Cand::Bool(true));
                    if let Some(&l) = side.lookups.get(name)
                        && found
                        && let Some(slot) = facts.lookups.get_mut(l)
                    {
                        *slot = Some(self.row(&c.lookups[l], assign));
                    }
                }
                _ => {}
            }
        }
        let at = match self.value(&Subject::Time, assign) {
            Some(Cand::Time(class)) => self.times.instant(*class),
            _ => self.times.instant(0),
        };
        let fixed = vec![true; c.lookups.len()];
        walk::walk(p, &side.tables, self.engine, facts, at, presses, fixed)
    }
}

/// What the rules a walk met read, in the order they read it: every rule
/// of a route up to the one that fired (all of them when none did).
fn read(p: &Program, walk: &Walk) -> Vec<Subject> {
    let c = p.checked();
    let mut out = Vec::new();
    for step in &walk.steps {
        let Step::Route { route, fired } = step else {
            continue;
        };
        let rules = &c.route(*route).rules;
        let upto = fired.map_or(rules.len(), |f| f + 1);
        for rule in rules.iter().take(upto) {
            if let Some(when) = &rule.when {
                subjects(p, when, &mut out);
            }
        }
    }
    out
}

fn subjects(p: &Program, e: &crate::checked::Expr, out: &mut Vec<Subject>) {
    let c = p.checked();
    let push = |s: Subject, out: &mut Vec<Subject>| {
        if !out.contains(&s) {
            out.push(s);
        }
    };
    match &e.kind {
        ExprKind::Caller => push(Subject::Caller, out),
        ExprKind::Now(_) | ExprKind::Open(_) | ExprKind::Holiday(_) => push(Subject::Time, out),
        ExprKind::Known(l) => push(Subject::Known(c.lookup(*l).name.clone()), out),
        ExprKind::Switch(s) => push(Subject::Switch(c.switch(*s).name.clone()), out),
        ExprKind::Field(l, f) => {
            let lookup = c.lookup(*l);
            push(Subject::Known(lookup.name.clone()), out);
            if let Some(field) = lookup.fields.get(*f as usize) {
                push(Subject::Field(lookup.name.clone(), field.name.clone()), out);
            }
        }
        ExprKind::QueueStat(q, stat) => {
            let i = QueueStat::ALL.iter().position(|s| s == stat).unwrap_or(0);
            push(Subject::Stat(c.queue(*q).name.clone(), i), out);
        }
        ExprKind::Not(x) | ExprKind::Neg(x) => subjects(p, x, out),
        ExprKind::Binary { lhs, rhs, .. } => {
            subjects(p, lhs, out);
            subjects(p, rhs, out);
        }
        ExprKind::Matches(x, _) | ExprKind::StartsWith(x, _) | ExprKind::In(x, _) => {
            subjects(p, x, out)
        }
        _ => {}
    }
}

/// The presses that mean something where a walk waits for keys: a menu's
/// keys (or a number it collects), an extension's digits; `None` when the
/// walk does not wait.
fn waiting_keys(p: &Program, walk: &Walk) -> Option<Vec<Press>> {
    match &walk.end {
        End::WaitingInMenu(m) => {
            let menu = p.checked().menu(*m);
            let mut keys: Vec<Press> = (menu.keys.iter())
                .map(|k| Press::Keys(k.key.clone()))
                .collect();
            if let Some(collect) = &menu.collect {
                keys.push(Press::Keys(digits(collect.min)));
            }
            Some(keys)
        }
        End::WaitingForExtension => {
            let digits = walk.actions().rev().find_map(|a| match a.action.kind {
                ActionKind::DialExtension { digits } => Some(digits),
                _ => None,
            });
            Some(vec![Press::Keys(
                "1".repeat(digits.unwrap_or(1).max(1) as usize),
            )])
        }
        _ => None,
    }
}

/// A number of `n` digits (at least one, at most 32: what a caller could
/// type).
fn digits(n: u32) -> String {
    "1".repeat(n.clamp(1, 32) as usize)
}

/// A key that none of `keys` is or starts with.
fn invalid_key(keys: &[&str]) -> Option<String> {
    ["0", "9", "8", "7", "6", "5", "4", "3", "2", "1", "*", "#"]
        .into_iter()
        .find(|k| !keys.iter().any(|x| x.starts_with(k)))
        .map(str::to_string)
}

/// Where a walk ends and the decision that sent it there.
pub fn outcome(p: &Program, walk: &Walk) -> Outcome {
    let c = p.checked();
    let ends = match &walk.end {
        End::Action => walk
            .actions()
            .next_back()
            .map(|a| match (&a.action.kind, &a.extension) {
                (ActionKind::Extension(_) | ActionKind::DialExtension { .. }, Some(x)) => {
                    format!("extension {x}")
                }
                (kind, _) => c.action_text(kind),
            })
            .unwrap_or_else(|| "hangup".into()),
        End::WaitingInMenu(m) => format!("menu {}", c.menu(*m).name),
        End::WaitingForExtension => walk
            .actions()
            .next_back()
            .map_or("dial extension".into(), |a| c.action_text(&a.action.kind)),
        End::NoEntry => "no entry answers".into(),
        End::NoRule(r) => format!("no rule of route {} fires", c.route(*r).name),
        End::Exhausted(m) => format!("hangup (menu {} ran out of tries)", c.menu(*m).name),
        End::TooLong => "cut off: too many steps".into(),
    };
    let decision = walk.steps.iter().rev().find_map(|s| match s {
        Step::Entry(i) => (c.entries.get(*i)).map(|e| (format!("entry \"{}\"", e.number), e.loc)),
        Step::Route { route, fired } => {
            let r = c.route(*route);
            Some(
                match fired.and_then(|f| r.rules.get(f).map(|rule| (f, rule))) {
                    Some((_, rule)) if rule.when.is_none() => {
                        (format!("route {}, otherwise", r.name), rule.loc)
                    }
                    Some((f, rule)) => (format!("route {}, rule {}", r.name, f + 1), rule.loc),
                    None => (format!("route {}, no rule", r.name), r.loc),
                },
            )
        }
        Step::Input { menu, meaning, .. } => {
            let m = c.menu(*menu);
            Some(match meaning {
                Meaning::Key(i) => match m.keys.get(*i) {
                    Some(k) => (format!("menu {}, key {}", m.name, k.key), k.loc),
                    None => (format!("menu {}", m.name), m.loc),
                },
                Meaning::Collected => (
                    format!("menu {}, collect", m.name),
                    m.collect.as_ref().map_or(m.loc, |x| x.loc),
                ),
                Meaning::Invalid => (
                    format!("menu {}, invalid", m.name),
                    m.invalid.as_ref().map_or(m.loc, |a| a.loc),
                ),
                Meaning::Timeout => (
                    format!("menu {}, timeout", m.name),
                    m.on_timeout.as_ref().map_or(m.loc, |a| a.loc),
                ),
            })
        }
        _ => None,
    });
    Outcome {
        ends,
        decided_by: (decision.into_iter())
            .map(|(what, loc)| Decision {
                what,
                place: c.places.place(loc),
            })
            .collect(),
    }
}
