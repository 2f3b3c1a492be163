//! Server overview: identity, protector, databases with status badges.

use super::{BladeCtx, BladeKind, TdeForm};
use crate::model::*;
use crate::service::availability::Availability;
use crate::ui::widgets::{self, properties, section, state_badge};
use egui_extras::{Column, TableBuilder};

pub fn show(
    ui: &mut egui::Ui,
    name: &str,
    message: &mut Option<super::Outcome>,
    cx: &mut BladeCtx<'_>,
) {
    // A shared handle, not a copy: the blade reads it while operations change the workspace.
    let Some(s) = cx
        .ws
        .servers
        .iter()
        .find(|s| s.name.eq_ignore_ascii_case(name))
        .cloned()
    else {
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
        if ui.button("Topology").clicked() {
            cx.open(BladeKind::Topology);
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
            // Read-only: Microsoft turns it on by request (`sim sql server|mi
            // infrastructure-encryption enable`); Azure has no switch and no server field.
            (
                "Infrastructure encryption",
                match &s.infrastructure_encryption {
                    Some(i) => format!(
                        "Enabled (AES-256, platform-managed keys) since {}",
                        i.enabled.to_display()
                    ),
                    None => "Not enabled (Microsoft enables it on request)".into(),
                },
            ),
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
                .on_disabled_hover_text(crate::ui::widgets::BUSY_WHY)
                .clicked()
            {
                cx.request(
                    super::Invocation::new("az sql server update")
                        .arg("--name", s.name.clone())
                        .arg("--resource-group", s.resource_group.clone())
                        .flag("-i"),
                    |_, _| "System assigned identity turned on.".into(),
                );
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
    // Server-level revalidation (az sql server tde-key revalidate): every database that
    // waits for it, in one step.
    let waiting = s
        .databases
        .iter()
        .filter(|d| {
            matches!(
                d.state,
                DatabaseState::Inaccessible {
                    revalidation_required: true,
                    ..
                }
            )
        })
        .count();
    if waiting > 0 {
        ui.label(format!(
            "{waiting} database(s) regained access after the auto-heal window and wait for the key to be revalidated."
        ));
        if ui
            .add_enabled(
                !cx.busy,
                egui::Button::new("Revalidate key (all databases of the server)"),
            )
            .on_disabled_hover_text(crate::ui::widgets::BUSY_WHY)
            .clicked()
        {
            cx.request(
                super::Invocation::new("az sql server tde-key revalidate")
                    .arg("--server", s.name.clone())
                    .arg("--resource-group", s.resource_group.clone()),
                |out, _| {
                    let names: Vec<&str> = out
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|d| d["name"].as_str())
                        .collect();
                    format!(
                        "Revalidation accepted for {}: back online once recovered.",
                        names.join(", ")
                    )
                },
            );
        }
    }
    // "Revalidation accepted … back online once recovered" holds until the databases' states
    // change (they recovered: one notification says so); it stayed an hour after.
    super::forget_when_changed(
        ui,
        "server-databases",
        message,
        s.databases
            .iter()
            .map(|d| d.state.label())
            .collect::<Vec<_>>(),
    );
    super::outcome(ui, message);
    section(ui, &format!("Databases ({})", s.databases.len()));
    // What needs attention apart from what is only under way (a restore, a recovery).
    let (mut lost, mut unavailable, mut busy) = (0, 0, 0);
    for d in &s.databases {
        match crate::service::availability::availability(cx.ws, &s, d) {
            Availability::Inaccessible { .. } => lost += 1,
            Availability::RegionOutage { .. } => unavailable += 1,
            Availability::Restoring { .. } | Availability::Recovering { .. } => busy += 1,
            Availability::Online | Availability::Paused => {}
        }
    }
    if lost > 0 {
        ui.colored_label(
            widgets::ink(ui, widgets::RED),
            format!(
                "{lost} of {} databases are Inaccessible.",
                s.databases.len()
            ),
        );
    }
    if unavailable > 0 {
        ui.colored_label(
            widgets::ink(ui, widgets::AMBER),
            format!(
                "{unavailable} of {} databases are unavailable while the region is down.",
                s.databases.len()
            ),
        );
    }
    if busy > 0 {
        ui.colored_label(
            widgets::ink(ui, widgets::BLUE),
            format!("{busy} database(s) being restored or brought back online."),
        );
    }
    // Only the rows in view are laid out: a server of thousands of databases costs a frame
    // what twenty rows cost.
    let height = (ui.available_height() - 10.0).max(240.0);
    crate::ui::widgets::wide(ui, "server-dbs", |ui| {
        TableBuilder::new(ui)
            .striped(true)
            .max_scroll_height(height)
            .column(Column::auto().at_least(120.0).clip(true))
            .column(Column::exact(130.0))
            .column(Column::exact(150.0))
            // "Off", "On" or "On (own key …)": never cut to "..": in a narrow blade the
            // table scrolls sideways instead.
            .column(Column::remainder().at_least(130.0).clip(true))
            .header(20.0, |mut h| {
                for t in ["Name", "Status", "Tier", "TDE"] {
                    h.col(|ui| {
                        ui.strong(t);
                    });
                }
            })
            .body(|body| {
                body.rows(22.0, s.databases.len(), |mut row| {
                    let d = &s.databases[row.index()];
                    row.col(|ui| {
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
                    });
                    row.col(|ui| {
                        state_badge(ui, &widgets::state_mark(cx.ws, &s, d));
                    });
                    row.col(|ui| {
                        ui.label(format!(
                            "{} · {} GB",
                            crate::service::sku::sku_of(d).service_objective,
                            d.max_size_gb
                        ));
                    });
                    row.col(|ui| {
                        ui.label(match (&d.encryption_protector, d.tde_enabled()) {
                            (_, false) => "Off".to_string(),
                            (None, true) => "On".to_string(),
                            (Some(own), true) => format!("On (own key {own})"),
                        });
                    });
                });
            });
    });
}
