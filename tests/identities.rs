//! Issue 13, section 1: user-assigned managed identities, and a server that reaches its
//! key with one (Microsoft's documented CLI procedure for a customer-managed key at server
//! creation, typed as the docs print it).

mod common;

use tde_console::model::Workspace;
use tde_console::shell::Shell;

fn run(sh: &mut Shell, ws: &mut Workspace, script: &str) {
    let out = sh.run_script(ws, script, false);
    assert_eq!(out.failures, 0, "{}", out.stderr);
}

fn state(ws: &Workspace, server: &str, db: &str) -> String {
    ws.server(server)
        .and_then(|s| s.database(db))
        .map(|d| d.state.label().to_string())
        .unwrap_or_default()
}

const PROCEDURE: &str = r#"
sim profile set current
az group create --name rg-umi --location eastus
az identity create --name umi-tde --resource-group rg-umi --location eastus
UMI_ID=$(az identity show --name umi-tde --resource-group rg-umi --query id -o tsv)
UMI_PRINCIPAL=$(az identity show --name umi-tde --resource-group rg-umi --query principalId -o tsv)
az keyvault create --name kv-umi --resource-group rg-umi --location eastus --enable-purge-protection true
az keyvault set-policy --name kv-umi --object-id $UMI_PRINCIPAL --key-permissions get wrapKey unwrapKey
KEY_ID=$(az keyvault key create --name tde-umi --vault-name kv-umi --kty RSA --size 2048 --query key.kid -o tsv)
az sql server create --name sql-umi --resource-group rg-umi --location eastus --admin-user sqladmin --admin-password 'Str0ng!Passw0rd-2026' --assign-identity --identity-type UserAssigned --user-assigned-identity-id $UMI_ID --primary-user-assigned-identity-id $UMI_ID --key-id $KEY_ID
az sql db create --name orders --server sql-umi --resource-group rg-umi
"#;

#[test]
fn a_server_created_with_a_customer_managed_key_reaches_it_with_its_user_assigned_identity() {
    let mut sh = Shell::new().with_keys(common::FixtureKeys::boxed());
    let mut ws = tde_console::service::new_workspace("t", 1);
    run(&mut sh, &mut ws, PROCEDURE);
    let s = ws.server("sql-umi").unwrap();
    assert!(
        s.identity.is_none(),
        "UserAssigned only: no system identity"
    );
    assert_eq!(s.user_assigned_identities.len(), 1);
    assert!(
        s.protector_uri().is_some_and(|u| u.vault == "kv-umi"),
        "the key given at creation is the protector"
    );
    let json = sh.run_line(
        &mut ws,
        "az sql server show -n sql-umi -g rg-umi --query identity.type -o tsv",
    );
    assert_eq!(json.stdout.trim(), "UserAssigned");
    assert_eq!(state(&ws, "sql-umi", "orders"), "Online");

    // Deleting the identity loses the key like a revoked access policy.
    run(
        &mut sh,
        &mut ws,
        "az identity delete --name umi-tde --resource-group rg-umi\nsim clock advance 30m",
    );
    assert_eq!(state(&ws, "sql-umi", "orders"), "Inaccessible");
}

#[test]
fn without_access_for_the_identity_the_server_is_not_created() {
    let mut sh = Shell::new().with_keys(common::FixtureKeys::boxed());
    let mut ws = tde_console::service::new_workspace("t", 1);
    let without_policy: String = PROCEDURE
        .lines()
        .filter(|l| {
            !l.contains("set-policy")
                && !l.contains("sql server create")
                && !l.contains("sql db create")
        })
        .map(|l| format!("{l}\n"))
        .collect();
    run(&mut sh, &mut ws, &without_policy);
    let before = ws.clone();
    let create = PROCEDURE
        .lines()
        .find(|l| l.contains("sql server create"))
        .unwrap();
    let r = sh.run_line(&mut ws, create);
    assert!(!r.ok);
    assert!(
        r.stderr.contains("AzureKeyVaultMissingPermissions"),
        "{}",
        r.stderr
    );
    assert!(
        common::unchanged_but_its_trace(&ws, &before).is_some(),
        "all or nothing: no server without its key"
    );
    assert!(ws.server("sql-umi").is_none());
    // A key at creation without a primary user-assigned identity is refused too.
    let r = sh.run_line(
        &mut ws,
        "az sql server create --name sql-umi --resource-group rg-umi --location eastus --admin-user sqladmin --admin-password 'Str0ng!Passw0rd-2026' --assign-identity --key-id $KEY_ID",
    );
    assert!(
        !r.ok && r.stderr.contains("primary user-assigned identity"),
        "{}",
        r.stderr
    );
}

#[test]
fn update_spells_the_identity_flag_as_az_does_and_switches_to_a_user_assigned_identity() {
    let mut sh = Shell::new().with_keys(common::FixtureKeys::boxed());
    let mut ws = tde_console::persist::demo().unwrap();
    let r = sh.run_line(
        &mut ws,
        "az sql server update -n sql-contoso-eu -g rg-contoso-eu --assign-identity",
    );
    assert!(
        !r.ok
            && r.stderr
                .contains("unrecognized arguments: --assign-identity"),
        "{}",
        r.stderr
    );
    run(
        &mut sh,
        &mut ws,
        "az sql server update -n sql-contoso-eu -g rg-contoso-eu --assign_identity -o none",
    );
    assert!(ws.server("sql-contoso-eu").unwrap().identity.is_some());
    run(
        &mut sh,
        &mut ws,
        "az identity create -n umi-eu -g rg-contoso-eu -o none\nID=$(az identity show -n umi-eu -g rg-contoso-eu --query id -o tsv)\naz sql server update -n sql-contoso-eu -g rg-contoso-eu -i --identity-type SystemAssigned,UserAssigned --user-assigned-identity-id $ID --primary-user-assigned-identity-id $ID -o none",
    );
    let s = ws.server("sql-contoso-eu").unwrap();
    assert!(s.identity.is_some() && s.primary_user_assigned_identity.is_some());
    let r = sh.run_line(
        &mut ws,
        "az sql server update -n sql-contoso-eu -g rg-contoso-eu --identity-type UserAssigned --user-assigned-identity-id /subscriptions/x/resourcegroups/y/providers/Microsoft.ManagedIdentity/userAssignedIdentities/nope",
    );
    assert!(
        !r.ok && r.stderr.contains("InvalidUserAssignedIdentity"),
        "{}",
        r.stderr
    );
}

const DB_LEVEL: &str = r#"
sim profile set current
az group create --name rg-dbk --location eastus
az sql server create --name sql-dbk --resource-group rg-dbk --location eastus --admin-user sqladmin --admin-password 'Str0ng!Passw0rd-2026' --assign-identity
az identity create --name umi-db --resource-group rg-dbk --location eastus
UMI_ID=$(az identity show --name umi-db --resource-group rg-dbk --query id -o tsv)
UMI_PRINCIPAL=$(az identity show --name umi-db --resource-group rg-dbk --query principalId -o tsv)
az keyvault create --name kv-dbk --resource-group rg-dbk --location eastus --enable-purge-protection true
az keyvault set-policy --name kv-dbk --object-id $UMI_PRINCIPAL --key-permissions get wrapKey unwrapKey
KID=$(az keyvault key create --name db-key --vault-name kv-dbk --kty RSA --size 2048 --query key.kid -o tsv)
"#;

#[test]
fn a_database_level_key_is_reached_with_the_databases_user_assigned_identity() {
    let mut sh = Shell::new().with_keys(common::FixtureKeys::boxed());
    let mut ws = tde_console::service::new_workspace("t", 1);
    run(&mut sh, &mut ws, DB_LEVEL);
    // Today's rule: no user-assigned identity on the database, no database-level key.
    let before = ws.clone();
    let r = sh.run_line(
        &mut ws,
        "az sql db create --resource-group rg-dbk --server sql-dbk --name db0 --encryption-protector $KID",
    );
    assert!(
        !r.ok
            && r.stderr
                .contains("user-assigned managed identity on the database"),
        "{}",
        r.stderr
    );
    assert!(ws.same_as(&before));
    // The documented create: the database's identity reaches the key (the server's own
    // identity has no access to kv-dbk at all).
    run(
        &mut sh,
        &mut ws,
        "az sql db create --resource-group rg-dbk --server sql-dbk --name db1 --assign-identity --user-assigned-identity-id $UMI_ID --encryption-protector $KID --keys $KID",
    );
    assert_eq!(state(&ws, "sql-dbk", "db1"), "Online");
    let keys = sh.run_line(
        &mut ws,
        "az sql db show --resource-group rg-dbk --server sql-dbk --name db1 --expand-keys --query \"keys.*.type\" -o tsv",
    );
    assert_eq!(keys.stdout.trim(), "AzureKeyVault");
    let t = sh.run_line(
        &mut ws,
        "az sql db show --resource-group rg-dbk --server sql-dbk --name db1 --query identity.type -o tsv",
    );
    assert_eq!(t.stdout.trim(), "UserAssigned");
    // An existing database gets an identity and a key with update.
    run(
        &mut sh,
        &mut ws,
        "az sql db create --resource-group rg-dbk --server sql-dbk --name db2 -o none\naz sql db update --resource-group rg-dbk --server sql-dbk --name db2 --assign-identity --user-assigned-identity-id $UMI_ID --encryption-protector $KID -o none",
    );
    assert!(
        ws.server("sql-dbk")
            .unwrap()
            .database("db2")
            .unwrap()
            .encryption_protector
            .is_some()
    );
    // Deleting the identity loses both databases' keys; the server's own databases are not
    // touched.
    run(
        &mut sh,
        &mut ws,
        "az sql db create --resource-group rg-dbk --server sql-dbk --name plain -o none\naz identity delete --name umi-db --resource-group rg-dbk\nsim clock advance 30m",
    );
    assert_eq!(state(&ws, "sql-dbk", "db1"), "Inaccessible");
    assert_eq!(state(&ws, "sql-dbk", "db2"), "Inaccessible");
    assert_eq!(state(&ws, "sql-dbk", "plain"), "Online");
}

#[test]
fn under_today_s_rules_a_database_key_is_not_reverted_while_the_server_uses_a_customer_managed_key()
{
    let mut sh = Shell::new().with_keys(common::FixtureKeys::boxed());
    let mut ws = tde_console::persist::demo().unwrap();
    // The demo's billing database has its own key on a customer-managed server.
    let line = "az sql db tde key revert --database billing --server sql-contoso-us --resource-group rg-contoso-us";
    run(&mut sh, &mut ws, "sim profile set current");
    let before = ws.clone();
    let r = sh.run_line(&mut ws, line);
    assert!(
        !r.ok && r.stderr.contains("cannot be reverted to the server's key"),
        "{}",
        r.stderr
    );
    assert!(ws.same_as(&before));
    // The seed-era profile lets it through, as before.
    run(&mut sh, &mut ws, &format!("sim profile set 2021\n{line}"));
}
