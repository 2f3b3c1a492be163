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

/// Is vault `v` unreachable now (its own outage, or its region down and not yet failed
/// over)?
pub fn vault_unreachable(ws: &Workspace, v: &KeyVault) -> bool {
    let now = ws.now();
    if v.outage_until.is_some_and(|t| t > now) {
        return true;
    }
    ws.continuity
        .region_outage(&v.location, now)
        .is_some_and(|o| o.vault_failover_at.is_none_or(|t| t > now))
}

/// Is vault `v` serving read-only from its paired region?
pub fn vault_read_only(ws: &Workspace, v: &KeyVault) -> bool {
    let now = ws.now();
    ws.continuity
        .region_outage(&v.location, now)
        .is_some_and(|o| o.vault_failover_at.is_some_and(|t| t <= now))
}

/// The refusal of a change while the vault is failed over (or out).
pub(crate) fn check_vault_writable(ws: &Workspace, vault: &str) -> ServiceResult<()> {
    let Some(v) = ws.vault(vault) else {
        return Ok(());
    };
    if vault_unreachable(ws, v) {
        return Err(ServiceError::new(
            "ServiceUnavailable",
            503,
            format!(
                "The service is unavailable. Please retry the request later. (Key vault '{}' cannot be reached.)",
                v.name
            ),
        ));
    }
    if vault_read_only(ws, v) {
        return Err(ServiceError::new(
            "VaultReadOnlyDuringFailover",
            409,
            format!(
                "Key vault '{}' is failed over to the paired region '{}' and is read-only: keys can be listed, read, wrapped and unwrapped, but keys, access policies and firewall rules cannot be created, changed or deleted until region '{}' is back.",
                v.name,
                paired_region(&v.location).unwrap_or("?"),
                v.location
            ),
        ));
    }
    Ok(())
}

/// Who a server's federated identity is in `vault_tenant`: the service principal of the
/// app it is federated to, when the app is multi-tenant, trusts the identity (a federated
/// credential whose subject is its principal and whose issuer is its tenant) and has a
/// service principal there.
pub(crate) fn federated_principal(
    ws: &Workspace,
    app_id: &str,
    identity: &ServerIdentity,
    vault_tenant: &TenantId,
) -> Option<PrincipalId> {
    let a = ws
        .apps
        .iter()
        .find(|a| a.app_id.eq_ignore_ascii_case(app_id))?;
    let trusted = a.federated_credentials.iter().any(|c| {
        c.subject.eq_ignore_ascii_case(&identity.principal_id.0)
            && c.issuer
                .to_ascii_lowercase()
                .contains(&identity.tenant_id.0.to_ascii_lowercase())
    });
    if !(a.multi_tenant || &a.tenant == vault_tenant) || !trusted {
        return None;
    }
    ws.service_principals
        .iter()
        .find(|s| s.app_id == a.app_id && &s.tenant == vault_tenant)
        .map(|s| s.object_id.clone())
}

/// A vault by name, not deleted, with the vault's not-found error.
pub(crate) fn live_vault<'a>(ws: &'a Workspace, name: &str) -> ServiceResult<&'a KeyVault> {
    match ws.vault(name) {
        Some(v) if v.deleted.is_none() => Ok(v),
        _ => Err(ServiceError::vault_not_found(name)),
    }
}

/// Refuses a management-plane change to a locked vault.
pub(crate) fn check_vault_lock(
    ws: &Workspace,
    name: &str,
    action: super::locks::LockedAction,
) -> ServiceResult<()> {
    match ws.vault(name) {
        Some(v) => super::locks::check(ws, &super::ids::vault(v), action),
        None => Ok(()),
    }
}

/// [`live_vault`] for a change: refused while the vault is out or failed over.
pub(crate) fn live_vault_mut<'a>(
    ws: &'a mut Workspace,
    name: &str,
) -> ServiceResult<&'a mut KeyVault> {
    check_vault_writable(ws, name)?;
    match ws.vault_mut(name) {
        Some(v) if v.deleted.is_none() => Ok(v),
        _ => Err(ServiceError::vault_not_found(name)),
    }
}

/// The refusal of a purge under purge protection (a key's, a vault's).
pub(crate) fn purge_refusal(what: &str, scheduled: Timestamp) -> ServiceError {
    ServiceError::new(
        "Forbidden",
        403,
        format!(
            "Operation \"purge\" is not allowed on {what}: purge protection is enabled, so it is purged automatically when its retention period ends ({}).",
            scheduled.to_iso()
        ),
    )
}

pub(crate) fn invalid_location(location: &str) -> ServiceError {
    let known: Vec<&str> = REGIONS.iter().map(|r| r.name).collect();
    ServiceError::bad_request(
        "LocationNotAvailableForResourceType",
        format!(
            "The provided location '{location}' is not available for resource type. List of available regions is '{}'.",
            known.join(",")
        ),
    )
}

/// Resolves a location argument, defaulting to the group's location.
pub(crate) fn resolve_location(
    ws: &Workspace,
    group: &str,
    location: Option<&str>,
) -> ServiceResult<String> {
    let g = ws
        .resource_group(group)
        .ok_or_else(|| ServiceError::resource_group_not_found(group))?;
    match location {
        Some(l) => Ok(region(l)
            .ok_or_else(|| invalid_location(l))?
            .name
            .to_string()),
        None => Ok(g.location.clone()),
    }
}

/// Graph's answer for an object id, app id or UPN that names nobody.
pub(crate) fn no_such_object(id: &str) -> ServiceError {
    ServiceError::not_found(
        "Request_ResourceNotFound",
        format!(
            "Resource '{id}' does not exist or one of its queried reference-property objects are not present."
        ),
    )
}

/// The app registration with app id (or object id) `id`, visible from the home tenant.
pub fn app<'a>(ws: &'a Workspace, id: &str) -> ServiceResult<&'a AppRegistration> {
    ws.apps
        .iter()
        .find(|a| {
            a.app_id.eq_ignore_ascii_case(id.trim()) || a.object_id.eq_ignore_ascii_case(id.trim())
        })
        .ok_or_else(|| no_such_object(id))
}

/// The most versions a key may have to be backed up.
pub const MAX_BACKUP_VERSIONS: usize = 500;

pub fn geography_of(location: &str) -> String {
    region(location)
        .map(|r| r.geography.to_string())
        .unwrap_or_default()
}

/// An IP firewall rule's range (a SQL server's or a Synapse workspace's): IPv4 addresses in
/// dotted notation, the start not above the end, with ARM's texts.
pub(super) fn check_range(start: &str, end: &str) -> ServiceResult<(String, String)> {
    let a = firewall_ipv4(start, "startIpAddress")?;
    let b = firewall_ipv4(end, "endIpAddress")?;
    if u32::from(a) > u32::from(b) {
        return Err(ServiceError::bad_request(
            "BadRequest",
            format!(
                "The start IP address '{a}' of the firewall rule is greater than its end IP address '{b}'."
            ),
        ));
    }
    Ok((a.to_string(), b.to_string()))
}

fn invalid_ip(parameter: &str) -> ServiceError {
    ServiceError::bad_request(
        "BadRequest",
        format!("Invalid value provided for parameter: {parameter}"),
    )
}

/// An IPv4 address in dotted notation.
fn firewall_ipv4(text: &str, parameter: &str) -> ServiceResult<std::net::Ipv4Addr> {
    text.trim()
        .parse::<std::net::Ipv4Addr>()
        .map_err(|_| invalid_ip(parameter))
}
