//! Issue 13, section 1: user-assigned managed identities, and a server that reaches its
//! key with one (Microsoft's documented CLI procedure for a customer-managed key at server
//! creation, typed as the docs print it).

use crate::common;

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

/// The primary `db1` with its own key, a partner server in another region, and a day of
/// history (geo-backups lag an hour behind).
const DB_LEVEL_GEO: &str = r#"
az sql db create --resource-group rg-dbk --server sql-dbk --name db1 --assign-identity --user-assigned-identity-id $UMI_ID --encryption-protector $KID --keys $KID -o none
az group create --name rg-dbk2 --location westus
az sql server create --name sql-dbk2 --resource-group rg-dbk2 --location westus --admin-user sqladmin --admin-password 'Str0ng!Passw0rd-2026' --assign-identity -o none
sim write --server sql-dbk --database db1 --text "orders of the day"
sim clock advance 2h
databaseName=db1
resourceGroup=rg-dbk
serverName=sql-dbk
secondaryServer=sql-dbk2
secondaryResourceGroup=rg-dbk2
umi=$UMI_ID
encryptionProtector=$KID
subscriptionId=$(az account show --query id -o tsv)
"#;

fn db(ws: &Workspace, server: &str, name: &str) -> tde_console::model::Database {
    ws.server(server).unwrap().database(name).unwrap().clone()
}

/// Microsoft Learn, "Configure geo replication and backup restore for transparent data
/// encryption with database level customer-managed keys": the Azure CLI lines, verbatim.
#[test]
fn database_level_keys_geo_replica_copy_and_restores_run_as_documented() {
    let mut sh = Shell::new().with_keys(common::FixtureKeys::boxed());
    let mut ws = tde_console::service::new_workspace("t", 1);
    run(&mut sh, &mut ws, DB_LEVEL);
    run(&mut sh, &mut ws, DB_LEVEL_GEO);
    // Prepopulate the list of current keys.
    let shown = sh.run_line(
        &mut ws,
        "az sql db show --name $databaseName --resource-group $resourceGroup --server $serverName --expand-keys --keys-filter current",
    );
    assert!(shown.ok, "{}", shown.stderr);
    let kid = sh.run_line(&mut ws, "echo $KID").stdout.trim().to_string();
    let v: serde_json::Value = serde_json::from_str(&shown.stdout).unwrap();
    assert_eq!(v["keys"].as_object().unwrap().len(), 1, "{}", shown.stdout);
    assert_eq!(v["keys"][&kid]["type"], "AzureKeyVault");
    run(
        &mut sh,
        &mut ws,
        "keys=$(az sql db show --name $databaseName --resource-group $resourceGroup --server $serverName --expand-keys --keys-filter current --query \"keys(keys)\" -o tsv)\nsecondaryDatabase=db1",
    );
    assert_eq!(sh.run_line(&mut ws, "echo $keys").stdout.trim(), kid);

    // The geo-secondary, with its own identity and the same key.
    run(
        &mut sh,
        &mut ws,
        "az sql db replica create -g $resourceGroup -s $serverName -n $databaseName --partner-server $secondaryServer --partner-database $secondaryDatabase --partner-resource-group $secondaryResourceGroup -i --encryption-protector $encryptionProtector --user-assigned-identity-id $umi --keys $keys",
    );
    let sec = db(&ws, "sql-dbk2", "db1");
    assert_eq!(state(&ws, "sql-dbk2", "db1"), "Online");
    assert!(sec.encryption_protector.is_some() && sec.identity.is_some());
    assert_eq!(
        sec.dek.as_ref().unwrap().thumbprint,
        db(&ws, "sql-dbk", "db1").dek.unwrap().thumbprint
    );
    assert_eq!(sec.key_history.len(), 1);
    let r = sh.run_line(
        &mut ws,
        "az sql db show -g $secondaryResourceGroup -s $secondaryServer -n db1 --query \"{p: encryptionProtector, t: secondaryType}\" -o tsv",
    );
    assert_eq!(r.stdout.trim(), format!("{kid}\tGeo"));

    // The copy, with the same parameters: a new DEK, the same data.
    run(
        &mut sh,
        &mut ws,
        "secondaryDatabase=db1-copy\naz sql db copy -g $resourceGroup -s $serverName -n $databaseName --dest-name $secondaryDatabase -i --encryption-protector $encryptionProtector --user-assigned-identity-id $umi --keys $keys",
    );
    let copy = db(&ws, "sql-dbk", "db1-copy");
    assert_ne!(
        copy.pages,
        db(&ws, "sql-dbk", "db1").pages,
        "re-encrypted under its own DEK"
    );
    assert_eq!(
        sh.run_line(
            &mut ws,
            "sim read --server sql-dbk --database db1-copy --query text -o tsv"
        )
        .stdout
        .trim(),
        "orders of the day"
    );
    assert!(copy.encryption_protector.is_some());

    // Geo restore: the recoverable database's keys, then the restore with them.
    let g = sh.run_line(
        &mut ws,
        "az sql db geo-backup show --database-name $databaseName -g $resourceGroup --server $serverName --expand-keys",
    );
    assert!(g.ok, "{}", g.stderr);
    let gv: serde_json::Value = serde_json::from_str(&g.stdout).unwrap();
    assert!(gv["keys"].get(&kid).is_some(), "{}", g.stdout);
    run(
        &mut sh,
        &mut ws,
        "destName=db1-geo\naz sql db geo-backup restore --geo-backup-id \"/subscriptions/$subscriptionId/resourceGroups/$resourceGroup/providers/Microsoft.Sql/servers/$serverName/recoverableDatabases/$databaseName\" --dest-database $destName --resource-group $secondaryResourceGroup --dest-server $secondaryServer -i --encryption-protector $encryptionProtector --user-assigned-identity-id $umi --keys $keys",
    );
    assert_eq!(state(&ws, "sql-dbk2", "db1-geo"), "Online");
    let geo = db(&ws, "sql-dbk2", "db1-geo");
    assert!(geo.encryption_protector.is_some());
    assert_eq!(
        sh.run_line(
            &mut ws,
            "sim read --server sql-dbk2 --database db1-geo --query text -o tsv"
        )
        .stdout
        .trim(),
        "orders of the day"
    );

    // Point-in-time restore with the keys in use at the restore point.
    let t = (ws.now() - tde_console::sim::Duration::minutes(30)).to_iso();
    run(
        &mut sh,
        &mut ws,
        &format!(
            "timestamp={t}\nkeys=$(az sql db show --name $databaseName --resource-group $resourceGroup --server $serverName --expand-keys --keys-filter $timestamp --query \"keys(keys)\" -o tsv)\ndestName=db1-pitr\naz sql db restore --dest-name $destName --name $databaseName --resource-group $resourceGroup --server $serverName --subscription $subscriptionId --time $timestamp -i --encryption-protector $encryptionProtector --user-assigned-identity-id $umi --keys $keys"
        ),
    );
    assert_eq!(state(&ws, "sql-dbk", "db1-pitr"), "Online");

    // Dropped database restore: the dropped database's keys, then the restore with them.
    run(
        &mut sh,
        &mut ws,
        "az sql db delete -g $resourceGroup -s $serverName -n db1-copy --yes
DROPPED=$(az sql db list-deleted -g $resourceGroup -s $serverName --query \"[?databaseName=='db1-copy'].name\" -o tsv)
DELETED_AT=$(az sql db list-deleted -g $resourceGroup -s $serverName --query \"[?databaseName=='db1-copy'].deletionDate\" -o tsv)",
    );
    let d = sh.run_line(
        &mut ws,
        "az sql db show-deleted --name db1-copy --resource-group $resourceGroup --server $serverName --restorable-dropped-database-id \"$DROPPED\" --expand-keys",
    );
    assert!(d.ok, "{}", d.stderr);
    let dv: serde_json::Value = serde_json::from_str(&d.stdout).unwrap();
    assert!(dv["keys"].get(&kid).is_some(), "{}", d.stdout);
    run(
        &mut sh,
        &mut ws,
        "timestamp=$DELETED_AT\nkeys=$(az sql db show-deleted --resource-group $resourceGroup --server $serverName --restorable-dropped-database-id \"$DROPPED\" --expand-keys --query \"keys(keys)\" -o tsv)\ndestName=db1-undeleted\naz sql db restore --dest-name $destName --name db1-copy --resource-group $resourceGroup --server $serverName --subscription $subscriptionId --time $timestamp -i --encryption-protector $encryptionProtector --user-assigned-identity-id $umi --keys $keys --deleted-time \"$DELETED_AT\"",
    );
    assert_eq!(state(&ws, "sql-dbk", "db1-undeleted"), "Online");
    assert_eq!(
        sh.run_line(
            &mut ws,
            "sim read --server sql-dbk --database db1-undeleted --query text -o tsv"
        )
        .stdout
        .trim(),
        "orders of the day"
    );
}

#[test]
fn a_geo_secondary_with_another_key_material_is_refused_and_nothing_changes() {
    let mut sh = Shell::new().with_keys(common::FixtureKeys::boxed());
    let mut ws = tde_console::service::new_workspace("t", 1);
    run(&mut sh, &mut ws, DB_LEVEL);
    run(&mut sh, &mut ws, DB_LEVEL_GEO);
    run(
        &mut sh,
        &mut ws,
        "OTHER=$(az keyvault key create --name other-key --vault-name kv-dbk --kty RSA --size 2048 --query key.kid -o tsv)",
    );
    let before = ws.clone();
    let r = sh.run_line(
        &mut ws,
        "az sql db replica create -g $resourceGroup -s $serverName -n $databaseName --partner-server $secondaryServer --partner-resource-group $secondaryResourceGroup -i --encryption-protector $OTHER --user-assigned-identity-id $umi --keys $OTHER",
    );
    assert!(!r.ok, "{}", r.stdout);
    assert!(
        r.stderr.contains("KeyMaterialMissingOnGeoSecondary")
            || r.stderr.contains("KeyMaterialNotFoundOnRemoteServer"),
        "{}",
        r.stderr
    );
    assert!(common::unchanged_but_its_trace(&ws, &before).is_some());
    // A copy to the other server without the key material: the geo-secondary's rule.
    let r = sh.run_line(
        &mut ws,
        "az sql db copy -g $resourceGroup -s $serverName -n $databaseName --dest-name db1c --dest-server $secondaryServer --dest-resource-group $secondaryResourceGroup",
    );
    assert!(
        !r.ok
            && r.stderr
                .contains("PerDatabaseCMKAKVKeyMaterialMissingOnGeoSecondary"),
        "{}",
        r.stderr
    );
    assert!(common::unchanged_but_its_trace(&ws, &before).is_some());
}

#[test]
fn expand_keys_lists_every_key_ever_added_current_ones_and_those_in_use_at_a_time() {
    let mut sh = Shell::new().with_keys(common::FixtureKeys::boxed());
    let mut ws = tde_console::service::new_workspace("t", 1);
    run(&mut sh, &mut ws, DB_LEVEL);
    run(&mut sh, &mut ws, DB_LEVEL_GEO);
    let before_rotation = ws.now().to_iso();
    run(
        &mut sh,
        &mut ws,
        "sim clock advance 1h\nKID2=$(az keyvault key rotate --name db-key --vault-name kv-dbk --query key.kid -o tsv)\naz sql db update -g rg-dbk -s sql-dbk -n db1 --encryption-protector $KID2 -o none\nsim clock advance 1h",
    );
    let count = |sh: &mut Shell, ws: &mut Workspace, filter: &str| -> Vec<String> {
        let r = sh.run_line(
            ws,
            &format!("az sql db show -g rg-dbk -s sql-dbk -n db1 --expand-keys {filter} --query \"keys(keys)\" -o json"),
        );
        assert!(r.ok, "{}", r.stderr);
        serde_json::from_str(&r.stdout).unwrap()
    };
    let kid = sh.run_line(&mut ws, "echo $KID").stdout.trim().to_string();
    let kid2 = sh.run_line(&mut ws, "echo $KID2").stdout.trim().to_string();
    let all = count(&mut sh, &mut ws, "");
    assert_eq!(all.len(), 2, "{all:?}");
    assert!(all.contains(&kid) && all.contains(&kid2));
    assert_eq!(count(&mut sh, &mut ws, "--keys-filter current"), [kid2]);
    assert_eq!(
        count(
            &mut sh,
            &mut ws,
            &format!("--keys-filter {before_rotation}")
        ),
        [kid]
    );
    let r = sh.run_line(
        &mut ws,
        "az sql db show -g rg-dbk -s sql-dbk -n db1 --expand-keys --keys-filter yesterday",
    );
    assert!(!r.ok && r.stderr.contains("--keys-filter"), "{}", r.stderr);
    // The map survives a save and a load.
    let text = tde_console::persist::to_ron(&ws).unwrap();
    let back = tde_console::persist::from_ron(&text, std::path::Path::new("t.ron")).unwrap();
    assert_eq!(
        back.server("sql-dbk")
            .unwrap()
            .database("db1")
            .unwrap()
            .key_history
            .len(),
        2
    );
}
