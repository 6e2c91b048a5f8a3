//! The reference interpreter: evaluates IR functions over facts. Its
//! results define what every decision means; the JIT must agree with it.
//!
//! **Invariant:** no I/O, no unsafe, total on every well-typed IR tree
//! (division by zero is 0, arithmetic wraps).

use crate::facts::{AgentFacts, Facts, attr_index};
use crate::ir::{ArithOp, Body, CmpOp, FuncId, Module, Node};

/// Runs one decision function; see [`Body`] for what the result means.
pub fn run(module: &Module, f: FuncId, facts: &Facts, agent: Option<&AgentFacts>) -> i64 {
    Interp {
        module,
        facts,
        agent,
    }
    .function(f)
}

struct Interp<'a> {
    module: &'a Module,
    facts: &'a Facts,
    agent: Option<&'a AgentFacts>,
}

impl<'a> Interp<'a> {
    fn function(&self, f: FuncId) -> i64 {
        match &self.module.function(f).body {
            Body::FirstMatch(conditions) => conditions
                .iter()
                .position(|c| self.int(c) != 0)
                .map_or(-1, |i| i as i64),
            Body::Bool(n) => (self.int(n) != 0) as i64,
            Body::Int(n) => self.int(n),
        }
    }

    fn text(&self, n: &'a Node) -> &'a str {
        match n {
            Node::Text(s) => self.module.string(*s),
            Node::Caller => &self.facts.caller,
            Node::Dialed => &self.facts.dialed,
            Node::Digits => &self.facts.digits,
            Node::FieldText(l, i) => self
                .facts
                .lookups
                .get(l.index())
                .and_then(|r| r.as_ref())
                .and_then(|r| r.get(*i as usize))
                .map_or("", |s| s.text.as_str()),
            _ => "",
        }
    }

    fn int(&self, n: &'a Node) -> i64 {
        let b = |x: bool| x as i64;
        match n {
            Node::Int(i) => *i,
            Node::Time(z, f) => self.facts.time.get(z.index()).map_or(0, |t| t.get(*f)),
            Node::Found(l) => b(self
                .facts
                .lookups
                .get(l.index())
                .is_some_and(|r| r.is_some())),
            Node::Field(l, i) => self
                .facts
                .lookups
                .get(l.index())
                .and_then(|r| r.as_ref())
                .and_then(|r| r.get(*i as usize))
                .map_or(0, |s| s.int),
            Node::QueueStat(q, s) => self.facts.queue_stat(q.index(), *s),
            Node::Switch(s) => b(self.facts.switch(s.index())),
            Node::Agent(a) => self.agent.map_or(0, |x| x.attrs[attr_index(*a)]),
            Node::Skill(s) => self
                .agent
                .and_then(|x| x.skills.get(s.index()).copied())
                .unwrap_or(0),
            Node::Call(f) => self.function(*f),
            Node::Not(x) => b(self.int(x) == 0),
            Node::And(x, y) => b(self.int(x) != 0 && self.int(y) != 0),
            Node::Or(x, y) => b(self.int(x) != 0 || self.int(y) != 0),
            Node::Cmp(op, x, y) => {
                let (x, y) = (self.int(x), self.int(y));
                b(match op {
                    CmpOp::Eq => x == y,
                    CmpOp::Ne => x != y,
                    CmpOp::Lt => x < y,
                    CmpOp::Le => x <= y,
                    CmpOp::Gt => x > y,
                    CmpOp::Ge => x >= y,
                })
            }
            Node::Arith(op, x, y) => arith(*op, self.int(x), self.int(y)),
            Node::Neg(x) => self.int(x).wrapping_neg(),
            Node::HasBit { mask, bit } => {
                let (mask, bit) = (self.int(mask), self.int(bit));
                if (0..64).contains(&bit) {
                    (mask >> bit) & 1
                } else {
                    0
                }
            }
            Node::AnyBit(x, bits) => b(self.int(x) & bits != 0),
            Node::TextEq(x, y) => b(self.text(x) == self.text(y)),
            Node::StartsWith(x, s) => b(self.text(x).starts_with(self.module.string(*s))),
            Node::PrefixOf(x, s) => b(self.module.string(*s).starts_with(self.text(x))),
            Node::Matches(x, p) => b(self.module.pattern(*p).matches(self.text(x))),
            Node::InInts(x, list) => {
                let v = self.int(x);
                b(list.contains(&v))
            }
            Node::InTexts(x, list) => {
                let v = self.text(x);
                b(list.iter().any(|s| self.module.string(*s) == v))
            }
            Node::InRanges(x, ranges) => {
                let v = self.int(x);
                b(ranges.iter().any(|&(lo, hi)| lo <= v && v < hi))
            }
            Node::Text(_) | Node::Caller | Node::Dialed | Node::Digits | Node::FieldText(..) => 0,
        }
    }
}

/// Integer arithmetic as the language defines it: wrapping, and zero for a
/// division or remainder by zero.
pub fn arith(op: ArithOp, x: i64, y: i64) -> i64 {
    match op {
        ArithOp::Add => x.wrapping_add(y),
        ArithOp::Sub => x.wrapping_sub(y),
        ArithOp::Mul => x.wrapping_mul(y),
        ArithOp::Div if y == 0 => 0,
        ArithOp::Div => x.wrapping_div(y),
        ArithOp::Rem if y == 0 => 0,
        ArithOp::Rem => x.wrapping_rem(y),
    }
}
