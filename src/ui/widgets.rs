//! Small reusable widgets: status badges, property grids, error boxes.

use crate::model::{Database, ResourceHealth, SqlServer, Workspace};
use crate::service::availability::Availability;
use egui::{Color32, RichText};

pub const GREEN: Color32 = Color32::from_rgb(16, 124, 16);
pub const RED: Color32 = Color32::from_rgb(196, 43, 28);
pub const AMBER: Color32 = Color32::from_rgb(202, 120, 0);
pub const BLUE: Color32 = Color32::from_rgb(0, 120, 212);
/// Neither good nor bad: no signal (Resource health "Unknown"). White on it is 6.3:1.
pub const GREY: Color32 = Color32::from_rgb(96, 94, 92);

/// Why a control that changes the workspace is greyed while a job runs.
pub const BUSY_WHY: &str =
    "A job is running: the workspace takes changes again when it is done (status bar).";

/// The first reason that holds, for a greyed control's hover text: `why(&[(busy,
/// BUSY_WHY), (name.is_empty(), "Type a name first.")])`. Empty when none holds.
pub fn why(reasons: &[(bool, &'static str)]) -> &'static str {
    reasons
        .iter()
        .find(|(holds, _)| *holds)
        .map(|(_, text)| *text)
        .unwrap_or("")
}

/// How wide `text` is on one line in `style` (points): for measuring before placing.
pub fn one_line_width(
    ui: &egui::Ui,
    text: impl Into<egui::WidgetText>,
    style: egui::TextStyle,
) -> f32 {
    text.into()
        .into_galley(ui, Some(egui::TextWrapMode::Extend), f32::INFINITY, style)
        .size()
        .x
}

/// A coloured pill with a word in it.
pub fn badge(ui: &mut egui::Ui, text: &str, color: Color32) -> egui::Response {
    // A badge never breaks inside ("Av/ail/ab/le" at 150 % in a narrow blade): in a
    // wrapping row it starts a new line when the rest of the row is too short for it.
    let rich = RichText::new(text).color(text_on(color)).strong();
    if ui.layout().main_wrap && ui.cursor().min.x > ui.max_rect().min.x + 1.0 {
        let width = one_line_width(ui, rich.clone(), egui::TextStyle::Body) + 16.0;
        // (What is left of this row: `available_width` is the whole row in a wrapping
        // layout.)
        if width > ui.available_size_before_wrap().x {
            ui.end_row();
        }
    }
    egui::Frame::new()
        .fill(color)
        .corner_radius(9.0)
        .inner_margin(egui::Margin::symmetric(8, 2))
        .show(ui, |ui| ui.add(egui::Label::new(rich).extend()))
        .response
}

/// White or black, whichever reads better on a pill or chip filled with `fill`: white on
/// amber was 3.0:1 (walk 35 measured "2 down" and the chain strip's chips in high
/// contrast); black on it is 7:1.
pub fn text_on(fill: Color32) -> Color32 {
    use crate::ui::blades::topology::contrast;
    if contrast(Color32::WHITE, fill) >= contrast(Color32::BLACK, fill) {
        Color32::WHITE
    } else {
        Color32::BLACK
    }
}

/// The shape of a state's mark (painted, so it needs no font with symbols).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarkShape {
    /// A filled dot: all is well.
    Dot,
    /// A filled dot with "!": broken, someone must act.
    Alert,
    /// An open ring: under way (a restore, a recovery).
    Progress,
    /// A triangle with "!": unavailable for a reason that is not the user's (an outage).
    Warning,
}

/// How a database's state is marked wherever it appears (navigator, server and database
/// blades, topology): its shape, glyph, colour and word. Each state has its own: a restore
/// or a recovery under way is progress (a blue ring), not a failure (a red "!"), and a
/// region outage is the platform's (an amber triangle), not the key's.
#[derive(Clone, Debug, PartialEq)]
pub struct StateMark {
    pub shape: MarkShape,
    /// A character for plain text (in the default font): "•", "!", "…".
    pub glyph: &'static str,
    pub colour: Color32,
    /// The state in words ("Online", "Inaccessible", "Restoring", "Unavailable" in a region
    /// outage).
    pub label: String,
    /// Why, in a sentence, for a tooltip (`None` when Online).
    pub detail: Option<String>,
    /// Counted by the server's badge: somebody should look (a lost key, a region down).
    pub needs_attention: bool,
}

/// The mark of an availability (see [`state_mark`]).
pub fn availability_mark(a: &Availability) -> StateMark {
    let (shape, glyph, colour, label) = match a {
        Availability::Online => (MarkShape::Dot, "•", GREEN, "Online"),
        Availability::Inaccessible {
            revalidation_required: true,
        } => (MarkShape::Alert, "!", RED, "Inaccessible · revalidate"),
        Availability::Inaccessible { .. } => (MarkShape::Alert, "!", RED, "Inaccessible"),
        Availability::Recovering { .. } => (MarkShape::Progress, "…", BLUE, "Recovering"),
        Availability::Restoring { .. } => (MarkShape::Progress, "…", BLUE, "Restoring"),
        Availability::RegionOutage { .. } => (MarkShape::Warning, "!", AMBER, "Unavailable"),
        Availability::Paused => (MarkShape::Progress, "‖", BLUE, "Paused"),
    };
    StateMark {
        shape,
        glyph,
        colour,
        label: label.to_string(),
        detail: a.reason().map(|r| {
            let mut chars = r.chars();
            match chars.next() {
                Some(c) => format!("{}{}.", c.to_uppercase(), chars.as_str()),
                None => r,
            }
        }),
        needs_attention: a.needs_attention(),
    }
}

/// The mark of database `d` of server `s` as a client connecting now would find it: the
/// one function every view that marks a database state calls.
pub fn state_mark(ws: &Workspace, s: &SqlServer, d: &Database) -> StateMark {
    availability_mark(&crate::service::availability::availability(ws, s, d))
}

/// Paints a mark's shape centred on `c`, `r` points in radius.
pub fn paint_mark(painter: &egui::Painter, c: egui::Pos2, r: f32, mark: &StateMark) {
    let bang = |painter: &egui::Painter, at: egui::Pos2, ink: Color32| {
        painter.text(
            at,
            egui::Align2::CENTER_CENTER,
            "!",
            egui::FontId::proportional(r * 1.6),
            ink,
        );
    };
    match mark.shape {
        MarkShape::Dot => {
            painter.circle_filled(c, r * 0.8, mark.colour);
        }
        MarkShape::Alert => {
            painter.circle_filled(c, r, mark.colour);
            bang(painter, c, Color32::WHITE);
        }
        MarkShape::Progress => {
            // Three quarters of a ring, open at the top right, with a dot at its head.
            let points: Vec<egui::Pos2> = (0..=18)
                .map(|i| {
                    let a = -std::f32::consts::FRAC_PI_2
                        + i as f32 * (1.5 * std::f32::consts::PI / 18.0);
                    c + (r * 0.75) * egui::vec2(a.cos(), a.sin())
                })
                .collect();
            if let Some(head) = points.last().copied() {
                painter.circle_filled(head, r * 0.3, mark.colour);
            }
            painter.add(egui::Shape::line(
                points,
                egui::Stroke::new((r * 0.35).max(1.5), mark.colour),
            ));
        }
        MarkShape::Warning => {
            let h = r * 1.9;
            let top = c + egui::vec2(0.0, -h * 0.55);
            let left = c + egui::vec2(-r * 1.05, h * 0.45);
            let right = c + egui::vec2(r * 1.05, h * 0.45);
            painter.add(egui::Shape::convex_polygon(
                vec![top, right, left],
                mark.colour,
                egui::Stroke::NONE,
            ));
            bang(painter, c + egui::vec2(0.0, h * 0.08), Color32::BLACK);
        }
    }
}

/// A mark's shape as a widget of its own (`size` points square), its words on hover and as
/// its accessible name.
pub fn mark_icon(ui: &mut egui::Ui, mark: &StateMark, size: f32) -> egui::Response {
    let (rect, response) = ui.allocate_exact_size(egui::vec2(size, size), egui::Sense::hover());
    paint_mark(ui.painter(), rect.center(), size * 0.38, mark);
    let label = mark.label.clone();
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Image, true, &label));
    let hover = match &mark.detail {
        Some(d) => format!("{}: {d}", mark.label),
        None => mark.label.clone(),
    };
    response.on_hover_text(hover)
}

/// A database's state as the portal's Status column shows it: its mark, then its word in
/// its colour (the reason on hover).
pub fn state_badge(ui: &mut egui::Ui, mark: &StateMark) -> egui::Response {
    ui.horizontal(|ui| {
        ui.spacing_mut().item_spacing.x = 4.0;
        let size = ui.spacing().interact_size.y.min(18.0);
        mark_icon(ui, mark, size);
        let r = ui.label(
            RichText::new(&mark.label)
                .color(ink(ui, mark.colour))
                .strong(),
        );
        match &mark.detail {
            Some(d) => r.on_hover_text(d),
            None => r,
        }
    })
    .inner
}

/// Resource Health as a pill.
pub fn health_badge(ui: &mut egui::Ui, h: ResourceHealth) -> egui::Response {
    match h {
        ResourceHealth::Available => badge(ui, "Available", GREEN),
        ResourceHealth::Unavailable => badge(ui, "Unavailable", RED),
        ResourceHealth::Unknown => badge(ui, "Unknown", GREY),
    }
}

/// A two-column grid of property names and values (values selectable). Where the values
/// would have fewer than about 20 characters' width beside the names (a blade narrowed by a
/// side panel at 200 %, where a listener's name broke at every dot), each name stands above
/// its value, which takes the whole width.
pub fn properties(ui: &mut egui::Ui, id: &str, rows: &[(&str, String)]) {
    let font = egui::TextStyle::Body.resolve(ui.style());
    let names = rows
        .iter()
        .map(|(k, _)| {
            ui.fonts_mut(|f| {
                f.layout_no_wrap(k.to_string(), font.clone(), Color32::WHITE)
                    .size()
                    .x
            })
        })
        .fold(0.0_f32, f32::max);
    let char_w = ui.fonts_mut(|f| f.glyph_width(&font, '0'));
    if ui.available_width() - names - 16.0 < 20.0 * char_w {
        ui.spacing_mut().item_spacing.y = 2.0;
        for (k, v) in rows {
            ui.label(RichText::new(*k).weak());
            ui.add(egui::Label::new(v.as_str()).selectable(true).wrap());
            ui.add_space(4.0);
        }
        return;
    }
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

/// A status colour lifted for a black background (a border or line that must stand out
/// at well over 3:1): halfway to white.
/// `c` for text on the panel (a status word, a count in colour): the colour itself where it
/// reads at 4.5:1 or more, lifted towards white on a dark theme's panel (the dark green
/// "Online" was 3.9:1 on high contrast's black) or darkened on a light one until it does.
pub fn ink(ui: &egui::Ui, c: Color32) -> Color32 {
    if crate::ui::presentation::is_high_contrast(ui.visuals()) {
        // For the back of the room: WCAG's 7:1 (AAA) with a margin; at 5.5:1 a walk found
        // high contrast's greens dim beside its white text.
        return crate::ui::blades::topology::readable_at(c, ui.visuals().panel_fill, HC_CONTRAST);
    }
    crate::ui::blades::topology::readable_on(c, ui.visuals().panel_fill)
}

/// The contrast [`ink`] writes coloured text at in high contrast.
pub const HC_CONTRAST: f32 = 8.0;

pub fn bright(c: Color32) -> Color32 {
    let lift = |v: u8| v + (255 - v) / 2;
    Color32::from_rgb(lift(c.r()), lift(c.g()), lift(c.b()))
}

/// A coloured message box: fill, border and text colour. In high contrast: white text on
/// black inside a thick border of the message's colour (pastel boxes were the only light
/// patches of that theme, and their dark text its only low-contrast text).
fn message_box(ui: &mut egui::Ui, text: &str, fill: Color32, border: Color32, ink: Color32) {
    let (fill, stroke, ink) = box_colours(ui.visuals(), fill, border, ink);
    egui::Frame::new()
        .fill(fill)
        .stroke(stroke)
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

/// A message box's fill, border and text colour in the theme `v`, from its light-theme
/// fill, its colour and its light-theme text: in the dark theme a dark tint of its colour
/// with light text (walk 35: pastel boxes glared on the dark panels at 150 %).
fn box_colours(
    v: &egui::Visuals,
    fill: Color32,
    border: Color32,
    ink: Color32,
) -> (Color32, egui::Stroke, Color32) {
    if crate::ui::presentation::is_high_contrast(v) {
        (
            Color32::BLACK,
            egui::Stroke::new(2.5, bright(border)),
            Color32::WHITE,
        )
    } else if v.dark_mode {
        let tint = |p: u8, c: u8| (f32::from(p) * 0.75 + f32::from(c) * 0.25) as u8;
        let panel = v.panel_fill;
        (
            Color32::from_rgb(
                tint(panel.r(), border.r()),
                tint(panel.g(), border.g()),
                tint(panel.b(), border.b()),
            ),
            egui::Stroke::new(1.0, border),
            Color32::from_gray(235),
        )
    } else {
        (fill, egui::Stroke::new(1.0, border), ink)
    }
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

/// Something that is not the user's doing and needs no action, but explains a failure
/// (a region outage).
pub fn warning_box(ui: &mut egui::Ui, text: &str) {
    message_box(
        ui,
        text,
        Color32::from_rgb(255, 244, 206),
        AMBER,
        Color32::from_rgb(100, 60, 0),
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
    if !width.is_finite() {
        // A field that fills its row ([`text_field`]): nothing to measure.
        return ui
            .horizontal(|ui| {
                let l = ui.label(label);
                ui.add(
                    egui::TextEdit::singleline(value)
                        .hint_text(hint)
                        .desired_width(width),
                )
                .labelled_by(l.id)
            })
            .inner;
    }
    let padding = 2.0 * ui.spacing().button_padding.x;
    measured_item(ui, label, width + padding, |ui, room| {
        let l = ui.label(label);
        ui.add(
            egui::TextEdit::singleline(value)
                .hint_text(hint)
                .desired_width(width.min(room - padding).max(30.0)),
        )
        .labelled_by(l.id)
    })
}

/// A label and its control (`control` points wide) allocated as one measured item, so a
/// wrapping row (`horizontal_wrapped`) moves them to the next line together instead of
/// running past the blade's edge (a plain `ui.horizontal` claims the rest of the row and
/// never wraps). `add` gets the room left for the control after the label.
fn measured_item<R>(
    ui: &mut egui::Ui,
    label: &str,
    control: f32,
    add: impl FnOnce(&mut egui::Ui, f32) -> R,
) -> R {
    let label_width = one_line_width(ui, label, egui::TextStyle::Body);
    let spacing = ui.spacing().item_spacing.x;
    let height = ui.spacing().interact_size.y;
    let whole = label_width + spacing + control;
    // A wrapping row may move the item to a new line, where the whole row is free.
    let row = if ui.layout().main_wrap {
        ui.max_rect().width()
    } else {
        ui.available_width()
    };
    // Too narrow for the label and a usable control on one line (a long label in a blade
    // beside History): the label above its control, which takes the whole row.
    if label_width + spacing + control.min(120.0) > row {
        return ui
            .allocate_ui_with_layout(
                egui::vec2(row.max(1.0), 2.0 * height),
                egui::Layout::top_down(egui::Align::Min),
                |ui| add(ui, row.max(40.0)),
            )
            .inner;
    }
    let fits = whole.min(row.max(1.0));
    ui.allocate_ui_with_layout(
        egui::vec2(fits, height),
        egui::Layout::left_to_right(egui::Align::Center),
        |ui| {
            let room = (ui.available_width() - label_width - spacing).max(40.0);
            add(ui, room)
        },
    )
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
    // Measured as one item, so a wrapping row of filters moves the label and its drop-down
    // to the next line together (Logs' "Result type" at 200 % ran past the edge).
    let s = ui.spacing();
    let control =
        width.unwrap_or(s.combo_width) + s.icon_width + s.icon_spacing + 2.0 * s.button_padding.x;
    let chrome = control - width.unwrap_or(s.combo_width);
    measured_item(ui, label, control, |ui, room| {
        let l = ui.label(label);
        // A choice longer than the box (a 32-digit key version) ends in "…" instead of
        // widening it; the list shows it whole.
        let mut c = egui::ComboBox::from_id_salt(("combo", label))
            .selected_text(selected.into())
            .truncate();
        if let Some(w) = width {
            // Narrower than asked where the blade is (150 % beside History): a wider box
            // would widen the blade's body and every text below it would wrap past the edge.
            c = c.width(w.min(room - chrome).max(60.0));
        }
        let r = c.show_ui(ui, add_contents);
        egui::InnerResponse::new(r.inner, r.response.labelled_by(l.id))
    })
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

/// A resource or event as JSON (what az prints for it), selectable, with Copy and Close, as
/// the portal opens a row to its JSON. Returns true when Close was clicked.
pub fn json_details(
    ui: &mut egui::Ui,
    id_salt: &str,
    title: &str,
    value: &serde_json::Value,
) -> bool {
    let text = serde_json::to_string_pretty(value).unwrap_or_default();
    let mut close = false;
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.horizontal_wrapped(|ui| {
            if !title.is_empty() {
                ui.strong(title);
            }
            if ui.small_button("Copy JSON").clicked() {
                ui.ctx().copy_text(text.clone());
            }
            close = ui.small_button("Close JSON").clicked();
        });
        // Long values wrap: a narrow blade (200 % zoom) gets no sideways scrolling.
        egui::ScrollArea::vertical()
            .id_salt(id_salt)
            .max_height(220.0)
            .auto_shrink([false, true])
            .show(ui, |ui| {
                ui.add(
                    egui::Label::new(egui::RichText::new(text).monospace())
                        .selectable(true)
                        .wrap(),
                );
            });
    });
    close
}

/// The width (points) a record's JSON window leaves on the left of what opened it.
const JSON_KEEPS_LEFT: f32 = 320.0;

/// A record's JSON in a window of its own over the right of `ui` (the portal's side pane):
/// opening it moves nothing under the pointer, as JSON opened above a table did (the
/// clicked row jumped down by the JSON's height). `key` names the record, so each opens
/// scrolled to its top. True when closed (its × or "Close JSON").
pub fn json_window(
    ui: &egui::Ui,
    key: impl std::hash::Hash + std::fmt::Debug,
    title: &str,
    value: &serde_json::Value,
) -> bool {
    let area = ui.clip_rect();
    // The room the window leaves on the left: a table's first columns (an Activity log
    // row's time and operation) stay in sight. At 200 % on 1280x720 it was 460 points of a
    // 640-point window.
    let width = (area.width() - 24.0 - JSON_KEEPS_LEFT).clamp(200.0, 460.0);
    let screen = ui.ctx().content_rect();
    let room = egui::Rect::from_x_y_ranges(
        screen.x_range(),
        area.top().clamp(screen.top(), screen.bottom() - 120.0)..=screen.bottom(),
    );
    let mut open = true;
    let mut close = false;
    egui::Window::new(title)
        .id(ui.scope_id().with("json-window"))
        .open(&mut open)
        .collapsible(false)
        .resizable(true)
        .default_width(width)
        .max_width(width.max(area.width() - 24.0 - JSON_KEEPS_LEFT))
        // Below the top bar (the clock stays in reach): a long record scrolls inside.
        .constrain_to(room)
        .max_height((room.height() - 24.0).max(120.0))
        .pivot(egui::Align2::RIGHT_TOP)
        .default_pos(area.right_top() + egui::vec2(-12.0, 12.0))
        .show(ui.ctx(), |ui| {
            // The window's title names the record; no second title inside.
            close = json_details(ui, &format!("json-window-{key:?}"), "", value);
        });
    close || !open
}

/// What cannot wrap (a table's columns, a grid) and may be wider than the blade: it scrolls
/// sideways on its own, so the text around it keeps wrapping at the blade's width. The
/// wheel still scrolls the blade down (only a sideways wheel or Shift+wheel moves it).
pub fn wide<R>(ui: &mut egui::Ui, id_salt: &str, add: impl FnOnce(&mut egui::Ui) -> R) -> R {
    egui::ScrollArea::horizontal()
        .id_salt(id_salt)
        .auto_shrink([false, true])
        .show(ui, add)
        .inner
}

/// Lines of code to be read and copied as they are (a shell's exports, a Python program):
/// monospace, selectable, each line whole. A line wider than the room scrolls sideways;
/// wrapped, `export` and its variable would read as two commands.
pub fn code_block(ui: &mut egui::Ui, id_salt: &str, text: &str) {
    egui::Frame::canvas(ui.style())
        .inner_margin(egui::Margin::same(6))
        .show(ui, |ui| {
            egui::ScrollArea::horizontal()
                .id_salt(id_salt)
                .auto_shrink([false, true])
                .show(ui, |ui| {
                    ui.add(
                        egui::Label::new(egui::RichText::new(text).monospace())
                            .selectable(true)
                            .extend(),
                    );
                });
        });
}

/// Values of one argument shown before a long list is cut short.
const LIST_KEPT: usize = 2;
/// A list of more values than this is cut short.
const LIST_MAX: usize = 5;

/// An `az` line as a toast shows it: each argument's list of more than five values cut to
/// its first two and a count ("--remove-db app-0001 app-0002 … (598 more)"), so a bulk change
/// of hundreds of databases does not fill the screen. Copy, the History and the exported
/// script keep the whole line. Quoted values (with their spaces) count as one. A script of
/// several lines (a TDE Save that also creates the server key) is cut line by line: the next
/// command's words are never taken for the last option's values.
pub fn short_command(line: &str) -> std::borrow::Cow<'_, str> {
    if !line.contains('\n') {
        return short_line(line);
    }
    let lines: Vec<_> = line.split('\n').map(short_line).collect();
    if lines
        .iter()
        .all(|l| matches!(l, std::borrow::Cow::Borrowed(_)))
    {
        std::borrow::Cow::Borrowed(line)
    } else {
        std::borrow::Cow::Owned(lines.join("\n"))
    }
}

fn short_line(line: &str) -> std::borrow::Cow<'_, str> {
    let words = shell_words(line);
    let mut out: Vec<String> = Vec::with_capacity(words.len());
    let mut cut = false;
    let mut i = 0;
    while i < words.len() {
        out.push(words[i].to_string());
        // The values of an option: the words after it up to the next option.
        if words[i].starts_with('-') {
            let run = words[i + 1..]
                .iter()
                .take_while(|w| !w.starts_with('-'))
                .count();
            if run > LIST_MAX {
                out.extend(
                    words[i + 1..i + 1 + LIST_KEPT]
                        .iter()
                        .map(|w| w.to_string()),
                );
                out.push(format!("… ({} more)", run - LIST_KEPT));
                cut = true;
            } else {
                out.extend(words[i + 1..i + 1 + run].iter().map(|w| w.to_string()));
            }
            i += 1 + run;
        } else {
            i += 1;
        }
    }
    if cut {
        std::borrow::Cow::Owned(out.join(" "))
    } else {
        std::borrow::Cow::Borrowed(line)
    }
}

/// The words of a command line, split at spaces outside single or double quotes (the
/// quotes stay part of their word).
fn shell_words(line: &str) -> Vec<&str> {
    let mut words = Vec::new();
    let mut start = None;
    let mut quote = None;
    for (i, c) in line.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => {
                quote = Some(c);
                start.get_or_insert(i);
            }
            (None, c) if c.is_whitespace() => {
                if let Some(s) = start.take() {
                    words.push(&line[s..i]);
                }
            }
            (None, _) => {
                start.get_or_insert(i);
            }
        }
    }
    if let Some(s) = start {
        words.push(&line[s..]);
    }
    words
}

/// `button` at least as wide as it would be labelled `widest`: a count in its label growing
/// or shrinking never moves what follows it (at 200 % a wrapped row of such buttons changed
/// lines as a count grew, and the table under it jumped under the pointer).
pub fn steady<'a>(ui: &egui::Ui, button: egui::Button<'a>, widest: &str) -> egui::Button<'a> {
    let width =
        text_width(ui, widest, egui::TextStyle::Button) + 2.0 * ui.spacing().button_padding.x;
    button.min_size(egui::vec2(width, 0.0))
}

/// A label that takes as much room in a wrapped row as `widest` would (see [`steady`]).
pub fn steady_label(ui: &mut egui::Ui, text: egui::RichText, widest: &str) {
    let width = text_width(ui, widest, egui::TextStyle::Body);
    let height = ui.text_style_height(&egui::TextStyle::Body);
    ui.allocate_ui_with_layout(
        egui::vec2(width, height),
        egui::Layout::left_to_right(egui::Align::Center),
        |ui| {
            ui.set_min_width(width);
            ui.label(text);
        },
    );
}

/// The width of `text` on one line in `style`.
fn text_width(ui: &egui::Ui, text: &str, style: egui::TextStyle) -> f32 {
    ui.painter()
        .layout_no_wrap(
            text.to_string(),
            style.resolve(ui.style()),
            egui::Color32::WHITE,
        )
        .size()
        .x
}

#[cfg(test)]
mod tests {

    /// Found in the walk at 200 % high contrast (issue 23): a database's dark green
    /// "Online" was 3.9:1 on black. Status words read at 4.5:1 on every theme's panel.
    /// Every status colour as `ink` writes it on `visuals`' panel reads at `at_least`:1.
    fn status_words_read_at(visuals: egui::Visuals, at_least: f32) {
        use crate::ui::blades::topology::contrast;
        let ctx = egui::Context::default();
        ctx.set_visuals(visuals.clone());
        let mut out = ctx.run_ui(egui::RawInput::default(), |ui| {
            for c in [GREEN, RED, AMBER, BLUE, GREY] {
                let written = ink(ui, c);
                let ratio = contrast(written, visuals.panel_fill);
                assert!(ratio >= at_least, "{c:?} written {written:?}: {ratio:.2}:1");
            }
        });
        out.textures_delta.clear();
    }

    #[test]
    fn status_words_read_at_4_5_to_1_on_every_themes_panel() {
        for visuals in [
            egui::Visuals::light(),
            egui::Visuals::dark(),
            crate::ui::presentation::high_contrast(),
        ] {
            status_words_read_at(visuals, 4.5);
        }
    }

    /// Found in walk 34: at 5.5:1 high contrast's greens and reds read dim beside its
    /// white text from the back of a room. In high contrast they read at 8:1.
    #[test]
    fn high_contrast_status_words_read_at_8_to_1() {
        status_words_read_at(crate::ui::presentation::high_contrast(), HC_CONTRAST);
    }

    #[test]
    fn a_pills_word_reads_at_4_5_to_1_on_its_fill() {
        use crate::ui::blades::topology::contrast;
        for c in [GREEN, RED, AMBER, BLUE] {
            let ratio = contrast(text_on(c), c);
            assert!(ratio >= 4.5, "{c:?}: {ratio:.2}:1");
        }
    }

    /// Found in walk 35 at 150 % dark: the error, warning and success boxes kept their
    /// light theme's pastel fills. In the dark theme they are dark tints with light text
    /// that reads at 7:1.
    #[test]
    fn message_boxes_are_dark_in_the_dark_theme() {
        use crate::ui::blades::topology::contrast;
        let dark = egui::Visuals::dark();
        for (fill, border, ink) in [
            (
                Color32::from_rgb(253, 231, 233),
                RED,
                Color32::from_rgb(120, 20, 20),
            ),
            (
                Color32::from_rgb(255, 244, 206),
                AMBER,
                Color32::from_rgb(100, 60, 0),
            ),
            (
                Color32::from_rgb(223, 246, 221),
                GREEN,
                Color32::from_rgb(16, 80, 16),
            ),
        ] {
            let (f, _, i) = box_colours(&dark, fill, border, ink);
            assert!(
                contrast(f, dark.panel_fill) < 1.6,
                "{border:?}: the fill {f:?} stays close to the dark panel"
            );
            assert!(contrast(i, f) >= 7.0, "{border:?}: {:.2}:1", contrast(i, f));
            let light = box_colours(&egui::Visuals::light(), fill, border, ink);
            assert_eq!(
                (light.0, light.2),
                (fill, ink),
                "the light theme keeps its pastels"
            );
        }
    }

    #[test]
    fn high_contrast_message_borders_stand_out_on_black() {
        use crate::ui::blades::topology::contrast;
        for c in [RED, AMBER, GREEN, BLUE] {
            assert!(
                contrast(bright(c), Color32::BLACK) >= 4.5,
                "{c:?} lifted to {:?}",
                bright(c)
            );
        }
        assert!(crate::ui::presentation::is_high_contrast(
            &crate::ui::presentation::high_contrast()
        ));
        assert!(!crate::ui::presentation::is_high_contrast(
            &egui::Visuals::dark()
        ));
        assert!(!crate::ui::presentation::is_high_contrast(
            &egui::Visuals::light()
        ));
    }
    use super::*;

    #[test]
    fn a_long_list_of_values_is_cut_to_two_and_a_count() {
        let names: Vec<String> = (1..=600).map(|i| format!("db{i}")).collect();
        let line = format!(
            "az sql failover-group update --name fg --server s --resource-group g --remove-db {}",
            names.join(" ")
        );
        assert_eq!(
            short_command(&line),
            "az sql failover-group update --name fg --server s --resource-group g --remove-db db1 db2 … (598 more)"
        );
    }

    #[test]
    fn short_lists_and_quoted_values_are_kept_whole() {
        let line = "az sql db create --name 'my db' --tags a=1 b=2 c=3 --add-db x y z w v";
        assert_eq!(short_command(line), line);
        assert!(matches!(short_command(line), std::borrow::Cow::Borrowed(_)));
        let quoted = "sim write --text \"a b c d e f g\" --into one two three four five six";
        assert_eq!(
            short_command(quoted),
            "sim write --text \"a b c d e f g\" --into one two … (4 more)"
        );
    }

    #[test]
    fn each_line_of_a_script_is_cut_on_its_own() {
        let script = "az sql server key create --server s --resource-group g --kid https://kv/keys/k/1\naz sql server tde-key set --server s --resource-group g --server-key-type AzureKeyVault --kid https://kv/keys/k/1";
        assert_eq!(short_command(script), script);
        let names: Vec<String> = (1..=9).map(|i| format!("db{i}")).collect();
        let bulk = format!(
            "az sql server key create --server s --kid k\naz sql failover-group update --name fg --remove-db {}",
            names.join(" ")
        );
        assert_eq!(
            short_command(&bulk),
            "az sql server key create --server s --kid k\naz sql failover-group update --name fg --remove-db db1 db2 … (7 more)"
        );
    }
}
