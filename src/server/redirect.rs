//! Redirect mode's decision: where the script sends an INVITE, as the
//! answer the SIP layer sends back (a 302 with Contacts, or a failure).
//!
//! The call is followed by the same [`Flow`] that `dialect explain` and the
//! call runtime drive, at the wall-clock time given, with lookups read from
//! the program's tables and queue statistics from the ACD. Redirect mode
//! keeps no call and plays no media, so:
//!
//! - `play` before a terminal action is skipped;
//! - `transfer N` and `voicemail M` go to the configured trunk and
//!   voicemail URIs, `menu M` to the configured IVR (501 without one) and
//!   `dial extension` (which needs the caller's digits) is answered 484;
//! - `extension N` and `group G` go to the registered phones of the agents
//!   with those extensions (registration alone: logging in is for
//!   queues), or a group's configured URI; nobody registered runs a group's
//!   `then`, else 480;
//! - `queue Q` goes to the queue's configured URI, or to the agent the
//!   ACD would offer the call to now ([`Acd::pick`]: the queue's
//!   `require`, `prefer`, `score` and strategy over available agents with
//!   a registered phone); nobody runs the queue's `no agents`, else 480;
//! - `reject busy|decline|unavailable` is 486/603/480, `hangup` 603, a
//!   number no entry answers 404.

use std::sync::Arc;

use jiff::Timestamp;

use super::config::Targets;
use crate::checked::{GroupMode, Presentation, QueueId, RejectReason, Strategy};
use crate::facts::Facts;
use crate::flow::{Effect, End, Flow, Path};
use crate::lookup::LookupTables;
use crate::number;
use crate::program::{Engine, Program};
use crate::runtime::acd::Acd;

/// The phones registered for a SIP user: contact URIs with their q-values
/// (the registrar's table). Closures are registrars too.
pub trait Registered {
    fn contacts(&self, sip_user: &str) -> Vec<(String, f32)>;

    /// Whether the user has any phone registered.
    fn is_registered(&self, sip_user: &str) -> bool {
        !self.contacts(sip_user).is_empty()
    }
}

impl<F: Fn(&str) -> Vec<(String, f32)>> Registered for F {
    fn contacts(&self, sip_user: &str) -> Vec<(String, f32)> {
        self(sip_user)
    }
}

/// What a redirect decision reads besides the call: the program and its
/// tables (as one version), where calls go outside Dialect, the agents,
/// and the phones registered.
pub struct Context<'a> {
    pub program: &'a Program,
    pub tables: &'a LookupTables,
    pub engine: Engine,
    pub targets: &'a Targets,
    pub acd: &'a Acd,
    pub registered: &'a dyn Registered,
    /// The program's version (see [`super::version`]), for the answer.
    pub version: &'a Arc<str>,
    /// The switches supervisors flip.
    pub switches: &'a crate::runtime::SwitchStates,
}

/// An INVITE as the decision reads it.
#[derive(Clone, Copy, Debug)]
pub struct Call<'a> {
    /// The caller's number (the user of P-Asserted-Identity, else of
    /// From); `None`, empty, `anonymous` or anything that is not a number
    /// is a withheld number.
    pub caller: Option<&'a str>,
    /// The number dialed: the request URI's user (`sip:`), or its number
    /// (`tel:`).
    pub dialed: &'a str,
    /// When the call arrived.
    pub at: Timestamp,
}

/// The answer to an INVITE, with what its record needs.
#[derive(Clone, Debug, PartialEq)]
pub struct Redirect {
    pub answer: Answer,
    /// Why: which kind of step decided.
    pub outcome: Outcome,
    /// The steps taken: the entry, each route's rule that fired, actions.
    pub path: Path,
    /// The version of the program that decided.
    pub version: Arc<str>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Answer {
    /// 302 Moved Temporarily: try these, in order of q.
    Moved(Vec<Contact>),
    Fail(Failure),
}

impl Answer {
    /// The status code.
    pub fn code(&self) -> u16 {
        match self {
            Answer::Moved(_) => 302,
            Answer::Fail(f) => f.code(),
        }
    }
}

/// A Contact of a 302.
#[derive(Clone, Debug, PartialEq)]
pub struct Contact {
    pub uri: String,
    /// RFC 3261 q-value (0 to 1, three decimals); `None` leaves it out.
    pub q: Option<f32>,
}

impl Contact {
    fn plain(uri: String) -> Contact {
        Contact { uri, q: None }
    }

    /// The header value: `<uri>` or `<uri>;q=0.5`.
    pub fn header_value(&self) -> String {
        match self.q {
            None => format!("<{}>", self.uri),
            Some(q) => format!("<{}>;q={}", self.uri, qvalue(q)),
        }
    }
}

/// A q-value as RFC 3261 writes it: `0` to `1` with at most three
/// decimals, trailing zeros dropped.
fn qvalue(q: f32) -> String {
    let milli = (q.clamp(0.0, 1.0) * 1000.0).round() as u32;
    match milli {
        1000 => "1".to_string(),
        0 => "0".to_string(),
        m => format!("0.{m:03}").trim_end_matches('0').to_string(),
    }
}

/// A final failure response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// 404: no entry answers the number, or it is not a number.
    NotFound,
    /// 480: `reject unavailable`, or nobody registered to take the call.
    Unavailable,
    /// 484: `dial extension`, which needs digits from the caller.
    AddressIncomplete,
    /// 486: `reject busy`.
    Busy,
    /// 500: the script cannot decide (a route where no rule fires, only
    /// possible in a script with errors).
    ServerError,
    /// 501: `menu` with no IVR configured.
    NotImplemented,
    /// 603: `reject decline` and `hangup`.
    Decline,
}

impl Failure {
    pub fn code(self) -> u16 {
        match self {
            Failure::NotFound => 404,
            Failure::Unavailable => 480,
            Failure::AddressIncomplete => 484,
            Failure::Busy => 486,
            Failure::ServerError => 500,
            Failure::NotImplemented => 501,
            Failure::Decline => 603,
        }
    }

    /// The reason phrase (RFC 3261 §21).
    pub fn reason(self) -> &'static str {
        match self {
            Failure::NotFound => "Not Found",
            Failure::Unavailable => "Temporarily Unavailable",
            Failure::AddressIncomplete => "Address Incomplete",
            Failure::Busy => "Busy Here",
            Failure::ServerError => "Server Internal Error",
            Failure::NotImplemented => "Not Implemented",
            Failure::Decline => "Decline",
        }
    }
}

/// Which kind of step decided, for counters and records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Transfer,
    Voicemail,
    Extension,
    Group,
    /// To the queue's configured URI, or an agent the ACD picked.
    Queue,
    /// To the IVR, or 501.
    Menu,
    DialExtension,
    Reject,
    Hangup,
    /// No entry answers the number (or it is not a number).
    NoEntry,
    /// An extension, group or queue with nobody registered to take it,
    /// and nothing after.
    Nobody,
    /// Queues and groups handing the call to each other with nobody to
    /// take it, past the flow's step limit.
    TooLong,
    /// A route where no rule fires (scripts with errors only).
    NoRule,
}

/// Decides an INVITE.
pub fn decide(cx: &Context<'_>, call: &Call<'_>) -> Redirect {
    let program = cx.program;
    let country = program.checked().country;
    let caller = call
        .caller
        .filter(|c| !c.eq_ignore_ascii_case("anonymous"))
        .and_then(|c| number::normalize_in(c, country).ok())
        .unwrap_or_default();
    let Ok(dialed) = number::normalize_in(call.dialed, country) else {
        return Redirect {
            answer: Answer::Fail(Failure::NotFound),
            outcome: Outcome::NoEntry,
            path: Path::default(),
            version: Arc::clone(cx.version),
        };
    };
    let mut facts = Facts::new(&program.ir().layout);
    facts.caller = caller;
    facts.dialed = dialed;
    facts.set_switches(program.checked(), &cx.switches.on_for(program.checked()));
    let zones = &program.checked().zones;
    let at = call.at;
    // The local time, and what the ACD says of the queues decisions read
    // (nobody waits in redirect mode). Once per call: no prompt plays and
    // no key is pressed, so the time does not move between the entry and
    // the routes after it, and the facts the statistics are counted for
    // (the numbers and their lookup rows) are all known at the entry.
    let mut fresh = false;
    let mut refresh = |f: &mut Facts| {
        if std::mem::replace(&mut fresh, true) {
            return;
        }
        f.set_time(zones, at);
        cx.acd.read_stats(program, f, 0);
    };
    let mut flow = Flow::new(program, cx.tables, cx.engine, facts, Vec::new());
    let mut effect = flow.start(&mut refresh);
    let (answer, outcome) = loop {
        effect = match effect {
            // No media: prompts are skipped.
            Effect::Play(_) => flow.played(&mut refresh),
            Effect::Collect(_) => match flow.collecting_for() {
                Some(menu) => {
                    let answer = match &cx.targets.ivr {
                        Some(ivr) => {
                            let name = &program.checked().menu(menu).name;
                            Answer::Moved(vec![Contact::plain(ivr.fill(name))])
                        }
                        None => Answer::Fail(Failure::NotImplemented),
                    };
                    break (answer, Outcome::Menu);
                }
                None => {
                    break (
                        Answer::Fail(Failure::AddressIncomplete),
                        Outcome::DialExtension,
                    );
                }
            },
            Effect::Transfer(n) => {
                break (
                    Answer::Moved(vec![Contact::plain(cx.targets.trunk.fill(n))]),
                    Outcome::Transfer,
                );
            }
            Effect::Voicemail(b) => {
                break (
                    Answer::Moved(vec![Contact::plain(cx.targets.voicemail.fill(b))]),
                    Outcome::Voicemail,
                );
            }
            Effect::Extension(n) => {
                let contacts = extension_contacts(cx, &n, None);
                break match contacts.is_empty() {
                    true => (Answer::Fail(Failure::Unavailable), Outcome::Nobody),
                    false => (Answer::Moved(contacts), Outcome::Extension),
                };
            }
            Effect::Group(g) => {
                let group = program.checked().group(g);
                if let Some(uri) = cx.targets.groups.get(&group.name) {
                    break (
                        Answer::Moved(vec![Contact::plain(uri.clone())]),
                        Outcome::Group,
                    );
                }
                let contacts = group_contacts(cx, &group.members, group.mode);
                if !contacts.is_empty() {
                    break (Answer::Moved(contacts), Outcome::Group);
                }
                match &group.then {
                    Some(then) => flow.then(then, &mut refresh),
                    None => break (Answer::Fail(Failure::Unavailable), Outcome::Nobody),
                }
            }
            Effect::Queue { queue, .. } => {
                let q = program.checked().queue(queue);
                if let Some(uri) = cx.targets.queues.get(&q.name) {
                    break (
                        Answer::Moved(vec![Contact::plain(uri.clone())]),
                        Outcome::Queue,
                    );
                }
                let contacts = queue_contacts(cx, queue, flow.facts());
                if !contacts.is_empty() {
                    break (Answer::Moved(contacts), Outcome::Queue);
                }
                match &q.no_agents {
                    Some(then) => flow.then(then, &mut refresh),
                    None => break (Answer::Fail(Failure::Unavailable), Outcome::Nobody),
                }
            }
            Effect::Reject(r) => {
                let failure = match r {
                    RejectReason::Busy => Failure::Busy,
                    RejectReason::Decline => Failure::Decline,
                    RejectReason::Unavailable => Failure::Unavailable,
                };
                break (Answer::Fail(failure), Outcome::Reject);
            }
            Effect::Hangup => break (Answer::Fail(Failure::Decline), Outcome::Hangup),
            Effect::Stop(end) => {
                break match end {
                    End::NoEntry => (Answer::Fail(Failure::NotFound), Outcome::NoEntry),
                    End::TooLong => (Answer::Fail(Failure::Unavailable), Outcome::TooLong),
                    // The walk's ends (waiting for keys) do not happen
                    // here: keys are never collected.
                    _ => (Answer::Fail(Failure::ServerError), Outcome::NoRule),
                };
            }
        };
    };
    Redirect {
        answer,
        outcome,
        path: flow.into_path(),
        version: Arc::clone(cx.version),
    }
}

/// The registered phones of the agent with extension `number` (of the
/// SIP user `number` when no agent has it), at `q` when given, else at
/// the registrar's q-values.
fn extension_contacts(cx: &Context<'_>, number: &str, q: Option<f32>) -> Vec<Contact> {
    let user = match cx.acd.agent_by_extension(number) {
        Some(agent) => agent.spec.sip_user,
        None => number.to_string(),
    };
    if user.is_empty() {
        return Vec::new();
    }
    cx.registered
        .contacts(&user)
        .into_iter()
        .map(|(uri, registered_q)| Contact {
            uri,
            q: Some(q.unwrap_or(registered_q)),
        })
        .collect()
}

/// The registered phones of a group's members: in member order with
/// q-values going down for the modes that ring one member at a time, all
/// at 1 for `simultaneous`. Redirect mode keeps no answers, so
/// `most_recent` rings in member order too.
fn group_contacts(cx: &Context<'_>, members: &[String], mode: GroupMode) -> Vec<Contact> {
    let n = members.len().max(1);
    let mut contacts = Vec::new();
    for (i, member) in members.iter().enumerate() {
        let q = match mode {
            GroupMode::Simultaneous => 1.0,
            GroupMode::Sequential | GroupMode::MostRecent => sequential_q(i, n),
        };
        contacts.extend(extension_contacts(cx, member, Some(q)));
    }
    contacts
}

/// The q-value of the `i`th of `n` targets rung one after another: from 1
/// down in equal steps of at least 0.001, never 0 (which would mean "do
/// not use").
fn sequential_q(i: usize, n: usize) -> f32 {
    let step = (1000 / n.max(1)).max(1);
    let milli = 1000usize.saturating_sub(i.saturating_mul(step)).max(1);
    milli as f32 / 1000.0
}

/// The registered phones of the agents the ACD would offer the call to
/// now: one agent's, or for ring-all queues every eligible agent's at
/// equal q.
fn queue_contacts(cx: &Context<'_>, queue: QueueId, facts: &Facts) -> Vec<Contact> {
    let registered = cx.registered;
    let picked = cx.acd.pick(cx.program, queue, facts, &|spec| {
        !spec.sip_user.is_empty() && registered.is_registered(&spec.sip_user)
    });
    let q = cx.program.checked().queue(queue);
    let all = matches!(q.presentation, Presentation::All { .. }) || q.strategy == Strategy::RingAll;
    let mut contacts = Vec::new();
    for target in picked {
        contacts.extend(registered.contacts(&target.sip_user).into_iter().map(
            |(uri, registered_q)| Contact {
                uri,
                q: Some(if all { 1.0 } else { registered_q }),
            },
        ));
    }
    contacts
}

#[cfg(test)]
mod tests {
    use super::{qvalue, sequential_q};

    #[test]
    fn qvalues_are_written_as_rfc_3261_says() {
        assert_eq!(qvalue(1.0), "1");
        assert_eq!(qvalue(0.5), "0.5");
        assert_eq!(qvalue(0.667), "0.667");
        assert_eq!(qvalue(0.0), "0");
        assert_eq!(qvalue(7.0), "1");
    }

    #[test]
    fn sequential_q_goes_down_and_stays_positive() {
        assert_eq!(sequential_q(0, 3), 1.0);
        assert_eq!(sequential_q(1, 3), 0.667);
        assert_eq!(sequential_q(2, 3), 0.334);
        assert_eq!(sequential_q(0, 1), 1.0);
        // Past a thousand members the step is 0.001 and the last ones
        // share the smallest q.
        assert_eq!(sequential_q(999, 5000), 0.001);
        assert_eq!(sequential_q(4999, 5000), 0.001);
    }
}
