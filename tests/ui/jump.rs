//! Issue 23, defects 1, 5 and 8 at 150 % and 200 %: what a person clicks stays where it
//! was (a layout jump under the pointer made a trainer misclick), and everything fits.

use crate::common;
use crate::kit::*;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use tde_console::persist;
use tde_console::ui::ConsoleApp;

/// The rects of every widget labelled `label`.
fn rects(h: &Harness<'static, ConsoleApp>, label: &str) -> Vec<egui::Rect> {
    h.query_all_by_label(label).map(|n| n.rect()).collect()
}

/// Restores sales from its Backups blade (open) to `name`: a change whose toast has Copy.
fn restore(h: &mut Harness<'static, ConsoleApp>, name: &str) {
    into_view(h, "New database name");
    h.get_by_label("New database name").click();
    h.run_steps(1);
    h.key_press(egui::Key::End);
    for _ in 0..30 {
        h.key_press(egui::Key::Backspace);
    }
    h.get_by_label("New database name").type_text(name);
    h.run_steps(2);
    click(h, "Restore");
    wait_until(h, "the restore", |app| !app.busy());
}

/// Found on the trainer's walk at 200 %: the toast's Copy missed two of three clicks — an
/// older toast went (or a wider one came) and the stack moved ~22 points under the
/// pointer. While the pointer is over the stack nothing in it moves, and Copy copies.
#[test]
fn a_toast_under_the_pointer_stays_put_and_its_copy_copies() {
    // Frames 50 ms apart: two changes within a toast's six seconds.
    let mut h = Harness::builder()
        .with_size(egui::vec2(1500.0, HEIGHT))
        .with_step_dt(0.05)
        .build_eframe(|_cc| {
            ConsoleApp::with_workspace(persist::demo().expect("the demo loads"), None)
                .with_keys(std::sync::Arc::new(common::FixtureKeys::new()))
        });
    h.run_steps(2);
    click(&mut h, "sales");
    click(&mut h, "Backups");
    type_into(&mut h, "Restore point (UTC)", "2026-01-02T12:00:00Z");
    restore(&mut h, "sales-first");
    let first = rects(&h, "Copy");
    assert!(
        !first.is_empty(),
        "the first restore's toast has Copy: {:?}",
        h.query_all_by_label_contains("")
            .filter_map(|n| n.accesskit_node().label())
            .collect::<Vec<_>>()
    );
    // A few seconds later a second change: its toast stacks above the first.
    restore(&mut h, "sales-second");
    let copies = rects(&h, "Copy");
    let second = *copies
        .iter()
        .filter(|r| !first.contains(r))
        .min_by(|a, b| a.min.y.total_cmp(&b.min.y))
        .expect("the second toast's Copy");
    // The pointer rests on the newest toast's Copy while the older toast's time runs out
    // and a third change toasts.
    h.hover_at(second.center());
    for _ in 0..200 {
        h.step();
        let now = rects(&h, "Copy");
        assert!(
            now.contains(&second),
            "the Copy under the pointer moved from {second:?} to {now:?}"
        );
    }
    h.hover_at(second.center());
    h.event(egui::Event::PointerButton {
        pos: second.center(),
        button: egui::PointerButton::Primary,
        pressed: true,
        modifiers: egui::Modifiers::default(),
    });
    h.event(egui::Event::PointerButton {
        pos: second.center(),
        button: egui::PointerButton::Primary,
        pressed: false,
        modifiers: egui::Modifiers::default(),
    });
    let copied = copied_text(&mut h).expect("Copy put text on the clipboard");
    assert!(
        copied.starts_with("az sql db restore --dest-name sales-second"),
        "{copied}"
    );
}

/// Found on the trainer's walk at 200 %: a tall toast (the grant's az line) was cut after
/// "--key-permissions" though the window had room for all of it. Every line shows, inside
/// the window, at 200 % on 1280x720.
#[test]
fn at_200_percent_the_grants_toast_shows_its_whole_az_line() {
    let mut h = demo_at(2.0, tde_console::ui::presentation::Look::Light);
    crate::console::go_to(&mut h, "sql-contoso-eu");
    choose_eu_tde_key(&mut h);
    click(&mut h, "Save");
    wait_until(&mut h, "the save", |app| !app.busy());
    click(
        &mut h,
        "Grant the server's identity access to the key (get, wrapKey, unwrapKey)",
    );
    let screen = h.ctx.content_rect();
    for _ in 0..10 {
        h.step();
        let line = h
            .query_all_by_label_contains("az keyvault set-policy")
            .next()
            .expect("the grant's toast shows its az line");
        let text = line.accesskit_node().value().unwrap_or_default();
        assert!(
            text.ends_with("--key-permissions get wrapKey unwrapKey"),
            "{text}"
        );
        let r = line.rect();
        assert!(
            r.min.y >= 40.0 && r.max.y <= screen.max.y - 20.0,
            "the az line {r:?} is inside the window {screen:?}"
        );
    }
}

/// Found on the trainer's walk at 200 %: on an Inaccessible database, clicking Test
/// connection moved the sales blade ~108 points under the pointer (its refusal showed
/// beside the recovery wizard, above the button). The button stays where it was clicked.
#[test]
fn at_200_percent_test_connection_stays_under_the_pointer() {
    let mut h = demo_at(2.0, tde_console::ui::presentation::Look::Light);
    let principal = crate::fit::server_principal(&h);
    crate::fit::shell(
        &mut h,
        &format!("az keyvault delete-policy --name kv-contoso-us --object-id {principal}"),
    );
    click(&mut h, ">_ Cloud Shell");
    advance(&mut h, "+10m");
    advance(&mut h, "+10m");
    crate::console::go_to(&mut h, "sales");
    assert!(has(&h, "Inaccessible"), "sales lost its key");
    into_view(&mut h, "Test connection");
    let before = h.get_by_label("Test connection").rect();
    h.get_by_label("Test connection").click();
    for _ in 0..10 {
        h.step();
        let now = h.get_by_label("Test connection").rect();
        assert_eq!(now, before, "Test connection moved under the pointer");
    }
    assert!(
        has(&h, "Test connection to 'sales' failed"),
        "the refusal shows"
    );
}

/// Found on the trainer's walk at 200 %: the TDE blade's Save moved after a click (a
/// refusal's offer to grant the identity appeared above it: 89 points). A refused Save
/// stays where it was clicked; the offer follows it.
#[test]
fn at_200_percent_tde_save_stays_under_the_pointer() {
    let mut h = demo_at(2.0, tde_console::ui::presentation::Look::Light);
    crate::console::go_to(&mut h, "sql-contoso-eu");
    choose_eu_tde_key(&mut h);
    into_view(&mut h, "Save");
    let before = h.get_by_label("Save").rect();
    h.get_by_label("Save").click();
    wait_until(&mut h, "the save", |app| !app.busy());
    assert!(has(&h, "lacks"), "the refusal offers the grant");
    assert_eq!(
        h.get_by_label("Save").rect(),
        before,
        "a refused Save moved"
    );
}
