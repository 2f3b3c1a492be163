//! What the chrome and the panels ask of the app, as data: they read the app (`&ConsoleApp`,
//! or the workspace and their own view state) while they draw and return these, which the
//! app applies at the end of the frame, as `egui_demo_app` applies its `Command`s and as the
//! blades' [`Action`](super::blades::Action)s are applied.
//!
//! A change to the workspace is never one of these: it is an
//! [`Action::Run`](super::blades::Action::Run) with a request of the shell's registry (its
//! `az` / `sim` line rendered from it, recorded in the History as a blade's change is). These
//! are what is not the workspace's: the History (undo, redo, rewind, bookmarks), the clock's
//! Play and speed, the document (open, save, passphrase), and what is shown.

use super::blades::{Action, BladeKind, Change};
use super::jobs::FileJob;
use super::{ConsoleApp, Dialog, PendingSwitch};
use crate::shell::invocation::Invocation;
use crate::sim::Duration;
use std::path::PathBuf;

/// A panel or window of the chrome that opens and closes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Panel {
    History,
    Scenarios,
    Notifications,
    CustomerApp,
    CloudShell,
    /// The "Vaults on localhost" panel.
    Endpoint,
}

/// What a menu, a panel or a dialog asks of the app besides a change to the workspace.
/// (A few a frame at most: the size of a dialog or a blade kind inline does not matter.)
#[allow(clippy::large_enum_variant)]
pub enum AppAction {
    // The History.
    Undo,
    Redo,
    /// Return to point `i` of the timeline.
    RewindTo(usize),
    /// "Mark this moment": a bookmark named so on the current point.
    Mark(String),
    /// Keep the timeline's bookmarks in the workspace file (or take them out): queued as a
    /// [`Change::Bookmarks`] like any change.
    KeepBookmarks(bool),
    // The clock.
    /// `sim clock advance`, on a worker thread as every advance.
    Advance(Duration),
    /// Play (`true`) or Pause.
    Play(bool),
    /// Simulated seconds per real second while playing.
    Speed(f64),
    // The document.
    /// New, open, the demo, a scenario: asks first when there are unsaved changes.
    Switch(PendingSwitch),
    /// The same, with the unsaved changes discarded (the dialog asked).
    SwitchDiscarding(PendingSwitch),
    Save {
        then_close: bool,
    },
    SaveTo {
        path: PathBuf,
        then_close: bool,
    },
    Load {
        path: PathBuf,
        passphrase: Option<String>,
        recovered: bool,
    },
    /// The platform's file dialog, for the open or the save dialog.
    Pick {
        for_save: bool,
    },
    /// Saves sealed under a passphrase, or no longer (`None`).
    Passphrase(Option<String>),
    /// A crash-recovery copy is reopened (the others offered stay for the next start).
    RecoverCopy(std::path::PathBuf),
    /// A crash-recovery copy is not wanted.
    DiscardRecovery(std::path::PathBuf),
    /// The crash-recovery copies offered wait for the next start.
    KeepRecovery,
    /// Close the window without saving.
    CloseWithoutSaving,
    // What is shown.
    Dialog(Dialog),
    /// Replace the blades with one.
    OpenRoot(BladeKind),
    /// Keep the first `n` blades.
    CloseBlades(usize),
    Maximise(Option<u64>),
    /// The top bar's "Resources": show or hide the navigator (leaves the presenter view).
    Navigator(bool),
    Presenter(bool),
    Show(Panel, bool),
    /// Serve the vaults on localhost, or stop.
    Serve(bool),
    Zoom(f32, super::presentation::Look),
    /// The scenario walked shows step `i`.
    ScenarioStep(usize),
    LeaveScenario,
    /// A toast that is no notification of the workspace (a file written, say).
    Toast {
        level: crate::model::NotificationLevel,
        title: String,
        text: String,
    },
}

impl ConsoleApp {
    /// Applies what the chrome, the panels and the blades asked for this frame, in order.
    pub(crate) fn apply_actions(&mut self, actions: Vec<Action>, ctx: &egui::Context) {
        if !actions.is_empty() {
            // What they asked for shows on the next frame without waiting for input.
            ctx.request_repaint();
        }
        for a in actions {
            match a {
                Action::Open { from, kind } => {
                    self.blades.truncate(from + 1);
                    self.push_blade(*kind);
                }
                Action::Run {
                    blade,
                    line,
                    change,
                    then_open,
                } => self.commands.push_back(super::Queued {
                    blade,
                    line,
                    change,
                    then_open,
                }),
                Action::Spawn(job) => {
                    self.yield_play_step();
                    if self.job.is_none() {
                        self.job = Some(*job);
                    }
                }
                Action::App(a) => self.apply_app(a, ctx),
            }
        }
    }

    fn apply_app(&mut self, a: AppAction, ctx: &egui::Context) {
        match a {
            AppAction::Undo => self.undo(),
            AppAction::Redo => self.redo(),
            AppAction::RewindTo(i) => self.rewind_to(i),
            AppAction::Mark(name) => {
                self.history.mark(&name);
                if !self.ws.bookmarks.is_empty() {
                    self.apply_app(AppAction::KeepBookmarks(true), ctx);
                }
            }
            AppAction::KeepBookmarks(keep) => {
                let saved = if keep {
                    self.history.saved_bookmarks()
                } else {
                    Vec::new()
                };
                self.queue_change(Change::Bookmarks(saved));
            }
            AppAction::Advance(by) => self.advance_clock(by),
            AppAction::Play(on) => self.clock.running = on,
            AppAction::Speed(s) => self.clock.speed = s,
            AppAction::Switch(s) => self.switch_document(s),
            AppAction::SwitchDiscarding(s) => self.do_switch(s),
            AppAction::Save { then_close } => self.save(then_close),
            AppAction::SaveTo { path, then_close } => {
                self.file_job = Some(FileJob::save(
                    &self.ws,
                    path,
                    then_close,
                    None,
                    self.doc.passphrase.clone(),
                ))
            }
            AppAction::Load {
                path,
                passphrase,
                recovered,
            } => {
                let mut job = FileJob::load_with(path, passphrase);
                if let FileJob::Load { recovered: r, .. } = &mut job {
                    *r = recovered;
                }
                self.file_job = Some(job);
            }
            AppAction::Pick { for_save } => {
                if self.file_job.is_none() {
                    self.file_job = Some(FileJob::pick(self.picker.clone(), for_save));
                }
            }
            AppAction::Passphrase(p) => {
                self.doc.passphrase = p;
                self.doc.forced_unsaved = true;
            }
            AppAction::RecoverCopy(path) => {
                self.recovery.release_offered(Some(&path));
                let mut job = FileJob::load_with(path, None);
                if let FileJob::Load { recovered, .. } = &mut job {
                    *recovered = true;
                }
                self.file_job = Some(job);
            }
            AppAction::DiscardRecovery(path) => self.recovery.discard(&path),
            AppAction::KeepRecovery => self.recovery.release_offered(None),
            AppAction::CloseWithoutSaving => {
                self.allow_close = true;
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            }
            AppAction::Dialog(d) => self.dialog = Some(d),
            AppAction::OpenRoot(kind) => self.open_root(kind),
            AppAction::CloseBlades(n) => self.blades.truncate(n),
            AppAction::Maximise(m) => self.maximised = m,
            AppAction::Navigator(shown) => {
                self.presenter = false;
                self.maximised = None;
                self.nav_shown = Some(shown);
            }
            AppAction::Presenter(on) => self.presenter = on,
            // A side panel opened beside a maximised blade shows: the blade is restored; in
            // the presenter view (which has no side panels) the console comes back.
            AppAction::Show(
                panel @ (Panel::History | Panel::Scenarios | Panel::Endpoint),
                true,
            ) if self.maximised.is_some() || self.presenter => {
                self.maximised = None;
                self.presenter = false;
                self.apply_app(AppAction::Show(panel, true), ctx);
            }
            AppAction::Show(panel, open) => match panel {
                Panel::History => self.show_history = open,
                Panel::Scenarios => self.show_scenarios = open,
                Panel::Notifications => self.show_notifications = open,
                Panel::CustomerApp => {
                    // Opened from the menu: on the database (or the server's first one) of
                    // the blade in front, as the portal's actions act on what is open.
                    if open && !self.customer_app.open {
                        let shown = self.blades.last().and_then(|b| b.server_and_database());
                        if let Some((server, db)) = shown
                            && let Some(s) = self.ws.server(server)
                            && let Some(d) = db
                                .and_then(|db| s.database(db))
                                .or_else(|| s.databases.first().map(|d| &**d))
                        {
                            self.customer_app.server = s.name.clone();
                            self.customer_app.database = d.name.clone();
                        }
                    }
                    self.customer_app.open = open;
                }
                Panel::CloudShell => self.shell.open = open,
                Panel::Endpoint => self.serving.open = open,
            },
            AppAction::Serve(on) => super::endpoint_panel::set_serving(self, ctx, on),
            AppAction::Zoom(zoom, look) => self.presentation.set(zoom, look),
            AppAction::ScenarioStep(i) => {
                if let Some(run) = &mut self.scenario {
                    run.go_to(i);
                }
            }
            AppAction::LeaveScenario => self.scenario = None,
            AppAction::Toast { level, title, text } => self.toast(ctx, level, &title, text),
        }
    }
}

/// Reading the notifications, as data: `sim notifications read` (the History takes it into
/// the current point: it is no moment to return to, nor a change to save).
pub fn read_notifications() -> Action {
    Action::request(Invocation::new("sim notifications read"), |_, _| {
        String::new()
    })
}
