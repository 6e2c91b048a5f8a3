//! The text form of a diff: one paragraph per group of calls, then a
//! summary line. `dialect diff` prints it, and so will `dialect reload`
//! before it swaps.

use super::model::{Change, Condition, Diff, Outcome, When};

impl Diff {
    /// The diff as text, one group of calls per paragraph:
    ///
    /// ```text
    /// calls to +1 800 555 0100 on Saturdays 09:00–13:00: before `queue support`, now `voicemail "general"`
    ///   before: route inbound, rule 3 (old.dial:20)
    ///   now:    route inbound, rule 2 (new.dial:19)
    /// ```
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        for change in &self.changes {
            out.push_str(&change.headline());
            out.push('\n');
            out.push_str(&format!("  before: {}\n", decided(&change.before)));
            out.push_str(&format!("  now:    {}\n", decided(&change.after)));
            out.push('\n');
        }
        for note in &self.notes {
            out.push_str(&format!("note: {note}\n"));
        }
        let groups = match self.changes.len() {
            0 => "no call ends elsewhere".to_string(),
            1 => "1 group of calls ends elsewhere".to_string(),
            n => format!("{n} groups of calls end elsewhere"),
        };
        out.push_str(&format!(
            "{groups} ({} calls compared to {} {}; times in {}, over the week of {} and calendar dates for a year from {})\n",
            self.calls,
            self.entries,
            if self.entries == 1 { "entry" } else { "entries" },
            self.zone,
            self.week,
            self.from
        ));
        out
    }
}

/// Key sequences a headline lists before it counts the rest.
const MAX_SEQUENCES: usize = 6;

impl Change {
    /// `calls to NUMBER [from CALLERS] [pressing KEYS] [when CONDITIONS]
    /// TIMES: before `X`, now `Y``
    pub fn headline(&self) -> String {
        let mut out = format!("calls to {}", self.entry);
        if self.dialed_differs() {
            out.push_str(&format!(" (such as {})", self.dialed));
        }
        if let Some(caller) = &self.caller {
            out.push_str(&format!(" from {caller}"));
        }
        let sequences: Vec<String> = (self.presses.iter())
            .filter(|keys| !keys.is_empty())
            .map(|keys| keys.join(","))
            .collect();
        if !sequences.is_empty() {
            let shown = sequences.len().min(MAX_SEQUENCES);
            let mut text = sequences[..shown].join(" or ");
            if sequences.len() < self.presses.len() {
                text.push_str(" or no key");
            }
            if sequences.len() > shown {
                text.push_str(&format!(
                    " or {} more key sequences",
                    sequences.len() - shown
                ));
            }
            out.push_str(&format!(" pressing {text}"));
        }
        if !self.conditions.is_empty() {
            let conditions: Vec<String> = self.conditions.iter().map(condition).collect();
            out.push_str(&format!(" when {}", conditions.join(" and ")));
        }
        let when = when(&self.when);
        if !when.is_empty() {
            out.push(' ');
            out.push_str(&when);
        }
        out.push_str(&format!(
            ": before `{}`, now `{}`",
            self.before.ends, self.after.ends
        ));
        out
    }

    /// Whether the entry is a pattern, so the number tried is worth saying.
    fn dialed_differs(&self) -> bool {
        let written: String = (self.entry.chars())
            .filter(|c| c.is_ascii_digit() || *c == '+')
            .collect();
        written != self.dialed
    }
}

fn decided(o: &Outcome) -> String {
    let each: Vec<String> = (o.decided_by.iter())
        .map(|d| match &d.place {
            Some(place) => format!("{} ({place})", d.what),
            None => d.what.clone(),
        })
        .collect();
    each.join("; ")
}

fn condition(c: &Condition) -> String {
    match c.holds.as_str() {
        "true" => c.subject.clone(),
        "false" => format!("not {}", c.subject),
        holds => format!("{} {holds}", c.subject),
    }
}

fn when(w: &When) -> String {
    let mut parts: Vec<String> = Vec::new();
    if w.always {
        parts.push("at any time".to_string());
    }
    // Ranges on the same days, and on the same date, read together.
    let mut weekly: Vec<(String, Vec<String>)> = Vec::new();
    for r in &w.weekly {
        let days = days(&r.days);
        let range = if r.from == "00:00" && r.to == "24:00" {
            "(all day)".to_string()
        } else {
            format!("{}–{}", r.from, r.to)
        };
        match weekly.iter_mut().find(|(d, _)| *d == days) {
            Some((_, ranges)) => ranges.push(range),
            None => weekly.push((days, vec![range])),
        }
    }
    if !weekly.is_empty() {
        let each: Vec<String> = (weekly.iter())
            .map(|(days, ranges)| format!("{days} {}", ranges.join(" and ")))
            .collect();
        parts.push(format!("on {}", each.join(", ")));
    }
    if !w.except.is_empty()
        && let Some(last) = parts.last_mut()
    {
        last.push_str(&format!(" except on {}", listed(&w.except)));
    }
    let mut dates: Vec<(String, Vec<String>)> = Vec::new();
    for d in &w.dates {
        let label = d
            .label
            .as_ref()
            .map(|l| format!(" ({l})"))
            .unwrap_or_default();
        let day = format!("{}{label}", d.date);
        let range = if d.from == "00:00" && d.to == "24:00" {
            "all day".to_string()
        } else {
            format!("{}–{}", d.from, d.to)
        };
        match dates.iter_mut().find(|(x, _)| *x == day) {
            Some((_, ranges)) => ranges.push(range),
            None => dates.push((day, vec![range])),
        }
    }
    // Dates with the same times read together.
    let mut by_ranges: Vec<(Vec<String>, Vec<String>)> = Vec::new();
    for (day, ranges) in dates {
        match by_ranges.iter_mut().find(|(r, _)| *r == ranges) {
            Some((_, days)) => days.push(day),
            None => by_ranges.push((ranges, vec![day])),
        }
    }
    for (ranges, days) in by_ranges {
        let sep = if ranges == ["all day"] { ", " } else { " " };
        parts.push(format!("on {}{sep}{}", listed(&days), ranges.join(" and ")));
    }
    parts.join("; ")
}

/// Dates the text names before it counts the rest.
const MAX_DATES: usize = 8;

/// `A`, `A and B`, `A, B and C`, `A, B, ... and 3 more dates`.
fn listed(items: &[String]) -> String {
    let shown = &items[..items.len().min(MAX_DATES)];
    let rest = items.len() - shown.len();
    match (shown, rest) {
        ([], _) => String::new(),
        ([one], 0) => one.clone(),
        (_, 0) => format!(
            "{} and {}",
            shown[..shown.len() - 1].join(", "),
            shown[shown.len() - 1]
        ),
        (_, rest) => format!("{} and {rest} more dates", shown.join(", ")),
    }
}

const DAY_NAMES: [(&str, &str); 7] = [
    ("mon", "Mondays"),
    ("tue", "Tuesdays"),
    ("wed", "Wednesdays"),
    ("thu", "Thursdays"),
    ("fri", "Fridays"),
    ("sat", "Saturdays"),
    ("sun", "Sundays"),
];

/// `Mondays to Fridays`, `Saturdays and Sundays`, `Mondays, Wednesdays and
/// Fridays`.
fn days(days: &[String]) -> String {
    let index: Vec<usize> = (days.iter())
        .filter_map(|d| DAY_NAMES.iter().position(|(short, _)| short == d))
        .collect();
    let name = |i: usize| DAY_NAMES[i].1;
    // Runs of consecutive days.
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for &i in &index {
        match runs.last_mut() {
            Some(run) if run.1 + 1 == i => run.1 = i,
            _ => runs.push((i, i)),
        }
    }
    let mut words: Vec<String> = Vec::new();
    for (a, b) in runs {
        if b >= a + 2 {
            words.push(format!("{} to {}", name(a), name(b)));
        } else {
            words.extend((a..=b).map(|i| name(i).to_string()));
        }
    }
    match words.len() {
        0 => String::new(),
        1 => words.remove(0),
        n => format!("{} and {}", words[..n - 1].join(", "), words[n - 1]),
    }
}
