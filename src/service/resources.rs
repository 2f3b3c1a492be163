//! Resource groups.

use super::{ServiceError, ServiceResult, check_name, transact};
use crate::model::*;

/// `az group create`: creates the group, or returns the existing one if the location matches.
pub fn create_resource_group(
    ws: &mut Workspace,
    name: &str,
    location: &str,
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
            return Ok(g.clone());
        }
        let g = ResourceGroup {
            name: name.to_string(),
            subscription: ws.current_subscription.clone(),
            location: region.name.to_string(),
        };
        ws.resource_groups.push(g.clone());
        Ok(g)
    })
}

pub(crate) fn invalid_location(location: &str) -> ServiceError {
    let known: Vec<&str> = REGIONS.iter().map(|r| r.name).collect();
    ServiceError::bad_request(
        "LocationNotAvailableForResourceType",
        format!(
            "The provided location '{location}' is not available for resource type. List of available regions is '{}'.",
            known.join(",")
        ),
    )
}

/// Resolves a location argument, defaulting to the group's location.
pub(crate) fn resolve_location(
    ws: &Workspace,
    group: &str,
    location: Option<&str>,
) -> ServiceResult<String> {
    let g = ws
        .resource_group(group)
        .ok_or_else(|| ServiceError::resource_group_not_found(group))?;
    match location {
        Some(l) => Ok(region(l)
            .ok_or_else(|| invalid_location(l))?
            .name
            .to_string()),
        None => Ok(g.location.clone()),
    }
}
