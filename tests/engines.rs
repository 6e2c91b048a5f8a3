//! The same decisions on two engines: every decision function of every
//! example and lint fixture, run by the interpreter and by the JIT over
//! random call facts, must give the same answer.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use proptest::prelude::*;

use dialect::checked::{MAX_SKILL_LEVEL, Program, QueueStat, SkillKind, Type};
use dialect::cli::RealFs;
use dialect::facts::{AgentFacts, Facts, Slot};
use dialect::ir::{self, FuncId};
use dialect::jit::Compiled;
use dialect::load::Loader;
use dialect::random::Rng;

/// Scripts that check clean: the examples and the `ok` lint fixtures.
fn scripts() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in [
        "examples/office",
        "examples/support",
        "examples/bank",
        "examples/multisite",
        "tests/fixtures/lint/ok",
    ] {
        for entry in std::fs::read_dir(dir).expect("folder exists") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "dial") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn checked(path: &Path) -> Program {
    let fs = RealFs;
    let mut loader = Loader::new(&fs);
    let root = loader.load(path).expect("readable");
    let c = loader.check(root, None);
    let errors: Vec<_> = c.diagnostics.iter().filter(|d| d.is_error()).collect();
    assert!(
        errors.is_empty(),
        "{} has errors: {errors:?}",
        path.display()
    );
    c.program
}

/// Numbers worth trying: what the script's entries and conditions mention,
/// mutated, and random ones.
fn number(rng: &mut Rng, program: &Program, module: &ir::Module) -> String {
    match rng.below(4) {
        0 => program
            .entries
            .get(rng.below(program.entries.len()))
            .map(|e| e.pattern.example())
            .unwrap_or_default(),
        1 => rng.pick(&module.strings).cloned().unwrap_or_default(),
        2 => {
            let mut s = program
                .entries
                .first()
                .map(|e| e.pattern.example())
                .unwrap_or_else(|| "+18005550100".into());
            let i = 1 + rng.below(s.len().saturating_sub(1));
            if i < s.len() {
                s.replace_range(i..i + 1, &rng.below(10).to_string());
            }
            s
        }
        _ => format!("+1{:010}", rng.below(10_000_000_000)),
    }
}

fn facts(rng: &mut Rng, program: &Program, module: &ir::Module) -> Facts {
    let mut f = Facts::new(&module.layout);
    f.caller = if rng.below(10) == 0 {
        String::new()
    } else {
        number(rng, program, module)
    };
    f.dialed = number(rng, program, module);
    f.digits = match rng.below(3) {
        0 => String::new(),
        1 => rng.pick(&module.strings).cloned().unwrap_or_default(),
        _ => (0..rng.below(6))
            .map(|_| char::from(b"0123456789*#"[rng.below(12)]))
            .collect(),
    };
    // 2020-01-01 to 2030-12-31, every minute equally likely, so DST changes
    // and leap days come up.
    let seconds = 1_577_836_800 + rng.below(11 * 365 * 86_400) as i64;
    let ts = jiff::Timestamp::from_second(seconds).expect("in range");
    f.set_time(&program.zones, ts);
    for (l, lookup) in program.lookups.iter().enumerate() {
        if rng.below(3) == 0 {
            continue;
        }
        let row = lookup
            .fields
            .iter()
            .map(|field| match &field.ty {
                Type::Text | Type::Phone => Slot {
                    int: 0,
                    text: rng.pick(&module.strings).cloned().unwrap_or_default(),
                },
                Type::Bool => Slot::int(rng.below(2) as i64),
                Type::Enum(s) => match &program.skill(*s).kind {
                    SkillKind::Values(v) => Slot::int(rng.below(v.len()) as i64),
                    SkillKind::Level => Slot::int(0),
                },
                _ => Slot::int(rng.below(200) as i64 - 20),
            })
            .collect();
        f.lookups[l] = Some(row);
    }
    for q in f.queues.iter_mut() {
        for stat in QueueStat::ALL {
            let value = match rng.below(3) {
                0 => 0,
                1 => rng.below(30) as i64,
                _ => rng.below(1_200_000) as i64,
            };
            q.set(stat, value);
        }
    }
    f
}

/// A random agent. One in four holds fewer skills than the program
/// declares, as an agent of an older roster may: the JIT pads them with
/// zeros, which the interpreter reads as missing skills.
fn agent(rng: &mut Rng, program: &Program) -> AgentFacts {
    let mut skills: Vec<i64> = program
        .skills
        .iter()
        .map(|s| match &s.kind {
            SkillKind::Level => rng.range(0, MAX_SKILL_LEVEL as usize) as i64,
            SkillKind::Values(v) => (rng.next_u64() & ((1u64 << v.len().min(63)) - 1)) as i64,
        })
        .collect();
    if rng.chance(25) {
        let keep = rng.below(skills.len());
        skills.truncate(keep);
    }
    AgentFacts {
        skills,
        attrs: [
            rng.below(120) as i64,
            rng.below(40) as i64,
            rng.below(480) as i64,
        ],
    }
}

/// Every script, checked, lowered and compiled once for all cases.
static COMPILED: LazyLock<Vec<(PathBuf, Program, ir::Module, Compiled)>> = LazyLock::new(|| {
    scripts()
        .into_iter()
        .map(|path| {
            let program = checked(&path);
            let module = ir::lower(&program);
            let compiled =
                Compiled::new(&module).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (path, program, module, compiled)
        })
        .collect()
});

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Random call facts (numbers, instants from 2020 to 2030 across DST
    /// changes and leap days, digits, lookup rows, queue statistics,
    /// agents) give the same decision on both engines, for every function
    /// of every script.
    #[test]
    fn interpreter_and_jit_agree_on_every_script(seed in any::<u64>()) {
        let mut rng = Rng::new(seed);
        for (path, program, module, compiled) in COMPILED.iter() {
            let f = facts(&mut rng, program, module);
            let a = agent(&mut rng, program);
            let frame = compiled.frame(&f);
            for (i, func) in module.functions.iter().enumerate() {
                let id = FuncId(i as u32);
                let want = dialect::interp::run(module, id, &f, func.agent.then_some(&a));
                let got = if func.agent {
                    compiled.agent_fn(id, &frame).run(&a.skills, a.attrs)
                } else {
                    compiled.run(id, &frame)
                };
                prop_assert_eq!(got, want, "{}: {} disagrees on {:#?}", path.display(), func.name, f);
            }
        }
    }
}

/// Guards against a vacuous comparison: over random facts, route and entry
/// decisions take several different values.
#[test]
fn decisions_vary() {
    let program = checked(Path::new("examples/bank/bank.dial"));
    let module = ir::lower(&program);
    let compiled = Compiled::new(&module).expect("compiles");
    let mut rng = Rng::new(42);
    let mut seen = std::collections::BTreeMap::<String, std::collections::BTreeSet<i64>>::new();
    for _ in 0..2000 {
        let f = facts(&mut rng, &program, &module);
        let frame = compiled.frame(&f);
        for (i, func) in module.functions.iter().enumerate() {
            if !func.agent {
                seen.entry(func.name.clone())
                    .or_default()
                    .insert(compiled.run(FuncId(i as u32), &frame));
            }
        }
    }
    let varied = seen.values().filter(|v| v.len() > 1).count();
    assert!(
        varied * 2 > seen.len(),
        "most decisions never changed: {seen:?}"
    );
    assert!(seen["route inbound"].len() >= 4, "{seen:?}");
}

/// Dial patterns are compiled to wide loads and digit tests: every
/// printable character at every position must match exactly as the
/// interpreter (and `Pattern::matches`) says.
#[test]
fn dial_patterns_match_byte_for_byte() {
    let text = r#"
        route r { otherwise -> hangup }
        entry "+1 512 555 XXXX" -> route r
        entry "+1 513 55N ZZ[1-5]9" -> route r
        entry "+44 20 [135]X[0-2] 0000" -> route r
        entry "1XX" -> route r
        entry "+1 800 123 4567" -> route r
    "#;
    let fs = dialect::load::MemoryFs::default().with("main.dial", text);
    let mut loader = Loader::new(&fs);
    let root = loader.load(Path::new("main.dial")).expect("loads");
    let checked = loader.check(root, None);
    assert!(
        checked.diagnostics.iter().all(|d| !d.is_error()),
        "{:#?}",
        checked.diagnostics
    );
    let program = checked.program;
    let module = ir::lower(&program);
    let compiled = Compiled::new(&module).expect("compiles");
    let mut f = Facts::new(&module.layout);
    let mut compared = 0;
    for entry in &program.entries {
        let example = entry.pattern.example();
        for position in 0..example.len() {
            for byte in 0x20u8..0x7f {
                let mut bytes = example.clone().into_bytes();
                bytes[position] = byte;
                f.dialed = String::from_utf8(bytes).expect("ascii");
                let want = dialect::interp::run(&module, module.entries, &f, None);
                let frame = compiled.frame(&f);
                assert_eq!(compiled.run(module.entries, &frame), want, "{:?}", f.dialed);
                let by_pattern = program
                    .entries
                    .iter()
                    .enumerate()
                    .filter(|(_, e)| e.pattern.matches(&f.dialed))
                    .min_by_key(|(_, e)| e.pattern.breadth())
                    .map(|(i, _)| i);
                let by_ir = usize::try_from(want)
                    .ok()
                    .map(|i| module.entry_order[i] as usize);
                assert_eq!(by_ir, by_pattern, "{:?}", f.dialed);
                compared += 1;
            }
        }
    }
    assert!(compared > 4_000);
}
