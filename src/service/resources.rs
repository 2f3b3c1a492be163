//! Resource groups.

use super::lookup::invalid_location;
use super::{ServiceError, ServiceResult, check_name, transact};
use crate::model::*;

/// `az group create`: creates the group, or returns the existing one if the location matches.
pub fn create_resource_group(
    ws: &mut Workspace,
    name: &str,
    location: &str,
) -> ServiceResult<ResourceGroup> {
    create_resource_group_tagged(ws, name, location, None)
}

/// `az group create` with `--tags`: a group that exists already keeps its location and
/// takes the tags given (ARM's PUT replaces them).
pub fn create_resource_group_tagged(
    ws: &mut Workspace,
    name: &str,
    location: &str,
    tags: Option<Vec<(String, String)>>,
) -> ServiceResult<ResourceGroup> {
    transact(ws, |ws| {
        check_name("resource group", name, 1, 90, |c| {
            c.is_alphanumeric() || "-_.()".contains(c)
        })?;
        if name.ends_with('.') {
            return Err(ServiceError::bad_request(
                "InvalidResourceGroupName",
                format!(
                    "The resource group name '{name}' is invalid: it cannot end with a period."
                ),
            ));
        }
        let region = region(location).ok_or_else(|| invalid_location(location))?;
        if let Some(g) = ws.resource_group(name) {
            if g.location != region.name {
                return Err(ServiceError::conflict(
                    "InvalidResourceGroupLocation",
                    format!(
                        "Invalid resource group location '{}'. The Resource group already exists in location '{}'.",
                        region.name, g.location
                    ),
                ));
            }
            let Some(tags) = tags else {
                return Ok(g.clone());
            };
            let sub = ws.current_subscription.clone();
            let g = ws
                .resource_groups
                .iter_mut()
                .find(|g| g.subscription == sub && g.name.eq_ignore_ascii_case(name))
                .ok_or_else(|| ServiceError::resource_group_not_found(name))?;
            g.tags = tags;
            return Ok(g.clone());
        }
        let g = ResourceGroup {
            name: name.to_string(),
            subscription: ws.current_subscription.clone(),
            location: region.name.to_string(),
            tags: tags.unwrap_or_default(),
        };
        ws.resource_groups.push(g.clone());
        Ok(g)
    })
}

/// The subscription named by id or by display name (case-insensitive), as `--subscription`
/// takes it; az's own error when there is none.
pub fn find_subscription<'a>(
    ws: &'a Workspace,
    id_or_name: &str,
) -> ServiceResult<&'a Subscription> {
    let wanted = id_or_name.trim();
    ws.subscriptions
        .iter()
        .find(|s| s.id.0.eq_ignore_ascii_case(wanted))
        .or_else(|| {
            ws.subscriptions
                .iter()
                .find(|s| s.name.eq_ignore_ascii_case(wanted))
        })
        .ok_or_else(|| {
            ServiceError::bad_request(
                "SubscriptionNotFound",
                format!(
                    "Subscription '{id_or_name}' not found. Check the spelling and casing and try again."
                ),
            )
        })
}

/// `sim subscription create --id GUID --name NAME [--tenant T]`: another subscription of
/// the console user's tenant, or of tenant `T` (key backups restore only within one; limits
/// count per subscription).
pub fn create_subscription(
    ws: &mut Workspace,
    id: &str,
    name: &str,
    tenant: Option<&str>,
) -> ServiceResult<Subscription> {
    let tenant = match tenant {
        None => ws.console_user.tenant.clone(),
        Some(t) => ws
            .tenants
            .iter()
            .find(|x| x.id.0.eq_ignore_ascii_case(t.trim()))
            .map(|x| x.id.clone())
            .ok_or_else(|| {
                ServiceError::bad_request(
                    "TenantNotFound",
                    format!(
                        "Tenant '{t}' does not exist (sim tenant create --id GUID --name NAME)."
                    ),
                )
            })?,
    };
    transact(ws, |ws| {
        let id = id.trim().to_ascii_lowercase();
        if !super::lookup::is_guid(&id) {
            return Err(ServiceError::bad_request(
                "InvalidSubscriptionId",
                format!("The subscription id '{id}' is not a GUID."),
            ));
        }
        check_name("subscription", name, 1, 64, |c| !c.is_control())?;
        if let Some(s) = ws
            .subscriptions
            .iter()
            .find(|s| s.id.0 == id || s.name.eq_ignore_ascii_case(name.trim()))
        {
            return Err(ServiceError::conflict(
                "SubscriptionAlreadyExists",
                format!("A subscription '{}' ({}) already exists.", s.name, s.id.0),
            ));
        }
        let s = Subscription {
            id: SubscriptionId(id),
            name: name.trim().to_string(),
            tenant: tenant.clone(),
        };
        ws.subscriptions.push(s.clone());
        Ok(s)
    })
}

/// `az account set --subscription X`: the subscription later commands work in.
pub fn set_subscription(ws: &mut Workspace, id_or_name: &str) -> ServiceResult<Subscription> {
    let s = find_subscription(ws, id_or_name)?.clone();
    transact(ws, |ws| {
        ws.current_subscription = s.id.clone();
        Ok(s)
    })
}
