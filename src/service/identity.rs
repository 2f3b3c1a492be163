//! User-assigned managed identities (`az identity create|show|list|delete`) and the
//! identities a server is given (`az sql server create|update --identity-type …
//! --user-assigned-identity-id … --primary-user-assigned-identity-id …`). A server reaches
//! Key Vault with its primary user-assigned identity when it has one; deleting that
//! identity, or taking it from the server, loses the key like a revoked access policy.

use super::lookup::{new_identity, server, server_mut};
use super::{ServiceError, ServiceResult, check_name, transact};
use crate::model::*;

/// `az identity create --name N --resource-group G [--location L]`.
pub fn create_identity(
    ws: &mut Workspace,
    name: &str,
    resource_group: &str,
    location: Option<&str>,
) -> ServiceResult<UserAssignedIdentity> {
    transact(ws, |ws| {
        check_name("user assigned identity", name, 3, 128, |c| {
            c.is_ascii_alphanumeric() || "-_".contains(c)
        })?;
        let location = super::lookup::resolve_location(ws, resource_group, location)?;
        let sub = ws.current_subscription.clone();
        if let Some(existing) = ws.identities.iter().find(|i| {
            i.subscription == sub
                && i.resource_group.eq_ignore_ascii_case(resource_group)
                && i.name.eq_ignore_ascii_case(name)
        }) {
            // A PUT of the same identity returns it, as ARM does.
            return Ok(existing.clone());
        }
        let identity = UserAssignedIdentity {
            name: name.to_string(),
            resource_group: ws.resource_group_name(resource_group),
            subscription: sub,
            location,
            principal_id: PrincipalId(guid_from_bytes(ws.clock.draw_bytes16())),
            client_id: guid_from_bytes(ws.clock.draw_bytes16()),
            tenant_id: ws.console_user.tenant.clone(),
        };
        ws.identities.push(identity.clone());
        Ok(identity)
    })
}

/// The identity `name` of `resource_group` in the current subscription.
pub fn show_identity<'a>(
    ws: &'a Workspace,
    name: &str,
    resource_group: &str,
) -> ServiceResult<&'a UserAssignedIdentity> {
    if ws.resource_group(resource_group).is_none() {
        return Err(ServiceError::resource_group_not_found(resource_group));
    }
    ws.identities
        .iter()
        .find(|i| {
            i.subscription == ws.current_subscription
                && i.resource_group.eq_ignore_ascii_case(resource_group)
                && i.name.eq_ignore_ascii_case(name)
        })
        .ok_or_else(|| {
            ServiceError::new(
                "ResourceNotFound",
                404,
                format!(
                    "The Resource 'Microsoft.ManagedIdentity/userAssignedIdentities/{name}' under resource group '{resource_group}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
                ),
            )
        })
}

/// `az identity delete`: the identity's service principal is gone; servers that reach
/// their vault with it lose their keys.
pub fn delete_identity(ws: &mut Workspace, name: &str, resource_group: &str) -> ServiceResult<()> {
    let arm_id = show_identity(ws, name, resource_group)?.arm_id();
    transact(ws, |ws| {
        ws.identities
            .retain(|i| !i.arm_id().eq_ignore_ascii_case(&arm_id));
        Ok(())
    })
}

/// The identity settings of `az sql server create|update`.
#[derive(Clone, Debug, Default)]
pub struct ServerIdentities {
    /// `--identity-type`: "SystemAssigned", "UserAssigned", "SystemAssigned,UserAssigned"
    /// or "None"; `None` here keeps what the server has (plus `--assign-identity`).
    pub identity_type: Option<String>,
    pub user_assigned: Vec<String>,
    pub primary: Option<String>,
    /// `--federated-client-id`: the multi-tenant app (app id) the primary identity is
    /// federated to, for a key in another tenant's vault.
    pub federated_client_id: Option<String>,
}

/// What a server's identity settings become: (system-assigned on, user-assigned ids, the
/// primary), checked as the service checks them.
pub(crate) fn resolve(
    ws: &Workspace,
    current: Option<&SqlServer>,
    req: &ServerIdentities,
    assign_identity: bool,
) -> ServiceResult<(bool, Vec<String>, Option<String>)> {
    let bad = |text: String| ServiceError::bad_request("InvalidIdentityType", text);
    let (system, user) = match req.identity_type.as_deref().map(str::trim) {
        None => (
            assign_identity || current.is_some_and(|s| s.identity.is_some()),
            !req.user_assigned.is_empty()
                || current.is_some_and(|s| !s.user_assigned_identities.is_empty()),
        ),
        Some(t) => match t.to_ascii_lowercase().replace(' ', "").as_str() {
            "systemassigned" => (true, false),
            "userassigned" => (false, true),
            "systemassigned,userassigned" | "userassigned,systemassigned" => (true, true),
            "none" => (false, false),
            _ => {
                return Err(bad(format!(
                    "The identity type '{t}' is not valid: use SystemAssigned, UserAssigned, 'SystemAssigned,UserAssigned' or None."
                )));
            }
        },
    };
    let mut ids: Vec<String> = if req.user_assigned.is_empty() {
        current
            .map(|s| s.user_assigned_identities.clone())
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    for id in &req.user_assigned {
        let found = ws.identity(id).ok_or_else(|| {
            ServiceError::bad_request(
                "InvalidUserAssignedIdentity",
                format!("The user assigned identity '{id}' was not found or is not in the server's tenant."),
            )
        })?;
        if !ids.iter().any(|x| x.eq_ignore_ascii_case(&found.arm_id())) {
            ids.push(found.arm_id());
        }
    }
    if !user {
        ids.clear();
    }
    if user && ids.is_empty() {
        return Err(bad(
            "An identity of type UserAssigned needs at least one user assigned identity (--user-assigned-identity-id).".into(),
        ));
    }
    let primary = match &req.primary {
        Some(p) => {
            let found = ids
                .iter()
                .find(|x| x.eq_ignore_ascii_case(p.trim()))
                .cloned()
                .ok_or_else(|| {
                    ServiceError::bad_request(
                        "InvalidPrimaryUserAssignedIdentityId",
                        format!("The primary user assigned identity '{p}' must be one of the server's user assigned identities."),
                    )
                })?;
            Some(found)
        }
        None => current
            .and_then(|s| s.primary_user_assigned_identity.clone())
            .filter(|p| ids.iter().any(|x| x.eq_ignore_ascii_case(p)))
            .or_else(|| (ids.len() == 1 && !system).then(|| ids[0].clone())),
    };
    if user && !system && primary.is_none() {
        return Err(ServiceError::bad_request(
            "InvalidPrimaryUserAssignedIdentityId",
            "A server with only user assigned identities needs a primary one (--primary-user-assigned-identity-id).",
        ));
    }
    Ok((system, ids, primary))
}

/// `az sql server update -i --identity-type … --user-assigned-identity-id …
/// --primary-user-assigned-identity-id …`.
pub fn set_server_identities(
    ws: &mut Workspace,
    server_name: &str,
    req: &ServerIdentities,
    assign_identity: bool,
) -> ServiceResult<SqlServer> {
    let out = transact(ws, |ws| {
        let current = super::lookup::server(ws, server_name)?.clone();
        let (system, ids, primary) = resolve(ws, Some(&current), req, assign_identity)?;
        let system_id = match (system, &current.identity) {
            (true, Some(i)) => Some(i.clone()),
            (true, None) => Some(super::lookup::new_identity(ws)),
            (false, _) => None,
        };
        let federated = match &req.federated_client_id {
            Some(app) => Some(super::lookup::app(ws, app)?.app_id.clone()),
            None => current.federated_client_id.clone(),
        };
        let s = super::lookup::server_mut(ws, server_name)?;
        s.identity = system_id;
        s.user_assigned_identities = ids;
        s.primary_user_assigned_identity = primary;
        s.federated_client_id = federated;
        Ok(s.clone())
    });
    out.inspect(|s| {
        super::log_server_change(
            ws,
            server_name,
            None,
            "Update SQL server (identity)",
            format!(
                "Identity: {}{}.",
                match (s.identity.is_some(), s.user_assigned_identities.is_empty()) {
                    (true, true) => "SystemAssigned",
                    (true, false) => "SystemAssigned,UserAssigned",
                    (false, false) => "UserAssigned",
                    (false, true) => "None",
                },
                s.primary_user_assigned_identity
                    .as_deref()
                    .map(|p| format!(", primary {}", p.rsplit('/').next().unwrap_or(p)))
                    .unwrap_or_default()
            ),
        )
    })
}

/// `az sql server update --assign-identity` (and the portal, which does it implicitly).
pub fn assign_identity(ws: &mut Workspace, server_name: &str) -> ServiceResult<SqlServer> {
    let out = {
        transact(ws, |ws| {
            server(ws, server_name)?;
            if server(ws, server_name)?.identity.is_none() {
                let id = new_identity(ws);
                server_mut(ws, server_name)?.identity = Some(id);
            }
            Ok(server(ws, server_name)?.clone())
        })
    };
    out.inspect(|_| {
        super::log_server_change(
            ws,
            server_name,
            None,
            "Update SQL server (identity)",
            "System assigned identity turned on.".to_string(),
        )
    })
}
