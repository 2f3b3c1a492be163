//! The TDE protector: setting it (which re-wraps every DEK online and leaves the pages
//! untouched), the portal's Save, and what the blade shows. Validating a key and the
//! server-side wrap / unwrap of DEKs are key access (`service::key_access`, tier 1).

pub use super::key_access::{
    database_key_access, parse_kid, protector_access, validate_protector, validate_protector_as,
};
use super::key_access::{resolve_version, server_unwrap_deks, server_wrap_dek};
use super::lookup::{server, server_mut, tde_error};
use super::{ServiceError, ServiceResult, notify, transact};
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
            super::geo_rules::check_protector_change(ws, &req.server, &new_key, req.auto_rotation)?;
            let auto = req.auto_rotation && new_key.key_type == ServerKeyType::AzureKeyVault;
            switch_protector(ws, &req.server, &new_key, auto)?;
            let protector = server(ws, &req.server)?.protector.clone();
            let text = format!(
                "Server '{}' now uses {} as its TDE protector.",
                req.server,
                new_key.described()
            );
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
        super::identity::assign_identity(ws, server_name)?;
    }
    transact(ws, |ws| {
        let key = super::server_key::add_server_key(ws, server_name, kid)?;
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
