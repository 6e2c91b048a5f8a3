//! What a decision can read: the facts of a call (its numbers, the local
//! time in each zone, lookup rows, queue statistics) and of an agent.
//!
//! The host fills these in; both engines read them (the JIT through a
//! `#[repr(C)]` view built in `jit`). Times are computed here, before each
//! decision that reads them, with jiff in each zone the script uses, so decisions see wall-clock time
//! with daylight-saving changes applied.

use jiff::Timestamp;

use crate::checked::{AgentAttr, QueueStat, Value, Zone, easter_sunday, epoch_days};
use crate::ir::{Layout, TimeField};

/// Local time fields in one zone. The layout is shared with generated code.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LocalTime {
    pub week_minute: i64,
    pub day_minute: i64,
    pub weekday: i64,
    pub date: i64,
    pub month_day: i64,
    pub easter_day: i64,
}

impl LocalTime {
    /// The fields of an instant seen in a zone.
    pub fn at(ts: Timestamp, zone: &jiff::tz::TimeZone) -> LocalTime {
        let dt = zone.to_datetime(ts);
        let weekday = dt.weekday().to_monday_zero_offset() as i64;
        let day_minute = dt.hour() as i64 * 60 + dt.minute() as i64;
        LocalTime {
            week_minute: weekday * 1440 + day_minute,
            day_minute,
            weekday,
            date: epoch_days(dt.date()),
            month_day: dt.month() as i64 * 100 + dt.day() as i64,
            // Far from any Easter offset a script can name if jiff has no
            // Easter for the year (it has for every year it represents).
            easter_day: easter_sunday(dt.year())
                .map_or(i64::MIN / 2, |e| epoch_days(dt.date()) - epoch_days(e)),
        }
    }

    pub fn get(&self, field: TimeField) -> i64 {
        match field {
            TimeField::WeekMinute => self.week_minute,
            TimeField::DayMinute => self.day_minute,
            TimeField::Weekday => self.weekday,
            TimeField::Date => self.date,
            TimeField::MonthDay => self.month_day,
            TimeField::EasterDay => self.easter_day,
        }
    }
}

/// One field of a lookup row: integer-like values in `int`, text and phone
/// numbers in `text`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Slot {
    pub int: i64,
    pub text: String,
}

impl Slot {
    pub fn from_value(v: &Value) -> Slot {
        match v {
            Value::Text(s) | Value::Phone(s) => Slot {
                int: 0,
                text: s.clone(),
            },
            Value::Bool(b) => Slot::int(*b as i64),
            Value::Int(i) | Value::Duration(i) => Slot::int(*i),
            Value::Time(m) => Slot::int(*m as i64),
            Value::Weekday(w) => Slot::int(w.index() as i64),
            Value::Date(d) => Slot::int(epoch_days(*d)),
            Value::Enum(_, i) => Slot::int(*i as i64),
        }
    }

    pub fn int(i: i64) -> Slot {
        Slot {
            int: i,
            text: String::new(),
        }
    }
}

/// A lookup row: one slot per field, in declaration order.
pub type Row = Vec<Slot>;

/// The facts of a call.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Facts {
    pub caller: String,
    pub dialed: String,
    pub digits: String,
    /// Local time per zone of the program.
    pub time: Vec<LocalTime>,
    /// Per lookup: the row found, if any.
    pub lookups: Vec<Option<Row>>,
    /// Per queue: the statistics.
    pub queues: Vec<QueueStats>,
    /// Per switch: 1 when it is on for the call, else 0.
    pub switches: Vec<i64>,
}

impl Facts {
    /// Empty facts shaped for a program.
    pub fn new(layout: &Layout) -> Facts {
        Facts {
            caller: String::new(),
            dialed: String::new(),
            digits: String::new(),
            time: vec![LocalTime::default(); layout.zones],
            lookups: vec![None; layout.lookups.len()],
            queues: vec![QueueStats::default(); layout.queues],
            switches: vec![0; layout.switches],
        }
    }

    /// Whether the switch is on for the call.
    pub fn switch(&self, switch: usize) -> bool {
        self.switches.get(switch).is_some_and(|&v| v != 0)
    }

    /// Sets each of `program`'s switches: on when `on` names it, else off.
    pub fn set_switches(&mut self, program: &crate::checked::Program, on: &[String]) {
        for (v, s) in self.switches.iter_mut().zip(&program.switches) {
            *v = on.contains(&s.name) as i64;
        }
    }

    /// Sets the local time in every zone from one instant.
    pub fn set_time(&mut self, zones: &[Zone], ts: Timestamp) {
        self.time = zones.iter().map(|z| LocalTime::at(ts, &z.tz)).collect();
    }

    pub fn queue_stat(&self, queue: usize, stat: QueueStat) -> i64 {
        self.queues.get(queue).map_or(0, |q| q.get(stat))
    }
}

/// A queue's statistics as decisions read them (see `Acd::stats` for how
/// each is counted). The layout is shared with generated code, which reads
/// each field at its `offset_of!`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueueStats {
    /// Callers waiting in the queue.
    pub waiting: i64,
    /// The queue's agents who are available.
    pub available: i64,
    /// The queue's agents: logged in, in any state.
    pub agents: i64,
    /// How long the longest-waiting caller has waited, milliseconds.
    pub longest_wait_ms: i64,
    /// The expected wait of a caller who joins now, milliseconds.
    pub expected_wait_ms: i64,
}

impl QueueStats {
    pub fn get(&self, stat: QueueStat) -> i64 {
        match stat {
            QueueStat::Waiting => self.waiting,
            QueueStat::Available => self.available,
            QueueStat::Agents => self.agents,
            QueueStat::LongestWait => self.longest_wait_ms,
            QueueStat::ExpectedWait => self.expected_wait_ms,
        }
    }

    pub fn set(&mut self, stat: QueueStat, value: i64) {
        let field = match stat {
            QueueStat::Waiting => &mut self.waiting,
            QueueStat::Available => &mut self.available,
            QueueStat::Agents => &mut self.agents,
            QueueStat::LongestWait => &mut self.longest_wait_ms,
            QueueStat::ExpectedWait => &mut self.expected_wait_ms,
        };
        *field = value;
    }
}

/// What a queue decision can read about the agent being considered.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AgentFacts {
    /// Per skill: the level (levelled skills) or the bit set of values.
    pub skills: Vec<i64>,
    /// Indexed by [`attr_index`].
    pub attrs: [i64; 3],
}

/// The position of an attribute in [`AgentFacts::attrs`].
pub fn attr_index(attr: AgentAttr) -> usize {
    match attr {
        AgentAttr::IdleMinutes => 0,
        AgentAttr::CallsToday => 1,
        AgentAttr::TalkMinutes => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each statistic reads and writes its own field.
    #[test]
    fn queue_stats_get_what_was_set() {
        let mut stats = QueueStats::default();
        for (i, stat) in QueueStat::ALL.into_iter().enumerate() {
            stats.set(stat, 10 + i as i64);
        }
        assert_eq!(
            stats,
            QueueStats {
                waiting: 10,
                available: 11,
                agents: 12,
                longest_wait_ms: 13,
                expected_wait_ms: 14,
            }
        );
        for (i, stat) in QueueStat::ALL.into_iter().enumerate() {
            assert_eq!(stats.get(stat), 10 + i as i64, "{}", stat.name());
        }
    }
}
