# Microsoft Learn: create a dedicated SQL pool (formerly SQL DW) with Azure PowerShell, then
# pause and resume its compute (quickstart-create-a-data-warehouse-powershell,
# pause-and-resume-compute-powershell), each line as printed with its placeholders filled in.
$resourcegroupname = "myResourceGroup"
$location = "WestEurope"
$servername = "sqlpoolservername"
$databasename = "mySampleDataWarehouse"
New-AzResourceGroup -Name $resourcegroupname -Location $location
$cred = New-Object System.Management.Automation.PSCredential ("ServerAdmin", (ConvertTo-SecureString "ChangeYourAdminPassword1!" -AsPlainText -Force))
New-AzSqlServer -ResourceGroupName $resourcegroupname -ServerName $servername -Location $location -SqlAdministratorCredentials $cred
New-AzSqlDatabase -ResourceGroupName $resourcegroupname -ServerName $servername -DatabaseName $databasename -Edition "DataWarehouse" -RequestedServiceObjectiveName "DW100c" -CollationName "SQL_Latin1_General_CP1_CI_AS" -MaxSizeBytes 10995116277760
Suspend-AzSqlDatabase -ResourceGroupName $resourcegroupname -ServerName $servername -DatabaseName $databasename
Resume-AzSqlDatabase -ResourceGroupName $resourcegroupname -ServerName $servername -DatabaseName $databasename
Get-AzSqlDatabase -ResourceGroupName $resourcegroupname -ServerName $servername -DatabaseName $databasename
