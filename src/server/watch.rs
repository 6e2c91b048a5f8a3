//! `serve --watch`: tells when the script's files, its lookup sources or
//! the roster change, debounced, so one save (or an editor's rename and
//! write) makes one reload. Watches the folders the stamp in force names
//! (`server::stamp`: the script's, each lookup source's wherever it is,
//! the roster's) with the `notify` crate, and follows each reload's new
//! stamp. A change counts when it is to a file the stamp names or, in the
//! script's folders, to a script (`.dial`), CSV source (`.csv`) or TOML
//! file, so the call-record database and recordings written beside the
//! script do not.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use notify::{Event, EventKind, RecursiveMode, Watcher};
use tokio::sync::mpsc;

use crate::server::stamp::Stamp;

/// How long the files must stay quiet after a change before it counts.
pub const DEBOUNCE: Duration = Duration::from_millis(300);

/// What to watch, paths made absolute.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Watched {
    /// The script's folders: new scripts and CSV files there count.
    pub script_folders: Vec<PathBuf>,
    /// The lookup sources' and the roster's other folders.
    pub other_folders: Vec<PathBuf>,
    /// Every file the stamp names.
    pub files: Vec<PathBuf>,
}

fn absolute(path: &Path) -> PathBuf {
    let path = if path.as_os_str().is_empty() {
        Path::new(".")
    } else {
        path
    };
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

impl Watched {
    /// The folders and files of `stamp`.
    pub fn of(stamp: &Stamp) -> Watched {
        let mut w = Watched::default();
        let parent = |p: &Path| absolute(p.parent().unwrap_or(Path::new(".")));
        for (path, _) in &stamp.script {
            let folder = parent(path);
            if !w.script_folders.contains(&folder) {
                w.script_folders.push(folder);
            }
        }
        for path in stamp.files() {
            let folder = parent(path);
            if !w.script_folders.contains(&folder) && !w.other_folders.contains(&folder) {
                w.other_folders.push(folder);
            }
            // A file is named where its folder resolves to.
            let file = match path.file_name() {
                Some(name) => parent(path).join(name),
                None => continue,
            };
            if !w.files.contains(&file) {
                w.files.push(file);
            }
        }
        w
    }

    fn folders(&self) -> impl Iterator<Item = &PathBuf> {
        self.script_folders.iter().chain(&self.other_folders)
    }

    /// Whether a change to `path` is one a reload reads.
    fn counts(&self, path: &Path) -> bool {
        self.files.iter().any(|f| f == path)
            || (path
                .parent()
                .is_some_and(|p| self.script_folders.iter().any(|f| f == p))
                && matches!(
                    path.extension().and_then(|e| e.to_str()),
                    Some("dial" | "csv" | "toml")
                ))
    }

    /// The watched folders, for the start-up message.
    pub fn describe(&self) -> String {
        let names: Vec<String> = self.folders().map(|p| p.display().to_string()).collect();
        names.join(" and ")
    }
}

/// A running watch; dropping it stops watching.
pub struct Watch {
    follower: Follower,
    events: mpsc::UnboundedReceiver<()>,
}

/// Changes what a running watch watches.
#[derive(Clone)]
pub struct Follower {
    watcher: Arc<Mutex<notify::RecommendedWatcher>>,
    watched: Arc<Mutex<Watched>>,
}

impl Follower {
    /// Watches `now`'s folders (and no longer the ones it does not name).
    pub fn set(&self, now: &Watched) -> Result<(), String> {
        let mut watcher = self.watcher.lock().unwrap_or_else(|e| e.into_inner());
        let mut watched = self.watched.lock().unwrap_or_else(|e| e.into_inner());
        for gone in watched
            .folders()
            .filter(|f| !now.folders().any(|n| n == *f))
        {
            let _ = watcher.unwatch(gone);
        }
        let mut failed = Vec::new();
        for new in now
            .folders()
            .filter(|f| !watched.folders().any(|w| w == *f))
        {
            if let Err(e) = watcher.watch(new, RecursiveMode::NonRecursive) {
                failed.push(format!("cannot watch {}: {e}", new.display()));
            }
        }
        *watched = now.clone();
        if failed.is_empty() {
            Ok(())
        } else {
            Err(failed.join("; "))
        }
    }
}

impl Watch {
    /// Watches `watched`'s folders, not recursively.
    pub fn start(watched: &Watched) -> Result<Watch, String> {
        let (tx, events) = mpsc::unbounded_channel();
        let shared = Arc::new(Mutex::new(Watched::default()));
        let counted = Arc::clone(&shared);
        let watcher = notify::recommended_watcher(move |event: notify::Result<Event>| {
            let Ok(event) = event else { return };
            if matches!(event.kind, EventKind::Access(_)) {
                return;
            }
            let watched = counted.lock().unwrap_or_else(|e| e.into_inner());
            if event.paths.iter().any(|p| watched.counts(p)) {
                let _ = tx.send(());
            }
        })
        .map_err(|e| format!("cannot watch files: {e}"))?;
        let follower = Follower {
            watcher: Arc::new(Mutex::new(watcher)),
            watched: shared,
        };
        follower.set(watched)?;
        Ok(Watch { follower, events })
    }

    /// What changes the folders watched, for each reload's stamp.
    pub fn follower(&self) -> Follower {
        self.follower.clone()
    }

    /// Waits for a change and then for [`DEBOUNCE`] of quiet; false once
    /// the watch has ended.
    pub async fn changed(&mut self) -> bool {
        if self.events.recv().await.is_none() {
            return false;
        }
        loop {
            match tokio::time::timeout(DEBOUNCE, self.events.recv()).await {
                Ok(Some(())) => continue,
                Ok(None) => return false,
                Err(_quiet) => return true,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_save_is_one_change_and_other_files_do_not_count() {
        let dir = std::env::temp_dir().join(format!("dialect-watch-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let script = dir.join("main.dial");
        std::fs::write(&script, "queue a {}").unwrap();
        let stamp = Stamp {
            script: vec![(script.clone(), [0; 32])],
            ..Stamp::default()
        };
        let mut watch = Watch::start(&Watched::of(&stamp)).unwrap();
        // The database beside the script: not a change.
        std::fs::write(dir.join("dialect.db-wal"), "x").unwrap();
        let quiet = tokio::time::timeout(DEBOUNCE * 3, watch.changed()).await;
        assert!(quiet.is_err(), "a database write is not a change");
        // Three writes in a row: one change.
        for text in ["queue b {}", "queue c {}", "queue d {}"] {
            std::fs::write(&script, text).unwrap();
        }
        let changed = tokio::time::timeout(Duration::from_secs(5), watch.changed()).await;
        assert_eq!(changed, Ok(true));
        let again = tokio::time::timeout(DEBOUNCE * 3, watch.changed()).await;
        assert!(again.is_err(), "the writes were one change");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
