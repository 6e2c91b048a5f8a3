//! From calls that end differently to the groups a person reads: calls
//! that differ only in the time are one group with the times merged into
//! ranges ("Saturdays 09:00–13:00"), and an input whose every value gives
//! the same change is dropped from the group's description.

use std::collections::{BTreeMap, BTreeSet};

use super::explore::Leaf;
use super::inputs::{Domain, Inputs, Kind, Subject, number_text};
use super::model::{Change, Condition, DateRange, Outcome, WeeklyRange, When};
use super::times::{Day, Times};
use crate::checked::{Press, QueueStat};

/// A group while it is being merged.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Row {
    /// Key sequences, any of which (sorted).
    presses: Vec<Vec<String>>,
    before: Outcome,
    after: Outcome,
    /// Per input, the values of it the group covers.
    conds: BTreeMap<Subject, BTreeSet<usize>>,
    /// The classes of times the group covers.
    times: BTreeSet<usize>,
}

/// The changes of one entry.
pub fn changes(
    entry: &str,
    dialed: &str,
    leaves: &[Leaf],
    inputs: &Inputs,
    times: &Times,
) -> Vec<Change> {
    let all_times: BTreeSet<usize> = (0..times.classes.len()).collect();
    let mut rows: Vec<Row> = leaves
        .iter()
        .map(|leaf| Row {
            presses: vec![
                (leaf.presses.iter())
                    .map(|p| match p {
                        Press::Keys(k) => k.clone(),
                        Press::Timeout => "timeout".into(),
                    })
                    .collect(),
            ],
            before: leaf.before.clone(),
            after: leaf.after.clone(),
            conds: (leaf.assign.iter())
                .filter(|(s, _)| **s != Subject::Time)
                .map(|(s, &i)| (s.clone(), BTreeSet::from([i])))
                .collect(),
            times: match leaf.assign.get(&Subject::Time) {
                Some(&c) => BTreeSet::from([c]),
                None => all_times.clone(),
            },
        })
        .collect();
    loop {
        let previous = rows.clone();
        rows = merge_times(rows);
        rows = merge_conditions(rows, inputs);
        rows = merge_presses(rows);
        if rows == previous {
            break;
        }
    }
    rows.sort_by(|a, b| {
        (first_time(a, times), &a.presses, &a.before.ends).cmp(&(
            first_time(b, times),
            &b.presses,
            &b.before.ends,
        ))
    });
    rows.into_iter()
        .map(|row| Change {
            entry: entry.to_string(),
            dialed: dialed.to_string(),
            caller: row.conds.get(&Subject::Caller).and_then(|values| {
                let d = inputs.domain(&Subject::Caller)?;
                Some(
                    (values.iter())
                        .filter_map(|&i| d.labels.get(i).cloned())
                        .collect::<Vec<_>>()
                        .join(" or "),
                )
            }),
            presses: row.presses,
            conditions: (row.conds.iter())
                .filter(|(s, _)| **s != Subject::Caller)
                .filter_map(|(s, values)| condition(s, values, inputs.domain(s)?))
                .collect(),
            when: when(&row.times, times),
            before: row.before,
            after: row.after,
        })
        .collect()
}

fn first_time(row: &Row, times: &Times) -> (Day, u16) {
    (row.times.iter())
        .flat_map(|&c| times.classes.get(c).into_iter().flatten())
        .filter_map(|&s| times.segments.get(s))
        .map(|s| (s.day, s.from))
        .min()
        .unwrap_or((Day::Week(0), 0))
}

/// Rows that differ only in their times become one.
fn merge_times(rows: Vec<Row>) -> Vec<Row> {
    let mut out: Vec<Row> = Vec::new();
    for row in rows {
        let same = out.iter_mut().find(|o| {
            o.presses == row.presses
                && o.before.ends == row.before.ends
                && o.after.ends == row.after.ends
                && o.conds == row.conds
        });
        match same {
            Some(o) => {
                o.times.extend(row.times);
                join(&mut o.before, row.before);
                join(&mut o.after, row.after);
            }
            None => out.push(row),
        }
    }
    out
}

/// Rows that differ only in the keys pressed become one, with each key
/// sequence.
fn merge_presses(rows: Vec<Row>) -> Vec<Row> {
    let mut out: Vec<Row> = Vec::new();
    for row in rows {
        let same = out.iter_mut().find(|o| {
            o.before.ends == row.before.ends
                && o.after.ends == row.after.ends
                && o.conds == row.conds
                && o.times == row.times
        });
        match same {
            Some(o) => {
                for p in row.presses {
                    if !o.presses.contains(&p) {
                        o.presses.push(p);
                    }
                }
                o.presses.sort();
                join(&mut o.before, row.before);
                join(&mut o.after, row.after);
            }
            None => out.push(row),
        }
    }
    out
}

/// Rows that differ only in the values of one input become one; an input
/// whose every value is then covered is dropped.
fn merge_conditions(mut rows: Vec<Row>, inputs: &Inputs) -> Vec<Row> {
    let subjects: BTreeSet<Subject> = rows.iter().flat_map(|r| r.conds.keys().cloned()).collect();
    for s in subjects {
        let mut out: Vec<Row> = Vec::new();
        for row in rows {
            let Some(values) = row.conds.get(&s).cloned() else {
                out.push(row);
                continue;
            };
            let same = out.iter_mut().find(|o| {
                o.conds.contains_key(&s)
                    && o.presses == row.presses
                    && o.before.ends == row.before.ends
                    && o.after.ends == row.after.ends
                    && o.times == row.times
                    && o.conds.len() == row.conds.len()
                    && (o.conds.iter()).all(|(k, v)| *k == s || row.conds.get(k) == Some(v))
            });
            match same {
                Some(o) => {
                    if let Some(v) = o.conds.get_mut(&s) {
                        v.extend(values);
                    }
                    join(&mut o.before, row.before);
                    join(&mut o.after, row.after);
                }
                None => out.push(row),
            }
        }
        let size = inputs.domain(&s).map_or(0, |d| d.values.len());
        for row in &mut out {
            if row.conds.get(&s).is_some_and(|v| v.len() >= size) {
                row.conds.remove(&s);
            }
        }
        rows = out;
    }
    rows
}

/// The decisions of two groups that end in the same place, each once.
fn join(into: &mut Outcome, other: Outcome) {
    for d in other.decided_by {
        if !into.decided_by.contains(&d) {
            into.decided_by.push(d);
        }
    }
}

/// How the values of an input read: ranges of counts, a flag, texts.
fn condition(s: &Subject, values: &BTreeSet<usize>, d: &Domain) -> Option<Condition> {
    let subject = match s {
        Subject::Stat(q, i) => format!("queue({q}).{}", QueueStat::ALL.get(*i)?.name()),
        Subject::Known(l) => format!("known {l}"),
        Subject::Switch(s) => format!("switch({s})"),
        Subject::Field(l, f) => format!("{l}.{f}"),
        Subject::Time | Subject::Caller => return None,
    };
    let holds = match d.kind {
        Kind::Int | Kind::Duration => int_ranges(values, d),
        _ => {
            let labels: Vec<String> = (values.iter())
                .filter_map(|&i| d.labels.get(i).cloned())
                .collect();
            match (d.kind, labels.as_slice()) {
                (Kind::Bool, _) => labels.join(" or "),
                (_, [one]) if one.starts_with('"') => format!("== {one}"),
                _ => format!("is {}", labels.join(" or ")),
            }
        }
    };
    Some(Condition { subject, holds })
}

/// The ranges the values stand for, merged where they touch: `≥ 21`,
/// `from 20 to 29`, `= 0`, joined by `or`.
fn int_ranges(values: &BTreeSet<usize>, d: &Domain) -> String {
    let mut pieces: Vec<(Option<i64>, Option<i64>)> = (values.iter())
        .filter_map(|&i| d.pieces.get(i))
        .flatten()
        .copied()
        .collect();
    // Unbounded below first, then by the lower bound.
    pieces.sort_by_key(|(lo, _)| lo.map_or((0, 0), |l| (1, l)));
    let mut merged: Vec<(Option<i64>, Option<i64>)> = Vec::new();
    for (lo, hi) in pieces {
        match merged.last_mut() {
            Some((_, last_hi)) if last_hi.is_some_and(|h| lo == Some(h.saturating_add(1))) => {
                *last_hi = hi;
            }
            _ => merged.push((lo, hi)),
        }
    }
    let show = |v: i64| number_text(d.kind, v);
    let parts: Vec<String> = (merged.into_iter())
        .map(|range| match range {
            (Some(lo), Some(hi)) if lo == hi => format!("= {}", show(lo)),
            (Some(lo), Some(hi)) => format!("from {} to {}", show(lo), show(hi)),
            (Some(lo), None) if d.constants.contains(&lo.saturating_sub(1)) => {
                format!("> {}", show(lo.saturating_sub(1)))
            }
            (Some(lo), None) => format!("≥ {}", show(lo)),
            (None, Some(hi)) if d.constants.contains(&hi.saturating_add(1)) => {
                format!("< {}", show(hi.saturating_add(1)))
            }
            (None, Some(hi)) => format!("≤ {}", show(hi)),
            (None, None) => "any value".into(),
        })
        .collect();
    parts.join(" or ")
}

/// The times of a group: the week's days merged into ranges, and the
/// dates where the group's change is not the ordinary week's.
fn when(classes: &BTreeSet<usize>, times: &Times) -> When {
    let segments: Vec<usize> = (classes.iter())
        .flat_map(|&c| times.classes.get(c).into_iter().flatten().copied())
        .collect();
    let mut week: BTreeMap<usize, Vec<(u16, u16)>> = BTreeMap::new();
    let mut dates: BTreeMap<jiff::civil::Date, Vec<(u16, u16)>> = BTreeMap::new();
    for &i in &segments {
        let Some(s) = times.segments.get(i) else {
            continue;
        };
        match s.day {
            Day::Week(d) => week.entry(d).or_default().push((s.from, s.to)),
            Day::Date(d) => dates.entry(d).or_default().push((s.from, s.to)),
        }
    }
    for ranges in week.values_mut().chain(dates.values_mut()) {
        *ranges = merged(std::mem::take(ranges));
    }
    // A date that changes as its weekday does is said by the week.
    let covered = |date: &jiff::civil::Date, (a, b): (u16, u16)| {
        let day = date.weekday().to_monday_zero_offset() as usize;
        week.get(&day)
            .is_some_and(|r| r.iter().any(|&(x, y)| x <= a && b <= y))
    };
    let mut out = When::default();
    let whole_week = (0..7).all(|d| week.get(&d).is_some_and(|r| r == &[(0, 1440)]));
    out.always = whole_week;
    for (date, ranges) in &dates {
        for &r in ranges {
            if !covered(date, r) {
                out.dates.push(DateRange {
                    date: date.to_string(),
                    label: times.dates.get(date).cloned().flatten(),
                    from: clock(r.0),
                    to: clock(r.1),
                });
            }
        }
    }
    // Dates on which some of the week's times do not change this way.
    for date in times.dates.keys() {
        let day = date.weekday().to_monday_zero_offset() as usize;
        let need = week.get(&day).map_or(&[][..], |r| r.as_slice());
        let have = dates.get(date).map_or(&[][..], |r| r.as_slice());
        let kept = need
            .iter()
            .all(|&(a, b)| have.iter().any(|&(x, y)| x <= a && b <= y));
        if !kept {
            out.except.push(date.to_string());
        }
    }
    if whole_week {
        return out;
    }
    // Days with the same range, in week order.
    let mut by_range: BTreeMap<(u16, u16), Vec<usize>> = BTreeMap::new();
    for (day, ranges) in &week {
        for &r in ranges {
            by_range.entry(r).or_default().push(*day);
        }
    }
    let mut weekly: Vec<(usize, WeeklyRange)> = by_range
        .into_iter()
        .map(|((a, b), days)| {
            (
                days[0] * 1440 + a as usize,
                WeeklyRange {
                    days: days.iter().map(|&d| DAYS[d].to_string()).collect(),
                    from: clock(a),
                    to: clock(b),
                },
            )
        })
        .collect();
    weekly.sort_by_key(|(k, _)| *k);
    out.weekly = weekly.into_iter().map(|(_, w)| w).collect();
    out
}

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn merged(mut ranges: Vec<(u16, u16)>) -> Vec<(u16, u16)> {
    ranges.sort();
    let mut out: Vec<(u16, u16)> = Vec::new();
    for (a, b) in ranges {
        match out.last_mut() {
            Some(last) if last.1 >= a => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

/// `HH:MM`, `24:00` for the end of the day.
pub fn clock(minute: u16) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}
