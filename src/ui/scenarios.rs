//! The Scenarios panel: pick a guided scenario, start it (its workspace loads fresh), see
//! the current step, its goal checked against the model after every change, hints, the
//! solution's `az` lines, progress, reset, and a summary at the end.

use super::app_action::{AppAction, Panel};
use super::blades::Action;
use super::{ConsoleApp, PendingSwitch};
use crate::scenario::{Scenario, shipped};
use crate::ui::widgets::{self, BLUE, GREEN, badge};
use egui::RichText;

/// A scenario being walked.
pub struct ScenarioRun {
    pub id: String,
    pub scenario: Scenario,
    /// The step shown.
    pub step: usize,
    /// Steps whose goal was met.
    pub done: Vec<bool>,
    /// The simulated time the scenario started at.
    pub started: crate::model::Timestamp,
    /// The simulated time the last goal was met at: the summary's figure stops there.
    pub completed: Option<crate::model::Timestamp>,
    /// The revision the goal was last checked at, and whether it held.
    checked: Option<(u64, bool)>,
    /// The step whose goal was just met: the run moved on from it by itself (the panel says
    /// so above the next step).
    pub advanced_from: Option<usize>,
}

impl ScenarioRun {
    pub fn new(id: String, scenario: Scenario, started: crate::model::Timestamp) -> Self {
        let n = scenario.steps.len();
        ScenarioRun {
            id,
            scenario,
            step: 0,
            done: vec![false; n],
            started,
            completed: None,
            checked: None,
            advanced_from: None,
        }
    }

    /// Checks the current step's goal (once per workspace revision); a met goal stays met.
    /// When a step's goal is met for the first time, the run moves on to the next step by
    /// itself (a trainer at 200 % saw "Goal met" but the "Next step" button was below the
    /// fold, and the panel stayed on step 1).
    pub fn check(&mut self, ws: &crate::model::Workspace) -> bool {
        loop {
            if let Some((rev, met)) = self.checked
                && rev == ws.revision
            {
                return met;
            }
            let met = self
                .scenario
                .steps
                .get(self.step)
                .is_some_and(|s| s.goal.met(ws));
            let first_time = met && self.done.get(self.step) == Some(&false);
            if met && let Some(d) = self.done.get_mut(self.step) {
                *d = true;
            }
            if self.completed.is_none() && self.finished() {
                self.completed = Some(ws.now());
            }
            self.checked = Some((ws.revision, met));
            if !(first_time && self.step + 1 < self.scenario.steps.len()) {
                return met;
            }
            // On to the next step, checked at once (its goal may hold already).
            self.advanced_from = Some(self.step);
            self.step += 1;
            self.checked = None;
        }
    }

    pub fn finished(&self) -> bool {
        self.done.iter().all(|d| *d)
    }

    /// Whether the current step's goal held when last checked ([`ScenarioRun::check`]).
    pub fn met(&self) -> bool {
        self.checked.is_some_and(|(_, met)| met)
    }

    /// Shows step `i` (its goal is checked again).
    pub fn go_to(&mut self, i: usize) {
        if i < self.scenario.steps.len() {
            self.step = i;
            self.checked = None;
            self.advanced_from = None;
        }
    }
}

/// The panel reads the app (the run's goal is checked before it draws) and returns what it
/// asks for: starting or resetting a scenario, another step, leaving, closing.
pub fn panel(app: &ConsoleApp, ui: &mut egui::Ui) -> Vec<Action> {
    let mut out: Vec<Action> = Vec::new();
    ui.horizontal(|ui| {
        ui.strong("Scenarios");
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui.button("×").on_hover_text("Close").clicked() {
                out.push(AppAction::Show(Panel::Scenarios, false).into());
            }
        });
    });
    egui::ScrollArea::vertical()
        .auto_shrink([false, false])
        .show(ui, |ui| match &app.scenario {
            None => catalogue(app, ui, &mut out),
            Some(run) => walk(app, ui, run, &mut out),
        });
    out
}

fn catalogue(app: &ConsoleApp, ui: &mut egui::Ui, out: &mut Vec<Action>) {
    ui.label(
        RichText::new("Guided exercises on the demo: each step's goal is checked against the workspace after every change. Starting one opens its workspace fresh.")
            .weak(),
    );
    for (id, parsed) in shipped() {
        ui.separator();
        match parsed {
            Ok(s) => {
                // The button under the title, before the description (at the body size now,
                // it pushed the first Start button below the window at 200 %).
                ui.strong(&s.title);
                if ui
                    .add_enabled(
                        !app.busy(),
                        egui::Button::new(format!("Start: {}", s.title)),
                    )
                    .on_disabled_hover_text(crate::ui::widgets::BUSY_WHY)
                    .clicked()
                {
                    out.push(AppAction::Switch(PendingSwitch::Scenario(id)).into());
                }
                ui.label(RichText::new(format!("For: {}", s.audience)).weak());
                ui.label(RichText::new(&s.teaches).weak());
                ui.label(format!("{} step(s)", s.steps.len()));
            }
            Err(e) => widgets::error_box(ui, &format!("{id}: {e}")),
        }
    }
}

/// Shows the run (its goal checked already).
fn walk(app: &ConsoleApp, ui: &mut egui::Ui, run: &ScenarioRun, out: &mut Vec<Action>) {
    let met = run.met();
    let n = run.scenario.steps.len();
    ui.heading(&run.scenario.title);
    ui.label(RichText::new(&run.scenario.teaches).weak());
    ui.add(
        egui::ProgressBar::new(run.done.iter().filter(|d| **d).count() as f32 / n as f32).text(
            format!(
                "{} of {n} step(s) done",
                run.done.iter().filter(|d| **d).count()
            ),
        ),
    );
    if run.finished() {
        // Measured to the moment the last goal was met, not to the clock that keeps playing.
        let took = run.completed.unwrap_or(app.ws.now()) - run.started;
        widgets::success_box(
            ui,
            &format!(
                "Scenario complete: {n} step(s) in {} of simulated time.",
                took.human()
            ),
        );
    }
    let step = &run.scenario.steps[run.step];
    ui.separator();
    // The step the run moved on from by itself: said above the new one, which is scrolled
    // into sight once (the panel may have been scrolled down to the old step's hints).
    let top = ui.cursor().min.y;
    if let Some(done) = run
        .advanced_from
        .filter(|d| d + 1 == run.step)
        .and_then(|d| run.scenario.steps.get(d).map(|s| (d, s)))
    {
        ui.horizontal_wrapped(|ui| {
            badge(ui, "Goal met", GREEN);
            ui.label(format!(
                "Step {} of {n} done: {}. On to step {}.",
                done.0 + 1,
                done.1.title,
                run.step + 1
            ));
        });
    }
    let heading = ui
        .horizontal_wrapped(|ui| {
            ui.strong(format!("Step {} of {n}: {}", run.step + 1, step.title));
        })
        .response;
    let seen = egui::Id::unique(("scenario-step-shown", &run.id));
    let before = ui.data(|d| d.get_temp::<usize>(seen));
    ui.data_mut(|d| d.insert_temp(seen, run.step));
    // Only when the step changed (the panel opening shows its top as before).
    if before.is_some_and(|b| b != run.step) {
        ui.scroll_to_rect(
            egui::Rect::from_min_max(egui::pos2(heading.rect.min.x, top), heading.rect.max),
            Some(egui::Align::TOP),
        );
    }
    ui.horizontal_wrapped(|ui| {
        if met || run.done[run.step] {
            badge(ui, "Goal met", GREEN);
        } else {
            // Not "Not yet": beside the goal's words it read as a statement of fact.
            badge(ui, "To do", BLUE);
        }
        ui.label(format!("Goal: {}", step.goal.describe()));
    });
    egui::CollapsingHeader::new("Hints")
        .id_salt(("scenario-hints", run.step))
        .show(ui, |ui| {
            for h in &step.hints {
                ui.label(format!("• {h}"));
            }
        });
    egui::CollapsingHeader::new("The solution as az commands")
        .id_salt(("scenario-solution", run.step))
        .show(ui, |ui| {
            let text = step.solution.join("\n");
            ui.add(egui::Label::new(RichText::new(&text).monospace()).selectable(true));
            if ui.button("Copy").clicked() {
                ui.ctx().copy_text(text);
            }
        });
    // The buttons wrap onto a second row in a narrow panel (at 150 % "Leave" was cut).
    ui.horizontal_wrapped(|ui| {
        if ui
            .add_enabled(run.step > 0, egui::Button::new("Previous step"))
            .on_disabled_hover_text("This is the first step.")
            .clicked()
        {
            out.push(AppAction::ScenarioStep(run.step - 1).into());
        }
        if ui
            .add_enabled(
                run.done[run.step] && run.step + 1 < n,
                egui::Button::new("Next step"),
            )
            .on_disabled_hover_text(if run.step + 1 >= n {
                "This is the last step."
            } else {
                "Reach this step's goal first: the badge above turns to Goal met."
            })
            .clicked()
        {
            out.push(AppAction::ScenarioStep(run.step + 1).into());
        }
        if ui
            .add_enabled(!app.busy(), egui::Button::new("Reset"))
            .on_disabled_hover_text(crate::ui::widgets::BUSY_WHY)
            .on_hover_text("Start the scenario again from its workspace")
            .clicked()
        {
            out.push(AppAction::Switch(PendingSwitch::Scenario(run.id.clone())).into());
        }
        if ui.button("Leave").clicked() {
            out.push(AppAction::LeaveScenario.into());
        }
    });
}
