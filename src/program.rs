//! A compiled program: the checked script, its decision IR, its native code
//! and its lookup data. It answers "what next?" for a call: which entry
//! answers a number, which rule of a route fires, which menu key matched,
//! and, walking those decisions, where a call ends up.
//!
//! `Program` is `Send + Sync`; many calls can use one at once. Time comes
//! in as facts; nothing here reads a clock or does I/O.

use std::collections::HashMap;

use crate::checked::{
    self, Action, ActionKind, ExtensionTarget, LookupKey, MenuId, Press, RouteId,
};
use crate::facts::{AgentFacts, Facts, Row};
use crate::interp;
use crate::ir::{self, FuncId};
use crate::jit::{self, AgentFn, Compiled, Frame};

/// Which engine runs decisions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Engine {
    /// Native code from Cranelift.
    #[default]
    Jit,
    /// The reference interpreter.
    Interp,
}

/// Rows of every lookup, keyed by the normalised key.
#[derive(Clone, Debug, Default)]
pub struct LookupData {
    pub tables: Vec<HashMap<String, Row>>,
}

pub struct Program {
    pub checked: checked::Program,
    pub ir: ir::Module,
    native: Compiled,
    pub data: LookupData,
    /// The queues whose statistics some decision reads (indexes).
    pub queues_read: Vec<usize>,
}

/// A program's queue functions bound to one call's facts; see
/// [`Program::agent_calls`].
pub struct AgentCalls<'p> {
    program: &'p Program,
    facts: &'p Facts,
    /// The call's view for native code; `None` on the interpreter.
    frame: Option<Frame<'p>>,
}

impl AgentCalls<'_> {
    /// One function, ready to run on agents.
    pub fn bind(&self, f: FuncId) -> AgentCall<'_> {
        match &self.frame {
            Some(frame) => AgentCall::Native(self.program.native.agent_fn(f, frame)),
            None => AgentCall::Interp {
                module: &self.program.ir,
                f,
                facts: self.facts,
            },
        }
    }
}

/// A queue function bound to a call, on one engine.
pub enum AgentCall<'a> {
    Native(AgentFn<'a>),
    Interp {
        module: &'a ir::Module,
        f: FuncId,
        facts: &'a Facts,
    },
}

impl AgentCall<'_> {
    /// Runs the function on an agent: skills per skill of the program,
    /// attributes indexed by [`crate::facts::attr_index`].
    #[inline]
    pub fn run(&self, skills: &[i64], attrs: [i64; 3]) -> i64 {
        match self {
            AgentCall::Native(f) => f.run(skills, attrs),
            AgentCall::Interp { module, f, facts } => {
                run_interpreted(module, *f, facts, skills, attrs)
            }
        }
    }
}

/// The interpreter's side of [`AgentCall::run`], kept out of line so the
/// native side stays small enough to inline into the ACD's loops.
#[cold]
#[inline(never)]
fn run_interpreted(
    module: &ir::Module,
    f: FuncId,
    facts: &Facts,
    skills: &[i64],
    attrs: [i64; 3],
) -> i64 {
    let agent = AgentFacts {
        skills: skills.to_vec(),
        attrs,
    };
    interp::run(module, f, facts, Some(&agent))
}

/// What a menu made of the digits entered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MenuInput {
    /// The index of the key that matched.
    Key(usize),
    /// A prefix of a longer key: more digits may come.
    Incomplete,
    Invalid,
}

impl Program {
    /// Compiles a program that checked without errors.
    pub fn compile(
        checked: checked::Program,
        data: LookupData,
    ) -> Result<Program, jit::CompileError> {
        let ir = ir::lower(&checked);
        let native = Compiled::new(&ir)?;
        let queues_read = (ir.queue_stats_read().iter().enumerate())
            .filter_map(|(i, &read)| read.then_some(i))
            .collect();
        Ok(Program {
            checked,
            ir,
            native,
            data,
            queues_read,
        })
    }

    /// Checks and compiles one script held in memory, with no includes and
    /// no lookup rows: for tests, benchmarks and embedders. The error lists
    /// the script's errors, one per line.
    pub fn from_text(text: &str) -> Result<Program, String> {
        let fs = crate::load::MemoryFs::default().with("main.dial", text);
        let mut loader = crate::load::Loader::new(&fs);
        let root = loader
            .load(std::path::Path::new("main.dial"))
            .map_err(|e| format!("{e:?}"))?;
        let checked = loader.check(root, None);
        let errors: Vec<String> = checked
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| format!("{} {}", d.code, d.message))
            .collect();
        if !errors.is_empty() {
            return Err(errors.join("\n"));
        }
        Program::compile(checked.program, LookupData::default()).map_err(|e| e.to_string())
    }

    /// Bytes of native code generated.
    pub fn code_bytes(&self) -> usize {
        self.native.code_bytes
    }

    pub fn native(&self) -> &Compiled {
        &self.native
    }

    /// The queue functions (`require`, `prefer`, `score`) of this program
    /// ready to run on many agents for one call, on `engine`: the ACD's
    /// way in.
    pub fn agent_calls<'p>(&'p self, engine: Engine, facts: &'p Facts) -> AgentCalls<'p> {
        AgentCalls {
            program: self,
            facts,
            frame: (engine == Engine::Jit).then(|| self.native.frame(facts)),
        }
    }

    /// Runs one decision function.
    pub fn decide(
        &self,
        engine: Engine,
        f: FuncId,
        facts: &Facts,
        agent: Option<&AgentFacts>,
    ) -> i64 {
        match (agent, engine) {
            // Queue functions take the ACD's way in.
            (Some(a), _) => self
                .agent_calls(engine, facts)
                .bind(f)
                .run(&a.skills, a.attrs),
            (None, Engine::Interp) => interp::run(&self.ir, f, facts, None),
            (None, Engine::Jit) => self.native.run(f, &self.native.frame(facts), None),
        }
    }

    /// The entry that answers the dialed number, as an index into
    /// `checked.entries`.
    pub fn entry(&self, engine: Engine, facts: &Facts) -> Option<usize> {
        let r = self.decide(engine, self.ir.entries, facts, None);
        usize::try_from(r)
            .ok()
            .and_then(|i| self.ir.entry_order.get(i))
            .map(|&e| e as usize)
    }

    /// The rule of a route that fires.
    pub fn route(&self, engine: Engine, route: RouteId, facts: &Facts) -> Option<usize> {
        usize::try_from(self.decide(engine, self.ir.routes[route.index()], facts, None)).ok()
    }

    /// What a menu makes of `facts.digits`.
    pub fn menu(&self, engine: Engine, menu: MenuId, facts: &Facts) -> MenuInput {
        let keys = self.checked.menu(menu).keys.len();
        match usize::try_from(self.decide(engine, self.ir.menus[menu.index()], facts, None)) {
            Ok(i) if i < keys => MenuInput::Key(i),
            Ok(_) => MenuInput::Incomplete,
            Err(_) => MenuInput::Invalid,
        }
    }

    /// Fills in the rows of lookups keyed by `key` from the lookup data,
    /// leaving alone the lookups in `fixed` (rows a test supplied).
    pub fn look_up(&self, facts: &mut Facts, key: LookupKey, fixed: &[bool]) {
        for (l, lookup) in self.checked.lookups.iter().enumerate() {
            if lookup.key != key || fixed.get(l).copied().unwrap_or(false) {
                continue;
            }
            let value = match key {
                LookupKey::Caller => &facts.caller,
                LookupKey::Dialed => &facts.dialed,
                LookupKey::Digits => &facts.digits,
            };
            facts.lookups[l] = self.data.tables.get(l).and_then(|t| t.get(value)).cloned();
        }
    }

    /// Follows a call from its entry through routes and menus, using the
    /// key presses given, to where it ends up.
    pub fn walk(
        &self,
        engine: Engine,
        facts: &mut Facts,
        presses: &[Press],
        fixed: &[bool],
    ) -> Walk {
        Walker {
            program: self,
            engine,
            facts,
            fixed,
            presses: presses.iter(),
            walk: Walk::default(),
            menus: Vec::new(),
            offers: 0,
        }
        .run()
    }
}

/// Most steps a walk takes before giving up (menus repeating without end).
pub const MAX_STEPS: usize = 10_000;

/// The path of a call and where it ended.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Walk {
    pub steps: Vec<Step>,
    /// Every action performed, in order; the last is where the call ended.
    pub actions: Vec<Performed>,
    pub end: End,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Performed {
    pub action: Action,
    /// For `dial extension` and `extension`: the extension rung.
    pub extension: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// The entry (index into `checked.entries`) that answered.
    Entry(usize),
    /// A route was evaluated: the rule that fired (earlier rules were false).
    Route {
        route: RouteId,
        fired: Option<usize>,
    },
    /// A menu was offered (the count starts at 1).
    Offer {
        menu: MenuId,
        offer: u32,
    },
    /// The caller's input to a menu and what it meant.
    Input {
        menu: MenuId,
        press: Press,
        meaning: Meaning,
    },
    Action(Action),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Meaning {
    Key(usize),
    Collected,
    Invalid,
    Timeout,
}

/// Where a call ended up.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum End {
    /// The last performed action hands the call on.
    Action,
    /// Offered a menu, with no key presses left.
    WaitingInMenu(MenuId),
    /// `dial extension` with no key presses left.
    WaitingForExtension,
    /// No entry answers the dialed number.
    #[default]
    NoEntry,
    /// A route where no rule fired (only possible in scripts with errors).
    NoRule(RouteId),
    /// A menu offered `1 + retries` times with no fallback: hung up.
    Exhausted(MenuId),
    /// The walk took more than [`MAX_STEPS`] steps.
    TooLong,
}

struct Walker<'a, 'f> {
    program: &'a Program,
    engine: Engine,
    facts: &'f mut Facts,
    fixed: &'a [bool],
    presses: std::slice::Iter<'a, Press>,
    walk: Walk,
    /// The menus on the way here, for `back`.
    menus: Vec<MenuId>,
    offers: u32,
}

enum Next {
    Actions(checked::Actions),
    Offer(MenuId),
    End(End),
}

impl Walker<'_, '_> {
    fn run(mut self) -> Walk {
        let program = self.program;
        self.program
            .look_up(self.facts, LookupKey::Caller, self.fixed);
        self.program
            .look_up(self.facts, LookupKey::Dialed, self.fixed);
        let Some(entry) = program.entry(self.engine, self.facts) else {
            self.walk.end = End::NoEntry;
            return self.walk;
        };
        self.walk.steps.push(Step::Entry(entry));
        let mut next = Next::Actions(program.checked.entries[entry].actions.clone());
        loop {
            if self.walk.steps.len() > MAX_STEPS {
                self.walk.end = End::TooLong;
                return self.walk;
            }
            next = match next {
                Next::Actions(actions) => self.actions(&actions),
                Next::Offer(menu) => self.offer(menu),
                Next::End(end) => {
                    self.walk.end = end;
                    return self.walk;
                }
            };
        }
    }

    fn perform(&mut self, action: &Action, extension: Option<String>) {
        self.walk.steps.push(Step::Action(action.clone()));
        self.walk.actions.push(Performed {
            action: action.clone(),
            extension,
        });
    }

    fn actions(&mut self, actions: &checked::Actions) -> Next {
        let program = self.program;
        for action in &actions.list {
            match &action.kind {
                ActionKind::Route(r) => {
                    self.perform(action, None);
                    let fired = program.route(self.engine, *r, self.facts);
                    self.walk.steps.push(Step::Route { route: *r, fired });
                    return match fired {
                        Some(i) => {
                            Next::Actions(program.checked.route(*r).rules[i].actions.clone())
                        }
                        None => Next::End(End::NoRule(*r)),
                    };
                }
                ActionKind::Menu(m) => {
                    self.perform(action, None);
                    if self.menus.last() != Some(m) {
                        self.menus.push(*m);
                    }
                    self.offers = 0;
                    return Next::Offer(*m);
                }
                ActionKind::Repeat => {
                    self.perform(action, None);
                    return match self.menus.last() {
                        Some(&m) => Next::Offer(m),
                        None => Next::End(End::Action),
                    };
                }
                ActionKind::Back => {
                    self.perform(action, None);
                    if self.menus.len() > 1 {
                        self.menus.pop();
                        self.offers = 0;
                    }
                    return match self.menus.last() {
                        Some(&m) => Next::Offer(m),
                        None => Next::End(End::Action),
                    };
                }
                ActionKind::DialExtension { digits } => match self.presses.next() {
                    Some(Press::Keys(k))
                        if k.len() == *digits as usize && k.bytes().all(|b| b.is_ascii_digit()) =>
                    {
                        self.perform(action, Some(k.clone()));
                        return Next::End(End::Action);
                    }
                    Some(press) => {
                        self.perform(action, None);
                        let menu = self.menus.last().copied();
                        if let Some(m) = menu {
                            self.walk.steps.push(Step::Input {
                                menu: m,
                                press: press.clone(),
                                meaning: Meaning::Invalid,
                            });
                            return self.failed(m, Meaning::Invalid);
                        }
                        return Next::End(End::Action);
                    }
                    None => {
                        self.perform(action, None);
                        return Next::End(End::WaitingForExtension);
                    }
                },
                ActionKind::Extension(ExtensionTarget::LastDigits(n)) => {
                    let dialed = &self.facts.dialed;
                    let tail = dialed[dialed.len().saturating_sub(*n as usize)..].to_string();
                    self.perform(action, Some(tail));
                    return Next::End(End::Action);
                }
                ActionKind::Extension(ExtensionTarget::Number(x)) => {
                    self.perform(action, Some(x.clone()));
                    return Next::End(End::Action);
                }
                kind if kind.is_terminal() => {
                    self.perform(action, None);
                    return Next::End(End::Action);
                }
                _ => self.perform(action, None),
            }
        }
        // The checker guarantees a terminal action; a list without one ends.
        Next::End(End::Action)
    }

    /// Offers a menu: waits for the next press, or ends waiting in it.
    fn offer(&mut self, menu: MenuId) -> Next {
        let program = self.program;
        let m = program.checked.menu(menu);
        self.offers += 1;
        if self.offers > 1 + m.retries {
            return match &m.exhausted {
                Some(actions) => Next::Actions(actions.clone()),
                None => Next::End(End::Exhausted(menu)),
            };
        }
        self.walk.steps.push(Step::Offer {
            menu,
            offer: self.offers,
        });
        let Some(press) = self.presses.next().cloned() else {
            return Next::End(End::WaitingInMenu(menu));
        };
        let meaning = match &press {
            Press::Timeout => Meaning::Timeout,
            Press::Keys(keys) => {
                let digits = keys
                    .strip_suffix('#')
                    .filter(|_| m.collect.is_some())
                    .unwrap_or(keys);
                self.facts.digits = digits.to_string();
                self.program
                    .look_up(self.facts, LookupKey::Digits, self.fixed);
                match &m.collect {
                    Some(c) => {
                        let n = digits.len() as u32;
                        if n >= c.min && n <= c.max && digits.bytes().all(|b| b.is_ascii_digit()) {
                            Meaning::Collected
                        } else {
                            Meaning::Invalid
                        }
                    }
                    None => match program.menu(self.engine, menu, self.facts) {
                        MenuInput::Key(i) => Meaning::Key(i),
                        MenuInput::Incomplete | MenuInput::Invalid => Meaning::Invalid,
                    },
                }
            }
        };
        self.walk.steps.push(Step::Input {
            menu,
            press,
            meaning: meaning.clone(),
        });
        match meaning {
            Meaning::Key(i) => Next::Actions(m.keys[i].actions.clone()),
            Meaning::Collected => Next::Actions(
                m.collect
                    .as_ref()
                    .map(|c| c.actions.clone())
                    .unwrap_or_default(),
            ),
            Meaning::Invalid | Meaning::Timeout => self.failed(menu, meaning),
        }
    }

    /// An invalid key or silence: the handler, or `repeat` without one.
    fn failed(&mut self, menu: MenuId, meaning: Meaning) -> Next {
        let m = self.program.checked.menu(menu);
        let handler = if meaning == Meaning::Timeout {
            &m.on_timeout
        } else {
            &m.invalid
        };
        match handler {
            Some(actions) => Next::Actions(actions.clone()),
            None => Next::Offer(menu),
        }
    }
}

impl Walk {
    /// Whether the expected actions are the last actions performed. An
    /// expected `extension NUMBER` also matches a `dial extension` or
    /// `extension last N` that rang that number.
    pub fn ends_with(&self, expected: &[Action]) -> bool {
        let performed = self.outcome_actions();
        if expected.len() > performed.len() {
            return false;
        }
        let tail = &performed[performed.len() - expected.len()..];
        tail.iter()
            .zip(expected)
            .all(|(p, e)| match (&e.kind, &p.extension) {
                (ActionKind::Extension(ExtensionTarget::Number(x)), Some(rang)) => x == rang,
                (kind, _) => *kind == p.action.kind,
            })
    }

    /// The performed actions, plus `menu M` when the call is left waiting
    /// in a menu it re-entered by `repeat` or `back`, and `hangup` when a
    /// menu's tries ran out.
    pub fn outcome_actions(&self) -> Vec<Performed> {
        let mut out = self.actions.clone();
        let synthetic = |kind: ActionKind, like: Option<&Performed>| Performed {
            action: Action {
                kind,
                loc: like.map(|p| p.action.loc).unwrap_or_default(),
            },
            extension: None,
        };
        match &self.end {
            End::WaitingInMenu(m)
                if out.last().map(|p| &p.action.kind) != Some(&ActionKind::Menu(*m)) =>
            {
                let s = synthetic(ActionKind::Menu(*m), out.last());
                out.push(s);
            }
            End::Exhausted(_) => {
                let s = synthetic(ActionKind::Hangup, out.last());
                out.push(s);
            }
            _ => {}
        }
        out
    }
}
