//! Az.Synapse's cmdlets for workspaces with double encryption, their keys and their dedicated
//! SQL pools, as Microsoft's Synapse encryption pages and the Az.Synapse reference use them.
//! Each runs its `az synapse …` twin through the command registry (so the operations layer's
//! rules and errors are the same), and prints Az's objects: `PSSynapseWorkspace` (with
//! `Encryption.CustomerManagedKeyDetails.Key.KeyVaultUrl`, `…Status`,
//! `Encryption.DoubleEncryptionEnabled`), `PSWorkspaceKey`, `PSSynapseSqlPool` and
//! `PSTransparentDataEncryption` (property names from azure-powershell's
//! `src/Synapse/Synapse/Models`).
//!
//! Parameter tables: the help files of azure-powershell (`src/Synapse/Synapse/help`), the
//! newest stored version of each; `New-AzSynapseWorkspace`'s and `Update-AzSynapseWorkspace`'s
//! stored files predate the encryption parameters, so theirs come from the help text Learn
//! renders (see `tests/fixtures/az-help/pwsh-params.txt`). `Update-AzSynapseWorkspaceKey
//! -Activate` is not here: Az.Synapse 0.15.0 renamed it `Enable-AzSynapseWorkspace`.
//!
//! As in Az, `-ResourceGroupName` may be left out: the workspace is looked up by name in the
//! subscription. A workspace, pool or key may also be named by `-ResourceId`,
//! `-WorkspaceObject` (a workspace from `Get-AzSynapseWorkspace`) or `-InputObject` (a pool
//! or key from its Get cmdlet).

use super::{Cmdlet, Params, Shell, credential, ps_date, scalar};
use crate::model::Workspace;
use serde_json::{Value, json};

/// A workspace (and a pool or key in it) a cmdlet line names.
struct Target {
    group: String,
    workspace: String,
    /// The pool or key: `-Name`, or the last segment of a child's resource id.
    name: Option<String>,
}

impl Target {
    /// `az WORDS --workspace-name W -g G`: an az command on this workspace.
    fn az(&self, sh: &mut Shell, ws: &mut Workspace, words: &[&str]) -> Result<Value, String> {
        let mut all = words.to_vec();
        all.extend(["--workspace-name", &self.workspace, "-g", &self.group]);
        sh.az(ws, &all)
    }
}

/// Az's message for an id that is not a resource id (`ResourceIdentifier`).
const BAD_ID: &str = "Invalid format of the resource identifier.";

/// `/subscriptions/…/resourceGroups/G/providers/Microsoft.Synapse/workspaces/W[/<child>/N]`.
fn parse_id(id: &str, child: Option<&str>) -> Result<Target, String> {
    let parts: Vec<&str> = id.trim_matches('/').split('/').collect();
    let after = |label: &str| {
        parts
            .iter()
            .position(|p| p.eq_ignore_ascii_case(label))
            .and_then(|i| parts.get(i + 1))
            .map(|s| s.to_string())
    };
    let (Some(group), Some(workspace)) = (after("resourceGroups"), after("workspaces")) else {
        return Err(BAD_ID.into());
    };
    let name = match child {
        Some(c) => Some(after(c).ok_or(BAD_ID)?),
        None => None,
    };
    Ok(Target {
        group,
        workspace,
        name,
    })
}

/// The `Id` of an object a line passed (`$ws`, `$pool`, `$key`).
fn object_id(p: &Params, param: &str) -> Option<String> {
    p.0.iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(param))
        .map(|(_, v)| match v {
            Value::Object(m) => m
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("Id"))
                .map(|(_, v)| scalar(v))
                .unwrap_or_default(),
            other => scalar(other),
        })
}

/// The resource group of workspace `name`, as Az finds it when `-ResourceGroupName` is left
/// out: the subscription's workspace of that name (any case).
fn group_of(sh: &mut Shell, ws: &mut Workspace, name: &str) -> Result<String, String> {
    let list = sh.az(ws, &["synapse", "workspace", "list"])?;
    list.as_array()
        .into_iter()
        .flatten()
        .find(|w| {
            w["name"]
                .as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case(name))
        })
        .and_then(|w| w["resourceGroup"].as_str().map(String::from))
        .ok_or_else(|| {
            let sub = ws
                .subscription()
                .map(|s| s.id.0.clone())
                .unwrap_or_default();
            format!(
                "Could not find the resource group of workspace '{name}' in subscription '{sub}'."
            )
        })
}

/// The workspace (and child) a line names, by `-ResourceId`, `-InputObject` (a child),
/// `-WorkspaceObject` or `-WorkspaceName` (`name_param` for cmdlets whose workspace name is
/// `-Name`). `child` is the child's segment in a resource id (`sqlPools`, `keys`).
fn target(
    sh: &mut Shell,
    ws: &mut Workspace,
    p: &Params,
    child: Option<&str>,
    name_param: &str,
) -> Result<Target, String> {
    if let Some(id) = p.get("ResourceId") {
        return parse_id(&id, child);
    }
    if let Some(id) = object_id(p, "InputObject") {
        return parse_id(&id, child);
    }
    let name = child.and(p.get("Name"));
    if let Some(id) = object_id(p, "WorkspaceObject") {
        let t = parse_id(&id, None)?;
        return Ok(Target { name, ..t });
    }
    let Some(workspace) = p.get(name_param) else {
        return Err(format!(
            "Cannot process command because of one or more missing mandatory parameters: {name_param}."
        ));
    };
    let group = match p.get("ResourceGroupName") {
        Some(g) => g,
        None => group_of(sh, ws, &workspace)?,
    };
    Ok(Target {
        group,
        workspace,
        name,
    })
}

/// A child cmdlet's pool or key name, which its parameter sets make mandatory.
fn child_name(t: &Target) -> Result<String, String> {
    t.name.clone().ok_or_else(|| {
        "Cannot process command because of one or more missing mandatory parameters: Name.".into()
    })
}

/// `PSSynapseWorkspace` from `az synapse workspace show`'s JSON.
fn ps_workspace(v: &Value) -> Value {
    let enc = &v["encryption"];
    let cmk = &enc["cmk"];
    let details = if cmk.is_null() {
        Value::Null
    } else {
        json!({
            "Status": cmk["status"],
            "Key": {"Name": cmk["key"]["name"], "KeyVaultUrl": cmk["key"]["keyVaultUrl"]},
            "KekIdentity": {
                "UserAssignedIdentity": cmk["kekIdentity"]["userAssignedIdentity"],
                "UseSystemAssignedIdentity": cmk["kekIdentity"]["useSystemAssignedIdentity"],
            },
        })
    };
    let id = &v["identity"];
    json!({
        "ResourceGroupName": v["resourceGroup"],
        "Name": v["name"],
        "Id": v["id"],
        "Type": v["type"],
        "Location": v["location"],
        "Tags": v["tags"],
        "DefaultDataLakeStorage": {
            "DefaultDataLakeStorageAccountUrl": v["defaultDataLakeStorage"]["accountUrl"],
            "DefaultDataLakeStorageFilesystem": v["defaultDataLakeStorage"]["filesystem"],
        },
        "ManagedResourceGroupName": v["managedResourceGroupName"],
        "ProvisioningState": v["provisioningState"],
        "SqlAdministratorLogin": v["sqlAdministratorLogin"],
        "Identity": {
            "IdentityType": id["type"],
            "PrincipalId": id["principalId"],
            "TenantId": id["tenantId"],
            "UserAssignedIdentities": id["userAssignedIdentities"],
        },
        "ConnectivityEndpoints": v["connectivityEndpoints"],
        "WorkspaceUID": v["workspaceUid"],
        "Encryption": {
            "DoubleEncryptionEnabled": enc["doubleEncryptionEnabled"],
            "CustomerManagedKeyDetails": details,
        },
        "PublicNetworkAccess": "Enabled",
    })
}

/// `PSSynapseIpFirewallRule` from `az synapse workspace firewall-rule show`'s JSON.
fn ps_firewall_rule(v: &Value) -> Value {
    json!({
        "Name": v["name"],
        "Id": v["id"],
        "Type": v["type"],
        "StartIpAddress": v["startIpAddress"],
        "EndIpAddress": v["endIpAddress"],
        "ProvisioningState": v["provisioningState"],
    })
}

/// `PSWorkspaceKey` from `az synapse workspace key show`'s JSON.
fn ps_key(v: &Value) -> Value {
    json!({
        "Id": v["id"],
        "Name": v["name"],
        "Type": v["type"],
        "IsActiveCustomerManagedKey": v["isActiveCmk"].as_bool().unwrap_or(false),
        "KeyVaultUrl": v["keyVaultUrl"],
    })
}

/// `PSSynapseSqlPool` from `az synapse sql pool show`'s JSON.
fn ps_pool(v: &Value) -> Value {
    json!({
        "Name": v["name"],
        "Id": v["id"],
        "Type": v["type"],
        "Location": v["location"],
        "Tags": v.get("tags").cloned().unwrap_or(json!({})),
        "Sku": {"Name": v["sku"]["name"], "Tier": v["sku"]["tier"], "Capacity": v["sku"]["capacity"]},
        "MaxSizeBytes": v["maxSizeBytes"],
        "Collation": v["collation"],
        "SourceDatabaseId": null,
        "RecoverableDatabaseId": null,
        "ProvisioningState": v["provisioningState"],
        "Status": v["status"],
        "RestorePointInTime": null,
        "CreateMode": null,
        "CreationDate": ps_date(&v["creationDate"]),
        "StorageAccountType": v["storageAccountType"],
    })
}

/// `PSTransparentDataEncryption`: the pool named, and `State` (`Enabled` / `Disabled`).
fn ps_tde(t: &Target, pool: &str, v: &Value) -> Value {
    json!({
        "ResourceGroupName": t.group,
        "WorkspaceName": t.workspace,
        "SqlPoolName": pool,
        "State": v["status"],
    })
}

/// `-UseSystemAssignedIdentityInEncryption` (an Object in Az: `$true`, `$false` or text) as
/// az's `true` / `false`.
fn sami_flag(p: &Params) -> Option<String> {
    p.get("UseSystemAssignedIdentityInEncryption")
        .map(|v| v.to_ascii_lowercase())
}

/// `az synapse workspace key show` of a workspace's key.
fn key_show(sh: &mut Shell, ws: &mut Workspace, t: &Target, key: &str) -> Result<Value, String> {
    t.az(
        sh,
        ws,
        &["synapse", "workspace", "key", "show", "--name", key],
    )
}

/// `az synapse workspace firewall-rule <verb> ARGS` on the line's workspace.
fn rule_az(
    sh: &mut Shell,
    ws: &mut Workspace,
    t: &Target,
    verb: &str,
    args: &[&str],
) -> Result<Value, String> {
    let words: Vec<&str> = ["synapse", "workspace", "firewall-rule", verb]
        .into_iter()
        .chain(args.iter().copied())
        .collect();
    t.az(sh, ws, &words)
}

/// `az synapse sql pool <verb>` on the pool a line names.
fn pool_az(sh: &mut Shell, ws: &mut Workspace, t: &Target, verb: &str) -> Result<Value, String> {
    let name = child_name(t)?;
    let mut words: Vec<String> = [
        "synapse",
        "sql",
        "pool",
        verb,
        "--name",
        &name,
        "--workspace-name",
        &t.workspace,
        "-g",
        &t.group,
    ]
    .map(String::from)
    .to_vec();
    if verb == "delete" {
        words.push("--yes".into());
    }
    sh.az_words(ws, words)
}

/// `Suspend-AzSynapseSqlPool` / `Resume-AzSynapseSqlPool`: az's pause or resume, then the
/// pool as it is afterwards (Az writes it whether or not `-PassThru` is given).
fn pool_pause(sh: &mut Shell, ws: &mut Workspace, p: &Params, verb: &str) -> Result<Value, String> {
    let t = target(sh, ws, p, Some("sqlPools"), "WorkspaceName")?;
    pool_az(sh, ws, &t, verb)?;
    Ok(ps_pool(&pool_az(sh, ws, &t, "show")?))
}

/// `Start-Sleep`: the simulated clock moves on by that long, as `sleep` does in bash mode
/// (what a procedure waits for, activation or a key switch, happens meanwhile).
fn start_sleep(sh: &mut Shell, ws: &mut Workspace, p: &Params) -> Result<Value, String> {
    let seconds = match (p.get("Seconds"), p.get("Milliseconds")) {
        (Some(s), _) => s
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|s| s.is_finite() && *s >= 0.0)
            .ok_or_else(|| {
                format!("Cannot bind parameter 'Seconds'. Cannot convert value \"{s}\" to type \"System.Double\".")
            })?,
        (None, Some(ms)) => ms
            .trim()
            .parse::<u64>()
            .map(|ms| ms as f64 / 1000.0)
            .map_err(|_| {
                format!("Cannot bind parameter 'Milliseconds'. Cannot convert value \"{ms}\" to type \"System.Int32\".")
            })?,
        (None, None) => {
            return Err(
                "Cannot process command because of one or more missing mandatory parameters: Seconds."
                    .into(),
            );
        }
    };
    let r = sh.sleep(ws, &[format!("{}", seconds.ceil() as u64)]);
    if r.ok {
        Ok(Value::Null)
    } else {
        Err(r.stderr.trim_end().to_string())
    }
}

/// `Start-Process URL` (Learn's quickstarts open Synapse Studio's address so): the console
/// opens no browser and starts no program; it says so and prints the address to copy.
fn start_process(_: &mut Shell, _: &mut Workspace, p: &Params) -> Result<Value, String> {
    let target = p.req("FilePath");
    if target.starts_with("https://") || target.starts_with("http://") {
        return Ok(Value::String(format!(
            "(This console opens no browser; open the address yourself: {target})"
        )));
    }
    Err(format!(
        "This command cannot be run due to the error: this console starts no programs ('{target}')."
    ))
}

/// Cmdlets Az.Synapse renamed: old name, new name, the release (its ChangeLog).
pub(super) const RENAMED: &[(&str, &str, &str)] = &[(
    "Update-AzSynapseWorkspaceKey",
    "Enable-AzSynapseWorkspace",
    "Az.Synapse 0.15.0",
)];

pub(super) const CMDLETS: &[Cmdlet] = &[
    Cmdlet {
        name: "New-AzSynapseWorkspace",
        params: "AsJob:s DefaultDataLakeStorageAccountName[*=!] DefaultDataLakeStorageFilesystem[*=!] @dp EnablePublicNetworkAccess:b EncryptionKeyIdentifier EncryptionKeyName GitRepository Location[*=!] ManagedResourceGroupName ManagedVirtualNetwork Name|WorkspaceName[*=!] ResourceGroupName[*=!] SqlAdministratorLoginCredential[*=!] Tag UserAssignedIdentityId UserAssignedIdentityInEncryption UseSystemAssignedIdentityInEncryption @wc",
        switches: &[],
        mandatory: &[
            "ResourceGroupName",
            "Name",
            "Location",
            "DefaultDataLakeStorageAccountName",
            "DefaultDataLakeStorageFilesystem",
            "SqlAdministratorLoginCredential",
        ],
        optional: &[
            "EncryptionKeyIdentifier",
            "EncryptionKeyName",
            "UserAssignedIdentityId",
            "UserAssignedIdentityInEncryption",
            "UseSystemAssignedIdentityInEncryption",
        ],
        run: |sh, ws, p| {
            let (user, password) = credential(p, "SqlAdministratorLoginCredential")?;
            let mut words: Vec<String> = [
                "synapse",
                "workspace",
                "create",
                "--name",
                &p.req("Name"),
                "-g",
                &p.req("ResourceGroupName"),
                "-l",
                &p.req("Location"),
                "--storage-account",
                &p.req("DefaultDataLakeStorageAccountName"),
                "--file-system",
                &p.req("DefaultDataLakeStorageFilesystem"),
                "--sql-admin-login-user",
                &user,
                "--sql-admin-login-password",
                &password,
            ]
            .map(String::from)
            .to_vec();
            for (param, flag) in [
                ("EncryptionKeyIdentifier", "--key-identifier"),
                ("EncryptionKeyName", "--key-name"),
                ("UserAssignedIdentityInEncryption", "--uami-id-in-encrypt"),
            ] {
                if let Some(v) = p.get(param) {
                    words.extend([flag.to_string(), v]);
                }
            }
            if let Some(v) = sami_flag(p) {
                words.extend(["--use-sami-in-encrypt".into(), v]);
            }
            let uamis = p.list("UserAssignedIdentityId");
            if !uamis.is_empty() {
                words.push("--uami-id".into());
                words.extend(uamis);
            }
            Ok(ps_workspace(&sh.az_words(ws, words)?))
        },
    },
    Cmdlet {
        name: "Remove-AzSynapseWorkspace",
        params: "=DeleteByNameParameterSet AsJob:s @dp Force:s InputObject[DeleteByInputObjectParameterSet=!] Name|WorkspaceName[DeleteByNameParameterSet=!] PassThru:s ResourceGroupName[DeleteByNameParameterSet] ResourceId[DeleteByResourceIdParameterSet=!] @wc",
        switches: &["Force", "PassThru"],
        mandatory: &[],
        optional: &["Name", "ResourceGroupName", "InputObject", "ResourceId"],
        run: |sh, ws, p| {
            // The workspace by -ResourceId, -InputObject (a workspace from
            // Get-AzSynapseWorkspace) or -Name [-ResourceGroupName]; its SQL pools go with
            // it, as in Azure.
            let t = match object_id(p, "InputObject") {
                Some(id) => parse_id(&id, None)?,
                None => target(sh, ws, p, None, "Name")?,
            };
            sh.az(
                ws,
                &[
                    "synapse",
                    "workspace",
                    "delete",
                    "--name",
                    &t.workspace,
                    "-g",
                    &t.group,
                    "--yes",
                ],
            )?;
            Ok(p.removed())
        },
    },
    Cmdlet {
        name: "New-AzSynapseFirewallRule",
        params: "=CreateByNameParameterSet AllowAllAzureIP:s[CreateByNameAllowAllIpParameterSet=!;CreateByParentObjectAllowAllIpParameterSet=!] AsJob:s @dp EndIpAddress[CreateByNameParameterSet=!;CreateByParentObjectParameterSet=!] Name|FirewallRuleName[CreateByNameParameterSet=!;CreateByParentObjectParameterSet=!] ResourceGroupName[CreateByNameParameterSet;CreateByNameAllowAllIpParameterSet] StartIpAddress[CreateByNameParameterSet=!;CreateByParentObjectParameterSet=!] WorkspaceName[CreateByNameParameterSet=!;CreateByNameAllowAllIpParameterSet=!] WorkspaceObject[CreateByParentObjectParameterSet=!;CreateByParentObjectAllowAllIpParameterSet=!] @wc",
        switches: &["AllowAllAzureIP"],
        mandatory: &[],
        optional: &[
            "WorkspaceName",
            "ResourceGroupName",
            "WorkspaceObject",
            "Name",
            "StartIpAddress",
            "EndIpAddress",
        ],
        run: |sh, ws, p| {
            let t = target(sh, ws, p, Some("firewallRules"), "WorkspaceName")?;
            // -AllowAllAzureIP: Az's rule that lets Azure services in.
            let (name, start, end) = if p.switch("AllowAllAzureIP") {
                (
                    "AllowAllWindowsAzureIps".to_string(),
                    "0.0.0.0".to_string(),
                    "0.0.0.0".to_string(),
                )
            } else {
                let missing: Vec<&str> = ["Name", "StartIpAddress", "EndIpAddress"]
                    .into_iter()
                    .filter(|n| p.get(n).is_none())
                    .collect();
                if !missing.is_empty() {
                    return Err(format!(
                        "Cannot process command because of one or more missing mandatory parameters: {}.",
                        missing.join(" ")
                    ));
                }
                (
                    p.req("Name"),
                    p.req("StartIpAddress"),
                    p.req("EndIpAddress"),
                )
            };
            let v = rule_az(
                sh,
                ws,
                &t,
                "create",
                &[
                    "--name",
                    &name,
                    "--start-ip-address",
                    &start,
                    "--end-ip-address",
                    &end,
                ],
            )?;
            Ok(ps_firewall_rule(&v))
        },
    },
    Cmdlet {
        name: "Get-AzSynapseFirewallRule",
        params: "=GetByNameParameterSet @dp Name|FirewallRuleName ResourceGroupName[GetByNameParameterSet] WorkspaceName[GetByNameParameterSet=!] WorkspaceObject[GetByParentObjectParameterSet=!]",
        switches: &[],
        mandatory: &[],
        optional: &[
            "WorkspaceName",
            "ResourceGroupName",
            "WorkspaceObject",
            "Name",
        ],
        run: |sh, ws, p| {
            // One rule by -Name, else every rule of the workspace.
            let t = target(sh, ws, p, Some("firewallRules"), "WorkspaceName")?;
            Ok(match &t.name {
                Some(name) => ps_firewall_rule(&rule_az(sh, ws, &t, "show", &["--name", name])?),
                None => Value::Array(
                    rule_az(sh, ws, &t, "list", &[])?
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(ps_firewall_rule)
                        .collect(),
                ),
            })
        },
    },
    Cmdlet {
        name: "Remove-AzSynapseFirewallRule",
        params: "=DeleteByNameParameterSet AsJob:s @dp Force:s Name|FirewallRuleName[*=!] PassThru:s ResourceGroupName[DeleteByNameParameterSet] WorkspaceName[DeleteByNameParameterSet=!] WorkspaceObject[DeleteByParentObjectParameterSet=!] @wc",
        switches: &["Force", "PassThru"],
        mandatory: &["Name"],
        optional: &["WorkspaceName", "ResourceGroupName", "WorkspaceObject"],
        run: |sh, ws, p| {
            let t = target(sh, ws, p, Some("firewallRules"), "WorkspaceName")?;
            let name = child_name(&t)?;
            rule_az(sh, ws, &t, "delete", &["--name", &name, "--yes"])?;
            Ok(p.removed())
        },
    },
    Cmdlet {
        name: "Get-AzSynapseWorkspace",
        params: "=GetByNameParameterSet @dp Name|WorkspaceName[GetByNameParameterSet] ResourceGroupName[GetByNameParameterSet] ResourceId[GetByResourceIdParameterSet=!]",
        switches: &[],
        mandatory: &[],
        optional: &["Name", "ResourceGroupName", "ResourceId"],
        run: |sh, ws, p| {
            if p.get("ResourceId").is_none() && p.get("Name").is_none() {
                // Every workspace of the subscription, or of a resource group.
                let mut words = vec!["synapse".to_string(), "workspace".into(), "list".into()];
                if let Some(g) = p.get("ResourceGroupName") {
                    words.extend(["-g".into(), g]);
                }
                let list = sh.az_words(ws, words)?;
                return Ok(Value::Array(
                    list.as_array()
                        .into_iter()
                        .flatten()
                        .map(ps_workspace)
                        .collect(),
                ));
            }
            let t = target(sh, ws, p, None, "Name")?;
            let v = sh.az(
                ws,
                &[
                    "synapse",
                    "workspace",
                    "show",
                    "--name",
                    &t.workspace,
                    "-g",
                    &t.group,
                ],
            )?;
            Ok(ps_workspace(&v))
        },
    },
    Cmdlet {
        name: "Update-AzSynapseWorkspace",
        params: "=SetByNameParameterSet AsJob:s @dp EnablePublicNetworkAccess:b EncryptionKeyName GitRepository InputObject[SetByInputObjectParameterSet=!] ManagedVirtualNetwork Name|WorkspaceName[SetByNameParameterSet=!] ResourceGroupName[SetByNameParameterSet] ResourceId[SetByResourceIdParameterSet=!] SqlAdministratorLoginPassword Tag UserAssignedIdentityAction UserAssignedIdentityId UserAssignedIdentityInEncryption UseSystemAssignedIdentityInEncryption @wc",
        switches: &[],
        mandatory: &[],
        optional: &[
            "Name",
            "ResourceGroupName",
            "ResourceId",
            "InputObject",
            "EncryptionKeyName",
            "UserAssignedIdentityInEncryption",
            "UseSystemAssignedIdentityInEncryption",
        ],
        run: |sh, ws, p| {
            let t = target(sh, ws, p, None, "Name")?;
            let mut words: Vec<String> = [
                "synapse",
                "workspace",
                "update",
                "--name",
                &t.workspace,
                "-g",
                &t.group,
            ]
            .map(String::from)
            .to_vec();
            if let Some(k) = p.get("EncryptionKeyName") {
                words.extend(["--key-name".into(), k]);
            }
            if let Some(u) = p.get("UserAssignedIdentityInEncryption") {
                words.extend(["--uami-id-in-encrypt".into(), u]);
            }
            if let Some(v) = sami_flag(p) {
                words.extend(["--use-sami-in-encrypt".into(), v]);
            }
            Ok(ps_workspace(&sh.az_words(ws, words)?))
        },
    },
    Cmdlet {
        name: "Enable-AzSynapseWorkspace",
        params: "=EnableByNameParameterSet AsJob:s @dp EncryptionKeyIdentifier InputObject[EnableByInputObjectParameterSet=!] Name|KeyName[EnableByNameParameterSet;EnableByParentObjectParameterSet] ResourceGroupName[EnableByNameParameterSet] ResourceId[EnableByResourceIdParameterSet=!] WorkspaceName[EnableByNameParameterSet=!] WorkspaceObject[EnableByParentObjectParameterSet=!] @wc",
        switches: &[],
        mandatory: &[],
        optional: &[
            "WorkspaceName",
            "ResourceGroupName",
            "Name",
            "EncryptionKeyIdentifier",
            "WorkspaceObject",
            "InputObject",
            "ResourceId",
        ],
        run: |sh, ws, p| {
            let t = target(sh, ws, p, Some("keys"), "WorkspaceName")?;
            // Without -Name (and -EncryptionKeyIdentifier) Az activates the workspace's own
            // key: the one it was created with, at its Key Vault URL.
            let w = sh.az(
                ws,
                &[
                    "synapse",
                    "workspace",
                    "show",
                    "--name",
                    &t.workspace,
                    "-g",
                    &t.group,
                ],
            )?;
            let key = t
                .name
                .clone()
                .or_else(|| {
                    w["encryption"]["cmk"]["key"]["name"]
                        .as_str()
                        .map(String::from)
                })
                .unwrap_or_else(|| "default".into());
            let url = match p.get("EncryptionKeyIdentifier") {
                Some(u) => u,
                None => scalar(&key_show(sh, ws, &t, &key)?["keyVaultUrl"]),
            };
            let v = t.az(
                sh,
                ws,
                &[
                    "synapse",
                    "workspace",
                    "activate",
                    "--name",
                    &key,
                    "--key-identifier",
                    &url,
                ],
            )?;
            Ok(ps_key(&v))
        },
    },
    Cmdlet {
        name: "New-AzSynapseWorkspaceKey",
        params: "=CreateByNameParameterSet Activate:s @dp EncryptionKeyIdentifier[*=!] Name|KeyName[*=!] ResourceGroupName[CreateByNameParameterSet] WorkspaceName[CreateByNameParameterSet=!] WorkspaceObject[CreateByParentObjectParameterSet=!] @wc",
        switches: &["Activate"],
        mandatory: &["Name", "EncryptionKeyIdentifier"],
        optional: &["WorkspaceName", "ResourceGroupName", "WorkspaceObject"],
        run: |sh, ws, p| {
            let t = target(sh, ws, p, Some("keys"), "WorkspaceName")?;
            let name = child_name(&t)?;
            let url = p.req("EncryptionKeyIdentifier");
            let mut v = t.az(
                sh,
                ws,
                &[
                    "synapse",
                    "workspace",
                    "key",
                    "create",
                    "--name",
                    &name,
                    "--key-identifier",
                    &url,
                ],
            )?;
            // `-Activate`: the key's PUT carries isActiveCMK true, which activates the
            // workspace with it (as `az synapse workspace activate`).
            if p.switch("Activate") {
                v = t.az(
                    sh,
                    ws,
                    &[
                        "synapse",
                        "workspace",
                        "activate",
                        "--name",
                        &name,
                        "--key-identifier",
                        &url,
                    ],
                )?;
            }
            Ok(ps_key(&v))
        },
    },
    Cmdlet {
        name: "Get-AzSynapseWorkspaceKey",
        params: "=GetByNameParameterSet @dp Name|KeyName[GetByNameParameterSet;GetByParentObjectParameterSet] ResourceGroupName[GetByNameParameterSet] ResourceId[GetByResourceIdParameterSet=!] WorkspaceName[GetByNameParameterSet=!] WorkspaceObject[GetByParentObjectParameterSet=!]",
        switches: &[],
        mandatory: &[],
        optional: &[
            "WorkspaceName",
            "ResourceGroupName",
            "Name",
            "WorkspaceObject",
            "ResourceId",
        ],
        run: |sh, ws, p| {
            let t = target(sh, ws, p, Some("keys"), "WorkspaceName")?;
            match &t.name {
                Some(k) => Ok(ps_key(&key_show(sh, ws, &t, k)?)),
                None => {
                    let list = t.az(sh, ws, &["synapse", "workspace", "key", "list"])?;
                    Ok(Value::Array(
                        list.as_array().into_iter().flatten().map(ps_key).collect(),
                    ))
                }
            }
        },
    },
    Cmdlet {
        name: "Remove-AzSynapseWorkspaceKey",
        params: "=DeleteByNameParameterSet AsJob:s @dp Force:s InputObject[DeleteByInputObjectParameterSet=!] Name|KeyName[DeleteByNameParameterSet=!;DeleteByParentObjectParameterSet=!] PassThru:s ResourceGroupName[DeleteByNameParameterSet] ResourceId[DeleteByResourceIdParameterSet=!] WorkspaceName[DeleteByNameParameterSet=!] WorkspaceObject[DeleteByParentObjectParameterSet=!] @wc",
        switches: &["Force", "PassThru"],
        mandatory: &[],
        optional: &[
            "WorkspaceName",
            "ResourceGroupName",
            "Name",
            "WorkspaceObject",
            "InputObject",
            "ResourceId",
        ],
        run: |sh, ws, p| {
            let t = target(sh, ws, p, Some("keys"), "WorkspaceName")?;
            let name = child_name(&t)?;
            t.az(
                sh,
                ws,
                &[
                    "synapse",
                    "workspace",
                    "key",
                    "delete",
                    "--name",
                    &name,
                    "--yes",
                ],
            )?;
            Ok(p.removed())
        },
    },
    Cmdlet {
        name: "New-AzSynapseSqlPool",
        params: "=CreateByNameParameterSet AsJob:s Collation @dp Name|SqlPoolName[*=!] PerformanceLevel[*=!] ResourceGroupName[CreateByNameParameterSet] StorageAccountType Tag Version WorkspaceName[CreateByNameParameterSet=!] WorkspaceObject[CreateByParentObjectParameterSet=!] @wc",
        switches: &[],
        mandatory: &["Name", "PerformanceLevel"],
        optional: &[
            "WorkspaceName",
            "ResourceGroupName",
            "WorkspaceObject",
            "Collation",
            "StorageAccountType",
        ],
        run: |sh, ws, p| {
            let t = target(sh, ws, p, Some("sqlPools"), "WorkspaceName")?;
            let name = child_name(&t)?;
            let mut words: Vec<String> = [
                "synapse",
                "sql",
                "pool",
                "create",
                "--name",
                &name,
                "--workspace-name",
                &t.workspace,
                "-g",
                &t.group,
                "--performance-level",
                &p.req("PerformanceLevel"),
            ]
            .map(String::from)
            .to_vec();
            if let Some(c) = p.get("Collation") {
                words.extend(["--collation".into(), c]);
            }
            if let Some(s) = p.get("StorageAccountType") {
                words.extend(["--storage-type".into(), s]);
            }
            Ok(ps_pool(&sh.az_words(ws, words)?))
        },
    },
    Cmdlet {
        name: "Get-AzSynapseSqlPool",
        params: "=GetByNameParameterSet @dp Name|SqlPoolName[GetByNameParameterSet;GetByParentObjectParameterSet] ResourceGroupName[GetByNameParameterSet] ResourceId[GetByResourceIdParameterSet=!] Version WorkspaceName[GetByNameParameterSet=!] WorkspaceObject[GetByParentObjectParameterSet=!]",
        switches: &[],
        mandatory: &[],
        optional: &[
            "WorkspaceName",
            "ResourceGroupName",
            "Name",
            "WorkspaceObject",
            "ResourceId",
        ],
        run: |sh, ws, p| {
            let t = target(sh, ws, p, Some("sqlPools"), "WorkspaceName")?;
            if t.name.is_some() {
                return Ok(ps_pool(&pool_az(sh, ws, &t, "show")?));
            }
            let list = t.az(sh, ws, &["synapse", "sql", "pool", "list"])?;
            Ok(Value::Array(
                list.as_array().into_iter().flatten().map(ps_pool).collect(),
            ))
        },
    },
    Cmdlet {
        name: "Remove-AzSynapseSqlPool",
        params: "=DeleteByNameParameterSet AsJob:s @dp Force:s InputObject[DeleteByInputObjectParameterSet=!] Name|SqlPoolName[DeleteByNameParameterSet=!;DeleteByParentObjectParameterSet=!] PassThru:s ResourceGroupName[DeleteByNameParameterSet] ResourceId[DeleteByResourceIdParameterSet=!] Version WorkspaceName[DeleteByNameParameterSet=!] WorkspaceObject[DeleteByParentObjectParameterSet=!] @wc",
        switches: &["Force", "PassThru"],
        mandatory: &[],
        optional: &[
            "WorkspaceName",
            "ResourceGroupName",
            "Name",
            "WorkspaceObject",
            "InputObject",
            "ResourceId",
        ],
        run: |sh, ws, p| {
            let t = target(sh, ws, p, Some("sqlPools"), "WorkspaceName")?;
            pool_az(sh, ws, &t, "delete")?;
            Ok(p.removed())
        },
    },
    Cmdlet {
        name: "Suspend-AzSynapseSqlPool",
        params: "=SuspendByNameParameterSet AsJob:s @dp InputObject[SuspendByInputObjectParameterSet=!] Name|SqlPoolName[SuspendByNameParameterSet=!;SuspendByParentObjectParameterSet=!] PassThru:s ResourceGroupName[SuspendByNameParameterSet] ResourceId[SuspendByResourceIdParameterSet=!] WorkspaceName[SuspendByNameParameterSet=!] WorkspaceObject[SuspendByParentObjectParameterSet=!] @wc",
        switches: &[],
        mandatory: &[],
        optional: &[
            "WorkspaceName",
            "ResourceGroupName",
            "Name",
            "WorkspaceObject",
            "InputObject",
            "ResourceId",
        ],
        run: |sh, ws, p| pool_pause(sh, ws, p, "pause"),
    },
    Cmdlet {
        name: "Resume-AzSynapseSqlPool",
        params: "=ResumeByNameParameterSet AsJob:s @dp InputObject[ResumeByInputObjectParameterSet=!] Name|SqlPoolName[ResumeByNameParameterSet=!;ResumeByParentObjectParameterSet=!] PassThru:s ResourceGroupName[ResumeByNameParameterSet] ResourceId[ResumeByResourceIdParameterSet=!] WorkspaceName[ResumeByNameParameterSet=!] WorkspaceObject[ResumeByParentObjectParameterSet=!] @wc",
        switches: &[],
        mandatory: &[],
        optional: &[
            "WorkspaceName",
            "ResourceGroupName",
            "Name",
            "WorkspaceObject",
            "InputObject",
            "ResourceId",
        ],
        run: |sh, ws, p| pool_pause(sh, ws, p, "resume"),
    },
    Cmdlet {
        name: "Set-AzSynapseSqlPoolTransparentDataEncryption",
        params: "=SetByNameParameterSet AsJob:s @dp InputObject[SetByInputObjectParameterSet=!] Name[SetByNameParameterSet=!;SetByParentObjectParameterSet=!] ResourceGroupName[SetByNameParameterSet] ResourceId[SetByResourceIdParameterSet=!] State[*=!] WorkspaceName[SetByNameParameterSet=!] WorkspaceObject[SetByParentObjectParameterSet=!] @wc",
        switches: &[],
        mandatory: &["State"],
        optional: &[
            "WorkspaceName",
            "ResourceGroupName",
            "Name",
            "WorkspaceObject",
            "InputObject",
            "ResourceId",
        ],
        run: |sh, ws, p| {
            // TransparentDataEncryptionStateType: Enabled or Disabled (any case), as
            // PowerShell converts an enum.
            let state = p.req("State");
            let state = ["Enabled", "Disabled"]
                .into_iter()
                .find(|s| s.eq_ignore_ascii_case(state.trim()))
                .ok_or_else(|| {
                    format!(
                        "Cannot bind parameter 'State'. Cannot convert value \"{state}\" to type \"Microsoft.Azure.Commands.Synapse.Models.TransparentDataEncryptionStateType\". Error: \"Unable to match the identifier name {state} to a valid enumerator name. Specify one of the following enumerator names and try again:\nEnabled, Disabled\""
                    )
                })?;
            let t = target(sh, ws, p, Some("sqlPools"), "WorkspaceName")?;
            let name = child_name(&t)?;
            let v = t.az(
                sh,
                ws,
                &[
                    "synapse",
                    "sql",
                    "pool",
                    "tde",
                    "set",
                    "--name",
                    &name,
                    "--status",
                    state,
                    "--transparent-data-encryption-name",
                    "current",
                ],
            )?;
            Ok(ps_tde(&t, &name, &v))
        },
    },
    Cmdlet {
        name: "Get-AzSynapseSqlPoolTransparentDataEncryption",
        params: "=GetByNameParameterSet @dp InputObject[GetByInputObjectParameterSet=!] Name[GetByNameParameterSet=!;GetByParentObjectParameterSet=!] ResourceGroupName[GetByNameParameterSet] ResourceId[GetByResourceIdParameterSet=!] WorkspaceName[GetByNameParameterSet=!] WorkspaceObject[GetByParentObjectParameterSet=!]",
        switches: &[],
        mandatory: &[],
        optional: &[
            "WorkspaceName",
            "ResourceGroupName",
            "Name",
            "WorkspaceObject",
            "InputObject",
            "ResourceId",
        ],
        run: |sh, ws, p| {
            let t = target(sh, ws, p, Some("sqlPools"), "WorkspaceName")?;
            let name = child_name(&t)?;
            let v = t.az(
                sh,
                ws,
                &[
                    "synapse",
                    "sql",
                    "pool",
                    "tde",
                    "show",
                    "--name",
                    &name,
                    "--transparent-data-encryption-name",
                    "current",
                ],
            )?;
            Ok(ps_tde(&t, &name, &v))
        },
    },
    Cmdlet {
        name: "Start-Process",
        params: "=Default ArgumentList|Args[*=1] Credential|RunAs[Default] Environment FilePath|PSPath|Path[*=!0] LoadUserProfile:s[Default] NoNewWindow:s[Default] PassThru:s RedirectStandardError|RSE[Default] RedirectStandardInput|RSI[Default] RedirectStandardOutput|RSO[Default] UseNewEnvironment:s[Default] Verb[UseShellExecute=!] Wait:s WindowStyle WorkingDirectory @wc",
        switches: &[],
        mandatory: &["FilePath"],
        optional: &[],
        run: start_process,
    },
    Cmdlet {
        name: "Start-Sleep",
        params: "=Seconds Seconds[Seconds=!0] Milliseconds|ms[Milliseconds=!] Duration|ts[FromTimeSpan=!0]",
        switches: &[],
        mandatory: &[],
        optional: &["Seconds", "Milliseconds"],
        run: start_sleep,
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_ids_name_the_workspace_and_child() {
        let id = "/subscriptions/s/resourceGroups/rg-syn/providers/Microsoft.Synapse/workspaces/ws1/sqlPools/pool1";
        let t = parse_id(id, Some("sqlPools")).expect("a pool id");
        assert_eq!(
            (t.group.as_str(), t.workspace.as_str(), t.name.as_deref()),
            ("rg-syn", "ws1", Some("pool1"))
        );
        let t = parse_id(id, None).expect("its workspace");
        assert_eq!((t.workspace.as_str(), t.name), ("ws1", None));
        assert_eq!(
            parse_id(id, Some("keys")).err().as_deref(),
            Some(BAD_ID),
            "a pool id names no key"
        );
        assert_eq!(parse_id("not-an-id", None).err().as_deref(), Some(BAD_ID));
    }

    #[test]
    fn a_workspace_prints_azs_encryption_properties() {
        let v = json!({
            "name": "ws1", "resourceGroup": "rg", "id": "/x",
            "encryption": {"doubleEncryptionEnabled": true, "cmk": {
                "status": "AwaitingUserAction",
                "key": {"name": "default", "keyVaultUrl": "https://kv.vault.azure.net/keys/k"},
                "kekIdentity": {"userAssignedIdentity": null, "useSystemAssignedIdentity": true}}},
            "identity": {"type": "SystemAssigned", "principalId": "p", "tenantId": "t"},
        });
        let ps = ps_workspace(&v);
        let cmk = &ps["Encryption"]["CustomerManagedKeyDetails"];
        assert_eq!(ps["Encryption"]["DoubleEncryptionEnabled"], json!(true));
        assert_eq!(cmk["Status"], json!("AwaitingUserAction"));
        assert_eq!(
            cmk["Key"]["KeyVaultUrl"],
            json!("https://kv.vault.azure.net/keys/k")
        );
        assert_eq!(cmk["KekIdentity"]["UseSystemAssignedIdentity"], json!(true));
        assert_eq!(ps["Identity"]["PrincipalId"], json!("p"));
        // Without a customer-managed key: DoubleEncryptionEnabled False, no key details.
        let plain = ps_workspace(&json!({"encryption": {"doubleEncryptionEnabled": false}}));
        assert_eq!(plain["Encryption"]["DoubleEncryptionEnabled"], json!(false));
        assert!(plain["Encryption"]["CustomerManagedKeyDetails"].is_null());
    }
}
