//! A simulated caller: a `Channel` whose caller presses keys, waits with a
//! given patience, and whose agents answer and talk for given times. Used
//! by the simulator and by runtime tests, always on the runtime's clock.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use crate::checked::RejectReason;
use crate::runtime::Clock;
use crate::runtime::channel::{Announce, Channel, Collect, Collected, Ended, Rang, Target};
use crate::sim::random::Rng;

/// What callers press at each menu, by menu name: entries (`None` is
/// silence) with their probabilities. Probabilities that sum below 1 leave
/// the rest for callers who hang up at that menu.
pub type MenuKeys = HashMap<String, Vec<(Option<String>, f64)>>;

/// How long prompts last, on the simulated clock.
pub const PROMPT_MS: i64 = 2_000;

/// The caller's behaviour and the agents' for one call.
#[derive(Clone, Debug, Default)]
pub struct Behaviour {
    /// Key entries, in order, for the menus the call meets; `None` is silence.
    pub presses: VecDeque<Option<String>>,
    /// Once `presses` run out: what callers press at each menu, drawn with
    /// `rng`. A menu it does not name gets silence. Without it, a caller
    /// with nothing left to press hangs up.
    pub keys: Option<Arc<MenuKeys>>,
    pub rng: Rng,
    /// How long the caller is willing to wait for an agent (ms), counted
    /// from the first time the call waits in a queue or rings; `None`
    /// waits forever.
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
    /// When the caller gives up (clock ms), once they started waiting.
    gives_up_at: Option<i64>,
    /// What happened, for tests: "answer", "play X", "ring a,b", ...
    pub log: Vec<String>,
    /// Whether to keep `log` (the simulator does not need it).
    pub logging: bool,
    pub menus: HashMap<String, usize>,
}

impl SimCaller {
    pub fn new(clock: Clock, behaviour: Behaviour) -> SimCaller {
        SimCaller {
            clock,
            gives_up_at: None,
            behaviour,
            log: Vec::new(),
            logging: true,
            menus: HashMap::new(),
        }
    }

    fn note(&mut self, line: impl FnOnce() -> String) {
        if self.logging {
            self.log.push(line());
        }
    }

    /// Waits up to `ms` of the caller's patience; false if it ran out.
    /// Patience is a deadline, so a wait cut short (an offer arriving
    /// while on hold) spends only the time that passed.
    async fn wait(&mut self, ms: i64) -> bool {
        let Some(patience) = self.behaviour.patience_ms else {
            self.clock.sleep(ms).await;
            return true;
        };
        let now = self.clock.elapsed_ms();
        let deadline = *self.gives_up_at.get_or_insert(now + patience);
        if deadline <= now + ms {
            self.clock.sleep(deadline - now).await;
            false
        } else {
            self.clock.sleep(ms).await;
            true
        }
    }

    /// The next entry at a menu: a scripted press, a drawn one, silence
    /// (`Some(None)`), or `None` when the caller hangs up.
    fn next_press(&mut self, menu: &str) -> Option<Option<String>> {
        if let Some(p) = self.behaviour.presses.pop_front() {
            return Some(p);
        }
        let keys = self.behaviour.keys.as_ref()?;
        let Some(choices) = keys.get(menu) else {
            return Some(None);
        };
        let weights: Vec<f64> = choices.iter().map(|c| c.1).collect();
        let i = self.behaviour.rng.choose(&weights)?;
        Some(choices[i].0.clone())
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
        self.note(|| "answer".into());
        true
    }

    async fn play(&mut self, prompt: &str) -> bool {
        self.note(|| format!("play {prompt}"));
        self.clock.sleep(PROMPT_MS).await;
        true
    }

    async fn collect(&mut self, request: &Collect) -> Collected {
        *self.menus.entry(request.menu.clone()).or_default() += 1;
        if let Some(p) = &request.prompt {
            self.note(|| format!("play {p}"));
            self.clock.sleep(PROMPT_MS).await;
        }
        match self.next_press(&request.menu) {
            Some(Some(keys)) => {
                self.note(|| format!("press {keys}"));
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
        self.note(|| {
            let names: Vec<&str> = targets
                .iter()
                .map(|t| t.agent.as_deref().unwrap_or(&t.extension))
                .collect();
            format!("ring {}", names.join(","))
        });
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
            self.note(|| format!("whisper {w}"));
        }
        self.note(|| {
            format!(
                "talk {}",
                target.agent.as_deref().unwrap_or(&target.extension)
            )
        });
        self.clock.sleep(self.behaviour.talk_ms).await;
        Ended::Caller
    }

    async fn announce(&mut self, what: &Announce) -> bool {
        self.note(|| format!("announce {what:?}"));
        self.wait(PROMPT_MS).await
    }

    async fn hold(&mut self, _music: Option<&str>, ms: i64) -> bool {
        self.wait(ms).await
    }

    async fn voicemail(&mut self, mailbox: &str) -> () {
        self.note(|| format!("voicemail {mailbox}"));
        self.clock.sleep(20_000).await;
    }

    async fn transfer(&mut self, number: &str) -> bool {
        self.note(|| format!("transfer {number}"));
        true
    }

    async fn reject(&mut self, reason: RejectReason) {
        self.note(|| format!("reject {}", reason.name()));
    }

    async fn hangup(&mut self) {
        self.note(|| "hangup".into());
    }
}
