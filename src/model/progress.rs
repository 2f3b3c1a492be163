//! The one piece of shared, mutable state a workspace carries: how far the bulk operation
//! running now has got, for the UI's progress bar.
//!
//! A job runs on a copy of the workspace on a worker thread while the UI thread keeps
//! drawing the original: the copy sets the progress ([`crate::service`]'s bulk unwraps),
//! the original's status bar reads it. So every clone of a workspace shares this cell. It
//! is not part of the workspace's state: it is never saved, never compared (two workspaces
//! are equal whatever their progress), never rewound.

use std::sync::{Arc, Mutex};

/// Databases opened / to open by the bulk operation running now, shared by every clone.
#[derive(Clone, Default)]
pub struct BulkProgress(Arc<Mutex<Option<(usize, usize)>>>);

impl BulkProgress {
    /// How far the running bulk operation has got: `(done, total)`, `None` outside one.
    pub fn get(&self) -> Option<(usize, usize)> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn set(&self, progress: Option<(usize, usize)>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = progress;
    }
}

impl std::fmt::Debug for BulkProgress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BulkProgress({:?})", self.get())
    }
}
