//! Issue 14: the real Azure SDK for Python, unmodified, against `tde-console serve`
//! (`tests/sdk/kv_sdk_e2e.py` walks it; see there). Needs `pip install azure-keyvault-keys
//! azure-keyvault-secrets azure-identity`: `.ci/run` installs them and sets `TDE_SDK_TEST=1`, which makes a
//! missing SDK a failure; elsewhere the test says it is skipped.

use std::process::Command;

fn sdk_installed() -> bool {
    Command::new("python3")
        .args([
            "-c",
            "import azure.keyvault.keys, azure.keyvault.secrets, azure.identity",
        ])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn the_python_sdk_drives_the_local_vaults() {
    if !sdk_installed() {
        assert!(
            std::env::var("TDE_SDK_TEST").is_err(),
            "TDE_SDK_TEST is set but the Azure SDK for Python is not installed"
        );
        eprintln!(
            "skipped: pip install azure-keyvault-keys azure-keyvault-secrets azure-identity to run it"
        );
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("served.ron");
    let ws = tde_console::persist::demo().expect("demo");
    tde_console::persist::save(&ws, &file).expect("saved");
    let out = Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/sdk/kv_sdk_e2e.py"
        ))
        .arg(env!("CARGO_BIN_EXE_tde-console"))
        .arg(&file)
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("{stdout}");
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("SIGTERM: serve saved the workspace"),
        "{stdout}"
    );
}

/// Issue 24: the real az CLI, unmodified (`pip install azure-cli==2.91.*` into a virtual
/// environment), against `tde-console serve`, through the environment `serve` prints
/// (`az_env`) after the one sign-in command it prints (`az_login`). It runs the documented
/// customer-managed TDE procedure: a user-assigned identity for the server, the vault's
/// access policy for it, a key made through the vault's data plane, the server key, the
/// TDE protector set and shown, a database's TDE shown; then Resource Manager's writes: a
/// server created with its identity and key, a database created with `--no-wait`, a
/// failover group created, failed over and deleted, a managed instance created over the
/// network resources az makes for it; then SIGTERM, and the changes are in the workspace
/// file. The venv is `TDE_AZ_VENV` (default `/tmp/azvenv`); `.ci/run` makes
/// it and sets `TDE_AZ_TEST=1`, which makes a missing az a failure.
#[test]
fn the_real_az_cli_runs_the_byok_procedure_against_serve() {
    use std::io::BufRead;
    let venv = std::env::var("TDE_AZ_VENV").unwrap_or_else(|_| "/tmp/azvenv".into());
    let az = std::path::Path::new(&venv).join("bin/az");
    if !az.exists() {
        assert!(
            std::env::var("TDE_AZ_TEST").is_err(),
            "TDE_AZ_TEST is set but there is no az at {}",
            az.display()
        );
        eprintln!(
            "skipped: python3 -m venv {venv} && {venv}/bin/pip install azure-cli==2.91.0 to run it"
        );
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("served.ron");
    let ws = tde_console::persist::demo().expect("demo");
    tde_console::persist::save(&ws, &file).expect("saved");
    let mut serve = Command::new(env!("CARGO_BIN_EXE_tde-console"))
        .args(["serve", "--port", "0"])
        .arg(&file)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .expect("serve starts");
    let mut lines = std::io::BufReader::new(serve.stdout.take().expect("stdout")).lines();
    let (mut env, mut login) = (Vec::new(), None);
    for line in lines.by_ref() {
        let line = line.expect("a line");
        let v: serde_json::Value = serde_json::from_str(&line).expect("JSON lines");
        if let Some(e) = v["az_env"].as_object() {
            env = e
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                .collect();
        }
        if let Some(l) = v["az_login"].as_str() {
            login = Some(l.to_string());
            break;
        }
    }
    let login = login.expect("serve prints az_login after az_env");
    assert!(env.iter().any(|(k, _)| k == "AZURE_CONFIG_DIR"), "{env:?}");
    let run = |args: &[&str]| -> String {
        let started = std::time::Instant::now();
        let out = Command::new(&az)
            .args(args)
            .envs(env.iter().cloned())
            .output()
            .expect("az runs");
        let stdout = String::from_utf8_lossy(&out.stdout).trim().to_string();
        eprintln!(
            "az {} ({} ms)\n{stdout}",
            args.join(" "),
            started.elapsed().as_millis()
        );
        assert!(
            out.status.success(),
            "az {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    };
    let words: Vec<&str> = login.split(' ').collect();
    assert_eq!(words[..2], ["az", "login"], "{login}");
    run(&words[1..]);
    let account: serde_json::Value =
        serde_json::from_str(&run(&["account", "show", "-o", "json"])).expect("json");
    assert_eq!(account["tenantId"], ws.console_user.tenant.0.as_str());
    // The documented procedure (learn.microsoft.com, "Configure TDE with BYOK", Azure CLI).
    let (g, s, v) = ("rg-contoso-us", "sql-contoso-us2", "kv-contoso-us2");
    let identity: serde_json::Value = serde_json::from_str(&run(&[
        "identity",
        "create",
        "-g",
        g,
        "-n",
        "id-tde-byok",
        "-o",
        "json",
    ]))
    .expect("json");
    let (id, principal) = (
        identity["id"].as_str().expect("id"),
        identity["principalId"].as_str().expect("principal"),
    );
    assert_eq!(
        run(&[
            "identity",
            "show",
            "-g",
            g,
            "-n",
            "id-tde-byok",
            "--query",
            "principalId",
            "-o",
            "tsv"
        ]),
        principal
    );
    run(&[
        "sql",
        "server",
        "update",
        "-g",
        g,
        "-n",
        s,
        "-i",
        "--identity-type",
        "SystemAssigned,UserAssigned",
        "--user-assigned-identity-id",
        id,
        "--primary-user-assigned-identity-id",
        id,
        "-o",
        "none",
    ]);
    run(&[
        "keyvault",
        "set-policy",
        "-n",
        v,
        "--object-id",
        principal,
        "--key-permissions",
        "get",
        "wrapKey",
        "unwrapKey",
        "-o",
        "none",
    ]);
    let kid = run(&[
        "keyvault",
        "key",
        "create",
        "--vault-name",
        v,
        "-n",
        "byok-key",
        "--kty",
        "RSA",
        "--size",
        "3072",
        "--query",
        "key.kid",
        "-o",
        "tsv",
    ]);
    assert!(
        kid.starts_with(&format!("https://{v}.vault.azure.net/keys/byok-key/")),
        "the key id stays canonical: {kid}"
    );
    run(&[
        "sql", "server", "key", "create", "-g", g, "-s", s, "--kid", &kid, "-o", "none",
    ]);
    run(&[
        "sql",
        "server",
        "tde-key",
        "set",
        "-g",
        g,
        "-s",
        s,
        "--server-key-type",
        "AzureKeyVault",
        "--kid",
        &kid,
        "-o",
        "none",
    ]);
    assert_eq!(
        run(&[
            "sql", "server", "tde-key", "show", "-g", g, "-s", s, "--query", "uri", "-o", "tsv"
        ]),
        kid
    );
    let db = ws
        .server(s)
        .and_then(|x| x.databases.first())
        .map(|d| d.name.clone())
        .expect("a database");
    assert_eq!(
        run(&[
            "sql", "db", "tde", "show", "-g", g, "-s", s, "-d", &db, "--query", "state", "-o",
            "tsv"
        ]),
        "Enabled"
    );
    // Business continuity and the activity log, as the shell shows them.
    assert_eq!(
        run(&[
            "sql",
            "failover-group",
            "list",
            "-g",
            g,
            "-s",
            "sql-contoso-us",
            "--query",
            "[].name",
            "-o",
            "tsv"
        ]),
        "fg-contoso"
    );
    // The documented failover: set-primary on the secondary; az waits until it is done.
    run(&[
        "sql",
        "failover-group",
        "set-primary",
        "-g",
        g,
        "-s",
        "sql-contoso-us2",
        "-n",
        "fg-contoso",
    ]);
    assert_eq!(
        run(&[
            "sql",
            "failover-group",
            "show",
            "-g",
            g,
            "-s",
            "sql-contoso-us2",
            "-n",
            "fg-contoso",
            "--query",
            "replicationRole",
            "-o",
            "tsv"
        ]),
        "Primary"
    );
    assert!(
        !run(&[
            "monitor",
            "activity-log",
            "list",
            "-g",
            g,
            "--query",
            "[].operationName.value",
            "-o",
            "tsv"
        ])
        .is_empty()
    );
    // Issue 24's writes through Resource Manager, each the shell's operation.
    // A server made with its user-assigned identity and customer-managed key at once.
    let new_server = "sql-az-new";
    run(&[
        "sql",
        "server",
        "create",
        "-g",
        g,
        "-n",
        new_server,
        "-l",
        "westus",
        "-u",
        "sqladmin",
        "-p",
        "Str0ng!Passw0rd",
        "--assign-identity",
        "--identity-type",
        "UserAssigned",
        "--user-assigned-identity-id",
        id,
        "--primary-user-assigned-identity-id",
        id,
        "--key-id",
        &kid,
        "-o",
        "none",
    ]);
    assert_eq!(
        run(&[
            "sql", "server", "tde-key", "show", "-g", g, "-s", new_server, "--query", "uri", "-o",
            "tsv"
        ]),
        kid
    );
    // --no-wait: az sends the PUT, takes the 202 and returns without polling; the
    // operation is done when the database is read.
    let started = std::time::Instant::now();
    let quiet = run(&[
        "sql",
        "db",
        "create",
        "-g",
        g,
        "-s",
        new_server,
        "-n",
        "orders",
        "--service-objective",
        "S0",
        "--no-wait",
    ]);
    eprintln!(
        "az sql db create --no-wait returned in {} ms",
        started.elapsed().as_millis()
    );
    assert!(quiet.is_empty(), "--no-wait prints nothing: {quiet}");
    assert_eq!(
        run(&[
            "sql", "db", "show", "-g", g, "-s", new_server, "-n", "orders", "--query", "status",
            "-o", "tsv"
        ]),
        "Online"
    );
    // A failover group made, failed over and deleted.
    run(&[
        "sql",
        "failover-group",
        "create",
        "-g",
        g,
        "-s",
        "sql-contoso-us",
        "-n",
        "fg-hr",
        "--partner-server",
        "sql-contoso-us2",
        "--add-db",
        "hr",
        "-o",
        "none",
    ]);
    run(&[
        "sql",
        "failover-group",
        "set-primary",
        "-g",
        g,
        "-s",
        "sql-contoso-us2",
        "-n",
        "fg-hr",
        "-o",
        "none",
    ]);
    assert_eq!(
        run(&[
            "sql",
            "failover-group",
            "show",
            "-g",
            g,
            "-s",
            "sql-contoso-us2",
            "-n",
            "fg-hr",
            "--query",
            "replicationRole",
            "-o",
            "tsv"
        ]),
        "Primary"
    );
    run(&[
        "sql",
        "failover-group",
        "delete",
        "-g",
        g,
        "-s",
        "sql-contoso-us2",
        "-n",
        "fg-hr",
    ]);
    // A managed instance over the network az builds for it.
    run(&[
        "network",
        "vnet",
        "create",
        "-g",
        g,
        "-n",
        "vnet-mi",
        "-l",
        "westus",
        "--address-prefixes",
        "10.0.0.0/16",
        "-o",
        "none",
    ]);
    run(&[
        "network", "nsg", "create", "-g", g, "-n", "nsg-mi", "-l", "westus", "-o", "none",
    ]);
    run(&[
        "network",
        "route-table",
        "create",
        "-g",
        g,
        "-n",
        "rt-mi",
        "-l",
        "westus",
        "-o",
        "none",
    ]);
    let subnet = run(&[
        "network",
        "vnet",
        "subnet",
        "create",
        "-g",
        g,
        "--vnet-name",
        "vnet-mi",
        "-n",
        "mi-subnet",
        "--address-prefixes",
        "10.0.0.0/24",
        "--delegations",
        "Microsoft.Sql/managedInstances",
        "--nsg",
        "nsg-mi",
        "--route-table",
        "rt-mi",
        "--query",
        "id",
        "-o",
        "tsv",
    ]);
    run(&[
        "sql",
        "mi",
        "create",
        "-g",
        g,
        "-n",
        "mi-az",
        "-l",
        "westus",
        "-u",
        "sqladmin",
        "-p",
        "Str0ng!Passw0rd",
        "--subnet",
        &subnet,
        "-o",
        "none",
    ]);
    // ARM's errors reach az with the shell's codes.
    let refused = Command::new(&az)
        .args(["sql", "server", "show", "-g", g, "-n", "no-such-server"])
        .envs(env.iter().cloned())
        .output()
        .expect("az runs");
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("ResourceNotFound"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    // SIGTERM saves the workspace; the change is in the file.
    let killed = Command::new("kill")
        .args(["-TERM", &serve.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let status = serve.wait().expect("serve exits");
    assert!(status.success(), "{status:?}");
    let saved = tde_console::persist::load(&file).expect("the saved workspace");
    let server = saved.server(s).expect("the server");
    assert_eq!(
        server
            .protector_key()
            .and_then(|k| k.uri.clone())
            .as_deref(),
        Some(kid.as_str())
    );
    assert!(
        server
            .user_assigned_identities
            .iter()
            .any(|u| u.eq_ignore_ascii_case(id)),
        "{:?}",
        server.user_assigned_identities
    );
    let made = saved.server(new_server).expect("the server az made");
    assert_eq!(
        made.protector_key().and_then(|k| k.uri.clone()).as_deref(),
        Some(kid.as_str())
    );
    assert!(
        made.primary_user_assigned_identity
            .as_deref()
            .is_some_and(|p| p.eq_ignore_ascii_case(id))
    );
    assert!(made.database("orders").is_some(), "the --no-wait database");
    assert!(saved.continuity.failover_group("fg-hr").is_none());
    let mi = saved.server("mi-az").expect("the managed instance");
    assert_eq!(mi.kind, tde_console::model::ServerKind::ManagedInstance);
    assert_eq!(mi.subnet_id.as_deref(), Some(subnet.as_str()));
}
