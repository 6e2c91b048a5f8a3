//! What a call leaves behind: who it was ([`CallInfo`]) and the typed steps
//! it took ([`Step`]). Call records for the database, the admin API and
//! reports are built from these types, never from text; the text form is
//! their `Display`.
//!
//! A record names things (routes, menus, queues, agents) rather than
//! pointing into a program, so it stays readable after the program that
//! made it has been reloaded away.

use std::fmt;
use std::sync::Arc;

use jiff::Timestamp;
use serde::Serialize;

use crate::source::Place;

/// A call's identity, from its arrival to its record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CallInfo {
    /// The runtime's number for the call, unique while it runs.
    pub id: u64,
    /// The caller's number, normalised (empty when withheld or unreadable).
    pub caller: String,
    /// The dialed number, normalised when it reads as a number.
    pub dialed: String,
    /// The channel's own name for the call (a SIP Call-ID), to find the
    /// call in the channel's logs.
    pub correlation: Option<String>,
    /// When the call reached the runtime, on the calendar.
    pub arrived: Timestamp,
    /// The same instant in milliseconds since the runtime's clock started.
    pub arrived_ms: i64,
    /// The version of the program the call runs (`Program::version`): a
    /// reload does not change it for a call in progress.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub program_version: Option<Arc<str>>,
    /// The program's switches that were on when the call arrived: every
    /// decision of the call reads these, whatever is flipped meanwhile.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub switches: Vec<String>,
}

/// What a channel knows of a call when it hands it to the runtime; the
/// runtime makes the [`CallInfo`] from it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Arrival {
    /// The caller's number as the channel received it.
    pub caller: String,
    /// The dialed number as the channel received it.
    pub dialed: String,
    pub correlation: Option<String>,
}

impl Arrival {
    pub fn new(caller: impl Into<String>, dialed: impl Into<String>) -> Arrival {
        Arrival {
            caller: caller.into(),
            dialed: dialed.into(),
            correlation: None,
        }
    }

    /// The channel's own name for the call (a SIP Call-ID).
    pub fn correlation(mut self, id: impl Into<String>) -> Arrival {
        self.correlation = Some(id.into());
        self
    }
}

/// One step of a call's way, in the order it happened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    /// The entry that answered the dialed number (as the script writes it).
    Entry {
        number: String,
    },
    /// A route decided. `rule` is the rule that fired, if any.
    Route {
        route: String,
        rule: Option<Rule>,
    },
    /// A menu was offered to the caller.
    Menu {
        menu: String,
    },
    /// What the caller entered in a menu, and what the menu made of it.
    Keys {
        menu: String,
        keys: String,
        heard: Heard,
    },
    /// The call went to a queue.
    Queue {
        queue: String,
    },
    /// Agents or extensions rang for the call, and how that went.
    Offer {
        queue: Option<String>,
        agents: Vec<String>,
        outcome: Outcome,
    },
    /// The call left a queue without being answered there.
    Left {
        queue: String,
        reason: LeftReason,
    },
    /// A hunt group rang.
    Group {
        group: String,
    },
    /// An extension rang.
    Extension {
        number: String,
    },
    Transfer {
        number: String,
    },
    Voicemail {
        mailbox: String,
    },
    Reject {
        reason: String,
    },
    /// The script hung up.
    Hangup,
    /// No entry answers the dialed number.
    NoEntry,
    /// The runtime was shutting down: the call was turned away on arrival,
    /// or ended when the shutdown's deadline passed.
    Shutdown,
}

/// The rule of a route that fired.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Rule {
    /// Its position in the route, from 0.
    pub index: usize,
    /// Where it is written (absent for a program built without sources).
    pub at: Option<Place>,
}

/// What a menu made of the caller's keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Heard {
    /// A key of the menu (its position, from 0).
    Key(usize),
    /// Digits collected for the menu's `collect` (an extension).
    Collected,
    Invalid,
    /// The caller entered nothing before the timeout.
    Timeout,
}

/// How an offer ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// This agent (or extension) answered.
    Answered(String),
    /// Nobody answered before the ring timeout.
    Missed,
    /// The caller hung up while it rang.
    CallerHungUp,
}

/// Why a call left a queue unanswered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LeftReason {
    /// An overflow step fired.
    Overflow,
    /// Nobody who could take the call was logged in (`no agents`).
    NoAgents,
    /// The caller hung up.
    Abandoned,
}

impl Step {
    /// Whether the step says where the call went (the entry, routes, menus,
    /// queues and where it left them, and the final action), rather than
    /// how it went there (keys, offers, a queue left by hanging up): the
    /// short form of a path that `dialect test` shows.
    pub fn is_routing(&self) -> bool {
        match self {
            Step::Keys { .. } | Step::Offer { .. } => false,
            Step::Left { reason, .. } => *reason != LeftReason::Abandoned,
            _ => true,
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Entry { number } => write!(f, "entry {number}"),
            Step::Route { route, rule } => {
                write!(f, "route {route}")?;
                match rule {
                    Some(Rule { at: Some(at), .. }) => write!(f, " ({at})"),
                    Some(Rule { index, at: None }) => write!(f, " (rule {})", index + 1),
                    None => write!(f, " (no rule)"),
                }
            }
            Step::Menu { menu } => write!(f, "menu {menu}"),
            Step::Keys { menu, keys, heard } => match heard {
                Heard::Timeout => write!(f, "no keys in {menu}"),
                Heard::Invalid => write!(f, "keys {keys} in {menu} (invalid)"),
                Heard::Key(_) | Heard::Collected => write!(f, "keys {keys} in {menu}"),
            },
            Step::Queue { queue } => write!(f, "queue {queue}"),
            Step::Offer {
                agents, outcome, ..
            } => {
                write!(f, "rang {}", agents.join(", "))?;
                match outcome {
                    Outcome::Answered(who) => write!(f, ", {who} answered"),
                    Outcome::Missed => write!(f, ", no answer"),
                    Outcome::CallerHungUp => write!(f, ", caller hung up"),
                }
            }
            Step::Left { reason, .. } => f.write_str(match reason {
                LeftReason::Overflow => "overflow",
                LeftReason::NoAgents => "no agents",
                LeftReason::Abandoned => "hung up waiting",
            }),
            Step::Group { group } => write!(f, "group {group}"),
            Step::Extension { number } => write!(f, "extension {number}"),
            Step::Transfer { number } => write!(f, "transfer {number}"),
            Step::Voicemail { mailbox } => write!(f, "voicemail {mailbox}"),
            Step::Reject { reason } => write!(f, "reject {reason}"),
            Step::Hangup => f.write_str("hangup"),
            Step::NoEntry => f.write_str("no entry"),
            Step::Shutdown => f.write_str("shutdown"),
        }
    }
}

/// A path's short form, as `dialect test` shows it: the routing steps,
/// each route without its rule (`entry +18005550100`, `route inbound`,
/// `queue billing`).
pub fn routing(path: &[Step]) -> Vec<String> {
    (path.iter().filter(|s| s.is_routing()))
        .map(|step| match step {
            Step::Route { route, .. } => format!("route {route}"),
            _ => step.to_string(),
        })
        .collect()
}

/// [`routing`] joined by arrows, on one line.
pub fn routing_text(path: &[Step]) -> String {
    routing(path).join(" → ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(rule: Option<Rule>) -> Step {
        Step::Route {
            route: "inbound".into(),
            rule,
        }
    }

    #[test]
    fn the_text_form_names_each_step() {
        let at = Place {
            file: "main.dial".into(),
            line: 12,
        };
        let cases = [
            (
                route(Some(Rule {
                    index: 1,
                    at: Some(at),
                })),
                "route inbound (main.dial:12)",
            ),
            (
                route(Some(Rule { index: 1, at: None })),
                "route inbound (rule 2)",
            ),
            (route(None), "route inbound (no rule)"),
            (
                Step::Offer {
                    queue: Some("billing".into()),
                    agents: vec!["ana".into(), "bob".into()],
                    outcome: Outcome::Answered("bob".into()),
                },
                "rang ana, bob, bob answered",
            ),
            (
                Step::Keys {
                    menu: "main".into(),
                    keys: String::new(),
                    heard: Heard::Timeout,
                },
                "no keys in main",
            ),
            (
                Step::Left {
                    queue: "billing".into(),
                    reason: LeftReason::NoAgents,
                },
                "no agents",
            ),
        ];
        for (step, text) in cases {
            assert_eq!(step.to_string(), text);
        }
    }

    #[test]
    fn the_short_form_keeps_where_the_call_went() {
        let path = [
            Step::Entry {
                number: "+18005550100".into(),
            },
            route(Some(Rule { index: 0, at: None })),
            Step::Menu {
                menu: "main".into(),
            },
            Step::Keys {
                menu: "main".into(),
                keys: "1".into(),
                heard: Heard::Key(0),
            },
            Step::Queue {
                queue: "billing".into(),
            },
            Step::Offer {
                queue: Some("billing".into()),
                agents: vec!["ana".into()],
                outcome: Outcome::Missed,
            },
            Step::Left {
                queue: "billing".into(),
                reason: LeftReason::Overflow,
            },
            Step::Voicemail {
                mailbox: "billing".into(),
            },
        ];
        assert_eq!(
            routing_text(&path),
            "entry +18005550100 → route inbound → menu main → queue billing → overflow → voicemail billing"
        );
    }

    #[test]
    fn records_serialise_with_a_step_tag() {
        let json = serde_json::to_string(&Step::Left {
            queue: "billing".into(),
            reason: LeftReason::Abandoned,
        })
        .unwrap_or_default();
        assert_eq!(
            json,
            r#"{"step":"left","queue":"billing","reason":"abandoned"}"#
        );
    }
}
