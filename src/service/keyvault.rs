//! Key Vault: vaults, access policies, keys and key versions, and the data-plane calls
//! (wrapKey / unwrapKey) that check who is calling.

pub(crate) use super::lookup::is_guid;
use super::{Caller, ServiceError, ServiceResult, check_name, notify, transact};
use crate::crypto::{RsaKeyMaterial, WrapAlgorithm};
use crate::model::*;
use crate::sim::SimEvent;
use std::collections::BTreeSet;

/// Arguments of `az keyvault create`.
#[derive(Clone, Debug, Default)]
pub struct CreateVault {
    pub name: String,
    pub resource_group: String,
    pub location: Option<String>,
    /// `None`: the profile's default (off in 2021, on and mandatory in `current`).
    pub soft_delete: Option<bool>,
    pub retention_days: Option<u16>,
    pub purge_protection: bool,
    /// Only the operations layer and tests set this: a vault in another tenant.
    pub tenant: Option<TenantId>,
    /// `--enable-rbac-authorization`: Azure RBAC instead of access policies.
    pub rbac_authorization: bool,
    /// `--no-self-perms`: the creator gets no access policy of its own.
    pub no_self_perms: bool,
}

pub fn create_vault(ws: &mut Workspace, req: &CreateVault) -> ServiceResult<KeyVault> {
    let out = {
        let vault = transact(ws, |ws| {
            let name = req.name.as_str();
            let valid = (3..=24).contains(&name.len())
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && name.starts_with(|c: char| c.is_ascii_alphabetic())
                && !name.ends_with('-')
                && !name.contains("--");
            if !valid {
                return Err(ServiceError::bad_request(
                    "VaultNameNotValid",
                    format!(
                        "The vault name '{name}' is invalid. A vault's name must be between 3-24 alphanumeric characters. The name must begin with a letter, end with a letter or digit, and not contain consecutive hyphens."
                    ),
                ));
            }
            let location = super::resources::resolve_location(
                ws,
                &req.resource_group,
                req.location.as_deref(),
            )?;
            if ws.vault(name).is_some() {
                return Err(ServiceError::conflict(
                    "VaultAlreadyExists",
                    format!(
                        "The vault name '{name}' is already in use. Vault names are globally unique so it is possible that the name is already taken. If you are sure that the vault name was not taken then it is possible that a vault with the same name was recently deleted but not purged after being placed in a recoverable state."
                    ),
                ));
            }
            let soft_delete = match (ws.profile, req.soft_delete) {
                (crate::sim::TimingProfile::Current, Some(false)) => {
                    return Err(ServiceError::bad_request(
                        "BadRequest",
                        "Soft delete can no longer be disabled: it is on for every key vault.",
                    ));
                }
                (crate::sim::TimingProfile::Current, _) => true,
                // az has turned soft delete on by default since February 2020 (before the
                // seed); under the 2021 profile only `--enable-soft-delete false` turns it off.
                (crate::sim::TimingProfile::Y2021, s) => s.unwrap_or(true),
            };
            let retention_days = req.retention_days.unwrap_or(90);
            if !(7..=90).contains(&retention_days) {
                return Err(ServiceError::bad_request(
                    "BadRequest",
                    "The property \"softDeleteRetentionInDays\" has an invalid value. It must be between 7 and 90 days.",
                ));
            }
            if req.purge_protection && !soft_delete {
                return Err(ServiceError::bad_request(
                    "BadRequest",
                    "Purge protection can only be enabled on a vault that has soft delete enabled.",
                ));
            }
            let user = ws.console_user.clone();
            let tenant = req.tenant.clone().unwrap_or_else(|| user.tenant.clone());
            let creator_permissions: BTreeSet<KeyPermission> = KeyPermission::ALL
                .into_iter()
                .filter(|p| *p != KeyPermission::Purge)
                .collect();
            let vault = KeyVault {
                name: name.to_string(),
                resource_group: req.resource_group.clone(),
                subscription: ws.current_subscription.clone(),
                tenant: tenant.clone(),
                location,
                soft_delete,
                retention_days,
                purge_protection: req.purge_protection,
                // The CLI gives the creator an access policy; under RBAC nobody has data
                // access until a role is assigned.
                access_policies: if req.rbac_authorization || req.no_self_perms {
                    Vec::new()
                } else {
                    vec![AccessPolicy {
                        tenant_id: tenant,
                        object_id: user.object_id,
                        key_permissions: creator_permissions,
                        secret_permissions: SecretPermission::CREATOR.into_iter().collect(),
                    }]
                },
                pending_revocations: Vec::new(),
                network: NetworkAcls::default(),
                keys: Vec::new(),
                secrets: Vec::new(),
                created: ws.now(),
                deleted: None,
                diagnostic_settings: Vec::new(),
                rbac_authorization: req.rbac_authorization,
                role_assignments: Vec::new(),
                kind: VaultKind::KeyVault,
                outage_until: None,
            };
            ws.vaults.push(vault.clone());
            Ok(vault)
        })?;
        if let Some(call) =
            super::requests::VaultCall::new(ws, &vault.name, "VaultPut", &Caller::ConsoleUser, None)
        {
            call.record(ws, ws.now(), 200, "");
        }
        Ok(vault)
    };
    out.inspect(|_| {
        super::log_vault_change(
            ws,
            &req.name,
            "Create or update key vault",
            format!("Key vault '{}' created.", req.name),
        )
    })
}

/// `az keyvault create --hsm-name`: a Managed HSM. Soft delete is always on, access is
/// local RBAC only, and the administrators named get "Managed HSM Administrator" at once.
/// (Security domain activation is not simulated: the HSM is usable as soon as it exists.)
pub fn create_managed_hsm(
    ws: &mut Workspace,
    req: &CreateVault,
    administrators: &[PrincipalId],
) -> ServiceResult<KeyVault> {
    if administrators.is_empty() {
        return Err(ServiceError::bad_request(
            "BadRequest",
            "A Managed HSM needs at least one administrator (--administrators <object id>).",
        ));
    }
    let req = CreateVault {
        soft_delete: Some(true),
        rbac_authorization: true,
        ..req.clone()
    };
    transact(ws, |ws| {
        let hsm = create_vault(ws, &req)?;
        let now = ws.now();
        let mut names = Vec::new();
        for _ in administrators {
            names.push(guid_from_bytes(ws.clock.draw_bytes16()));
        }
        let v = live_vault_mut(ws, &hsm.name)?;
        v.kind = VaultKind::ManagedHsm;
        for (p, name) in administrators.iter().zip(names) {
            v.role_assignments.push(RoleAssignment {
                name,
                principal: p.clone(),
                role: VaultRole::HsmAdministrator,
                active_from: now,
                active_until: None,
            });
        }
        Ok(v.clone())
    })
}

pub(crate) fn live_vault<'a>(ws: &'a Workspace, name: &str) -> ServiceResult<&'a KeyVault> {
    match ws.vault(name) {
        Some(v) if v.deleted.is_none() => Ok(v),
        _ => Err(ServiceError::vault_not_found(name)),
    }
}

/// Refuses a management-plane change to a locked vault.
fn check_vault_lock(
    ws: &Workspace,
    name: &str,
    action: super::locks::LockedAction,
) -> ServiceResult<()> {
    match ws.vault(name) {
        Some(v) => super::locks::check(ws, &super::ids::vault(v), action),
        None => Ok(()),
    }
}

pub(crate) fn live_vault_mut<'a>(
    ws: &'a mut Workspace,
    name: &str,
) -> ServiceResult<&'a mut KeyVault> {
    super::outage::check_vault_writable(ws, name)?;
    match ws.vault_mut(name) {
        Some(v) if v.deleted.is_none() => Ok(v),
        _ => Err(ServiceError::vault_not_found(name)),
    }
}

/// `az keyvault show`.
pub fn show_vault(ws: &Workspace, name: &str) -> ServiceResult<KeyVault> {
    super::requests::user_read(ws, name, "VaultGet", None, |ws| {
        live_vault(ws, name).cloned()
    })
}

/// `az keyvault set-policy`: sets the key permissions of one principal. Grants apply at
/// once; revocations are honoured until they propagate (2 to 10 simulated minutes).
pub fn set_access_policy(
    ws: &mut Workspace,
    vault: &str,
    object_id: &PrincipalId,
    permissions: &BTreeSet<KeyPermission>,
) -> ServiceResult<KeyVault> {
    change_access_policy(ws, vault, object_id, permissions, None).inspect(|_| {
        super::log_vault_change(
            ws,
            vault,
            "Update key vault (access policy)",
            format!(
                "Access policy for {object_id} set: {}.",
                permissions
                    .iter()
                    .map(|p| p.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    })
}

fn set_access_policy_unannounced(
    ws: &mut Workspace,
    vault: &str,
    object_id: &PrincipalId,
    permissions: &BTreeSet<KeyPermission>,
    secrets: Option<&BTreeSet<SecretPermission>>,
) -> ServiceResult<KeyVault> {
    super::requests::user_request(ws, vault, "VaultPatch", None, |ws| {
        transact(ws, |ws| {
            check_vault_lock(ws, vault, super::locks::LockedAction::Write)?;
            if live_vault(ws, vault)?.rbac_authorization {
                return Err(ServiceError::bad_request(
                    "BadRequest",
                    format!(
                        "Cannot set policies to a vault with '--enable-rbac-authorization' specified: key vault '{vault}' uses Azure RBAC (az role assignment create)."
                    ),
                ));
            }
            if object_id.0.trim().is_empty() {
                return Err(ServiceError::bad_request(
                    "BadRequest",
                    "An object id is required (--object-id).",
                ));
            }
            if !is_guid(object_id.0.trim()) {
                return Err(ServiceError::bad_request(
                    "BadRequest",
                    format!(
                        "Invalid value found at accessPolicies[0].ObjectId: '{}' is not an object id (a GUID).",
                        object_id.0.escape_default()
                    ),
                ));
            }
            let now = ws.now();
            let delay = ws.clock.draw_delay(
                crate::sim::Duration::minutes(2),
                crate::sim::TimingProfile::MAX_PERMISSION_PROPAGATION,
            );
            let v = live_vault_mut(ws, vault)?;
            let before = v.effective_permissions(object_id, now);
            let before_secrets = v.effective_secret_permissions(object_id, now);
            // Secret permissions stay as they are unless the caller sets them.
            let secrets: BTreeSet<SecretPermission> = match secrets {
                Some(s) => s.clone(),
                None => v
                    .access_policies
                    .iter()
                    .filter(|p| &p.object_id == object_id)
                    .flat_map(|p| p.secret_permissions.iter().copied())
                    .collect(),
            };
            let tenant = v.tenant.clone();
            v.access_policies.retain(|p| &p.object_id != object_id);
            if !permissions.is_empty() || !secrets.is_empty() {
                v.access_policies.push(AccessPolicy {
                    tenant_id: tenant,
                    object_id: object_id.clone(),
                    key_permissions: permissions.clone(),
                    secret_permissions: secrets.clone(),
                });
            }
            let revoked: BTreeSet<KeyPermission> =
                before.difference(permissions).copied().collect();
            let revoked_secrets: BTreeSet<SecretPermission> =
                before_secrets.difference(&secrets).copied().collect();
            let vault_name = v.name.clone();
            if !revoked.is_empty() || !revoked_secrets.is_empty() {
                v.pending_revocations.push(PendingRevocation {
                    object_id: object_id.clone(),
                    permissions: revoked,
                    secret_permissions: revoked_secrets,
                    effective_at: now + delay,
                });
            }
            let out = v.clone();
            if out.pending_revocations.iter().any(|p| p.effective_at > now) {
                ws.schedule.push(
                    now + delay,
                    SimEvent::PermissionRevocationPropagated { vault: vault_name },
                );
            }
            Ok(out)
        })
    })
}

/// `az keyvault delete-policy`: removes every key permission of one principal.
/// Sets a principal's permissions (none: removes its policy) and raises the vault's Event
/// Grid notification; the callers log the change as theirs.
pub(crate) fn change_access_policy(
    ws: &mut Workspace,
    vault: &str,
    object_id: &PrincipalId,
    permissions: &BTreeSet<KeyPermission>,
    secrets: Option<&BTreeSet<SecretPermission>>,
) -> ServiceResult<KeyVault> {
    let out = set_access_policy_unannounced(ws, vault, object_id, permissions, secrets)?;
    if let Some(call) = super::requests::VaultCall::new(
        ws,
        vault,
        "VaultAccessPolicyChangedEventGridNotification",
        &Caller::ConsoleUser,
        None,
    ) {
        call.record(ws, ws.now(), 200, "");
    }
    Ok(out)
}

pub fn delete_access_policy(
    ws: &mut Workspace,
    vault: &str,
    object_id: &PrincipalId,
) -> ServiceResult<KeyVault> {
    let out = {
        let exists = live_vault(ws, vault)?
            .access_policies
            .iter()
            .any(|p| &p.object_id == object_id);
        if !exists {
            return Err(ServiceError::not_found(
                "AccessPolicyNotFound",
                format!(
                    "No access policy for object id '{object_id}' exists on key vault '{vault}'."
                ),
            ));
        }
        change_access_policy(
            ws,
            vault,
            object_id,
            &BTreeSet::new(),
            Some(&BTreeSet::new()),
        )
    };
    out.inspect(|_| {
        super::log_vault_change(
            ws,
            vault,
            "Update key vault (access policy)",
            format!("Access policy for {object_id} removed."),
        )
    })
}

/// `az keyvault network-rule add --ip-address`: admits an address or CIDR range.
pub fn add_network_rule(ws: &mut Workspace, vault: &str, rule: &str) -> ServiceResult<KeyVault> {
    let mut acls = live_vault(ws, vault)?.network.clone();
    let rule = rule.trim().to_string();
    if !acls.ip_rules.iter().any(|r| r == &rule) {
        acls.ip_rules.push(rule);
    }
    set_network_acls(ws, vault, acls)
}

/// `az keyvault network-rule remove --ip-address`.
pub fn remove_network_rule(ws: &mut Workspace, vault: &str, rule: &str) -> ServiceResult<KeyVault> {
    let mut acls = live_vault(ws, vault)?.network.clone();
    let before = acls.ip_rules.len();
    acls.ip_rules.retain(|r| r != rule.trim());
    if acls.ip_rules.len() == before {
        return Err(ServiceError::not_found(
            "NetworkRuleNotFound",
            format!("The IP rule '{rule}' does not exist on key vault '{vault}'."),
        ));
    }
    set_network_acls(ws, vault, acls)
}

/// `az keyvault update --enable-purge-protection true [--retention-days N]` (and
/// `Update-AzKeyVault -EnablePurgeProtection`): purge protection can be turned on, never
/// off, and only on a soft-delete vault; the retention period is fixed once set.
pub fn set_vault_protection(
    ws: &mut Workspace,
    vault: &str,
    purge_protection: Option<bool>,
    retention_days: Option<u16>,
) -> ServiceResult<KeyVault> {
    let out = {
        super::requests::user_request(ws, vault, "VaultPatch", None, |ws| {
            transact(ws, |ws| {
                check_vault_lock(ws, vault, super::locks::LockedAction::Write)?;
                let v = live_vault_mut(ws, vault)?;
                if let Some(days) = retention_days
                    && days != v.retention_days
                {
                    return Err(ServiceError::bad_request(
                        "BadRequest",
                        "The property \"softDeleteRetentionInDays\" has been set already and it can't be modified.",
                    ));
                }
                match purge_protection {
                    Some(false) if v.purge_protection => {
                        return Err(ServiceError::bad_request(
                            "BadRequest",
                            "The property \"enablePurgeProtection\" cannot be set to false. Enabling the purge protection for a vault is an irreversible action.",
                        ));
                    }
                    Some(true) if !v.soft_delete => {
                        return Err(ServiceError::bad_request(
                            "BadRequest",
                            "Purge protection can only be enabled on a vault that has soft delete enabled.",
                        ));
                    }
                    Some(on) => v.purge_protection = on,
                    None => {}
                }
                Ok(v.clone())
            })
        })
    };
    out.inspect(|v| {
        if purge_protection == Some(true) {
            super::log_vault_change(
                ws,
                &v.name,
                "Update key vault",
                "Purge protection enabled.".to_string(),
            )
        }
    })
}

/// Sets the vault's networking (firewall on/off, bypass, IP rules, public access). IP
/// rules must be IPv4 addresses or CIDR ranges.
pub fn set_network_acls(
    ws: &mut Workspace,
    vault: &str,
    acls: NetworkAcls,
) -> ServiceResult<KeyVault> {
    let out = {
        super::requests::user_request(ws, vault, "VaultPatch", None, |ws| {
            transact(ws, |ws| {
                check_vault_lock(ws, vault, super::locks::LockedAction::Write)?;
                if let Some(bad) = acls.ip_rules.iter().find(|r| parse_ipv4_rule(r).is_none()) {
                    return Err(ServiceError::bad_request(
                        "BadRequest",
                        format!(
                            "'{bad}' is not a valid IPv4 address or CIDR range (e.g. 203.0.113.0/24)."
                        ),
                    ));
                }
                let v = live_vault_mut(ws, vault)?;
                v.network = acls;
                Ok(v.clone())
            })
        })
    };
    out.inspect(|_| {
        super::log_vault_change(
            ws,
            vault,
            "Update key vault (networking)",
            "Firewall and virtual networks changed.".to_string(),
        )
    })
}

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
fn add_key(
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
    super::requests::user_request(ws, &req.vault, op, Some(&req.name), |ws| {
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
    super::requests::user_read(ws, vault, "KeyGet", Some(key), |ws| {
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
    super::requests::user_read(ws, vault, "KeyList", None, |ws| {
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
    super::requests::user_request(ws, vault, "KeyUpdate", Some(key), |ws| {
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
    super::requests::user_request(ws, vault, "KeyDelete", Some(key), |ws| {
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
    if super::outage::vault_unreachable(ws, vault) {
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
        && let Some(sp) = super::directory::federated_principal(ws, app, &id, vt)
    {
        return Ok((sp, vt.clone()));
    }
    // A database's own identity, federated with `--federated-client-id` on the database.
    if let (Caller::ServerAs { server, identity }, Some(vt)) = (caller, vault_tenant)
        && let Some(s) = ws.server(server)
        && let Some(app) = s.database_federations.get(&identity.to_ascii_lowercase())
        && let Some(u) = ws.identity(identity)
        && &u.tenant_id != vt
        && let Some(sp) = super::directory::federated_principal(
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
        Caller::Synapse(name) => super::lookup::kek_principal(ws, name)
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
        Caller::Synapse(name) => match super::lookup::kek_principal(ws, name) {
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
fn authorize(
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
        Caller::Synapse(name) => {
            super::requests::server_request(ws, caller, name, &uri.vault, operation, &uri.key, op)
        }
        _ => match caller.server() {
            Some(name) => super::requests::server_request(
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
    super::requests::user_read(ws, &uri.vault, "KeyWrap", Some(&uri.key), |ws| {
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
    super::requests::user_read(ws, &uri.vault, operation, Some(&uri.key), |ws| {
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

/// `az keyvault delete`: soft-deletes the vault (or removes it, without soft delete). Its
/// keys become unusable at once.
pub fn delete_vault(ws: &mut Workspace, name: &str) -> ServiceResult<KeyVault> {
    let out = {
        super::requests::user_request(ws, name, "VaultDelete", None, |ws| {
            transact(ws, |ws| {
                check_vault_lock(ws, name, super::locks::LockedAction::Delete)?;
                let now = ws.now();
                let v = live_vault_mut(ws, name)?;
                let out = if v.soft_delete {
                    v.deleted = Some(DeletedState {
                        deleted_on: now,
                        scheduled_purge: now + crate::sim::Duration::days(v.retention_days as i64),
                    });
                    v.clone()
                } else {
                    let v = v.clone();
                    ws.vaults.retain(|x| !x.name.eq_ignore_ascii_case(name));
                    v
                };
                if let Some(d) = &out.deleted {
                    ws.schedule
                        .push(d.scheduled_purge, crate::sim::SimEvent::ScheduledPurge);
                }
                notify(
                    ws,
                    NotificationLevel::Warning,
                    "Key vault deleted",
                    format!(
                        "Key vault '{name}' was deleted{}.",
                        if out.deleted.is_some() {
                            " (recoverable)"
                        } else {
                            " permanently"
                        }
                    ),
                );
                Ok(out)
            })
        })
    };
    out.inspect(|_| {
        super::log_vault_change(
            ws,
            name,
            "Delete key vault",
            format!("Key vault '{name}' deleted."),
        )
    })
}

fn deleted_vault_not_found(name: &str) -> ServiceError {
    ServiceError::not_found(
        "DeletedVaultNotFound",
        format!("Deleted vault '{name}' was not found."),
    )
}

/// `az keyvault recover`: brings a soft-deleted vault back with its keys and policies.
pub fn recover_vault(ws: &mut Workspace, name: &str) -> ServiceResult<KeyVault> {
    let out = {
        super::requests::user_request(ws, name, "VaultRecover", None, |ws| {
            transact(ws, |ws| {
                let v = ws
                    .vault_mut(name)
                    .filter(|v| v.deleted.is_some())
                    .ok_or_else(|| deleted_vault_not_found(name))?;
                v.deleted = None;
                // A recovered vault has lost its RBAC role assignments (a Managed HSM's local
                // RBAC lives in its security domain and comes back with it).
                if !v.is_managed_hsm() {
                    v.role_assignments.clear();
                }
                Ok(v.clone())
            })
        })
    };
    out.inspect(|_| {
        super::log_vault_change(
            ws,
            name,
            "Recover deleted key vault",
            format!("Key vault '{name}' recovered."),
        )
    })
}

/// `az keyvault key recover`: brings a soft-deleted key back (needs `recover`).
pub fn recover_key(ws: &mut Workspace, vault: &str, key: &str) -> ServiceResult<Key> {
    super::requests::user_request(ws, vault, "KeyRecover", Some(key), |ws| {
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

/// `sim keyvault move-tenant`: moves the vault's subscription to another Azure AD tenant
/// (access policies keep their old tenant, so nobody from the old tenant gets in).
///
/// `tenant` must be a GUID.
pub fn move_vault_to_tenant(
    ws: &mut Workspace,
    vault: &str,
    tenant: &TenantId,
) -> ServiceResult<KeyVault> {
    transact(ws, |ws| {
        if !is_guid(&tenant.0) {
            return Err(ServiceError::bad_request(
                "InvalidTenantId",
                format!(
                    "'{}' is not a valid tenant id: a tenant id is a GUID such as 72f988bf-86f1-41af-91ab-2d7cd011db47.",
                    tenant.0
                ),
            ));
        }
        if !ws.tenants.iter().any(|t| &t.id == tenant) {
            ws.tenants.push(Tenant {
                id: tenant.clone(),
                display_name: format!("Tenant {}", tenant.0.chars().take(8).collect::<String>()),
                domain: String::new(),
            });
        }
        let v = live_vault_mut(ws, vault)?;
        if &v.tenant == tenant {
            return Err(ServiceError::bad_request(
                "BadRequest",
                format!("Key vault '{vault}' is already in tenant {tenant}."),
            ));
        }
        v.tenant = tenant.clone();
        Ok(v.clone())
    })
}

/// The most versions a key may have to be backed up.
pub const MAX_BACKUP_VERSIONS: usize = 500;

pub fn geography_of(location: &str) -> String {
    region(location)
        .map(|r| r.geography.to_string())
        .unwrap_or_default()
}

/// `az keyvault key backup`: an opaque blob holding every version, restorable only into a
/// vault in the same subscription and Azure geography.
pub fn backup_key(ws: &mut Workspace, vault: &str, key: &str) -> ServiceResult<Vec<u8>> {
    super::requests::user_request(ws, vault, "KeyBackup", Some(key), |ws| {
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
    super::requests::user_request(ws, vault, "KeyRestore", None, |ws| {
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
                super::notify(
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

/// `az keyvault key import --pem-file`: a key made elsewhere (PKCS#1 or PKCS#8 PEM) becomes
/// a new key or a new version. Only RSA 2048, 3072 and 4096 are accepted; anything else
/// creates nothing.
pub fn import_pem_key(
    ws: &mut Workspace,
    vault: &str,
    name: &str,
    kty: KeyType,
    pem: &str,
) -> ServiceResult<(Key, KeyVersion)> {
    let material = RsaKeyMaterial::from_pem(pem).map_err(|_| {
        let what = if pem.contains("EC PRIVATE KEY") || pem.contains("BEGIN PUBLIC KEY") {
            "it is not an RSA private key (EC keys and public keys cannot be imported as TDE keys)"
        } else if pem.contains("ENCRYPTED PRIVATE KEY") {
            "it is encrypted; decrypt it first (openssl pkcs8 -in key.pem -out plain.pem)"
        } else {
            "it is not a PEM RSA private key (PKCS#1 or PKCS#8), or it is damaged"
        };
        ServiceError::bad_request(
            "BadParameter",
            format!("The key could not be imported: {what}."),
        )
    })?;
    import_material(ws, vault, name, kty, material)
}

/// `az keyvault key import --pfx-file F --pfx-password P`: the private key of a PKCS#12
/// file (modern PBES2/AES or legacy 3DES). Wrong password, damaged file, or a key that is
/// not RSA 2048/3072/4096 create nothing.
pub fn import_pfx_key(
    ws: &mut Workspace,
    vault: &str,
    name: &str,
    kty: KeyType,
    pfx: &[u8],
    password: &str,
) -> ServiceResult<(Key, KeyVersion)> {
    use p12_keystore::error::Error as P12;
    let refused = |what: &str| {
        ServiceError::bad_request(
            "BadParameter",
            format!("The key could not be imported: {what}."),
        )
    };
    let archive = p12_keystore::Pkcs12Archive::from_pkcs12(pfx, password).map_err(|e| match e {
        P12::MacError(_) => refused("the .pfx password is wrong (MAC verification failed)"),
        P12::UnsupportedEncryptionScheme | P12::UnsupportedMacAlgorithm => {
            refused("the .pfx file uses an encryption this tool does not read")
        }
        _ => refused("the file is not a PKCS#12 (.pfx) file, or it is damaged"),
    })?;
    let bag = match archive.keys.as_slice() {
        [one] => one,
        [] => return Err(refused("the .pfx file holds no private key")),
        _ => return Err(refused("the .pfx file holds more than one private key")),
    };
    let material = RsaKeyMaterial::from_pkcs8_der(bag.key.as_der()).map_err(|_| {
        refused("the .pfx file's key is not an RSA key (EC keys cannot be imported as TDE keys)")
    })?;
    import_material(ws, vault, name, kty, material)
}

/// `az keyvault key import --byok-file F`: a key wrapped on the customer's side for one of
/// this vault's key-exchange keys (an RSA-HSM key whose only operation is `import`). The
/// result is an RSA-HSM key; a file made for another KEK, or damaged, creates nothing.
pub fn import_byok_key(
    ws: &mut Workspace,
    vault: &str,
    name: &str,
    kty: KeyType,
    byok: &[u8],
) -> ServiceResult<(Key, KeyVersion)> {
    use crate::crypto::byok::{self, ByokError, ByokFile};
    let refused = |what: String| {
        ServiceError::bad_request(
            "BadParameter",
            format!("The key could not be imported: {what}."),
        )
    };
    if kty != KeyType::RsaHsm {
        return Err(refused(
            "keys brought with BYOK are HSM-protected: use --protection hsm (or --kty RSA-HSM on a Managed HSM)".into(),
        ));
    }
    let file = ByokFile::from_json(byok).map_err(|e| match e {
        ByokError::NotByok(why) => refused(format!("the file is not a .byok file ({why})")),
        ByokError::WrongKek => refused("the file is damaged".into()),
    })?;
    let kek_uri = KeyUri::parse(&file.kek_id)
        .ok_or_else(|| refused(format!("'{}' is not a key identifier", file.kek_id)))?;
    if !kek_uri.vault.eq_ignore_ascii_case(vault) {
        return Err(refused(format!(
            "the file was made for a key-exchange key of vault '{}'; import it into that vault",
            kek_uri.vault
        )));
    }
    let material = {
        let v = live_vault(ws, vault)?;
        let kek = v
            .key(&kek_uri.key)
            .filter(|k| k.deleted.is_none())
            .ok_or_else(|| {
                refused(format!(
                    "the key-exchange key '{}' does not exist",
                    file.kek_id
                ))
            })?;
        let version = match &kek_uri.version {
            Some(id) => kek.version(id),
            None => kek.current(),
        }
        .ok_or_else(|| {
            refused(format!(
                "the key-exchange key '{}' does not exist",
                file.kek_id
            ))
        })?;
        if kek.kty != KeyType::RsaHsm || version.key_ops != [KeyOperation::Import] {
            return Err(refused(format!(
                "'{}' is not a key-exchange key (an RSA-HSM key whose only operation is 'import')",
                kek.name
            )));
        }
        let kek_material = version
            .material
            .rsa()
            .ok_or_else(|| refused(format!("'{}' is not an RSA key-exchange key", kek.name)))?;
        byok::unwrap(&file.ciphertext, kek_material).map_err(|e| match e {
            ByokError::WrongKek => refused(format!(
                "it does not open with the key-exchange key '{}' (wrapped for another KEK, or damaged)",
                kek.name
            )),
            ByokError::NotByok(why) => refused(why),
        })?
    };
    import_material(ws, vault, name, kty, material)
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

/// The checks every import makes on the key material, then the new key or version.
pub fn import_material(
    ws: &mut Workspace,
    vault: &str,
    name: &str,
    kty: KeyType,
    material: RsaKeyMaterial,
) -> ServiceResult<(Key, KeyVersion)> {
    let bits = material.bits();
    if ![2048, 3072, 4096].contains(&bits) {
        return Err(ServiceError::bad_request(
            "BadParameter",
            format!(
                "The key could not be imported: RSA keys of {bits} bits are not supported (2048, 3072 or 4096)."
            ),
        ));
    }
    add_key(
        ws,
        &CreateKey::new(vault, name, kty, bits),
        material.into(),
        KeyPermission::Import,
    )
}

/// `az keyvault key import --kty EC --pem-file F`: an EC private key (P-256, P-384, P-521).
pub fn import_ec_pem_key(
    ws: &mut Workspace,
    vault: &str,
    name: &str,
    kty: KeyType,
    pem: &str,
) -> ServiceResult<(Key, KeyVersion)> {
    let material = crate::crypto::EcKeyMaterial::from_pem(pem).map_err(|_| {
        ServiceError::bad_request(
            "BadParameter",
            "The key could not be imported: it is not a PEM EC private key on P-256, P-384 or P-521.",
        )
    })?;
    import_ec_key(ws, vault, name, kty, material)
}

/// An EC key's import (a JWK through the REST API, or a PEM file): checked and added as
/// any import (`EC` or `EC-HSM`; a Managed HSM takes `EC-HSM` only).
pub fn import_ec_key(
    ws: &mut Workspace,
    vault: &str,
    name: &str,
    kty: KeyType,
    material: crate::crypto::EcKeyMaterial,
) -> ServiceResult<(Key, KeyVersion)> {
    let bits = material.curve().bits();
    add_key(
        ws,
        &CreateKey::new(vault, name, kty, bits),
        crate::crypto::KeyMaterial::Ec(material),
        KeyPermission::Import,
    )
}

/// `az keyvault key list-deleted`.
pub fn list_deleted_keys(ws: &Workspace, vault: &str) -> ServiceResult<(KeyVault, Vec<Key>)> {
    super::requests::user_read(ws, vault, "KeyListDeleted", None, |ws| {
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
    super::requests::user_read(ws, vault, "KeyListVersions", Some(key), |ws| {
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
    super::requests::user_read(ws, vault, "KeyGetDeleted", Some(key), |ws| {
        let v = live_vault(ws, vault)?;
        authorize(ws, v, &Caller::ConsoleUser, KeyPermission::Get)?;
        let k = v.key(key).filter(|k| k.deleted.is_some()).ok_or_else(|| {
            ServiceError::not_found("KeyNotFound", format!("Deleted Key not found: {key}"))
        })?;
        Ok((v.clone(), k.clone()))
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

fn purge_refusal(what: &str, scheduled: Timestamp) -> ServiceError {
    ServiceError::new(
        "Forbidden",
        403,
        format!(
            "Operation \"purge\" is not allowed on {what}: purge protection is enabled, so it is purged automatically when its retention period ends ({}).",
            scheduled.to_iso()
        ),
    )
}

/// `az keyvault key purge`: needs the `purge` permission (nobody has it by default) and is
/// refused under purge protection until the retention period ends.
pub fn purge_key(ws: &mut Workspace, vault: &str, key: &str) -> ServiceResult<()> {
    super::requests::user_request(ws, vault, "KeyPurge", Some(key), |ws| {
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

/// `az keyvault list-deleted`.
pub fn list_deleted_vaults(ws: &Workspace) -> Vec<KeyVault> {
    ws.vaults
        .iter()
        .filter(|v| v.deleted.is_some())
        .cloned()
        .collect()
}

/// `az keyvault purge`: refused under purge protection until the retention period ends.
pub fn purge_vault(ws: &mut Workspace, name: &str) -> ServiceResult<()> {
    let out = {
        super::requests::user_request(ws, name, "VaultPurge", None, |ws| {
            transact(ws, |ws| {
                let v = ws
                    .vault(name)
                    .filter(|v| v.deleted.is_some())
                    .ok_or_else(|| deleted_vault_not_found(name))?;
                if let Some(d) = &v.deleted
                    && v.purge_protection
                    && ws.now() < d.scheduled_purge
                {
                    return Err(purge_refusal(&format!("vault '{name}'"), d.scheduled_purge));
                }
                ws.vaults
                    .retain(|v| !(v.name.eq_ignore_ascii_case(name) && v.deleted.is_some()));
                Ok(())
            })
        })
    };
    out.inspect(|_| {
        super::log_vault_change(
            ws,
            name,
            "Purge deleted key vault",
            format!("Key vault '{name}' purged."),
        )
    })
}

/// The clock's scheduled purges: deleted keys and vaults whose retention has ended.
pub(crate) fn purge_expired(ws: &mut Workspace) {
    let now = ws.now();
    ws.vaults
        .retain(|v| v.deleted.as_ref().is_none_or(|d| d.scheduled_purge > now));
    for v in &mut ws.vaults {
        v.keys
            .retain(|k| k.deleted.as_ref().is_none_or(|d| d.scheduled_purge > now));
        v.secrets
            .retain(|s| s.deleted.as_ref().is_none_or(|d| d.scheduled_purge > now));
    }
}
