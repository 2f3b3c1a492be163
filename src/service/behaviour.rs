//! What the services do as simulated time passes: revocations propagate, servers check
//! their protector, databases turn Inaccessible, and access restored in time auto-heals.
//!
//! The rules, with the numbers of the timing profile:
//! - a server whose protector becomes unusable notices it at its next periodic check,
//!   1 to 10 minutes later; if access is still lost then, every encrypted database turns
//!   Inaccessible (never earlier, never later than 10 minutes);
//! - access restored within the auto-heal window (8 h in 2021, 30 min in current) of a
//!   database turning Inaccessible brings it back Online within the next hour, by really
//!   unwrapping its DEK through the vault and decrypting its pages;
//! - access restored later leaves the database waiting for "Revalidate key".

use super::tde::{protector_access, server_unwrap_dek};
use super::{ServiceError, ServiceResult, ids, notify};
use crate::model::*;
use crate::sim::{Duration, SimEvent, TimingProfile};

/// Advances the simulated clock by `by`, running every event that falls due on the way.
pub fn advance(ws: &mut Workspace, by: Duration) -> ServiceResult<()> {
    if by.0 < 0 {
        return Err(ServiceError::bad_request(
            "InvalidArgument",
            "Simulated time only moves forward.",
        ));
    }
    let target = ws.now() + by;
    // Notice anything that changed without an operation (a file opened, an edit in a test).
    reconcile(ws);
    while let Some(ev) = ws.schedule.pop_due(target) {
        if ev.at > ws.clock.now {
            ws.clock.now = ev.at;
        }
        handle(ws, &ev.event);
        reconcile(ws);
    }
    ws.clock.now = target;
    reconcile(ws);
    Ok(())
}

/// The time of the next scheduled event, if any.
pub fn next_event_time(ws: &Workspace) -> Option<Timestamp> {
    ws.schedule.events.first().map(|e| e.at)
}

fn handle(ws: &mut Workspace, event: &SimEvent) {
    let now = ws.now();
    match event {
        SimEvent::PermissionRevocationPropagated { vault } => {
            if let Some(v) = ws.vault_mut(vault) {
                v.pending_revocations.retain(|p| p.effective_at > now);
                super::rbac::drop_expired(v, now);
            }
        }
        SimEvent::ProtectorCheck { server } => protector_check(ws, server),
        SimEvent::AutoHeal { server } => auto_heal(ws, server),
        SimEvent::RecoveryComplete { server, database } => {
            super::recovery::complete_recovery(ws, server, database)
        }
        SimEvent::AutoRotate { server } => auto_rotate(ws, server),
        SimEvent::NetworkOutageEnds { server } => {
            if let Some(s) = ws.server_mut(server)
                && s.network_outage_until.is_some_and(|t| t <= now)
            {
                s.network_outage_until = None;
            }
        }
        SimEvent::EvaluateAlerts => super::monitor::evaluate_alerts(ws),
        SimEvent::ScheduledPurge => super::keyvault::purge_expired(ws),
        SimEvent::KeyAttributeBoundary { .. } => {}
        SimEvent::KeyLifecycle => super::rotation::run_lifecycle(ws),
    }
}

/// Compares each server's access to its protector with what it last knew, and schedules the
/// service's reaction. Runs after every operation and every event.
pub fn reconcile(ws: &mut Workspace) {
    let now = ws.now();
    let names: Vec<String> = ws.servers.iter().map(|s| s.name.clone()).collect();
    for name in names {
        let access = protector_access(ws, &name);
        let Some(s) = ws.server(&name) else { continue };
        let lost_since = s.key_access_lost_since;
        match access {
            Err(cause) => {
                if lost_since.is_none() {
                    // Under the current profile, 5XX causes get a 24-hour buffer.
                    let delay = if cause.is_transient() && ws.profile == TimingProfile::Current {
                        TimingProfile::TRANSIENT_BUFFER
                    } else {
                        ws.clock
                            .draw_delay(Duration::minutes(1), TimingProfile::MAX_DETECTION_DELAY)
                    };
                    if let Some(s) = ws.server_mut(&name) {
                        s.key_access_lost_since = Some(now);
                        for d in &mut s.databases {
                            if let DatabaseState::Inaccessible {
                                access_restored_at, ..
                            } = &mut d.state
                            {
                                *access_restored_at = None;
                            }
                        }
                    }
                    ws.schedule.remove_where(
                        |e| matches!(e, SimEvent::AutoHeal { server } if server == &name),
                    );
                    ws.schedule.push(
                        now + delay,
                        SimEvent::ProtectorCheck {
                            server: name.clone(),
                        },
                    );
                }
            }
            Ok(()) => {
                if lost_since.is_some() {
                    if let Some(s) = ws.server_mut(&name) {
                        s.key_access_lost_since = None;
                    }
                    ws.schedule.remove_where(
                        |e| matches!(e, SimEvent::ProtectorCheck { server } if server == &name),
                    );
                }
                access_restored(ws, &name);
            }
        }
        schedule_key_boundary(ws, &name);
        schedule_auto_rotation(ws, &name);
    }
    super::rotation::schedule_lifecycle(ws);
}

/// An auto-rotating server whose key has a newer version picks it up within the profile's
/// window (60 minutes in 2021, 24 hours in current).
fn schedule_auto_rotation(ws: &mut Workspace, name: &str) {
    let Some(s) = ws.server(name) else { return };
    if !s.protector.auto_rotation {
        return;
    }
    let Some(uri) = s.protector_uri() else {
        return;
    };
    let newest = ws
        .vault(&uri.vault)
        .and_then(|v| v.key(&uri.key))
        .filter(|k| k.deleted.is_none())
        .and_then(|k| k.current())
        .map(|v| v.version.0.clone());
    let event = SimEvent::AutoRotate {
        server: name.to_string(),
    };
    if newest.is_some_and(|n| Some(n) != uri.version) && !ws.schedule.contains(&event) {
        let window = ws.profile.auto_rotation_window();
        let delay = ws.clock.draw_delay(Duration::minutes(1), window);
        let at = ws.now() + delay;
        ws.schedule.push(at, event);
    }
}

/// Follows the key's newest version: links it and makes it the protector (re-wrapping every
/// DEK), as the service does for auto-rotation.
fn auto_rotate(ws: &mut Workspace, name: &str) {
    let Some(s) = ws.server(name) else { return };
    let Some(uri) = s.protector_uri() else {
        return;
    };
    let Some(newest) = ws
        .vault(&uri.vault)
        .and_then(|v| v.key(&uri.key))
        .and_then(|k| k.current())
    else {
        return;
    };
    let kid = KeyUri {
        version: Some(newest.version.0.clone()),
        ..uri
    }
    .to_uri();
    let result = super::sql::add_server_key(ws, name, &kid).and_then(|_| {
        super::tde::set_protector(
            ws,
            &super::tde::SetProtector {
                server: name.to_string(),
                key_type: ServerKeyType::AzureKeyVault,
                kid: Some(kid.clone()),
                auto_rotation: true,
            },
        )
    });
    if let Err(e) = result {
        notify(
            ws,
            NotificationLevel::Error,
            "Auto-rotation failed",
            format!("Server '{name}' could not rotate to {kid}: {e}"),
        );
    }
}

/// Databases Inaccessible while access is now back: auto-heal inside the window, else wait
/// for revalidation.
fn access_restored(ws: &mut Workspace, name: &str) {
    let now = ws.now();
    let window = ws.profile.auto_heal_window();
    let mut heal = false;
    let mut late = Vec::new();
    if let Some(s) = ws.server_mut(name) {
        for d in &mut s.databases {
            if let DatabaseState::Inaccessible {
                since,
                cause,
                access_restored_at,
                revalidation_required,
            } = &mut d.state
                && access_restored_at.is_none()
            {
                *access_restored_at = Some(now);
                // An outage needs no action: those databases come back whatever the time.
                if now - *since <= window || cause.is_transient() {
                    heal = true;
                } else {
                    *revalidation_required = true;
                    late.push(d.name.clone());
                }
            }
        }
    }
    if heal
        && !ws.schedule.contains(&SimEvent::AutoHeal {
            server: name.to_string(),
        })
    {
        let delay = ws
            .clock
            .draw_delay(Duration::minutes(5), TimingProfile::MAX_AUTO_HEAL_DELAY);
        ws.schedule.push(
            now + delay,
            SimEvent::AutoHeal {
                server: name.to_string(),
            },
        );
    }
    for db in late {
        notify(
            ws,
            NotificationLevel::Warning,
            "Key revalidation required",
            format!(
                "Access to the key of server '{name}' came back after the auto-heal window ({}): database '{db}' needs \"Revalidate key\".",
                window.human()
            ),
        );
    }
}

/// Schedules a re-check at the protector version's next activation or expiry instant.
fn schedule_key_boundary(ws: &mut Workspace, name: &str) {
    let now = ws.now();
    let Some(s) = ws.server(name) else { return };
    let Some(uri) = s.protector_uri() else {
        return;
    };
    let Some(v) = ws
        .vault(&uri.vault)
        .and_then(|v| v.key(&uri.key))
        .and_then(|k| uri.version.as_deref().and_then(|id| k.version(id)))
    else {
        return;
    };
    let next = [v.not_before, v.expires]
        .into_iter()
        .flatten()
        .filter(|t| *t > now)
        .min();
    if let Some(at) = next {
        ws.schedule.push_unique(
            at,
            SimEvent::KeyAttributeBoundary {
                server: name.to_string(),
            },
        );
    }
}

/// The Activity Log operation recording a server's failed access to its TDE protector.
pub const KEY_ACCESS_FAILURE: &str = "AzureKeyVaultKeyAccessFailure";

/// The server's periodic check found (at least once) that the key was unusable.
fn protector_check(ws: &mut Workspace, name: &str) {
    let Err(cause) = super::tde::protector_request(ws, name) else {
        return;
    };
    let now = ws.now();
    let Some(s) = ws.server(name) else { return };
    let server_id = ids::server(s);
    let key_uri = s.protector_uri().map(|u| u.to_uri()).unwrap_or_default();
    super::log_activity(
        ws,
        now,
        KEY_ACCESS_FAILURE,
        ActivityStatus::Failed,
        server_id.clone(),
        format!(
            "Server {name} could not access its TDE protector {key_uri}: {} ({}).",
            cause.code(),
            cause.describe()
        ),
    );
    let Some(s) = ws.server(name) else { return };
    let affected: Vec<String> = s
        .databases
        .iter()
        .filter(|d| d.tde_enabled() && d.state.is_online())
        .map(|d| d.name.clone())
        .collect();
    for db in &affected {
        let resource = format!("{server_id}/databases/{db}");
        super::log_activity(
            ws,
            now,
            "MakeDatabaseInaccessible",
            ActivityStatus::Started,
            resource.clone(),
            format!(
                "Database {db} on Server {name} has lost access to Azure Key Vault Key and is now transitioning to inaccessible state."
            ),
        );
        if let Some(d) = ws.server_mut(name).and_then(|s| s.database_mut(db)) {
            d.state = DatabaseState::Inaccessible {
                since: now,
                cause: cause.clone(),
                access_restored_at: None,
                revalidation_required: false,
            };
        }
        super::log_activity(
            ws,
            now,
            "MakeDatabaseInaccessible",
            ActivityStatus::Succeeded,
            resource,
            format!(
                "Database {db} on Server {name} is inaccessible because it has lost access to its Azure Key Vault key ({}: {}). Re-establish access to the key, then use \"Revalidate key\" if the database does not come back by itself.",
                cause.code(),
                cause.describe()
            ),
        );
    }
    if !affected.is_empty() {
        notify(
            ws,
            NotificationLevel::Error,
            "Databases inaccessible",
            format!(
                "Server '{name}' lost access to its TDE protector ({}). Inaccessible: {}.",
                cause.describe(),
                affected.join(", ")
            ),
        );
    }
}

/// Brings Inaccessible databases back Online: really unwraps each DEK through the vault and
/// decrypts its pages.
fn auto_heal(ws: &mut Workspace, name: &str) {
    let now = ws.now();
    let Some(s) = ws.server(name) else { return };
    let server_id = ids::server(s);
    let candidates: Vec<Database> = s
        .databases
        .iter()
        .filter(|d| {
            matches!(
                d.state,
                DatabaseState::Inaccessible {
                    access_restored_at: Some(_),
                    revalidation_required: false,
                    ..
                }
            )
        })
        .cloned()
        .collect();
    let mut healed = Vec::new();
    for d in candidates {
        let resource = format!("{server_id}/databases/{}", d.name);
        super::log_activity(
            ws,
            now,
            "MakeDatabaseAccessible",
            ActivityStatus::Started,
            resource.clone(),
            format!(
                "Database {} on Server {name} is transitioning to accessible state.",
                d.name
            ),
        );
        let outcome = open_database(ws, name, &d);
        match outcome {
            Ok(()) => {
                if let Some(dd) = ws.server_mut(name).and_then(|s| s.database_mut(&d.name)) {
                    dd.state = DatabaseState::Online;
                    dd.set_health(
                        now,
                        ResourceHealth::Available,
                        "Access to the TDE protector was restored (auto-heal).",
                    );
                }
                super::log_activity(
                    ws,
                    now,
                    "MakeDatabaseAccessible",
                    ActivityStatus::Succeeded,
                    resource,
                    format!("Database {} on Server {name} is accessible again.", d.name),
                );
                healed.push(d.name.clone());
            }
            Err(why) => super::log_activity(
                ws,
                now,
                "MakeDatabaseAccessible",
                ActivityStatus::Failed,
                resource,
                format!(
                    "Database {} on Server {name} could not be made accessible: {why}",
                    d.name
                ),
            ),
        }
    }
    if !healed.is_empty() {
        notify(
            ws,
            NotificationLevel::Success,
            "Databases back online",
            format!("Auto-heal on '{name}': {} Online.", healed.join(", ")),
        );
    }
}

/// Opens a database the way the service does: unwrap the DEK through the vault and
/// authenticate every page with it.
pub(crate) fn open_database(ws: &Workspace, server: &str, d: &Database) -> Result<(), String> {
    let dek =
        server_unwrap_dek(ws, server, d).map_err(|f| format!("{} ({})", f.describe(), f.code()))?;
    if let PageStore::Encrypted(pages) = &d.pages {
        for p in pages {
            dek.decrypt_page(p).map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}
