# Microsoft Learn, "Encryption for Azure Synapse Analytics workspaces" (workspaces-encryption):
# a workspace with double encryption using a customer-managed key and activation, a dedicated
# SQL pool with TDE, and a key switch; az lines from `az synapse workspace create|activate|key
# create|update --help` and `az synapse sql pool tde set --help`.
rg=rg-syn
location=eastus
az group create -n $rg -l $location -o none
az storage account create -n adlssyn01 -g $rg -l $location --kind StorageV2 --hns true --sku Standard_LRS -o none
az storage fs create -n users --account-name adlssyn01 --auth-mode login -o none
az keyvault create -n kv-syn-01 -g $rg -l $location --enable-purge-protection true -o none
az keyvault key create --vault-name kv-syn-01 -n wskey --kty RSA --size 3072 -o none
az keyvault key create --vault-name kv-syn-01 -n wskey2 --kty RSA --size 2048 -o none
# Create the workspace with a customer-managed key (versionless key identifier).
az synapse workspace create --name synws01 --resource-group $rg --storage-account adlssyn01 \
  --file-system users --sql-admin-login-user cliuser1 --sql-admin-login-password 'Pa55w0rd!123' \
  --location $location --key-name wskey --key-identifier https://kv-syn-01.vault.azure.net/keys/wskey \
  --query "[encryption.doubleEncryptionEnabled, encryption.cmk.status]" -o tsv
# Pools wait for activation.
az synapse sql pool create --name sqlpool1 --workspace-name synws01 -g $rg --performance-level DW100c -o none || echo refused
# Grant the workspace managed identity Get, Wrap Key, Unwrap Key, then activate.
principal=$(az synapse workspace show -n synws01 -g $rg --query identity.principalId -o tsv)
az keyvault set-policy -n kv-syn-01 --object-id $principal --key-permissions get wrapKey unwrapKey -o none
az synapse workspace activate --name wskey --workspace-name synws01 -g $rg \
  --key-identifier https://kv-syn-01.vault.azure.net/keys/wskey --query isActiveCmk -o tsv
sim clock advance 3m -o none
az synapse workspace show -n synws01 -g $rg --query "[encryption.cmk.status, encryption.cmk.key.name, encryption.cmk.key.keyVaultUrl]" -o tsv
az synapse sql pool create --name sqlpool1 --workspace-name synws01 -g $rg --performance-level DW100c --query status -o tsv
az synapse sql pool tde set --name sqlpool1 --workspace-name synws01 -g $rg --status Enabled --transparent-data-encryption-name current --query status -o tsv
az synapse sql pool tde show --name sqlpool1 --workspace-name synws01 -g $rg -d current --query status -o tsv
# Key switch.
az synapse workspace key create --name wskey2 --workspace-name synws01 -g $rg --key-identifier https://kv-syn-01.vault.azure.net/keys/wskey2 --query isActiveCmk -o tsv
az synapse workspace update -n synws01 -g $rg --key-name wskey2 --query encryption.cmk.status -o tsv
sim clock advance 31m -o none
az synapse workspace show -n synws01 -g $rg --query "[encryption.cmk.status, encryption.cmk.key.name]" -o tsv
az synapse workspace key list --workspace-name synws01 -g $rg --query "[].[name, isActiveCmk]" -o tsv
az synapse workspace key delete --name wskey --workspace-name synws01 -g $rg --yes -o none
az synapse workspace key list --workspace-name synws01 -g $rg --query "[].name" -o tsv
