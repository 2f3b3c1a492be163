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

/// Chains the strip keeps room for, whether it shows none, one or several: its height
/// never changes as a failure starts, moves on or ends, so the toolbar and the picture
/// under it never jump. Up to this many chains get [`LINES_PER_CHAIN`] lines each; more
/// get one line each, newest first, the last line ending in "+N more" for those left out.
const CHAINS_RESERVED: usize = 2;

/// Lines of the strip each chain has when two to [`CHAINS_RESERVED`] are shown (one alone has
/// the whole strip).
const LINES_PER_CHAIN: usize = 2;

/// All the strip's lines.
const STRIP_LINES: usize = CHAINS_RESERVED * LINES_PER_CHAIN;

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

/// The height of one line of pills: a pill's text, 4 points of margin and 1 of stroke
/// above and below (3 and 2 for the current step's).
fn row_height(ui: &egui::Ui) -> f32 {
    ui.text_style_height(&egui::TextStyle::Body) + 10.0
}

/// One line and the gap under it.
fn line_height(ui: &egui::Ui) -> f32 {
    row_height(ui) + ui.spacing().item_spacing.y
}

/// The strip's height in `lines` lines: the same whatever the chains say or how many there
/// are.
pub fn strip_height(ui: &egui::Ui, lines: usize) -> f32 {
    lines as f32 * line_height(ui) - ui.spacing().item_spacing.y
}

/// The least height (points) of the picture under the strip and the toolbar: with the
/// Cloud Shell open at 200 % on 1280x720 it was 30 points (a 60-pixel band), too little to
/// show a region.
pub const MIN_PICTURE: f32 = 140.0;

/// The height of the toolbar's row (the Exit button, Fit, −, +, Legend) and the gap under
/// it.
fn toolbar_height(ui: &egui::Ui) -> f32 {
    let button =
        ui.text_style_height(&egui::TextStyle::Button) + 2.0 * ui.spacing().button_padding.y;
    button.max(ui.spacing().interact_size.y) + ui.spacing().item_spacing.y
}

/// The height the presenter view needs for its full strip, its toolbar and a picture of
/// [`MIN_PICTURE`]: what the Cloud Shell leaves it when it can (the shell shrinks first, down
/// to its title row and prompt).
pub fn room_wanted(ui: &egui::Ui) -> f32 {
    strip_height(ui, STRIP_LINES)
        + ui.spacing().item_spacing.y
        + toolbar_height(ui)
        + MIN_PICTURE
        + 8.0
}

/// The share of the view the picture keeps at least when the strip has room for two chains.
const PICTURE_SHARE: f32 = 0.6;

/// The strip's lines in a view `height` points high: room for two chains, or for one when
/// that would leave the picture less than [`MIN_PICTURE`] (the Cloud Shell open at 200 %)
/// or less than [`PICTURE_SHARE`] of the view (200 % on 1280x720: four lines took a third of
/// the view, mostly empty). It depends on the view's height only, so it never changes as the
/// chains do.
fn strip_lines(ui: &egui::Ui, height: f32) -> usize {
    let rest = height - ui.spacing().item_spacing.y - toolbar_height(ui) - 4.0;
    if rest - strip_height(ui, STRIP_LINES) >= MIN_PICTURE.max(PICTURE_SHARE * height) {
        STRIP_LINES
    } else {
        LINES_PER_CHAIN
    }
}

/// What one line of the strip holds, left to right.
#[derive(Clone, Debug, PartialEq)]
enum Item {
    /// Whose chain it is ("SQL sql-contoso-us:").
    Whose,
    /// The steps left out at the front (done ones), named on hover.
    Before,
    /// Step `i`, with an arrow after it unless it is the last shown.
    Step(usize, bool),
    /// Steps left out at the end (what would come after).
    After,
}

/// The widths of what separates and marks the steps: an arrow, the gap between items, the
/// "…" of left-out steps.
#[derive(Clone, Copy)]
struct Spacing {
    arrow: f32,
    gap: f32,
    more: f32,
}

/// Lays out `whose` and `steps` (their widths in points: the text, the pill's margins and
/// strokes) into at most `lines` lines `width` points wide: the steps from `first` to
/// `last`, the done ones before the current step `now` left out first, then the ones after
/// it, until they fit. The current step is always shown (cut short when it alone is wider
/// than a line).
fn fit_lines(
    whose: f32,
    steps: &[f32],
    now: usize,
    lines: usize,
    width: f32,
    fixed: Spacing,
) -> Vec<Vec<Item>> {
    let Spacing { arrow, gap, more } = fixed;
    let lay = |first: usize, last: usize| -> Option<Vec<Vec<Item>>> {
        let mut out: Vec<Vec<Item>> = vec![vec![Item::Whose]];
        let mut x = whose.min(width);
        let mut items: Vec<(Item, f32)> = Vec::new();
        if first > 0 {
            items.push((Item::Before, more));
        }
        for (i, w) in steps.iter().enumerate().take(last + 1).skip(first) {
            let arrowed = i < last || last + 1 < steps.len();
            items.push((
                Item::Step(i, arrowed),
                w + if arrowed { gap + arrow } else { 0.0 },
            ));
        }
        if last + 1 < steps.len() {
            items.push((Item::After, more));
        }
        for (item, w) in items {
            if x + gap + w > width && !out.last().is_some_and(|l| l.is_empty()) {
                out.push(Vec::new());
                x = 0.0;
            } else if !out.last().is_some_and(|l| l.is_empty()) {
                x += gap;
            }
            x += w;
            if let Some(l) = out.last_mut() {
                l.push(item);
            }
        }
        (out.len() <= lines).then_some(out)
    };
    let now = now.min(steps.len().saturating_sub(1));
    let last = steps.len().saturating_sub(1);
    // Drop done steps from the front first (what happened is the least news), then steps
    // from the end.
    for first in 0..=now {
        if let Some(l) = lay(first, last) {
            return l;
        }
    }
    for end in (now..last).rev() {
        if let Some(l) = lay(now, end) {
            return l;
        }
    }
    // The current step alone, beside whose it is or under it.
    let mut out = vec![vec![Item::Whose]];
    let lone = vec![Item::Step(now, false)];
    if lines > 1 {
        out.push(lone);
    } else {
        out[0].extend(lone);
    }
    out
}

/// The width of `text` on one line in the body font.
fn text_width(ui: &egui::Ui, text: &str) -> f32 {
    ui.painter()
        .layout_no_wrap(
            text.to_string(),
            egui::TextStyle::Body.resolve(ui.style()),
            Color32::WHITE,
        )
        .size()
        .x
}

/// The strip: one chain per server (or database key) in trouble, or a line saying there is
/// none; always [`strip_height`] high for its `strip` lines.
pub fn chain_strip(ui: &mut egui::Ui, ws: &Workspace, strip: usize) {
    let chains = cached(ui, ws);
    let width = ui.available_width();
    let (rect, _) = ui.allocate_exact_size(
        egui::vec2(width, strip_height(ui, strip)),
        egui::Sense::hover(),
    );
    let mut ui = ui.new_child(
        egui::UiBuilder::new()
            .max_rect(rect)
            .layout(egui::Layout::top_down(egui::Align::Min)),
    );
    ui.set_clip_rect(rect.intersect(ui.clip_rect()));
    let ui = &mut ui;
    if chains.is_empty() {
        ui.horizontal_wrapped(|ui| {
            match chain::not_online(ws) {
                None => {
                    super::widgets::badge(ui, "No failure in progress", GREEN);
                }
                // (No key is failing, but not every database is Online: the strip does not
                // say all is well.)
                Some(what) => {
                    super::widgets::badge(ui, "No key failure in progress", AMBER);
                    ui.label(what);
                }
            }
            // The hint wraps onto the strip's second line instead of being cut.
            ui.label(
                RichText::new(
                    "Remove a permission, disable a key or start a scenario, then Play the clock to watch the chain.",
                )
                .weak(),
            );
        });
        return;
    }
    // One chain has the whole strip; up to as many as it has room for share it; more get a
    // line each, the newest first; past the strip's lines the last line ends in "+N more",
    // which lists the rest (on hover, and in a popup on a click).
    let reserved = (strip / LINES_PER_CHAIN).max(1);
    let (shown, lines) = if chains.len() == 1 {
        (1, strip)
    } else if chains.len() <= reserved {
        (chains.len(), LINES_PER_CHAIN)
    } else {
        (chains.len().min(strip), 1)
    };
    let left_out = &chains[shown..];
    let row = row_height(ui);
    for (i, c) in chains.iter().take(shown).enumerate() {
        if i + 1 == shown && !left_out.is_empty() {
            // The last line: the chain, then the button naming the rest at its right end.
            let label = more_label(left_out.len());
            let button = text_width(ui, &label) + 2.0 * ui.spacing().button_padding.x;
            let gap = ui.spacing().item_spacing.x;
            let (line, _) = ui.allocate_exact_size(egui::vec2(width, row), egui::Sense::hover());
            let split = (line.max.x - button - gap).max(line.min.x);
            let mut chain_ui = ui.new_child(
                egui::UiBuilder::new()
                    .max_rect(egui::Rect::from_min_max(
                        line.min,
                        egui::pos2(split, line.max.y),
                    ))
                    .layout(egui::Layout::top_down(egui::Align::Min)),
            );
            draw_chain(&mut chain_ui, c, 1, split - line.min.x);
            let mut more_ui = ui.new_child(
                egui::UiBuilder::new()
                    .max_rect(egui::Rect::from_min_max(
                        egui::pos2(split, line.min.y),
                        line.max,
                    ))
                    .layout(egui::Layout::right_to_left(egui::Align::Center)),
            );
            more_button(&mut more_ui, &label, left_out);
        } else {
            draw_chain(ui, c, lines, width);
        }
    }
}

/// "+2 more": the button that lists the chains the strip has no line for.
fn more_label(n: usize) -> String {
    format!("+{n} more")
}

/// Who a chain is about: "SQL sql-contoso-us:", a database with its own key, or a server
/// whose region is down ("SQL sql-contoso-eu (westeurope down):", so a line showing only
/// the current step still says it is an outage, not a key).
fn whose(c: &Chain) -> String {
    match (&c.outage, &c.database) {
        (Some(region), _) => format!("SQL {} ({region} down):", c.server),
        (None, None) => format!("SQL {}:", c.server),
        (None, Some(db)) => format!("SQL {} / {db} (own key):", c.server),
    }
}

/// The button at the end of the strip's last line: its hover lists each chain left out
/// (whose it is and its current step), a click opens the same chains in full, each name
/// bringing its server into the picture's view.
fn more_button(ui: &mut egui::Ui, label: &str, rest: &[Chain]) {
    let now_text = |c: &Chain| {
        c.steps
            .iter()
            .find(|s| matches!(s.state, StepState::Now))
            .or(c.steps.last())
            .map(|s| s.text.clone())
            .unwrap_or_default()
    };
    let response = ui.button(label);
    let response = if egui::Popup::is_id_open(ui.ctx(), egui::Popup::default_response_id(&response))
    {
        response
    } else {
        response.on_hover_ui(|ui| {
            ui.label(RichText::new("Also in progress (newest first):").strong());
            for c in rest {
                ui.label(format!("{} {}", whose(c), now_text(c)));
            }
            ui.label(RichText::new("Click to see each chain").weak());
        })
    };
    let width = (ui.ctx().content_rect().width() * 0.8).max(200.0);
    egui::Popup::menu(&response)
        .width(width)
        .close_behavior(egui::PopupCloseBehavior::CloseOnClickOutside)
        .show(|ui| {
            ui.set_max_width(width);
            for c in rest {
                let clicked = ui
                    .add(
                        egui::Label::new(RichText::new(whose(c)).strong())
                            .sense(egui::Sense::click()),
                    )
                    .on_hover_text("Show this server in the picture")
                    .clicked();
                if clicked {
                    topology::focus(ui.ctx(), &c.server);
                }
                // A step a line (a wrapped row would cut a pill short at the row's end).
                for (i, step) in c.steps.iter().enumerate() {
                    ui.horizontal(|ui| {
                        if i > 0 {
                            next_arrow(ui);
                        } else {
                            ui.add_space(ARROW_WIDTH + ui.spacing().item_spacing.x);
                        }
                        pill(ui, step.state, &step.text);
                    });
                }
                ui.add_space(4.0);
            }
        });
}

/// One chain in `lines` lines `width` points wide, each line allocated in `ui` (top-down):
/// whose it is, then as many of its steps as fit around the current one.
fn draw_chain(ui: &mut egui::Ui, c: &Chain, lines: usize, width: f32) {
    let gap = ui.spacing().item_spacing.x;
    let row = row_height(ui);
    let whose = whose(c);
    let widths: Vec<f32> = c
        .steps
        .iter()
        .map(|s| text_width(ui, &s.text) + PILL_EXTRA)
        .collect();
    let now = c
        .steps
        .iter()
        .position(|s| matches!(s.state, StepState::Now))
        .unwrap_or(c.steps.len().saturating_sub(1));
    let laid = fit_lines(
        text_width(ui, &whose),
        &widths,
        now,
        lines,
        width,
        Spacing {
            arrow: ARROW_WIDTH,
            gap,
            more: text_width(ui, "…"),
        },
    );
    for line in &laid {
        let (line_rect, _) = ui.allocate_exact_size(egui::vec2(width, row), egui::Sense::hover());
        let mut line_ui = ui.new_child(
            egui::UiBuilder::new()
                .max_rect(line_rect)
                .layout(egui::Layout::left_to_right(egui::Align::Center)),
        );
        line_ui.set_clip_rect(line_rect.intersect(line_ui.clip_rect()));
        for item in line {
            match item {
                Item::Whose => {
                    // A click brings the server into the picture's view.
                    let clicked = line_ui
                        .add(
                            egui::Label::new(RichText::new(whose.as_str()).strong())
                                .truncate()
                                .sense(egui::Sense::click()),
                        )
                        .on_hover_text("Show this server in the picture")
                        .clicked();
                    if clicked {
                        topology::focus(line_ui.ctx(), &c.server);
                    }
                }
                Item::Before => {
                    let first = laid
                        .iter()
                        .flatten()
                        .find_map(|i| match i {
                            Item::Step(i, _) => Some(*i),
                            _ => None,
                        })
                        .unwrap_or(0);
                    let done: Vec<&str> =
                        c.steps[..first].iter().map(|s| s.text.as_str()).collect();
                    line_ui
                        .label(RichText::new("…").weak())
                        .on_hover_text(done.join(" → "));
                }
                Item::Step(i, arrowed) => {
                    let step = &c.steps[*i];
                    pill(&mut line_ui, step.state, &step.text);
                    if *arrowed {
                        next_arrow(&mut line_ui);
                    }
                }
                Item::After => {
                    line_ui.label(RichText::new("…").weak());
                }
            }
        }
    }
    // The chain's unused lines stay empty: the next chain starts where it always does.
    for _ in laid.len()..lines {
        ui.allocate_exact_size(egui::vec2(width, row), egui::Sense::hover());
    }
}

/// The width an arrow between two steps takes.
const ARROW_WIDTH: f32 = 18.0;
/// What a pill adds to its text's width: 8 points of margin and up to 2 of stroke a side.
const PILL_EXTRA: f32 = 20.0;

/// The arrow between two steps (drawn: the UI font has no arrow glyph).
fn next_arrow(ui: &mut egui::Ui) {
    let (r, _) = ui.allocate_exact_size(egui::vec2(ARROW_WIDTH, 14.0), egui::Sense::hover());
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
                RichText::new(text)
                    .color(crate::ui::widgets::text_on(colour))
                    .strong(),
            )
        }
        StepState::Next => (
            Color32::TRANSPARENT,
            egui::Stroke::new(1.0, ui.visuals().weak_text_color()),
            RichText::new(text).weak(),
        ),
    };
    // One wider than the whole line is cut short (its whole text on hover).
    let room = ui.available_size_before_wrap().x - PILL_EXTRA;
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
    // The strip keeps one height (room for two chains) whatever it narrates, so the toolbar
    // and the picture under it never move while the clock plays.
    // (Two chains' room, or one's when the Cloud Shell leaves the view short.)
    let lines = strip_lines(ui, ui.available_height());
    chain_strip(ui, &app.ws, lines);
    // Entering the view fits the whole picture (walk 35: F5 kept a pan left from an earlier
    // visit, with another workspace, and eastus was out of sight).
    let shown_id = egui::Id::unique("presenter-shown-pass");
    let pass = ui.ctx().cumulative_pass_nr();
    let entered = ui
        .data(|d| d.get_temp::<u64>(shown_id))
        .is_none_or(|last| last + 1 < pass);
    ui.data_mut(|d| d.insert_temp(shown_id, pass));
    let mut asked = entered.then_some(topology::Zoom::Fit);
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
        } else if let Some(zoom) = topology::toolbar(ui) {
            asked = Some(zoom);
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
