//! Database-level customer-managed keys: a database with its own encryption protector is
//! re-wrapped (pages untouched), loses and regains access on its own, keeps its key when the
//! server's protector changes, and `az sql db tde key revert` takes it back to the server's
//! protector, also as the way out of Inaccessible.

use crate::common;

use common::*;
use tde_console::model::*;
use tde_console::service::{self, KeySource, behaviour, database_key, keyvault, sql, tde};
use tde_console::shell::Shell;
use tde_console::sim::{Duration, TimingProfile};

const DB_KEY: &str = "sales-key";

/// The server protected by `KEY`; `sales` given its own key `DB_KEY` in the same vault.
/// Returns the workspace, the database key's id and the fixture key source.
fn with_database_key() -> (Workspace, String, FixtureKeys) {
    let keys = FixtureKeys::new();
    let (mut ws, kid) = setup(&keys);
    service::set_profile(&mut ws, TimingProfile::Y2021).unwrap();
    protect(&mut ws, &kid);
    let (_, v) = keyvault::create_key(
        &mut ws,
        &keyvault::CreateKey::new(VAULT, DB_KEY, KeyType::Rsa, 3072),
        keys.generate(3072).unwrap(),
    )
    .unwrap();
    let db_kid = ws.vault(VAULT).unwrap().key_uri(DB_KEY, &v.version);
    (ws, db_kid, keys)
}

/// A user-assigned identity with TDE's permissions on the vault, given to database `db`.
fn give_database_an_identity(ws: &mut Workspace, db: &str) {
    let u = service::identity::create_identity(ws, "umi-db", RG, None).unwrap();
    keyvault::set_access_policy(
        ws,
        VAULT,
        &u.principal_id,
        &KeyPermission::TDE_REQUIRED.into_iter().collect(),
    )
    .unwrap();
    database_key::set_database_identity(ws, SERVER, db, &u.arm_id()).unwrap();
}

fn database(ws: &Workspace, db: &str) -> Database {
    ws.server(SERVER).unwrap().database(db).unwrap().clone()
}

fn set_enabled(ws: &mut Workspace, key: &str, enabled: bool) {
    keyvault::set_key_attributes(
        ws,
        VAULT,
        key,
        None,
        &keyvault::KeyAttributes {
            enabled: Some(enabled),
            ..Default::default()
        },
    )
    .unwrap();
}

#[test]
fn a_database_key_rewraps_only_that_database_and_leaves_its_pages_alone() {
    let (mut ws, db_kid, _) = with_database_key();
    let before = ciphertexts(&ws);
    let protector = ws.server(SERVER).unwrap().protector.server_key_name.clone();
    let d = database_key::set_database_protector(&mut ws, SERVER, "sales", &db_kid, false).unwrap();
    let own = d.encryption_protector.clone().unwrap();
    assert!(own.starts_with(&format!("{VAULT}_{DB_KEY}_")), "{own}");
    let w = d.dek.as_ref().unwrap();
    assert_eq!(w.server_key_name, own);
    assert_eq!(
        w.wrapped.len(),
        384,
        "wrapped with the 3072-bit database key"
    );
    let s = ws.server(SERVER).unwrap();
    assert_eq!(s.key(&own).unwrap().thumbprint, w.thumbprint);
    assert_eq!(
        database(&ws, "ledger").dek.unwrap().server_key_name,
        protector,
        "the other database still follows the server"
    );
    assert_eq!(ciphertexts(&ws), before, "pages are not re-encrypted");
    assert_eq!(
        sql::read_pages(&ws, SERVER, "sales").unwrap(),
        sql::sample_pages("sales")
    );
    // (on the protector, following it): `sales` no longer follows the server's protector.
    assert_eq!(tde::protector_coverage(&ws, SERVER).unwrap(), (1, 1));
}

#[test]
fn losing_the_database_key_makes_only_that_database_inaccessible_and_it_heals() {
    let (mut ws, db_kid, _) = with_database_key();
    database_key::set_database_protector(&mut ws, SERVER, "sales", &db_kid, false).unwrap();
    set_enabled(&mut ws, DB_KEY, false);
    let mut took = None;
    for m in 1..=11 {
        behaviour::advance(&mut ws, Duration::minutes(1)).unwrap();
        if status(&ws, "sales") == "Inaccessible" {
            took = Some(m);
            break;
        }
    }
    assert!(took.is_some_and(|m| m <= 11), "{took:?}");
    behaviour::advance(&mut ws, Duration::minutes(30)).unwrap();
    assert_eq!(status(&ws, "sales"), "Inaccessible");
    assert_eq!(status(&ws, "ledger"), "Online", "the server's key is fine");
    let failure = ws
        .activity_log
        .iter()
        .find(|e| e.operation == behaviour::KEY_ACCESS_FAILURE)
        .unwrap();
    assert!(
        failure
            .message
            .contains("the encryption protector of database sales"),
        "{}",
        failure.message
    );
    assert!(failure.message.contains(DB_KEY), "{}", failure.message);
    // Only `sales` went Inaccessible.
    let inaccessible: Vec<&str> = ws
        .activity_log
        .iter()
        .filter(|e| e.operation == "MakeDatabaseInaccessible")
        .map(|e| e.resource.rsplit('/').next().unwrap())
        .collect();
    assert_eq!(inaccessible, ["sales", "sales"]);

    set_enabled(&mut ws, DB_KEY, true);
    behaviour::advance(&mut ws, Duration::minutes(60)).unwrap();
    assert_eq!(status(&ws, "sales"), "Online");
    assert_eq!(
        sql::read_pages(&ws, SERVER, "sales").unwrap(),
        sql::sample_pages("sales")
    );
}

#[test]
fn losing_the_server_protector_spares_a_database_with_its_own_key() {
    let (mut ws, db_kid, _) = with_database_key();
    database_key::set_database_protector(&mut ws, SERVER, "sales", &db_kid, false).unwrap();
    set_enabled(&mut ws, KEY, false);
    behaviour::advance(&mut ws, Duration::minutes(11)).unwrap();
    assert_eq!(status(&ws, "ledger"), "Inaccessible");
    assert_eq!(status(&ws, "sales"), "Online");
    sql::connect(&mut ws, SERVER, "sales").unwrap();
}

#[test]
fn the_server_protector_changing_leaves_a_database_key_in_place() {
    let (mut ws, db_kid, keys) = with_database_key();
    database_key::set_database_protector(&mut ws, SERVER, "sales", &db_kid, false).unwrap();
    let own = database(&ws, "sales").dek.unwrap();
    let (_, v2) = keyvault::create_key(
        &mut ws,
        &keyvault::CreateKey::new(VAULT, KEY, KeyType::Rsa, 2048),
        keys.generate(2048).unwrap(),
    )
    .unwrap();
    let kid2 = ws.vault(VAULT).unwrap().key_uri(KEY, &v2.version);
    link_as_protector(&mut ws, &kid2);
    assert_eq!(database(&ws, "sales").dek.unwrap(), own);
    assert!(
        database(&ws, "ledger")
            .dek
            .unwrap()
            .server_key_name
            .ends_with(&v2.version.0)
    );
    // A key still in use by a database cannot be unlinked.
    let e = sql::delete_server_key(&mut ws, SERVER, &own.server_key_name).unwrap_err();
    assert_eq!(e.code, "AzureKeyVaultKeyInUse");
}

#[test]
fn revert_rewraps_with_the_server_protector() {
    let (mut ws, db_kid, _) = with_database_key();
    let before = ciphertexts(&ws);
    database_key::set_database_protector(&mut ws, SERVER, "sales", &db_kid, false).unwrap();
    let d = database_key::revert_database_protector(&mut ws, SERVER, "sales").unwrap();
    let s = ws.server(SERVER).unwrap();
    assert_eq!(d.encryption_protector, None);
    let w = d.dek.unwrap();
    assert_eq!(w.server_key_name, s.protector.server_key_name);
    assert_eq!(w.thumbprint, s.protector_key().unwrap().thumbprint);
    assert_eq!(ciphertexts(&ws), before);
    assert_eq!(
        sql::read_pages(&ws, SERVER, "sales").unwrap(),
        sql::sample_pages("sales")
    );
    assert_eq!(tde::protector_coverage(&ws, SERVER).unwrap(), (2, 2));

    // Reverting again: nothing to revert, nothing changes.
    let snapshot = format!("{:?}", ws.servers);
    let e = database_key::revert_database_protector(&mut ws, SERVER, "sales").unwrap_err();
    assert_eq!(e.code, "DatabaseEncryptionProtectorNotSet");
    assert!(
        e.message
            .contains("already uses the server's TDE protector")
    );
    assert_eq!(format!("{:?}", ws.servers), snapshot);
}

#[test]
fn revert_after_the_window_brings_an_inaccessible_database_back_on_the_server_key() {
    let (mut ws, db_kid, _) = with_database_key();
    database_key::set_database_protector(&mut ws, SERVER, "sales", &db_kid, false).unwrap();
    set_enabled(&mut ws, DB_KEY, false);
    behaviour::advance(&mut ws, Duration::minutes(11)).unwrap();
    assert_eq!(status(&ws, "sales"), "Inaccessible");

    // While the key is still unusable, revert cannot unwrap the DEK: refused, unchanged.
    let snapshot = format!("{:?}", ws.servers);
    let e = database_key::revert_database_protector(&mut ws, SERVER, "sales").unwrap_err();
    assert_eq!(e.code, "AzureKeyVaultKeyDisabled", "{e:?}");
    assert_eq!(format!("{:?}", ws.servers), snapshot);

    // Access back after the 8-hour window: the database waits for revalidation...
    behaviour::advance(&mut ws, Duration::hours(9)).unwrap();
    set_enabled(&mut ws, DB_KEY, true);
    behaviour::advance(&mut ws, Duration::minutes(1)).unwrap();
    assert!(matches!(
        database(&ws, "sales").state,
        DatabaseState::Inaccessible {
            revalidation_required: true,
            ..
        }
    ));
    // ...and revert is the other way back: re-wrapped with the server's protector.
    let d = database_key::revert_database_protector(&mut ws, SERVER, "sales").unwrap();
    assert!(matches!(d.state, DatabaseState::Recovering { .. }));
    behaviour::advance(&mut ws, Duration::hours(1)).unwrap();
    let d = database(&ws, "sales");
    assert_eq!(d.state, DatabaseState::Online);
    assert_eq!(d.encryption_protector, None);
    assert_eq!(
        d.dek.unwrap().server_key_name,
        ws.server(SERVER).unwrap().protector.server_key_name
    );
    // The database key can now be disabled without effect.
    set_enabled(&mut ws, DB_KEY, false);
    behaviour::advance(&mut ws, Duration::minutes(15)).unwrap();
    assert_eq!(status(&ws, "sales"), "Online");
}

#[test]
fn bad_database_keys_are_refused_and_change_nothing() {
    let (mut ws, db_kid, _) = with_database_key();
    let versionless = db_kid.rsplit_once('/').unwrap().0.to_string();
    let cases = [
        ("not-a-key-id", "InvalidKeyName"),
        (versionless.as_str(), "InvalidKeyName"),
        (
            "https://kv-test.vault.azure.net/keys/nope/0123456789abcdef0123456789abcdef",
            "AzureKeyVaultKeyNotFound",
        ),
    ];
    for (kid, code) in cases {
        let snapshot = format!("{:?}", ws.servers);
        let e =
            database_key::set_database_protector(&mut ws, SERVER, "sales", kid, false).unwrap_err();
        assert_eq!(e.code, code, "{kid}: {e:?}");
        assert_eq!(format!("{:?}", ws.servers), snapshot, "{kid}");
    }
    sql::set_database_tde(&mut ws, SERVER, "ledger", false).unwrap();
    let e = database_key::set_database_protector(&mut ws, SERVER, "ledger", &db_kid, false)
        .unwrap_err();
    assert_eq!(e.code, "TransparentDataEncryptionNotEnabled");
    let e =
        database_key::set_database_protector(&mut ws, SERVER, "nope", &db_kid, false).unwrap_err();
    assert_eq!(e.code, "ResourceNotFound");
}

#[test]
fn the_shell_sets_shows_and_reverts_a_database_key() {
    let (mut ws, db_kid, _) = with_database_key();
    let mut sh = Shell::new();
    let out = sh.run_line(
        &mut ws,
        &format!(
            "az sql db update --name sales --server {SERVER} --resource-group {RG} --encryption-protector {db_kid} --query encryptionProtector -o tsv"
        ),
    );
    assert_eq!(out.stderr, "");
    assert_eq!(out.stdout.trim(), db_kid);
    let out = sh.run_line(
        &mut ws,
        &format!(
            "az sql db show --name ledger --server {SERVER} -g {RG} --query encryptionProtector"
        ),
    );
    assert_eq!(out.stdout.trim(), "", "az prints nothing for a null result");
    let out = sh.run_line(
        &mut ws,
        &format!("az sql db tde key revert --database sales --server {SERVER} -g {RG} --query encryptionProtector"),
    );
    assert_eq!(out.stderr, "");
    assert_eq!(out.stdout.trim(), "");
    let out = sh.run_line(
        &mut ws,
        &format!("az sql db tde key revert --database sales --server {SERVER} -g {RG}"),
    );
    assert!(
        out.stderr
            .starts_with("ERROR: (DatabaseEncryptionProtectorNotSet)"),
        "{}",
        out.stderr
    );
    // A versionless key id needs auto-rotation, as for a server.
    let versionless = db_kid.rsplit_once('/').unwrap().0;
    let line = format!(
        "az sql db update --name sales --server {SERVER} -g {RG} --encryption-protector {versionless}"
    );
    let out = sh.run_line(&mut ws, &line);
    assert!(
        out.stderr.starts_with("ERROR: (InvalidKeyName)"),
        "{}",
        out.stderr
    );
    let out = sh.run_line(
        &mut ws,
        &format!("{line} --encryption-protector-auto-rotation true --query encryptionProtectorAutoRotation"),
    );
    assert_eq!(out.stderr, "");
    assert_eq!(out.stdout.trim(), "true");
}

#[test]
fn a_database_created_with_its_own_key_is_wrapped_by_it_and_a_bad_key_creates_nothing() {
    let (mut ws, db_kid, _) = with_database_key();
    let mut sh = Shell::new();
    let snapshot = format!("{:?}", ws.servers);
    let out = sh.run_line(
        &mut ws,
        &format!(
            "az sql db create --name orders --server {SERVER} -g {RG} --encryption-protector https://kv-test.vault.azure.net/keys/nope/0123456789abcdef0123456789abcdef"
        ),
    );
    assert!(
        out.stderr.starts_with("ERROR: (AzureKeyVaultKeyNotFound)"),
        "{}",
        out.stderr
    );
    assert_eq!(
        format!("{:?}", ws.servers),
        snapshot,
        "nothing created, nothing linked"
    );
    let out = sh.run_line(
        &mut ws,
        &format!(
            "az sql db create --name orders --server {SERVER} -g {RG} --encryption-protector {db_kid} --query encryptionProtector -o tsv"
        ),
    );
    assert_eq!(out.stderr, "");
    assert_eq!(out.stdout.trim(), db_kid);
    let d = database(&ws, "orders");
    let own = d.encryption_protector.clone().unwrap();
    assert_eq!(d.dek.unwrap().server_key_name, own);
    assert_eq!(
        sql::read_pages(&ws, SERVER, "orders").unwrap(),
        sql::sample_pages("orders")
    );
}

#[test]
fn a_database_whose_own_key_is_unusable_cannot_be_dropped() {
    let (mut ws, db_kid, _) = with_database_key();
    database_key::set_database_protector(&mut ws, SERVER, "sales", &db_kid, false).unwrap();
    set_enabled(&mut ws, DB_KEY, false);
    // The server's check of the key is pending; the service cannot take the last backup
    // before a drop, so the drop is refused and nothing changes.
    assert!(ws.schedule.events.iter().any(|e| matches!(
        &e.event,
        tde_console::sim::SimEvent::ProtectorCheck { database: Some(d), .. } if d == "sales"
    )));
    let before = ws.clone();
    let e = sql::delete_database(&mut ws, SERVER, "sales").unwrap_err();
    assert_eq!(e.code, "CannotDropDatabaseAKVError");
    assert!(e.message.contains("https://aka.ms/tdecmkrestorability"));
    assert_eq!(ws, before);
    // Once the key is usable again, the drop goes through and the pending check is moot.
    set_enabled(&mut ws, DB_KEY, true);
    sql::delete_database(&mut ws, SERVER, "sales").unwrap();
    behaviour::advance(&mut ws, Duration::minutes(30)).unwrap();
    assert!(
        ws.activity_log
            .iter()
            .all(|e| e.operation != behaviour::KEY_ACCESS_FAILURE),
        "{:?}",
        ws.activity_log
    );
    assert_eq!(status(&ws, "ledger"), "Online");
    assert_eq!(ws.server(SERVER).unwrap().deleted_databases.len(), 1);
}

#[test]
fn a_database_key_with_auto_rotation_follows_its_newest_version_on_its_own() {
    for (profile, window) in [
        (TimingProfile::Y2021, Duration::minutes(60)),
        (TimingProfile::Current, Duration::hours(24)),
    ] {
        let (mut ws, db_kid, keys) = with_database_key();
        service::set_profile(&mut ws, profile).unwrap();
        if profile == TimingProfile::Current {
            // Today the database reaches its own key with a user-assigned identity.
            give_database_an_identity(&mut ws, "sales");
        }
        let versionless = db_kid.rsplit_once('/').unwrap().0.to_string();
        let d = database_key::set_database_protector(&mut ws, SERVER, "sales", &versionless, true)
            .unwrap();
        assert!(d.encryption_protector_auto_rotation);
        let protector = ws.server(SERVER).unwrap().protector.clone();
        let ledger = database(&ws, "ledger").dek;
        let cipher = ciphertexts(&ws);
        let (_, v2) = keyvault::create_key(
            &mut ws,
            &keyvault::CreateKey::new(VAULT, DB_KEY, KeyType::Rsa, 3072),
            keys.generate(3072).unwrap(),
        )
        .unwrap();
        behaviour::advance(&mut ws, window).unwrap();
        let d = database(&ws, "sales");
        let own = d.encryption_protector.clone().unwrap();
        assert!(own.ends_with(&v2.version.0), "{profile:?}: {own}");
        assert_eq!(d.dek.unwrap().server_key_name, own);
        assert!(d.encryption_protector_auto_rotation);
        let s = ws.server(SERVER).unwrap();
        assert_eq!(
            s.protector, protector,
            "the server's protector is not touched"
        );
        assert_eq!(database(&ws, "ledger").dek, ledger);
        assert!(
            s.key(&db_kid_name(&db_kid)).is_some(),
            "the old version stays linked for backups"
        );
        assert_eq!(ciphertexts(&ws), cipher);
        assert_eq!(
            sql::read_pages(&ws, SERVER, "sales").unwrap(),
            sql::sample_pages("sales")
        );
    }
}

/// The server key name of a versioned key id.
fn db_kid_name(kid: &str) -> String {
    let version = kid.rsplit('/').next().unwrap();
    server_key_name(VAULT, DB_KEY, version)
}
