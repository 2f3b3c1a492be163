//! `az identity …`: user-assigned managed identities.

use super::args::Args;
use super::commands::*;
use super::registry::Command;
use super::views;
use crate::model::*;
use crate::service::{self, KeySource, ServiceError};
use serde_json::Value;

pub const COMMANDS: &[Command] = &[
    Command::new(
        "az identity create",
        "Create an identity.",
        &["--name", "--resource-group", "--location", "--tags"],
        identity_create,
    ),
    Command::new(
        "az identity show",
        "Show an identity.",
        &["--name", "--resource-group", "--ids"],
        identity_show,
    ),
    Command::new(
        "az identity delete",
        "Delete an identity.",
        &["--name", "--resource-group", "--ids"],
        identity_show,
    ),
    Command::new(
        "az identity list",
        "List identities.",
        &["--resource-group"],
        identity_list,
    ),
];

fn identity_create(
    ws: &mut Workspace,
    _keys: &dyn KeySource,
    _cmd: &str,
    a: &mut Args,
) -> CmdResult {
    let i = service::identity::create_identity(
        ws,
        &a.required("--name")?,
        &a.required("--resource-group")?,
        a.get("--location").as_deref(),
    )?;
    Ok(views::identity(&i))
}

fn identity_show(ws: &mut Workspace, _keys: &dyn KeySource, cmd: &str, a: &mut Args) -> CmdResult {
    let (name, group) = match a.get("--ids") {
        Some(id) => {
            let i = ws.identity(&id).ok_or_else(|| {
                ServiceError::not_found(
                    "ResourceNotFound",
                    format!("The Resource '{id}' was not found."),
                )
            })?;
            (i.name.clone(), i.resource_group.clone())
        }
        None => (a.required("--name")?, a.required("--resource-group")?),
    };
    if cmd == "az identity show" {
        Ok(views::identity(service::identity::show_identity(
            ws, &name, &group,
        )?))
    } else {
        service::identity::delete_identity(ws, &name, &group)?;
        Ok(Value::Null)
    }
}

fn identity_list(ws: &mut Workspace, _keys: &dyn KeySource, _cmd: &str, a: &mut Args) -> CmdResult {
    let g = a.get("--resource-group");
    Ok(Value::Array(
        ws.identities
            .iter()
            .filter(|i| i.subscription == ws.current_subscription)
            .filter(|i| {
                g.as_ref()
                    .is_none_or(|g| i.resource_group.eq_ignore_ascii_case(g))
            })
            .map(views::identity)
            .collect(),
    ))
}
