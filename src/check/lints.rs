//! Warnings: unused declarations, `back` with nowhere to go, prompts without
//! audio and comments that look like a `#` key.

use std::collections::{HashMap, HashSet};

use super::{Checker, Kind, Owner};
use crate::checked::{ActionKind, Actions, MenuId, Program};
use crate::diagnostic::{Code, Diagnostic};
use crate::source::{FileId, Loc};
use crate::syntax::ast;

impl Checker<'_> {
    pub(super) fn lints(&mut self, files: &[(FileId, &ast::File)]) {
        self.unused();
        self.back_without_previous();
        self.missing_prompts(files);
        for (file, ast) in files {
            for span in &ast.key_like_comments {
                self.push(
                    Diagnostic::new(
                        Code::KeyLikeComment,
                        *file,
                        *span,
                        "this is a comment, not a `#` key",
                    )
                    .label("`#` starts a comment")
                    .help("write the pound key in quotes: `\"#\" -> ...`"),
                );
            }
        }
    }

    /// D4001 for declarations no entry leads to, directly or through others.
    fn unused(&mut self) {
        if self.program.entries.is_empty() || self.any_broken {
            // Without entries nothing is "used" yet (a file of shared
            // declarations linted alone); with declarations that failed to
            // parse, what they use is unknown.
            return;
        }
        let mut edges: HashMap<(Kind, u32), Vec<(Kind, u32)>> = HashMap::new();
        for &(owner, k, id) in &self.refs {
            if let Owner::Decl(ok, oid) = owner {
                edges.entry((ok, oid)).or_default().push((k, id));
            }
        }
        let mut reached: HashSet<(Kind, u32)> = HashSet::new();
        let mut work: Vec<(Kind, u32)> = self
            .refs
            .iter()
            .filter(|(owner, _, _)| *owner == Owner::Entry)
            .map(|&(_, k, id)| (k, id))
            .collect();
        while let Some(node) = work.pop() {
            if !reached.insert(node) {
                continue;
            }
            for next in edges.get(&node).into_iter().flatten() {
                if !reached.contains(next) {
                    work.push(*next);
                }
            }
        }
        for kind in Kind::ALL {
            for id in 0..self.names.count(kind) as u32 {
                if reached.contains(&(kind, id)) {
                    continue;
                }
                let Some(loc) = self.names.loc(kind, id) else {
                    continue;
                };
                let name = self
                    .names
                    .names(kind)
                    .nth(id as usize)
                    .unwrap_or("?")
                    .to_string();
                let help = match kind {
                    Kind::Skill => {
                        "use it in a queue's `require`, `prefer` or `score`, or remove it"
                            .to_string()
                    }
                    Kind::Lookup => format!("read it in a route (`known {name}`), or remove it"),
                    Kind::Hours => format!("test it with `open({name})` in a route, or remove it"),
                    Kind::Switch => {
                        format!("test it with `switch({name})` in a route, or remove it")
                    }
                    Kind::Calendar => format!(
                        "test it with `holiday({name})` or close hours with it (`closed {name}`), or remove it"
                    ),
                    _ => format!(
                        "send calls to it from an entry, a route or a menu (`{} {name}`), or remove it",
                        kind.keyword()
                    ),
                };
                self.push(
                    Diagnostic::at(
                        Code::Unused,
                        loc,
                        format!("{} `{name}` is never used", kind.keyword()),
                    )
                    .label(match kind {
                        Kind::Skill => "no queue or lookup in use reads it",
                        Kind::Lookup => "no route or queue in use reads it",
                        Kind::Hours | Kind::Calendar => "no route or hours in use tests it",
                        Kind::Switch => "no route or queue in use tests it",
                        _ => "no entry leads here",
                    })
                    .help(help),
                );
            }
        }
    }

    /// D4008 for `back` in a menu that no other menu leads to, directly or
    /// through routes, queues and groups.
    fn back_without_previous(&mut self) {
        let program = &self.program;
        let uses_back = |m: &crate::checked::Menu| {
            menu_lists(m)
                .flat_map(|a| a.list.iter())
                .any(|a| a.kind == ActionKind::Back)
        };
        if !program.menus.iter().any(uses_back) {
            return;
        }
        // Which menus lead to which, computed once.
        let mut led_to: HashSet<MenuId> = HashSet::new();
        for (j, other) in program.menus.iter().enumerate() {
            led_to.extend(
                menus_reached(program, menu_lists(other))
                    .into_iter()
                    .filter(|m| m.index() != j),
            );
        }
        let mut reports = Vec::new();
        for (i, menu) in program.menus.iter().enumerate() {
            let me = MenuId(i as u32);
            let backs: Vec<Loc> = menu_lists(menu)
                .flat_map(|a| a.list.iter())
                .filter(|a| a.kind == ActionKind::Back)
                .map(|a| a.loc)
                .collect();
            if backs.is_empty() {
                continue;
            }
            if !led_to.contains(&me) {
                reports.extend(backs.into_iter().map(|at| (at, menu.name.clone())));
            }
        }
        for (at, name) in reports {
            self.push(
                Diagnostic::at(
                    Code::BackWithoutPrevious,
                    at,
                    format!("no other menu leads to `{name}`, so `back` has nowhere to go"),
                )
                .label("repeats this menu instead")
                .help("name the menu to go to, such as `menu main`, or use `repeat`"),
            );
        }
    }

    /// D4004 for prompts with no audio file, when the prompts folder is known:
    /// once per prompt, at its first use in a declaration in source order
    /// (files in the order the script reads them). Tests' `expect play`
    /// lines name prompts the declarations play, so they are not reported.
    fn missing_prompts(&mut self, files: &[(FileId, &ast::File)]) {
        let Some(available) = &self.options.prompts else {
            return;
        };
        let file_order: HashMap<FileId, usize> = files
            .iter()
            .enumerate()
            .map(|(i, (f, _))| (*f, i))
            .collect();
        let tests: HashMap<FileId, Vec<crate::source::Span>> = files
            .iter()
            .map(|(f, ast)| {
                let spans = ast.items.iter().filter_map(|item| match item {
                    ast::Item::Test(t) => Some(t.span),
                    _ => None,
                });
                (*f, spans.collect())
            })
            .collect();
        let in_test = |loc: &Loc| {
            tests.get(&loc.file).is_some_and(|spans| {
                spans
                    .iter()
                    .any(|t| t.start <= loc.span.start && loc.span.end <= t.end)
            })
        };
        let mut uses: Vec<&(String, Loc)> = self
            .prompts_used
            .iter()
            .filter(|(name, loc)| !available.contains(name) && !in_test(loc))
            .collect();
        uses.sort_by_key(|(_, loc)| {
            (
                file_order.get(&loc.file).copied().unwrap_or(usize::MAX),
                loc.span.start,
            )
        });
        let mut missing: Vec<(String, Loc, usize)> = Vec::new();
        let mut index: HashMap<&str, usize> = HashMap::new();
        for (name, loc) in uses {
            match index.get(name.as_str()) {
                Some(&i) => missing[i].2 += 1,
                None => {
                    index.insert(name, missing.len());
                    missing.push((name.clone(), *loc, 0));
                }
            }
        }
        for (name, loc, more) in missing {
            let label = match more {
                0 => "not in the prompts folder".to_string(),
                1 => "not in the prompts folder (used once more)".to_string(),
                n => format!("not in the prompts folder (used {n} more times)"),
            };
            self.push(
                Diagnostic::at(
                    Code::MissingPrompt,
                    loc,
                    format!("prompt `{name}` has no audio file"),
                )
                .label(label)
                .help(format!(
                    "add `{name}.wav` (16-bit PCM, 8 kHz, mono) to the prompts folder"
                )),
            );
        }
    }
}

/// Every action list of a menu.
fn menu_lists(menu: &crate::checked::Menu) -> impl Iterator<Item = &Actions> {
    menu.keys
        .iter()
        .map(|k| &k.actions)
        .chain(menu.collect.iter().map(|c| &c.actions))
        .chain(menu.invalid.iter())
        .chain(menu.on_timeout.iter())
        .chain(menu.exhausted.iter())
}

/// The menus a call can reach from these action lists without passing
/// through another menu: directly, or through routes, queues and groups.
fn menus_reached<'p>(
    program: &'p Program,
    lists: impl Iterator<Item = &'p Actions>,
) -> HashSet<MenuId> {
    let mut menus = HashSet::new();
    let mut seen: HashSet<ActionKind> = HashSet::new();
    let mut work: Vec<&Actions> = lists.collect();
    while let Some(actions) = work.pop() {
        let Some(last) = actions.terminal() else {
            continue;
        };
        if !seen.insert(last.kind.clone()) {
            continue;
        }
        match &last.kind {
            ActionKind::Menu(m) => {
                menus.insert(*m);
            }
            ActionKind::Route(r) => {
                work.extend(program.route(*r).rules.iter().map(|rule| &rule.actions))
            }
            ActionKind::Queue { queue, .. } => {
                let q = program.queue(*queue);
                work.extend(q.steps.iter().filter_map(|s| match &s.kind {
                    crate::checked::StepKind::Overflow(a) => Some(a),
                    crate::checked::StepKind::Relax(_) => None,
                }));
                work.extend(q.no_agents.iter());
            }
            ActionKind::Group(g) => work.extend(program.group(*g).then.iter()),
            _ => {}
        }
    }
    menus
}
