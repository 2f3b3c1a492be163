//! A vault's diagnostic settings (`az monitor diagnostic-settings create|delete|list`) and
//! the audit log they switch on: the `AuditEvent` records of the requests the vault served
//! while a setting sent that category, as JSON Lines and CSV.

use super::{ServiceError, ServiceResult, check_name, transact};
use crate::model::*;

/// Finds a vault from `--resource`: its name or its ARM id.
pub fn vault_of_resource(ws: &Workspace, resource: &str) -> ServiceResult<String> {
    let name = resource
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(resource);
    let is_vault_id = !resource.contains('/')
        || resource
            .to_ascii_lowercase()
            .contains("/providers/microsoft.keyvault/vaults/");
    match ws.vault(name) {
        Some(v) if is_vault_id && v.deleted.is_none() => Ok(v.name.clone()),
        _ => Err(ServiceError::not_found(
            "ResourceNotFound",
            format!(
                "The Resource 'Microsoft.KeyVault/vaults/{name}' was not found. Diagnostic settings are simulated for key vaults."
            ),
        )),
    }
}

/// `az monitor diagnostic-settings create`: adds (or replaces, by name) a setting.
pub fn create_setting(
    ws: &mut Workspace,
    vault: &str,
    setting: DiagnosticSetting,
) -> ServiceResult<DiagnosticSetting> {
    transact(ws, |ws| {
        check_name("diagnostic setting", &setting.name, 1, 260, |c| {
            c.is_ascii_alphanumeric() || "-_. ".contains(c)
        })?;
        if setting.destination.trim().is_empty() {
            return Err(ServiceError::bad_request(
                "BadRequest",
                "A destination is required: --workspace (Log Analytics) or --storage-account.",
            ));
        }
        let v = ws
            .vault_mut(vault)
            .filter(|v| v.deleted.is_none())
            .ok_or_else(|| ServiceError::vault_not_found(vault))?;
        v.diagnostic_settings
            .retain(|d| !d.name.eq_ignore_ascii_case(&setting.name));
        v.diagnostic_settings.push(setting.clone());
        Ok(setting)
    })
}

/// `az monitor diagnostic-settings delete`.
pub fn delete_setting(ws: &mut Workspace, vault: &str, name: &str) -> ServiceResult<()> {
    transact(ws, |ws| {
        let v = ws
            .vault_mut(vault)
            .filter(|v| v.deleted.is_none())
            .ok_or_else(|| ServiceError::vault_not_found(vault))?;
        let before = v.diagnostic_settings.len();
        v.diagnostic_settings
            .retain(|d| !d.name.eq_ignore_ascii_case(name));
        if v.diagnostic_settings.len() == before {
            return Err(ServiceError::not_found(
                "ResourceNotFound",
                format!("The diagnostic setting '{name}' doesn't exist."),
            ));
        }
        Ok(())
    })
}

/// The audit log of one vault: the audited requests, oldest first.
pub fn audit_log(ws: &Workspace, vault: &str) -> Vec<VaultRequest> {
    ws.journal
        .filtered(|r| r.audited && r.vault.eq_ignore_ascii_case(vault))
}

/// Records as JSON Lines: one `AuditEvent` object a line.
pub fn to_json_lines(records: &[VaultRequest]) -> String {
    let mut out = String::new();
    for r in records {
        out.push_str(&r.to_json().to_string());
        out.push('\n');
    }
    out
}

/// The CSV columns, as Log Analytics exports the `AzureDiagnostics` table's main fields.
pub const CSV_COLUMNS: [&str; 14] = [
    "TimeGenerated",
    "OperationName",
    "ResultType",
    "ResultSignature",
    "httpStatusCode_d",
    "DurationMs",
    "CallerIPAddress",
    "identity_claim_oid_g",
    "identity_claim_upn_s",
    "clientInfo_s",
    "requestUri_s",
    "id_s",
    "CorrelationId",
    "ResultDescription",
];

/// Records as RFC 4180 CSV with a header line.
pub fn to_csv(records: &[VaultRequest]) -> String {
    let mut out = CSV_COLUMNS.join(",");
    out.push_str("\r\n");
    for r in records {
        let fields = [
            r.time.to_iso().replace("+00:00", "Z"),
            r.operation.clone(),
            r.result_type().to_string(),
            r.result_signature().to_string(),
            r.status.to_string(),
            r.duration_ms.to_string(),
            r.caller.ip_address.clone(),
            r.caller.object_id.clone(),
            r.caller.upn.clone().unwrap_or_default(),
            r.caller.client_info.clone(),
            r.request_uri.clone(),
            r.object_id.clone(),
            r.correlation_id(),
            r.description.clone(),
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

fn csv_field(f: &str) -> String {
    if f.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", f.replace('"', "\"\""))
    } else {
        f.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::csv_field;

    #[test]
    fn csv_quotes_only_what_needs_it() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
