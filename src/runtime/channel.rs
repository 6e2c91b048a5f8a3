//! What a call needs from the outside world, as a trait: the SIP server,
//! the simulator and tests each implement it. The runtime knows nothing of
//! SIP; the channel knows nothing of the language.

use std::future::Future;

use crate::checked::RejectReason;

/// Someone to ring: an agent (by roster id) or a bare extension.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub agent: Option<String>,
    pub extension: String,
    pub sip_user: String,
}

/// A request for key presses in a menu.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Collect {
    pub menu: String,
    /// Prompt to play first (the caller may press keys while it plays).
    pub prompt: Option<String>,
    /// Wait for the first key.
    pub first_timeout_ms: i64,
    /// Wait between keys.
    pub digit_timeout_ms: i64,
    /// Stop after this many keys.
    pub max_digits: usize,
    /// Whether `#` ends the entry (it is then not part of it).
    pub hash_ends: bool,
    /// A menu's keys (empty for free-form entry): once no key is longer
    /// than the entry and starts with it, the entry is complete, and the
    /// channel returns it without waiting for more.
    pub keys: Vec<String>,
}

impl Collect {
    /// Whether `entry` is all the caller can mean: `max_digits` keys, or,
    /// in a menu, no key left that the entry could grow into (`1` when the
    /// keys are `1`, `2` and `42`; not `4`).
    pub fn is_complete(&self, entry: &str) -> bool {
        entry.chars().count() >= self.max_digits.max(1)
            || (!self.keys.is_empty()
                && !self
                    .keys
                    .iter()
                    .any(|k| k.len() > entry.len() && k.starts_with(entry)))
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Collected {
    /// The keys pressed (may be empty after a partial entry timed out).
    Keys(String),
    Timeout,
    HungUp,
}

/// How to ring the targets of an offer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ring {
    /// How long to ring before giving up.
    pub timeout_ms: i64,
    /// The targets' phones answer by themselves (a queue's `auto answer`;
    /// on SIP, an INVITE that asks for it, as `Call-Info: answer-after=0`
    /// does): the call connects as soon as a device picks up.
    pub auto_answer: bool,
}

impl Ring {
    /// How long an `auto answer` offer waits for the device to pick up
    /// before the call is handed on (the device is off or unreachable).
    pub const AUTO_ANSWER_TIMEOUT_MS: i64 = 5_000;

    /// Ringing that a person answers, for up to `timeout_ms`.
    pub fn for_ms(timeout_ms: i64) -> Ring {
        Ring {
            timeout_ms,
            auto_answer: false,
        }
    }

    /// An offer the targets' phones answer by themselves.
    pub fn auto_answer() -> Ring {
        Ring {
            timeout_ms: Ring::AUTO_ANSWER_TIMEOUT_MS,
            auto_answer: true,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rang {
    /// The target at this index answered.
    Answered(usize),
    NoAnswer,
    HungUp,
}

/// Something a queue tells a waiting caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Announce {
    /// "You are caller number N."
    Position(usize),
    /// "Your expected wait is about N minutes."
    WaitMinutes(i64),
    /// A prompt of the script's.
    Prompt(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
    /// The caller hung up.
    Caller,
    /// The other side (agent, extension, far end) hung up.
    Other,
}

/// How a call talks to the world. Every method returns when done or when
/// the caller hangs up, which the result says.
pub trait Channel: Send {
    fn answer(&mut self) -> impl Future<Output = bool> + Send;
    /// Plays a prompt; false if the caller hung up.
    fn play(&mut self, prompt: &str) -> impl Future<Output = bool> + Send;
    fn collect(&mut self, request: &Collect) -> impl Future<Output = Collected> + Send;
    /// Rings the targets at once; the first to answer wins and the others
    /// stop ringing.
    fn ring(&mut self, targets: &[Target], ring: Ring) -> impl Future<Output = Rang> + Send;
    /// Connects the caller with a target that answered, playing `whisper`
    /// to the target first; returns when either side hangs up.
    fn bridge(
        &mut self,
        target: &Target,
        whisper: Option<&str>,
        record: bool,
    ) -> impl Future<Output = Ended> + Send;
    /// Tells a waiting caller something; false if the caller hung up.
    fn announce(&mut self, what: &Announce) -> impl Future<Output = bool> + Send;
    /// Plays hold audio for up to `ms`; false if the caller hung up. The
    /// runtime calls it again and again while a caller waits (between
    /// announcements, and when it wakes to check on agents): a channel
    /// already playing the same audio carries on where it was.
    fn hold(&mut self, music: Option<&str>, ms: i64) -> impl Future<Output = bool> + Send;
    /// Takes a message; returns when the caller hangs up or finishes.
    fn voicemail(&mut self, mailbox: &str) -> impl Future<Output = ()> + Send;
    /// Hands the call to an outside number; true when that worked.
    fn transfer(&mut self, number: &str) -> impl Future<Output = bool> + Send;
    fn reject(&mut self, reason: RejectReason) -> impl Future<Output = ()> + Send;
    fn hangup(&mut self) -> impl Future<Output = ()> + Send;
}
