//! The walk behind `dialect test` and `dialect explain` and the call
//! runtime follow a call the same way: both drive `flow::Flow`, and time
//! moves in the walk as it does for the runtime's simulated caller.
//!
//! Regressions of the ways they used to disagree (time frozen in the walk,
//! over-long key entries, the step limit), then a differential property
//! test: random scripts of menus, routes that read the time, key entries
//! that are too long, too short or silent, run through both drivers, which
//! must take the same steps. `DIALECT_FLOW_CASES` sets how many calls to
//! try; the default is 10,000 under CI (`CI` set) and 1,000 otherwise.

use std::sync::Arc;

use dialect::checked::{ActionKind, Press};
use dialect::facts::Facts;
use dialect::flow::walk::{self, Walk};
use dialect::flow::{End, MAX_ROUTE_CHAIN, Step};
use dialect::program::{Engine, Program};
use dialect::random::Rng;
use dialect::runtime::record::Step as RecordStep;
use dialect::runtime::{Arrival, Clock, Disposition, Roster, Runtime, Summary};
use dialect::sim::{Behaviour, SimCaller};

/// Walks a call to `to` at `at` (UTC) with `presses` (`timeout` is silence).
fn walk_call(program: &Program, engine: Engine, to: &str, at: &str, presses: &[&str]) -> Walk {
    let mut facts = Facts::new(&program.ir().layout);
    facts.caller = "+15125550101".into();
    facts.dialed = to.into();
    let presses: Vec<Press> = presses
        .iter()
        .map(|p| match *p {
            "timeout" => Press::Timeout,
            k => Press::Keys(k.into()),
        })
        .collect();
    let fixed = vec![false; program.checked().lookups.len()];
    // The scripts here have no lookups.
    let tables = dialect::lookup::LookupTables::empty(program.checked());
    walk::walk(
        program,
        &tables,
        engine,
        facts,
        at.parse().expect("instant"),
        &presses,
        fixed,
    )
}

/// Runs the same call through the runtime with a simulated caller and no
/// agents, on tokio's paused clock.
fn run_call(
    program: Arc<Program>,
    engine: Engine,
    to: &str,
    at: &str,
    presses: &[&str],
) -> Arc<Summary> {
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("tokio");
    tokio.block_on(async move {
        let clock = Clock::starting_at(at.parse().expect("instant"));
        let rt = Runtime::builder(program, &Roster::default())
            .clock(clock)
            .engine(engine)
            .build()
            .expect("runtime");
        let mut caller = SimCaller::new(
            rt.clock().clone(),
            Behaviour {
                presses: presses
                    .iter()
                    .map(|p| (*p != "timeout").then(|| p.to_string()))
                    .collect(),
                talk_ms: 60_000,
                ..Behaviour::default()
            },
        );
        caller.logging = false;
        rt.run_call(&mut caller, Arrival::new("+15125550101", to))
            .await
    })
}

fn compile(script: &str) -> Arc<Program> {
    Arc::new(Program::from_text(script).unwrap_or_else(|e| panic!("{e}\n{script}")))
}

/// The walk's steps are the runtime's, up to where the walk stops (a
/// queue, a group or a ring is the runtime's alone, and a walk out of
/// presses ends where the runtime's caller hangs up).
fn same_path(walk: &Walk, summary: &Summary) -> Result<(), String> {
    let mut walked = walk.steps.clone();
    if walk.end == End::WaitingForExtension {
        // The walk notes the `dial extension` it waits at; the runtime's
        // caller hung up there.
        walked.pop();
    }
    let ran = &summary.flow;
    let hands_on = walk.actions().last().is_some_and(|p| {
        matches!(
            p.action.kind,
            ActionKind::Queue { .. } | ActionKind::Group(_)
        )
    });
    let agrees = if hands_on {
        ran.len() >= walked.len() && ran[..walked.len()] == walked[..]
    } else {
        ran[..] == walked[..]
    };
    if agrees {
        Ok(())
    } else {
        Err(format!(
            "walk ({:?}):\n{}\nruntime ({:?}):\n{}",
            walk.end,
            steps_text(&walked),
            summary.disposition,
            steps_text(ran)
        ))
    }
}

fn steps_text(steps: &[Step]) -> String {
    steps
        .iter()
        .map(|s| match s {
            Step::Action(p) => format!("  Action({:?})", p.action.kind),
            other => format!("  {other:?}"),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A menu with a 61 s timeout entered at 10:00:00, then a route that
/// checks opening hours ending at 10:01: both drivers see 10:01:03 and
/// the closed branch.
#[test]
fn time_moves_in_the_walk_as_in_the_runtime() {
    let program = compile(
        r#"
timezone "UTC"
hours business { every day 08:00..10:01 }
menu main {
  prompt "main"
  timeout 61s, retries 0 -> route after_menu
  1 -> voicemail "chosen"
}
route after_menu {
  when open(business) -> voicemail "open"
  otherwise           -> voicemail "closed"
}
entry "+18005550100" -> menu main
"#,
    );
    let at = "2026-11-23T09:59:58Z";
    for engine in [Engine::Jit, Engine::Interp] {
        let walk = walk_call(&program, engine, "+18005550100", at, &["timeout"]);
        let last = &walk.actions().last().expect("an action").action.kind;
        assert_eq!(*last, ActionKind::Voicemail("closed".into()), "{walk:?}");
        let summary = run_call(
            Arc::clone(&program),
            engine,
            "+18005550100",
            at,
            &["timeout"],
        );
        assert_eq!(
            summary.path.last().map(|s| s.to_string()).as_deref(),
            Some("voicemail closed")
        );
        same_path(&walk, &summary).unwrap();
    }
}

/// A collector stops at `max_digits` or at the first complete key, and
/// keys after that are dropped, in the walk as on a call.
#[test]
fn over_long_entries_are_cut_where_the_collector_stops() {
    let program = compile(
        r#"
timezone "UTC"
menu main {
  prompt "main"
  1 -> voicemail "one"
  4 -> dial extension 4 digits
}
entry "+18005550100" -> menu main
"#,
    );
    let at = "2026-11-23T10:00:00Z";
    let walk = walk_call(&program, Engine::Jit, "+18005550100", at, &["4", "20011"]);
    let last = walk.actions().last().expect("an action");
    assert_eq!(last.extension.as_deref(), Some("2001"), "{walk:?}");
    let summary = run_call(
        Arc::clone(&program),
        Engine::Jit,
        "+18005550100",
        at,
        &["4", "20011"],
    );
    assert!(
        summary.path.contains(&RecordStep::Extension {
            number: "2001".into()
        }),
        "{:?}",
        summary.path
    );
    // Nobody picks up 2001 here, which has its own disposition.
    assert_eq!(summary.disposition, Disposition::Unanswered);
    same_path(&walk, &summary).unwrap();

    let walk = walk_call(&program, Engine::Jit, "+18005550100", at, &["12"]);
    assert_eq!(
        walk.actions().last().map(|p| &p.action.kind),
        Some(&ActionKind::Voicemail("one".into())),
        "{walk:?}"
    );
    let summary = run_call(
        Arc::clone(&program),
        Engine::Jit,
        "+18005550100",
        at,
        &["12"],
    );
    assert_eq!(summary.disposition, Disposition::Voicemail);
    same_path(&walk, &summary).unwrap();
}

/// A chain of routes as long as lint allows runs to its end in both
/// drivers; one route longer is D3028.
#[test]
fn the_longest_chain_lint_allows_runs_to_its_end() {
    let chain = |n: usize| {
        let mut s = String::from("entry \"+18005550100\" -> route r0\n");
        for i in 0..n - 1 {
            s.push_str(&format!("route r{i} {{ otherwise -> route r{} }}\n", i + 1));
        }
        s.push_str(&format!(
            "route r{} {{ otherwise -> voicemail \"end\" }}\n",
            n - 1
        ));
        s
    };
    let program = compile(&chain(MAX_ROUTE_CHAIN));
    let at = "2026-11-23T10:00:00Z";
    let walk = walk_call(&program, Engine::Jit, "+18005550100", at, &[]);
    assert_eq!(walk.end, End::Action);
    assert_eq!(
        walk.actions().last().map(|p| &p.action.kind),
        Some(&ActionKind::Voicemail("end".into()))
    );
    let summary = run_call(program, Engine::Jit, "+18005550100", at, &[]);
    assert_eq!(summary.disposition, Disposition::Voicemail);
    let too_long = Program::from_text(&chain(MAX_ROUTE_CHAIN + 1))
        .err()
        .unwrap_or_default();
    assert!(too_long.contains("D3028"), "{too_long}");
}

/// Queues handing a call to each other with nobody to take it end the
/// call as failed instead of spinning.
#[test]
fn queues_handing_a_call_back_and_forth_are_cut_off() {
    let program = compile(
        r#"
timezone "UTC"
queue a { strategy linear; no agents -> queue b }
queue b { strategy linear; no agents -> queue a }
entry "+18005550100" -> queue a
"#,
    );
    let summary = run_call(
        program,
        Engine::Jit,
        "+18005550100",
        "2026-11-23T10:00:00Z",
        &[],
    );
    assert_eq!(summary.disposition, Disposition::Failed);
}

// ---- The differential property test ----

const KEYS: [&str; 9] = ["1", "2", "3", "42", "55", "9", "0", "*", "\"#\""];
const PRESSES: [&str; 16] = [
    "1", "2", "3", "4", "42", "55", "5", "9", "0", "*", "#", "12", "2001", "20011", "123#",
    "timeout",
];

struct Gen {
    rng: Rng,
    menus: usize,
    routes: usize,
}

impl Gen {
    fn chance(&mut self, percent: usize) -> bool {
        self.rng.below(100) < percent
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.rng.below(items.len())]
    }

    /// An action list: maybe a prompt, then a terminal action. `route` is
    /// the route it belongs to (later routes only, so routes never loop);
    /// `in_menu` allows `repeat`, `back` and `dial extension`.
    fn actions(&mut self, route: Option<usize>, in_menu: bool) -> String {
        let mut out = String::new();
        if self.chance(25) {
            out.push_str(&format!("play \"p{}\", ", self.rng.below(3)));
        }
        let first_route = route.map_or(0, |r| r + 1);
        // Keys and handlers lead to routes often: a route decided after a
        // menu sees the time the menu took.
        if in_menu && first_route < self.routes && self.chance(45) {
            out.push_str(&format!("route r{}", self.rng.below(self.routes)));
            return out;
        }
        loop {
            let t = match self.rng.below(14) {
                0 | 1 => format!("menu m{}", self.rng.below(self.menus)),
                2..=4 if first_route < self.routes => {
                    format!(
                        "route r{}",
                        first_route + self.rng.below(self.routes - first_route)
                    )
                }
                13 => "queue q".into(),
                5 => "group g".into(),
                6 => format!("voicemail \"v{}\"", self.rng.below(3)),
                7 => self
                    .pick(&["reject busy", "hangup", "transfer \"+15125550199\""])
                    .into(),
                8 => self.pick(&["extension 2001", "extension last 4"]).into(),
                9 | 10 if in_menu => self.pick(&["repeat", "back"]).into(),
                11 if in_menu => "dial extension 4 digits".into(),
                12 if in_menu => "repeat".into(),
                _ => continue,
            };
            out.push_str(&t);
            return out;
        }
    }

    fn script(&mut self) -> String {
        let mut s = String::from(
            "timezone \"UTC\"\n\
             hours early { every day 00:00..10:01 }\n\
             queue q { strategy linear; no agents -> voicemail \"nobody\" }\n\
             group g { members 3001; mode sequential 10s; then -> voicemail \"group\" }\n",
        );
        for m in 0..self.menus {
            s.push_str(&format!("menu m{m} {{\n  prompt \"m{m}\"\n"));
            let timeout = self.pick(&["3s", "5s", "20s", "61s"]);
            let retries = self.rng.below(3);
            s.push_str(&format!(
                "  timeout {timeout}, digit timeout 2s, retries {retries}"
            ));
            if self.chance(50) {
                s.push_str(&format!(" -> {}", self.actions(None, false)));
            }
            s.push('\n');
            if self.chance(20) {
                let min = 1 + self.rng.below(3);
                s.push_str(&format!(
                    "  collect {min}..{} digits -> {}\n",
                    min + self.rng.below(3),
                    self.actions(None, true)
                ));
            } else {
                let mut keys: Vec<&str> = Vec::new();
                for _ in 0..2 + self.rng.below(3) {
                    let k = self.pick(&KEYS);
                    if !keys.contains(&k) {
                        keys.push(k);
                    }
                }
                for k in keys {
                    s.push_str(&format!("  {k} -> {}\n", self.actions(None, true)));
                }
            }
            if self.chance(50) {
                s.push_str(&format!("  invalid -> {}\n", self.actions(None, true)));
            }
            if self.chance(50) {
                s.push_str(&format!("  timeout -> {}\n", self.actions(None, true)));
            }
            s.push_str("}\n");
        }
        for r in 0..self.routes {
            s.push_str(&format!("route r{r} {{\n"));
            let minute = self.rng.below(4);
            s.push_str(&format!(
                "  when now.time >= 10:0{minute} -> {}\n",
                self.actions(Some(r), false)
            ));
            if self.chance(50) {
                s.push_str(&format!(
                    "  when open(early) -> {}\n",
                    self.actions(Some(r), false)
                ));
            }
            s.push_str(&format!(
                "  otherwise -> {}\n}}\n",
                self.actions(Some(r), false)
            ));
        }
        let entry = if self.chance(70) {
            format!("menu m{}", self.rng.below(self.menus))
        } else {
            self.actions(None, false)
        };
        s.push_str(&format!("entry \"+18005550100\" -> {entry}\n"));
        s
    }
}

#[test]
fn walk_and_runtime_take_the_same_path() {
    let cases: usize = std::env::var("DIALECT_FLOW_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if std::env::var_os("CI").is_some() {
            10_000
        } else {
            1_000
        });
    // Each script is called with several key sequences.
    const CALLS_PER_SCRIPT: usize = 10;
    let mut rng = Rng::new(0x5eed_f10e);
    let mut compared = 0;
    let mut routes_after_menus = 0;
    for script_no in 0..cases.div_ceil(CALLS_PER_SCRIPT) {
        let mut g = Gen {
            rng: rng.fork(),
            menus: 1 + rng.below(4),
            routes: 1 + rng.below(4),
        };
        let script = g.script();
        let program = compile(&script);
        let engine = if script_no % 4 == 3 {
            Engine::Interp
        } else {
            Engine::Jit
        };
        for _ in 0..CALLS_PER_SCRIPT {
            let presses: Vec<&str> = (0..rng.below(7)).map(|_| g.pick(&PRESSES)).collect();
            let at = format!("2026-11-23T09:59:{:02}Z", rng.below(60));
            let walk = walk_call(&program, engine, "+18005550100", &at, &presses);
            let summary = run_call(Arc::clone(&program), engine, "+18005550100", &at, &presses);
            if let Err(e) = same_path(&walk, &summary) {
                panic!(
                    "the walk and the runtime disagree\ncall at {at}, presses {presses:?}, {engine:?}\n{script}\n{e}"
                );
            }
            compared += 1;
            let first_offer = walk
                .steps
                .iter()
                .position(|s| matches!(s, Step::Offer { .. }));
            let last_route = walk
                .steps
                .iter()
                .rposition(|s| matches!(s, Step::Route { .. }));
            if first_offer < last_route && first_offer.is_some() {
                routes_after_menus += 1;
            }
        }
    }
    assert!(compared >= cases);
    // The scripts exercise routes decided after menus, where time has moved.
    assert!(
        routes_after_menus * 5 > compared,
        "{routes_after_menus} of {compared}"
    );
}
