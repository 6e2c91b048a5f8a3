//! Loading a program's lookup tables from the sources its script names:
//! CSV tables the loader already read, and SQLite tables read here. A
//! server reloading data, `dialect test`, `explain` and `simulate` all load
//! them this way.

use std::path::{Path, PathBuf};

use super::read::{self, CsvTable};
use super::tables::LookupTables;
use crate::check::SourceInfo;
use crate::checked::{self, Field, Lookup, SkillKind, Type};
use crate::facts::{Row, Slot};
use crate::load::{self, FileSystem, Loader};
use crate::source::Loc;

/// Why a program's lookup tables could not be loaded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    /// `file` is the source as the script names it.
    #[error("lookup `{lookup}`: `{file}` does not exist")]
    Missing { lookup: String, file: String },
    #[error("lookup `{lookup}`: `{file}` cannot be read: {why}")]
    Unreadable {
        lookup: String,
        file: String,
        why: String,
    },
    /// SQLite could not open or read the database.
    #[error("lookup `{lookup}`: {path}: {message}")]
    Database {
        lookup: String,
        path: String,
        message: String,
    },
    #[error("lookup `{lookup}`: table `{table}` has no column {columns}")]
    NoColumn {
        lookup: String,
        table: String,
        columns: String,
    },
}

/// Reads the rows of every lookup of a program from the sources `loader`
/// found for it. Rows whose key or cells do not parse are skipped
/// (`dialect lint` reports them); the first row for a key wins.
pub fn load_tables(
    loader: &Loader<'_>,
    program: &checked::Program,
) -> Result<LookupTables, LoadError> {
    Founds::of(loader, program)?.tables(program)
}

/// Where each lookup's rows are, as the loader found them: what
/// [`load_tables`] reads, split so that the reading, which needs no
/// loader, can run on another thread (a server's reload reads the rows
/// while it compiles).
pub struct Founds<'a>(Vec<Found<'a>>);

impl<'a> Founds<'a> {
    /// The source of every lookup of `program`, or the first missing or
    /// unreadable one.
    pub fn of(loader: &'a Loader<'_>, program: &checked::Program) -> Result<Founds<'a>, LoadError> {
        let found = (program.lookups.iter()).map(|l| match loader.source_info(l.file, &l.source) {
            Some(SourceInfo::Csv(_, csv)) => Ok(Found::Csv(csv)),
            Some(SourceInfo::Database) => Ok(Found::Database(source_path(loader, l))),
            Some(SourceInfo::Missing) | None => Err(missing(l)),
            Some(SourceInfo::Unreadable(why)) => Err(unreadable(l, why.clone())),
        });
        Ok(Founds(found.collect::<Result<_, _>>()?))
    }

    /// Reads the rows of `program`'s lookups from these sources.
    pub fn tables(self, program: &checked::Program) -> Result<LookupTables, LoadError> {
        let mut tables = LookupTables::empty(program);
        for (index, found) in self.0.into_iter().enumerate() {
            fill(&mut tables, program, index, found)?;
        }
        Ok(tables)
    }
}

/// Where a program's lookup rows come from: each lookup's source as the
/// loader resolved it. Kept from a script's load, it reads the rows again
/// without parsing the script: a data reload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sources {
    /// Per lookup: its name and its source's path.
    paths: Vec<(String, PathBuf)>,
}

impl Sources {
    /// The sources of `program`'s lookups, as `loader` resolved them.
    pub fn of(loader: &Loader<'_>, program: &checked::Program) -> Sources {
        let paths = (program.lookups.iter())
            .map(|l| (l.name.clone(), source_path(loader, l)))
            .collect();
        Sources { paths }
    }

    /// Each lookup's source path, in the program's order.
    pub fn paths(&self) -> impl Iterator<Item = &Path> {
        self.paths.iter().map(|(_, p)| p.as_path())
    }

    /// Reads the rows of `program`'s lookups from these sources through
    /// `fs`, with the loader's limits and the same errors as
    /// [`load_tables`]. `program` must declare the lookups the sources were
    /// found for; another lookup's source reads as missing.
    pub fn read(
        &self,
        fs: &dyn FileSystem,
        program: &checked::Program,
    ) -> Result<LookupTables, LoadError> {
        let mut tables = LookupTables::empty(program);
        for (index, l) in program.lookups.iter().enumerate() {
            let Some((_, path)) = self.paths.get(index).filter(|(name, _)| *name == l.name) else {
                return Err(missing(l));
            };
            if !fs.exists(path) {
                return Err(missing(l));
            }
            // Told apart as the loader tells them.
            if l.source.to_ascii_lowercase().ends_with(".csv") {
                let text = load::read_text(fs, path).map_err(|e| unreadable(l, e.to_string()))?;
                let csv = read::read_csv(&text).map_err(|why| unreadable(l, why))?;
                // The checker read the header when the script was loaded;
                // a column gone since would leave its field empty.
                if let Some(f) =
                    (l.fields.iter()).find(|f| !csv.columns.iter().skip(1).any(|c| *c == f.name))
                {
                    let why = format!("its header has no column `{}` any more", f.name);
                    return Err(unreadable(l, why));
                }
                fill(&mut tables, program, index, Found::Csv(&csv))?;
            } else {
                fill(&mut tables, program, index, Found::Database(path.clone()))?;
            }
        }
        Ok(tables)
    }
}

/// A lookup's source, found.
enum Found<'a> {
    Csv(&'a CsvTable),
    Database(PathBuf),
}

/// Puts the rows of lookup `index` from its source into `tables`.
fn fill(
    tables: &mut LookupTables,
    program: &checked::Program,
    index: usize,
    found: Found<'_>,
) -> Result<(), LoadError> {
    let Some(l) = program.lookups.get(index) else {
        return Ok(());
    };
    let mut add = |key: &str, cells: &mut dyn Iterator<Item = &str>| {
        let Ok(key) = read::parse_key_in(l.key, key, l.country) else {
            return;
        };
        let row: Option<Row> = (l.fields.iter().zip(cells))
            .map(|(f, cell)| parse(program, l, f, cell))
            .collect();
        if let Some(row) = row {
            tables.insert(index, key, row);
        }
    };
    match found {
        // Cells are read where the table holds them, not copied.
        Found::Csv(csv) => {
            let columns = columns(l, &csv.columns);
            for r in &csv.rows {
                let cell = |c: &Option<usize>| c.and_then(|i| r.cells.get(i)).map_or("", |s| s);
                let key = r.cells.first().map_or("", |s| s);
                add(key, &mut columns.iter().map(cell));
            }
        }
        Found::Database(path) => {
            for (key, cells) in sqlite_rows(&path, l)? {
                add(&key, &mut cells.iter().map(String::as_str));
            }
        }
    }
    Ok(())
}

/// A lookup's source beside the file that declares it.
fn source_path(loader: &Loader<'_>, l: &Lookup) -> PathBuf {
    let dir = loader
        .path(Loc::new(l.file, Default::default()))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    dir.join(&l.source)
}

fn missing(l: &Lookup) -> LoadError {
    LoadError::Missing {
        lookup: l.name.clone(),
        file: l.source.clone(),
    }
}

fn unreadable(l: &Lookup, why: String) -> LoadError {
    LoadError::Unreadable {
        lookup: l.name.clone(),
        file: l.source.clone(),
        why,
    }
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
    read::parse_cell(&f.ty, cell, values)
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
fn sqlite_rows(path: &Path, l: &Lookup) -> Result<Vec<(String, Vec<String>)>, LoadError> {
    let fail = |e: rusqlite::Error| LoadError::Database {
        lookup: l.name.clone(),
        path: load::display(path),
        message: e.to_string(),
    };
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
        return Err(LoadError::NoColumn {
            lookup: l.name.clone(),
            table,
            columns: missing.join(", "),
        });
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::{FileKind, MemoryFs, SpecialFile};

    const SCRIPT: &str = r#"
skill language { english, spanish }
lookup customer by caller from "customers.csv" {
  tier:     text
  language: language
}
entry "+1 512 555 0100" -> voicemail "general"
"#;

    /// Loads the script from `fs` and its tables, with the script's errors.
    fn load(fs: &MemoryFs) -> (Result<LookupTables, LoadError>, usize) {
        let mut loader = Loader::new(fs);
        let root = loader.load(Path::new("main.dial")).expect("loads");
        let checked = loader.check(root, None);
        let errors = checked.diagnostics.iter().filter(|d| d.is_error()).count();
        (load_tables(&loader, &checked.program), errors)
    }

    #[test]
    fn reads_rows_by_normalised_key_first_row_winning_and_bad_rows_skipped() {
        let csv = "phone,language,tier\n\
                   +1 (512) 555-0101,spanish,gold\n\
                   +15125550101,english,silver\n\
                   +15125550102,french,gold\n\
                   not a number,english,gold\n\
                   +15125550103,english,\n";
        let fs = MemoryFs::default()
            .with("main.dial", SCRIPT)
            .with("customers.csv", csv);
        let (tables, _) = load(&fs);
        let tables = tables.expect("loads");
        let text = |t: &str| Slot {
            int: 0,
            text: t.into(),
        };
        // Columns are matched to fields by name; `spanish` is value 1.
        assert_eq!(
            tables.row(0, "+15125550101"),
            Some(&vec![text("gold"), Slot::int(1)])
        );
        // `french` is no value of the skill; an empty text cell is text.
        assert_eq!(tables.row(0, "+15125550102"), None);
        assert_eq!(
            tables.row(0, "+15125550103"),
            Some(&vec![text(""), Slot::int(0)])
        );
        assert_eq!(tables.len(0), 2);
    }

    #[test]
    fn a_missing_source_is_an_error_naming_the_lookup() {
        let fs = MemoryFs::default().with("main.dial", SCRIPT);
        let (tables, errors) = load(&fs);
        assert!(errors > 0, "the checker reports it too (D3026)");
        let err = tables.unwrap_err();
        assert_eq!(
            err,
            LoadError::Missing {
                lookup: "customer".into(),
                file: "customers.csv".into()
            }
        );
        assert_eq!(
            err.to_string(),
            "lookup `customer`: `customers.csv` does not exist"
        );
    }

    /// SQLite sources are opened at the path the loader resolved: rows
    /// are read by column name, and a missing column names the lookup.
    #[test]
    fn reads_sqlite_tables_and_names_a_missing_column() {
        let dir = std::env::temp_dir().join(format!("dialect-sources-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let db = rusqlite::Connection::open(dir.join("accounts.db")).expect("db");
        db.execute_batch(
            "CREATE TABLE accounts (account TEXT, balance INTEGER, owner TEXT);
             INSERT INTO accounts VALUES ('1234', 250, 'ana'), ('bad key', 1, 'x');
             CREATE TABLE thin (account TEXT, owner TEXT);",
        )
        .expect("rows");
        drop(db);
        let script = |table: &str| {
            format!(
                "lookup account by digits from \"accounts.db\" table \"{table}\" {{\n  \
                 balance: int\n  owner: text\n}}\nentry \"+1 512 555 0100\" -> voicemail \"general\"\n"
            )
        };
        let root = dir.join("main.dial");
        let root = root.to_str().expect("utf-8 path");
        // The loader only asks whether the database exists; this reads it.
        let placeholder = dir.join("accounts.db");
        let placeholder = placeholder.to_str().expect("utf-8 path");
        let load = |table: &str| {
            let fs = MemoryFs::default()
                .with(root, &script(table))
                .with(placeholder, "");
            let mut loader = Loader::new(&fs);
            let id = loader.load(Path::new(root)).expect("loads");
            let checked = loader.check(id, None);
            load_tables(&loader, &checked.program)
        };
        let tables = load("accounts").expect("rows");
        assert_eq!(
            tables.row(0, "1234"),
            Some(&vec![
                Slot::int(250),
                Slot {
                    int: 0,
                    text: "ana".into()
                }
            ])
        );
        assert_eq!(tables.len(0), 1, "a key that is not digits is skipped");
        let err = load("thin").unwrap_err();
        assert_eq!(
            err.to_string(),
            "lookup `account`: table `thin` has no column balance"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// The sources kept from a load read the rows again, as they are now,
    /// without the script: it is not even on the second file system.
    #[test]
    fn kept_sources_read_changed_rows_without_the_script() {
        let fs = MemoryFs::default().with("main.dial", SCRIPT).with(
            "customers.csv",
            "phone,tier,language\n+15125550101,gold,english\n",
        );
        let mut loader = Loader::new(&fs);
        let root = loader.load(Path::new("main.dial")).expect("loads");
        let checked = loader.check(root, None);
        let sources = Sources::of(&loader, &checked.program);
        let first = sources.read(&fs, &checked.program).expect("rows");
        let loaded = load_tables(&loader, &checked.program).expect("rows");
        assert_eq!(first.row(0, "+15125550101"), loaded.row(0, "+15125550101"));
        assert_eq!(first.len(0), 1);

        let changed = MemoryFs::default().with(
            "customers.csv",
            "phone,tier,language\n+15125550101,silver,spanish\n+15125550102,gold,english\n",
        );
        let again = sources.read(&changed, &checked.program).expect("rows");
        assert_eq!(
            again.row(0, "+15125550101"),
            Some(&vec![
                Slot {
                    int: 0,
                    text: "silver".into()
                },
                Slot::int(1)
            ])
        );
        assert_eq!(again.len(0), 2);
        assert_eq!(again.check(&checked.program), Ok(()));

        // Gone, or not text: the errors of a load.
        let err = sources
            .read(&MemoryFs::default(), &checked.program)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "lookup `customer`: `customers.csv` does not exist"
        );
        // Not UTF-8, or a FIFO (which must not be opened: it would block).
        for special in [
            SpecialFile::Bytes(b"phone,tier\n\xff\n".to_vec()),
            SpecialFile::Kind(FileKind::Fifo),
        ] {
            let bad = MemoryFs::default().with_special("customers.csv", special);
            assert!(matches!(
                sources.read(&bad, &checked.program),
                Err(LoadError::Unreadable { .. })
            ));
        }
        // Another script's lookups are not these sources'.
        let other = SCRIPT.replace("lookup customer", "lookup client");
        let fs = MemoryFs::default()
            .with("main.dial", &other)
            .with("customers.csv", "phone,tier,language\n");
        let mut loader = Loader::new(&fs);
        let root = loader.load(Path::new("main.dial")).expect("loads");
        let other = loader.check(root, None).program;
        assert!(matches!(
            sources.read(&fs, &other),
            Err(LoadError::Missing { ref lookup, .. }) if lookup == "client"
        ));
    }
}
