//! Database-level customer-managed keys: a database whose DEK is protected by a key of its
//! own instead of the server's TDE protector (`az sql db update --encryption-protector`),
//! and the way back to the server's key (`az sql db tde key revert`).
//!
//! Such a database is watched on its own: losing its key makes only that database
//! Inaccessible, and the server's protector changes (manual, auto-rotation) leave it alone.
//! The server reaches the key with the database's user-assigned identity (required under
//! the `current` profile; the seed-era `2021` profile falls back to the server's identity),
//! and a vault of another tenant through the application that identity is federated to
//! (`--federated-client-id`).

use super::key_access::{
    parse_kid, server_unwrap_dek, server_wrap_dek, server_wrap_dek_as, validate_protector_as,
};
use super::lookup::{live_database, require_online, server, server_mut, tde_error};
use super::{ServiceError, ServiceResult, ids, notify, transact};
use crate::model::*;

/// `az sql db update --encryption-protector <kid> [--encryption-protector-auto-rotation]`:
/// links the key to the server, checks it as the service checks a protector, and re-wraps
/// the database's DEK with it. The pages are not touched. With `auto_rotation` a versionless
/// key id is accepted and the database follows the key's newest version (within the
/// profile's window, like a server).
pub fn set_database_protector(
    ws: &mut Workspace,
    server_name: &str,
    db: &str,
    kid: &str,
    auto_rotation: bool,
) -> ServiceResult<Database> {
    transact(ws, |ws| {
        super::lookup::require_server_serving(ws, server_name)?;
        let uri = parse_kid(kid)?;
        let d = writable_database(ws, server_name, db)?;
        require_online(ws, server_name, db)?;
        if !d.tde_enabled() {
            return Err(ServiceError::bad_request(
                "TransparentDataEncryptionNotEnabled",
                format!(
                    "Database '{}' on server '{server_name}' does not use transparent data encryption: enable TDE before giving it an encryption protector.",
                    d.name
                ),
            ));
        }
        let identity = d.identity.clone();
        require_identity_for_own_key(ws, identity.as_deref())?;
        super::server_key::add_server_key_as(ws, server_name, kid, identity.as_deref())?;
        let key = validate_protector_as(ws, server_name, &uri, auto_rotation, identity.as_deref())?;
        super::geo_rules::check_database_key_change(ws, server_name, &d.name, &key)?;
        let dek =
            server_unwrap_dek(ws, server_name, &d).map_err(|f| tde_error(ws, server_name, &f))?;
        let wrapped = server_wrap_dek_as(ws, server_name, &key.name, &dek, identity.as_deref())
            .map_err(|f| tde_error(ws, server_name, &f))?;
        let updated = set_key(
            ws,
            server_name,
            &d.name,
            Some((key.name.clone(), auto_rotation)),
            wrapped,
        )?;
        notify(
            ws,
            NotificationLevel::Success,
            "Database encryption protector updated",
            format!(
                "Database '{}' on server '{server_name}' now uses {} as its own encryption protector.",
                d.name,
                key.described()
            ),
        );
        Ok(updated)
    })
}

/// `az sql db tde key revert`: the database goes back to the server's TDE protector. Its DEK
/// is unwrapped with its own key (which must be usable) and wrapped with the server's
/// protector. An Inaccessible database whose key is reachable again comes back through the
/// same recovery as "Revalidate key", now under the server's protector.
pub fn revert_database_protector(
    ws: &mut Workspace,
    server_name: &str,
    db: &str,
) -> ServiceResult<Database> {
    transact(ws, |ws| {
        super::lookup::require_server_serving(ws, server_name)?;
        let d = writable_database(ws, server_name, db)?;
        let s = server(ws, server_name)?;
        let Some(own) = d.encryption_protector.clone() else {
            return Err(ServiceError::bad_request(
                "DatabaseEncryptionProtectorNotSet",
                format!(
                    "Database '{}' on server '{server_name}' has no database-level encryption protector: it already uses the server's TDE protector '{}'.",
                    d.name, s.protector.server_key_name
                ),
            ));
        };
        // Today's service keeps a database's own key while the server itself uses a
        // customer-managed key: the way back to the server's key is only to a
        // service-managed server. (The seed-era `2021` profile predates database-level keys
        // and lets it through.)
        if ws.profile == crate::sim::TimingProfile::Current
            && s.protector.key_type == ServerKeyType::AzureKeyVault
        {
            return Err(ServiceError::bad_request(
                "BadRequest",
                format!(
                    "Database '{}' cannot be reverted to the server's key while server '{server_name}' uses a customer-managed TDE protector: keep the database's own key, or move it to another key with az sql db update --encryption-protector.",
                    d.name
                ),
            ));
        }
        if matches!(d.state, DatabaseState::Recovering { .. }) {
            return Err(ServiceError::bad_request(
                "InvalidDatabaseState",
                format!(
                    "Database '{}' on server '{server_name}' is Recovering: wait until it is Online.",
                    d.name
                ),
            ));
        }
        let protector = s.protector.server_key_name.clone();
        // Unwrapping needs the database's own key: through the vault, with every check.
        let dek =
            server_unwrap_dek(ws, server_name, &d).map_err(|f| tde_error(ws, server_name, &f))?;
        let wrapped = server_wrap_dek(ws, server_name, &protector, &dek)
            .map_err(|f| tde_error(ws, server_name, &f))?;
        let mut updated = set_key(ws, server_name, &d.name, None, wrapped)?;
        if matches!(d.state, DatabaseState::Inaccessible { .. }) {
            super::recovery::start_recovery(ws, server_name, &d.name)?;
            updated = live_database(ws, server_name, &d.name)?.clone();
        }
        notify(
            ws,
            NotificationLevel::Success,
            "Database encryption protector reverted",
            format!(
                "Database '{}' on server '{server_name}' no longer uses '{own}': it is protected by the server's TDE protector '{protector}' again.",
                d.name
            ),
        );
        Ok(updated)
    })
}

/// The database, if no management lock forbids changing it.
fn writable_database(ws: &Workspace, server_name: &str, db: &str) -> ServiceResult<Database> {
    let d = live_database(ws, server_name, db)?.clone();
    let id = ids::database(server(ws, server_name)?, &d.name);
    super::locks::check(ws, &id, super::locks::LockedAction::Write)?;
    Ok(d)
}

/// Stores the re-wrapped DEK and the database's own key with its auto-rotation (or none).
fn set_key(
    ws: &mut Workspace,
    server_name: &str,
    db: &str,
    own: Option<(String, bool)>,
    wrapped: WrappedDek,
) -> ServiceResult<Database> {
    let d = server_mut(ws, server_name)?
        .database_mut(db)
        .ok_or_else(|| ServiceError::database_not_found(server_name, db))?;
    d.dek = Some(wrapped);
    d.encryption_protector_auto_rotation = own.as_ref().is_some_and(|(_, auto)| *auto);
    d.encryption_protector = own.map(|(name, _)| name);
    d.key_access_lost_since = None;
    record_database_keys(ws, server_name, db, &[])?;
    Ok(live_database(ws, server_name, db)?.clone())
}

/// A database identity argument: an existing user-assigned identity (its ARM id, as
/// stored), or none.
pub(crate) fn check_database_identity(
    ws: &Workspace,
    identity: Option<&str>,
) -> ServiceResult<Option<String>> {
    match identity {
        None => Ok(None),
        Some(id) => ws.identity(id).map(|u| Some(u.arm_id())).ok_or_else(|| {
            ServiceError::bad_request(
                "InvalidUserAssignedIdentity",
                format!("The user assigned identity '{id}' was not found or is not in the server's tenant."),
            )
        }),
    }
}

/// Today's service reaches a database's own key only with a user-assigned identity on the
/// database (system-assigned identities are not supported at the database level). The
/// seed-era `2021` profile, which predates database-level keys, lets the server's identity
/// do it.
pub(crate) fn require_identity_for_own_key(
    ws: &Workspace,
    identity: Option<&str>,
) -> ServiceResult<()> {
    if identity.is_none() && ws.profile == crate::sim::TimingProfile::Current {
        return Err(ServiceError::bad_request(
            "InvalidIdentityForDatabaseLevelCMK",
            "A database-level customer-managed key needs a user-assigned managed identity on the database (--assign-identity --user-assigned-identity-id ID); system-assigned identities are not supported at the database level.",
        ));
    }
    Ok(())
}

/// `az sql db create|update --federated-client-id APP`: the database's user-assigned
/// identity reaches a vault of another tenant as `APP`'s service principal there (the app
/// must be multi-tenant and trust the identity with a federated credential, as for a
/// server).
pub fn federate_database_identity(
    ws: &mut Workspace,
    server_name: &str,
    identity: &str,
    app_id: &str,
) -> ServiceResult<()> {
    transact(ws, |ws| {
        let id = check_database_identity(ws, Some(identity))?.ok_or_else(|| {
            ServiceError::bad_request(
                "InvalidParameterValue",
                "--federated-client-id needs the database's user-assigned identity.",
            )
        })?;
        if !ws
            .apps
            .iter()
            .any(|a| a.app_id.eq_ignore_ascii_case(app_id))
        {
            return Err(ServiceError::bad_request(
                "InvalidFederatedClientId",
                format!(
                    "The federated client id '{app_id}' is not an application registration of a tenant."
                ),
            ));
        }
        server_mut(ws, server_name)?
            .database_federations
            .insert(id.to_ascii_lowercase(), app_id.to_string());
        Ok(())
    })
}

/// `az sql db update --assign-identity --user-assigned-identity-id ID`: the identity the
/// database reaches its own key with.
pub fn set_database_identity(
    ws: &mut Workspace,
    server_name: &str,
    db: &str,
    identity: &str,
) -> ServiceResult<Database> {
    transact(ws, |ws| {
        let id = check_database_identity(ws, Some(identity))?;
        let d = writable_database(ws, server_name, db)?;
        let name = d.name.clone();
        let updated = {
            let x = server_mut(ws, server_name)?
                .database_mut(&name)
                .ok_or_else(|| ServiceError::database_not_found(server_name, &name))?;
            x.identity = id;
            x.clone()
        };
        Ok(updated)
    })
}

/// The database-level CMK arguments of a database being made (`az sql db create`, `copy`,
/// `replica create`, `restore`, `geo-backup restore`, `ltr-backup restore`): `-i
/// --user-assigned-identity-id`, `--federated-client-id`, `--keys`, `--encryption-protector`
/// and `--encryption-protector-auto-rotation`.
#[derive(Clone, Debug, Default)]
pub struct DatabaseCmk {
    pub identity: Option<String>,
    pub federated_client_id: Option<String>,
    /// Key ids to add to the database (and link to its server).
    pub keys: Vec<String>,
    /// The database's own encryption protector (a key id).
    pub encryption_protector: Option<String>,
    pub auto_rotation: bool,
}

impl DatabaseCmk {
    pub fn is_empty(&self) -> bool {
        self.identity.is_none()
            && self.federated_client_id.is_none()
            && self.keys.is_empty()
            && self.encryption_protector.is_none()
    }
}

/// What [`prepare_cmk`] linked and checked on the target server.
#[derive(Clone, Debug, Default)]
pub struct PreparedCmk {
    /// The database's identity (its ARM id, as stored).
    pub identity: Option<String>,
    /// The key that will protect the new database's DEK.
    pub own_key: Option<ServerKey>,
    /// Every key added (`--keys`, then the protector).
    pub added: Vec<ServerKey>,
}

/// Checks the identity, federates it, links `--keys` and the encryption protector to
/// `server_name` with the database's identity, and checks the protector as the service
/// checks one. To be called inside the operation that makes the database (it changes the
/// server's keys).
pub(crate) fn prepare_cmk(
    ws: &mut Workspace,
    server_name: &str,
    cmk: &DatabaseCmk,
) -> ServiceResult<PreparedCmk> {
    let identity = check_database_identity(ws, cmk.identity.as_deref())?;
    if let Some(app) = &cmk.federated_client_id {
        let id = identity.as_deref().ok_or_else(|| {
            ServiceError::bad_request(
                "InvalidParameterValue",
                "--federated-client-id needs the database's user-assigned identity (--assign-identity --user-assigned-identity-id).",
            )
        })?;
        federate_database_identity(ws, server_name, id, app)?;
    }
    let mut added = Vec::new();
    for kid in &cmk.keys {
        added.push(super::server_key::add_server_key_as(
            ws,
            server_name,
            kid,
            identity.as_deref(),
        )?);
    }
    let own_key = match &cmk.encryption_protector {
        Some(kid) => {
            require_identity_for_own_key(ws, identity.as_deref())?;
            let uri = parse_kid(kid)?;
            super::server_key::add_server_key_as(ws, server_name, kid, identity.as_deref())?;
            let key = validate_protector_as(
                ws,
                server_name,
                &uri,
                cmk.auto_rotation,
                identity.as_deref(),
            )?;
            added.push(key.clone());
            Some(key)
        }
        None => None,
    };
    Ok(PreparedCmk {
        identity,
        own_key,
        added,
    })
}

/// Keeps database `db`'s `keys` map: the Key Vault keys in `added` join it, and the key
/// protecting its DEK now (its own, if it has one) is marked in use from now, any other
/// marked no longer in use.
pub(crate) fn record_database_keys(
    ws: &mut Workspace,
    server_name: &str,
    db: &str,
    added: &[ServerKey],
) -> ServiceResult<()> {
    let now = ws.now();
    let s = server(ws, server_name)?;
    let d = s
        .database(db)
        .ok_or_else(|| ServiceError::database_not_found(server_name, db))?;
    let current = d
        .encryption_protector
        .as_ref()
        .and_then(|_| s.database_key(d))
        .filter(|k| k.key_type == ServerKeyType::AzureKeyVault)
        .cloned();
    let d = server_mut(ws, server_name)?
        .database_mut(db)
        .ok_or_else(|| ServiceError::database_not_found(server_name, db))?;
    let keys = added.iter().chain(current.iter());
    for k in keys.filter(|k| k.key_type == ServerKeyType::AzureKeyVault) {
        let Some(uri) = &k.uri else { continue };
        if !d
            .key_history
            .iter()
            .any(|r| r.uri.eq_ignore_ascii_case(uri))
        {
            d.key_history.push(DatabaseKeyRecord {
                uri: uri.clone(),
                thumbprint: k.thumbprint.clone(),
                added: now,
                in_use: Vec::new(),
            });
        }
    }
    let current_uri = current.and_then(|k| k.uri);
    for r in &mut d.key_history {
        let is_current = current_uri
            .as_deref()
            .is_some_and(|u| u.eq_ignore_ascii_case(&r.uri));
        match (is_current, r.is_current()) {
            (true, false) => r.in_use.push(KeyUse {
                from: now,
                until: None,
            }),
            (false, true) => {
                if let Some(u) = r.in_use.last_mut() {
                    u.until = Some(now);
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Which keys `az sql db show --expand-keys [--keys-filter]` lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeysFilter {
    /// Every key ever added to the database.
    All,
    /// The keys in use now.
    Current,
    /// The keys in use at that time: those a restore to it needs (from the full backup
    /// before it up to it).
    At(crate::sim::Timestamp),
}

/// The keys of database `d` of server `s` (its `keys` map), oldest first. A database from a
/// file written before the map was kept shows its own key, in use since it was linked.
pub fn database_keys(
    s: &SqlServer,
    d: &Database,
    filter: KeysFilter,
    now: crate::sim::Timestamp,
) -> Vec<DatabaseKeyRecord> {
    let mut all = d.key_history.clone();
    if let Some(k) = d
        .encryption_protector
        .as_ref()
        .and_then(|_| s.database_key(d))
        .filter(|k| k.key_type == ServerKeyType::AzureKeyVault)
        && let Some(uri) = &k.uri
        && !all.iter().any(|r| r.uri.eq_ignore_ascii_case(uri))
    {
        all.push(DatabaseKeyRecord {
            uri: uri.clone(),
            thumbprint: k.thumbprint.clone(),
            added: k.created,
            in_use: vec![KeyUse {
                from: k.created,
                until: None,
            }],
        });
    }
    match filter {
        KeysFilter::All => all,
        KeysFilter::Current => all.into_iter().filter(|r| r.is_current()).collect(),
        KeysFilter::At(t) => {
            let from = d.full_backup_before(t.min(now));
            all.into_iter()
                .filter(|r| r.added <= t && r.used_between(from, t))
                .collect()
        }
    }
}

/// `az sql db update --keys K...`: links each key to the server with the database's
/// identity and adds it to the database's `keys` map.
pub fn add_database_keys(
    ws: &mut Workspace,
    server_name: &str,
    db: &str,
    kids: &[String],
) -> ServiceResult<Database> {
    transact(ws, |ws| {
        let d = writable_database(ws, server_name, db)?;
        let mut added = Vec::new();
        for kid in kids {
            added.push(super::server_key::add_server_key_as(
                ws,
                server_name,
                kid,
                d.identity.as_deref(),
            )?);
        }
        record_database_keys(ws, server_name, &d.name, &added)?;
        Ok(live_database(ws, server_name, &d.name)?.clone())
    })
}
