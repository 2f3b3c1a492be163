//! `az keyvault key rotate` and `az keyvault key rotation-policy show|update`.

use super::args::Args;
use super::commands::{CommandError, usage};
use super::registry::{Command, HSM_NAME};
use crate::model::*;
use crate::service::{self, KeySource, rotation};
use serde_json::{Value, json};

pub const COMMANDS: &[Command] = &[
    Command::new(
        "az keyvault key rotate",
        "Rotate the key based on the key policy by generating a new version of the key.",
        &["--vault-name", "--name"],
        |ws, keys, _, a| rotate(ws, keys, a),
    )
    .aliases(HSM_NAME),
    Command::new(
        "az keyvault key rotation-policy show",
        "Get the rotation policy of a Key Vault key.",
        &["--vault-name", "--name"],
        |ws, _, _, a| show(ws, a),
    )
    .aliases(HSM_NAME),
    Command::new(
        "az keyvault key rotation-policy update",
        "Update the rotation policy of a Key Vault key.",
        &["--vault-name", "--name", "--value"],
        |ws, _, _, a| update(ws, a),
    )
    .aliases(HSM_NAME),
];

fn rotate(ws: &mut Workspace, keys: &dyn KeySource, a: &mut Args) -> Result<Value, CommandError> {
    let (vault, name) = (a.required("--vault-name")?, a.required("--name")?);
    service::keyvault::authorize_user(ws, &vault, KeyPermission::Rotate)?;
    let material = rotation::new_material_for(ws, &vault, &name, keys)?;
    rotation::rotate_key(ws, &vault, &name, material)?;
    let (v, k, kv) = service::keyvault::key_state(ws, &vault, &name, None)?;
    Ok(super::views::key(&v, &k, &kv))
}

fn policy_json(vault: &str, key: &str, p: Option<&RotationPolicy>) -> Value {
    let Some(p) = p else {
        return json!({"id": format!("https://{vault}.vault.azure.net/keys/{key}/rotationpolicy"), "lifetimeActions": [], "attributes": {"expiryTime": null}});
    };
    let mut actions = Vec::new();
    if let Some(a) = p.rotate_after_create {
        actions.push(json!({"trigger": {"timeAfterCreate": rotation::iso_days(a), "timeBeforeExpiry": null}, "action": {"type": "Rotate"}}));
    }
    if let Some(b) = p.rotate_before_expiry {
        actions.push(json!({"trigger": {"timeAfterCreate": null, "timeBeforeExpiry": rotation::iso_days(b)}, "action": {"type": "Rotate"}}));
    }
    actions.push(json!({"trigger": {"timeAfterCreate": null, "timeBeforeExpiry": rotation::iso_days(p.notify_before_expiry)}, "action": {"type": "Notify"}}));
    json!({
        "id": format!("https://{vault}.vault.azure.net/keys/{key}/rotationpolicy"),
        "lifetimeActions": actions,
        "attributes": {"expiryTime": p.expiry_time.map(rotation::iso_days), "updatedOn": p.updated.to_iso()}
    })
}

fn show(ws: &mut Workspace, a: &mut Args) -> Result<Value, CommandError> {
    let (vault, name) = (a.required("--vault-name")?, a.required("--name")?);
    let p = rotation::rotation_policy(ws, &vault, &name)?;
    Ok(policy_json(&vault, &name, p.as_ref()))
}

/// `--value` is the policy JSON, or `@file` holding it, as the CLI takes it.
fn update(ws: &mut Workspace, a: &mut Args) -> Result<Value, CommandError> {
    let (vault, name) = (a.required("--vault-name")?, a.required("--name")?);
    let value = a.required("--value")?;
    let text = match value.strip_prefix('@') {
        Some(file) => crate::persist::read_user_text(file)
            .map_err(|e| usage(format!("cannot read '{file}': {e}")))?,
        None => value,
    };
    let policy = parse_policy(&text)?;
    let p = rotation::set_rotation_policy(ws, &vault, &name, policy)?;
    Ok(policy_json(&vault, &name, Some(&p)))
}

fn parse_policy(text: &str) -> Result<RotationPolicy, CommandError> {
    let v: Value = serde_json::from_str(text)
        .map_err(|e| usage(format!("argument --value: invalid JSON: {e}")))?;
    crate::service::rotation::parse_policy(&v).map_err(|e| usage(format!("argument --value: {e}")))
}
