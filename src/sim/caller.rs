//! A simulated caller: a `Channel` whose caller presses keys, waits with a
//! given patience, and whose agents answer and talk for given times. Used
//! by the simulator and by runtime tests, always on the runtime's clock.
//!
//! Keys are pressed one at a time, as the runtime collects them
//! (`flow::Collect::take`): the first after a think time, the others after
//! gaps; a key that would come after the menu's timeout (first key) or
//! digit timeout (the others) is too late, and the entry is what came
//! before it.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use crate::checked::RejectReason;
use crate::random::Rng;
use crate::runtime::Clock;
use crate::runtime::channel::{Announce, Channel, Collect, Collected, Ended, Rang, Ring, Target};
use crate::sim::distribution::{Distribution, Dur};

/// What callers press at each menu, by menu name: entries (`None` is
/// silence) with their probabilities. Probabilities that sum below 1 leave
/// the rest for callers who hang up at that menu.
pub type MenuKeys = HashMap<String, Vec<(Option<String>, f64)>>;

/// How long prompts last, and the think time and gap between keys unless
/// said otherwise: the walk behind `dialect test` keeps the same pace.
pub use crate::flow::walk::{KEY_MS, PROMPT_MS};

/// How fast a caller presses keys.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Keying {
    /// From the end of the prompt to the first key.
    pub think: Distribution,
    /// Between the keys of a longer entry.
    pub gap: Distribution,
}

impl Default for Keying {
    fn default() -> Keying {
        let fixed = Distribution::Fixed { value: Dur(KEY_MS) };
        Keying {
            think: fixed,
            gap: fixed,
        }
    }
}

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
    /// How fast the caller presses keys (drawn with `rng`; the fixed
    /// default draws nothing).
    pub keying: Keying,
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

    /// Presses an entry's keys one at a time, as `Collect::take` says a
    /// collector takes them, with think times and gaps drawn from the
    /// caller's keying; returns when the collector would.
    async fn key_in(&mut self, keys: &str, request: &Collect) -> Collected {
        let Keying { think, gap } = self.behaviour.keying;
        let rng = &mut self.behaviour.rng;
        let (got, ms) = request.take(keys, |n| {
            if n == 0 {
                think.draw(rng)
            } else {
                gap.draw(rng)
            }
        });
        self.clock.sleep(ms).await;
        got
    }

    fn answers(&self, t: &Target) -> bool {
        let name = t.name();
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
                self.key_in(&keys, request).await
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

    async fn ring(&mut self, targets: &[Target], ring: Ring) -> Rang {
        self.note(|| {
            let names: Vec<&str> = targets.iter().map(Target::name).collect();
            format!("ring {}", names.join(","))
        });
        if ring.auto_answer && !targets.is_empty() {
            // The phone picks up by itself, whoever holds it.
            return Rang::Answered(0);
        }
        let timeout_ms = ring.timeout_ms;
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
        self.note(|| format!("talk {}", target.name()));
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

    async fn voicemail(&mut self, mailbox: &str) -> Option<String> {
        self.note(|| format!("voicemail {mailbox}"));
        self.clock.sleep(20_000).await;
        None
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

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(presses: &[&str], keying: Keying, seed: u64) -> SimCaller {
        SimCaller::new(
            Clock::starting_at(jiff::Timestamp::UNIX_EPOCH),
            Behaviour {
                presses: presses.iter().map(|p| Some(p.to_string())).collect(),
                rng: Rng::new(seed),
                keying,
                ..Behaviour::default()
            },
        )
    }

    /// A free-form entry's request: 5 s for the first key, 2 s between
    /// keys.
    fn menu(max_digits: usize, hash_ends: bool) -> Collect {
        Collect {
            menu: "main".into(),
            prompt: Some("main".into()),
            first_timeout_ms: 5_000,
            digit_timeout_ms: 2_000,
            max_digits,
            hash_ends,
            keys: Vec::new(),
        }
    }

    /// A menu with these keys, timed as `menu`.
    fn keyed(keys: &[&str]) -> Collect {
        Collect {
            keys: keys.iter().map(|k| k.to_string()).collect(),
            ..menu(keys.iter().map(|k| k.len()).max().unwrap_or(1), false)
        }
    }

    fn fixed(ms: i64) -> Distribution {
        Distribution::Fixed { value: Dur(ms) }
    }

    /// Collects one entry; returns it and how long it took (prompt
    /// included).
    async fn collect(c: &mut SimCaller, request: &Collect) -> (Collected, i64) {
        let from = c.clock.elapsed_ms();
        let got = c.collect(request).await;
        (got, c.clock.elapsed_ms() - from)
    }

    #[tokio::test(start_paused = true)]
    async fn keys_come_half_a_second_apart_by_default() {
        let mut c = caller(&["42", "7"], Keying::default(), 1);
        let keys = |k: &str| Collected::Keys(k.into());
        let menu = keyed(&["42", "7"]);
        assert_eq!(collect(&mut c, &menu).await, (keys("42"), 3_000));
        assert_eq!(collect(&mut c, &menu).await, (keys("7"), 2_500));
    }

    #[tokio::test(start_paused = true)]
    async fn a_gap_longer_than_the_digit_timeout_ends_the_entry() {
        let slow = Keying {
            think: fixed(KEY_MS),
            gap: fixed(2_500),
        };
        let mut c = caller(&["40012345"], slow, 1);
        // The first key, then the runtime waits 2 s for the second and
        // gives up: the entry is "4".
        assert_eq!(
            collect(&mut c, &menu(10, true)).await,
            (Collected::Keys("4".into()), 2_000 + 500 + 2_000)
        );
        // A gap just under the timeout still counts; after the last key
        // the runtime waits out the digit timeout for more.
        let just = Keying {
            think: fixed(KEY_MS),
            gap: fixed(1_999),
        };
        let mut c = caller(&["123"], just, 1);
        assert_eq!(
            collect(&mut c, &menu(10, true)).await,
            (
                Collected::Keys("123".into()),
                2_000 + 500 + 2 * 1_999 + 2_000
            )
        );
    }

    /// In a menu, an entry no key can grow into is complete at once; one
    /// that a longer key starts with waits out the digit timeout.
    #[tokio::test(start_paused = true)]
    async fn a_menu_entry_ends_when_no_key_can_follow() {
        let keys = |k: &str| Collected::Keys(k.into());
        let menu = keyed(&["1", "4", "42", "9"]);
        let mut c = caller(&["1", "4", "42", "7"], Keying::default(), 1);
        // Prompt 2 s, then the key after half a second.
        assert_eq!(collect(&mut c, &menu).await, (keys("1"), 2_500));
        assert_eq!(collect(&mut c, &menu).await, (keys("4"), 2_500 + 2_000));
        assert_eq!(collect(&mut c, &menu).await, (keys("42"), 3_000));
        // A key no entry starts with: nothing more can make it valid.
        assert_eq!(collect(&mut c, &menu).await, (keys("7"), 2_500));
    }

    #[tokio::test(start_paused = true)]
    async fn a_think_time_longer_than_the_timeout_is_silence() {
        let dreamy = Keying {
            think: fixed(6_000),
            gap: fixed(KEY_MS),
        };
        let mut c = caller(&["1"], dreamy, 1);
        assert_eq!(
            collect(&mut c, &menu(1, false)).await,
            (Collected::Timeout, 2_000 + 5_000)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn hash_and_max_digits_end_an_entry() {
        let keys = |k: &str| Collected::Keys(k.into());
        let mut c = caller(&["1234#", "#", "123456", "1#"], Keying::default(), 1);
        assert_eq!(collect(&mut c, &menu(10, true)).await.0, keys("1234"));
        assert_eq!(collect(&mut c, &menu(10, true)).await.0, keys(""));
        assert_eq!(collect(&mut c, &menu(3, true)).await.0, keys("123"));
        // Where `#` is a key of the menu, it is part of the entry.
        assert_eq!(collect(&mut c, &menu(2, false)).await.0, keys("1#"));
    }

    #[tokio::test(start_paused = true)]
    async fn drawn_gaps_are_the_same_for_a_seed() {
        // Gaps around the digit timeout: some entries end early.
        let keying = Keying {
            think: Distribution::Exponential { mean: Dur(1_000) },
            gap: Distribution::Exponential { mean: Dur(1_500) },
        };
        let presses = ["40012345"; 40];
        let run = |seed| async move {
            let mut c = caller(&presses, keying, seed);
            let mut out = Vec::new();
            for _ in 0..presses.len() {
                out.push(collect(&mut c, &menu(10, true)).await);
            }
            out
        };
        let a = run(7).await;
        assert_eq!(a, run(7).await, "a seed gives the same entries");
        assert_ne!(a, run(8).await);
        let whole = a
            .iter()
            .filter(|(c, _)| *c == Collected::Keys("40012345".into()))
            .count();
        assert!(whole > 0 && whole < a.len(), "{whole} of {} whole", a.len());
        assert!(
            a.iter().any(|(c, _)| *c == Collected::Timeout),
            "some callers think too long"
        );
    }
}
