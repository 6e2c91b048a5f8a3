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
