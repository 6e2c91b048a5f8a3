//! Lowering a checked program to decision functions.

use std::collections::HashMap;

use super::module::{
    ArithOp, Body, CmpOp, FuncId, Function, Layout, Module, Node, PatId, QueueFns, StrId, TimeField,
};
use crate::checked::{
    self, BinOp, CalendarDay, DaySpan, Expr, ExprKind, Program, StepKind, Type, Value, ZoneId,
    epoch_days,
};
use crate::number::Pattern;

/// Lowers a program that checked without errors.
pub fn lower(program: &Program) -> Module {
    let mut l = Lower {
        program,
        module: Module::default(),
        strings: HashMap::new(),
        patterns: HashMap::new(),
    };
    l.module.layout = Layout {
        zones: program.zones.len(),
        lookups: program.lookups.iter().map(|x| x.fields.len()).collect(),
        queues: program.queues.len(),
        skills: program.skills.len(),
        switches: program.switches.len(),
    };
    for c in &program.calendars {
        let body = Body::Bool(l.calendar(c));
        let id = l.function(format!("calendar {}", c.name), false, body);
        l.module.calendars.push(id);
    }
    for h in &program.hours {
        let body = Body::Bool(l.hours(h));
        let id = l.function(format!("hours {}", h.name), false, body);
        l.module.hours.push(id);
    }
    l.entries();
    for r in &program.routes {
        let conditions = r
            .rules
            .iter()
            .map(|rule| rule.when.as_ref().map_or(Node::Int(1), |w| l.expr(w)))
            .collect();
        let id = l.function(
            format!("route {}", r.name),
            false,
            Body::FirstMatch(conditions),
        );
        l.module.routes.push(id);
    }
    for m in &program.menus {
        let mut conditions: Vec<Node> = m
            .keys
            .iter()
            .map(|k| {
                Node::TextEq(
                    Box::new(Node::Digits),
                    Box::new(Node::Text(l.string(&k.key))),
                )
            })
            .collect();
        let prefixes = m
            .keys
            .iter()
            .filter(|k| k.key.len() > 1)
            .map(|k| Node::PrefixOf(Box::new(Node::Digits), l.string(&k.key)))
            .reduce(|a, b| Node::Or(Box::new(a), Box::new(b)));
        if let Some(p) = prefixes {
            conditions.push(p);
        }
        let id = l.function(
            format!("menu {}", m.name),
            false,
            Body::FirstMatch(conditions),
        );
        l.module.menus.push(id);
    }
    for q in &program.queues {
        let mut fns = QueueFns::default();
        if let Some(e) = &q.require {
            let body = Body::Bool(l.expr(e));
            fns.require = Some(l.function(format!("queue {} require", q.name), true, body));
        }
        if let Some(e) = &q.prefer {
            let body = Body::Bool(l.expr(e));
            fns.prefer = Some(l.function(format!("queue {} prefer", q.name), true, body));
        }
        if let Some(e) = &q.score {
            let body = Body::Int(l.expr(e));
            fns.score = Some(l.function(format!("queue {} score", q.name), true, body));
        }
        for (i, step) in q.steps.iter().enumerate() {
            fns.steps.push(match &step.kind {
                StepKind::Relax(e) => {
                    let body = Body::Bool(l.expr(e));
                    Some(l.function(format!("queue {} step {}", q.name, i + 1), true, body))
                }
                StepKind::Overflow(_) => None,
            });
        }
        l.module.queues.push(fns);
    }
    l.module
}

struct Lower<'p> {
    program: &'p Program,
    module: Module,
    strings: HashMap<String, StrId>,
    patterns: HashMap<Pattern, PatId>,
}

impl Lower<'_> {
    fn function(&mut self, name: String, agent: bool, body: Body) -> FuncId {
        self.module.functions.push(Function { name, agent, body });
        FuncId(self.module.functions.len() as u32 - 1)
    }

    fn string(&mut self, s: &str) -> StrId {
        if let Some(&id) = self.strings.get(s) {
            return id;
        }
        let id = StrId(self.module.strings.len() as u32);
        self.module.strings.push(s.to_string());
        self.strings.insert(s.to_string(), id);
        id
    }

    fn pattern(&mut self, p: &Pattern) -> PatId {
        if let Some(&id) = self.patterns.get(p) {
            return id;
        }
        let id = PatId(self.module.patterns.len() as u32);
        self.module.patterns.push(p.clone());
        self.patterns.insert(p.clone(), id);
        id
    }

    /// The entry table: most specific pattern first, so the first match wins.
    fn entries(&mut self) {
        let mut order: Vec<usize> = (0..self.program.entries.len()).collect();
        order.sort_by_key(|&i| (self.program.entries[i].pattern.breadth(), i));
        let conditions = order
            .iter()
            .map(|&i| {
                let p = self.pattern(&self.program.entries[i].pattern);
                Node::Matches(Box::new(Node::Dialed), p)
            })
            .collect();
        self.module.entries = self.function("entries".into(), false, Body::FirstMatch(conditions));
        self.module.entry_order = order.into_iter().map(|i| i as u32).collect();
    }

    fn hours(&mut self, h: &checked::Hours) -> Node {
        let open = Node::InRanges(
            Box::new(Node::Time(h.zone, TimeField::WeekMinute)),
            h.open.iter().map(|&(a, b)| (a as i64, b as i64)).collect(),
        );
        let closed = h
            .closed
            .iter()
            .map(|c| Node::Call(self.module.calendars[c.index()]))
            .reduce(|a, b| Node::Or(Box::new(a), Box::new(b)));
        match closed {
            None => open,
            Some(c) => Node::And(Box::new(open), Box::new(Node::Not(Box::new(c)))),
        }
    }

    /// A calendar: whole days merged into one range test on the date and
    /// one on the day of the year; entries with times tested one by one.
    fn calendar(&mut self, c: &checked::Calendar) -> Node {
        let mut dates: Vec<(i64, i64)> = Vec::new();
        let mut yearly: Vec<(i64, i64)> = Vec::new();
        let mut timed: Vec<Node> = Vec::new();
        for day in &c.days {
            if let Some(node) = rule(c.zone, &day.days) {
                timed.push(match day.times {
                    None => node,
                    Some((from, to)) => Node::And(
                        Box::new(node),
                        Box::new(Node::InRanges(
                            Box::new(Node::Time(c.zone, TimeField::DayMinute)),
                            vec![(from as i64, to as i64)],
                        )),
                    ),
                });
                continue;
            }
            let (ranges, field) = day_ranges(day);
            match day.times {
                None if field == TimeField::Date => dates.extend(ranges),
                None => yearly.extend(ranges),
                Some((from, to)) => timed.push(Node::And(
                    Box::new(Node::InRanges(
                        Box::new(Node::Time(c.zone, field)),
                        merge(ranges),
                    )),
                    Box::new(Node::InRanges(
                        Box::new(Node::Time(c.zone, TimeField::DayMinute)),
                        vec![(from as i64, to as i64)],
                    )),
                )),
            }
        }
        let mut terms = Vec::new();
        if !dates.is_empty() {
            terms.push(Node::InRanges(
                Box::new(Node::Time(c.zone, TimeField::Date)),
                merge(dates),
            ));
        }
        if !yearly.is_empty() {
            terms.push(Node::InRanges(
                Box::new(Node::Time(c.zone, TimeField::MonthDay)),
                merge(yearly),
            ));
        }
        terms.extend(timed);
        terms
            .into_iter()
            .reduce(|a, b| Node::Or(Box::new(a), Box::new(b)))
            .unwrap_or(Node::Int(0))
    }

    fn value(&mut self, v: &Value) -> Node {
        match v {
            Value::Bool(b) => Node::Int(*b as i64),
            Value::Int(i) | Value::Duration(i) => Node::Int(*i),
            Value::Text(s) | Value::Phone(s) => Node::Text(self.string(s)),
            Value::Time(m) => Node::Int(*m as i64),
            Value::Weekday(w) => Node::Int(w.index() as i64),
            Value::Date(d) => Node::Int(epoch_days(*d)),
            Value::Enum(_, i) => Node::Int(*i as i64),
        }
    }

    fn expr(&mut self, e: &Expr) -> Node {
        let b = |n: Node| Box::new(n);
        match &e.kind {
            ExprKind::Const(v) => self.value(v),
            ExprKind::Caller => Node::Caller,
            ExprKind::Dialed => Node::Dialed,
            ExprKind::Digits => Node::Digits,
            ExprKind::Now(f) => Node::Time(
                ZoneId(0),
                match f {
                    checked::NowField::Time => TimeField::DayMinute,
                    checked::NowField::Weekday => TimeField::Weekday,
                    checked::NowField::Date => TimeField::Date,
                },
            ),
            ExprKind::Known(l) => Node::Found(*l),
            ExprKind::Field(l, i) => match self.program.lookup(*l).fields[*i as usize].ty {
                Type::Text | Type::Phone => Node::FieldText(*l, *i),
                _ => Node::Field(*l, *i),
            },
            ExprKind::QueueStat(q, s) => Node::QueueStat(*q, *s),
            ExprKind::Switch(s) => Node::Switch(*s),
            ExprKind::Open(h) => Node::Call(self.module.hours[h.index()]),
            ExprKind::Holiday(c) => Node::Call(self.module.calendars[c.index()]),
            ExprKind::Agent(a) => Node::Agent(*a),
            ExprKind::SkillLevel(s) | ExprKind::SkillValues(s) => Node::Skill(*s),
            ExprKind::Not(x) => Node::Not(b(self.expr(x))),
            ExprKind::Neg(x) => Node::Neg(b(self.expr(x))),
            ExprKind::Binary { op, lhs, rhs } => {
                let agent_values = matches!(lhs.kind, ExprKind::SkillValues(_));
                let text = matches!(lhs.ty, Type::Text | Type::Phone);
                let (l, r) = (self.expr(lhs), self.expr(rhs));
                match op {
                    BinOp::And => Node::And(b(l), b(r)),
                    BinOp::Or => Node::Or(b(l), b(r)),
                    BinOp::Eq | BinOp::Ne => {
                        let eq = if agent_values {
                            Node::HasBit {
                                mask: b(l),
                                bit: b(r),
                            }
                        } else if text {
                            Node::TextEq(b(l), b(r))
                        } else {
                            Node::Cmp(CmpOp::Eq, b(l), b(r))
                        };
                        if *op == BinOp::Ne {
                            Node::Not(b(eq))
                        } else {
                            eq
                        }
                    }
                    BinOp::Lt => Node::Cmp(CmpOp::Lt, b(l), b(r)),
                    BinOp::Le => Node::Cmp(CmpOp::Le, b(l), b(r)),
                    BinOp::Gt => Node::Cmp(CmpOp::Gt, b(l), b(r)),
                    BinOp::Ge => Node::Cmp(CmpOp::Ge, b(l), b(r)),
                    BinOp::Add => Node::Arith(ArithOp::Add, b(l), b(r)),
                    BinOp::Sub => Node::Arith(ArithOp::Sub, b(l), b(r)),
                    BinOp::Mul => Node::Arith(ArithOp::Mul, b(l), b(r)),
                    BinOp::Div => Node::Arith(ArithOp::Div, b(l), b(r)),
                    BinOp::Rem => Node::Arith(ArithOp::Rem, b(l), b(r)),
                }
            }
            ExprKind::Matches(x, p) => {
                let x = self.expr(x);
                Node::Matches(b(x), self.pattern(p))
            }
            ExprKind::StartsWith(x, s) => {
                let x = self.expr(x);
                Node::StartsWith(b(x), self.string(s))
            }
            ExprKind::In(x, values) => {
                let agent_values = matches!(x.kind, ExprKind::SkillValues(_));
                let text = matches!(x.ty, Type::Text | Type::Phone);
                let subject = self.expr(x);
                if agent_values {
                    let mask = values.iter().fold(0i64, |m, v| match v {
                        Value::Enum(_, i) if *i < 64 => m | (1i64 << i),
                        _ => m,
                    });
                    Node::AnyBit(b(subject), mask)
                } else if text {
                    let list = values
                        .iter()
                        .filter_map(|v| match v {
                            Value::Text(s) | Value::Phone(s) => Some(self.string(s)),
                            _ => None,
                        })
                        .collect();
                    Node::InTexts(b(subject), list)
                } else {
                    let list = values
                        .iter()
                        .map(|v| match self.value(v) {
                            Node::Int(i) => i,
                            _ => 0,
                        })
                        .collect();
                    Node::InInts(b(subject), list)
                }
            }
            // Programs with errors are not lowered; keep the tree total anyway.
            ExprKind::Error => Node::Int(0),
        }
    }
}

/// Holidays by rule as tests of local time fields, exact in every year:
/// nth weekdays and observed days (away from the end of February) by the
/// day of the year and the weekday, Easter-relative days by the days from
/// Easter. `None` for other spans.
fn rule(zone: ZoneId, span: &DaySpan) -> Option<Node> {
    let month_day = |ranges: Vec<(i64, i64)>| {
        Box::new(Node::InRanges(
            Box::new(Node::Time(zone, TimeField::MonthDay)),
            ranges,
        ))
    };
    let weekday = |w: i64| {
        Box::new(Node::Cmp(
            CmpOp::Eq,
            Box::new(Node::Time(zone, TimeField::Weekday)),
            Box::new(Node::Int(w)),
        ))
    };
    match *span {
        DaySpan::NthWeekday {
            nth,
            weekday: w,
            month,
        } => {
            let m = month as i64 * 100;
            let last = jiff::civil::Date::new(2024, month as i8, 1)
                .map(|d| d.days_in_month() as i64)
                .unwrap_or(31);
            // The nth weekday is among days 7n-6 to 7n; the last among the
            // month's last seven (February: in a leap year, 23 to 29).
            let (from, to) = match nth {
                Some(n) => (7 * n as i64 - 6, (7 * n as i64).min(last)),
                None if month == 2 => return None,
                None => (last - 6, last),
            };
            Some(Node::And(
                month_day(vec![(m + from, m + to + 1)]),
                weekday(w.index() as i64),
            ))
        }
        DaySpan::Observed { day: (m, d) } => {
            // Days next to the end of February depend on leap years.
            if matches!((m, d), (2, 28) | (2, 29) | (3, 1)) {
                return None;
            }
            let md = |date: jiff::civil::Date| date.month() as i64 * 100 + date.day() as i64;
            let date = jiff::civil::Date::new(2023, m as i8, d as i8).ok()?;
            let before = md(date.yesterday().ok()?);
            let after = md(date.tomorrow().ok()?);
            let day = m as i64 * 100 + d as i64;
            // Friday is 4, Monday 0.
            let on =
                |md: i64, w: i64| Box::new(Node::And(month_day(vec![(md, md + 1)]), weekday(w)));
            Some(Node::Or(
                month_day(vec![(day, day + 1)]),
                Box::new(Node::Or(on(before, 4), on(after, 0))),
            ))
        }
        DaySpan::Easter { offset } => Some(Node::InRanges(
            Box::new(Node::Time(zone, TimeField::EasterDay)),
            vec![(offset as i64, offset as i64 + 1)],
        )),
        _ => None,
    }
}

/// The ranges a calendar entry covers, and the time field they are over.
fn day_ranges(day: &CalendarDay) -> (Vec<(i64, i64)>, TimeField) {
    match &day.days {
        DaySpan::Dates { from, to } => (
            vec![(epoch_days(*from), epoch_days(*to) + 1)],
            TimeField::Date,
        ),
        DaySpan::Yearly { from, to } => {
            let a = from.0 as i64 * 100 + from.1 as i64;
            let z = to.0 as i64 * 100 + to.1 as i64;
            let ranges = if a <= z {
                vec![(a, z + 1)]
            } else {
                vec![(0, z + 1), (a, 1300)]
            };
            (ranges, TimeField::MonthDay)
        }
        // Rules become the dates they fall on over a bounded span of years,
        // so both engines test them with the date ranges they already share.
        rule => (
            checked::RULE_YEARS
                .flat_map(|year| rule.rule_dates(year))
                .map(|d| (epoch_days(d), epoch_days(d) + 1))
                .collect(),
            TimeField::Date,
        ),
    }
}

/// Sorts and merges half-open ranges.
fn merge(mut ranges: Vec<(i64, i64)>) -> Vec<(i64, i64)> {
    ranges.sort_unstable();
    let mut out: Vec<(i64, i64)> = Vec::with_capacity(ranges.len());
    for (a, z) in ranges {
        match out.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(z),
            _ => out.push((a, z)),
        }
    }
    out
}
