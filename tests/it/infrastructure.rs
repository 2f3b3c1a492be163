//! Azure SQL infrastructure encryption: Microsoft's switch modelled by `sim`, the read-only
//! `isInfraEncryptionEnabled`, and pages really encrypted twice (DEK inside, the server's
//! platform key outside), through the operations layer and the shell.

use crate::common;

use common::*;
use serde_json::Value;
use tde_console::crypto::layered::{PageLayers, remove_outer};
use tde_console::crypto::{DataEncryptionKey, EncryptedPage, WrapAlgorithm};
use tde_console::model::*;
use tde_console::service::backup::{RestoreRequest, RestoreSource};
use tde_console::service::georeplication::{self as geo, CreateReplica};
use tde_console::service::{self, KeySource, behaviour, infrastructure, sql};
use tde_console::shell::Shell;

fn run(sh: &mut Shell, ws: &mut Workspace, line: &str) -> Value {
    let r = sh.run_line(ws, line);
    assert!(r.ok, "{line}: {}", r.stderr);
    serde_json::from_str(r.stdout.trim()).unwrap_or(Value::Null)
}

fn enable_line() -> String {
    format!("sim sql server infrastructure-encryption enable -g {RG} -n {SERVER}")
}

fn platform_key(ws: &Workspace, server: &str) -> DataEncryptionKey {
    let k = &ws
        .server(server)
        .unwrap()
        .infrastructure_encryption
        .as_ref()
        .expect("enabled")
        .platform_key;
    DataEncryptionKey::from_bytes(&k.0).unwrap()
}

/// The DEK of a database under service-managed TDE, unwrapped with the server's own key.
fn service_managed_dek(ws: &Workspace, server: &str, db: &str) -> DataEncryptionKey {
    let s = ws.server(server).unwrap();
    let d = s.database(db).unwrap();
    let bytes = s
        .service_managed_key
        .unwrap_key(WrapAlgorithm::RsaOaep256, &d.dek.as_ref().unwrap().wrapped)
        .unwrap();
    DataEncryptionKey::from_bytes(&bytes).unwrap()
}

fn stored_pages(ws: &Workspace, server: &str, db: &str) -> Vec<EncryptedPage> {
    match &ws.server(server).unwrap().database(db).unwrap().pages {
        PageStore::Encrypted(p) => p.clone(),
        PageStore::Plain(_) => panic!("{db}: pages in the clear"),
    }
}

#[test]
fn microsofts_switch_is_a_sim_request_and_applies_to_new_databases() {
    let keys = FixtureKeys::new();
    let (mut ws, _) = setup(&keys);
    let mut sh = Shell::new().with_keys(FixtureKeys::boxed());
    let show = format!("sim sql server infrastructure-encryption show -g {RG} -n {SERVER}");
    let before = run(&mut sh, &mut ws, &show);
    assert_eq!(before["infrastructureEncryption"], "Disabled");
    // No az switch exists: az's own parser refuses the flag.
    let r = sh.run_line(
        &mut ws,
        &format!("az sql server update -g {RG} -n {SERVER} --infrastructure-encryption Enabled"),
    );
    assert!(!r.ok);
    let on = run(&mut sh, &mut ws, &enable_line());
    assert_eq!(on["infrastructureEncryption"], "Enabled");
    assert_eq!(on["algorithm"], "AES-256");
    assert_eq!(on["enabledDate"], ws.now().to_iso());
    // Asked again: refused, nothing changes.
    let snapshot = ws.clone();
    let again =
        infrastructure::enable(&mut ws, SERVER, RG, ServerKind::SqlDatabaseServer).unwrap_err();
    assert_eq!(again.code, "InfrastructureEncryptionAlreadyEnabled");
    assert!(ws.same_as(&snapshot));
    // Wrong group, wrong kind, unknown server.
    assert_eq!(
        infrastructure::enable(&mut ws, SERVER, "nope", ServerKind::SqlDatabaseServer)
            .unwrap_err()
            .code,
        "ResourceGroupNotFound"
    );
    assert_eq!(
        infrastructure::enable(&mut ws, SERVER, RG, ServerKind::ManagedInstance)
            .unwrap_err()
            .code,
        "ResourceNotFound"
    );
    let r = sh.run_line(
        &mut ws,
        &format!("sim sql server infrastructure-encryption enable -g {RG} -n nope"),
    );
    assert!(!r.ok && r.stderr.contains("nope"), "{}", r.stderr);
    // The server JSON has no such field (Azure has none); the databases have theirs.
    let server = run(
        &mut sh,
        &mut ws,
        &format!("az sql server show -g {RG} -n {SERVER}"),
    );
    assert!(
        !server.to_string().to_lowercase().contains("infra"),
        "{server}"
    );
    let old = run(
        &mut sh,
        &mut ws,
        &format!("az sql db show -g {RG} -s {SERVER} -n sales"),
    );
    assert_eq!(old["isInfraEncryptionEnabled"], false);
    let new = run(
        &mut sh,
        &mut ws,
        &format!("az sql db create -g {RG} -s {SERVER} -n orders --service-objective S0"),
    );
    assert_eq!(new["isInfraEncryptionEnabled"], true);
    let shown = run(&mut sh, &mut ws, &show);
    let dbs: Vec<(String, bool)> = shown["databases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["name"].as_str().unwrap().to_string(),
                d["isInfraEncryptionEnabled"].as_bool().unwrap(),
            )
        })
        .collect();
    assert!(dbs.contains(&("sales".into(), false)));
    assert!(dbs.contains(&("orders".into(), true)));
    // The platform key is never shown.
    let key = ws
        .server(SERVER)
        .unwrap()
        .infrastructure_encryption
        .clone()
        .unwrap();
    let b64 = tde_console::crypto::b64url(&key.platform_key.0);
    assert!(!shown.to_string().contains(&b64));
    assert!(!format!("{key:?}").contains(&b64));
}

#[test]
fn pages_under_infrastructure_encryption_open_only_with_both_layers() {
    let keys = FixtureKeys::new();
    let (mut ws, _) = setup(&keys);
    infrastructure::enable(&mut ws, SERVER, RG, ServerKind::SqlDatabaseServer).unwrap();
    sql::create_database(
        &mut ws,
        &sql::CreateDatabase::new(SERVER, "orders", ServiceTier::GeneralPurpose, 32),
    )
    .unwrap();
    // Through the service: the sample rows.
    assert_eq!(
        sql::read_pages(&ws, SERVER, "orders").unwrap(),
        sql::sample_pages("orders")
    );
    sql::connect(&mut ws, SERVER, "orders").unwrap();
    let dek = service_managed_dek(&ws, SERVER, "orders");
    let platform = platform_key(&ws, SERVER);
    let pages = stored_pages(&ws, SERVER, "orders");
    for (n, p) in pages.iter().enumerate() {
        let text = &sql::sample_pages("orders")[n];
        // The DEK alone or the platform key alone does not give the rows.
        assert!(dek.decrypt_page(p).is_err());
        let outer_off = PageLayers::new(None, Some(&platform))
            .decrypt_page(p)
            .unwrap();
        assert_ne!(&outer_off, text);
        assert!(!String::from_utf8_lossy(&outer_off).contains("Customer"));
        // Both: the rows; and the inner page is an ordinary DEK page.
        assert_eq!(
            &PageLayers::new(Some(&dek), Some(&platform))
                .decrypt_page(p)
                .unwrap(),
            text
        );
        assert_eq!(
            &dek.decrypt_page(&remove_outer(&platform, p).unwrap())
                .unwrap(),
            text
        );
    }
    // A database from before the request: one layer, as always.
    let sales_dek = service_managed_dek(&ws, SERVER, "sales");
    for p in stored_pages(&ws, SERVER, "sales") {
        assert!(sales_dek.decrypt_page(&p).is_ok());
    }
    // A wrong platform key: the DEK still unwraps, but the pages no longer authenticate.
    let mut broken = ws.clone();
    std::sync::Arc::make_mut(
        broken
            .servers
            .iter_mut()
            .find(|s| s.name == SERVER)
            .unwrap(),
    )
    .infrastructure_encryption
    .as_mut()
    .unwrap()
    .platform_key = PlatformKey(vec![9u8; 32]);
    assert!(sql::read_pages(&broken, SERVER, "orders").is_err());
    assert!(sql::connect(&mut broken, SERVER, "orders").is_err());
    assert!(sql::read_pages(&broken, SERVER, "sales").is_ok());
    // TDE off and on again keeps the rows (the new DEK inside the platform layer).
    sql::set_database_tde(&mut ws, SERVER, "orders", false).unwrap();
    sql::set_database_tde(&mut ws, SERVER, "orders", true).unwrap();
    assert_eq!(
        sql::read_pages(&ws, SERVER, "orders").unwrap(),
        sql::sample_pages("orders")
    );
    let dek = service_managed_dek(&ws, SERVER, "orders");
    assert!(
        dek.decrypt_page(&stored_pages(&ws, SERVER, "orders")[0])
            .is_err()
    );
}

#[test]
fn losing_the_customer_key_still_makes_the_database_inaccessible_and_it_heals() {
    let keys = FixtureKeys::new();
    let (mut ws, kid) = setup(&keys);
    protect(&mut ws, &kid);
    infrastructure::enable(&mut ws, SERVER, RG, ServerKind::SqlDatabaseServer).unwrap();
    sql::create_database(
        &mut ws,
        &sql::CreateDatabase::new(SERVER, "orders", ServiceTier::GeneralPurpose, 32),
    )
    .unwrap();
    let version = kid.rsplit('/').next().unwrap().to_string();
    set_key_enabled(&mut ws, &version, false);
    behaviour::advance(&mut ws, Duration::minutes(10)).unwrap();
    assert_eq!(status(&ws, "orders"), "Inaccessible");
    // The platform layer is no way in: the DEK layer is still locked.
    assert!(sql::read_pages(&ws, SERVER, "orders").is_err());
    set_key_enabled(&mut ws, &version, true);
    behaviour::advance(&mut ws, Duration::minutes(60)).unwrap();
    assert_eq!(status(&ws, "orders"), "Online");
    assert_eq!(
        sql::read_pages(&ws, SERVER, "orders").unwrap(),
        sql::sample_pages("orders")
    );
}

#[test]
fn restores_copies_and_geo_secondaries_take_the_target_servers_layer() {
    let keys = FixtureKeys::new();
    let (mut ws, _) = setup(&keys);
    sql::create_server(
        &mut ws,
        &sql::CreateServer {
            name: "sql-partner".into(),
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
    infrastructure::enable(&mut ws, SERVER, RG, ServerKind::SqlDatabaseServer).unwrap();
    sql::create_database(
        &mut ws,
        &sql::CreateDatabase::new(SERVER, "orders", ServiceTier::GeneralPurpose, 32),
    )
    .unwrap();
    let rows = sql::sample_pages("orders");
    // Geo-secondary on a server without the layer: the same DEK pages, platform layer off.
    geo::create_replica(
        &mut ws,
        &CreateReplica {
            server: SERVER.into(),
            database: "orders".into(),
            partner_server: "sql-partner".into(),
            partner_database: None,
        },
    )
    .unwrap();
    let secondary = ws
        .server("sql-partner")
        .unwrap()
        .database("orders")
        .unwrap();
    assert!(!secondary.infra_encrypted);
    assert_eq!(sql::read_pages(&ws, "sql-partner", "orders").unwrap(), rows);
    // ... and back again from a secondary with the layer: the partner enables it, a
    // second database replicates from it to the primary server.
    infrastructure::enable(&mut ws, "sql-partner", RG, ServerKind::SqlDatabaseServer).unwrap();
    sql::create_database(
        &mut ws,
        &sql::CreateDatabase::new("sql-partner", "audit", ServiceTier::GeneralPurpose, 32),
    )
    .unwrap();
    geo::create_replica(
        &mut ws,
        &CreateReplica {
            server: "sql-partner".into(),
            database: "audit".into(),
            partner_server: SERVER.into(),
            partner_database: None,
        },
    )
    .unwrap();
    let on_primary = ws.server(SERVER).unwrap().database("audit").unwrap();
    assert!(on_primary.infra_encrypted);
    assert_eq!(
        sql::read_pages(&ws, SERVER, "audit").unwrap(),
        sql::sample_pages("audit")
    );
    // Raw pages of the two copies differ (each server's platform key), the rows do not.
    assert_ne!(
        stored_pages(&ws, SERVER, "audit"),
        stored_pages(&ws, "sql-partner", "audit")
    );
    // Point-in-time restore to the same server: a new database, under the layer.
    behaviour::advance(&mut ws, Duration::minutes(20)).unwrap();
    let point = ws.now() - Duration::minutes(5);
    service::backup::restore_database(
        &mut ws,
        &RestoreRequest {
            source_server: SERVER.into(),
            source_database: "orders".into(),
            source: RestoreSource::PointInTime { time: point },
            target_server: SERVER.into(),
            dest_name: "orders-restored".into(),
            tier: None,
        },
    )
    .unwrap();
    behaviour::advance(&mut ws, Duration::minutes(30)).unwrap();
    let restored = ws
        .server(SERVER)
        .unwrap()
        .database("orders-restored")
        .unwrap();
    assert!(restored.infra_encrypted);
    assert_eq!(status(&ws, "orders-restored"), "Online");
    assert_eq!(
        sql::read_pages(&ws, SERVER, "orders-restored").unwrap(),
        sql::sample_pages("orders-restored")
    );
    let dek = service_managed_dek(&ws, SERVER, "orders-restored");
    assert!(
        dek.decrypt_page(&stored_pages(&ws, SERVER, "orders-restored")[0])
            .is_err()
    );
    // A copy on the partner (layer on) reads the same rows.
    let mut sh = Shell::new().with_keys(FixtureKeys::boxed());
    let copy = run(
        &mut sh,
        &mut ws,
        &format!(
            "az sql db copy -g {RG} -s {SERVER} -n orders --dest-name orders-copy --dest-server sql-partner"
        ),
    );
    assert_eq!(copy["isInfraEncryptionEnabled"], true);
    assert_eq!(
        sql::read_pages(&ws, "sql-partner", "orders-copy").unwrap(),
        rows
    );
}

#[test]
fn the_property_survives_save_and_reopen_and_older_files_still_open() {
    let keys = FixtureKeys::new();
    let (mut ws, _) = setup(&keys);
    // A file from before the field: no server or database names it.
    let old_text = tde_console::persist::to_ron(&ws).unwrap();
    assert!(!old_text.contains("infrastructure_encryption"));
    assert!(!old_text.contains("infra_encrypted"));
    let old = tde_console::persist::from_ron(&old_text, std::path::Path::new("old.ron")).unwrap();
    assert!(
        old.server(SERVER)
            .unwrap()
            .infrastructure_encryption
            .is_none()
    );
    infrastructure::enable(&mut ws, SERVER, RG, ServerKind::SqlDatabaseServer).unwrap();
    sql::create_database(
        &mut ws,
        &sql::CreateDatabase::new(SERVER, "orders", ServiceTier::GeneralPurpose, 32),
    )
    .unwrap();
    let text = tde_console::persist::to_ron(&ws).unwrap();
    let back = tde_console::persist::from_ron(&text, std::path::Path::new("new.ron")).unwrap();
    assert!(back == ws);
    assert!(
        back.server(SERVER)
            .unwrap()
            .infrastructure_encryption
            .is_some()
    );
    assert!(
        back.server(SERVER)
            .unwrap()
            .database("orders")
            .unwrap()
            .infra_encrypted
    );
    assert_eq!(
        sql::read_pages(&back, SERVER, "orders").unwrap(),
        sql::sample_pages("orders")
    );
}

#[test]
fn a_managed_instance_takes_the_request_too() {
    let keys = FixtureKeys::new();
    let (mut ws, _) = setup(&keys);
    sql::create_server(
        &mut ws,
        &sql::CreateServer {
            name: "mi-test".into(),
            resource_group: RG.into(),
            location: None,
            admin_user: "sqladmin".into(),
            admin_password: "P@ssw0rd-2026!".into(),
            assign_identity: true,
            kind: ServerKind::ManagedInstance,
        },
        keys.generate(2048).unwrap(),
    )
    .unwrap();
    let mut sh = Shell::new().with_keys(FixtureKeys::boxed());
    // A managed instance is not a logical server, and the other way round.
    assert!(
        !sh.run_line(
            &mut ws,
            &format!("sim sql server infrastructure-encryption enable -g {RG} -n mi-test")
        )
        .ok
    );
    assert!(
        !sh.run_line(
            &mut ws,
            &format!("sim sql mi infrastructure-encryption enable -g {RG} -n {SERVER}")
        )
        .ok
    );
    let on = run(
        &mut sh,
        &mut ws,
        &format!("sim sql mi infrastructure-encryption enable -g {RG} -n mi-test"),
    );
    assert_eq!(on["type"], "Microsoft.Sql/managedInstances");
    assert_eq!(on["infrastructureEncryption"], "Enabled");
    sql::create_database(
        &mut ws,
        &sql::CreateDatabase::new("mi-test", "hr", ServiceTier::GeneralPurpose, 32),
    )
    .unwrap();
    assert!(
        ws.server("mi-test")
            .unwrap()
            .database("hr")
            .unwrap()
            .infra_encrypted
    );
    assert_eq!(
        sql::read_pages(&ws, "mi-test", "hr").unwrap(),
        sql::sample_pages("hr")
    );
}
