//! Issue 13, section 4: the seed's Az PowerShell procedures in the shell's PowerShell mode,
//! with PowerShell's syntax and output.

mod common;

use tde_console::model::{ServerKeyType, Workspace};
use tde_console::shell::{Shell, ShellMode};

fn pwsh() -> (Shell, Workspace) {
    let mut sh = Shell::new().with_keys(common::FixtureKeys::boxed());
    sh.mode = ShellMode::Pwsh;
    (sh, tde_console::persist::demo().expect("demo"))
}

const SEED_PROCEDURE: &str = r#"
# Assign an identity, grant it the key, add the key, make it the protector (the seed's steps)
$server = Set-AzSqlServer -ResourceGroupName rg-contoso-eu -ServerName sql-contoso-eu -AssignIdentity
Set-AzKeyVaultAccessPolicy -VaultName kv-contoso-eu -ObjectId $server.Identity.PrincipalId -PermissionsToKeys get, wrapKey, unwrapKey
$key = Get-AzKeyVaultKey -VaultName kv-contoso-eu -Name eu-tde-key
Add-AzSqlServerKeyVaultKey -ResourceGroupName rg-contoso-eu -ServerName sql-contoso-eu -KeyId $key.Id
Set-AzSqlServerTransparentDataEncryptionProtector -ResourceGroupName rg-contoso-eu `
    -ServerName sql-contoso-eu -Type AzureKeyVault -KeyId $key.Id
Get-AzSqlServerTransparentDataEncryptionProtector -ResourceGroupName rg-contoso-eu -ServerName sql-contoso-eu
Set-AzSqlDatabaseTransparentDataEncryption -ResourceGroupName rg-contoso-eu -ServerName sql-contoso-eu -DatabaseName web -State "Enabled"
"#;

#[test]
fn the_seed_procedure_runs_as_typed_and_prints_as_powershell_does() {
    let (mut sh, mut ws) = pwsh();
    let out = sh.run_script(&mut ws, SEED_PROCEDURE, false);
    assert_eq!(out.failures, 0, "{}", out.stderr);
    let s = ws.server("sql-contoso-eu").unwrap();
    assert_eq!(s.protector.key_type, ServerKeyType::AzureKeyVault);
    assert!(s.protector_uri().is_some_and(|u| u.key == "eu-tde-key"));
    // Property lists with the cmdlets' names, in their order.
    assert!(out.stdout.contains(
        "ResourceGroupName : rg-contoso-eu\nServerName        : sql-contoso-eu\nServerKeyName     : kv-contoso-eu_eu-tde-key_"
    ), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("\nType                  : AzureKeyVault\nServerKeyVaultKeyName : "),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("\nDatabaseName      : web\n"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("CreationDate      : 1/3/2026 9:00:00 AM"),
        "{}",
        out.stdout
    );
}

#[test]
fn key_backup_and_restore_and_removal_with_the_cmdlets() {
    let (mut sh, mut ws) = pwsh();
    let dir = std::env::temp_dir().join(format!("tde-pwsh-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("k.keybackup");
    let _ = std::fs::remove_file(&file);
    let script = format!(
        "$k = Add-AzKeyVaultKey -VaultName kv-contoso-us -Name fresh -Destination Software -Size 2048\n\
         Write-Output \"made $($k.Name)\"\n\
         Backup-AzKeyVaultKey -VaultName kv-contoso-us -Name fresh -OutputFile '{}'\n\
         Remove-AzKeyVaultKey -VaultName kv-contoso-us -Name fresh -Force\n\
         Restore-AzKeyVaultKey -VaultName kv-contoso-us2 -InputFile '{}'\n",
        file.display(),
        file.display()
    );
    let out = sh.run_script(&mut ws, &script, false);
    assert_eq!(out.failures, 0, "{}", out.stderr);
    assert!(out.stdout.contains("made fresh\n"));
    assert!(
        out.stdout.contains(&format!("{}\n", file.display())),
        "the backup prints its path"
    );
    assert!(
        out.stdout
            .contains("VaultName     : kv-contoso-us2\nName          : fresh\n"),
        "{}",
        out.stdout
    );
    assert!(
        ws.vault("kv-contoso-us")
            .and_then(|v| v.key("fresh"))
            .is_some_and(|k| k.deleted.is_some())
    );
    let _ = std::fs::remove_file(&file);
}

#[test]
fn powershell_errors_name_the_cmdlet_and_change_nothing() {
    let (mut sh, mut ws) = pwsh();
    let before = ws.clone();
    for (line, want) in [
        (
            "Get-AzSqlServerTransparentDataEncryptionProtector -ResourceGroupName rg-contoso-eu",
            "Get-AzSqlServerTransparentDataEncryptionProtector: Cannot process command because of one or more missing mandatory parameters: ServerName.",
        ),
        (
            "Set-AzKeyVaultAccessPolicy -VaultName kv-contoso-eu -ObjectId x -Bogus 1",
            "Set-AzKeyVaultAccessPolicy: A parameter cannot be found that matches parameter name 'Bogus'.",
        ),
        (
            "Get-AzFoo -X 1",
            "Get-AzFoo: The term 'Get-AzFoo' is not recognized",
        ),
        (
            "Set-AzSqlServerTransparentDataEncryptionProtector -ResourceGroupName rg-contoso-eu -ServerName sql-contoso-eu -Type AzureKeyVault -KeyId https://kv-contoso-eu.vault.azure.net/keys/eu-tde-key",
            "Set-AzSqlServerTransparentDataEncryptionProtector: (InvalidKeyName)",
        ),
        (
            "Add-AzSqlServerKeyVaultKey -ResourceGroupName rg-contoso-eu -ServerName sql-contoso-eu -KeyId 'not a key id",
            "The string is missing the terminator",
        ),
    ] {
        let r = sh.run_line(&mut ws, line);
        assert!(!r.ok, "{line}");
        assert!(r.stderr.contains(want), "{line}: {}", r.stderr);
        assert!(ws.same_as(&before), "{line} changed the workspace");
    }
}

#[test]
fn pwsh_and_bash_switch_modes_as_cloud_shell_does() {
    let mut sh = Shell::new().with_keys(common::FixtureKeys::boxed());
    let mut ws = tde_console::persist::demo().unwrap();
    let out = sh.run_script(
        &mut ws,
        "pwsh\n$p = Get-AzSqlServerTransparentDataEncryptionProtector -ResourceGroupName rg-contoso-us -ServerName sql-contoso-us\nWrite-Output $p.Type\nbash\naz sql server tde-key show -s sql-contoso-us -g rg-contoso-us --query serverKeyType -o tsv",
        false,
    );
    assert_eq!(out.failures, 0, "{}", out.stderr);
    assert!(
        out.stdout
            .contains("AzureKeyVault\nBash: az commands.\nAzureKeyVault\n"),
        "{}",
        out.stdout
    );
    assert_eq!(sh.mode, ShellMode::Az);
}

#[test]
fn the_database_level_key_procedure_runs_in_powershell() {
    let (mut sh, mut ws) = pwsh();
    let script = r#"
bash
sim profile set current
pwsh
$umi = New-AzUserAssignedIdentity -ResourceGroupName rg-contoso-us -Name umi-orders -Location eastus
Set-AzKeyVaultAccessPolicy -VaultName kv-contoso-us -ObjectId $umi.PrincipalId -PermissionsToKeys get, wrapKey, unwrapKey
$key = Add-AzKeyVaultKey -VaultName kv-contoso-us -Name orders-key -Destination Software -Size 2048
New-AzSqlDatabase -ResourceGroupName rg-contoso-us -ServerName sql-contoso-us -DatabaseName orders -AssignIdentity -UserAssignedIdentityId $umi.Id -EncryptionProtector $key.Id -KeyList $key.Id
"#;
    let out = sh.run_script(&mut ws, script, false);
    assert_eq!(out.failures, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("DatabaseName        : orders"),
        "{}",
        out.stdout
    );
    let d = ws
        .server("sql-contoso-us")
        .unwrap()
        .database("orders")
        .unwrap();
    assert!(d.encryption_protector.is_some() && d.identity.is_some());
}

#[test]
fn new_az_sql_server_creates_a_server_with_a_key_at_creation_from_a_pscredential() {
    let (mut sh, mut ws) = pwsh();
    let script = r#"
bash
sim profile set current
pwsh
$umi = New-AzUserAssignedIdentity -ResourceGroupName rg-contoso-us -Name umi-new -Location eastus
Set-AzKeyVaultAccessPolicy -VaultName kv-contoso-us -ObjectId $umi.PrincipalId -PermissionsToKeys get, wrapKey, unwrapKey
$key = Add-AzKeyVaultKey -VaultName kv-contoso-us -Name new-server-key -Destination Software -Size 2048
$password = ConvertTo-SecureString 'Str0ng!Passw0rd-2026' -AsPlainText -Force
$cred = New-Object System.Management.Automation.PSCredential ('sqladmin', $password)
Write-Output $cred
$server = New-AzSqlServer -ResourceGroupName rg-contoso-us -Location eastus -ServerName sql-new -ServerVersion "12.0" -SqlAdministratorCredentials $cred -AssignIdentity -IdentityType "UserAssigned" -UserAssignedIdentityId $umi.Id -PrimaryUserAssignedIdentityId $umi.Id -KeyId $key.Id
Write-Output $server.KeyId
"#;
    let out = sh.run_script(&mut ws, script, false);
    assert_eq!(out.failures, 0, "{}", out.stderr);
    assert!(
        out.stdout
            .contains("System.Management.Automation.PSCredential"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("Str0ng"), "the password never shows");
    assert!(
        out.stdout.contains("/keys/new-server-key/"),
        "{}",
        out.stdout
    );
    assert!(ws.server("sql-new").unwrap().protector_uri().is_some());
}

#[test]
fn the_managed_instance_and_cross_tenant_procedures_run_in_powershell() {
    let (mut sh, mut ws) = pwsh();
    let script = r#"
bash
sim profile set current
az network vnet create -g rg-contoso-us -n vnet-mi --address-prefixes 10.0.0.0/16 -o none
az network vnet subnet create -g rg-contoso-us --vnet-name vnet-mi -n mi-subnet --address-prefixes 10.0.0.0/24 --delegations Microsoft.Sql/managedInstances -o none
SUBNET=$(az network vnet subnet show -g rg-contoso-us --vnet-name vnet-mi -n mi-subnet --query id -o tsv)
sim tenant create --id 22222222-3333-4444-8555-666666666666 --name Fabrikam -o none
sim subscription create --id 33333333-4444-4555-8666-777777777777 --name "Fabrikam Keys" --tenant 22222222-3333-4444-8555-666666666666 -o none
pwsh
$cred = New-Object System.Management.Automation.PSCredential ('sqladmin', (ConvertTo-SecureString 'Str0ng!Passw0rd-2026' -AsPlainText -Force))
$tenantA = (Connect-AzAccount).TenantId
$umi = New-AzUserAssignedIdentity -ResourceGroupName rg-contoso-us -Name umi-isv -Location eastus
$app = New-AzADApplication -DisplayName isv-tde -SignInAudience AzureADMultipleOrgs
New-AzADAppFederatedCredential -ApplicationObjectId $app.Id -Audience api://AzureADTokenExchange -Issuer "https://login.microsoftonline.com/$tenantA/v2.0" -Name tde-umi -Subject $umi.PrincipalId
Connect-AzAccount -Tenant 22222222-3333-4444-8555-666666666666 -Subscription 33333333-4444-4555-8666-777777777777
$sp = New-AzADServicePrincipal -ApplicationId $app.AppId
New-AzResourceGroup -Name rg-keys -Location eastus
New-AzKeyVault -VaultName kv-fabrikam -ResourceGroupName rg-keys -Location eastus -EnablePurgeProtection
Set-AzKeyVaultAccessPolicy -VaultName kv-fabrikam -ObjectId $sp.Id -PermissionsToKeys get, wrapKey, unwrapKey
$key = Add-AzKeyVaultKey -VaultName kv-fabrikam -Name isv-tde -Destination Software -Size 2048
Connect-AzAccount -Tenant $tenantA
New-AzSqlServer -ResourceGroupName rg-contoso-us -Location eastus -ServerName sql-isv -SqlAdministratorCredentials $cred -AssignIdentity -IdentityType UserAssigned -UserAssignedIdentityId $umi.Id -PrimaryUserAssignedIdentityId $umi.Id -FederatedClientId $app.AppId -KeyId $key.Id
"#;
    let out = sh.run_script(&mut ws, script, false);
    assert_eq!(out.failures, 0, "{}", out.stderr);
    assert!(
        ws.server("sql-isv")
            .unwrap()
            .protector_uri()
            .is_some_and(|u| u.vault == "kv-fabrikam")
    );
    // And an instance, with its SubnetId from the az line above.
    let subnet = sh.vars.get("SUBNET").cloned().unwrap();
    let out = sh.run_script(
        &mut ws,
        &format!("New-AzSqlInstance -Name mi-ps -ResourceGroupName rg-contoso-us -Location eastus -AdministratorCredential $cred -SubnetId '{subnet}' -AssignIdentity -LicenseType LicenseIncluded -StorageSizeInGB 256 -VCore 8 -Edition GeneralPurpose -ComputeGeneration Gen5"),
        false,
    );
    assert_eq!(out.failures, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("ManagedInstanceName      : mi-ps"),
        "{}",
        out.stdout
    );
}
