//! A compiled program: the checked script, its decision IR and its native
//! code. It answers "what next?" for a call: which entry answers a number,
//! which rule of a route fires, which menu key matched. Following a call
//! through those decisions is `flow`'s. Lookup rows are not compiled in:
//! they live in `lookup::LookupTables`, held beside the program, so data
//! can be reloaded without compiling.
//!
//! `Program` is `Send + Sync`; many calls can use one at once. Time comes
//! in as facts; nothing here reads a clock or does I/O.

use crate::checked::{self, MenuId, RouteId};
use crate::facts::{AgentFacts, Facts};
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

pub struct Program {
    checked: checked::Program,
    ir: ir::Module,
    native: Compiled,
    /// The queues whose statistics some decision reads (indexes).
    queues_read: Vec<usize>,
    /// Per queue, its agents as the ACD's skill indexes can count them
    /// (`ir::needs::queue_clauses`), worked out once here rather than on
    /// every call that reads the queue's statistics.
    queue_clauses: Vec<Option<Vec<Vec<crate::ir::needs::Need>>>>,
    /// The version a server gave it (a hash of its script's files), which
    /// each call it takes carries into its record.
    version: Option<std::sync::Arc<str>>,
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
    /// Compiles a program that checked without errors. Its lookup rows are
    /// loaded apart (`lookup::load_tables`).
    pub fn compile(checked: checked::Program) -> Result<Program, jit::CompileError> {
        let ir = ir::lower(&checked);
        let native = Compiled::new(&ir)?;
        let queues_read = (ir.queue_stats_read().iter().enumerate())
            .filter_map(|(i, &read)| read.then_some(i))
            .collect();
        let queue_clauses = crate::ir::needs::queue_clauses(&ir);
        Ok(Program {
            checked,
            ir,
            native,
            queues_read,
            queue_clauses,
            version: None,
        })
    }

    /// Names the program's version (`server::version`): the calls it
    /// takes carry it.
    pub fn with_version(mut self, version: std::sync::Arc<str>) -> Program {
        self.version = Some(version);
        self
    }

    /// The version a server named, if any.
    pub fn version(&self) -> Option<&std::sync::Arc<str>> {
        self.version.as_ref()
    }

    /// Checks and compiles one script held in memory, with no includes and
    /// no lookup sources: for tests, benchmarks and embedders. The error lists
    /// the script's errors, one per line.
    pub fn from_text(text: &str) -> Result<Program, String> {
        let fs = crate::load::MemoryFs::default().with("main.dial", text);
        let checked = crate::load::check_in_memory(&fs)?;
        Program::compile(checked).map_err(|e| e.to_string())
    }

    /// The checked script this program was compiled from.
    pub fn checked(&self) -> &checked::Program {
        &self.checked
    }

    /// The decision IR the native code was generated from.
    pub fn ir(&self) -> &ir::Module {
        &self.ir
    }

    /// The queues whose statistics some decision reads (indexes).
    pub fn queues_read(&self) -> &[usize] {
        &self.queues_read
    }

    /// Per queue, its agents as the ACD's skill indexes can count them
    /// (`None` when its filters are more than skill comparisons).
    pub fn queue_clauses(&self) -> &[Option<Vec<Vec<crate::ir::needs::Need>>>] {
        &self.queue_clauses
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
            (None, Engine::Jit) => self.native.run(f, &self.native.frame(facts)),
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
}

#[cfg(test)]
mod tests {
    use super::Program;

    /// `agent.idle_minutes` is found wherever it sits in a filter; the
    /// other agent attributes and skills are not time alone.
    #[test]
    fn reads_idle_time_finds_idle_minutes() {
        let program = Program::from_text(
            r#"
skill billing
queue direct { require agent.idle_minutes >= 1 }
queue inside { require billing >= 1 and (billing > 5 or agent.idle_minutes > 2) }
queue other { require billing >= 1 and not (agent.calls_today > 3 or agent.talk_minutes > 60) }
queue later { require billing >= 5; after 1m require agent.idle_minutes >= 3 }
"#,
        )
        .expect("the script compiles");
        let ir = &program.ir();
        let require = |q: usize| ir.queues[q].require.expect("a filter");
        assert!(ir.reads_idle_time(require(0)));
        assert!(ir.reads_idle_time(require(1)));
        assert!(!ir.reads_idle_time(require(2)));
        assert!(!ir.reads_idle_time(require(3)));
        let step = ir.queues[3].steps[0].expect("the step's filter");
        assert!(ir.reads_idle_time(step));
    }
}
