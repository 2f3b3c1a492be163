//! Issue 23 at 200 % on 1280x720 (640x360 points): everything fits and stays usable — a
//! blade under an open Cloud Shell, every blade beside the navigator, the presenter view's
//! picture beside a blade.

use crate::console::{app_at_200, fits, go_to};
use crate::kit::*;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use tde_console::ui::ConsoleApp;

/// The lowest widget labelled `label` (the Cloud Shell's title row is below the top bar's
/// button of the same name).
fn lowest(h: &Harness<'static, ConsoleApp>, label: &str) -> egui::Rect {
    h.get_all_by_label(label)
        .map(|n| n.rect())
        .max_by(|a, b| a.min.y.total_cmp(&b.min.y))
        .unwrap_or_else(|| panic!("no widget labelled '{label}'"))
}

/// Found at 200 % on 1280x720 (issue 23): with the Cloud Shell open, a server blade kept
/// about 95 points — its title and button row — and its body was scrolled away under the
/// shell. The shell now opens at what leaves the blades their room, shrinks first, and can
/// be minimised and maximised as the portal's.
#[test]
fn at_200_percent_a_blade_stays_usable_under_the_cloud_shell() {
    let mut h = app_at_200();
    go_to(&mut h, "sql-contoso-us");
    click(&mut h, ">_ Cloud Shell");
    h.run_steps(4);
    let screen = h.ctx.content_rect();
    let shell_top = lowest(&h, ">_ Cloud Shell").min.y;
    assert!(
        shell_top > screen.min.y + 100.0,
        "the shell is below the blades"
    );
    // The shell's prompt is on screen and takes a line.
    let prompt = fits(&h, "az>");
    assert!(prompt.min.y > shell_top, "the prompt is in the shell");
    // The blade's title, its buttons and its Essentials are above the shell, in order.
    let title = fits(&h, "sql-contoso-us");
    let tde = fits(&h, "Transparent data encryption");
    let essentials = fits(&h, "Essentials");
    let kind = fits(&h, "Kind");
    for (what, r) in [
        ("the TDE button", tde),
        ("Essentials", essentials),
        ("the first property", kind),
    ] {
        assert!(
            r.max.y <= shell_top + 0.5,
            "{what} at {r:?} is under the shell (its top at {shell_top})"
        );
    }
    assert!(
        title.max.y <= tde.min.y + 0.5 && tde.max.y <= essentials.min.y + 0.5,
        "the title {title:?} and the body {tde:?} do not overlap"
    );
    // The blade's body button answers a click (it is not under the shell).
    click(&mut h, "Transparent data encryption");
    assert_eq!(h.state().blades.len(), 2, "the TDE blade opened");
    // Its × (above the shell's) closes it again.
    h.get_all_by_label("×")
        .min_by(|a, b| a.rect().min.y.total_cmp(&b.rect().min.y))
        .expect("the blade's ×")
        .click();
    h.run_steps(3);
    assert_eq!(h.state().blades.len(), 1);
    // The prompt takes a command and runs it.
    h.get_by_label("az>").click();
    h.run_steps(1);
    h.get_by_label("az>")
        .type_text("az sql server list -o table");
    h.key_press(egui::Key::Enter);
    wait_until(&mut h, "the shell's command", |app| !app.busy());
    assert!(
        has(&h, "sql-contoso-us2"),
        "the transcript shows the answer"
    );

    // Minimised: the prompt stays, the blades get the room.
    click(&mut h, "Minimise shell");
    let minimised_top = lowest(&h, ">_ Cloud Shell").min.y;
    assert!(
        minimised_top > shell_top + 20.0,
        "the shell gave the blades room"
    );
    fits(&h, "az>");
    fits(&h, "Restore shell");
    // Maximised: the shell takes the blades' room; its prompt stays on screen.
    click(&mut h, "Maximise shell");
    let maximised_top = lowest(&h, ">_ Cloud Shell").min.y;
    assert!(maximised_top < shell_top - 50.0, "the shell took the room");
    fits(&h, "az>");
    assert!(
        !has(&h, "Essentials"),
        "the blades are behind the maximised shell"
    );
    click(&mut h, "Restore shell");
    let restored = lowest(&h, ">_ Cloud Shell").min.y;
    assert!(
        (restored - shell_top).abs() < 1.0,
        "Restore gives back the height it had: {restored} (was {shell_top}; minimised {minimised_top}, maximised {maximised_top})"
    );
    fits(&h, "Essentials");
    // × closes it; the top bar's button opens it again as it was.
    h.get_all_by_label("×")
        .max_by(|a, b| a.rect().min.y.total_cmp(&b.rect().min.y))
        .expect("the shell's ×")
        .click();
    h.run_steps(3);
    assert!(!h.state().shell.open, "the shell's × closed it");
    assert_eq!(h.state().blades.len(), 1, "and no blade");
}
