//! The traffic model a simulation plays: when the day starts and how long it
//! runs, Poisson arrivals per dialed number with a time-of-day profile,
//! talk-time and patience distributions, what callers press at each menu,
//! and agent shifts. Read from `traffic.toml` and checked against the
//! script and the roster before anything runs.
//!
//! ```toml
//! start = "2026-11-23 08:00"     # local time in the script's first zone
//! length = "8h"                  # at most 31 days ("7d" for a week)
//! interval = "30m"               # reporting interval
//! service_level = "20s"          # answered within this counts as in service
//! answer_after = "3s"            # agents pick up after ringing this long
//!
//! [[calls]]
//! to = "+18005550100"
//! from = ["+15125550101"]        # picked at random; none means withheld
//! per_hour = 120
//! profile = { "08:00" = 0.6, "10:00" = 1.2, "13:00" = 0.9 }
//! talk = { distribution = "lognormal", mean = "4m", sd = "2m" }
//! patience = { distribution = "exponential", mean = "3m" }
//! think = { distribution = "lognormal", mean = "1s", sd = "500ms" }
//! digit_gap = { distribution = "exponential", mean = "600ms" }
//! keys.main = { "1" = 0.7, "2" = 0.2, timeout = 0.05 }
//!
//! [[shifts]]
//! agents = ["ana", "bob"]
//! from = "08:00"
//! to = "12:00"
//! ```

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use jiff::civil::{DateTime, Time};
use serde::Deserialize;

use crate::checked;
use crate::facts::Facts;
use crate::program::{Engine, Program};
use crate::runtime::Roster;
use crate::sim::caller::{Keying, MenuKeys};
use crate::sim::distribution::{DAY_MS, Distribution, Dur};

/// The longest mean think time or gap between keys a traffic file may give.
const MAX_KEY_MS: i64 = 60_000;

/// A checked traffic model, in milliseconds from the start of the run.
#[derive(Clone, Debug)]
pub struct Traffic {
    /// Local start time, in the script's first zone.
    pub start: DateTime,
    pub start_instant: jiff::Timestamp,
    pub length_ms: i64,
    pub interval_ms: i64,
    pub service_level_ms: i64,
    pub answer_ms: i64,
    pub streams: Vec<Stream>,
    /// Per agent id: (login, logout) times. Agents not named in any shift
    /// work the whole run.
    pub shifts: HashMap<String, Vec<(i64, i64)>>,
}

/// Calls to one number.
#[derive(Clone, Debug)]
pub struct Stream {
    pub to: String,
    pub from: Vec<String>,
    pub per_hour: f64,
    /// Time of day (ms since local midnight) → rate factor, in order.
    pub profile: Vec<(i64, f64)>,
    pub talk: Distribution,
    pub patience: Option<Distribution>,
    /// How fast callers press keys.
    pub keying: Keying,
    pub keys: Arc<MenuKeys>,
}

impl Stream {
    /// The rate factor at a local time of day (ms since midnight): the
    /// factor of the latest profile point at or before it, and the first
    /// point's before that. 1 without a profile.
    pub fn factor(&self, time_of_day_ms: i64) -> f64 {
        let Some(first) = self.profile.first() else {
            return 1.0;
        };
        self.profile
            .iter()
            .rev()
            .find(|(t, _)| *t <= time_of_day_ms)
            .unwrap_or(first)
            .1
    }

    /// The highest rate factor, for thinning arrivals.
    pub fn max_factor(&self) -> f64 {
        if self.profile.is_empty() {
            return 1.0;
        }
        self.profile.iter().map(|p| p.1).fold(0.0, f64::max)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    start: String,
    #[serde(default = "default_length")]
    length: Dur,
    #[serde(default = "default_interval")]
    interval: Dur,
    #[serde(default = "default_service_level")]
    service_level: Dur,
    #[serde(default = "default_answer")]
    answer_after: Dur,
    #[serde(default)]
    calls: Vec<CallsFile>,
    #[serde(default)]
    shifts: Vec<ShiftFile>,
}

fn default_length() -> Dur {
    Dur(8 * 3_600_000)
}
fn default_interval() -> Dur {
    Dur(30 * 60_000)
}
fn default_service_level() -> Dur {
    Dur(20_000)
}
fn default_answer() -> Dur {
    Dur(3_000)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CallsFile {
    to: String,
    #[serde(default)]
    from: Vec<String>,
    per_hour: f64,
    #[serde(default)]
    profile: BTreeMap<String, f64>,
    talk: Distribution,
    #[serde(default)]
    patience: Option<Distribution>,
    #[serde(default)]
    think: Option<Distribution>,
    #[serde(default)]
    digit_gap: Option<Distribution>,
    #[serde(default)]
    keys: BTreeMap<String, BTreeMap<String, f64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ShiftFile {
    agents: Vec<String>,
    from: String,
    to: String,
}

/// A traffic file problem. Messages name the field and say what to write.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TrafficError {
    #[error("{0}")]
    Toml(String),
    #[error("{0}")]
    Invalid(String),
}

fn invalid<T>(message: String) -> Result<T, TrafficError> {
    Err(TrafficError::Invalid(message))
}

fn suggest<'a>(name: &str, known: impl Iterator<Item = &'a str>) -> String {
    crate::diagnostic::did_you_mean(name, known)
        .map(|k| format!(" (did you mean `{k}`?)"))
        .unwrap_or_default()
}

fn time_of_day(text: &str, what: &str) -> Result<i64, TrafficError> {
    let t: Time = text.trim().parse().map_err(|_| {
        TrafficError::Invalid(format!(
            "{what}: `{text}` is not a time of day such as \"08:30\""
        ))
    })?;
    Ok(ms_since_midnight(t))
}

fn ms_since_midnight(t: Time) -> i64 {
    i64::from(t.hour()) * 3_600_000 + i64::from(t.minute()) * 60_000 + i64::from(t.second()) * 1000
}

impl Traffic {
    /// Reads a traffic file and checks it against the program (numbers
    /// with an entry, menus that exist) and the roster (agents in shifts).
    pub fn parse(text: &str, program: &Program, roster: &Roster) -> Result<Traffic, TrafficError> {
        let file: File = toml::from_str(text).map_err(|e| TrafficError::Toml(e.to_string()))?;
        let zone = &program.checked().zones[0];
        let start: DateTime = file.start.trim().replace(' ', "T").parse().map_err(|_| {
            TrafficError::Invalid(format!(
                "start: `{}` is not a local time such as \"2026-11-23 08:00\"",
                file.start
            ))
        })?;
        if !(1900..=2999).contains(&start.year()) {
            return invalid(format!(
                "start: {} is out of range; a run starts between the years 1900 and 2999",
                file.start.trim()
            ));
        }
        let start_instant = zone
            .tz
            .to_ambiguous_zoned(start)
            .compatible()
            .map_err(|e| TrafficError::Invalid(format!("start: {e}")))?
            .timestamp();
        if file.length.0 <= 0 || file.length.0 > 31 * DAY_MS {
            return invalid("length: a run lasts more than nothing and at most 31 days".into());
        }
        if file.interval.0 < 60_000 {
            return invalid("interval: report intervals are at least a minute".into());
        }
        if file.calls.is_empty() {
            return invalid(
                "there are no [[calls]]: add at least one, with `to`, `per_hour` and `talk`".into(),
            );
        }
        let start_tod = ms_since_midnight(start.time());
        let mut streams = Vec::new();
        for (i, c) in file.calls.into_iter().enumerate() {
            let what = format!("calls[{}] (to {})", i + 1, c.to);
            streams.push(stream(c, &what, program)?);
        }
        let mut shifts: HashMap<String, Vec<(i64, i64)>> = HashMap::new();
        for (i, s) in file.shifts.iter().enumerate() {
            let what = format!("shifts[{}]", i + 1);
            let from = time_of_day(&s.from, &format!("{what}.from"))?;
            let mut to = time_of_day(&s.to, &format!("{what}.to"))?;
            if to <= from {
                to += DAY_MS; // The shift ends the next day.
            }
            if s.agents.is_empty() {
                return invalid(format!("{what}: `agents` names nobody"));
            }
            for a in &s.agents {
                if !roster.agents.iter().any(|r| &r.id == a) {
                    return invalid(format!(
                        "{what}: there is no agent `{a}` in the roster{}",
                        suggest(a, roster.agents.iter().map(|r| r.id.as_str()))
                    ));
                }
                // The shift on every day the run touches, from the day
                // before the start (a night shift still running).
                let days = (start_tod + file.length.0) / DAY_MS + 1;
                for day in -1..=days {
                    let login = day * DAY_MS + from - start_tod;
                    let logout = day * DAY_MS + to - start_tod;
                    if logout > 0 && login < file.length.0 {
                        shifts
                            .entry(a.clone())
                            .or_default()
                            .push((login.max(0), logout));
                    }
                }
            }
        }
        for spans in shifts.values_mut() {
            spans.sort_unstable();
        }
        Ok(Traffic {
            start,
            start_instant,
            length_ms: file.length.0,
            interval_ms: file.interval.0,
            service_level_ms: file.service_level.0,
            answer_ms: file.answer_after.0,
            streams,
            shifts,
        })
    }

    /// The local time of day (ms since midnight) at `t` ms into the run.
    pub fn time_of_day(&self, t: i64) -> i64 {
        (ms_since_midnight(self.start.time()) + t).rem_euclid(DAY_MS)
    }

    /// Expected number of calls, for progress bars.
    pub fn expected_calls(&self) -> f64 {
        let step = 60_000;
        let mut total = 0.0;
        let mut t = 0;
        while t < self.length_ms {
            let tod = self.time_of_day(t);
            total += self
                .streams
                .iter()
                .map(|s| s.per_hour * s.factor(tod) / 60.0)
                .sum::<f64>()
                * (step.min(self.length_ms - t) as f64 / step as f64);
            t += step;
        }
        total
    }
}

fn stream(c: CallsFile, what: &str, program: &Program) -> Result<Stream, TrafficError> {
    // Numbers are read as the runtime reads a call's: in the script's country.
    let country = program.checked().country;
    let to = crate::number::normalize_in(&c.to, country)
        .map_err(|e| TrafficError::Invalid(format!("{what}: `to` {e}")))?;
    let mut facts = Facts::new(&program.ir().layout);
    facts.dialed = to.clone();
    if program.entry(Engine::Interp, &facts).is_none() {
        let numbers: Vec<&str> = program
            .checked()
            .entries
            .iter()
            .map(|e| e.number.as_str())
            .collect();
        return invalid(format!(
            "{what}: no entry of the script answers {to}; entries: {}",
            numbers.join(", ")
        ));
    }
    let mut from = Vec::new();
    for f in &c.from {
        from.push(
            crate::number::normalize_in(f, country)
                .map_err(|e| TrafficError::Invalid(format!("{what}: `from` {f}: {e}")))?,
        );
    }
    if !(c.per_hour.is_finite() && c.per_hour > 0.0 && c.per_hour <= 1e6) {
        return invalid(format!(
            "{what}: per_hour is {}; it is a rate of calls, above 0 and at most 1,000,000",
            c.per_hour
        ));
    }
    let mut profile = Vec::new();
    for (time, factor) in &c.profile {
        let t = time_of_day(time, &format!("{what}.profile"))?;
        if !(factor.is_finite() && (0.0..=100.0).contains(factor)) {
            return invalid(format!(
                "{what}.profile: the factor at {time} is {factor}; factors are between 0 and 100"
            ));
        }
        profile.push((t, *factor));
    }
    profile.sort_by_key(|p| p.0);
    check_distribution(&c.talk, &format!("{what}.talk"))?;
    if let Some(p) = &c.patience {
        check_distribution(p, &format!("{what}.patience"))?;
    }
    let mut keying = Keying::default();
    for (given, field, slot) in [
        (&c.think, "think", &mut keying.think),
        (&c.digit_gap, "digit_gap", &mut keying.gap),
    ] {
        if let Some(d) = given {
            let what = format!("{what}.{field}");
            check_distribution(d, &what)?;
            if d.mean_ms() > MAX_KEY_MS {
                return invalid(format!(
                    "{what}: the mean is {} s; callers press keys seconds apart, at most {} s on average",
                    d.mean_ms() as f64 / 1000.0,
                    MAX_KEY_MS / 1000
                ));
            }
            *slot = *d;
        }
    }
    let mut keys = MenuKeys::new();
    for (menu, presses) in c.keys {
        if !program.checked().menus.iter().any(|m| m.name == menu) {
            return invalid(format!(
                "{what}.keys: there is no menu `{menu}`{}",
                suggest(
                    &menu,
                    program.checked().menus.iter().map(|m| m.name.as_str())
                )
            ));
        }
        let mut choices = Vec::new();
        for (key, p) in presses {
            if !(p.is_finite() && (0.0..=1.0).contains(&p)) {
                return invalid(format!(
                    "{what}.keys.{menu}: the probability of `{key}` is {p}; it is between 0 and 1"
                ));
            }
            let entry = if key == "timeout" {
                None
            } else if !key.is_empty()
                && key
                    .chars()
                    .all(|c| c.is_ascii_digit() || c == '*' || c == '#')
            {
                Some(key)
            } else {
                return invalid(format!(
                    "{what}.keys.{menu}: `{key}` is not a key entry (digits, `*`, `#`, or `timeout` for silence)"
                ));
            };
            choices.push((entry, p));
        }
        let sum: f64 = choices.iter().map(|c| c.1).sum();
        if sum > 1.0 + 1e-9 {
            return invalid(format!(
                "{what}.keys.{menu}: the probabilities add up to {sum:.3}; they may add up to at most 1 (the rest hang up)"
            ));
        }
        keys.insert(menu, choices);
    }
    Ok(Stream {
        to,
        from,
        per_hour: c.per_hour,
        profile,
        talk: c.talk,
        patience: c.patience,
        keying,
        keys: Arc::new(keys),
    })
}

fn check_distribution(d: &Distribution, what: &str) -> Result<(), TrafficError> {
    let ok = match *d {
        Distribution::Exponential { mean } => mean.0 > 0,
        Distribution::Lognormal { mean, sd } => mean.0 > 0 && sd.0 >= 0,
        Distribution::Fixed { .. } => true,
    };
    if ok {
        Ok(())
    } else {
        invalid(format!("{what}: the mean must be more than 0"))
    }
}

/// Menus of the program for which no stream of the traffic names keys:
/// callers who reach them stay silent there. For a note to the user.
pub fn silent_menus(traffic: &Traffic, program: &checked::Program) -> Vec<String> {
    program
        .menus
        .iter()
        .filter(|m| !traffic.streams.iter().any(|s| s.keys.contains_key(&m.name)))
        .map(|m| m.name.clone())
        .collect()
}
