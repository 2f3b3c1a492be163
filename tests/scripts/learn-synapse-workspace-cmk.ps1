# Microsoft Learn, "Encryption for Azure Synapse Analytics workspaces" (workspaces-encryption),
# with Az.Synapse as its reference pages give it: a workspace created with a customer-managed
# key (New-AzSynapseWorkspace Example 6), its managed identity granted Get, Wrap Key, Unwrap Key
# on a purge-protected vault, the workspace activated (Enable-AzSynapseWorkspace), a dedicated
# SQL pool with TDE (New-AzSynapseSqlPool, Set-AzSynapseSqlPoolTransparentDataEncryption),
# paused and resumed, then the key switch of Update-AzSynapseWorkspace Example 9.
# The procedure assumes an ADLS Gen2 account and file system; they are made with az first.
bash
az group create -n rg-synps -l eastus -o none
az storage account create -n adlssynps01 -g rg-synps -l eastus --kind StorageV2 --hns true --sku Standard_LRS -o none
az storage fs create -n users --account-name adlssynps01 --auth-mode login -o none
pwsh
$rg = "rg-synps"
$location = "eastus"
$vault = New-AzKeyVault -Name kv-synps-01 -ResourceGroupName $rg -Location $location -EnablePurgeProtection
$key = Add-AzKeyVaultKey -VaultName kv-synps-01 -Name wskey -Destination Software -Size 3072
$key2 = Add-AzKeyVaultKey -VaultName kv-synps-01 -Name wskey2 -Destination Software -Size 2048
$identifier = "https://kv-synps-01.vault.azure.net/keys/wskey"
$password = ConvertTo-SecureString "Pa55w0rd!123" -AsPlainText -Force
$creds = New-Object System.Management.Automation.PSCredential ("cliuser1", $password)
# Create the workspace with double encryption; it waits for activation.
$ws = New-AzSynapseWorkspace -ResourceGroupName $rg -Name synwsps01 -Location $location -DefaultDataLakeStorageAccountName adlssynps01 -DefaultDataLakeStorageFilesystem users -SqlAdministratorLoginCredential $creds -EncryptionKeyIdentifier $identifier -UseSystemAssignedIdentityInEncryption $true
Write-Output "created:" $ws.Encryption.DoubleEncryptionEnabled $ws.Encryption.CustomerManagedKeyDetails.Status $ws.Encryption.CustomerManagedKeyDetails.Key.Name
# Grant the workspace managed identity Get, Wrap Key, Unwrap Key, then activate.
Set-AzKeyVaultAccessPolicy -VaultName kv-synps-01 -ObjectId $ws.Identity.PrincipalId -PermissionsToKeys get, wrapKey, unwrapKey
$active = Enable-AzSynapseWorkspace -WorkspaceName synwsps01
Write-Output "activation:" $active.IsActiveCustomerManagedKey
Start-Sleep -Seconds 180
$ws = Get-AzSynapseWorkspace -Name synwsps01
Write-Output "activated:" $ws.Encryption.CustomerManagedKeyDetails.Status $ws.Encryption.CustomerManagedKeyDetails.Key.KeyVaultUrl
$keys = Get-AzSynapseWorkspaceKey -WorkspaceName synwsps01
Write-Output "keys:" $keys.Name $keys.IsActiveCustomerManagedKey
# A dedicated SQL pool with TDE, paused and resumed.
$pool = New-AzSynapseSqlPool -WorkspaceName synwsps01 -Name sqlpool1 -PerformanceLevel DW100c
Write-Output "pool:" $pool.Status $pool.Sku.Name
$tde = Set-AzSynapseSqlPoolTransparentDataEncryption -WorkspaceName synwsps01 -Name sqlpool1 -State Enabled
Write-Output "tde:" (Get-AzSynapseSqlPoolTransparentDataEncryption -ResourceGroupName $rg -WorkspaceName synwsps01 -Name sqlpool1).State
$paused = Suspend-AzSynapseSqlPool -WorkspaceName synwsps01 -Name sqlpool1
Write-Output "paused:" $paused.Status
$resumed = Resume-AzSynapseSqlPool -WorkspaceObject $ws -Name sqlpool1
Write-Output "resumed:" $resumed.Status
# Rotate: add a second key, switch to it (Updating), then the first one can go.
$new = New-AzSynapseWorkspaceKey -ResourceGroupName $rg -WorkspaceName synwsps01 -Name wskey2 -EncryptionKeyIdentifier https://kv-synps-01.vault.azure.net/keys/wskey2
Write-Output "new key:" $new.IsActiveCustomerManagedKey
$ws = Update-AzSynapseWorkspace -WorkspaceName synwsps01 -EncryptionKeyName wskey2 -UseSystemAssignedIdentityInEncryption $true
Write-Output "switching:" $ws.Encryption.CustomerManagedKeyDetails.Status
Start-Sleep -Seconds 1860
$ws = Get-AzSynapseWorkspace -Name synwsps01
Write-Output "switched:" $ws.Encryption.CustomerManagedKeyDetails.Status $ws.Encryption.CustomerManagedKeyDetails.Key.Name
Remove-AzSynapseWorkspaceKey -WorkspaceName synwsps01 -Name default
Write-Output "left:" (Get-AzSynapseWorkspaceKey -WorkspaceName synwsps01).Name
