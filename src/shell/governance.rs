//! Commands about governing vaults rather than using them: management locks, diagnostic
//! settings and the audit log they switch on, and bursts of traffic that meet the vault's
//! service limits.

use super::args::Args;
use super::commands::{CommandError, usage};
use super::registry::Command;
use crate::model::*;
use crate::service::{self, burst, diagnostics, locks};
use serde_json::{Value, json};

/// The commands of this module, as their words.
pub const COMMANDS: &[Command] = &[
    Command::new(
        "az lock create",
        "Create a lock.",
        &LOCK_CREATE_FLAGS,
        |ws, _, _, a| lock_create(ws, a),
    ),
    Command::new(
        "az lock delete",
        "Delete a lock.",
        &LOCK_FLAGS,
        |ws, _, _, a| lock_delete(ws, a),
    ),
    Command::new(
        "az lock list",
        "List lock information.",
        &["--resource-group", "--resource-name", "--resource-type"],
        |ws, _, _, a| lock_list(ws, a),
    ),
    Command::new(
        "az monitor diagnostic-settings create",
        "Create diagnostic settings for the specified resource.",
        &[
            "--name",
            "--resource",
            "--resource-group",
            "--resource-type",
            "--logs",
            "--metrics",
            "--workspace",
            "--storage-account",
        ],
        |ws, _, _, a| diagnostic_create(ws, a),
    ),
    Command::new(
        "az monitor diagnostic-settings delete",
        "Deletes existing diagnostic settings for the specified resource.",
        &[
            "--name",
            "--resource",
            "--resource-group",
            "--resource-type",
        ],
        |ws, _, _, a| diagnostic_delete(ws, a),
    ),
    Command::new(
        "az monitor diagnostic-settings list",
        "Gets the active diagnostic settings list for the specified resource.",
        &["--resource", "--resource-group", "--resource-type"],
        |ws, _, _, a| diagnostic_list(ws, a),
    ),
    Command::new(
        "sim audit list",
        "List a vault's audit records (AuditEvent).",
        &["--vault", "--operation", "--result"],
        |ws, _, _, a| audit_list(ws, a),
    ),
    Command::new(
        "sim audit export",
        "Export a vault's audit records to a file.",
        &["--vault", "--operation", "--result", "--file", "--format"],
        |ws, _, _, a| audit_export(ws, a),
    ),
    Command::new(
        "sim keyvault burst",
        "Send a burst of key requests to a vault, to show throttling.",
        &["--vault", "--name", "--operation", "--count", "--seconds"],
        |ws, _, _, a| burst(ws, a),
    ),
    Command::new(
        "sim webhook listen",
        "Listen for webhook deliveries on 127.0.0.1.",
        &["--port"],
        |_, _, _, a| webhook_listen(a),
    ),
    Command::new(
        "sim webhook received",
        "Show the webhook deliveries the listener received.",
        &[],
        |_, _, _, a| webhook_received(a),
    ),
    Command::new(
        "az keyvault network-rule list",
        "List the network rules from the network ACLs for a Key Vault.",
        &["--name", "--resource-group"],
        |ws, _, _, a| network_rule_list(ws, a),
    ),
    Command::new(
        "sim client-ip set",
        "Set the console user's client IP address (for vault firewalls).",
        &[],
        |ws, _, _, a| client_ip_set(ws, a),
    )
    .positional("<IPv4 address>"),
    Command::new(
        "az role assignment create",
        "Create a new role assignment for a user, group, or service principal.",
        &ROLE_FLAGS,
        |ws, _, _, a| role_create(ws, a),
    ),
    Command::new(
        "az role assignment delete",
        "Delete role assignments.",
        &ROLE_FLAGS,
        |ws, _, _, a| role_delete(ws, a),
    ),
    Command::new(
        "az role assignment list",
        "List role assignments.",
        &["--scope", "--assignee"],
        |ws, _, _, a| role_list(ws, a),
    ),
    Command::new(
        "az keyvault network-rule add",
        "Add a network rule to the network ACLs for a Key Vault.",
        &["--name", "--resource-group", "--ip-address"],
        |ws, _, _, a| network_rule(ws, a, true),
    ),
    Command::new(
        "az keyvault network-rule remove",
        "Remove a network rule from the network ACLs for a Key Vault.",
        &["--name", "--resource-group", "--ip-address"],
        |ws, _, _, a| network_rule(ws, a, false),
    ),
    Command::new(
        "sim client-ip show",
        "Show the console user's client IP address.",
        &[],
        |ws, _, _, _| Ok(json!({"clientIp": ws.console_user.client_ip})),
    ),
    Command::new(
        "az keyvault role assignment create",
        "Create a new role assignment for a user, group, or service principal (Managed HSM).",
        &HSM_ROLE_FLAGS,
        hsm_role,
    ),
    Command::new(
        "az keyvault role assignment delete",
        "Delete a role assignment (Managed HSM).",
        &HSM_ROLE_FLAGS,
        hsm_role,
    ),
    Command::new(
        "az keyvault role assignment list",
        "List role assignments (Managed HSM).",
        &HSM_ROLE_FLAGS,
        hsm_role,
    ),
];

/// Managed HSM local RBAC: `--hsm-name` names the HSM, `--scope` is within it ("/").
fn hsm_role(
    ws: &mut Workspace,
    _keys: &dyn crate::service::KeySource,
    cmd: &str,
    a: &mut Args,
) -> Result<Value, CommandError> {
    let h = a.required("--hsm-name")?;
    a.take("--hsm-name");
    a.set("--scope", vec![h]);
    match cmd.rsplit(' ').next() {
        Some("create") => role_create(ws, a),
        Some("delete") => role_delete(ws, a),
        _ => role_list(ws, a),
    }
}

const LOCK_FLAGS: [&str; 5] = [
    "--name",
    "--resource-group",
    "--resource-name",
    "--resource-type",
    "--resource",
];

const LOCK_CREATE_FLAGS: [&str; 8] = [
    "--name",
    "--resource-group",
    "--resource-name",
    "--resource-type",
    "--resource",
    "--lock-type",
    "--type",
    "--notes",
];

const HSM_ROLE_FLAGS: [&str; 6] = [
    "--hsm-name",
    "--role",
    "--assignee",
    "--assignee-object-id",
    "--assignee-principal-type",
    "--scope",
];

/// The scope a lock command names: `--resource <ARM id>`, or a group with an optional
/// `--resource-name` and `--resource-type` (az's `--resource` takes a name or an id).
fn lock_scope(ws: &Workspace, a: &Args) -> Result<String, CommandError> {
    if let Some(id) = a.get("--resource").filter(|r| r.starts_with('/')) {
        let lower = id.to_ascii_lowercase();
        let group = lower
            .split('/')
            .skip_while(|p| *p != "resourcegroups")
            .nth(1)
            .map(|_| {
                let parts: Vec<&str> = id.split('/').collect();
                let i = parts
                    .iter()
                    .position(|p| p.eq_ignore_ascii_case("resourceGroups"))
                    .unwrap_or(0);
                parts.get(i + 1).copied().unwrap_or_default().to_string()
            })
            .ok_or_else(|| usage(format!("argument --resource: '{id}' is not a resource id")))?;
        let parts: Vec<&str> = id.trim_end_matches('/').split('/').collect();
        let resource = match parts
            .iter()
            .position(|p| p.eq_ignore_ascii_case("providers"))
        {
            Some(i) if parts.len() >= i + 4 => Some((
                format!("{}/{}", parts[i + 1], parts[i + 2]),
                parts[i + 3].to_string(),
            )),
            _ => None,
        };
        return Ok(locks::scope_id(
            ws,
            &group,
            resource.as_ref().map(|(t, n)| (t.as_str(), n.as_str())),
        )?);
    }
    let group = a.required("--resource-group")?;
    let name = a.get("--resource-name").or_else(|| a.get("--resource"));
    let resource = match (name, a.get("--resource-type")) {
        (Some(n), Some(t)) => Some((t, n)),
        (None, None) => None,
        _ => {
            return Err(usage(
                "--resource-name and --resource-type go together (e.g. --resource-type Microsoft.KeyVault/vaults)",
            ));
        }
    };
    Ok(locks::scope_id(
        ws,
        &group,
        resource.as_ref().map(|(t, n)| (t.as_str(), n.as_str())),
    )?)
}

fn lock_json(l: &ResourceLock) -> Value {
    json!({"id": l.id(), "name": l.name, "level": l.level.as_str(), "notes": l.notes, "type": "Microsoft.Authorization/locks"})
}

fn lock_create(ws: &mut Workspace, a: &mut Args) -> Result<Value, CommandError> {
    let level_text = a
        .get("--lock-type")
        .or_else(|| a.get("--type"))
        .ok_or_else(|| usage("the following arguments are required: --lock-type"))?;
    let level = match level_text.as_str() {
        "CanNotDelete" => LockLevel::CanNotDelete,
        "ReadOnly" => LockLevel::ReadOnly,
        other => {
            return Err(usage(format!(
                "argument --lock-type: invalid choice: '{other}' (choose from 'CanNotDelete', 'ReadOnly')"
            )));
        }
    };
    let scope = lock_scope(ws, a)?;
    let lock = locks::create_lock(
        ws,
        &a.required("--name")?,
        level,
        &scope,
        &a.get("--notes").unwrap_or_default(),
    )?;
    Ok(lock_json(&lock))
}

fn lock_delete(ws: &mut Workspace, a: &mut Args) -> Result<Value, CommandError> {
    let scope = lock_scope(ws, a)?;
    locks::delete_lock(ws, &a.required("--name")?, &scope)?;
    Ok(Value::Null)
}

fn lock_list(ws: &mut Workspace, a: &mut Args) -> Result<Value, CommandError> {
    let scope = if a.has("--resource-group") {
        Some(lock_scope(ws, a)?)
    } else {
        None
    };
    Ok(Value::Array(
        locks::list_locks(ws, scope.as_deref())
            .iter()
            .map(lock_json)
            .collect(),
    ))
}

fn setting_json(ws: &Workspace, vault: &str, d: &DiagnosticSetting) -> Value {
    let id = ws.vault(vault).map(service::ids::vault).unwrap_or_default();
    json!({
        "id": format!("{id}/providers/microsoft.insights/diagnosticSettings/{}", d.name),
        "name": d.name,
        "logs": [{"category": "AuditEvent", "enabled": d.audit_event}],
        "workspaceId": d.destination,
        "type": "Microsoft.Insights/diagnosticSettings"
    })
}

fn diagnostic_create(ws: &mut Workspace, a: &mut Args) -> Result<Value, CommandError> {
    let vault = diagnostics::vault_of_resource(ws, &a.required("--resource")?)?;
    let logs_text = a.get("--logs").unwrap_or_else(|| "[]".into());
    let logs: Value = serde_json::from_str(&logs_text)
        .map_err(|e| usage(format!("argument --logs: invalid JSON: {e}")))?;
    let entries = logs
        .as_array()
        .ok_or_else(|| usage("argument --logs: expected a JSON array of {category, enabled}"))?;
    let mut audit_event = false;
    for e in entries {
        let category = e
            .get("category")
            .or_else(|| e.get("categoryGroup"))
            .and_then(Value::as_str)
            .unwrap_or_default();
        let enabled = e.get("enabled").and_then(Value::as_bool).unwrap_or(false);
        match category {
            "AuditEvent" | "audit" | "allLogs" => audit_event |= enabled,
            "AzurePolicyEvaluationDetails" => {}
            other => {
                return Err(usage(format!(
                    "argument --logs: unknown category '{other}' for a key vault (AuditEvent, AzurePolicyEvaluationDetails, audit, allLogs)"
                )));
            }
        }
    }
    let destination = a
        .get("--workspace")
        .or_else(|| a.get("--storage-account"))
        .unwrap_or_default();
    let setting = diagnostics::create_setting(
        ws,
        &vault,
        DiagnosticSetting {
            name: a.required("--name")?,
            audit_event,
            destination,
        },
    )?;
    Ok(setting_json(ws, &vault, &setting))
}

fn diagnostic_delete(ws: &mut Workspace, a: &mut Args) -> Result<Value, CommandError> {
    let vault = diagnostics::vault_of_resource(ws, &a.required("--resource")?)?;
    diagnostics::delete_setting(ws, &vault, &a.required("--name")?)?;
    Ok(Value::Null)
}

fn diagnostic_list(ws: &mut Workspace, a: &mut Args) -> Result<Value, CommandError> {
    let vault = diagnostics::vault_of_resource(ws, &a.required("--resource")?)?;
    let v = service::keyvault::vault_state(ws, &vault)?;
    Ok(Value::Array(
        v.diagnostic_settings
            .iter()
            .map(|d| setting_json(ws, &vault, d))
            .collect(),
    ))
}

/// The audit records of `--vault`, filtered by `--operation` and `--result`.
fn audit_records(ws: &Workspace, a: &Args) -> Result<Vec<VaultRequest>, CommandError> {
    let vault = a.required("--vault")?;
    service::keyvault::vault_state(ws, &vault)?;
    let op = a.get("--operation");
    let result = a.get("--result");
    Ok(diagnostics::audit_log(ws, &vault)
        .into_iter()
        .filter(|r| {
            op.as_ref()
                .is_none_or(|o| r.operation.eq_ignore_ascii_case(o))
        })
        .filter(|r| {
            result
                .as_ref()
                .is_none_or(|x| r.result_type().eq_ignore_ascii_case(x))
        })
        .collect())
}

/// `sim audit list --vault V`: the vault's AuditEvent records (JSON Lines by default).
fn audit_list(ws: &mut Workspace, a: &mut Args) -> Result<Value, CommandError> {
    Ok(Value::Array(
        audit_records(ws, a)?
            .iter()
            .map(VaultRequest::to_json)
            .collect(),
    ))
}

/// `sim audit export --vault V --file F [--format jsonl|csv]`.
fn audit_export(ws: &mut Workspace, a: &mut Args) -> Result<Value, CommandError> {
    let file = a.required("--file")?;
    let records = audit_records(ws, a)?;
    let format = a.get("--format").unwrap_or_else(|| {
        if file.ends_with(".csv") {
            "csv".into()
        } else {
            "jsonl".into()
        }
    });
    let text = match format.as_str() {
        "jsonl" | "json-lines" => diagnostics::to_json_lines(&records),
        "csv" => diagnostics::to_csv(&records),
        other => {
            return Err(usage(format!(
                "argument --format: invalid choice: '{other}' (choose from 'jsonl', 'csv')"
            )));
        }
    };
    crate::persist::write_new_file(std::path::Path::new(&file), text.as_bytes()).map_err(usage)?;
    Ok(json!({"file": file, "records": records.len(), "format": format}))
}

/// `sim keyvault burst --vault V --name K [--operation get|wrapKey] --count N [--seconds S]`.
fn burst(ws: &mut Workspace, a: &mut Args) -> Result<Value, CommandError> {
    let int = |flag: &str, default: Option<u32>| -> Result<u32, CommandError> {
        match a.get(flag) {
            Some(t) => t
                .parse()
                .map_err(|_| usage(format!("argument {flag}: invalid int value: '{t}'"))),
            None => default
                .ok_or_else(|| usage(format!("the following arguments are required: {flag}"))),
        }
    };
    let operation = match a.get("--operation").as_deref() {
        None | Some("get") => burst::BurstOperation::Get,
        Some("wrapKey") => burst::BurstOperation::WrapKey,
        Some(other) => {
            return Err(usage(format!(
                "argument --operation: invalid choice: '{other}' (choose from 'get', 'wrapKey')"
            )));
        }
    };
    let report = burst::burst(
        ws,
        &a.required("--vault")?,
        &a.required("--name")?,
        operation,
        int("--count", None)?,
        int("--seconds", Some(0))?,
    )?;
    Ok(serde_json::to_value(report).unwrap_or(Value::Null))
}

fn network_json(v: &KeyVault) -> Value {
    json!({
        "defaultAction": if v.network.restricted { "Deny" } else { "Allow" },
        "bypass": if v.network.bypass_trusted_services { "AzureServices" } else { "None" },
        "ipRules": v.network.ip_rules.iter().map(|r| json!({"value": r})).collect::<Vec<_>>(),
        "publicNetworkAccess": if v.network.public_access_disabled { "Disabled" } else { "Enabled" },
    })
}

/// `az keyvault network-rule add|remove --name V --ip-address A`.
fn network_rule(ws: &mut Workspace, a: &mut Args, add: bool) -> Result<Value, CommandError> {
    let name = a.required("--name")?;
    let ip = a.required("--ip-address")?;
    let v = if add {
        service::keyvault::add_network_rule(ws, &name, &ip)?
    } else {
        service::keyvault::remove_network_rule(ws, &name, &ip)?
    };
    Ok(network_json(&v))
}

fn network_rule_list(ws: &mut Workspace, a: &mut Args) -> Result<Value, CommandError> {
    let v = service::keyvault::vault_state(ws, &a.required("--name")?)?;
    Ok(network_json(&v))
}

/// `sim client-ip set A`: the address the console user's calls come from.
fn client_ip_set(ws: &mut Workspace, a: &mut Args) -> Result<Value, CommandError> {
    let ip = a
        .take_positional()
        .first()
        .cloned()
        .ok_or_else(|| usage("usage: sim client-ip set <IPv4 address>"))?;
    service::set_client_ip(ws, &ip)?;
    Ok(json!({"clientIp": ws.console_user.client_ip}))
}

const ROLE_FLAGS: [&str; 5] = [
    "--role",
    "--assignee",
    "--assignee-object-id",
    "--assignee-principal-type",
    "--scope",
];

fn role_arg(a: &Args) -> Result<Option<VaultRole>, CommandError> {
    match a.get("--role") {
        None => Ok(None),
        Some(r) => VaultRole::parse(&r).map(Some).ok_or_else(|| {
            usage(format!(
                "Role '{r}' doesn't exist here: simulated roles are {}",
                VaultRole::ALL
                    .iter()
                    .map(|r| format!("'{}'", r.name()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        }),
    }
}

fn assignee(a: &Args) -> Result<PrincipalId, CommandError> {
    a.get("--assignee-object-id")
        .or_else(|| a.get("--assignee"))
        .map(PrincipalId)
        .ok_or_else(|| usage("the following arguments are required: --assignee-object-id"))
}

fn assignment_json(ws: &Workspace, vault: &str, r: &RoleAssignment) -> Value {
    let scope = ws.vault(vault).map(service::ids::vault).unwrap_or_default();
    json!({
        "id": format!("{scope}/providers/Microsoft.Authorization/roleAssignments/{}", r.name),
        "name": r.name,
        "principalId": r.principal.0,
        "roleDefinitionName": r.role.name(),
        "scope": scope,
        "type": "Microsoft.Authorization/roleAssignments"
    })
}

fn role_create(ws: &mut Workspace, a: &mut Args) -> Result<Value, CommandError> {
    let role = role_arg(a)?.ok_or_else(|| usage("the following arguments are required: --role"))?;
    let vault = service::rbac::vault_of_scope(ws, &a.required("--scope")?)?;
    let r = service::rbac::create_role_assignment(ws, &vault, &assignee(a)?, role)?;
    Ok(assignment_json(ws, &vault, &r))
}

fn role_delete(ws: &mut Workspace, a: &mut Args) -> Result<Value, CommandError> {
    let vault = service::rbac::vault_of_scope(ws, &a.required("--scope")?)?;
    service::rbac::delete_role_assignment(ws, &vault, &assignee(a)?, role_arg(a)?)?;
    Ok(Value::Null)
}

fn role_list(ws: &mut Workspace, a: &mut Args) -> Result<Value, CommandError> {
    let vault = service::rbac::vault_of_scope(ws, &a.required("--scope")?)?;
    let who = a.get("--assignee");
    let v = service::keyvault::vault_state(ws, &vault)?;
    Ok(Value::Array(
        v.role_assignments
            .iter()
            .filter(|r| r.active_until.is_none())
            .filter(|r| who.as_ref().is_none_or(|w| &r.principal.0 == w))
            .map(|r| assignment_json(ws, &vault, r))
            .collect(),
    ))
}

/// `sim webhook listen [--port P]`: a receiver on 127.0.0.1 that answers POSTs with 200
/// (for an action group's webhook); prints its URL.
fn webhook_listen(a: &mut Args) -> Result<Value, CommandError> {
    let port: u16 = super::continuity::int_arg(a, "--port")?.unwrap_or(0);
    let url = crate::webhook_receiver::listen(port)
        .map_err(|e| service::ServiceError::bad_request("InvalidArgument", e))?;
    Ok(json!({ "url": url }))
}

/// `sim webhook received`: what the receivers of this console got (method, path, body).
fn webhook_received(_a: &mut Args) -> Result<Value, CommandError> {
    Ok(Value::Array(
        crate::webhook_receiver::received()
            .into_iter()
            .map(|r| {
                let body = serde_json::from_str::<Value>(&r.body).unwrap_or(Value::String(r.body));
                json!({"url": r.url, "method": r.method, "path": r.path, "body": body})
            })
            .collect(),
    ))
}
