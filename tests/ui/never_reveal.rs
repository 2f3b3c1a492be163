//! No operation, blade, log or shell output shows private key material: only public parts,
//! thumbprints and opaque (encrypted) backup blobs leave a vault. This test collects the
//! private values of every fixture key in several encodings and looks for them in
//! everything the console can print or write, except the workspace file itself (which is
//! the vaults' own storage).

use crate::common;

use base64::Engine;
use common::*;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use rsa::traits::PrivateKeyParts;
use tde_console::service::diagnostics;
use tde_console::shell::Shell;

/// Windows of the private exponent and primes of every fixture key, in hex and base64.
fn secrets() -> Vec<String> {
    use rsa::pkcs8::DecodePrivateKey;
    let dir = format!("{}/tests/fixtures", env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if !name.starts_with("rsa") || !name.ends_with(".pem") || name.contains("pkcs1") {
            continue;
        }
        let key =
            rsa::PrivateKey::from_pkcs8_pem(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let mut values: Vec<Vec<u8>> = vec![key.d().to_be_bytes().to_vec()];
        values.extend(key.primes().iter().map(|p| p.to_be_bytes().to_vec()));
        for v in values {
            let v: Vec<u8> = v.into_iter().skip_while(|b| *b == 0).collect();
            let hex: String = v.iter().map(|b| format!("{b:02x}")).collect();
            out.push(hex[16..56].to_string());
            out.push(hex[16..56].to_uppercase());
            for shift in 0..3 {
                for engine in [
                    base64::engine::general_purpose::STANDARD,
                    base64::engine::general_purpose::URL_SAFE_NO_PAD,
                ] {
                    let b = engine.encode(&v[shift..]);
                    out.push(b[8..40].to_string());
                }
            }
        }
    }
    assert!(out.len() > 100);
    out
}

/// A secret value that must not leave the vault except through `show`.
const SECRET_VALUE: &str = "NeverRevealThis-5e7a9c";

fn assert_clean(what: &str, text: &str, secrets: &[String]) {
    for s in secrets {
        assert!(
            !text.contains(s.as_str()),
            "{what} reveals private key material ({s})"
        );
    }
}

#[test]
fn no_output_reveals_private_key_material() {
    let secrets = secrets();
    let keys = FixtureKeys::new();
    let (mut ws, kid) = setup(&keys);
    protect(&mut ws, &kid);
    let mut sh = Shell::new().with_keys(FixtureKeys::boxed());
    let dir = std::env::temp_dir().join(format!("tde-reveal-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let d = dir.display();
    let small = format!(
        "{}/tests/fixtures/rsa1024-1.pem",
        env!("CARGO_MANIFEST_DIR")
    );
    let script = format!(
        r#"
az monitor diagnostic-settings create --name audit --resource {VAULT} --logs '[{{"category":"AuditEvent","enabled":true}}]' --workspace law
az keyvault show --name {VAULT}
az keyvault list
az keyvault key show --vault-name {VAULT} --name {KEY}
az keyvault key list --vault-name {VAULT}
az keyvault key list-versions --vault-name {VAULT} --name {KEY}
az keyvault key create --vault-name {VAULT} --name kek --kty RSA-HSM --size 3072 --ops import
az keyvault key download --vault-name {VAULT} --name {KEY} --file {d}/public.pem
az keyvault key backup --vault-name {VAULT} --name {KEY} --file {d}/key.backup
az keyvault key rotate --vault-name {VAULT} --name {KEY}
az keyvault key rotation-policy show --vault-name {VAULT} --name {KEY}
az sql server key list --server {SERVER}
az sql server tde-key show --server {SERVER}
az sql db tde show --database sales --server {SERVER}
az sql db show --name sales --server {SERVER}
az sql server show --name {SERVER}
az keyvault key delete --vault-name {VAULT} --name kek
az keyvault key list-deleted --vault-name {VAULT}
az keyvault key show-deleted --vault-name {VAULT} --name kek
az keyvault key purge --vault-name {VAULT} --name kek
az monitor activity-log list
sim advisor
sim events
sim audit list --vault {VAULT}
sim audit export --vault {VAULT} --file {d}/audit.csv
sim audit export --vault {VAULT} --file {d}/audit.jsonl
sim clock advance 1d
az keyvault key import --vault-name {VAULT} --name bad --pem-file {small}
az keyvault secret set --vault-name {VAULT} --name app-secret --value {SECRET_VALUE} -o none
az keyvault secret set --vault-name {VAULT} --name app-secret --value {SECRET_VALUE}-2 --tags a=b -o none
az keyvault secret list --vault-name {VAULT}
az keyvault secret list-versions --vault-name {VAULT} --name app-secret
az keyvault secret set-attributes --vault-name {VAULT} --name app-secret --content-type text/plain
az keyvault secret backup --vault-name {VAULT} --name app-secret --file {d}/secret.backup
az keyvault secret delete --vault-name {VAULT} --name app-secret
az keyvault secret show-deleted --vault-name {VAULT} --name app-secret
az keyvault secret list-deleted --vault-name {VAULT}
az keyvault secret recover --vault-name {VAULT} --name app-secret
sim audit list --vault {VAULT}
sim audit export --vault {VAULT} --file {d}/audit2.jsonl
"#
    );
    let mut secrets = secrets;
    // A secret's value obeys the same rules as private key material outside `show`.
    secrets.push(SECRET_VALUE.to_string());
    let out = sh.run_script(&mut ws, &script, true);
    assert!(out.commands > 25);
    assert_clean("shell stdout", &out.stdout, &secrets);
    assert_clean("shell stderr", &out.stderr, &secrets);
    for f in [
        "public.pem",
        "key.backup",
        "audit.csv",
        "audit.jsonl",
        "secret.backup",
        "audit2.jsonl",
    ] {
        let bytes = std::fs::read(dir.join(f)).unwrap();
        assert_clean(f, &String::from_utf8_lossy(&bytes), &secrets);
    }
    assert_clean("Debug of the workspace", &format!("{ws:?}"), &secrets);
    // The detector works: the workspace file, the vaults' own storage, does hold the keys.
    let ron = tde_console::persist::to_ron(&ws).unwrap();
    assert!(
        secrets.iter().any(|s| ron.contains(s.as_str())),
        "the detector finds stored private keys"
    );
    assert_clean(
        "audit log",
        &diagnostics::to_json_lines(&diagnostics::audit_log(&ws, VAULT)),
        &secrets,
    );
    let notes: String = ws
        .notifications
        .iter()
        .map(|n| format!("{} {}\n", n.title, n.text))
        .collect();
    assert_clean("notifications", &notes, &secrets);

    // Every label of every blade a person can open on this workspace.
    let mut h = Harness::builder()
        .with_size(egui::vec2(1500.0, 950.0))
        .build_eframe(move |_cc| tde_console::ui::ConsoleApp::with_workspace(ws.clone(), None));
    h.run_steps(3);
    let mut seen = String::new();
    for target in [SERVER, VAULT, "sales", KEY] {
        let found = match h.query_all_by_label(target).next() {
            Some(n) => {
                n.click();
                true
            }
            None => false,
        };
        if found {
            h.run_steps(5);
        }
        for node in h.query_all_by_label_contains("") {
            seen.push_str(&format!("{node:?}\n"));
        }
    }
    assert!(seen.len() > 1000, "the blades were drawn");
    assert_clean("UI labels", &seen, &secrets);
    let _ = std::fs::remove_dir_all(&dir);
}
