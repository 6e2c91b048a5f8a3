//! Per-decision latency of a large route (500 rules over hours, calendars,
//! dial patterns, a lookup and queue statistics) on five engines: the JIT,
//! the same rules compiled ahead of time by rustc with every constant
//! inlined (`shared/route500_aot.rs`, the limit the JIT is measured
//! against), the reference interpreter, the same logic as a hand-written
//! Rust loop over rule structs, and the same logic in LuaJIT through mlua
//! (including handing it the call's data). Also the time to compile the
//! whole script.
//!
//! Every engine is checked against the interpreter on the benchmark's call
//! and on random calls before anything is timed. The first table printed
//! times JIT, AOT, hand loop and interpreter in interleaved rounds (this
//! machine's speed drifts between runs, so ratios within a round are what
//! count); criterion's groups follow.
//!
//! Run: `cargo bench --features bench --bench decide`; the LuaJIT column
//! needs `--features luajit` instead (it builds a vendored LuaJIT, with a C
//! compiler and `make`). `DIALECT_DECIDE_COUNT=ENGINE:N` (ENGINE one of
//! `jit`, `aot`, `hand`, `interp`, `compile`) runs that engine N times and
//! nothing else, for counting instructions under callgrind (run it with N
//! and with 0 and divide the difference by N). Record results in
//! docs/performance.md.

use std::hint::black_box;
use std::time::Instant;

use criterion::Criterion;
use dialect::facts::{Facts, LocalTime, QueueStats, Slot};
use dialect::ir;
use dialect::number::Pattern;
use dialect::program::{Engine, Program};
use dialect::random::Rng;

#[path = "shared/route500.rs"]
mod route500;
use route500::{RULES, Rule, Spec, load, script, spec};

#[path = "shared/aot.rs"]
mod aot;

// Generated (see `shared/aot.rs`): long lines, left as written.
#[rustfmt::skip]
#[path = "shared/route500_aot.rs"]
mod route500_aot;

/// A call no rule catches, so every engine evaluates all 500 conditions:
/// Sunday 03:00, an out-of-area caller with a small balance, quiet queues.
fn facts(program: &Program) -> Facts {
    let mut f = Facts::new(&program.ir().layout);
    f.caller = "+14155550100".into();
    f.dialed = "+18005550100".into();
    let ts: jiff::Timestamp = "2026-11-29T09:00:00Z".parse().expect("instant");
    f.set_time(&program.checked().zones, ts);
    f.lookups[0] = Some(vec![
        Slot {
            int: 0,
            text: "basic".into(),
        },
        Slot::int(10),
        Slot::int(0),
    ]);
    for q in f.queues.iter_mut() {
        *q = QueueStats {
            waiting: 0,
            available: 3,
            agents: 5,
            longest_wait_ms: 0,
            expected_wait_ms: 20_000,
        };
    }
    f
}

/// The same route written by hand: what a careful Rust programmer would
/// write for these rules, reading the same facts.
struct Hand {
    rules: Vec<HandRule>,
    hours: Vec<(i64, i64, i64, i64)>,
    calendars: Vec<Vec<i64>>,
}

enum HandRule {
    Caller(Pattern),
    OpenAndBusy(usize, usize, i64),
    Customer(i64, &'static str),
    HolidayWeekend(usize),
    DialedWait(String, usize, i64),
}

impl Hand {
    fn new(s: &Spec) -> Hand {
        let rules = s
            .rules
            .iter()
            .map(|r| match r {
                Rule::Caller { pattern } => {
                    HandRule::Caller(Pattern::parse(pattern).expect("pattern"))
                }
                Rule::OpenAndBusy {
                    hours,
                    queue,
                    above,
                } => HandRule::OpenAndBusy(*hours, *queue, *above),
                Rule::Customer { above, tier } => HandRule::Customer(*above, tier),
                Rule::HolidayWeekend { calendar } => HandRule::HolidayWeekend(*calendar),
                Rule::DialedWait {
                    prefix,
                    queue,
                    seconds,
                } => HandRule::DialedWait(prefix.clone(), *queue, seconds * 1000),
            })
            .collect();
        Hand {
            rules,
            hours: s.hours.clone(),
            calendars: s.calendars.clone(),
        }
    }

    fn open(&self, h: usize, t: &LocalTime) -> bool {
        let (a, b, from, to) = self.hours[h];
        t.weekday >= a && t.weekday <= b && t.day_minute >= from && t.day_minute < to
    }

    fn decide(&self, f: &Facts) -> i64 {
        let t = &f.time[0];
        for (k, r) in self.rules.iter().enumerate() {
            let fires = match r {
                HandRule::Caller(p) => p.matches(&f.caller),
                HandRule::OpenAndBusy(h, q, above) => {
                    self.open(*h, t) && f.queues[*q].waiting > *above
                }
                HandRule::Customer(above, tier) => match &f.lookups[0] {
                    Some(row) => row[1].int > *above && row[0].text == *tier,
                    None => false,
                },
                HandRule::HolidayWeekend(c) => {
                    self.calendars[*c].contains(&t.date) && t.weekday >= 5
                }
                HandRule::DialedWait(prefix, q, ms) => {
                    f.dialed.starts_with(prefix.as_str()) && f.queues[*q].expected_wait_ms > *ms
                }
            };
            if fires {
                return k as i64;
            }
        }
        RULES as i64
    }
}

/// The LuaJIT column, built only with `--features luajit`.
#[cfg(feature = "luajit")]
mod lua {
    use std::hint::black_box;

    use criterion::BenchmarkGroup;
    use criterion::measurement::WallTime;

    /// The same route as a Lua function over a table of the call's data.
    pub fn lua_source(s: &super::Spec) -> String {
        let mut t = String::from("local cal = {}\n");
        for (i, days) in s.calendars.iter().enumerate() {
            let set: Vec<String> = days.iter().map(|d| format!("[{d}]=true")).collect();
            t.push_str(&format!("cal[{i}] = {{{}}}\n", set.join(",")));
        }
        t.push_str("return function(c)\n");
        for (k, r) in s.rules.iter().enumerate() {
            let cond = match r {
                super::Rule::Caller { pattern } => {
                    let lua: String = pattern
                        .chars()
                        .map(|ch| match ch {
                            '+' => "%+".to_string(),
                            'X' => "%d".to_string(),
                            'N' => "[2-9]".to_string(),
                            d => d.to_string(),
                        })
                        .collect();
                    format!("string.find(c.caller, \"^{lua}$\")")
                }
                super::Rule::OpenAndBusy {
                    hours,
                    queue,
                    above,
                } => {
                    let (a, b, from, to) = s.hours[*hours];
                    format!(
                        "(c.weekday >= {a} and c.weekday <= {b} and c.minute >= {from} and c.minute < {to}) and c.waiting[{}] > {above}",
                        queue + 1
                    )
                }
                super::Rule::Customer { above, tier } => {
                    format!(
                        "c.customer ~= nil and c.customer.balance > {above} and c.customer.tier == \"{tier}\""
                    )
                }
                super::Rule::HolidayWeekend { calendar } => {
                    format!("cal[{calendar}][c.date] and c.weekday >= 5")
                }
                super::Rule::DialedWait {
                    prefix,
                    queue,
                    seconds,
                } => format!(
                    "string.sub(c.dialed, 1, {}) == \"{prefix}\" and c.expected[{}] > {}",
                    prefix.len(),
                    queue + 1,
                    seconds * 1000
                ),
            };
            t.push_str(&format!("  if {cond} then return {k} end\n"));
        }
        t.push_str(&format!("  return {}\nend\n", super::RULES));
        t
    }

    /// Hands a call's data to Lua as a table, as an embedder would.
    pub fn lua_table(lua: &mlua::Lua, f: &super::Facts) -> mlua::Result<mlua::Table> {
        let c = lua.create_table()?;
        let t = &f.time[0];
        c.set("caller", f.caller.as_str())?;
        c.set("dialed", f.dialed.as_str())?;
        c.set("weekday", t.weekday)?;
        c.set("minute", t.day_minute)?;
        c.set("date", t.date)?;
        if let Some(row) = &f.lookups[0] {
            let customer = lua.create_table()?;
            customer.set("tier", row[0].text.as_str())?;
            customer.set("balance", row[1].int)?;
            c.set("customer", customer)?;
        }
        let waiting =
            lua.create_table_from(f.queues.iter().enumerate().map(|(i, q)| (i + 1, q.waiting)))?;
        let expected = lua.create_table_from(
            f.queues
                .iter()
                .enumerate()
                .map(|(i, q)| (i + 1, q.expected_wait_ms)),
        )?;
        c.set("waiting", waiting)?;
        c.set("expected", expected)?;
        Ok(c)
    }

    /// Checks that Lua gives `expected`, then times it with and without
    /// building the table of the call's data.
    pub fn bench(
        g: &mut BenchmarkGroup<'_, WallTime>,
        spec: &super::Spec,
        f: &super::Facts,
        expected: i64,
    ) {
        let lua = mlua::Lua::new();
        let lua_fn: mlua::Function = lua.load(lua_source(spec)).eval().expect("lua compiles");
        let table = lua_table(&lua, f).expect("table");
        assert_eq!(
            lua_fn.call::<i64>(table.clone()).expect("lua runs"),
            expected
        );
        g.bench_function("luajit_with_table", |b| {
            b.iter(|| {
                let t = lua_table(&lua, black_box(f)).expect("table");
                lua_fn.call::<i64>(t).expect("lua runs")
            })
        });
        g.bench_function("luajit", |b| {
            b.iter(|| {
                lua_fn
                    .call::<i64>(black_box(table.clone()))
                    .expect("lua runs")
            })
        });
    }
}

/// A random call for the agreement check: numbers that match a rule's
/// pattern or prefix half of the time, any instant over the calendars'
/// span, a customer row half of the time, queues mostly quiet with a few
/// busy ones, so that rules all along the route get to fire.
fn random_facts(program: &Program, spec: &Spec, rng: &mut Rng) -> Facts {
    let mut f = facts(program);
    let digits = |rng: &mut Rng, n: usize| -> String {
        (0..n)
            .map(|_| char::from(b'0' + rng.below(10) as u8))
            .collect()
    };
    let pick = |rng: &mut Rng, kind: fn(&Rule) -> Option<String>| -> String {
        let options: Vec<String> = spec.rules.iter().filter_map(kind).collect();
        options[rng.below(options.len())].clone()
    };
    f.caller = if rng.below(2) == 0 {
        let pattern = pick(rng, |r| match r {
            Rule::Caller { pattern } => Some(pattern.clone()),
            _ => None,
        });
        pattern
            .chars()
            .map(|c| match c {
                'N' => char::from(b'2' + rng.below(8) as u8),
                'X' => char::from(b'0' + rng.below(10) as u8),
                c => c,
            })
            .collect()
    } else {
        format!("+1{}", digits(rng, 10))
    };
    f.dialed = if rng.below(2) == 0 {
        let prefix = pick(rng, |r| match r {
            Rule::DialedWait { prefix, .. } => Some(prefix.clone()),
            _ => None,
        });
        let n = rng.below(5);
        format!("{prefix}{}", digits(rng, n))
    } else {
        let n = rng.below(12);
        format!("+1{}", digits(rng, n))
    };
    // From 2025-12-01 over 500 days, at any minute.
    let seconds = 1_764_547_200 + rng.below(500 * 86_400) as i64;
    let ts = jiff::Timestamp::from_second(seconds).expect("instant");
    f.set_time(&program.checked().zones, ts);
    f.lookups[0] = (rng.below(2) == 0).then(|| {
        let tiers = ["gold", "silver", "private", "staff", "basic"];
        vec![
            Slot {
                int: 0,
                text: tiers[rng.below(tiers.len())].into(),
            },
            Slot::int(rng.below(2_000) as i64),
            Slot::int(rng.below(2) as i64),
        ]
    });
    for q in f.queues.iter_mut() {
        if rng.below(10) == 0 {
            q.waiting = rng.below(40) as i64;
        }
        if rng.below(10) == 0 {
            q.expected_wait_ms = rng.below(400_000) as i64;
        }
    }
    f
}

/// Every engine against the interpreter, on the benchmark's call and on
/// `n` random calls; returns how many distinct answers the random calls
/// gave (how much of the route they reached).
fn check_agreement(program: &Program, spec: &Spec, hand: &Hand, n: usize) -> usize {
    let route = program.ir().routes[0];
    let mut rng = Rng::new(14);
    let mut seen = std::collections::BTreeSet::new();
    for i in 0..n {
        let f = random_facts(program, spec, &mut rng);
        let want = program.decide(Engine::Interp, route, &f, None);
        let (caller, dialed) = (&f.caller, &f.dialed);
        assert_eq!(
            program.decide(Engine::Jit, route, &f, None),
            want,
            "jit, random call {i} ({caller}, {dialed})"
        );
        assert_eq!(
            route500_aot::decide(&f),
            want,
            "aot, random call {i} ({caller}, {dialed})"
        );
        assert_eq!(
            hand.decide(&f),
            want,
            "hand, random call {i} ({caller}, {dialed})"
        );
        seen.insert(want);
    }
    seen.len()
}

/// Times each engine in `rounds` rounds, every engine once per round in
/// an order that rotates, and prints nanoseconds per decision (median and
/// range over rounds) and, for every engine, its time divided by the AOT
/// code's in the same round.
fn interleaved(engines: &[(&str, &dyn Fn() -> i64)], rounds: usize) {
    // About 4 ms per engine per round.
    let iters: Vec<u64> = engines
        .iter()
        .map(|(_, run)| {
            let start = Instant::now();
            let mut n = 0u64;
            while start.elapsed().as_micros() < 4_000 {
                black_box(run());
                n += 1;
            }
            n.max(1)
        })
        .collect();
    let mut ns: Vec<Vec<f64>> = vec![Vec::with_capacity(rounds); engines.len()];
    for round in 0..rounds {
        for k in 0..engines.len() {
            let e = (k + round) % engines.len();
            let start = Instant::now();
            for _ in 0..iters[e] {
                black_box((engines[e].1)());
            }
            ns[e].push(start.elapsed().as_nanos() as f64 / iters[e] as f64);
        }
    }
    let median = |v: &[f64]| {
        let mut v = v.to_vec();
        v.sort_by(f64::total_cmp);
        (v[v.len() / 2], v[0], v[v.len() - 1])
    };
    let aot = engines
        .iter()
        .position(|(name, _)| *name == "aot")
        .expect("an aot engine");
    eprintln!(
        "decide, interleaved: {rounds} rounds, ns per decision and ratio to aot in the same round"
    );
    eprintln!(
        "{:<8} {:>10} {:>10} {:>10} {:>12} {:>18}",
        "engine", "median", "min", "max", "÷aot median", "÷aot min..max"
    );
    for (e, (name, _)) in engines.iter().enumerate() {
        let (m, lo, hi) = median(&ns[e]);
        let ratios: Vec<f64> = ns[e].iter().zip(&ns[aot]).map(|(a, b)| a / b).collect();
        let (rm, rlo, rhi) = median(&ratios);
        eprintln!(
            "{name:<8} {m:>10.1} {lo:>10.1} {hi:>10.1} {rm:>12.3} {:>18}",
            format!("{rlo:.3}..{rhi:.3}")
        );
    }
}

/// `DIALECT_DECIDE_COUNT=ENGINE:N`: runs one engine N times, for callgrind.
fn count(mode: &str, program: &Program, hand: &Hand, f: &Facts, text: &str) {
    let (engine, n) = mode.split_once(':').expect("ENGINE:N");
    let n: u64 = n.parse().expect("a count");
    let route = program.ir().routes[0];
    let frame = program.native().frame(f);
    let mut sum = 0;
    for _ in 0..n {
        sum += match engine {
            "jit" => program.native().run(black_box(route), black_box(&frame)),
            "aot" => route500_aot::decide(black_box(f)),
            "hand" => hand.decide(black_box(f)),
            "interp" => dialect::interp::run(program.ir(), black_box(route), black_box(f), None),
            "compile" => {
                let module = ir::lower(&load(black_box(text)));
                dialect::jit::Compiled::new(&module)
                    .expect("compiles")
                    .code_bytes as i64
            }
            other => panic!("unknown engine {other}"),
        };
    }
    eprintln!("{engine} x{n}: {sum}");
}

fn main() {
    let spec = spec();
    let text = script(&spec);
    // The call's row is in its facts (see `facts`): decisions read rows
    // from facts, so the program needs no lookup tables here.
    let program = Program::compile(load(&text)).expect("compiles");
    let route = program.ir().routes[0];
    let f = facts(&program);
    let hand = Hand::new(&spec);
    assert_eq!(
        aot::source(&spec),
        include_str!("shared/route500_aot.rs"),
        "{} is stale: run `DIALECT_WRITE_AOT=1 cargo test --test bench_route`",
        aot::PATH
    );

    // Every engine must agree before any is timed.
    let expected = program.decide(Engine::Interp, route, &f, None);
    assert_eq!(
        expected, RULES as i64,
        "the benchmark call should reach `otherwise`"
    );
    assert_eq!(program.decide(Engine::Jit, route, &f, None), expected);
    assert_eq!(route500_aot::decide(&f), expected);
    assert_eq!(hand.decide(&f), expected);

    if let Ok(mode) = std::env::var("DIALECT_DECIDE_COUNT") {
        count(&mode, &program, &hand, &f, &text);
        return;
    }
    let reached = check_agreement(&program, &spec, &hand, 20_000);
    eprintln!(
        "agreement: jit, aot and hand agree with the interpreter on 20000 random calls ({reached} distinct answers)"
    );
    eprintln!(
        "script: {} bytes, {} rules, {} IR functions, {} bytes of native code ({} for the route)",
        text.len(),
        RULES,
        program.ir().functions.len(),
        program.code_bytes(),
        program.native().code_bytes_of(route)
    );

    let frame = program.native().frame(&f);
    let jit = || program.native().run(black_box(route), black_box(&frame));
    let aot = || route500_aot::decide(black_box(&f));
    let hand_loop = || hand.decide(black_box(&f));
    let interp = || dialect::interp::run(program.ir(), black_box(route), black_box(&f), None);
    interleaved(
        &[
            ("jit", &jit),
            ("aot", &aot),
            ("hand", &hand_loop),
            ("interp", &interp),
        ],
        40,
    );

    let mut c = Criterion::default().configure_from_args();
    let mut g = c.benchmark_group("decide");
    g.bench_function("jit", |b| b.iter(jit));
    g.bench_function("aot_rust", |b| b.iter(aot));
    g.bench_function("jit_with_frame", |b| {
        b.iter(|| {
            let frame = program.native().frame(black_box(&f));
            program.native().run(route, &frame)
        })
    });
    g.bench_function("interp", |b| b.iter(interp));
    g.bench_function("hand_rust", |b| b.iter(hand_loop));
    #[cfg(feature = "luajit")]
    lua::bench(&mut g, &spec, &f, expected);
    g.finish();

    let mut g = c.benchmark_group("compile");
    g.sample_size(20);
    g.bench_function("large_script", |b| {
        b.iter(|| {
            let checked = load(black_box(&text));
            let module = ir::lower(&checked);
            dialect::jit::Compiled::new(&module)
                .expect("compiles")
                .code_bytes
        })
    });
    g.finish();
    c.final_summary();
}
