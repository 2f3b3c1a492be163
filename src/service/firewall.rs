//! Server-level IP firewall rules (`az sql server firewall-rule create|show|list|update|
//! delete`), kept on the server and deleted with it. `0.0.0.0`–`0.0.0.0` is the rule that
//! lets Azure services in.

use super::lookup::check_range;
use super::lookup::{server, server_mut};
use super::{ServiceError, ServiceResult, transact};
use crate::model::*;

fn not_found(s: &SqlServer, name: &str) -> ServiceError {
    ServiceError::not_found(
        "ResourceNotFound",
        format!(
            "The Resource 'Microsoft.Sql/servers/{}/firewallRules/{name}' under resource group '{}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
            s.name, s.resource_group
        ),
    )
}

/// A logical server (firewall rules are not a managed instance's).
fn logical_server<'w>(ws: &'w Workspace, server_name: &str) -> ServiceResult<&'w SqlServer> {
    let s = server(ws, server_name)?;
    if s.kind != ServerKind::SqlDatabaseServer {
        return Err(ServiceError::server_not_found(server_name));
    }
    Ok(s)
}

/// `az sql server firewall-rule create` (a rule of that name is replaced, as ARM's PUT does).
pub fn create_rule(
    ws: &mut Workspace,
    server_name: &str,
    name: &str,
    start: &str,
    end: &str,
) -> ServiceResult<FirewallRule> {
    let out = transact(ws, |ws| {
        logical_server(ws, server_name)?;
        super::check_name("firewall rule", name, 1, 128, |c| {
            !"<>*%&:\\/?#".contains(c) && !c.is_control()
        })?;
        let (start, end) = check_range(start, end)?;
        let rule = FirewallRule {
            name: name.to_string(),
            start_ip: start,
            end_ip: end,
        };
        let s = server_mut(ws, server_name)?;
        match s
            .firewall_rules
            .iter_mut()
            .find(|r| r.name.eq_ignore_ascii_case(name))
        {
            Some(r) => *r = rule.clone(),
            None => s.firewall_rules.push(rule.clone()),
        }
        Ok(rule)
    })?;
    super::log_server_change(
        ws,
        server_name,
        None,
        "Create or update server firewall rule",
        format!(
            "Firewall rule '{}' ({} - {}) set.",
            out.name, out.start_ip, out.end_ip
        ),
    );
    Ok(out)
}

/// `az sql server firewall-rule show`.
pub fn show_rule(ws: &Workspace, server_name: &str, name: &str) -> ServiceResult<FirewallRule> {
    let s = logical_server(ws, server_name)?;
    s.firewall_rules
        .iter()
        .find(|r| r.name.eq_ignore_ascii_case(name))
        .cloned()
        .ok_or_else(|| not_found(s, name))
}

/// `az sql server firewall-rule list`.
pub fn list_rules(ws: &Workspace, server_name: &str) -> ServiceResult<Vec<FirewallRule>> {
    Ok(logical_server(ws, server_name)?.firewall_rules.clone())
}

/// `az sql server firewall-rule update`: the addresses given change, the others stay.
pub fn update_rule(
    ws: &mut Workspace,
    server_name: &str,
    name: &str,
    start: Option<&str>,
    end: Option<&str>,
) -> ServiceResult<FirewallRule> {
    let old = show_rule(ws, server_name, name)?;
    create_rule(
        ws,
        server_name,
        &old.name,
        start.unwrap_or(&old.start_ip),
        end.unwrap_or(&old.end_ip),
    )
}

/// `az sql server firewall-rule delete`.
pub fn delete_rule(ws: &mut Workspace, server_name: &str, name: &str) -> ServiceResult<()> {
    let old = show_rule(ws, server_name, name)?;
    server_mut(ws, server_name)?
        .firewall_rules
        .retain(|r| !r.name.eq_ignore_ascii_case(&old.name));
    super::log_server_change(
        ws,
        server_name,
        None,
        "Delete server firewall rule",
        format!("Firewall rule '{}' deleted.", old.name),
    );
    Ok(())
}
