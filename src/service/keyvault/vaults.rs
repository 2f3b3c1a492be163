//! Vault lifecycle: create (vaults and managed HSMs), show, purge protection, soft delete,
//! recover, purge, and moving a vault to another tenant.

use crate::model::*;
use crate::service::lookup::{
    check_vault_lock, is_guid, live_vault, live_vault_mut, purge_refusal,
};
use crate::service::{Caller, ServiceError, ServiceResult, notify, transact};
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
            let location = crate::service::lookup::resolve_location(
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
        if let Some(call) = crate::service::requests::VaultCall::new(
            ws,
            &vault.name,
            "VaultPut",
            &Caller::ConsoleUser,
            None,
        ) {
            call.record(ws, ws.now(), 200, "");
        }
        Ok(vault)
    };
    out.inspect(|_| {
        crate::service::log_vault_change(
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

/// `az keyvault show`.
pub fn show_vault(ws: &Workspace, name: &str) -> ServiceResult<KeyVault> {
    crate::service::requests::user_read(ws, name, "VaultGet", None, |ws| {
        live_vault(ws, name).cloned()
    })
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
        crate::service::requests::user_request(ws, vault, "VaultPatch", None, |ws| {
            transact(ws, |ws| {
                check_vault_lock(ws, vault, crate::service::locks::LockedAction::Write)?;
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
            crate::service::log_vault_change(
                ws,
                &v.name,
                "Update key vault",
                "Purge protection enabled.".to_string(),
            )
        }
    })
}

/// `az keyvault delete`: soft-deletes the vault (or removes it, without soft delete). Its
/// keys become unusable at once.
pub fn delete_vault(ws: &mut Workspace, name: &str) -> ServiceResult<KeyVault> {
    let out = {
        crate::service::requests::user_request(ws, name, "VaultDelete", None, |ws| {
            transact(ws, |ws| {
                check_vault_lock(ws, name, crate::service::locks::LockedAction::Delete)?;
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
        crate::service::log_vault_change(
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
        crate::service::requests::user_request(ws, name, "VaultRecover", None, |ws| {
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
        crate::service::log_vault_change(
            ws,
            name,
            "Recover deleted key vault",
            format!("Key vault '{name}' recovered."),
        )
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
        crate::service::requests::user_request(ws, name, "VaultPurge", None, |ws| {
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
        crate::service::log_vault_change(
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
