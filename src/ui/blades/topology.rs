//! The topology picture the seed's figures draw: regions as areas, SQL servers (their
//! databases aggregated: "3 Online · 1 Inaccessible"), key vaults with their keys, and the
//! arrows between them: server → TDE protector key (red, with the failing check, when the
//! server cannot use it), server → keys its databases use as their own, server → linked
//! keys (the HA twin in another vault), and geo-replication between servers. Pan with a drag
//! or the wheel, zoom with Ctrl+scroll (a notch at a time) or the − / + buttons, Fit shows
//! everything; click a node to open its blade. The regions are laid out in the number of
//! columns that makes the picture largest on the canvas it has, and the picture is fitted
//! again whenever the canvas changes size (a zoom of the UI, a maximised blade, the
//! presenter view), so it is never a thumbnail. Labels sit on a background over the boxes
//! so a failing check is never hidden, and every arrow colour is in the legend.
//!
//! Dedicated SQL pools are counted on their server ("… · 1 Paused", "2 DW pools"); Synapse
//! workspaces are boxes of their own beside the servers, with their status
//! (`AwaitingUserAction`, `Updating`, `Consistent`, `Failed`), their SQL pools, and the
//! arrow to the Key Vault key of their double encryption in the status's colour.
//!
//! A large estate costs what its servers and vaults cost: databases are counted per server
//! (once per workspace revision), never drawn one by one.

use super::{BladeCtx, BladeKind};
use crate::model::*;
use crate::ui::widgets::{AMBER, BLUE, GREEN, RED};
use egui::{Color32, Pos2, Rect, RichText, Stroke, vec2};
use std::collections::HashMap;
use std::sync::Arc;

const SERVER_W: f32 = 240.0;
const SERVER_H: f32 = 80.0;
/// Between a region's servers and its vaults: room for the arrows' labels.
const GAP: f32 = 200.0;
const VAULT_W: f32 = 240.0;
const KEY_H: f32 = 28.0;
/// A region's width, margins included.
const COLUMN: f32 = 16.0 + SERVER_W + GAP + VAULT_W + 36.0;
/// Text sizes in scene units: at a fit they are what a class reads from a seat.
const TEXT: f32 = 22.0;
const SMALL: f32 = 17.0;

/// What a server shows: its databases by state, and whether it can use its protector.
#[derive(Clone)]
struct ServerNode {
    name: String,
    region: String,
    online: usize,
    inaccessible: usize,
    other: usize,
    /// Online but unreachable: their region is out.
    outage: usize,
    /// Dedicated SQL pools paused (not a lost key: counted apart).
    paused: usize,
    /// Dedicated SQL pools (edition DataWarehouse) among the databases.
    pools: usize,
    /// The server's protector is the service-managed key.
    service_managed: bool,
    /// The failing check when the server cannot use its protector now.
    broken: Option<&'static str>,
    protector: Option<KeyUri>,
    /// Keys the server's databases use as their own, with how many use each.
    own_keys: Vec<(KeyUri, usize)>,
    /// Keys linked to the server that are not its protector (an HA twin, older keys).
    linked: Vec<KeyUri>,
}

#[derive(Clone)]
struct VaultNode {
    name: String,
    region: String,
    /// Key name, disabled (newest version), deleted.
    keys: Vec<(String, bool, bool)>,
    propagating: bool,
    unreachable: bool,
    deleted: bool,
}

/// A Synapse workspace: its encryption status, its key, its dedicated SQL pools.
#[derive(Clone)]
struct WorkspaceNode {
    name: String,
    region: String,
    /// `encryption.cmk.status`; `None`: no double encryption.
    status: Option<CmkStatus>,
    /// The Key Vault key of its double encryption (versionless).
    key: Option<KeyUri>,
    /// The failing check when the workspace cannot reach its key now.
    broken: Option<&'static str>,
    /// Its dedicated SQL pools, and how many are paused.
    pools: usize,
    paused: usize,
}

impl WorkspaceNode {
    /// The box's and the arrow's colour: the status's.
    fn colour(&self) -> Color32 {
        if self.broken.is_some() {
            return RED;
        }
        match self.status {
            Some(CmkStatus::AwaitingUserAction) => AMBER,
            Some(CmkStatus::Updating) => BLUE,
            Some(CmkStatus::Failed) => RED,
            Some(CmkStatus::Consistent) | None => GREEN,
        }
    }
}

#[derive(Clone)]
struct Picture {
    servers: Vec<ServerNode>,
    workspaces: Vec<WorkspaceNode>,
    vaults: Vec<VaultNode>,
    /// Geo-replication between servers (primary, secondary), once per pair.
    geo: Vec<(String, String)>,
    regions: Vec<String>,
}

fn picture(ws: &Workspace) -> Picture {
    let mut servers = Vec::with_capacity(ws.servers.len());
    for s in &ws.servers {
        let (mut online, mut inaccessible, mut other) = (0, 0, 0);
        let mut own: HashMap<String, (KeyUri, usize)> = HashMap::new();
        let mut outage = 0;
        let (mut paused, mut pools) = (0, 0);
        for d in &s.databases {
            if d.is_data_warehouse() {
                pools += 1;
            }
            // What a client connecting now would see (a region outage included); a paused
            // pool is neither Online nor lost.
            if d.state.is_paused() {
                paused += 1;
                continue;
            }
            match crate::service::availability::availability(ws, s, d) {
                crate::service::availability::Availability::Online => online += 1,
                crate::service::availability::Availability::Inaccessible { .. } => {
                    inaccessible += 1
                }
                crate::service::availability::Availability::RegionOutage { .. } => outage += 1,
                _ => other += 1,
            }
            if d.encryption_protector.is_some()
                && let Some(u) = s
                    .database_key(d)
                    .and_then(|k| k.uri.as_deref())
                    .and_then(KeyUri::parse)
            {
                let key = format!("{}/{}", u.vault, u.key).to_ascii_lowercase();
                own.entry(key).or_insert((u, 0)).1 += 1;
            }
        }
        let protector = s.protector_uri();
        let broken = match crate::service::tde::protector_access(ws, &s.name) {
            Err(f) if protector.is_some() => Some(f.code()),
            _ => None,
        };
        let linked = s
            .keys
            .iter()
            .filter_map(|k| k.uri.as_deref().and_then(KeyUri::parse))
            .filter(|u| {
                protector.as_ref().is_none_or(|p| {
                    !(p.vault.eq_ignore_ascii_case(&u.vault) && p.key.eq_ignore_ascii_case(&u.key))
                })
            })
            .fold(Vec::<KeyUri>::new(), |mut acc, u| {
                if !acc.iter().any(|a| {
                    a.vault.eq_ignore_ascii_case(&u.vault) && a.key.eq_ignore_ascii_case(&u.key)
                }) {
                    acc.push(u);
                }
                acc
            });
        let mut own_keys: Vec<(KeyUri, usize)> = own.into_values().collect();
        own_keys.sort_by(|a, b| (&a.0.vault, &a.0.key).cmp(&(&b.0.vault, &b.0.key)));
        servers.push(ServerNode {
            name: s.name.clone(),
            region: s.location.clone(),
            online,
            inaccessible,
            other,
            outage,
            paused,
            pools,
            service_managed: protector.is_none(),
            broken,
            protector,
            own_keys,
            linked,
        });
    }
    let now = ws.now();
    let vaults: Vec<VaultNode> = ws
        .vaults
        .iter()
        .map(|v| VaultNode {
            name: v.name.clone(),
            region: v.location.clone(),
            keys: v
                .keys
                .iter()
                .map(|k| {
                    (
                        k.name.clone(),
                        k.current().is_some_and(|c| !c.enabled),
                        k.deleted.is_some(),
                    )
                })
                .collect(),
            propagating: v.pending_revocations.iter().any(|p| p.effective_at > now),
            unreachable: crate::service::outage::vault_unreachable(ws, v),
            deleted: v.deleted.is_some(),
        })
        .collect();
    let workspaces: Vec<WorkspaceNode> = ws
        .synapse
        .workspaces
        .iter()
        .map(|w| {
            let key = w
                .cmk_key
                .as_deref()
                .and_then(|k| w.key(k))
                .and_then(|k| KeyUri::parse(&k.key_vault_url));
            let broken = match w.cmk_status {
                Some(CmkStatus::Consistent | CmkStatus::Updating) => {
                    crate::service::synapse::key_reachable(ws, w)
                        .err()
                        .map(|f| f.code())
                }
                _ => None,
            };
            WorkspaceNode {
                name: w.name.clone(),
                region: w.location.clone(),
                status: w.double_encryption.then_some(w.cmk_status).flatten(),
                key,
                broken,
                pools: w.pools.len(),
                paused: w
                    .pools
                    .iter()
                    .filter(|p| p.status != PoolStatus::Online)
                    .count(),
            }
        })
        .collect();
    let mut geo: Vec<(String, String)> = ws
        .continuity
        .links
        .iter()
        .map(|l| (l.primary_server.clone(), l.secondary_server.clone()))
        .collect();
    geo.sort();
    geo.dedup();
    let mut regions: Vec<String> = servers
        .iter()
        .map(|s| s.region.clone())
        .chain(workspaces.iter().map(|w| w.region.clone()))
        .chain(vaults.iter().map(|v| v.region.clone()))
        .collect();
    regions.sort();
    regions.dedup();
    Picture {
        servers,
        workspaces,
        vaults,
        geo,
        regions,
    }
}

/// The picture, worked out again only when the workspace changes.
fn cached(ui: &egui::Ui, ws: &Workspace) -> Arc<Picture> {
    type Cached = (u64, Arc<Picture>);
    let id = ui.scope_id().with("topology-picture");
    if let Some((rev, p)) = ui.data(|d| d.get_temp::<Cached>(id))
        && rev == ws.revision
    {
        return p;
    }
    let p = Arc::new(picture(ws));
    ui.data_mut(|d| d.insert_temp(id, (ws.revision, p.clone())));
    p
}

/// Where everything goes, in scene coordinates, for regions laid out `per_row` to a row.
struct Layout {
    server_rect: HashMap<String, Rect>,
    /// Synapse workspaces, under the servers of their region.
    workspace_rect: HashMap<String, Rect>,
    vault_rect: Vec<Rect>,
    key_anchor: HashMap<String, Pos2>,
    regions: Vec<Rect>,
    whole: Rect,
}

fn layout(pic: &Picture, per_row: usize) -> Layout {
    let index_of: HashMap<&str, usize> = pic
        .regions
        .iter()
        .enumerate()
        .map(|(i, r)| (r.as_str(), i))
        .collect();
    let n = pic.regions.len().max(1);
    let per_row = per_row.clamp(1, n);
    // Each region lays out its servers (left) and vaults (right) from its own origin.
    let top = 52.0f32;
    let mut server_local: Vec<(usize, Rect)> = Vec::with_capacity(pic.servers.len());
    let mut next_y = vec![top; n];
    for s in &pic.servers {
        let c = index_of.get(s.region.as_str()).copied().unwrap_or(0);
        server_local.push((
            c,
            Rect::from_min_size(egui::pos2(16.0, next_y[c]), vec2(SERVER_W, SERVER_H)),
        ));
        next_y[c] += SERVER_H + 28.0;
    }
    let mut workspace_local: Vec<(usize, Rect)> = Vec::with_capacity(pic.workspaces.len());
    for w in &pic.workspaces {
        let c = index_of.get(w.region.as_str()).copied().unwrap_or(0);
        workspace_local.push((
            c,
            Rect::from_min_size(egui::pos2(16.0, next_y[c]), vec2(SERVER_W, SERVER_H)),
        ));
        next_y[c] += SERVER_H + 28.0;
    }
    let mut vault_local: Vec<(usize, Rect)> = Vec::with_capacity(pic.vaults.len());
    let mut vault_y = vec![top; n];
    for v in &pic.vaults {
        let c = index_of.get(v.region.as_str()).copied().unwrap_or(0);
        let h = 50.0 + KEY_H * v.keys.len() as f32;
        vault_local.push((
            c,
            Rect::from_min_size(
                egui::pos2(16.0 + SERVER_W + GAP, vault_y[c]),
                vec2(VAULT_W, h),
            ),
        ));
        vault_y[c] += h + 30.0;
    }
    // Regions sit in a grid, each row as tall as its tallest region.
    let region_h: Vec<f32> = (0..n).map(|i| next_y[i].max(vault_y[i]) + 6.0).collect();
    let rows = n.div_ceil(per_row);
    let mut row_top = vec![0.0f32; rows + 1];
    for r in 0..rows {
        let tallest = (r * per_row..((r + 1) * per_row).min(n))
            .map(|i| region_h[i])
            .fold(140.0f32, f32::max);
        row_top[r + 1] = row_top[r] + tallest + 24.0;
    }
    let origin = |i: usize| vec2((i % per_row) as f32 * COLUMN, row_top[i / per_row]);
    let regions = (0..n)
        .map(|i| {
            Rect::from_min_size(
                Pos2::ZERO + origin(i),
                vec2(
                    COLUMN - 20.0,
                    row_top[i / per_row + 1] - row_top[i / per_row] - 24.0,
                ),
            )
        })
        .collect();
    let mut server_rect = HashMap::new();
    for (s, (c, r)) in pic.servers.iter().zip(&server_local) {
        server_rect.insert(s.name.to_ascii_lowercase(), r.translate(origin(*c)));
    }
    let mut workspace_rect = HashMap::new();
    for (w, (c, r)) in pic.workspaces.iter().zip(&workspace_local) {
        workspace_rect.insert(w.name.to_ascii_lowercase(), r.translate(origin(*c)));
    }
    let mut key_anchor = HashMap::new();
    let mut vault_rect = Vec::with_capacity(pic.vaults.len());
    for (v, (c, r)) in pic.vaults.iter().zip(&vault_local) {
        let r = r.translate(origin(*c));
        for (i, (k, _, _)) in v.keys.iter().enumerate() {
            key_anchor.insert(
                format!("{}/{}", v.name, k).to_ascii_lowercase(),
                egui::pos2(r.left(), r.top() + 44.0 + KEY_H * (i as f32 + 0.5)),
            );
        }
        vault_rect.push(r);
    }
    let whole = Rect::from_min_max(
        Pos2::ZERO,
        egui::pos2(COLUMN * per_row as f32 - 20.0, row_top[rows] - 24.0),
    );
    Layout {
        server_rect,
        workspace_rect,
        vault_rect,
        key_anchor,
        regions,
        whole,
    }
}

/// How many regions to a row make the picture largest on a `canvas`-sized area.
fn best_per_row(pic: &Picture, canvas: egui::Vec2) -> usize {
    let n = pic.regions.len().max(1);
    // Large estates: a square-ish grid without trying every width.
    if n > 12 {
        return (n as f32).sqrt().ceil() as usize;
    }
    (1..=n)
        .map(|k| {
            let w = layout(pic, k).whole;
            (k, (canvas.x / w.width()).min(canvas.y / w.height()))
        })
        .fold((1, 0.0f32), |best, c| if c.1 > best.1 { c } else { best })
        .0
}

fn arrow(painter: &egui::Painter, from: Pos2, to: Pos2, stroke: Stroke) {
    painter.line_segment([from, to], stroke);
    let dir = (to - from).normalized();
    let side = vec2(-dir.y, dir.x);
    let back = to - dir * 12.0;
    painter.add(egui::Shape::convex_polygon(
        vec![to, back + side * 6.0, back - side * 6.0],
        stroke.color,
        Stroke::NONE,
    ));
}

/// A label on a background, drawn over everything else (`at` is its centre).
struct Tag {
    at: Pos2,
    text: String,
    colour: Color32,
    /// How the tag hangs from `at` (centred on an arrow, or under a box).
    align: egui::Align2,
}

fn draw_tag(painter: &egui::Painter, tag: &Tag, background: Color32) {
    let galley = painter.layout_no_wrap(
        tag.text.clone(),
        egui::FontId::proportional(SMALL),
        tag.colour,
    );
    let rect = tag
        .align
        .anchor_size(tag.at, galley.size() + vec2(6.0, 6.0));
    let rect = rect.shrink(3.0).expand(3.0);
    painter.rect_filled(rect, 4.0, background);
    painter.rect_stroke(
        rect,
        4.0,
        Stroke::new(1.0, tag.colour),
        egui::StrokeKind::Outside,
    );
    painter.galley(rect.min + vec2(3.0, 3.0), galley, tag.colour);
}

/// The view of the picture kept between frames: what is in view, and the canvas and
/// layout it was fitted to.
#[derive(Clone, Copy)]
struct View {
    scene_rect: Rect,
    canvas: egui::Vec2,
    per_row: usize,
}

/// A change of the view asked for with a button.
#[derive(Clone, Copy, PartialEq)]
pub enum Zoom {
    Fit,
    In,
    Out,
}

/// The view's buttons on one row (the legend is drawn over the canvas, so the picture
/// keeps the height).
pub fn toolbar(ui: &mut egui::Ui) -> Option<Zoom> {
    let mut asked = None;
    ui.horizontal(|ui| {
        if ui
            .button("Fit")
            .on_hover_text("Show the whole picture")
            .clicked()
        {
            asked = Some(Zoom::Fit);
        }
        if ui.button("−").on_hover_text("Zoom out").clicked() {
            asked = Some(Zoom::Out);
        }
        if ui.button("+").on_hover_text("Zoom in").clicked() {
            asked = Some(Zoom::In);
        }
        let id = legend_id(ui);
        let mut legend = legend_shown(ui);
        if ui.toggle_value(&mut legend, "Legend").changed() {
            ui.data_mut(|d| d.insert_temp(id, legend));
        }
        ui.add(
            egui::Label::new(
                RichText::new(
                    "Drag or scroll to pan · Ctrl+scroll to zoom · click a box to open it",
                )
                .weak(),
            )
            .truncate(),
        );
    });
    asked
}

/// The legend is shown unless the user hid it; by default only when there is room for it
/// beside the picture (not at 200 % on 1280x720, where it would cover it).
fn legend_shown(ui: &egui::Ui) -> bool {
    ui.data(|d| d.get_temp::<bool>(legend_id(ui)))
        .unwrap_or(ui.ctx().content_rect().width() >= 1000.0)
}

fn legend_id(ui: &egui::Ui) -> egui::Id {
    ui.ctx().viewport_id().0.with("topology-legend")
}

/// The legend of node and arrow colours, in a frame over the canvas's top-left corner.
fn legend(ui: &mut egui::Ui, at: Pos2) {
    egui::Area::new(ui.scope_id().with("topology-legend-area"))
        .order(egui::Order::Middle)
        .fixed_pos(at)
        .interactable(false)
        .show(ui.ctx(), |ui| {
            egui::Frame::popup(ui.style()).show(ui, |ui| {
                ui.spacing_mut().item_spacing.y = 2.0;
                let item = |ui: &mut egui::Ui, colour: Color32, label: &str, line: bool| {
                    ui.horizontal(|ui| {
                        let (r, _) = ui.allocate_exact_size(vec2(18.0, 10.0), egui::Sense::hover());
                        if line {
                            ui.painter().line_segment(
                                [r.left_center(), r.right_center()],
                                Stroke::new(3.0, colour),
                            );
                        } else {
                            ui.painter().rect_stroke(
                                r,
                                2.0,
                                Stroke::new(2.5, colour),
                                egui::StrokeKind::Inside,
                            );
                        }
                        ui.add(egui::Label::new(RichText::new(label).small()).extend());
                    });
                };
                item(ui, GREEN, "Online / key usable", false);
                item(ui, RED, "Inaccessible / deleted", false);
                item(ui, BLUE, "Recovering, restoring", false);
                item(ui, AMBER, "Propagating, unreachable", false);
                item(ui, GREEN, "TDE protector", true);
                item(ui, RED, "Protector failing (code)", true);
                item(ui, AMBER, "A database's own key", true);
                item(ui, Color32::GRAY, "Linked key (HA twin, older)", true);
                item(ui, BLUE, "Geo-replication", true);
                item(ui, AMBER, "Synapse CMK (awaiting activation)", true);
            });
        });
}

/// `scene_rect` zoomed by `factor` (> 1: closer) about `centre`.
fn zoomed(scene_rect: Rect, centre: Pos2, factor: f32) -> Rect {
    Rect::from_min_max(
        centre + (scene_rect.min - centre) / factor,
        centre + (scene_rect.max - centre) / factor,
    )
}

/// The Topology blade: the legend and buttons, then the picture on the rest of the blade.
pub fn show(ui: &mut egui::Ui, cx: &mut BladeCtx<'_>) {
    let asked = toolbar(ui);
    // The blade does not scroll (see `chrome::blade_area`): the canvas takes what is left.
    let visible = ui.available_height() - 4.0;
    if let Some(kind) = canvas(ui, cx.ws, visible, asked) {
        cx.open(kind);
    }
}

/// The picture on a canvas `height` points high and as wide as `ui`; returns the blade to
/// open when a node was clicked.
pub fn canvas(
    ui: &mut egui::Ui,
    ws: &Workspace,
    height: f32,
    asked: Option<Zoom>,
) -> Option<BladeKind> {
    let pic = cached(ui, ws);
    let size = vec2(ui.available_width().max(120.0), height.max(80.0));
    let view_id = ui.scope_id().with("topology-view");
    // The layout is worked out again only when the picture or the canvas changes.
    type CachedLayout = (u64, egui::Vec2, usize, Arc<Layout>);
    let layout_id = ui.scope_id().with("topology-layout");
    let (per_row, lay) = match ui.data(|d| d.get_temp::<CachedLayout>(layout_id)) {
        Some((rev, at, per_row, lay)) if rev == ws.revision && at == size => (per_row, lay),
        _ => {
            let per_row = best_per_row(&pic, size);
            let lay = Arc::new(layout(&pic, per_row));
            ui.data_mut(|d| d.insert_temp(layout_id, (ws.revision, size, per_row, lay.clone())));
            (per_row, lay)
        }
    };
    let fit = Rect::from_center_size(lay.whole.center(), lay.whole.size() + vec2(40.0, 40.0));
    let stored: Option<View> = ui.data(|d| d.get_temp(view_id));
    // Fitted again when the canvas changes size (UI zoom, maximise, presenter view) or the
    // layout changes; kept as the user left it otherwise.
    let mut scene_rect = match stored {
        Some(v)
            if asked != Some(Zoom::Fit)
                && v.per_row == per_row
                && (v.canvas - size).length() < 2.0
                && v.scene_rect.is_finite()
                && v.scene_rect.width() > 0.0
                && v.scene_rect.height() > 0.0 =>
        {
            v.scene_rect
        }
        _ => fit,
    };
    match asked {
        Some(Zoom::In) => scene_rect = zoomed(scene_rect, scene_rect.center(), 1.25),
        Some(Zoom::Out) => scene_rect = zoomed(scene_rect, scene_rect.center(), 0.8),
        _ => {}
    }
    let before = scene_rect;
    let mut open: Option<BladeKind> = None;
    let (outer, _) = ui.allocate_exact_size(size, egui::Sense::hover());
    let mut canvas_ui = ui.new_child(egui::UiBuilder::new().max_rect(outer));
    let frame_stroke = Stroke::new(1.0, ui.visuals().weak_text_color());
    canvas_ui
        .painter()
        .rect_stroke(outer, 6.0, frame_stroke, egui::StrokeKind::Inside);
    let response = egui::Scene::new()
        .zoom_range(0.05..=4.0)
        .show(&mut canvas_ui, &mut scene_rect, |ui| {
            open = draw(ui, &pic, &lay);
        })
        .response;
    // A wheel notch zooms by 25 % at most (some mice send a jump of ~4x), about the pointer.
    let ratio = before.width() / scene_rect.width();
    if scene_rect.is_finite() && !(0.8 - 1e-3..=1.25 + 1e-3).contains(&ratio) {
        let factor = ratio.clamp(0.8, 1.25);
        let centre = response
            .hover_pos()
            .map(|p| {
                let t = (p - outer.min) / outer.size();
                before.min + vec2(t.x * before.width(), t.y * before.height())
            })
            .unwrap_or(before.center());
        scene_rect = zoomed(before, centre, factor);
    }
    if legend_shown(ui) {
        legend(ui, outer.min + vec2(6.0, 6.0));
    }
    ui.data_mut(|d| {
        d.insert_temp(
            view_id,
            View {
                scene_rect,
                canvas: size,
                per_row,
            },
        )
    });
    open
}

/// The picture itself, in scene coordinates; returns the blade a click asked for.
fn draw(ui: &mut egui::Ui, pic: &Picture, lay: &Layout) -> Option<BladeKind> {
    let mut open = None;
    let painter = ui.painter().clone();
    let text = ui.visuals().text_color();
    let background = ui.visuals().extreme_bg_color;
    let mut tags: Vec<Tag> = Vec::new();
    for (i, region) in pic.regions.iter().enumerate() {
        let Some(area) = lay.regions.get(i) else {
            continue;
        };
        painter.rect_filled(*area, 12.0, ui.visuals().faint_bg_color);
        painter.rect_stroke(
            *area,
            12.0,
            Stroke::new(1.0, ui.visuals().weak_text_color()),
            egui::StrokeKind::Inside,
        );
        painter.text(
            area.left_top() + vec2(16.0, 14.0),
            egui::Align2::LEFT_TOP,
            format!("Region {region}"),
            egui::FontId::proportional(22.0),
            text,
        );
    }
    let anchor = |u: &KeyUri| {
        lay.key_anchor
            .get(&format!("{}/{}", u.vault, u.key).to_ascii_lowercase())
    };
    // Arrows first, nodes over them, labels over everything.
    for (p, s) in &pic.geo {
        if let (Some(a), Some(b)) = (
            lay.server_rect.get(&p.to_ascii_lowercase()),
            lay.server_rect.get(&s.to_ascii_lowercase()),
        ) {
            let (from, to) =
                if (a.center().y - b.center().y).abs() > (a.center().x - b.center().x).abs() {
                    (a.center_bottom(), b.center_top())
                } else if a.center().x < b.center().x {
                    (
                        a.right_center() - vec2(0.0, 20.0),
                        b.left_center() - vec2(0.0, 20.0),
                    )
                } else {
                    (a.left_center(), b.right_center())
                };
            arrow(&painter, from, to, Stroke::new(2.5, BLUE));
            tags.push(Tag {
                at: from.lerp(to, 0.5),
                text: "geo-replication".into(),
                colour: BLUE,
                align: egui::Align2::CENTER_CENTER,
            });
        }
    }
    for s in &pic.servers {
        let Some(r) = lay.server_rect.get(&s.name.to_ascii_lowercase()) else {
            continue;
        };
        for u in &s.linked {
            if let Some(to) = anchor(u) {
                let from = r.right_center() + vec2(0.0, 14.0);
                arrow(&painter, from, *to, Stroke::new(1.5, Color32::GRAY));
                tags.push(Tag {
                    at: from.lerp(*to, 0.7),
                    text: "linked key".into(),
                    colour: Color32::GRAY,
                    align: egui::Align2::CENTER_CENTER,
                });
            }
        }
        for (u, n) in &s.own_keys {
            if let Some(to) = anchor(u) {
                let from = r.right_bottom() - vec2(0.0, 10.0);
                arrow(&painter, from, *to, Stroke::new(2.0, AMBER));
                tags.push(Tag {
                    at: from.lerp(*to, 0.5),
                    text: if *n == 1 {
                        "1 database's own key".into()
                    } else {
                        format!("{n} databases' own key")
                    },
                    colour: AMBER,
                    align: egui::Align2::CENTER_CENTER,
                });
            }
        }
        if let Some(u) = &s.protector
            && let Some(to) = anchor(u)
        {
            let colour = if s.broken.is_some() { RED } else { GREEN };
            let from = r.right_top() + vec2(0.0, 18.0);
            arrow(&painter, from, *to, Stroke::new(3.0, colour));
            tags.push(Tag {
                at: from.lerp(*to, 0.5),
                text: "TDE protector".into(),
                colour,
                align: egui::Align2::CENTER_CENTER,
            });
            // The failing check hangs under the server's box, where nothing covers it.
            if let Some(code) = s.broken {
                tags.push(Tag {
                    at: r.left_bottom() + vec2(0.0, 5.0),
                    text: code.to_string(),
                    colour: RED,
                    align: egui::Align2::LEFT_TOP,
                });
            }
        }
        if s.service_managed {
            // The service-managed key lives with the server: a chip beside it.
            let chip =
                Rect::from_min_size(r.right_top() + vec2(40.0, 10.0), vec2(GAP - 60.0, 50.0));
            arrow(
                &painter,
                r.right_top() + vec2(0.0, 32.0),
                chip.left_center(),
                Stroke::new(2.0, GREEN),
            );
            painter.rect_filled(chip, 6.0, background);
            painter.rect_stroke(chip, 6.0, Stroke::new(1.5, GREEN), egui::StrokeKind::Inside);
            painter.text(
                chip.center(),
                egui::Align2::CENTER_CENTER,
                "Service-managed\nkey",
                egui::FontId::proportional(SMALL),
                text,
            );
        }
    }
    for w in &pic.workspaces {
        if let (Some(r), Some(u)) = (lay.workspace_rect.get(&w.name.to_ascii_lowercase()), &w.key)
            && let Some(to) = anchor(u)
        {
            let colour = w.colour();
            let from = r.right_top() + vec2(0.0, 18.0);
            arrow(&painter, from, *to, Stroke::new(3.0, colour));
            tags.push(Tag {
                at: from.lerp(*to, 0.5),
                text: match w.status {
                    Some(CmkStatus::Consistent) | None => "workspace CMK".into(),
                    Some(st) => format!("CMK · {}", st.as_str()),
                },
                colour,
                align: egui::Align2::CENTER_CENTER,
            });
            if let Some(code) = w.broken {
                tags.push(Tag {
                    at: r.left_bottom() + vec2(0.0, 5.0),
                    text: code.to_string(),
                    colour: RED,
                    align: egui::Align2::LEFT_TOP,
                });
            }
        }
    }
    for s in &pic.servers {
        let Some(r) = lay.server_rect.get(&s.name.to_ascii_lowercase()) else {
            continue;
        };
        let colour = if s.inaccessible > 0 || s.broken.is_some() {
            RED
        } else if s.outage > 0 {
            AMBER
        } else if s.other > 0 {
            BLUE
        } else {
            GREEN
        };
        let mut summary = format!("{} Online", s.online);
        if s.inaccessible > 0 {
            summary.push_str(&format!(" · {} Inaccessible", s.inaccessible));
        }
        if s.outage > 0 {
            summary.push_str(&format!(" · {} Unavailable (region outage)", s.outage));
        }
        if s.other > 0 {
            summary.push_str(&format!(" · {} restoring or recovering", s.other));
        }
        if s.paused > 0 {
            summary.push_str(&format!(" · {} Paused", s.paused));
        }
        // With dedicated SQL pools the key line gets shorter to make room for their count.
        let key = match (s.service_managed, s.pools) {
            (true, 0) => "Service-managed key".to_string(),
            (false, 0) => "Customer-managed key".to_string(),
            (true, n) => format!("Service-managed · {n} DW pool{}", plural(n)),
            (false, n) => format!("CMK · {n} DW pool{}", plural(n)),
        };
        let mut job = egui::text::LayoutJob::default();
        job.append(
            &format!("SQL {}\n", s.name),
            0.0,
            egui::TextFormat::simple(egui::FontId::proportional(TEXT), text),
        );
        job.append(
            &format!("{summary}\n{key}"),
            0.0,
            egui::TextFormat::simple(egui::FontId::proportional(SMALL), text),
        );
        let button = egui::Button::new(job)
            .stroke(Stroke::new(3.0, colour))
            .corner_radius(6.0);
        if ui.put(*r, button).on_hover_text(&s.name).clicked() {
            open = Some(BladeKind::Server {
                server: s.name.clone(),
                message: None,
            });
        }
    }
    for w in &pic.workspaces {
        let Some(r) = lay.workspace_rect.get(&w.name.to_ascii_lowercase()) else {
            continue;
        };
        let status = match w.status {
            Some(st) => st.as_str().to_string(),
            None => "Platform-managed keys".into(),
        };
        let pools = match (w.pools, w.paused) {
            (0, _) => "No SQL pools".to_string(),
            (n, 0) => format!("{n} SQL pool{}", plural(n)),
            (n, p) => format!("{n} SQL pool{} · {p} Paused", plural(n)),
        };
        let mut job = egui::text::LayoutJob::default();
        job.append(
            &format!("SYN {}\n", w.name),
            0.0,
            egui::TextFormat::simple(egui::FontId::proportional(TEXT), text),
        );
        job.append(
            &format!("{status}\n{pools}"),
            0.0,
            egui::TextFormat::simple(egui::FontId::proportional(SMALL), text),
        );
        let button = egui::Button::new(job)
            .stroke(Stroke::new(3.0, w.colour()))
            .corner_radius(6.0);
        if ui.put(*r, button).on_hover_text(&w.name).clicked() {
            open = Some(BladeKind::SynapseWorkspace {
                workspace: w.name.clone(),
                form: Default::default(),
            });
        }
    }
    for (v, r) in pic.vaults.iter().zip(&lay.vault_rect) {
        let colour = if v.deleted {
            RED
        } else if v.unreachable || v.propagating {
            AMBER
        } else {
            GREEN
        };
        painter.rect_filled(*r, 6.0, background);
        painter.rect_stroke(*r, 6.0, Stroke::new(2.5, colour), egui::StrokeKind::Inside);
        let mut title = format!("KV {}", v.name);
        if v.deleted {
            title.push_str(" (deleted)");
        } else if v.unreachable {
            title.push_str(" (unreachable)");
        } else if v.propagating {
            title.push_str(" (propagating)");
        }
        let head = Rect::from_min_size(r.min + vec2(6.0, 6.0), vec2(r.width() - 12.0, 32.0));
        if ui
            .put(
                head,
                egui::Button::new(RichText::new(&title).size(TEXT).strong())
                    .frame(false)
                    .wrap_mode(egui::TextWrapMode::Truncate),
            )
            .on_hover_text(title)
            .clicked()
        {
            open = Some(BladeKind::Vault {
                vault: v.name.clone(),
                forms: Default::default(),
            });
        }
        for (i, (k, disabled, deleted)) in v.keys.iter().enumerate() {
            let row = Rect::from_min_size(
                egui::pos2(r.left() + 12.0, r.top() + 44.0 + KEY_H * i as f32),
                vec2(r.width() - 24.0, KEY_H),
            );
            let (mark, colour) = if *deleted {
                (" · deleted", RED)
            } else if *disabled {
                (" · disabled", RED)
            } else {
                ("", text)
            };
            painter.text(
                row.left_center(),
                egui::Align2::LEFT_CENTER,
                format!("• {k}{mark}"),
                egui::FontId::proportional(SMALL + 2.0),
                colour,
            );
        }
    }
    for t in &tags {
        draw_tag(&painter, t, background);
    }
    open
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
