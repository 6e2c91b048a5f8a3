//! `serve --watch`: tells when the script's files, its lookup sources or
//! the roster change, debounced, so one save (or an editor's rename and
//! write) makes one reload. Watches folders and files with the `notify`
//! crate; in a folder only scripts (`.dial`), CSV sources (`.csv`) and
//! TOML files count, so the call-record database and recordings written
//! beside the script do not.

use std::path::{Path, PathBuf};
use std::time::Duration;

use notify::{Event, EventKind, RecursiveMode, Watcher};
use tokio::sync::mpsc;

/// How long the files must stay quiet after a change before it counts.
pub const DEBOUNCE: Duration = Duration::from_millis(300);

/// A running watch; dropping it stops watching.
pub struct Watch {
    _watcher: notify::RecommendedWatcher,
    events: mpsc::UnboundedReceiver<()>,
}

/// Whether a change to `path` is one a reload reads.
fn counts(path: &Path, files: &[PathBuf]) -> bool {
    files.iter().any(|f| f == path)
        || matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("dial" | "csv" | "toml")
        )
}

impl Watch {
    /// Watches `paths` (folders, not recursively, and files).
    pub fn start(paths: &[PathBuf]) -> Result<Watch, String> {
        let (tx, events) = mpsc::unbounded_channel();
        let files: Vec<PathBuf> = paths.iter().filter(|p| p.is_file()).cloned().collect();
        let mut watcher = notify::recommended_watcher(move |event: notify::Result<Event>| {
            let Ok(event) = event else { return };
            if matches!(event.kind, EventKind::Access(_)) {
                return;
            }
            if event.paths.iter().any(|p| counts(p, &files)) {
                let _ = tx.send(());
            }
        })
        .map_err(|e| format!("cannot watch files: {e}"))?;
        for path in paths {
            watcher
                .watch(path, RecursiveMode::NonRecursive)
                .map_err(|e| format!("cannot watch {}: {e}", path.display()))?;
        }
        Ok(Watch {
            _watcher: watcher,
            events,
        })
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

/// The watched paths, for the start-up message.
pub fn describe(paths: &[PathBuf]) -> String {
    let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    names.join(" and ")
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
        let mut watch = Watch::start(std::slice::from_ref(&dir)).unwrap();
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
