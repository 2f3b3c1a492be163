//! Microsoft's published Azure CLI sample scripts for Azure SQL
//! (Azure-Samples/azure-cli-samples, copied unmodified under `tests/scripts/ms-samples/`,
//! each with its source line), run as a user runs them: `tde-console shell WS --script F`
//! (under the system's bash when there is one, `az`, `sim`, `date` and `sleep` answered by
//! the console), and again by the built-in interpreter (`--builtin`, what the in-app Cloud
//! Shell and systems without bash use). Each must finish without an error and leave the
//! state the sample documents, in the workspace file it saved.

use crate::common;

use common::FixtureKeys;
use std::path::{Path, PathBuf};
use std::process::Command;
use tde_console::model::Workspace;
use tde_console::shell::Shell;

fn sample(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scripts/ms-samples");
    std::fs::read_dir(&dir)
        .expect("the samples")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(name))
        })
        .unwrap_or_else(|| panic!("no sample {name}"))
}

/// Runs the samples (one after the other in one shell, as Microsoft's BYOK sample follows
/// the managed instance one) and returns the saved workspace and standard output.
fn run(samples: &[&str], builtin: bool) -> (Workspace, String) {
    let paths: Vec<PathBuf> = samples.iter().map(|s| sample(s)).collect();
    run_paths(&paths, builtin)
}

/// [`run`] for script files by path, in a fresh directory (files they write stay there).
fn run_paths(paths: &[PathBuf], builtin: bool) -> (Workspace, String) {
    let samples = paths;
    let dir = tempfile::tempdir().expect("temp dir");
    let ext = paths
        .first()
        .and_then(|p| p.extension())
        .and_then(|e| e.to_str())
        .unwrap_or("sh");
    let script = dir.path().join(format!("sample.{ext}"));
    let text: String = paths
        .iter()
        .map(|s| std::fs::read_to_string(s).expect("sample text"))
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&script, text).expect("script");
    let ws = dir.path().join("ws.ron");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tde-console"));
    cmd.current_dir(dir.path())
        .arg("shell")
        .arg(&ws)
        .arg("--script")
        .arg(&script);
    if builtin {
        cmd.arg("--builtin");
    }
    let out = cmd.output().expect("tde-console runs");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let how = if builtin { "built-in" } else { "bash" };
    assert!(
        out.status.success() && !stderr.contains("ERROR"),
        "{samples:?} ({how}): {:?}\n{stderr}\n{stdout}",
        out.status.code()
    );
    let saved = tde_console::persist::load(&ws).expect("the saved workspace");
    (saved, stdout)
}

/// A query through the shell on the saved workspace: its tsv output, trimmed.
fn q(ws: &mut Workspace, line: &str) -> String {
    let mut sh = Shell::new().with_keys(FixtureKeys::boxed());
    let r = sh.run_line(ws, line);
    assert!(r.ok, "{line}: {}", r.stderr);
    r.stdout.trim().to_string()
}

/// The first server's group and name.
fn first_server(ws: &Workspace) -> (String, String) {
    let s = ws.servers.first().expect("a server");
    (s.resource_group.clone(), s.name.clone())
}

fn both(samples: &[&str], check: impl Fn(&mut Workspace, &str)) {
    for builtin in [false, true] {
        if !builtin && tde_console::shell::bridge::find_bash().is_none() {
            eprintln!("no bash on this system: the built-in interpreter only");
            continue;
        }
        let (mut ws, stdout) = run(samples, builtin);
        check(&mut ws, &stdout);
    }
}

#[test]
fn create_and_configure_database() {
    both(&["01"], |ws, _| {
        let (g, s) = first_server(ws);
        let db = q(
            ws,
            &format!(
                "az sql db list -g {g} -s {s} --query \"[?name!='master'].[currentServiceObjectiveName, sampleName, zoneRedundant]\" -o tsv"
            ),
        );
        assert_eq!(db, "GP_Gen5_2\tAdventureWorksLT\tTrue");
        let rule = q(
            ws,
            &format!(
                "az sql server firewall-rule show -g {g} -s {s} -n AllowYourIp --query startIpAddress -o tsv"
            ),
        );
        assert_eq!(rule, "0.0.0.0");
    });
}

#[test]
fn copy_database_to_new_server() {
    both(&["02"], |ws, _| {
        assert_eq!(ws.servers.len(), 2);
        let target = &ws.servers[1];
        let (g, s) = (target.resource_group.clone(), target.name.clone());
        let copied = q(
            ws,
            &format!("az sql db list -g {g} -s {s} --query \"[?name!='master'].name\" -o tsv"),
        );
        assert!(
            copied.starts_with("msdocs-azuresql-targetDatabase-"),
            "{copied}"
        );
    });
}

#[test]
fn restore_database_to_a_point_in_time() {
    both(&["03"], |ws, stdout| {
        // The sample prints its restore point: a minute before the clock after `sleep 30m`.
        assert!(stdout.contains("2026-01-01T09:29:00\n"), "{stdout}");
        let (g, s) = first_server(ws);
        let restored = q(
            ws,
            &format!(
                "az sql db list -g {g} -s {s} --query \"[?starts_with(name, 'restoreServer-')].currentServiceObjectiveName\" -o tsv"
            ),
        );
        assert_eq!(restored, "S0");
    });
}

#[test]
fn add_a_database_to_a_failover_group_and_fail_over_and_back() {
    both(&["04"], |ws, _| {
        let (g, s) = first_server(ws);
        let out = q(
            ws,
            &format!(
                "az sql failover-group list -g {g} -s {s} --query \"[0].[replicationRole, length(databases)]\" -o tsv"
            ),
        );
        // A list of scalars is one value a line in az's tsv.
        assert_eq!(out, "Primary\n1");
    });
}

#[test]
fn geo_replication_of_a_single_database_fails_over_and_unlinks() {
    both(&["05a"], |ws, _| {
        let secondary = &ws.servers[1];
        let (g, s) = (secondary.resource_group.clone(), secondary.name.clone());
        // After set-primary the old secondary is the primary; the link is then deleted.
        let db = q(
            ws,
            &format!("az sql db list -g {g} -s {s} --query \"[?name!='master'].name\" -o tsv"),
        );
        let links = q(
            ws,
            &format!(
                "az sql db replica list-links -g {g} -s {s} -n {db} --query \"length(@)\" -o tsv"
            ),
        );
        assert_eq!(links, "0");
    });
}

#[test]
fn failover_group_geo_dr_fails_over_and_is_deleted() {
    both(&["05b"], |ws, _| {
        let secondary = &ws.servers[1];
        let (g, s) = (secondary.resource_group.clone(), secondary.name.clone());
        let groups = q(
            ws,
            &format!("az sql failover-group list -g {g} -s {s} --query \"length(@)\" -o tsv"),
        );
        assert_eq!(groups, "0");
    });
}

#[test]
fn managed_instance_then_its_tde_with_a_customer_managed_key() {
    both(&["06", "07"], |ws, _| {
        let (g, mi) = first_server(ws);
        let protector = q(
            ws,
            &format!("az sql mi tde-key show -g {g} --mi {mi} --query serverKeyType -o tsv"),
        );
        assert_eq!(protector, "AzureKeyVault");
    });
}

/// Microsoft Learn's "create server with a user-assigned identity and customer-managed TDE"
/// az tab, its two commands verbatim after the prerequisites a reader fills in, under both
/// timing profiles.
#[test]
fn learn_create_server_with_a_user_assigned_identity_and_its_key() {
    let script = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scripts/learn-create-server-uami-cmk.sh"),
    )
    .expect("script");
    for profile in ["2021", "current"] {
        let mut sh = Shell::new().with_keys(FixtureKeys::boxed());
        let mut ws = tde_console::service::new_workspace("t", 1);
        let out = sh.run_script(
            &mut ws,
            &format!("sim profile set {profile} -o none\n{script}"),
            false,
        );
        assert_eq!(out.failures, 0, "{profile}: {}", out.stderr);
        let lines: Vec<&str> = out.stdout.lines().collect();
        assert_eq!(
            lines[..3],
            ["GP_S_Gen5_2", "AdventureWorksLT", "AzureKeyVault"],
            "{profile}"
        );
        assert!(
            lines[3].starts_with("https://kv-cs1.vault.azure.net/keys/k1/"),
            "{profile}"
        );
    }
}

/// Microsoft Learn's configure, rotate and remove-a-compromised-key az tabs, one after the
/// other on one server: the protector moves to the new key, the compromised key is deleted
/// while the database stays encrypted and online, and the server goes back to a
/// service-managed protector.
#[test]
fn learn_configure_rotate_and_remove_a_compromised_key() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/scripts/learn-configure-rotate-remove.sh");
    for builtin in [false, true] {
        if !builtin && tde_console::shell::bridge::find_bash().is_none() {
            continue;
        }
        let (mut ws, stdout) = run_paths(std::slice::from_ref(&path), builtin);
        assert!(
            stdout.contains("https://kv-learn1.vault.azure.net/keys/key2/"),
            "{stdout}"
        );
        assert!(
            stdout.contains("\nEnabled\nkey2 still in the vault: restore refused\n"),
            "{stdout}"
        );
        assert!(stdout.ends_with("\nServiceManaged\n"), "{stdout}");
        let state = q(
            &mut ws,
            "az sql db show -g rg1 -s srv-learn -n db1 --query status -o tsv",
        );
        assert_eq!(state, "Online");
    }
}

/// Microsoft Learn's configure procedure, PowerShell tab (`.ps1`: the console's PowerShell
/// mode): the key becomes the protector and the database is encrypted under it.
#[test]
fn learn_configure_in_powershell() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scripts/learn-configure.ps1");
    let (mut ws, stdout) = run_paths(std::slice::from_ref(&path), true);
    assert!(stdout.contains("AzureKeyVault"), "{stdout}");
    let protector = q(
        &mut ws,
        "az sql server tde-key show -g rg1 -s srv-ps --query uri -o tsv",
    );
    assert!(
        protector.starts_with("https://kv-ps1.vault.azure.net/keys/key1/"),
        "{protector}"
    );
    let tde = q(
        &mut ws,
        "az sql db tde show -g rg1 -s srv-ps --database db1 --query state -o tsv",
    );
    assert_eq!(tde, "Enabled");
}

/// A dedicated SQL pool under a CMK server, written from Microsoft Learn (BYOK configure, `az
/// sql dw`, the Synapse encryption article's rotation guidance): the pool paused during a
/// rotation cannot resume while the old version is disabled, resumes once it is enabled again.
#[test]
fn learn_dedicated_sql_pool_paused_through_a_rotation() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scripts/learn-dedicated-sql-pool-cmk.sh");
    for builtin in [false, true] {
        if !builtin && tde_console::shell::bridge::find_bash().is_none() {
            continue;
        }
        let (mut ws, stdout) = run_paths(std::slice::from_ref(&path), builtin);
        assert_eq!(
            stdout,
            "DataWarehouse\nDW100c\nOnline\nEnabled\nPaused\nresume refused: the old key version is disabled\nPaused\nOnline\nDW200c\npool1\n",
            "{stdout}"
        );
        let protector = q(
            &mut ws,
            "az sql server tde-key show -g rg1 -s srv-dw --query uri -o tsv",
        );
        let s = ws.server("srv-dw").expect("the server");
        let w = s
            .database("pool1")
            .and_then(|d| d.dek.clone())
            .expect("the pool's DEK");
        let key = s.key(&w.server_key_name).and_then(|k| k.uri.clone());
        assert_eq!(
            key.as_deref(),
            Some(protector.as_str()),
            "re-encrypted on resume"
        );
    }
}

/// Microsoft Learn's PowerShell quickstart for a dedicated SQL pool, then pause and resume.
#[test]
fn learn_dedicated_sql_pool_in_powershell() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scripts/learn-dedicated-sql-pool.ps1");
    let (mut ws, stdout) = run_paths(std::slice::from_ref(&path), true);
    assert!(stdout.contains("DataWarehouse"), "{stdout}");
    let status = q(
        &mut ws,
        "az sql dw show -g myResourceGroup -s sqlpoolservername -n mySampleDataWarehouse --query \"[status, currentServiceObjectiveName, maxSizeBytes]\" -o tsv",
    );
    assert_eq!(status, "Online\nDW100c\n10995116277760");
}

/// Microsoft Learn's Synapse workspace encryption procedure with Az.Synapse
/// (`tests/scripts/learn-synapse-workspace-cmk.ps1`): a workspace created with a
/// customer-managed key waits for activation, is activated once its identity has the key,
/// gets a dedicated SQL pool with TDE that pauses and resumes, and switches keys; each step
/// prints the documented state.
#[test]
fn learn_synapse_workspace_cmk_in_powershell() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scripts/learn-synapse-workspace-cmk.ps1");
    let (mut ws, stdout) = run_paths(std::slice::from_ref(&path), true);
    let printed: Vec<&str> = stdout
        .lines()
        .filter(|l| l.contains(':') && !l.contains(" : "))
        .filter(|l| !l.starts_with("Bash:") && !l.starts_with("PowerShell:"))
        .collect();
    assert_eq!(
        printed,
        [
            "created: True AwaitingUserAction default",
            "activation: False",
            "activated: Consistent https://kv-synps-01.vault.azure.net/keys/wskey",
            "keys: default True",
            "pool: Online DW100c",
            "tde: Enabled",
            "paused: Paused",
            "resumed: Online",
            "new key: False",
            "switching: Updating",
            "switched: Consistent wskey2",
            "left: wskey2",
        ],
        "{stdout}"
    );
    // The saved workspace agrees with what the cmdlets printed.
    let state = q(
        &mut ws,
        "az synapse workspace show -n synwsps01 -g rg-synps --query \"[encryption.cmk.status, encryption.cmk.key.name]\" -o tsv",
    );
    assert_eq!(state, "Consistent\nwskey2");
    let pool = q(
        &mut ws,
        "az synapse sql pool tde show -n sqlpool1 --workspace-name synwsps01 -g rg-synps -d current --query status -o tsv",
    );
    assert_eq!(pool, "Enabled");
}

/// Microsoft Learn's Synapse workspace quickstart in PowerShell
/// (`tests/scripts/learn-synapse-quickstart.ps1`, its lines as printed): the hashtables are
/// splatted into New-AzSynapseWorkspace and New-AzSynapseFirewallRule, the workspace's
/// addresses read back. Its last line names `$SynapseWorkspaceNam`, never set: as in
/// PowerShell the null `-Name` is refused there and the workspace stays, until the line is
/// typed with the right name.
#[test]
fn learn_synapse_quickstart_in_powershell() {
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scripts/learn-synapse-quickstart.ps1");
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("ws.ron");
    let out = Command::new(env!("CARGO_BIN_EXE_tde-console"))
        .current_dir(dir.path())
        .arg("shell")
        .arg(&file)
        .arg("--script")
        .arg(&script)
        .output()
        .expect("tde-console runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the misspelt variable stops it");
    assert!(
        stderr.contains("Remove-AzSynapseWorkspace: Cannot bind argument to parameter 'Name' because it is null.")
            && stderr.contains("(stopped at line 51:"),
        "{stderr}"
    );
    assert_eq!(
        stderr.lines().filter(|l| !l.trim().is_empty()).count(),
        2,
        "nothing before the last line failed: {stderr}"
    );
    assert!(
        stdout.contains("Name              : Allow Client IP"),
        "{stdout}"
    );
    assert!(
        stdout.contains("dev: https://synws-quick-01.dev.azuresynapse.net"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "open the address yourself: https://web.azuresynapse.net?workspace=%2fsubscriptions%2f"
        ),
        "{stdout}"
    );
    let mut ws = tde_console::persist::load(&file).expect("the saved workspace");
    let state = q(
        &mut ws,
        "az synapse workspace show -n synws-quick-01 -g rg-synapse-quick --query \"[defaultDataLakeStorage.accountUrl, defaultDataLakeStorage.filesystem, sqlAdministratorLogin]\" -o tsv",
    );
    assert_eq!(
        state,
        "https://adlsquick01.dfs.core.windows.net\nusers\nsqladminuser"
    );
    let rule = q(
        &mut ws,
        "az synapse workspace firewall-rule show -n 'Allow Client IP' --workspace-name synws-quick-01 -g rg-synapse-quick --query \"[startIpAddress, endIpAddress]\" -o tsv",
    );
    assert_eq!(rule, "203.0.113.10\n203.0.113.10");
    let mut sh = Shell::new().with_keys(FixtureKeys::boxed());
    sh.mode = tde_console::shell::ShellMode::Pwsh;
    let r = sh.run_line(
        &mut ws,
        "Remove-AzSynapseWorkspace -Name synws-quick-01 -ResourceGroupName rg-synapse-quick",
    );
    assert!(r.ok, "{}", r.stderr);
    assert!(ws.synapse.workspaces.is_empty());
}

/// Microsoft Learn's "Enable TDE with a customer-managed key" (PowerShell tab), every block
/// as printed (`tests/scripts/learn-tde-byok-configure.ps1`): the protector is the vault key,
/// TDE is turned on, read back, turned off; a key that is not the protector is removed.
#[test]
fn learn_tde_byok_configure_in_powershell() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scripts/learn-tde-byok-configure.ps1");
    let (mut ws, stdout) = run_paths(std::slice::from_ref(&path), true);
    assert!(stdout.contains("Name     : Contoso Production"), "{stdout}");
    let protector = q(
        &mut ws,
        "az sql server tde-key show -g rg-byok -s sql-byok-01 --query \"[serverKeyType, uri]\" -o tsv",
    );
    assert!(
        protector.starts_with("AzureKeyVault\nhttps://kv-byok-01.vault.azure.net/keys/tdekey/"),
        "{protector}"
    );
    let tde = q(
        &mut ws,
        "az sql db tde show -g rg-byok -s sql-byok-01 --database db1 --query state -o tsv",
    );
    assert_eq!(tde, "Disabled", "the last TDE block turns it off");
    let keys = q(
        &mut ws,
        "az sql server key list -g rg-byok -s sql-byok-01 --query \"[].name\" -o tsv",
    );
    assert!(
        !keys.contains("sparekey") && keys.contains("tdekey"),
        "{keys}"
    );
}
