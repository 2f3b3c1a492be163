//! `az keyvault …`: vaults, Managed HSMs, access policies and keys.

use super::args::Args;
use super::commands::*;
use super::registry::{Command, HSM_NAME};
use super::views;
use crate::model::*;
use crate::service::{self, KeySource, ServiceError, keyvault};
use serde_json::{Value, json};
use std::collections::BTreeSet;

pub const COMMANDS: &[Command] = &[
    Command::new(
        "az keyvault create",
        "Create a Vault or HSM.",
        &[
            "--name",
            "--resource-group",
            "--location",
            "--enable-soft-delete",
            "--retention-days",
            "--enable-purge-protection",
            "--sku",
            "--enable-rbac-authorization",
            "--hsm-name",
            "--administrators",
        ],
        keyvault_create,
    ),
    Command::new(
        "az keyvault update",
        "Update the properties of a Vault.",
        &[
            "--name",
            "--resource-group",
            "--default-action",
            "--bypass",
            "--public-network-access",
            "--enable-rbac-authorization",
            "--enable-purge-protection",
            "--retention-days",
        ],
        keyvault_update,
    ),
    Command::new(
        "az keyvault show",
        "Show details of a Vault or HSM.",
        &["--name", "--resource-group"],
        keyvault_show,
    ),
    Command::new(
        "az keyvault list",
        "List Vaults and/or HSMs.",
        &["--resource-group"],
        keyvault_list,
    ),
    Command::new(
        "az keyvault set-policy",
        "Update security policy settings for a Key Vault.",
        &[
            "--name",
            "--resource-group",
            "--object-id",
            "--upn",
            "--spn",
            "--key-permissions",
            "--secret-permissions",
            "--certificate-permissions",
        ],
        keyvault_set_policy,
    ),
    Command::new(
        "az keyvault delete-policy",
        "Delete security policy settings for a Key Vault.",
        &[
            "--name",
            "--resource-group",
            "--object-id",
            "--upn",
            "--spn",
        ],
        keyvault_delete_policy,
    ),
    Command::new(
        "az keyvault key create",
        "Create a new key, stores it, then returns key parameters and attributes to the client.",
        &[
            "--vault-name",
            "--name",
            "--protection",
            "--kty",
            "--size",
            "--curve",
            "--ops",
            "--disabled",
            "--expires",
            "--not-before",
            "--tags",
        ],
        keyvault_key_create,
    )
    .aliases(HSM_NAME),
    Command::new(
        "az keyvault key show",
        "Get a key's attributes and, if it's an asymmetric key, its public material.",
        &["--vault-name", "--name", "--version", "--id"],
        keyvault_key_show,
    )
    .aliases(HSM_NAME),
    Command::new(
        "az keyvault key list",
        "List keys in the specified Vault or HSM.",
        &["--vault-name"],
        keyvault_key_list,
    )
    .aliases(HSM_NAME),
    Command::new(
        "az keyvault key list-versions",
        "List the identifiers and properties of a key's versions.",
        &["--vault-name", "--name", "--id"],
        keyvault_key_list_versions,
    )
    .aliases(HSM_NAME),
    Command::new(
        "az keyvault key set-attributes",
        "The update key operation changes specified attributes of a stored key.",
        &[
            "--vault-name",
            "--name",
            "--version",
            "--id",
            "--enabled",
            "--expires",
            "--not-before",
            "--ops",
            "--tags",
        ],
        keyvault_key_set_attributes,
    )
    .aliases(HSM_NAME),
    Command::new(
        "az keyvault key delete",
        "Delete a key of any type from storage in Vault or HSM.",
        &["--vault-name", "--name", "--id"],
        keyvault_key_delete,
    )
    .aliases(HSM_NAME),
    Command::new(
        "az keyvault delete",
        "Delete a Vault or HSM.",
        &["--name", "--resource-group"],
        keyvault_delete,
    ),
    Command::new(
        "az keyvault recover",
        "Recover a Vault or HSM.",
        &["--name", "--resource-group"],
        keyvault_delete,
    ),
    Command::new(
        "az keyvault key list-deleted",
        "List the deleted keys in the specified Vault or HSM.",
        &["--vault-name"],
        keyvault_key_list_deleted,
    )
    .aliases(HSM_NAME),
    Command::new(
        "az keyvault key show-deleted",
        "Get the public part of a deleted key.",
        &["--vault-name", "--name", "--id"],
        keyvault_key_show_deleted,
    )
    .aliases(HSM_NAME),
    Command::new(
        "az keyvault key purge",
        "Permanently delete the specified key.",
        &["--vault-name", "--name", "--id"],
        keyvault_key_purge,
    )
    .aliases(HSM_NAME),
    Command::new(
        "az keyvault list-deleted",
        "Get information about the deleted Vaults or HSMs in a subscription.",
        &["--resource-type"],
        keyvault_list_deleted,
    ),
    Command::new(
        "az keyvault purge",
        "Permanently delete the specified vault.",
        &["--name", "--location"],
        keyvault_purge,
    ),
    Command::new(
        "az keyvault key import",
        "Import a private key.",
        &[
            "--vault-name",
            "--name",
            "--pem-file",
            "--pfx-file",
            "--pfx-password",
            "--byok-file",
            "--kty",
            "--protection",
        ],
        keyvault_key_import,
    )
    .aliases(HSM_NAME),
    Command::new(
        "az keyvault key backup",
        "Request that a backup of the specified key be downloaded to the client.",
        &["--vault-name", "--name", "--id", "--file"],
        keyvault_key_backup,
    )
    .aliases(HSM_NAME),
    Command::new(
        "az keyvault key restore",
        "Restore a backed up key to a vault or HSM.",
        &["--vault-name", "--file"],
        keyvault_key_restore,
    )
    .aliases(HSM_NAME),
    Command::new(
        "az keyvault key recover",
        "Recover the deleted key to its latest version.",
        &["--vault-name", "--name", "--id"],
        keyvault_key_recover,
    )
    .aliases(HSM_NAME),
];

fn keyvault_create(
    ws: &mut Workspace,
    _keys: &dyn KeySource,
    _cmd: &str,
    a: &mut Args,
) -> CmdResult {
    let hsm = a.get("--hsm-name");
    let req = keyvault::CreateVault {
        name: match &hsm {
            Some(h) => h.clone(),
            None => a.required("--name")?,
        },
        resource_group: a.required("--resource-group")?,
        location: a.get("--location"),
        soft_delete: a.bool("--enable-soft-delete")?,
        retention_days: a
            .get("--retention-days")
            .map(|d| {
                d.parse().map_err(|_| {
                    usage(format!(
                        "argument --retention-days: invalid int value: '{d}'"
                    ))
                })
            })
            .transpose()?,
        purge_protection: a.bool("--enable-purge-protection")?.unwrap_or(false),
        tenant: None,
        rbac_authorization: a.bool("--enable-rbac-authorization")?.unwrap_or(false),
        no_self_perms: a.bool("--no-self-perms")?.unwrap_or(false),
    };
    if hsm.is_some() {
        let admins: Vec<PrincipalId> = a
            .list("--administrators")
            .into_iter()
            .map(PrincipalId)
            .collect();
        return Ok(views::vault(&keyvault::create_managed_hsm(
            ws, &req, &admins,
        )?));
    }
    Ok(views::vault(&keyvault::create_vault(ws, &req)?))
}

fn keyvault_update(
    ws: &mut Workspace,
    _keys: &dyn KeySource,
    _cmd: &str,
    a: &mut Args,
) -> CmdResult {
    if let Some(rbac) = a.bool("--enable-rbac-authorization")? {
        let name = a.required("--name")?;
        return Ok(views::vault(&service::rbac::set_rbac_authorization(
            ws, &name, rbac,
        )?));
    }
    let name = a.required("--name")?;
    let purge_protection = a.bool("--enable-purge-protection")?;
    let retention_days = match a.get("--retention-days") {
        Some(d) => Some(d.parse::<u16>().map_err(|_| {
            usage(format!(
                "argument --retention-days: invalid int value: '{d}'"
            ))
        })?),
        None => None,
    };
    let v = keyvault::vault_state(ws, &name)?;
    let mut acls = v.network.clone();
    // Every word is checked before anything changes.
    let default_action = a.choice("--default-action", &[("Allow", false), ("Deny", true)])?;
    let bypass = a.choice("--bypass", &[("AzureServices", true), ("None", false)])?;
    let public = a.choice(
        "--public-network-access",
        &[("Disabled", true), ("Enabled", false)],
    )?;
    let mut out = None;
    if purge_protection.is_some() || retention_days.is_some() {
        out = Some(keyvault::set_vault_protection(
            ws,
            &name,
            purge_protection,
            retention_days,
        )?);
    }
    if default_action.is_none()
        && bypass.is_none()
        && public.is_none()
        && let Some(v) = out
    {
        return Ok(views::vault(&v));
    }
    if let Some(deny) = default_action {
        acls.restricted = deny;
    }
    if let Some(b) = bypass {
        acls.bypass_trusted_services = b;
    }
    if let Some(disabled) = public {
        acls.public_access_disabled = disabled;
    }
    Ok(views::vault(&keyvault::set_network_acls(ws, &name, acls)?))
}

fn keyvault_show(ws: &mut Workspace, _keys: &dyn KeySource, _cmd: &str, a: &mut Args) -> CmdResult {
    Ok(views::vault(&keyvault::show_vault(
        ws,
        &a.required("--name")?,
    )?))
}

fn keyvault_list(ws: &mut Workspace, _keys: &dyn KeySource, _cmd: &str, a: &mut Args) -> CmdResult {
    let g = a.get("--resource-group");
    Ok(Value::Array(
        ws.vaults
            .iter()
            .filter(|v| {
                v.deleted.is_none()
                    && g.as_ref()
                        .is_none_or(|g| v.resource_group.eq_ignore_ascii_case(g))
            })
            .map(views::vault)
            .collect(),
    ))
}

fn keyvault_set_policy(
    ws: &mut Workspace,
    _keys: &dyn KeySource,
    _cmd: &str,
    a: &mut Args,
) -> CmdResult {
    let name = a.required("--name")?;
    let oid = policy_principal(ws, a, &name)?;
    let mut perms: BTreeSet<KeyPermission> = BTreeSet::new();
    for p in a.list("--key-permissions") {
        if p.eq_ignore_ascii_case("all") {
            perms.extend(KeyPermission::ALL);
            continue;
        }
        perms.insert(KeyPermission::parse(&p).ok_or_else(|| {
            usage(format!(
                "argument --key-permissions: invalid choice: '{p}' (choose from {})",
                KeyPermission::ALL
                    .iter()
                    .map(|k| format!("'{}'", k.as_str()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?);
    }
    let mut secrets: BTreeSet<SecretPermission> = BTreeSet::new();
    for p in a.list("--secret-permissions") {
        if p.eq_ignore_ascii_case("all") {
            secrets.extend(SecretPermission::ALL);
            continue;
        }
        secrets.insert(SecretPermission::parse(&p).ok_or_else(|| {
            usage(format!(
                "argument --secret-permissions: invalid choice: '{p}' (choose from {})",
                SecretPermission::ALL
                    .iter()
                    .map(|k| format!("'{}'", k.as_str()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?);
    }
    if a.has("--secret-permissions") {
        return Ok(views::vault(&service::secrets::set_access_policy(
            ws,
            &name,
            &oid,
            a.has("--key-permissions").then_some(&perms),
            Some(&secrets),
        )?));
    }
    if !a.has("--key-permissions") {
        let existing = keyvault::vault_state(ws, &name)?;
        perms = existing
            .access_policies
            .iter()
            .filter(|p| p.object_id == oid)
            .flat_map(|p| p.key_permissions.clone())
            .collect();
    }
    Ok(views::vault(&keyvault::set_access_policy(
        ws, &name, &oid, &perms,
    )?))
}

fn keyvault_delete_policy(
    ws: &mut Workspace,
    _keys: &dyn KeySource,
    _cmd: &str,
    a: &mut Args,
) -> CmdResult {
    let name = a.required("--name")?;
    let oid = policy_principal(ws, a, &name)?;
    Ok(views::vault(&keyvault::delete_access_policy(
        ws, &name, &oid,
    )?))
}

/// Whom an access policy names: `--object-id`, a user by `--upn` (the console's user is
/// the one user of the simulation), or an application's service principal by `--spn` (its
/// app id) in the vault's tenant.
fn policy_principal(ws: &Workspace, a: &Args, vault: &str) -> Result<PrincipalId, CommandError> {
    use service::directory::{PrincipalRef, resolve_principal};
    let (oid, upn, spn) = (a.get("--object-id"), a.get("--upn"), a.get("--spn"));
    let who = match (&oid, &upn, &spn) {
        (Some(oid), _, _) => PrincipalRef::ObjectId(oid),
        (None, Some(upn), _) => PrincipalRef::Upn(upn),
        (None, None, Some(spn)) => PrincipalRef::Spn(spn),
        (None, None, None) => {
            return Err(usage(
                "the following arguments are required: --object-id, --upn or --spn",
            ));
        }
    };
    let tenant = ws.vault(vault).map(|v| v.tenant.clone());
    Ok(resolve_principal(ws, who, tenant.as_ref())?)
}

fn keyvault_key_create(
    ws: &mut Workspace,
    keys: &dyn KeySource,
    _cmd: &str,
    a: &mut Args,
) -> CmdResult {
    let kty = kty_arg(a)?;
    let curve = match (kty.is_rsa(), a.get("--curve")) {
        (true, Some(_)) => {
            return Err(usage("--curve is for EC keys (--kty EC or EC-HSM)"));
        }
        (true, None) => None,
        (false, c) => Some(
            crate::crypto::EcCurve::parse(c.as_deref().unwrap_or("P-256")).ok_or_else(
                || {
                    usage(format!(
                        "argument --curve: invalid choice: '{}' (choose from 'P-256', 'P-384', 'P-521'; P-256K is not simulated)",
                        c.unwrap_or_default()
                    ))
                },
            )?,
        ),
    };
    let size = match (curve, a.get("--size")) {
        (Some(c), _) => c.bits(),
        (None, Some(s)) => s
            .parse()
            .map_err(|_| usage(format!("argument --size: invalid int value: '{s}'")))?,
        (None, None) => 2048,
    };
    let mut req = keyvault::CreateKey::new(
        &a.required("--vault-name")?,
        &a.required("--name")?,
        kty,
        size,
    );
    req.enabled = a.bool("--disabled")? != Some(true);
    req.expires = time_arg(a, "--expires")?;
    req.not_before = time_arg(a, "--not-before")?;
    if a.has("--tags") {
        req.tags = Some(tags_arg(a)?);
    }
    if a.has("--ops") {
        req.ops = Some(ops_arg(a)?);
    }
    keyvault::validate_create_key(ws, &req)?;
    let internal = |e: crate::crypto::CryptoError| {
        ServiceError::new("InternalServerError", 500, e.to_string())
    };
    let material: crate::crypto::KeyMaterial = match curve {
        Some(c) => crate::crypto::KeyMaterial::Ec(
            crate::crypto::EcKeyMaterial::generate(c).map_err(internal)?,
        ),
        None => keys.generate(size).map_err(internal)?.into(),
    };
    let (k, kv) = keyvault::create_key(ws, &req, material)?;
    let v = keyvault::vault_state(ws, &req.vault)?;
    Ok(views::key(&v, &k, &kv))
}

fn keyvault_key_show(
    ws: &mut Workspace,
    _keys: &dyn KeySource,
    _cmd: &str,
    a: &mut Args,
) -> CmdResult {
    let (vault, name, version) = key_ref(a)?;
    let (v, k, kv) = keyvault::show_key(ws, &vault, &name, version.as_deref())?;
    Ok(views::key(&v, &k, &kv))
}

fn keyvault_key_list(
    ws: &mut Workspace,
    _keys: &dyn KeySource,
    _cmd: &str,
    a: &mut Args,
) -> CmdResult {
    let (v, keys) = keyvault::list_keys(ws, &a.required("--vault-name")?)?;
    Ok(Value::Array(
        keys.iter().map(|k| views::key_list_item(&v, k)).collect(),
    ))
}

fn keyvault_key_list_versions(
    ws: &mut Workspace,
    _keys: &dyn KeySource,
    _cmd: &str,
    a: &mut Args,
) -> CmdResult {
    let (vault, name, _) = key_ref(a)?;
    let (v, k) = keyvault::list_key_versions(ws, &vault, &name)?;
    Ok(Value::Array(
        k.versions
            .iter()
            .map(|kv| views::key_version_item(&v, &k, kv))
            .collect(),
    ))
}

fn keyvault_key_set_attributes(
    ws: &mut Workspace,
    _keys: &dyn KeySource,
    _cmd: &str,
    a: &mut Args,
) -> CmdResult {
    let (vault, name, version) = key_ref(a)?;
    let attrs = keyvault::KeyAttributes {
        enabled: a.bool("--enabled")?,
        not_before: a
            .has("--not-before")
            .then(|| time_arg(a, "--not-before"))
            .transpose()?,
        expires: a
            .has("--expires")
            .then(|| time_arg(a, "--expires"))
            .transpose()?,
        ops: a.has("--ops").then(|| ops_arg(a)).transpose()?,
        tags: a.has("--tags").then(|| tags_arg(a)).transpose()?,
    };
    keyvault::set_key_attributes(ws, &vault, &name, version.as_deref(), &attrs)?;
    let (v, k, kv) = keyvault::key_state(ws, &vault, &name, version.as_deref())?;
    Ok(views::key(&v, &k, &kv))
}

fn keyvault_key_delete(
    ws: &mut Workspace,
    _keys: &dyn KeySource,
    _cmd: &str,
    a: &mut Args,
) -> CmdResult {
    let (vault, name, _) = key_ref(a)?;
    let k = keyvault::delete_key(ws, &vault, &name)?;
    let v = ws
        .vault(&vault)
        .cloned()
        .ok_or_else(|| ServiceError::vault_not_found(&vault))?;
    Ok(views::deleted_key(&v, &k))
}

fn keyvault_delete(
    ws: &mut Workspace,
    _keys: &dyn KeySource,
    cmd: &str,
    a: &mut Args,
) -> CmdResult {
    let name = a.required("--name")?;
    if cmd.ends_with("delete") {
        keyvault::delete_vault(ws, &name)?;
        Ok(Value::Null)
    } else {
        Ok(views::vault(&keyvault::recover_vault(ws, &name)?))
    }
}

fn keyvault_key_list_deleted(
    ws: &mut Workspace,
    _keys: &dyn KeySource,
    _cmd: &str,
    a: &mut Args,
) -> CmdResult {
    let (v, keys) = keyvault::list_deleted_keys(ws, &a.required("--vault-name")?)?;
    Ok(Value::Array(
        keys.iter().map(|k| views::deleted_key(&v, k)).collect(),
    ))
}

fn keyvault_key_show_deleted(
    ws: &mut Workspace,
    _keys: &dyn KeySource,
    _cmd: &str,
    a: &mut Args,
) -> CmdResult {
    let (vault, name, _) = key_ref(a)?;
    let (v, k) = keyvault::show_deleted_key(ws, &vault, &name)?;
    Ok(views::deleted_key(&v, &k))
}

fn keyvault_key_purge(
    ws: &mut Workspace,
    _keys: &dyn KeySource,
    _cmd: &str,
    a: &mut Args,
) -> CmdResult {
    let (vault, name, _) = key_ref(a)?;
    keyvault::purge_key(ws, &vault, &name)?;
    Ok(Value::Null)
}

fn keyvault_list_deleted(
    ws: &mut Workspace,
    _keys: &dyn KeySource,
    _cmd: &str,
    _a: &mut Args,
) -> CmdResult {
    Ok(Value::Array(
        keyvault::list_deleted_vaults(ws)
            .iter()
            .map(|v| {
                let d = v.deleted.as_ref();
                json!({"name": v.name, "properties": {"location": v.location, "vaultId": service::ids::vault(v), "deletionDate": d.map(|d| d.deleted_on.to_iso()), "scheduledPurgeDate": d.map(|d| d.scheduled_purge.to_iso()), "purgeProtectionEnabled": v.purge_protection}, "type": "Microsoft.KeyVault/deletedVaults"})
            })
            .collect(),
    ))
}

fn keyvault_purge(
    ws: &mut Workspace,
    _keys: &dyn KeySource,
    _cmd: &str,
    a: &mut Args,
) -> CmdResult {
    keyvault::purge_vault(ws, &a.required("--name")?)?;
    Ok(Value::Null)
}

fn keyvault_key_import(
    ws: &mut Workspace,
    _keys: &dyn KeySource,
    _cmd: &str,
    a: &mut Args,
) -> CmdResult {
    let vault = a.required("--vault-name")?;
    let name = a.required("--name")?;
    let kty = kty_arg(a)?;
    let read = |file: &str| {
        crate::persist::read_user_file(file)
            .map_err(|e| usage(format!("cannot read '{file}': {e}")))
    };
    let (k, kv) = match (
        a.get("--pem-file"),
        a.get("--pfx-file"),
        a.get("--byok-file"),
    ) {
        (Some(file), None, None) => {
            let pem = String::from_utf8_lossy(&read(&file)?).to_string();
            if kty.is_rsa() {
                keyvault::import_pem_key(ws, &vault, &name, kty, &pem)?
            } else {
                keyvault::import_ec_pem_key(ws, &vault, &name, kty, &pem)?
            }
        }
        (None, Some(file), None) => {
            let password = a.get("--pfx-password").unwrap_or_default();
            keyvault::import_pfx_key(ws, &vault, &name, kty, &read(&file)?, &password)?
        }
        (None, None, Some(file)) => {
            keyvault::import_byok_key(ws, &vault, &name, kty, &read(&file)?)?
        }
        _ => {
            return Err(usage(
                "give exactly one of --pem-file, --pfx-file (with --pfx-password) or --byok-file",
            ));
        }
    };
    let v = keyvault::vault_state(ws, &vault)?;
    Ok(views::key(&v, &k, &kv))
}

fn keyvault_key_backup(
    ws: &mut Workspace,
    _keys: &dyn KeySource,
    _cmd: &str,
    a: &mut Args,
) -> CmdResult {
    let (vault, name, _) = key_ref(a)?;
    let file = a.required("--file")?;
    if std::path::Path::new(&file).exists() {
        return Err(usage(format!("File '{file}' already exists.")));
    }
    // Recorded as backed up only once the file is safely written.
    let mut draft = ws.clone();
    let written = keyvault::backup_key(&mut draft, &vault, &name)
        .map_err(CommandError::from)
        .and_then(|blob| {
            crate::persist::write_new_file(std::path::Path::new(&file), &blob).map_err(usage)
        });
    if let Err(e) = written {
        // The vault answered the backup request either way: its record stays.
        ws.keep_trace_of(draft);
        return Err(e);
    }
    *ws = draft;
    // az prints nothing for a backup.
    Ok(Value::Null)
}

fn keyvault_key_restore(
    ws: &mut Workspace,
    _keys: &dyn KeySource,
    _cmd: &str,
    a: &mut Args,
) -> CmdResult {
    let vault = a.required("--vault-name")?;
    let file = a.required("--file")?;
    let blob = crate::persist::read_user_file(&file)
        .map_err(|e| usage(format!("cannot read '{file}': {e}")))?;
    let k = keyvault::restore_key(ws, &vault, &blob)?;
    let (v, k, kv) = keyvault::key_state(ws, &vault, &k.name, None)?;
    Ok(views::key(&v, &k, &kv))
}

fn keyvault_key_recover(
    ws: &mut Workspace,
    _keys: &dyn KeySource,
    _cmd: &str,
    a: &mut Args,
) -> CmdResult {
    let (vault, name, _) = key_ref(a)?;
    keyvault::recover_key(ws, &vault, &name)?;
    let (v, k, kv) = keyvault::key_state(ws, &vault, &name, None)?;
    Ok(views::key(&v, &k, &kv))
}
