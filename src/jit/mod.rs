//! The JIT: Cranelift compiles every IR decision function to native code
//! over a `#[repr(C)]` view of the call's facts.
//!
//! All `unsafe` of the decision path lives in this module: the view of the
//! facts hands raw pointers to generated code, the generated code is called
//! through transmuted function pointers, and the code memory is freed when
//! the compiled program is dropped. Each block says why it is sound.

#![allow(unsafe_code)]

mod translate;
mod view;

use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};

use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::ir::{self, AbiParam, UserFuncName, types};
use cranelift_codegen::isa::TargetIsa;
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::FunctionBuilderContext;
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{Linkage, Module as _, ModuleReloc, default_libcall_names};

use crate::facts::Facts;
use crate::ir::{FuncId, Layout, Module};

pub use view::TextView;
use view::{AgentView, CallView, RowView, SlotView};

/// A compiled decision function. Calling it is `unsafe`: generated code
/// reads through both pointers without checks, so each call says why the
/// views it passes are valid and belong to the program that made the code.
type DecisionFn = unsafe extern "C" fn(*const CallView, *const AgentView) -> i64;

/// Every compiled program gets a distinct id, so a frame built for one
/// cannot be handed to another's code.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// One function's machine code, before it goes into the module.
struct MachineCode {
    bytes: Vec<u8>,
    alignment: u64,
    relocs: Vec<ModuleReloc>,
}

/// Modules with fewer functions compile on the calling thread alone.
const PARALLEL_FROM: usize = 16;

/// Compiles translated functions to machine code, on up to as many
/// threads as the machine has cores (one for small modules), each taking
/// the next function not yet taken. The result is in the functions' order
/// whatever the threads did; an error names the function's index.
fn compile_all(
    isa: &dyn TargetIsa,
    functions: Vec<ir::Function>,
    ids: &[cranelift_module::FuncId],
) -> Result<Vec<MachineCode>, (usize, String)> {
    let count = functions.len();
    let threads = if count < PARALLEL_FROM {
        1
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get().min(count))
    };
    let work: Vec<std::sync::Mutex<Option<ir::Function>>> = functions
        .into_iter()
        .map(|f| std::sync::Mutex::new(Some(f)))
        .collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let compile = || {
        let mut ctx = cranelift_codegen::Context::new();
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(slot) = work.get(i) else {
                return Ok(done);
            };
            let taken = slot.lock().map(|mut f| f.take()).unwrap_or(None);
            let Some(func) = taken else {
                continue;
            };
            ctx.clear();
            ctx.func = func;
            ctx.compile(isa, &mut ControlPlane::default())
                .map_err(|e| (i, format!("{:?}", e.inner)))?;
            let code = ctx.compiled_code().ok_or((i, "no code".to_string()))?;
            let relocs = (code.buffer.relocs().iter())
                .map(|r| ModuleReloc::from_mach_reloc(r, &ctx.func, ids[i]))
                .collect();
            done.push((
                i,
                MachineCode {
                    bytes: code.code_buffer().to_vec(),
                    alignment: u64::from(code.buffer.alignment),
                    relocs,
                },
            ));
        }
    };
    let mut all: Vec<(usize, MachineCode)> = if threads <= 1 {
        compile()?
    } else {
        std::thread::scope(|scope| {
            let helpers: Vec<_> = (1..threads).map(|_| scope.spawn(compile)).collect();
            let mut all = compile()?;
            for h in helpers {
                match h.join() {
                    Ok(part) => all.extend(part?),
                    Err(_) => return Err((0, "a compiling thread panicked".to_string())),
                }
            }
            Ok(all)
        })?
    };
    all.sort_by_key(|(i, _)| *i);
    Ok(all.into_iter().map(|(_, code)| code).collect())
}

/// A compiled module. Owns its code memory and frees it when dropped.
pub struct Compiled {
    id: u64,
    layout: Layout,
    functions: Vec<DecisionFn>,
    /// One zero per skill: the agent seen by calls made without one.
    zero_skills: Vec<i64>,
    /// Constant strings the code points at.
    _strings: Vec<Box<[u8]>>,
    module: Option<JITModule>,
    /// Size of the generated code, for reports.
    pub code_bytes: usize,
    /// Size of each function's code, by `FuncId`.
    function_bytes: Vec<usize>,
}

// SAFETY: after `finalize_definitions` the module is never touched again
// except to free it in `drop`, which has exclusive access; the generated
// code is immutable and reads only the views it is given, so sharing the
// function pointers between threads is sound.
unsafe impl Send for Compiled {}
// SAFETY: as above; `&Compiled` only allows calling the immutable code.
unsafe impl Sync for Compiled {}

impl Drop for Compiled {
    fn drop(&mut self) {
        if let Some(module) = self.module.take() {
            // SAFETY: the function pointers live in `self.functions` and are
            // only callable through `&self`; being dropped, no call can be
            // running or start again, so the code can be freed.
            unsafe { module.free_memory() };
        }
    }
}

/// Why compilation failed: a Cranelift error, reported to whoever asked.
#[derive(Debug, thiserror::Error)]
#[error("native compilation failed in {function}: {message}")]
pub struct CompileError {
    pub function: String,
    pub message: String,
}

/// Host helpers generated code calls for text operations that are not
/// worth inlining.
extern "C" fn text_eq(a: *const u8, a_len: usize, b: *const u8, b_len: usize) -> i64 {
    // SAFETY: generated code passes pointers and lengths of `TextView`s,
    // which borrow live strings for the duration of the call.
    let (a, b) = unsafe {
        (
            std::slice::from_raw_parts(a, a_len),
            std::slice::from_raw_parts(b, b_len),
        )
    };
    (a == b) as i64
}

extern "C" fn prefix_of(a: *const u8, a_len: usize, b: *const u8, b_len: usize) -> i64 {
    // SAFETY: as in `text_eq`.
    let (a, b) = unsafe {
        (
            std::slice::from_raw_parts(a, a_len),
            std::slice::from_raw_parts(b, b_len),
        )
    };
    b.starts_with(a) as i64
}

impl Compiled {
    /// Compiles every function of a module.
    pub fn new(module: &Module) -> Result<Compiled, CompileError> {
        let fail = |function: &str, e: &dyn std::fmt::Display| CompileError {
            function: function.to_string(),
            message: e.to_string(),
        };
        let mut flags = settings::builder();
        flags
            .set("opt_level", "speed")
            .map_err(|e| fail("setup", &e))?;
        flags
            .set("use_colocated_libcalls", "false")
            .map_err(|e| fail("setup", &e))?;
        flags
            .set("is_pic", "false")
            .map_err(|e| fail("setup", &e))?;
        // The IR verifier guards the translator; debug builds (and so the
        // tests) keep it, release builds skip its cost on every reload.
        let verify = if cfg!(debug_assertions) {
            "true"
        } else {
            "false"
        };
        flags
            .set("enable_verifier", verify)
            .map_err(|e| fail("setup", &e))?;
        let isa = cranelift_native::builder()
            .map_err(|e| fail("setup", &e))?
            .finish(settings::Flags::new(flags))
            .map_err(|e| fail("setup", &e))?;
        let mut builder = JITBuilder::with_isa(isa, default_libcall_names());
        builder.symbol("dialect_text_eq", text_eq as *const u8);
        builder.symbol("dialect_prefix_of", prefix_of as *const u8);
        let mut jit = JITModule::new(builder);
        if jit.isa().endianness() != cranelift_codegen::ir::Endianness::Little {
            return Err(fail(
                "setup",
                &"inline text comparison assumes a little-endian target",
            ));
        }
        // The code refers to constant strings by address: keep a copy that
        // lives exactly as long as the code.
        let strings: Vec<Box<[u8]>> = module.strings.iter().map(|s| s.as_bytes().into()).collect();

        let ptr = jit.target_config().pointer_type();
        let mut sig = jit.make_signature();
        sig.params.push(AbiParam::new(ptr));
        sig.params.push(AbiParam::new(ptr));
        sig.returns.push(AbiParam::new(types::I64));
        let mut helper_sig = jit.make_signature();
        for _ in 0..4 {
            helper_sig.params.push(AbiParam::new(types::I64));
        }
        helper_sig.returns.push(AbiParam::new(types::I64));
        let helpers = translate::Helpers {
            text_eq: jit
                .declare_function("dialect_text_eq", Linkage::Import, &helper_sig)
                .map_err(|e| fail("helpers", &e))?,
            prefix_of: jit
                .declare_function("dialect_prefix_of", Linkage::Import, &helper_sig)
                .map_err(|e| fail("helpers", &e))?,
        };

        let ids = module
            .functions
            .iter()
            .enumerate()
            .map(|(i, f)| {
                jit.declare_function(&format!("f{i}"), Linkage::Local, &sig)
                    .map_err(|e| fail(&f.name, &e))
            })
            .collect::<Result<Vec<_>, _>>()?;

        // Translation declares each function's callees in the module, so it
        // runs here, in order; Cranelift's compilation of each function
        // (optimiser, register allocation, emission: most of the time) is
        // independent of the others and runs on every core; the code goes
        // into the module in order again.
        let mut fctx = FunctionBuilderContext::new();
        let shared = translate::Shared {
            module,
            strings: &strings,
            ids: &ids,
            helpers: &helpers,
        };
        let functions: Vec<ir::Function> = (module.functions.iter().enumerate())
            .map(|(i, f)| {
                let mut func = ir::Function::with_name_signature(
                    UserFuncName::user(0, ids[i].as_u32()),
                    sig.clone(),
                );
                translate::function(&mut jit, &mut func, &mut fctx, &shared, f);
                func
            })
            .collect();
        let machine = compile_all(jit.isa(), functions, &ids)
            .map_err(|(i, e)| fail(&module.functions[i].name, &e))?;
        let mut function_bytes = Vec::with_capacity(module.functions.len());
        for (i, code) in machine.iter().enumerate() {
            jit.define_function_bytes(ids[i], code.alignment, &code.bytes, &code.relocs)
                .map_err(|e| fail(&module.functions[i].name, &e))?;
            function_bytes.push(code.bytes.len());
        }
        jit.finalize_definitions()
            .map_err(|e| fail("finalize", &e))?;
        let functions = ids
            .iter()
            .map(|&id| {
                let code = jit.get_finalized_function(id);
                // SAFETY: `code` is a finalized function compiled with
                // signature `sig`: two pointer arguments and an i64 result,
                // using the platform's C calling convention.
                unsafe { std::mem::transmute::<*const u8, DecisionFn>(code) }
            })
            .collect();
        Ok(Compiled {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            layout: module.layout.clone(),
            functions,
            zero_skills: vec![0; module.layout.skills],
            _strings: strings,
            module: Some(jit),
            code_bytes: function_bytes.iter().sum(),
            function_bytes,
        })
    }

    /// Runs a decision function that reads no agent (routes, menus, hours,
    /// entries); results mean what `interp::run`'s do. Queue functions run
    /// on agents through [`Compiled::agent_fn`].
    pub fn run(&self, f: FuncId, frame: &Frame<'_>) -> i64 {
        assert_eq!(
            frame.owner, self.id,
            "a frame is bound to the program that built it"
        );
        // Functions that read no agent still get a valid one: zero skills.
        let empty = AgentView {
            skills: self.zero_skills.as_ptr(),
            attrs: [0; 3],
        };
        let function = self.functions[f.index()];
        // SAFETY: `function` is this program's code (the frame's owner was
        // checked above), `frame.view` points into facts the frame borrows
        // with every table at least as long as the layout says, and `empty`
        // holds one skill per skill of the program; both outlive the call.
        unsafe { function(&frame.view, &empty) }
    }

    /// The size of one function's native code, in bytes: what a decision
    /// brings into the instruction cache.
    pub fn code_bytes_of(&self, f: FuncId) -> usize {
        self.function_bytes[f.index()]
    }

    /// Builds the view of a call's facts for this program's code.
    pub fn frame<'f>(&self, facts: &'f Facts) -> Frame<'f> {
        Frame::new(self, facts)
    }

    /// A queue function (`require`, `prefer`, `score`) ready to run on
    /// many agents for one call, as the ACD does for every caller: the
    /// checks [`Compiled::run`] makes on each call are made here once.
    pub fn agent_fn<'f>(&'f self, f: FuncId, frame: &'f Frame<'_>) -> AgentFn<'f> {
        assert_eq!(
            frame.owner, self.id,
            "a frame is bound to the program that built it"
        );
        AgentFn {
            function: self.functions[f.index()],
            call: &frame.view,
            skills: self.layout.skills,
        }
    }
}

/// A queue function bound to a call's facts; see [`Compiled::agent_fn`].
pub struct AgentFn<'f> {
    function: DecisionFn,
    call: &'f CallView,
    /// The program's skill count.
    skills: usize,
}

impl AgentFn<'_> {
    /// Runs the function on an agent: skills per skill of the program
    /// (borrowed, not copied), attributes indexed by `facts::attr_index`.
    /// Generated code reads skills only below the program's skill count,
    /// which this checks.
    #[inline]
    pub fn run(&self, skills: &[i64], attrs: [i64; 3]) -> i64 {
        if skills.len() < self.skills {
            return self.run_padded(skills, attrs);
        }
        let agent = AgentView {
            skills: skills.as_ptr(),
            attrs,
        };
        // SAFETY: `function` and `call` come from the same program (checked
        // in `Compiled::agent_fn`), the call's view borrows its facts for
        // `'f`, and `skills` has at least the program's skill count, the
        // most generated code reads; all of it outlives the call.
        unsafe { (self.function)(self.call, &agent) }
    }

    /// Too few skills: runs on a copy padded with zeros, so reads stay in
    /// bounds.
    #[cold]
    fn run_padded(&self, skills: &[i64], attrs: [i64; 3]) -> i64 {
        let mut padded = skills.to_vec();
        padded.resize(self.skills, 0);
        let agent = AgentView {
            skills: padded.as_ptr(),
            attrs,
        };
        // SAFETY: as in `run`; `padded` has exactly the program's skill
        // count and lives until the call returns.
        unsafe { (self.function)(self.call, &agent) }
    }
}

/// The facts of a call laid out for generated code. Borrows the facts, so
/// they cannot change or go away while the frame exists.
pub struct Frame<'f> {
    owner: u64,
    view: CallView,
    _rows: Vec<RowView>,
    _slots: Vec<Vec<SlotView>>,
    _facts: PhantomData<&'f Facts>,
}

impl<'f> Frame<'f> {
    fn new(compiled: &Compiled, facts: &'f Facts) -> Frame<'f> {
        let layout = &compiled.layout;
        assert!(facts.time.len() >= layout.zones, "facts lack local times");
        assert!(
            facts.queues.len() >= layout.queues,
            "facts lack queue statistics"
        );
        assert!(
            facts.lookups.len() >= layout.lookups.len(),
            "facts lack lookups"
        );
        assert!(
            facts.switches.len() >= layout.switches,
            "facts lack switches"
        );
        // Every row gets exactly as many slots as its lookup has fields, so
        // generated code reads within them whatever the facts hold.
        let slots: Vec<Vec<SlotView>> = layout
            .lookups
            .iter()
            .enumerate()
            .map(|(l, &fields)| {
                let row = facts.lookups[l].as_ref();
                (0..fields)
                    .map(|i| match row.and_then(|r| r.get(i)) {
                        Some(s) => SlotView {
                            int: s.int,
                            text: TextView::of(&s.text),
                        },
                        None => SlotView {
                            int: 0,
                            text: TextView::of(""),
                        },
                    })
                    .collect()
            })
            .collect();
        let rows: Vec<RowView> = slots
            .iter()
            .enumerate()
            .map(|(l, s)| RowView {
                found: facts.lookups[l].is_some() as i64,
                slots: s.as_ptr(),
            })
            .collect();
        let view = CallView {
            caller: TextView::of(&facts.caller),
            dialed: TextView::of(&facts.dialed),
            digits: TextView::of(&facts.digits),
            time: facts.time.as_ptr(),
            rows: rows.as_ptr(),
            queues: facts.queues.as_ptr(),
            switches: facts.switches.as_ptr(),
        };
        Frame {
            owner: compiled.id,
            view,
            _rows: rows,
            _slots: slots,
            _facts: PhantomData,
        }
    }
}
