//! Per-decision latency of a large route (500 rules over hours, calendars,
//! dial patterns, a lookup and queue statistics) on four engines: the JIT,
//! the reference interpreter, the same logic written by hand in Rust, and
//! the same logic in LuaJIT through mlua (including handing it the call's
//! data). Also the time to compile the whole script.
//!
//! Run: `cargo bench --features bench --bench decide`; the LuaJIT column
//! needs `--features luajit` instead (it builds a vendored LuaJIT, with a C
//! compiler and `make`). Ratios matter more than absolutes on a shared
//! machine; record them in docs/performance.md.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use dialect::facts::{Facts, LocalTime, QueueStats, Slot};
use dialect::ir;
use dialect::number::Pattern;
use dialect::program::{Engine, Program};

#[path = "shared/route500.rs"]
mod route500;
use route500::{RULES, Rule, Spec, load, script, spec};

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

fn bench(c: &mut Criterion) {
    let spec = spec();
    let text = script(&spec);
    // The call's row is in its facts (see `facts`): decisions read rows
    // from facts, so the program needs no lookup tables here.
    let program = Program::compile(load(&text)).expect("compiles");
    let route = program.ir().routes[0];
    let f = facts(&program);
    let hand = Hand::new(&spec);

    // Every engine must agree before any is timed.
    let expected = program.decide(Engine::Interp, route, &f, None);
    assert_eq!(
        expected, RULES as i64,
        "the benchmark call should reach `otherwise`"
    );
    assert_eq!(program.decide(Engine::Jit, route, &f, None), expected);
    assert_eq!(hand.decide(&f), expected);

    let mut g = c.benchmark_group("decide");
    let frame = program.native().frame(&f);
    g.bench_function("jit", |b| {
        b.iter(|| program.native().run(black_box(route), black_box(&frame)))
    });
    g.bench_function("jit_with_frame", |b| {
        b.iter(|| {
            let frame = program.native().frame(black_box(&f));
            program.native().run(route, &frame)
        })
    });
    g.bench_function("interp", |b| {
        b.iter(|| dialect::interp::run(program.ir(), black_box(route), black_box(&f), None))
    });
    g.bench_function("hand_rust", |b| b.iter(|| hand.decide(black_box(&f))));
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
    eprintln!(
        "script: {} bytes, {} rules, {} IR functions, {} bytes of native code",
        text.len(),
        RULES,
        program.ir().functions.len(),
        program.code_bytes()
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
