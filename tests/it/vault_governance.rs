//! The vault's audit log, service limits and management locks, through the operations
//! layer and the shell.

use crate::common;

use common::*;
use tde_console::model::*;
use tde_console::service::{self, KeySource, burst, diagnostics, keyvault, locks, sql, tde};
use tde_console::shell::Shell;

fn enable_audit(ws: &mut Workspace) {
    diagnostics::create_setting(
        ws,
        VAULT,
        DiagnosticSetting {
            name: "audit".into(),
            audit_event: true,
            destination: "law-security".into(),
        },
    )
    .unwrap();
}

/// (operation, HTTP status, caller display) of the vault's audit records after `from`.
fn audited(ws: &Workspace, from: usize) -> Vec<(String, u16, String)> {
    diagnostics::audit_log(ws, VAULT)[from..]
        .iter()
        .map(|r| (r.operation.clone(), r.status, r.caller.display.clone()))
        .collect()
}

fn rec(op: &str, status: u16, who: &str) -> (String, u16, String) {
    (op.into(), status, who.into())
}

#[test]
fn nothing_is_audited_until_a_diagnostic_setting_sends_audit_event() {
    let keys = FixtureKeys::new();
    let (mut ws, _) = setup(&keys);
    keyvault::show_key(&ws, VAULT, KEY, None).unwrap();
    assert!(diagnostics::audit_log(&ws, VAULT).is_empty());
    // The requests still happened: the metrics count them.
    assert!(ws.journal.len() >= 2);
    enable_audit(&mut ws);
    keyvault::show_key(&ws, VAULT, KEY, None).unwrap();
    assert_eq!(
        audited(&ws, 0),
        vec![rec("KeyGet", 200, "admin@contoso.onmicrosoft.com")]
    );
}

#[test]
fn every_operation_leaves_one_record_with_its_name_caller_and_result() {
    let keys = FixtureKeys::new();
    let (mut ws, kid) = setup(&keys);
    enable_audit(&mut ws);
    let user = "admin@contoso.onmicrosoft.com";
    let server = format!("server {SERVER}");

    keyvault::create_key(
        &mut ws,
        &keyvault::CreateKey::new(VAULT, "second", KeyType::Rsa, 2048),
        keys.generate(2048).unwrap(),
    )
    .unwrap();
    keyvault::show_key(&ws, VAULT, KEY, None).unwrap();
    keyvault::list_keys(&ws, VAULT).unwrap();
    keyvault::list_key_versions(&ws, VAULT, KEY).unwrap();
    keyvault::set_key_attributes(
        &mut ws,
        VAULT,
        "second",
        None,
        &keyvault::KeyAttributes {
            enabled: Some(false),
            ..Default::default()
        },
    )
    .unwrap();
    keyvault::delete_key(&mut ws, VAULT, "second").unwrap();
    keyvault::list_deleted_keys(&ws, VAULT).unwrap();
    keyvault::show_deleted_key(&ws, VAULT, "second").unwrap();
    keyvault::recover_key(&mut ws, VAULT, "second").unwrap();
    keyvault::backup_key(&mut ws, VAULT, "second").unwrap();
    // Refused: nobody has `purge` by default, and there is nothing deleted to purge.
    let before = ws.clone();
    let err = keyvault::purge_key(&mut ws, VAULT, "second").unwrap_err();
    assert_eq!(err.status, 403);
    assert_eq!(
        unchanged_but_its_trace(&ws, &before),
        Some(1),
        "a refused purge changes nothing but leaves its record"
    );
    // The server's own calls: access policy, key link, protector (one wrap a database).
    protect(&mut ws, &kid);

    assert_eq!(
        audited(&ws, 0),
        vec![
            rec("KeyCreate", 200, user),
            rec("KeyGet", 200, user),
            rec("KeyList", 200, user),
            rec("KeyListVersions", 200, user),
            rec("KeyUpdate", 200, user),
            rec("KeyDelete", 200, user),
            rec("KeyListDeleted", 200, user),
            rec("KeyGetDeleted", 200, user),
            rec("KeyRecover", 200, user),
            rec("KeyBackup", 200, user),
            rec("KeyPurge", 403, user),
            rec("VaultPatch", 200, user),
            rec("VaultAccessPolicyChangedEventGridNotification", 200, user),
            rec("KeyGet", 200, &server),
            rec("KeyGet", 200, &server),
            rec("KeyWrap", 200, &server),
            rec("KeyWrap", 200, &server),
        ]
    );
    // Full field set on a record.
    let records = diagnostics::audit_log(&ws, VAULT);
    let json = records.last().unwrap().to_json();
    for field in [
        "time",
        "resourceId",
        "operationName",
        "operationVersion",
        "category",
        "resultType",
        "resultSignature",
        "resultDescription",
        "durationMs",
        "callerIpAddress",
        "correlationId",
    ] {
        assert!(json.get(field).is_some(), "missing {field}");
    }
    assert_eq!(json["category"], "AuditEvent");
    assert_eq!(json["properties"]["httpStatusCode"], 200);
    assert_eq!(
        json["properties"]["id"],
        format!("https://{VAULT}.vault.azure.net/keys/{KEY}")
    );
    let oid = principal(&ws).0;
    assert_eq!(
        json["identity"]["claim"]["http://schemas.microsoft.com/identity/claims/objectidentifier"],
        oid.as_str()
    );
    let refused = &records[10];
    assert_eq!(refused.to_json()["resultType"], "Failure");
    assert_eq!(refused.to_json()["resultSignature"], "Forbidden");
    assert!(
        refused
            .description
            .contains("does not have keys purge permission")
    );
}

#[test]
fn a_revoked_server_is_audited_as_refused_by_its_periodic_check() {
    let keys = FixtureKeys::new();
    let (mut ws, kid) = setup(&keys);
    protect(&mut ws, &kid);
    enable_audit(&mut ws);
    let p = principal(&ws);
    keyvault::set_access_policy(&mut ws, VAULT, &p, &Default::default()).unwrap();
    service::behaviour::advance(&mut ws, Duration::minutes(30)).unwrap();
    assert_eq!(status(&ws, "sales"), "Inaccessible");
    let refused: Vec<VaultRequest> = diagnostics::audit_log(&ws, VAULT)
        .into_iter()
        .filter(|r| r.caller.display == format!("server {SERVER}"))
        .collect();
    assert_eq!(
        refused.len(),
        1,
        "one periodic check found the key unusable"
    );
    assert_eq!(refused[0].operation, "KeyGet");
    assert_eq!(refused[0].status, 403);
}

#[test]
fn a_burst_beyond_the_ten_second_limit_gets_429s_at_the_documented_figure() {
    let keys = FixtureKeys::new();
    let (mut ws, _) = setup(&keys);
    // RSA 2048 software key: 4000 "other" transactions per 10 seconds.
    let r = burst::burst(&mut ws, VAULT, KEY, burst::BurstOperation::Get, 4500, 0).unwrap();
    assert_eq!(r.limit_per_10_seconds, 4000);
    // `setup` made one KeyCreate (another class); nothing else in this window.
    assert_eq!((r.succeeded, r.throttled), (4000, 500));
    let err = keyvault::show_key(&ws, VAULT, KEY, None).unwrap_err();
    assert_eq!((err.code.as_str(), err.status), ("Throttled", 429));
    // The next window admits again.
    service::behaviour::advance(&mut ws, Duration::seconds(10)).unwrap();
    keyvault::show_key(&ws, VAULT, KEY, None).unwrap();

    // RSA 3072 HSM key: 500 a window; spread over 20 seconds, 2 windows, nothing refused
    // at 450 a window, then 600 in one window refuses 100.
    keyvault::create_key(
        &mut ws,
        &keyvault::CreateKey::new(VAULT, "hsm", KeyType::RsaHsm, 3072),
        keys.generate(3072).unwrap(),
    )
    .unwrap();
    service::behaviour::advance(&mut ws, Duration::seconds(10)).unwrap();
    let r = burst::burst(&mut ws, VAULT, "hsm", burst::BurstOperation::Get, 900, 20).unwrap();
    assert_eq!((r.limit_per_10_seconds, r.throttled), (500, 0));
    let r = burst::burst(&mut ws, VAULT, "hsm", burst::BurstOperation::Get, 600, 0).unwrap();
    assert_eq!((r.succeeded, r.throttled), (500, 100));
}

#[test]
fn a_throttled_server_backs_off_1_2_4_8_16_seconds() {
    let keys = FixtureKeys::new();
    let (mut ws, kid) = setup(&keys);
    grant_tde(&mut ws);
    sql::add_server_key(&mut ws, SERVER, &kid).unwrap();
    // The clock stands at a window boundary: fill the window.
    assert_eq!(ws.now().0 % 10, 0);
    let before = ws.journal.len();
    let r = burst::burst(&mut ws, VAULT, KEY, burst::BurstOperation::Get, 4000, 0).unwrap();
    // Linking the key was the server's `get`, the window's first request.
    assert_eq!((r.succeeded, r.throttled), (3999, 1));
    let t0 = ws.now();
    tde::set_protector(
        &mut ws,
        &tde::SetProtector {
            server: SERVER.into(),
            key_type: ServerKeyType::AzureKeyVault,
            kid: Some(kid.clone()),
            auto_rotation: false,
        },
    )
    .unwrap();
    let server_calls: Vec<VaultRequest> = ws
        .journal
        .filtered(|r| r.caller.display == format!("server {SERVER}"))
        .into_iter()
        .filter(|r| r.seq as usize >= before)
        .collect();
    // The protector check: refused at t0, t0+1, t0+3, t0+7, admitted at t0+15 (next window).
    let first: Vec<(i64, u16)> = server_calls[..5]
        .iter()
        .map(|r| (r.time.0 - t0.0, r.status))
        .collect();
    assert_eq!(
        first,
        vec![(0, 429), (1, 429), (3, 429), (7, 429), (15, 200)]
    );
    assert_eq!(server_calls[4].operation, "KeyGet");
    // The databases were re-wrapped all the same.
    assert_eq!(
        tde::protector_coverage(&ws, SERVER).unwrap(),
        (2, 2),
        "every DEK wrapped by the new protector"
    );
}

#[test]
fn exports_open_in_other_tools() {
    let keys = FixtureKeys::new();
    let (mut ws, kid) = setup(&keys);
    enable_audit(&mut ws);
    protect(&mut ws, &kid);
    let _ = keyvault::purge_key(&mut ws, VAULT, KEY);
    let records = diagnostics::audit_log(&ws, VAULT);
    let dir = std::env::temp_dir().join(format!("tde-export-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();

    let jsonl = dir.join("audit.jsonl");
    std::fs::write(&jsonl, diagnostics::to_json_lines(&records)).unwrap();
    let text = std::fs::read_to_string(&jsonl).unwrap();
    let parsed: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(parsed.len(), records.len());
    assert!(parsed.iter().any(|v| v["resultType"] == "Failure"));

    let csv = dir.join("audit.csv");
    std::fs::write(&csv, diagnostics::to_csv(&records)).unwrap();
    // Python's csv module, as another tool would read it.
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(
            "import csv,sys,json; rows=list(csv.DictReader(open(sys.argv[1], newline=''))); \
             print(json.dumps([[r['OperationName'], r['httpStatusCode_d'], r['ResultDescription']] for r in rows]))",
        )
        .arg(&csv)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<(String, String, String)> = serde_json::from_slice(&out.stdout).unwrap();
    let expected: Vec<(String, String, String)> = records
        .iter()
        .map(|r| {
            (
                r.operation.clone(),
                r.status.to_string(),
                r.description.clone(),
            )
        })
        .collect();
    assert_eq!(
        rows, expected,
        "quoting survives commas and quotes in messages"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_audit_log_survives_save_and_load() {
    let keys = FixtureKeys::new();
    let (mut ws, _) = setup(&keys);
    enable_audit(&mut ws);
    burst::burst(&mut ws, VAULT, KEY, burst::BurstOperation::Get, 50, 0).unwrap();
    let text = tde_console::persist::to_ron(&ws).unwrap();
    let back = tde_console::persist::from_ron(&text, std::path::Path::new("t.ron")).unwrap();
    assert_eq!(
        diagnostics::audit_log(&back, VAULT),
        diagnostics::audit_log(&ws, VAULT)
    );
    assert_eq!(back.vault(VAULT).unwrap().diagnostic_settings.len(), 1);
}

#[test]
fn locks_refuse_with_scope_locked_and_change_nothing() {
    let keys = FixtureKeys::new();
    let (mut ws, _) = setup(&keys);
    let scope = locks::scope_id(&ws, RG, Some(("Microsoft.KeyVault/vaults", VAULT))).unwrap();
    locks::create_lock(&mut ws, "keep", LockLevel::CanNotDelete, &scope, "").unwrap();
    let before = ws.clone();
    let err = keyvault::delete_vault(&mut ws, VAULT).unwrap_err();
    assert_eq!((err.code.as_str(), err.status), ("ScopeLocked", 409));
    assert!(err.message.contains("cannot perform delete operation"));
    assert!(unchanged_but_its_trace(&ws, &before).is_some());
    // CanNotDelete lets the vault change; locks never reach keys (the data plane).
    grant_tde(&mut ws);
    keyvault::delete_key(&mut ws, VAULT, KEY).unwrap();

    // ReadOnly on the resource group covers the vault's settings and the databases.
    let rg = locks::scope_id(&ws, RG, None).unwrap();
    locks::create_lock(&mut ws, "freeze", LockLevel::ReadOnly, &rg, "change window").unwrap();
    let p = principal(&ws);
    let err = keyvault::set_access_policy(&mut ws, VAULT, &p, &Default::default()).unwrap_err();
    assert_eq!(err.code, "ScopeLocked");
    assert!(err.message.contains("cannot perform write operation"));
    let err = sql::delete_database(&mut ws, SERVER, "sales").unwrap_err();
    assert_eq!(err.code, "ScopeLocked");

    locks::delete_lock(&mut ws, "freeze", &rg).unwrap();
    locks::delete_lock(&mut ws, "keep", &scope).unwrap();
    sql::delete_database(&mut ws, SERVER, "sales").unwrap();
    keyvault::delete_vault(&mut ws, VAULT).unwrap();
    let err = locks::delete_lock(&mut ws, "keep", &scope).unwrap_err();
    assert_eq!(err.code, "LockNotFound");
}

#[test]
fn the_shell_drives_locks_diagnostics_audit_and_bursts() {
    let keys = FixtureKeys::new();
    let (mut ws, _) = setup(&keys);
    let mut shell = Shell::new().with_keys(FixtureKeys::boxed());
    let dir = std::env::temp_dir().join(format!("tde-gov-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let csv = dir.join("audit.csv");
    let script = format!(
        r#"
az monitor diagnostic-settings create --name audit --resource {VAULT} --logs '[{{"category":"AuditEvent","enabled":true}}]' --workspace law1 -o none
az keyvault key show --vault-name {VAULT} --name {KEY} -o none
az lock create --name keep --lock-type CanNotDelete --resource-group {RG} --resource-name {VAULT} --resource-type Microsoft.KeyVault/vaults -o none
sim keyvault burst --vault {VAULT} --name {KEY} --count 4100 --query throttled -o tsv
sim audit list --vault {VAULT} --operation KeyGet --result Failure --query "length(@)" -o tsv
sim audit export --vault {VAULT} --file {} -o none
az lock list --resource-group {RG} --query "[].level" -o tsv
"#,
        csv.display()
    );
    let out = shell.run_script(&mut ws, &script, false);
    assert_eq!(out.failures, 0, "{}", out.stderr);
    assert_eq!(out.stdout, "101\n101\nCanNotDelete\n");
    let text = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(
        text.lines().count(),
        1 + 4101,
        "header, the show, the burst"
    );
    // JSON Lines by default.
    let line = shell.run_line(
        &mut ws,
        &format!("sim audit list --vault {VAULT} --operation KeyGet"),
    );
    assert_eq!(line.stdout.lines().count(), 4101);
    assert!(serde_json::from_str::<serde_json::Value>(line.stdout.lines().next().unwrap()).is_ok());
    let denied = shell.run_line(&mut ws, &format!("az keyvault delete --name {VAULT}"));
    assert!(
        denied.stderr.starts_with("ERROR: (ScopeLocked)"),
        "{}",
        denied.stderr
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn ip_rules_admit_the_console_user_and_disabled_public_access_admits_only_trusted_services() {
    let keys = FixtureKeys::new();
    let (mut ws, kid) = setup(&keys);
    protect(&mut ws, &kid);
    let mut acls = ws.vault(VAULT).unwrap().network.clone();
    acls.restricted = true;
    acls.bypass_trusted_services = true;
    keyvault::set_network_acls(&mut ws, VAULT, acls).unwrap();
    // The user's calls come from 203.0.113.10: refused until a rule covers it.
    let err = keyvault::show_key(&ws, VAULT, KEY, None).unwrap_err();
    assert_eq!(
        (err.code.as_str(), err.status),
        ("ForbiddenByFirewall", 403)
    );
    assert!(err.message.contains("Client address: 203.0.113.10"));
    keyvault::add_network_rule(&mut ws, VAULT, "203.0.113.0/24").unwrap();
    keyvault::show_key(&ws, VAULT, KEY, None).unwrap();
    service::set_client_ip(&mut ws, "198.51.100.7").unwrap();
    assert!(keyvault::show_key(&ws, VAULT, KEY, None).is_err());
    // Bad input changes nothing.
    let before = ws.clone();
    assert_eq!(
        keyvault::add_network_rule(&mut ws, VAULT, "300.1.2.3/8")
            .unwrap_err()
            .code,
        "BadRequest"
    );
    assert_eq!(
        service::set_client_ip(&mut ws, "10.0.0.0/8")
            .unwrap_err()
            .code,
        "InvalidArgument"
    );
    assert_eq!(
        keyvault::remove_network_rule(&mut ws, VAULT, "192.0.2.1")
            .unwrap_err()
            .code,
        "NetworkRuleNotFound"
    );
    assert!(unchanged_but_its_trace(&ws, &before).is_some());
    // Public access disabled: no address gets in; the server (trusted, bypass) still does.
    service::set_client_ip(&mut ws, "203.0.113.10").unwrap();
    let mut acls = ws.vault(VAULT).unwrap().network.clone();
    acls.public_access_disabled = true;
    keyvault::set_network_acls(&mut ws, VAULT, acls).unwrap();
    let err = keyvault::show_key(&ws, VAULT, KEY, None).unwrap_err();
    assert_eq!(err.code, "ForbiddenByConnection");
    service::behaviour::advance(&mut ws, Duration::minutes(30)).unwrap();
    assert_eq!(status(&ws, "sales"), "Online");
    // Without the bypass the server is locked out too.
    let mut acls = ws.vault(VAULT).unwrap().network.clone();
    acls.bypass_trusted_services = false;
    keyvault::set_network_acls(&mut ws, VAULT, acls).unwrap();
    service::behaviour::advance(&mut ws, Duration::minutes(30)).unwrap();
    assert_eq!(status(&ws, "sales"), "Inaccessible");
}

#[test]
fn rbac_roles_decide_access_after_propagation_and_a_recovered_vault_loses_them() {
    let keys = FixtureKeys::new();
    let (mut ws, _) = setup(&keys);
    let mut sh = Shell::new().with_keys(FixtureKeys::boxed());
    let p = principal(&ws).0;
    let me = ws.console_user.object_id.0.clone();
    let out = sh.run_script(
        &mut ws,
        &format!(
            r#"
az keyvault create --name kv-rbac --resource-group {RG} --enable-soft-delete true --enable-rbac-authorization true -o none
az role assignment create --role "Key Vault Administrator" --assignee-object-id {me} --scope kv-rbac -o none
"#
        ),
        false,
    );
    assert_eq!(out.failures, 0, "{}", out.stderr);
    // Not yet propagated: refused with RBAC's own words.
    let r = sh.run_line(
        &mut ws,
        "az keyvault key create --vault-name kv-rbac --name k --kty RSA --size 2048 -o none",
    );
    assert!(r.stderr.contains("(ForbiddenByRbac)"), "{}", r.stderr);
    assert!(sh.run_line(&mut ws, "sim clock advance 10m -o none").ok);
    let out = sh.run_script(
        &mut ws,
        "az keyvault key create --vault-name kv-rbac --name k --kty RSA --size 2048 -o none\n",
        false,
    );
    assert_eq!(out.failures, 0, "{}", out.stderr);
    // Access policies do not apply to an RBAC vault.
    let r = sh.run_line(&mut ws, &format!("az keyvault set-policy --name kv-rbac --object-id {p} --key-permissions get wrapKey unwrapKey"));
    assert!(
        r.stderr.contains("--enable-rbac-authorization"),
        "{}",
        r.stderr
    );
    // The server gets in with the Crypto Service Encryption User role, after propagation.
    let kid = ws
        .vault("kv-rbac")
        .unwrap()
        .key("k")
        .unwrap()
        .current()
        .map(|v| ws.vault("kv-rbac").unwrap().key_uri("k", &v.version))
        .unwrap();
    let out = sh.run_script(&mut ws, &format!("az role assignment create --role \"Key Vault Crypto Service Encryption User\" --assignee-object-id {p} --scope /subscriptions/x/resourceGroups/{RG}/providers/Microsoft.KeyVault/vaults/kv-rbac -o none\nsim clock advance 10m -o none\naz sql server key create --server {SERVER} -g {RG} --kid {kid} -o none\naz sql server tde-key set --server {SERVER} -g {RG} --server-key-type AzureKeyVault --kid {kid} -o none\n"), false);
    assert_eq!(out.failures, 0, "{}", out.stderr);
    assert_eq!(status(&ws, "sales"), "Online");
    // Removing the role: honoured until it propagates, then the databases lose the key.
    let r = sh.run_line(
        &mut ws,
        &format!("az role assignment delete --assignee-object-id {p} --scope kv-rbac"),
    );
    assert!(r.ok, "{}", r.stderr);
    assert!(sh.run_line(&mut ws, "sim clock advance 25m -o none").ok);
    assert_eq!(status(&ws, "sales"), "Inaccessible");
    // Granted again: the server regains the key the instant the role takes effect, inside
    // one advance (nothing else happens then), and the databases heal in the same advance.
    let out = sh.run_script(&mut ws, &format!("az role assignment create --role \"Key Vault Crypto Service Encryption User\" --assignee-object-id {p} --scope kv-rbac -o none\nsim clock advance 2h -o none\n"), false);
    assert_eq!(out.failures, 0, "{}", out.stderr);
    assert_eq!(status(&ws, "sales"), "Online");
    // A recovered vault has lost its role assignments.
    let r = sh.run_script(
        &mut ws,
        "az keyvault delete --name kv-rbac\naz keyvault recover --name kv-rbac -o none\n",
        false,
    );
    assert_eq!(r.failures, 0, "{}", r.stderr);
    assert!(ws.vault("kv-rbac").unwrap().role_assignments.is_empty());
    let listed = sh.run_line(&mut ws, "az role assignment list --scope kv-rbac -o tsv");
    assert!(listed.stdout.trim().is_empty());
}

#[test]
fn a_managed_hsm_key_protects_a_server_through_local_rbac() {
    let keys = FixtureKeys::new();
    let (mut ws, _) = setup(&keys);
    let mut sh = Shell::new().with_keys(FixtureKeys::boxed());
    let me = ws.console_user.object_id.0.clone();
    let p = principal(&ws).0;
    let script = format!(
        r#"
az keyvault create --hsm-name hsm-contoso --resource-group {RG} --administrators {me} --retention-days 7 --enable-purge-protection true -o none
az keyvault key create --hsm-name hsm-contoso --name tde-hsm --kty RSA-HSM --size 3072 -o none
KID=$(az keyvault key show --hsm-name hsm-contoso --name tde-hsm --query key.kid -o tsv)
echo $KID
az keyvault role assignment create --hsm-name hsm-contoso --role "Managed HSM Crypto Service Encryption User" --assignee-object-id {p} --scope /keys -o none
sim clock advance 10m -o none
az sql server key create --server {SERVER} -g {RG} --kid $KID -o none
az sql server tde-key set --server {SERVER} -g {RG} --server-key-type AzureKeyVault --kid $KID -o none
"#
    );
    let out = sh.run_script(&mut ws, &script, false);
    assert_eq!(out.failures, 0, "{}", out.stderr);
    assert!(
        out.stdout
            .starts_with("https://hsm-contoso.managedhsm.azure.net/keys/tde-hsm/"),
        "{}",
        out.stdout
    );
    assert_eq!(status(&ws, "sales"), "Online");
    let uri = ws.server(SERVER).unwrap().protector_uri().unwrap();
    assert!(uri.managed_hsm);
    // Software keys, Key Vault roles and access policies do not apply to a Managed HSM.
    for (line, words) in [
        (
            "az keyvault key create --hsm-name hsm-contoso --name soft --kty RSA --size 2048"
                .to_string(),
            "only HSM-protected keys",
        ),
        (
            format!(
                "az keyvault role assignment create --hsm-name hsm-contoso --role \"Key Vault Crypto Officer\" --assignee-object-id {p} --scope /"
            ),
            "does not apply to Managed HSM",
        ),
        (
            format!(
                "az keyvault set-policy --name hsm-contoso --object-id {p} --key-permissions get"
            ),
            "--enable-rbac-authorization",
        ),
    ] {
        let before = ws.clone();
        let r = sh.run_line(&mut ws, &line);
        assert!(r.stderr.contains(words), "{line}: {}", r.stderr);
        assert!(unchanged_but_its_trace(&ws, &before).is_some());
    }
    // The vault host of the same name does not reach the HSM.
    let wrong = uri
        .to_uri()
        .replace("managedhsm.azure.net", "vault.azure.net");
    let r = sh.run_line(
        &mut ws,
        &format!("az sql server key create --server {SERVER} -g {RG} --kid {wrong}"),
    );
    assert!(!r.ok);
    // Revoking the local role loses the key like any vault.
    let r = sh.run_line(
        &mut ws,
        &format!(
            "az keyvault role assignment delete --hsm-name hsm-contoso --assignee-object-id {p}"
        ),
    );
    assert!(r.ok, "{}", r.stderr);
    assert!(sh.run_line(&mut ws, "sim clock advance 25m -o none").ok);
    assert_eq!(status(&ws, "sales"), "Inaccessible");
}

#[test]
fn the_subscription_wide_limit_is_five_vaults_worth() {
    let keys = FixtureKeys::new();
    let (mut ws, _) = setup(&keys);
    let mut vaults = vec![VAULT.to_string()];
    for i in 1..=5 {
        let name = format!("kv-more-{i}");
        keyvault::create_vault(
            &mut ws,
            &keyvault::CreateVault {
                name: name.clone(),
                resource_group: RG.into(),
                soft_delete: Some(true),
                ..Default::default()
            },
        )
        .unwrap();
        keyvault::create_key(
            &mut ws,
            &keyvault::CreateKey::new(&name, KEY, KeyType::Rsa, 2048),
            keys.generate(2048).unwrap(),
        )
        .unwrap();
        vaults.push(name);
    }
    // Five vaults at their own limit of 4000 fill the subscription's 20,000.
    for v in &vaults[..5] {
        let r = burst::burst(&mut ws, v, KEY, burst::BurstOperation::Get, 4000, 0).unwrap();
        assert_eq!(r.throttled, 0, "{v}");
    }
    // The sixth vault has used nothing of its own limit, and is refused all the same.
    let err = keyvault::show_key(&ws, &vaults[5], KEY, None).unwrap_err();
    assert_eq!(err.status, 429);
    service::behaviour::advance(&mut ws, Duration::seconds(10)).unwrap();
    keyvault::show_key(&ws, &vaults[5], KEY, None).unwrap();
}

/// The journal is part of the workspace's value: a snapshot holds the audit log and the
/// throttling windows as they were, and restoring it (History's rewind) restores them.
#[test]
fn restoring_a_snapshot_restores_the_audit_log_and_the_throttling_windows() {
    let keys = FixtureKeys::new();
    let (mut ws, _) = setup(&keys);
    enable_audit(&mut ws);
    let mut sh = Shell::new().with_keys(FixtureKeys::boxed());
    let show = format!("az keyvault key show --vault-name {VAULT} --name {KEY} -o none");
    assert!(sh.run_line(&mut ws, &show).ok);
    let snapshot = ws.clone();
    let (log, count) = (diagnostics::audit_log(&ws, VAULT), ws.journal.len());

    // The abandoned timeline: a flood that fills the window, reads, time passing.
    let flood = burst::burst(&mut ws, VAULT, KEY, burst::BurstOperation::Get, 5000, 0).unwrap();
    assert!(flood.throttled > 0);
    assert!(sh.run_line(&mut ws, "sim clock advance 1h").ok);
    for _ in 0..3 {
        assert!(sh.run_line(&mut ws, &show).ok);
    }
    assert!(diagnostics::audit_log(&ws, VAULT).len() > log.len() + 5000);
    assert_eq!(
        snapshot.journal.len(),
        count,
        "the snapshot did not see the later requests"
    );

    ws = snapshot.clone();
    assert_eq!(diagnostics::audit_log(&ws, VAULT), log);
    assert_eq!(ws.journal.len(), count);
    assert!(ws.journal.filtered(|r| r.time > snapshot.now()).is_empty());
    // The windows are the snapshot's too: the same flood is admitted the same way again.
    let again = burst::burst(&mut ws, VAULT, KEY, burst::BurstOperation::Get, 5000, 0).unwrap();
    assert_eq!(
        (again.succeeded, again.throttled),
        (flood.succeeded, flood.throttled)
    );
    // And a save holds the snapshot's records, not the abandoned timeline's.
    let text = ron::to_string(&snapshot).unwrap();
    let back: Workspace = ron::from_str(&text).unwrap();
    assert_eq!(diagnostics::audit_log(&back, VAULT), log);
}

#[test]
fn workspaces_that_differ_only_in_their_journal_are_not_equal() {
    let keys = FixtureKeys::new();
    let (ws, _) = setup(&keys);
    let copy = ws.clone();
    assert!(copy == ws && copy.same_as(&ws));
    keyvault::show_key(&copy, VAULT, KEY, None).unwrap();
    assert_eq!(copy.journal.len(), ws.journal.len() + 1, "the copy's own");
    assert!(copy != ws);
    assert!(!copy.same_as(&ws));
    assert!(copy.journal != ws.journal);
    // Equality compares content, not identity: the same records are equal.
    let mut other = ws.clone();
    other.journal = copy.journal.clone();
    assert!(other == copy);
    let text = ron::to_string(&copy).unwrap();
    let back: Workspace = ron::from_str(&text).unwrap();
    assert!(back.journal == copy.journal);
}

#[test]
fn a_refused_call_keeps_its_audit_record_after_it_returns_its_error() {
    let keys = FixtureKeys::new();
    let (mut ws, _) = setup(&keys);
    enable_audit(&mut ws);
    let user = "admin@contoso.onmicrosoft.com";
    // Through the operations layer: nobody has `purge` by default.
    let from = diagnostics::audit_log(&ws, VAULT).len();
    let before = ws.clone();
    let err = keyvault::purge_key(&mut ws, VAULT, KEY).unwrap_err();
    assert_eq!(err.status, 403);
    assert_eq!(unchanged_but_its_trace(&ws, &before), Some(1));
    assert_eq!(audited(&ws, from), vec![rec("KeyPurge", 403, user)]);
    assert_eq!(
        ws.revision, before.revision,
        "a refused operation is no change"
    );

    // Through the shell.
    let mut sh = Shell::new().with_keys(FixtureKeys::boxed());
    let before = ws.clone();
    let r = sh.run_line(
        &mut ws,
        &format!("az keyvault key purge --vault-name {VAULT} --name {KEY}"),
    );
    assert!(!r.ok);
    assert!(r.stderr.starts_with("ERROR:"), "{}", r.stderr);
    assert_eq!(unchanged_but_its_trace(&ws, &before), Some(1));
    assert_eq!(
        audited(&ws, from),
        vec![rec("KeyPurge", 403, user), rec("KeyPurge", 403, user)]
    );
}
