//! The roster: agents from `agents.toml`, their SIP users, extensions and
//! skills, checked against the skills a program declares.
//!
//! ```toml
//! [[agent]]
//! id = "ana"
//! name = "Ana Ruiz"
//! sip_user = "ana"
//! password = "s3cret"
//! extension = "2001"
//! skills = { billing = 5, language = ["english", "spanish"] }
//! ```

use std::collections::HashMap;

use serde::Deserialize;

use crate::checked::{self, SkillKind};
use crate::diagnostic::did_you_mean;

/// One agent as the roster file describes them.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AgentSpec {
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub sip_user: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub extension: String,
    #[serde(default)]
    pub skills: toml::Table,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    agent: Vec<AgentSpec>,
}

/// A parsed roster, in file order (the order `linear` rings agents in).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Roster {
    pub agents: Vec<AgentSpec>,
}

/// A roster problem, with the agent it concerns.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RosterError {
    #[error("the roster is not valid TOML: {0}")]
    Toml(String),
    #[error("agent `{0}` is listed twice")]
    DuplicateAgent(String),
    #[error("agent `{agent}`: extension {extension} is also agent `{other}`'s")]
    DuplicateExtension {
        agent: String,
        other: String,
        extension: String,
    },
    #[error("agent `{agent}`: there is no skill `{skill}`{hint}")]
    UnknownSkill {
        agent: String,
        skill: String,
        hint: String,
    },
    #[error("agent `{agent}`: skill `{skill}` takes a level from 1 to 10, not {value}")]
    BadLevel {
        agent: String,
        skill: String,
        value: String,
    },
    #[error("agent `{agent}`: `{value}` is not a value of skill `{skill}` ({options})")]
    BadValue {
        agent: String,
        skill: String,
        value: String,
        options: String,
    },
}

impl Roster {
    pub fn parse(text: &str) -> Result<Roster, RosterError> {
        let file: File = toml::from_str(text).map_err(|e| RosterError::Toml(e.to_string()))?;
        let mut ids: HashMap<&str, ()> = HashMap::new();
        let mut extensions: HashMap<&str, &str> = HashMap::new();
        for a in &file.agent {
            if ids.insert(a.id.as_str(), ()).is_some() {
                return Err(RosterError::DuplicateAgent(a.id.clone()));
            }
            if !a.extension.is_empty()
                && let Some(other) = extensions.insert(a.extension.as_str(), a.id.as_str())
            {
                return Err(RosterError::DuplicateExtension {
                    agent: a.id.clone(),
                    other: other.to_string(),
                    extension: a.extension.clone(),
                });
            }
        }
        Ok(Roster { agents: file.agent })
    }

    /// Each agent's skills as decisions read them: per skill of the
    /// program, the level or the bit set of values.
    pub fn skills_for(&self, program: &checked::Program) -> Result<Vec<Vec<i64>>, RosterError> {
        self.agents
            .iter()
            .map(|a| agent_skills(a, program))
            .collect()
    }
}

fn agent_skills(a: &AgentSpec, program: &checked::Program) -> Result<Vec<i64>, RosterError> {
    let mut out = vec![0i64; program.skills.len()];
    for (name, value) in &a.skills {
        let Some(index) = program.skills.iter().position(|s| s.name == *name) else {
            let hint = did_you_mean(name, program.skills.iter().map(|s| s.name.as_str()))
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            return Err(RosterError::UnknownSkill {
                agent: a.id.clone(),
                skill: name.clone(),
                hint,
            });
        };
        out[index] = match &program.skills[index].kind {
            SkillKind::Level => match value.as_integer() {
                Some(level @ 0..=10) => level,
                _ => {
                    return Err(RosterError::BadLevel {
                        agent: a.id.clone(),
                        skill: name.clone(),
                        value: value.to_string(),
                    });
                }
            },
            SkillKind::Values(values) => {
                let given: Vec<&toml::Value> = match value {
                    toml::Value::Array(items) => items.iter().collect(),
                    single => vec![single],
                };
                let mut mask = 0i64;
                for v in given {
                    match v.as_str().and_then(|s| values.iter().position(|x| x == s)) {
                        Some(i) => mask |= 1 << i,
                        None => {
                            return Err(RosterError::BadValue {
                                agent: a.id.clone(),
                                skill: name.clone(),
                                value: v.to_string(),
                                options: values.join(", "),
                            });
                        }
                    }
                }
                mask
            }
        };
    }
    Ok(out)
}
