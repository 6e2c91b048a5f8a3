//! Name tables: one namespace per kind of declaration.
//!
//! A queue and a skill may share a name (`queue billing`, `skill billing`),
//! since every use says which kind it means.

use std::collections::HashMap;

use crate::source::Loc;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Calendar,
    Hours,
    Skill,
    Lookup,
    Queue,
    Group,
    Menu,
    Route,
    Switch,
}

impl Kind {
    pub const ALL: [Kind; 9] = [
        Kind::Calendar,
        Kind::Hours,
        Kind::Skill,
        Kind::Lookup,
        Kind::Queue,
        Kind::Group,
        Kind::Menu,
        Kind::Route,
        Kind::Switch,
    ];

    /// The keyword that declares this kind.
    pub fn keyword(self) -> &'static str {
        match self {
            Kind::Calendar => "calendar",
            Kind::Hours => "hours",
            Kind::Skill => "skill",
            Kind::Lookup => "lookup",
            Kind::Queue => "queue",
            Kind::Group => "group",
            Kind::Menu => "menu",
            Kind::Route => "route",
            Kind::Switch => "switch",
        }
    }

    /// "queue", "hours declaration".
    pub fn noun(self) -> &'static str {
        match self {
            Kind::Hours => "hours declaration",
            other => other.keyword(),
        }
    }

    /// A minimal declaration of this kind, for help lines.
    pub fn template(self, name: &str) -> String {
        match self {
            Kind::Calendar => format!("calendar {name} {{ yearly 12-25 }}"),
            Kind::Hours => format!("hours {name} {{ mon..fri 09:00..17:00 }}"),
            Kind::Skill => format!("skill {name}"),
            Kind::Lookup => format!("lookup {name} by caller from \"{name}.csv\" {{ tier: text }}"),
            Kind::Queue => format!("queue {name} {{ strategy longest_idle }}"),
            Kind::Group => format!("group {name} {{ members 1001, 1002 }}"),
            Kind::Menu => format!("menu {name} {{ prompt \"{name}\"; 1 -> hangup }}"),
            Kind::Route => format!("route {name} {{ otherwise -> hangup }}"),
            Kind::Switch => format!("switch {name}"),
        }
    }

    /// "a queue", "an hours declaration".
    pub fn article_name(self) -> &'static str {
        match self {
            Kind::Calendar => "a calendar",
            Kind::Hours => "an hours declaration",
            Kind::Skill => "a skill",
            Kind::Lookup => "a lookup",
            Kind::Queue => "a queue",
            Kind::Group => "a group",
            Kind::Menu => "a menu",
            Kind::Route => "a route",
            Kind::Switch => "a switch",
        }
    }
}

#[derive(Default)]
pub struct Names {
    tables: HashMap<Kind, Table>,
}

#[derive(Default)]
struct Table {
    ids: HashMap<String, (u32, Loc)>,
    order: Vec<String>,
}

impl Names {
    /// Adds a name and gives it the next id of its kind; returns the earlier
    /// declaration's location if the name is taken.
    pub fn declare(&mut self, kind: Kind, name: &str, loc: Loc) -> Option<Loc> {
        let table = self.tables.entry(kind).or_default();
        if let Some(&(_, previous)) = table.ids.get(name) {
            return Some(previous);
        }
        table
            .ids
            .insert(name.to_string(), (table.order.len() as u32, loc));
        table.order.push(name.to_string());
        None
    }

    pub fn get(&self, kind: Kind, name: &str) -> Option<u32> {
        self.tables.get(&kind)?.ids.get(name).map(|&(id, _)| id)
    }

    pub fn loc(&self, kind: Kind, id: u32) -> Option<Loc> {
        let table = self.tables.get(&kind)?;
        table
            .ids
            .get(table.order.get(id as usize)?)
            .map(|&(_, loc)| loc)
    }

    /// Some kind that declares `name`, with where.
    pub fn any_kind(&self, name: &str) -> Option<(Kind, Loc)> {
        Kind::ALL
            .into_iter()
            .find_map(|k| self.tables.get(&k)?.ids.get(name).map(|&(_, loc)| (k, loc)))
    }

    pub fn names(&self, kind: Kind) -> impl Iterator<Item = &str> {
        self.tables
            .get(&kind)
            .into_iter()
            .flat_map(|t| t.order.iter().map(String::as_str))
    }

    pub fn count(&self, kind: Kind) -> usize {
        self.tables.get(&kind).map_or(0, |t| t.order.len())
    }
}
