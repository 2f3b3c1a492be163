//! Issue 13, section 3: Azure SQL Managed Instance with a customer-managed key, by the
//! documented CLI procedure (network prerequisites included), losing and regaining its key
//! as a logical server does.

mod common;

use tde_console::model::Workspace;
use tde_console::shell::{Shell, ShellMode};

fn run(sh: &mut Shell, ws: &mut Workspace, script: &str) -> String {
    let out = sh.run_script(ws, script, false);
    assert_eq!(out.failures, 0, "{}", out.stderr);
    out.stdout
}

const PROCEDURE: &str = r#"
az group create --name rg-mi --location eastus
az network vnet create --resource-group rg-mi --name vnet-mi --address-prefixes 10.0.0.0/16 --location eastus
az network vnet subnet create --resource-group rg-mi --vnet-name vnet-mi --name mi-subnet --address-prefixes 10.0.0.0/24 --delegations Microsoft.Sql/managedInstances
SUBNET=$(az network vnet subnet show --resource-group rg-mi --vnet-name vnet-mi --name mi-subnet --query id -o tsv)
az sql mi create --name mi-contoso --resource-group rg-mi --location eastus --admin-user sqladmin --admin-password 'Str0ng!Passw0rd-2026' --subnet $SUBNET --license-type LicenseIncluded --capacity 8 --storage 256GB --edition GeneralPurpose --family Gen5 --assign-identity
PRINCIPAL=$(az sql mi show --name mi-contoso --resource-group rg-mi --query identity.principalId -o tsv)
az keyvault create --name kv-mi --resource-group rg-mi --location eastus --enable-soft-delete true --enable-purge-protection true
az keyvault set-policy --name kv-mi --object-id $PRINCIPAL --key-permissions get wrapKey unwrapKey
KID=$(az keyvault key create --name mi-tde --vault-name kv-mi --kty RSA --size 2048 --query key.kid -o tsv)
az sql mi key create --kid $KID --managed-instance mi-contoso --resource-group rg-mi
az sql mi tde-key set --server-key-type AzureKeyVault --kid $KID --managed-instance mi-contoso --resource-group rg-mi
az sql midb create --resource-group rg-mi --mi mi-contoso --name db1
"#;

fn state(ws: &Workspace) -> String {
    ws.server("mi-contoso")
        .and_then(|s| s.database("db1"))
        .map(|d| d.state.label().to_string())
        .unwrap_or_default()
}

#[test]
fn the_documented_managed_instance_procedure_works_and_the_instance_loses_and_regains_its_key() {
    let mut sh = Shell::new().with_keys(common::FixtureKeys::boxed());
    let mut ws = tde_console::service::new_workspace("t", 1);
    run(&mut sh, &mut ws, PROCEDURE);
    let out = run(
        &mut sh,
        &mut ws,
        "az sql mi tde-key show --mi mi-contoso -g rg-mi --query \"{t:serverKeyType, type:type}\" -o tsv\naz sql midb show --mi mi-contoso -g rg-mi -n db1 --query type -o tsv\naz sql mi list --query \"[].name\" -o tsv\naz sql server list --query \"[].name\" -o tsv",
    );
    assert_eq!(
        out,
        "AzureKeyVault\tMicrosoft.Sql/managedInstances/encryptionProtector\nMicrosoft.Sql/managedInstances/databases\nmi-contoso\n"
    );
    assert_eq!(state(&ws), "Online");
    // Revoke, and the instance's database turns Inaccessible; grant back, and it heals.
    run(
        &mut sh,
        &mut ws,
        "az keyvault delete-policy --name kv-mi --object-id $PRINCIPAL\nsim clock advance 30m",
    );
    assert_eq!(state(&ws), "Inaccessible");
    run(
        &mut sh,
        &mut ws,
        "az keyvault set-policy --name kv-mi --object-id $PRINCIPAL --key-permissions get wrapKey unwrapKey\nsim clock advance 2h",
    );
    assert_eq!(state(&ws), "Online");
    // The seed's PowerShell for an instance's keys.
    sh.mode = ShellMode::Pwsh;
    let out = run(
        &mut sh,
        &mut ws,
        "Get-AzSqlInstanceKeyVaultKey -ResourceGroupName rg-mi -InstanceName mi-contoso",
    );
    assert!(out.contains("ManagedInstanceName : mi-contoso"), "{out}");
    assert!(out.contains("Type                : AzureKeyVault"), "{out}");
}

#[test]
fn an_instance_needs_a_delegated_subnet_and_a_refusal_changes_nothing() {
    let mut sh = Shell::new().with_keys(common::FixtureKeys::boxed());
    let mut ws = tde_console::service::new_workspace("t", 1);
    run(
        &mut sh,
        &mut ws,
        "az group create --name rg-mi --location eastus\naz network vnet create -g rg-mi -n vnet-mi --address-prefixes 10.0.0.0/16\naz network vnet subnet create -g rg-mi --vnet-name vnet-mi -n plain --address-prefixes 10.0.1.0/24",
    );
    let before = ws.clone();
    let r = sh.run_line(
        &mut ws,
        "az sql mi create -n mi-x -g rg-mi -u sqladmin -p 'Str0ng!Passw0rd-2026' --subnet plain --vnet-name vnet-mi",
    );
    assert!(!r.ok && r.stderr.contains("not delegated"), "{}", r.stderr);
    assert!(ws.same_as(&before));
    let r = sh.run_line(
        &mut ws,
        "az network vnet subnet create -g rg-mi --vnet-name vnet-mi -n outside --address-prefixes 192.168.0.0/24",
    );
    assert!(
        !r.ok && r.stderr.contains("NetcfgSubnetRangeOutsideVnet"),
        "{}",
        r.stderr
    );
    let r = sh.run_line(&mut ws, "az sql mi show -n nope -g rg-mi");
    assert!(
        !r.ok && r.stderr.contains("Microsoft.Sql/managedInstances/nope"),
        "{}",
        r.stderr
    );
}

#[test]
fn the_managed_instance_powershell_cmdlets_set_its_protector() {
    let mut sh = Shell::new().with_keys(common::FixtureKeys::boxed());
    let mut ws = tde_console::service::new_workspace("t", 1);
    let setup: String = PROCEDURE
        .lines()
        .filter(|l| !l.contains("mi key create") && !l.contains("mi tde-key set"))
        .map(|l| format!("{l}\n"))
        .collect();
    run(&mut sh, &mut ws, &setup);
    let kid = sh.vars.get("KID").cloned().unwrap();
    sh.mode = ShellMode::Pwsh;
    let out = run(
        &mut sh,
        &mut ws,
        &format!(
            "Add-AzSqlInstanceKeyVaultKey -ResourceGroupName rg-mi -InstanceName mi-contoso -KeyId '{kid}'\n\
             Set-AzSqlInstanceTransparentDataEncryptionProtector -ResourceGroupName rg-mi -InstanceName mi-contoso -Type AzureKeyVault -KeyId '{kid}'\n"
        ),
    );
    assert!(
        out.contains("ManagedInstanceKeyVaultKeyName : kv-mi_mi-tde_"),
        "{out}"
    );
    assert!(ws.server("mi-contoso").unwrap().protector_uri().is_some());
}

#[test]
fn a_managed_database_keeps_the_collation_it_was_created_with() {
    let mut sh = Shell::new().with_keys(common::FixtureKeys::boxed());
    let mut ws = tde_console::service::new_workspace("t", 1);
    run(&mut sh, &mut ws, PROCEDURE);
    let out = run(
        &mut sh,
        &mut ws,
        "az sql midb create --resource-group rg-mi --mi mi-contoso --name db2 --collation Latin1_General_100_CS_AS_SC --query collation -o tsv\naz sql midb show --resource-group rg-mi --mi mi-contoso --name db2 --query collation -o tsv\naz sql midb show --resource-group rg-mi --mi mi-contoso --name db1 --query collation -o tsv",
    );
    assert_eq!(
        out,
        "Latin1_General_100_CS_AS_SC\nLatin1_General_100_CS_AS_SC\nSQL_Latin1_General_CP1_CI_AS\n"
    );
}
