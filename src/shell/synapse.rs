//! `az storage account …`, `az storage fs …` (the Data Lake Storage Gen2 account and file
//! system a workspace needs), `az synapse workspace …` (double encryption with a
//! customer-managed key, its keys, activation, key switch) and `az synapse sql pool …`
//! (dedicated SQL pools, their TDE). The rules are in [`crate::service::synapse`]; this
//! module parses az's arguments and prints Microsoft's field names.

use super::args::Args;
use super::commands::{CmdResult, usage};
use super::registry::Command;
use crate::model::*;
use crate::service::KeySource;
use crate::service::synapse as syn;
use serde_json::{Value, json};

/// `-u`, `-p` of `az synapse workspace create`.
const WS_SHORTS: &[(&str, &str)] = &[
    ("-u", "--sql-admin-login-user"),
    ("-p", "--sql-admin-login-password"),
];

/// `--cmk` is `--key-identifier`.
const CMK: &[(&str, &str)] = &[("--cmk", "--key-identifier")];

/// `-d` / `--tran-data-en` are `--transparent-data-encryption-name`.
const TDE_SHORTS: &[(&str, &str)] = &[("-d", "--transparent-data-encryption-name")];
const TDE_ALIASES: &[(&str, &str)] = &[("--tran-data-en", "--transparent-data-encryption-name")];

pub const COMMANDS: &[Command] = &[
    Command::new(
        "az storage account create",
        "Create a storage account.",
        &[
            "--name",
            "--resource-group",
            "--location",
            "--kind",
            "--sku",
            "--hns",
            "--enable-hierarchical-namespace",
            "--tags",
            "--access-tier",
            "--min-tls-version",
            "--allow-blob-public-access",
        ],
        storage_create,
    )
    .aliases(&[("--enable-hierarchical-namespace", "--hns")]),
    Command::new(
        "az storage account show",
        "Show storage account properties.",
        &["--name", "--resource-group"],
        storage_show,
    ),
    Command::new(
        "az storage account list",
        "List storage accounts.",
        &["--resource-group"],
        storage_list,
    ),
    Command::new(
        "az storage account delete",
        "Delete a storage account.",
        &["--name", "--resource-group", "--yes"],
        storage_show,
    ),
    Command::new(
        "az storage fs create",
        "Create file system for Azure Data Lake Storage Gen2 account.",
        &["--name", "--account-name", "--auth-mode", "--account-key"],
        fs_cmd,
    ),
    Command::new(
        "az storage fs show",
        "Show properties of file system in ADLS Gen2 account.",
        &["--name", "--account-name", "--auth-mode", "--account-key"],
        fs_cmd,
    ),
    Command::new(
        "az storage fs list",
        "List file systems in ADLS Gen2 account.",
        &["--account-name", "--auth-mode", "--account-key"],
        fs_cmd,
    ),
    Command::new(
        "az storage fs delete",
        "Delete a file system in ADLS Gen2 account.",
        &[
            "--name",
            "--account-name",
            "--auth-mode",
            "--account-key",
            "--yes",
        ],
        fs_cmd,
    ),
    Command::new(
        "az synapse workspace create",
        "Create a Synapse workspace.",
        &[
            "--name",
            "--resource-group",
            "--location",
            "--storage-account",
            "--file-system",
            "--sql-admin-login-user",
            "--sql-admin-login-password",
            "--key-identifier",
            "--key-name",
            "--uami-id",
            "--uami-id-in-encrypt",
            "--use-sami-in-encrypt",
            "--tags",
            "--no-wait",
            "--enable-managed-vnet",
            "--prevent-exfiltration",
            "--allowed-tenant-ids",
        ],
        ws_create,
    )
    .shorts(WS_SHORTS)
    .aliases(CMK),
    Command::new(
        "az synapse workspace show",
        "Get a Synapse workspace.",
        &["--name", "--resource-group"],
        ws_show,
    ),
    Command::new(
        "az synapse workspace list",
        "List all Synapse workspaces.",
        &["--resource-group"],
        ws_list,
    ),
    Command::new(
        "az synapse workspace delete",
        "Delete a Synapse workspace.",
        &["--name", "--resource-group", "--yes", "--no-wait"],
        ws_show,
    ),
    Command::new(
        "az synapse workspace update",
        "Update a Synapse workspace.",
        &[
            "--name",
            "--resource-group",
            "--key-name",
            "--uami-id-in-encrypt",
            "--use-sami-in-encrypt",
            "--tags",
            "--sql-admin-login-password",
            "--no-wait",
        ],
        ws_update,
    )
    .shorts(WS_SHORTS),
    Command::new(
        "az synapse workspace activate",
        "Activate a workspace and change it's state from pending to success state when the workspace is first being provisioned and double encryption is enabled.",
        &[
            "--name",
            "--workspace-name",
            "--resource-group",
            "--key-identifier",
            "--no-wait",
        ],
        ws_activate,
    ),
    Command::new(
        "az synapse workspace firewall-rule create",
        "Create an IP firewall rule.",
        &[
            "--name",
            "--workspace-name",
            "--resource-group",
            "--start-ip-address",
            "--end-ip-address",
            "--no-wait",
        ],
        fw_cmd,
    ),
    Command::new(
        "az synapse workspace firewall-rule show",
        "Get an IP firewall rule.",
        &["--name", "--workspace-name", "--resource-group"],
        fw_cmd,
    ),
    Command::new(
        "az synapse workspace firewall-rule list",
        "List all IP firewall rules.",
        &["--workspace-name", "--resource-group"],
        fw_cmd,
    ),
    Command::new(
        "az synapse workspace firewall-rule delete",
        "Delete an IP firewall rule.",
        &[
            "--name",
            "--workspace-name",
            "--resource-group",
            "--yes",
            "--no-wait",
        ],
        fw_cmd,
    ),
    Command::new(
        "az synapse workspace key create",
        "Create a workspace key.",
        &[
            "--name",
            "--workspace-name",
            "--resource-group",
            "--key-identifier",
            "--no-wait",
        ],
        key_cmd,
    ),
    Command::new(
        "az synapse workspace key show",
        "Show a workspace key by name.",
        &["--name", "--workspace-name", "--resource-group"],
        key_cmd,
    ),
    Command::new(
        "az synapse workspace key list",
        "List keys under specified workspace.",
        &["--workspace-name", "--resource-group"],
        key_cmd,
    ),
    Command::new(
        "az synapse workspace key delete",
        "Delete a workspace key.",
        &[
            "--name",
            "--workspace-name",
            "--resource-group",
            "--yes",
            "--no-wait",
        ],
        key_cmd,
    ),
    Command::new(
        "az synapse sql pool create",
        "Create a SQL pool.",
        &[
            "--name",
            "--workspace-name",
            "--resource-group",
            "--performance-level",
            "--storage-type",
            "--collation",
            "--tags",
            "--no-wait",
        ],
        pool_create,
    ),
    Command::new(
        "az synapse sql pool show",
        "Get a SQL pool.",
        &["--name", "--workspace-name", "--resource-group"],
        pool_cmd,
    ),
    Command::new(
        "az synapse sql pool list",
        "List all SQL pools.",
        &["--workspace-name", "--resource-group"],
        pool_list,
    ),
    Command::new(
        "az synapse sql pool pause",
        "Pause a SQL pool.",
        // az's command table has no --no-wait here (commands.py: `g.command('pause',
        // 'pause')` without supports_no_wait): the command waits until the pool is Paused.
        &["--name", "--workspace-name", "--resource-group"],
        pool_cmd,
    ),
    Command::new(
        "az synapse sql pool resume",
        "Resume a SQL pool.",
        // az's command table has no --no-wait here (commands.py: `g.command('resume',
        // 'resume')` without supports_no_wait): the command waits until the pool is Online.
        &["--name", "--workspace-name", "--resource-group"],
        pool_cmd,
    ),
    Command::new(
        "az synapse sql pool delete",
        "Delete a SQL pool.",
        &[
            "--name",
            "--workspace-name",
            "--resource-group",
            "--yes",
            "--no-wait",
        ],
        pool_cmd,
    ),
    Command::new(
        "az synapse sql pool tde set",
        "Set a SQL pool's status of transparent data encryption.",
        &[
            "--name",
            "--workspace-name",
            "--resource-group",
            "--status",
            "--transparent-data-encryption-name",
        ],
        pool_tde,
    )
    .shorts(TDE_SHORTS)
    .aliases(TDE_ALIASES),
    Command::new(
        "az synapse sql pool tde show",
        "Get a SQL pool's transparent data encryption configuration.",
        &[
            "--name",
            "--workspace-name",
            "--resource-group",
            "--transparent-data-encryption-name",
        ],
        pool_tde,
    )
    .shorts(TDE_SHORTS)
    .aliases(TDE_ALIASES),
];

// ---------------------------------------------------------------------------------------
// JSON views
// ---------------------------------------------------------------------------------------

pub fn storage_json(a: &StorageAccount) -> Value {
    json!({
        "id": a.arm_id(),
        "name": a.name,
        "type": "Microsoft.Storage/storageAccounts",
        "location": a.location,
        "resourceGroup": a.resource_group,
        "kind": a.kind,
        "sku": {"name": a.sku, "tier": if a.sku.starts_with("Premium") { "Premium" } else { "Standard" }},
        "isHnsEnabled": a.hns,
        "provisioningState": "Succeeded",
        "creationTime": a.created.to_iso(),
        "primaryEndpoints": {
            "blob": format!("https://{}.blob.core.windows.net/", a.name),
            "dfs": a.dfs_endpoint(),
        },
    })
}

fn fs_json(name: &str) -> Value {
    json!({
        "name": name,
        "metadata": {},
        "publicAccess": null,
        "hasImmutabilityPolicy": false,
        "hasLegalHold": false,
    })
}

pub fn key_json(w: &SynapseWorkspace, k: &WorkspaceKey) -> Value {
    json!({
        "id": format!("{}/keys/{}", w.arm_id(), k.name),
        "name": k.name,
        "type": "Microsoft.Synapse/workspaces/keys",
        "resourceGroup": w.resource_group,
        "isActiveCmk": k.is_active_cmk,
        "keyVaultUrl": k.key_vault_url,
    })
}

pub fn workspace_json(ws: &Workspace, w: &SynapseWorkspace) -> Value {
    let mut identity = json!({
        "type": if w.user_assigned.is_empty() { "SystemAssigned" } else { "SystemAssigned,UserAssigned" },
        "principalId": w.principal_id.0,
        "tenantId": w.tenant_id.0,
    });
    if !w.user_assigned.is_empty() {
        let map: serde_json::Map<String, Value> = w
            .user_assigned
            .iter()
            .map(|id| {
                let u = ws.identity(id);
                (
                    id.clone(),
                    json!({
                        "principalId": u.map(|u| u.principal_id.0.clone()),
                        "clientId": u.map(|u| u.client_id.clone()),
                    }),
                )
            })
            .collect();
        identity["userAssignedIdentities"] = Value::Object(map);
    }
    let encryption = if w.double_encryption {
        let key = w.cmk_key.as_deref().and_then(|n| w.key(n));
        json!({
            "doubleEncryptionEnabled": true,
            "cmk": {
                "status": w.cmk_status.map(CmkStatus::as_str),
                "key": {
                    "name": key.map(|k| k.name.clone()),
                    "keyVaultUrl": key.map(|k| k.key_vault_url.clone()),
                },
                "kekIdentity": {
                    "userAssignedIdentity": w.uami_in_encrypt,
                    "useSystemAssignedIdentity": w.use_sami_in_encrypt,
                },
            },
        })
    } else {
        json!({"doubleEncryptionEnabled": false})
    };
    json!({
        "id": w.arm_id(),
        "name": w.name,
        "type": "Microsoft.Synapse/workspaces",
        "location": w.location,
        "resourceGroup": w.resource_group,
        "tags": {},
        "identity": identity,
        "defaultDataLakeStorage": {
            "accountUrl": format!("https://{}.dfs.core.windows.net", w.storage_account),
            "filesystem": w.file_system,
        },
        "sqlAdministratorLogin": w.sql_admin_login,
        "managedResourceGroupName": w.managed_resource_group,
        "provisioningState": "Succeeded",
        "workspaceUid": w.workspace_uid,
        "connectivityEndpoints": {
            "dev": format!("https://{}.dev.azuresynapse.net", w.name),
            "sql": format!("{}.sql.azuresynapse.net", w.name),
            "sqlOnDemand": format!("{}-ondemand.sql.azuresynapse.net", w.name),
            "web": format!("https://web.azuresynapse.net?workspace=%2f{}", w.arm_id().replace('/', "%2f").trim_start_matches("%2f")),
        },
        "encryption": encryption,
    })
}

pub fn pool_json(w: &SynapseWorkspace, p: &SynapseSqlPool) -> Value {
    json!({
        "id": format!("{}/sqlPools/{}", w.arm_id(), p.name),
        "name": p.name,
        "type": "Microsoft.Synapse/workspaces/sqlPools",
        "location": w.location,
        "resourceGroup": w.resource_group,
        "sku": {"name": p.performance_level, "tier": "DataWarehouse", "capacity": 0},
        "status": p.status.as_str(),
        "provisioningState": "Succeeded",
        "collation": p.collation,
        "storageAccountType": p.storage_type,
        "creationDate": p.created.to_iso(),
        "maxSizeBytes": 263_882_790_666_240_u64,
    })
}

fn tde_json(w: &SynapseWorkspace, p: &SynapseSqlPool) -> Value {
    json!({
        "id": format!("{}/sqlPools/{}/transparentDataEncryption/current", w.arm_id(), p.name),
        "name": "current",
        "type": "Microsoft.Synapse/workspaces/sqlPools/transparentDataEncryption",
        "location": w.location,
        "resourceGroup": w.resource_group,
        "status": if p.tde_enabled { "Enabled" } else { "Disabled" },
    })
}

// ---------------------------------------------------------------------------------------
// Handlers
// ---------------------------------------------------------------------------------------

fn storage_create(ws: &mut Workspace, _: &dyn KeySource, _: &str, a: &mut Args) -> CmdResult {
    let hns = match a.get("--hns") {
        None => false,
        Some(v) => parse_bool("--hns", &v)?,
    };
    let acct = syn::create_storage_account(
        ws,
        &syn::CreateStorageAccount {
            name: a.required("--name")?,
            resource_group: a.required("--resource-group")?,
            location: a.get("--location"),
            kind: a.get("--kind"),
            sku: a.get("--sku"),
            hns,
        },
    )?;
    Ok(storage_json(&acct))
}

fn storage_show(ws: &mut Workspace, _: &dyn KeySource, cmd: &str, a: &mut Args) -> CmdResult {
    let name = a.required("--name")?;
    let group = a.required("--resource-group")?;
    if cmd.ends_with("delete") {
        syn::delete_storage_account(ws, &name, &group)?;
        return Ok(Value::Null);
    }
    Ok(storage_json(syn::show_storage_account(ws, &name, &group)?))
}

fn storage_list(ws: &mut Workspace, _: &dyn KeySource, _: &str, a: &mut Args) -> CmdResult {
    let g = a.get("--resource-group");
    Ok(Value::Array(
        syn::list_storage_accounts(ws, g.as_deref())?
            .into_iter()
            .map(storage_json)
            .collect(),
    ))
}

fn fw_json(w: &SynapseWorkspace, r: &FirewallRule) -> Value {
    json!({
        "id": format!("{}/firewallRules/{}", w.arm_id(), r.name),
        "name": r.name,
        "type": "Microsoft.Synapse/workspaces/firewallRules",
        "resourceGroup": w.resource_group,
        "startIpAddress": r.start_ip,
        "endIpAddress": r.end_ip,
        "provisioningState": "Succeeded",
    })
}

/// `az synapse workspace firewall-rule create|show|list|delete`.
fn fw_cmd(ws: &mut Workspace, _: &dyn KeySource, cmd: &str, a: &mut Args) -> CmdResult {
    let workspace = a.required("--workspace-name")?;
    let group = a.required("--resource-group")?;
    let verb = cmd.rsplit(' ').next().unwrap_or_default();
    if verb == "list" {
        let w = syn::show_workspace(ws, &workspace, &group)?;
        return Ok(Value::Array(
            w.firewall_rules.iter().map(|r| fw_json(w, r)).collect(),
        ));
    }
    let name = a.required("--name")?;
    let rule = match verb {
        "create" => {
            let start = a.required("--start-ip-address")?;
            let end = a.required("--end-ip-address")?;
            syn::create_firewall_rule(ws, &workspace, &group, &name, &start, &end)?
        }
        "delete" => {
            syn::delete_firewall_rule(ws, &workspace, &group, &name)?;
            return Ok(Value::Null);
        }
        _ => syn::show_firewall_rule(ws, &workspace, &group, &name)?,
    };
    let w = syn::show_workspace(ws, &workspace, &group)?;
    Ok(fw_json(w, &rule))
}

fn fs_cmd(ws: &mut Workspace, _: &dyn KeySource, cmd: &str, a: &mut Args) -> CmdResult {
    let account = a.required("--account-name")?;
    match cmd.rsplit(' ').next().unwrap_or_default() {
        "create" => {
            syn::create_file_system(ws, &account, &a.required("--name")?)?;
            Ok(
                json!({"client_request_id": null, "date": ws.now().to_iso(), "etag": null, "last_modified": ws.now().to_iso()}),
            )
        }
        "show" => Ok(fs_json(&syn::show_file_system(
            ws,
            &account,
            &a.required("--name")?,
        )?)),
        "list" => Ok(Value::Array(
            syn::list_file_systems(ws, &account)?
                .iter()
                .map(|f| fs_json(f))
                .collect(),
        )),
        _ => {
            syn::delete_file_system(ws, &account, &a.required("--name")?)?;
            Ok(Value::Null)
        }
    }
}

fn parse_bool(flag: &str, v: &str) -> Result<bool, super::commands::CommandError> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "t" | "yes" | "y" | "1" => Ok(true),
        "false" | "f" | "no" | "n" | "0" => Ok(false),
        _ => Err(usage(format!(
            "argument {flag}: invalid value: '{v}' (choose from 'false', 'true')"
        ))),
    }
}

fn ws_create(ws: &mut Workspace, _: &dyn KeySource, _: &str, a: &mut Args) -> CmdResult {
    // az checks its required arguments before anything else.
    let name = a.required("--name")?;
    let group = a.required("--resource-group")?;
    let storage = a.required("--storage-account")?;
    let fs = a.required("--file-system")?;
    let user = a.required("--sql-admin-login-user")?;
    let password = a.required("--sql-admin-login-password")?;
    let use_sami = match a.get("--use-sami-in-encrypt") {
        None => None,
        Some(v) => Some(parse_bool("--use-sami-in-encrypt", &v)?),
    };
    let w = syn::create_workspace(
        ws,
        &syn::CreateWorkspace {
            name,
            resource_group: group,
            location: a.get("--location"),
            storage_account: storage,
            file_system: fs,
            sql_admin_login_user: user,
            sql_admin_login_password: password,
            key_identifier: a.get("--key-identifier"),
            key_name: a.get("--key-name"),
            uami_ids: a.list("--uami-id"),
            uami_id_in_encrypt: a.get("--uami-id-in-encrypt"),
            use_sami_in_encrypt: use_sami,
        },
    )?;
    Ok(workspace_json(ws, &w))
}

fn ws_show(ws: &mut Workspace, _: &dyn KeySource, cmd: &str, a: &mut Args) -> CmdResult {
    let name = a.required("--name")?;
    let group = a.required("--resource-group")?;
    if cmd.ends_with("delete") {
        syn::delete_workspace(ws, &name, &group)?;
        return Ok(Value::Null);
    }
    let w = syn::show_workspace(ws, &name, &group)?;
    Ok(workspace_json(ws, w))
}

fn ws_list(ws: &mut Workspace, _: &dyn KeySource, _: &str, a: &mut Args) -> CmdResult {
    let g = a.get("--resource-group");
    let list = syn::list_workspaces(ws, g.as_deref())?;
    Ok(Value::Array(
        list.into_iter().map(|w| workspace_json(ws, w)).collect(),
    ))
}

fn ws_update(ws: &mut Workspace, _: &dyn KeySource, _: &str, a: &mut Args) -> CmdResult {
    let name = a.required("--name")?;
    let group = a.required("--resource-group")?;
    // The identity used for encryption stays as created: the flags may repeat it (as
    // Microsoft's key rotation example does with `-UseSystemAssignedIdentityInEncryption
    // $true`), not change it.
    let current = syn::show_workspace(ws, &name, &group)?;
    let same_sami = match a.get("--use-sami-in-encrypt") {
        None => true,
        Some(v) => parse_bool("--use-sami-in-encrypt", &v)? == current.use_sami_in_encrypt,
    };
    let same_uami = a.get("--uami-id-in-encrypt").is_none_or(|u| {
        current
            .uami_in_encrypt
            .as_deref()
            .is_some_and(|c| c.eq_ignore_ascii_case(&u))
    });
    if !same_sami || !same_uami {
        return Err(usage(
            "changing the identity used for encryption is not simulated; give --key-name only",
        ));
    }
    let w = match a.get("--key-name") {
        Some(k) => syn::update_key(ws, &name, &group, &k)?,
        None => syn::show_workspace(ws, &name, &group)?.clone(),
    };
    Ok(workspace_json(ws, &w))
}

fn ws_activate(ws: &mut Workspace, _: &dyn KeySource, _: &str, a: &mut Args) -> CmdResult {
    let key = a.required("--name")?;
    let workspace = a.required("--workspace-name")?;
    let group = a.required("--resource-group")?;
    let url = a.required("--key-identifier")?;
    let k = syn::activate(ws, &workspace, &group, &key, &url)?;
    let w = syn::show_workspace(ws, &workspace, &group)?;
    Ok(key_json(w, &k))
}

fn key_cmd(ws: &mut Workspace, _: &dyn KeySource, cmd: &str, a: &mut Args) -> CmdResult {
    let workspace = a.required("--workspace-name")?;
    let group = a.required("--resource-group")?;
    match cmd.rsplit(' ').next().unwrap_or_default() {
        "create" => {
            let name = a.required("--name")?;
            let url = a.required("--key-identifier")?;
            let k = syn::create_key(ws, &workspace, &group, &name, &url)?;
            let w = syn::show_workspace(ws, &workspace, &group)?;
            Ok(key_json(w, &k))
        }
        "show" => {
            let name = a.required("--name")?;
            let k = syn::show_key(ws, &workspace, &group, &name)?;
            let w = syn::show_workspace(ws, &workspace, &group)?;
            Ok(key_json(w, k))
        }
        "list" => {
            let w = syn::show_workspace(ws, &workspace, &group)?;
            Ok(Value::Array(
                w.keys.iter().map(|k| key_json(w, k)).collect(),
            ))
        }
        _ => {
            let name = a.required("--name")?;
            let w = syn::show_workspace(ws, &workspace, &group)?.clone();
            Ok(match syn::delete_key(ws, &workspace, &group, &name)? {
                Some(k) => key_json(&w, &k),
                None => Value::Null,
            })
        }
    }
}

fn pool_create(ws: &mut Workspace, _: &dyn KeySource, _: &str, a: &mut Args) -> CmdResult {
    let req = syn::CreatePool {
        name: a.required("--name")?,
        workspace: a.required("--workspace-name")?,
        resource_group: a.required("--resource-group")?,
        performance_level: a.required("--performance-level")?,
        storage_type: a.get("--storage-type"),
        collation: a.get("--collation"),
    };
    let p = syn::create_pool(ws, &req)?;
    let w = syn::show_workspace(ws, &req.workspace, &req.resource_group)?;
    Ok(pool_json(w, &p))
}

fn pool_cmd(ws: &mut Workspace, _: &dyn KeySource, cmd: &str, a: &mut Args) -> CmdResult {
    let name = a.required("--name")?;
    let workspace = a.required("--workspace-name")?;
    let group = a.required("--resource-group")?;
    let p = match cmd.rsplit(' ').next().unwrap_or_default() {
        "pause" => syn::pause_pool(ws, &workspace, &group, &name)?,
        "resume" => syn::resume_pool(ws, &workspace, &group, &name)?,
        "delete" => {
            syn::delete_pool(ws, &workspace, &group, &name)?;
            return Ok(Value::Null);
        }
        _ => syn::show_pool(ws, &workspace, &group, &name)?.1.clone(),
    };
    let w = syn::show_workspace(ws, &workspace, &group)?;
    Ok(pool_json(w, &p))
}

fn pool_list(ws: &mut Workspace, _: &dyn KeySource, _: &str, a: &mut Args) -> CmdResult {
    let workspace = a.required("--workspace-name")?;
    let group = a.required("--resource-group")?;
    let w = syn::show_workspace(ws, &workspace, &group)?;
    Ok(Value::Array(
        w.pools.iter().map(|p| pool_json(w, p)).collect(),
    ))
}

fn pool_tde(ws: &mut Workspace, _: &dyn KeySource, cmd: &str, a: &mut Args) -> CmdResult {
    let set = cmd.ends_with("set");
    let status = if set {
        let s = a
            .get("--status")
            .ok_or_else(|| usage("the following arguments are required: --status"))?;
        Some(match s.as_str() {
            "Enabled" | "enabled" => true,
            "Disabled" | "disabled" => false,
            other => {
                return Err(usage(format!(
                    "'{other}' is not a valid value for '--status'. Allowed values: Enabled, Disabled."
                )));
            }
        })
    } else {
        None
    };
    let name = a.required("--name")?;
    let workspace = a.required("--workspace-name")?;
    let group = a.required("--resource-group")?;
    let tde_name = a.get("--transparent-data-encryption-name").ok_or_else(|| {
        usage("the following arguments are required: --transparent-data-encryption-name/-d")
    })?;
    if tde_name != "current" {
        return Err(crate::service::ServiceError::not_found(
            "ResourceNotFound",
            format!(
                "The transparent data encryption '{tde_name}' was not found: its name is 'current'."
            ),
        )
        .into());
    }
    let p = match status {
        Some(enabled) => syn::set_pool_tde(ws, &workspace, &group, &name, enabled)?,
        None => syn::show_pool(ws, &workspace, &group, &name)?.1.clone(),
    };
    let w = syn::show_workspace(ws, &workspace, &group)?;
    Ok(tde_json(w, &p))
}
