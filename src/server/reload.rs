//! Script reloads while calls go on. A reload loads the script's files
//! again, checks and compiles them, reads the roster and the lookup rows,
//! runs the script's `test` blocks (a failing test refuses the reload
//! unless forced), and only then swaps the one program slot the runtime
//! reads (and, in redirect mode, the answerer's). Calls in progress keep
//! the program they started with; each call's record names its version.
//! A script with errors, a failing test or a roster that does not fit
//! changes nothing, and the reason goes back to whoever asked.
//!
//! After the swap, the reload says which calls the new version sends
//! elsewhere (`diff::compare`, as `dialect diff` does); a dry run says it
//! instead of swapping, and a reload that names the version it `expect`s
//! is refused ([`Refused::Stale`]) when the files hold another, so that
//! `dialect reload` can show the change first and then put exactly that
//! in force without the diff delaying the swap.
//!
//! When only data changed (the files of the [`Stamp`] in force say which:
//! lookup sources, the roster), the reload reads those again and puts
//! them in force with the program in force: nothing is parsed, checked or
//! compiled.
//!
//! Reloads happen one at a time, off the serving path (the caller runs
//! [`Reloader::reload`] on a thread of its own). Every version put in
//! force is kept in a history with its time and who asked.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::lookup::LookupTables;
use crate::program::{Engine, Program};
use crate::runtime::{Roster, Runtime};
use crate::server::answer::{Slot, Version};
use crate::server::stamp::{Changed, Stamp};
use crate::sip::credential::Credentials;
use crate::sip::registrar::Registrar;

/// What the loader gives: a compiled script, its lookup rows and the
/// roster, read the way `serve` read them at start.
pub struct Candidate {
    pub program: Program,
    pub tables: LookupTables,
    /// `server::version` of the script's files.
    pub version: Arc<str>,
    /// The roster, when the server has one, and its phones' credentials.
    pub roster: Option<(Roster, Credentials)>,
    /// How many files the script has.
    pub files: usize,
    /// The files it was read from.
    pub stamp: Stamp,
    /// How long each step of the load took, in order.
    pub phases: Vec<Phase>,
}

/// One step of a reload and how long it took: the reload's answer lists
/// them, so a slow reload says where its time went.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Phase {
    /// `stamp`, `read and check`, `compile`, `rows (beside compile)`,
    /// `roster and digests`, `tests`, `swap`.
    pub name: String,
    pub us: u64,
}

impl Phase {
    /// The step `name` that ran from `*since` to now; `*since` moves to now.
    pub fn since(name: &str, since: &mut Instant) -> Phase {
        let now = Instant::now();
        let took = now - *since;
        *since = now;
        Phase::took(name, took)
    }

    /// The step `name` that took `took`.
    pub fn took(name: &str, took: Duration) -> Phase {
        Phase {
            name: name.to_string(),
            us: micros(took),
        }
    }
}

/// Data read again for the program in force: what a data-only reload
/// puts in force.
pub struct Data {
    /// The lookup rows, when asked for.
    pub tables: Option<LookupTables>,
    /// The roster and its phones' credentials, when asked for and the
    /// server has one.
    pub roster: Option<(Roster, Credentials)>,
    /// The stamp with the digests of what was read.
    pub stamp: Stamp,
}

/// Where a server's script and data come from: what `serve` reads at
/// start and every reload reads again. `cli` decides which files these
/// are and reads them.
pub trait Source: Send + Sync {
    /// Loads, checks and compiles the script from its files, with its
    /// lookup rows and the roster. A script with errors is
    /// [`Refused::Script`] with the diagnostics rendered as `lint`
    /// renders them (and as `lint --format json` writes them); a roster
    /// or configuration that does not fit is [`Refused::Setup`]. `verb`
    /// names the command for its refusals (`cannot VERB: ...`).
    fn load(&self, verb: &str) -> Result<Candidate, Refused>;

    /// Which of the files `stamp` names changed since (reading them,
    /// parsing nothing).
    fn changed(&self, stamp: &Stamp) -> Changed;

    /// Reads again, for `program` (the one in force), the lookup rows
    /// when `what.lookups` and the roster when `what.roster`.
    fn data(&self, stamp: &Stamp, program: &Program, what: Changed) -> Result<Data, Refused>;
}

/// What the asker of a reload wants.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ask {
    /// Put it in force even if some tests fail.
    pub force: bool,
    /// Say what would change; change nothing.
    pub dry_run: bool,
    /// Refuse ([`Refused::Stale`]) unless the files hold this version.
    pub expect: Option<String>,
}

/// One version put in force.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Loaded {
    pub version: String,
    /// When it was put in force.
    pub at: jiff::Timestamp,
    /// Who asked: `start`, `SIGHUP`, `watch`, or the admin API's caller.
    pub by: String,
    pub files: usize,
}

/// What a reload (or a rollback) did: the admin API's answer, which
/// `dialect reload` reads back.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Reloaded {
    /// The version now in force.
    pub version: String,
    /// The version before.
    pub previous: String,
    /// Whether the script changed; when not, only the roster and the
    /// lookup rows were put in force.
    pub changed: bool,
    /// Tests the new version passed (0 when forced).
    pub tests: usize,
    /// Whether it was put in force (false for a dry run).
    pub applied: bool,
    /// Whether an earlier version was put back (`rollback`).
    pub rollback: bool,
    /// From the request to the swap (or, for a dry run, to the end of
    /// the tests), in microseconds.
    pub latency_us: u64,
    /// Which calls the new version sends elsewhere than the one before
    /// (`dialect diff`'s text), worked out after the swap (for a dry
    /// run, instead of it).
    pub changes: String,
    /// What a data-only reload read again (`lookups`, `roster`); empty
    /// when the script was loaded.
    #[serde(default)]
    pub data: Vec<String>,
    /// For a data-only reload, the latency of the last reload that loaded
    /// the script, to compare with.
    #[serde(default)]
    pub script_latency_us: Option<u64>,
    /// Where `latency_us` went, step by step (empty for a rollback and a
    /// data-only reload).
    #[serde(default)]
    pub phases: Vec<Phase>,
}

/// Why a reload changed nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// The script has errors, or its files, roster or lookup sources
    /// could not be read: the diagnostics rendered as `lint` renders them
    /// (`text`) and, for errors in the script, as `lint --format json`
    /// writes them (`diagnostics`, one object each).
    #[error("{text}")]
    Script {
        text: String,
        diagnostics: Vec<serde_json::Value>,
    },
    /// The asker expected another version than the files hold (they
    /// changed since a dry run showed it).
    #[error(
        "the script changed since version {expected} was shown: its files now hold version {found}; nothing changed (look at the change again and reload)"
    )]
    Stale { expected: String, found: String },
    /// Tests of the new version failed.
    #[error(
        "{} of {tests} test(s) of version {version} failed: {}; the running version stays (reload with --force to put it in force anyway)",
        failed.len(),
        failed.join(", ")
    )]
    Tests {
        version: String,
        tests: usize,
        failed: Vec<String>,
    },
    /// The roster or the configuration does not fit the script, or the
    /// runtime refused the new program.
    #[error("{0}")]
    Setup(String),
}

/// Puts new versions of the script in force, one at a time.
pub struct Reloader {
    source: Box<dyn Source>,
    runtime: Arc<Runtime>,
    /// Redirect mode's answerer reads its own slot.
    slot: Option<Arc<Slot>>,
    /// Takes a new roster's credentials.
    registrar: Arc<Registrar>,
    engine: Engine,
    history: Mutex<Vec<Loaded>>,
    /// The versions before the one in force that a rollback can put back,
    /// most recent last, at most [`KEPT`].
    kept: Mutex<VecDeque<Kept>>,
    /// The files the script and data in force were read from.
    stamp: Mutex<Stamp>,
    /// Told each new stamp (`serve --watch` watches its folders).
    on_stamp: Mutex<Option<OnStamp>>,
    /// Told each roster put in force (the B2BUA's agents by SIP user).
    on_roster: Mutex<Option<OnRoster>>,
    /// How long the last reload that loaded the script took, in µs.
    script_latency_us: Mutex<Option<u64>>,
    one_at_a_time: Mutex<()>,
}

/// What is told each new stamp.
pub type OnStamp = Box<dyn Fn(&Stamp) + Send + Sync>;

/// What is told each roster a reload puts in force.
pub type OnRoster = Box<dyn Fn(&Roster) + Send + Sync>;

/// How many earlier versions stay compiled for `rollback`. Each holds its
/// code and lookup rows until it falls out, so the memory of a version
/// is freed when its last call has ended and [`KEPT`] newer versions have
/// been put in force.
pub const KEPT: usize = 3;

/// An earlier version, compiled, that a rollback puts back as it is.
struct Kept {
    version: Arc<str>,
    program: Arc<Program>,
    tables: Arc<LookupTables>,
    files: usize,
}

/// Why a rollback changed nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoRollback {
    #[error("there is no earlier version to roll back to")]
    Nothing,
    #[error(
        "version {0} is not kept (rollback keeps the {KEPT} versions before the one in force: {1}); edit the script back and reload it"
    )]
    NotKept(String, String),
    #[error("version {0} is the one in force")]
    InForce(String),
    #[error("{0}")]
    Setup(String),
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Reloader {
    /// A reloader for the server whose runtime (and, in redirect mode,
    /// answerer slot) serve `first`, the version loaded at start.
    /// `stamp` names the files it was read from.
    pub fn new(
        source: Box<dyn Source>,
        runtime: Arc<Runtime>,
        slot: Option<Arc<Slot>>,
        registrar: Arc<Registrar>,
        engine: Engine,
        first: Loaded,
        stamp: Stamp,
    ) -> Reloader {
        Reloader {
            source,
            runtime,
            slot,
            registrar,
            engine,
            history: Mutex::new(vec![first]),
            kept: Mutex::new(VecDeque::new()),
            stamp: Mutex::new(stamp),
            on_stamp: Mutex::new(None),
            on_roster: Mutex::new(None),
            script_latency_us: Mutex::new(None),
            one_at_a_time: Mutex::new(()),
        }
    }

    /// The files the script and data in force were read from.
    pub fn stamp(&self) -> Stamp {
        lock(&self.stamp).clone()
    }

    /// Has `tell` told every new stamp, after each reload that read files.
    pub fn on_stamp(&self, tell: OnStamp) {
        *lock(&self.on_stamp) = Some(tell);
    }

    fn set_stamp(&self, stamp: Stamp) {
        if let Some(tell) = &*lock(&self.on_stamp) {
            tell(&stamp);
        }
        *lock(&self.stamp) = stamp;
    }

    /// Loads the script again and puts it in force, unless it has errors,
    /// a test fails (and `force` is not given) or the roster does not fit.
    /// Blocks while it loads, compiles and tests: call it off the serving
    /// path.
    /// With `dry_run`, it stops before the swap and says what the swap
    /// would change. When only lookup sources or the roster changed, only
    /// those are read again and put in force.
    ///
    /// Whoever asked, the outcome is logged the same way: the new version
    /// and what it changes on standard output, a refusal's reasons on
    /// standard error.
    pub fn reload(&self, by: &str, ask: &Ask) -> Result<Reloaded, Refused> {
        let done = self.try_reload(by, ask);
        match &done {
            Ok(reloaded) if reloaded.applied => reloaded.log(by),
            Ok(_dry_run) => {}
            Err(refused) => {
                let text = refused.to_string();
                eprint!("{text}");
                if !text.ends_with('\n') {
                    eprintln!();
                }
                eprintln!("dialect serve: reload ({by}) refused; the running version stays");
            }
        }
        done
    }

    fn try_reload(&self, by: &str, ask: &Ask) -> Result<Reloaded, Refused> {
        let asked = Instant::now();
        let _one = lock(&self.one_at_a_time);
        let stamp = self.stamp();
        let changed = self.source.changed(&stamp);
        if !changed.script {
            return self.data_reload(asked, &stamp, changed, ask);
        }
        let mut since = asked;
        let stamped = Phase::since("stamp", &mut since);
        let Ask {
            force,
            dry_run,
            expect,
        } = ask;
        let (force, dry_run) = (*force, *dry_run);
        let candidate = self.source.load("reload")?;
        since = Instant::now();
        if let Some(expected) = expect
            && **expected != *candidate.version
        {
            return Err(Refused::Stale {
                expected: expected.clone(),
                found: candidate.version.to_string(),
            });
        }
        let previous_program = self.runtime.program();
        let previous_tables = self.runtime.tables();
        let previous_files = lock(&self.history).last().map_or(0, |l| l.files);
        let previous: String = (previous_program.version())
            .map(|v| v.to_string())
            .unwrap_or_default();
        let changed = *candidate.version != *previous;
        let tables = Arc::new(candidate.tables);
        let program = if changed {
            Arc::new(
                candidate
                    .program
                    .with_version(Arc::clone(&candidate.version)),
            )
        } else {
            // The same script: only the roster and the rows change, and
            // calls keep sharing the compiled code they have.
            Arc::clone(&previous_program)
        };
        let mut phases = vec![stamped];
        phases.extend(candidate.phases);
        let tests = if changed && !force {
            self.gate(&program, &tables, &candidate.version)?
        } else {
            0
        };
        phases.push(Phase::since("tests", &mut since));
        if dry_run {
            let latency = asked.elapsed();
            let changes = self.changes(changed, &previous_program, &program);
            return Ok(Reloaded {
                version: candidate.version.to_string(),
                previous,
                changed,
                tests,
                applied: false,
                rollback: false,
                latency_us: micros(latency),
                changes,
                data: Vec::new(),
                script_latency_us: None,
                phases,
            });
        }
        let (roster, credentials) = match candidate.roster {
            Some((roster, credentials)) => (Some(roster), Some(credentials)),
            None => (None, None),
        };
        self.runtime
            .reload(Arc::clone(&program), Arc::clone(&tables), roster.as_ref())
            .map_err(|e| Refused::Setup(e.to_string()))?;
        if let (Some(roster), Some(credentials)) = (&roster, credentials) {
            self.roster_in_force(roster, credentials);
        }
        if let Some(slot) = &self.slot {
            slot.store(Arc::new(Version {
                program: Arc::clone(&program),
                tables,
                version: Arc::clone(&candidate.version),
            }));
        }
        let latency = asked.elapsed();
        phases.push(Phase::since("swap", &mut since));
        // What the change does to calls, said after the swap so that it
        // does not delay it.
        let changes = self.changes(changed, &previous_program, &program);
        *lock(&self.script_latency_us) = Some(micros(latency));
        self.set_stamp(candidate.stamp);
        if changed {
            self.keep(previous_program, previous_tables, previous_files);
            lock(&self.history).push(Loaded {
                version: candidate.version.to_string(),
                at: jiff::Timestamp::now(),
                by: by.to_string(),
                files: candidate.files,
            });
        }
        Ok(Reloaded {
            version: candidate.version.to_string(),
            previous,
            changed,
            tests,
            applied: true,
            rollback: false,
            latency_us: micros(latency),
            changes,
            data: Vec::new(),
            script_latency_us: None,
            phases,
        })
    }

    /// Puts the lookup rows and the roster read again in force with the
    /// program in force, compiling nothing: the script's files are those
    /// of `stamp`. When no file changed, both are read again (a reload
    /// always reads them). Tests run when rows changed, as they may read
    /// them.
    fn data_reload(
        &self,
        asked: Instant,
        stamp: &Stamp,
        changed: Changed,
        ask: &Ask,
    ) -> Result<Reloaded, Refused> {
        let program = self.runtime.program();
        let version: String = program.version().map(|v| v.to_string()).unwrap_or_default();
        if let Some(expected) = &ask.expect
            && *expected != version
        {
            return Err(Refused::Stale {
                expected: expected.clone(),
                found: version,
            });
        }
        let what = if changed.any() {
            changed
        } else {
            Changed {
                script: false,
                lookups: true,
                roster: true,
            }
        };
        let data = self.source.data(stamp, &program, what)?;
        let tables = match data.tables {
            Some(t) => Arc::new(t),
            None => self.runtime.tables(),
        };
        let mut read = Vec::new();
        if what.lookups {
            read.push("lookups".to_string());
        }
        if what.roster && data.roster.is_some() {
            read.push("roster".to_string());
        }
        let tests = if what.lookups && !ask.force {
            self.gate(&program, &tables, &version)?
        } else {
            0
        };
        let script_latency_us = *lock(&self.script_latency_us);
        let answer = |applied: bool, latency: Duration| Reloaded {
            version: version.clone(),
            previous: version.clone(),
            changed: false,
            tests,
            applied,
            rollback: false,
            latency_us: micros(latency),
            changes: String::new(),
            data: read.clone(),
            script_latency_us,
            phases: Vec::new(),
        };
        if ask.dry_run {
            return Ok(answer(false, asked.elapsed()));
        }
        match &data.roster {
            Some((roster, _)) => {
                (self.runtime).reload(Arc::clone(&program), Arc::clone(&tables), Some(roster))
            }
            None => (self.runtime)
                .reload_data(Arc::clone(&tables))
                .map_err(Into::into),
        }
        .map_err(|e| Refused::Setup(e.to_string()))?;
        if let Some((roster, credentials)) = data.roster {
            self.roster_in_force(&roster, credentials);
        }
        if let Some(slot) = &self.slot {
            let in_slot = slot.load();
            slot.store(Arc::new(Version {
                program: Arc::clone(&program),
                tables,
                version: Arc::clone(&in_slot.version),
            }));
        }
        let latency = asked.elapsed();
        self.set_stamp(data.stamp);
        Ok(answer(true, latency))
    }

    /// Keeps the version just replaced for a rollback.
    fn keep(&self, program: Arc<Program>, tables: Arc<LookupTables>, files: usize) {
        let Some(version) = program.version().cloned() else {
            return;
        };
        let mut kept = lock(&self.kept);
        kept.retain(|k| k.version != version);
        kept.push_back(Kept {
            version,
            program,
            tables,
            files,
        });
        while kept.len() > KEPT {
            kept.pop_front();
        }
    }

    /// Puts back an earlier version, as it was compiled and with the
    /// lookup rows it had: `to`, or the one before the version in force.
    /// Nothing is loaded, compiled or tested again; the roster stays.
    /// Logged as [`reload`](Reloader::reload) logs.
    pub fn rollback(&self, to: Option<&str>, by: &str) -> Result<Reloaded, NoRollback> {
        let done = self.try_rollback(to, by);
        match &done {
            Ok(back) => back.log(by),
            Err(e) => eprintln!("dialect serve: rollback ({by}) refused: {e}"),
        }
        done
    }

    fn try_rollback(&self, to: Option<&str>, by: &str) -> Result<Reloaded, NoRollback> {
        let asked = Instant::now();
        let _one = lock(&self.one_at_a_time);
        let current = self.runtime.program();
        let previous: String = current.version().map(|v| v.to_string()).unwrap_or_default();
        if to == Some(previous.as_str()) {
            return Err(NoRollback::InForce(previous));
        }
        let target = {
            let mut kept = lock(&self.kept);
            let at = match to {
                Some(v) => kept.iter().rposition(|k| &*k.version == v).ok_or_else(|| {
                    let list: Vec<&str> = kept.iter().map(|k| &*k.version).collect();
                    NoRollback::NotKept(v.to_string(), list.join(", "))
                })?,
                None => kept.len().checked_sub(1).ok_or(NoRollback::Nothing)?,
            };
            kept.remove(at).ok_or(NoRollback::Nothing)?
        };
        let previous_tables = self.runtime.tables();
        let previous_files = lock(&self.history).last().map_or(0, |l| l.files);
        if let Err(e) = self.runtime.reload(
            Arc::clone(&target.program),
            Arc::clone(&target.tables),
            None,
        ) {
            lock(&self.kept).push_back(target);
            return Err(NoRollback::Setup(e.to_string()));
        }
        if let Some(slot) = &self.slot {
            slot.store(Arc::new(Version {
                program: Arc::clone(&target.program),
                tables: Arc::clone(&target.tables),
                version: Arc::clone(&target.version),
            }));
        }
        let latency = asked.elapsed();
        // The program in force is no longer the one on disk: the next
        // reload loads the script again.
        lock(&self.stamp).forget_script();
        let changes = self.changes(true, &current, &target.program);
        self.keep(current, previous_tables, previous_files);
        lock(&self.history).push(Loaded {
            version: target.version.to_string(),
            at: jiff::Timestamp::now(),
            by: format!("rollback ({by})"),
            files: target.files,
        });
        Ok(Reloaded {
            version: target.version.to_string(),
            previous,
            changed: true,
            tests: 0,
            applied: true,
            rollback: true,
            latency_us: micros(latency),
            changes,
            data: Vec::new(),
            script_latency_us: None,
            phases: Vec::new(),
        })
    }

    /// After the runtime took `roster`: its phones' credentials go to the
    /// registrar, and whoever follows the roster is told, so a script
    /// reload and a data-only one put a roster in force the same way.
    fn roster_in_force(&self, roster: &Roster, credentials: Credentials) {
        self.registrar.set_credentials(credentials);
        if let Some(tell) = lock(&self.on_roster).as_ref() {
            tell(roster);
        }
    }

    /// Tells `tell` each roster a reload puts in force from now on.
    pub fn on_roster(&self, tell: OnRoster) {
        *lock(&self.on_roster) = Some(tell);
    }

    /// The version's tests, the gate of every reload that changes what
    /// decisions read: how many passed, or the refusal naming those that
    /// failed.
    fn gate(
        &self,
        program: &Arc<Program>,
        tables: &Arc<LookupTables>,
        version: &str,
    ) -> Result<usize, Refused> {
        let outcomes = crate::suite::run_all(program, tables, self.engine);
        let failed: Vec<String> = (outcomes.iter())
            .filter(|o| !o.passed)
            .map(|o| format!("`{}`", o.name))
            .collect();
        if failed.is_empty() {
            return Ok(outcomes.len());
        }
        Err(Refused::Tests {
            version: version.to_string(),
            tests: outcomes.len(),
            failed,
        })
    }

    /// `dialect diff` of two versions, bounded for large scripts, with its
    /// text ("no call goes elsewhere" when none does).
    fn compare(&self, old: &Program, new: &Program) -> (crate::diff::Diff, String) {
        let options = crate::diff::Options {
            engine: self.engine,
            calls_per_entry: DIFF_CALLS_PER_ENTRY,
            ..crate::diff::Options::new(jiff::Zoned::now().date())
        };
        let diff = crate::diff::compare(old, new, &options);
        let text = if diff.changes.is_empty() {
            "no call goes elsewhere".to_string()
        } else {
            diff.render_text()
        };
        (diff, text)
    }

    /// `dialect diff`'s text for the change (empty when the script did not
    /// change).
    fn changes(&self, changed: bool, old: &Program, new: &Program) -> String {
        if changed {
            self.compare(old, new).1
        } else {
            String::new()
        }
    }

    /// Every version put in force, oldest first; the last is in force.
    pub fn versions(&self) -> Vec<Loaded> {
        lock(&self.history).clone()
    }

    /// Which calls version `to` sends elsewhere than version `from`, both
    /// among the versions held compiled (the one in force and the
    /// [`KEPT`] before it): by default from the version before the one
    /// in force to the one in force, so "what did the last reload
    /// change". Blocks while it follows the calls: call it off the
    /// serving path.
    pub fn diff(&self, from: Option<&str>, to: Option<&str>) -> Result<Compared, NoDiff> {
        let current = self.runtime.program();
        let in_force: Arc<str> = current.version().cloned().unwrap_or_else(|| "".into());
        let mut held: Vec<(Arc<str>, Arc<Program>)> = (lock(&self.kept).iter())
            .map(|k| (Arc::clone(&k.version), Arc::clone(&k.program)))
            .collect();
        held.push((Arc::clone(&in_force), current));
        let names = || {
            (held.iter())
                .map(|(v, _)| v.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let find = |v: &str| {
            (held.iter())
                .rev()
                .find(|(h, _)| h.starts_with(v) && !v.is_empty())
                .cloned()
                .ok_or_else(|| NoDiff::NotHeld(v.to_string(), names()))
        };
        let new = match to {
            Some(v) => find(v)?,
            None => held.last().cloned().ok_or(NoDiff::Nothing)?,
        };
        let old = match from {
            Some(v) => find(v)?,
            None if held.len() < 2 => return Err(NoDiff::Nothing),
            None => held[held.len() - 2].clone(),
        };
        let (diff, text) = self.compare(&old.1, &new.1);
        Ok(Compared {
            from: old.0.to_string(),
            to: new.0.to_string(),
            text,
            diff,
        })
    }
}

/// Two held versions compared ([`Reloader::diff`]).
#[derive(Debug, Serialize)]
pub struct Compared {
    pub from: String,
    pub to: String,
    /// `dialect diff`'s text.
    pub text: String,
    /// The same as `dialect diff --format json` gives it.
    pub diff: crate::diff::Diff,
}

/// Why two versions could not be compared.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoDiff {
    #[error("only one version is held, so there is nothing to compare it with")]
    Nothing,
    #[error(
        "version {0} is not held compiled (the server holds the one in force and the {KEPT} before it: {1})"
    )]
    NotHeld(String, String),
}

/// Calls `dialect diff` follows per entry when a reload says what changed.
pub const DIFF_CALLS_PER_ENTRY: usize = 5_000;

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

impl Reloaded {
    /// The server's log of it: its line, who asked, and what it changes.
    fn log(&self, by: &str) {
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "dialect serve: {} ({by})", self.line());
        for line in self.changes.lines() {
            let _ = writeln!(out, "  {line}");
        }
        let _ = out.flush();
    }

    /// A data-only reload's line, with the last script reload's latency
    /// beside its own.
    fn data_line(&self, ms: f64) -> String {
        let what = match (
            self.data.iter().any(|d| d == "lookups"),
            self.data.iter().any(|d| d == "roster"),
        ) {
            (true, true) => "the lookup rows and the roster",
            (true, false) => "the lookup rows",
            (false, true) => "the roster",
            (false, false) => "nothing",
        };
        let tests = if self.tests > 0 {
            format!("; {} test(s) passed", self.tests)
        } else {
            String::new()
        };
        if !self.applied {
            return format!(
                "dry run: the script is unchanged (version {}); {what} would be read again{tests}; nothing changed",
                self.version
            );
        }
        let compare = match self.script_latency_us {
            Some(us) => format!(
                "; the last reload that loaded the script took {:.1} ms",
                us as f64 / 1000.0
            ),
            None => String::new(),
        };
        format!(
            "reloaded data only: {what} read again and in force in {ms:.1} ms{tests}; the script is unchanged (version {}), not parsed or compiled{compare}",
            self.version
        )
    }

    /// ` (read and check 12.0 ms, compile 25.1, ...)`: where the latency
    /// went; empty without phases.
    fn steps(&self) -> String {
        let Some((first, rest)) = self.phases.split_first() else {
            return String::new();
        };
        let mut text = format!(" ({} {:.1} ms", first.name, first.us as f64 / 1000.0);
        for p in rest {
            text.push_str(&format!(", {} {:.1}", p.name, p.us as f64 / 1000.0));
        }
        text.push(')');
        text
    }

    /// One line for the log and the command line.
    pub fn line(&self) -> String {
        let ms = self.latency_us as f64 / 1000.0;
        if self.rollback {
            format!(
                "rolled back: version {} back in force (was {}); swapped {ms:.1} ms after the request",
                self.version, self.previous
            )
        } else if !self.data.is_empty() {
            self.data_line(ms)
        } else if !self.applied {
            format!(
                "dry run: version {} (running {}) would be put in force; {} test(s) passed; nothing changed",
                self.version, self.previous, self.tests
            )
        } else if self.changed {
            format!(
                "reloaded: version {} in force (was {}); {} test(s) passed; swapped {ms:.1} ms after the request{}",
                self.version,
                self.previous,
                self.tests,
                self.steps()
            )
        } else {
            format!(
                "reloaded: the script is unchanged (version {}); roster and lookup rows read again in {ms:.1} ms",
                self.version
            )
        }
    }
}
