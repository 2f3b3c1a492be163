//! Subscriptions and resource groups as `az account` and `az group` show them, and
//! `sim subscription create` to add a subscription to the tenant. `--subscription` on any
//! other command is resolved in [`super::commands::run`].

use super::args::Args;
use super::commands::CmdResult;
use super::views;
use crate::model::*;
use crate::service::{KeySource, ServiceError, resources};
use serde_json::{Value, json};

pub const COMMANDS: &[&str] = &[
    "az account list",
    "az account show",
    "az account set",
    "az group list",
    "az group show",
    "sim subscription create",
];

pub fn run(
    ws: &mut Workspace,
    _keys: &dyn KeySource,
    cmd: &str,
    a: &mut Args,
) -> Option<CmdResult> {
    // In `az account`, -s is --subscription (elsewhere it is --server).
    if cmd.starts_with("az account") {
        a.rename("--server", "--subscription");
    }
    Some(match cmd {
        "az account list" => list(ws, a),
        "az account show" => show(ws, a),
        "az account set" => set(ws, a),
        "az group list" => group_list(ws, a),
        "az group show" => group_show(ws, a),
        "sim subscription create" => create(ws, a),
        _ => return None,
    })
}

fn account_json(ws: &Workspace, s: &Subscription) -> Value {
    json!({
        "cloudName": "AzureCloud",
        "homeTenantId": s.tenant.0,
        "id": s.id.0,
        "isDefault": s.id == ws.current_subscription,
        "managedByTenants": [],
        "name": s.name,
        "state": "Enabled",
        "tenantId": s.tenant.0,
        "user": {"name": ws.console_user.upn, "type": "user"}
    })
}

fn list(ws: &Workspace, a: &mut Args) -> CmdResult {
    a.check_known(&["--all", "--refresh"])?;
    Ok(Value::Array(
        ws.subscriptions
            .iter()
            .map(|s| account_json(ws, s))
            .collect(),
    ))
}

fn show(ws: &Workspace, a: &mut Args) -> CmdResult {
    a.check_known(&["--subscription", "--name"])?;
    let s = match a.get("--subscription").or_else(|| a.get("--name")) {
        Some(x) => resources::find_subscription(ws, &x)?,
        None => ws.subscription().ok_or_else(|| {
            ServiceError::bad_request("SubscriptionNotFound", "No subscription is selected.")
        })?,
    };
    Ok(account_json(ws, s))
}

fn set(ws: &mut Workspace, a: &mut Args) -> CmdResult {
    a.check_known(&["--subscription", "--name"])?;
    let x = a
        .get("--subscription")
        .or_else(|| a.get("--name"))
        .ok_or_else(|| {
            super::commands::usage(
                "the following arguments are required: --subscription/-s/--name/-n",
            )
        })?;
    resources::set_subscription(ws, &x)?;
    // az prints nothing.
    Ok(Value::Null)
}

fn group_list(ws: &Workspace, a: &mut Args) -> CmdResult {
    a.check_known(&["--tag"])?;
    let sub = ws.current_subscription.0.clone();
    Ok(Value::Array(
        ws.resource_groups
            .iter()
            .filter(|g| g.subscription == ws.current_subscription)
            .map(|g| views::group(&sub, g))
            .collect(),
    ))
}

fn group_show(ws: &Workspace, a: &mut Args) -> CmdResult {
    a.check_known(&["--name", "--resource-group"])?;
    let name = a
        .get("--name")
        .or_else(|| a.get("--resource-group"))
        .ok_or_else(|| {
            super::commands::usage(
                "the following arguments are required: --name/--resource-group/-n/-g",
            )
        })?;
    let g = ws.resource_group(&name).ok_or_else(|| {
        ServiceError::new(
            "ResourceGroupNotFound",
            404,
            format!("Resource group '{name}' could not be found."),
        )
    })?;
    Ok(views::group(&ws.current_subscription.0, g))
}

fn create(ws: &mut Workspace, a: &mut Args) -> CmdResult {
    a.check_known(&["--id", "--name", "--tenant"])?;
    let s = resources::create_subscription(
        ws,
        &a.required("--id")?,
        &a.required("--name")?,
        a.get("--tenant").as_deref(),
    )?;
    Ok(account_json(ws, &s))
}
