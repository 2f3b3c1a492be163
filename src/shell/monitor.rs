//! `az monitor …`: the activity log, action groups and activity-log alert rules.

use super::args::Args;
use super::commands::*;
use super::registry::Command;
use crate::model::*;
use crate::service::{self, KeySource};
use serde_json::{Value, json};

pub const COMMANDS: &[Command] = &[
    Command::new(
        "az monitor activity-log list",
        "List and query activity log events.",
        &[
            "--resource-group",
            "--offset",
            "--max-events",
            "--caller",
            "--status",
            "--resource-id",
        ],
        monitor_activity_log_list,
    ),
    Command::new(
        "az monitor action-group create",
        "Create a new action group.",
        &["--name", "--resource-group", "--short-name", "--action"],
        monitor_action_group_create,
    ),
    Command::new(
        "az monitor action-group list",
        "List action groups under a resource group or the current subscription.",
        &["--resource-group"],
        monitor_action_group_list,
    ),
    Command::new(
        "az monitor activity-log alert create",
        "Create a default activity log alert rule.",
        &[
            "--name",
            "--resource-group",
            "--condition",
            "--action-group",
            "--scope",
            "--description",
        ],
        monitor_activity_log_alert_create,
    ),
    Command::new(
        "az monitor activity-log alert list",
        "List activity log alert rules under a resource group or the current subscription.",
        &["--resource-group"],
        monitor_activity_log_alert_list,
    ),
];

fn monitor_activity_log_list(
    ws: &mut Workspace,
    _keys: &dyn KeySource,
    _cmd: &str,
    a: &mut Args,
) -> CmdResult {
    let g = a
        .get("--resource-group")
        .map(|g| format!("/resourcegroups/{}/", g.to_ascii_lowercase()));
    let caller = a.get("--caller");
    let status = a.get("--status");
    let resource = a.get("--resource-id");
    let now = ws.now();
    Ok(Value::Array(
        ws.activity_log
            .iter()
            .rev()
            .filter(|e| e.visible(now))
            .filter(|e| {
                g.as_ref()
                    .is_none_or(|g| e.resource.to_ascii_lowercase().contains(g.as_str()))
            })
            .filter(|e| {
                caller
                    .as_deref()
                    .is_none_or(|c| e.caller.eq_ignore_ascii_case(c))
            })
            .filter(|e| {
                status
                    .as_deref()
                    .is_none_or(|s| e.status.as_str().eq_ignore_ascii_case(s))
            })
            .filter(|e| {
                resource
                    .as_deref()
                    .is_none_or(|r| e.resource.eq_ignore_ascii_case(r))
            })
            .map(service::monitor::activity_event_json)
            .collect(),
    ))
}

fn monitor_action_group_create(
    ws: &mut Workspace,
    _keys: &dyn KeySource,
    _cmd: &str,
    a: &mut Args,
) -> CmdResult {
    let mut receivers = Vec::new();
    for g in a.groups("--action") {
        // az takes sms and voice as NAME COUNTRY_CODE PHONE_NUMBER.
        let phone;
        let (kind, name, target) = match g.as_slice() {
            [k, n, cc, number] if ["sms", "voice"].contains(&k.to_ascii_lowercase().as_str()) => {
                phone = format!("+{} {number}", cc.trim_start_matches('+'));
                (k, n, &phone)
            }
            [k, n, t, ..] => (k, n, t),
            _ => {
                return Err(usage(
                    "argument --action: expected TYPE NAME TARGET, e.g. --action webhook hook1 http://127.0.0.1:8080/alert",
                ));
            }
        };
        let kind = ReceiverKind::parse(kind).ok_or_else(|| {
            usage(format!(
                "argument --action: invalid type '{kind}' (choose from {})",
                ReceiverKind::ALL
                    .iter()
                    .map(|k| k.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?;
        receivers.push(Receiver {
            name: name.clone(),
            kind,
            target: target.clone(),
        });
    }
    let name = a.required("--name")?;
    let group = ActionGroup {
        short_name: a
            .get("--short-name")
            .unwrap_or_else(|| name.chars().take(12).collect()),
        name,
        resource_group: a.required("--resource-group")?,
        receivers,
    };
    let created = service::monitor::create_action_group(ws, group)?;
    Ok(action_group_json(ws, &created))
}

fn monitor_action_group_list(
    ws: &mut Workspace,
    _keys: &dyn KeySource,
    _cmd: &str,
    _a: &mut Args,
) -> CmdResult {
    Ok(Value::Array(
        ws.action_groups
            .iter()
            .map(|g| action_group_json(ws, g))
            .collect(),
    ))
}

fn monitor_activity_log_alert_create(
    ws: &mut Workspace,
    _keys: &dyn KeySource,
    _cmd: &str,
    a: &mut Args,
) -> CmdResult {
    let condition = a.required("--condition")?;
    let mut operation = String::new();
    let mut status = None;
    for term in condition.split(" and ") {
        match term.trim().split_once('=') {
            Some(("operationName", v)) => operation = v.trim().to_string(),
            Some(("status", v)) => status = Some(v.trim().to_string()),
            Some(("category", _)) => {}
            _ => {
                return Err(usage(format!(
                    "argument --condition: cannot read '{term}' (use e.g. category=Administrative and operationName=MakeDatabaseInaccessible)"
                )));
            }
        }
    }
    let group = a.required("--resource-group")?;
    let scope = a
        .get("--scope")
        .unwrap_or_else(|| format!("/subscriptions/{}", ws.current_subscription));
    let rule = AlertRule {
        name: a.required("--name")?,
        resource_group: group,
        scope,
        operation_name: operation,
        status,
        action_groups: a.list("--action-group"),
        enabled: true,
    };
    let r = service::monitor::create_alert_rule(ws, rule)?;
    Ok(
        json!({"name": r.name, "scopes": [r.scope], "condition": {"allOf": [{"field": "operationName", "equals": r.operation_name}]}, "actions": {"actionGroups": r.action_groups}, "enabled": r.enabled, "type": "Microsoft.Insights/ActivityLogAlerts"}),
    )
}

fn monitor_activity_log_alert_list(
    ws: &mut Workspace,
    _keys: &dyn KeySource,
    _cmd: &str,
    _a: &mut Args,
) -> CmdResult {
    Ok(Value::Array(ws.alert_rules.iter().map(|r| json!({"name": r.name, "scopes": [r.scope], "operationName": r.operation_name, "status": r.status, "actionGroups": r.action_groups, "enabled": r.enabled})).collect()))
}

fn action_group_json(ws: &Workspace, g: &ActionGroup) -> Value {
    let of = |k: ReceiverKind| -> Vec<Value> {
        g.receivers
            .iter()
            .filter(|r| r.kind == k)
            .map(|r| json!({"name": r.name, "target": r.target}))
            .collect()
    };
    json!({
        "id": format!("/subscriptions/{}/resourceGroups/{}/providers/microsoft.insights/actionGroups/{}", ws.current_subscription, g.resource_group, g.name),
        "name": g.name,
        "groupShortName": g.short_name,
        "enabled": true,
        "emailReceivers": of(ReceiverKind::Email),
        "smsReceivers": of(ReceiverKind::Sms),
        "azureAppPushReceivers": of(ReceiverKind::Push),
        "voiceReceivers": of(ReceiverKind::Voice),
        "webhookReceivers": of(ReceiverKind::Webhook),
        "logicAppReceivers": of(ReceiverKind::LogicApp),
        "itsmReceivers": of(ReceiverKind::Itsm),
        "automationRunbookReceivers": of(ReceiverKind::AutomationRunbook),
        "resourceGroup": g.resource_group,
        "type": "Microsoft.Insights/ActionGroups"
    })
}
