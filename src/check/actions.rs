//! Action lists: names resolved, terminal actions last, menu-only actions
//! inside menus, numbers and prompts validated.

use super::{Checker, Kind};
use crate::checked::{
    Action, ActionKind, Actions, ExtensionTarget, GroupId, MenuId, QueueId, RejectReason, RouteId,
};
use crate::diagnostic::{Code, Diagnostic};
use crate::number;
use crate::source::{FileId, Loc};
use crate::syntax::ast;

/// Where an action list appears; some actions only make sense in some places.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Context {
    Entry,
    Route,
    Menu,
    Queue,
    Group,
    Test,
}

/// Highest `priority` a queued call may have.
pub const MAX_PRIORITY: i64 = 100;

impl Checker<'_> {
    pub(super) fn actions(&mut self, file: FileId, a: &ast::Actions, cx: Context) -> Actions {
        let mut list = Vec::with_capacity(a.list.len());
        for action in &a.list {
            if let Some(kind) = self.action(file, action, cx) {
                list.push(Action {
                    kind,
                    loc: Loc::new(file, action.span),
                });
            }
        }
        if list.len() == a.list.len() {
            self.terminal_order(&list);
        }
        Actions {
            list,
            loc: Loc::new(file, a.span),
        }
    }

    /// D3003 for actions after a terminal one, D3002 when none ends the list.
    fn terminal_order(&mut self, list: &[Action]) {
        if let Some(t) = list.iter().position(|a| a.kind.is_terminal())
            && t + 1 < list.len()
        {
            let terminal = &list[t];
            let next = &list[t + 1];
            self.push(
                Diagnostic::at(Code::ActionAfterTerminal, next.loc, "this action never runs")
                    .label("unreachable")
                    .with(terminal.loc, "the call is handed on here")
                    .help("put `play`, `whisper`, `record` and `set tag` before the one action that hands the call on, and end the list with it"),
            );
            return;
        }
        if let Some(last) = list.last()
            && !last.kind.is_terminal()
        {
            self.push(
                Diagnostic::at(Code::MissingTerminal, last.loc, "this list ends without saying where the call goes")
                    .label("not a terminal action")
                    .help("end the list with a terminal action such as `menu main`, `queue billing`, `voicemail \"general\"` or `hangup`"),
            );
        }
    }

    fn action(&mut self, file: FileId, action: &ast::Action, cx: Context) -> Option<ActionKind> {
        let loc = Loc::new(file, action.span);
        Some(match &action.kind {
            ast::ActionKind::Play(p) => ActionKind::Play(self.prompt(file, p)),
            ast::ActionKind::Whisper(p) => ActionKind::Whisper(self.prompt(file, p)),
            ast::ActionKind::Record => ActionKind::Record,
            ast::ActionKind::SetTag(t) => {
                if t.value.trim().is_empty() {
                    self.push(
                        Diagnostic::new(Code::OutOfRange, file, t.span, "a tag cannot be empty")
                            .label("empty tag")
                            .help("tags label calls in reports; give it a name such as \"vip\""),
                    );
                }
                ActionKind::SetTag(t.value.clone())
            }
            ast::ActionKind::Queue { queue, priority } => {
                let id = self.resolve(Kind::Queue, file, queue)?;
                let priority = match priority {
                    None => 0,
                    Some(p) => match p.value {
                        Some(v) if (0..=MAX_PRIORITY).contains(&v) => v as u32,
                        _ => {
                            self.push(
                                Diagnostic::new(Code::OutOfRange, file, p.span, "this priority is out of range")
                                    .label(format!("priorities run from 0 to {MAX_PRIORITY}"))
                                    .help("callers with a higher priority are answered first; 0 is the default"),
                            );
                            0
                        }
                    },
                };
                ActionKind::Queue {
                    queue: QueueId(id),
                    priority,
                }
            }
            ast::ActionKind::Menu(m) => {
                ActionKind::Menu(MenuId(self.resolve(Kind::Menu, file, m)?))
            }
            ast::ActionKind::Route(r) => {
                ActionKind::Route(RouteId(self.resolve(Kind::Route, file, r)?))
            }
            ast::ActionKind::Group(g) => {
                ActionKind::Group(GroupId(self.resolve(Kind::Group, file, g)?))
            }
            ast::ActionKind::DialExtension { digits } => ActionKind::DialExtension {
                digits: self.digit_count(file, digits, "an extension")?,
            },
            ast::ActionKind::Extension(target) => ActionKind::Extension(match target {
                ast::ExtensionTarget::Dialed => ExtensionTarget::LastDigits(4),
                ast::ExtensionTarget::LastDigits(n) => {
                    ExtensionTarget::LastDigits(self.digit_count(file, n, "an extension")?)
                }
                ast::ExtensionTarget::Number(n) => ExtensionTarget::Number(n.text.clone()),
            }),
            ast::ActionKind::Transfer(n) => {
                match number::normalize_in(&n.value, self.country_of(file)) {
                    Ok(number) => ActionKind::Transfer(number),
                    Err(why) => {
                        self.bad_number(Loc::new(file, n.span), &n.value, &why);
                        return None;
                    }
                }
            }
            ast::ActionKind::Voicemail(b) => {
                if b.value.trim().is_empty() {
                    self.push(
                        Diagnostic::new(
                            Code::OutOfRange,
                            file,
                            b.span,
                            "a voicemail box needs a name",
                        )
                        .label("empty name")
                        .help("name the mailbox, such as `voicemail \"general\"`"),
                    );
                }
                ActionKind::Voicemail(b.value.clone())
            }
            ast::ActionKind::Reject(reason) => {
                ActionKind::Reject(match reason.as_ref().map(|r| r.text.as_str()) {
                    Some("decline") => RejectReason::Decline,
                    Some("unavailable") => RejectReason::Unavailable,
                    _ => RejectReason::Busy,
                })
            }
            ast::ActionKind::Hangup => ActionKind::Hangup,
            ast::ActionKind::Repeat | ast::ActionKind::Back => {
                let word = if action.kind == ast::ActionKind::Repeat {
                    "repeat"
                } else {
                    "back"
                };
                if cx != Context::Menu {
                    self.push(
                        Diagnostic::at(
                            Code::MenuActionOutsideMenu,
                            loc,
                            format!("`{word}` only works inside a menu"),
                        )
                        .label("no menu here")
                        .help(if word == "repeat" {
                            "name the menu to play again, such as `menu main`"
                        } else {
                            "name the menu to return to, such as `menu main`"
                        }),
                    );
                    return None;
                }
                if word == "repeat" {
                    ActionKind::Repeat
                } else {
                    ActionKind::Back
                }
            }
        })
    }

    /// A count of digits from 1 to 15 (D3020).
    pub(super) fn digit_count(&mut self, file: FileId, n: &ast::Int, what: &str) -> Option<u32> {
        match n.value {
            Some(v @ 1..=15) => Some(v as u32),
            _ => {
                self.push(
                    Diagnostic::new(
                        Code::OutOfRange,
                        file,
                        n.span,
                        format!("{what} has from 1 to 15 digits"),
                    )
                    .label("out of range")
                    .help("give a digit count from 1 to 15"),
                );
                None
            }
        }
    }

    /// Notes a prompt for the missing-audio lint and returns its name.
    pub(super) fn prompt(&mut self, file: FileId, p: &ast::Str) -> String {
        if p.value.trim().is_empty() || p.value.contains(['/', '\\']) {
            self.push(
                Diagnostic::new(Code::MissingPrompt, file, p.span, format!("`{}` is not a prompt name", p.value))
                    .label("not a prompt name")
                    .help("name a file of the prompts folder without its extension, such as \"main-menu\" for prompts/main-menu.wav"),
            );
        }
        self.prompts_used
            .push((p.value.clone(), Loc::new(file, p.span)));
        p.value.clone()
    }
}
