//! Keys and their versions: create, show, list, attributes, delete / recover / purge,
//! backup and restore (within a geography), and the public key.

use super::data_plane::authorize;
use crate::model::*;
pub use crate::service::lookup::{MAX_BACKUP_VERSIONS, geography_of};
use crate::service::lookup::{live_vault, live_vault_mut, purge_refusal};
use crate::service::{Caller, ServiceError, ServiceResult, check_name, notify, transact};

/// Arguments of `az keyvault key create`.
#[derive(Clone, Debug)]
pub struct CreateKey {
    pub vault: String,
    pub name: String,
    pub kty: KeyType,
    pub size: usize,
    pub enabled: bool,
    pub not_before: Option<Timestamp>,
    pub expires: Option<Timestamp>,
    pub ops: Option<Vec<KeyOperation>>,
    /// The key's tags (replacing those of an existing key when given).
    pub tags: Option<Vec<(String, String)>>,
}

impl CreateKey {
    pub fn new(vault: &str, name: &str, kty: KeyType, size: usize) -> Self {
        CreateKey {
            vault: vault.into(),
            name: name.into(),
            kty,
            size,
            enabled: true,
            not_before: None,
            expires: None,
            ops: None,
            tags: None,
        }
    }
}

/// A key version's dates must be calendar dates (1970 to 9000), the expiry after the
/// activation.
fn check_key_dates(not_before: Option<Timestamp>, expires: Option<Timestamp>) -> ServiceResult<()> {
    for (what, t) in [
        ("activation (nbf)", not_before),
        ("expiration (exp)", expires),
    ] {
        if let Some(t) = t
            && !t.in_calendar()
        {
            return Err(ServiceError::bad_request(
                "BadParameter",
                format!(
                    "The {what} date {} is outside the supported range (1970 to 9000).",
                    t.0
                ),
            ));
        }
    }
    if let (Some(n), Some(x)) = (not_before, expires)
        && x <= n
    {
        return Err(ServiceError::bad_request(
            "BadParameter",
            "The expiration date must be later than the activation date.",
        ));
    }
    Ok(())
}

/// Key Vault's limits on tags: at most 15, names up to 512 characters, values up to 256.
pub fn check_tags(tags: &[(String, String)]) -> ServiceResult<()> {
    let bad = |m: String| Err(ServiceError::bad_request("BadParameter", m));
    if tags.len() > 15 {
        return bad(format!(
            "A key may have at most 15 tags ({} given).",
            tags.len()
        ));
    }
    for (n, v) in tags {
        if n.is_empty() || n.chars().count() > 512 || v.chars().count() > 256 {
            return bad(format!(
                "The tag '{}' is invalid: names are 1 to 512 characters, values up to 256.",
                n.chars().take(40).collect::<String>()
            ));
        }
    }
    Ok(())
}

/// Checks a key-create request before any key material is generated (which is slow).
pub fn validate_create_key(ws: &Workspace, req: &CreateKey) -> ServiceResult<()> {
    validate_new_key(ws, req, KeyPermission::Create)
}

fn validate_new_key(
    ws: &Workspace,
    req: &CreateKey,
    permission: KeyPermission,
) -> ServiceResult<()> {
    check_name("key", &req.name, 1, 127, |c| {
        c.is_ascii_alphanumeric() || c == '-'
    })?;
    let v = live_vault(ws, &req.vault)?;
    authorize(ws, v, &Caller::ConsoleUser, permission)?;
    if v.is_managed_hsm() && !req.kty.is_hsm() {
        return Err(ServiceError::bad_request(
            "BadParameter",
            "A Managed HSM holds only HSM-protected keys: use --kty RSA-HSM or EC-HSM.",
        ));
    }
    if !req.kty.is_rsa() {
        if !crate::crypto::EcCurve::ALL
            .iter()
            .any(|c| c.bits() == req.size)
        {
            return Err(ServiceError::bad_request(
                "BadParameter",
                "The curve is not supported. Supported curves are P-256, P-384 and P-521.",
            ));
        }
        if let Some(op) = req
            .ops
            .iter()
            .flatten()
            .find(|o| !matches!(o, KeyOperation::Sign | KeyOperation::Verify))
        {
            return Err(ServiceError::bad_request(
                "BadParameter",
                format!(
                    "Key operation '{}' is not supported for an EC key: EC keys sign and verify.",
                    op.as_str()
                ),
            ));
        }
    } else if ![2048, 3072, 4096].contains(&req.size) {
        return Err(ServiceError::bad_request(
            "BadParameter",
            format!(
                "The key size {} is not supported. Supported RSA key sizes are 2048, 3072 and 4096.",
                req.size
            ),
        ));
    }
    if let Some(k) = v.key(&req.name) {
        if k.deleted.is_some() {
            return Err(ServiceError::conflict(
                "Conflict",
                format!(
                    "Key {} is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the key can only be recovered or purged.",
                    k.name
                ),
            ));
        }
        if k.kty != req.kty {
            return Err(ServiceError::bad_request(
                "BadParameter",
                format!(
                    "Key {} is of type {}; a new version must have the same type.",
                    k.name,
                    k.kty.as_str()
                ),
            ));
        }
    }
    if let (Some(nbf), Some(exp)) = (req.not_before, req.expires)
        && exp <= nbf
    {
        return Err(ServiceError::bad_request(
            "BadParameter",
            "The expiration date must be later than the activation date.",
        ));
    }
    Ok(())
}

/// `az keyvault key create`: a new key, or a new version of an existing one, from
/// `material` (generated by the caller, off the UI thread).
pub fn create_key(
    ws: &mut Workspace,
    req: &CreateKey,
    material: impl Into<crate::crypto::KeyMaterial>,
) -> ServiceResult<(Key, KeyVersion)> {
    add_key(ws, req, material.into(), KeyPermission::Create)
}

/// Adds a key (or a version) from `material`, authorised by `permission` (create or import).
pub(crate) fn add_key(
    ws: &mut Workspace,
    req: &CreateKey,
    material: crate::crypto::KeyMaterial,
    permission: KeyPermission,
) -> ServiceResult<(Key, KeyVersion)> {
    let op = if permission == KeyPermission::Import {
        "KeyImport"
    } else {
        "KeyCreate"
    };
    crate::service::requests::user_request(ws, &req.vault, op, Some(&req.name), |ws| {
        add_key_unaudited(ws, req, material, permission)
    })
}

fn add_key_unaudited(
    ws: &mut Workspace,
    req: &CreateKey,
    material: crate::crypto::KeyMaterial,
    permission: KeyPermission,
) -> ServiceResult<(Key, KeyVersion)> {
    transact(ws, |ws| {
        validate_new_key(ws, req, permission)?;
        check_key_dates(req.not_before, req.expires)?;
        if let Some(t) = &req.tags {
            check_tags(t)?;
        }
        if material.rsa().is_some() != req.kty.is_rsa() {
            return Err(ServiceError::bad_request(
                "BadParameter",
                format!(
                    "The key material does not match the key type {}.",
                    req.kty.as_str()
                ),
            ));
        }
        if material.bits() != req.size {
            return Err(ServiceError::bad_request(
                "BadParameter",
                format!(
                    "The key material is {} bits, not {}.",
                    material.bits(),
                    req.size
                ),
            ));
        }
        let version = version_id_from_bytes(ws.clock.draw_bytes16());
        let now = ws.now();
        let kv = KeyVersion {
            version,
            enabled: req.enabled,
            not_before: req.not_before,
            expires: req.expires,
            created: now,
            updated: now,
            key_ops: req.ops.clone().unwrap_or_else(|| {
                if req.kty.is_rsa() {
                    KeyOperation::DEFAULT_RSA.to_vec()
                } else {
                    vec![KeyOperation::Sign, KeyOperation::Verify]
                }
            }),
            material,
        };
        let v = live_vault_mut(ws, &req.vault)?;
        match v.key_mut(&req.name) {
            Some(k) => {
                k.versions.push(kv.clone());
                if let Some(t) = &req.tags {
                    k.tags = t.clone();
                }
            }
            None => v.keys.push(Key {
                name: req.name.clone(),
                kty: req.kty,
                versions: vec![kv.clone()],
                tags: req.tags.clone().unwrap_or_default(),
                deleted: None,
                last_backup: None,
                rotation_policy: None,
                lifecycle_events: Vec::new(),
            }),
        }
        let key = v
            .key(&req.name)
            .cloned()
            .ok_or_else(|| ServiceError::key_not_found(&req.name))?;
        Ok((key, kv))
    })
}

/// A key as the caller may see it (data plane, `get`).
pub fn show_key(
    ws: &Workspace,
    vault: &str,
    key: &str,
    version: Option<&str>,
) -> ServiceResult<(KeyVault, Key, KeyVersion)> {
    crate::service::requests::user_read(ws, vault, "KeyGet", Some(key), |ws| {
        let v = live_vault(ws, vault)?;
        authorize(ws, v, &Caller::ConsoleUser, KeyPermission::Get)?;
        let k = v
            .key(key)
            .filter(|k| k.deleted.is_none())
            .ok_or_else(|| ServiceError::key_not_found(key))?;
        let kv = match version {
            Some(id) => k.version(id),
            None => k.current(),
        }
        .ok_or_else(|| ServiceError::key_not_found(&format!("{key}/{}", version.unwrap_or(""))))?;
        Ok((v.clone(), k.clone(), kv.clone()))
    })
}

/// `az keyvault key list`: live keys.
pub fn list_keys(ws: &Workspace, vault: &str) -> ServiceResult<(KeyVault, Vec<Key>)> {
    crate::service::requests::user_read(ws, vault, "KeyList", None, |ws| {
        let v = live_vault(ws, vault)?;
        authorize(ws, v, &Caller::ConsoleUser, KeyPermission::List)?;
        Ok((
            v.clone(),
            v.keys
                .iter()
                .filter(|k| k.deleted.is_none())
                .cloned()
                .collect(),
        ))
    })
}

/// Changes a key version's attributes (`az keyvault key set-attributes`).
#[derive(Clone, Debug, Default)]
pub struct KeyAttributes {
    pub enabled: Option<bool>,
    /// `Some(None)` clears the date.
    pub not_before: Option<Option<Timestamp>>,
    pub expires: Option<Option<Timestamp>>,
    pub ops: Option<Vec<KeyOperation>>,
    /// The key's tags (all of them: they replace the old ones).
    pub tags: Option<Vec<(String, String)>>,
}

pub fn set_key_attributes(
    ws: &mut Workspace,
    vault: &str,
    key: &str,
    version: Option<&str>,
    attrs: &KeyAttributes,
) -> ServiceResult<KeyVersion> {
    crate::service::requests::user_request(ws, vault, "KeyUpdate", Some(key), |ws| {
        transact(ws, |ws| {
            let now = ws.now();
            let v = live_vault(ws, vault)?;
            authorize(ws, v, &Caller::ConsoleUser, KeyPermission::Update)?;
            let v = live_vault_mut(ws, vault)?;
            let k = v
                .key_mut(key)
                .filter(|k| k.deleted.is_none())
                .ok_or_else(|| ServiceError::key_not_found(key))?;
            let kv = match version {
                Some(id) => k
                    .versions
                    .iter_mut()
                    .find(|x| x.version.0.eq_ignore_ascii_case(id)),
                None => k.versions.last_mut(),
            }
            .ok_or_else(|| ServiceError::key_not_found(key))?;
            if let Some(e) = attrs.enabled {
                kv.enabled = e;
            }
            if let Some(n) = attrs.not_before {
                kv.not_before = n;
            }
            if let Some(x) = attrs.expires {
                kv.expires = x;
            }
            if let Some(ops) = &attrs.ops {
                kv.key_ops = ops.clone();
            }
            check_key_dates(kv.not_before, kv.expires)?;
            kv.updated = now;
            let out = kv.clone();
            if let Some(t) = &attrs.tags {
                check_tags(t)?;
                k.tags = t.clone();
            }
            Ok(out)
        })
    })
}

/// `az keyvault key delete`: soft-deletes the key (or removes it, without soft delete).
pub fn delete_key(ws: &mut Workspace, vault: &str, key: &str) -> ServiceResult<Key> {
    crate::service::requests::user_request(ws, vault, "KeyDelete", Some(key), |ws| {
        transact(ws, |ws| {
            let now = ws.now();
            let v = live_vault(ws, vault)?;
            authorize(ws, v, &Caller::ConsoleUser, KeyPermission::Delete)?;
            let v = live_vault_mut(ws, vault)?;
            let soft = v.soft_delete;
            let retention = v.retention_days;
            let vault_name = v.name.clone();
            let idx = v
                .keys
                .iter()
                .position(|k| k.name.eq_ignore_ascii_case(key) && k.deleted.is_none())
                .ok_or_else(|| ServiceError::key_not_found(key))?;
            let out = if soft {
                let k = &mut v.keys[idx];
                k.deleted = Some(DeletedState {
                    deleted_on: now,
                    scheduled_purge: now + crate::sim::Duration::days(retention as i64),
                });
                k.clone()
            } else {
                v.keys.remove(idx)
            };
            if let Some(d) = &out.deleted {
                ws.schedule
                    .push(d.scheduled_purge, crate::sim::SimEvent::ScheduledPurge);
            }
            notify(
                ws,
                NotificationLevel::Warning,
                "Key deleted",
                format!(
                    "Key '{}' in vault '{vault_name}' was deleted{}.",
                    out.name,
                    if soft {
                        " (recoverable)"
                    } else {
                        " permanently"
                    }
                ),
            );
            Ok(out)
        })
    })
}

/// `az keyvault key recover`: brings a soft-deleted key back (needs `recover`).
pub fn recover_key(ws: &mut Workspace, vault: &str, key: &str) -> ServiceResult<Key> {
    crate::service::requests::user_request(ws, vault, "KeyRecover", Some(key), |ws| {
        transact(ws, |ws| {
            let v = live_vault(ws, vault)?;
            authorize(ws, v, &Caller::ConsoleUser, KeyPermission::Recover)?;
            let v = live_vault_mut(ws, vault)?;
            let k = v
                .key_mut(key)
                .filter(|k| k.deleted.is_some())
                .ok_or_else(|| {
                    ServiceError::not_found("KeyNotFound", format!("Deleted Key not found: {key}"))
                })?;
            k.deleted = None;
            Ok(k.clone())
        })
    })
}

/// `az keyvault key backup`: an opaque blob holding every version, restorable only into a
/// vault in the same subscription and Azure geography.
pub fn backup_key(ws: &mut Workspace, vault: &str, key: &str) -> ServiceResult<Vec<u8>> {
    crate::service::requests::user_request(ws, vault, "KeyBackup", Some(key), |ws| {
        let now = ws.now();
        let blob = {
            let v = live_vault(ws, vault)?;
            authorize(ws, v, &Caller::ConsoleUser, KeyPermission::Backup)?;
            let k = v
                .key(key)
                .filter(|k| k.deleted.is_none())
                .ok_or_else(|| ServiceError::key_not_found(key))?;
            if k.versions.len() > MAX_BACKUP_VERSIONS {
                return Err(ServiceError::bad_request(
                    "BadParameter",
                    format!(
                        "Key '{}' has {} versions: keys with more than {MAX_BACKUP_VERSIONS} versions cannot be backed up.",
                        k.name,
                        k.versions.len()
                    ),
                ));
            }
            let payload = serde_json::to_vec(k)
                .map_err(|e| ServiceError::new("InternalServerError", 500, e.to_string()))?;
            let header = crate::crypto::backup::BackupHeader {
                subscription: v.subscription.0.clone(),
                geography: geography_of(&v.location),
                vault: v.name.clone(),
                key: k.name.clone(),
                versions: k.versions.len(),
            };
            crate::crypto::backup::seal(&ws.backup_root, &header, &payload)
        };
        // Backups work while the vault is read-only (failed over).
        if let Some(k) = ws.vault_mut(vault).and_then(|v| v.key_mut(key)) {
            k.last_backup = Some(now);
        }
        Ok(blob)
    })
}

/// `az keyvault key restore`: brings back every version under the same name.
pub fn restore_key(ws: &mut Workspace, vault: &str, blob: &[u8]) -> ServiceResult<Key> {
    crate::service::requests::user_request(ws, vault, "KeyRestore", None, |ws| {
        use crate::crypto::backup::{BackupError, open};
        transact(ws, |ws| {
            let v = live_vault(ws, vault)?;
            authorize(ws, v, &Caller::ConsoleUser, KeyPermission::Restore)?;
            let geo = geography_of(&v.location);
            // A backup made under the built-in demo's published root (before the workspace
            // got a secret of its own) still opens: it was never protected, and is said so.
            let (opened, unprotected) = match open(&ws.backup_root, &v.subscription.0, &geo, blob) {
                Err(BackupError::Damaged) => {
                    let published = crate::crypto::backup::BackupRoot::published();
                    match open(&published, &v.subscription.0, &geo, blob) {
                        Ok(o) => (Ok(o), true),
                        Err(_) => (Err(BackupError::Damaged), false),
                    }
                }
                other => (other, false),
            };
            let (header, plain) = opened.map_err(|e| match e {
            BackupError::NotABackup => ServiceError::bad_request("BadParameter", "The file is not a key backup."),
            BackupError::Damaged => ServiceError::bad_request("BadParameter", "Backup blob contains invalid or corrupt version: it cannot be decrypted here (damaged, or made in another workspace)."),
            BackupError::OtherSubscription { backup } => ServiceError::bad_request(
                "BadParameter",
                format!("The backup was made in subscription {backup}; key backups restore only into a vault of the same subscription (vault '{vault}' is in {}).", v.subscription),
            ),
            BackupError::OtherGeography { backup } => ServiceError::bad_request(
                "BadParameter",
                format!("The backup was made in the {backup} geography; key backups restore only within one Azure geography (vault '{vault}' is in {} ({geo})).", v.location),
            ),
        })?;
            let key: Key = serde_json::from_slice(&plain).map_err(|_| {
                ServiceError::bad_request(
                    "BadParameter",
                    "Backup blob contains invalid or corrupt version.",
                )
            })?;
            if v.key(&key.name).is_some() {
                return Err(ServiceError::conflict(
                    "Conflict",
                    format!(
                        "There is already a key named '{}' in vault '{vault}' (perhaps deleted but recoverable): restore refuses to overwrite it.",
                        header.key
                    ),
                ));
            }
            let restored = Key {
                deleted: None,
                ..key
            };
            live_vault_mut(ws, vault)?.keys.push(restored.clone());
            if unprotected {
                crate::service::notify(
                    ws,
                    crate::model::NotificationLevel::Warning,
                    "Key backup was never protected",
                    format!(
                        "The backup of key '{}' was made under the built-in demo's published secret: anyone with the console's source can read the private key in it. It was restored; make a new backup (it is protected by this workspace's own secret) and delete the old file.",
                        restored.name
                    ),
                );
            }
            Ok(restored)
        })
    })
}

/// `az keyvault key download`: the public part of a key version, as PEM. Needs `get`.
pub fn download_public_key(
    ws: &Workspace,
    vault: &str,
    key: &str,
    version: Option<&str>,
) -> ServiceResult<String> {
    let (_, _, kv) = show_key(ws, vault, key, version)?;
    match &kv.material {
        crate::crypto::KeyMaterial::Rsa(r) => r
            .public_pem()
            .map_err(|e| ServiceError::new("InternalServerError", 500, e.to_string())),
        crate::crypto::KeyMaterial::Ec(e) => Ok(e.public_pem()),
    }
}

/// `az keyvault key list-deleted`.
pub fn list_deleted_keys(ws: &Workspace, vault: &str) -> ServiceResult<(KeyVault, Vec<Key>)> {
    crate::service::requests::user_read(ws, vault, "KeyListDeleted", None, |ws| {
        let v = live_vault(ws, vault)?;
        authorize(ws, v, &Caller::ConsoleUser, KeyPermission::List)?;
        Ok((
            v.clone(),
            v.keys
                .iter()
                .filter(|k| k.deleted.is_some())
                .cloned()
                .collect(),
        ))
    })
}

/// `az keyvault key list-versions`.
pub fn list_key_versions(ws: &Workspace, vault: &str, key: &str) -> ServiceResult<(KeyVault, Key)> {
    crate::service::requests::user_read(ws, vault, "KeyListVersions", Some(key), |ws| {
        let v = live_vault(ws, vault)?;
        authorize(ws, v, &Caller::ConsoleUser, KeyPermission::List)?;
        let k = v
            .key(key)
            .filter(|k| k.deleted.is_none())
            .ok_or_else(|| ServiceError::key_not_found(key))?;
        Ok((v.clone(), k.clone()))
    })
}

/// `az keyvault key show-deleted`.
pub fn show_deleted_key(ws: &Workspace, vault: &str, key: &str) -> ServiceResult<(KeyVault, Key)> {
    crate::service::requests::user_read(ws, vault, "KeyGetDeleted", Some(key), |ws| {
        let v = live_vault(ws, vault)?;
        authorize(ws, v, &Caller::ConsoleUser, KeyPermission::Get)?;
        let k = v.key(key).filter(|k| k.deleted.is_some()).ok_or_else(|| {
            ServiceError::not_found("KeyNotFound", format!("Deleted Key not found: {key}"))
        })?;
        Ok((v.clone(), k.clone()))
    })
}

/// `az keyvault key purge`: needs the `purge` permission (nobody has it by default) and is
/// refused under purge protection until the retention period ends.
pub fn purge_key(ws: &mut Workspace, vault: &str, key: &str) -> ServiceResult<()> {
    crate::service::requests::user_request(ws, vault, "KeyPurge", Some(key), |ws| {
        transact(ws, |ws| {
            let v = live_vault(ws, vault)?;
            authorize(ws, v, &Caller::ConsoleUser, KeyPermission::Purge)?;
            let k = v.key(key).filter(|k| k.deleted.is_some()).ok_or_else(|| {
                ServiceError::not_found("KeyNotFound", format!("Deleted Key not found: {key}"))
            })?;
            if let Some(d) = &k.deleted
                && v.purge_protection
                && ws.now() < d.scheduled_purge
            {
                return Err(purge_refusal(&format!("key '{key}'"), d.scheduled_purge));
            }
            live_vault_mut(ws, vault)?
                .keys
                .retain(|k| !(k.name.eq_ignore_ascii_case(key) && k.deleted.is_some()));
            Ok(())
        })
    })
}
