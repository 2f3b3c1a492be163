//! Database overview: status, Resource Health, TDE and its wrapped DEK, "Test connection".

use super::{BladeCtx, BladeKind, Change, Invocation, Line, outcome};
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
    let Some(srv) = cx.ws.server(server) else {
        return;
    };
    // What a client connecting now would see: the state, or a region outage on top of it.
    let availability = crate::service::availability::availability(cx.ws, srv, &d);
    let mark = widgets::state_mark(cx.ws, srv, &d);
    let health = crate::service::availability::health(cx.ws, srv, &d);
    // What was said about another state (a 40613 before the database healed or its region
    // came back) is no longer true.
    super::forget_when_changed(ui, "db-state", message, availability.label());
    ui.horizontal_wrapped(|ui| {
        ui.label("Status:");
        state_badge(ui, &mark);
        ui.label("Resource health:");
        health_badge(ui, health);
    });
    if let crate::service::availability::Availability::RegionOutage { region, until } =
        &availability
    {
        widgets::warning_box(
            ui,
            &format!(
                "Region {region} is down until {until}: connections to this database fail with error 40613 (not currently available). Nothing is wrong with the database or its key: it serves again by itself when the region is back."
            ),
        );
    }
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
        widgets::info_box(
            ui,
            &format!(
                "Key revalidated at {since}: the database is being brought back online ({} left).",
                left.human()
            ),
        );
    }
    let inaccessible = matches!(d.state, DatabaseState::Inaccessible { .. });
    // Test connection's outcome shows under its button, whatever the state: shown beside
    // the wizard (above the button) it pushed the button ~108 points down under the pointer.
    let tested = matches!(message, Some(Ok(t) | Err(t)) if t.starts_with("Test connection"));
    if inaccessible {
        recovery_wizard(ui, server, db, &d, cx);
        // The wizard's outcome shows beside its buttons.
        if !tested {
            outcome(ui, message);
        }
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
    ui.horizontal_wrapped(|ui| {
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
    // A dedicated SQL pool: Pause / Resume, as `az sql dw pause|resume`.
    if d.is_data_warehouse() {
        let paused = d.state.is_paused();
        ui.horizontal_wrapped(|ui| {
            ui.label(format!("Dedicated SQL pool ({}).", d.state.label()));
            if ui.button(if paused { "Resume" } else { "Pause" }).clicked() {
                let (server, db) = (server.to_string(), db.to_string());
                let g = cx
                    .ws
                    .server(&server)
                    .map(|s| s.resource_group.clone())
                    .unwrap_or_default();
                let ask = Invocation::new(if paused {
                    "az sql dw resume"
                } else {
                    "az sql dw pause"
                })
                .arg("--name", db.clone())
                .arg("--server", server.clone())
                .arg("--resource-group", g);
                cx.request(ask, move |_, ws| {
                    let state = ws
                        .server(&server)
                        .and_then(|s| s.database(&db))
                        .map(|d| d.state.label())
                        .unwrap_or_default();
                    format!("Dedicated SQL pool '{db}' is {state}.")
                });
            }
        });
    }
    query_editor(ui, server, db, &d, cx);
    if ui.button("Test connection").clicked() {
        let ask = Invocation::new("sim connect")
            .arg("--server", server)
            .arg("--database", db);
        let (db, failed) = (db.to_string(), db.to_string());
        // Worded for the History too: which database, and what came of it.
        let change = Change::request(ask, move |out, _| {
            format!(
                "Test connection to '{db}': Connected. {} page(s) read and authenticated with the database encryption key.",
                out["pagesVerified"].as_u64().unwrap_or_default()
            )
        })
        .refused_as(move |e| format!("Test connection to '{failed}' failed: {e}"));
        cx.change_to(Line::Main, change, None);
    }
    customer_app_button(ui, server, db, cx);
    if !inaccessible || tested {
        outcome(ui, message);
    }
    section(ui, "Essentials");
    let mut rows = vec![
        ("Server", server.to_string()),
        (
            "Pricing tier",
            crate::service::sku::sku_of(&d).pricing_label(),
        ),
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
    if d.infra_encrypted {
        rows.push((
            "Infrastructure encryption",
            "Enabled: pages also under the platform's AES-256 key".into(),
        ));
    }
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
    section(ui, "Status and resource health over time");
    health_timeline(ui, server, &d, cx);
    for h in d.health_history.iter().rev() {
        ui.horizontal_wrapped(|ui| {
            health_badge(ui, h.health);
            ui.label(format!("{} {}", h.time, h.reason));
        });
    }
}

/// "Start customer app": a simulated application querying this database every simulated
/// minute, shown in View > Customer app (which this opens); "Show customer app" once one runs.
fn customer_app_button(ui: &mut egui::Ui, server: &str, db: &str, cx: &mut BladeCtx<'_>) {
    let running = cx
        .ws
        .customer_apps
        .iter()
        .any(|a| a.running() && a.is_for(server, db));
    let show = |ui: &mut egui::Ui| {
        ui.ctx().data_mut(|d| {
            d.insert_temp(
                crate::ui::customer_app::request_id(),
                (server.to_string(), db.to_string()),
            )
        })
    };
    if running {
        if ui
            .button("Show customer app")
            .on_hover_text("A customer app queries this database every simulated minute")
            .clicked()
        {
            show(ui);
        }
    } else if ui
        .add_enabled(!cx.busy, egui::Button::new("Start customer app"))
.on_disabled_hover_text(crate::ui::widgets::BUSY_WHY)
        .on_hover_text(
            "Start a simulated application that queries this database every simulated minute and charts what it gets",
        )
        .clicked()
    {
        show(ui);
        let ask = Invocation::new("sim app start")
            .arg("--server", server)
            .arg("--database", db);
        let d = db.to_string();
        cx.request(ask, move |_, _| {
            format!(
                "Customer app started: it queries '{d}' every simulated minute (View > Customer app)."
            )
        });
    }
}

/// A small query editor over the database's content: what a client reads (really decrypted
/// with the DEK the server holds), or the service's refusal; and an UPDATE that rewrites it.
fn query_editor(ui: &mut egui::Ui, server: &str, db: &str, d: &Database, cx: &mut BladeCtx<'_>) {
    section(ui, "Query editor");
    let id = ui.make_persistent_id(("query-editor", cx.blade_id, server, db));
    // What the database holds, and whether it answers, change only with a change of the
    // workspace or the clock (walk 35: a region outage, which changes no database's state,
    // left the last result shown under the 40613 banner).
    let stamp = format!(
        "{}|{:?}|{}|{}|{}",
        d.content.len(),
        d.content.last().map(|r| r.at),
        d.state.label(),
        cx.ws.now().0,
        cx.ws.revision
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
                .on_disabled_hover_text(crate::ui::widgets::BUSY_WHY)
                .clicked()
            {
                let (db, text) = (db.to_string(), draft.clone());
                // A script line holds no line break: a text of several lines is one
                // `--line` a line.
                let mut ask = Invocation::new("sim write")
                    .arg("--server", server)
                    .arg("--database", db.clone());
                if text.contains('\n') {
                    for line in text.split('\n') {
                        ask = ask.arg("--line", line);
                    }
                } else {
                    ask = ask.arg("--text", text.clone());
                }
                let failed = db.clone();
                // The editor shows a write that worked; this text is its History label.
                let change = Change::request(ask, move |_, _| {
                    format!(
                        "Run UPDATE on dbo.Notes of '{db}': {} character(s) written.",
                        text.chars().count()
                    )
                })
                .refused_as(move |e| format!("Run UPDATE on '{failed}' failed: {e}"));
                cx.change_to(Line::Query, change, None);
            }
        }
        Err(e) => widgets::error_box(ui, &format!("Cannot connect: {e}")),
    }
    ui.data_mut(|m| m.insert_temp(id, (stamp, read, draft)));
}

/// The inaccessible-database recovery steps: which check fails and why, a button to the
/// blade that fixes it, then revalidation.
fn recovery_wizard(ui: &mut egui::Ui, server: &str, db: &str, d: &Database, cx: &mut BladeCtx<'_>) {
    use crate::service::tde;
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
                        let ask = Invocation::new("az keyvault key recover")
                            .arg("--vault-name", uri.vault.clone())
                            .arg("--name", uri.key.clone());
                        let key = uri.key.clone();
                        cx.request(ask, move |_, _| format!("Key '{key}' recovered."));
                    }
                }
                KeyAccessFailure::VaultDeleted => {
                    if ui.button("Recover the deleted key vault").clicked() {
                        let vault = uri.vault.clone();
                        let ask = Invocation::new("az keyvault recover").arg("--name", vault.clone());
                        cx.request(ask, move |_, _| format!("Key vault '{vault}' recovered."));
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
                    .on_disabled_hover_text(crate::ui::widgets::why(&[
                        (cx.busy, crate::ui::widgets::BUSY_WHY),
                        (
                            kid.trim().is_empty(),
                            "Type the backup key identifier first.",
                        ),
                    ]))
                    .clicked()
                {
                    let ask = Invocation::new("sim tde select-backup-key")
                        .arg("--server", server)
                        .arg("--kid", kid.trim());
                    cx.request(ask, |out, _| {
                        format!(
                            "Backup key selected: revalidating {}.",
                            names_in(out).join(", ")
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
                    .on_disabled_hover_text(crate::ui::widgets::BUSY_WHY)
                    .clicked()
                {
                    let ask = Invocation::new("az sql db tde key revalidate")
                        .arg("--server", server)
                        .arg("--database", db)
                        .arg("--resource-group", super::group_of(cx.ws, server));
                    let (server, db) = (server.to_string(), db.to_string());
                    cx.request(ask, move |_, ws| {
                        match ws
                            .server(&server)
                            .and_then(|s| s.database(&db))
                            .map(|d| &d.state)
                        {
                            Some(DatabaseState::Recovering { until, .. }) => {
                                format!("Revalidation accepted: back online at about {until}.")
                            }
                            _ => "Revalidation accepted.".into(),
                        }
                    });
                }
                if own_key
                    && ui
                        .add_enabled(!cx.busy, egui::Button::new("Revert to the server's key"))
                        .on_disabled_hover_text(crate::ui::widgets::BUSY_WHY)
                        .clicked()
                {
                    let ask = Invocation::new("az sql db tde key revert")
                        .arg("--database", db)
                        .arg("--server", server)
                        .arg("--resource-group", super::group_of(cx.ws, server));
                    cx.request(ask, |_, _| {
                        "Reverted to the server's TDE protector: the database is being brought back online.".into()
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
                .on_disabled_hover_text(crate::ui::widgets::why(&[
                    (cx.busy, crate::ui::widgets::BUSY_WHY),
                    (
                        !d.state.is_online(),
                        "The database must be Online to change its key.",
                    ),
                ]))
                .clicked()
            {
                let protector = protector.clone();
                let ask = Invocation::new("az sql db tde key revert")
                    .arg("--database", d.name.clone())
                    .arg("--server", server)
                    .arg("--resource-group", super::group_of(cx.ws, server));
                cx.request(ask, move |_, _| {
                    format!("Reverted: the DEK is wrapped by the server's protector '{protector}' again.")
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
        .on_disabled_hover_text(crate::ui::widgets::why(&[
            (cx.busy, crate::ui::widgets::BUSY_WHY),
            (
                !d.state.is_online(),
                "The database must be Online to change its key.",
            ),
            (
                kid.trim().is_empty(),
                "Type the database key identifier first.",
            ),
        ]))
        .clicked()
    {
        let ask = Invocation::new("az sql db update")
            .arg("--name", d.name.clone())
            .arg("--server", server)
            .arg("--resource-group", super::group_of(cx.ws, server))
            .arg("--encryption-protector", kid.trim())
            .arg_opt(
                "--encryption-protector-auto-rotation",
                auto.then_some("true"),
            );
        let (server, db) = (server.to_string(), d.name.clone());
        cx.request(ask, move |_, ws| {
            let protector = ws
                .server(&server)
                .and_then(|s| s.database(&db))
                .and_then(|d| d.encryption_protector.clone())
                .unwrap_or_default();
            format!("Database '{db}' now has its own encryption protector '{protector}'.")
        });
    }
    ui.data_mut(|m| {
        m.insert_temp(id, kid);
        m.insert_temp(auto_id, auto);
    });
}

/// Which stretch of time the status and health bars show.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Window {
    /// From a little before the latest outage (or the last day).
    Recent,
    Day,
    Week,
    /// Since the database was created.
    All,
}

/// Where the state changed: `(when, state)` for every change, oldest first.
type Changes = std::sync::Arc<Vec<(Timestamp, &'static str)>>;

/// The database's states (Online, Inaccessible, Recovering, Restoring, Unavailable while its
/// region was down) from the Activity Log, each episode in its own colour, above its
/// Resource Health (which follows the state), on one time axis ending a little after now
/// (marked). The window starts a little before the latest outage (the run of stretches that
/// were not Online), so a one-hour outage after a month of Online is a readable stretch,
/// not a sliver; a day, a week or everything since creation are a click away.
fn health_timeline(ui: &mut egui::Ui, server: &str, d: &Database, cx: &BladeCtx<'_>) {
    use widgets::{AMBER, BLUE, GREEN, RED, Segment, segment_bar};
    let now = cx.ws.now();
    let Some(srv) = cx.ws.server(server) else {
        return;
    };
    let created = d
        .health_history
        .first()
        .map(|h| h.time.min(d.created))
        .unwrap_or(d.created);
    // State changes recorded for this database, worked out again only when the workspace
    // changes (the Activity Log of a large estate is long).
    type Cached = (u64, Changes);
    let id = ui.scope_id().with(("state-episodes", server, &d.name));
    let changes = match ui.data(|m| m.get_temp::<Cached>(id)) {
        Some((rev, c)) if rev == cx.ws.revision => c,
        _ => {
            let resource = crate::service::ids::database(srv, &d.name);
            let mut c: Vec<(Timestamp, &'static str)> = cx
                .ws
                .activity_log
                .iter()
                .filter(|e| e.resource.eq_ignore_ascii_case(&resource) && e.time >= created)
                .filter_map(|e| {
                    let state = match (e.operation.as_str(), e.status) {
                        ("MakeDatabaseInaccessible", _) => "Inaccessible",
                        ("MakeDatabaseAccessible", ActivityStatus::Succeeded) => "Online",
                        ("MakeDatabaseAccessible", ActivityStatus::Failed) => "Inaccessible",
                        ("MakeDatabaseAccessible", ActivityStatus::Started)
                            if e.message.contains("revalidation") =>
                        {
                            "Recovering"
                        }
                        _ => return None,
                    };
                    Some((e.time, state))
                })
                .collect();
            // The state in force now, whatever the log has shown so far.
            let since = match &d.state {
                DatabaseState::Online => None,
                DatabaseState::Inaccessible { since, .. }
                | DatabaseState::Recovering { since, .. }
                | DatabaseState::Restoring { since, .. }
                | DatabaseState::Paused { since } => Some(*since),
            };
            if let Some(since) = since
                && c.last().is_none_or(|(_, s)| *s != d.state.label())
            {
                c.push((since.max(created), d.state.label()));
            }
            c.sort_by_key(|(t, _)| *t);
            let c = std::sync::Arc::new(c);
            ui.data_mut(|m| m.insert_temp(id, (cx.ws.revision, c.clone())));
            c
        }
    };
    // The region outages of the server's region, as far as they have happened.
    let outages: Vec<(Timestamp, Timestamp)> = cx
        .ws
        .continuity
        .region_outages
        .iter()
        .filter(|o| o.region.eq_ignore_ascii_case(&srv.location) && o.from <= now)
        .map(|o| (o.from, o.until.min(now)))
        .collect();
    let region_down = |t: Timestamp| outages.iter().any(|(a, b)| *a <= t && t < *b);
    let first_state = match d.state {
        DatabaseState::Restoring { .. } if changes.is_empty() => "Restoring",
        _ => "Online",
    };
    let state_at = |t: Timestamp| {
        let i = changes.partition_point(|(at, _)| *at <= t);
        let base = if i == 0 {
            first_state
        } else {
            changes[i - 1].1
        };
        if base == "Online" && region_down(t) {
            "Unavailable"
        } else {
            base
        }
    };
    let health_at = |t: Timestamp| {
        let i = d.health_history.partition_point(|h| h.time <= t);
        let recorded = if i == 0 {
            ResourceHealth::Available
        } else {
            d.health_history[i - 1].health
        };
        if region_down(t) {
            ResourceHealth::Unavailable
        } else if state_at(t) == "Restoring" {
            // Nothing reports on a database a restore is still creating.
            ResourceHealth::Unknown
        } else {
            recorded
        }
    };
    // Every instant something may change, then the stretches between them.
    let mut cuts: Vec<Timestamp> = vec![created];
    cuts.extend(changes.iter().map(|(t, _)| *t));
    cuts.extend(d.health_history.iter().map(|h| h.time));
    cuts.extend(outages.iter().flat_map(|(a, b)| [*a, *b]));
    cuts.retain(|t| *t >= created && *t < now);
    cuts.sort_unstable();
    cuts.dedup();
    let stretches = |label_of: &dyn Fn(Timestamp) -> (&'static str, egui::Color32)| {
        let mut out: Vec<Segment> = Vec::new();
        for (i, from) in cuts.iter().enumerate() {
            let to = cuts.get(i + 1).copied().unwrap_or(now);
            let (label, colour) = label_of(*from);
            match out.last_mut() {
                Some(last) if last.label == label => last.to = to,
                _ => out.push(Segment {
                    from: *from,
                    to,
                    colour,
                    label: label.to_string(),
                }),
            }
        }
        out
    };
    let episodes = stretches(&|t| {
        let s = state_at(t);
        let colour = match s {
            "Online" => GREEN,
            "Inaccessible" => RED,
            "Recovering" | "Restoring" => BLUE,
            _ => AMBER,
        };
        (s, colour)
    });
    let health = stretches(&|t| match health_at(t) {
        ResourceHealth::Available => ("Available", GREEN),
        ResourceHealth::Unavailable => ("Unavailable", RED),
        ResourceHealth::Unknown => ("Unknown", widgets::GREY),
    });
    // The window.
    let wid = ui.scope_id().with(("health-window", server, &d.name));
    let mut window = ui
        .data(|m| m.get_temp::<Window>(wid))
        .unwrap_or(Window::Recent);
    ui.horizontal_wrapped(|ui| {
        ui.label(egui::RichText::new("Show:").weak());
        for (w, text) in [
            (Window::Recent, "Recent episodes"),
            (Window::Day, "Last 24 h"),
            (Window::Week, "Last 7 days"),
            (Window::All, "Since creation"),
        ] {
            ui.selectable_value(&mut window, w, text);
        }
    });
    ui.data_mut(|m| m.insert_temp(wid, window));
    let recent = || {
        // The start of the latest outage: the run of stretches up to the last one that was
        // not Online (or not Available), in either bar.
        let outage_start = |e: &[Segment], fine: &str| {
            let last_bad = e.iter().rposition(|s| s.label != fine)?;
            let first = e[..=last_bad]
                .iter()
                .rposition(|s| s.label == fine)
                .map_or(0, |i| i + 1);
            Some(e[first].from)
        };
        match [
            outage_start(&episodes, "Online"),
            outage_start(&health, "Available"),
        ]
        .into_iter()
        .flatten()
        .min()
        {
            Some(anchor) => anchor - Duration(((now - anchor).0 / 4).max(1200)),
            None => now - Duration::hours(24),
        }
    };
    let start = match window {
        Window::Recent => recent(),
        Window::Day => now - Duration::hours(24),
        Window::Week => now - Duration::days(7),
        Window::All => created,
    }
    .max(created)
    .min(now - Duration::minutes(10));
    // A little room after now, so "now" is never on the edge.
    let end = now + Duration(((now - start).0 / 25).max(30));
    let shown = |v: &[Segment]| -> Vec<Segment> {
        v.iter()
            .filter(|s| s.to > start)
            .map(|s| Segment {
                from: s.from.max(start),
                to: s.to,
                colour: s.colour,
                label: s.label.clone(),
            })
            .collect()
    };
    ui.label(egui::RichText::new("Status").weak());
    let (status_rect, x) = segment_bar(ui, start, end, &shown(&episodes));
    ui.label(egui::RichText::new("Resource health").weak());
    let (health_rect, _) = segment_bar(ui, start, end, &shown(&health));
    // The time axis: ticks with the time of day (and the date over more than a day), and
    // a line at now through both bars.
    let (axis, _) =
        ui.allocate_exact_size(egui::vec2(status_rect.width(), 16.0), egui::Sense::hover());
    let painter = ui.painter();
    let ink = ui.visuals().weak_text_color();
    let font = egui::FontId::proportional(11.0);
    let long = (now - start) > Duration::hours(36);
    let clock = |t: Timestamp| {
        let text = t.to_display();
        let time = text.get(11..16).unwrap_or("");
        if long {
            format!("{} {time}", text.get(5..10).unwrap_or(""))
        } else {
            time.to_string()
        }
    };
    let ticks = if status_rect.width() > 420.0 { 4 } else { 2 };
    for i in 0..ticks {
        let t = Timestamp(start.0 + (now - start).0 * i / ticks);
        let px = x(t);
        painter.vline(
            px,
            axis.top()..=axis.top() + 3.0,
            egui::Stroke::new(1.0, ink),
        );
        painter.text(
            egui::pos2(px, axis.top() + 3.0),
            if i == 0 {
                egui::Align2::LEFT_TOP
            } else {
                egui::Align2::CENTER_TOP
            },
            clock(t),
            font.clone(),
            ink,
        );
    }
    let now_x = x(now);
    let strong = ui.visuals().strong_text_color();
    painter.vline(
        now_x,
        status_rect.top()..=health_rect.bottom() + 3.0,
        egui::Stroke::new(1.5, strong),
    );
    painter.text(
        egui::pos2(now_x, axis.top() + 3.0),
        egui::Align2::RIGHT_TOP,
        "now",
        font,
        strong,
    );
    ui.label(
        egui::RichText::new(format!(
            "Showing {} to now ({}), {}.",
            clock(start),
            now.to_display(),
            (now - start).human()
        ))
        .weak()
        .small(),
    );
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

/// The `name`s of a command's JSON list (databases a revalidation covers).
fn names_in(out: &serde_json::Value) -> Vec<String> {
    match out {
        serde_json::Value::Array(items) => items
            .iter()
            .filter_map(|d| d["name"].as_str().map(str::to_string))
            .collect(),
        other => other["databases"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|d| {
                d.as_str()
                    .map(str::to_string)
                    .or_else(|| d["name"].as_str().map(str::to_string))
            })
            .collect(),
    }
}
