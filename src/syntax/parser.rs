//! Turns the pest parse tree of `grammar/dialect.pest` into the `ast`.
//!
//! A whole file is parsed in one go; if that fails, each top-level chunk
//! found by `scan` is parsed alone so that one run reports an error per
//! broken declaration rather than only the first.

use std::sync::LazyLock;

use pest::Parser as _;
use pest::iterators::{Pair, Pairs};
use pest::pratt_parser::{Assoc, Op, PrattParser};

use super::ast::{self, *};
use super::grammar::{Grammar, Rule};
use super::scan;
use crate::diagnostic::{Code, Diagnostic};
use crate::source::{FileId, Span};

/// Most tokens one expression may have; longer ones are rejected so that the
/// left-deep trees they build cannot exhaust the stack in later stages.
pub const MAX_EXPR_TOKENS: usize = 400;

static PRATT: LazyLock<PrattParser<Rule>> = LazyLock::new(|| {
    PrattParser::new()
        .op(Op::infix(Rule::op_or, Assoc::Left))
        .op(Op::infix(Rule::op_and, Assoc::Left))
        .op(Op::prefix(Rule::op_not))
        .op(Op::infix(Rule::op_eq, Assoc::Left)
            | Op::infix(Rule::op_ne, Assoc::Left)
            | Op::infix(Rule::op_lt, Assoc::Left)
            | Op::infix(Rule::op_le, Assoc::Left)
            | Op::infix(Rule::op_gt, Assoc::Left)
            | Op::infix(Rule::op_ge, Assoc::Left))
        .op(Op::postfix(Rule::op_matches)
            | Op::postfix(Rule::op_starts_with)
            | Op::postfix(Rule::op_in))
        .op(Op::infix(Rule::op_add, Assoc::Left) | Op::infix(Rule::op_sub, Assoc::Left))
        .op(Op::infix(Rule::op_mul, Assoc::Left)
            | Op::infix(Rule::op_div, Assoc::Left)
            | Op::infix(Rule::op_rem, Assoc::Left))
        .op(Op::prefix(Rule::op_neg))
        .op(Op::postfix(Rule::field))
});

/// Parses one file. Never panics; syntax errors come back as diagnostics and
/// the declarations that did parse are still returned.
pub fn parse(file: FileId, text: &str) -> (ast::File, Vec<Diagnostic>) {
    let scan = scan::scan(file, text);
    let mut builder = Builder {
        file,
        offset: 0,
        diagnostics: scan.diagnostics,
    };
    let mut out = ast::File {
        items: Vec::new(),
        key_like_comments: scan.key_like_comments,
        broken: Vec::new(),
    };
    if builder.diagnostics.is_empty()
        && let Ok(pairs) = Grammar::parse(Rule::file, text)
    {
        for pair in pairs.flat_map(|p| p.into_inner()) {
            if let Some(item) = builder.item(pair) {
                out.items.push(item);
            }
        }
        return (out, builder.diagnostics);
    }
    for chunk in scan.chunks.iter().filter(|c| c.broken) {
        out.broken
            .extend(broken_declaration(text, chunk.start, chunk.end));
    }
    for chunk in scan.chunks.iter().filter(|c| !c.broken) {
        builder.offset = chunk.start;
        match Grammar::parse(Rule::chunk, &text[chunk.start..chunk.end]) {
            Ok(pairs) => {
                for pair in pairs.flat_map(|p| p.into_inner()) {
                    if let Some(item) = builder.item(pair) {
                        out.items.push(item);
                    }
                }
            }
            Err(error) => {
                let diagnostic = syntax_error(file, text, chunk.start, &error);
                let at = diagnostic.primary.loc.span.start as usize;
                // `queu billing {` on a line of its own does not start a
                // chunk: the declaration before it is whole, and the broken
                // one is known by the keyword it misspells.
                if at > chunk.start
                    && let Some((keyword, name)) = super::hints::misspelled_declaration(text, at)
                {
                    match Grammar::parse(Rule::chunk, &text[chunk.start..at]) {
                        Ok(pairs) => {
                            for pair in pairs.flat_map(|p| p.into_inner()) {
                                if let Some(item) = builder.item(pair) {
                                    out.items.push(item);
                                }
                            }
                        }
                        Err(first) => {
                            let d = syntax_error(file, text, chunk.start, &first);
                            builder.diagnostics.push(d);
                            out.broken.extend(broken_declaration(text, chunk.start, at));
                        }
                    }
                    builder.diagnostics.push(diagnostic);
                    out.broken.push(Broken {
                        keyword: keyword.to_string(),
                        name: name.map(|(s, e)| Name {
                            text: text[s..e].to_string(),
                            span: Span::new(s, e),
                        }),
                    });
                    continue;
                }
                builder.diagnostics.push(diagnostic);
                out.broken
                    .extend(broken_declaration(text, chunk.start, chunk.end));
            }
        }
    }
    (out, builder.diagnostics)
}

/// Converts a pest error into a D1001 diagnostic naming what was expected.
fn syntax_error(
    file: FileId,
    text: &str,
    offset: usize,
    error: &pest::error::Error<Rule>,
) -> Diagnostic {
    use pest::error::{ErrorVariant, InputLocation};
    let at = offset
        + match error.location {
            InputLocation::Pos(p) => p,
            InputLocation::Span((s, _)) => s,
        };
    let rest = &text[at.min(text.len())..];
    let token_len = match rest.chars().next() {
        None => 0,
        Some(c) if c.is_ascii_alphanumeric() || c == '_' => rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len()),
        Some(c) => c.len_utf8(),
    };
    let token = &rest[..token_len];
    let positives: &[Rule] = match &error.variant {
        ErrorVariant::ParsingError { positives, .. } => positives,
        ErrorVariant::CustomError { .. } => &[],
    };
    let hint = super::hints::Expected {
        name: positives
            .iter()
            .any(|r| matches!(r, Rule::ident | Rule::word)),
        declaration: positives.is_empty()
            || positives
                .iter()
                .any(|r| *r == Rule::EOI || format!("{r:?}").ends_with("_decl")),
        keywords: positives
            .iter()
            .filter_map(|r| format!("{r:?}").strip_prefix("kw_").map(str::to_string))
            .collect(),
    };
    if at < text.len()
        && let Some(d) = super::hints::explain(file, text, at, &hint)
    {
        return d;
    }
    // Everything that can start an expression is summed up as "an expression".
    let starts_expr = |r: &Rule| {
        matches!(
            r,
            Rule::kw_known
                | Rule::bool_lit
                | Rule::date
                | Rule::time
                | Rule::duration
                | Rule::int
                | Rule::string
                | Rule::ident
                | Rule::expr
                | Rule::paren
                | Rule::call
                | Rule::builtin
                | Rule::op_not
                | Rule::op_neg
        )
    };
    let mut expected: Vec<String> = if positives
        .iter()
        .any(|r| matches!(r, Rule::expr | Rule::paren | Rule::op_not))
    {
        positives
            .iter()
            .filter(|r| !starts_expr(r))
            .filter_map(|r| describe(*r))
            .chain(["an expression".to_string()])
            .collect()
    } else {
        positives.iter().filter_map(|r| describe(*r)).collect()
    };
    expected.sort();
    expected.dedup();
    let message = if token.is_empty() {
        "unexpected end of file".to_string()
    } else {
        format!("unexpected `{}`", token.escape_debug())
    };
    let help = match expected.len() {
        0 => "check the statement against docs/language.md".to_string(),
        1 => format!("expected {}", expected[0]),
        n if n > 12 => format!("expected one of {}, …", expected[..12].join(", ")),
        _ => {
            let (last, rest) = expected.split_last().unwrap_or((&expected[0], &[]));
            format!("expected {} or {}", rest.join(", "), last)
        }
    };
    Diagnostic::new(
        Code::SyntaxError,
        file,
        Span::new(at, at + token_len),
        message,
    )
    .label(if token.is_empty() {
        "the file ends here"
    } else {
        "not expected here"
    })
    .help(help)
}

/// How a grammar rule is named in "expected ..." help lines.
fn describe(rule: Rule) -> Option<String> {
    let name = format!("{rule:?}");
    if name.ends_with("_decl") {
        return Some("a declaration such as `queue`, `menu`, `route` or `entry`".into());
    }
    if let Some(kw) = name.strip_prefix("kw_") {
        if matches!(rule, Rule::kw_in | Rule::kw_matches | Rule::kw_starts_with) {
            return Some("an operator".into());
        }
        return Some(format!("`{kw}`"));
    }
    Some(
        match rule {
            Rule::EOI => "the end of the declaration",
            Rule::arrow => "`->`",
            Rule::actions => "an action such as `queue`, `menu`, `play` or `voicemail`",
            Rule::days => "a weekday (`mon` … `sun`) or `every day`",
            Rule::announce_item => "`position`, `wait` or a prompt name",
            Rule::calendar_entry => "a date such as `2026-12-25` or `yearly 12-25`",
            Rule::lookup_field => "a field such as `account: text`",
            Rule::ident | Rule::word => "a name",
            Rule::string => "a string",
            Rule::int | Rule::extension_number => "a number",
            Rule::duration => "a duration such as `30s`",
            Rule::time => "a time such as `08:00`",
            Rule::date => "a date such as `2026-12-25`",
            Rule::month_day => "a month and day such as `12-25`",
            Rule::ordinal => "an ordinal such as `4th`, or `last`",
            Rule::month_number => "a month number such as `11`",
            Rule::weekday => "a weekday (`mon` … `sun`)",
            Rule::bool_lit => "`true` or `false`",
            Rule::expr | Rule::paren | Rule::known_expr | Rule::call | Rule::builtin => {
                "an expression"
            }
            Rule::op_not | Rule::op_neg => "an expression",
            Rule::op_or
            | Rule::op_and
            | Rule::op_eq
            | Rule::op_ne
            | Rule::op_lt
            | Rule::op_le
            | Rule::op_gt
            | Rule::op_ge
            | Rule::op_add
            | Rule::op_sub
            | Rule::op_mul
            | Rule::op_div
            | Rule::op_rem
            | Rule::field
            | Rule::op_matches
            | Rule::op_starts_with
            | Rule::op_in => "an operator",
            Rule::time_range => "a time range such as `08:00..18:00`",
            Rule::bare_key | Rule::menu_key => "a menu key",
            Rule::press_key => "a key (digits, `*`, \"#\") or `timeout`",
            Rule::reject_reason => "`busy`, `decline` or `unavailable`",
            Rule::value | Rule::value_list => "a value",
            Rule::record_lit => "`{`",
            Rule::party => "an agent or an extension number",
            _ => return None,
        }
        .to_string(),
    )
}

struct Builder {
    file: FileId,
    /// Where the text being parsed starts in the file (non-zero for chunks).
    offset: usize,
    diagnostics: Vec<Diagnostic>,
}

impl Builder {
    /// The pair's span. It may end with whitespace or a comment that pest
    /// let the rule swallow; reports trim it (`SourceMap::trim`).
    fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        let s = pair.as_span();
        Span::new(s.start() + self.offset, s.end() + self.offset)
    }

    fn name(&self, pair: Pair<'_, Rule>) -> Name {
        Name {
            span: self.span(&pair),
            text: pair.as_str().to_string(),
        }
    }

    fn string(&self, pair: Pair<'_, Rule>) -> Str {
        let span = self.span(&pair);
        let raw = pair.into_inner().next().map_or("", |p| p.as_str());
        let mut value = String::with_capacity(raw.len());
        let mut chars = raw.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                match chars.next() {
                    Some('n') => value.push('\n'),
                    Some('t') => value.push('\t'),
                    Some(other) => value.push(other),
                    None => {}
                }
            } else {
                value.push(c);
            }
        }
        Str { value, span }
    }

    fn int(&self, pair: Pair<'_, Rule>) -> Int {
        Int {
            span: self.span(&pair),
            value: pair.as_str().parse().ok(),
        }
    }

    fn duration(&self, pair: Pair<'_, Rule>) -> Duration {
        let span = self.span(&pair);
        let text = pair.as_str();
        let mut parts = Vec::new();
        let mut rest = text;
        while !rest.is_empty() {
            let digits = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            let number = rest[..digits].parse::<u64>().ok();
            rest = &rest[digits..];
            let (unit, len) = if rest.starts_with("ms") {
                (Unit::Milli, 2)
            } else {
                match rest.as_bytes().first() {
                    Some(b's') => (Unit::Second, 1),
                    Some(b'm') => (Unit::Minute, 1),
                    Some(b'h') => (Unit::Hour, 1),
                    Some(b'd') => (Unit::Day, 1),
                    _ => break,
                }
            };
            rest = &rest[len..];
            parts.push((number, unit));
        }
        Duration { parts, span }
    }

    fn time(&self, pair: Pair<'_, Rule>) -> Time {
        let span = self.span(&pair);
        let (h, m) = pair.as_str().split_once(':').unwrap_or(("0", "0"));
        Time {
            hour: h.parse().unwrap_or(99),
            minute: m.parse().unwrap_or(99),
            span,
        }
    }

    fn date(&self, pair: Pair<'_, Rule>) -> Date {
        let span = self.span(&pair);
        let mut it = pair
            .as_str()
            .split('-')
            .map(|p| p.parse::<u32>().unwrap_or(0));
        let (y, m, d) = (it.next(), it.next(), it.next());
        Date {
            year: y.unwrap_or(0) as i32,
            month: m.unwrap_or(0),
            day: d.unwrap_or(0),
            span,
        }
    }

    fn month_day(&self, pair: Pair<'_, Rule>) -> MonthDay {
        let span = self.span(&pair);
        let (m, d) = pair.as_str().split_once('-').unwrap_or(("0", "0"));
        MonthDay {
            month: m.parse().unwrap_or(0),
            day: d.parse().unwrap_or(0),
            span,
        }
    }

    fn item(&mut self, pair: Pair<'_, Rule>) -> Option<Item> {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        let mut inner = pair.into_inner().filter(|p| !is_keyword(p.as_rule()));
        Some(match rule {
            Rule::timezone_decl => Item::Timezone(Timezone {
                name: self.string(inner.next()?),
                span,
            }),
            Rule::country_decl => Item::Country(Country {
                code: self.string(inner.next()?),
                span,
            }),
            Rule::include_decl => Item::Include(Include {
                path: self.string(inner.next()?),
                span,
            }),
            Rule::calendar_decl => {
                let name = self.name(inner.next()?);
                let mut zone = None;
                let mut entries = Vec::new();
                for p in inner {
                    match p.as_rule() {
                        Rule::zone_clause => {
                            zone = p
                                .into_inner()
                                .find(|p| p.as_rule() == Rule::string)
                                .map(|p| self.string(p))
                        }
                        Rule::calendar_entry => entries.push(self.calendar_entry(p)),
                        _ => {}
                    }
                }
                Item::Calendar(Calendar {
                    name,
                    zone,
                    entries,
                    span,
                })
            }
            Rule::hours_decl => {
                let name = self.name(inner.next()?);
                let mut zone = None;
                let mut lines = Vec::new();
                for p in inner {
                    let line_span = self.span(&p);
                    match p.as_rule() {
                        Rule::zone_clause => {
                            zone = p
                                .into_inner()
                                .find(|p| p.as_rule() == Rule::string)
                                .map(|p| self.string(p))
                        }
                        Rule::closed_line => lines.push(HoursLine::Closed {
                            calendars: p
                                .into_inner()
                                .filter(|p| p.as_rule() == Rule::ident)
                                .map(|p| self.name(p))
                                .collect(),
                            span: line_span,
                        }),
                        Rule::open_line => {
                            let mut days = Days::List(Vec::new());
                            let mut ranges = Vec::new();
                            for q in p.into_inner() {
                                match q.as_rule() {
                                    Rule::days => days = self.days(q),
                                    Rule::time_range => ranges.push(self.time_range(q)),
                                    _ => {}
                                }
                            }
                            lines.push(HoursLine::Open {
                                days,
                                ranges,
                                span: line_span,
                            });
                        }
                        _ => {}
                    }
                }
                Item::Hours(Hours {
                    name,
                    zone,
                    lines,
                    span,
                })
            }
            Rule::skill_decl => {
                let name = self.name(inner.next()?);
                let values = inner.next().map(|p| {
                    p.into_inner()
                        .filter(|p| p.as_rule() == Rule::ident)
                        .map(|p| self.name(p))
                        .collect()
                });
                Item::Skill(Skill { name, values, span })
            }
            Rule::switch_decl => {
                let name = self.name(inner.next()?);
                let description = inner.next().map(|p| self.string(p));
                Item::Switch(Switch {
                    name,
                    description,
                    span,
                })
            }
            Rule::lookup_decl => {
                let name = self.name(inner.next()?);
                let key = self.name(inner.next()?);
                let source = self.string(inner.next()?);
                let mut table = None;
                let mut fields = Vec::new();
                for p in inner {
                    match p.as_rule() {
                        Rule::lookup_table => {
                            table = p
                                .into_inner()
                                .find(|p| p.as_rule() == Rule::string)
                                .map(|p| self.string(p))
                        }
                        Rule::lookup_field => {
                            let field_span = self.span(&p);
                            let mut it = p.into_inner();
                            let (Some(n), Some(t)) = (it.next(), it.next()) else {
                                continue;
                            };
                            fields.push(LookupField {
                                name: self.name(n),
                                ty: self.name(t),
                                span: field_span,
                            });
                        }
                        _ => {}
                    }
                }
                Item::Lookup(Lookup {
                    name,
                    key,
                    source,
                    table,
                    fields,
                    span,
                })
            }
            Rule::queue_decl => {
                let name = self.name(inner.next()?);
                let stmts = inner.filter_map(|p| self.queue_stmt(p)).collect();
                Item::Queue(Queue { name, stmts, span })
            }
            Rule::group_decl => {
                let name = self.name(inner.next()?);
                let stmts = inner.filter_map(|p| self.group_stmt(p)).collect();
                Item::Group(Group { name, stmts, span })
            }
            Rule::menu_decl => {
                let name = self.name(inner.next()?);
                let mut stmts = Vec::new();
                for p in inner {
                    self.menu_stmt(p, &mut stmts);
                }
                Item::Menu(Menu { name, stmts, span })
            }
            Rule::route_decl => {
                let name = self.name(inner.next()?);
                let rules = inner
                    .filter(|p| p.as_rule() == Rule::route_rule)
                    .filter_map(|p| self.rule(p))
                    .collect();
                Item::Route(Route { name, rules, span })
            }
            Rule::entry_decl => {
                let number = self.string(inner.next()?);
                let actions = self.actions(inner.next()?);
                Item::Entry(Entry {
                    number,
                    actions,
                    span,
                })
            }
            Rule::test_decl => {
                let name = self.string(inner.next()?);
                let stmts = inner.filter_map(|p| self.test_stmt(p)).collect();
                Item::Test(Test { name, stmts, span })
            }
            _ => return None,
        })
    }

    /// `yearly MM-DD[..MM-DD] [observed]`, `yearly 4th thu of 11`, `yearly easter -2`.
    fn yearly_days(&self, pair: Pair<'_, Rule>) -> Option<CalendarDays> {
        let mut month_days = Vec::new();
        let mut observed = None;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::month_day => month_days.push(self.month_day(p)),
                Rule::kw_observed => observed = Some(self.span(&p)),
                Rule::nth_weekday => {
                    let span = self.span(&p);
                    let mut nth = None;
                    let mut weekday = None;
                    let mut month = None;
                    for q in p.into_inner() {
                        match q.as_rule() {
                            Rule::ordinal => {
                                nth = Some(Nth::Ordinal {
                                    text: q.as_str().to_string(),
                                    span: self.span(&q),
                                })
                            }
                            Rule::kw_last => nth = Some(Nth::Last(self.span(&q))),
                            Rule::weekday => weekday = Weekday::parse(q.as_str()),
                            Rule::month_number => month = Some(self.int(q)),
                            _ => {}
                        }
                    }
                    return Some(CalendarDays::NthWeekday {
                        nth: nth?,
                        weekday: weekday?,
                        month: month?,
                        span,
                    });
                }
                Rule::easter_day => {
                    let span = self.span(&p);
                    let offset = p
                        .into_inner()
                        .find(|q| q.as_rule() == Rule::day_offset)
                        .map(|q| self.int(q));
                    return Some(CalendarDays::Easter { offset, span });
                }
                _ => {}
            }
        }
        let mut it = month_days.into_iter();
        Some(CalendarDays::Yearly {
            from: it.next()?,
            to: it.next(),
            observed,
        })
    }

    fn calendar_entry(&self, pair: Pair<'_, Rule>) -> CalendarEntry {
        let span = self.span(&pair);
        let mut days = None;
        let mut times = None;
        let mut label = None;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::yearly_days => days = self.yearly_days(p),
                Rule::date_span => {
                    let mut it = p.into_inner().filter(|p| p.as_rule() == Rule::date);
                    if let Some(from) = it.next() {
                        days = Some(CalendarDays::Dates {
                            from: self.date(from),
                            to: it.next().map(|p| self.date(p)),
                        });
                    }
                }
                Rule::time_range => times = Some(self.time_range(p)),
                Rule::string => label = Some(self.string(p)),
                _ => {}
            }
        }
        let days = days.unwrap_or(CalendarDays::Dates {
            from: Date {
                year: 0,
                month: 0,
                day: 0,
                span,
            },
            to: None,
        });
        CalendarEntry {
            days,
            times,
            label,
            span,
        }
    }

    fn time_range(&self, pair: Pair<'_, Rule>) -> TimeRange {
        let span = self.span(&pair);
        let mut from = None;
        let mut to = None;
        for p in pair.into_inner() {
            let rule = p.as_rule();
            let time = p.into_inner().next().map(|t| self.time(t));
            match rule {
                Rule::range_from => from = time,
                Rule::range_to => to = time,
                _ => {}
            }
        }
        TimeRange { from, to, span }
    }

    fn days(&self, pair: Pair<'_, Rule>) -> Days {
        let mut list = Vec::new();
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::every_day => return Days::EveryDay(self.span(&p)),
                Rule::day_range => {
                    let span = self.span(&p);
                    let mut it = p.into_inner().filter(|p| p.as_rule() == Rule::weekday);
                    let from = it.next().and_then(|p| Weekday::parse(p.as_str()));
                    let to = it.next().and_then(|p| Weekday::parse(p.as_str()));
                    if let Some(from) = from {
                        list.push(DayRange { from, to, span });
                    }
                }
                _ => {}
            }
        }
        Days::List(list)
    }

    fn queue_stmt(&mut self, pair: Pair<'_, Rule>) -> Option<QueueStmt> {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        let mut inner = pair.into_inner().filter(|p| !is_keyword(p.as_rule()));
        Some(match rule {
            Rule::strategy_stmt => QueueStmt::Strategy(self.name(inner.next()?)),
            Rule::require_stmt => QueueStmt::Require(self.top_expr(inner.next()?)),
            Rule::prefer_stmt => QueueStmt::Prefer(self.top_expr(inner.next()?)),
            Rule::score_stmt => QueueStmt::Score(self.top_expr(inner.next()?)),
            Rule::ring_stmt => {
                let p = inner.next()?;
                let all = p.as_rule() == Rule::ring_all;
                let timeout =
                    self.duration(p.into_inner().find(|p| p.as_rule() == Rule::duration)?);
                QueueStmt::Ring(if all {
                    Ring::All { timeout, span }
                } else {
                    Ring::Next { timeout, span }
                })
            }
            Rule::auto_answer_stmt => QueueStmt::Ring(Ring::AutoAnswer { span }),
            Rule::wrapup_stmt => QueueStmt::Wrapup(self.duration(inner.next()?)),
            Rule::announce_stmt => {
                let mut items = Vec::new();
                let mut every = None;
                for p in inner {
                    match p.as_rule() {
                        Rule::announce_item => {
                            let q = p.into_inner().next()?;
                            items.push(if q.as_rule() == Rule::string {
                                Announcement::Prompt(self.string(q))
                            } else {
                                Announcement::Word(self.name(q))
                            });
                        }
                        Rule::duration => every = Some(self.duration(p)),
                        _ => {}
                    }
                }
                QueueStmt::Announce {
                    items,
                    every: every?,
                    span,
                }
            }
            Rule::music_stmt => QueueStmt::Music(self.string(inner.next()?)),
            Rule::after_stmt => {
                let after = self.duration(inner.next()?);
                let step = inner.next()?;
                match step.as_rule() {
                    Rule::relax_require => {
                        let e = step.into_inner().find(|p| p.as_rule() == Rule::expr)?;
                        QueueStmt::Relax {
                            after,
                            require: self.top_expr(e),
                            span,
                        }
                    }
                    _ => {
                        let a = step.into_inner().find(|p| p.as_rule() == Rule::actions)?;
                        QueueStmt::Overflow {
                            after,
                            actions: self.actions(a),
                            span,
                        }
                    }
                }
            }
            Rule::no_agents_stmt => QueueStmt::NoAgents {
                actions: self.actions(inner.find(|p| p.as_rule() == Rule::actions)?),
                span,
            },
            Rule::pause_stmt => QueueStmt::PauseAfter {
                misses: self.int(inner.next()?),
                span,
            },
            _ => return None,
        })
    }

    fn group_stmt(&mut self, pair: Pair<'_, Rule>) -> Option<GroupStmt> {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        let mut inner = pair.into_inner().filter(|p| !is_keyword(p.as_rule()));
        Some(match rule {
            Rule::members_stmt => GroupStmt::Members(inner.map(|p| self.name(p)).collect(), span),
            Rule::mode_stmt => GroupStmt::Mode {
                mode: self.name(inner.next()?),
                timeout: self.duration(inner.next()?),
                span,
            },
            Rule::then_stmt => GroupStmt::Then(self.actions(inner.next()?), span),
            _ => return None,
        })
    }

    fn menu_stmt(&mut self, pair: Pair<'_, Rule>, out: &mut Vec<MenuStmt>) {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        let mut inner = pair.into_inner().filter(|p| !is_keyword(p.as_rule()));
        match rule {
            Rule::prompt_stmt => {
                if let Some(p) = inner.next() {
                    out.push(MenuStmt::Prompt(self.string(p)));
                }
            }
            Rule::menu_settings => {
                for p in inner {
                    let rule = p.as_rule();
                    let mut parts = p.into_inner().filter(|q| !is_keyword(q.as_rule()));
                    let Some(value) = parts.next() else {
                        continue;
                    };
                    out.push(match rule {
                        Rule::retries_setting => MenuStmt::Retries(
                            self.int(value),
                            parts.next().map(|a| self.actions(a)),
                        ),
                        Rule::digit_timeout_setting => MenuStmt::DigitTimeout(self.duration(value)),
                        _ => MenuStmt::Timeout(self.duration(value)),
                    });
                }
            }
            Rule::collect_stmt => {
                let mut ints = Vec::new();
                let mut actions = None;
                for p in inner {
                    match p.as_rule() {
                        Rule::int => ints.push(self.int(p)),
                        Rule::actions => actions = Some(self.actions(p)),
                        _ => {}
                    }
                }
                if let (Some(&min), Some(actions)) = (ints.first(), actions) {
                    out.push(MenuStmt::Collect {
                        min,
                        max: ints.get(1).copied(),
                        actions,
                        span,
                    });
                }
            }
            Rule::invalid_stmt => {
                if let Some(p) = inner.next() {
                    out.push(MenuStmt::Invalid(self.actions(p), span));
                }
            }
            Rule::timeout_stmt => {
                if let Some(p) = inner.next() {
                    out.push(MenuStmt::OnTimeout(self.actions(p), span));
                }
            }
            Rule::key_stmt => {
                let (Some(key), Some(actions)) = (inner.next(), inner.next()) else {
                    return;
                };
                let key_span = self.span(&key);
                let Some(k) = key.into_inner().next() else {
                    return;
                };
                let text = if k.as_rule() == Rule::string {
                    self.string(k).value
                } else {
                    k.as_str().to_string()
                };
                out.push(MenuStmt::Key {
                    key: Name {
                        text,
                        span: key_span,
                    },
                    actions: self.actions(actions),
                    span,
                });
            }
            _ => {}
        }
    }

    fn rule(&mut self, pair: Pair<'_, Rule>) -> Option<ast::Rule> {
        let span = self.span(&pair);
        let mut when = None;
        let mut head = span;
        let mut actions = None;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::when_clause => {
                    head = self.span(&p);
                    let e = p.into_inner().find(|p| p.as_rule() == Rule::expr)?;
                    when = Some(self.top_expr(e));
                }
                Rule::kw_otherwise => head = self.span(&p),
                Rule::actions => actions = Some(self.actions(p)),
                _ => {}
            }
        }
        Some(ast::Rule {
            when,
            actions: actions?,
            head,
            span,
        })
    }

    fn actions(&mut self, pair: Pair<'_, Rule>) -> Actions {
        let span = self.span(&pair);
        let list = pair.into_inner().filter_map(|p| self.action(p)).collect();
        Actions { list, span }
    }

    fn action(&mut self, pair: Pair<'_, Rule>) -> Option<Action> {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        let mut inner = pair.into_inner().filter(|p| !is_keyword(p.as_rule()));
        let kind = match rule {
            Rule::play_action => ActionKind::Play(self.string(inner.next()?)),
            Rule::whisper_action => ActionKind::Whisper(self.string(inner.next()?)),
            Rule::record_action => ActionKind::Record,
            Rule::tag_action => ActionKind::SetTag(self.string(inner.next()?)),
            Rule::queue_action => ActionKind::Queue {
                queue: self.name(inner.next()?),
                priority: inner.next().map(|p| self.int(p)),
            },
            Rule::menu_action => ActionKind::Menu(self.name(inner.next()?)),
            Rule::route_action => ActionKind::Route(self.name(inner.next()?)),
            Rule::group_action => ActionKind::Group(self.name(inner.next()?)),
            Rule::dial_action => ActionKind::DialExtension {
                digits: self.int(inner.next()?),
            },
            Rule::extension_action => ActionKind::Extension(match inner.next() {
                None => ExtensionTarget::Dialed,
                Some(p) if p.as_rule() == Rule::extension_last => ExtensionTarget::LastDigits(
                    self.int(p.into_inner().find(|p| p.as_rule() == Rule::int)?),
                ),
                Some(p) => ExtensionTarget::Number(self.name(p)),
            }),
            Rule::transfer_action => ActionKind::Transfer(self.string(inner.next()?)),
            Rule::voicemail_action => ActionKind::Voicemail(self.string(inner.next()?)),
            Rule::reject_action => ActionKind::Reject(inner.next().map(|p| self.name(p))),
            Rule::hangup_action => ActionKind::Hangup,
            Rule::repeat_action => ActionKind::Repeat,
            Rule::back_action => ActionKind::Back,
            _ => return None,
        };
        Some(Action { kind, span })
    }

    fn test_stmt(&mut self, pair: Pair<'_, Rule>) -> Option<TestStmt> {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        let mut inner = pair.into_inner().filter(|p| !is_keyword(p.as_rule()));
        Some(match rule {
            Rule::call_stmt => {
                let mut from = None;
                let mut to = None;
                let mut at = None;
                for p in inner {
                    let rule = p.as_rule();
                    let mut parts = p.into_inner().filter(|p| !is_keyword(p.as_rule()));
                    match rule {
                        Rule::call_from => from = parts.next().map(|p| self.string(p)),
                        Rule::call_to => to = parts.next().map(|p| self.string(p)),
                        Rule::call_at => {
                            let date = self.date(parts.next()?);
                            let time = self.time(parts.next()?);
                            let zone = parts.next().map(|p| self.string(p));
                            at = Some((date, time, zone));
                        }
                        _ => {}
                    }
                }
                TestStmt::Call {
                    from,
                    to: to?,
                    at,
                    span,
                }
            }
            Rule::press_stmt => {
                let mut keys = Vec::new();
                for p in inner {
                    let key_span = self.span(&p);
                    let Some(k) = p.into_inner().next() else {
                        continue;
                    };
                    keys.push(match k.as_rule() {
                        Rule::kw_timeout => PressKey::Timeout(key_span),
                        Rule::string => {
                            let s = self.string(k);
                            PressKey::Keys(Name {
                                text: s.value,
                                span: s.span,
                            })
                        }
                        _ => PressKey::Keys(self.name(k)),
                    });
                }
                TestStmt::Press(keys, span)
            }
            Rule::given_stmt => {
                let given = inner.next()?;
                let rule = given.as_rule();
                let mut parts = given
                    .into_inner()
                    .filter(|p| !is_keyword(p.as_rule()) || p.as_rule() == Rule::kw_unknown);
                match rule {
                    Rule::given_agent => {
                        let agent = self.name(parts.next()?);
                        let state = self.name(parts.next()?);
                        let mut extension = None;
                        let mut skills = None;
                        for p in parts {
                            match p.as_rule() {
                                Rule::agent_extension => {
                                    extension = p
                                        .into_inner()
                                        .find(|p| p.as_rule() == Rule::extension_number)
                                        .map(|p| self.name(p));
                                }
                                _ => skills = Some(self.record(p)),
                            }
                        }
                        TestStmt::GivenAgent {
                            agent,
                            state,
                            extension,
                            skills,
                            span,
                        }
                    }
                    Rule::given_queue => {
                        let queue = self.name(parts.next()?);
                        let mut stats = Vec::new();
                        for p in parts {
                            let mut it = p.into_inner();
                            let (Some(n), Some(v)) = (it.next(), it.next()) else {
                                continue;
                            };
                            stats.push((self.name(n), self.value(v)));
                        }
                        TestStmt::GivenQueue { queue, stats, span }
                    }
                    Rule::given_switch => {
                        let switch = self.name(parts.next()?);
                        let state = self.name(parts.next()?);
                        TestStmt::GivenSwitch {
                            switch,
                            state,
                            span,
                        }
                    }
                    _ => {
                        let lookup = self.name(parts.next()?);
                        let record = match parts.next() {
                            Some(p) if p.as_rule() == Rule::record_lit => Some(self.record(p)),
                            _ => None,
                        };
                        TestStmt::GivenLookup {
                            lookup,
                            record,
                            span,
                        }
                    }
                }
            }
            Rule::expect_stmt => {
                let what = inner.next()?;
                let rule = what.as_rule();
                if rule == Rule::actions {
                    return Some(TestStmt::Expect(self.actions(what), span));
                }
                let mut parties = Vec::new();
                let mut then = None;
                for p in what.into_inner() {
                    match p.as_rule() {
                        Rule::party => parties.push(self.party(p)?),
                        Rule::expect_then => {
                            then =
                                Some(self.actions(
                                    p.into_inner().find(|p| p.as_rule() == Rule::actions)?,
                                ));
                        }
                        _ => {}
                    }
                }
                let expect = match rule {
                    Rule::expect_rings => RuntimeExpect::Rings { parties, then },
                    Rule::expect_waits => RuntimeExpect::WaitsThen(then?),
                    Rule::expect_no_agents => RuntimeExpect::NoAgentsThen(then?),
                    Rule::expect_answered => RuntimeExpect::Answered(parties.pop()),
                    _ => RuntimeExpect::Abandoned,
                };
                TestStmt::ExpectRuntime(expect, span)
            }
            Rule::caller_stmt => TestStmt::CallerWaits(self.duration(inner.next()?), span),
            Rule::agents_stmt => TestStmt::AgentsAnswerAfter(self.duration(inner.next()?), span),
            Rule::agent_stmt => TestStmt::AgentDoesNotAnswer(self.party(inner.next()?)?, span),
            _ => return None,
        })
    }

    /// An agent id or an extension number (the `party` rule).
    fn party(&self, pair: Pair<'_, Rule>) -> Option<Name> {
        pair.into_inner().next().map(|p| self.name(p))
    }

    fn record(&self, pair: Pair<'_, Rule>) -> Record {
        let span = self.span(&pair);
        let mut fields = Vec::new();
        for p in pair
            .into_inner()
            .filter(|p| p.as_rule() == Rule::record_field)
        {
            let mut it = p.into_inner();
            if let (Some(n), Some(v)) = (it.next(), it.next()) {
                fields.push((self.name(n), self.value(v)));
            }
        }
        Record { fields, span }
    }

    fn value(&self, pair: Pair<'_, Rule>) -> Value {
        let span = self.span(&pair);
        let Some(v) = pair.into_inner().next() else {
            return Value::List(Vec::new(), span);
        };
        match v.as_rule() {
            Rule::date => Value::Date(self.date(v)),
            Rule::time => Value::Time(self.time(v)),
            Rule::duration => Value::Duration(self.duration(v)),
            Rule::int => Value::Int(self.int(v)),
            Rule::string => Value::Str(self.string(v)),
            Rule::bool_lit => Value::Bool(v.as_str() == "true", span),
            Rule::value_list => Value::List(
                v.into_inner()
                    .filter(|p| p.as_rule() == Rule::value)
                    .map(|p| self.value(p))
                    .collect(),
                span,
            ),
            _ => Value::Word(self.name(v)),
        }
    }

    /// Builds an expression after checking its size against the limits.
    fn top_expr(&mut self, pair: Pair<'_, Rule>) -> Expr {
        let span = self.span(&pair);
        // Every token takes at least a byte, so only long text needs counting.
        let tokens = if pair.as_str().len() > MAX_EXPR_TOKENS {
            pair.clone().into_inner().flatten().count()
        } else {
            0
        };
        if tokens > MAX_EXPR_TOKENS {
            self.diagnostics.push(
                Diagnostic::new(Code::TooComplex, self.file, span, format!("this expression has {tokens} parts"))
                    .label("too long")
                    .help(format!(
                        "an expression may have at most {MAX_EXPR_TOKENS} parts; split it into several rules"
                    )),
            );
            return Expr {
                kind: ExprKind::Error,
                span,
            };
        }
        self.expr(pair)
    }

    fn expr(&self, pair: Pair<'_, Rule>) -> Expr {
        self.pratt(pair.into_inner())
    }

    fn pratt(&self, pairs: Pairs<'_, Rule>) -> Expr {
        PRATT
            .map_primary(|p| self.primary(p))
            .map_prefix(|op, rhs| {
                let span = self.span(&op).to(rhs.span);
                let kind = if op.as_rule() == Rule::op_not {
                    ExprKind::Not(Box::new(rhs))
                } else {
                    ExprKind::Neg(Box::new(rhs))
                };
                Expr { kind, span }
            })
            .map_postfix(|lhs, op| {
                let span = lhs.span.to(self.span(&op));
                let rule = op.as_rule();
                let mut inner = op.into_inner().filter(|p| !is_keyword(p.as_rule()));
                let subject = Box::new(lhs);
                let kind = match (rule, inner.next()) {
                    (Rule::field, Some(w)) => ExprKind::Field {
                        base: subject,
                        field: self.name(w),
                    },
                    (Rule::op_matches, Some(s)) => ExprKind::Matches {
                        subject,
                        pattern: self.string(s),
                    },
                    (Rule::op_starts_with, Some(s)) => ExprKind::StartsWith {
                        subject,
                        prefix: self.string(s),
                    },
                    (Rule::op_in, Some(list)) => {
                        let list_span = self.span(&list);
                        ExprKind::In {
                            subject,
                            list: list
                                .into_inner()
                                .filter(|p| p.as_rule() == Rule::expr)
                                .map(|p| self.expr(p))
                                .collect(),
                            list_span,
                        }
                    }
                    _ => ExprKind::Error,
                };
                Expr { kind, span }
            })
            .map_infix(|lhs, op, rhs| {
                let span = lhs.span.to(rhs.span);
                let op = match op.as_rule() {
                    Rule::op_or => BinOp::Or,
                    Rule::op_and => BinOp::And,
                    Rule::op_eq => BinOp::Eq,
                    Rule::op_ne => BinOp::Ne,
                    Rule::op_lt => BinOp::Lt,
                    Rule::op_le => BinOp::Le,
                    Rule::op_gt => BinOp::Gt,
                    Rule::op_ge => BinOp::Ge,
                    Rule::op_add => BinOp::Add,
                    Rule::op_sub => BinOp::Sub,
                    Rule::op_mul => BinOp::Mul,
                    Rule::op_div => BinOp::Div,
                    _ => BinOp::Rem,
                };
                Expr {
                    kind: ExprKind::Binary {
                        op,
                        lhs: Box::new(lhs),
                        rhs: Box::new(rhs),
                    },
                    span,
                }
            })
            .parse(pairs)
    }

    fn primary(&self, pair: Pair<'_, Rule>) -> Expr {
        let span = self.span(&pair);
        let kind = match pair.as_rule() {
            Rule::paren => {
                return pair
                    .into_inner()
                    .find(|p| p.as_rule() == Rule::expr)
                    .map(|p| {
                        let mut e = self.expr(p);
                        e.span = span;
                        e
                    })
                    .unwrap_or(Expr {
                        kind: ExprKind::Error,
                        span,
                    });
            }
            Rule::known_expr => match pair.into_inner().find(|p| p.as_rule() == Rule::ident) {
                Some(p) => ExprKind::Known(self.name(p)),
                None => ExprKind::Error,
            },
            Rule::call => {
                let mut inner = pair.into_inner();
                match inner.next() {
                    Some(f) => ExprKind::Call {
                        func: self.name(f),
                        args: inner
                            .filter(|p| p.as_rule() == Rule::expr)
                            .map(|p| self.expr(p))
                            .collect(),
                    },
                    None => ExprKind::Error,
                }
            }
            Rule::date => ExprKind::Date(self.date(pair)),
            Rule::time => ExprKind::Time(self.time(pair)),
            Rule::duration => ExprKind::Duration(self.duration(pair)),
            Rule::int => ExprKind::Int(self.int(pair)),
            Rule::string => ExprKind::Str(self.string(pair)),
            Rule::bool_lit => ExprKind::Bool(pair.as_str() == "true"),
            Rule::withheld => ExprKind::Builtin(Builtin::Withheld),
            Rule::builtin => ExprKind::Builtin(match pair.as_str() {
                "caller" => Builtin::Caller,
                "dialed" => Builtin::Dialed,
                "now" => Builtin::Now,
                "digits" => Builtin::Digits,
                _ => Builtin::Agent,
            }),
            Rule::ident => ExprKind::Name(self.name(pair)),
            _ => ExprKind::Error,
        };
        Expr { kind, span }
    }
}

/// Keyword and arrow pairs carry no information beyond their position, so
/// most builders skip them.
fn is_keyword(rule: Rule) -> bool {
    static KEYWORDS: LazyLock<Vec<bool>> = LazyLock::new(|| {
        let size = Rule::all_rules()
            .iter()
            .map(|&r| r as usize + 1)
            .max()
            .unwrap_or(0);
        let mut table = vec![false; size];
        for &r in Rule::all_rules() {
            table[r as usize] = r == Rule::arrow || format!("{r:?}").starts_with("kw_");
        }
        table
    });
    KEYWORDS.get(rule as usize).copied().unwrap_or(false)
}

/// The keyword and name a broken declaration starts with (`queue billing {`).
fn broken_declaration(text: &str, start: usize, end: usize) -> Option<Broken> {
    let chunk = &text[start..end];
    let body = chunk.trim_start();
    let offset = start + (chunk.len() - body.len());
    let word_len = body
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(body.len());
    let keyword = &body[..word_len];
    if !super::scan::TOP_LEVEL.contains(&keyword) {
        return None;
    }
    let rest = &body[word_len..];
    let name_text = rest.trim_start();
    let name_start = offset + word_len + (rest.len() - name_text.len());
    let name_len = name_text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(name_text.len());
    let name = (name_len > 0
        && name_text.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_'))
    .then(|| Name {
        text: name_text[..name_len].to_string(),
        span: Span::new(name_start, name_start + name_len),
    });
    Some(Broken {
        keyword: keyword.to_string(),
        name,
    })
}
