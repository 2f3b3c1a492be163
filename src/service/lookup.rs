//! Tier 0 of the operations layer: lookups and checks every operation module shares (a
//! server or database by name with Azure's not-found errors, "is its region serving", the
//! error a failed key access becomes). They read the workspace only and import no other
//! service module, so any module may use them without joining an import cycle (see
//! `docs/architecture.md`).

use super::{ServiceError, ServiceResult};
use crate::model::*;

pub(crate) fn server<'a>(ws: &'a Workspace, name: &str) -> ServiceResult<&'a SqlServer> {
    ws.server(name)
        .ok_or_else(|| ServiceError::server_not_found(name))
}

pub(crate) fn server_mut<'a>(
    ws: &'a mut Workspace,
    name: &str,
) -> ServiceResult<&'a mut SqlServer> {
    ws.server_mut(name)
        .ok_or_else(|| ServiceError::server_not_found(name))
}

pub(crate) fn tde_error(ws: &Workspace, server_name: &str, f: &KeyAccessFailure) -> ServiceError {
    let s = ws.server(server_name);
    let principal = s
        .and_then(|s| ws.key_vault_identity(s))
        .map(|i| i.principal_id.0.clone())
        .unwrap_or_default();
    let vault_uri = s
        .and_then(|s| s.protector_uri())
        .map(|u| format!("https://{}.vault.azure.net/", u.vault))
        .unwrap_or_default();
    ServiceError::from_key_access(f, server_name, &principal, &vault_uri)
}

pub(crate) fn live_database<'a>(
    ws: &'a Workspace,
    server_name: &str,
    db: &str,
) -> ServiceResult<&'a Database> {
    server(ws, server_name)?
        .database(db)
        .ok_or_else(|| ServiceError::database_not_found(server_name, db))
}

pub(crate) fn require_online(ws: &Workspace, server_name: &str, db: &str) -> ServiceResult<()> {
    let d = live_database(ws, server_name, db)?;
    if d.state.is_online() {
        Ok(())
    } else if d.state.is_paused() {
        Err(paused_error(server_name, &d.name))
    } else {
        Err(ServiceError::database_inaccessible(server_name, db))
    }
}

/// What an operation that needs a running database gets on a paused dedicated SQL pool.
pub(crate) fn paused_error(server_name: &str, name: &str) -> ServiceError {
    ServiceError::conflict(
        "DatabaseIsPaused",
        format!(
            "The operation cannot be performed on database '{name}' on server '{server_name}' because it is paused. Resume it first."
        ),
    )
}

/// A server that cannot take a new database: its region is down.
pub(crate) fn require_server_serving(ws: &Workspace, server_name: &str) -> ServiceResult<()> {
    let s = server(ws, server_name)?;
    match ws.continuity.region_outage(&s.location, ws.now()) {
        Some(o) => Err(ServiceError::new(
            "ServiceUnavailable",
            503,
            format!(
                "Server '{}' is unavailable: region {} is down until {}. Retry the operation later, or use another region.",
                s.name, o.region, o.until
            ),
        )),
        None => Ok(()),
    }
}

/// A server that cannot serve: its region is down.
pub(crate) fn require_serving(ws: &Workspace, server_name: &str, db: &str) -> ServiceResult<()> {
    let s = server(ws, server_name)?;
    if ws.continuity.region_outage(&s.location, ws.now()).is_some() {
        return Err(ServiceError::database_unavailable(server_name, db));
    }
    Ok(())
}

/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` in hexadecimal digits.
pub(crate) fn is_guid(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.chars().all(|c| c.is_ascii_hexdigit()))
}

/// A new system-assigned identity for a server, in the console user's tenant.
pub(crate) fn new_identity(ws: &mut Workspace) -> ServerIdentity {
    ServerIdentity {
        principal_id: PrincipalId(guid_from_bytes(ws.clock.draw_bytes16())),
        tenant_id: ws.console_user.tenant.clone(),
    }
}

/// The app id a vault's own rotations record in its journal.
pub const ROTATION_APP_ID: &str = "Azure Key Vault";

/// Who the workspace is when it calls Key Vault: its user-assigned identity when it
/// encrypts with one (`None` once that identity is deleted), else its system-assigned
/// identity. The flag says whether it is the user-assigned one.
pub(crate) fn kek_principal(ws: &Workspace, name: &str) -> Option<(PrincipalId, TenantId, bool)> {
    let w = ws.synapse.workspace(name)?;
    match (&w.uami_in_encrypt, w.use_sami_in_encrypt) {
        (Some(id), false) => ws
            .identity(id)
            .map(|u| (u.principal_id.clone(), u.tenant_id.clone(), true)),
        _ => Some((w.principal_id.clone(), w.tenant_id.clone(), false)),
    }
}

/// The platform key a new database on `server` stores its pages under (infrastructure
/// encryption on), or `None`.
pub(crate) fn new_page_platform_key(
    ws: &Workspace,
    server: &str,
) -> ServiceResult<Option<crate::crypto::DataEncryptionKey>> {
    match &self::server(ws, server)?.infrastructure_encryption {
        Some(i) => platform_key(&i.platform_key).map(Some),
        None => Ok(None),
    }
}

/// The platform key database `d` of `server` has its pages under: `None` unless it was
/// created with infrastructure encryption.
pub(crate) fn page_platform_key(
    ws: &Workspace,
    server: &str,
    d: &Database,
) -> ServiceResult<Option<crate::crypto::DataEncryptionKey>> {
    if !d.infra_encrypted {
        return Ok(None);
    }
    match new_page_platform_key(ws, server)? {
        Some(k) => Ok(Some(k)),
        None => Err(ServiceError::new(
            "InternalServerError",
            500,
            format!(
                "Database '{}' is stored under infrastructure encryption, but server '{server}' has no platform key.",
                d.name
            ),
        )),
    }
}

fn platform_key(k: &PlatformKey) -> ServiceResult<crate::crypto::DataEncryptionKey> {
    crate::crypto::DataEncryptionKey::from_bytes(&k.0).map_err(|_| {
        ServiceError::new(
            "InternalServerError",
            500,
            "The platform key for infrastructure encryption is damaged.",
        )
    })
}
