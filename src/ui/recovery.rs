//! Crash recovery: while the workspace has unsaved changes, a copy is written every 30
//! seconds (on a worker) to `$XDG_DATA_HOME/tde-console/recovery.ron` (or
//! `~/.local/share/...`), mode 0600. A save, or closing without saving on purpose, removes
//! it; if the app dies instead, the next start offers to reopen it.

use crate::model::Workspace;
use poll_promise::Promise;
use std::path::PathBuf;

/// How often unsaved changes are copied, in seconds.
const EVERY_SECONDS: f64 = 30.0;

fn default_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))?;
    Some(base.join("tde-console").join("recovery.ron"))
}

#[derive(Default)]
pub struct Recovery {
    /// Where the copy goes (`None`: off, as in tests).
    path: Option<PathBuf>,
    last: Option<f64>,
    writing: Option<Promise<()>>,
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

    /// Called every frame: copies `ws` when it has had unsaved changes for a while.
    pub fn tick(&mut self, ws: &Workspace, dirty: bool, passphrase: Option<&str>, now: f64) {
        let Some(path) = self.path.clone() else {
            return;
        };
        if let Some(p) = self.writing.take()
            && p.ready().is_none()
        {
            self.writing = Some(p);
            return;
        }
        if !dirty {
            self.last = None;
            return;
        }
        let due = self.last.is_none_or(|t| now - t >= EVERY_SECONDS);
        if !due {
            return;
        }
        self.last = Some(now);
        let copy = ws.clone();
        // A protected workspace's copy is protected the same way.
        let passphrase = passphrase.map(str::to_string);
        self.writing = Some(Promise::spawn_thread("tde-console-recovery", move || {
            if let Some(dir) = path.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            let _ = crate::persist::save_with(&copy, &path, passphrase.as_deref());
        }));
    }

    /// The work is safe (saved, or discarded on purpose): no copy is needed any more.
    pub fn clear(&mut self) {
        self.last = None;
        if let Some(p) = self.writing.take() {
            p.block_and_take();
        }
        if let Some(path) = &self.path {
            let _ = std::fs::remove_file(path);
        }
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
        if let Some(p) = r.writing.take() {
            p.block_and_take();
        }
        assert_eq!(r.leftover(), Some(path.clone()));
        let back = crate::persist::load(&path).unwrap();
        assert_eq!(back.name, "unsaved");
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        r.clear();
        assert!(r.leftover().is_none());
    }
}
