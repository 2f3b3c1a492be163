//! View > Customer app: a simulated application querying a database every simulated minute
//! (see [`crate::service::customer_app`]), drawn as a business sees an outage: queries
//! answered (green) and refused (red, by error number) over simulated time, "Last 60 min:
//! 47 ok, 13 failed (40613)", "Down since 09:14, 6 min" and the first error's text. When the
//! vaults are served on localhost, the requests of students' own SDK clients show on the
//! same chart.
//!
//! The app itself is simulation state (it replays and is saved with the workspace); this
//! window only picks a database, starts and stops it through the operations layer, and
//! draws what its samples hold.

use super::blades::{Action, Change, Invocation};
use super::widgets::{AMBER, BLUE, GREEN, RED};
use crate::model::*;
use crate::service::customer_app::{self as service, Bucket, Summary};
use std::sync::{Arc, Mutex};

/// Where a blade asks for the window (the database blade's "Start customer app"): the
/// database to show, in the context's temporary data.
pub fn request_id() -> egui::Id {
    egui::Id::unique("customer-app-show")
}

/// What the chart spans.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Span {
    #[default]
    Hour,
    SixHours,
    Day,
    Week,
}

impl Span {
    pub const ALL: [Span; 4] = [Span::Hour, Span::SixHours, Span::Day, Span::Week];

    pub fn label(self) -> &'static str {
        match self {
            Span::Hour => "1 h",
            Span::SixHours => "6 h",
            Span::Day => "24 h",
            Span::Week => "7 d",
        }
    }

    /// "Last 60 min".
    pub fn last(self) -> &'static str {
        match self {
            Span::Hour => "Last 60 min",
            Span::SixHours => "Last 6 h",
            Span::Day => "Last 24 h",
            Span::Week => "Last 7 days",
        }
    }

    /// Bars and the width of each.
    fn buckets(self) -> (usize, Duration) {
        match self {
            Span::Hour => (60, Duration::minutes(1)),
            Span::SixHours => (72, Duration::minutes(5)),
            Span::Day => (96, Duration::minutes(15)),
            Span::Week => (168, Duration::hours(1)),
        }
    }

    fn length(self) -> Duration {
        let (n, w) = self.buckets();
        Duration(w.0 * n as i64)
    }
}

/// What the chart was last drawn with (tests read it: the chart has the samples).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Plotted {
    pub answered: u64,
    /// Refused queries by error number.
    pub refused: Vec<(String, u64)>,
    /// SDK clients' requests: answered, refused.
    pub sdk: (u64, u64),
    pub bars: usize,
}

/// The SDK series and what it was computed from: the journal, the clock, the span.
type SdkCache = (imbl::Vector<VaultRequest>, i64, Span, Vec<(u64, u64)>);

/// The window's state.
#[derive(Default)]
pub struct CustomerAppPanel {
    pub open: bool,
    pub server: String,
    pub database: String,
    pub span: Span,
    /// The outcome of the last Start or Stop asked for here.
    outcome: Arc<Mutex<Option<Result<String, String>>>>,
    /// The SDK series, by (journal, clock, span): recomputed only when one moves.
    sdk_cache: Option<SdkCache>,
    pub plotted: Option<Plotted>,
}

/// `HH:MM` of an instant.
fn hhmm(t: Timestamp) -> String {
    let iso = t.to_iso();
    iso.get(11..16).unwrap_or(&iso).to_string()
}

/// `MM-DD HH:MM` of an instant (spans longer than a day).
fn day_hhmm(t: Timestamp) -> String {
    let iso = t.to_iso();
    match (iso.get(5..10), iso.get(11..16)) {
        (Some(d), Some(h)) => format!("{d} {h}"),
        _ => iso,
    }
}

/// Opens the app on the database a blade asked for (its "Start customer app"), if one did.
pub fn take_request(p: &mut CustomerAppPanel, ctx: &egui::Context) {
    if let Some((server, database)) =
        ctx.data_mut(|d| d.remove_temp::<(String, String)>(request_id()))
    {
        p.open = true;
        p.server = server;
        p.database = database;
    }
}

/// Where the floating window's top opens at the least, in points below the screen's top:
/// under the top bar and a blade's header at 100 % (its title, Maximise and ×).
const WINDOW_TOP: f32 = 104.0;

fn blade_buttons_id() -> egui::Id {
    egui::Id::unique("customer-app-under-blade-buttons")
}

/// Notes the bottom of a blade's Maximise and × (drawn this frame), which the window opens
/// below.
pub fn note_blade_buttons(ctx: &egui::Context, bottom: f32) {
    let pass = ctx.cumulative_pass_nr();
    ctx.data_mut(|d| {
        let lowest = match d.get_temp::<(u64, f32)>(blade_buttons_id()) {
            Some((p, b)) if p == pass => b.max(bottom),
            _ => bottom,
        };
        d.insert_temp(blade_buttons_id(), (pass, lowest));
    });
}

/// The bottom of this pass's blades' Maximise and ×, if a blade was drawn.
fn blade_buttons(ctx: &egui::Context) -> Option<f32> {
    let pass = ctx.cumulative_pass_nr();
    ctx.data(|d| d.get_temp::<(u64, f32)>(blade_buttons_id()))
        .and_then(|(p, b)| (p == pass).then_some(b))
}

/// The window, when open (each frame). It reads the workspace; its own state (which
/// database, the span) is `p`; Start and Stop are returned as requests.
pub fn window(
    ws: &Workspace,
    busy: bool,
    serving: bool,
    p: &mut CustomerAppPanel,
    ctx: &egui::Context,
) -> Vec<Action> {
    take_request(p, ctx);
    if !p.open {
        return Vec::new();
    }
    choose_default(ws, p);
    let mut out: Vec<Action> = Vec::new();
    let screen = ctx.content_rect();
    // Below the top bar and the blade's header (the clock, and the blade's Maximise and ×,
    // stay in reach: a walk found the window opened over them) and above the status bar;
    // at the right, clear of a blade's row of tabs at 100 %.
    let top = (screen.top() + WINDOW_TOP).max(blade_buttons(ctx).map_or(f32::MIN, |b| b + 8.0));
    let size = egui::vec2(
        (screen.width() - 24.0).clamp(200.0, 520.0),
        (screen.bottom() - top - 40.0).clamp(150.0, 420.0),
    );
    let mut open = true;
    egui::Window::new("Customer app")
        .id(egui::Id::unique("customer-app-window"))
        .open(&mut open)
        .default_size(size)
        .default_pos(egui::pos2(screen.right() - size.x - 12.0, top))
        .max_width(screen.width() - 8.0)
        .max_height(screen.height() - 16.0)
        .constrain(true)
        .resizable(true)
        .collapsible(true)
        .scroll(false)
        .show(ctx, |ui| {
            // Down to just above the status bar (the window does not scroll: the chart
            // shrinks to fit the screen, at 200 % too).
            let bottom = ui.ctx().content_rect().bottom() - 48.0;
            contents(ws, busy, serving, p, ui, &mut out, bottom)
        });
    if !open {
        p.open = false;
    }
    out
}

/// The app docked in a side panel of its own (the presenter view: a floating window would
/// hide the chain strip and the picture, which give it this room instead).
pub fn docked(
    ws: &Workspace,
    busy: bool,
    serving: bool,
    p: &mut CustomerAppPanel,
    ui: &mut egui::Ui,
) -> Vec<Action> {
    choose_default(ws, p);
    let mut out: Vec<Action> = Vec::new();
    ui.horizontal(|ui| {
        ui.strong("Customer app");
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui
                .button("Close")
                .on_hover_text("Close the customer app (View > Customer app opens it again)")
                .clicked()
            {
                p.open = false;
            }
        });
    });
    let bottom = ui.max_rect().bottom() - 4.0;
    egui::ScrollArea::vertical()
        .auto_shrink([false, false])
        .show(ui, |ui| {
            contents(ws, busy, serving, p, ui, &mut out, bottom)
        });
    out
}

/// A database to show when none is chosen: the newest running app's, else the first
/// database of the first server.
fn choose_default(ws: &Workspace, p: &mut CustomerAppPanel) {
    if ws
        .server(&p.server)
        .is_some_and(|s| s.database(&p.database).is_some())
    {
        return;
    }
    let newest = ws
        .customer_apps
        .iter()
        .filter(|a| a.running())
        .max_by_key(|a| a.started);
    if let Some(a) = newest {
        p.server = a.server.clone();
        p.database = a.database.clone();
    } else if let Some(s) = ws.servers.iter().find(|s| !s.databases.is_empty()) {
        p.server = s.name.clone();
        p.database = s
            .databases
            .first()
            .map(|d| d.name.clone())
            .unwrap_or_default();
    }
}

/// The app's pickers, state and chart; the chart reaches down to `bottom` (within bounds).
fn contents(
    ws: &Workspace,
    busy: bool,
    serving: bool,
    p: &mut CustomerAppPanel,
    ui: &mut egui::Ui,
    out: &mut Vec<Action>,
    bottom: f32,
) {
    let current = ui
        .horizontal_wrapped(|ui| {
            picker(ws, p, ui);
            let (server, database) = (p.server.clone(), p.database.clone());
            let current = ws
                .customer_apps
                .iter()
                .find(|a| a.is_for(&server, &database))
                .cloned();
            let running = current.as_ref().is_some_and(CustomerApp::running);
            if running {
                if ui
                    .add_enabled(!busy, egui::Button::new("Stop"))
                    .on_disabled_hover_text(crate::ui::widgets::BUSY_WHY)
                    .on_hover_text("Stop querying (the samples stay)")
                    .clicked()
                {
                    let (s, d) = (server.clone(), database.clone());
                    out.push(queue(
                        p,
                        Invocation::new("sim app stop")
                            .arg("--server", s)
                            .arg("--database", d.clone()),
                        move |_| format!("Customer app on '{d}' stopped."),
                    ));
                }
            } else if ui
                .add_enabled(
                    !busy && !server.is_empty() && !database.is_empty(),
                    egui::Button::new("Start"),
                )
                .on_disabled_hover_text(crate::ui::widgets::why(&[
                    (busy, crate::ui::widgets::BUSY_WHY),
                    (
                        server.is_empty() || database.is_empty(),
                        "Pick the server and the database first.",
                    ),
                ]))
                .on_hover_text(
                    "Query the database every simulated minute, as a business's app would",
                )
                .clicked()
            {
                let (s, d) = (server.clone(), database.clone());
                out.push(queue(
                    p,
                    Invocation::new("sim app start")
                        .arg("--server", s)
                        .arg("--database", d.clone()),
                    move |_| {
                        format!("Customer app started: it queries '{d}' every simulated minute.")
                    },
                ));
            }
            let others: Vec<(String, String)> = ws
                .customer_apps
                .iter()
                .filter(|a| a.running() && !a.is_for(&server, &database))
                .map(|a| (a.server.clone(), a.database.clone()))
                .collect();
            for (s, d) in others {
                if ui
                    .small_button(format!("{d} (running)"))
                    .on_hover_text(format!("Show the app on {d} of {s}"))
                    .clicked()
                {
                    p.server = s;
                    p.database = d;
                }
            }
            current
        })
        .inner;
    let said = p.outcome.lock().map(|o| o.clone()).unwrap_or(None);
    if let Some(Err(e)) = &said {
        super::widgets::error_box(ui, e);
    }
    let Some(a) = current else {
        ui.label(
            "A simulated application that queries the database every simulated minute, as a business's app would. Start runs one; then revoke the server's key access and play the clock.",
        );
        p.plotted = None;
        return;
    };
    // The chart right under the state line: at 200 % in the presenter view's dock the first
    // error's text and the caption above it pushed it below the fold.
    let now = ws.now();
    let summary: Summary = service::summary(&a, now - p.span.length(), now);
    status(ws, p, ui, &a, &summary);
    let error = first_error(p, &summary, now);
    let below = room_below(ui, error.as_ref());
    chart(ws, serving, p, ui, &a, bottom - below);
    match error {
        Some((true, text)) => super::widgets::error_box(ui, &text),
        Some((false, text)) => super::widgets::info_box(ui, &text),
        None => {}
    }
}

/// Server and database pickers.
fn picker(ws: &Workspace, p: &mut CustomerAppPanel, ui: &mut egui::Ui) {
    {
        let before = p.server.clone();
        let l = ui.label("Server");
        egui::ComboBox::from_id_salt("customer-app-server")
            .selected_text(if p.server.is_empty() {
                "Server"
            } else {
                &p.server
            })
            .show_ui(ui, |ui| {
                for s in &ws.servers {
                    ui.selectable_value(&mut p.server, s.name.clone(), &s.name);
                }
            })
            .response
            .labelled_by(l.id);
        if p.server != before {
            p.database = ws
                .server(&p.server)
                .and_then(|s| s.databases.first())
                .map(|d| d.name.clone())
                .unwrap_or_default();
        }
        let databases = super::widgets::database_names(ws, &p.server);
        let l = ui.label("Database");
        egui::ComboBox::from_id_salt("customer-app-database")
            .selected_text(if p.database.is_empty() {
                "Database"
            } else {
                &p.database
            })
            .show_ui(ui, |ui| {
                egui::ScrollArea::vertical().max_height(240.0).show_rows(
                    ui,
                    18.0,
                    databases.len(),
                    |ui, rows| {
                        for d in &databases[rows] {
                            ui.selectable_value(&mut p.database, d.clone(), d);
                        }
                    },
                );
            })
            .response
            .labelled_by(l.id);
    }
}

/// Asks for a start or stop; its outcome shows in the window.
fn queue(
    p: &CustomerAppPanel,
    ask: Invocation,
    wording: impl FnOnce(&serde_json::Value) -> String + Send + 'static,
) -> Action {
    let slot = p.outcome.clone();
    Action::change(
        Change::request(ask, move |out, _| wording(out)).reported(move |_, r| {
            if let Ok(mut s) = slot.lock() {
                *s = Some(r.clone());
            }
        }),
    )
}

/// The summary line, the outage the app is in, and the first error.
fn status(ws: &Workspace, p: &CustomerAppPanel, ui: &mut egui::Ui, a: &CustomerApp, s: &Summary) {
    let now = ws.now();
    let span = p.span;
    let state = if a.running() {
        format!("Running since {}", hhmm(a.started))
    } else {
        format!(
            "Stopped at {}",
            a.stopped.map(hhmm).unwrap_or_else(|| "?".into())
        )
    };
    ui.strong(format!("{}: {}", span.last(), s.counts_text()));
    ui.horizontal_wrapped(|ui| {
        match (s.down_since, a.last_outcome()) {
            (Some(since), Some(SampleOutcome::Failed { code, .. })) => {
                let minutes = (now - since).0 / 60;
                ui.colored_label(
                    super::widgets::ink(ui, RED),
                    egui::RichText::new(format!(
                        "Down since {}, {minutes} min ({code})",
                        hhmm(since)
                    ))
                    .strong(),
                );
            }
            (_, Some(SampleOutcome::Ok)) => {
                let last = a.runs.back().map(|r| r.last(a.every));
                ui.colored_label(
                    super::widgets::ink(ui, GREEN),
                    format!(
                        "Up: last query answered at {}",
                        last.map(hhmm).unwrap_or_default()
                    ),
                );
            }
            _ => {
                ui.label("No query yet: the first runs at the next simulated minute.");
            }
        }
        ui.label(egui::RichText::new(state).weak());
    });
}

/// The first error of the span, shown under the chart: red while the outage lasts, a note
/// once the app answers again (`(live, text)`).
fn first_error(p: &CustomerAppPanel, s: &Summary, now: Timestamp) -> Option<(bool, String)> {
    let e = s.first_error.as_ref()?;
    let (at, code) = s
        .first_error_at
        .clone()
        .unwrap_or_else(|| (now, String::new()));
    Some(if s.down_since.is_some() {
        (
            true,
            format!("First error of this outage, at {}: ({code}) {e}", hhmm(at)),
        )
    } else {
        // Past: the app answers again. Not a red box that reads as a live failure.
        (
            false,
            format!(
                "Recovered. The first error in {} was at {}: ({code}) {e}",
                p.span.last().to_lowercase(),
                hhmm(at)
            ),
        )
    })
}

/// The height the caption and the first error's box take under the chart at this width.
fn room_below(ui: &egui::Ui, error: Option<&(bool, String)>) -> f32 {
    let row = ui.text_style_height(&egui::TextStyle::Body);
    let spacing = ui.spacing().item_spacing.y;
    let width = ui.available_width();
    let lines = |text: &str, wrap: f32| {
        ui.painter()
            .layout(
                text.to_owned(),
                egui::TextStyle::Body.resolve(ui.style()),
                egui::Color32::WHITE,
                wrap.max(40.0),
            )
            .size()
            .y
    };
    // The caption's two lines at most (three figures, SDK clients' two more).
    let mut h = 2.0 * row + 2.0 * spacing;
    if let Some((_, text)) = error {
        h += lines(text, width - 16.0) + 16.0 + spacing;
    }
    h
}

/// The colour of failures with error `code` (40613 red; others darker reds).
/// A y-axis mark's label on the customer app's chart: whole counts only.
fn query_count_mark(value: f64) -> String {
    if value >= 0.0 && (value - value.round()).abs() < 1e-6 {
        format!("{}", value.round() as u64)
    } else {
        String::new()
    }
}

/// A legend entry: a swatch and its name as one widget, so the row wraps between entries
/// (a nested row did not wrap: "SDK requests refused" widened the presenter's dock past
/// its edges at 150 %, cutting the app's text on both sides).
fn swatch(ui: &mut egui::Ui, name: &str, colour: egui::Color32) {
    let text = ui.visuals().text_color();
    let galley = ui.painter().layout_no_wrap(
        name.to_string(),
        egui::TextStyle::Body.resolve(ui.style()),
        text,
    );
    let side = ui.text_style_height(&egui::TextStyle::Body) * 0.7;
    let height = galley.size().y.max(side);
    let size = egui::vec2(side + 4.0 + galley.size().x, height);
    let (r, response) = ui.allocate_exact_size(size, egui::Sense::hover());
    let square = egui::Rect::from_center_size(
        egui::pos2(r.left() + side / 2.0, r.center().y),
        egui::vec2(side, side),
    );
    ui.painter().rect_filled(square, 2.0, colour);
    ui.painter().galley(
        egui::pos2(r.left() + side + 4.0, r.center().y - galley.size().y / 2.0),
        galley,
        text,
    );
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Label, true, name));
}

fn failure_colour(i: usize) -> egui::Color32 {
    [
        RED,
        egui::Color32::from_rgb(140, 20, 20),
        egui::Color32::from_rgb(230, 90, 80),
    ][i % 3]
}

/// Bars per bucket (queries answered, refused by error number) and the SDK clients' lines.
fn chart(
    ws: &Workspace,
    serving: bool,
    p: &mut CustomerAppPanel,
    ui: &mut egui::Ui,
    a: &CustomerApp,
    bottom: f32,
) {
    use egui_plot::{Bar, BarChart, Line, Plot, PlotPoints};
    let span = p.span;
    let (n, width) = span.buckets();
    let now = ws.now();
    let w = width.0;
    // The last bar holds the current instant.
    let end = Timestamp((now.0.div_euclid(w) + 1) * w);
    let from = end - Duration(w * n as i64);
    let buckets: Vec<Bucket> = service::buckets(a, from, width, n);
    let journal = ws.journal.requests();
    let sdk = match &p.sdk_cache {
        Some((j, t, s, v)) if j.ptr_eq(&journal) && *t == now.0 && *s == span => v.clone(),
        _ => {
            let v = service::sdk_buckets(ws, from, width, n);
            p.sdk_cache = Some((journal, now.0, span, v.clone()));
            v
        }
    };
    let sdk_total = sdk.iter().fold((0, 0), |(o, r), (a, b)| (o + a, r + b));
    let show_sdk = serving || sdk_total != (0, 0);
    let mut codes: Vec<String> = buckets
        .iter()
        .flat_map(|b| b.failed.keys().cloned())
        .collect();
    codes.sort();
    codes.dedup();
    let plotted = Plotted {
        answered: buckets.iter().map(|b| b.ok).sum(),
        refused: codes
            .iter()
            .map(|c| {
                let n = buckets.iter().filter_map(|b| b.failed.get(c)).sum();
                (c.clone(), n)
            })
            .collect(),
        sdk: sdk_total,
        bars: buckets
            .iter()
            .filter(|b| b.ok > 0 || !b.failed.is_empty())
            .count(),
    };
    let per = if w == 60 {
        "minute".to_string()
    } else {
        width.human()
    };
    let mut caption = format!(
        "One bar a simulated {per}: {} answered, {} refused.",
        plotted.answered,
        plotted.refused.iter().map(|c| c.1).sum::<u64>()
    );
    if show_sdk {
        caption.push_str(&format!(
            " SDK clients (vaults on localhost): {} answered, {} refused.",
            sdk_total.0, sdk_total.1
        ));
    }
    // The spans, then the legend on the same row (a legend inside the plot covered the
    // first bars): what each colour is, as swatches.
    let mut legend: Vec<(String, egui::Color32)> = vec![("Answered".into(), GREEN)];
    legend.extend(
        codes
            .iter()
            .enumerate()
            .map(|(i, c)| (format!("Failed ({c})"), failure_colour(i))),
    );
    if show_sdk {
        legend.push(("SDK requests answered".into(), BLUE));
        legend.push(("SDK requests refused".into(), AMBER));
    }
    ui.horizontal_wrapped(|ui| {
        for s in Span::ALL {
            ui.selectable_value(&mut p.span, s, s.label());
        }
        ui.add_space(6.0);
        for (name, colour) in &legend {
            swatch(ui, name, *colour);
        }
    });
    let long = span.length() > Duration::days(1);
    let label = move |x: f64| {
        let t = from + Duration(x as i64);
        if long { day_hhmm(t) } else { hhmm(t) }
    };
    let bar_w = w as f64 * 0.85;
    let centre = |i: usize| (i as f64 + 0.5) * w as f64;
    // Every series has a bar for every bucket (stacking pairs bars by position).
    let bar = |i: usize, k: u64, colour: egui::Color32| {
        Bar::new(centre(i), k as f64)
            .width(bar_w)
            .fill(colour)
            .stroke(egui::Stroke::new(if k > 0 { 1.0 } else { 0.0 }, colour))
    };
    let answered: Vec<Bar> = buckets
        .iter()
        .enumerate()
        .map(|(i, b)| bar(i, b.ok, GREEN))
        .collect();
    let height = (bottom - ui.cursor().top()).clamp(90.0, 260.0);
    let x_max = (n as i64 * w) as f64;
    Plot::new(("customer-app-chart", &a.server, &a.database))
        .height(height)
        .include_x(0.0)
        .include_x(x_max)
        .include_y(0.0)
        .include_y(1.0)
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .x_axis_formatter(move |mark, _| label(mark.value))
        // Queries are counted in whole numbers: the marks between (0.1 … 0.9 of a query on
        // a one-query-a-minute chart) are not labelled.
        .y_axis_formatter(|mark, _| query_count_mark(mark.value))
        .label_formatter(move |hover| {
            let (name, at) = match hover {
                egui_plot::HoverPosition::NearDataPoint {
                    plot_name,
                    position,
                    ..
                } => (*plot_name, *position),
                egui_plot::HoverPosition::Elsewhere { position } => ("", *position),
            };
            let t = from + Duration(at.x as i64);
            Some(if name.is_empty() {
                hhmm(t)
            } else {
                format!("{name}\n{} · {:.0}", hhmm(t), at.y)
            })
        })
        .show(ui, |plot| {
            let ok = BarChart::new("Answered", answered).color(GREEN);
            let mut below: Vec<BarChart> = Vec::new();
            for (i, code) in codes.iter().enumerate() {
                let bars: Vec<Bar> = buckets
                    .iter()
                    .enumerate()
                    .map(|(j, b)| {
                        bar(
                            j,
                            b.failed.get(code).copied().unwrap_or(0),
                            failure_colour(i),
                        )
                    })
                    .collect();
                let mut chart =
                    BarChart::new(format!("Failed ({code})"), bars).color(failure_colour(i));
                let under: Vec<&BarChart> = std::iter::once(&ok).chain(below.iter()).collect();
                chart = chart.stack_on(&under);
                below.push(chart);
            }
            plot.bar_chart(ok);
            for c in below {
                plot.bar_chart(c);
            }
            if show_sdk {
                let line = |f: fn(&(u64, u64)) -> u64| -> PlotPoints<'static> {
                    sdk.iter()
                        .enumerate()
                        .map(|(i, v)| [centre(i), f(v) as f64])
                        .collect()
                };
                plot.line(
                    Line::new("SDK requests answered", line(|v| v.0))
                        .color(BLUE)
                        .width(2.0),
                );
                plot.line(
                    Line::new("SDK requests refused", line(|v| v.1))
                        .color(AMBER)
                        .width(2.0),
                );
            }
        });
    ui.label(egui::RichText::new(caption).weak());
    p.plotted = Some(plotted);
}

#[cfg(test)]
mod tests {
    /// Found in walk 34: the chart's y axis read 0.1, 0.2 … 1 of a query.
    #[test]
    fn the_y_axis_labels_whole_query_counts_only() {
        assert_eq!(super::query_count_mark(0.0), "0");
        assert_eq!(super::query_count_mark(1.0), "1");
        assert_eq!(super::query_count_mark(20.0), "20");
        assert_eq!(super::query_count_mark(0.1), "");
        assert_eq!(super::query_count_mark(0.5), "");
        assert_eq!(super::query_count_mark(-1.0), "");
    }
}
