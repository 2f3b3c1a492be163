//! Azure Monitor: action groups, activity-log alert rules, and delivering alerts when the
//! Activity Log records they watch become visible. A webhook receiver really POSTs the
//! common alert schema JSON, to a loopback URL only (this console is for training).

use super::{ServiceError, ServiceResult, check_name, notify, transact};
use crate::model::*;
use serde_json::json;
use std::time::Duration as StdDuration;

/// `az monitor action-group create`.
pub fn create_action_group(ws: &mut Workspace, group: ActionGroup) -> ServiceResult<ActionGroup> {
    transact(ws, |ws| {
        check_name("action group", &group.name, 1, 260, |c| {
            c.is_alphanumeric() || "-_.".contains(c)
        })?;
        if ws.resource_group(&group.resource_group).is_none() {
            return Err(ServiceError::resource_group_not_found(
                &group.resource_group,
            ));
        }
        if group.short_name.is_empty() || group.short_name.chars().count() > 12 {
            return Err(ServiceError::bad_request(
                "InvalidShortName",
                "The short name must be 1 to 12 characters.",
            ));
        }
        for r in &group.receivers {
            if r.kind == ReceiverKind::Webhook {
                parse_loopback_url(&r.target)?;
            }
            if r.target.trim().is_empty() {
                return Err(ServiceError::bad_request(
                    "InvalidReceiver",
                    format!("Receiver '{}' needs a target.", r.name),
                ));
            }
        }
        ws.action_groups
            .retain(|g| !g.name.eq_ignore_ascii_case(&group.name));
        ws.action_groups.push(group.clone());
        Ok(group)
    })
}

/// `az monitor activity-log alert create`.
pub fn create_alert_rule(ws: &mut Workspace, rule: AlertRule) -> ServiceResult<AlertRule> {
    transact(ws, |ws| {
        check_name("alert rule", &rule.name, 1, 260, |c| {
            c.is_alphanumeric() || "-_.".contains(c)
        })?;
        if ws.resource_group(&rule.resource_group).is_none() {
            return Err(ServiceError::resource_group_not_found(&rule.resource_group));
        }
        if rule.operation_name.trim().is_empty() {
            return Err(ServiceError::bad_request(
                "InvalidCondition",
                "The condition needs operationName=<operation>.",
            ));
        }
        for g in &rule.action_groups {
            if !ws
                .action_groups
                .iter()
                .any(|x| x.name.eq_ignore_ascii_case(g))
            {
                return Err(ServiceError::not_found(
                    "ActionGroupNotFound",
                    format!("The action group '{g}' was not found."),
                ));
            }
        }
        ws.alert_rules
            .retain(|r| !r.name.eq_ignore_ascii_case(&rule.name));
        ws.alert_rules.push(rule.clone());
        Ok(rule)
    })
}

/// The portal's "Create alert rule" with a new action group: one operation, so a rule that
/// is refused leaves no action group behind.
pub fn create_alert_with_action_group(
    ws: &mut Workspace,
    group: ActionGroup,
    rule: AlertRule,
) -> ServiceResult<AlertRule> {
    transact(ws, |ws| {
        create_action_group(ws, group)?;
        create_alert_rule(ws, rule)
    })
}

/// Fires the alert rules on every Activity Log record that has become visible.
pub(crate) fn evaluate_alerts(ws: &mut Workspace) {
    let now = ws.now();
    let mut fired: Vec<(AlertRule, ActivityLogEntry)> = Vec::new();
    // Read first, then write only the records that are new (the log is shared with
    // snapshots; writing every record would copy it all).
    let due: Vec<usize> = ws
        .activity_log
        .iter()
        .enumerate()
        .filter(|(_, e)| !e.alerted && e.visible(now))
        .map(|(i, _)| i)
        .collect();
    for i in due {
        let Some(e) = ws.activity_log.get_mut(i) else {
            continue;
        };
        e.alerted = true;
        let e = e.clone();
        for r in ws.alert_rules.iter().filter(|r| r.enabled) {
            let op = r
                .operation_name
                .rsplit('/')
                .next()
                .unwrap_or(&r.operation_name);
            let matches = op.eq_ignore_ascii_case(&e.operation)
                && r.status
                    .as_ref()
                    .is_none_or(|s| s.eq_ignore_ascii_case(e.status.as_str()))
                && e.resource
                    .to_ascii_lowercase()
                    .starts_with(&r.scope.to_ascii_lowercase());
            if matches {
                fired.push((r.clone(), e.clone()));
            }
        }
    }
    for (rule, entry) in fired {
        deliver(ws, &rule, &entry);
    }
}

fn deliver(ws: &mut Workspace, rule: &AlertRule, entry: &ActivityLogEntry) {
    let now = ws.now();
    let payload = common_alert_schema(ws, rule, entry).to_string();
    let groups: Vec<ActionGroup> = ws
        .action_groups
        .iter()
        .filter(|g| {
            rule.action_groups
                .iter()
                .any(|n| n.eq_ignore_ascii_case(&g.name))
        })
        .cloned()
        .collect();
    for g in groups {
        for r in &g.receivers {
            let result = match r.kind {
                ReceiverKind::Webhook => post_json(&r.target, &payload),
                _ => "Delivered (simulated)".to_string(),
            };
            ws.deliveries.push(Delivery {
                time: now,
                alert_rule: rule.name.clone(),
                action_group: g.name.clone(),
                receiver: r.name.clone(),
                kind: r.kind,
                target: r.target.clone(),
                payload: payload.clone(),
                result,
            });
        }
    }
    notify(
        ws,
        NotificationLevel::Warning,
        format!("Alert fired: {}", rule.name),
        format!(
            "{} {} on {}",
            entry.operation,
            entry.status.as_str(),
            entry.resource.rsplit('/').next().unwrap_or("")
        ),
    );
}

/// An Activity Log event as `az monitor activity-log list` shows it: the one builder of this
/// JSON (the shell, the ARM endpoint and the portal's row details).
pub fn activity_event_json(e: &ActivityLogEntry) -> serde_json::Value {
    // The parts of the resource id az lists apart: `/subscriptions/S/resourceGroups/G/
    // providers/P/…`.
    let parts: Vec<&str> = e.resource.split('/').filter(|p| !p.is_empty()).collect();
    let after = |name: &str| {
        parts
            .iter()
            .position(|p| p.eq_ignore_ascii_case(name))
            .and_then(|i| parts.get(i + 1))
            .map(|p| p.to_string())
    };
    let level = if e.operation == "MakeDatabaseInaccessible" || e.status == ActivityStatus::Failed {
        "Error"
    } else {
        "Informational"
    };
    let by_service = e.caller.is_empty();
    json!({
        "caller": if by_service { serde_json::Value::Null } else { serde_json::Value::String(e.caller.clone()) },
        "category": {"value": "Administrative", "localizedValue": "Administrative"},
        "description": e.message,
        "eventTimestamp": e.time.to_iso(),
        "level": level,
        "operationName": {"value": e.operation, "localizedValue": e.operation},
        "resourceGroupName": after("resourceGroups"),
        "resourceId": e.resource,
        "resourceProviderName": after("providers").map(|p| json!({"value": p, "localizedValue": p})),
        "status": {"value": e.status.as_str(), "localizedValue": e.status.as_str()},
        "submissionTimestamp": e.available_at.unwrap_or(e.time).to_iso(),
        "subscriptionId": after("subscriptions")
    })
}

/// The Azure Monitor common alert schema for an activity-log alert.
fn common_alert_schema(
    ws: &Workspace,
    rule: &AlertRule,
    e: &ActivityLogEntry,
) -> serde_json::Value {
    json!({
        "schemaId": "azureMonitorCommonAlertSchema",
        "data": {
            "essentials": {
                "alertId": format!("/subscriptions/{}/providers/Microsoft.AlertsManagement/alerts/{}-{}", ws.current_subscription, rule.name, e.time.0),
                "alertRule": rule.name,
                "severity": "Sev4",
                "signalType": "Activity Log",
                "monitorCondition": "Fired",
                "monitoringService": "Activity Log - Administrative",
                "alertTargetIDs": [e.resource.to_ascii_lowercase()],
                "originAlertId": format!("{}_{}", e.operation, e.time.0),
                "firedDateTime": ws.now().to_iso(),
                "description": "",
                "essentialsVersion": "1.0",
                "alertContextVersion": "1.0"
            },
            "alertContext": {
                "authorization": {"action": e.operation, "scope": e.resource},
                "channels": "Operation",
                "caller": "Microsoft.Sql",
                "eventSource": "Administrative",
                "eventTimestamp": e.time.to_iso(),
                "level": "Error",
                "operationName": e.operation,
                "status": e.status.as_str(),
                "subStatus": "",
                "submissionTimestamp": e.available_at.unwrap_or(e.time).to_iso(),
                "properties": {"description": e.message}
            }
        }
    })
}

/// `http://127.0.0.1:PORT/path` (or localhost, [::1]): host, port, path
/// ([`crate::model::loopback_url`], refused as `InvalidWebhookUrl`).
pub(crate) fn parse_loopback_url(url: &str) -> ServiceResult<(String, u16, String)> {
    loopback_url(url).map_err(|m| ServiceError::bad_request("InvalidWebhookUrl", m))
}

/// POSTs JSON over HTTP/1.1 to a loopback URL; returns what happened, in words.
fn post_json(url: &str, body: &str) -> String {
    // Only http to a loopback address, and nothing a request line could be split on.
    if let Err(e) = parse_loopback_url(url) {
        return format!("Failed: {}", e.message);
    }
    let config = ureq::Agent::config_builder()
        .timeout_global(Some(StdDuration::from_secs(2)))
        .http_status_as_error(false)
        .max_redirects(0)
        .build();
    let agent = ureq::Agent::new_with_config(config);
    match agent
        .post(url)
        .header("Content-Type", "application/json")
        .header("User-Agent", "tde-console-action-group")
        .send(body)
    {
        Ok(response) => format!("HTTP {}", response.status().as_u16()),
        Err(e) => format!("Failed: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_webhooks_are_accepted() {
        assert_eq!(
            parse_loopback_url("http://127.0.0.1:8080/hook").unwrap(),
            ("127.0.0.1".into(), 8080, "/hook".into())
        );
        assert_eq!(parse_loopback_url("http://localhost/x").unwrap().1, 80);
        assert!(parse_loopback_url("http://[::1]:9/").is_ok());
        assert!(parse_loopback_url("https://127.0.0.1/x").is_err());
        assert!(parse_loopback_url("http://10.0.0.1/x").is_err());
        assert!(parse_loopback_url("http://example.com/x").is_err());
        assert!(parse_loopback_url("http://127.0.0.1.evil.com/x").is_err());
    }
}
