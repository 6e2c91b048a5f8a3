//! Loading lookup rows for a program: CSV tables the loader already read,
//! and SQLite tables read here.

use std::collections::HashMap;
use std::path::Path;

use crate::check::SourceInfo;
use crate::checked::{self, Field, Lookup, SkillKind, Type};
use crate::facts::{Row, Slot};
use crate::load::{self, Loader};
use crate::lookup;
use crate::program::LookupData;
use crate::source::Loc;

/// Reads the rows of every lookup of a program. Rows whose key or cells do
/// not parse are skipped (`dialect lint` reports them); the first row for a
/// key wins.
pub fn lookup_data(loader: &Loader<'_>, program: &checked::Program) -> Result<LookupData, String> {
    let mut tables = Vec::with_capacity(program.lookups.len());
    for l in &program.lookups {
        let rows: Vec<(String, Vec<String>)> = match loader.source_info(l.file, &l.source) {
            Some(SourceInfo::Csv(_, csv)) => {
                let columns = columns(l, &csv.columns);
                csv.rows
                    .iter()
                    .map(|r| {
                        let cells = columns
                            .iter()
                            .map(|c| c.and_then(|i| r.cells.get(i)).cloned().unwrap_or_default())
                            .collect();
                        (r.cells.first().cloned().unwrap_or_default(), cells)
                    })
                    .collect()
            }
            Some(SourceInfo::Database) => {
                let dir = loader
                    .path(Loc::new(l.file, Default::default()))
                    .parent()
                    .map(Path::to_path_buf)
                    .unwrap_or_default();
                sqlite_rows(&dir.join(&l.source), l)?
            }
            Some(SourceInfo::Missing) | None => {
                return Err(format!(
                    "lookup `{}`: `{}` does not exist",
                    l.name, l.source
                ));
            }
            Some(SourceInfo::Unreadable(why)) => {
                return Err(format!(
                    "lookup `{}`: `{}` cannot be read: {why}",
                    l.name, l.source
                ));
            }
        };
        let mut table: HashMap<String, Row> = HashMap::with_capacity(rows.len());
        for (key, cells) in rows {
            let Ok(key) = lookup::parse_key_in(l.key, &key, l.country) else {
                continue;
            };
            let row: Option<Row> = l
                .fields
                .iter()
                .zip(&cells)
                .map(|(f, cell)| parse(program, l, f, cell))
                .collect();
            if let Some(row) = row {
                table.entry(key).or_insert(row);
            }
        }
        tables.push(table);
    }
    Ok(LookupData { tables })
}

/// For each field, the column holding it (the first column is the key).
fn columns(l: &Lookup, header: &[String]) -> Vec<Option<usize>> {
    l.fields
        .iter()
        .map(|f| {
            header
                .iter()
                .skip(1)
                .position(|c| *c == f.name)
                .map(|i| i + 1)
        })
        .collect()
}

fn parse(program: &checked::Program, l: &Lookup, f: &Field, cell: &str) -> Option<Slot> {
    let values = match &f.ty {
        Type::Enum(s) => match &program.skill(*s).kind {
            SkillKind::Values(v) => Some(v.as_slice()),
            SkillKind::Level => None,
        },
        _ => None,
    };
    lookup::parse_cell(&f.ty, cell, values)
        .ok()
        .map(|v| match (v, l.country) {
            // Phone cells are read in the lookup's country, like its keys.
            (checked::Value::Phone(n), Some(c)) => checked::Value::Phone(c.number(&n)),
            (v, _) => v,
        })
        .map(|v| Slot::from_value(&v))
}

/// Reads a SQLite table: the first column is the key, the others are
/// matched to fields by name.
fn sqlite_rows(path: &Path, l: &Lookup) -> Result<Vec<(String, Vec<String>)>, String> {
    let fail = |e: rusqlite::Error| format!("lookup `{}`: {}: {e}", l.name, load::display(path));
    let db =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(fail)?;
    let table = l.table.as_deref().unwrap_or_default().replace('"', "\"\"");
    let mut statement = db
        .prepare(&format!("SELECT * FROM \"{table}\""))
        .map_err(fail)?;
    let header: Vec<String> = statement.column_names().map(|c| c.to_string()).collect();
    let columns = columns(l, &header);
    let missing: Vec<&str> = l
        .fields
        .iter()
        .zip(&columns)
        .filter(|(_, c)| c.is_none())
        .map(|(f, _)| f.name.as_str())
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "lookup `{}`: table `{}` has no column {}",
            l.name,
            table,
            missing.join(", ")
        ));
    }
    let text = |v: rusqlite::types::ValueRef<'_>| match v {
        rusqlite::types::ValueRef::Null => String::new(),
        rusqlite::types::ValueRef::Integer(i) => i.to_string(),
        rusqlite::types::ValueRef::Real(f) => f.to_string(),
        rusqlite::types::ValueRef::Text(t) | rusqlite::types::ValueRef::Blob(t) => {
            String::from_utf8_lossy(t).into_owned()
        }
    };
    let mut rows = statement.query([]).map_err(fail)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(fail)? {
        let key = row.get_ref(0).map(text).map_err(fail)?;
        let cells = columns
            .iter()
            .map(|c| {
                c.and_then(|i| row.get_ref(i).ok())
                    .map(text)
                    .unwrap_or_default()
            })
            .collect();
        out.push((key, cells));
    }
    Ok(out)
}
