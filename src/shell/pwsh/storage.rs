//! Az.Storage's account cmdlets as Learn's procedures use them (the Data Lake Storage Gen2
//! account a Synapse workspace needs: `New-AzStorageAccount … -Kind StorageV2
//! -EnableHierarchicalNamespace $true`). Each runs its `az storage account …` twin through
//! the command registry, so the rules (name, global uniqueness, kind, hierarchical
//! namespace) and their errors are the operations layer's, and prints Az's
//! `PSStorageAccount` (property names from azure-powershell's
//! `src/Storage/Storage.Management/Models/PSStorageAccount.cs`).
//!
//! Parameter tables: the help files of azure-powershell
//! (`src/Storage/Storage.Management/help`), at the commits listed in
//! `tests/fixtures/az-help/pwsh-params.txt`.

use super::{Cmdlet, Params, Shell};
use crate::model::Workspace;
use serde_json::{Value, json};

/// `-SkuName`'s ValidateSet (Az.Storage).
const SKUS: &[&str] = &[
    "Standard_LRS",
    "Standard_ZRS",
    "Standard_GRS",
    "Standard_RAGRS",
    "Premium_LRS",
    "Premium_ZRS",
    "Standard_GZRS",
    "Standard_RAGZRS",
];

/// `-Kind`'s ValidateSet (Az.Storage).
const KINDS: &[&str] = &[
    "Storage",
    "StorageV2",
    "BlobStorage",
    "BlockBlobStorage",
    "FileStorage",
];

/// A value in a ValidateSet (PowerShell compares without case), in the set's spelling, or
/// PowerShell's refusal.
fn in_set(param: &str, value: &str, set: &[&'static str]) -> Result<&'static str, String> {
    set.iter()
        .find(|s| s.eq_ignore_ascii_case(value.trim()))
        .copied()
        .ok_or_else(|| {
            format!(
                "Cannot validate argument on parameter '{param}'. The argument \"{value}\" does not belong to the set \"{}\" specified by the ValidateSet attribute. Supply an argument that is in the set and then try the command again.",
                set.join(",")
            )
        })
}

/// `PSStorageAccount` from `az storage account show`'s JSON.
fn ps_account(v: &Value) -> Value {
    let name = v["name"].as_str().unwrap_or_default();
    json!({
        "ResourceGroupName": v["resourceGroup"],
        "StorageAccountName": name,
        "Id": v["id"],
        "Location": v["location"],
        "Sku": {"Name": v["sku"]["name"], "Tier": v["sku"]["tier"]},
        "Kind": v["kind"],
        "CreationTime": super::ps_date(&v["creationTime"]),
        "ProvisioningState": v["provisioningState"],
        "PrimaryLocation": v["location"],
        "StatusOfPrimary": "available",
        "PrimaryEndpoints": {
            "Blob": v["primaryEndpoints"]["blob"],
            "Dfs": v["primaryEndpoints"]["dfs"],
        },
        "EnableHierarchicalNamespace": v["isHnsEnabled"],
        "Tags": v.get("tags").cloned().unwrap_or(Value::Null),
        "Context": {
            "StorageAccountName": name,
            "BlobEndPoint": v["primaryEndpoints"]["blob"],
            "EndPointSuffix": "core.windows.net/",
        },
    })
}

/// `az storage account show -n N -g G` as a `PSStorageAccount`.
fn show(sh: &mut Shell, ws: &mut Workspace, name: &str, group: &str) -> Result<Value, String> {
    Ok(ps_account(&sh.az(
        ws,
        &["storage", "account", "show", "-n", name, "-g", group],
    )?))
}

fn new_account(sh: &mut Shell, ws: &mut Workspace, p: &Params) -> Result<Value, String> {
    let sku = in_set("SkuName", &p.req("SkuName"), SKUS)?;
    let kind = match p.get("Kind") {
        Some(k) => in_set("Kind", &k, KINDS)?,
        None => "StorageV2",
    };
    let (name, group) = (p.req("Name"), p.req("ResourceGroupName"));
    let mut words: Vec<String> = [
        "storage",
        "account",
        "create",
        "-n",
        &name,
        "-g",
        &group,
        "-l",
        &p.req("Location"),
        "--sku",
        sku,
        "--kind",
        kind,
    ]
    .map(String::from)
    .to_vec();
    if let Some(hns) = p.flag("EnableHierarchicalNamespace") {
        words.extend(["--hns".into(), hns.to_string()]);
    }
    p.push_tags("Tag", &mut words)?;
    Ok(ps_account(&sh.az_words(ws, words)?))
}

pub(super) const CMDLETS: &[Cmdlet] = &[
    Cmdlet {
        name: "New-AzStorageAccount",
        params: "=AzureActiveDirectoryDomainServicesForFile AccessTier ActiveDirectoryAccountType[ActiveDirectoryDomainServicesForFile] ActiveDirectoryAzureStorageSid[ActiveDirectoryDomainServicesForFile] ActiveDirectoryDomainGuid[AzureActiveDirectoryKerberosForFile;ActiveDirectoryDomainServicesForFile] ActiveDirectoryDomainName[AzureActiveDirectoryKerberosForFile;ActiveDirectoryDomainServicesForFile] ActiveDirectoryDomainSid[ActiveDirectoryDomainServicesForFile] ActiveDirectoryForestName[ActiveDirectoryDomainServicesForFile] ActiveDirectoryNetBiosDomainName[ActiveDirectoryDomainServicesForFile] ActiveDirectorySamAccountName[ActiveDirectoryDomainServicesForFile] AllowBlobPublicAccess:b AllowCrossTenantReplication:b AllowedCopyScope AllowProtectedAppendWrite:b AllowSharedKeyAccess:b AsJob:s AssignIdentity:s CustomDomainName @dp DefaultSharePermission DnsEndpointType EdgeZone EnableAccountLevelImmutability:s EnableActiveDirectoryDomainServicesForFile:b[ActiveDirectoryDomainServicesForFile] EnableAzureActiveDirectoryDomainServicesForFile:b[AzureActiveDirectoryDomainServicesForFile] EnableAzureActiveDirectoryKerberosForFile:b[AzureActiveDirectoryKerberosForFile=!] EnableExtendedGroup:b EnableHierarchicalNamespace:b EnableHttpsTrafficOnly:b EnableLargeFileShare:s EnableLocalUser:b EnableNfsV3:b EnableSftp:b EncryptionKeyTypeForQueue EncryptionKeyTypeForTable IdentityType ImmutabilityPeriod ImmutabilityPolicyState KeyExpirationPeriodInDay KeyName KeyVaultFederatedClientId KeyVaultUri KeyVaultUserAssignedIdentityId KeyVersion Kind Location[*=!3] MinimumTlsVersion Name|StorageAccountName|AccountName[*=!1] NetworkRuleSet PublicNetworkAccess PublishInternetEndpoint:b PublishMicrosoftEndpoint:b RequireInfrastructureEncryption:s ResourceGroupName[*=!0] RoutingChoice SasExpirationPeriod SkuName|StorageAccountType|AccountType|Type[*=!2] Tag|Tags UserAssignedIdentityId UseSubDomain:b",
        switches: &[],
        mandatory: &["ResourceGroupName", "Name", "SkuName", "Location"],
        optional: &["Kind", "EnableHierarchicalNamespace", "Tag"],
        run: new_account,
    },
    Cmdlet {
        name: "Get-AzStorageAccount",
        params: "@dp Name|StorageAccountName|AccountName[AccountNameParameterSet=!1] ResourceGroupName[ResourceGroupParameterSet=0;AccountNameParameterSet=!0]",
        switches: &[],
        mandatory: &[],
        optional: &["ResourceGroupName", "Name"],
        run: |sh, ws, p| {
            match (p.get("Name"), p.get("ResourceGroupName")) {
            (Some(name), Some(group)) => show(sh, ws, &name, &group),
            (Some(_), None) => Err(
                "Cannot process command because of one or more missing mandatory parameters: ResourceGroupName."
                    .into(),
            ),
            (None, group) => {
                let mut words = vec!["storage".to_string(), "account".into(), "list".into()];
                if let Some(g) = group {
                    words.extend(["-g".into(), g]);
                }
                let list = sh.az_words(ws, words)?;
                Ok(Value::Array(
                    list.as_array()
                        .into_iter()
                        .flatten()
                        .map(ps_account)
                        .collect(),
                ))
            }
        }
        },
    },
    Cmdlet {
        name: "Remove-AzStorageAccount",
        params: "AsJob:s @dp Force:s Name|StorageAccountName|AccountName[*=!1] ResourceGroupName[*=!0] @wc",
        switches: &["Force"],
        mandatory: &["ResourceGroupName", "Name"],
        optional: &[],
        run: |sh, ws, p| {
            sh.az(
                ws,
                &[
                    "storage",
                    "account",
                    "delete",
                    "-n",
                    &p.req("Name"),
                    "-g",
                    &p.req("ResourceGroupName"),
                    "--yes",
                ],
            )?;
            // System.Void.
            Ok(Value::Null)
        },
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validate_sets_take_any_case_and_give_azs_spelling() {
        assert_eq!(in_set("SkuName", "standard_lrs", SKUS), Ok("Standard_LRS"));
        let e = in_set("Kind", "StorageV3", KINDS).unwrap_err();
        assert!(e.contains("does not belong to the set \"Storage,StorageV2,BlobStorage,BlockBlobStorage,FileStorage\""), "{e}");
    }
}
