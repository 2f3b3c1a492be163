//! The portal's frame around the blades: top bar, navigator, breadcrumbs and blade strip,
//! and the modal dialogs.

use super::blades::{self, Action, BladeCtx, BladeKind, Change, Invocation};
use super::jobs::FileJob;
use super::widgets::{self, AMBER, BLUE, RED, badge};
use super::{ConsoleApp, Dialog, PendingSwitch, blade_layout};
use crate::model::*;
use crate::sim::Duration;
use egui::RichText;

use crate::ui::widgets::BUSY_WHY;

pub fn top_bar(app: &mut ConsoleApp, ui: &mut egui::Ui) {
    // Zoomed in (a projector at 200 %), the clock gets a row of its own instead of being
    // cut. Nothing that comes and goes (a count, the endpoint's indicator, which is in the
    // status bar) changes which: the bar never jumps under the pointer.
    // How wide the one-row bar was last measured to need (the workspace name, the clock and
    // the right-hand buttons, with a gap): below it, the clock takes the second row.
    let needed_id = ui.scope_id().with("top-bar-needed-width");
    let total = ui.available_width();
    let needed = ui.data(|d| d.get_temp::<f32>(needed_id)).unwrap_or(1180.0);
    // Leaving out the "Advance:" caption is the first thing given up, the row the second.
    let caption = ui
        .painter()
        .layout_no_wrap(
            "Advance:".into(),
            egui::TextStyle::Body.resolve(ui.style()),
            egui::Color32::WHITE,
        )
        .size()
        .x
        + ui.spacing().item_spacing.x;
    let narrow = total < needed - caption;
    let compact = total < needed;
    let mut left_end = None;
    let mut right_start = None;
    egui::MenuBar::new().ui(ui, |ui| {
        let narrow_window = ui.ctx().content_rect().width() < super::NARROW;
        let nav_shown = app.navigator_shown(narrow_window);
        if ui
            .selectable_label(nav_shown, "Resources")
            .on_hover_text("Show or hide the resource navigator")
            .clicked()
        {
            app.presenter = false;
            app.maximised = None;
            app.nav_shown = Some(!nav_shown);
        }
        ui.menu_button("File", |ui| {
            if ui.button("New workspace").clicked() {
                app.switch_document(PendingSwitch::New);
            }
            if ui.button("Open…").clicked() {
                app.switch_document(PendingSwitch::ShowOpenDialog);
            }
            if ui.button("Open built-in demo").clicked() {
                app.switch_document(PendingSwitch::Demo);
            }
            ui.menu_button("Open recent", |ui| {
                if app.recent.paths.is_empty() {
                    ui.label("No recent files");
                }
                for p in app.recent.paths.clone() {
                    if ui.button(p.display().to_string()).clicked() {
                        app.switch_document(PendingSwitch::Open(p));
                    }
                }
            });
            ui.separator();
            if ui
                .add_enabled(!app.busy(), egui::Button::new("Save"))
                .on_disabled_hover_text(BUSY_WHY)
                .clicked()
            {
                app.save(false);
            }
            if ui
                .add_enabled(!app.busy(), egui::Button::new("Save as…"))
                .on_disabled_hover_text(BUSY_WHY)
                .clicked()
            {
                app.dialog = Some(Dialog::SaveAs {
                    path: String::new(),
                    error: None,
                    then_close: false,
                });
            }
            ui.separator();
            if app.doc.passphrase.is_none() {
                if ui.button("Protect with passphrase…").clicked() {
                    app.dialog = Some(Dialog::Protect {
                        passphrase: String::new(),
                        confirm: String::new(),
                        error: None,
                    });
                }
            } else if ui.button("Remove passphrase protection").clicked() {
                app.doc.passphrase = None;
                app.doc.forced_unsaved = true;
            }
        });
        ui.menu_button("Edit", |ui| {
            let undo = app
                .history
                .can_undo()
                .then(|| app.history.points()[app.history.cursor()].label.clone());
            if ui
                .add_enabled(
                    undo.is_some() && !app.busy(),
                    egui::Button::new(match &undo {
                        Some(l) => format!("Undo: {}", short(l)),
                        None => "Undo".into(),
                    }),
                )
                .on_disabled_hover_text(crate::ui::widgets::why(&[
                    (app.busy(), BUSY_WHY),
                    (undo.is_none(), "Nothing to undo yet."),
                ]))
                .on_hover_text("Ctrl+Z")
                .clicked()
            {
                app.undo();
            }
            let redo = app
                .history
                .can_redo()
                .then(|| app.history.points()[app.history.cursor() + 1].label.clone());
            if ui
                .add_enabled(
                    redo.is_some() && !app.busy(),
                    egui::Button::new(match &redo {
                        Some(l) => format!("Redo: {}", short(l)),
                        None => "Redo".into(),
                    }),
                )
                .on_disabled_hover_text(crate::ui::widgets::why(&[
                    (app.busy(), BUSY_WHY),
                    (redo.is_none(), "Nothing to redo: undo something first."),
                ]))
                .on_hover_text("Ctrl+Y")
                .clicked()
            {
                app.redo();
            }
            ui.separator();
            if ui.button("History and bookmarks…").clicked() {
                app.show_history = true;
                ui.close();
            }
        });
        ui.menu_button("View", |ui| {
            ui.checkbox(&mut app.presenter, "Presenter view (F5)")
                .on_hover_text(
                    "Topology full-window with the failure chain narrated over it; Esc leaves it",
                );
            ui.checkbox(&mut app.shell.open, "Cloud Shell");
            if ui.button("Topology").clicked() {
                app.open_root(BladeKind::Topology);
            }
            if ui.button("Scenarios").clicked() {
                app.show_scenarios = true;
                ui.close();
            }
            if ui.button("Activity log").clicked() {
                app.open_root(BladeKind::ActivityLog);
            }
            if ui.button("Alerts").clicked() {
                app.open_root(BladeKind::Alerts {
                    form: Default::default(),
                });
            }
            if ui.button("Advisor").clicked() {
                app.open_root(BladeKind::Advisor);
            }
            if ui
                .button("Customer app")
                .on_hover_text("A simulated app querying a database every simulated minute")
                .clicked()
            {
                app.customer_app.open = true;
                ui.close();
            }
            let mut serving = app.serving.endpoint.is_some();
            if ui
                .checkbox(&mut serving, "Serve vaults on localhost")
                .on_hover_text(
                    "The vaults as Key Vault endpoints on 127.0.0.1 for Azure SDK clients",
                )
                .changed()
            {
                let ctx = ui.ctx().clone();
                super::endpoint_panel::set_serving(app, &ctx, serving);
            }
            if ui.button("Go to… (Ctrl+K)").clicked() {
                app.dialog = Some(Dialog::Palette {
                    query: String::new(),
                });
                ui.close();
            }
            ui.separator();
            let (mut zoom, mut look) = (app.presentation.zoom, app.presentation.look);
            ui.menu_button(format!("Zoom ({:.0} %)", zoom * 100.0), |ui| {
                for z in super::presentation::Presentation::ZOOMS {
                    ui.radio_value(&mut zoom, z, format!("{:.0} %", z * 100.0));
                }
            });
            for l in super::presentation::Look::ALL {
                ui.radio_value(&mut look, l, l.label());
            }
            if (zoom, look) != (app.presentation.zoom, app.presentation.look) {
                app.presentation.set(zoom, look);
            }
        });
        ui.menu_button("Simulate", |ui| simulate_menu(app, ui));
        ui.menu_button("Settings", |ui| client_ip_setting(app, ui));
        ui.separator();
        if narrow_window {
            // 200 %: the name is in the window's title; the bar keeps the unsaved mark.
            let unsaved = if app.unsaved() { "unsaved" } else { "" };
            ui.add_sized(
                [70.0, 18.0],
                egui::Label::new(RichText::new(unsaved).color(AMBER)),
            )
            .on_hover_text(&app.ws.name);
        } else {
            ui.strong(&app.ws.name);
            // Always the same room, so the buttons to the right never move.
            let unsaved = if app.unsaved() { "(unsaved)" } else { "" };
            ui.add_sized(
                [62.0, 18.0],
                egui::Label::new(RichText::new(unsaved).color(AMBER)),
            );
        }
        ui.separator();
        if !narrow {
            clock(app, ui, compact);
            left_end = Some(ui.cursor().min.x);
        }
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            let unread = app.ws.unread_notifications();
            let label = match unread {
                0 => "Notifications".to_string(),
                1..=99 => format!("Notifications ({unread})"),
                _ => "Notifications (99+)".into(),
            };
            // Always the room of the longest label, so "Cloud Shell" never moves.
            let room = ui
                .painter()
                .layout_no_wrap(
                    "Notifications (99+)".into(),
                    egui::TextStyle::Button.resolve(ui.style()),
                    egui::Color32::WHITE,
                )
                .size()
                .x
                + 2.0 * ui.spacing().button_padding.x;
            if ui
                .add_sized(
                    [room, ui.spacing().interact_size.y],
                    egui::Button::selectable(app.show_notifications, label),
                )
                .on_hover_text(format!("{unread} unread"))
                .clicked()
            {
                app.show_notifications = !app.show_notifications;
                if !app.show_notifications {
                    app.queue_unscripted("Read the notifications", |ws| {
                        crate::service::mark_notifications_read(ws);
                        Ok(String::new())
                    });
                }
            }
            let cloud = ui.selectable_label(app.shell.open, ">_ Cloud Shell");
            right_start = Some(cloud.rect.min.x);
            if cloud.clicked() {
                app.shell.open = !app.shell.open;
            }
        });
    });
    // Measured on a one-row frame: the clock's last button and "Cloud Shell" keep at least
    // GAP between them, or the next frame puts the clock on its own row.
    const GAP: f32 = 12.0;
    if let (Some(l), Some(r)) = (left_end, right_start) {
        let need = total - (r - l) + GAP + if compact { caption } else { 0.0 };
        if (need - needed).abs() > 0.5 {
            ui.data_mut(|d| d.insert_temp(needed_id, need));
            if total < need {
                ui.ctx().request_repaint();
            }
        }
    }
    if narrow {
        ui.horizontal_wrapped(|ui| clock(app, ui, true));
    }
}

/// The first words of a label, for a menu.
fn short(label: &str) -> String {
    let mut s: String = label.chars().take(48).collect();
    if label.chars().count() > 48 {
        s.push('…');
    }
    s
}

/// The session's timeline: every point (newest first) with "Rewind to here", Undo / Redo,
/// and "Mark this moment".
pub fn history_panel(app: &mut ConsoleApp, ui: &mut egui::Ui) {
    ui.horizontal(|ui| {
        ui.strong("History");
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui.button("×").on_hover_text("Close").clicked() {
                app.show_history = false;
            }
        });
    });
    ui.label(
        RichText::new("Every operation and clock advance of this session; rewinding restores the workspace as it was, clock included.")
            .weak(),
    );
    let busy = app.busy();
    ui.horizontal(|ui| {
        if ui
            .add_enabled(app.history.can_undo() && !busy, egui::Button::new("Undo"))
            .on_disabled_hover_text(if busy {
                BUSY_WHY
            } else {
                "Nothing to undo: this is the start of the session."
            })
            .clicked()
        {
            app.undo();
        }
        if ui
            .add_enabled(app.history.can_redo() && !busy, egui::Button::new("Redo"))
            .on_disabled_hover_text(if busy {
                BUSY_WHY
            } else {
                "Nothing to redo: this is the newest point."
            })
            .clicked()
        {
            app.redo();
        }
    });
    if ui
        .button("Export session as script…")
        .on_hover_text(
            "The session's changes as az / sim lines: run them with tde-console shell on the starting workspace",
        )
        .clicked()
    {
        app.dialog = Some(Dialog::ExportScript {
            path: String::new(),
            error: None,
        });
    }
    ui.horizontal(|ui| {
        widgets::narrow_text_field(
            ui,
            "Bookmark name",
            &mut app.bookmark_name,
            "before the revocation",
            170.0,
        );
        if ui
            .add_enabled(
                !app.bookmark_name.trim().is_empty(),
                egui::Button::new("Mark this moment"),
            )
            .on_disabled_hover_text("Type a name for the bookmark first.")
            .clicked()
        {
            let name = std::mem::take(&mut app.bookmark_name);
            app.history.mark(&name);
            if !app.ws.bookmarks.is_empty() {
                keep_bookmarks_in_file(app, true);
            }
        }
    });
    let mut keep = !app.ws.bookmarks.is_empty();
    let marked = app.history.points().iter().any(|p| p.bookmark.is_some());
    if ui
        .add_enabled(
            (marked || keep) && !busy,
            egui::Checkbox::new(&mut keep, "Keep bookmarks in the workspace file"),
        )
.on_disabled_hover_text(crate::ui::widgets::why(&[(busy, BUSY_WHY), (!(marked || keep), "Mark a moment first.")]))
        .on_hover_text(
            "Saves each bookmarked moment (the whole workspace as it was) with the file, so the class reopens it and rewinds. The file grows by one workspace per bookmark.",
        )
        .changed()
    {
        keep_bookmarks_in_file(app, keep);
    }
    ui.separator();
    let cursor = app.history.cursor();
    let mut rewind = None;
    egui::ScrollArea::vertical()
        .auto_shrink([false, false])
        .show(ui, |ui| {
            for (i, p) in app.history.points().iter().enumerate().rev() {
                let current = i == cursor;
                egui::Frame::new()
                    .fill(if current {
                        ui.visuals().selection.bg_fill.gamma_multiply(0.35)
                    } else {
                        egui::Color32::TRANSPARENT
                    })
                    .inner_margin(4)
                    .show(ui, |ui| {
                        ui.horizontal_wrapped(|ui| {
                            if let Some(b) = &p.bookmark {
                                badge(ui, b, BLUE);
                            }
                            ui.label(RichText::new(p.sim_time.to_display()).weak().small());
                            if current {
                                ui.label(RichText::new("now").strong());
                            }
                        });
                        ui.label(&p.label);
                        if !current
                            && ui
                                .add_enabled(!busy, egui::Button::new("Rewind to here").small())
                                .on_disabled_hover_text(BUSY_WHY)
                                .on_hover_text(format!("Rewind to: {}", p.label))
                                .clicked()
                        {
                            rewind = Some(i);
                        }
                    });
            }
        });
    if let Some(i) = rewind {
        app.rewind_to(i);
    }
}

/// The notifications centre floats under the top bar instead of pushing the layout down.
pub fn notifications_panel(app: &mut ConsoleApp, ctx: &egui::Context) {
    if !app.show_notifications {
        return;
    }
    egui::Area::new(egui::Id::unique("notifications-panel"))
        .anchor(egui::Align2::RIGHT_TOP, [-8.0, 30.0])
        .order(egui::Order::Foreground)
        .show(ctx, |ui| {
            ui.set_max_width(460.0);
            notifications(app, ui);
        });
}

/// New notifications (databases Inaccessible, back online, a failover…) also show for a
/// few seconds as toasts in the bottom-right corner; a click dismisses one.
pub fn toasts(app: &mut ConsoleApp, ctx: &egui::Context) {
    let now = ctx.input(|i| i.time);
    let count = app.ws.notifications.len();
    if count < app.toasted {
        // Another workspace: nothing new to announce.
        app.toasted = count;
    }
    if count > app.toasted {
        let fresh = app
            .ws
            .notifications
            .iter()
            .skip(app.toasted.max(count.saturating_sub(3)));
        for n in fresh {
            app.toasts.push((n.clone(), now + 8.0));
        }
        app.toasted = count;
    }
    for (_, until) in app.toasts.iter_mut() {
        if until.is_nan() {
            *until = now + 6.0;
        }
    }
    app.toasts.retain(|(_, until)| *until > now);
    if app.toasts.len() > 4 {
        let extra = app.toasts.len() - 4;
        app.toasts.drain(..extra);
    }
    if app.toasts.is_empty() {
        return;
    }
    let mut dismiss = None;
    egui::Area::new(egui::Id::unique("toasts"))
        .anchor(egui::Align2::RIGHT_BOTTOM, [-12.0, -40.0])
        .order(egui::Order::Tooltip)
        .show(ctx, |ui| {
            // At 200 % on 1280x720 (640 points) a 420-point toast hid two thirds of the
            // window (the customer app's chart under two errors): at most 45 % of it.
            ui.set_max_width(420.0_f32.min(ctx.content_rect().width() * 0.45));
            for (i, (n, _)) in app.toasts.iter().enumerate() {
                let color = level_colour(n.level);
                let is_command = n.title == "Done. As a command:";
                // Its own buttons: a click on the whole toast would sit above Copy and take
                // its click (the toast's Copy never copied).
                egui::Frame::popup(ui.style())
                    .stroke(egui::Stroke::new(2.0, color))
                    .show(ui, |ui| {
                        ui.horizontal(|ui| {
                            badge(ui, level_name(n.level), color);
                            ui.strong(&n.title);
                            if is_command && ui.small_button("Copy").clicked() {
                                ui.ctx().copy_text(n.text.clone());
                            }
                            if ui.small_button("×").on_hover_text("Dismiss").clicked() {
                                dismiss = Some(i);
                            }
                        });
                        if is_command {
                            // A bulk change's list of names is cut short here; Copy, the
                            // History and the script keep the whole line.
                            ui.add(
                                egui::Label::new(
                                    RichText::new(widgets::short_command(&n.text)).monospace(),
                                )
                                .wrap()
                                .selectable(true),
                            );
                        } else {
                            ui.add(egui::Label::new(&n.text).wrap());
                        }
                    });
            }
        });
    if let Some(i) = dismiss {
        app.toasts.remove(i);
    }
    let next = app
        .toasts
        .iter()
        .map(|(_, until)| *until - now)
        .fold(f64::INFINITY, f64::min);
    ctx.request_repaint_after(std::time::Duration::from_secs_f64(next.clamp(0.05, 8.0)));
}

fn level_colour(level: NotificationLevel) -> egui::Color32 {
    match level {
        NotificationLevel::Error => RED,
        NotificationLevel::Warning => AMBER,
        NotificationLevel::Success => widgets::GREEN,
        NotificationLevel::Info => BLUE,
    }
}

fn level_name(level: NotificationLevel) -> &'static str {
    match level {
        NotificationLevel::Error => "Error",
        NotificationLevel::Warning => "Warning",
        NotificationLevel::Success => "Succeeded",
        NotificationLevel::Info => "Info",
    }
}

/// The status bar along the bottom: what runs in the background, with its progress, so the
/// top bar never shifts or crowds while a job runs.
pub fn status_bar(app: &mut ConsoleApp, ui: &mut egui::Ui) {
    ui.horizontal(|ui| {
        ui.set_height(22.0);
        match (&app.job, &app.file_job) {
            (Some(job), _) => {
                ui.spinner();
                ui.label(&job.label);
                // Bulk unwraps report how far they are (databases opened so far).
                let progress = job.progress.get();
                if let Some((done, total)) = progress.filter(|(_, t)| *t > 0) {
                    ui.add(
                        egui::ProgressBar::new(done as f32 / total as f32)
                            .desired_width(220.0)
                            .text(format!("{done} / {total} databases")),
                    );
                }
                ui.label(
                    RichText::new("The workspace is busy: changes wait until this is done.").weak(),
                );
            }
            (None, Some(fj)) => {
                ui.spinner();
                ui.label(match fj {
                    FileJob::Load { path, .. } => format!("Opening {}…", path.display()),
                    FileJob::Save { path, .. } => format!("Saving {}…", path.display()),
                    FileJob::Pick { .. } => "Waiting for the file dialog…".to_string(),
                    FileJob::Scenario { title, .. } => format!("Starting the scenario '{title}'…"),
                });
            }
            (None, None) if app.disk_changed => {
                ui.colored_label(
                    AMBER,
                    "The workspace file changed on disk since it was opened or saved here (another process saved it). Save refuses to overwrite it; Save as… chooses.",
                );
            }
            (None, None) => {
                let dbs: usize = app.ws.servers.iter().map(|s| s.databases.len()).sum();
                ui.label(
                    RichText::new(format!(
                        "Ready · timing profile {} · {} servers · {dbs} databases · {} vaults",
                        app.ws.profile.as_str(),
                        app.ws.servers.len(),
                        app.ws.vaults.iter().filter(|v| v.deleted.is_none()).count()
                    ))
                    .weak(),
                );
            }
        }
        if app.serving.endpoint.is_some() {
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                super::endpoint_panel::indicator(app, ui)
            });
        }
    });
}

/// The clock and its controls; `compact` (a row of their own at 200 %) leaves out the
/// "Advance:" caption so the row fits.
fn clock(app: &mut ConsoleApp, ui: &mut egui::Ui, compact: bool) {
    ui.label(RichText::new(format!("{}", app.ws.now())).monospace());
    let play = if app.clock.running { "Pause" } else { "Play" };
    // The running clock's own steps keep Pause usable.
    let clock_step = app
        .job
        .as_ref()
        .is_some_and(|j| j.origin == super::jobs::JobOrigin::Clock);
    let enabled = !app.busy() || clock_step;
    if ui
        .add_enabled_ui(enabled, |ui| {
            ui.add_sized([48.0, 20.0], egui::Button::new(play))
        })
        .inner
        .clicked()
    {
        app.clock.running = !app.clock.running;
    }
    egui::ComboBox::from_id_salt("clock-speed")
        .selected_text(speed_label(app.clock.speed))
        .width(80.0)
        .show_ui(ui, |ui| {
            for s in [1.0, 60.0, 600.0, 3600.0] {
                ui.selectable_value(&mut app.clock.speed, s, speed_label(s));
            }
        })
        .response
        .on_hover_text("Speed of Play: simulated time per second");
    if !compact {
        ui.label("Advance:");
    }
    for (label, d) in [
        ("+1m", Duration::minutes(1)),
        ("+10m", Duration::minutes(10)),
        ("+1h", Duration::hours(1)),
        ("+8h", Duration::hours(8)),
        ("+1d", Duration::days(1)),
    ] {
        if ui
            .add_enabled(!app.busy(), egui::Button::new(label).small())
            .on_disabled_hover_text(BUSY_WHY)
            .clicked()
        {
            app.advance_clock(d);
        }
    }
}

fn speed_label(s: f64) -> String {
    match s as i64 {
        1 => "1 s/s".into(),
        60 => "1 min/s".into(),
        600 => "10 min/s".into(),
        3600 => "1 h/s".into(),
        other => format!("{other}×"),
    }
}

fn notifications(app: &mut ConsoleApp, ui: &mut egui::Ui) {
    egui::Frame::popup(ui.style()).show(ui, |ui| {
        ui.horizontal(|ui| {
            ui.strong("Notifications");
            if ui.small_button("Mark all read").clicked() {
                app.queue_unscripted("Mark all notifications read", |ws| {
                    crate::service::mark_notifications_read(ws);
                    Ok(String::new())
                });
            }
        });
        egui::ScrollArea::vertical()
            .max_height(180.0)
            .show(ui, |ui| {
                if app.ws.notifications.is_empty() {
                    ui.label("Nothing yet.");
                }
                for n in app.ws.notifications.iter().rev().take(50) {
                    let color = level_colour(n.level);
                    ui.horizontal_wrapped(|ui| {
                        badge(ui, if n.read { "read" } else { "new" }, color);
                        ui.strong(&n.title);
                        ui.label(RichText::new(n.time.to_display()).weak());
                    });
                    ui.label(&n.text);
                }
            });
        // What the toasts showed stays here: each change made by clicking, as az.
        if !app.commands_done.is_empty() {
            ui.separator();
            ui.strong("Your changes as az commands");
            egui::ScrollArea::vertical()
                .id_salt("commands-done")
                .max_height(160.0)
                .show(ui, |ui| {
                    for (i, (time, line)) in app.commands_done.iter().enumerate().rev() {
                        ui.horizontal(|ui| {
                            ui.label(RichText::new(time.to_display()).weak());
                            if ui
                                .small_button("Copy")
                                .on_hover_text("Copy this az line")
                                .clicked()
                            {
                                ui.ctx().copy_text(line.clone());
                            }
                        });
                        ui.push_id(i, |ui| {
                            ui.add(
                                egui::Label::new(
                                    RichText::new(widgets::short_command(line)).monospace(),
                                )
                                .wrap()
                                .selectable(true),
                            );
                        });
                    }
                });
        }
    });
}

/// Breadcrumbs and the strip of blades. Returns the blades' actions.
pub fn blade_area(app: &mut ConsoleApp, ui: &mut egui::Ui) -> Vec<Action> {
    let mut actions = Vec::new();
    if app.blades.is_empty() {
        ui.vertical_centered(|ui| {
            ui.add_space(60.0);
            ui.heading("Azure SQL · Transparent data encryption with customer-managed keys");
            ui.label("Pick a server, database or key vault on the left. Every key here is a real RSA key; every database a real AES-256-GCM encrypted page set.");
            ui.label("The clock is simulated: advance it to see permission changes propagate and databases turn Inaccessible or heal.");
        });
        return actions;
    }
    // A blade whose content needs more than the room left between the side panels (History
    // and Scenarios beside it at 200 %) is cut at the panel's edge: it never draws over
    // them or takes their clicks.
    ui.shrink_clip_rect(ui.max_rect());
    let mut truncate_to: Option<usize> = None;
    ui.horizontal_wrapped(|ui| {
        if ui.link("Home").clicked() {
            truncate_to = Some(0);
        }
        for (i, b) in app.blades.iter().enumerate() {
            ui.label(">");
            if ui.link(b.title()).clicked() {
                truncate_to = Some(i + 1);
            }
        }
    });
    ui.separator();
    let busy = app.busy();
    let height = ui.available_height();
    let overhead = 22.0 + ui.spacing().item_spacing.x;
    let maximised = app
        .maximised
        .and_then(|id| app.blades.iter().position(|b| b.id == id));
    let preferred: Vec<f32> = app.blades.iter().map(|b| b.width()).collect();
    let widths = blade_layout::widths(&preferred, ui.available_width(), overhead, maximised);
    let mut maximise: Option<Option<u64>> = None;
    ui.horizontal_top(|ui| {
        let folded: Vec<usize> = (0..app.blades.len())
            .filter(|i| widths[*i].is_none())
            .collect();
        if !folded.is_empty() {
            ui.vertical(|ui| {
                ui.set_width(blade_layout::FOLD_STRIP - ui.spacing().item_spacing.x);
                for i in folded {
                    let b = &app.blades[i];
                    if ui
                        .button(format!("{}", i + 1))
                        .on_hover_text(format!("{} (folded: click to show it)", b.title()))
                        .clicked()
                    {
                        maximise = Some(Some(b.id));
                    }
                }
            });
        }
        for (i, width) in widths.iter().enumerate() {
            let Some(width) = *width else { continue };
            let blade = &mut app.blades[i];
            let id = blade.id;
            let is_max = maximised == Some(i);
            ui.push_id(id, |ui| {
                egui::Frame::group(ui.style())
                    .inner_margin(10)
                    .show(ui, |ui| {
                        ui.vertical(|ui| {
                            ui.set_width(width);
                            ui.set_height((height - 30.0).max(0.0));
                            // The buttons first (from the right), then the title in what
                            // they leave, so a narrow blade's title is cut short before
                            // them instead of running under Maximise.
                            ui.with_layout(egui::Layout::right_to_left(egui::Align::TOP), |ui| {
                                if ui.button("×").on_hover_text("Close").clicked() {
                                    truncate_to = Some(i);
                                }
                                let (text, hover, to) = if is_max {
                                    ("Restore", "Show the blades side by side again", None)
                                } else {
                                    ("Maximise", "Use the whole width for this blade", Some(id))
                                };
                                if ui.small_button(text).on_hover_text(hover).clicked() {
                                    maximise = Some(to);
                                }
                                ui.with_layout(egui::Layout::top_down(egui::Align::Min), |ui| {
                                    ui.add(
                                        egui::Label::new(RichText::new(blade.title()).heading())
                                            .truncate(),
                                    );
                                    ui.label(RichText::new(blade.subtitle()).weak());
                                });
                            });
                            ui.separator();
                            let canvas = matches!(blade.kind, BladeKind::Topology);
                            let mut body = |ui: &mut egui::Ui| {
                                let mut cx = BladeCtx {
                                    ws: &app.ws,
                                    az: None,
                                    keys: &app.keys,
                                    actions: Vec::new(),
                                    busy,
                                    index: i,
                                    blade_id: id,
                                };
                                blades::show(ui, blade, &mut cx);
                                actions.extend(cx.actions);
                            };
                            // A canvas that pans and zooms fills the blade instead of
                            // scrolling with it.
                            if canvas {
                                body(ui);
                            } else {
                                egui::ScrollArea::vertical()
                                    .id_salt(("blade-scroll", id))
                                    .auto_shrink([false, false])
                                    .show(ui, body);
                            }
                        });
                    });
            });
        }
    });
    if let Some(m) = maximise {
        app.maximised = m;
    }
    if let Some(n) = truncate_to {
        app.blades.truncate(n);
    }
    actions
}

/// How a dialog ended this frame.
enum DialogEnd {
    Close,
    Discard,
}

pub fn dialogs(app: &mut ConsoleApp, ctx: &egui::Context) {
    let Some(mut dialog) = app.dialog.take() else {
        return;
    };
    let mut end = None;
    let modal = egui::Modal::new(egui::Id::unique("dialog")).show(ctx, |ui| {
        ui.set_width(520.0);
        end = dialog_body(app, ui, &mut dialog);
    });
    if end.is_none() && modal.should_close() {
        end = Some(DialogEnd::Close);
    }
    match end {
        None => {
            if app.dialog.is_none() {
                app.dialog = Some(dialog);
            }
        }
        Some(DialogEnd::Close) => {}
        Some(DialogEnd::Discard) => {
            if let Dialog::ConfirmDiscard { then } = dialog {
                app.do_switch(*then);
            }
        }
    }
}

fn dialog_body(app: &mut ConsoleApp, ui: &mut egui::Ui, dialog: &mut Dialog) -> Option<DialogEnd> {
    let mut end = None;
    match dialog {
        Dialog::Open { path, error } => {
            ui.heading("Open workspace");
            let field = widgets::text_field(ui, "File path", path, "/path/to/workspace.ron");
            let enter = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if let Some(e) = error {
                widgets::error_box(ui, &format!("{e}\nThe open workspace was not changed."));
            }
            ui.horizontal(|ui| {
                if ui.button("Browse…").clicked() && app.file_job.is_none() {
                    app.file_job = Some(FileJob::pick(app.picker.clone(), false));
                }
                if ui
                    .add_enabled(
                        !path.trim().is_empty() && app.file_job.is_none(),
                        egui::Button::new("Open"),
                    )
                    .on_disabled_hover_text(crate::ui::widgets::why(&[
                        (
                            app.file_job.is_some(),
                            "A file is being opened or saved; wait for it.",
                        ),
                        (
                            path.trim().is_empty(),
                            "Type the path of the workspace file first.",
                        ),
                    ]))
                    .clicked()
                    || (enter && !path.trim().is_empty() && app.file_job.is_none())
                {
                    *error = None;
                    app.start_load(path.trim().into());
                }
                if ui.button("Cancel").clicked() {
                    end = Some(DialogEnd::Close);
                }
            });
        }
        Dialog::SaveAs {
            path,
            error,
            then_close,
        } => {
            ui.heading("Save workspace as");
            let field = widgets::text_field(ui, "File path", path, "/path/to/workspace.ron");
            let enter = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if let Some(e) = error {
                widgets::error_box(ui, e);
            }
            ui.horizontal(|ui| {
                if ui.button("Browse…").clicked() && app.file_job.is_none() {
                    app.file_job = Some(FileJob::pick(app.picker.clone(), true));
                }
                if ui
                    .add_enabled(
                        !path.trim().is_empty() && app.file_job.is_none(),
                        egui::Button::new("Save"),
                    )
                    .on_disabled_hover_text(crate::ui::widgets::why(&[
                        (
                            app.file_job.is_some(),
                            "A file is being opened or saved; wait for it.",
                        ),
                        (
                            path.trim().is_empty(),
                            "Type the path of the workspace file first.",
                        ),
                    ]))
                    .clicked()
                    || (enter && !path.trim().is_empty() && app.file_job.is_none())
                {
                    let mut target = std::path::PathBuf::from(path.trim());
                    if target.extension().is_none() {
                        target.set_extension("ron");
                    }
                    app.file_job = Some(FileJob::save(
                        &app.ws,
                        target,
                        *then_close,
                        None,
                        app.doc.passphrase.clone(),
                    ));
                    end = Some(DialogEnd::Close);
                }
                if ui.button("Cancel").clicked() {
                    end = Some(DialogEnd::Close);
                }
            });
        }
        Dialog::Passphrase {
            path,
            input,
            error,
            recovered,
        } => {
            ui.heading("Passphrase");
            ui.label(format!(
                "'{}' is protected with a passphrase.",
                path.display()
            ));
            let field = password_field(ui, "Passphrase", input);
            if let Some(e) = error {
                crate::ui::widgets::error_box(ui, e);
            }
            let enter = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            ui.horizontal(|ui| {
                if (ui.button("Open").clicked() || enter) && !input.is_empty() {
                    end = Some(DialogEnd::Close);
                    let mut job = FileJob::load_with(path.clone(), Some(std::mem::take(input)));
                    if let FileJob::Load { recovered: r, .. } = &mut job {
                        *r = *recovered;
                    }
                    app.file_job = Some(job);
                }
                if ui.button("Cancel").clicked() {
                    end = Some(DialogEnd::Close);
                }
            });
        }
        Dialog::Protect {
            passphrase,
            confirm,
            error,
        } => {
            ui.heading("Protect with passphrase");
            ui.label("The workspace holds every private key of its vaults. Saved with a passphrase, the file is encrypted (Argon2id, AES-256-GCM); without the passphrase it cannot be opened, and it cannot be recovered.");
            password_field(ui, "New passphrase", passphrase);
            password_field(ui, "Confirm passphrase", confirm);
            if let Some(e) = error {
                crate::ui::widgets::error_box(ui, e);
            }
            ui.horizontal(|ui| {
                if ui.button("Protect").clicked() {
                    if passphrase.chars().count() < 8 {
                        *error = Some("Use at least 8 characters.".into());
                    } else if passphrase != confirm {
                        *error = Some("The two passphrases differ.".into());
                    } else {
                        end = Some(DialogEnd::Close);
                        app.doc.passphrase = Some(std::mem::take(passphrase));
                        app.doc.forced_unsaved = true;
                    }
                }
                if ui.button("Cancel").clicked() {
                    end = Some(DialogEnd::Close);
                }
            });
        }
        Dialog::Recover { path } => {
            ui.heading("Recover unsaved work?");
            let when = std::fs::metadata(&*path)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .map(|age| format!(" (copied {} minutes ago)", age.as_secs() / 60))
                .unwrap_or_default();
            ui.label(format!(
                "The console did not close properly last time. A copy of its unsaved workspace was kept{when}."
            ));
            ui.horizontal(|ui| {
                if ui.button("Recover").clicked() {
                    end = Some(DialogEnd::Close);
                    let mut job = FileJob::load(path.clone());
                    if let FileJob::Load { recovered, .. } = &mut job {
                        *recovered = true;
                    }
                    app.file_job = Some(job);
                }
                if ui.button("Discard it").clicked() {
                    end = Some(DialogEnd::Close);
                    app.recovery.clear();
                }
            });
        }
        Dialog::ConfirmClose => {
            ui.heading("Save changes before closing?");
            ui.label("The workspace has changes that are not saved.");
            ui.horizontal(|ui| {
                if ui.button("Save").clicked() {
                    end = Some(DialogEnd::Close);
                    app.save(true);
                }
                if ui.button("Don't save").clicked() {
                    end = Some(DialogEnd::Close);
                    app.allow_close = true;
                    ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
                }
                if ui.button("Cancel").clicked() {
                    end = Some(DialogEnd::Close);
                }
            });
        }
        Dialog::ConfirmDiscard { .. } => {
            ui.heading("Discard unsaved changes?");
            ui.label("The open workspace has changes that are not saved.");
            ui.horizontal(|ui| {
                if ui.button("Discard changes").clicked() {
                    end = Some(DialogEnd::Discard);
                }
                if ui.button("Cancel").clicked() {
                    end = Some(DialogEnd::Close);
                }
            });
        }
        Dialog::Message { title, text } => {
            ui.heading(title.as_str());
            ui.label(text.as_str());
            if ui.button("OK").clicked() {
                end = Some(DialogEnd::Close);
            }
        }
        Dialog::ExportScript { path, error } => {
            ui.heading("Export session as script");
            ui.label("Every change of this session that leads to the current point (all of them, however long the session: the History's undo limit does not apply) as az / sim lines, each bookmark a chapter (sim chapter NAME). The header names the workspace to replay it on; --until-chapter NAME stops at a chapter.");
            let field = widgets::text_field(ui, "Script file", path, "/path/to/session.azcli");
            let enter = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if let Some(e) = error {
                widgets::error_box(ui, e);
            }
            ui.horizontal(|ui| {
                let go = ui
                    .add_enabled(!path.trim().is_empty(), egui::Button::new("Export"))
                    .on_disabled_hover_text("Type the path of the script file first.")
                    .clicked()
                    || (enter && !path.trim().is_empty());
                if go {
                    let script = app.history.script();
                    match crate::persist::write_new_file(
                        std::path::Path::new(path.trim()),
                        script.as_bytes(),
                    ) {
                        Ok(()) => {
                            end = Some(DialogEnd::Close);
                        }
                        Err(e) => *error = Some(e),
                    }
                }
                if ui.button("Cancel").clicked() {
                    end = Some(DialogEnd::Close);
                }
            });
        }
        Dialog::Palette { query } => {
            ui.heading("Go to");
            let field = widgets::text_field(
                ui,
                "Resource or view",
                query,
                "sales, kv-contoso, activity…",
            );
            field.request_focus();
            let matches = palette_matches(app, query);
            let enter = ui.input(|i| i.key_pressed(egui::Key::Enter));
            let mut chosen = None;
            egui::ScrollArea::vertical()
                .max_height(300.0)
                .show(ui, |ui| {
                    for (i, (label, _)) in matches.iter().enumerate() {
                        if ui.selectable_label(i == 0, label).clicked() {
                            chosen = Some(i);
                        }
                    }
                });
            if enter && !matches.is_empty() {
                chosen = Some(0);
            }
            if let Some(i) = chosen
                && let Some((_, mut kind)) = matches.into_iter().nth(i)
            {
                if let BladeKind::KeyVersion {
                    vault,
                    key,
                    version,
                    ..
                } = &mut kind
                {
                    *version = crate::service::dependents::version_in_use(&app.ws, vault, key)
                        .unwrap_or_default();
                }
                app.open_root(kind);
                end = Some(DialogEnd::Close);
            }
            if ui.button("Cancel").clicked() {
                end = Some(DialogEnd::Close);
            }
        }
    }
    end
}

/// What the palette offers for `query`: views, servers, databases, vaults and keys whose
/// name contains it (the first 30).
fn palette_matches(app: &ConsoleApp, query: &str) -> Vec<(String, BladeKind)> {
    let q = query.trim().to_ascii_lowercase();
    let hit = |name: &str| q.is_empty() || name.to_ascii_lowercase().contains(&q);
    let mut out: Vec<(String, BladeKind)> = Vec::new();
    for (name, kind) in [
        ("Topology", BladeKind::Topology),
        ("Activity log", BladeKind::ActivityLog),
        ("Advisor", BladeKind::Advisor),
        (
            "Alerts",
            BladeKind::Alerts {
                form: Default::default(),
            },
        ),
    ] {
        if hit(name) {
            out.push((format!("View · {name}"), kind));
        }
    }
    for s in &app.ws.servers {
        if out.len() >= 30 {
            break;
        }
        if hit(&s.name) {
            out.push((
                format!("SQL server · {}", s.name),
                BladeKind::Server {
                    server: s.name.clone(),
                    message: None,
                },
            ));
        }
        for d in s.databases.iter().filter(|d| hit(&d.name)).take(30) {
            out.push((
                format!("SQL database · {} ({})", d.name, s.name),
                BladeKind::Database {
                    server: s.name.clone(),
                    db: d.name.clone(),
                    message: None,
                },
            ));
        }
    }
    for v in app.ws.vaults.iter().filter(|v| v.deleted.is_none()) {
        if hit(&v.name) {
            out.push((
                format!("Key vault · {}", v.name),
                BladeKind::Vault {
                    vault: v.name.clone(),
                    forms: Default::default(),
                },
            ));
        }
        for k in v
            .keys
            .iter()
            .filter(|k| k.deleted.is_none() && hit(&k.name))
        {
            // The version is the one in use, found when the key is chosen.
            out.push((
                format!("Key · {} ({})", k.name, v.name),
                BladeKind::KeyVersion {
                    vault: v.name.clone(),
                    key: k.name.clone(),
                    version: String::new(),
                    message: None,
                },
            ));
        }
    }
    out.truncate(30);
    out
}

/// The console user's client IP: the address vault firewalls see the user's calls come from.
fn client_ip_setting(app: &mut ConsoleApp, ui: &mut egui::Ui) {
    let id = ui.scope_id().with("client-ip-setting");
    let (mut text, mut error): (String, Option<String>) = ui
        .data_mut(|d| d.get_temp(id))
        .unwrap_or_else(|| (app.ws.console_user.client_ip.clone(), None));
    ui.label("The address your own calls to key vaults come from (what their firewalls check).");
    crate::ui::widgets::narrow_text_field(ui, "Client IP", &mut text, "203.0.113.10", 140.0);
    if ui
        .add_enabled(app.job.is_none(), egui::Button::new("Apply client IP"))
        .on_disabled_hover_text(BUSY_WHY)
        .clicked()
    {
        // Checked here so a mistake shows beside the field; applied as a queued change.
        match crate::service::set_client_ip(&mut app.ws.clone(), &text) {
            Ok(()) => {
                let ip = text.clone();
                app.queue_request(
                    Invocation::new("sim client-ip set").positional(ip.clone()),
                    move |_, _| format!("Client IP set to {ip}."),
                );
                error = None;
            }
            Err(e) => error = Some(e.to_string()),
        }
    }
    if let Some(e) = &error {
        crate::ui::widgets::error_box(ui, e);
    }
    ui.data_mut(|d| d.insert_temp(id, (text, error)));
}

/// A trainer's failures that are nobody's decision: one vault out, or a whole region.
fn simulate_menu(app: &mut ConsoleApp, ui: &mut egui::Ui) {
    let busy = app.job.is_some();
    ui.menu_button("Key vault outage (1 h)", |ui| {
        let names: Vec<String> = app
            .ws
            .vaults
            .iter()
            .filter(|v| v.deleted.is_none())
            .map(|v| v.name.clone())
            .collect();
        for v in names {
            if ui
                .add_enabled(!busy, egui::Button::new(format!("Outage of {v}")))
                .on_disabled_hover_text(BUSY_WHY)
                .clicked()
            {
                let ask = Invocation::new("sim keyvault outage")
                    .arg("--name", v.clone())
                    .arg("--minutes", "60");
                app.queue_change(
                    Change::request(ask, move |out, _| {
                        format!(
                            "'{v}' is unreachable until {}.",
                            iso_time(&out["unreachableUntil"])
                        )
                    })
                    .reported(refused),
                );
                ui.close();
            }
        }
    });
    ui.menu_button("Regional outage (2 h)", |ui| {
        let mut regions: Vec<String> = app
            .ws
            .servers
            .iter()
            .map(|s| s.location.clone())
            .chain(app.ws.vaults.iter().map(|v| v.location.clone()))
            .collect();
        regions.sort();
        regions.dedup();
        for r in regions {
            if ui
                .add_enabled(!busy, egui::Button::new(format!("Outage of {r}")))
                .on_disabled_hover_text(BUSY_WHY)
                .clicked()
            {
                let ask = Invocation::new("sim region outage")
                    .arg("--region", r.clone())
                    .arg("--minutes", "120");
                app.queue_change(
                    Change::request(ask, |out, _| {
                        format!(
                            "Region {} is down until {}.",
                            out["region"].as_str().unwrap_or_default(),
                            iso_time(&out["until"])
                        )
                    })
                    .reported(refused),
                );
                ui.close();
            }
        }
    });
}

/// A time in a command's JSON output, as the console shows times.
fn iso_time(v: &serde_json::Value) -> String {
    let text = v.as_str().unwrap_or_default();
    Timestamp::parse(text)
        .map(|t| t.to_string())
        .unwrap_or_else(|| text.to_string())
}

/// A simulation's refusal reaches the notifications centre (its success is recorded there
/// by the operation itself).
fn refused(ws: &mut Workspace, r: &Result<String, String>) {
    if let Err(text) = r {
        crate::service::notify_error(ws, "Simulation refused", text);
    }
}

/// A labelled password field (the label names it for screen readers and tests).
fn password_field(ui: &mut egui::Ui, label: &str, value: &mut String) -> egui::Response {
    ui.horizontal(|ui| {
        let l = ui.label(label);
        ui.add(egui::TextEdit::singleline(value).password(true))
            .labelled_by(l.id)
    })
    .inner
}

/// Puts the timeline's bookmarks into the workspace (or takes them out): a change like any
/// other, saved with the file.
fn keep_bookmarks_in_file(app: &mut ConsoleApp, keep: bool) {
    let saved = if keep {
        app.history.saved_bookmarks()
    } else {
        Vec::new()
    };
    app.queue_unscripted("Keep the bookmarks in the file", move |ws| {
        let n = saved.len();
        ws.bookmarks = saved;
        Ok(if n == 0 {
            "Bookmarks are no longer kept in the workspace file.".into()
        } else {
            format!("{n} bookmark(s) kept in the workspace file (saved with it).")
        })
    });
}
