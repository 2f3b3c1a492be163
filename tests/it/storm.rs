//! Issue 23, defect 6: the failover storm's figures come from one recorded timeline and
//! agree with the clock; one notification per failover, with its count.

use crate::common;

use tde_console::model::{FailoverRun, NotificationLevel, Workspace};
use tde_console::scenario::{self, Scenario};
use tde_console::shell::Shell;

fn storm() -> (Scenario, Workspace, Shell) {
    let s = scenario::shipped()
        .into_iter()
        .find(|(id, _)| id == "failover-storm")
        .and_then(|(_, s)| s.ok())
        .expect("the storm scenario ships");
    let ws = scenario::start(&s, common::FixtureKeys::boxed()).expect("the scenario starts");
    (s, ws, Shell::new().with_keys(common::FixtureKeys::boxed()))
}

fn run(sh: &mut Shell, ws: &mut Workspace, lines: &[String]) {
    let out = sh.run_script(ws, &lines.join("\n"), false);
    assert_eq!(out.failures, 0, "{}", out.stderr);
}

fn last_run(ws: &Workspace) -> FailoverRun {
    ws.continuity
        .failover_group("fg-contoso")
        .and_then(|g| g.last_failover.clone())
        .expect("the failover was recorded")
}

#[test]
fn the_storm_takes_simulated_time_and_every_figure_agrees_with_the_clock() {
    let (s, mut ws, mut sh) = storm();
    let before = ws.now();
    let notes_before = ws.notifications.len();
    let journal_before = ws.journal.len();
    run(&mut sh, &mut ws, &s.steps[0].solution);
    let r = last_run(&ws);
    assert_eq!(r.databases(), 1102);
    assert_eq!(r.started, before);
    assert_eq!(r.to_server, "sql-contoso-us2");
    // Beyond 1,000 unwraps per 10 s the vault throttles: more than one window.
    assert!(r.took().0 > 10, "took {}", r.took().human());
    // The call returned when the last database had opened: the clock shows it.
    assert_eq!(ws.now(), r.completed());
    // The timeline is the vault's: no more than 1,000 open within the first window, all
    // at the end, never decreasing.
    assert!(r.opened_by(before + tde_console::model::Duration::seconds(9)) <= 1000);
    assert_eq!(r.opened_by(r.completed()), 1102);
    let steps = r.steps();
    assert!(
        steps
            .windows(2)
            .all(|w| w[1].0 >= w[0].0 && w[1].1 >= w[0].1)
    );
    assert_eq!(steps.last().map(|p| p.1), Some(1102.0));
    // The throttled count is the journal's.
    let throttled = ws
        .journal
        .requests()
        .iter()
        .skip(journal_before)
        .filter(|q| q.status == 429)
        .count();
    assert!(throttled > 0);
    assert_eq!(r.throttled as usize, throttled);
    // The vault's Metrics over the whole scenario show those 429s and no others (the
    // seeding stayed within the limit), as the hint says: 1,000 open in the first window;
    // the server's requests in flight (one per worker) were throttled, each backed off 1,
    // 2, 4, 8 s on its own, and the last 102 opened in the next window.
    let m = tde_console::service::requests::metrics(&ws, "kv-contoso-us2", None, ws.now());
    let metric_429: u32 = m.points.iter().map(|p| p.throttled).sum();
    assert_eq!(metric_429, r.throttled, "Metrics and the blade agree");
    // The vault's Logs (its audit log) list each of them, as the hint says.
    let logged_429 = tde_console::service::diagnostics::audit_log(&ws, "kv-contoso-us2")
        .iter()
        .filter(|q| q.status == 429 && q.operation == "KeyUnwrap")
        .count();
    assert_eq!(logged_429, r.throttled as usize, "Logs and the blade agree");
    assert_eq!(r.opened_by(before), 1000);
    let workers = tde_console::model::Workers::COUNT as u32;
    assert_eq!(
        r.throttled,
        workers * 4,
        "each worker's request retried on its own"
    );
    assert_eq!(r.took().0, 15);
    assert!(
        s.steps[0]
            .hints
            .iter()
            .any(|h| h.contains("the last 102 databases opened 15 s later")),
        "the hint tells the numbers the blade shows"
    );
    // One notification for the whole failover, with its count and the same duration.
    let fresh: Vec<_> = ws.notifications.iter().skip(notes_before).collect();
    let failovers: Vec<_> = fresh
        .iter()
        .filter(|n| n.title.contains("Failover"))
        .collect();
    assert_eq!(failovers.len(), 1, "{fresh:#?}");
    let n = failovers[0];
    assert_eq!(n.level, NotificationLevel::Success);
    assert!(
        n.text
            .starts_with("Failover of fg-contoso: 1,102 database(s) opened on sql-contoso-us2 in "),
        "{}",
        n.text
    );
    assert!(n.text.contains(&r.took().human()), "{}", n.text);
    assert_eq!(n.time, r.completed());
}

#[test]
fn the_fail_back_within_the_guidance_fits_one_window_and_is_its_own_figure() {
    let (s, mut ws, mut sh) = storm();
    run(&mut sh, &mut ws, &s.steps[0].solution);
    let first = last_run(&ws);
    let notes_before = ws.notifications.len();
    run(&mut sh, &mut ws, &s.steps[1].solution);
    let g = ws.continuity.failover_group("fg-contoso").unwrap();
    assert_eq!(g.databases.len(), 500);
    let r = last_run(&ws);
    assert_ne!(r, first);
    assert_eq!(r.databases(), 500, "only this failover's databases count");
    assert_eq!(r.to_server, "sql-contoso-us");
    assert!(r.started >= first.completed());
    assert!(r.took().0 < 10, "took {}", r.took().human());
    assert_eq!(r.throttled, 0);
    assert_eq!(ws.now(), r.completed());
    let failovers = ws
        .notifications
        .iter()
        .skip(notes_before)
        .filter(|n| n.title.contains("Failover"))
        .count();
    assert_eq!(failovers, 1);
}

#[test]
fn a_failover_not_waited_for_completes_while_the_clock_plays() {
    let (_, mut ws, mut sh) = storm();
    let start = ws.now();
    // As an automatic failover does: the service's operation, without waiting for it.
    tde_console::service::failover_group::set_group_primary(
        &mut ws,
        "fg-contoso",
        "sql-contoso-us2",
        false,
    )
    .unwrap();
    assert_eq!(ws.now(), start);
    let r = last_run(&ws);
    assert!(!r.complete_at(ws.now()));
    let open_now = r.opened_by(ws.now());
    assert!(open_now < 1102);
    run(&mut sh, &mut ws, &["sim clock advance 1m".to_string()]);
    assert!(r.complete_at(ws.now()));
    assert_eq!(r.opened_by(ws.now()), 1102);
}

#[test]
fn a_run_is_built_from_instants_and_summarised_with_its_figures() {
    use tde_console::model::Timestamp;
    let t0 = Timestamp(1_767_430_800); // 2026-01-03 09:00:00 UTC
    let instants = [0, 0, 3, 15, 15, 15].map(|s| Timestamp(t0.0 + s));
    let r = FailoverRun::from_instants("a", "b", false, t0, instants, 7);
    assert_eq!(r.opened, vec![(0, 2), (3, 1), (15, 3)]);
    assert_eq!(r.databases(), 6);
    assert_eq!(r.took().0, 15);
    assert_eq!(r.opened_by(Timestamp(t0.0 + 14)), 3);
    assert_eq!(r.opened_by(Timestamp(t0.0 - 1)), 0);
    assert_eq!(
        r.summary(),
        "6 database(s) opened on b in 15s of simulated time (09:00:00 to 09:00:15); 7 unwrap request(s) throttled (429) and retried"
    );
    assert_eq!(
        r.steps(),
        vec![
            (0.0, 0.0),
            (0.0, 0.0),
            (0.0, 2.0),
            (3.0, 2.0),
            (3.0, 3.0),
            (15.0, 3.0),
            (15.0, 6.0)
        ]
    );
    assert_eq!(tde_console::model::thousands(1_234_567), "1,234,567");
}
