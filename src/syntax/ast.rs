//! The syntax tree of one `.dial` file, as written, with a byte span on every node.
//!
//! Nothing here is resolved or validated: names are plain strings, times and
//! dates keep the numbers the author typed (`25:00` is representable), and
//! the checker turns this into a `checked::Program`.

use crate::source::Span;

/// A name as written, with where it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Name {
    pub text: String,
    pub span: Span,
}

/// A string literal with escapes already applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Str {
    pub value: String,
    pub span: Span,
}

/// An unsigned integer literal; `None` when it does not fit in an `i64`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Int {
    pub value: Option<i64>,
    pub span: Span,
}

/// The unit of one part of a duration literal such as `1h30m`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Unit {
    Day,
    Hour,
    Minute,
    Second,
    Milli,
}

/// A duration literal, kept as its parts so the checker can report `30m1h`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Duration {
    pub parts: Vec<(Option<u64>, Unit)>,
    pub span: Span,
}

/// `HH:MM` as typed; `25:00` is representable so that the checker can reject it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Time {
    pub hour: u32,
    pub minute: u32,
    pub span: Span,
}

/// `YYYY-MM-DD` as typed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Date {
    pub year: i32,
    pub month: u32,
    pub day: u32,
    pub span: Span,
}

/// `MM-DD` as typed, for yearly calendar entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MonthDay {
    pub month: u32,
    pub day: u32,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Weekday {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Weekday {
    pub const ALL: [Weekday; 7] = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ];

    /// Monday is 0, Sunday is 6.
    pub fn index(self) -> usize {
        self as usize
    }

    pub fn from_index(i: usize) -> Weekday {
        Weekday::ALL[i % 7]
    }

    pub fn name(self) -> &'static str {
        ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][self.index()]
    }

    pub fn parse(s: &str) -> Option<Weekday> {
        Weekday::ALL.into_iter().find(|d| d.name() == s)
    }
}

/// One parsed file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct File {
    pub items: Vec<Item>,
    /// Comments that look like a `#` menu key (`# -> ...`), kept for a lint.
    pub key_like_comments: Vec<Span>,
    /// Declarations that failed to parse, by keyword and name, so that the
    /// checker does not also report every use of them as unknown.
    pub broken: Vec<Broken>,
}

/// A declaration that failed to parse (its syntax error is reported).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Broken {
    /// The declaring keyword: `queue`, `menu`, `entry`, ...
    pub keyword: String,
    pub name: Option<Name>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    Timezone(Timezone),
    Country(Country),
    Include(Include),
    Calendar(Calendar),
    Hours(Hours),
    Skill(Skill),
    Lookup(Lookup),
    Queue(Queue),
    Group(Group),
    Menu(Menu),
    Route(Route),
    Switch(Switch),
    Entry(Entry),
    Test(Test),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Timezone {
    pub name: Str,
    pub span: Span,
}

/// `country "US"`: the country whose national numbers the file's numbers
/// (and, in the root file, the calls' numbers) are read in.
#[derive(Clone, Debug, PartialEq)]
pub struct Country {
    pub code: Str,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Include {
    pub path: Str,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Calendar {
    pub name: Name,
    pub zone: Option<Str>,
    pub entries: Vec<CalendarEntry>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CalendarEntry {
    pub days: CalendarDays,
    pub times: Option<TimeRange>,
    pub label: Option<Str>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum CalendarDays {
    /// `2026-11-26` or `2026-12-24..2026-12-26`.
    Dates { from: Date, to: Option<Date> },
    /// `yearly 12-25` or `yearly 12-24..12-26`; `observed` after it is kept
    /// as its span (the checker allows it on single days only).
    Yearly {
        from: MonthDay,
        to: Option<MonthDay>,
        observed: Option<Span>,
    },
    /// `yearly 4th thu of 11` or `yearly last mon of 05`.
    NthWeekday {
        nth: Nth,
        weekday: Weekday,
        month: Int,
        span: Span,
    },
    /// `yearly easter`, `yearly easter -2`, `yearly easter +1`.
    Easter { offset: Option<Int>, span: Span },
}

/// Which weekday of a month: an ordinal as typed (`4th`, so the checker can
/// reject `0th` or `2st`) or `last`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Nth {
    Ordinal { text: String, span: Span },
    Last(Span),
}

/// `08:00..18:00`; either end may be left out (`12:00..` runs to midnight).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeRange {
    pub from: Option<Time>,
    pub to: Option<Time>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Hours {
    pub name: Name,
    pub zone: Option<Str>,
    pub lines: Vec<HoursLine>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum HoursLine {
    /// `mon..fri 08:00..18:00, 19:00..21:00`; no ranges means the whole day.
    Open {
        days: Days,
        ranges: Vec<TimeRange>,
        span: Span,
    },
    /// `closed us_holidays`
    Closed { calendars: Vec<Name>, span: Span },
}

#[derive(Clone, Debug, PartialEq)]
pub enum Days {
    EveryDay(Span),
    List(Vec<DayRange>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DayRange {
    pub from: Weekday,
    pub to: Option<Weekday>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Skill {
    pub name: Name,
    /// `None` for a levelled skill, the named values for an enumerated one.
    pub values: Option<Vec<Name>>,
    pub span: Span,
}

/// `switch storm_closure "Storm: close all lines"`: a flag supervisors
/// flip while the server runs.
#[derive(Clone, Debug, PartialEq)]
pub struct Switch {
    pub name: Name,
    /// What the switch is for, shown to supervisors.
    pub description: Option<Str>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Lookup {
    pub name: Name,
    pub key: Name,
    pub source: Str,
    pub table: Option<Str>,
    pub fields: Vec<LookupField>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LookupField {
    pub name: Name,
    pub ty: Name,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Queue {
    pub name: Name,
    pub stmts: Vec<QueueStmt>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum QueueStmt {
    Strategy(Name),
    Require(Expr),
    Prefer(Expr),
    Score(Expr),
    Ring(Ring),
    Wrapup(Duration),
    Announce {
        items: Vec<Announcement>,
        every: Duration,
        span: Span,
    },
    Music(Str),
    Relax {
        after: Duration,
        require: Expr,
        span: Span,
    },
    Overflow {
        after: Duration,
        actions: Actions,
        span: Span,
    },
    NoAgents {
        actions: Actions,
        span: Span,
    },
    PauseAfter {
        misses: Int,
        span: Span,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub enum Ring {
    /// `ring 20s then next`
    Next { timeout: Duration, span: Span },
    /// `ring all 25s`
    All { timeout: Duration, span: Span },
    /// `auto answer`
    AutoAnswer { span: Span },
}

#[derive(Clone, Debug, PartialEq)]
pub enum Announcement {
    /// `position`, `wait`, or a word the checker rejects.
    Word(Name),
    /// A prompt played periodically.
    Prompt(Str),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    pub name: Name,
    pub stmts: Vec<GroupStmt>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum GroupStmt {
    Members(Vec<Name>, Span),
    Mode {
        mode: Name,
        timeout: Duration,
        span: Span,
    },
    Then(Actions, Span),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Menu {
    pub name: Name,
    pub stmts: Vec<MenuStmt>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum MenuStmt {
    Prompt(Str),
    Timeout(Duration),
    DigitTimeout(Duration),
    /// `retries 2` or `retries 2 -> queue operator`: what happens when
    /// `repeat` is reached with no tries left.
    Retries(Int, Option<Actions>),
    Collect {
        min: Int,
        max: Option<Int>,
        actions: Actions,
        span: Span,
    },
    Invalid(Actions, Span),
    OnTimeout(Actions, Span),
    Key {
        key: Name,
        actions: Actions,
        span: Span,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Route {
    pub name: Name,
    pub rules: Vec<Rule>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    /// `None` for `otherwise`.
    pub when: Option<Expr>,
    pub actions: Actions,
    /// The `when ...` or `otherwise` head.
    pub head: Span,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub number: Str,
    pub actions: Actions,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Actions {
    pub list: Vec<Action>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Action {
    pub kind: ActionKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ActionKind {
    Play(Str),
    Whisper(Str),
    Record,
    SetTag(Str),
    Queue { queue: Name, priority: Option<Int> },
    Menu(Name),
    Route(Name),
    Group(Name),
    DialExtension { digits: Int },
    Extension(ExtensionTarget),
    Transfer(Str),
    Voicemail(Str),
    Reject(Option<Name>),
    Hangup,
    Repeat,
    Back,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExtensionTarget {
    /// Bare `extension`: the last four digits of the dialed number.
    Dialed,
    /// `extension last 3`
    LastDigits(Int),
    /// `extension 1001`
    Number(Name),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Or => "or",
            BinOp::And => "and",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Builtin {
    Caller,
    /// `caller withheld`: the caller's number was not given.
    Withheld,
    Dialed,
    Now,
    Digits,
    Agent,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Bool(bool),
    Int(Int),
    Duration(Duration),
    Time(Time),
    Date(Date),
    Str(Str),
    Name(Name),
    Builtin(Builtin),
    Known(Name),
    Call {
        func: Name,
        args: Vec<Expr>,
    },
    Field {
        base: Box<Expr>,
        field: Name,
    },
    Not(Box<Expr>),
    Neg(Box<Expr>),
    Binary {
        op: BinOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    Matches {
        subject: Box<Expr>,
        pattern: Str,
    },
    StartsWith {
        subject: Box<Expr>,
        prefix: Str,
    },
    In {
        subject: Box<Expr>,
        list: Vec<Expr>,
        list_span: Span,
    },
    /// A subexpression the parser could not build (too long or too deep); already reported.
    Error,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Test {
    pub name: Str,
    pub stmts: Vec<TestStmt>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TestStmt {
    Call {
        from: Option<Str>,
        to: Str,
        at: Option<(Date, Time, Option<Str>)>,
        span: Span,
    },
    Press(Vec<PressKey>, Span),
    GivenAgent {
        agent: Name,
        state: Name,
        /// `extension 2001`: the agent's extension, for hunt groups and
        /// direct dialing.
        extension: Option<Name>,
        skills: Option<Record>,
        span: Span,
    },
    GivenQueue {
        queue: Name,
        stats: Vec<(Name, Value)>,
        span: Span,
    },
    /// `given switch storm_closure on`; `state` is `on` or `off` (checked).
    GivenSwitch {
        switch: Name,
        state: Name,
        span: Span,
    },
    GivenLookup {
        lookup: Name,
        /// `None` for `given customer unknown`.
        record: Option<Record>,
        span: Span,
    },
    Expect(Actions, Span),
    /// `expect rings ...`, `expect answered by ...` and the other
    /// expectations about what the call runtime does.
    ExpectRuntime(RuntimeExpect, Span),
    /// `caller waits 30s`: how long the caller waits for an agent.
    CallerWaits(Duration, Span),
    /// `agents answer after 5s`: how long agents take to pick up.
    AgentsAnswerAfter(Duration, Span),
    /// `agent bob does not answer`.
    AgentDoesNotAnswer(Name, Span),
}

/// What a test expects the call runtime to do with the call. Agents are
/// named by id (from the test's `given agent` lines) or by extension.
#[derive(Clone, Debug, PartialEq)]
pub enum RuntimeExpect {
    /// `expect rings ana, bob [then ACTIONS]`: every agent or extension
    /// rung, in order; with `then`, what ran when nobody answered.
    /// `expect rings nobody` has no parties: nobody rang at all.
    Rings {
        parties: Vec<Name>,
        then: Option<Actions>,
    },
    /// `expect waits then ACTIONS`: the call waited in a queue until an
    /// `after D ->` step took it out.
    WaitsThen(Actions),
    /// `expect no agents then ACTIONS`: a queue's `no agents ->` ran.
    NoAgentsThen(Actions),
    /// `expect answered [by ana]`.
    Answered(Option<Name>),
    /// `expect abandoned`: the caller hung up before anyone answered.
    Abandoned,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PressKey {
    Keys(Name),
    Timeout(Span),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    pub fields: Vec<(Name, Value)>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Bool(bool, Span),
    Int(Int),
    Duration(Duration),
    Time(Time),
    Date(Date),
    Str(Str),
    Word(Name),
    List(Vec<Value>, Span),
}

impl Value {
    pub fn span(&self) -> Span {
        match self {
            Value::Bool(_, s) | Value::List(_, s) => *s,
            Value::Int(i) => i.span,
            Value::Duration(d) => d.span,
            Value::Time(t) => t.span,
            Value::Date(d) => d.span,
            Value::Str(s) => s.span,
            Value::Word(w) => w.span,
        }
    }
}
