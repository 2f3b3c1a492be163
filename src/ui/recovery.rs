//! Crash recovery: while the workspace has unsaved changes, every change is made durable
//! (on a worker) in `$XDG_DATA_HOME/tde-console/recovery.ron` (or `~/.local/share/...`),
//! mode 0600: the first change writes the whole workspace there, each later one appends
//! its delta to the copy's write-ahead log (see `persist::store`), fsync'd — so a crash
//! (kill -9, power loss) loses nothing that was on screen for more than a moment. A save,
//! or closing without saving on purpose, removes the copy and its log; if the app dies
//! instead, the next start offers to reopen it (the log replayed).

use crate::model::Workspace;
use crate::persist::store::Store;
use poll_promise::Promise;
use std::path::PathBuf;

fn default_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))?;
    Some(base.join("tde-console").join("recovery.ron"))
}

/// The copy's store with the passphrase it protects the copy with.
type Copy = (Store, Option<String>);

#[derive(Default)]
pub struct Recovery {
    /// Where the copy goes (`None`: off, as in tests).
    path: Option<PathBuf>,
    /// The copy, between writes (with the passphrase it protects the copy with).
    store: Option<Copy>,
    /// The revision the copy holds.
    recorded: Option<u64>,
    writing: Option<Promise<Option<Copy>>>,
}

impl Recovery {
    pub fn on_disk() -> Self {
        Recovery {
            path: default_path(),
            ..Default::default()
        }
    }

    /// Copies to `path` (tests).
    pub fn at(path: PathBuf) -> Self {
        Recovery {
            path: Some(path),
            ..Default::default()
        }
    }

    /// A copy left by a session that did not end well, if there is one.
    pub fn leftover(&self) -> Option<PathBuf> {
        self.path.clone().filter(|p| p.is_file())
    }

    /// Called every frame: makes the unsaved state of `ws` durable in the copy (one write
    /// at a time, on a worker; a change made meanwhile is written next).
    pub fn tick(&mut self, ws: &Workspace, dirty: bool, passphrase: Option<&str>, _now: f64) {
        let Some(path) = self.path.clone() else {
            return;
        };
        if let Some(p) = self.writing.take() {
            match p.try_take() {
                Ok(store) => self.store = store,
                Err(p) => {
                    self.writing = Some(p);
                    return;
                }
            }
        }
        if !dirty || self.recorded == Some(ws.revision) {
            return;
        }
        self.recorded = Some(ws.revision);
        let copy = ws.clone();
        // A protected workspace's copy is protected the same way.
        let passphrase = passphrase.map(str::to_string);
        let store = self.store.take();
        self.writing = Some(Promise::spawn_thread("tde-console-recovery", move || {
            write_copy(store, &path, passphrase, &copy)
        }));
    }

    /// Waits for the write in flight (tests, and before the copy is removed).
    pub fn settle(&mut self) {
        if let Some(p) = self.writing.take() {
            self.store = p.block_and_take();
        }
    }

    /// The work is safe (saved, or discarded on purpose): no copy is needed any more.
    pub fn clear(&mut self) {
        self.settle();
        self.recorded = None;
        self.store = None;
        if let Some(path) = &self.path {
            let _ = std::fs::remove_file(path);
            let _ = std::fs::remove_file(crate::persist::wal::path_for(path));
        }
    }
}

/// One write of the copy: the change's delta logged, or the whole workspace when the copy is
/// new, protected differently, large in its log, or was changed by another process.
fn write_copy(
    store: Option<Copy>,
    path: &std::path::Path,
    passphrase: Option<String>,
    ws: &Workspace,
) -> Option<Copy> {
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let reusable = store.filter(|(s, p)| *p == passphrase && !s.log_is_large());
    let mut store = match reusable {
        Some((s, _)) => s,
        None => {
            // A fresh copy: whatever was there is replaced by this state.
            let _ = std::fs::remove_file(crate::persist::wal::path_for(path));
            let _ = std::fs::remove_file(path);
            Store::open(path, passphrase.as_deref(), || ws.clone())
                .ok()?
                .0
        }
    };
    match store.record(ws) {
        Ok(_) => Some((store, passphrase)),
        // Another console wrote the copy: start it afresh next time.
        Err(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsaved_work_is_copied_privately_and_removed_once_safe() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("recovery.ron");
        let mut r = Recovery::at(path.clone());
        let ws = crate::service::new_workspace("unsaved", 4);
        r.tick(&ws, false, None, 0.0);
        assert!(r.leftover().is_none(), "nothing unsaved, nothing copied");
        r.tick(&ws, true, None, 1.0);
        r.settle();
        assert_eq!(r.leftover(), Some(path.clone()));
        let back = crate::persist::load(&path).unwrap();
        assert_eq!(back.name, "unsaved");
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        r.clear();
        assert!(r.leftover().is_none());
    }

    #[test]
    fn every_change_is_durable_at_once_and_replays_after_a_crash() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("recovery.ron");
        let mut r = Recovery::at(path.clone());
        let mut ws = crate::service::new_workspace("unsaved", 4);
        ws.bump_revision();
        r.tick(&ws, true, None, 0.0);
        for name in ["one", "two", "three"] {
            r.settle();
            crate::service::resources::create_resource_group(
                &mut ws,
                &format!("rg-{name}"),
                "eastus",
            )
            .unwrap();
            r.tick(&ws, true, None, 0.1);
        }
        r.settle();
        // The copy's log holds the changes made after the first write.
        assert!(crate::persist::wal::path_for(&path).is_file());
        // A crash here: the next start reads the copy and its log.
        drop(r);
        let back = crate::persist::load(&path).unwrap();
        assert_eq!(
            crate::persist::to_ron(&back).unwrap(),
            crate::persist::to_ron(&ws).unwrap()
        );
        let mut again = Recovery::at(path.clone());
        again.clear();
        assert!(!path.exists() && !crate::persist::wal::path_for(&path).exists());
    }
}
