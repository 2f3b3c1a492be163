//! Azure SQL Managed Instance: an instance is a [`SqlServer`] of kind `ManagedInstance`, so
//! its TDE protector, keys, identities, databases, loss and recovery are the logical
//! server's (the seed: "the term server refers both to a server and to a managed
//! instance"). What is its own: the virtual network and subnet it is created in (delegated
//! to `Microsoft.Sql/managedInstances`), and its delete.

use super::identity::ServerIdentities;
pub use super::network::{DELEGATION, vnet};
use super::network::{bad_prefix, check_subnet_prefix, cidr};
use super::sql::{CreateServer, create_server_with};
use super::{ServiceError, ServiceResult, check_name, transact};
use crate::crypto::RsaKeyMaterial;
use crate::model::*;

/// `az network vnet create`.
pub fn create_vnet(
    ws: &mut Workspace,
    name: &str,
    resource_group: &str,
    location: Option<&str>,
    prefixes: &[String],
) -> ServiceResult<VirtualNetwork> {
    transact(ws, |ws| {
        check_name("virtual network", name, 2, 64, |c| {
            c.is_ascii_alphanumeric() || "-_.".contains(c)
        })?;
        let location = super::lookup::resolve_location(ws, resource_group, location)?;
        let prefixes: Vec<String> = if prefixes.is_empty() {
            vec!["10.0.0.0/16".into()]
        } else {
            prefixes.to_vec()
        };
        for p in &prefixes {
            cidr(p).ok_or_else(|| bad_prefix(p))?;
        }
        let sub = ws.current_subscription.clone();
        if let Some(v) = ws
            .networks
            .iter()
            .find(|v| v.subscription == sub && v.name.eq_ignore_ascii_case(name))
        {
            return Ok(v.clone());
        }
        let v = VirtualNetwork {
            name: name.to_string(),
            resource_group: ws.resource_group_name(resource_group),
            subscription: sub,
            location,
            address_prefixes: prefixes,
            subnets: Vec::new(),
        };
        ws.networks.push(v.clone());
        Ok(v)
    })
}

/// `az network vnet subnet create` (a PUT: an existing subnet is updated), with the NSG and
/// route table to associate (by name in the group, or by id), if any.
pub fn create_subnet(
    ws: &mut Workspace,
    resource_group: &str,
    vnet_name: &str,
    name: &str,
    prefix: &str,
    delegations: &[String],
    associations: (Option<&str>, Option<&str>),
) -> ServiceResult<(VirtualNetwork, Subnet)> {
    transact(ws, |ws| {
        check_name("subnet", name, 1, 80, |c| {
            c.is_ascii_alphanumeric() || "-_.".contains(c)
        })?;
        let v = vnet(ws, resource_group, vnet_name)?.clone();
        check_subnet_prefix(&v, name, prefix)?;
        let delegations: Vec<String> = delegations
            .iter()
            .map(|d| {
                if d.eq_ignore_ascii_case(DELEGATION) {
                    DELEGATION.to_string()
                } else {
                    d.clone()
                }
            })
            .collect();
        let subnet_id = v.subnet_id(name);
        let (nsg, route_table) = associations;
        let network_security_group = nsg
            .map(|n| {
                super::network::resolve_reference(
                    ws,
                    resource_group,
                    n,
                    "networkSecurityGroups",
                    &subnet_id,
                    &v.location,
                )
            })
            .transpose()?;
        let route_table = route_table
            .map(|t| {
                super::network::resolve_reference(
                    ws,
                    resource_group,
                    t,
                    "routeTables",
                    &subnet_id,
                    &v.location,
                )
            })
            .transpose()?;
        let subnet = Subnet {
            name: name.to_string(),
            address_prefix: prefix.trim().to_string(),
            delegations,
            network_security_group,
            route_table,
        };
        let slot = ws
            .networks
            .iter_mut()
            .find(|x| x.arm_id() == v.arm_id())
            .ok_or_else(|| ServiceError::not_found("ResourceNotFound", "virtual network gone"))?;
        slot.subnets.retain(|s| !s.name.eq_ignore_ascii_case(name));
        slot.subnets.push(subnet.clone());
        Ok((slot.clone(), subnet))
    })
}

/// The subnet a subnet id (or `--vnet-name` + `--subnet`) names.
pub fn subnet_by_id<'a>(ws: &'a Workspace, id: &str) -> Option<(&'a VirtualNetwork, &'a Subnet)> {
    ws.networks.iter().find_map(|v| {
        v.subnets
            .iter()
            .find(|s| v.subnet_id(&s.name).eq_ignore_ascii_case(id.trim()))
            .map(|s| (v, s))
    })
}

/// `az sql mi create`: a managed instance in a delegated subnet, with its identities and,
/// optionally, a customer-managed key from the start; all or nothing.
pub fn create_managed_instance(
    ws: &mut Workspace,
    req: &CreateServer,
    subnet_id: &str,
    identities: &ServerIdentities,
    key_id: Option<String>,
    service_key: RsaKeyMaterial,
) -> ServiceResult<SqlServer> {
    transact(ws, |ws| {
        let (v, s) = subnet_by_id(ws, subnet_id).ok_or_else(|| {
            ServiceError::bad_request(
                "InvalidSubnetResourceId",
                format!("The subnet '{subnet_id}' does not exist. Create it first (az network vnet subnet create)."),
            )
        })?;
        if let Some(e) = super::network::managed_instance_subnet_error(v, s) {
            return Err(e);
        }
        let id = v.subnet_id(&s.name);
        let mut mi_req = req.clone();
        mi_req.kind = ServerKind::ManagedInstance;
        create_server_with(ws, &mi_req, identities, key_id, service_key)?;
        let mi = super::lookup::server_mut(ws, &req.name)?;
        mi.subnet_id = Some(id);
        Ok(mi.clone())
    })
}

/// `az sql mi delete`: the instance and its databases.
pub fn delete_managed_instance(
    ws: &mut Workspace,
    name: &str,
    resource_group: &str,
) -> ServiceResult<()> {
    transact(ws, |ws| {
        let mi = managed_instance(ws, name, resource_group)?;
        super::locks::check(
            ws,
            &super::ids::server(mi),
            super::locks::LockedAction::Delete,
        )?;
        let name = mi.name.clone();
        ws.servers.retain(|s| !s.name.eq_ignore_ascii_case(&name));
        Ok(())
    })
}

/// The managed instance `name` of `resource_group`.
pub fn managed_instance<'a>(
    ws: &'a Workspace,
    name: &str,
    resource_group: &str,
) -> ServiceResult<&'a SqlServer> {
    if ws.resource_group(resource_group).is_none() {
        return Err(ServiceError::resource_group_not_found(resource_group));
    }
    ws.server(name)
        .filter(|s| s.kind == ServerKind::ManagedInstance)
        .filter(|s| s.resource_group.eq_ignore_ascii_case(resource_group))
        .ok_or_else(|| {
            ServiceError::not_found(
                "ResourceNotFound",
                format!("The Resource 'Microsoft.Sql/managedInstances/{name}' under resource group '{resource_group}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"),
            )
        })
}
