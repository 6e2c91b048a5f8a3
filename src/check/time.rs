//! Durations, times of day, dates, calendars and hours.

use jiff::civil;

use super::{Checker, Kind};
use crate::checked::{self, CalendarId, DaySpan, Minute, WEEK};
use crate::diagnostic::{Code, Diagnostic};
use crate::source::{FileId, Loc};
use crate::syntax::ast::{self, Unit};

/// Furthest an Easter-relative day may be from Easter Sunday: nine weeks
/// reach Corpus Christi (`easter +60`) and Shrove Tuesday (`easter -47`).
pub const MAX_EASTER_OFFSET: i64 = 63;

/// Longest duration any setting accepts.
pub const MAX_DURATION_MS: i64 = 24 * 3600 * 1000;

impl Checker<'_> {
    /// A duration in milliseconds (D3008 when malformed or over a day).
    pub(super) fn duration_ms(&mut self, file: FileId, d: &ast::Duration) -> Option<i64> {
        let mut total: i64 = 0;
        let mut previous: Option<Unit> = None;
        for &(number, unit) in &d.parts {
            if let Some(p) = previous
                && unit <= p
            {
                self.push(
                    Diagnostic::new(
                        Code::InvalidDuration,
                        file,
                        d.span,
                        "duration units must go from largest to smallest, each once",
                    )
                    .label("units out of order")
                    .help("write hours, then minutes, then seconds, such as `1h30m` or `2m30s`"),
                );
                return None;
            }
            previous = Some(unit);
            let scale: i64 = match unit {
                Unit::Day => 86_400_000,
                Unit::Hour => 3_600_000,
                Unit::Minute => 60_000,
                Unit::Second => 1_000,
                Unit::Milli => 1,
            };
            let Some(part) = number
                .and_then(|n| i64::try_from(n).ok())
                .and_then(|n| n.checked_mul(scale))
            else {
                return self.too_long(file, d);
            };
            total = total.checked_add(part)?;
        }
        if total > MAX_DURATION_MS {
            return self.too_long(file, d);
        }
        Some(total)
    }

    fn too_long(&mut self, file: FileId, d: &ast::Duration) -> Option<i64> {
        self.push(
            Diagnostic::new(
                Code::InvalidDuration,
                file,
                d.span,
                "this duration is longer than a day",
            )
            .label("too long")
            .help("durations in a script are at most `24h`"),
        );
        None
    }

    /// A duration that must not be zero.
    pub(super) fn positive_duration(
        &mut self,
        file: FileId,
        d: &ast::Duration,
        what: &str,
    ) -> Option<i64> {
        let ms = self.duration_ms(file, d)?;
        if ms == 0 {
            self.push(
                Diagnostic::new(
                    Code::InvalidDuration,
                    file,
                    d.span,
                    format!("{what} cannot be zero"),
                )
                .label("zero")
                .help(format!("give {what} a length such as `20s`")),
            );
            return None;
        }
        Some(ms)
    }

    /// Minutes since midnight (D3006). `24:00` is accepted only as the end of a range.
    pub(super) fn time_of_day(
        &mut self,
        file: FileId,
        t: &ast::Time,
        end_of_range: bool,
    ) -> Option<Minute> {
        let valid =
            (t.hour < 24 && t.minute < 60) || (end_of_range && t.hour == 24 && t.minute == 0);
        if !valid {
            let help = if t.hour == 24 && t.minute == 0 {
                "`24:00` can only end a range; a day starts at `00:00`".to_string()
            } else {
                "times run from `00:00` to `23:59`; `24:00` may end a range".to_string()
            };
            self.push(
                Diagnostic::new(
                    Code::InvalidTime,
                    file,
                    t.span,
                    format!("{:02}:{:02} is not a time of day", t.hour, t.minute),
                )
                .label("no such time")
                .help(help),
            );
            return None;
        }
        Some((t.hour * 60 + t.minute) as Minute)
    }

    /// A calendar date (D3007).
    pub(super) fn date(&mut self, file: FileId, d: &ast::Date) -> Option<civil::Date> {
        let date = i16::try_from(d.year)
            .ok()
            .and_then(|y| civil::Date::new(y, d.month as i8, d.day as i8).ok())
            .filter(|_| d.month <= 12 && d.day <= 31);
        if date.is_none() {
            let help = if d.month == 2 && d.day == 29 {
                format!(
                    "{} is not a leap year; use `yearly 02-29` for a day that only exists in leap years",
                    d.year
                )
            } else if (1..=12).contains(&d.month) {
                format!(
                    "month {:02} of {} has {} days",
                    d.month,
                    d.year,
                    days_in_month(d.year, d.month)
                )
            } else {
                "dates are written `YYYY-MM-DD` with a month from 01 to 12".to_string()
            };
            self.push(
                Diagnostic::new(
                    Code::InvalidDate,
                    file,
                    d.span,
                    format!("{:04}-{:02}-{:02} is not a date", d.year, d.month, d.day),
                )
                .label("no such date")
                .help(help),
            );
        }
        date
    }

    fn month_day(&mut self, file: FileId, md: &ast::MonthDay) -> Option<(u8, u8)> {
        // 2024 is a leap year, so 02-29 is accepted as a yearly day.
        let valid =
            (1..=12).contains(&md.month) && md.day >= 1 && md.day <= days_in_month(2024, md.month);
        if !valid {
            let help = if (1..=12).contains(&md.month) {
                format!(
                    "month {:02} has {} days",
                    md.month,
                    days_in_month(2024, md.month)
                )
            } else {
                "yearly days are written `MM-DD` with a month from 01 to 12".to_string()
            };
            self.push(
                Diagnostic::new(
                    Code::InvalidDate,
                    file,
                    md.span,
                    format!("{:02}-{:02} is not a day of the year", md.month, md.day),
                )
                .label("no such day")
                .help(help),
            );
            return None;
        }
        Some((md.month as u8, md.day as u8))
    }

    /// `1st` to `5th` (D3029 otherwise).
    fn ordinal(&mut self, file: FileId, text: &str, span: crate::source::Span) -> Option<u8> {
        let digits = text.trim_end_matches(|c: char| c.is_ascii_alphabetic());
        let suffix = &text[digits.len()..];
        let n = digits.parse::<u8>().ok().filter(|n| (1..=5).contains(n));
        let expected = match n {
            Some(1) => "st",
            Some(2) => "nd",
            Some(3) => "rd",
            _ => "th",
        };
        if let Some(n) = n
            && suffix == expected
        {
            return Some(n);
        }
        let (message, help) = match n {
            None => (
                format!("`{text}` is not a week of a month"),
                "a month has at most five of each weekday: write `1st`, `2nd`, `3rd`, `4th`, `5th` or `last`".to_string(),
            ),
            Some(n) => (
                format!("`{text}` is not an ordinal"),
                format!("write `{n}{expected}`"),
            ),
        };
        self.push(
            Diagnostic::new(Code::InvalidHolidayRule, file, span, message)
                .label("not 1st to 5th")
                .help(help),
        );
        None
    }

    /// A month number `1` to `12` (D3029 otherwise).
    fn month_number(&mut self, file: FileId, month: &ast::Int) -> Option<u8> {
        let m = month.value.filter(|m| (1..=12).contains(m));
        if m.is_none() {
            self.push(
                Diagnostic::new(
                    Code::InvalidHolidayRule,
                    file,
                    month.span,
                    "this is not a month",
                )
                .label("not 1 to 12")
                .help("months are numbered from `01` (January) to `12` (December), such as `4th thu of 11`"),
            );
        }
        m.map(|m| m as u8)
    }

    /// A time range within one day, `from < to` (D3016), for calendars.
    fn day_range(&mut self, file: FileId, r: &ast::TimeRange) -> Option<(Minute, Minute)> {
        let from = match &r.from {
            Some(t) => self.time_of_day(file, t, false)?,
            None => 0,
        };
        let to = match &r.to {
            Some(t) => self.time_of_day(file, t, true)?,
            None => 1440,
        };
        if from >= to {
            self.push(
                Diagnostic::new(Code::EmptyTimeRange, file, r.span, "this time range ends before it starts")
                    .label("empty range")
                    .help("a calendar's time range stays within its day; use two entries to cover an evening and the next morning"),
            );
            return None;
        }
        Some((from, to))
    }

    pub(super) fn calendar(&mut self, file: FileId, c: &ast::Calendar) {
        let loc = Loc::new(file, c.name.span);
        let zone = self.zone_clause(file, c.zone.as_ref(), loc);
        let mut days: Vec<checked::CalendarDay> = Vec::new();
        for entry in &c.entries {
            let entry_loc = Loc::new(file, entry.span);
            let span = match &entry.days {
                ast::CalendarDays::Dates { from, to } => {
                    let (Some(a), b) = (
                        self.date(file, from),
                        to.as_ref().map(|t| self.date(file, t)),
                    ) else {
                        continue;
                    };
                    let b = match b {
                        None => a,
                        Some(None) => continue,
                        Some(Some(b)) => b,
                    };
                    if b < a {
                        self.push(
                            Diagnostic::at(
                                Code::EmptyTimeRange,
                                entry_loc,
                                "this date range ends before it starts",
                            )
                            .label("empty range")
                            .help("write the earlier date first, such as `2026-12-24..2026-12-26`"),
                        );
                        continue;
                    }
                    DaySpan::Dates { from: a, to: b }
                }
                ast::CalendarDays::Yearly { from, to, observed } => {
                    let Some(a) = self.month_day(file, from) else {
                        continue;
                    };
                    let b = match to {
                        None => a,
                        Some(t) => match self.month_day(file, t) {
                            Some(b) => b,
                            None => continue,
                        },
                    };
                    match observed {
                        None => DaySpan::Yearly { from: a, to: b },
                        Some(_) if to.is_none() => DaySpan::Observed { day: a },
                        Some(span) => {
                            self.push(
                                Diagnostic::new(
                                    Code::InvalidHolidayRule,
                                    file,
                                    *span,
                                    "`observed` applies to a single yearly day, not a range",
                                )
                                .label("on a range")
                                .help("write each day of the range as its own entry, such as `yearly 12-25 observed`"),
                            );
                            continue;
                        }
                    }
                }
                ast::CalendarDays::NthWeekday {
                    nth,
                    weekday,
                    month,
                    ..
                } => {
                    let nth = match nth {
                        ast::Nth::Last(_) => Some(None),
                        ast::Nth::Ordinal { text, span } => {
                            self.ordinal(file, text, *span).map(Some)
                        }
                    };
                    let month = self.month_number(file, month);
                    let (Some(nth), Some(month)) = (nth, month) else {
                        continue;
                    };
                    DaySpan::NthWeekday {
                        nth,
                        weekday: *weekday,
                        month,
                    }
                }
                ast::CalendarDays::Easter { offset, span } => {
                    let days = offset.as_ref().map_or(Some(0), |o| o.value);
                    match days.filter(|d| d.abs() <= MAX_EASTER_OFFSET) {
                        Some(d) => DaySpan::Easter { offset: d as i16 },
                        None => {
                            let at = offset.as_ref().map_or(*span, |o| o.span);
                            self.push(
                                Diagnostic::new(
                                    Code::InvalidHolidayRule,
                                    file,
                                    at,
                                    "this day is too far from Easter",
                                )
                                .label(format!("more than {MAX_EASTER_OFFSET} days"))
                                .help(format!(
                                    "Easter-relative days are at most {MAX_EASTER_OFFSET} days before or after Easter Sunday (`easter -2` is Good Friday, `easter +50` Whit Monday); write other holidays as dates"
                                )),
                            );
                            continue;
                        }
                    }
                }
            };
            let times = match &entry.times {
                None => None,
                Some(r) => match self.day_range(file, r) {
                    Some(t) => Some(t),
                    None => continue,
                },
            };
            let overlap = days
                .iter()
                .find_map(|d| overlap(&d.days, d.times, &span, times).map(|day| (d.loc, day)));
            if let Some((previous, day)) = overlap {
                self.push(
                    Diagnostic::at(
                        Code::DuplicateCalendarDay,
                        entry_loc,
                        format!("calendar `{}` lists {day} twice", c.name.text),
                    )
                    .label(format!("covers {day} again"))
                    .with(previous, "already covered here")
                    .help("remove the overlap; a day listed twice is harmless but often a typo or a stale entry"),
                );
            }
            days.push(checked::CalendarDay {
                days: span,
                times,
                label: entry.label.as_ref().map(|l| l.value.clone()),
                loc: entry_loc,
            });
        }
        self.program.calendars.push(checked::Calendar {
            name: c.name.text.clone(),
            loc,
            zone,
            days,
        });
    }

    /// The zone of `in "Zone"`, or the file's.
    fn zone_clause(&mut self, file: FileId, zone: Option<&ast::Str>, loc: Loc) -> checked::ZoneId {
        match zone {
            Some(name) => match self.timezone(file, name) {
                Some(z) => self.intern_zone(z),
                None => self.zone_of(file),
            },
            None => {
                if !self.file_zones.contains_key(&file) {
                    // Falls back to the script's zone; D3018 if there is none.
                    self.note_time_use(loc);
                }
                self.zone_of(file)
            }
        }
    }

    pub(super) fn hours(&mut self, file: FileId, h: &ast::Hours) {
        let loc = Loc::new(file, h.name.span);
        let zone = self.zone_clause(file, h.zone.as_ref(), loc);
        let mut closed: Vec<CalendarId> = Vec::new();
        // Every interval with the line and range it came from.
        let mut intervals: Vec<(u32, u32, usize, usize, Loc)> = Vec::new();
        let mut had_error = false;
        for (line_index, line) in h.lines.iter().enumerate() {
            match line {
                ast::HoursLine::Closed { calendars, .. } => {
                    for name in calendars {
                        if let Some(id) = self.resolve(Kind::Calendar, file, name) {
                            closed.push(CalendarId(id));
                        }
                    }
                }
                ast::HoursLine::Open { days, ranges, span } => {
                    let day_list = weekdays(days);
                    let whole_day = [ast::TimeRange {
                        from: None,
                        to: None,
                        span: *span,
                    }];
                    let ranges = if ranges.is_empty() {
                        &whole_day[..]
                    } else {
                        &ranges[..]
                    };
                    for (range_index, range) in ranges.iter().enumerate() {
                        let from = match &range.from {
                            Some(t) => self.time_of_day(file, t, false),
                            None => Some(0),
                        };
                        let to = match &range.to {
                            Some(t) => self.time_of_day(file, t, true),
                            None => Some(1440),
                        };
                        let (Some(from), Some(to)) = (from, to) else {
                            had_error = true;
                            continue;
                        };
                        if from == to || (from == 0 && to == 0) {
                            self.push(
                                Diagnostic::new(Code::EmptyTimeRange, file, range.span, "this time range is empty")
                                    .label("starts and ends at the same time")
                                    .help("for a whole day leave the times out (`sat`), or write `00:00..24:00`"),
                            );
                            had_error = true;
                            continue;
                        }
                        let range_loc =
                            Loc::new(file, if ranges.len() == 1 { *span } else { range.span });
                        for &day in &day_list {
                            let start = day as u32 * 1440 + from as u32;
                            let end = if to > from {
                                day as u32 * 1440 + to as u32
                            } else {
                                (day as u32 + 1) * 1440 + to as u32
                            };
                            if end > WEEK {
                                intervals.push((start, WEEK, line_index, range_index, range_loc));
                                intervals.push((0, end - WEEK, line_index, range_index, range_loc));
                            } else {
                                intervals.push((start, end, line_index, range_index, range_loc));
                            }
                        }
                    }
                }
            }
        }
        self.overlaps(&h.name.text, &intervals);
        let mut open: Vec<(u32, u32)> = intervals.iter().map(|i| (i.0, i.1)).collect();
        open.sort_unstable();
        let mut merged: Vec<(u32, u32)> = Vec::with_capacity(open.len());
        for (s, e) in open {
            match merged.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        if merged.is_empty() && !had_error {
            self.push(
                Diagnostic::at(
                    Code::EmptyHours,
                    loc,
                    format!("hours `{}` are never open", h.name.text),
                )
                .label("no opening times")
                .help(
                    "add a line such as `mon..fri 08:00..18:00`; `closed` lines only remove time",
                ),
            );
        }
        self.program.hours.push(checked::Hours {
            name: h.name.text.clone(),
            loc,
            zone,
            open: merged,
            closed,
        });
    }

    /// D4002 for two lines (or two ranges of a line) that cover the same time.
    fn overlaps(&mut self, name: &str, intervals: &[(u32, u32, usize, usize, Loc)]) {
        let mut reported: Vec<(usize, usize, usize, usize)> = Vec::new();
        let mut sorted: Vec<&(u32, u32, usize, usize, Loc)> = intervals.iter().collect();
        sorted.sort_by_key(|i| (i.0, i.1));
        for (i, a) in sorted.iter().enumerate() {
            for b in &sorted[i + 1..] {
                if b.0 >= a.1 {
                    break;
                }
                if (a.2, a.3) == (b.2, b.3) {
                    continue;
                }
                let (first, second) = if (a.2, a.3) < (b.2, b.3) {
                    (a, b)
                } else {
                    (b, a)
                };
                let key = (first.2, first.3, second.2, second.3);
                if reported.contains(&key) {
                    continue;
                }
                reported.push(key);
                let at = b.0.max(a.0);
                self.push(
                    Diagnostic::at(Code::OverlappingHours, second.4, format!("this overlaps an earlier line of hours `{name}`"))
                        .label(format!("also covers {}", week_minute(at)))
                        .with(first.4, "already covered here")
                        .help("hours are a union, so the overlap is harmless, but it often means a typo; make the ranges meet without overlapping"),
                );
            }
        }
    }
}

/// The weekdays (Monday = 0) a `days` clause names; `fri..mon` wraps.
fn weekdays(days: &ast::Days) -> Vec<usize> {
    let mut out = Vec::new();
    match days {
        ast::Days::EveryDay(_) => out.extend(0..7),
        ast::Days::List(ranges) => {
            for r in ranges {
                let from = r.from.index();
                let to = r.to.map_or(from, |t| t.index());
                let mut d = from;
                loop {
                    if !out.contains(&d) {
                        out.push(d);
                    }
                    if d == to {
                        break;
                    }
                    d = (d + 1) % 7;
                }
            }
        }
    }
    out
}

fn week_minute(m: u32) -> String {
    let day = ast::Weekday::from_index((m / 1440) as usize).name();
    let minute = m % 1440;
    format!("{day} {:02}:{:02}", minute / 60, minute % 60)
}

pub fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

/// A day (and time) two calendar entries both cover, as text, if any.
fn overlap(
    a: &DaySpan,
    a_times: Option<(Minute, Minute)>,
    b: &DaySpan,
    b_times: Option<(Minute, Minute)>,
) -> Option<String> {
    if let (Some((a1, a2)), Some((b1, b2))) = (a_times, b_times)
        && !(a1 < b2 && b1 < a2)
    {
        return None;
    }
    // A rule that meets another entry in some years only (Easter Monday on
    // a fixed bank holiday) is how calendars are; the same rule twice is a
    // duplicate.
    if a.is_rule() || b.is_rule() {
        return (a == b).then(|| describe(a));
    }
    match (a, b) {
        (DaySpan::Dates { from: f1, to: t1 }, DaySpan::Dates { from: f2, to: t2 }) => {
            (f1 <= t2 && f2 <= t1).then(|| (*f1).max(*f2).to_string())
        }
        (DaySpan::Dates { from, to }, yearly) | (yearly, DaySpan::Dates { from, to }) => {
            let mut day = *from;
            for _ in 0..800 {
                if day > *to {
                    break;
                }
                if yearly_contains(yearly, (day.month() as u8, day.day() as u8)) {
                    return Some(day.to_string());
                }
                day = day.tomorrow().ok()?;
            }
            None
        }
        _ => {
            // Every day of a leap year, so 02-29 counts.
            let mut day = civil::date(2024, 1, 1);
            while day.year() == 2024 {
                let md = (day.month() as u8, day.day() as u8);
                if yearly_contains(a, md) && yearly_contains(b, md) {
                    return Some(format!("{:02}-{:02} (every year)", md.0, md.1));
                }
                day = day.tomorrow().ok()?;
            }
            None
        }
    }
}

/// A rule-based span as written, for messages.
fn describe(span: &DaySpan) -> String {
    match span {
        DaySpan::Observed { day } => format!("{:02}-{:02} observed", day.0, day.1),
        DaySpan::NthWeekday {
            nth,
            weekday,
            month,
        } => {
            let nth = match nth {
                None => "last".to_string(),
                Some(1) => "1st".to_string(),
                Some(2) => "2nd".to_string(),
                Some(3) => "3rd".to_string(),
                Some(n) => format!("{n}th"),
            };
            format!("{nth} {} of {month:02}", weekday.name())
        }
        DaySpan::Easter { offset: 0 } => "easter".to_string(),
        DaySpan::Easter { offset } => format!("easter {offset:+}"),
        DaySpan::Dates { from, .. } => from.to_string(),
        DaySpan::Yearly { from, .. } => format!("{:02}-{:02}", from.0, from.1),
    }
}

/// Whether a yearly span covers a month-day; spans may wrap the new year.
pub fn yearly_contains(span: &DaySpan, md: (u8, u8)) -> bool {
    match span {
        DaySpan::Yearly { from, to } if from <= to => *from <= md && md <= *to,
        DaySpan::Yearly { from, to } => md >= *from || md <= *to,
        _ => false,
    }
}
