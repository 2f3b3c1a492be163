//! The Activity Log: what the services recorded, newest first.

use super::BladeCtx;
use egui_extras::{Column, TableBuilder};

pub fn show(ui: &mut egui::Ui, cx: &mut BladeCtx<'_>) {
    let now = cx.ws.now();
    let entries: Vec<&crate::model::ActivityLogEntry> = cx
        .ws
        .activity_log
        .iter()
        .filter(|e| e.visible(now))
        .collect();
    if entries.is_empty() {
        ui.label("No activity yet. Revoke a key permission and advance the clock to see entries (records about failures arrive 15 to 30 minutes late).");
        return;
    }
    let n = entries.len();
    TableBuilder::new(ui)
        .striped(true)
        .column(Column::auto())
        .column(Column::auto())
        .column(Column::auto())
        .column(Column::remainder())
        .header(20.0, |mut h| {
            for t in ["Time", "Operation", "Status", "Description"] {
                h.col(|ui| {
                    ui.strong(t);
                });
            }
        })
        .body(|body| {
            body.rows(36.0, n, |mut row| {
                let e = &entries[n - 1 - row.index()];
                row.col(|ui| {
                    ui.label(e.time.to_display());
                });
                row.col(|ui| {
                    ui.label(&e.operation);
                });
                row.col(|ui| {
                    ui.label(e.status.as_str());
                });
                row.col(|ui| {
                    ui.label(&e.message).on_hover_text(&e.resource);
                });
            });
        });
}
