#!/bin/bash
# Written the way Microsoft's Azure SQL sample scripts are (variable block, echo before each
# step, az with -o tsv / json piped through tr): a server whose TDE protector is a key in
# Key Vault. tests/shell.rs runs it under real bash and checks the workspace it leaves.
set -e

# Variable block
let "randomIdentifier=$RANDOM*$RANDOM"
location="East US"
resourceGroup="msdocs-azuresql-rg-$randomIdentifier"
tag="tde-byok"
server="msdocs-azuresql-server-$randomIdentifier"
database="msdocsazuresqldb$randomIdentifier"
vault="msdocs-kv-$((randomIdentifier % 100000))"
login="azureuser"
password="Pa$$w0rD-$randomIdentifier"

echo "Using resource group $resourceGroup with login: $login"
echo "Creating $resourceGroup in $location..."
az group create --name $resourceGroup --location "$location" --tags $tag -o none
echo "Creating $server in $location..."
az sql server create --name $server --resource-group $resourceGroup --location "$location" \
  --admin-user $login --admin-password $password --assign-identity -o none
for db in $database ${database}-2; do
  echo "Creating $db on $server..."
  az sql db create --resource-group $resourceGroup --server $server --name $db -o none
done
az keyvault create --name $vault --resource-group $resourceGroup --location "$location" \
  --enable-soft-delete true --enable-purge-protection true -o none 2>/dev/null
principal=$(az sql server show --name $server --resource-group $resourceGroup --query identity.principalId -o json | tr -d '"')
if [ -z "$principal" ]; then
  echo "the server has no identity" >&2
  exit 1
fi
az keyvault set-policy --name $vault --object-id "$principal" --key-permissions get wrapKey unwrapKey -o none
kid=$(az keyvault key create --name tde-key --vault-name $vault --protection software --query key.kid -o tsv | tr -d '"')
az sql server key create --server $server --resource-group $resourceGroup --kid "$kid" -o none
az sql server tde-key set --server $server --resource-group $resourceGroup --server-key-type AzureKeyVault --kid "$kid" -o none
type=$(az sql server tde-key show --server $server --resource-group $resourceGroup --query serverKeyType -o tsv)
if [ "$type" != "AzureKeyVault" ]; then
  echo "unexpected protector type $type" >&2
  exit 1
elif [ -n "$type" ]; then
  printf "protector: %s (%d databases)\n" "$type" "$(az sql db list --server $server --resource-group $resourceGroup --query "length([?name!='master'])" -o tsv)"
else
  exit 1
fi
count=$(az sql db list --server $server --resource-group $resourceGroup --query "[].name" -o tsv | grep -c msdocs)
echo "databases: $count"
sim clock advance 1h -o none
echo "done at $(date +%s)"
echo "$server" > /dev/null 2>&1 && echo "server: $server"
# az's exit code reaches bash: set -e ends the script on this line.
az sql db show --name nope --server $server --resource-group $resourceGroup -o none
echo "never printed"
