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

use super::key_access::{server_unwrap_deks, verify_pages};
use super::{ServiceError, ServiceResult, ids, name_list, notify};
use crate::model::*;
use crate::sim::{Duration, SimEvent, TimingProfile};

/// The longest single advance: ten years (LTR's longest retention).
pub const MAX_ADVANCE: Duration = Duration::days(3650);

/// Advances the simulated clock by `by`, running every event that falls due on the way.
pub fn advance(ws: &mut Workspace, by: Duration) -> ServiceResult<()> {
    advance_with(ws, by, &super::OsKeySource)
}

/// [`advance`], with the key material of policy rotations from `keys` (tests use
/// pre-generated keys).
pub fn advance_with(
    ws: &mut Workspace,
    by: Duration,
    keys: &dyn super::KeySource,
) -> ServiceResult<()> {
    if by.0 < 0 {
        return Err(ServiceError::bad_request(
            "InvalidArgument",
            "Simulated time only moves forward.",
        ));
    }
    if by > MAX_ADVANCE {
        return Err(ServiceError::bad_request(
            "InvalidArgument",
            format!(
                "Simulated time moves at most {} days at a time (asked: {}).",
                MAX_ADVANCE.0 / 86_400,
                by.human()
            ),
        ));
    }
    super::rotation::check_rotation_work(ws, by)?;
    let target = ws.now() + by;
    // Notice anything that changed without an operation (a file opened, an edit in a test).
    reconcile(ws);
    let _pool = super::rotation::pregenerate_rotations(ws, target, keys);
    while let Some(ev) = ws.schedule.pop_due(target) {
        if ev.at > ws.clock.now {
            // Customer apps query at each boundary before the event with the state as it
            // is until the event (nothing they check changes between events).
            super::customer_app::sample_through(ws, ev.at - Duration(1));
            ws.clock.now = ev.at;
            // Time itself changes what a server can do only at instants that have events
            // of their own (key activation and expiry, propagation, outage ends), so between
            // events the servers an event touched are all there is to reconcile.
        }
        let before = ws.clone();
        handle(ws, &ev.event);
        // Events that mark an instant at which access changes with time alone (a key
        // version activating or expiring, an RBAC grant or removal taking effect) touch
        // what depends on it even when they change nothing themselves.
        let touched = match &ev.event {
            SimEvent::KeyAttributeBoundary { server } => Touched::Server(server),
            SimEvent::PermissionRevocationPropagated { vault } => Touched::Vault(vault),
            _ => Touched::Nothing,
        };
        reconcile_changes(&before, ws, touched);
    }
    ws.clock.now = target;
    reconcile(ws);
    super::customer_app::sample_through(ws, target);
    ws.bump_revision();
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
        SimEvent::ProtectorCheck { server, database } => {
            protector_check(ws, server, database.as_deref())
        }
        SimEvent::AutoHeal { server } => auto_heal(ws, server),
        SimEvent::RecoveryComplete { server, database } => {
            super::recovery::complete_recovery(ws, server, database)
        }
        SimEvent::AutoRotate { server, database } => auto_rotate(ws, server, database.as_deref()),
        SimEvent::NetworkOutageEnds { server } => {
            if let Some(s) = ws.server_mut(server)
                && s.network_outage_until.is_some_and(|t| t <= now)
            {
                s.network_outage_until = None;
            }
        }
        SimEvent::EvaluateAlerts => super::monitor::evaluate_alerts(ws),
        SimEvent::ScheduledPurge => super::keyvault::vaults::purge_expired(ws),
        SimEvent::KeyAttributeBoundary { .. } => {}
        SimEvent::KeyLifecycle => super::rotation::run_lifecycle(ws),
        SimEvent::RestoreComplete { server, database } => {
            super::backup::complete_restore(ws, server, database)
        }
        SimEvent::OutageBoundary => {
            for v in &mut ws.vaults {
                if v.outage_until.is_some_and(|t| t <= now) {
                    v.outage_until = None;
                }
            }
            // A finished outage is kept: it is history (no backup was taken while the
            // region was down, the Resource health bars show it).
            for s in &mut ws.servers {
                if s.protector_change_until.is_some_and(|t| t <= now) {
                    std::sync::Arc::make_mut(s).protector_change_until = None;
                }
            }
        }
        SimEvent::FailoverGroupGraceExpired { group } => {
            super::failover_group::grace_expired(ws, group)
        }
        SimEvent::SynapseKeyChange { workspace } => super::synapse::complete_pending(ws, workspace),
    }
}

/// Compares each server's access to its keys with what it last knew, and schedules the
/// service's reaction. Runs after every operation and every event. Each key is watched on
/// its own: the server's TDE protector for the databases that follow it, and each
/// database-level key for its database.
pub fn reconcile(ws: &mut Workspace) {
    reconcile_servers(ws, None);
}

/// [`reconcile`] after an operation, limited to what the operation can have touched: the
/// servers it changed and the servers whose keys live in a vault it changed (everything
/// when it moved the clock, changed the profile, tenants or regional outages). Servers
/// untouched and still shared with `before` are not read: an operation on one database of
/// an estate of 50,000 costs what the operation costs.
pub fn reconcile_after(before: &Workspace, ws: &mut Workspace) {
    if before.clock.now != ws.clock.now {
        return reconcile(ws);
    }
    reconcile_changes(before, ws, Touched::Nothing);
}

/// What an event touched beyond what it changed.
enum Touched<'a> {
    Nothing,
    Server(&'a str),
    Vault(&'a str),
}

/// The servers `ws` changed since `before` (or whose vaults it changed), and what `also`
/// names.
fn reconcile_changes(before: &Workspace, ws: &mut Workspace, also: Touched<'_>) {
    let global = before.profile != ws.profile
        || before.tenants != ws.tenants
        || before.identities != ws.identities
        || before.continuity != ws.continuity;
    if global {
        return reconcile(ws);
    }
    let vault_changed = |name: &str| {
        let a = before
            .vaults
            .iter()
            .find(|v| v.name.eq_ignore_ascii_case(name));
        let b = ws.vaults.iter().find(|v| v.name.eq_ignore_ascii_case(name));
        a != b
    };
    let mut changed_vaults: std::collections::HashSet<String> = before
        .vaults
        .iter()
        .chain(&ws.vaults)
        .map(|v| v.name.to_ascii_lowercase())
        .filter(|n| vault_changed(n))
        .collect();
    if let Touched::Vault(v) = also {
        changed_vaults.insert(v.to_ascii_lowercase());
    }
    let servers: std::collections::HashSet<String> = ws
        .servers
        .iter()
        .filter(|s| {
            let same = before
                .servers
                .iter()
                .find(|b| b.name.eq_ignore_ascii_case(&s.name))
                .is_some_and(|b| std::sync::Arc::ptr_eq(b, s));
            !same
                || s.keys.iter().any(|k| {
                    k.uri
                        .as_deref()
                        .and_then(KeyUri::parse)
                        .is_some_and(|u| changed_vaults.contains(&u.vault.to_ascii_lowercase()))
                })
                || matches!(also, Touched::Server(a) if a.eq_ignore_ascii_case(&s.name))
        })
        .map(|s| s.name.clone())
        .collect();
    reconcile_servers(ws, Some(&servers));
}

/// The reconciliation of the servers in `only` (every server for `None`).
fn reconcile_servers(ws: &mut Workspace, only: Option<&std::collections::HashSet<String>>) {
    let names: Vec<String> = ws
        .servers
        .iter()
        .filter(|s| only.is_none_or(|o| o.contains(&s.name)))
        .map(|s| s.name.clone())
        .collect();
    for name in names {
        let own_keys: Vec<String> = ws
            .server(&name)
            .map(|s| {
                s.databases
                    .iter()
                    .filter(|d| d.tde_enabled() && d.encryption_protector.is_some())
                    .map(|d| d.name.clone())
                    .collect()
            })
            .unwrap_or_default();
        reconcile_key(ws, &name, None);
        for db in &own_keys {
            reconcile_key(ws, &name, Some(db));
        }
        schedule_key_boundary(ws, &name);
        schedule_auto_rotation(ws, &name);
    }
    super::rotation::schedule_lifecycle(ws);
    ws.record_protector_intervals_of(only);
}

/// When the server first found the key of `database` (`None`: its protector) unusable.
fn lost_since(ws: &Workspace, server: &str, database: Option<&str>) -> Option<Timestamp> {
    let s = ws.server(server)?;
    match database {
        None => s.key_access_lost_since,
        Some(db) => s.database(db)?.key_access_lost_since,
    }
}

fn set_lost_since(ws: &mut Workspace, server: &str, database: Option<&str>, v: Option<Timestamp>) {
    let Some(s) = ws.server_mut(server) else {
        return;
    };
    match database {
        None => s.key_access_lost_since = v,
        Some(db) => {
            if let Some(d) = s.database_mut(db) {
                d.key_access_lost_since = v;
            }
        }
    }
}

/// Does database `d` depend on the key watched as `database` (`None`: the server's
/// protector, which protects every database without a key of its own)?
fn protected_by(d: &Database, database: Option<&str>) -> bool {
    match database {
        None => d.encryption_protector.is_none(),
        Some(db) => d.name.eq_ignore_ascii_case(db),
    }
}

fn check_event(server: &str, database: Option<&str>) -> SimEvent {
    SimEvent::ProtectorCheck {
        server: server.to_string(),
        database: database.map(str::to_string),
    }
}

/// One key of one server: access lost schedules the server's check (1 to 10 minutes, or
/// the 24-hour buffer for 5XX causes under `current`); access back lets its databases heal.
fn reconcile_key(ws: &mut Workspace, name: &str, database: Option<&str>) {
    let now = ws.now();
    let access = super::key_access::key_access(ws, name, database, false);
    let lost = lost_since(ws, name, database);
    match access {
        Err(cause) => {
            if lost.is_none() {
                let twin = database.is_none()
                    && super::outage::protector_vault_out(ws, name)
                    && super::outage::high_availability_twin(ws, name).is_some();
                let delay = if cause.is_transient() && ws.profile == TimingProfile::Current && !twin
                {
                    TimingProfile::TRANSIENT_BUFFER
                } else {
                    ws.clock
                        .draw_delay(Duration::minutes(1), TimingProfile::MAX_DETECTION_DELAY)
                };
                set_lost_since(ws, name, database, Some(now));
                let restored = |d: &Database| {
                    protected_by(d, database)
                        && matches!(
                            d.state,
                            DatabaseState::Inaccessible {
                                access_restored_at: Some(_),
                                ..
                            }
                        )
                };
                if ws
                    .server(name)
                    .is_some_and(|s| s.databases.iter().any(|d| restored(d)))
                    && let Some(s) = ws.server_mut(name)
                {
                    for d in s.databases.iter_mut().filter(|d| restored(d)) {
                        if let DatabaseState::Inaccessible {
                            access_restored_at, ..
                        } = &mut std::sync::Arc::make_mut(d).state
                        {
                            *access_restored_at = None;
                        }
                    }
                }
                if database.is_none() {
                    ws.schedule.remove_where(
                        |e| matches!(e, SimEvent::AutoHeal { server } if server == name),
                    );
                }
                ws.schedule.push(now + delay, check_event(name, database));
            }
        }
        Ok(()) => {
            if lost.is_some() {
                set_lost_since(ws, name, database, None);
                let event = check_event(name, database);
                ws.schedule.remove_where(|e| e == &event);
            }
            access_restored(ws, name, database);
        }
    }
}

/// The key id that auto-rotation follows for the server's protector (`database: None`) or
/// a database's own key, when auto-rotation is on for it.
fn auto_rotating_key(ws: &Workspace, name: &str, database: Option<&str>) -> Option<KeyUri> {
    let s = ws.server(name)?;
    let on = match database {
        None => s.protector.auto_rotation,
        Some(db) => s.database(db).is_some_and(|d| {
            d.encryption_protector.is_some() && d.encryption_protector_auto_rotation
        }),
    };
    let key = s.watched_key(database).filter(|_| on)?;
    key.uri.as_deref().and_then(KeyUri::parse)
}

/// The newest version of the key `uri` names, if it is not the one in use.
fn newer_version(ws: &Workspace, uri: &KeyUri) -> Option<String> {
    ws.vault(&uri.vault)
        .and_then(|v| v.key(&uri.key))
        .filter(|k| k.deleted.is_none())
        .and_then(|k| k.current())
        .map(|v| v.version.0.clone())
        .filter(|n| Some(n) != uri.version.as_ref())
}

/// An auto-rotating server (or database with its own auto-rotating key) whose key has a
/// newer version picks it up within the profile's window (60 minutes in 2021, 24 hours in
/// current).
fn schedule_auto_rotation(ws: &mut Workspace, name: &str) {
    let Some(s) = ws.server(name) else { return };
    let mut scopes: Vec<Option<String>> = vec![None];
    scopes.extend(
        s.databases
            .iter()
            .filter(|d| d.tde_enabled() && d.encryption_protector_auto_rotation)
            .map(|d| Some(d.name.clone())),
    );
    for database in scopes {
        let Some(uri) = auto_rotating_key(ws, name, database.as_deref()) else {
            continue;
        };
        let event = SimEvent::AutoRotate {
            server: name.to_string(),
            database,
        };
        if newer_version(ws, &uri).is_some() && !ws.schedule.contains(&event) {
            let window = ws.profile.auto_rotation_window();
            let delay = ws.clock.draw_delay(Duration::minutes(1), window);
            let at = ws.now() + delay;
            ws.schedule.push(at, event);
        }
    }
}

/// Follows the key's newest version: links it and makes it the protector (re-wrapping every
/// DEK that follows it) or the database's own key (re-wrapping its DEK), as the service
/// does for auto-rotation.
fn auto_rotate(ws: &mut Workspace, name: &str, database: Option<&str>) {
    let Some(uri) = auto_rotating_key(ws, name, database) else {
        return;
    };
    let Some(newest) = newer_version(ws, &uri) else {
        return;
    };
    let kid = KeyUri {
        version: Some(newest),
        ..uri
    }
    .to_uri();
    // Rotated versions reach the geo-secondaries' servers first (they read the same vault).
    if database.is_none() {
        super::georeplication::transfer_rotated_version(ws, name, &kid);
    }
    let result = super::server_key::add_server_key(ws, name, &kid).and_then(|_| match database {
        None => super::tde::set_protector(
            ws,
            &super::tde::SetProtector {
                server: name.to_string(),
                key_type: ServerKeyType::AzureKeyVault,
                kid: Some(kid.clone()),
                auto_rotation: true,
            },
        )
        .map(|_| ()),
        Some(db) => {
            super::database_key::set_database_protector(ws, name, db, &kid, true).map(|_| ())
        }
    });
    if let Err(e) = result {
        let who = match database {
            None => format!("Server '{name}'"),
            Some(db) => format!("Database '{db}' on server '{name}'"),
        };
        notify(
            ws,
            NotificationLevel::Error,
            "Auto-rotation failed",
            format!("{who} could not rotate to {kid}: {e}"),
        );
    }
}

/// Databases (protected by the key watched as `database`) Inaccessible while access is now
/// back: auto-heal inside the window, else wait for revalidation.
fn access_restored(ws: &mut Workspace, name: &str, database: Option<&str>) {
    let now = ws.now();
    let window = ws.profile.auto_heal_window();
    let mut heal = false;
    let mut late = Vec::new();
    let waiting = |d: &Database| {
        protected_by(d, database)
            && matches!(
                d.state,
                DatabaseState::Inaccessible {
                    access_restored_at: None,
                    ..
                }
            )
    };
    // Read first: a server with nothing waiting is not copied (this runs after every
    // operation, for every server).
    let any = ws
        .server(name)
        .is_some_and(|s| s.databases.iter().any(|d| waiting(d)));
    if !any {
        return;
    }
    if let Some(s) = ws.server_mut(name) {
        for d in s.databases.iter_mut().filter(|d| waiting(d)) {
            let d = std::sync::Arc::make_mut(d);
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
    if !late.is_empty() {
        super::recovery::revalidation_required_notice(ws, name, window);
    }
}

/// Schedules a re-check at the next activation or expiry instant of any key version the
/// server's databases depend on (its protector and database-level keys).
fn schedule_key_boundary(ws: &mut Workspace, name: &str) {
    let now = ws.now();
    let Some(s) = ws.server(name) else { return };
    let mut uris: Vec<KeyUri> = s.protector_uri().into_iter().collect();
    uris.extend(
        s.databases
            .iter()
            .filter(|d| d.encryption_protector.is_some())
            .filter_map(|d| s.database_key(d))
            .filter_map(|k| k.uri.as_deref().and_then(KeyUri::parse)),
    );
    let next = uris
        .iter()
        .filter_map(|uri| {
            ws.vault(&uri.vault)
                .and_then(|v| v.key(&uri.key))
                .and_then(|k| uri.version.as_deref().and_then(|id| k.version(id)))
        })
        .flat_map(|v| [v.not_before, v.expires])
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

/// The server's periodic check found (at least once) that a key was unusable: its
/// protector (`database: None`) or one database's own key.
fn protector_check(ws: &mut Workspace, name: &str, database: Option<&str>) {
    // A check scheduled for a database's own key is moot once the database is gone or
    // follows the server's protector again (that key is watched as the server's).
    if let Some(db) = database
        && ws
            .server(name)
            .and_then(|s| s.database(db))
            .is_none_or(|d| d.encryption_protector.is_none())
    {
        return;
    }
    // A server whose region is down checks nothing until the region is back.
    let region_down = ws
        .server(name)
        .and_then(|s| ws.continuity.region_outage(&s.location, ws.now()))
        .map(|o| o.until);
    if let Some(until) = region_down {
        ws.schedule.push(until, check_event(name, database));
        return;
    }
    let Err(cause) = super::key_access::key_access(ws, name, database, true) else {
        return;
    };
    // Two vaults, one key material: only an outage of the protector's vault makes the
    // server turn to the linked copy in the other vault.
    if database.is_none() && super::outage::switch_to_twin(ws, name) {
        return;
    }
    let now = ws.now();
    let Some(s) = ws.server(name) else { return };
    let server_id = ids::server(s);
    let key_uri = s
        .watched_key(database)
        .and_then(|k| k.uri.clone())
        .unwrap_or_default();
    let what = match database {
        None => "its TDE protector".to_string(),
        Some(db) => format!("the encryption protector of database {db}"),
    };
    super::log_activity(
        ws,
        now,
        KEY_ACCESS_FAILURE,
        ActivityStatus::Failed,
        server_id.clone(),
        format!(
            "Server {name} could not access {what} {key_uri}: {} ({}).",
            cause.code(),
            cause.describe()
        ),
    );
    let Some(s) = ws.server(name) else { return };
    let affected: Vec<String> = s
        .databases
        .iter()
        .filter(|d| d.tde_enabled() && d.state.is_online() && protected_by(d, database))
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
            // The estate's applications keep connecting: the first of them is denied at
            // once, and Resource Health follows (nobody has to click Test connection).
            d.set_health(
                now,
                ResourceHealth::Unavailable,
                "Connections are denied: the database cannot access its TDE protector.",
            );
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
                "Server '{name}' lost access to {what} ({}). Inaccessible: {}.",
                cause.describe(),
                name_list(&affected)
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
    // Every database opens with a real unwrap through the vault: the requests wait for room
    // in the vault's windows (a long-running operation), the RSA work runs on every core,
    // and each database's records carry the instant it really opened.
    let (opened, _) = super::requests::long_running(ws, |ws| {
        let Some(s) = ws.server(name) else {
            return Vec::new();
        };
        let candidates: Vec<&Database> = s
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
            .map(|d| &**d)
            .collect();
        let deks = server_unwrap_deks(ws, name, &candidates);
        let platform = super::lookup::new_page_platform_key(ws, name)
            .ok()
            .flatten();
        let pairs: Vec<_> = candidates.into_iter().zip(deks).collect();
        crate::crypto::par_map(&pairs, |(d, (at, dek))| {
            let outcome = match dek {
                Ok(dek) => verify_pages(d, dek, platform.as_ref()),
                Err(f) => Err(format!("{} ({})", f.describe(), f.code())),
            };
            (d.name.clone(), *at, outcome)
        })
    });
    let mut healed = Vec::new();
    for (db, at, outcome) in opened {
        let resource = format!("{server_id}/databases/{db}");
        super::log_activity(
            ws,
            now,
            "MakeDatabaseAccessible",
            ActivityStatus::Started,
            resource.clone(),
            format!("Database {db} on Server {name} is transitioning to accessible state."),
        );
        match outcome {
            Ok(()) => {
                if let Some(dd) = ws.server_mut(name).and_then(|s| s.database_mut(&db)) {
                    dd.state = DatabaseState::Online;
                    dd.set_health(
                        at,
                        ResourceHealth::Available,
                        "Access to the TDE protector was restored (auto-heal).",
                    );
                }
                super::log_activity(
                    ws,
                    at,
                    "MakeDatabaseAccessible",
                    ActivityStatus::Succeeded,
                    resource,
                    format!("Database {db} on Server {name} is accessible again."),
                );
                healed.push(db);
            }
            Err(why) => super::log_activity(
                ws,
                at,
                "MakeDatabaseAccessible",
                ActivityStatus::Failed,
                resource,
                format!("Database {db} on Server {name} could not be made accessible: {why}"),
            ),
        }
    }
    if !healed.is_empty() {
        notify(
            ws,
            NotificationLevel::Success,
            "Databases back online",
            format!("Auto-heal on '{name}': {} Online.", name_list(&healed)),
        );
    }
}

/// A planned (or forced) failover of a group asked for by a person, as one operation. With
/// `wait`, the call returns when the last database has opened, as `az sql failover-group
/// set-primary` does without `--no-wait`: the simulated clock advances to that instant (and
/// whatever falls due meanwhile happens). One notification tells the whole operation, with
/// its count. (Tier 3: the failover itself, [`super::failover_group::set_group_primary`],
/// returns the instant it completes and moves no clock.)
pub fn fail_over(
    ws: &mut Workspace,
    name: &str,
    server_name: &str,
    allow_data_loss: bool,
    wait: bool,
    keys: &dyn super::KeySource,
) -> ServiceResult<super::failover_group::GroupFailoverReport> {
    let r = super::failover_group::set_group_primary(ws, name, server_name, allow_data_loss)?;
    if wait && r.completes_at > ws.now() {
        advance_with(ws, r.completes_at - ws.now(), keys)?;
    }
    notify(
        ws,
        if r.lost_writes > 0 {
            NotificationLevel::Warning
        } else {
            NotificationLevel::Success
        },
        "Failover completed",
        r.notification_text(),
    );
    Ok(r)
}
