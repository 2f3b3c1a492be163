//! The presenter view (View > Presenter view, F5; Esc leaves it): the navigator and side
//! panels give way to the topology, full-window and fitted to the zoom, under a chain strip
//! that narrates each failing server's chain as the clock plays ("Access to kv removed →
//! Propagating … → Server notices … → 4 databases Inaccessible → Auto-heal window closes in
//! 7 h 50 m"). The clock stays in the top bar, so the trainer plays it from here; clicking
//! a box leaves the view and opens its blade.

use super::ConsoleApp;
use super::blades::topology;
use super::widgets::{AMBER, GREEN, RED};
use crate::model::Workspace;
use crate::service::chain::{self, Chain, StepState};
use egui::{Color32, RichText};
use std::sync::Arc;

/// Chains shown at most; the others are counted.
const CHAINS_SHOWN: usize = 3;

/// The chains, worked out again only when the workspace changes (the clock included).
fn cached(ui: &egui::Ui, ws: &Workspace) -> Arc<Vec<Chain>> {
    type Cached = (u64, Arc<Vec<Chain>>);
    let id = ui.scope_id().with("presenter-chains");
    if let Some((rev, c)) = ui.data(|d| d.get_temp::<Cached>(id))
        && rev == ws.revision
    {
        return c;
    }
    let c = Arc::new(chain::chains(ws));
    ui.data_mut(|d| d.insert_temp(id, (ws.revision, c.clone())));
    c
}

/// The strip: one row per server in trouble (or a line saying there is none).
pub fn chain_strip(ui: &mut egui::Ui, ws: &Workspace) {
    let chains = cached(ui, ws);
    if chains.is_empty() {
        ui.horizontal(|ui| {
            super::widgets::badge(ui, "All keys usable", GREEN);
            ui.add(
                egui::Label::new(
                    RichText::new(
                        "Remove a permission, disable a key or start a scenario, then Play the clock to watch the chain.",
                    )
                    .weak(),
                )
                .truncate(),
            );
        });
        return;
    }
    for c in chains.iter().take(CHAINS_SHOWN) {
        ui.horizontal_wrapped(|ui| {
            let whose = match &c.database {
                None => format!("SQL {}:", c.server),
                Some(db) => format!("SQL {} / {db} (own key):", c.server),
            };
            ui.label(RichText::new(whose).strong());
            for (i, step) in c.steps.iter().enumerate() {
                if i > 0 {
                    next_arrow(ui);
                }
                pill(ui, step.state, &step.text);
            }
        });
    }
    if chains.len() > CHAINS_SHOWN {
        ui.label(
            RichText::new(format!(
                "… and {} more keys in trouble (open Topology's boxes for each)",
                chains.len() - CHAINS_SHOWN
            ))
            .weak(),
        );
    }
}

/// The arrow between two steps (drawn: the UI font has no arrow glyph).
fn next_arrow(ui: &mut egui::Ui) {
    let (r, _) = ui.allocate_exact_size(egui::vec2(18.0, 14.0), egui::Sense::hover());
    let colour = ui.visuals().text_color();
    let (a, b) = (r.left_center(), r.right_center());
    ui.painter()
        .line_segment([a, b], egui::Stroke::new(2.0, colour));
    ui.painter().add(egui::Shape::convex_polygon(
        vec![b, b + egui::vec2(-6.0, -4.0), b + egui::vec2(-6.0, 4.0)],
        colour,
        egui::Stroke::NONE,
    ));
}

/// One step: done (quiet), now (filled, the colour of the trouble), next (outlined).
fn pill(ui: &mut egui::Ui, state: StepState, text: &str) {
    let (fill, stroke, label) = match state {
        StepState::Done => (
            ui.visuals().faint_bg_color,
            egui::Stroke::new(1.0, ui.visuals().weak_text_color()),
            RichText::new(text).color(ui.visuals().text_color()),
        ),
        StepState::Now => {
            let colour = if text.contains("Inaccessible") || text.contains("closed") {
                RED
            } else {
                AMBER
            };
            (
                colour,
                egui::Stroke::new(2.0, colour),
                RichText::new(text).color(Color32::WHITE).strong(),
            )
        }
        StepState::Next => (
            Color32::TRANSPARENT,
            egui::Stroke::new(1.0, ui.visuals().weak_text_color()),
            RichText::new(text).weak(),
        ),
    };
    // A pill that does not fit the rest of the row starts the next one; one wider than the
    // whole strip is cut short (its whole text on hover).
    let width = ui
        .painter()
        .layout_no_wrap(
            text.to_string(),
            egui::TextStyle::Body.resolve(ui.style()),
            Color32::WHITE,
        )
        .size()
        .x
        + 20.0;
    if width > ui.available_size_before_wrap().x && ui.cursor().min.x > ui.max_rect().min.x + 1.0 {
        ui.end_row();
    }
    let room = ui.available_size_before_wrap().x - 20.0;
    egui::Frame::new()
        .fill(fill)
        .stroke(stroke)
        .corner_radius(10.0)
        .inner_margin(egui::Margin::symmetric(8, 3))
        .show(ui, |ui| {
            ui.set_max_width(room.max(60.0));
            ui.add(egui::Label::new(label).truncate())
        })
        .inner
        .on_hover_text(text);
}

/// The presenter view in the central panel.
pub fn show(app: &mut ConsoleApp, ui: &mut egui::Ui) {
    chain_strip(ui, &app.ws);
    let mut asked = None;
    ui.horizontal(|ui| {
        if ui
            .button("Exit presenter view")
            .on_hover_text("Esc or F5")
            .clicked()
        {
            app.presenter = false;
        }
        asked = topology::toolbar(ui);
    });
    let height = ui.available_height() - 4.0;
    if let Some(kind) = topology::canvas(ui, &app.ws, height, asked) {
        app.presenter = false;
        app.open_root(kind);
    }
}
