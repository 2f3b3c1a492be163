//! `Microsoft.Network`: the virtual network, delegated subnet, network security group (and
//! its rules) and route table (and its routes) a managed instance needs, as `az network
//! vnet create`, `az network vnet subnet create|update`, `az network nsg [rule] create` and
//! `az network route-table [route] create` send them; and `Microsoft.Sql/managedInstances`
//! create and delete (`az sql mi create|delete`). Each route runs the shell's operation
//! ([`crate::service::managed_instance`], [`crate::service::network`]); bodies are the
//! shell's views in ARM's shape, sub-resources (subnets, delegations, rules, routes) each in
//! their own envelope, so az's read-modify-write (`subnet update`) sends back what it read.
//! The Network provider answers a PUT with the resource (`provisioningState` Succeeded),
//! which az takes as done.

use super::resources::require_group;
use super::{Ctx, Reply, operations, shape};
use crate::model::{RuleAccess, RuleDirection, ServerKind};
use crate::service::identity::ServerIdentities;
use crate::service::network::{self as net, RuleSpec, SubnetUpdate};
use crate::service::{ServiceError, managed_instance as mi, sql};
use crate::shell::managed_instance::{subnet_json, vnet_json};
use crate::shell::network::{nsg_json, route_json, route_table_json, rule_json};
use serde_json::Value;

/// `view` in ARM's shape, and each item of the arrays named in `children` (under
/// `properties`) in its own envelope, `nested` levels deep for subnets' delegations.
fn arm_with(view: Value, children: &[&str]) -> Value {
    let mut v = shape::arm(view);
    for key in children {
        if let Some(items) = v["properties"].get_mut(*key).and_then(Value::as_array_mut) {
            for item in items.iter_mut() {
                let mut x = shape::arm(item.take());
                if let Some(d) = x["properties"]
                    .get_mut("delegations")
                    .and_then(Value::as_array_mut)
                {
                    for del in d.iter_mut() {
                        *del = shape::arm(del.take());
                    }
                }
                *item = x;
            }
        }
    }
    v
}

fn created(existed: bool, v: Value) -> Reply {
    if existed {
        Reply::Ok(v)
    } else {
        Reply::Created(v)
    }
}

fn text_list(props: &Value, singular: &str, plural: &str) -> Vec<String> {
    let mut out: Vec<String> = props[plural]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect();
    if let Some(one) = props[singular].as_str() {
        out.insert(0, one.to_string());
    }
    out
}

fn tags_of(body: &Value) -> Vec<(String, String)> {
    body["tags"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                .collect()
        })
        .unwrap_or_default()
}

// ---------------------------------------------------------------- virtual networks

fn vnet_view(c: &Ctx) -> Result<Value, ServiceError> {
    let v = mi::vnet(c.ws, c.p("rg"), c.p("vnet"))?;
    Ok(arm_with(vnet_json(v), &["subnets"]))
}

pub fn show_vnet(c: &mut Ctx) -> Result<Reply, ServiceError> {
    require_group(c)?;
    Ok(Reply::Ok(vnet_view(c)?))
}

/// The delegations' service names of a subnet body.
fn delegations_of(props: &Value) -> Vec<String> {
    props["delegations"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(|d| {
            d["properties"]["serviceName"]
                .as_str()
                .or_else(|| d["serviceName"].as_str())
        })
        .map(str::to_string)
        .collect()
}

/// A reference's id (`{"id": …}`), `Some(None)` for an explicit `null`, `None` when absent.
fn reference(props: &Value, key: &str) -> Option<Option<String>> {
    match props.get(key) {
        None => None,
        Some(Value::Null) => Some(None),
        Some(r) => Some(r["id"].as_str().map(str::to_string)),
    }
}

/// `PUT virtualNetworks/{vnet}` (az network vnet create, with its subnets if any).
pub fn put_vnet(c: &mut Ctx) -> Result<Reply, ServiceError> {
    require_group(c)?;
    let body = c.body()?;
    let props = &body["properties"];
    let (rg, name) = (c.p("rg").to_string(), c.p("vnet").to_string());
    let existed = mi::vnet(c.ws, &rg, &name).is_ok();
    let prefixes: Vec<String> = props["addressSpace"]["addressPrefixes"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect();
    let subnets: Vec<(String, String, Vec<String>)> = props["subnets"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|s| {
            let p = &s["properties"];
            (
                s["name"].as_str().unwrap_or("").to_string(),
                p["addressPrefix"]
                    .as_str()
                    .or_else(|| p["addressPrefixes"][0].as_str())
                    .unwrap_or("")
                    .to_string(),
                delegations_of(p),
            )
        })
        .collect();
    let location = body["location"].as_str().map(str::to_string);
    crate::service::transact(c.ws, |ws| {
        mi::create_vnet(ws, &name, &rg, location.as_deref(), &prefixes)?;
        for (subnet, prefix, delegations) in &subnets {
            mi::create_subnet(ws, &rg, &name, subnet, prefix, delegations, (None, None))?;
        }
        Ok(())
    })?;
    Ok(created(existed, vnet_view(c)?))
}

fn subnet_view(c: &Ctx) -> Result<Value, ServiceError> {
    let v = mi::vnet(c.ws, c.p("rg"), c.p("vnet"))?;
    let s = v
        .subnets
        .iter()
        .find(|s| s.name.eq_ignore_ascii_case(c.p("subnet")))
        .ok_or_else(|| {
            ServiceError::not_found(
                "NotFound",
                format!("Resource {} not found.", v.subnet_id(c.p("subnet"))),
            )
        })?;
    Ok(arm_with(subnet_json(v, s), &["delegations"]))
}

pub fn show_subnet(c: &mut Ctx) -> Result<Reply, ServiceError> {
    require_group(c)?;
    Ok(Reply::Ok(subnet_view(c)?))
}

/// `PUT virtualNetworks/{vnet}/subnets/{subnet}`: az network vnet subnet create (a new
/// subnet, with its delegation, NSG and route table) or update (az reads the subnet and
/// sends it back changed): the shell's `create_subnet` or `update_subnet`.
pub fn put_subnet(c: &mut Ctx) -> Result<Reply, ServiceError> {
    require_group(c)?;
    let body = c.body()?;
    let props = &body["properties"];
    let (rg, vnet, name) = (
        c.p("rg").to_string(),
        c.p("vnet").to_string(),
        c.p("subnet").to_string(),
    );
    let prefix = props["addressPrefix"]
        .as_str()
        .or_else(|| props["addressPrefixes"][0].as_str())
        .map(str::to_string);
    let existed = mi::vnet(c.ws, &rg, &vnet)?
        .subnets
        .iter()
        .any(|s| s.name.eq_ignore_ascii_case(&name));
    if existed {
        net::update_subnet(
            c.ws,
            &rg,
            &vnet,
            &name,
            &SubnetUpdate {
                network_security_group: Some(reference(props, "networkSecurityGroup").flatten()),
                route_table: Some(reference(props, "routeTable").flatten()),
                delegations: Some(delegations_of(props)),
                address_prefix: prefix,
            },
        )?;
    } else {
        let prefix = prefix.ok_or_else(|| {
            ServiceError::bad_request(
                "InvalidRequestFormat",
                "Cannot parse the request: the subnet has no address prefix (properties.addressPrefix).",
            )
        })?;
        let nsg = reference(props, "networkSecurityGroup").flatten();
        let rt = reference(props, "routeTable").flatten();
        mi::create_subnet(
            c.ws,
            &rg,
            &vnet,
            &name,
            &prefix,
            &delegations_of(props),
            (nsg.as_deref(), rt.as_deref()),
        )?;
    }
    Ok(created(existed, subnet_view(c)?))
}

// ---------------------------------------------------------------- security groups

fn nsg_view(c: &Ctx) -> Result<Value, ServiceError> {
    let n = net::nsg(c.ws, c.p("rg"), c.p("nsg"))?;
    Ok(arm_with(
        nsg_json(c.ws, n),
        &["securityRules", "defaultSecurityRules"],
    ))
}

pub fn show_nsg(c: &mut Ctx) -> Result<Reply, ServiceError> {
    Ok(Reply::Ok(nsg_view(c)?))
}

/// `PUT networkSecurityGroups/{nsg}` (az network nsg create).
pub fn put_nsg(c: &mut Ctx) -> Result<Reply, ServiceError> {
    let body = c.body()?;
    let existed = net::nsg(c.ws, c.p("rg"), c.p("nsg")).is_ok();
    let (rg, name) = (c.p("rg").to_string(), c.p("nsg").to_string());
    net::create_nsg(c.ws, &rg, &name, body["location"].as_str(), tags_of(&body))?;
    Ok(created(existed, nsg_view(c)?))
}

/// `DELETE networkSecurityGroups/{nsg}` (az network nsg delete).
pub fn delete_nsg(c: &mut Ctx) -> Result<Reply, ServiceError> {
    let existed = net::nsg(c.ws, c.p("rg"), c.p("nsg")).is_ok();
    let (rg, name) = (c.p("rg").to_string(), c.p("nsg").to_string());
    net::delete_nsg(c.ws, &rg, &name)?;
    Ok(if existed {
        Reply::Deleted
    } else {
        Reply::NoContent
    })
}

pub fn show_rule(c: &mut Ctx) -> Result<Reply, ServiceError> {
    let (n, r) = net::rule(c.ws, c.p("rg"), c.p("nsg"), c.p("rule"))?;
    Ok(Reply::Ok(shape::arm(rule_json(n, r))))
}

/// `PUT networkSecurityGroups/{nsg}/securityRules/{rule}` (az network nsg rule create).
pub fn put_rule(c: &mut Ctx) -> Result<Reply, ServiceError> {
    let body = c.body()?;
    let p = &body["properties"];
    let word = |k: &str| p[k].as_str().unwrap_or("");
    let access = match word("access") {
        a if a.eq_ignore_ascii_case("Allow") => RuleAccess::Allow,
        a if a.eq_ignore_ascii_case("Deny") => RuleAccess::Deny,
        a => {
            return Err(ServiceError::bad_request(
                "SecurityRuleInvalidAccess",
                format!("Security rule has invalid Access '{a}'. Allowed values: Allow, Deny."),
            ));
        }
    };
    let direction = match word("direction") {
        d if d.eq_ignore_ascii_case("Inbound") => RuleDirection::Inbound,
        d if d.eq_ignore_ascii_case("Outbound") => RuleDirection::Outbound,
        d => {
            return Err(ServiceError::bad_request(
                "SecurityRuleInvalidDirection",
                format!(
                    "Security rule has invalid Direction '{d}'. Allowed values: Inbound, Outbound."
                ),
            ));
        }
    };
    let priority = p["priority"].as_i64().ok_or_else(|| {
        ServiceError::bad_request(
            "SecurityRuleInvalidPriority",
            "Security rule has no valid Priority (100 to 4096).",
        )
    })?;
    let existed = net::rule(c.ws, c.p("rg"), c.p("nsg"), c.p("rule")).is_ok();
    let (rg, nsg) = (c.p("rg").to_string(), c.p("nsg").to_string());
    let (n, r) = net::create_rule(
        c.ws,
        &rg,
        &nsg,
        RuleSpec {
            name: c.p("rule").to_string(),
            priority,
            direction,
            access,
            protocol: p["protocol"].as_str().unwrap_or("*").to_string(),
            source_address_prefixes: text_list(p, "sourceAddressPrefix", "sourceAddressPrefixes"),
            source_port_ranges: text_list(p, "sourcePortRange", "sourcePortRanges"),
            destination_address_prefixes: text_list(
                p,
                "destinationAddressPrefix",
                "destinationAddressPrefixes",
            ),
            destination_port_ranges: text_list(p, "destinationPortRange", "destinationPortRanges"),
            description: p["description"].as_str().map(str::to_string),
        },
    )?;
    Ok(created(existed, shape::arm(rule_json(&n, &r))))
}

/// `DELETE networkSecurityGroups/{nsg}/securityRules/{rule}` (az network nsg rule delete).
pub fn delete_rule(c: &mut Ctx) -> Result<Reply, ServiceError> {
    if net::rule(c.ws, c.p("rg"), c.p("nsg"), c.p("rule")).is_err() {
        net::nsg(c.ws, c.p("rg"), c.p("nsg"))?;
        return Ok(Reply::NoContent);
    }
    let (rg, nsg, rule) = (
        c.p("rg").to_string(),
        c.p("nsg").to_string(),
        c.p("rule").to_string(),
    );
    net::delete_rule(c.ws, &rg, &nsg, &rule)?;
    Ok(Reply::Deleted)
}

// ---------------------------------------------------------------- route tables

fn route_table_view(c: &Ctx) -> Result<Value, ServiceError> {
    let t = net::route_table(c.ws, c.p("rg"), c.p("table"))?;
    Ok(arm_with(route_table_json(c.ws, t), &["routes"]))
}

pub fn show_route_table(c: &mut Ctx) -> Result<Reply, ServiceError> {
    Ok(Reply::Ok(route_table_view(c)?))
}

/// `PUT routeTables/{table}` (az network route-table create).
pub fn put_route_table(c: &mut Ctx) -> Result<Reply, ServiceError> {
    let body = c.body()?;
    let existed = net::route_table(c.ws, c.p("rg"), c.p("table")).is_ok();
    let (rg, name) = (c.p("rg").to_string(), c.p("table").to_string());
    net::create_route_table(
        c.ws,
        &rg,
        &name,
        body["location"].as_str(),
        body["properties"]["disableBgpRoutePropagation"].as_bool(),
        tags_of(&body),
    )?;
    Ok(created(existed, route_table_view(c)?))
}

/// `DELETE routeTables/{table}` (az network route-table delete).
pub fn delete_route_table(c: &mut Ctx) -> Result<Reply, ServiceError> {
    let existed = net::route_table(c.ws, c.p("rg"), c.p("table")).is_ok();
    let (rg, name) = (c.p("rg").to_string(), c.p("table").to_string());
    net::delete_route_table(c.ws, &rg, &name)?;
    Ok(if existed {
        Reply::Deleted
    } else {
        Reply::NoContent
    })
}

pub fn show_route(c: &mut Ctx) -> Result<Reply, ServiceError> {
    let (t, r) = net::route(c.ws, c.p("rg"), c.p("table"), c.p("route"))?;
    Ok(Reply::Ok(shape::arm(route_json(t, r))))
}

/// `PUT routeTables/{table}/routes/{route}` (az network route-table route create).
pub fn put_route(c: &mut Ctx) -> Result<Reply, ServiceError> {
    let body = c.body()?;
    let p = &body["properties"];
    let hop = match p["nextHopType"].as_str() {
        None => None,
        Some(h) => Some(
            *net::NEXT_HOP_TYPES
                .iter()
                .find(|t| t.eq_ignore_ascii_case(h))
                .ok_or_else(|| {
                    ServiceError::bad_request(
                        "InvalidRequestFormat",
                        format!(
                            "Cannot parse the request: '{h}' is not a next hop type ({}).",
                            net::NEXT_HOP_TYPES.join(", ")
                        ),
                    )
                })?,
        ),
    };
    let existed = net::route(c.ws, c.p("rg"), c.p("table"), c.p("route")).is_ok();
    let (rg, table, name) = (
        c.p("rg").to_string(),
        c.p("table").to_string(),
        c.p("route").to_string(),
    );
    let (t, r) = net::create_route(
        c.ws,
        &rg,
        &table,
        &name,
        p["addressPrefix"].as_str(),
        hop,
        p["nextHopIpAddress"].as_str(),
    )?;
    Ok(created(existed, shape::arm(route_json(&t, &r))))
}

/// `DELETE routeTables/{table}/routes/{route}` (az network route-table route delete).
pub fn delete_route(c: &mut Ctx) -> Result<Reply, ServiceError> {
    if net::route(c.ws, c.p("rg"), c.p("table"), c.p("route")).is_err() {
        net::route_table(c.ws, c.p("rg"), c.p("table"))?;
        return Ok(Reply::NoContent);
    }
    let (rg, table, name) = (
        c.p("rg").to_string(),
        c.p("table").to_string(),
        c.p("route").to_string(),
    );
    net::delete_route(c.ws, &rg, &table, &name)?;
    Ok(Reply::Deleted)
}

// ---------------------------------------------------------------- managed instances

/// `PUT managedInstances/{server}`: az sql mi create (a new instance in the delegated
/// subnet `properties.subnetId`, with its identities and `keyId`) or update (it exists):
/// the shell's `managed_instance::create_managed_instance` or `sql::update_server`. Azure
/// answers 202 and az polls ([`operations`]).
pub fn put_managed_instance(c: &mut Ctx) -> Result<Reply, ServiceError> {
    require_group(c)?;
    if c.ws.server(c.p("server")).is_some() {
        return super::sql::put_server(c);
    }
    let body = c.body()?;
    let props = &body["properties"];
    let identity = &body["identity"];
    let identities = ServerIdentities {
        identity_type: identity["type"]
            .as_str()
            .filter(|t| !t.eq_ignore_ascii_case("None"))
            .map(str::to_string),
        user_assigned: identity["userAssignedIdentities"]
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default(),
        primary: props["primaryUserAssignedIdentityId"]
            .as_str()
            .map(str::to_string),
        federated_client_id: None,
    };
    let text = |k: &str| {
        props[k]
            .as_str()
            .filter(|v| !v.trim().is_empty())
            .map(str::to_string)
            .ok_or_else(|| {
                ServiceError::bad_request(
                    "InvalidParameterValue",
                    format!(
                        "Invalid value given for parameter {k}. Specify a valid parameter value."
                    ),
                )
            })
    };
    let subnet_id = text("subnetId")?;
    let req = sql::CreateServer {
        name: c.p("server").to_string(),
        resource_group: c.p("rg").to_string(),
        location: body["location"].as_str().map(str::to_string),
        admin_user: text("administratorLogin")?,
        admin_password: text("administratorLoginPassword")?,
        assign_identity: identities
            .identity_type
            .as_deref()
            .is_some_and(|t| t.to_ascii_lowercase().contains("systemassigned")),
        kind: ServerKind::ManagedInstance,
    };
    sql::validate_create_server(c.ws, &req)?;
    let key = c
        .keys
        .generate(2048)
        .map_err(|e| ServiceError::new("InternalServerError", 500, e.to_string()))?;
    let s = mi::create_managed_instance(
        c.ws,
        &req,
        &subnet_id,
        &identities,
        props["keyId"].as_str().map(str::to_string),
        key,
    )?;
    Ok(operations::accepted(
        c,
        &s.location,
        operations::Change::Put,
    ))
}

/// `DELETE managedInstances/{server}` (az sql mi delete).
pub fn delete_managed_instance(c: &mut Ctx) -> Result<Reply, ServiceError> {
    require_group(c)?;
    let (name, rg) = (c.p("server").to_string(), c.p("rg").to_string());
    let Ok(s) = mi::managed_instance(c.ws, &name, &rg) else {
        return Ok(Reply::NoContent);
    };
    let location = s.location.clone();
    mi::delete_managed_instance(c.ws, &name, &rg)?;
    Ok(operations::accepted(
        c,
        &location,
        operations::Change::Delete,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sub_resources_get_their_own_envelope() {
        let v = arm_with(
            json!({"id": "/v", "name": "v", "subnets": [
                {"id": "/v/subnets/s", "name": "s", "addressPrefix": "10.0.0.0/24",
                 "delegations": [{"name": "0", "serviceName": "Microsoft.Sql/managedInstances"}]}
            ]}),
            &["subnets"],
        );
        let s = &v["properties"]["subnets"][0];
        assert_eq!(s["properties"]["addressPrefix"], "10.0.0.0/24");
        assert_eq!(
            s["properties"]["delegations"][0]["properties"]["serviceName"],
            "Microsoft.Sql/managedInstances"
        );
    }
}
