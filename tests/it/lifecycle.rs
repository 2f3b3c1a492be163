//! The TDE protector lifecycle over time: every way to lose the key, outages, revalidation
//! after the window (and what it loses), auto-rotation, the Activity Log's delay.

use crate::common;

use common::*;
use tde_console::model::*;
use tde_console::service::{self, KeySource, behaviour, keyvault, recovery, sql, tde};
use tde_console::sim::{Duration, TimingProfile};

fn protected(profile: TimingProfile) -> (Workspace, String, FixtureKeys) {
    let keys = FixtureKeys::new();
    let (mut ws, kid) = setup(&keys);
    service::set_profile(&mut ws, profile).unwrap();
    protect(&mut ws, &kid);
    (ws, kid, keys)
}

/// Advances minute by minute until `sales` is Inaccessible; returns how long that took.
fn minutes_until_inaccessible(ws: &mut Workspace, limit: i64) -> Option<i64> {
    for m in 1..=limit {
        behaviour::advance(ws, Duration::minutes(1)).unwrap();
        if status(ws, "sales") == "Inaccessible" {
            return Some(m);
        }
    }
    None
}

#[test]
fn every_cause_turns_databases_inaccessible_within_ten_minutes() {
    type Cause = fn(&mut Workspace);
    let causes: [(&str, Cause); 5] = [
        ("firewall without bypass", |ws| {
            keyvault::set_network_acls(
                ws,
                VAULT,
                NetworkAcls {
                    restricted: true,
                    bypass_trusted_services: false,
                    ip_rules: vec![],
                    public_access_disabled: false,
                },
            )
            .unwrap();
        }),
        ("vault deleted", |ws| {
            keyvault::delete_vault(ws, VAULT).unwrap();
        }),
        ("vault moved to another tenant", |ws| {
            keyvault::move_vault_to_tenant(
                ws,
                VAULT,
                &TenantId("11111111-1111-4111-8111-111111111111".into()),
            )
            .unwrap();
        }),
        ("identity deleted", |ws| {
            sql::delete_identity(ws, SERVER).unwrap();
        }),
        ("key expired", |ws| {
            let t = ws.now() + Duration::seconds(30);
            keyvault::set_key_attributes(
                ws,
                VAULT,
                KEY,
                None,
                &keyvault::KeyAttributes {
                    expires: Some(Some(t)),
                    ..Default::default()
                },
            )
            .unwrap();
        }),
    ];
    for (what, cause) in causes {
        let (mut ws, _, _) = protected(TimingProfile::Y2021);
        cause(&mut ws);
        let m = minutes_until_inaccessible(&mut ws, 12)
            .unwrap_or_else(|| panic!("{what}: still Online after 12 minutes"));
        assert!(m <= 11, "{what}: took {m} minutes");
        let d = ws.server(SERVER).unwrap().database("sales").unwrap();
        assert!(
            matches!(d.state, DatabaseState::Inaccessible { .. }),
            "{what}"
        );
    }
}

#[test]
fn a_recovered_vault_heals_within_the_window() {
    let (mut ws, _, _) = protected(TimingProfile::Y2021);
    keyvault::delete_vault(&mut ws, VAULT).unwrap();
    behaviour::advance(&mut ws, Duration::minutes(11)).unwrap();
    assert_eq!(status(&ws, "sales"), "Inaccessible");
    keyvault::recover_vault(&mut ws, VAULT).unwrap();
    behaviour::advance(&mut ws, Duration::minutes(60)).unwrap();
    assert_eq!(status(&ws, "sales"), "Online");
}

#[test]
fn a_network_outage_needs_no_action() {
    // 2021: the databases go Inaccessible, then come back by themselves, even after 9 hours.
    let (mut ws, _, _) = protected(TimingProfile::Y2021);
    sql::start_network_outage(&mut ws, SERVER, 9 * 60).unwrap();
    assert!(minutes_until_inaccessible(&mut ws, 11).is_some());
    behaviour::advance(&mut ws, Duration::hours(10)).unwrap();
    assert_eq!(status(&ws, "sales"), "Online");

    // current: a 5XX cause gets a 24-hour buffer, so a 2-hour outage is never noticed.
    let (mut ws, _, _) = protected(TimingProfile::Current);
    ws.vault_mut(VAULT).unwrap().purge_protection = true;
    sql::start_network_outage(&mut ws, SERVER, 120).unwrap();
    assert_eq!(minutes_until_inaccessible(&mut ws, 180), None);
    sql::connect(&mut ws, SERVER, "sales").unwrap();
}

#[test]
fn revalidation_after_the_window_loses_exactly_the_documented_settings() {
    for profile in [TimingProfile::Y2021, TimingProfile::Current] {
        let (mut ws, kid, _) = protected(profile);
        // Configure every setting on `sales`.
        {
            let d = ws
                .server_mut(SERVER)
                .unwrap()
                .database_mut("sales")
                .unwrap();
            d.tags = vec![("env".into(), "prod".into())];
            d.settings.elastic_pool = Some("pool1".into());
            d.settings.read_scale = true;
            d.settings.auto_pause_delay_minutes = Some(60);
        }
        sql::set_ltr_policy(
            &mut ws,
            SERVER,
            "sales",
            &sql::LtrPolicy {
                weekly: Some("P4W".into()),
                ..Default::default()
            },
        )
        .unwrap();
        let partner = sql::CreateServer {
            name: "sql-partner".into(),
            resource_group: RG.into(),
            location: Some("northeurope".into()),
            admin_user: "a".into(),
            admin_password: "P@ssw0rd-2026!".into(),
            assign_identity: true,
            kind: ServerKind::SqlDatabaseServer,
        };
        sql::create_server(
            &mut ws,
            &partner,
            FixtureKeys::new().generate(2048).unwrap(),
        )
        .unwrap();
        // Geo-linked servers may share one vault: the partner links the same key.
        let partner_id = ws
            .server("sql-partner")
            .unwrap()
            .identity
            .clone()
            .unwrap()
            .principal_id;
        keyvault::set_access_policy(
            &mut ws,
            VAULT,
            &partner_id,
            &KeyPermission::TDE_REQUIRED.into_iter().collect(),
        )
        .unwrap();
        sql::add_server_key(&mut ws, "sql-partner", &kid).unwrap();
        tde_console::service::failover_group::create_failover_group(
            &mut ws,
            &tde_console::service::failover_group::CreateFailoverGroup {
                name: "fg-sales".into(),
                server: SERVER.into(),
                partner_server: "sql-partner".into(),
                policy: FailoverPolicy::Automatic,
                grace_period_hours: None,
                databases: vec!["sales".into()],
            },
        )
        .unwrap();

        let version = kid.rsplit('/').next().unwrap().to_string();
        let disable = |ws: &mut Workspace, on: bool| {
            set_key_enabled(ws, &version, on);
        };
        disable(&mut ws, false);
        behaviour::advance(&mut ws, Duration::minutes(11)).unwrap();
        assert_eq!(status(&ws, "sales"), "Inaccessible");
        // Revalidation while the key is still unusable is refused with the key's error.
        assert_eq!(
            recovery::revalidate_database(&mut ws, SERVER, "sales")
                .unwrap_err()
                .code,
            "AzureKeyVaultKeyDisabled"
        );
        behaviour::advance(&mut ws, profile.auto_heal_window() + Duration::minutes(5)).unwrap();
        disable(&mut ws, true);
        behaviour::advance(&mut ws, Duration::hours(2)).unwrap();
        assert_eq!(
            status(&ws, "sales"),
            "Inaccessible",
            "{profile:?}: no auto-heal after the window"
        );

        let d = recovery::revalidate_database(&mut ws, SERVER, "sales").unwrap();
        let DatabaseState::Recovering { since, until } = d.state else {
            panic!("{:?}", d.state)
        };
        assert_eq!(until - since, recovery::recovery_duration(&d));
        assert!(
            recovery::recovery_duration(&d)
                < recovery::recovery_duration(&Database {
                    max_size_gb: 1024,
                    ..d.clone()
                })
        );
        assert!(sql::connect(&mut ws, SERVER, "sales").is_err(), "not yet");
        let wait = until - ws.now();
        behaviour::advance(&mut ws, wait).unwrap();
        assert_eq!(status(&ws, "sales"), "Online");
        assert_eq!(
            sql::read_pages(&ws, SERVER, "sales").unwrap(),
            sql::sample_pages("sales")
        );

        let d = ws.server(SERVER).unwrap().database("sales").unwrap();
        let lost = &d.last_recovery.as_ref().unwrap().lost;
        let names: Vec<&str> = lost.iter().map(|l| l.split(" (").next().unwrap()).collect();
        let mut expected = vec![
            "failover group configuration",
            "point-in-time-restore history",
            "tags",
        ];
        if profile == TimingProfile::Current {
            expected.extend([
                "elastic pool",
                "read scale-out",
                "auto-pause",
                "long-term retention policy",
            ]);
            assert!(
                d.settings.elastic_pool.is_none()
                    && !d.settings.read_scale
                    && d.settings.ltr_weekly_retention.is_none()
            );
        } else {
            assert!(
                d.settings.elastic_pool.is_some()
                    && d.settings.read_scale
                    && d.settings.ltr_weekly_retention.is_some()
            );
        }
        assert_eq!(names, expected, "{profile:?}");
        assert!(d.tags.is_empty() && d.settings.failover_group.is_none());
        // The other database, Inaccessible too, still waits for its own revalidation.
        assert_eq!(status(&ws, "ledger"), "Inaccessible");
        recovery::revalidate_server(&mut ws, SERVER).unwrap();
        behaviour::advance(&mut ws, Duration::hours(1)).unwrap();
        assert_eq!(status(&ws, "ledger"), "Online");
    }
}

#[test]
fn auto_rotation_follows_the_newest_version_within_the_profile_window() {
    for (profile, window) in [
        (TimingProfile::Y2021, Duration::minutes(60)),
        (TimingProfile::Current, Duration::hours(24)),
    ] {
        let (mut ws, kid, keys) = protected(profile);
        ws.vault_mut(VAULT).unwrap().purge_protection = true;
        let versionless = kid.rsplit_once('/').unwrap().0.to_string();
        tde::set_protector(
            &mut ws,
            &tde::SetProtector {
                server: SERVER.into(),
                key_type: ServerKeyType::AzureKeyVault,
                kid: Some(versionless),
                auto_rotation: true,
            },
        )
        .unwrap();
        let cipher = ciphertexts(&ws);
        let (_, v2) = keyvault::create_key(
            &mut ws,
            &keyvault::CreateKey::new(VAULT, KEY, KeyType::Rsa, 2048),
            keys.generate(2048).unwrap(),
        )
        .unwrap();
        behaviour::advance(&mut ws, window).unwrap();
        let s = ws.server(SERVER).unwrap();
        assert!(
            s.protector.server_key_name.ends_with(&v2.version.0),
            "{profile:?}: {}",
            s.protector.server_key_name
        );
        assert!(s.protector.auto_rotation);
        assert_eq!(s.keys.len(), 3, "the old version stays linked for backups");
        assert_eq!(ciphertexts(&ws), cipher);
        assert_eq!(all_pages(&ws)[0], sql::sample_pages("sales")[0]);
    }
}

#[test]
fn activity_log_entries_about_failures_arrive_15_to_30_minutes_late() {
    let (mut ws, kid, _) = protected(TimingProfile::Y2021);
    let version = kid.rsplit('/').next().unwrap().to_string();
    set_key_enabled(&mut ws, &version, false);
    let m = minutes_until_inaccessible(&mut ws, 11).unwrap();
    assert!(m <= 11);
    let entry = ws
        .activity_log
        .iter()
        .find(|e| e.operation == "MakeDatabaseInaccessible")
        .unwrap()
        .clone();
    assert!(!entry.visible(ws.now()));
    let delay = entry.available_at.unwrap() - entry.time;
    assert!(
        delay >= Duration::minutes(15) && delay <= Duration::minutes(30),
        "{delay:?}"
    );
    behaviour::advance(&mut ws, Duration::minutes(30)).unwrap();
    assert!(entry.visible(ws.now()));
}

#[test]
fn the_advisor_sees_a_secondary_vault_and_missing_linked_keys() {
    use tde_console::service::advisor::advise;
    let (mut ws, kid, _) = protected(TimingProfile::Y2021);
    let check = |ws: &Workspace, name: &str| {
        advise(ws)
            .into_iter()
            .find(|r| r.check == name)
            .map(|r| r.passed)
    };
    assert_eq!(
        check(&ws, "Secondary key vault in another region"),
        Some(false)
    );
    assert_eq!(check(&ws, "Databases per key vault"), Some(true));
    // The same key material in a vault in another region.
    service::resources::create_resource_group(&mut ws, "rg-dr", "northeurope").unwrap();
    keyvault::create_vault(
        &mut ws,
        &keyvault::CreateVault {
            name: "kv-dr".into(),
            resource_group: "rg-dr".into(),
            soft_delete: Some(true),
            ..Default::default()
        },
    )
    .unwrap();
    let uri = KeyUri::parse(&kid).unwrap();
    let material = ws
        .vault(VAULT)
        .unwrap()
        .key(KEY)
        .unwrap()
        .version(uri.version.as_deref().unwrap())
        .unwrap()
        .material
        .clone();
    keyvault::create_key(
        &mut ws,
        &keyvault::CreateKey::new("kv-dr", KEY, KeyType::Rsa, 2048),
        material,
    )
    .unwrap();
    assert_eq!(
        check(&ws, "Secondary key vault in another region"),
        Some(true)
    );
    // Back to service-managed, then the old key is deleted: backups under it are stranded.
    tde::set_protector(
        &mut ws,
        &tde::SetProtector {
            server: SERVER.into(),
            key_type: ServerKeyType::ServiceManaged,
            kid: None,
            auto_rotation: false,
        },
    )
    .unwrap();
    assert_eq!(
        check(
            &ws,
            "Keys still needed by backups after switching to service-managed"
        ),
        Some(true)
    );
    keyvault::delete_key(&mut ws, VAULT, KEY).unwrap();
    assert_eq!(
        check(
            &ws,
            "Keys still needed by backups after switching to service-managed"
        ),
        Some(false)
    );
}

#[test]
fn key_backups_restore_within_a_subscription_and_geography_only() {
    let (mut ws, kid, _) = protected(TimingProfile::Y2021);
    let thumb = ws
        .server(SERVER)
        .unwrap()
        .protector_key()
        .unwrap()
        .thumbprint
        .clone();
    let blob = keyvault::backup_key(&mut ws, VAULT, KEY).unwrap();
    assert!(
        !String::from_utf8_lossy(&blob).contains("MII"),
        "the blob is sealed"
    );
    let mk = |ws: &mut Workspace, name: &str, group: &str, location: &str| {
        service::resources::create_resource_group(ws, group, location).unwrap();
        keyvault::create_vault(
            ws,
            &keyvault::CreateVault {
                name: name.into(),
                resource_group: group.into(),
                soft_delete: Some(true),
                ..Default::default()
            },
        )
        .unwrap();
    };
    // Same vault: the name exists.
    assert_eq!(
        keyvault::restore_key(&mut ws, VAULT, &blob)
            .unwrap_err()
            .code,
        "Conflict"
    );
    // Another geography (setup's vault is in westeurope).
    mk(&mut ws, "kv-us", "rg-us", "eastus");
    let e = keyvault::restore_key(&mut ws, "kv-us", &blob).unwrap_err();
    assert!(e.message.contains("geography"), "{e}");
    // Another subscription.
    mk(&mut ws, "kv-other-sub", "rg-ne", "northeurope");
    ws.vault_mut("kv-other-sub").unwrap().subscription =
        SubscriptionId("99999999-9999-4999-8999-999999999999".into());
    let e = keyvault::restore_key(&mut ws, "kv-other-sub", &blob).unwrap_err();
    assert!(e.message.contains("subscription"), "{e}");
    // Same subscription, same geography (North Europe): every version, same key material.
    mk(&mut ws, "kv-ne", "rg-ne2", "northeurope");
    let k = keyvault::restore_key(&mut ws, "kv-ne", &blob).unwrap();
    assert_eq!(k.versions.len(), 1);
    assert_eq!(k.versions[0].material.thumbprint(), thumb);
    assert!(
        kid.ends_with(&k.versions[0].version.0),
        "the version id is kept"
    );
    assert!(keyvault::restore_key(&mut ws, "kv-ne", b"not a backup").is_err());
    // The advisor now sees a fresh backup.
    let fresh = tde_console::service::advisor::advise(&ws)
        .into_iter()
        .find(|r| r.check == "Backup of the TDE protector")
        .unwrap();
    assert!(fresh.passed, "{}", fresh.detail);
}

#[test]
fn a_purged_key_comes_back_through_a_restored_backup_selected_as_backup_key() {
    let (mut ws, _, _) = protected(TimingProfile::Y2021);
    let blob = keyvault::backup_key(&mut ws, VAULT, KEY).unwrap();
    // The key and its vault are gone for good.
    ws.vaults.retain(|v| v.name != VAULT);
    behaviour::advance(&mut ws, Duration::minutes(11)).unwrap();
    assert_eq!(status(&ws, "sales"), "Inaccessible");
    // Restore the backup into another vault of the same geography and grant the server.
    service::resources::create_resource_group(&mut ws, "rg-ne", "northeurope").unwrap();
    keyvault::create_vault(
        &mut ws,
        &keyvault::CreateVault {
            name: "kv-restore".into(),
            resource_group: "rg-ne".into(),
            soft_delete: Some(true),
            ..Default::default()
        },
    )
    .unwrap();
    let k = keyvault::restore_key(&mut ws, "kv-restore", &blob).unwrap();
    let p = principal(&ws);
    keyvault::set_access_policy(
        &mut ws,
        "kv-restore",
        &p,
        &KeyPermission::TDE_REQUIRED.into_iter().collect(),
    )
    .unwrap();
    let kid = ws
        .vault("kv-restore")
        .unwrap()
        .key_uri(&k.name, &k.versions[0].version);
    // A key with other material is refused.
    let (_, other) = keyvault::create_key(
        &mut ws,
        &keyvault::CreateKey::new("kv-restore", "other", KeyType::Rsa, 2048),
        FixtureKeys::new().generate(2048).unwrap(),
    )
    .unwrap();
    let other_kid = ws
        .vault("kv-restore")
        .unwrap()
        .key_uri("other", &other.version);
    assert_eq!(
        recovery::revalidate_with_backup_key(&mut ws, SERVER, &other_kid)
            .unwrap_err()
            .code,
        "KeyMaterialNotFoundOnRemoteServer"
    );
    let names = recovery::revalidate_with_backup_key(&mut ws, SERVER, &kid).unwrap();
    assert_eq!(names.len(), 2);
    behaviour::advance(&mut ws, Duration::hours(1)).unwrap();
    assert_eq!(status(&ws, "sales"), "Online");
    assert_eq!(status(&ws, "ledger"), "Online");
    assert!(
        ws.server(SERVER)
            .unwrap()
            .protector
            .server_key_name
            .starts_with("kv-restore_")
    );
    assert_eq!(all_pages(&ws)[0], sql::sample_pages("sales")[0]);
}

#[test]
fn soft_deleted_keys_follow_purge_protection_and_retention() {
    let (mut ws, _, _) = protected(TimingProfile::Y2021);
    let me = ws.console_user.object_id.clone();
    keyvault::delete_key(&mut ws, VAULT, KEY).unwrap();
    // The name cannot be reused while the key is deleted.
    let again = keyvault::create_key(
        &mut ws,
        &keyvault::CreateKey::new(VAULT, KEY, KeyType::Rsa, 2048),
        FixtureKeys::new().generate(2048).unwrap(),
    );
    assert_eq!(again.unwrap_err().code, "Conflict");
    assert_eq!(keyvault::list_deleted_keys(&ws, VAULT).unwrap().1.len(), 1);
    // Nobody has purge by default.
    assert_eq!(
        keyvault::purge_key(&mut ws, VAULT, KEY).unwrap_err().code,
        "Forbidden"
    );
    let mut all: std::collections::BTreeSet<KeyPermission> =
        KeyPermission::ALL.into_iter().collect();
    keyvault::set_access_policy(&mut ws, VAULT, &me, &all).unwrap();
    // Purge protection (set up by `setup`) refuses until the retention period ends...
    let e = keyvault::purge_key(&mut ws, VAULT, KEY).unwrap_err();
    assert!(e.message.contains("purge protection"), "{e}");
    // ...when the clock purges it by itself.
    behaviour::advance(&mut ws, Duration::days(90)).unwrap();
    assert!(
        ws.vault(VAULT).unwrap().key(KEY).is_none(),
        "purged on schedule"
    );
    // Without purge protection, a holder of `purge` may purge at once.
    let (mut ws2, _, _) = protected(TimingProfile::Y2021);
    ws2.vault_mut(VAULT).unwrap().purge_protection = false;
    all.remove(&KeyPermission::Create);
    keyvault::set_access_policy(
        &mut ws2,
        VAULT,
        &me,
        &KeyPermission::ALL.into_iter().collect(),
    )
    .unwrap();
    keyvault::delete_key(&mut ws2, VAULT, KEY).unwrap();
    keyvault::purge_key(&mut ws2, VAULT, KEY).unwrap();
    assert!(ws2.vault(VAULT).unwrap().key(KEY).is_none());
    // A deleted vault is listed, recovered, and under purge protection not purged early.
    keyvault::delete_vault(&mut ws2, VAULT).unwrap();
    assert_eq!(keyvault::list_deleted_vaults(&ws2).len(), 1);
    ws2.vault_mut(VAULT).unwrap().purge_protection = true;
    assert_eq!(
        keyvault::purge_vault(&mut ws2, VAULT).unwrap_err().code,
        "Forbidden"
    );
    keyvault::recover_vault(&mut ws2, VAULT).unwrap();
    assert!(keyvault::list_deleted_vaults(&ws2).is_empty());
}

/// The boundaries (multiples of a minute) in `[from, to)`.
fn minute_boundaries(from: Timestamp, to: Timestamp) -> u64 {
    let ceil = |t: Timestamp| t.0.div_euclid(60) + i64::from(t.0.rem_euclid(60) != 0);
    u64::try_from(ceil(to) - ceil(from)).unwrap_or(0)
}

/// When `sales` turned Inaccessible, from its state.
fn inaccessible_since(ws: &Workspace) -> Timestamp {
    match ws.server(SERVER).unwrap().database("sales").unwrap().state {
        DatabaseState::Inaccessible { since, .. } => since,
        ref other => panic!("sales is {}", other.label()),
    }
}

/// When auto-heal brought `sales` back (the Activity Log's "transitioning" record).
fn healed_at(ws: &Workspace) -> Timestamp {
    ws.activity_log
        .iter()
        .find(|e| {
            e.operation == "MakeDatabaseAccessible"
                && e.status == ActivityStatus::Started
                && e.resource.ends_with("/databases/sales")
        })
        .map(|e| e.time)
        .expect("sales healed")
}

#[test]
fn a_customer_app_counts_every_minute_of_a_revocation_outage_exactly() {
    use service::customer_app::{self, DEFAULT_EVERY};
    let (mut ws, _, _) = protected(TimingProfile::Y2021);
    let t0 = ws.now();
    assert_eq!(t0.0 % 60, 0);
    let app = customer_app::start_customer_app(&mut ws, SERVER, "sales", DEFAULT_EVERY).unwrap();
    // Started on a boundary: its first query is at once.
    assert_eq!(app.samples(), 1);
    behaviour::advance(&mut ws, Duration::minutes(30)).unwrap();
    // Revocation: the server's access policy removed; the server notices within minutes.
    let p = principal(&ws);
    keyvault::delete_access_policy(&mut ws, VAULT, &p).unwrap();
    // The same class, clicked minute by minute: it must end exactly where one advance does.
    let mut stepwise = ws.clone();
    behaviour::advance(&mut ws, Duration::minutes(60)).unwrap();
    for _ in 0..60 {
        behaviour::advance(&mut stepwise, Duration::minutes(1)).unwrap();
        let last = stepwise.customer_apps[0].last_outcome().cloned();
        assert_eq!(last, Some(customer_app::query(&stepwise, SERVER, "sales")));
    }
    let since = inaccessible_since(&ws);
    assert!(
        since > t0 + Duration::minutes(30) && since <= t0 + Duration::minutes(51),
        "{since}"
    );
    // Access restored inside the auto-heal window: back Online within the hour.
    for w in [&mut ws, &mut stepwise] {
        grant_tde(w);
    }
    behaviour::advance(&mut ws, Duration::minutes(120)).unwrap();
    for _ in 0..120 {
        behaviour::advance(&mut stepwise, Duration::minutes(1)).unwrap();
    }
    assert_eq!(status(&ws, "sales"), "Online");
    let healed = healed_at(&ws);
    let failed = minute_boundaries(since, healed);
    assert!(failed >= 5, "an outage of {failed} minutes");
    let a = &ws.customer_apps[0];
    assert_eq!(a.samples(), 1 + 30 + 60 + 120);
    let s = customer_app::summary(a, t0 - Duration(1), ws.now());
    assert_eq!((s.ok, s.failed), (211 - failed, failed));
    assert_eq!(s.codes, vec![("40613".to_string(), failed)]);
    assert_eq!(s.down_since, None);
    assert!(
        s.first_error
            .as_deref()
            .is_some_and(|e| e.contains("'sales'") && e.contains("not currently available")),
        "{:?}",
        s.first_error
    );
    // Three runs: answered, refused with 40613 from the minute it turned Inaccessible,
    // answered again from the minute it healed.
    let runs: Vec<(Timestamp, u32, Option<&str>)> = a
        .runs
        .iter()
        .map(|r| (r.first, r.count, r.outcome.code()))
        .collect();
    let first_failed =
        Timestamp(since.0.div_euclid(60) * 60 + if since.0 % 60 == 0 { 0 } else { 60 });
    assert_eq!(runs.len(), 3, "{runs:?}");
    assert_eq!(runs[1], (first_failed, failed as u32, Some("40613")));
    // Deterministic: the minute-by-minute class ends in the same state, samples included.
    assert_eq!(stepwise.customer_apps, ws.customer_apps);
    assert!(stepwise.same_as(&ws));
}

#[test]
fn a_customer_app_keeps_a_week_of_a_month_cheaply_and_survives_a_save() {
    use service::customer_app::{self, DEFAULT_EVERY};
    let (mut ws, _, _) = protected(TimingProfile::Y2021);
    customer_app::start_customer_app(&mut ws, SERVER, "sales", DEFAULT_EVERY).unwrap();
    let started = std::time::Instant::now();
    behaviour::advance(&mut ws, Duration::days(30)).unwrap();
    let took = started.elapsed();
    let a = &ws.customer_apps[0];
    assert_eq!(
        a.samples(),
        u64::from(tde_console::model::customer_app::MAX_SAMPLES)
    );
    assert_eq!(a.runs.len(), 1, "one run of answered queries");
    assert_eq!(a.runs[0].last(a.every), ws.now());
    assert!(took < std::time::Duration::from_secs(5), "took {took:?}");
    // Stopped, it queries no more; the file keeps it.
    customer_app::stop_customer_app(&mut ws, SERVER, "sales").unwrap();
    behaviour::advance(&mut ws, Duration::hours(1)).unwrap();
    assert_eq!(
        ws.customer_apps[0].runs[0].last(DEFAULT_EVERY),
        ws.now() - Duration::hours(1)
    );
    let text = tde_console::persist::to_ron(&ws).unwrap();
    let back = tde_console::persist::from_ron(&text, std::path::Path::new("t.ron")).unwrap();
    assert_eq!(back.customer_apps, ws.customer_apps);
    // Bad input changes nothing.
    let before = ws.clone();
    for every in [
        Duration::seconds(30),
        Duration::seconds(90),
        Duration::hours(2),
    ] {
        assert!(customer_app::start_customer_app(&mut ws, SERVER, "sales", every).is_err());
    }
    assert_eq!(
        customer_app::start_customer_app(&mut ws, SERVER, "nope", DEFAULT_EVERY)
            .unwrap_err()
            .code,
        "ResourceNotFound"
    );
    assert_eq!(
        customer_app::stop_customer_app(&mut ws, SERVER, "sales")
            .unwrap_err()
            .code,
        "CustomerAppStopped"
    );
    assert!(ws.same_as(&before));
    // Started again, it resumes after a gap: a new run.
    customer_app::start_customer_app(&mut ws, SERVER, "sales", DEFAULT_EVERY).unwrap();
    assert_eq!(ws.customer_apps[0].runs.len(), 2);
    assert_eq!(
        customer_app::start_customer_app(&mut ws, SERVER, "sales", DEFAULT_EVERY)
            .unwrap_err()
            .code,
        "CustomerAppRunning"
    );
}

/// A dedicated SQL pool (edition DataWarehouse, DW100c) on the protected server.
fn with_pool(ws: &mut Workspace) {
    let d = service::dw::create_pool(
        ws,
        &service::dw::CreatePool {
            server: SERVER.into(),
            name: "pool1".into(),
            service_objective: Some("DW100c".into()),
            ..Default::default()
        },
    )
    .unwrap();
    assert!(d.is_data_warehouse() && d.tde_enabled());
    assert_eq!(d.sku.as_ref().unwrap().service_objective, "DW100c");
}

#[test]
fn a_pool_under_a_cmk_server_goes_inaccessible_and_heals_like_a_database() {
    let (mut ws, _, _) = protected(TimingProfile::Y2021);
    with_pool(&mut ws);
    let protector = ws.server(SERVER).unwrap().protector.server_key_name.clone();
    let w = ws
        .server(SERVER)
        .unwrap()
        .database("pool1")
        .unwrap()
        .dek
        .clone()
        .unwrap();
    assert_eq!(
        w.server_key_name, protector,
        "the pool's DEK is under the protector"
    );
    keyvault::delete_vault(&mut ws, VAULT).unwrap();
    behaviour::advance(&mut ws, Duration::minutes(11)).unwrap();
    assert_eq!(status(&ws, "pool1"), "Inaccessible");
    assert!(sql::connect(&mut ws, SERVER, "pool1").is_err());
    // An Inaccessible pool cannot be paused.
    let e = service::dw::pause_pool(&mut ws, SERVER, "pool1").unwrap_err();
    assert_eq!(e.code, "DatabaseInaccessible");
    keyvault::recover_vault(&mut ws, VAULT).unwrap();
    behaviour::advance(&mut ws, Duration::minutes(60)).unwrap();
    assert_eq!(status(&ws, "pool1"), "Online");
    let pages = sql::read_pages(&ws, SERVER, "pool1").unwrap();
    assert!(String::from_utf8_lossy(&pages[0]).starts_with("pool1|"));
}

#[test]
fn a_paused_pool_keeps_its_old_key_version_and_resumes_once_it_is_enabled_again() {
    let (mut ws, kid, keys) = protected(TimingProfile::Y2021);
    with_pool(&mut ws);
    let old_version = kid.rsplit('/').next().unwrap().to_string();
    let old_key = ws.server(SERVER).unwrap().protector.server_key_name.clone();
    let p = service::dw::pause_pool(&mut ws, SERVER, "pool1").unwrap();
    assert_eq!(p.state.label(), "Paused");
    // A paused pool refuses connections, but is not a lost key: it does not go Inaccessible.
    assert_eq!(
        sql::connect(&mut ws, SERVER, "pool1").unwrap_err().code,
        "40613"
    );
    // Rotation: a new version becomes the protector; the online databases are re-wrapped,
    // the paused pool is skipped.
    let v2 =
        service::rotation::rotate_key(&mut ws, VAULT, KEY, keys.generate(2048).unwrap()).unwrap();
    let kid2 = ws.vault(VAULT).unwrap().key_uri(KEY, &v2.version);
    link_as_protector(&mut ws, &kid2);
    let s = ws.server(SERVER).unwrap();
    let new_key = s.protector.server_key_name.clone();
    assert_ne!(new_key, old_key);
    for db in ["sales", "ledger"] {
        assert_eq!(
            s.database(db)
                .unwrap()
                .dek
                .as_ref()
                .unwrap()
                .server_key_name,
            new_key
        );
    }
    assert_eq!(
        s.database("pool1")
            .unwrap()
            .dek
            .as_ref()
            .unwrap()
            .server_key_name,
        old_key
    );
    assert_eq!(tde::protector_coverage(&ws, SERVER).unwrap(), (2, 3));
    // The old server key is still needed: it cannot be removed.
    assert_eq!(
        sql::delete_server_key(&mut ws, SERVER, &old_key)
            .unwrap_err()
            .code,
        "AzureKeyVaultKeyInUse"
    );
    // The Advisor warns that the paused pool needs the old version.
    let warn = service::advisor::advise(&ws)
        .into_iter()
        .find(|r| r.check == "Paused dedicated SQL pools keep the old key version")
        .expect("the Advisor warns about the paused pool");
    assert!(
        !warn.passed && warn.detail.contains(&old_version),
        "{}",
        warn.detail
    );
    // The old version disabled: the pool cannot resume, and stays Paused.
    set_key_enabled(&mut ws, &old_version, false);
    behaviour::advance(&mut ws, Duration::minutes(15)).unwrap();
    assert_eq!(status(&ws, "pool1"), "Paused");
    assert_eq!(status(&ws, "sales"), "Online");
    let before = ws.clone();
    let e = service::dw::resume_pool(&mut ws, SERVER, "pool1").unwrap_err();
    assert_eq!(e.code, "AzureKeyVaultKeyDisabled", "{e}");
    assert!(e.message.contains(&old_version), "{e}");
    assert!(unchanged_but_its_trace(&ws, &before).is_some());
    let high = service::advisor::advise(&ws)
        .into_iter()
        .find(|r| r.check == "Paused dedicated SQL pools keep the old key version")
        .unwrap();
    assert_eq!(high.severity, service::advisor::Severity::High);
    // Enabled again: it resumes, and is re-encrypted under the current protector.
    set_key_enabled(&mut ws, &old_version, true);
    let d = service::dw::resume_pool(&mut ws, SERVER, "pool1").unwrap();
    assert_eq!(d.state.label(), "Online");
    assert_eq!(d.dek.as_ref().unwrap().server_key_name, new_key);
    assert_eq!(tde::protector_coverage(&ws, SERVER).unwrap(), (3, 3));
    sql::connect(&mut ws, SERVER, "pool1").unwrap();
    // Now the old key can go.
    sql::delete_server_key(&mut ws, SERVER, &old_key).unwrap();
}

/// An operation on the workspace that is expected to fail.
type Attempt = Box<dyn Fn(&mut Workspace) -> service::ServiceResult<()>>;

#[test]
fn pool_operations_refuse_bad_input_and_change_nothing() {
    let (mut ws, _, _) = protected(TimingProfile::Current);
    with_pool(&mut ws);
    service::dw::pause_pool(&mut ws, SERVER, "pool1").unwrap();
    let attempts: Vec<(&str, Attempt)> = vec![
        (
            "FeatureDisabledOnSelectedEdition",
            Box::new(|ws| service::dw::pause_pool(ws, SERVER, "sales").map(|_| ())),
        ),
        (
            "FeatureDisabledOnSelectedEdition",
            Box::new(|ws| service::dw::resume_pool(ws, SERVER, "ledger").map(|_| ())),
        ),
        (
            "DatabaseIsPaused",
            Box::new(|ws| {
                service::dw::update_pool(ws, SERVER, "pool1", Some("DW200c"), None).map(|_| ())
            }),
        ),
        (
            "DatabaseIsPaused",
            Box::new(|ws| sql::set_database_tde(ws, SERVER, "pool1", false).map(|_| ())),
        ),
        (
            "InvalidServiceObjective",
            Box::new(|ws| {
                service::dw::create_pool(
                    ws,
                    &service::dw::CreatePool {
                        server: SERVER.into(),
                        name: "p2".into(),
                        service_objective: Some("S0".into()),
                        ..Default::default()
                    },
                )
                .map(|_| ())
            }),
        ),
        (
            "InvalidMaxSizeTierCombination",
            Box::new(|ws| {
                service::dw::create_pool(
                    ws,
                    &service::dw::CreatePool {
                        server: SERVER.into(),
                        name: "p3".into(),
                        max_size_gb: Some(service::dw::MAX_SIZE_GB + 1),
                        ..Default::default()
                    },
                )
                .map(|_| ())
            }),
        ),
        (
            "DatabaseAlreadyExists",
            Box::new(|ws| {
                service::dw::create_pool(
                    ws,
                    &service::dw::CreatePool {
                        server: SERVER.into(),
                        name: "pool1".into(),
                        ..Default::default()
                    },
                )
                .map(|_| ())
            }),
        ),
        (
            "ResourceNotFound",
            Box::new(|ws| service::dw::pause_pool(ws, "nope", "pool1").map(|_| ())),
        ),
    ];
    for (code, attempt) in attempts {
        let before = ws.clone();
        let e = attempt(&mut ws).unwrap_err();
        assert_eq!(e.code, code, "{e}");
        assert!(unchanged_but_its_trace(&ws, &before).is_some(), "{code}");
    }
    // Pausing a paused pool, resuming an online one: nothing to do.
    service::dw::pause_pool(&mut ws, SERVER, "pool1").unwrap();
    service::dw::resume_pool(&mut ws, SERVER, "pool1").unwrap();
    let d = service::dw::resume_pool(&mut ws, SERVER, "pool1").unwrap();
    assert_eq!(d.state.label(), "Online");
    let d = service::dw::update_pool(&mut ws, SERVER, "pool1", Some("DW200c"), None).unwrap();
    assert_eq!(d.sku.unwrap().service_objective, "DW200c");
    assert_eq!(service::dw::list_pools(&ws, SERVER).unwrap().len(), 1);
}
