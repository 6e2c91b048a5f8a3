//! The checker: resolves names, types expressions, validates times, numbers
//! and queue settings, and runs the semantic checks and lints.
//!
//! It returns the checked program and every diagnostic it found; it never
//! stops at the first problem. **Invariant:** the checker does no I/O. What it
//! needs to know about the outside world (prompt files, lookup source
//! columns) arrives in [`Options`], gathered beforehand by `load`.

mod actions;
mod decls;
mod expr;
mod lints;
pub mod logic;
mod names;
mod numbers;
mod routes;
mod test_blocks;
mod time;

use std::collections::{BTreeSet, HashMap, HashSet};

use crate::checked::{self, Program, ZoneId};
use crate::diagnostic::{self, Code, Diagnostic};
use crate::source::{FileId, Loc};
use crate::syntax::ast;

pub use names::Kind;

/// Facts about the world outside the script that some checks need.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Names of the prompts (file stems) in the prompts folder, if one was given.
    pub prompts: Option<BTreeSet<String>>,
    /// What was found at each lookup source, keyed by the declaring file and
    /// the source as written. Lookups missing from the map are not checked.
    pub lookup_sources: HashMap<(FileId, String), SourceInfo>,
}

/// What the loader found at a lookup's source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SourceInfo {
    Missing,
    Unreadable(String),
    /// A CSV file, loaded into the source map so its rows can be pointed
    /// at; the first column is the key.
    Csv(FileId, crate::lookup::read::CsvTable),
    /// A SQLite database (its tables are checked when the server opens it).
    Database,
}

/// Checks every parsed file of one script. The first file is the root: its
/// time zone is the script's.
pub fn check(files: &[(FileId, &ast::File)], options: &Options) -> (Program, Vec<Diagnostic>) {
    let mut checker = Checker::new(options);
    checker.run(files);
    let mut diagnostics = checker.diagnostics;
    diagnostic::sort(&mut diagnostics);
    diagnostics.dedup();
    (checker.program, diagnostics)
}

/// Who is referring to a declaration, for the reachability lints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Owner {
    Decl(Kind, u32),
    Entry,
    Test,
    /// A reference from no particular place (ignored by reachability).
    Nowhere,
}

struct Checker<'a> {
    options: &'a Options,
    diagnostics: Vec<Diagnostic>,
    program: Program,
    names: names::Names,
    /// The zone declared by each file that declares one.
    file_zones: HashMap<FileId, (ZoneId, Loc)>,
    /// The country declared by each file that declares one.
    file_countries: HashMap<FileId, crate::number::Country>,
    /// Whether the root file declared a zone.
    has_zone: bool,
    /// The first place the script depends on local time, for D3018.
    first_time_use: Option<Loc>,
    /// Declaration being checked, for recording references.
    owner: Owner,
    /// References between declarations: (from, to).
    refs: Vec<(Owner, Kind, u32)>,
    /// Every prompt named anywhere, for D4004.
    prompts_used: Vec<(String, Loc)>,
    /// Names of declarations that failed to parse: uses of them are not
    /// reported again, and lints that need the whole script are skipped.
    broken: HashSet<(String, String)>,
    any_broken: bool,
}

impl<'a> Checker<'a> {
    fn new(options: &'a Options) -> Checker<'a> {
        Checker {
            options,
            diagnostics: Vec::new(),
            program: Program::default(),
            names: names::Names::default(),
            file_zones: HashMap::new(),
            file_countries: HashMap::new(),
            has_zone: false,
            first_time_use: None,
            owner: Owner::Nowhere,
            refs: Vec::new(),
            prompts_used: Vec::new(),
            broken: HashSet::new(),
            any_broken: false,
        }
    }

    fn run(&mut self, files: &[(FileId, &ast::File)]) {
        for (_, ast) in files {
            for b in &ast.broken {
                self.any_broken = true;
                let name = b.name.as_ref().map_or(String::new(), |n| n.text.clone());
                self.broken.insert((b.keyword.clone(), name));
            }
        }
        let decls = self.declare(files);
        self.zones(files);
        self.countries(files);
        for &(file, skill) in &decls.skills {
            self.skill(file, skill);
        }
        for (i, &(file, lookup)) in decls.lookups.iter().enumerate() {
            self.owner = Owner::Decl(Kind::Lookup, i as u32);
            self.lookup(file, lookup);
        }
        for (i, &(file, calendar)) in decls.calendars.iter().enumerate() {
            self.owner = Owner::Decl(Kind::Calendar, i as u32);
            self.calendar(file, calendar);
        }
        for (i, &(file, hours)) in decls.hours.iter().enumerate() {
            self.owner = Owner::Decl(Kind::Hours, i as u32);
            self.hours(file, hours);
        }
        // Ids were given out by `declare`, so expressions and actions can
        // refer to any queue, group, menu or route before it is checked.
        for (i, &(file, queue)) in decls.queues.iter().enumerate() {
            self.owner = Owner::Decl(Kind::Queue, i as u32);
            let q = self.queue(file, queue);
            self.program.queues.push(q);
        }
        for (i, &(file, group)) in decls.groups.iter().enumerate() {
            self.owner = Owner::Decl(Kind::Group, i as u32);
            let g = self.group(file, group);
            self.program.groups.push(g);
        }
        for (i, &(file, menu)) in decls.menus.iter().enumerate() {
            self.owner = Owner::Decl(Kind::Menu, i as u32);
            let m = self.menu(file, menu);
            self.program.menus.push(m);
        }
        for (i, &(file, route)) in decls.routes.iter().enumerate() {
            self.owner = Owner::Decl(Kind::Route, i as u32);
            let r = self.route(file, route);
            self.program.routes.push(r);
        }
        self.owner = Owner::Entry;
        for &(file, entry) in &decls.entries {
            if let Some(e) = self.entry(file, entry) {
                self.program.entries.push(e);
            }
        }
        self.entry_collisions();
        self.owner = Owner::Test;
        for &(file, test) in &decls.tests {
            if let Some(t) = self.test(file, test) {
                self.program.tests.push(t);
            }
        }
        self.owner = Owner::Nowhere;
        if !self.route_cycles() {
            self.route_chains();
        }
        self.lints(files);
        if let (false, Some(loc)) = (self.has_zone, self.first_time_use) {
            self.diagnostics.push(
                Diagnostic::at(Code::MissingTimezone, loc, "this depends on local time, but the script declares no time zone")
                    .label("uses local time")
                    .help("declare the zone the script's times are in, such as `timezone \"America/Chicago\"`, at the top of the main file"),
            );
        }
    }

    /// Collects declarations by kind and gives each an id; reports duplicates.
    fn declare<'f>(&mut self, files: &[(FileId, &'f ast::File)]) -> Decls<'f> {
        let mut decls = Decls::default();
        for (file, ast) in files {
            let file = *file;
            for item in &ast.items {
                match item {
                    ast::Item::Calendar(c) => {
                        if self.declare_name(Kind::Calendar, file, &c.name) {
                            decls.calendars.push((file, c));
                        }
                    }
                    ast::Item::Hours(h) => {
                        if self.declare_name(Kind::Hours, file, &h.name) {
                            decls.hours.push((file, h));
                        }
                    }
                    ast::Item::Skill(s) => {
                        if self.declare_name(Kind::Skill, file, &s.name) {
                            decls.skills.push((file, s));
                        }
                    }
                    ast::Item::Lookup(l) => {
                        if self.declare_name(Kind::Lookup, file, &l.name) {
                            decls.lookups.push((file, l));
                        }
                    }
                    ast::Item::Queue(q) => {
                        if self.declare_name(Kind::Queue, file, &q.name) {
                            decls.queues.push((file, q));
                        }
                    }
                    ast::Item::Group(g) => {
                        if self.declare_name(Kind::Group, file, &g.name) {
                            decls.groups.push((file, g));
                        }
                    }
                    ast::Item::Menu(m) => {
                        if self.declare_name(Kind::Menu, file, &m.name) {
                            decls.menus.push((file, m));
                        }
                    }
                    ast::Item::Route(r) => {
                        if self.declare_name(Kind::Route, file, &r.name) {
                            decls.routes.push((file, r));
                        }
                    }
                    ast::Item::Switch(s) => {
                        if self.declare_name(Kind::Switch, file, &s.name) {
                            self.program.switches.push(checked::Switch {
                                name: s.name.text.clone(),
                                description: s.description.as_ref().map(|d| d.value.clone()),
                                loc: Loc::new(file, s.name.span),
                            });
                        }
                    }
                    ast::Item::Entry(e) => decls.entries.push((file, e)),
                    ast::Item::Test(t) => decls.tests.push((file, t)),
                    ast::Item::Timezone(_) | ast::Item::Country(_) | ast::Item::Include(_) => {}
                }
            }
        }
        decls
    }

    /// Records a declaration; false (after reporting D2002) for a duplicate.
    fn declare_name(&mut self, kind: Kind, file: FileId, name: &ast::Name) -> bool {
        let loc = Loc::new(file, name.span);
        if let Some(previous) = self.names.declare(kind, &name.text, loc) {
            self.diagnostics.push(
                Diagnostic::at(
                    Code::DuplicateDeclaration,
                    loc,
                    format!("{} `{}` is declared twice", kind.keyword(), name.text),
                )
                .label("declared again here")
                .with(previous, "first declared here")
                .help(format!(
                    "rename one of them, or merge them into one `{}` block",
                    kind.keyword()
                )),
            );
            return false;
        }
        true
    }

    fn push(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    fn refer(&mut self, kind: Kind, id: u32) {
        self.refs.push((self.owner, kind, id));
    }

    /// Whether some declaration of this name failed to parse.
    fn is_broken(&self, name: &str) -> bool {
        self.broken.iter().any(|(_, n)| n == name)
    }

    fn note_time_use(&mut self, loc: Loc) {
        if self.first_time_use.is_none() {
            self.first_time_use = Some(loc);
        }
    }

    /// The zone that hours and calendars of `file` are read in.
    fn zone_of(&self, file: FileId) -> ZoneId {
        self.file_zones.get(&file).map_or(ZoneId(0), |z| z.0)
    }

    /// Looks a name up among declarations of `kind`, reporting D2001 (with a
    /// suggestion) or D2006 (when it names something else) if it is not one.
    fn resolve(&mut self, kind: Kind, file: FileId, name: &ast::Name) -> Option<u32> {
        if let Some(id) = self.names.get(kind, &name.text) {
            self.refer(kind, id);
            return Some(id);
        }
        if self
            .broken
            .contains(&(kind.keyword().to_string(), name.text.clone()))
        {
            // Declared, but its declaration has a syntax error (reported).
            return None;
        }
        let loc = Loc::new(file, name.span);
        if let Some((other, other_loc)) = self.names.any_kind(&name.text) {
            // As for a misspelling: the declaration of the other kind is
            // what was meant, so it is not reported as unused as well.
            if let Some(id) = self.names.get(other, &name.text) {
                self.refer(other, id);
            }
            self.push(
                Diagnostic::at(
                    Code::WrongKind,
                    loc,
                    format!(
                        "`{}` is {}, not {}",
                        name.text,
                        other.article_name(),
                        kind.article_name()
                    ),
                )
                .label(format!("expected {}", kind.article_name()))
                .with(
                    other_loc,
                    format!(
                        "`{}` is declared here as {}",
                        name.text,
                        other.article_name()
                    ),
                )
                .help(wrong_kind_help(
                    kind,
                    other,
                    &name.text,
                    &self.names.names(kind).collect::<Vec<_>>(),
                )),
            );
            return None;
        }
        let known: Vec<&str> = self.names.names(kind).collect();
        let suggestion = diagnostic::did_you_mean(&name.text, known.iter().copied());
        // For the unused-declaration lint, a misspelled name counts as a
        // use of the declaration it is closest to: reporting that
        // declaration as unused would only repeat this error.
        let guessed = suggestion.and_then(|s| self.names.get(kind, s));
        let help = match suggestion {
            Some(s) => format!("did you mean `{s}`?"),
            None if known.is_empty() => {
                format!("declare it, for example `{}`", kind.template(&name.text))
            }
            None => format!("the declared {}s are {}", kind.noun(), list(&known)),
        };
        self.push(
            Diagnostic::at(
                Code::UnknownName,
                loc,
                format!("there is no {} named `{}`", kind.noun(), name.text),
            )
            .label(format!("unknown {}", kind.noun()))
            .help(help),
        );
        if let Some(id) = guessed {
            self.refer(kind, id);
        }
        None
    }

    fn zones(&mut self, files: &[(FileId, &ast::File)]) {
        // Zone 0 is the script's: the root file's zone, or UTC until declared.
        self.program.zones.push(checked::Zone {
            name: "UTC".into(),
            tz: jiff::tz::TimeZone::UTC,
        });
        for (index, (file, ast)) in files.iter().enumerate() {
            let mut seen: Option<Loc> = None;
            for item in &ast.items {
                let ast::Item::Timezone(tz) = item else {
                    continue;
                };
                let loc = Loc::new(*file, tz.span);
                if let Some(previous) = seen {
                    self.push(
                        Diagnostic::at(Code::DuplicateDeclaration, loc, "this file declares its time zone twice")
                            .label("second `timezone`")
                            .with(previous, "first declared here")
                            .help("keep one `timezone` per file; use `hours NAME in \"Zone\"` for hours kept in another zone"),
                    );
                    continue;
                }
                seen = Some(loc);
                if index == 0 {
                    // Even a misspelled zone is a declared one: D2009 says what is wrong.
                    self.has_zone = true;
                }
                let Some(zone) = self.timezone(*file, &tz.name) else {
                    continue;
                };
                if index == 0 {
                    self.program.zones[0] = zone;
                    self.has_zone = true;
                    self.file_zones.insert(*file, (ZoneId(0), loc));
                } else {
                    let id = self.intern_zone(zone);
                    self.file_zones.insert(*file, (id, loc));
                }
            }
        }
    }

    fn intern_zone(&mut self, zone: checked::Zone) -> ZoneId {
        if let Some(i) = self.program.zones.iter().position(|z| z.name == zone.name) {
            return ZoneId(i as u32);
        }
        self.program.zones.push(zone);
        ZoneId(self.program.zones.len() as u32 - 1)
    }

    /// Validates an IANA zone name (D2009).
    fn timezone(&mut self, file: FileId, name: &ast::Str) -> Option<checked::Zone> {
        match jiff::tz::TimeZone::get(&name.value) {
            Ok(tz) => Some(checked::Zone {
                name: name.value.clone(),
                tz,
            }),
            Err(_) => {
                let available = jiff::tz::db().available();
                let names: Vec<String> = available.map(|n| n.to_string()).collect();
                let help =
                    match diagnostic::did_you_mean(&name.value, names.iter().map(String::as_str)) {
                        Some(s) => format!(
                            "did you mean `{s}`? Zones are IANA names such as \"Europe/London\""
                        ),
                        None => {
                            "use an IANA zone name such as \"America/Chicago\" or \"Europe/London\""
                                .into()
                        }
                    };
                self.push(
                    Diagnostic::new(
                        Code::UnknownTimezone,
                        file,
                        name.span,
                        format!("`{}` is not a known time zone", name.value),
                    )
                    .label("unknown zone")
                    .help(help),
                );
                None
            }
        }
    }
}

#[derive(Default)]
struct Decls<'f> {
    calendars: Vec<(FileId, &'f ast::Calendar)>,
    hours: Vec<(FileId, &'f ast::Hours)>,
    skills: Vec<(FileId, &'f ast::Skill)>,
    lookups: Vec<(FileId, &'f ast::Lookup)>,
    queues: Vec<(FileId, &'f ast::Queue)>,
    groups: Vec<(FileId, &'f ast::Group)>,
    menus: Vec<(FileId, &'f ast::Menu)>,
    routes: Vec<(FileId, &'f ast::Route)>,
    entries: Vec<(FileId, &'f ast::Entry)>,
    tests: Vec<(FileId, &'f ast::Test)>,
}

/// Help for a name of the wrong kind: the function that fits, a similar
/// name of the right kind, or what to write.
fn wrong_kind_help(want: Kind, found: Kind, name: &str, candidates: &[&str]) -> String {
    match (want, found) {
        (Kind::Calendar, Kind::Hours) => {
            return format!("`holiday()` tests a calendar; test hours with `open({name})`");
        }
        (Kind::Hours, Kind::Calendar) => {
            return format!("`open()` tests hours; test a calendar with `holiday({name})`");
        }
        _ => {}
    }
    match diagnostic::did_you_mean(name, candidates.iter().copied()) {
        Some(s) => format!("did you mean {} `{s}`?", want.keyword()),
        None if candidates.is_empty() => format!(
            "no {} is declared; declare one with `{} {name} {{ ... }}`",
            want.keyword(),
            want.keyword()
        ),
        None => format!(
            "name {} here, such as {}",
            want.article_name(),
            list(candidates)
        ),
    }
}

/// `a`, `b` and `c` as a readable list.
fn list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().take(8).map(|s| format!("`{s}`")).collect();
    let more = if items.len() > 8 { ", …" } else { "" };
    format!("{}{more}", quoted.join(", "))
}

/// A help line for a word that must be one of `options`.
fn options_help(word: &str, options: &[&str]) -> String {
    match diagnostic::did_you_mean(word, options.iter().copied()) {
        Some(s) => format!("did you mean `{s}`? The options are {}", list(options)),
        None => format!("the options are {}", list(options)),
    }
}
