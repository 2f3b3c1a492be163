//! Issue 13, section 1: a customer-managed key in another tenant's vault, reached through a
//! multi-tenant application federated to the server's user-assigned identity (the
//! documented cross-tenant procedure); without the federation Azure refuses it.

use crate::common;

use tde_console::model::Workspace;
use tde_console::shell::Shell;

const TENANT_B: &str = "22222222-3333-4444-8555-666666666666";
const SUB_B: &str = "33333333-4444-4555-8666-777777777777";

fn run(sh: &mut Shell, ws: &mut Workspace, script: &str) -> String {
    let out = sh.run_script(ws, script, false);
    assert_eq!(out.failures, 0, "{}", out.stderr);
    out.stdout
}

/// The ISV's tenant (A) has the server and its identity; the customer's tenant (B) has the
/// vault. `federate` adds the federated credential that lets the identity act as the app.
fn procedure(federate: bool) -> String {
    let federation = if federate {
        "az ad app federated-credential create --id $APP_ID --parameters \"{\\\"name\\\": \\\"tde-umi\\\", \\\"issuer\\\": \\\"https://login.microsoftonline.com/$TENANT_A/v2.0\\\", \\\"subject\\\": \\\"$UMI_PRINCIPAL\\\", \\\"audiences\\\": [\\\"api://AzureADTokenExchange\\\"]}\""
    } else {
        "echo no federation"
    };
    format!(
        r#"sim profile set current
TENANT_A=$(az account show --query tenantId -o tsv)
SUB_A=$(az account show --query id -o tsv)
sim tenant create --id {TENANT_B} --name Fabrikam --domain fabrikam.onmicrosoft.com -o none
sim subscription create --id {SUB_B} --name "Fabrikam Keys" --tenant {TENANT_B} -o none
az group create --name rg-isv --location eastus -o none
az identity create --name umi-isv --resource-group rg-isv --location eastus -o none
UMI_ID=$(az identity show --name umi-isv --resource-group rg-isv --query id -o tsv)
UMI_PRINCIPAL=$(az identity show --name umi-isv --resource-group rg-isv --query principalId -o tsv)
APP_ID=$(az ad app create --display-name isv-tde --sign-in-audience AzureADMultipleOrgs --query appId -o tsv)
{federation}
az login --tenant {TENANT_B} -o none
az account set --subscription {SUB_B}
SP_ID=$(az ad sp create --id $APP_ID --query id -o tsv)
az group create --name rg-keys --location eastus -o none
az keyvault create --name kv-fabrikam --resource-group rg-keys --location eastus --enable-purge-protection true -o none
az keyvault set-policy --name kv-fabrikam --object-id $SP_ID --key-permissions get wrapKey unwrapKey -o none
KID=$(az keyvault key create --name isv-tde --vault-name kv-fabrikam --kty RSA --size 2048 --query key.kid -o tsv)
az login --tenant $TENANT_A -o none
az account set --subscription $SUB_A
"#
    )
}

const CREATE: &str = "az sql server create --name sql-isv --resource-group rg-isv --location eastus --admin-user sqladmin --admin-password 'Str0ng!Passw0rd-2026' --assign-identity --identity-type UserAssigned --user-assigned-identity-id $UMI_ID --primary-user-assigned-identity-id $UMI_ID --federated-client-id $APP_ID --key-id $KID";

#[test]
fn a_federated_multi_tenant_app_reaches_the_other_tenants_vault() {
    let mut sh = Shell::new().with_keys(common::FixtureKeys::boxed());
    let mut ws = tde_console::service::new_workspace("t", 1);
    run(&mut sh, &mut ws, &procedure(true));
    run(
        &mut sh,
        &mut ws,
        &format!(
            "{CREATE} -o none\naz sql db create --name orders --server sql-isv --resource-group rg-isv -o none"
        ),
    );
    let s = ws.server("sql-isv").unwrap();
    assert!(s.protector_uri().is_some_and(|u| u.vault == "kv-fabrikam"));
    assert_ne!(
        ws.vault("kv-fabrikam").unwrap().tenant,
        s.tenant,
        "the vault is in the other tenant"
    );
    assert_eq!(s.database("orders").unwrap().state.label(), "Online");
    // The customer revokes the application: the ISV's database loses its key.
    run(
        &mut sh,
        &mut ws,
        &format!(
            "az login --tenant {TENANT_B} -o none\naz keyvault delete-policy --name kv-fabrikam --object-id $SP_ID -o none\nsim clock advance 30m"
        ),
    );
    assert_eq!(
        ws.server("sql-isv")
            .unwrap()
            .database("orders")
            .unwrap()
            .state
            .label(),
        "Inaccessible"
    );
}

#[test]
fn without_the_federated_credential_the_other_tenants_key_is_refused() {
    let mut sh = Shell::new().with_keys(common::FixtureKeys::boxed());
    let mut ws = tde_console::service::new_workspace("t", 1);
    run(&mut sh, &mut ws, &procedure(false));
    let before = ws.clone();
    let r = sh.run_line(&mut ws, CREATE);
    assert!(!r.ok, "{}", r.stdout);
    assert!(
        r.stderr.contains("AzureKeyVaultCrossTenantNotSupported")
            || r.stderr.contains("different Azure Active Directory tenant"),
        "{}",
        r.stderr
    );
    assert!(
        common::unchanged_but_its_trace(&ws, &before).is_some(),
        "nothing created"
    );
}

/// Database level: the server keeps its own key; one database reaches the other tenant's
/// vault with its own user-assigned identity, federated to the application with
/// `az sql db create --federated-client-id`. Without that flag the key is refused.
#[test]
fn a_database_level_key_in_another_tenant_uses_the_databases_federation() {
    let mut sh = Shell::new().with_keys(common::FixtureKeys::boxed());
    let mut ws = tde_console::service::new_workspace("t", 1);
    run(&mut sh, &mut ws, &procedure(true));
    run(
        &mut sh,
        &mut ws,
        "az sql server create --name sql-isv --resource-group rg-isv --location eastus --admin-user sqladmin --admin-password 'Str0ng!Passw0rd-2026' --assign-identity -o none",
    );
    let db = "az sql db create --name tenant-b-db --server sql-isv --resource-group rg-isv --assign-identity --user-assigned-identity-id $UMI_ID --encryption-protector $KID --keys $KID";
    let before = ws.clone();
    let r = sh.run_line(&mut ws, db);
    assert!(!r.ok, "without the federation: {}", r.stdout);
    assert!(
        common::unchanged_but_its_trace(&ws, &before).is_some(),
        "nothing created"
    );
    run(
        &mut sh,
        &mut ws,
        &format!("{db} --federated-client-id $APP_ID -o none"),
    );
    let s = ws.server("sql-isv").unwrap();
    let d = s.database("tenant-b-db").unwrap();
    assert_eq!(d.state.label(), "Online");
    assert!(d.encryption_protector.is_some());
    // Revoking the application in the customer's tenant loses only that database's key.
    run(
        &mut sh,
        &mut ws,
        &format!(
            "az sql db create --name local --server sql-isv --resource-group rg-isv -o none\naz login --tenant {TENANT_B} -o none\naz keyvault delete-policy --name kv-fabrikam --object-id $SP_ID -o none\nsim clock advance 30m"
        ),
    );
    let s = ws.server("sql-isv").unwrap();
    assert_eq!(
        s.database("tenant-b-db").unwrap().state.label(),
        "Inaccessible"
    );
    assert_eq!(s.database("local").unwrap().state.label(), "Online");
}
