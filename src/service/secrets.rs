//! Key Vault secrets: set, get, list, versions, update, delete, recover, purge, backup and
//! restore, under the same rules as keys: the vault's access policies (secret permissions)
//! or Azure RBAC (Key Vault Secrets User / Secrets Officer / Administrator), its firewall,
//! its service limits and request journal (audit records `SecretGet`, `SecretSet`, ...),
//! soft delete with the vault's retention, and purge protection.
//!
//! A secret's value leaves the vault only in the answer to `set` and `get`: lists, deleted
//! secrets, updates, notifications and audit records never carry it.

use super::lookup::{live_vault, live_vault_mut};
use super::requests::{user_read, user_request};
use super::{Caller, ServiceError, ServiceResult, check_name, notify, transact};
use crate::model::*;
use std::collections::BTreeSet;

/// Key Vault's limit on a secret's value (25 KB).
pub const MAX_VALUE_BYTES: usize = 25 * 1024;
/// Key Vault's limit on a secret's content type.
pub const MAX_CONTENT_TYPE_CHARS: usize = 255;

/// The arguments of `az keyvault secret set` (and of `PUT /secrets/{name}`).
#[derive(Clone, Debug)]
pub struct SetSecret {
    pub vault: String,
    pub name: String,
    pub value: SecretValue,
    pub content_type: Option<String>,
    pub enabled: bool,
    pub not_before: Option<Timestamp>,
    pub expires: Option<Timestamp>,
    pub tags: Vec<(String, String)>,
}

impl SetSecret {
    pub fn new(vault: &str, name: &str, value: impl Into<String>) -> Self {
        SetSecret {
            vault: vault.to_string(),
            name: name.to_string(),
            value: SecretValue::new(value),
            content_type: None,
            enabled: true,
            not_before: None,
            expires: None,
            tags: Vec::new(),
        }
    }
}

/// Changes to one version's attributes (`az keyvault secret set-attributes`, `PATCH`).
/// `None` leaves a field as it is; `Some(None)` clears a date or the content type.
#[derive(Clone, Debug, Default)]
pub struct SecretAttributes {
    pub enabled: Option<bool>,
    pub not_before: Option<Option<Timestamp>>,
    pub expires: Option<Option<Timestamp>>,
    pub content_type: Option<Option<String>>,
    /// All the version's tags (they replace the old ones).
    pub tags: Option<Vec<(String, String)>>,
}

pub fn secret_not_found(name: &str) -> ServiceError {
    ServiceError::not_found(
        "SecretNotFound",
        format!(
            "A secret with (name/id) {name} was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182"
        ),
    )
}

fn deleted_secret_not_found(name: &str) -> ServiceError {
    ServiceError::not_found(
        "SecretNotFound",
        format!("Deleted Secret not found: {name}"),
    )
}

fn bad(message: impl Into<String>) -> ServiceError {
    ServiceError::bad_request("BadParameter", message)
}

/// A secret name: 1 to 127 letters, digits and dashes.
fn check_secret_name(name: &str) -> ServiceResult<()> {
    check_name("secret", name, 1, 127, |c| {
        c.is_ascii_alphanumeric() || c == '-'
    })
}

/// The vault, alive and a key vault (a Managed HSM holds keys only).
fn secrets_vault<'a>(ws: &'a Workspace, vault: &str) -> ServiceResult<&'a KeyVault> {
    let v = live_vault(ws, vault)?;
    if v.is_managed_hsm() {
        return Err(bad(format!(
            "'{}' is a Managed HSM: it holds keys only. Secrets live in a key vault.",
            v.name
        )));
    }
    Ok(v)
}

/// The console user's (or the SDK caller's) secret permission check: tenant, firewall,
/// then the access policy's secret permissions or the RBAC roles, with Key Vault's texts.
fn authorize(ws: &Workspace, v: &KeyVault, permission: SecretPermission) -> ServiceResult<()> {
    let caller = Caller::ConsoleUser;
    let probe = || -> Result<(PrincipalId, TenantId), KeyAccessFailure> {
        let (principal, tenant) = super::keyvault::data_plane::caller_principal(ws, &caller)?;
        if tenant != v.tenant {
            return Err(KeyAccessFailure::TenantMismatch);
        }
        if !super::keyvault::data_plane::firewall_admits(ws, v, &caller) {
            return Err(KeyAccessFailure::FirewallBlocked);
        }
        Ok((principal, tenant))
    };
    let (oid, tenant) = probe().map_err(|f| {
        super::keyvault::data_plane::vault_error(ws, v, &caller, permission.as_str(), &f)
    })?;
    if v.effective_secret_permissions(&oid, ws.now())
        .contains(&permission)
    {
        return Ok(());
    }
    let appid = ws.console_user.via.as_ref().map_or_else(
        || super::requests::AZURE_CLI_APP_ID.to_string(),
        |c| c.app_id.clone(),
    );
    if v.rbac_authorization {
        return Err(ServiceError::new(
            "ForbiddenByRbac",
            403,
            format!(
                "Caller is not authorized to perform action on resource. If role assignments, deny assignments or role definitions were changed recently, please observe propagation time. Caller: appid={appid};oid={oid};iss=https://sts.windows.net/{tenant}/; Action: '{}'; Vault: {};location={}; Assignment: (not found); DecisionReason: 'DeniedWithNoValidRBAC'",
                permission.data_action(),
                v.name,
                v.location
            ),
        ));
    }
    Err(ServiceError::new(
        "Forbidden",
        403,
        format!(
            "The user, group or application 'appid={appid};oid={oid};iss=https://sts.windows.net/{tenant}/' does not have secrets {} permission on key vault '{};location={}'. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125287",
            permission.as_str(),
            v.name,
            v.location
        ),
    ))
}

fn check_dates(not_before: Option<Timestamp>, expires: Option<Timestamp>) -> ServiceResult<()> {
    for (what, t) in [
        ("activation (nbf)", not_before),
        ("expiration (exp)", expires),
    ] {
        if let Some(t) = t
            && !t.in_calendar()
        {
            return Err(bad(format!(
                "The {what} date {} is outside the supported range (1970 to 9000).",
                t.0
            )));
        }
    }
    if let (Some(n), Some(x)) = (not_before, expires)
        && x <= n
    {
        return Err(bad(
            "The expiration date must be later than the activation date.",
        ));
    }
    Ok(())
}

/// Key Vault's limits on tags: at most 15, names up to 512 characters, values up to 256.
fn check_tags(tags: &[(String, String)]) -> ServiceResult<()> {
    if tags.len() > 15 {
        return Err(bad(format!(
            "A secret may have at most 15 tags ({} given).",
            tags.len()
        )));
    }
    for (n, v) in tags {
        if n.is_empty() || n.chars().count() > 512 || v.chars().count() > 256 {
            return Err(bad(format!(
                "The tag '{}' is invalid: names are 1 to 512 characters, values up to 256.",
                n.chars().take(40).collect::<String>()
            )));
        }
    }
    Ok(())
}

fn check_content_type(ct: Option<&str>) -> ServiceResult<()> {
    match ct {
        Some(c) if c.chars().count() > MAX_CONTENT_TYPE_CHARS => Err(bad(format!(
            "The content type is {} characters long: at most {MAX_CONTENT_TYPE_CHARS} are allowed.",
            c.chars().count()
        ))),
        _ => Ok(()),
    }
}

/// Checks a `set` before it is sent: name, value size, content type, dates, tags.
pub fn validate_set_secret(req: &SetSecret) -> ServiceResult<()> {
    check_secret_name(&req.name)?;
    if req.value.len() > MAX_VALUE_BYTES {
        return Err(bad(format!(
            "The secret value is {} bytes: Key Vault stores at most {MAX_VALUE_BYTES} bytes (25 KB).",
            req.value.len()
        )));
    }
    check_content_type(req.content_type.as_deref())?;
    check_dates(req.not_before, req.expires)?;
    check_tags(&req.tags)
}

/// `az keyvault secret set` / `PUT /secrets/{name}`: a new secret, or a new version of an
/// existing one (needs `set`). A soft-deleted secret's name cannot be reused.
pub fn set_secret(
    ws: &mut Workspace,
    req: &SetSecret,
) -> ServiceResult<(KeyVault, Secret, SecretVersion)> {
    user_request(ws, &req.vault, "SecretSet", Some(&req.name), |ws| {
        transact(ws, |ws| {
            let v = secrets_vault(ws, &req.vault)?;
            authorize(ws, v, SecretPermission::Set)?;
            validate_set_secret(req)?;
            if let Some(s) = v.secret(&req.name)
                && s.deleted.is_some()
            {
                return Err(ServiceError::conflict(
                    "Conflict",
                    format!(
                        "Secret {} is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the secret can only be recovered or purged.",
                        s.name
                    ),
                ));
            }
            let now = ws.now();
            let version = SecretVersion {
                version: version_id_from_bytes(ws.clock.draw_bytes16()),
                value: req.value.clone(),
                content_type: req.content_type.clone(),
                enabled: req.enabled,
                not_before: req.not_before,
                expires: req.expires,
                created: now,
                updated: now,
                tags: req.tags.clone(),
            };
            let v = live_vault_mut(ws, &req.vault)?;
            match v.secret_mut(&req.name) {
                Some(s) => s.versions.push(version.clone()),
                None => v.secrets.push(Secret {
                    name: req.name.clone(),
                    versions: vec![version.clone()],
                    deleted: None,
                    managed: false,
                }),
            }
            let s = v
                .secret(&req.name)
                .cloned()
                .ok_or_else(|| secret_not_found(&req.name))?;
            Ok((v.clone(), s, version))
        })
    })
}

/// A live secret and one of its versions (the current one by default).
fn find_version<'a>(
    v: &'a KeyVault,
    name: &str,
    version: Option<&str>,
) -> ServiceResult<(&'a Secret, &'a SecretVersion)> {
    let s = v
        .secret(name)
        .filter(|s| s.deleted.is_none())
        .ok_or_else(|| secret_not_found(name))?;
    let sv = match version.filter(|x| !x.is_empty()) {
        Some(id) => s
            .version(id)
            .ok_or_else(|| secret_not_found(&format!("{name}/{id}")))?,
        None => s.current().ok_or_else(|| secret_not_found(name))?,
    };
    Ok((s, sv))
}

/// `az keyvault secret show` / `GET /secrets/{name}/{version}`: the value and attributes
/// (needs `get`). A disabled version is refused; an expired one still answers, as in Azure.
pub fn get_secret(
    ws: &Workspace,
    vault: &str,
    name: &str,
    version: Option<&str>,
) -> ServiceResult<(KeyVault, Secret, SecretVersion)> {
    user_read(ws, vault, "SecretGet", Some(name), |ws| {
        let v = secrets_vault(ws, vault)?;
        authorize(ws, v, SecretPermission::Get)?;
        let (s, sv) = find_version(v, name, version)?;
        if !sv.enabled {
            return Err(ServiceError::new(
                "Forbidden",
                403,
                "Operation get is not allowed on a disabled secret.",
            ));
        }
        Ok((v.clone(), s.clone(), sv.clone()))
    })
}

/// A secret and version as they stand, for composing an operation's answer (not a request
/// of its own, and never a way around `get`: callers print no value from it).
pub fn secret_state(
    ws: &Workspace,
    vault: &str,
    name: &str,
    version: Option<&str>,
) -> ServiceResult<(KeyVault, Secret, SecretVersion)> {
    let v = secrets_vault(ws, vault)?;
    let (s, sv) = find_version(v, name, version)?;
    Ok((v.clone(), s.clone(), sv.clone()))
}

/// `az keyvault secret list` / `GET /secrets`: live secrets, without values (needs `list`).
pub fn list_secrets(ws: &Workspace, vault: &str) -> ServiceResult<(KeyVault, Vec<Secret>)> {
    user_read(ws, vault, "SecretList", None, |ws| {
        let v = secrets_vault(ws, vault)?;
        authorize(ws, v, SecretPermission::List)?;
        let live = v
            .secrets
            .iter()
            .filter(|s| s.deleted.is_none())
            .cloned()
            .collect();
        Ok((v.clone(), live))
    })
}

/// `az keyvault secret list-versions` / `GET /secrets/{name}/versions` (needs `list`).
pub fn list_secret_versions(
    ws: &Workspace,
    vault: &str,
    name: &str,
) -> ServiceResult<(KeyVault, Secret)> {
    user_read(ws, vault, "SecretListVersions", Some(name), |ws| {
        let v = secrets_vault(ws, vault)?;
        authorize(ws, v, SecretPermission::List)?;
        let s = v
            .secret(name)
            .filter(|s| s.deleted.is_none())
            .ok_or_else(|| secret_not_found(name))?;
        Ok((v.clone(), s.clone()))
    })
}

/// `az keyvault secret set-attributes` / `PATCH /secrets/{name}/{version}`: changes one
/// version's attributes, content type and tags (needs `set`).
pub fn update_secret(
    ws: &mut Workspace,
    vault: &str,
    name: &str,
    version: Option<&str>,
    attrs: &SecretAttributes,
) -> ServiceResult<(KeyVault, Secret, SecretVersion)> {
    user_request(ws, vault, "SecretUpdate", Some(name), |ws| {
        transact(ws, |ws| {
            let now = ws.now();
            let v = secrets_vault(ws, vault)?;
            authorize(ws, v, SecretPermission::Set)?;
            let (s, sv) = find_version(v, name, version)?;
            let id = sv.version.clone();
            let secret_name = s.name.clone();
            let mut changed = sv.clone();
            if let Some(e) = attrs.enabled {
                changed.enabled = e;
            }
            if let Some(n) = attrs.not_before {
                changed.not_before = n;
            }
            if let Some(x) = attrs.expires {
                changed.expires = x;
            }
            if let Some(ct) = &attrs.content_type {
                changed.content_type = ct.clone();
            }
            if let Some(t) = &attrs.tags {
                changed.tags = t.clone();
            }
            check_dates(changed.not_before, changed.expires)?;
            check_content_type(changed.content_type.as_deref())?;
            check_tags(&changed.tags)?;
            changed.updated = now;
            let v = live_vault_mut(ws, vault)?;
            let s = v
                .secret_mut(&secret_name)
                .ok_or_else(|| secret_not_found(name))?;
            if let Some(slot) = s.versions.iter_mut().find(|x| x.version == id) {
                *slot = changed.clone();
            }
            let s = s.clone();
            Ok((v.clone(), s, changed))
        })
    })
}

/// `az keyvault secret delete` / `DELETE /secrets/{name}`: soft-deletes every version for
/// the vault's retention (or removes them, without soft delete). Needs `delete`.
pub fn delete_secret(
    ws: &mut Workspace,
    vault: &str,
    name: &str,
) -> ServiceResult<(KeyVault, Secret)> {
    user_request(ws, vault, "SecretDelete", Some(name), |ws| {
        transact(ws, |ws| {
            let now = ws.now();
            let v = secrets_vault(ws, vault)?;
            authorize(ws, v, SecretPermission::Delete)?;
            let v = live_vault_mut(ws, vault)?;
            let idx = v
                .secrets
                .iter()
                .position(|s| s.name.eq_ignore_ascii_case(name) && s.deleted.is_none())
                .ok_or_else(|| secret_not_found(name))?;
            let soft = v.soft_delete;
            let out = if soft {
                let s = &mut v.secrets[idx];
                s.deleted = Some(DeletedState {
                    deleted_on: now,
                    scheduled_purge: now + crate::sim::Duration::days(v.retention_days as i64),
                });
                s.clone()
            } else {
                v.secrets.remove(idx)
            };
            let vault_state = v.clone();
            if let Some(d) = &out.deleted {
                ws.schedule
                    .push(d.scheduled_purge, crate::sim::SimEvent::ScheduledPurge);
            }
            notify(
                ws,
                NotificationLevel::Warning,
                "Secret deleted",
                format!(
                    "Secret '{}' in vault '{}' was deleted{}.",
                    out.name,
                    vault_state.name,
                    if soft {
                        " (recoverable)"
                    } else {
                        " permanently"
                    }
                ),
            );
            Ok((vault_state, out))
        })
    })
}

/// `az keyvault secret list-deleted` / `GET /deletedsecrets` (needs `list`).
pub fn list_deleted_secrets(ws: &Workspace, vault: &str) -> ServiceResult<(KeyVault, Vec<Secret>)> {
    user_read(ws, vault, "SecretListDeleted", None, |ws| {
        let v = secrets_vault(ws, vault)?;
        authorize(ws, v, SecretPermission::List)?;
        let deleted = v
            .secrets
            .iter()
            .filter(|s| s.deleted.is_some())
            .cloned()
            .collect();
        Ok((v.clone(), deleted))
    })
}

/// `az keyvault secret show-deleted` / `GET /deletedsecrets/{name}` (needs `list`).
pub fn show_deleted_secret(
    ws: &Workspace,
    vault: &str,
    name: &str,
) -> ServiceResult<(KeyVault, Secret)> {
    user_read(ws, vault, "SecretGetDeleted", Some(name), |ws| {
        let v = secrets_vault(ws, vault)?;
        authorize(ws, v, SecretPermission::List)?;
        let s = v
            .secret(name)
            .filter(|s| s.deleted.is_some())
            .ok_or_else(|| deleted_secret_not_found(name))?;
        Ok((v.clone(), s.clone()))
    })
}

/// `az keyvault secret recover` / `POST /deletedsecrets/{name}/recover` (needs `recover`).
pub fn recover_secret(
    ws: &mut Workspace,
    vault: &str,
    name: &str,
) -> ServiceResult<(KeyVault, Secret)> {
    user_request(ws, vault, "SecretRecover", Some(name), |ws| {
        transact(ws, |ws| {
            let v = secrets_vault(ws, vault)?;
            authorize(ws, v, SecretPermission::Recover)?;
            let v = live_vault_mut(ws, vault)?;
            let s = v
                .secret_mut(name)
                .filter(|s| s.deleted.is_some())
                .ok_or_else(|| deleted_secret_not_found(name))?;
            s.deleted = None;
            let s = s.clone();
            Ok((v.clone(), s))
        })
    })
}

/// `az keyvault secret purge` / `DELETE /deletedsecrets/{name}`: needs `purge` (nobody
/// has it by default) and is refused under purge protection until the retention ends.
pub fn purge_secret(ws: &mut Workspace, vault: &str, name: &str) -> ServiceResult<()> {
    user_request(ws, vault, "SecretPurge", Some(name), |ws| {
        transact(ws, |ws| {
            let v = secrets_vault(ws, vault)?;
            authorize(ws, v, SecretPermission::Purge)?;
            let s = v
                .secret(name)
                .filter(|s| s.deleted.is_some())
                .ok_or_else(|| deleted_secret_not_found(name))?;
            if let Some(d) = &s.deleted
                && v.purge_protection
                && ws.now() < d.scheduled_purge
            {
                return Err(ServiceError::new(
                    "Forbidden",
                    403,
                    format!(
                        "Operation \"purge\" is not allowed because purge protection is enabled for this vault. Key Vault service will automatically purge it after the retention period has passed ({}).",
                        d.scheduled_purge.to_iso()
                    ),
                ));
            }
            live_vault_mut(ws, vault)?
                .secrets
                .retain(|s| !(s.name.eq_ignore_ascii_case(name) && s.deleted.is_some()));
            Ok(())
        })
    })
}

/// What a secret backup blob holds (sealed: only this workspace, in the same subscription
/// and Azure geography, can open it).
#[derive(serde::Serialize, serde::Deserialize)]
struct SecretBackup {
    /// Tells a secret backup from a key backup.
    kind: String,
    secret: Secret,
}

const BACKUP_KIND: &str = "secret";

/// `az keyvault secret backup` / `POST /secrets/{name}/backup`: every version, sealed
/// (needs `backup`).
pub fn backup_secret(ws: &mut Workspace, vault: &str, name: &str) -> ServiceResult<Vec<u8>> {
    user_request(ws, vault, "SecretBackup", Some(name), |ws| {
        let v = secrets_vault(ws, vault)?;
        authorize(ws, v, SecretPermission::Backup)?;
        let s = v
            .secret(name)
            .filter(|s| s.deleted.is_none())
            .ok_or_else(|| secret_not_found(name))?;
        if s.versions.len() > super::lookup::MAX_BACKUP_VERSIONS {
            return Err(bad(format!(
                "Secret '{}' has {} versions: secrets with more than {} versions cannot be backed up.",
                s.name,
                s.versions.len(),
                super::lookup::MAX_BACKUP_VERSIONS
            )));
        }
        let payload = serde_json::to_vec(&SecretBackup {
            kind: BACKUP_KIND.into(),
            secret: s.clone(),
        })
        .map_err(|e| ServiceError::new("InternalServerError", 500, e.to_string()))?;
        let header = crate::crypto::backup::BackupHeader {
            subscription: v.subscription.0.clone(),
            geography: super::lookup::geography_of(&v.location),
            vault: v.name.clone(),
            key: s.name.clone(),
            versions: s.versions.len(),
        };
        Ok(crate::crypto::backup::seal(
            &ws.backup_root,
            &header,
            &payload,
        ))
    })
}

/// `az keyvault secret restore` / `POST /secrets/restore`: brings back every version under
/// the same name, into a vault of the same subscription and geography (needs `restore`).
pub fn restore_secret(
    ws: &mut Workspace,
    vault: &str,
    blob: &[u8],
) -> ServiceResult<(KeyVault, Secret)> {
    use crate::crypto::backup::{BackupError, open};
    user_request(ws, vault, "SecretRestore", None, |ws| {
        transact(ws, |ws| {
            let v = secrets_vault(ws, vault)?;
            authorize(ws, v, SecretPermission::Restore)?;
            let geo = super::lookup::geography_of(&v.location);
            let (_, plain) = open(&ws.backup_root, &v.subscription.0, &geo, blob).map_err(|e| match e {
                BackupError::NotABackup => bad("The file is not a secret backup."),
                BackupError::Damaged => bad("Backup blob contains invalid or corrupt version: it cannot be decrypted here (damaged, or made in another workspace)."),
                BackupError::OtherSubscription { backup } => bad(format!(
                    "The backup was made in subscription {backup}; secret backups restore only into a vault of the same subscription (vault '{vault}' is in {}).",
                    v.subscription
                )),
                BackupError::OtherGeography { backup } => bad(format!(
                    "The backup was made in the {backup} geography; secret backups restore only within one Azure geography (vault '{vault}' is in {} ({geo})).",
                    v.location
                )),
            })?;
            let backup: SecretBackup = serde_json::from_slice(&plain)
                .ok()
                .filter(|b: &SecretBackup| b.kind == BACKUP_KIND)
                .ok_or_else(|| bad("Backup blob contains invalid or corrupt version: it is not a secret backup."))?;
            if v.secret(&backup.secret.name).is_some() {
                return Err(ServiceError::conflict(
                    "Conflict",
                    format!(
                        "There is already a secret named '{}' in vault '{vault}' (perhaps deleted but recoverable): restore refuses to overwrite it.",
                        backup.secret.name
                    ),
                ));
            }
            let restored = Secret {
                deleted: None,
                ..backup.secret
            };
            let v = live_vault_mut(ws, vault)?;
            v.secrets.push(restored.clone());
            Ok((v.clone(), restored))
        })
    })
}

/// `az keyvault set-policy` with key and/or secret permissions: `None` leaves that kind
/// as it is. Grants apply at once; revocations propagate (2 to 10 simulated minutes).
pub fn set_access_policy(
    ws: &mut Workspace,
    vault: &str,
    object_id: &PrincipalId,
    keys: Option<&BTreeSet<KeyPermission>>,
    secrets: Option<&BTreeSet<SecretPermission>>,
) -> ServiceResult<KeyVault> {
    let keys: BTreeSet<KeyPermission> = match keys {
        Some(k) => k.clone(),
        None => live_vault(ws, vault)?
            .access_policies
            .iter()
            .filter(|p| &p.object_id == object_id)
            .flat_map(|p| p.key_permissions.iter().copied())
            .collect(),
    };
    super::keyvault::access::change_access_policy(ws, vault, object_id, &keys, secrets).inspect(
        |v| {
            let secrets: Vec<&str> = v
                .access_policies
                .iter()
                .filter(|p| &p.object_id == object_id)
                .flat_map(|p| p.secret_permissions.iter().map(|s| s.as_str()))
                .collect();
            super::log_vault_change(
                ws,
                vault,
                "Update key vault (access policy)",
                format!(
                    "Access policy for {object_id} set: keys {}; secrets {}.",
                    keys.iter()
                        .map(|p| p.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    secrets.join(", ")
                ),
            )
        },
    )
}

#[cfg(test)]
mod tests;
