//! A vault's governance and insight blades: Locks and Diagnostic settings, the Logs blade
//! (the audit log in a virtualised table with filters, sort, the record's JSON and export)
//! and the Metrics blade (API hits, 429s and latency over simulated time).

use super::{BladeCtx, Invocation, outcome};
use crate::model::*;
use crate::service::{diagnostics, locks};
use crate::ui::widgets::{narrow_text_field, section};
use egui_extras::{Column, TableBuilder};

/// The Locks and Diagnostic settings blade's form.
pub struct GovernanceForm {
    pub lock_name: String,
    pub lock_level: LockLevel,
    pub lock_notes: String,
    pub setting_name: String,
    pub destination: String,
    pub assignee: String,
    pub role: VaultRole,
    pub message: Option<Result<String, String>>,
}

impl Default for GovernanceForm {
    fn default() -> Self {
        GovernanceForm {
            lock_name: "do-not-delete".into(),
            lock_level: LockLevel::CanNotDelete,
            lock_notes: String::new(),
            setting_name: "audit-to-law".into(),
            destination: "law-security".into(),
            assignee: String::new(),
            role: VaultRole::CryptoServiceEncryptionUser,
            message: None,
        }
    }
}

pub fn governance(ui: &mut egui::Ui, name: &str, f: &mut GovernanceForm, cx: &mut BladeCtx<'_>) {
    let Some(v) = cx.ws.vault(name).filter(|v| v.deleted.is_none()).cloned() else {
        ui.label(format!("Key vault '{name}' no longer exists."));
        return;
    };
    let vault_id = crate::service::ids::vault(&v);
    outcome(ui, &f.message);
    section(ui, "Locks");
    ui.label("Locks apply to management operations (delete the vault, change its access policies and networking). Keys inside a locked vault can still be created, used and deleted.");
    let covering: Vec<ResourceLock> = locks::locks_covering(cx.ws, &vault_id)
        .into_iter()
        .cloned()
        .collect();
    if covering.is_empty() {
        ui.label(egui::RichText::new("No locks.").weak());
    }
    for l in &covering {
        ui.horizontal_wrapped(|ui| {
            let on_group = !l.scope.eq_ignore_ascii_case(&vault_id);
            ui.label(format!(
                "{} · {}{}{}",
                l.name,
                l.level.as_str(),
                if on_group {
                    " · inherited from the resource group"
                } else {
                    ""
                },
                if l.notes.is_empty() {
                    String::new()
                } else {
                    format!(" · {}", l.notes)
                }
            ));
            if ui
                .add_enabled(
                    !cx.busy,
                    egui::Button::new(format!("Delete lock {}", l.name)),
                )
                .on_disabled_hover_text(crate::ui::widgets::BUSY_WHY)
                .clicked()
            {
                let (lock, scope) = (l.name.clone(), l.scope.clone());
                // A lock on the vault itself, or one it inherits from its resource group.
                let ask = Invocation::new("az lock delete").arg("--name", lock.clone());
                let ask = if on_group {
                    ask.arg("--resource-group", v.resource_group.clone())
                } else {
                    ask.arg("--resource", scope)
                };
                cx.request(ask, move |_, _| format!("Lock '{lock}' deleted."));
            }
        });
    }
    ui.horizontal_wrapped(|ui| {
        narrow_text_field(ui, "Lock name", &mut f.lock_name, "do-not-delete", 160.0);
        crate::ui::widgets::combo(ui, "Lock type", f.lock_level.as_str(), None, |ui| {
            ui.selectable_value(
                &mut f.lock_level,
                LockLevel::CanNotDelete,
                "Delete (CanNotDelete)",
            );
            ui.selectable_value(
                &mut f.lock_level,
                LockLevel::ReadOnly,
                "Read-only (ReadOnly)",
            );
        });
    });
    narrow_text_field(
        ui,
        "Notes",
        &mut f.lock_notes,
        "why the lock is there",
        320.0,
    );
    if ui
        .add_enabled(!cx.busy, egui::Button::new("Add lock"))
        .on_disabled_hover_text(crate::ui::widgets::BUSY_WHY)
        .clicked()
    {
        let (lock, level, scope, notes) = (
            f.lock_name.clone(),
            f.lock_level,
            vault_id.clone(),
            f.lock_notes.clone(),
        );
        let ask = Invocation::new("az lock create")
            .arg("--name", lock.clone())
            .arg("--lock-type", level.as_str())
            .arg("--resource", scope)
            .arg_opt("--notes", (!notes.is_empty()).then_some(notes));
        cx.request(ask, move |_, _| {
            format!("Lock '{lock}' ({}) added.", level.as_str())
        });
    }

    access_control(ui, &v, f, cx);

    section(ui, "Diagnostic settings");
    if v.diagnostic_settings.is_empty() {
        ui.label(egui::RichText::new("No diagnostic settings: requests are not audited.").weak());
    }
    for d in &v.diagnostic_settings {
        ui.horizontal_wrapped(|ui| {
            ui.label(format!(
                "{} · AuditEvent {} · to {}",
                d.name,
                if d.audit_event { "on" } else { "off" },
                d.destination
            ));
            if ui
                .add_enabled(
                    !cx.busy,
                    egui::Button::new(format!("Delete setting {}", d.name)),
                )
                .on_disabled_hover_text(crate::ui::widgets::BUSY_WHY)
                .clicked()
            {
                let setting = d.name.clone();
                let ask = Invocation::new("az monitor diagnostic-settings delete")
                    .arg("--name", setting.clone())
                    .arg("--resource", vault_id.clone());
                cx.request(ask, move |_, _| {
                    format!("Diagnostic setting '{setting}' deleted.")
                });
            }
        });
    }
    ui.horizontal_wrapped(|ui| {
        narrow_text_field(
            ui,
            "Setting name",
            &mut f.setting_name,
            "audit-to-law",
            160.0,
        );
        narrow_text_field(
            ui,
            "Log Analytics workspace",
            &mut f.destination,
            "law-security",
            160.0,
        );
    });
    if ui
        .add_enabled(!cx.busy, egui::Button::new("Send AuditEvent logs"))
        .on_disabled_hover_text(crate::ui::widgets::BUSY_WHY)
        .clicked()
    {
        let setting = DiagnosticSetting {
            name: f.setting_name.trim().to_string(),
            audit_event: true,
            destination: f.destination.trim().to_string(),
        };
        let ask = Invocation::new("az monitor diagnostic-settings create")
            .arg("--name", setting.name.clone())
            .arg("--resource", vault_id.clone())
            .arg("--logs", r#"[{"category":"AuditEvent","enabled":true}]"#)
            .arg_opt(
                "--workspace",
                (!setting.destination.is_empty()).then(|| setting.destination.clone()),
            );
        let vault = name.to_string();
        cx.request(ask, move |_, ws| {
            let destination = ws
                .vault(&vault)
                .and_then(|v| {
                    v.diagnostic_settings
                        .iter()
                        .find(|d| d.name == setting.name)
                })
                .map(|d| d.destination.clone())
                .unwrap_or(setting.destination);
            format!(
                "Diagnostic setting '{}' sends AuditEvent to {destination}.",
                setting.name
            )
        });
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResultFilter {
    All,
    Success,
    Failure,
}

/// The filters and view state of the Logs blade.
pub struct LogsView {
    pub operation: String,
    pub result: ResultFilter,
    pub caller: String,
    pub from: String,
    pub to: String,
    pub newest_first: bool,
    pub selected: Option<u64>,
    pub export_path: String,
    pub message: Option<Result<String, String>>,
    cache: Option<LogsCache>,
}

impl Default for LogsView {
    fn default() -> Self {
        LogsView {
            operation: String::new(),
            result: ResultFilter::All,
            caller: String::new(),
            from: String::new(),
            to: String::new(),
            newest_first: true,
            selected: None,
            export_path: String::new(),
            message: None,
            cache: None,
        }
    }
}

/// The journal positions of the filtered records, rebuilt only when the journal changes
/// (grows, or is rewound with the workspace) or a filter changes; a frame reads just its
/// visible rows from the journal, so 100,000 records are never copied.
struct LogsCache {
    /// The records the rows index (shared with the workspace's journal, not copied): the
    /// cache holds while the workspace's records are still these ones (`ptr_eq`).
    journal: imbl::Vector<VaultRequest>,
    key: String,
    rows: Vec<usize>,
    operations: Vec<String>,
}

impl LogsView {
    /// How many records the current filters show (after [`LogsView::refresh`]).
    pub fn shown(&self) -> usize {
        self.cache.as_ref().map_or(0, |c| c.rows.len())
    }

    fn filter_key(&self) -> String {
        format!(
            "{}|{:?}|{}|{}|{}",
            self.operation, self.result, self.caller, self.from, self.to
        )
    }

    /// Rebuilds the filtered view if the journal changed or a filter changed.
    pub fn refresh(&mut self, ws: &Workspace, vault: &str) -> Result<(), String> {
        let journal = ws.journal.requests();
        let key = self.filter_key();
        if self
            .cache
            .as_ref()
            .is_some_and(|c| c.journal.ptr_eq(&journal) && c.key == key)
        {
            return Ok(());
        }
        let bound = |text: &str, what: &str| -> Result<Option<Timestamp>, String> {
            let t = text.trim();
            if t.is_empty() {
                return Ok(None);
            }
            Timestamp::parse(t).map(Some).ok_or_else(|| {
                format!("{what}: '{t}' is not a date (2026-01-01 or 2026-01-01T09:30:00Z).")
            })
        };
        let from = bound(&self.from, "From")?;
        let to = bound(&self.to, "To")?;
        let caller = self.caller.trim().to_ascii_lowercase();
        let mut operations: Vec<String> = Vec::new();
        let mut rows = Vec::new();
        for (i, r) in journal.iter().enumerate() {
            if !r.audited || !r.vault.eq_ignore_ascii_case(vault) {
                continue;
            }
            if !operations.contains(&r.operation) {
                operations.push(r.operation.clone());
            }
            let keep = (self.operation.is_empty() || r.operation == self.operation)
                && match self.result {
                    ResultFilter::All => true,
                    ResultFilter::Success => r.succeeded(),
                    ResultFilter::Failure => !r.succeeded(),
                }
                && (caller.is_empty()
                    || r.caller.display.to_ascii_lowercase().contains(&caller)
                    || r.caller.object_id.to_ascii_lowercase().contains(&caller)
                    || r.caller.ip_address.contains(&caller))
                && from.is_none_or(|f| r.time >= f)
                && to.is_none_or(|t| r.time <= t);
            if keep {
                rows.push(i);
            }
        }
        operations.sort();
        self.cache = Some(LogsCache {
            journal,
            key,
            rows,
            operations,
        });
        Ok(())
    }
}

pub fn logs(ui: &mut egui::Ui, vault: &str, view: &mut LogsView, cx: &mut BladeCtx<'_>) {
    let Some(v) = cx.ws.vault(vault).cloned() else {
        ui.label(format!("Key vault '{vault}' no longer exists."));
        return;
    };
    if !v.audit_enabled() {
        ui.label("No diagnostic setting sends AuditEvent: requests made now are not audited. Add one under Access control (IAM), locks, diagnostic settings.");
    }
    let filter_error = view.refresh(cx.ws, vault).err();
    let operations = view
        .cache
        .as_ref()
        .map(|c| c.operations.clone())
        .unwrap_or_default();
    // The filters wrap onto more lines when the blade is narrow (200 % zoom), so every
    // control stays in view.
    ui.horizontal_wrapped(|ui| {
        crate::ui::widgets::combo(
            ui,
            "Operation name",
            egui::WidgetText::from(if view.operation.is_empty() {
                "All operations"
            } else {
                view.operation.as_str()
            }),
            Some(220.0),
            |ui| {
                ui.selectable_value(&mut view.operation, String::new(), "All operations");
                for op in &operations {
                    ui.selectable_value(&mut view.operation, op.clone(), op);
                }
            },
        );
        ui.add_space(12.0);
        let results = [
            (ResultFilter::All, "All results"),
            (ResultFilter::Success, "Success only"),
            (ResultFilter::Failure, "Failure only"),
        ];
        let shown = results
            .iter()
            .find(|(r, _)| *r == view.result)
            .map_or("All results", |(_, label)| *label);
        crate::ui::widgets::combo(ui, "Result type", shown, Some(130.0), |ui| {
            for (r, label) in results {
                ui.selectable_value(&mut view.result, r, label);
            }
        });
    });
    ui.horizontal_wrapped(|ui| {
        narrow_text_field(
            ui,
            "Caller",
            &mut view.caller,
            "upn, server, oid or IP",
            180.0,
        );
        narrow_text_field(ui, "From", &mut view.from, "2026-01-01T09:00:00Z", 170.0);
        narrow_text_field(ui, "To", &mut view.to, "2026-01-02", 170.0);
    });
    if let Some(e) = filter_error {
        crate::ui::widgets::error_box(ui, &e);
        return;
    }
    let Some(cache) = view.cache.take() else {
        return;
    };
    let n = cache.rows.len();
    ui.horizontal_wrapped(|ui| {
        ui.label(if n == 1 {
            "1 record".to_string()
        } else {
            format!("{n} records")
        });
        let sort = if view.newest_first {
            "Sorted newest first"
        } else {
            "Sorted oldest first"
        };
        if ui
            .button(sort)
            .on_hover_text("Click to reverse the order")
            .clicked()
        {
            view.newest_first = !view.newest_first;
        }
    });
    export_controls(ui, vault, view, &cache.rows, cx);
    let newest_first = view.newest_first;
    // The records the rows index (the cache's own snapshot of them).
    let journal = &cache.journal;
    let row_at = |i: usize| {
        let at = if newest_first { n - 1 - i } else { i };
        &journal[cache.rows[at]]
    };
    let mut clicked = None;
    let detail_height = if view.selected.is_some() { 220.0 } else { 0.0 };
    let table_height = (ui.available_height() - detail_height - 70.0).max(160.0);
    // The columns keep their widths; a narrow blade (200 % zoom) scrolls them sideways (the
    // table alone: the text around it keeps wrapping at the blade's width).
    ui.push_id("audit-table", |ui| {
        crate::ui::widgets::wide(ui, "audit-table-wide", |ui| {
            TableBuilder::new(ui)
                .striped(true)
                .sense(egui::Sense::click())
                .max_scroll_height(table_height)
                .column(Column::exact(60.0))
                .column(Column::exact(150.0))
                .column(Column::exact(190.0))
                .column(Column::exact(165.0))
                .column(Column::exact(180.0))
                .column(Column::exact(40.0))
                .column(Column::remainder().clip(true))
                .header(20.0, |mut h| {
                    for t in ["#", "Time", "Operation", "Result", "Caller", "ms", "Object"] {
                        h.col(|ui| {
                            ui.strong(t);
                        });
                    }
                })
                .body(|body| {
                    body.rows(20.0, n, |mut row| {
                        let r = row_at(row.index());
                        let selected = view.selected == Some(r.seq);
                        // Before the first cell: the whole row is highlighted, its time too.
                        row.set_selected(selected);
                        row.col(|ui| {
                            if ui
                                .selectable_label(selected, format!("#{}", r.seq))
                                .on_hover_text("Show this record's JSON")
                                .clicked()
                            {
                                clicked = Some(r.seq);
                            }
                        });
                        // The cells' text does not take the click (a selectable label
                        // would): a click anywhere on the row opens its record.
                        let cell = |ui: &mut egui::Ui, text: egui::WidgetText| {
                            ui.add(egui::Label::new(text).selectable(false));
                        };
                        row.col(|ui| cell(ui, r.time.to_display().into()));
                        row.col(|ui| cell(ui, r.operation.as_str().into()));
                        row.col(|ui| {
                            let text = format!("{} {}", r.status, r.result_signature());
                            // Red on the selection's blue is unreadable: the selected
                            // row keeps the selection's text colour.
                            if r.succeeded() || selected {
                                cell(ui, text.into());
                            } else {
                                cell(
                                    ui,
                                    egui::RichText::new(text)
                                        .color(crate::ui::widgets::RED)
                                        .into(),
                                );
                            }
                        });
                        row.col(|ui| cell(ui, r.caller.display.as_str().into()));
                        row.col(|ui| cell(ui, r.duration_ms.to_string().into()));
                        row.col(|ui| cell(ui, r.object_id.as_str().into()));
                        if row.response().clicked() {
                            clicked = Some(r.seq);
                        }
                    });
                });
        });
    });
    if let Some(seq) = clicked {
        view.selected = if view.selected == Some(seq) {
            None
        } else {
            Some(seq)
        };
    }
    if let Some(r) = view.selected.and_then(|seq| journal.get(seq as usize)) {
        section(ui, "Record");
        let text = serde_json::to_string_pretty(&r.to_json()).unwrap_or_default();
        egui::ScrollArea::vertical()
            .id_salt("audit-record")
            .max_height(200.0)
            .show(ui, |ui| {
                ui.add(egui::Label::new(egui::RichText::new(text).monospace()).selectable(true));
            });
    }
    view.cache = Some(cache);
}

fn export_controls(
    ui: &mut egui::Ui,
    vault: &str,
    view: &mut LogsView,
    rows: &[usize],
    cx: &mut BladeCtx<'_>,
) {
    ui.horizontal_wrapped(|ui| {
        narrow_text_field(
            ui,
            "Export to file",
            &mut view.export_path,
            "/tmp/audit.csv",
            260.0,
        );
        for (label, csv) in [("Export JSON Lines", false), ("Export CSV", true)] {
            if ui
                .add_enabled(
                    !cx.busy && !view.export_path.trim().is_empty(),
                    egui::Button::new(label),
                )
                .on_disabled_hover_text(crate::ui::widgets::why(&[
                    (cx.busy, crate::ui::widgets::BUSY_WHY),
                    (
                        view.export_path.trim().is_empty(),
                        "Type the path of the file first.",
                    ),
                ]))
                .clicked()
            {
                let path = view.export_path.trim().to_string();
                let count = rows.len();
                let records: Vec<VaultRequest> = {
                    let journal = cx.ws.journal.lock();
                    rows.iter()
                        .filter_map(|i| journal.requests.get(*i).cloned())
                        .collect()
                };
                cx.spawn(
                    format!("Exporting the audit log of '{vault}'…"),
                    move |_| {
                        let text = if csv {
                            diagnostics::to_csv(&records)
                        } else {
                            diagnostics::to_json_lines(&records)
                        };
                        crate::persist::write_new_file(std::path::Path::new(&path), text.as_bytes())
                            .map(|()| format!("{count} records written to {path}."))
                    },
                );
            }
        }
    });
    outcome(ui, &view.message);
}

/// The span a metrics chart shows, ending now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum MetricSpan {
    Hour,
    SixHours,
    Day,
    Week,
    All,
}

impl MetricSpan {
    const ALL: [MetricSpan; 5] = [
        MetricSpan::Hour,
        MetricSpan::SixHours,
        MetricSpan::Day,
        MetricSpan::Week,
        MetricSpan::All,
    ];

    fn label(self) -> &'static str {
        match self {
            MetricSpan::Hour => "Last hour",
            MetricSpan::SixHours => "Last 6 hours",
            MetricSpan::Day => "Last 24 hours",
            MetricSpan::Week => "Last 7 days",
            MetricSpan::All => "Since the first request",
        }
    }

    fn seconds(self) -> Option<i64> {
        match self {
            MetricSpan::Hour => Some(3600),
            MetricSpan::SixHours => Some(6 * 3600),
            MetricSpan::Day => Some(86_400),
            MetricSpan::Week => Some(7 * 86_400),
            MetricSpan::All => None,
        }
    }
}

/// The hits chart's height over its tallest bar: the top third is the legend's.
const LEGEND_HEADROOM: f64 = 1.6;

/// Azure Monitor's vault metrics: API hits split by outcome (served, refused, throttled)
/// and mean latency, on a wall-clock axis over a chosen span ending now (the last hour by
/// default, so a burst a minute ago is not a hairline on a day-long axis).
pub fn metrics(ui: &mut egui::Ui, vault: &str, cx: &mut BladeCtx<'_>) {
    use crate::ui::widgets::{AMBER, BLUE, GREEN, RED};
    use egui_plot::{Bar, BarChart, Legend, Plot, PlotPoints, Points};
    let span_id = ui.scope_id().with(("vault-metrics-span", vault));
    let mut span: MetricSpan = ui.data(|d| d.get_temp(span_id)).unwrap_or(MetricSpan::Hour);
    crate::ui::widgets::combo(ui, "Time range", span.label(), None, |ui| {
        for s in MetricSpan::ALL {
            ui.selectable_value(&mut span, s, s.label());
        }
    });
    ui.data_mut(|d| d.insert_temp(span_id, span));
    let now = cx.ws.now();
    let from = span.seconds().map(|s| Timestamp(now.0 - s));
    // Recomputed only when the journal changes (grows, or is rewound with the workspace) or
    // the clock or span moves, not every frame.
    let id = ui.scope_id().with(("vault-metrics", vault));
    let journal = cx.ws.journal.requests();
    let key = (now.0, span.seconds());
    type Cached = (
        imbl::Vector<VaultRequest>,
        (i64, Option<i64>),
        crate::service::requests::Metrics,
    );
    let m = match ui.data(|d| d.get_temp::<Cached>(id)) {
        Some((j, k, m)) if k == key && j.ptr_eq(&journal) => m,
        _ => {
            let m = crate::service::requests::metrics(cx.ws, vault, from, now);
            ui.data_mut(|d| d.insert_temp(id, (journal, key, m.clone())));
            m
        }
    };
    let Some(first) = m.first else {
        ui.label("No requests yet. Every call to the vault counts here, audited or not (try `sim keyvault burst` in the Cloud Shell).");
        return;
    };
    let sum = |f: fn(&crate::service::requests::MetricPoint) -> u32| -> u32 {
        m.points.iter().map(f).sum()
    };
    let bucket = match m.bucket_seconds {
        10 => "10 seconds (the throttling window)".to_string(),
        60 => "minute".to_string(),
        _ => "hour".to_string(),
    };
    ui.label(format!(
        "{} API hits from {} to {}: {} served, {} refused (401/403/404), {} throttled (429). One bar a simulated {bucket}. First request ever: {}.",
        sum(|p| p.hits),
        m.from.to_display(),
        m.to.to_display(),
        sum(|p| p.ok),
        sum(|p| p.refused),
        sum(|p| p.throttled),
        first.to_display()
    ));
    // x: seconds since `from`, labelled with the wall-clock time.
    let origin = m.from;
    let clock = move |x: f64| {
        let t = Timestamp(origin.0 + x as i64);
        let iso = t.to_iso();
        iso.get(11..16).unwrap_or(&iso).to_string()
    };
    let width = m.bucket_seconds as f64 * 0.9;
    // Each bucket's bars stand on each other from zero (served, then refused, then
    // throttled), so a bucket with only refused requests starts at zero.
    let [served, refused, throttled] = stacked(&m.points).map(|bars| {
        bars.into_iter()
            .map(|b| {
                Bar::new((b.at.0 - origin.0) as f64 + width / 2.0, b.value)
                    .base_offset(b.base)
                    .width(width)
            })
            .collect::<Vec<Bar>>()
    });
    let x_max = (m.to.0 - origin.0) as f64;
    // On a dark canvas (dark theme, high contrast) the status colours are lifted: the
    // "Served" green was dim on black.
    let canvas = ui.visuals().extreme_bg_color;
    let bright = |c| crate::ui::blades::topology::readable_on(c, canvas);
    ui.label(egui::RichText::new("Service API hits by outcome").strong());
    ui.label(
        egui::RichText::new(
            "The wheel scrolls the blade; Ctrl+wheel zooms a chart, a drag pans it, a double-click resets it.",
        )
        .weak(),
    );
    // Headroom over the tallest bar for the legend (top right, where the newest bars are:
    // it hid the storm's 429s).
    let tallest = m.points.iter().map(|p| p.hits).max().unwrap_or(0);
    Plot::new(ui.scope_id().with("vault-hits"))
        .height(200.0)
        .legend(Legend::default())
        .include_x(0.0)
        .include_x(x_max)
        .include_y(0.0)
        .include_y(f64::from(tallest) * LEGEND_HEADROOM)
        .allow_scroll(false)
        .x_axis_formatter(move |mark, _| clock(mark.value))
        .show(ui, |plot| {
            // Solid bars (egui_plot fills them at a fifth of their colour: on black the
            // served bars were a dim green).
            let chart = |name: &str, bars: Vec<Bar>, colour: egui::Color32| {
                let bars = bars
                    .into_iter()
                    .map(|b| b.fill(colour).stroke(egui::Stroke::new(1.0, colour)))
                    .collect();
                BarChart::new(name.to_string(), bars).color(colour)
            };
            plot.bar_chart(chart("Served (2xx)", served, bright(GREEN)));
            plot.bar_chart(chart("Refused (401/403/404)", refused, bright(AMBER)));
            plot.bar_chart(chart("Throttled (429)", throttled, bright(RED)));
        });
    ui.label(egui::RichText::new("Mean latency (ms), buckets with requests only").strong());
    let latency: Vec<[f64; 2]> = m
        .points
        .iter()
        .filter_map(|p| {
            p.mean_latency_ms
                .map(|l| [(p.at.0 - origin.0) as f64 + width / 2.0, l])
        })
        .collect();
    Plot::new(ui.scope_id().with("vault-latency"))
        .height(140.0)
        .include_x(0.0)
        .include_x(x_max)
        .include_y(0.0)
        .allow_scroll(false)
        .x_axis_formatter(move |mark, _| clock(mark.value))
        .show(ui, |plot| {
            // Points, not a line: a line would join sparse buckets into peaks that never were.
            plot.points(
                Points::new("Latency", PlotPoints::new(latency))
                    .radius(3.0)
                    .color(bright(BLUE)),
            );
        });
}

/// One bar of the hits chart: its bucket, where it starts and how tall it is.
#[derive(Clone, Copy, Debug, PartialEq)]
struct StackedBar {
    at: Timestamp,
    base: f64,
    value: f64,
}

/// The served, refused and throttled bars of each bucket that has some, stacked within
/// their own bucket (egui_plot's `stack_on` pairs bars by index, not by bucket, which
/// floated a refused bar on another minute's served one).
fn stacked(points: &[crate::service::requests::MetricPoint]) -> [Vec<StackedBar>; 3] {
    let mut out: [Vec<StackedBar>; 3] = Default::default();
    for p in points {
        let mut base = 0.0;
        for (bars, n) in out.iter_mut().zip([p.ok, p.refused, p.throttled]) {
            if n > 0 {
                let value = f64::from(n);
                bars.push(StackedBar {
                    at: p.at,
                    base,
                    value,
                });
                base += value;
            }
        }
    }
    out
}

/// Access control (IAM): the permission model and, under Azure RBAC, role assignments.
fn access_control(ui: &mut egui::Ui, v: &KeyVault, f: &mut GovernanceForm, cx: &mut BladeCtx<'_>) {
    section(ui, "Access control (IAM)");
    if !f.role.applies_to(v.kind) {
        f.role = if v.is_managed_hsm() {
            VaultRole::HsmCryptoServiceEncryptionUser
        } else {
            VaultRole::CryptoServiceEncryptionUser
        };
    }
    let mut rbac_on = v.rbac_authorization;
    if v.is_managed_hsm() {
        ui.label("Managed HSM: local RBAC decides access (roles below).");
    } else {
        ui.horizontal_wrapped(|ui| {
            ui.label("Permission model:");
            ui.radio_value(&mut rbac_on, false, "Vault access policy");
            ui.radio_value(&mut rbac_on, true, "Azure role-based access control");
        });
    }
    if rbac_on != v.rbac_authorization && !cx.busy {
        let ask = Invocation::new("az keyvault update")
            .arg("--name", v.name.clone())
            .arg("--enable-rbac-authorization", rbac_on.to_string());
        cx.request(ask, move |_, _| {
            if rbac_on {
                "Azure RBAC now decides access; access policies are ignored.".into()
            } else {
                "Access policies now decide access.".into()
            }
        });
    }
    if !v.rbac_authorization {
        ui.label(
            egui::RichText::new("Role assignments take effect once the vault uses Azure RBAC.")
                .weak(),
        );
        return;
    }
    let now = cx.ws.now();
    let names = super::vault::known_principals(cx.ws);
    let display = |p: &PrincipalId| {
        names
            .iter()
            .find(|(id, _)| id == &p.0)
            .map(|(_, n)| n.clone())
            .unwrap_or_else(|| p.0.clone())
    };
    let live: Vec<RoleAssignment> = v
        .role_assignments
        .iter()
        .filter(|a| a.active_until.is_none())
        .cloned()
        .collect();
    if live.is_empty() {
        ui.label(egui::RichText::new("No role assignments: nobody can use the keys.").weak());
    }
    for a in &live {
        ui.horizontal_wrapped(|ui| {
            let pending = if a.active(now) {
                String::new()
            } else {
                format!(" · takes effect {}", a.active_from)
            };
            ui.label(format!(
                "{} · {}{pending}",
                display(&a.principal),
                a.role.name()
            ));
            if ui
                .add_enabled(
                    !cx.busy,
                    egui::Button::new(format!("Remove {}", a.role.name())),
                )
                .on_disabled_hover_text(crate::ui::widgets::BUSY_WHY)
                .clicked()
            {
                cx.request(
                    role_assignment("delete", v, &a.principal, a.role),
                    |_, _| "Role assignment removed (honoured until the change propagates).".into(),
                );
            }
        });
    }
    crate::ui::widgets::combo(
        ui,
        "Assignee",
        if f.assignee.is_empty() {
            "Select a principal".to_string()
        } else {
            display(&PrincipalId(f.assignee.clone()))
        },
        None,
        |ui| {
            for (id, name) in &names {
                ui.selectable_value(&mut f.assignee, id.clone(), name);
            }
        },
    );
    crate::ui::widgets::combo(ui, "Role", f.role.name(), None, |ui| {
        for r in VaultRole::ALL.into_iter().filter(|r| r.applies_to(v.kind)) {
            ui.selectable_value(&mut f.role, r, r.name());
        }
    });
    if ui
        .add_enabled(
            !cx.busy && !f.assignee.is_empty(),
            egui::Button::new("Add role assignment"),
        )
        .on_disabled_hover_text(crate::ui::widgets::why(&[
            (cx.busy, crate::ui::widgets::BUSY_WHY),
            (f.assignee.is_empty(), "Pick who gets the role first."),
        ]))
        .clicked()
    {
        let (vault, assignee, role) = (v.name.clone(), PrincipalId(f.assignee.clone()), f.role);
        let ask = role_assignment("create", v, &assignee, role);
        cx.request(ask, move |_, ws| {
            let from = ws
                .vault(&vault)
                .and_then(|v| {
                    v.role_assignments
                        .iter()
                        .rfind(|a| a.principal == assignee && a.role == role)
                })
                .map(|a| a.active_from.to_string())
                .unwrap_or_default();
            format!(
                "'{}' assigned; it takes effect at {from} (RBAC propagation).",
                role.name()
            )
        });
    }
}

/// `az role assignment create|delete` on a vault; a Managed HSM's local RBAC is
/// `az keyvault role assignment` with `--hsm-name`.
fn role_assignment(verb: &str, v: &KeyVault, who: &PrincipalId, role: VaultRole) -> Invocation {
    let command = match (v.is_managed_hsm(), verb) {
        (true, "create") => "az keyvault role assignment create",
        (true, _) => "az keyvault role assignment delete",
        (false, "create") => "az role assignment create",
        (false, _) => "az role assignment delete",
    };
    let ask = Invocation::new(command);
    if v.is_managed_hsm() {
        ask.arg("--hsm-name", v.name.clone())
            .arg("--role", role.name())
            .arg("--assignee-object-id", who.to_string())
            .arg("--scope", "/")
    } else {
        ask.arg("--role", role.name())
            .arg("--assignee-object-id", who.to_string())
            .arg("--scope", crate::service::ids::vault(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::requests::MetricPoint;

    fn point(at: i64, ok: u32, refused: u32, throttled: u32) -> MetricPoint {
        MetricPoint {
            at: Timestamp(at),
            hits: ok + refused + throttled,
            ok,
            refused,
            throttled,
            mean_latency_ms: None,
        }
    }

    #[test]
    fn each_buckets_bars_stand_on_zero_and_on_each_other() {
        let [served, refused, throttled] = stacked(&[
            point(0, 21, 0, 0),
            point(60, 0, 2, 0),
            point(120, 3, 1, 2),
            point(180, 0, 0, 5),
        ]);
        let bar = |at, base, value| StackedBar {
            at: Timestamp(at),
            base,
            value,
        };
        assert_eq!(served, [bar(0, 0.0, 21.0), bar(120, 0.0, 3.0)]);
        // A minute with only refused requests: its bar starts at zero, not on 21.
        assert_eq!(refused, [bar(60, 0.0, 2.0), bar(120, 3.0, 1.0)]);
        assert_eq!(throttled, [bar(120, 4.0, 2.0), bar(180, 0.0, 5.0)]);
    }
}
