//! Advisor recommendations, and Alerts: action groups, alert rules and the deliveries inbox.

use super::{BladeCtx, BladeKind, Change, Invocation, Line, TdeForm, VaultForms, outcome};
use crate::model::{ActionGroup, AlertRule, Receiver, ReceiverKind};
use crate::service::advisor::{self, Fix, Severity};
use crate::ui::widgets::{AMBER, BLUE, GREEN, RED, badge, section, text_field};

pub fn advisor(ui: &mut egui::Ui, cx: &mut BladeCtx<'_>) {
    let recs = advisor::advise(cx.ws);
    if recs.is_empty() {
        ui.label("No server uses a customer-managed key yet: nothing to check.");
    }
    for r in recs {
        ui.horizontal_wrapped(|ui| {
            if r.passed {
                badge(ui, "OK", GREEN);
            } else {
                match r.severity {
                    Severity::High => badge(ui, "High", RED),
                    Severity::Medium => badge(ui, "Medium", AMBER),
                    Severity::Low => badge(ui, "Low", BLUE),
                };
            }
            ui.strong(r.check);
            ui.label(egui::RichText::new(&r.resource).weak());
        });
        ui.label(&r.detail);
        if !r.passed {
            match &r.fix {
                Fix::Vault(v) => {
                    if ui.small_button(format!("Open {v}")).clicked() {
                        cx.open(BladeKind::Vault {
                            vault: v.clone(),
                            forms: VaultForms::default(),
                        });
                    }
                }
                Fix::Key { vault, key } => {
                    let version = cx
                        .ws
                        .vault(vault)
                        .and_then(|v| v.key(key))
                        .and_then(|k| k.current())
                        .map(|v| v.version.0.clone());
                    if let Some(version) = version
                        && ui.small_button(format!("Open {key}")).clicked()
                    {
                        cx.open(BladeKind::KeyVersion {
                            vault: vault.clone(),
                            key: key.clone(),
                            version,
                            message: None,
                        });
                    }
                }
                Fix::Server(s) => {
                    if ui.small_button(format!("Open {s} TDE")).clicked() {
                        cx.open(BladeKind::ServerTde {
                            server: s.clone(),
                            form: TdeForm::for_server(cx.ws, s),
                        });
                    }
                }
            }
        }
        ui.separator();
    }
}

/// The form of the Alerts blade: one action group with one receiver, and one rule.
pub struct AlertForm {
    pub group_name: String,
    pub kind: ReceiverKind,
    pub receiver: String,
    pub target: String,
    pub rule_name: String,
    pub operation: &'static str,
    pub message: Option<Result<String, String>>,
}

impl Default for AlertForm {
    fn default() -> Self {
        AlertForm {
            group_name: "ag-dba".into(),
            kind: ReceiverKind::Email,
            receiver: "oncall".into(),
            target: "dba@contoso.com".into(),
            rule_name: "tde-inaccessible".into(),
            operation: "MakeDatabaseInaccessible",
            message: None,
        }
    }
}

pub fn alerts(ui: &mut egui::Ui, f: &mut AlertForm, cx: &mut BladeCtx<'_>) {
    ui.label("Alert rules watch the Activity Log; action groups say who hears about it. The Cloud Shell has the full commands (az monitor action-group create, az monitor activity-log alert create).");
    egui::CollapsingHeader::new("New action group and alert rule")
        .default_open(cx.ws.alert_rules.is_empty())
        .show(ui, |ui| {
            let group = cx.ws.resource_groups.first().map(|g| g.name.clone());
            text_field(ui, "Action group name", &mut f.group_name, "ag-dba");
            crate::ui::widgets::combo(ui, "Receiver type", f.kind.as_str(), None, |ui| {
                for k in ReceiverKind::ALL {
                    ui.selectable_value(&mut f.kind, k, k.as_str());
                }
            });
            text_field(ui, "Receiver name", &mut f.receiver, "oncall");
            let hint = if f.kind == ReceiverKind::Webhook {
                "http://127.0.0.1:8080/alerts"
            } else {
                "address, number or resource id"
            };
            text_field(ui, "Target", &mut f.target, hint);
            text_field(ui, "Alert rule name", &mut f.rule_name, "tde-inaccessible");
            crate::ui::widgets::combo(
                ui,
                "When the Activity Log records",
                f.operation,
                None,
                |ui| {
                    for op in ["MakeDatabaseInaccessible", "MakeDatabaseAccessible"] {
                        ui.selectable_value(&mut f.operation, op, op);
                    }
                },
            );
            if ui
                .add_enabled(!cx.busy && group.is_some(), egui::Button::new("Create"))
                .on_disabled_hover_text(crate::ui::widgets::why(&[
                    (cx.busy, crate::ui::widgets::BUSY_WHY),
                    (
                        group.is_none(),
                        "The workspace has no resource group for the action group.",
                    ),
                ]))
                .clicked()
                && let Some(group) = group
            {
                let ag = ActionGroup {
                    name: f.group_name.trim().to_string(),
                    resource_group: group.clone(),
                    short_name: f.group_name.trim().chars().take(12).collect(),
                    receivers: vec![Receiver {
                        name: f.receiver.trim().to_string(),
                        kind: f.kind,
                        target: f.target.trim().to_string(),
                    }],
                };
                let rule = AlertRule {
                    name: f.rule_name.trim().to_string(),
                    resource_group: group,
                    scope: format!("/subscriptions/{}", cx.ws.current_subscription),
                    operation_name: f.operation.to_string(),
                    status: None,
                    action_groups: vec![ag.name.clone()],
                    enabled: true,
                };
                let receiver = &ag.receivers[0];
                // az's form of each receiver: TYPE NAME TARGET, sms/voice as TYPE NAME
                // COUNTRY_CODE NUMBER.
                let mut action = vec![receiver.kind.as_str().to_string(), receiver.name.clone()];
                match receiver.kind {
                    ReceiverKind::Sms | ReceiverKind::Voice => {
                        let t = receiver.target.trim().trim_start_matches('+');
                        match t.split_once(' ') {
                            Some((cc, number)) => {
                                action.extend([cc.to_string(), number.trim().to_string()])
                            }
                            None => action.push(t.to_string()),
                        }
                    }
                    _ => action.push(receiver.target.clone()),
                }
                // One step in the blade, two commands: all or nothing.
                let script = vec![
                    Invocation::new("az monitor action-group create")
                        .arg("--name", ag.name.clone())
                        .arg("--resource-group", ag.resource_group.clone())
                        .arg("--short-name", ag.short_name.clone())
                        .args("--action", action),
                    Invocation::new("az monitor activity-log alert create")
                        .arg("--name", rule.name.clone())
                        .arg("--resource-group", rule.resource_group.clone())
                        .arg(
                            "--condition",
                            format!(
                                "category=Administrative and operationName={}",
                                rule.operation_name
                            ),
                        )
                        .arg("--action-group", ag.name.clone()),
                ];
                cx.change_to(
                    Line::Main,
                    Change::script(script, |out, _| {
                        format!(
                            "Alert rule '{}' created.",
                            out["name"].as_str().unwrap_or_default()
                        )
                    }),
                    None,
                );
            }
            outcome(ui, &f.message);
        });
    section(ui, &format!("Alert rules ({})", cx.ws.alert_rules.len()));
    for r in &cx.ws.alert_rules {
        ui.label(format!(
            "{}: {}{} -> {}",
            r.name,
            r.operation_name,
            r.status
                .as_ref()
                .map(|s| format!(" ({s})"))
                .unwrap_or_default(),
            r.action_groups.join(", ")
        ));
    }
    section(
        ui,
        &format!("Action groups ({})", cx.ws.action_groups.len()),
    );
    for g in &cx.ws.action_groups {
        ui.label(format!(
            "{} ({}): {}",
            g.name,
            g.short_name,
            g.receivers
                .iter()
                .map(|r| format!("{} {} {}", r.kind.as_str(), r.name, r.target))
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
    section(ui, &format!("Deliveries ({})", cx.ws.deliveries.len()));
    // Webhooks fired and not sent yet (the console sends them once the change has committed).
    for p in cx.ws.outbox.pending.iter().rev().take(50) {
        ui.horizontal_wrapped(|ui| {
            badge(ui, "sending", AMBER);
            ui.label(format!(
                "{} {} via {} {} (webhook) to {}",
                p.time, p.alert_rule, p.action_group, p.receiver, p.target
            ));
        });
    }
    for d in cx.ws.deliveries.iter().rev().take(200) {
        ui.horizontal_wrapped(|ui| {
            let ok = !d.result.starts_with("Failed");
            badge(
                ui,
                if ok { "sent" } else { "failed" },
                if ok { GREEN } else { RED },
            );
            ui.label(format!(
                "{} {} via {} {} ({}) to {}: {}",
                d.time,
                d.alert_rule,
                d.action_group,
                d.receiver,
                d.kind.as_str(),
                d.target,
                d.result
            ));
        });
    }
}
