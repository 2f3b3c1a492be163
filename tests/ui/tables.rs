//! Tables in narrowed blades at 1280x720 (issue 23's walks at 100 %, 150 % and 200 %): every
//! column's text is whole where it is painted (no table wider than its blade, no column cut
//! to "SU"), a click selects only the row clicked, and the navigator gives way when the
//! side panels would squeeze the blades.

use crate::kit::*;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use tde_console::ui::ConsoleApp;
use tde_console::ui::presentation::Look;

/// The painted texts `pick` chooses: (text, where it is drawn, the clip it is drawn in).
fn painted(
    h: &Harness<'static, ConsoleApp>,
    pick: impl Fn(&str) -> bool,
) -> Vec<(String, egui::Rect, egui::Rect)> {
    h.output()
        .shapes
        .iter()
        .filter_map(|c| {
            let egui::Shape::Text(t) = &c.shape else {
                return None;
            };
            let text = t.galley.text();
            pick(text).then(|| (text.to_string(), t.visual_bounding_rect(), c.clip_rect))
        })
        .collect()
}

/// The painted text is whole from left to right: inside its clip, and the clip inside the
/// window (a row under the blade's fold may be cut at the bottom; that is scrolling).
fn whole_sideways(
    h: &Harness<'static, ConsoleApp>,
    what: &str,
    (text, r, clip): &(String, egui::Rect, egui::Rect),
) {
    let window = h.ctx.content_rect();
    assert!(
        r.min.x >= clip.min.x - 0.5 && r.max.x <= clip.max.x + 0.5,
        "{what}: '{text}' at {r:?} is cut by its clip {clip:?}"
    );
    assert!(
        clip.max.x <= window.max.x + 0.5,
        "{what}: '{text}' is drawn in {clip:?}, past the window {window:?}"
    );
}

/// Whether the button whose label contains `label` shows itself selected.
fn selected(h: &Harness<'static, ConsoleApp>, label: &str) -> bool {
    h.query_all_by_label_contains(label)
        .find(|n| n.accesskit_node().role() == egui::accesskit::Role::Button)
        .unwrap_or_else(|| panic!("a button '{label}'"))
        .accesskit_node()
        .toggled()
        == Some(egui::accesskit::Toggled::True)
}

/// The walk at 200 % (light): inventory on sql-contoso-us2 > Geo-replication, a click on
/// the Secondary row, then View > Serve vaults on localhost. The State column was cut to
/// "SU", the lag chip hidden, the table scrolled sideways inside the blade, and both rows
/// were highlighted. Now the columns give way (the rows stack) and only the clicked row is
/// selected.
#[test]
fn at_200_percent_beside_the_vaults_panel_geo_replication_fits_and_selects_one_row() {
    let mut h = demo_at(2.0, Look::Light);
    type_into(&mut h, "Search", "inventory");
    h.get_all_by_role_and_label(egui::accesskit::Role::Button, "inventory")
        .nth(1)
        .expect("sql-contoso-us2's inventory in the navigator")
        .click();
    h.run_steps(5);
    click(&mut h, "Geo-replication");
    h.get_all_by_label("Secondary")
        .last()
        .expect("the Secondary row")
        .click();
    h.run_steps(4);
    assert!(has(&h, "\"linkType\": \"GEO\""), "the link's JSON opened");
    assert!(
        selected(&h, "sql-contoso-us2/inventory"),
        "the clicked (Secondary) row is selected"
    );
    assert!(
        !selected(&h, "sql-contoso-us/inventory"),
        "the Primary row was not clicked: it is not selected"
    );
    click(&mut h, "View");
    click(&mut h, "Serve vaults on localhost");
    h.run_steps(6);
    assert!(h.state().serving.endpoint.is_some());
    assert!(has(&h, "Vaults on localhost"));
    // The rows scrolled into view as a hand would.
    into_view(&mut h, "Secondary");
    h.run_steps(4);
    let states = painted(&h, |t| ["SEEDING", "CATCH_UP", "SUSPENDED"].contains(&t));
    assert_eq!(
        states.len(),
        1,
        "the secondary's state is shown: {states:?}"
    );
    let lag = painted(&h, |t| {
        t == "caught up" || t == "not replicating" || t.ends_with("write(s) in flight")
    });
    assert_eq!(lag.len(), 1, "the secondary's lag is shown: {lag:?}");
    let roles = painted(&h, |t| t == "Primary" || t == "Secondary");
    assert_eq!(roles.len(), 2, "both roles: {roles:?}");
    for t in states.iter().chain(&lag).chain(&roles) {
        whole_sideways(&h, "beside the vaults' panel", t);
    }
    assert!(selected(&h, "sql-contoso-us2/inventory"));
    assert!(!selected(&h, "sql-contoso-us/inventory"));
    h.state_mut().serving.endpoint = None;
}

/// The badge words of the Backups blade's "Server can use it" column.
const CAN_USE: [&str; 9] = [
    "Reachable",
    "Not linked",
    "Missing",
    "Disabled",
    "Deleted",
    "Expired",
    "Not yet active",
    "No permission",
    "Vault gone",
];

/// The walk at 200 %: the Backups blade's "Protector intervals" table was wider than the
/// blade, its last column (whether the server can use the key) off-screen. At 100, 150 and
/// 200 % every interval's key and whether the server can use it are whole in view.
#[test]
fn the_protector_intervals_are_whole_at_100_150_and_200_percent() {
    for zoom in [1.0, 1.5, 2.0] {
        let mut h = demo_at(zoom, Look::Light);
        let intervals = h
            .state()
            .ws
            .server("sql-contoso-us")
            .and_then(|s| s.database("sales"))
            .expect("sales")
            .protector_history
            .len();
        assert!(intervals >= 2, "the demo's sales changed protector");
        h.get_all_by_role_and_label(egui::accesskit::Role::Button, "sales")
            .next()
            .expect("sales in the navigator")
            .click();
        h.run_steps(5);
        click(&mut h, "Backups");
        // The section after the table, scrolled into view: the table's rows are above it.
        into_view(&mut h, "Restore (point in time)");
        h.run_steps(4);
        // Above that heading (Recent backups, below, names keys too).
        let end = h.get_by_label("Restore (point in time)").rect().top();
        // The blade's right edge: its × beside Maximise.
        let maximise = h.get_by_label("Maximise").rect();
        let edge = h
            .get_all_by_label("×")
            .map(|n| n.rect())
            .find(|r| {
                r.left() > maximise.right() && (r.center().y - maximise.center().y).abs() < 10.0
            })
            .expect("the blade's ×")
            .right();
        let is_key =
            |t: &str| t.starts_with("Service-managed key") || t.starts_with("kv-contoso-us /");
        // Every interval's badge and key lie inside the blade, whichever is in view now.
        for (what, pick) in [
            (
                "whether the server can use it",
                &(|t: &str| CAN_USE.contains(&t)) as &dyn Fn(&str) -> bool,
            ),
            ("its key", &is_key),
        ] {
            let rects: Vec<egui::Rect> = h
                .query_all(
                    egui_kittest::kittest::by().predicate(move |n| {
                        n.label().or_else(|| n.value()).is_some_and(|l| pick(&l))
                    }),
                )
                .map(|n| n.rect())
                .filter(|r| r.bottom() <= end)
                .collect();
            // A badge's pill and its word are one rect.
            let mut rects = rects;
            rects.dedup();
            assert_eq!(
                rects.len(),
                intervals,
                "at {zoom}: each interval shows {what}: {rects:?}"
            );
            for r in rects {
                assert!(
                    r.right() <= edge + 0.5,
                    "at {zoom}: {what} at {r:?} runs past the blade's edge {edge}"
                );
            }
        }
        // What is painted in view is whole (no sideways scroll hides a part of it).
        let mut seen = 0;
        for t in painted(&h, |t| CAN_USE.contains(&t) || is_key(t)) {
            if t.1.bottom() <= end {
                seen += 1;
                whole_sideways(&h, &format!("at {zoom}"), &t);
            }
        }
        assert!(seen >= 2, "at {zoom}: a row of the table is in view");
        for t in painted(&h, |t| {
            ["From", "To", "Key", "Server can use it"].contains(&t)
        }) {
            whole_sideways(&h, &format!("at {zoom}, a heading"), &t);
        }
    }
}

/// The walk at 150 % (dark): with the navigator shown by hand (Resources), the vaults'
/// panel opened beside the older version of tde-protector left that blade ~285 points,
/// each date one word per line. The navigator gives way, as it does when a panel opens
/// on a narrow window.
#[test]
fn at_150_percent_serving_the_vaults_folds_the_navigator_shown_by_hand() {
    let mut h = demo_at(1.5, Look::Dark);
    // Resources off and on: shown by hand.
    click(&mut h, "Resources");
    assert!(!has(&h, "Expand all"));
    click(&mut h, "Resources");
    assert!(has(&h, "Expand all"), "the navigator is shown");
    click(&mut h, "kv-contoso-us");
    click(&mut h, "tde-protector");
    let old = h
        .query_all_by_label_contains("a83d7e35de18")
        .next()
        .and_then(|n| n.accesskit_node().label())
        .expect("the older version is listed");
    click(&mut h, &old);
    assert!(
        has(&h, "Expand all"),
        "the navigator stays while there is room"
    );
    click(&mut h, "View");
    click(&mut h, "Serve vaults on localhost");
    h.run_steps(6);
    assert!(h.state().serving.endpoint.is_some());
    assert!(
        !has(&h, "Expand all"),
        "the navigator gave way to the blades beside the vaults' panel"
    );
    let dates = painted(&h, |t| t.starts_with("2026-0") && t.ends_with("UTC"));
    assert!(!dates.is_empty(), "the version's dates are shown");
    for (text, r, _) in &dates {
        assert!(
            r.height() < 30.0,
            "'{text}' is one line, not one word per line ({r:?})"
        );
    }
    // The person may still show it by hand.
    click(&mut h, "Resources");
    assert!(has(&h, "Expand all"));
    h.state_mut().serving.endpoint = None;
}
