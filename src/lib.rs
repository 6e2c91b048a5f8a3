//! Dialect: a call-routing language, its compiler and its call server.
//!
//! The pipeline runs `syntax` (text to tree), `check` (tree to a typed
//! `checked::Program` plus diagnostics); `load` gathers the files of a
//! script through a file-system trait so the stages themselves do no I/O.
//! See ARCHITECTURE.md for the map.

#![deny(unsafe_code)]

// The grammar's generated parser names `alloc` directly: pest is used
// without its `std` feature, which would add a stack probe to every rule
// (the pre-scan already bounds nesting).
extern crate alloc;

pub mod check;
pub mod checked;
pub mod cli;
pub mod diagnostic;
pub mod diff;
pub mod facts;
pub mod flow;
pub mod interp;
pub mod ir;
pub mod jit;
pub mod load;
pub mod lookup;
pub mod media;
pub mod number;
pub mod program;
pub mod random;
pub mod runtime;
pub mod server;
pub mod sim;
pub mod sip;
pub mod source;
pub mod suite;
pub mod syntax;
#[cfg(feature = "testkit")]
pub mod synth;
