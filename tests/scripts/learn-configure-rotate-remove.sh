# Microsoft Learn: configure TDE with a customer-managed key, rotate it, then remove a compromised
# key (transparent-data-encryption-byok-configure, -key-rotation, -remove-tde-protector), Azure CLI
# tabs, each line as printed with its placeholders filled in.
az group create --name rg1 --location eastus -o none
az sql server create --name srv-learn --resource-group rg1  --location eastus --admin-user azureuser --admin-password 'Pa55w0rd!123' --assign-identity
az sql db create --name db1 --server srv-learn --resource-group rg1
az keyvault create --name kv-learn1 --resource-group rg1 --location eastus --enable-soft-delete true
az keyvault update --name kv-learn1 --resource-group rg1 --enable-purge-protection true
az keyvault key create --name key1 --vault-name kv-learn1 --protection software
OBJ=$(az sql server show --name srv-learn --resource-group rg1 --query identity.principalId -o tsv)
az keyvault set-policy --name kv-learn1  --object-id $OBJ --resource-group rg1 --key-permissions wrapKey unwrapKey get
KID=$(az keyvault key show --name key1 --vault-name kv-learn1 --query key.kid -o tsv)
az sql server key create --server srv-learn --resource-group rg1 --kid $KID
az sql server tde-key set --server srv-learn --server-key-type AzureKeyVault  --resource-group rg1 --kid $KID
az sql db tde set --database db1 --server srv-learn --resource-group rg1 --status Enabled
az sql db tde show --database db1 --server srv-learn --resource-group rg1
az sql server tde-key set --server-key-type AzureKeyVault --auto-rotation-enabled true --kid $KID --resource-group rg1 --server srv-learn
az keyvault key create --name key2 --vault-name kv-learn1 --protection software
KID2=$(az keyvault key show --name key2 --vault-name kv-learn1 --query key.kid -o tsv)
az sql server key create --kid $KID2 --resource-group rg1 --server srv-learn
az sql server tde-key set --server-key-type AzureKeyVault --kid $KID2 --resource-group rg1 --server srv-learn
az sql server tde-key show --resource-group rg1 --server srv-learn --query uri -o tsv
az keyvault key backup --file key2.blob --name key2 --vault-name kv-learn1
az keyvault key delete --name key1 --vault-name kv-learn1 -o none
az sql db tde show --database db1 --server srv-learn --resource-group rg1 --query state -o tsv
az keyvault key restore --file key2.blob --vault-name kv-learn1 -o none 2>/dev/null || echo "key2 still in the vault: restore refused"
az sql server tde-key set --server-key-type ServiceManaged --resource-group rg1 --server srv-learn
az sql server tde-key show --server srv-learn --resource-group rg1 --query serverKeyType -o tsv
