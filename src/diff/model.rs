//! What `dialect diff` finds, as typed values: the calls that end
//! elsewhere, grouped, with where each version sends them and the rule
//! that decides it. Serialisable for `--format json` and the admin API.

use serde::Serialize;

use crate::source::Place;

/// The calls whose destination differs between two versions of a script.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Diff {
    /// The first day of the year of holidays compared, `YYYY-MM-DD`.
    pub from: String,
    /// The zone the times of [`Change::when`] are given in: the new
    /// version's own zone.
    pub zone: String,
    /// The week whose times stand for every week: `YYYY-MM-DD` of its
    /// Monday, the first from `from` with no date of either version's
    /// calendars.
    pub week: String,
    /// Entries compared (by number, across both versions).
    pub entries: usize,
    /// Calls compared: each is one set of inputs walked on both versions.
    pub calls: usize,
    pub changes: Vec<Change>,
    /// What the comparison could not cover exactly (a search cut short,
    /// a week with a holiday in it).
    pub notes: Vec<String>,
}

impl Diff {
    /// Whether some call ends elsewhere.
    pub fn changed(&self) -> bool {
        !self.changes.is_empty()
    }
}

/// A group of calls that the old version sent to one place and the new
/// version sends to another.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Change {
    /// The entry's number as the script writes it.
    pub entry: String,
    /// A number dialed to reach it (the entry itself when it is one
    /// number; for a pattern, one that no narrower entry answers).
    pub dialed: String,
    /// Which callers: `None` for every caller.
    pub caller: Option<String>,
    /// The keys pressed in the menus met, in order (`timeout` for none),
    /// as `dialect explain --press` takes them; the group holds calls with
    /// any of these sequences. One empty sequence when no key matters.
    pub presses: Vec<Vec<String>>,
    /// What the rules read about queues and lookup rows, when it matters.
    pub conditions: Vec<Condition>,
    pub when: When,
    pub before: Outcome,
    pub after: Outcome,
}

/// One thing a group of calls has in common.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Condition {
    /// `queue(support).waiting`, `known customer`, `customer.tier`.
    pub subject: String,
    /// `>= 21`, `true`, `== "gold"`.
    pub holds: String,
}

/// When the calls happen, in [`Diff::zone`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct When {
    /// At any time of the week, apart from the dates below.
    pub always: bool,
    /// Times of an ordinary week.
    pub weekly: Vec<WeeklyRange>,
    /// Times on particular dates (holidays) that differ from the week.
    pub dates: Vec<DateRange>,
    /// Dates (`YYYY-MM-DD`) on which some of the week's times above do not
    /// change this way (a holiday that closes anyway).
    pub except: Vec<String>,
}

/// Some days of the week, from one local time to another.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WeeklyRange {
    /// Monday is `mon`.
    pub days: Vec<String>,
    /// `HH:MM`
    pub from: String,
    /// `HH:MM`, `24:00` for the end of the day.
    pub to: String,
}

/// A date, from one local time to another.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DateRange {
    /// `YYYY-MM-DD`
    pub date: String,
    /// The calendar's label for the date, if it has one.
    pub label: Option<String>,
    pub from: String,
    pub to: String,
}

/// Where a version sends a group of calls.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Outcome {
    /// The action that hands the call on, as a script writes it (`queue
    /// support`, `voicemail "general"`), or what stops it (`no entry
    /// answers`, `menu main` for a call left waiting in a menu).
    pub ends: String,
    /// The decisions that sent the group's calls there (one for most
    /// groups).
    pub decided_by: Vec<Decision>,
}

/// The last decision on a call's way: a rule, a menu key, an entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Decision {
    /// `route inbound, rule 2`, `route inbound, otherwise`, `menu main,
    /// key 1`, `entry "+1 800 555 0100"`.
    pub what: String,
    /// Where it is written.
    pub place: Option<Place>,
}
