//! Subscriptions and resource groups as `az account` and `az group` show them, and
//! `sim subscription create` to add a subscription to the tenant. `--subscription` on any
//! other command is resolved in [`super::registry::run`].

use super::args::Args;
use super::commands::{CmdResult, tags_arg};
use super::registry::Command;
use super::views;
use crate::model::*;
use crate::service::{ServiceError, resources};
use serde_json::{Value, json};

/// In `az account`, -s is --subscription (elsewhere it is --server).
const SUBSCRIPTION: &[(&str, &str)] = &[("-s", "--subscription")];

pub const COMMANDS: &[Command] = &[
    Command::new(
        "az group create",
        "Create a new resource group.",
        &["--name", "--location", "--tags"],
        |ws, _, _, a| group_create(ws, a),
    ),
    Command::new(
        "az account list",
        "Get a list of subscriptions for the logged in account.",
        &["--all", "--refresh"],
        |ws, _, _, a| list(ws, a),
    )
    .shorts(SUBSCRIPTION),
    Command::new(
        "az account show",
        "Get the details of a subscription.",
        &["--subscription", "--name"],
        |ws, _, _, a| show(ws, a),
    )
    .shorts(SUBSCRIPTION),
    Command::new(
        "az account set",
        "Set a subscription to be the current active subscription.",
        &["--subscription", "--name"],
        |ws, _, _, a| set(ws, a),
    )
    .shorts(SUBSCRIPTION),
    Command::new(
        "az group list",
        "List resource groups.",
        &["--tag"],
        |ws, _, _, a| group_list(ws, a),
    ),
    Command::new(
        "az group show",
        "Gets a resource group.",
        &["--name", "--resource-group"],
        |ws, _, _, a| group_show(ws, a),
    ),
    Command::new(
        "sim subscription create",
        "Add a subscription to the tenant.",
        &["--id", "--name", "--tenant"],
        |ws, _, _, a| create(ws, a),
    ),
];

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

fn list(ws: &Workspace, _a: &mut Args) -> CmdResult {
    Ok(Value::Array(
        ws.subscriptions
            .iter()
            .map(|s| account_json(ws, s))
            .collect(),
    ))
}

fn show(ws: &Workspace, a: &mut Args) -> CmdResult {
    let s = match a.get("--subscription").or_else(|| a.get("--name")) {
        Some(x) => resources::find_subscription(ws, &x)?,
        None => ws.subscription().ok_or_else(|| {
            ServiceError::bad_request("SubscriptionNotFound", "No subscription is selected.")
        })?,
    };
    Ok(account_json(ws, s))
}

fn set(ws: &mut Workspace, a: &mut Args) -> CmdResult {
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

fn group_list(ws: &Workspace, _a: &mut Args) -> CmdResult {
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
    let s = resources::create_subscription(
        ws,
        &a.required("--id")?,
        &a.required("--name")?,
        a.get("--tenant").as_deref(),
    )?;
    Ok(account_json(ws, &s))
}

fn group_create(ws: &mut Workspace, a: &mut Args) -> CmdResult {
    let tags = if a.has("--tags") {
        Some(tags_arg(a)?)
    } else {
        None
    };
    let g = resources::create_resource_group_tagged(
        ws,
        &a.required("--name")?,
        &a.required("--location")?,
        tags,
    )?;
    Ok(views::group(ws.current_subscription.as_str(), &g))
}
