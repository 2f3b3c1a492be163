//! Network security groups, route tables and a subnet's associations (`az network nsg …`,
//! `az network route-table …`, `az network vnet subnet update`): the network a managed
//! instance's subnet must have (delegated to `Microsoft.Sql/managedInstances`, with an NSG
//! and a route table associated). Each operation validates first and changes nothing when it
//! refuses, with the Network resource provider's codes and texts.

use super::{ServiceError, ServiceResult, check_name, transact};
use crate::model::*;

/// What `az network nsg rule create` gives a rule (already checked against az's choices).
#[derive(Clone, Debug)]
pub struct RuleSpec {
    pub name: String,
    /// As typed (checked against 100-4096 by the service).
    pub priority: i64,
    pub direction: RuleDirection,
    pub access: RuleAccess,
    pub protocol: String,
    pub source_address_prefixes: Vec<String>,
    pub source_port_ranges: Vec<String>,
    pub destination_address_prefixes: Vec<String>,
    pub destination_port_ranges: Vec<String>,
    pub description: Option<String>,
}

/// The next-hop types a route takes (az's choices, in Azure's spelling).
pub const NEXT_HOP_TYPES: &[&str] = &[
    "Internet",
    "None",
    "VirtualAppliance",
    "VirtualApplianceEcmp",
    "VirtualNetworkGateway",
    "VnetLocal",
];

fn network_name(kind: &str, name: &str) -> ServiceResult<()> {
    check_name(kind, name, 1, 80, |c| {
        c.is_ascii_alphanumeric() || "-_.".contains(c)
    })?;
    if name.starts_with(['.', '_']) || name.ends_with(['.', '-']) {
        return Err(ServiceError::bad_request(
            "InvalidResourceName",
            format!(
                "Resource name {name} is invalid. The name can be up to 80 characters long. It must begin with a word character, and it must end with a word character or with '_'. The name may contain word characters or '.', '-', '_'."
            ),
        ));
    }
    Ok(())
}

fn not_found(kind: &str, name: &str, group: &str) -> ServiceError {
    ServiceError::not_found(
        "ResourceNotFound",
        format!(
            "The Resource 'Microsoft.Network/{kind}/{name}' under resource group '{group}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
        ),
    )
}

fn check_group(ws: &Workspace, group: &str) -> ServiceResult<()> {
    ws.resource_group(group)
        .map(|_| ())
        .ok_or_else(|| ServiceError::resource_group_not_found(group))
}

fn same(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

// ---------------------------------------------------------------- security groups

/// The network security group `name` of `group` (current subscription).
pub fn nsg<'a>(
    ws: &'a Workspace,
    group: &str,
    name: &str,
) -> ServiceResult<&'a NetworkSecurityGroup> {
    check_group(ws, group)?;
    ws.network_policies
        .security_groups
        .iter()
        .find(|n| {
            n.subscription == ws.current_subscription
                && same(&n.resource_group, group)
                && same(&n.name, name)
        })
        .ok_or_else(|| not_found("networkSecurityGroups", name, group))
}

fn nsg_mut<'a>(
    ws: &'a mut Workspace,
    group: &str,
    name: &str,
) -> ServiceResult<&'a mut NetworkSecurityGroup> {
    let sub = ws.current_subscription.clone();
    ws.network_policies
        .security_groups
        .iter_mut()
        .find(|n| n.subscription == sub && same(&n.resource_group, group) && same(&n.name, name))
        .ok_or_else(|| not_found("networkSecurityGroups", name, group))
}

/// The NSGs of the current subscription (of one group, when given).
pub fn list_nsgs<'a>(
    ws: &'a Workspace,
    group: Option<&str>,
) -> ServiceResult<Vec<&'a NetworkSecurityGroup>> {
    if let Some(g) = group {
        check_group(ws, g)?;
    }
    Ok(ws
        .network_policies
        .security_groups
        .iter()
        .filter(|n| n.subscription == ws.current_subscription)
        .filter(|n| group.is_none_or(|g| same(&n.resource_group, g)))
        .collect())
}

/// `az network nsg create` (a PUT: an existing group keeps its rules, takes the new tags).
pub fn create_nsg(
    ws: &mut Workspace,
    group: &str,
    name: &str,
    location: Option<&str>,
    tags: Vec<(String, String)>,
) -> ServiceResult<NetworkSecurityGroup> {
    transact(ws, |ws| {
        network_name("network security group", name)?;
        let location = super::lookup::resolve_location(ws, group, location)?;
        if let Ok(existing) = nsg_mut(ws, group, name) {
            if !same(&existing.location, &location) {
                return Err(location_conflict(name, &existing.location, &location));
            }
            existing.tags = tags;
            return Ok(existing.clone());
        }
        let n = NetworkSecurityGroup {
            name: name.to_string(),
            resource_group: ws.resource_group_name(group),
            subscription: ws.current_subscription.clone(),
            location,
            tags,
            rules: Vec::new(),
        };
        ws.network_policies.security_groups.push(n.clone());
        Ok(n)
    })
}

fn location_conflict(name: &str, old: &str, new: &str) -> ServiceError {
    ServiceError::bad_request(
        "InvalidResourceLocation",
        format!(
            "The resource '{name}' already exists in location '{old}' in resource group. A resource with the same name cannot be created in location '{new}'. Please select a new resource name."
        ),
    )
}

/// The subnets (by id) an NSG or a route table with this id is associated with.
fn users(ws: &Workspace, id: &str, of: fn(&Subnet) -> &Option<String>) -> Vec<String> {
    ws.networks
        .iter()
        .flat_map(|v| {
            v.subnets
                .iter()
                .filter(|s| of(s).as_deref().is_some_and(|x| same(x, id)))
                .map(|s| v.subnet_id(&s.name))
        })
        .collect()
}

/// `az network nsg delete`: nothing to do for a group that does not exist (as ARM answers
/// a DELETE); refused while a subnet uses it.
pub fn delete_nsg(ws: &mut Workspace, group: &str, name: &str) -> ServiceResult<()> {
    transact(ws, |ws| {
        check_group(ws, group)?;
        let Ok(n) = nsg(ws, group, name) else {
            return Ok(());
        };
        let id = n.arm_id();
        let used = users(ws, &id, |s| &s.network_security_group);
        if !used.is_empty() {
            return Err(ServiceError::bad_request(
                "InUseNetworkSecurityGroupCannotBeDeleted",
                format!(
                    "Network security group {id} cannot be deleted because it is in use by the following resources: {}. In order to delete the Network security group, remove the association with the resource(s). To learn how to do this, see aka.ms/deletensg.",
                    used.join(", ")
                ),
            ));
        }
        let sub = ws.current_subscription.clone();
        ws.network_policies.security_groups.retain(|n| {
            !(n.subscription == sub && same(&n.resource_group, group) && same(&n.name, name))
        });
        Ok(())
    })
}

/// `*`, an IPv4 address, a CIDR, an `a-b` address range, or a service tag.
fn valid_address_prefix(p: &str) -> bool {
    let ip = |t: &str| cidr(&format!("{t}/32")).is_some();
    p == "*"
        || ip(p)
        || cidr(p).is_some()
        || p.split_once('-').is_some_and(|(a, b)| ip(a) && ip(b))
        || (p.starts_with(|c: char| c.is_ascii_alphabetic())
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-".contains(c)))
}

/// `*`, a port, or an `a-b` range of ports, all within 0-65535.
fn valid_port_range(p: &str) -> bool {
    let port = |t: &str| {
        !t.is_empty()
            && t.chars().all(|c| c.is_ascii_digit())
            && t.parse::<u32>().is_ok_and(|n| n <= 65535)
    };
    p == "*"
        || port(p)
        || p.split_once('-').is_some_and(|(a, b)| {
            port(a) && port(b) && a.parse::<u32>().ok() <= b.parse::<u32>().ok()
        })
}

fn check_rule(rule_id: &str, r: &RuleSpec) -> ServiceResult<()> {
    network_name("security rule", &r.name)?;
    if !(100..=4096).contains(&r.priority) {
        return Err(ServiceError::bad_request(
            "SecurityRuleInvalidPriority",
            format!(
                "Security rule {rule_id} has invalid Priority. Value provided: {}. Allowed range 100-4096.",
                r.priority
            ),
        ));
    }
    for list in [&r.source_address_prefixes, &r.destination_address_prefixes] {
        let single_only = if list.len() > 1 {
            list.iter().find(|p| {
                ["*", "VirtualNetwork", "AzureLoadBalancer", "Internet"]
                    .iter()
                    .any(|t| same(t, p))
            })
        } else {
            None
        };
        if let Some(p) = list
            .iter()
            .find(|p| !valid_address_prefix(p))
            .or(single_only)
        {
            return Err(ServiceError::bad_request(
                "SecurityRuleInvalidAddressPrefix",
                format!("Security rule {rule_id} has invalid Address prefix. Value provided: {p}"),
            ));
        }
    }
    for list in [&r.source_port_ranges, &r.destination_port_ranges] {
        let star_in_list = if list.len() > 1 {
            list.iter().find(|p| *p == "*")
        } else {
            None
        };
        if let Some(p) = list.iter().find(|p| !valid_port_range(p)).or(star_in_list) {
            return Err(ServiceError::bad_request(
                "SecurityRuleInvalidPortRange",
                format!(
                    "Security rule has invalid Port range. Value provided: {p}. Value should be an integer OR integer range with '-' delimiter. Valid range 0-65535."
                ),
            ));
        }
    }
    if r.description
        .as_ref()
        .is_some_and(|d| d.chars().count() > 140)
    {
        return Err(ServiceError::bad_request(
            "SecurityRuleDescriptionTooLong",
            format!("Security rule {rule_id} has a description longer than 140 characters."),
        ));
    }
    Ok(())
}

/// `az network nsg rule create` (a PUT: a rule of the same name is replaced). Priorities are
/// unique per direction.
pub fn create_rule(
    ws: &mut Workspace,
    group: &str,
    nsg_name: &str,
    r: RuleSpec,
) -> ServiceResult<(NetworkSecurityGroup, SecurityRule)> {
    transact(ws, |ws| {
        let n = nsg(ws, group, nsg_name)?.clone();
        let rule_id = format!("{}/securityRules/{}", n.arm_id(), r.name);
        check_rule(&rule_id, &r)?;
        if let Some(other) = n.rules.iter().find(|x| {
            !same(&x.name, &r.name)
                && i64::from(x.priority) == r.priority
                && x.direction == r.direction
        }) {
            return Err(ServiceError::bad_request(
                "SecurityRuleConflict",
                format!(
                    "Security rule {} conflicts with rule {}. Rules cannot have the same Priority and Direction. To learn more, see aka.ms/nsgrules.",
                    r.name, other.name
                ),
            ));
        }
        let rule = SecurityRule {
            name: r.name,
            priority: u32::try_from(r.priority).unwrap_or(100),
            direction: r.direction,
            access: r.access,
            protocol: r.protocol,
            source_address_prefixes: r.source_address_prefixes,
            source_port_ranges: r.source_port_ranges,
            destination_address_prefixes: r.destination_address_prefixes,
            destination_port_ranges: r.destination_port_ranges,
            description: r.description,
        };
        let slot = nsg_mut(ws, group, nsg_name)?;
        match slot.rules.iter_mut().find(|x| same(&x.name, &rule.name)) {
            Some(existing) => *existing = rule.clone(),
            None => slot.rules.push(rule.clone()),
        }
        Ok((slot.clone(), rule))
    })
}

/// One rule of an NSG.
pub fn rule<'a>(
    ws: &'a Workspace,
    group: &str,
    nsg_name: &str,
    name: &str,
) -> ServiceResult<(&'a NetworkSecurityGroup, &'a SecurityRule)> {
    let n = nsg(ws, group, nsg_name)?;
    n.rules
        .iter()
        .find(|r| same(&r.name, name))
        .map(|r| (n, r))
        .ok_or_else(|| {
            ServiceError::not_found(
                "NotFound",
                format!("Resource {}/securityRules/{name} not found.", n.arm_id()),
            )
        })
}

/// `az network nsg rule delete` (nothing to do for a rule that does not exist).
pub fn delete_rule(
    ws: &mut Workspace,
    group: &str,
    nsg_name: &str,
    name: &str,
) -> ServiceResult<()> {
    transact(ws, |ws| {
        nsg_mut(ws, group, nsg_name)?
            .rules
            .retain(|r| !same(&r.name, name));
        Ok(())
    })
}

// ---------------------------------------------------------------- route tables

pub fn route_table<'a>(
    ws: &'a Workspace,
    group: &str,
    name: &str,
) -> ServiceResult<&'a RouteTable> {
    check_group(ws, group)?;
    ws.network_policies
        .route_tables
        .iter()
        .find(|t| {
            t.subscription == ws.current_subscription
                && same(&t.resource_group, group)
                && same(&t.name, name)
        })
        .ok_or_else(|| not_found("routeTables", name, group))
}

fn route_table_mut<'a>(
    ws: &'a mut Workspace,
    group: &str,
    name: &str,
) -> ServiceResult<&'a mut RouteTable> {
    let sub = ws.current_subscription.clone();
    ws.network_policies
        .route_tables
        .iter_mut()
        .find(|t| t.subscription == sub && same(&t.resource_group, group) && same(&t.name, name))
        .ok_or_else(|| not_found("routeTables", name, group))
}

pub fn list_route_tables<'a>(
    ws: &'a Workspace,
    group: Option<&str>,
) -> ServiceResult<Vec<&'a RouteTable>> {
    if let Some(g) = group {
        check_group(ws, g)?;
    }
    Ok(ws
        .network_policies
        .route_tables
        .iter()
        .filter(|t| t.subscription == ws.current_subscription)
        .filter(|t| group.is_none_or(|g| same(&t.resource_group, g)))
        .collect())
}

/// `az network route-table create` (a PUT: an existing table keeps its routes).
pub fn create_route_table(
    ws: &mut Workspace,
    group: &str,
    name: &str,
    location: Option<&str>,
    disable_bgp_route_propagation: Option<bool>,
    tags: Vec<(String, String)>,
) -> ServiceResult<RouteTable> {
    transact(ws, |ws| {
        network_name("route table", name)?;
        let location = super::lookup::resolve_location(ws, group, location)?;
        if let Ok(existing) = route_table_mut(ws, group, name) {
            if !same(&existing.location, &location) {
                return Err(location_conflict(name, &existing.location, &location));
            }
            existing.tags = tags;
            if let Some(d) = disable_bgp_route_propagation {
                existing.disable_bgp_route_propagation = d;
            }
            return Ok(existing.clone());
        }
        let t = RouteTable {
            name: name.to_string(),
            resource_group: ws.resource_group_name(group),
            subscription: ws.current_subscription.clone(),
            location,
            disable_bgp_route_propagation: disable_bgp_route_propagation.unwrap_or(false),
            tags,
            routes: Vec::new(),
        };
        ws.network_policies.route_tables.push(t.clone());
        Ok(t)
    })
}

/// `az network route-table delete`: refused while a subnet uses it.
pub fn delete_route_table(ws: &mut Workspace, group: &str, name: &str) -> ServiceResult<()> {
    transact(ws, |ws| {
        check_group(ws, group)?;
        let Ok(t) = route_table(ws, group, name) else {
            return Ok(());
        };
        let id = t.arm_id();
        let used = users(ws, &id, |s| &s.route_table);
        if !used.is_empty() {
            return Err(ServiceError::bad_request(
                "InUseRouteTableCannotBeDeleted",
                format!(
                    "Route table {id} is in use and cannot be deleted. In order to delete the route table, remove the association with the resource(s): {}.",
                    used.join(", ")
                ),
            ));
        }
        let sub = ws.current_subscription.clone();
        ws.network_policies.route_tables.retain(|t| {
            !(t.subscription == sub && same(&t.resource_group, group) && same(&t.name, name))
        });
        Ok(())
    })
}

/// `az network route-table route create` (a PUT: a route of the same name is replaced).
/// `next_hop_type` is one of [`NEXT_HOP_TYPES`]; a virtual appliance needs its address,
/// other hops take none.
pub fn create_route(
    ws: &mut Workspace,
    group: &str,
    table: &str,
    name: &str,
    address_prefix: Option<&str>,
    next_hop_type: Option<&str>,
    next_hop_ip_address: Option<&str>,
) -> ServiceResult<(RouteTable, Route)> {
    transact(ws, |ws| {
        let t = route_table(ws, group, table)?.clone();
        network_name("route", name)?;
        let route_id = format!("{}/routes/{name}", t.arm_id());
        let prefix = address_prefix.map(str::trim).unwrap_or_default();
        let tag = prefix.starts_with(|c: char| c.is_ascii_alphabetic())
            && prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-".contains(c));
        if cidr(prefix).is_none() && !tag {
            return Err(ServiceError::bad_request(
                "InvalidRouteAddressPrefix",
                format!("Route {route_id} has invalid AddressPrefix. Value provided: '{prefix}'."),
            ));
        }
        let Some(hop) = next_hop_type else {
            return Err(ServiceError::bad_request(
                "InvalidRequestFormat",
                format!("Cannot parse the request: route {route_id} has no nextHopType."),
            ));
        };
        let hop = NEXT_HOP_TYPES
            .iter()
            .find(|h| same(h, hop))
            .copied()
            .ok_or_else(|| {
                ServiceError::bad_request(
                    "InvalidRequestFormat",
                    format!("Cannot parse the request: '{hop}' is not a next hop type."),
                )
            })?;
        let needs_ip = hop == "VirtualAppliance";
        match (needs_ip, next_hop_ip_address) {
            (true, None) => {
                return Err(ServiceError::bad_request(
                    "VirtualApplianceNextHopIpAddressMissing",
                    format!(
                        "Route {route_id} has next hop type VirtualAppliance, but no next hop IP address is specified."
                    ),
                ));
            }
            (true, Some(ip)) if cidr(&format!("{ip}/32")).is_none() => {
                return Err(ServiceError::bad_request(
                    "InvalidNextHopIpAddress",
                    format!("Route {route_id} has invalid NextHopIpAddress. Value provided: {ip}."),
                ));
            }
            (false, Some(ip)) if !ip.is_empty() => {
                return Err(ServiceError::bad_request(
                    "NextHopIpAddressNotAllowed",
                    format!(
                        "Route {route_id} has a next hop IP address {ip}; it is allowed only when the next hop type is VirtualAppliance."
                    ),
                ));
            }
            _ => {}
        }
        let route = Route {
            name: name.to_string(),
            address_prefix: prefix.to_string(),
            next_hop_type: hop.to_string(),
            next_hop_ip_address: next_hop_ip_address
                .filter(|ip| !ip.is_empty())
                .map(String::from),
        };
        let slot = route_table_mut(ws, group, table)?;
        match slot.routes.iter_mut().find(|r| same(&r.name, name)) {
            Some(existing) => *existing = route.clone(),
            None => slot.routes.push(route.clone()),
        }
        Ok((slot.clone(), route))
    })
}

pub fn route<'a>(
    ws: &'a Workspace,
    group: &str,
    table: &str,
    name: &str,
) -> ServiceResult<(&'a RouteTable, &'a Route)> {
    let t = route_table(ws, group, table)?;
    t.routes
        .iter()
        .find(|r| same(&r.name, name))
        .map(|r| (t, r))
        .ok_or_else(|| {
            ServiceError::not_found(
                "NotFound",
                format!("Resource {}/routes/{name} not found.", t.arm_id()),
            )
        })
}

pub fn delete_route(ws: &mut Workspace, group: &str, table: &str, name: &str) -> ServiceResult<()> {
    transact(ws, |ws| {
        route_table_mut(ws, group, table)?
            .routes
            .retain(|r| !same(&r.name, name));
        Ok(())
    })
}

// ---------------------------------------------------------------- subnet associations

/// What `az network vnet subnet update` changes: `None` leaves a property as it is;
/// `Some(None)` detaches (az's `null`); `Some(Some(x))` names an NSG or route table by name
/// (in the subnet's resource group) or by id.
#[derive(Clone, Debug, Default)]
pub struct SubnetUpdate {
    pub network_security_group: Option<Option<String>>,
    pub route_table: Option<Option<String>>,
    pub delegations: Option<Vec<String>>,
    pub address_prefix: Option<String>,
}

/// The id a `--network-security-group` / `--route-table` value names: an id as given (it
/// must exist), or a name in `group`.
pub(crate) fn resolve_reference(
    ws: &Workspace,
    group: &str,
    value: &str,
    kind: &str,
    subnet_id: &str,
    region: &str,
) -> ServiceResult<String> {
    let value = value.trim();
    let (group, name) = if value.starts_with('/') {
        let parts: Vec<&str> = value.split('/').collect();
        let at = |key: &str| {
            parts
                .iter()
                .position(|p| same(p, key))
                .and_then(|i| parts.get(i + 1))
                .copied()
                .unwrap_or_default()
        };
        (at("resourceGroups").to_string(), at(kind).to_string())
    } else {
        (group.to_string(), value.to_string())
    };
    let found = match kind {
        "networkSecurityGroups" => nsg(ws, &group, &name)
            .ok()
            .map(|n| (n.arm_id(), n.location.clone())),
        _ => route_table(ws, &group, &name)
            .ok()
            .map(|t| (t.arm_id(), t.location.clone())),
    };
    let wanted = if value.starts_with('/') {
        value.to_string()
    } else {
        format!(
            "/subscriptions/{}/resourceGroups/{group}/providers/Microsoft.Network/{kind}/{name}",
            ws.current_subscription
        )
    };
    match found {
        Some((id, location))
            if same(&location, region) && (!value.starts_with('/') || same(&id, value)) =>
        {
            Ok(id)
        }
        _ => Err(ServiceError::bad_request(
            "InvalidResourceReference",
            format!(
                "Resource {wanted} referenced by resource {subnet_id} was not found. Please make sure that the referenced resource exists, and that both resources are in the same region."
            ),
        )),
    }
}

/// `az network vnet subnet update`: associates (or detaches) an NSG and a route table,
/// sets the delegations or the address prefix. A subnet with a managed instance in it keeps
/// its delegation, NSG and route table (the network intent policy refuses their removal).
pub fn update_subnet(
    ws: &mut Workspace,
    group: &str,
    vnet_name: &str,
    name: &str,
    change: &SubnetUpdate,
) -> ServiceResult<(VirtualNetwork, Subnet)> {
    transact(ws, |ws| {
        check_group(ws, group)?;
        let v = vnet(ws, group, vnet_name)?.clone();
        let subnet_id = v.subnet_id(name);
        let mut s = v
            .subnets
            .iter()
            .find(|s| same(&s.name, name))
            .cloned()
            .ok_or_else(|| {
                ServiceError::not_found("NotFound", format!("Resource {subnet_id} not found."))
            })?;
        let subnet_id = v.subnet_id(&s.name);
        if let Some(n) = &change.network_security_group {
            s.network_security_group = match n {
                Some(n) => Some(resolve_reference(
                    ws,
                    group,
                    n,
                    "networkSecurityGroups",
                    &subnet_id,
                    &v.location,
                )?),
                None => None,
            };
        }
        if let Some(t) = &change.route_table {
            s.route_table = match t {
                Some(t) => Some(resolve_reference(
                    ws,
                    group,
                    t,
                    "routeTables",
                    &subnet_id,
                    &v.location,
                )?),
                None => None,
            };
        }
        if let Some(d) = &change.delegations {
            s.delegations = d
                .iter()
                .map(|d| {
                    if same(d, DELEGATION) {
                        DELEGATION.to_string()
                    } else {
                        d.clone()
                    }
                })
                .collect();
        }
        if let Some(p) = &change.address_prefix {
            check_subnet_prefix(&v, &s.name, p)?;
            s.address_prefix = p.trim().to_string();
        }
        let hosts_instance = ws.servers.iter().any(|x| {
            x.subnet_id
                .as_deref()
                .is_some_and(|id| same(id, &subnet_id))
        });
        if hosts_instance {
            let missing = if !s.delegations.iter().any(|d| d == DELEGATION) {
                Some("Subnet delegation")
            } else if s.network_security_group.is_none() {
                Some("Network Security Group")
            } else if s.route_table.is_none() {
                Some("Route Table")
            } else {
                None
            };
            if let Some(what) = missing {
                return Err(ServiceError::bad_request(
                    "NetworkIntentPolicyViolation",
                    format!(
                        "Subnet {subnet_id} is used by a managed instance and its network intent policy requires: {what}. (https://go.microsoft.com/fwlink/?linkid=871071)"
                    ),
                ));
            }
        }
        let slot = ws
            .networks
            .iter_mut()
            .find(|x| x.arm_id() == v.arm_id())
            .ok_or_else(|| ServiceError::not_found("ResourceNotFound", "virtual network gone"))?;
        if let Some(x) = slot.subnets.iter_mut().find(|x| same(&x.name, &s.name)) {
            *x = s.clone();
        }
        Ok((slot.clone(), s))
    })
}

/// Why a subnet cannot take a managed instance (the delegation first, then the NSG and the
/// route table the network intent policy needs), as Azure's deployment answers.
pub fn managed_instance_subnet_error(v: &VirtualNetwork, s: &Subnet) -> Option<ServiceError> {
    let id = v.subnet_id(&s.name);
    if !s.delegations.iter().any(|d| d == DELEGATION) {
        return Some(ServiceError::bad_request(
            "MiCreateFailedNonDelegatedSubnet",
            format!(
                "Managed Instance deployment failed as provided subnet '{id}' was not delegated to {DELEGATION}. Information on how to set subnet delegation for Managed Instance could be found at (https://go.microsoft.com/fwlink/?linkid=2123307)."
            ),
        ));
    }
    let conflict = |what: &str| {
        ServiceError::bad_request(
            "VnetSubnetConflictWithIntendedPolicy",
            format!("{what}. (https://go.microsoft.com/fwlink/?linkid=871071)"),
        )
    };
    if s.network_security_group.is_none() {
        return Some(conflict("Network Security Group"));
    }
    if s.route_table.is_none() {
        return Some(conflict("Route Table"));
    }
    None
}

/// The delegation a managed instance's subnet needs.
pub const DELEGATION: &str = "Microsoft.Sql/managedInstances";

/// `a.b.c.d/n` as (address, prefix length).
pub(crate) fn cidr(text: &str) -> Option<(u32, u32)> {
    let (addr, len) = text.trim().split_once('/')?;
    let len: u32 = len.parse().ok().filter(|l| *l <= 32)?;
    let octets: Vec<u32> = addr
        .split('.')
        .map(|o| o.parse::<u8>().ok().map(u32::from))
        .collect::<Option<_>>()?;
    (octets.len() == 4).then(|| (octets.iter().fold(0, |a, o| (a << 8) | o), len))
}

pub(crate) fn within(inner: (u32, u32), outer: (u32, u32)) -> bool {
    let mask = |len: u32| if len == 0 { 0 } else { u32::MAX << (32 - len) };
    inner.1 >= outer.1 && inner.0 & mask(outer.1) == outer.0 & mask(outer.1)
}

pub(crate) fn bad_prefix(p: &str) -> ServiceError {
    ServiceError::bad_request(
        "InvalidAddressPrefixFormat",
        format!("Address prefix {p} does not have a valid format."),
    )
}

pub fn vnet<'a>(
    ws: &'a Workspace,
    resource_group: &str,
    name: &str,
) -> ServiceResult<&'a VirtualNetwork> {
    ws.networks
        .iter()
        .find(|v| {
            v.subscription == ws.current_subscription
                && v.resource_group.eq_ignore_ascii_case(resource_group)
                && v.name.eq_ignore_ascii_case(name)
        })
        .ok_or_else(|| {
            ServiceError::not_found(
                "ResourceNotFound",
                format!("The Resource 'Microsoft.Network/virtualNetworks/{name}' under resource group '{resource_group}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"),
            )
        })
}

/// Refuses a subnet prefix that is not a CIDR inside the network's address space.
pub(crate) fn check_subnet_prefix(
    v: &VirtualNetwork,
    name: &str,
    prefix: &str,
) -> ServiceResult<()> {
    let p = cidr(prefix).ok_or_else(|| bad_prefix(prefix))?;
    if !v
        .address_prefixes
        .iter()
        .filter_map(|x| cidr(x))
        .any(|outer| within(p, outer))
    {
        return Err(ServiceError::bad_request(
            "NetcfgSubnetRangeOutsideVnet",
            format!(
                "Subnet '{name}' is not valid because its IP address range is outside the IP address range of virtual network '{}'.",
                v.name
            ),
        ));
    }
    Ok(())
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_containment() {
        let v = cidr("10.0.0.0/16").unwrap();
        assert!(within(cidr("10.0.1.0/24").unwrap(), v));
        assert!(!within(cidr("10.1.0.0/24").unwrap(), v));
        assert!(!within(cidr("10.0.0.0/8").unwrap(), v));
        assert!(cidr("10.0.0/24").is_none());
        assert!(cidr("10.0.0.300/24").is_none());
        assert!(cidr("10.0.0.0/33").is_none());
    }
}
