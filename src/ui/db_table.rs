//! A list of databases as a table: virtualised rows (only the rows in view are laid out, so
//! 50,000 cost a frame what twenty cost), multi-select as in a file manager (click selects
//! one row, Shift-click a range from the last clicked row, Ctrl-click adds or removes one;
//! the tick box in each row does the same as Ctrl-click), "Select all", "Select none",
//! "Select the filtered rows", and filters (name contains, state, in the group or not).
//! The blade that shows it acts on [`DbTable::selected`] as one operation.

use crate::model::{Database, DatabaseState};
use egui_extras::{Column, TableBuilder};
use std::collections::BTreeSet;
use std::sync::Arc;

/// Which rows the membership filter keeps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Membership {
    #[default]
    Any,
    In,
    NotIn,
}

/// A database table's selection and filters (kept in the blade's form).
#[derive(Clone, Debug, Default)]
pub struct DbTable {
    /// Selected database names.
    pub selected: BTreeSet<String>,
    /// The row a Shift-click extends from (the last row clicked without Shift).
    anchor: Option<String>,
    pub name_contains: String,
    /// A state label ("Online", "Inaccessible", …), or every state.
    pub state: Option<String>,
    pub membership: Membership,
    /// What the selection was made on (a group's primary, its members, its last failover):
    /// see [`DbTable::select_on`].
    basis: Option<u64>,
}

/// How a row was clicked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClickKind {
    /// A plain click: this row alone.
    Only,
    /// Ctrl (or Cmd) click, or the row's tick box: add or remove this row.
    Toggle,
    /// Shift-click: the range from the anchor to this row (added to the selection with
    /// Ctrl as well, replacing it otherwise).
    Range { add: bool },
}

impl DbTable {
    /// Keeps the selection only while `basis` (what the rows are: a group's primary, its
    /// members, its last failover) stays the same: after a failover or a fail-back the
    /// table lists another server's databases, and a selection carried over would make the
    /// next bulk action apply to rows nobody chose there.
    pub fn select_on(&mut self, basis: impl std::hash::Hash) {
        use std::hash::Hasher;
        let mut h = std::collections::hash_map::DefaultHasher::new();
        basis.hash(&mut h);
        let basis = h.finish();
        if self.basis.is_some_and(|b| b != basis) {
            self.selected.clear();
            self.anchor = None;
        }
        self.basis = Some(basis);
    }

    /// Whether `d` passes the filters (`member`: whether it is in the group).
    pub fn passes(&self, d: &Database, member: bool) -> bool {
        let needle = self.name_contains.trim().to_ascii_lowercase();
        (needle.is_empty() || d.name.to_ascii_lowercase().contains(&needle))
            && self
                .state
                .as_deref()
                .is_none_or(|s| d.state.label().eq_ignore_ascii_case(s))
            && match self.membership {
                Membership::Any => true,
                Membership::In => member,
                Membership::NotIn => !member,
            }
    }

    /// Applies a click on row `index` of `rows` (the rows shown, in order).
    pub fn click(&mut self, rows: &[&str], index: usize, kind: ClickKind) {
        let Some(name) = rows.get(index).map(|n| n.to_string()) else {
            return;
        };
        match kind {
            ClickKind::Only => {
                self.selected.clear();
                self.selected.insert(name.clone());
                self.anchor = Some(name);
            }
            ClickKind::Toggle => {
                if !self.selected.remove(&name) {
                    self.selected.insert(name.clone());
                }
                self.anchor = Some(name);
            }
            ClickKind::Range { add } => {
                let from = self
                    .anchor
                    .as_deref()
                    .and_then(|a| rows.iter().position(|r| *r == a))
                    .unwrap_or(index);
                if !add {
                    self.selected.clear();
                }
                let (lo, hi) = (from.min(index), from.max(index));
                self.selected
                    .extend(rows[lo..=hi].iter().map(|r| r.to_string()));
                if self.anchor.is_none() {
                    self.anchor = Some(name);
                }
            }
        }
    }

    /// Keeps only the selected names that still exist among `all`.
    pub fn retain_existing(&mut self, all: &[Arc<Database>]) {
        if self.selected.is_empty() {
            return;
        }
        let names: BTreeSet<&str> = all.iter().map(|d| d.name.as_str()).collect();
        self.selected.retain(|n| names.contains(n.as_str()));
    }
}

/// What a row shows about membership: `None` hides the column and its filter.
pub struct GroupColumn<'a> {
    /// The column's heading ("In fg-contoso").
    pub heading: String,
    pub is_member: &'a dyn Fn(&Database) -> bool,
}

/// Shows the filters, the selection buttons and the table of `dbs`. The table's rows take
/// `height` (they scroll inside it), however many there are.
pub fn show(
    ui: &mut egui::Ui,
    id: &str,
    table: &mut DbTable,
    dbs: &[Arc<Database>],
    group: Option<&GroupColumn<'_>>,
    height: f32,
) {
    table.retain_existing(dbs);
    let member = |d: &Database| group.is_some_and(|g| (g.is_member)(d));
    let filters_before = (
        table.name_contains.clone(),
        table.state.clone(),
        table.membership,
    );
    ui.push_id(("db-table", id), |ui| {
        ui.horizontal_wrapped(|ui| {
            let label = ui.label("Name contains");
            ui.add(
                egui::TextEdit::singleline(&mut table.name_contains)
                    .desired_width(90.0)
                    .hint_text("app-04"),
            )
            .labelled_by(label.id);
            let states: BTreeSet<&'static str> = dbs.iter().map(|d| d.state.label()).collect();
            egui::ComboBox::from_id_salt("state")
                .selected_text(match &table.state {
                    Some(s) => format!("State: {s}"),
                    None => "State: any".into(),
                })
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut table.state, None, "Any state");
                    for s in states {
                        ui.selectable_value(&mut table.state, Some(s.to_string()), s);
                    }
                });
            if let Some(g) = group {
                egui::ComboBox::from_id_salt("membership")
                    .selected_text(match table.membership {
                        Membership::Any => "Group: any".to_string(),
                        Membership::In => g.heading.clone(),
                        Membership::NotIn => format!("Not {}", lower_first(&g.heading)),
                    })
                    .show_ui(ui, |ui| {
                        ui.selectable_value(&mut table.membership, Membership::Any, "Any");
                        ui.selectable_value(
                            &mut table.membership,
                            Membership::In,
                            g.heading.clone(),
                        );
                        ui.selectable_value(
                            &mut table.membership,
                            Membership::NotIn,
                            format!("Not {}", lower_first(&g.heading)),
                        );
                    });
            }
        });
        let rows: Vec<&Database> = dbs
            .iter()
            .map(|d| &**d)
            .filter(|d| table.passes(d, member(d)))
            .collect();
        // A changed filter shows its rows from the first (walk 35: filtered by name, the
        // table stayed scrolled and began at app-0504, not app-0500).
        let refiltered = filters_before
            != (
                table.name_contains.clone(),
                table.state.clone(),
                table.membership,
            );
        let names: Vec<&str> = rows.iter().map(|d| d.name.as_str()).collect();
        ui.horizontal_wrapped(|ui| {
            if ui
                .small_button(format!("Select all ({})", dbs.len()))
                .clicked()
            {
                table.selected = dbs.iter().map(|d| d.name.clone()).collect();
            }
            if ui
                .add_enabled(
                    !table.selected.is_empty(),
                    egui::Button::new("Select none").small(),
                )
                .on_disabled_hover_text("Nothing is selected.")
                .clicked()
            {
                table.selected.clear();
                table.anchor = None;
            }
            if ui
                .add_enabled(
                    names.len() < dbs.len(),
                    // As wide as with every row: typing a filter never rewraps the row.
                    crate::ui::widgets::steady(
                        ui,
                        egui::Button::new(format!("Select the filtered rows ({})", names.len()))
                            .small(),
                        &format!("Select the filtered rows ({})", dbs.len()),
                    ),
                )
                .on_disabled_hover_text("The filters keep every row: use Select all.")
                .on_hover_text(
                    "Add the rows the filters keep to the selection (Select none starts over)",
                )
                .clicked()
            {
                // Adds, as ticking rows does: one filter's rows, then another's.
                table.selected.extend(names.iter().map(|n| n.to_string()));
            }
            crate::ui::widgets::steady_label(
                ui,
                egui::RichText::new(format!(
                    "{} of {} shown · {} selected",
                    names.len(),
                    dbs.len(),
                    table.selected.len()
                ))
                .weak(),
                &format!("{0} of {0} shown · {0} selected", dbs.len()),
            );
        });
        let mut clicked: Option<(usize, ClickKind)> = None;
        let mods = ui.input(|i| i.modifiers);
        let row_height = ui.text_style_height(&egui::TextStyle::Body) + 6.0;
        // Wider than a narrow blade: the table scrolls sideways on its own, and the text
        // below it keeps wrapping at the blade's edge.
        crate::ui::widgets::wide(ui, "db-table-wide", |ui| {
            // A cell's text stays on one line ("General / Purpose" wrapped in its
            // column): the columns fit their text, the table scrolls sideways.
            ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Extend);
            let mut builder = TableBuilder::new(ui)
                .striped(true)
                .sense(egui::Sense::click())
                // Always `height` tall, wherever the blade is scrolled and however few rows
                // the filters keep: the table took what the screen had left below it (five
                // rows on a maximised blade), and a filter keeping one row shortened the blade
                // so its scroll snapped back and the controls jumped ~100 px under the pointer.
                .max_scroll_height(height)
                .min_scrolled_height(height)
                .auto_shrink([true, false])
                .column(Column::exact(row_height + 4.0))
                .column(Column::auto().at_least(90.0).clip(true))
                .column(Column::auto().at_least(70.0))
                .column(Column::auto().at_least(60.0));
            if group.is_some() {
                builder = builder.column(Column::remainder().at_least(40.0));
            }
            if refiltered {
                builder = builder.vertical_scroll_offset(0.0);
            }
            builder
                .header(row_height, |mut h| {
                    h.col(|_| {});
                    let mut headings = vec!["Name".to_string(), "State".into(), "Tier".into()];
                    if let Some(g) = group {
                        headings.push(g.heading.clone());
                    }
                    for t in headings {
                        h.col(|ui| {
                            ui.strong(t);
                        });
                    }
                })
                .body(|body| {
                    body.rows(row_height, rows.len(), |mut row| {
                        let i = row.index();
                        let d = rows[i];
                        let on = table.selected.contains(&d.name);
                        row.set_selected(on);
                        row.col(|ui| {
                            let mut ticked = on;
                            if ui
                                .checkbox(&mut ticked, "")
                                .on_hover_text(format!("Select {}", d.name))
                                .clicked()
                            {
                                clicked = Some((i, ClickKind::Toggle));
                            }
                        });
                        // Cells do not select their text: a click anywhere on the row is the
                        // row's (click, Shift-click, Ctrl-click).
                        row.col(|ui| {
                            ui.add(egui::Label::new(&d.name).selectable(false));
                        });
                        row.col(|ui| {
                            state_label(ui, &d.state);
                        });
                        row.col(|ui| {
                            ui.add(egui::Label::new(d.tier.label()).selectable(false));
                        });
                        if group.is_some() {
                            row.col(|ui| {
                                ui.add(
                                    egui::Label::new(if member(d) { "Yes" } else { "No" })
                                        .selectable(false),
                                );
                            });
                        }
                        if clicked.is_none() && row.response().clicked() {
                            let m = mods;
                            clicked = Some((
                                i,
                                if m.shift {
                                    ClickKind::Range { add: m.command }
                                } else if m.command {
                                    ClickKind::Toggle
                                } else {
                                    ClickKind::Only
                                },
                            ));
                        }
                    });
                });
        });
        if let Some((i, kind)) = clicked {
            table.click(&names, i, kind);
        }
    });
}

fn state_label(ui: &mut egui::Ui, state: &DatabaseState) {
    let text = egui::RichText::new(state.label());
    let text = if state.is_online() {
        text
    } else {
        text.color(crate::ui::widgets::ink(ui, crate::ui::widgets::AMBER))
    };
    ui.add(egui::Label::new(text).selectable(false));
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn click_shift_click_and_ctrl_click_select_as_a_file_manager_does() {
        let rows = ["a", "b", "c", "d", "e"];
        let mut t = DbTable::default();
        t.click(&rows, 1, ClickKind::Only);
        assert_eq!(t.selected, BTreeSet::from(["b".to_string()]));
        t.click(&rows, 3, ClickKind::Range { add: false });
        assert_eq!(
            t.selected.iter().map(String::as_str).collect::<Vec<_>>(),
            ["b", "c", "d"]
        );
        t.click(&rows, 2, ClickKind::Toggle);
        assert_eq!(
            t.selected.iter().map(String::as_str).collect::<Vec<_>>(),
            ["b", "d"]
        );
        // The anchor moved to c: Ctrl+Shift-click adds c..e to what is selected.
        t.click(&rows, 4, ClickKind::Range { add: true });
        assert_eq!(
            t.selected.iter().map(String::as_str).collect::<Vec<_>>(),
            ["b", "c", "d", "e"]
        );
        t.click(&rows, 0, ClickKind::Only);
        assert_eq!(t.selected.len(), 1);
        // A click beyond the rows changes nothing.
        t.click(&rows, 9, ClickKind::Only);
        assert_eq!(t.selected.len(), 1);
    }
}
