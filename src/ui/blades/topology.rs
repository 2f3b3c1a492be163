//! The topology picture the seed's figures draw: regions as areas, SQL servers (their
//! databases aggregated: "3 Online · 1 Inaccessible"), key vaults with their keys, and the
//! arrows between them: server → TDE protector key (red, with the failing check, when the
//! server cannot use it), server → keys its databases use as their own, server → linked
//! keys (the HA twin in another vault), and geo-replication between servers. Pan with a drag,
//! zoom with Ctrl+scroll (egui's `Scene`); click a node to open its blade.
//!
//! A large estate costs what its servers and vaults cost: databases are counted per server
//! (once per workspace revision), never drawn one by one.

use super::{BladeCtx, BladeKind};
use crate::model::*;
use crate::ui::widgets::{AMBER, BLUE, GREEN, RED};
use egui::{Color32, Pos2, Rect, RichText, Stroke, vec2};
use std::collections::HashMap;
use std::sync::Arc;

const COLUMN: f32 = 620.0;
const SERVER_W: f32 = 210.0;
const SERVER_H: f32 = 64.0;
const VAULT_W: f32 = 220.0;
const KEY_H: f32 = 22.0;

/// What a server shows: its databases by state, and whether it can use its protector.
#[derive(Clone)]
struct ServerNode {
    name: String,
    region: String,
    online: usize,
    inaccessible: usize,
    other: usize,
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

#[derive(Clone)]
struct Picture {
    servers: Vec<ServerNode>,
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
        for d in &s.databases {
            match d.state {
                DatabaseState::Online => online += 1,
                DatabaseState::Inaccessible { .. } => inaccessible += 1,
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
        .chain(vaults.iter().map(|v| v.region.clone()))
        .collect();
    regions.sort();
    regions.dedup();
    Picture {
        servers,
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

fn arrow(painter: &egui::Painter, from: Pos2, to: Pos2, stroke: Stroke) {
    painter.line_segment([from, to], stroke);
    let dir = (to - from).normalized();
    let side = vec2(-dir.y, dir.x);
    let tip = to;
    let back = tip - dir * 9.0;
    painter.add(egui::Shape::convex_polygon(
        vec![tip, back + side * 4.5, back - side * 4.5],
        stroke.color,
        Stroke::NONE,
    ));
}

pub fn show(ui: &mut egui::Ui, cx: &mut BladeCtx<'_>) {
    let pic = cached(ui, cx.ws);
    ui.horizontal_wrapped(|ui| {
        for (label, colour) in [
            ("Online", GREEN),
            ("Inaccessible", RED),
            ("Recovering", BLUE),
            ("Propagating / out", AMBER),
        ] {
            crate::ui::widgets::badge(ui, label, colour);
        }
        ui.label(RichText::new("Drag to pan, scroll to zoom, click to open.").weak());
    });
    // Where everything goes (scene coordinates). Each region lays out its servers (left)
    // and vaults (right) from its own origin; regions then sit in a grid, as square as
    // their number allows, each row as tall as its tallest region.
    let index_of: HashMap<&str, usize> = pic
        .regions
        .iter()
        .enumerate()
        .map(|(i, r)| (r.as_str(), i))
        .collect();
    let n = pic.regions.len().max(1);
    let per_row = (n as f32).sqrt().ceil().max(1.0) as usize;
    let mut server_local: Vec<(usize, Rect)> = Vec::with_capacity(pic.servers.len());
    let mut next_y = vec![60.0f32; n];
    for s in &pic.servers {
        let c = index_of.get(s.region.as_str()).copied().unwrap_or(0);
        server_local.push((
            c,
            Rect::from_min_size(egui::pos2(16.0, next_y[c]), vec2(SERVER_W, SERVER_H)),
        ));
        next_y[c] += SERVER_H + 26.0;
    }
    let mut vault_local: Vec<(usize, Rect)> = Vec::with_capacity(pic.vaults.len());
    let mut vault_y = vec![60.0f32; n];
    for v in &pic.vaults {
        let c = index_of.get(v.region.as_str()).copied().unwrap_or(0);
        let h = 46.0 + KEY_H * v.keys.len() as f32;
        vault_local.push((
            c,
            Rect::from_min_size(
                egui::pos2(16.0 + SERVER_W + 130.0, vault_y[c]),
                vec2(VAULT_W, h),
            ),
        ));
        vault_y[c] += h + 26.0;
    }
    let region_h: Vec<f32> = (0..n).map(|i| next_y[i].max(vault_y[i]) + 10.0).collect();
    let rows = n.div_ceil(per_row);
    let mut row_top = vec![0.0f32; rows + 1];
    for r in 0..rows {
        let tallest = (r * per_row..((r + 1) * per_row).min(n))
            .map(|i| region_h[i])
            .fold(120.0f32, f32::max);
        row_top[r + 1] = row_top[r] + tallest + 30.0;
    }
    let origin = |i: usize| egui::vec2((i % per_row) as f32 * COLUMN, row_top[i / per_row]);
    let region_area = |i: usize| {
        Rect::from_min_size(
            Pos2::ZERO + origin(i),
            vec2(
                COLUMN - 20.0,
                row_top[i / per_row + 1] - row_top[i / per_row] - 30.0,
            ),
        )
    };
    let mut server_rect: HashMap<String, Rect> = HashMap::new();
    for (s, (c, r)) in pic.servers.iter().zip(&server_local) {
        server_rect.insert(s.name.to_ascii_lowercase(), r.translate(origin(*c)));
    }
    let mut key_anchor: HashMap<String, Pos2> = HashMap::new();
    let mut vault_rect: Vec<Rect> = Vec::with_capacity(pic.vaults.len());
    for (v, (c, r)) in pic.vaults.iter().zip(&vault_local) {
        let r = r.translate(origin(*c));
        for (i, (k, _, _)) in v.keys.iter().enumerate() {
            key_anchor.insert(
                format!("{}/{}", v.name, k).to_ascii_lowercase(),
                egui::pos2(r.left(), r.top() + 40.0 + KEY_H * (i as f32 + 0.5)),
            );
        }
        vault_rect.push(r);
    }
    let whole = Rect::from_min_max(
        Pos2::ZERO,
        egui::pos2(COLUMN * per_row.min(n) as f32, row_top[rows]),
    );
    let anchor =
        |u: &KeyUri| key_anchor.get(&format!("{}/{}", u.vault, u.key).to_ascii_lowercase());

    let rect_id = ui.scope_id().with("topology-scene-rect");
    // At first the whole picture is in view.
    let mut scene_rect: Rect = ui
        .data(|d| d.get_temp(rect_id))
        .filter(|r: &Rect| r.is_finite() && r.width() > 0.0 && r.height() > 0.0)
        .unwrap_or(whole);
    let mut open: Option<BladeKind> = None;
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.set_min_height((ui.available_height() - 8.0).max(360.0));
        egui::Scene::new()
            .zoom_range(0.1..=3.0)
            .show(ui, &mut scene_rect, |ui| {
                let painter = ui.painter().clone();
                let text = ui.visuals().text_color();
                // Regions as areas.
                for (i, region) in pic.regions.iter().enumerate() {
                    let area = region_area(i);
                    painter.rect_filled(area, 12.0, ui.visuals().faint_bg_color);
                    painter.rect_stroke(
                        area,
                        12.0,
                        Stroke::new(1.0, ui.visuals().weak_text_color()),
                        egui::StrokeKind::Inside,
                    );
                    painter.text(
                        area.left_top() + vec2(16.0, 14.0),
                        egui::Align2::LEFT_TOP,
                        format!("Region {region}"),
                        egui::FontId::proportional(18.0),
                        text,
                    );
                }
                // Arrows first, nodes over them.
                for (p, s) in &pic.geo {
                    if let (Some(a), Some(b)) = (
                        server_rect.get(&p.to_ascii_lowercase()),
                        server_rect.get(&s.to_ascii_lowercase()),
                    ) {
                        arrow(
                            &painter,
                            a.center_bottom(),
                            b.center_top(),
                            Stroke::new(2.0, BLUE),
                        );
                        painter.text(
                            a.center_bottom().lerp(b.center_top(), 0.5),
                            egui::Align2::CENTER_CENTER,
                            "geo-replication",
                            egui::FontId::proportional(12.0),
                            BLUE,
                        );
                    }
                }
                for s in &pic.servers {
                    let Some(r) = server_rect.get(&s.name.to_ascii_lowercase()) else {
                        continue;
                    };
                    for u in &s.linked {
                        if let Some(to) = anchor(u) {
                            arrow(
                                &painter,
                                r.right_center() + vec2(0.0, 14.0),
                                *to,
                                Stroke::new(1.0, Color32::GRAY),
                            );
                        }
                    }
                    for (u, n) in &s.own_keys {
                        if let Some(to) = anchor(u) {
                            let from = r.right_bottom() - vec2(0.0, 8.0);
                            arrow(&painter, from, *to, Stroke::new(1.5, AMBER));
                            painter.text(
                                from.lerp(*to, 0.5) + vec2(0.0, 8.0),
                                egui::Align2::CENTER_CENTER,
                                format!("{n} own key(s)"),
                                egui::FontId::proportional(11.0),
                                AMBER,
                            );
                        }
                    }
                    if let Some(u) = &s.protector
                        && let Some(to) = anchor(u)
                    {
                        let colour = if s.broken.is_some() { RED } else { GREEN };
                        let from = r.right_top() + vec2(0.0, 14.0);
                        arrow(&painter, from, *to, Stroke::new(2.5, colour));
                        let label = match s.broken {
                            Some(code) => format!("TDE protector · {code}"),
                            None => "TDE protector".into(),
                        };
                        painter.text(
                            from.lerp(*to, 0.5) - vec2(0.0, 8.0),
                            egui::Align2::CENTER_CENTER,
                            label,
                            egui::FontId::proportional(11.0),
                            colour,
                        );
                    }
                }
                // Servers.
                for s in &pic.servers {
                    let Some(r) = server_rect.get(&s.name.to_ascii_lowercase()) else {
                        continue;
                    };
                    let colour = if s.inaccessible > 0 || s.broken.is_some() {
                        RED
                    } else if s.other > 0 {
                        BLUE
                    } else {
                        GREEN
                    };
                    let mut summary = format!("{} Online", s.online);
                    if s.inaccessible > 0 {
                        summary.push_str(&format!(" · {} Inaccessible", s.inaccessible));
                    }
                    if s.other > 0 {
                        summary.push_str(&format!(" · {} other", s.other));
                    }
                    let button = egui::Button::new(
                        RichText::new(format!("SQL {}\n{summary}", s.name)).color(text),
                    )
                    .stroke(Stroke::new(2.5, colour))
                    .corner_radius(6.0);
                    if ui.put(*r, button).clicked() {
                        open = Some(BladeKind::Server {
                            server: s.name.clone(),
                            message: None,
                        });
                    }
                }
                // Vaults with their keys.
                for (v, r) in pic.vaults.iter().zip(&vault_rect) {
                    let colour = if v.deleted {
                        RED
                    } else if v.unreachable || v.propagating {
                        AMBER
                    } else {
                        GREEN
                    };
                    painter.rect_filled(*r, 6.0, ui.visuals().extreme_bg_color);
                    painter.rect_stroke(
                        *r,
                        6.0,
                        Stroke::new(2.0, colour),
                        egui::StrokeKind::Inside,
                    );
                    let mut title = format!("KV {}", v.name);
                    if v.deleted {
                        title.push_str(" (deleted)");
                    } else if v.unreachable {
                        title.push_str(" (unreachable)");
                    } else if v.propagating {
                        title.push_str(" (access change propagating)");
                    }
                    let head =
                        Rect::from_min_size(r.min + vec2(6.0, 6.0), vec2(r.width() - 12.0, 26.0));
                    if ui
                        .put(
                            head,
                            egui::Button::new(RichText::new(title).strong()).frame(false),
                        )
                        .clicked()
                    {
                        open = Some(BladeKind::Vault {
                            vault: v.name.clone(),
                            forms: Default::default(),
                        });
                    }
                    for (i, (k, disabled, deleted)) in v.keys.iter().enumerate() {
                        let row = Rect::from_min_size(
                            egui::pos2(r.left() + 10.0, r.top() + 40.0 + KEY_H * i as f32),
                            vec2(r.width() - 20.0, KEY_H),
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
                            egui::FontId::proportional(13.0),
                            colour,
                        );
                    }
                }
            });
    });
    ui.data_mut(|d| d.insert_temp(rect_id, scene_rect));
    if let Some(kind) = open {
        cx.open(kind);
    }
}
