//! Azure SQL infrastructure encryption ("double encryption at rest"): a second layer of
//! AES-256 under platform-managed keys, beneath TDE.
//!
//! The rules (facts and sources: `../shared/reference/azure-facts-synapse.md` §7):
//! - there is no customer switch: no az command, no ARM property to set; customers ask
//!   Microsoft (AzureSQLDoubleEncryptionAtRest@service.microsoft.com) and Microsoft turns it
//!   on. The console models the request with `sim sql server|mi infrastructure-encryption
//!   enable` ([`enable`]), which goes through here like every other change;
//! - the platform keys are independent of the TDE protector: losing the customer-managed
//!   key still makes the databases Inaccessible, and the platform layer changes nothing
//!   about it;
//! - Azure shows it per database only, as the read-only `isInfraEncryptionEnabled` of
//!   `az sql db show` (Microsoft.Sql/servers/databases); servers and managed instances have
//!   no such field, so the console shows the server's state in the portal and in `sim`
//!   output, not in `az sql server|mi show`;
//! - it applies to the databases created after it is on (create, copy, restore, a
//!   geo-secondary on this server); databases that exist keep `isInfraEncryptionEnabled`
//!   false. A per-database read-only property (like `isLedgerOn`, fixed at creation) is the
//!   reason; the facts do not say how Microsoft treats existing databases (a choice, in
//!   README's list).
//!
//! When on, a new database's encrypted pages are really encrypted twice: with its DEK, then
//! with the server's platform key ([`crate::crypto::layered`], the page layer Synapse's
//! double encryption uses). The platform key is the platform's: it is kept in the workspace
//! file and never shown.

use super::lookup::{server, server_mut};
use super::{ServiceError, ServiceResult, ids, log_activity, notify, transact};
use crate::model::*;

/// What `sim sql server|mi infrastructure-encryption show|enable` reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InfrastructureStatus {
    pub server: String,
    pub kind: ServerKind,
    /// When Microsoft turned it on; `None`: off.
    pub enabled: Option<Timestamp>,
    /// Every database of the server with whether its pages are under the platform layer.
    pub databases: Vec<(String, bool)>,
}

fn status_of(s: &SqlServer) -> InfrastructureStatus {
    InfrastructureStatus {
        server: s.name.clone(),
        kind: s.kind,
        enabled: s.infrastructure_encryption.as_ref().map(|i| i.enabled),
        databases: s
            .databases
            .iter()
            .map(|d| (d.name.clone(), d.infra_encrypted))
            .collect(),
    }
}

/// Server (or managed instance) `name` of `resource_group`, with Azure's not-found errors.
fn find<'a>(
    ws: &'a Workspace,
    name: &str,
    resource_group: &str,
    kind: ServerKind,
) -> ServiceResult<&'a SqlServer> {
    if ws.resource_group(resource_group).is_none() {
        return Err(ServiceError::resource_group_not_found(resource_group));
    }
    ws.server(name)
        .filter(|s| s.kind == kind && s.resource_group.eq_ignore_ascii_case(resource_group))
        .ok_or_else(|| match kind {
            ServerKind::SqlDatabaseServer => ServiceError::server_not_found(name),
            ServerKind::ManagedInstance => ServiceError::not_found(
                "ResourceNotFound",
                format!(
                    "The Resource 'Microsoft.Sql/managedInstances/{name}' under resource group '{resource_group}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
                ),
            ),
        })
}

/// Whether infrastructure encryption is on for server (or managed instance) `name`.
pub fn status(
    ws: &Workspace,
    name: &str,
    resource_group: &str,
    kind: ServerKind,
) -> ServiceResult<InfrastructureStatus> {
    Ok(status_of(find(ws, name, resource_group, kind)?))
}

/// Microsoft grants the request: a platform AES-256 key (from the operating system's RNG)
/// for the server, under which the databases created from now on store their pages. It
/// cannot be turned off (no request for that exists); asked again, it is refused.
pub fn enable(
    ws: &mut Workspace,
    name: &str,
    resource_group: &str,
    kind: ServerKind,
) -> ServiceResult<InfrastructureStatus> {
    transact(ws, |ws| {
        let s = find(ws, name, resource_group, kind)?;
        if let Some(i) = &s.infrastructure_encryption {
            return Err(ServiceError::conflict(
                "InfrastructureEncryptionAlreadyEnabled",
                format!(
                    "Infrastructure encryption is already enabled for {} '{}' (since {}).",
                    kind.label(),
                    s.name,
                    i.enabled.to_iso()
                ),
            ));
        }
        let resource = ids::server(s);
        let mut key = [0u8; 32];
        rand::fill(&mut key);
        let now = ws.now();
        let s = server_mut(ws, name)?;
        s.infrastructure_encryption = Some(InfrastructureEncryption {
            enabled: now,
            platform_key: PlatformKey(key.to_vec()),
        });
        let name = s.name.clone();
        log_activity(
            ws,
            now,
            "Enable infrastructure encryption (Microsoft, on request)",
            ActivityStatus::Succeeded,
            resource,
            format!(
                "Microsoft enabled infrastructure encryption (AES-256, platform-managed keys) for {} '{name}': databases created from now on are encrypted twice.",
                kind.label()
            ),
        );
        notify(
            ws,
            NotificationLevel::Info,
            "Infrastructure encryption enabled",
            format!(
                "New databases on '{name}' are stored under a platform key beneath their TDE layer."
            ),
        );
        Ok(status_of(server(ws, &name)?))
    })
}
