//! Reads arbitrary input as an agents file (`agents.toml`) and checks it
//! against a fixed program: `Roster::parse`, then `Roster::skills_for`, then
//! what the runtime does with an accepted roster (an ACD built from it, every
//! agent logged in, the roster reloaded, every agent logged out). No stage
//! may panic; a rejected roster is an `Err` with a message.
//!
//! Input that is not UTF-8 is read lossily, as in `parse_check`. The program
//! is `inputs.dial` beside this file, compiled once.

#![no_main]

use std::sync::{Arc, OnceLock};

use dialect::program::{Engine, Program};
use dialect::runtime::{Acd, Clock, EventBus, Roster};
use libfuzzer_sys::fuzz_target;

fn program() -> &'static Program {
    static PROGRAM: OnceLock<Program> = OnceLock::new();
    PROGRAM.get_or_init(|| {
        Program::from_text(include_str!("inputs.dial"))
            .unwrap_or_else(|e| panic!("the fuzz script does not compile:\n{e}"))
    })
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let program = program();

    let roster = match Roster::parse(&text) {
        Ok(roster) => roster,
        Err(e) => {
            assert!(!e.to_string().trim().is_empty(), "{e:?} has no message");
            return;
        }
    };
    let skills = match roster.skills_for(program.checked()) {
        Ok(skills) => skills,
        Err(e) => {
            assert!(!e.to_string().trim().is_empty(), "{e:?} has no message");
            return;
        }
    };
    assert_eq!(skills.len(), roster.agents.len());
    for row in &skills {
        assert_eq!(row.len(), program.checked().skills.len());
    }

    // The roster as the runtime uses it.
    let acd = Acd::new(
        &roster,
        program.checked(),
        Arc::new(EventBus::default()),
        Engine::Interp,
        Clock::wall(),
    )
    .expect("skills_for accepted the roster, so the ACD must");
    for agent in &roster.agents {
        acd.login(&agent.id).unwrap_or_else(|e| {
            panic!(
                "agent `{}` of an accepted roster cannot log in: {e}",
                agent.id
            )
        });
        if !agent.extension.is_empty() {
            let found = acd.agent_by_extension(&agent.extension);
            assert!(
                found.is_some(),
                "extension {} finds nobody",
                agent.extension
            );
        }
    }
    acd.reload_roster(&roster, program.checked())
        .expect("reloading an accepted roster");
    for agent in &roster.agents {
        acd.logout(&agent.id)
            .unwrap_or_else(|e| panic!("agent `{}` cannot log out: {e}", agent.id));
    }
});
