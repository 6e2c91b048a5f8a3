//! The IR's types: a `Module` of decision functions, each a `Body` of
//! typed expression trees (`Node`), the ids that index its tables and the
//! `Layout` of the data decisions read, with the walks over them
//! (`Node::visit`, `Module::first_reading`).

use crate::checked::{AgentAttr, LookupId, QueueId, QueueStat, SkillId, SwitchId, ZoneId};
use crate::number::Pattern;

macro_rules! ids {
    ($($name:ident),*) => {$(
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub u32);
        impl $name {
            pub fn index(self) -> usize { self.0 as usize }
        }
    )*};
}

ids!(FuncId, StrId, PatId);

/// All decision functions of one program.
#[derive(Clone, Debug, Default)]
pub struct Module {
    pub strings: Vec<String>,
    pub patterns: Vec<Pattern>,
    pub functions: Vec<Function>,
    pub layout: Layout,
    /// Which entry answers the dialed number; the result indexes `entry_order`.
    pub entries: FuncId,
    /// Result of the entry function → index into `checked::Program::entries`.
    pub entry_order: Vec<u32>,
    pub routes: Vec<FuncId>,
    pub menus: Vec<FuncId>,
    pub hours: Vec<FuncId>,
    pub calendars: Vec<FuncId>,
    pub queues: Vec<QueueFns>,
}

/// The shape of the data decisions read, so engines can lay it out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Layout {
    pub zones: usize,
    /// Number of fields of each lookup.
    pub lookups: Vec<usize>,
    pub queues: usize,
    pub skills: usize,
    /// Number of switches; a call's facts hold 0 or 1 for each.
    pub switches: usize,
}

/// The agent-selection functions of one queue.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueueFns {
    pub require: Option<FuncId>,
    pub prefer: Option<FuncId>,
    pub score: Option<FuncId>,
    /// One per queue step, in step order: the relaxed filter of a
    /// relaxation step, `None` for an overflow step.
    pub steps: Vec<Option<FuncId>>,
}

impl QueueFns {
    /// The filters that decide who could ever take the queue's calls: its
    /// `require` and each relaxation step's (`None`: no filter, anyone).
    pub fn widest(&self) -> Vec<Option<FuncId>> {
        let mut out = Vec::new();
        self.widest_into(&mut out);
        out
    }

    /// [`QueueFns::widest`] written into `out`, replacing what it held.
    pub fn widest_into(&self, out: &mut Vec<Option<FuncId>>) {
        out.clear();
        out.push(self.require);
        out.extend(self.steps.iter().copied().filter(Option::is_some));
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Function {
    pub name: String,
    /// Reads an agent as well as the call (queue selection functions).
    pub agent: bool,
    pub body: Body,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Body {
    /// The index of the first condition that holds, or -1.
    FirstMatch(Vec<Node>),
    /// A boolean: 1 or 0.
    Bool(Node),
    /// An integer.
    Int(Node),
}

/// Local time fields, computed by the host for each zone before each
/// decision that reads them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TimeField {
    /// Minutes since Monday 00:00, local wall clock.
    WeekMinute,
    /// Minutes since local midnight.
    DayMinute,
    /// Monday is 0.
    Weekday,
    /// Days since 1970-01-01.
    Date,
    /// `month * 100 + day`.
    MonthDay,
    /// Days since this year's (Western) Easter Sunday, negative before it.
    EasterDay,
}

impl TimeField {
    pub const ALL: [TimeField; 6] = [
        TimeField::WeekMinute,
        TimeField::DayMinute,
        TimeField::Weekday,
        TimeField::Date,
        TimeField::MonthDay,
        TimeField::EasterDay,
    ];
    pub fn name(self) -> &'static str {
        match self {
            TimeField::WeekMinute => "week_minute",
            TimeField::DayMinute => "day_minute",
            TimeField::Weekday => "weekday",
            TimeField::Date => "date",
            TimeField::MonthDay => "month_day",
            TimeField::EasterDay => "easter_day",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ArithOp {
    Add,
    Sub,
    Mul,
    /// Division by zero gives 0; `i64::MIN / -1` wraps.
    Div,
    /// Remainder by zero gives 0.
    Rem,
}

/// An expression. Integer nodes and text nodes never mix: the lowering
/// only builds well-typed trees.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    Int(i64),
    Text(StrId),
    /// Text: the caller's normalised number ("" when withheld).
    Caller,
    /// Text: the dialed normalised number.
    Dialed,
    /// Text: the digits last entered in a menu.
    Digits,
    Time(ZoneId, TimeField),
    /// 1 when the lookup found a row.
    Found(LookupId),
    /// An integer field of a lookup row (0 when there is no row).
    Field(LookupId, u16),
    /// A text field of a lookup row ("" when there is no row).
    FieldText(LookupId, u16),
    QueueStat(QueueId, QueueStat),
    /// 1 when the switch is on for the call.
    Switch(SwitchId),
    Agent(AgentAttr),
    /// The agent's level of a levelled skill, or the bit set of its values.
    Skill(SkillId),
    /// The result of another (boolean) function, such as an hours check.
    Call(FuncId),
    Not(Box<Node>),
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    Cmp(CmpOp, Box<Node>, Box<Node>),
    Arith(ArithOp, Box<Node>, Box<Node>),
    Neg(Box<Node>),
    /// Bit `bit` of `mask` is set (bit in 0..64; other bits are clear).
    HasBit {
        mask: Box<Node>,
        bit: Box<Node>,
    },
    /// `mask & bits != 0`.
    AnyBit(Box<Node>, i64),
    TextEq(Box<Node>, Box<Node>),
    StartsWith(Box<Node>, StrId),
    /// The text is a prefix of the string (used for multi-digit menu keys).
    PrefixOf(Box<Node>, StrId),
    Matches(Box<Node>, PatId),
    InInts(Box<Node>, Vec<i64>),
    InTexts(Box<Node>, Vec<StrId>),
    /// The value lies in one of these half-open ranges (sorted, disjoint).
    InRanges(Box<Node>, Vec<(i64, i64)>),
}

impl Node {
    /// Whether the node yields text (otherwise an integer).
    pub fn is_text(&self) -> bool {
        matches!(
            self,
            Node::Text(_) | Node::Caller | Node::Dialed | Node::Digits | Node::FieldText(..)
        )
    }
}

impl Node {
    /// Visits this node and every node below it, parents first.
    pub fn visit(&self, f: &mut impl FnMut(&Node)) {
        f(self);
        match self {
            Node::Not(a) | Node::Neg(a) => a.visit(f),
            Node::And(a, b)
            | Node::Or(a, b)
            | Node::Cmp(_, a, b)
            | Node::Arith(_, a, b)
            | Node::TextEq(a, b)
            | Node::HasBit { mask: a, bit: b } => {
                a.visit(f);
                b.visit(f);
            }
            Node::AnyBit(a, _)
            | Node::StartsWith(a, _)
            | Node::PrefixOf(a, _)
            | Node::Matches(a, _)
            | Node::InInts(a, _)
            | Node::InTexts(a, _)
            | Node::InRanges(a, _) => a.visit(f),
            Node::Int(_)
            | Node::Text(_)
            | Node::Caller
            | Node::Dialed
            | Node::Digits
            | Node::Time(..)
            | Node::Found(_)
            | Node::Field(..)
            | Node::FieldText(..)
            | Node::QueueStat(..)
            | Node::Switch(_)
            | Node::Agent(_)
            | Node::Skill(_)
            | Node::Call(_) => {}
        }
    }
}

impl Body {
    /// Visits every node of the body.
    pub fn visit(&self, f: &mut impl FnMut(&Node)) {
        match self {
            Body::FirstMatch(nodes) => nodes.iter().for_each(|n| n.visit(f)),
            Body::Bool(n) | Body::Int(n) => n.visit(f),
        }
    }
}

impl Module {
    pub fn function(&self, id: FuncId) -> &Function {
        &self.functions[id.index()]
    }

    /// Per queue, whether any function reads its statistics: the runtime
    /// keeps only those up to date in a call's facts.
    pub fn queue_stats_read(&self) -> Vec<bool> {
        let mut read = vec![false; self.layout.queues];
        for function in &self.functions {
            function.body.visit(&mut |n| {
                if let Node::QueueStat(q, _) = n
                    && let Some(r) = read.get_mut(q.index())
                {
                    *r = true;
                }
            });
        }
        read
    }

    /// Whether a filter reads what changes with time alone, with no event
    /// to say so: `agent.idle_minutes` (following calls into other
    /// functions). Calls made and talk time change only when calls end,
    /// which the ACD follows anyway; a waiting caller with such a filter
    /// needs the ACD's timed pass.
    pub fn reads_idle_time(&self, f: FuncId) -> bool {
        (self.first_reading([f], |n| matches!(n, Node::Agent(AgentAttr::IdleMinutes)))).is_some()
    }

    /// The first of `roots` that reads something `hit` matches, in its own
    /// body or in a function it calls (`Node::Call`, followed to any
    /// depth): which decision reads the time, which filter reads an
    /// agent's idle time.
    pub fn first_reading(
        &self,
        roots: impl IntoIterator<Item = FuncId>,
        hit: impl Fn(&Node) -> bool,
    ) -> Option<FuncId> {
        // A function searched from an earlier root read nothing `hit`
        // matches (or the search would have stopped), so one set serves
        // every root.
        let mut seen = vec![false; self.functions.len()];
        for root in roots {
            let mut work = vec![root];
            while let Some(f) = work.pop() {
                if std::mem::replace(&mut seen[f.index()], true) {
                    continue;
                }
                let mut found = false;
                self.function(f).body.visit(&mut |n| match n {
                    Node::Call(g) => work.push(*g),
                    n => found |= hit(n),
                });
                if found {
                    return Some(root);
                }
            }
        }
        None
    }

    pub fn string(&self, id: StrId) -> &str {
        &self.strings[id.index()]
    }

    pub fn pattern(&self, id: PatId) -> &Pattern {
        &self.patterns[id.index()]
    }
}
