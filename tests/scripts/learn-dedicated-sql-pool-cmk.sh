# Microsoft Learn: a dedicated SQL pool (formerly SQL DW) under a logical server with TDE and a
# customer-managed key (transparent-data-encryption-byok-configure, Azure CLI tab; az sql dw
# reference), then a key rotation while the pool is paused, as the Synapse encryption article
# describes it: a paused pool is not re-encrypted and cannot resume while the old key version is
# disabled; re-enable the version, resume, let it re-encrypt, then disable (not delete) the old one.
az group create --name rg1 --location eastus -o none
az sql server create --name srv-dw --resource-group rg1 --location eastus --admin-user azureuser --admin-password 'Pa55w0rd!123' --assign-identity -o none
az keyvault create --name kv-dw1 --resource-group rg1 --location eastus --enable-purge-protection true -o none
az keyvault key create --name key1 --vault-name kv-dw1 --protection software -o none
OBJ=$(az sql server show --name srv-dw --resource-group rg1 --query identity.principalId -o tsv)
az keyvault set-policy --name kv-dw1 --object-id $OBJ --resource-group rg1 --key-permissions wrapKey unwrapKey get -o none
KID=$(az keyvault key show --name key1 --vault-name kv-dw1 --query key.kid -o tsv)
az sql server key create --server srv-dw --resource-group rg1 --kid $KID -o none
az sql server tde-key set --server srv-dw --server-key-type AzureKeyVault --resource-group rg1 --kid $KID -o none
az sql dw create --name pool1 --resource-group rg1 --server srv-dw --service-objective DW100c --query "[edition, currentServiceObjectiveName, status]" -o tsv
az sql db tde show --database pool1 --server srv-dw --resource-group rg1 --query state -o tsv
az sql dw pause --name pool1 --resource-group rg1 --server srv-dw
az sql dw show --name pool1 --resource-group rg1 --server srv-dw --query status -o tsv
# Rotate: a new version becomes the protector while the pool is paused.
az keyvault key rotate --name key1 --vault-name kv-dw1 -o none
KID2=$(az keyvault key show --name key1 --vault-name kv-dw1 --query key.kid -o tsv)
az sql server key create --server srv-dw --resource-group rg1 --kid $KID2 -o none
az sql server tde-key set --server srv-dw --server-key-type AzureKeyVault --resource-group rg1 --kid $KID2 -o none
az keyvault key set-attributes --id $KID --enabled false -o none
az sql dw resume --name pool1 --resource-group rg1 --server srv-dw 2>/dev/null || echo "resume refused: the old key version is disabled"
az sql dw show --name pool1 --resource-group rg1 --server srv-dw --query status -o tsv
az keyvault key set-attributes --id $KID --enabled true -o none
az sql dw resume --name pool1 --resource-group rg1 --server srv-dw
az sql dw show --name pool1 --resource-group rg1 --server srv-dw --query status -o tsv
az keyvault key set-attributes --id $KID --enabled false -o none
az sql dw update --name pool1 --resource-group rg1 --server srv-dw --service-objective DW200c --query currentServiceObjectiveName -o tsv
az sql dw list --server srv-dw --resource-group rg1 --query "[].name" -o tsv
