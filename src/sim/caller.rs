//! A simulated caller: a `Channel` whose caller presses keys, waits with a
//! given patience, and whose agents answer and talk for given times. Used
//! by the simulator and by runtime tests, always on the runtime's clock.

use std::collections::{HashMap, VecDeque};

use crate::checked::RejectReason;
use crate::runtime::Clock;
use crate::runtime::channel::{Announce, Channel, Collect, Collected, Ended, Rang, Target};

/// How long prompts last, on the simulated clock.
pub const PROMPT_MS: i64 = 2_000;

/// The caller's behaviour and the agents' for one call.
#[derive(Clone, Debug, Default)]
pub struct Behaviour {
    /// Key entries, in order, for the menus the call meets; `None` is silence.
    pub presses: VecDeque<Option<String>>,
    /// How long the caller is willing to wait for an agent (ms); `None` waits forever.
    pub patience_ms: Option<i64>,
    /// How long agents take to pick up (ms); 0 by default.
    pub answer_ms: i64,
    /// Agents (by id or extension) that never answer.
    pub unanswering: Vec<String>,
    /// Conversation length (ms).
    pub talk_ms: i64,
}

/// A `Channel` driven by a [`Behaviour`] on a clock.
pub struct SimCaller {
    pub clock: Clock,
    pub behaviour: Behaviour,
    /// Time left of the caller's patience.
    patience_left: Option<i64>,
    /// What happened, for tests: "answer", "play X", "ring a,b", ...
    pub log: Vec<String>,
    pub menus: HashMap<String, usize>,
}

impl SimCaller {
    pub fn new(clock: Clock, behaviour: Behaviour) -> SimCaller {
        SimCaller {
            clock,
            patience_left: behaviour.patience_ms,
            behaviour,
            log: Vec::new(),
            menus: HashMap::new(),
        }
    }

    /// Waits up to `ms` of the caller's patience; false if it ran out.
    async fn wait(&mut self, ms: i64) -> bool {
        match self.patience_left {
            Some(left) if left <= ms => {
                self.clock.sleep(left).await;
                self.patience_left = Some(0);
                false
            }
            Some(left) => {
                self.clock.sleep(ms).await;
                self.patience_left = Some(left - ms);
                true
            }
            None => {
                self.clock.sleep(ms).await;
                true
            }
        }
    }

    fn answers(&self, t: &Target) -> bool {
        let name = t.agent.as_deref().unwrap_or(&t.extension);
        // Extensions outside the roster only answer when named as answering.
        t.agent.is_some()
            && !self
                .behaviour
                .unanswering
                .iter()
                .any(|u| u == name || *u == t.extension)
    }
}

impl Channel for SimCaller {
    async fn answer(&mut self) -> bool {
        self.log.push("answer".into());
        true
    }

    async fn play(&mut self, prompt: &str) -> bool {
        self.log.push(format!("play {prompt}"));
        self.clock.sleep(PROMPT_MS).await;
        true
    }

    async fn collect(&mut self, request: &Collect) -> Collected {
        *self.menus.entry(request.menu.clone()).or_default() += 1;
        if let Some(p) = &request.prompt {
            self.log.push(format!("play {p}"));
            self.clock.sleep(PROMPT_MS).await;
        }
        match self.behaviour.presses.pop_front() {
            Some(Some(keys)) => {
                self.log.push(format!("press {keys}"));
                self.clock.sleep(500 * keys.len() as i64).await;
                Collected::Keys(keys)
            }
            Some(None) => {
                self.clock.sleep(request.first_timeout_ms).await;
                Collected::Timeout
            }
            // A caller with nothing more to press gives up.
            None => {
                self.clock.sleep(request.first_timeout_ms).await;
                Collected::HungUp
            }
        }
    }

    async fn ring(&mut self, targets: &[Target], timeout_ms: i64) -> Rang {
        let names: Vec<&str> = targets
            .iter()
            .map(|t| t.agent.as_deref().unwrap_or(&t.extension))
            .collect();
        self.log.push(format!("ring {}", names.join(",")));
        let answering = targets.iter().position(|t| self.answers(t));
        match answering {
            Some(i) if self.behaviour.answer_ms <= timeout_ms => {
                if !self.wait(self.behaviour.answer_ms).await {
                    return Rang::HungUp;
                }
                Rang::Answered(i)
            }
            _ => {
                if !self.wait(timeout_ms).await {
                    return Rang::HungUp;
                }
                Rang::NoAnswer
            }
        }
    }

    async fn bridge(&mut self, target: &Target, whisper: Option<&str>, _record: bool) -> Ended {
        if let Some(w) = whisper {
            self.log.push(format!("whisper {w}"));
        }
        self.log.push(format!(
            "talk {}",
            target.agent.as_deref().unwrap_or(&target.extension)
        ));
        self.clock.sleep(self.behaviour.talk_ms).await;
        Ended::Caller
    }

    async fn announce(&mut self, what: &Announce) -> bool {
        self.log.push(format!("announce {what:?}"));
        self.wait(PROMPT_MS).await
    }

    async fn hold(&mut self, _music: Option<&str>, ms: i64) -> bool {
        self.wait(ms).await
    }

    async fn voicemail(&mut self, mailbox: &str) -> () {
        self.log.push(format!("voicemail {mailbox}"));
        self.clock.sleep(20_000).await;
    }

    async fn transfer(&mut self, number: &str) -> bool {
        self.log.push(format!("transfer {number}"));
        true
    }

    async fn reject(&mut self, reason: RejectReason) {
        self.log.push(format!("reject {}", reason.name()));
    }

    async fn hangup(&mut self) {
        self.log.push("hangup".into());
    }
}
