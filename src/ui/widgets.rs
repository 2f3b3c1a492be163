//! Small reusable widgets: status badges, property grids, error boxes.

use crate::model::{DatabaseState, ResourceHealth};
use egui::{Color32, RichText};

pub const GREEN: Color32 = Color32::from_rgb(16, 124, 16);
pub const RED: Color32 = Color32::from_rgb(196, 43, 28);
pub const AMBER: Color32 = Color32::from_rgb(202, 120, 0);
pub const BLUE: Color32 = Color32::from_rgb(0, 120, 212);

/// A coloured pill with a word in it.
pub fn badge(ui: &mut egui::Ui, text: &str, color: Color32) -> egui::Response {
    egui::Frame::new()
        .fill(color)
        .corner_radius(9.0)
        .inner_margin(egui::Margin::symmetric(8, 2))
        .show(ui, |ui| {
            ui.label(RichText::new(text).color(Color32::WHITE).strong())
        })
        .response
}

pub fn state_badge(ui: &mut egui::Ui, state: &DatabaseState) -> egui::Response {
    match state {
        DatabaseState::Online => badge(ui, "Online", GREEN),
        DatabaseState::Inaccessible {
            revalidation_required: true,
            ..
        } => badge(ui, "Inaccessible · revalidate", RED),
        DatabaseState::Inaccessible { .. } => badge(ui, "Inaccessible", RED),
        DatabaseState::Recovering { .. } => badge(ui, "Recovering", AMBER),
        DatabaseState::Restoring { .. } => badge(ui, "Restoring", AMBER),
    }
}

pub fn health_badge(ui: &mut egui::Ui, h: ResourceHealth) -> egui::Response {
    match h {
        ResourceHealth::Available => badge(ui, "Available", GREEN),
        ResourceHealth::Unavailable => badge(ui, "Unavailable", RED),
    }
}

/// A two-column grid of property names and values (values selectable).
pub fn properties(ui: &mut egui::Ui, id: &str, rows: &[(&str, String)]) {
    egui::Grid::new(id)
        .num_columns(2)
        .spacing([16.0, 4.0])
        .striped(true)
        .show(ui, |ui| {
            for (k, v) in rows {
                ui.label(RichText::new(*k).weak());
                ui.add(egui::Label::new(v.as_str()).selectable(true).wrap());
                ui.end_row();
            }
        });
}

/// A coloured message box: fill, border and text colour.
fn message_box(ui: &mut egui::Ui, text: &str, fill: Color32, border: Color32, ink: Color32) {
    egui::Frame::new()
        .fill(fill)
        .stroke(egui::Stroke::new(1.0, border))
        .corner_radius(4.0)
        .inner_margin(8)
        .show(ui, |ui| {
            ui.add(
                egui::Label::new(RichText::new(text).color(ink))
                    .wrap()
                    .selectable(true),
            );
        });
}

/// The service's error, as the portal shows it inline.
pub fn error_box(ui: &mut egui::Ui, text: &str) {
    message_box(
        ui,
        text,
        Color32::from_rgb(253, 231, 233),
        RED,
        Color32::from_rgb(120, 20, 20),
    );
}

pub fn success_box(ui: &mut egui::Ui, text: &str) {
    message_box(
        ui,
        text,
        Color32::from_rgb(223, 246, 221),
        GREEN,
        Color32::from_rgb(16, 80, 16),
    );
}

/// Something in progress that needs no action (not an error).
pub fn info_box(ui: &mut egui::Ui, text: &str) {
    message_box(
        ui,
        text,
        Color32::from_rgb(222, 236, 249),
        BLUE,
        Color32::from_rgb(0, 60, 110),
    );
}

/// A labelled single-line text field (the label is its accessible name).
pub fn text_field(
    ui: &mut egui::Ui,
    label: &str,
    value: &mut String,
    hint: &str,
) -> egui::Response {
    narrow_text_field(ui, label, value, hint, f32::INFINITY)
}

/// A labelled text field of a given width, for rows of filters.
pub fn narrow_text_field(
    ui: &mut egui::Ui,
    label: &str,
    value: &mut String,
    hint: &str,
    width: f32,
) -> egui::Response {
    ui.horizontal(|ui| {
        let l = ui.label(label);
        ui.add(
            egui::TextEdit::singleline(value)
                .hint_text(hint)
                .desired_width(width),
        )
        .labelled_by(l.id)
    })
    .inner
}

/// A drop-down with its label on its left, as the portal's forms (and [`text_field`]) have
/// it. The label names the control (for screen readers, and for tests that click it by its
/// label); `width` is the control's minimum width (egui's default when `None`).
pub fn combo<R>(
    ui: &mut egui::Ui,
    label: &str,
    selected: impl Into<egui::WidgetText>,
    width: Option<f32>,
    add_contents: impl FnOnce(&mut egui::Ui) -> R,
) -> egui::InnerResponse<Option<R>> {
    ui.horizontal(|ui| {
        let l = ui.label(label);
        let mut c = egui::ComboBox::from_id_salt(("combo", label)).selected_text(selected.into());
        if let Some(w) = width {
            c = c.width(w);
        }
        let r = c.show_ui(ui, add_contents);
        egui::InnerResponse::new(r.inner, r.response.labelled_by(l.id))
    })
    .inner
}

pub fn section(ui: &mut egui::Ui, title: &str) {
    ui.add_space(6.0);
    ui.label(RichText::new(title).strong().size(15.0));
    ui.separator();
}

/// The names of `server`'s databases (none if it is gone).
pub fn database_names(ws: &crate::model::Workspace, server: &str) -> Vec<String> {
    ws.server(server)
        .map(|s| s.databases.iter().map(|d| d.name.clone()).collect())
        .unwrap_or_default()
}

/// A scrolled list of `n` rows of which only those in view are laid out (a server can hold
/// thousands of databases).
pub fn virtual_rows(
    ui: &mut egui::Ui,
    id: &str,
    max_height: f32,
    n: usize,
    mut add_row: impl FnMut(&mut egui::Ui, usize),
) {
    let row_height = ui.spacing().interact_size.y + ui.spacing().item_spacing.y;
    egui::ScrollArea::vertical()
        .id_salt(id)
        .max_height(max_height)
        .show_rows(ui, row_height, n, |ui, range| {
            for i in range {
                add_row(ui, i);
            }
        });
}

/// One coloured stretch of a [`segment_bar`].
pub struct Segment {
    pub from: crate::model::Timestamp,
    pub to: crate::model::Timestamp,
    pub colour: Color32,
    pub label: String,
}

/// A horizontal bar of coloured stretches of time from `start` to `end` (each labelled
/// when there is room, and on hover); returns the bar's rect and a mapping of time to x.
pub fn segment_bar(
    ui: &mut egui::Ui,
    start: crate::model::Timestamp,
    end: crate::model::Timestamp,
    segments: &[Segment],
) -> (egui::Rect, impl Fn(crate::model::Timestamp) -> f32 + use<>) {
    let span = (end - start).0.max(1) as f32;
    let (rect, response) =
        ui.allocate_exact_size(egui::vec2(ui.available_width(), 18.0), egui::Sense::hover());
    let left = rect.left();
    let width = rect.width();
    let x = move |t: crate::model::Timestamp| {
        left + width * ((t - start).0.clamp(0, (end - start).0.max(1)) as f32 / span)
    };
    let painter = ui.painter_at(rect);
    let mut hovered = None;
    for s in segments {
        let seg = egui::Rect::from_min_max(
            egui::pos2(x(s.from), rect.top()),
            egui::pos2(x(s.to).max(x(s.from) + 2.0), rect.bottom()),
        );
        painter.rect_filled(seg.shrink2(egui::vec2(1.0, 0.0)), 2.0, s.colour);
        if seg.width() > 8.0 * s.label.chars().count() as f32 {
            painter.text(
                seg.center(),
                egui::Align2::CENTER_CENTER,
                &s.label,
                egui::FontId::proportional(11.0),
                Color32::WHITE,
            );
        }
        if response
            .hover_pos()
            .is_some_and(|p| p.x >= seg.left() && p.x <= seg.right())
        {
            hovered = Some(format!("{}: {} – {}", s.label, s.from, s.to));
        }
    }
    if let Some(text) = hovered {
        response.on_hover_text(text);
    }
    (rect, x)
}
