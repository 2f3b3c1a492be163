//! `az network nsg …`, `az network nsg rule …`, `az network route-table …`,
//! `az network route-table route …` and `az network vnet subnet update`: the network
//! security group and route table the Managed Instance procedure associates with its
//! subnet. Arguments and choices are azure-cli 2.91's (these commands are aaz-generated:
//! choices are matched case-insensitively and given back in Azure's spelling).

use super::args::Args;
use super::commands::{CmdResult, CommandError, usage};
use super::registry::Command;
use crate::model::*;
use crate::service::network::{self as net, RuleSpec, SubnetUpdate};
use serde_json::{Map, Value, json};

const NSG_ALIAS: &[(&str, &str)] = &[("--nsg", "--network-security-group")];

pub const COMMANDS: &[Command] = &[
    Command::new(
        "az network nsg create",
        "Create a network security group.",
        &[
            "--name",
            "--resource-group",
            "--location",
            "--tags",
            "--no-wait",
        ],
        |ws, _, _, a| {
            let tags = tags(a)?;
            let n = net::create_nsg(
                ws,
                &a.required("--resource-group")?,
                &a.required("--name")?,
                a.get("--location").as_deref(),
                tags,
            )?;
            Ok(json!({ "NewNSG": nsg_json(ws, &n) }))
        },
    ),
    Command::new(
        "az network nsg show",
        "Get information about a network security group.",
        &["--name", "--resource-group"],
        |ws, _, _, a| {
            let n = net::nsg(ws, &a.required("--resource-group")?, &a.required("--name")?)?;
            Ok(nsg_json(ws, n))
        },
    ),
    Command::new(
        "az network nsg list",
        "List network security groups.",
        &["--resource-group"],
        |ws, _, _, a| {
            let g = a.get("--resource-group");
            Ok(Value::Array(
                net::list_nsgs(ws, g.as_deref())?
                    .into_iter()
                    .map(|n| nsg_json(ws, n))
                    .collect(),
            ))
        },
    ),
    Command::new(
        "az network nsg delete",
        "Delete a network security group.",
        &["--name", "--resource-group", "--no-wait"],
        |ws, _, _, a| {
            net::delete_nsg(ws, &a.required("--resource-group")?, &a.required("--name")?)?;
            Ok(Value::Null)
        },
    ),
    Command::new(
        "az network nsg rule create",
        "Create a network security group rule.",
        &[
            "--name",
            "--nsg-name",
            "--priority",
            "--resource-group",
            "--access",
            "--description",
            "--direction",
            "--protocol",
            "--destination-address-prefixes",
            "--destination-port-ranges",
            "--source-address-prefixes",
            "--source-port-ranges",
            "--no-wait",
        ],
        rule_create,
    ),
    Command::new(
        "az network nsg rule show",
        "Get the details of a network security group rule.",
        &["--name", "--nsg-name", "--resource-group"],
        |ws, _, _, a| {
            let (n, r) = net::rule(
                ws,
                &a.required("--resource-group")?,
                &a.required("--nsg-name")?,
                &a.required("--name")?,
            )?;
            Ok(rule_json(n, r))
        },
    ),
    Command::new(
        "az network nsg rule list",
        "List all rules in a network security group.",
        &["--nsg-name", "--resource-group", "--include-default"],
        |ws, _, _, a| {
            let n = net::nsg(
                ws,
                &a.required("--resource-group")?,
                &a.required("--nsg-name")?,
            )?;
            let mut rules: Vec<Value> = n.rules.iter().map(|r| rule_json(n, r)).collect();
            if a.bool("--include-default")?.unwrap_or(false) {
                rules.extend(default_rules(n));
            }
            Ok(Value::Array(rules))
        },
    ),
    Command::new(
        "az network nsg rule delete",
        "Delete a network security group rule.",
        &["--name", "--nsg-name", "--resource-group", "--no-wait"],
        |ws, _, _, a| {
            net::delete_rule(
                ws,
                &a.required("--resource-group")?,
                &a.required("--nsg-name")?,
                &a.required("--name")?,
            )?;
            Ok(Value::Null)
        },
    ),
    Command::new(
        "az network route-table create",
        "Create a route table.",
        &[
            "--name",
            "--resource-group",
            "--location",
            "--disable-bgp-route-propagation",
            "--tags",
            "--no-wait",
        ],
        |ws, _, _, a| {
            let tags = tags(a)?;
            let bgp = aaz_bool(
                a,
                "az network route-table create",
                "--disable-bgp-route-propagation",
            )?;
            let t = net::create_route_table(
                ws,
                &a.required("--resource-group")?,
                &a.required("--name")?,
                a.get("--location").as_deref(),
                bgp,
                tags,
            )?;
            Ok(route_table_json(ws, &t))
        },
    ),
    Command::new(
        "az network route-table show",
        "Get the details of a route table.",
        &["--name", "--resource-group"],
        |ws, _, _, a| {
            let t = net::route_table(ws, &a.required("--resource-group")?, &a.required("--name")?)?;
            Ok(route_table_json(ws, t))
        },
    ),
    Command::new(
        "az network route-table list",
        "List route tables.",
        &["--resource-group"],
        |ws, _, _, a| {
            let g = a.get("--resource-group");
            Ok(Value::Array(
                net::list_route_tables(ws, g.as_deref())?
                    .into_iter()
                    .map(|t| route_table_json(ws, t))
                    .collect(),
            ))
        },
    ),
    Command::new(
        "az network route-table delete",
        "Delete a route table.",
        &["--name", "--resource-group", "--no-wait"],
        |ws, _, _, a| {
            net::delete_route_table(ws, &a.required("--resource-group")?, &a.required("--name")?)?;
            Ok(Value::Null)
        },
    ),
    Command::new(
        "az network route-table route create",
        "Create a route in a route table.",
        &[
            "--name",
            "--resource-group",
            "--route-table-name",
            "--address-prefix",
            "--next-hop-ip-address",
            "--next-hop-type",
            "--no-wait",
        ],
        route_create,
    ),
    Command::new(
        "az network route-table route show",
        "Get the details of a route in a route table.",
        &["--name", "--resource-group", "--route-table-name"],
        |ws, _, _, a| {
            let (t, r) = net::route(
                ws,
                &a.required("--resource-group")?,
                &a.required("--route-table-name")?,
                &a.required("--name")?,
            )?;
            Ok(route_json(t, r))
        },
    ),
    Command::new(
        "az network route-table route list",
        "List routes in a route table.",
        &["--resource-group", "--route-table-name"],
        |ws, _, _, a| {
            let t = net::route_table(
                ws,
                &a.required("--resource-group")?,
                &a.required("--route-table-name")?,
            )?;
            Ok(Value::Array(
                t.routes.iter().map(|r| route_json(t, r)).collect(),
            ))
        },
    ),
    Command::new(
        "az network route-table route delete",
        "Delete a route from a route table.",
        &[
            "--name",
            "--resource-group",
            "--route-table-name",
            "--no-wait",
        ],
        |ws, _, _, a| {
            net::delete_route(
                ws,
                &a.required("--resource-group")?,
                &a.required("--route-table-name")?,
                &a.required("--name")?,
            )?;
            Ok(Value::Null)
        },
    ),
    Command::new(
        "az network vnet subnet update",
        "Update a subnet.",
        &[
            "--name",
            "--resource-group",
            "--vnet-name",
            "--network-security-group",
            "--route-table",
            "--delegations",
            "--address-prefixes",
            "--no-wait",
        ],
        subnet_update,
    )
    .aliases(NSG_ALIAS),
];

/// `--tags key[=value] ...` as az takes them.
fn tags(a: &Args) -> Result<Vec<(String, String)>, CommandError> {
    Ok(a.list("--tags")
        .into_iter()
        .filter(|t| !t.is_empty())
        .map(|t| match t.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (t, String::new()),
        })
        .collect())
}

/// An aaz enum argument: matched case-insensitively, given back in Azure's spelling, or
/// az's own refusal naming the allowed values.
fn aaz_choice(
    a: &Args,
    command: &str,
    flag: &str,
    choices: &[&'static str],
) -> Result<Option<&'static str>, CommandError> {
    let Some(given) = a.get(flag) else {
        return Ok(None);
    };
    choices
        .iter()
        .find(|c| c.eq_ignore_ascii_case(&given))
        .map(|c| Some(*c))
        .ok_or_else(|| {
            usage(format!(
                "{command}: '{given}' is not a valid value for '{flag}'. Allowed values: {}.",
                choices.join(", ")
            ))
        })
}

/// An aaz Boolean argument (a bare flag is true).
fn aaz_bool(a: &Args, command: &str, flag: &str) -> Result<Option<bool>, CommandError> {
    let Some(values) = a.get_all(flag) else {
        return Ok(None);
    };
    if values.is_empty() {
        return Ok(Some(true));
    }
    let given = values.join(" ");
    match given.to_ascii_lowercase().as_str() {
        "true" | "t" | "yes" | "y" | "1" => Ok(Some(true)),
        "false" | "f" | "no" | "n" | "0" => Ok(Some(false)),
        _ => Err(usage(format!(
            "{command}: '{given}' is not a valid value for '{flag}'. Allowed values: true, t, yes, y, 1, false, f, no, n, 0."
        ))),
    }
}

fn list_or(a: &Args, flag: &str, default: &str) -> Vec<String> {
    match a.get_all(flag) {
        Some(v) if !v.is_empty() => v,
        _ => vec![default.to_string()],
    }
}

fn rule_create(
    ws: &mut Workspace,
    _: &dyn crate::service::KeySource,
    cmd: &str,
    a: &mut Args,
) -> CmdResult {
    let group = a.required("--resource-group")?;
    let nsg_name = a.required("--nsg-name")?;
    let name = a.required("--name")?;
    let priority_text = a.required("--priority")?;
    let priority: i64 = priority_text.trim().parse().map_err(|_| {
        usage(format!(
            "Failed to parse '--priority' argument: invalid literal for int() with base 10: '{priority_text}'"
        ))
    })?;
    let access = match aaz_choice(a, cmd, "--access", &["Allow", "Deny"])? {
        Some("Deny") => RuleAccess::Deny,
        _ => RuleAccess::Allow,
    };
    let direction = match aaz_choice(a, cmd, "--direction", &["Inbound", "Outbound"])? {
        Some("Outbound") => RuleDirection::Outbound,
        _ => RuleDirection::Inbound,
    };
    let protocol = aaz_choice(
        a,
        cmd,
        "--protocol",
        &["*", "Ah", "Esp", "Icmp", "Tcp", "Udp"],
    )?
    .unwrap_or("*");
    let (n, r) = net::create_rule(
        ws,
        &group,
        &nsg_name,
        RuleSpec {
            name,
            priority,
            direction,
            access,
            protocol: protocol.to_string(),
            source_address_prefixes: list_or(a, "--source-address-prefixes", "*"),
            source_port_ranges: list_or(a, "--source-port-ranges", "*"),
            destination_address_prefixes: list_or(a, "--destination-address-prefixes", "*"),
            destination_port_ranges: list_or(a, "--destination-port-ranges", "80"),
            description: a.get("--description"),
        },
    )?;
    Ok(rule_json(&n, &r))
}

fn route_create(
    ws: &mut Workspace,
    _: &dyn crate::service::KeySource,
    cmd: &str,
    a: &mut Args,
) -> CmdResult {
    let hop = aaz_choice(a, cmd, "--next-hop-type", net::NEXT_HOP_TYPES)?;
    let (t, r) = net::create_route(
        ws,
        &a.required("--resource-group")?,
        &a.required("--route-table-name")?,
        &a.required("--name")?,
        a.get("--address-prefix").as_deref(),
        hop,
        a.get("--next-hop-ip-address").as_deref(),
    )?;
    Ok(route_json(&t, &r))
}

/// `null` (or an empty value) detaches, as az documents.
fn association(a: &Args, flag: &str) -> Option<Option<String>> {
    a.get_all(flag).map(|v| {
        let v = v.join(" ");
        (!(v.is_empty() || v.eq_ignore_ascii_case("null") || v == "\"\"")).then_some(v)
    })
}

fn subnet_update(
    ws: &mut Workspace,
    _: &dyn crate::service::KeySource,
    _: &str,
    a: &mut Args,
) -> CmdResult {
    let change = SubnetUpdate {
        network_security_group: association(a, "--network-security-group"),
        route_table: association(a, "--route-table"),
        delegations: a.get_all("--delegations").map(|d| {
            d.into_iter()
                .filter(|x| !x.is_empty() && !x.eq_ignore_ascii_case("null"))
                .collect()
        }),
        address_prefix: a
            .get_all("--address-prefixes")
            .and_then(|p| p.first().cloned()),
    };
    let (v, s) = net::update_subnet(
        ws,
        &a.required("--resource-group")?,
        &a.required("--vnet-name")?,
        &a.required("--name")?,
        &change,
    )?;
    Ok(super::managed_instance::subnet_json(&v, &s))
}

fn tags_json(tags: &[(String, String)]) -> Value {
    Value::Object(
        tags.iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect::<Map<String, Value>>(),
    )
}

/// The subnets associated with a resource (by its id), as ARM lists them.
fn subnets_using(ws: &Workspace, id: &str, of: fn(&Subnet) -> &Option<String>) -> Vec<Value> {
    ws.networks
        .iter()
        .flat_map(|v| {
            v.subnets
                .iter()
                .filter(|s| of(s).as_deref().is_some_and(|x| x.eq_ignore_ascii_case(id)))
                .map(|s| json!({"id": v.subnet_id(&s.name), "resourceGroup": v.resource_group}))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// A list as ARM gives it: one value in the singular property, several in the plural one.
fn one_or_many(v: &mut Map<String, Value>, singular: &str, plural: &str, items: &[String]) {
    match items {
        [one] => {
            v.insert(singular.into(), json!(one));
            v.insert(plural.into(), json!([]));
        }
        many => {
            v.insert(plural.into(), json!(many));
        }
    }
}

pub(crate) fn rule_json(n: &NetworkSecurityGroup, r: &SecurityRule) -> Value {
    let mut v = Map::new();
    v.insert("access".into(), json!(format!("{:?}", r.access)));
    if let Some(d) = &r.description {
        v.insert("description".into(), json!(d));
    }
    one_or_many(
        &mut v,
        "destinationAddressPrefix",
        "destinationAddressPrefixes",
        &r.destination_address_prefixes,
    );
    one_or_many(
        &mut v,
        "destinationPortRange",
        "destinationPortRanges",
        &r.destination_port_ranges,
    );
    v.insert("direction".into(), json!(format!("{:?}", r.direction)));
    v.insert(
        "id".into(),
        json!(format!("{}/securityRules/{}", n.arm_id(), r.name)),
    );
    v.insert("name".into(), json!(r.name));
    v.insert("priority".into(), json!(r.priority));
    v.insert("protocol".into(), json!(r.protocol));
    v.insert("provisioningState".into(), json!("Succeeded"));
    v.insert("resourceGroup".into(), json!(n.resource_group));
    one_or_many(
        &mut v,
        "sourceAddressPrefix",
        "sourceAddressPrefixes",
        &r.source_address_prefixes,
    );
    one_or_many(
        &mut v,
        "sourcePortRange",
        "sourcePortRanges",
        &r.source_port_ranges,
    );
    v.insert(
        "type".into(),
        json!("Microsoft.Network/networkSecurityGroups/securityRules"),
    );
    Value::Object(v)
}

/// The six rules every NSG has below the user's (priorities 65000-65500).
fn default_rules(n: &NetworkSecurityGroup) -> Vec<Value> {
    [
        (
            "AllowVnetInBound",
            65000,
            "Inbound",
            "Allow",
            "VirtualNetwork",
            "VirtualNetwork",
            "Allow inbound traffic from all VMs in VNET",
        ),
        (
            "AllowAzureLoadBalancerInBound",
            65001,
            "Inbound",
            "Allow",
            "AzureLoadBalancer",
            "*",
            "Allow inbound traffic from azure load balancer",
        ),
        (
            "DenyAllInBound",
            65500,
            "Inbound",
            "Deny",
            "*",
            "*",
            "Deny all inbound traffic",
        ),
        (
            "AllowVnetOutBound",
            65000,
            "Outbound",
            "Allow",
            "VirtualNetwork",
            "VirtualNetwork",
            "Allow outbound traffic from all VMs to all VMs in VNET",
        ),
        (
            "AllowInternetOutBound",
            65001,
            "Outbound",
            "Allow",
            "*",
            "Internet",
            "Allow outbound traffic from all VMs to Internet",
        ),
        (
            "DenyAllOutBound",
            65500,
            "Outbound",
            "Deny",
            "*",
            "*",
            "Deny all outbound traffic",
        ),
    ]
    .into_iter()
    .map(
        |(name, priority, direction, access, source, destination, description)| {
            json!({
                "access": access,
                "description": description,
                "destinationAddressPrefix": destination,
                "destinationAddressPrefixes": [],
                "destinationPortRange": "*",
                "destinationPortRanges": [],
                "direction": direction,
                "id": format!("{}/defaultSecurityRules/{name}", n.arm_id()),
                "name": name,
                "priority": priority,
                "protocol": "*",
                "provisioningState": "Succeeded",
                "resourceGroup": n.resource_group,
                "sourceAddressPrefix": source,
                "sourceAddressPrefixes": [],
                "sourcePortRange": "*",
                "sourcePortRanges": [],
                "type": "Microsoft.Network/networkSecurityGroups/defaultSecurityRules"
            })
        },
    )
    .collect()
}

pub(crate) fn nsg_json(ws: &Workspace, n: &NetworkSecurityGroup) -> Value {
    let id = n.arm_id();
    json!({
        "defaultSecurityRules": default_rules(n),
        "id": id,
        "location": n.location,
        "name": n.name,
        "provisioningState": "Succeeded",
        "resourceGroup": n.resource_group,
        "securityRules": n.rules.iter().map(|r| rule_json(n, r)).collect::<Vec<_>>(),
        "subnets": subnets_using(ws, &id, |s| &s.network_security_group),
        "tags": tags_json(&n.tags),
        "type": "Microsoft.Network/networkSecurityGroups"
    })
}

pub(crate) fn route_json(t: &RouteTable, r: &Route) -> Value {
    let mut v = json!({
        "addressPrefix": r.address_prefix,
        "id": format!("{}/routes/{}", t.arm_id(), r.name),
        "name": r.name,
        "nextHopType": r.next_hop_type,
        "provisioningState": "Succeeded",
        "resourceGroup": t.resource_group,
        "type": "Microsoft.Network/routeTables/routes"
    });
    if let Some(ip) = &r.next_hop_ip_address {
        v["nextHopIpAddress"] = json!(ip);
    }
    v
}

pub(crate) fn route_table_json(ws: &Workspace, t: &RouteTable) -> Value {
    let id = t.arm_id();
    json!({
        "disableBgpRoutePropagation": t.disable_bgp_route_propagation,
        "id": id,
        "location": t.location,
        "name": t.name,
        "provisioningState": "Succeeded",
        "resourceGroup": t.resource_group,
        "routes": t.routes.iter().map(|r| route_json(t, r)).collect::<Vec<_>>(),
        "subnets": subnets_using(ws, &id, |s| &s.route_table),
        "tags": tags_json(&t.tags),
        "type": "Microsoft.Network/routeTables"
    })
}
