//! The checked program: every name resolved to a typed id, every expression
//! typed, every time and number validated and normalised.
//!
//! This is what the checker hands to later stages (IR lowering, `explain`,
//! the runtime's roster validation). It keeps a `Loc` on everything so that
//! later stages can point back at the source.

use std::fmt;

use crate::number::Pattern;
use crate::source::Loc;
pub use crate::syntax::ast::{BinOp, Weekday};

macro_rules! ids {
    ($($name:ident),*) => {$(
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub u32);
        impl $name {
            pub fn index(self) -> usize { self.0 as usize }
        }
    )*};
}

ids!(
    ZoneId, CalendarId, HoursId, SkillId, LookupId, QueueId, GroupId, MenuId, RouteId, SwitchId
);

/// A whole checked script.
#[derive(Clone, Debug, Default)]
pub struct Program {
    /// Time zones in use; the first is the script's own (used by `now`).
    pub zones: Vec<Zone>,
    /// The root file's `country`: calls' numbers without `+` are read in it.
    pub country: Option<crate::number::Country>,
    pub calendars: Vec<Calendar>,
    pub hours: Vec<Hours>,
    pub skills: Vec<Skill>,
    pub lookups: Vec<Lookup>,
    pub queues: Vec<Queue>,
    pub groups: Vec<Group>,
    pub menus: Vec<Menu>,
    pub routes: Vec<Route>,
    /// Flags supervisors flip while the server runs (off until they do).
    pub switches: Vec<Switch>,
    pub entries: Vec<Entry>,
    pub tests: Vec<Test>,
    /// The files the script came from, as names and line starts: where a
    /// rule is written, for call records and reports.
    pub places: crate::source::Places,
}

impl Program {
    pub fn zone(&self, id: ZoneId) -> &Zone {
        &self.zones[id.index()]
    }
    pub fn calendar(&self, id: CalendarId) -> &Calendar {
        &self.calendars[id.index()]
    }
    pub fn hours(&self, id: HoursId) -> &Hours {
        &self.hours[id.index()]
    }
    pub fn skill(&self, id: SkillId) -> &Skill {
        &self.skills[id.index()]
    }
    pub fn lookup(&self, id: LookupId) -> &Lookup {
        &self.lookups[id.index()]
    }
    pub fn queue(&self, id: QueueId) -> &Queue {
        &self.queues[id.index()]
    }
    pub fn group(&self, id: GroupId) -> &Group {
        &self.groups[id.index()]
    }
    pub fn menu(&self, id: MenuId) -> &Menu {
        &self.menus[id.index()]
    }
    pub fn route(&self, id: RouteId) -> &Route {
        &self.routes[id.index()]
    }
    pub fn switch(&self, id: SwitchId) -> &Switch {
        &self.switches[id.index()]
    }
    /// The switch of this name, if the script declares one.
    pub fn switch_named(&self, name: &str) -> Option<SwitchId> {
        self.switches
            .iter()
            .position(|s| s.name == name)
            .map(|i| SwitchId(i as u32))
    }
    /// The switch of this name, or why there is none as the admin API and
    /// the command line say it after "the script": "declares no switch
    /// `stom`; did you mean `storm`?".
    pub fn find_switch(&self, name: &str) -> Result<SwitchId, String> {
        if let Some(id) = self.switch_named(name) {
            return Ok(id);
        }
        let names = || self.switches.iter().map(|s| s.name.as_str());
        Err(match crate::diagnostic::did_you_mean(name, names()) {
            Some(s) => format!("declares no switch `{name}`; did you mean `{s}`?"),
            None if self.switches.is_empty() => {
                format!("declares no switches (asked for `{name}`)")
            }
            None => format!(
                "declares no switch `{name}` (its switches: {})",
                names().collect::<Vec<_>>().join(", ")
            ),
        })
    }

    /// An action as it would be written in a script.
    pub fn action_text(&self, kind: &ActionKind) -> String {
        match kind {
            ActionKind::Play(p) => format!("play {p:?}"),
            ActionKind::Whisper(p) => format!("whisper {p:?}"),
            ActionKind::Record => "record".into(),
            ActionKind::SetTag(t) => format!("set tag {t:?}"),
            ActionKind::Queue { queue, priority: 0 } => {
                format!("queue {}", self.queue(*queue).name)
            }
            ActionKind::Queue { queue, priority } => {
                format!("queue {} priority {priority}", self.queue(*queue).name)
            }
            ActionKind::Menu(m) => format!("menu {}", self.menu(*m).name),
            ActionKind::Route(r) => format!("route {}", self.route(*r).name),
            ActionKind::Group(g) => format!("group {}", self.group(*g).name),
            ActionKind::DialExtension { digits } => format!("dial extension {digits} digits"),
            ActionKind::Extension(ExtensionTarget::LastDigits(4)) => "extension".into(),
            ActionKind::Extension(ExtensionTarget::LastDigits(n)) => format!("extension last {n}"),
            ActionKind::Extension(ExtensionTarget::Number(x)) => format!("extension {x}"),
            ActionKind::Transfer(n) => format!("transfer {n:?}"),
            ActionKind::Voicemail(b) => format!("voicemail {b:?}"),
            ActionKind::Reject(r) => format!("reject {}", r.name()),
            ActionKind::Hangup => "hangup".into(),
            ActionKind::Repeat => "repeat".into(),
            ActionKind::Back => "back".into(),
        }
    }

    /// The entry whose pattern is the most specific match for a dialed number.
    pub fn entry_for(&self, dialed: &str) -> Option<&Entry> {
        self.entries
            .iter()
            .filter(|e| e.pattern.matches(dialed))
            .min_by_key(|e| e.pattern.breadth())
    }

    /// Every route, menu, queue and group a call may meet after `actions`:
    /// through every rule of a route, every key and fallback of a menu,
    /// a queue's steps and `no agents`, a group's `then`. An over-estimate
    /// of where one call goes, for checks that must never be wrong about
    /// where it cannot go.
    pub fn reachable_from(&self, actions: &Actions) -> Reached {
        let mut reached = Reached::default();
        let mut work: Vec<&Actions> = vec![actions];
        while let Some(actions) = work.pop() {
            for action in &actions.list {
                match &action.kind {
                    ActionKind::Queue { queue, .. } if reached.queues.insert(*queue) => {
                        let q = self.queue(*queue);
                        work.extend(q.steps.iter().filter_map(|s| match &s.kind {
                            StepKind::Overflow(a) => Some(a),
                            StepKind::Relax(_) => None,
                        }));
                        work.extend(q.no_agents.iter());
                    }
                    ActionKind::Route(r) if reached.routes.insert(*r) => {
                        work.extend(self.route(*r).rules.iter().map(|rule| &rule.actions));
                    }
                    ActionKind::Menu(m) if reached.menus.insert(*m) => {
                        let menu = self.menu(*m);
                        work.extend(menu.keys.iter().map(|k| &k.actions));
                        work.extend(menu.collect.iter().map(|c| &c.actions));
                        work.extend(menu.invalid.iter());
                        work.extend(menu.on_timeout.iter());
                        work.extend(menu.exhausted.iter());
                    }
                    ActionKind::Group(g) if reached.groups.insert(*g) => {
                        work.extend(self.group(*g).then.iter());
                    }
                    _ => {}
                }
            }
        }
        reached
    }
}

/// What [`Program::reachable_from`] found.
#[derive(Clone, Debug, Default)]
pub struct Reached {
    pub routes: std::collections::BTreeSet<RouteId>,
    pub menus: std::collections::BTreeSet<MenuId>,
    pub queues: std::collections::BTreeSet<QueueId>,
    pub groups: std::collections::BTreeSet<GroupId>,
}

#[derive(Clone, Debug)]
pub struct Zone {
    pub name: String,
    pub tz: jiff::tz::TimeZone,
}

/// Minutes since local midnight, `0..=1440`.
pub type Minute = u16;

#[derive(Clone, Debug)]
pub struct Calendar {
    pub name: String,
    pub loc: Loc,
    pub zone: ZoneId,
    pub days: Vec<CalendarDay>,
}

#[derive(Clone, Debug)]
pub struct CalendarDay {
    pub days: DaySpan,
    /// Local time range on each of those days, `from < to`; `None` is all day.
    pub times: Option<(Minute, Minute)>,
    pub label: Option<String>,
    pub loc: Loc,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DaySpan {
    /// Inclusive range of dates (a single date has `from == to`).
    Dates {
        from: jiff::civil::Date,
        to: jiff::civil::Date,
    },
    /// Inclusive range of month-days every year; `02-29` only exists in leap
    /// years. A range may wrap the new year (`12-24..01-02`).
    Yearly { from: (u8, u8), to: (u8, u8) },
    /// A yearly day that, when it falls on a Saturday, is also observed on
    /// the Friday before and, on a Sunday, on the Monday after.
    Observed { day: (u8, u8) },
    /// The `nth` (1 to 5) weekday of a month every year, or the last one
    /// when `nth` is `None`. Years without a fifth such weekday have none.
    NthWeekday {
        nth: Option<u8>,
        weekday: Weekday,
        month: u8,
    },
    /// A day `offset` days from Western (Gregorian) Easter Sunday.
    Easter { offset: i16 },
}

/// The years over which rule-based calendar days (nth weekdays, Easter,
/// observed days) are turned into dates; outside them they cover nothing.
pub const RULE_YEARS: std::ops::RangeInclusive<i16> = 1970..=2199;

impl DaySpan {
    /// Whether the span is a rule that moves from year to year.
    pub fn is_rule(&self) -> bool {
        !matches!(self, DaySpan::Dates { .. } | DaySpan::Yearly { .. })
    }

    /// The dates a rule-based span covers in one year (empty for the
    /// other spans, which are ranges, not rules).
    pub fn rule_dates(&self, year: i16) -> Vec<jiff::civil::Date> {
        use jiff::civil::{Date, Weekday as W};
        match *self {
            DaySpan::Dates { .. } | DaySpan::Yearly { .. } => Vec::new(),
            DaySpan::Observed { day: (m, d) } => {
                let Ok(date) = Date::new(year, m as i8, d as i8) else {
                    return Vec::new();
                };
                let moved = match date.weekday() {
                    W::Saturday => date.yesterday().ok(),
                    W::Sunday => date.tomorrow().ok(),
                    _ => None,
                };
                std::iter::once(date).chain(moved).collect()
            }
            DaySpan::NthWeekday {
                nth,
                weekday,
                month,
            } => {
                let Ok(first) = Date::new(year, month as i8, 1) else {
                    return Vec::new();
                };
                let want = weekday.index() as i16;
                let date = match nth {
                    Some(n) => {
                        let have = first.weekday().to_monday_zero_offset() as i16;
                        let day = 1 + (want - have).rem_euclid(7) + 7 * (n as i16 - 1);
                        Date::new(year, month as i8, day as i8).ok()
                    }
                    None => {
                        let last = first.last_of_month();
                        let have = last.weekday().to_monday_zero_offset() as i16;
                        let day = last.day() as i16 - (have - want).rem_euclid(7);
                        Date::new(year, month as i8, day as i8).ok()
                    }
                };
                date.into_iter().collect()
            }
            DaySpan::Easter { offset } => easter_sunday(year)
                .and_then(|e| e.checked_add(jiff::Span::new().days(offset as i64)).ok())
                .into_iter()
                .collect(),
        }
    }
}

/// Western Easter Sunday of a Gregorian year (the anonymous Gregorian
/// algorithm of Meeus, Jones and Butcher).
pub fn easter_sunday(year: i16) -> Option<jiff::civil::Date> {
    let y = year as i32;
    let a = y % 19;
    let b = y / 100;
    let c = y % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    jiff::civil::Date::new(year, month as i8, day as i8).ok()
}

#[derive(Clone, Debug)]
pub struct Hours {
    pub name: String,
    pub loc: Loc,
    pub zone: ZoneId,
    /// Open intervals in minutes of the local week (Monday 00:00 is 0),
    /// half-open, sorted, merged and within `0..WEEK`.
    pub open: Vec<(u32, u32)>,
    pub closed: Vec<CalendarId>,
}

/// Minutes in a week.
pub const WEEK: u32 = 7 * 1440;

/// Days since 1970-01-01, so that consecutive dates are consecutive numbers.
pub fn epoch_days(d: jiff::civil::Date) -> i64 {
    let (y, m, day) = (d.year() as i64, d.month() as i64, d.day() as i64);
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The highest skill level: agents hold 1 to this, and 0 means they lack the skill.
pub const MAX_SKILL_LEVEL: i64 = 10;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Switch {
    pub name: String,
    /// What the switch is for (the declaration's string), if it says.
    pub description: Option<String>,
    pub loc: Loc,
}

#[derive(Clone, Debug)]
pub struct Skill {
    pub name: String,
    pub loc: Loc,
    pub kind: SkillKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SkillKind {
    /// Agents hold a level from 1 to [`MAX_SKILL_LEVEL`]; 0 means they
    /// lack the skill.
    Level,
    /// Agents hold any subset of these values (at most 64).
    Values(Vec<String>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LookupKey {
    Caller,
    Dialed,
    Digits,
}

#[derive(Clone, Debug)]
pub struct Lookup {
    pub name: String,
    pub loc: Loc,
    pub key: LookupKey,
    /// The source as written, relative to the declaring file.
    pub source: String,
    /// The declaring file, so the source can be found relative to it.
    pub file: crate::source::FileId,
    pub table: Option<String>,
    pub fields: Vec<Field>,
    /// The country the declaring file reads numbers in: key cells and phone
    /// cells without `+` are read in it.
    pub country: Option<crate::number::Country>,
}

#[derive(Clone, Debug)]
pub struct Field {
    pub name: String,
    pub ty: Type,
    pub loc: Loc,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Type {
    Bool,
    Int,
    Duration,
    Text,
    Phone,
    Time,
    Weekday,
    Date,
    /// A value of an enumerated skill.
    Enum(SkillId),
    /// The type of an expression that already failed to check.
    Error,
}

/// A constant value.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Value {
    Bool(bool),
    Int(i64),
    /// Milliseconds.
    Duration(i64),
    Text(String),
    /// A normalised number.
    Phone(String),
    Time(Minute),
    Weekday(Weekday),
    Date(jiff::civil::Date),
    Enum(SkillId, u16),
}

impl Value {
    pub fn ty(&self) -> Type {
        match self {
            Value::Bool(_) => Type::Bool,
            Value::Int(_) => Type::Int,
            Value::Duration(_) => Type::Duration,
            Value::Text(_) => Type::Text,
            Value::Phone(_) => Type::Phone,
            Value::Time(_) => Type::Time,
            Value::Weekday(_) => Type::Weekday,
            Value::Date(_) => Type::Date,
            Value::Enum(s, _) => Type::Enum(*s),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum QueueStat {
    /// Callers waiting now.
    Waiting,
    /// Agents logged in, eligible and available now.
    Available,
    /// Agents logged in (any state but logged out).
    Agents,
    /// How long the longest-waiting caller has waited.
    LongestWait,
    /// Estimated wait for a caller arriving now.
    ExpectedWait,
}

impl QueueStat {
    pub const ALL: [QueueStat; 5] = [
        QueueStat::Waiting,
        QueueStat::Available,
        QueueStat::Agents,
        QueueStat::LongestWait,
        QueueStat::ExpectedWait,
    ];
    pub fn name(self) -> &'static str {
        match self {
            QueueStat::Waiting => "waiting",
            QueueStat::Available => "available",
            QueueStat::Agents => "agents",
            QueueStat::LongestWait => "longest_wait",
            QueueStat::ExpectedWait => "expected_wait",
        }
    }
    pub fn ty(self) -> Type {
        match self {
            QueueStat::Waiting | QueueStat::Available | QueueStat::Agents => Type::Int,
            QueueStat::LongestWait | QueueStat::ExpectedWait => Type::Duration,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AgentAttr {
    /// Whole minutes since the agent's last call ended (or since login).
    IdleMinutes,
    /// Calls the agent answered today.
    CallsToday,
    /// Minutes the agent spent talking today.
    TalkMinutes,
}

impl AgentAttr {
    pub const ALL: [AgentAttr; 3] = [
        AgentAttr::IdleMinutes,
        AgentAttr::CallsToday,
        AgentAttr::TalkMinutes,
    ];
    pub fn name(self) -> &'static str {
        match self {
            AgentAttr::IdleMinutes => "idle_minutes",
            AgentAttr::CallsToday => "calls_today",
            AgentAttr::TalkMinutes => "talk_minutes",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NowField {
    Time,
    Weekday,
    Date,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub ty: Type,
    pub loc: Loc,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Const(Value),
    Caller,
    Dialed,
    /// The digits the caller entered last (text, possibly empty).
    Digits,
    Now(NowField),
    Known(LookupId),
    /// A lookup field; only reachable under a `known` guard.
    Field(LookupId, u16),
    QueueStat(QueueId, QueueStat),
    Open(HoursId),
    Holiday(CalendarId),
    /// `switch(name)`: whether a supervisor has the switch on.
    Switch(SwitchId),
    Agent(AgentAttr),
    /// The agent's level of a levelled skill (0 when absent).
    SkillLevel(SkillId),
    /// The agent's set of values of an enumerated skill. It only appears as
    /// the left side of `==`, `!=` or `in`, which then test membership.
    SkillValues(SkillId),
    Not(Box<Expr>),
    Neg(Box<Expr>),
    Binary {
        op: BinOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    Matches(Box<Expr>, Pattern),
    StartsWith(Box<Expr>, String),
    In(Box<Expr>, Vec<Value>),
    /// Stands in for an expression that failed to check.
    Error,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Strategy {
    RingAll,
    #[default]
    LongestIdle,
    RoundRobin,
    FewestCalls,
    LeastTalkTime,
    Linear,
    Random,
    BestScore,
}

impl Strategy {
    pub const ALL: [Strategy; 8] = [
        Strategy::RingAll,
        Strategy::LongestIdle,
        Strategy::RoundRobin,
        Strategy::FewestCalls,
        Strategy::LeastTalkTime,
        Strategy::Linear,
        Strategy::Random,
        Strategy::BestScore,
    ];
    pub fn name(self) -> &'static str {
        match self {
            Strategy::RingAll => "ring_all",
            Strategy::LongestIdle => "longest_idle",
            Strategy::RoundRobin => "round_robin",
            Strategy::FewestCalls => "fewest_calls",
            Strategy::LeastTalkTime => "least_talk_time",
            Strategy::Linear => "linear",
            Strategy::Random => "random",
            Strategy::BestScore => "best_score",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Presentation {
    /// Ring one agent at a time for this long, then the next.
    OneByOne { timeout_ms: i64 },
    /// Ring every eligible agent at once; the first to answer wins.
    All { timeout_ms: i64 },
    /// Connect the chosen agent without ringing.
    AutoAnswer,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Announcement {
    Position,
    Wait,
    Prompt(String),
}

#[derive(Clone, Debug)]
pub struct Queue {
    pub name: String,
    pub loc: Loc,
    pub strategy: Strategy,
    pub require: Option<Expr>,
    pub prefer: Option<Expr>,
    pub score: Option<Expr>,
    pub presentation: Presentation,
    pub wrapup_ms: i64,
    pub announcements: Vec<Announcement>,
    pub announce_every_ms: Option<i64>,
    pub music: Option<String>,
    /// Relaxation and overflow steps, in increasing `after_ms`.
    pub steps: Vec<QueueStep>,
    pub no_agents: Option<Actions>,
    pub pause_after_misses: Option<u32>,
}

#[derive(Clone, Debug)]
pub struct QueueStep {
    pub after_ms: i64,
    pub kind: StepKind,
    pub loc: Loc,
}

#[derive(Clone, Debug)]
pub enum StepKind {
    /// From now on, this replaces the queue's `require`.
    Relax(Expr),
    /// The call leaves the queue and runs these actions.
    Overflow(Actions),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum GroupMode {
    #[default]
    Sequential,
    Simultaneous,
    MostRecent,
}

impl GroupMode {
    pub const ALL: [GroupMode; 3] = [
        GroupMode::Sequential,
        GroupMode::Simultaneous,
        GroupMode::MostRecent,
    ];
    pub fn name(self) -> &'static str {
        match self {
            GroupMode::Sequential => "sequential",
            GroupMode::Simultaneous => "simultaneous",
            GroupMode::MostRecent => "most_recent",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Group {
    pub name: String,
    pub loc: Loc,
    pub members: Vec<String>,
    pub mode: GroupMode,
    /// Per member (sequential, most recent) or for all (simultaneous).
    pub timeout_ms: i64,
    /// What happens when nobody answers; `None` hangs up.
    pub then: Option<Actions>,
}

#[derive(Clone, Debug)]
pub struct Menu {
    pub name: String,
    pub loc: Loc,
    pub prompt: Option<String>,
    /// How long to wait for the first key.
    pub timeout_ms: i64,
    /// How long to wait between the keys of a multi-digit entry.
    pub digit_timeout_ms: i64,
    /// How many times the menu is offered again after an invalid key or a
    /// timeout before the handler's fallback.
    pub retries: u32,
    pub keys: Vec<MenuKey>,
    pub collect: Option<Collect>,
    pub invalid: Option<Actions>,
    pub on_timeout: Option<Actions>,
    /// What `repeat` does once the menu has been offered `1 + retries`
    /// times; `None` hangs up.
    pub exhausted: Option<Actions>,
}

#[derive(Clone, Debug)]
pub struct MenuKey {
    pub key: String,
    pub actions: Actions,
    pub loc: Loc,
}

#[derive(Clone, Debug)]
pub struct Collect {
    pub min: u32,
    pub max: u32,
    pub actions: Actions,
    pub loc: Loc,
}

#[derive(Clone, Debug)]
pub struct Route {
    pub name: String,
    pub loc: Loc,
    pub rules: Vec<Rule>,
}

#[derive(Clone, Debug)]
pub struct Rule {
    /// `None` for `otherwise`.
    pub when: Option<Expr>,
    pub actions: Actions,
    pub loc: Loc,
}

#[derive(Clone, Debug)]
pub struct Entry {
    pub number: String,
    pub pattern: Pattern,
    pub actions: Actions,
    pub loc: Loc,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Actions {
    pub list: Vec<Action>,
    pub loc: Loc,
}

impl Actions {
    /// The last action, which the checker guarantees is terminal.
    pub fn terminal(&self) -> Option<&Action> {
        self.list.last()
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Action {
    pub kind: ActionKind,
    pub loc: Loc,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum RejectReason {
    #[default]
    Busy,
    Decline,
    Unavailable,
}

impl RejectReason {
    pub fn name(self) -> &'static str {
        match self {
            RejectReason::Busy => "busy",
            RejectReason::Decline => "decline",
            RejectReason::Unavailable => "unavailable",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ExtensionTarget {
    /// The last `n` digits of the dialed number.
    LastDigits(u32),
    Number(String),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ActionKind {
    Play(String),
    Whisper(String),
    Record,
    SetTag(String),
    Queue { queue: QueueId, priority: u32 },
    Menu(MenuId),
    Route(RouteId),
    Group(GroupId),
    DialExtension { digits: u32 },
    Extension(ExtensionTarget),
    Transfer(String),
    Voicemail(String),
    Reject(RejectReason),
    Hangup,
    Repeat,
    Back,
}

impl ActionKind {
    /// Terminal actions hand the call on; they end an action list.
    pub fn is_terminal(&self) -> bool {
        !matches!(
            self,
            ActionKind::Play(_)
                | ActionKind::Whisper(_)
                | ActionKind::Record
                | ActionKind::SetTag(_)
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentState {
    LoggedOut,
    Available,
    Ringing,
    OnCall,
    Wrapup,
    Paused,
}

impl AgentState {
    pub const ALL: [AgentState; 6] = [
        AgentState::LoggedOut,
        AgentState::Available,
        AgentState::Ringing,
        AgentState::OnCall,
        AgentState::Wrapup,
        AgentState::Paused,
    ];
    pub fn name(self) -> &'static str {
        match self {
            AgentState::LoggedOut => "logged_out",
            AgentState::Available => "available",
            AgentState::Ringing => "ringing",
            AgentState::OnCall => "on_call",
            AgentState::Wrapup => "wrapup",
            AgentState::Paused => "paused",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Test {
    pub name: String,
    pub loc: Loc,
    /// Normalised caller number; `None` for a withheld number.
    pub from: Option<String>,
    pub to: String,
    /// Local date and time of the call, and the zone it is read in.
    pub at: Option<(jiff::civil::DateTime, ZoneId)>,
    pub presses: Vec<Press>,
    /// Lookup rows the test supplies; `None` means "no row".
    pub lookups: Vec<(LookupId, Option<Row>)>,
    pub queues: Vec<(QueueId, Vec<(QueueStat, Value)>)>,
    /// `given switch storm_closure on`: the switches the test turns on or
    /// off (the rest are off).
    pub switches: Vec<(SwitchId, bool)>,
    pub agents: Vec<GivenAgent>,
    /// `expect ACTIONS`: where the script's decisions send the call.
    pub expect: Option<Actions>,
    /// Set when the test runs through the call runtime: it has a `given
    /// agent`, a runtime expectation or a caller or agent behaviour line.
    pub runtime: Option<RuntimeTest>,
}

/// What a runtime test expects of the call runtime and how its caller and
/// agents behave. Parties are agent ids of the test or extension numbers.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RuntimeTest {
    /// `expect rings ...`: everyone rung, in order (empty for `expect
    /// rings nobody`).
    pub rings: Option<Vec<String>>,
    /// `expect ... then ACTIONS`: how the call left a queue or hunt group
    /// and the last actions of what ran then.
    pub then: Option<(Fallback, Actions)>,
    /// `expect answered [by X]` or `expect abandoned`.
    pub outcome: Option<RuntimeOutcome>,
    /// `caller waits D`; `None` waits forever.
    pub patience_ms: Option<i64>,
    /// `agents answer after D`.
    pub answer_ms: i64,
    /// `agent X does not answer`.
    pub unanswering: Vec<String>,
}

/// How a call left a queue or a hunt group without being answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fallback {
    /// `expect rings ... then`: a queue's `after D ->` step or a hunt
    /// group's `then`, after ringing.
    AfterRinging,
    /// `expect waits then`: a queue's `after D ->` step.
    Overflow,
    /// `expect no agents then`: a queue's `no agents ->`.
    NoAgents,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RuntimeOutcome {
    /// Answered, by this agent or extension if given.
    Answered(Option<String>),
    /// The caller hung up before anyone answered.
    Abandoned,
}

/// A lookup row given by a test: field index and value; fields not given
/// are absent.
pub type Row = Vec<(u16, Value)>;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Press {
    Keys(String),
    Timeout,
}

#[derive(Clone, Debug)]
pub struct GivenAgent {
    pub id: String,
    pub state: AgentState,
    pub extension: Option<String>,
    pub skills: Vec<(SkillId, SkillValue)>,
    pub loc: Loc,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SkillValue {
    Level(u8),
    /// Bit `i` set for value `i` of the skill.
    Values(u64),
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Type::Bool => "bool",
            Type::Int => "int",
            Type::Duration => "duration",
            Type::Text => "text",
            Type::Phone => "phone number",
            Type::Time => "time of day",
            Type::Weekday => "weekday",
            Type::Date => "date",
            Type::Enum(_) => "skill value",
            Type::Error => "unknown",
        })
    }
}
