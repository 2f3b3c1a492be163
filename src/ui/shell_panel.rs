//! The Cloud-Shell-like panel: the same az shell as `tde-console shell`, run off the UI
//! thread (commands may generate keys).

use super::blades::Action;
use super::jobs::{Job, JobOrigin};
use crate::model::Workspace;
use crate::shell::{Shell, ShellMode};
use std::sync::{Arc, Mutex};

pub struct ShellPanel {
    pub open: bool,
    pub input: String,
    /// Everything printed so far.
    pub transcript: String,
    /// The stretches of `transcript` the shell wrote to stderr (byte ranges, each a whole
    /// line), drawn in the theme's error colour (warnings in its warning colour).
    stderr: Vec<std::ops::Range<usize>>,
    history: Vec<String>,
    history_pos: usize,
    /// The session (variables) is shared with the worker thread that runs a command.
    session: Arc<Mutex<Shell>>,
    /// The session's language as last seen (`pwsh` / `bash` typed in it switch it too).
    pub mode: ShellMode,
    /// Minimised (its title row and prompt only), at the height the user gave it, or
    /// maximised (all the room below the top bar), as the portal's Cloud Shell.
    pub size: ShellSize,
    /// The prompt had the keys when its command started: it takes them back when the
    /// command ends (a disabled text box loses the focus, and what a trainer typed next
    /// after a long command went nowhere).
    refocus: bool,
    /// Enter was pressed while the shell was busy: the line runs when it is free.
    enter_waiting: bool,
}

/// How much of the window the Cloud Shell takes (its header's Minimise / Maximise / Restore).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ShellSize {
    /// Only the title row and the prompt: the blades get the rest.
    Minimised,
    /// A bottom panel the user resizes by dragging its top edge.
    #[default]
    Normal,
    /// The whole room between the top bar and the status bar.
    Maximised,
}

/// The least height (points) the blades keep under an open Cloud Shell: a blade's title, its
/// buttons and a few rows of its body. When the window is too short for both, the blades
/// give way down to [`BLADE_MIN`] so the shell keeps [`OUTPUT_LINES`] of output, then the
/// shell shrinks (down to its title row and prompt).
pub const BLADE_ROOM: f32 = 180.0;

/// What the blades keep at least under a shell showing its useful height: a blade's title,
/// its buttons and a row or two of its body (200 % on 1280x720).
pub const BLADE_MIN: f32 = 100.0;

/// The lines of output the shell shows at least when the window has room for them (at
/// 200 % on 1280x720 it showed two: a command's answer was scrolled away).
pub const OUTPUT_LINES: f32 = 6.0;

/// The shell's height when it opens on a tall window.
const DEFAULT_HEIGHT: f32 = 240.0;

/// The height (points) of the shell's title row and prompt with the panel's margins: the
/// least it is ever drawn at, so the prompt stays on screen.
pub fn min_height(style: &egui::Style) -> f32 {
    let row = style.spacing.interact_size.y;
    let mono = egui::TextStyle::Monospace.resolve(style).size;
    // Title row + prompt row (a one-line text box) + spacing + the panel's frame margins.
    row + (mono * 1.3 + 2.0 * style.spacing.button_padding.y).max(row)
        + 3.0 * style.spacing.item_spacing.y
        + egui::Frame::side_top_panel(style).total_margin().sum().y
        + 2.0
}

/// The height (points) that shows [`OUTPUT_LINES`] of output above a one-line prompt.
pub fn useful_height(style: &egui::Style) -> f32 {
    let mono = egui::TextStyle::Monospace.resolve(style).size;
    min_height(style) + OUTPUT_LINES * mono * 1.3 + style.spacing.item_spacing.y
}

/// The open shell's (default, max) height in `room` points shared with the blades: it opens
/// at 240 points or two fifths of the room, whichever is less, but at least `useful` (its
/// output lines) while the blades keep [`BLADE_MIN`]; it is never dragged so high that the
/// blades keep less than [`BLADE_ROOM`] (or what `useful` leaves them on a short window); on
/// a window too short for both it keeps `min` (its title row and prompt) and the blades the
/// rest.
pub fn heights(room: f32, min: f32, useful: f32) -> (f32, f32) {
    let blades = BLADE_ROOM.min((room - useful).max(BLADE_MIN));
    let max = (room - blades).max(min);
    let default = DEFAULT_HEIGHT.min(room * 0.4).max(useful).clamp(min, max);
    (default, max)
}

impl ShellPanel {
    /// A new session taking key material from `keys`.
    pub fn use_keys(&mut self, keys: Arc<dyn crate::service::KeySource>) {
        self.session = Arc::new(Mutex::new(
            Shell::new()
                .with_keys(Box::new(keys))
                .without_webhook_delivery(),
        ));
    }
}

impl Default for ShellPanel {
    fn default() -> Self {
        ShellPanel {
            open: false,
            input: String::new(),
            transcript: "Azure Cloud Shell (simulated). Type 'help' for the commands.\n".into(),
            stderr: Vec::new(),
            history: Vec::new(),
            history_pos: 0,
            session: Arc::new(Mutex::new(Shell::new().without_webhook_delivery())),
            mode: ShellMode::Az,
            size: ShellSize::Normal,
            refocus: false,
            enter_waiting: false,
        }
    }
}

/// How a finished line typed in PowerShell mode (`command`, as [`submit`] wrapped it) goes
/// into the session's script, which replays under bash: as the `az` lines of the changes its
/// cmdlets made (`az`), or as a comment when they changed nothing. A line typed in az mode
/// goes in as typed.
pub(crate) fn script_of(command: Option<String>, az: Vec<String>) -> Option<String> {
    let c = command?;
    let Some(line) = c
        .strip_prefix("pwsh\n")
        .and_then(|rest| rest.strip_suffix("\nbash"))
    else {
        return Some(c);
    };
    if az.is_empty() {
        let one_line = line.replace(['\n', '\r'], " ");
        return Some(format!("# PowerShell, nothing to replay: {one_line}"));
    }
    Some(az.join("\n"))
}

impl ShellPanel {
    /// The `az` lines of the changes the session's PowerShell cmdlets made since the last
    /// call (the session is free: its job has finished).
    pub(crate) fn take_pwsh_changes(&self) -> Vec<String> {
        self.session
            .try_lock()
            .map(|mut sh| sh.take_pwsh_changes())
            .unwrap_or_default()
    }

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
            // A pasted script's output interleaves both streams: its stderr lines come
            // marked with STDERR_MARK (as a terminal gets a colour code), so they are drawn
            // in the error colour where they were printed.
            Ok(out) => {
                for line in out.split_inclusive('\n') {
                    match line.strip_prefix(STDERR_MARK) {
                        Some(err) => self.push_stderr(err),
                        None => self.transcript.push_str(line),
                    }
                }
            }
            Err(e) => self.push_stderr(&e),
        }
        self.push_stderr(stderr);
    }

    /// Appends what the shell wrote to stderr, remembered as such (line by line).
    fn push_stderr(&mut self, text: &str) {
        for line in text.split_inclusive('\n') {
            let start = self.transcript.len();
            self.transcript.push_str(line);
            self.stderr.push(start..self.transcript.len());
        }
    }

    /// Empties the transcript.
    pub fn clear(&mut self) {
        self.transcript.clear();
        self.stderr.clear();
    }

    /// Whether `line` of the transcript (its text, without the newline) was written to
    /// stderr.
    pub fn is_stderr(&self, line: &str) -> bool {
        self.stderr.iter().any(|r| {
            self.transcript
                .get(r.clone())
                .is_some_and(|l| l.trim_end_matches('\n') == line)
        })
    }

    /// The transcript as laid-out text: stdout in the text colour, stderr in the error
    /// colour, az's `WARNING:` lines in the warning colour.
    #[cfg(test)]
    fn layout(&self, style: &egui::Style) -> egui::text::LayoutJob {
        self.layout_range(style, 0..self.transcript.len())
    }

    /// The stretch `range` of the transcript, stderr lines in the theme's error colour.
    fn layout_range(
        &self,
        style: &egui::Style,
        range: std::ops::Range<usize>,
    ) -> egui::text::LayoutJob {
        let font = egui::TextStyle::Monospace.resolve(style);
        let plain = egui::TextFormat::simple(font.clone(), style.visuals.text_color());
        let error = egui::TextFormat::simple(font.clone(), style.visuals.error_fg_color);
        let warning = egui::TextFormat::simple(font, style.visuals.warn_fg_color);
        let mut job = egui::text::LayoutJob::default();
        let mut at = range.start;
        for r in &self.stderr {
            let r = r.start.max(range.start)..r.end.min(range.end);
            if r.start >= r.end {
                continue;
            }
            let (Some(before), Some(err)) = (
                self.transcript.get(at..r.start),
                self.transcript.get(r.clone()),
            ) else {
                continue;
            };
            job.append(before, 0.0, plain.clone());
            let format = if err.starts_with("WARNING") {
                &warning
            } else {
                &error
            };
            job.append(err, 0.0, format.clone());
            at = r.end;
        }
        job.append(
            self.transcript.get(at..range.end).unwrap_or_default(),
            0.0,
            plain,
        );
        job
    }
}

/// The panel: its own state is `shell` (the prompt's text, the transcript, the session); a
/// line run is returned as the job that runs it on the workspace.
pub fn show(ws: &Workspace, busy: bool, shell: &mut ShellPanel, ui: &mut egui::Ui) -> Vec<Action> {
    let mut out: Vec<Action> = Vec::new();
    // The panel is laid out as it was at the start of the frame (a panel keeps the height
    // its content measures: a body cut short as Minimise is clicked would shrink the height
    // Restore gives back).
    let minimised = shell.size == ShellSize::Minimised;
    header(busy, shell, ui);
    if minimised {
        // The prompt alone: what it prints shows when the shell is restored.
        // A minimised shell grows to show a pasted script's first lines (the panel measures
        // its content); more scroll inside the prompt.
        let mono = egui::TextStyle::Monospace.resolve(ui.style()).size;
        if let Some(job) = prompt_row(ws, shell, ui, busy, 4.0 * mono * 1.3) {
            out.push(Action::Spawn(Box::new(job)));
        }
        return out;
    }
    // The prompt sits at the bottom and the transcript fills exactly what is left, so the
    // panel keeps the height the user gave it (content never measures it smaller).
    ui.with_layout(egui::Layout::bottom_up(egui::Align::LEFT), |ui| {
        // A pasted script grows the prompt upwards, over the transcript's room (which keeps
        // two lines), never past the title row or under the status bar.
        let mono = egui::TextStyle::Monospace.resolve(ui.style()).size;
        let budget = ui.available_height() - 2.0 * mono * 1.3 - ui.spacing().interact_size.y;
        if let Some(job) = prompt_row(ws, shell, ui, busy, budget) {
            out.push(Action::Spawn(Box::new(job)));
        }
        // Output wraps at the panel's width, as a terminal's does (a long line, az's
        // "Did you mean" among them, was cut at the edge and needed sideways scrolling).
        // However short the panel is, the transcript takes only what the prompt leaves
        // (never drawn over the title row).
        egui::ScrollArea::vertical()
            .id_salt("cloud-shell-transcript")
            .stick_to_bottom(true)
            .auto_shrink([false, false])
            .min_scrolled_height(0.0)
            .show(ui, |ui| {
                ui.with_layout(egui::Layout::top_down(egui::Align::LEFT), |ui| {
                    ui.spacing_mut().item_spacing.y = 0.0;
                    // `-o table` output is not wrapped: its rows stay rows, and a table
                    // wider than the panel scrolls sideways (walk 35 at 200 %: the header
                    // and each row broke over four lines). The rest wraps.
                    for (k, (range, table)) in blocks(&shell.transcript).into_iter().enumerate() {
                        let job = shell.layout_range(ui.style(), range);
                        if table {
                            egui::ScrollArea::horizontal()
                                .id_salt(("cloud-shell-table", k))
                                .auto_shrink([false, true])
                                .show(ui, |ui| {
                                    ui.add(egui::Label::new(job).selectable(true).extend());
                                });
                        } else {
                            ui.add(egui::Label::new(job).selectable(true).wrap());
                        }
                    }
                });
            });
    });
    out
}

/// The title row: the language, Clear, and Minimise / Maximise / Restore / Close at its
/// right, as the portal's Cloud Shell toolbar.
fn header(busy: bool, shell: &mut ShellPanel, ui: &mut egui::Ui) {
    // Too narrow for both ends on one row (maximised beside the navigator at 200 %, "Bash"
    // lay under "Minimise shell"): the window buttons take a row of their own.
    let narrow = ui.available_width() < HEADER_ONE_ROW;
    ui.horizontal(|ui| {
        ui.strong(">_ Cloud Shell")
            .on_hover_text("Commands act on this workspace");
        for (mode, label) in [(ShellMode::Az, "Bash"), (ShellMode::Pwsh, "PowerShell")] {
            if ui
                .add_enabled(!busy, egui::Button::selectable(shell.mode == mode, label))
                .on_disabled_hover_text(crate::ui::widgets::BUSY_WHY)
                .on_hover_text(match mode {
                    ShellMode::Az => "az commands (as `bash` in the shell)",
                    ShellMode::Pwsh => "Az PowerShell cmdlets (as `pwsh` in the shell)",
                })
                .clicked()
            {
                shell.set_mode(mode);
            }
        }
        if ui.small_button("Clear").clicked() {
            shell.clear();
        }
        if !narrow {
            window_buttons(shell, ui);
        }
    });
    if narrow {
        ui.horizontal(|ui| window_buttons(shell, ui));
    }
}

/// The width (points) under which the shell's header takes two rows.
const HEADER_ONE_ROW: f32 = 560.0;

/// Close, Maximise / Restore and Minimise / Restore, from the right.
fn window_buttons(shell: &mut ShellPanel, ui: &mut egui::Ui) {
    ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
        if ui
            .small_button("×")
            .on_hover_text("Close Cloud Shell (the session and its transcript are kept)")
            .clicked()
        {
            shell.open = false;
        }
        let (max_text, max_to) = if shell.size == ShellSize::Maximised {
            ("Restore shell", ShellSize::Normal)
        } else {
            ("Maximise shell", ShellSize::Maximised)
        };
        if ui
            .small_button(max_text)
            .on_hover_text(if max_to == ShellSize::Maximised {
                "Give the shell all the room below the top bar"
            } else {
                "Show the blades above the shell again"
            })
            .clicked()
        {
            shell.size = max_to;
        }
        let (min_text, min_to) = if shell.size == ShellSize::Minimised {
            ("Restore shell", ShellSize::Normal)
        } else {
            ("Minimise shell", ShellSize::Minimised)
        };
        if ui
            .small_button(min_text)
            .on_hover_text(if min_to == ShellSize::Minimised {
                "Keep only the prompt: the blades get the room"
            } else {
                "Show the transcript again (drag the shell's top edge to resize it)"
            })
            .clicked()
        {
            shell.size = min_to;
        }
        if ui.available_width() > 220.0 {
            ui.add(
                egui::Label::new(egui::RichText::new("commands act on this workspace").weak())
                    .truncate(),
            );
        }
    });
}

/// The prompt's text box: one line, or the lines of a pasted script (kept as they are,
/// never joined). Enter runs it; Shift+Enter adds a line.
const INPUT_ID: &str = "cloud-shell-input";
/// The text box's margin around its text (the prompt is centred on its first line).
const INPUT_MARGIN: egui::Margin = egui::Margin::symmetric(4, 2);

/// How high (points) the prompt's text box was shown last frame: less than the box's own
/// height means its lines scroll inside it.
pub fn input_shown_height(ctx: &egui::Context) -> Option<f32> {
    ctx.data(|d| d.get_temp::<f32>(egui::Id::unique(INPUT_ID).with("shown")))
}

/// The prompt; the job of the line run by Enter. The text box shows as many lines as it
/// holds up to `budget` points high, and scrolls beyond.
fn prompt_row(
    ws: &Workspace,
    shell: &mut ShellPanel,
    ui: &mut egui::Ui,
    busy: bool,
    budget: f32,
) -> Option<Job> {
    let mut run = None;
    let id = egui::Id::unique(INPUT_ID);
    let lines = shell.input.trim_end().lines().count();
    if lines > 1 {
        ui.label(
            egui::RichText::new(format!(
                "{lines} lines: Enter runs them one after another, as a script (Shift+Enter adds a line)"
            ))
            .weak(),
        );
    }
    // The row is laid out at the height its text box measured (the pass is redone when
    // that changes), at most `budget`, and the box scrolls inside it: in the panel's
    // bottom-up layout a row that grew after it was placed went past the panel's bottom
    // edge (a pasted script's third line was under the status bar) and the panel measured
    // it taller and pushed its title row out of sight.
    let one_row = ui.spacing().interact_size.y;
    let height_id = id.with("height");
    let measured = ui.data(|d| d.get_temp::<f32>(height_id));
    let row_height = measured
        .unwrap_or(one_row)
        .clamp(one_row, budget.max(one_row));
    ui.data_mut(|d| d.insert_temp(id.with("shown"), row_height));
    let width = ui.available_width();
    ui.allocate_ui_with_layout(
        egui::vec2(width, row_height),
        egui::Layout::left_to_right(egui::Align::Min),
        |ui| {
        // The prompt stands beside the text box's first line (placed once the box is).
        let font = egui::TextStyle::Monospace.resolve(ui.style());
        let prompt_text = shell.prompt();
        let prompt_width = ui
            .painter()
            .layout_no_wrap(prompt_text.into(), font.clone(), egui::Color32::PLACEHOLDER)
            .size()
            .x;
        let prompt_left = ui.cursor().min.x;
        ui.add_space(prompt_width + ui.spacing().item_spacing.x);
        // Enter is the shell's, before the text box would take it as a new line.
        let focused = ui.memory(|m| m.has_focus(id));
        // The box stays enabled while a command or the clock runs (disabled, it lost the
        // keys at every tick of Play, and what was typed went nowhere): the next line can be
        // typed meanwhile, and an Enter pressed meanwhile runs it as soon as the shell is
        // free, as a terminal's type-ahead does.
        if focused && ui.input_mut(|i| i.consume_key(egui::Modifiers::NONE, egui::Key::Enter)) {
            shell.enter_waiting = true;
        }
        let enter = !busy && std::mem::take(&mut shell.enter_waiting);
        let single = !shell.input.contains('\n');
        // A pasted script shows its lines (up to the panel's height), never joined.
        let edit = egui::ScrollArea::vertical()
            .id_salt("cloud-shell-input-scroll")
            .max_height(row_height)
            .min_scrolled_height(row_height)
            .auto_shrink([false, true])
            .show(ui, |ui| ui.add(
            egui::TextEdit::multiline(&mut shell.input)
                .id(id)
                .margin(INPUT_MARGIN)
                .font(egui::TextStyle::Monospace)
                .desired_rows(1)
                .desired_width(f32::INFINITY)
                .hint_text(match shell.mode {
                    ShellMode::Az => "az sql server list -o table",
                    ShellMode::Pwsh => {
                        "Get-AzSqlServerKeyVaultKey -ResourceGroupName rg-contoso-us -ServerName sql-contoso-us"
                    }
                }),
        ))
        .inner
;
        let first_line = egui::Rect::from_min_size(
            egui::pos2(prompt_left, edit.rect.min.y),
            egui::vec2(prompt_width, ui.fonts_mut(|f| f.row_height(&font)) + INPUT_MARGIN.sum().y),
        );
        if (edit.rect.height() - measured.unwrap_or(one_row)).abs() > 0.5 {
            ui.data_mut(|d| d.insert_temp(height_id, edit.rect.height()));
            ui.ctx()
                .request_discard("the Cloud Shell prompt changed height");
        }
        let prompt = ui.put(
            first_line,
            egui::Label::new(egui::RichText::new(prompt_text).monospace()),
        );
        let edit = edit.labelled_by(prompt.id);
        if edit.has_focus() && single && !shell.history.is_empty() {
            let (up, down) = ui.input(|i| {
                (
                    i.key_pressed(egui::Key::ArrowUp),
                    i.key_pressed(egui::Key::ArrowDown),
                )
            });
            let n = shell.history.len();
            let recalled = if up && shell.history_pos > 0 {
                shell.history_pos -= 1;
                true
            } else if down && shell.history_pos < n {
                // Down past the newest line gives an empty prompt again, as in bash.
                shell.history_pos += 1;
                true
            } else {
                false
            };
            if recalled {
                shell.input = shell
                    .history
                    .get(shell.history_pos)
                    .cloned()
                    .unwrap_or_default();
                // The text field moved its cursor to the line's start on Up: put it at the
                // end of the recalled line, as a terminal does.
                if let Some(mut state) = egui::text_edit::TextEditState::load(ui.ctx(), edit.id) {
                    let end = egui::text::CCursor::new(shell.input.chars().count());
                    state
                        .cursor
                        .set_char_range(Some(egui::text::CCursorRange::one(end)));
                    state.store(ui.ctx(), edit.id);
                }
            }
        }
        if enter {
            run = submit(shell, ws);
            edit.request_focus();
            shell.refocus = true;
        } else if shell.refocus && !busy {
            shell.refocus = false;
            // Unless the person has since chosen another field or button.
            if ui.memory(|m| m.focused()).is_none_or(|f| f == id) {
                edit.request_focus();
            }
        }
    });
    run
}

/// Whether `line` is the ruler under a table's header (`-o table`): dashes in runs
/// separated by spaces.
fn is_table_ruler(line: &str) -> bool {
    let line = line.trim_end();
    line.len() >= 3 && line.starts_with('-') && line.chars().all(|c| c == '-' || c == ' ')
}

/// The transcript cut into stretches, each `(bytes, is a table)`: a table is its header,
/// its ruler and its rows, up to an empty line or a prompt's line. Each stretch but the last
/// leaves out the line break that ends it (the next stretch starts on its own line).
fn blocks(text: &str) -> Vec<(std::ops::Range<usize>, bool)> {
    // Each line: (start, end without its '\n').
    let mut lines = Vec::new();
    let mut at = 0;
    for l in text.split_inclusive('\n') {
        lines.push((at, at + l.trim_end_matches('\n').len()));
        at += l.len();
    }
    let line = |i: usize| -> &str { text.get(lines[i].0..lines[i].1).unwrap_or_default() };
    let mut out: Vec<(std::ops::Range<usize>, bool)> = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < lines.len() {
        if i + 1 < lines.len() && !line(i).trim().is_empty() && is_table_ruler(line(i + 1)) {
            let mut end = i + 2;
            while end < lines.len() {
                let l = line(end);
                if l.trim().is_empty() || l.starts_with("az>") || l.starts_with("PS ") {
                    break;
                }
                end += 1;
            }
            let (head, last) = (lines[i].0, lines[end - 1].1);
            if head > start {
                out.push((start..head.saturating_sub(1).max(start), false));
            }
            out.push((head..last, true));
            // The next stretch starts after the table's last line break.
            start = (last + 1).min(text.len());
            i = end;
            continue;
        }
        i += 1;
    }
    if start < text.len() || out.is_empty() {
        out.push((start..text.len(), false));
    }
    out
}

/// Starts a line of a pasted script's output that the shell wrote to stderr (shell output
/// never holds this control character).
const STDERR_MARK: char = '\u{1}';

/// Runs what was typed or pasted on a worker thread. Every Enter answers: an empty one with
/// a fresh prompt line; a pasted script line by line, each echoed before its output.
fn submit(shell: &mut ShellPanel, ws: &Workspace) -> Option<Job> {
    let text = std::mem::take(&mut shell.input);
    let prompt = shell.prompt();
    if text.trim().is_empty() {
        shell.transcript.push_str(&format!("{prompt}\n"));
        return None;
    }
    shell.history.push(text.clone());
    shell.history_pos = shell.history.len();
    let script = text.trim_end_matches(['\n', '\r']).to_string();
    let lines = script.lines().count();
    if lines <= 1 {
        shell.transcript.push_str(&format!("{prompt} {script}\n"));
    }
    let session = shell.session.clone();
    let label = if lines <= 1 {
        format!("{RUNNING}: {script}")
    } else {
        format!("{RUNNING} {lines} pasted lines")
    };
    // The session's script starts (and replays) in bash: a PowerShell line is marked as
    // one here, and goes in as the az lines of its changes when it has run (`script_of`).
    let command = if shell.mode == ShellMode::Pwsh {
        format!("pwsh\n{script}\nbash")
    } else {
        script.clone()
    };
    let job = Job::spawn(label, JobOrigin::Shell, ws, move |ws| {
        let Ok(mut sh) = session.lock() else {
            return (
                Err("ERROR: the shell session is unavailable\n".into()),
                String::new(),
            );
        };
        if lines <= 1 {
            let out = sh.run_script(ws, &script, false);
            let stderr = out
                .stderr
                .lines()
                .filter(|l| !l.starts_with("(stopped at line"))
                .map(|l| format!("{l}\n"))
                .collect::<String>();
            return (Ok(out.stdout), stderr);
        }
        // A script: each line echoed, then what it printed, in order; where it stops, the
        // shell says at which line and why.
        let mut transcript = String::new();
        let (failures, commands) = sh.run_script_echoed(ws, &script, false, prompt, |r| {
            transcript.push_str(&r.stdout);
            for line in r.stderr.split_inclusive('\n') {
                transcript.push(STDERR_MARK);
                transcript.push_str(line);
            }
        });
        transcript.push_str(&format!(
            "({commands} command(s) run{})\n",
            if failures > 0 {
                format!(", {failures} failed")
            } else {
                String::new()
            }
        ));
        (Ok(transcript), String::new())
    });
    Some(Job {
        command: Some(command),
        ..job
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A table's header, ruler and rows are one stretch; the text around it others; no
    /// byte is lost or shown twice (but the line breaks between stretches).
    #[test]
    fn a_tables_lines_are_one_stretch_of_the_transcript() {
        let text = "az> az sql server list -o table\nName    Location\n------  --------\nsql-a   eastus\nsql-b   westus\naz> az sql db show\n{}\n";
        let b = blocks(text);
        let parts: Vec<(&str, bool)> = b.iter().map(|(r, t)| (&text[r.clone()], *t)).collect();
        assert_eq!(
            parts,
            vec![
                ("az> az sql server list -o table", false),
                (
                    "Name    Location\n------  --------\nsql-a   eastus\nsql-b   westus",
                    true
                ),
                ("az> az sql db show\n{}\n", false),
            ]
        );
        // No table: one stretch, the whole text.
        assert_eq!(blocks("a\nb\n"), vec![(0..4, false)]);
        assert_eq!(blocks(""), vec![(0..0, false)]);
        // A table at the very start and end.
        let t = "N\n-----\nx";
        assert_eq!(blocks(t), vec![(0..t.len(), true)]);
        // A line of dashes alone (a separator a command printed after nothing) is no table.
        assert!(blocks("-----\n").iter().all(|(_, t)| !t));
    }

    /// The colour the transcript draws `text` in.
    fn colour_of(job: &egui::text::LayoutJob, text: &str) -> egui::Color32 {
        let at = job.text.find(text).expect("the text is in the transcript");
        job.sections
            .iter()
            .find(|s| s.byte_range.start.0 <= at && at < s.byte_range.end.0)
            .expect("a section holds it")
            .format
            .color
    }

    #[test]
    fn the_shell_leaves_the_blades_their_room_and_shrinks_first() {
        let style = egui::Style::default();
        let min = min_height(&style);
        let useful = useful_height(&style);
        assert!((40.0..90.0).contains(&min), "title row and prompt: {min}");
        let mono = egui::TextStyle::Monospace.resolve(&style).size;
        assert!(
            useful - min >= 6.0 * mono * 1.2,
            "six lines of output: {useful}"
        );
        // 200 % on 1280x720: 285 points between the top bar and the status bar. The shell
        // opens showing its six lines (it showed two); the blades keep their title, buttons
        // and a row or two.
        let (default, max) = heights(285.0, min, useful);
        assert_eq!(default, useful);
        assert!(285.0 - max >= BLADE_MIN, "the blades keep {}", 285.0 - max);
        // 100 %: the shell opens at 240 points, and may be dragged up to leave BLADE_ROOM.
        assert_eq!(heights(660.0, min, useful), (240.0, 660.0 - BLADE_ROOM));
        // Too short for both: the shell keeps its title row and prompt.
        assert_eq!(heights(120.0, min, useful), (min, min));
        for room in [0.0, 100.0, 250.0, 285.0, 400.0, 1000.0] {
            let (d, m) = heights(room, min, useful);
            assert!(min <= d && d <= m, "{room}: {d} {m}");
            assert!(
                room - m >= BLADE_MIN || m == min,
                "{room}: the blades keep {}",
                room - m
            );
            assert!(
                d <= (room * 0.4).max(useful) || d == min,
                "{room}: opens at two fifths, or at its useful height"
            );
        }
    }

    #[test]
    fn a_powershell_line_goes_into_the_script_as_the_az_lines_of_its_changes() {
        let typed = Some("pwsh\nSet-AzKeyVaultAccessPolicy -VaultName kv -ObjectId x\nbash".into());
        assert_eq!(
            script_of(
                typed.clone(),
                vec!["az keyvault set-policy --name kv".into()]
            ),
            Some("az keyvault set-policy --name kv".into())
        );
        assert_eq!(
            script_of(typed, Vec::new()),
            Some("# PowerShell, nothing to replay: Set-AzKeyVaultAccessPolicy -VaultName kv -ObjectId x".into())
        );
        assert_eq!(
            script_of(Some("az group list".into()), Vec::new()),
            Some("az group list".into())
        );
        assert_eq!(script_of(None, vec!["az x".into()]), None);
    }

    #[test]
    fn errors_are_drawn_in_the_error_colour_and_output_in_the_text_colour() {
        let mut panel = ShellPanel::default();
        panel.transcript.push_str("az> az group list\n");
        panel.finish(
            Ok("Name    Location\n".into()),
            "WARNING: soft delete is always on\nERROR: no such group\n",
        );
        panel.finish(Err("ERROR: the shell session is unavailable\n".into()), "");
        let style = egui::Style::default();
        let job = panel.layout(&style);
        assert_eq!(job.text, panel.transcript, "every character is drawn once");
        assert_eq!(
            colour_of(&job, "Name    Location"),
            style.visuals.text_color()
        );
        assert_eq!(
            colour_of(&job, "az> az group list"),
            style.visuals.text_color()
        );
        assert_eq!(
            colour_of(&job, "ERROR: no such group"),
            style.visuals.error_fg_color
        );
        assert_eq!(
            colour_of(&job, "ERROR: the shell session"),
            style.visuals.error_fg_color
        );
        assert_eq!(
            colour_of(&job, "WARNING: soft delete"),
            style.visuals.warn_fg_color
        );
        assert!(panel.is_stderr("ERROR: no such group"));
        assert!(!panel.is_stderr("Name    Location"));
        panel.clear();
        assert!(panel.transcript.is_empty());
        assert!(
            panel
                .layout(&style)
                .sections
                .iter()
                .all(|s| s.byte_range.is_empty())
        );
    }
}

/// How a running shell job is named (the busy indicator).
const RUNNING: &str = "Running";

/// A finished shell job's History label: what it ran ("az keyvault key create …", "3
/// pasted lines"), not what it was doing.
pub fn done_label(running: &str) -> String {
    running
        .strip_prefix(RUNNING)
        .map(|rest| rest.trim_start_matches(':').trim_start())
        .filter(|rest| !rest.is_empty())
        .unwrap_or(running)
        .to_string()
}

#[cfg(test)]
mod done_label_tests {
    #[test]
    fn a_finished_shell_line_is_named_by_what_it_ran() {
        assert_eq!(
            super::done_label("Running: sim region outage --region eastus --minutes 60"),
            "sim region outage --region eastus --minutes 60"
        );
        assert_eq!(
            super::done_label("Running 3 pasted lines"),
            "3 pasted lines"
        );
        assert_eq!(super::done_label("Running"), "Running");
        assert_eq!(super::done_label("az group list"), "az group list");
    }
}
