//! Generated scripts for benchmarks and property tests: large, realistic and
//! valid Dialect scripts built deterministically from a [`Size`].
//!
//! [`large_script`] writes one self-contained file with calendars, hours,
//! skills, a lookup, hundreds of queues and menus, hunt groups, thousands of
//! route rules, entries and tests. It checks without errors or warnings when
//! the lookup's CSV file ([`LOOKUP_SOURCE`], contents [`LOOKUP_CSV`]) is
//! beside it, or when lookup sources are not checked at all.
//!
//! The output depends only on the `Size` (including its `seed`), never on
//! the machine or the time: the draws come from the seeded
//! [`crate::random::Rng`] and the generator does no I/O. Compiled with
//! the `testkit` feature only: it serves tests and benchmarks.

use std::collections::HashSet;
use std::fmt::Write as _;

use crate::random::Rng;

/// The file name the generated lookup reads from.
pub const LOOKUP_SOURCE: &str = "customers.csv";

/// A CSV file with every column the generated lookup declares.
pub const LOOKUP_CSV: &str = "\
phone,account,past_due,tier,language,open_tickets,hold_limit,renewal,vip,mobile
+15125550101,A-1001,true,gold,english,2,3m,2027-01-15,true,+15125550101
+15125550102,A-1002,false,silver,spanish,0,10m,2026-12-01,false,+15125550199
";

/// How much of each kind of declaration to generate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Size {
    pub calendars: usize,
    pub hours: usize,
    /// Levelled skills (an enumerated `language` skill is always declared).
    pub skills: usize,
    pub queues: usize,
    pub groups: usize,
    /// Menus; every fourth is a top-level menu with up to three sub-menus.
    pub menus: usize,
    pub routes: usize,
    /// Largest number of `when` rules in one route (routes have from 3 to
    /// this many, about two thirds of it on average).
    pub max_rules: usize,
    pub entries: usize,
    pub tests: usize,
    /// Seed of the pseudo-random choices.
    pub seed: u64,
}

impl Size {
    /// A script made of `n` "units"; one unit is about 4.5 KB of text: four
    /// routes (about 36 rules), two queues, a menu and a share of the rest.
    pub fn units(n: usize) -> Size {
        let n = n.max(1);
        Size {
            calendars: 1 + n / 8,
            hours: 2 + n / 4,
            skills: (2 + n / 2).min(24),
            queues: 2 * n,
            groups: n.div_ceil(3),
            menus: n,
            routes: 4 * n,
            max_rules: 14,
            entries: 1 + n * 3 / 2,
            tests: 1 + n / 4,
            seed: 0x5eed_d1a1_ec70_0001,
        }
    }

    /// A script of about `n` bytes: within a few percent from 50 KB up;
    /// smaller scripts come in steps of one unit (about 4.5 KB).
    pub fn bytes(n: usize) -> Size {
        // Calibrate on two small scripts; the text grows linearly in units.
        let (a, b) = (8usize, 24usize);
        let la = large_script(Size::units(a)).len() as f64;
        let lb = large_script(Size::units(b)).len() as f64;
        let per_unit = (lb - la) / (b - a) as f64;
        let fixed = la - per_unit * a as f64;
        let units = ((n as f64 - fixed) / per_unit).round().max(1.0) as usize;
        // Some counts grow slower than others; correct once at full size.
        let len = large_script(Size::units(units)).len() as f64;
        let corrected = (units as f64 * n as f64 / len).round().max(1.0);
        Size::units(corrected as usize)
    }

    /// A script of about `n` kilobytes (1 KB = 1000 bytes).
    pub fn kilobytes(n: usize) -> Size {
        Size::bytes(n * 1000)
    }

    /// A script of about `n` megabytes (1 MB = 1,000,000 bytes).
    pub fn megabytes(n: usize) -> Size {
        Size::bytes(n * 1_000_000)
    }

    /// The same size with another seed.
    pub fn seed(mut self, seed: u64) -> Size {
        self.seed = seed;
        self
    }
}

/// Writes a valid script of the given size. See the module documentation.
pub fn large_script(size: Size) -> String {
    Gen::new(size).run()
}

// ------------------------------------------------------------------ rng ----

/// One of `items`; the generator picks only from its word lists and from
/// names it has declared, which are never empty.
fn pick<'a, T>(rng: &mut Rng, items: &'a [T]) -> &'a T {
    &items[rng.below(items.len())]
}

// -------------------------------------------------------------- words ----

const DEPARTMENTS: &[&str] = &[
    "billing",
    "sales",
    "support",
    "claims",
    "returns",
    "orders",
    "tech",
    "retention",
    "onboarding",
    "fraud",
    "loans",
    "cards",
    "payroll",
    "shipping",
    "warranty",
    "renewals",
    "collections",
    "escalations",
    "accounts",
    "service",
    "dispatch",
    "pharmacy",
    "travel",
    "insurance",
];

const SITES: &[&str] = &[
    "austin", "dublin", "london", "denver", "manila", "toronto", "chicago", "madrid", "lisbon",
    "boston",
];

const ROUTE_WORDS: &[&str] = &[
    "inbound",
    "screen",
    "by_clock",
    "by_customer",
    "by_load",
    "after_hours",
    "triage",
    "priority_line",
    "language_split",
    "callbacks",
    "holiday_line",
    "vip_line",
];

const LANGUAGES: &[&str] = &[
    "english",
    "spanish",
    "french",
    "german",
    "portuguese",
    "mandarin",
];

const STRATEGIES: &[&str] = &[
    "longest_idle",
    "round_robin",
    "fewest_calls",
    "least_talk_time",
    "linear",
    "random",
    "ring_all",
    "best_score",
];

const TIERS: &[&str] = &["gold", "silver", "bronze", "platinum", "basic"];

// ---------------------------------------------------------- generator ----

struct Gen {
    size: Size,
    rng: Rng,
    calendars: Vec<String>,
    hours: Vec<String>,
    skills: Vec<String>,
    queues: Vec<String>,
    groups: Vec<String>,
    menus: Vec<String>,
    routes: Vec<String>,
    /// Declarations not yet referenced from anything reachable; the next
    /// choices of each kind take from here first.
    pending_hours: Vec<usize>,
    pending_calendars: Vec<usize>,
    pending_queues: Vec<usize>,
    pending_groups: Vec<usize>,
    pending_menus: Vec<usize>,
    /// A counter for numbers that must be unique across the script.
    serial: usize,
}

/// One route under construction: what its conditions already test.
#[derive(Default)]
struct RouteCtx {
    /// Subjects compared with constants (each at most once per route, so
    /// that no rule is hidden by an earlier one).
    subjects: HashSet<String>,
    /// Distinct atoms, as the rule analysis counts them.
    atoms: HashSet<String>,
    /// An earlier rule was `when not known customer`.
    customer_known: bool,
    /// The route ends with `when open(h)` / `when not open(h)` instead of
    /// `otherwise`, so adding rules could make the analysis give up.
    ends_with_pair: bool,
}

impl RouteCtx {
    fn free(&self, subjects: &[&str]) -> bool {
        subjects.iter().all(|s| !self.subjects.contains(*s))
    }

    fn take(&mut self, subjects: &[&str], atoms: &[String]) {
        for s in subjects {
            self.subjects.insert((*s).to_string());
        }
        for a in atoms {
            self.atoms.insert(a.clone());
        }
    }
}

/// A rule: condition (None for `otherwise`) and actions.
type RuleText = (Option<String>, String);

impl Gen {
    fn new(size: Size) -> Gen {
        let rng = Rng::new(size.seed);
        let named = |count: usize, f: &dyn Fn(usize) -> String| (0..count).map(f).collect();
        let calendars: Vec<String> = named(size.calendars.max(1), &|i| {
            format!("{}_holidays_{i}", SITES[i % SITES.len()])
        });
        let hours: Vec<String> = named(size.hours.max(1), &|i| {
            format!("{}_hours_{i}", SITES[i % SITES.len()])
        });
        // Every skill is required by some queue: queue i requires skill i.
        let skill_count = size.skills.min(size.queues).clamp(1, DEPARTMENTS.len());
        let skills: Vec<String> = named(skill_count, &|i| DEPARTMENTS[i].to_string());
        let queues: Vec<String> = named(size.queues.max(1), &|i| {
            format!("{}_{i}", DEPARTMENTS[i % DEPARTMENTS.len()])
        });
        let groups: Vec<String> = named(size.groups.max(1), &|i| {
            format!("{}_desk_{i}", SITES[i % SITES.len()])
        });
        let menus: Vec<String> = named(size.menus.max(1), &|i| {
            format!("{}_menu_{i}", DEPARTMENTS[(i / 4) % DEPARTMENTS.len()])
        });
        let routes: Vec<String> = named(size.routes.max(1), &|i| {
            format!("{}_{i}", ROUTE_WORDS[i % ROUTE_WORDS.len()])
        });
        Gen {
            pending_hours: (0..hours.len()).collect(),
            pending_calendars: (0..calendars.len()).collect(),
            pending_queues: (0..queues.len()).collect(),
            pending_groups: (0..groups.len()).collect(),
            // Only top menus are reached from routes; sub-menus from their parent.
            pending_menus: (0..menus.len()).step_by(4).collect(),
            size,
            rng,
            calendars,
            hours,
            skills,
            queues,
            groups,
            menus,
            routes,
            serial: 0,
        }
    }

    fn run(mut self) -> String {
        let mut out = String::with_capacity(self.size.routes * 1200 + 4096);
        let _ = writeln!(
            out,
            "# Generated by dialect::synth::large_script: {} routes, {} queues, {} menus.",
            self.routes.len(),
            self.queues.len(),
            self.menus.len()
        );
        out.push_str("# A contact center with several sites, departments and phone lines.\n");
        out.push_str("timezone \"America/Chicago\"\n\n");

        // Hours close calendars, so they are written after them but decided
        // first: every calendar is closed by some hours when there are enough.
        let hours_text = self.all_hours();
        out.push_str(&self.all_calendars());
        out.push_str(&hours_text);
        out.push_str(&self.skills_and_lookup());

        // Queues, groups and menus are written before routes, but routes
        // must reference the queues and menus nobody else reaches; build the
        // routes first, and the rest around them.
        let queues_text = self.all_queues();
        let groups_text = self.all_groups();
        let menus_text = self.all_menus();
        let routes_text = self.all_routes();
        out.push_str(&queues_text);
        out.push_str(&groups_text);
        out.push_str(&menus_text);
        out.push_str(&routes_text);
        let (entries_text, direct) = self.all_entries();
        out.push_str(&entries_text);
        out.push_str(&self.all_tests(&direct));
        out
    }

    fn next_serial(&mut self) -> usize {
        self.serial += 1;
        self.serial
    }

    // --------------------------------------------------- picking names ----

    fn take(pending: &mut Vec<usize>, rng: &mut Rng, count: usize) -> usize {
        match pending.pop() {
            Some(i) => i,
            None => rng.below(count),
        }
    }

    fn hours_name(&mut self) -> String {
        let i = Gen::take(&mut self.pending_hours, &mut self.rng, self.hours.len());
        self.hours[i].clone()
    }

    fn calendar_name(&mut self) -> String {
        let i = Gen::take(
            &mut self.pending_calendars,
            &mut self.rng,
            self.calendars.len(),
        );
        self.calendars[i].clone()
    }

    fn queue_name(&mut self) -> String {
        let i = Gen::take(&mut self.pending_queues, &mut self.rng, self.queues.len());
        self.queues[i].clone()
    }

    fn group_name(&mut self) -> String {
        let i = Gen::take(&mut self.pending_groups, &mut self.rng, self.groups.len());
        self.groups[i].clone()
    }

    fn top_menu_name(&mut self) -> String {
        let top = self.menus.len().div_ceil(4);
        let i = match self.pending_menus.pop() {
            Some(i) => i,
            None => self.rng.below(top) * 4,
        };
        self.menus[i].clone()
    }

    /// A queue for statistics in conditions (does not count as a reference
    /// that makes the queue reachable).
    fn any_queue(&mut self) -> String {
        pick(&mut self.rng, &self.queues).clone()
    }

    fn prompt(&mut self, stem: &str) -> String {
        let dept = pick(&mut self.rng, DEPARTMENTS);
        format!("\"{dept}-{stem}\"")
    }

    // -------------------------------------------------- declarations ----

    fn all_calendars(&mut self) -> String {
        let mut out = String::new();
        for (i, name) in self.calendars.clone().iter().enumerate() {
            // Distinct days of the year, so no day is listed twice.
            let mut days: Vec<(u32, u32)> = (1..=12)
                .flat_map(|m| (1..=25).step_by(3).map(move |d| (m, d)))
                .collect();
            self.rng.shuffle(&mut days);
            let count = self.rng.range(3, 8);
            if i % 5 == 4 {
                let _ = writeln!(out, "calendar {name} in \"Europe/London\" {{");
            } else {
                let _ = writeln!(out, "calendar {name} {{");
            }
            for (k, &(m, d)) in days[..count].iter().enumerate() {
                let line = match k % 5 {
                    0 if self.rng.chance(30) => {
                        format!("yearly {m:02}-{d:02} observed   \"Public holiday {k}\"")
                    }
                    0 => format!("yearly {m:02}-{d:02}            \"Public holiday {k}\""),
                    1 => format!("2026-{m:02}-{d:02}            \"Site closure\""),
                    2 => format!("2026-{m:02}-{d:02} 12:00..      \"Half day\""),
                    3 => format!("2027-{m:02}-{d:02} ..10:00      \"Late opening\""),
                    _ => {
                        // A span of days, a yearly span, or a holiday by rule.
                        match self.rng.below(4) {
                            0 => format!(
                                "2026-{m:02}-{d:02}..2026-{m:02}-{:02}  \"Shutdown\"",
                                d + 2
                            ),
                            1 => {
                                format!("yearly {m:02}-{d:02}..{m:02}-{:02}    \"Festival\"", d + 1)
                            }
                            2 => {
                                let nth = ["1st", "2nd", "3rd", "4th", "last"][d as usize % 5];
                                let day = ["mon", "tue", "wed", "thu", "fri"][m as usize % 5];
                                format!("yearly {nth} {day} of {m:02}   \"Moving holiday\"")
                            }
                            _ => {
                                format!("yearly easter {:+}     \"Easter holiday\"", d as i64 - 13)
                            }
                        }
                    }
                };
                let _ = writeln!(out, "  {line}");
            }
            out.push_str("}\n\n");
        }
        out
    }

    fn all_hours(&mut self) -> String {
        let mut out = String::new();
        for (i, name) in self.hours.clone().iter().enumerate() {
            let open = self.rng.range(6, 9);
            let close = self.rng.range(16, 20);
            let half = if self.rng.chance(50) { 30 } else { 0 };
            let zone = if i % 7 == 6 {
                " in \"Europe/London\""
            } else if i % 7 == 5 {
                " in \"America/New_York\""
            } else {
                ""
            };
            let _ = writeln!(out, "hours {name}{zone} {{");
            match i % 6 {
                0 | 1 => {
                    let _ = writeln!(out, "  mon..fri {open:02}:{half:02}..{close:02}:00");
                    let _ = writeln!(out, "  sat      {:02}:00..{:02}:00", open + 1, open + 5);
                }
                2 => {
                    let _ = writeln!(
                        out,
                        "  mon..thu {open:02}:00..12:00, 13:00..{close:02}:{half:02}"
                    );
                    let _ = writeln!(out, "  fri      {open:02}:00..15:00");
                }
                3 => {
                    let _ = writeln!(out, "  every day {:02}:00..{:02}:00", close + 2, open - 2);
                }
                4 => {
                    let _ = writeln!(out, "  mon..fri 00:00..{open:02}:00");
                    let _ = writeln!(out, "  every day {close:02}:00..24:00");
                }
                _ => {
                    let _ = writeln!(out, "  sat; sun");
                    let _ = writeln!(out, "  mon, wed, fri {open:02}:00..{close:02}:00");
                }
            }
            // Close on holidays; the first hours close every calendar once.
            if i % 3 != 2 || !self.pending_calendars.is_empty() {
                let c = self.calendar_name();
                let _ = writeln!(out, "  closed   {c}");
            }
            out.push_str("}\n\n");
        }
        out
    }

    fn skills_and_lookup(&mut self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "skill language {{ {} }}", LANGUAGES.join(", "));
        for s in &self.skills {
            let _ = writeln!(out, "skill {s}");
        }
        let _ = writeln!(
            out,
            "\nlookup customer by caller from \"{LOOKUP_SOURCE}\" {{\n  account:      text\n  past_due:     bool\n  tier:         text\n  language:     language\n  open_tickets: int\n  hold_limit:   duration\n  renewal:      date\n  vip:          bool\n  mobile:       phone\n}}\n"
        );
        out
    }

    fn all_queues(&mut self) -> String {
        let mut out = String::new();
        let n = self.queues.len();
        for i in 0..n {
            let name = self.queues[i].clone();
            let skill = self.skills[i % self.skills.len()].clone();
            let other_skill = pick(&mut self.rng, &self.skills).clone();
            let strategy = STRATEGIES[(i + i / STRATEGIES.len()) % STRATEGIES.len()];
            let level = self.rng.range(2, 8);
            let lang = *pick(&mut self.rng, LANGUAGES);
            let _ = writeln!(out, "queue {name} {{");
            let _ = writeln!(out, "  strategy {strategy}");
            let both = strategy == "best_score" && other_skill != skill;
            let require = match (both, self.rng.below(4)) {
                (true, _) => format!("{skill} >= {level} and {other_skill} >= 1"),
                (false, 0) => format!("{skill} >= {level}"),
                (false, 1) => format!("{skill} >= {level} and language == {lang}"),
                (false, 2) => format!(
                    "{skill} >= {level} and (language == english or language == language.{lang})"
                ),
                (false, _) => format!(
                    "({skill} >= {level} or {other_skill} >= 6) and language in [english, {lang}]"
                ),
            };
            let _ = writeln!(out, "  require  {require}");
            match self.rng.below(5) {
                0 => {
                    let _ = writeln!(
                        out,
                        "  prefer   known customer and language == customer.language"
                    );
                }
                1 => {
                    let _ = writeln!(
                        out,
                        "  prefer   agent.calls_today < {}",
                        self.rng.range(20, 60)
                    );
                }
                2 => {
                    let _ = writeln!(out, "  prefer   not (agent.talk_minutes > 300)");
                }
                _ => {}
            }
            if strategy == "best_score" {
                let score = if both {
                    format!(
                        "{skill} * 2 + {other_skill} * 3 - agent.calls_today + agent.idle_minutes / 5"
                    )
                } else {
                    format!("{skill} * 10 + agent.idle_minutes")
                };
                let _ = writeln!(out, "  score    {score}");
            }
            let ring = match (strategy, self.rng.below(4)) {
                ("ring_all", _) | ("best_score", 0 | 1) => {
                    Some(format!("ring     all {}s", self.rng.range(15, 30)))
                }
                ("fewest_calls", 0) => Some("auto answer".to_string()),
                (_, 0 | 1) => Some(format!("ring     {}s then next", self.rng.range(10, 25))),
                _ => None,
            };
            if let Some(r) = ring {
                let _ = writeln!(out, "  {r}");
            }
            if self.rng.chance(60) {
                let _ = writeln!(out, "  wrapup   {}s", self.rng.range(1, 9) * 10);
            }
            match self.rng.below(4) {
                0 => {
                    let _ = writeln!(out, "  announce position every 60s");
                }
                1 => {
                    let _ = writeln!(out, "  announce position, wait every 45s");
                }
                2 => {
                    let p = self.prompt("thanks");
                    let _ = writeln!(out, "  announce {p} every 30s");
                }
                _ => {}
            }
            if self.rng.chance(40) {
                let _ = writeln!(
                    out,
                    "  music    \"hold-{}\"",
                    ["jazz", "classical", "pop"][i % 3]
                );
            }
            // Relaxation steps in increasing time, then perhaps an overflow.
            let mut at = 0;
            let mut lower = level;
            for _ in 0..self.rng.below(3) {
                at += self.rng.range(1, 3) * 30;
                lower = lower.saturating_sub(1).max(1);
                let relaxed = if both {
                    format!("{skill} >= {lower} and {other_skill} >= 1")
                } else {
                    format!("{skill} >= {lower}")
                };
                let _ = writeln!(out, "  after {at}s require {relaxed}");
            }
            if self.rng.chance(50) {
                at = (at / 60 + self.rng.range(2, 8)) * 60;
                let action = if self.rng.chance(50) && n > 1 {
                    let other = &self.queues[(i + 1 + self.rng.below(n - 1)) % n];
                    format!("queue {other} priority {}", self.rng.range(10, 90))
                } else {
                    format!(
                        "play \"{}-busy\", voicemail \"{name}\"",
                        DEPARTMENTS[i % DEPARTMENTS.len()]
                    )
                };
                let _ = writeln!(out, "  after {}m -> {action}", at / 60);
            }
            match self.rng.below(3) {
                0 => {
                    let _ = writeln!(out, "  no agents -> voicemail \"{name}\"");
                }
                1 => {
                    let _ = writeln!(
                        out,
                        "  no agents -> transfer \"+1 212 555 {:04}\"",
                        100 + i % 9000
                    );
                }
                _ => {}
            }
            if self.rng.chance(25) {
                let _ = writeln!(out, "  pause after {} misses", self.rng.range(2, 6));
            }
            out.push_str("}\n\n");
        }
        out
    }

    fn all_groups(&mut self) -> String {
        let mut out = String::new();
        for (i, name) in self.groups.clone().iter().enumerate() {
            let base = 1000 + (i % 800) * 10;
            let count = self.rng.range(2, 5);
            let members: Vec<String> = (0..count).map(|k| (base + k).to_string()).collect();
            let mode = match i % 3 {
                0 => "sequential 15s",
                1 => "simultaneous 30s",
                _ => "most_recent 20s",
            };
            let then = if self.rng.chance(70) {
                format!("voicemail \"{name}\"")
            } else {
                format!("play \"nobody-free\", record, set tag \"missed-{name}\", hangup")
            };
            let _ = writeln!(
                out,
                "group {name} {{\n  members {}\n  mode    {mode}\n  then    -> {then}\n}}\n",
                members.join(", ")
            );
        }
        out
    }

    fn all_menus(&mut self) -> String {
        let mut out = String::new();
        let n = self.menus.len();
        for i in 0..n {
            let name = self.menus[i].clone();
            let is_top = i % 4 == 0;
            let dept = DEPARTMENTS[(i / 4) % DEPARTMENTS.len()];
            let _ = writeln!(out, "menu {name} {{");
            let _ = writeln!(out, "  prompt  \"{dept}-menu-{}\"", i % 4);
            let _ = writeln!(
                out,
                "  timeout {}s, digit timeout 2s, retries {}",
                self.rng.range(4, 8),
                self.rng.range(1, 3)
            );
            // A sub-menu that collects digits, now and then.
            if !is_top && i % 4 == 3 {
                let route = pick(&mut self.rng, &self.routes).clone();
                let lo = self.rng.range(4, 6);
                let _ = writeln!(out, "  collect {lo}..{} digits -> route {route}", lo + 4);
                let _ = writeln!(out, "  invalid -> play \"not-an-account\", repeat");
                let _ = writeln!(out, "  timeout -> back");
                out.push_str("}\n\n");
                continue;
            }
            let mut keys: Vec<char> = "1234567890".chars().collect();
            self.rng.shuffle(&mut keys);
            let count = self.rng.range(3, 7);
            let mut chosen: Vec<char> = keys[..count].to_vec();
            chosen.sort_unstable();
            let mut k = 0;
            // The sub-menus of a top menu come first.
            if is_top {
                // At least three keys are chosen, one per sub-menu.
                for sub in i + 1..(i + 4).min(n) {
                    let _ = writeln!(out, "  {} -> menu {}", chosen[k], self.menus[sub]);
                    k += 1;
                }
            }
            for &key in &chosen[k..] {
                let action = self.menu_action(&name);
                let _ = writeln!(out, "  {key} -> {action}");
            }
            if is_top {
                let _ = writeln!(out, "  \"*\" -> repeat");
            } else {
                let _ = writeln!(out, "  \"*\" -> back");
            }
            if self.rng.chance(50) {
                let q = self.queue_name();
                let _ = writeln!(out, "  \"#\" -> queue {q}");
            }
            let _ = writeln!(out, "  invalid -> play \"invalid\", repeat");
            let q = self.queue_name();
            let _ = writeln!(out, "  timeout -> queue {q}");
            out.push_str("}\n\n");
        }
        out
    }

    fn menu_action(&mut self, menu: &str) -> String {
        match self.rng.below(10) {
            0..=3 => {
                let q = self.queue_name();
                if self.rng.chance(30) {
                    format!("queue {q} priority {}", self.rng.range(1, 100))
                } else {
                    format!("queue {q}")
                }
            }
            4 => format!("group {}", self.group_name()),
            5 => "dial extension 4 digits".to_string(),
            6 => format!("extension {}", 1000 + self.rng.below(8000)),
            7 => format!("play \"goodbye\", voicemail \"{menu}\""),
            8 => format!("transfer \"+1 415 555 {:04}\"", self.rng.below(10000)),
            _ => {
                let q = self.queue_name();
                format!("set tag \"{menu}\", whisper \"whisper-{menu}\", queue {q}")
            }
        }
    }

    fn all_routes(&mut self) -> String {
        let n = self.routes.len();
        let mut bodies: Vec<Vec<RuleText>> = Vec::with_capacity(n);
        let mut ctxs: Vec<RouteCtx> = Vec::with_capacity(n);
        for i in 0..n {
            // The routes form a tree: route i hands calls to 3i+1..3i+3.
            let children: Vec<usize> = (3 * i + 1..3 * i + 4).filter(|&c| c < n).collect();
            let (rules, ctx) = self.route_rules(i, &children);
            bodies.push(rules);
            ctxs.push(ctx);
        }
        // Anything no route reached yet gets a rule in the first routes that
        // end with `otherwise` (there is always one: route 0).
        let open_ended: Vec<usize> = (0..n).filter(|&i| !ctxs[i].ends_with_pair).collect();
        let mut r = 0;
        while !(self.pending_hours.is_empty()
            && self.pending_calendars.is_empty()
            && self.pending_queues.is_empty()
            && self.pending_groups.is_empty()
            && self.pending_menus.is_empty())
        {
            let cond = if !self.pending_hours.is_empty() {
                format!("open({})", self.hours_name())
            } else if !self.pending_calendars.is_empty() {
                format!("holiday({})", self.calendar_name())
            } else {
                let s = self.next_serial();
                format!("caller matches \"+1 9{:02} NXX XXXX\"", s % 100)
            };
            let action = if !self.pending_groups.is_empty() {
                format!("group {}", self.group_name())
            } else if !self.pending_menus.is_empty() {
                format!("menu {}", self.top_menu_name())
            } else {
                format!("queue {}", self.queue_name())
            };
            let body = &mut bodies[open_ended[r % open_ended.len()]];
            let at = body.len() - 1; // just before `otherwise`
            body.insert(at, (Some(cond), action));
            r += 1;
        }
        let mut out = String::new();
        for (i, rules) in bodies.iter().enumerate() {
            let _ = writeln!(out, "route {} {{", self.routes[i]);
            let width = rules
                .iter()
                .map(|(c, _)| c.as_ref().map_or(9, |c| c.len() + 5))
                .max()
                .unwrap_or(0)
                .min(60);
            for (cond, action) in rules {
                let head = match cond {
                    Some(c) => format!("when {c}"),
                    None => "otherwise".to_string(),
                };
                if head.len() > 60 {
                    let _ = writeln!(out, "  {head}\n  {:width$} -> {action}", "");
                } else {
                    let _ = writeln!(out, "  {head:width$} -> {action}");
                }
            }
            out.push_str("}\n\n");
        }
        out
    }

    /// The rules of route `index`; `children` are the routes it must lead to.
    fn route_rules(&mut self, index: usize, children: &[usize]) -> (Vec<RuleText>, RouteCtx) {
        let mut ctx = RouteCtx::default();
        let max = self.size.max_rules.max(3);
        let count = self.rng.range(3, max).max(children.len() + 1);
        let mut rules: Vec<RuleText> = Vec::with_capacity(count + 2);
        // Which rules hand over to a child route.
        let mut child_slots: Vec<usize> = (0..count).collect();
        self.rng.shuffle(&mut child_slots);
        child_slots.truncate(children.len());
        for k in 0..count {
            let cond = self.condition(&mut ctx);
            let action = match child_slots.iter().position(|&s| s == k) {
                Some(c) => {
                    let route = &self.routes[children[c]];
                    if self.rng.chance(20) {
                        format!("play \"please-hold\", route {route}")
                    } else {
                        format!("route {route}")
                    }
                }
                None => self.route_action(&cond),
            };
            rules.push((Some(cond), action));
        }
        // End with `otherwise`, or with a pair of rules that provably cover
        // every remaining call.
        let pair = index % 7 == 3 && index > 0 && ctx.atoms.len() < 14;
        if pair {
            let h = self.hours_name();
            let atom = format!("open({h})");
            if !ctx.subjects.contains(&atom) {
                ctx.take(&[&atom], std::slice::from_ref(&atom));
                ctx.ends_with_pair = true;
                let open = format!("queue {}", self.queue_name());
                rules.push((Some(atom.clone()), open));
                rules.push((
                    Some(format!("not {atom}")),
                    format!("play \"closed\", voicemail \"{}\"", self.routes[index]),
                ));
                return (rules, ctx);
            }
        }
        let otherwise = match self.rng.below(3) {
            0 => format!("menu {}", self.top_menu_name()),
            _ => format!("queue {}", self.queue_name()),
        };
        rules.push((None, otherwise));
        (rules, ctx)
    }

    /// A condition that tests nothing an earlier rule of the route tested,
    /// so that every rule can fire.
    fn condition(&mut self, ctx: &mut RouteCtx) -> String {
        for _ in 0..12 {
            if let Some(c) = self.try_condition(ctx) {
                return c;
            }
        }
        // Always fresh: a pattern no other rule of the route uses.
        let s = self.next_serial();
        let atom = format!("caller matches \"+1 9{:02} {:03} XXXX\"", s % 100, s % 1000);
        ctx.take(&[], std::slice::from_ref(&atom));
        atom
    }

    fn try_condition(&mut self, ctx: &mut RouteCtx) -> Option<String> {
        let kind = self.rng.below(20);
        let (subjects, atoms, text): (Vec<String>, Vec<String>, String) = match kind {
            0 | 1 => {
                let h = self.hours_name();
                let a = format!("open({h})");
                let text = if kind == 0 {
                    a.clone()
                } else {
                    format!("not {a}")
                };
                (vec![a.clone()], vec![a], text)
            }
            2 => {
                let c = self.calendar_name();
                let a = format!("holiday({c})");
                (vec![a.clone()], vec![a.clone()], a)
            }
            3 => {
                let a = "now.weekday in [sat, sun]".to_string();
                (vec!["weekday".into()], vec![a.clone()], a)
            }
            4 => {
                let day = *pick(&mut self.rng, &["mon", "tue", "wed", "thu", "fri"]);
                let a = format!("now.weekday == {day}");
                let b = format!("now.time >= {:02}:30", self.rng.range(12, 18));
                let text = format!("{a} and {b}");
                (vec!["weekday".into(), "time".into()], vec![a, b], text)
            }
            5 => {
                let a = format!("now.time < {:02}:00", self.rng.range(6, 9));
                let b = format!("now.time >= {:02}:00", self.rng.range(18, 22));
                let text = format!("{a} or {b}");
                (vec!["time".into()], vec![a, b], text)
            }
            6 => {
                let m = self.rng.range(1, 12);
                let d = self.rng.range(1, 26);
                let a = format!("now.date >= 2026-{m:02}-{d:02}");
                let b = format!("now.date <= 2026-{m:02}-{:02}", d + 2);
                let text = format!("{a} and {b}");
                (vec!["date".into()], vec![a, b], text)
            }
            7..=9 => {
                let q = self.any_queue();
                let (stat, cmp) = match self.rng.below(5) {
                    0 => ("waiting", format!("> {}", self.rng.range(5, 40))),
                    1 => ("available", "== 0".to_string()),
                    2 => ("agents", format!("< {}", self.rng.range(2, 5))),
                    3 => ("longest_wait", format!("> {}m", self.rng.range(2, 15))),
                    _ => ("expected_wait", format!(">= {}m30s", self.rng.range(1, 9))),
                };
                let subject = format!("queue({q}).{stat}");
                let a = format!("{subject} {cmp}");
                if kind == 9 && self.rng.chance(50) {
                    // Two queues at once.
                    let p = self.any_queue();
                    // The same queue twice would contradict `available == 0`.
                    let stat2 = if p == q { "waiting" } else { "available" };
                    let s2 = format!("queue({p}).{stat2}");
                    let b = format!("{s2} > 0");
                    let text = format!("{a} and {b}");
                    (vec![subject, s2], vec![a, b], text)
                } else if kind == 8 && self.rng.chance(40) {
                    // Arithmetic: opaque to the rule analysis.
                    let a = format!(
                        "queue({q}).waiting * 2 - queue({q}).available > {}",
                        self.rng.range(5, 30)
                    );
                    (vec![a.clone()], vec![a.clone()], a)
                } else {
                    (vec![subject], vec![a.clone()], a)
                }
            }
            10 => {
                let s = self.next_serial();
                let a = format!("caller matches \"+1 900 {:03} XXXX\"", s % 1000);
                (vec![], vec![a.clone()], a)
            }
            11 => {
                let area = *pick(
                    &mut self.rng,
                    &["212", "312", "415", "512", "617", "713", "818"],
                );
                let a = format!("caller starts_with \"+1{area}\"");
                (vec![a.clone()], vec![a.clone()], a)
            }
            12 => {
                let s = self.next_serial() % 9000;
                let a = format!(
                    "caller in [\"+1 512 555 {:04}\", \"+1 512 555 {:04}\"]",
                    1000 + s,
                    1001 + s
                );
                (vec!["caller".into()], vec![a.clone()], a)
            }
            13 => {
                let s = self.next_serial() % 10000;
                let a = format!("dialed == \"+1 800 555 {s:04}\"");
                (vec!["dialed".into()], vec![a.clone()], a)
            }
            14 => {
                if ctx.customer_known {
                    return None;
                }
                ctx.customer_known = true;
                let a = "known customer".to_string();
                ctx.take(&["not known customer"], std::slice::from_ref(&a));
                return Some("not known customer".to_string());
            }
            15..=18 => {
                let (subjects, atoms, cond) = match self.rng.below(8) {
                    0 => {
                        let a = "customer.past_due".to_string();
                        (vec!["c.past_due"], vec![a.clone()], a)
                    }
                    1 => {
                        let t1 = *pick(&mut self.rng, TIERS);
                        let a = format!("customer.tier in [\"{t1}\", \"platinum\"]");
                        (vec!["c.tier"], vec![a.clone()], a)
                    }
                    2 => {
                        let l = *pick(&mut self.rng, &LANGUAGES[1..]);
                        let a = format!("customer.language == {l}");
                        (vec!["c.language"], vec![a.clone()], a)
                    }
                    3 => {
                        let a = format!("customer.open_tickets > {}", self.rng.range(1, 5));
                        (vec!["c.open_tickets"], vec![a.clone()], a)
                    }
                    4 => {
                        let q = self.any_queue();
                        let a = format!("customer.hold_limit < queue({q}).expected_wait");
                        (vec!["c.hold_limit"], vec![a.clone()], a)
                    }
                    5 => {
                        let a = "customer.renewal <= now.date".to_string();
                        (vec!["c.renewal"], vec![a.clone()], a)
                    }
                    6 => {
                        let t = *pick(&mut self.rng, TIERS);
                        let a = "customer.vip".to_string();
                        let b = format!("customer.tier == \"{t}\"");
                        let text = format!("({a} or {b})");
                        (vec!["c.vip", "c.tier"], vec![a, b], text)
                    }
                    _ => {
                        let a = "customer.mobile == caller".to_string();
                        (vec!["c.mobile"], vec![a.clone()], a)
                    }
                };
                if !ctx.free(&subjects) {
                    return None;
                }
                let mut atoms = atoms;
                let text = if ctx.customer_known {
                    cond
                } else {
                    atoms.push("known customer".into());
                    format!("known customer and {cond}")
                };
                ctx.take(&subjects, &atoms);
                return Some(text);
            }
            _ => {
                let s = self.next_serial() % 10;
                let a = format!("digits starts_with \"{s}\"");
                (vec![a.clone()], vec![a.clone()], a)
            }
        };
        let subjects: Vec<&str> = subjects.iter().map(String::as_str).collect();
        if !ctx.free(&subjects) || atoms.iter().any(|a| ctx.atoms.contains(a)) {
            return None;
        }
        ctx.take(&subjects, &atoms);
        Some(text)
    }

    fn route_action(&mut self, cond: &str) -> String {
        if cond.starts_with("caller matches") || cond.starts_with("caller in") {
            return match self.rng.below(3) {
                0 => "reject busy".to_string(),
                1 => "reject decline".to_string(),
                _ => "hangup".to_string(),
            };
        }
        if cond.starts_with("holiday") || cond.starts_with("not open") {
            let p = self.prompt("closed");
            return format!("play {p}, voicemail \"general\"");
        }
        match self.rng.below(12) {
            0..=4 => format!("queue {}", self.queue_name()),
            5 => format!(
                "queue {} priority {}",
                self.queue_name(),
                self.rng.range(1, 100)
            ),
            6 => {
                let p = self.prompt("busy-day");
                format!("play {p}, queue {}", self.queue_name())
            }
            7 => format!("set tag \"vip\", record, queue {}", self.queue_name()),
            8 => format!("menu {}", self.top_menu_name()),
            9 => format!("group {}", self.group_name()),
            10 => format!("transfer \"+1 212 555 {:04}\"", self.rng.below(10000)),
            _ => "voicemail \"general\"".to_string(),
        }
    }

    /// Entries and the ones that end at once (for tests): (number, actions).
    fn all_entries(&mut self) -> (String, Vec<(String, String)>) {
        let mut out = String::new();
        let mut direct = Vec::new();
        let n = self.size.entries.max(1);
        for k in 0..n {
            // Every entry has its own prefix, so no two overlap.
            let prefix = format!("{:03} {:02}", 200 + k / 100, k % 100);
            let (tail, exact) = match k % 4 {
                0 => ("00", true),
                1 => ("XX", false),
                2 => ("[0-4]X", false),
                _ => ("NX", false),
            };
            let number = format!("+1 800 {prefix}{tail}");
            let action = if k == 0 {
                format!("route {}", self.routes[0])
            } else {
                match self.rng.below(10) {
                    0..=3 => format!("route {}", pick(&mut self.rng, &self.routes)),
                    4 => format!("play \"welcome\", menu {}", self.top_menu_name()),
                    5 => "extension".to_string(),
                    6 => "extension last 3".to_string(),
                    7 => format!("queue {}", self.queue_name()),
                    8 => format!("play \"after-hours\", voicemail \"line-{k}\""),
                    _ => "reject decline".to_string(),
                }
            };
            if action.starts_with("play \"after-hours\"") || action.starts_with("reject") {
                let called = if exact {
                    format!("+1800{}00", prefix.replace(' ', ""))
                } else {
                    format!("+1800{}22", prefix.replace(' ', ""))
                };
                direct.push((called, action.clone()));
            }
            let _ = writeln!(out, "entry \"{number}\" -> {action}");
        }
        out.push('\n');
        (out, direct)
    }

    fn all_tests(&mut self, direct: &[(String, String)]) -> String {
        let mut out = String::new();
        for (i, (called, actions)) in direct.iter().take(self.size.tests).enumerate() {
            let _ = writeln!(
                out,
                "test \"line {i} answers at once\" {{\n  call from \"+15125550{:03}\" to \"{called}\" at 2026-11-{:02} 10:00\n  expect {actions}\n}}\n",
                100 + i % 900,
                2 + i % 27
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::{Loader, MemoryFs};
    use std::path::Path;

    fn diagnostics(text: &str) -> Vec<String> {
        let fs = MemoryFs::default()
            .with("main.dial", text)
            .with(LOOKUP_SOURCE, LOOKUP_CSV);
        let mut loader = Loader::new(&fs);
        let id = loader.load(Path::new("main.dial")).expect("in memory");
        let checked = loader.check(id, None);
        checked
            .diagnostics
            .iter()
            .map(|d| {
                let file = loader.sources.get(d.primary.loc.file);
                let (line, col) = file.line_col(d.primary.loc.span.start);
                let text = file.slice(d.primary.loc.span);
                format!("{} {line}:{col} {} [{text}]", d.code, d.message)
            })
            .collect()
    }

    #[test]
    fn generated_scripts_check_clean() {
        for (units, seed) in [(1, 1), (3, 2), (8, 3), (20, 0x5eed_d1a1_ec70_0001)] {
            let text = large_script(Size::units(units).seed(seed));
            let found = diagnostics(&text);
            assert!(
                found.is_empty(),
                "units {units}, seed {seed}: {} diagnostics, first: {:#?}",
                found.len(),
                &found[..found.len().min(20)]
            );
        }
    }

    #[test]
    fn generation_is_deterministic() {
        assert_eq!(large_script(Size::units(5)), large_script(Size::units(5)));
        assert_ne!(
            large_script(Size::units(5)),
            large_script(Size::units(5).seed(9))
        );
    }

    #[test]
    fn sizes_are_roughly_as_asked() {
        for kb in [50, 100, 300] {
            let len = large_script(Size::kilobytes(kb)).len();
            let want = kb * 1000;
            assert!(
                len > want * 85 / 100 && len < want * 115 / 100,
                "asked for {kb} KB, got {len} bytes"
            );
        }
    }
}
