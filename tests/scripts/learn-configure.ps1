# Microsoft Learn: configure TDE with a customer-managed key (transparent-data-encryption-byok-configure),
# PowerShell tab, each line as printed with its placeholders filled in; the prerequisites (group,
# credential, vault with purge protection, key) as a reader writes them.
New-AzResourceGroup -Name rg1 -Location eastus
$cred = New-Object System.Management.Automation.PSCredential ("azureuser", (ConvertTo-SecureString "Pa55w0rd!123" -AsPlainText -Force))
$server = New-AzSqlServer -ResourceGroupName rg1 -Location eastus `
    -ServerName srv-ps -ServerVersion "12.0" -SqlAdministratorCredentials $cred -AssignIdentity
$server = Set-AzSqlServer -ResourceGroupName rg1 -ServerName srv-ps -AssignIdentity
New-AzSqlDatabase -ResourceGroupName rg1 -ServerName srv-ps -DatabaseName db1
New-AzKeyVault -Name kv-ps1 -ResourceGroupName rg1 -Location eastus -EnablePurgeProtection
$key = Add-AzKeyVaultKey -VaultName kv-ps1 -Name key1 -Destination Software
Set-AzKeyVaultAccessPolicy -VaultName kv-ps1 `
    -ObjectId $server.Identity.PrincipalId -PermissionsToKeys get, wrapKey, unwrapKey
Add-AzSqlServerKeyVaultKey -ResourceGroupName rg1 -ServerName srv-ps -KeyId $key.Id
Set-AzSqlServerTransparentDataEncryptionProtector -ResourceGroupName rg1 -ServerName srv-ps `
   -Type AzureKeyVault -KeyId $key.Id
Get-AzSqlServerTransparentDataEncryptionProtector -ResourceGroupName rg1 -ServerName srv-ps
Set-AzSqlDatabaseTransparentDataEncryption -ResourceGroupName rg1 `
   -ServerName srv-ps -DatabaseName db1 -State "Enabled"
Get-AzSqlDatabaseTransparentDataEncryption -ResourceGroupName rg1 `
   -ServerName srv-ps -DatabaseName db1
Get-AzSqlServerKeyVaultKey -ServerName srv-ps -ResourceGroupName rg1
Get-AzSubscription
