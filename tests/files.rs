//! Files that hold key material: never clobbered, never readable by others, never read
//! without bound. Through the shell and `persist`, on real files in a temporary directory.

mod common;

use common::{FixtureKeys, setup};
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;
use tde_console::persist;
use tde_console::shell::Shell;

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

/// The test workspace and a shell over it (fixture keys).
fn workspace_and_shell() -> (tde_console::model::Workspace, Shell) {
    let (ws, _) = setup(&FixtureKeys::new());
    (ws, Shell::new().with_keys(FixtureKeys::boxed()))
}

fn mkfifo(path: &Path) {
    let made = std::process::Command::new("mkfifo").arg(path).status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo {}", path.display());
}

fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".tmp"))
        .collect()
}

#[test]
fn a_workspace_is_saved_0600_and_an_existing_file_keeps_its_mode() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, _) = setup(&FixtureKeys::new());
    let path = dir.path().join("ws.ron");
    persist::save(&ws, &path).unwrap();
    assert_eq!(mode(&path), 0o600, "a new workspace is private");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    persist::save(&ws, &path).unwrap();
    assert_eq!(mode(&path), 0o640, "the user's mode is kept");
    assert!(
        leftovers(dir.path()).is_empty(),
        "{:?}",
        leftovers(dir.path())
    );
    assert!(persist::load(&path).unwrap() == ws);
}

#[test]
fn a_symlinked_workspace_is_saved_through_to_its_target() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, _) = setup(&FixtureKeys::new());
    let real = dir.path().join("real.ron");
    let link = dir.path().join("link.ron");
    persist::save(&ws, &real).unwrap();
    symlink(&real, &link).unwrap();
    let mut changed = ws.clone();
    changed.name = "renamed".into();
    persist::save(&changed, &link).unwrap();
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink(),
        "the link stays a link"
    );
    assert_eq!(persist::load(&real).unwrap().name, "renamed");
}

#[test]
fn predictable_temp_names_are_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, _) = setup(&FixtureKeys::new());
    let path = dir.path().join("ws.ron");
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, "keep me").unwrap();
    // What the old temp name would have been, planted as a symlink and as a world-writable
    // file: neither is written.
    symlink(
        &victim,
        dir.path()
            .join(format!(".ws.ron.tmp-{}", std::process::id())),
    )
    .unwrap();
    persist::save(&ws, &path).unwrap();
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
    assert_eq!(mode(&path), 0o600);
}

#[test]
fn saving_onto_something_that_is_not_a_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, _) = setup(&FixtureKeys::new());
    let sub = dir.path().join("a-directory");
    std::fs::create_dir(&sub).unwrap();
    assert!(persist::save(&ws, &sub).is_err());
    assert!(sub.is_dir());
    assert!(persist::save(&ws, Path::new("/dev/null")).is_err());
}

#[test]
fn exports_refuse_existing_paths_symlinks_fifos_and_devices() {
    let dir = tempfile::tempdir().unwrap();
    let (mut ws, mut sh) = workspace_and_shell();
    let r = sh.run_line(
        &mut ws,
        &format!(
            "az monitor diagnostic-settings create --name audit --resource {} --logs '[{{\"category\":\"AuditEvent\",\"enabled\":true}}]' --workspace law -o none",
            common::VAULT
        ),
    );
    assert!(r.ok, "{}", r.stderr);
    let existing = dir.path().join("existing.csv");
    std::fs::write(&existing, "mine").unwrap();
    let link = dir.path().join("link.csv");
    symlink(&existing, &link).unwrap();
    let fifo = dir.path().join("fifo.csv");
    mkfifo(&fifo);
    let before = ws.clone();
    for target in [
        existing.clone(),
        link.clone(),
        fifo.clone(),
        "/dev/null".into(),
    ] {
        let r = sh.run_line(
            &mut ws,
            &format!(
                "sim audit export --vault {} --file {}",
                common::VAULT,
                target.display()
            ),
        );
        assert!(!r.ok, "{}", target.display());
        assert!(r.stderr.contains("already exists"), "{}", r.stderr);
        assert!(ws == before);
    }
    assert_eq!(std::fs::read_to_string(&existing).unwrap(), "mine");
    let fresh = dir.path().join("fresh.csv");
    let r = sh.run_line(
        &mut ws,
        &format!(
            "sim audit export --vault {} --file {}",
            common::VAULT,
            fresh.display()
        ),
    );
    assert!(r.ok, "{}", r.stderr);
    assert_eq!(mode(&fresh), 0o600, "exports are private");
}

#[test]
fn unbounded_and_special_input_files_are_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let (mut ws, mut sh) = workspace_and_shell();
    let fifo = dir.path().join("fifo.json");
    mkfifo(&fifo);
    let before = ws.clone();
    for source in ["/dev/zero".to_string(), fifo.display().to_string()] {
        let r = sh.run_line(
            &mut ws,
            &format!(
                "az keyvault key rotation-policy update --vault-name {} --name {} --value @{source}",
                common::VAULT,
                common::KEY
            ),
        );
        assert!(!r.ok);
        assert!(r.stderr.contains("not a regular file"), "{}", r.stderr);
        assert!(ws == before);
    }
    let big = dir.path().join("big.pem");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(persist::MAX_INPUT_FILE + 1)
        .unwrap();
    let r = sh.run_line(
        &mut ws,
        &format!(
            "az keyvault key import --vault-name {} --name big --pem-file {}",
            common::VAULT,
            big.display()
        ),
    );
    assert!(r.stderr.contains("larger than"), "{}", r.stderr);
    assert!(ws == before);
}

#[test]
fn a_panicking_command_keeps_the_workspace_and_reports_an_error() {
    let (mut ws, mut sh) = workspace_and_shell();
    let before = ws.clone();
    // A slice step that overflows inside the jmespath crate.
    let r = sh.run_line(
        &mut ws,
        "az sql db list --server sql-test --resource-group rg-test --query \"[1::2147483647]\"",
    );
    assert!(!r.ok);
    assert!(r.stderr.starts_with("ERROR: "), "{}", r.stderr);
    assert!(ws == before);
    // Nesting that would overflow the stack is refused before it runs.
    let deep = format!(
        "az sql db list --server sql-test --resource-group rg-test --query \"{}\"",
        "(".repeat(20_000)
    );
    let r = sh.run_line(&mut ws, &deep);
    assert!(r.stderr.contains("nests deeper"), "{}", r.stderr);
    let deep = format!("echo {}x{}", "$(".repeat(10_000), ")".repeat(10_000));
    let r = sh.run_line(&mut ws, &deep);
    assert!(r.stderr.contains("nest deeper than 16"), "{}", r.stderr);
    // The shell still works.
    assert!(sh.run_line(&mut ws, "sim clock show").ok);
}

/// The shell binary, as a person runs it.
fn console() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_tde-console"))
}

#[test]
fn a_save_by_another_process_meanwhile_is_detected_and_nothing_is_lost() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ws.ron");
    let (ws, _) = setup(&FixtureKeys::new());
    persist::save(&ws, &path).unwrap();
    // A opens the file and waits for its commands; B opens, changes and saves it meanwhile.
    let mut a = console()
        .arg("shell")
        .arg(&path)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(800));
    let b = console()
        .arg("shell")
        .arg(&path)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut b| {
            b.stdin
                .take()
                .unwrap()
                .write_all(b"sim clock advance 1h -o none\n")?;
            b.wait_with_output()
        })
        .unwrap();
    assert!(b.status.success());
    let saved_by_b = persist::load(&path).unwrap();
    a.stdin
        .take()
        .unwrap()
        .write_all(b"sim clock advance 2h -o none\n")
        .unwrap();
    let out = a.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("changed on disk"), "{stderr}");
    // B's save stands; A's work is in a file beside it.
    assert!(persist::load(&path).unwrap() == saved_by_b);
    let aside: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".conflict-"))
        .collect();
    assert_eq!(aside.len(), 1, "{stderr}");
    let a_ws = persist::load(&aside[0].path()).unwrap();
    assert_eq!(a_ws.now().0 - ws.now().0, 2 * 3600);
}

#[test]
fn a_kill_during_a_save_leaves_the_old_file_or_the_new_one() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.ron");
    // A few megabytes, so a save takes long enough to be interrupted.
    let mut sh = Shell::new().with_keys(FixtureKeys::boxed());
    let mut ws = tde_console::service::new_workspace("big", 2);
    let r = sh.run_line(
        &mut ws,
        "sim generate --servers 4 --databases-per-server 500 --vaults 2 --key-size 2048",
    );
    assert!(r.ok, "{}", r.stderr);
    persist::save(&ws, &path).unwrap();
    for delay_ms in [0u64, 5, 10, 20, 40, 80, 160] {
        let mut child = console()
            .arg("shell")
            .arg(&path)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let _ = child
            .stdin
            .take()
            .unwrap()
            .write_all(b"sim clock advance 1m -o none\n");
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        let loaded = persist::load(&path);
        assert!(loaded.is_ok(), "after a kill at {delay_ms} ms: {loaded:?}");
    }
}

#[test]
fn a_key_backup_that_cannot_be_written_is_not_recorded() {
    let (mut ws, mut sh) = workspace_and_shell();
    let before = ws.clone();
    let r = sh.run_line(
        &mut ws,
        &format!(
            "az keyvault key backup --vault-name {} --name {} --file /nonexistent-dir/k.keybackup",
            common::VAULT,
            common::KEY
        ),
    );
    assert!(!r.ok);
    // The vault served the backup request (its record stays); nothing else changed.
    assert!(
        common::unchanged_but_its_trace(&ws, &before).is_some(),
        "no backup is recorded"
    );
    let k = ws.vault(common::VAULT).unwrap().key(common::KEY).unwrap();
    assert!(k.last_backup.is_none());
}

#[test]
fn a_passphrase_protects_a_workspace_and_a_wrong_one_changes_nothing() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secret.ron");
    let (ws, _) = setup(&FixtureKeys::new());
    persist::save(&ws, &path).unwrap();
    let good = dir.path().join("pass.txt");
    std::fs::write(&good, "correct horse battery staple\n").unwrap();
    let bad = dir.path().join("wrong.txt");
    std::fs::write(&bad, "wrong\n").unwrap();
    let run = |pass: Option<&Path>, script: &[u8]| {
        let mut cmd = console();
        cmd.arg("shell").arg(&path);
        if let Some(p) = pass {
            cmd.arg("--passphrase-file").arg(p);
        }
        let mut child = cmd
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // A run refused before it reads its commands closes its stdin: a broken pipe here
        // is part of that refusal, which the exit status and stderr show.
        let _ = child.stdin.take().unwrap().write_all(script);
        child.wait_with_output().unwrap()
    };
    // A plain workspace opened with a passphrase file is saved protected.
    let out = run(Some(&good), b"sim clock advance 1h -o none\n");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(persist::sealed::is_sealed(&text), "{text}");
    assert!(!text.contains("format_version") && !text.contains("kv-test"));
    assert_eq!(mode(&path), 0o600);
    // Without it, or with a wrong one: a clear error, and the file is untouched.
    for pass in [None, Some(bad.as_path())] {
        let out = run(pass, b"sim clock advance 1h -o none\n");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains("protected with a passphrase") || stderr.contains("does not open"),
            "{stderr}"
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    }
    // The right one opens it, and it stays protected.
    let out = run(Some(&good), b"sim clock show\n");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let back = persist::load_with(&path, Some("correct horse battery staple")).unwrap();
    assert_eq!(back.now().0 - ws.now().0, 3600);
    assert!(matches!(
        persist::load(&path),
        Err(persist::PersistError::NeedsPassphrase { .. })
    ));
}
