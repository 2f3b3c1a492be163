//! Messages that tell the truth: one notification per operation (with its count), notices
//! withdrawn when what they asked for is done, refusals that are told and then forgotten
//! when their cause is gone, and the confirmations a person expects.

use crate::kit::*;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use tde_console::model::Notification;
use tde_console::ui::ConsoleApp;

/// Removes the server identity's access policy on kv-contoso-us (the vault blade's second
/// Remove) and lets the server notice: its databases turn Inaccessible.
fn revoke_and_wait(h: &mut Harness<'static, ConsoleApp>) {
    click(h, "kv-contoso-us");
    let removes: Vec<_> = h.get_all_by_label("Remove").collect();
    removes[1].click();
    h.run_steps(2);
    click(h, "Remove anyway");
    h.run_steps(2);
    advance(h, "+10m");
    advance(h, "+10m");
}

/// In the open vault blade: grant the server identity get/wrapKey/unwrapKey.
fn grant_in_vault_blade(h: &mut Harness<'static, ConsoleApp>) {
    click(h, "Add access policy");
    click(h, "sql-contoso-us (server identity)");
    click(h, "SQL Server TDE (get, wrapKey, unwrapKey)");
    click(h, "Add");
    assert!(has(h, "Access policy saved."));
}

fn titled<'a>(h: &'a Harness<'static, ConsoleApp>, start: &str) -> Vec<&'a Notification> {
    h.state()
        .ws
        .notifications
        .iter()
        .filter(|n| n.title.starts_with(start))
        .collect()
}

/// Found on the trainers' walk at 150 % and 200 % (issue 23, defect 6): after access came
/// back too late, the app made a toast and a notification per database for "Key revalidation
/// required" and again per database for "Database recovered", and the revalidation notices
/// still asked for it after it ran. Now one notice per server says how many databases wait;
/// it is marked done (and its toast goes) when the revalidation runs; one notification says
/// how many databases recovered.
#[test]
fn a_late_access_restore_makes_one_notice_that_is_done_when_the_revalidation_runs() {
    let mut h = app();
    h.run_steps(2);
    revoke_and_wait(&mut h);
    advance(&mut h, "+8h");
    // Back in the vault blade, grant the server's identity its permissions again.
    click(&mut h, "kv-contoso-us");
    grant_in_vault_blade(&mut h);
    advance(&mut h, "+10m");
    let waiting: Vec<String> = h
        .state()
        .ws
        .server("sql-contoso-us")
        .unwrap()
        .databases
        .iter()
        .filter(|d| d.state.label() == "Inaccessible")
        .map(|d| d.name.clone())
        .collect();
    assert!(waiting.len() >= 2, "several databases wait: {waiting:?}");
    let notices = titled(&h, "Key revalidation required");
    assert_eq!(notices.len(), 1, "one notice for the server: {notices:#?}");
    let notice = notices[0].clone();
    assert!(
        notice
            .title
            .contains(&format!("{} databases on sql-contoso-us", waiting.len())),
        "{notice:?}"
    );
    for db in &waiting {
        assert!(notice.text.contains(db.as_str()), "{db} in {notice:?}");
    }
    assert!(notice.done.is_none());
    // Its toast shows.
    assert!(has(&h, &notice.title), "the notice's toast shows");

    // One click on the server's blade revalidates them all.
    click(&mut h, "sql-contoso-us");
    click(&mut h, "Revalidate key (all databases of the server)");
    wait_until(&mut h, "the revalidation", |app| !app.busy());
    let notices = titled(&h, "Key revalidation required");
    assert_eq!(notices.len(), 1);
    assert!(
        notices[0].done.is_some(),
        "the notice is marked done once the revalidation ran: {:?}",
        notices[0]
    );
    // Its toast is gone, and the Notifications panel shows it done.
    assert!(!has(&h, &notice.title), "the done notice's toast is gone");
    h.query_all_by_label_contains("Notifications")
        .min_by(|a, b| a.rect().min.y.total_cmp(&b.rect().min.y))
        .expect("the Notifications button")
        .click();
    h.run_steps(3);
    assert!(has(&h, "the revalidation ran"), "the panel says it is done");
    h.get_all_by_label("×")
        .last()
        .expect("the panel's ×")
        .click();
    h.run_steps(2);

    // The recoveries end: one notification for the operation, with its count.
    advance(&mut h, "+1h");
    for db in &waiting {
        let s = h.state().ws.server("sql-contoso-us").unwrap();
        assert_eq!(s.database(db).unwrap().state.label(), "Online", "{db}");
    }
    let per_db = titled(&h, "Database recovered");
    assert!(
        per_db.is_empty(),
        "no notification per database: {per_db:#?}"
    );
    let recovered = titled(
        &h,
        &format!("{} databases on sql-contoso-us recovered", waiting.len()),
    );
    assert_eq!(recovered.len(), 1, "{:#?}", h.state().ws.notifications);
    for db in &waiting {
        assert!(
            recovered[0].text.contains(db.as_str()),
            "{db} in {:?}",
            recovered[0]
        );
    }
}
