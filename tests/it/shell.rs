//! The az shell: the slice script, the documented CLI sequence, errors and exit codes.

use crate::common;

use common::FixtureKeys;
use std::process::Command;
use tde_console::model::Workspace;
use tde_console::service;
use tde_console::shell::Shell;

fn shell() -> (Shell, Workspace) {
    (
        Shell::new().with_keys(FixtureKeys::boxed()),
        service::new_workspace("t", 1),
    )
}

fn slice_script() -> String {
    std::fs::read_to_string(format!(
        "{}/tests/scripts/slice.azcli",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

#[test]
fn the_slice_script_gives_the_documented_states() {
    let (mut sh, mut ws) = shell();
    let out = sh.run_script(&mut ws, &slice_script(), false);
    assert_eq!(out.failures, 0, "stderr: {}", out.stderr);
    let lines: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();
    let states: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| matches!(*l, "Online" | "Inaccessible" | "AzureKeyVault"))
        .collect();
    assert_eq!(
        states,
        ["AzureKeyVault", "Online", "Inaccessible", "Online"],
        "stdout: {}",
        out.stdout
    );
}

#[test]
fn a_connection_to_an_inaccessible_database_gets_the_service_text() {
    let (mut sh, mut ws) = shell();
    let script = slice_script();
    let upto: String = script
        .lines()
        .take_while(|l| !l.starts_with("# Grant it back"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(sh.run_script(&mut ws, &upto, false).failures, 0);
    let r = sh.run_line(
        &mut ws,
        "sim connect --server sql-contoso-weu --database sales",
    );
    assert!(!r.ok);
    assert_eq!(
        r.stderr.trim(),
        "ERROR: (40613) Database 'sales' on server 'sql-contoso-weu' is not currently available. Please retry the connection later."
    );
}

#[test]
fn the_documented_cli_sequence_succeeds_without_waiting() {
    let (mut sh, mut ws) = shell();
    let script = r#"
az group create --name G --location eastus
az sql server create --name s1 --resource-group G --location eastus --admin-user U --admin-password 'Pa55w.rd!x' --assign-identity
az sql db create --name D --server s1 --resource-group G
az keyvault create --name vault1 --resource-group G --location eastus --enable-soft-delete true --enable-purge-protection true
az keyvault key create --name K --vault-name vault1 --protection software
KID=$(az keyvault key show --vault-name vault1 --name K --query key.kid -o tsv)
PID=$(az sql server show --name s1 --resource-group G --query identity.principalId -o tsv)
az keyvault set-policy --name vault1 --object-id $PID --resource-group G --key-permissions wrapKey unwrapKey get
az sql server key create --server s1 --resource-group G --kid $KID
az sql server tde-key set --server s1 --server-key-type AzureKeyVault --resource-group G --kid $KID
az sql db tde set --database D --server s1 --resource-group G --status Enabled
az sql db tde show --database D --server s1 --resource-group G
"#;
    let out = sh.run_script(&mut ws, script, false);
    assert_eq!(out.failures, 0, "stderr: {}", out.stderr);
    assert!(out.stdout.contains("\"state\": \"Enabled\""));
    let r = sh.run_line(
        &mut ws,
        "az sql server tde-key show --server s1 -g G --query '[serverKeyType, thumbprint]' -o tsv",
    );
    let fields: Vec<&str> = r.stdout.split_whitespace().collect();
    assert_eq!(fields[0], "AzureKeyVault");
    assert_eq!(fields[1].len(), 40);
    assert!(
        fields[1]
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase())
    );
}

#[test]
fn key_show_reports_public_parts_and_never_private_ones() {
    let (mut sh, mut ws) = shell();
    let out = sh.run_script(
        &mut ws,
        "az group create -n G -l eastus -o none\naz keyvault create -n vault1 -g G --enable-soft-delete true -o none\naz keyvault key create -n K --vault-name vault1\n",
        false,
    );
    assert_eq!(out.failures, 0, "{}", out.stderr);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert!(
        v["key"]["kid"]
            .as_str()
            .unwrap()
            .starts_with("https://vault1.vault.azure.net/keys/K/")
    );
    assert_eq!(v["key"]["e"], "AQAB");
    assert!(v["key"]["n"].as_str().unwrap().len() > 300);
    assert!(v["key"]["d"].is_null() && v["key"]["p"].is_null() && v["key"]["q"].is_null());
    assert_eq!(v["attributes"]["enabled"], true);
}

#[test]
fn errors_print_code_and_message_and_stop_the_script() {
    let (mut sh, mut ws) = shell();
    let out = sh.run_script(
        &mut ws,
        "az group create -n G -l narnia\naz group create -n G -l eastus\n",
        false,
    );
    assert_eq!(out.failures, 1);
    assert!(
        out.stderr.starts_with(
            "ERROR: (LocationNotAvailableForResourceType) The provided location 'narnia'"
        ),
        "{}",
        out.stderr
    );
    assert!(
        ws.resource_groups.is_empty(),
        "the script stopped at the first error"
    );
    let out = sh.run_script(
        &mut ws,
        "az group create -n G -l narnia\naz group create -n G -l eastus -o none\n",
        true,
    );
    assert_eq!(out.failures, 1);
    assert_eq!(
        ws.resource_groups.len(),
        1,
        "--keep-going ran the second line"
    );
    let r = sh.run_line(&mut ws, "az sql server show --name nope");
    assert!(
        r.stderr.starts_with("ERROR: (ResourceNotFound)"),
        "{}",
        r.stderr
    );
    let r = sh.run_line(&mut ws, "az group create --nmae G");
    // argparse names the word it could not place too.
    assert_eq!(r.stderr.trim(), "ERROR: unrecognized arguments: --nmae G");
    let r = sh.run_line(&mut ws, "az sql server tde-key set --server x");
    assert!(r.stderr.contains("required"), "{}", r.stderr);
    let r = sh.run_line(&mut ws, "az keyvault sho -n x");
    assert!(r.stderr.contains("Did you mean"), "{}", r.stderr);
}

#[test]
fn variables_braces_continuations_and_output_formats() {
    let (mut sh, mut ws) = shell();
    let out = sh.run_script(
        &mut ws,
        "L=westus2\nG=rg-${L}\naz group create \\\n  --name $G --location $L --query name -o tsv  # comment\naz group create -n x -l eastus -o table\n",
        false,
    );
    assert_eq!(out.failures, 0, "{}", out.stderr);
    let mut lines = out.stdout.lines();
    assert_eq!(lines.next(), Some("rg-westus2"));
    assert!(lines.next().unwrap().starts_with("Location"));
}

#[test]
fn the_binary_runs_a_script_in_a_fresh_process_and_saves_the_workspace() {
    let dir = std::env::temp_dir().join(format!("tde-console-shell-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ws = dir.join("slice.ron");
    let _ = std::fs::remove_file(&ws);
    let out = Command::new(env!("CARGO_BIN_EXE_tde-console"))
        .args([
            "shell",
            ws.to_str().unwrap(),
            "--script",
            &format!("{}/tests/scripts/slice.azcli", env!("CARGO_MANIFEST_DIR")),
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let states: Vec<&str> = stdout
        .lines()
        .filter(|l| matches!(*l, "Online" | "Inaccessible"))
        .collect();
    assert_eq!(states, ["Online", "Inaccessible", "Online"]);
    // The saved workspace reopens, with the clock where the script left it.
    let saved = tde_console::persist::load(&ws).unwrap();
    assert_eq!(saved.now().to_iso(), "2026-01-01T10:20:00+00:00");
    // A failing command: exit 1, ERROR line on stderr, the file still valid.
    let mut child = Command::new(env!("CARGO_BIN_EXE_tde-console"))
        .args(["shell", ws.to_str().unwrap()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"az sql db show -n nope -s sql-contoso-weu -g rg-tde\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("ERROR: (ResourceNotFound)"));
    assert!(tde_console::persist::load(&ws).is_ok());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn openssl_made_pem_keys_import_with_the_same_modulus_and_thumbprint() {
    let (mut sh, mut ws) = shell();
    let fx = |f: &str| format!("{}/tests/fixtures/{f}", env!("CARGO_MANIFEST_DIR"));
    assert_eq!(sh.run_script(&mut ws, "az group create -n G -l eastus -o none\naz keyvault create -n vault1 -g G --enable-soft-delete true -o none\n", false).failures, 0);
    // PKCS#8 and PKCS#1, both written by OpenSSL. The thumbprints below are OpenSSL's:
    //   openssl rsa -in F -RSAPublicKey_out -outform DER | sha1sum
    for (file, thumb) in [
        ("rsa2048-1.pem", "C1593207C6F7BA2EA0973E6F8330F35AF8EF2751"),
        (
            "rsa2048-2-pkcs1.pem",
            "057C16E94B9B67829D8162239DBCA3FC9EE0162E",
        ),
    ] {
        let name = file.trim_end_matches(".pem").replace('.', "-");
        let r = sh.run_line(&mut ws, &format!("az keyvault key import --vault-name vault1 --name {name} --pem-file {} --query key.n -o tsv", fx(file)));
        assert!(r.ok, "{}", r.stderr);
        assert!(r.stdout.trim().len() > 300);
        let k = ws.vault("vault1").unwrap().key(&name).unwrap();
        if !thumb.is_empty() {
            assert_eq!(k.current().unwrap().material.thumbprint(), thumb);
        }
    }
    let a = ws
        .vault("vault1")
        .unwrap()
        .key("rsa2048-2-pkcs1")
        .unwrap()
        .current()
        .unwrap()
        .material
        .rsa()
        .unwrap()
        .modulus();
    let b = tde_console::crypto::RsaKeyMaterial::from_pem(
        &std::fs::read_to_string(fx("rsa2048-2.pem")).unwrap(),
    )
    .unwrap()
    .modulus();
    assert_eq!(
        a, b,
        "PKCS#1 and PKCS#8 forms of one key import with the same modulus"
    );
    // EC, 1024-bit and damaged input: a clear error and nothing created.
    std::fs::write(
        std::env::temp_dir().join("tde-damaged.pem"),
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    for (file, words) in [
        (fx("ec-p256.pem"), "not"),
        (fx("rsa1024-1.pem"), "1024 bits"),
        (
            std::env::temp_dir()
                .join("tde-damaged.pem")
                .display()
                .to_string(),
            "damaged",
        ),
    ] {
        let before = ws.clone();
        let r = sh.run_line(
            &mut ws,
            &format!("az keyvault key import --vault-name vault1 --name bad --pem-file {file}"),
        );
        assert!(
            r.stderr.starts_with("ERROR: (BadParameter)") && r.stderr.contains(words),
            "{}",
            r.stderr
        );
        assert!(ws == before);
    }
}

#[test]
fn openssl_made_pfx_files_import_aes_and_3des_alike() {
    let (mut sh, mut ws) = shell();
    let fx = |f: &str| format!("{}/tests/fixtures/{f}", env!("CARGO_MANIFEST_DIR"));
    assert_eq!(sh.run_script(&mut ws, "az group create -n G -l eastus -o none\naz keyvault create -n vault1 -g G --enable-soft-delete true -o none\n", false).failures, 0);
    // OpenSSL's own figures for rsa2048-3.pem:
    //   openssl rsa -in rsa2048-3.pem -RSAPublicKey_out -outform DER | sha1sum
    let thumb = "C21337D063997BC3ECD66314012D6AE8332CF2D7";
    let modulus = tde_console::crypto::RsaKeyMaterial::from_pem(
        &std::fs::read_to_string(fx("rsa2048-3.pem")).unwrap(),
    )
    .unwrap()
    .modulus();
    for (file, name) in [
        ("rsa2048-3-aes.pfx", "from-aes"),
        ("rsa2048-3-3des.pfx", "from-3des"),
    ] {
        let r = sh.run_line(&mut ws, &format!("az keyvault key import --vault-name vault1 --name {name} --pfx-file {} --pfx-password Contoso-2026 -o none", fx(file)));
        assert!(r.ok, "{file}: {}", r.stderr);
        let m = &ws
            .vault("vault1")
            .unwrap()
            .key(name)
            .unwrap()
            .current()
            .unwrap()
            .material;
        assert_eq!(m.thumbprint(), thumb, "{file}");
        assert_eq!(m.rsa().unwrap().modulus(), modulus, "{file}");
    }
    // Wrong password, EC key, damaged file: a clear error and nothing created.
    let damaged = std::env::temp_dir().join(format!("tde-damaged-{}.pfx", std::process::id()));
    let mut bytes = std::fs::read(fx("rsa2048-3-aes.pfx")).unwrap();
    bytes.truncate(bytes.len() / 2);
    std::fs::write(&damaged, bytes).unwrap();
    for (file, password, words) in [
        (fx("rsa2048-3-aes.pfx"), "wrong", "password is wrong"),
        (fx("rsa2048-3-3des.pfx"), "wrong", "password is wrong"),
        (fx("ec-p256.pfx"), "Contoso-2026", "not an RSA key"),
        (damaged.display().to_string(), "Contoso-2026", "damaged"),
    ] {
        let before = ws.clone();
        let r = sh.run_line(&mut ws, &format!("az keyvault key import --vault-name vault1 --name bad --pfx-file {file} --pfx-password {password}"));
        assert!(
            r.stderr.starts_with("ERROR: (BadParameter)") && r.stderr.contains(words),
            "{file}: {}",
            r.stderr
        );
        assert!(ws == before);
    }
    let _ = std::fs::remove_file(&damaged);
}

#[test]
fn byok_kek_download_wrap_import_round_trip_and_wrong_kek_is_refused() {
    let (mut sh, mut ws) = shell();
    let dir = std::env::temp_dir().join(format!("tde-byok-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fx = |f: &str| format!("{}/tests/fixtures/{f}", env!("CARGO_MANIFEST_DIR"));
    let d = dir.display();
    let script = format!(
        r#"
az group create -n G -l eastus -o none
az keyvault create -n vault1 -g G --enable-soft-delete true -o none
az keyvault key create --vault-name vault1 --name kek --kty RSA-HSM --size 3072 --ops import -o none
az keyvault key create --vault-name vault1 --name other-kek --kty RSA-HSM --size 3072 --ops import -o none
KEK=$(az keyvault key show --vault-name vault1 --name kek --query key.kid -o tsv)
az keyvault key download --vault-name vault1 --name kek --file {d}/kek.pem
az keyvault key download --vault-name vault1 --name other-kek --file {d}/other.pem
sim byok wrap --pem-file {key} --kek-file {d}/kek.pem --kek-id $KEK --file {d}/key.byok -o none
sim byok wrap --pem-file {key} --kek-file {d}/other.pem --kek-id $KEK --file {d}/wrong.byok -o none
az keyvault key import --vault-name vault1 --name brought --byok-file {d}/key.byok --protection hsm --query key.kty -o tsv
"#,
        key = fx("rsa2048-5.pem")
    );
    let out = sh.run_script(&mut ws, &script, false);
    assert_eq!(out.failures, 0, "{}", out.stderr);
    assert_eq!(out.stdout, "RSA-HSM\n");
    // The public key file is public only.
    let kek_pem = std::fs::read_to_string(dir.join("kek.pem")).unwrap();
    assert!(kek_pem.starts_with("-----BEGIN PUBLIC KEY-----"));
    let original = tde_console::crypto::RsaKeyMaterial::from_pem(
        &std::fs::read_to_string(fx("rsa2048-5.pem")).unwrap(),
    )
    .unwrap();
    let brought = &ws
        .vault("vault1")
        .unwrap()
        .key("brought")
        .unwrap()
        .current()
        .unwrap()
        .material;
    assert_eq!(brought.thumbprint(), original.thumbprint());
    // Wrapped for another KEK, the wrong kty, a KEK that is not a KEK: refused, nothing made.
    for (args, words) in [
        (
            format!("--byok-file {d}/wrong.byok --protection hsm"),
            "does not open with the key-exchange key 'kek'",
        ),
        (
            format!("--byok-file {d}/key.byok --kty RSA"),
            "use --protection hsm",
        ),
        (
            format!("--byok-file {}", fx("rsa2048-1.pem")),
            "use --protection hsm",
        ),
        (
            format!("--byok-file {} --protection hsm", fx("rsa2048-1.pem")),
            "not a .byok file",
        ),
    ] {
        let before = ws.clone();
        let r = sh.run_line(
            &mut ws,
            &format!("az keyvault key import --vault-name vault1 --name bad {args}"),
        );
        assert!(r.stderr.contains(words), "{args}: {}", r.stderr);
        assert!(ws == before);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn hostile_lines_from_the_hardening_probe_get_clear_errors_and_change_nothing() {
    let (mut sh, mut ws) = shell();
    for l in [
        "az group create -n g1 -l eastus -o none",
        "az keyvault create -n kv-a -g g1 -l eastus -o none",
        "az keyvault create -n kv-b -g g1 -l eastus -o none",
    ] {
        let r = sh.run_line(&mut ws, l);
        assert!(r.ok, "{l}: {}", r.stderr);
    }
    let before = ws.clone();
    for (line, expected) in [
        // A slice step the jmespath crate would overflow on.
        (
            r#"az keyvault list --query "[1::2147483647]""#,
            "slice bounds and steps must be within",
        ),
        // Names Azure refuses.
        (
            "az group create -n .. -l eastus",
            "InvalidResourceGroupName",
        ),
        (
            "az group create -n g. -l eastus",
            "cannot end with a period",
        ),
        (
            "az lock create --name 'l ' --lock-type CanNotDelete --resource-group g1",
            "InvalidLockName",
        ),
        (
            "az keyvault set-policy --name kv-a --object-id not-a-guid --key-permissions get",
            "is not an object id",
        ),
    ] {
        let r = sh.run_line(&mut ws, line);
        assert!(!r.ok, "{line} was accepted");
        assert!(r.stderr.contains(expected), "{line}: {}", r.stderr);
        assert!(!r.stderr.contains("panicked"), "{line}: {}", r.stderr);
    }
    assert!(
        common::unchanged_but_its_trace(&ws, &before).is_some(),
        "nothing changed but the refused requests' records"
    );
    // Doubling a variable stops at the expansion limit with an error, not out of memory.
    let mut script =
        String::from("V=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n");
    for _ in 0..20 {
        script.push_str("V=$V$V$V$V\n");
    }
    let out = sh.run_script(&mut ws, &script, false);
    assert!(
        out.stderr.contains("expands to more than"),
        "{}",
        out.stderr
    );
}

#[test]
fn unquoted_expansions_split_into_words_as_bash_does() {
    let (mut sh, mut ws) = shell();
    let run = |sh: &mut Shell, ws: &mut Workspace, line: &str| {
        let r = sh.run_line(ws, line);
        assert!(r.ok, "{line}: {}", r.stderr);
        r.stdout
    };
    run(&mut sh, &mut ws, "X='a  b'");
    assert_eq!(run(&mut sh, &mut ws, "echo $X"), "a b\n");
    assert_eq!(run(&mut sh, &mut ws, "echo \"$X\""), "a  b\n");
    assert_eq!(run(&mut sh, &mut ws, "echo [$X]"), "[a b]\n");
    assert_eq!(run(&mut sh, &mut ws, "echo 1 $NOTHING 2"), "1 2\n");
    assert_eq!(run(&mut sh, &mut ws, "echo 1 \"$NOTHING\" 2"), "1  2\n");
    assert_eq!(run(&mut sh, &mut ws, "echo x$(echo ' p q ')y"), "x p q y\n");
}

#[test]
fn every_command_answers_help_and_help_changes_nothing() {
    use tde_console::shell::registry;
    let mut sh = Shell::new().with_keys(FixtureKeys::boxed());
    let mut ws = tde_console::persist::demo().unwrap();
    let before = ws.clone();
    let listing = sh.run_line(&mut ws, "help").stdout;
    for cmd in registry::all() {
        let name = cmd.name;
        assert!(listing.contains(name), "'help' lists {name}");
        for flag in ["--help", "-h"] {
            let r = sh.run_line(&mut ws, &format!("{name} {flag}"));
            assert!(r.ok, "{name} {flag}: {}", r.stderr);
            assert!(
                r.stdout
                    .contains(&format!("Command\n    {name} : {}\n", cmd.summary)),
                "{name} {flag}: {}",
                r.stdout
            );
            // az's own arguments where az's table has the command.
            match tde_console::shell::az_table::arguments(name) {
                Some(table) => {
                    for a in table.iter().filter(|a| a.options[0] != "--output") {
                        let first = &a.options[0];
                        let listed = r.stdout.contains(&format!("\n    {first}"))
                            || ["--query", "--subscription", "--verbose", "--debug"]
                                .contains(&first.as_str())
                            || tde_console::shell::az_table::IGNORED.contains(&first.as_str());
                        assert!(listed, "{name}: {first}");
                    }
                }
                None => {
                    for a in cmd.arguments {
                        assert!(r.stdout.contains(&format!("\n    {a}")), "{name}: {a}");
                    }
                }
            }
        }
    }
    assert!(ws.same_as(&before), "help changed the workspace");
    // Every group lists its commands with their summaries.
    let r = sh.run_line(&mut ws, "az keyvault key --help");
    assert!(
        r.ok && r
            .stdout
            .contains("rotation-policy update : Update the rotation policy"),
        "{}",
        r.stdout
    );
    let r = sh.run_line(&mut ws, "az sql mi --help");
    assert!(r.ok && r.stdout.contains("tde-key set"), "{}", r.stdout);
}

/// Every registered command dispatches to its handler: an argument it does not declare is
/// refused by the registry, and run bare it answers with its own error (or output), never
/// "not a command", and never a panic. Each runs on a fresh copy of the demo.
#[test]
fn every_registered_command_dispatches() {
    use tde_console::shell::registry;
    let demo = tde_console::persist::demo().unwrap();
    let mut sh = Shell::new().with_keys(FixtureKeys::boxed());
    for cmd in registry::all() {
        let name = cmd.name;
        if name == "sim webhook listen" || name == "sim generate" {
            continue; // binds a port / builds an estate: covered by their own tests
        }
        let mut ws = demo.clone();
        let r = sh.run_line(&mut ws, &format!("{name} --no-such-flag 1"));
        assert!(!r.ok, "{name}");
        assert!(
            r.stderr.contains("unrecognized arguments: --no-such-flag"),
            "{name}: {}",
            r.stderr
        );
        assert!(
            ws.same_as(&demo),
            "{name}: a refused line changed the workspace"
        );
        let r = sh.run_line(&mut ws, name);
        assert!(
            !r.stderr.contains("not a command") && !r.stderr.contains("misspelled"),
            "{name}: {}",
            r.stderr
        );
    }
}

/// Issue 21: standard input is bounded as a script file is (16 MiB): a larger script is
/// refused with exit code 2 and nothing is saved, and `shell < /dev/zero` ends promptly.
#[test]
fn a_script_on_standard_input_larger_than_a_script_file_is_refused() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("w.ron");
    let mut child = Command::new(env!("CARGO_BIN_EXE_tde-console"))
        .args(["shell", ws.to_str().unwrap()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        // A valid command first, so "nothing was run" is checked too; then 17 MiB of zeros.
        let mut sent = 0usize;
        let _ = stdin.write_all(b"az group create -n rg-never -l eastus -o none\n");
        let zeros = vec![0u8; 1024 * 1024];
        for _ in 0..17 {
            // The console stops reading at its limit: a broken pipe is expected.
            if stdin.write_all(&zeros).is_err() {
                break;
            }
            sent += zeros.len();
        }
        sent
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("larger than 16777216 bytes")
            && stderr.contains("nothing was run or saved"),
        "{stderr}"
    );
    assert!(!ws.exists(), "nothing saved");
    // /dev/zero itself: refused at the limit, promptly.
    let started = std::time::Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_tde-console"))
        .args(["shell", ws.to_str().unwrap()])
        .stdin(std::fs::File::open("/dev/zero").unwrap())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    assert!(!ws.exists(), "nothing saved");
}

/// The high-water mark of a process's resident memory, in KiB (Linux).
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Issue 21: `serve` reads standard input a bounded line at a time: a 64 MiB line is refused
/// with an error on stderr without being buffered, and the next line runs.
#[test]
fn serve_refuses_an_overlong_line_on_standard_input_and_reads_on() {
    use std::io::{BufRead, Read, Write};
    let mut child = Command::new(env!("CARGO_BIN_EXE_tde-console"))
        .args(["serve", "--port", "0"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut stderr = child.stderr.take().unwrap();
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let wait_for = |what: &str| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while std::time::Instant::now() < deadline {
            if let Ok(l) = rx.recv_timeout(std::time::Duration::from_millis(200))
                && l.contains(what)
            {
                return true;
            }
        }
        false
    };
    assert!(wait_for("\"token\""), "serve started");
    let before = peak_rss_kib(pid).expect("VmHWM");
    let mut stdin = child.stdin.take().unwrap();
    let chunk = vec![b'a'; 1024 * 1024];
    for _ in 0..64 {
        stdin.write_all(&chunk).unwrap();
    }
    stdin
        .write_all(b"\naz group create -n rg-after-the-long-line -l eastus --query name -o tsv\n")
        .unwrap();
    stdin.flush().unwrap();
    let ran = wait_for("rg-after-the-long-line");
    let after = peak_rss_kib(pid).expect("VmHWM");
    let _ = child.kill();
    let _ = child.wait();
    let stderr = errors.join().unwrap();
    assert!(ran, "the line after the long one ran; stderr: {stderr}");
    assert_eq!(
        stderr
            .matches("a line of standard input longer than 1048576 bytes was ignored")
            .count(),
        1,
        "{stderr}"
    );
    assert!(
        after.saturating_sub(before) < 32 * 1024,
        "the long line was not buffered: peak RSS {before} KiB -> {after} KiB"
    );
}

#[test]
fn command_lists_run_with_bash_semantics() {
    let (mut sh, mut ws) = shell();
    let r = sh.run_line(&mut ws, "A=1; B=2");
    assert!(r.ok);
    assert_eq!(sh.vars.get("A").map(String::as_str), Some("1"));
    assert_eq!(sh.vars.get("B").map(String::as_str), Some("2"));
    let r = sh.run_line(&mut ws, "echo one && echo two");
    assert_eq!(r.stdout, "one\ntwo\n");
    let r = sh.run_line(&mut ws, "false && echo no; echo yes");
    assert_eq!((r.stdout.as_str(), r.ok), ("yes\n", true));
    let r = sh.run_line(&mut ws, "az group show --name nope || echo fallback");
    assert!(r.ok, "{r:?}");
    assert_eq!(r.stdout, "fallback\n");
    assert!(r.stderr.starts_with("ERROR: "), "{}", r.stderr);
    let r = sh.run_line(&mut ws, "echo a && az group show --name nope");
    assert!(!r.ok);
    assert_eq!(r.stdout, "a\n");
    let r = sh.run_line(&mut ws, "echo ok || echo skipped");
    assert_eq!(r.stdout, "ok\n");
    let r = sh.run_line(&mut ws, r#"echo "a || b; c && d" 'e;f'"#);
    assert_eq!(r.stdout, "a || b; c && d e;f\n");
    let r = sh.run_line(&mut ws, "X=\"$(echo in; echo side)\" && echo \"$X\"");
    assert_eq!(r.stdout, "in\nside\n");
    let r = sh.run_line(&mut ws, "echo shown # ; echo hidden");
    assert_eq!(r.stdout, "shown\n");
    let r = sh.run_line(&mut ws, "echo a ;; echo b");
    assert!(!r.ok);
    assert_eq!(r.stderr, "bash: syntax error near unexpected token `;;'\n");
    // A script stops at a line whose last command failed, not at one that recovered.
    let out = sh.run_script(
        &mut ws,
        "az group show --name nope || echo recovered\necho next\n",
        false,
    );
    assert_eq!(out.failures, 0);
    assert_eq!(out.stdout, "recovered\nnext\n");
}

#[test]
fn a_quoted_query_keeps_its_operators() {
    let (mut sh, mut ws) = shell();
    let r = sh.run_line(
        &mut ws,
        r#"az group create --name g1 --location eastus --query "name || location" -o tsv && echo done"#,
    );
    assert!(r.ok, "{}", r.stderr);
    assert_eq!(r.stdout, "g1\ndone\n");
}

#[test]
fn random_pid_let_and_arithmetic() {
    let (mut sh, mut ws) = shell();
    for _ in 0..50 {
        let r = sh.run_line(&mut ws, "echo $RANDOM");
        let v: i64 = r.stdout.trim().parse().unwrap();
        assert!((0..32768).contains(&v));
    }
    // Deterministic from the workspace's seeded generator.
    let (mut sh2, mut ws2) = shell();
    let a = sh.run_line(&mut service::new_workspace("t", 1), "echo $RANDOM $RANDOM");
    let b = sh2.run_line(&mut ws2, "echo $RANDOM $RANDOM");
    assert_eq!(a.stdout, b.stdout);
    assert_ne!(
        sh2.run_line(&mut ws2, "echo $RANDOM $RANDOM").stdout,
        b.stdout
    );
    let r = sh.run_line(&mut ws, "echo $$");
    assert_eq!(r.stdout.trim(), std::process::id().to_string());
    assert!(sh.run_line(&mut ws, "let \"x=6*7\"").ok);
    assert_eq!(sh.vars.get("x").map(String::as_str), Some("42"));
    assert!(sh.run_line(&mut ws, "let y=x+1").ok);
    assert_eq!(sh.vars.get("y").map(String::as_str), Some("43"));
    let r = sh.run_line(&mut ws, "echo $(( (y - $x) * 10 % 7 )) $((2**62*4))");
    assert_eq!(r.stdout, "3 0\n");
    let r = sh.run_line(&mut ws, "echo $(( $(echo 3) + 1 ))");
    assert_eq!(r.stdout, "4\n");
    let r = sh.run_line(&mut ws, "echo \"n=$((x / 5))\"");
    assert_eq!(r.stdout, "n=8\n");
    let r = sh.run_line(&mut ws, "echo $((1/0))");
    assert!(!r.ok);
    assert_eq!(
        r.stderr,
        "bash: 1/0: division by 0 (error token is \"0\")\n"
    );
    let r = sh.run_line(&mut ws, "let \"z=x/0\"");
    assert!(!r.ok);
    assert_eq!(
        r.stderr,
        "bash: let: z=x/0: division by 0 (error token is \"0\")\n"
    );
    // As in bash, `let` fails when its value is 0.
    assert!(!sh.run_line(&mut ws, "let z=0").ok);
    let r = sh.run_line(&mut ws, "let \"w=9223372036854775807+1\"; echo $w");
    assert_eq!(r.stdout, "-9223372036854775808\n");
}

#[test]
fn export_defaults_and_braces() {
    let (mut sh, mut ws) = shell();
    assert!(sh.run_line(&mut ws, "export LOC=eastus").ok);
    assert_eq!(sh.vars.get("LOC").map(String::as_str), Some("eastus"));
    assert!(sh.run_line(&mut ws, "export LOC").ok);
    let r = sh.run_line(&mut ws, "echo ${LOC}-1 ${NOPE:-fallback $LOC} \"${NOPE}\"x");
    assert_eq!(r.stdout, "eastus-1 fallback eastus x\n");
    assert!(!sh.vars.contains_key("NOPE"));
    let r = sh.run_line(&mut ws, "echo ${NOPE:=set-now}; echo $NOPE");
    assert_eq!(r.stdout, "set-now\nset-now\n");
    let r = sh.run_line(&mut ws, "echo ${LOC:-other}");
    assert_eq!(r.stdout, "eastus\n");
    let r = sh.run_line(&mut ws, "echo ${LOC:%}");
    assert!(!r.ok);
    assert!(r.stderr.starts_with("bash: "), "{}", r.stderr);
}

#[test]
fn redirections_discard_or_merge_streams() {
    let (mut sh, mut ws) = shell();
    let r = sh.run_line(
        &mut ws,
        "az group create --name g1 --location eastus > /dev/null",
    );
    assert!(r.ok);
    assert_eq!(r.stdout, "");
    let r = sh.run_line(&mut ws, "az group show --name g1 >/dev/null && echo exists");
    assert_eq!(r.stdout, "exists\n");
    let r = sh.run_line(
        &mut ws,
        "az group show --name nope 2> /dev/null || echo missing",
    );
    assert_eq!((r.stdout.as_str(), r.stderr.as_str()), ("missing\n", ""));
    let r = sh.run_line(&mut ws, "az group show --name nope 2>&1");
    assert!(!r.ok);
    assert!(r.stdout.starts_with("ERROR: "), "{r:?}");
    assert_eq!(r.stderr, "");
    let r = sh.run_line(&mut ws, "az group show --name nope &> /dev/null");
    assert_eq!(
        (r.stdout.as_str(), r.stderr.as_str(), r.ok),
        ("", "", false)
    );
    let r = sh.run_line(&mut ws, "az group show --name g1 > /dev/null 2>&1; echo $?");
    assert_eq!(r.stdout, "0\n");
    let r = sh.run_line(&mut ws, "echo to-stderr >&2");
    assert_eq!((r.stdout.as_str(), r.stderr.as_str()), ("", "to-stderr\n"));
    let r = sh.run_line(
        &mut ws,
        "X=$(az group show --name nope 2>&1 || echo caught)",
    );
    assert!(r.ok, "{r:?}");
    // A file is refused, clearly, and nothing runs.
    let r = sh.run_line(
        &mut ws,
        "az group create --name g2 --location eastus > out.json",
    );
    assert!(!r.ok);
    assert!(
        r.stderr
            .starts_with("bash: out.json: redirection to a file is not supported")
    );
    assert!(!sh.run_line(&mut ws, "az group show --name g2").ok);
}

#[test]
fn microsofts_sample_opening_lines_run_verbatim() {
    let (mut sh, mut ws) = shell();
    let script = r#"let "randomIdentifier=$RANDOM*$RANDOM"
location="East US"
resourceGroup="msdocs-azuresql-rg-$randomIdentifier"
echo "Using resource group $resourceGroup with login: $login, password: $password..."
az group create --name $resourceGroup --location "$location" --tags $tag
"#;
    let out = sh.run_script(&mut ws, script, false);
    assert_eq!(out.failures, 0, "{}", out.stderr);
    let id = sh.vars.get("randomIdentifier").cloned().unwrap_or_default();
    let n: i64 = id.parse().unwrap();
    assert!((0..32768 * 32768).contains(&n));
    assert!(out.stdout.starts_with(&format!(
        "Using resource group msdocs-azuresql-rg-{id} with login: , password: ...\n"
    )));
    assert!(out.stdout.contains(&format!("msdocs-azuresql-rg-{id}")));
}

#[test]
fn odd_bash_lines_fail_cleanly_without_panics() {
    let (mut sh, mut ws) = shell();
    let lines = [
        "echo $((",
        "echo ${",
        "echo $(( 1",
        "echo hi >&",
        "echo hi 2>&",
        "echo hi &>",
        "let",
        "let x=",
        "echo ${:-}",
        "echo ${?:=1}",
        "echo $((${x}+1)) $((x++))",
        "echo \"$((2**63))\" $((-9223372036854775808 / -1)) $((-9223372036854775808 % -1))",
        "echo ${RANDOM:-x} ${$}",
        "a=1 && b=$((a+1)) && echo $b",
        ";",
        "&&",
        "|| echo",
        "echo $(( ((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((1 ))",
    ];
    for line in lines {
        let r = sh.run_line(&mut ws, line);
        assert!(!r.stderr.contains("InternalError"), "{line}: {}", r.stderr);
        if !r.ok {
            assert!(
                r.stderr.starts_with("bash: ") || r.stderr.starts_with("ERROR: "),
                "{line}: {}",
                r.stderr
            );
        }
    }
}

/// Runs a script that must succeed; its standard output.
fn ok(sh: &mut Shell, ws: &mut Workspace, script: &str) -> String {
    let out = sh.run_script(ws, script, false);
    assert_eq!(out.failures, 0, "{}", out.stderr);
    out.stdout
}

const SAMPLE_SERVER: &str = r#"
location="East US"
resourceGroup="msdocs-azuresql-rg"
server="msdocs-azuresql-server"
database="msdocsazuresqldb"
login="azureuser"
password="Pa$$w0rD-2026"
startIp=0.0.0.0
endIp=0.0.0.0
az group create --name $resourceGroup --location "$location" -o none
az sql server create --name $server --resource-group $resourceGroup --location "$location" --admin-user $login --admin-password $password -o none
"#;

#[test]
fn every_edition_and_service_objective_az_accepts_is_kept_as_given() {
    let (mut sh, mut ws) = shell();
    ok(&mut sh, &mut ws, SAMPLE_SERVER);
    // Microsoft's samples: an S0 Standard database, a serverless AdventureWorksLT.
    let out = ok(
        &mut sh,
        &mut ws,
        "az sql db create --resource-group $resourceGroup --server $server --name $database --edition Standard --service-objective S0 --query \"[sku.name, sku.tier, to_string(sku.capacity), currentServiceObjectiveName, requestedServiceObjectiveName, edition]\" -o tsv",
    );
    assert_eq!(out, "Standard\nStandard\n10\nS0\nS0\nStandard\n");
    let out = ok(
        &mut sh,
        &mut ws,
        "az sql db create --resource-group $resourceGroup --server $server --name lt --sample-name AdventureWorksLT --edition GeneralPurpose --compute-model Serverless --family Gen5 --capacity 2 --query \"[sku.name, currentServiceObjectiveName, sampleName, kind]\" -o tsv",
    );
    assert_eq!(
        out,
        "GP_S_Gen5\nGP_S_Gen5_2\nAdventureWorksLT\nv12.0,user,vcore,serverless\n"
    );
    let out = ok(
        &mut sh,
        &mut ws,
        "az sql db create -g $resourceGroup -s $server -n basic -e Basic --query currentServiceObjectiveName -o tsv\naz sql db create -g $resourceGroup -s $server -n p1 --service-objective P1 --query edition -o tsv\naz sql db create -g $resourceGroup -s $server -n hs --service-objective HS_Gen5_4 --query \"[edition, to_string(sku.capacity)]\" -o tsv\naz sql db create -g $resourceGroup -s $server -n dw --service-objective DW100c --query edition -o tsv\naz sql db create -g $resourceGroup -s $server -n plain --query currentServiceObjectiveName -o tsv",
    );
    assert_eq!(
        out,
        "Basic\nPremium\nHyperscale\n4\nDataWarehouse\nGP_Gen5_2\n"
    );
    // Update: capacity, zone redundancy, backup storage redundancy, stored and shown.
    let out = ok(
        &mut sh,
        &mut ws,
        "az sql db update -g $resourceGroup -s $server -n lt --capacity 4 -o none\naz sql db update -g $resourceGroup -s $server -n plain --zone-redundant true --backup-storage-redundancy Zone -o none\naz sql db update -g $resourceGroup -s $server -n $database --service-objective S3 -o none\naz sql db show -g $resourceGroup -s $server -n lt --query currentServiceObjectiveName -o tsv\naz sql db show -g $resourceGroup -s $server -n plain --query \"[to_string(zoneRedundant), currentBackupStorageRedundancy]\" -o tsv\naz sql db show -g $resourceGroup -s $server -n $database --query \"[currentServiceObjectiveName, to_string(sku.capacity)]\" -o tsv",
    );
    assert_eq!(out, "GP_S_Gen5_4\ntrue\nZone\nS3\n100\n");
    // Restore (the sample's --edition Standard --service-objective S0) and copy keep them.
    let t = ws.now().to_iso();
    let out = ok(
        &mut sh,
        &mut ws,
        &format!(
            "sim clock advance 30m -o none\naz sql db restore --dest-name restored --edition Standard --name $database --resource-group $resourceGroup --server $server --service-objective S0 --time {t} --query currentServiceObjectiveName -o tsv\naz sql db copy --dest-name copied --name $database --resource-group $resourceGroup --server $server --query currentServiceObjectiveName -o tsv\naz sql db copy --dest-name copied-p --name $database --resource-group $resourceGroup --server $server --service-objective P2 --query currentServiceObjectiveName -o tsv"
        ),
    );
    assert_eq!(out, "S0\nS3\nP2\n");
    // What az or the service refuses changes nothing.
    let before = ws.clone();
    for (line, says) in [
        (
            "az sql db create -g $resourceGroup -s $server -n bad --edition Standard --service-objective P1",
            "does not support the service objective 'P1'",
        ),
        (
            "az sql db create -g $resourceGroup -s $server -n bad --service-objective S5",
            "InvalidServiceObjective",
        ),
        (
            "az sql db create -g $resourceGroup -s $server -n bad --compute-model Elastic",
            "invalid choice: 'Elastic'",
        ),
        (
            "az sql db create -g $resourceGroup -s $server -n bad --backup-storage-redundancy Far",
            "invalid choice: 'Far'",
        ),
        (
            "az sql db create -g $resourceGroup -s $server -n bad --sample-name Northwind",
            "invalid choice: 'Northwind'",
        ),
        (
            "az sql db update -g $resourceGroup -s $server -n lt --capacity 3",
            "capacity 3",
        ),
        (
            "az sql db update -g $resourceGroup -s $server -n lt --capacity two",
            "invalid int value: 'two'",
        ),
        (
            "az sql db create -g $resourceGroup -s $server -n bad --edition BusinessCritical --compute-model Serverless",
            "serverless",
        ),
    ] {
        let r = sh.run_line(&mut ws, line);
        assert!(!r.ok && r.stderr.contains(says), "{line}: {}", r.stderr);
        assert!(ws.same_as(&before), "{line} changed the workspace");
    }
}

#[test]
fn server_firewall_rules_are_stored_resources_deleted_with_their_rules_commands() {
    let (mut sh, mut ws) = shell();
    ok(&mut sh, &mut ws, SAMPLE_SERVER);
    // Microsoft's sample line, then show, list, update and delete.
    let out = ok(
        &mut sh,
        &mut ws,
        "az sql server firewall-rule create --resource-group $resourceGroup --server $server -n AllowYourIp --start-ip-address $startIp --end-ip-address $endIp --query \"[name, startIpAddress, endIpAddress, type]\" -o tsv\naz sql server firewall-rule create -g $resourceGroup -s $server -n office --start-ip-address 203.0.113.1 --end-ip-address 203.0.113.20 -o none\naz sql server firewall-rule show -g $resourceGroup -s $server -n office --query endIpAddress -o tsv\naz sql server firewall-rule update -g $resourceGroup -s $server -n office --end-ip-address 203.0.113.99 --query \"[startIpAddress, endIpAddress]\" -o tsv\naz sql server firewall-rule list -g $resourceGroup -s $server --query \"[].name\" -o tsv",
    );
    assert_eq!(
        out,
        "AllowYourIp\n0.0.0.0\n0.0.0.0\nMicrosoft.Sql/servers/firewallRules\n203.0.113.20\n203.0.113.1\n203.0.113.99\nAllowYourIp\noffice\n"
    );
    let before = ws.clone();
    for (line, says) in [
        (
            "az sql server firewall-rule create -g $resourceGroup -s $server -n x --start-ip-address 10.0.0.256 --end-ip-address 10.0.1.1",
            "Invalid value provided for parameter: startIpAddress",
        ),
        (
            "az sql server firewall-rule create -g $resourceGroup -s $server -n x --start-ip-address 10.0.0.9 --end-ip-address 10.0.0.1",
            "greater than its end IP address",
        ),
        (
            "az sql server firewall-rule create -g $resourceGroup -s $server -n x --start-ip-address 10.0.0.1",
            "the following arguments are required: --end-ip-address",
        ),
        (
            "az sql server firewall-rule show -g $resourceGroup -s $server -n nope",
            "ResourceNotFound",
        ),
        (
            "az sql server firewall-rule update -g $resourceGroup -s $server -n office --end-ip-address ::1",
            "endIpAddress",
        ),
    ] {
        let r = sh.run_line(&mut ws, line);
        assert!(!r.ok && r.stderr.contains(says), "{line}: {}", r.stderr);
        assert!(ws.same_as(&before), "{line} changed the workspace");
    }
    ok(
        &mut sh,
        &mut ws,
        "az sql server firewall-rule delete -g $resourceGroup -s $server -n office",
    );
    let rules = &ws.server("msdocs-azuresql-server").unwrap().firewall_rules;
    assert_eq!(rules.len(), 1);
    // The rules live on the server: a file written and read back keeps them.
    let text = tde_console::persist::to_ron(&ws).unwrap();
    let back = tde_console::persist::from_ron(&text, std::path::Path::new("t.ron")).unwrap();
    assert_eq!(
        back.server("msdocs-azuresql-server")
            .unwrap()
            .firewall_rules,
        *rules
    );
}

/// Microsoft's sample "Copy a database to a new server", then the same under a
/// customer-managed protector: the target server needs the key material first.
#[test]
fn a_copy_has_its_own_dek_and_the_same_data_and_under_cmk_needs_the_key_material() {
    let (mut sh, mut ws) = shell();
    ok(&mut sh, &mut ws, SAMPLE_SERVER);
    ok(
        &mut sh,
        &mut ws,
        r#"targetResourceGroup="msdocs-azuresql-targetrg"
targetLocation="Central US"
targetServer="msdocs-azuresql-targetserver"
targetDatabase="msdocs-azuresql-targetdatabase"
az sql db create --name $database --resource-group $resourceGroup --server $server --service-objective S0 -o none
sim write --server $server --database $database --text "rows to copy"
az group create --name $targetResourceGroup --location "$targetLocation" -o none
az sql server create --name $targetServer --resource-group $targetResourceGroup --location "$targetLocation" --admin-user $login --admin-password $password --assign-identity -o none
az sql db copy --dest-name $targetDatabase --dest-resource-group $targetResourceGroup --dest-server $targetServer --name $database --resource-group $resourceGroup --server $server -o none
az sql db copy --dest-name tagged --name $database --resource-group $resourceGroup --server $server --tags team=orders -o none
"#,
    );
    let src = ws
        .server("msdocs-azuresql-server")
        .unwrap()
        .database("msdocsazuresqldb")
        .unwrap()
        .clone();
    let copy = ws
        .server("msdocs-azuresql-targetserver")
        .unwrap()
        .database("msdocs-azuresql-targetdatabase")
        .unwrap()
        .clone();
    assert_ne!(
        src.dek.as_ref().unwrap().wrapped,
        copy.dek.as_ref().unwrap().wrapped
    );
    assert_ne!(
        src.pages, copy.pages,
        "re-encrypted under the copy's own DEK"
    );
    assert_eq!(
        tde_console::service::sql::read_pages(&ws, "msdocs-azuresql-targetserver", &copy.name)
            .unwrap(),
        tde_console::service::sql::read_pages(&ws, "msdocs-azuresql-server", &src.name).unwrap()
    );
    assert_eq!(copy.sku.as_ref().unwrap().service_objective, "S0");
    let tagged = ws
        .server("msdocs-azuresql-server")
        .unwrap()
        .database("tagged")
        .unwrap();
    assert_eq!(tagged.tags, [("team".to_string(), "orders".to_string())]);
    let out = ok(
        &mut sh,
        &mut ws,
        "sim read --server $targetServer --database $targetDatabase --query text -o tsv",
    );
    assert_eq!(out.trim(), "rows to copy");
    assert!(
        ws.activity_log
            .iter()
            .any(|e| e.message.contains("created as a copy of"))
    );
    // A customer-managed protector on the source server.
    ok(
        &mut sh,
        &mut ws,
        r#"az sql server update --name $server --resource-group $resourceGroup -i -o none
PRINCIPAL=$(az sql server show --name $server --resource-group $resourceGroup --query identity.principalId -o tsv)
TARGET_PRINCIPAL=$(az sql server show --name $targetServer --resource-group $targetResourceGroup --query identity.principalId -o tsv)
az keyvault create --name kv-copy --resource-group $resourceGroup --location eastus --enable-purge-protection true -o none
az keyvault set-policy --name kv-copy --object-id $PRINCIPAL --key-permissions get wrapKey unwrapKey -o none
az keyvault set-policy --name kv-copy --object-id $TARGET_PRINCIPAL --key-permissions get wrapKey unwrapKey -o none
KID=$(az keyvault key create --name tde --vault-name kv-copy --kty RSA --size 2048 --query key.kid -o tsv)
az sql server key create --server $server --resource-group $resourceGroup --kid $KID -o none
az sql server tde-key set --server $server --resource-group $resourceGroup --server-key-type AzureKeyVault --kid $KID -o none
"#,
    );
    let before = ws.clone();
    let r = sh.run_line(
        &mut ws,
        "az sql db copy --dest-name second --dest-resource-group $targetResourceGroup --dest-server $targetServer --name $database --resource-group $resourceGroup --server $server",
    );
    assert!(!r.ok, "{}", r.stdout);
    assert!(
        r.stderr.contains("KeyMaterialNotFoundOnRemoteServer")
            && r.stderr.contains(
                "Remote server does not have access to key material used as a TDE protector."
            ),
        "{}",
        r.stderr
    );
    assert!(ws.same_as(&before));
    ok(
        &mut sh,
        &mut ws,
        "az sql server key create --server $targetServer --resource-group $targetResourceGroup --kid $KID -o none\naz sql db copy --dest-name second --dest-resource-group $targetResourceGroup --dest-server $targetServer --name $database --resource-group $resourceGroup --server $server -o none",
    );
    assert_eq!(
        ok(
            &mut sh,
            &mut ws,
            "sim read --server $targetServer --database second --query text -o tsv"
        )
        .trim(),
        "rows to copy"
    );
}

#[test]
fn new_vaults_have_soft_delete_on_by_default_under_both_profiles() {
    for profile in ["2021", "current"] {
        let (mut sh, mut ws) = shell();
        let out = ok(
            &mut sh,
            &mut ws,
            &format!(
                "sim profile set {profile}\naz group create -n G -l eastus -o none\naz keyvault create -n kv-default -g G -l eastus --query properties.enableSoftDelete -o tsv"
            ),
        );
        assert!(out.ends_with("\nTrue\n"), "{profile}: {out}");
    }
    // Under the 2021 profile, only an explicit `false` makes a vault without it.
    let (mut sh, mut ws) = shell();
    let out = ok(
        &mut sh,
        &mut ws,
        "sim profile set 2021\naz group create -n G -l eastus -o none\naz keyvault create -n kv-off -g G -l eastus --enable-soft-delete false --query properties.enableSoftDelete -o tsv",
    );
    assert!(out.ends_with("\nFalse\n"), "{out}");
}

/// Issue 22, item 2: a bash script runs under the system's bash, `az`, `sim` and `date`
/// answered by the console that holds the workspace; every idiom is bash's own.
mod real_bash {
    use super::*;
    use tde_console::shell::bridge;

    fn script(name: &str) -> String {
        format!("{}/tests/scripts/{name}", env!("CARGO_MANIFEST_DIR"))
    }

    /// The console run on `ws` with `args`, its temporary files under `tmp`.
    fn console(tmp: &std::path::Path, args: &[&str]) -> std::process::Output {
        Command::new(env!("CARGO_BIN_EXE_tde-console"))
            .args(args)
            .env("TMPDIR", tmp)
            .env_remove(bridge::BUILTIN_ENV)
            .env_remove("BASH_ENV")
            .output()
            .unwrap()
    }

    #[test]
    fn a_microsoft_style_sample_script_runs_and_leaves_its_documented_state() {
        if bridge::find_bash().is_none() {
            eprintln!("skipped: there is no bash on this system");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let tmp = dir.path().join("tmp");
        std::fs::create_dir(&tmp).unwrap();
        let ws = dir.path().join("w.ron");
        let ws_arg = ws.to_str().unwrap();
        let out = console(
            &tmp,
            &["shell", ws_arg, "--script", &script("ms-sample-byok.sh")],
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        // The last line's az error (ResourceNotFound: 1) ends the script under `set -e`.
        assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
        assert!(stderr.starts_with("ERROR: (ResourceNotFound)"), "{stderr}");
        assert!(!stdout.contains("never printed"), "{stdout}");
        assert!(
            stdout.contains("protector: AzureKeyVault (2 databases)\n"),
            "{stdout}"
        );
        assert!(stdout.contains("databases: 2\n"), "{stdout}");
        // `date` is the simulated clock's: 09:00 on the first day, plus the hour advanced.
        assert!(stdout.contains("done at 1767261600\n"), "{stdout}");
        // `$RANDOM` is not empty: every name has its number.
        let server = stdout
            .lines()
            .find_map(|l| l.strip_prefix("server: "))
            .expect("the server's name");
        assert!(server.len() > "msdocs-azuresql-server-".len(), "{server}");
        // The workspace was saved with what the script did; the private directory is gone.
        let mut saved = tde_console::persist::load(&ws).unwrap();
        assert_eq!(saved.now().0, 1_767_261_600);
        let mut sh = Shell::new().with_keys(FixtureKeys::boxed());
        let rg = server.replace("server", "rg");
        let r = sh.run_line(
            &mut saved,
            &format!(
                "az sql server tde-key show --server {server} --resource-group {rg} --query serverKeyType -o tsv"
            ),
        );
        assert_eq!(r.stdout, "AzureKeyVault\n", "{}", r.stderr);
        assert_eq!(
            std::fs::read_dir(&tmp).unwrap().count(),
            0,
            "left in TMPDIR"
        );
        // The same workspace seed gives the same names: the script replays.
        let again = dir.path().join("again.ron");
        let out = console(
            &tmp,
            &[
                "shell",
                again.to_str().unwrap(),
                "--script",
                &script("ms-sample-byok.sh"),
            ],
        );
        assert!(
            String::from_utf8_lossy(&out.stdout).contains(&format!("server: {server}\n")),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }

    #[test]
    fn exit_codes_words_and_the_builtin_switch() {
        if bridge::find_bash().is_none() {
            eprintln!("skipped: there is no bash on this system");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let tmp = dir.path().join("tmp");
        std::fs::create_dir(&tmp).unwrap();
        let f = dir.path().join("codes.sh");
        std::fs::write(
            &f,
            concat!(
                "az group create -n rg-odd -l eastus -o none; echo \"create=$?\"\n",
                // Words reach az as bash split them, never read again.
                "az group show -n rg-odd --query \"'a; b && c \\$HOME * \\$(x)'\" -o tsv\n",
                "az group show -n nope -o none 2>/dev/null; echo \"missing=$?\"\n",
                "az group frobnicate 2>/dev/null; echo \"usage=$?\"\n",
                "az group list -o none --query '[' 2>/dev/null; echo \"query=$?\"\n",
                "echo \"bash=${BASH_VERSION:+yes}\"\n",
                "exit 3\n",
            ),
        )
        .unwrap();
        let out = console(&tmp, &["shell", "--script", f.to_str().unwrap()]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(3), "{stdout}");
        assert_eq!(
            stdout,
            "create=0\na; b && c $HOME * $(x)\nmissing=1\nusage=2\nquery=2\nbash=yes\n"
        );
        // --builtin and the environment variable: the console's own interpreter.
        let g = dir.path().join("which.sh");
        std::fs::write(&g, "echo \"bash=${BASH_VERSION:-no}\"\n").unwrap();
        let out = console(
            &tmp,
            &["shell", "--builtin", "--script", g.to_str().unwrap()],
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout), "bash=no\n");
        let out = Command::new(env!("CARGO_BIN_EXE_tde-console"))
            .args(["shell", "--script", g.to_str().unwrap()])
            .env(bridge::BUILTIN_ENV, "1")
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "bash=no\n");
        // A .ps1 script is PowerShell's, never bash's.
        assert_eq!(
            std::fs::read_dir(&tmp).unwrap().count(),
            0,
            "left in TMPDIR"
        );
    }

    #[test]
    fn the_clients_outside_a_console_run_say_so() {
        let dir = tempfile::tempdir().unwrap();
        let az = dir.path().join("az");
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_tde-console"), &az).unwrap();
        let out = Command::new(&az)
            .args(["group", "list"])
            .env_remove(bridge::SOCKET_ENV)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("runs only inside"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // A socket that is not there: an error, not a hang.
        let out = Command::new(&az)
            .args(["group", "list"])
            .env(bridge::SOCKET_ENV, dir.path().join("nothing.sock"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stderr).contains("cannot reach the console"));
    }
}

/// Issue 22, item 5: the command line follows clap's conventions.
#[test]
fn every_subcommand_has_its_own_help_and_bad_options_are_usage_errors() {
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_tde-console"))
            .args(args)
            .output()
            .unwrap()
    };
    for (args, words) in [
        (&["--help"][..], "shell"),
        (&["shell", "--help"][..], "--script"),
        (&["help", "shell"][..], "--keep-going"),
        (&["serve", "--help"][..], "--port"),
        (&["token", "-h"][..], "--identity"),
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains(words),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    for args in [
        &["--bogus"][..],
        &["shell", "--bogus"][..],
        &["shell", "a.ron", "b.ron"][..],
        &["shell", "--script"][..],
        &["serve", "--port", "http"][..],
        &["token", "w.ron"][..],
        &["token", "w.ron", "--identity", "x", "--lifetime", "0"][..],
        &["token", "w.ron", "--identity", "x", "--app", "y"][..],
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(!String::from_utf8_lossy(&out.stderr).is_empty(), "{args:?}");
    }
}

/// Issue 22, item 2: the built-in interpreter (in-app Cloud Shell, systems without bash)
/// takes the idioms of Microsoft's sample scripts.
mod builtin_idioms {
    use super::*;

    fn run(script: &str) -> tde_console::shell::ScriptOutcome {
        let (mut sh, mut ws) = shell();
        sh.run_script(&mut ws, script, false)
    }

    #[test]
    fn the_microsoft_style_sample_runs_in_process() {
        let (mut sh, mut ws) = shell();
        let text = std::fs::read_to_string(format!(
            "{}/tests/scripts/ms-sample-byok.sh",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        let out = sh.run_script(&mut ws, &text, false);
        assert_eq!(out.failures, 1, "{}", out.stderr);
        assert!(
            out.stdout
                .contains("protector: AzureKeyVault (2 databases)\n"),
            "{}",
            out.stdout
        );
        assert!(out.stdout.contains("databases: 2\n"));
        assert!(out.stdout.contains("done at 1767261600\n"));
        assert!(!out.stdout.contains("never printed"));
        assert!(
            out.stderr.starts_with("ERROR: (ResourceNotFound)"),
            "{}",
            out.stderr
        );
        // Its names carry the seeded $RANDOM.
        assert!(!out.stdout.contains("msdocs-azuresql-server-\n"));
    }

    #[test]
    fn loops_and_conditions_on_one_line_and_many() {
        let out = run("for x in a b c; do echo \"[$x]\"; done");
        assert_eq!(out.stdout, "[a]\n[b]\n[c]\n");
        let out = run("L=\"one two\"\nfor x in $L three\ndo\n  printf '%s-' $x\ndone\necho");
        assert_eq!(out.stdout, "one-two-three-\n");
        let script = "\
v=\"\"
if [ -z \"$v\" ]; then
  echo empty
elif [ \"$v\" = x ]; then
  echo x
else
  echo other
fi
n=3
if [ $n -gt 5 ]; then echo big; elif [ $n -eq 3 ]; then echo three; else echo small; fi
if [ -n \"$v\" ]; then echo never; fi
i=0
while [ $i -lt 3 ]; do let \"i=i+1\"; done
echo \"i=$i\"
until [ $i -eq 0 ]; do i=$((i - 1)); done
echo \"i=$i\"
[ -z \"$v\" ] && echo short-circuit
[ -n \"$v\" ] && echo never
echo still-running
if ! az group show -n nope -o none 2>/dev/null; then echo missing; fi
";
        let out = run(script);
        assert_eq!(out.failures, 0, "{}", out.stderr);
        assert_eq!(
            out.stdout,
            "empty\nthree\ni=3\ni=0\nshort-circuit\nstill-running\nmissing\n"
        );
    }

    #[test]
    fn set_e_printf_expr_date_and_pipes() {
        let out = run(
            "set -e\nprintf \"%s has %d items\\n\" list 3\necho $(expr 6 \\* 7)\necho $(date +%s)\ndate\n\
             az group create -n rg1 -l eastus -o none\n\
             loc=$(az group show -n rg1 -o json | grep location | tr -d '\",' | cut -d : -f 2 | xargs)\n\
             echo \"loc=$loc\"\n\
             echo $(az group list --query \"[].name\" -o tsv | head -n 1)\n\
             az group list -o tsv --query \"[].name\" | wc -l\n\
             false\necho after",
        );
        assert_eq!(
            out.stdout,
            "list has 3 items\n42\n1767258000\nThu Jan  1 09:00:00 UTC 2026\nloc=eastus\nrg1\n1\n"
        );
        assert_eq!(out.failures, 1);
        // set +e goes on after a failure, even without keep-going; exit ends the script.
        let out = run("set +e\nfalse\necho after\nexit 3\necho never");
        assert_eq!(out.stdout, "after\n");
        assert_eq!(out.failures, 2);
        // A failing command in a pipe: the pipe's status is the last command's, unless pipefail.
        let out = run(
            "az group show -n nope 2>/dev/null | tr -d x\necho ok\nset -o pipefail\naz group show -n nope 2>/dev/null | tr -d x\necho never",
        );
        assert_eq!(out.stdout, "ok\n");
    }

    #[test]
    fn bad_compounds_and_limits_fail_cleanly_and_change_nothing() {
        for bad in [
            "if true; then echo x",
            "for x in a; echo $x; done",
            "fi",
            "while true; do true; done | head",
            "echo x | az group list",
            "printf '%q' x",
            "[ 1 -eq x ]",
            "[ a = a",
            "set -Q",
            "expr 1 / 0",
            "echo a | grep",
        ] {
            let (mut sh, mut ws) = shell();
            let before = ws.clone();
            let out = sh.run_script(&mut ws, bad, false);
            assert_eq!(out.failures, 1, "{bad}: {}", out.stdout);
            assert!(
                out.stderr.contains("(stopped at line 1"),
                "{bad}: {}",
                out.stderr
            );
            assert!(ws == before, "{bad} changed the workspace");
        }
        // An endless loop ends at the cap, with an error.
        let started = std::time::Instant::now();
        let out = run("while true; do :; done");
        assert_eq!(out.failures, 1);
        assert!(out.stderr.contains("ran 100000 times"), "{}", out.stderr);
        assert!(started.elapsed() < std::time::Duration::from_secs(60));
        // One line in the in-app shell: a compound command typed at once.
        let (mut sh, mut ws) = shell();
        let r = sh.run_line(&mut ws, "for g in rg-a rg-b; do az group create -n $g -l eastus -o none; done; az group list --query \"length(@)\" -o tsv");
        assert!(r.ok, "{}", r.stderr);
        assert_eq!(r.stdout, "2\n");
        let r = sh.run_line(&mut ws, "if true; then echo x");
        assert!(
            !r.ok && r.stderr.contains("unexpected end of file"),
            "{}",
            r.stderr
        );
    }
}

#[test]
fn sim_app_starts_a_customer_app_that_sees_the_slices_outage() {
    let (mut sh, mut ws) = shell();
    let script = slice_script().replace(
        "# Revoke the server's access",
        "sim app start --server sql-contoso-weu --database sales -o none\n# Revoke the server's access",
    );
    let out = sh.run_script(&mut ws, &script, false);
    assert_eq!(out.failures, 0, "stderr: {}", out.stderr);
    let r = sh.run_line(&mut ws, "sim app show -o json");
    assert!(r.ok, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let app = &v[0];
    assert_eq!(app["database"], "sales");
    assert_eq!(app["running"], true);
    assert_eq!(app["samples"], 81, "{app}");
    let results: Vec<&str> = app["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["result"].as_str().unwrap())
        .collect();
    assert_eq!(results, ["ok", "40613", "ok"], "{app}");
    assert_eq!(app["last"], "ok");
    let failed = app["failed"].as_u64().unwrap();
    assert!((1..80).contains(&failed), "{app}");
    assert!(
        app["firstError"]
            .as_str()
            .unwrap()
            .contains("is not currently available"),
        "{app}"
    );
    // The only app running is the one `stop` stops; a second stop says why not.
    assert!(sh.run_line(&mut ws, "sim app stop").ok);
    let r = sh.run_line(&mut ws, "sim app stop");
    assert!(!r.ok);
    assert!(
        r.stderr.contains("No customer app is running."),
        "{}",
        r.stderr
    );
    let r = sh.run_line(
        &mut ws,
        "sim app start --server sql-contoso-weu --database sales --every 30s",
    );
    assert!(!r.ok);
    assert!(r.stderr.contains("1 to 60 whole minutes"), "{}", r.stderr);
    let r = sh.run_line(
        &mut ws,
        "sim app start --server sql-contoso-weu --database nope",
    );
    assert!(!r.ok);
    assert!(r.stderr.contains("ResourceNotFound"), "{}", r.stderr);
    assert!(sh.run_line(&mut ws, "sim app delete").ok);
    assert_eq!(
        sh.run_line(&mut ws, "sim app show -o tsv").stdout.trim(),
        ""
    );
}

/// `az keyvault secret …` end to end: az's arguments and JSON, soft delete, purge, backup,
/// restore, download with the file's encoding, and values only where az prints them.
#[test]
fn keyvault_secret_commands_round_trip() {
    let (mut sh, mut ws) = shell();
    let dir = std::env::temp_dir().join(format!("tde-secret-shell-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let d = dir.display();
    std::fs::write(dir.join("cert.bin"), [0u8, 1, 2, 254, 255]).unwrap();
    let setup = "az group create -n rg -l eastus -o none\n\
        az keyvault create -n kv-app -g rg -l eastus -o none\n\
        az keyvault create -n kv-app2 -g rg -l westus -o none\n";
    assert_eq!(sh.run_script(&mut ws, setup, false).failures, 0);
    let run = |sh: &mut Shell, ws: &mut Workspace, line: &str| {
        let r = sh.run_line(ws, line);
        assert!(r.stderr.is_empty(), "{line}: {}", r.stderr);
        r.stdout
    };
    let out = run(
        &mut sh,
        &mut ws,
        "az keyvault secret set --vault-name kv-app -n db-password --value 'S3cret!' --content-type text/plain --tags env=dev",
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["value"], "S3cret!");
    assert_eq!(v["name"], "db-password");
    assert_eq!(v["contentType"], "text/plain");
    assert_eq!(v["tags"]["env"], "dev");
    assert_eq!(v["attributes"]["enabled"], true);
    assert_eq!(v["attributes"]["recoveryLevel"], "Recoverable+Purgeable");
    let id = v["id"].as_str().unwrap().to_string();
    assert!(
        id.starts_with("https://kv-app.vault.azure.net/secrets/db-password/"),
        "{id}"
    );
    run(
        &mut sh,
        &mut ws,
        "az keyvault secret set --vault-name kv-app -n db-password --value second -o none",
    );
    assert_eq!(
        run(
            &mut sh,
            &mut ws,
            "az keyvault secret show --vault-name kv-app -n db-password --query value -o tsv"
        )
        .trim(),
        "second"
    );
    assert_eq!(
        run(
            &mut sh,
            &mut ws,
            &format!("az keyvault secret show --id {id} --query value -o tsv")
        )
        .trim(),
        "S3cret!"
    );
    let list = run(
        &mut sh,
        &mut ws,
        "az keyvault secret list --vault-name kv-app",
    );
    assert!(
        !list.contains("second") && !list.contains("S3cret"),
        "a list shows no values: {list}"
    );
    let versions: serde_json::Value = serde_json::from_str(&run(
        &mut sh,
        &mut ws,
        "az keyvault secret list-versions --vault-name kv-app -n db-password",
    ))
    .unwrap();
    assert_eq!(versions.as_array().unwrap().len(), 2);
    let attrs = run(
        &mut sh,
        &mut ws,
        &format!("az keyvault secret set-attributes --id {id} --enabled false"),
    );
    assert!(
        attrs.contains("\"enabled\": false") && !attrs.contains("S3cret"),
        "{attrs}"
    );
    let r = sh.run_line(&mut ws, &format!("az keyvault secret show --id {id}"));
    assert!(
        r.stderr
            .contains("(Forbidden) Operation get is not allowed on a disabled secret."),
        "{}",
        r.stderr
    );
    // A binary file, kept as base64 and downloaded back byte for byte.
    run(
        &mut sh,
        &mut ws,
        &format!(
            "az keyvault secret set --vault-name kv-app -n cert --file {d}/cert.bin --encoding base64 -o none"
        ),
    );
    run(
        &mut sh,
        &mut ws,
        &format!("az keyvault secret download --vault-name kv-app -n cert --file {d}/cert.out"),
    );
    assert_eq!(
        std::fs::read(dir.join("cert.out")).unwrap(),
        [0u8, 1, 2, 254, 255]
    );
    let r = sh.run_line(
        &mut ws,
        &format!("az keyvault secret download --vault-name kv-app -n cert --file {d}/cert.out"),
    );
    assert!(r.stderr.contains("already exists"), "{}", r.stderr);
    let r = sh.run_line(&mut ws, "az keyvault secret set --vault-name kv-app -n x");
    assert!(
        r.stderr.contains("--value VALUE | --file PATH"),
        "{}",
        r.stderr
    );
    // Backup, soft delete, the name conflict, recover, purge, restore elsewhere.
    run(
        &mut sh,
        &mut ws,
        &format!("az keyvault secret backup --vault-name kv-app -n cert --file {d}/cert.backup"),
    );
    let deleted: serde_json::Value = serde_json::from_str(&run(
        &mut sh,
        &mut ws,
        "az keyvault secret delete --vault-name kv-app -n cert",
    ))
    .unwrap();
    assert_eq!(
        deleted["recoveryId"],
        "https://kv-app.vault.azure.net/deletedsecrets/cert"
    );
    assert!(deleted.get("value").is_none());
    let r = sh.run_line(
        &mut ws,
        "az keyvault secret set --vault-name kv-app -n cert --value v",
    );
    assert!(
        r.stderr
            .contains("(Conflict) Secret cert is currently in a deleted but recoverable state"),
        "{}",
        r.stderr
    );
    let gone = run(
        &mut sh,
        &mut ws,
        "az keyvault secret list-deleted --vault-name kv-app --query [].name -o tsv",
    );
    assert_eq!(gone.trim(), "cert");
    run(
        &mut sh,
        &mut ws,
        "az keyvault secret show-deleted --vault-name kv-app -n cert -o none",
    );
    run(
        &mut sh,
        &mut ws,
        "az keyvault secret recover --vault-name kv-app -n cert -o none",
    );
    run(
        &mut sh,
        &mut ws,
        "az keyvault secret delete --vault-name kv-app -n cert -o none",
    );
    let r = sh.run_line(
        &mut ws,
        "az keyvault secret purge --vault-name kv-app -n cert",
    );
    assert!(
        r.stderr.contains("does not have secrets purge permission"),
        "{}",
        r.stderr
    );
    let me = ws.console_user.object_id.0.clone();
    run(
        &mut sh,
        &mut ws,
        &format!(
            "az keyvault set-policy -n kv-app --object-id {me} --secret-permissions all -o none"
        ),
    );
    let kv = ws.vault("kv-app").unwrap();
    assert!(
        kv.access_policies
            .iter()
            .any(|p| p.object_id.0 == me && !p.key_permissions.is_empty()),
        "a secret-permissions change keeps the key permissions"
    );
    run(
        &mut sh,
        &mut ws,
        "az keyvault secret purge --vault-name kv-app -n cert",
    );
    let restored = run(
        &mut sh,
        &mut ws,
        &format!("az keyvault secret restore --vault-name kv-app2 --file {d}/cert.backup"),
    );
    assert!(
        restored.contains("kv-app2.vault.azure.net/secrets/cert/"),
        "{restored}"
    );
    let r = sh.run_line(
        &mut ws,
        "az keyvault secret show --vault-name kv-app -n nope",
    );
    assert!(
        r.stderr.starts_with(
            "ERROR: (SecretNotFound) A secret with (name/id) nope was not found in this key vault."
        ),
        "{}",
        r.stderr
    );
    // The audit records name the secrets operations.
    let ops: Vec<String> = ws
        .journal
        .lock()
        .requests
        .iter()
        .map(|r| r.operation.clone())
        .filter(|o| o.starts_with("Secret"))
        .collect();
    for op in [
        "SecretSet",
        "SecretGet",
        "SecretList",
        "SecretListVersions",
        "SecretUpdate",
        "SecretBackup",
        "SecretDelete",
        "SecretListDeleted",
        "SecretGetDeleted",
        "SecretRecover",
        "SecretPurge",
        "SecretRestore",
    ] {
        assert!(ops.iter().any(|o| o == op), "{op} missing from {ops:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Microsoft's Synapse procedure (workspace with a customer-managed key and activation, a
/// dedicated SQL pool with TDE, a key switch), written from the docs as a script, run by
/// `tde-console shell --script`: each step ends in the documented state.
#[test]
fn the_synapse_workspace_procedure_ends_in_the_documented_states() {
    let dir = tempfile::tempdir().unwrap();
    let script = format!(
        "{}/tests/scripts/learn-synapse-workspace-cmk.sh",
        env!("CARGO_MANIFEST_DIR")
    );
    let out = Command::new(env!("CARGO_BIN_EXE_tde-console"))
        .arg("shell")
        .arg(dir.path().join("ws.ron"))
        .arg("--script")
        .arg(&script)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "True",
            "AwaitingUserAction",
            "refused",
            "False",
            "Consistent",
            "wskey",
            "https://kv-syn-01.vault.azure.net/keys/wskey",
            "Online",
            "Enabled",
            "Enabled",
            "False",
            "Updating",
            "Consistent",
            "wskey2",
            "wskey\tFalse",
            "wskey2\tTrue",
            "wskey2",
        ],
        "{stderr}"
    );
    // The one refusal the procedure shows: no pool before activation.
    assert!(
        stderr.contains("ERROR: (WorkspaceActivationRequired) Workspace needs to be activated")
    );
}

/// az's parser messages for Synapse commands, and the service's errors through the shell.
#[test]
fn synapse_commands_refuse_bad_input_with_az_and_service_texts() {
    let (mut sh, mut ws) = shell();
    for line in [
        "az group create -n rg -l eastus",
        "az storage account create -n adls01 -g rg --kind StorageV2 --hns true",
    ] {
        let r = sh.run_line(&mut ws, line);
        assert!(r.ok, "{line}: {}", r.stderr);
    }
    let cases = [
        (
            "az storage fs create -n users --account-name nosuch",
            "(StorageAccountNotFound) Storage account 'nosuch' not found.",
        ),
        (
            "az synapse workspace create -n ws1 -g rg --storage-account adls01 --file-system users -u a -p b",
            "(FilesystemNotFound) The specified filesystem does not exist.",
        ),
        (
            "az synapse workspace create -n ws1 -g rg --storage-account nosuch --file-system users -u a -p b",
            "(ResourceNotFound) The Resource 'Microsoft.Storage/storageAccounts/nosuch'",
        ),
        (
            "az synapse workspace create -n ws1 -g rg --storage-account adls01 --file-system users -u a",
            "the following arguments are required: --sql-admin-login-password",
        ),
        (
            "az synapse workspace activate --name default --workspace-name ws1 -g rg",
            "the following arguments are required: --key-identifier",
        ),
        (
            "az synapse sql pool tde show --name p --workspace-name ws1 -g rg",
            "the following arguments are required: --transparent-data-encryption-name/-d",
        ),
        (
            "az synapse sql pool tde set --name p --workspace-name ws1 -g rg --status On -d current",
            "argument --status: invalid choice: 'On' (choose from 'Enabled', 'Disabled')",
        ),
        (
            "az synapse workspace show -n nosuch -g rg",
            "(ResourceNotFound) The Resource 'Microsoft.Synapse/workspaces/nosuch' under resource group 'rg' was not found.",
        ),
    ];
    for (line, text) in cases {
        let before = ws.clone();
        let r = sh.run_line(&mut ws, line);
        assert!(!r.ok, "{line} should fail");
        assert!(r.stderr.contains(text), "{line}: {}", r.stderr);
        assert!(ws.synapse == before.synapse, "{line} changed nothing");
    }
    // The file system, then a workspace without a key: double encryption stays off.
    assert!(
        sh.run_line(
            &mut ws,
            "az storage fs create -n users --account-name adls01"
        )
        .ok
    );
    let r = sh.run_line(
        &mut ws,
        "az synapse workspace create -n ws1 -g rg --storage-account adls01 --file-system users -u a -p b --query encryption.doubleEncryptionEnabled -o tsv",
    );
    assert!(r.ok, "{}", r.stderr);
    assert_eq!(r.stdout.trim(), "False");
    let r = sh.run_line(
        &mut ws,
        "az synapse workspace key create --name k --workspace-name ws1 -g rg --key-identifier https://v.vault.azure.net/keys/k",
    );
    assert!(
        r.stderr
            .contains("(BadRequest) Invalid request to create a Workspace Key."),
        "{}",
        r.stderr
    );
}

/// Pausing and resuming a dedicated SQL pool wait until they finish, as az does: neither
/// `az sql dw pause|resume` nor `az synapse sql pool pause|resume` has `--no-wait` in az's
/// command table (az 2.91's parser, `assets/az-command-table.json`), so `Pausing` and
/// `Resuming` are never left for a later command to see, and `--no-wait` is refused with
/// argparse's message.
#[test]
fn pool_pause_and_resume_have_no_no_wait_as_in_az() {
    let (mut sh, mut ws) = shell();
    for line in [
        "az sql dw pause --name pool1 -g rg1 --server srv-dw --no-wait",
        "az sql dw resume --name pool1 -g rg1 --server srv-dw --no-wait",
        "az synapse sql pool pause --name p --workspace-name w -g rg --no-wait",
        "az synapse sql pool resume --name p --workspace-name w -g rg --no-wait",
    ] {
        let before = ws.clone();
        let r = sh.run_line(&mut ws, line);
        assert!(!r.ok, "{line}");
        assert!(
            r.stderr.contains("unrecognized arguments: --no-wait"),
            "{line}: {}",
            r.stderr
        );
        assert!(ws.same_as(&before));
    }
}

/// `sim client-ip set A` takes its address as a word (Settings > Client IP runs it);
/// a bad address is refused with the service's text and changes nothing.
#[test]
fn sim_client_ip_set_takes_its_address_and_refuses_a_bad_one() {
    let (mut sh, mut ws) = shell();
    let before = ws.console_user.client_ip.clone();
    let r = sh.run_line(&mut ws, "sim client-ip set 300.1.2.3");
    assert!(!r.ok);
    assert!(
        r.stderr.contains("'300.1.2.3' is not an IPv4 address."),
        "{}",
        r.stderr
    );
    assert_eq!(ws.console_user.client_ip, before);
    let r = sh.run_line(&mut ws, "sim client-ip set 198.51.100.7");
    assert!(r.ok, "{}", r.stderr);
    assert_eq!(ws.console_user.client_ip, "198.51.100.7");
    let r = sh.run_line(&mut ws, "sim client-ip show");
    assert!(r.stdout.contains("198.51.100.7"), "{}", r.stdout);
}
