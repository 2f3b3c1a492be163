//! Issue 23, defects 4, 8 (stale messages) and 9, through the real app with egui_kittest,
//! clicked by label as a person would: status marks that tell a restore from a lost key and
//! a region outage from Online, Resource Health that follows the state, messages that go
//! when what they said is no longer true, and dangerous key actions that name what they
//! break (and the portal's offer to grant the server's identity access).

use crate::kit;

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use kit::*;
use tde_console::model::{ResourceHealth, ServerKeyType};
use tde_console::ui::ConsoleApp;

fn count(h: &Harness<'static, ConsoleApp>, label: &str) -> usize {
    h.query_all_by_label(label).count()
}

/// Types one line into the Cloud Shell and runs it.
fn shell(h: &mut Harness<'static, ConsoleApp>, line: &str) {
    if !has(h, "az>") {
        click(h, ">_ Cloud Shell");
        h.run_steps(2);
    }
    h.get_by_label("az>").click();
    h.run_steps(1);
    h.get_by_label("az>").type_text(line);
    h.run_steps(1);
    h.key_press(egui::Key::Enter);
    wait_until(h, "the command", |app| !app.busy());
}

fn sales(h: &Harness<'static, ConsoleApp>) -> tde_console::model::Database {
    h.state()
        .ws
        .server("sql-contoso-us")
        .unwrap()
        .database("sales")
        .unwrap()
        .clone()
}

/// Simulate > Regional outage (2 h) of sql-contoso-us's region, by clicking; the region.
fn us_region_goes_down(h: &mut Harness<'static, ConsoleApp>) -> String {
    let region = h
        .state()
        .ws
        .server("sql-contoso-us")
        .unwrap()
        .location
        .clone();
    click(h, "Simulate");
    click(h, "Regional outage (2 h)");
    click(h, &format!("Outage of {region}"));
    h.run_steps(3);
    region
}

/// Revokes the server identity's access policy on kv-contoso-us and lets the server notice.
fn revoke_and_wait(h: &mut Harness<'static, ConsoleApp>) {
    remove_server_policy_and_wait(h);
    assert_eq!(sales(h).state.label(), "Inaccessible");
}

/// Defect 4: a database being restored is progress (a blue ring, "Restoring"), not a failure:
/// it is not marked like an Inaccessible one, and the server's badge does not count it.
#[test]
fn a_restoring_database_is_not_marked_like_an_inaccessible_one() {
    use tde_console::ui::widgets::{BLUE, MarkShape, RED, state_mark};
    let mut h = app();
    h.run_steps(2);
    click(&mut h, "sales");
    click(&mut h, "Backups");
    type_into(&mut h, "Restore point (UTC)", "2026-01-02T12:00:00Z");
    type_into(&mut h, "New database name", "sales-jan2");
    click(&mut h, "Restore");
    assert!(has(&h, "Restore of 'sales-jan2' started"));
    h.run_steps(3);
    // Its own mark in the navigator, and nothing marked Inaccessible or counted as a problem.
    assert!(
        count(&h, "Restoring") >= 1,
        "the navigator marks it Restoring"
    );
    assert_eq!(count(&h, "Inaccessible"), 0);
    assert!(
        h.query_all_by_label_contains(" !").next().is_none(),
        "the server's badge counts only what needs attention"
    );
    let ws = &h.state().ws;
    let s = ws.server("sql-contoso-us").unwrap();
    let mark = state_mark(ws, s, s.database("sales-jan2").unwrap());
    assert_eq!((mark.shape, mark.colour), (MarkShape::Progress, BLUE));
    assert!(!mark.needs_attention);
    assert_ne!(mark.colour, RED);
    // Its Resource health is Unknown (nothing reports on it yet), not "Available" beside
    // the Query editor's 40613 (walk at 100 %).
    assert_eq!(
        tde_console::service::availability::health(ws, s, s.database("sales-jan2").unwrap()),
        ResourceHealth::Unknown
    );
    click(&mut h, "sales-jan2");
    assert!(has(&h, "Unknown"), "the database blade's Resource health");
    assert!(
        !has(&h, "Available"),
        "no 'Available' badge while it is being restored"
    );
    // The server blade says the same, in words.
    click(&mut h, "sql-contoso-us");
    assert!(
        count(&h, "Restoring") >= 2,
        "the navigator and the server blade"
    );
    assert!(has(
        &h,
        "1 database(s) being restored or brought back online"
    ));
    assert!(!has(&h, "databases are Inaccessible"));

    // A lost key is marked differently: red "!", counted by the server's badge.
    revoke_and_wait(&mut h);
    h.run_steps(3);
    assert!(count(&h, "Inaccessible") >= 4);
    let lost = h
        .state()
        .ws
        .server("sql-contoso-us")
        .unwrap()
        .databases
        .iter()
        .filter(|d| d.state.label() == "Inaccessible")
        .count();
    assert!(lost >= 4);
    assert!(
        has(&h, &format!("{lost} !")),
        "the badge counts the Inaccessible databases"
    );
    let ws = &h.state().ws;
    let s = ws.server("sql-contoso-us").unwrap();
    let lost = state_mark(ws, s, s.database("sales").unwrap());
    assert_eq!((lost.shape, lost.colour), (MarkShape::Alert, RED));
    assert!(lost.needs_attention);
}

/// Defect 4 and 8: during a region outage the region's databases show what a client
/// connecting now gets (Unavailable, 40613) in the navigator, the database blade, Resource
/// Health and the Query editor alike; after the region is back they are Online again and
/// the 40613 said by Test connection is gone.
#[test]
fn a_region_outage_shows_its_databases_unavailable_and_the_40613_goes_after_the_heal() {
    let mut h = app();
    h.run_steps(2);
    let region = us_region_goes_down(&mut h);
    click(&mut h, "sales");
    assert_eq!(
        sales(&h).state.label(),
        "Online",
        "the database itself is fine"
    );
    assert!(
        count(&h, "Unavailable") >= 6,
        "the status, the health, and the server's four databases in the navigator"
    );
    let ws = &h.state().ws;
    let s = ws.server("sql-contoso-us").unwrap();
    assert!(
        s.databases
            .iter()
            .all(|d| tde_console::ui::widgets::state_mark(ws, s, d).label == "Unavailable"),
        "nothing in that region is marked Online"
    );
    assert!(has(&h, &format!("Region {region} is down until")));
    assert!(has(&h, "Cannot connect"), "the Query editor agrees");
    assert!(has(&h, "40613"));
    assert!(has(&h, "4 down"), "the server's badge counts them");
    click(&mut h, "Test connection");
    assert!(has(&h, "is not currently available"));
    // Its geo-secondary is not "caught up" with a primary it cannot hear from.
    click(&mut h, "sales");
    click(&mut h, "Geo-replication");
    h.run_steps(2);
    assert!(has(&h, "SUSPENDED"));
    assert!(has(&h, "not replicating"));
    assert!(!has(&h, "caught up"));
    // The region comes back.
    advance(&mut h, "+1h");
    advance(&mut h, "+1h");
    advance(&mut h, "+10m");
    h.run_steps(3);
    assert!(count(&h, "Online") >= 4);
    assert_eq!(count(&h, "Unavailable"), 0);
    assert!(
        !has(&h, "is not currently available"),
        "the 40613 said during the outage is gone after the heal"
    );
    assert!(!has(&h, "Cannot connect"));
}

/// Defect 4: Resource Health follows the state as the clock moves: Unavailable right after
/// the revocation has propagated and the server noticed, without Test connection; the bars
/// show a window around the episode, not the month since the database was created.
#[test]
fn resource_health_is_unavailable_right_after_a_revocation_without_test_connection() {
    let mut h = app();
    h.run_steps(2);
    revoke_and_wait(&mut h);
    let d = sales(&h);
    assert_eq!(d.health, ResourceHealth::Unavailable);
    assert!(
        d.health_history
            .last()
            .is_some_and(|e| e.reason.contains("Connections are denied")),
        "{:?}",
        d.health_history
    );
    click(&mut h, "sales");
    assert!(
        count(&h, "Inaccessible") >= 2,
        "the navigator and the status"
    );
    assert!(count(&h, "Unavailable") >= 1, "the health badge");
    assert!(
        !has(&h, "Test connection was"),
        "nobody clicked Test connection"
    );
    // The bars' window: from a little before the episode to just after now.
    let shown = h
        .query_all_by_label_contains("Showing ")
        .next()
        .and_then(|n| n.value())
        .expect("the window is said in words");
    let span = shown.rsplit("), ").next().unwrap_or_default().to_string();
    assert!(
        !span.contains('d'),
        "a recent window, not days since creation: {shown}"
    );
    click(&mut h, "Since creation");
    let all = h
        .query_all_by_label_contains("Showing ")
        .next()
        .and_then(|n| n.value())
        .unwrap();
    assert_ne!(all, shown, "the whole history is a click away");
}

/// Defect 9: disabling the key version that backups from before the rotation need names
/// those backups first; the restore then fails as announced.
#[test]
fn disabling_a_version_that_backups_still_need_names_them_first() {
    let mut h = app();
    h.run_steps(2);
    click(&mut h, "kv-contoso-us");
    click(&mut h, "tde-protector");
    h.run_steps(2);
    // The older version: the one the backups of January 1–2 were made under.
    let old = h
        .query_all_by_label_contains("backups of sales")
        .next()
        .and_then(|n| n.value().or_else(|| n.accesskit_node().label()))
        .expect("the older version is listed with the backups that need it");
    click(&mut h, &old);
    let version = match &h.state().blades.last().unwrap().kind {
        tde_console::ui::blades::BladeKind::KeyVersion { version, .. } => version.clone(),
        _ => panic!("the key blade is open"),
    };
    let enabled = |h: &Harness<'static, ConsoleApp>| {
        h.state()
            .ws
            .vault("kv-contoso-us")
            .unwrap()
            .key("tde-protector")
            .unwrap()
            .version(&version)
            .unwrap()
            .enabled
    };
    click(&mut h, "Disable");
    h.run_steps(2);
    assert!(has(
        &h,
        "Backups still need it: restores of sales (sql-contoso-us) made"
    ));
    assert!(has(&h, "MissingKeyVaultUriForRestore"));
    click(&mut h, "Cancel");
    h.run_steps(3);
    assert!(enabled(&h), "cancelled: nothing changed");
    click(&mut h, "Disable");
    h.run_steps(2);
    click(&mut h, "Disable anyway");
    h.run_steps(3);
    assert!(!enabled(&h));
    // The restore the warning named fails as it said.
    click(&mut h, "sales");
    click(&mut h, "Backups");
    type_into(&mut h, "Restore point (UTC)", "2026-01-02T12:00:00Z");
    type_into(&mut h, "New database name", "sales-jan2");
    click(&mut h, "Restore");
    assert!(has(&h, "MissingKeyVaultUriForRestore"));
    // Not only inline: a failure notification (and toast) with the service's code.
    let last = h
        .state()
        .ws
        .notifications
        .last()
        .cloned()
        .expect("a notification");
    assert_eq!(last.level, tde_console::model::NotificationLevel::Error);
    assert_eq!(last.title, "Restore of 'sales' refused");
    assert!(
        last.text.contains("MissingKeyVaultUriForRestore"),
        "{}",
        last.text
    );
}

/// Defect 9 and 8: on an access-policy vault the TDE blade offers to grant the server's
/// identity get/wrapKey/unwrapKey (its own change, with its az line); Save then works; and
/// after Undo the blade no longer says "Saved: … is the TDE protector".
#[test]
fn tde_save_offers_to_grant_the_server_identity_and_forgets_saved_after_undo() {
    let mut h = app();
    save_eu_tde_key(&mut h);
    assert!(has(
        &h,
        "The server is missing required permissions on the Azure Key Vault."
    ));
    let principal = h
        .state()
        .ws
        .server("sql-contoso-eu")
        .unwrap()
        .identity
        .as_ref()
        .expect("Save created the identity")
        .principal_id
        .clone();
    const GRANT: &str = "Grant the server's identity access to the key (get, wrapKey, unwrapKey)";
    assert!(has(&h, "lacks"), "the blade says what is missing");
    click(&mut h, GRANT);
    h.run_steps(2);
    let line = format!(
        "az keyvault set-policy --name kv-contoso-eu --object-id {principal} --key-permissions get wrapKey unwrapKey"
    );
    assert!(has(&h, &line), "the grant shows its az line");
    assert!(has(&h, "Access granted"));
    let policy = h
        .state()
        .ws
        .vault("kv-contoso-eu")
        .unwrap()
        .access_policies
        .iter()
        .find(|p| p.object_id == principal)
        .cloned()
        .expect("the identity has a policy");
    assert_eq!(
        policy.key_permissions,
        tde_console::model::KeyPermission::TDE_REQUIRED
            .into_iter()
            .collect()
    );
    assert!(!has(&h, GRANT), "nothing left to offer");
    // Its own point on the timeline, with its az line.
    assert!(
        h.state()
            .history
            .points()
            .iter()
            .any(|p| p.command.as_deref() == Some(line.as_str())),
        "the grant is a change of its own"
    );
    click(&mut h, "Save");
    assert!(has(&h, "is the TDE protector"));
    assert_eq!(
        h.state()
            .ws
            .server("sql-contoso-eu")
            .unwrap()
            .protector
            .key_type,
        ServerKeyType::AzureKeyVault
    );
    // Undo the Save: the blade no longer says it was saved.
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    h.run_steps(3);
    assert_eq!(
        h.state()
            .ws
            .server("sql-contoso-eu")
            .unwrap()
            .protector
            .key_type,
        ServerKeyType::ServiceManaged
    );
    assert!(
        !has(&h, "is the TDE protector"),
        "the message of the undone Save is gone"
    );
}

/// On sql-contoso-eu's TDE blade: Customer-managed key, kv-contoso-eu's eu-tde-key, Save.
fn save_eu_tde_key(h: &mut Harness<'static, ConsoleApp>) {
    h.run_steps(2);
    click(h, "sql-contoso-eu");
    choose_eu_tde_key(h);
    click(h, "Save");
}

/// Found on the trainer's walk: a TDE Save runs two az lines (the server key, then the
/// protector). Its toast showed them as one line with the second cut to "az … (4 more)",
/// as if its words were values of `--kid`. Each line is now shortened on its own and keeps
/// its line break.
#[test]
fn the_toast_of_a_tde_save_shows_both_az_lines_whole() {
    let mut h = app();
    save_eu_tde_key(&mut h);
    click(
        &mut h,
        "Grant the server's identity access to the key (get, wrapKey, unwrapKey)",
    );
    click(&mut h, "Save");
    assert!(has(&h, "is the TDE protector"));
    // The first line ends with the key's identifier, then the second line starts.
    let kid = "https://kv-contoso-eu.vault.azure.net/keys/eu-tde-key/";
    let first = format!(
        "az sql server key create --server sql-contoso-eu --resource-group rg-contoso-eu --kid {kid}"
    );
    let second = format!(
        "\naz sql server tde-key set --server sql-contoso-eu --resource-group rg-contoso-eu --server-key-type AzureKeyVault --kid {kid}"
    );
    assert!(has(&h, &first), "the toast shows the first line");
    assert!(
        has(&h, &second),
        "the second line on a line of its own, whole"
    );
    assert!(!has(&h, "more)"), "nothing of a two-line script is cut");
}

/// Defect 8: after a fail-back made elsewhere (the Cloud Shell), the Failover groups blade
/// no longer says the group failed over to the other server.
#[test]
fn the_failover_groups_blade_forgets_a_failover_after_the_fail_back() {
    let mut h = app();
    h.run_steps(2);
    click(&mut h, "sql-contoso-us");
    click(&mut h, "Failover groups");
    click(&mut h, "Failover fg-contoso");
    wait_until(&mut h, "the failover job", |app| app.job.is_none());
    let said = "'fg-contoso' failed over: sql-contoso-us2 is the primary";
    assert!(has(&h, said));
    shell(
        &mut h,
        "az sql failover-group set-primary --name fg-contoso --server sql-contoso-us --resource-group rg-contoso-us",
    );
    h.run_steps(3);
    assert_eq!(
        h.state()
            .ws
            .continuity
            .failover_group("fg-contoso")
            .unwrap()
            .primary_server,
        "sql-contoso-us"
    );
    assert!(!has(&h, said), "the failover it reported is undone");
}

/// An Inaccessible database writes no log: its Backups blade lists none taken since, and
/// says why.
#[test]
fn an_inaccessible_databases_backups_stop_when_it_lost_its_key() {
    let mut h = app();
    h.run_steps(2);
    revoke_and_wait(&mut h);
    let lost = sales(&h).health_history.last().unwrap().time;
    click(&mut h, "+1h");
    h.run_steps(2);
    wait_until(&mut h, "the clock", |app| !app.busy());
    click(&mut h, "sales");
    click(&mut h, "Backups");
    h.run_steps(2);
    assert!(
        has(&h, "No backup since ") && has(&h, "unavailable and writes no log"),
        "the blade says why the list stops"
    );
    let d = sales(&h);
    let now = h.state().ws.now();
    let listed = tde_console::service::backup::recent_backups(&d, now, 8);
    assert!(!listed.is_empty());
    for b in listed {
        assert!(b.time <= lost, "{} taken while Inaccessible", b.time);
        assert!(has(&h, &b.time.to_display()), "the blade lists {}", b.time);
    }
}

/// Found in walk 35 at 100 %: sales · Backups kept "Restore of 'sales-restored' started: …
/// (advance the clock to finish)" hours after the database was Online. Once the restore has
/// finished the blade says so.
#[test]
fn the_backups_blade_says_a_restore_finished_once_it_has() {
    let mut h = app();
    h.run_steps(2);
    click(&mut h, "sales");
    click(&mut h, "Backups");
    type_into(&mut h, "Restore point (UTC)", "2026-01-02T12:00:00Z");
    type_into(&mut h, "New database name", "sales-jan2");
    click(&mut h, "Restore");
    assert!(has(&h, "Restore of 'sales-jan2' started"));
    advance(&mut h, "+8h");
    h.run_steps(3);
    assert_ne!(
        h.state()
            .ws
            .server("sql-contoso-us")
            .and_then(|s| s.database("sales-jan2"))
            .map(|d| d.state.label().to_string()),
        Some("Restoring".to_string()),
        "eight hours restore it"
    );
    assert!(
        !has(&h, "advance the clock to finish"),
        "the started message went"
    );
    assert!(has(&h, "'sales-jan2' restored: the restore has finished."));
}

/// Found in walk 35 at 100 %: with sales's blade open, a region outage showed the 40613
/// banner while the Query editor still showed the last rows read. The editor reads again
/// when the workspace changes, not only when the database's state or the clock does.
#[test]
fn the_query_editor_of_an_open_blade_fails_when_its_region_goes_down() {
    let mut h = app();
    h.run_steps(2);
    click(&mut h, "sales");
    h.run_steps(2);
    assert!(!has(&h, "Cannot connect"), "it answers before the outage");
    let region = us_region_goes_down(&mut h);
    assert!(has(&h, &format!("Region {region} is down until")));
    assert!(has(&h, "Cannot connect"), "the Query editor agrees");
}
