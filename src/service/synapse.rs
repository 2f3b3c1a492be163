//! Azure Synapse Analytics: workspaces with double encryption, their dedicated SQL pools,
//! and the Data Lake Storage Gen2 accounts and file systems a workspace needs.
//!
//! The rules (facts and sources: `../shared/reference/azure-facts-synapse.md`):
//! - a workspace needs a StorageV2 account with a hierarchical namespace and an existing
//!   file system in it;
//! - double encryption (a customer-managed key on top of the platform's keys) is chosen
//!   at creation only: `doubleEncryptionEnabled` never changes;
//! - created with a key and without a user-assigned identity that reaches it, the
//!   workspace waits in `AwaitingUserAction` (no dedicated SQL pool can be created) until
//!   its managed identity has get, wrapKey and unwrapKey on a purge-protected vault and the
//!   key is activated (`az synapse workspace activate`); activation finishes about two
//!   minutes later (`Consistent`);
//! - a key switch (`az synapse workspace update --key-name`) re-encrypts the data keys
//!   (`Updating`, 15 to 30 minutes, then `Consistent`); re-encryption that needs an old
//!   key version that is disabled or expired fails (`Failed`); paused pools are skipped
//!   and keep needing the old version, and cannot resume without it;
//! - new Key Vault versions are not picked up: a workspace keeps the version it wrapped
//!   with until it switches to another key and back.
//!
//! The workspace's identity is a principal like a server's: every vault call goes through
//! the vault's own checks ([`super::keyvault::data_plane::check_key_use`]: access policies or RBAC,
//! firewall, soft-delete, key state) as [`Caller::Synapse`].
//!
//! Data is really double-encrypted: data keys are sealed with the workspace's platform key
//! (AES-256-GCM) and the sealed blob wrapped by the Key Vault key (RSA-OAEP-256); pages are
//! encrypted with the data key and again with the platform key.

use super::keyvault::data_plane::{check_key_use, server_check_key, vault_error};
use super::{Caller, ServiceError, ServiceResult, check_name, notify, transact};
use crate::crypto::layered::{self, PageLayers};
use crate::crypto::{DataEncryptionKey, EncryptedPage};
use crate::model::*;
use crate::sim::{Duration, SimEvent};

/// The key name `az synapse workspace create` gives a key when `--key-name` is not given.
pub const DEFAULT_KEY_NAME: &str = "default";

/// The portal's banner on a workspace waiting for activation (the workspace Overview and
/// Encryption pages).
pub const ACTIVATION_BANNER: &str = "This workspace is awaiting activation of its customer-managed key. Grant the workspace managed identity Get, Wrap Key and Unwrap Key permissions on the key vault, then activate the workspace.";

/// Dedicated SQL pool performance levels (`--performance-level`).
pub const PERFORMANCE_LEVELS: &[&str] = &[
    "DW100c", "DW200c", "DW300c", "DW400c", "DW500c", "DW1000c", "DW1500c", "DW2000c", "DW2500c",
    "DW3000c", "DW5000c", "DW6000c", "DW7500c", "DW10000c", "DW15000c", "DW30000c",
];

/// Sample pages per workspace and per pool.
const SAMPLE_PAGES: usize = 3;

// ---------------------------------------------------------------------------------------
// Storage accounts and file systems
// ---------------------------------------------------------------------------------------

/// `az storage account create -n S -g G [-l L] [--kind StorageV2] [--sku …] [--hns true]`.
#[derive(Clone, Debug)]
pub struct CreateStorageAccount {
    pub name: String,
    pub resource_group: String,
    pub location: Option<String>,
    pub kind: Option<String>,
    pub sku: Option<String>,
    pub hns: bool,
}

const STORAGE_KINDS: &[&str] = &[
    "StorageV2",
    "Storage",
    "BlobStorage",
    "BlockBlobStorage",
    "FileStorage",
];

pub fn create_storage_account(
    ws: &mut Workspace,
    req: &CreateStorageAccount,
) -> ServiceResult<StorageAccount> {
    transact(ws, |ws| {
        let name = req.name.trim();
        if !(3..=24).contains(&name.len())
            || !name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        {
            return Err(ServiceError::bad_request(
                "AccountNameInvalid",
                format!(
                    "{name} is not a valid storage account name. Storage account name must be between 3 and 24 characters in length and use numbers and lower-case letters only."
                ),
            ));
        }
        let location =
            super::lookup::resolve_location(ws, &req.resource_group, req.location.as_deref())?;
        let kind = match &req.kind {
            None => "StorageV2".to_string(),
            Some(k) => STORAGE_KINDS
                .iter()
                .find(|s| s.eq_ignore_ascii_case(k))
                .map(|s| s.to_string())
                .ok_or_else(|| {
                    ServiceError::bad_request(
                        "InvalidArgumentValue",
                        format!(
                            "'{k}' is not a valid value for '--kind'. Allowed values: {}.",
                            STORAGE_KINDS.join(", ")
                        ),
                    )
                })?,
        };
        if req.hns && kind != "StorageV2" && kind != "BlockBlobStorage" {
            return Err(ServiceError::bad_request(
                "InvalidRequestPropertyValue",
                "Hierarchical namespace can only be enabled on StorageV2 and BlockBlobStorage accounts.",
            ));
        }
        let sub = ws.current_subscription.clone();
        if let Some(existing) = ws.synapse.storage_account(name) {
            if existing.subscription == sub
                && existing
                    .resource_group
                    .eq_ignore_ascii_case(&req.resource_group)
            {
                // A PUT of the same account returns it, as ARM does.
                return Ok(existing.clone());
            }
            return Err(ServiceError::conflict(
                "StorageAccountAlreadyTaken",
                format!("The storage account named {name} is already taken."),
            ));
        }
        let account = StorageAccount {
            name: name.to_string(),
            resource_group: ws.resource_group_name(&req.resource_group),
            subscription: sub,
            location,
            kind,
            sku: req.sku.clone().unwrap_or_else(|| "Standard_RAGRS".into()),
            hns: req.hns,
            file_systems: Vec::new(),
            created: ws.now(),
        };
        ws.synapse.storage_accounts.push(account.clone());
        let id = account.arm_id();
        super::log_management(
            ws,
            "Microsoft.Storage/storageAccounts/write",
            id,
            format!("Storage account {name} created"),
        );
        Ok(account)
    })
}

fn storage_not_found(name: &str, group: &str) -> ServiceError {
    ServiceError::not_found(
        "ResourceNotFound",
        format!(
            "The Resource 'Microsoft.Storage/storageAccounts/{name}' under resource group '{group}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
        ),
    )
}

/// `az storage account show -n S -g G`.
pub fn show_storage_account<'a>(
    ws: &'a Workspace,
    name: &str,
    resource_group: &str,
) -> ServiceResult<&'a StorageAccount> {
    find_in_group(ws, &ws.synapse.storage_accounts, name, resource_group)?
        .ok_or_else(|| storage_not_found(name, resource_group))
}

/// `az storage account list [-g G]`.
pub fn list_storage_accounts<'a>(
    ws: &'a Workspace,
    resource_group: Option<&str>,
) -> ServiceResult<Vec<&'a StorageAccount>> {
    list_in_group(ws, &ws.synapse.storage_accounts, resource_group)
}

/// A resource of a resource group in a subscription: storage accounts and workspaces.
trait GroupScoped {
    fn scope(&self) -> (&SubscriptionId, &str, &str);
}

impl GroupScoped for StorageAccount {
    fn scope(&self) -> (&SubscriptionId, &str, &str) {
        (&self.subscription, &self.resource_group, &self.name)
    }
}

impl GroupScoped for SynapseWorkspace {
    fn scope(&self) -> (&SubscriptionId, &str, &str) {
        (&self.subscription, &self.resource_group, &self.name)
    }
}

/// `name` in `resource_group` of the current subscription (ARM's names are case-blind);
/// a missing group is ARM's ResourceGroupNotFound.
fn find_in_group<'a, T: GroupScoped>(
    ws: &Workspace,
    all: &'a [T],
    name: &str,
    resource_group: &str,
) -> ServiceResult<Option<&'a T>> {
    if ws.resource_group(resource_group).is_none() {
        return Err(ServiceError::resource_group_not_found(resource_group));
    }
    Ok(all.iter().find(|r| {
        let (sub, group, n) = r.scope();
        *sub == ws.current_subscription
            && group.eq_ignore_ascii_case(resource_group)
            && n.eq_ignore_ascii_case(name)
    }))
}

/// Those of the current subscription, of `resource_group` if given (which must exist).
fn list_in_group<'a, T: GroupScoped>(
    ws: &Workspace,
    all: &'a [T],
    resource_group: Option<&str>,
) -> ServiceResult<Vec<&'a T>> {
    if let Some(g) = resource_group
        && ws.resource_group(g).is_none()
    {
        return Err(ServiceError::resource_group_not_found(g));
    }
    Ok(all
        .iter()
        .filter(|r| {
            let (sub, group, _) = r.scope();
            *sub == ws.current_subscription
                && resource_group.is_none_or(|g| group.eq_ignore_ascii_case(g))
        })
        .collect())
}

/// `az storage account delete -n S -g G`.
pub fn delete_storage_account(
    ws: &mut Workspace,
    name: &str,
    resource_group: &str,
) -> ServiceResult<()> {
    let id = show_storage_account(ws, name, resource_group)?.arm_id();
    transact(ws, |ws| {
        ws.synapse
            .storage_accounts
            .retain(|a| !a.arm_id().eq_ignore_ascii_case(&id));
        super::log_management(
            ws,
            "Microsoft.Storage/storageAccounts/delete",
            id,
            format!("Storage account {name} deleted"),
        );
        Ok(())
    })
}

/// The account a data-plane command names (`--account-name`), in any resource group.
fn data_plane_account<'a>(ws: &'a Workspace, account: &str) -> ServiceResult<&'a StorageAccount> {
    ws.synapse
        .storage_accounts
        .iter()
        .find(|a| a.subscription == ws.current_subscription && a.name.eq_ignore_ascii_case(account))
        .ok_or_else(|| {
            ServiceError::not_found(
                "StorageAccountNotFound",
                format!("Storage account '{account}' not found."),
            )
        })
}

fn filesystem_not_found() -> ServiceError {
    ServiceError::not_found(
        "FilesystemNotFound",
        "The specified filesystem does not exist.",
    )
}

/// `az storage fs create -n F --account-name S`.
pub fn create_file_system(ws: &mut Workspace, account: &str, name: &str) -> ServiceResult<()> {
    transact(ws, |ws| {
        let ok = (3..=63).contains(&name.len())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !name.starts_with('-')
            && !name.ends_with('-')
            && !name.contains("--");
        if !ok {
            return Err(ServiceError::bad_request(
                "InvalidResourceName",
                "The specifed resource name contains invalid characters.",
            ));
        }
        let a = data_plane_account(ws, account)?;
        if a.has_file_system(name) {
            return Err(ServiceError::conflict(
                "FilesystemAlreadyExists",
                "The specified filesystem already exists.",
            ));
        }
        let account = a.name.clone();
        if let Some(a) = ws
            .synapse
            .storage_accounts
            .iter_mut()
            .find(|a| a.name == account)
        {
            a.file_systems.push(name.to_string());
        }
        Ok(())
    })
}

/// `az storage fs show -n F --account-name S`: the file system's name if it exists.
pub fn show_file_system(ws: &Workspace, account: &str, name: &str) -> ServiceResult<String> {
    let a = data_plane_account(ws, account)?;
    if a.has_file_system(name) {
        Ok(name.to_string())
    } else {
        Err(filesystem_not_found())
    }
}

/// `az storage fs list --account-name S`.
pub fn list_file_systems(ws: &Workspace, account: &str) -> ServiceResult<Vec<String>> {
    Ok(data_plane_account(ws, account)?.file_systems.clone())
}

/// `az storage fs delete -n F --account-name S`.
pub fn delete_file_system(ws: &mut Workspace, account: &str, name: &str) -> ServiceResult<()> {
    show_file_system(ws, account, name)?;
    transact(ws, |ws| {
        if let Some(a) = ws
            .synapse
            .storage_accounts
            .iter_mut()
            .find(|a| a.name.eq_ignore_ascii_case(account))
        {
            a.file_systems.retain(|f| f != name);
        }
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------
// Crypto: the platform layer and the customer-managed layer
// ---------------------------------------------------------------------------------------

fn platform_cipher(w: &SynapseWorkspace) -> Result<DataEncryptionKey, KeyAccessFailure> {
    DataEncryptionKey::from_bytes(&w.platform_key.0).map_err(|_| KeyAccessFailure::UnwrapFailed)
}

/// The page layer is [`crate::crypto::layered`] (shared with Azure SQL's infrastructure
/// encryption); a failure in it reads as a key that cannot open the data.
fn seal(key: &DataEncryptionKey, n: usize, plain: &[u8]) -> Result<Vec<u8>, KeyAccessFailure> {
    layered::seal(key, n, plain).map_err(|_| KeyAccessFailure::UnwrapFailed)
}

fn unseal(key: &DataEncryptionKey, n: usize, sealed: &[u8]) -> Result<Vec<u8>, KeyAccessFailure> {
    layered::unseal(key, n, sealed).map_err(|_| KeyAccessFailure::UnwrapFailed)
}

/// Pages: `inner` (the data key, when there is one) first, then the platform key.
fn encrypt_pages(
    platform: &DataEncryptionKey,
    inner: Option<&DataEncryptionKey>,
    texts: &[Vec<u8>],
) -> Result<Vec<EncryptedPage>, KeyAccessFailure> {
    PageLayers::new(inner, Some(platform))
        .encrypt_pages(texts)
        .map_err(|_| KeyAccessFailure::UnwrapFailed)
}

fn decrypt_pages(
    platform: &DataEncryptionKey,
    inner: Option<&DataEncryptionKey>,
    pages: &[EncryptedPage],
) -> Result<Vec<Vec<u8>>, KeyAccessFailure> {
    PageLayers::new(inner, Some(platform))
        .decrypt_pages(pages)
        .map_err(|_| KeyAccessFailure::UnwrapFailed)
}

fn sample_texts(what: &str) -> Vec<Vec<u8>> {
    (0..SAMPLE_PAGES)
        .map(|n| {
            format!(
                "{what}|page {n}|FactSales rows {}..{}|Contoso|Fabrikam|Northwind",
                n * 1000 + 1,
                n * 1000 + 1000
            )
            .into_bytes()
        })
        .collect()
}

/// Seals a data key with the platform key, then wraps the sealed blob with the key vault
/// key `url` (versionless: its current version; versioned: that version) through the
/// vault's `wrapKey` as the workspace. `key` is the workspace key name.
fn wrap_data_key(
    ws: &Workspace,
    w: &SynapseWorkspace,
    dek: &DataEncryptionKey,
    key: Option<(&str, &str)>,
) -> Result<WrappedDataKey, KeyAccessFailure> {
    let sealed = seal(&platform_cipher(w)?, 0, dek.as_bytes())?;
    match key {
        None => Ok(WrappedDataKey {
            workspace_key: None,
            kid: None,
            wrapped: sealed,
        }),
        Some((name, url)) => {
            let uri = KeyUri::parse(url).ok_or(KeyAccessFailure::KeyNotFound)?;
            let (kid, wrapped) = super::keyvault::data_plane::wrap_key(
                ws,
                &Caller::Synapse(w.name.clone()),
                &uri,
                &sealed,
            )?;
            Ok(WrappedDataKey {
                workspace_key: Some(name.to_string()),
                kid: Some(kid),
                wrapped,
            })
        }
    }
}

/// Opens a data key: the vault's `unwrapKey` with the very version that wrapped it (every
/// check: the version must still be enabled and unexpired), then the platform layer.
fn open_data_key(
    ws: &Workspace,
    w: &SynapseWorkspace,
    k: &WrappedDataKey,
) -> Result<DataEncryptionKey, KeyAccessFailure> {
    let sealed = match &k.kid {
        None => k.wrapped.clone(),
        Some(kid) => {
            let uri = KeyUri::parse(kid).ok_or(KeyAccessFailure::KeyNotFound)?;
            super::keyvault::data_plane::unwrap_key(
                ws,
                &Caller::Synapse(w.name.clone()),
                &uri,
                &k.wrapped,
            )?
        }
    };
    let bytes = unseal(&platform_cipher(w)?, 0, &sealed)?;
    DataEncryptionKey::from_bytes(&bytes).map_err(|_| KeyAccessFailure::UnwrapFailed)
}

pub(crate) use super::lookup::kek_principal;

// ---------------------------------------------------------------------------------------
// Workspaces
// ---------------------------------------------------------------------------------------

/// `az synapse workspace create`.
#[derive(Clone, Debug, Default)]
pub struct CreateWorkspace {
    pub name: String,
    pub resource_group: String,
    pub location: Option<String>,
    /// `--storage-account`: a name or an ARM id.
    pub storage_account: String,
    pub file_system: String,
    pub sql_admin_login_user: String,
    pub sql_admin_login_password: String,
    /// `--key-identifier` / `--cmk`: double encryption with this key.
    pub key_identifier: Option<String>,
    /// `--key-name` (default `default`).
    pub key_name: Option<String>,
    /// `--uami-id`: user-assigned identities (ARM ids).
    pub uami_ids: Vec<String>,
    /// `--uami-id-in-encrypt`.
    pub uami_id_in_encrypt: Option<String>,
    /// `--use-sami-in-encrypt` (default true).
    pub use_sami_in_encrypt: Option<bool>,
}

fn workspace_not_found(name: &str, group: &str) -> ServiceError {
    ServiceError::not_found(
        "ResourceNotFound",
        format!(
            "The Resource 'Microsoft.Synapse/workspaces/{name}' under resource group '{group}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
        ),
    )
}

/// The workspace `name` of `resource_group` in the current subscription.
pub fn show_workspace<'a>(
    ws: &'a Workspace,
    name: &str,
    resource_group: &str,
) -> ServiceResult<&'a SynapseWorkspace> {
    find_in_group(ws, &ws.synapse.workspaces, name, resource_group)?
        .ok_or_else(|| workspace_not_found(name, resource_group))
}

/// `az synapse workspace list [-g G]`.
pub fn list_workspaces<'a>(
    ws: &'a Workspace,
    resource_group: Option<&str>,
) -> ServiceResult<Vec<&'a SynapseWorkspace>> {
    list_in_group(ws, &ws.synapse.workspaces, resource_group)
}

/// A versionless Key Vault key URL (`https://{vault}.vault.azure.net/keys/{key}`), checked.
fn parse_key_url(url: &str) -> ServiceResult<KeyUri> {
    match KeyUri::parse(url) {
        Some(u) if u.version.is_none() && !u.managed_hsm => Ok(u),
        _ => Err(ServiceError::bad_request(
            "InvalidKeyVaultUrl",
            format!(
                "The key identifier '{url}' is not valid. Key identifier should be in the format of: https://{{keyvaultname}}.vault.azure.net/keys/{{keyname}}."
            ),
        )),
    }
}

fn check_key_name(name: &str) -> ServiceResult<()> {
    check_name("workspace key", name, 1, 127, |c| {
        c.is_ascii_alphanumeric() || c == '-'
    })
}

pub fn create_workspace(
    ws: &mut Workspace,
    req: &CreateWorkspace,
) -> ServiceResult<SynapseWorkspace> {
    transact(ws, |ws| {
        let name = req.name.trim();
        check_name("workspace", name, 1, 50, |c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'
        })?;
        if name.contains("-ondemand") {
            return Err(ServiceError::bad_request(
                "InvalidResourceName",
                format!("The workspace name '{name}' is invalid: it must not contain '-ondemand'."),
            ));
        }
        let location =
            super::lookup::resolve_location(ws, &req.resource_group, req.location.as_deref())?;
        if ws.synapse.workspace(name).is_some() {
            return Err(ServiceError::conflict(
                "WorkspaceNameAlreadyExists",
                format!("The workspace name '{name}' is already in use."),
            ));
        }
        if req.sql_admin_login_user.trim().is_empty() || req.sql_admin_login_password.is_empty() {
            return Err(ServiceError::bad_request(
                "InvalidParameterValue",
                "The SQL administrator login and password are required.",
            ));
        }
        // The account: a name, or an ARM id.
        let account_name = req
            .storage_account
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_string();
        let account = ws
            .synapse
            .storage_accounts
            .iter()
            .find(|a| {
                a.subscription == ws.current_subscription
                    && a.name.eq_ignore_ascii_case(&account_name)
            })
            .ok_or_else(|| storage_not_found(&account_name, &req.resource_group))?;
        if !account.hns || account.kind != "StorageV2" {
            return Err(ServiceError::bad_request(
                "InvalidStorageAccount",
                format!(
                    "The storage account '{}' is not a Data Lake Storage Gen2 account: a Synapse workspace needs a StorageV2 account with hierarchical namespace enabled (--hns true).",
                    account.name
                ),
            ));
        }
        if !account.has_file_system(&req.file_system) {
            return Err(filesystem_not_found());
        }
        let account_name = account.name.clone();
        // Identities.
        let mut user_assigned = Vec::new();
        for id in &req.uami_ids {
            let u = ws.identity(id).ok_or_else(|| {
                ServiceError::bad_request(
                    "InvalidUserAssignedIdentity",
                    format!("The user-assigned identity '{id}' was not found."),
                )
            })?;
            user_assigned.push(u.arm_id());
        }
        let use_sami = req.use_sami_in_encrypt.unwrap_or(true);
        let uami_in_encrypt = match &req.uami_id_in_encrypt {
            Some(id) => Some(
                user_assigned
                    .iter()
                    .find(|u| u.eq_ignore_ascii_case(id.trim()))
                    .cloned()
                    .ok_or_else(|| {
                        ServiceError::bad_request(
                            "InvalidUserAssignedIdentity",
                            format!(
                                "The user-assigned identity '{id}' used for encryption must be one of the workspace's user-assigned identities (--uami-id)."
                            ),
                        )
                    })?,
            ),
            None => None,
        };
        if !use_sami && uami_in_encrypt.is_none() {
            return Err(ServiceError::bad_request(
                "InvalidParameterValue",
                "--use-sami-in-encrypt False needs a user-assigned identity for encryption (--uami-id-in-encrypt).",
            ));
        }
        let key = match &req.key_identifier {
            Some(url) => {
                let u = parse_key_url(url)?;
                let key_name = req
                    .key_name
                    .clone()
                    .unwrap_or_else(|| DEFAULT_KEY_NAME.into());
                check_key_name(&key_name)?;
                Some((key_name, u.to_uri()))
            }
            None => None,
        };
        let mut platform = [0u8; 32];
        rand::fill(&mut platform);
        let principal_id = PrincipalId(guid_from_bytes(ws.clock.draw_bytes16()));
        let workspace_uid = guid_from_bytes(ws.clock.draw_bytes16());
        let managed_rg = format!(
            "synapseworkspace-managedrg-{}",
            guid_from_bytes(ws.clock.draw_bytes16())
        );
        let dek = DataEncryptionKey::generate();
        let mut w = SynapseWorkspace {
            name: name.to_string(),
            resource_group: ws.resource_group_name(&req.resource_group),
            subscription: ws.current_subscription.clone(),
            location,
            storage_account: account_name,
            file_system: req.file_system.clone(),
            sql_admin_login: req.sql_admin_login_user.trim().to_string(),
            principal_id,
            tenant_id: ws.console_user.tenant.clone(),
            user_assigned,
            uami_in_encrypt,
            use_sami_in_encrypt: use_sami,
            double_encryption: key.is_some(),
            cmk_status: None,
            cmk_key: key.as_ref().map(|(n, _)| n.clone()),
            keys: key
                .iter()
                .map(|(n, url)| WorkspaceKey {
                    name: n.clone(),
                    key_vault_url: url.clone(),
                    is_active_cmk: false,
                })
                .collect(),
            platform_key: PlatformKey(platform.to_vec()),
            data_key: WrappedDataKey {
                workspace_key: None,
                kid: None,
                wrapped: Vec::new(),
            },
            pages: Vec::new(),
            pending: None,
            workspace_uid,
            managed_resource_group: managed_rg,
            pools: Vec::new(),
            firewall_rules: Vec::new(),
            created: ws.now(),
        };
        let platform_key = platform_cipher(&w).map_err(|f| crypto_error(&f))?;
        w.data_key = wrap_data_key(ws, &w, &dek, None).map_err(|f| crypto_error(&f))?;
        w.pages = encrypt_pages(&platform_key, Some(&dek), &sample_texts(name))
            .map_err(|f| crypto_error(&f))?;
        ws.synapse.workspaces.push(w.clone());
        if let Some((key_name, url)) = &key {
            // A user-assigned identity that already reaches the key: no phased activation.
            let by_uami = w.uami_in_encrypt.is_some() && !w.use_sami_in_encrypt;
            if by_uami {
                check_cmk(ws, name, url)?;
                let wrapped = wrap_data_key(ws, &w, &dek, Some((key_name, url)))
                    .map_err(|f| workspace_vault_error(ws, name, url, "wrapKey", &f))?;
                if let Some(w) = ws.synapse.workspace_mut(name) {
                    w.data_key = wrapped;
                    w.cmk_status = Some(CmkStatus::Consistent);
                    for k in &mut w.keys {
                        k.is_active_cmk = true;
                    }
                }
            } else if let Some(w) = ws.synapse.workspace_mut(name) {
                w.cmk_status = Some(CmkStatus::AwaitingUserAction);
            }
        }
        let w = ws
            .synapse
            .workspace(name)
            .cloned()
            .ok_or_else(|| workspace_not_found(name, &req.resource_group))?;
        super::log_management(
            ws,
            "Create or update Synapse workspace",
            w.arm_id(),
            format!("Synapse workspace {name} created"),
        );
        if w.awaiting_activation() {
            notify(
                ws,
                NotificationLevel::Warning,
                format!("Workspace {name} awaits activation"),
                ACTIVATION_BANNER,
            );
        }
        Ok(w)
    })
}

fn crypto_error(f: &KeyAccessFailure) -> ServiceError {
    ServiceError::new(
        "InternalServerError",
        500,
        format!(
            "Some error occurred while encrypting workspace data: {}.",
            f.describe()
        ),
    )
}

/// The vault's own error for a refused call of the workspace to the key at `url`.
fn workspace_vault_error(
    ws: &Workspace,
    workspace: &str,
    url: &str,
    action: &str,
    f: &KeyAccessFailure,
) -> ServiceError {
    let vault = KeyUri::parse(url).and_then(|u| ws.vault(&u.vault).cloned());
    match vault {
        Some(v) => vault_error(ws, &v, &Caller::Synapse(workspace.to_string()), action, f),
        None => {
            ServiceError::vault_not_found(&KeyUri::parse(url).map(|u| u.vault).unwrap_or_default())
        }
    }
}

/// What the workspace checks before it uses a key (activation, a key switch): the vault
/// exists with purge protection, its identity has get, wrapKey and unwrapKey (through the
/// vault's own checks, as one journaled `get`), and the key is RSA 2048 or 3072.
pub fn check_cmk(ws: &Workspace, workspace: &str, url: &str) -> ServiceResult<()> {
    let uri = parse_key_url(url)?;
    let vault = ws
        .vault(&uri.vault)
        .filter(|v| v.deleted.is_none() && !v.is_managed_hsm())
        .ok_or_else(|| ServiceError::vault_not_found(&uri.vault))?;
    if !vault.purge_protection {
        return Err(ServiceError::bad_request(
            "KeyVaultPurgeProtectionNotEnabled",
            format!(
                "The key vault '{}' must have soft delete and purge protection enabled to be used for workspace double encryption.",
                vault.name
            ),
        ));
    }
    let caller = Caller::Synapse(workspace.to_string());
    let k = server_check_key(
        ws,
        &caller,
        &uri,
        &KeyPermission::TDE_REQUIRED,
        Some(KeyOperation::WrapKey),
    )
    .map_err(|f| vault_error(ws, vault, &caller, "get", &f))?;
    let bits = k.version.material.bits();
    if !k.key.kty.is_rsa() || !(bits == 2048 || bits == 3072) {
        return Err(ServiceError::bad_request(
            "InvalidKeyType",
            format!(
                "The key '{}' cannot encrypt the workspace: only RSA and RSA-HSM keys of 2048 or 3072 bits are supported.",
                uri.to_uri()
            ),
        ));
    }
    if !k.version.allows(KeyOperation::UnwrapKey) {
        return Err(vault_error(
            ws,
            vault,
            &caller,
            "unwrapKey",
            &KeyAccessFailure::KeyOperationsNotPermitted,
        ));
    }
    Ok(())
}

/// `az synapse workspace delete`: the workspace and its pools.
pub fn delete_workspace(ws: &mut Workspace, name: &str, resource_group: &str) -> ServiceResult<()> {
    let id = show_workspace(ws, name, resource_group)?.arm_id();
    transact(ws, |ws| {
        ws.synapse
            .workspaces
            .retain(|w| !w.arm_id().eq_ignore_ascii_case(&id));
        ws.schedule.events.retain(|e| {
            !matches!(&e.event, SimEvent::SynapseKeyChange { workspace } if workspace.eq_ignore_ascii_case(name))
        });
        super::log_management(
            ws,
            "Microsoft.Synapse/workspaces/delete",
            id,
            format!("Synapse workspace {name} deleted"),
        );
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------
// Workspace firewall rules
// ---------------------------------------------------------------------------------------

fn workspace_mut<'a>(
    ws: &'a mut Workspace,
    name: &str,
    resource_group: &str,
) -> ServiceResult<&'a mut SynapseWorkspace> {
    let id = show_workspace(ws, name, resource_group)?.arm_id();
    ws.synapse
        .workspaces
        .iter_mut()
        .find(|w| w.arm_id().eq_ignore_ascii_case(&id))
        .ok_or_else(|| workspace_not_found(name, resource_group))
}

fn rule_not_found(w: &SynapseWorkspace, rule: &str) -> ServiceError {
    ServiceError::not_found(
        "ResourceNotFound",
        format!(
            "The Resource 'Microsoft.Synapse/workspaces/{}/firewallRules/{rule}' under resource group '{}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
            w.name, w.resource_group
        ),
    )
}

/// `az synapse workspace firewall-rule create`: a rule of that name is replaced, as ARM's
/// PUT does. The range is checked as the SQL server's rules are (IPv4, start ≤ end).
pub fn create_firewall_rule(
    ws: &mut Workspace,
    workspace: &str,
    resource_group: &str,
    name: &str,
    start: &str,
    end: &str,
) -> ServiceResult<FirewallRule> {
    transact(ws, |ws| {
        show_workspace(ws, workspace, resource_group)?;
        super::check_name("firewall rule", name, 1, 128, |c| {
            !"<>*%&:\\/?#".contains(c) && !c.is_control()
        })?;
        let (start, end) = super::lookup::check_range(start, end)?;
        let rule = FirewallRule {
            name: name.to_string(),
            start_ip: start,
            end_ip: end,
        };
        let w = workspace_mut(ws, workspace, resource_group)?;
        let id = format!("{}/firewallRules/{name}", w.arm_id());
        match w
            .firewall_rules
            .iter_mut()
            .find(|r| r.name.eq_ignore_ascii_case(name))
        {
            Some(r) => *r = rule.clone(),
            None => w.firewall_rules.push(rule.clone()),
        }
        super::log_management(
            ws,
            "Microsoft.Synapse/workspaces/firewallRules/write",
            id,
            format!(
                "Firewall rule '{name}' ({} - {}) set on Synapse workspace {workspace}",
                rule.start_ip, rule.end_ip
            ),
        );
        Ok(rule)
    })
}

/// `az synapse workspace firewall-rule show`.
pub fn show_firewall_rule(
    ws: &Workspace,
    workspace: &str,
    resource_group: &str,
    name: &str,
) -> ServiceResult<FirewallRule> {
    let w = show_workspace(ws, workspace, resource_group)?;
    w.firewall_rules
        .iter()
        .find(|r| r.name.eq_ignore_ascii_case(name))
        .cloned()
        .ok_or_else(|| rule_not_found(w, name))
}

/// `az synapse workspace firewall-rule delete`.
pub fn delete_firewall_rule(
    ws: &mut Workspace,
    workspace: &str,
    resource_group: &str,
    name: &str,
) -> ServiceResult<()> {
    let rule = show_firewall_rule(ws, workspace, resource_group, name)?;
    transact(ws, |ws| {
        let w = workspace_mut(ws, workspace, resource_group)?;
        let id = format!("{}/firewallRules/{}", w.arm_id(), rule.name);
        w.firewall_rules
            .retain(|r| !r.name.eq_ignore_ascii_case(&rule.name));
        super::log_management(
            ws,
            "Microsoft.Synapse/workspaces/firewallRules/delete",
            id,
            format!(
                "Firewall rule '{}' deleted from Synapse workspace {workspace}",
                rule.name
            ),
        );
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------
// Workspace keys, activation, key switch
// ---------------------------------------------------------------------------------------

fn key_not_found(workspace: &SynapseWorkspace, key: &str) -> ServiceError {
    ServiceError::not_found(
        "ResourceNotFound",
        format!(
            "The Resource 'Microsoft.Synapse/workspaces/{}/keys/{key}' under resource group '{}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
            workspace.name, workspace.resource_group
        ),
    )
}

/// `az synapse workspace key show`.
pub fn show_key<'a>(
    ws: &'a Workspace,
    workspace: &str,
    resource_group: &str,
    key: &str,
) -> ServiceResult<&'a WorkspaceKey> {
    let w = show_workspace(ws, workspace, resource_group)?;
    w.key(key).ok_or_else(|| key_not_found(w, key))
}

/// `az synapse workspace key create --name K --key-identifier URL`: a key the workspace
/// can switch to. Refused on a workspace without double encryption, for a URL another key
/// of the workspace already has (`CannotAddWorkspaceKey`) and for the active key's name.
pub fn create_key(
    ws: &mut Workspace,
    workspace: &str,
    resource_group: &str,
    key: &str,
    url: &str,
) -> ServiceResult<WorkspaceKey> {
    let w = show_workspace(ws, workspace, resource_group)?.name.clone();
    transact(ws, |ws| {
        check_key_name(key)?;
        let uri = parse_key_url(url)?;
        let url = uri.to_uri();
        let w_ref = ws
            .synapse
            .workspace(&w)
            .ok_or_else(|| workspace_not_found(&w, resource_group))?;
        let invalid = || {
            ServiceError::bad_request("BadRequest", "Invalid request to create a Workspace Key.")
        };
        if !w_ref.double_encryption {
            return Err(invalid());
        }
        if let Some(other) = w_ref.keys.iter().find(|k| {
            k.key_vault_url.eq_ignore_ascii_case(&url) && !k.name.eq_ignore_ascii_case(key)
        }) {
            return Err(ServiceError::bad_request(
                "CannotAddWorkspaceKey",
                format!(
                    "Workspace Key Vault URL {url} already exists for workspace key: {}",
                    other.name
                ),
            ));
        }
        let existing = w_ref.key(key).cloned();
        if let Some(k) = &existing {
            if k.key_vault_url.eq_ignore_ascii_case(&url) {
                return Ok(k.clone());
            }
            if k.is_active_cmk
                || w_ref
                    .cmk_key
                    .as_deref()
                    .is_some_and(|a| a.eq_ignore_ascii_case(key))
            {
                return Err(invalid());
            }
        }
        let new = WorkspaceKey {
            name: key.to_string(),
            key_vault_url: url,
            is_active_cmk: false,
        };
        if let Some(w) = ws.synapse.workspace_mut(&w) {
            w.keys.retain(|k| !k.name.eq_ignore_ascii_case(key));
            w.keys.push(new.clone());
        }
        Ok(new)
    })
}

/// `az synapse workspace key delete`: refused for the active key ("The key at active
/// status can't be deleted."); `None` when there was no such key (204).
pub fn delete_key(
    ws: &mut Workspace,
    workspace: &str,
    resource_group: &str,
    key: &str,
) -> ServiceResult<Option<WorkspaceKey>> {
    let w = show_workspace(ws, workspace, resource_group)?;
    let Some(k) = w.key(key).cloned() else {
        return Ok(None);
    };
    let in_use = k.is_active_cmk
        || w.cmk_key
            .as_deref()
            .is_some_and(|a| a.eq_ignore_ascii_case(key))
        || matches!(&w.pending, Some(PendingKeyChange::Switch { to, .. }) if to.eq_ignore_ascii_case(key));
    if in_use {
        return Err(ServiceError::bad_request(
            "CannotDeleteActiveWorkspaceKey",
            "The key at active status can't be deleted.",
        ));
    }
    let name = w.name.clone();
    transact(ws, |ws| {
        if let Some(w) = ws.synapse.workspace_mut(&name) {
            w.keys.retain(|x| !x.name.eq_ignore_ascii_case(key));
        }
        Ok(Some(k))
    })
}

/// How long activation takes to show (`isActiveCMK` turns true about two minutes after
/// the PUT).
pub const ACTIVATION_DELAY: Duration = Duration::minutes(2);

/// `az synapse workspace activate --name K --workspace-name W -g G --key-identifier URL`:
/// the PUT of the key with `isActiveCMK: true`. Checks the vault (purge protection) and the
/// workspace identity's access now; the workspace turns `Consistent` about two minutes
/// later, when its data keys are really wrapped by the key.
pub fn activate(
    ws: &mut Workspace,
    workspace: &str,
    resource_group: &str,
    key: &str,
    url: &str,
) -> ServiceResult<WorkspaceKey> {
    let w = show_workspace(ws, workspace, resource_group)?.clone();
    transact(ws, |ws| {
        let uri = parse_key_url(url)?;
        let url = uri.to_uri();
        if !w.double_encryption {
            return Err(ServiceError::bad_request(
                "BadRequest",
                "Invalid request to create a Workspace Key.",
            ));
        }
        let k = w.key(key).ok_or_else(|| key_not_found(&w, key))?;
        if !k.key_vault_url.eq_ignore_ascii_case(&url) {
            return Err(ServiceError::bad_request(
                "BadRequest",
                format!(
                    "Invalid request to create a Workspace Key: the key '{}' has the Key Vault URL {}.",
                    k.name, k.key_vault_url
                ),
            ));
        }
        if !w.awaiting_activation() {
            // Activating an active workspace's own key changes nothing.
            return Ok(k.clone());
        }
        check_cmk(ws, &w.name, &url)?;
        let due = ws.now() + ACTIVATION_DELAY;
        let key_name = k.name.clone();
        if let Some(wm) = ws.synapse.workspace_mut(&w.name) {
            wm.pending = Some(PendingKeyChange::Activate {
                key: key_name.clone(),
                due,
            });
        }
        ws.schedule.push(
            due,
            SimEvent::SynapseKeyChange {
                workspace: w.name.clone(),
            },
        );
        super::log_management(
            ws,
            "Microsoft.Synapse/workspaces/keys/write",
            format!("{}/keys/{key_name}", w.arm_id()),
            format!(
                "Workspace {} activation requested with key {key_name}",
                w.name
            ),
        );
        // The PUT answers with isActiveCMK still false.
        Ok(k.clone())
    })
}

/// `az synapse workspace update --key-name K`: switches the workspace to another of its
/// keys. Validates access to the new key, then re-encrypts (`Updating`, 15 to 30 minutes).
/// Ignored (the workspace unchanged) without double encryption, as az does.
pub fn update_key(
    ws: &mut Workspace,
    workspace: &str,
    resource_group: &str,
    key: &str,
) -> ServiceResult<SynapseWorkspace> {
    let w = show_workspace(ws, workspace, resource_group)?.clone();
    if !w.double_encryption {
        return Ok(w);
    }
    transact(ws, |ws| {
        let k = w.key(key).ok_or_else(|| key_not_found(&w, key))?.clone();
        match w.cmk_status {
            Some(CmkStatus::AwaitingUserAction) => return Err(activation_required()),
            Some(CmkStatus::Updating) => {
                return Err(ServiceError::conflict(
                    "WorkspaceKeyUpdateInProgress",
                    format!(
                        "The workspace '{}' is re-encrypting its data with another key; try again when its encryption status is Consistent.",
                        w.name
                    ),
                ));
            }
            _ => {}
        }
        if w.cmk_key
            .as_deref()
            .is_some_and(|a| a.eq_ignore_ascii_case(key))
            && w.cmk_status == Some(CmkStatus::Consistent)
        {
            return Ok(w.clone());
        }
        check_cmk(ws, &w.name, &k.key_vault_url)?;
        let delay = ws
            .clock
            .draw_delay(Duration::minutes(15), Duration::minutes(30));
        let due = ws.now() + delay;
        let out = {
            let wm = ws
                .synapse
                .workspace_mut(&w.name)
                .ok_or_else(|| workspace_not_found(&w.name, resource_group))?;
            wm.cmk_status = Some(CmkStatus::Updating);
            wm.pending = Some(PendingKeyChange::Switch {
                to: k.name.clone(),
                due,
            });
            wm.clone()
        };
        ws.schedule.push(
            due,
            SimEvent::SynapseKeyChange {
                workspace: w.name.clone(),
            },
        );
        super::log_management(
            ws,
            "Create or update Synapse workspace",
            w.arm_id(),
            format!("Workspace {} switching to key {}", w.name, k.name),
        );
        Ok(out)
    })
}

fn activation_required() -> ServiceError {
    ServiceError::bad_request(
        "WorkspaceActivationRequired",
        "Workspace needs to be activated, by adding the managed identity in the KeyVault containing the customer managed key and activating the workspace through the keys subresource.",
    )
}

/// The service finishes an activation or a key switch (a scheduled event).
pub(crate) fn complete_pending(ws: &mut Workspace, workspace: &str) {
    let Some(w) = ws.synapse.workspace(workspace).cloned() else {
        return;
    };
    let Some(pending) = w.pending.clone() else {
        return;
    };
    if pending.due() > ws.now() {
        return;
    }
    match pending {
        PendingKeyChange::Activate { key, .. } => finish_activation(ws, &w, &key),
        PendingKeyChange::Switch { to, .. } => finish_switch(ws, &w, &to),
    }
}

fn finish_activation(ws: &mut Workspace, w: &SynapseWorkspace, key: &str) {
    let Some(k) = w.key(key).cloned() else {
        if let Some(wm) = ws.synapse.workspace_mut(&w.name) {
            wm.pending = None;
        }
        return;
    };
    let wrapped = open_data_key(ws, w, &w.data_key)
        .and_then(|dek| wrap_data_key(ws, w, &dek, Some((&k.name, &k.key_vault_url))));
    match wrapped {
        Ok(data_key) => {
            if let Some(wm) = ws.synapse.workspace_mut(&w.name) {
                wm.pending = None;
                wm.data_key = data_key;
                wm.cmk_status = Some(CmkStatus::Consistent);
                wm.cmk_key = Some(k.name.clone());
                for x in &mut wm.keys {
                    x.is_active_cmk = x.name.eq_ignore_ascii_case(&k.name);
                }
            }
            notify(
                ws,
                NotificationLevel::Success,
                format!("Workspace {} activated", w.name),
                format!(
                    "The workspace data is now encrypted with key '{}' ({}) on top of the platform keys.",
                    k.name, k.key_vault_url
                ),
            );
        }
        Err(f) => {
            if let Some(wm) = ws.synapse.workspace_mut(&w.name) {
                wm.pending = None;
            }
            notify(
                ws,
                NotificationLevel::Error,
                format!("Activation of workspace {} failed", w.name),
                format!(
                    "The workspace could not use key '{}': {}.",
                    k.name,
                    f.describe()
                ),
            );
        }
    }
}

fn finish_switch(ws: &mut Workspace, w: &SynapseWorkspace, to: &str) {
    let Some(k) = w.key(to).cloned() else {
        if let Some(wm) = ws.synapse.workspace_mut(&w.name) {
            wm.pending = None;
            wm.cmk_status = Some(CmkStatus::Consistent);
        }
        return;
    };
    let new_key = Some((k.name.as_str(), k.key_vault_url.as_str()));
    // Re-encryption: every data key opened with the version that wrapped it, wrapped again
    // with the new key's current version. Paused pools are skipped.
    let result =
        (|| -> Result<(WrappedDataKey, Vec<(String, WrappedDataKey)>), KeyAccessFailure> {
            let dek = open_data_key(ws, w, &w.data_key)?;
            let data_key = wrap_data_key(ws, w, &dek, new_key)?;
            let mut pools = Vec::new();
            for p in &w.pools {
                if p.status == PoolStatus::Paused {
                    continue;
                }
                if let Some(d) = &p.dek {
                    let pdek = open_data_key(ws, w, d)?;
                    pools.push((p.name.clone(), wrap_data_key(ws, w, &pdek, new_key)?));
                }
            }
            Ok((data_key, pools))
        })();
    match result {
        Ok((data_key, pools)) => {
            if let Some(wm) = ws.synapse.workspace_mut(&w.name) {
                wm.pending = None;
                wm.data_key = data_key;
                wm.cmk_status = Some(CmkStatus::Consistent);
                wm.cmk_key = Some(k.name.clone());
                for x in &mut wm.keys {
                    x.is_active_cmk = x.name.eq_ignore_ascii_case(&k.name);
                }
                for (name, dek) in pools {
                    if let Some(p) = wm.pool_mut(&name) {
                        p.dek = Some(dek);
                    }
                }
            }
            notify(
                ws,
                NotificationLevel::Success,
                format!("Workspace {} re-encrypted", w.name),
                format!("The workspace data is now encrypted with key '{}'.", k.name),
            );
        }
        Err(f) => {
            if let Some(wm) = ws.synapse.workspace_mut(&w.name) {
                wm.pending = None;
                wm.cmk_status = Some(CmkStatus::Failed);
            }
            let id = w.arm_id();
            super::log_activity(
                ws,
                ws.now(),
                "Create or update Synapse workspace",
                ActivityStatus::Failed,
                id,
                format!(
                    "Re-encryption of workspace {} with key '{}' failed: {}",
                    w.name,
                    k.name,
                    f.describe()
                ),
            );
            notify(
                ws,
                NotificationLevel::Error,
                format!("Workspace {} failed", w.name),
                format!(
                    "Re-encrypting with key '{}' needed the previous key version, which the workspace could not use: {}. Enable the previous version and give it a future expiry, then switch keys again.",
                    k.name,
                    f.describe()
                ),
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// Dedicated SQL pools
// ---------------------------------------------------------------------------------------

/// `az synapse sql pool create`.
#[derive(Clone, Debug, Default)]
pub struct CreatePool {
    pub workspace: String,
    pub resource_group: String,
    pub name: String,
    pub performance_level: String,
    pub storage_type: Option<String>,
    pub collation: Option<String>,
}

fn pool_not_found(w: &SynapseWorkspace, pool: &str) -> ServiceError {
    ServiceError::not_found(
        "ResourceNotFound",
        format!(
            "The Resource 'Microsoft.Synapse/workspaces/{}/sqlPools/{pool}' under resource group '{}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
            w.name, w.resource_group
        ),
    )
}

/// `az synapse sql pool show`.
pub fn show_pool<'a>(
    ws: &'a Workspace,
    workspace: &str,
    resource_group: &str,
    pool: &str,
) -> ServiceResult<(&'a SynapseWorkspace, &'a SynapseSqlPool)> {
    let w = show_workspace(ws, workspace, resource_group)?;
    let p = w.pool(pool).ok_or_else(|| pool_not_found(w, pool))?;
    Ok((w, p))
}

pub fn create_pool(ws: &mut Workspace, req: &CreatePool) -> ServiceResult<SynapseSqlPool> {
    let w = show_workspace(ws, &req.workspace, &req.resource_group)?.clone();
    transact(ws, |ws| {
        check_name("SQL pool", &req.name, 1, 60, |c| {
            c.is_ascii_alphanumeric() || c == '_'
        })?;
        if w.awaiting_activation() {
            return Err(activation_required());
        }
        let level = PERFORMANCE_LEVELS
            .iter()
            .find(|l| l.eq_ignore_ascii_case(req.performance_level.trim()))
            .ok_or_else(|| {
                ServiceError::bad_request(
                    "InvalidPerformanceLevel",
                    format!(
                        "The performance level '{}' is not valid. Valid levels: {}.",
                        req.performance_level,
                        PERFORMANCE_LEVELS.join(", ")
                    ),
                )
            })?;
        let storage_type = match req.storage_type.as_deref() {
            None => "GRS".to_string(),
            Some(t) if t.eq_ignore_ascii_case("GRS") || t.eq_ignore_ascii_case("LRS") => {
                t.to_ascii_uppercase()
            }
            Some(t) => {
                return Err(ServiceError::bad_request(
                    "InvalidArgumentValue",
                    format!(
                        "'{t}' is not a valid value for '--storage-type'. Allowed values: GRS, LRS."
                    ),
                ));
            }
        };
        if w.pool(&req.name).is_some() {
            return Err(ServiceError::conflict(
                "SqlPoolAlreadyExists",
                format!(
                    "The SQL pool '{}' already exists in workspace '{}'.",
                    req.name, w.name
                ),
            ));
        }
        let platform = platform_cipher(&w).map_err(|f| crypto_error(&f))?;
        let pages = encrypt_pages(&platform, None, &sample_texts(&req.name))
            .map_err(|f| crypto_error(&f))?;
        let pool = SynapseSqlPool {
            name: req.name.clone(),
            performance_level: level.to_string(),
            storage_type,
            collation: req
                .collation
                .clone()
                .unwrap_or_else(|| "SQL_Latin1_General_CP1_CI_AS".into()),
            status: PoolStatus::Online,
            tde_enabled: false,
            dek: None,
            pages,
            created: ws.now(),
        };
        if let Some(wm) = ws.synapse.workspace_mut(&w.name) {
            wm.pools.push(pool.clone());
        }
        super::log_management(
            ws,
            "Microsoft.Synapse/workspaces/sqlPools/write",
            format!("{}/sqlPools/{}", w.arm_id(), pool.name),
            format!("Dedicated SQL pool {} created", pool.name),
        );
        Ok(pool)
    })
}

/// `az synapse sql pool delete`.
pub fn delete_pool(
    ws: &mut Workspace,
    workspace: &str,
    resource_group: &str,
    pool: &str,
) -> ServiceResult<()> {
    let (w, p) = show_pool(ws, workspace, resource_group, pool)?;
    let (w, p) = (w.name.clone(), p.name.clone());
    transact(ws, |ws| {
        if let Some(wm) = ws.synapse.workspace_mut(&w) {
            wm.pools.retain(|x| x.name != p);
        }
        Ok(())
    })
}

/// `az synapse sql pool pause`: the pool keeps its DEK wrapped as it is (a key switch
/// while it is paused does not re-wrap it).
pub fn pause_pool(
    ws: &mut Workspace,
    workspace: &str,
    resource_group: &str,
    pool: &str,
) -> ServiceResult<SynapseSqlPool> {
    let (w, p) = show_pool(ws, workspace, resource_group, pool)?;
    let (w, p) = (w.name.clone(), p.name.clone());
    transact(ws, |ws| {
        let wm = ws
            .synapse
            .workspace_mut(&w)
            .ok_or_else(|| workspace_not_found(&w, resource_group))?;
        let pm = wm
            .pool_mut(&p)
            .ok_or_else(|| ServiceError::not_found("ResourceNotFound", p.clone()))?;
        pm.status = PoolStatus::Paused;
        Ok(pm.clone())
    })
}

/// `az synapse sql pool resume`: the pool opens its DEK through the vault with the key
/// version that wrapped it. If the workspace switched keys while the pool was paused, that
/// is the old version: resume fails while it is disabled, expired or deleted; otherwise the
/// pool re-encrypts under the workspace's current key.
pub fn resume_pool(
    ws: &mut Workspace,
    workspace: &str,
    resource_group: &str,
    pool: &str,
) -> ServiceResult<SynapseSqlPool> {
    let (w, p) = show_pool(ws, workspace, resource_group, pool)?;
    let (w, p) = (w.clone(), p.clone());
    transact(ws, |ws| {
        let mut resumed = p.clone();
        if let Some(d) = &p.dek {
            let dek = open_data_key(ws, &w, d).map_err(|f| pool_key_error(ws, &w, d, &f))?;
            decrypt_pages(
                &platform_cipher(&w).map_err(|f| crypto_error(&f))?,
                Some(&dek),
                &p.pages,
            )
            .map_err(|f| crypto_error(&f))?;
            if d.kid != w.data_key.kid {
                let current = current_key(&w);
                resumed.dek = Some(
                    wrap_data_key(
                        ws,
                        &w,
                        &dek,
                        current.as_ref().map(|(n, u)| (n.as_str(), u.as_str())),
                    )
                    .map_err(|f| pool_key_error(ws, &w, d, &f))?,
                );
            }
        }
        resumed.status = PoolStatus::Online;
        if let Some(pm) = ws
            .synapse
            .workspace_mut(&w.name)
            .and_then(|wm| wm.pool_mut(&p.name))
        {
            *pm = resumed.clone();
        }
        Ok(resumed)
    })
}

/// The key (name, versioned kid) the workspace's data key is wrapped with now: new pool
/// DEKs and re-encrypted ones use the same version (new Key Vault versions are not picked
/// up).
fn current_key(w: &SynapseWorkspace) -> Option<(String, String)> {
    match (&w.data_key.workspace_key, &w.data_key.kid) {
        (Some(n), Some(kid)) => Some((n.clone(), kid.clone())),
        _ => None,
    }
}

/// The SQL engine's error for a pool whose key it cannot use.
fn pool_key_error(
    ws: &Workspace,
    w: &SynapseWorkspace,
    d: &WrappedDataKey,
    f: &KeyAccessFailure,
) -> ServiceError {
    let principal = kek_principal(ws, &w.name)
        .map(|(p, _, _)| p.0)
        .unwrap_or_default();
    let vault_uri = d
        .kid
        .as_deref()
        .and_then(KeyUri::parse)
        .map(|u| format!("https://{}.vault.azure.net/", u.vault))
        .unwrap_or_default();
    ServiceError::from_key_access(f, &w.name, &principal, &vault_uri)
}

/// `az synapse sql pool tde set --status Enabled|Disabled`: Enabled encrypts the pool's
/// pages with a new DEK, wrapped (in a workspace with double encryption) by the workspace
/// key's version; Disabled decrypts them (the platform layer stays).
pub fn set_pool_tde(
    ws: &mut Workspace,
    workspace: &str,
    resource_group: &str,
    pool: &str,
    enabled: bool,
) -> ServiceResult<SynapseSqlPool> {
    let (w, p) = show_pool(ws, workspace, resource_group, pool)?;
    let (w, p) = (w.clone(), p.clone());
    transact(ws, |ws| {
        if p.status == PoolStatus::Paused {
            return Err(ServiceError::conflict(
                "SqlPoolIsPaused",
                format!(
                    "The operation cannot be performed because the SQL pool '{}' is paused. Resume it first.",
                    p.name
                ),
            ));
        }
        if p.tde_enabled == enabled {
            return Ok(p.clone());
        }
        let platform = platform_cipher(&w).map_err(|f| crypto_error(&f))?;
        let mut out = p.clone();
        if enabled {
            let current = current_key(&w);
            let dek = DataEncryptionKey::generate();
            let wrapped = wrap_data_key(
                ws,
                &w,
                &dek,
                current.as_ref().map(|(n, u)| (n.as_str(), u.as_str())),
            )
            .map_err(|f| pool_key_error(ws, &w, &w.data_key, &f))?;
            let plain = decrypt_pages(&platform, None, &p.pages).map_err(|f| crypto_error(&f))?;
            out.pages =
                encrypt_pages(&platform, Some(&dek), &plain).map_err(|f| crypto_error(&f))?;
            out.dek = Some(wrapped);
        } else {
            let d = p
                .dek
                .clone()
                .ok_or_else(|| crypto_error(&KeyAccessFailure::KeyNotFound))?;
            let dek = open_data_key(ws, &w, &d).map_err(|f| pool_key_error(ws, &w, &d, &f))?;
            let plain =
                decrypt_pages(&platform, Some(&dek), &p.pages).map_err(|f| crypto_error(&f))?;
            out.pages = encrypt_pages(&platform, None, &plain).map_err(|f| crypto_error(&f))?;
            out.dek = None;
        }
        out.tde_enabled = enabled;
        if let Some(pm) = ws
            .synapse
            .workspace_mut(&w.name)
            .and_then(|wm| wm.pool_mut(&p.name))
        {
            *pm = out.clone();
        }
        super::log_management(
            ws,
            "Microsoft.Synapse/workspaces/sqlPools/transparentDataEncryption/write",
            format!(
                "{}/sqlPools/{}/transparentDataEncryption/current",
                w.arm_id(),
                p.name
            ),
            format!(
                "TDE {} on pool {}",
                if enabled { "enabled" } else { "disabled" },
                p.name
            ),
        );
        Ok(out)
    })
}

// ---------------------------------------------------------------------------------------
// Reading the data back (the proof of the layers)
// ---------------------------------------------------------------------------------------

/// The workspace's sample data, decrypted the way the service reads it: the data key
/// opened through the vault (with every check) and the platform key, each page decrypted
/// twice.
pub fn read_workspace_data(
    ws: &Workspace,
    workspace: &str,
    resource_group: &str,
) -> ServiceResult<Vec<String>> {
    let w = show_workspace(ws, workspace, resource_group)?;
    let dek =
        open_data_key(ws, w, &w.data_key).map_err(|f| pool_key_error(ws, w, &w.data_key, &f))?;
    let platform = platform_cipher(w).map_err(|f| crypto_error(&f))?;
    decrypt_pages(&platform, Some(&dek), &w.pages)
        .map_err(|f| crypto_error(&f))
        .map(|pages| {
            pages
                .into_iter()
                .map(|p| String::from_utf8_lossy(&p).into_owned())
                .collect()
        })
}

/// A pool's sample rows, decrypted (refused while the pool is paused).
pub fn read_pool_data(
    ws: &Workspace,
    workspace: &str,
    resource_group: &str,
    pool: &str,
) -> ServiceResult<Vec<String>> {
    let (w, p) = show_pool(ws, workspace, resource_group, pool)?;
    if p.status == PoolStatus::Paused {
        return Err(ServiceError::conflict(
            "SqlPoolIsPaused",
            format!("The SQL pool '{}' is paused.", p.name),
        ));
    }
    let platform = platform_cipher(w).map_err(|f| crypto_error(&f))?;
    let dek = match &p.dek {
        Some(d) => Some(open_data_key(ws, w, d).map_err(|f| pool_key_error(ws, w, d, &f))?),
        None => None,
    };
    decrypt_pages(&platform, dek.as_ref(), &p.pages)
        .map_err(|f| crypto_error(&f))
        .map(|pages| {
            pages
                .into_iter()
                .map(|p| String::from_utf8_lossy(&p).into_owned())
                .collect()
        })
}

/// Whether the workspace's key is usable by it now (for the portal's status line), without
/// a journaled request.
pub fn key_reachable(ws: &Workspace, w: &SynapseWorkspace) -> Result<(), KeyAccessFailure> {
    let Some(kid) = &w.data_key.kid else {
        return Ok(());
    };
    let uri = KeyUri::parse(kid).ok_or(KeyAccessFailure::KeyNotFound)?;
    check_key_use(
        ws,
        &Caller::Synapse(w.name.clone()),
        &uri,
        &KeyPermission::TDE_REQUIRED,
        Some(KeyOperation::UnwrapKey),
    )
    .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ws_with_workspace() -> Workspace {
        let mut ws = super::super::new_workspace("t", 7);
        super::super::resources::create_resource_group(&mut ws, "rg", "eastus").unwrap();
        create_storage_account(
            &mut ws,
            &CreateStorageAccount {
                name: "adls1".into(),
                resource_group: "rg".into(),
                location: None,
                kind: Some("StorageV2".into()),
                sku: None,
                hns: true,
            },
        )
        .unwrap();
        create_file_system(&mut ws, "adls1", "fs1").unwrap();
        create_workspace(
            &mut ws,
            &CreateWorkspace {
                name: "syn1".into(),
                resource_group: "rg".into(),
                storage_account: "adls1".into(),
                file_system: "fs1".into(),
                sql_admin_login_user: "sqladmin".into(),
                sql_admin_login_password: "Pa55w.rd!".into(),
                ..Default::default()
            },
        )
        .unwrap();
        ws
    }

    #[test]
    fn platform_layer_alone_reads_back_and_the_pages_are_not_plaintext() {
        let ws = ws_with_workspace();
        let rows = read_workspace_data(&ws, "syn1", "rg").unwrap();
        assert!(rows[0].starts_with("syn1|page 0|"));
        let w = ws.synapse.workspace("syn1").unwrap();
        let raw = &w.pages[0].ciphertext;
        assert!(!raw.windows(4).any(|x| x == b"syn1"));
        // Two layers: the outer ciphertext holds a nonce, the inner ciphertext and two tags.
        assert_eq!(raw.len(), rows[0].len() + 12 + 16 + 16);
    }

    #[test]
    fn a_wrong_platform_key_cannot_open_the_data_key() {
        let mut ws = ws_with_workspace();
        ws.synapse.workspace_mut("syn1").unwrap().platform_key = PlatformKey(vec![7u8; 32]);
        assert!(read_workspace_data(&ws, "syn1", "rg").is_err());
    }

    #[test]
    fn storage_names_and_file_systems_are_checked() {
        let mut ws = ws_with_workspace();
        let e = create_storage_account(
            &mut ws,
            &CreateStorageAccount {
                name: "Bad_Name".into(),
                resource_group: "rg".into(),
                location: None,
                kind: None,
                sku: None,
                hns: true,
            },
        )
        .unwrap_err();
        assert_eq!(e.code, "AccountNameInvalid");
        assert_eq!(
            create_file_system(&mut ws, "adls1", "fs1")
                .unwrap_err()
                .code,
            "FilesystemAlreadyExists"
        );
        assert_eq!(
            create_file_system(&mut ws, "nosuch", "fs2")
                .unwrap_err()
                .code,
            "StorageAccountNotFound"
        );
    }
}
