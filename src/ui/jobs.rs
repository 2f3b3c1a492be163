//! Work that must not run on the UI thread: key generation (through operations that need
//! new key material), shell commands, file reads and writes, file dialogs.
//!
//! An operation job runs on a copy of the workspace on a worker thread; the frame only
//! polls its promise, and the copy replaces the workspace when the job is done. While a job
//! runs, the UI does not change the workspace (controls that would are disabled).

use crate::model::Workspace;
use crate::persist::DiskStamp;
use crate::service::progress::{BulkProgress, reporting};
use poll_promise::Promise;
use std::path::PathBuf;

/// Who asked for a job, so its result goes back there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobOrigin {
    Shell,
    Blade(u64),
    /// The clock: an advance, or a step of the running clock.
    Clock,
    /// Requests from SDK clients and az to the served vaults (View > Serve vaults).
    Endpoint,
}

pub struct JobOutcome {
    pub ws: Workspace,
    /// Text for the origin: output or the service's error.
    pub result: Result<String, String>,
    /// Extra stderr text (shell).
    pub stderr: String,
}

pub struct Job {
    pub label: String,
    pub origin: JobOrigin,
    pub promise: Promise<JobOutcome>,
    /// The job as a shell line (for the session's script), when it is one.
    pub command: Option<String>,
    /// How far its bulk unwraps have got, for the status bar: the UI's own cell, which the
    /// operations layer reports into while the job runs ([`crate::service::progress`]).
    pub progress: BulkProgress,
}

impl Job {
    /// Runs `work` on a copy of `ws` on a worker thread.
    pub fn spawn(
        label: impl Into<String>,
        origin: JobOrigin,
        ws: &Workspace,
        work: impl FnOnce(&mut Workspace) -> (Result<String, String>, String) + Send + 'static,
    ) -> Job {
        let mut copy = ws.clone();
        let progress = BulkProgress::default();
        let reporter = progress.clone();
        let promise = Promise::spawn_thread("tde-console-job", move || {
            // A bug that panics in the job becomes an error message; the workspace stays as
            // it was when the job started (a snapshot: cheap), and the app keeps running.
            let keep = copy.clone();
            let run = || reporting(reporter, || work(&mut copy));
            match std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
                Ok((result, stderr)) => JobOutcome {
                    ws: copy,
                    result,
                    stderr,
                },
                Err(panic) => JobOutcome {
                    // Nothing the job changed is kept, except the requests vaults answered.
                    ws: {
                        let mut keep = keep;
                        keep.keep_trace_of(copy);
                        keep
                    },
                    result: Err(format!(
                        "(InternalError) The operation failed inside the console ({}); nothing was changed.",
                        crate::shell::panic_text(&panic)
                    )),
                    stderr: String::new(),
                },
            }
        });
        Job {
            label: label.into(),
            origin,
            promise,
            command: None,
            progress,
        }
    }
}

/// A workspace read from a file, with the file's stamp from before it was read.
pub type Loaded = (Box<Workspace>, Option<DiskStamp>);

/// A workspace file being read or written, or a dialog being shown.
pub enum FileJob {
    Load {
        path: PathBuf,
        promise: Promise<Result<Loaded, crate::persist::PersistError>>,
        /// A crash-recovery copy: it opens as unsaved work, not as that file.
        recovered: bool,
        /// The passphrase it is being opened with (kept for the next save).
        passphrase: Option<String>,
    },
    Save {
        path: PathBuf,
        promise: Promise<Result<Option<DiskStamp>, String>>,
        then_close: bool,
        /// The revision of the workspace being written.
        revision: u64,
    },
    Pick {
        for_save: bool,
        promise: Promise<Picked>,
    },
    /// A scenario's starting workspace being built (the demo, then its setup lines, which
    /// may create thousands of databases).
    Scenario {
        id: String,
        title: String,
        promise: Promise<Result<Box<(crate::scenario::Scenario, Workspace)>, String>>,
    },
}

impl FileJob {
    pub fn load(path: PathBuf) -> FileJob {
        Self::load_with(path, None)
    }

    /// Opens a workspace, with the passphrase that protects it if it is protected.
    pub fn load_with(path: PathBuf, passphrase: Option<String>) -> FileJob {
        let p = path.clone();
        let pass = passphrase.clone();
        let promise = Promise::spawn_thread("tde-console-load", move || {
            // Taken before reading, so a save by another process from here on is noticed.
            let stamp = crate::persist::stamp(&p);
            crate::persist::load_with(&p, pass.as_deref()).map(|ws| (Box::new(ws), stamp))
        });
        FileJob::Load {
            path,
            promise,
            recovered: false,
            passphrase,
        }
    }

    /// Saves `ws` to `path` on a worker. With `expected`, only if the file is still as this
    /// console last saw it (another process's save is refused, not overwritten); without
    /// (Save as…), whatever is there.
    pub fn save(
        ws: &Workspace,
        path: PathBuf,
        then_close: bool,
        expected: Option<Option<DiskStamp>>,
        passphrase: Option<String>,
    ) -> FileJob {
        let copy = ws.clone();
        let p = path.clone();
        let promise = Promise::spawn_thread("tde-console-save", move || match expected {
            Some(stamp) => crate::persist::save_checked(&copy, &p, stamp, passphrase.as_deref()),
            None => crate::persist::save_with(&copy, &p, passphrase.as_deref())
                .map(|()| crate::persist::stamp(&p))
                .map_err(|e| e.to_string()),
        });
        FileJob::Save {
            path,
            promise,
            then_close,
            revision: ws.revision,
        }
    }

    pub fn pick(picker: std::sync::Arc<dyn FilePicker>, for_save: bool) -> FileJob {
        let promise = Promise::spawn_thread("tde-console-dialog", move || {
            let started = std::time::Instant::now();
            let picked = if for_save {
                picker.pick_save()
            } else {
                picker.pick_open()
            };
            match picked {
                Some(p) => Picked::Path(p),
                // Nobody cancels a dialog within a blink: none was shown (no desktop
                // portal on this machine).
                None if started.elapsed() < std::time::Duration::from_millis(400) => {
                    Picked::Unavailable
                }
                None => Picked::Cancelled,
            }
        });
        FileJob::Pick { for_save, promise }
    }
}

/// What a file dialog gave back.
pub enum Picked {
    Path(PathBuf),
    Cancelled,
    /// No dialog could be shown: the path is typed instead.
    Unavailable,
}

/// The native file dialog, behind a trait so tests never open one.
pub trait FilePicker: Send + Sync {
    fn pick_open(&self) -> Option<PathBuf>;
    fn pick_save(&self) -> Option<PathBuf>;
}

/// rfd: the desktop portal or zenity. Where neither answers it returns `None` at once, like
/// a cancel; the typed path beside the Browse button still works.
pub struct RfdPicker;

impl FilePicker for RfdPicker {
    fn pick_open(&self) -> Option<PathBuf> {
        rfd::FileDialog::new()
            .add_filter("tde-console workspace", &["ron"])
            .pick_file()
    }

    fn pick_save(&self) -> Option<PathBuf> {
        rfd::FileDialog::new()
            .add_filter("tde-console workspace", &["ron"])
            .set_file_name("workspace.ron")
            .save_file()
    }
}

/// A picker that never opens anything (tests, headless runs).
pub struct NoPicker;

impl FilePicker for NoPicker {
    fn pick_open(&self) -> Option<PathBuf> {
        None
    }
    fn pick_save(&self) -> Option<PathBuf> {
        None
    }
}
