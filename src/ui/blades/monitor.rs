//! Advisor recommendations, and Alerts: action groups, alert rules and the deliveries inbox.

use super::{BladeCtx, BladeKind, TdeForm, VaultForms};
use crate::service::advisor::{self, Fix, Severity};
use crate::ui::widgets::{AMBER, BLUE, GREEN, RED, badge, section};

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
                Fix::NotYetAvailable => {}
            }
        }
        ui.separator();
    }
}

pub fn alerts(ui: &mut egui::Ui, cx: &mut BladeCtx<'_>) {
    ui.label("Create action groups and alert rules in the Cloud Shell: az monitor action-group create, az monitor activity-log alert create.");
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
