//! The simulated caller of a runtime test, noting what happens and when:
//! every ring with its targets, key presses, prompts, and the queue
//! events in between, as the lines of a timeline.

use tokio::sync::mpsc::UnboundedReceiver;

use crate::checked;
use crate::runtime::channel::{Announce, Channel, Collect, Collected, Ended, Rang, Ring, Target};
use crate::runtime::{Clock, Event};
use crate::sim::SimCaller;

/// Milliseconds as `m:ss` (or `h:mm:ss`).
pub fn clock_text(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

/// The simulated caller, noting what happens and when: every ring with
/// its targets, key presses, prompts, and the queue events in between.
pub(super) struct Traced {
    inner: SimCaller,
    clock: Clock,
    events: UnboundedReceiver<Event>,
    /// What happened, in milliseconds since the call arrived.
    pub(super) timeline: Vec<(i64, String)>,
    /// Everyone rung, one entry per ring, in order.
    pub(super) rings: Vec<Vec<Target>>,
}

impl Traced {
    pub(super) fn new(inner: SimCaller, clock: Clock, events: UnboundedReceiver<Event>) -> Traced {
        Traced {
            inner,
            clock,
            events,
            timeline: Vec::new(),
            rings: Vec::new(),
        }
    }

    fn note(&mut self, what: String) {
        self.drain();
        self.timeline.push((self.clock.elapsed_ms(), what));
    }

    /// Moves the events published so far into the timeline.
    pub(super) fn drain(&mut self) {
        while let Ok(event) = self.events.try_recv() {
            let line = match event {
                Event::Queued {
                    queue,
                    priority,
                    at_ms,
                    ..
                } => Some((
                    at_ms,
                    if priority > 0 {
                        format!("waits in queue {queue} (priority {priority})")
                    } else {
                        format!("waits in queue {queue}")
                    },
                )),
                Event::Overflowed { queue, at_ms, .. } => {
                    Some((at_ms, format!("leaves queue {queue}: overflow")))
                }
                Event::NoAgents { queue, at_ms, .. } => Some((
                    at_ms,
                    format!(
                        "leaves queue {queue}: no agents (nobody who could take the call is logged in)"
                    ),
                )),
                Event::Abandoned {
                    queue,
                    waited_ms,
                    at_ms,
                    ..
                } => Some((
                    at_ms,
                    match queue {
                        Some(q) => format!(
                            "hangs up after waiting {} in queue {q}",
                            clock_text(waited_ms)
                        ),
                        None => "hangs up".to_string(),
                    },
                )),
                _ => None,
            };
            self.timeline.extend(line);
        }
    }
}

impl Channel for Traced {
    async fn answer(&mut self) -> bool {
        self.inner.answer().await
    }

    async fn play(&mut self, prompt: &str) -> bool {
        self.note(format!("hears \"{prompt}\""));
        self.inner.play(prompt).await
    }

    async fn collect(&mut self, request: &Collect) -> Collected {
        let got = self.inner.collect(request).await;
        let menu = if request.menu.is_empty() {
            "the extension prompt".to_string()
        } else {
            format!("menu {}", request.menu)
        };
        self.note(match &got {
            Collected::Keys(k) => format!("presses {k} in {menu}"),
            Collected::Timeout => format!("presses nothing in {menu}"),
            Collected::HungUp => format!("hangs up in {menu}: the test has no more presses"),
        });
        got
    }

    async fn ring(&mut self, targets: &[Target], ring: Ring) -> Rang {
        let names: Vec<&str> = targets.iter().map(Target::name).collect();
        self.note(if ring.auto_answer {
            format!("rings {} to answer by itself", names.join(", "))
        } else {
            format!(
                "rings {} for up to {}",
                names.join(", "),
                clock_text(ring.timeout_ms)
            )
        });
        self.rings.push(targets.to_vec());
        let rang = self.inner.ring(targets, ring).await;
        self.note(match &rang {
            Rang::Answered(i) => {
                format!(
                    "{} answers",
                    targets.get(*i).map_or("someone", Target::name)
                )
            }
            Rang::NoAnswer => "nobody answers".to_string(),
            Rang::HungUp => "hangs up while it rings".to_string(),
        });
        rang
    }

    async fn bridge(&mut self, target: &Target, whisper: Option<&str>, record: bool) -> Ended {
        self.note(format!("talks with {}", target.name()));
        let ended = self.inner.bridge(target, whisper, record).await;
        self.note("the conversation ends".to_string());
        ended
    }

    async fn announce(&mut self, what: &Announce) -> bool {
        self.inner.announce(what).await
    }

    async fn hold(&mut self, music: Option<&str>, ms: i64) -> bool {
        self.inner.hold(music, ms).await
    }

    async fn voicemail(&mut self, mailbox: &str) -> Option<String> {
        self.note(format!("voicemail \"{mailbox}\""));
        self.inner.voicemail(mailbox).await
    }

    async fn transfer(&mut self, number: &str) -> bool {
        self.note(format!("transfer to {number}"));
        self.inner.transfer(number).await
    }

    async fn reject(&mut self, reason: checked::RejectReason) {
        self.note(format!("reject {}", reason.name()));
        self.inner.reject(reason).await;
    }

    async fn hangup(&mut self) {
        self.note("the script hangs up".to_string());
        self.inner.hangup().await;
    }
}
