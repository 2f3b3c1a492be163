//! UI tests with egui_kittest: the real app, clicked through by label as a person would.

use crate::common;
use crate::kit;

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use kit::*;
use tde_console::model::ServerKeyType;
use tde_console::persist;
use tde_console::ui::ConsoleApp;

#[test]
fn set_a_customer_managed_protector_in_the_tde_blade() {
    let mut h = app();
    h.run_steps(2);
    // sql-contoso-eu is on service-managed keys and has no identity yet.
    click(&mut h, "sql-contoso-eu");
    choose_eu_tde_key(&mut h);
    click(&mut h, "Save");
    // The portal created the identity, but the vault does not let it in yet: the service's text inline.
    assert!(has(
        &h,
        "The server is missing required permissions on the Azure Key Vault."
    ));
    let s = h.state().ws.server("sql-contoso-eu").unwrap();
    assert!(s.identity.is_some(), "Save created the server identity");
    assert_eq!(
        s.protector.key_type,
        ServerKeyType::ServiceManaged,
        "nothing else changed"
    );

    // Grant the identity access in the vault's Access policies.
    click(&mut h, "kv-contoso-eu");
    click(&mut h, "Add access policy");
    click(&mut h, "sql-contoso-eu (server identity)");
    click(&mut h, "SQL Server TDE (get, wrapKey, unwrapKey)");
    click(&mut h, "Add");
    assert!(has(&h, "Access policy saved."));

    // Back to the server: this time Save succeeds.
    click(&mut h, "sql-contoso-eu");
    choose_eu_tde_key(&mut h);
    click(&mut h, "Save");
    assert!(has(&h, "is the TDE protector"));
    let ws = &h.state().ws;
    let s = ws.server("sql-contoso-eu").unwrap();
    assert_eq!(s.protector.key_type, ServerKeyType::AzureKeyVault);
    assert!(
        s.protector
            .server_key_name
            .starts_with("kv-contoso-eu_eu-tde-key_")
    );
    for d in &s.databases {
        assert!(d.state.is_online());
        assert_eq!(
            d.dek.as_ref().unwrap().server_key_name,
            s.protector.server_key_name
        );
        assert_eq!(
            tde_console::service::sql::read_pages(ws, &s.name, &d.name).unwrap(),
            tde_console::service::sql::sample_pages(&d.name)
        );
    }
    assert!(h.state().unsaved(), "the workspace is marked unsaved");
}

#[test]
fn opening_garbage_shows_an_error_and_keeps_the_workspace() {
    let dir = std::env::temp_dir().join(format!("tde-console-ui-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let garbage = dir.join("garbage.ron");
    std::fs::write(&garbage, b"(format_version: 1, name: \"trunc").unwrap();
    let mut h = app();
    h.run_steps(2);
    let before = h.state().ws.clone();
    click(&mut h, "File");
    click(&mut h, "Open…");
    h.get_by_label("File path").click();
    h.run_steps(1);
    h.get_by_label("File path")
        .type_text(garbage.to_str().unwrap());
    h.run_steps(2);
    click(&mut h, "Open");
    wait_until(&mut h, "the load to finish", |app| app.file_job.is_none());
    assert!(has(&h, "not a readable tde-console workspace"));
    assert!(has(&h, "The open workspace was not changed."));
    assert!(h.state().ws == before);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Pre-generated keys handed out slowly, as real RSA generation is.
struct SlowKeys(common::FixtureKeys);

impl tde_console::service::KeySource for SlowKeys {
    fn generate(
        &self,
        bits: usize,
    ) -> Result<tde_console::crypto::RsaKeyMaterial, tde_console::crypto::CryptoError> {
        std::thread::sleep(std::time::Duration::from_millis(400));
        self.0.generate(bits)
    }
}

#[test]
fn generating_a_key_runs_off_the_ui_thread() {
    let mut h = Harness::builder()
        .with_size(egui::vec2(1500.0, HEIGHT))
        .build_eframe(|_cc| {
            ConsoleApp::with_workspace(persist::demo().expect("the demo loads"), None)
                .with_keys(std::sync::Arc::new(SlowKeys(common::FixtureKeys::new())))
        });
    h.run_steps(2);
    click(&mut h, "kv-contoso-eu");
    click(&mut h, "Generate a key");
    h.get_by_label("Key name").click();
    h.run_steps(1);
    h.get_by_label("Key name").type_text("fresh-key");
    h.run_steps(1);
    click(&mut h, "2048");
    click(&mut h, "Create");
    assert!(h.state().busy(), "key generation runs as a background job");
    wait_until(&mut h, "key generation", |app| !app.busy());
    assert!(has(&h, "Key 'fresh-key' version"));
    let ws = &h.state().ws;
    let k = ws.vault("kv-contoso-eu").unwrap().key("fresh-key").unwrap();
    assert_eq!(k.current().unwrap().material.bits(), 2048);
}

#[test]
fn advancing_the_clock_after_a_revocation_shows_the_database_inaccessible() {
    let mut h = app();
    h.run_steps(2);
    click(&mut h, "kv-contoso-us");
    let principal = h
        .state()
        .ws
        .server("sql-contoso-us")
        .unwrap()
        .identity
        .as_ref()
        .unwrap()
        .principal_id
        .clone();
    // Remove the server identity's policy (the second row's Remove button).
    let removes: Vec<_> = h.get_all_by_label("Remove").collect();
    assert_eq!(removes.len(), 2);
    removes[1].click();
    h.run_steps(2);
    // The portal says first what removing the server's access breaks.
    assert!(has(
        &h,
        "Removing this access policy: 4 database(s) will become Inaccessible"
    ));
    click(&mut h, "Remove anyway");
    h.run_steps(2);
    assert!(
        h.state()
            .ws
            .vault("kv-contoso-us")
            .unwrap()
            .access_policies
            .iter()
            .all(|p| p.object_id != principal)
    );
    advance(&mut h, "+10m");
    advance(&mut h, "+10m");
    click(&mut h, "sales");
    assert!(has(&h, "This database is inaccessible since"));
    click(&mut h, "Test connection");
    assert!(has(
        &h,
        "is not currently available. Please retry the connection later."
    ));
}

/// Revokes the server identity's access policy on kv-contoso-us and lets the server notice.
fn revoke_and_wait(h: &mut Harness<'static, ConsoleApp>) {
    crate::kit::remove_server_policy_and_wait(h);
    assert_eq!(
        h.state()
            .ws
            .server("sql-contoso-us")
            .unwrap()
            .database("sales")
            .unwrap()
            .state
            .label(),
        "Inaccessible"
    );
}

/// In the vault blade the wizard opened: grant the server identity get/wrapKey/unwrapKey.
fn grant_in_vault_blade(h: &mut Harness<'static, ConsoleApp>) {
    click(h, "Add access policy");
    click(h, "sql-contoso-us (server identity)");
    click(h, "SQL Server TDE (get, wrapKey, unwrapKey)");
    click(h, "Add");
    assert!(has(h, "Access policy saved."));
}

/// The demo's billing database (it has a key of its own), as the app holds it now.
fn billing(h: &Harness<'static, ConsoleApp>) -> tde_console::model::Database {
    h.state()
        .ws
        .server("sql-contoso-us")
        .unwrap()
        .database("billing")
        .unwrap()
        .clone()
}

fn sales_state(h: &Harness<'static, ConsoleApp>) -> &'static str {
    h.state()
        .ws
        .server("sql-contoso-us")
        .unwrap()
        .database("sales")
        .unwrap()
        .state
        .label()
}

#[test]
fn the_recovery_wizard_walks_a_revoked_permission_back_to_online() {
    let mut h = app();
    h.run_steps(2);
    revoke_and_wait(&mut h);
    click(&mut h, "sales");
    assert!(has(&h, "Step 1 of 2"));
    assert!(has(&h, "AzureKeyVaultMissingPermissions"));
    click(&mut h, "Open the key vault (access policies, networking)");
    grant_in_vault_blade(&mut h);
    // The database blade, still open to the left, now says access is back.
    assert!(has(&h, "within the auto-heal window") || has(&h, "Access is back"));
    advance(&mut h, "+1h");
    assert_eq!(sales_state(&h), "Online");
    click(&mut h, "Test connection");
    assert!(has(&h, "Connected."));
}

#[test]
fn after_the_window_the_wizard_revalidates_and_lists_what_was_lost() {
    let mut h = app();
    h.run_steps(2);
    revoke_and_wait(&mut h);
    advance(&mut h, "+8h");
    click(&mut h, "sales");
    click(&mut h, "Open the key vault (access policies, networking)");
    grant_in_vault_blade(&mut h);
    advance(&mut h, "+1h");
    assert_eq!(
        sales_state(&h),
        "Inaccessible",
        "no auto-heal after the window"
    );
    click(&mut h, "sales");
    assert!(has(&h, "Step 2 of 2"));
    click(&mut h, "Revalidate key (retry existing key)");
    assert_eq!(sales_state(&h), "Recovering");
    advance(&mut h, "+1h");
    assert_eq!(sales_state(&h), "Online");
    assert!(has(&h, "Back online at"));
    assert!(has(&h, "point-in-time-restore history"));
}

#[test]
fn the_advisor_lists_recommendations_with_links_to_the_fix() {
    let mut h = app();
    h.run_steps(2);
    click(&mut h, "View");
    click(&mut h, "Advisor");
    assert!(has(&h, "Secondary key vault in another region"));
    assert!(has(&h, "Databases per key vault"));
    click(&mut h, "Open kv-contoso-us2");
    assert_eq!(
        h.state().blades.last().map(|b| b.title()),
        Some("kv-contoso-us2".to_string())
    );
}

#[test]
fn replacing_a_compromised_key_keeps_the_data_accessible() {
    let dir = std::env::temp_dir().join(format!("tde-console-compromised-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let backup = dir.join("old.backup");
    let _ = std::fs::remove_file(&backup);
    let mut h = app();
    h.run_steps(2);
    // Without geo-replication (the demo's failover group is deleted, the links removed),
    // the new key need not be on a secondary first.
    {
        use tde_console::service::{failover_group, georeplication};
        let ws = &mut h.state_mut().ws;
        failover_group::delete_failover_group(ws, "fg-contoso", "sql-contoso-us").unwrap();
        for db in ["sales", "inventory"] {
            georeplication::delete_link(ws, "sql-contoso-us", db, "sql-contoso-us2").unwrap();
        }
    }
    // The server's identity may use a key in the separate vault kv-contoso-eu.
    click(&mut h, "kv-contoso-eu");
    click(&mut h, "Add access policy");
    click(&mut h, "sql-contoso-us (server identity)");
    click(&mut h, "SQL Server TDE (get, wrapKey, unwrapKey)");
    click(&mut h, "Add");
    // The guided procedure.
    click(&mut h, "sql-contoso-us");
    click(&mut h, "Transparent data encryption");
    click(&mut h, "Remove a potentially compromised key…");
    click(&mut h, "New key vault");
    click(&mut h, "kv-contoso-eu (westeurope)");
    click(&mut h, "New key");
    click(&mut h, "eu-tde-key");
    click(&mut h, "Add the key and make it the TDE protector");
    assert!(has(&h, "All 3 encrypted databases use the new protector."));
    h.get_by_label("Backup file").click();
    h.run_steps(1);
    h.get_by_label("Backup file")
        .type_text(backup.to_str().unwrap());
    h.run_steps(1);
    click(&mut h, "Back up the old key");
    wait_until(&mut h, "the backup", |app| !app.busy());
    assert!(backup.exists());
    click(&mut h, "Delete the old key");
    assert!(has(&h, "Key 'tde-protector' deleted"));
    let ws = &h.state().ws;
    assert!(
        ws.vault("kv-contoso-us")
            .unwrap()
            .key("tde-protector")
            .unwrap()
            .deleted
            .is_some()
    );
    advance(&mut h, "+1h");
    let ws = &h.state().ws;
    assert!(
        ws.server("sql-contoso-us")
            .unwrap()
            .databases
            .iter()
            .all(|d| d.state.is_online())
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_alert_rule_made_in_the_alerts_blade_delivers_when_databases_go_inaccessible() {
    let mut h = app();
    h.run_steps(2);
    click(&mut h, "View");
    click(&mut h, "Alerts");
    click(&mut h, "Create");
    assert!(has(&h, "Alert rule 'tde-inaccessible' created."));
    revoke_and_wait(&mut h);
    advance(&mut h, "+1h");
    let ws = &h.state().ws;
    assert!(
        ws.deliveries
            .iter()
            .any(|d| d.alert_rule == "tde-inaccessible" && d.target == "dba@contoso.com")
    );
    click(&mut h, "View");
    click(&mut h, "Alerts");
    assert!(has(&h, "tde-inaccessible via ag-dba"));
}

#[test]
fn audit_a_vault_then_read_100k_records_in_the_logs_blade() {
    use tde_console::service::burst;
    let mut h = app();
    h.run_steps(2);
    click(&mut h, "kv-contoso-eu");
    click(&mut h, "Access control (IAM), locks, diagnostic settings");
    click(&mut h, "Send AuditEvent logs");
    assert!(has(&h, "sends AuditEvent to law-security"));
    click(&mut h, "Add lock");
    assert!(has(&h, "Lock 'do-not-delete' (CanNotDelete) added."));
    let eu = tde_console::service::ids::vault(h.state().ws.vault("kv-contoso-eu").unwrap());
    assert_eq!(
        tde_console::service::locks::locks_covering(&h.state().ws, &eu).len(),
        1
    );

    // A flood: 100,000 real requests in one 10-second window (RSA-HSM 2048: 2000 allowed).
    let report = burst::burst(
        &mut h.state_mut().ws,
        "kv-contoso-eu",
        "eu-tde-key",
        burst::BurstOperation::Get,
        100_000,
        0,
    )
    .unwrap();
    assert_eq!((report.succeeded, report.throttled), (2000, 98_000));
    click(&mut h, "Logs");
    assert!(has(&h, "100000 records"));
    click(&mut h, "Result type");
    click(&mut h, "Failure only");
    assert!(has(&h, "98000 records"));
    click(&mut h, "Operation name");
    click(&mut h, "KeyGet");
    assert!(has(&h, "429 Too Many Requests"));
    // Select the first row (newest first: the last request) to see its record.
    let last = h.state().ws.journal.len() - 1;
    h.get_by_label(&format!("#{last}")).click();
    h.run_steps(3);
    assert!(has(&h, "\"resultSignature\": \"Too Many Requests\""));

    let path = std::env::temp_dir().join(format!("tde-ui-audit-{}.csv", std::process::id()));
    h.get_by_label("Export to file").click();
    h.run_steps(1);
    h.get_by_label("Export to file")
        .type_text(&path.display().to_string());
    h.run_steps(2);
    click(&mut h, "Export CSV");
    wait_until(&mut h, "the export", |app| !app.busy());
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.lines().count(), 1 + 98_000);
    assert!(has(&h, "98000 records written to"));
    let _ = std::fs::remove_file(&path);

    // The vault blade folded to make room for the wide Logs blade: close Logs to see it.
    h.get_all_by_label("×").last().unwrap().click();
    h.run_steps(2);
    click(&mut h, "Metrics");
    let hits = h
        .state()
        .ws
        .journal
        .filtered(|r| r.vault == "kv-contoso-eu")
        .len();
    assert!(hits > 100_000);
    assert!(
        has(&h, "98000 throttled (429)"),
        "the last hour holds the burst"
    );
    // Over the whole history: every request the vault saw.
    click(&mut h, "Time range");
    click(&mut h, "Since the first request");
    h.run_steps(2);
    assert!(has(&h, &format!("{hits} API hits from ")));
}

#[test]
fn bring_your_own_key_through_the_import_blade() {
    let mut h = app();
    h.run_steps(2);
    let dir = std::env::temp_dir().join(format!("tde-ui-byok-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = |f: &str| dir.join(f).display().to_string();
    let onprem = format!(
        "{}/tests/fixtures/rsa2048-6.pem",
        env!("CARGO_MANIFEST_DIR")
    );
    click(&mut h, "kv-contoso-eu");
    click(&mut h, "Import a key (PEM, PFX, BYOK)");
    click(&mut h, "Create key-exchange key");
    wait_until(&mut h, "the KEK", |app| !app.busy());
    assert!(has(&h, "Key-exchange key 'byok-kek' created"));
    click(&mut h, "Key-exchange key");
    click(&mut h, "byok-kek (KEK)");
    type_into(&mut h, "Save public key to", &p("kek.pem"));
    click(&mut h, "Download public key");
    wait_until(&mut h, "the download", |app| !app.busy());
    type_into(&mut h, "Key to bring (PEM)", &onprem);
    type_into(&mut h, "Write .byok file to", &p("key.byok"));
    click(&mut h, "Make .byok file");
    wait_until(&mut h, "the wrap", |app| !app.busy());
    assert!(has(&h, "BYOK file written to"));
    click(&mut h, "BYOK file");
    type_into(&mut h, "Name of the new key", "brought-key");
    type_into(&mut h, "Key file", &p("key.byok"));
    click(&mut h, "Import");
    wait_until(&mut h, "the import", |app| !app.busy());
    assert!(has(&h, "Key 'brought-key' imported (RSA-HSM 2048"));
    let want =
        tde_console::crypto::RsaKeyMaterial::from_pem(&std::fs::read_to_string(&onprem).unwrap())
            .unwrap()
            .thumbprint();
    let got = h
        .state()
        .ws
        .vault("kv-contoso-eu")
        .unwrap()
        .key("brought-key")
        .unwrap()
        .current()
        .unwrap()
        .material
        .thumbprint();
    assert_eq!(got, want);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn rotate_a_key_and_set_its_rotation_policy_in_the_key_blade() {
    let mut h = app();
    h.run_steps(2);
    click(&mut h, "kv-contoso-eu");
    click(&mut h, "eu-tde-key");
    let before = h
        .state()
        .ws
        .vault("kv-contoso-eu")
        .unwrap()
        .key("eu-tde-key")
        .unwrap()
        .versions
        .len();
    click(&mut h, "Rotate now");
    wait_until(&mut h, "the rotation", |app| !app.busy());
    assert!(has(&h, "Key rotated: new version"));
    let after = h
        .state()
        .ws
        .vault("kv-contoso-eu")
        .unwrap()
        .key("eu-tde-key")
        .unwrap()
        .versions
        .len();
    assert_eq!(after, before + 1);
    type_into(&mut h, "Rotate after (days)", "3");
    click(&mut h, "Save rotation policy");
    assert!(has(&h, "keys rotate at most every 7 days"));
    assert!(
        h.state()
            .ws
            .vault("kv-contoso-eu")
            .unwrap()
            .key("eu-tde-key")
            .unwrap()
            .rotation_policy
            .is_none()
    );
    h.get_by_label("Rotate after (days)").click();
    h.run_steps(1);
    h.get_by_label("Rotate after (days)").type_text("0");
    h.run_steps(2);
    click(&mut h, "Save rotation policy");
    assert!(has(&h, "Rotation policy saved."));
    let p = h
        .state()
        .ws
        .vault("kv-contoso-eu")
        .unwrap()
        .key("eu-tde-key")
        .unwrap()
        .rotation_policy
        .clone()
        .unwrap();
    assert_eq!(
        p.rotate_after_create,
        Some(tde_console::model::Duration::days(30))
    );
}

#[test]
fn switch_a_vault_to_rbac_and_assign_the_server_its_role_in_the_iam_section() {
    let mut h = app();
    h.run_steps(2);
    click(&mut h, "kv-contoso-eu");
    click(&mut h, "Access control (IAM), locks, diagnostic settings");
    click(&mut h, "Azure role-based access control");
    assert!(has(&h, "Azure RBAC now decides access"));
    assert!(has(&h, "No role assignments: nobody can use the keys."));
    click(&mut h, "Assignee");
    let server = h
        .state()
        .ws
        .servers
        .iter()
        .find(|s| s.identity.is_some())
        .unwrap()
        .name
        .clone();
    click(&mut h, &format!("{server} (server identity)"));
    click(&mut h, "Add role assignment");
    assert!(has(
        &h,
        "'Key Vault Crypto Service Encryption User' assigned; it takes effect at"
    ));
    let v = h.state().ws.vault("kv-contoso-eu").unwrap();
    assert!(v.rbac_authorization);
    assert_eq!(v.role_assignments.len(), 1);
}

#[test]
fn manage_deleted_keys_in_the_vault_blade() {
    let mut h = app();
    h.run_steps(2);
    tde_console::service::keyvault::delete_key(
        &mut h.state_mut().ws,
        "kv-contoso-eu",
        "legacy-4096",
    )
    .unwrap();
    click(&mut h, "kv-contoso-eu");
    click(&mut h, "Manage deleted keys (1)");
    click(&mut h, "Purge legacy-4096");
    assert!(has(&h, "does not have keys purge permission"));
    click(&mut h, "Recover legacy-4096");
    assert!(has(&h, "Key 'legacy-4096' recovered."));
    let k = h
        .state()
        .ws
        .vault("kv-contoso-eu")
        .unwrap()
        .key("legacy-4096")
        .unwrap()
        .clone();
    assert!(k.deleted.is_none());
}

#[test]
fn revert_a_database_key_then_set_it_again_in_the_database_blade() {
    let mut h = app();
    h.run_steps(2);
    // The demo's billing database has a key of its own.
    let own = billing(&h)
        .encryption_protector
        .expect("the demo gives billing its own key");
    let kid = h
        .state()
        .ws
        .server("sql-contoso-us")
        .unwrap()
        .key(&own)
        .unwrap()
        .uri
        .clone()
        .unwrap();
    click(&mut h, "billing");
    assert!(has(&h, "Database-level key"));
    click(&mut h, "Revert to server key");
    let d = billing(&h);
    assert_eq!(d.encryption_protector, None);
    let protector = h
        .state()
        .ws
        .server("sql-contoso-us")
        .unwrap()
        .protector
        .server_key_name
        .clone();
    assert_eq!(d.dek.unwrap().server_key_name, protector);
    assert!(has(&h, "Server-level: this database follows"));

    type_into(&mut h, "Database key identifier", &kid);
    click(&mut h, "Set database key");
    let d = billing(&h);
    assert_eq!(d.encryption_protector.as_deref(), Some(own.as_str()));
    assert_eq!(d.dek.unwrap().server_key_name, own);
    assert!(has(&h, "now has its own encryption protector"));
}

#[test]
fn a_database_whose_own_key_came_back_too_late_is_reverted_from_the_wizard() {
    let mut h = app();
    h.run_steps(2);
    // Disable billing's own key; only billing goes Inaccessible.
    click(&mut h, "kv-contoso-us");
    click(&mut h, "billing-key");
    click(&mut h, "Disable");
    h.run_steps(2);
    click(&mut h, "Disable anyway");
    h.run_steps(2);
    advance(&mut h, "+10m");
    advance(&mut h, "+10m");
    assert_eq!(billing(&h).state.label(), "Inaccessible");
    assert_eq!(sales_state(&h), "Online");
    click(&mut h, "billing");
    assert!(has(&h, "the database's own encryption protector"));
    assert!(has(&h, "AzureKeyVaultKeyDisabled"));
    // Past the 8-hour window, the key comes back through the wizard's own link.
    advance(&mut h, "+8h");
    click(&mut h, "Open the key version");
    click(&mut h, "Enable");
    click(&mut h, "billing");
    assert!(has(&h, "Step 2 of 2"));
    click(&mut h, "Revert to the server's key");
    let d = billing(&h);
    assert_eq!(d.state.label(), "Recovering");
    assert_eq!(d.encryption_protector, None);
    advance(&mut h, "+1h");
    assert_eq!(billing(&h).state.label(), "Online");
    click(&mut h, "Test connection");
    assert!(has(&h, "Connected."));
}

#[test]
fn restore_a_database_from_the_backups_blade_to_before_the_rotation() {
    let mut h = app();
    h.run_steps(2);
    click(&mut h, "sales");
    click(&mut h, "Backups");
    // Three protector intervals: service-managed, then two versions of tde-protector.
    assert!(has(&h, "Protector intervals (what the backups need)"));
    assert_eq!(h.query_all_by_label("Reachable").count(), 3);
    type_into(&mut h, "Restore point (UTC)", "2026-01-02T12:00:00Z");
    type_into(&mut h, "New database name", "sales-jan2");
    click(&mut h, "Restore");
    assert!(
        has(&h, "Restore of 'sales-jan2' started"),
        "the outcome is shown"
    );
    // Its az equivalent, as the toast shows it, does the same in the shell.
    let line = h
        .query_all_by_label_contains("az sql db restore --dest-name sales-jan2")
        .next()
        .and_then(|n| n.value())
        .expect("the restore is shown as an az command");
    let mut replay = persist::demo().unwrap();
    let r = tde_console::shell::Shell::new()
        .with_keys(common::FixtureKeys::boxed())
        .run_line(&mut replay, &line);
    assert!(r.ok, "{line}: {}", r.stderr);
    assert_eq!(
        replay
            .server("sql-contoso-us")
            .and_then(|s| s.database("sales-jan2"))
            .map(|d| d.state.label()),
        Some("Restoring")
    );
    let restoring = |h: &Harness<'static, ConsoleApp>| {
        h.state()
            .ws
            .server("sql-contoso-us")
            .and_then(|s| s.database("sales-jan2"))
            .map(|d| d.state.label())
    };
    assert_eq!(restoring(&h), Some("Restoring"));
    advance(&mut h, "+1h");
    assert_eq!(restoring(&h), Some("Online"));
    assert_eq!(
        tde_console::service::content::read_text(&h.state().ws, "sql-contoso-us", "sales-jan2")
            .unwrap(),
        "January 2026: 1,377 invoices so far"
    );
    // The new database's blade is open with its Query editor, which can write.
    h.run_steps(3);
    assert!(has(&h, "SELECT Text FROM dbo.Notes"));
    click(&mut h, "Run UPDATE");
    assert!(
        tde_console::service::content::read_text(&h.state().ws, "sql-contoso-us", "sales-jan2")
            .is_ok()
    );
}

#[test]
fn fail_over_the_demo_group_from_the_failover_groups_blade() {
    let mut h = app();
    h.run_steps(2);
    click(&mut h, "sql-contoso-us");
    click(&mut h, "Failover groups");
    assert!(has(&h, "fg-contoso.database.windows.net"));
    click(&mut h, "Failover fg-contoso");
    wait_until(&mut h, "the failover job", |app| app.job.is_none());
    let g = h
        .state()
        .ws
        .continuity
        .failover_group("fg-contoso")
        .unwrap()
        .clone();
    assert_eq!(g.primary_server, "sql-contoso-us2");
    assert!(has(
        &h,
        "'fg-contoso' failed over: sql-contoso-us2 is the primary"
    ));
    // Reads through the listener now reach West US, with the last write kept.
    assert_eq!(
        tde_console::service::content::read_text(&h.state().ws, "sql-contoso-us2", "sales")
            .unwrap(),
        "January 2026: 2,051 invoices so far (after rotation)"
    );
}

#[test]
fn a_vault_outage_from_the_vault_blade_switches_to_the_second_vault() {
    let mut h = app();
    h.run_steps(2);
    click(&mut h, "Simulate");
    click(&mut h, "Key vault outage (1 h)");
    click(&mut h, "Outage of kv-contoso-us");
    click(&mut h, "kv-contoso-us");
    assert!(has(&h, "Unreachable (HTTP 5XX)"));
    advance(&mut h, "+10m");
    advance(&mut h, "+10m");
    let ws = &h.state().ws;
    let s = ws.server("sql-contoso-us").unwrap();
    assert!(
        s.protector.server_key_name.starts_with("kv-contoso-us2_"),
        "{}",
        s.protector.server_key_name
    );
    assert_eq!(sales_state(&h), "Online");
}

#[test]
fn protect_a_workspace_with_a_passphrase_then_open_it_again() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("protected.ron");
    let mut h = Harness::builder()
        .with_size(egui::vec2(1500.0, HEIGHT))
        .build_eframe({
            let path = path.clone();
            move |_cc| {
                ConsoleApp::with_workspace(persist::demo().expect("the demo loads"), Some(path))
            }
        });
    h.run_steps(2);
    click(&mut h, "File");
    click(&mut h, "Protect with passphrase…");
    type_into_field(&mut h, "New passphrase", "a long passphrase");
    type_into_field(&mut h, "Confirm passphrase", "a long passphrase");
    click(&mut h, "Protect");
    click(&mut h, "File");
    click(&mut h, "Save");
    wait_until(&mut h, "the save", |app| app.file_job.is_none());
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(persist::sealed::is_sealed(&text));
    assert!(!text.contains("kv-contoso-us"));

    // Opening it asks for the passphrase; a wrong one says so and opens nothing.
    h.state_mut().start_load(path.clone());
    wait_until(&mut h, "the passphrase prompt", |app| {
        app.file_job.is_none()
    });
    assert!(has(&h, "is protected with a passphrase"));
    type_into_field(&mut h, "Passphrase", "not it");
    click(&mut h, "Open");
    wait_until(&mut h, "the refusal", |app| app.file_job.is_none());
    assert!(has(&h, "The passphrase does not open"));
    type_into_field(&mut h, "Passphrase", "a long passphrase");
    click(&mut h, "Open");
    wait_until(&mut h, "the load", |app| app.file_job.is_none());
    assert_eq!(h.state().doc.path.as_deref(), Some(path.as_path()));
    assert_eq!(
        h.state().doc.passphrase.as_deref(),
        Some("a long passphrase")
    );
    assert!(h.state().ws.server("sql-contoso-us").is_some());
}

/// Types into the field a label names (the label and its field share the name: the field
/// comes second).
fn type_into_field(h: &mut Harness<'static, ConsoleApp>, label: &str, text: &str) {
    h.get_all_by_label(label).last().unwrap().click();
    h.run_steps(1);
    h.get_all_by_label(label).last().unwrap().type_text(text);
    h.run_steps(2);
}

#[test]
fn changes_asked_for_while_a_job_runs_are_kept_when_it_lands() {
    use tde_console::sim::Duration;
    use tde_console::ui::blades::BladeKind;
    let mut h = app();
    h.state_mut().open_root(BladeKind::Database {
        server: "sql-contoso-us".into(),
        db: "sales".into(),
        message: None,
    });
    h.run_steps(2);
    let start = h.state().ws.now();
    h.state_mut().advance_clock(Duration::days(2));
    assert!(h.state().busy(), "the advance runs as a job");
    // One change from a menu, one from a blade, both asked for while the job runs.
    h.state_mut().queue_unscripted("A test change", |ws| {
        tde_console::service::set_client_ip(ws, "198.51.100.7")
            .map(|()| String::new())
            .map_err(|e| e.to_string())
    });
    click(&mut h, "Test connection");
    wait_until(&mut h, "the job and the queued changes", |app| !app.busy());
    h.run_steps(3);
    assert_eq!(
        h.state().ws.now(),
        start + Duration::days(2),
        "the job landed"
    );
    assert_eq!(
        h.state().ws.console_user.client_ip,
        "198.51.100.7",
        "the change asked for during the job was not overwritten by its result"
    );
    assert!(has(&h, "Connected."), "the blade's change ran and reported");
    assert!(h.state().unsaved());
}

#[test]
fn the_key_blade_opens_on_the_protector_version_says_what_uses_it_and_asks_before_disabling() {
    use tde_console::service::{KeySource, rotation};
    use tde_console::ui::blades::BladeKind;
    let mut h = app();
    // A new version the server does not use yet: the protector stays on the older one.
    {
        let ws = &mut h.state_mut().ws;
        let bits = rotation::current_bits(ws, "kv-contoso-us", "tde-protector").unwrap();
        let m = common::FixtureKeys::new().generate(bits).unwrap();
        rotation::rotate_key(ws, "kv-contoso-us", "tde-protector", m).unwrap();
    }
    let protector = h
        .state()
        .ws
        .server("sql-contoso-us")
        .unwrap()
        .protector_uri()
        .unwrap()
        .version
        .unwrap();
    h.state_mut().open_root(BladeKind::Vault {
        vault: "kv-contoso-us".into(),
        forms: Default::default(),
    });
    h.run_steps(2);
    click(&mut h, "tde-protector");
    h.run_steps(2);
    match &h.state().blades.last().unwrap().kind {
        BladeKind::KeyVersion { version, .. } => assert_eq!(version, &protector),
        _ => panic!("the key blade opened"),
    }
    assert!(has(
        &h,
        "TDE protector of sql-contoso-us (3 encrypted database(s))"
    ));
    assert!(has(&h, "current version"), "the newest version is marked");
    // Disabling the protector version says what it will do, and Cancel does nothing.
    click(&mut h, "Disable");
    h.run_steps(2);
    assert!(has(&h, "will become Inaccessible within 10 minutes"));
    click(&mut h, "Cancel");
    h.run_steps(3);
    let enabled = |h: &Harness<'static, ConsoleApp>| {
        h.state()
            .ws
            .vault("kv-contoso-us")
            .unwrap()
            .key("tde-protector")
            .unwrap()
            .version(&protector)
            .unwrap()
            .enabled
    };
    assert!(enabled(&h), "cancelled: nothing changed");
    // The dialog opens with Cancel focused: Enter (or Space) does not disable the key.
    click(&mut h, "Disable");
    h.run_steps(2);
    h.key_press(egui::Key::Enter);
    h.run_steps(3);
    assert!(enabled(&h), "Enter in the dialog cancels: nothing changed");
    assert!(!has(&h, "Disable anyway"), "the dialog closed");
    click(&mut h, "Disable");
    h.run_steps(2);
    click(&mut h, "Disable anyway");
    h.run_steps(3);
    assert!(!enabled(&h), "confirmed: the version is disabled");
    assert!(has(&h, "Version is now disabled."));
}

#[test]
fn a_trainer_goes_anywhere_with_ctrl_k_closes_blades_with_esc_and_switches_to_the_light_theme() {
    let mut h = app();
    h.run_steps(2);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::K);
    h.run_steps(2);
    assert!(has(&h, "Go to"), "the palette opened");
    h.get_by_label("Resource or view").type_text("billing");
    h.run_steps(2);
    h.key_press(egui::Key::Enter);
    h.run_steps(3);
    assert!(
        matches!(
            h.state().blades.last().map(|b| &b.kind),
            Some(tde_console::ui::blades::BladeKind::Database { db, .. }) if db == "billing"
        ),
        "Enter opened the first match"
    );
    // Esc closes the newest blade (when no field has the focus).
    h.key_press(egui::Key::Escape);
    h.run_steps(2);
    h.key_press(egui::Key::Escape);
    h.run_steps(2);
    assert!(h.state().blades.is_empty());
    click(&mut h, "View");
    click(&mut h, "Light theme");
    h.run_steps(2);
    assert_eq!(
        h.state().presentation.look,
        tde_console::ui::presentation::Look::Light
    );
    assert_eq!(h.ctx.theme(), egui::Theme::Light);
}

#[test]
fn databases_going_inaccessible_show_a_toast() {
    let mut h = app();
    h.run_steps(2);
    revoke_and_wait(&mut h);
    h.run_steps(2);
    assert!(
        h.query_all_by_label_contains("Databases inaccessible")
            .next()
            .is_some(),
        "a toast says so without opening the notifications"
    );
}

#[test]
fn the_topology_shows_a_revocation_its_node_opens_the_server_and_a_rewind_undoes_it() {
    use tde_console::ui::blades::BladeKind;
    let mut h = app();
    h.run_steps(2);
    click(&mut h, "View");
    click(&mut h, "Topology");
    h.run_steps(3);
    assert!(
        has(&h, "SQL sql-contoso-us\n4 Online\nCustomer-managed key"),
        "the server, its databases counted, its kind of key"
    );
    assert!(
        has(&h, "SQL sql-contoso-eu\n3 Online\nService-managed key"),
        "a server under the service-managed key shows it"
    );
    assert!(has(&h, "KV kv-contoso-us"));
    revoke_and_wait(&mut h);
    click(&mut h, "View");
    click(&mut h, "Topology");
    h.run_steps(3);
    assert!(has(&h, "SQL sql-contoso-us\n4 Inaccessible"));
    // (Through accessibility: the picture is a pan-and-zoom scene whose transform the
    // test's pointer does not know.)
    h.get_by_label("SQL sql-contoso-us\n4 Inaccessible\nCustomer-managed key")
        .click_accesskit();
    h.run_steps(2);
    assert!(
        matches!(
            h.state().blades.last().map(|b| &b.kind),
            Some(BladeKind::Server { server, .. }) if server == "sql-contoso-us"
        ),
        "the node opened its server's blade"
    );
    // Rewind to the start of the session: everything Online again, clock included.
    let start = h.state().history.points()[0].sim_time;
    let start_journal = h.state().history.points()[0].ws.journal.requests();
    let later_journal = h.state().ws.journal.len();
    assert!(
        later_journal > start_journal.len(),
        "the servers' checks after the revocation are requests to the vault"
    );
    click(&mut h, "Edit");
    click(&mut h, "History and bookmarks…");
    h.run_steps(2);
    h.get_all_by_label("Rewind to here").last().unwrap().click();
    h.run_steps(3);
    assert_eq!(h.state().ws.now(), start);
    assert_eq!(sales_state(&h), "Online");
    // The vaults' request log (audit log, throttling windows) is rewound with it: no record
    // from the abandoned timeline, dated in the future, stays.
    assert!(
        h.state().ws.journal.requests() == start_journal,
        "the journal is as it was at the start of the session"
    );
    assert!(h.state().ws.journal.filtered(|r| r.time > start).is_empty());
    click(&mut h, "View");
    click(&mut h, "Topology");
    h.run_steps(3);
    assert!(has(&h, "SQL sql-contoso-us\n4 Online"));
    // And forward again with Redo (Ctrl+Y), one point at a time.
    while h.state().history.can_redo() {
        h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Y);
        h.run_steps(1);
    }
    assert_eq!(sales_state(&h), "Inaccessible");
    assert_eq!(
        h.state().ws.journal.len(),
        later_journal,
        "redo brings them back"
    );
}

#[test]
fn the_presenter_view_narrates_the_chain_of_a_revocation_as_the_clock_plays() {
    let mut h = app();
    h.run_steps(2);
    click(&mut h, "View");
    click(&mut h, "Presenter view (F5)");
    h.run_steps(3);
    assert!(h.state().presenter);
    assert!(
        !has(&h, "Expand all"),
        "the navigator gives way to the picture"
    );
    assert!(has(&h, "No failure in progress"));
    assert!(has(&h, "SQL sql-contoso-us\n4 Online"));
    // Esc leaves it; remove the server's access in the vault blade; F5 comes back.
    h.key_press(egui::Key::Escape);
    h.run_steps(2);
    assert!(!h.state().presenter);
    click(&mut h, "kv-contoso-us");
    let removes: Vec<_> = h.get_all_by_label("Remove").collect();
    removes[1].click();
    h.run_steps(2);
    click(&mut h, "Remove anyway");
    h.run_steps(2);
    h.key_press(egui::Key::F5);
    h.run_steps(3);
    assert!(h.state().presenter);
    assert!(has(&h, "Access to kv-contoso-us removed"));
    assert!(has(&h, "Propagating (up to 10 min): takes effect in"));
    assert!(
        has(&h, "Server notices (1–10 min)"),
        "what comes next is named"
    );
    // The clock plays on from the top bar: the chain moves with it.
    advance(&mut h, "+10m");
    advance(&mut h, "+10m");
    assert_eq!(sales_state(&h), "Inaccessible");
    assert!(has(&h, "Key unusable: AzureKeyVaultMissingPermissions"));
    assert!(has(&h, "databases Inaccessible since"));
    assert!(
        has(&h, "Auto-heal window closes in 7 h"),
        "the window of the 2021 profile, counting down"
    );
    advance(&mut h, "+8h");
    assert!(has(&h, "Auto-heal window closed at"));
    assert!(has(&h, "Restore access, then Revalidate key"));
    // A box opens its blade beside the picture: the view, its strip and its picture stay.
    let server_box = "SQL sql-contoso-us\n4 Inaccessible\nCustomer-managed key";
    h.get_by_label(server_box).click_accesskit();
    h.run_steps(5);
    assert!(h.state().presenter, "the view stays");
    assert!(matches!(
        h.state().blades.last().map(|b| &b.kind),
        Some(tde_console::ui::blades::BladeKind::Server { server, .. }) if server == "sql-contoso-us"
    ));
    assert!(
        has(&h, "Restore access, then Revalidate key"),
        "the strip stays"
    );
    let beside = h.get_by_label(server_box).rect();
    // The blade's own button (a toast may have a "×" of its own).
    let maximise = h.get_by_label("Maximise").rect();
    assert!(
        beside.max.x < maximise.min.x,
        "the picture is left of the blade"
    );
    // Esc closes the blade first (the picture takes the room back), then leaves the view.
    h.key_press(egui::Key::Escape);
    h.run_steps(3);
    assert!(h.state().presenter);
    assert!(h.state().blades.is_empty());
    assert!(!has(&h, "Maximise"));
    h.key_press(egui::Key::Escape);
    h.run_steps(2);
    assert!(!h.state().presenter);
}

#[test]
fn the_presenter_view_narrates_a_database_level_key_of_its_own() {
    let mut h = app();
    h.run_steps(2);
    // `billing` has its own key, billing-key; disabling it reaches that database only.
    click(&mut h, ">_ Cloud Shell");
    h.run_steps(2);
    h.get_by_label("az>").click();
    h.run_steps(1);
    h.get_by_label("az>").type_text(
        "az keyvault key set-attributes --vault-name kv-contoso-us --name billing-key --enabled false",
    );
    h.run_steps(1);
    h.key_press(egui::Key::Enter);
    wait_until(&mut h, "the command", |app| !app.busy());
    click(&mut h, ">_ Cloud Shell");
    h.key_press(egui::Key::F5);
    h.run_steps(3);
    assert!(h.state().presenter);
    assert!(has(&h, "SQL sql-contoso-us / billing (own key):"));
    assert!(has(&h, "Key unusable: AzureKeyVaultKeyDisabled"));
    assert!(has(&h, "Database notices in"));
    assert!(has(&h, "Database billing Inaccessible"));
    assert!(
        !has(&h, "SQL sql-contoso-us:"),
        "the server's protector is not in trouble"
    );
    advance(&mut h, "+10m");
    advance(&mut h, "+10m");
    assert!(has(&h, "Database billing Inaccessible since"));
    assert!(has(&h, "Auto-heal window closes in 7 h"));
}

/// At 200 %: the presenter view (F5) with the US server's box clicked, so its blade opens
/// beside the picture.
fn presenter_at_200_with_the_server_blade() -> Harness<'static, ConsoleApp> {
    use egui_kittest::kittest::NodeT;
    let mut h = app_at_200();
    h.key_press(egui::Key::F5);
    h.run_steps(3);
    let server_box = h
        .query_all_by_label_contains("SQL sql-contoso-us\n4 Online")
        .next()
        .expect("the server's box")
        .accesskit_node()
        .label()
        .unwrap_or_default();
    h.get_by_label(&server_box).click_accesskit();
    h.run_steps(6);
    h
}

#[test]
fn at_200_percent_a_blade_opened_in_the_presenter_view_fits_beside_the_picture() {
    let mut h = presenter_at_200_with_the_server_blade();
    assert!(h.state().presenter);
    assert_eq!(h.state().blades.len(), 1);
    // The strip beside the blade is too narrow to draw the picture readably: a list.
    let picture = fits(&h, "SQL sql-contoso-us");
    let close = h
        .get_all_by_label("×")
        .map(|n| n.rect())
        .find(|r| r.min.y > picture.min.y - 40.0)
        .expect("the blade's close button");
    assert!(h.ctx.content_rect().expand(0.5).contains_rect(close));
    // The picture's zoom buttons would do nothing to a list: they give way to a note.
    assert!(h.query_by_label("Fit").is_none() && h.query_by_label("+").is_none());
    for label in [
        "Exit presenter view",
        "A list beside the blade",
        "+1d",
        "Maximise",
        "No failure in progress",
    ] {
        fits(&h, label);
    }
    assert!(
        picture.max.x < close.min.x,
        "the picture is left of the blade"
    );
    assert!(
        picture.width() > 60.0,
        "the picture stays readable: {picture:?}"
    );
    // The blade's own controls are on screen (its Encryption link, by label).
    assert!(has(&h, "sql-contoso-us"));
    h.key_press(egui::Key::Escape);
    h.run_steps(3);
    assert!(h.state().presenter && h.state().blades.is_empty());
}

/// At 200 % on 1280x720 (issue 23): a server blade opened beside the presenter picture
/// fits the window — its title, its buttons, its Essentials and databases table: no
/// widget runs past the right edge.
#[test]
fn at_200_percent_the_blade_beside_the_presenter_picture_fits_the_window() {
    use egui_kittest::kittest::NodeT;
    let mut h = presenter_at_200_with_the_server_blade();
    assert_eq!(h.state().blades.len(), 1);
    let screen = h.ctx.content_rect();
    for label in [
        "sql-contoso-us",
        "Maximise",
        "Transparent data encryption",
        "Failover groups",
        "Activity log",
        "Topology",
    ] {
        for node in h.get_all_by_label(label) {
            let r = node.rect();
            assert!(
                screen.expand(0.5).contains_rect(r),
                "'{label}' at {r:?} is outside the window {screen:?}"
            );
        }
    }
    // The databases table is below the fold (the blade scrolls), but never past the edge.
    for label in ["Name", "TDE", "sales"] {
        let r = fits_across(&h, label);
        assert!(r.min.x >= screen.min.x - 0.5 && r.max.x <= screen.max.x + 0.5);
    }
    assert!(
        // (The picture is a strip beside the blade: a list at the body text size, read
        // from a seat, instead of a drawing whose labels would be 4 to 8 pixels.)
        topology_names_drawn_at_screen_size(&h, 20.0) > 0,
        "the strip names its servers readably"
    );
    // A row of the list opens its blade, as a box of the picture does.
    click(&mut h, "KV kv-contoso-us");
    assert_eq!(h.state().blades.len(), 1);
    assert!(matches!(
        h.state().blades[0].kind,
        tde_console::ui::blades::BladeKind::Vault { .. }
    ));
    let wide: Vec<String> = h
        // (The picture's boxes live in its pan-and-zoom scene, clipped to its canvas.)
        .query_all_by(|n| {
            n.bounding_box().is_some()
                && !n
                    .label()
                    .is_some_and(|l| ["KV ", "SQL ", "SYN "].iter().any(|p| l.starts_with(p)))
        })
        .filter(|n| n.rect().max.x > screen.max.x + 0.5)
        .map(|n| format!("{:?} at {:?}", n.accesskit_node().label(), n.rect()))
        .collect();
    assert!(wide.is_empty(), "past the right edge: {wide:?}");
}

/// The widget labelled `label` (the first one) lies within the window's width.
fn fits_across(h: &Harness<'static, ConsoleApp>, label: &str) -> egui::Rect {
    let screen = h.ctx.content_rect();
    let r = h
        .get_all_by_label(label)
        .next()
        .unwrap_or_else(|| panic!("no widget labelled '{label}'"))
        .rect();
    assert!(
        r.min.x >= screen.min.x - 0.5 && r.max.x <= screen.max.x + 0.5,
        "'{label}' at {r:?} runs past the window {screen:?}"
    );
    r
}

/// Topology's text is rasterised at the size it appears on screen (issue 23, defect 7: a
/// glyph drawn large and shrunk with the scene loses its thin strokes, "sql contoso us"):
/// each galley naming a server in the picture is shown at the size it was laid out at, and
/// at least `min_px` pixels high. Returns how many it checked.
pub(crate) fn topology_names_drawn_at_screen_size(
    h: &Harness<'static, ConsoleApp>,
    min_px: f32,
) -> usize {
    let ppp = h.ctx.pixels_per_point();
    let mut seen = 0;
    for clipped in &h.output().shapes {
        let egui::Shape::Text(t) = &clipped.shape else {
            continue;
        };
        if !t.galley.text().contains("SQL sql-contoso-us") {
            continue;
        }
        let laid_out = h.ctx.fonts_mut(|f| f.layout_job((*t.galley.job).clone()));
        let shown = t.galley.rect.height() / laid_out.rect.height();
        assert!(
            (shown - 1.0).abs() < 0.02,
            "'{}' is drawn at {shown:.2} times the size it was rasterised at",
            t.galley.text()
        );
        let px = t.galley.job.sections[0].format.font_id.size * ppp;
        assert!(px >= min_px, "'{}' is {px} px", t.galley.text());
        seen += 1;
    }
    seen
}

#[test]
fn topology_names_keep_their_hyphens_at_100_and_200_percent() {
    for zoom in [1.0, 1.5, 2.0] {
        let mut h = app_at_zoom(zoom);
        h.state_mut()
            .open_root(tde_console::ui::blades::BladeKind::Topology);
        h.run_steps(4);
        assert!(
            topology_names_drawn_at_screen_size(&h, 8.0) > 0,
            "at {zoom}x the picture draws its servers' names"
        );
    }
}

/// The app at 1280x720 zoomed to 200 % in the light theme: 640x360 points.
pub(crate) fn app_at_200() -> Harness<'static, ConsoleApp> {
    app_at_zoom(2.0)
}

/// The demo in a 1280x720 window at `zoom` (light theme).
pub(crate) fn app_at_zoom(zoom: f32) -> Harness<'static, ConsoleApp> {
    crate::kit::demo_at(zoom, tde_console::ui::presentation::Look::Light)
}

/// Every widget labelled `label` lies inside the window.
pub(crate) fn fits(h: &Harness<'static, ConsoleApp>, label: &str) -> egui::Rect {
    let screen = h.ctx.content_rect();
    let r = h
        .get_all_by_label(label)
        .next()
        .unwrap_or_else(|| panic!("no widget labelled '{label}'"))
        .rect();
    assert!(
        screen.expand(0.5).contains_rect(r),
        "'{label}' at {r:?} is outside the window {screen:?}"
    );
    r
}

/// At 100 % and 150 % on 1280x720 (issue 23, a trainer's walk): the clock's last button
/// never touches "Cloud Shell" — the bar first leaves out the "Advance:" caption, then gives
/// the clock a row of its own.
#[test]
fn at_100_and_150_percent_the_clock_keeps_clear_of_cloud_shell() {
    for zoom in [1.0, 1.5] {
        let mut h = app_at_zoom(zoom);
        h.run_steps(2);
        let day = fits(&h, "+1d");
        let shell = fits(&h, ">_ Cloud Shell");
        let same_row = day.y_range().intersects(shell.y_range());
        assert!(
            !same_row || shell.min.x - day.max.x >= 8.0,
            "at {zoom}x '+1d' {day:?} touches 'Cloud Shell' {shell:?}"
        );
        for label in ["Play", "+1m", "+10m", "+1h", "+8h", "Notifications"] {
            fits(&h, label);
        }
    }
}

/// Opens the first match of `text` with Go to (Ctrl+K, type, Enter), as a trainer does
/// at 200 %, where the navigator draws only the rows in sight.
pub(crate) fn go_to(h: &mut Harness<'static, ConsoleApp>, text: &str) {
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::K);
    h.run_steps(2);
    h.get_by_label("Resource or view").type_text(text);
    h.run_steps(2);
    h.key_press(egui::Key::Enter);
    h.run_steps(5);
}

/// Found on the trainer's walk at 200 % on 1280x720: with a blade open, History and
/// Scenarios side by side took more than the 640-point window, and the blades were drawn
/// over the left half of History. The panels now share what the blades leave them.
#[test]
fn at_200_percent_history_and_scenarios_beside_a_blade_do_not_overlap_it() {
    let mut h = app_at_200();
    go_to(&mut h, "sql-contoso-eu");
    click(&mut h, "Edit");
    click(&mut h, "History and bookmarks…");
    click(&mut h, "View");
    click(&mut h, "Scenarios");
    h.run_steps(4);
    let screen = h.ctx.content_rect();
    for label in ["Export session as script…", "Start: First BYOK setup"] {
        let panel = fits(&h, label);
        assert!(
            panel.width() > 60.0 && panel.min.x >= screen.min.x + 300.0 - 0.5,
            "'{label}' at {panel:?}: its panel keeps a usable width and leaves the blades 300 points"
        );
    }
    // History's buttons take their clicks (the blade is not drawn over them).
    click(&mut h, "Export session as script…");
    assert!(has(&h, "Script file"), "the export dialog opened");
}

/// Found on the trainer's walk at 150 % on 1280x720 (853 points, not "narrow", so the
/// navigator stays): History opened beside the TDE blade grew to its rows' width and left
/// the blade 160 points, its subtitle wrapped a letter a line; then, held to its share, its
/// bookmark row overflowed it and egui laid the blade out over it. The blades keep 300
/// points and History's rows stay inside it.
#[test]
fn at_150_percent_history_beside_the_navigator_leaves_the_blade_its_room() {
    let mut h = app_at_zoom(1.5);
    click(&mut h, "sql-contoso-eu");
    click(&mut h, "Transparent data encryption");
    click(&mut h, "Edit");
    click(&mut h, "History and bookmarks…");
    h.run_steps(4);
    // History and the navigator would leave the blade less than a readable width: the
    // navigator gives way (issue 23's walk at 150 %). Shown again by hand, it stays, and
    // the blade still keeps its 300 points.
    assert!(
        !has(&h, "Expand all"),
        "the navigator gives way to the blade beside History at 150 %"
    );
    click(&mut h, "Resources");
    h.run_steps(4);
    assert!(has(&h, "Expand all"), "the navigator is shown on request");
    // The navigator is 270 points wide.
    let history = fits(&h, "Export session as script…");
    assert!(
        history.min.x >= 270.0 + 300.0 - 0.5,
        "History at {history:?} leaves the blade beside the navigator less than 300 points"
    );
    // The blade is laid out left of History, not over it (egui moved a right panel whose
    // row overflowed it, and the blades took the room).
    let maximise = h
        .get_all_by_label("Maximise")
        .map(|n| n.rect())
        .max_by(|a, b| a.max.x.total_cmp(&b.max.x))
        .expect("the blade's Maximise");
    assert!(
        maximise.max.x <= history.min.x,
        "the blade's Maximise {maximise:?} lies over History {history:?}"
    );
    fits(&h, "Mark this moment");
    // The blade's radio row wraps in its 300 points instead of being cut at History's edge.
    let cmk = h.get_by_label("Customer-managed key").rect();
    assert!(
        cmk.max.x <= history.min.x,
        "'Customer-managed key' {cmk:?} is cut at History {history:?}"
    );
    click(&mut h, "Export session as script…");
    assert!(
        has(&h, "Script file"),
        "History's buttons take their clicks"
    );
}

/// Found on the trainer's walk at 200 % with Scenarios open: a blade narrower than its
/// title ("sql-contoso-us · Failover groups") drew the title under its Maximise button.
/// The title is cut short before the buttons now.
#[test]
fn at_200_percent_a_narrow_blade_cuts_its_title_before_maximise() {
    let mut h = app_at_200();
    click(&mut h, "View");
    click(&mut h, "Scenarios");
    go_to(&mut h, "sql-contoso-us");
    click(&mut h, "Failover groups");
    h.run_steps(4);
    // The newest blade's (the rightmost) Maximise.
    fits(&h, "Maximise");
    let maximise = h
        .get_all_by_label("Maximise")
        .map(|n| n.rect())
        .max_by(|a, b| a.min.x.total_cmp(&b.min.x))
        .expect("a Maximise button");
    let title = h
        .get_all_by_label_contains("Failover groups")
        .map(|n| n.rect())
        .filter(|r| r.y_range().intersects(maximise.y_range()))
        .fold(egui::Rect::NOTHING, |a, b| a.union(b));
    assert!(title.is_positive(), "the blade's title beside its buttons");
    assert!(
        title.max.x <= maximise.min.x + 0.5,
        "the title {title:?} runs under Maximise {maximise:?}"
    );
}

/// Found on the trainer's walk at 200 %: two error toasts (420 points each) hid two thirds
/// of the 640-point window, the customer app's chart under them. A toast takes at most
/// 45 % of the width now.
#[test]
fn at_200_percent_a_toast_leaves_most_of_the_window_visible() {
    let mut h = app_at_200();
    let text = "Server 'sql-contoso-us' lost access to its TDE protector (the server identity lacks key permissions: get, wrapKey, unwrapKey). Inaccessible: sales, inventory, hr.";
    tde_console::service::notify_error(&mut h.state_mut().ws, "Databases inaccessible", text);
    h.run_steps(3);
    let toast = fits(&h, text);
    let width = h.ctx.content_rect().width();
    assert!(
        toast.width() <= width * 0.45,
        "the toast's text is {} of {width} points wide",
        toast.width()
    );
}

#[test]
fn at_200_percent_a_blade_opened_with_go_to_folds_the_navigator() {
    let mut h = app_at_200();
    assert!(
        has(&h, "Expand all"),
        "no blade yet: the navigator is shown"
    );
    go_to(&mut h, "sql-contoso-eu");
    assert!(!has(&h, "Expand all"), "the first blade folds it");
    click(&mut h, "Resources");
    assert!(has(&h, "Expand all"), "Resources shows it again");
    go_to(&mut h, "kv-contoso-eu");
    let top = h.state().blades.last().map(|b| b.title());
    assert!(
        top.as_deref().is_some_and(|t| t != "sql-contoso-eu"),
        "Go to opened another blade: {top:?}"
    );
    assert!(
        !has(&h, "Expand all"),
        "the navigator gave the new blade its room"
    );
}

#[test]
fn at_200_percent_the_top_bar_and_the_topology_fit_on_1280x720() {
    let mut h = app_at_200();
    assert!(h.ctx.content_rect().width() < 700.0, "200 % of 1280 points");
    // Every clock button on screen, and nothing on the top row overlaps.
    for label in ["Play", "+1m", "+10m", "+1h", "+8h", "+1d"] {
        fits(&h, label);
    }
    let shell = fits(&h, ">_ Cloud Shell");
    let notes = fits(&h, "Notifications");
    let settings = fits(&h, "Settings");
    assert!(!shell.intersects(notes) && !shell.intersects(settings));
    // Notifications arriving do not move Cloud Shell.
    for i in 0..120 {
        tde_console::service::notify_error(
            &mut h.state_mut().ws,
            "Test",
            &format!("Notification {i}"),
        );
    }
    h.run_steps(3);
    assert_eq!(
        fits(&h, ">_ Cloud Shell"),
        shell,
        "Cloud Shell stays where it was"
    );
    // Topology: its buttons and canvas fit; the navigator gave the room to the blade.
    click(&mut h, "View");
    click(&mut h, "Topology");
    h.run_steps(3);
    assert!(
        !has(&h, "Expand all"),
        "the navigator is folded away on a narrow window"
    );
    for label in ["Fit", "+", "−", "Legend", "Maximise"] {
        fits(&h, label);
    }
    // Maximise uses the whole width; Resources brings the navigator back.
    click(&mut h, "Maximise");
    fits(&h, "Restore");
    click(&mut h, "Resources");
    assert!(has(&h, "Expand all"));
    fits(&h, "Expand all");
    // The presenter view too.
    h.key_press(egui::Key::F5);
    h.run_steps(3);
    for label in [
        "Exit presenter view",
        "Fit",
        "No failure in progress",
        "+1d",
    ] {
        fits(&h, label);
    }
}

#[test]
fn a_class_walks_the_revoke_and_recover_scenario_by_clicking() {
    let mut h = app();
    h.run_steps(2);
    click(&mut h, "View");
    click(&mut h, "Scenarios");
    h.run_steps(2);
    click(&mut h, "Start: Revoke and recover inside the window");
    // The scenario's workspace is built off the UI thread.
    wait_until(&mut h, "the scenario to start", |app| {
        app.scenario.is_some()
    });
    assert!(has(&h, "Step 1 of 2"));
    assert!(has(&h, "To do"));
    revoke_and_wait(&mut h);
    h.run_steps(2);
    assert!(has(&h, "Goal met"));
    click(&mut h, "Next step");
    h.run_steps(2);
    assert!(has(&h, "Step 2 of 2"));
    grant_in_vault_blade(&mut h);
    advance(&mut h, "+1h");
    h.run_steps(2);
    assert!(has(&h, "Scenario complete: 2 step(s)"));
}

#[test]
fn gui_changes_export_as_a_script_that_replays_to_the_same_state() {
    let mut h = app();
    h.run_steps(2);
    click(&mut h, "kv-contoso-us");
    let removes: Vec<_> = h.get_all_by_label("Remove").collect();
    removes[1].click();
    h.run_steps(2);
    click(&mut h, "Remove anyway");
    h.run_steps(2);
    assert!(
        has(
            &h,
            "az keyvault delete-policy --name kv-contoso-us --object-id"
        ),
        "the change is shown as its az command"
    );
    advance(&mut h, "+10m");
    advance(&mut h, "+10m");
    assert_eq!(sales_state(&h), "Inaccessible");
    grant_in_vault_blade(&mut h);
    advance(&mut h, "+1h");
    assert_eq!(sales_state(&h), "Online");
    let dir = std::env::temp_dir().join(format!("tde-ui-script-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("session.azcli");
    let _ = std::fs::remove_file(&path);
    click(&mut h, "Edit");
    click(&mut h, "History and bookmarks…");
    h.run_steps(2);
    click(&mut h, "Export session as script…");
    h.run_steps(2);
    h.get_by_label("Script file").click();
    h.run_steps(1);
    h.get_by_label("Script file")
        .type_text(&path.display().to_string());
    h.run_steps(1);
    click(&mut h, "Export");
    h.run_steps(2);
    let script = std::fs::read_to_string(&path).expect("the script was written");
    // Two +10m clicks in a row are one advance of their total.
    assert!(script.contains("sim clock advance 1200s"), "{script}");
    assert!(!script.contains("(no az equivalent)"), "{script}");
    // Replayed by the shell on the workspace the session started from.
    let mut ws = persist::demo().unwrap();
    let mut sh = tde_console::shell::Shell::new().with_keys(common::FixtureKeys::boxed());
    let out = sh.run_script(&mut ws, &script, false);
    assert_eq!(out.failures, 0, "{}", out.stderr);
    let gui = &h.state().ws;
    assert_eq!(ws.now(), gui.now());
    let policies = |w: &tde_console::model::Workspace| {
        w.vault("kv-contoso-us").unwrap().access_policies.clone()
    };
    assert_eq!(policies(&ws), policies(gui));
    for (a, b) in ws.servers.iter().zip(&gui.servers) {
        for (x, y) in a.databases.iter().zip(&b.databases) {
            assert_eq!(x.state.label(), y.state.label(), "{}/{}", a.name, x.name);
        }
        assert_eq!(a.protector, b.protector);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bookmarks_kept_in_the_file_reopen_on_the_timeline_and_rewind() {
    let mut h = app();
    h.run_steps(2);
    let start = h.state().ws.now();
    click(&mut h, "Edit");
    click(&mut h, "History and bookmarks…");
    h.run_steps(2);
    type_into(&mut h, "Bookmark name", "before the revocation");
    click(&mut h, "Mark this moment");
    revoke_and_wait(&mut h);
    click(&mut h, "Edit");
    click(&mut h, "History and bookmarks…");
    h.run_steps(2);
    click(&mut h, "Keep bookmarks in the workspace file");
    h.run_steps(3);
    assert_eq!(h.state().ws.bookmarks.len(), 1);
    assert!(h.state().unsaved(), "keeping them is a change to save");

    let path = std::env::temp_dir().join(format!("tde-ui-bookmarks-{}.ron", std::process::id()));
    let _ = std::fs::remove_file(&path);
    persist::save(&h.state().ws, &path).unwrap();
    let reopened = persist::load(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    let mut h = Harness::builder()
        .with_size(egui::vec2(1500.0, HEIGHT))
        .build_eframe(move |_cc| {
            ConsoleApp::with_workspace(reopened, None)
                .with_keys(std::sync::Arc::new(common::FixtureKeys::new()))
        });
    h.run_steps(2);
    click(&mut h, "Edit");
    click(&mut h, "History and bookmarks…");
    h.run_steps(2);
    assert!(has(&h, "before the revocation"));
    h.get_all_by_label("Rewind to here").last().unwrap().click();
    h.run_steps(3);
    assert_eq!(h.state().ws.now(), start);
    let sales = h
        .state()
        .ws
        .server("sql-contoso-us")
        .and_then(|s| s.database("sales"))
        .map(|d| d.state.label());
    assert_eq!(sales, Some("Online"));
    assert_eq!(h.state().ws.bookmarks.len(), 1, "the file's bookmarks stay");
}

#[test]
fn the_navigator_shows_the_selected_subscription_and_switches_like_az_account_set() {
    let mut ws = persist::demo().unwrap();
    let mut sh = tde_console::shell::Shell::new().with_keys(common::FixtureKeys::boxed());
    let out = sh.run_script(
        &mut ws,
        "sim subscription create --id 11111111-2222-4333-8444-555555555555 --name 'Contoso Dev' -o none\naz group create -n rg-dev -l eastus --subscription 'Contoso Dev' -o none",
        false,
    );
    assert_eq!(out.failures, 0, "{}", out.stderr);
    let mut h = Harness::builder()
        .with_size(egui::vec2(1500.0, HEIGHT))
        .build_eframe(move |_cc| {
            ConsoleApp::with_workspace(ws, None)
                .with_keys(std::sync::Arc::new(common::FixtureKeys::new()))
        });
    h.run_steps(2);
    assert!(has(&h, "rg-contoso-us"));
    assert!(
        !has(&h, "rg-dev"),
        "another subscription's groups are not listed"
    );
    // The picker is labelled by its "Subscription:" caption.
    h.get_all_by_label("Subscription:").last().unwrap().click();
    h.run_steps(2);
    click(&mut h, "Contoso Dev");
    h.run_steps(3);
    assert!(has(&h, "rg-dev"));
    assert!(!has(&h, "rg-contoso-us"));
    assert!(has(
        &h,
        "az account set --subscription 11111111-2222-4333-8444-555555555555"
    ));
}

#[test]
fn the_cloud_shell_runs_powershell_cmdlets_after_choosing_powershell() {
    let mut h = app();
    h.run_steps(2);
    click(&mut h, ">_ Cloud Shell");
    h.run_steps(2);
    click(&mut h, "PowerShell");
    h.run_steps(2);
    h.get_by_label("PS>").click();
    h.run_steps(1);
    h.get_by_label("PS>").type_text(
        "Get-AzSqlServerTransparentDataEncryptionProtector -ResourceGroupName rg-contoso-us -ServerName sql-contoso-us",
    );
    h.run_steps(1);
    h.key_press(egui::Key::Enter);
    wait_until(&mut h, "the cmdlet", |app| !app.busy());
    let t = &h.state().shell.transcript;
    assert!(
        t.contains("PS> Get-AzSqlServerTransparentDataEncryptionProtector"),
        "{t}"
    );
    assert!(t.contains("ServerKeyVaultKeyName : "), "{t}");
    // A change made in PowerShell goes into the session's script as the az line its cmdlet
    // ran, so the replay (bash) runs it.
    let cmdlet = "New-AzResourceGroup -Name rg-class -Location eastus";
    h.get_by_label("PS>").click();
    h.get_by_label("PS>").type_text(cmdlet);
    h.key_press(egui::Key::Enter);
    wait_until(&mut h, "the cmdlet", |app| !app.busy());
    assert!(h.state().ws.resource_group("rg-class").is_some());
    let script = h.state().history.script();
    assert!(
        script.contains("\naz group create -n rg-class -l eastus\n"),
        "{script}"
    );
    assert!(!script.contains("New-AzResourceGroup\n"), "{script}");
    let mut replayed = persist::demo().expect("the demo loads");
    let out = tde_console::shell::Shell::new()
        .with_keys(common::FixtureKeys::boxed())
        .run_script(&mut replayed, &script, false);
    assert_eq!(out.failures, 0, "{}", out.stderr);
    assert!(
        replayed.resource_group("rg-class").is_some(),
        "the replay made it"
    );
    // `bash` goes back, as in Cloud Shell; the prompt follows.
    h.get_by_label("PS>").click();
    h.get_by_label("PS>").type_text("bash");
    h.key_press(egui::Key::Enter);
    wait_until(&mut h, "bash", |app| !app.busy());
    assert!(has(&h, "az>"));
}

/// Found in a trainer's walk at 200 % (issue 23): the "Vaults on localhost" panel's Copy
/// buttons ran past its edge ("Cop"). Every Copy button is whole inside the window.
#[test]
fn at_200_percent_the_served_vaults_copy_buttons_are_whole() {
    let mut h = app_at_200();
    // A blade open beside it, as in the walk: the panel gets what the blade leaves.
    crate::console::go_to(&mut h, "kv-contoso-us2");
    click(&mut h, "View");
    click(&mut h, "Serve vaults on localhost");
    h.run_steps(3);
    assert!(h.state().serving.endpoint.is_some());
    let window = h.ctx.content_rect();
    let copies: Vec<egui::Rect> = h.query_all_by_label("Copy").map(|n| n.rect()).collect();
    assert!(copies.len() >= 4, "a Copy per vault and the certificate's");
    // The panel's right edge inside its margin: where its "×" ends.
    let edge = h
        .query_all_by_label("×")
        .map(|n| n.rect().max.x)
        .fold(f32::MIN, f32::max);
    for r in copies {
        assert!(
            window.contains_rect(r) && r.max.x <= edge + 0.5,
            "a Copy button {r:?} runs past the panel's edge {edge} (window {window:?})"
        );
    }
    h.state_mut().serving.endpoint = None;
}

/// Issue 14: View > "Serve vaults on localhost" starts the endpoint; the top bar shows it,
/// the panel lists each vault's URL, and a client's request is answered by the running
/// app (its count goes up) while the trainer watches.
#[test]
fn serving_the_vaults_on_localhost_answers_a_client_live() {
    let mut h = app();
    h.run_steps(2);
    click(&mut h, "View");
    click(&mut h, "Serve vaults on localhost");
    assert!(
        h.state().serving.endpoint.is_some(),
        "{:?}",
        h.state().serving.error
    );
    assert!(has(&h, "Serving 3 vaults · 0 requests"));
    assert!(has(&h, "https://127.0.0.1:"));
    let (url, ca) = {
        let e = h.state().serving.endpoint.as_ref().unwrap();
        (e.vaults[0].url.clone(), e.ca_pem.clone())
    };
    let port: u16 = url
        .trim_end_matches('/')
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    // A client without a token: the app answers with the challenge.
    let client = std::thread::spawn(move || {
        use rustls::pki_types::pem::PemObject;
        use std::io::{Read, Write};
        let mut roots = rustls::RootCertStore::empty();
        for c in rustls::pki_types::CertificateDer::pem_slice_iter(ca.as_bytes()) {
            roots.add(c.unwrap()).unwrap();
        }
        let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
        let conn = rustls::ClientConnection::new(std::sync::Arc::new(config), name).unwrap();
        let tcp = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let mut tls = rustls::StreamOwned::new(conn, tcp);
        tls.write_all(
            b"GET /keys?api-version=7.5 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .unwrap();
        let mut out = Vec::new();
        let _ = tls.read_to_end(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    });
    wait_until(&mut h, "the app to answer the client", |app| {
        app.serving
            .endpoint
            .as_ref()
            .is_some_and(|e| e.stats.requests.load(std::sync::atomic::Ordering::SeqCst) > 0)
    });
    assert!(client.join().unwrap().starts_with("HTTP/1.1 401"));
    assert!(has(&h, "Serving 3 vaults · 1 request"));
    // Issue 24: a vault created while serving is served as it appears, and listed.
    let out = tde_console::shell::Shell::new()
        .with_keys(common::FixtureKeys::boxed())
        .run_script(
            &mut h.state_mut().ws,
            "az keyvault create --name kv-live-app --resource-group rg-contoso-us --location eastus -o none",
            false,
        );
    assert_eq!(out.failures, 0, "{}", out.stderr);
    // The endpoint picks the new vault up on its own thread: a few frames, more under load.
    for _ in 0..300 {
        if has(&h, "Serving 4 vaults · 1 request") {
            break;
        }
        h.step();
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(has(&h, "Serving 4 vaults · 1 request"));
    assert!(has(&h, "kv-live-app"));
    assert!(
        h.state()
            .serving
            .endpoint
            .as_ref()
            .is_some_and(|e| e.vaults.iter().any(|v| v.name == "kv-live-app"))
    );
    // Issue 24: the panel gives the real az's environment and sign-in, with Copy.
    h.get_by_label("Copy az environment").click();
    let copied = copied_text(&mut h).expect("Copy put the az environment on the clipboard");
    assert!(
        copied.contains("export HTTPS_PROXY='http://127.0.0.1:"),
        "{copied}"
    );
    assert!(copied.contains("export AZURE_CONFIG_DIR='"), "{copied}");
    assert!(copied.contains("az login --service-principal"), "{copied}");
    // Stopping closes the endpoint and the indicator goes.
    click(&mut h, "View");
    click(&mut h, "Serve vaults on localhost");
    assert!(h.state().serving.endpoint.is_none());
    assert!(!has(&h, "Serving 4 vaults"));
}

/// The toast's Copy puts the az line on the clipboard (issue 23, defect 3: a click on the
/// whole toast used to take Copy's click).
#[test]
fn the_toasts_copy_button_copies_its_az_line() {
    let mut h = app();
    h.run_steps(2);
    click(&mut h, "sales");
    click(&mut h, "Backups");
    type_into(&mut h, "Restore point (UTC)", "2026-01-02T12:00:00Z");
    type_into(&mut h, "New database name", "sales-copy-test");
    click(&mut h, "Restore");
    h.get_all_by_label("Copy")
        .next()
        .expect("the toast's Copy button")
        .click();
    let copied = copied_text(&mut h).expect("Copy put text on the clipboard");
    assert!(
        copied.starts_with("az sql db restore --dest-name sales-copy-test"),
        "{copied}"
    );
    // The notifications keep it after the toast is gone, with its own Copy.
    h.query_all_by_label_contains("Notifications")
        .next()
        .expect("the notifications button")
        .click();
    h.run_steps(3);
    assert!(has(&h, "Your changes as az commands"));
    assert!(
        h.query_all_by_label_contains("az sql db restore --dest-name sales-copy-test")
            .count()
            >= 2,
        "the toast and the notifications both show the line"
    );
}

/// Issue 23, a customer app: started by a click on the database blade, it charts the
/// outage a revocation causes as the business sees it (40613), minute by minute.
#[test]
fn a_customer_app_started_from_the_database_blade_charts_the_40613_outage() {
    let mut h = app();
    h.run_steps(2);
    click(&mut h, "sales");
    click(&mut h, "Start customer app");
    h.run_steps(3);
    assert!(h.state().customer_app.open, "the window opens");
    assert!(has(&h, "Running since 09:00"));
    assert!(has(&h, "Last 60 min: 1 ok, 0 failed"));
    assert!(has(
        &h,
        "sim app start --server sql-contoso-us --database sales"
    ));
    // The database blade now offers to show it instead.
    assert!(has(&h, "Show customer app"));
    revoke_and_wait(&mut h);
    let ws = &h.state().ws;
    let a = &ws.customer_apps[0];
    let s = tde_console::service::customer_app::summary(
        a,
        ws.now() - tde_console::sim::Duration::hours(1),
        ws.now(),
    );
    assert_eq!(s.ok + s.failed, 21, "09:00 to 09:20, one query a minute");
    assert!(s.failed >= 1 && s.ok >= 1, "{s:?}");
    let line = format!("Last 60 min: {} ok, {} failed (40613)", s.ok, s.failed);
    assert!(has(&h, &line), "the summary says {line}");
    let since = s.down_since.expect("the app is down");
    assert!(has(&h, &format!("Down since {}", &since.to_iso()[11..16])));
    assert!(has(
        &h,
        &format!(
            "First error of this outage, at {}: (40613) Database 'sales' on server 'sql-contoso-us' is not currently available.",
            &since.to_iso()[11..16]
        )
    ));
    // The chart was drawn with exactly those samples.
    let plotted = h.state().customer_app.plotted.clone().expect("a chart");
    assert_eq!(plotted.answered, s.ok);
    assert_eq!(plotted.refused, vec![("40613".to_string(), s.failed)]);
    assert_eq!(plotted.bars, 21);
    assert!(has(
        &h,
        &format!(
            "One bar a simulated minute: {} answered, {} refused.",
            s.ok, s.failed
        )
    ));
    // Stop: the samples stay, no more queries.
    click(&mut h, "Stop");
    assert!(has(&h, "Stopped at 09:20"));
    advance(&mut h, "+10m");
    assert_eq!(h.state().ws.customer_apps[0].samples(), 21);
    assert!(!h.state().ws.customer_apps[0].running());
}

/// The customer app window fits at 200 % on 1280x720 (640x360 points) and is started from
/// View > Customer app.
#[test]
fn the_customer_app_window_fits_at_200_percent_and_starts_from_the_view_menu() {
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 720.0))
        .build_eframe(|_cc| {
            ConsoleApp::with_workspace(persist::demo().expect("the demo loads"), None)
                .with_keys(std::sync::Arc::new(common::FixtureKeys::new()))
        });
    h.state_mut()
        .presentation
        .set(2.0, tde_console::ui::presentation::Look::Light);
    h.run_steps(3);
    h.get_by_label("View").click();
    h.run_steps(2);
    h.get_by_label("Customer app").click();
    h.run_steps(3);
    assert!(h.state().customer_app.open);
    // The first database of the first server is chosen: sql-contoso-us's sales.
    h.get_by_label("Start").click();
    h.run_steps(3);
    assert!(
        h.state()
            .ws
            .customer_apps
            .iter()
            .any(|a| a.is_for("sql-contoso-us", "sales") && a.running())
    );
    h.state_mut()
        .advance_clock(tde_console::sim::Duration::minutes(30));
    wait_until(&mut h, "the clock advance", |app| !app.busy());
    h.run_steps(3);
    let screen = egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(640.0, 360.0));
    for label in [
        "Last 60 min: 31 ok, 0 failed",
        "Stop",
        "One bar a simulated minute: 31 answered, 0 refused.",
    ] {
        let node = h
            .query_all_by_label_contains(label)
            .next()
            .unwrap_or_else(|| panic!("'{label}' is shown"));
        let r = node.rect();
        assert!(
            screen.contains_rect(r),
            "'{label}' at {r:?} is inside the 640x360 screen"
        );
    }
    assert_eq!(
        h.state().customer_app.plotted.as_ref().map(|p| p.bars),
        Some(31)
    );
}

#[test]
fn each_key_version_shows_when_it_was_created() {
    use tde_console::ui::blades::BladeKind;
    let mut h = app();
    h.state_mut().open_root(BladeKind::Vault {
        vault: "kv-contoso-us".into(),
        forms: Default::default(),
    });
    h.run_steps(2);
    click(&mut h, "tde-protector");
    h.run_steps(2);
    // The demo made version 1 on day 2 and version 2 (the protector) on day 3.
    assert!(has(&h, "a83d7e35de18 · 2026-01-02 09:00:00 UTC"));
    assert!(has(&h, "614f560177dc · 2026-01-03 09:00:00 UTC"));
    // A rotation an hour later makes a version created then; the older ones keep their times.
    advance(&mut h, "+1h");
    click(&mut h, "Rotate now");
    wait_until(&mut h, "the rotation", |app| !app.busy());
    let key = h
        .state()
        .ws
        .vault("kv-contoso-us")
        .unwrap()
        .key("tde-protector")
        .unwrap()
        .clone();
    let created: Vec<String> = key
        .versions
        .iter()
        .map(|v| v.created.to_display())
        .collect();
    assert_eq!(
        created,
        [
            "2026-01-02 09:00:00 UTC",
            "2026-01-03 09:00:00 UTC",
            "2026-01-03 10:00:00 UTC"
        ]
    );
    let newest = &key.versions[2].version.0[..12];
    assert!(has(
        &h,
        &format!("{newest} · 2026-01-03 10:00:00 UTC · current version")
    ));
    assert!(has(&h, "614f560177dc · 2026-01-03 09:00:00 UTC"));
}

#[test]
fn the_cloud_shell_colours_errors_and_up_recalls_a_line_with_the_cursor_at_its_end() {
    let mut h = app();
    h.run_steps(2);
    click(&mut h, ">_ Cloud Shell");
    h.run_steps(2);
    h.get_by_label("az>").click();
    h.run_steps(1);
    h.get_by_label("az>").type_text("az sql db tde shw");
    h.run_steps(1);
    h.key_press(egui::Key::Enter);
    wait_until(&mut h, "the command", |app| !app.busy());
    let shell = &h.state().shell;
    let error = shell
        .transcript
        .lines()
        .find(|l| l.contains("Did you mean"))
        .expect("the shell says what it did not know")
        .to_string();
    assert!(
        error.contains("Did you mean: az sql db tde show"),
        "the nearest command first: {error}"
    );
    assert!(shell.is_stderr(&error), "the error is drawn as an error");
    assert!(!shell.is_stderr("az> az sql db tde shw"));
    // Up recalls the line; typing goes at its end, so a fix is one keystroke away.
    h.get_by_label("az>").click();
    h.run_steps(3);
    h.key_press(egui::Key::ArrowUp);
    h.run_steps(2);
    assert_eq!(h.state().shell.input, "az sql db tde shw");
    h.key_press(egui::Key::Backspace);
    h.key_press(egui::Key::Backspace);
    h.run_steps(1);
    h.get_by_label("az>").type_text("how");
    h.run_steps(1);
    assert_eq!(h.state().shell.input, "az sql db tde show");
    // Down past the newest line empties the prompt again.
    h.key_press(egui::Key::ArrowUp);
    h.run_steps(1);
    h.key_press(egui::Key::ArrowDown);
    h.run_steps(1);
    assert_eq!(h.state().shell.input, "");
}

/// Found in walk 35 at 200 %: after a command that ran for a few frames (a failover, a
/// pasted script) the prompt had lost the keys, and what the trainer typed next went
/// nowhere. The prompt keeps them: the next line is typed without a click.
#[test]
fn the_cloud_shell_prompt_keeps_the_keys_after_each_command() {
    let mut h = app();
    h.run_steps(2);
    click(&mut h, ">_ Cloud Shell");
    h.run_steps(2);
    h.get_by_label("az>").click();
    h.run_steps(1);
    for line in [
        "az sql server list -o table",
        "az sql db list --server sql-contoso-us --resource-group rg-contoso-us -o tsv\naz sql db show --name sales --server sql-contoso-us --resource-group rg-contoso-us -o none",
    ] {
        // (The prompt takes keys only while nothing runs.)
        wait_until(&mut h, "idle", |app| !app.busy());
        h.run_steps(1);
        for (k, part) in line.split('\n').enumerate() {
            if k > 0 {
                h.key_press_modifiers(egui::Modifiers::SHIFT, egui::Key::Enter);
            }
            h.event(egui::Event::Text(part.into()));
            h.run_steps(1);
        }
        assert!(
            !h.state().shell.input.is_empty(),
            "'{line}' is in the prompt"
        );
        h.key_press(egui::Key::Enter);
        h.run_steps(1);
        wait_until(&mut h, "the command", |app| !app.busy());
        h.run_steps(2);
        // No click: the keys still go to the prompt.
        h.event(egui::Event::Text("zz".into()));
        h.run_steps(1);
        assert_eq!(h.state().shell.input, "zz", "after '{line}'");
        assert!(
            h.state().shell.transcript.contains("sql-contoso-us"),
            "'{line}' ran"
        );
        h.key_press(egui::Key::Backspace);
        h.key_press(egui::Key::Backspace);
        h.run_steps(1);
    }
}

/// The serve panel's Python snippet is a whole program: it defines the credential it uses,
/// and (when the Azure SDK for Python is installed) it really lists the vault's keys
/// through the running app.
#[test]
fn the_serve_panels_python_snippet_runs_as_copied() {
    let mut h = app();
    h.run_steps(2);
    click(&mut h, "View");
    click(&mut h, "Serve vaults on localhost");
    assert!(h.state().serving.endpoint.is_some());
    // The panel grew (the az environment): the snippet's button is below the fold, and
    // the click goes to it as a screen reader's would.
    h.get_by_label("Copy snippet").scroll_to_me();
    h.run_steps(2);
    h.get_by_label("Copy snippet").click_accesskit();
    let snippet = copied_text(&mut h).expect("Copy snippet put text on the clipboard");
    let defined = snippet
        .find("credential = ")
        .expect("the credential is defined");
    let used = snippet.find("KeyClient(\"").expect("the client is made");
    assert!(defined < used, "defined before use:\n{snippet}");
    assert!(snippet.starts_with("import time\n"), "{snippet}");
    let token = snippet
        .split("TOKEN = \"")
        .nth(1)
        .and_then(|t| t.split('"').next())
        .expect("the token is in the snippet");
    assert!(
        token.len() > 100 && !token.contains('…'),
        "the whole token: {token}"
    );
    // On screen the token is cut short.
    assert!(!has(&h, token));
    let sdk = std::process::Command::new("python3")
        .args(["-c", "import azure.keyvault.keys"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !sdk {
        eprintln!("the snippet was not run: pip install azure-keyvault-keys to run it");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("snippet.py");
    std::fs::write(&file, &snippet).expect("snippet written");
    let run = std::thread::spawn(move || {
        std::process::Command::new("python3")
            .arg(&file)
            .output()
            .expect("python3 runs")
    });
    // The app answers the SDK's requests while its frames run.
    for _ in 0..3000 {
        if run.is_finished() {
            break;
        }
        h.step();
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let out = run.join().expect("the snippet finished");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let first = h.state().serving.endpoint.as_ref().unwrap().vaults[0]
        .name
        .clone();
    let names: Vec<String> = h
        .state()
        .ws
        .vault(&first)
        .unwrap()
        .keys
        .iter()
        .filter(|k| k.deleted.is_none())
        .map(|k| k.name.clone())
        .collect();
    for n in &names {
        assert!(stdout.lines().any(|l| l == n), "{n} listed:\n{stdout}");
    }
}

/// Issue 23, the customer app: "if served, students' own SDK clients appear in it". The
/// real Azure SDK for Python (the serve panel's snippet, plus a read of a key that does not
/// exist) talks to the vaults the running app serves; its requests, answered and refused,
/// are in the customer app's live data (the chart's series and its caption) as they come.
#[test]
fn a_real_sdk_clients_requests_while_serving_appear_in_the_customer_app() {
    let mut h = app();
    h.run_steps(2);
    click(&mut h, "sales");
    click(&mut h, "Start customer app");
    h.run_steps(3);
    assert!(h.state().customer_app.open);
    click(&mut h, "View");
    click(&mut h, "Serve vaults on localhost");
    assert!(h.state().serving.endpoint.is_some());
    h.run_steps(3);
    assert!(has(
        &h,
        "SDK clients (vaults on localhost): 0 answered, 0 refused."
    ));
    h.get_by_label("Copy snippet").scroll_to_me();
    h.run_steps(2);
    h.get_by_label("Copy snippet").click_accesskit();
    let snippet = copied_text(&mut h).expect("Copy snippet put text on the clipboard");
    let sdk = std::process::Command::new("python3")
        .args(["-c", "import azure.keyvault.keys"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !sdk {
        assert!(
            std::env::var("TDE_SDK_TEST").is_err(),
            "TDE_SDK_TEST is set but the Azure SDK for Python is not installed"
        );
        eprintln!("skipped: pip install azure-keyvault-keys to run it");
        return;
    }
    let program = format!(
        "{snippet}\nfrom azure.core.exceptions import ResourceNotFoundError\ntry:\n    keys.get_key(\"no-such-key\")\nexcept ResourceNotFoundError:\n    print(\"refused: no-such-key\")\n"
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("client.py");
    std::fs::write(&file, &program).expect("program written");
    let run = std::thread::spawn(move || {
        std::process::Command::new("python3")
            .arg(&file)
            .output()
            .expect("python3 runs")
    });
    for _ in 0..3000 {
        if run.is_finished() {
            break;
        }
        h.step();
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let out = run.join().expect("the client finished");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("refused: no-such-key"), "{stdout}");
    h.run_steps(3);
    // What the vaults journaled from SDK clients (not the console, not a SQL server)...
    let ws = &h.state().ws;
    let (answered, refused) = ws
        .journal
        .requests()
        .iter()
        .filter(|r| tde_console::service::customer_app::is_sdk_request(r))
        .fold((0, 0), |(a, b), r| {
            if r.succeeded() {
                (a + 1, b)
            } else {
                (a, b + 1)
            }
        });
    assert!(answered >= 1, "the listing was answered");
    assert!(refused >= 1, "the read of a missing key was refused");
    // ...is what the customer app charts and says, beside its own queries.
    let plotted = h.state().customer_app.plotted.clone().expect("a chart");
    assert_eq!(plotted.sdk, (answered, refused));
    assert!(plotted.answered >= 1, "the app's own query is charted too");
    assert!(has(
        &h,
        &format!("SDK clients (vaults on localhost): {answered} answered, {refused} refused.")
    ));
}

/// Issue 23, defect 8: badges appearing in the navigator (databases Inaccessible, servers
/// changed) do not widen it and move every blade mid-click; the person can still resize it.
#[test]
fn the_navigator_keeps_its_width_when_badges_appear_and_stays_resizable() {
    let mut h = app();
    h.run_steps(2);
    click(&mut h, "kv-contoso-us");
    let blade_left = |h: &Harness<'static, ConsoleApp>| h.get_by_label("Home").rect().left();
    let before = blade_left(&h);
    revoke_and_wait(&mut h);
    click(&mut h, "kv-contoso-us");
    assert!(has(&h, "4 !"), "the server's badge is there");
    assert_eq!(blade_left(&h), before, "the blades did not move");
    // Dragging the navigator's edge still resizes it (and the blades follow).
    let edge = h.get_by_label("Search").rect().right() + 8.0;
    let y = 400.0;
    h.hover_at(egui::pos2(edge, y));
    h.run_steps(1);
    h.drag_at(egui::pos2(edge, y));
    h.run_steps(1);
    for dx in [20.0, 40.0, 60.0, 80.0] {
        h.hover_at(egui::pos2(edge + dx, y));
        h.run_steps(1);
    }
    h.drop_at(egui::pos2(edge + 80.0, y));
    h.run_steps(3);
    let after = blade_left(&h);
    assert!(
        (after - before - 80.0).abs() < 4.0,
        "resized by the drag: {before} -> {after}"
    );
    // And it keeps the width the person gave it.
    advance(&mut h, "+10m");
    assert_eq!(blade_left(&h), after);
}

/// The vault blade's Secrets section, clicked through as a person would: create a secret
/// (the value typed masked), show its value on demand, disable it, delete it, recover it,
/// delete it again and purge it; every click is an operation with its `az` line, and the
/// value never appears in an `az` line.
#[test]
fn the_secrets_section_sets_shows_disables_deletes_recovers_and_purges() {
    use std::collections::BTreeSet;
    use tde_console::model::SecretPermission;
    let mut h = app();
    h.run_steps(2);
    // The demo's access policy predates secrets: the console user gets them all.
    {
        let ws = &mut h.state_mut().ws;
        let me = ws.console_user.object_id.clone();
        let all: BTreeSet<SecretPermission> = SecretPermission::ALL.into_iter().collect();
        tde_console::service::secrets::set_access_policy(
            ws,
            "kv-contoso-eu",
            &me,
            None,
            Some(&all),
        )
        .expect("granted");
    }
    click(&mut h, "kv-contoso-eu");
    assert!(has(&h, "No secrets."));
    click(&mut h, "Generate/Import a secret");
    type_into(&mut h, "Secret name", "app-password");
    type_into(&mut h, "Secret value", "Tr0ub4dor-and-3");
    assert!(!has(&h, "Tr0ub4dor"), "the value is typed masked");
    click(&mut h, "Create secret");
    assert!(has(&h, "Secret 'app-password' version"), "created");
    let vault = |h: &egui_kittest::Harness<'static, tde_console::ui::ConsoleApp>| {
        h.state().ws.vault("kv-contoso-eu").unwrap().clone()
    };
    let s = vault(&h).secret("app-password").cloned().expect("stored");
    assert_eq!(s.current().unwrap().value.reveal(), "Tr0ub4dor-and-3");
    assert!(!has(&h, "Tr0ub4dor"), "masked until asked for");
    click(&mut h, "Show value of app-password");
    assert!(has(&h, "Tr0ub4dor-and-3"), "shown on demand");
    click(&mut h, "Hide app-password");
    assert!(!has(&h, "Tr0ub4dor"));
    click(&mut h, "Disable app-password");
    assert!(
        !vault(&h)
            .secret("app-password")
            .unwrap()
            .current()
            .unwrap()
            .enabled
    );
    click(&mut h, "Show value of app-password");
    assert!(has(
        &h,
        "Operation get is not allowed on a disabled secret."
    ));
    click(&mut h, "Enable app-password");
    click(&mut h, "Delete app-password");
    assert!(vault(&h).secret("app-password").unwrap().deleted.is_some());
    click(&mut h, "Manage deleted secrets (1)");
    click(&mut h, "Recover secret app-password");
    assert!(vault(&h).secret("app-password").unwrap().deleted.is_none());
    click(&mut h, "Delete app-password");
    // The section stays open from the recover.
    if !has(&h, "Purge secret app-password") {
        click(&mut h, "Manage deleted secrets (1)");
    }
    click(&mut h, "Purge secret app-password");
    let purged = vault(&h).secret("app-password").is_none();
    if vault(&h).purge_protection {
        assert!(!purged && has(&h, "purge protection is enabled"));
    } else {
        assert!(purged, "purged");
    }
    // Every click left its az line; none holds the value.
    let script = h.state().history.script();
    for line in [
        "az keyvault secret set --vault-name kv-contoso-eu --name app-password --value \"$SECRET_VALUE\"",
        "az keyvault secret show --vault-name kv-contoso-eu --name app-password --query value -o tsv",
        "az keyvault secret set-attributes --vault-name kv-contoso-eu --name app-password --enabled false",
        "az keyvault secret delete --vault-name kv-contoso-eu --name app-password",
        "az keyvault secret recover --vault-name kv-contoso-eu --name app-password",
    ] {
        assert!(script.contains(line), "missing '{line}' in:\n{script}");
    }
    assert!(!script.contains("Tr0ub4dor"));
}

/// Issue 24: the vault blade's "Add access policy" form grants secret permissions too (the
/// portal's second list), with its az line.
#[test]
fn the_access_policy_form_grants_secret_permissions() {
    use tde_console::model::SecretPermission;
    let mut h = app();
    h.run_steps(2);
    click(&mut h, "kv-contoso-eu");
    click(&mut h, "Add access policy");
    let me = h.state().ws.console_user.object_id.0.clone();
    type_into(&mut h, "Object ID", &me);
    click(&mut h, "Secret permissions (0)");
    click(&mut h, "get secrets");
    click(&mut h, "list secrets");
    assert!(has(&h, "Secret permissions (2)"));
    click(&mut h, "Add");
    assert!(has(&h, "Access policy saved."));
    assert!(has(&h, "--secret-permissions get list"));
    let v = h.state().ws.vault("kv-contoso-eu").expect("the vault");
    let p = v
        .access_policies
        .iter()
        .find(|p| p.object_id.0 == me)
        .expect("the console user's policy");
    assert!(p.secret_permissions.contains(&SecretPermission::Get));
    assert!(p.secret_permissions.contains(&SecretPermission::List));
    assert!(!p.secret_permissions.contains(&SecretPermission::Purge));
}

/// The demo with a Synapse workspace created with a customer-managed key: it waits for
/// activation, and the Encryption page says so; granting the identity and clicking
/// Activate (its az line shown) turns it Consistent two minutes later.
#[test]
fn a_synapse_workspace_shows_the_activation_banner_until_activated() {
    use tde_console::model::CmkStatus;
    use tde_console::service::synapse::ACTIVATION_BANNER;
    let mut ws = persist::demo().expect("the demo");
    let mut sh = tde_console::shell::Shell::new().with_keys(common::FixtureKeys::boxed());
    for line in [
        "az group create -n rg-syn -l eastus",
        "az storage account create -n adlssyn01 -g rg-syn --kind StorageV2 --hns true",
        "az storage fs create -n users --account-name adlssyn01",
        "az keyvault create -n kv-syn-01 -g rg-syn -l eastus --enable-purge-protection true",
        "az keyvault key create --vault-name kv-syn-01 -n wskey --kty RSA --size 2048",
        "az synapse workspace create -n synws01 -g rg-syn --storage-account adlssyn01 --file-system users -u cliuser1 -p Pa55w0rd!123 --key-name wskey --cmk https://kv-syn-01.vault.azure.net/keys/wskey",
    ] {
        let r = sh.run_line(&mut ws, line);
        assert!(r.ok, "{line}: {}", r.stderr);
    }
    let mut h = Harness::builder()
        .with_size(egui::vec2(1500.0, HEIGHT))
        .build_eframe(move |_cc| {
            ConsoleApp::with_workspace(ws.clone(), None)
                .with_keys(std::sync::Arc::new(common::FixtureKeys::new()))
        });
    h.run_steps(2);
    click(&mut h, "synws01");
    assert!(has(&h, ACTIVATION_BANNER));
    assert!(has(&h, "AwaitingUserAction"));
    // Activate before the identity has access: the vault's refusal, inline.
    click(&mut h, "Activate");
    assert!(
        has(&h, "does not have keys get"),
        "the vault's refusal shows"
    );
    // Grant the workspace identity get, wrapKey, unwrapKey (as the vault blade or az does).
    let principal = h
        .state()
        .ws
        .synapse
        .workspace("synws01")
        .unwrap()
        .principal_id
        .0
        .clone();
    let r = sh.run_line(
        &mut h.state_mut().ws,
        &format!("az keyvault set-policy -n kv-syn-01 --object-id {principal} --key-permissions get wrapKey unwrapKey"),
    );
    assert!(r.ok, "{}", r.stderr);
    h.run_steps(2);
    click(&mut h, "Activate");
    assert!(has(
        &h,
        "az synapse workspace activate --name wskey --workspace-name synws01"
    ));
    assert!(has(&h, "Activation requested"));
    advance(&mut h, "+10m");
    let w = h.state().ws.synapse.workspace("synws01").unwrap();
    assert_eq!(w.cmk_status, Some(CmkStatus::Consistent));
    h.run_steps(3);
    assert!(
        !has(&h, ACTIVATION_BANNER),
        "the banner goes once the workspace is Consistent"
    );
    assert!(has(&h, "Consistent"));
}

/// Issue 23, defect 10: a greyed button says why, computed from the state, in the words
/// the service would answer. After a revocation the group's primary databases are
/// Inaccessible: a planned failover of the group cannot sync (PrimaryNotReachable), a forced
/// one can; the replica's own failover is greyed because the group fails over as one.
#[test]
fn greyed_failover_buttons_say_why_they_cannot_fail_over_now() {
    use egui_kittest::kittest::NodeT;
    let mut h = app();
    h.run_steps(2);
    revoke_and_wait(&mut h);
    click(&mut h, "sql-contoso-us");
    click(&mut h, "Failover groups");
    let planned = h.get_by_label("Failover fg-contoso");
    assert!(planned.accesskit_node().is_disabled());
    assert!(
        !h.get_by_label("Forced failover fg-contoso")
            .accesskit_node()
            .is_disabled(),
        "a forced failover does not need the primary"
    );
    h.get_by_label("Failover fg-contoso").hover();
    h.run_steps(60);
    assert!(
        has(
            &h,
            "on server 'sql-contoso-us' cannot be reached (its region is unavailable, or it is not Online), so a planned failover without data loss is not possible. Use a forced failover (--allow-data-loss). (PrimaryNotReachable)"
        ),
        "the greyed group failover says why"
    );
    // What set-primary answers is the same refusal.
    let mut ws = h.state().ws.clone();
    let e = tde_console::service::failover_group::set_group_primary(
        &mut ws,
        "fg-contoso",
        "sql-contoso-us2",
        false,
    )
    .unwrap_err();
    assert_eq!(e.code, "PrimaryNotReachable");

    h.state_mut()
        .open_root(tde_console::ui::blades::BladeKind::GeoReplication {
            server: "sql-contoso-us".into(),
            db: "sales".into(),
            form: Default::default(),
        });
    h.run_steps(4);
    assert!(
        h.get_by_label("Failover to sql-contoso-us2")
            .accesskit_node()
            .is_disabled()
    );
    h.get_by_label("Failover to sql-contoso-us2").hover();
    h.run_steps(60);
    assert!(
        has(&h, "is part of a Failover Group"),
        "the greyed replica failover says why"
    );
    assert!(has(&h, "(FailoverGroupAlreadySetup)"));
}

/// Issue 23, defect 10: the vault Logs' "Result type" is a visible control, found by its
/// label; choosing "Failure only" and then "Success only" changes the rows shown.
#[test]
fn the_logs_result_type_filter_is_a_visible_control_that_changes_the_rows() {
    use tde_console::service::burst;
    let mut h = app();
    h.run_steps(2);
    click(&mut h, "kv-contoso-eu");
    click(&mut h, "Access control (IAM), locks, diagnostic settings");
    click(&mut h, "Send AuditEvent logs");
    // 2,100 reads in one 10-second window: 2,000 answered, 100 throttled (429).
    let report = burst::burst(
        &mut h.state_mut().ws,
        "kv-contoso-eu",
        "eu-tde-key",
        burst::BurstOperation::Get,
        2_100,
        0,
    )
    .unwrap();
    assert_eq!((report.succeeded, report.throttled), (2000, 100));
    let (ok, failed) = {
        let j = h.state().ws.journal.lock();
        let mine: Vec<_> = j
            .requests
            .iter()
            .filter(|r| r.audited && r.vault == "kv-contoso-eu")
            .collect();
        (
            mine.iter().filter(|r| r.succeeded()).count(),
            mine.iter().filter(|r| !r.succeeded()).count(),
        )
    };
    click(&mut h, "Logs");
    assert!(has(&h, &format!("{} records", ok + failed)));
    let control = h
        .get_all_by_role_and_label(egui::accesskit::Role::ComboBox, "Result type")
        .next()
        .expect("a combo box labelled Result type");
    let r = control.rect();
    assert!(
        r.width() > 40.0 && r.min.x >= 0.0 && r.max.x <= 1500.0 && r.max.y <= HEIGHT,
        "the control is in view: {r:?}"
    );
    control.click();
    h.run_steps(3);
    click(&mut h, "Failure only");
    assert!(has(&h, &format!("{failed} records")));
    assert!(has(&h, "429 Too Many Requests"));
    h.get_all_by_role_and_label(egui::accesskit::Role::ComboBox, "Result type")
        .next()
        .unwrap()
        .click();
    h.run_steps(3);
    click(&mut h, "Success only");
    assert!(has(&h, &format!("{ok} records")));
    assert!(!has(&h, "429 Too Many Requests"));
}

/// The walk at 100 %: a click on a Logs row's text (its operation, its result) opens the
/// record's JSON, as the portal opens a row, not only a click on its "#N".
#[test]
fn a_click_on_a_logs_rows_text_opens_its_record() {
    let mut h = app();
    h.run_steps(2);
    click(&mut h, "kv-contoso-us");
    click(&mut h, "Logs");
    assert!(!has(&h, "\"operationName\""), "no record shown yet");
    let op = h
        .query_all_by_label("KeyCreate")
        .next()
        .expect("a KeyCreate row")
        .rect();
    h.get_all_by_label("KeyCreate").next().unwrap().click();
    h.run_steps(3);
    assert!(
        has(&h, "\"operationName\": \"KeyCreate\""),
        "the row's record opened by a click on its text at {op:?}"
    );
    // A second click on the same row's text closes it again.
    h.get_all_by_label("KeyCreate").next().unwrap().click();
    h.run_steps(3);
    assert!(!has(&h, "\"operationName\""));
}

/// The walk at 100 %: a click on a geo-replication row's text ("Secondary") opens the
/// link's JSON, as a click on its server/database does.
#[test]
fn a_click_on_a_geo_replication_rows_role_opens_its_json() {
    let mut h = app();
    h.run_steps(2);
    click(&mut h, "sales");
    click(&mut h, "Geo-replication");
    assert!(!has(&h, "\"linkType\": \"GEO\""), "no JSON shown yet");
    h.get_all_by_label("Secondary").last().unwrap().click();
    h.run_steps(3);
    assert!(
        has(&h, "\"linkType\": \"GEO\""),
        "a click on the row's role opened the link's JSON"
    );
}

/// Found in walk 35 at 150 %: the greyed "Failover to sql-contoso-us2" of a link in a
/// failover group said to use "the failover group's own operations", which a trainer could
/// not find from there. The row opens the group's blade, and the reason says so.
#[test]
fn a_link_in_a_failover_group_opens_its_group_from_geo_replication() {
    let mut h = app();
    h.run_steps(2);
    click(&mut h, "sales");
    click(&mut h, "Geo-replication");
    let failover = h
        .get_all_by_label("Failover to sql-contoso-us2")
        .next()
        .expect("the link's failover button");
    assert!(
        egui_kittest::kittest::NodeT::accesskit_node(&failover).is_disabled(),
        "greyed in a group"
    );
    click(&mut h, "Open failover group fg-contoso");
    h.run_steps(3);
    assert!(
        has(&h, "sql-contoso-us · Failover groups"),
        "the group's primary's Failover groups blade opened"
    );
}

/// Edit > History and bookmarks… in the presenter view (which has no side panels) brings
/// the console back with History open, rather than doing nothing visible.
#[test]
fn history_opened_in_the_presenter_view_shows() {
    let mut h = app_at_200();
    h.key_press(egui::Key::F5);
    h.run_steps(3);
    assert!(h.state().presenter);
    click(&mut h, "Edit");
    click(&mut h, "History and bookmarks…");
    h.run_steps(3);
    assert!(!h.state().presenter, "the console is back");
    assert!(has(&h, "Mark this moment"), "History shows");
}

/// Found in walk 35 at 150 %: after View > Serve vaults on localhost was turned off, its
/// panel stayed open at half the window holding one line, squeezing the Activity log. The
/// panel closes with the serving.
#[test]
fn turning_serving_off_closes_the_vaults_panel() {
    let mut h = app();
    h.run_steps(2);
    click(&mut h, "View");
    click(&mut h, "Serve vaults on localhost");
    assert!(h.state().serving.endpoint.is_some());
    assert!(has(&h, "https://127.0.0.1:"), "the panel lists the vaults");
    click(&mut h, "View");
    click(&mut h, "Serve vaults on localhost");
    h.run_steps(2);
    assert!(h.state().serving.endpoint.is_none());
    assert!(!h.state().serving.open, "the panel closed");
    assert!(!has(&h, "https://127.0.0.1:"));
}

/// Found in walk 35 at 200 %: the TDE blade's Key drop-down, empty before a vault is
/// chosen, said nothing on hover. It says to choose a key vault first.
#[test]
fn the_tde_blades_empty_key_list_says_why_on_hover() {
    let mut h = app();
    h.run_steps(2);
    click(&mut h, "sql-contoso-eu");
    click(&mut h, "Transparent data encryption");
    click(&mut h, "Customer-managed key");
    h.get_by_label("Key").hover();
    h.run_steps(60);
    assert!(has(&h, "Choose a key vault first"));
}

/// Found with the prompt-focus fix: the prompt was disabled while anything ran (a command,
/// each step of Play), so it lost the keys and what was typed meanwhile went nowhere. It
/// takes type-ahead: a line typed and entered while a command runs runs next.
#[test]
fn the_cloud_shell_takes_a_line_typed_while_a_command_runs() {
    let mut h = app();
    h.run_steps(2);
    click(&mut h, ">_ Cloud Shell");
    h.run_steps(2);
    h.get_by_label("az>").click();
    h.run_steps(1);
    h.event(egui::Event::Text("az sql server list -o table".into()));
    h.run_steps(1);
    h.key_press(egui::Key::Enter);
    h.run_steps(1);
    h.event(egui::Event::Text("az keyvault list -o tsv".into()));
    h.key_press(egui::Key::Enter);
    h.run_steps(1);
    wait_until(&mut h, "both lines", |app| {
        !app.busy() && app.shell.transcript.contains("az> az keyvault list -o tsv")
    });
    let t = &h.state().shell.transcript;
    assert!(t.contains("az> az sql server list -o table"), "{t}");
    assert!(t.contains("kv-contoso-eu"), "the second line ran: {t}");
}
