//! Tier 1, the Key Vault data plane: who may use a key (every check the vault makes:
//! vault alive, tenant, firewall, access policy or RBAC, key state, dates, allowed operations),
//! and the calls that use key material (wrapKey / unwrapKey, a server's journaled `get`, the
//! console user's cryptographic operations), with the vault's own REST errors. It imports only
//! tier 0 (`lookup`) and the request journal, so every operation module may use it.

use crate::crypto::WrapAlgorithm;
use crate::model::*;
use crate::service::lookup::live_vault;
use crate::service::{Caller, ServiceError, ServiceResult};

/// A key version a caller may use, found through [`check_key_use`].
pub struct UsableKey<'a> {
    pub vault: &'a KeyVault,
    pub key: &'a Key,
    pub version: &'a KeyVersion,
}

/// Everything the vault checks before a caller may use a key: vault alive, same tenant,
/// firewall, access policy (effective now), key alive, version enabled, dates, key_ops.
pub fn check_key_use<'a>(
    ws: &'a Workspace,
    caller: &Caller,
    uri: &KeyUri,
    permissions: &[KeyPermission],
    op: Option<KeyOperation>,
) -> Result<UsableKey<'a>, KeyAccessFailure> {
    let now = ws.now();
    if let Some(name) = caller.server()
        && ws
            .server(name)
            .and_then(|s| s.network_outage_until)
            .is_some_and(|until| until > now)
    {
        return Err(KeyAccessFailure::VaultUnreachable);
    }
    let vault = ws
        .vault(&uri.vault)
        .filter(|v| v.kind == uri.kind())
        .ok_or(KeyAccessFailure::VaultNotFound)?;
    if vault.deleted.is_some() {
        return Err(KeyAccessFailure::VaultDeleted);
    }
    if crate::service::lookup::vault_unreachable(ws, vault) {
        return Err(KeyAccessFailure::VaultUnreachable);
    }
    let (principal, tenant) = caller_principal_for(ws, caller, Some(&vault.tenant))?;
    if tenant != vault.tenant {
        return Err(KeyAccessFailure::TenantMismatch);
    }
    if !firewall_admits(ws, vault, caller) {
        return Err(KeyAccessFailure::FirewallBlocked);
    }
    let effective = vault.effective_permissions(&principal, now);
    let missing: Vec<String> = permissions
        .iter()
        .filter(|p| !effective.contains(p))
        .map(|p| p.as_str().to_string())
        .collect();
    if !missing.is_empty() {
        return Err(KeyAccessFailure::MissingPermissions(missing));
    }
    let key = vault.key(&uri.key).ok_or(KeyAccessFailure::KeyNotFound)?;
    if key.deleted.is_some() {
        return Err(KeyAccessFailure::KeyDeleted);
    }
    let version = match &uri.version {
        Some(id) => key.version(id),
        None => key.current(),
    }
    .ok_or(KeyAccessFailure::KeyNotFound)?;
    if !version.enabled {
        return Err(KeyAccessFailure::KeyDisabled);
    }
    if version.not_before.is_some_and(|nbf| nbf > now) {
        return Err(KeyAccessFailure::KeyNotYetActive);
    }
    if version.expires.is_some_and(|exp| exp <= now) {
        return Err(KeyAccessFailure::KeyExpired);
    }
    if let Some(op) = op
        && !version.allows(op)
    {
        return Err(KeyAccessFailure::KeyOperationsNotPermitted);
    }
    Ok(UsableKey {
        vault,
        key,
        version,
    })
}

pub(crate) fn caller_principal(
    ws: &Workspace,
    caller: &Caller,
) -> Result<(PrincipalId, TenantId), KeyAccessFailure> {
    caller_principal_for(ws, caller, None)
}

/// Who the caller is when it calls a vault of `vault_tenant`: a server whose identity is
/// federated to a multi-tenant application is that application's service principal there.
fn caller_principal_for(
    ws: &Workspace,
    caller: &Caller,
    vault_tenant: Option<&TenantId>,
) -> Result<(PrincipalId, TenantId), KeyAccessFailure> {
    if let (Caller::Server(name), Some(vt)) = (caller, vault_tenant)
        && let Some(s) = ws.server(name)
        && let Some(app) = &s.federated_client_id
        && let Some(id) = ws.key_vault_identity(s)
        && &id.tenant_id != vt
        && let Some(sp) = crate::service::lookup::federated_principal(ws, app, &id, vt)
    {
        return Ok((sp, vt.clone()));
    }
    // A database's own identity, federated with `--federated-client-id` on the database.
    if let (Caller::ServerAs { server, identity }, Some(vt)) = (caller, vault_tenant)
        && let Some(s) = ws.server(server)
        && let Some(app) = s.database_federations.get(&identity.to_ascii_lowercase())
        && let Some(u) = ws.identity(identity)
        && &u.tenant_id != vt
        && let Some(sp) = crate::service::lookup::federated_principal(
            ws,
            app,
            &ServerIdentity {
                principal_id: u.principal_id.clone(),
                tenant_id: u.tenant_id.clone(),
            },
            vt,
        )
    {
        return Ok((sp, vt.clone()));
    }
    match caller {
        Caller::ConsoleUser => Ok((
            ws.console_user.object_id.clone(),
            ws.console_user.tenant.clone(),
        )),
        Caller::Server(name) => {
            let s = ws.server(name).ok_or(KeyAccessFailure::NoServerIdentity)?;
            let id = ws
                .key_vault_identity(s)
                .ok_or(KeyAccessFailure::NoServerIdentity)?;
            Ok((id.principal_id.clone(), id.tenant_id.clone()))
        }
        Caller::Synapse(name) => crate::service::lookup::kek_principal(ws, name)
            .map(|(principal, tenant, _)| (principal, tenant))
            .ok_or(KeyAccessFailure::NoServerIdentity),
        // A deleted identity reaches nothing.
        Caller::ServerAs { identity, .. } => ws
            .identity(identity)
            .map(|u| (u.principal_id.clone(), u.tenant_id.clone()))
            .ok_or(KeyAccessFailure::NoServerIdentity),
    }
}

pub(crate) fn firewall_admits(ws: &Workspace, vault: &KeyVault, caller: &Caller) -> bool {
    match caller {
        Caller::Server(_) | Caller::ServerAs { .. } => vault.network.admits_trusted_service(),
        Caller::ConsoleUser => vault.network.admits_address(&ws.console_user.client_ip),
        // Synapse is a trusted service with its system-assigned identity; "a user-assigned
        // managed identity cannot be configured to access customer-managed key when Azure
        // Key Vault is behind a firewall".
        Caller::Synapse(name) => match crate::service::lookup::kek_principal(ws, name) {
            Some((_, _, false)) => vault.network.admits_trusted_service(),
            _ => !(vault.network.restricted || vault.network.public_access_disabled),
        },
    }
}

/// The vault's own REST error for a refused data-plane call.
pub(crate) fn vault_error(
    ws: &Workspace,
    vault: &KeyVault,
    caller: &Caller,
    action: &str,
    f: &KeyAccessFailure,
) -> ServiceError {
    let (oid, tenant) = caller_principal(ws, caller)
        .unwrap_or_else(|_| (PrincipalId(String::new()), vault.tenant.clone()));
    match f {
        KeyAccessFailure::VaultNotFound | KeyAccessFailure::VaultDeleted => {
            ServiceError::vault_not_found(&vault.name)
        }
        KeyAccessFailure::NoServerIdentity | KeyAccessFailure::TenantMismatch => ServiceError::new(
            "Unauthorized",
            401,
            format!(
                "AKV10032: Invalid issuer. Expected one of https://sts.windows.net/{}/, found https://sts.windows.net/{}/.",
                vault.tenant, tenant
            ),
        ),
        KeyAccessFailure::FirewallBlocked if vault.network.public_access_disabled => {
            ServiceError::new(
                "ForbiddenByConnection",
                403,
                "Public network access is disabled and request is not from a trusted service nor via an approved private link.",
            )
        }
        KeyAccessFailure::FirewallBlocked => ServiceError::new(
            "ForbiddenByFirewall",
            403,
            format!(
                "Client address is not authorized and caller is not a trusted service.\nClient address: {}\nCaller: oid={oid}\nVault: {};location={}",
                ws.console_user.client_ip, vault.name, vault.location
            ),
        ),
        KeyAccessFailure::MissingPermissions(p) if vault.rbac_authorization => ServiceError::new(
            "ForbiddenByRbac",
            403,
            format!(
                "Caller is not authorized to perform action on resource. If role assignments, deny assignments or role definitions were changed recently, please observe propagation time. Caller: oid={oid}; Action: 'Microsoft.KeyVault/vaults/keys/{}/action'; Vault: {};location={}; Assignment: (not found); DecisionReason: 'DeniedWithNoValidRBAC'",
                p.join(","),
                vault.name,
                vault.location
            ),
        ),
        KeyAccessFailure::MissingPermissions(p) => ServiceError::new(
            "Forbidden",
            403,
            format!(
                "The user, group or application 'oid={oid};iss=https://sts.windows.net/{tenant}/' does not have keys {} permission on key vault '{};location={}'. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125287",
                p.join(" "),
                vault.name,
                vault.location
            ),
        ),
        KeyAccessFailure::KeyNotFound | KeyAccessFailure::KeyDeleted => {
            ServiceError::key_not_found(action)
        }
        KeyAccessFailure::KeyDisabled => ServiceError::new(
            "Forbidden",
            403,
            format!("Operation {action} is not allowed on a disabled key."),
        ),
        KeyAccessFailure::KeyNotYetActive => ServiceError::new(
            "Forbidden",
            403,
            format!("Operation {action} is not allowed on a key that is not yet valid."),
        ),
        KeyAccessFailure::KeyExpired => ServiceError::new(
            "Forbidden",
            403,
            format!("Operation {action} is not allowed on an expired key."),
        ),
        KeyAccessFailure::KeyOperationsNotPermitted => ServiceError::new(
            "Forbidden",
            403,
            format!("Operation {action} is not permitted on this key."),
        ),
        KeyAccessFailure::UnwrapFailed => {
            ServiceError::bad_request("BadParameter", "The wrapped key could not be unwrapped.")
        }
        KeyAccessFailure::Throttled => ServiceError::new(
            "Throttled",
            429,
            "Request was not processed because too many requests were received.",
        ),
        KeyAccessFailure::VaultUnreachable => ServiceError::new(
            "ServiceUnavailable",
            503,
            "The service is unavailable. Please retry the request later.",
        ),
    }
}

/// The console user's permission check on a live vault.
pub(crate) fn authorize_user(
    ws: &Workspace,
    vault: &str,
    permission: KeyPermission,
) -> ServiceResult<()> {
    let v = live_vault(ws, vault)?;
    authorize(ws, v, &Caller::ConsoleUser, permission)
}

/// A management or data-plane permission check for calls that are not about one key.
pub(crate) fn authorize(
    ws: &Workspace,
    vault: &KeyVault,
    caller: &Caller,
    permission: KeyPermission,
) -> ServiceResult<()> {
    let probe = |ws: &Workspace| -> Result<(), KeyAccessFailure> {
        let (principal, tenant) = caller_principal(ws, caller)?;
        if tenant != vault.tenant {
            return Err(KeyAccessFailure::TenantMismatch);
        }
        if !firewall_admits(ws, vault, caller) {
            return Err(KeyAccessFailure::FirewallBlocked);
        }
        if !vault
            .effective_permissions(&principal, ws.now())
            .contains(&permission)
        {
            return Err(KeyAccessFailure::MissingPermissions(vec![
                permission.as_str().into(),
            ]));
        }
        Ok(())
    };
    probe(ws).map_err(|f| vault_error(ws, vault, caller, permission.as_str(), &f))
}

/// The data-plane `wrapKey` call (RSA-OAEP-256), with every check.
pub fn wrap_key(
    ws: &Workspace,
    caller: &Caller,
    uri: &KeyUri,
    plaintext: &[u8],
) -> Result<(String, Vec<u8>), KeyAccessFailure> {
    as_request(ws, caller, uri, "KeyWrap", || {
        let k = check_key_use(
            ws,
            caller,
            uri,
            &[KeyPermission::WrapKey],
            Some(KeyOperation::WrapKey),
        )?;
        let wrapped = k
            .version
            .material
            .rsa()
            .ok_or(KeyAccessFailure::KeyOperationsNotPermitted)?
            .wrap(WrapAlgorithm::RsaOaep256, plaintext)
            .map_err(|_| KeyAccessFailure::UnwrapFailed)?;
        Ok((k.vault.key_uri(&k.key.name, &k.version.version), wrapped))
    })
}

/// A SQL server's calls are requests of their own (throttled, journaled); the console
/// user's are recorded by the operation that makes them.
fn as_request<T>(
    ws: &Workspace,
    caller: &Caller,
    uri: &KeyUri,
    operation: &'static str,
    op: impl FnOnce() -> Result<T, KeyAccessFailure>,
) -> Result<T, KeyAccessFailure> {
    match caller {
        Caller::Synapse(name) => crate::service::requests::server_request(
            ws, caller, name, &uri.vault, operation, &uri.key, op,
        ),
        _ => match caller.server() {
            Some(name) => crate::service::requests::server_request(
                ws, caller, name, &uri.vault, operation, &uri.key, op,
            ),
            None => op(),
        },
    }
}

/// A server's `get` of its key (validating a protector, adding a key, its periodic
/// check, a revalidation): every check of [`check_key_use`], as one journaled request.
pub(crate) fn server_check_key<'a>(
    ws: &'a Workspace,
    caller: &Caller,
    uri: &KeyUri,
    permissions: &[KeyPermission],
    op: Option<KeyOperation>,
) -> Result<UsableKey<'a>, KeyAccessFailure> {
    as_request(ws, caller, uri, "KeyGet", || {
        check_key_use(ws, caller, uri, permissions, op)
    })
}

/// The data-plane `unwrapKey` call (RSA-OAEP-256), with every check.
pub fn unwrap_key(
    ws: &Workspace,
    caller: &Caller,
    uri: &KeyUri,
    wrapped: &[u8],
) -> Result<Vec<u8>, KeyAccessFailure> {
    as_request(ws, caller, uri, "KeyUnwrap", || {
        let k = check_key_use(
            ws,
            caller,
            uri,
            &[KeyPermission::UnwrapKey],
            Some(KeyOperation::UnwrapKey),
        )?;
        k.version
            .material
            .rsa()
            .ok_or(KeyAccessFailure::KeyOperationsNotPermitted)?
            .unwrap_key(WrapAlgorithm::RsaOaep256, wrapped)
            .map_err(|_| KeyAccessFailure::UnwrapFailed)
    })
}

/// A server's `unwrapKey` request with every check, admitted and journaled, returning the
/// key material the vault will unwrap with: the RSA work itself is left to the caller, so
/// many unwraps can run on every core ([`crate::crypto::par_map`]).
pub(crate) fn server_unwrap_material<'a>(
    ws: &'a Workspace,
    caller: &Caller,
    uri: &KeyUri,
) -> Result<&'a crate::crypto::RsaKeyMaterial, KeyAccessFailure> {
    as_request(ws, caller, uri, "KeyUnwrap", || {
        check_key_use(
            ws,
            caller,
            uri,
            &[KeyPermission::UnwrapKey],
            Some(KeyOperation::UnwrapKey),
        )
        .and_then(|k| {
            k.version
                .material
                .rsa()
                .ok_or(KeyAccessFailure::KeyOperationsNotPermitted)
        })
    })
}

/// The console user's own `wrapKey`, with the vault's REST errors.
pub fn user_wrap_key(
    ws: &Workspace,
    uri: &KeyUri,
    plaintext: &[u8],
) -> ServiceResult<(String, Vec<u8>)> {
    crate::service::requests::user_read(ws, &uri.vault, "KeyWrap", Some(&uri.key), |ws| {
        let vault = live_vault(ws, &uri.vault)?;
        wrap_key(ws, &Caller::ConsoleUser, uri, plaintext)
            .map_err(|f| vault_error(ws, vault, &Caller::ConsoleUser, "wrapKey", &f))
    })
}

/// A cryptographic operation of the console user (or of the principal an SDK call acts
/// as) on a key version: every check a server's call gets (state, permission `permission`,
/// the key's allowed operation `op`, firewall, limits), recorded as `operation`; then `f`
/// on the key's material. Returns the key id that did it and `f`'s result.
pub fn user_key_operation<T>(
    ws: &Workspace,
    uri: &KeyUri,
    permission: KeyPermission,
    op: KeyOperation,
    operation: &'static str,
    f: impl FnOnce(&crate::crypto::KeyMaterial) -> ServiceResult<T>,
) -> ServiceResult<(String, T)> {
    crate::service::requests::user_read(ws, &uri.vault, operation, Some(&uri.key), |ws| {
        let vault = live_vault(ws, &uri.vault)?;
        let k =
            check_key_use(ws, &Caller::ConsoleUser, uri, &[permission], Some(op)).map_err(|e| {
                match e {
                    KeyAccessFailure::KeyNotFound | KeyAccessFailure::KeyDeleted => {
                        ServiceError::key_not_found(&match &uri.version {
                            Some(v) => format!("{}/{v}", uri.key),
                            None => uri.key.clone(),
                        })
                    }
                    other => {
                        vault_error(ws, vault, &Caller::ConsoleUser, permission.as_str(), &other)
                    }
                }
            })?;
        let out = f(&k.version.material)?;
        Ok((k.vault.key_uri(&k.key.name, &k.version.version), out))
    })
}

/// A key and version as they stand, for composing an operation's response (not a request
/// of its own).
pub fn key_state(
    ws: &Workspace,
    vault: &str,
    key: &str,
    version: Option<&str>,
) -> ServiceResult<(KeyVault, Key, KeyVersion)> {
    let v = live_vault(ws, vault)?;
    let k = v
        .key(key)
        .filter(|k| k.deleted.is_none())
        .ok_or_else(|| ServiceError::key_not_found(key))?;
    let kv = match version {
        Some(id) => k.version(id),
        None => k.current(),
    }
    .ok_or_else(|| ServiceError::key_not_found(key))?;
    Ok((v.clone(), k.clone(), kv.clone()))
}

/// A vault as it stands, for composing an operation's response (not a request of its own).
pub fn vault_state(ws: &Workspace, name: &str) -> ServiceResult<KeyVault> {
    live_vault(ws, name).cloned()
}
