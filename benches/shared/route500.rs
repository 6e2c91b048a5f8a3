//! The decide benchmark's generated route: 500 rules over hours,
//! calendars, dial patterns, a lookup and queue statistics, shared by
//! `benches/decide.rs` and `benches/redirect.rs` (each includes it with
//! `#[path]`).

use std::path::Path;

use dialect::load::{Loader, MemoryFs};

pub const RULES: usize = 500;
pub const QUEUES: usize = 50;
pub const HOURS: usize = 10;
pub const CALENDARS: usize = 5;

/// One rule of the generated route, in a form every engine can follow.
pub enum Rule {
    /// `caller matches PATTERN`
    Caller { pattern: String },
    /// `open(hN) and queue(qM).waiting > X`
    OpenAndBusy {
        hours: usize,
        queue: usize,
        above: i64,
    },
    /// `known customer and customer.balance > X and customer.tier == T`
    Customer { above: i64, tier: &'static str },
    /// `holiday(cN) and now.weekday in [sat, sun]`
    HolidayWeekend { calendar: usize },
    /// `dialed starts_with P and queue(qM).expected_wait > Ds`
    DialedWait {
        prefix: String,
        queue: usize,
        seconds: i64,
    },
}

pub struct Spec {
    pub rules: Vec<Rule>,
    /// Per hours: (first weekday, last weekday, from minute, to minute).
    pub hours: Vec<(i64, i64, i64, i64)>,
    /// Per calendar: days since 1970.
    pub calendars: Vec<Vec<i64>>,
}

pub fn spec() -> Spec {
    let tiers = ["gold", "silver", "private", "staff"];
    let rules = (0..RULES)
        .map(|k| match k % 5 {
            0 => Rule::Caller {
                pattern: format!("+1512{:03}NXXX", 200 + k),
            },
            // Each kind of rule comes every fifth rule, so `k / 5` counts
            // the rules of one kind: cycling it through the hours and the
            // calendars uses every one (`k % 5` alone would pick one).
            1 => Rule::OpenAndBusy {
                hours: (k / 5) % HOURS,
                queue: k % QUEUES,
                above: (k % 30) as i64,
            },
            2 => Rule::Customer {
                above: 1_000 + k as i64,
                tier: tiers[k % tiers.len()],
            },
            3 => Rule::HolidayWeekend {
                calendar: (k / 5) % CALENDARS,
            },
            _ => Rule::DialedWait {
                prefix: format!("+1888{:03}", k),
                queue: k % QUEUES,
                seconds: 30 + (k % 300) as i64,
            },
        })
        .collect();
    let hours = (0..HOURS as i64)
        .map(|h| (h % 3, 4 + h % 2, 420 + h * 15, 1_080 + h * 10))
        .collect();
    let base = 20_440; // 2025-12-19
    let calendars = (0..CALENDARS as i64)
        .map(|c| (0..12).map(|d| base + c * 37 + d * 29).collect())
        .collect();
    Spec {
        rules,
        hours,
        calendars,
    }
}

pub const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

pub fn script(s: &Spec) -> String {
    let mut t = String::from("timezone \"America/Chicago\"\n");
    t.push_str("lookup customer by caller from \"customers.csv\" { tier: text, balance: int, past_due: bool }\n");
    for (i, (a, b, from, to)) in s.hours.iter().enumerate() {
        t.push_str(&format!(
            "hours h{i} {{ {}..{} {:02}:{:02}..{:02}:{:02} }}\n",
            DAYS[*a as usize],
            DAYS[*b as usize],
            from / 60,
            from % 60,
            to / 60,
            to % 60
        ));
    }
    for (i, days) in s.calendars.iter().enumerate() {
        t.push_str(&format!("calendar c{i} {{\n"));
        for d in days {
            let date = jiff::civil::date(1970, 1, 1)
                .checked_add(jiff::Span::new().days(*d))
                .expect("date");
            t.push_str(&format!("  {date}\n"));
        }
        t.push_str("}\n");
    }
    for q in 0..QUEUES {
        t.push_str(&format!("queue q{q} {{ strategy longest_idle }}\n"));
    }
    t.push_str("route inbound {\n");
    for (k, r) in s.rules.iter().enumerate() {
        let q = k % QUEUES;
        let cond = match r {
            Rule::Caller { pattern } => format!("caller matches \"{pattern}\""),
            Rule::OpenAndBusy {
                hours,
                queue,
                above,
            } => format!("open(h{hours}) and queue(q{queue}).waiting > {above}"),
            Rule::Customer { above, tier } => {
                format!(
                    "known customer and customer.balance > {above} and customer.tier == \"{tier}\""
                )
            }
            Rule::HolidayWeekend { calendar } => {
                format!("holiday(c{calendar}) and now.weekday in [sat, sun]")
            }
            Rule::DialedWait {
                prefix,
                queue,
                seconds,
            } => {
                format!(
                    "dialed starts_with \"{prefix}\" and queue(q{queue}).expected_wait > {seconds}s"
                )
            }
        };
        t.push_str(&format!("  when {cond} -> queue q{q}\n"));
    }
    t.push_str("  otherwise -> voicemail \"general\"\n}\n");
    t.push_str("entry \"+1 800 555 0100\" -> route inbound\n");
    t
}

pub const CSV: &str = "phone,tier,balance,past_due\n+14155550100,basic,10,false\n";

/// Checks the generated script, which must lint clean: a warning (an
/// unused hours or calendar, a rule that can never fire) means the
/// benchmark measures less than it says.
pub fn load(text: &str) -> dialect::checked::Program {
    let fs = MemoryFs::default()
        .with("main.dial", text)
        .with("customers.csv", CSV);
    let mut loader = Loader::new(&fs);
    let root = loader
        .load(Path::new("main.dial"))
        .unwrap_or_else(|e| panic!("generated script does not load: {e:?}"));
    let checked = loader.check(root, None);
    let found: Vec<String> = (checked.diagnostics.iter())
        .map(|d| format!("{} {}", d.code, d.message))
        .collect();
    assert!(
        found.is_empty(),
        "the generated script must lint clean:\n{}",
        found.join("\n")
    );
    checked.program
}
