//! Per-skill indexes of agents: sets of agents as bits, by skill level
//! and by skill value, and what a queue's filter needs of them, so that
//! the ACD finds candidates, and counts a queue's agents, by intersecting
//! sets a word (64 agents) at a time instead of scanning the roster.

use crate::checked::{self, MAX_SKILL_LEVEL, SkillKind};
use crate::ir::needs::Need;

/// One factor of a candidate intersection: an index set, or the agents in
/// every term of at least one clause (`language in [english, spanish]`,
/// `prefer sales >= 5 or premium >= 5`).
#[derive(Clone)]
pub(super) enum Term<'s> {
    Set(&'s AgentSet),
    Any(Vec<Vec<Term<'s>>>),
}

impl Term<'_> {
    /// True only if the term holds nobody.
    pub(super) fn is_empty(&self) -> bool {
        match self {
            Term::Set(s) => s.is_empty(),
            Term::Any(clauses) => clauses.iter().all(|c| c.iter().any(Term::is_empty)),
        }
    }

    pub(super) fn word(&self, i: usize) -> u64 {
        match self {
            Term::Set(s) => s.words[i],
            Term::Any(clauses) => clauses.iter().fold(0, |acc, c| acc | Term::all_of(c, i)),
        }
    }

    /// Word `i` of the intersection of `terms`.
    pub(super) fn all_of(terms: &[Term], i: usize) -> u64 {
        terms.iter().fold(!0u64, |acc, t| acc & t.word(i))
    }

    /// How many words every set the term reads has.
    pub(super) fn words(&self) -> usize {
        match self {
            Term::Set(s) => s.words.len(),
            Term::Any(clauses) => clauses.iter().flatten().map(Term::words).min().unwrap_or(0),
        }
    }

    /// The agents in every term, in table order.
    pub(super) fn intersection<'t>(terms: &'t [Term<'t>]) -> impl Iterator<Item = usize> + 't {
        let words = terms.iter().map(Term::words).min().unwrap_or(0);
        (0..words).flat_map(move |i| {
            let mut bits = Term::all_of(terms, i);
            std::iter::from_fn(move || {
                if bits == 0 {
                    return None;
                }
                let bit = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                Some(i * 64 + bit)
            })
        })
    }
}

/// A set of agents, by place in the table, as bits: the per-skill indexes
/// intersect a word (64 agents) at a time.
#[derive(Clone, Debug, Default)]
pub(super) struct AgentSet {
    words: Vec<u64>,
    len: usize,
}

impl AgentSet {
    /// An empty set for a table of `agents`.
    pub(super) fn new(agents: usize) -> AgentSet {
        AgentSet {
            words: vec![0; agents.div_ceil(64)],
            len: 0,
        }
    }

    pub(super) fn set(&mut self, agent: usize, member: bool) {
        let (word, bit) = (agent / 64, 1u64 << (agent % 64));
        let Some(w) = self.words.get_mut(word) else {
            return;
        };
        if (*w & bit != 0) != member {
            *w ^= bit;
            if member {
                self.len += 1;
            } else {
                self.len -= 1;
            }
        }
    }

    pub(super) fn len(&self) -> usize {
        self.len
    }

    pub(super) fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// A set of agents (`all`) and, per skill of a layout, the members by
/// skill: for a levelled skill by level (set `k - 1` holds those at level
/// `k` or above), for an enumerated skill by value (set `v` holds those
/// with value `v`). The ACD keeps one of available agents and one of
/// logged-in agents.
#[derive(Clone, Debug, Default)]
pub(super) struct SkillIndex {
    pub all: AgentSet,
    by_skill: Vec<Vec<AgentSet>>,
}

impl SkillIndex {
    /// An empty index for a table of `agents` with skills laid out as
    /// `layout`.
    pub fn new(layout: &[checked::Skill], agents: usize) -> SkillIndex {
        let all = AgentSet::new(agents);
        let by_skill = layout
            .iter()
            .map(|skill| {
                let sets = match &skill.kind {
                    SkillKind::Level => MAX_SKILL_LEVEL as usize,
                    SkillKind::Values(values) => values.len(),
                };
                vec![all.clone(); sets]
            })
            .collect();
        SkillIndex { all, by_skill }
    }

    /// Puts an agent with these skills (per skill of `layout`: a level or
    /// a bit set of values) in the index, or takes them out.
    pub fn set(&mut self, layout: &[checked::Skill], agent: usize, skills: &[i64], member: bool) {
        for (s, &value) in skills.iter().enumerate() {
            let (Some(sets), Some(skill)) = (self.by_skill.get_mut(s), layout.get(s)) else {
                continue;
            };
            match skill.kind {
                SkillKind::Level => {
                    for set in sets
                        .iter_mut()
                        .take(value.clamp(0, MAX_SKILL_LEVEL) as usize)
                    {
                        set.set(agent, member);
                    }
                }
                SkillKind::Values(_) => {
                    for (v, set) in sets.iter_mut().enumerate() {
                        if value & (1 << v) != 0 {
                            set.set(agent, member);
                        }
                    }
                }
            }
        }
        self.all.set(agent, member);
    }

    /// The index sets whose intersection holds every member that meets
    /// `needs`, and whether it holds only those (false when a need does
    /// not fit the layout and is left out); `None` when no agent can.
    pub fn terms(
        &self,
        layout: &[checked::Skill],
        needs: &[Need],
    ) -> Option<(Vec<Term<'_>>, bool)> {
        let mut terms = Vec::new();
        let mut all = true;
        for need in needs {
            match *need {
                Need::Level(s, level) => {
                    if !matches!(
                        layout.get(s.index()).map(|k| &k.kind),
                        Some(SkillKind::Level)
                    ) {
                        all = false;
                        continue;
                    }
                    if level > MAX_SKILL_LEVEL {
                        return None;
                    }
                    if level >= 1 {
                        terms.push(Term::Set(&self.by_skill[s.index()][level as usize - 1]));
                    }
                }
                Need::AnyOf(s, bits) => {
                    if !matches!(
                        layout.get(s.index()).map(|k| &k.kind),
                        Some(SkillKind::Values(_))
                    ) {
                        all = false;
                        continue;
                    }
                    let mut sets: Vec<Vec<Term>> = self.by_skill[s.index()]
                        .iter()
                        .enumerate()
                        .filter(|&(v, _)| bits & (1 << v) != 0)
                        .map(|(_, set)| vec![Term::Set(set)])
                        .collect();
                    match sets.len() {
                        0 => return None,
                        1 => terms.append(&mut sets[0]),
                        _ => terms.push(Term::Any(sets)),
                    }
                }
            }
        }
        if terms.is_empty() {
            terms.push(Term::Set(&self.all));
        }
        Some((terms, all))
    }

    /// How many members meet at least one clause (a conjunction of needs,
    /// as `ir::needs::exact_skills` gives them); `None` when the indexes cannot
    /// say (a need that does not fit the layout).
    pub fn count(&self, layout: &[checked::Skill], clauses: &[Vec<Need>]) -> Option<usize> {
        let mut any = Vec::new();
        for clause in clauses {
            match self.terms(layout, clause) {
                Some((terms, true)) => any.push(terms),
                Some((_, false)) => return None,
                // A clause nobody meets.
                None => {}
            }
        }
        if any.is_empty() {
            return Some(0);
        }
        let union = [Term::Any(any)];
        let words = union[0].words();
        Some(
            (0..words)
                .map(|i| Term::all_of(&union, i).count_ones() as usize)
                .sum(),
        )
    }
}
