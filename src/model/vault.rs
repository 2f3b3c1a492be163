//! Key vaults, keys, key versions and access policies.

use super::ids::{KeyVersionId, PrincipalId, SubscriptionId, TenantId};
use super::secret::{Secret, SecretPermission};
use crate::crypto::KeyMaterial;
use crate::sim::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;

/// Key permissions of an access policy (the names the service uses).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum KeyPermission {
    Get,
    List,
    Update,
    Create,
    Import,
    Delete,
    Recover,
    Backup,
    Restore,
    Purge,
    WrapKey,
    UnwrapKey,
    Encrypt,
    Decrypt,
    Sign,
    Verify,
    Rotate,
    GetRotationPolicy,
    SetRotationPolicy,
}

impl KeyPermission {
    pub const ALL: [KeyPermission; 19] = [
        KeyPermission::Get,
        KeyPermission::List,
        KeyPermission::Update,
        KeyPermission::Create,
        KeyPermission::Import,
        KeyPermission::Delete,
        KeyPermission::Recover,
        KeyPermission::Backup,
        KeyPermission::Restore,
        KeyPermission::Purge,
        KeyPermission::WrapKey,
        KeyPermission::UnwrapKey,
        KeyPermission::Encrypt,
        KeyPermission::Decrypt,
        KeyPermission::Sign,
        KeyPermission::Verify,
        KeyPermission::Rotate,
        KeyPermission::GetRotationPolicy,
        KeyPermission::SetRotationPolicy,
    ];

    /// What a SQL server's identity needs on its TDE protector.
    pub const TDE_REQUIRED: [KeyPermission; 3] = [
        KeyPermission::Get,
        KeyPermission::WrapKey,
        KeyPermission::UnwrapKey,
    ];

    /// The portal's "Key Management" template.
    pub const KEY_MANAGEMENT: [KeyPermission; 9] = [
        KeyPermission::Get,
        KeyPermission::List,
        KeyPermission::Update,
        KeyPermission::Create,
        KeyPermission::Import,
        KeyPermission::Delete,
        KeyPermission::Recover,
        KeyPermission::Backup,
        KeyPermission::Restore,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            KeyPermission::Get => "get",
            KeyPermission::List => "list",
            KeyPermission::Update => "update",
            KeyPermission::Create => "create",
            KeyPermission::Import => "import",
            KeyPermission::Delete => "delete",
            KeyPermission::Recover => "recover",
            KeyPermission::Backup => "backup",
            KeyPermission::Restore => "restore",
            KeyPermission::Purge => "purge",
            KeyPermission::WrapKey => "wrapKey",
            KeyPermission::UnwrapKey => "unwrapKey",
            KeyPermission::Encrypt => "encrypt",
            KeyPermission::Decrypt => "decrypt",
            KeyPermission::Sign => "sign",
            KeyPermission::Verify => "verify",
            KeyPermission::Rotate => "rotate",
            KeyPermission::GetRotationPolicy => "getrotationpolicy",
            KeyPermission::SetRotationPolicy => "setrotationpolicy",
        }
    }

    /// Case-insensitive, as the CLI accepts them. `all` is handled by the caller.
    pub fn parse(text: &str) -> Option<KeyPermission> {
        KeyPermission::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(text.trim()))
    }
}

impl fmt::Display for KeyPermission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One access-policy entry: a principal and its key and secret permissions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccessPolicy {
    pub tenant_id: TenantId,
    pub object_id: PrincipalId,
    pub key_permissions: BTreeSet<KeyPermission>,
    #[serde(default)]
    pub secret_permissions: BTreeSet<SecretPermission>,
}

/// Permissions removed from a principal that the service still honours until the change
/// has propagated (a revocation "can take up to ~10 min").
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PendingRevocation {
    pub object_id: PrincipalId,
    pub permissions: BTreeSet<KeyPermission>,
    #[serde(default)]
    pub secret_permissions: BTreeSet<SecretPermission>,
    pub effective_at: Timestamp,
}

/// The vault firewall.
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct NetworkAcls {
    /// `false`: all networks may call the vault. `true`: only the IP rules (and, with the
    /// bypass, trusted Microsoft services such as SQL servers).
    pub restricted: bool,
    pub bypass_trusted_services: bool,
    /// IPv4 addresses or CIDR ranges (`203.0.113.0/24`) admitted through the firewall.
    pub ip_rules: Vec<String>,
    /// "Disable public access": no caller over the public network, whatever the rules;
    /// only trusted services, with the bypass.
    #[serde(default)]
    pub public_access_disabled: bool,
}

impl NetworkAcls {
    /// Does the firewall let a console call from `ip` through?
    pub fn admits_address(&self, ip: &str) -> bool {
        if self.public_access_disabled {
            return false;
        }
        !self.restricted || self.ip_rules.iter().any(|r| cidr_contains(r, ip))
    }

    /// Does the firewall let a trusted Microsoft service (a SQL server) through?
    pub fn admits_trusted_service(&self) -> bool {
        !(self.restricted || self.public_access_disabled) || self.bypass_trusted_services
    }
}

/// Parses `a.b.c.d` or `a.b.c.d/n` into (address, prefix length).
pub fn parse_ipv4_rule(rule: &str) -> Option<(u32, u32)> {
    let (addr, prefix) = match rule.trim().split_once('/') {
        Some((a, p)) => (a, p.parse::<u32>().ok().filter(|p| *p <= 32)?),
        None => (rule.trim(), 32),
    };
    let octets: Vec<u8> = addr
        .split('.')
        .map(|o| o.parse::<u8>().ok())
        .collect::<Option<Vec<u8>>>()?;
    let [a, b, c, d] = octets.as_slice() else {
        return None;
    };
    Some((u32::from_be_bytes([*a, *b, *c, *d]), prefix))
}

/// Is `ip` inside the rule `a.b.c.d[/n]`?
pub fn cidr_contains(rule: &str, ip: &str) -> bool {
    let (Some((net, prefix)), Some((addr, 32))) = (parse_ipv4_rule(rule), parse_ipv4_rule(ip))
    else {
        return false;
    };
    let mask = if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - prefix)
    };
    net & mask == addr & mask
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyType {
    Rsa,
    RsaHsm,
    /// Elliptic curve (Key Vault holds them for signing; TDE refuses them).
    Ec,
    EcHsm,
}

impl KeyType {
    /// Protected by an HSM (`RSA-HSM`, `EC-HSM`).
    pub fn is_hsm(self) -> bool {
        matches!(self, KeyType::RsaHsm | KeyType::EcHsm)
    }

    pub fn is_rsa(self) -> bool {
        matches!(self, KeyType::Rsa | KeyType::RsaHsm)
    }

    /// The same family in an HSM.
    pub fn in_hsm(self) -> KeyType {
        if self.is_rsa() {
            KeyType::RsaHsm
        } else {
            KeyType::EcHsm
        }
    }
}

impl KeyType {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyType::Rsa => "RSA",
            KeyType::RsaHsm => "RSA-HSM",
            KeyType::Ec => "EC",
            KeyType::EcHsm => "EC-HSM",
        }
    }

    pub fn parse(text: &str) -> Option<KeyType> {
        match text.trim().to_ascii_uppercase().as_str() {
            "RSA" => Some(KeyType::Rsa),
            "RSA-HSM" => Some(KeyType::RsaHsm),
            "EC" => Some(KeyType::Ec),
            "EC-HSM" => Some(KeyType::EcHsm),
            _ => None,
        }
    }
}

/// Operations a key version permits (`key_ops`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum KeyOperation {
    Encrypt,
    Decrypt,
    Sign,
    Verify,
    WrapKey,
    UnwrapKey,
    Import,
}

impl KeyOperation {
    pub const DEFAULT_RSA: [KeyOperation; 6] = [
        KeyOperation::Encrypt,
        KeyOperation::Decrypt,
        KeyOperation::Sign,
        KeyOperation::Verify,
        KeyOperation::WrapKey,
        KeyOperation::UnwrapKey,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            KeyOperation::Encrypt => "encrypt",
            KeyOperation::Decrypt => "decrypt",
            KeyOperation::Sign => "sign",
            KeyOperation::Verify => "verify",
            KeyOperation::WrapKey => "wrapKey",
            KeyOperation::UnwrapKey => "unwrapKey",
            KeyOperation::Import => "import",
        }
    }

    pub fn parse(text: &str) -> Option<KeyOperation> {
        [
            KeyOperation::Encrypt,
            KeyOperation::Decrypt,
            KeyOperation::Sign,
            KeyOperation::Verify,
            KeyOperation::WrapKey,
            KeyOperation::UnwrapKey,
            KeyOperation::Import,
        ]
        .into_iter()
        .find(|o| o.as_str().eq_ignore_ascii_case(text.trim()))
    }
}

/// One version of a key: real RSA material plus its attributes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KeyVersion {
    pub version: KeyVersionId,
    pub enabled: bool,
    /// Activation date (`nbf`).
    pub not_before: Option<Timestamp>,
    /// Expiration date (`exp`).
    pub expires: Option<Timestamp>,
    pub created: Timestamp,
    pub updated: Timestamp,
    pub key_ops: Vec<KeyOperation>,
    /// Private material: lives only here, in the vault section of the workspace.
    pub material: KeyMaterial,
}

impl KeyVersion {
    pub fn allows(&self, op: KeyOperation) -> bool {
        self.key_ops.contains(&op)
    }
}

/// Set when a key is soft-deleted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeletedState {
    pub deleted_on: Timestamp,
    pub scheduled_purge: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Key {
    pub name: String,
    pub kty: KeyType,
    /// Oldest first; the last one is the current version.
    pub versions: Vec<KeyVersion>,
    #[serde(default)]
    pub tags: Vec<(String, String)>,
    #[serde(default)]
    pub deleted: Option<DeletedState>,
    /// When the key was last backed up (`az keyvault key backup`).
    #[serde(default)]
    pub last_backup: Option<Timestamp>,
    /// The vault-side rotation policy (`az keyvault key rotation-policy update`).
    #[serde(default)]
    pub rotation_policy: Option<RotationPolicy>,
    /// Lifecycle events already raised, per version: (version, event name).
    #[serde(default)]
    pub lifecycle_events: Vec<(KeyVersionId, String)>,
}

/// When to rotate a key, when to warn, and how long new versions live.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RotationPolicy {
    /// Lifetime action Rotate: this long after the version was created...
    pub rotate_after_create: Option<crate::sim::Duration>,
    /// ...or this long before it expires.
    pub rotate_before_expiry: Option<crate::sim::Duration>,
    /// Lifetime action Notify: this long before expiry (30 days by default).
    pub notify_before_expiry: crate::sim::Duration,
    /// `expiryTime`: new versions expire this long after creation.
    pub expiry_time: Option<crate::sim::Duration>,
    pub updated: Timestamp,
}

impl RotationPolicy {
    /// Keys rotate at most every 7 days (and a Notify comes at least 7 days ahead).
    pub const MIN_ROTATE: crate::sim::Duration = crate::sim::Duration::days(7);
    /// The shortest expiryTime a policy may set.
    pub const MIN_EXPIRY: crate::sim::Duration = crate::sim::Duration::days(28);

    /// Checks the policy against Key Vault's rules: one Rotate trigger of at least 7 days,
    /// durations of at most 100 years, an expiry of at least 28 days that leaves 7 days
    /// after the trigger. The error is Key Vault's text (code `BadParameter`).
    pub fn check(&self) -> Result<(), String> {
        let bad = |m: String| Err(m);
        if self.rotate_after_create.is_some() && self.rotate_before_expiry.is_some() {
            return bad("A rotation policy has one Rotate action: timeAfterCreate or timeBeforeExpiry, not both.".into());
        }
        let longest = crate::sim::Duration::days(36_500);
        for d in [
            self.rotate_after_create,
            self.rotate_before_expiry,
            self.expiry_time,
        ]
        .into_iter()
        .flatten()
        {
            if d > longest {
                return bad(format!(
                    "A rotation policy's durations are at most 100 years ({} is longer).",
                    d.human()
                ));
            }
        }
        for d in [self.rotate_after_create, self.rotate_before_expiry]
            .into_iter()
            .flatten()
        {
            if d < Self::MIN_ROTATE {
                return bad(format!(
                    "The Rotate trigger ({}) is too short: keys rotate at most every 7 days.",
                    d.human()
                ));
            }
        }
        if self.notify_before_expiry < Self::MIN_ROTATE {
            return bad("The Notify trigger must be at least 7 days before expiry.".into());
        }
        match self.expiry_time {
            Some(e) if e < Self::MIN_EXPIRY => {
                return bad(format!(
                    "expiryTime ({}) must be at least 28 days.",
                    e.human()
                ));
            }
            Some(e) => {
                if let Some(a) = self.rotate_after_create
                    && a + Self::MIN_ROTATE > e
                {
                    return bad(
                        "timeAfterCreate must leave at least 7 days before expiryTime.".into(),
                    );
                }
                if let Some(b) = self.rotate_before_expiry
                    && b + Self::MIN_ROTATE > e
                {
                    return bad(
                        "timeBeforeExpiry must be at least 7 days shorter than expiryTime.".into(),
                    );
                }
            }
            None if self.rotate_before_expiry.is_some() => {
                return bad("A timeBeforeExpiry trigger needs an expiryTime.".into());
            }
            None => {}
        }
        Ok(())
    }

    pub const DEFAULT_NOTIFY: crate::sim::Duration = crate::sim::Duration::days(30);
}

impl Key {
    /// The last time any version or attribute changed.
    pub fn last_change(&self) -> Option<Timestamp> {
        self.versions.iter().map(|v| v.updated.max(v.created)).max()
    }

    pub fn current(&self) -> Option<&KeyVersion> {
        self.versions.last()
    }

    pub fn version(&self, id: &str) -> Option<&KeyVersion> {
        self.versions
            .iter()
            .find(|v| v.version.0.eq_ignore_ascii_case(id))
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KeyVault {
    pub name: String,
    pub resource_group: String,
    pub subscription: SubscriptionId,
    pub tenant: TenantId,
    pub location: String,
    pub soft_delete: bool,
    pub retention_days: u16,
    pub purge_protection: bool,
    pub access_policies: Vec<AccessPolicy>,
    #[serde(default)]
    pub pending_revocations: Vec<PendingRevocation>,
    #[serde(default)]
    pub network: NetworkAcls,
    pub keys: Vec<Key>,
    /// The vault's secrets (soft-deleted ones too, with `deleted` set).
    #[serde(default)]
    pub secrets: Vec<Secret>,
    pub created: Timestamp,
    #[serde(default)]
    pub deleted: Option<DeletedState>,
    /// Diagnostic settings (`az monitor diagnostic-settings create`): where the vault's
    /// logs go. None by default, so no audit log.
    #[serde(default)]
    pub diagnostic_settings: Vec<DiagnosticSetting>,
    /// `enableRbacAuthorization`: Azure RBAC decides data-plane access; access policies
    /// are ignored.
    #[serde(default)]
    pub rbac_authorization: bool,
    #[serde(default)]
    pub role_assignments: Vec<RoleAssignment>,
    /// A key vault, or a Managed HSM (preview as a TDE key store here).
    #[serde(default)]
    pub kind: VaultKind,
    /// A simulated outage of this vault (HTTP 5XX to every request) until this time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outage_until: Option<Timestamp>,
}

/// What kind of key store this is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum VaultKind {
    #[default]
    KeyVault,
    /// A single-tenant Managed HSM: `https://<name>.managedhsm.azure.net/`, HSM keys only,
    /// local RBAC only.
    ManagedHsm,
}

impl VaultKind {
    /// The DNS suffix of its endpoint.
    pub fn host_suffix(self) -> &'static str {
        match self {
            VaultKind::KeyVault => "vault.azure.net",
            VaultKind::ManagedHsm => "managedhsm.azure.net",
        }
    }
}

/// A built-in role of Azure RBAC for Key Vault keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum VaultRole {
    /// Read key metadata, wrap and unwrap: what a SQL server's identity needs for TDE.
    CryptoServiceEncryptionUser,
    /// Every operation on keys (not on role assignments).
    CryptoOfficer,
    /// Every data-plane operation.
    Administrator,
    /// Managed HSM local RBAC: what a SQL server needs for TDE.
    HsmCryptoServiceEncryptionUser,
    /// Managed HSM local RBAC: every key operation.
    HsmCryptoUser,
    /// Managed HSM local RBAC: the HSM's administrators.
    HsmAdministrator,
    /// Read secret values and their properties.
    SecretsUser,
    /// Every operation on secrets (not on role assignments).
    SecretsOfficer,
}

impl VaultRole {
    pub const ALL: [VaultRole; 8] = [
        VaultRole::CryptoServiceEncryptionUser,
        VaultRole::CryptoOfficer,
        VaultRole::Administrator,
        VaultRole::SecretsUser,
        VaultRole::SecretsOfficer,
        VaultRole::HsmCryptoServiceEncryptionUser,
        VaultRole::HsmCryptoUser,
        VaultRole::HsmAdministrator,
    ];

    /// Whether the role exists on this kind of key store (Key Vault roles on vaults,
    /// Managed HSM local roles on HSMs).
    pub fn applies_to(self, kind: VaultKind) -> bool {
        let hsm = matches!(
            self,
            VaultRole::HsmCryptoServiceEncryptionUser
                | VaultRole::HsmCryptoUser
                | VaultRole::HsmAdministrator
        );
        hsm == (kind == VaultKind::ManagedHsm)
    }

    pub fn name(self) -> &'static str {
        match self {
            VaultRole::CryptoServiceEncryptionUser => "Key Vault Crypto Service Encryption User",
            VaultRole::CryptoOfficer => "Key Vault Crypto Officer",
            VaultRole::Administrator => "Key Vault Administrator",
            VaultRole::HsmCryptoServiceEncryptionUser => {
                "Managed HSM Crypto Service Encryption User"
            }
            VaultRole::HsmCryptoUser => "Managed HSM Crypto User",
            VaultRole::HsmAdministrator => "Managed HSM Administrator",
            VaultRole::SecretsUser => "Key Vault Secrets User",
            VaultRole::SecretsOfficer => "Key Vault Secrets Officer",
        }
    }

    pub fn parse(text: &str) -> Option<VaultRole> {
        VaultRole::ALL
            .into_iter()
            .find(|r| r.name().eq_ignore_ascii_case(text.trim()))
    }

    /// The key permissions the role grants.
    pub fn permissions(self) -> BTreeSet<KeyPermission> {
        match self {
            VaultRole::CryptoServiceEncryptionUser | VaultRole::HsmCryptoServiceEncryptionUser => {
                KeyPermission::TDE_REQUIRED.into_iter().collect()
            }
            VaultRole::CryptoOfficer
            | VaultRole::Administrator
            | VaultRole::HsmCryptoUser
            | VaultRole::HsmAdministrator => KeyPermission::ALL.into_iter().collect(),
            VaultRole::SecretsUser | VaultRole::SecretsOfficer => BTreeSet::new(),
        }
    }

    /// The secret permissions the role grants: the Secrets User reads values and
    /// properties (`getSecret`, `readMetadata`); the Secrets Officer and the Administrator
    /// may do everything (`secrets/*`, `deletedSecrets/*`). A Managed HSM has no secrets.
    pub fn secret_permissions(self) -> BTreeSet<SecretPermission> {
        match self {
            VaultRole::SecretsUser => [SecretPermission::Get, SecretPermission::List]
                .into_iter()
                .collect(),
            VaultRole::SecretsOfficer | VaultRole::Administrator => {
                SecretPermission::ALL.into_iter().collect()
            }
            _ => BTreeSet::new(),
        }
    }
}

/// A role granted to a principal on a vault. Assignments and removals take effect after
/// Azure RBAC's propagation delay.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoleAssignment {
    /// The assignment's GUID.
    pub name: String,
    pub principal: PrincipalId,
    pub role: VaultRole,
    pub active_from: Timestamp,
    /// Set when deleted: still honoured until then.
    pub active_until: Option<Timestamp>,
}

impl RoleAssignment {
    pub fn active(&self, now: Timestamp) -> bool {
        self.active_from <= now && self.active_until.is_none_or(|t| t > now)
    }
}

/// One diagnostic setting of a vault.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DiagnosticSetting {
    pub name: String,
    /// Sends the `AuditEvent` category.
    pub audit_event: bool,
    /// The Log Analytics workspace (or storage account) the records go to.
    pub destination: String,
}

impl KeyVault {
    /// Some diagnostic setting sends `AuditEvent`: requests are audited.
    pub fn audit_enabled(&self) -> bool {
        self.diagnostic_settings.iter().any(|d| d.audit_event)
    }

    pub fn uri(&self) -> String {
        format!("https://{}.{}/", self.name, self.kind.host_suffix())
    }

    pub fn key_uri(&self, key: &str, version: &KeyVersionId) -> String {
        format!("{}keys/{}/{}", self.uri(), key, version)
    }

    pub fn is_managed_hsm(&self) -> bool {
        self.kind == VaultKind::ManagedHsm
    }

    pub fn key(&self, name: &str) -> Option<&Key> {
        self.keys.iter().find(|k| k.name.eq_ignore_ascii_case(name))
    }

    pub fn secret(&self, name: &str) -> Option<&Secret> {
        self.secrets
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(name))
    }

    pub fn secret_mut(&mut self, name: &str) -> Option<&mut Secret> {
        self.secrets
            .iter_mut()
            .find(|s| s.name.eq_ignore_ascii_case(name))
    }

    pub fn secret_uri(&self, name: &str, version: &KeyVersionId) -> String {
        format!("{}secrets/{}/{}", self.uri(), name, version)
    }

    /// The secret permissions the service honours for `object_id` at `now` (see
    /// [`KeyVault::effective_permissions`]).
    pub fn effective_secret_permissions(
        &self,
        object_id: &PrincipalId,
        now: Timestamp,
    ) -> BTreeSet<SecretPermission> {
        if self.rbac_authorization {
            return self
                .role_assignments
                .iter()
                .filter(|a| &a.principal == object_id && a.active(now))
                .flat_map(|a| a.role.secret_permissions())
                .collect();
        }
        let mut set: BTreeSet<SecretPermission> = self
            .access_policies
            .iter()
            .filter(|p| &p.object_id == object_id)
            .flat_map(|p| p.secret_permissions.iter().copied())
            .collect();
        for pending in &self.pending_revocations {
            if &pending.object_id == object_id && pending.effective_at > now {
                set.extend(pending.secret_permissions.iter().copied());
            }
        }
        set
    }

    pub fn key_mut(&mut self, name: &str) -> Option<&mut Key> {
        self.keys
            .iter_mut()
            .find(|k| k.name.eq_ignore_ascii_case(name))
    }

    /// The recovery level the vault reports.
    pub fn recovery_level(&self) -> &'static str {
        match (self.soft_delete, self.purge_protection) {
            (false, _) => "Purgeable",
            (true, false) => "Recoverable+Purgeable",
            (true, true) => "Recoverable",
        }
    }

    /// The permissions the service honours for `object_id` at `now`: the configured ones
    /// plus revocations that have not propagated yet.
    pub fn effective_permissions(
        &self,
        object_id: &PrincipalId,
        now: Timestamp,
    ) -> BTreeSet<KeyPermission> {
        if self.rbac_authorization {
            return self
                .role_assignments
                .iter()
                .filter(|a| &a.principal == object_id && a.active(now))
                .flat_map(|a| a.role.permissions())
                .collect();
        }
        let mut set: BTreeSet<KeyPermission> = self
            .access_policies
            .iter()
            .filter(|p| &p.object_id == object_id)
            .flat_map(|p| p.key_permissions.iter().copied())
            .collect();
        for pending in &self.pending_revocations {
            if &pending.object_id == object_id && pending.effective_at > now {
                set.extend(pending.permissions.iter().copied());
            }
        }
        set
    }
}

/// A parsed key identifier: `https://<vault>.vault.azure.net/keys/<name>[/<version>]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyUri {
    pub vault: String,
    pub key: String,
    pub version: Option<String>,
    /// The id names a Managed HSM (`*.managedhsm.azure.net`).
    pub managed_hsm: bool,
}

impl KeyUri {
    pub fn parse(text: &str) -> Option<KeyUri> {
        let rest = text.trim().strip_prefix("https://")?;
        let (host, path) = rest.split_once('/')?;
        let (vault, managed_hsm) = match host.strip_suffix(".vault.azure.net") {
            Some(v) => (v, false),
            None => (host.strip_suffix(".managedhsm.azure.net")?, true),
        };
        let path = path.trim_end_matches('/');
        let mut parts = path.split('/');
        if parts.next()? != "keys" {
            return None;
        }
        let key = parts.next()?.to_string();
        let version = parts.next().map(str::to_string);
        if parts.next().is_some() || vault.is_empty() || key.is_empty() {
            return None;
        }
        if let Some(v) = &version
            && (v.len() != 32 || !v.chars().all(|c| c.is_ascii_hexdigit()))
        {
            return None;
        }
        Some(KeyUri {
            vault: vault.to_string(),
            key,
            version,
            managed_hsm,
        })
    }

    pub fn kind(&self) -> VaultKind {
        if self.managed_hsm {
            VaultKind::ManagedHsm
        } else {
            VaultKind::KeyVault
        }
    }

    pub fn to_uri(&self) -> String {
        let host = self.kind().host_suffix();
        match &self.version {
            Some(v) => format!("https://{}.{host}/keys/{}/{}", self.vault, self.key, v),
            None => format!("https://{}.{host}/keys/{}", self.vault, self.key),
        }
    }
}

#[cfg(test)]
mod network_tests {
    use super::*;

    #[test]
    fn cidr_rules_match_addresses_inside_them() {
        assert!(cidr_contains("203.0.113.0/24", "203.0.113.10"));
        assert!(!cidr_contains("203.0.113.0/24", "203.0.114.10"));
        assert!(cidr_contains("203.0.113.10", "203.0.113.10"));
        assert!(cidr_contains("0.0.0.0/0", "8.8.8.8"));
        assert!(!cidr_contains("203.0.113.0/33", "203.0.113.10"));
        assert!(!cidr_contains("not-an-ip", "203.0.113.10"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_uris_parse() {
        let u = KeyUri::parse("https://v1.vault.azure.net/keys/k/0123456789abcdef0123456789abcdef")
            .unwrap();
        assert_eq!(u.vault, "v1");
        assert_eq!(u.key, "k");
        assert!(u.version.is_some());
        assert!(
            KeyUri::parse("https://v1.vault.azure.net/keys/k")
                .unwrap()
                .version
                .is_none()
        );
        assert!(KeyUri::parse("https://v1.vault.azure.net/keys/k/short").is_none());
        assert!(KeyUri::parse("http://v1.vault.azure.net/keys/k").is_none());
        assert!(KeyUri::parse("https://v1.example.com/keys/k").is_none());
        assert!(KeyUri::parse("https://v1.vault.azure.net/secrets/k").is_none());
    }

    #[test]
    fn permissions_parse_case_insensitively() {
        assert_eq!(
            KeyPermission::parse("WRAPKEY"),
            Some(KeyPermission::WrapKey)
        );
        assert_eq!(KeyPermission::parse("nope"), None);
    }
}
