//! The syntax stage: pest grammar, syntax tree and error recovery.
//!
//! **Invariant:** parsing does no I/O and never panics; it returns the tree
//! of everything it could read plus a diagnostic per problem.

pub mod ast;
mod grammar;
mod hints;
mod parser;
mod scan;

pub use parser::{MAX_EXPR_TOKENS, parse};
pub use scan::{MAX_NESTING, TOP_LEVEL};
