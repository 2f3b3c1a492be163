//! Tier 1, key access: the only path from an operation to key material. A server's checks
//! of its keys (the protector's, a database's own), the validation of a key as a protector,
//! the wrap and unwrap of DEKs (one at a time, or many on every core), the DEK a server holds
//! in memory, and opening a database (unwrap, then authenticate every page). Everything goes
//! through the vault's data plane ([`super::keyvault::data_plane`]) with every check, as
//! journaled requests. It imports only tier 0 and tier 1, so every operation may use it.

use super::keyvault::data_plane::{UsableKey, check_key_use, server_check_key};
use super::lookup::server;
use super::{Caller, ServiceError, ServiceResult};
use crate::crypto::{DataEncryptionKey, WrapAlgorithm};
use crate::model::*;

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
pub(crate) fn resolve_version(ws: &Workspace, uri: &KeyUri) -> Option<String> {
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
        server_check_key(ws, &caller, &pinned, &KeyPermission::TDE_REQUIRED, None).map_err(fail)?;
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
pub(crate) fn check_key_kind(usable: &UsableKey<'_>) -> ServiceResult<()> {
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
                server_check_key(
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
            super::keyvault::data_plane::wrap_key(
                ws,
                &caller_with(s, identity),
                &uri,
                dek.as_bytes(),
            )?
            .1
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
        ServerKeyType::AzureKeyVault => super::keyvault::data_plane::unwrap_key(
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
/// journaled `unwrapKey` request each (inside a long-running operation they go out from the
/// server's workers and wait for room in the vault's windows), then the RSA work on every
/// core.
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
                    super::keyvault::data_plane::server_unwrap_material(
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

/// Authenticates every page of `d` with its DEK (and, for a database created under
/// infrastructure encryption, its server's `platform` key outside it).
pub(crate) fn verify_pages(
    d: &Database,
    dek: &crate::crypto::DataEncryptionKey,
    platform: Option<&crate::crypto::DataEncryptionKey>,
) -> Result<(), String> {
    let layers =
        crate::crypto::layered::PageLayers::new(Some(dek), platform.filter(|_| d.infra_encrypted));
    if let PageStore::Encrypted(pages) = &d.pages {
        for p in pages {
            layers.decrypt_page(p).map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

/// Opens a database the way the service does: unwrap the DEK through the vault and
/// authenticate every page with it.
pub(crate) fn open_database(ws: &Workspace, server: &str, d: &Database) -> Result<(), String> {
    let dek =
        server_unwrap_dek(ws, server, d).map_err(|f| format!("{} ({})", f.describe(), f.code()))?;
    let platform = super::lookup::page_platform_key(ws, server, d).map_err(|e| e.message)?;
    verify_pages(d, &dek, platform.as_ref())
}
