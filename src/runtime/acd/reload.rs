//! What a reload changes: the roster table (agents who stay keep their
//! state, agents who leave while busy depart once their call is over,
//! round robin goes on after the same agent), and the translation through
//! which a call that began before the reload reads agents' skills when its
//! program declares them differently.

use std::collections::{HashMap, HashSet};

use super::inner::{Agent, Inner};
use super::state::busy;
use crate::checked::{self, AgentState, SkillKind};
use crate::runtime::roster::Roster;

impl Inner {
    /// Puts a new roster in force; returns the agents who left it while
    /// logged in but not busy (now gone, so logged out).
    pub(super) fn replace_roster(
        &mut self,
        roster: &Roster,
        program: &checked::Program,
        skills: Vec<Vec<i64>>,
    ) -> Vec<String> {
        let mut agents: Vec<Agent> = roster
            .agents
            .iter()
            .zip(skills)
            .map(
                |(spec, skills)| match self.by_id.get(&spec.id).map(|&i| self.agents[i].clone()) {
                    Some(old) => Agent {
                        spec: spec.clone(),
                        skills,
                        departing: false,
                        ..old
                    },
                    None => Agent::new(spec.clone(), skills),
                },
            )
            .collect();
        let staying: HashSet<&str> = roster.agents.iter().map(|a| a.id.as_str()).collect();
        let mut dropped = Vec::new();
        for old in &self.agents {
            if staying.contains(old.spec.id.as_str()) {
                continue;
            }
            if busy(old.state) {
                agents.push(Agent {
                    // Never selected again, so never read: no skills.
                    skills: vec![0; program.skills.len()],
                    departing: true,
                    ..old.clone()
                });
            } else if old.state != AgentState::LoggedOut && !old.departing {
                dropped.push(old.spec.id.clone());
            }
        }
        // Round robin goes on after the last agent offered, or after the
        // nearest agent before them who stayed.
        let place: HashMap<&str, usize> = agents[..roster.agents.len()]
            .iter()
            .enumerate()
            .map(|(i, a)| (a.spec.id.as_str(), i))
            .collect();
        let round_robin = self
            .round_robin
            .iter()
            .filter_map(|(queue, &last)| {
                let stayed = (self.agents.get(..=last))
                    .unwrap_or(&self.agents)
                    .iter()
                    .rev()
                    .find_map(|a| place.get(a.spec.id.as_str()).copied())?;
                Some((queue.clone(), stayed))
            })
            .collect();
        self.round_robin = round_robin;
        self.layout = program.skills.clone();
        self.set_agents(agents);
        dropped
    }

    /// An agent's skills as a program reads them: as held, or translated
    /// into `scratch` for a program that declares skills differently.
    pub(super) fn skills_for<'s>(
        &'s self,
        agent: usize,
        translation: Option<&Translation>,
        scratch: &'s mut Vec<i64>,
    ) -> &'s [i64] {
        debug_assert!(self.row_matches(agent), "the row of agent {agent} is stale");
        let skills = self.skills(agent);
        match translation {
            None => skills,
            Some(t) => {
                t.apply(skills, scratch);
                scratch
            }
        }
    }
}

/// How a program reads agents' skills when it declares them differently
/// from the layout the ACD holds them in (a caller who started before a
/// reload): skills are matched by name, values of enumerated skills by
/// name; a skill the layout lacks reads as 0.
pub(super) struct Translation {
    skills: Vec<Read>,
}

enum Read {
    Missing,
    Level(usize),
    /// The layout's skill, and per value of the layout's its bit in the
    /// program's.
    Values(usize, Vec<Option<u32>>),
}

impl Translation {
    /// `None` when the program reads skills as the layout holds them.
    pub(super) fn between(
        layout: &[checked::Skill],
        program: &[checked::Skill],
    ) -> Option<Translation> {
        let same = layout.len() == program.len()
            && layout
                .iter()
                .zip(program)
                .all(|(l, p)| l.name == p.name && l.kind == p.kind);
        if same {
            return None;
        }
        let skills = program
            .iter()
            .map(|p| {
                let Some(i) = layout.iter().position(|l| l.name == p.name) else {
                    return Read::Missing;
                };
                match (&layout[i].kind, &p.kind) {
                    (SkillKind::Level, SkillKind::Level) => Read::Level(i),
                    (SkillKind::Values(from), SkillKind::Values(to)) => Read::Values(
                        i,
                        from.iter()
                            .map(|v| to.iter().position(|t| t == v).map(|b| b as u32))
                            .collect(),
                    ),
                    _ => Read::Missing,
                }
            })
            .collect();
        Some(Translation { skills })
    }

    fn apply(&self, skills: &[i64], out: &mut Vec<i64>) {
        out.clear();
        out.extend(self.skills.iter().map(|r| match r {
            Read::Missing => 0,
            Read::Level(i) => skills.get(*i).copied().unwrap_or(0),
            Read::Values(i, bits) => {
                let held = skills.get(*i).copied().unwrap_or(0);
                bits.iter()
                    .enumerate()
                    .filter(|&(from, _)| held & (1 << from) != 0)
                    .filter_map(|(_, to)| *to)
                    .fold(0, |mask, to| mask | 1 << to)
            }
        }));
    }
}
