//! Backups of a database: the earliest restore point, the protector intervals its backups
//! were written under (and whether the server can reach each key now), point-in-time
//! restore, long-term retention backups, and the server's deleted databases.

use super::{BladeCtx, BladeKind, Change, Invocation, Line, outcome};
use crate::model::*;
use crate::service::backup::{self, RestoreRequest, RestoreSource};
use crate::ui::widgets::{
    GREEN, RED, Segment, badge, properties, section, segment_bar, text_field,
};

/// The Backups blade's form.
#[derive(Default)]
pub struct BackupsForm {
    pub restore_point: String,
    pub dest_name: String,
    pub retention_days: String,
    pub message: Option<Result<String, String>>,
}

pub fn show(
    ui: &mut egui::Ui,
    server: &str,
    db: &str,
    form: &mut BackupsForm,
    cx: &mut BladeCtx<'_>,
) {
    let now = cx.ws.now();
    let Some(d) = cx.ws.server(server).and_then(|s| s.database(db)).cloned() else {
        ui.label(format!("Database '{db}' no longer exists."));
        deleted_databases(ui, server, cx);
        return;
    };
    let earliest = backup::earliest_restore_point(&d, now);
    // Empty fields mean the suggestion their hint shows.
    let suggested_point = (now - Duration::minutes(10)).max(earliest).to_iso();
    let suggested_name = format!("{}-restored", d.name);
    if form.retention_days.is_empty() {
        form.retention_days = d.backup_policy.retention_days.to_string();
    }
    let secondary = cx.ws.continuity.primary_of(server, db).is_some();
    properties(
        ui,
        "backup-props",
        &[
            ("Earliest restore point", earliest.to_display()),
            (
                "Point-in-time retention",
                format!(
                    "{} days (differential every {} h)",
                    d.backup_policy.retention_days, d.backup_policy.diff_backup_hours
                ),
            ),
            ("Long-term retention", ltr_text(&d.settings)),
            (
                "Schedule",
                "Full weekly · differential every 12/24 h · log every 10 min".into(),
            ),
        ],
    );

    section(ui, "Protector intervals (what the backups need)");
    ui.label(
        "Each backup is encrypted under the TDE protector of its time. A restore needs every key used between the full backup it starts from and the restore point, linked to the server and reachable.",
    );
    interval_timeline(ui, &d, server, now, cx.ws);
    protector_intervals(ui, &d, server, cx.ws);

    section(ui, "Restore (point in time)");
    if secondary {
        ui.label("This database is a geo-secondary: restore from its primary.");
    } else {
        text_field(
            ui,
            "Restore point (UTC)",
            &mut form.restore_point,
            &suggested_point,
        );
        text_field(
            ui,
            "New database name",
            &mut form.dest_name,
            &suggested_name,
        );
        ui.label(
            egui::RichText::new(format!(
                "Between {} and {}. The restore creates a new database on this server; tags are not restored.",
                earliest.to_display(),
                now.to_display()
            ))
            .weak(),
        );
        if ui
            .add_enabled(!cx.busy, egui::Button::new("Restore"))
            .on_disabled_hover_text(crate::ui::widgets::BUSY_WHY)
            .clicked()
        {
            let point = match form.restore_point.trim() {
                "" => suggested_point.clone(),
                p => p.to_string(),
            };
            let dest = match form.dest_name.trim() {
                "" => suggested_name.clone(),
                n => n.to_string(),
            };
            match Timestamp::parse(&point) {
                None => {
                    form.message = Some(Err(format!(
                        "'{point}' is not a date and time (use e.g. 2026-01-01T10:00:00Z)."
                    )))
                }
                Some(t) => start_restore(
                    cx,
                    RestoreRequest {
                        source_server: server.to_string(),
                        source_database: db.to_string(),
                        source: RestoreSource::PointInTime { time: t },
                        target_server: server.to_string(),
                        dest_name: dest,
                        tier: None,
                    },
                ),
            }
        }
    }
    // "started … (advance the clock to finish)" goes once the restore has finished (walk
    // 35: it stayed on the blade hours after the database was Online).
    if let Some(done) = finished_restore(cx.ws, server, form.message.as_ref()) {
        form.message = Some(Ok(done));
    }
    outcome(ui, &form.message);

    section(ui, "Retention");
    ui.horizontal_wrapped(|ui| {
        let l = ui.label("Retention (days, 1–35)");
        ui.add(egui::TextEdit::singleline(&mut form.retention_days).desired_width(40.0))
            .labelled_by(l.id);
        if ui
            .add_enabled(!cx.busy, egui::Button::new("Apply retention"))
            .on_disabled_hover_text(crate::ui::widgets::BUSY_WHY)
            .clicked()
        {
            match form.retention_days.trim().parse::<u32>() {
                Ok(days) => {
                    let ask = super::Invocation::new("az sql db str-policy set")
                        .arg("--name", db)
                        .arg("--server", server)
                        .arg("--resource-group", super::group_of(cx.ws, server))
                        .arg("--retention-days", days.to_string());
                    cx.request(ask, move |out, _| {
                        format!(
                            "Point-in-time retention is {} days.",
                            out["retentionDays"].as_u64().unwrap_or(u64::from(days))
                        )
                    });
                }
                Err(_) => {
                    form.message = Some(Err(format!(
                        "'{}' is not a number of days.",
                        form.retention_days
                    )))
                }
            }
        }
    });

    section(ui, "Recent backups");
    if d.health == crate::model::ResourceHealth::Unavailable
        && let Some(e) = d.health_history.last()
    {
        ui.label(format!(
            "No backup since {}: the database is unavailable and writes no log ({})",
            e.time.to_display(),
            e.reason
        ));
    }
    crate::ui::widgets::wide(ui, "recent-backups-wide", |ui| {
        egui::Grid::new("recent-backups")
            .num_columns(3)
            .striped(true)
            .show(ui, |ui| {
                for b in backup::recent_backups_on(cx.ws, server, &d, now, 8) {
                    ui.label(b.time.to_display());
                    ui.label(b.kind.as_str());
                    ui.label(
                        b.protector
                            .as_ref()
                            .map(|p| {
                                p.uri
                                    .as_deref()
                                    .map(short_key)
                                    .unwrap_or_else(|| "Service-managed".into())
                            })
                            .unwrap_or_else(|| "TDE off".into()),
                    );
                    ui.end_row();
                }
            });
    });

    let ltr = backup::ltr_backups(&d, now);
    if !ltr.is_empty() {
        section(ui, "Long-term retention backups");
        for t in ltr.iter().take(12) {
            ui.horizontal_wrapped(|ui| {
                ui.label(format!("Weekly full {}", t.to_display()));
                if ui
                    .add_enabled(
                        !cx.busy,
                        egui::Button::new(format!("Restore LTR {}", t.to_iso())),
                    )
                    .on_disabled_hover_text(crate::ui::widgets::BUSY_WHY)
                    .clicked()
                {
                    let dest = format!(
                        "{}-ltr-{}",
                        d.name,
                        t.to_iso().get(..10).unwrap_or("backup")
                    );
                    start_restore(
                        cx,
                        RestoreRequest {
                            source_server: server.to_string(),
                            source_database: db.to_string(),
                            source: RestoreSource::LongTerm {
                                time: *t,
                                deleted_at: None,
                            },
                            target_server: server.to_string(),
                            dest_name: dest,
                            tier: None,
                        },
                    );
                }
            });
        }
    }
    deleted_databases(ui, server, cx);
}

/// The protector intervals as a table: from, to, the key, whether the server can use it.
/// When the blade is narrower than the four columns (200 % on 1280x720: the last column was
/// off-screen behind a sideways scroll), each interval stacks instead: its dates on one
/// line, its key and badge on the next, every part in view.
fn protector_intervals(ui: &mut egui::Ui, d: &Database, server: &str, ws: &Workspace) {
    struct Interval {
        from: String,
        to: String,
        key: String,
        hover: String,
        problem: Option<(&'static str, String)>,
    }
    let rows: Vec<Interval> = d
        .protector_history
        .iter()
        .enumerate()
        .map(|(i, iv)| Interval {
            from: iv.from.to_display(),
            to: d
                .protector_history
                .get(i + 1)
                .map(|n| n.from.to_display())
                .unwrap_or_else(|| "now".into()),
            key: match &iv.protector {
                None => "TDE off".to_string(),
                Some(p) => match &p.uri {
                    Some(u) => short_key(u),
                    None => "Service-managed key".into(),
                },
            },
            hover: iv
                .protector
                .as_ref()
                .map(|p| format!("{}\nthumbprint {}", p.label(), p.thumbprint))
                .unwrap_or_default(),
            problem: backup::interval_problem(ws, server, iv),
        })
        .collect();
    let can_use = |ui: &mut egui::Ui, iv: &Interval| match &iv.problem {
        None => badge(ui, "Reachable", GREEN),
        Some((word, why)) => badge(ui, word, RED)
            .on_hover_text(format!("A restore that needs this key fails: {why}.")),
    };
    const HEADINGS: [&str; 4] = ["From", "To", "Key", "Server can use it"];
    const SPACING: f32 = 10.0;
    // The width of each column: its widest cell or heading (a badge's word and margins).
    let width = |ui: &egui::Ui, t: &str, strong: bool| {
        let text = if strong {
            egui::RichText::new(t).strong()
        } else {
            egui::RichText::new(t)
        };
        crate::ui::widgets::one_line_width(ui, text, egui::TextStyle::Body)
    };
    let column = |i: usize, cell: &dyn Fn(&Interval) -> f32| {
        rows.iter()
            .map(cell)
            .fold(width(ui, HEADINGS[i], true), f32::max)
    };
    let need = column(0, &|iv| width(ui, &iv.from, false))
        + column(1, &|iv| width(ui, &iv.to, false))
        + column(2, &|iv| width(ui, &iv.key, false))
        + column(3, &|iv| {
            width(ui, iv.problem.as_ref().map_or("Reachable", |p| p.0), true) + 16.0
        })
        + 3.0 * SPACING
        + 8.0;
    if ui.available_width() >= need {
        egui::Grid::new("protector-intervals")
            .num_columns(4)
            .striped(true)
            .spacing([SPACING, 4.0])
            .show(ui, |ui| {
                for h in HEADINGS {
                    ui.strong(h);
                }
                ui.end_row();
                for iv in &rows {
                    ui.label(&iv.from);
                    ui.label(&iv.to);
                    ui.label(&iv.key).on_hover_text(&iv.hover);
                    can_use(ui, iv);
                    ui.end_row();
                }
            });
        return;
    }
    ui.label(
        egui::RichText::new("Each interval: its dates, its key and whether the server can use it")
            .weak(),
    );
    for (i, iv) in rows.iter().enumerate() {
        let fill = if i % 2 == 1 {
            ui.visuals().faint_bg_color
        } else {
            egui::Color32::TRANSPARENT
        };
        egui::Frame::new()
            .fill(fill)
            .inner_margin(egui::Margin::symmetric(4, 3))
            .show(ui, |ui| {
                ui.set_width(ui.available_width());
                // A date breaks between the two, never inside one.
                ui.horizontal_wrapped(|ui| {
                    ui.add(egui::Label::new(&iv.from).extend());
                    ui.add(egui::Label::new(format!("to {}", iv.to)).extend());
                });
                ui.horizontal_wrapped(|ui| {
                    ui.add(egui::Label::new(&iv.key).wrap())
                        .on_hover_text(&iv.hover);
                    can_use(ui, iv);
                });
            });
    }
}

/// The protector intervals as a bar over time: one segment per interval, green when the
/// server can use its key now, red when not, grey for TDE off; the earliest restore point
/// marked.
fn interval_timeline(
    ui: &mut egui::Ui,
    d: &Database,
    server: &str,
    now: Timestamp,
    ws: &Workspace,
) {
    let Some(first) = d.protector_history.first() else {
        return;
    };
    let start = first.from.min(backup::earliest_restore_point(d, now));
    let segments: Vec<Segment> = d
        .protector_history
        .iter()
        .enumerate()
        .map(|(i, iv)| Segment {
            from: iv.from,
            to: d
                .protector_history
                .get(i + 1)
                .map(|n| n.from)
                .unwrap_or(now),
            colour: match &iv.protector {
                None => egui::Color32::GRAY,
                Some(_) if backup::interval_reachable(ws, server, iv) => GREEN,
                Some(_) => RED,
            },
            label: match &iv.protector {
                None => "TDE off".to_string(),
                Some(p) => p
                    .uri
                    .as_deref()
                    .and_then(KeyUri::parse)
                    .map(|u| {
                        format!(
                            "{} {}",
                            u.key,
                            u.version.as_deref().and_then(|v| v.get(..6)).unwrap_or("")
                        )
                    })
                    .unwrap_or_else(|| "service-managed".into()),
            },
        })
        .collect();
    let (bar, x) = segment_bar(ui, start, now, &segments);
    let (rect, _) = ui.allocate_exact_size(egui::vec2(bar.width(), 14.0), egui::Sense::hover());
    let painter = ui.painter_at(rect.union(bar));
    let earliest = x(backup::earliest_restore_point(d, now));
    painter.line_segment(
        [
            egui::pos2(earliest, bar.top()),
            egui::pos2(earliest, rect.bottom()),
        ],
        egui::Stroke::new(2.0, ui.visuals().strong_text_color()),
    );
    painter.text(
        egui::pos2(earliest + 3.0, rect.bottom()),
        egui::Align2::LEFT_BOTTOM,
        "earliest restore point",
        egui::FontId::proportional(10.0),
        ui.visuals().text_color(),
    );
    painter.text(
        egui::pos2(rect.right(), rect.bottom()),
        egui::Align2::RIGHT_BOTTOM,
        "now",
        egui::FontId::proportional(10.0),
        ui.visuals().text_color(),
    );
}

/// The long-term retention policy in words.
fn ltr_text(s: &DatabaseSettings) -> String {
    let parts: Vec<String> = [
        s.ltr_weekly_retention
            .as_ref()
            .map(|w| format!("weekly fulls kept {w}")),
        s.ltr_monthly_retention
            .as_ref()
            .map(|m| format!("monthly {m}")),
        s.ltr_yearly_retention
            .as_ref()
            .map(|y| format!("yearly {y} (week {})", s.ltr_week_of_year.unwrap_or(1))),
    ]
    .into_iter()
    .flatten()
    .collect();
    if parts.is_empty() {
        "not configured".into()
    } else {
        parts.join(" · ")
    }
}

/// `https://kv.vault.azure.net/keys/k/0123abcd...` -> `kv / k / 0123abcd`.
fn short_key(uri: &str) -> String {
    match KeyUri::parse(uri) {
        Some(u) => format!(
            "{} / {} / {}",
            u.vault,
            u.key,
            u.version
                .as_deref()
                .map(|v| v.get(..8).unwrap_or(v))
                .unwrap_or("latest")
        ),
        None => uri.to_string(),
    }
}

/// Starts a restore (`--no-wait`: the portal does not wait either); when it is accepted the
/// new database's blade opens.
fn start_restore(cx: &mut BladeCtx<'_>, req: RestoreRequest) {
    let open = BladeKind::Database {
        server: req.target_server.clone(),
        db: req.dest_name.clone(),
        message: None,
    };
    let ask = restore_request(cx.ws, &req);
    let (server, name) = (req.target_server, req.dest_name);
    // A refused restore is told as a failure too (a red toast and a notification with the
    // service's code), not only inline, as a refused TDE Save is.
    let refused = format!("Restore of '{}' refused", req.source_database);
    let tell_refusal = move |ws: &mut Workspace, out: &super::Outcome| {
        if let Err(e) = out {
            crate::service::notify_error(ws, &refused, e);
        }
    };
    let wording = move |_: &serde_json::Value, ws: &Workspace| match ws
        .server(&server)
        .and_then(|s| s.database(&name))
        .map(|d| &d.state)
    {
        Some(DatabaseState::Restoring { until, .. }) => format!(
            "Restore of '{name}' started: it is Online at {until} (advance the clock to finish)."
        ),
        _ => format!("'{name}' restored."),
    };
    cx.change_to(
        Line::Main,
        Change::request(ask, wording).reported(tell_refusal),
        Some(Box::new(open)),
    );
}

/// What a restore's "started" message on `server` says once its database is no longer
/// Restoring (None while it is, or for another message).
fn finished_restore(
    ws: &Workspace,
    server: &str,
    message: Option<&super::Outcome>,
) -> Option<String> {
    let text = message?.as_ref().ok()?;
    let rest = text.strip_prefix("Restore of '")?;
    let (name, _) = rest.split_once("' started:")?;
    let d = ws.server(server)?.database(name);
    match d.map(|d| &d.state) {
        Some(DatabaseState::Restoring { .. }) => None,
        Some(_) => Some(format!("'{name}' restored: the restore has finished.")),
        None => Some(format!("Restore of '{name}': the database is gone.")),
    }
}

/// A restore as the request az makes (`--no-wait`).
fn restore_request(ws: &Workspace, req: &RestoreRequest) -> Invocation {
    let (server, db) = (req.source_server.clone(), req.source_database.clone());
    let on_source = |command: &'static str| {
        Invocation::new(command)
            .arg("--dest-name", req.dest_name.clone())
            .arg("--name", db.clone())
            .arg("--server", server.clone())
            .arg("--resource-group", super::group_of(ws, &server))
    };
    match &req.source {
        RestoreSource::PointInTime { time } => on_source("az sql db restore")
            .arg("--time", time.to_iso())
            .flag("--no-wait"),
        RestoreSource::Deleted { deleted_at, time } => on_source("az sql db restore")
            .arg("--deleted-time", deleted_at.to_iso())
            .arg_opt("--time", time.map(|t| t.to_iso()))
            .flag("--no-wait"),
        // The backup's id as `az sql db ltr-backup list` gives it (a backup gone since the
        // blade listed it: the command answers that it was not found).
        RestoreSource::LongTerm { time, deleted_at } => {
            let id = crate::shell::continuity::ltr_backup_id(ws, &server, &db, *time, *deleted_at)
                .unwrap_or_else(|| format!("{db}-{}", time.to_iso()));
            Invocation::new("az sql db ltr-backup restore")
                .arg("--backup-id", id)
                .arg("--dest-database", req.dest_name.clone())
                .arg("--dest-server", req.target_server.clone())
                .arg(
                    "--dest-resource-group",
                    super::group_of(ws, &req.target_server),
                )
                .flag("--no-wait")
        }
        RestoreSource::Geo => Invocation::new("az sql db geo-backup restore")
            .arg(
                "--geo-backup-id",
                format!(
                    "{}/recoverableDatabases/{db}",
                    ws.server(&server)
                        .map(crate::service::ids::server)
                        .unwrap_or_default()
                ),
            )
            .arg("--dest-database", req.dest_name.clone())
            .arg("--dest-server", req.target_server.clone())
            .arg("--resource-group", super::group_of(ws, &req.target_server)),
    }
}

fn deleted_databases(ui: &mut egui::Ui, server: &str, cx: &mut BladeCtx<'_>) {
    let deleted = crate::service::backup::list_deleted(cx.ws, server).unwrap_or_default();
    if deleted.is_empty() {
        return;
    }
    section(ui, "Deleted databases (this server)");
    for x in deleted {
        ui.horizontal_wrapped(|ui| {
            ui.label(format!("{} · deleted {}", x.database.name, x.deleted_at));
            let label = format!("Restore deleted {}", x.database.name);
            if ui
                .add_enabled(!cx.busy, egui::Button::new(label))
                .on_disabled_hover_text(crate::ui::widgets::BUSY_WHY)
                .clicked()
            {
                let mut dest = x.database.name.clone();
                if cx
                    .ws
                    .server(server)
                    .and_then(|s| s.database(&dest))
                    .is_some()
                {
                    dest = format!("{dest}-restored");
                }
                start_restore(
                    cx,
                    RestoreRequest {
                        source_server: server.to_string(),
                        source_database: x.database.name.clone(),
                        source: RestoreSource::Deleted {
                            deleted_at: x.deleted_at,
                            time: None,
                        },
                        target_server: server.to_string(),
                        dest_name: dest,
                        tier: None,
                    },
                );
            }
        });
    }
}
