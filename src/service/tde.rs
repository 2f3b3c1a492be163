//! The TDE protector: validating a key against every requirement, setting it (which re-wraps
//! every DEK online and leaves the pages untouched), and the server-side wrap / unwrap of DEKs.

use super::keyvault::check_key_use;
use super::lookup::{server, server_mut, tde_error};
use super::{Caller, ServiceError, ServiceResult, notify, transact};
use crate::crypto::{DataEncryptionKey, WrapAlgorithm};
use crate::model::*;

/// What `az sql server tde-key set` asks for.
#[derive(Clone, Debug)]
pub struct SetProtector {
    pub server: String,
    pub key_type: ServerKeyType,
    /// The key id, for `AzureKeyVault`.
    pub kid: Option<String>,
    pub auto_rotation: bool,
}

/// Parses a key identifier, with the service's error for a bad one.
pub fn parse_kid(kid: &str) -> ServiceResult<KeyUri> {
    let uri = KeyUri::parse(kid).ok_or_else(|| {
        ServiceError::bad_request(
            "InvalidKeyName",
            format!("Invalid key name '{kid}'. Key ids have the form https://<vault>.vault.azure.net/keys/<key>/<version>."),
        )
    })?;
    if uri.vault.len() + uri.key.len() > 94 {
        return Err(ServiceError::bad_request(
            "InvalidKeyName",
            format!(
                "Invalid key name '{kid}': the key vault name and key name together must not exceed 94 characters."
            ),
        ));
    }
    Ok(uri)
}

/// Resolves a (possibly versionless) key id to the version it names now, without any
/// permission check: used only to find the server key's name.
fn resolve_version(ws: &Workspace, uri: &KeyUri) -> Option<String> {
    match &uri.version {
        Some(v) => Some(v.to_ascii_lowercase()),
        None => ws
            .vault(&uri.vault)?
            .key(&uri.key)?
            .current()
            .map(|v| v.version.0.clone()),
    }
}

/// Checks every requirement for using `uri` as `server_name`'s protector, in the order the
/// service checks them, returning the server key that would become the protector.
pub fn validate_protector(
    ws: &Workspace,
    server_name: &str,
    uri: &KeyUri,
    auto_rotation: bool,
) -> ServiceResult<ServerKey> {
    validate_protector_as(ws, server_name, uri, auto_rotation, None)
}

/// The caller a server reaches a key as: itself, or with a database's user-assigned
/// identity (its ARM id).
pub(crate) fn caller_with(s: &SqlServer, identity: Option<&str>) -> Caller {
    match identity {
        Some(id) => Caller::ServerAs {
            server: s.name.clone(),
            identity: id.to_string(),
        },
        None => Caller::Server(s.name.clone()),
    }
}

/// [`validate_protector`] for a database's own key, reached with the database's
/// user-assigned identity when it has one.
pub fn validate_protector_as(
    ws: &Workspace,
    server_name: &str,
    uri: &KeyUri,
    auto_rotation: bool,
    identity: Option<&str>,
) -> ServiceResult<ServerKey> {
    let s = server(ws, server_name)?;
    if uri.version.is_none() && !auto_rotation {
        return Err(ServiceError::bad_request(
            "InvalidKeyName",
            format!(
                "The key id '{}' has no version. A versionless key id is accepted only with auto-rotation (--auto-rotation-enabled true).",
                uri.to_uri()
            ),
        ));
    }
    let version = resolve_version(ws, uri).ok_or_else(ServiceError::server_key_not_found)?;
    let key_name = server_key_name(&uri.vault, &uri.key, &version);
    let server_key = s
        .key(&key_name)
        .cloned()
        .ok_or_else(ServiceError::server_key_not_found)?;
    let caller = caller_with(s, identity);
    let reaching = match identity {
        Some(id) => ws.identity(id).map(|u| ServerIdentity {
            principal_id: u.principal_id.clone(),
            tenant_id: u.tenant_id.clone(),
        }),
        None => ws.key_vault_identity(s),
    };
    let fail = |f: KeyAccessFailure| {
        let principal = reaching
            .as_ref()
            .map(|i| i.principal_id.0.clone())
            .unwrap_or_default();
        ServiceError::from_key_access(
            &f,
            server_name,
            &principal,
            &format!("https://{}.vault.azure.net/", uri.vault),
        )
    };
    if reaching.is_none() {
        return Err(fail(KeyAccessFailure::NoServerIdentity));
    }
    let vault = match ws.vault(&uri.vault) {
        Some(v) if v.deleted.is_none() => v,
        _ => return Err(ServiceError::vault_connection_failed()),
    };
    let needs_purge_protection = ws.profile.requires_purge_protection();
    if !vault.soft_delete || (needs_purge_protection && !vault.purge_protection) {
        let wanted = if needs_purge_protection {
            "soft delete and purge protection"
        } else {
            "soft delete"
        };
        return Err(ServiceError::bad_request(
            "SecurityInvalidAzureKeyVaultRecoveryLevel",
            format!(
                "The provided Key Vault uri '{}' is not valid: the vault's recovery level is '{}'. Please ensure the key vault has been configured with {wanted}.",
                uri.to_uri(),
                vault.recovery_level()
            ),
        ));
    }
    let pinned = KeyUri {
        version: Some(version),
        ..uri.clone()
    };
    let usable =
        super::keyvault::server_check_key(ws, &caller, &pinned, &KeyPermission::TDE_REQUIRED, None)
            .map_err(fail)?;
    check_key_kind(&usable)?;
    // Current documentation refuses an older version of a key as the protector.
    if ws.profile == crate::sim::TimingProfile::Current
        && usable
            .key
            .current()
            .is_some_and(|c| c.version != usable.version.version)
    {
        return Err(ServiceError::bad_request(
            "OldGenerationOfAKVKeyBeingUsedError",
            "Using an old version of AKV key as TDE protector is not allowed. Please use the latest version of the AKV key as the encryption protector",
        ));
    }
    if !usable.version.allows(KeyOperation::WrapKey)
        || !usable.version.allows(KeyOperation::UnwrapKey)
    {
        return Err(fail(KeyAccessFailure::KeyOperationsNotPermitted));
    }
    Ok(server_key)
}

/// What TDE takes as a key: RSA or RSA-HSM of 2048 or 3072 bits.
pub(crate) fn check_key_kind(usable: &super::keyvault::UsableKey<'_>) -> ServiceResult<()> {
    let bits = usable.version.material.bits();
    if !matches!(usable.key.kty, KeyType::Rsa | KeyType::RsaHsm) || !(bits == 2048 || bits == 3072)
    {
        return Err(ServiceError::bad_request(
            "AzureKeyVaultRsaKeyNotSupported",
            "The supported RSA key size is 2048 or 3072 and Key Type is RSA or RSA-HSM.",
        ));
    }
    Ok(())
}

/// `az sql server tde-key set` (and the portal's Save): makes a key the TDE protector and
/// re-wraps every DEK with it. Pages are not touched.
pub fn set_protector(ws: &mut Workspace, req: &SetProtector) -> ServiceResult<TdeProtector> {
    let out = {
        transact(ws, |ws| {
            super::lookup::require_server_serving(ws, &req.server)?;
            let s = server(ws, &req.server)?;
            super::locks::check(
                ws,
                &super::ids::server(s),
                super::locks::LockedAction::Write,
            )?;
            if s.protector_change_until.is_some_and(|t| t > ws.now()) {
                return Err(ServiceError::conflict(
                    "EncryptionProtectorChangeInProgress",
                    "Cannot update database encryption key protector while protector change is already in progress",
                ));
            }
            let new_key = match req.key_type {
                ServerKeyType::ServiceManaged => {
                    if req.kid.is_some() {
                        return Err(ServiceError::bad_request(
                            "InvalidParameterValue",
                            "A key id (--kid) may only be given with --server-key-type AzureKeyVault.",
                        ));
                    }
                    s.key("ServiceManaged")
                        .cloned()
                        .ok_or_else(ServiceError::server_key_not_found)?
                }
                ServerKeyType::AzureKeyVault => {
                    let kid = req.kid.as_deref().ok_or_else(|| {
                        ServiceError::bad_request(
                            "InvalidParameterValue",
                            "A key id (--kid) is required with --server-key-type AzureKeyVault.",
                        )
                    })?;
                    let uri = parse_kid(kid)?;
                    validate_protector(ws, &req.server, &uri, req.auto_rotation)?
                }
            };
            // The second vault's copy of the protector's material is the HA twin, kept for
            // the server to switch to by itself when the protector's vault is out.
            if let Some(current) = s.protector_key()
                && current.key_type == ServerKeyType::AzureKeyVault
                && new_key.key_type == ServerKeyType::AzureKeyVault
                && current.thumbprint == new_key.thumbprint
                && !current.name.eq_ignore_ascii_case(&new_key.name)
                && !current
                    .uri
                    .as_deref()
                    .and_then(KeyUri::parse)
                    .zip(new_key.uri.as_deref().and_then(KeyUri::parse))
                    .is_some_and(|(a, b)| a.vault.eq_ignore_ascii_case(&b.vault))
                && protector_access(ws, &req.server).is_ok()
            {
                return Err(ServiceError::conflict(
                    "AzureKeyVaultKeyInUse",
                    format!(
                        "The key is currently being used by the server. '{}' holds the same key material as the TDE protector '{}' in another vault: it stays linked as the high-availability copy, which the server uses by itself only if the protector's vault becomes unavailable.",
                        new_key.name, current.name
                    ),
                ));
            }
            super::georeplication::check_protector_change(
                ws,
                &req.server,
                &new_key,
                req.auto_rotation,
            )?;
            let auto = req.auto_rotation && new_key.key_type == ServerKeyType::AzureKeyVault;
            switch_protector(ws, &req.server, &new_key, auto)?;
            let protector = server(ws, &req.server)?.protector.clone();
            let text = match new_key.key_type {
                ServerKeyType::ServiceManaged => {
                    format!("Server '{}' now uses a service-managed key.", req.server)
                }
                ServerKeyType::AzureKeyVault => format!(
                    "Server '{}' now uses '{}' as its TDE protector.",
                    req.server, new_key.name
                ),
            };
            notify(
                ws,
                NotificationLevel::Success,
                "TDE protector updated",
                text,
            );
            Ok(protector)
        })
    };
    out.inspect(|_| {
        super::log_server_change(
            ws,
            &req.server,
            None,
            "Update encryption protector",
            match &req.kid {
                Some(k) => format!(
                    "TDE protector set to {k} (auto-rotation {}).",
                    if req.auto_rotation { "on" } else { "off" }
                ),
                None => "TDE protector set to the service-managed key.".to_string(),
            },
        )
    })
}

/// Makes `new_key` the protector of `server_name`, re-wrapping every DEK that follows the
/// protector (unwrapped with whatever wrapped it). Pages are not touched.
pub(crate) fn switch_protector(
    ws: &mut Workspace,
    server_name: &str,
    new_key: &ServerKey,
    auto_rotation: bool,
) -> ServiceResult<()> {
    let (out, end) = super::requests::long_running(ws, |ws| {
        rewrap_following(ws, server_name, new_key, auto_rotation)
    });
    out?;
    if end > ws.now() {
        server_mut(ws, server_name)?.protector_change_until = Some(end);
        ws.schedule.push(end, crate::sim::SimEvent::OutageBoundary);
    }
    Ok(())
}

fn rewrap_following(
    ws: &mut Workspace,
    server_name: &str,
    new_key: &ServerKey,
    auto_rotation: bool,
) -> ServiceResult<()> {
    let s = server(ws, server_name)?;
    // Databases with their own (database-level) key keep it. Paused dedicated SQL pools
    // hold no DEK in memory: they are not re-wrapped, and keep needing the key version that
    // wrapped theirs until they resume (see `service::dw`).
    let following: Vec<&Database> = s
        .databases
        .iter()
        .filter(|d| d.encryption_protector.is_none() && !d.state.is_paused())
        .map(|d| &**d)
        .collect();
    if let Some(d) = following.iter().find(|d| !d.state.is_online()) {
        return Err(ServiceError::conflict(
            "DatabaseInaccessible",
            format!(
                "The TDE protector of server '{}' cannot be changed while database '{}' is {}. Restore access to the current key, then revalidate it.",
                s.name,
                d.name,
                d.state.label()
            ),
        ));
    }
    let encrypted: Vec<&Database> = following.into_iter().filter(|d| d.dek.is_some()).collect();
    let deks = server_unwrap_deks(ws, server_name, &encrypted);
    let mut rewrapped = Vec::with_capacity(encrypted.len());
    for (d, (_, dek)) in encrypted.iter().zip(deks) {
        let dek = dek.map_err(|f| tde_error(ws, server_name, &f))?;
        let w = server_wrap_dek(ws, server_name, &new_key.name, &dek)
            .map_err(|f| tde_error(ws, server_name, &f))?;
        rewrapped.push((d.name.clone(), w));
    }
    let sm = server_mut(ws, server_name)?;
    for (db, w) in rewrapped {
        if let Some(d) = sm.database_mut(&db) {
            d.dek = Some(w);
        }
    }
    sm.protector = TdeProtector {
        server_key_name: new_key.name.clone(),
        key_type: new_key.key_type,
        auto_rotation,
    };
    Ok(())
}

/// The portal's Save on the TDE blade. Like the portal, it first creates the server's
/// identity if it has none (a step of its own, kept even if the rest fails, so the
/// administrator can grant that identity access and save again), then links the key and,
/// when `make_default`, makes it the protector: all or nothing.
pub fn set_protector_from_portal(
    ws: &mut Workspace,
    server_name: &str,
    kid: &str,
    auto_rotation: bool,
    make_default: bool,
) -> ServiceResult<ServerKey> {
    parse_kid(kid)?;
    // The portal's first request: the identity, when the server has none (it stays when
    // the next one is refused, as in Azure).
    if super::lookup::server(ws, server_name)?.identity.is_none() {
        super::sql::assign_identity(ws, server_name)?;
    }
    transact(ws, |ws| {
        let key = super::sql::add_server_key(ws, server_name, kid)?;
        if make_default {
            let kid = resolve_portal_kid(ws, kid, auto_rotation)?;
            set_protector(
                ws,
                &SetProtector {
                    server: server_name.to_string(),
                    key_type: ServerKeyType::AzureKeyVault,
                    kid: Some(kid),
                    auto_rotation,
                },
            )?;
        }
        Ok(key)
    })
}

fn resolve_portal_kid(ws: &Workspace, kid: &str, auto_rotation: bool) -> ServiceResult<String> {
    let uri = parse_kid(kid)?;
    if uri.version.is_some() || auto_rotation {
        return Ok(kid.to_string());
    }
    let version = resolve_version(ws, &uri).ok_or_else(ServiceError::server_key_not_found)?;
    Ok(KeyUri {
        version: Some(version),
        ..uri
    }
    .to_uri())
}

/// `az sql server tde-key show`: the protector and its server key.
pub fn show_protector(
    ws: &Workspace,
    server_name: &str,
) -> ServiceResult<(TdeProtector, ServerKey)> {
    let s = server(ws, server_name)?;
    let key = s
        .protector_key()
        .cloned()
        .ok_or_else(ServiceError::server_key_not_found)?;
    Ok((s.protector.clone(), key))
}

/// Can the server use its protector right now? (What the simulator knows, without a
/// request to the vault.)
pub fn protector_access(ws: &Workspace, server_name: &str) -> Result<(), KeyAccessFailure> {
    key_access(ws, server_name, None, false)
}

/// Can the server use the key that protects database `db` (its database-level key, else
/// the server's protector)? Without a vault request.
pub fn database_key_access(
    ws: &Workspace,
    server_name: &str,
    db: &str,
) -> Result<(), KeyAccessFailure> {
    key_access(ws, server_name, Some(db), false)
}

/// Checks the key of the server's protector (`database: None`) or of one database, as the
/// simulator knows it (`journaled: false`) or as a request the vault journals, throttles and
/// audits (`journaled: true`).
pub(crate) fn key_access(
    ws: &Workspace,
    server_name: &str,
    database: Option<&str>,
    journaled: bool,
) -> Result<(), KeyAccessFailure> {
    let s = ws
        .server(server_name)
        .ok_or(KeyAccessFailure::NoServerIdentity)?;
    let Some(key) = s.watched_key(database) else {
        return Err(KeyAccessFailure::KeyNotFound);
    };
    match key.key_type {
        ServerKeyType::ServiceManaged => Ok(()),
        ServerKeyType::AzureKeyVault => {
            let uri = vault_key_uri(key)?;
            let caller = Caller::for_database(s, database.and_then(|db| s.database(db)));
            let k = if journaled {
                super::keyvault::server_check_key(
                    ws,
                    &caller,
                    &uri,
                    &KeyPermission::TDE_REQUIRED,
                    Some(KeyOperation::WrapKey),
                )?
            } else {
                check_key_use(
                    ws,
                    &caller,
                    &uri,
                    &KeyPermission::TDE_REQUIRED,
                    Some(KeyOperation::WrapKey),
                )?
            };
            if !k.version.allows(KeyOperation::UnwrapKey) {
                return Err(KeyAccessFailure::KeyOperationsNotPermitted);
            }
            Ok(())
        }
    }
}

/// Wraps a DEK with one of the server's keys: directly for the service-managed key, through
/// the vault's `wrapKey` (with every check) for a Key Vault key.
pub(crate) fn server_wrap_dek(
    ws: &Workspace,
    server_name: &str,
    key_name: &str,
    dek: &DataEncryptionKey,
) -> Result<WrappedDek, KeyAccessFailure> {
    server_wrap_dek_as(ws, server_name, key_name, dek, None)
}

/// [`server_wrap_dek`] with a database's user-assigned identity (for its own key).
pub(crate) fn server_wrap_dek_as(
    ws: &Workspace,
    server_name: &str,
    key_name: &str,
    dek: &DataEncryptionKey,
    identity: Option<&str>,
) -> Result<WrappedDek, KeyAccessFailure> {
    let s = ws
        .server(server_name)
        .ok_or(KeyAccessFailure::NoServerIdentity)?;
    let key = s.key(key_name).ok_or(KeyAccessFailure::KeyNotFound)?;
    let wrapped = match key.key_type {
        ServerKeyType::ServiceManaged => s
            .service_managed_key
            .wrap(WrapAlgorithm::RsaOaep256, dek.as_bytes())
            .map_err(|_| KeyAccessFailure::UnwrapFailed)?,
        ServerKeyType::AzureKeyVault => {
            let uri = vault_key_uri(key)?;
            super::keyvault::wrap_key(ws, &caller_with(s, identity), &uri, dek.as_bytes())?.1
        }
    };
    Ok(WrappedDek {
        server_key_name: key.name.clone(),
        thumbprint: key.thumbprint.clone(),
        wrapped,
    })
}

/// The server, the wrapped DEK and the server key that wrapped it.
fn wrapping_key<'a>(
    ws: &'a Workspace,
    server_name: &str,
    db: &'a Database,
) -> Result<(&'a SqlServer, &'a WrappedDek, &'a ServerKey), KeyAccessFailure> {
    let s = ws
        .server(server_name)
        .ok_or(KeyAccessFailure::NoServerIdentity)?;
    let w = db.dek.as_ref().ok_or(KeyAccessFailure::KeyNotFound)?;
    let key = s
        .key(&w.server_key_name)
        .ok_or(KeyAccessFailure::KeyNotFound)?;
    Ok((s, w, key))
}

/// The Key Vault key id of a server key.
fn vault_key_uri(key: &ServerKey) -> Result<KeyUri, KeyAccessFailure> {
    key.uri
        .as_deref()
        .and_then(KeyUri::parse)
        .ok_or(KeyAccessFailure::KeyNotFound)
}

/// Unwraps a database's DEK the way the service does when it (re)opens the database:
/// through the vault's `unwrapKey`, with every check.
pub(crate) fn server_unwrap_dek(
    ws: &Workspace,
    server_name: &str,
    db: &Database,
) -> Result<DataEncryptionKey, KeyAccessFailure> {
    let (s, w, key) = wrapping_key(ws, server_name, db)?;
    let bytes = match key.key_type {
        ServerKeyType::ServiceManaged => s
            .service_managed_key
            .unwrap_key(WrapAlgorithm::RsaOaep256, &w.wrapped)
            .map_err(|_| KeyAccessFailure::UnwrapFailed)?,
        ServerKeyType::AzureKeyVault => super::keyvault::unwrap_key(
            ws,
            &Caller::for_database(s, Some(db)),
            &vault_key_uri(key)?,
            &w.wrapped,
        )?,
    };
    DataEncryptionKey::from_bytes(&bytes).map_err(|_| KeyAccessFailure::UnwrapFailed)
}

/// The key material and the wrapped DEK of one unwrap still to do.
type Unwrapping<'a> = (&'a crate::crypto::RsaKeyMaterial, &'a [u8]);

/// Unwraps the DEKs of many databases of one server as the service opens them: one
/// journaled `unwrapKey` request each, admitted one after another (inside a long-running
/// operation they wait for room in the vault's windows), then the RSA work on every core.
/// Returns, per database, the instant its request was admitted and the DEK or the failure.
pub(crate) fn server_unwrap_deks(
    ws: &Workspace,
    server_name: &str,
    dbs: &[&Database],
) -> Vec<(Timestamp, Result<DataEncryptionKey, KeyAccessFailure>)> {
    let prepared: Vec<(Timestamp, Result<Unwrapping<'_>, KeyAccessFailure>)> = dbs
        .iter()
        .map(|d| {
            let got = wrapping_key(ws, server_name, d).and_then(|(s, w, key)| match key.key_type {
                ServerKeyType::ServiceManaged => Ok((&s.service_managed_key, w.wrapped.as_slice())),
                ServerKeyType::AzureKeyVault => {
                    let uri = vault_key_uri(key)?;
                    super::keyvault::server_unwrap_material(
                        ws,
                        &Caller::for_database(s, Some(d)),
                        &uri,
                    )
                    .map(|m| (m, w.wrapped.as_slice()))
                }
            });
            (super::requests::lro_time(ws), got)
        })
        .collect();
    let total = prepared.len();
    let progress = super::progress::current();
    progress.set(Some((0, total)));
    let done = std::sync::atomic::AtomicUsize::new(0);
    let out = crate::crypto::par_map(&prepared, |(at, got)| {
        let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        if n.is_multiple_of(16) || n == total {
            progress.set(Some((n, total)));
        }
        let dek = match got {
            Ok((material, wrapped)) => material
                .unwrap_key(WrapAlgorithm::RsaOaep256, wrapped)
                .map_err(|_| KeyAccessFailure::UnwrapFailed)
                .and_then(|b| {
                    DataEncryptionKey::from_bytes(&b).map_err(|_| KeyAccessFailure::UnwrapFailed)
                }),
            Err(f) => Err(f.clone()),
        };
        (*at, dek)
    });
    progress.set(None);
    out
}

/// The DEK an Online database's server holds in memory: the same RSA unwrap, but without a
/// fresh vault round trip (the server cached it when it opened the database), so clients
/// keep working until the server's periodic check notices a lost key.
pub(crate) fn unwrap_in_memory(
    ws: &Workspace,
    server_name: &str,
    db: &Database,
) -> Result<DataEncryptionKey, KeyAccessFailure> {
    let (s, w, key) = wrapping_key(ws, server_name, db)?;
    let material = match key.key_type {
        ServerKeyType::ServiceManaged => s.service_managed_key.clone(),
        ServerKeyType::AzureKeyVault => {
            let uri = vault_key_uri(key)?;
            let vault = ws
                .vault(&uri.vault)
                .ok_or(KeyAccessFailure::VaultNotFound)?;
            let k = vault.key(&uri.key).ok_or(KeyAccessFailure::KeyNotFound)?;
            let v = uri
                .version
                .as_deref()
                .and_then(|id| k.version(id))
                .ok_or(KeyAccessFailure::KeyNotFound)?;
            v.material
                .rsa()
                .cloned()
                .ok_or(KeyAccessFailure::KeyOperationsNotPermitted)?
        }
    };
    let bytes = material
        .unwrap_key(WrapAlgorithm::RsaOaep256, &w.wrapped)
        .map_err(|_| KeyAccessFailure::UnwrapFailed)?;
    DataEncryptionKey::from_bytes(&bytes).map_err(|_| KeyAccessFailure::UnwrapFailed)
}

/// How many of the server's encrypted databases that follow its protector have their DEK
/// wrapped by the current protector: (wrapped by the protector, following it). The
/// documented check after replacing a compromised key. Databases with a key of their own
/// (database-level CMK) are not counted: the protector does not protect them.
pub fn protector_coverage(ws: &Workspace, server_name: &str) -> ServiceResult<(usize, usize)> {
    let s = super::lookup::server(ws, server_name)?;
    let following: Vec<&Database> = s
        .databases
        .iter()
        .filter(|d| d.tde_enabled() && d.encryption_protector.is_none())
        .map(|d| &**d)
        .collect();
    let on = following
        .iter()
        .filter(|d| {
            d.dek.as_ref().is_some_and(|w| {
                w.server_key_name
                    .eq_ignore_ascii_case(&s.protector.server_key_name)
            })
        })
        .count();
    Ok((on, following.len()))
}
