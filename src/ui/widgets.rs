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
        .corner_radius(8.0)
        .inner_margin(egui::Margin::symmetric(6, 1))
        .show(ui, |ui| {
            ui.label(RichText::new(text).color(Color32::WHITE).small().strong())
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

/// The service's error, as the portal shows it inline.
pub fn error_box(ui: &mut egui::Ui, text: &str) {
    egui::Frame::new()
        .fill(Color32::from_rgb(253, 231, 233))
        .stroke(egui::Stroke::new(1.0, RED))
        .corner_radius(4.0)
        .inner_margin(8)
        .show(ui, |ui| {
            ui.add(
                egui::Label::new(RichText::new(text).color(Color32::from_rgb(120, 20, 20)))
                    .wrap()
                    .selectable(true),
            );
        });
}

pub fn success_box(ui: &mut egui::Ui, text: &str) {
    egui::Frame::new()
        .fill(Color32::from_rgb(223, 246, 221))
        .stroke(egui::Stroke::new(1.0, GREEN))
        .corner_radius(4.0)
        .inner_margin(8)
        .show(ui, |ui| {
            ui.add(
                egui::Label::new(RichText::new(text).color(Color32::from_rgb(16, 80, 16))).wrap(),
            );
        });
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
