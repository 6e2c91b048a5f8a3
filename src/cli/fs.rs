//! The real file system behind `load::FileSystem`, and the discovery of
//! `.dial` files and prompts in folders.

use std::collections::BTreeSet;
use std::io;
use std::path::{Path, PathBuf};

use crate::load::FileSystem;

pub struct RealFs;

impl FileSystem for RealFs {
    fn read(&self, path: &Path) -> io::Result<String> {
        std::fs::read_to_string(path)
    }
    fn exists(&self, path: &Path) -> bool {
        path.exists()
    }
    fn canonical(&self, path: &Path) -> PathBuf {
        std::fs::canonicalize(path).unwrap_or_else(|_| crate::load::normalize(path))
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
