//! The eframe app: top bar (file menu, simulated clock, notifications), resource navigator,
//! blades opening to the right, and a Cloud-Shell-like panel.
//!
//! State is kept apart from views: the workspace, the document (file, unsaved marker), the
//! blade stack with each blade's form state, and background jobs. The frame draws from them
//! and applies the blades' actions at its end.

pub mod app_action;
pub mod blade_layout;
pub mod blades;
mod changes;
mod chrome;
pub mod customer_app;
pub mod db_table;
pub mod endpoint_panel;
pub mod history;
pub mod jobs;
mod navigator;
pub mod presentation;
pub mod presenter;
mod recent;
pub mod recovery;
#[cfg(test)]
mod requests_test;
pub mod scenarios;
pub mod shell_panel;
pub mod widgets;

use crate::model::Workspace;
use blades::{Action, Blade, BladeKind};
use jobs::{FileJob, FilePicker, Job, JobOrigin};
use std::path::PathBuf;
use std::sync::Arc;

/// Opens the window.
pub fn run(path: Option<PathBuf>) -> Result<(), String> {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_inner_size([1400.0, 860.0])
            .with_min_inner_size([900.0, 560.0]),
        ..Default::default()
    };
    eframe::run_native(
        "tde-console",
        options,
        Box::new(move |cc| {
            let mut app = ConsoleApp::new(cc);
            if let Some(p) = path {
                app.start_load(p);
            }
            Ok(Box::new(app))
        }),
    )
    .map_err(|e| e.to_string())
}

/// The open workspace's file and state.
pub struct Document {
    pub path: Option<PathBuf>,
    /// The workspace revision the file holds (read or written): the workspace is unsaved
    /// while its revision differs.
    pub revision: u64,
    /// Unsaved for a reason outside the workspace: a passphrase set or removed, a
    /// crash-recovery copy reopened.
    pub forced_unsaved: bool,
    /// The file as this console last read or wrote it (to notice another process's save).
    pub stamp: Option<crate::persist::DiskStamp>,
    /// Saves are sealed under this passphrase (File > Protect with passphrase…).
    pub passphrase: Option<String>,
}

impl Document {
    /// Whether another process changed the file since this console read or wrote it.
    pub fn changed_on_disk(&self) -> bool {
        self.path
            .as_deref()
            .is_some_and(|p| crate::persist::stamp(p) != self.stamp)
    }
}

/// A simulated clock that can run by itself.
pub struct ClockControl {
    pub running: bool,
    /// Simulated seconds per real second.
    pub speed: f64,
    carry: f64,
    last: Option<f64>,
}

pub enum Dialog {
    Open {
        path: String,
        error: Option<String>,
    },
    SaveAs {
        path: String,
        error: Option<String>,
        then_close: bool,
    },
    ConfirmClose,
    ConfirmDiscard {
        then: Box<PendingSwitch>,
    },
    Message {
        title: String,
        text: String,
    },
    /// Ctrl+K: open any resource or view by typing part of its name.
    Palette {
        query: String,
    },
    /// History > Export session as script…
    ExportScript {
        path: String,
        error: Option<String>,
    },
    /// Crash-recovery copies left by consoles that are gone, found at start.
    Recover {
        copies: Vec<recovery::Leftover>,
    },
    /// The file to open is protected with a passphrase.
    Passphrase {
        path: PathBuf,
        input: String,
        error: Option<String>,
        /// It is a crash-recovery copy (opens as unsaved work).
        recovered: bool,
    },
    /// File > Protect with passphrase…
    Protect {
        passphrase: String,
        confirm: String,
        error: Option<String>,
    },
}

/// What to do once unsaved changes are dealt with.
pub enum PendingSwitch {
    New,
    Demo,
    Open(PathBuf),
    ShowOpenDialog,
    /// Start (or restart) a shipped scenario by its id.
    Scenario(String),
}

/// A change waiting to run, and where its outcome goes.
struct Queued {
    /// The blade that hears the outcome (none for a menu's or a panel's change).
    blade: Option<u64>,
    line: blades::Line,
    change: blades::Change,
    then_open: Option<Box<BladeKind>>,
}

/// How many of the session's changes-as-commands the notifications panel shows (the newest;
/// they are the History's entries up to the current point, as the exported script has them).
pub(crate) const COMMANDS_KEPT: usize = 50;

pub struct ConsoleApp {
    pub ws: Workspace,
    /// Where new key material comes from.
    pub keys: Arc<dyn crate::service::KeySource>,
    /// Changes asked for and not yet run (see [`ConsoleApp::queue`]).
    commands: std::collections::VecDeque<Queued>,
    pub doc: Document,
    pub blades: Vec<Blade>,
    next_blade_id: u64,
    /// The blade drawn alone at full width, if one is maximised.
    pub maximised: Option<u64>,
    /// A blade opened since the last frame: its first layout pass is not shown (tables and
    /// grids measure their columns in it).
    fresh_blade: bool,
    /// Zoom and theme.
    pub presentation: presentation::Presentation,
    /// The session's timeline (undo, redo, rewind, bookmarks).
    pub history: history::History,
    /// What made the last change (the label of its point on the timeline).
    last_change: String,
    /// Its `az` equivalent, when it has one.
    last_command: Option<String>,
    /// The runs of Play so far (the History makes one point of each run's ticks).
    clock_runs: u64,
    /// The clock advance the running clock job makes, recorded when it lands.
    pending_clock: Option<history::ClockSpan>,
    /// The History panel is open.
    pub show_history: bool,
    /// The Scenarios panel is open, and the scenario being walked.
    pub show_scenarios: bool,
    pub scenario: Option<scenarios::ScenarioRun>,
    /// What changed with the last advance or operation (marked for a few seconds).
    pub(crate) changes: changes::Changes,
    /// Notifications shown as toasts so far (the count of the workspace's notifications).
    toasted: usize,
    /// Toasts on screen, with the time they go away.
    toasts: Vec<(crate::model::Notification, f64)>,
    pub nav: navigator::NavigatorState,
    pub clock: ClockControl,
    pub shell: shell_panel::ShellPanel,
    pub job: Option<Job>,
    pub file_job: Option<FileJob>,
    pub dialog: Option<Dialog>,
    pub show_notifications: bool,
    pub recent: recent::RecentFiles,
    picker: Arc<dyn FilePicker>,
    allow_close: bool,
    title: String,
    /// Another process changed the open file (checked every two seconds).
    pub disk_changed: bool,
    disk_checked_at: f64,
    pub recovery: recovery::Recovery,
    /// View > "Serve vaults on localhost".
    pub serving: endpoint_panel::Serving,
    /// View > Presenter view (F5): Topology full-window under the chain strip.
    pub presenter: bool,
    /// In the presenter view, the blades opened from its picture are shown beside it (Esc
    /// closes them one by one before it leaves the view). Forgotten when the view is left.
    pub presenter_side: bool,
    /// The navigator, shown or hidden with the top bar's "Resources" button; `None` follows the
    /// window: shown when it is wide, hidden when narrow (200 % zoom on 1280x720).
    pub nav_shown: Option<bool>,
    /// The newest blade when the navigator last looked: a different one on a narrow window
    /// folds the navigator away, however it was opened (navigator, Go to, a blade's button).
    nav_top_blade: Option<u64>,
    /// The side panels open leave the blades beside the navigator less than a readable
    /// width (at 150 % on 1280x720 Scenarios left the Failover groups blade 240 points): the
    /// navigator then gives way to the blades, as on a narrow window.
    side_crowded: bool,
    /// View > "Customer app".
    pub customer_app: customer_app::CustomerAppPanel,
    /// Sends the workspace's webhook outbox on a thread of its own (never this one).
    webhooks: crate::webhook_delivery::Courier,
}

impl ConsoleApp {
    /// The app as `cargo run` opens it: the built-in demo.
    pub fn new(_cc: &eframe::CreationContext<'_>) -> Self {
        let mut app = Self::with_workspace(demo_or_empty(), None);
        app.picker = Arc::new(jobs::RfdPicker);
        app.recent = recent::RecentFiles::load();
        app.presentation = presentation::Presentation::load();
        app.recovery = recovery::Recovery::on_disk();
        app.offer_recovery();
        app
    }

    /// Offers the copies of unsaved work that consoles which are gone left (each by name, to
    /// recover or discard).
    pub fn offer_recovery(&mut self) {
        let copies = self.recovery.take_leftovers();
        if !copies.is_empty() {
            self.dialog = Some(Dialog::Recover { copies });
        }
    }

    /// An app over a given workspace, with no file dialogs and no recent-files store
    /// (what tests use).
    pub fn with_workspace(mut ws: Workspace, path: Option<PathBuf>) -> Self {
        // A state of its own: no view cache of another workspace can match it.
        ws.bump_revision();
        let mut history = history::History::start(&ws, "Opened");
        history.set_source(source_of(path.as_deref(), &ws));
        ConsoleApp {
            history,
            last_change: String::new(),
            last_command: None,
            clock_runs: 0,
            pending_clock: None,
            show_history: false,
            show_scenarios: false,
            scenario: None,
            keys: Arc::new(crate::service::OsKeySource),
            commands: std::collections::VecDeque::new(),
            doc: Document {
                stamp: path.as_deref().and_then(crate::persist::stamp),
                path,
                revision: ws.revision,
                forced_unsaved: false,
                passphrase: None,
            },
            blades: Vec::new(),
            next_blade_id: 1,
            maximised: None,
            fresh_blade: false,
            presentation: presentation::Presentation::default(),
            changes: changes::Changes::default(),
            toasted: ws.notifications.len(),
            toasts: Vec::new(),
            nav: navigator::NavigatorState::default(),
            clock: ClockControl {
                running: false,
                speed: 60.0,
                carry: 0.0,
                last: None,
            },
            shell: shell_panel::ShellPanel::default(),
            job: None,
            file_job: None,
            dialog: None,
            show_notifications: false,
            recent: recent::RecentFiles::in_memory(),
            picker: Arc::new(jobs::NoPicker),
            allow_close: false,
            title: String::new(),
            disk_changed: false,
            disk_checked_at: f64::NEG_INFINITY,
            recovery: recovery::Recovery::default(),
            serving: endpoint_panel::Serving::default(),
            presenter: false,
            presenter_side: false,
            nav_shown: None,
            nav_top_blade: None,
            side_crowded: false,
            customer_app: customer_app::CustomerAppPanel::default(),
            webhooks: crate::webhook_delivery::Courier::default(),
            ws,
        }
    }

    /// Takes new key material from `keys` (tests use pre-generated keys): key creation in
    /// the blades, rotations, the clock's policy rotations and the Cloud Shell.
    pub fn with_keys(mut self, keys: Arc<dyn crate::service::KeySource>) -> Self {
        self.shell.use_keys(keys.clone());
        self.keys = keys;
        self
    }

    /// Whether the navigator is on screen: not in the presenter view or beside a maximised
    /// blade; else as the user chose with "Resources", by default unless the window is
    /// `narrow` and a blade is open.
    pub fn navigator_shown(&self, narrow: bool) -> bool {
        !self.presenter
            && self.maximised.is_none()
            && self
                .nav_shown
                .unwrap_or(!(narrow || self.side_crowded) || self.blades.is_empty())
    }

    /// Whether a side panel (Scenarios, History, the vaults' endpoint) is open: none is drawn
    /// beside a maximised blade or the presenter view.
    pub fn side_panel_open(&self) -> bool {
        self.show_scenarios || self.show_history || self.serving.open
    }

    /// Whether Maximise would give the newest of `blades` blades more room: not when it is
    /// the only one and already has the whole width (the navigator folded, no side panel).
    pub fn maximise_helps(&self, blades: usize, narrow: bool) -> bool {
        blades > 1 || (!self.presenter && (self.navigator_shown(narrow) || self.side_panel_open()))
    }

    /// Whether the side panels open would leave the blades beside the navigator less than
    /// a readable width in a window `width` points wide.
    fn side_panels_crowd(&self, width: f32) -> bool {
        let panels: f32 = [
            (self.show_scenarios, 340.0),
            (self.serving.open, 360.0),
            (self.show_history, 320.0),
        ]
        .iter()
        .filter(|(open, _)| *open)
        .map(|(_, w)| w)
        .sum();
        panels > 0.0 && width - navigator_width(false) - panels < blade_layout::MIN_WIDTH + 40.0
    }

    /// Whether the presenter view shows blades beside its picture (opened from a box).
    pub fn presenter_beside(&self) -> bool {
        self.presenter && self.presenter_side && !self.blades.is_empty()
    }

    /// Ctrl+S/O/N, Ctrl+K (the palette), Esc (closes the newest blade), F11 (full screen).
    fn shortcuts(&mut self, ctx: &egui::Context) {
        use egui::{Key, KeyboardShortcut, Modifiers};
        let pressed = |key: Key| {
            ctx.input_mut(|i| i.consume_shortcut(&KeyboardShortcut::new(Modifiers::COMMAND, key)))
        };
        let save = pressed(Key::S);
        let open = pressed(Key::O);
        let new = pressed(Key::N);
        let palette = pressed(Key::K);
        let typing = ctx.memory(|m| m.focused().is_some());
        // In a text field, Ctrl+Z undoes typing (the field's own); elsewhere, operations.
        if !typing {
            // Ctrl+Shift+Z first: Ctrl+Z would also match it.
            let shift_z = ctx.input_mut(|i| {
                i.consume_shortcut(&KeyboardShortcut::new(
                    Modifiers::COMMAND | Modifiers::SHIFT,
                    Key::Z,
                ))
            });
            if pressed(Key::Y) || shift_z {
                self.redo();
            } else if pressed(Key::Z) {
                self.undo();
            }
        }
        let dialog_open = self.dialog.is_some();
        if save && !self.busy() && self.file_job.is_none() && !dialog_open {
            self.save(false);
        }
        if open && !dialog_open {
            self.switch_document(PendingSwitch::ShowOpenDialog);
        }
        if new && !dialog_open {
            self.switch_document(PendingSwitch::New);
        }
        if palette && !dialog_open {
            self.dialog = Some(Dialog::Palette {
                query: String::new(),
            });
        }
        // F5 whatever has the focus (a button, the customer app, a blade), except a text
        // field being typed in.
        if !dialog_open && !ctx.text_edit_focused() && ctx.input(|i| i.key_pressed(Key::F5)) {
            self.presenter = !self.presenter;
        }
        // Esc closes the topmost thing first: an open menu or list closes itself and a
        // dialog answers it; then the Notifications panel (drawn over everything), then a
        // side panel (History, the vaults' endpoint, Scenarios); then, beside the presenter
        // view's picture, its blades, else the view; elsewhere it restores a maximised
        // blade, else closes the newest one. (At 150 % Esc closed the blade hidden behind
        // Notifications and left the panel open.) In a text field it only leaves the field.
        let esc = !dialog_open
            && !egui::Popup::is_any_open(ctx)
            && ctx.input(|i| i.key_pressed(Key::Escape));
        if esc && self.show_notifications && !typing {
            self.show_notifications = false;
        } else if esc && self.presenter {
            if self.presenter_beside() {
                self.maximised = None;
                self.blades.pop();
            } else {
                self.presenter = false;
            }
        } else if esc && !typing {
            if self.show_history {
                self.show_history = false;
            } else if self.serving.open {
                self.serving.open = false;
            } else if self.show_scenarios {
                self.show_scenarios = false;
            } else if self.maximised.take().is_none() {
                self.blades.pop();
            }
        }
        if ctx.input(|i| i.key_pressed(Key::F11)) {
            let full = ctx.input(|i| i.viewport().fullscreen.unwrap_or(false));
            ctx.send_viewport_cmd(egui::ViewportCommand::Fullscreen(!full));
        }
    }

    /// Returns to point `i` of the timeline: the whole workspace as it was, clock included.
    /// Not while a job runs (its result would land on the wrong state).
    pub fn rewind_to(&mut self, i: usize) {
        if self.busy() {
            return;
        }
        if let Some(ws) = self.history.rewind_to(i) {
            self.restore(ws);
        }
    }

    pub fn undo(&mut self) {
        if !self.busy()
            && let Some(ws) = self.history.undo()
        {
            self.restore(ws);
        }
    }

    pub fn redo(&mut self) {
        if !self.busy()
            && let Some(ws) = self.history.redo()
        {
            self.restore(ws);
        }
    }

    fn restore(&mut self, ws: Workspace) {
        self.yield_play_step();
        // Bookmarks kept in the file belong to the session, not to a moment of it.
        let kept = std::mem::take(&mut self.ws.bookmarks);
        // Webhooks owed to the outside world are not rewound: what waits is still sent, and
        // what was sent is not sent again.
        let outbox = std::mem::take(&mut self.ws.outbox);
        self.ws = ws;
        self.ws.bookmarks = kept;
        self.ws.outbox = outbox;
        // The notifications of the state restored were announced when they happened: Redo
        // does not toast them again (walk 35: it re-raised "TDE protector updated").
        self.toasted = self.ws.notifications.len();
        // Changes asked of the state left behind do not apply to this one.
        self.commands.clear();
        self.clock.running = false;
    }

    /// Shows what a GUI change was as `az` lines, with a Copy button, and keeps it for the
    /// notifications panel.
    fn command_toast(&mut self, az: &str) {
        let n = crate::model::Notification {
            time: self.ws.now(),
            level: crate::model::NotificationLevel::Info,
            title: "Done. As a command:".into(),
            text: az.to_string(),
            read: true,
            done: None,
        };
        // Shown from the next frame for six seconds (the frame's clock is not at hand here).
        self.toasts.push((n, f64::NAN));
    }

    /// Says why a change asked for from a menu or a panel was refused (a blade shows its
    /// own refusal): the error and the command that was refused.
    fn refusal_toast(&mut self, error: &str, az: Option<&str>) {
        let text = match az {
            Some(az) => format!("{}\n{az}", first_line(error)),
            None => first_line(error),
        };
        let n = crate::model::Notification {
            time: self.ws.now(),
            level: crate::model::NotificationLevel::Error,
            title: "Refused:".into(),
            text,
            read: true,
            done: None,
        };
        // Shown from the next frame, as a command's toast.
        self.toasts.push((n, f64::NAN));
    }

    /// Shows a toast that is not a workspace notification (a save, say).
    fn toast(
        &mut self,
        ctx: &egui::Context,
        level: crate::model::NotificationLevel,
        title: &str,
        text: String,
    ) {
        let now = ctx.input(|i| i.time);
        let n = crate::model::Notification {
            time: self.ws.now(),
            level,
            title: title.into(),
            text,
            read: true,
            done: None,
        };
        self.toasts.push((n, now + 5.0));
    }

    /// Whether the workspace holds changes the file does not.
    pub fn unsaved(&self) -> bool {
        self.doc.forced_unsaved || self.ws.revision != self.doc.revision
    }

    /// Queues a change to the workspace that is not a blade's (a menu's, a panel's): it
    /// runs after this frame, or after the running job has landed.
    pub fn queue_change(&mut self, change: blades::Change) {
        self.commands.push_back(Queued {
            blade: None,
            line: blades::Line::Main,
            change,
            then_open: None,
        });
    }

    /// Queues a command of the shell's registry (see [`blades::Change::Request`]): its `az`
    /// (or `sim`) line is rendered from it, shown when it works and kept for the script.
    pub fn queue_request(
        &mut self,
        invocation: blades::Invocation,
        wording: impl FnOnce(&serde_json::Value, &Workspace) -> String + Send + 'static,
    ) {
        self.queue_change(blades::Change::request(invocation, wording));
    }

    /// Queues a change that no command of the registry makes, named `label` (a test counts
    /// these: prefer [`ConsoleApp::queue_request`]).
    pub fn queue_unscripted(
        &mut self,
        label: &'static str,
        command: impl FnOnce(&mut Workspace) -> blades::Outcome + Send + 'static,
    ) {
        self.queue_change(blades::Change::Unscripted {
            label: label.to_string(),
            command: Box::new(command),
            az: None,
        });
    }

    /// Runs the queued changes, in order, unless a job is running (its result lands first,
    /// then they run on it). Each runs behind a panic boundary: a bug becomes its error and
    /// the workspace stays as it was before that change.
    fn run_commands(&mut self) {
        if !self.commands.is_empty() {
            self.yield_play_step();
        }
        while self.job.is_none() {
            let Some(q) = self.commands.pop_front() else {
                return;
            };
            let keep = self.ws.clone();
            let az = q.change.az();
            let change = q.change;
            let keys = self.keys.clone();
            let ws = &mut self.ws;
            let run = || change.run(ws, keys.as_ref());
            let r = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
                Ok(r) => r,
                Err(panic) => {
                    // Nothing the change did is kept, except the requests vaults answered.
                    let failed = std::mem::replace(&mut self.ws, keep.clone());
                    self.ws.keep_trace_of(failed);
                    Err(format!(
                        "(InternalError) The operation failed inside the console ({}); nothing was changed.",
                        crate::shell::panic_text(&panic)
                    ))
                }
            };
            // A change made outside `transact` still counts as a change.
            if self.ws.revision == keep.revision && !self.ws.same_as(&keep) {
                self.ws.bump_revision();
            }
            if self.ws.revision != keep.revision {
                self.note_command(&keep, &r, az.as_deref());
            }
            let Some(id) = q.blade else {
                // A menu's or a panel's change has no blade to say why it was refused.
                if let Err(e) = &r {
                    self.refusal_toast(e, az.as_deref());
                }
                continue;
            };
            let Some(i) = self.blades.iter().position(|b| b.id == id) else {
                continue;
            };
            let worked = r.is_ok();
            self.blades[i].kind.deliver(q.line, r);
            if worked && let Some(kind) = q.then_open {
                self.blades.truncate(i + 1);
                self.push_blade(*kind);
            }
        }
    }
    /// Records what a queued change did as its own point of the History (and entry of the
    /// session's script), labelled with what it did, or why it was refused.
    fn note_command(&mut self, before: &Workspace, r: &blades::Outcome, az: Option<&str>) {
        // Reading notifications is no moment to return to and nothing to replay (nor an
        // unsaved change): the current point takes it.
        let mut read = before.clone();
        crate::service::mark_notifications_read(&mut read);
        if read.same_as(&self.ws) {
            if self.doc.revision == before.revision {
                self.doc.revision = self.ws.revision;
            }
            self.history.absorb(&self.ws);
            return;
        }
        match r {
            Ok(text) => {
                self.last_change = if !text.is_empty() {
                    text.clone()
                } else {
                    az.and_then(|a| a.lines().next())
                        .unwrap_or("A change")
                        .to_string()
                };
                if let Some(az) = az {
                    // The portal's automation script: the same change as az lines.
                    self.last_command = Some(az.to_string());
                    self.command_toast(az);
                }
            }
            Err(e) => {
                // A blade that words its refusal ("Test connection to 'sales' failed: …")
                // has its label; a bare service error says it was refused.
                let e = first_line(e);
                self.last_change = if e.starts_with('(') {
                    format!("Refused: {e}")
                } else {
                    e
                };
                let only_traced = before.same_apart_from_requests(&self.ws);
                self.last_command = az.map(|az| refused_lines(az, only_traced));
            }
        }
        self.record_now();
    }

    /// Adds the change since the last point to the History, with the label and command
    /// noted for it.
    fn record_now(&mut self) {
        let label = std::mem::take(&mut self.last_change);
        let command = self.last_command.take();
        self.history.record(&self.ws, command, move || {
            if label.is_empty() {
                "A change".into()
            } else {
                label
            }
        });
    }

    /// Opens every resource group and server in the navigator.
    pub fn expand_all_in_navigator(&mut self) {
        self.nav.expand_all(&self.ws);
    }

    /// Whether a job runs that the workspace must wait for: controls that change it are
    /// greyed meanwhile. A step of Play is not one: a change asked for while it runs takes
    /// its place ([`Self::yield_play_step`]), so the clock playing never greys the console.
    pub fn busy(&self) -> bool {
        self.job.is_some() && !self.play_step_running()
    }

    /// Whether any job runs, a step of Play included (tests wait for the last step to land).
    pub fn job_running(&self) -> bool {
        self.job.is_some()
    }

    /// Whether the job running is a step of Play (not an advance someone clicked).
    fn play_step_running(&self) -> bool {
        self.job
            .as_ref()
            .is_some_and(|j| j.origin == JobOrigin::Clock)
            && self
                .pending_clock
                .is_some_and(|c| matches!(c.source, history::ClockSource::Played(_)))
    }

    /// A step of Play in flight gives way to a change asked for meanwhile: its result (the
    /// clock advanced on a copy) is dropped, and the simulated time it was to take is taken
    /// by the next step, so Play loses no time and the change is made on the workspace as
    /// the user sees it.
    pub(crate) fn yield_play_step(&mut self) {
        if self.play_step_running() {
            self.job = None;
            if let Some(span) = self.pending_clock.take() {
                self.clock.carry += span.seconds as f64;
            }
        }
    }

    /// Replaces the blade stack with one root blade.
    pub fn open_root(&mut self, kind: BladeKind) {
        self.blades.clear();
        self.push_blade(kind);
    }

    fn push_blade(&mut self, kind: BladeKind) {
        let id = self.next_blade_id;
        self.next_blade_id += 1;
        self.blades.push(Blade { id, kind });
        // A blade opened from a maximised one is the one to see.
        self.maximised = None;
        self.fresh_blade = true;
    }

    pub fn start_load(&mut self, path: PathBuf) {
        self.file_job = Some(FileJob::load(path));
    }

    fn replace_workspace(
        &mut self,
        ws: Workspace,
        path: Option<PathBuf>,
        stamp: Option<crate::persist::DiskStamp>,
    ) {
        // A step of Play on the workspace left must not land on this one.
        self.yield_play_step();
        // The endpoint served the old workspace's vaults with its tokens: stop it.
        if self.serving.endpoint.take().is_some() {
            self.serving.error =
                Some("Stopped: another workspace was opened. Serve again for its vaults.".into());
        }
        let mut ws = ws;
        ws.bump_revision();
        self.doc = Document {
            path,
            revision: ws.revision,
            forced_unsaved: false,
            stamp,
            passphrase: None,
        };
        self.history = history::History::start(&ws, "Opened");
        self.history
            .set_source(source_of(self.doc.path.as_deref(), &ws));
        // Webhooks being sent for the workspace left are not recorded in this one.
        self.webhooks.forget();
        // Another workspace leaves the scenario being walked.
        self.scenario = None;
        self.ws = ws;
        // Changes asked of the workspace being replaced do not apply to the new one.
        self.commands.clear();
        self.changes.reset();
        // Whatever was unsaved was saved or discarded on purpose.
        self.recovery.clear();
        self.blades.clear();
        self.clock.running = false;
    }

    /// Runs `switch` now, or asks first if there are unsaved changes.
    pub fn switch_document(&mut self, switch: PendingSwitch) {
        if self.unsaved() {
            self.dialog = Some(Dialog::ConfirmDiscard {
                then: Box::new(switch),
            });
        } else {
            self.do_switch(switch);
        }
    }

    fn do_switch(&mut self, switch: PendingSwitch) {
        match switch {
            PendingSwitch::New => {
                self.replace_workspace(crate::service::new_workspace("Untitled", 1), None, None)
            }
            PendingSwitch::Demo => self.replace_workspace(demo_or_empty(), None, None),
            PendingSwitch::Open(p) => self.start_load(p),
            PendingSwitch::ShowOpenDialog => {
                self.dialog = Some(Dialog::Open {
                    path: String::new(),
                    error: None,
                })
            }
            PendingSwitch::Scenario(id) => self.start_scenario(&id),
        }
    }

    /// Builds a shipped scenario's workspace fresh, off the UI thread (its setup may create
    /// thousands of databases); [`Self::scenario_started`] shows its first step.
    fn start_scenario(&mut self, id: &str) {
        if self.file_job.is_some() {
            return;
        }
        let found = crate::scenario::shipped()
            .into_iter()
            .find(|(i, _)| i == id)
            .map(|(_, s)| s);
        let s = match found {
            Some(Ok(s)) => s,
            Some(Err(e)) => return self.scenario_started(id, Err(e)),
            None => return self.scenario_started(id, Err(format!("no scenario '{id}'"))),
        };
        let keys = self.keys.clone();
        let title = s.title.clone();
        let promise = poll_promise::Promise::spawn_thread("tde-console-scenario", move || {
            crate::scenario::start(&s, Box::new(keys)).map(|ws| Box::new((s, ws)))
        });
        self.file_job = Some(FileJob::Scenario {
            id: id.to_string(),
            title,
            promise,
        });
    }

    fn scenario_started(
        &mut self,
        id: &str,
        started: Result<Box<(crate::scenario::Scenario, Workspace)>, String>,
    ) {
        match started.map(|b| *b) {
            Ok((s, ws)) => {
                let now = ws.now();
                self.replace_workspace(ws, None, None);
                self.history = history::History::start(&self.ws, &format!("Scenario: {}", s.title));
                self.history.set_source(format!(
                    "the scenario '{}' as it starts (replay: tde-console shell WORKSPACE --scenario {id} --script FILE)",
                    s.title
                ));
                self.scenario = Some(scenarios::ScenarioRun::new(id.to_string(), s, now));
                self.show_scenarios = true;
            }
            Err(e) => {
                self.dialog = Some(Dialog::Message {
                    title: "The scenario could not start".into(),
                    text: e,
                })
            }
        }
    }

    pub fn save(&mut self, then_close: bool) {
        match self.doc.path.clone() {
            Some(p) => {
                self.file_job = Some(FileJob::save(
                    &self.ws,
                    p,
                    then_close,
                    Some(self.doc.stamp),
                    self.doc.passphrase.clone(),
                ))
            }
            None => {
                self.dialog = Some(Dialog::SaveAs {
                    path: String::new(),
                    error: None,
                    then_close,
                })
            }
        }
    }

    fn poll_jobs(&mut self, ctx: &egui::Context) {
        if let Some(job) = self.job.take() {
            match job.promise.try_take() {
                Ok(outcome) => {
                    let ok = outcome.result.is_ok();
                    let refusal = outcome.result.as_ref().err().map(|e| first_line(e));
                    let clock = self.pending_clock.take();
                    let changed = !outcome.ws.same_as(&self.ws);
                    // A shell line that only read (`az keyvault key show`) leaves the vault's
                    // record of the request, but nothing to return to.
                    let only_read = changed
                        && job.origin == JobOrigin::Shell
                        && outcome.ws.journal != self.ws.journal
                        && outcome.ws.same_apart_from_requests(&self.ws);
                    let kept = (ok || job.origin == JobOrigin::Shell) && changed && !only_read;
                    // A PowerShell line goes into the script as the az lines it ran.
                    let command = match job.origin {
                        JobOrigin::Shell => {
                            shell_panel::script_of(job.command, self.shell.take_pwsh_changes())
                        }
                        _ => job.command,
                    };
                    if kept {
                        let base = self.ws.revision;
                        self.ws = outcome.ws;
                        if self.ws.revision == base {
                            self.ws.bump_revision();
                        }
                        // A blade's job is named by what it did ("Failover group … failed
                        // over"), not by what it was doing ("Failing over …").
                        self.last_change = match (&job.origin, &outcome.result) {
                            (JobOrigin::Blade(_), Ok(done)) if !done.trim().is_empty() => {
                                first_line(done)
                            }
                            // A shell line is named by the line it ran, not "Running: …".
                            (JobOrigin::Shell, _) => shell_panel::done_label(&job.label),
                            _ => job.label.clone(),
                        };
                        self.last_command = command.clone();
                        if ok
                            && matches!(job.origin, JobOrigin::Blade(_))
                            && let Some(az) = &command
                        {
                            self.command_toast(az);
                        }
                    } else if only_read {
                        self.ws.keep_trace_of(outcome.ws);
                        self.ws.bump_revision();
                        // No point of its own, but a line of the script: the replay makes
                        // the same requests (and `KID=$(…)` sets what later lines use).
                        self.history.absorb(&self.ws);
                        if let Some(line) = &command {
                            self.history
                                .note(&shell_panel::done_label(&job.label), line);
                        }
                    } else if outcome.ws.journal != self.ws.journal {
                        // A refused operation changes nothing, but the requests its copy
                        // made to vaults were served or refused: their records stay (and
                        // are a change to save and a point to return to).
                        self.ws.keep_trace_of(outcome.ws);
                        self.ws.bump_revision();
                        self.last_change = format!(
                            "{} refused: {}",
                            job.label.trim_end_matches('…'),
                            refusal.clone().unwrap_or_default()
                        );
                        self.last_command = command.as_deref().map(|c| refused_lines(c, true));
                    } else if job.origin == JobOrigin::Shell
                        && let Some(line) = &command
                        && shell_state_line(line)
                    {
                        // Changes nothing here but sets what later lines use ($KID…).
                        self.history.note(&job.label, line);
                    }
                    match job.origin {
                        JobOrigin::Shell => self.shell.finish(outcome.result, &outcome.stderr),
                        JobOrigin::Clock => {
                            if kept && let Some(span) = clock {
                                // One point for a run of Play (or clicks in a row).
                                let span = history::ClockSpan {
                                    seconds: self.ws.now().0 - span.from.0,
                                    ..span
                                };
                                self.history.record_clock(&self.ws, span);
                                self.last_change.clear();
                                self.last_command = None;
                            }
                            if let Err(e) = outcome.result {
                                self.clock.running = false;
                                self.last_change =
                                    format!("The clock did not advance: {}", first_line(&e));
                                self.last_command = None;
                                crate::service::notify_error(
                                    &mut self.ws,
                                    "The clock did not advance",
                                    &e,
                                );
                            }
                        }
                        JobOrigin::Blade(id) => {
                            if let Some(b) = self.blades.iter_mut().find(|b| b.id == id) {
                                b.kind.deliver(blades::Line::Main, outcome.result);
                            }
                        }
                        // The clients have their answers; the panel lists them.
                        JobOrigin::Endpoint => {}
                    }
                    // Each job's change is its own point (a change queued meanwhile is next).
                    self.record_now();
                }
                Err(promise) => {
                    self.job = Some(Job { promise, ..job });
                    ctx.request_repaint_after(std::time::Duration::from_millis(50));
                }
            }
        }
        if let Some(fj) = self.file_job.take() {
            match fj {
                FileJob::Load {
                    path,
                    promise,
                    recovered,
                    passphrase,
                } => match promise.try_take() {
                    Ok(Ok((ws, _))) if recovered => {
                        // Unsaved work again: no file yet, and the copy stays until saved
                        // (this console writes on in it).
                        self.recovery.adopt(&path);
                        let mut ws = *ws;
                        ws.bump_revision();
                        self.doc = Document {
                            path: None,
                            revision: ws.revision,
                            forced_unsaved: true,
                            stamp: None,
                            passphrase,
                        };
                        self.history = history::History::start(&ws, "Recovered");
                        self.history.set_source(
                            "a recovered copy of unsaved work (save it first and replay on that file)",
                        );
                        self.ws = ws;
                        self.webhooks.forget();
                        self.commands.clear();
                        self.blades.clear();
                        self.dialog = None;
                    }
                    Ok(Ok((ws, stamp))) => {
                        self.recent.add(&path);
                        self.replace_workspace(*ws, Some(path), stamp);
                        self.doc.passphrase = passphrase;
                        // The Open (or passphrase) dialog is done; copies of unsaved work
                        // offered at start (a file named on the command line) stay offered.
                        if !matches!(self.dialog, Some(Dialog::Recover { .. })) {
                            self.dialog = None;
                        }
                    }
                    Ok(Err(
                        e @ (crate::persist::PersistError::NeedsPassphrase { .. }
                        | crate::persist::PersistError::WrongPassphrase { .. }),
                    )) => {
                        let wrong =
                            matches!(e, crate::persist::PersistError::WrongPassphrase { .. });
                        self.dialog = Some(Dialog::Passphrase {
                            path,
                            input: String::new(),
                            error: wrong.then(|| e.to_string()),
                            recovered,
                        });
                    }
                    Ok(Err(e)) => {
                        self.dialog = Some(Dialog::Open {
                            path: path.display().to_string(),
                            error: Some(e.to_string()),
                        });
                    }
                    Err(promise) => {
                        self.file_job = Some(FileJob::Load {
                            path,
                            promise,
                            recovered,
                            passphrase,
                        });
                        ctx.request_repaint_after(std::time::Duration::from_millis(50));
                    }
                },
                FileJob::Save {
                    path,
                    promise,
                    then_close,
                    revision,
                } => match promise.try_take() {
                    Ok(Ok(stamp)) => {
                        self.toast(
                            ctx,
                            crate::model::NotificationLevel::Success,
                            "Saved",
                            format!("The workspace was saved to {}.", path.display()),
                        );
                        self.recent.add(&path);
                        self.doc.path = Some(path);
                        // What was saved is the workspace as the save began; a change made
                        // while it was written stays unsaved.
                        self.doc.revision = revision;
                        self.doc.forced_unsaved = false;
                        self.doc.stamp = stamp;
                        self.recovery.clear();
                        if then_close {
                            self.allow_close = true;
                            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
                        }
                    }
                    Ok(Err(e)) => {
                        self.dialog = Some(Dialog::SaveAs {
                            path: path.display().to_string(),
                            error: Some(e),
                            then_close,
                        })
                    }
                    Err(promise) => {
                        self.file_job = Some(FileJob::Save {
                            path,
                            promise,
                            then_close,
                            revision,
                        });
                        ctx.request_repaint_after(std::time::Duration::from_millis(50));
                    }
                },
                FileJob::Scenario { id, title, promise } => match promise.try_take() {
                    Ok(started) => self.scenario_started(&id, started),
                    Err(promise) => {
                        self.file_job = Some(FileJob::Scenario { id, title, promise });
                        ctx.request_repaint_after(std::time::Duration::from_millis(50));
                    }
                },
                FileJob::Pick { for_save, promise } => match promise.try_take() {
                    Ok(jobs::Picked::Path(p)) => {
                        let text = p.display().to_string();
                        match &mut self.dialog {
                            Some(Dialog::Open { path, .. }) if !for_save => *path = text,
                            Some(Dialog::SaveAs { path, .. }) if for_save => *path = text,
                            _ => {}
                        }
                    }
                    Ok(jobs::Picked::Cancelled) => {}
                    Ok(jobs::Picked::Unavailable) => {
                        let note = "No file dialog is available on this desktop (it needs an XDG desktop portal): type the path above.".to_string();
                        match &mut self.dialog {
                            Some(Dialog::Open { error, .. })
                            | Some(Dialog::SaveAs { error, .. }) => *error = Some(note),
                            _ => {}
                        }
                    }
                    Err(promise) => {
                        self.file_job = Some(FileJob::Pick { for_save, promise });
                        ctx.request_repaint_after(std::time::Duration::from_millis(100));
                    }
                },
            }
        }
    }

    /// Advances the simulated clock on a worker thread: whatever falls due (a heal of
    /// thousands of databases, a rotation) never freezes the window. The UI shows the job
    /// and keeps mutating controls disabled until it is done.
    pub fn advance_clock(&mut self, by: crate::sim::Duration) {
        self.advance_clock_from(by, history::ClockSource::Clicked);
    }

    /// [`Self::advance_clock`] for a click or for a tick of a run of Play (the History
    /// makes one point of each run's ticks).
    fn advance_clock_from(&mut self, by: crate::sim::Duration, source: history::ClockSource) {
        if source == history::ClockSource::Clicked {
            // "+1h" while Play runs: the step in flight gives way to it.
            self.yield_play_step();
        }
        if self.job.is_some() {
            return;
        }
        self.pending_clock = Some(history::ClockSpan {
            from: self.ws.now(),
            seconds: by.0,
            source,
        });
        let keys = self.keys.clone();
        // The request that runs is the line the History and the script keep.
        let ask = history::clock_request(by.0);
        let line = ask.line();
        self.job = Some(Job::spawn(
            format!("Advancing the clock by {}", by.human()),
            JobOrigin::Clock,
            &self.ws,
            move |ws| match ask.run(ws, keys.as_ref()) {
                Ok(_) => (Ok(String::new()), String::new()),
                Err(e) => (
                    Err(crate::shell::invocation::refusal_text(&e)),
                    String::new(),
                ),
            },
        ));
        if let Some(job) = &mut self.job {
            job.command = Some(line);
        }
    }

    /// The running clock: simulated time accumulates while a step runs, and the next step
    /// (on a worker, like any advance) takes all of it.
    fn tick_clock(&mut self, ctx: &egui::Context) {
        let now = ctx.input(|i| i.time);
        if !self.clock.running {
            self.clock.last = None;
            return;
        }
        match self.clock.last {
            Some(last) => self.clock.carry += (now - last) * self.clock.speed,
            // Play was pressed: a new run of the clock.
            None => self.clock_runs += 1,
        }
        self.clock.last = Some(now);
        let whole = self.clock.carry.floor();
        if whole >= 1.0 && self.job.is_none() {
            self.clock.carry -= whole;
            let run = history::ClockSource::Played(self.clock_runs);
            self.advance_clock_from(crate::sim::Duration(whole as i64), run);
        }
        ctx.request_repaint_after(std::time::Duration::from_millis(100));
    }

    fn handle_close(&mut self, ctx: &egui::Context) {
        if !ctx.input(|i| i.viewport().close_requested()) {
            return;
        }
        if self.unsaved() && !self.allow_close {
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
            self.dialog = Some(Dialog::ConfirmClose);
        } else {
            // Closing with nothing unsaved, or without saving on purpose: no recovery copy.
            self.recovery.clear();
        }
    }

    fn update_title(&mut self, ctx: &egui::Context) {
        let file = self
            .doc
            .path
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| format!("{} (not saved)", self.ws.name));
        let title = format!(
            "{}{} — tde-console",
            if self.unsaved() { "● " } else { "" },
            file
        );
        if title != self.title {
            ctx.send_viewport_cmd(egui::ViewportCommand::Title(title.clone()));
            self.title = title;
        }
    }

    /// Draws the breadcrumbs and the blades (each with its own form state) and returns
    /// what they asked for.
    pub(crate) fn draw_blades(&mut self, ui: &mut egui::Ui) -> Vec<Action> {
        let mut blades = std::mem::take(&mut self.blades);
        let actions = chrome::blade_area(self, &mut blades, ui);
        self.blades = blades;
        actions
    }

    /// Starts `job` through the action queue, as a blade's heavy change starts (only when
    /// no job runs: callers check [`Self::busy`]).
    pub(crate) fn queue_job(&mut self, job: Job, ctx: &egui::Context) {
        self.apply_actions(vec![Action::Spawn(Box::new(job))], ctx);
    }

    /// The window title the app shows now.
    pub fn title(&self) -> &str {
        &self.title
    }
}

/// The first line of an error, for a History label.
/// The first line of what a job answered, whole (the session's script keeps it as its
/// comment; the History panel shortens it for show), up to a bound for a runaway line.
fn first_line(e: &str) -> String {
    let line = e.lines().next().unwrap_or_default().trim();
    if line.chars().count() > 1000 {
        let mut s: String = line.chars().take(1000).collect();
        s.push('…');
        s
    } else {
        line.to_string()
    }
}

/// The lines of a refused change for the session's script: as comments when the refusal
/// changed nothing but the vaults' request log (nothing to replay), else each line as it
/// ran, allowed to fail (`|| true`) as it did in the session, with the same effect.
fn refused_lines(az: &str, only_traced: bool) -> String {
    az.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            if only_traced {
                format!("# refused, nothing changed: {l}")
            } else if l.trim_start().starts_with('#') {
                l.to_string()
            } else {
                format!("{l} || true")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether a Cloud Shell line that changed nothing still sets what later lines use (a
/// variable, the directory), so the session's script keeps it.
fn shell_state_line(line: &str) -> bool {
    let t = line.trim_start();
    let first = t.split_whitespace().next().unwrap_or_default();
    (first.contains('=') && !first.starts_with('=') && !first.starts_with('-'))
        || [
            "export", "cd", "unset", "set", "declare", "readonly", "local",
        ]
        .contains(&first)
        || (t.starts_with('$') && t.contains('='))
}

/// The workspace a session starts from, in words for its script's header.
fn source_of(path: Option<&std::path::Path>, ws: &Workspace) -> String {
    match path {
        Some(p) => format!(
            "the workspace file {} as it was opened (replay on a copy of it)",
            p.display()
        ),
        None if ws.name == crate::persist::DEMO_NAME => {
            "the built-in demo (replay: tde-console shell WORKSPACE --demo --script FILE)".into()
        }
        None => format!(
            "a new empty workspace '{}' (replay: tde-console shell NEW.ron --script FILE)",
            ws.name
        ),
    }
}

fn demo_or_empty() -> Workspace {
    crate::persist::demo().unwrap_or_else(|_| crate::service::new_workspace("Untitled", 1))
}

/// Below this width (in points) the window is narrow: 200 % zoom on 1280x720 is 640.
pub const NARROW: f32 = 800.0;
/// The navigator's width (in points) when it opens.
fn navigator_width(narrow: bool) -> f32 {
    if narrow { 230.0 } else { 270.0 }
}

/// The width (in points) the side panels (Scenarios, History, the vaults' endpoint) always
/// leave to the blades between them: at 200 % on 1280x720 two panels share 340.
const MIN_BLADE_ROOM: f32 = 300.0;

/// Draws a side panel's contents inside its width: a row wider than the panel is cut at its
/// edge instead of widening it. (egui keeps such a right panel's width but moves its left
/// edge right by the overflow, so the blades were laid out, and drawn, over the panel: at
/// 150 % on 1280x720 History's bookmark row put the TDE blade 130 points over it.)
fn within(ui: &mut egui::Ui, add: impl FnOnce(&mut egui::Ui)) {
    let rect = ui.max_rect();
    let mut inner = ui.new_child(egui::UiBuilder::new().max_rect(rect));
    inner.shrink_clip_rect(rect);
    add(&mut inner);
    ui.expand_to_include_rect(rect);
}

impl eframe::App for ConsoleApp {
    /// One frame, behind a panic boundary: a bug in a blade becomes a message, the blades
    /// close, and the workspace (changed only by whole operations) is kept with its unsaved
    /// work.
    fn ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.frame(ui, frame);
        }));
        if let Err(panic) = result {
            self.blades.clear();
            self.dialog = Some(Dialog::Message {
                title: "Something went wrong in the console".into(),
                text: format!(
                    "A view failed ({}) and was closed. The workspace and its unsaved changes are kept: save them.",
                    crate::shell::panic_text(&panic)
                ),
            });
        }
    }
}

impl ConsoleApp {
    fn frame(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let ctx = ui.ctx().clone();
        self.poll_jobs(&ctx);
        let now = ctx.input(|i| i.time);
        self.recovery.tick(
            &self.ws,
            self.doc.path.as_deref(),
            self.unsaved(),
            self.doc.passphrase.as_deref(),
            now,
        );
        if now - self.disk_checked_at >= 2.0 && self.file_job.is_none() {
            self.disk_checked_at = now;
            self.disk_changed = self.doc.changed_on_disk();
        }
        if self.doc.path.is_some() {
            ctx.request_repaint_after(std::time::Duration::from_secs(2));
        }
        self.handle_close(&ctx);
        self.presentation.apply(&ctx);
        // A side panel opened beside the blades that would squeeze them (the vaults' panel
        // at 150 % left a key version 285 points, each date one word per line): the
        // navigator gives way, even when shown by hand; "Resources" shows it again.
        let crowded = self.side_panels_crowd(ctx.content_rect().width());
        if crowded && !self.side_crowded && !self.blades.is_empty() {
            self.nav_shown = None;
        }
        self.side_crowded = crowded;
        self.shortcuts(&ctx);
        // Blades beside the presenter view's picture belong to that visit of the view.
        if !self.presenter {
            self.presenter_side = false;
        }
        self.changes.observe(&self.ws, now);
        if self.changes.any() {
            ctx.request_repaint_after(std::time::Duration::from_millis(500));
        }
        // The chrome, the panels and the blades read the app and say what they want done;
        // it is done at the end of the frame, in the order asked.
        let mut actions: Vec<Action> = Vec::new();
        let top_bar = egui::Panel::top("top-bar")
            .show(ui, |ui| actions.extend(chrome::top_bar(self, ui)))
            .response
            .rect;
        // Where toasts may sit: below the top bar, above the status bar and Cloud Shell.
        let mut floor = ctx.content_rect().bottom();
        // The presenter view gives the status bar's row to the picture.
        if !self.presenter {
            floor = egui::Panel::bottom("status-bar")
                .show(ui, |ui| actions.extend(chrome::status_bar(self, ui)))
                .response
                .rect
                .top();
        }
        // A maximised Cloud Shell takes the blades' place (below).
        let shell_maximised =
            self.shell.open && self.shell.size == shell_panel::ShellSize::Maximised;
        if self.shell.open && !shell_maximised {
            // The shell and the blades share what the top bar and the status bar leave. At
            // 200 % on 1280x720 (285 points) the blades keep their title, buttons and some
            // rows; the shell shrinks first, never below its title row and prompt.
            let room = ui.available_height();
            let min = shell_panel::min_height(ui.style());
            let useful = shell_panel::useful_height(ui.style());
            let (default, mut max) = shell_panel::heights(room, min, useful);
            // The presenter view keeps its strip, toolbar and a usable picture: the shell
            // shrinks for them, down to its title row and prompt (at 200 % on 1280x720 the
            // picture was a 60-pixel band).
            if self.presenter {
                max = max.min(room - presenter::room_wanted(ui)).max(min);
            }
            let default = default.min(max);
            let busy = self.busy();
            let panel = if self.shell.size == shell_panel::ShellSize::Minimised {
                egui::Panel::bottom("cloud-shell-minimised")
                    .min_size(min)
                    .max_size(max)
            } else {
                // The presenter view's shell is a panel of its own: squeezed to its prompt
                // there, the same panel kept that height after the view closed (walk 34:
                // Cloud Shell showed its prompt only, its output out of sight).
                egui::Panel::bottom(if self.presenter {
                    "cloud-shell-presenter"
                } else {
                    "cloud-shell"
                })
                .resizable(true)
                .default_size(default)
                .min_size(min)
                .max_size(max)
            };
            floor = panel
                .show(ui, |ui| {
                    actions.extend(shell_panel::show(&self.ws, busy, &mut self.shell, ui))
                })
                .response
                .rect
                .top();
        } else if shell_maximised {
            // The maximised shell's title row and prompt stay in sight.
            floor -= shell_panel::min_height(ui.style());
        }
        // The scenario's goal is checked against the workspace before its panel reads it,
        // and while the panel is closed too (a goal met then counts).
        if let Some(run) = &mut self.scenario {
            run.check(&self.ws);
        }
        // The presenter view and a maximised blade take the room of the side panels.
        if !self.presenter && self.maximised.is_none() {
            // Side panels share what the blades leave them: at 200 % on 1280x720 (640
            // points) Scenarios and History side by side would take more than the window,
            // and the blades would be drawn over them.
            let open = [self.show_scenarios, self.serving.open, self.show_history]
                .iter()
                .filter(|o| **o)
                .count()
                .max(1) as f32;
            let width = ctx.content_rect().width();
            let narrow = width < NARROW;
            let navigator = if self.navigator_shown(narrow) {
                navigator_width(narrow)
            } else {
                0.0
            };
            // On any window (at 150 % on 1280x720, 853 points, History's rows widened it
            // to 420 points and left the blade beside the navigator 160).
            // With no blade open the panels take what the navigator leaves (at 200 % History
            // was 160 points, its bookmark field 30).
            let blade_room = if self.blades.is_empty() {
                60.0
            } else {
                MIN_BLADE_ROOM
            };
            let share = ((width - navigator - blade_room) / open).max(160.0);
            if self.show_scenarios {
                egui::Panel::right("scenarios")
                    .resizable(true)
                    .default_size(340.0_f32.min(share))
                    .max_size(share)
                    .show(ui, |ui| {
                        within(ui, |ui| actions.extend(scenarios::panel(self, ui)))
                    });
            }
            if self.serving.open {
                egui::Panel::right("vault-endpoint")
                    .resizable(true)
                    .default_size(360.0_f32.min(share))
                    .max_size(share)
                    .show(ui, |ui| within(ui, |ui| endpoint_panel::panel(self, ui)));
            }
            if self.show_history {
                egui::Panel::right("history")
                    .resizable(true)
                    .default_size(320.0_f32.min(share))
                    .max_size(share)
                    .show(ui, |ui| {
                        within(ui, |ui| actions.extend(chrome::history_panel(self, ui)))
                    });
            }
        }
        let narrow = ctx.content_rect().width() < NARROW;
        if self.navigator_shown(narrow) {
            let mut nav = std::mem::take(&mut self.nav);
            let asked = egui::Panel::left("navigator")
                .resizable(true)
                .default_size(navigator_width(narrow))
                .show(ui, |ui| navigator::show(self, &mut nav, ui))
                .inner;
            self.nav = nav;
            actions.extend(asked);
        }
        // On a narrow window the navigator gives its room back once a resource is open,
        // whichever way it was opened (before, only a click in the navigator folded it:
        // Go to left a 340-point blade beside it at 200 %).
        let top = self.blades.last().map(|b| b.id);
        if (narrow || self.side_crowded) && top.is_some() && top != self.nav_top_blade {
            self.nav_shown = None;
        }
        self.nav_top_blade = top;
        // In the presenter view the customer app is docked beside the picture: a floating
        // window covered the chain strip and the picture.
        customer_app::take_request(&mut self.customer_app, &ctx);
        let dock_app = self.presenter && self.customer_app.open && !shell_maximised;
        if dock_app {
            let width = ctx.content_rect().width();
            let mut panel = std::mem::take(&mut self.customer_app);
            let busy = self.busy();
            let serving = self.serving.endpoint.is_some();
            egui::Panel::right("customer-app-docked")
                .resizable(true)
                .default_size((width * 0.42).clamp(240.0, 520.0))
                .min_size(200.0_f32.min(width * 0.4))
                .max_size(width * 0.6)
                .show(ui, |ui| {
                    actions.extend(customer_app::docked(
                        &self.ws, busy, serving, &mut panel, ui,
                    ))
                });
            self.customer_app = panel;
        }
        let fresh = std::mem::take(&mut self.fresh_blade);
        egui::CentralPanel::default().show(ui, |ui| {
            if shell_maximised {
                let busy = self.busy();
                actions.extend(shell_panel::show(&self.ws, busy, &mut self.shell, ui));
            } else if self.presenter {
                presenter::show(self, ui);
            } else {
                actions.extend(self.draw_blades(ui));
            }
        });
        if fresh {
            ctx.request_discard("a new blade measures its tables in its first pass");
        }
        if !dock_app {
            let mut panel = std::mem::take(&mut self.customer_app);
            let busy = self.busy();
            let serving = self.serving.endpoint.is_some();
            actions.extend(customer_app::window(
                &self.ws, busy, serving, &mut panel, &ctx,
            ));
            self.customer_app = panel;
        }
        let content = ctx.content_rect();
        let below_bar = egui::Rect::from_x_y_ranges(
            content.x_range(),
            top_bar.bottom()..=content.bottom().max(top_bar.bottom()),
        );
        actions.extend(chrome::notifications_panel(self, &ctx, below_bar));
        let room = egui::Rect::from_x_y_ranges(
            content.x_range(),
            top_bar.bottom()..=floor.max(top_bar.bottom()),
        );
        chrome::toasts(&self.ws, &mut self.toasted, &mut self.toasts, &ctx, room);
        if let Some(dialog) = self.dialog.take() {
            let (kept, asked) = chrome::dialogs(self, dialog, &ctx);
            self.dialog = kept;
            actions.extend(asked);
        }
        self.apply_actions(actions, &ctx);
        if !self.commands.is_empty() {
            let before = self.ws.revision;
            self.run_commands();
            if self.ws.revision != before || !self.commands.is_empty() {
                // Show what the change did without waiting for the next input.
                ctx.request_repaint();
            }
        }
        self.record_now();
        // Requests from SDK clients, after the frame's own changes: a job of their own.
        endpoint_panel::serve(self, &ctx);
        self.send_webhooks(&ctx);
        // Play's next step last: what the frame asked for (a click, a shell line, an SDK
        // client's request, a webhook's outcome) runs before it, never waits behind it.
        self.tick_clock(&ctx);
        self.update_title(&ctx);
    }

    /// The webhook outbox, after the frame's changes have committed: sent on the courier's
    /// thread; the outcomes are recorded (an operation) when no job works on a copy of the
    /// workspace, into the current History point (a reaction, not a change to undo or replay).
    fn send_webhooks(&mut self, ctx: &egui::Context) {
        let may_record = self.job.is_none();
        if self.webhooks.poll(&mut self.ws, may_record) > 0 {
            self.history.absorb(&self.ws);
            ctx.request_repaint();
        }
        if self.webhooks.busy() {
            ctx.request_repaint_after(std::time::Duration::from_millis(100));
        }
    }
}
