//! The simulator: the call runtime under virtual time, with simulated
//! callers and agents.

pub mod caller;

pub use caller::{Behaviour, SimCaller};
