//! Describing a call's path through a script: for failing tests and for
//! `dialect explain`, as text with source snippets or as JSON.

use serde::Serialize;

use crate::checked::{ActionKind, Press};
use crate::flow::walk::Walk;
use crate::flow::{End, Meaning, Step};
use crate::program::Program;
use crate::source::{Loc, SourceMap};
use crate::suite::clock_text;

/// One step of a path, ready to show.
#[derive(Clone, Debug, Serialize)]
pub struct Line {
    pub kind: &'static str,
    pub text: String,
    #[serde(skip)]
    pub loc: Option<Loc>,
    pub file: Option<String>,
    pub line: Option<usize>,
    pub source: Option<String>,
}

/// The steps of a walk. With `every_rule`, each rule of a route is listed
/// with its result; otherwise only the rule that fired.
pub fn lines(program: &Program, sources: &SourceMap, walk: &Walk, every_rule: bool) -> Vec<Line> {
    let c = &program.checked();
    let mut out = Vec::new();
    let mut push = |kind: &'static str, text: String, loc: Option<Loc>| {
        let (file, line, source) = match loc {
            Some(l) if (l.file.0 as usize) < sources.len() => {
                let f = sources.get(l.file);
                let (line, _) = f.line_col(l.span.start);
                // Any line end counts (`\r` alone too), as in diagnostics.
                let text = f.line_text(line).trim().to_string();
                (Some(f.name.clone()), Some(line), Some(text))
            }
            _ => (None, None, None),
        };
        out.push(Line {
            kind,
            text,
            loc,
            file,
            line,
            source,
        });
    };
    for (n, step) in walk.steps.iter().enumerate() {
        // Decisions made after time moved (prompts, keys, silences) say when.
        let when = match walk.times.get(n) {
            Some(&ms) if ms > 0 => format!(", {} into the call", clock_text(ms)),
            _ => String::new(),
        };
        match step {
            Step::Entry(i) => {
                let e = &c.entries[*i];
                push(
                    "entry",
                    format!("entry \"{}\" answers the call", e.number),
                    Some(e.loc),
                );
            }
            Step::Route { route, fired } => {
                let r = c.route(*route);
                let upto = fired.map_or(r.rules.len(), |f| f + 1);
                for (i, rule) in r.rules.iter().enumerate().take(upto) {
                    let fires = Some(i) == *fired;
                    if !every_rule && !fires {
                        continue;
                    }
                    let what = if rule.when.is_none() {
                        "otherwise".to_string()
                    } else {
                        format!("rule {}", i + 1)
                    };
                    let verdict = if fires { "fires" } else { "does not hold" };
                    push(
                        "rule",
                        format!("route {}{when}: {what} {verdict}", r.name),
                        Some(rule.loc),
                    );
                }
                if fired.is_none() {
                    push(
                        "rule",
                        format!("route {}: no rule fires", r.name),
                        Some(r.loc),
                    );
                }
            }
            Step::Offer { menu, offer } => {
                let m = c.menu(*menu);
                let again = if *offer > 1 {
                    format!(" (time {offer})")
                } else {
                    String::new()
                };
                push(
                    "menu",
                    format!("menu {} is offered{again}{when}", m.name),
                    Some(m.loc),
                );
            }
            Step::Input {
                menu,
                press,
                meaning,
            } => {
                let m = c.menu(*menu);
                let pressed = match press {
                    Press::Keys(k) => format!("caller presses {k}"),
                    Press::Timeout => "caller presses nothing".to_string(),
                };
                let (what, loc) = match meaning {
                    Meaning::Key(i) => (
                        format!("{pressed}: key {}", m.keys[*i].key),
                        Some(m.keys[*i].loc),
                    ),
                    Meaning::Collected => (
                        format!("{pressed}: digits collected"),
                        m.collect.as_ref().map(|x| x.loc),
                    ),
                    Meaning::Invalid => (
                        format!("{pressed}: not a key of menu {}", m.name),
                        m.invalid.as_ref().map(|a| a.loc),
                    ),
                    Meaning::Timeout => (
                        format!("{pressed}: timeout in menu {}", m.name),
                        m.on_timeout.as_ref().map(|a| a.loc),
                    ),
                };
                push("input", what, loc.or(Some(m.loc)));
            }
            // The route or menu step that follows says more than the action.
            Step::Action(p)
                if matches!(p.action.kind, ActionKind::Route(_) | ActionKind::Menu(_)) => {}
            Step::Action(p) => push("action", c.action_text(&p.action.kind), Some(p.action.loc)),
        }
    }
    let end = match &walk.end {
        End::Action => None,
        End::WaitingInMenu(m) => Some(format!("waits in menu {} for a key", c.menu(*m).name)),
        End::WaitingForExtension => Some("waits for the caller to dial an extension".to_string()),
        End::NoEntry => Some("no entry answers the dialed number".to_string()),
        End::NoRule(r) => Some(format!("no rule of route {} fires", c.route(*r).name)),
        End::Exhausted(m) => Some(format!(
            "menu {} ran out of tries: hang up",
            c.menu(*m).name
        )),
        End::TooLong => Some(format!(
            "more than {} steps without the caller hearing or pressing anything: the call is cut off",
            crate::flow::MAX_STEPS
        )),
    };
    if let Some(end) = end {
        push("end", end, None);
    }
    out
}

/// The lines as indented text, each with its place and source line.
pub fn render(lines: &[Line], indent: &str) -> String {
    let mut out = String::new();
    let mut previous = None;
    for l in lines {
        out.push_str(&format!("{indent}{}\n", l.text));
        if let (Some(file), Some(line), Some(source)) = (&l.file, l.line, &l.source) {
            // Consecutive steps on one line show it once.
            if previous != Some((file, line)) {
                out.push_str(&format!("{indent}    {file}:{line} │ {source}\n"));
            }
            previous = Some((file, line));
        }
    }
    out
}

/// What a walk ended with, in script words.
pub fn outcome(program: &Program, walk: &Walk) -> String {
    let actions = walk.outcome_actions();
    // The last terminal action and the actions just before it that led there.
    let mut start = actions.len().saturating_sub(1);
    while start > 0 && !actions[start - 1].action.kind.is_terminal() {
        start -= 1;
    }
    let text: Vec<String> = actions[start..]
        .iter()
        .map(|p| {
            let mut t = program.checked().action_text(&p.action.kind);
            if let Some(x) = &p.extension {
                t.push_str(&format!(" (rings {x})"));
            }
            t
        })
        .collect();
    match &walk.end {
        End::NoEntry => "no entry answers".into(),
        End::TooLong => "cut off: too many steps".into(),
        _ if text.is_empty() => "nothing".into(),
        _ => text.join(", "),
    }
}
