//! Azure RBAC for key vaults (`enableRbacAuthorization`): the three built-in key roles,
//! `az role assignment create|delete|list` on a vault, and the propagation delay both ways.
//! A recovered vault has lost its role assignments.

use super::{ServiceError, ServiceResult, transact};
use crate::model::*;
use crate::sim::{Duration, SimEvent, TimingProfile};

/// `az keyvault update --enable-rbac-authorization`: switches the permission model.
pub fn set_rbac_authorization(
    ws: &mut Workspace,
    vault: &str,
    enabled: bool,
) -> ServiceResult<KeyVault> {
    let out = {
        super::requests::user_request(ws, vault, "VaultPatch", None, |ws| {
            transact(ws, |ws| {
                let v = ws
                    .vault(vault)
                    .filter(|v| v.deleted.is_none())
                    .ok_or_else(|| ServiceError::vault_not_found(vault))?;
                super::locks::check(ws, &super::ids::vault(v), super::locks::LockedAction::Write)?;
                let v = ws
                    .vault_mut(vault)
                    .ok_or_else(|| ServiceError::vault_not_found(vault))?;
                if v.is_managed_hsm() && !enabled {
                    return Err(ServiceError::bad_request(
                        "BadRequest",
                        "A Managed HSM uses local RBAC only.",
                    ));
                }
                v.rbac_authorization = enabled;
                Ok(v.clone())
            })
        })
    };
    out.inspect(|_| {
        super::log_vault_change(
            ws,
            vault,
            "Update key vault (permission model)",
            if enabled {
                "Azure RBAC now decides access.".to_string()
            } else {
                "Access policies now decide access.".to_string()
            },
        )
    })
}

/// Finds the vault an RBAC scope names: the vault's ARM id (or a key under it), or its name.
pub fn vault_of_scope(ws: &Workspace, scope: &str) -> ServiceResult<String> {
    let lower = scope.to_ascii_lowercase();
    let name = match lower.find("/providers/microsoft.keyvault/vaults/") {
        Some(i) => {
            let rest = &scope[i + "/providers/microsoft.keyvault/vaults/".len()..];
            rest.split('/').next().unwrap_or_default().to_string()
        }
        None if !scope.contains('/') => scope.to_string(),
        None => {
            return Err(ServiceError::bad_request(
                "InvalidScope",
                format!(
                    "The scope '{scope}' is not a key vault; role assignments are simulated on vaults."
                ),
            ));
        }
    };
    ws.vault(&name)
        .filter(|v| v.deleted.is_none())
        .map(|v| v.name.clone())
        .ok_or_else(|| ServiceError::vault_not_found(&name))
}

fn propagation(ws: &mut Workspace) -> Duration {
    ws.clock.draw_delay(
        Duration::minutes(2),
        TimingProfile::MAX_PERMISSION_PROPAGATION,
    )
}

/// `az role assignment create --role R --assignee-object-id P --scope <vault>`: honoured
/// after the propagation delay (2 to 10 simulated minutes).
pub fn create_role_assignment(
    ws: &mut Workspace,
    vault: &str,
    principal: &PrincipalId,
    role: VaultRole,
) -> ServiceResult<RoleAssignment> {
    let out = {
        transact(ws, |ws| {
            if principal.0.trim().is_empty() {
                return Err(ServiceError::bad_request(
                    "InvalidPrincipalId",
                    "An assignee object id is required (--assignee-object-id).",
                ));
            }
            if !super::lookup::is_guid(principal.0.trim()) {
                return Err(ServiceError::bad_request(
                    "InvalidPrincipalId",
                    format!(
                        "The principal id '{}' is not a valid object id (a GUID).",
                        principal.0.escape_default()
                    ),
                ));
            }
            let now = ws.now();
            let delay = propagation(ws);
            let name = crate::model::guid_from_bytes(ws.clock.draw_bytes16());
            let v = ws
                .vault_mut(vault)
                .filter(|v| v.deleted.is_none())
                .ok_or_else(|| ServiceError::vault_not_found(vault))?;
            if !role.applies_to(v.kind) {
                let hsm = v.is_managed_hsm();
                return Err(ServiceError::bad_request(
                    "RoleDefinitionNotApplicable",
                    format!(
                        "The role '{}' does not apply to {} '{vault}': use {}.",
                        role.name(),
                        if hsm { "Managed HSM" } else { "key vault" },
                        if hsm {
                            "a Managed HSM local role such as 'Managed HSM Crypto Service Encryption User'"
                        } else {
                            "a Key Vault role such as 'Key Vault Crypto Service Encryption User'"
                        }
                    ),
                ));
            }
            if v.role_assignments
                .iter()
                .any(|a| &a.principal == principal && a.role == role && a.active_until.is_none())
            {
                return Err(ServiceError::conflict(
                    "RoleAssignmentExists",
                    "The role assignment already exists.",
                ));
            }
            let a = RoleAssignment {
                name,
                principal: principal.clone(),
                role,
                active_from: now + delay,
                active_until: None,
            };
            v.role_assignments.push(a.clone());
            ws.schedule.push(
                now + delay,
                SimEvent::PermissionRevocationPropagated {
                    vault: vault.to_string(),
                },
            );
            Ok(a)
        })
    };
    out.inspect(|_| {
        super::log_vault_change(
            ws,
            vault,
            "Create role assignment",
            format!("{} assigned to {principal}.", role.name()),
        )
    })
}

/// `az role assignment delete`: honoured until the removal propagates.
pub fn delete_role_assignment(
    ws: &mut Workspace,
    vault: &str,
    principal: &PrincipalId,
    role: Option<VaultRole>,
) -> ServiceResult<usize> {
    let out = {
        transact(ws, |ws| {
            let now = ws.now();
            let delay = propagation(ws);
            let v = ws
                .vault_mut(vault)
                .filter(|v| v.deleted.is_none())
                .ok_or_else(|| ServiceError::vault_not_found(vault))?;
            let mut removed = 0;
            for a in v.role_assignments.iter_mut().filter(|a| {
                &a.principal == principal
                    && a.active_until.is_none()
                    && role.is_none_or(|r| r == a.role)
            }) {
                a.active_until = Some(now + delay);
                removed += 1;
            }
            if removed == 0 {
                return Err(ServiceError::not_found(
                    "RoleAssignmentNotFound",
                    "No matched assignments were found to delete.",
                ));
            }
            ws.schedule.push(
                now + delay,
                SimEvent::PermissionRevocationPropagated {
                    vault: vault.to_string(),
                },
            );
            Ok(removed)
        })
    };
    out.inspect(|_| {
        super::log_vault_change(
            ws,
            vault,
            "Delete role assignment",
            format!("Role assignment of {principal} removed."),
        )
    })
}

/// Drops assignments whose removal has propagated.
pub(crate) fn drop_expired(v: &mut KeyVault, now: Timestamp) {
    v.role_assignments
        .retain(|a| a.active_until.is_none_or(|t| t > now));
}
