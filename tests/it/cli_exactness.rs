//! Issue 13, section 5: the documented CLI as az and the service behave, on the demo.

use crate::common;

use tde_console::model::Workspace;
use tde_console::shell::{LineOutput, Shell};

fn demo() -> (Shell, Workspace) {
    (
        Shell::new().with_keys(common::FixtureKeys::boxed()),
        tde_console::persist::demo().expect("demo"),
    )
}

fn ok(sh: &mut Shell, ws: &mut Workspace, line: &str) -> LineOutput {
    let r = sh.run_line(ws, line);
    assert!(r.ok, "{line}: {}", r.stderr);
    r
}

/// A refused line: its error text, and the workspace unchanged.
fn refused(sh: &mut Shell, ws: &mut Workspace, line: &str) -> String {
    let before = ws.clone();
    let r = sh.run_line(ws, line);
    assert!(!r.ok, "{line} was accepted: {}", r.stdout);
    // Only the requests it made to vaults stay (a refused call leaves its trace).
    assert!(
        common::unchanged_but_its_trace(ws, &before).is_some(),
        "{line} changed the workspace"
    );
    r.stderr
}

#[test]
fn tde_list_activity_is_the_2021_cli_and_unknown_today() {
    let (mut sh, mut ws) = demo();
    let line = "az sql db tde list-activity --database sales --server sql-contoso-us --resource-group rg-contoso-us";
    assert_eq!(ok(&mut sh, &mut ws, line).stdout.trim(), "[]");
    ok(&mut sh, &mut ws, "sim profile set current");
    let e = refused(&mut sh, &mut ws, line);
    assert!(e.contains("'list-activity' is misspelled"), "{e}");
}

#[test]
fn enable_soft_delete_is_accepted_with_the_deprecation_warning() {
    let (mut sh, mut ws) = demo();
    let r = ok(
        &mut sh,
        &mut ws,
        "az keyvault create --name kv-old-script --resource-group rg-contoso-us --location eastus --enable-soft-delete true --enable-purge-protection true -o none",
    );
    assert!(
        r.stderr
            .starts_with("WARNING: Argument '--enable-soft-delete' has been deprecated"),
        "{}",
        r.stderr
    );
    let r = ok(
        &mut sh,
        &mut ws,
        "az keyvault create --name kv-new-script --resource-group rg-contoso-us --location eastus -o none",
    );
    assert!(r.stderr.is_empty());
}

const OLD_VERSION: &str = "KID=$(az keyvault key list-versions --vault-name kv-contoso-us --name tde-protector --query \"sort_by(@, &attributes.created)[0].kid\" -o tsv)";

#[test]
fn an_older_key_version_as_protector_is_refused_under_the_current_profile() {
    let (mut sh, mut ws) = demo();
    ok(&mut sh, &mut ws, "sim profile set current");
    ok(&mut sh, &mut ws, OLD_VERSION);
    ok(
        &mut sh,
        &mut ws,
        "az sql server key create --server sql-contoso-us --resource-group rg-contoso-us --kid $KID",
    );
    let e = refused(
        &mut sh,
        &mut ws,
        "az sql server tde-key set --server sql-contoso-us --resource-group rg-contoso-us --server-key-type AzureKeyVault --kid $KID",
    );
    assert!(
        e.contains("(OldGenerationOfAKVKeyBeingUsedError) Using an old version of AKV key as TDE protector is not allowed."),
        "{e}"
    );
    // The seed's (2021) service took it.
    let (mut sh, mut ws) = demo();
    ok(&mut sh, &mut ws, OLD_VERSION);
    ok(
        &mut sh,
        &mut ws,
        "az sql server key create --server sql-contoso-us --resource-group rg-contoso-us --kid $KID",
    );
    ok(
        &mut sh,
        &mut ws,
        "az sql server tde-key set --server sql-contoso-us --resource-group rg-contoso-us --server-key-type AzureKeyVault --kid $KID",
    );
}

#[test]
fn deleting_the_protector_server_key_is_the_services_key_in_use() {
    let (mut sh, mut ws) = demo();
    ok(
        &mut sh,
        &mut ws,
        "KID=$(az sql server tde-key show --server sql-contoso-us --resource-group rg-contoso-us --query uri -o tsv)",
    );
    let e = refused(
        &mut sh,
        &mut ws,
        "az sql server key delete --server sql-contoso-us --resource-group rg-contoso-us --kid $KID",
    );
    assert!(
        e.contains("(AzureKeyVaultKeyInUse) The key is currently being used by the server."),
        "{e}"
    );
}

#[test]
fn keys_tde_cannot_use_are_refused_when_linked() {
    let (mut sh, mut ws) = demo();
    ok(
        &mut sh,
        &mut ws,
        "az keyvault key create --vault-name kv-contoso-us --name big --kty RSA --size 4096 -o none",
    );
    ok(
        &mut sh,
        &mut ws,
        "az keyvault key create --vault-name kv-contoso-us --name signer --kty RSA --size 2048 --ops sign verify -o none",
    );
    for key in ["big", "signer"] {
        ok(
            &mut sh,
            &mut ws,
            &format!(
                "KID=$(az keyvault key show --vault-name kv-contoso-us --name {key} --query key.kid -o tsv)"
            ),
        );
        let e = refused(
            &mut sh,
            &mut ws,
            "az sql server key create --server sql-contoso-us --resource-group rg-contoso-us --kid $KID",
        );
        let want = if key == "big" {
            "(AzureKeyVaultRsaKeyNotSupported) The supported RSA key size is 2048 or 3072"
        } else {
            "(AzureKeyVaultMissingPermissions)"
        };
        assert!(e.contains(want), "{key}: {e}");
    }
}

#[test]
fn a_key_backup_prints_nothing_and_a_disabled_key_has_its_own_text() {
    let (mut sh, mut ws) = demo();
    let dir = std::env::temp_dir().join(format!("tde-cli-exact-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("kv.keybackup");
    let _ = std::fs::remove_file(&file);
    let r = ok(
        &mut sh,
        &mut ws,
        &format!(
            "az keyvault key backup --vault-name kv-contoso-us --name billing-key --file {}",
            file.display()
        ),
    );
    assert_eq!(r.stdout, "");
    assert!(file.exists());
    std::fs::remove_file(&file).unwrap();

    ok(
        &mut sh,
        &mut ws,
        "az keyvault key create --vault-name kv-contoso-us --name off --kty RSA --size 2048 -o none",
    );
    ok(
        &mut sh,
        &mut ws,
        "az keyvault key set-attributes --vault-name kv-contoso-us --name off --enabled false -o none",
    );
    ok(
        &mut sh,
        &mut ws,
        "KID=$(az keyvault key show --vault-name kv-contoso-us --name off --query key.kid -o tsv)",
    );
    let e = refused(
        &mut sh,
        &mut ws,
        "az sql server key create --server sql-contoso-us --resource-group rg-contoso-us --kid $KID",
    );
    assert!(
        e.contains("(AzureKeyVaultKeyDisabled) The operation could not be completed on the server because the Azure Key Vault key is disabled."),
        "{e}"
    );
}

#[test]
fn an_sms_receiver_takes_country_code_and_number_as_az_does() {
    let (mut sh, mut ws) = demo();
    let r = ok(
        &mut sh,
        &mut ws,
        "az monitor action-group create -n ag-sms -g rg-contoso-us --short-name sms --action sms oncall 1 5551234567 --query smsReceivers[0] -o json",
    );
    assert!(r.stdout.contains("+1 5551234567"), "{}", r.stdout);
}

#[test]
fn ec_keys_are_created_imported_rotated_and_shown_and_tde_refuses_them() {
    let (mut sh, mut ws) = demo();
    let r = ok(
        &mut sh,
        &mut ws,
        "az keyvault key create --vault-name kv-contoso-us --name sig --kty EC --curve P-384 --query \"[key.kty, key.crv, join(',', key.keyOps)]\" -o tsv",
    );
    assert_eq!(r.stdout.trim(), "EC\nP-384\nsign,verify");
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/ec-p256.pem");
    let r = ok(
        &mut sh,
        &mut ws,
        &format!(
            "az keyvault key import --vault-name kv-contoso-us --name imported-ec --kty EC --pem-file {fixture} --query key.crv -o tsv"
        ),
    );
    assert_eq!(r.stdout.trim(), "P-256");
    // Without --kty EC the PEM is read as RSA and refused, as before.
    refused(
        &mut sh,
        &mut ws,
        &format!(
            "az keyvault key import --vault-name kv-contoso-us --name as-rsa --pem-file {fixture}"
        ),
    );
    let r = ok(
        &mut sh,
        &mut ws,
        "az keyvault key rotate --vault-name kv-contoso-us --name sig --query key.crv -o tsv",
    );
    assert_eq!(r.stdout.trim(), "P-384");
    ok(
        &mut sh,
        &mut ws,
        "KID=$(az keyvault key show --vault-name kv-contoso-us --name sig --query key.kid -o tsv)",
    );
    let e = refused(
        &mut sh,
        &mut ws,
        "az sql server key create --server sql-contoso-us --resource-group rg-contoso-us --kid $KID",
    );
    assert!(e.contains("(AzureKeyVaultRsaKeyNotSupported)"), "{e}");
    refused(
        &mut sh,
        &mut ws,
        "az keyvault key create --vault-name kv-contoso-us --name bad --kty EC --curve P-999",
    );
    refused(
        &mut sh,
        &mut ws,
        "az keyvault key create --vault-name kv-contoso-us --name bad --kty EC --ops wrapKey",
    );
    refused(
        &mut sh,
        &mut ws,
        "az keyvault key create --vault-name kv-contoso-us --name bad --kty RSA --curve P-256",
    );
    // And the file keeps them.
    let text = tde_console::persist::to_ron(&ws).unwrap();
    let back: Workspace = ron::from_str(&text).unwrap();
    assert!(back.same_as(&ws));
}

/// az's parser, from azure-cli's own command table: unique prefixes of long options, az's
/// aliases and short flags, and argparse's messages for what az refuses.
#[test]
fn arguments_are_parsed_as_azure_cli_parses_them() {
    let (mut sh, mut ws) = demo();
    // `--tag` is a unique prefix of `--tags`, `--loc` of `--location`.
    ok(
        &mut sh,
        &mut ws,
        "az group create --name rg-prefix --loc eastus --tag env=test",
    );
    let tags = ok(
        &mut sh,
        &mut ws,
        "az group show -n rg-prefix --query tags.env -o tsv",
    );
    assert_eq!(tags.stdout.trim(), "test");
    let e = refused(
        &mut sh,
        &mut ws,
        "az sql db create -g rg-contoso-us -s sql-contoso-us -n x --s y",
    );
    assert!(
        e.starts_with("ERROR: ambiguous option: --s could match "),
        "{e}"
    );
    let e = refused(&mut sh, &mut ws, "az sql db create -n x");
    assert_eq!(
        e.trim(),
        "ERROR: the following arguments are required: --server/-s, --resource-group/-g"
    );
    let e = refused(
        &mut sh,
        &mut ws,
        "az sql db create -g rg-contoso-us -s sql-contoso-us -n x --compute-model Both",
    );
    assert_eq!(
        e.trim(),
        "ERROR: argument --compute-model: invalid choice: 'Both' (choose from 'Provisioned', 'Serverless')"
    );
    let e = refused(
        &mut sh,
        &mut ws,
        "az group create -n g -l eastus --tags a=b --nmae x",
    );
    assert_eq!(e.trim(), "ERROR: unrecognized arguments: --nmae x");
    // --max-size as az reads it: bytes without a unit, or B/KB/MB/GB/TB.
    for (size, bytes) in [
        ("10737418240", "10737418240"),
        ("250GB", "268435456000"),
        ("1TB", "1099511627776"),
    ] {
        let r = ok(
            &mut sh,
            &mut ws,
            &format!(
                "az sql db create -g rg-contoso-us -s sql-contoso-us -n size-{bytes} --max-size {size} --query maxSizeBytes -o tsv"
            ),
        );
        assert_eq!(r.stdout.trim(), bytes, "{size}");
    }
    let e = refused(
        &mut sh,
        &mut ws,
        "az sql db create -g rg-contoso-us -s sql-contoso-us -n x --max-size 10XB",
    );
    assert!(
        e.contains("argument --max-size: invalid size '10XB'"),
        "{e}"
    );
    // A real az command the console does not simulate is named as such.
    let e = refused(
        &mut sh,
        &mut ws,
        "az vm create -n x -g y --image Ubuntu2204",
    );
    assert!(
        e.contains("'az vm create' is an Azure CLI command (azure-cli 2.91.0) that this console does not simulate"),
        "{e}"
    );
    // --help lists az's own arguments with their choices.
    let help = ok(&mut sh, &mut ws, "az sql db create --help").stdout;
    assert!(
        help.contains("--compute-model : Allowed values: Provisioned, Serverless."),
        "{help}"
    );
    assert!(help.contains("--tier --edition -e"), "{help}");
}

/// `az keyvault update --enable-purge-protection true`, as Microsoft's TDE prerequisites
/// give it for an existing vault: on, never off again; the retention period stays as set.
#[test]
fn purge_protection_is_turned_on_for_good_by_keyvault_update() {
    let (mut sh, mut ws) = demo();
    ok(&mut sh, &mut ws, "sim profile set current");
    ok(
        &mut sh,
        &mut ws,
        "az keyvault create -n kv-late-pp -g rg-contoso-us -l eastus -o none",
    );
    let r = ok(
        &mut sh,
        &mut ws,
        "az keyvault update --name kv-late-pp --resource-group rg-contoso-us --enable-purge-protection true --query properties.enablePurgeProtection -o tsv",
    );
    // az's tsv prints a boolean as Python does.
    assert_eq!(r.stdout.trim(), "True");
    let e = refused(
        &mut sh,
        &mut ws,
        "az keyvault update -n kv-late-pp --enable-purge-protection false",
    );
    assert!(
        e.contains("Enabling the purge protection for a vault is an irreversible action."),
        "{e}"
    );
    let e = refused(
        &mut sh,
        &mut ws,
        "az keyvault update -n kv-late-pp --retention-days 30",
    );
    assert!(
        e.contains("has been set already and it can't be modified"),
        "{e}"
    );
    ok(
        &mut sh,
        &mut ws,
        "az keyvault update -n kv-late-pp --retention-days 90 -o none",
    );
}

/// `az sql server update --key-id`: the key is linked and becomes the TDE protector.
#[test]
fn server_update_with_a_key_id_makes_the_key_the_protector() {
    let (mut sh, mut ws) = demo();
    let out = sh.run_script(
        &mut ws,
        "az keyvault key create --vault-name kv-contoso-us -n tde-next --kty RSA --size 2048 -o none
KID=$(az keyvault key show --vault-name kv-contoso-us -n tde-next --query key.kid -o tsv)
SECONDARY=$(az sql server show --name sql-contoso-us2 -g rg-contoso-us --query identity.principalId -o tsv)
az keyvault set-policy --name kv-contoso-us --object-id $SECONDARY --key-permissions get wrapKey unwrapKey -o none
az sql server key create --server sql-contoso-us2 -g rg-contoso-us --kid $KID -o none
az sql server update -n sql-contoso-us -g rg-contoso-us --key-id $KID -o none
az sql server tde-key show -s sql-contoso-us -g rg-contoso-us --query uri -o tsv
echo $KID
",
        false,
    );
    assert_eq!(out.failures, 0, "{}", out.stderr);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", out.stdout);
    assert_eq!(lines[0], lines[1]);
    // A key the server cannot reach changes nothing: not the identity, not the protector.
    let e = refused(
        &mut sh,
        &mut ws,
        "az sql server update -n sql-contoso-us -g rg-contoso-us --key-id https://nowhere.vault.azure.net/keys/k/0123456789abcdef0123456789abcdef",
    );
    assert!(e.starts_with("ERROR: ("), "{e}");
}

/// `--ids`: az's resource-id arguments filled from an ARM id, as Microsoft's docs pipe ids.
#[test]
fn ids_name_the_resource_as_az_fills_them() {
    let (mut sh, mut ws) = demo();
    let out = sh.run_script(
        &mut ws,
        "ID=$(az sql db show -g rg-contoso-us -s sql-contoso-us -n sales --query id -o tsv)
az sql db show --ids $ID --query name -o tsv
az sql db tde show --ids $ID --query state -o tsv
SRV=$(az sql server show -g rg-contoso-us -n sql-contoso-us --query id -o tsv)
az sql server show --ids $SRV --query name -o tsv
",
        false,
    );
    assert_eq!(out.failures, 0, "{}", out.stderr);
    assert_eq!(out.stdout, "sales\nEnabled\nsql-contoso-us\n");
    let e = refused(&mut sh, &mut ws, "az sql db show --ids not-an-id");
    assert!(
        e.contains("argument --ids: invalid resource ID 'not-an-id'"),
        "{e}"
    );
}

/// `az keyvault create --no-self-perms`: the creator gets no access policy, so its own key
/// create is refused until a policy is set.
#[test]
fn a_vault_made_without_self_permissions_gives_its_creator_none() {
    let (mut sh, mut ws) = demo();
    let r = ok(
        &mut sh,
        &mut ws,
        "az keyvault create -n kv-noself -g rg-contoso-us -l eastus --no-self-perms --query \"length(properties.accessPolicies)\" -o tsv",
    );
    assert_eq!(r.stdout.trim(), "0");
    let r = ok(
        &mut sh,
        &mut ws,
        "az keyvault create -n kv-self -g rg-contoso-us -l eastus --query \"length(properties.accessPolicies)\" -o tsv",
    );
    assert_eq!(r.stdout.trim(), "1");
}
