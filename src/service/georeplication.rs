//! Active geo-replication under customer-managed TDE: replicas that really share the
//! primary's DEK (wrapped by their own server's protector), the key-material rules the
//! service enforces, and failover (planned, forced) that opens the new primary by really
//! unwrapping its DEK through that server's vault.

use super::database_key::DatabaseCmk;
pub use super::geo_rules::partners_lacking;
pub use super::geo_rules::same_material;
use super::geo_rules::target_key;
use super::key_access::{server_unwrap_dek, server_wrap_dek};
use super::lookup::{live_database, server, server_mut, tde_error};
use super::{ServiceError, ServiceResult, ids, notify, transact};
use crate::model::*;

/// `az sql db replica create`.
#[derive(Clone, Debug)]
pub struct CreateReplica {
    pub server: String,
    pub database: String,
    pub partner_server: String,
    /// Defaults to the primary's name.
    pub partner_database: Option<String>,
}

fn byok(s: &SqlServer, d: &Database) -> bool {
    s.database_key(d)
        .is_some_and(|k| k.key_type == ServerKeyType::AzureKeyVault)
}

/// `az sql db replica create`: a readable geo-secondary on another server.
pub fn create_replica(ws: &mut Workspace, req: &CreateReplica) -> ServiceResult<ReplicationLink> {
    create_replica_with(ws, req, &DatabaseCmk::default(), None)
}

/// `az sql db replica create` with database-level CMK arguments (`-i
/// --user-assigned-identity-id --keys --encryption-protector [--federated-client-id]
/// [--encryption-protector-auto-rotation]`) and a SKU (`--service-objective`, …): the keys
/// are linked to the partner server with the secondary's identity first, and the secondary's
/// own protector must hold the same key material as the primary's.
pub fn create_replica_with(
    ws: &mut Workspace,
    req: &CreateReplica,
    cmk: &DatabaseCmk,
    sku: Option<&super::sku::SkuRequest>,
) -> ServiceResult<ReplicationLink> {
    transact(ws, |ws| {
        let prepared = if cmk.is_empty() {
            super::database_key::PreparedCmk::default()
        } else {
            super::database_key::prepare_cmk(ws, &req.partner_server, cmk)?
        };
        let source_sku = super::sku::sku_of(live_database(ws, &req.server, &req.database)?);
        let sku = match sku {
            Some(r) if !r.is_empty() => Some(super::sku::resolve(r, Some(&source_sku))?),
            _ => None,
        };
        create_replica_inner(ws, req, &prepared, cmk.auto_rotation, sku)
    })
}

fn create_replica_inner(
    ws: &mut Workspace,
    req: &CreateReplica,
    prepared: &super::database_key::PreparedCmk,
    auto_rotation: bool,
    sku: Option<DatabaseSku>,
) -> ServiceResult<ReplicationLink> {
    {
        let d = live_database(ws, &req.server, &req.database)?.clone();
        let s = server(ws, &req.server)?;
        let partner = server(ws, &req.partner_server)?;
        let partner_db = req
            .partner_database
            .clone()
            .unwrap_or_else(|| d.name.clone());
        super::check_name("database", &partner_db, 1, 128, |c| {
            !"<>*%&:\\/?".contains(c)
        })?;
        if partner.name.eq_ignore_ascii_case(&s.name) {
            return Err(ServiceError::bad_request(
                "InvalidPartnerServer",
                "A geo-secondary must be on another server than its primary.",
            ));
        }
        if !d.state.is_online() {
            return Err(ServiceError::database_inaccessible(&s.name, &d.name));
        }
        super::lookup::require_serving(ws, &req.server, &d.name)?;
        super::lookup::require_server_serving(ws, &req.partner_server)?;
        if let Some(up) = ws.continuity.primary_of(&s.name, &d.name) {
            let chain_byok = byok(s, &d)
                || ws
                    .server(&up.primary_server)
                    .is_some_and(|p| p.protector.key_type == ServerKeyType::AzureKeyVault)
                || partner.protector.key_type == ServerKeyType::AzureKeyVault;
            if chain_byok {
                return Err(ServiceError::bad_request(
                    "SecurityAzureKeyVaultGeoChainError",
                    "Creating secondary of secondary (a process known as chaining) is not supported when enabling Transparent Data Encryption using Azure Key Vault (BYOK).",
                ));
            }
        }
        if ws.continuity.links.iter().any(|l| {
            l.is_primary(&s.name, &d.name) && l.secondary_server.eq_ignore_ascii_case(&partner.name)
        }) {
            return Err(ServiceError::conflict(
                "ReplicationLinkAlreadyExists",
                format!(
                    "Database '{}' on server '{}' already has a geo-secondary on server '{}'.",
                    d.name, s.name, partner.name
                ),
            ));
        }
        if ws.continuity.secondaries_of(&s.name, &d.name).count() >= MAX_GEO_SECONDARIES {
            return Err(ServiceError::bad_request(
                "GeoReplicationMaxSecondariesReached",
                format!(
                    "Database '{}' already has {MAX_GEO_SECONDARIES} geo-secondaries, the most a database can have.",
                    d.name
                ),
            ));
        }
        if partner.database(&partner_db).is_some() {
            return Err(ServiceError::conflict(
                "DatabaseAlreadyExists",
                format!(
                    "Database '{partner_db}' already exists on server '{}'. Choose a different database name.",
                    partner.name
                ),
            ));
        }
        if [s, partner]
            .iter()
            .any(|x| x.protector_change_until.is_some_and(|t| t > ws.now()))
        {
            return Err(ServiceError::bad_request(
                "CreateDatabaseAttemptedWithRotationInProgress",
                "The create database operation can not be performed at this time due to ongoing Transparent Data Encryption (TDE) key rotation on the server. Please try the operation again later.",
            ));
        }
        let own_key = target_key(s, &d, partner, &partner_db, prepared.own_key.as_ref())?;
        let identity = prepared.identity.clone().or_else(|| d.identity.clone());
        let now = ws.now();
        // Seed the secondary with the primary's DEK: unwrapped through the primary's vault,
        // wrapped by the partner's key.
        let dek = match &d.dek {
            Some(_) => Some(
                server_unwrap_dek(ws, &req.server, &d)
                    .map_err(|f| tde_error(ws, &req.server, &f))?,
            ),
            None => None,
        };
        let wrapped = match &dek {
            Some(dek) => {
                let key = own_key
                    .clone()
                    .unwrap_or_else(|| partner.protector.server_key_name.clone());
                let wrapped = match &own_key {
                    Some(_) => super::key_access::server_wrap_dek_as(
                        ws,
                        &req.partner_server,
                        &key,
                        dek,
                        identity.as_deref(),
                    ),
                    None => server_wrap_dek(ws, &req.partner_server, &key, dek),
                };
                Some(wrapped.map_err(|f| tde_error(ws, &req.partner_server, &f))?)
            }
            None => None,
        };
        let content = super::content::revision_at(&d, now)
            .map(|r| ContentRevision {
                at: now,
                sealed: r.sealed.clone(),
            })
            .into_iter()
            .collect();
        // The same pages under the same DEK, moved from the primary server's platform layer
        // (infrastructure encryption) to the partner's: the DEK layer is not opened.
        let pages = relayer_pages(
            &d.pages,
            super::lookup::page_platform_key(ws, &req.server, &d)?.as_ref(),
            super::lookup::new_page_platform_key(ws, &req.partner_server)?.as_ref(),
        )?;
        let secondary = Database {
            name: partner_db.clone(),
            infra_encrypted: partner.infrastructure_encryption.is_some(),
            pages,
            created: now,
            state: DatabaseState::Online,
            health: ResourceHealth::Available,
            health_history: vec![HealthEvent {
                time: now,
                health: ResourceHealth::Available,
                reason: format!(
                    "Created as a geo-secondary of '{}' on '{}'.",
                    d.name, s.name
                ),
            }],
            dek: wrapped,
            tags: d.tags.clone(),
            settings: DatabaseSettings::default(),
            last_recovery: None,
            encryption_protector_auto_rotation: own_key.is_some()
                && (auto_rotation
                    || (d.encryption_protector_auto_rotation && d.encryption_protector.is_some())),
            encryption_protector: own_key,
            identity,
            key_access_lost_since: None,
            content,
            protector_history: Vec::new(),
            key_history: Vec::new(),
            tier: sku.as_ref().map(super::sku::service_tier).unwrap_or(d.tier),
            sku: sku.or_else(|| d.sku.clone()),
            ..d.clone()
        };
        let resource = ids::database(s, &d.name);
        let (primary_server, secondary_server) = (s.name.clone(), partner.name.clone());
        let link = ReplicationLink {
            id: guid_from_bytes(ws.clock.draw_bytes16()),
            primary_server,
            primary_database: d.name.clone(),
            secondary_server,
            secondary_database: partner_db.clone(),
            created: now,
            state: LinkState::CatchUp,
        };
        server_mut(ws, &req.partner_server)?
            .databases
            .push(std::sync::Arc::new(secondary));
        super::database_key::record_database_keys(
            ws,
            &req.partner_server,
            &partner_db,
            &prepared.added,
        )?;
        ws.continuity.links.push(link.clone());
        super::log_user_activity(
            ws,
            now,
            "Create or update SQL database",
            ActivityStatus::Succeeded,
            resource,
            format!(
                "Geo-secondary '{partner_db}' of '{}' created on server '{}'.",
                d.name, req.partner_server
            ),
        );
        Ok(link)
    }
}

/// `az sql db replica list-links`: the links of a database, either side.
pub fn list_links(
    ws: &Workspace,
    server_name: &str,
    db: &str,
) -> ServiceResult<Vec<ReplicationLink>> {
    live_database(ws, server_name, db)?;
    Ok(ws
        .continuity
        .links
        .iter()
        .filter(|l| l.touches(server_name, db))
        .cloned()
        .collect())
}

fn no_links(db: &str) -> ServiceError {
    ServiceError::bad_request(
        "ReplicationLinkNotFound",
        format!("The specified database has no replication links. (database '{db}')"),
    )
}

fn in_group_error() -> ServiceError {
    ServiceError::bad_request(
        "FailoverGroupAlreadySetup",
        "The operation cannot be performed because the geo-replication link is part of a Failover Group. Remove the database from the failover group, or use the failover group's own operations.",
    )
}

/// What a failover did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FailoverReport {
    pub new_primary_server: String,
    pub database: String,
    /// Writes of the last seconds that had not reached the secondary (forced failover).
    pub lost_writes: usize,
    pub already_primary: bool,
}

/// Why `az sql db replica set-primary` on the geo-secondary `server_name`/`db` would be
/// refused now, before any key is touched: its link is part of a failover group, it
/// replicates from another secondary, or (planned) its primary cannot be reached. `None`
/// when it can be tried (the new primary's vault may still refuse its key), and when `db`
/// is no geo-secondary (set-primary then answers that it is already the primary, or has no
/// link). What the portal's greyed failover buttons say, and what set-primary answers.
pub fn failover_refusal(
    ws: &Workspace,
    server_name: &str,
    db: &str,
    allow_data_loss: bool,
) -> Option<ServiceError> {
    let l = ws.continuity.primary_of(server_name, db)?;
    if ws.continuity.group_of(server_name, db).is_some()
        || ws
            .continuity
            .group_of(&l.primary_server, &l.primary_database)
            .is_some()
    {
        return Some(in_group_error());
    }
    // A secondary of a secondary (chained, without BYOK) fails over from its own primary
    // only once that one is a primary.
    if ws
        .continuity
        .primary_of(&l.primary_server, &l.primary_database)
        .is_some()
    {
        return Some(ServiceError::bad_request(
            "ChainedSecondaryFailoverNotSupported",
            format!(
                "'{db}' on '{server_name}' replicates from '{}' on '{}', itself a geo-secondary: fail that one over first.",
                l.primary_database, l.primary_server
            ),
        ));
    }
    if allow_data_loss {
        None
    } else {
        primary_unreachable(ws, &l.primary_server, &l.primary_database)
    }
}

/// Why a planned failover away from the primary `server_name`/`db` cannot be done now: it
/// syncs first, so the primary must be reachable (its region up) and Online. `None` when it
/// can. A forced failover (`--allow-data-loss`) does not need it.
pub fn primary_unreachable(ws: &Workspace, server_name: &str, db: &str) -> Option<ServiceError> {
    let now = ws.now();
    let s = ws.server(server_name);
    let down = s.is_none_or(|s| ws.continuity.region_outage(&s.location, now).is_some());
    let online = s
        .and_then(|s| s.database(db))
        .is_some_and(|d| d.state.is_online());
    (down || !online).then(|| {
        ServiceError::new(
            "PrimaryNotReachable",
            503,
            format!(
                "The primary database '{db}' on server '{server_name}' cannot be reached (its region is unavailable, or it is not Online), so a planned failover without data loss is not possible. Use a forced failover (--allow-data-loss)."
            ),
        )
    })
}

/// `az sql db replica set-primary` (run against the secondary).
pub fn set_primary(
    ws: &mut Workspace,
    server_name: &str,
    db: &str,
    allow_data_loss: bool,
) -> ServiceResult<FailoverReport> {
    let from = ws.activity_log.len();
    let r = transact(ws, |ws| {
        live_database(ws, server_name, db)?;
        if ws.continuity.primary_of(server_name, db).is_none() {
            if ws
                .continuity
                .secondaries_of(server_name, db)
                .next()
                .is_some()
            {
                return Ok(FailoverReport {
                    new_primary_server: server_name.to_string(),
                    database: db.to_string(),
                    lost_writes: 0,
                    already_primary: true,
                });
            }
            return Err(no_links(db));
        }
        if let Some(e) = failover_refusal(ws, server_name, db, allow_data_loss) {
            return Err(e);
        }
        failover_database(ws, server_name, db, allow_data_loss, true, true)
    })?;
    super::mark_user_activity_since(ws, from);
    Ok(r)
}

/// Makes the secondary `server`/`db` the primary. Planned: the secondary catches up first
/// (no write lost), which needs the primary reachable. Forced: writes still in flight are
/// lost. The new primary opens by really unwrapping its DEK through its own vault; the old
/// primary and every other secondary follow the new primary.
pub(crate) fn failover_database(
    ws: &mut Workspace,
    server_name: &str,
    db: &str,
    allow_data_loss: bool,
    open: bool,
    announce: bool,
) -> ServiceResult<FailoverReport> {
    let now = ws.now();
    let link = ws
        .continuity
        .primary_of(server_name, db)
        .cloned()
        .ok_or_else(|| no_links(db))?;
    let old_server = link.primary_server.clone();
    let old_db = link.primary_database.clone();
    // A planned failover syncs first: the primary must be serving and Online.
    if !allow_data_loss && let Some(e) = primary_unreachable(ws, &old_server, &old_db) {
        return Err(e);
    }
    super::lookup::require_serving(ws, server_name, db)?;
    // Open the new primary: its DEK really unwrapped through its own server's vault.
    let d = live_database(ws, server_name, db)?.clone();
    if open && d.dek.is_some() {
        server_unwrap_dek(ws, server_name, &d).map_err(|f| tde_error(ws, server_name, &f))?;
    }
    let lost_writes = {
        let target = server_mut(ws, server_name)?
            .database_mut(db)
            .ok_or_else(|| ServiceError::database_not_found(server_name, db))?;
        let in_flight = target.content.iter().filter(|r| r.at > now).count();
        if allow_data_loss {
            target.content.retain(|r| r.at <= now);
        } else {
            for r in target.content.iter_mut().filter(|r| r.at > now) {
                r.at = now;
            }
        }
        if allow_data_loss { in_flight } else { 0 }
    };
    // Swap roles: every link from the old primary now starts at the new one.
    let mut others: Vec<(String, String)> = Vec::new();
    for l in &mut ws.continuity.links {
        if l.is_primary(&old_server, &old_db) {
            if l.is_secondary(server_name, db) {
                l.secondary_server = old_server.clone();
                l.secondary_database = old_db.clone();
            } else {
                others.push((l.secondary_server.clone(), l.secondary_database.clone()));
            }
            l.primary_server = server_name.to_string();
            l.primary_database = d.name.clone();
        }
    }
    // The old primary rejoins as a secondary, re-seeded from the new primary.
    let seed = super::content::revision_at(live_database(ws, server_name, db)?, now).cloned();
    // The other secondaries follow the new primary too: what it never received, they drop.
    others.push((old_server.clone(), old_db.clone()));
    for (srv, name) in &others {
        if let Some(x) = ws.server_mut(srv).and_then(|s| s.database_mut(name)) {
            x.content.retain(|r| r.at <= now);
            if let Some(seed) = &seed
                && x.content.last().map(|r| &r.sealed) != Some(&seed.sealed)
            {
                x.content.push(ContentRevision {
                    at: now,
                    sealed: seed.sealed.clone(),
                });
            }
        }
    }
    let resource = ids::database(server(ws, server_name)?, db);
    let kind = if allow_data_loss { "Forced" } else { "Planned" };
    super::log_activity(
        ws,
        now,
        "Fail over replication link",
        ActivityStatus::Succeeded,
        resource,
        format!(
            "{kind} failover: '{db}' on server '{server_name}' is now the primary ('{old_db}' on '{old_server}' is its secondary). Writes lost: {lost_writes}."
        ),
    );
    // A database failed over with its group is told once, in the group's notification.
    if announce {
        notify(
            ws,
            if lost_writes > 0 {
                NotificationLevel::Warning
            } else {
                NotificationLevel::Success
            },
            "Failover completed",
            format!(
                "{kind} failover of '{db}' to '{server_name}' completed; {lost_writes} write(s) lost."
            ),
        );
    }
    Ok(FailoverReport {
        new_primary_server: server_name.to_string(),
        database: d.name,
        lost_writes,
        already_primary: false,
    })
}

/// `az sql db replica delete-link`: the secondary becomes a read-write database of its own.
pub fn delete_link(
    ws: &mut Workspace,
    server_name: &str,
    db: &str,
    partner_server: &str,
) -> ServiceResult<ReplicationLink> {
    transact(ws, |ws| {
        live_database(ws, server_name, db)?;
        server(ws, partner_server)?;
        let i = ws
            .continuity
            .links
            .iter()
            .position(|l| {
                l.touches(server_name, db)
                    && (l.primary_server.eq_ignore_ascii_case(partner_server)
                        || l.secondary_server.eq_ignore_ascii_case(partner_server))
            })
            .ok_or_else(|| no_links(db))?;
        let link = ws.continuity.links[i].clone();
        if ws
            .continuity
            .group_of(&link.primary_server, &link.primary_database)
            .is_some_and(|g| g.has_server(&link.secondary_server))
        {
            return Err(in_group_error());
        }
        ws.continuity.links.remove(i);
        let now = ws.now();
        if let Some(d) = ws
            .server_mut(&link.secondary_server)
            .and_then(|s| s.database_mut(&link.secondary_database))
        {
            d.content.retain(|r| r.at <= now);
        }
        Ok(link)
    })
}

/// After an auto-rotation of `server_name`'s protector to `kid`, the new version is linked
/// on every geo-secondary's server too (they read the same vault).
pub(crate) fn transfer_rotated_version(ws: &mut Workspace, server_name: &str, kid: &str) {
    let partners: Vec<String> = ws
        .continuity
        .links
        .iter()
        .filter(|l| l.primary_server.eq_ignore_ascii_case(server_name))
        .map(|l| l.secondary_server.clone())
        .collect();
    for p in partners {
        if let Err(e) = super::server_key::add_server_key(ws, &p, kid) {
            notify(
                ws,
                NotificationLevel::Error,
                "Rotated key not transferred",
                format!("Geo-secondary server '{p}' could not link {kid}: {e}"),
            );
        }
    }
}

/// Pages moved from one server's infrastructure-encryption layer (`from`) to another's
/// (`to`); either may be absent. Plain pages are kept as they are.
fn relayer_pages(
    pages: &PageStore,
    from: Option<&crate::crypto::DataEncryptionKey>,
    to: Option<&crate::crypto::DataEncryptionKey>,
) -> ServiceResult<PageStore> {
    use crate::crypto::layered::{add_outer, remove_outer};
    let internal = |e: crate::crypto::CryptoError| {
        ServiceError::new("InternalServerError", 500, e.to_string())
    };
    match pages {
        PageStore::Plain(_) => Ok(pages.clone()),
        PageStore::Encrypted(enc) => enc
            .iter()
            .map(|p| {
                let inner = match from {
                    Some(k) => remove_outer(k, p).map_err(internal)?,
                    None => p.clone(),
                };
                match to {
                    Some(k) => add_outer(k, &inner).map_err(internal),
                    None => Ok(inner),
                }
            })
            .collect::<ServiceResult<Vec<_>>>()
            .map(PageStore::Encrypted),
    }
}

/// The link's state now: `SUSPENDED` while the region of either end is down or either
/// database is Inaccessible (nothing replicates; the secondary is not caught up with a
/// primary it cannot hear from), else its own state.
pub fn link_state(ws: &Workspace, l: &ReplicationLink) -> LinkState {
    let now = ws.now();
    let down = |server: &str| {
        ws.server(server)
            .is_some_and(|s| ws.continuity.region_outage(&s.location, now).is_some())
    };
    // An Inaccessible database neither sends nor applies log (its link is lost, Microsoft
    // says: it is certainly not caught up).
    let lost = |server: &str, db: &str| {
        ws.server(server)
            .and_then(|s| s.database(db))
            .is_some_and(|d| matches!(d.state, DatabaseState::Inaccessible { .. }))
    };
    if down(&l.primary_server)
        || down(&l.secondary_server)
        || lost(&l.primary_server, &l.primary_database)
        || lost(&l.secondary_server, &l.secondary_database)
    {
        LinkState::Suspended
    } else {
        l.state
    }
}

/// A replication link as `az sql db replica list-links` shows it, from `server`/`db`'s side:
/// the one builder of this JSON (the shell, the ARM endpoint and the portal's row details).
pub fn link_json(ws: &Workspace, server: &str, db: &str, l: &ReplicationLink) -> serde_json::Value {
    let local_primary = l.is_primary(server, db);
    let (partner_server, partner_db) = if local_primary {
        (&l.secondary_server, &l.secondary_database)
    } else {
        (&l.primary_server, &l.primary_database)
    };
    let s = ws.server(server);
    let p = ws.server(partner_server);
    let (role, partner_role) = if local_primary {
        ("Primary", "Secondary")
    } else {
        ("Secondary", "Primary")
    };
    serde_json::json!({
        "id": s.map(|s| format!("{}/replicationLinks/{}", ids::database(s, db), l.id)),
        "isTerminationAllowed": true,
        "linkType": "GEO",
        "name": l.id,
        "partnerDatabase": partner_db,
        "partnerLocation": p.map(|p| p.location.clone()),
        "partnerRole": partner_role,
        "partnerServer": partner_server,
        "percentComplete": 100,
        "replicationMode": "ASYNC",
        "replicationState": link_state(ws, l).as_str(),
        "resourceGroup": s.map(|s| s.resource_group.clone()),
        "role": role,
        "startTime": l.created.to_iso(),
        "type": "Microsoft.Sql/servers/databases/replicationLinks"
    })
}
