//! Typing of expressions: name resolution in expressions, `known` guards,
//! agent contexts and the type rules of every operator.

use super::{Checker, Kind};
use crate::checked::{
    AgentAttr, CalendarId, Expr, ExprKind, HoursId, LookupId, MAX_SKILL_LEVEL, NowField, QueueId,
    QueueStat, SkillId, SkillKind, SwitchId, Type, Value, ZoneId,
};
use crate::diagnostic::{self, Code, Diagnostic};
use crate::number::Pattern;
use crate::source::{FileId, Loc};
use crate::syntax::ast::{self, BinOp, Builtin, Weekday};

/// What an expression may see.
#[derive(Clone, Debug, Default)]
pub struct Scope {
    /// Inside a queue's `require`, `prefer` or `score`: skills and `agent.*`
    /// refer to the agent being considered.
    pub agent: bool,
    /// Lookups known to have a row here, thanks to a `known` guard.
    pub known: Vec<LookupId>,
    /// Skills read so far, with where (for D3013).
    pub skills_read: Vec<(SkillId, Loc)>,
}

impl Scope {
    pub fn agent() -> Scope {
        Scope {
            agent: true,
            ..Scope::default()
        }
    }
}

impl Checker<'_> {
    /// Checks an expression that must have type `want`.
    pub(super) fn expect_expr(
        &mut self,
        file: FileId,
        e: &ast::Expr,
        scope: &mut Scope,
        want: Type,
        context: &str,
    ) -> Expr {
        let checked = self.expr(file, e, scope, Some(&want));
        if checked.ty != want && checked.ty != Type::Error {
            let got = self.type_name(&checked.ty);
            let want_name = self.type_name(&want);
            self.push(
                Diagnostic::new(Code::TypeMismatch, file, e.span, format!("{context} must be {}, but this is {}", article(&want_name), article(&got)))
                    .label(format!("this is {}", article(&got)))
                    .help(match want {
                        Type::Bool => "write a condition, such as `queue(billing).waiting > 10` or `known customer`".to_string(),
                        Type::Int => "write a number, such as `tech * 10 + agent.idle_minutes`".to_string(),
                        _ => format!("write {}", article(&want_name)),
                    }),
            );
        }
        checked
    }

    /// Types an expression. `hint` is the type the context expects, used to
    /// read bare enumerated values and phone-number strings.
    pub(super) fn expr(
        &mut self,
        file: FileId,
        e: &ast::Expr,
        scope: &mut Scope,
        hint: Option<&Type>,
    ) -> Expr {
        let loc = Loc::new(file, e.span);
        let (kind, ty) = match &e.kind {
            ast::ExprKind::Error => (ExprKind::Error, Type::Error),
            ast::ExprKind::Bool(b) => (ExprKind::Const(Value::Bool(*b)), Type::Bool),
            ast::ExprKind::Int(i) => match i.value {
                Some(v) => (ExprKind::Const(Value::Int(v)), Type::Int),
                None => {
                    self.push(
                        Diagnostic::at(Code::OutOfRange, loc, "this number is too large")
                            .label("too large")
                            .help("numbers in expressions must fit in 64 bits"),
                    );
                    (ExprKind::Error, Type::Error)
                }
            },
            ast::ExprKind::Duration(d) => match self.duration_ms(file, d) {
                Some(ms) => (ExprKind::Const(Value::Duration(ms)), Type::Duration),
                None => (ExprKind::Error, Type::Error),
            },
            ast::ExprKind::Time(t) => match self.time_of_day(file, t, false) {
                Some(m) => (ExprKind::Const(Value::Time(m)), Type::Time),
                None => (ExprKind::Error, Type::Error),
            },
            ast::ExprKind::Date(d) => match self.date(file, d) {
                Some(d) => (ExprKind::Const(Value::Date(d)), Type::Date),
                None => (ExprKind::Error, Type::Error),
            },
            ast::ExprKind::Str(s) => {
                if hint == Some(&Type::Phone) {
                    match self.phone(file, s) {
                        Some(n) => (ExprKind::Const(Value::Phone(n)), Type::Phone),
                        None => (ExprKind::Error, Type::Error),
                    }
                } else {
                    (ExprKind::Const(Value::Text(s.value.clone())), Type::Text)
                }
            }
            ast::ExprKind::Name(n) => self.name_expr(file, n, scope, hint),
            ast::ExprKind::Builtin(b) => match b {
                Builtin::Caller => (ExprKind::Caller, Type::Phone),
                // A withheld caller's number is empty: the test is the text
                // comparison both engines already share.
                Builtin::Withheld => (
                    ExprKind::Binary {
                        op: BinOp::Eq,
                        lhs: Box::new(Expr {
                            kind: ExprKind::Caller,
                            ty: Type::Phone,
                            loc,
                        }),
                        rhs: Box::new(Expr {
                            kind: ExprKind::Const(Value::Phone(String::new())),
                            ty: Type::Phone,
                            loc,
                        }),
                    },
                    Type::Bool,
                ),
                Builtin::Dialed => (ExprKind::Dialed, Type::Phone),
                Builtin::Digits => (ExprKind::Digits, Type::Text),
                Builtin::Now => {
                    self.push(
                        Diagnostic::at(Code::UnknownField, loc, "`now` needs a field")
                            .label("which part of the time?")
                            .help("use `now.time`, `now.weekday` or `now.date`"),
                    );
                    (ExprKind::Error, Type::Error)
                }
                Builtin::Agent => {
                    self.push(
                        Diagnostic::at(Code::UnknownField, loc, "`agent` needs a field")
                            .label("which attribute?")
                            .help(format!("use one of {}", attr_list())),
                    );
                    (ExprKind::Error, Type::Error)
                }
            },
            ast::ExprKind::Known(n) => match self.resolve(Kind::Lookup, file, n) {
                Some(id) => (ExprKind::Known(LookupId(id)), Type::Bool),
                None => (ExprKind::Error, Type::Error),
            },
            ast::ExprKind::Call { func, args } => self.call(file, loc, func, args),
            ast::ExprKind::Field { base, field } => self.field(file, loc, base, field, scope),
            ast::ExprKind::Not(x) => {
                let x = self.expect_expr(file, x, scope, Type::Bool, "the operand of `not`");
                (ExprKind::Not(Box::new(x)), Type::Bool)
            }
            ast::ExprKind::Neg(x) => {
                let x = self.expr(file, x, scope, None);
                match x.ty {
                    Type::Int | Type::Duration | Type::Error => {
                        let ty = x.ty.clone();
                        (ExprKind::Neg(Box::new(x)), ty)
                    }
                    _ => {
                        let got = self.type_name(&x.ty);
                        self.push(
                            Diagnostic::at(
                                Code::TypeMismatch,
                                x.loc,
                                format!("cannot negate {}", article(&got)),
                            )
                            .label(format!("this is {}", article(&got)))
                            .help("only numbers and durations can be negated"),
                        );
                        (ExprKind::Error, Type::Error)
                    }
                }
            }
            ast::ExprKind::Binary { op, lhs, rhs } => self.binary(file, loc, *op, lhs, rhs, scope),
            ast::ExprKind::Matches { subject, pattern } => {
                let s = self.text_subject(file, subject, scope, "matches");
                // Numbers are read in the file's country; entered digits are not numbers.
                let parsed = if s.ty == Type::Phone {
                    self.dial_pattern(file, pattern)
                } else {
                    Pattern::parse(&pattern.value)
                };
                match parsed {
                    Ok(p) => (ExprKind::Matches(Box::new(s), p), Type::Bool),
                    Err(why) => {
                        self.push(
                            Diagnostic::new(Code::InvalidNumber, file, pattern.span, format!("`{}` is not a dial pattern", pattern.value))
                                .label(why)
                                .help("patterns use digits, X (any digit), N (2-9), Z (1-9) and classes such as [1-5]"),
                        );
                        (ExprKind::Error, Type::Error)
                    }
                }
            }
            ast::ExprKind::StartsWith { subject, prefix } => {
                let s = self.text_subject(file, subject, scope, "starts_with");
                let value = if s.ty == Type::Phone {
                    let stripped: String = prefix
                        .value
                        .chars()
                        .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
                        .collect();
                    let ok = stripped
                        .chars()
                        .enumerate()
                        .all(|(i, c)| c.is_ascii_digit() || (c == '+' && i == 0));
                    if !ok || stripped.is_empty() {
                        self.push(
                            Diagnostic::new(
                                Code::InvalidNumber,
                                file,
                                prefix.span,
                                format!("`{}` is not the start of a phone number", prefix.value),
                            )
                            .label("not a number prefix")
                            .help(
                                "write digits, optionally after a leading `+`, such as \"+1900\"",
                            ),
                        );
                    }
                    stripped
                } else {
                    prefix.value.clone()
                };
                (ExprKind::StartsWith(Box::new(s), value), Type::Bool)
            }
            ast::ExprKind::In {
                subject,
                list,
                list_span,
            } => {
                let s = self.expr(file, subject, scope, None);
                let mut values = Vec::new();
                let element_ty = s.ty.clone();
                for item in list {
                    let v = self.expr(file, item, scope, Some(&element_ty));
                    match v.kind {
                        ExprKind::Const(value)
                            if v.ty == element_ty || element_ty == Type::Error =>
                        {
                            values.push(value)
                        }
                        ExprKind::Error => {}
                        ExprKind::Const(_) => {
                            let (got, want) = (self.type_name(&v.ty), self.type_name(&element_ty));
                            self.push(
                                Diagnostic::at(Code::TypeMismatch, v.loc, format!("this list holds {} values, but this is {}", want, article(&got)))
                                    .label(format!("this is {}", article(&got)))
                                    .with(s.loc, format!("this is {}", article(&want)))
                                    .help("every element of the list must have the type of the value tested"),
                            );
                        }
                        _ => {
                            self.push(
                                Diagnostic::at(Code::TypeMismatch, v.loc, "list elements must be constants")
                                    .label("not a constant")
                                    .help("write literal values, such as `[sat, sun]` or `[\"+15125550100\", \"+15125550101\"]`"),
                            );
                        }
                    }
                }
                if list.is_empty() {
                    self.push(
                        Diagnostic::new(
                            Code::TypeMismatch,
                            file,
                            *list_span,
                            "an empty list never contains anything",
                        )
                        .label("empty list")
                        .help("list the values to test for, or remove the test"),
                    );
                }
                if let ExprKind::SkillValues(skill) = s.kind {
                    scope.skills_read.push((skill, s.loc));
                }
                (ExprKind::In(Box::new(s), values), Type::Bool)
            }
        };
        Expr { kind, ty, loc }
    }

    /// A bare name in an expression: an agent's skill, an enumerated value,
    /// or a weekday.
    fn name_expr(
        &mut self,
        file: FileId,
        n: &ast::Name,
        scope: &mut Scope,
        hint: Option<&Type>,
    ) -> (ExprKind, Type) {
        let loc = Loc::new(file, n.span);
        if let Some(id) = self.names.get(Kind::Skill, &n.text) {
            let skill = SkillId(id);
            if !scope.agent {
                self.push(
                    Diagnostic::at(Code::AgentOutsideQueue, loc, format!("skill `{}` only has a value for an agent", n.text))
                        .label("no agent here")
                        .help("skills can be used in a queue's `require`, `prefer` and `score`, where they are the level or values of the agent being considered"),
                );
                return (ExprKind::Error, Type::Error);
            }
            self.refer(Kind::Skill, id);
            scope.skills_read.push((skill, loc));
            return match self.program.skills.get(id as usize).map(|s| &s.kind) {
                Some(SkillKind::Values(_)) => (ExprKind::SkillValues(skill), Type::Enum(skill)),
                _ => (ExprKind::SkillLevel(skill), Type::Int),
            };
        }
        // Enumerated values, preferring the skill the context expects.
        let owners: Vec<(SkillId, u16)> = self
            .program
            .skills
            .iter()
            .enumerate()
            .filter_map(|(i, s)| match &s.kind {
                SkillKind::Values(values) => values
                    .iter()
                    .position(|v| *v == n.text)
                    .map(|p| (SkillId(i as u32), p as u16)),
                SkillKind::Level => None,
            })
            .collect();
        if let Some(Type::Enum(want)) = hint
            && let Some(&(skill, value)) = owners.iter().find(|(s, _)| s == want)
        {
            self.refer(Kind::Skill, skill.0);
            return (
                ExprKind::Const(Value::Enum(skill, value)),
                Type::Enum(skill),
            );
        }
        match owners.as_slice() {
            [(skill, value)] => {
                self.refer(Kind::Skill, skill.0);
                return (
                    ExprKind::Const(Value::Enum(*skill, *value)),
                    Type::Enum(*skill),
                );
            }
            [] => {}
            many => {
                let names: Vec<String> = many
                    .iter()
                    .map(|(s, _)| {
                        let skill = &self.program.skill(*s).name;
                        if scope.agent {
                            format!("`{skill} == {}`", n.text)
                        } else {
                            format!("`{skill}.{}`", n.text)
                        }
                    })
                    .collect();
                self.push(
                    Diagnostic::at(
                        Code::AmbiguousValue,
                        loc,
                        format!("`{}` is a value of several skills", n.text),
                    )
                    .label("which skill?")
                    .help(format!("write {} to say which", names.join(" or "))),
                );
                return (ExprKind::Error, Type::Error);
            }
        }
        if let Some(day) = Weekday::parse(&n.text) {
            return (ExprKind::Const(Value::Weekday(day)), Type::Weekday);
        }
        if self.is_broken(&n.text) {
            return (ExprKind::Error, Type::Error);
        }
        if let Some(id) = self.names.get(Kind::Lookup, &n.text) {
            self.refer(Kind::Lookup, id);
            self.push(
                Diagnostic::at(Code::TypeMismatch, loc, format!("lookup `{}` is a record, not a value", n.text))
                    .label("a whole record")
                    .help(format!("test whether it found a row with `known {0}`, or read a field such as `{0}.{1}`", n.text, self.program.lookups.get(id as usize).and_then(|l| l.fields.first()).map_or("field", |f| f.name.as_str()))),
            );
            return (ExprKind::Error, Type::Error);
        }
        if let Some((kind, other)) = self.names.any_kind(&n.text) {
            let usage = match kind {
                Kind::Queue => format!(
                    "read its statistics with `queue({}).waiting` and the like",
                    n.text
                ),
                Kind::Hours => format!("test it with `open({})`", n.text),
                Kind::Calendar => format!("test it with `holiday({})`", n.text),
                _ => format!("{} cannot be used as a value", kind.article_name()),
            };
            self.push(
                Diagnostic::at(
                    Code::WrongKind,
                    loc,
                    format!("`{}` is {}, not a value", n.text, kind.article_name()),
                )
                .label("not a value")
                .with(other, "declared here")
                .help(usage),
            );
            return (ExprKind::Error, Type::Error);
        }
        let mut candidates: Vec<String> = Vec::new();
        for s in &self.program.skills {
            if let SkillKind::Values(values) = &s.kind {
                candidates.extend(values.iter().cloned());
            }
            if scope.agent {
                candidates.push(s.name.clone());
            }
        }
        candidates.extend(self.program.lookups.iter().map(|l| l.name.clone()));
        candidates.extend(Weekday::ALL.iter().map(|d| d.name().to_string()));
        let help = match diagnostic::did_you_mean(&n.text, candidates.iter().map(String::as_str)) {
            Some(s) => format!("did you mean `{s}`?"),
            None if scope.agent => "a name here must be a skill, a value of an enumerated skill, a lookup or a weekday".into(),
            None => "a name here must be a value of an enumerated skill, a lookup or a weekday; skills only have values in a queue's agent selection".into(),
        };
        self.push(
            Diagnostic::at(
                Code::UnknownName,
                loc,
                format!("`{}` is not defined", n.text),
            )
            .label("unknown name")
            .help(help),
        );
        (ExprKind::Error, Type::Error)
    }

    /// `open(hours)`, `holiday(calendar)`; `queue(q)` alone needs a field.
    fn call(
        &mut self,
        file: FileId,
        loc: Loc,
        func: &ast::Name,
        args: &[ast::Expr],
    ) -> (ExprKind, Type) {
        let kind = match func.text.as_str() {
            "open" => Kind::Hours,
            "holiday" => Kind::Calendar,
            "switch" => Kind::Switch,
            "queue" => {
                self.push(
                    Diagnostic::at(Code::UnknownField, loc, "`queue(...)` needs a statistic")
                        .label("which statistic?")
                        .help(format!("use one of {}", stat_list())),
                );
                return (ExprKind::Error, Type::Error);
            }
            other => {
                let help = match diagnostic::did_you_mean(other, ["open", "holiday", "switch", "queue"]) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => "the functions are `open(hours)`, `holiday(calendar)`, `switch(name)` and `queue(name).statistic`".into(),
                };
                self.push(
                    Diagnostic::new(
                        Code::BadCall,
                        file,
                        func.span,
                        format!("there is no function `{other}`"),
                    )
                    .label("unknown function")
                    .help(help),
                );
                return (ExprKind::Error, Type::Error);
            }
        };
        let Some(name) = self.single_name_arg(file, loc, func, args, kind) else {
            return (ExprKind::Error, Type::Error);
        };
        if kind != Kind::Switch {
            self.note_time_use(loc);
        }
        match self.resolve(kind, file, name) {
            Some(id) if kind == Kind::Hours => (ExprKind::Open(HoursId(id)), Type::Bool),
            Some(id) if kind == Kind::Switch => (ExprKind::Switch(SwitchId(id)), Type::Bool),
            Some(id) => (ExprKind::Holiday(CalendarId(id)), Type::Bool),
            None => (ExprKind::Error, Type::Error),
        }
    }

    fn single_name_arg<'e>(
        &mut self,
        file: FileId,
        loc: Loc,
        func: &ast::Name,
        args: &'e [ast::Expr],
        kind: Kind,
    ) -> Option<&'e ast::Name> {
        match args {
            [
                ast::Expr {
                    kind: ast::ExprKind::Name(n),
                    ..
                },
            ] => Some(n),
            _ => {
                let span = args.first().map_or(loc.span, |a| {
                    a.span.to(args.last().map_or(a.span, |l| l.span))
                });
                self.push(
                    Diagnostic::new(
                        Code::BadCall,
                        file,
                        span,
                        format!("`{}` takes the name of {}", func.text, kind.article_name()),
                    )
                    .label(if args.is_empty() {
                        "no argument"
                    } else {
                        "not a single name"
                    })
                    .help(format!(
                        "write `{}(name)` with the name of {}",
                        func.text,
                        kind.article_name()
                    )),
                );
                None
            }
        }
    }

    /// `x.field` for lookups, `now`, `agent`, `queue(q)` and qualified values.
    /// D4010: `now` is the script's (root file's) zone, even in a file
    /// that declares another one for its hours and calendars.
    fn now_in_other_zone(&mut self, file: FileId, loc: Loc) {
        let Some(&(zone, zone_loc)) = self.file_zones.get(&file) else {
            return;
        };
        if zone == ZoneId(0) || self.program.zones.is_empty() {
            return;
        }
        let script = self.program.zones[0].name.clone();
        let own = self.program.zones[zone.index()].name.clone();
        self.push(
            Diagnostic::at(
                Code::NowInOtherZone,
                loc,
                format!("`now` is read in the script's zone, {script}, not this file's {own}"),
            )
            .label(format!("{script} time"))
            .with(zone_loc, format!("this file's hours and calendars use {own}"))
            .help(format!(
                "to test the time in {own}, declare hours in this file (`hours evening {{ every day 17:00.. }}`) and use `open(evening)`; they are read in {own}"
            )),
        );
    }

    fn field(
        &mut self,
        file: FileId,
        loc: Loc,
        base: &ast::Expr,
        field: &ast::Name,
        scope: &mut Scope,
    ) -> (ExprKind, Type) {
        let field_loc = Loc::new(file, field.span);
        match &base.kind {
            ast::ExprKind::Builtin(Builtin::Now) => {
                self.note_time_use(loc);
                self.now_in_other_zone(file, loc);
                let (f, ty) = match field.text.as_str() {
                    "time" => (NowField::Time, Type::Time),
                    "weekday" => (NowField::Weekday, Type::Weekday),
                    "date" => (NowField::Date, Type::Date),
                    _ => {
                        return self.unknown_field(
                            field_loc,
                            &field.text,
                            "`now`",
                            &["time", "weekday", "date"],
                        );
                    }
                };
                (ExprKind::Now(f), ty)
            }
            ast::ExprKind::Builtin(Builtin::Agent) => {
                if !scope.agent {
                    self.push(
                        Diagnostic::at(
                            Code::AgentOutsideQueue,
                            loc,
                            "`agent` only exists while a queue chooses an agent",
                        )
                        .label("no agent here")
                        .help("use `agent.*` in a queue's `require`, `prefer` or `score`"),
                    );
                    return (ExprKind::Error, Type::Error);
                }
                match AgentAttr::ALL.into_iter().find(|a| a.name() == field.text) {
                    Some(a) => (ExprKind::Agent(a), Type::Int),
                    None => {
                        let names: Vec<&str> = AgentAttr::ALL.iter().map(|a| a.name()).collect();
                        self.unknown_field(field_loc, &field.text, "`agent`", &names)
                    }
                }
            }
            ast::ExprKind::Call { func, args } if func.text == "queue" => {
                let Some(name) = self.single_name_arg(file, loc, func, args, Kind::Queue) else {
                    return (ExprKind::Error, Type::Error);
                };
                let Some(queue) = self.resolve(Kind::Queue, file, name) else {
                    return (ExprKind::Error, Type::Error);
                };
                match QueueStat::ALL.into_iter().find(|s| s.name() == field.text) {
                    Some(stat) => (ExprKind::QueueStat(QueueId(queue), stat), stat.ty()),
                    None => {
                        let names: Vec<&str> = QueueStat::ALL.iter().map(|s| s.name()).collect();
                        self.unknown_field(field_loc, &field.text, "a queue", &names)
                    }
                }
            }
            ast::ExprKind::Name(n) => {
                if let Some(id) = self.names.get(Kind::Lookup, &n.text) {
                    self.refer(Kind::Lookup, id);
                    let lookup = LookupId(id);
                    let Some(l) = self.program.lookups.get(id as usize) else {
                        return (ExprKind::Error, Type::Error);
                    };
                    let Some(index) = l.fields.iter().position(|f| f.name == field.text) else {
                        let names: Vec<String> = l.fields.iter().map(|f| f.name.clone()).collect();
                        let names: Vec<&str> = names.iter().map(String::as_str).collect();
                        let what = format!("lookup `{}`", n.text);
                        return self.unknown_field(field_loc, &field.text, &what, &names);
                    };
                    let ty = l.fields[index].ty.clone();
                    if !scope.known.contains(&lookup) {
                        self.push(
                            Diagnostic::at(Code::UnguardedField, loc, format!("`{}.{}` is read without knowing that `{}` found a row", n.text, field.text, n.text))
                                .label("may have no row")
                                .help(format!("guard it: `known {0} and {0}.{1}`, or put `when not known {0} -> ...` in an earlier rule", n.text, field.text)),
                        );
                    }
                    return (ExprKind::Field(lookup, index as u16), ty);
                }
                if let Some(id) = self.names.get(Kind::Skill, &n.text) {
                    self.refer(Kind::Skill, id);
                    let skill = SkillId(id);
                    let values = match &self.program.skill(skill).kind {
                        SkillKind::Values(v) => v.clone(),
                        SkillKind::Level => {
                            self.push(
                                Diagnostic::at(
                                    Code::UnknownField,
                                    field_loc,
                                    format!("skill `{}` has levels, not named values", n.text),
                                )
                                .label("no such value")
                                .help(format!(
                                    "compare its level instead, such as `{} >= 3`",
                                    n.text
                                )),
                            );
                            return (ExprKind::Error, Type::Error);
                        }
                    };
                    return match values.iter().position(|v| *v == field.text) {
                        Some(p) => (
                            ExprKind::Const(Value::Enum(skill, p as u16)),
                            Type::Enum(skill),
                        ),
                        None => {
                            let names: Vec<&str> = values.iter().map(String::as_str).collect();
                            let what = format!("skill `{}`", n.text);
                            self.unknown_field(field_loc, &field.text, &what, &names)
                        }
                    };
                }
                // Not a lookup or skill: report what the name is instead.
                self.name_expr(file, n, scope, None);
                (ExprKind::Error, Type::Error)
            }
            _ => {
                let b = self.expr(file, base, scope, None);
                if b.ty != Type::Error {
                    let got = self.type_name(&b.ty);
                    self.push(
                        Diagnostic::at(Code::UnknownField, field_loc, format!("{} has no fields", article(&got)))
                            .label("no such field")
                            .help("fields belong to lookups (`customer.tier`), `now`, `agent` and `queue(name)`"),
                    );
                }
                (ExprKind::Error, Type::Error)
            }
        }
    }

    fn unknown_field(
        &mut self,
        loc: Loc,
        field: &str,
        what: &str,
        options: &[&str],
    ) -> (ExprKind, Type) {
        let help = match diagnostic::did_you_mean(field, options.iter().copied()) {
            Some(s) => format!("did you mean `{s}`?"),
            None if options.is_empty() => format!("{what} declares no fields"),
            None => format!("{what} has {}", super::list(options)),
        };
        self.push(
            Diagnostic::at(
                Code::UnknownField,
                loc,
                format!("{what} has no field `{field}`"),
            )
            .label("unknown field")
            .help(help),
        );
        (ExprKind::Error, Type::Error)
    }

    /// The subject of `matches` or `starts_with`: a phone number or text.
    fn text_subject(
        &mut self,
        file: FileId,
        subject: &ast::Expr,
        scope: &mut Scope,
        op: &str,
    ) -> Expr {
        let s = self.expr(file, subject, scope, None);
        if !matches!(s.ty, Type::Phone | Type::Text | Type::Error) {
            let got = self.type_name(&s.ty);
            self.push(
                Diagnostic::at(
                    Code::TypeMismatch,
                    s.loc,
                    format!("`{op}` tests phone numbers and text, not {}", article(&got)),
                )
                .label(format!("this is {}", article(&got)))
                .help("use it on `caller`, `dialed`, `digits` or a text or phone field"),
            );
        }
        s
    }

    fn binary(
        &mut self,
        file: FileId,
        loc: Loc,
        op: BinOp,
        lhs: &ast::Expr,
        rhs: &ast::Expr,
        scope: &mut Scope,
    ) -> (ExprKind, Type) {
        let boxed = |l: Expr, r: Expr| ExprKind::Binary {
            op,
            lhs: Box::new(l),
            rhs: Box::new(r),
        };
        match op {
            BinOp::And | BinOp::Or => {
                let what = format!("each side of `{}`", op.symbol());
                let l = self.expect_expr(file, lhs, scope, Type::Bool, &what);
                let facts = if op == BinOp::And {
                    facts_true(&l)
                } else {
                    facts_false(&l)
                };
                let before = scope.known.len();
                scope.known.extend(facts);
                let r = self.expect_expr(file, rhs, scope, Type::Bool, &what);
                scope.known.truncate(before);
                (boxed(l, r), Type::Bool)
            }
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                // Check the side that does not need context first, so a bare
                // value or a string can be read as the other side's type.
                let (l, r) = if self.needs_hint(lhs) && !self.needs_hint(rhs) {
                    let r = self.expr(file, rhs, scope, None);
                    let l = self.expr(file, lhs, scope, Some(&r.ty));
                    (l, r)
                } else {
                    let l = self.expr(file, lhs, scope, None);
                    let r = self.expr(file, rhs, scope, Some(&l.ty));
                    (l, r)
                };
                if l.ty == Type::Error || r.ty == Type::Error {
                    return (boxed(l, r), Type::Bool);
                }
                if l.ty != r.ty {
                    self.mismatch(op, &l, &r);
                    return (ExprKind::Error, Type::Error);
                }
                let ordered = matches!(l.ty, Type::Int | Type::Duration | Type::Time | Type::Date);
                let agent_values = matches!(l.kind, ExprKind::SkillValues(_))
                    || matches!(r.kind, ExprKind::SkillValues(_));
                if !matches!(op, BinOp::Eq | BinOp::Ne) && !ordered {
                    let ty = self.type_name(&l.ty);
                    let help = if l.ty == Type::Weekday {
                        "weekdays have no order here; use `now.weekday in [sat, sun]`".to_string()
                    } else {
                        "only numbers, durations, times and dates can be ordered; use `==` or `!=`"
                            .to_string()
                    };
                    self.push(
                        Diagnostic::at(
                            Code::TypeMismatch,
                            loc,
                            format!("`{}` cannot order {} values", op.symbol(), ty),
                        )
                        .label("no order")
                        .help(help),
                    );
                    return (ExprKind::Error, Type::Error);
                }
                if agent_values
                    && matches!(l.kind, ExprKind::SkillValues(_))
                    && matches!(r.kind, ExprKind::SkillValues(_))
                {
                    self.push(
                        Diagnostic::at(Code::TypeMismatch, loc, "this compares an agent's skill values with themselves")
                            .label("both sides are the agent's")
                            .help("compare the skill with a value, such as `language == spanish` or `language == customer.language`"),
                    );
                    return (ExprKind::Error, Type::Error);
                }
                // An enumerated agent skill on the right reads better on the left.
                let (l, r) = if matches!(r.kind, ExprKind::SkillValues(_)) {
                    (r, l)
                } else {
                    (l, r)
                };
                self.level_range(&l, &r);
                self.level_range(&r, &l);
                (boxed(l, r), Type::Bool)
            }
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Rem => {
                let l = self.expr(file, lhs, scope, None);
                let r = self.expr(file, rhs, scope, None);
                if l.ty == Type::Error || r.ty == Type::Error {
                    return (ExprKind::Error, Type::Error);
                }
                let ty = match (op, &l.ty, &r.ty) {
                    (_, Type::Int, Type::Int) => Some(Type::Int),
                    (BinOp::Add | BinOp::Sub, Type::Duration, Type::Duration) => {
                        Some(Type::Duration)
                    }
                    (BinOp::Mul | BinOp::Div, Type::Duration, Type::Int) => Some(Type::Duration),
                    (BinOp::Mul, Type::Int, Type::Duration) => Some(Type::Duration),
                    _ => None,
                };
                let Some(ty) = ty else {
                    let (a, b) = (self.type_name(&l.ty), self.type_name(&r.ty));
                    self.push(
                        Diagnostic::at(Code::TypeMismatch, loc, format!("`{}` cannot combine {} with {}", op.symbol(), article(&a), article(&b)))
                            .label("no such arithmetic")
                            .with(l.loc, format!("this is {}", article(&a)))
                            .with(r.loc, format!("this is {}", article(&b)))
                            .help("arithmetic works on numbers, on durations added together, and on durations scaled by a number"),
                    );
                    return (ExprKind::Error, Type::Error);
                };
                if let (
                    ExprKind::Const(Value::Int(x) | Value::Duration(x)),
                    ExprKind::Const(Value::Int(y) | Value::Duration(y)),
                ) = (&l.kind, &r.kind)
                {
                    let exact = match op {
                        BinOp::Add => x.checked_add(*y),
                        BinOp::Sub => x.checked_sub(*y),
                        BinOp::Mul => x.checked_mul(*y),
                        _ => Some(0),
                    };
                    if exact.is_none() {
                        self.push(
                            Diagnostic::at(
                                Code::OutOfRange,
                                loc,
                                "this arithmetic overflows 64 bits",
                            )
                            .label("overflows")
                            .help("integers are 64-bit and wrap on overflow; use smaller numbers"),
                        );
                    }
                }
                if matches!(op, BinOp::Div | BinOp::Rem) && r.kind == ExprKind::Const(Value::Int(0))
                {
                    self.push(
                        Diagnostic::at(
                            Code::DivisionByZero,
                            r.loc,
                            format!("`{}` by zero", op.symbol()),
                        )
                        .label("zero")
                        .help("divide by a number other than zero"),
                    );
                }
                (boxed(l, r), ty)
            }
        }
    }

    /// Whether reading this expression benefits from knowing the other
    /// side's type (a bare value name or a string literal).
    fn needs_hint(&self, e: &ast::Expr) -> bool {
        match &e.kind {
            ast::ExprKind::Str(_) => true,
            ast::ExprKind::Name(n) => {
                self.names.get(Kind::Skill, &n.text).is_none()
                    && self.names.get(Kind::Lookup, &n.text).is_none()
            }
            _ => false,
        }
    }

    fn mismatch(&mut self, op: BinOp, l: &Expr, r: &Expr) {
        let (a, b) = (self.type_name(&l.ty), self.type_name(&r.ty));
        let help = match (&l.ty, &r.ty) {
            (Type::Phone, Type::Text) | (Type::Text, Type::Phone) => {
                "a phone number is not text: compare it with a number written as a string literal, or declare the field as `phone`".to_string()
            }
            (Type::Enum(_), Type::Int) | (Type::Int, Type::Enum(_)) => {
                "an enumerated skill has named values, not levels; compare it with one of its values".to_string()
            }
            (Type::Enum(_), Type::Enum(_)) => "these values belong to different skills and can never be equal".to_string(),
            _ => format!("both sides of `{}` must have the same type", op.symbol()),
        };
        // Labels sit on the two operands; a primary span over both would
        // enclose them and draw confusingly.
        self.push(
            Diagnostic::at(
                Code::TypeMismatch,
                l.loc,
                format!(
                    "`{}` compares {} with {}",
                    op.symbol(),
                    article(&a),
                    article(&b)
                ),
            )
            .label(format!("this is {}", article(&a)))
            .with(r.loc, format!("this is {}", article(&b)))
            .help(help),
        );
    }

    /// D3020 for comparing a skill level with a number no level can have.
    fn level_range(&mut self, skill: &Expr, value: &Expr) {
        if let (ExprKind::SkillLevel(s), ExprKind::Const(Value::Int(v))) =
            (&skill.kind, &value.kind)
            && !(0..=MAX_SKILL_LEVEL).contains(v)
        {
            let name = self.program.skill(*s).name.clone();
            self.push(
                Diagnostic::at(Code::OutOfRange, value.loc, format!("skill levels run from 0 to {MAX_SKILL_LEVEL}, so comparing `{name}` with {v} is always the same"))
                    .label(format!("outside 0..{MAX_SKILL_LEVEL}"))
                    .help(format!("use a level from 1 to {MAX_SKILL_LEVEL}; 0 means the agent lacks the skill")),
            );
        }
    }

    pub(super) fn type_name(&self, ty: &Type) -> String {
        match ty {
            Type::Enum(s) => format!(
                "`{}` value",
                self.program
                    .skills
                    .get(s.index())
                    .map_or("?", |s| s.name.as_str())
            ),
            other => other.to_string(),
        }
    }

    pub(super) fn bad_number(&mut self, loc: Loc, text: &str, why: &str) {
        self.push(
            Diagnostic::at(Code::InvalidNumber, loc, format!("`{text}` is not a phone number"))
                .label(why.to_string())
                .help("write numbers in E.164 form, such as \"+1 512 555 0100\"; spaces, dashes and parentheses are ignored"),
        );
    }
}

/// Lookups known to have a row when `e` is true.
pub fn facts_true(e: &Expr) -> Vec<LookupId> {
    match &e.kind {
        ExprKind::Known(l) => vec![*l],
        ExprKind::Not(x) => facts_false(x),
        ExprKind::Binary {
            op: BinOp::And,
            lhs,
            rhs,
        } => {
            let mut v = facts_true(lhs);
            v.extend(facts_true(rhs));
            v
        }
        ExprKind::Binary {
            op: BinOp::Or,
            lhs,
            rhs,
        } => {
            let r = facts_true(rhs);
            facts_true(lhs)
                .into_iter()
                .filter(|l| r.contains(l))
                .collect()
        }
        _ => Vec::new(),
    }
}

/// Lookups known to have a row when `e` is false.
pub fn facts_false(e: &Expr) -> Vec<LookupId> {
    match &e.kind {
        ExprKind::Not(x) => facts_true(x),
        ExprKind::Binary {
            op: BinOp::Or,
            lhs,
            rhs,
        } => {
            let mut v = facts_false(lhs);
            v.extend(facts_false(rhs));
            v
        }
        ExprKind::Binary {
            op: BinOp::And,
            lhs,
            rhs,
        } => {
            let r = facts_false(rhs);
            facts_false(lhs)
                .into_iter()
                .filter(|l| r.contains(l))
                .collect()
        }
        _ => Vec::new(),
    }
}

/// "a bool", "an int".
pub fn article(name: &str) -> String {
    if name == "text" {
        return "text".into();
    }
    let vowel = name.starts_with(['a', 'e', 'i', 'o', 'u']);
    if name.starts_with('`') {
        format!("a {name}")
    } else if vowel {
        format!("an {name}")
    } else {
        format!("a {name}")
    }
}

fn attr_list() -> String {
    AgentAttr::ALL
        .iter()
        .map(|a| format!("`agent.{}`", a.name()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn stat_list() -> String {
    QueueStat::ALL
        .iter()
        .map(|s| format!("`.{}`", s.name()))
        .collect::<Vec<_>>()
        .join(", ")
}
