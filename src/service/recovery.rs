//! Bringing Inaccessible databases back after the auto-heal window: "Revalidate key"
//! (`az sql db tde key revalidate`, `az sql server tde-key revalidate`). Recovery takes time
//! that grows with the database's size, and loses the server-level settings the service
//! documents; the console records which ones.

use super::key_access::database_key_access;
use super::lookup::{server, server_mut, tde_error};
use super::{ServiceError, ServiceResult, ids, name_list, notify, transact};
use crate::model::*;
use crate::sim::{Duration, SimEvent, TimingProfile};

/// How long the service takes to bring a database back after revalidation: a few minutes,
/// plus time in proportion to its size (about 6 s per GB).
pub fn recovery_duration(d: &Database) -> Duration {
    Duration::minutes(5) + Duration::seconds(6 * d.max_size_gb as i64)
}

/// `az sql db tde key revalidate`: the database must be Inaccessible and the server must be
/// able to use its protector again.
pub fn revalidate_database(
    ws: &mut Workspace,
    server_name: &str,
    db: &str,
) -> ServiceResult<Database> {
    transact(ws, |ws| {
        start_recovery(ws, server_name, db)?;
        server(ws, server_name)?
            .database(db)
            .cloned()
            .ok_or_else(|| ServiceError::database_not_found(server_name, db))
    })
}

/// `az sql server tde-key revalidate`: revalidates every Inaccessible database of the server.
pub fn revalidate_server(ws: &mut Workspace, server_name: &str) -> ServiceResult<Vec<String>> {
    transact(ws, |ws| {
        let names: Vec<String> = server(ws, server_name)?
            .databases
            .iter()
            .filter(|d| matches!(d.state, DatabaseState::Inaccessible { .. }))
            .map(|d| d.name.clone())
            .collect();
        if names.is_empty() {
            return Err(ServiceError::bad_request(
                "NoInaccessibleDatabases",
                format!("Server '{server_name}' has no Inaccessible database to revalidate."),
            ));
        }
        for n in &names {
            start_recovery(ws, server_name, n)?;
        }
        Ok(names)
    })
}

pub(crate) fn start_recovery(ws: &mut Workspace, server_name: &str, db: &str) -> ServiceResult<()> {
    let s = server(ws, server_name)?;
    let d = s
        .database(db)
        .ok_or_else(|| ServiceError::database_not_found(server_name, db))?;
    if !matches!(d.state, DatabaseState::Inaccessible { .. }) {
        return Err(ServiceError::bad_request(
            "InvalidDatabaseState",
            format!(
                "Database '{}' on server '{server_name}' is {}: only an Inaccessible database can be revalidated.",
                d.name,
                d.state.label()
            ),
        ));
    }
    super::key_access::key_access(ws, server_name, Some(db), true)
        .map_err(|f| tde_error(ws, server_name, &f))?;
    let now = ws.now();
    let until = now + recovery_duration(d);
    let resource = ids::database(s, &d.name);
    let name = d.name.clone();
    if let Some(d) = server_mut(ws, server_name)?.database_mut(db) {
        d.state = DatabaseState::Recovering { since: now, until };
    }
    settle_revalidation_notice(ws, server_name);
    ws.schedule.push(
        until,
        SimEvent::RecoveryComplete {
            server: server_name.to_string(),
            database: name.clone(),
        },
    );
    super::log_user_activity(
        ws,
        now,
        "MakeDatabaseAccessible",
        ActivityStatus::Started,
        resource,
        format!(
            "Key revalidation accepted: database {name} on Server {server_name} is being brought back online (about {}).",
            (until - now).human()
        ),
    );
    Ok(())
}

/// The settings revalidation loses under `profile`, cleared from `d`; returns their names.
pub fn lose_settings(d: &mut Database, profile: TimingProfile, now: Timestamp) -> Vec<String> {
    let mut lost = Vec::new();
    let created = d.created;
    let s = &mut d.settings;
    if let Some(fg) = s.failover_group.take() {
        lost.push(format!("failover group configuration ({fg})"));
    }
    if s.pitr_earliest.unwrap_or(created) < now {
        lost.push("point-in-time-restore history".into());
    }
    s.pitr_earliest = Some(now);
    if !d.tags.is_empty() {
        lost.push(format!(
            "tags ({})",
            d.tags
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        d.tags.clear();
    }
    if profile == TimingProfile::Current {
        if let Some(p) = s.elastic_pool.take() {
            lost.push(format!("elastic pool ({p})"));
        }
        if s.read_scale {
            s.read_scale = false;
            lost.push("read scale-out".into());
        }
        if let Some(m) = s.auto_pause_delay_minutes.take() {
            lost.push(format!("auto-pause ({m} min)"));
        }
        let ltr: Vec<String> = [
            s.ltr_weekly_retention.take().map(|w| format!("weekly {w}")),
            s.ltr_monthly_retention
                .take()
                .map(|m| format!("monthly {m}")),
            s.ltr_yearly_retention.take().map(|y| format!("yearly {y}")),
        ]
        .into_iter()
        .flatten()
        .collect();
        s.ltr_week_of_year = None;
        if !ltr.is_empty() {
            lost.push(format!("long-term retention policy ({})", ltr.join(", ")));
        }
    }
    lost
}

/// The scheduled end of a recovery: really unwrap the DEK and decrypt every page, then
/// Online, minus the lost settings.
pub(crate) fn complete_recovery(ws: &mut Workspace, server_name: &str, db: &str) {
    let now = ws.now();
    let profile = ws.profile;
    let Some(s) = ws.server(server_name) else {
        return;
    };
    let Some(d) = s.database(db).cloned() else {
        return;
    };
    let DatabaseState::Recovering { since: started, .. } = d.state else {
        return;
    };
    let resource = ids::database(s, &d.name);
    // Many recoveries may end at the same instant: the unwraps wait for room in the vault's
    // windows rather than fail (a long-running operation).
    let (opened, _) = super::requests::long_running(ws, |ws| {
        super::key_access::open_database(ws, server_name, &d)
    });
    match opened {
        Ok(()) => {
            let mut lost = Vec::new();
            if let Some(dd) = ws.server_mut(server_name).and_then(|s| s.database_mut(db)) {
                lost = lose_settings(dd, profile, now);
                dd.state = DatabaseState::Online;
                dd.set_health(
                    now,
                    ResourceHealth::Available,
                    "Back online after key revalidation.",
                );
                dd.last_recovery = Some(RecoveryReport {
                    completed: now,
                    started: Some(started),
                    lost: lost.clone(),
                });
                // The history before the recovery is gone: restores start from now.
                // Keep the revision in force now (and writes still arriving on a secondary).
                let keep = dd
                    .content
                    .partition_point(|r| r.at <= now)
                    .saturating_sub(1);
                dd.content.drain(..keep);
                for r in &mut dd.content {
                    r.at = r.at.max(now);
                }
                dd.protector_history.clear();
            }
            // Its failover group no longer knows it.
            for g in &mut ws.continuity.failover_groups {
                if g.has_server(server_name) {
                    g.databases.retain(|x| !x.eq_ignore_ascii_case(db));
                }
            }
            let lost_text = if lost.is_empty() {
                "nothing".to_string()
            } else {
                lost.join("; ")
            };
            let caller = super::started_by(ws, "MakeDatabaseAccessible", &resource);
            super::log_activity_by(
                ws,
                caller,
                now,
                "MakeDatabaseAccessible",
                ActivityStatus::Succeeded,
                resource,
                format!(
                    "Database {db} on Server {server_name} is accessible again after key revalidation. Settings lost: {lost_text}."
                ),
            );
        }
        Err(why) => {
            let cause = database_key_access(ws, server_name, db)
                .err()
                .unwrap_or(KeyAccessFailure::UnwrapFailed);
            if let Some(dd) = ws.server_mut(server_name).and_then(|s| s.database_mut(db)) {
                dd.state = DatabaseState::Inaccessible {
                    since: now,
                    cause,
                    access_restored_at: None,
                    revalidation_required: true,
                };
            }
            super::log_activity(
                ws,
                now,
                "MakeDatabaseAccessible",
                ActivityStatus::Failed,
                resource,
                format!(
                    "Database {db} on Server {server_name} could not be made accessible: {why}"
                ),
            );
        }
    }
    recovered_notice(ws, server_name, started);
}

/// One notification per revalidation (the databases it started together, at `started`),
/// when the last of them has finished: "4 databases on sql-… recovered", with what each
/// lost — not one per database.
fn recovered_notice(ws: &mut Workspace, server_name: &str, started: Timestamp) {
    let Some(s) = ws.server(server_name) else {
        return;
    };
    let pending = s
        .databases
        .iter()
        .any(|d| matches!(d.state, DatabaseState::Recovering { since, .. } if since == started));
    if pending {
        return;
    }
    let done: Vec<(String, Vec<String>)> = s
        .databases
        .iter()
        .filter_map(|d| {
            let r = d.last_recovery.as_ref()?;
            (r.started == Some(started)).then(|| (d.name.clone(), r.lost.clone()))
        })
        .collect();
    if done.is_empty() {
        return;
    }
    let words = |lost: &[String]| {
        if lost.is_empty() {
            "nothing".to_string()
        } else {
            lost.join("; ")
        }
    };
    let names: Vec<String> = done.iter().map(|(n, _)| n.clone()).collect();
    let (title, text) = if let [(db, lost)] = done.as_slice() {
        (
            format!("Database recovered on {server_name}"),
            format!(
                "'{db}' is Online after revalidation. Lost: {}.",
                words(lost)
            ),
        )
    } else {
        let same = done.iter().all(|(_, l)| *l == done[0].1);
        let lost = if same {
            format!("Each lost: {}.", words(&done[0].1))
        } else if done.len() <= 8 {
            format!(
                "Lost: {}.",
                done.iter()
                    .map(|(n, l)| format!("{n}: {}", words(l)))
                    .collect::<Vec<_>>()
                    .join(" · ")
            )
        } else {
            "Each database's blade lists the settings it lost.".to_string()
        };
        (
            format!("{} databases on {server_name} recovered", done.len()),
            format!(
                "Online after revalidation: {}. {lost}",
                super::name_list(&names)
            ),
        )
    };
    notify(ws, NotificationLevel::Warning, title, text);
}

/// The portal's "Select backup key": when the original key is gone, make another key with
/// the same key material (e.g. restored from a backup into another vault) the protector,
/// and revalidate every Inaccessible database with it. DEKs stay as they are: the same RSA
/// key unwraps them.
pub fn revalidate_with_backup_key(
    ws: &mut Workspace,
    server_name: &str,
    kid: &str,
) -> ServiceResult<Vec<String>> {
    transact(ws, |ws| {
        let key = super::server_key::add_server_key(ws, server_name, kid)?;
        let s = server(ws, server_name)?;
        let inaccessible: Vec<String> = s
            .databases
            .iter()
            .filter(|d| matches!(d.state, DatabaseState::Inaccessible { .. }))
            // A database with its own key is revalidated against that key, not this one.
            .filter(|d| d.encryption_protector.is_none())
            .map(|d| d.name.clone())
            .collect();
        if inaccessible.is_empty() {
            return Err(ServiceError::bad_request(
                "NoInaccessibleDatabases",
                format!("Server '{server_name}' has no Inaccessible database to revalidate."),
            ));
        }
        let wrong: Vec<&str> = s
            .databases
            .iter()
            .filter(|d| inaccessible.contains(&d.name))
            .filter(|d| {
                d.dek
                    .as_ref()
                    .is_some_and(|w| w.thumbprint != key.thumbprint)
            })
            .map(|d| d.name.as_str())
            .collect();
        if !wrong.is_empty() {
            return Err(ServiceError::bad_request(
                "KeyMaterialNotFoundOnRemoteServer",
                format!(
                    "The key '{}' (thumbprint {}) does not hold the key material that protects {}: select a backup of the key that was the TDE protector.",
                    key.name,
                    key.thumbprint,
                    wrong.join(", ")
                ),
            ));
        }
        let sm = server_mut(ws, server_name)?;
        sm.protector = TdeProtector {
            server_key_name: key.name.clone(),
            key_type: ServerKeyType::AzureKeyVault,
            auto_rotation: false,
        };
        for d in sm
            .databases
            .iter_mut()
            .filter(|d| inaccessible.contains(&d.name))
        {
            if let Some(w) = std::sync::Arc::make_mut(d).dek.as_mut() {
                w.server_key_name = key.name.clone();
            }
        }
        for db in &inaccessible {
            start_recovery(ws, server_name, db)?;
        }
        Ok(inaccessible)
    })
}

/// The title of the notice that databases of a server wait for "Revalidate key".
pub(crate) const REVALIDATION_REQUIRED: &str = "Key revalidation required";

/// Whether notification `n` is the undone "revalidation required" notice of `server`.
fn is_revalidation_notice(n: &Notification, server: &str) -> bool {
    n.done.is_none()
        && n.title.starts_with(REVALIDATION_REQUIRED)
        && n.text.contains(&format!("server '{server}'"))
}

/// The databases of `server` that wait for "Revalidate key".
fn awaiting_revalidation(ws: &Workspace, server: &str) -> Vec<String> {
    ws.server(server)
        .map(|s| {
            s.databases
                .iter()
                .filter(|d| {
                    matches!(
                        d.state,
                        DatabaseState::Inaccessible {
                            revalidation_required: true,
                            ..
                        }
                    )
                })
                .map(|d| d.name.clone())
                .collect()
        })
        .unwrap_or_default()
}

/// One notice per server and instant that its databases wait for "Revalidate key", with
/// their count: access coming back late for the protector and for databases' own keys at
/// the same instant adds to the same notice rather than making one per key (or database).
pub(crate) fn revalidation_required_notice(ws: &mut Workspace, name: &str, window: Duration) {
    let waiting = awaiting_revalidation(ws, name);
    if waiting.is_empty() {
        return;
    }
    let count = waiting.len();
    let title = if count == 1 {
        format!("{REVALIDATION_REQUIRED}: 1 database on {name}")
    } else {
        format!("{REVALIDATION_REQUIRED}: {count} databases on {name}")
    };
    let text = format!(
        "Access to the key of server '{name}' came back after the auto-heal window ({}): {} need{} \"Revalidate key\" (one click on the server's blade revalidates them all).",
        window.human(),
        name_list(&waiting),
        if count == 1 { "s" } else { "" }
    );
    let now = ws.now();
    let last = ws.notifications.len().checked_sub(1);
    if let Some(i) = last
        && ws
            .notifications
            .get(i)
            .is_some_and(|n| n.time == now && is_revalidation_notice(n, name))
        && let Some(n) = ws.notifications.get_mut(i)
    {
        n.title = title;
        n.text = text;
        n.read = false;
        return;
    }
    notify(ws, NotificationLevel::Warning, title, text);
}

/// Marks the "revalidation required" notice of server `name` done once none of its
/// databases waits for "Revalidate key" any more (the revalidation ran): the panel shows it
/// done and its toast goes, so the class does not revalidate twice.
pub(crate) fn settle_revalidation_notice(ws: &mut Workspace, name: &str) {
    if !awaiting_revalidation(ws, name).is_empty() {
        return;
    }
    let open: Vec<usize> = (0..ws.notifications.len())
        .rev()
        .filter(|&i| {
            ws.notifications
                .get(i)
                .is_some_and(|n| is_revalidation_notice(n, name))
        })
        .collect();
    let done = format!("Done at {}: the revalidation ran.", ws.now());
    for i in open {
        if let Some(n) = ws.notifications.get_mut(i) {
            n.done = Some(done.clone());
        }
    }
}
