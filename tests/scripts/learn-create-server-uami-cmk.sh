# Microsoft Learn, "Create server configured with user-assigned managed identity and customer-managed TDE"
# (transparent-data-encryption-byok-create-server), Azure CLI tab: its two commands verbatim, after
# the variables and prerequisites (identity, vault with purge protection, key) a reader fills in.
resourceGroupName=rg-cs
location=eastus
adminlogin=azureuser
password='Pa55w0rd!123'
serverName=srv-cs
az group create -n $resourceGroupName -l $location -o none
az identity create -g $resourceGroupName -n umi-cs -o none
identityid=$(az identity show -g $resourceGroupName -n umi-cs --query id -o tsv)
principal=$(az identity show -g $resourceGroupName -n umi-cs --query principalId -o tsv)
primaryidentityid=$identityid
identitytype=UserAssigned
az keyvault create -n kv-cs1 -g $resourceGroupName -l $location --enable-purge-protection true -o none
az keyvault set-policy -n kv-cs1 --object-id $principal --key-permissions get wrapKey unwrapKey -o none
az keyvault key create --vault-name kv-cs1 -n k1 --kty RSA --size 2048 -o none
keyid=$(az keyvault key show --vault-name kv-cs1 -n k1 --query key.kid -o tsv)
az sql server create \
    --name $serverName \
    --resource-group $resourceGroupName \
    --location $location  \
    --admin-user $adminlogin \
    --admin-password $password \
    --assign-identity \
    --identity-type $identitytype \
    --user-assigned-identity-id $identityid \
    --primary-user-assigned-identity-id $primaryidentityid \
    --key-id $keyid -o none
az sql db create \
    --resource-group $resourceGroupName \
    --server $serverName \
    --name mySampleDatabase \
    --sample-name AdventureWorksLT \
    --edition GeneralPurpose \
    --compute-model Serverless \
    --family Gen5 \
    --capacity 2 --query "[currentServiceObjectiveName, sampleName]" -o tsv
az sql server tde-key show -s $serverName -g $resourceGroupName --query "[serverKeyType, uri]" -o tsv
