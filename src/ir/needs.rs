//! What a queue's filters require of agents' skills, read from their IR:
//! the analysis behind the ACD's skill indexes (which agents can be
//! candidates, and counting a queue's agents without running its filter on
//! each). Done once per program, at compile time, where it can be.

use super::module::{Body, CmpOp, FuncId, Module, Node};
use crate::checked::SkillId;

/// Something a filter requires of an agent's skills, which the skill
/// indexes can answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// A levelled skill at this level or above (above 10: nobody).
    Level(SkillId, i64),
    /// At least one of these values (bits) of an enumerated skill.
    AnyOf(SkillId, i64),
}

/// What a filter requires of agents' skills.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Needs {
    pub needs: Vec<Need>,
    /// The filter is exactly the conjunction of `needs`: an agent who
    /// meets them passes it.
    pub exact: bool,
}

/// What a filter requires of agents' skills, read from its top-level
/// `and`s: `billing >= 3`, `language == spanish`, `language in [english,
/// spanish]` and the like. Unless the filter is exactly those, it still
/// runs on every candidate; the needs only narrow the candidates.
pub fn required_skills(module: &Module, f: FuncId) -> Needs {
    let mut needs = Vec::new();
    let exact = match &module.function(f).body {
        Body::Bool(n) => walk_needs(n, &mut needs),
        _ => false,
    };
    Needs { needs, exact }
}

/// The most clauses `exact_skills` expands a filter into.
const MAX_CLAUSES: usize = 8;

/// A filter that says nothing but what the skill indexes answer, joined by
/// `and` and `or`, as a disjunction of conjunctions: `sales >= 5 or
/// premium >= 5` is `[[sales >= 5], [premium >= 5]]`. `None` when it says
/// anything more, or expands past `MAX_CLAUSES` clauses.
pub fn exact_skills(module: &Module, f: FuncId) -> Option<Vec<Vec<Need>>> {
    fn clauses(n: &Node) -> Option<Vec<Vec<Need>>> {
        match n {
            Node::Or(a, b) => {
                let mut all = clauses(a)?;
                all.extend(clauses(b)?);
                (all.len() <= MAX_CLAUSES).then_some(all)
            }
            Node::And(a, b) => {
                let (a, b) = (clauses(a)?, clauses(b)?);
                if a.len() * b.len() > MAX_CLAUSES {
                    return None;
                }
                Some(
                    a.iter()
                        .flat_map(|x| b.iter().map(move |y| [x.as_slice(), y].concat()))
                        .collect(),
                )
            }
            leaf => {
                let mut needs = Vec::new();
                walk_needs(leaf, &mut needs).then_some(vec![needs])
            }
        }
    }
    match &module.function(f).body {
        Body::Bool(n) => clauses(n),
        _ => None,
    }
}

/// Adds what `n` needs, through its top-level `and`s; false if that is not
/// all `n` says.
fn walk_needs(n: &Node, out: &mut Vec<Need>) -> bool {
    match n {
        Node::And(a, b) => {
            let a = walk_needs(a, out);
            walk_needs(b, out) && a
        }
        Node::Cmp(op, a, b) => match (op, a.as_ref(), b.as_ref()) {
            // `skill >= k`, `k <= skill`
            (CmpOp::Ge, Node::Skill(s), Node::Int(k))
            | (CmpOp::Le, Node::Int(k), Node::Skill(s)) => {
                out.push(Need::Level(*s, *k));
                true
            }
            // `skill == k` needs at least `k`, and says more.
            (CmpOp::Eq, Node::Skill(s), Node::Int(k))
            | (CmpOp::Eq, Node::Int(k), Node::Skill(s)) => {
                out.push(Need::Level(*s, *k));
                false
            }
            // `skill > k`, `k < skill`
            (CmpOp::Gt, Node::Skill(s), Node::Int(k))
            | (CmpOp::Lt, Node::Int(k), Node::Skill(s)) => {
                out.push(Need::Level(*s, k.saturating_add(1)));
                true
            }
            _ => false,
        },
        Node::HasBit { mask, bit } => match (mask.as_ref(), bit.as_ref()) {
            (Node::Skill(s), Node::Int(v @ 0..=63)) => {
                out.push(Need::AnyOf(*s, 1i64 << v));
                true
            }
            // A value read from the caller's facts: any value at all
            // is needed, one in particular is said.
            (Node::Skill(s), _) => {
                out.push(Need::AnyOf(*s, -1));
                false
            }
            _ => false,
        },
        Node::AnyBit(x, bits) => match x.as_ref() {
            Node::Skill(s) => {
                out.push(Need::AnyOf(*s, *bits));
                true
            }
            _ => false,
        },
        _ => false,
    }
}

/// Per queue, its agents as the skill indexes can count them: the clauses
/// of its widest filters (its `require` and every relaxation step's),
/// joined, when each is made only of skill comparisons; `None` when some
/// filter says more (it must run on each agent) or a step has no filter
/// (every agent counts).
pub fn queue_clauses(module: &Module) -> Vec<Option<Vec<Vec<Need>>>> {
    module
        .queues
        .iter()
        .map(|q| {
            q.widest()
                .into_iter()
                .map(|f| f.and_then(|f| exact_skills(module, f)))
                .collect::<Option<Vec<_>>>()
                .map(|clauses| clauses.concat())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The IR of a script's queues, checked and lowered (no compiling).
    fn module(queues: &str) -> Module {
        let text = format!(
            "timezone \"UTC\"\nskill billing\nskill language {{ english, spanish }}\n{queues}\n\
             entry \"+18005550100\" -> hangup\n"
        );
        let fs = crate::load::MemoryFs::default().with("main.dial", &text);
        let checked = crate::load::check_in_memory(&fs).unwrap_or_else(|e| panic!("{e}"));
        crate::ir::lower(&checked)
    }

    fn require(m: &Module, queue: usize) -> FuncId {
        m.queues[queue].require.expect("a require")
    }

    #[test]
    fn skill_comparisons_joined_by_and_are_exact_needs() {
        let m = module("queue q { strategy linear; require billing >= 3 and language == spanish }");
        let needs = required_skills(&m, require(&m, 0));
        assert!(needs.exact);
        assert_eq!(needs.needs.len(), 2);
        assert!(needs.needs.contains(&Need::Level(SkillId(0), 3)));
        assert!(
            needs
                .needs
                .iter()
                .any(|n| matches!(n, Need::AnyOf(SkillId(1), _)))
        );
    }

    #[test]
    fn anything_more_than_skills_is_not_exact() {
        let m =
            module("queue q { strategy linear; require billing >= 3 and agent.idle_minutes > 2 }");
        let needs = required_skills(&m, require(&m, 0));
        assert!(!needs.exact, "idle time narrows nothing the indexes hold");
        assert_eq!(needs.needs, [Need::Level(SkillId(0), 3)]);
        assert_eq!(exact_skills(&m, require(&m, 0)), None);
        assert_eq!(queue_clauses(&m), [None]);
    }

    #[test]
    fn or_becomes_clauses_and_a_queue_counts_its_widest_filter() {
        let m = module(
            "queue q {\n  strategy linear\n  require billing >= 5 or language == spanish\n  \
             after 1m require billing >= 2\n}",
        );
        let clauses = exact_skills(&m, require(&m, 0)).expect("skills only");
        assert_eq!(clauses.len(), 2);
        assert_eq!(clauses[0], [Need::Level(SkillId(0), 5)]);
        // The queue's agents: either filter, the first and the relaxed one.
        let by_queue = queue_clauses(&m);
        assert_eq!(by_queue[0].as_ref().map(Vec::len), Some(3));
    }
}
