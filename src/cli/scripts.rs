//! Finding and checking the scripts named on the command line: files and
//! folders, with files that others include checked as part of them.

use std::collections::{BTreeSet, HashSet};
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::fs::{RealFs, dial_files, prompt_names};
use super::render::{self, Style};
use crate::diagnostic::Diagnostic;
use crate::load::{self, Checked, FileSystem, Loader};
use crate::lookup::{Founds, LookupTables};
use crate::program::Program;
use crate::source::FileId;

static REAL_FS: RealFs = RealFs;

/// Every script found, checked.
pub struct Scripts {
    pub loader: Loader<'static>,
    /// One per root file, in the order found.
    pub checked: Vec<Checked>,
    /// All diagnostics of all scripts, sorted, each once.
    pub diagnostics: Vec<Diagnostic>,
    /// Distinct files checked.
    pub files: usize,
}

/// How far a script's includes may reach, for every command that loads
/// scripts.
#[derive(clap::Args, Clone, Copy, Debug, Default)]
pub struct Access {
    /// Let `include` name any file; by default an include must stay in the
    /// folder named on the command line (or the named file's folder)
    #[arg(long)]
    pub allow_include_outside: bool,
}

/// Loads and checks every script named by `paths`, with includes kept to
/// their folders. Errors are usage or I/O problems with the paths
/// themselves.
pub fn load(paths: &[PathBuf], prompts: Option<&PathBuf>) -> Result<Scripts, String> {
    load_with(paths, prompts, Access::default())
}

/// [`load`], with includes allowed as far as `access` says. A file named
/// on the command line (or found in a folder) that cannot be read as a
/// script, a FIFO or a file too large, is a diagnostic (D1006), not an
/// error, so that the other files are still checked.
pub fn load_with(
    paths: &[PathBuf],
    prompts: Option<&PathBuf>,
    access: Access,
) -> Result<Scripts, String> {
    // Each candidate with the folder its includes must stay in.
    let mut candidates: Vec<(PathBuf, Option<PathBuf>)> = Vec::new();
    let tree = |folder: &std::path::Path| {
        (!access.allow_include_outside).then(|| REAL_FS.canonical(folder))
    };
    for path in paths {
        if path.is_dir() {
            let found = dial_files(path).map_err(|e| {
                format!(
                    "cannot read folder `{}`: {}",
                    load::display(path),
                    load::io_reason(&e)
                )
            })?;
            if found.is_empty() {
                return Err(format!("no `.dial` files in `{}`", load::display(path)));
            }
            let tree = tree(path);
            candidates.extend(found.into_iter().map(|f| (f, tree.clone())));
        } else if path.exists() {
            let canonical = REAL_FS.canonical(path);
            let folder = canonical.parent().unwrap_or(&canonical);
            candidates.push((path.clone(), tree(folder)));
        } else {
            return Err(format!("`{}` does not exist", load::display(path)));
        }
    }
    let prompts: Option<BTreeSet<String>> = match prompts {
        Some(dir) => Some(prompt_names(dir).map_err(|e| {
            format!(
                "cannot read prompts folder `{}`: {}",
                load::display(dir),
                load::io_reason(&e)
            )
        })?),
        None => None,
    };
    let mut loader = Loader::new(&REAL_FS);
    let mut ids: Vec<FileId> = Vec::new();
    for (path, tree) in &candidates {
        let id = loader
            .load_in(path, tree.as_deref())
            .unwrap_or_else(|e| loader.unreadable(path, &e));
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    // A file included by another candidate is checked as part of that one.
    let included: HashSet<FileId> = ids
        .iter()
        .flat_map(|&id| loader.includes(id).iter().copied())
        .collect();
    let mut roots: Vec<FileId> = ids
        .iter()
        .copied()
        .filter(|id| !included.contains(id))
        .collect();
    let mut covered: HashSet<FileId> = HashSet::new();
    let mut checked = Vec::new();
    let mut diagnostics: Vec<Diagnostic> = Vec::new();
    let mut i = 0;
    loop {
        while i < roots.len() {
            let c = loader.check(roots[i], prompts.clone());
            covered.extend(c.files.iter().copied());
            diagnostics.extend(c.diagnostics.iter().cloned());
            checked.push(c);
            i += 1;
        }
        // Files only reachable through an include cycle become roots too.
        match ids.iter().find(|id| !covered.contains(id)) {
            Some(&id) => roots.push(id),
            None => break,
        }
    }
    crate::diagnostic::sort(&mut diagnostics);
    diagnostics.dedup();
    Ok(Scripts {
        loader,
        checked,
        diagnostics,
        files: covered.len(),
    })
}

/// Prints the scripts' errors (not warnings) to `out`, without colour and
/// at most [`render::MAX_PER_FILE`] of a file; returns how many there were.
pub fn print_errors(scripts: &Scripts, out: &mut dyn Write) -> usize {
    let style = Style {
        color: false,
        width: 100,
    };
    let errors: Vec<Diagnostic> = scripts
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .cloned()
        .collect();
    let (shown, omitted) = render::cap(&errors, Some(render::MAX_PER_FILE));
    for d in shown {
        let _ = writeln!(out, "{}", render::human(&scripts.loader.sources, d, style));
    }
    for o in &omitted {
        let _ = writeln!(out, "{}", render::omitted_line(&scripts.loader.sources, o));
    }
    errors.len()
}

/// Prints the scripts' errors to `out` as [`print_errors`] does, then
/// `cannot VERB: the script has N error(s)`: whether there were any.
pub fn refuse_errors(scripts: &Scripts, out: &mut dyn Write, verb: &str) -> bool {
    let errors = print_errors(scripts, out);
    if errors > 0 {
        let _ = writeln!(out, "cannot {verb}: the script has {errors} error(s)");
    }
    errors > 0
}

/// Compiles the first script and loads its lookup tables, for commands
/// that run one script. A script with errors gets them printed to `out`,
/// with `cannot VERB: the script has N error(s)`, and `None`.
pub fn compile_first(
    scripts: &Scripts,
    out: &mut dyn Write,
    verb: &str,
) -> Result<Option<(Program, LookupTables)>, String> {
    if refuse_errors(scripts, out, verb) {
        return Ok(None);
    }
    let compiled = compile(scripts)?;
    Ok(Some((compiled.program, compiled.tables)))
}

/// The first script, compiled, with its lookup rows.
pub struct Compiled {
    pub program: Program,
    pub tables: LookupTables,
    /// How long reading the rows took, beside the compile.
    pub rows: Duration,
}

/// Compiles the first script (checked without errors) and reads its
/// lookup rows on a thread of their own meanwhile: neither needs the
/// other, and compiling leaves a core idle part of the time.
pub fn compile(scripts: &Scripts) -> Result<Compiled, String> {
    let checked = scripts.checked.first().ok_or("no script")?;
    let founds = Founds::of(&scripts.loader, &checked.program).map_err(|e| e.to_string())?;
    let (rows, program) = std::thread::scope(|scope| {
        let rows = scope.spawn(|| {
            let started = Instant::now();
            (founds.tables(&checked.program), started.elapsed())
        });
        (rows.join(), Program::compile(checked.program.clone()))
    });
    let (tables, rows) = rows.map_err(|_| "reading the lookup rows failed (the thread stopped)")?;
    Ok(Compiled {
        tables: tables.map_err(|e| e.to_string())?,
        program: program.map_err(|e| e.to_string())?,
        rows,
    })
}

/// `--switch NAME` options (explain, simulate): each names a switch the
/// script declares, else the reason, with a suggestion.
pub fn check_switches(program: &crate::checked::Program, names: &[String]) -> Result<(), String> {
    for name in names {
        program
            .find_switch(name)
            .map_err(|why| format!("--switch `{name}`: the script {why}"))?;
    }
    Ok(())
}
