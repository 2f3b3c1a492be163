//! Azure Monitor: action groups, activity-log alert rules, and delivering alerts when the
//! Activity Log records they watch become visible. A webhook receiver gets the common alert
//! schema JSON, to a loopback URL only (this console is for training), through an outbox:
//! firing an alert only appends the POST to [`Workspace::outbox`]; the clients send it after
//! the operation has committed (so a rolled-back operation sends nothing) and record what
//! happened with [`record_deliveries`]. Nothing here touches the network.

use super::{ServiceError, ServiceResult, check_name, notify, transact};
use crate::model::*;
use serde_json::json;

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
            let sent = |result: String| Delivery {
                time: now,
                alert_rule: rule.name.clone(),
                action_group: g.name.clone(),
                receiver: r.name.clone(),
                kind: r.kind,
                target: r.target.clone(),
                payload: payload.clone(),
                result,
            };
            if r.kind != ReceiverKind::Webhook {
                ws.deliveries
                    .push(sent("Delivered (simulated)".to_string()));
                continue;
            }
            // A webhook waits in the outbox for a client to POST it after this commits.
            let pending = PendingDelivery {
                id: 0,
                time: now,
                alert_rule: rule.name.clone(),
                action_group: g.name.clone(),
                receiver: r.name.clone(),
                target: r.target.clone(),
                payload: payload.clone(),
            };
            if ws.outbox.push(pending).is_err() {
                ws.deliveries.push(sent(format!(
                    "Failed: not sent, {OUTBOX_LIMIT} webhook deliveries were already waiting to be sent"
                )));
            }
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

/// What a client's attempt to send a pending webhook delivery came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryOutcome {
    /// [`PendingDelivery::id`].
    pub id: u64,
    /// In words: "HTTP 200", "Failed: connection refused", ...
    pub result: String,
}

/// Records what sending pending webhook deliveries came to (a client calls it after it has
/// POSTed them): each leaves the outbox and becomes a [`Delivery`] in the alerts' inbox,
/// dated when its alert fired. Outcomes for deliveries no longer waiting (sent and recorded
/// already, or from before an undo) are ignored. Returns how many were recorded.
pub fn record_deliveries(ws: &mut Workspace, outcomes: &[DeliveryOutcome]) -> ServiceResult<usize> {
    if !outcomes
        .iter()
        .any(|o| ws.outbox.pending.iter().any(|p| p.id == o.id))
    {
        return Ok(0);
    }
    transact(ws, |ws| {
        let mut n = 0;
        for o in outcomes {
            let Some(p) = ws.outbox.take(o.id) else {
                continue;
            };
            ws.deliveries.push(Delivery {
                time: p.time,
                alert_rule: p.alert_rule,
                action_group: p.action_group,
                receiver: p.receiver,
                kind: ReceiverKind::Webhook,
                target: p.target,
                payload: p.payload,
                result: o.result.clone(),
            });
            n += 1;
        }
        Ok(n)
    })
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
