//! Switches: flags a script declares (`switch storm_closure`) and
//! supervisors flip while the server runs, without a reload.
//!
//! The board keeps each switch's state by name, so a state outlives the
//! program that declared it: a reload keeps the switches the new script
//! still declares as they were, and a switch no script declares is simply
//! never read. A switch nobody has flipped is off.
//!
//! A call reads the board once, when it arrives: the switches on at that
//! moment go into its [`CallInfo`](super::CallInfo) and every decision of
//! the call sees them, as it sees the program version it started with. A
//! flip takes effect for the next call. The server persists flips in its
//! database and puts them back on the board at start-up.

use std::collections::BTreeMap;
use std::sync::Mutex;

use jiff::Timestamp;
use serde::Serialize;

use crate::checked::Program;

/// A switch's state and who set it when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Flip {
    pub on: bool,
    pub at: Timestamp,
    pub by: String,
}

/// Every switch's state, by name.
#[derive(Debug, Default)]
pub struct SwitchStates {
    states: Mutex<BTreeMap<String, Flip>>,
}

impl SwitchStates {
    /// Sets a switch; returns its previous state, if it had one.
    pub fn set(&self, name: &str, flip: Flip) -> Option<Flip> {
        self.lock().insert(name.to_string(), flip)
    }

    /// A switch's state, if anyone set it.
    pub fn get(&self, name: &str) -> Option<Flip> {
        self.lock().get(name).cloned()
    }

    /// Every switch that was set, by name.
    pub fn all(&self) -> BTreeMap<String, Flip> {
        self.lock().clone()
    }

    /// The names of `program`'s switches that are on now, in the
    /// program's order (no lock taken for a program without switches).
    pub fn on_for(&self, program: &Program) -> Vec<String> {
        if program.switches.is_empty() {
            return Vec::new();
        }
        let states = self.lock();
        (program.switches.iter())
            .filter(|s| states.get(&s.name).is_some_and(|f| f.on))
            .map(|s| s.name.clone())
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Flip>> {
        // A panic while holding the lock cannot leave the map half
        // written (every change is one insert), so a poisoned lock's map
        // is sound.
        self.states
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checked::Switch;
    use crate::source::{FileId, Loc, Span};

    fn program(names: &[&str]) -> Program {
        Program {
            switches: (names.iter())
                .map(|n| Switch {
                    name: n.to_string(),
                    description: None,
                    loc: Loc::new(FileId(0), Span::new(0, 0)),
                })
                .collect(),
            ..Program::default()
        }
    }

    fn flip(on: bool) -> Flip {
        Flip {
            on,
            at: Timestamp::UNIX_EPOCH,
            by: "test".into(),
        }
    }

    /// Unset switches are off; only the program's own switches are read,
    /// in its order; a later flip replaces an earlier one.
    #[test]
    fn a_call_sees_the_switches_on_when_it_asks() {
        let board = SwitchStates::default();
        let p = program(&["storm", "drill", "promo"]);
        assert!(board.on_for(&p).is_empty());
        board.set("promo", flip(true));
        board.set("storm", flip(true));
        board.set("elsewhere", flip(true));
        assert_eq!(board.on_for(&p), ["storm", "promo"]);
        assert_eq!(board.set("storm", flip(false)).map(|f| f.on), Some(true));
        assert_eq!(board.on_for(&p), ["promo"]);
        assert!(board.on_for(&program(&[])).is_empty());
    }
}
