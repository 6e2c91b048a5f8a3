//! Redirect mode's decisions: every kind of answer over the fixture in
//! `tests/fixtures/redirect/` (with its roster and a fake registrar), on
//! both engines, at fixed times; and the examples `support` (menus,
//! hours, holidays) and `bank` (lookups by the caller's number).

use std::path::PathBuf;
use std::sync::Arc;

use dialect::checked::AgentState;
use dialect::flow::{End, Step};
use dialect::lookup::LookupTables;
use dialect::program::{Engine, Program};
use dialect::runtime::SwitchStates;
use dialect::runtime::acd::Acd;
use dialect::runtime::clock::Clock;
use dialect::runtime::events::EventBus;
use dialect::runtime::roster::Roster;
use dialect::server::config::{Config, Targets};
use dialect::server::redirect::{
    Answer, Call, Contact, Context, Failure, Outcome, Redirect, decide,
};

/// A script from disk, compiled, with its lookup tables, as `dialect
/// explain` loads it.
fn load(path: &str) -> (Program, LookupTables) {
    let scripts = dialect::cli::scripts::load(&[PathBuf::from(path)], None).expect("loads");
    let mut out = Vec::new();
    dialect::cli::scripts::compile_first(&scripts, &mut out, "serve")
        .expect("compiles")
        .unwrap_or_else(|| panic!("{}", String::from_utf8_lossy(&out)))
}

/// The fake registrar: phones by SIP user.
fn registered(user: &str) -> Vec<(String, f32)> {
    let phones: &[(&str, f32)] = match user {
        "ana" => &[
            ("sip:ana@10.0.0.1:5062", 1.0),
            ("sip:ana@10.0.0.9:5062", 0.5),
        ],
        "bob" => &[("sip:bob@10.0.0.2", 0.8)],
        "eve" => &[("sip:eve@10.0.0.5", 1.0)],
        // A phone registered as its extension, with no agent.
        "2050" => &[("sip:2050@10.0.0.50", 1.0)],
        _ => &[],
    };
    phones.iter().map(|(u, q)| (u.to_string(), *q)).collect()
}

/// The fixture, its roster in an ACD and the targets of a configuration.
struct Setup {
    program: Program,
    tables: LookupTables,
    acd: Acd,
    targets: Targets,
    engine: Engine,
    version: Arc<str>,
}

const TARGETS: &str = r#"
[targets]
trunk = "sip:{number}@trunk.example.net"
voicemail = "sip:{mailbox}@vm.example.net"
queues = { remote = "sip:remote-queue@pbx.example.net" }
groups = { far = "sip:far-group@pbx.example.net" }
"#;

impl Setup {
    fn new(script: &str, roster: &str, config: &str, engine: Engine) -> Setup {
        let (program, tables) = load(script);
        let roster =
            Roster::parse(&std::fs::read_to_string(roster).expect("roster")).expect("a roster");
        let acd = Acd::new(
            &roster,
            program.checked(),
            Arc::new(EventBus::default()),
            engine,
            Clock::starting_at("2026-11-23T16:00:00Z".parse().expect("instant")),
        )
        .expect("an ACD");
        let config = Config::parse(config, "dialect.toml".as_ref(), script.as_ref())
            .expect("a configuration");
        Setup {
            program,
            tables,
            acd,
            targets: config.targets,
            engine,
            version: Arc::from("0123456789ab"),
        }
    }

    fn fixture(engine: Engine) -> Setup {
        Setup::new(
            "tests/fixtures/redirect/main.dial",
            "tests/fixtures/redirect/agents.toml",
            TARGETS,
            engine,
        )
    }

    fn login(&self, ids: &[&str]) {
        for id in ids {
            self.acd.login(id).expect("logs in");
        }
    }

    /// The decision for a call from `caller` to `dialed` at a local time
    /// in Chicago (a Monday by default).
    fn call(&self, caller: Option<&str>, dialed: &str, at: &str) -> Redirect {
        let at: jiff::Timestamp = jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M", at)
            .expect("a time")
            .in_tz("America/Chicago")
            .expect("a zone")
            .timestamp();
        let cx = Context {
            program: &self.program,
            tables: &self.tables,
            engine: self.engine,
            targets: &self.targets,
            acd: &self.acd,
            registered: &registered,
            version: &self.version,
            switches: &SwitchStates::default(),
        };
        decide(&cx, &Call { caller, dialed, at })
    }

    fn at_ten(&self, dialed: &str) -> Redirect {
        self.call(Some("+15125550123"), dialed, "2026-11-23 10:00")
    }
}

fn moved(r: &Redirect) -> Vec<String> {
    match &r.answer {
        Answer::Moved(contacts) => contacts.iter().map(Contact::header_value).collect(),
        Answer::Fail(f) => panic!("a failure {f:?}, not a redirect: {r:?}"),
    }
}

fn failure(r: &Redirect) -> Failure {
    match &r.answer {
        Answer::Fail(f) => *f,
        Answer::Moved(c) => panic!("a redirect to {c:?}, not a failure"),
    }
}

const ENGINES: [Engine; 2] = [Engine::Jit, Engine::Interp];

#[test]
fn transfer_goes_to_the_trunk_and_prompts_are_skipped() {
    for engine in ENGINES {
        let s = Setup::fixture(engine);
        let r = s.at_ten("+1 800 555 0100");
        assert_eq!(moved(&r), ["<sip:+15125550100@trunk.example.net>"]);
        assert_eq!(r.answer.code(), 302);
        assert_eq!(r.outcome, Outcome::Transfer);
        assert_eq!(&*r.version, "0123456789ab");
        // The path says which entry answered and that the prompt was met.
        assert!(matches!(r.path.steps[0], Step::Entry(_)), "{:?}", r.path);
        assert_eq!(r.path.actions().count(), 2);
        assert_eq!(r.path.end, End::Action);
    }
}

#[test]
fn the_caller_number_decides_and_withheld_callers_are_declined() {
    for engine in ENGINES {
        let s = Setup::fixture(engine);
        let from = |caller: Option<&str>| s.call(caller, "+18005550101", "2026-11-23 10:00");
        assert_eq!(
            moved(&from(Some("+44 20 7946 0958"))),
            ["<sip:+442079460000@trunk.example.net>"]
        );
        assert_eq!(
            moved(&from(Some("+15125550123"))),
            ["<sip:+15125550100@trunk.example.net>"]
        );
        for withheld in [
            None,
            Some(""),
            Some("anonymous"),
            Some("Anonymous"),
            Some("alice"),
        ] {
            let r = from(withheld);
            assert_eq!(failure(&r), Failure::Decline, "{withheld:?}");
            assert_eq!(r.answer.code(), 603);
        }
        // The rule that fired is in the path.
        let r = from(None);
        assert!(
            r.path
                .steps
                .iter()
                .any(|s| matches!(s, Step::Route { fired: Some(0), .. })),
            "{:?}",
            r.path
        );
    }
}

#[test]
fn the_time_decides() {
    let s = Setup::fixture(Engine::Jit);
    s.login(&["ana"]);
    // Monday 10:00 is open: the sales queue.
    assert_eq!(s.at_ten("+18005550102").outcome, Outcome::Queue);
    // Monday 22:00 and Saturday noon are closed: voicemail, prompt skipped.
    for at in ["2026-11-23 22:00", "2026-11-28 12:00"] {
        let r = s.call(Some("+15125550123"), "+18005550102", at);
        assert_eq!(moved(&r), ["<sip:after-hours@vm.example.net>"], "{at}");
        assert_eq!(r.outcome, Outcome::Voicemail);
    }
}

#[test]
fn a_queue_goes_to_the_agent_the_acd_picks() {
    for engine in ENGINES {
        let s = Setup::fixture(engine);
        // Nobody logged in: the queue's `no agents`.
        let r = s.at_ten("+18005550102");
        assert_eq!(moved(&r), ["<sip:sales@vm.example.net>"]);
        assert_eq!(r.outcome, Outcome::Voicemail);
        // Dee is preferred (billing 9) but has no phone; Ana is preferred
        // and registered: her phones, at the registrar's q-values.
        s.login(&["dee", "bob", "ana", "eve", "cy"]);
        assert_eq!(
            moved(&s.at_ten("+18005550102")),
            [
                "<sip:ana@10.0.0.1:5062>;q=1",
                "<sip:ana@10.0.0.9:5062>;q=0.5"
            ]
        );
        // Ana paused: nobody preferred is reachable; Bob and Eve are
        // eligible and equally idle, Bob first in the roster.
        s.acd.pause("ana").expect("pauses");
        assert_eq!(
            moved(&s.at_ten("+18005550102")),
            ["<sip:bob@10.0.0.2>;q=0.8"]
        );
        assert_eq!(
            s.acd
                .states()
                .iter()
                .find(|(id, _)| id == "bob")
                .map(|x| x.1),
            Some(AgentState::Available)
        );
        // Ring-all: every eligible registered agent at equal q.
        assert_eq!(
            moved(&s.at_ten("+18005550103")),
            ["<sip:bob@10.0.0.2>;q=1", "<sip:eve@10.0.0.5>;q=1"]
        );
        // A configured queue URI wins over agents.
        assert_eq!(
            moved(&s.at_ten("+18005550104")),
            ["<sip:remote-queue@pbx.example.net>"]
        );
        // Only Dee could take it, and she has no phone; no `no agents`.
        let r = s.at_ten("+18005550105");
        assert_eq!(failure(&r), Failure::Unavailable);
        assert_eq!(r.outcome, Outcome::Nobody);
    }
}

#[test]
fn routes_read_queue_statistics_from_the_acd() {
    for engine in ENGINES {
        let s = Setup::fixture(engine);
        // Nobody available in `support`.
        assert_eq!(
            moved(&s.at_ten("+18005550106")),
            ["<sip:unstaffed@vm.example.net>"]
        );
        // Cy counts as available (logged in, billing 1 or more) but has no
        // phone registered: the queue, and nobody to send the call to.
        s.login(&["cy"]);
        let r = s.at_ten("+18005550106");
        assert_eq!(failure(&r), Failure::Unavailable);
        assert_eq!(r.outcome, Outcome::Nobody);
        s.login(&["bob"]);
        assert_eq!(moved(&s.at_ten("+18005550106")), ["<sip:bob@10.0.0.2>;q=1"]);
    }
}

#[test]
fn groups_ring_their_members_phones() {
    let s = Setup::fixture(Engine::Jit);
    // Registration is enough for groups and extensions: nobody logged in.
    assert_eq!(
        moved(&s.at_ten("+18005550110")),
        [
            "<sip:ana@10.0.0.1:5062>;q=1",
            "<sip:ana@10.0.0.9:5062>;q=1",
            "<sip:bob@10.0.0.2>;q=0.667",
        ]
    );
    assert_eq!(
        moved(&s.at_ten("+18005550111")),
        [
            "<sip:ana@10.0.0.1:5062>;q=1",
            "<sip:ana@10.0.0.9:5062>;q=1",
            "<sip:bob@10.0.0.2>;q=1",
        ]
    );
    // Nobody registered: the group's `then`.
    let r = s.at_ten("+18005550112");
    assert_eq!(moved(&r), ["<sip:+15125550199@trunk.example.net>"]);
    assert_eq!(r.outcome, Outcome::Transfer);
    // A configured group URI.
    assert_eq!(
        moved(&s.at_ten("+18005550113")),
        ["<sip:far-group@pbx.example.net>"]
    );
}

#[test]
fn extensions_ring_the_registered_phones() {
    let s = Setup::fixture(Engine::Jit);
    let r = s.at_ten("2002");
    assert_eq!(moved(&r), ["<sip:bob@10.0.0.2>;q=0.8"]);
    assert_eq!(r.outcome, Outcome::Extension);
    // No agent has 2050; a phone registered as 2050 has.
    assert_eq!(moved(&s.at_ten("2050")), ["<sip:2050@10.0.0.50>;q=1"]);
    // Cy has no phone registered, Dee no SIP user, 2099 nobody.
    for ext in ["2003", "2004", "2099"] {
        let r = s.at_ten(ext);
        assert_eq!(failure(&r), Failure::Unavailable, "{ext}");
        assert_eq!(r.outcome, Outcome::Nobody);
    }
}

#[test]
fn menus_go_to_the_ivr_or_are_not_implemented() {
    let s = Setup::fixture(Engine::Jit);
    let r = s.at_ten("+18005550120");
    assert_eq!(failure(&r), Failure::NotImplemented);
    assert_eq!(r.answer.code(), 501);
    assert_eq!(r.outcome, Outcome::Menu);
    let with_ivr = Setup::new(
        "tests/fixtures/redirect/main.dial",
        "tests/fixtures/redirect/agents.toml",
        "[targets]\nivr = \"sip:ivr@media.example.net;menu={menu}\"",
        Engine::Jit,
    );
    assert_eq!(
        moved(&with_ivr.at_ten("+18005550120")),
        ["<sip:ivr@media.example.net;menu=main>"]
    );
    // `dial extension` needs the caller's digits.
    let r = s.at_ten("+18005550121");
    assert_eq!(failure(&r), Failure::AddressIncomplete);
    assert_eq!(r.answer.code(), 484);
    assert_eq!(r.outcome, Outcome::DialExtension);
}

#[test]
fn rejections_hang_ups_voicemail_and_unknown_numbers() {
    for engine in ENGINES {
        let s = Setup::fixture(engine);
        for (dialed, code, reason) in [
            ("+18005550130", 486, "Busy Here"),
            ("+18005550131", 603, "Decline"),
            ("+18005550132", 480, "Temporarily Unavailable"),
            ("+18005550133", 603, "Decline"),
            ("+18005559999", 404, "Not Found"),
            ("support", 404, "Not Found"),
            ("", 404, "Not Found"),
        ] {
            let r = s.at_ten(dialed);
            let f = failure(&r);
            assert_eq!((f.code(), f.reason()), (code, reason), "{dialed}");
        }
        assert_eq!(s.at_ten("+18005550133").outcome, Outcome::Hangup);
        assert_eq!(s.at_ten("+18005559999").outcome, Outcome::NoEntry);
        assert_eq!(s.at_ten("+18005559999").path.end, End::NoEntry);
        // A mailbox is escaped for the URI's user part.
        assert_eq!(
            moved(&s.at_ten("+18005550140")),
            ["<sip:general%20mailbox@vm.example.net>"]
        );
    }
}

#[test]
fn the_support_example_as_explain_sees_it() {
    let s = Setup::new(
        "examples/support/support.dial",
        "examples/support/agents.toml",
        TARGETS,
        Engine::Jit,
    );
    let at = |dialed: &str, when: &str| s.call(Some("+16175550123"), dialed, when);
    // Closed late at night (the "closed late at night" test's call).
    let r = s.call(Some("+16175550123"), "+18885550100", "2026-11-23 21:30");
    assert_eq!(moved(&r), ["<sip:support@vm.example.net>"]);
    // Thanksgiving on the Spanish line.
    assert_eq!(
        moved(&at("+18885550150", "2026-11-26 11:00")),
        ["<sip:soporte@vm.example.net>"]
    );
    // Open: the language menu, and no IVR configured.
    assert_eq!(
        failure(&at("+18885550100", "2026-11-23 09:00")),
        Failure::NotImplemented
    );
}

#[test]
fn the_bank_example_reads_its_lookups() {
    let s = Setup::new(
        "examples/bank/bank.dial",
        "examples/bank/agents.toml",
        "[targets.queues]\nfraud = \"sip:fraud@pbx.example.net\"",
        Engine::Jit,
    );
    // A blocked caller on the fraud line: declined (blocked.csv).
    let r = s.call(Some("+19005550123"), "+18005550399", "2026-11-23 10:00");
    assert_eq!(failure(&r), Failure::Decline);
    // Anyone else reaches the fraud queue.
    let r = s.call(Some("+15125550101"), "+18005550399", "2026-11-23 10:00");
    assert_eq!(moved(&r), ["<sip:fraud@pbx.example.net>"]);
}
