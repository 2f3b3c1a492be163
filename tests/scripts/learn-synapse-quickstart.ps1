# Microsoft Learn, "Quickstart: Create an Azure Synapse Analytics workspace with Azure PowerShell"
# (synapse-analytics/quickstart-create-workspace-powershell), its lines as printed with only the
# variables of its table given values. Its prerequisite, an ADLS Gen2 account, is made as Learn's
# "Create a storage account" (PowerShell tab) says, with -EnableHierarchicalNamespace $True; its
# file system with az (bash mode). The quickstart looks the workspace up in
# $StorageAccountResourceGroup, so both live in one group here (in two groups its step 4 fails,
# in Azure as here). Its last line names $SynapseWorkspaceNam, a variable never set: PowerShell
# refuses the null -Name and the workspace stays (the test checks that, then deletes it).
$StorageAccountName = "adlsquick01"
$StorageAccountResourceGroup = "rg-synapse-quick"
$FileShareName = "users"
$SynapseResourceGroup = "rg-synapse-quick"
$Region = "eastus"
$SynapseWorkspaceName = "synws-quick-01"
$SqlUser = "sqladminuser"
$SqlPassword = "Pa55w0rd!123"
$ClientIP = "203.0.113.10"
New-AzResourceGroup -Name $SynapseResourceGroup -Location $Region
New-AzStorageAccount -ResourceGroupName $StorageAccountResourceGroup `
  -Name $StorageAccountName `
  -Location $Region `
  -SkuName Standard_RAGRS `
  -Kind StorageV2 `
  -EnableHierarchicalNamespace $True
bash
az storage fs create -n users --account-name adlsquick01 --auth-mode login -o none
pwsh
$Cred = New-Object -TypeName System.Management.Automation.PSCredential ($SqlUser, (ConvertTo-SecureString $SqlPassword -AsPlainText -Force))

$WorkspaceParams = @{
  Name = $SynapseWorkspaceName
  ResourceGroupName = $SynapseResourceGroup
  DefaultDataLakeStorageAccountName = $StorageAccountName
  DefaultDataLakeStorageFilesystem = $FileShareName
  SqlAdministratorLoginCredential = $Cred
  Location = $Region
}
New-AzSynapseWorkspace @WorkspaceParams
$WorkspaceWeb = (Get-AzSynapseWorkspace -Name $SynapseWorkspaceName -ResourceGroupName $StorageAccountResourceGroup).ConnectivityEndpoints.web
$WorkspaceDev = (Get-AzSynapseWorkspace -Name $SynapseWorkspaceName -ResourceGroupName $StorageAccountResourceGroup).ConnectivityEndpoints.dev
$FirewallParams = @{
  WorkspaceName = $SynapseWorkspaceName
  Name = 'Allow Client IP'
  ResourceGroupName = $StorageAccountResourceGroup
  StartIpAddress = $ClientIP
  EndIpAddress = $ClientIP
}
New-AzSynapseFirewallRule @FirewallParams
Start-Process $WorkspaceWeb
Write-Output "dev:" $WorkspaceDev
Remove-AzSynapseWorkspace -Name $SynapseWorkspaceNam -ResourceGroupName $SynapseResourceGroup
