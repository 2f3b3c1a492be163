//! The kittest helpers the UI test files share: the demo app at 1500x990, and clicking,
//! typing, waiting and looking by label as a person would.

#![allow(dead_code)]

use crate::common;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use tde_console::persist;
use tde_console::ui::ConsoleApp;

/// The window's height: 950 points of blades plus the status bar.
pub const HEIGHT: f32 = 990.0;

pub fn app() -> Harness<'static, ConsoleApp> {
    Harness::builder()
        .with_size(egui::vec2(1500.0, HEIGHT))
        .build_eframe(|_cc| {
            // Key material comes from the pre-generated test keys, as it would from the OS.
            ConsoleApp::with_workspace(persist::demo().expect("the demo loads"), None)
                .with_keys(std::sync::Arc::new(common::FixtureKeys::new()))
        })
}

/// The demo in a 1280x720 window (a trainer's projector) at `zoom` in `look`.
pub fn demo_at(
    zoom: f32,
    look: tde_console::ui::presentation::Look,
) -> Harness<'static, ConsoleApp> {
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 720.0))
        .build_eframe(move |_cc| {
            let mut app =
                ConsoleApp::with_workspace(persist::demo().expect("the demo loads"), None)
                    .with_keys(std::sync::Arc::new(common::FixtureKeys::new()));
            app.presentation.set(zoom, look);
            app
        });
    h.run_steps(4);
    h
}

/// In kv-contoso-us's blade, removes sql-contoso-us's access policy (confirmed) and lets
/// 20 simulated minutes pass: the change propagates and the server notices.
pub fn remove_server_policy_and_wait(h: &mut Harness<'static, ConsoleApp>) {
    click(h, "kv-contoso-us");
    let removes: Vec<_> = h.get_all_by_label("Remove").collect();
    removes[1].click();
    h.run_steps(2);
    click(h, "Remove anyway");
    h.run_steps(2);
    advance(h, "+10m");
    advance(h, "+10m");
}

/// From sql-contoso-eu's blade: its Transparent data encryption blade, Customer-managed key,
/// kv-contoso-eu's eu-tde-key chosen (not saved).
pub fn choose_eu_tde_key(h: &mut Harness<'static, ConsoleApp>) {
    for label in [
        "Transparent data encryption",
        "Customer-managed key",
        "Key vault",
        "kv-contoso-eu (westeurope)",
        "Key",
        "eu-tde-key (RSA-HSM 2048)",
    ] {
        click(h, label);
    }
}

/// The Activity log's newest event shown now.
pub fn newest_activity_event(
    h: &Harness<'static, ConsoleApp>,
) -> tde_console::model::ActivityLogEntry {
    let now = h.state().ws.now();
    h.state()
        .ws
        .activity_log
        .iter()
        .rev()
        .find(|e| e.visible(now))
        .cloned()
        .expect("an event")
}

/// Where the Activity log blade's row of `event` is: its handle is its time, a button (the
/// top bar's clock may read the same).
pub fn activity_row(
    h: &Harness<'static, ConsoleApp>,
    event: &tde_console::model::ActivityLogEntry,
) -> egui::Rect {
    let time = event.time.to_display();
    h.get_all_by_role_and_label(egui::accesskit::Role::Button, &time)
        .next()
        .expect("the event's row")
        .rect()
}

/// Clicks the Activity log blade's row of `event` (its time).
pub fn click_activity_row(
    h: &Harness<'static, ConsoleApp>,
    event: &tde_console::model::ActivityLogEntry,
) {
    let time = event.time.to_display();
    h.get_all_by_role_and_label(egui::accesskit::Role::Button, &time)
        .next()
        .expect("the event's row")
        .click();
}

/// Steps frames until `done` holds (background jobs finish on worker threads).
pub fn wait_until(
    h: &mut Harness<'static, ConsoleApp>,
    what: &str,
    done: impl Fn(&ConsoleApp) -> bool,
) {
    for _ in 0..500 {
        h.step();
        if done(h.state()) {
            h.run_steps(2);
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("timed out waiting for {what}");
}

/// Whether some widget's label contains `text`.
pub fn has(h: &Harness<'static, ConsoleApp>, text: &str) -> bool {
    h.query_all_by_label_contains(text).next().is_some()
}

/// Clicks a clock button ("+10m", "+1h"...) and waits for the advance, which runs on a
/// worker thread as every advance does.
pub fn advance(h: &mut Harness<'static, ConsoleApp>, label: &str) {
    click(h, label);
    wait_until(h, "the clock advance", |app| !app.busy());
}

pub fn click(h: &mut Harness<'static, ConsoleApp>, label: &str) {
    // Scrolled into view first when it is out of sight, as a person would (a blade may be
    // taller than the window; the status bar takes the bottom 40 points).
    into_view(h, label);
    h.get_all_by_label(label)
        .next()
        .unwrap_or_else(|| panic!("no widget labelled '{label}'"))
        .click();
    // A newly opened blade settles its layout over a few frames.
    h.run_steps(5);
}

/// Scrolls the first widget labelled `label` into the window when it is out of sight (above,
/// or under the status bar's 40 points at the bottom, whatever the window and zoom) and
/// waits until the scroll's animation has ended, so a click lands where it is.
pub fn into_view(h: &mut Harness<'static, ConsoleApp>, label: &str) {
    let rect = |h: &Harness<'static, ConsoleApp>| {
        h.get_all_by_label(label)
            .next()
            .unwrap_or_else(|| panic!("no widget labelled '{label}'"))
            .rect()
    };
    let r = rect(h);
    let bottom = h.ctx.content_rect().max.y - 40.0;
    if r.min.y >= 0.0 && r.max.y <= bottom {
        return;
    }
    h.get_all_by_label(label)
        .next()
        .unwrap_or_else(|| panic!("no widget labelled '{label}'"))
        .scroll_to_me();
    // The animation starts a frame or two later: settled is five frames without a move.
    let mut last = rect(h);
    let mut still = 0;
    for _ in 0..120 {
        h.step();
        let now = rect(h);
        still = if now == last { still + 1 } else { 0 };
        if still >= 5 {
            break;
        }
        last = now;
    }
}

pub fn type_into(h: &mut Harness<'static, ConsoleApp>, label: &str, text: &str) {
    into_view(h, label);
    h.get_by_label(label).click();
    h.run_steps(1);
    h.get_by_label(label).type_text(text);
    h.run_steps(2);
}

/// What the last click put on the clipboard (egui hands it to the platform within a few
/// frames), or `None`.
pub fn copied_text(h: &mut Harness<'static, ConsoleApp>) -> Option<String> {
    for _ in 0..3 {
        h.step();
        let copied = h
            .output()
            .platform_output
            .commands
            .iter()
            .find_map(|c| match c {
                egui::OutputCommand::CopyText(t) => Some(t.clone()),
                _ => None,
            });
        if copied.is_some() {
            return copied;
        }
    }
    None
}
