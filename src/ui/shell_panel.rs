//! The Cloud-Shell-like panel: the same az shell as `tde-console shell`, run off the UI
//! thread (commands may generate keys).

use super::ConsoleApp;
use super::jobs::{Job, JobOrigin};
use crate::shell::{Shell, ShellMode};
use std::sync::{Arc, Mutex};

pub struct ShellPanel {
    pub open: bool,
    pub input: String,
    /// Everything printed so far.
    pub transcript: String,
    history: Vec<String>,
    history_pos: usize,
    /// The session (variables) is shared with the worker thread that runs a command.
    session: Arc<Mutex<Shell>>,
    /// The session's language as last seen (`pwsh` / `bash` typed in it switch it too).
    pub mode: ShellMode,
}

impl ShellPanel {
    /// A new session taking key material from `keys`.
    pub fn use_keys(&mut self, keys: Arc<dyn crate::service::KeySource>) {
        self.session = Arc::new(Mutex::new(Shell::new().with_keys(Box::new(keys))));
    }
}

impl Default for ShellPanel {
    fn default() -> Self {
        ShellPanel {
            open: false,
            input: String::new(),
            transcript: "Azure Cloud Shell (simulated). Type 'help' for the commands.\n".into(),
            history: Vec::new(),
            history_pos: 0,
            session: Arc::new(Mutex::new(Shell::new())),
            mode: ShellMode::Az,
        }
    }
}

impl ShellPanel {
    /// Switches the session between az (Bash) and PowerShell, as Cloud Shell's selector.
    pub fn set_mode(&mut self, mode: ShellMode) {
        if let Ok(mut sh) = self.session.try_lock() {
            sh.mode = mode;
            self.mode = mode;
        }
    }

    fn prompt(&self) -> &'static str {
        match self.mode {
            ShellMode::Az => "az>",
            ShellMode::Pwsh => "PS>",
        }
    }

    pub fn finish(&mut self, result: Result<String, String>, stderr: &str) {
        if let Ok(sh) = self.session.try_lock() {
            self.mode = sh.mode;
        }
        match result {
            Ok(out) => self.transcript.push_str(&out),
            Err(e) => self.transcript.push_str(&e),
        }
        self.transcript.push_str(stderr);
    }
}

pub fn show(app: &mut ConsoleApp, ui: &mut egui::Ui) {
    ui.horizontal(|ui| {
        ui.strong(">_ Cloud Shell");
        let busy = app.busy();
        for (mode, label) in [(ShellMode::Az, "Bash"), (ShellMode::Pwsh, "PowerShell")] {
            if ui
                .add_enabled(
                    !busy,
                    egui::Button::selectable(app.shell.mode == mode, label),
                )
                .on_hover_text(match mode {
                    ShellMode::Az => "az commands (as `bash` in the shell)",
                    ShellMode::Pwsh => "Az PowerShell cmdlets (as `pwsh` in the shell)",
                })
                .clicked()
            {
                app.shell.set_mode(mode);
            }
        }
        ui.label(egui::RichText::new("commands act on this workspace").weak());
        if ui.small_button("Clear").clicked() {
            app.shell.transcript.clear();
        }
    });
    // The prompt sits at the bottom and the transcript fills exactly what is left, so the
    // panel keeps the height the user gave it (content never measures it smaller).
    let busy = app.busy();
    ui.with_layout(egui::Layout::bottom_up(egui::Align::LEFT), |ui| {
        prompt_row(app, ui, busy);
        // Wide output (`-o table`) scrolls sideways instead of wrapping.
        egui::ScrollArea::both()
            .id_salt("cloud-shell-transcript")
            .stick_to_bottom(true)
            .auto_shrink([false, false])
            .show(ui, |ui| {
                ui.with_layout(egui::Layout::top_down(egui::Align::LEFT), |ui| {
                    ui.add(
                        egui::Label::new(egui::RichText::new(&app.shell.transcript).monospace())
                            .selectable(true)
                            .extend(),
                    );
                });
            });
    });
}

fn prompt_row(app: &mut ConsoleApp, ui: &mut egui::Ui, busy: bool) {
    ui.horizontal(|ui| {
        let prompt = ui.monospace(app.shell.prompt());
        let edit = ui.add_enabled(
            !busy,
            egui::TextEdit::singleline(&mut app.shell.input)
                .font(egui::TextStyle::Monospace)
                .desired_width(f32::INFINITY)
                .hint_text(match app.shell.mode {
                    ShellMode::Az => "az sql server list -o table",
                    ShellMode::Pwsh => {
                        "Get-AzSqlServerKeyVaultKey -ResourceGroupName rg-contoso-us -ServerName sql-contoso-us"
                    }
                }),
        );
        let edit = edit.labelled_by(prompt.id);
        if edit.has_focus() && !app.shell.history.is_empty() {
            let (up, down) = ui.input(|i| {
                (
                    i.key_pressed(egui::Key::ArrowUp),
                    i.key_pressed(egui::Key::ArrowDown),
                )
            });
            if up && app.shell.history_pos > 0 {
                app.shell.history_pos -= 1;
                app.shell.input = app.shell.history[app.shell.history_pos].clone();
            }
            if down && app.shell.history_pos + 1 < app.shell.history.len() {
                app.shell.history_pos += 1;
                app.shell.input = app.shell.history[app.shell.history_pos].clone();
            }
        }
        if edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)) && !busy {
            submit(app);
            edit.request_focus();
        }
    });
}

/// Runs the typed line on a worker thread.
pub fn submit(app: &mut ConsoleApp) {
    let line = std::mem::take(&mut app.shell.input);
    if line.trim().is_empty() {
        return;
    }
    let prompt = app.shell.prompt();
    app.shell.transcript.push_str(&format!("{prompt} {line}\n"));
    app.shell.history.push(line.clone());
    app.shell.history_pos = app.shell.history.len();
    let line_for_script = line.clone();
    let session = app.shell.session.clone();
    let job = Job::spawn(
        format!("Running: {line}"),
        JobOrigin::Shell,
        &app.ws,
        move |ws| {
            let Ok(mut sh) = session.lock() else {
                return (
                    Err("ERROR: the shell session is unavailable\n".into()),
                    String::new(),
                );
            };
            let out = sh.run_script(ws, &line, false);
            let stderr = out
                .stderr
                .lines()
                .filter(|l| !l.starts_with("(stopped at line"))
                .map(|l| format!("{l}\n"))
                .collect::<String>();
            (Ok(out.stdout), stderr)
        },
    );
    app.job = Some(Job {
        command: Some(line_for_script),
        ..job
    });
}
