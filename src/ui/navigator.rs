//! The resource navigator on the left: resource groups, their servers (with their
//! databases) and vaults, as one virtualised list. Only the rows in view are laid out, so
//! an estate of 50,000 databases costs a frame what twenty rows cost. Servers open lazily
//! (small ones start open); the search filters every level and Enter opens the first match.

use super::ConsoleApp;
use super::app_action::AppAction;
use super::blades::{Action, BladeKind, VaultForms};
use super::widgets::{self, RED};
use crate::model::*;
use egui::RichText;
use std::collections::HashMap;

/// A server with at most this many databases starts expanded.
const OPEN_BY_DEFAULT: usize = 20;

/// What the person has opened or closed in the tree, and the search text.
#[derive(Default)]
pub struct NavigatorState {
    pub filter: String,
    /// Groups (`g:NAME`) and servers (`s:NAME`) opened or closed by hand.
    expanded: HashMap<String, bool>,
}

impl NavigatorState {
    fn is_open(&self, key: &str, default: bool) -> bool {
        self.expanded.get(key).copied().unwrap_or(default)
    }

    fn toggle(&mut self, key: String, default: bool) {
        let now = self.is_open(&key, default);
        self.expanded.insert(key, !now);
    }

    /// Opens every group and server.
    pub fn expand_all(&mut self, ws: &Workspace) {
        for g in &ws.resource_groups {
            self.expanded.insert(format!("g:{}", g.name), true);
        }
        for s in &ws.servers {
            self.expanded.insert(format!("s:{}", s.name), true);
        }
    }

    /// Closes every group and server.
    pub fn collapse_all(&mut self, ws: &Workspace) {
        for g in &ws.resource_groups {
            self.expanded.insert(format!("g:{}", g.name), false);
        }
        for s in &ws.servers {
            self.expanded.insert(format!("s:{}", s.name), false);
        }
    }
}

/// One line of the tree.
enum Row<'a> {
    Group { g: &'a ResourceGroup, open: bool },
    Server { s: &'a SqlServer, open: bool },
    Database { s: &'a SqlServer, d: &'a Database },
    Vault { v: &'a KeyVault },
    Synapse { w: &'a SynapseWorkspace },
}

/// Case-insensitive substring test without allocating (`needle` is lower case).
fn contains_ci(hay: &str, needle: &str) -> bool {
    needle.is_empty()
        || hay
            .as_bytes()
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// The rows the tree shows now, top to bottom.
fn rows<'a>(ws: &'a Workspace, nav: &NavigatorState, filter: &str) -> Vec<Row<'a>> {
    let searching = !filter.is_empty();
    let hit = |name: &str| contains_ci(name, filter);
    let mut out = Vec::new();
    // The portal's subscription filter: the selected subscription's resources.
    for g in ws
        .resource_groups
        .iter()
        .filter(|g| g.subscription == ws.current_subscription)
    {
        let group_hit = hit(&g.name);
        let servers: Vec<&SqlServer> = ws
            .servers
            .iter()
            .filter(|s| s.resource_group == g.name && s.subscription == g.subscription)
            .map(|s| &**s)
            .collect();
        let vaults: Vec<&KeyVault> = ws
            .vaults
            .iter()
            .filter(|v| {
                v.resource_group == g.name
                    && v.subscription == g.subscription
                    && v.deleted.is_none()
            })
            .collect();
        let workspaces: Vec<&SynapseWorkspace> = ws
            .synapse
            .workspaces
            .iter()
            .filter(|w| w.resource_group == g.name && w.subscription == g.subscription)
            .collect();
        if searching
            && !group_hit
            && !workspaces.iter().any(|w| hit(&w.name))
            && !servers
                .iter()
                .any(|s| hit(&s.name) || s.databases.iter().any(|d| hit(&d.name)))
            && !vaults.iter().any(|v| hit(&v.name))
        {
            continue;
        }
        let open = searching || nav.is_open(&format!("g:{}", g.name), true);
        out.push(Row::Group { g, open });
        if !open {
            continue;
        }
        for s in servers {
            let server_hit = group_hit || hit(&s.name);
            let dbs_hit = searching && s.databases.iter().any(|d| hit(&d.name));
            if searching && !server_hit && !dbs_hit {
                continue;
            }
            let open = if searching {
                dbs_hit
            } else {
                nav.is_open(
                    &format!("s:{}", s.name),
                    s.databases.len() <= OPEN_BY_DEFAULT,
                )
            };
            out.push(Row::Server { s, open });
            if open {
                out.extend(
                    s.databases
                        .iter()
                        .filter(|d| !searching || hit(&d.name))
                        .map(|d| Row::Database { s, d }),
                );
            }
        }
        out.extend(
            vaults
                .into_iter()
                .filter(|v| !searching || group_hit || hit(&v.name))
                .map(|v| Row::Vault { v }),
        );
        out.extend(
            workspaces
                .into_iter()
                .filter(|w| !searching || group_hit || hit(&w.name))
                .map(|w| Row::Synapse { w }),
        );
    }
    out
}

/// The blade a row opens.
fn blade_for(row: &Row<'_>) -> Option<BladeKind> {
    match row {
        Row::Group { .. } => None,
        Row::Server { s, .. } => Some(BladeKind::Server {
            server: s.name.clone(),
            message: None,
        }),
        Row::Database { s, d } => Some(BladeKind::Database {
            server: s.name.clone(),
            db: d.name.clone(),
            message: None,
        }),
        Row::Vault { v } => Some(BladeKind::Vault {
            vault: v.name.clone(),
            forms: VaultForms::default(),
        }),
        Row::Synapse { w } => Some(BladeKind::SynapseWorkspace {
            workspace: w.name.clone(),
            form: Default::default(),
        }),
    }
}

/// What the first blade shows: (server, database) or vault, to mark it in the tree.
fn open_resource(app: &ConsoleApp) -> (Option<&str>, Option<&str>, Option<&str>) {
    match app.blades.first().map(|b| &b.kind) {
        Some(BladeKind::Server { server, .. }) => (Some(server), None, None),
        Some(BladeKind::Database { server, db, .. }) => (Some(server), Some(db), None),
        Some(BladeKind::Vault { vault, .. }) => (None, None, Some(vault)),
        _ => (None, None, None),
    }
}

/// The navigator keeps the width its panel has (the default, or what the person dragged
/// it to): what is wider than that (a long name, badges that appear when databases go
/// Inaccessible or change) scrolls sideways instead of widening the panel, which would
/// move every blade mid-click.
///
/// It reads the app; its own state (the search text, what is expanded) is `nav`; opening a
/// resource or choosing a subscription is returned as an [`Action`].
pub fn show(app: &ConsoleApp, nav: &mut NavigatorState, ui: &mut egui::Ui) -> Vec<Action> {
    let rect = ui.available_rect_before_wrap();
    let mut inner = ui.new_child(
        egui::UiBuilder::new()
            .max_rect(rect)
            .layout(egui::Layout::top_down(egui::Align::Min)),
    );
    inner.shrink_clip_rect(rect);
    let actions = contents(app, nav, &mut inner);
    // The panel measures what its contents used: exactly the width it has.
    ui.advance_cursor_after_rect(rect);
    actions
}

fn contents(app: &ConsoleApp, nav: &mut NavigatorState, ui: &mut egui::Ui) -> Vec<Action> {
    let mut out: Vec<Action> = Vec::new();
    ui.add_space(4.0);
    let search = widgets::text_field(ui, "Search", &mut nav.filter, "resources");
    let enter = search.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
    ui.horizontal(|ui| {
        if ui.small_button("Expand all").clicked() {
            nav.expand_all(&app.ws);
        }
        if ui.small_button("Collapse all").clicked() {
            nav.collapse_all(&app.ws);
        }
    });
    let filter = nav.filter.trim().to_ascii_lowercase();
    let sub = app
        .ws
        .subscription()
        .map(|s| s.name.clone())
        .unwrap_or_default();
    if app.ws.subscriptions.len() > 1 {
        // As the portal's subscription filter; the same as `az account set`.
        let mut chosen: Option<Subscription> = None;
        ui.horizontal(|ui| {
            let label = ui.label(RichText::new("Subscription:").strong());
            egui::ComboBox::from_id_salt("nav-subscription")
                .selected_text(&sub)
                .show_ui(ui, |ui| {
                    for s in &app.ws.subscriptions {
                        if ui
                            .selectable_label(s.id == app.ws.current_subscription, &s.name)
                            .clicked()
                        {
                            chosen = Some(s.clone());
                        }
                    }
                })
                .response
                .labelled_by(label.id);
        });
        if let Some(s) = chosen.filter(|s| s.id != app.ws.current_subscription) {
            let id = s.id.0.clone();
            out.push(Action::request(
                crate::ui::blades::Invocation::new("az account set").arg("--subscription", id),
                |_, ws| {
                    let name = ws
                        .subscriptions
                        .iter()
                        .find(|s| s.id == ws.current_subscription)
                        .map(|s| s.name.clone())
                        .unwrap_or_default();
                    format!("Subscription '{name}' selected.")
                },
            ));
        }
    } else {
        ui.label(RichText::new(format!("Subscription: {sub}")).strong());
    }
    if app.ws.resource_groups.is_empty() {
        ui.label("No resources yet. Open the Cloud Shell and create some with az commands, or File > Open built-in demo.");
        return out;
    }
    let mut open: Option<BladeKind> = None;
    let mut toggle: Option<(String, bool)> = None;
    {
        let changes = &app.changes;
        let rows = rows(&app.ws, nav, &filter);
        if enter && !filter.is_empty() {
            open = rows.iter().find_map(blade_for);
        }
        if rows.is_empty() {
            ui.label(format!("Nothing matches '{}'.", nav.filter.trim()));
        }
        let (open_server, open_db, open_vault) = open_resource(app);
        let same = |a: Option<&str>, b: &str| a.is_some_and(|a| a.eq_ignore_ascii_case(b));
        let row_height = ui.spacing().interact_size.y + ui.spacing().item_spacing.y;
        // Once the tree is taller than the navigator it scrolls, and its floating scroll
        // bar is drawn over the rows' right edge (at 150 % it cut "4 !", "changed",
        // "Online"): the rows then end left of the thin bar, with a gap. (Hovering the bar
        // itself widens it over the rows, as every floating scroll bar does.)
        let scroll = &ui.spacing().scroll;
        let bar_room = if scroll.floating && rows.len() as f32 * row_height > ui.available_height()
        {
            scroll.floating_width + scroll.bar_outer_margin + 2.0
        } else {
            0.0
        };
        egui::ScrollArea::vertical()
            .auto_shrink([false, false])
            .show_rows(ui, row_height, rows.len(), |ui, range| {
                for row in &rows[range] {
                    ui.horizontal(|ui| {
                        ui.set_height(ui.spacing().interact_size.y);
                        ui.set_max_width((ui.available_width() - bar_room).max(0.0));
                        // Tight enough that a server's name and "4 down" fit the narrow
                        // navigator of 200 % on 1280x720 in full.
                        ui.spacing_mut().item_spacing.x = ROW_GAP;
                        match row {
                            Row::Group { g, open: is_open } => {
                                let arrow = if *is_open { "-" } else { "+" };
                                let label = format!("{arrow} {} ({})", g.name, g.location);
                                // A long name is shortened, whole on hover.
                                let name = egui::Button::selectable(
                                    false,
                                    RichText::new(label.as_str()).strong(),
                                )
                                .truncate();
                                let clicked = ui
                                    .add(name)
                                    .on_hover_text(&label)
                                    .clicked();
                                if clicked
                                {
                                    toggle = Some((format!("g:{}", g.name), true));
                                }
                            }
                            Row::Server { s, open: is_open } => {
                                ui.add_space(10.0);
                                let arrow = if *is_open { "-" } else { "+" };
                                if ui
                                    .small_button(arrow)
                                    .on_hover_text(if *is_open {
                                        "Hide the databases"
                                    } else {
                                        "Show the databases"
                                    })
                                    .clicked()
                                {
                                    toggle = Some((
                                        format!("s:{}", s.name),
                                        s.databases.len() <= OPEN_BY_DEFAULT,
                                    ));
                                }
                                // Only what needs attention: a restore or a recovery
                                // under way is progress, not a failure.
                                let (lost, region) = attention(&app.ws, s);
                                // The kind is always there, so the name never moves.
                                ui.label(
                                    RichText::new(match s.kind {
                                        ServerKind::SqlDatabaseServer => "SQL",
                                        ServerKind::ManagedInstance => "MI",
                                    })
                                    .small()
                                    .weak(),
                                )
                                .on_hover_text(s.kind.label());
                                let changed = changes.server(&s.name);
                                let badges = |short: bool| {
                                    let figure = |n: usize| {
                                        if short {
                                            short_figure(n)
                                        } else {
                                            n.to_string()
                                        }
                                    };
                                    let mut out = Vec::new();
                                    if lost > 0 {
                                        out.push(Badge::new(
                                            format!("{} !", figure(lost)),
                                            RED,
                                            format!(
                                                "{lost} database(s) Inaccessible: they lost access to their key"
                                            ),
                                        ));
                                    }
                                    if region > 0 {
                                        out.push(Badge::new(
                                            format!("{} down", figure(region)),
                                            widgets::AMBER,
                                            format!(
                                                "{region} database(s) unavailable: region {} is down",
                                                s.location
                                            ),
                                        ));
                                    }
                                    if changed {
                                        out.push(Badge::new(
                                            "changed".into(),
                                            widgets::AMBER,
                                            "Changed just now".into(),
                                        ));
                                    }
                                    out
                                };
                                let selected = same(open_server, &s.name) && open_db.is_none();
                                let count = format!("({})", s.databases.len());
                                let hover = format!(
                                    "{} · {} · {} database(s)",
                                    s.name,
                                    s.kind.label(),
                                    s.databases.len()
                                );
                                let count = (RichText::new(count).weak(), "databases");
                                if name_and_badges(
                                    ui,
                                    &s.name,
                                    selected,
                                    Some(count),
                                    Some(hover),
                                    badges,
                                )
                                .clicked()
                                {
                                    open = blade_for(row);
                                }
                            }
                            Row::Database { s, d } => {
                                ui.add_space(30.0);
                                // Every state its own mark, in a column of its own.
                                let mark = widgets::state_mark(&app.ws, s, d);
                                // The same width for every state: rows do not move.
                                widgets::mark_icon(ui, &mark, 14.0);
                                let selected = same(open_server, &s.name) && same(open_db, &d.name);
                                // A dedicated SQL pool (formerly SQL DW) under its server.
                                let dw = d.is_data_warehouse().then(|| {
                                    (
                                        RichText::new("DW").small().weak(),
                                        "Dedicated SQL pool (formerly SQL DW)",
                                    )
                                });
                                let changed = changes.database(&s.name, &d.name);
                                let badges = |_short: bool| {
                                    if changed {
                                        vec![Badge::new(
                                            mark.label.clone(),
                                            widgets::AMBER,
                                            "Changed just now".into(),
                                        )]
                                    } else {
                                        Vec::new()
                                    }
                                };
                                if name_and_badges(ui, &d.name, selected, dw, None, badges)
                                    .clicked()
                                {
                                    open = blade_for(row);
                                }
                            }
                            Row::Vault { v } => {
                                ui.add_space(10.0);
                                ui.label(RichText::new("KV").small().weak());
                                let selected = same(open_vault, &v.name);
                                if name_and_badges(ui, &v.name, selected, None, None, |_| {
                                    Vec::new()
                                })
                                .clicked()
                                {
                                    open = blade_for(row);
                                }
                            }
                            Row::Synapse { w } => {
                                ui.add_space(10.0);
                                ui.label(RichText::new("SYN").small().weak())
                                    .on_hover_text("Synapse workspace");
                                // As servers show their databases: a count, only when
                                // there is one.
                                let count = (!w.pools.is_empty()).then(|| {
                                    (
                                        RichText::new(format!("({})", w.pools.len())).weak(),
                                        "dedicated SQL pools",
                                    )
                                });
                                let badges = |_short: bool| {
                                    if w.awaiting_activation() {
                                        vec![Badge::new(
                                            "not activated".into(),
                                            widgets::AMBER,
                                            "Awaiting activation of its customer-managed key"
                                                .into(),
                                        )]
                                    } else if w.cmk_status == Some(CmkStatus::Failed) {
                                        vec![Badge::new(
                                            "failed".into(),
                                            RED,
                                            "Its customer-managed key failed".into(),
                                        )]
                                    } else {
                                        Vec::new()
                                    }
                                };
                                if name_and_badges(ui, &w.name, false, count, None, badges)
                                    .clicked()
                                {
                                    open = blade_for(row);
                                }
                            }
                        }
                    });
                }
            });
    }
    if let Some((key, default)) = toggle {
        nav.toggle(key, default);
    }
    if let Some(kind) = open {
        out.push(AppAction::OpenRoot(kind).into());
    }
    out
}

/// How many databases of `s` need attention: (Inaccessible, unavailable because the
/// server's region is down).
fn attention(ws: &Workspace, s: &SqlServer) -> (usize, usize) {
    let region_down = ws.continuity.region_outage(&s.location, ws.now()).is_some();
    let lost = s
        .databases
        .iter()
        .filter(|d| matches!(d.state, DatabaseState::Inaccessible { .. }))
        .count();
    let region = if region_down {
        s.databases.len() - lost
    } else {
        0
    };
    (lost, region)
}

/// The space between a row's parts.
const ROW_GAP: f32 = 5.0;
/// A badge's margin left and right of its word.
const PILL_MARGIN: i8 = 4;

/// A badge of the navigator: [`badge`]'s pill with narrower margins.
fn pill(ui: &mut egui::Ui, text: &str, color: egui::Color32) -> egui::Response {
    let rich = RichText::new(text)
        .color(crate::ui::widgets::text_on(color))
        .strong();
    egui::Frame::new()
        .fill(color)
        .corner_radius(9.0)
        .inner_margin(egui::Margin::symmetric(PILL_MARGIN, 2))
        .show(ui, |ui| ui.add(egui::Label::new(rich).extend()))
        .response
}

/// A coloured pill on a row's right, and what hovering it says.
struct Badge {
    text: String,
    colour: egui::Color32,
    hover: String,
}

impl Badge {
    fn new(text: String, colour: egui::Color32, hover: String) -> Self {
        Self {
            text,
            colour,
            hover,
        }
    }
}

/// What a row shows after its lead (indent, arrow, kind): the name where it always is, what
/// follows the name (a count), and the badges in a column at the row's right. When the
/// row cannot hold it all (a narrow navigator, "1102 down"), the badges' figures shorten
/// ("1.1k down"), then what follows the name goes (it is on hover), then the name is
/// shortened with an ellipsis (whole on hover): a badge never moves the name, and is
/// never cut at the navigator's edge. The name's response.
fn name_and_badges(
    ui: &mut egui::Ui,
    name: &str,
    selected: bool,
    after: Option<(RichText, &str)>,
    hover: Option<String>,
    badges: impl Fn(bool) -> Vec<Badge>,
) -> egui::Response {
    let gap = ui.spacing().item_spacing.x;
    let body = egui::TextStyle::Body;
    let pill_width = |b: &Badge| {
        widgets::one_line_width(ui, RichText::new(&b.text).strong(), body.clone())
            + 2.0 * PILL_MARGIN as f32
            + gap
    };
    let pills = |list: &[Badge]| list.iter().map(pill_width).sum::<f32>();
    // Room to the navigator's edge, or to its scroll bar when the tree scrolls.
    let room = ui.available_width();
    let name_width =
        widgets::one_line_width(ui, name, body.clone()) + 2.0 * ui.spacing().button_padding.x;
    let after_width = after.as_ref().map_or(0.0, |(t, _)| {
        widgets::one_line_width(ui, t.clone(), body.clone()) + gap
    });
    let mut list = badges(false);
    if name_width + after_width + pills(&list) > room {
        list = badges(true);
    }
    let show_after = name_width + after_width + pills(&list) <= room;
    let name_room = (room - pills(&list) - if show_after { after_width } else { 0.0 }).max(0.0);
    let truncated = name_width > name_room;
    let height = ui.spacing().interact_size.y;
    let response = ui
        .allocate_ui_with_layout(
            egui::vec2(name_room.min(name_width), height),
            egui::Layout::left_to_right(egui::Align::Center),
            |ui| ui.add(egui::Button::selectable(selected, name).truncate()),
        )
        .inner;
    // What the row cannot show is said on hover.
    let mut said = hover.unwrap_or_default();
    if said.is_empty() && (truncated || !show_after) {
        said = match (&after, show_after) {
            (Some((t, what)), false) => format!("{name} {} {what}", t.text()),
            _ => name.to_string(),
        };
    }
    let response = if said.is_empty() {
        response
    } else {
        response.on_hover_text(said)
    };
    if show_after && let Some((t, what)) = after {
        ui.label(t).on_hover_text(what);
    }
    if !list.is_empty() {
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            for b in list.iter().rev() {
                pill(ui, &b.text, b.colour).on_hover_text(&b.hover);
            }
        });
    }
    response
}

/// 1102 as "1.1k" (a badge in a narrow row).
fn short_figure(n: usize) -> String {
    if n >= 1000 {
        format!("{:.1}k", n as f64 / 1000.0)
    } else {
        n.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::contains_ci;

    #[test]
    fn search_ignores_case_without_allocating() {
        assert!(contains_ci("Sales-EU", "sales"));
        assert!(contains_ci("db-0042", "0042"));
        assert!(!contains_ci("db", "dbx"));
        assert!(contains_ci("anything", ""));
    }
}
