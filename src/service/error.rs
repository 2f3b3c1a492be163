//! The one error type of the operations layer: the service's code, HTTP status and text.

use crate::model::KeyAccessFailure;
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceError {
    pub code: String,
    pub status: u16,
    pub message: String,
}

impl ServiceError {
    pub fn new(code: &str, status: u16, message: impl Into<String>) -> Self {
        ServiceError {
            code: code.to_string(),
            status,
            message: message.into(),
        }
    }

    pub fn bad_request(code: &str, message: impl Into<String>) -> Self {
        Self::new(code, 400, message)
    }

    pub fn not_found(code: &str, message: impl Into<String>) -> Self {
        Self::new(code, 404, message)
    }

    pub fn conflict(code: &str, message: impl Into<String>) -> Self {
        Self::new(code, 409, message)
    }

    pub fn resource_group_not_found(name: &str) -> Self {
        Self::not_found(
            "ResourceGroupNotFound",
            format!("Resource group '{name}' could not be found."),
        )
    }

    pub fn server_not_found(name: &str) -> Self {
        Self::not_found(
            "ResourceNotFound",
            format!(
                "The Resource 'Microsoft.Sql/servers/{name}' under resource group was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
            ),
        )
    }

    pub fn database_not_found(server: &str, db: &str) -> Self {
        Self::not_found(
            "ResourceNotFound",
            format!(
                "The requested resource of type 'Microsoft.Sql/servers/databases' with name '{db}' was not found on server '{server}'."
            ),
        )
    }

    pub fn vault_not_found(name: &str) -> Self {
        Self::not_found(
            "ResourceNotFound",
            format!(
                "The Resource 'Microsoft.KeyVault/vaults/{name}' under resource group was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
            ),
        )
    }

    pub fn key_not_found(key: &str) -> Self {
        Self::not_found(
            "KeyNotFound",
            format!(
                "A key with (name/id) {key} was not found in this key vault. If you recently deleted this key you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182"
            ),
        )
    }

    pub fn server_key_not_found() -> Self {
        Self::not_found(
            "ServerKeyNotFound",
            "The requested server key was not found on the current subscription.",
        )
    }

    pub fn vault_connection_failed() -> Self {
        Self::new(
            "AzureKeyVaultConnectionFailed",
            503,
            "The operation could not be completed on the server because attempts to connect to Azure Key Vault have failed.",
        )
    }

    pub fn database_unavailable(server: &str, db: &str) -> Self {
        Self::new(
            "40613",
            503,
            format!(
                "Database '{db}' on server '{server}' is not currently available. Please retry the connection later."
            ),
        )
    }

    pub fn database_inaccessible(server: &str, db: &str) -> Self {
        Self::conflict(
            "DatabaseInaccessible",
            format!(
                "Database '{db}' on server '{server}' is Inaccessible because the server has lost access to its TDE protector. The only operation allowed is Delete; restore access to the key first."
            ),
        )
    }

    /// The text SQL gives when the server cannot use its key: permissions, dates, state.
    pub fn key_requirements_text(server: &str, principal: &str) -> String {
        format!(
            "The server {server} requires the Key Vault Crypto Service Encryption User permission for the RBAC policy or following Azure Key Vault permissions: Get, WrapKey, UnwrapKey. Please grant the missing permissions to the service principal with ID {principal}. Ensure the key is active, not expired or disabled, set with the key activation date no later than the current date, and that trusted Microsoft services can bypass the firewall if applicable."
        )
    }

    /// The SQL error for a server that cannot use a Key Vault key.
    pub fn from_key_access(
        failure: &KeyAccessFailure,
        server: &str,
        principal: &str,
        vault_uri: &str,
    ) -> Self {
        let code = failure.code();
        match failure {
            KeyAccessFailure::NoServerIdentity => Self::bad_request(
                code,
                "The server identity is not correctly configured on server. Please contact support.",
            ),
            KeyAccessFailure::VaultNotFound
            | KeyAccessFailure::VaultDeleted
            | KeyAccessFailure::UnwrapFailed
            | KeyAccessFailure::VaultUnreachable
            | KeyAccessFailure::Throttled => Self::vault_connection_failed(),
            KeyAccessFailure::TenantMismatch => Self::bad_request(
                "AzureKeyVaultCrossTenantNotSupported",
                format!(
                    "The key vault '{vault_uri}' belongs to a different Azure Active Directory tenant than server '{server}'. Cross-tenant key vault and server interactions are not supported without a multi-tenant application federated to the server's user-assigned identity (--federated-client-id) and granted on the vault."
                ),
            ),
            KeyAccessFailure::FirewallBlocked => Self::bad_request(
                code,
                format!(
                    "The server {server} cannot reach the Azure Key Vault '{vault_uri}': the vault answered 403 \"Client address is not authorized and caller is not a trusted service\". Turn on \"Allow trusted Microsoft services to bypass this firewall\" on the key vault."
                ),
            ),
            KeyAccessFailure::MissingPermissions(_) => Self::bad_request(
                code,
                "The server is missing required permissions on the Azure Key Vault.",
            ),
            KeyAccessFailure::KeyNotFound | KeyAccessFailure::KeyDeleted => Self::bad_request(
                code,
                format!(
                    "The key vault key used by server {server} was not found in '{vault_uri}'. If it was deleted, recover it, or select another key."
                ),
            ),
            // The service's own text for a disabled key (REST reference of Server Keys).
            KeyAccessFailure::KeyDisabled => Self::bad_request(
                code,
                "The operation could not be completed on the server because the Azure Key Vault key is disabled.",
            ),
            KeyAccessFailure::KeyNotYetActive
            | KeyAccessFailure::KeyExpired
            | KeyAccessFailure::KeyOperationsNotPermitted => {
                Self::bad_request(code, Self::key_requirements_text(server, principal))
            }
        }
    }
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({}) {}", self.code, self.message)
    }
}

impl std::error::Error for ServiceError {}

pub type ServiceResult<T> = Result<T, ServiceError>;

/// The message a panic carried (what the clients report when an operation panicked).
pub fn panic_text(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a bug".to_string())
}
