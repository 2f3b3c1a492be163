//! Azure Synapse Analytics workspaces with double encryption, their dedicated SQL pools,
//! and the Data Lake Storage Gen2 accounts and file systems a workspace needs.
//!
//! Layer 1 of a workspace's encryption is the platform's: a platform key the service holds
//! (AES-256) seals every data key and is the outer layer of every page. Layer 2, when the
//! workspace was created with a customer-managed key ("double encryption", chosen at
//! creation only), wraps those sealed data keys with the key in Key Vault (RSA-OAEP-256
//! through the vault's `wrapKey`). See `crate::service::synapse` for the rules.

use super::ids::{PrincipalId, SubscriptionId, TenantId};
use crate::crypto::EncryptedPage;
use crate::sim::Timestamp;
use serde::{Deserialize, Serialize};

/// A storage account (`az storage account create`): only what a Synapse workspace needs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StorageAccount {
    pub name: String,
    pub resource_group: String,
    pub subscription: SubscriptionId,
    pub location: String,
    /// `StorageV2`, `BlobStorage`, `BlockBlobStorage`, `FileStorage` or `Storage`.
    pub kind: String,
    pub sku: String,
    /// Hierarchical namespace (`--hns true`): a Data Lake Storage Gen2 account.
    pub hns: bool,
    /// Its file systems (`az storage fs create`): ADLS Gen2 containers.
    pub file_systems: Vec<String>,
    pub created: Timestamp,
}

impl StorageAccount {
    pub fn arm_id(&self) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Storage/storageAccounts/{}",
            self.subscription, self.resource_group, self.name
        )
    }

    pub fn dfs_endpoint(&self) -> String {
        format!("https://{}.dfs.core.windows.net/", self.name)
    }

    pub fn has_file_system(&self, name: &str) -> bool {
        self.file_systems.iter().any(|f| f == name)
    }
}

/// `encryption.cmk.status` of a workspace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CmkStatus {
    /// Created with a key its system-assigned identity cannot use yet: waits for the
    /// customer to grant access and activate (the portal's "Pending").
    AwaitingUserAction,
    /// Re-encrypting under another key.
    Updating,
    Consistent,
    /// A re-encryption could not read the data keys (old key version disabled or expired).
    Failed,
}

impl CmkStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CmkStatus::AwaitingUserAction => "AwaitingUserAction",
            CmkStatus::Updating => "Updating",
            CmkStatus::Consistent => "Consistent",
            CmkStatus::Failed => "Failed",
        }
    }
}

/// A workspace key (`Microsoft.Synapse/workspaces/keys`): a name for a versionless Key
/// Vault key URL.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkspaceKey {
    pub name: String,
    /// `https://{vault}.vault.azure.net/keys/{key}` (versionless).
    pub key_vault_url: String,
    /// `isActiveCMK`: the key that encrypts the workspace.
    pub is_active_cmk: bool,
}

/// A 256-bit platform key (layer 1), held by the service. Never leaves the workspace file.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlatformKey(#[serde(with = "crate::crypto::base64_bytes")] pub Vec<u8>);

impl std::fmt::Debug for PlatformKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PlatformKey(<hidden>)")
    }
}

/// A data key as stored: sealed by the platform key (AES-256-GCM, layer 1) and, once the
/// workspace's customer-managed key is active, that sealed blob wrapped by the Key Vault
/// key version `kid` (RSA-OAEP-256, layer 2).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WrappedDataKey {
    /// The workspace key (name) whose Key Vault key wrapped it; `None`: platform layer only.
    #[serde(default)]
    pub workspace_key: Option<String>,
    /// The versioned Key Vault key id that wrapped it.
    #[serde(default)]
    pub kid: Option<String>,
    #[serde(with = "crate::crypto::base64_bytes")]
    pub wrapped: Vec<u8>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PoolStatus {
    Online,
    Paused,
}

impl PoolStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PoolStatus::Online => "Online",
            PoolStatus::Paused => "Paused",
        }
    }
}

/// A dedicated SQL pool of a workspace (`az synapse sql pool create`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SynapseSqlPool {
    pub name: String,
    /// `DW100c` … `DW30000c`.
    pub performance_level: String,
    /// `GRS` or `LRS`.
    pub storage_type: String,
    pub collation: String,
    pub status: PoolStatus,
    /// Transparent data encryption (`az synapse sql pool tde set --status`).
    pub tde_enabled: bool,
    /// The pool's DEK while TDE is on (wrapped as the workspace's data key is).
    #[serde(default)]
    pub dek: Option<WrappedDataKey>,
    /// Sample pages: platform layer outside; the pool's DEK inside while TDE is on.
    pub pages: Vec<EncryptedPage>,
    pub created: Timestamp,
}

/// A change the service finishes later: activation (about two minutes) or a key switch
/// (15 to 30 minutes of re-encryption).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum PendingKeyChange {
    Activate { key: String, due: Timestamp },
    Switch { to: String, due: Timestamp },
}

impl PendingKeyChange {
    pub fn due(&self) -> Timestamp {
        match self {
            PendingKeyChange::Activate { due, .. } | PendingKeyChange::Switch { due, .. } => *due,
        }
    }
}

/// A Synapse workspace (`Microsoft.Synapse/workspaces`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SynapseWorkspace {
    pub name: String,
    pub resource_group: String,
    pub subscription: SubscriptionId,
    pub location: String,
    pub storage_account: String,
    pub file_system: String,
    pub sql_admin_login: String,
    /// The system-assigned managed identity (always there).
    pub principal_id: PrincipalId,
    pub tenant_id: TenantId,
    /// User-assigned identities (ARM ids) given at creation (`--uami-id`).
    #[serde(default)]
    pub user_assigned: Vec<String>,
    /// The user-assigned identity that reaches the key (`--uami-id-in-encrypt`); used when
    /// `use_sami_in_encrypt` is false.
    #[serde(default)]
    pub uami_in_encrypt: Option<String>,
    pub use_sami_in_encrypt: bool,
    /// `encryption.doubleEncryptionEnabled`: set at creation, never changed.
    pub double_encryption: bool,
    /// `encryption.cmk.status` (only with double encryption).
    #[serde(default)]
    pub cmk_status: Option<CmkStatus>,
    /// `encryption.cmk.key.name`: the key the workspace is (to be) encrypted with.
    #[serde(default)]
    pub cmk_key: Option<String>,
    #[serde(default)]
    pub keys: Vec<WorkspaceKey>,
    pub platform_key: PlatformKey,
    /// The workspace's own data key (metadata, pipelines, Spark and serverless data).
    pub data_key: WrappedDataKey,
    /// Sample workspace data pages: platform layer outside, the workspace data key inside.
    pub pages: Vec<EncryptedPage>,
    #[serde(default)]
    pub pending: Option<PendingKeyChange>,
    pub workspace_uid: String,
    pub managed_resource_group: String,
    pub pools: Vec<SynapseSqlPool>,
    /// Workspace-level IP firewall rules (`az synapse workspace firewall-rule`).
    #[serde(default)]
    pub firewall_rules: Vec<crate::model::FirewallRule>,
    pub created: Timestamp,
}

impl SynapseWorkspace {
    pub fn arm_id(&self) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Synapse/workspaces/{}",
            self.subscription, self.resource_group, self.name
        )
    }

    pub fn key(&self, name: &str) -> Option<&WorkspaceKey> {
        self.keys.iter().find(|k| k.name.eq_ignore_ascii_case(name))
    }

    pub fn pool(&self, name: &str) -> Option<&SynapseSqlPool> {
        self.pools
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
    }

    pub fn pool_mut(&mut self, name: &str) -> Option<&mut SynapseSqlPool> {
        self.pools
            .iter_mut()
            .find(|p| p.name.eq_ignore_ascii_case(name))
    }

    /// Waiting for the customer to grant access and activate the key.
    pub fn awaiting_activation(&self) -> bool {
        self.cmk_status == Some(CmkStatus::AwaitingUserAction)
    }
}

/// Everything Synapse in a workspace file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SynapseEstate {
    #[serde(default)]
    pub storage_accounts: Vec<StorageAccount>,
    #[serde(default)]
    pub workspaces: Vec<SynapseWorkspace>,
}

impl SynapseEstate {
    pub fn is_empty(&self) -> bool {
        self.storage_accounts.is_empty() && self.workspaces.is_empty()
    }

    pub fn workspace(&self, name: &str) -> Option<&SynapseWorkspace> {
        self.workspaces
            .iter()
            .find(|w| w.name.eq_ignore_ascii_case(name))
    }

    pub fn workspace_mut(&mut self, name: &str) -> Option<&mut SynapseWorkspace> {
        self.workspaces
            .iter_mut()
            .find(|w| w.name.eq_ignore_ascii_case(name))
    }

    pub fn storage_account(&self, name: &str) -> Option<&StorageAccount> {
        self.storage_accounts
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }
}
