//! A server's linked keys (`az sql server key create / delete`): a Key Vault key the server
//! reads (its `get` permission) to learn the thumbprint, checked as TDE will use it, and
//! removed only when nothing uses it (the protector, a DEK, a geo-primary's protector).

use super::lookup::{server, server_mut, tde_error};
use super::{ServiceError, ServiceResult, transact};
use crate::model::*;

/// `az sql server key create --kid`: links a Key Vault key to the server. The server reads
/// the key (its `get` permission) to learn the thumbprint.
pub fn add_server_key(
    ws: &mut Workspace,
    server_name: &str,
    kid: &str,
) -> ServiceResult<ServerKey> {
    add_server_key_as(ws, server_name, kid, None)
}

/// [`add_server_key`] reaching the vault with a database's user-assigned identity
/// (`identity`, an ARM id) instead of the server's.
pub fn add_server_key_as(
    ws: &mut Workspace,
    server_name: &str,
    kid: &str,
    identity: Option<&str>,
) -> ServiceResult<ServerKey> {
    let out = {
        transact(ws, |ws| {
            super::lookup::require_server_serving(ws, server_name)?;
            let uri = super::key_access::parse_kid(kid)?;
            let s = server(ws, server_name)?;
            let caller = super::key_access::caller_with(s, identity);
            if identity.is_none() && ws.key_vault_identity(s).is_none() {
                return Err(tde_error(
                    ws,
                    server_name,
                    &KeyAccessFailure::NoServerIdentity,
                ));
            }
            let usable = super::keyvault::data_plane::server_check_key(
                ws,
                &caller,
                &uri,
                &[KeyPermission::Get],
                None,
            )
            .map_err(|f| match f {
                KeyAccessFailure::VaultNotFound | KeyAccessFailure::VaultDeleted => {
                    ServiceError::vault_connection_failed()
                }
                other => tde_error(ws, server_name, &other),
            })?;
            // The service checks the key when it is linked, not only when it becomes the
            // protector: RSA 2048/3072 only, and wrapKey/unwrapKey allowed.
            super::key_access::check_key_kind(&usable)?;
            if !usable.version.allows(KeyOperation::WrapKey)
                || !usable.version.allows(KeyOperation::UnwrapKey)
            {
                return Err(tde_error(
                    ws,
                    server_name,
                    &KeyAccessFailure::KeyOperationsNotPermitted,
                ));
            }
            let name = server_key_name(
                &usable.vault.name,
                &usable.key.name,
                &usable.version.version.0,
            );
            if let Some(existing) = s.key(&name) {
                return Ok(existing.clone());
            }
            let key = ServerKey {
                name,
                key_type: ServerKeyType::AzureKeyVault,
                uri: Some(
                    usable
                        .vault
                        .key_uri(&usable.key.name, &usable.version.version),
                ),
                thumbprint: usable.version.material.thumbprint(),
                created: ws.now(),
            };
            server_mut(ws, server_name)?.keys.push(key.clone());
            Ok(key)
        })
    };
    out.inspect(|_| {
        super::log_server_change(
            ws,
            server_name,
            None,
            "Create or update server key",
            format!("Key {kid} linked to the server."),
        )
    })
}

/// `az sql server key delete`: the protector in use cannot be removed.
pub fn delete_server_key(
    ws: &mut Workspace,
    server_name: &str,
    key_name: &str,
) -> ServiceResult<()> {
    let out = {
        transact(ws, |ws| {
            super::lookup::require_server_serving(ws, server_name)?;
            let s = server(ws, server_name)?;
            super::locks::check(
                ws,
                &super::ids::server(s),
                super::locks::LockedAction::Write,
            )?;
            let key = s
                .key(key_name)
                .ok_or_else(ServiceError::server_key_not_found)?;
            if key.key_type == ServerKeyType::ServiceManaged
                || s.protector.server_key_name.eq_ignore_ascii_case(key_name)
            {
                return Err(ServiceError::conflict(
                    "AzureKeyVaultKeyInUse",
                    "The key is currently being used by the server.",
                ));
            }
            super::geo_rules::check_key_removal(ws, server_name, key)?;
            if s.databases.iter().any(|d| {
                d.dek
                    .as_ref()
                    .is_some_and(|w| w.server_key_name.eq_ignore_ascii_case(key_name))
            }) {
                return Err(ServiceError::conflict(
                    "AzureKeyVaultKeyInUse",
                    "The key is currently being used by the server.",
                ));
            }
            server_mut(ws, server_name)?
                .keys
                .retain(|k| !k.name.eq_ignore_ascii_case(key_name));
            Ok(())
        })
    };
    out.inspect(|_| {
        super::log_server_change(
            ws,
            server_name,
            None,
            "Delete server key",
            format!("Server key '{key_name}' removed."),
        )
    })
}
