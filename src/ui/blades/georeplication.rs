//! Geo-replication of a database (its links, "Create replica", failover) and the failover
//! groups of a server (create, add/remove databases, policy, grace period, listeners,
//! failover).

use super::{BladeCtx, BladeKind, Invocation, Line, outcome, said};
use crate::model::*;
use crate::service::failover_group as fg;
use crate::service::georeplication as geo;
use crate::ui::db_table::DbTable;
use crate::ui::widgets::{self, AMBER, BLUE, GREEN, RED, badge, section, text_field};

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
    ui.horizontal_wrapped(|ui| {
        ui.label("Role:");
        badge(ui, role, if role == "Primary" { GREEN } else { BLUE });
    });
    section(ui, "Replicas");
    if links.is_empty() {
        ui.label("No geo-replication link.");
    }
    // One row a database of the links (primary and secondary); a click opens the link's
    // JSON as `az sql db replica list-links` shows it. The actions sit under the table, so a
    // narrow blade (200 % zoom) wraps them instead of running off the right edge.
    let shown_id = ui.scope_id().with(("geo-link-json", server, db));
    let mut shown: ShownRow = ui.data(|d| d.get_temp::<ShownRow>(shown_id)).flatten();
    if !links.is_empty() {
        links_table(ui, cx.ws, &links, &mut shown);
    }
    if let Some(l) = shown
        .as_ref()
        .and_then(|(id, _)| links.iter().find(|l| l.id == *id))
        && crate::ui::widgets::json_details(
            ui,
            "geo-link-json",
            &format!("Replication link {}", l.id),
            &crate::service::georeplication::link_json(cx.ws, server, db, l),
        )
    {
        shown = None;
    }
    ui.data_mut(|d| d.insert_temp(shown_id, shown));
    for l in &links {
        let (s, d) = (&l.secondary_server, &l.secondary_database);
        let group = cx
            .ws
            .continuity
            .group_of(s, d)
            .map(|g| (g.name.clone(), g.primary_server.clone()));
        ui.horizontal_wrapped(|ui| {
            // A link inside a failover group fails over with its group: its own failover
            // buttons are greyed, and the group is a click away (walk 35: the greyed
            // button's reason read as if it were the group's own operation).
            if let Some((g, primary)) = &group {
                ui.label(format!("In failover group {g}:"));
                if ui
                    .button(format!("Open failover group {g}"))
                    .on_hover_text("Fail over the whole group there")
                    .clicked()
                {
                    cx.open(BladeKind::FailoverGroups {
                        server: primary.clone(),
                        form: Default::default(),
                    });
                }
            }
            for forced in [false, true] {
                // Why the service would refuse it now (in a group, a primary out of reach).
                let refusal = geo::failover_refusal(cx.ws, s, d, forced);
                let (label, hover) = if forced {
                    (
                        format!("Forced failover to {s}"),
                        "With data loss: writes not yet replicated are lost.",
                    )
                } else {
                    (
                        format!("Failover to {s}"),
                        "Planned: the secondary catches up first; no data is lost.",
                    )
                };
                if ui
                    .add_enabled(!cx.busy && refusal.is_none(), egui::Button::new(label))
                    .on_hover_text(hover)
                    .on_disabled_hover_text(match (&group, refusal.as_ref()) {
                        (Some((g, _)), Some(_)) if !cx.busy => format!(
                            "{} Use Open failover group {g} and fail the group over instead.",
                            disabled_why(false, refusal.as_ref())
                        ),
                        _ => disabled_why(cx.busy, refusal.as_ref()),
                    })
                    .clicked()
                {
                    replica_failover(cx, s, d, forced);
                }
            }
        });
    }
    section(ui, "Create replica");
    server_picker(ui, "Target server", cx.ws, server, &mut form.partner);
    if ui
        .add_enabled(
            !cx.busy && !form.partner.is_empty(),
            egui::Button::new("Create replica"),
        )
        .on_disabled_hover_text(crate::ui::widgets::why(&[
            (cx.busy, crate::ui::widgets::BUSY_WHY),
            (form.partner.is_empty(), "Pick the target server first."),
        ]))
        .clicked()
    {
        let ask = Invocation::new("az sql db replica create")
            .arg("--name", db)
            .arg("--server", server)
            .arg("--resource-group", super::group_of(cx.ws, server))
            .arg("--partner-server", form.partner.clone())
            .arg(
                "--partner-resource-group",
                super::group_of(cx.ws, &form.partner),
            );
        let (db, partner) = (db.to_string(), form.partner.clone());
        cx.request(ask, move |_, _| {
            format!(
                "Geo-secondary '{db}' created on '{partner}' (same DEK, wrapped by that server's protector)."
            )
        });
    }
    outcome(ui, &form.message);
}

/// What a greyed failover button says: the job that runs, or the service's refusal (its
/// own message and code).
fn disabled_why(busy: bool, refusal: Option<&crate::service::ServiceError>) -> String {
    match refusal {
        _ if busy => crate::ui::widgets::BUSY_WHY.to_string(),
        Some(e) => format!("{} ({})", e.message, e.code),
        None => String::new(),
    }
}

/// A geo-replication row opened to its link's JSON: (the link's id, the row's role). Only
/// that row is selected, not the link's other row.
type ShownRow = Option<(String, String)>;

/// The links as a table that fits the blade (200 % zoom included): one row a database of
/// each link, the server/database column taking what is left and truncating (its full text
/// in the row's one tooltip); a click on a row opens or closes the link's JSON. A blade too
/// narrow for the four columns (200 % beside the vaults' panel: the state was cut to "SU"
/// and the lag hidden) stacks each row: role and server/database, then state and lag.
fn links_table(ui: &mut egui::Ui, ws: &Workspace, links: &[ReplicationLink], shown: &mut ShownRow) {
    let rows: Vec<(&ReplicationLink, &str, &String, &String)> = links
        .iter()
        .flat_map(|l| {
            [
                (l, "Primary", &l.primary_server, &l.primary_database),
                (l, "Secondary", &l.secondary_server, &l.secondary_database),
            ]
        })
        .collect();
    let is_shown = |l: &ReplicationLink, role: &str| {
        shown
            .as_ref()
            .is_some_and(|(id, r)| *id == l.id && r == role)
    };
    let mut clicked: Option<(String, String)> = None;
    // What the four columns need: their least widths (the state's as wide as its word).
    let body = egui::TextStyle::Body;
    let gap = ui.spacing().item_spacing.x;
    let state_width = rows
        .iter()
        .map(|(l, ..)| {
            crate::ui::widgets::one_line_width(ui, geo::link_state(ws, l).as_str(), body.clone())
        })
        .fold(STATE_MIN, f32::max);
    let need = ROLE_MIN + SERVER_MIN + state_width + LAG_MAX + 4.0 * gap;
    if ui.available_width() >= need {
        use egui_extras::{Column, TableBuilder};
        TableBuilder::new(ui)
            .id_salt("geo-links")
            .striped(true)
            .vscroll(false)
            .sense(egui::Sense::click())
            .column(Column::auto().at_least(ROLE_MIN))
            .column(Column::remainder().at_least(SERVER_MIN).clip(true))
            .column(Column::auto().at_least(state_width))
            // Room for "12 write(s) in flight": a clipped auto column sized by "caught up" never
            // grows, and cut the badge to "1 write(s) …".
            .column(Column::auto().at_least(160.0).at_most(LAG_MAX).clip(true))
            .header(20.0, |mut h| {
                for t in ["Role", "Server/database (region)", "State", "Lag"] {
                    h.col(|ui| {
                        ui.strong(t);
                    });
                }
            })
            .body(|body| {
                body.rows(24.0, rows.len(), |mut row| {
                    let (l, role, s, d) = rows[row.index()];
                    let open = is_shown(l, role);
                    row.set_selected(open);
                    // The cells' text does not take the click: a click anywhere on the row
                    // opens the link's JSON.
                    row.col(|ui| {
                        ui.add(egui::Label::new(role).selectable(false));
                    });
                    row.col(|ui| {
                        if server_button(ui, ws, s, d, open) {
                            clicked = Some((l.id.clone(), role.to_string()));
                        }
                    });
                    let state = geo::link_state(ws, l);
                    row.col(|ui| {
                        if role == "Secondary" {
                            ui.add(egui::Label::new(state.as_str()).selectable(false));
                        }
                    });
                    row.col(|ui| {
                        if role == "Secondary" {
                            lag(ui, ws, state, s, d);
                        }
                    });
                    if row.response().clicked() {
                        clicked = Some((l.id.clone(), role.to_string()));
                    }
                });
            });
    } else {
        for (i, (l, role, s, d)) in rows.iter().enumerate() {
            let open = is_shown(l, role);
            let fill = if open {
                ui.visuals().selection.bg_fill
            } else if i % 2 == 1 {
                ui.visuals().faint_bg_color
            } else {
                egui::Color32::TRANSPARENT
            };
            // The row senses the click before its cells: a click on its text or beside it
            // opens the link's JSON, as the table's rows do.
            let row = ui
                .scope_builder(
                    egui::UiBuilder::new()
                        .id_salt(("geo-link-row", i))
                        .sense(egui::Sense::click()),
                    |ui| {
                        egui::Frame::new()
                            .fill(fill)
                            .inner_margin(egui::Margin::symmetric(4, 3))
                            .show(ui, |ui| {
                                ui.set_width(ui.available_width());
                                ui.horizontal(|ui| {
                                    ui.add(egui::Label::new(*role).selectable(false));
                                    if server_button(ui, ws, s, d, open) {
                                        clicked = Some((l.id.clone(), role.to_string()));
                                    }
                                });
                                if *role == "Secondary" {
                                    let state = geo::link_state(ws, l);
                                    ui.horizontal_wrapped(|ui| {
                                        ui.add(egui::Label::new(state.as_str()).selectable(false));
                                        lag(ui, ws, state, s, d);
                                    });
                                }
                            });
                    },
                )
                .response;
            if row.clicked() {
                clicked = Some((l.id.clone(), role.to_string()));
            }
        }
    }
    if let Some(row) = clicked {
        *shown = if shown.as_ref() == Some(&row) {
            None
        } else {
            Some(row)
        };
    }
}

/// The least widths of the geo-replication table's columns (role, server/database, state)
/// and the widest its lag column gets.
const ROLE_MIN: f32 = 70.0;
const SERVER_MIN: f32 = 120.0;
const STATE_MIN: f32 = 60.0;
const LAG_MAX: f32 = 190.0;

/// A row's server/database (region), shortened to the room it has (whole on hover); true
/// when clicked.
fn server_button(ui: &mut egui::Ui, ws: &Workspace, s: &str, d: &str, open: bool) -> bool {
    let region = ws.server(s).map(|x| x.location.as_str()).unwrap_or("");
    let text = format!("{s}/{d} ({region})");
    ui.add(egui::Button::selectable(open, text.as_str()).truncate())
        .on_hover_text(format!("{text}: show the link's JSON"))
        .clicked()
}

/// How far the secondary `s`/`d` lags: not replicating, writes in flight, or caught up.
fn lag(ui: &mut egui::Ui, ws: &Workspace, state: LinkState, s: &str, d: &str) {
    let pending = in_flight(ws, s, d);
    if state == LinkState::Suspended {
        badge(ui, "not replicating", RED)
            .on_hover_text("A region is down or a database is Inaccessible: nothing replicates.");
    } else if pending > 0 {
        badge(ui, &format!("{pending} write(s) in flight"), AMBER);
    } else {
        ui.add(egui::Label::new("caught up").selectable(false));
    }
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
    /// The databases of a new group: the server's databases as a table.
    pub create_table: DbTable,
    /// Each group's table of the primary's databases (by group name).
    pub tables: std::collections::BTreeMap<String, DbTable>,
    pub message: Option<Result<String, String>>,
    /// What "Remove selected" / "Add selected" did, shown under those buttons.
    pub members_message: Option<Result<String, String>>,
}

impl Default for GroupForm {
    fn default() -> Self {
        GroupForm {
            name: String::new(),
            partner: String::new(),
            policy: FailoverPolicy::Automatic,
            grace_hours: "1".into(),
            create_table: DbTable::default(),
            tables: Default::default(),
            message: None,
            members_message: None,
        }
    }
}

/// The height a table of databases gets: most of what the blade shows, never so much that
/// the buttons under it leave the screen, never too little to pick from.
fn table_height(ui: &egui::Ui) -> f32 {
    (ui.ctx().content_rect().height() * 0.45).clamp(110.0, 420.0)
}

/// The `az` line of a failover group update adding or removing `names` (one command: the
/// argument takes a list).
fn update_request(
    ws: &Workspace,
    group: &str,
    server: &str,
    flag: &str,
    names: &[String],
) -> Invocation {
    Invocation::new("az sql failover-group update")
        .arg("--name", group)
        .arg("--server", server)
        .arg("--resource-group", super::group_of(ws, server))
        .args(flag, names.iter().cloned())
}

/// How many databases failover group `group` holds (after a change).
fn members_after(ws: &Workspace, group: &str) -> usize {
    ws.continuity
        .failover_groups
        .iter()
        .find(|g| g.name.eq_ignore_ascii_case(group))
        .map_or(0, |g| g.databases.len())
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
    // "'g' failed over: B is the primary" holds only while B is (a fail-back from the other
    // server's blade or the Cloud Shell, or a rewind, makes it untrue).
    let primaries: Vec<(&str, &str)> = groups
        .iter()
        .map(|g| (g.name.as_str(), g.primary_server.as_str()))
        .collect();
    super::forget_when_changed(ui, "failover-groups", &mut form.message, &primaries);
    if groups.is_empty() {
        outcome(ui, &form.message);
        ui.label("No failover group on this server.");
    }
    for (i, g) in groups.iter().enumerate() {
        let primary_here = g.primary_server.eq_ignore_ascii_case(server);
        section(ui, &format!("Failover group {}", g.name));
        // The actions first: a group of thousands of databases never pushes them away;
        // what the last one did follows them.
        failover_buttons(ui, server, g, cx);
        if i == 0 {
            outcome(ui, &form.message);
        }
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
                ("Databases", group_size(cx.ws, g)),
            ],
        );
        if let Some(run) = &g.last_failover {
            failover_timeline(ui, cx.ws.now(), &g.name, run);
        }
        group_databases(ui, server, primary_here, g, form, cx);
    }
    // A server with a group shows the Create form folded under a heading of its own: open,
    // its table of the same databases came right under the group's, and a wheel past the
    // end of one scrolled on into the other (it looked like a lost selection).
    ui.add_space(12.0);
    ui.separator();
    egui::CollapsingHeader::new(egui::RichText::new("Create a failover group").heading())
        .id_salt(("create-failover-group", server))
        .default_open(groups.is_empty())
        .show(ui, |ui| create_group(ui, server, form, cx));
}

/// "1,102 (1,102 General Purpose, 0 Business Critical)".
fn group_size(ws: &Workspace, g: &FailoverGroup) -> String {
    let (gp, bc) = ws
        .server(&g.primary_server)
        .map(|s| {
            g.databases
                .iter()
                .filter_map(|d| s.database(d))
                .fold((0u64, 0u64), |(gp, bc), d| match d.tier {
                    ServiceTier::GeneralPurpose => (gp + 1, bc),
                    ServiceTier::BusinessCritical => (gp, bc + 1),
                })
        })
        .unwrap_or_default();
    format!(
        "{} ({} General Purpose, {} Business Critical)",
        thousands(g.databases.len() as u64),
        thousands(gp),
        thousands(bc)
    )
}

fn failover_buttons(ui: &mut egui::Ui, server: &str, g: &FailoverGroup, cx: &mut BladeCtx<'_>) {
    let primary_here = g.primary_server.eq_ignore_ascii_case(server);
    ui.horizontal_wrapped(|ui| {
        let target = g.secondary_server.clone();
        for forced in [false, true] {
            // Why the service would refuse it now (a database of the primary not Online, a
            // missing link): the button is greyed and says so.
            let refusal = fg::failover_refusal(cx.ws, &g.name, &target, forced);
            let (label, hover) = if forced {
                (
                    format!("Forced failover {}", g.name),
                    format!("Forced failover to {target}: may lose the last writes."),
                )
            } else {
                (
                    format!("Failover {}", g.name),
                    format!(
                        "Planned failover to {target}: no data loss. The clock advances until the last database has opened."
                    ),
                )
            };
            if ui
                .add_enabled(!cx.busy && refusal.is_none(), egui::Button::new(label))
                .on_hover_text(hover)
                .on_disabled_hover_text(disabled_why(cx.busy, refusal.as_ref()))
                .clicked()
            {
                let (name, target) = (g.name.clone(), target.clone());
                cx.az(format!(
                    "az sql failover-group set-primary --name {name} --server {target} --resource-group {}{}",
                    super::group_of(cx.ws, &target),
                    if forced { " --allow-data-loss" } else { "" }
                ));
                let keys = cx.keys.clone();
                cx.spawn(
                    if forced {
                        format!("Forcing failover of {name}…")
                    } else {
                        format!("Failing over {name}…")
                    },
                    move |ws| {
                        crate::service::behaviour::fail_over(ws, &name, &target, forced, true, keys.as_ref())
                            .map(|r| {
                                format!(
                                    "'{}' failed over: {} is the primary; {}.{}",
                                    r.group,
                                    r.new_primary,
                                    r.run.summary(),
                                    if forced {
                                        format!(" {} write(s) lost.", r.lost_writes)
                                    } else {
                                        String::new()
                                    }
                                )
                            })
                            .map_err(|e| e.to_string())
                    },
                );
            }
        }
        if primary_here
            && ui
                .add_enabled(!cx.busy, egui::Button::new(format!("Delete {}", g.name)))
                .on_disabled_hover_text(crate::ui::widgets::BUSY_WHY)
                .clicked()
        {
            let ask = Invocation::new("az sql failover-group delete")
                .arg("--name", g.name.clone())
                .arg("--server", server)
                .arg("--resource-group", super::group_of(cx.ws, server));
            let group = g.name.clone();
            cx.request(ask, move |_, _| {
                format!("Failover group '{group}' deleted; the geo-replication links stay.")
            });
        }
    });
}

/// The group's databases (the primary's databases, with whether each is in the group), with
/// the bulk actions on the selected rows: each one operation with one `az` line.
fn group_databases(
    ui: &mut egui::Ui,
    server: &str,
    primary_here: bool,
    g: &FailoverGroup,
    form: &mut GroupForm,
    cx: &mut BladeCtx<'_>,
) {
    let Some(primary) = cx.ws.server(&g.primary_server) else {
        return;
    };
    let table = form.tables.entry(g.name.to_ascii_lowercase()).or_default();
    // A failover, a fail-back or a change of the members (here or from the Cloud Shell)
    // leaves no selection behind.
    table.select_on((
        &g.primary_server,
        &g.databases,
        g.last_failover.as_ref().map(|r| r.completed()),
    ));
    let group_name = g.name.clone();
    let is_member = |d: &Database| {
        d.settings
            .failover_group
            .as_deref()
            .is_some_and(|x| x.eq_ignore_ascii_case(&group_name))
            || g.contains(&d.name)
    };
    let (members, others): (Vec<String>, Vec<String>) = {
        let chosen: Vec<&Database> = primary
            .databases
            .iter()
            .map(|d| &**d)
            .filter(|d| table.selected.contains(&d.name))
            .collect();
        let (a, b): (Vec<&Database>, Vec<&Database>) =
            chosen.into_iter().partition(|d| g.contains(&d.name));
        (
            a.into_iter().map(|d| d.name.clone()).collect(),
            b.into_iter().map(|d| d.name.clone()).collect(),
        )
    };
    ui.horizontal_wrapped(|ui| {
        let why = if primary_here {
            String::new()
        } else {
            format!(
                "Databases are added and removed on the group's primary server, {}.",
                g.primary_server
            )
        };
        // As wide as the largest count makes them: a count growing or shrinking never
        // moves what follows (at 200 % the row wrapped differently and the table jumped).
        let most = thousands(primary.databases.len() as u64);
        let remove = ui
            .add_enabled(
                primary_here && !cx.busy && !members.is_empty(),
                widgets::steady(
                    ui,
                    egui::Button::new(format!(
                        "Remove selected from group ({})",
                        thousands(members.len() as u64)
                    )),
                    &format!("Remove selected from group ({most})"),
                ),
            )
            .on_hover_text("One update of the group: the databases keep their geo-secondaries.")
            .on_disabled_hover_text(if why.is_empty() {
                "Select databases of the group in the table below.".to_string()
            } else {
                why.clone()
            });
        if remove.clicked() {
            let (group, server) = (g.name.clone(), server.to_string());
            let n = members.len();
            let ask = update_request(cx.ws, &group, &server, "--remove-db", &members);
            cx.request_to(Line::Members, ask, move |_, ws| {
                format!(
                    "{} database(s) removed from '{group}' (their geo-replicas stay); {} remain.",
                    thousands(n as u64),
                    thousands(members_after(ws, &group) as u64)
                )
            });
            table.selected.clear();
        }
        let add = ui
            .add_enabled(
                primary_here && !cx.busy && !others.is_empty(),
                widgets::steady(
                    ui,
                    egui::Button::new(format!(
                        "Add selected to group ({})",
                        thousands(others.len() as u64)
                    )),
                    &format!("Add selected to group ({most})"),
                ),
            )
            .on_hover_text(
                "One update of the group: a database without a geo-secondary on the partner server gets one.",
            )
            .on_disabled_hover_text(if why.is_empty() {
                "Select databases that are not in the group in the table below.".to_string()
            } else {
                why
            });
        if add.clicked() {
            let (group, server) = (g.name.clone(), server.to_string());
            let n = others.len();
            let ask = update_request(cx.ws, &group, &server, "--add-db", &others);
            cx.request_to(Line::Members, ask, move |_, ws| {
                format!(
                    "{} database(s) added to '{group}'; it holds {}.",
                    thousands(n as u64),
                    thousands(members_after(ws, &group) as u64)
                )
            });
            table.selected.clear();
        }
    });
    outcome(ui, &form.members_message);
    let column = crate::ui::db_table::GroupColumn {
        heading: format!("In {}", g.name),
        is_member: &is_member,
    };
    let height = table_height(ui);
    crate::ui::db_table::show(
        ui,
        &format!("fg-{}", g.name),
        table,
        &primary.databases,
        Some(&column),
        height,
    );
}

fn create_group(ui: &mut egui::Ui, server: &str, form: &mut GroupForm, cx: &mut BladeCtx<'_>) {
    text_field(ui, "Failover group name", &mut form.name, "fg-contoso");
    server_picker(ui, "Secondary server", cx.ws, server, &mut form.partner);
    ui.horizontal_wrapped(|ui| {
        ui.label("Failover policy");
        ui.radio_value(&mut form.policy, FailoverPolicy::Automatic, "Automatic");
        ui.radio_value(&mut form.policy, FailoverPolicy::Manual, "Manual");
    });
    text_field(ui, "Grace period (hours)", &mut form.grace_hours, "1");
    let selected: Vec<String> = cx
        .ws
        .server(server)
        .map(|s| {
            s.databases
                .iter()
                .filter(|d| form.create_table.selected.contains(&d.name))
                .map(|d| d.name.clone())
                .collect()
        })
        .unwrap_or_default();
    if ui
        .add_enabled(
            !cx.busy,
            egui::Button::new(format!(
                "Create failover group ({} database(s))",
                thousands(selected.len() as u64)
            )),
        )
        .on_disabled_hover_text(crate::ui::widgets::BUSY_WHY)
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
                let name = form.name.trim().to_string();
                let mut ask = Invocation::new("az sql failover-group create")
                    .arg("--name", name.clone())
                    .arg("--server", server)
                    .arg("--resource-group", super::group_of(cx.ws, server))
                    .arg("--partner-server", form.partner.clone())
                    .arg("--failover-policy", form.policy.as_str())
                    .arg("--grace-period", h.to_string());
                if !selected.is_empty() {
                    ask = ask.args("--add-db", selected);
                }
                cx.request(ask, move |_, ws| {
                    let listener = ws
                        .continuity
                        .failover_groups
                        .iter()
                        .find(|g| g.name.eq_ignore_ascii_case(&name))
                        .map(|g| g.read_write_listener())
                        .unwrap_or_default();
                    format!("Failover group '{name}' created; listener {listener}.")
                });
            }
        }
    }
    ui.label("Databases (select those to replicate with the group):");
    if let Some(s) = cx.ws.server(server) {
        let column = crate::ui::db_table::GroupColumn {
            heading: "In a failover group".into(),
            is_member: &|d: &Database| d.settings.failover_group.is_some(),
        };
        let height = table_height(ui);
        crate::ui::db_table::show(
            ui,
            "create-failover-group",
            &mut form.create_table,
            &s.databases,
            Some(&column),
            height,
        );
    }
}

/// The group's last failover, from the timeline the service recorded: how many databases
/// had opened on the new primary over simulated time (a step each time the vault let more
/// unwraps through), and the same figures in words.
fn failover_timeline(ui: &mut egui::Ui, now: Timestamp, group: &str, run: &FailoverRun) {
    use egui_plot::{Line, Plot, PlotPoints, VLine};
    let total = run.databases();
    let complete = run.complete_at(now);
    if complete {
        ui.label(format!(
            "Last failover ({}): {}.",
            if run.forced { "forced" } else { "planned" },
            run.summary()
        ));
    } else {
        let open = run.opened_by(now);
        badge(
            ui,
            &format!(
                "Failing over: {} of {} database(s) open on {} at {}; the last opens at {}.",
                thousands(u64::from(open)),
                thousands(u64::from(total)),
                run.to_server,
                clock_of(now),
                clock_of(run.completed())
            ),
            AMBER,
        );
    }
    let elapsed = (now.0 - run.started.0).max(0) as f64;
    let mut points: Vec<[f64; 2]> = run
        .steps()
        .into_iter()
        .filter(|(x, _)| complete || *x <= elapsed)
        .map(|(x, y)| [x, y])
        .collect();
    let span = run.took().0.max(10) as f64;
    if complete {
        // The plateau after the last step: a failover done in 0 s (500 databases on
        // fail-back) was one vertical stroke with no level to read.
        points.push([span, f64::from(total)]);
    } else {
        points.push([elapsed, f64::from(run.opened_by(now))]);
    }
    let started = run.started;
    let height = (ui.ctx().content_rect().height() * 0.28).clamp(90.0, 200.0);
    // The y axis is named in a caption above the plot: egui_plot writes its label turned
    // on its side, centred on the axis, and in a plot shorter than the label it ran up
    // over the text above.
    ui.label(egui::RichText::new("Databases open over simulated time").strong());
    // Readable on the theme's background (the status green was dark on high contrast's black).
    let line_colour = crate::ui::widgets::ink(ui, GREEN);
    Plot::new(format!("opened-{group}"))
        .height(height)
        .x_axis_label(format!("simulated time (UTC), from {}", clock_of(started)))
        .x_axis_formatter(move |mark, _| clock_of(started + Duration::seconds(mark.value as i64)))
        .label_formatter({
            // The line's value where the pointer is, not the pointer's height (a trainer
            // read "998 open" at 09:00:11 while the line was at 0 until 09:00:15).
            let points = points.clone();
            move |pos| {
                let p = match pos {
                    egui_plot::HoverPosition::NearDataPoint { position, .. }
                    | egui_plot::HoverPosition::Elsewhere { position } => position,
                };
                opened_label(started, &points, p.x)
            }
        })
        // The y marks are 0, half and all of the group's databases: the default log-10
        // marks showed only "0" in a short plot at 200 %, and topped out at 1000 of 1,102.
        .y_grid_spacer(move |_| {
            let all = f64::from(total.max(1));
            [0.0, all / 2.0, all]
                .into_iter()
                .map(|value| egui_plot::GridMark {
                    value,
                    step_size: all / 2.0,
                })
                .collect()
        })
        .y_axis_formatter(|mark, _| thousands(mark.value.round().max(0.0) as u64))
        .include_x(0.0)
        .include_x(span * 1.05)
        .include_y(0.0)
        .include_y(f64::from(total) * 1.12)
        .allow_scroll(false)
        .allow_drag(false)
        .allow_zoom(false)
        .show(ui, |p| {
            let last = points.last().copied();
            p.line(
                // A step chart: egui_plot's band aggregation would join each step's
                // bottom to the next step's top and fill between them (the "parallelogram"
                // a trainer saw), so the steps are drawn as the line they are.
                Line::new("databases open", PlotPoints::from(points))
                    .color(line_colour)
                    .width(2.0)
                    .allow_band(false),
            );
            // The count the line has reached, written at its end.
            if let Some([x, y]) = last {
                p.text(
                    egui_plot::Text::new(
                        "count",
                        egui_plot::PlotPoint::new(x, y),
                        egui::RichText::new(format!(
                            "{} open",
                            thousands(y.round().max(0.0) as u64)
                        ))
                        .strong(),
                    )
                    .color(line_colour)
                    .anchor(egui::Align2::RIGHT_BOTTOM),
                );
            }
            if !complete {
                p.vline(VLine::new("now", elapsed).color(BLUE));
            }
        });
}

/// How many databases the step line `points` (x ascending, a step as two points at the
/// same x) shows open `x` seconds into the failover: at a step, the count after it. `None`
/// off the line (before it starts, after its last point).
fn opened_at(points: &[[f64; 2]], x: f64) -> Option<f64> {
    let (first, last) = (points.first()?, points.last()?);
    if !x.is_finite() || x < first[0] || x > last[0] {
        return None;
    }
    points.iter().rev().find(|p| p[0] <= x).map(|p| p[1])
}

/// The failover plot's hover label `x` seconds after `started`: the time and the line's
/// count then ("09:00:11: 0 open"); none off the line.
fn opened_label(started: Timestamp, points: &[[f64; 2]], x: f64) -> Option<String> {
    let open = opened_at(points, x)?;
    Some(format!(
        "{}: {} open",
        clock_of(started + Duration::seconds(x.floor() as i64)),
        thousands(open.round().max(0.0) as u64)
    ))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Found in the failover storm at 150 %: hovering the plot at 09:00:11 said "998 open"
    /// (the pointer's height) while the line was at 0 until 09:00:15.
    #[test]
    fn the_failover_plot_hover_names_the_lines_count_at_that_time() {
        let started = Timestamp(1_767_430_800); // 2026-01-03 09:00:00 UTC
        // Nothing open until 15 s, then 900, then all 1,102 at 22 s.
        let points = [
            [0.0, 0.0],
            [15.0, 0.0],
            [15.0, 900.0],
            [22.0, 900.0],
            [22.0, 1102.0],
        ];
        let at = |x: f64| opened_label(started, &points, x);
        assert_eq!(at(11.0).as_deref(), Some("09:00:11: 0 open"));
        assert_eq!(at(11.6).as_deref(), Some("09:00:11: 0 open"));
        assert_eq!(at(15.0).as_deref(), Some("09:00:15: 900 open"));
        assert_eq!(at(20.0).as_deref(), Some("09:00:20: 900 open"));
        assert_eq!(at(22.0).as_deref(), Some("09:00:22: 1,102 open"));
        // Off the line: no label.
        assert_eq!(at(-1.0), None);
        assert_eq!(at(23.0), None);
        assert_eq!(at(f64::NAN), None);
        assert_eq!(opened_label(started, &[], 1.0), None);
    }
}
