# Microsoft Learn, "PowerShell and Azure CLI: Enable Transparent Data Encryption with
# customer-managed key from Azure Key Vault" (transparent-data-encryption-byok-configure),
# PowerShell tab, every block in its order as printed, the placeholders filled in. Its
# prerequisites (a group, a purge-protected vault, a key, a credential, a database) come first,
# as a reader makes them. "Useful PowerShell cmdlets" removes a key that is not the protector
# (its comment: the protector cannot be removed), so a second key is added for it.
New-AzResourceGroup -Name rg-byok -Location eastus
New-AzKeyVault -Name kv-byok-01 -ResourceGroupName rg-byok -Location eastus -EnablePurgeProtection
$key = Add-AzKeyVaultKey -VaultName kv-byok-01 -Name tdekey -Destination Software
$spare = Add-AzKeyVaultKey -VaultName kv-byok-01 -Name sparekey -Destination Software
$cred = New-Object System.Management.Automation.PSCredential ("azureuser", (ConvertTo-SecureString "Pa55w0rd!123" -AsPlainText -Force))

   $server = New-AzSqlServer -ResourceGroupName rg-byok -Location eastus `
       -ServerName sql-byok-01 -ServerVersion "12.0" -SqlAdministratorCredentials $cred -AssignIdentity
New-AzSqlDatabase -ResourceGroupName rg-byok -ServerName sql-byok-01 -DatabaseName db1
   $server = Set-AzSqlServer -ResourceGroupName rg-byok -ServerName sql-byok-01 -AssignIdentity

   Set-AzKeyVaultAccessPolicy -VaultName kv-byok-01 `
       -ObjectId $server.Identity.PrincipalId -PermissionsToKeys get, wrapKey, unwrapKey

# add the key from Key Vault to the server
Add-AzSqlServerKeyVaultKey -ResourceGroupName rg-byok -ServerName sql-byok-01 -KeyId $key.Id

# set the key as the TDE protector for all resources under the server
Set-AzSqlServerTransparentDataEncryptionProtector -ResourceGroupName rg-byok -ServerName sql-byok-01 `
   -Type AzureKeyVault -KeyId $key.Id

# confirm the TDE protector was configured as intended
Get-AzSqlServerTransparentDataEncryptionProtector -ResourceGroupName rg-byok -ServerName sql-byok-01

Set-AzSqlDatabaseTransparentDataEncryption -ResourceGroupName rg-byok `
   -ServerName sql-byok-01 -DatabaseName db1 -State "Enabled"

# get the encryption state
Get-AzSqlDatabaseTransparentDataEncryption -ResourceGroupName rg-byok `
   -ServerName sql-byok-01 -DatabaseName db1 `

# check the encryption progress for a database or data warehouse
Get-AzSqlDatabaseTransparentDataEncryptionActivity -ResourceGroupName rg-byok `
   -ServerName sql-byok-01 -DatabaseName db1  

   Set-AzSqlDatabaseTransparentDataEncryption -ServerName sql-byok-01 -ResourceGroupName rg-byok `
      -DatabaseName db1 -State "Disabled"

   # KeyId is an optional parameter, to return a specific key version
   Get-AzSqlServerKeyVaultKey -ServerName sql-byok-01 -ResourceGroupName rg-byok

Add-AzSqlServerKeyVaultKey -ResourceGroupName rg-byok -ServerName sql-byok-01 -KeyId $spare.Id
   # the key set as the TDE Protector cannot be removed
   Remove-AzSqlServerKeyVaultKey -KeyId $spare.Id -ServerName sql-byok-01 -ResourceGroupName rg-byok

   Get-AzSubscription -SubscriptionId 5e5532fb-eea2-43f8-8bc9-42ee9086c171
