//! Business continuity under customer-managed TDE, through the operations layer and the
//! shell: restores that need the keys of their time, geo-replication rules, failover groups,
//! two-vault HA, regional outages, and many-database operations under the vault's limits.

use crate::common;

use common::*;
use std::collections::BTreeSet;
use tde_console::model::*;
use tde_console::service::backup::{self, RestoreRequest, RestoreSource};
use tde_console::service::failover_group::{self as fg, CreateFailoverGroup};
use tde_console::service::georeplication::{self as geo, CreateReplica};
use tde_console::service::{self, KeySource, behaviour, content, keyvault, outage, sql, tde};
use tde_console::shell::Shell;
use tde_console::sim::Duration;

const PARTNER: &str = "sql-partner";
const PARTNER_VAULT: &str = "kv-partner";

fn tde_permissions() -> BTreeSet<KeyPermission> {
    KeyPermission::TDE_REQUIRED.into_iter().collect()
}

fn protector_request(server: &str, kid: &str) -> tde::SetProtector {
    tde::SetProtector {
        server: server.into(),
        key_type: ServerKeyType::AzureKeyVault,
        kid: Some(kid.into()),
        auto_rotation: false,
    }
}

/// A second key in the test vault, usable by the server; returns its versioned id.
fn second_key(ws: &mut Workspace, keys: &FixtureKeys, name: &str) -> String {
    let (_, v) = keyvault::create_key(
        ws,
        &keyvault::CreateKey::new(VAULT, name, KeyType::Rsa, 2048),
        keys.generate(2048).unwrap(),
    )
    .unwrap();
    ws.vault(VAULT).unwrap().key_uri(name, &v.version)
}

fn write(ws: &mut Workspace, server: &str, db: &str, text: &str) {
    content::write_text(ws, server, db, text).unwrap();
}

fn read(ws: &Workspace, server: &str, db: &str) -> String {
    content::read_text(ws, server, db).unwrap()
}

fn pitr(dest: &str, time: Timestamp) -> RestoreRequest {
    RestoreRequest {
        source_server: SERVER.into(),
        source_database: "sales".into(),
        source: RestoreSource::PointInTime { time },
        target_server: SERVER.into(),
        dest_name: dest.into(),
        tier: None,
    }
}

/// Restores and waits for the service to finish.
fn restore_and_wait(ws: &mut Workspace, req: &RestoreRequest) -> Database {
    let d = backup::restore_database(ws, req).unwrap();
    let DatabaseState::Restoring { until, .. } = d.state else {
        panic!("{:?}", d.state)
    };
    assert!(
        content::read_text(ws, &req.target_server, &req.dest_name).is_err(),
        "not readable while restoring"
    );
    let by = until - ws.now();
    behaviour::advance(ws, by).unwrap();
    ws.server(&req.target_server)
        .unwrap()
        .database(&req.dest_name)
        .unwrap()
        .clone()
}

#[test]
fn a_restore_needs_every_key_its_backups_were_written_under() {
    let keys = FixtureKeys::new();
    let (mut ws, kid) = setup(&keys);
    protect(&mut ws, &kid);
    write(&mut ws, SERVER, "sales", "version one");
    behaviour::advance(&mut ws, Duration::hours(1)).unwrap();
    let before_rotation = ws.now();
    behaviour::advance(&mut ws, Duration::hours(1)).unwrap();
    let kid2 = second_key(&mut ws, &keys, "key-two");
    link_as_protector(&mut ws, &kid2);
    write(&mut ws, SERVER, "sales", "version two");
    behaviour::advance(&mut ws, Duration::hours(1)).unwrap();
    assert_eq!(read(&ws, SERVER, "sales"), "version two");
    // Two protector intervals: the old key still protects the older backups.
    let d = ws
        .server(SERVER)
        .unwrap()
        .database("sales")
        .unwrap()
        .clone();
    assert_eq!(backup::keys_needed_by_backups(&d, ws.now()).len(), 2);

    let problems = |ws: &Workspace, d: &Database| -> Vec<Option<&'static str>> {
        d.protector_history
            .iter()
            .map(|iv| backup::interval_problem(ws, SERVER, iv).map(|(word, _)| word))
            .collect()
    };
    assert_eq!(problems(&ws, &d), vec![None, None], "both keys reachable");
    keyvault::delete_key(&mut ws, VAULT, KEY).unwrap();
    // The Backups blade names why the old interval cannot be restored, not just "Missing".
    assert_eq!(problems(&ws, &d), vec![Some("Deleted"), None]);
    let (_, why) = backup::interval_problem(&ws, SERVER, &d.protector_history[0]).unwrap();
    assert_eq!(why, "the key was deleted");
    let before = ws.clone();
    let e = backup::restore_database(&mut ws, &pitr("sales-old", before_rotation)).unwrap_err();
    assert_eq!(e.code, "MissingKeyVaultUriForRestore");
    assert!(e.message.contains(&kid), "{}", e.message);
    assert!(
        e.message
            .contains("does not have access to all AKV URIs created between"),
        "{}",
        e.message
    );
    assert!(
        unchanged_but_its_trace(&ws, &before).is_some(),
        "nothing created, nothing changed (but the vault requests)"
    );

    // Recover the key, link it (already linked: the call is idempotent), restore.
    keyvault::recover_key(&mut ws, VAULT, KEY).unwrap();
    sql::add_server_key(&mut ws, SERVER, &kid).unwrap();
    let restored = restore_and_wait(&mut ws, &pitr("sales-old", before_rotation));
    assert!(restored.state.is_online());
    assert!(restored.tags.is_empty(), "tags are not restored");
    assert_eq!(read(&ws, SERVER, "sales-old"), "version one");
    // The new database has a fresh DEK under the server's current protector.
    let w = restored.dek.unwrap();
    assert!(w.server_key_name.contains("key-two"));
    assert_ne!(w.wrapped, d.dek.unwrap().wrapped);
    // And a restore to now reads the newest text.
    let now = ws.now();
    restore_and_wait(&mut ws, &pitr("sales-now", now));
    assert_eq!(read(&ws, SERVER, "sales-now"), "version two");
}

/// Removes the server's access policy and lets the clock run, a minute at a time, until
/// sales is no longer Online.
fn revoke_until_sales_is_inaccessible(ws: &mut Workspace) {
    let p = principal(ws);
    keyvault::delete_access_policy(ws, VAULT, &p).unwrap();
    while status(ws, "sales") == "Online" {
        behaviour::advance(ws, Duration::minutes(1)).unwrap();
    }
}

#[test]
fn an_inaccessible_database_takes_no_backups_until_it_is_back() {
    let keys = FixtureKeys::new();
    let (mut ws, kid) = setup(&keys);
    protect(&mut ws, &kid);
    behaviour::advance(&mut ws, Duration::hours(1)).unwrap();
    revoke_until_sales_is_inaccessible(&mut ws);
    let lost = ws.now();
    behaviour::advance(&mut ws, Duration::hours(3)).unwrap();
    assert_eq!(status(&ws, "sales"), "Inaccessible");
    let d = ws
        .server(SERVER)
        .unwrap()
        .database("sales")
        .unwrap()
        .clone();
    let taken = backup::recent_backups(&d, ws.now(), 8);
    assert_eq!(taken.len(), 8, "the backups from before are listed");
    assert!(
        taken.iter().all(|b| b.time <= lost),
        "none while Inaccessible (lost access at {lost}): {:?}",
        taken.iter().map(|b| b.time.to_string()).collect::<Vec<_>>()
    );
    assert!(
        taken[0].time > lost - Duration::minutes(15),
        "the last one before it"
    );
    // Back online: backups resume.
    grant_tde(&mut ws);
    for _ in 0..120 {
        if status(&ws, "sales") == "Online" {
            break;
        }
        behaviour::advance(&mut ws, Duration::minutes(1)).unwrap();
    }
    assert_eq!(status(&ws, "sales"), "Online");
    behaviour::advance(&mut ws, Duration::minutes(30)).unwrap();
    let d = ws
        .server(SERVER)
        .unwrap()
        .database("sales")
        .unwrap()
        .clone();
    assert!(backup::recent_backups(&d, ws.now(), 1)[0].time > ws.now() - Duration::minutes(15));
}

#[test]
fn restore_points_out_of_range_and_taken_names_are_refused_without_change() {
    let keys = FixtureKeys::new();
    let (mut ws, kid) = setup(&keys);
    protect(&mut ws, &kid);
    behaviour::advance(&mut ws, Duration::days(10)).unwrap();
    let before = ws.clone();
    let too_old = ws.now() - Duration::days(8);
    let e = backup::restore_database(&mut ws, &pitr("x", too_old)).unwrap_err();
    assert_eq!(e.code, "InvalidPointInTimeRestoreRequest");
    let future = ws.now() + Duration::hours(1);
    assert_eq!(
        backup::restore_database(&mut ws, &pitr("x", future))
            .unwrap_err()
            .code,
        "InvalidPointInTimeRestoreRequest"
    );
    let now = ws.now();
    assert_eq!(
        backup::restore_database(&mut ws, &pitr("ledger", now))
            .unwrap_err()
            .code,
        "DatabaseAlreadyExists"
    );
    assert_eq!(
        backup::restore_database(&mut ws, &pitr("bad/name", now))
            .unwrap_err()
            .code,
        "InvalidResourceName"
    );
    assert_eq!(ws, before);
    // Retention: 1 to 35 days; the earliest restore point follows it.
    assert_eq!(
        backup::set_backup_policy(&mut ws, SERVER, "sales", 36, None)
            .unwrap_err()
            .code,
        "InvalidBackupRetentionPeriod"
    );
    assert_eq!(
        backup::set_backup_policy(&mut ws, SERVER, "sales", 7, Some(6))
            .unwrap_err()
            .code,
        "InvalidDiffBackupIntervalHours"
    );
    backup::set_backup_policy(&mut ws, SERVER, "sales", 30, Some(24)).unwrap();
    restore_and_wait(&mut ws, &pitr("sales-9d", too_old));
}

#[test]
fn content_history_stays_bounded_over_months() {
    let keys = FixtureKeys::new();
    let (mut ws, kid) = setup(&keys);
    protect(&mut ws, &kid);
    for day in 0..120 {
        write(&mut ws, SERVER, "sales", &format!("day {day}"));
        behaviour::advance(&mut ws, Duration::days(1)).unwrap();
    }
    let d = ws.server(SERVER).unwrap().database("sales").unwrap();
    // Seven days of retention plus the week back to the full backup before it.
    assert!(d.content.len() <= 16, "{} revisions kept", d.content.len());
    assert_eq!(read(&ws, SERVER, "sales"), "day 119");
    // A point 6 days back still restores.
    let t = ws.now() - Duration::days(6);
    restore_and_wait(&mut ws, &pitr("sales-6d", t));
    assert_eq!(read(&ws, SERVER, "sales-6d"), "day 114");
}

#[test]
fn a_dropped_database_is_restored_to_its_deletion_time() {
    let keys = FixtureKeys::new();
    let (mut ws, kid) = setup(&keys);
    protect(&mut ws, &kid);
    write(&mut ws, SERVER, "sales", "last words");
    behaviour::advance(&mut ws, Duration::minutes(30)).unwrap();
    sql::delete_database(&mut ws, SERVER, "sales").unwrap();
    let deleted = backup::list_deleted(&ws, SERVER).unwrap();
    assert_eq!(deleted.len(), 1);
    let req = RestoreRequest {
        source: RestoreSource::Deleted {
            deleted_at: deleted[0].deleted_at,
            time: None,
        },
        ..pitr("sales", ws.now())
    };
    restore_and_wait(&mut ws, &req);
    assert_eq!(read(&ws, SERVER, "sales"), "last words");
}

/// A partner server in northeurope with its own vault holding the test key's material
/// (key backup/restore within the Europe geography).
fn with_partner(keys: &FixtureKeys) -> (Workspace, String, String) {
    let (mut ws, kid) = setup(keys);
    protect(&mut ws, &kid);
    sql::create_server(
        &mut ws,
        &sql::CreateServer {
            name: PARTNER.into(),
            resource_group: RG.into(),
            location: Some("northeurope".into()),
            admin_user: "sqladmin".into(),
            admin_password: "P@ssw0rd-2026!".into(),
            assign_identity: true,
            kind: ServerKind::SqlDatabaseServer,
        },
        keys.generate(2048).unwrap(),
    )
    .unwrap();
    keyvault::create_vault(
        &mut ws,
        &keyvault::CreateVault {
            name: PARTNER_VAULT.into(),
            resource_group: RG.into(),
            location: Some("northeurope".into()),
            soft_delete: Some(true),
            purge_protection: true,
            ..Default::default()
        },
    )
    .unwrap();
    let p = ws.server(PARTNER).unwrap().identity.clone().unwrap();
    keyvault::set_access_policy(&mut ws, PARTNER_VAULT, &p.principal_id, &tde_permissions())
        .unwrap();
    let copy = kid.replace(VAULT, PARTNER_VAULT);
    (ws, kid, copy)
}

fn copy_key(ws: &mut Workspace, key: &str) {
    let blob = keyvault::backup_key(ws, VAULT, key).unwrap();
    keyvault::restore_key(ws, PARTNER_VAULT, &blob).unwrap();
}

fn replica(ws: &mut Workspace, db: &str) -> service::ServiceResult<ReplicationLink> {
    geo::create_replica(
        ws,
        &CreateReplica {
            server: SERVER.into(),
            database: db.into(),
            partner_server: PARTNER.into(),
            partner_database: None,
        },
    )
}

#[test]
fn geo_replication_needs_the_material_on_the_secondary_first() {
    let keys = FixtureKeys::new();
    let (mut ws, kid, copy) = with_partner(&keys);
    write(&mut ws, SERVER, "sales", "before replication");
    let before = ws.clone();
    assert_eq!(
        replica(&mut ws, "sales").unwrap_err().code,
        "KeyMaterialNotFoundOnRemoteServer"
    );
    assert_eq!(ws, before);
    // Identical material in the partner's own vault, linked and made its protector.
    copy_key(&mut ws, KEY);
    sql::add_server_key(&mut ws, PARTNER, &copy).unwrap();
    tde::set_protector(&mut ws, &protector_request(PARTNER, &copy)).unwrap();
    let link = replica(&mut ws, "sales").unwrap();
    assert_eq!(link.secondary_server, PARTNER);
    assert_eq!(read(&ws, PARTNER, "sales"), "before replication");
    // The secondary's DEK is wrapped by its own server's protector (the partner vault).
    let sec = ws.server(PARTNER).unwrap().database("sales").unwrap();
    assert!(
        sec.dek
            .as_ref()
            .unwrap()
            .server_key_name
            .starts_with(PARTNER_VAULT)
    );
    assert_eq!(
        content::write_text(&mut ws, PARTNER, "sales", "x")
            .unwrap_err()
            .code,
        "3906",
        "a geo-secondary is read-only"
    );
    // Writes arrive on the secondary after the replication lag.
    write(&mut ws, SERVER, "sales", "second write");
    assert_eq!(read(&ws, PARTNER, "sales"), "before replication");
    behaviour::advance(&mut ws, Duration::seconds(10)).unwrap();
    assert_eq!(read(&ws, PARTNER, "sales"), "second write");

    // Rotating the primary first is refused; secondary first, then primary, works.
    let kid2 = second_key(&mut ws, &keys, "key-two");
    sql::add_server_key(&mut ws, SERVER, &kid2).unwrap();
    let before = ws.clone();
    assert_eq!(
        tde::set_protector(&mut ws, &protector_request(SERVER, &kid2))
            .unwrap_err()
            .code,
        "SameKeyMaterialNotFoundOnRemoteServer"
    );
    assert!(unchanged_but_its_trace(&ws, &before).is_some());
    copy_key(&mut ws, "key-two");
    let copy2 = kid2.replace(VAULT, PARTNER_VAULT);
    sql::add_server_key(&mut ws, PARTNER, &copy2).unwrap();
    tde::set_protector(&mut ws, &protector_request(PARTNER, &copy2)).unwrap();
    tde::set_protector(&mut ws, &protector_request(SERVER, &kid2)).unwrap();

    // A planned failover keeps every write; reads on the new primary match.
    write(&mut ws, SERVER, "sales", "written just before failover");
    let r = geo::set_primary(&mut ws, PARTNER, "sales", false).unwrap();
    assert_eq!(r.lost_writes, 0);
    assert_eq!(read(&ws, PARTNER, "sales"), "written just before failover");
    assert!(
        ws.continuity.primary_of(SERVER, "sales").is_some(),
        "roles swapped"
    );
    // Run against the primary, set-primary is a no-op.
    assert!(
        geo::set_primary(&mut ws, PARTNER, "sales", false)
            .unwrap()
            .already_primary
    );
    // A forced failover loses what had not replicated yet.
    write(&mut ws, PARTNER, "sales", "in flight");
    let r = geo::set_primary(&mut ws, SERVER, "sales", true).unwrap();
    assert_eq!(r.lost_writes, 1);
    assert_eq!(read(&ws, SERVER, "sales"), "written just before failover");
    behaviour::advance(&mut ws, Duration::minutes(1)).unwrap();
    assert_eq!(read(&ws, PARTNER, "sales"), "written just before failover");
    let _ = kid;
}

#[test]
fn geo_rules_chaining_limits_and_keys_in_use() {
    let keys = FixtureKeys::new();
    let (mut ws, kid, _copy) = with_partner(&keys);
    // The partner shares the primary's vault (allowed) but stays on service-managed keys.
    let p = ws.server(PARTNER).unwrap().identity.clone().unwrap();
    keyvault::set_access_policy(&mut ws, VAULT, &p.principal_id, &tde_permissions()).unwrap();
    sql::add_server_key(&mut ws, PARTNER, &kid).unwrap();
    replica(&mut ws, "sales").unwrap();
    assert_eq!(
        replica(&mut ws, "sales").unwrap_err().code,
        "ReplicationLinkAlreadyExists"
    );
    // The key the geo-primary uses as protector cannot be removed from the secondary.
    let name = ws.server(SERVER).unwrap().protector.server_key_name.clone();
    assert_eq!(
        sql::delete_server_key(&mut ws, PARTNER, &name)
            .unwrap_err()
            .code,
        "AzureKeyVaultKeyUsedOnGeoPrimary"
    );
    // A secondary of the secondary (chaining) is refused under BYOK.
    let before = ws.clone();
    let e = geo::create_replica(
        &mut ws,
        &CreateReplica {
            server: PARTNER.into(),
            database: "sales".into(),
            partner_server: SERVER.into(),
            partner_database: Some("sales-chain".into()),
        },
    )
    .unwrap_err();
    assert_eq!(e.code, "SecurityAzureKeyVaultGeoChainError");
    assert_eq!(ws, before);
    // set-primary on a database without links; delete-link.
    assert_eq!(
        geo::set_primary(&mut ws, SERVER, "ledger", false)
            .unwrap_err()
            .code,
        "ReplicationLinkNotFound"
    );
    geo::delete_link(&mut ws, SERVER, "sales", PARTNER).unwrap();
    content::write_text(&mut ws, PARTNER, "sales", "now on its own").unwrap();
}

#[test]
fn a_vault_outage_switches_to_the_twin_key_and_a_revocation_does_not() {
    let keys = FixtureKeys::new();
    let (mut ws, kid, copy) = with_partner(&keys);
    copy_key(&mut ws, KEY);
    // The server also links the same material in the partner's vault (the HA pair).
    let me = principal(&ws);
    keyvault::set_access_policy(&mut ws, PARTNER_VAULT, &me, &tde_permissions()).unwrap();
    sql::add_server_key(&mut ws, SERVER, &copy).unwrap();
    // It may not be made the protector by hand while the first one is.
    assert_eq!(
        tde::set_protector(&mut ws, &protector_request(SERVER, &copy))
            .unwrap_err()
            .code,
        "AzureKeyVaultKeyInUse"
    );
    let mut revoked = ws.clone();

    outage::start_vault_outage(&mut ws, VAULT, 120).unwrap();
    behaviour::advance(&mut ws, Duration::minutes(30)).unwrap();
    assert_eq!(status(&ws, "sales"), "Online");
    assert_eq!(status(&ws, "ledger"), "Online");
    let s = ws.server(SERVER).unwrap();
    assert!(
        s.protector.server_key_name.starts_with(PARTNER_VAULT),
        "switched"
    );
    assert!(
        ws.activity_log
            .iter()
            .any(|e| e.operation == "TdeProtectorFailover")
    );
    assert_eq!(read(&ws, SERVER, "sales"), "");
    assert!(
        sql::read_pages(&ws, SERVER, "sales").is_ok(),
        "opens through the twin"
    );

    // A revocation is the customer's decision: no switch, the databases go Inaccessible.
    keyvault::delete_access_policy(&mut revoked, VAULT, &me).unwrap();
    behaviour::advance(&mut revoked, Duration::minutes(30)).unwrap();
    assert_eq!(status(&revoked, "sales"), "Inaccessible");
    assert!(
        revoked
            .server(SERVER)
            .unwrap()
            .protector
            .server_key_name
            .starts_with(VAULT)
    );
    let _ = kid;
}

fn group(ws: &mut Workspace, policy: FailoverPolicy, grace: i64) -> FailoverGroup {
    copy_key(ws, KEY);
    let copy = ws
        .vault(PARTNER_VAULT)
        .unwrap()
        .key(KEY)
        .unwrap()
        .current()
        .unwrap()
        .version
        .clone();
    let copy = ws.vault(PARTNER_VAULT).unwrap().key_uri(KEY, &copy);
    sql::add_server_key(ws, PARTNER, &copy).unwrap();
    tde::set_protector(ws, &protector_request(PARTNER, &copy)).unwrap();
    fg::create_failover_group(
        ws,
        &CreateFailoverGroup {
            name: "fg-test".into(),
            server: SERVER.into(),
            partner_server: PARTNER.into(),
            policy,
            grace_period_hours: Some(grace),
            databases: vec!["sales".into(), "ledger".into()],
        },
    )
    .unwrap()
}

#[test]
fn an_automatic_group_fails_over_after_the_grace_period_and_not_before() {
    let keys = FixtureKeys::new();
    let (mut ws, _, _) = with_partner(&keys);
    let g = group(&mut ws, FailoverPolicy::Automatic, 1);
    assert_eq!(g.read_write_listener(), "fg-test.database.windows.net");
    write(&mut ws, SERVER, "sales", "replicated");
    behaviour::advance(&mut ws, Duration::minutes(1)).unwrap();
    // An outage shorter than the grace period: no failover.
    outage::start_region_outage(&mut ws, "westeurope", 45).unwrap();
    assert_eq!(
        content::read_text(&ws, SERVER, "sales").unwrap_err().code,
        "40613",
        "servers in the region do not serve"
    );
    assert_eq!(
        status(&ws, "sales"),
        "Online",
        "unavailable, not Inaccessible"
    );
    behaviour::advance(&mut ws, Duration::hours(2)).unwrap();
    assert_eq!(
        ws.continuity
            .failover_group("fg-test")
            .unwrap()
            .primary_server,
        SERVER
    );
    // A longer one: failover when the grace period has passed, not a minute before.
    outage::start_region_outage(&mut ws, "westeurope", 180).unwrap();
    behaviour::advance(&mut ws, Duration::minutes(59)).unwrap();
    assert_eq!(
        ws.continuity
            .failover_group("fg-test")
            .unwrap()
            .primary_server,
        SERVER
    );
    behaviour::advance(&mut ws, Duration::minutes(2)).unwrap();
    assert_eq!(
        ws.continuity
            .failover_group("fg-test")
            .unwrap()
            .primary_server,
        PARTNER
    );
    assert_eq!(read(&ws, PARTNER, "sales"), "replicated");
    // The region's vault failed over read-only: reads and unwraps work, changes do not.
    let e = keyvault::create_key(
        &mut ws,
        &keyvault::CreateKey::new(VAULT, "new", KeyType::Rsa, 2048),
        keys.generate(2048).unwrap(),
    )
    .unwrap_err();
    assert_eq!(e.code, "VaultReadOnlyDuringFailover");
    assert!(keyvault::show_key(&ws, VAULT, KEY, None).is_ok());
}

#[test]
fn failover_group_rules() {
    let keys = FixtureKeys::new();
    let (mut ws, _, _) = with_partner(&keys);
    let before = ws.clone();
    let same_region = |ws: &mut Workspace, grace| {
        fg::create_failover_group(
            ws,
            &CreateFailoverGroup {
                name: "fg-x".into(),
                server: SERVER.into(),
                partner_server: SERVER.into(),
                policy: FailoverPolicy::Manual,
                grace_period_hours: Some(grace),
                databases: vec![],
            },
        )
    };
    assert_eq!(
        same_region(&mut ws, 1).unwrap_err().code,
        "InvalidFailoverGroupRegion"
    );
    assert_eq!(ws, before);
    group(&mut ws, FailoverPolicy::Manual, 1);
    let update = |ws: &mut Workspace, server: &str, grace| {
        fg::update_failover_group(
            ws,
            "fg-test",
            server,
            &fg::UpdateFailoverGroup {
                grace_period_hours: Some(grace),
                ..Default::default()
            },
        )
    };
    assert_eq!(
        update(&mut ws, SERVER, 0).unwrap_err().code,
        "FailoverGroupCreateOrUpdateRequestLessThanMinimumGracePeriodValues"
    );
    assert_eq!(
        update(&mut ws, PARTNER, 2).unwrap_err().code,
        "FailoverGroupUpdateOrDeleteRequestOnSecondary"
    );
    assert_eq!(
        fg::set_group_primary(&mut ws, "fg-test", SERVER, false)
            .unwrap_err()
            .code,
        "FailoverGroupNotSecondary"
    );
    assert_eq!(
        geo::delete_link(&mut ws, SERVER, "sales", PARTNER)
            .unwrap_err()
            .code,
        "FailoverGroupAlreadySetup"
    );
    write(&mut ws, SERVER, "ledger", "ledger row");
    let r = fg::set_group_primary(&mut ws, "fg-test", PARTNER, false).unwrap();
    assert_eq!(r.lost_writes, 0);
    assert_eq!(read(&ws, PARTNER, "ledger"), "ledger row");
    assert_eq!(
        ws.continuity
            .failover_group("fg-test")
            .unwrap()
            .primary_server,
        PARTNER
    );
}

/// `n` more databases on the test server, copies of `sales` (the same real wrapped DEK,
/// without sample pages so the estate stays small), for many-database operations.
fn grow(ws: &mut Workspace, n: usize) {
    let s = ws.server_mut(SERVER).unwrap();
    let template = Database {
        pages: PageStore::Encrypted(Vec::new()),
        ..s.database("sales").unwrap().clone()
    };
    for i in 0..n {
        s.databases.push(std::sync::Arc::new(Database {
            name: format!("db{i:05}"),
            ..template.clone()
        }));
    }
}

#[test]
fn a_protector_change_over_3000_databases_on_one_rsa_3072_vault_takes_the_time_the_limit_allows() {
    let keys = FixtureKeys::new();
    let (mut ws, _) = setup(&keys);
    grant_tde(&mut ws);
    let key = |ws: &mut Workspace, name: &str| {
        let (_, v) = keyvault::create_key(
            ws,
            &keyvault::CreateKey::new(VAULT, name, KeyType::Rsa, 3072),
            keys.generate(3072).unwrap(),
        )
        .unwrap();
        ws.vault(VAULT).unwrap().key_uri(name, &v.version)
    };
    let old = key(&mut ws, "old-3072");
    let new = key(&mut ws, "new-3072");
    link_as_protector(&mut ws, &old);
    grow(&mut ws, 2998);
    let start = ws.now();
    sql::add_server_key(&mut ws, SERVER, &new).unwrap();
    tde::set_protector(&mut ws, &protector_request(SERVER, &new)).unwrap();
    let s = ws.server(SERVER).unwrap();
    assert!(s.databases.iter().all(|d| {
        d.dek
            .as_ref()
            .is_some_and(|w| w.server_key_name.contains("new-3072"))
    }));
    // 3000 unwraps and 3000 wraps at 1000 RSA-3072 operations per 10 seconds.
    let until = s.protector_change_until.expect("still re-wrapping");
    assert!(
        until - start >= Duration::seconds(50),
        "{:?}",
        until - start
    );
    assert!(
        until - start <= Duration::seconds(120),
        "{:?}",
        until - start
    );
    // While it runs, another change and new databases wait.
    assert_eq!(
        tde::set_protector(&mut ws, &protector_request(SERVER, &old))
            .unwrap_err()
            .code,
        "EncryptionProtectorChangeInProgress"
    );
    assert_eq!(
        sql::create_database(
            &mut ws,
            &sql::CreateDatabase::new(SERVER, "late", ServiceTier::GeneralPurpose, 32)
        )
        .unwrap_err()
        .code,
        "CreateDatabaseAttemptedWithRotationInProgress"
    );
    let wait = until - ws.now();
    behaviour::advance(&mut ws, wait).unwrap();
    assert!(ws.server(SERVER).unwrap().protector_change_until.is_none());
    assert_eq!(tde::protector_coverage(&ws, SERVER).unwrap(), (3000, 3000));
}

#[test]
fn an_auto_heal_of_6000_databases_brings_every_one_back_at_the_time_each_opened() {
    let keys = FixtureKeys::new();
    let (mut ws, kid) = setup(&keys);
    protect(&mut ws, &kid);
    grow(&mut ws, 5998);
    let version = kid.rsplit('/').next().unwrap().to_string();
    set_key_enabled(&mut ws, &version, false);
    behaviour::advance(&mut ws, Duration::minutes(11)).unwrap();
    let s = ws.server(SERVER).unwrap();
    assert!(
        s.databases
            .iter()
            .all(|d| d.state.label() == "Inaccessible")
    );
    set_key_enabled(&mut ws, &version, true);
    behaviour::advance(&mut ws, Duration::hours(2)).unwrap();
    let s = ws.server(SERVER).unwrap();
    assert_eq!(
        s.databases.iter().filter(|d| d.state.is_online()).count(),
        6000
    );
    // RSA-2048 software: 4000 per 10 s, so the records span more than one window.
    let times: BTreeSet<i64> = ws
        .activity_log
        .iter()
        .filter(|e| {
            e.operation == "MakeDatabaseAccessible" && e.status == ActivityStatus::Succeeded
        })
        .map(|e| e.time.0 / 10)
        .collect();
    assert!(times.len() >= 2, "{times:?}");
}

#[test]
fn the_documented_procedure_typed_into_the_shell() {
    let mut ws = service::new_workspace("shell", 3);
    let mut sh = Shell::new().with_keys(FixtureKeys::boxed());
    let script = r#"
az group create -n rg -l eastus -o none
az sql server create -n srv1 -g rg -l eastus -u sqladmin -p 'Str0ng!Pass' --assign-identity -o none
az keyvault create -n kv1 -g rg -l eastus --enable-soft-delete true --enable-purge-protection true -o none
K1=$(az keyvault key create -n key1 --vault-name kv1 --size 2048 --query key.kid -o tsv)
K2=$(az keyvault key create -n key2 --vault-name kv1 --size 2048 --query key.kid -o tsv)
P=$(az sql server show -n srv1 -g rg --query identity.principalId -o tsv)
az keyvault set-policy -n kv1 --object-id $P --key-permissions get wrapKey unwrapKey -o none
az sql server key create -s srv1 -g rg -k $K1 -o none
az sql server tde-key set -s srv1 -g rg -t AzureKeyVault -k $K1 -o none
az sql db create -n db1 -s srv1 -g rg -o none
sim write --server srv1 --database db1 --text "version one" -o none
sim clock advance 1h -o none
T1=$(sim clock show --query now -o tsv)
sim clock advance 1h -o none
az sql server key create -s srv1 -g rg -k $K2 -o none
az sql server tde-key set -s srv1 -g rg -t AzureKeyVault -k $K2 -o none
sim write --server srv1 --database db1 --text "version two" -o none
az keyvault key delete -n key1 --vault-name kv1 -o none
"#;
    let out = sh.run_script(&mut ws, script, false);
    assert_eq!(out.failures, 0, "{}", out.stderr);
    let time = sh.vars["T1"].clone();
    let restore =
        format!("az sql db restore --dest-name db1-old -n db1 -s srv1 -g rg --time {time}");
    let r = sh.run_line(&mut ws, &restore);
    assert!(!r.ok);
    assert!(
        r.stderr.starts_with("ERROR: (MissingKeyVaultUriForRestore) Azure Key Vault key URI 'https://kv1.vault.azure.net/keys/key1/"),
        "{}",
        r.stderr
    );
    assert!(
        sh.run_line(&mut ws, "az sql db show -n db1-old -s srv1 -g rg")
            .stderr
            .contains("ResourceNotFound")
    );
    let r = sh.run_line(
        &mut ws,
        "az keyvault key recover -n key1 --vault-name kv1 -o none",
    );
    assert!(r.ok, "{}", r.stderr);
    let r = sh.run_line(&mut ws, &format!("{restore} --query status -o tsv"));
    assert_eq!(r.stdout.trim(), "Online", "{}", r.stderr);
    let r = sh.run_line(&mut ws, "sim read -s srv1 -d db1-old");
    assert!(
        r.stdout.contains("\"text\": \"version one\""),
        "{}",
        r.stdout
    );
    // A text of several lines is one --line a line (the query editor's request); a line
    // that starts with dashes is written --line=VALUE.
    let r = sh.run_line(
        &mut ws,
        "sim write -s srv1 -d db1-old --line 'first line' --line '' --line=--third -o none",
    );
    assert!(r.ok, "{}", r.stderr);
    let r = sh.run_line(&mut ws, "sim read -s srv1 -d db1-old");
    assert!(
        r.stdout.contains("\"text\": \"first line\\n\\n--third\""),
        "{}",
        r.stdout
    );
    // Client-side errors as az prints them; --no-wait returns while it restores.
    let r = sh.run_line(
        &mut ws,
        "az sql db restore --dest-name x -n db1 -s srv1 -g rg",
    );
    assert_eq!(
        r.stderr.trim(),
        "ERROR: Either --time or --deleted-time must be specified."
    );
    let now = ws.now().to_iso();
    let r = sh.run_line(
        &mut ws,
        &format!("az sql db restore --dest-name db1-nw -n db1 -s srv1 -g rg --time {now} --no-wait --query status -o tsv"),
    );
    assert_eq!(r.stdout.trim(), "Restoring", "{}", r.stderr);
    let r = sh.run_line(&mut ws, "az sql db str-policy set -n db1 -s srv1 -g rg --retention-days 14 --diffbackup-hours 24 --query retentionDays -o tsv");
    assert_eq!(r.stdout.trim(), "14", "{}", r.stderr);
    // Hostile input changes nothing and never panics.
    let before = ws.clone();
    for line in [
        "az sql db restore --dest-name y -n db1 -s srv1 -g rg --time 9999-99-99",
        "az sql db restore --dest-name y -n db1 -s srv1 -g rg --time 1970-01-01T00:00:00Z",
        "az sql db str-policy set -n db1 -s srv1 -g rg --retention-days 99999999999",
        "sim keyvault outage --name kv1 --minutes -5",
        "sim region outage --region mars --minutes 5",
        "sim write --server srv1 --database nope --text x",
        "sim write --server srv1 --database db1 --text x --line y",
        "az sql db replica create -n db1 -s srv1 -g rg --partner-server srv1",
        "az sql failover-group create -n FG! -s srv1 -g rg --partner-server srv1",
        "az sql db ltr-backup restore --backup-id x --dest-database y --dest-server srv1 --dest-resource-group rg",
        "az sql db geo-backup restore --geo-backup-id /nothing --dest-database y --dest-server srv1 -g rg",
        "az sql db ltr-policy set -n db1 -s srv1 -g rg --weekly-retention P4é",
    ] {
        let r = sh.run_line(&mut ws, line);
        assert!(!r.ok, "{line}");
        assert!(r.stderr.starts_with("ERROR: "), "{line}: {}", r.stderr);
    }
    assert_eq!(ws, before);
}

#[test]
fn long_term_backups_outlive_the_database_and_restore_through_the_shell() {
    let mut ws = service::new_workspace("ltr", 5);
    let mut sh = Shell::new().with_keys(FixtureKeys::boxed());
    let script = r#"
az group create -n rg -l eastus -o none
az sql server create -n srv1 -g rg -l eastus -u sqladmin -p 'Str0ng!Pass' -o none
az sql db create -n db1 -s srv1 -g rg -o none
az sql db ltr-policy set -n db1 -s srv1 -g rg --weekly-retention P4W -o none
sim write -s srv1 -d db1 --text "week one" -o none
sim clock advance 7d -o none
sim clock advance 1h -o none
sim write -s srv1 -d db1 --text "week two" -o none
sim clock advance 1d -o none
az sql db delete -n db1 -s srv1 -g rg --yes
"#;
    let out = sh.run_script(&mut ws, script, false);
    assert_eq!(out.failures, 0, "{}", out.stderr);
    let r = sh.run_line(
        &mut ws,
        "az sql db ltr-backup list --location eastus --database-state Deleted --query \"[].name\" -o tsv",
    );
    let names: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(names.len(), 2, "{}{}", r.stdout, r.stderr);
    // The newest weekly full, taken at creation + 7 days, holds "week one".
    let r = sh.run_line(
        &mut ws,
        // Quoted: a backup's name holds a `;`, which bash (and this shell) would take as the
        // end of the command.
        &format!("az sql db ltr-backup restore --backup-id '{}' --dest-database db1-back --dest-server srv1 --dest-resource-group rg --query status -o tsv", names[0]),
    );
    assert_eq!(r.stdout.trim(), "Online", "{}", r.stderr);
    let r = sh.run_line(&mut ws, "sim read -s srv1 -d db1-back --query text -o tsv");
    assert_eq!(r.stdout.trim(), "week one");
    // Four weeks on, the backups have expired and the dropped database is gone.
    sh.run_line(&mut ws, "sim clock advance 30d");
    let r = sh.run_line(
        &mut ws,
        "az sql db ltr-backup list --location eastus --database-state Deleted",
    );
    assert_eq!(r.stdout.trim(), "[]");
}

#[test]
fn microsofts_ltr_policy_example_keeps_weekly_monthly_and_yearly_backups() {
    let mut ws = service::new_workspace("ltr2", 6);
    let mut sh = Shell::new().with_keys(FixtureKeys::boxed());
    let setup = r#"
az group create -n rg -l eastus -o none
az sql server create -n srv1 -g rg -l eastus -u sqladmin -p 'Str0ng!Pass' -o none
az sql db create -n db1 -s srv1 -g rg -o none
"#;
    assert_eq!(sh.run_script(&mut ws, setup, false).failures, 0);
    let r = sh.run_line(
        &mut ws,
        r#"az sql db ltr-policy set -g rg -s srv1 -n db1 --weekly-retention "P1W" --monthly-retention "P6M" --yearly-retention "P1Y" --week-of-year 26"#,
    );
    assert!(r.ok, "{}", r.stderr);
    let r = sh.run_line(&mut ws, "az sql db ltr-policy show -g rg -s srv1 -n db1 --query \"[weeklyRetention, monthlyRetention, yearlyRetention, weekOfYear]\" -o tsv");
    assert_eq!(
        r.stdout.split_whitespace().collect::<Vec<_>>(),
        ["P1W", "P6M", "P1Y", "26"]
    );
    // Ten weeks on: the last week's full, and the monthly fulls of January, February, March.
    sh.run_line(&mut ws, "sim clock advance 70d");
    let r = sh.run_line(
        &mut ws,
        "az sql db ltr-backup list -l eastus -s srv1 -d db1 --query \"[].backupTime\" -o tsv",
    );
    let times: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(times.len(), 4, "{times:?}");
    assert!(
        times
            .iter()
            .skip(1)
            .all(|t| t[8..10].parse::<u32>().unwrap() <= 7),
        "{times:?}"
    );
    // Values beyond ten years, or not durations, are refused with their reason.
    for (flags, reason) in [
        ("--weekly-retention P11Y", "longer than the 10 years"),
        ("--weekly-retention 4weeks", "not an ISO 8601 duration"),
        ("--week-of-year 53", "InvalidLongTermRetention"),
    ] {
        let r = sh.run_line(
            &mut ws,
            &format!("az sql db ltr-policy set -g rg -s srv1 -n db1 {flags}"),
        );
        assert!(r.stderr.contains(reason), "{flags}: {}", r.stderr);
    }
}

#[test]
fn revalidating_1100_databases_on_one_rsa_3072_vault_brings_every_one_back() {
    let keys = FixtureKeys::new();
    let (mut ws, _) = setup(&keys);
    grant_tde(&mut ws);
    let (_, v) = keyvault::create_key(
        &mut ws,
        &keyvault::CreateKey::new(VAULT, "k3072", KeyType::Rsa, 3072),
        keys.generate(3072).unwrap(),
    )
    .unwrap();
    let kid = ws.vault(VAULT).unwrap().key_uri("k3072", &v.version);
    link_as_protector(&mut ws, &kid);
    grow(&mut ws, 1098);
    // Disabled past the 8-hour window: every database waits for revalidation.
    let version = v.version.0.clone();
    let enable = |ws: &mut Workspace, on: bool| {
        keyvault::set_key_attributes(
            ws,
            VAULT,
            "k3072",
            Some(&version),
            &keyvault::KeyAttributes {
                enabled: Some(on),
                ..Default::default()
            },
        )
        .unwrap();
    };
    enable(&mut ws, false);
    behaviour::advance(&mut ws, Duration::hours(9)).unwrap();
    enable(&mut ws, true);
    behaviour::advance(&mut ws, Duration::hours(2)).unwrap();
    assert!(
        ws.server(SERVER)
            .unwrap()
            .databases
            .iter()
            .all(|d| d.state.label() == "Inaccessible")
    );
    let names = tde_console::service::recovery::revalidate_server(&mut ws, SERVER).unwrap();
    assert_eq!(names.len(), 1100);
    // The recoveries of equal-sized databases end together: 1100 unwraps against a limit
    // of 1000 per 10 seconds wait for the next window instead of failing.
    behaviour::advance(&mut ws, Duration::hours(1)).unwrap();
    let s = ws.server(SERVER).unwrap();
    assert_eq!(
        s.databases.iter().filter(|d| d.state.is_online()).count(),
        1100
    );
    let throttled = ws
        .journal
        .filtered(|r| r.status == 429 && r.operation == "KeyUnwrap");
    assert!(!throttled.is_empty(), "the limit was met, and waited out");
}

#[test]
fn review_rules_replicas_keep_one_dek_history_does_not_come_back_names_match() {
    let keys = FixtureKeys::new();
    let (mut ws, _, copy) = with_partner(&keys);
    copy_key(&mut ws, KEY);
    sql::add_server_key(&mut ws, PARTNER, &copy).unwrap();
    tde::set_protector(&mut ws, &protector_request(PARTNER, &copy)).unwrap();
    // A replica under another name cannot join a failover group.
    geo::create_replica(
        &mut ws,
        &CreateReplica {
            server: SERVER.into(),
            database: "ledger".into(),
            partner_server: PARTNER.into(),
            partner_database: Some("ledger-dr".into()),
        },
    )
    .unwrap();
    let e = fg::create_failover_group(
        &mut ws,
        &CreateFailoverGroup {
            name: "fg-names".into(),
            server: SERVER.into(),
            partner_server: PARTNER.into(),
            policy: FailoverPolicy::Manual,
            grace_period_hours: None,
            databases: vec!["ledger".into()],
        },
    )
    .unwrap_err();
    assert_eq!(e.code, "FailoverGroupDatabaseNameMismatch");
    // A replicated database keeps its DEK: TDE cannot be switched on one side only.
    assert_eq!(
        sql::set_database_tde(&mut ws, SERVER, "ledger", false)
            .unwrap_err()
            .code,
        "OperationNotSupportedOnGeoReplicatedDatabase"
    );
    // History purged under a short retention does not come back with a longer one.
    backup::set_backup_policy(&mut ws, SERVER, "sales", 1, None).unwrap();
    write(&mut ws, SERVER, "sales", "old");
    for _ in 0..20 {
        behaviour::advance(&mut ws, Duration::days(1)).unwrap();
        write(&mut ws, SERVER, "sales", "newer");
    }
    backup::set_backup_policy(&mut ws, SERVER, "sales", 35, None).unwrap();
    let d = ws
        .server(SERVER)
        .unwrap()
        .database("sales")
        .unwrap()
        .clone();
    let earliest = backup::earliest_restore_point(&d, ws.now());
    assert!(earliest > d.created, "the purged days stay purged");
    let e = backup::restore_database(&mut ws, &pitr("sales-day1", d.created + Duration::days(1)))
        .unwrap_err();
    assert_eq!(e.code, "InvalidPointInTimeRestoreRequest");
    // A dropped database past its retention cannot be restored.
    sql::delete_database(&mut ws, SERVER, "sales").unwrap();
    let deleted_at = ws.now();
    behaviour::advance(&mut ws, Duration::days(40)).unwrap();
    let req = RestoreRequest {
        source: RestoreSource::Deleted {
            deleted_at,
            time: None,
        },
        ..pitr("sales-back", deleted_at)
    };
    assert_eq!(
        backup::restore_database(&mut ws, &req).unwrap_err().code,
        "InvalidPointInTimeRestoreRequest"
    );
}

#[test]
fn a_link_is_suspended_while_either_region_is_down() {
    let keys = FixtureKeys::new();
    let (mut ws, _, _) = with_partner(&keys);
    group(&mut ws, FailoverPolicy::Manual, 1);
    let states = |ws: &Workspace| -> Vec<String> {
        ws.continuity
            .links
            .iter()
            .map(|l| {
                geo::link_json(ws, &l.secondary_server, &l.secondary_database, l)
                    ["replicationState"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect()
    };
    assert!(!ws.continuity.links.is_empty());
    assert!(
        states(&ws).iter().all(|s| s == "CATCH_UP"),
        "{:?}",
        states(&ws)
    );
    outage::start_region_outage(&mut ws, "westeurope", 60).unwrap();
    assert!(
        states(&ws).iter().all(|s| s == "SUSPENDED"),
        "{:?}",
        states(&ws)
    );
    let mut sh = Shell::new();
    let out = sh.run_script(
        &mut ws,
        &format!("az sql db replica list-links -g {RG} -s {SERVER} -n sales --query [0].replicationState -o tsv"),
        false,
    );
    assert_eq!(out.stdout.trim(), "SUSPENDED", "{}", out.stderr);
    let out = sh.run_script(
        &mut ws,
        &format!("az sql failover-group show -g {RG} -s {PARTNER} -n fg-test --query replicationState -o tsv"),
        false,
    );
    assert_eq!(out.stdout.trim(), "SUSPENDED", "{}", out.stderr);
    // Nor does the service back the database up while its region is down.
    behaviour::advance(&mut ws, Duration::minutes(30)).unwrap();
    let from = ws.continuity.region_outages[0].from;
    // sales's newest `n` backups: as the schedule alone would take them, and as taken.
    let backups = |ws: &Workspace, n: usize| {
        let d = ws.server(SERVER).unwrap().database("sales").unwrap();
        (
            backup::recent_backups(d, ws.now(), n),
            backup::recent_backups_on(ws, SERVER, d, ws.now(), n),
        )
    };
    let (scheduled, taken) = backups(&ws, 4);
    assert!(
        scheduled.iter().any(|b| b.time >= from),
        "the schedule alone would have taken some"
    );
    assert!(
        taken.iter().all(|b| b.time < from),
        "none since the region went down at {from}"
    );
    behaviour::advance(&mut ws, Duration::minutes(31)).unwrap();
    assert!(
        states(&ws).iter().all(|s| s == "CATCH_UP"),
        "{:?}",
        states(&ws)
    );
    // After the region is back, the backups it missed do not reappear.
    let until = from + Duration::minutes(60);
    let (_, taken) = backups(&ws, 50);
    assert!(
        taken.iter().all(|b| b.time < from || b.time >= until),
        "none while the region was down ({from} to {until}): {:?}",
        taken.iter().map(|b| b.time).collect::<Vec<_>>()
    );
    // An Inaccessible primary replicates nothing either.
    revoke_until_sales_is_inaccessible(&mut ws);
    let sales = ws
        .continuity
        .links
        .iter()
        .find(|l| l.primary_database == "sales")
        .cloned()
        .expect("sales's link");
    assert_eq!(geo::link_state(&ws, &sales), LinkState::Suspended);
}

#[test]
fn a_server_in_a_region_that_is_down_takes_no_changes_and_finishes_no_restore() {
    let keys = FixtureKeys::new();
    let (mut ws, _, _) = with_partner(&keys);
    group(&mut ws, FailoverPolicy::Manual, 1);
    let now = ws.now();
    let restoring = backup::restore_database(&mut ws, &pitr("sales-r", now)).unwrap();
    let DatabaseState::Restoring { until, .. } = restoring.state else {
        panic!()
    };
    outage::start_region_outage(&mut ws, "westeurope", 60).unwrap();
    let before = ws.clone();
    let refused = [
        sql::create_database(
            &mut ws,
            &sql::CreateDatabase::new(SERVER, "new", ServiceTier::GeneralPurpose, 32),
        )
        .unwrap_err(),
        sql::delete_database(&mut ws, SERVER, "sales-r").unwrap_err(),
        tde::set_protector(
            &mut ws,
            &tde::SetProtector {
                server: SERVER.into(),
                key_type: ServerKeyType::ServiceManaged,
                kid: None,
                auto_rotation: false,
            },
        )
        .unwrap_err(),
        fg::update_failover_group(
            &mut ws,
            "fg-test",
            SERVER,
            &fg::UpdateFailoverGroup {
                grace_period_hours: Some(2),
                ..Default::default()
            },
        )
        .unwrap_err(),
    ];
    for e in refused {
        assert_eq!(e.code, "ServiceUnavailable", "{e}");
    }
    assert_eq!(ws, before);
    // The restore finishes only once the region is back.
    let past_until = until - ws.now() + Duration::minutes(1);
    behaviour::advance(&mut ws, past_until).unwrap();
    assert_eq!(
        ws.server(SERVER)
            .unwrap()
            .database("sales-r")
            .unwrap()
            .state
            .label(),
        "Restoring"
    );
    behaviour::advance(&mut ws, Duration::hours(1)).unwrap();
    assert_eq!(read(&ws, SERVER, "sales-r"), "");
    // A dropped geo-secondary leaves nothing to restore (it had no backups of its own).
    fg::delete_failover_group(&mut ws, "fg-test", SERVER).unwrap();
    sql::delete_database(&mut ws, PARTNER, "ledger").unwrap();
    assert!(backup::list_deleted(&ws, PARTNER).unwrap().is_empty());
}
