//! Key Vault secrets: named values with versions, their attributes, and the secret
//! permissions of access policies.
//!
//! A secret's value lives only here, in the vault section of the workspace (the vaults'
//! own storage, like key material): its `Debug` never shows it, and everything that prints
//! a secret (the shell, the blades, the audit log) leaves the value out unless the caller
//! asked for it with a `get`.

use super::ids::KeyVersionId;
use super::vault::DeletedState;
use crate::sim::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Secret permissions of an access policy (the names the service uses).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum SecretPermission {
    Get,
    List,
    Set,
    Delete,
    Recover,
    Backup,
    Restore,
    Purge,
}

impl SecretPermission {
    pub const ALL: [SecretPermission; 8] = [
        SecretPermission::Get,
        SecretPermission::List,
        SecretPermission::Set,
        SecretPermission::Delete,
        SecretPermission::Recover,
        SecretPermission::Backup,
        SecretPermission::Restore,
        SecretPermission::Purge,
    ];

    /// What `az keyvault create` gives the vault's creator: everything but purge.
    pub const CREATOR: [SecretPermission; 7] = [
        SecretPermission::Get,
        SecretPermission::List,
        SecretPermission::Set,
        SecretPermission::Delete,
        SecretPermission::Recover,
        SecretPermission::Backup,
        SecretPermission::Restore,
    ];

    /// The portal's "Secret Management" template.
    pub const SECRET_MANAGEMENT: [SecretPermission; 7] = SecretPermission::CREATOR;

    pub fn as_str(self) -> &'static str {
        match self {
            SecretPermission::Get => "get",
            SecretPermission::List => "list",
            SecretPermission::Set => "set",
            SecretPermission::Delete => "delete",
            SecretPermission::Recover => "recover",
            SecretPermission::Backup => "backup",
            SecretPermission::Restore => "restore",
            SecretPermission::Purge => "purge",
        }
    }

    /// Case-insensitive, as the CLI accepts them. `all` is handled by the caller.
    pub fn parse(text: &str) -> Option<SecretPermission> {
        SecretPermission::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(text.trim()))
    }

    /// The RBAC data action Azure names in a `ForbiddenByRbac` refusal.
    pub fn data_action(self) -> &'static str {
        match self {
            SecretPermission::Get => "Microsoft.KeyVault/vaults/secrets/getSecret/action",
            SecretPermission::List => "Microsoft.KeyVault/vaults/secrets/readMetadata/action",
            SecretPermission::Set => "Microsoft.KeyVault/vaults/secrets/setSecret/action",
            SecretPermission::Delete => "Microsoft.KeyVault/vaults/secrets/delete",
            SecretPermission::Recover => "Microsoft.KeyVault/vaults/deletedSecrets/recover/action",
            SecretPermission::Backup => "Microsoft.KeyVault/vaults/secrets/backup/action",
            SecretPermission::Restore => "Microsoft.KeyVault/vaults/secrets/restore/action",
            SecretPermission::Purge => "Microsoft.KeyVault/vaults/deletedSecrets/delete",
        }
    }
}

impl fmt::Display for SecretPermission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A secret's value. Stored in the workspace file (the vault's storage); never shown by
/// `Debug`, so no log, panic message or workspace dump reveals it.
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretValue(String);

impl SecretValue {
    pub fn new(value: impl Into<String>) -> Self {
        SecretValue(value.into())
    }

    /// The value itself: only for an answer to a caller who asked for it (`get`).
    pub fn reveal(&self) -> &str {
        &self.0
    }

    /// Its length in bytes (what Key Vault's 25 KB limit counts).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretValue(<hidden, {} bytes>)", self.0.len())
    }
}

/// One version of a secret: its value and attributes. Content type and tags belong to the
/// version, as in Key Vault (`set` makes a version with its own; `update` changes one).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SecretVersion {
    pub version: KeyVersionId,
    pub value: SecretValue,
    #[serde(default)]
    pub content_type: Option<String>,
    #[serde(default = "enabled_default")]
    pub enabled: bool,
    /// Activation date (`nbf`): informational for secrets, as in Azure.
    #[serde(default)]
    pub not_before: Option<Timestamp>,
    /// Expiration date (`exp`): informational for secrets, as in Azure (a `get` still
    /// answers).
    #[serde(default)]
    pub expires: Option<Timestamp>,
    pub created: Timestamp,
    pub updated: Timestamp,
    #[serde(default)]
    pub tags: Vec<(String, String)>,
}

fn enabled_default() -> bool {
    true
}

/// A secret of a vault: its versions, oldest first (the last one is the current version).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Secret {
    pub name: String,
    pub versions: Vec<SecretVersion>,
    /// Set when the secret is soft-deleted.
    #[serde(default)]
    pub deleted: Option<DeletedState>,
    /// Managed by Key Vault (a certificate's secret): `managed: true` in its bundle.
    #[serde(default)]
    pub managed: bool,
}

impl Secret {
    pub fn current(&self) -> Option<&SecretVersion> {
        self.versions.last()
    }

    pub fn version(&self, id: &str) -> Option<&SecretVersion> {
        self.versions
            .iter()
            .find(|v| v.version.0.eq_ignore_ascii_case(id))
    }

    /// The last time any version changed.
    pub fn last_change(&self) -> Option<Timestamp> {
        self.versions.iter().map(|v| v.updated.max(v.created)).max()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_value_never_shows_in_debug() {
        let v = SecretValue::new("hunter2-very-secret");
        let shown = format!("{v:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("19 bytes"), "{shown}");
        assert_eq!(v.reveal(), "hunter2-very-secret");
    }

    #[test]
    fn secret_permissions_parse_case_insensitively() {
        assert_eq!(SecretPermission::parse("GET"), Some(SecretPermission::Get));
        assert_eq!(
            SecretPermission::parse(" purge"),
            Some(SecretPermission::Purge)
        );
        assert_eq!(SecretPermission::parse("wrapKey"), None);
    }

    #[test]
    fn a_version_without_newer_fields_still_loads() {
        let text =
            r#"(version: "00112233445566778899aabbccddeeff", value: "v", created: 5, updated: 6)"#;
        let v: SecretVersion = ron::from_str(text).expect("loads");
        assert!(v.enabled);
        assert!(v.tags.is_empty());
        assert_eq!(v.content_type, None);
    }
}
