//! `Microsoft.KeyVault/vaults` (az keyvault create|show|list|set-policy|delete-policy):
//! az changes access policies by sending the whole vault back (PUT) or through
//! `accessPolicies/{add|replace|remove}`; either becomes the shell's access-policy
//! operations, one principal at a time, all or nothing.

use super::resources::require_group;
use super::{Ctx, Reply, shape};
use crate::model::{KeyPermission, PrincipalId};
use crate::service::{self, ServiceError, keyvault};
use crate::shell::views;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

fn vault_in_group(c: &Ctx) -> Result<crate::model::KeyVault, ServiceError> {
    require_group(c)?;
    let v = keyvault::show_vault(c.ws, c.p("vault"))?;
    if !v.resource_group.eq_ignore_ascii_case(c.p("rg"))
        || v.subscription != c.ws.current_subscription
    {
        return Err(ServiceError::vault_not_found(c.p("vault")));
    }
    Ok(v)
}

pub fn list(c: &mut Ctx) -> Result<Reply, ServiceError> {
    let rg = c
        .params
        .iter()
        .any(|(n, _)| *n == "rg")
        .then(|| c.p("rg").to_string());
    if rg.is_some() {
        require_group(c)?;
    }
    let ws = &*c.ws;
    Ok(Reply::Ok(shape::list(
        ws.vaults
            .iter()
            .filter(|v| v.deleted.is_none() && v.subscription == ws.current_subscription)
            .filter(|v| {
                rg.as_ref()
                    .is_none_or(|g| v.resource_group.eq_ignore_ascii_case(g))
            })
            .map(views::vault),
    )))
}

pub fn show(c: &mut Ctx) -> Result<Reply, ServiceError> {
    Ok(Reply::Ok(shape::arm(views::vault(&vault_in_group(c)?))))
}

/// The key permissions of each principal an access-policy list names.
fn policies(list: &Value) -> Result<BTreeMap<String, BTreeSet<KeyPermission>>, ServiceError> {
    let mut out = BTreeMap::new();
    for p in list.as_array().map(Vec::as_slice).unwrap_or_default() {
        let oid = p
            .get("objectId")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                ServiceError::bad_request(
                    "BadRequest",
                    "An access policy must name its principal (objectId).",
                )
            })?
            .to_ascii_lowercase();
        let mut perms = BTreeSet::new();
        for k in p["permissions"]["keys"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            let text = k.as_str().unwrap_or("");
            if text.eq_ignore_ascii_case("all") {
                perms.extend(KeyPermission::ALL);
                continue;
            }
            perms.insert(KeyPermission::parse(text).ok_or_else(|| {
                ServiceError::bad_request(
                    "BadRequest",
                    format!("The access policy key permission '{text}' is invalid."),
                )
            })?);
        }
        out.entry(oid).or_insert_with(BTreeSet::new).extend(perms);
    }
    Ok(out)
}

/// Makes the vault's access policies `wanted` (principals not named lose theirs).
fn apply_policies(
    c: &mut Ctx,
    vault: &str,
    wanted: &BTreeMap<String, BTreeSet<KeyPermission>>,
    remove_missing: bool,
) -> Result<(), ServiceError> {
    let current = keyvault::vault_state(c.ws, vault)?;
    service::transact(c.ws, |ws| {
        for (oid, perms) in wanted {
            let now: BTreeSet<KeyPermission> = current
                .access_policies
                .iter()
                .filter(|p| p.object_id.0.eq_ignore_ascii_case(oid))
                .flat_map(|p| p.key_permissions.iter().copied())
                .collect();
            let has = current
                .access_policies
                .iter()
                .any(|p| p.object_id.0.eq_ignore_ascii_case(oid));
            if !has || &now != perms {
                keyvault::set_access_policy(ws, vault, &PrincipalId(oid.clone()), perms)?;
            }
        }
        if remove_missing {
            for p in &current.access_policies {
                if !wanted.contains_key(&p.object_id.0.to_ascii_lowercase()) {
                    keyvault::delete_access_policy(ws, vault, &p.object_id)?;
                }
            }
        }
        Ok(())
    })
}

/// `PUT vaults/{vault}`: a new vault (az keyvault create), or the whole vault sent back
/// with its access policies or protection changed (az keyvault set-policy, update).
pub fn put(c: &mut Ctx) -> Result<Reply, ServiceError> {
    require_group(c)?;
    let body = c.body()?;
    let props = &body["properties"];
    let wanted = policies(&props["accessPolicies"])?;
    let name = c.p("vault").to_string();
    let existing = keyvault::show_vault(c.ws, &name).ok();
    let created = existing.is_none();
    match existing {
        None => {
            let req = keyvault::CreateVault {
                name: name.clone(),
                resource_group: c.p("rg").to_string(),
                location: body["location"].as_str().map(str::to_string),
                soft_delete: props["enableSoftDelete"].as_bool(),
                retention_days: props["softDeleteRetentionInDays"]
                    .as_u64()
                    .and_then(|d| u16::try_from(d).ok()),
                purge_protection: props["enablePurgeProtection"].as_bool().unwrap_or(false),
                tenant: None,
                rbac_authorization: props["enableRbacAuthorization"].as_bool().unwrap_or(false),
                // The request names every access policy the vault gets.
                no_self_perms: true,
            };
            service::transact(c.ws, |ws| {
                keyvault::create_vault(ws, &req)?;
                Ok(())
            })?;
            apply_policies(c, &name, &wanted, false)?;
        }
        Some(v) => {
            if !v.resource_group.eq_ignore_ascii_case(c.p("rg")) {
                return Err(ServiceError::conflict(
                    "VaultAlreadyExists",
                    format!("The vault name '{name}' is already in use."),
                ));
            }
            if let Some(rbac) = props["enableRbacAuthorization"].as_bool()
                && rbac != v.rbac_authorization
            {
                return Err(ServiceError::bad_request(
                    "BadRequest",
                    "tde-console changes a vault's permission model in the console (az keyvault update --enable-rbac-authorization in its shell), not through Resource Manager.",
                ));
            }
            let purge = props["enablePurgeProtection"].as_bool();
            let days = props["softDeleteRetentionInDays"]
                .as_u64()
                .and_then(|d| u16::try_from(d).ok());
            if purge.is_some_and(|p| p != v.purge_protection)
                || days.is_some_and(|d| d != v.retention_days)
            {
                keyvault::set_vault_protection(c.ws, &name, purge, days)?;
            }
            if props.get("accessPolicies").is_some() {
                apply_policies(c, &name, &wanted, true)?;
            }
        }
    }
    let v = shape::arm(views::vault(&keyvault::show_vault(c.ws, &name)?));
    Ok(if created {
        Reply::Created(v)
    } else {
        Reply::Ok(v)
    })
}

/// `PUT vaults/{vault}/accessPolicies/{add|replace|remove}`.
pub fn update_access_policy(c: &mut Ctx) -> Result<Reply, ServiceError> {
    let v = vault_in_group(c)?;
    let body = c.body()?;
    let named = policies(&body["properties"]["accessPolicies"])?;
    let kind = c.p("kind").to_ascii_lowercase();
    let mut wanted: BTreeMap<String, BTreeSet<KeyPermission>> = v
        .access_policies
        .iter()
        .map(|p| {
            (
                p.object_id.0.to_ascii_lowercase(),
                p.key_permissions.iter().copied().collect(),
            )
        })
        .collect();
    match kind.as_str() {
        "add" => {
            for (oid, perms) in named {
                wanted.entry(oid).or_default().extend(perms);
            }
        }
        "replace" => wanted.extend(named),
        "remove" => {
            for (oid, perms) in named {
                if let Some(p) = wanted.get_mut(&oid) {
                    p.retain(|k| !perms.contains(k));
                }
            }
        }
        other => {
            return Err(ServiceError::bad_request(
                "BadRequest",
                format!(
                    "The access policy update kind '{other}' is invalid: add, replace or remove."
                ),
            ));
        }
    }
    apply_policies(c, &v.name, &wanted, true)?;
    let v = keyvault::show_vault(c.ws, &v.name)?;
    let arm = shape::arm(views::vault(&v));
    Ok(Reply::Ok(serde_json::json!({
        "id": format!("{}/accessPolicies/{kind}", arm["id"].as_str().unwrap_or("")),
        "type": "Microsoft.KeyVault/vaults/accessPolicies",
        "properties": {"accessPolicies": arm["properties"]["accessPolicies"].clone()},
    })))
}
