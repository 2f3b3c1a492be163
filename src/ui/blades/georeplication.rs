//! Geo-replication of a database (its links, "Create replica", failover) and the failover
//! groups of a server (create, add/remove databases, policy, grace period, listeners,
//! failover).

use super::{BladeCtx, outcome, said};
use crate::model::*;
use crate::service::failover_group::{self as fg, CreateFailoverGroup, UpdateFailoverGroup};
use crate::service::georeplication::{self as geo, CreateReplica};
use crate::ui::widgets::{AMBER, BLUE, GREEN, badge, section, text_field};

/// The Geo-replication blade's form.
#[derive(Default)]
pub struct GeoForm {
    pub partner: String,
    pub message: Option<Result<String, String>>,
}

/// Writes that have not reached `server`/`db` yet (replication lag), as a count.
fn in_flight(ws: &Workspace, server: &str, db: &str) -> usize {
    let now = ws.now();
    ws.server(server)
        .and_then(|s| s.database(db))
        .map(|d| d.content.iter().filter(|r| r.at > now).count())
        .unwrap_or(0)
}

pub fn show_database(
    ui: &mut egui::Ui,
    server: &str,
    db: &str,
    form: &mut GeoForm,
    cx: &mut BladeCtx<'_>,
) {
    let links: Vec<ReplicationLink> = cx
        .ws
        .continuity
        .links
        .iter()
        .filter(|l| l.touches(server, db))
        .cloned()
        .collect();
    let role = if cx.ws.continuity.primary_of(server, db).is_some() {
        "Geo-secondary (readable, read-only)"
    } else if links.is_empty() {
        "Not replicated"
    } else {
        "Primary"
    };
    ui.horizontal(|ui| {
        ui.label("Role:");
        badge(ui, role, if role == "Primary" { GREEN } else { BLUE });
    });
    section(ui, "Replicas");
    if links.is_empty() {
        ui.label("No geo-replication link.");
    }
    egui::Grid::new("geo-links")
        .num_columns(5)
        .striped(true)
        .spacing([10.0, 4.0])
        .show(ui, |ui| {
            if !links.is_empty() {
                ui.strong("Role");
                ui.strong("Server (region)");
                ui.strong("State");
                ui.strong("Lag");
                ui.strong("");
                ui.end_row();
            }
            for l in &links {
                for (role, s, d) in [
                    ("Primary", &l.primary_server, &l.primary_database),
                    ("Secondary", &l.secondary_server, &l.secondary_database),
                ] {
                    let region = cx
                        .ws
                        .server(s)
                        .map(|x| x.location.clone())
                        .unwrap_or_default();
                    ui.label(role);
                    ui.label(format!("{s}/{d} ({region})"));
                    if role == "Primary" {
                        ui.label("");
                        ui.label("");
                        ui.label("");
                    } else {
                        ui.label(l.state.as_str());
                        let pending = in_flight(cx.ws, s, d);
                        if pending > 0 {
                            badge(ui, &format!("{pending} write(s) in flight"), AMBER);
                        } else {
                            ui.label("caught up");
                        }
                        let group = cx.ws.continuity.group_of(s, d).map(|g| g.name.clone());
                        ui.horizontal(|ui| {
                            // A link inside a failover group fails over with its group.
                            let enabled = !cx.busy && group.is_none();
                            if let Some(g) = &group {
                                ui.label(format!("in failover group {g}"));
                            }
                            if ui
                                .add_enabled(enabled, egui::Button::new(format!("Failover to {s}")))
                                .on_hover_text(
                                    "Planned: the secondary catches up first; no data is lost.",
                                )
                                .clicked()
                            {
                                replica_failover(cx, s, d, false);
                            }
                            if ui
                                .add_enabled(
                                    enabled,
                                    egui::Button::new(format!("Forced failover to {s}")),
                                )
                                .on_hover_text(
                                    "With data loss: writes not yet replicated are lost.",
                                )
                                .clicked()
                            {
                                replica_failover(cx, s, d, true);
                            }
                        });
                    }
                    ui.end_row();
                }
            }
        });
    section(ui, "Create replica");
    server_picker(ui, "Target server", cx.ws, server, &mut form.partner);
    if ui
        .add_enabled(
            !cx.busy && !form.partner.is_empty(),
            egui::Button::new("Create replica"),
        )
        .clicked()
    {
        let req = CreateReplica {
            server: server.to_string(),
            database: db.to_string(),
            partner_server: form.partner.clone(),
            partner_database: None,
        };
        cx.az(format!(
            "az sql db replica create --name {db} --server {server} --resource-group {} --partner-server {} --partner-resource-group {}",
            super::group_of(cx.ws, server),
            req.partner_server,
            super::group_of(cx.ws, &req.partner_server)
        ));
        cx.run(move |ws| {
            said(geo::create_replica(ws, &req), |l| {
                format!(
                    "Geo-secondary '{}' created on '{}' (same DEK, wrapped by that server's protector).",
                    l.secondary_database, l.secondary_server
                )
            })
        });
    }
    outcome(ui, &form.message);
}

/// A combo box of the other servers (with their regions).
fn server_picker(
    ui: &mut egui::Ui,
    label: &str,
    ws: &Workspace,
    except: &str,
    selected: &mut String,
) {
    crate::ui::widgets::combo(
        ui,
        label,
        egui::WidgetText::from(if selected.is_empty() {
            "Select a server"
        } else {
            selected.as_str()
        }),
        None,
        |ui| {
            for s in ws
                .servers
                .iter()
                .filter(|s| !s.name.eq_ignore_ascii_case(except))
            {
                let text = format!("{} ({})", s.name, s.location);
                ui.selectable_value(selected, s.name.clone(), text);
            }
        },
    );
}

fn report(r: &geo::FailoverReport) -> String {
    if r.already_primary {
        format!(
            "'{}' on '{}' is already the primary.",
            r.database, r.new_primary_server
        )
    } else {
        format!(
            "Failover done: '{}' on '{}' is the primary. Writes lost: {}.",
            r.database, r.new_primary_server, r.lost_writes
        )
    }
}

/// The Failover groups blade's form.
pub struct GroupForm {
    pub name: String,
    pub partner: String,
    pub policy: FailoverPolicy,
    pub grace_hours: String,
    pub selected: Vec<String>,
    pub add_db: String,
    pub message: Option<Result<String, String>>,
}

impl Default for GroupForm {
    fn default() -> Self {
        GroupForm {
            name: String::new(),
            partner: String::new(),
            policy: FailoverPolicy::Automatic,
            grace_hours: "1".into(),
            selected: Vec::new(),
            add_db: String::new(),
            message: None,
        }
    }
}

pub fn show_groups(ui: &mut egui::Ui, server: &str, form: &mut GroupForm, cx: &mut BladeCtx<'_>) {
    let groups: Vec<FailoverGroup> = cx
        .ws
        .continuity
        .failover_groups
        .iter()
        .filter(|g| g.has_server(server))
        .cloned()
        .collect();
    if groups.is_empty() {
        ui.label("No failover group on this server.");
    }
    for g in &groups {
        let primary_here = g.primary_server.eq_ignore_ascii_case(server);
        section(ui, &format!("Failover group {}", g.name));
        crate::ui::widgets::properties(
            ui,
            &format!("fg-{}", g.name),
            &[
                ("Primary server", g.primary_server.clone()),
                ("Secondary server", g.secondary_server.clone()),
                ("Read/write listener", g.read_write_listener()),
                ("Read-only listener", g.read_only_listener()),
                (
                    "Failover policy",
                    match g.policy {
                        FailoverPolicy::Automatic => {
                            format!("Automatic (grace period {} h)", g.grace_period_hours)
                        }
                        FailoverPolicy::Manual => "Manual".into(),
                    },
                ),
                ("Databases", g.databases.join(", ")),
            ],
        );
        ui.horizontal_wrapped(|ui| {
            let enabled = !cx.busy;
            let target = g.secondary_server.clone();
            if ui
                .add_enabled(enabled, egui::Button::new(format!("Failover {}", g.name)))
                .on_hover_text(format!("Planned failover to {target}: no data loss."))
                .clicked()
            {
                let (name, target) = (g.name.clone(), target.clone());
                cx.az(format!(
                    "az sql failover-group set-primary --name {name} --server {target} --resource-group {}",
                    super::group_of(cx.ws, &target)
                ));
                cx.spawn(format!("Failing over {name}…"), move |ws| {
                    fg::set_group_primary(ws, &name, &target, false)
                        .map(|r| {
                            format!(
                                "'{}' failed over: {} is the primary ({} databases opened).",
                                r.group,
                                r.new_primary,
                                r.databases.len()
                            )
                        })
                        .map_err(|e| e.to_string())
                });
            }
            if ui
                .add_enabled(
                    enabled,
                    egui::Button::new(format!("Forced failover {}", g.name)),
                )
                .on_hover_text(format!(
                    "Forced failover to {target}: may lose the last writes."
                ))
                .clicked()
            {
                let (name, target) = (g.name.clone(), target.clone());
                cx.az(format!(
                    "az sql failover-group set-primary --name {name} --server {target} --resource-group {} --allow-data-loss",
                    super::group_of(cx.ws, &target)
                ));
                cx.spawn(format!("Forcing failover of {name}…"), move |ws| {
                    fg::set_group_primary(ws, &name, &target, true)
                        .map(|r| {
                            format!(
                                "'{}' failed over (forced): {} is the primary; {} write(s) lost.",
                                r.group, r.new_primary, r.lost_writes
                            )
                        })
                        .map_err(|e| e.to_string())
                });
            }
            if primary_here
                && ui
                    .add_enabled(enabled, egui::Button::new(format!("Delete {}", g.name)))
                    .clicked()
            {
                let (group, server) = (g.name.clone(), server.to_string());
                cx.az(format!(
                    "az sql failover-group delete --name {group} --server {server} --resource-group {}",
                    super::group_of(cx.ws, &server)
                ));
                cx.run(move |ws| {
                    said(fg::delete_failover_group(ws, &group, &server), |()| {
                        format!("Failover group '{group}' deleted; the geo-replication links stay.")
                    })
                });
            }
        });
        opened_plot(ui, cx.ws, g);
        if primary_here {
            ui.horizontal(|ui| {
                let candidates: Vec<String> = cx
                    .ws
                    .server(server)
                    .map(|s| {
                        s.databases
                            .iter()
                            .filter(|d| !g.contains(&d.name))
                            .map(|d| d.name.clone())
                            .collect()
                    })
                    .unwrap_or_default();
                egui::ComboBox::from_id_salt(format!("fg-add-{}", g.name))
                    .selected_text(if form.add_db.is_empty() {
                        "Database to add"
                    } else {
                        form.add_db.as_str()
                    })
                    .show_ui(ui, |ui| {
                        for c in candidates {
                            ui.selectable_value(&mut form.add_db, c.clone(), c);
                        }
                    });
                if ui
                    .add_enabled(
                        !cx.busy && !form.add_db.is_empty(),
                        egui::Button::new("Add database"),
                    )
                    .clicked()
                {
                    let added = std::mem::take(&mut form.add_db);
                    let (group, server) = (g.name.clone(), server.to_string());
                    cx.az(format!(
                        "az sql failover-group update --name {group} --server {server} --resource-group {} --add-db {added}",
                        super::group_of(cx.ws, &server)
                    ));
                    cx.run(move |ws| {
                        let change = UpdateFailoverGroup {
                            add: vec![added.clone()],
                            ..Default::default()
                        };
                        said(
                            fg::update_failover_group(ws, &group, &server, &change),
                            |_| format!("'{added}' added to '{group}'."),
                        )
                    });
                }
            });
            ui.horizontal_wrapped(|ui| {
                for db in &g.databases {
                    if ui
                        .add_enabled(!cx.busy, egui::Button::new(format!("Remove {db}")).small())
                        .clicked()
                    {
                        let (group, server, db) = (g.name.clone(), server.to_string(), db.clone());
                        cx.az(format!(
                            "az sql failover-group update --name {group} --server {server} --resource-group {} --remove-db {db}",
                            super::group_of(cx.ws, &server)
                        ));
                        cx.run(move |ws| {
                            let change = UpdateFailoverGroup {
                                remove: vec![db.clone()],
                                ..Default::default()
                            };
                            said(
                                fg::update_failover_group(ws, &group, &server, &change),
                                |_| {
                                    format!(
                                        "'{db}' removed from '{group}' (its geo-replica stays)."
                                    )
                                },
                            )
                        });
                    }
                }
            });
        }
    }
    section(ui, "Create a failover group");
    text_field(ui, "Failover group name", &mut form.name, "fg-contoso");
    server_picker(ui, "Secondary server", cx.ws, server, &mut form.partner);
    ui.horizontal(|ui| {
        ui.label("Failover policy");
        ui.radio_value(&mut form.policy, FailoverPolicy::Automatic, "Automatic");
        ui.radio_value(&mut form.policy, FailoverPolicy::Manual, "Manual");
    });
    text_field(ui, "Grace period (hours)", &mut form.grace_hours, "1");
    ui.label("Databases:");
    let dbs = crate::ui::widgets::database_names(cx.ws, server);
    crate::ui::widgets::virtual_rows(ui, "failover-group-databases", 200.0, dbs.len(), |ui, i| {
        let d = &dbs[i];
        let mut on = form.selected.contains(d);
        if ui.checkbox(&mut on, d.as_str()).changed() {
            if on {
                form.selected.push(d.clone());
            } else {
                form.selected.retain(|x| x != d);
            }
        }
    });
    if ui
        .add_enabled(!cx.busy, egui::Button::new("Create failover group"))
        .clicked()
    {
        match form.grace_hours.trim().parse::<i64>() {
            Err(_) => {
                form.message = Some(Err(format!(
                    "'{}' is not a number of hours.",
                    form.grace_hours
                )))
            }
            Ok(h) => {
                let req = CreateFailoverGroup {
                    name: form.name.trim().to_string(),
                    server: server.to_string(),
                    partner_server: form.partner.clone(),
                    policy: form.policy,
                    grace_period_hours: Some(h),
                    databases: form.selected.clone(),
                };
                let add_db = if req.databases.is_empty() {
                    String::new()
                } else {
                    format!(" --add-db {}", req.databases.join(" "))
                };
                cx.az(format!(
                    "az sql failover-group create --name {} --server {server} --resource-group {} --partner-server {} --failover-policy {} --grace-period {h}{add_db}",
                    super::quoted(&req.name),
                    super::group_of(cx.ws, server),
                    req.partner_server,
                    req.policy.as_str()
                ));
                cx.run(move |ws| {
                    said(fg::create_failover_group(ws, &req), |g| {
                        format!(
                            "Failover group '{}' created; listener {}.",
                            g.name,
                            g.read_write_listener()
                        )
                    })
                });
            }
        }
    }
    outcome(ui, &form.message);
}

/// Databases opened over time in the group's last failover (from the activity log): the
/// vault's limits show as steps of one 10-second window each.
fn opened_plot(ui: &mut egui::Ui, ws: &Workspace, g: &FailoverGroup) {
    use egui_plot::{Line, Plot, PlotPoints};
    let Some(s) = ws.server(&g.primary_server) else {
        return;
    };
    let prefix = crate::service::ids::server(s);
    let times: Vec<i64> = ws
        .activity_log
        .iter()
        .filter(|e| e.operation == "OpenDatabaseAfterFailover" && e.resource.starts_with(&prefix))
        .map(|e| e.time.0)
        .collect();
    let Some(&last) = times.last() else {
        return;
    };
    // The last failover: the records since the last gap of more than a minute.
    let start = times
        .windows(2)
        .rev()
        .find(|w| w[1] - w[0] > 60)
        .map(|w| w[1])
        .unwrap_or(times[0]);
    let run: Vec<i64> = times.iter().copied().filter(|t| *t >= start).collect();
    let points: Vec<[f64; 2]> = run
        .iter()
        .enumerate()
        .map(|(i, t)| [(t - start) as f64, (i + 1) as f64])
        .collect();
    ui.label(format!(
        "Last failover: {} databases opened on {} in {} s of simulated time.",
        run.len(),
        g.primary_server,
        last - start
    ));
    Plot::new(format!("opened-{}", g.name))
        .height(120.0)
        .x_axis_label("seconds")
        .y_axis_label("databases open")
        .allow_scroll(false)
        .show(ui, |p| {
            p.line(Line::new("opened", PlotPoints::from(points)));
        });
}

/// Makes the geo-secondary `d` on `s` the primary (planned, or forced with data loss).
fn replica_failover(cx: &mut BladeCtx<'_>, s: &str, d: &str, allow_data_loss: bool) {
    cx.az(format!(
        "az sql db replica set-primary --name {d} --server {s} --resource-group {}{}",
        super::group_of(cx.ws, s),
        if allow_data_loss {
            " --allow-data-loss"
        } else {
            ""
        }
    ));
    let (s, d) = (s.to_string(), d.to_string());
    cx.run(move |ws| {
        said(geo::set_primary(ws, &s, &d, allow_data_loss), |r| {
            report(&r)
        })
    });
}
