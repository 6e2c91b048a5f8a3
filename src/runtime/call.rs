//! One call: asks the program "what next?" and does it through a channel,
//! from the entry to the one summary the call ends with. The caller may
//! hang up at any step; every step notices and the call ends cleanly.

use std::sync::Arc;

use tokio::sync::{oneshot, watch};

use super::acd::{Due, Turn, Waiter};
use super::channel::{Announce, Channel, Collected, Rang, Ring, Target};
use super::cut::Cutting;
use super::events::{Disposition, Event, Summary};
use super::live::Place;
use super::record::{self, CallInfo, Heard, LeftReason, Outcome};
use super::shared::{Current, Shared};
use crate::checked::{
    self, Announcement, GroupMode, Presentation, QueueId, RejectReason, StepKind,
};
use crate::facts::Facts;
use crate::flow::{self, Carried, Effect, End, Flow, Meaning, Step};
use crate::program::Program;

/// Ring time for extensions, when nothing says otherwise.
pub const EXTENSION_RING_MS: i64 = 30_000;

pub(super) struct Call<'c, 'x, C: Channel> {
    /// Borrowed from the runtime, which outlives the call: reference counts
    /// shared by every call are not touched per call.
    rt: &'c Shared,
    chan: &'c mut Cutting<'x, C>,
    info: Arc<CallInfo>,
    summary: Summary,
    answered: bool,
    /// Steps of the flow already written to the summary's path.
    noted: usize,
}

/// Brings a call's facts up to date before a decision: the local time,
/// and the statistics of the queues some decision reads.
fn refresh(rt: &Shared, program: &Program, facts: &mut Facts) {
    facts.set_time(&program.checked().zones, rt.clock.now());
    rt.acd.read_stats(program, facts, rt.aht_ms);
}

/// What the script asked for the conversation: a whisper to whoever
/// answers, and recording.
#[derive(Clone, Copy)]
struct Bridging<'a> {
    whisper: Option<&'a str>,
    record: bool,
}

fn bridging<'a>(flow: &'a Flow<'_>) -> Bridging<'a> {
    Bridging {
        whisper: flow.whisper.as_deref(),
        record: flow.record,
    }
}

/// How a queue or a hunt group left the call.
enum Next<'p> {
    /// Handed on to these actions (an overflow step, `no agents`, a
    /// group's `then`).
    Then(&'p checked::Actions),
    Done(Disposition),
    /// A reload moved the caller to its queue in another version: the
    /// call goes on there (only a queue does this).
    Moved(Box<Moving>),
}

/// A call moving to another version while it waits in a queue.
struct Moving {
    to: Current,
    /// The caller's queue there.
    queue: QueueId,
    rejoin: Rejoin,
}

/// A caller's wait that goes on under another version of its queue.
struct Rejoin {
    /// The caller's priority in line, which they keep.
    priority: u32,
    /// When the caller joined the queue.
    started: i64,
    /// Their place in line, which they keep.
    place: u64,
    /// Whether the ACD kept them in line (false: an overflow step of the
    /// new definition is due, and they leave by it).
    in_line: bool,
    /// Where they hear of offers from now on.
    rx: oneshot::Receiver<Turn>,
    passed_over: Vec<String>,
}

/// Where a call that moved goes on: in its queue, with what it carried.
struct Resume {
    carried: Carried,
    facts: Facts,
    queue: QueueId,
    rejoin: Rejoin,
}

/// How a call's run under one version ended: the call ended, or it moved
/// to another version, where it goes on as `resume` says.
enum Leg {
    Ended(Disposition),
    Moved { to: Current, resume: Box<Resume> },
}

impl<'c, 'x, C: Channel> Call<'c, 'x, C> {
    pub(super) fn new(rt: &'c Shared, chan: &'c mut Cutting<'x, C>, info: Arc<CallInfo>) -> Self {
        Call {
            rt,
            chan,
            summary: Summary::begun(Arc::clone(&info)),
            info,
            answered: false,
            noted: 0,
        }
    }

    /// Turns the call away because the runtime is shutting down.
    pub(super) async fn turn_away(mut self) -> Arc<Summary> {
        self.arrived();
        self.summary.path.push(record::Step::Shutdown);
        self.chan.reject(RejectReason::Unavailable).await;
        self.end(Disposition::Rejected).await
    }

    /// Says where the call is now, for the registry of calls in progress.
    fn at(&self, place: Place) {
        self.rt.live.set(self.info.id, place);
    }

    fn arrived(&self) {
        self.rt.events.publish(Event::CallArrived {
            call: Arc::clone(&self.info),
            at_ms: self.info.arrived_ms,
        });
    }

    /// Finishes the record and hands it on.
    async fn end(mut self, disposition: Disposition) -> Arc<Summary> {
        self.summary.disposition = disposition;
        self.summary.ended_ms = self.rt.clock.elapsed_ms();
        let summary = Arc::new(self.summary);
        self.rt.events.record(Arc::clone(&summary)).await;
        summary
    }

    /// Runs the call under `current`, the version it started with, to its
    /// end; a reload may move it, while it waits in a queue, to a later
    /// version, which it then goes on under (and then holds instead).
    pub(super) async fn run(mut self, current: Arc<Current>) -> Arc<Summary> {
        self.arrived();
        let mut current = current;
        let mut from = None;
        let disposition = loop {
            match self.run_on(&current, from.take()).await {
                Leg::Ended(disposition) => break disposition,
                Leg::Moved { to, resume } => {
                    self.summary.moved_to_version = to.program.version().cloned();
                    (self.rt.live).moved(self.info.id, self.summary.moved_to_version.clone());
                    // The call lets go of the old version here.
                    current = Arc::new(to);
                    from = Some(*resume);
                }
            }
        };
        let disposition = if self.chan.is_cut() {
            // Ended at a shutdown's deadline: a conversation that took
            // place still counts as answered.
            self.summary.path.push(record::Step::Shutdown);
            self.chan.hang_up_now().await;
            match disposition {
                Disposition::Answered => Disposition::Answered,
                _ => Disposition::Failed,
            }
        } else {
            disposition
        };
        self.end(disposition).await
    }

    /// Runs the call under one version: from its arrival, or, after a
    /// move, from its wait in the queue it moved to. Returns when the call
    /// ended, with its tags and flow in the summary, or when it moves on.
    async fn run_on(&mut self, current: &Current, from: Option<Resume>) -> Leg {
        let (program, tables) = (&current.program, &current.tables);
        let rt = self.rt;
        let mut refresh = |f: &mut Facts| refresh(rt, program, f);
        let (mut flow, mut effect, mut rejoin) = match from {
            None => {
                let mut facts = Facts::new(&program.ir().layout);
                facts.caller = self.info.caller.clone();
                facts.dialed = self.info.dialed.clone();
                facts.set_switches(program.checked(), &self.info.switches);
                let mut flow = Flow::new(program, tables, rt.engine, facts, Vec::new());
                let effect = flow.start(&mut refresh);
                (flow, effect, None)
            }
            Some(r) => {
                let flow = Flow::resume(program, tables, rt.engine, r.facts, r.carried);
                let effect = Effect::Queue {
                    queue: r.queue,
                    priority: r.rejoin.priority,
                };
                (flow, effect, Some(r.rejoin))
            }
        };
        let disposition = loop {
            self.note(&flow, program);
            effect = match effect {
                Effect::Play(p) => {
                    self.at(Place::Playing {
                        prompt: p.to_string(),
                    });
                    if !self.answer().await || !self.chan.play(p).await {
                        break Disposition::Abandoned;
                    }
                    flow.played(&mut refresh)
                }
                Effect::Collect(request) => {
                    if !self.answer().await {
                        break Disposition::Abandoned;
                    }
                    self.at(Place::Menu {
                        menu: request.menu.clone(),
                    });
                    let got = self.chan.collect(&request).await;
                    match &got {
                        Collected::HungUp => break Disposition::Abandoned,
                        Collected::Keys(keys) if flow.collecting_for().is_some() => {
                            rt.events.publish(Event::MenuInput {
                                call: Arc::clone(&self.info),
                                menu: request.menu.clone(),
                                keys: keys.clone(),
                                at_ms: rt.clock.elapsed_ms(),
                            });
                        }
                        _ => {}
                    }
                    flow.collected(got, &mut refresh)
                }
                Effect::Queue { queue, priority } => {
                    match self
                        .queue(current, &flow, queue, priority, rejoin.take())
                        .await
                    {
                        Next::Then(actions) => flow.then(actions, &mut refresh),
                        Next::Done(d) => break d,
                        Next::Moved(moving) => return self.moving(flow, *moving),
                    }
                }
                Effect::Group(g) => {
                    match self
                        .group(program.checked().group(g), bridging(&flow))
                        .await
                    {
                        Next::Then(actions) => flow.then(actions, &mut refresh),
                        Next::Done(d) => break d,
                        Next::Moved(moving) => return self.moving(flow, *moving),
                    }
                }
                Effect::Extension(x) => break self.extension(&x, bridging(&flow)).await,
                Effect::Transfer(n) => {
                    self.summary.path.push(record::Step::Transfer {
                        number: n.to_string(),
                    });
                    self.at(Place::Transferring {
                        number: n.to_string(),
                    });
                    break if self.chan.transfer(n).await {
                        Disposition::Transferred
                    } else {
                        Disposition::Failed
                    };
                }
                Effect::Voicemail(b) => {
                    self.summary.path.push(record::Step::Voicemail {
                        mailbox: b.to_string(),
                    });
                    if !self.answer().await {
                        break Disposition::Abandoned;
                    }
                    self.at(Place::Voicemail {
                        mailbox: b.to_string(),
                    });
                    self.summary.voicemail = self.chan.voicemail(b).await;
                    break Disposition::Voicemail;
                }
                Effect::Reject(r) => {
                    self.summary.path.push(record::Step::Reject {
                        reason: r.name().to_string(),
                    });
                    self.chan.reject(r).await;
                    break Disposition::Rejected;
                }
                Effect::Hangup => break self.hang_up(Disposition::Rejected).await,
                Effect::Stop(End::NoEntry) => {
                    self.summary.path.push(record::Step::NoEntry);
                    self.chan.reject(RejectReason::Unavailable).await;
                    break Disposition::Rejected;
                }
                // No rule fired (a script with errors), or a loop through
                // queues or groups with nobody to take the call.
                Effect::Stop(_) => {
                    self.chan.hangup().await;
                    break Disposition::Failed;
                }
            };
        };
        self.note(&flow, program);
        self.summary.tags = flow.tags.iter().map(|t| t.to_string()).collect();
        self.summary.flow = flow.into_path().steps.into();
        Leg::Ended(disposition)
    }

    /// The call moves on to another version from a queue: what it takes
    /// along, with its facts carried over as the ACD carried its waiter's.
    fn moving(&self, flow: Flow<'_>, moving: Moving) -> Leg {
        let Moving { to, queue, rejoin } = moving;
        let facts = flow::carry_facts(
            flow.facts(),
            &to.program,
            &to.tables,
            &self.info.switches,
            self.rt.clock.now(),
        );
        let resume = Box::new(Resume {
            carried: flow.carry(),
            facts,
            queue,
            rejoin,
        });
        Leg::Moved { to, resume }
    }

    /// Writes the flow's new steps to the record's path: the entry, each
    /// route decided, each menu offered and what the caller entered.
    fn note(&mut self, flow: &Flow, program: &Program) {
        let c = program.checked();
        let steps = &flow.path().steps;
        for step in &steps[self.noted.min(steps.len())..] {
            let step = match step {
                Step::Entry(e) => record::Step::Entry {
                    number: c.entries[*e].number.clone(),
                },
                Step::Route { route, fired } => {
                    let route = c.route(*route);
                    record::Step::Route {
                        route: route.name.clone(),
                        rule: fired.map(|index| record::Rule {
                            index,
                            at: (route.rules.get(index)).and_then(|r| c.places.place(r.loc)),
                        }),
                    }
                }
                Step::Offer { menu, .. } => record::Step::Menu {
                    menu: c.menu(*menu).name.clone(),
                },
                Step::Input {
                    menu,
                    press,
                    meaning,
                } => record::Step::Keys {
                    menu: c.menu(*menu).name.clone(),
                    keys: match press {
                        checked::Press::Keys(k) => k.clone(),
                        checked::Press::Timeout => String::new(),
                    },
                    heard: match meaning {
                        Meaning::Key(k) => Heard::Key(*k),
                        Meaning::Collected => Heard::Collected,
                        Meaning::Invalid => Heard::Invalid,
                        Meaning::Timeout => Heard::Timeout,
                    },
                },
                Step::Action(_) => continue,
            };
            self.summary.path.push(step);
        }
        self.noted = steps.len();
    }

    async fn answer(&mut self) -> bool {
        if !self.answered {
            self.answered = true;
            self.summary.answered_ms = Some(self.rt.clock.elapsed_ms());
            return self.chan.answer().await;
        }
        true
    }

    /// The script ends the call; `disposition` says how it counts.
    async fn hang_up(&mut self, disposition: Disposition) -> Disposition {
        self.summary.path.push(record::Step::Hangup);
        self.chan.hangup().await;
        disposition
    }

    /// Waits in a queue: relaxation, overflow, announcements and offers.
    /// A caller a reload moved here from another version (`rejoin`) is in
    /// line already, in the place they had, and the steps and the
    /// announcements go on from when they joined.
    async fn queue<'p>(
        &mut self,
        current: &'p Current,
        flow: &Flow<'_>,
        q: QueueId,
        priority: u32,
        rejoin: Option<Rejoin>,
    ) -> Next<'p> {
        let program = &*current.program;
        let facts = flow.facts();
        let queue = program.checked().queue(q);
        let fns = &program.ir().queues[q.index()];
        // With `no agents`, the caller leaves the line when the last agent
        // who could take the call logs out: the ACD says when agents leave
        // (watched from before the first look, so none leaves unseen), and
        // only then does the caller look again.
        let mut departures = queue.no_agents.as_ref().map(|_| self.rt.acd.departures());
        // The widest filter over all steps decides whether anyone could
        // ever take the call.
        let widest = fns.widest();
        // In line already (a move), or not yet.
        let rejoined = rejoin.is_some();
        let (started, mut place, mut passed_over, mut in_line) = match rejoin {
            Some(r) => {
                let line = r.in_line.then_some((r.place, r.rx));
                (r.started, Some(r.place), r.passed_over, line)
            }
            None => {
                self.summary.path.push(record::Step::Queue {
                    queue: queue.name.clone(),
                });
                self.summary.queue = Some(queue.name.clone());
                if !self.answer().await {
                    return Next::Done(Disposition::Abandoned);
                }
                (self.rt.clock.elapsed_ms(), None, Vec::new(), None)
            }
        };
        let now = self.rt.clock.elapsed_ms();
        let mut step = Due::after(program, q, now - started).step;
        if let Some(actions) = &queue.no_agents
            && !self.rt.acd.anyone_could(program, &widest, facts)
        {
            if !rejoined {
                self.summary.path.push(record::Step::Left {
                    queue: queue.name.clone(),
                    reason: LeftReason::NoAgents,
                });
                return Next::Then(actions);
            }
            // Moved where nobody could take the call: out of line, unless
            // an offer is on its way.
            match in_line {
                Some((seq, _)) if !self.rt.acd.leave(priority, seq) => {}
                _ => return self.leave(&queue.name, started, actions, LeftReason::NoAgents),
            }
        }
        if !rejoined {
            // Only now is the caller in line (`no agents` turns them away
            // first).
            self.rt.events.publish(Event::Queued {
                call: Arc::clone(&self.info),
                queue: queue.name.clone(),
                priority,
                at_ms: started,
            });
        }
        // Announcements keep the rhythm of the wait, from when it began.
        let mut next_announcement = (queue.announce_every_ms)
            .map(|every| every.max(1))
            .map(|every| started + ((now - started) / every + 1) * every);
        loop {
            let (seq, mut rx) = match in_line.take() {
                Some(line) => line,
                None => {
                    // Steps that fell due while an offer rang: relax before
                    // joining the line again, or overflow instead.
                    let now = self.rt.clock.elapsed_ms();
                    let due = Due::after(program, q, now - started);
                    if due.overflow
                        && let StepKind::Overflow(actions) = &queue.steps[due.step].kind
                    {
                        return self.leave(&queue.name, started, actions, LeftReason::Overflow);
                    }
                    step = due.step;
                    let (tx, rx) = oneshot::channel::<Turn>();
                    let seq = self.rt.acd.enqueue(
                        Waiter {
                            call: Arc::clone(&self.info),
                            since_ms: started,
                            queue_name: queue.name.clone(),
                            queue: q,
                            priority,
                            program: Arc::clone(&current.program),
                            facts: facts.clone(),
                            require: due.require,
                            offer: tx,
                            passed_over: passed_over.clone(),
                        },
                        place,
                    );
                    place = Some(seq);
                    (seq, rx)
                }
            };
            self.at(Place::Queued {
                queue: queue.name.clone(),
                since_ms: started,
            });
            // Wait for an offer, the next step, the next announcement, a
            // move to another version, or the caller giving up.
            let offer = loop {
                let now = self.rt.clock.elapsed_ms();
                let step_at = queue.steps.get(step).map(|s| started + s.after_ms);
                // The ACD's timed pass, for filters that time alone makes
                // true (`agent.idle_minutes`), is due by then too.
                let until = [step_at, next_announcement, self.rt.acd.next_pass_ms()]
                    .into_iter()
                    .flatten()
                    .min()
                    .unwrap_or(now + 60_000);
                let woke = tokio::select! {
                    biased;
                    turn = &mut rx => Wake::Turn(turn.ok()),
                    watching = departed(&mut departures) => Wake::Departed(watching),
                    held = self.chan.hold(queue.music.as_deref(), (until - now).max(0)) => Wake::Held(held),
                };
                match woke {
                    Wake::Turn(Some(Turn::Offer(offer))) => break offer,
                    Wake::Turn(Some(Turn::Moved(moved))) => {
                        return Next::Moved(Box::new(Moving {
                            to: Current {
                                program: moved.program,
                                tables: moved.tables,
                            },
                            queue: moved.queue,
                            rejoin: Rejoin {
                                priority,
                                started,
                                place: seq,
                                in_line: moved.in_line,
                                rx: moved.next,
                                passed_over,
                            },
                        }));
                    }
                    Wake::Turn(None) => return Next::Done(self.abandoned(started)),
                    Wake::Held(false) => {
                        self.leave_queue(priority, seq, rx);
                        return Next::Done(self.abandoned(started));
                    }
                    Wake::Held(true) => {}
                    Wake::Departed(true) => {
                        // Out of line only if no offer is on its way (an
                        // agent ringing for the call is logged in).
                        if let Some(actions) = &queue.no_agents
                            && !self.rt.acd.anyone_could(program, &widest, facts)
                            && self.rt.acd.leave(priority, seq)
                        {
                            return self.leave(&queue.name, started, actions, LeftReason::NoAgents);
                        }
                    }
                    // The ACD is gone: nothing more to watch.
                    Wake::Departed(false) => departures = None,
                }
                let now = self.rt.clock.elapsed_ms();
                self.rt.acd.tick();
                if step_at.is_some_and(|t| now >= t) {
                    match &queue.steps[step].kind {
                        StepKind::Relax(_) => {
                            self.rt.acd.relax(priority, seq, fns.steps[step]);
                            step += 1;
                        }
                        StepKind::Overflow(actions) => {
                            if self.rt.acd.leave(priority, seq) {
                                return self.leave(
                                    &queue.name,
                                    started,
                                    actions,
                                    LeftReason::Overflow,
                                );
                            }
                            // An offer is on its way: it rings first, and
                            // the step stays due in case nobody answers.
                            continue;
                        }
                    }
                }
                if next_announcement.is_some_and(|t| now >= t) {
                    next_announcement = queue.announce_every_ms.map(|every| now + every);
                    for a in &queue.announcements {
                        let what = match a {
                            Announcement::Position => {
                                Announce::Position(self.rt.acd.position(priority, seq))
                            }
                            Announcement::Wait => Announce::WaitMinutes(
                                (self.rt.acd)
                                    .stats(program, q, facts, self.rt.aht_ms)
                                    .expected_wait_ms
                                    / 60_000,
                            ),
                            Announcement::Prompt(p) => Announce::Prompt(p.clone()),
                        };
                        if !self.chan.announce(&what).await {
                            self.leave_queue(priority, seq, rx);
                            return Next::Done(self.abandoned(started));
                        }
                    }
                }
            };
            // Present the offer.
            let ring = match queue.presentation {
                Presentation::AutoAnswer => Ring::auto_answer(),
                Presentation::OneByOne { timeout_ms } | Presentation::All { timeout_ms } => {
                    Ring::for_ms(timeout_ms)
                }
            };
            self.at(Place::Ringing {
                queue: Some(queue.name.clone()),
                agents: offer.agents.clone(),
            });
            let rang = self.chan.ring(&offer.targets, ring).await;
            self.offered(
                Some(&queue.name),
                offer.agents.clone(),
                &offer.targets,
                &rang,
            );
            match rang {
                Rang::Answered(i) => {
                    let agent = offer.agents.get(i).unwrap_or(&offer.agents[0]).clone();
                    let answered_at = self.rt.clock.elapsed_ms();
                    self.rt.acd.answered(&offer, &agent);
                    let target = offer.targets[i.min(offer.targets.len() - 1)].clone();
                    self.summary.wait_ms += answered_at - started;
                    self.summary.agent = target.agent.clone();
                    self.rt.events.publish(Event::Answered {
                        call: Arc::clone(&self.info),
                        agent: target.agent.clone().unwrap_or_default(),
                        queue: Some(queue.name.clone()),
                        waited_ms: answered_at - started,
                        at_ms: answered_at,
                    });
                    self.summary.answered_ms.get_or_insert(answered_at);
                    self.at(Place::Talking {
                        agent: agent.clone(),
                        queue: Some(queue.name.clone()),
                    });
                    let ended = self.talk(&target, bridging(flow), answered_at).await;
                    if (self.rt.acd)
                        .call_ended(&agent, ended - answered_at, queue.wrapup_ms)
                        .is_some()
                    {
                        self.summary.wrapup_ms = queue.wrapup_ms;
                    }
                    return Next::Done(Disposition::Answered);
                }
                Rang::NoAnswer => {
                    (self.rt.acd).not_answered(&offer, true, queue.pause_after_misses);
                    passed_over.extend(offer.agents.iter().cloned());
                }
                Rang::HungUp => {
                    // Now, not when the ringing began: the agents have
                    // been idle only from here on.
                    self.rt.acd.not_answered(&offer, false, None);
                    return Next::Done(self.abandoned(started));
                }
            }
        }
    }

    /// Bridges the caller with whoever answered at `answered_at` (the
    /// whisper, if any, plays to them first) and counts the talk time.
    /// Returns when the conversation ended.
    async fn talk(&mut self, target: &Target, how: Bridging<'_>, answered_at: i64) -> i64 {
        self.chan.bridge(target, how.whisper, how.record).await;
        let ended = self.rt.clock.elapsed_ms();
        self.summary.talk_ms += ended - answered_at;
        ended
    }

    /// Leaves a queue by an overflow step, or by `no agents` once every
    /// agent who could take the call has logged out (the caller is out of
    /// line), and runs the step's actions.
    fn leave<'p>(
        &mut self,
        queue: &str,
        started: i64,
        actions: &'p checked::Actions,
        why: LeftReason,
    ) -> Next<'p> {
        let (call, at_ms) = (Arc::clone(&self.info), self.rt.clock.elapsed_ms());
        self.summary.wait_ms += at_ms - started;
        self.summary.path.push(record::Step::Left {
            queue: queue.to_string(),
            reason: why,
        });
        let queue = queue.to_string();
        self.rt.events.publish(match why {
            LeftReason::NoAgents => Event::NoAgents { call, queue, at_ms },
            _ => Event::Overflowed { call, queue, at_ms },
        });
        Next::Then(actions)
    }

    /// The caller hung up while waiting: takes them out of line or, when an
    /// offer is already on its way (it may have come while an announcement
    /// played, after a move), releases the agents it rings.
    fn leave_queue(&self, priority: u32, seq: u64, mut rx: oneshot::Receiver<Turn>) {
        if self.rt.acd.leave(priority, seq) {
            return;
        }
        loop {
            match rx.try_recv() {
                Ok(Turn::Offer(offer)) => {
                    return self.rt.acd.not_answered(&offer, false, None);
                }
                Ok(Turn::Moved(moved)) => rx = moved.next,
                Err(_) => return,
            }
        }
    }

    /// The caller hung up while waiting in the queue (or the call was cut
    /// at a shutdown, which is no abandon).
    fn abandoned(&mut self, since: i64) -> Disposition {
        let now = self.rt.clock.elapsed_ms();
        self.summary.wait_ms += now - since;
        if self.chan.is_cut() {
            return Disposition::Failed;
        }
        if let Some(queue) = &self.summary.queue {
            self.summary.path.push(record::Step::Left {
                queue: queue.clone(),
                reason: LeftReason::Abandoned,
            });
        }
        self.rt.events.publish(Event::Abandoned {
            call: Arc::clone(&self.info),
            queue: self.summary.queue.clone(),
            waited_ms: now - since,
            at_ms: now,
        });
        Disposition::Abandoned
    }

    /// Records how an offer went: who rang and who answered.
    fn offered(
        &mut self,
        queue: Option<&str>,
        agents: Vec<String>,
        targets: &[Target],
        rang: &Rang,
    ) {
        let outcome = match rang {
            Rang::Answered(i) => Outcome::Answered(
                targets
                    .get(*i)
                    .map_or_else(String::new, |t| t.name().to_string()),
            ),
            Rang::NoAnswer => Outcome::Missed,
            Rang::HungUp => Outcome::CallerHungUp,
        };
        self.summary.path.push(record::Step::Offer {
            queue: queue.map(str::to_string),
            agents,
            outcome,
        });
    }

    /// Rings a hunt group.
    async fn group<'p>(&mut self, g: &'p checked::Group, how: Bridging<'_>) -> Next<'p> {
        self.summary.path.push(record::Step::Group {
            group: g.name.clone(),
        });
        let mut members: Vec<String> = g.members.clone();
        if g.mode == GroupMode::MostRecent {
            let agents = self.rt.acd.agents();
            let recency = |m: &String| {
                agents
                    .iter()
                    .find(|a| a.spec.extension == *m)
                    .map_or(0, |a| a.last_answer_seq)
            };
            members.sort_by_key(|m| std::cmp::Reverse(recency(m)));
        }
        let rounds: Vec<Vec<String>> = match g.mode {
            GroupMode::Simultaneous => vec![members],
            _ => members.into_iter().map(|m| vec![m]).collect(),
        };
        for round in rounds {
            match self.ring_extensions(&round, g.timeout_ms, how).await {
                Rung::Talked => return Next::Done(Disposition::Answered),
                Rung::HungUp => return Next::Done(Disposition::Abandoned),
                Rung::NoAnswer => {}
            }
        }
        match &g.then {
            Some(actions) => Next::Then(actions),
            // Everyone rang out and the script says no more.
            None => Next::Done(self.hang_up(Disposition::Unanswered).await),
        }
    }

    async fn extension(&mut self, number: &str, how: Bridging<'_>) -> Disposition {
        self.summary.path.push(record::Step::Extension {
            number: number.to_string(),
        });
        match self
            .ring_extensions(&[number.to_string()], EXTENSION_RING_MS, how)
            .await
        {
            Rung::Talked => Disposition::Answered,
            Rung::HungUp => Disposition::Abandoned,
            Rung::NoAnswer => self.hang_up(Disposition::Unanswered).await,
        }
    }

    /// Rings extensions at once (agents who are available, and extensions
    /// outside the roster); talks with whoever answers.
    async fn ring_extensions(
        &mut self,
        extensions: &[String],
        timeout_ms: i64,
        how: Bridging<'_>,
    ) -> Rung {
        let offer = self.rt.acd.reserve(extensions);
        let mut targets = offer.targets.clone();
        let mut owners: Vec<Option<String>> = offer.agents.iter().cloned().map(Some).collect();
        for e in extensions {
            if self.rt.acd.agent_by_extension(e).is_none() {
                targets.push(Target {
                    agent: None,
                    extension: e.clone(),
                    sip_user: e.clone(),
                });
                owners.push(None);
            }
        }
        if targets.is_empty() {
            return Rung::NoAnswer;
        }
        let rang_at = self.rt.clock.elapsed_ms();
        self.at(Place::Ringing {
            queue: None,
            agents: targets.iter().map(|t| t.name().to_string()).collect(),
        });
        let rang = self.chan.ring(&targets, Ring::for_ms(timeout_ms)).await;
        let rung = targets.iter().map(|t| t.name().to_string()).collect();
        self.offered(None, rung, &targets, &rang);
        match rang {
            Rang::Answered(i) => {
                let answered_at = self.rt.clock.elapsed_ms();
                let owner = owners.get(i).cloned().flatten();
                match &owner {
                    Some(a) => self.rt.acd.answered(&offer, a),
                    None => self.rt.acd.not_answered(&offer, false, None),
                }
                let target = targets[i.min(targets.len() - 1)].clone();
                let who = target.name().to_string();
                self.rt.events.publish(Event::Answered {
                    call: Arc::clone(&self.info),
                    agent: who.clone(),
                    queue: None,
                    waited_ms: answered_at - rang_at,
                    at_ms: answered_at,
                });
                self.at(Place::Talking {
                    agent: who.clone(),
                    queue: None,
                });
                self.summary.agent = Some(who);
                self.summary.answered_ms.get_or_insert(answered_at);
                let ended = self.talk(&target, how, answered_at).await;
                if let Some(a) = owner {
                    self.rt.acd.call_ended(&a, ended - answered_at, 0);
                }
                Rung::Talked
            }
            Rang::NoAnswer => {
                self.rt.acd.not_answered(&offer, true, None);
                Rung::NoAnswer
            }
            Rang::HungUp => {
                let now = self.rt.clock.elapsed_ms();
                self.rt.acd.not_answered(&offer, false, None);
                if !self.chan.is_cut() {
                    self.rt.events.publish(Event::Abandoned {
                        call: Arc::clone(&self.info),
                        queue: None,
                        waited_ms: now - rang_at,
                        at_ms: now,
                    });
                }
                Rung::HungUp
            }
        }
    }
}

enum Wake {
    /// An offer or a move; `None` when the ACD let go of the caller.
    Turn(Option<Turn>),
    Held(bool),
    /// Agents may have left (true), or the ACD is gone (false).
    Departed(bool),
}

/// Waits until agents may have left the logged-in set; forever without a
/// receiver (a queue without `no agents`).
async fn departed(departures: &mut Option<watch::Receiver<u64>>) -> bool {
    match departures {
        Some(rx) => rx.changed().await.is_ok(),
        None => std::future::pending().await,
    }
}

enum Rung {
    Talked,
    NoAnswer,
    HungUp,
}
