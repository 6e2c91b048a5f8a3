//! What happens next in a call: one synchronous state machine over a
//! program's entries, routes, menus and actions. The call runtime drives
//! it for real and simulated calls, and the walk behind `dialect test` and
//! `dialect explain` drives it on a virtual clock, so the two follow a
//! call the same way and cannot disagree about where it goes.
//!
//! The machine asks its driver to do things (play a prompt, collect keys,
//! put the caller in a queue, ring, hand the call on) as [`Effect`]s, and
//! goes on from what the driver reports. Before each decision that reads
//! them (the entry, a route's rules) it asks the driver to bring the call's
//! facts up to date, so a decision sees the local time and the queue
//! statistics as they are when it is made: after a menu's timeout, a route
//! that checks opening hours sees the later time.
//!
//! **Invariant:** no I/O and no clock here; time and statistics come in
//! through the driver's refresh, which runs before the decisions that
//! read them (the entry and each route; a menu's keys read only digits).

pub mod collect;
pub mod walk;

use std::borrow::Cow;

use crate::checked::{
    self, Action, ActionKind, ExtensionTarget, GroupId, LookupKey, MenuId, Press, QueueId,
    RejectReason, RouteId,
};
use crate::facts::Facts;
use crate::lookup::LookupTables;
use crate::program::{Engine, MenuInput, Program};

pub use collect::{Collect, Collected};

/// The most steps a call takes without the caller hearing a prompt or
/// pressing a key: route decisions, menu offers, and queues and hunt
/// groups that hand the call on. Routes cannot loop (D3011) and a chain of
/// routes is at most [`MAX_ROUTE_CHAIN`] long (D3028), so only queues and
/// groups handing a call to each other with nobody to take it reach this;
/// such a call ends as failed.
pub const MAX_STEPS: usize = 2_000;

/// The longest chain of routes leading to each other that a script may
/// have (D3028): half of [`MAX_STEPS`], which leaves room for the menus,
/// queues and groups along the way.
pub const MAX_ROUTE_CHAIN: usize = MAX_STEPS / 2;

/// Something the driver must do for the call.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect<'p> {
    /// Play a prompt, then call [`Flow::played`].
    Play(&'p str),
    /// Collect keys, then call [`Flow::collected`] (unless the caller hung
    /// up).
    Collect(Collect),
    /// Put the caller in a queue. If the call leaves it unanswered by an
    /// overflow step or `no agents`, go on with [`Flow::then`].
    Queue {
        queue: QueueId,
        priority: u32,
    },
    /// Ring a hunt group; if nobody answers, go on with its `then` through
    /// [`Flow::then`], or end the call when it has none.
    Group(GroupId),
    /// Ring an extension.
    Extension(String),
    Transfer(&'p str),
    Voicemail(&'p str),
    Reject(RejectReason),
    /// The script ends the call: `hangup`, a menu out of tries, `repeat`
    /// or `back` with no menu to go to.
    Hangup,
    /// The call cannot go on: see [`End`].
    Stop(End),
}

/// One step of a call's path.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// The entry (index into `checked.entries`) that answered.
    Entry(usize),
    /// A route was evaluated: the rule that fired (earlier rules were false).
    Route {
        route: RouteId,
        fired: Option<usize>,
    },
    /// A menu was offered (the count starts at 1).
    Offer { menu: MenuId, offer: u32 },
    /// What the caller entered in a menu (or at an extension prompt in
    /// one), as collected, and what it meant.
    Input {
        menu: MenuId,
        press: Press,
        meaning: Meaning,
    },
    /// An action performed (with the extension it rang, if any).
    Action(Performed),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Meaning {
    Key(usize),
    Collected,
    Invalid,
    Timeout,
}

/// An action the call performed.
#[derive(Clone, Debug, PartialEq)]
pub struct Performed {
    pub action: Action,
    /// For `dial extension` and `extension`: the extension rung.
    pub extension: Option<String>,
}

/// Where a call's path ended.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum End {
    /// The last performed action hands the call on.
    Action,
    /// Offered a menu, with no key presses left (the walk only).
    WaitingInMenu(MenuId),
    /// `dial extension` with no key presses left (the walk only).
    WaitingForExtension,
    /// No entry answers the dialed number.
    #[default]
    NoEntry,
    /// A route where no rule fired (only possible in scripts with errors).
    NoRule(RouteId),
    /// A menu offered `1 + retries` times with no fallback: hung up.
    Exhausted(MenuId),
    /// More than [`MAX_STEPS`] steps without the caller hearing or
    /// pressing anything.
    TooLong,
}

/// A call's path: the steps and where it ended.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Path {
    pub steps: Vec<Step>,
    pub end: End,
    /// When each step happened, in milliseconds since the call arrived
    /// (one per step; kept by the walk, empty in the runtime's record).
    pub times: Vec<i64>,
}

impl Path {
    /// Every action performed, in order; the last is where the call went.
    pub fn actions(&self) -> impl DoubleEndedIterator<Item = &Performed> {
        self.steps.iter().filter_map(|s| match s {
            Step::Action(p) => Some(p),
            _ => None,
        })
    }
}

/// Brings a call's facts up to date before a decision (local time, queue
/// statistics).
pub type Refresh<'r> = dyn FnMut(&mut Facts) + 'r;

/// One call's way through a program.
pub struct Flow<'p> {
    program: &'p Program,
    /// The rows the call's lookups read: the tables it started with.
    tables: &'p LookupTables,
    engine: Engine,
    facts: Facts,
    /// Lookups whose rows are given (a test's `given` lines): never
    /// looked up.
    fixed: Vec<bool>,
    /// Menus on the way here, for `back`; offers of the current one.
    menus: Vec<MenuId>,
    offers: u32,
    /// Steps since the caller last heard a prompt or pressed a key.
    quiet: usize,
    state: State<'p>,
    path: Path,
    /// `whisper`, `record` and `set tag` so far: borrowed from the
    /// program, or owned when they came from the version a call moved
    /// from ([`Flow::resume`]).
    pub whisper: Option<Cow<'p, str>>,
    pub record: bool,
    pub tags: Vec<Cow<'p, str>>,
}

/// What a call takes along when it moves to another version of the
/// program while it waits in a queue (see `docs/decisions.md`): its way so
/// far, its menus by name, and what it carries to whoever answers. Owned,
/// so that the old program can go.
pub struct Carried {
    menus: Vec<String>,
    offers: u32,
    quiet: usize,
    path: Path,
    whisper: Option<String>,
    record: bool,
    tags: Vec<String>,
}

/// A call's facts carried over to another program: the same caller,
/// dialed number and digits, the switches as `switches` gives them for
/// that program, the local time in its zones at `now`, and the rows of
/// its lookups read again from `tables` (which must fit it). Queue
/// statistics are left for the next refresh.
pub fn carry_facts(
    facts: &Facts,
    program: &Program,
    tables: &LookupTables,
    switches: &[String],
    now: jiff::Timestamp,
) -> Facts {
    let mut carried = Facts::new(&program.ir().layout);
    carried.set_time(&program.checked().zones, now);
    carried.caller.clone_from(&facts.caller);
    carried.dialed.clone_from(&facts.dialed);
    carried.digits.clone_from(&facts.digits);
    carried.set_switches(program.checked(), switches);
    tables.look_up(&mut carried, LookupKey::Caller, &[]);
    tables.look_up(&mut carried, LookupKey::Dialed, &[]);
    // Digits were looked up only once the caller entered some.
    if !carried.digits.is_empty() {
        tables.look_up(&mut carried, LookupKey::Digits, &[]);
    }
    carried
}

#[derive(Clone, Copy)]
enum State<'p> {
    /// Before the entry decision.
    Start,
    /// Running an action list from this action on.
    Run(&'p [Action]),
    /// Offering a menu.
    Offer(MenuId),
    /// A prompt plays; then the rest of the list.
    Playing(&'p [Action]),
    /// Keys are being collected for a menu.
    InMenu(MenuId),
    /// Digits are being collected for `dial extension`.
    Dialing(&'p Action, u32),
    /// The call was handed on (a queue, a group, a ring, a final action).
    Out,
}

/// What the machine does next while it runs.
enum Go<'p> {
    Continue,
    Emit(Effect<'p>),
}

impl<'p> Flow<'p> {
    /// A call with these facts (numbers set; time and statistics come from
    /// the refresh), reading rows from `tables`, which must fit `program`
    /// (`LookupTables::check`). `fixed` marks lookups whose rows are
    /// already in the facts.
    pub fn new(
        program: &'p Program,
        tables: &'p LookupTables,
        engine: Engine,
        facts: Facts,
        fixed: Vec<bool>,
    ) -> Flow<'p> {
        Flow {
            program,
            tables,
            engine,
            facts,
            fixed,
            menus: Vec::new(),
            offers: 0,
            quiet: 0,
            state: State::Start,
            path: Path::default(),
            whisper: None,
            record: false,
            tags: Vec::new(),
        }
    }

    /// What the call takes along to another version of the program; the
    /// flow must have handed the call on (to a queue).
    pub fn carry(self) -> Carried {
        let checked = self.program.checked();
        Carried {
            menus: (self.menus.iter())
                .map(|m| checked.menu(*m).name.clone())
                .collect(),
            offers: self.offers,
            quiet: self.quiet,
            path: self.path,
            whisper: self.whisper.map(Cow::into_owned),
            record: self.record,
            tags: self.tags.into_iter().map(Cow::into_owned).collect(),
        }
    }

    /// A call that moved to `program` while a queue held it goes on there,
    /// handed on as it was, with `facts` ([`carry_facts`]). Its menus are
    /// those of the same names in `program` (`back` and `repeat` return to
    /// them), its path goes on from the old one (whose steps point into
    /// the old program), and no lookup is fixed.
    pub fn resume(
        program: &'p Program,
        tables: &'p LookupTables,
        engine: Engine,
        facts: Facts,
        carried: Carried,
    ) -> Flow<'p> {
        let checked = program.checked();
        let menus = (carried.menus.iter())
            .filter_map(|name| checked.menus.iter().position(|m| m.name == *name))
            .map(|i| MenuId(i as u32))
            .collect();
        Flow {
            menus,
            offers: carried.offers,
            quiet: carried.quiet,
            state: State::Out,
            path: carried.path,
            whisper: carried.whisper.map(Cow::Owned),
            record: carried.record,
            tags: carried.tags.into_iter().map(Cow::Owned).collect(),
            ..Flow::new(program, tables, engine, facts, Vec::new())
        }
    }

    /// The call's facts as of the last decision.
    pub fn facts(&self) -> &Facts {
        &self.facts
    }

    /// The path so far.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn into_path(self) -> Path {
        self.path
    }

    /// The menu whose keys are being collected (not digits for `dial
    /// extension`).
    pub fn collecting_for(&self) -> Option<MenuId> {
        match self.state {
            State::InMenu(m) => Some(m),
            _ => None,
        }
    }

    /// Starts the call: the entry decision and what follows.
    pub fn start(&mut self, refresh: &mut Refresh) -> Effect<'p> {
        self.advance(refresh)
    }

    /// The prompt asked for finished playing.
    pub fn played(&mut self, refresh: &mut Refresh) -> Effect<'p> {
        if let State::Playing(rest) = self.state {
            self.quiet = 0;
            self.state = State::Run(rest);
        }
        self.advance(refresh)
    }

    /// The keys collected (not [`Collected::HungUp`]: a call whose caller
    /// hung up is over).
    pub fn collected(&mut self, got: Collected, refresh: &mut Refresh) -> Effect<'p> {
        self.quiet = 0;
        let go = match self.state {
            State::InMenu(menu) => self.menu_input(menu, got),
            State::Dialing(action, digits) => self.dialed(action, digits, got),
            _ => Go::Continue,
        };
        match go {
            Go::Emit(effect) => effect,
            Go::Continue => self.advance(refresh),
        }
    }

    /// The driver has no more keys to give (the walk ran out of presses):
    /// the call waits where it is, and this says where.
    pub fn stop_waiting(&mut self) -> End {
        let end = match self.state {
            State::InMenu(m) => End::WaitingInMenu(m),
            State::Dialing(action, _) => {
                self.perform(action, None);
                End::WaitingForExtension
            }
            _ => self.path.end.clone(),
        };
        self.state = State::Out;
        self.path.end = end.clone();
        end
    }

    /// A queue or hunt group handed the call on to these actions (an
    /// overflow step, `no agents`, a group's `then`).
    pub fn then(&mut self, actions: &'p checked::Actions, refresh: &mut Refresh) -> Effect<'p> {
        self.state = State::Run(&actions.list);
        self.advance(refresh)
    }

    /// Runs until the driver must do something.
    fn advance(&mut self, refresh: &mut Refresh) -> Effect<'p> {
        loop {
            if self.quiet > MAX_STEPS {
                self.state = State::Out;
                self.path.end = End::TooLong;
                return Effect::Stop(End::TooLong);
            }
            let go = match self.state {
                State::Start => self.entry(refresh),
                State::Run(list) => self.run(list, refresh),
                State::Offer(menu) => self.offer(menu),
                State::Playing(_) | State::InMenu(_) | State::Dialing(..) | State::Out => {
                    // Waiting for the driver; nothing to do.
                    return Effect::Stop(self.path.end.clone());
                }
            };
            if let Go::Emit(effect) = go {
                return effect;
            }
        }
    }

    fn stop(&mut self, end: End) -> Go<'p> {
        self.state = State::Out;
        self.path.end = end.clone();
        Go::Emit(Effect::Stop(end))
    }

    /// Hands the call on with a terminal effect.
    fn out(&mut self, effect: Effect<'p>) -> Go<'p> {
        self.state = State::Out;
        self.path.end = End::Action;
        Go::Emit(effect)
    }

    fn perform(&mut self, action: &Action, extension: Option<String>) {
        self.path.steps.push(Step::Action(Performed {
            action: action.clone(),
            extension,
        }));
    }

    fn entry(&mut self, refresh: &mut Refresh) -> Go<'p> {
        let program = self.program;
        // Rows first: queue statistics are counted for this caller.
        self.tables
            .look_up(&mut self.facts, LookupKey::Caller, &self.fixed);
        self.tables
            .look_up(&mut self.facts, LookupKey::Dialed, &self.fixed);
        refresh(&mut self.facts);
        let Some(entry) = program.entry(self.engine, &self.facts) else {
            return self.stop(End::NoEntry);
        };
        self.path.steps.push(Step::Entry(entry));
        self.state = State::Run(&program.checked().entries[entry].actions.list);
        Go::Continue
    }

    /// Runs an action list up to its first action that needs the driver.
    fn run(&mut self, list: &'p [Action], refresh: &mut Refresh) -> Go<'p> {
        let program = self.program;
        let Some((action, rest)) = list.split_first() else {
            // The checker guarantees a terminal action; a list without one
            // ends the call.
            return self.out(Effect::Hangup);
        };
        match &action.kind {
            ActionKind::Play(p) => {
                self.perform(action, None);
                self.state = State::Playing(rest);
                Go::Emit(Effect::Play(p))
            }
            // What the call carries to whoever answers, or to its record.
            ActionKind::Whisper(_) | ActionKind::Record | ActionKind::SetTag(_) => {
                match &action.kind {
                    ActionKind::Whisper(p) => self.whisper = Some(Cow::Borrowed(p)),
                    ActionKind::SetTag(t) => self.tags.push(Cow::Borrowed(t)),
                    _ => self.record = true,
                }
                self.perform(action, None);
                self.state = State::Run(rest);
                Go::Continue
            }
            ActionKind::Route(r) => {
                self.perform(action, None);
                self.quiet += 1;
                refresh(&mut self.facts);
                let fired = program.route(self.engine, *r, &self.facts);
                self.path.steps.push(Step::Route { route: *r, fired });
                match fired {
                    Some(i) => {
                        self.state = State::Run(&program.checked().route(*r).rules[i].actions.list);
                        Go::Continue
                    }
                    None => self.stop(End::NoRule(*r)),
                }
            }
            ActionKind::Menu(m) => {
                self.perform(action, None);
                if self.menus.last() != Some(m) {
                    self.menus.push(*m);
                }
                self.offers = 0;
                self.state = State::Offer(*m);
                Go::Continue
            }
            ActionKind::Repeat => {
                self.perform(action, None);
                self.offer_again()
            }
            ActionKind::Back => {
                self.perform(action, None);
                if self.menus.len() > 1 {
                    self.menus.pop();
                    self.offers = 0;
                }
                self.offer_again()
            }
            ActionKind::DialExtension { digits } => {
                self.state = State::Dialing(action, *digits);
                let menu = self
                    .menus
                    .last()
                    .map(|m| program.checked().menu(*m).name.clone());
                Go::Emit(Effect::Collect(Collect {
                    menu: menu.unwrap_or_default(),
                    prompt: None,
                    first_timeout_ms: collect::EXTENSION_FIRST_TIMEOUT_MS,
                    digit_timeout_ms: collect::EXTENSION_DIGIT_TIMEOUT_MS,
                    max_digits: *digits as usize,
                    hash_ends: true,
                    keys: Vec::new(),
                }))
            }
            ActionKind::Extension(target) => {
                let number = match target {
                    ExtensionTarget::LastDigits(n) => {
                        let dialed = &self.facts.dialed;
                        dialed[dialed.len().saturating_sub(*n as usize)..].to_string()
                    }
                    ExtensionTarget::Number(x) => x.clone(),
                };
                self.perform(action, Some(number.clone()));
                self.out(Effect::Extension(number))
            }
            ActionKind::Queue { queue, priority } => {
                self.perform(action, None);
                self.quiet += 1;
                self.out(Effect::Queue {
                    queue: *queue,
                    priority: *priority,
                })
            }
            ActionKind::Group(g) => {
                self.perform(action, None);
                self.quiet += 1;
                self.out(Effect::Group(*g))
            }
            ActionKind::Transfer(n) => {
                self.perform(action, None);
                self.out(Effect::Transfer(n))
            }
            ActionKind::Voicemail(b) => {
                self.perform(action, None);
                self.out(Effect::Voicemail(b))
            }
            ActionKind::Reject(r) => {
                self.perform(action, None);
                self.out(Effect::Reject(*r))
            }
            ActionKind::Hangup => {
                self.perform(action, None);
                self.out(Effect::Hangup)
            }
        }
    }

    /// `repeat` and `back`: the current menu again, or hang up outside menus.
    fn offer_again(&mut self) -> Go<'p> {
        match self.menus.last() {
            Some(&m) => {
                self.state = State::Offer(m);
                Go::Continue
            }
            None => self.out(Effect::Hangup),
        }
    }

    /// Offers a menu: asks for the caller's keys, or runs the menu's
    /// fallback once its tries are used up.
    fn offer(&mut self, menu: MenuId) -> Go<'p> {
        let m = self.program.checked().menu(menu);
        self.offers += 1;
        self.quiet += 1;
        if self.offers > 1 + m.retries {
            return match &m.exhausted {
                Some(actions) => {
                    self.state = State::Run(&actions.list);
                    Go::Continue
                }
                None => {
                    self.state = State::Out;
                    self.path.end = End::Exhausted(menu);
                    Go::Emit(Effect::Hangup)
                }
            };
        }
        self.path.steps.push(Step::Offer {
            menu,
            offer: self.offers,
        });
        self.state = State::InMenu(menu);
        let longest = m.keys.iter().map(|k| k.key.len()).max().unwrap_or(1);
        Go::Emit(Effect::Collect(Collect {
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
        }))
    }

    /// What the keys entered in a menu mean, and where the call goes.
    fn menu_input(&mut self, menu: MenuId, got: Collected) -> Go<'p> {
        let program = self.program;
        let m = program.checked().menu(menu);
        let keys = match got {
            Collected::Keys(k) => k,
            Collected::Timeout | Collected::HungUp => {
                self.path.steps.push(Step::Input {
                    menu,
                    press: Press::Timeout,
                    meaning: Meaning::Timeout,
                });
                self.failed(menu, Meaning::Timeout);
                return Go::Continue;
            }
        };
        self.facts.digits = keys.clone();
        self.tables
            .look_up(&mut self.facts, LookupKey::Digits, &self.fixed);
        // What the entry means, and the actions it leads to.
        let chosen = match &m.collect {
            Some(c) => is_number(&keys, c.min, c.max).then_some((Meaning::Collected, &c.actions)),
            // A menu's keys read only the digits: nothing to refresh.
            None => match program.menu(self.engine, menu, &self.facts) {
                MenuInput::Key(i) => Some((Meaning::Key(i), &m.keys[i].actions)),
                MenuInput::Incomplete | MenuInput::Invalid => None,
            },
        };
        let meaning = chosen
            .as_ref()
            .map_or(Meaning::Invalid, |(meaning, _)| meaning.clone());
        self.path.steps.push(Step::Input {
            menu,
            press: Press::Keys(keys),
            meaning,
        });
        match chosen {
            Some((_, actions)) => self.state = State::Run(&actions.list),
            None => self.failed(menu, Meaning::Invalid),
        }
        Go::Continue
    }

    /// The digits entered at `dial extension`: the extension rings, or the
    /// menu's invalid handler runs (outside menus, the call ends).
    fn dialed(&mut self, action: &'p Action, digits: u32, got: Collected) -> Go<'p> {
        if let Collected::Keys(k) = &got
            && is_number(k, digits, digits)
        {
            self.perform(action, Some(k.clone()));
            return self.out(Effect::Extension(k.clone()));
        }
        self.perform(action, None);
        match self.menus.last().copied() {
            Some(menu) => {
                let press = match got {
                    Collected::Keys(k) => Press::Keys(k),
                    Collected::Timeout | Collected::HungUp => Press::Timeout,
                };
                self.path.steps.push(Step::Input {
                    menu,
                    press,
                    meaning: Meaning::Invalid,
                });
                self.failed(menu, Meaning::Invalid);
                Go::Continue
            }
            None => self.out(Effect::Hangup),
        }
    }

    /// An invalid entry or silence: the handler, or the menu again without
    /// one.
    fn failed(&mut self, menu: MenuId, meaning: Meaning) {
        let m = self.program.checked().menu(menu);
        let handler = if meaning == Meaning::Timeout {
            &m.on_timeout
        } else {
            &m.invalid
        };
        self.state = match handler {
            Some(actions) => State::Run(&actions.list),
            None => State::Offer(menu),
        };
    }
}

/// Whether an entry is a number of `min` to `max` digits (what `collect`
/// and `dial extension` accept).
fn is_number(keys: &str, min: u32, max: u32) -> bool {
    let n = keys.len() as u32;
    n >= min && n <= max && keys.bytes().all(|b| b.is_ascii_digit())
}
