//! Automatic backups under the protector of their time, and every kind of restore: point in
//! time, a dropped database, a geo-redundant backup, a long-term retention backup.
//!
//! The backup chain is derived, not stored: fulls every week from creation, differentials
//! every 12 or 24 hours after each full, logs every 10 minutes; what each backup was
//! encrypted under is the database's protector interval at its time.
//!
//! A restore really unwraps, through the target server's access to the vault and every
//! check, the DEK of every protector interval between the full backup it starts from and
//! the restore point, decrypts the content as it was then, and gives the new database a
//! fresh DEK under the target server's current protector.

use super::content::{revision_at, seal, unseal};
use super::database_key::DatabaseCmk;
use super::key_access::server_wrap_dek;
use super::lookup::{live_database, server, server_mut, tde_error};
use super::{Caller, ServiceError, ServiceResult, ids, notify, transact};
use crate::crypto::{DataEncryptionKey, WrapAlgorithm};
use crate::model::*;
use crate::sim::{Duration, SimEvent};
use std::collections::BTreeMap;

/// The Activity Log's name for a restore (Started when asked, Succeeded or Failed when done).
const RESTORE_OPERATION: &str = "Restore SQL database";

/// The earliest point-in-time restore point ([`Database::earliest_restore_point`]).
pub fn earliest_restore_point(d: &Database, now: Timestamp) -> Timestamp {
    d.earliest_restore_point(now)
}

/// The last full backup at or before `t` ([`Database::full_backup_before`]).
pub fn full_backup_before(d: &Database, t: Timestamp) -> Timestamp {
    d.full_backup_before(t)
}

/// The longest any long-term retention backup of `d` is kept ([`Database::ltr_retention`]).
pub fn ltr_retention(d: &Database) -> Option<Duration> {
    d.ltr_retention()
}

/// How long the weekly full taken at `t` is kept ([`Database::ltr_kept_for`]).
pub fn ltr_kept_for(d: &Database, t: Timestamp) -> Option<Duration> {
    d.ltr_kept_for(t)
}

pub use crate::model::parse_retention;

/// The protector interval in force at `t` ([`Database::interval_at`]).
pub fn interval_at(d: &Database, t: Timestamp) -> Option<&ProtectorInterval> {
    d.interval_at(t)
}

/// The intervals a restore to `t` needs ([`Database::intervals_needed`]).
pub fn intervals_needed(d: &Database, t: Timestamp) -> Vec<&ProtectorInterval> {
    d.intervals_needed(t)
}

/// One backup of the derived chain (a model type: [`Database::recent_backups`]).
pub use crate::model::BackupEntry;

/// The newest `limit` backups taken up to `now` ([`Database::recent_backups`]).
pub fn recent_backups(d: &Database, now: Timestamp, limit: usize) -> Vec<BackupEntry> {
    d.recent_backups(now, limit)
}

/// The newest `limit` backups of `d` on `server` taken up to `now`: none while the
/// database was Unavailable, nor while the server's region was down.
pub fn recent_backups_on(
    ws: &Workspace,
    server: &str,
    d: &Database,
    now: Timestamp,
    limit: usize,
) -> Vec<BackupEntry> {
    let region = ws.server(server).map(|s| s.location.as_str()).unwrap_or("");
    let gaps: Vec<(Timestamp, Timestamp)> = ws
        .continuity
        .region_outages
        .iter()
        .filter(|o| o.region.eq_ignore_ascii_case(region) && o.from <= now)
        .map(|o| (o.from, o.until))
        .collect();
    d.recent_backups_outside(now, limit, &gaps)
}

/// Where a restore reads from.
#[derive(Clone, Debug, PartialEq)]
pub enum RestoreSource {
    /// A live database on the same server, to a point in time.
    PointInTime { time: Timestamp },
    /// A dropped database, to its deletion time or earlier.
    Deleted {
        deleted_at: Timestamp,
        time: Option<Timestamp>,
    },
    /// The geo-redundant copy of the latest backups (up to an hour behind).
    Geo,
    /// A weekly long-term retention backup taken at `time` (of a dropped database when
    /// `deleted_at` is set: long-term backups outlive the database).
    LongTerm {
        time: Timestamp,
        deleted_at: Option<Timestamp>,
    },
}

/// `az sql db restore` and its geo and long-term kin.
#[derive(Clone, Debug)]
pub struct RestoreRequest {
    pub source_server: String,
    pub source_database: String,
    pub source: RestoreSource,
    pub target_server: String,
    pub dest_name: String,
    pub tier: Option<ServiceTier>,
}

/// How long a restore takes: a few minutes plus time in proportion to size.
pub fn restore_duration(d: &Database) -> Duration {
    Duration::minutes(3) + Duration::seconds(5 * d.max_size_gb as i64)
}

/// The error when the target server cannot use a key some backup needs.
fn missing_uri(
    uri: &str,
    dest: &str,
    target: &str,
    from: Timestamp,
    to: Timestamp,
) -> ServiceError {
    ServiceError::bad_request(
        "MissingKeyVaultUriForRestore",
        format!(
            "Azure Key Vault key URI '{uri}' is required to successfully restore the database '{dest}' under server '{target}'. Target server {target} does not have access to all AKV URIs created between {} and {}. Retry operation after restoring all AKV URIs.",
            from.to_iso(),
            to.to_iso()
        ),
    )
}

/// The source database (live or dropped) and the restore point.
fn source_and_point(ws: &Workspace, req: &RestoreRequest) -> ServiceResult<(Database, Timestamp)> {
    let s = server(ws, &req.source_server)?;
    let now = ws.now();
    let bad_time = |t: Timestamp, earliest: Timestamp, latest: Timestamp| {
        ServiceError::bad_request(
            "InvalidPointInTimeRestoreRequest",
            format!(
                "The point in time '{}' for restore of database '{}' is out of range: it must be between {} (the earliest restore point) and {}.",
                t.to_iso(),
                req.source_database,
                earliest.to_iso(),
                latest.to_iso()
            ),
        )
    };
    match &req.source {
        RestoreSource::PointInTime { time } => {
            let d = s
                .database(&req.source_database)
                .ok_or_else(|| ServiceError::database_not_found(&s.name, &req.source_database))?;
            if ws.continuity.primary_of(&s.name, &d.name).is_some() {
                return Err(ServiceError::bad_request(
                    "PointInTimeRestoreFromGeoSecondaryNotSupported",
                    format!(
                        "Database '{}' on server '{}' is a geo-secondary: point-in-time restore is available from its primary only.",
                        d.name, s.name
                    ),
                ));
            }
            let earliest = earliest_restore_point(d, now);
            if *time < earliest || *time > now {
                return Err(bad_time(*time, earliest, now));
            }
            Ok((d.clone(), *time))
        }
        RestoreSource::Deleted { deleted_at, time } => {
            let dd = s
                .deleted_databases
                .iter()
                .filter(|x| x.database.name.eq_ignore_ascii_case(&req.source_database))
                .find(|x| (x.deleted_at - *deleted_at).0.abs() <= 1)
                .ok_or_else(|| {
                    ServiceError::not_found(
                        "ResourceNotFound",
                        format!(
                            "The requested resource of type 'Microsoft.Sql/servers/restorableDroppedDatabases' with name '{},{}' was not found on server '{}'.",
                            req.source_database,
                            deleted_at.to_iso(),
                            s.name
                        ),
                    )
                })?;
            let t = time.unwrap_or(dd.deleted_at);
            // The retention runs on after the drop.
            let earliest = earliest_restore_point(&dd.database, now);
            if t < earliest || t > dd.deleted_at {
                return Err(bad_time(t, earliest, dd.deleted_at));
            }
            Ok((dd.database.clone(), t))
        }
        RestoreSource::Geo => {
            let d = s
                .database(&req.source_database)
                .ok_or_else(|| ServiceError::database_not_found(&s.name, &req.source_database))?;
            Ok((d.clone(), geo_backup_point(d, now)))
        }
        RestoreSource::LongTerm { time, deleted_at } => {
            let d = match deleted_at {
                None => s.database(&req.source_database).cloned(),
                Some(at) => s
                    .deleted_databases
                    .iter()
                    .filter(|x| x.database.name.eq_ignore_ascii_case(&req.source_database))
                    .find(|x| (x.deleted_at - *at).0.abs() <= 1)
                    .map(|x| x.database.clone()),
            };
            let kept = d.as_ref().is_some_and(|d| {
                ltr_backups_until(d, deleted_at.unwrap_or(now), now).contains(time)
            });
            match d {
                Some(d) if kept => Ok((d, *time)),
                _ => Err(ServiceError::not_found(
                    "LongTermRetentionBackupNotFound",
                    format!(
                        "The long-term retention backup of '{}' taken at {} was not found (or has expired).",
                        req.source_database,
                        time.to_iso()
                    ),
                )),
            }
        }
    }
}

/// The latest geo-replicated backup point ([`Database::geo_backup_point`]).
pub fn geo_backup_point(d: &Database, now: Timestamp) -> Timestamp {
    d.geo_backup_point(now)
}

/// The weekly full backups kept for long-term retention ([`Database::ltr_backups`]).
pub fn ltr_backups(d: &Database, now: Timestamp) -> Vec<Timestamp> {
    d.ltr_backups(now)
}

/// The weekly fulls up to `last` still kept at `now` ([`Database::ltr_backups_until`]).
pub fn ltr_backups_until(d: &Database, last: Timestamp, now: Timestamp) -> Vec<Timestamp> {
    d.ltr_backups_until(last, now)
}

/// Unwraps, as `target` would, the DEK of every interval a restore to `point` needs. The
/// first key the target cannot use is named in the error.
fn unwrap_needed(
    ws: &Workspace,
    source_server: &str,
    d: &Database,
    point: Timestamp,
    target: &str,
    dest: &str,
    identity: Option<&str>,
) -> ServiceResult<BTreeMap<u32, DataEncryptionKey>> {
    let needed = intervals_needed(d, point);
    let full = full_backup_before(d, point);
    let t = server(ws, target)?;
    let mut deks = BTreeMap::new();
    for interval in needed {
        let Some(p) = &interval.protector else {
            continue;
        };
        let dek = match (&p.key_type, &p.uri) {
            (ServerKeyType::AzureKeyVault, Some(uri)) => {
                let linked = t.keys.iter().any(|k| {
                    k.uri
                        .as_deref()
                        .is_some_and(|u| u.eq_ignore_ascii_case(uri))
                });
                let parsed = KeyUri::parse(uri);
                let bytes = match (linked, parsed) {
                    (true, Some(parsed)) => match super::keyvault::data_plane::unwrap_key(
                        ws,
                        &super::key_access::caller_with(t, identity),
                        &parsed,
                        &p.wrapped,
                    ) {
                        Ok(b) => Some(b),
                        // An outage or throttling is not a missing key: retry later.
                        Err(f) if f.is_transient() => {
                            return Err(ServiceError::vault_connection_failed());
                        }
                        Err(_) => None,
                    },
                    _ => None,
                };
                let bytes = bytes.ok_or_else(|| missing_uri(uri, dest, &t.name, full, point))?;
                DataEncryptionKey::from_bytes(&bytes)
                    .map_err(|_| missing_uri(uri, dest, &t.name, full, point))?
            }
            _ => {
                // Service-managed: the source server's own key.
                let s = server(ws, source_server)?;
                let bytes = s
                    .service_managed_key
                    .unwrap_key(WrapAlgorithm::RsaOaep256, &p.wrapped)
                    .map_err(|e| ServiceError::new("InternalServerError", 500, e.to_string()))?;
                DataEncryptionKey::from_bytes(&bytes)
                    .map_err(|e| ServiceError::new("InternalServerError", 500, e.to_string()))?
            }
        };
        deks.insert(p.dek_epoch, dek);
    }
    Ok(deks)
}

/// Starts a restore: validates, really unwraps what the backups need and decrypts the
/// content at the restore point, then creates the new database (Restoring until the
/// service finishes). Nothing is created when any step fails.
pub fn restore_database(ws: &mut Workspace, req: &RestoreRequest) -> ServiceResult<Database> {
    restore_database_with(ws, req, &DatabaseCmk::default(), None)
}

/// [`restore_database`] with database-level CMK arguments (`-i --user-assigned-identity-id
/// --keys --encryption-protector …`: the keys are linked to the target server with the new
/// database's identity, which then reads the backups' keys and protects the new DEK with its
/// own protector) and a SKU kept as given (`--edition`, `--service-objective`, …; none: the
/// source's).
pub fn restore_database_with(
    ws: &mut Workspace,
    req: &RestoreRequest,
    cmk: &DatabaseCmk,
    sku: Option<&super::sku::SkuRequest>,
) -> ServiceResult<Database> {
    transact(ws, |ws| {
        let (src, point) = source_and_point(ws, req)?;
        let prepared = if cmk.is_empty() {
            super::database_key::PreparedCmk::default()
        } else {
            // The target server must exist before anything is linked to it.
            server(ws, &req.target_server)?;
            super::database_key::prepare_cmk(ws, &req.target_server, cmk)?
        };
        let sku = match sku {
            Some(r) if !r.is_empty() => {
                Some(super::sku::resolve(r, Some(&super::sku::sku_of(&src)))?)
            }
            _ => src.sku.clone(),
        };
        let target = server(ws, &req.target_server)?;
        super::check_name("database", &req.dest_name, 1, 128, |c| {
            !"<>*%&:\\/?".contains(c)
        })?;
        if target.database(&req.dest_name).is_some() {
            return Err(ServiceError::conflict(
                "DatabaseAlreadyExists",
                format!(
                    "Database '{}' already exists. Choose a different database name.",
                    req.dest_name
                ),
            ));
        }
        super::lookup::require_server_serving(ws, &req.target_server)?;
        if target.protector_change_until.is_some_and(|t| t > ws.now()) {
            return Err(ServiceError::bad_request(
                "CreateDatabaseAttemptedWithRotationInProgress",
                "The create database operation can not be performed at this time due to ongoing Transparent Data Encryption (TDE) key rotation on the server. Please try the operation again later.",
            ));
        }
        let deks = unwrap_needed(
            ws,
            &req.source_server,
            &src,
            point,
            &req.target_server,
            &req.dest_name,
            prepared.identity.as_deref(),
        )?;
        // The content as it was at the restore point, decrypted with the DEK of its epoch.
        let text = match revision_at(&src, point) {
            None => String::new(),
            Some(rev) => {
                let epoch = match &rev.sealed {
                    SealedText::Encrypted { dek_epoch, .. } => Some(*dek_epoch),
                    SealedText::Plain(_) => None,
                };
                let dek = match epoch {
                    None => None,
                    Some(e) => match deks.get(&e) {
                        Some(d) => Some(d),
                        None => {
                            // Content written under an older DEK than the full backup's
                            // interval: that interval's key is needed too.
                            let older = src
                                .protector_history
                                .iter()
                                .find(|i| i.protector.as_ref().is_some_and(|p| p.dek_epoch == e));
                            let uri = older
                                .and_then(|i| i.protector.as_ref())
                                .map(|p| p.label())
                                .unwrap_or_default();
                            return Err(missing_uri(
                                &uri,
                                &req.dest_name,
                                &req.target_server,
                                full_backup_before(&src, point),
                                point,
                            ));
                        }
                    },
                };
                unseal(&rev.sealed, dek)?
            }
        };
        let now = ws.now();
        let tier = match &sku {
            Some(s) if req.tier.is_none() => super::sku::service_tier(s),
            _ => req.tier.unwrap_or(src.tier),
        };
        let mut db = Database {
            name: req.dest_name.clone(),
            tier,
            max_size_gb: src.max_size_gb,
            created: now,
            state: DatabaseState::Restoring {
                since: now,
                until: now + restore_duration(&src),
            },
            // Nothing reports on it until the restore has created it.
            health: ResourceHealth::Unknown,
            health_history: vec![HealthEvent {
                time: now,
                health: ResourceHealth::Unknown,
                reason: format!(
                    "Being restored from '{}' as of {}: no health data until it is online.",
                    src.name,
                    point.to_iso()
                ),
            }],
            dek: None,
            pages: PageStore::Plain(Vec::new()),
            tags: Vec::new(),
            settings: DatabaseSettings::default(),
            last_recovery: None,
            encryption_protector: None,
            encryption_protector_auto_rotation: false,
            identity: None,
            key_access_lost_since: None,
            content: Vec::new(),
            protector_history: Vec::new(),
            dek_epoch: 0,
            backup_policy: src.backup_policy.clone(),
            history_start: None,
            key_history: Vec::new(),
            sku,
            options: src.options.clone(),
            infra_encrypted: false,
        };
        let until = match db.state {
            DatabaseState::Restoring { until, .. } => until,
            _ => now,
        };
        // A fresh DEK under the target server's current protector.
        let tde_on = src.tde_enabled() || target_uses_cmk(ws, &req.target_server);
        let fresh = DataEncryptionKey::generate();
        let plain_pages = super::content::sample_pages(&req.dest_name);
        if tde_on || prepared.own_key.is_some() {
            let wrapped = match &prepared.own_key {
                // The new database's own protector, reached with its identity.
                Some(k) => super::key_access::server_wrap_dek_as(
                    ws,
                    &req.target_server,
                    &k.name,
                    &fresh,
                    prepared.identity.as_deref(),
                ),
                None => {
                    let protector = server(ws, &req.target_server)?
                        .protector
                        .server_key_name
                        .clone();
                    server_wrap_dek(ws, &req.target_server, &protector, &fresh)
                }
            }
            .map_err(|f| tde_error(ws, &req.target_server, &f))?;
            if let Some(k) = &prepared.own_key {
                db.encryption_protector = Some(k.name.clone());
                db.encryption_protector_auto_rotation = cmk.auto_rotation;
            }
            db.identity = prepared.identity.clone();
            db.dek = Some(wrapped);
            // A new database of the target server: under its infrastructure encryption, if on.
            let platform = super::lookup::new_page_platform_key(ws, &req.target_server)?;
            db.pages = PageStore::Encrypted(
                crate::crypto::layered::PageLayers::new(Some(&fresh), platform.as_ref())
                    .encrypt_pages(&plain_pages)
                    .map_err(|e| ServiceError::new("InternalServerError", 500, e.to_string()))?,
            );
        } else {
            db.pages = PageStore::Plain(plain_pages.into_iter().map(PlainPage).collect());
        }
        db.infra_encrypted = server(ws, &req.target_server)?
            .infrastructure_encryption
            .is_some();
        if !text.is_empty() {
            let sealed = seal(&db, Some(&fresh), &text)?;
            db.content.push(ContentRevision { at: now, sealed });
        }
        let resource = ids::database(server(ws, &req.target_server)?, &db.name);
        server_mut(ws, &req.target_server)?
            .databases
            .push(std::sync::Arc::new(db.clone()));
        super::database_key::record_database_keys(
            ws,
            &req.target_server,
            &db.name,
            &prepared.added,
        )?;
        let db = live_database(ws, &req.target_server, &db.name)?.clone();
        ws.schedule.push(
            until,
            SimEvent::RestoreComplete {
                server: req.target_server.clone(),
                database: db.name.clone(),
            },
        );
        super::log_user_activity(
            ws,
            now,
            RESTORE_OPERATION,
            ActivityStatus::Started,
            resource,
            format!(
                "Restore of '{}' (server '{}') as of {} into '{}' on server '{}' started.",
                src.name,
                req.source_server,
                point.to_iso(),
                db.name,
                req.target_server
            ),
        );
        Ok(db)
    })
}

fn target_uses_cmk(ws: &Workspace, server_name: &str) -> bool {
    ws.server(server_name)
        .is_some_and(|s| s.protector.key_type == ServerKeyType::AzureKeyVault)
}

/// The scheduled end of a restore: the new database opens (its DEK really unwrapped) and is
/// Online.
pub(crate) fn complete_restore(ws: &mut Workspace, server_name: &str, db: &str) {
    let now = ws.now();
    let Some(s) = ws.server(server_name) else {
        return;
    };
    let Some(d) = s.database(db).cloned() else {
        return;
    };
    // Only the restore this event was scheduled for (not a later one of the same name).
    if !matches!(d.state, DatabaseState::Restoring { until, .. } if until <= now) {
        return;
    }
    // A server whose region is down finishes nothing: the restore completes after.
    if let Some(o) = ws.continuity.region_outage(&s.location, now) {
        let until = o.until;
        if let Some(dd) = ws.server_mut(server_name).and_then(|s| s.database_mut(db))
            && let DatabaseState::Restoring { until: u, .. } = &mut dd.state
        {
            *u = until;
        }
        ws.schedule.push(
            until,
            SimEvent::RestoreComplete {
                server: server_name.to_string(),
                database: db.to_string(),
            },
        );
        return;
    }
    let resource = ids::database(s, db);
    let (outcome, _) = super::requests::long_running(ws, |ws| {
        super::key_access::open_database(ws, server_name, &d)
    });
    if let Some(dd) = ws.server_mut(server_name).and_then(|s| s.database_mut(db)) {
        match &outcome {
            Ok(()) => {
                dd.state = DatabaseState::Online;
                dd.settings.pitr_earliest = Some(now);
                dd.set_health(
                    now,
                    ResourceHealth::Available,
                    "The restore is complete: the database is online.",
                );
            }
            Err(_) => {
                dd.state = DatabaseState::Inaccessible {
                    since: now,
                    cause: KeyAccessFailure::UnwrapFailed,
                    access_restored_at: None,
                    revalidation_required: false,
                };
                dd.set_health(
                    now,
                    ResourceHealth::Unavailable,
                    "The restored database cannot open its database encryption key.",
                );
            }
        }
    }
    // The restore's end is the operation of whoever started it.
    let caller = super::started_by(ws, RESTORE_OPERATION, &resource);
    match outcome {
        Ok(()) => {
            super::log_activity_by(
                ws,
                caller,
                now,
                RESTORE_OPERATION,
                ActivityStatus::Succeeded,
                resource,
                format!("Database '{db}' on server '{server_name}' was restored and is Online."),
            );
            notify(
                ws,
                NotificationLevel::Success,
                "Restore completed",
                format!("'{db}' on '{server_name}' is Online."),
            );
        }
        Err(why) => {
            super::log_activity_by(
                ws,
                caller,
                now,
                RESTORE_OPERATION,
                ActivityStatus::Failed,
                resource,
                format!("The restored database '{db}' could not be opened: {why}"),
            );
            notify(
                ws,
                NotificationLevel::Error,
                "Restore failed",
                format!("'{db}' on '{server_name}' could not be opened: {why}"),
            );
        }
    }
}

/// `az sql db str-policy set`.
pub fn set_backup_policy(
    ws: &mut Workspace,
    server_name: &str,
    db: &str,
    retention_days: u32,
    diff_backup_hours: Option<u32>,
) -> ServiceResult<BackupPolicy> {
    transact(ws, |ws| {
        if !(1..=35).contains(&retention_days) {
            return Err(ServiceError::bad_request(
                "InvalidBackupRetentionPeriod",
                format!(
                    "The retention period of {retention_days} days is not valid: point-in-time restore retention is 1 to 35 days."
                ),
            ));
        }
        if let Some(h) = diff_backup_hours
            && h != 12
            && h != 24
        {
            return Err(ServiceError::bad_request(
                "InvalidDiffBackupIntervalHours",
                format!("Differential backups are taken every 12 or 24 hours, not {h}."),
            ));
        }
        super::lookup::live_database(ws, server_name, db)?;
        let now = ws.now();
        let d = server_mut(ws, server_name)?
            .database_mut(db)
            .ok_or_else(|| ServiceError::database_not_found(server_name, db))?;
        d.backup_policy.retention_days = retention_days;
        if let Some(h) = diff_backup_hours {
            d.backup_policy.diff_backup_hours = h;
        }
        d.prune_history(now);
        Ok(d.backup_policy.clone())
    })
}

/// Is a dropped database still worth keeping ([`DeletedDatabase::still_restorable`])?
pub fn dropped_still_restorable(x: &DeletedDatabase, now: Timestamp) -> bool {
    x.still_restorable(now)
}

/// Dropped databases of a server still within their point-in-time retention.
pub fn list_deleted(ws: &Workspace, server_name: &str) -> ServiceResult<Vec<DeletedDatabase>> {
    let now = ws.now();
    Ok(server(ws, server_name)?
        .deleted_databases
        .iter()
        .filter(|d| earliest_restore_point(&d.database, now) <= d.deleted_at)
        .cloned()
        .collect())
}

/// Can `server_name` use, now, the key an interval's backups were written under (linked on
/// the server, and usable through the vault)?
pub fn interval_reachable(ws: &Workspace, server_name: &str, interval: &ProtectorInterval) -> bool {
    interval_problem(ws, server_name, interval).is_none()
}

/// Why the server cannot use the key of `interval` for a restore (`None`: it can): a word
/// for a badge and a sentence for its hover. The key may not be linked to the server, or
/// the vault refuses the unwrap (disabled version, deleted key, missing permission…).
pub fn interval_problem(
    ws: &Workspace,
    server_name: &str,
    interval: &ProtectorInterval,
) -> Option<(&'static str, String)> {
    let uri = interval.protector.as_ref()?.uri.as_ref()?;
    let linked = ws.server(server_name).is_some_and(|s| {
        s.keys.iter().any(|k| {
            k.uri
                .as_deref()
                .is_some_and(|u| u.eq_ignore_ascii_case(uri))
        })
    });
    if !linked {
        return Some((
            "Not linked",
            "the key is not linked to the server: add it to the server's keys (TDE blade)".into(),
        ));
    }
    let Some(parsed) = KeyUri::parse(uri) else {
        return Some(("Missing", "the key identifier is not a key URI".into()));
    };
    let failure = super::keyvault::data_plane::check_key_use(
        ws,
        &Caller::Server(server_name.to_string()),
        &parsed,
        &[KeyPermission::UnwrapKey],
        Some(KeyOperation::UnwrapKey),
    )
    .err()?;
    let word = match &failure {
        KeyAccessFailure::KeyDisabled => "Disabled",
        KeyAccessFailure::KeyDeleted | KeyAccessFailure::KeyNotFound => "Deleted",
        KeyAccessFailure::KeyExpired => "Expired",
        KeyAccessFailure::KeyNotYetActive => "Not yet active",
        KeyAccessFailure::MissingPermissions(_)
        | KeyAccessFailure::TenantMismatch
        | KeyAccessFailure::NoServerIdentity
        | KeyAccessFailure::KeyOperationsNotPermitted => "No permission",
        KeyAccessFailure::VaultDeleted | KeyAccessFailure::VaultNotFound => "Vault gone",
        KeyAccessFailure::FirewallBlocked
        | KeyAccessFailure::VaultUnreachable
        | KeyAccessFailure::Throttled
        | KeyAccessFailure::UnwrapFailed => "Unreachable",
    };
    Some((word, failure.describe()))
}

/// Which keys the backups of `d` still need ([`Database::keys_needed_by_backups`]).
pub fn keys_needed_by_backups(d: &Database, now: Timestamp) -> Vec<String> {
    d.keys_needed_by_backups(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_durations() {
        assert_eq!(parse_retention("P4W"), Some(Duration::days(28)));
        assert_eq!(parse_retention("P10Y"), Some(Duration::days(3650)));
        assert_eq!(parse_retention("P3650D"), Some(Duration::days(3650)));
        assert_eq!(parse_retention("P3651D"), None);
        assert_eq!(parse_retention("P11Y"), None);
        assert_eq!(parse_retention("P0D"), None);
        assert_eq!(parse_retention("P4é"), None);
        assert_eq!(parse_retention("P"), None);
        assert_eq!(parse_retention("4W"), None);
        assert_eq!(parse_retention("P9223372036854775807Y"), None);
    }
}
