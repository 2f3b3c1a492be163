//! An open workspace file that a long-running process keeps durable: every change it
//! acknowledges goes to the file's write-ahead log first ([`Store::record`]), the log is
//! folded into the file on save ([`Store::save`]), and another process writing the same
//! file is noticed, never silently overwritten (both check, under the writers' lock, that
//! the file and its log are as this process last left them).

use super::{DiskStamp, PersistError, delta, wal};
use crate::model::Workspace;
use std::path::{Path, PathBuf};

/// Why a change could not be made durable.
#[derive(Debug)]
pub enum StoreError {
    /// Another process saved the file or logged a change since this one read it.
    Conflict(String),
    /// The disk refused (full, read-only, gone).
    Io(String),
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::Conflict(m) | StoreError::Io(m) => f.write_str(m),
        }
    }
}

pub struct Store {
    /// The path as the user gave it (messages).
    path: PathBuf,
    /// The file it names (symlinks followed).
    target: PathBuf,
    passphrase: Option<String>,
    /// The file and its log as this process last read or wrote them (`None`: no file yet).
    expected: Option<DiskStamp>,
    /// The content hash of the file (what a new log continues).
    base: Option<[u8; 32]>,
    log_key: Option<wal::LogKey>,
    /// The state the file and its log hold.
    persisted: Workspace,
    /// Entries this process has appended to the log since the last fold.
    pub logged: usize,
}

/// What opening found.
pub struct Opened {
    pub ws: Workspace,
    /// Changes recovered from the log (made by a process that stopped without saving).
    pub recovered: usize,
}

impl Store {
    /// Opens `path` (a new workspace from `fresh` when there is no file yet): the file, then
    /// the changes its log holds. A torn last entry is dropped; a log already folded in is
    /// removed.
    pub fn open(
        path: &Path,
        passphrase: Option<&str>,
        fresh: impl FnOnce() -> Workspace,
    ) -> Result<(Store, Opened), PersistError> {
        let io = |error| PersistError::Io {
            path: path.to_path_buf(),
            error,
        };
        let target = super::resolve_target(path).map_err(io)?;
        let exists = target.exists();
        // Read under the writers' lock: nobody appends while the log is read and trimmed.
        // (A file in a directory this user cannot write opens without the lock: it can be
        // read, and any write to it fails with its own clear error.)
        let lock = if exists {
            super::lock_writers(&target).ok()
        } else {
            None
        };
        let (ws, on_disk, base, recovered, log_key) = if exists {
            let loaded = super::load_logged(path, passphrase)?;
            let log_path = wal::path_for(&target);
            if lock.is_none() {
                // Read-only here: the log is left as it is.
            } else if loaded.log.stale {
                let _ = std::fs::remove_file(&log_path);
            } else if loaded.log.entries > 0 || log_path.exists() {
                let on_disk = std::fs::metadata(&log_path).map_or(0, |m| m.len());
                if on_disk > loaded.log.valid_len {
                    // A torn write: what follows the last whole entry was never acknowledged.
                    let f = std::fs::OpenOptions::new()
                        .write(true)
                        .open(&log_path)
                        .map_err(io)?;
                    f.set_len(loaded.log.valid_len).map_err(io)?;
                    f.sync_all().map_err(io)?;
                }
            }
            (
                loaded.ws,
                loaded.on_disk,
                Some(loaded.base),
                loaded.log.entries,
                loaded.log_key,
            )
        } else {
            (fresh(), None, None, 0, None)
        };
        let expected = super::stamp(path);
        drop(lock);
        let store = Store {
            path: path.to_path_buf(),
            target,
            passphrase: passphrase.map(str::to_string),
            expected,
            base,
            log_key,
            persisted: on_disk.unwrap_or_else(|| ws.clone()),
            logged: recovered,
        };
        Ok((store, Opened { ws, recovered }))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What changed since the file and its log were last written.
    pub fn pending(&self, ws: &Workspace) -> delta::Delta {
        delta::diff(&self.persisted, ws)
    }

    /// Makes `ws` durable: its changes since the last record go to the log (fsync'd) before
    /// this returns. Without a file yet, the file is written. Returns whether anything was
    /// written.
    pub fn record(&mut self, ws: &Workspace) -> Result<bool, StoreError> {
        let Some(base) = self.base else {
            // No file yet: the first record writes it.
            self.save(ws)?;
            return Ok(true);
        };
        let d = self.pending(ws);
        if d.is_empty() {
            return Ok(false);
        }
        if self.passphrase.is_some() && self.log_key.is_none() {
            let p = self.passphrase.as_deref().unwrap_or_default();
            self.log_key = Some(wal::LogKey::new(p).map_err(StoreError::Io)?);
        }
        let entry = wal::entry(&d, self.log_key.as_ref()).map_err(StoreError::Io)?;
        let _lock = super::lock_writers(&self.target).map_err(|e| self.io(e))?;
        self.check_unchanged()?;
        let log_path = wal::path_for(&self.target);
        let create = self.expected.is_none_or(|s| s.log_len == 0);
        let header = wal::header(&base, self.log_key.as_ref());
        wal::append(&log_path, create, &header, &entry).map_err(|e| self.io(e))?;
        self.expected = super::stamp(&self.path);
        self.persisted = ws.clone();
        self.logged += 1;
        Ok(true)
    }

    /// Writes the whole file (atomically) and folds the log into it.
    pub fn save(&mut self, ws: &Workspace) -> Result<(), StoreError> {
        let bytes = super::file_bytes(ws, self.passphrase.as_deref())
            .map_err(|e| StoreError::Io(e.to_string()))?;
        let _lock = super::lock_writers(&self.target).map_err(|e| self.io(e))?;
        self.check_unchanged()?;
        super::write_file_and_fold_log(&self.target, &bytes).map_err(|e| self.io(e))?;
        self.expected = super::stamp(&self.path);
        self.base = Some(wal::content_hash(&bytes));
        self.log_key = None;
        self.persisted = ws.clone();
        self.logged = 0;
        Ok(())
    }

    /// Whether the log has grown past the point where folding it is worth a whole write
    /// (larger than the file, and at least 16 MiB).
    pub fn log_is_large(&self) -> bool {
        self.expected
            .is_some_and(|s| s.log_len > (16 << 20) && s.log_len > s.len)
    }

    fn check_unchanged(&self) -> Result<(), StoreError> {
        if super::stamp(&self.path) != self.expected {
            return Err(StoreError::Conflict(super::changed_on_disk(&self.path)));
        }
        Ok(())
    }

    fn io(&self, e: std::io::Error) -> StoreError {
        StoreError::Io(format!("Cannot write '{}': {e}", self.path.display()))
    }
}
