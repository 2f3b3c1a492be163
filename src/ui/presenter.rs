//! The presenter view (View > Presenter view, F5; Esc leaves it): the navigator and side
//! panels give way to the topology, full-window and fitted to the zoom, under a chain strip
//! that narrates each failing server's chain as the clock plays ("Access to kv removed →
//! Propagating … → Server notices … → 4 databases Inaccessible → Auto-heal window closes in
//! 7 h 50 m"). The clock stays in the top bar, so the trainer plays it from here. Clicking a
//! box opens its blade beside the picture, which shrinks and stays fitted to its canvas;
//! Esc closes that blade first, then leaves the view.

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

/// Lines of the strip each chain (or the all-clear line) has, whatever its steps say: the
/// strip keeps one height while the clock plays, so the toolbar and the picture under it
/// never jump. A chain longer than its lines scrolls inside the strip, which keeps the
/// current step in sight.
const LINES_PER_CHAIN: usize = 2;

/// The height of one line of pills: a pill's text, 3 points of margin and 2 of stroke above
/// and below, and the gap to the next line.
fn line_height(ui: &egui::Ui) -> f32 {
    ui.text_style_height(&egui::TextStyle::Body) + 10.0 + ui.spacing().item_spacing.y
}

/// The strip's height for these chains: fixed by how many chains are shown, never by what
/// their steps say.
pub fn strip_height(ui: &egui::Ui, ws: &Workspace) -> f32 {
    let chains = cached(ui, ws);
    let shown = chains.len().clamp(1, CHAINS_SHOWN) as f32;
    let more = if chains.len() > CHAINS_SHOWN {
        1.0
    } else {
        0.0
    };
    let line = line_height(ui);
    shown * (LINES_PER_CHAIN as f32 * line + ui.spacing().item_spacing.y) + more * line
}

/// The strip: one row per server in trouble (or a line saying there is none).
pub fn chain_strip(ui: &mut egui::Ui, ws: &Workspace) {
    let chains = cached(ui, ws);
    if chains.is_empty() {
        // The hint wraps onto the strip's second line instead of being cut.
        ui.horizontal_wrapped(|ui| {
            super::widgets::badge(ui, "All keys usable", GREEN);
            ui.label(
                RichText::new(
                    "Remove a permission, disable a key or start a scenario, then Play the clock to watch the chain.",
                )
                .weak(),
            );
        });
        return;
    }
    for c in chains.iter().take(CHAINS_SHOWN) {
        let whose = match &c.database {
            None => format!("SQL {}:", c.server),
            Some(db) => format!("SQL {} / {db} (own key):", c.server),
        };
        // The chain's current step, remembered so that when it changes (the clock moved
        // it on) a strip too short for the whole chain scrolls it into sight once.
        let now_id = ui.scope_id().with(("presenter-now", &whose));
        let now = c
            .steps
            .iter()
            .position(|s| matches!(s.state, StepState::Now));
        let moved = ui.data(|d| d.get_temp::<Option<usize>>(now_id)) != Some(now);
        ui.data_mut(|d| d.insert_temp(now_id, now));
        // Each chain keeps its lines (a longer one scrolls within them, to its current
        // step), so one chain's steps never push another's out of sight.
        // (Less the gap under the last line: the next line's top border stays out of sight.)
        let lines = LINES_PER_CHAIN as f32 * line_height(ui) - ui.spacing().item_spacing.y;
        egui::ScrollArea::vertical()
            .id_salt(("presenter-chain", &whose))
            .max_height(lines)
            // (A scroll area is at least 64 points high unless told: taller than two lines
            // at 100 %, it showed a sliver of the third.)
            .min_scrolled_height(lines)
            .auto_shrink([false, false])
            .show(ui, |ui| {
                ui.horizontal_wrapped(|ui| {
                    ui.label(RichText::new(whose.as_str()).strong());
                    for (i, step) in c.steps.iter().enumerate() {
                        if i > 0 {
                            next_arrow(ui);
                        }
                        let r = pill(ui, step.state, &step.text);
                        if moved && Some(i) == now {
                            r.scroll_to_me(None);
                        }
                    }
                });
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
fn pill(ui: &mut egui::Ui, state: StepState, text: &str) -> egui::Response {
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
        // (Every pill as high: the current one's stroke is a point wider.)
        .inner_margin(egui::Margin::symmetric(
            8,
            if matches!(state, StepState::Now) {
                3
            } else {
                4
            },
        ))
        .show(ui, |ui| {
            ui.set_max_width(room.max(60.0));
            ui.add(egui::Label::new(label).truncate())
        })
        .inner
        .on_hover_text(text)
}

/// The narrowest the picture gets beside a blade (a strip: the blade comes first).
const PICTURE_STRIP: f32 = 110.0;
/// Below this width (points) the picture beside a blade is shown as a list: drawn that
/// narrow, its labels would be 4 to 8 pixels high.
const LIST_BELOW: f32 = 300.0;

/// The room the blades beside the picture take out of `total` points: the blade's
/// preferred width when the window has it (its tables and grids are laid out for it), the
/// picture keeping at least a strip; on a wide window about half, never more than needed.
fn side_width(total: f32, preferred: f32, overhead: f32) -> f32 {
    let readable = super::blade_layout::MIN_WIDTH + overhead;
    let wide = (total * 0.45)
        .max(readable)
        .min(preferred + overhead + super::blade_layout::FOLD_STRIP);
    wide.max(preferred + overhead)
        .min(total - PICTURE_STRIP)
        .max(0.0)
}

/// The presenter view in the central panel.
pub fn show(app: &mut ConsoleApp, ui: &mut egui::Ui) {
    // The strip keeps at most two fifths of the height (it scrolls past that), so with
    // several keys in trouble at 200 % the picture stays the larger part of the screen.
    // Its height is fixed by how many chains it shows, not by what their steps say.
    let strip_max = (ui.available_height() * 0.4).max(60.0);
    let strip = strip_height(ui, &app.ws).min(strip_max);
    egui::ScrollArea::vertical()
        .id_salt("presenter-chain-strip")
        .max_height(strip)
        .min_scrolled_height(strip)
        .auto_shrink([false, false])
        .show(ui, |ui| chain_strip(ui, &app.ws));
    let mut asked = None;
    let beside = app.presenter_beside();
    // Beside a blade the picture takes what the blade leaves; measured before the toolbar
    // so a picture shown as a list does not offer zoom buttons that would do nothing.
    let total = ui.available_width();
    let spacing = ui.spacing().item_spacing.x;
    let overhead = 22.0 + spacing;
    let preferred = app.blades.last().map_or(500.0, |b| b.width());
    let side = side_width(total, preferred, overhead);
    let picture = (total - side - spacing).max(80.0);
    let as_list = beside && picture < LIST_BELOW;
    ui.horizontal(|ui| {
        if ui
            .button("Exit presenter view")
            .on_hover_text("F5; Esc closes the blade beside the picture first, then leaves")
            .clicked()
        {
            app.presenter = false;
        }
        if as_list {
            ui.label(RichText::new("A list beside the blade").weak());
        } else {
            asked = topology::toolbar(ui);
        }
    });
    let height = ui.available_height() - 4.0;
    if !beside {
        if let Some(kind) = topology::canvas(ui, &app.ws, height, asked) {
            app.presenter_side = true;
            app.open_root(kind);
        }
        return;
    }
    let mut opened = None;
    ui.horizontal_top(|ui| {
        ui.allocate_ui_with_layout(
            egui::vec2(picture, height),
            egui::Layout::top_down(egui::Align::Min),
            |ui| {
                ui.set_width(picture);
                // Too narrow for the drawing's text to be read from a seat (200 % with a
                // blade beside it): the same picture as a list at the body text size.
                opened = if as_list {
                    topology::list(ui, &app.ws)
                } else {
                    topology::canvas(ui, &app.ws, height, asked)
                };
            },
        );
        ui.allocate_ui_with_layout(
            egui::vec2(side, height),
            egui::Layout::top_down(egui::Align::Min),
            |ui| {
                ui.set_width(side);
                let actions = app.draw_blades(ui);
                let ctx = ui.ctx().clone();
                app.apply_actions(actions, &ctx);
            },
        );
    });
    if let Some(kind) = opened {
        app.open_root(kind);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_blade_beside_the_picture_is_readable_and_leaves_the_picture_room() {
        // 1280x720 at 200 %: 640 points, a 500-point blade.
        let side = super::side_width(640.0, 500.0, 30.0);
        assert_eq!(side, 530.0, "the blade gets what it is laid out for");
        assert!(
            640.0 - side >= super::PICTURE_STRIP,
            "the picture keeps a strip"
        );
        // A narrower window: the picture keeps its strip, the blade the rest.
        let side = super::side_width(560.0, 500.0, 30.0);
        assert_eq!(side, 560.0 - super::PICTURE_STRIP);
        // At 100 %: the blade gets what it asks for, the picture the rest.
        let side = super::side_width(1280.0, 500.0, 30.0);
        assert_eq!(side, 500.0 + 30.0 + super::super::blade_layout::FOLD_STRIP);
    }
}
