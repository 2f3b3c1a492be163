//! How far the bulk operation running now has got (databases opened / to open), reported to
//! whoever started it: the UI's status bar draws it while a job runs.
//!
//! This is not workspace state: the model holds no shared cell (a clone, a snapshot or a
//! job's copy of a workspace shares nothing mutable with the original). The client that
//! runs an operation owns a [`BulkProgress`] and runs the operation inside [`reporting`];
//! bulk unwraps ([`crate::service::tde`]) report through [`current`], on any thread they
//! fan out to. Outside `reporting`, reports go nowhere.

use std::cell::RefCell;
use std::sync::{Arc, Mutex};

/// Databases opened / to open by a bulk operation: the cell a client reads, which the
/// operations layer writes. Clones share it (the UI keeps one, the job's thread another).
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

thread_local! {
    static SINK: RefCell<Option<BulkProgress>> = const { RefCell::new(None) };
}

/// Runs `f` with `progress` receiving the reports of the bulk operations it makes on this
/// thread (and on the threads they fan out to); the previous receiver is put back after,
/// even if `f` panics.
pub fn reporting<T>(progress: BulkProgress, f: impl FnOnce() -> T) -> T {
    struct Restore(Option<BulkProgress>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            SINK.with(|s| *s.borrow_mut() = previous);
        }
    }
    let _restore = Restore(SINK.with(|s| s.borrow_mut().replace(progress)));
    f()
}

/// Where this thread's bulk operation reports: the receiver of the enclosing [`reporting`],
/// or a cell nobody reads.
pub(crate) fn current() -> BulkProgress {
    SINK.with(|s| s.borrow().clone()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_reach_the_receiver_only_inside_reporting() {
        let mine = BulkProgress::default();
        current().set(Some((1, 2)));
        assert_eq!(mine.get(), None);
        let seen = reporting(mine.clone(), || {
            current().set(Some((3, 7)));
            // A worker thread is given the receiver, as the bulk unwraps do.
            let sink = current();
            std::thread::scope(|t| {
                t.spawn(|| sink.set(Some((5, 7))));
            });
            mine.get()
        });
        assert_eq!(seen, Some((5, 7)));
        current().set(None);
        assert_eq!(
            mine.get(),
            Some((5, 7)),
            "after reporting, reports go elsewhere"
        );
    }
}
