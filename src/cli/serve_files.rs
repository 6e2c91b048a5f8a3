//! What `dialect serve` reads from disk, at start and at every reload: the
//! script (loaded, checked and compiled), its lookup rows, the roster
//! with its phones' credentials, and the stamp of the files they came
//! from, by which a reload tells a change of data (rows, roster: read
//! them again, nothing else) from a change of the script.

use std::path::{Path, PathBuf};
use std::time::Instant;

use super::render;
use super::scripts::{self, Access};
use crate::lookup::{LookupTables, Sources};
use crate::program::Program;
use crate::runtime::Roster;
use crate::server::config::{self, Config, Mode};
use crate::server::reload::{Candidate, Data, Phase, Refused, Source};
use crate::server::stamp::{Changed, Digest, Stamp, digest};
use crate::sip::credential::{self, Credentials};
use crate::source::Loc;

/// The served script's files and the configuration that places its roster
/// and prompts.
pub struct Files {
    pub script: PathBuf,
    pub access: Access,
    pub config: Config,
    /// The configuration file, for its errors.
    pub config_file: PathBuf,
}

/// A file's digest now: SHA-256 of a script's, CSV source's or roster's
/// bytes; of a database's size and modification time (and its write-ahead
/// log's), which SQLite changes on every write. `None` when it cannot be
/// read.
pub fn fingerprint(path: &Path) -> Option<Digest> {
    let name = path.to_string_lossy().to_ascii_lowercase();
    if [".dial", ".csv", ".toml"].iter().any(|e| name.ends_with(e)) {
        return std::fs::read(path).ok().map(|bytes| digest(&bytes));
    }
    let mut seen = Vec::new();
    let wal = PathBuf::from(format!("{}-wal", path.display()));
    for (i, file) in [path, wal.as_path()].into_iter().enumerate() {
        match std::fs::metadata(file) {
            Ok(m) => {
                seen.extend(m.len().to_le_bytes());
                let at = m.modified().ok()?;
                let since = at.duration_since(std::time::UNIX_EPOCH).ok()?;
                seen.extend(since.as_nanos().to_le_bytes());
            }
            Err(_) if i > 0 => {}
            Err(_) => return None,
        }
    }
    Some(digest(&seen))
}

impl Files {
    /// The roster and its credentials, checked against `program`, with
    /// the digest of the text read; `None` when none was named and none
    /// is beside the script.
    fn roster(&self, program: &Program) -> Result<Option<(Roster, Credentials, Digest)>, Refused> {
        let path = &self.config.agents;
        if !self.config.agents_given && !path.exists() {
            return Ok(None);
        }
        let at = |e: &dyn std::fmt::Display| Refused::Setup(format!("{}: {e}", path.display()));
        let text = std::fs::read_to_string(path).map_err(|e| {
            Refused::Setup(format!("cannot read the roster {}: {e}", path.display()))
        })?;
        let roster = Roster::parse(&text).map_err(|e| at(&e))?;
        roster.skills_for(program.checked()).map_err(|e| at(&e))?;
        let credentials = credential::table(
            roster
                .agents
                .iter()
                .filter(|a| !a.sip_user.is_empty())
                .map(|a| (a.sip_user.as_str(), a.password.as_str())),
        )
        .map_err(|e| at(&e))?;
        Ok(Some((roster, credentials, digest(text.as_bytes()))))
    }
}

impl Source for Files {
    fn load(&self, verb: &str) -> Result<Candidate, Refused> {
        // In B2BUA mode prompts play: one without a file is reported, as
        // `lint --prompts` reports it, and plays as silence.
        let config = &self.config;
        let mut since = Instant::now();
        let mut phases = Vec::new();
        let prompts =
            (config.mode == Mode::B2bua && config.prompts.is_dir()).then_some(&config.prompts);
        let scripts = scripts::load_with(std::slice::from_ref(&self.script), prompts, self.access)
            .map_err(Refused::Setup)?;
        let mut shown = Vec::new();
        if scripts::refuse_errors(&scripts, &mut shown, verb) {
            return Err(Refused::Script {
                text: String::from_utf8_lossy(&shown).into_owned(),
                diagnostics: json_errors(&scripts),
            });
        }
        phases.push(Phase::since("read and check", &mut since));
        let compiled = scripts::compile(&scripts).map_err(Refused::Setup)?;
        let (program, tables) = (compiled.program, compiled.tables);
        phases.push(Phase::since("compile", &mut since));
        phases.push(Phase::took("rows (beside compile)", compiled.rows));
        let first = (scripts.checked.first()).ok_or_else(|| Refused::Setup("no script".into()))?;
        let checked = program.checked();
        let names = config.check_names(
            &self.config_file,
            checked.queues.iter().map(|q| q.name.as_str()),
            checked.groups.iter().map(|g| g.name.as_str()),
        );
        if !names.is_empty() {
            let lines: Vec<String> = names.iter().map(|e| e.to_string()).collect();
            return Err(Refused::Setup(lines.join("\n")));
        }
        let roster = self.roster(&program)?;
        let loader = &scripts.loader;
        let script = (first.files.iter())
            .map(|&id| {
                let path = loader.path(Loc::new(id, Default::default())).to_path_buf();
                (path, digest(loader.sources.get(id).text.as_bytes()))
            })
            .collect();
        let sources = Sources::of(loader, &first.program);
        let mut lookups: Vec<(PathBuf, Digest)> = Vec::new();
        for (l, path) in first.program.lookups.iter().zip(sources.paths()) {
            if lookups.iter().any(|(p, _)| p == path) {
                continue;
            }
            // A CSV source's text is the one the rows came from.
            let d = match loader.source_info(l.file, &l.source) {
                Some(crate::check::SourceInfo::Csv(id, _)) => {
                    Some(digest(loader.sources.get(*id).text.as_bytes()))
                }
                _ => fingerprint(path),
            };
            lookups.push((path.to_path_buf(), d.unwrap_or([0; 32])));
        }
        phases.push(Phase::since("roster and digests", &mut since));
        let stamp = Stamp {
            script,
            lookups,
            sources: Some(sources),
            roster: (roster.as_ref()).map(|(_, _, d)| (config.agents.clone(), *d)),
        };
        Ok(Candidate {
            version: crate::server::version_of(&loader.sources, first.files.iter().copied()).into(),
            program,
            tables,
            roster: roster.map(|(r, c, _)| (r, c)),
            files: scripts.files,
            stamp,
            phases,
        })
    }

    fn changed(&self, stamp: &Stamp) -> Changed {
        stamp.changed(&fingerprint)
    }

    fn data(&self, stamp: &Stamp, program: &Program, what: Changed) -> Result<Data, Refused> {
        let mut new = stamp.clone();
        let tables = if what.lookups {
            // Digests first: a write while the rows are read is seen by
            // the next reload.
            for (path, d) in &mut new.lookups {
                *d = fingerprint(path).unwrap_or([0; 32]);
            }
            Some(read_tables(stamp, program)?)
        } else {
            None
        };
        let roster = if what.roster {
            let read = self.roster(program)?;
            new.roster = (read.as_ref()).map(|(_, _, d)| (self.config.agents.clone(), *d));
            read.map(|(r, c, _)| (r, c))
        } else {
            None
        };
        Ok(Data {
            tables,
            roster,
            stamp: new,
        })
    }
}

/// The lookup rows read again from the sources the stamp's load found.
fn read_tables(stamp: &Stamp, program: &Program) -> Result<LookupTables, Refused> {
    let checked = program.checked();
    match &stamp.sources {
        Some(sources) => sources
            .read(&super::fs::RealFs, checked)
            .map_err(|e| Refused::Setup(format!("cannot reload the lookup rows: {e}"))),
        None => Ok(LookupTables::empty(checked)),
    }
}

/// The script's errors as `lint --format json` writes them, as many as
/// the text shows.
fn json_errors(scripts: &scripts::Scripts) -> Vec<serde_json::Value> {
    let errors: Vec<crate::diagnostic::Diagnostic> = (scripts.diagnostics.iter())
        .filter(|d| d.is_error())
        .cloned()
        .collect();
    let (shown, _) = render::cap(&errors, Some(render::MAX_PER_FILE));
    shown
        .into_iter()
        .filter_map(|d| serde_json::to_value(render::json(&scripts.loader.sources, d)).ok())
        .collect()
}

/// Where `serve` finds its configuration file's name for errors.
pub fn config_file(given: Option<&PathBuf>) -> PathBuf {
    given
        .cloned()
        .unwrap_or_else(|| PathBuf::from(config::DEFAULT_FILE))
}
