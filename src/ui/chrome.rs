//! The portal's frame around the blades: top bar, navigator, breadcrumbs and blade strip,
//! and the modal dialogs.

//!
//! They read the app (`&ConsoleApp`) and return what they ask for as
//! [`Action`]s, applied at the end of the frame (see [`super::app_action`]): a change to the
//! workspace is a request of the shell's registry, as a blade's is.

use super::app_action::{AppAction as A, Panel, read_notifications};
use super::blades::{self, Action, Blade, BladeCtx, BladeKind, Change, Invocation};
use super::jobs::FileJob;
use super::widgets::{self, AMBER, BLUE, RED, badge};
use super::{ConsoleApp, Dialog, PendingSwitch, blade_layout};
use crate::model::*;
use crate::sim::Duration;
use egui::RichText;

use crate::ui::widgets::BUSY_WHY;

/// File's and the History panel's "Export session as script…": opens its dialog.
fn export_script_button(ui: &mut egui::Ui, out: &mut Vec<Action>) {
    if ui
        .button("Export session as script…")
        .on_hover_text(
            "The session's changes as az / sim lines: run them with tde-console shell on the starting workspace",
        )
        .clicked()
    {
        out.push(
            A::Dialog(Dialog::ExportScript {
                path: String::new(),
                error: None,
            })
            .into(),
        );
    }
}

pub fn top_bar(app: &ConsoleApp, ui: &mut egui::Ui) -> Vec<Action> {
    let mut out: Vec<Action> = Vec::new();
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
            out.push(A::Navigator(!nav_shown).into());
        }
        ui.menu_button("File", |ui| {
            if ui.button("New workspace").clicked() {
                out.push(A::Switch(PendingSwitch::New).into());
            }
            if ui.button("Open…").clicked() {
                out.push(A::Switch(PendingSwitch::ShowOpenDialog).into());
            }
            if ui.button("Open built-in demo").clicked() {
                out.push(A::Switch(PendingSwitch::Demo).into());
            }
            ui.menu_button("Open recent", |ui| {
                if app.recent.paths.is_empty() {
                    ui.label("No recent files");
                }
                for p in app.recent.paths.clone() {
                    if ui.button(p.display().to_string()).clicked() {
                        out.push(A::Switch(PendingSwitch::Open(p)).into());
                    }
                }
            });
            ui.separator();
            if ui
                .add_enabled(!app.busy(), egui::Button::new("Save"))
                .on_disabled_hover_text(BUSY_WHY)
                .clicked()
            {
                out.push(A::Save { then_close: false }.into());
            }
            if ui
                .add_enabled(!app.busy(), egui::Button::new("Save as…"))
                .on_disabled_hover_text(BUSY_WHY)
                .clicked()
            {
                out.push(
                    A::Dialog(Dialog::SaveAs {
                        path: String::new(),
                        error: None,
                        then_close: false,
                    })
                    .into(),
                );
            }
            // Also in the History panel; a trainer looked for it here first (walk 35).
            export_script_button(ui, &mut out);
            ui.separator();
            if app.doc.passphrase.is_none() {
                if ui.button("Protect with passphrase…").clicked() {
                    out.push(
                        A::Dialog(Dialog::Protect {
                            passphrase: String::new(),
                            confirm: String::new(),
                            error: None,
                        })
                        .into(),
                    );
                }
            } else if ui.button("Remove passphrase protection").clicked() {
                out.push(A::Passphrase(None).into());
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
                out.push(A::Undo.into());
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
                out.push(A::Redo.into());
            }
            ui.separator();
            if ui.button("History and bookmarks…").clicked() {
                out.push(A::Show(Panel::History, true).into());
                ui.close();
            }
        });
        ui.menu_button("View", |ui| {
            let mut presenter = app.presenter;
            if ui
                .checkbox(&mut presenter, "Presenter view (F5)")
                .on_hover_text(
                    "Topology full-window with the failure chain narrated over it; Esc leaves it",
                )
                .changed()
            {
                out.push(A::Presenter(presenter).into());
            }
            let mut shell = app.shell.open;
            if ui.checkbox(&mut shell, "Cloud Shell").changed() {
                out.push(A::Show(Panel::CloudShell, shell).into());
            }
            if ui.button("Topology").clicked() {
                out.push(A::OpenRoot(BladeKind::Topology).into());
            }
            if ui.button("Scenarios").clicked() {
                out.push(A::Show(Panel::Scenarios, true).into());
                ui.close();
            }
            if ui.button("Activity log").clicked() {
                out.push(A::OpenRoot(BladeKind::ActivityLog).into());
            }
            if ui.button("Alerts").clicked() {
                out.push(
                    A::OpenRoot(BladeKind::Alerts {
                        form: Default::default(),
                    })
                    .into(),
                );
            }
            if ui.button("Advisor").clicked() {
                out.push(A::OpenRoot(BladeKind::Advisor).into());
            }
            if ui
                .button("Customer app")
                .on_hover_text("A simulated app querying a database every simulated minute")
                .clicked()
            {
                out.push(A::Show(Panel::CustomerApp, true).into());
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
                out.push(A::Serve(serving).into());
            }
            if ui.button("Go to… (Ctrl+K)").clicked() {
                out.push(
                    A::Dialog(Dialog::Palette {
                        query: String::new(),
                    })
                    .into(),
                );
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
                out.push(A::Zoom(zoom, look).into());
            }
        });
        ui.menu_button("Simulate", |ui| out.extend(simulate_menu(app, ui)));
        // A click in its text field must not close the menu (a menu closes on any click).
        egui::containers::menu::MenuButton::new("Settings")
            .config(
                egui::containers::menu::MenuConfig::new()
                    .close_behavior(egui::containers::PopupCloseBehavior::CloseOnClickOutside),
            )
            .ui(ui, |ui| out.extend(client_ip_setting(app, ui)));
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
            out.extend(clock(app, ui, compact));
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
                let open = !app.show_notifications;
                out.push(A::Show(Panel::Notifications, open).into());
                if !open {
                    out.push(read_notifications());
                }
            }
            let cloud = ui.selectable_label(app.shell.open, ">_ Cloud Shell");
            right_start = Some(cloud.rect.min.x);
            if cloud.clicked() {
                out.push(A::Show(Panel::CloudShell, !app.shell.open).into());
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
        ui.horizontal_wrapped(|ui| out.extend(clock(app, ui, true)));
    }
    out
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
pub fn history_panel(app: &ConsoleApp, ui: &mut egui::Ui) -> Vec<Action> {
    let mut out: Vec<Action> = Vec::new();
    ui.horizontal(|ui| {
        ui.strong("History");
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui.button("×").on_hover_text("Close").clicked() {
                out.push(A::Show(Panel::History, false).into());
            }
        });
    });
    // Short of room (200 % with Cloud Shell open: ~130 points) the whole panel scrolls as
    // one, the timeline inline: its own scroll area had no height left, and "Rewind to
    // here" could not be reached.
    if ui.available_height() < HISTORY_SHORT {
        egui::ScrollArea::vertical()
            .id_salt("history-whole")
            .auto_shrink([false, false])
            .show(ui, |ui| history_body(app, ui, &mut out, false));
    } else {
        history_body(app, ui, &mut out, true);
    }
    out
}

/// Below this height (points) under its title the History panel scrolls as a whole.
const HISTORY_SHORT: f32 = 200.0;

fn history_body(app: &ConsoleApp, ui: &mut egui::Ui, out: &mut Vec<Action>, list_scrolls: bool) {
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
            out.push(A::Undo.into());
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
            out.push(A::Redo.into());
        }
    });
    export_script_button(ui, out);
    // Wrapped, with the field no wider than the panel leaves it: at 150 and 200 % the row
    // is wider than the panel.
    ui.horizontal_wrapped(|ui| {
        // The name being typed is the text field's own (kept by egui between frames).
        let id = ui.scope_id().with("bookmark-name");
        let mut name: String = ui.data_mut(|d| d.get_temp(id)).unwrap_or_default();
        // Beside its button when the row has room for a name of a dozen letters and more;
        // else on a row of its own, the panel's width (at 200 % it was 60 pixels).
        let button = widgets::one_line_width(ui, "Mark this moment", egui::TextStyle::Button)
            + 2.0 * ui.spacing().button_padding.x
            + ui.spacing().item_spacing.x;
        let label = widgets::one_line_width(ui, "Bookmark name", egui::TextStyle::Body)
            + ui.spacing().item_spacing.x;
        let row = ui.available_width();
        let field = if row - label - button >= 120.0 {
            (row - label - button - 2.0 * ui.spacing().button_padding.x).min(220.0)
        } else {
            row
        };
        widgets::narrow_text_field(
            ui,
            "Bookmark name",
            &mut name,
            "before the revocation",
            field,
        );
        if ui
            .add_enabled(
                !name.trim().is_empty(),
                egui::Button::new("Mark this moment"),
            )
            .on_disabled_hover_text("Type a name for the bookmark first.")
            .clicked()
        {
            out.push(A::Mark(std::mem::take(&mut name)).into());
        }
        ui.data_mut(|d| d.insert_temp(id, name));
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
        out.push(A::KeepBookmarks(keep).into());
    }
    ui.separator();
    let cursor = app.history.cursor();
    let mut rewind = None;
    // Opened again (not drawn last pass) or moved (Undo, Rewind, a new point): the list
    // scrolls to "now" instead of where it was left.
    let seen_id = ui.scope_id().with("history-seen");
    let pass = ui.ctx().cumulative_pass_nr();
    let seen: Option<(u64, usize, usize)> = ui.data(|d| d.get_temp(seen_id));
    let points = app.history.points().len();
    let to_now = seen.is_none_or(|(last, c, n)| last + 1 < pass || c != cursor || n != points);
    ui.data_mut(|d| d.insert_temp(seen_id, (pass, cursor, points)));
    let mut timeline = |ui: &mut egui::Ui| {
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
                            let now = ui.label(RichText::new("now").strong());
                            if to_now {
                                now.scroll_to_me(Some(egui::Align::Center));
                            }
                        }
                    });
                    // A long label (a storm's summary) shows its first two lines' worth;
                    // all of it on hover and in the exported script.
                    if p.label.chars().count() > 160 {
                        let shown: String = p.label.chars().take(160).collect();
                        ui.label(format!("{shown}…")).on_hover_text(&p.label);
                    } else {
                        ui.label(&p.label);
                    }
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
    };
    if list_scrolls {
        egui::ScrollArea::vertical()
            .auto_shrink([false, false])
            .show(ui, timeline);
    } else {
        timeline(ui);
    }
    if let Some(i) = rewind {
        out.push(A::RewindTo(i).into());
    }
}

/// The notifications centre floats under the top bar instead of pushing the layout down:
/// below its button, never taller than `room` (the window below the top bar; at 200 % on
/// 1280x720 it was pushed up over its own button and Cloud Shell), its lists scroll.
pub fn notifications_panel(app: &ConsoleApp, ctx: &egui::Context, room: egui::Rect) -> Vec<Action> {
    if !app.show_notifications {
        return Vec::new();
    }
    let room = egui::Rect::from_min_max(
        room.min + egui::vec2(8.0, 2.0),
        room.max - egui::vec2(8.0, 8.0),
    );
    egui::Area::new(egui::Id::unique("notifications-panel"))
        .constrain_to(room)
        .anchor(egui::Align2::RIGHT_TOP, [0.0, 0.0])
        .order(egui::Order::Foreground)
        .show(ctx, |ui| {
            ui.set_max_width(460.0_f32.min(room.width()));
            notifications(app, ui, room.height())
        })
        .inner
}

/// New notifications (databases Inaccessible, back online, a failover…) also show for a
/// few seconds as toasts in the bottom-right corner of `room` (below the top bar, above the
/// status bar and Cloud Shell); a click dismisses one. Newest first: those that do not fit
/// are left to the Notifications panel (at 200 % two toasts grew past the window's top).
pub fn toasts(
    ws: &Workspace,
    toasted: &mut usize,
    toasts: &mut Vec<(Notification, f64)>,
    ctx: &egui::Context,
    room: egui::Rect,
) {
    let now = ctx.input(|i| i.time);
    let count = ws.notifications.len();
    if count < *toasted {
        // Another workspace: nothing new to announce.
        *toasted = count;
    }
    if count > *toasted {
        let fresh = ws
            .notifications
            .iter()
            .skip((*toasted).max(count.saturating_sub(3)));
        // Before a change's az line raised this frame (its time is not set yet): the az
        // line is the newest, so where only one toast fits it is the one shown (walk 35:
        // a Save at 150 % toasted its message alone, which the blade's "Saved:" line
        // already says, and its az line and Copy were only in Notifications).
        let at = toasts
            .iter()
            .position(|(_, until)| until.is_nan())
            .unwrap_or(toasts.len());
        let fresh: Vec<_> = fresh.map(|n| (n.clone(), now + 8.0)).collect();
        toasts.splice(at..at, fresh);
        *toasted = count;
    }
    for (_, until) in toasts.iter_mut() {
        if until.is_nan() {
            *until = now + 6.0;
        }
    }
    // While the pointer is over the stack, nothing in it moves (at 200 % the Copy button
    // jumped ~22 points as toasts came and went, and two of three clicks missed): the
    // toasts shown stay where they are until the pointer leaves, and new ones wait below
    // the fold of the list until then.
    let stack_id = egui::Id::unique("toast-stack");
    let last: Option<HeldStack> = ctx.data(|d| d.get_temp(stack_id));
    let pointer = ctx.input(|i| i.pointer.hover_pos());
    let held = match (last, pointer) {
        (Some(last), Some(p)) if last.rect.contains(p) && last.shown > 0 => Some(last),
        _ => None,
    };
    if held.is_some() {
        for (_, until) in toasts.iter_mut() {
            *until = until.max(now + 2.0);
        }
    } else {
        toasts.retain(|(_, until)| *until > now);
        // A notice whose request was done meanwhile (the revalidation it asked for ran) goes.
        toasts.retain(|(n, _)| {
            n.done.is_some()
                || !ws.notifications.iter().rev().take(200).any(|w| {
                    w.done.is_some() && w.time == n.time && w.title == n.title && w.text == n.text
                })
        });
        if toasts.len() > 4 {
            let extra = toasts.len() - 4;
            toasts.drain(..extra);
        }
    }
    if toasts.is_empty() {
        ctx.data_mut(|d| d.remove::<HeldStack>(stack_id));
        return;
    }
    // The toasts on screen: while held, those shown last frame (the oldest first in the
    // list; newer ones wait).
    let visible = held.map_or(toasts.len(), |h| h.shown.min(toasts.len()));
    let room = egui::Rect::from_min_max(
        room.min + egui::vec2(12.0, 6.0),
        room.max - egui::vec2(12.0, 6.0),
    );
    let style = ctx.global_style();
    let notes: Vec<&Notification> = toasts[..visible].iter().map(|(n, _)| n).collect();
    // Each toast is shown whole or not at all (walk A: the lowest toast's az line was cut
    // after "--server-key-type", its value scrolled out of a two-line window), as wide as
    // its text needs up to the stack's width, and the stack is placed where it covers no
    // button of the page (a fixed 420-point stack took the click meant for a secret's
    // Purge): see `place_toasts`.
    let placed = match held {
        Some(h) => {
            let layouts: Vec<ToastLayout> = notes
                .iter()
                .map(|n| ToastLayout::new(ctx, &style, n, h.width, None))
                .collect();
            let shown = h.shown.min(layouts.len());
            PlacedStack {
                width: h.width,
                bottom: h.bottom,
                layouts: layouts[layouts.len() - shown..].to_vec(),
            }
        }
        None => {
            let mut avoid = page_click_targets(ctx, room);
            // Nor the widget the pointer rests on.
            if let Some(p) = pointer
                && room.contains(p)
                && page_widget_under(ctx, p)
            {
                avoid.push(egui::Rect::from_center_size(p, egui::Vec2::splat(1.0)));
            }
            let texts = page_texts(ctx, room);
            place_toasts(ctx, &style, &notes, room, &avoid, &texts)
        }
    };
    let shown = placed.layouts.len();
    let first = visible - shown;
    let gap = style.spacing.item_spacing.y;
    let mut dismiss = None;
    // Newest on top: an older toast keeps its place at the bottom as new ones come.
    let rects = placed.rects(room.max.x, gap);
    let mut stack = egui::Rect::NOTHING;
    for (k, (layout, rect)) in placed.layouts.iter().zip(&rects).enumerate() {
        let i = first + k;
        let (n, _) = &toasts[i];
        let color = level_colour(n.level);
        let is_command = n.title == "Done. As a command:";
        let area = egui::Area::new(egui::Id::unique("toasts").with(k))
            .fixed_pos(rect.min)
            .constrain(false)
            .order(egui::Order::Tooltip)
            .show(ctx, |ui| {
                ui.set_width(rect.width());
                // Its own buttons: a click on the whole toast would sit above Copy and take
                // its click (the toast's Copy never copied).
                layout.frame(ui.style(), color).show(ui, |ui| {
                    ui.set_width(layout.inner_width);
                    ui.horizontal(|ui| {
                        ui.set_height(layout.title_row);
                        badge(ui, level_name(n.level), color);
                        ui.strong(&n.title);
                        if is_command && ui.small_button("Copy").clicked() {
                            ui.ctx().copy_text(n.text.clone());
                        }
                        if ui.small_button("×").on_hover_text("Dismiss").clicked() {
                            dismiss = Some(i);
                        }
                    });
                    // A bulk change's list of names is cut short here; Copy, the History
                    // and the script keep the whole line.
                    let body = egui::Label::new(layout.body.clone());
                    ui.add(if is_command {
                        body.selectable(true)
                    } else {
                        body
                    });
                });
            });
        stack = stack.union(area.response.rect);
    }
    // A dismissed toast leaves the held set one smaller (a waiting one does not take its place).
    let held_next = if dismiss.is_some() {
        shown.saturating_sub(1)
    } else {
        shown
    };
    ctx.data_mut(|d| {
        d.insert_temp(
            stack_id,
            HeldStack {
                rect: stack,
                shown: held_next,
                width: placed.width,
                bottom: placed.bottom,
            },
        )
    });
    if let Some(i) = dismiss {
        toasts.remove(i);
    } else if held.is_none() && shown < toasts.len() {
        // The older ones stay in the Notifications panel.
        let extra = toasts.len() - shown;
        toasts.drain(..extra);
        ctx.request_repaint();
    }
    let next = toasts
        .iter()
        .map(|(_, until)| *until - now)
        .fold(f64::INFINITY, f64::min);
    ctx.request_repaint_after(std::time::Duration::from_secs_f64(next.clamp(0.05, 8.0)));
}

/// The toast stack as it was last drawn: held in place while the pointer is over it.
#[derive(Clone, Copy, Debug)]
struct HeldStack {
    rect: egui::Rect,
    /// How many toasts it showed.
    shown: usize,
    /// The widest a toast could be.
    width: f32,
    /// Its bottom edge.
    bottom: f32,
}

/// Where the toasts go: the newest `layouts` (oldest first), at most `width` wide, the
/// stack's bottom edge at `bottom`.
struct PlacedStack {
    width: f32,
    bottom: f32,
    layouts: Vec<ToastLayout>,
}

impl PlacedStack {
    /// Each toast's rect, in `layouts`' order, right-aligned at `right`: the oldest at the
    /// bottom, the newest on top.
    fn rects(&self, right: f32, gap: f32) -> Vec<egui::Rect> {
        let mut y = self.bottom;
        let mut rects = vec![egui::Rect::NOTHING; self.layouts.len()];
        for (k, layout) in self.layouts.iter().enumerate() {
            let size = egui::vec2(layout.outer_width, layout.height);
            rects[k] = egui::Rect::from_min_size(egui::pos2(right - size.x, y - size.y), size);
            y -= size.y + gap;
        }
        rects
    }
}

/// The page's clickable widgets as the last frame drew them, in window coordinates.
fn page_controls(ctx: &egui::Context) -> Vec<egui::Rect> {
    page_widgets(ctx, |w| w.enabled && is_control(w.sense))
}

/// The page's texts (labels, messages) as the last frame drew them: what a toast should
/// rather not hide either (walk 34: a stack placed clear of every button sat on the TDE
/// blade's refusal and its explanation). Containers (a scroll area, a panel) are not texts.
fn page_texts(ctx: &egui::Context, room: egui::Rect) -> Vec<egui::Rect> {
    page_widgets(ctx, |w| !is_control(w.sense))
        .into_iter()
        .filter(|r| r.height() <= 120.0 && r.width() < room.width() * 0.9 && room.intersects(*r))
        .collect()
}

/// The page's widgets that `keep` accepts, in window coordinates.
fn page_widgets(ctx: &egui::Context, keep: impl Fn(&egui::WidgetRect) -> bool) -> Vec<egui::Rect> {
    let widgets: Vec<(egui::LayerId, egui::Rect)> = ctx.viewport(|v| {
        v.prev_pass
            .widgets
            .layers()
            .filter(|(layer, _)| is_page_layer(**layer))
            .flat_map(|(layer, ws)| {
                ws.iter()
                    .filter(|w| keep(w))
                    .map(|w| (*layer, w.interact_rect))
            })
            .collect()
    });
    widgets
        .into_iter()
        .filter(|(_, r)| r.is_positive() && r.is_finite())
        .map(|(layer, r)| match ctx.layer_transform_to_global(layer) {
            Some(t) => t * r,
            None => r,
        })
        .collect()
}

/// The page's clickable widgets inside `room`, a little inside their edges: the toasts
/// keep off all of each (walk 34: a toast clear of a drop-down's centre still hid its
/// arrow, and of "Remove a potentially compromised key" its end). A canvas that senses clicks (Topology's picture, a chart) counts by its centre only:
/// all of it would leave the toasts nowhere but over the text around it (the presenter's
/// chain strip).
fn page_click_targets(ctx: &egui::Context, room: egui::Rect) -> Vec<egui::Rect> {
    page_controls(ctx)
        .into_iter()
        .map(|r| {
            if r.width() > room.width() * 0.4 && r.height() > room.height() * 0.3 {
                egui::Rect::from_center_size(r.center(), egui::Vec2::splat(1.0))
            } else {
                r.shrink(2.0)
            }
        })
        .filter(|r| r.is_positive() && room.intersects(*r))
        .collect()
}

/// Whether a clickable widget of the page lies under `p` (the last frame's).
fn page_widget_under(ctx: &egui::Context, p: egui::Pos2) -> bool {
    page_controls(ctx).iter().any(|r| r.contains(p))
}

/// A button, check box, drop-down, link, row or field: what a person clicks to do
/// something (not selectable text or a scroll bar, which sense clicks and drags but take
/// no keyboard focus).
fn is_control(sense: egui::Sense) -> bool {
    sense.senses_click() && (!sense.senses_drag() || sense.is_focusable())
}

/// The page's layers: panels, blades, windows and menus, not the toasts or tooltips.
fn is_page_layer(layer: egui::LayerId) -> bool {
    !matches!(layer.order, egui::Order::Tooltip | egui::Order::Debug)
}

/// Places the toasts `notes` (oldest first) in `room`'s right edge so that their stack
/// covers none of `avoid` (the page's buttons): at the bottom as wide as their text needs
/// (up to 420 points, 45 % of a narrow window), narrower if that frees the buttons,
/// higher up the room if no width does; failing all, where it covers the fewest. Each toast is whole: as many of the
/// newest as fit the room's height are stacked, and if even the newest alone does not
/// fit it says where its text is.
fn place_toasts(
    ctx: &egui::Context,
    style: &egui::Style,
    notes: &[&Notification],
    room: egui::Rect,
    avoid: &[egui::Rect],
    texts: &[egui::Rect],
) -> PlacedStack {
    let gap = style.spacing.item_spacing.y;
    // At 200 % on 1280x720 (640 points) a 420-point toast hid two thirds of the
    // window (the customer app's chart under two errors): at most 45 % of it.
    let widest = 420.0_f32
        .min(ctx.content_rect().width() * 0.45)
        .min(room.width())
        .max(1.0);
    let narrowest = widest.min(240.0);
    let mut widths = vec![widest];
    let mut w = widest - 40.0;
    while w > narrowest {
        widths.push(w);
        w -= 40.0;
    }
    if narrowest < widest {
        widths.push(narrowest);
    }
    // Each width's stack: the newest that fit the room's height (oldest first).
    let stacks: Vec<(f32, Vec<ToastLayout>)> = widths
        .iter()
        .map(|&width| {
            let all: Vec<ToastLayout> = notes
                .iter()
                .map(|n| ToastLayout::new(ctx, style, n, width, None))
                .collect();
            let mut height = 0.0;
            let mut shown = 0;
            for (k, layout) in all.iter().rev().enumerate() {
                let with = height + if k > 0 { gap } else { 0.0 } + layout.height;
                if with > room.height() + 0.5 {
                    break;
                }
                height = with;
                shown = k + 1;
            }
            if shown == 0 {
                let Some(newest) = notes.last() else {
                    return (width, Vec::new());
                };
                return (
                    width,
                    vec![ToastLayout::new(ctx, style, newest, width, Some(TOO_TALL))],
                );
            }
            (width, all[all.len() - shown..].to_vec())
        })
        .collect();
    // How much of the page's controls a stack covers: the controls whose centre it covers
    // (their click is taken), then the area it covers of the others.
    let covered = |placed: &PlacedStack| -> (usize, f32) {
        let rects = placed.rects(room.max.x, gap);
        avoid.iter().fold((0, 0.0), |(centres, area), c| {
            let over: f32 = rects
                .iter()
                .map(|r| r.expand(2.0).intersect(*c))
                .filter(|i| i.is_positive())
                .map(|i| i.area())
                .sum();
            let centre = rects.iter().any(|r| r.expand(2.0).contains(c.center()));
            (centres + usize::from(centre), area + over)
        })
    };
    // The candidates, best first: at the bottom with the newest `k` toasts (all that fit,
    // down to the newest two: a change's message and its az line), then higher up the
    // room, then the newest alone anywhere; each as wide as it may be, then narrower.
    let most = stacks.iter().map(|(_, l)| l.len()).max().unwrap_or(0);
    let fewest = most.min(2);
    let mut bottoms = Vec::new();
    let mut bottom = room.max.y;
    while bottom >= room.min.y {
        bottoms.push(bottom);
        bottom -= 8.0;
    }
    let passes: [(&[f32], std::ops::RangeInclusive<usize>); 3] = [
        (&bottoms[..1.min(bottoms.len())], fewest..=most),
        (&bottoms, fewest..=most),
        (&bottoms, 1..=fewest.saturating_sub(1)),
    ];
    // How much of the page's text a stack hides, as a share of its own area.
    let hidden_text = |placed: &PlacedStack| -> f32 {
        let rects = placed.rects(room.max.x, gap);
        let own: f32 = rects.iter().map(|r| r.area()).sum::<f32>().max(1.0);
        let over: f32 = texts
            .iter()
            .flat_map(|t| rects.iter().map(move |r| r.intersect(*t)))
            .filter(|i| i.is_positive())
            .map(|i| i.area())
            .sum();
        over / own
    };
    // The first place (in the order above) clear of every control that hides little text
    // wins; else the clear place hiding the least text; else the place covering the least.
    const LITTLE_TEXT: f32 = 0.15;
    let mut clear: Option<(f32, PlacedStack)> = None;
    let mut best: Option<((usize, f32), PlacedStack)> = None;
    for (bottoms, counts) in passes {
        for &bottom in bottoms {
            for k in counts.clone().rev() {
                for (width, layouts) in &stacks {
                    if layouts.len() < k {
                        continue;
                    }
                    let layouts = &layouts[layouts.len() - k..];
                    let height: f32 = layouts.iter().map(|l| l.height).sum::<f32>()
                        + gap * layouts.len().saturating_sub(1) as f32;
                    if bottom - height < room.min.y - 0.5 {
                        continue;
                    }
                    let placed = PlacedStack {
                        width: *width,
                        bottom,
                        layouts: layouts.to_vec(),
                    };
                    let n = covered(&placed);
                    if n.0 == 0 && n.1 <= 0.0 {
                        // A toast saying it is too long to show loses to any that shows.
                        let too_tall = placed
                            .layouts
                            .iter()
                            .any(|l| l.body.text().starts_with(TOO_TALL));
                        let hides = hidden_text(&placed) + if too_tall { 1.0 } else { 0.0 };
                        if hides <= LITTLE_TEXT {
                            return placed;
                        }
                        if clear.as_ref().is_none_or(|(h, _)| hides < *h) {
                            clear = Some((hides, placed));
                        }
                        continue;
                    }
                    if best
                        .as_ref()
                        .is_none_or(|(b, _)| n.0 < b.0 || (n.0 == b.0 && n.1 < b.1))
                    {
                        best = Some((n, placed));
                    }
                }
            }
        }
    }
    if let Some((_, placed)) = clear {
        return placed;
    }
    match best {
        Some((_, placed)) => placed,
        None => {
            let (width, layouts) = stacks.into_iter().next().unwrap_or((widest, Vec::new()));
            PlacedStack {
                width,
                bottom: room.max.y,
                layouts,
            }
        }
    }
}

/// What the newest toast says when even it alone is taller than the room.
const TOO_TALL: &str = "Too long to show here: the whole text is in Notifications.";

/// A toast laid out before it is drawn: its text at the toasts' width, and its height.
#[derive(Clone)]
struct ToastLayout {
    body: std::sync::Arc<egui::Galley>,
    /// Its width inside the frame's margins and stroke: what its title row and text need,
    /// at most the stack's width.
    inner_width: f32,
    /// Its width, frame included.
    outer_width: f32,
    /// The height of the badge, title and buttons' row.
    title_row: f32,
    /// Its whole height, frame included.
    height: f32,
}

impl ToastLayout {
    /// `n` as a toast `width` points wide; `instead` replaces its text.
    fn new(
        ctx: &egui::Context,
        style: &egui::Style,
        n: &Notification,
        width: f32,
        instead: Option<&str>,
    ) -> Self {
        let margin = Self::bare_frame(style).total_margin();
        let inner_width = (width - margin.sum().x).max(1.0);
        let body: egui::WidgetText = match instead {
            Some(text) => RichText::new(text).italics().into(),
            None if n.title == "Done. As a command:" => {
                RichText::new(widgets::short_command(&n.text))
                    .monospace()
                    .into()
            }
            None => RichText::new(&n.text).into(),
        };
        let body = body.into_galley_impl(
            ctx,
            style,
            egui::text::TextWrapping::wrap_at_width(inner_width),
            egui::TextStyle::Body.into(),
            egui::Align::Center,
        );
        // The badge is a line of body text with two points above and below; the buttons
        // and the title are no taller.
        let text = ctx.fonts_mut(|f| f.row_height(&egui::TextStyle::Body.resolve(style)));
        let title_row = style.spacing.interact_size.y.max(text + 4.0).ceil();
        let height = margin.sum().y + title_row + style.spacing.item_spacing.y + body.size().y;
        // The title row: badge, title, Copy (an az line's) and ×, each with its padding.
        let one_line = |text: RichText, text_style: egui::TextStyle| {
            egui::WidgetText::from(text)
                .into_galley_impl(
                    ctx,
                    style,
                    egui::text::TextWrapping::no_max_width(),
                    text_style.into(),
                    egui::Align::Center,
                )
                .size()
                .x
        };
        let button = |label: &str| {
            one_line(RichText::new(label), egui::TextStyle::Button)
                + 2.0 * style.spacing.button_padding.x
        };
        let mut parts = vec![
            one_line(
                RichText::new(level_name(n.level)).strong(),
                egui::TextStyle::Body,
            ) + 16.0,
            one_line(RichText::new(&n.title).strong(), egui::TextStyle::Body),
            button("×"),
        ];
        if n.title == "Done. As a command:" {
            parts.push(button("Copy"));
        }
        let title_width = parts.iter().sum::<f32>()
            + style.spacing.item_spacing.x * (parts.len() - 1) as f32
            + 4.0;
        // Never narrower than its title row (which does not wrap).
        let inner_width = body.size().x.min(inner_width).max(title_width).ceil();
        Self {
            body,
            inner_width,
            outer_width: inner_width + margin.sum().x,
            title_row,
            height,
        }
    }

    fn bare_frame(style: &egui::Style) -> egui::Frame {
        egui::Frame::popup(style).stroke(egui::Stroke::new(2.0, egui::Color32::TRANSPARENT))
    }

    fn frame(&self, style: &egui::Style, color: egui::Color32) -> egui::Frame {
        Self::bare_frame(style).stroke(egui::Stroke::new(2.0, color))
    }
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
pub fn status_bar(app: &ConsoleApp, ui: &mut egui::Ui) -> Vec<Action> {
    let mut out: Vec<Action> = Vec::new();
    ui.horizontal(|ui| {
        ui.set_height(22.0);
        // The serving indicator first, at the right, so what runs takes only what it leaves.
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if app.serving.endpoint.is_some() && super::endpoint_panel::indicator(&app.serving, ui)
            {
                out.push(A::Show(Panel::Endpoint, !app.serving.open).into());
            }
            ui.with_layout(egui::Layout::left_to_right(egui::Align::Center), |ui| {
                status_line(app, ui);
            });
        });
    });
    out
}

/// What the status bar says, in the room the serving indicator leaves.
fn status_line(app: &ConsoleApp, ui: &mut egui::Ui) {
    match (&app.job, &app.file_job) {
        (Some(job), _) => job_line(ui, &job.label, job.progress.get().filter(|(_, t)| *t > 0)),
        (None, Some(fj)) => {
            ui.spinner();
            let what = match fj {
                FileJob::Load { path, .. } => format!("Opening {}…", path.display()),
                FileJob::Save { path, .. } => format!("Saving {}…", path.display()),
                FileJob::Pick { .. } => "Waiting for the file dialog…".to_string(),
                FileJob::Scenario { title, .. } => format!("Starting the scenario '{title}'…"),
            };
            ui.add(egui::Label::new(what).truncate());
        }
        (None, None) if app.disk_changed => {
            ui.add(
                egui::Label::new(RichText::new(
                    "The workspace file changed on disk since it was opened or saved here (another process saved it). Save refuses to overwrite it; Save as… chooses.",
                ).color(AMBER))
                .truncate(),
            );
        }
        (None, None) => {
            let dbs: usize = app.ws.servers.iter().map(|s| s.databases.len()).sum();
            // Grouped as the rest of the console writes counts ("1,102"), walk 35.
            let n = |n: usize| crate::model::continuity::thousands(n as u64);
            ui.add(
                egui::Label::new(
                    RichText::new(format!(
                        "Ready · timing profile {} · {} servers · {} databases · {} vaults",
                        app.ws.profile.as_str(),
                        n(app.ws.servers.len()),
                        n(dbs),
                        n(app.ws.vaults.iter().filter(|v| v.deleted.is_none()).count())
                    ))
                    .weak(),
                )
                .truncate(),
            );
        }
    }
}

/// While a job runs: what it does first (cut only when the bar is shorter than it, the
/// whole text on hover), its progress in what is left, and the note that changes wait only
/// when the rest of the bar has room for all of it (on hover over the job otherwise).
const BUSY: &str = "The workspace is busy: changes wait until this is done.";

pub fn job_line(ui: &mut egui::Ui, label: &str, progress: Option<(usize, usize)>) {
    use super::widgets::one_line_width;
    ui.spinner();
    let gap = ui.spacing().item_spacing.x;
    let room = ui.available_size_before_wrap().x;
    let bar = progress.map_or(0.0, |_| (room * 0.3).clamp(80.0, 220.0) + gap);
    let wants = one_line_width(ui, label, egui::TextStyle::Body);
    let label_room = (room - bar).max(40.0);
    let shown = ui
        .allocate_ui(egui::vec2(label_room, ui.available_height()), |ui| {
            ui.add(egui::Label::new(label).truncate())
        })
        .inner;
    let busy_fits = wants + bar + gap + one_line_width(ui, BUSY, egui::TextStyle::Body) <= room;
    if !busy_fits {
        shown.on_hover_text(format!("{label}\n\n{BUSY}"));
    }
    if let Some((done, total)) = progress {
        ui.add(
            egui::ProgressBar::new(done as f32 / total as f32)
                .desired_width(bar - gap)
                .text(format!("{done} / {total} databases")),
        );
    }
    if busy_fits {
        ui.label(RichText::new(BUSY).weak());
    }
}

/// The clock and its controls; `compact` (a row of their own at 200 %) leaves out the
/// "Advance:" caption so the row fits.
fn clock(app: &ConsoleApp, ui: &mut egui::Ui, compact: bool) -> Vec<Action> {
    let mut out: Vec<Action> = Vec::new();
    ui.label(RichText::new(format!("{}", app.ws.now())).monospace());
    let play = if app.clock.running { "Pause" } else { "Play" };
    // The running clock's own steps keep Pause usable.
    let clock_step = app
        .job
        .as_ref()
        .is_some_and(|j| j.origin == super::jobs::JobOrigin::Clock);
    let enabled = !app.busy() || clock_step;
    // As wide as the wider of its two words, so the controls after it keep their place
    // when Play turns into Pause (it was 48 points, narrower than "Pause" in some fonts).
    let word =
        |ui: &egui::Ui, w: &str| super::widgets::one_line_width(ui, w, egui::TextStyle::Button);
    let play_width =
        word(ui, "Play").max(word(ui, "Pause")) + 2.0 * ui.spacing().button_padding.x + 2.0;
    if ui
        .add_enabled_ui(enabled, |ui| {
            ui.add_sized([play_width.max(48.0), 20.0], egui::Button::new(play))
        })
        .inner
        .clicked()
    {
        out.push(A::Play(!app.clock.running).into());
    }
    let mut speed = app.clock.speed;
    egui::ComboBox::from_id_salt("clock-speed")
        .selected_text(speed_label(speed))
        .width(80.0)
        .show_ui(ui, |ui| {
            for s in [1.0, 60.0, 600.0, 3600.0] {
                ui.selectable_value(&mut speed, s, speed_label(s));
            }
        })
        .response
        .on_hover_text("Speed of Play: simulated time per second");
    if speed != app.clock.speed {
        out.push(A::Speed(speed).into());
    }
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
            out.push(A::Advance(d).into());
        }
    }
    out
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

fn notifications(app: &ConsoleApp, ui: &mut egui::Ui, room: f32) -> Vec<Action> {
    let mut out: Vec<Action> = Vec::new();
    let frame = egui::Frame::popup(ui.style());
    // What the frame's margins and stroke take of the room.
    let edges = frame.total_margin().sum().y;
    frame.show(ui, |ui| {
        let top = ui.cursor().min.y;
        ui.horizontal(|ui| {
            ui.strong("Notifications");
            if ui.small_button("Mark all read").clicked() {
                out.push(read_notifications());
            }
            if ui
                .small_button("×")
                .on_hover_text("Close notifications")
                .clicked()
            {
                out.push(A::Show(Panel::Notifications, false).into());
                out.push(read_notifications());
            }
        });
        // The session's changes up to the current point, as the export writes them (an
        // undo or a rewind takes the undone ones out of both).
        // Changes only: a read pasted into Cloud Shell (kept in the session's script, whose
        // replay makes the same requests) is not one of "your changes".
        let session: Vec<&super::history::Entry> =
            app.history.entries().iter().filter(|e| e.changed).collect();
        let commands = !session.is_empty();
        // The commands' separator and heading.
        let heading = if commands {
            ui.spacing().interact_size.y + 3.0 * ui.spacing().item_spacing.y + 6.0
        } else {
            0.0
        };
        let left = (room - edges - (ui.cursor().min.y - top) - heading).max(40.0);
        // Down to the status bar: the notifications take up to half (all of it without
        // commands), the commands what the notifications leave (capped at 180 and 160
        // points, the commands scrolled in a window 1.5 lines tall at 150 % while the
        // lower half of the screen stayed empty).
        let list_max = if commands { left / 2.0 } else { left };
        let used = egui::ScrollArea::vertical()
            .max_height(list_max)
            .min_scrolled_height(list_max)
            .show(ui, |ui| {
                if app.ws.notifications.is_empty() {
                    ui.label("Nothing yet.");
                }
                for n in app.ws.notifications.iter().rev().take(50) {
                    // A notice whose request was done (the revalidation it asked for ran)
                    // says so, greyed: it no longer asks anything of the class.
                    let (color, state) = match &n.done {
                        Some(_) => (egui::Color32::GRAY, "done"),
                        None if n.read => (level_colour(n.level), "read"),
                        None => (level_colour(n.level), "new"),
                    };
                    ui.horizontal_wrapped(|ui| {
                        badge(ui, state, color);
                        ui.strong(&n.title);
                        ui.label(RichText::new(n.time.to_display()).weak());
                    });
                    match &n.done {
                        Some(done) => {
                            ui.label(RichText::new(&n.text).weak());
                            ui.label(done);
                        }
                        None => {
                            ui.label(&n.text);
                        }
                    }
                }
            })
            .inner_rect
            .height();
        // What the toasts showed stays here: each change made by clicking, as az.
        if commands {
            ui.separator();
            ui.strong("Your changes as az commands");
            let rest = (left - used - ui.spacing().item_spacing.y).max(40.0);
            egui::ScrollArea::vertical()
                .id_salt("commands-done")
                // Its height whatever the area had room for last frame (the area grows to
                // its content; what it offered was the previous frame's 40 points).
                .max_height(rest)
                .min_scrolled_height(rest)
                .show(ui, |ui| {
                    let shown = session.len().saturating_sub(super::COMMANDS_KEPT);
                    for (i, e) in session.iter().enumerate().skip(shown).rev() {
                        let Some(line) = &e.command else {
                            ui.label(
                                RichText::new(format!(
                                    "{} · (no az equivalent) {}",
                                    e.sim_time.to_display(),
                                    e.label
                                ))
                                .weak(),
                            );
                            continue;
                        };
                        ui.horizontal(|ui| {
                            ui.label(RichText::new(e.sim_time.to_display()).weak());
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
    out
}

/// Breadcrumbs and the strip of blades. Returns the blades' actions.
/// The blades' form state is their own (`blades`, taken out of the app while they draw).
pub fn blade_area(app: &ConsoleApp, blades: &mut [Blade], ui: &mut egui::Ui) -> Vec<Action> {
    let mut actions = Vec::new();
    if blades.is_empty() {
        // Between the navigator and a side panel at 200 % the room can be a few letters
        // wide: the welcome text then waits (it wrapped one letter per line).
        if ui.available_width() < 160.0 {
            return actions;
        }
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
    // Short (under an open Cloud Shell at 200 %): the blade's header takes one row, so its
    // body keeps the room — the subtitle goes beside the title, and a lone blade's
    // breadcrumb ("Home > its title", what its title and × already say) is left out.
    let short = ui.available_height() < SHORT_BLADE_AREA;
    if !(short && blades.len() == 1) {
        ui.horizontal_wrapped(|ui| {
            if ui.link("Home").clicked() {
                truncate_to = Some(0);
            }
            for (i, b) in blades.iter().enumerate() {
                ui.label(">");
                if ui.link(b.title()).clicked() {
                    truncate_to = Some(i + 1);
                }
            }
        });
        ui.separator();
    }
    let busy = app.busy();
    let height = ui.available_height();
    let overhead = 22.0 + ui.spacing().item_spacing.x;
    let maximised = app
        .maximised
        .and_then(|id| blades.iter().position(|b| b.id == id));
    let preferred: Vec<f32> = blades.iter().map(|b| b.width()).collect();
    let widths = blade_layout::widths(&preferred, ui.available_width(), overhead, maximised);
    let mut maximise: Option<Option<u64>> = None;
    let may_maximise = app.maximise_helps(
        blades.len(),
        ui.ctx().content_rect().width() < super::NARROW,
    );
    ui.horizontal_top(|ui| {
        let folded: Vec<usize> = (0..blades.len()).filter(|i| widths[*i].is_none()).collect();
        if !folded.is_empty() {
            ui.vertical(|ui| {
                ui.set_width(blade_layout::FOLD_STRIP - ui.spacing().item_spacing.x);
                for i in folded {
                    let b = &blades[i];
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
            let blade = &mut blades[i];
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
                                let close = ui.button("×").on_hover_text("Close");
                                // Where floating windows open below (the customer app).
                                crate::ui::customer_app::note_blade_buttons(
                                    ui.ctx(),
                                    close.rect.max.y,
                                );
                                if close.clicked() {
                                    truncate_to = Some(i);
                                }
                                let (text, hover, to) = if is_max {
                                    ("Restore", "Show the blades side by side again", None)
                                } else {
                                    (
                                        "Maximise",
                                        "Use the whole window for this blade (the navigator and side panels give way)",
                                        Some(id),
                                    )
                                };
                                // The only blade, beside no navigator or side panel, has
                                // the whole window already: Maximise says so.
                                let helps = is_max || may_maximise;
                                if ui
                                    .add_enabled(helps, egui::Button::new(text).small())
                                    .on_hover_text(hover)
                                    .on_disabled_hover_text(if app.presenter {
                                        "Beside the presenter view's picture the blade keeps its side: Exit presenter view to maximise it."
                                    } else {
                                        "This blade has the whole window already: the navigator is folded and no other blade or side panel is open."
                                    })
                                    .clicked()
                                {
                                    maximise = Some(to);
                                }
                                let title = |ui: &mut egui::Ui| {
                                    ui.add(
                                        egui::Label::new(RichText::new(blade.title()).heading())
                                            .truncate(),
                                    );
                                    ui.add(
                                        egui::Label::new(
                                            RichText::new(blade.subtitle(&app.ws)).weak(),
                                        )
                                        .truncate(),
                                    );
                                };
                                if short {
                                    // One row, as high as the title (not the blade).
                                    let row =
                                        egui::TextStyle::Heading.resolve(ui.style()).size * 1.3;
                                    ui.allocate_ui_with_layout(
                                        egui::vec2(ui.available_width(), row),
                                        egui::Layout::left_to_right(egui::Align::Center),
                                        title,
                                    );
                                } else {
                                    ui.with_layout(egui::Layout::top_down(egui::Align::Min), title);
                                }
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
                                // Down only: text wraps at the blade's width. What cannot
                                // wrap (a table's columns at 200 % beside the navigator)
                                // scrolls sideways on its own (`widgets::wide`); a body
                                // that scrolled both ways widened with its widest table,
                                // and every text below it wrapped past the blade's edge.
                                egui::ScrollArea::vertical()
                                    .id_salt(("blade-scroll", id))
                                    // Two points keep a radio button's or a frame's stroke
                                    // whole at the clipped left edge.
                                    .content_margin(egui::Margin {
                                        left: 2,
                                        ..Default::default()
                                    })
                                    .auto_shrink([false, false])
                                    .show(ui, body);
                            }
                        });
                    });
            });
        }
    });
    if let Some(m) = maximise {
        actions.push(A::Maximise(m).into());
    }
    if let Some(n) = truncate_to {
        actions.push(A::CloseBlades(n).into());
    }
    actions
}

/// Below this height (points) the blade area is short: a blade's header takes one row.
const SHORT_BLADE_AREA: f32 = 240.0;

/// How a dialog ended this frame.
enum DialogEnd {
    Close,
    Discard,
}

/// The open dialog (taken out of the app while it draws): returns it when it stays open,
/// and what it asked for (a dialog it opens replaces it when applied).
pub fn dialogs(
    app: &ConsoleApp,
    mut dialog: Dialog,
    ctx: &egui::Context,
) -> (Option<Dialog>, Vec<Action>) {
    let mut end = None;
    let mut out: Vec<Action> = Vec::new();
    let modal = egui::Modal::new(egui::Id::unique("dialog")).show(ctx, |ui| {
        ui.set_width(520.0);
        end = dialog_body(app, ui, &mut dialog, &mut out);
    });
    if end.is_none() && modal.should_close() {
        end = Some(DialogEnd::Close);
        if matches!(dialog, Dialog::Recover { .. }) {
            // Dismissed: the copies wait for the next start.
            out.push(A::KeepRecovery.into());
        }
    }
    match end {
        None => (Some(dialog), out),
        Some(DialogEnd::Close) => (None, out),
        Some(DialogEnd::Discard) => {
            if let Dialog::ConfirmDiscard { then } = dialog {
                out.push(A::SwitchDiscarding(*then).into());
            }
            (None, out)
        }
    }
}

fn dialog_body(
    app: &ConsoleApp,
    ui: &mut egui::Ui,
    dialog: &mut Dialog,
    out: &mut Vec<Action>,
) -> Option<DialogEnd> {
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
                    out.push(A::Pick { for_save: false }.into());
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
                    out.push(
                        A::Load {
                            path: path.trim().into(),
                            passphrase: None,
                            recovered: false,
                        }
                        .into(),
                    );
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
                    out.push(A::Pick { for_save: true }.into());
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
                    out.push(
                        A::SaveTo {
                            path: target,
                            then_close: *then_close,
                        }
                        .into(),
                    );
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
                    out.push(
                        A::Load {
                            path: path.clone(),
                            passphrase: Some(std::mem::take(input)),
                            recovered: *recovered,
                        }
                        .into(),
                    );
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
                        out.push(A::Passphrase(Some(std::mem::take(passphrase))).into());
                    }
                }
                if ui.button("Cancel").clicked() {
                    end = Some(DialogEnd::Close);
                }
            });
        }
        Dialog::Recover { copies } => {
            ui.heading("Recover unsaved work?");
            ui.label(if copies.len() == 1 {
                "A console did not close properly. It kept a copy of its unsaved work:"
            } else {
                "Consoles did not close properly. They kept copies of their unsaved work:"
            });
            let now = std::time::SystemTime::now();
            let mut discarded = None;
            egui::ScrollArea::vertical()
                .max_height(ui.ctx().content_rect().height() * 0.5)
                .show(ui, |ui| {
                    for (i, c) in copies.iter().enumerate() {
                        ui.push_id(i, |ui| {
                            ui.group(|ui| {
                                ui.set_width(ui.available_width());
                                ui.label(egui::RichText::new(c.title()).strong());
                                ui.label(c.when(now));
                                ui.horizontal(|ui| {
                                    if ui.button("Recover").clicked() {
                                        end = Some(DialogEnd::Close);
                                        out.push(A::RecoverCopy(c.copy.clone()).into());
                                    }
                                    if ui.button("Discard").clicked() {
                                        discarded = Some(i);
                                        out.push(A::DiscardRecovery(c.copy.clone()).into());
                                    }
                                });
                            });
                        });
                    }
                });
            if let Some(i) = discarded {
                copies.remove(i);
                if copies.is_empty() {
                    end = Some(DialogEnd::Close);
                }
            }
            if copies.len() > 1 {
                ui.weak("The console opens one of them; the others are offered again at the next start.");
            }
            if ui.button("Decide later").clicked() {
                end = Some(DialogEnd::Close);
                out.push(A::KeepRecovery.into());
            }
        }
        Dialog::ConfirmClose => {
            ui.heading("Save changes before closing?");
            ui.label("The workspace has changes that are not saved.");
            ui.horizontal(|ui| {
                if ui.button("Save").clicked() {
                    end = Some(DialogEnd::Close);
                    out.push(A::Save { then_close: true }.into());
                }
                if ui.button("Don't save").clicked() {
                    end = Some(DialogEnd::Close);
                    out.push(A::CloseWithoutSaving.into());
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
                    let written = std::path::Path::new(path.trim());
                    match crate::persist::write_new_file(written, script.as_bytes()) {
                        Ok(()) => {
                            // Said where it went, with how much: the dialog closing was all
                            // a person saw.
                            let steps = app.history.entries();
                            let bare = steps.iter().filter(|e| e.command.is_none()).count();
                            let mut text = format!(
                                "Exported {} step{} to {}.",
                                steps.len(),
                                if steps.len() == 1 { "" } else { "s" },
                                written.display()
                            );
                            if bare > 0 {
                                text.push_str(&format!(
                                    " {bare} of them have no az equivalent (comments in the script)."
                                ));
                            }
                            out.push(
                                A::Toast {
                                    level: crate::model::NotificationLevel::Success,
                                    title: "Session exported".into(),
                                    text,
                                }
                                .into(),
                            );
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
                out.push(A::OpenRoot(kind).into());
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
fn client_ip_setting(app: &ConsoleApp, ui: &mut egui::Ui) -> Vec<Action> {
    let mut out: Vec<Action> = Vec::new();
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
                out.push(Action::request(
                    Invocation::new("sim client-ip set").positional(ip.clone()),
                    move |_, _| format!("Client IP set to {ip}."),
                ));
                error = None;
            }
            Err(e) => error = Some(e.to_string()),
        }
    }
    if let Some(e) = &error {
        crate::ui::widgets::error_box(ui, e);
    }
    ui.data_mut(|d| d.insert_temp(id, (text, error)));
    out
}

/// A trainer's failures that are nobody's decision: one vault out, or a whole region.
fn simulate_menu(app: &ConsoleApp, ui: &mut egui::Ui) -> Vec<Action> {
    let mut out: Vec<Action> = Vec::new();
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
                out.push(Action::change(
                    Change::request(ask, move |said, _| {
                        format!(
                            "'{v}' is unreachable until {}.",
                            iso_time(&said["unreachableUntil"])
                        )
                    })
                    .reported(refused),
                ));
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
                out.push(Action::change(
                    Change::request(ask, |said, _| {
                        format!(
                            "Region {} is down until {}.",
                            said["region"].as_str().unwrap_or_default(),
                            iso_time(&said["until"])
                        )
                    })
                    .reported(refused),
                ));
                ui.close();
            }
        }
    });
    out
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

#[cfg(test)]
mod tests {
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable;

    /// Found in the walk at 200 % (1280x720 is 640 points): while a job ran, the status bar's
    /// line ran past the window's edge. The job's label stays whole, its progress fits what
    /// is left, and the "busy" note gives way to the label's hover.
    #[test]
    fn a_jobs_status_line_fits_the_bar_at_200_percent() {
        let label = "Failing over fg-storm to sql-contoso-us2 (1102 databases)";
        for width in [640.0, 1280.0] {
            let mut h = Harness::builder()
                .with_size(egui::vec2(width, 40.0))
                .build_ui(|ui| {
                    ui.horizontal(|ui| super::job_line(ui, label, Some((300, 1102))));
                });
            h.run_steps(3);
            let screen = h.ctx.content_rect();
            let past: Vec<String> = h
                .query_all_by(|n| n.bounding_box().is_some())
                .filter(|n| n.rect().max.x > screen.max.x + 0.5)
                .map(|n| format!("{n:?}"))
                .collect();
            assert!(past.is_empty(), "at {width}: past the edge: {past:#?}");
            assert!(
                h.query_by_label(label).is_some(),
                "at {width}: the job's label is whole"
            );
            let busy = h.query_by_label(super::BUSY).is_some();
            assert_eq!(busy, width > 1000.0, "at {width}: the busy note");
        }
    }
}
