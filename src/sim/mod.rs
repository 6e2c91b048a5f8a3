//! The simulator: the call runtime under virtual time, with simulated
//! callers and agents. `traffic` reads the traffic model (its durations
//! and their distributions in `distribution`), `run` plays a
//! day of it through the real runtime on tokio's paused clock, and `stats`
//! turns the event stream into contact-center figures.

pub mod caller;
pub mod distribution;
pub mod erlang;
pub mod run;
pub mod stats;
pub mod traffic;

pub use caller::{Behaviour, MenuKeys, SimCaller};
pub use run::{SimError, simulate};
pub use stats::Report;
pub use traffic::{Traffic, TrafficError};
