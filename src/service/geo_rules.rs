//! Tier 0: what geo-replication links require of keys ("secondary first"): a protector, a
//! database's own key, or a linked key may change only as every partner server allows. Pure
//! rules over the workspace, shared by `tde`, `database_key`, `server_key` and
//! `georeplication`.

use super::{ServiceError, ServiceResult};
use crate::model::*;

/// A server key of `partner` with the same key material (thumbprint) as `key`.
pub fn same_material<'a>(partner: &'a SqlServer, key: &ServerKey) -> Option<&'a ServerKey> {
    partner
        .keys
        .iter()
        .find(|k| k.key_type == ServerKeyType::AzureKeyVault && k.thumbprint == key.thumbprint)
}

/// A server key of `partner` from the same vault and key name as `key` (any version).
pub(crate) fn same_key_uri<'a>(partner: &'a SqlServer, key: &ServerKey) -> Option<&'a ServerKey> {
    let want = key.uri.as_deref().and_then(KeyUri::parse)?;
    partner.keys.iter().find(|k| {
        k.uri.as_deref().and_then(KeyUri::parse).is_some_and(|u| {
            u.vault.eq_ignore_ascii_case(&want.vault) && u.key.eq_ignore_ascii_case(&want.key)
        })
    })
}

/// The rule "secondary first": the primary's protector may only become a key whose material
/// every geo-secondary's server already holds (with auto-rotation: from the same vault).
pub(crate) fn check_protector_change(
    ws: &Workspace,
    server_name: &str,
    key: &ServerKey,
    auto_rotation: bool,
) -> ServiceResult<()> {
    if key.key_type != ServerKeyType::AzureKeyVault {
        return Ok(());
    }
    for l in ws
        .continuity
        .links
        .iter()
        .filter(|l| l.primary_server.eq_ignore_ascii_case(server_name))
    {
        let follows = ws
            .server(server_name)
            .and_then(|s| s.database(&l.primary_database))
            .is_some_and(|d| d.encryption_protector.is_none());
        let Some(p) = ws.server(&l.secondary_server) else {
            continue;
        };
        if !follows {
            continue;
        }
        if same_material(p, key).is_none() {
            return Err(ServiceError::bad_request(
                "SameKeyMaterialNotFoundOnRemoteServer",
                "Secondary server does not have the key material of the primary server's encryption protector.",
            ));
        }
        if auto_rotation && same_key_uri(p, key).is_none() {
            return Err(ServiceError::bad_request(
                "SameKeyUriNotFoundOnRemoteServer",
                "Secondary server does not have the key material from the same key vault as the primary server's encryption protector with key auto-rotation enabled.",
            ));
        }
    }
    Ok(())
}

/// The same rule for a database's own key: every geo-secondary's server must hold its
/// material first.
pub(crate) fn check_database_key_change(
    ws: &Workspace,
    server_name: &str,
    db: &str,
    key: &ServerKey,
) -> ServiceResult<()> {
    for l in ws.continuity.secondaries_of(server_name, db) {
        let lacks = ws
            .server(&l.secondary_server)
            .is_some_and(|p| same_material(p, key).is_none());
        if lacks {
            return Err(ServiceError::bad_request(
                "PerDatabaseCMKAKVKeyMaterialMissingOnGeoSecondary",
                format!(
                    "All databases in geo replication must contain the same key material as the encryption protector of the source database. Please add the key '{}' with the same key material to the target database '{}'.",
                    key.uri.clone().unwrap_or_else(|| key.name.clone()),
                    l.secondary_database
                ),
            ));
        }
    }
    Ok(())
}

/// A key that is the protector of a geo-primary of one of `server_name`'s secondaries may
/// not be removed from it.
pub(crate) fn check_key_removal(
    ws: &Workspace,
    server_name: &str,
    key: &ServerKey,
) -> ServiceResult<()> {
    for l in ws
        .continuity
        .links
        .iter()
        .filter(|l| l.secondary_server.eq_ignore_ascii_case(server_name))
    {
        if let Some(primary) = ws.server(&l.primary_server)
            && let Some(d) = primary.database(&l.primary_database)
            && primary.database_key(d).is_some_and(|k| {
                k.key_type == ServerKeyType::AzureKeyVault && k.thumbprint == key.thumbprint
            })
        {
            return Err(ServiceError::bad_request(
                "AzureKeyVaultKeyUsedOnGeoPrimary",
                format!(
                    "The operation could not be completed because the Azure Key Vault Key name {} is currently set as encryption protector on geo-primary.",
                    key.name
                ),
            ));
        }
    }
    Ok(())
}

/// The key-material rules for replicating database `d` of `s` to `partner`: which partner
/// key will protect the secondary's DEK (`None`: the partner's own protector).
pub(crate) fn check_key_material(
    s: &SqlServer,
    d: &Database,
    partner: &SqlServer,
    partner_db: &str,
) -> ServiceResult<Option<String>> {
    let Some(key) = s.database_key(d) else {
        return Ok(None);
    };
    if key.key_type != ServerKeyType::AzureKeyVault {
        return Ok(None);
    }
    let own = d.encryption_protector.is_some();
    let auto = if own {
        d.encryption_protector_auto_rotation
    } else {
        s.protector.auto_rotation
    };
    let Some(twin) = same_material(partner, key) else {
        return Err(if own {
            ServiceError::bad_request(
                "PerDatabaseCMKAKVKeyMaterialMissingOnGeoSecondary",
                format!(
                    "All databases in geo replication must contain the same key material as the encryption protector of the source database. Please add the key '{}' with the same key material to the target database '{partner_db}'.",
                    key.uri.clone().unwrap_or_else(|| key.name.clone())
                ),
            )
        } else {
            ServiceError::bad_request(
                "KeyMaterialNotFoundOnRemoteServer",
                "Remote server does not have access to key material used as a TDE protector.",
            )
        });
    };
    if auto && same_key_uri(partner, key).is_none() {
        return Err(if own {
            ServiceError::bad_request(
                "PerDatabaseCMKAKVKeyUriMissingOnGeoSecondary",
                format!(
                    "When the automatic rotation of database level TDE Protector is enabled, both source and target databases must be connected to the same key vault. Please add key '{}' (from the same key vault that is connected to source database) to the target database '{partner_db}'.",
                    key.uri.clone().unwrap_or_else(|| key.name.clone())
                ),
            )
        } else {
            ServiceError::bad_request(
                "SameKeyUriNotFoundOnRemoteServer",
                "Secondary server does not have the key material from the same key vault as the primary server's encryption protector with key auto-rotation enabled.",
            )
        });
    }
    Ok(own.then(|| twin.name.clone()))
}

/// The key that will protect a new secondary's (or copy's) DEK on `target`: the key-material
/// rules of geo-replication (the target server must hold the key material of the source's
/// protector), then the database's own protector if one was given, which must be the same
/// material as the source database's own key. `None`: the target server's protector.
pub(crate) fn target_key(
    s: &SqlServer,
    d: &Database,
    target: &SqlServer,
    target_db: &str,
    own: Option<&ServerKey>,
) -> ServiceResult<Option<String>> {
    let mut own_key = check_key_material(s, d, target, target_db)?;
    if let Some(k) = own {
        if let Some(src) = s.database_key(d).filter(|k| {
            k.key_type == ServerKeyType::AzureKeyVault && d.encryption_protector.is_some()
        }) && src.thumbprint != k.thumbprint
        {
            return Err(ServiceError::bad_request(
                "PerDatabaseCMKAKVKeyMaterialMissingOnGeoSecondary",
                format!(
                    "All databases in geo replication must contain the same key material as the encryption protector of the source database. Please add the key '{}' with the same key material to the target database '{target_db}'.",
                    src.uri.clone().unwrap_or_else(|| src.name.clone())
                ),
            ));
        }
        own_key = Some(k.name.clone());
    }
    Ok(own_key)
}

/// The geo-secondaries of server `s` whose server lacks the key material of `key` (what the
/// TDE blade warns about, and what makes a protector change on the primary fail).
pub fn partners_lacking(ws: &Workspace, server_name: &str, key: &ServerKey) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for l in ws
        .continuity
        .links
        .iter()
        .filter(|l| l.primary_server.eq_ignore_ascii_case(server_name))
    {
        if let Some(p) = ws.server(&l.secondary_server)
            && same_material(p, key).is_none()
            && !out.iter().any(|o| o.eq_ignore_ascii_case(&p.name))
        {
            out.push(p.name.clone());
        }
    }
    out
}
