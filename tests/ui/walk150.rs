//! A trainer's walk at 150 % on 1280x720 (853x480 points): the Cloud Shell under a
//! multi-line paste and long output lines, Esc and the topmost panel, History's bookmark
//! field, the az list of Notifications after a rewind, and where the toasts sit.

use crate::console::{app_at_zoom, fits};
use crate::kit::*;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use tde_console::ui::ConsoleApp;

/// The top of the status bar (its "Ready · …" line).
fn status_bar_top(h: &Harness<'static, ConsoleApp>) -> f32 {
    h.query_all_by_label_contains("Ready · timing profile")
        .next()
        .expect("the status bar")
        .rect()
        .min
        .y
}

/// The lowest widget labelled `label` (the Cloud Shell's title row is below the top bar's
/// button of the same name).
fn lowest(h: &Harness<'static, ConsoleApp>, label: &str) -> egui::Rect {
    h.get_all_by_label(label)
        .map(|n| n.rect())
        .max_by(|a, b| a.min.y.total_cmp(&b.min.y))
        .unwrap_or_else(|| panic!("no widget labelled '{label}'"))
}

const PASTE: &str = "EXTRA=$(az sql db list -s sql-contoso-us2 -g rg-contoso-us --query \"[?starts_with(name,'app-')].name | [498:]\" -o tsv)\naz sql failover-group update --name fg-contoso --server sql-contoso-us2 -g rg-contoso-us --remove-db $EXTRA\naz sql failover-group set-primary --name fg-contoso --server sql-contoso-us -g rg-contoso-us -o none";

/// Found at 150 % (light): a 3-line paste into Cloud Shell's prompt pushed the shell's
/// title row (Bash, PowerShell, Clear, Minimise, Maximise, ×) out of sight and hid the
/// input's third line under the status bar until Enter. The input now grows inside the
/// panel (the transcript above it gives the room) and every line of it shows.
#[test]
fn at_150_percent_a_three_line_paste_keeps_the_shell_header_and_every_input_line() {
    let mut h = app_at_zoom(1.5);
    click(&mut h, ">_ Cloud Shell");
    h.run_steps(4);
    let header_before = lowest(&h, ">_ Cloud Shell");
    h.get_by_label("az>").click();
    h.run_steps(1);
    h.event(egui::Event::Paste(PASTE.into()));
    h.run_steps(4);
    assert_eq!(h.state().shell.input, PASTE, "the paste is kept");
    let bottom = status_bar_top(&h);
    let header = lowest(&h, ">_ Cloud Shell");
    assert!(
        (header.min.y - header_before.min.y).abs() < 1.0,
        "the shell's title row stays where it was: {header:?} (was {header_before:?})"
    );
    for label in [
        "Bash",
        "PowerShell",
        "Clear",
        "Minimise shell",
        "Maximise shell",
    ] {
        let r = fits(&h, label);
        assert!(
            r.y_range().contains(header.center().y) && r.max.y <= bottom,
            "'{label}' at {r:?} is in the shell's title row"
        );
    }
    let close = lowest(&h, "×");
    assert!(close.max.y <= bottom && close.y_range().contains(header.center().y));
    let input = h.get_by_label("az>").rect();
    let screen = h.ctx.content_rect();
    assert!(
        screen.contains_rect(input) && input.max.y <= bottom + 0.5,
        "the input {input:?} is inside the window and above the status bar (at {bottom})"
    );
    assert!(
        input.min.y >= header.max.y,
        "the input {input:?} is below the title row {header:?}"
    );
    // All three lines (the first wraps) show: the input is at least three rows tall.
    let row = 1.5 * 12.0;
    assert!(input.height() >= 3.0 * row, "every line shows: {input:?}");
    assert!(has(&h, "3 lines: Enter runs them one after another"));
    let hint = h
        .query_all_by_label_contains("3 lines: Enter runs")
        .next()
        .unwrap()
        .rect();
    assert!(
        hint.max.y <= bottom + 0.5,
        "the hint {hint:?} is above the status bar"
    );
}

/// Found at 150 % (shot 121): a long output line (az's "Did you mean" after a misspelt
/// command) was cut at the panel's edge and needed sideways scrolling. Output wraps to the
/// panel's width now, as a terminal's, still in monospace.
#[test]
fn at_150_percent_a_long_shell_output_line_wraps_inside_the_panel() {
    let mut h = app_at_zoom(1.5);
    click(&mut h, ">_ Cloud Shell");
    h.get_by_label("az>").click();
    h.run_steps(1);
    h.get_by_label("az>").type_text("az sql db tde shw");
    h.key_press(egui::Key::Enter);
    wait_until(&mut h, "the shell's command", |app| !app.busy());
    let transcript = h.state().shell.transcript.clone();
    let line = transcript
        .lines()
        .find(|l| l.contains("Did you mean"))
        .expect("az suggests the command");
    let screen = h.ctx.content_rect();
    let font = egui::TextStyle::Monospace.resolve(&h.ctx.global_style());
    let line_width = h.ctx.fonts_mut(|f| {
        f.layout_no_wrap(line.to_string(), font.clone(), egui::Color32::WHITE)
            .size()
            .x
    });
    assert!(
        line_width > screen.width(),
        "the line is wider than the window: {line_width}"
    );
    let output = h
        .query_all_by_label_contains("Did you mean")
        .next()
        .expect("the transcript")
        .rect();
    assert!(
        output.max.x <= screen.max.x && output.width() < screen.width(),
        "the transcript {output:?} wraps inside the window {screen:?}"
    );
    assert!(
        !h.state().shell.transcript.is_empty() && has(&h, line),
        "every word of the line is kept"
    );
}

/// Found at 150 % (light and high contrast): with a blade open and the Notifications panel
/// over it, Esc closed the blade hidden behind the panel and left the panel open. Esc
/// closes the topmost thing first: a menu, then Notifications, then a side panel, then
/// the blade.
#[test]
fn at_150_percent_esc_closes_the_topmost_thing_first() {
    let mut h = app_at_zoom(1.5);
    crate::console::go_to(&mut h, "sql-contoso-us");
    assert_eq!(h.state().blades.len(), 1, "a blade is open");
    // A menu closes itself; the blade stays.
    click(&mut h, "View");
    assert!(egui::Popup::is_any_open(&h.ctx), "the View menu is open");
    h.key_press(egui::Key::Escape);
    h.run_steps(2);
    assert!(!egui::Popup::is_any_open(&h.ctx), "Esc closed the menu");
    assert_eq!(h.state().blades.len(), 1, "and left the blade");
    // Notifications over the blade: Esc closes the panel, not the blade.
    click(&mut h, "Notifications");
    assert!(h.state().show_notifications);
    h.key_press(egui::Key::Escape);
    h.run_steps(2);
    assert!(!h.state().show_notifications, "Esc closed Notifications");
    assert_eq!(h.state().blades.len(), 1, "the blade behind it stays");
    // A side panel next.
    click(&mut h, "Edit");
    click(&mut h, "History and bookmarks…");
    assert!(h.state().show_history);
    h.key_press(egui::Key::Escape);
    h.run_steps(2);
    assert!(!h.state().show_history, "Esc closed History");
    assert_eq!(h.state().blades.len(), 1, "the blade stays");
    // Then the blade.
    h.key_press(egui::Key::Escape);
    h.run_steps(2);
    assert!(h.state().blades.is_empty(), "Esc closed the blade");
}
