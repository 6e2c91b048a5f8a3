//! The real file system behind `load::FileSystem`, and the discovery of
//! `.dial` files and prompts in folders.

use std::collections::BTreeSet;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use crate::load::{FileKind, FileSystem, normalize};

pub struct RealFs;

impl FileSystem for RealFs {
    fn kind(&self, path: &Path) -> io::Result<FileKind> {
        let meta = std::fs::metadata(path)?;
        let t = meta.file_type();
        if t.is_file() {
            return Ok(FileKind::Regular { len: meta.len() });
        }
        if t.is_dir() {
            return Ok(FileKind::Directory);
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::FileTypeExt;
            if t.is_fifo() {
                return Ok(FileKind::Fifo);
            }
            if t.is_socket() {
                return Ok(FileKind::Socket);
            }
            if t.is_char_device() {
                return Ok(FileKind::CharDevice);
            }
            if t.is_block_device() {
                return Ok(FileKind::BlockDevice);
            }
        }
        Ok(FileKind::Other)
    }

    fn read(&self, path: &Path, limit: u64) -> io::Result<Vec<u8>> {
        let file = std::fs::File::open(path)?;
        // The kind was checked before opening; check the opened file too, in
        // case the path was replaced in between. (A FIFO swapped in between
        // the check and this open would still block the open: closing that
        // window needs `O_NONBLOCK`, which std does not name portably.)
        if !file.metadata()?.is_file() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a regular file",
            ));
        }
        let mut bytes = Vec::new();
        file.take(limit).read_to_end(&mut bytes)?;
        Ok(bytes)
    }

    fn exists(&self, path: &Path) -> bool {
        path.exists()
    }

    /// The path with symbolic links resolved. For a path that does not
    /// exist, its deepest existing folder is resolved and the rest added,
    /// so that it compares with resolved folders.
    fn canonical(&self, path: &Path) -> PathBuf {
        if let Ok(p) = std::fs::canonicalize(path) {
            return p;
        }
        let absolute =
            std::path::absolute(path).map_or_else(|_| normalize(path), |p| normalize(&p));
        let mut rest = Vec::new();
        let mut base = absolute.as_path();
        while let (Some(parent), Some(name)) = (base.parent(), base.file_name()) {
            rest.push(name);
            if let Ok(resolved) = std::fs::canonicalize(parent) {
                let mut out = resolved;
                out.extend(rest.iter().rev());
                return out;
            }
            base = parent;
        }
        absolute
    }
}

/// Every `.dial` file under a folder, sorted, skipping hidden folders.
pub fn dial_files(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d)? {
            let path = entry?.path();
            let hidden = path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'));
            if path.is_dir() {
                if !hidden {
                    stack.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "dial") {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The prompt names (file stems of `.wav` files) in a folder.
pub fn prompt_names(dir: &Path) -> io::Result<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("wav"))
            && let Some(stem) = path.file_stem().and_then(|s| s.to_str())
        {
            out.insert(stem.to_string());
        }
    }
    Ok(out)
}

/// How many folders up from a file its including script is looked for.
const INCLUDER_LEVELS: usize = 3;
/// Files larger than this are not read when looking for an includer.
const INCLUDER_MAX_BYTES: u64 = 1 << 20;

/// For each of `files` that no other of them includes, the script that
/// includes it, if one is found in its folder or the few folders above
/// (following includers of includers): such a file is only meaningful as
/// part of that script. Returns `(file, includer)` pairs.
pub fn includers(files: &[PathBuf]) -> Vec<(PathBuf, PathBuf)> {
    let canonical = |p: &Path| std::fs::canonicalize(p).ok();
    let given: BTreeSet<PathBuf> = files.iter().filter_map(|f| canonical(f)).collect();
    let included_by_given: BTreeSet<PathBuf> = files
        .iter()
        .flat_map(|f| include_targets(f))
        .filter_map(|p| canonical(&p))
        .collect();
    let mut index = IncludeIndex::default();
    let mut out = Vec::new();
    for file in files {
        let Some(mut target) = canonical(file) else {
            continue;
        };
        if included_by_given.contains(&target) {
            continue;
        }
        let mut found: Option<PathBuf> = None;
        // Bounded, so an include cycle cannot keep this going.
        for _ in 0..8 {
            let Some(next) = index.includer_of(&target, &given) else {
                break;
            };
            target = next.clone();
            found = Some(next);
        }
        if let Some(includer) = found {
            // Shown (and reported on) relative to the working folder, as the
            // paths people type are.
            let relative = std::env::current_dir()
                .ok()
                .and_then(|cwd| std::fs::canonicalize(cwd).ok())
                .and_then(|cwd| includer.strip_prefix(cwd).ok().map(Path::to_path_buf));
            out.push((file.clone(), relative.unwrap_or(includer)));
        }
    }
    out
}

/// Per folder, which of its `.dial` files include which files (canonical
/// paths), read once however many files are looked up.
#[derive(Default)]
struct IncludeIndex {
    by_dir: std::collections::HashMap<PathBuf, std::collections::HashMap<PathBuf, Vec<PathBuf>>>,
}

impl IncludeIndex {
    /// A `.dial` file (canonical), in the folder of `target` or up to
    /// [`INCLUDER_LEVELS`] above it and not among `skip`, that includes
    /// `target`.
    fn includer_of(&mut self, target: &Path, skip: &BTreeSet<PathBuf>) -> Option<PathBuf> {
        let mut dir = target.parent();
        for _ in 0..=INCLUDER_LEVELS {
            let d = dir?;
            let included = self
                .by_dir
                .entry(d.to_path_buf())
                .or_insert_with(|| folder_includes(d));
            if let Some(by) = included.get(target).and_then(|by| {
                by.iter()
                    .find(|b| !skip.contains(*b) && b.as_path() != target)
            }) {
                return Some(by.clone());
            }
            dir = d.parent();
        }
        None
    }
}

/// For the `.dial` files directly in `dir`: included file → the files that
/// include it, in name order; all canonical.
fn folder_includes(dir: &Path) -> std::collections::HashMap<PathBuf, Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "dial"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let mut out: std::collections::HashMap<PathBuf, Vec<PathBuf>> = Default::default();
    for file in files {
        let Ok(me) = std::fs::canonicalize(&file) else {
            continue;
        };
        for t in include_targets(&file) {
            if let Ok(t) = std::fs::canonicalize(t) {
                out.entry(t).or_default().push(me.clone());
            }
        }
    }
    out
}

/// The paths a script's `include "..."` lines name, resolved against its
/// folder. A light scan of the text: only regular files of modest size are
/// read, and an unreadable file names nothing.
fn include_targets(file: &Path) -> Vec<PathBuf> {
    let readable =
        std::fs::metadata(file).is_ok_and(|m| m.is_file() && m.len() <= INCLUDER_MAX_BYTES);
    let Some(text) = readable
        .then(|| std::fs::read_to_string(file).ok())
        .flatten()
    else {
        return Vec::new();
    };
    let dir = file.parent().unwrap_or(Path::new(""));
    text.split(['\n', '\r'])
        .filter_map(|line| {
            let rest = line.trim_start().strip_prefix("include")?;
            let rest = rest.trim_start().strip_prefix('"')?;
            let path = &rest[..rest.find('"')?];
            Some(dir.join(path))
        })
        .collect()
}
