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
//!
//! `password` is what the agent's phone authenticates its registrations
//! with: the password itself (`"s3cret"`, or `"plain:TEXT"` for one that
//! starts like a hash), or HA1 hashes of `sip_user:realm:password` so the
//! file need not hold it (`"md5:"` and 32 hex digits, `"sha256:"` and 64,
//! or both separated by a comma). An HA1 is bound to the server's realm.
//! The roster keeps the text as written; the SIP server reads it
//! (`sip::credential`, docs/serve.md).

use std::collections::HashMap;

use serde::Deserialize;

use crate::checked::{self, MAX_SKILL_LEVEL, SkillKind};
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
    #[error(
        "agent id `{0}`: an id is a name of letters, digits, `_`, `-` and `.`, starting with a letter (ids appear in tests and on the API)"
    )]
    BadId(String),
    #[error("agent `{agent}`: extension `{extension}` must be digits only (callers dial it)")]
    BadExtension { agent: String, extension: String },
    #[error("agent `{agent}`: extension {extension} is also agent `{other}`'s")]
    DuplicateExtension {
        agent: String,
        other: String,
        extension: String,
    },
    #[error(
        "agent `{agent}`: SIP user `{sip_user}` is also agent `{other}`'s (a phone registers as one agent)"
    )]
    DuplicateSipUser {
        agent: String,
        other: String,
        sip_user: String,
    },
    #[error("agent `{agent}`: there is no skill `{skill}`{hint}")]
    UnknownSkill {
        agent: String,
        skill: String,
        hint: String,
    },
    #[error(
        "agent `{agent}`: skill `{skill}` takes a level from 0 (lacks it) to {MAX_SKILL_LEVEL}, not {value}"
    )]
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

/// An agent id: a letter, then letters, digits, `_`, `-` or `.`.
fn valid_id(id: &str) -> bool {
    id.chars().next().is_some_and(|c| c.is_alphabetic())
        && id
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

impl Roster {
    pub fn parse(text: &str) -> Result<Roster, RosterError> {
        let file: File = toml::from_str(text).map_err(|e| RosterError::Toml(e.to_string()))?;
        let mut ids: HashMap<&str, ()> = HashMap::new();
        let mut extensions: HashMap<&str, &str> = HashMap::new();
        let mut sip_users: HashMap<&str, &str> = HashMap::new();
        for a in &file.agent {
            if !valid_id(&a.id) {
                return Err(RosterError::BadId(a.id.clone()));
            }
            if !a.extension.bytes().all(|b| b.is_ascii_digit()) {
                return Err(RosterError::BadExtension {
                    agent: a.id.clone(),
                    extension: a.extension.clone(),
                });
            }
            if ids.insert(a.id.as_str(), ()).is_some() {
                return Err(RosterError::DuplicateAgent(a.id.clone()));
            }
            if !a.sip_user.is_empty()
                && let Some(other) = sip_users.insert(a.sip_user.as_str(), a.id.as_str())
            {
                return Err(RosterError::DuplicateSipUser {
                    agent: a.id.clone(),
                    other: other.to_string(),
                    sip_user: a.sip_user.clone(),
                });
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
                Some(level) if (0..=MAX_SKILL_LEVEL).contains(&level) => level,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::program::Program;

    fn program() -> Program {
        Program::from_text(
            "timezone \"America/Chicago\"\nskill billing\nskill language { english, spanish }\n",
        )
        .expect("the script compiles")
    }

    /// The error for a roster, whether parsing or matching skills fails.
    fn error(text: &str) -> String {
        match Roster::parse(text).and_then(|r| r.skills_for(program().checked())) {
            Ok(_) => panic!("accepted:\n{text}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn a_good_roster_gives_levels_and_value_sets() {
        let roster = Roster::parse(
            r#"
[[agent]]
id = "ana.ruiz"
extension = "2001"
skills = { billing = 5, language = ["english", "spanish"] }

[[agent]]
id = "bob"
skills = { billing = 0, language = "spanish" }
"#,
        )
        .expect("roster");
        let skills = roster.skills_for(program().checked()).expect("skills");
        assert_eq!(skills, [vec![5, 0b11], vec![0, 0b10]]);
    }

    #[test]
    fn bad_rosters_say_what_is_wrong() {
        for (text, message) in [
            ("[[agent]]\nid = ", "the roster is not valid TOML"),
            ("[[agent]]\nid = \"a\"\nphone = 1", "unknown field `phone`"),
            (
                "[[agent]]\nid = \"ana\"\n[[agent]]\nid = \"ana\"",
                "agent `ana` is listed twice",
            ),
            ("[[agent]]\nid = \"\"", "agent id ``: an id is a name"),
            ("[[agent]]\nid = \"ana ruiz\"", "agent id `ana ruiz`"),
            ("[[agent]]\nid = \"7ana\"", "starting with a letter"),
            (
                "[[agent]]\nid = \"ana\"\nextension = \"20a1\"",
                "agent `ana`: extension `20a1` must be digits only",
            ),
            (
                "[[agent]]\nid = \"ana\"\nextension = \"2001\"\n[[agent]]\nid = \"bob\"\nextension = \"2001\"",
                "agent `bob`: extension 2001 is also agent `ana`'s",
            ),
            (
                "[[agent]]\nid = \"ana\"\nsip_user = \"desk\"\n[[agent]]\nid = \"bob\"\nsip_user = \"desk\"",
                "agent `bob`: SIP user `desk` is also agent `ana`'s",
            ),
            (
                "[[agent]]\nid = \"ana\"\nskills = { biling = 3 }",
                "agent `ana`: there is no skill `biling`; did you mean `billing`?",
            ),
            (
                "[[agent]]\nid = \"ana\"\nskills = { billing = 11 }",
                "skill `billing` takes a level from 0 (lacks it) to 10, not 11",
            ),
            (
                "[[agent]]\nid = \"ana\"\nskills = { billing = \"high\" }",
                "not \"high\"",
            ),
            (
                "[[agent]]\nid = \"ana\"\nskills = { language = \"french\" }",
                "`\"french\"` is not a value of skill `language` (english, spanish)",
            ),
        ] {
            let got = error(text);
            assert!(got.contains(message), "`{got}` lacks `{message}`");
        }
    }
}
