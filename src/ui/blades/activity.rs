//! The Activity Log, as the portal shows it: every management operation (who changed an
//! access policy, a firewall, a protector) and what the services did about it (databases
//! made Inaccessible, revalidated, failed over), newest first, with filters on time span,
//! status, caller and any text (resource, operation, description).
//!
//! Key operations (create, disable, delete, rotate a key) are data-plane calls: Azure
//! records them in the vault's own logs (AuditEvent), not here; the vault's Logs blade
//! shows them.

use super::BladeCtx;
use crate::model::{ActivityLogEntry, ActivityStatus, Timestamp};
use crate::ui::widgets::{AMBER, GREEN, RED, badge};
use egui_extras::{Column, TableBuilder};

/// The time span the portal offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Span {
    Hour,
    SixHours,
    Day,
    Week,
    All,
}

impl Span {
    const ALL: [Span; 5] = [Span::Hour, Span::SixHours, Span::Day, Span::Week, Span::All];

    fn label(self) -> &'static str {
        match self {
            Span::Hour => "Last hour",
            Span::SixHours => "Last 6 hours",
            Span::Day => "Last 24 hours",
            Span::Week => "Last week",
            Span::All => "All",
        }
    }

    fn since(self, now: Timestamp) -> Timestamp {
        let hours = match self {
            Span::Hour => 1,
            Span::SixHours => 6,
            Span::Day => 24,
            Span::Week => 24 * 7,
            Span::All => return Timestamp(i64::MIN),
        };
        Timestamp(now.0.saturating_sub(hours * 3600))
    }
}

#[derive(Clone, Debug)]
struct Filter {
    span: Span,
    status: Option<ActivityStatus>,
    /// Only what people did (not what the services did by themselves).
    people_only: bool,
    text: String,
}

impl Default for Filter {
    fn default() -> Self {
        Filter {
            span: Span::All,
            status: None,
            people_only: false,
            text: String::new(),
        }
    }
}

impl Filter {
    fn keeps(&self, e: &ActivityLogEntry, since: Timestamp) -> bool {
        let text = self.text.trim().to_ascii_lowercase();
        e.time >= since
            && self.status.is_none_or(|s| s == e.status)
            && (!self.people_only || !e.caller.is_empty())
            && (text.is_empty()
                || [&e.operation, &e.resource, &e.message, &e.caller]
                    .iter()
                    .any(|f| f.to_ascii_lowercase().contains(&text)))
    }
}

/// The short name of an ARM resource id: `server/databases/db` → `server/db`.
fn short_resource(id: &str) -> String {
    let parts: Vec<&str> = id.split('/').filter(|p| !p.is_empty()).collect();
    match parts
        .iter()
        .position(|p| p.eq_ignore_ascii_case("providers"))
    {
        Some(i) => parts[i + 1..]
            .iter()
            .skip(2)
            .step_by(2)
            .copied()
            .collect::<Vec<_>>()
            .join("/"),
        None => parts.last().copied().unwrap_or(id).to_string(),
    }
}

pub fn show(ui: &mut egui::Ui, cx: &mut BladeCtx<'_>) {
    let id = ui.scope_id().with(("activity-filter", cx.blade_id));
    let mut f: Filter = ui.data(|d| d.get_temp(id)).unwrap_or_default();
    ui.horizontal_wrapped(|ui| {
        crate::ui::widgets::combo(ui, "Timespan", f.span.label(), None, |ui| {
            for s in Span::ALL {
                ui.selectable_value(&mut f.span, s, s.label());
            }
        });
        crate::ui::widgets::combo(
            ui,
            "Status",
            f.status.map(|s| s.as_str()).unwrap_or("All"),
            None,
            |ui| {
                ui.selectable_value(&mut f.status, None, "All");
                for s in [
                    ActivityStatus::Succeeded,
                    ActivityStatus::Failed,
                    ActivityStatus::Started,
                ] {
                    ui.selectable_value(&mut f.status, Some(s), s.as_str());
                }
            },
        );
        ui.checkbox(&mut f.people_only, "Changes by people only");
    });
    crate::ui::widgets::narrow_text_field(
        ui,
        "Search",
        &mut f.text,
        "resource, operation, caller or text",
        320.0,
    );
    let now = cx.ws.now();
    let since = f.span.since(now);
    // Each entry with its place in the log (the selection remembers the place and the time,
    // so a rewound log does not show another entry's JSON).
    let entries: Vec<(usize, &ActivityLogEntry)> = cx
        .ws
        .activity_log
        .iter()
        .enumerate()
        .rev()
        .filter(|(_, e)| e.visible(now) && f.keeps(e, since))
        .collect();
    ui.data_mut(|d| d.insert_temp(id, f));
    ui.label(
        egui::RichText::new(format!(
            "{} event(s). Click one for its JSON. Key operations (disable, delete, rotate) are in each vault's Logs; records about failures arrive 15 to 30 minutes late.",
            entries.len()
        ))
        .weak(),
    );
    let selected_id = id.with("selected");
    let mut selected: Option<(usize, Timestamp)> = ui
        .data(|d| d.get_temp::<Option<(usize, Timestamp)>>(selected_id))
        .flatten();
    let chosen = selected.and_then(|(i, t)| {
        cx.ws
            .activity_log
            .get(i)
            .filter(|e| e.time == t && e.visible(now))
    });
    if let Some(e) = chosen
        && crate::ui::widgets::json_window(
            ui,
            selected,
            &format!("{} · {}", e.operation, e.time.to_display()),
            &crate::service::monitor::activity_event_json(e),
        )
    {
        selected = None;
    }
    if entries.is_empty() {
        ui.data_mut(|d| d.insert_temp(selected_id, selected));
        return;
    }
    let n = entries.len();
    // Columns give way on a narrow blade (at 200 % zoom, say): what they held is in the
    // row's JSON and its tooltips, and nothing runs off the right edge.
    let width = ui.available_width();
    let by_whom = width >= 720.0;
    let description = width >= 940.0;
    let mut clicked = None;
    // The blade scrolls; the table virtualises its rows within it (no scroll of its own,
    // so the last row can always be brought into view).
    // Narrower still than its narrowest columns (200 % beside the navigator): the table
    // scrolls sideways on its own.
    crate::ui::widgets::wide(ui, "activity-table-wide", |ui| {
        let mut table = TableBuilder::new(ui)
            .striped(true)
            .vscroll(false)
            .sense(egui::Sense::click())
            .column(Column::auto().at_least(110.0))
            .column(Column::initial(190.0).at_least(90.0).clip(true))
            .column(Column::auto().at_least(70.0));
        // The last column takes what is left (description implies by_whom: it needs more room).
        let last = |at_least: f32| Column::remainder().at_least(at_least).clip(true);
        table = table.column(if by_whom {
            Column::initial(160.0).at_least(80.0).clip(true)
        } else {
            last(80.0)
        });
        if by_whom {
            table = table.column(if description {
                Column::initial(150.0).at_least(80.0).clip(true)
            } else {
                last(80.0)
            });
        }
        if description {
            table = table.column(last(120.0));
        }
        let mut headers = vec!["Time", "Operation", "Status", "Resource"];
        if by_whom {
            headers.push("Event initiated by");
        }
        if description {
            headers.push("Description");
        }
        table
            .header(20.0, |mut h| {
                for t in &headers {
                    h.col(|ui| {
                        ui.strong(*t);
                    });
                }
            })
            .body(|body| {
                body.rows(22.0, n, |mut row| {
                    let (index, e) = entries[row.index()];
                    let open = selected.is_some_and(|(i, _)| i == index);
                    row.set_selected(open);
                    row.col(|ui| {
                        // The time is the row's handle (keyboard and screen readers too), on
                        // one line: the column grows to it.
                        ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Extend);
                        if ui
                            .selectable_label(open, e.time.to_display())
                            .on_hover_text("Show this event's JSON")
                            .clicked()
                        {
                            clicked = Some((index, e.time));
                        }
                    });
                    row.col(|ui| {
                        ui.add(
                            egui::Label::new(&e.operation)
                                .truncate()
                                .selectable(false)
                                .show_tooltip_when_elided(false),
                        )
                        .on_hover_text(&e.operation);
                    });
                    row.col(|ui| {
                        let colour = match (e.status, e.operation.as_str()) {
                            (ActivityStatus::Failed, _) | (_, "MakeDatabaseInaccessible") => RED,
                            (ActivityStatus::Started, _) => AMBER,
                            (ActivityStatus::Succeeded, _) => GREEN,
                        };
                        badge(ui, e.status.as_str(), colour);
                    });
                    row.col(|ui| {
                        ui.add(
                            egui::Label::new(short_resource(&e.resource))
                                .truncate()
                                .selectable(false)
                                .show_tooltip_when_elided(false),
                        )
                        .on_hover_text(&e.resource);
                    });
                    if by_whom {
                        row.col(|ui| {
                            let who = if e.caller.is_empty() {
                                "Azure (service)"
                            } else {
                                e.caller.as_str()
                            };
                            ui.add(
                                egui::Label::new(who)
                                    .truncate()
                                    .selectable(false)
                                    .show_tooltip_when_elided(false),
                            )
                            .on_hover_text(who);
                        });
                    }
                    if description {
                        row.col(|ui| {
                            ui.add(
                                egui::Label::new(&e.message)
                                    .truncate()
                                    .selectable(false)
                                    .show_tooltip_when_elided(false),
                            )
                            .on_hover_text(&e.message);
                        });
                    }
                    if row.response().clicked() {
                        clicked = Some((index, e.time));
                    }
                });
            });
    });
    if let Some(c) = clicked {
        selected = if selected.is_some_and(|(i, _)| i == c.0) {
            None
        } else {
            Some(c)
        };
    }
    ui.data_mut(|d| d.insert_temp(selected_id, selected));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_of_resource_ids() {
        assert_eq!(
            short_resource(
                "/subscriptions/s/resourceGroups/g/providers/Microsoft.Sql/servers/sql-a/databases/sales"
            ),
            "sql-a/sales"
        );
        assert_eq!(
            short_resource(
                "/subscriptions/s/resourceGroups/g/providers/Microsoft.KeyVault/vaults/kv"
            ),
            "kv"
        );
        assert_eq!(short_resource("kv"), "kv");
    }
}
