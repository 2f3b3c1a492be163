//! Who may reach a vault: access policies (with their propagation delay) and the firewall
//! (network rules, ACLs, public access).

use crate::model::*;
use crate::service::lookup::{check_vault_lock, is_guid, live_vault, live_vault_mut};
use crate::service::{Caller, ServiceError, ServiceResult, transact};
use crate::sim::SimEvent;
use std::collections::BTreeSet;

/// `az keyvault set-policy`: sets the key permissions of one principal. Grants apply at
/// once; revocations are honoured until they propagate (2 to 10 simulated minutes).
pub fn set_access_policy(
    ws: &mut Workspace,
    vault: &str,
    object_id: &PrincipalId,
    permissions: &BTreeSet<KeyPermission>,
) -> ServiceResult<KeyVault> {
    change_access_policy(ws, vault, object_id, permissions, None).inspect(|_| {
        crate::service::log_vault_change(
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
    crate::service::requests::user_request(ws, vault, "VaultPatch", None, |ws| {
        transact(ws, |ws| {
            check_vault_lock(ws, vault, crate::service::locks::LockedAction::Write)?;
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
    if let Some(call) = crate::service::requests::VaultCall::new(
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
        crate::service::log_vault_change(
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

/// Sets the vault's networking (firewall on/off, bypass, IP rules, public access). IP
/// rules must be IPv4 addresses or CIDR ranges.
pub fn set_network_acls(
    ws: &mut Workspace,
    vault: &str,
    acls: NetworkAcls,
) -> ServiceResult<KeyVault> {
    let out = {
        crate::service::requests::user_request(ws, vault, "VaultPatch", None, |ws| {
            transact(ws, |ws| {
                check_vault_lock(ws, vault, crate::service::locks::LockedAction::Write)?;
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
        crate::service::log_vault_change(
            ws,
            vault,
            "Update key vault (networking)",
            "Firewall and virtual networks changed.".to_string(),
        )
    })
}
