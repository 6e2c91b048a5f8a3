//! What a version in force read from disk, file by file with a digest of
//! each: the script's files, its lookup sources and the roster. A reload
//! compares the files with the stamp to tell a script change (load,
//! check, compile) from a data change (read the rows or the roster
//! again, nothing else), and `serve --watch` watches the folders the
//! stamp names. The digests come from whoever reads the files (`cli`);
//! nothing here touches the disk.

use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use crate::lookup::Sources;

/// A file's fingerprint: SHA-256 of its bytes (or, for a database, of
/// its size and modification time).
pub type Digest = [u8; 32];

/// SHA-256 of `bytes`.
pub fn digest(bytes: &[u8]) -> Digest {
    Sha256::digest(bytes).into()
}

/// The files one version was read from.
#[derive(Clone, Debug, Default)]
pub struct Stamp {
    /// The script's files (`.dial`), in load order.
    pub script: Vec<(PathBuf, Digest)>,
    /// Each lookup source, once.
    pub lookups: Vec<(PathBuf, Digest)>,
    /// Where the program's lookups read their rows, for a data reload.
    pub sources: Option<Sources>,
    /// The roster, when the server has one.
    pub roster: Option<(PathBuf, Digest)>,
}

/// What changed on disk since a stamp was taken.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Changed {
    pub script: bool,
    pub lookups: bool,
    pub roster: bool,
}

impl Changed {
    /// Whether anything changed at all.
    pub fn any(self) -> bool {
        self.script || self.lookups || self.roster
    }
}

impl Stamp {
    /// Compares each file with its digest now, as `now` gives it (`None`:
    /// the file is gone or unreadable, which counts as a change).
    pub fn changed(&self, now: &dyn Fn(&Path) -> Option<Digest>) -> Changed {
        let differs = |files: &[(PathBuf, Digest)]| {
            files
                .iter()
                .any(|(path, was)| now(path).as_ref() != Some(was))
        };
        Changed {
            script: self.script.is_empty() || differs(&self.script),
            lookups: differs(&self.lookups),
            roster: self
                .roster
                .as_ref()
                .is_some_and(|r| differs(std::slice::from_ref(r))),
        }
    }

    /// Makes every script file count as changed, so that the next reload
    /// loads the script: after a rollback the program in force is not
    /// the one the files hold.
    pub fn forget_script(&mut self) {
        for (_, d) in &mut self.script {
            *d = [0; 32];
        }
        if self.script.is_empty() {
            self.script.push((PathBuf::new(), [0; 32]));
        }
    }

    /// Every file the stamp names.
    pub fn files(&self) -> impl Iterator<Item = &Path> {
        (self.script.iter().chain(&self.lookups).chain(&self.roster)).map(|(p, _)| p.as_path())
    }

    /// The folders to watch for a change to any of its files, each once,
    /// in the order first named (the script's first).
    pub fn folders(&self) -> Vec<PathBuf> {
        let mut folders: Vec<PathBuf> = Vec::new();
        for file in self.files() {
            let folder = match file.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                _ => PathBuf::from("."),
            };
            if !folders.contains(&folder) {
                folders.push(folder);
            }
        }
        folders
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_is_told_by_the_kind_of_file() {
        let stamp = Stamp {
            script: vec![("s/main.dial".into(), digest(b"a"))],
            lookups: vec![("/data/rates.csv".into(), digest(b"r"))],
            sources: None,
            roster: Some(("s/agents.toml".into(), digest(b"t"))),
        };
        let same = |p: &Path| {
            Some(digest(match p.to_str().unwrap() {
                "s/main.dial" => b"a",
                "/data/rates.csv" => b"r",
                _ => b"t",
            }))
        };
        assert_eq!(stamp.changed(&same), Changed::default());
        let rates = |p: &Path| {
            if p.ends_with("rates.csv") {
                Some(digest(b"x"))
            } else {
                same(p)
            }
        };
        let changed = stamp.changed(&rates);
        assert!(changed.lookups && !changed.script && !changed.roster);
        let gone = |p: &Path| {
            if p.ends_with("agents.toml") {
                None
            } else {
                same(p)
            }
        };
        assert!(stamp.changed(&gone).roster);
        // No script known: always a script reload.
        assert!(Stamp::default().changed(&same).script);
        assert_eq!(
            stamp.folders(),
            vec![PathBuf::from("s"), PathBuf::from("/data")]
        );
    }
}
