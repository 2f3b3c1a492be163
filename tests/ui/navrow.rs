//! The navigator's rows at 1280x720 (100 %, 150 %, 200 %): a row's name stays where it is
//! when a badge appears, and every badge is whole inside the navigator (the walk found the
//! server row's name jumping left as "4 down" appeared, and "changed" cut to "ch…").

use crate::kit::*;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use tde_console::ui::ConsoleApp;
use tde_console::ui::presentation::Look;

/// The navigator's right edge, where its contents must end: the search field spans it.
fn navigator_right(h: &Harness<'static, ConsoleApp>) -> f32 {
    h.get_by_label("Search").rect().right()
}

/// The rect of the navigator's row name `name` (a button; a blade may say it too).
fn name_rect(h: &Harness<'static, ConsoleApp>, name: &str) -> egui::Rect {
    let right = navigator_right(h);
    h.get_all_by_role_and_label(egui::accesskit::Role::Button, name)
        .map(|n| n.rect())
        .find(|r| r.left() < right)
        .unwrap_or_else(|| panic!("'{name}' in the navigator"))
}

/// Every widget labelled `badge` on the navigator's row `row` is whole inside the
/// navigator; how many there are.
fn badges_on_row(h: &Harness<'static, ConsoleApp>, row: &str, badge: &str, zoom: f32) -> usize {
    let right = navigator_right(h);
    let row = name_rect(h, row);
    let mut seen = 0;
    for r in h
        .query_all_by_label(badge)
        .map(|n| n.rect())
        .filter(|r| (r.center().y - row.center().y).abs() < row.height() / 2.0)
    {
        seen += 1;
        assert!(
            r.right() <= right + 0.5,
            "at {zoom}: the badge '{badge}' at {r:?} is cut at the navigator's edge {right}"
        );
    }
    seen
}

/// How many databases the server `name` has.
fn databases(h: &Harness<'static, ConsoleApp>, name: &str) -> usize {
    h.state()
        .ws
        .server(name)
        .expect("the server")
        .databases
        .len()
}

/// Shows the navigator again when a blade folded it away (a narrow window).
fn show_navigator(h: &mut Harness<'static, ConsoleApp>) {
    if !has(h, "Expand all") {
        click(h, "Resources");
    }
}

/// Removes sql-contoso-us's access policy in kv-contoso-us (confirmed, the vault found by
/// the search) and advances the clock until its databases go Inaccessible and the rows are
/// marked changed; the navigator shown, its search cleared.
fn lose_sql_contoso_us(h: &mut Harness<'static, ConsoleApp>) {
    // The vault's row may be below the navigator's fold: found by the search.
    type_into(h, "Search", "kv-contoso-us");
    click(h, "kv-contoso-us");
    // The server identity's policy, the second Remove, scrolled into view first.
    h.get_all_by_label("Remove")
        .nth(1)
        .expect("the server's policy")
        .scroll_to_me();
    h.run_steps(20);
    h.get_all_by_label("Remove")
        .nth(1)
        .expect("the server's policy")
        .click();
    h.run_steps(2);
    click(h, "Remove anyway");
    show_navigator(h);
    h.get_by_label("Search").click();
    h.run_steps(1);
    h.key_press(egui::Key::End);
    for _ in 0.."kv-contoso-us".len() {
        h.key_press(egui::Key::Backspace);
    }
    h.run_steps(3);
    assert!(has(h, "billing"), "the search is cleared");
    // The change propagates, the server notices: its databases go Inaccessible, and
    // the rows are marked changed for a few seconds.
    for _ in 0..6 {
        advance(h, "+10m");
        if has(h, "changed") {
            break;
        }
    }
}

#[test]
fn a_region_outage_badge_neither_moves_the_server_name_nor_is_cut() {
    for zoom in [1.0, 1.5, 2.0] {
        let mut h = demo_at(zoom, Look::Light);
        let n = databases(&h, "sql-contoso-eu");
        // The server's row in sight at 200 % too.
        click(&mut h, "Collapse all");
        click(&mut h, "+ rg-contoso-eu (westeurope)");
        let before = name_rect(&h, "sql-contoso-eu");
        assert!(has(&h, &format!("({n})")), "at {zoom}: the server's count");
        click(&mut h, "Simulate");
        click(&mut h, "Regional outage (2 h)");
        click(&mut h, "Outage of westeurope");
        h.run_steps(3);
        show_navigator(&mut h);
        assert_eq!(
            badges_on_row(&h, "sql-contoso-eu", &format!("{n} down"), zoom),
            1,
            "at {zoom}: the server's badge is shown"
        );
        assert_eq!(
            name_rect(&h, "sql-contoso-eu"),
            before,
            "at {zoom}: the server's name did not move or shrink"
        );
        if zoom < 2.0 {
            assert!(
                has(&h, &format!("({n})")),
                "at {zoom}: the server keeps its count beside the badge"
            );
        }
    }
}

#[test]
fn the_changed_and_inaccessible_badges_are_whole_inside_the_navigator() {
    for zoom in [1.0, 1.5, 2.0] {
        let mut h = demo_at(zoom, Look::Light);
        let n = databases(&h, "sql-contoso-us");
        let before = name_rect(&h, "sql-contoso-us");
        lose_sql_contoso_us(&mut h);
        assert_eq!(
            badges_on_row(&h, "sql-contoso-us", &format!("{n} !"), zoom),
            1,
            "at {zoom}: {n} lost"
        );
        assert_eq!(
            badges_on_row(&h, "sql-contoso-us", "changed", zoom),
            1,
            "at {zoom}: the server is marked changed"
        );
        for db in ["sales", "inventory", "hr"] {
            // Its mark and its "changed" badge say it.
            assert_eq!(
                badges_on_row(&h, db, "Inaccessible", zoom),
                2,
                "at {zoom}: {db}'s mark and badge"
            );
        }
        // Where the row cannot hold the name beside "4 !" and "changed" (200 %), the name
        // is shortened where it is, never moved.
        let after = name_rect(&h, "sql-contoso-us");
        assert_eq!(
            (after.left_top(), after.height()),
            (before.left_top(), before.height()),
            "at {zoom}: the server's name did not move"
        );
        if zoom < 2.0 {
            assert_eq!(after, before, "at {zoom}: nor shrink");
        }
    }
}

/// The walk at 150 %: once the navigator scrolls, its scroll bar is drawn over the rows'
/// right edge and cut "4 !", "changed" and "Online". Every badge ends left of the bar.
#[test]
fn at_150_percent_a_scrolled_navigators_badges_keep_clear_of_its_scroll_bar() {
    let zoom = 1.5;
    let mut h = demo_at(zoom, Look::Light);
    let n = databases(&h, "sql-contoso-us");
    click(&mut h, "Expand all");
    lose_sql_contoso_us(&mut h);
    assert!(has(&h, "changed"), "the rows are marked changed");
    assert!(
        has(&h, &format!("{n} !")),
        "the server's databases are lost"
    );
    // The wheel over the tree scrolls it a little: the scroll bar shows.
    let over = name_rect(&h, "sales").center();
    h.event(egui::Event::PointerMoved(over));
    h.event(egui::Event::MouseWheel {
        unit: egui::MouseWheelUnit::Point,
        delta: egui::vec2(0.0, -20.0),
        phase: egui::TouchPhase::Move,
        source: egui::MouseWheelSource::Unknown,
        modifiers: egui::Modifiers::NONE,
    });
    h.run_steps(10);
    let before = name_rect(&h, "sales");
    assert!(
        before.center().y < over.y - 5.0,
        "the navigator scrolled ({before:?}, was at {over:?})"
    );
    // The thin bar (hovering the navigator shows it) and a gap before it.
    let bar = h.ctx.global_style().spacing.scroll.floating_width;
    let edge = navigator_right(&h) - bar - 2.0;
    // The pills as painted (a badge's word is narrower than its pill).
    use tde_console::ui::widgets::{AMBER, RED};
    let right = navigator_right(&h);
    let top = h.get_by_label("Search").rect().bottom();
    let mut seen = 0;
    for c in &h.output().shapes {
        let egui::Shape::Rect(r) = &c.shape else {
            continue;
        };
        if (r.fill == RED || r.fill == AMBER) && r.rect.left() < right && r.rect.top() > top {
            seen += 1;
            assert!(
                r.rect.right() <= edge + 0.5,
                "a badge at {:?} runs under the scroll bar (left of it: {edge})",
                r.rect
            );
        }
    }
    assert!(seen >= 4, "the badges are shown ({seen})");
}
