//! Random well-typed scripts, compiled both ways, must agree: a generator
//! writes scripts that use every kind of expression (time, calendars,
//! lookups with guards, queue statistics, patterns, text, arithmetic with
//! possible division by zero, agent skills), the checker accepts them, and
//! every decision function gives the same answer on the interpreter and
//! the JIT over random facts.
//!
//! `DIALECT_RANDOM_SCRIPTS` sets how many scripts to try; the default is
//! 10,000 under CI (`CI` set) and 1,000 otherwise.

use std::fmt::Write;
use std::path::Path;

use dialect::checked::{self, MAX_SKILL_LEVEL, SkillKind, Type};
use dialect::facts::{AgentFacts, Facts, QueueStats, Slot};
use dialect::ir::{self, FuncId};
use dialect::jit::Compiled;
use dialect::load::{Loader, MemoryFs};
use dialect::random::Rng;

/// Words drawn from the lists of this file, which are never empty.
trait Words {
    fn word<'a>(&mut self, items: &[&'a str]) -> &'a str;
}

impl Words for Rng {
    fn word<'a>(&mut self, items: &[&'a str]) -> &'a str {
        self.pick(items).copied().unwrap_or_default()
    }
}

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const TIERS: [&str; 4] = ["gold", "silver", "basic", ""];
const LANGS: [&str; 3] = ["en", "es", "fr"];

/// Expression generator. `guarded` says `customer` is known to have a row;
/// `agent` says the expression is a queue's agent selection.
struct Gen<'r> {
    rng: &'r mut Rng,
    guarded: bool,
    agent: bool,
}

impl Gen<'_> {
    fn time(&mut self) -> String {
        format!("{:02}:{:02}", self.rng.below(24), self.rng.below(60))
    }

    fn date(&mut self) -> String {
        format!(
            "{}-{:02}-{:02}",
            2020 + self.rng.below(11),
            1 + self.rng.below(12),
            1 + self.rng.below(28)
        )
    }

    fn int(&mut self, depth: u32) -> String {
        let leaf = depth == 0 || self.rng.chance(40);
        if leaf {
            let options = 3 + usize::from(self.guarded) + 2 * usize::from(self.agent);
            return match self.rng.below(options) {
                0 => (self.rng.below(50) as i64 - 10).to_string(),
                1 => format!(
                    "queue(q{}).{}",
                    self.rng.below(3),
                    self.rng.word(&["waiting", "available", "agents"])
                ),
                // Skill levels only compare with 0..=MAX_SKILL_LEVEL (D3020), so agent
                // expressions keep literals small.
                2 if !self.agent => self.rng.below(1_000_000_000).to_string(),
                2 => self.rng.range(0, MAX_SKILL_LEVEL as usize).to_string(),
                3 if self.guarded => "customer.balance".into(),
                _ if self.agent && self.rng.chance(50) => self.rng.word(&["sales", "tech"]).into(),
                _ => format!(
                    "agent.{}",
                    self.rng
                        .word(&["idle_minutes", "calls_today", "talk_minutes"])
                ),
            };
        }
        match self.rng.below(6) {
            0 => format!("-({})", self.int(depth - 1)),
            n => {
                let op = ["+", "-", "*", "/", "%"][n - 1];
                format!("({} {op} {})", self.int(depth - 1), self.int(depth - 1))
            }
        }
    }

    fn duration(&mut self, depth: u32) -> String {
        match self.rng.below(4) {
            0 => format!("{}s", self.rng.below(600)),
            1 => format!(
                "queue(q{}).{}",
                self.rng.below(3),
                self.rng.word(&["longest_wait", "expected_wait"])
            ),
            2 if self.guarded => "customer.wait".into(),
            _ if depth > 0 => format!(
                "({} + {})",
                self.duration(depth - 1),
                self.duration(depth - 1)
            ),
            _ => format!("{}m{}s", self.rng.below(10), self.rng.below(60)),
        }
    }

    fn text(&mut self) -> String {
        match self.rng.below(3) {
            0 if self.guarded => "customer.tier".into(),
            1 => "digits".into(),
            _ => format!("\"{}\"", self.rng.word(&TIERS)),
        }
    }

    fn phone_literal(&mut self) -> String {
        format!("\"+1512555{:04}\"", self.rng.below(10_000))
    }

    fn boolean(&mut self, depth: u32) -> String {
        if depth == 0 || self.rng.chance(30) {
            return self.atom(depth);
        }
        match self.rng.below(5) {
            0 => format!("not ({})", self.boolean(depth - 1)),
            1 | 2 => format!(
                "({} and {})",
                self.boolean(depth - 1),
                self.boolean(depth - 1)
            ),
            _ => format!(
                "({} or {})",
                self.boolean(depth - 1),
                self.boolean(depth - 1)
            ),
        }
    }

    fn atom(&mut self, depth: u32) -> String {
        let cmp = ["==", "!=", "<", "<=", ">", ">="];
        match self.rng.below(16) {
            0 => format!("open(h{})", self.rng.below(4)),
            1 => format!("holiday(c{})", self.rng.below(3)),
            2 => format!(
                "{} {} {}",
                self.int(depth.min(2)),
                self.rng.word(&cmp),
                self.int(depth.min(2))
            ),
            3 => format!(
                "{} {} {}",
                self.duration(1),
                self.rng.word(&cmp),
                self.duration(1)
            ),
            4 => format!("now.time {} {}", self.rng.word(&cmp), self.time()),
            5 => format!("now.date {} {}", self.rng.word(&cmp), self.date()),
            6 => {
                let days: Vec<&str> = (0..1 + self.rng.below(3))
                    .map(|_| self.rng.word(&DAYS))
                    .collect();
                format!("now.weekday in [{}]", days.join(", "))
            }
            7 => format!(
                "now.weekday {} {}",
                self.rng.word(&["==", "!="]),
                self.rng.word(&DAYS)
            ),
            8 => format!(
                "{} matches \"+1512555{}\"",
                self.rng.word(&["caller", "dialed"]),
                self.rng.word(&["XXXX", "0[1-5]XX", "NXXZ", "01X9"])
            ),
            9 => format!(
                "{} starts_with \"{}\"",
                self.rng.word(&["caller", "dialed"]),
                self.rng.word(&["+1512", "+1800", "+44", "+"])
            ),
            10 if self.rng.chance(25) => self
                .rng
                .word(&["caller withheld", "not caller withheld"])
                .to_string(),
            10 => format!(
                "{} {} {}",
                self.rng.word(&["caller", "dialed"]),
                self.rng.word(&["==", "!="]),
                self.phone_literal()
            ),
            11 => format!(
                "{} {} {}",
                self.text(),
                self.rng.word(&["==", "!="]),
                self.text()
            ),
            12 => format!("{} in [\"gold\", \"basic\", \"12\"]", self.text()),
            13 if !self.agent => {
                // A guarded sub-expression over the lookup.
                let was = self.guarded;
                self.guarded = true;
                let inner = match self.rng.below(4) {
                    0 => "customer.vip".to_string(),
                    1 => format!("customer.lang == {}", self.rng.word(&LANGS)),
                    2 => format!("customer.since {} {}", self.rng.word(&cmp), self.date()),
                    _ => self.boolean(depth.saturating_sub(1)),
                };
                self.guarded = was;
                format!("(known customer and {inner})")
            }
            14 if self.agent => match self.rng.below(3) {
                0 => format!(
                    "lang {} {}",
                    self.rng.word(&["==", "!="]),
                    self.rng.word(&LANGS)
                ),
                1 => format!(
                    "lang in [{}, {}]",
                    self.rng.word(&LANGS),
                    self.rng.word(&LANGS)
                ),
                _ => format!("sales >= {}", self.rng.range(0, MAX_SKILL_LEVEL as usize)),
            },
            _ => format!("known {}", self.rng.word(&["customer", "acct"])),
        }
    }
}

/// A random script; every rule, queue filter and score is generated.
fn script(seed: u64) -> String {
    let mut rng = Rng::new(seed);
    let r = &mut rng;
    let mut s = String::from("timezone \"America/Chicago\"\n");
    s.push_str("skill sales\nskill tech\nskill lang { en, es, fr }\n");
    s.push_str("lookup customer by caller from \"c.csv\" { tier: text, balance: int, vip: bool, lang: lang, since: date, wait: duration }\n");
    s.push_str("lookup acct by digits from \"a.csv\" { x: int }\n");
    for h in 0..4 {
        let zone = if h == 3 { " in \"Europe/London\"" } else { "" };
        let a = r.below(7);
        let b = r.below(7);
        let (from, to) = (r.below(24), r.below(24));
        let to = if to == from { (to + 1) % 24 } else { to };
        let _ = writeln!(
            s,
            "hours h{h}{zone} {{ {}..{} {:02}:{:02}..{:02}:00 }}",
            DAYS[a],
            DAYS[b],
            from,
            r.below(60),
            to
        );
    }
    for c in 0..3 {
        let _ = writeln!(s, "calendar c{c} {{");
        for _ in 0..1 + r.below(3) {
            let (m, d) = (1 + r.below(12), 1 + r.below(28));
            // Holidays by rule, sometimes with times of day.
            let times = if r.chance(30) {
                format!(" {:02}:00..{:02}:30", r.below(12), 12 + r.below(12))
            } else {
                String::new()
            };
            match r.below(7) {
                4 => {
                    let nth = ["1st", "2nd", "3rd", "4th", "5th", "last"][r.below(6)];
                    let day = DAYS[r.below(7)];
                    let _ = writeln!(s, "  yearly {nth} {day} of {m:02}{times}");
                    continue;
                }
                5 => {
                    let offset = r.below(127) as i64 - 63;
                    let _ = writeln!(s, "  yearly easter {offset:+}{times}");
                    continue;
                }
                6 => {
                    let _ = writeln!(s, "  yearly {m:02}-{d:02} observed{times}");
                    continue;
                }
                _ => {}
            }
            match r.below(4) {
                0 => {
                    let _ = writeln!(s, "  yearly {m:02}-{d:02}");
                }
                1 => {
                    let _ = writeln!(
                        s,
                        "  yearly {m:02}-{d:02}..{:02}-{:02}",
                        1 + r.below(12),
                        1 + r.below(28)
                    );
                }
                2 => {
                    let _ = writeln!(
                        s,
                        "  {}-{m:02}-{d:02} {:02}:00..{:02}:30",
                        2020 + r.below(11),
                        r.below(12),
                        12 + r.below(12)
                    );
                }
                _ => {
                    let y = 2020 + r.below(10);
                    let _ = writeln!(s, "  {y}-{m:02}-{d:02}..{}-{m:02}-{d:02}", y + 1);
                }
            }
        }
        s.push_str("}\n");
    }
    for q in 0..3 {
        let mut g = Gen {
            rng: r,
            guarded: false,
            agent: true,
        };
        let require = g.boolean(2);
        let prefer = g.boolean(2);
        let score = format!("sales * {} + tech + {}", g.rng.below(10), g.int(2));
        let _ = writeln!(
            s,
            "queue q{q} {{\n  strategy best_score\n  require sales >= 0 and tech >= 0 and ({require})\n  prefer {prefer}\n  score {score}\n  after 60s require {}\n}}",
            g.boolean(1)
        );
    }
    for route in 0..3 {
        let _ = writeln!(s, "route r{route} {{");
        let rules = 2 + r.below(6);
        for _ in 0..rules {
            let mut g = Gen {
                rng: r,
                guarded: false,
                agent: false,
            };
            let cond = g.boolean(3);
            let _ = writeln!(s, "  when {cond} -> queue q{}", g.rng.below(3));
        }
        s.push_str("  otherwise -> hangup\n}\n");
    }
    s.push_str("menu m { 1 -> route r1; 23 -> route r2; \"#\" -> hangup }\n");
    s.push_str("entry \"+1 800 555 0100\" -> route r0\nentry \"+1 800 555 0101\" -> menu m\n");
    s
}

fn facts(rng: &mut Rng, p: &checked::Program, m: &ir::Module) -> Facts {
    let mut f = Facts::new(&m.layout);
    let number = |rng: &mut Rng| match rng.below(4) {
        0 => format!("+1512555{:04}", rng.below(10_000)),
        1 => format!("+1512555{}", ["0100", "0123", "0159", "2349"][rng.below(4)]),
        2 => "+18005550100".into(),
        _ => String::new(),
    };
    f.caller = number(rng);
    f.dialed = number(rng);
    f.digits = ["", "12", "gold", "1", "23", "#"][rng.below(6)].to_string();
    let mut seconds = 1_577_836_800 + rng.below(11 * 365 * 86_400) as i64;
    if rng.chance(25) {
        // Near the days holiday rules fall on (Easter, the ends of months,
        // weekends around fixed days), so the rules' dates come up often.
        let start = [(3, 18), (5, 22), (11, 20), (12, 22), (12, 28)][rng.below(5)];
        let day = jiff::civil::date(2020 + rng.below(11) as i16, start.0, start.1)
            .checked_add(jiff::Span::new().days(rng.below(45) as i64))
            .expect("a date");
        seconds = day
            .to_zoned(jiff::tz::TimeZone::UTC)
            .expect("in range")
            .timestamp()
            .as_second()
            + rng.below(86_400) as i64;
    }
    f.set_time(
        &p.zones,
        jiff::Timestamp::from_second(seconds).expect("in range"),
    );
    for (l, lookup) in p.lookups.iter().enumerate() {
        if rng.chance(30) {
            continue;
        }
        let row = lookup
            .fields
            .iter()
            .map(|field| match &field.ty {
                Type::Text => Slot {
                    int: 0,
                    text: TIERS[rng.below(4)].into(),
                },
                Type::Bool => Slot::int(rng.below(2) as i64),
                Type::Enum(_) => Slot::int(rng.below(3) as i64),
                Type::Date => Slot::int(18_000 + rng.below(5_000) as i64),
                Type::Duration => Slot::int(rng.below(900_000) as i64),
                _ => Slot::int(rng.below(100) as i64 - 20),
            })
            .collect();
        f.lookups[l] = Some(row);
    }
    for q in f.queues.iter_mut() {
        *q = QueueStats {
            waiting: rng.below(30) as i64,
            available: rng.below(5) as i64,
            agents: rng.below(9) as i64,
            longest_wait_ms: rng.below(600_000) as i64,
            expected_wait_ms: rng.below(600_000) as i64,
        };
    }
    f
}

fn agent(rng: &mut Rng, p: &checked::Program) -> AgentFacts {
    AgentFacts {
        skills: p
            .skills
            .iter()
            .map(|s| match s.kind {
                SkillKind::Level => rng.range(0, MAX_SKILL_LEVEL as usize) as i64,
                SkillKind::Values(_) => rng.below(8) as i64,
            })
            .collect(),
        attrs: [
            rng.below(100) as i64,
            rng.below(30) as i64,
            rng.below(400) as i64,
        ],
    }
}

#[test]
fn random_scripts_agree_on_both_engines() {
    let default = if std::env::var_os("CI").is_some() {
        10_000
    } else {
        1_000
    };
    let wanted: u64 = std::env::var("DIALECT_RANDOM_SCRIPTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    let (mut valid, mut invalid, mut decisions) = (0u64, 0u64, 0u64);
    let mut seed = 0u64;
    while valid < wanted {
        seed += 1;
        let text = script(seed);
        let fs = MemoryFs::default()
            .with("main.dial", &text)
            .with("c.csv", "phone,tier,balance,vip,lang,since,wait\n")
            .with("a.csv", "digits,x\n");
        let mut loader = Loader::new(&fs);
        let root = loader.load(Path::new("main.dial")).expect("loads");
        let checked = loader.check(root, None);
        if checked.diagnostics.iter().any(|d| d.is_error()) {
            invalid += 1;
            assert!(
                invalid <= valid / 5 + 20,
                "too many generated scripts fail to check; seed {seed}:\n{text}\n{:#?}",
                checked.diagnostics
            );
            continue;
        }
        valid += 1;
        let module = ir::lower(&checked.program);
        let compiled =
            Compiled::new(&module).unwrap_or_else(|e| panic!("seed {seed}: {e}\n{text}"));
        let mut rng = Rng::new(seed ^ 0xD1B5_4A32_D192_ED03);
        for _ in 0..4 {
            let f = facts(&mut rng, &checked.program, &module);
            let a = agent(&mut rng, &checked.program);
            let frame = compiled.frame(&f);
            for (i, func) in module.functions.iter().enumerate() {
                let id = FuncId(i as u32);
                let want = dialect::interp::run(&module, id, &f, func.agent.then_some(&a));
                let got = if func.agent {
                    compiled.agent_fn(id, &frame).run(&a.skills, a.attrs)
                } else {
                    compiled.run(id, &frame)
                };
                assert_eq!(
                    got, want,
                    "seed {seed}: {} disagrees\nscript:\n{text}\nfacts: {f:#?}",
                    func.name
                );
                decisions += 1;
            }
        }
    }
    eprintln!(
        "{valid} random scripts ({invalid} rejected by the checker), {decisions} decisions compared"
    );
}
