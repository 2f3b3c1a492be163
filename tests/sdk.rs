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
