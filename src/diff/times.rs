//! The times a diff tries: an ordinary week cut at every minute where some
//! hours, calendar or `now` comparison of either version changes, in each
//! zone, and each calendar date of either version in the year from
//! `--from`, cut the same way. Times that every hours and calendar test
//! (and every `now` field the rules read) sees alike form one class, and
//! one time of a class stands for all of it.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use jiff::Timestamp;
use jiff::civil::Date;

use super::inputs::Inputs;
use crate::checked::{self, DaySpan, WEEK};
use crate::facts::Facts;
use crate::program::{Engine, Program};

/// Days a diff looks ahead for calendar dates.
pub const YEAR_DAYS: i64 = 365;

/// Part of a day, from one local minute to another, in the diff's zone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    pub start: Timestamp,
    pub day: Day,
    pub from: u16,
    /// 1440 for the end of the day.
    pub to: u16,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Day {
    /// A day of the ordinary week, Monday 0.
    Week(usize),
    /// A calendar date.
    Date(Date),
}

/// The times tried, their classes and the dates among them.
#[derive(Clone, Debug)]
pub struct Times {
    pub segments: Vec<Segment>,
    /// Per class, its segments (the first stands for the others).
    pub classes: Vec<Vec<usize>>,
    /// The Monday of the week tried as the ordinary week.
    pub monday: Date,
    /// The calendar dates tried, with a label from a calendar.
    pub dates: BTreeMap<Date, Option<String>>,
    /// The zone the segments are described in.
    pub zone: String,
    pub notes: Vec<String>,
}

impl Times {
    pub fn of(old: &Program, new: &Program, inputs: &Inputs, from: Date, engine: Engine) -> Times {
        let mut zones: Vec<(String, jiff::tz::TimeZone)> = Vec::new();
        for p in [new, old] {
            for z in &p.checked().zones {
                if !zones.iter().any(|(n, _)| *n == z.name) {
                    zones.push((z.name.clone(), z.tz.clone()));
                }
            }
        }
        if zones.is_empty() {
            zones.push(("UTC".into(), jiff::tz::TimeZone::UTC));
        }
        let cuts = cuts(&[old.checked(), new.checked()], inputs, &zones);
        let end = add_days(from, YEAR_DAYS);
        let mut dates = calendar_dates(&[old.checked(), new.checked()], from, end);
        for d in &inputs.now_dates {
            if *d >= from && *d < end {
                dates.entry(*d).or_insert(None);
            }
        }
        let mut notes = Vec::new();
        let first_monday = add_days(
            from,
            (7 - from.weekday().to_monday_zero_offset() as i64) % 7,
        );
        let monday = (0..53)
            .map(|k| add_days(first_monday, 7 * k))
            .find(|m| (0..7).all(|i| !dates.contains_key(&add_days(*m, i))))
            .unwrap_or_else(|| {
                notes.push(format!(
                    "every week of the year has a calendar date; the week of {first_monday} stands for an ordinary week"
                ));
                first_monday
            });
        let mut segments = Vec::new();
        for i in 0..7 {
            day_segments(
                &zones,
                &cuts,
                add_days(monday, i),
                Day::Week(i as usize),
                &mut segments,
            );
        }
        for d in dates.keys() {
            day_segments(&zones, &cuts, *d, Day::Date(*d), &mut segments);
        }
        let mut by_signature: HashMap<Vec<i64>, usize> = HashMap::new();
        let mut classes: Vec<Vec<usize>> = Vec::new();
        for (i, s) in segments.iter().enumerate() {
            let sig = signature(old, new, inputs, s.start, engine);
            let class = *by_signature.entry(sig).or_insert_with(|| {
                classes.push(Vec::new());
                classes.len() - 1
            });
            classes[class].push(i);
        }
        Times {
            segments,
            classes,
            monday,
            dates,
            zone: zones[0].0.clone(),
            notes,
        }
    }

    /// The instant that stands for a class.
    pub fn instant(&self, class: usize) -> Timestamp {
        (self.classes.get(class))
            .and_then(|c| c.first())
            .and_then(|&s| self.segments.get(s))
            .map_or(Timestamp::UNIX_EPOCH, |s| s.start)
    }
}

/// Per zone (by index into the zones), the minutes of the day and of the
/// week where something changes.
struct Cuts {
    daily: Vec<BTreeSet<u16>>,
    weekly: Vec<BTreeSet<u32>>,
}

fn cuts(
    programs: &[&checked::Program],
    inputs: &Inputs,
    zones: &[(String, jiff::tz::TimeZone)],
) -> Cuts {
    let mut out = Cuts {
        daily: vec![BTreeSet::from([0]); zones.len()],
        weekly: vec![BTreeSet::new(); zones.len()],
    };
    let index = |name: &str| zones.iter().position(|(n, _)| n == name);
    for p in programs {
        for h in &p.hours {
            let Some(z) = index(&p.zone(h.zone).name) else {
                continue;
            };
            for &(a, b) in &h.open {
                out.weekly[z].insert(a % WEEK);
                out.weekly[z].insert(b % WEEK);
            }
        }
        for c in &p.calendars {
            let Some(z) = index(&p.zone(c.zone).name) else {
                continue;
            };
            for day in &c.days {
                if let Some((a, b)) = day.times {
                    out.daily[z].insert(a % 1440);
                    out.daily[z].insert(b % 1440);
                }
            }
        }
    }
    for (zone, minute) in &inputs.now_minutes {
        if let Some(z) = index(zone) {
            out.daily[z].insert(*minute % 1440);
        }
    }
    out
}

/// The segments of one local day of the first zone: cut at its midnight
/// and at every cut of every zone that falls within it.
fn day_segments(
    zones: &[(String, jiff::tz::TimeZone)],
    cuts: &Cuts,
    date: Date,
    day: Day,
    out: &mut Vec<Segment>,
) {
    let shown = &zones[0].1;
    let (Some(start), Some(end)) = (
        instant(shown, date, 0),
        instant(shown, add_days(date, 1), 0),
    ) else {
        return;
    };
    let mut instants: BTreeSet<Timestamp> = BTreeSet::from([start]);
    for (z, (_, tz)) in zones.iter().enumerate() {
        for offset in -1..=1 {
            let local = add_days(date, offset);
            let weekday = local.weekday().to_monday_zero_offset() as u32;
            let weekly = (cuts.weekly[z].iter())
                .filter(|w| *w / 1440 == weekday)
                .map(|w| (w % 1440) as u16);
            for minute in cuts.daily[z].iter().copied().chain(weekly) {
                if let Some(t) = instant(tz, local, minute)
                    && t >= start
                    && t < end
                {
                    instants.insert(t);
                }
            }
        }
    }
    let instants: Vec<Timestamp> = instants.into_iter().collect();
    for (i, &t) in instants.iter().enumerate() {
        let from = minute_of(shown, t);
        let to = match instants.get(i + 1) {
            Some(&next) => minute_of(shown, next).max(from),
            None => 1440,
        };
        out.push(Segment {
            start: t,
            day,
            from,
            to,
        });
    }
}

fn minute_of(tz: &jiff::tz::TimeZone, t: Timestamp) -> u16 {
    let dt = tz.to_datetime(t);
    dt.hour() as u16 * 60 + dt.minute() as u16
}

/// The instant of a local date and minute in a zone (a skipped time moves
/// forward, a repeated one is its first occurrence).
fn instant(tz: &jiff::tz::TimeZone, date: Date, minute: u16) -> Option<Timestamp> {
    let dt = if minute >= 1440 {
        add_days(date, 1).at(0, 0, 0, 0)
    } else {
        // In range: hours below 24, minutes below 60.
        date.at((minute / 60) as i8, (minute % 60) as i8, 0, 0)
    };
    tz.to_ambiguous_zoned(dt)
        .compatible()
        .ok()
        .map(|z| z.timestamp())
}

pub fn add_days(d: Date, n: i64) -> Date {
    d.checked_add(jiff::Span::new().days(n)).unwrap_or(d)
}

/// What every hours and calendar function of both versions says at an
/// instant, and the `now` fields the rules read.
fn signature(
    old: &Program,
    new: &Program,
    inputs: &Inputs,
    t: Timestamp,
    engine: Engine,
) -> Vec<i64> {
    let mut sig = Vec::new();
    for p in [old, new] {
        let mut facts = Facts::new(&p.ir().layout);
        facts.set_time(&p.checked().zones, t);
        for &f in p.ir().hours.iter().chain(&p.ir().calendars) {
            sig.push(p.decide(engine, f, &facts, None));
        }
        if let Some(local) = facts.time.first() {
            let fields = [local.day_minute, local.weekday, local.date];
            for (read, value) in inputs.reads_now.iter().zip(fields) {
                if *read {
                    sig.push(value);
                }
            }
        }
    }
    sig
}

/// Every date in `[from, end)` that a calendar of either version names,
/// with the first label given for it.
fn calendar_dates(
    programs: &[&checked::Program],
    from: Date,
    end: Date,
) -> BTreeMap<Date, Option<String>> {
    let mut out: BTreeMap<Date, Option<String>> = BTreeMap::new();
    let add = |d: Date, label: &Option<String>, out: &mut BTreeMap<Date, Option<String>>| {
        if d >= from && d < end {
            let slot = out.entry(d).or_insert(None);
            if slot.is_none() {
                slot.clone_from(label);
            }
        }
    };
    let range =
        |a: Date, b: Date, label: &Option<String>, out: &mut BTreeMap<Date, Option<String>>| {
            let mut d = a.max(from);
            let last = b.min(add_days(end, -1));
            while d <= last {
                add(d, label, out);
                match d.tomorrow() {
                    Ok(next) => d = next,
                    Err(_) => break,
                }
            }
        };
    let years = (from.year() - 1)..=end.year();
    for p in programs {
        for c in &p.calendars {
            for day in &c.days {
                match &day.days {
                    DaySpan::Dates { from: a, to: b } => range(*a, *b, &day.label, &mut out),
                    DaySpan::Yearly {
                        from: (m1, d1),
                        to: (m2, d2),
                    } => {
                        for y in years.clone() {
                            let Some(a) = month_day(y, *m1, *d1) else {
                                continue;
                            };
                            let wraps = (m2, d2) < (m1, d1);
                            let Some(b) = month_day(if wraps { y + 1 } else { y }, *m2, *d2) else {
                                continue;
                            };
                            range(a, b, &day.label, &mut out);
                        }
                    }
                    rule => {
                        for y in years.clone() {
                            for d in rule.rule_dates(y) {
                                add(d, &day.label, &mut out);
                            }
                        }
                    }
                }
            }
        }
    }
    out
}

/// A month-day of a year; 02-29 in a year without it is 02-28.
fn month_day(year: i16, month: u8, day: u8) -> Option<Date> {
    Date::new(year, month as i8, day as i8)
        .or_else(|_| Date::new(year, month as i8, day as i8 - 1))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn times(text: &str, from: Date) -> Times {
        let p = Program::from_text(text).expect("compiles");
        let inputs = Inputs::of(p.checked(), p.checked());
        Times::of(&p, &p, &inputs, from, Engine::Interp)
    }

    /// Hours cut the week where they open and close; a calendar's dates
    /// in the coming year are tried, and the ordinary week avoids them.
    #[test]
    fn hours_cut_the_week_and_holidays_are_dates() {
        let t = times(
            r#"
timezone "America/Chicago"
calendar holidays { 2026-12-07 "Staff day"; yearly 12-25 "Christmas Day" }
hours office { mon..fri 08:00..18:00; sat 09:00..13:00; closed holidays }
route inbound {
  when holiday(holidays) -> voicemail "holiday"
  when open(office) -> voicemail "open"
  otherwise -> voicemail "closed"
}
entry "+18005550100" -> route inbound
"#,
            Date::new(2026, 12, 2).unwrap(),
        );
        assert_eq!(t.monday, Date::new(2026, 12, 14).unwrap());
        let saturday: Vec<(u16, u16)> = (t.segments.iter())
            .filter(|s| s.day == Day::Week(5))
            .map(|s| (s.from, s.to))
            .collect();
        assert_eq!(saturday, vec![(0, 540), (540, 780), (780, 1440)]);
        assert_eq!(
            t.dates.keys().map(|d| d.to_string()).collect::<Vec<_>>(),
            vec!["2026-12-07", "2026-12-25"]
        );
        // Open, closed, and a holiday are three classes.
        assert_eq!(t.classes.len(), 3);
    }
}
