//! SQL logical servers (and managed instances), their identities, keys, TDE protector and
//! databases.

use super::ids::{PrincipalId, SubscriptionId, TenantId};
use crate::crypto::{EncryptedPage, RsaKeyMaterial};
use crate::sim::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ServerKind {
    SqlDatabaseServer,
    ManagedInstance,
}

impl ServerKind {
    pub fn label(self) -> &'static str {
        match self {
            ServerKind::SqlDatabaseServer => "SQL server",
            ServerKind::ManagedInstance => "SQL managed instance",
        }
    }
}

/// A system-assigned managed identity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServerIdentity {
    pub principal_id: PrincipalId,
    pub tenant_id: TenantId,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ServerKeyType {
    ServiceManaged,
    AzureKeyVault,
}

impl ServerKeyType {
    pub fn as_str(self) -> &'static str {
        match self {
            ServerKeyType::ServiceManaged => "ServiceManaged",
            ServerKeyType::AzureKeyVault => "AzureKeyVault",
        }
    }
}

/// A key linked ("added") to a server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServerKey {
    /// `ServiceManaged` or `<vault>_<key>_<version>`.
    pub name: String,
    pub key_type: ServerKeyType,
    /// The versioned key id, for Key Vault keys.
    pub uri: Option<String>,
    pub thumbprint: String,
    pub created: Timestamp,
}

impl ServerKey {
    /// The key as a person names it: "key 'k' (version 3b4a1c2d) in vault 'v'", or
    /// "the service-managed key"; the raw `<vault>_<key>_<version>` name only if its uri
    /// cannot be read.
    pub fn described(&self) -> String {
        if self.key_type == ServerKeyType::ServiceManaged {
            return "the service-managed key".into();
        }
        match self.uri.as_deref().and_then(super::KeyUri::parse) {
            Some(u) => {
                let version = u
                    .version
                    .map(|v| format!(" (version {})", &v[..v.len().min(8)]))
                    .unwrap_or_default();
                let store = if u.managed_hsm {
                    "managed HSM"
                } else {
                    "vault"
                };
                format!("key '{}'{version} in {store} '{}'", u.key, u.vault)
            }
            None => format!("'{}'", self.name),
        }
    }
}

/// The server's one TDE protector.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TdeProtector {
    pub server_key_name: String,
    pub key_type: ServerKeyType,
    pub auto_rotation: bool,
}

impl TdeProtector {
    pub fn service_managed() -> Self {
        TdeProtector {
            server_key_name: "ServiceManaged".into(),
            key_type: ServerKeyType::ServiceManaged,
            auto_rotation: false,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ServiceTier {
    GeneralPurpose,
    BusinessCritical,
}

impl ServiceTier {
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceTier::GeneralPurpose => "GeneralPurpose",
            ServiceTier::BusinessCritical => "BusinessCritical",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ServiceTier::GeneralPurpose => "General Purpose",
            ServiceTier::BusinessCritical => "Business Critical",
        }
    }

    pub fn parse(text: &str) -> Option<ServiceTier> {
        match text
            .trim()
            .to_ascii_lowercase()
            .replace([' ', '_'], "")
            .as_str()
        {
            "generalpurpose" | "gp" => Some(ServiceTier::GeneralPurpose),
            "businesscritical" | "bc" => Some(ServiceTier::BusinessCritical),
            _ => None,
        }
    }
}

/// Why a server cannot use its TDE protector.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyAccessFailure {
    NoServerIdentity,
    VaultNotFound,
    VaultDeleted,
    TenantMismatch,
    FirewallBlocked,
    MissingPermissions(Vec<String>),
    KeyNotFound,
    KeyDeleted,
    KeyDisabled,
    KeyNotYetActive,
    KeyExpired,
    KeyOperationsNotPermitted,
    UnwrapFailed,
    /// The vault cannot be reached (an HTTP 5XX or network failure), not a decision of the
    /// customer's: databases come back by themselves when it passes.
    VaultUnreachable,
    /// The vault answered 429 to every retry of the server's back-off.
    Throttled,
}

impl KeyAccessFailure {
    /// A 5XX cause: the service waits it out (24 h buffer under the `current` profile) and
    /// heals by itself afterwards.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            KeyAccessFailure::VaultUnreachable | KeyAccessFailure::Throttled
        )
    }

    /// The service's error code for this failure.
    pub fn code(&self) -> &'static str {
        match self {
            KeyAccessFailure::NoServerIdentity => "AzureKeyVaultNoServerIdentity",
            KeyAccessFailure::VaultNotFound | KeyAccessFailure::VaultDeleted => {
                "AzureKeyVaultConnectionFailed"
            }
            KeyAccessFailure::TenantMismatch => "AzureKeyVaultMissingPermissions",
            KeyAccessFailure::FirewallBlocked => "AkvEndpointNotReachableFromNode",
            KeyAccessFailure::MissingPermissions(_) => "AzureKeyVaultMissingPermissions",
            KeyAccessFailure::KeyNotFound | KeyAccessFailure::KeyDeleted => {
                "AzureKeyVaultKeyNotFound"
            }
            KeyAccessFailure::KeyDisabled => "AzureKeyVaultKeyDisabled",
            KeyAccessFailure::KeyNotYetActive | KeyAccessFailure::KeyExpired => {
                "AzureKeyVaultInvalidExpirationDate"
            }
            KeyAccessFailure::KeyOperationsNotPermitted => "AzureKeyVaultMissingPermissions",
            KeyAccessFailure::UnwrapFailed
            | KeyAccessFailure::VaultUnreachable
            | KeyAccessFailure::Throttled => "AzureKeyVaultConnectionFailed",
        }
    }

    /// A one-line description for the UI and the activity log.
    pub fn describe(&self) -> String {
        match self {
            KeyAccessFailure::NoServerIdentity => "the server has no managed identity".into(),
            KeyAccessFailure::VaultNotFound => "the key vault does not exist".into(),
            KeyAccessFailure::VaultDeleted => "the key vault was deleted".into(),
            KeyAccessFailure::TenantMismatch => {
                "the key vault is in another Azure AD tenant".into()
            }
            KeyAccessFailure::FirewallBlocked => {
                "the vault firewall blocks the server (trusted services may not bypass it)".into()
            }
            KeyAccessFailure::MissingPermissions(p) => {
                format!(
                    "the server identity lacks key permissions: {}",
                    p.join(", ")
                )
            }
            KeyAccessFailure::KeyNotFound => "the key does not exist".into(),
            KeyAccessFailure::KeyDeleted => "the key was deleted".into(),
            KeyAccessFailure::KeyDisabled => "the key is disabled".into(),
            KeyAccessFailure::KeyNotYetActive => {
                "the key's activation date is in the future".into()
            }
            KeyAccessFailure::KeyExpired => "the key has expired".into(),
            KeyAccessFailure::KeyOperationsNotPermitted => {
                "the key does not permit wrapKey/unwrapKey".into()
            }
            KeyAccessFailure::UnwrapFailed => "the vault could not unwrap the database key".into(),
            KeyAccessFailure::VaultUnreachable => {
                "the key vault cannot be reached (network outage, HTTP 5XX)".into()
            }
            KeyAccessFailure::Throttled => {
                "the key vault throttled every retry (HTTP 429 after backing off 1, 2, 4, 8 and 16 seconds)".into()
            }
        }
    }
}

/// Where a database stands.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum DatabaseState {
    Online,
    /// Access to the protector was lost; connections are denied.
    Inaccessible {
        since: Timestamp,
        cause: KeyAccessFailure,
        /// When access came back, if it has.
        access_restored_at: Option<Timestamp>,
        /// Access came back after the auto-heal window: only "Revalidate key" brings the
        /// database back.
        revalidation_required: bool,
    },
    /// "Revalidate key" was accepted: the service is bringing the database back, which
    /// takes time that grows with its size.
    Recovering {
        since: Timestamp,
        until: Timestamp,
    },
    /// Being created by a restore (point in time, deleted, geo or long-term backup).
    Restoring {
        since: Timestamp,
        until: Timestamp,
    },
    /// A dedicated SQL pool (formerly SQL DW) whose compute is paused (`az sql dw pause`).
    /// The service holds no DEK in memory: the pool is not re-wrapped when the protector
    /// changes, and keeps needing the key version that wrapped its DEK to resume.
    Paused {
        since: Timestamp,
    },
}

impl DatabaseState {
    pub fn label(&self) -> &'static str {
        match self {
            DatabaseState::Online => "Online",
            DatabaseState::Inaccessible { .. } => "Inaccessible",
            DatabaseState::Recovering { .. } => "Recovering",
            DatabaseState::Restoring { .. } => "Restoring",
            DatabaseState::Paused { .. } => "Paused",
        }
    }

    pub fn is_online(&self) -> bool {
        matches!(self, DatabaseState::Online)
    }

    pub fn is_paused(&self) -> bool {
        matches!(self, DatabaseState::Paused { .. })
    }
}

/// How the DEK is protected at rest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WrappedDek {
    /// Name of the server key that wrapped it.
    pub server_key_name: String,
    pub thumbprint: String,
    #[serde(with = "crate::crypto::base64_bytes")]
    pub wrapped: Vec<u8>,
}

/// Resource Health of a database.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResourceHealth {
    Available,
    Unavailable,
    /// No health signal yet (the portal's "Unknown"): a database still being restored
    /// serves no connection and reports nothing until it is created.
    Unknown,
}

/// A data page in the clear (TDE off).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlainPage(#[serde(with = "crate::crypto::base64_bytes")] pub Vec<u8>);

impl std::fmt::Debug for PlainPage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PlainPage({} bytes)", self.0.len())
    }
}

/// A database's sample pages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PageStore {
    Encrypted(Vec<EncryptedPage>),
    Plain(Vec<PlainPage>),
}

impl PageStore {
    pub fn len(&self) -> usize {
        match self {
            PageStore::Encrypted(p) => p.len(),
            PageStore::Plain(p) => p.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One Resource Health transition.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HealthEvent {
    pub time: Timestamp,
    pub health: ResourceHealth,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Database {
    pub name: String,
    pub tier: ServiceTier,
    pub max_size_gb: u32,
    pub created: Timestamp,
    pub state: DatabaseState,
    pub health: ResourceHealth,
    /// Resource Health transitions, oldest first.
    #[serde(default)]
    pub health_history: Vec<HealthEvent>,
    /// `Some` while TDE is on: the DEK, wrapped by the protector in force.
    pub dek: Option<WrappedDek>,
    /// Sample data pages: AES-256-GCM ciphertext while TDE is on, plaintext otherwise.
    pub pages: PageStore,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "DatabaseSettings::is_default")]
    pub settings: DatabaseSettings,
    /// What the last revalidation after the auto-heal window cost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_recovery: Option<RecoveryReport>,
    /// Database-level customer-managed key: the server key that protects this database's
    /// DEK instead of the server's protector (`az sql db update --encryption-protector`).
    /// `None`: the database follows the server's TDE protector.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_protector: Option<String>,
    /// The database's own key follows its newest version (`--encryption-protector-auto-rotation`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub encryption_protector_auto_rotation: bool,
    /// The user-assigned identity (ARM id) the database reaches its own key with (`az sql
    /// db create|update --assign-identity --user-assigned-identity-id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// For a database with its own key: when the server first found that key unusable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_access_lost_since: Option<Timestamp>,
    /// The text users wrote (`sim write`), oldest first, as long as restores need it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub content: Vec<super::ContentRevision>,
    /// What protected the DEK over time (what each backup needs), oldest first.
    #[serde(default)]
    pub protector_history: Vec<super::ProtectorInterval>,
    /// Which DEK the database has: a new one each time TDE is turned on.
    #[serde(default, skip_serializing_if = "crate::model::is_zero")]
    pub dek_epoch: u32,
    /// Short-term backup retention.
    #[serde(default, skip_serializing_if = "super::BackupPolicy::is_default")]
    pub backup_policy: super::BackupPolicy,
    /// The oldest instant the kept history still covers (older backups were purged under
    /// the retention of their time; a longer retention set later does not bring them back).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history_start: Option<Timestamp>,
    /// Every Key Vault key ever added to the database (its `keys` map, as `az sql db show
    /// --expand-keys` lists it), oldest first, with when each protected its DEK.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub key_history: Vec<DatabaseKeyRecord>,
    /// The SKU as given (`--edition`, `--service-objective`, `--family`, `--capacity`,
    /// `--compute-model`). `None` (files from before it was kept): derived from `tier`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<DatabaseSku>,
    /// Properties az stores as given and shows, with no effect on TDE.
    #[serde(default, skip_serializing_if = "DatabaseOptions::is_default")]
    pub options: DatabaseOptions,
    /// `isInfraEncryptionEnabled` (read-only): created on a server with infrastructure
    /// encryption, its encrypted pages are also under the server's platform key.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub infra_encrypted: bool,
}

/// One key of a database's `keys` map.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DatabaseKeyRecord {
    /// The versioned key id.
    pub uri: String,
    pub thumbprint: String,
    /// When it was added to the database.
    pub added: Timestamp,
    /// When it protected the database's DEK, oldest first; the last is open while it does.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub in_use: Vec<KeyUse>,
}

/// A time a key protected a database's DEK: from `from` until `until` (open: still does).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyUse {
    pub from: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<Timestamp>,
}

impl DatabaseKeyRecord {
    /// Whether it protects the DEK now.
    pub fn is_current(&self) -> bool {
        self.in_use.last().is_some_and(|u| u.until.is_none())
    }

    /// Whether it protected the DEK at some instant of `[from, to]`.
    pub fn used_between(&self, from: Timestamp, to: Timestamp) -> bool {
        self.in_use
            .iter()
            .any(|u| u.from <= to && u.until.is_none_or(|until| until > from))
    }
}

/// A database's SKU as az shows it: `sku.name`, `sku.tier`, `sku.family`, `sku.capacity`,
/// and the service objective (`currentServiceObjectiveName`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatabaseSku {
    /// `sku.name`: `Basic`, `Standard`, `Premium`, `DataWarehouse`, `GP_Gen5`, `GP_S_Gen5`, …
    pub name: String,
    /// `sku.tier` and `edition`: `Basic`, `Standard`, `Premium`, `GeneralPurpose`,
    /// `BusinessCritical`, `Hyperscale`, `DataWarehouse`.
    pub tier: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
    /// DTUs or vCores.
    pub capacity: u32,
    /// `S0`, `P1`, `Basic`, `GP_Gen5_2`, `GP_S_Gen5_2`, `DW100c`, …
    pub service_objective: String,
}

impl DatabaseSku {
    /// Serverless (`GP_S_Gen5`, `HS_S_Gen5`).
    pub fn is_serverless(&self) -> bool {
        self.name.contains("_S_")
    }

    /// A vCore SKU (as opposed to DTU or DataWarehouse).
    pub fn is_vcore(&self) -> bool {
        self.family.is_some()
    }

    /// The pricing tier as the portal's database overview writes it: `Standard S0: 10 DTUs`,
    /// `General Purpose: Serverless, Standard-series (Gen5), 2 vCores`, `DataWarehouse DW100c`.
    pub fn pricing_label(&self) -> String {
        let tier = match self.tier.as_str() {
            "GeneralPurpose" => "General Purpose",
            "BusinessCritical" => "Business Critical",
            other => other,
        };
        if let Some(family) = &self.family {
            let compute = if self.is_serverless() {
                "Serverless"
            } else {
                "Provisioned"
            };
            let series = if family == "Gen5" {
                "Standard-series (Gen5)".to_string()
            } else {
                family.clone()
            };
            let unit = if self.capacity == 1 {
                "vCore"
            } else {
                "vCores"
            };
            return format!("{tier}: {compute}, {series}, {} {unit}", self.capacity);
        }
        match self.tier.as_str() {
            "Basic" => format!("Basic: {} DTUs", self.capacity),
            "Standard" | "Premium" => {
                format!("{tier} {}: {} DTUs", self.service_objective, self.capacity)
            }
            _ => format!("{tier} {}", self.service_objective),
        }
    }
}

/// What az stores on a database as given and shows, with no effect on TDE.
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct DatabaseOptions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone_redundant: Option<bool>,
    /// `Local`, `Zone`, `Geo` or `GeoZone` (az's default: `Geo`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_storage_redundancy: Option<String>,
    /// `AdventureWorksLT`, … (`--sample-name`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collation: Option<String>,
    /// Serverless: the minimum vCores (`--min-capacity`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_capacity: Option<f64>,
    /// `LicenseIncluded` or `BasePrice`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license_type: Option<String>,
}

impl DatabaseOptions {
    pub fn is_default(&self) -> bool {
        *self == DatabaseOptions::default()
    }
}

/// A server-level IP firewall rule (`az sql server firewall-rule`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirewallRule {
    pub name: String,
    pub start_ip: String,
    pub end_ip: String,
}

/// Settings the service loses when a database comes back by revalidation after the
/// auto-heal window (the 2021 list, plus the later ones under the `current` profile).
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct DatabaseSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failover_group: Option<String>,
    /// The earliest point-in-time restore point.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pitr_earliest: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elastic_pool: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub read_scale: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_pause_delay_minutes: Option<u32>,
    /// Long-term retention, e.g. weekly `P4W`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ltr_weekly_retention: Option<String>,
    /// Since when a long-term retention policy has been in force: only fulls taken since are
    /// kept for the long term.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ltr_since: Option<Timestamp>,
    /// Long-term retention of the first weekly full of each month, e.g. `P12M`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ltr_monthly_retention: Option<String>,
    /// Long-term retention of the weekly full of week `ltr_week_of_year`, e.g. `P5Y`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ltr_yearly_retention: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ltr_week_of_year: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecoveryReport {
    pub completed: Timestamp,
    /// When the revalidation that brought it back started: the databases revalidated
    /// together (one operation) share it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started: Option<Timestamp>,
    /// The settings that were lost, in words.
    pub lost: Vec<String>,
}

impl DatabaseSettings {
    pub fn is_default(&self) -> bool {
        *self == DatabaseSettings::default()
    }
}

impl Database {
    pub fn tde_enabled(&self) -> bool {
        self.dek.is_some()
    }

    /// A dedicated SQL pool (formerly SQL DW): a database of edition `DataWarehouse`.
    pub fn is_data_warehouse(&self) -> bool {
        self.sku.as_ref().is_some_and(|s| s.tier == DW_EDITION)
    }

    /// Changes Resource Health, recording the transition.
    pub fn set_health(&mut self, time: Timestamp, health: ResourceHealth, reason: &str) {
        if self.health != health {
            self.health = health;
            self.health_history.push(HealthEvent {
                time,
                health,
                reason: reason.to_string(),
            });
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SqlServer {
    pub name: String,
    pub kind: ServerKind,
    pub resource_group: String,
    pub subscription: SubscriptionId,
    pub tenant: TenantId,
    pub location: String,
    pub admin_login: String,
    /// The system-assigned identity, when it is on.
    pub identity: Option<ServerIdentity>,
    /// User-assigned identities given to the server (their ARM ids).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub user_assigned_identities: Vec<String>,
    /// The user-assigned identity the server reaches Key Vault with (one of the above);
    /// without one, the system-assigned identity does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_user_assigned_identity: Option<String>,
    /// Cross-tenant keys: the multi-tenant application (its app id) the primary
    /// user-assigned identity is federated to (`--federated-client-id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub federated_client_id: Option<String>,
    /// Cross-tenant database-level keys: the application each database identity (its ARM
    /// id, lower case) is federated to (`az sql db create|update --federated-client-id`).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub database_federations: std::collections::BTreeMap<String, String>,
    /// A managed instance's subnet (ARM id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnet_id: Option<String>,
    /// The per-server key that protects DEKs under service-managed TDE.
    pub service_managed_key: RsaKeyMaterial,
    pub keys: Vec<ServerKey>,
    pub protector: TdeProtector,
    /// Shared with earlier snapshots of the workspace until changed (copy on write).
    pub databases: Vec<Arc<Database>>,
    pub created: Timestamp,
    /// When the server's periodic check first found the protector unusable.
    #[serde(default)]
    pub key_access_lost_since: Option<Timestamp>,
    /// A simulated network outage between the server and Key Vault, until this time.
    #[serde(default)]
    pub network_outage_until: Option<Timestamp>,
    /// Dropped databases, kept for restore while their retention runs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deleted_databases: Vec<super::DeletedDatabase>,
    /// A protector change still re-wrapping DEKs (waiting for the vault's limits) until then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protector_change_until: Option<Timestamp>,
    /// Server-level IP firewall rules.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub firewall_rules: Vec<FirewallRule>,
    /// Infrastructure encryption (Microsoft enables it on request; no customer switch):
    /// the platform's AES-256 key under which the pages of the databases created since are
    /// stored, outside their DEK layer. `None`: not enabled (files from before it existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub infrastructure_encryption: Option<InfrastructureEncryption>,
    /// Where each database sits in `databases`, for lookups by name.
    #[serde(skip)]
    pub db_index: DatabaseIndex,
}

/// A server's infrastructure encryption: when Microsoft turned it on, and the platform key
/// (held by the platform, never shown).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InfrastructureEncryption {
    pub enabled: Timestamp,
    pub platform_key: super::PlatformKey,
}

/// Where each database sits in [`SqlServer::databases`], by lower-case name. A cache: every
/// answer is checked against the list (so it can never be wrong), and it is rebuilt when it
/// is found stale. Snapshots share it until one of them rebuilds.
#[derive(Default)]
pub struct DatabaseIndex(Mutex<Option<Arc<HashMap<String, usize>>>>);

impl DatabaseIndex {
    fn get(&self, key: &str) -> Option<usize> {
        let guard = self.0.lock().unwrap_or_else(|e| e.into_inner());
        guard.as_ref().and_then(|m| m.get(key).copied())
    }

    fn rebuild(&self, dbs: &[Arc<Database>]) {
        let map = dbs
            .iter()
            .enumerate()
            .map(|(i, d)| (d.name.to_ascii_lowercase(), i))
            .collect();
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(map));
    }
}

impl Clone for DatabaseIndex {
    fn clone(&self) -> Self {
        let current = self.0.lock().unwrap_or_else(|e| e.into_inner()).clone();
        DatabaseIndex(Mutex::new(current))
    }
}

/// A cache is not part of a server's state.
impl PartialEq for DatabaseIndex {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl std::fmt::Debug for DatabaseIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DatabaseIndex")
    }
}

impl SqlServer {
    /// Where database `name` sits in `databases`: through the index, checked, or found by
    /// a scan (which then refreshes the index).
    pub fn database_position(&self, name: &str) -> Option<usize> {
        let is = |i: usize| {
            self.databases
                .get(i)
                .is_some_and(|d| d.name.eq_ignore_ascii_case(name))
        };
        if let Some(i) = self.db_index.get(&name.to_ascii_lowercase())
            && is(i)
        {
            return Some(i);
        }
        let found = self
            .databases
            .iter()
            .position(|d| d.name.eq_ignore_ascii_case(name));
        if found.is_some() {
            self.db_index.rebuild(&self.databases);
        }
        found
    }

    pub fn database(&self, name: &str) -> Option<&Database> {
        self.database_position(name)
            .map(|i| self.databases[i].as_ref())
    }

    /// The database for writing: copied first if an earlier snapshot still shares it.
    pub fn database_mut(&mut self, name: &str) -> Option<&mut Database> {
        let i = self.database_position(name)?;
        Some(Arc::make_mut(&mut self.databases[i]))
    }

    pub fn key(&self, name: &str) -> Option<&ServerKey> {
        self.keys.iter().find(|k| k.name.eq_ignore_ascii_case(name))
    }

    pub fn protector_key(&self) -> Option<&ServerKey> {
        self.key(&self.protector.server_key_name)
    }

    /// The name of the server key that protects `d`'s DEK: its own database-level key, or
    /// else the server's protector.
    pub fn database_key_name<'a>(&'a self, d: &'a Database) -> &'a str {
        d.encryption_protector
            .as_deref()
            .unwrap_or(&self.protector.server_key_name)
    }

    /// The server key that protects `d`'s DEK (see [`SqlServer::database_key_name`]).
    pub fn database_key(&self, d: &Database) -> Option<&ServerKey> {
        self.key(self.database_key_name(d))
    }

    /// The key the server watches for `database`: its TDE protector for `None`, else the key
    /// protecting that database (its own, or the protector).
    pub fn watched_key(&self, database: Option<&str>) -> Option<&ServerKey> {
        match database {
            None => self.protector_key(),
            Some(db) => self.database(db).and_then(|d| self.database_key(d)),
        }
    }

    /// The Key Vault key id of the protector (`None` under service-managed keys).
    pub fn protector_uri(&self) -> Option<super::vault::KeyUri> {
        self.protector_key()
            .and_then(|k| k.uri.as_deref())
            .and_then(super::vault::KeyUri::parse)
    }

    pub fn fqdn(&self) -> String {
        match self.kind {
            ServerKind::SqlDatabaseServer => format!("{}.database.windows.net", self.name),
            ServerKind::ManagedInstance => format!("{}.database.windows.net", self.name),
        }
    }
}

/// Server key name for a Key Vault key: `<vault>_<key>_<version>`.
pub fn server_key_name(vault: &str, key: &str, version: &str) -> String {
    format!("{vault}_{key}_{version}")
}

/// The edition (SKU tier) of a dedicated SQL pool (formerly SQL DW).
pub const DW_EDITION: &str = "DataWarehouse";

/// The largest a dedicated SQL pool may grow, in GB (240 TB).
pub const DW_MAX_SIZE_GB: u32 = 245_760;
