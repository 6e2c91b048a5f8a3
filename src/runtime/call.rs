//! One call: asks the program "what next?" and does it through a channel,
//! from the entry to the one summary the call ends with. The caller may
//! hang up at any step; every step notices and the call ends cleanly.

use std::sync::Arc;

use tokio::sync::{oneshot, watch};

use super::Runtime;
use super::acd::{Offer, Waiter};
use super::channel::{Announce, Channel, Collect, Collected, Rang, Ring, Target};
use super::events::{Disposition, Event, Summary};
use crate::checked::{
    self, Action, ActionKind, Announcement, ExtensionTarget, GroupMode, LookupKey, MenuId,
    Presentation, QueueId, StepKind,
};
use crate::facts::Facts;
use crate::program::{MenuInput, Program};

/// Longest a call may run through routes and menus before it is cut off
/// (a script error would otherwise keep a line busy forever).
pub const MAX_STEPS: usize = 10_000;

/// Ring time for extensions, when nothing says otherwise.
pub const EXTENSION_RING_MS: i64 = 30_000;

pub(super) struct Call<'c, C: Channel> {
    rt: Arc<Runtime>,
    program: Arc<Program>,
    chan: &'c mut C,
    facts: Facts,
    summary: Summary,
    answered: bool,
    /// Menus on the way, for `back`; offers of the current one.
    menus: Vec<MenuId>,
    offers: u32,
    whisper: Option<String>,
    record: bool,
    steps: usize,
}

enum Next {
    Actions(checked::Actions),
    Offer(MenuId),
    Done(Disposition),
}

impl<'c, C: Channel> Call<'c, C> {
    pub(super) fn new(
        rt: Arc<Runtime>,
        program: Arc<Program>,
        chan: &'c mut C,
        id: u64,
        caller: String,
        dialed: String,
    ) -> Self {
        let mut facts = Facts::new(&program.ir.layout);
        facts.caller = caller.clone();
        facts.dialed = dialed.clone();
        let now = rt.clock.elapsed_ms();
        Call {
            rt,
            program,
            chan,
            facts,
            summary: Summary::begun(id, caller, dialed, now),
            answered: false,
            menus: Vec::new(),
            offers: 0,
            whisper: None,
            record: false,
            steps: 0,
        }
    }

    pub(super) async fn run(mut self) -> Summary {
        let program = Arc::clone(&self.program);
        self.rt.events.publish(Event::CallArrived {
            call: self.summary.call,
            caller: self.summary.caller.clone(),
            dialed: self.summary.dialed.clone(),
            at_ms: self.summary.started_ms,
        });
        self.refresh();
        program.look_up(&mut self.facts, LookupKey::Caller, &[]);
        program.look_up(&mut self.facts, LookupKey::Dialed, &[]);
        let disposition = match program.entry(self.rt.engine, &self.facts) {
            None => {
                self.summary.path.push("no entry".into());
                self.chan.reject(checked::RejectReason::Unavailable).await;
                Disposition::Rejected
            }
            Some(e) => {
                let entry = &program.checked.entries[e];
                self.summary.path.push(format!("entry {}", entry.number));
                let mut next = Next::Actions(entry.actions.clone());
                loop {
                    self.steps += 1;
                    if self.steps > MAX_STEPS {
                        self.chan.hangup().await;
                        break Disposition::Failed;
                    }
                    next = match next {
                        Next::Actions(a) => self.actions(&a).await,
                        Next::Offer(m) => self.offer(m).await,
                        Next::Done(d) => break d,
                    };
                }
            }
        };
        self.summary.disposition = disposition;
        self.summary.ended_ms = self.rt.clock.elapsed_ms();
        self.rt
            .events
            .publish(Event::CallEnded(self.summary.clone()));
        self.summary
    }

    /// Local time and queue statistics as of now.
    fn refresh(&mut self) {
        self.facts
            .set_time(&self.program.checked.zones, self.rt.clock.now());
        let now = self.rt.clock.elapsed_ms();
        // Only statistics some decision reads.
        for &i in &self.program.queues_read {
            let q = QueueId(i as u32);
            self.facts.queues[i] =
                (self.rt.acd).stats(&self.program, q, &self.facts, now, self.rt.aht_ms);
        }
    }

    async fn answer(&mut self) -> bool {
        if !self.answered {
            self.answered = true;
            return self.chan.answer().await;
        }
        true
    }

    async fn actions(&mut self, actions: &checked::Actions) -> Next {
        let program = Arc::clone(&self.program);
        for action in &actions.list {
            let Action { kind, .. } = action;
            match kind {
                ActionKind::Play(p) => {
                    if !self.answer().await || !self.chan.play(p).await {
                        return Next::Done(Disposition::Abandoned);
                    }
                }
                ActionKind::Whisper(p) => self.whisper = Some(p.clone()),
                ActionKind::Record => self.record = true,
                ActionKind::SetTag(t) => self.summary.tags.push(t.clone()),
                ActionKind::Route(r) => {
                    self.refresh();
                    self.summary
                        .path
                        .push(format!("route {}", program.checked.route(*r).name));
                    return match program.route(self.rt.engine, *r, &self.facts) {
                        Some(i) => {
                            Next::Actions(program.checked.route(*r).rules[i].actions.clone())
                        }
                        None => {
                            self.chan.hangup().await;
                            Next::Done(Disposition::Failed)
                        }
                    };
                }
                ActionKind::Menu(m) => {
                    if self.menus.last() != Some(m) {
                        self.menus.push(*m);
                    }
                    self.offers = 0;
                    return Next::Offer(*m);
                }
                ActionKind::Repeat => {
                    return match self.menus.last() {
                        Some(&m) => Next::Offer(m),
                        None => Next::Done(self.hang_up().await),
                    };
                }
                ActionKind::Back => {
                    if self.menus.len() > 1 {
                        self.menus.pop();
                        self.offers = 0;
                    }
                    return match self.menus.last() {
                        Some(&m) => Next::Offer(m),
                        None => Next::Done(self.hang_up().await),
                    };
                }
                ActionKind::Queue { queue, priority } => {
                    return self.queue(*queue, *priority).await;
                }
                ActionKind::Group(g) => return self.group(program.checked.group(*g)).await,
                ActionKind::DialExtension { digits } => {
                    let request = Collect {
                        menu: self
                            .menus
                            .last()
                            .map_or_else(String::new, |m| program.checked.menu(*m).name.clone()),
                        prompt: None,
                        first_timeout_ms: 5_000,
                        digit_timeout_ms: 3_000,
                        max_digits: *digits as usize,
                        hash_ends: true,
                        keys: Vec::new(),
                    };
                    if !self.answer().await {
                        return Next::Done(Disposition::Abandoned);
                    }
                    return match self.chan.collect(&request).await {
                        Collected::HungUp => Next::Done(Disposition::Abandoned),
                        Collected::Keys(k) if k.len() == *digits as usize => {
                            self.extension(&k).await
                        }
                        _ => match self.menus.last() {
                            Some(&m) => self.failed(m, false),
                            None => Next::Done(self.hang_up().await),
                        },
                    };
                }
                ActionKind::Extension(ExtensionTarget::LastDigits(n)) => {
                    let dialed = self.facts.dialed.clone();
                    let tail = &dialed[dialed.len().saturating_sub(*n as usize)..];
                    return self.extension(tail).await;
                }
                ActionKind::Extension(ExtensionTarget::Number(x)) => {
                    return self.extension(x).await;
                }
                ActionKind::Transfer(n) => {
                    self.summary.path.push(format!("transfer {n}"));
                    let ok = self.chan.transfer(n).await;
                    return Next::Done(if ok {
                        Disposition::Transferred
                    } else {
                        Disposition::Failed
                    });
                }
                ActionKind::Voicemail(b) => {
                    self.summary.path.push(format!("voicemail {b}"));
                    if !self.answer().await {
                        return Next::Done(Disposition::Abandoned);
                    }
                    self.chan.voicemail(b).await;
                    return Next::Done(Disposition::Voicemail);
                }
                ActionKind::Reject(r) => {
                    self.summary.path.push(format!("reject {}", r.name()));
                    self.chan.reject(*r).await;
                    return Next::Done(Disposition::Rejected);
                }
                ActionKind::Hangup => return Next::Done(self.hang_up().await),
            }
        }
        Next::Done(self.hang_up().await)
    }

    async fn hang_up(&mut self) -> Disposition {
        self.summary.path.push("hangup".into());
        self.chan.hangup().await;
        Disposition::Rejected
    }

    /// Offers a menu and reads the caller's keys.
    async fn offer(&mut self, menu: MenuId) -> Next {
        let program = Arc::clone(&self.program);
        let m = program.checked.menu(menu);
        self.offers += 1;
        if self.offers > 1 + m.retries {
            return match &m.exhausted {
                Some(actions) => Next::Actions(actions.clone()),
                None => Next::Done(self.hang_up().await),
            };
        }
        self.summary.path.push(format!("menu {}", m.name));
        if !self.answer().await {
            return Next::Done(Disposition::Abandoned);
        }
        let longest = m.keys.iter().map(|k| k.key.len()).max().unwrap_or(1);
        let request = Collect {
            menu: m.name.clone(),
            prompt: m.prompt.clone(),
            first_timeout_ms: m.timeout_ms,
            digit_timeout_ms: m.digit_timeout_ms,
            max_digits: m.collect.as_ref().map_or(longest, |c| c.max as usize),
            hash_ends: m.collect.is_some(),
            keys: match m.collect {
                Some(_) => Vec::new(),
                None => m.keys.iter().map(|k| k.key.clone()).collect(),
            },
        };
        let keys = match self.chan.collect(&request).await {
            Collected::HungUp => return Next::Done(Disposition::Abandoned),
            Collected::Timeout => return self.failed(menu, true),
            Collected::Keys(k) => k,
        };
        self.rt.events.publish(Event::MenuInput {
            call: self.summary.call,
            menu: m.name.clone(),
            keys: keys.clone(),
            at_ms: self.rt.clock.elapsed_ms(),
        });
        self.facts.digits = keys.clone();
        program.look_up(&mut self.facts, LookupKey::Digits, &[]);
        if let Some(c) = &m.collect {
            let n = keys.len() as u32;
            if n >= c.min && n <= c.max && keys.bytes().all(|b| b.is_ascii_digit()) {
                return Next::Actions(c.actions.clone());
            }
            return self.failed(menu, false);
        }
        match program.menu(self.rt.engine, menu, &self.facts) {
            MenuInput::Key(i) => Next::Actions(m.keys[i].actions.clone()),
            MenuInput::Incomplete | MenuInput::Invalid => self.failed(menu, false),
        }
    }

    fn failed(&mut self, menu: MenuId, timeout: bool) -> Next {
        let m = self.program.checked.menu(menu);
        let handler = if timeout { &m.on_timeout } else { &m.invalid };
        match handler {
            Some(actions) => Next::Actions(actions.clone()),
            None => Next::Offer(menu),
        }
    }

    /// Waits in a queue: relaxation, overflow, announcements and offers.
    async fn queue(&mut self, q: QueueId, priority: u32) -> Next {
        let program = Arc::clone(&self.program);
        let queue = program.checked.queue(q);
        let fns = &program.ir.queues[q.index()];
        self.summary.path.push(format!("queue {}", queue.name));
        self.summary.queue = Some(queue.name.clone());
        if !self.answer().await {
            return Next::Done(Disposition::Abandoned);
        }
        let started = self.rt.clock.elapsed_ms();
        // With `no agents`, the caller leaves the line when the last agent
        // who could take the call logs out: the ACD says when agents leave
        // (watched from before the first look, so none leaves unseen), and
        // only then does the caller look again.
        let mut departures = queue.no_agents.as_ref().map(|_| self.rt.acd.departures());
        // The widest filter over all steps decides whether anyone could
        // ever take the call.
        let widest: Vec<Option<crate::ir::FuncId>> = std::iter::once(fns.require)
            .chain(fns.steps.iter().copied().filter(|s| s.is_some()))
            .collect();
        if let Some(actions) = &queue.no_agents
            && !self
                .rt
                .acd
                .anyone_could(&program, &widest, &self.facts, started)
        {
            self.summary.path.push("no agents".into());
            return Next::Actions(actions.clone());
        }
        // Only now is the caller in line (`no agents` turns them away first).
        self.rt.events.publish(Event::Queued {
            call: self.summary.call,
            queue: queue.name.clone(),
            priority,
            at_ms: started,
        });
        let mut require = fns.require;
        let mut step = 0;
        let mut place = None;
        let mut next_announcement = queue.announce_every_ms.map(|every| started + every);
        let mut passed_over: Vec<String> = Vec::new();
        loop {
            // Steps that fell due while an offer rang: relax before joining
            // the line again, or overflow instead.
            let now = self.rt.clock.elapsed_ms();
            while let Some(s) = queue
                .steps
                .get(step)
                .filter(|s| now >= started + s.after_ms)
            {
                match &s.kind {
                    StepKind::Relax(_) => require = fns.steps[step],
                    StepKind::Overflow(actions) => {
                        return self.leave(&queue.name, started, actions, Leave::Overflow);
                    }
                }
                step += 1;
            }
            let (tx, mut rx) = oneshot::channel::<Offer>();
            let seq = self.rt.acd.enqueue(
                Waiter {
                    call: self.summary.call,
                    since_ms: started,
                    queue_name: queue.name.clone(),
                    queue: q,
                    priority,
                    program: Arc::clone(&program),
                    facts: self.facts.clone(),
                    require,
                    offer: tx,
                    passed_over: passed_over.clone(),
                },
                place,
                now,
            );
            place = Some(seq);
            // Wait for an offer, the next step, the next announcement, or
            // the caller giving up.
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
                    offer = &mut rx => Wake::Offer(offer.ok()),
                    watching = departed(&mut departures) => Wake::Departed(watching),
                    held = self.chan.hold(queue.music.as_deref(), (until - now).max(0)) => Wake::Held(held),
                };
                match woke {
                    Wake::Offer(Some(offer)) => break offer,
                    Wake::Offer(None) => return Next::Done(self.abandoned(started)),
                    Wake::Held(false) => {
                        self.leave_queue(priority, seq, &mut rx);
                        return Next::Done(self.abandoned(started));
                    }
                    Wake::Held(true) => {}
                    Wake::Departed(true) => {
                        let now = self.rt.clock.elapsed_ms();
                        // Out of line only if no offer is on its way (an
                        // agent ringing for the call is logged in).
                        if let Some(actions) = &queue.no_agents
                            && !self
                                .rt
                                .acd
                                .anyone_could(&program, &widest, &self.facts, now)
                            && self.rt.acd.leave(priority, seq)
                        {
                            return self.leave(&queue.name, started, actions, Leave::NoAgents);
                        }
                    }
                    // The ACD is gone: nothing more to watch.
                    Wake::Departed(false) => departures = None,
                }
                let now = self.rt.clock.elapsed_ms();
                self.rt.acd.tick(now);
                if step_at.is_some_and(|t| now >= t) {
                    match &queue.steps[step].kind {
                        StepKind::Relax(_) => {
                            require = fns.steps[step];
                            step += 1;
                            self.rt.acd.relax(priority, seq, require, now);
                        }
                        StepKind::Overflow(actions) => {
                            if self.rt.acd.leave(priority, seq) {
                                return self.leave(&queue.name, started, actions, Leave::Overflow);
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
                                (self.rt.acd).stats(&program, q, &self.facts, now, self.rt.aht_ms)
                                    [4]
                                    / 60_000,
                            ),
                            Announcement::Prompt(p) => Announce::Prompt(p.clone()),
                        };
                        if !self.chan.announce(&what).await {
                            self.leave_queue(priority, seq, &mut rx);
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
            let rang = self.chan.ring(&offer.targets, ring).await;
            match rang {
                Rang::Answered(i) => {
                    let agent = offer.agents.get(i).unwrap_or(&offer.agents[0]).clone();
                    let answered_at = self.rt.clock.elapsed_ms();
                    self.rt.acd.answered(&offer, &agent, answered_at);
                    let target = offer.targets[i.min(offer.targets.len() - 1)].clone();
                    self.summary.wait_ms += answered_at - started;
                    self.summary.agent = target.agent.clone();
                    self.rt.events.publish(Event::Answered {
                        call: self.summary.call,
                        agent: target.agent.clone().unwrap_or_default(),
                        queue: Some(queue.name.clone()),
                        waited_ms: answered_at - started,
                        at_ms: answered_at,
                    });
                    let ended = self.talk(&target, answered_at).await;
                    let wrapup =
                        self.rt
                            .acd
                            .call_ended(&agent, ended - answered_at, queue.wrapup_ms, ended);
                    if let Some(wrapup) = wrapup {
                        self.rt.wrapup(agent, wrapup, queue.wrapup_ms);
                    }
                    return Next::Done(Disposition::Answered);
                }
                Rang::NoAnswer => {
                    self.rt.acd.not_answered(
                        &offer,
                        true,
                        queue.pause_after_misses,
                        self.rt.clock.elapsed_ms(),
                    );
                    passed_over.extend(offer.agents.iter().cloned());
                }
                Rang::HungUp => {
                    // Now, not when the ringing began: the agents have
                    // been idle only from here on.
                    self.rt
                        .acd
                        .not_answered(&offer, false, None, self.rt.clock.elapsed_ms());
                    return Next::Done(self.abandoned(started));
                }
            }
        }
    }

    /// Bridges the caller with whoever answered at `answered_at` (the
    /// whisper, if any, plays to them first) and counts the talk time.
    /// Returns when the conversation ended.
    async fn talk(&mut self, target: &Target, answered_at: i64) -> i64 {
        let whisper = self.whisper.take();
        self.chan
            .bridge(target, whisper.as_deref(), self.record)
            .await;
        let ended = self.rt.clock.elapsed_ms();
        self.summary.talk_ms += ended - answered_at;
        ended
    }

    /// Leaves a queue by an overflow step, or by `no agents` once every
    /// agent who could take the call has logged out (the caller is out of
    /// line), and runs the step's actions.
    fn leave(&mut self, queue: &str, started: i64, actions: &checked::Actions, why: Leave) -> Next {
        let (call, queue, at_ms) = (
            self.summary.call,
            queue.to_string(),
            self.rt.clock.elapsed_ms(),
        );
        self.summary.wait_ms += at_ms - started;
        let (event, step) = match why {
            Leave::Overflow => (Event::Overflowed { call, queue, at_ms }, "overflow"),
            Leave::NoAgents => (Event::NoAgents { call, queue, at_ms }, "no agents"),
        };
        self.rt.events.publish(event);
        self.summary.path.push(step.into());
        Next::Actions(actions.clone())
    }

    /// The caller hung up while waiting: takes them out of line or, when an
    /// offer is already on its way (it may have come while an announcement
    /// played), releases the agents it rings.
    fn leave_queue(&self, priority: u32, seq: u64, rx: &mut oneshot::Receiver<Offer>) {
        if !self.rt.acd.leave(priority, seq)
            && let Ok(offer) = rx.try_recv()
        {
            self.rt
                .acd
                .not_answered(&offer, false, None, self.rt.clock.elapsed_ms());
        }
    }

    fn abandoned(&mut self, since: i64) -> Disposition {
        let now = self.rt.clock.elapsed_ms();
        self.summary.wait_ms += now - since;
        self.rt.events.publish(Event::Abandoned {
            call: self.summary.call,
            queue: self.summary.queue.clone(),
            waited_ms: now - since,
            at_ms: now,
        });
        Disposition::Abandoned
    }

    /// Rings a hunt group.
    async fn group(&mut self, g: &checked::Group) -> Next {
        self.summary.path.push(format!("group {}", g.name));
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
            match self.ring_extensions(&round, g.timeout_ms).await {
                Rung::Talked => return Next::Done(Disposition::Answered),
                Rung::HungUp => return Next::Done(Disposition::Abandoned),
                Rung::NoAnswer => {}
            }
        }
        match &g.then {
            Some(actions) => Next::Actions(actions.clone()),
            None => Next::Done(self.hang_up().await),
        }
    }

    async fn extension(&mut self, number: &str) -> Next {
        self.summary.path.push(format!("extension {number}"));
        match self
            .ring_extensions(&[number.to_string()], EXTENSION_RING_MS)
            .await
        {
            Rung::Talked => Next::Done(Disposition::Answered),
            Rung::HungUp => Next::Done(Disposition::Abandoned),
            Rung::NoAnswer => Next::Done(self.hang_up().await),
        }
    }

    /// Rings extensions at once (agents who are available, and extensions
    /// outside the roster); talks with whoever answers.
    async fn ring_extensions(&mut self, extensions: &[String], timeout_ms: i64) -> Rung {
        let now = self.rt.clock.elapsed_ms();
        let offer = self.rt.acd.reserve(extensions, now);
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
        match self.chan.ring(&targets, Ring::for_ms(timeout_ms)).await {
            Rang::Answered(i) => {
                let answered_at = self.rt.clock.elapsed_ms();
                let owner = owners.get(i).cloned().flatten();
                match &owner {
                    Some(a) => self.rt.acd.answered(&offer, a, answered_at),
                    None => self.rt.acd.not_answered(&offer, false, None, answered_at),
                }
                let target = targets[i.min(targets.len() - 1)].clone();
                let who = target
                    .agent
                    .clone()
                    .unwrap_or_else(|| target.extension.clone());
                self.rt.events.publish(Event::Answered {
                    call: self.summary.call,
                    agent: who.clone(),
                    queue: None,
                    waited_ms: answered_at - rang_at,
                    at_ms: answered_at,
                });
                self.summary.agent = Some(who);
                let ended = self.talk(&target, answered_at).await;
                if let Some(a) = owner {
                    self.rt.acd.call_ended(&a, ended - answered_at, 0, ended);
                }
                Rung::Talked
            }
            Rang::NoAnswer => {
                self.rt
                    .acd
                    .not_answered(&offer, true, None, self.rt.clock.elapsed_ms());
                Rung::NoAnswer
            }
            Rang::HungUp => {
                let now = self.rt.clock.elapsed_ms();
                self.rt.acd.not_answered(&offer, false, None, now);
                self.rt.events.publish(Event::Abandoned {
                    call: self.summary.call,
                    queue: None,
                    waited_ms: now - rang_at,
                    at_ms: now,
                });
                Rung::HungUp
            }
        }
    }
}

/// Why a caller leaves a queue before an agent answers, with the queue's
/// actions for it.
enum Leave {
    Overflow,
    NoAgents,
}

enum Wake {
    Offer(Option<Offer>),
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
