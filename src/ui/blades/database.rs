//! Database overview: status, Resource Health, TDE and its wrapped DEK, "Test connection".

use super::{BladeCtx, BladeKind, Line, outcome, said};
use crate::model::*;
use crate::ui::widgets::{self, health_badge, properties, section, state_badge, text_field};

pub fn show(
    ui: &mut egui::Ui,
    server: &str,
    db: &str,
    message: &mut Option<Result<String, String>>,
    cx: &mut BladeCtx<'_>,
) {
    let Some(d) = cx.ws.server(server).and_then(|s| s.database(db)).cloned() else {
        ui.label(format!("Database '{db}' no longer exists."));
        return;
    };
    ui.horizontal(|ui| {
        ui.label("Status:");
        state_badge(ui, &d.state);
        ui.label("Resource health:");
        health_badge(ui, d.health);
    });
    if let DatabaseState::Inaccessible {
        since,
        cause,
        access_restored_at,
        revalidation_required,
    } = &d.state
    {
        let window = cx.ws.profile.auto_heal_window();
        let left = (*since + window) - cx.ws.now();
        let whose = if d.encryption_protector.is_some() {
            "the database's own encryption protector"
        } else {
            "its TDE protector"
        };
        let mut text = format!(
            "This database is inaccessible since {since}: the server lost access to {whose} ({}: {}).",
            cause.code(),
            cause.describe()
        );
        if *revalidation_required {
            text.push_str(
                " Access came back after the auto-heal window: the key must be revalidated.",
            );
        } else if let Some(at) = access_restored_at {
            text.push_str(&format!(
                " Access was restored at {at}; the database comes back online within the hour."
            ));
        } else if left.0 > 0 {
            text.push_str(&format!(
                " Restore access within {} for it to heal by itself.",
                left.human()
            ));
        } else {
            text.push_str(
                " The auto-heal window has passed: after restoring access, revalidate the key.",
            );
        }
        widgets::error_box(ui, &text);
    }
    if let DatabaseState::Recovering { since, until } = &d.state {
        let left = *until - cx.ws.now();
        widgets::error_box(
            ui,
            &format!(
                "Key revalidated at {since}: the database is being brought back online ({} left).",
                left.human()
            ),
        );
    }
    if matches!(d.state, DatabaseState::Inaccessible { .. }) {
        recovery_wizard(ui, server, db, &d, cx);
    }
    if let Some(r) = &d.last_recovery {
        section(ui, "Last recovery");
        ui.label(format!(
            "Back online at {} after key revalidation.",
            r.completed
        ));
        if r.lost.is_empty() {
            ui.label("No server-level setting was lost.");
        } else {
            ui.label("Settings lost (configure them again):");
            for l in &r.lost {
                ui.label(format!("  - {l}"));
            }
        }
    }
    ui.horizontal(|ui| {
        if ui.button("Backups").clicked() {
            cx.open(BladeKind::Backups {
                server: server.to_string(),
                db: db.to_string(),
                form: Default::default(),
            });
        }
        if ui.button("Geo-replication").clicked() {
            cx.open(BladeKind::GeoReplication {
                server: server.to_string(),
                db: db.to_string(),
                form: Default::default(),
            });
        }
    });
    if let Some(l) = cx.ws.continuity.primary_of(server, db) {
        ui.label(format!(
            "Geo-secondary of '{}' on '{}' (readable, read-only).",
            l.primary_database, l.primary_server
        ));
    }
    if let Some(g) = cx.ws.continuity.group_of(server, db) {
        ui.label(format!(
            "In failover group '{}' (listener {}).",
            g.name,
            g.read_write_listener()
        ));
    }
    query_editor(ui, server, db, &d, cx);
    if ui.button("Test connection").clicked() {
        let (server, db) = (server.to_string(), db.to_string());
        cx.run(move |ws| {
            said(crate::service::sql::connect(ws, &server, &db), |rep| {
                format!(
                    "Connected. {} page(s) read and authenticated with the database encryption key.",
                    rep.pages_verified
                )
            })
        });
    }
    outcome(ui, message);
    section(ui, "Essentials");
    let mut rows = vec![
        ("Server", server.to_string()),
        ("Service tier", d.tier.label().to_string()),
        ("Max size", format!("{} GB", d.max_size_gb)),
        ("Created", d.created.to_display()),
        (
            "Transparent data encryption",
            if d.tde_enabled() {
                "On".into()
            } else {
                "Off".into()
            },
        ),
        ("Sample data pages", sample_pages_label(&d.pages)),
    ];
    if let Some(w) = &d.dek {
        rows.push(("DEK wrapped by", w.server_key_name.clone()));
        rows.push(("Protector thumbprint", w.thumbprint.clone()));
        rows.push((
            "Wrapped DEK",
            format!("{} bytes (RSA-OAEP-256)", w.wrapped.len()),
        ));
    }
    properties(ui, "db-props", &rows);
    if d.tde_enabled() {
        encryption_protector(ui, server, &d, cx);
    }
    section(ui, "Resource health history");
    health_timeline(ui, &d.health_history, cx.ws.now());
    for h in d.health_history.iter().rev() {
        ui.horizontal_wrapped(|ui| {
            health_badge(ui, h.health);
            ui.label(format!("{} {}", h.time, h.reason));
        });
    }
}

/// A small query editor over the database's content: what a client reads (really decrypted
/// with the DEK the server holds), or the service's refusal; and an UPDATE that rewrites it.
fn query_editor(ui: &mut egui::Ui, server: &str, db: &str, d: &Database, cx: &mut BladeCtx<'_>) {
    section(ui, "Query editor");
    let id = ui.make_persistent_id(("query-editor", cx.blade_id, server, db));
    // What the database holds changes only with a write, a state change or the clock.
    let stamp = format!(
        "{}|{:?}|{}|{}",
        d.content.len(),
        d.content.last().map(|r| r.at),
        d.state.label(),
        cx.ws.now().0
    );
    type Cached = (String, Result<String, String>, String);
    let cached: Option<Cached> = ui.data(|m| m.get_temp(id));
    let (read, mut draft) = match cached {
        Some((s, read, draft)) if s == stamp => (read, draft),
        other => {
            let read =
                crate::service::content::read_text(cx.ws, server, db).map_err(|e| e.to_string());
            // Keep what the trainer is typing unless the content itself changed.
            let draft = match (&read, other) {
                (Ok(_), Some((_, old, d))) if old == read => d,
                (Ok(t), _) => t.clone(),
                (Err(_), Some((_, _, d))) => d,
                (Err(_), None) => String::new(),
            };
            (read, draft)
        }
    };
    ui.label(
        egui::RichText::new("SELECT Text FROM dbo.Notes")
            .monospace()
            .weak(),
    );
    match &read {
        Ok(_) => {
            ui.add(
                egui::TextEdit::multiline(&mut draft)
                    .desired_rows(3)
                    .desired_width(f32::INFINITY)
                    .hint_text("(empty)"),
            );
            if cx.ws.continuity.primary_of(server, db).is_some() {
                ui.label("A geo-secondary is read-only: write on its primary.");
            } else if ui
                .add_enabled(!cx.busy, egui::Button::new("Run UPDATE"))
                .clicked()
            {
                let (server, db, text) = (server.to_string(), db.to_string(), draft.clone());
                cx.run_to(Line::Query, move |ws| {
                    said(
                        crate::service::content::write_text(ws, &server, &db, &text),
                        |()| String::new(),
                    )
                });
            }
        }
        Err(e) => widgets::error_box(ui, &format!("Cannot connect: {e}")),
    }
    ui.data_mut(|m| m.insert_temp(id, (stamp, read, draft)));
}

/// The inaccessible-database recovery steps: which check fails and why, a button to the
/// blade that fixes it, then revalidation.
fn recovery_wizard(ui: &mut egui::Ui, server: &str, db: &str, d: &Database, cx: &mut BladeCtx<'_>) {
    use crate::service::{keyvault, recovery, tde};
    section(ui, "Recover this database");
    let own_key = d.encryption_protector.is_some();
    let vault_key = cx
        .ws
        .server(server)
        .and_then(|s| s.database_key(d))
        .and_then(|k| k.uri.as_deref())
        .and_then(KeyUri::parse);
    match tde::database_key_access(cx.ws, server, db) {
        Err(f) => {
            ui.label(format!("Step 1 of 2: restore the server's access to its key. The check that fails now: {} ({}).", f.code(), f.describe()));
            let Some(uri) = vault_key else { return };
            ui.add_enabled_ui(!cx.busy, |ui| match &f {
                KeyAccessFailure::MissingPermissions(_) | KeyAccessFailure::TenantMismatch | KeyAccessFailure::FirewallBlocked => {
                    if ui.button("Open the key vault (access policies, networking)").clicked() {
                        cx.open(BladeKind::Vault { vault: uri.vault.clone(), forms: Default::default() });
                    }
                }
                KeyAccessFailure::KeyDisabled | KeyAccessFailure::KeyExpired | KeyAccessFailure::KeyNotYetActive | KeyAccessFailure::KeyOperationsNotPermitted => {
                    if ui.button("Open the key version").clicked() {
                        cx.open(BladeKind::KeyVersion {
                            vault: uri.vault.clone(),
                            key: uri.key.clone(),
                            version: uri.version.clone().unwrap_or_default(),
                            message: None,
                        });
                    }
                }
                KeyAccessFailure::KeyDeleted => {
                    if ui.button("Recover the deleted key").clicked() {
                        let (vault, key) = (uri.vault.clone(), uri.key.clone());
                        cx.run(move |ws| said(keyvault::recover_key(ws, &vault, &key), |k| format!("Key '{}' recovered.", k.name)));
                    }
                }
                KeyAccessFailure::VaultDeleted => {
                    if ui.button("Recover the deleted key vault").clicked() {
                        let vault = uri.vault.clone();
                        cx.run(move |ws| said(keyvault::recover_vault(ws, &vault), |v| format!("Key vault '{}' recovered.", v.name)));
                    }
                }
                KeyAccessFailure::NoServerIdentity => {
                    if ui.button("Open the server (identity)").clicked() {
                        cx.open(BladeKind::Server {
                            server: server.to_string(),
                            message: None,
                        });
                    }
                }
                KeyAccessFailure::VaultUnreachable | KeyAccessFailure::Throttled => {
                    ui.label("No action needed: the vault cannot be reached (an outage). The database comes back by itself once it passes.");
                }
                KeyAccessFailure::VaultNotFound | KeyAccessFailure::KeyNotFound | KeyAccessFailure::UnwrapFailed => {
                    ui.label(if own_key {
                        "The database's own key is gone: restore a backup of it into the same vault (the key id stays the same), then revalidate."
                    } else {
                        "The key is gone: restore a backup of it into a vault, grant the server access, then select it below as the backup key."
                    });
                }
            });
            if !own_key
                && matches!(
                    f,
                    KeyAccessFailure::KeyDeleted
                        | KeyAccessFailure::VaultDeleted
                        | KeyAccessFailure::VaultNotFound
                        | KeyAccessFailure::KeyNotFound
                )
            {
                let id = ui.scope_id().with("backup-kid");
                let mut kid: String = ui.data_mut(|d| d.get_temp(id)).unwrap_or_default();
                ui.label("Or select a backup key: a key with the same key material (restored from a backup).");
                text_field(
                    ui,
                    "Backup key identifier",
                    &mut kid,
                    "https://<vault>.vault.azure.net/keys/<key>/<version>",
                );
                if ui
                    .add_enabled(
                        !cx.busy && !kid.trim().is_empty(),
                        egui::Button::new("Select backup key"),
                    )
                    .clicked()
                {
                    let (server, backup_kid) = (server.to_string(), kid.trim().to_string());
                    cx.run(move |ws| {
                        said(
                            recovery::revalidate_with_backup_key(ws, &server, &backup_kid),
                            |dbs| format!("Backup key selected: revalidating {}.", dbs.join(", ")),
                        )
                    });
                }
                ui.data_mut(|d| d.insert_temp(id, kid));
            }
        }
        Ok(()) => {
            let DatabaseState::Inaccessible {
                revalidation_required,
                access_restored_at,
                ..
            } = &d.state
            else {
                return;
            };
            if *revalidation_required {
                ui.label("Step 2 of 2: access is back, but after the auto-heal window. Revalidate the key; recovery takes time that grows with the database's size, and server-level settings are lost.");
                if ui
                    .add_enabled(
                        !cx.busy,
                        egui::Button::new("Revalidate key (retry existing key)"),
                    )
                    .clicked()
                {
                    let (server, db) = (server.to_string(), db.to_string());
                    cx.run(move |ws| {
                        said(
                            recovery::revalidate_database(ws, &server, &db),
                            |d| match d.state {
                                DatabaseState::Recovering { until, .. } => {
                                    format!("Revalidation accepted: back online at about {until}.")
                                }
                                _ => "Revalidation accepted.".into(),
                            },
                        )
                    });
                }
                if own_key
                    && ui
                        .add_enabled(!cx.busy, egui::Button::new("Revert to the server's key"))
                        .clicked()
                {
                    let (server, db) = (server.to_string(), db.to_string());
                    cx.run(move |ws| {
                        said(
                            crate::service::database_key::revert_database_protector(ws, &server, &db),
                            |_| "Reverted to the server's TDE protector: the database is being brought back online.".into(),
                        )
                    });
                }
            } else if let Some(at) = access_restored_at {
                ui.label(format!("Access is back since {at}, within the auto-heal window: the database comes back online within the hour by itself. Advance the clock."));
            } else {
                ui.label(
                    "Access is back: the server notices at its next check. Advance the clock.",
                );
            }
        }
    }
}

/// Database-level customer-managed key: which key protects this database's DEK, set one of
/// its own, or revert to the server's TDE protector.
fn encryption_protector(ui: &mut egui::Ui, server: &str, d: &Database, cx: &mut BladeCtx<'_>) {
    use crate::service::database_key;
    section(ui, "Encryption protector");
    let Some(s) = cx.ws.server(server) else {
        return;
    };
    let protector = s.protector.server_key_name.clone();
    match &d.encryption_protector {
        Some(own) => {
            let rotation = if d.encryption_protector_auto_rotation {
                " It follows the key's newest version (auto-rotation)."
            } else {
                ""
            };
            ui.label(format!(
                "Database-level key: '{own}'. This database keeps it when the server's protector ('{protector}') changes, and is made Inaccessible on its own if the key is lost.{rotation}"
            ));
            if ui
                .add_enabled(
                    !cx.busy && d.state.is_online(),
                    egui::Button::new("Revert to server key"),
                )
                .clicked()
            {
                let (server, db) = (server.to_string(), d.name.clone());
                let protector = protector.clone();
                cx.run(move |ws| {
                    said(database_key::revert_database_protector(ws, &server, &db), |_| {
                        format!("Reverted: the DEK is wrapped by the server's protector '{protector}' again.")
                    })
                });
            }
        }
        None => {
            ui.label(format!(
                "Server-level: this database follows the server's TDE protector ('{protector}')."
            ));
        }
    }
    let id = ui.scope_id().with("db-kid");
    let auto_id = ui.scope_id().with("db-kid-auto");
    let mut kid: String = ui.data_mut(|m| m.get_temp(id)).unwrap_or_default();
    let mut auto: bool = ui.data_mut(|m| m.get_temp(auto_id)).unwrap_or_default();
    text_field(
        ui,
        "Database key identifier",
        &mut kid,
        "https://<vault>.vault.azure.net/keys/<key>[/<version>]",
    );
    ui.checkbox(&mut auto, "Auto-rotate the database key")
        .on_hover_text(
            "Follow the key's newest version; a key id without a version is then accepted.",
        );
    if ui
        .add_enabled(
            !cx.busy && d.state.is_online() && !kid.trim().is_empty(),
            egui::Button::new("Set database key"),
        )
        .clicked()
    {
        let (server, db, key_id) = (server.to_string(), d.name.clone(), kid.trim().to_string());
        cx.run(move |ws| {
            said(
                database_key::set_database_protector(ws, &server, &db, &key_id, auto),
                |d| {
                    format!(
                        "Database '{}' now has its own encryption protector '{}'.",
                        d.name,
                        d.encryption_protector.clone().unwrap_or_default()
                    )
                },
            )
        });
    }
    ui.data_mut(|m| {
        m.insert_temp(id, kid);
        m.insert_temp(auto_id, auto);
    });
}

/// Resource health as a drawn timeline: Available (1) or Unavailable (0) over the hours
/// since the first record, up to now.
fn health_timeline(ui: &mut egui::Ui, history: &[HealthEvent], now: Timestamp) {
    use egui_plot::{Line, Plot, PlotPoints};
    let Some(first) = history.first() else { return };
    let hours = |t: Timestamp| (t.0 - first.time.0) as f64 / 3600.0;
    let level = |h: ResourceHealth| match h {
        ResourceHealth::Available => 1.0,
        ResourceHealth::Unavailable => 0.0,
    };
    let mut points = vec![[0.0, level(first.health)]];
    for pair in history.windows(2) {
        let x = hours(pair[1].time);
        points.push([x, level(pair[0].health)]);
        points.push([x, level(pair[1].health)]);
    }
    if let Some(last) = history.last() {
        points.push([hours(now.max(last.time)), level(last.health)]);
    }
    points.dedup();
    Plot::new(ui.scope_id().with("health-timeline"))
        .height(90.0)
        .include_y(-0.1)
        .include_y(1.1)
        .x_axis_label(format!("hours since {}", first.time))
        .y_axis_formatter(|mark, _| {
            if mark.value >= 0.99 && mark.value <= 1.01 {
                "Available".into()
            } else if mark.value.abs() < 0.01 {
                "Unavailable".into()
            } else {
                String::new()
            }
        })
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .show(ui, |plot| {
            plot.line(
                Line::new("Resource health", PlotPoints::new(points))
                    .color(crate::ui::widgets::BLUE)
                    // A step line: egui_plot would merge each vertical step into a band
                    // reaching to the next point, drawing a wedge.
                    .allow_band(false),
            );
        });
}

/// "1 (512 bytes of rows)": how many sample pages a database holds and how much they carry.
fn sample_pages_label(pages: &PageStore) -> String {
    let bytes: usize = match pages {
        PageStore::Encrypted(p) => p
            .iter()
            .map(|p| p.ciphertext.len().saturating_sub(16))
            .sum(),
        PageStore::Plain(p) => p.iter().map(|p| p.0.len()).sum(),
    };
    format!("{} ({bytes} bytes of rows)", pages.len())
}
