//! `test` blocks: the call, the given lookup rows, queue statistics and
//! agents, the key presses, how the caller and agents behave, and the
//! expected outcome (where the decisions send the call, and what the call
//! runtime does with it).

use super::actions::Context;
use super::decls::valid_key;
use super::{Checker, Kind, options_help};
use crate::checked::{
    self, AgentState, Fallback, GivenAgent, LookupId, MAX_SKILL_LEVEL, Presentation, Press,
    QueueId, QueueStat, Row, RuntimeOutcome, RuntimeTest, SkillId, SkillKind, SkillValue, SwitchId,
    Type, Value,
};
use crate::diagnostic::{Code, Diagnostic, did_you_mean};
use crate::number;
use crate::source::{FileId, Loc};
use crate::syntax::ast;

impl Checker<'_> {
    pub(super) fn test(&mut self, file: FileId, t: &ast::Test) -> Option<checked::Test> {
        let loc = Loc::new(file, t.name.span);
        if let Some(previous) = self.program.tests.iter().find(|p| p.name == t.name.value) {
            let previous = previous.loc;
            self.push(
                Diagnostic::at(
                    Code::DuplicateDeclaration,
                    loc,
                    format!("two tests are named \"{}\"", t.name.value),
                )
                .label("same name again")
                .with(previous, "first test with this name")
                .help("give every test its own name so failures can be told apart"),
            );
        }
        let mut seen = Vec::new();
        let mut call = None;
        let mut presses = Vec::new();
        let mut lookups: Vec<(LookupId, Option<Row>)> = Vec::new();
        let mut queues: Vec<(QueueId, Vec<(QueueStat, Value)>)> = Vec::new();
        let mut switches: Vec<(SwitchId, bool)> = Vec::new();
        let mut agents: Vec<GivenAgent> = Vec::new();
        let mut expect = None;
        let mut runtime = RuntimeLines::default();
        let mut broken = false;
        for stmt in &t.stmts {
            match stmt {
                ast::TestStmt::Call { from, to, at, span } => {
                    self.once(file, &mut seen, "call", *span, &t.name.value);
                    let from = match from {
                        Some(f) => match number::normalize_in(&f.value, self.country_of(file)) {
                            Ok(n) => Some(n),
                            Err(why) => {
                                self.bad_number(Loc::new(file, f.span), &f.value, &why);
                                broken = true;
                                None
                            }
                        },
                        None => None,
                    };
                    let to_number = match number::normalize_in(&to.value, self.country_of(file)) {
                        Ok(n) => Some(n),
                        Err(why) => {
                            self.bad_number(Loc::new(file, to.span), &to.value, &why);
                            broken = true;
                            None
                        }
                    };
                    let at = match at {
                        None => None,
                        Some((date, time, zone)) => {
                            let d = self.date(file, date);
                            let tm = self.time_of_day(file, time, false);
                            let z = match zone {
                                Some(z) => self.timezone(file, z).map(|z| self.intern_zone(z)),
                                None => Some(checked::ZoneId(0)),
                            };
                            match (d, tm, z) {
                                (Some(d), Some(tm), Some(z)) => {
                                    Some((d.at((tm / 60) as i8, (tm % 60) as i8, 0, 0), z))
                                }
                                _ => {
                                    broken = true;
                                    None
                                }
                            }
                        }
                    };
                    if let Some(to_number) = to_number {
                        call = Some((
                            from,
                            to_number,
                            at,
                            Loc::new(file, to.span),
                            at.is_none(),
                            *span,
                        ));
                    }
                }
                ast::TestStmt::Press(keys, _) => {
                    for k in keys {
                        match k {
                            ast::PressKey::Timeout(_) => presses.push(Press::Timeout),
                            ast::PressKey::Keys(k) if valid_key(&k.text) => {
                                presses.push(Press::Keys(k.text.clone()))
                            }
                            ast::PressKey::Keys(k) => {
                                self.push(
                                    Diagnostic::new(Code::InvalidKey, file, k.span, format!("`{}` cannot be pressed on a phone", k.text))
                                        .label("not a keypad key")
                                        .help("press digits, `*` and `#` (written \"#\"), or `timeout` to press nothing"),
                                );
                                broken = true;
                            }
                        }
                    }
                }
                ast::TestStmt::GivenLookup {
                    lookup,
                    record,
                    span,
                } => {
                    let Some(id) = self.resolve(Kind::Lookup, file, lookup) else {
                        broken = true;
                        continue;
                    };
                    let id = LookupId(id);
                    if lookups.iter().any(|(l, _)| *l == id) {
                        self.push(
                            Diagnostic::new(
                                Code::DuplicateSetting,
                                file,
                                *span,
                                format!("lookup `{}` is given twice in this test", lookup.text),
                            )
                            .label("given again")
                            .help("give each lookup one row, or `unknown`"),
                        );
                        continue;
                    }
                    let row = record.as_ref().map(|r| self.lookup_row(file, id, r));
                    lookups.push((id, row));
                }
                ast::TestStmt::GivenQueue { queue, stats, .. } => {
                    let Some(id) = self.resolve(Kind::Queue, file, queue) else {
                        broken = true;
                        continue;
                    };
                    let mut values = Vec::new();
                    for (name, value) in stats {
                        let Some(stat) = QueueStat::ALL.into_iter().find(|s| s.name() == name.text)
                        else {
                            let options: Vec<&str> =
                                QueueStat::ALL.iter().map(|s| s.name()).collect();
                            self.push(
                                Diagnostic::new(
                                    Code::UnknownOption,
                                    file,
                                    name.span,
                                    format!("`{}` is not a queue statistic", name.text),
                                )
                                .label("unknown statistic")
                                .help(options_help(&name.text, &options)),
                            );
                            continue;
                        };
                        if let Some(v) = self.value(file, value, &stat.ty()) {
                            values.push((stat, v));
                        }
                    }
                    queues.push((QueueId(id), values));
                }
                ast::TestStmt::GivenSwitch { switch, state, .. } => {
                    let Some(id) = self.resolve(Kind::Switch, file, switch) else {
                        broken = true;
                        continue;
                    };
                    let on = match state.text.as_str() {
                        "on" => true,
                        "off" => false,
                        other => {
                            self.push(
                                Diagnostic::new(
                                    Code::UnknownOption,
                                    file,
                                    state.span,
                                    format!("a switch is `on` or `off`, not `{other}`"),
                                )
                                .label("on or off?")
                                .help(options_help(other, &["on", "off"])),
                            );
                            broken = true;
                            continue;
                        }
                    };
                    let id = SwitchId(id);
                    if switches.iter().any(|(s, _)| *s == id) {
                        self.push(
                            Diagnostic::new(
                                Code::DuplicateDeclaration,
                                file,
                                switch.span,
                                format!("the test sets switch `{}` twice", switch.text),
                            )
                            .label("set again here")
                            .help("keep one `given switch` line per switch"),
                        );
                        broken = true;
                        continue;
                    }
                    switches.push((id, on));
                }
                ast::TestStmt::GivenAgent {
                    agent,
                    state,
                    extension,
                    skills,
                    span,
                } => {
                    runtime.any = true;
                    let Some(st) = AgentState::ALL.into_iter().find(|s| s.name() == state.text)
                    else {
                        let options: Vec<&str> = AgentState::ALL.iter().map(|s| s.name()).collect();
                        self.push(
                            Diagnostic::new(
                                Code::UnknownOption,
                                file,
                                state.span,
                                format!("`{}` is not an agent state", state.text),
                            )
                            .label("unknown state")
                            .help(options_help(&state.text, &options)),
                        );
                        broken = true;
                        runtime.unplaced.push(agent.text.clone());
                        continue;
                    };
                    let skills = skills
                        .as_ref()
                        .map(|r| self.agent_skills(file, r))
                        .unwrap_or_default();
                    if let Some(first) = agents.iter().find(|a| a.id == agent.text) {
                        let first = first.loc;
                        self.push(
                            Diagnostic::new(
                                Code::DuplicateSetting,
                                file,
                                *span,
                                format!("agent `{}` is given twice in this test", agent.text),
                            )
                            .label("given again")
                            .with(first, "first given here")
                            .help("give each agent one line with their state and skills"),
                        );
                        continue;
                    }
                    if let Some(x) = extension
                        && let Some(first) = agents
                            .iter()
                            .find(|a| a.extension.as_deref() == Some(x.text.as_str()))
                    {
                        let (first, other) = (first.loc, first.id.clone());
                        self.push(
                            Diagnostic::new(
                                Code::DuplicateSetting,
                                file,
                                x.span,
                                format!("extension {} is also agent `{other}`'s", x.text),
                            )
                            .label("extension given again")
                            .with(first, "given here first")
                            .help("give every agent their own extension"),
                        );
                        runtime.unplaced.push(agent.text.clone());
                        continue;
                    }
                    agents.push(GivenAgent {
                        id: agent.text.clone(),
                        state: st,
                        extension: extension.as_ref().map(|x| x.text.clone()),
                        skills,
                        loc: Loc::new(file, *span),
                    });
                }
                ast::TestStmt::Expect(actions, span) => {
                    self.once(file, &mut seen, "expect", *span, &t.name.value);
                    expect = Some(self.actions(file, actions, Context::Test));
                }
                ast::TestStmt::ExpectRuntime(what, span) => {
                    runtime.any = true;
                    let name = &t.name.value;
                    let then = match what {
                        ast::RuntimeExpect::Rings { parties, then } => {
                            self.once(file, &mut seen, "expect rings", *span, name);
                            runtime.rings = Some(parties.clone());
                            then.as_ref().map(|a| (Fallback::AfterRinging, a))
                        }
                        ast::RuntimeExpect::WaitsThen(a) => Some((Fallback::Overflow, a)),
                        ast::RuntimeExpect::NoAgentsThen(a) => Some((Fallback::NoAgents, a)),
                        ast::RuntimeExpect::Answered(by) => {
                            self.once(file, &mut seen, "expect answered", *span, name);
                            runtime.answered = Some((by.clone(), *span));
                            None
                        }
                        ast::RuntimeExpect::Abandoned => {
                            self.once(file, &mut seen, "expect abandoned", *span, name);
                            runtime.abandoned = Some(*span);
                            None
                        }
                    };
                    if let Some((kind, actions)) = then {
                        self.once(file, &mut seen, "expect ... then", *span, name);
                        runtime.then = Some((kind, self.actions(file, actions, Context::Test)));
                    }
                }
                ast::TestStmt::CallerWaits(d, span) => {
                    runtime.any = true;
                    self.once(file, &mut seen, "caller waits", *span, &t.name.value);
                    runtime.patience_ms = self.duration_ms(file, d);
                }
                ast::TestStmt::AgentsAnswerAfter(d, span) => {
                    runtime.any = true;
                    self.once(file, &mut seen, "agents answer after", *span, &t.name.value);
                    runtime.answer_ms = self.duration_ms(file, d).unwrap_or(0);
                }
                ast::TestStmt::AgentDoesNotAnswer(party, _) => {
                    runtime.any = true;
                    runtime.unanswering.push(party.clone());
                }
            }
        }
        let expects_at_runtime = runtime.rings.is_some()
            || runtime.then.is_some()
            || runtime.answered.is_some()
            || runtime.abandoned.is_some();
        let runtime = if runtime.any {
            let to = call.as_ref().map(|c| c.1.clone());
            let checked = self.runtime_lines(file, &agents, runtime, to.as_deref());
            broken |= checked.is_none();
            checked
        } else {
            None
        };
        let Some((from, to, at, to_loc, no_time, call_span)) = call else {
            if !broken {
                self.push(
                    Diagnostic::at(
                        Code::InvalidTest,
                        loc,
                        format!("test \"{}\" places no call", t.name.value),
                    )
                    .label("no `call`")
                    .help(
                        "add `call from \"+15125550100\" to \"+18005550100\" at 2026-11-23 10:00`",
                    ),
                );
            }
            return None;
        };
        let broken_entry = self.broken.iter().any(|(keyword, _)| keyword == "entry");
        if self.program.entry_for(&to).is_none() && !broken_entry {
            let entries: Vec<String> = self
                .program
                .entries
                .iter()
                .take(5)
                .map(|e| format!("\"{}\"", e.pattern.example()))
                .collect();
            self.push(
                Diagnostic::at(Code::InvalidTest, to_loc, format!("no entry answers calls to {to}"))
                    .label("nothing answers this number")
                    .help(if entries.is_empty() {
                        "declare an entry for the number, such as `entry \"+1 800 555 0100\" -> route inbound`".to_string()
                    } else {
                        format!("call a number that an entry answers, such as {}", entries.join(", "))
                    }),
            );
            broken = true;
        }
        if no_time && let Some(uses) = self.first_time_use {
            self.push(
                Diagnostic::new(
                    Code::InvalidTest,
                    file,
                    call_span,
                    "this call has no time, but the script's routing depends on the time",
                )
                .label("add `at`")
                .with(uses, "depends on local time")
                .help("say when the call happens: `call ... at 2026-11-23 10:00`"),
            );
            broken = true;
        }
        if expect.is_none() && !expects_at_runtime {
            self.push(
                Diagnostic::at(
                    Code::InvalidTest,
                    loc,
                    format!("test \"{}\" expects nothing", t.name.value),
                )
                .label("no `expect`")
                .help("say where the call should end up, such as `expect queue billing`, or what happens to it, such as `expect answered by ana`"),
            );
            return None;
        }
        if broken {
            return None;
        }
        Some(checked::Test {
            name: t.name.value.clone(),
            loc,
            from,
            to,
            at,
            presses,
            lookups,
            queues,
            switches,
            agents,
            expect,
            runtime,
        })
    }

    /// Checks a runtime test's lines against its agents: every party named
    /// is a `given agent` of the test (D2001) or an extension number, and
    /// no expectation contradicts the agents' states or another line
    /// (D3027). `None` when something is wrong.
    fn runtime_lines(
        &mut self,
        file: FileId,
        agents: &[GivenAgent],
        lines: RuntimeLines,
        to: Option<&str>,
    ) -> Option<RuntimeTest> {
        let mut ok = true;
        let mut party = |c: &mut Self, name: &ast::Name| -> Option<String> {
            if name.text.bytes().all(|b| b.is_ascii_digit()) {
                return Some(name.text.clone());
            }
            if agents.iter().any(|a| a.id == name.text) {
                return Some(name.text.clone());
            }
            if lines.unplaced.contains(&name.text) {
                // Its `given agent` line is wrong, and already reported.
                ok = false;
                return None;
            }
            let ids: Vec<&str> = agents.iter().map(|a| a.id.as_str()).collect();
            let help = match did_you_mean(&name.text, ids.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None if ids.is_empty() => format!(
                    "place the agent in the test, such as `given agent {} available`",
                    name.text
                ),
                None => format!(
                    "the agents of this test are {}; add `given agent {} available` to place another",
                    super::list(&ids),
                    name.text
                ),
            };
            c.push(
                Diagnostic::new(
                    Code::UnknownName,
                    file,
                    name.span,
                    format!("there is no agent `{}` in this test", name.text),
                )
                .label("not a `given agent` of this test")
                .help(help),
            );
            ok = false;
            None
        };
        let rings: Option<Vec<String>> = lines
            .rings
            .as_ref()
            .map(|names| names.iter().filter_map(|n| party(self, n)).collect());
        let answered = lines
            .answered
            .as_ref()
            .map(|(by, span)| (by.as_ref().and_then(|n| party(self, n)), by, *span));
        let unanswering: Vec<String> = lines
            .unanswering
            .iter()
            .filter_map(|n| party(self, n))
            .collect();
        if !ok {
            return None;
        }
        // An agent who is not available keeps their state for the whole
        // call, so the call can never ring them.
        let never_rung = lines
            .rings
            .iter()
            .flatten()
            .chain(answered.iter().filter_map(|(_, by, _)| by.as_ref()))
            .find_map(|n| {
                let a = agents
                    .iter()
                    .find(|a| a.id == n.text || a.extension.as_deref() == Some(n.text.as_str()))?;
                (a.state != AgentState::Available).then_some((n, a))
            });
        if let Some((n, a)) = never_rung {
            self.push(
                Diagnostic::new(
                    Code::ImpossibleExpectation,
                    file,
                    n.span,
                    format!(
                        "agent `{}` is {} for the whole test, so the call never rings them",
                        a.id,
                        a.state.name()
                    ),
                )
                .label("never rung")
                .with(a.loc, format!("given as {} here", a.state.name()))
                .help("give the agent as `available`, or expect another agent"),
            );
            return None;
        }
        // Whether two parties are one agent (by id or by extension).
        let same = |x: &str, y: &str| {
            x == y
                || agents.iter().any(|a| {
                    let is = |p: &str| a.id == p || a.extension.as_deref() == Some(p);
                    is(x) && is(y)
                })
        };
        // An `auto answer` queue's offer is picked up by the agent's phone,
        // so an agent who does not answer still takes such a call: the two
        // lines contradict each other only when the call cannot reach such
        // a queue.
        let auto_answer = self.may_reach_auto_answer(to);
        if let Some((Some(by), name, span)) = &answered
            && !auto_answer
            && let Some(n) = lines.unanswering.iter().find(|n| same(by, &n.text))
        {
            let at = name.as_ref().map_or(*span, |n| n.span);
            self.push(
                Diagnostic::new(
                    Code::ImpossibleExpectation,
                    file,
                    at,
                    format!("`{by}` is expected to answer, but the test says they do not"),
                )
                .label("expected to answer")
                .with(Loc::new(file, n.span), "does not answer")
                .help("remove one of the two lines"),
            );
            return None;
        }
        if let (Some((_, _, answered)), Some(abandoned)) = (&answered, lines.abandoned) {
            self.push(
                Diagnostic::new(
                    Code::ImpossibleExpectation,
                    file,
                    abandoned,
                    "a call cannot be both answered and abandoned",
                )
                .label("expects the caller to hang up first")
                .with(Loc::new(file, *answered), "expects an answer")
                .help("keep the expectation the test is about"),
            );
            return None;
        }
        let outcome = match (answered, lines.abandoned) {
            (Some((by, _, _)), _) => Some(RuntimeOutcome::Answered(by)),
            (None, Some(_)) => Some(RuntimeOutcome::Abandoned),
            (None, None) => None,
        };
        Some(RuntimeTest {
            rings,
            then: lines.then,
            outcome,
            patience_ms: lines.patience_ms,
            answer_ms: lines.answer_ms,
            unanswering,
        })
    }

    /// Whether a call to `to` may reach a queue that presents calls with
    /// `auto answer`: from its entry through every rule of the routes,
    /// every key and fallback of the menus, queue steps and group
    /// fallbacks it meets. Without an entry for `to`, whether any queue
    /// presents calls so.
    fn may_reach_auto_answer(&self, to: Option<&str>) -> bool {
        let program = &self.program;
        let auto = |q: &checked::Queue| q.presentation == Presentation::AutoAnswer;
        let Some(entry) = to.and_then(|t| program.entry_for(t)) else {
            return program.queues.iter().any(auto);
        };
        program
            .reachable_from(&entry.actions)
            .queues
            .iter()
            .any(|q| auto(program.queue(*q)))
    }

    fn lookup_row(
        &mut self,
        file: FileId,
        lookup: LookupId,
        record: &ast::Record,
    ) -> Vec<(u16, Value)> {
        let fields = self.program.lookup(lookup).fields.clone();
        let name = self.program.lookup(lookup).name.clone();
        let mut row = Vec::new();
        for (field, value) in &record.fields {
            let Some(index) = fields.iter().position(|f| f.name == field.text) else {
                let options: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
                self.push(
                    Diagnostic::new(
                        Code::UnknownField,
                        file,
                        field.span,
                        format!("lookup `{name}` has no field `{}`", field.text),
                    )
                    .label("unknown field")
                    .help(options_help(&field.text, &options)),
                );
                continue;
            };
            if let Some(v) = self.value(file, value, &fields[index].ty) {
                row.push((index as u16, v));
            }
        }
        row
    }

    fn agent_skills(&mut self, file: FileId, record: &ast::Record) -> Vec<(SkillId, SkillValue)> {
        let mut out = Vec::new();
        for (name, value) in &record.fields {
            let Some(id) = self.resolve(Kind::Skill, file, name) else {
                continue;
            };
            let skill = SkillId(id);
            match self.program.skill(skill).kind.clone() {
                SkillKind::Level => match value {
                    ast::Value::Int(ast::Int { value: Some(v), .. })
                        if (0..=MAX_SKILL_LEVEL).contains(v) =>
                    {
                        out.push((skill, SkillValue::Level(*v as u8)))
                    }
                    other => self.push(
                        Diagnostic::new(
                            Code::OutOfRange,
                            file,
                            other.span(),
                            format!(
                                "skill `{}` takes a level from 0 to {MAX_SKILL_LEVEL}",
                                name.text
                            ),
                        )
                        .label("not a level")
                        .help(format!("write `{}: 5`", name.text)),
                    ),
                },
                SkillKind::Values(values) => {
                    let words: Vec<&ast::Value> = match value {
                        ast::Value::List(items, _) => items.iter().collect(),
                        single => vec![single],
                    };
                    let mut mask = 0u64;
                    for w in words {
                        match w {
                            ast::Value::Word(word) if values.contains(&word.text) => {
                                mask |=
                                    1 << values.iter().position(|v| *v == word.text).unwrap_or(0);
                            }
                            other => {
                                let options: Vec<&str> =
                                    values.iter().map(String::as_str).collect();
                                let text = match other {
                                    ast::Value::Word(w) => w.text.clone(),
                                    _ => "this".into(),
                                };
                                self.push(
                                    Diagnostic::new(
                                        Code::UnknownField,
                                        file,
                                        other.span(),
                                        format!("`{text}` is not a value of skill `{}`", name.text),
                                    )
                                    .label("unknown value")
                                    .help(options_help(&text, &options)),
                                );
                            }
                        }
                    }
                    out.push((skill, SkillValue::Values(mask)));
                }
            }
        }
        out
    }

    /// A literal value of a test, read as type `ty` (D2003 when it is not one).
    fn value(&mut self, file: FileId, v: &ast::Value, ty: &Type) -> Option<Value> {
        let got = match (v, ty) {
            (ast::Value::Bool(b, _), Type::Bool) => Some(Value::Bool(*b)),
            (ast::Value::Int(i), Type::Int) => i.value.map(Value::Int),
            (ast::Value::Duration(d), Type::Duration) => {
                return self.duration_ms(file, d).map(Value::Duration);
            }
            (ast::Value::Time(t), Type::Time) => {
                return self.time_of_day(file, t, false).map(Value::Time);
            }
            (ast::Value::Date(d), Type::Date) => return self.date(file, d).map(Value::Date),
            (ast::Value::Str(s), Type::Text) => Some(Value::Text(s.value.clone())),
            (ast::Value::Str(s), Type::Phone) => {
                match number::normalize_in(&s.value, self.country_of(file)) {
                    Ok(n) => Some(Value::Phone(n)),
                    Err(why) => {
                        self.bad_number(Loc::new(file, s.span), &s.value, &why);
                        return None;
                    }
                }
            }
            (ast::Value::Word(w), Type::Weekday) => {
                ast::Weekday::parse(&w.text).map(Value::Weekday)
            }
            (ast::Value::Word(w), Type::Enum(skill)) => match &self.program.skill(*skill).kind {
                SkillKind::Values(values) => values
                    .iter()
                    .position(|x| *x == w.text)
                    .map(|i| Value::Enum(*skill, i as u16)),
                SkillKind::Level => None,
            },
            _ => None,
        };
        if got.is_none() && *ty != Type::Error {
            let want = self.type_name(ty);
            self.push(
                Diagnostic::new(
                    Code::TypeMismatch,
                    file,
                    v.span(),
                    format!("this should be {}", super::expr::article(&want)),
                )
                .label(format!("not {}", super::expr::article(&want)))
                .help(match ty {
                    Type::Phone => {
                        "write a number as a string, such as \"+15125550100\"".to_string()
                    }
                    Type::Text => "write text as a string, such as \"gold\"".to_string(),
                    Type::Duration => "write a duration such as `90s`".to_string(),
                    Type::Bool => "write `true` or `false`".to_string(),
                    _ => format!("write {}", super::expr::article(&want)),
                }),
            );
        }
        got
    }
}

/// A test's runtime lines as written, before their names are resolved
/// against the test's agents (which may come later in the test).
#[derive(Default)]
struct RuntimeLines {
    /// Whether the test has any runtime line or `given agent`.
    any: bool,
    rings: Option<Vec<ast::Name>>,
    then: Option<(Fallback, checked::Actions)>,
    answered: Option<(Option<ast::Name>, crate::source::Span)>,
    abandoned: Option<crate::source::Span>,
    patience_ms: Option<i64>,
    answer_ms: i64,
    unanswering: Vec<ast::Name>,
    /// Agents whose `given agent` line was reported and not placed.
    unplaced: Vec<String>,
}
