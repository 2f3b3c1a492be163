//! `az sql mi …`, `az sql midb …` and the network prerequisites of the documented Managed
//! Instance procedure (`az network vnet create`, `az network vnet subnet create
//! --delegations Microsoft.Sql/managedInstances`). An instance's keys, TDE protector and
//! databases run the logical server's operations (see [`crate::service::managed_instance`]);
//! their output is relabelled as the managed instance's resources.

use super::args::Args;
use super::commands::{CmdResult, usage};
use super::registry::Command;
use super::views;
use crate::model::*;
use crate::service::identity::ServerIdentities;
use crate::service::managed_instance as mi;
use crate::service::{KeySource, ServiceError, sql};
use serde_json::{Value, json};

/// `az sql mi create`: what the instance is made of, then the sizing and networking
/// options, which are accepted and not simulated.
const MI_CREATE_ARGS: &[&str] = &[
    "--name",
    "--resource-group",
    "--location",
    "--admin-user",
    "--admin-password",
    "--subnet",
    "--vnet-name",
    "--assign-identity",
    "--identity-type",
    "--user-assigned-identity-id",
    "--primary-user-assigned-identity-id",
    "--key-id",
    "--license-type",
    "--capacity",
    "--storage",
    "--edition",
    "--tier",
    "--family",
    "--no-wait",
    "--public-data-endpoint-enabled",
    "--minimal-tls-version",
    "--timezone-id",
    "--collation",
    "--proxy-override",
    "--backup-storage-redundancy",
    "--bsr",
    "--zone-redundant",
    "--tags",
    "--yes",
    "--maint-config-id",
];

/// `--mi` is `--managed-instance`.
const MI: &[(&str, &str)] = &[("--mi", "--managed-instance")];

pub const COMMANDS: &[Command] = &[
    Command::new(
        "az network vnet create",
        "Create a virtual network.",
        &[
            "--name",
            "--resource-group",
            "--location",
            "--address-prefixes",
            "--address-prefix",
            "--subnet-name",
            "--subnet-prefixes",
            "--subnet-prefix",
        ],
        |ws, _, _, a| vnet_create(ws, a),
    ),
    Command::new(
        "az network vnet subnet create",
        "Create a subnet and associate an existing NSG and route table.",
        &[
            "--name",
            "--resource-group",
            "--vnet-name",
            "--address-prefixes",
            "--address-prefix",
            "--delegations",
            "--network-security-group",
            "--route-table",
            "--no-wait",
        ],
        |ws, _, _, a| subnet_create(ws, a),
    )
    .aliases(&[("--nsg", "--network-security-group")]),
    Command::new(
        "az sql mi create",
        "Create a managed instance.",
        MI_CREATE_ARGS,
        |ws, keys, _, a| mi_create(ws, keys, a),
    )
    .aliases(MI),
    Command::new(
        "az sql mi update",
        "Update a managed instance.",
        &[
            "--name",
            "--resource-group",
            "--assign-identity",
            "--identity-type",
            "--user-assigned-identity-id",
            "--primary-user-assigned-identity-id",
        ],
        |ws, _, _, a| mi_update(ws, a),
    )
    .aliases(MI),
    Command::new(
        "az sql midb list",
        "List managed databases on a managed instance.",
        &["--managed-instance", "--resource-group"],
        |ws, keys, _, a| delegate(ws, keys, a, &["sql", "db", "list"], &[], midb_json),
    )
    .aliases(MI),
    Command::new(
        "az network vnet show",
        "Get the details of a virtual network.",
        &["--name", "--resource-group"],
        |ws, _, _, a| {
            let v = mi::vnet(ws, &a.required("--resource-group")?, &a.required("--name")?)?;
            Ok(vnet_json(v))
        },
    ),
    Command::new(
        "az network vnet list",
        "List virtual networks.",
        &["--resource-group"],
        |ws, _, _, a| {
            Ok({
                let g = a.get("--resource-group");
                Value::Array(
                    ws.networks
                        .iter()
                        .filter(|v| v.subscription == ws.current_subscription)
                        .filter(|v| {
                            g.as_ref()
                                .is_none_or(|g| v.resource_group.eq_ignore_ascii_case(g))
                        })
                        .map(vnet_json)
                        .collect(),
                )
            })
        },
    ),
    Command::new(
        "az network vnet subnet show",
        "Show details of a subnet.",
        &["--name", "--resource-group", "--vnet-name"],
        |ws, _, _, a| {
            let v = mi::vnet(
                ws,
                &a.required("--resource-group")?,
                &a.required("--vnet-name")?,
            )?;
            let name = a.required("--name")?;
            let s = v
                .subnets
                .iter()
                .find(|s| s.name.eq_ignore_ascii_case(&name))
                .ok_or_else(|| {
                    ServiceError::not_found(
                        "NotFound",
                        format!("Resource {}/subnets/{name} not found.", v.arm_id()),
                    )
                })?;
            Ok(subnet_json(v, s))
        },
    ),
    Command::new(
        "az sql mi show",
        "Get the details for a managed instance.",
        &["--name", "--resource-group"],
        |ws, _, _, a| {
            let s =
                mi::managed_instance(ws, &a.required("--name")?, &a.required("--resource-group")?)?;
            Ok(mi_json(ws, s))
        },
    )
    .aliases(MI),
    Command::new(
        "az sql mi list",
        "List available managed instances.",
        &["--resource-group"],
        |ws, _, _, a| {
            Ok({
                let g = a.get("--resource-group");
                Value::Array(
                    ws.servers
                        .iter()
                        .filter(|s| {
                            s.kind == ServerKind::ManagedInstance
                                && s.subscription == ws.current_subscription
                        })
                        .filter(|s| {
                            g.as_ref()
                                .is_none_or(|g| s.resource_group.eq_ignore_ascii_case(g))
                        })
                        .map(|s| mi_json(ws, s))
                        .collect(),
                )
            })
        },
    )
    .aliases(MI),
    Command::new(
        "az sql mi delete",
        "Delete a managed instance.",
        &["--name", "--resource-group", "--yes", "--no-wait"],
        |ws, _, _, a| {
            mi::delete_managed_instance(
                ws,
                &a.required("--name")?,
                &a.required("--resource-group")?,
            )?;
            Ok(Value::Null)
        },
    )
    .aliases(MI),
    Command::new(
        "az sql mi key create",
        "Creates a managed instance key.",
        &["--managed-instance", "--resource-group", "--kid"],
        instance_key,
    )
    .aliases(MI),
    Command::new(
        "az sql mi key show",
        "Gets a managed instance key.",
        &["--managed-instance", "--resource-group", "--kid"],
        instance_key,
    )
    .aliases(MI),
    Command::new(
        "az sql mi key list",
        "Gets a list of managed instance keys.",
        &["--managed-instance", "--resource-group", "--kid"],
        instance_key,
    )
    .aliases(MI),
    Command::new(
        "az sql mi key delete",
        "Deletes the managed instance key with the given name.",
        &["--managed-instance", "--resource-group", "--kid"],
        instance_key,
    )
    .aliases(MI),
    Command::new(
        "az sql mi tde-key set",
        "Sets the managed instance's TDE protector.",
        &[
            "--managed-instance",
            "--resource-group",
            "--server-key-type",
            "--kid",
            "--auto-rotation-enabled",
        ],
        instance_protector,
    )
    .aliases(MI),
    Command::new(
        "az sql mi tde-key show",
        "Gets a managed instance's TDE protector.",
        &[
            "--managed-instance",
            "--resource-group",
            "--server-key-type",
            "--kid",
            "--auto-rotation-enabled",
        ],
        instance_protector,
    )
    .aliases(MI),
    Command::new(
        "az sql midb create",
        "Create a managed database.",
        MIDB_ARGS,
        instance_database,
    )
    .aliases(MI),
    Command::new(
        "az sql midb show",
        "Get the details for a managed database.",
        MIDB_ARGS,
        instance_database,
    )
    .aliases(MI),
    Command::new(
        "az sql midb delete",
        "Delete a managed database.",
        MIDB_ARGS,
        instance_database,
    )
    .aliases(MI),
];

/// Runs the logical server's command for the instance named by `--managed-instance`, with
/// the flags in `pass` passed on, and relabels its output.
fn delegate(
    ws: &mut Workspace,
    keys: &dyn KeySource,
    a: &mut Args,
    words: &[&str],
    pass: &[&str],
    relabel_each: fn(Value) -> Value,
) -> CmdResult {
    let name = a.required("--managed-instance")?;
    let group = a.required("--resource-group")?;
    mi::managed_instance(ws, &name, &group)?;
    let mut line: Vec<String> = std::iter::once("az")
        .chain(words.iter().copied())
        .map(String::from)
        .collect();
    line.extend(["--server".into(), name, "--resource-group".into(), group]);
    for flag in pass {
        if let Some(values) = a.get_all(flag) {
            line.push(flag.to_string());
            line.extend(values);
        }
    }
    Ok(match super::registry::run(ws, keys, &line)? {
        Value::Array(items) => Value::Array(items.into_iter().map(relabel_each).collect()),
        Value::Null => Value::Null,
        other => relabel_each(other),
    })
}

/// The last word of a command (`create` of `az sql mi key create`).
fn verb(cmd: &str) -> &str {
    cmd.rsplit(' ').next().unwrap_or_default()
}

/// `az sql mi key VERB`: the server-key command of the same verb, on the instance.
fn instance_key(ws: &mut Workspace, keys: &dyn KeySource, cmd: &str, a: &mut Args) -> CmdResult {
    delegate(
        ws,
        keys,
        a,
        &["sql", "server", "key", verb(cmd)],
        &["--kid"],
        |v| relabel(v, "Microsoft.Sql/managedInstances/keys"),
    )
}

/// `az sql mi tde-key VERB`: the server's protector command of the same verb.
fn instance_protector(
    ws: &mut Workspace,
    keys: &dyn KeySource,
    cmd: &str,
    a: &mut Args,
) -> CmdResult {
    delegate(
        ws,
        keys,
        a,
        &["sql", "server", "tde-key", verb(cmd)],
        &["--server-key-type", "--kid", "--auto-rotation-enabled"],
        |v| relabel(v, "Microsoft.Sql/managedInstances/encryptionProtector"),
    )
}

/// `az sql midb create|show|delete` take these (`--collation` is the create's, stored).
const MIDB_ARGS: &[&str] = &[
    "--managed-instance",
    "--resource-group",
    "--name",
    "--yes",
    "--no-wait",
    "--collation",
];

/// `az sql midb VERB`: the database command of the same verb, on the instance.
fn instance_database(
    ws: &mut Workspace,
    keys: &dyn KeySource,
    cmd: &str,
    a: &mut Args,
) -> CmdResult {
    // The collation is the create's (stored on the database and shown).
    let pass: &[&str] = if verb(cmd) == "create" {
        &["--name", "--yes", "--no-wait", "--collation"]
    } else {
        a.take("--collation");
        &["--name", "--yes", "--no-wait"]
    };
    delegate(ws, keys, a, &["sql", "db", verb(cmd)], pass, midb_json)
}

/// An instance's sub-resource: its id and type as Azure names them.
fn relabel(mut v: Value, kind: &str) -> Value {
    if let Some(id) = v.get("id").and_then(Value::as_str) {
        let id = id.replace(
            "/providers/Microsoft.Sql/servers/",
            "/providers/Microsoft.Sql/managedInstances/",
        );
        v["id"] = json!(id);
    }
    if v.get("type").is_some() {
        v["type"] = json!(kind);
    }
    v
}

fn midb_json(v: Value) -> Value {
    json!({
        "collation": v["collation"],
        "creationDate": v["creationDate"],
        "id": relabel(v.clone(), "")["id"],
        "location": v["location"],
        "name": v["name"],
        "resourceGroup": v["resourceGroup"],
        "status": v["status"],
        "type": "Microsoft.Sql/managedInstances/databases",
    })
}

pub(crate) fn vnet_json(v: &VirtualNetwork) -> Value {
    json!({
        "addressSpace": {"addressPrefixes": v.address_prefixes},
        "id": v.arm_id(),
        "location": v.location,
        "name": v.name,
        "provisioningState": "Succeeded",
        "resourceGroup": v.resource_group,
        "subnets": v.subnets.iter().map(|s| subnet_json(v, s)).collect::<Vec<_>>(),
        "type": "Microsoft.Network/virtualNetworks"
    })
}

pub(crate) fn subnet_json(v: &VirtualNetwork, s: &Subnet) -> Value {
    let mut out = json!({
        "addressPrefix": s.address_prefix,
        "delegations": s.delegations.iter().map(|d| json!({
            "name": "0",
            "serviceName": d,
            "type": "Microsoft.Network/virtualNetworks/subnets/delegations"
        })).collect::<Vec<_>>(),
        "id": v.subnet_id(&s.name),
        "name": s.name,
        "provisioningState": "Succeeded",
        "resourceGroup": v.resource_group,
        "type": "Microsoft.Network/virtualNetworks/subnets"
    });
    if let Some(id) = &s.network_security_group {
        out["networkSecurityGroup"] = json!({"id": id, "resourceGroup": v.resource_group});
    }
    if let Some(id) = &s.route_table {
        out["routeTable"] = json!({"id": id, "resourceGroup": v.resource_group});
    }
    out
}

pub(crate) fn mi_json(ws: &Workspace, s: &SqlServer) -> Value {
    let mut v = views::server(ws, s);
    // An instance's host name carries its DNS zone (here derived from its name).
    let zone = s
        .name
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(b as u32));
    v["fullyQualifiedDomainName"] = json!(format!("{}.{zone:08x}.database.windows.net", s.name));
    v["subnetId"] = json!(s.subnet_id);
    v["licenseType"] = json!("LicenseIncluded");
    v["provisioningState"] = json!("Succeeded");
    v["sku"] =
        json!({"capacity": 8, "family": "Gen5", "name": "GP_Gen5", "tier": "GeneralPurpose"});
    v["storageSizeInGb"] = json!(256);
    v["vCores"] = json!(8);
    v
}

fn vnet_create(ws: &mut Workspace, a: &mut Args) -> CmdResult {
    let group = a.required("--resource-group")?;
    let name = a.required("--name")?;
    let mut prefixes = a.list("--address-prefixes");
    prefixes.extend(a.list("--address-prefix"));
    mi::create_vnet(ws, &name, &group, a.get("--location").as_deref(), &prefixes)?;
    if let Some(subnet) = a.get("--subnet-name") {
        let prefix = a
            .get("--subnet-prefixes")
            .or_else(|| a.get("--subnet-prefix"))
            .unwrap_or_else(|| "10.0.0.0/24".into());
        mi::create_subnet(ws, &group, &name, &subnet, &prefix, &[], (None, None))?;
    }
    Ok(json!({"newVNet": vnet_json(mi::vnet(ws, &group, &name)?)}))
}

fn subnet_create(ws: &mut Workspace, a: &mut Args) -> CmdResult {
    let prefix = a
        .get("--address-prefixes")
        .or_else(|| a.get("--address-prefix"))
        .ok_or_else(|| usage("the following arguments are required: --address-prefixes"))?;
    let (v, s) = mi::create_subnet(
        ws,
        &a.required("--resource-group")?,
        &a.required("--vnet-name")?,
        &a.required("--name")?,
        &prefix,
        &a.list("--delegations"),
        (
            a.get("--network-security-group").as_deref(),
            a.get("--route-table").as_deref(),
        ),
    )?;
    Ok(subnet_json(&v, &s))
}

fn identities(a: &Args) -> ServerIdentities {
    ServerIdentities {
        identity_type: a.get("--identity-type"),
        user_assigned: a.list("--user-assigned-identity-id"),
        primary: a.get("--primary-user-assigned-identity-id"),
        federated_client_id: None,
    }
}

fn mi_create(ws: &mut Workspace, keys: &dyn KeySource, a: &mut Args) -> CmdResult {
    // Sizing and placement flags of the documented procedure: accepted, not simulated.
    let group = a.required("--resource-group")?;
    let subnet = a.required("--subnet")?;
    // --subnet is an id, or a name with --vnet-name.
    let subnet_id = match a.get("--vnet-name") {
        Some(vnet) => mi::vnet(ws, &group, &vnet)?.subnet_id(&subnet),
        None => subnet,
    };
    let req = sql::CreateServer {
        name: a.required("--name")?,
        resource_group: group,
        location: a.get("--location"),
        admin_user: a.required("--admin-user")?,
        admin_password: a.required("--admin-password")?,
        assign_identity: a.bool("--assign-identity")?.unwrap_or(false),
        kind: ServerKind::ManagedInstance,
    };
    sql::validate_create_server(ws, &req)?;
    let key = keys
        .generate(2048)
        .map_err(|e| ServiceError::new("InternalServerError", 500, e.to_string()))?;
    let s =
        mi::create_managed_instance(ws, &req, &subnet_id, &identities(a), a.get("--key-id"), key)?;
    Ok(mi_json(ws, &s))
}

fn mi_update(ws: &mut Workspace, a: &mut Args) -> CmdResult {
    let name = a.required("--name")?;
    let group = a.required("--resource-group")?;
    mi::managed_instance(ws, &name, &group)?;
    let ids = identities(a);
    let assign = a.bool("--assign-identity")?.unwrap_or(false);
    let s = sql::update_server(ws, &name, &ids, assign, a.get("--key-id").as_deref())?;
    Ok(mi_json(ws, &s))
}
