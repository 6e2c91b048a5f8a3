//! What a call needs from the outside world, as a trait: the SIP server,
//! the simulator and tests each implement it. The runtime knows nothing of
//! SIP; the channel knows nothing of the language.

use std::future::Future;

use crate::checked::RejectReason;
pub use crate::flow::{Collect, Collected};

/// Someone to ring: an agent (by roster id) or a bare extension.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub agent: Option<String>,
    pub extension: String,
    pub sip_user: String,
}

impl Target {
    /// Who the target is: its agent, or the extension rung.
    pub fn name(&self) -> &str {
        self.agent.as_deref().unwrap_or(&self.extension)
    }
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
    /// Takes a message; returns when the caller hangs up or finishes,
    /// with where the message was kept (a file), if it was.
    fn voicemail(&mut self, mailbox: &str) -> impl Future<Output = Option<String>> + Send;
    /// Hands the call to an outside number; true when that worked.
    fn transfer(&mut self, number: &str) -> impl Future<Output = bool> + Send;
    fn reject(&mut self, reason: RejectReason) -> impl Future<Output = ()> + Send;
    fn hangup(&mut self) -> impl Future<Output = ()> + Send;
}
