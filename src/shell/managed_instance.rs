//! `az sql mi …`, `az sql midb …` and the network prerequisites of the documented Managed
//! Instance procedure (`az network vnet create`, `az network vnet subnet create
//! --delegations Microsoft.Sql/managedInstances`). An instance's keys, TDE protector and
//! databases run the logical server's operations (see [`crate::service::managed_instance`]);
//! their output is relabelled as the managed instance's resources.

use super::args::Args;
use super::commands::{self, CmdResult, usage};
use super::views;
use crate::model::*;
use crate::service::identity::ServerIdentities;
use crate::service::managed_instance as mi;
use crate::service::{KeySource, ServiceError, sql};
use serde_json::{Value, json};

pub const COMMANDS: &[&str] = &[
    "az network vnet create",
    "az network vnet show",
    "az network vnet list",
    "az network vnet subnet create",
    "az network vnet subnet show",
    "az sql mi create",
    "az sql mi show",
    "az sql mi list",
    "az sql mi update",
    "az sql mi delete",
    "az sql mi key create",
    "az sql mi key show",
    "az sql mi key list",
    "az sql mi key delete",
    "az sql mi tde-key set",
    "az sql mi tde-key show",
    "az sql midb create",
    "az sql midb show",
    "az sql midb list",
    "az sql midb delete",
];

pub fn run(ws: &mut Workspace, keys: &dyn KeySource, cmd: &str, a: &mut Args) -> Option<CmdResult> {
    a.rename("--mi", "--managed-instance");
    Some(match cmd {
        "az network vnet create" => vnet_create(ws, a),
        "az network vnet show" => a
            .check_known(&["--name", "--resource-group"])
            .map_err(Into::into)
            .and_then(|()| {
                let v = mi::vnet(ws, &a.required("--resource-group")?, &a.required("--name")?)?;
                Ok(vnet_json(v))
            }),
        "az network vnet list" => a
            .check_known(&["--resource-group"])
            .map_err(Into::into)
            .map(|()| {
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
            }),
        "az network vnet subnet create" => subnet_create(ws, a),
        "az network vnet subnet show" => a
            .check_known(&["--name", "--resource-group", "--vnet-name"])
            .map_err(Into::into)
            .and_then(|()| {
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
            }),
        "az sql mi create" => mi_create(ws, keys, a),
        "az sql mi show" => a
            .check_known(&["--name", "--resource-group"])
            .map_err(Into::into)
            .and_then(|()| {
                let s = mi::managed_instance(
                    ws,
                    &a.required("--name")?,
                    &a.required("--resource-group")?,
                )?;
                Ok(mi_json(ws, s))
            }),
        "az sql mi list" => a
            .check_known(&["--resource-group"])
            .map_err(Into::into)
            .map(|()| {
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
            }),
        "az sql mi update" => mi_update(ws, a),
        "az sql mi delete" => a
            .check_known(&["--name", "--resource-group", "--yes", "--no-wait"])
            .map_err(Into::into)
            .and_then(|()| {
                mi::delete_managed_instance(
                    ws,
                    &a.required("--name")?,
                    &a.required("--resource-group")?,
                )?;
                Ok(Value::Null)
            }),
        "az sql mi key create"
        | "az sql mi key show"
        | "az sql mi key list"
        | "az sql mi key delete" => {
            let verb = cmd.rsplit(' ').next().unwrap_or_default();
            delegate(
                ws,
                keys,
                a,
                &["sql", "server", "key", verb],
                &["--kid"],
                |v| relabel(v, "Microsoft.Sql/managedInstances/keys"),
            )
        }
        "az sql mi tde-key set" | "az sql mi tde-key show" => {
            let verb = cmd.rsplit(' ').next().unwrap_or_default();
            delegate(
                ws,
                keys,
                a,
                &["sql", "server", "tde-key", verb],
                &["--server-key-type", "--kid", "--auto-rotation-enabled"],
                |v| relabel(v, "Microsoft.Sql/managedInstances/encryptionProtector"),
            )
        }
        "az sql midb create" | "az sql midb show" | "az sql midb delete" => {
            let verb = cmd.rsplit(' ').next().unwrap_or_default();
            a.take("--collation");
            delegate(
                ws,
                keys,
                a,
                &["sql", "db", verb],
                &["--name", "--yes", "--no-wait"],
                midb_json,
            )
        }
        "az sql midb list" => delegate(ws, keys, a, &["sql", "db", "list"], &[], midb_json),
        _ => return None,
    })
}

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
    let mut known = vec!["--managed-instance", "--resource-group"];
    known.extend_from_slice(pass);
    a.check_known(&known)?;
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
    Ok(match commands::run(ws, keys, &line)? {
        Value::Array(items) => Value::Array(items.into_iter().map(relabel_each).collect()),
        Value::Null => Value::Null,
        other => relabel_each(other),
    })
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
        "collation": "SQL_Latin1_General_CP1_CI_AS",
        "creationDate": v["creationDate"],
        "id": relabel(v.clone(), "")["id"],
        "location": v["location"],
        "name": v["name"],
        "resourceGroup": v["resourceGroup"],
        "status": v["status"],
        "type": "Microsoft.Sql/managedInstances/databases",
    })
}

fn vnet_json(v: &VirtualNetwork) -> Value {
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

fn subnet_json(v: &VirtualNetwork, s: &Subnet) -> Value {
    json!({
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
    })
}

fn mi_json(ws: &Workspace, s: &SqlServer) -> Value {
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
    a.check_known(&[
        "--name",
        "--resource-group",
        "--location",
        "--address-prefixes",
        "--address-prefix",
        "--subnet-name",
        "--subnet-prefixes",
        "--subnet-prefix",
    ])?;
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
        mi::create_subnet(ws, &group, &name, &subnet, &prefix, &[])?;
    }
    Ok(json!({"newVNet": vnet_json(mi::vnet(ws, &group, &name)?)}))
}

fn subnet_create(ws: &mut Workspace, a: &mut Args) -> CmdResult {
    a.check_known(&[
        "--name",
        "--resource-group",
        "--vnet-name",
        "--address-prefixes",
        "--address-prefix",
        "--delegations",
    ])?;
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
    for ignored in [
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
    ] {
        a.take(ignored);
    }
    a.check_known(&[
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
    ])?;
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
    a.check_known(&[
        "--name",
        "--resource-group",
        "--assign-identity",
        "--identity-type",
        "--user-assigned-identity-id",
        "--primary-user-assigned-identity-id",
    ])?;
    let name = a.required("--name")?;
    let group = a.required("--resource-group")?;
    mi::managed_instance(ws, &name, &group)?;
    let ids = identities(a);
    let assign = a.bool("--assign-identity")?.unwrap_or(false);
    let s = if ids.identity_type.is_some() || !ids.user_assigned.is_empty() || ids.primary.is_some()
    {
        crate::service::identity::set_server_identities(ws, &name, &ids, assign)?
    } else if assign {
        sql::assign_identity(ws, &name)?
    } else {
        sql::server(ws, &name)?.clone()
    };
    Ok(mi_json(ws, &s))
}
