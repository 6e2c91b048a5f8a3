//! Redirect mode's decision per INVITE (`server::redirect::decide`): the
//! numbers normalised, the call's facts built, the flow driven through
//! the entry and the route (local time, lookups, queue statistics from the
//! ACD) and the answer's Contact written. Two scripts: a small one with a
//! 5-rule route, and the decide benchmark's 500-rule route
//! (`shared/route500.rs`), both on a call that no rule catches, so that
//! every condition runs and the call ends in `voicemail`.
//!
//! Run: `cargo bench --features bench --bench redirect`. Ratios matter
//! more than absolutes on a shared machine; record them in
//! docs/performance.md.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use dialect::load::{Loader, MemoryFs};
use dialect::lookup::{LookupTables, load_tables};
use dialect::program::{Engine, Program};
use dialect::runtime::acd::Acd;
use dialect::runtime::clock::Clock;
use dialect::runtime::events::EventBus;
use dialect::runtime::roster::Roster;
use dialect::server::config::Config;
use dialect::server::redirect::{Answer, Call, Context, decide};

// The generator's rule list and its hand-written twin serve the decide
// benchmark; this one needs only the script.
#[allow(dead_code)]
#[path = "shared/route500.rs"]
mod route500;

/// Five rules of the kinds the large route has, the same otherwise.
const SMALL: &str = r#"
timezone "America/Chicago"
lookup customer by caller from "customers.csv" { tier: text, balance: int, past_due: bool }
hours h0 { mon..fri 07:00..18:00 }
queue q0 { strategy longest_idle }
queue q1 { strategy longest_idle }
route inbound {
  when caller matches "+1512200NXXX" -> queue q0
  when open(h0) and queue(q1).waiting > 5 -> queue q1
  when known customer and customer.balance > 1000 and customer.tier == "gold" -> queue q0
  when now.weekday in [sat, sun] and caller starts_with "+1512" -> queue q1
  when dialed starts_with "+1888" -> queue q0
  otherwise -> voicemail "general"
}
entry "+1 800 555 0100" -> route inbound
"#;

/// A script and its lookup rows, as `dialect serve` would hold them.
fn compile(text: &str) -> (Program, LookupTables) {
    let fs = MemoryFs::default()
        .with("main.dial", text)
        .with("customers.csv", route500::CSV);
    let mut loader = Loader::new(&fs);
    let root = loader
        .load(std::path::Path::new("main.dial"))
        .expect("loads");
    let checked = loader.check(root, None);
    assert!(
        !checked.diagnostics.iter().any(|d| d.is_error()),
        "the script has errors"
    );
    let tables = load_tables(&loader, &checked.program).expect("tables");
    let program = Program::compile(checked.program).expect("compiles");
    (program, tables)
}

fn bench(c: &mut Criterion) {
    let config = Config::defaults("main.dial".as_ref());
    let version: Arc<str> = Arc::from("0123456789ab");
    let registered = |_: &str| Vec::new();
    // Sunday 03:00 in Chicago, an out-of-area caller: no rule fires.
    let call = Call {
        caller: Some("+14155550100"),
        dialed: "+18005550100",
        at: "2026-11-29T09:00:00Z".parse().expect("instant"),
    };
    let large = route500::script(&route500::spec());
    let mut g = c.benchmark_group("redirect");
    for (name, text) in [
        ("small_5_rules", SMALL),
        ("route_500_rules", large.as_str()),
    ] {
        let (program, tables) = compile(text);
        let acd = Acd::new(
            &Roster::default(),
            program.checked(),
            Arc::new(EventBus::default()),
            Engine::Jit,
            Clock::wall(),
        )
        .expect("an ACD");
        let cx = Context {
            program: &program,
            tables: &tables,
            engine: Engine::Jit,
            targets: &config.targets,
            acd: &acd,
            registered: &registered,
            version: &version,
            switches: &dialect::runtime::SwitchStates::default(),
        };
        // The call must reach `otherwise` before it is timed.
        let answer = decide(&cx, &call).answer;
        assert!(
            matches!(&answer, Answer::Moved(c) if c[0].uri == "sip:general@voicemail.invalid"),
            "{name}: {answer:?}"
        );
        g.bench_function(name, |b| b.iter(|| decide(&cx, black_box(&call))));
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
