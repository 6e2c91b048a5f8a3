//! The decision IR: every decision a script makes, as a small typed
//! expression tree per function.
//!
//! There is one function per route (which rule fires), per menu (which key
//! matched), for the entry table (which entry answers a dialed number), per
//! queue for its filter, preference, score and each relaxation step, and per
//! hours and calendar. Values are 64-bit integers (booleans, numbers,
//! durations in milliseconds, minutes, dates as days since 1970, enumerated
//! values as indexes) or text. Strings and dial patterns are interned.
//!
//! `interp` evaluates this IR directly and defines its meaning; `jit`
//! compiles it with Cranelift. **Invariant:** the IR does no I/O and knows
//! nothing of SIP or of the runtime.
//!
//! The types live in `module.rs` and are re-exported here; `lower.rs`
//! builds them, `print.rs` prints them, `needs.rs` reads queue filters.

mod lower;
mod module;
pub mod needs;
mod print;

pub use lower::lower;
pub use module::{
    ArithOp, Body, CmpOp, FuncId, Function, Layout, Module, Node, PatId, QueueFns, StrId, TimeField,
};
pub use print::print;
