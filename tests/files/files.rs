//! Files that hold key material: never clobbered, never readable by others, never read
//! without bound. Through the shell and `persist`, on real files in a temporary directory.

use crate::common;

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

// ---- Issue 21: nothing acknowledged is lost, another writer is told, damage is refused ----

/// A workspace of a few megabytes, saved at `path`: a save takes long enough to race.
fn large_workspace_at(path: &Path) -> tde_console::model::Workspace {
    let mut sh = Shell::new().with_keys(FixtureKeys::boxed());
    let mut ws = tde_console::service::new_workspace("big", 2);
    let r = sh.run_line(
        &mut ws,
        "sim generate --servers 4 --databases-per-server 500 --vaults 2 --key-size 2048",
    );
    assert!(r.ok, "{}", r.stderr);
    persist::save(&ws, path).unwrap();
    ws
}

/// `tde-console shell PATH` with `script` on its standard input (stdout discarded).
fn shell_on(path: &Path, script: &str) -> std::process::Child {
    use std::io::Write;
    let mut c = console()
        .arg("shell")
        .arg(path)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    c.stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    c
}

/// [`shell_on`], run to its end, which must succeed.
fn shell_ok(path: &Path, script: &str) {
    let out = shell_on(path, script).wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn racing_saves_never_lose_an_update_silently() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("race.ron");
    large_workspace_at(&path);
    let mut conflicts = 0;
    for trial in 0..8 {
        let a = shell_on(
            &path,
            &format!("az group create -n rg-a-{trial} -l westeurope -o none\n"),
        );
        let b = shell_on(
            &path,
            &format!("az group create -n rg-b-{trial} -l westeurope -o none\n"),
        );
        let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
        let now = persist::load(&path).unwrap();
        for (who, out) in [("a", &a), ("b", &b)] {
            let group = format!("rg-{who}-{trial}");
            let stderr = String::from_utf8_lossy(&out.stderr);
            match out.status.code() {
                // Acknowledged: the change is in the file.
                Some(0) => assert!(
                    now.resource_groups.iter().any(|g| g.name == group),
                    "trial {trial}: {who} exited 0 but its change is not in the file"
                ),
                // Told: the file is untouched by it, its work is beside it.
                Some(2) => {
                    conflicts += 1;
                    assert!(stderr.contains("changed on disk"), "{stderr}");
                    let aside: Vec<_> = std::fs::read_dir(dir.path())
                        .unwrap()
                        .flatten()
                        .filter(|e| e.file_name().to_string_lossy().contains(".conflict-"))
                        .map(|e| e.path())
                        .collect();
                    assert!(
                        aside.iter().any(|p| persist::load(p)
                            .unwrap()
                            .resource_groups
                            .iter()
                            .any(|g| g.name == group)),
                        "trial {trial}: {who}'s work is not in a conflict file"
                    );
                }
                other => panic!("trial {trial}: {who} exited {other:?}: {stderr}"),
            }
        }
    }
    eprintln!("{conflicts} conflict(s) told in 8 races");
}

#[test]
fn a_read_only_script_leaves_the_file_untouched() {
    use std::os::unix::fs::MetadataExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ro.ron");
    let (ws, _) = setup(&FixtureKeys::new());
    persist::save(&ws, &path).unwrap();
    let before = std::fs::metadata(&path).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    shell_ok(
        &path,
        "az keyvault list -o none\naz sql server list -o none\naz keyvault key list --vault-name kv-test -o none\naz account show -o none\n",
    );
    let after = std::fs::metadata(&path).unwrap();
    assert_eq!(before.ino(), after.ino(), "the file was replaced");
    assert_eq!(
        before.mtime_nsec(),
        after.mtime_nsec(),
        "the file was rewritten"
    );
    assert_eq!(before.mtime(), after.mtime(), "the file was rewritten");
}

#[test]
fn a_dangling_symlink_workspace_is_written_through_to_its_target() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("later.ron");
    let link = dir.path().join("link.ron");
    symlink(&real, &link).unwrap();
    shell_ok(
        &link,
        "az group create -n rg-through -l westeurope -o none\n",
    );
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink(),
        "the link stays a link"
    );
    assert_eq!(mode(&real), 0o600);
    assert!(
        persist::load(&real)
            .unwrap()
            .resource_groups
            .iter()
            .any(|g| g.name == "rg-through")
    );
}

#[test]
fn a_damaged_file_is_refused_at_open_not_found_later() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("damaged.ron");
    let keys = FixtureKeys::new();
    let (mut ws, kid) = setup(&keys);
    common::protect(&mut ws, &kid);
    persist::save(&ws, &path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    // One character of a wrapped DEK changed: the file still parses.
    let at = text.find("wrapped").expect("a wrapped DEK");
    let quote = at + text[at..].find('"').unwrap() + 5;
    let mut bytes = text.into_bytes();
    bytes[quote] = if bytes[quote] == b'A' { b'B' } else { b'A' };
    std::fs::write(&path, &bytes).unwrap();
    let e = persist::load(&path).expect_err("refused").to_string();
    assert!(e.contains("checksum"), "{e}");
    // A file edited on purpose opens once its checksum line is gone.
    let text = String::from_utf8(bytes).unwrap();
    let body = &text[..text.trim_end().rfind('\n').unwrap() + 1];
    std::fs::write(&path, body).unwrap();
    assert!(persist::load(&path).is_ok());
}

#[test]
fn logged_changes_replay_exactly_and_a_torn_entry_is_dropped() {
    use tde_console::persist::store::Store;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("logged.ron");
    let (ws, _) = setup(&FixtureKeys::new());
    persist::save(&ws, &path).unwrap();
    let before = std::fs::read(&path).unwrap();
    let (mut store, opened) = Store::open(&path, None, || unreachable!()).unwrap();
    let mut ws = opened.ws;
    let mut sh = Shell::new().with_keys(FixtureKeys::boxed());
    for line in [
        "az group create -n rg-logged -l westeurope",
        "az keyvault key create --vault-name kv-test -n logged-key --kty RSA --size 2048",
        "az keyvault key show --vault-name kv-test -n logged-key",
        "sim clock advance 3h",
    ] {
        let r = sh.run_line(&mut ws, line);
        assert!(r.ok, "{line}: {}", r.stderr);
        assert!(store.record(&ws).unwrap(), "{line} logged nothing");
    }
    // Nothing changed: nothing logged.
    assert!(!store.record(&ws).unwrap());
    // The file itself was not rewritten; the log holds the changes, 0600.
    assert_eq!(std::fs::read(&path).unwrap(), before);
    let log = persist::wal::path_for(&path);
    assert_eq!(mode(&log), 0o600);
    let back = persist::load(&path).unwrap();
    assert_eq!(
        persist::to_ron(&back).unwrap(),
        persist::to_ron(&ws).unwrap(),
        "replay gives the same workspace, byte for byte"
    );
    // A torn last entry (a crash mid-append) is dropped; the earlier ones stand.
    let whole = std::fs::metadata(&log).unwrap().len();
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    std::io::Write::write_all(&mut f, &[200, 0, 0, 0, 1, 2, 3]).unwrap();
    drop(f);
    drop(store);
    let (mut store, opened) = Store::open(&path, None, || unreachable!()).unwrap();
    assert_eq!(opened.recovered, 4);
    assert_eq!(std::fs::metadata(&log).unwrap().len(), whole, "trimmed");
    assert_eq!(
        persist::to_ron(&opened.ws).unwrap(),
        persist::to_ron(&ws).unwrap()
    );
    // A save folds the log into the file.
    store.save(&opened.ws).unwrap();
    assert!(!log.exists());
    assert_eq!(
        persist::to_ron(&persist::load(&path).unwrap()).unwrap(),
        persist::to_ron(&ws).unwrap()
    );
}

#[test]
fn a_log_of_a_protected_workspace_is_encrypted_and_another_writer_is_told() {
    use tde_console::persist::store::{Store, StoreError};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sealed.ron");
    let (ws, _) = setup(&FixtureKeys::new());
    persist::save_with(&ws, &path, Some("correct horse")).unwrap();
    let (mut a, opened) = Store::open(&path, Some("correct horse"), || unreachable!()).unwrap();
    let mut ws_a = opened.ws;
    ws_a.name = "secret-name-in-the-log".into();
    a.record(&ws_a).unwrap();
    let log = std::fs::read(persist::wal::path_for(&path)).unwrap();
    assert!(
        !log.windows(22).any(|w| w == b"secret-name-in-the-log"),
        "the log of a protected workspace is encrypted"
    );
    assert!(persist::load(&path).is_err(), "still needs the passphrase");
    assert_eq!(
        persist::load_with(&path, Some("correct horse"))
            .unwrap()
            .name,
        "secret-name-in-the-log"
    );
    // B opens the same file, logs a change; A's next change is refused, not interleaved.
    let (mut b, opened) = Store::open(&path, Some("correct horse"), || unreachable!()).unwrap();
    let mut ws_b = opened.ws;
    ws_b.name = "b".into();
    b.record(&ws_b).unwrap();
    ws_a.name = "a again".into();
    assert!(matches!(a.record(&ws_a), Err(StoreError::Conflict(_))));
    assert!(matches!(a.save(&ws_a), Err(StoreError::Conflict(_))));
    assert_eq!(
        persist::load_with(&path, Some("correct horse"))
            .unwrap()
            .name,
        "b"
    );
}

#[test]
fn a_log_whose_changes_break_the_workspace_is_refused_at_open() {
    use tde_console::persist::store::Store;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hostile.ron");
    let (ws, _) = setup(&FixtureKeys::new());
    persist::save(&ws, &path).unwrap();
    let (mut store, opened) = Store::open(&path, None, || unreachable!()).unwrap();
    let mut bad = opened.ws;
    // A change no operation can make: a protector that is not among the server's keys.
    if let Some(s) = bad.server_mut(common::SERVER) {
        s.protector.server_key_name = "no-such-key".into();
    }
    store.record(&bad).unwrap();
    let e = persist::load(&path).expect_err("refused").to_string();
    assert!(
        e.contains("hostile.ron.wal") && e.contains("no-such-key"),
        "{e}"
    );
}
