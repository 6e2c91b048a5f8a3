//! Skills, lookups, queues, hunt groups, menus and entries.

use super::actions::Context;
use super::expr::Scope;
use super::{Checker, Kind, SourceInfo, options_help};
use crate::checked::{
    self, Announcement, Field, GroupMode, LookupKey, Presentation, QueueStep, SkillId, SkillKind,
    StepKind, Strategy, Type,
};
use crate::diagnostic::{Code, Diagnostic};
use crate::lookup::read::{self as lookup, CsvTable};
use crate::number;
use crate::source::{FileId, Loc, Span};
use crate::syntax::ast;
use std::collections::HashMap;

/// Most values an enumerated skill may have (agents hold them as a bit set).
pub const MAX_SKILL_VALUES: usize = 64;

/// Most rows of one lookup source reported as not fitting.
pub const MAX_ROW_REPORTS: usize = 10;

/// Default ring time per agent for `ring ... then next`.
pub const DEFAULT_RING_MS: i64 = 20_000;

impl Checker<'_> {
    pub(super) fn skill(&mut self, file: FileId, s: &ast::Skill) {
        let kind = match &s.values {
            None => SkillKind::Level,
            Some(values) => {
                let mut names: Vec<String> = Vec::new();
                for v in values {
                    if let Some(first) = values.iter().find(|w| {
                        w.text == v.text && w.span != v.span && w.span.start < v.span.start
                    }) {
                        self.push(
                            Diagnostic::new(
                                Code::DuplicateDeclaration,
                                file,
                                v.span,
                                format!("skill `{}` lists `{}` twice", s.name.text, v.text),
                            )
                            .label("listed again")
                            .with(Loc::new(file, first.span), "first listed here")
                            .help("remove the repeated value"),
                        );
                        continue;
                    }
                    names.push(v.text.clone());
                }
                if names.len() > MAX_SKILL_VALUES {
                    self.push(
                        Diagnostic::new(Code::OutOfRange, file, s.span, format!("skill `{}` has {} values", s.name.text, names.len()))
                            .label(format!("more than {MAX_SKILL_VALUES}"))
                            .help(format!("an enumerated skill has at most {MAX_SKILL_VALUES} values; split it into several skills")),
                    );
                    names.truncate(MAX_SKILL_VALUES);
                }
                SkillKind::Values(names)
            }
        };
        self.program.skills.push(checked::Skill {
            name: s.name.text.clone(),
            loc: Loc::new(file, s.name.span),
            kind,
        });
    }

    pub(super) fn lookup(&mut self, file: FileId, l: &ast::Lookup) {
        let loc = Loc::new(file, l.name.span);
        let key = match l.key.text.as_str() {
            "caller" => LookupKey::Caller,
            "dialed" => LookupKey::Dialed,
            "digits" => LookupKey::Digits,
            other => {
                self.push(
                    Diagnostic::new(
                        Code::UnknownOption,
                        file,
                        l.key.span,
                        format!("a lookup cannot be keyed by `{other}`"),
                    )
                    .label("unknown key")
                    .help(options_help(other, &["caller", "dialed", "digits"])),
                );
                LookupKey::Caller
            }
        };
        let is_csv = l.source.value.to_ascii_lowercase().ends_with(".csv");
        let is_db = [".sqlite", ".sqlite3", ".db"]
            .iter()
            .any(|e| l.source.value.to_ascii_lowercase().ends_with(e));
        if !is_csv && !is_db {
            self.push(
                Diagnostic::new(
                    Code::UnknownOption,
                    file,
                    l.source.span,
                    format!(
                        "`{}` is neither a CSV file nor a SQLite database",
                        l.source.value
                    ),
                )
                .label("unknown source kind")
                .help("name a `.csv` file, or a `.sqlite`/`.db` database with `table \"name\"`"),
            );
        } else if is_db && l.table.is_none() {
            self.push(
                Diagnostic::new(
                    Code::LookupSource,
                    file,
                    l.source.span,
                    "a SQLite lookup needs a table",
                )
                .label("which table?")
                .help(format!(
                    "add `table \"name\"` after `from \"{}\"`",
                    l.source.value
                )),
            );
        } else if is_csv && let Some(t) = &l.table {
            self.push(
                Diagnostic::new(Code::LookupSource, file, t.span, "a CSV file has no tables")
                    .label("not used")
                    .help("remove `table`; a CSV file holds one table"),
            );
        }
        let mut fields: Vec<Field> = Vec::new();
        for f in &l.fields {
            let floc = Loc::new(file, f.name.span);
            if let Some(previous) = fields.iter().find(|p| p.name == f.name.text) {
                let previous = previous.loc;
                self.push(
                    Diagnostic::at(
                        Code::DuplicateDeclaration,
                        floc,
                        format!("lookup `{}` declares `{}` twice", l.name.text, f.name.text),
                    )
                    .label("declared again")
                    .with(previous, "first declared here")
                    .help("remove one of the two fields"),
                );
                continue;
            }
            let ty = match f.ty.text.as_str() {
                "bool" => Type::Bool,
                "int" => Type::Int,
                "duration" => Type::Duration,
                "text" => Type::Text,
                "phone" => Type::Phone,
                "time" => Type::Time,
                "date" => Type::Date,
                other => match self.names.get(Kind::Skill, other) {
                    Some(id)
                        if matches!(
                            self.program.skills.get(id as usize).map(|s| &s.kind),
                            Some(SkillKind::Values(_))
                        ) =>
                    {
                        self.refer(Kind::Skill, id);
                        Type::Enum(SkillId(id))
                    }
                    _ => {
                        let mut options =
                            vec!["bool", "int", "duration", "text", "phone", "time", "date"];
                        let enums: Vec<String> = self
                            .program
                            .skills
                            .iter()
                            .filter(|s| matches!(s.kind, SkillKind::Values(_)))
                            .map(|s| s.name.clone())
                            .collect();
                        options.extend(enums.iter().map(String::as_str));
                        self.push(
                            Diagnostic::new(
                                Code::UnknownOption,
                                file,
                                f.ty.span,
                                format!("`{other}` is not a field type"),
                            )
                            .label("unknown type")
                            .help(options_help(other, &options)),
                        );
                        Type::Error
                    }
                },
            };
            fields.push(Field {
                name: f.name.text.clone(),
                ty,
                loc: floc,
            });
        }
        self.lookup_source(file, l, &fields);
        self.program.lookups.push(checked::Lookup {
            name: l.name.text.clone(),
            loc,
            key,
            source: l.source.value.clone(),
            file,
            table: l.table.as_ref().map(|t| t.value.clone()),
            fields,
            country: self.country_of(file),
        });
    }

    /// D3026 when the source is missing or its rows do not fit the fields.
    fn lookup_source(&mut self, file: FileId, l: &ast::Lookup, fields: &[Field]) {
        let options = self.options;
        let Some(info) = options.lookup_sources.get(&(file, l.source.value.clone())) else {
            return;
        };
        match info {
            SourceInfo::Missing => self.push(
                Diagnostic::new(
                    Code::LookupSource,
                    file,
                    l.source.span,
                    format!("`{}` does not exist", l.source.value),
                )
                .label("file not found")
                .help("the path is relative to the file that declares the lookup"),
            ),
            SourceInfo::Unreadable(why) => self.push(
                Diagnostic::new(
                    Code::LookupSource,
                    file,
                    l.source.span,
                    format!("`{}` cannot be read", l.source.value),
                )
                .label(why.clone())
                .help("check the file's permissions and that it is UTF-8 text"),
            ),
            SourceInfo::Csv(csv_file, table) => self.lookup_rows(file, l, fields, *csv_file, table),
            SourceInfo::Database => {}
        }
    }

    /// D3026 for CSV columns that are missing and rows whose cells do not
    /// parse as their field's type, at most [`MAX_ROW_REPORTS`] per lookup.
    fn lookup_rows(
        &mut self,
        file: FileId,
        l: &ast::Lookup,
        fields: &[Field],
        csv_file: FileId,
        table: &CsvTable,
    ) {
        let source = l.source.value.as_str();
        let header = table.columns.join(",");
        let mut columns: Vec<Option<usize>> = Vec::with_capacity(fields.len());
        for f in fields {
            let index = table
                .columns
                .iter()
                .skip(1)
                .position(|c| *c == f.name)
                .map(|i| i + 1);
            if index.is_none() {
                self.push(
                    Diagnostic::at(Code::LookupSource, f.loc, format!("`{source}` has no column `{}`", f.name))
                        .label("no such column")
                        .help(format!("the header is `{header}`; the first column is the key, the others are matched to fields by name")),
                );
            }
            columns.push(index);
        }
        let key = match l.key.text.as_str() {
            "dialed" => LookupKey::Dialed,
            "digits" => LookupKey::Digits,
            _ => LookupKey::Caller,
        };
        let mut reports = 0;
        let mut keys: HashMap<String, u64> = HashMap::new();
        let country = self.country_of(file);
        // National keys: the first row with one, and how many there are.
        let mut national: Option<(Loc, String)> = None;
        let mut national_rows = 0;
        for row in &table.rows {
            if key != LookupKey::Digits
                && let Some(Ok(k)) = row
                    .cells
                    .first()
                    .map(|k| lookup::parse_key_in(key, k, country))
                && number::looks_national(&k)
            {
                national_rows += 1;
                national.get_or_insert((Loc::new(csv_file, row.span), k));
            }
        }
        if let Some((at, k)) = national {
            let what = format!("key of lookup `{}`", l.name.text);
            self.national_rows(file, at, &k, &what, national_rows - 1);
        }
        for row in &table.rows {
            if reports >= MAX_ROW_REPORTS {
                break;
            }
            let at = Loc::new(csv_file, row.span);
            let mut problems: Vec<String> = Vec::new();
            if row.cells.len() != table.columns.len() {
                problems.push(format!(
                    "it has {} cells, the header has {}",
                    row.cells.len(),
                    table.columns.len()
                ));
            }
            match row
                .cells
                .first()
                .map(|k| lookup::parse_key_in(key, k, country))
            {
                Some(Ok(k)) => {
                    if let Some(first) = keys.insert(k.clone(), row.line) {
                        problems.push(format!("its key {k} is already on line {first}"));
                    }
                }
                Some(Err(why)) => problems.push(format!("its key: {why}")),
                None => {}
            }
            for (f, index) in fields.iter().zip(&columns) {
                if f.ty == Type::Error {
                    continue;
                }
                let Some(cell) = index.and_then(|i| row.cells.get(i)) else {
                    continue;
                };
                let values = match &f.ty {
                    Type::Enum(s) => match &self.program.skill(*s).kind {
                        SkillKind::Values(v) => Some(v.clone()),
                        SkillKind::Level => None,
                    },
                    _ => None,
                };
                if let Err(why) = lookup::parse_cell(&f.ty, cell, values.as_deref()) {
                    problems.push(format!("`{}`: {why}", f.name));
                }
            }
            if problems.is_empty() {
                continue;
            }
            reports += 1;
            self.push(
                Diagnostic::at(
                    Code::LookupSource,
                    at,
                    format!(
                        "line {} of `{source}` does not fit lookup `{}`",
                        row.line, l.name.text
                    ),
                )
                .label(problems.join("; "))
                .with(Loc::new(file, l.name.span), "the lookup is declared here")
                .help("each row needs a key and one value per field, of the field's type"),
            );
        }
    }

    pub(super) fn queue(&mut self, file: FileId, q: &ast::Queue) -> checked::Queue {
        let loc = Loc::new(file, q.name.span);
        let mut seen: Vec<(&'static str, Span)> = Vec::new();
        let mut strategy = None;
        let mut require = None;
        let mut prefer = None;
        let mut score = None;
        let mut presentation = None;
        let mut wrapup_ms = 0;
        let mut announcements = Vec::new();
        let mut announce_every_ms = None;
        let mut music = None;
        let mut steps: Vec<QueueStep> = Vec::new();
        let mut no_agents = None;
        let mut pause_after_misses = None;
        let mut require_skills: Vec<SkillId> = Vec::new();
        let mut score_skills = Vec::new();
        for stmt in &q.stmts {
            match stmt {
                ast::QueueStmt::Strategy(name) => {
                    self.once(file, &mut seen, "strategy", name.span, &q.name.text);
                    match Strategy::ALL.into_iter().find(|s| s.name() == name.text) {
                        Some(s) => strategy = Some((s, name.span)),
                        None => {
                            let options: Vec<&str> =
                                Strategy::ALL.iter().map(|s| s.name()).collect();
                            self.push(
                                Diagnostic::new(
                                    Code::UnknownOption,
                                    file,
                                    name.span,
                                    format!("`{}` is not a queue strategy", name.text),
                                )
                                .label("unknown strategy")
                                .help(options_help(&name.text, &options)),
                            );
                        }
                    }
                }
                ast::QueueStmt::Require(e) => {
                    self.once(file, &mut seen, "require", e.span, &q.name.text);
                    let mut scope = Scope::agent();
                    require = Some(self.expect_expr(file, e, &mut scope, Type::Bool, "`require`"));
                    require_skills.extend(scope.skills_read.iter().map(|s| s.0));
                }
                ast::QueueStmt::Prefer(e) => {
                    self.once(file, &mut seen, "prefer", e.span, &q.name.text);
                    let mut scope = Scope::agent();
                    prefer = Some(self.expect_expr(file, e, &mut scope, Type::Bool, "`prefer`"));
                }
                ast::QueueStmt::Score(e) => {
                    self.once(file, &mut seen, "score", e.span, &q.name.text);
                    let mut scope = Scope::agent();
                    score = Some((
                        self.expect_expr(file, e, &mut scope, Type::Int, "`score`"),
                        e.span,
                    ));
                    score_skills = scope.skills_read;
                }
                ast::QueueStmt::Ring(ring) => {
                    let span = match ring {
                        ast::Ring::Next { span, .. }
                        | ast::Ring::All { span, .. }
                        | ast::Ring::AutoAnswer { span } => *span,
                    };
                    self.once(file, &mut seen, "ring", span, &q.name.text);
                    presentation = match ring {
                        ast::Ring::Next { timeout, .. } => self
                            .positive_duration(file, timeout, "a ring time")
                            .map(|ms| (Presentation::OneByOne { timeout_ms: ms }, span)),
                        ast::Ring::All { timeout, .. } => self
                            .positive_duration(file, timeout, "a ring time")
                            .map(|ms| (Presentation::All { timeout_ms: ms }, span)),
                        ast::Ring::AutoAnswer { .. } => Some((Presentation::AutoAnswer, span)),
                    };
                }
                ast::QueueStmt::Wrapup(d) => {
                    self.once(file, &mut seen, "wrapup", d.span, &q.name.text);
                    wrapup_ms = self.duration_ms(file, d).unwrap_or(0);
                }
                ast::QueueStmt::Announce { items, every, span } => {
                    self.once(file, &mut seen, "announce", *span, &q.name.text);
                    for item in items {
                        match item {
                            ast::Announcement::Word(w) if w.text == "position" => {
                                announcements.push(Announcement::Position)
                            }
                            ast::Announcement::Word(w) if w.text == "wait" => {
                                announcements.push(Announcement::Wait)
                            }
                            ast::Announcement::Word(w) => self.push(
                                Diagnostic::new(
                                    Code::UnknownOption,
                                    file,
                                    w.span,
                                    format!("`{}` is not something a queue can announce", w.text),
                                )
                                .label("unknown announcement")
                                .help(format!(
                                    "{}; a prompt to play is written as a string",
                                    options_help(&w.text, &["position", "wait"])
                                )),
                            ),
                            ast::Announcement::Prompt(p) => {
                                let name = self.prompt(file, p);
                                announcements.push(Announcement::Prompt(name));
                            }
                        }
                    }
                    announce_every_ms =
                        self.positive_duration(file, every, "the announcement period");
                }
                ast::QueueStmt::Music(m) => {
                    self.once(file, &mut seen, "music", m.span, &q.name.text);
                    music = Some(self.prompt(file, m));
                }
                ast::QueueStmt::Relax {
                    after,
                    require,
                    span,
                } => {
                    let mut scope = Scope::agent();
                    let e = self.expect_expr(
                        file,
                        require,
                        &mut scope,
                        Type::Bool,
                        "a relaxed `require`",
                    );
                    require_skills.extend(scope.skills_read.iter().map(|s| s.0));
                    if let Some(ms) = self.positive_duration(file, after, "a step's wait") {
                        steps.push(QueueStep {
                            after_ms: ms,
                            kind: StepKind::Relax(e),
                            loc: Loc::new(file, *span),
                        });
                    }
                }
                ast::QueueStmt::Overflow {
                    after,
                    actions,
                    span,
                } => {
                    let a = self.actions(file, actions, Context::Queue);
                    if let Some(ms) = self.positive_duration(file, after, "a step's wait") {
                        steps.push(QueueStep {
                            after_ms: ms,
                            kind: StepKind::Overflow(a),
                            loc: Loc::new(file, *span),
                        });
                    }
                }
                ast::QueueStmt::NoAgents { actions, span } => {
                    self.once(file, &mut seen, "no agents", *span, &q.name.text);
                    no_agents = Some(self.actions(file, actions, Context::Queue));
                }
                ast::QueueStmt::PauseAfter { misses, span } => {
                    self.once(file, &mut seen, "pause after", *span, &q.name.text);
                    match misses.value {
                        Some(n @ 1..=100) => pause_after_misses = Some(n as u32),
                        _ => self.push(
                            Diagnostic::new(
                                Code::OutOfRange,
                                file,
                                misses.span,
                                "the number of missed calls must be from 1 to 100",
                            )
                            .label("out of range")
                            .help("agents who miss this many offered calls in a row are paused"),
                        ),
                    }
                }
            }
        }
        self.step_order(&steps, &q.name.text);
        let strategy_span = strategy.map(|s| s.1);
        let strategy = strategy.map_or(Strategy::default(), |s| s.0);
        let presentation = self.presentation(
            file,
            &q.name.text,
            strategy,
            strategy_span,
            presentation,
            score.as_ref().map(|s| s.1),
        );
        if score.is_some() {
            for (skill, at) in &score_skills {
                if !require_skills.contains(skill) {
                    let name = self.program.skill(*skill).name.clone();
                    self.push(
                        Diagnostic::at(Code::ScoreSkillNotRequired, *at, format!("`score` uses skill `{name}`, which queue `{}` does not require", q.name.text))
                            .label("not required")
                            .help(format!("agents without `{name}` score it as 0; add it to `require` (for example `require ... and {name} >= 1`) or drop it from `score`")),
                    );
                }
            }
        }
        checked::Queue {
            name: q.name.text.clone(),
            loc,
            strategy,
            require,
            prefer,
            score: score.map(|s| s.0),
            presentation,
            wrapup_ms,
            announcements,
            announce_every_ms,
            music,
            steps,
            no_agents,
            pause_after_misses,
        }
    }

    /// D3017 for settings that contradict each other; returns the presentation.
    fn presentation(
        &mut self,
        file: FileId,
        queue: &str,
        strategy: Strategy,
        strategy_span: Option<Span>,
        presentation: Option<(Presentation, Span)>,
        score: Option<Span>,
    ) -> Presentation {
        let conflict =
            |this: &mut Self, at: Span, other: Option<Span>, message: String, help: &str| {
                let mut d = Diagnostic::new(Code::StrategyConflict, file, at, message)
                    .label("conflicts")
                    .help(help);
                if let Some(o) = other {
                    d = d.with(Loc::new(file, o), "set here");
                }
                this.push(d);
            };
        match (strategy, score) {
            (Strategy::BestScore, None) => {
                let at = strategy_span.unwrap_or_default();
                conflict(
                    self,
                    at,
                    None,
                    format!("queue `{queue}` uses `best_score` but has no `score`"),
                    "add a `score` expression, such as `score billing * 10 + agent.idle_minutes`",
                );
            }
            (s, Some(at)) if s != Strategy::BestScore => {
                conflict(
                    self,
                    at,
                    strategy_span,
                    format!(
                        "queue `{queue}` has a `score`, but only `strategy best_score` uses it"
                    ),
                    "set `strategy best_score`, or remove `score`",
                );
            }
            _ => {}
        }
        match (strategy, presentation) {
            (
                Strategy::RingAll,
                Some((Presentation::OneByOne { .. } | Presentation::AutoAnswer, at)),
            ) => {
                conflict(
                    self,
                    at,
                    strategy_span,
                    format!(
                        "queue `{queue}` rings all agents at once, so it cannot present calls one at a time"
                    ),
                    "write `ring all 25s`, or choose another strategy",
                );
                Presentation::All {
                    timeout_ms: DEFAULT_RING_MS,
                }
            }
            (Strategy::RingAll, None) => Presentation::All {
                timeout_ms: DEFAULT_RING_MS,
            },
            (_, Some((p, _))) => p,
            (_, None) => Presentation::OneByOne {
                timeout_ms: DEFAULT_RING_MS,
            },
        }
    }

    /// D3010 for steps out of time order, D4007 for steps after an overflow.
    fn step_order(&mut self, steps: &[QueueStep], queue: &str) {
        for pair in steps.windows(2) {
            let (a, b) = (&pair[0], &pair[1]);
            if b.after_ms <= a.after_ms {
                self.push(
                    Diagnostic::at(
                        Code::RelaxationOrder,
                        b.loc,
                        format!("the steps of queue `{queue}` are out of time order"),
                    )
                    .label(format!("after {} ...", ms_text(b.after_ms)))
                    .with(
                        a.loc,
                        format!("... comes after a step at {}", ms_text(a.after_ms)),
                    )
                    .help("list `after` steps in increasing time, each later than the one before"),
                );
                return;
            }
        }
        if let Some(i) = steps
            .iter()
            .position(|s| matches!(s.kind, StepKind::Overflow(_)))
            && let Some(late) = steps.get(i + 1)
        {
            self.push(
                Diagnostic::at(
                    Code::UnreachableQueueStep,
                    late.loc,
                    "this step never happens",
                )
                .label("the call has already left the queue")
                .with(steps[i].loc, "the call overflows here")
                .help("move the overflow step last, or remove the steps after it"),
            );
        }
    }

    /// D3025 when a setting appears twice in one declaration.
    pub(super) fn once(
        &mut self,
        file: FileId,
        seen: &mut Vec<(&'static str, Span)>,
        setting: &'static str,
        span: Span,
        owner: &str,
    ) {
        if let Some(&(_, first)) = seen.iter().find(|(s, _)| *s == setting) {
            self.push(
                Diagnostic::new(
                    Code::DuplicateSetting,
                    file,
                    span,
                    format!("`{setting}` is set twice in `{owner}`"),
                )
                .label("set again")
                .with(Loc::new(file, first), "first set here")
                .help("keep one; combine conditions with `and` / `or` if both were meant"),
            );
        } else {
            seen.push((setting, span));
        }
    }

    pub(super) fn group(&mut self, file: FileId, g: &ast::Group) -> checked::Group {
        let loc = Loc::new(file, g.name.span);
        let mut seen = Vec::new();
        let mut members: Vec<String> = Vec::new();
        let mut mode = GroupMode::default();
        let mut timeout_ms = DEFAULT_RING_MS;
        let mut then = None;
        for stmt in &g.stmts {
            match stmt {
                ast::GroupStmt::Members(list, span) => {
                    self.once(file, &mut seen, "members", *span, &g.name.text);
                    for m in list {
                        if let Some(first) = list
                            .iter()
                            .find(|o| o.text == m.text && o.span.start < m.span.start)
                        {
                            self.push(
                                Diagnostic::new(
                                    Code::GroupMembers,
                                    file,
                                    m.span,
                                    format!(
                                        "extension {} is listed twice in group `{}`",
                                        m.text, g.name.text
                                    ),
                                )
                                .label("listed again")
                                .with(Loc::new(file, first.span), "first listed here")
                                .help("list each member once; the order sets who rings first"),
                            );
                            continue;
                        }
                        members.push(m.text.clone());
                    }
                }
                ast::GroupStmt::Mode {
                    mode: m,
                    timeout,
                    span,
                } => {
                    self.once(file, &mut seen, "mode", *span, &g.name.text);
                    match GroupMode::ALL.into_iter().find(|x| x.name() == m.text) {
                        Some(x) => mode = x,
                        None => {
                            let options: Vec<&str> =
                                GroupMode::ALL.iter().map(|x| x.name()).collect();
                            self.push(
                                Diagnostic::new(
                                    Code::UnknownOption,
                                    file,
                                    m.span,
                                    format!("`{}` is not a hunt group mode", m.text),
                                )
                                .label("unknown mode")
                                .help(options_help(&m.text, &options)),
                            );
                        }
                    }
                    if let Some(ms) = self.positive_duration(file, timeout, "a ring time") {
                        timeout_ms = ms;
                    }
                }
                ast::GroupStmt::Then(actions, span) => {
                    self.once(file, &mut seen, "then", *span, &g.name.text);
                    then = Some(self.actions(file, actions, Context::Group));
                }
            }
        }
        if members.is_empty() && !seen.iter().any(|(s, _)| *s == "members") {
            self.push(
                Diagnostic::at(
                    Code::GroupMembers,
                    loc,
                    format!("group `{}` has no members", g.name.text),
                )
                .label("nobody to ring")
                .help("add `members 1001, 1002` with the extensions to ring"),
            );
        }
        checked::Group {
            name: g.name.text.clone(),
            loc,
            members,
            mode,
            timeout_ms,
            then,
        }
    }

    pub(super) fn menu(&mut self, file: FileId, m: &ast::Menu) -> checked::Menu {
        let loc = Loc::new(file, m.name.span);
        let mut seen = Vec::new();
        let mut menu = checked::Menu {
            name: m.name.text.clone(),
            loc,
            prompt: None,
            timeout_ms: 5_000,
            digit_timeout_ms: 2_000,
            retries: 2,
            keys: Vec::new(),
            collect: None,
            invalid: None,
            on_timeout: None,
            exhausted: None,
        };
        let owner = m.name.text.as_str();
        for stmt in &m.stmts {
            match stmt {
                ast::MenuStmt::Prompt(p) => {
                    self.once(file, &mut seen, "prompt", p.span, owner);
                    menu.prompt = Some(self.prompt(file, p));
                }
                ast::MenuStmt::Timeout(d) => {
                    self.once(file, &mut seen, "timeout", d.span, owner);
                    if let Some(ms) = self.positive_duration(file, d, "a menu timeout") {
                        menu.timeout_ms = ms;
                    }
                }
                ast::MenuStmt::DigitTimeout(d) => {
                    self.once(file, &mut seen, "digit timeout", d.span, owner);
                    if let Some(ms) = self.positive_duration(file, d, "a digit timeout") {
                        menu.digit_timeout_ms = ms;
                    }
                }
                ast::MenuStmt::Retries(n, exhausted) => {
                    self.once(file, &mut seen, "retries", n.span, owner);
                    if let Some(actions) = exhausted {
                        menu.exhausted = Some(self.actions(file, actions, Context::Menu));
                    }
                    match n.value {
                        Some(v @ 0..=10) => menu.retries = v as u32,
                        _ => self.push(
                            Diagnostic::new(
                                Code::OutOfRange,
                                file,
                                n.span,
                                "a menu allows from 0 to 10 retries",
                            )
                            .label("out of range")
                            .help("callers rarely try more than three times; use `retries 3`"),
                        ),
                    }
                }
                ast::MenuStmt::Invalid(actions, span) => {
                    self.once(file, &mut seen, "invalid", *span, owner);
                    menu.invalid = Some(self.actions(file, actions, Context::Menu));
                }
                ast::MenuStmt::OnTimeout(actions, span) => {
                    self.once(file, &mut seen, "timeout ->", *span, owner);
                    menu.on_timeout = Some(self.actions(file, actions, Context::Menu));
                }
                ast::MenuStmt::Collect {
                    min,
                    max,
                    actions,
                    span,
                } => {
                    self.once(file, &mut seen, "collect", *span, owner);
                    let lo = self.digit_count(file, min, "a collected number");
                    let hi = match max {
                        Some(m) => self.digit_count(file, m, "a collected number"),
                        None => lo,
                    };
                    let actions = self.actions(file, actions, Context::Menu);
                    if let (Some(lo), Some(hi)) = (lo, hi) {
                        if hi < lo {
                            self.push(
                                Diagnostic::new(Code::EmptyTimeRange, file, *span, format!("`collect {lo}..{hi} digits` asks for at least {lo} but at most {hi}"))
                                    .label("empty range")
                                    .help("write the smaller count first, such as `collect 6..10 digits`"),
                            );
                        }
                        menu.collect = Some(checked::Collect {
                            min: lo,
                            max: hi.max(lo),
                            actions,
                            loc: Loc::new(file, *span),
                        });
                    }
                }
                ast::MenuStmt::Key { key, actions, .. } => {
                    let actions = self.actions(file, actions, Context::Menu);
                    let key_loc = Loc::new(file, key.span);
                    if !valid_key(&key.text) {
                        self.push(
                            Diagnostic::at(
                                Code::InvalidKey,
                                key_loc,
                                format!("`{}` cannot be pressed on a phone", key.text),
                            )
                            .label("not a keypad key")
                            .help("keys are digits, `*` and `#` (write the pound key as \"#\")"),
                        );
                        continue;
                    }
                    if let Some(first) = menu.keys.iter().find(|k| k.key == key.text) {
                        let first = first.loc;
                        self.push(
                            Diagnostic::at(
                                Code::DuplicateKey,
                                key_loc,
                                format!("menu `{owner}` already has key `{}`", key.text),
                            )
                            .label("key used again")
                            .with(first, "first used here")
                            .help("each key can lead to one place only; pick another key"),
                        );
                        continue;
                    }
                    if let Some(other) = menu
                        .keys
                        .iter()
                        .find(|k| k.key.starts_with(&key.text) || key.text.starts_with(&k.key))
                    {
                        let (short, long) = if other.key.len() < key.text.len() {
                            (&other.key, &key.text)
                        } else {
                            (&key.text, &other.key)
                        };
                        let other_loc = other.loc;
                        self.push(
                            Diagnostic::at(Code::KeyPrefix, key_loc, format!("key `{short}` is a prefix of key `{long}` in menu `{owner}`"))
                                .label("overlapping keys")
                                .with(other_loc, "the other key")
                                .help(format!("a caller pressing `{long}` would be sent on by `{short}` first; use keys of the same length or another first digit")),
                        );
                        continue;
                    }
                    menu.keys.push(checked::MenuKey {
                        key: key.text.clone(),
                        actions,
                        loc: key_loc,
                    });
                }
            }
        }
        if menu.keys.is_empty() && menu.collect.is_none() {
            self.push(
                Diagnostic::at(Code::MenuShape, loc, format!("menu `{owner}` offers no keys"))
                    .label("nothing to press")
                    .help("add keys such as `1 -> queue billing`, or `collect 4 digits -> ...` to read a number"),
            );
        } else if let (Some(c), Some(k)) = (&menu.collect, menu.keys.first()) {
            let (cl, kl) = (c.loc, k.loc);
            self.push(
                Diagnostic::at(Code::MenuShape, kl, format!("menu `{owner}` both collects digits and offers keys"))
                    .label("a key")
                    .with(cl, "digits are collected here")
                    .help("a menu either offers keys or reads a number; move one of them into its own menu"),
            );
        }
        menu
    }

    pub(super) fn entry(&mut self, file: FileId, e: &ast::Entry) -> Option<checked::Entry> {
        let actions = self.actions(file, &e.actions, Context::Entry);
        match self.dial_pattern(file, &e.number) {
            Ok(pattern) => Some(checked::Entry {
                number: e.number.value.clone(),
                pattern,
                actions,
                loc: Loc::new(file, e.number.span),
            }),
            Err(why) => {
                self.push(
                    Diagnostic::new(Code::InvalidNumber, file, e.number.span, format!("`{}` is not a number or dial pattern", e.number.value))
                        .label(why)
                        .help("write an E.164 number such as \"+1 800 555 0100\", or a pattern such as \"+1 800 555 01XX\""),
                );
                None
            }
        }
    }

    /// D3012 for entries that match the same numbers without one being
    /// strictly more specific than the other.
    pub(super) fn entry_collisions(&mut self) {
        let entries = std::mem::take(&mut self.program.entries);
        // A literal number lies inside any pattern that matches it, so only
        // two equal literals, or two overlapping patterns, can collide:
        // literals are compared by hashing, patterns pairwise.
        let mut literals: HashMap<&crate::number::Pattern, usize> = HashMap::new();
        let mut patterns: Vec<usize> = Vec::new();
        for (i, e) in entries.iter().enumerate() {
            if e.pattern.is_literal() {
                match literals.get(&e.pattern) {
                    Some(&first) => self.collision(&entries[first], e, &entries),
                    None => {
                        literals.insert(&e.pattern, i);
                    }
                }
            } else {
                for &p in &patterns {
                    if entries[p].pattern.overlaps(&e.pattern) {
                        self.collision(&entries[p], e, &entries);
                    }
                }
                patterns.push(i);
            }
        }
        self.program.entries = entries;
    }

    /// D3012 for two overlapping entries, unless one is inside the other
    /// or entries more specific than both cover every number they share
    /// (the most specific entry wins, so those decide the shared numbers).
    fn collision(&mut self, a: &checked::Entry, b: &checked::Entry, all: &[checked::Entry]) {
        if a.pattern == b.pattern {
            self.push(
                Diagnostic::at(
                    Code::EntryCollision,
                    b.loc,
                    format!("`{}` is already an entry", b.number),
                )
                .label("same numbers again")
                .with(a.loc, "first entry for these numbers")
                .help("remove one of the two entries; a dialed number must lead to one place"),
            );
        } else if !(a.pattern.is_subset_of(&b.pattern) || b.pattern.is_subset_of(&a.pattern)) {
            let Some(both) = a.pattern.intersection(&b.pattern) else {
                return;
            };
            let inside: Vec<&crate::number::Pattern> = all
                .iter()
                .map(|e| &e.pattern)
                .filter(|p| p.is_subset_of(&both))
                .collect();
            if both.is_covered_by(&inside) {
                return;
            }
            self.push(
                Diagnostic::at(
                    Code::EntryCollision,
                    b.loc,
                    format!("`{}` and `{}` both match numbers such as {}", a.number, b.number, both.example()),
                )
                .label("overlaps")
                .with(a.loc, "the other entry")
                .help(format!("neither pattern is more specific, so the match would be ambiguous; add an entry for the overlap, `entry \"{}\" -> ...`, or narrow one of them", both.spaced_like(&a.number))),
            );
        }
    }
}

/// Digits, `*` and `#`.
pub fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_digit() || c == '*' || c == '#')
}

pub fn ms_text(ms: i64) -> String {
    if ms % 60_000 == 0 && ms >= 60_000 {
        format!("{}m", ms / 60_000)
    } else if ms % 1000 == 0 {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}
