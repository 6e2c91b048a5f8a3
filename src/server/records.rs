//! Call records in SQLite: one row per call, written from the runtime's
//! typed records ([`Summary`]) as they arrive on the event bus's record
//! path, which loses nothing (a call's end waits while the writer is full).
//!
//! The database is in WAL mode with `synchronous = FULL`, and records are
//! written in transactions of up to [`BATCH`] rows, each holding what
//! arrived within [`WINDOW`] of its first (a group commit: one `fsync` a
//! batch, not one a call), so a record is on disk once its transaction
//! commits and a crash of the server loses no call whose row was
//! committed. A batch that cannot be written after
//! [`ATTEMPTS`] tries is logged as JSON lines (`call record not written:`)
//! on standard error, so it is not lost either.
//!
//! The columns are the record's fields as its JSON says them (one
//! serialisation serves the JSON lines, the database and later the admin
//! API), plus the whole record as JSON for what has no column yet.
//!
//! The same database keeps the switches supervisors flip: `switches`
//! holds each one's state, `switch_flips` every flip with its time and
//! who asked, so a restart puts the board back as it was.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rusqlite::{Connection, params};
use tokio::sync::mpsc;

use crate::runtime::{Flip, Summary};

/// The layout this build writes (`PRAGMA user_version`). A database of
/// layout 1 is brought to 2 when opened (`MIGRATE_1_TO_2`).
pub const SCHEMA_VERSION: i64 = 2;
/// The most records written in one transaction.
pub const BATCH: usize = 256;
/// Tries to write a batch before it goes to the log instead.
pub const ATTEMPTS: u32 = 3;
/// How long a batch stays open for more records after its first: one
/// commit (and one `fsync`) serves every call that ended meanwhile.
pub const WINDOW: Duration = Duration::from_millis(20);

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS calls (
    id              INTEGER PRIMARY KEY,
    call            INTEGER NOT NULL,
    correlation     TEXT,
    caller          TEXT NOT NULL,
    dialed          TEXT NOT NULL,
    arrived         TEXT NOT NULL,
    ended           TEXT NOT NULL,
    disposition     TEXT NOT NULL,
    queue           TEXT,
    agent           TEXT,
    wait_ms         INTEGER NOT NULL,
    talk_ms         INTEGER NOT NULL,
    tags            TEXT NOT NULL,
    path            TEXT NOT NULL,
    voicemail       TEXT,
    program_version TEXT NOT NULL,
    record          TEXT NOT NULL,
    answered        TEXT,
    wrapup_ms       INTEGER NOT NULL DEFAULT 0,
    switches        TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX IF NOT EXISTS calls_arrived ON calls (arrived);
CREATE INDEX IF NOT EXISTS calls_correlation ON calls (correlation);
CREATE TABLE IF NOT EXISTS switches (
    name    TEXT PRIMARY KEY,
    on_     INTEGER NOT NULL,
    changed TEXT NOT NULL,
    by      TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS switch_flips (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    on_  INTEGER NOT NULL,
    at   TEXT NOT NULL,
    by   TEXT NOT NULL
);
";

/// Layout 1 had no answer time, wrap-up or switches (the switch tables
/// come from `SCHEMA`, which only creates what is missing).
const MIGRATE_1_TO_2: &str = "
ALTER TABLE calls ADD COLUMN answered TEXT;
ALTER TABLE calls ADD COLUMN wrapup_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE calls ADD COLUMN switches TEXT NOT NULL DEFAULT '[]';
";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{}: cannot open the call-record database: {source}", path.display())]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error(
        "{}: a call-record database of layout {found}, and this dialect writes layout {SCHEMA_VERSION}; name another file with `database` in dialect.toml or `--db`",
        path.display()
    )]
    Layout { path: PathBuf, found: i64 },
    #[error("{}: writing call records: {source}", path.display())]
    Write {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("{}: the switches' table: {source}", path.display())]
    Switches {
        path: PathBuf,
        source: rusqlite::Error,
    },
}

/// An open call-record database.
pub struct RecordStore {
    conn: Connection,
    path: PathBuf,
}

impl RecordStore {
    /// Opens (or creates) the database at `path`, in WAL mode, with the
    /// `calls` table.
    pub fn open(path: &Path) -> Result<RecordStore, StoreError> {
        let open = |source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open(path).map_err(open)?;
        conn.busy_timeout(Duration::from_secs(5)).map_err(open)?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(open)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(open(rusqlite::Error::InvalidParameterName(format!(
                "journal_mode is {mode}, not WAL"
            ))));
        }
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(open)?;
        let found: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(open)?;
        if found != 0 && found != 1 && found != SCHEMA_VERSION {
            return Err(StoreError::Layout {
                path: path.to_path_buf(),
                found,
            });
        }
        // One transaction: a database is either migrated and stamped, or
        // left as it was.
        let tx = conn.unchecked_transaction().map_err(open)?;
        if found == 1 {
            tx.execute_batch(MIGRATE_1_TO_2).map_err(open)?;
        }
        tx.execute_batch(SCHEMA).map_err(open)?;
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)
            .map_err(open)?;
        tx.commit().map_err(open)?;
        Ok(RecordStore {
            conn,
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `records` in one transaction, each stamped with the version
    /// of the program that took its call (`CallInfo::program_version`;
    /// empty for a program no server named).
    pub fn write(&mut self, records: &[Arc<Summary>]) -> Result<(), StoreError> {
        let rows: Vec<Row> = records.iter().map(Row::of).collect();
        self.write_rows(&rows)
    }

    /// Writes rows made once (a batch tried again is not made again).
    fn write_rows(&mut self, rows: &[Row]) -> Result<(), StoreError> {
        let fail = |source| StoreError::Write {
            path: self.path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(fail)?;
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO calls (call, correlation, caller, dialed, arrived, ended,
                     disposition, queue, agent, wait_ms, talk_ms, tags, path, voicemail,
                     program_version, record, answered, wrapup_ms, switches)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                     ?17, ?18, ?19)",
                )
                .map_err(fail)?;
            for row in rows {
                let summary = &row.summary;
                insert
                    .execute(params![
                        summary.call.id as i64,
                        summary.call.correlation,
                        summary.call.caller,
                        summary.call.dialed,
                        row.arrived,
                        row.ended,
                        row.disposition,
                        summary.queue,
                        summary.agent,
                        summary.wait_ms,
                        summary.talk_ms,
                        row.tags,
                        row.path,
                        summary.voicemail,
                        summary.call.program_version.as_deref().unwrap_or(""),
                        row.record,
                        row.answered,
                        summary.wrapup_ms,
                        row.switches,
                    ])
                    .map_err(fail)?;
            }
        }
        tx.commit().map_err(fail)
    }

    /// Every switch's state as last flipped, by name.
    pub fn switches(&self) -> Result<Vec<(String, Flip)>, StoreError> {
        let fail = |source| StoreError::Switches {
            path: self.path.clone(),
            source,
        };
        let mut query = (self.conn)
            .prepare("SELECT name, on_, changed, by FROM switches ORDER BY name")
            .map_err(fail)?;
        let rows = query
            .query_map([], |r| {
                let changed: String = r.get(2)?;
                Ok((
                    r.get::<_, String>(0)?,
                    Flip {
                        on: r.get::<_, i64>(1)? != 0,
                        // A time this build did not write reads as the
                        // epoch rather than failing the start-up.
                        at: changed.parse().unwrap_or(jiff::Timestamp::UNIX_EPOCH),
                        by: r.get(3)?,
                    },
                ))
            })
            .map_err(fail)?;
        rows.collect::<Result<_, _>>().map_err(fail)
    }

    /// Keeps a flip: the switch's state and a line in `switch_flips`, in
    /// one transaction (committed, so on disk, when this returns).
    pub fn flip(&mut self, name: &str, flip: &Flip) -> Result<(), StoreError> {
        let fail = |source| StoreError::Switches {
            path: self.path.clone(),
            source,
        };
        let at = flip.at.to_string();
        let tx = self.conn.transaction().map_err(fail)?;
        tx.execute(
            "INSERT INTO switches (name, on_, changed, by) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (name) DO UPDATE SET on_ = ?2, changed = ?3, by = ?4",
            params![name, flip.on as i64, at, flip.by],
        )
        .map_err(fail)?;
        tx.execute(
            "INSERT INTO switch_flips (name, on_, at, by) VALUES (?1, ?2, ?3, ?4)",
            params![name, flip.on as i64, at, flip.by],
        )
        .map_err(fail)?;
        tx.commit().map_err(fail)
    }

    /// How many calls the database holds.
    pub fn count(&self) -> Result<i64, StoreError> {
        self.conn
            .query_row("SELECT count(*) FROM calls", [], |r| r.get(0))
            .map_err(|source| StoreError::Write {
                path: self.path.clone(),
                source,
            })
    }
}

/// A record and the columns that come from its JSON.
struct Row {
    summary: Arc<Summary>,
    arrived: String,
    ended: String,
    disposition: &'static str,
    tags: String,
    path: String,
    record: String,
    answered: Option<String>,
    switches: String,
}

impl Row {
    fn of(summary: &Arc<Summary>) -> Row {
        // Clock milliseconds → calendar time, from the arrival.
        let at = |ms: i64| {
            (summary.call.arrived)
                .checked_add(jiff::SignedDuration::from_millis(
                    ms - summary.call.arrived_ms,
                ))
                .unwrap_or(summary.call.arrived)
        };
        let ended = at(summary.ended_ms);
        Row {
            answered: summary.answered_ms.map(|ms| at(ms).to_string()),
            switches: serde_json::to_string(&summary.call.switches).unwrap_or_default(),
            arrived: summary.call.arrived.to_string(),
            ended: ended.to_string(),
            disposition: summary.disposition.name(),
            tags: serde_json::to_string(&summary.tags).unwrap_or_default(),
            path: serde_json::to_string(&summary.path).unwrap_or_default(),
            record: serde_json::to_string(&**summary).unwrap_or_default(),
            summary: Arc::clone(summary),
        }
    }
}

/// Where a writer's records come from: the server's record path (bounded:
/// a call's end waits while it is full) or the simulator's (unbounded:
/// the simulated clock must not wait).
pub trait RecordSource: Send + 'static {
    /// The next record, waiting for it; `None` once the source is closed
    /// and empty.
    fn next_waiting(&mut self) -> Option<Arc<Summary>>;
    /// The next record if one is there now.
    fn next_ready(&mut self) -> Option<Arc<Summary>>;
}

impl RecordSource for mpsc::Receiver<Arc<Summary>> {
    fn next_waiting(&mut self) -> Option<Arc<Summary>> {
        self.blocking_recv()
    }
    fn next_ready(&mut self) -> Option<Arc<Summary>> {
        self.try_recv().ok()
    }
}

impl RecordSource for mpsc::UnboundedReceiver<Arc<Summary>> {
    fn next_waiting(&mut self) -> Option<Arc<Summary>> {
        self.blocking_recv()
    }
    fn next_ready(&mut self) -> Option<Arc<Summary>> {
        self.try_recv().ok()
    }
}

/// The thread that writes what the record path brings.
pub struct RecordWriter {
    thread: Option<std::thread::JoinHandle<Written>>,
}

/// What a writer did, when it ends.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Written {
    /// Records in the database.
    pub written: u64,
    /// Records that could not be written and went to the log.
    pub logged: u64,
}

impl Written {
    /// What `serve` and `simulate` say when the writer ends.
    pub fn line(&self, path: &Path) -> String {
        let mut line = format!(
            "call records: {} written to {}",
            self.written,
            path.display()
        );
        if self.logged > 0 {
            line += &format!(", {} not written (printed on standard error)", self.logged);
        }
        line
    }
}

impl RecordWriter {
    /// Writes every record `records` brings to `store` until the source
    /// is closed (`EventBus::close_records`,
    /// or every sender dropped) and drained. With `echo`, each record is
    /// also one line on standard output, `call {json}`, from the same
    /// serialisation as the database's `record` column, written once a
    /// batch.
    pub fn start(
        mut store: RecordStore,
        mut records: impl RecordSource,
        echo: bool,
    ) -> std::io::Result<RecordWriter> {
        let thread = std::thread::Builder::new()
            .name("call-records".into())
            .spawn(move || {
                let mut done = Written::default();
                let mut batch = Vec::with_capacity(BATCH);
                while let Some(first) = records.next_waiting() {
                    // Group commit: what arrives within WINDOW of the
                    // first record goes in the same transaction.
                    // One sleep a batch, not a poll: the thread wakes
                    // once a window whatever the call rate.
                    batch.push(first);
                    let until = Instant::now() + WINDOW;
                    while batch.len() < BATCH {
                        match records.next_ready() {
                            Some(summary) => batch.push(summary),
                            None => {
                                let now = Instant::now();
                                if now >= until {
                                    break;
                                }
                                std::thread::sleep(until - now);
                            }
                        }
                    }
                    let rows: Vec<Row> = batch.drain(..).map(|s| Row::of(&s)).collect();
                    let written = write_batch(&mut store, &rows);
                    if echo {
                        // One write for the batch (standard output is
                        // line-buffered: a write a line otherwise).
                        let mut out = std::io::BufWriter::with_capacity(
                            64 * 1024,
                            std::io::stdout().lock(),
                        );
                        for row in &rows {
                            let _ = writeln!(out, "call {}", row.record);
                        }
                        let _ = out.flush();
                    }
                    match written {
                        Ok(()) => done.written += rows.len() as u64,
                        Err(e) => {
                            tracing::error!(error = %e, records = rows.len(), "call records not written; logged instead");
                            let mut err = std::io::stderr().lock();
                            for row in &rows {
                                let _ = writeln!(err, "call record not written: {}", row.record);
                            }
                            done.logged += rows.len() as u64;
                        }
                    }
                }
                done
            })?;
        Ok(RecordWriter {
            thread: Some(thread),
        })
    }

    /// Waits for the writer to drain the closed record path.
    pub fn finish(mut self) -> Written {
        self.thread
            .take()
            .and_then(|t| t.join().ok())
            .unwrap_or_default()
    }
}

fn write_batch(store: &mut RecordStore, rows: &[Row]) -> Result<(), StoreError> {
    let mut attempt = 1;
    loop {
        match store.write_rows(rows) {
            Ok(()) => return Ok(()),
            Err(e) if attempt >= ATTEMPTS => return Err(e),
            Err(e) => {
                tracing::warn!(error = %e, attempt, "writing call records, trying again");
                std::thread::sleep(Duration::from_millis(200 * u64::from(attempt)));
                attempt += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::{CallInfo, Disposition};

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("dialect-records-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn summary(id: u64, disposition: Disposition) -> Arc<Summary> {
        let call = Arc::new(CallInfo {
            id,
            caller: "+15125550123".into(),
            dialed: "+18005550100".into(),
            correlation: Some(format!("call-{id}@127.0.0.1")),
            arrived: "2026-12-02T09:00:00Z".parse().unwrap(),
            arrived_ms: 1_000,
            program_version: Some("abc123".into()),
            switches: vec!["storm".into()],
        });
        let mut s = Summary::begun(call);
        s.disposition = disposition;
        s.ended_ms = 61_000;
        s.queue = Some("support".into());
        s.wait_ms = 12_000;
        Arc::new(s)
    }

    #[test]
    fn records_are_rows_with_their_fields_in_a_wal_database() {
        let dir = scratch("rows");
        let path = dir.join("dialect.db");
        let mut store = RecordStore::open(&path).unwrap();
        store
            .write(&[
                summary(1, Disposition::Answered),
                summary(2, Disposition::Abandoned),
            ])
            .unwrap();
        assert_eq!(store.count().unwrap(), 2);
        drop(store);
        let conn = Connection::open(&path).unwrap();
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let (correlation, disposition, arrived, ended, queue, wait, version): (
            String,
            String,
            String,
            String,
            String,
            i64,
            String,
        ) = conn
            .query_row(
                "SELECT correlation, disposition, arrived, ended, queue, wait_ms, program_version
                 FROM calls WHERE call = 2",
                [],
                |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                    ))
                },
            )
            .unwrap();
        assert_eq!(correlation, "call-2@127.0.0.1");
        assert_eq!(disposition, "abandoned");
        assert_eq!(arrived, "2026-12-02T09:00:00Z");
        assert_eq!(ended, "2026-12-02T09:01:00Z");
        assert_eq!(queue, "support");
        assert_eq!(wait, 12_000);
        assert_eq!(version, "abc123");
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok");
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A database the previous layout wrote keeps its calls and gains the
    /// new columns and the switch tables.
    #[test]
    fn a_layout_1_database_is_brought_to_layout_2() {
        let dir = scratch("migrate");
        let path = dir.join("v1.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(
                "CREATE TABLE calls (id INTEGER PRIMARY KEY, call INTEGER NOT NULL,
                 correlation TEXT, caller TEXT NOT NULL, dialed TEXT NOT NULL,
                 arrived TEXT NOT NULL, ended TEXT NOT NULL, disposition TEXT NOT NULL,
                 queue TEXT, agent TEXT, wait_ms INTEGER NOT NULL, talk_ms INTEGER NOT NULL,
                 tags TEXT NOT NULL, path TEXT NOT NULL, voicemail TEXT,
                 program_version TEXT NOT NULL, record TEXT NOT NULL);
                 INSERT INTO calls (call, caller, dialed, arrived, ended, disposition,
                 wait_ms, talk_ms, tags, path, program_version, record)
                 VALUES (7, '', '+18005550100', 'a', 'b', 'answered', 0, 0, '[]', '[]', 'v', '{}');
                 PRAGMA user_version = 1;",
            )
            .unwrap();
        }
        let mut store = RecordStore::open(&path).unwrap();
        store.write(&[summary(8, Disposition::Answered)]).unwrap();
        assert_eq!(store.count().unwrap(), 2);
        drop(store);
        let conn = Connection::open(&path).unwrap();
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        let old: (String, i64) = conn
            .query_row(
                "SELECT switches, wrapup_ms FROM calls WHERE call = 7",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(old, ("[]".to_string(), 0));
        let new: String = conn
            .query_row("SELECT switches FROM calls WHERE call = 8", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(new, r#"["storm"]"#);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Flips are kept (the last per switch, and every one in the log) and
    /// read back by a store opened later.
    #[test]
    fn switch_flips_survive_reopening() {
        let dir = scratch("switches");
        let path = dir.join("dialect.db");
        let flip = |on, by: &str| Flip {
            on,
            at: "2026-12-02T09:00:00Z".parse().unwrap(),
            by: by.into(),
        };
        {
            let mut store = RecordStore::open(&path).unwrap();
            assert!(store.switches().unwrap().is_empty());
            store.flip("storm", &flip(true, "ana")).unwrap();
            store.flip("drill", &flip(true, "ana")).unwrap();
            store.flip("storm", &flip(false, "bo")).unwrap();
        }
        let store = RecordStore::open(&path).unwrap();
        assert_eq!(
            store.switches().unwrap(),
            [
                ("drill".to_string(), flip(true, "ana")),
                ("storm".to_string(), flip(false, "bo"))
            ]
        );
        let flips: i64 = (store.conn)
            .query_row("SELECT count(*) FROM switch_flips", [], |r| r.get(0))
            .unwrap();
        assert_eq!(flips, 3);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_database_of_another_layout_is_refused_with_a_reason() {
        let dir = scratch("layout");
        let path = dir.join("old.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.pragma_update(None, "user_version", 7).unwrap();
        }
        let err = RecordStore::open(&path).err().expect("refused");
        let text = err.to_string();
        assert!(text.contains("layout 7") && text.contains("--db"), "{text}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_file_that_is_not_a_database_is_an_error_not_a_panic() {
        let dir = scratch("garbage");
        let path = dir.join("not.db");
        std::fs::write(
            &path,
            b"this is not SQLite, just text long enough to look like a header",
        )
        .unwrap();
        let err = RecordStore::open(&path).err().expect("refused");
        assert!(err.to_string().contains("not.db"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_writer_drains_every_record_before_it_finishes() {
        let dir = scratch("writer");
        let path = dir.join("dialect.db");
        let store = RecordStore::open(&path).unwrap();
        let (tx, rx) = mpsc::channel(4);
        let writer = RecordWriter::start(store, rx, false).unwrap();
        let sender = std::thread::spawn(move || {
            for id in 0..1_000 {
                tx.blocking_send(summary(id, Disposition::Answered))
                    .unwrap();
            }
        });
        sender.join().unwrap();
        let done = writer.finish();
        assert_eq!(
            done,
            Written {
                written: 1_000,
                logged: 0
            }
        );
        assert_eq!(RecordStore::open(&path).unwrap().count().unwrap(), 1_000);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
