//! A stable text form of the IR, for snapshots and `--emit ir`.

use std::fmt::Write;

use super::module::{ArithOp, Body, CmpOp, Module, Node};

/// Prints a whole module: layout, interned strings and patterns, then every
/// function with its id.
pub fn print(m: &Module) -> String {
    let mut out = String::new();
    let l = &m.layout;
    let _ = writeln!(
        out,
        "layout zones={} lookups={:?} queues={} skills={}",
        l.zones, l.lookups, l.queues, l.skills
    );
    for (i, s) in m.strings.iter().enumerate() {
        let _ = writeln!(out, "s{i} = {s:?}");
    }
    for (i, p) in m.patterns.iter().enumerate() {
        let _ = writeln!(out, "p{i} = {p}");
    }
    let _ = writeln!(out, "entries = f{} order={:?}", m.entries.0, m.entry_order);
    for (i, f) in m.functions.iter().enumerate() {
        let agent = if f.agent { " (agent)" } else { "" };
        match &f.body {
            Body::FirstMatch(conditions) => {
                let _ = writeln!(out, "\nf{i} {}{agent}: first match", f.name);
                for (j, c) in conditions.iter().enumerate() {
                    let _ = writeln!(out, "  {j}: {}", node(c));
                }
            }
            Body::Bool(n) => {
                let _ = writeln!(out, "\nf{i} {}{agent}: bool\n  {}", f.name, node(n));
            }
            Body::Int(n) => {
                let _ = writeln!(out, "\nf{i} {}{agent}: int\n  {}", f.name, node(n));
            }
        }
    }
    out
}

/// One expression, in prefix form.
pub fn node(n: &Node) -> String {
    let mut out = String::new();
    write_node(n, &mut out);
    out
}

fn write_node(n: &Node, out: &mut String) {
    let bin = |name: &str, a: &Node, b: &Node, out: &mut String| {
        let _ = write!(out, "{name}(");
        write_node(a, out);
        out.push_str(", ");
        write_node(b, out);
        out.push(')');
    };
    let un = |name: &str, a: &Node, rest: &str, out: &mut String| {
        let _ = write!(out, "{name}(");
        write_node(a, out);
        let _ = write!(out, "{rest})");
    };
    match n {
        Node::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Node::Text(s) => {
            let _ = write!(out, "s{}", s.0);
        }
        Node::Caller => out.push_str("caller"),
        Node::Dialed => out.push_str("dialed"),
        Node::Digits => out.push_str("digits"),
        Node::Time(z, f) => {
            let _ = write!(out, "z{}.{}", z.0, f.name());
        }
        Node::Found(l) => {
            let _ = write!(out, "found(l{})", l.0);
        }
        Node::Field(l, i) => {
            let _ = write!(out, "l{}.{i}", l.0);
        }
        Node::FieldText(l, i) => {
            let _ = write!(out, "l{}.{i}:text", l.0);
        }
        Node::QueueStat(q, s) => {
            let _ = write!(out, "q{}.{}", q.0, s.name());
        }
        Node::Switch(s) => {
            let _ = write!(out, "switch{}", s.0);
        }
        Node::Agent(a) => {
            let _ = write!(out, "agent.{}", a.name());
        }
        Node::Skill(s) => {
            let _ = write!(out, "skill{}", s.0);
        }
        Node::Call(f) => {
            let _ = write!(out, "f{}()", f.0);
        }
        Node::Not(a) => un("not", a, "", out),
        Node::Neg(a) => un("neg", a, "", out),
        Node::And(a, b) => bin("and", a, b, out),
        Node::Or(a, b) => bin("or", a, b, out),
        Node::Cmp(op, a, b) => bin(
            match op {
                CmpOp::Eq => "eq",
                CmpOp::Ne => "ne",
                CmpOp::Lt => "lt",
                CmpOp::Le => "le",
                CmpOp::Gt => "gt",
                CmpOp::Ge => "ge",
            },
            a,
            b,
            out,
        ),
        Node::Arith(op, a, b) => bin(
            match op {
                ArithOp::Add => "add",
                ArithOp::Sub => "sub",
                ArithOp::Mul => "mul",
                ArithOp::Div => "div",
                ArithOp::Rem => "rem",
            },
            a,
            b,
            out,
        ),
        Node::HasBit { mask, bit } => bin("has_bit", mask, bit, out),
        Node::AnyBit(a, mask) => un("any_bit", a, &format!(", {mask:#x}"), out),
        Node::TextEq(a, b) => bin("text_eq", a, b, out),
        Node::StartsWith(a, s) => un("starts_with", a, &format!(", s{}", s.0), out),
        Node::PrefixOf(a, s) => un("prefix_of", a, &format!(", s{}", s.0), out),
        Node::Matches(a, p) => un("matches", a, &format!(", p{}", p.0), out),
        Node::InInts(a, list) => un("in", a, &format!(", {list:?}"), out),
        Node::InTexts(a, list) => {
            let names: Vec<String> = list.iter().map(|s| format!("s{}", s.0)).collect();
            un("in", a, &format!(", [{}]", names.join(", ")), out)
        }
        Node::InRanges(a, ranges) => {
            let rs: Vec<String> = ranges.iter().map(|(x, y)| format!("{x}..{y}")).collect();
            un("in_ranges", a, &format!(", [{}]", rs.join(", ")), out)
        }
    }
}
