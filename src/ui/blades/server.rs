//! Server overview: identity, protector, databases with status badges.

use super::{BladeCtx, BladeKind, TdeForm};
use crate::model::*;
use crate::ui::widgets::{self, properties, section, state_badge};

pub fn show(ui: &mut egui::Ui, name: &str, cx: &mut BladeCtx<'_>) {
    let Some(s) = cx.ws.server(name).cloned() else {
        ui.label(format!("Server '{name}' no longer exists."));
        return;
    };
    ui.horizontal_wrapped(|ui| {
        if ui.button("Transparent data encryption").clicked() {
            cx.open(BladeKind::ServerTde {
                server: s.name.clone(),
                form: TdeForm::for_server(cx.ws, &s.name),
            });
        }
        if ui.button("Failover groups").clicked() {
            cx.open(BladeKind::FailoverGroups {
                server: s.name.clone(),
                form: Default::default(),
            });
        }
        if ui.button("Activity log").clicked() {
            cx.open(BladeKind::ActivityLog);
        }
    });
    section(ui, "Essentials");
    let protector = match s.protector.key_type {
        ServerKeyType::ServiceManaged => "Service-managed key".to_string(),
        ServerKeyType::AzureKeyVault => {
            format!("Customer-managed key: {}", s.protector.server_key_name)
        }
    };
    properties(
        ui,
        "server-essentials",
        &[
            ("Kind", s.kind.label().to_string()),
            ("Server name", s.fqdn()),
            ("Resource group", s.resource_group.clone()),
            ("Location", s.location.clone()),
            ("Admin login", s.admin_login.clone()),
            ("TDE protector", protector),
        ],
    );
    section(ui, "Identity");
    match &s.identity {
        Some(id) => properties(
            ui,
            "server-identity",
            &[
                ("System assigned", "On".into()),
                ("Object (principal) ID", id.principal_id.0.clone()),
                ("Tenant", id.tenant_id.0.clone()),
            ],
        ),
        None => {
            ui.label("System assigned identity: Off. Customer-managed TDE needs one.");
            if ui
                .add_enabled(
                    !cx.busy,
                    egui::Button::new("Turn on system assigned identity"),
                )
                .clicked()
            {
                let r = crate::service::sql::assign_identity(cx.ws, &s.name);
                if let Err(e) = cx.apply(r, |_| String::new()) {
                    widgets::error_box(ui, &e);
                }
            }
        }
    }
    if let Some(o) = cx.ws.continuity.region_outage(&s.location, cx.ws.now()) {
        widgets::error_box(
            ui,
            &format!(
                "Region {} is down until {}: this server does not serve (connections fail with 40613; its databases are unavailable, not Inaccessible).",
                o.region, o.until
            ),
        );
    }
    if let Some(since) = s.key_access_lost_since {
        widgets::error_box(
            ui,
            &format!("The server lost access to its TDE protector at {since}."),
        );
    }
    section(ui, &format!("Databases ({})", s.databases.len()));
    egui::Grid::new("server-dbs")
        .num_columns(4)
        .striped(true)
        .spacing([12.0, 6.0])
        .show(ui, |ui| {
            ui.strong("Name");
            ui.strong("Status");
            ui.strong("Tier");
            ui.strong("TDE");
            ui.end_row();
            for d in &s.databases {
                if ui
                    .link(&d.name)
                    .on_hover_text("Open the database")
                    .clicked()
                {
                    cx.open(BladeKind::Database {
                        server: s.name.clone(),
                        db: d.name.clone(),
                        message: None,
                    });
                }
                state_badge(ui, &d.state);
                ui.label(format!("{} · {} GB", d.tier.label(), d.max_size_gb));
                ui.label(match (&d.encryption_protector, d.tde_enabled()) {
                    (_, false) => "Off".to_string(),
                    (None, true) => "On".to_string(),
                    (Some(own), true) => format!("On (own key {own})"),
                });
                ui.end_row();
            }
        });
}
