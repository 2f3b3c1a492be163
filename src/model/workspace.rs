//! The whole simulated world one workspace file holds.

use super::ids::{PrincipalId, SubscriptionId, TenantId};
use super::sql::{ServerIdentity, SqlServer};
use super::topology::{ResourceGroup, Subscription, Tenant};
use super::vault::KeyVault;
use crate::sim::{Schedule, SimClock, Timestamp, TimingProfile};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The workspace file format this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// The person at the console: the principal the CLI and the portal act as.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConsoleUser {
    pub object_id: PrincipalId,
    pub upn: String,
    pub tenant: TenantId,
    /// The address the user's own calls to a vault come from.
    pub client_ip: String,
    /// The client application making the calls when it is not the Azure CLI: an SDK
    /// calling the local vault endpoint as some principal (see `vault_endpoint`). Never saved.
    #[serde(skip)]
    pub via: Option<ClientApp>,
}

/// An application calling a vault's data plane (its app id and user agent), as the vault's
/// audit log records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientApp {
    pub app_id: String,
    pub user_agent: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ActivityStatus {
    Started,
    Succeeded,
    Failed,
}

impl ActivityStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ActivityStatus::Started => "Started",
            ActivityStatus::Succeeded => "Succeeded",
            ActivityStatus::Failed => "Failed",
        }
    }
}

/// One Azure Activity Log record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActivityLogEntry {
    pub time: Timestamp,
    pub operation: String,
    pub status: ActivityStatus,
    /// Resource id the entry is about.
    pub resource: String,
    pub message: String,
    /// When the entry shows up in the Activity Log (entries about failures arrive 15–30
    /// minutes late); `None`: at once.
    #[serde(default)]
    pub available_at: Option<Timestamp>,
    /// Alert rules have looked at this record.
    #[serde(default)]
    pub alerted: bool,
    /// Who made the change (a user's UPN); empty for what a service did by itself.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub caller: String,
}

impl ActivityLogEntry {
    pub fn visible(&self, now: Timestamp) -> bool {
        self.available_at.is_none_or(|t| t <= now)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum NotificationLevel {
    Info,
    Success,
    Warning,
    Error,
}

/// An entry in the portal's notifications centre.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    pub time: Timestamp,
    pub level: NotificationLevel,
    pub title: String,
    pub text: String,
    pub read: bool,
    /// What the notice asked for is done or no longer holds (the revalidation it asked for
    /// ran): the panel shows it as done, with this text, and its toast goes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done: Option<String>,
}

/// A named moment kept in the workspace file: the workspace as it was then (without
/// bookmarks of its own), shared with the session's timeline.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SavedBookmark {
    pub name: String,
    /// What led to that moment ("Access policy removed…").
    pub label: String,
    pub state: Arc<Workspace>,
}

impl PartialEq for SavedBookmark {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
            && self.label == other.label
            && (Arc::ptr_eq(&self.state, &other.state) || self.state.same_as(&other.state))
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Workspace {
    pub format_version: u32,
    pub name: String,
    pub profile: TimingProfile,
    pub clock: SimClock,
    pub schedule: Schedule,
    pub console_user: ConsoleUser,
    pub tenants: Vec<Tenant>,
    pub subscriptions: Vec<Subscription>,
    pub current_subscription: SubscriptionId,
    pub resource_groups: Vec<ResourceGroup>,
    pub vaults: Vec<KeyVault>,
    /// Shared with earlier snapshots of the workspace until changed (copy on write).
    pub servers: Vec<Arc<SqlServer>>,
    /// Persistent vectors: a snapshot shares them, an append copies one chunk.
    pub activity_log: imbl::Vector<ActivityLogEntry>,
    pub notifications: imbl::Vector<Notification>,
    #[serde(default)]
    pub action_groups: Vec<super::monitor::ActionGroup>,
    #[serde(default)]
    pub alert_rules: Vec<super::monitor::AlertRule>,
    #[serde(default)]
    pub deliveries: Vec<super::monitor::Delivery>,
    /// Webhook POSTs fired and not yet sent: the clients send them after the operation
    /// commits and record the outcome in `deliveries` (`service::monitor::record_deliveries`).
    #[serde(default)]
    pub outbox: super::monitor::Outbox,
    /// The secret key backups of this workspace are sealed under. A file without one is
    /// refused on load (a new root would silently orphan every backup made under the old).
    #[serde(default = "crate::crypto::backup::BackupRoot::unset")]
    pub backup_root: crate::crypto::backup::BackupRoot,
    /// Management locks (`az lock create`).
    #[serde(default)]
    pub locks: Vec<super::topology::ResourceLock>,
    /// Every request the vaults served or refused (metrics, throttling, audit log): part of
    /// the workspace's value (snapshots, rewinds and equality include it).
    #[serde(default)]
    pub journal: super::journal::RequestJournal,
    /// Geo-replication links, failover groups and regional outages.
    #[serde(default)]
    pub continuity: super::continuity::Continuity,
    /// Bumped by every change the operations layer makes (never saved): what "unsaved"
    /// follows, and how a view knows the model moved.
    /// App registrations (cross-tenant keys: a multi-tenant app with a federated credential).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub apps: Vec<super::topology::AppRegistration>,
    /// Service principals of apps in tenants.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub service_principals: Vec<super::topology::ServicePrincipal>,
    /// Virtual networks (a managed instance's subnet).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub networks: Vec<super::topology::VirtualNetwork>,
    /// Network security groups and route tables (a managed instance's subnet needs both).
    #[serde(
        default,
        skip_serializing_if = "super::topology::NetworkPolicies::is_empty"
    )]
    pub network_policies: super::topology::NetworkPolicies,
    /// User-assigned managed identities.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub identities: Vec<super::topology::UserAssignedIdentity>,
    /// Moments of a session kept in the file (History > "Keep bookmarks in the file"):
    /// each with the whole workspace as it was, so a class reopens the file and rewinds.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bookmarks: Vec<SavedBookmark>,
    /// Simulated customer applications querying databases (`sim app start`, View >
    /// Customer app), with what their queries got.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub customer_apps: Vec<super::customer_app::CustomerApp>,
    /// Synapse workspaces, their dedicated SQL pools and their Data Lake storage accounts.
    #[serde(
        default,
        skip_serializing_if = "super::synapse::SynapseEstate::is_empty"
    )]
    pub synapse: super::synapse::SynapseEstate,
    #[serde(skip)]
    pub revision: u64,
}

/// Revisions are unique in the process: a state reached again by a rewind keeps its number,
/// and no other state ever gets it (views cache what they compute by revision).
static NEXT_REVISION: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// Two workspaces are equal when they hold the same state, whatever their revisions.
impl PartialEq for Workspace {
    fn eq(&self, other: &Workspace) -> bool {
        self.same_as(other)
    }
}

impl Workspace {
    /// Marks a change: a revision no other state of this process has had.
    pub fn bump_revision(&mut self) {
        self.revision = NEXT_REVISION.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// Marks every notification read.
    pub fn mark_notifications_read(&mut self) {
        // Only unread ones are written (a snapshot keeps sharing the rest).
        let unread: Vec<usize> = (0..self.notifications.len())
            .filter(|&i| !self.notifications[i].read)
            .collect();
        for i in unread {
            if let Some(n) = self.notifications.get_mut(i) {
                n.read = true;
            }
        }
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now
    }

    pub fn vault(&self, name: &str) -> Option<&KeyVault> {
        self.vaults
            .iter()
            .find(|v| v.name.eq_ignore_ascii_case(name))
    }

    pub fn vault_mut(&mut self, name: &str) -> Option<&mut KeyVault> {
        self.vaults
            .iter_mut()
            .find(|v| v.name.eq_ignore_ascii_case(name))
    }

    pub fn server(&self, name: &str) -> Option<&SqlServer> {
        self.servers
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(name))
            .map(Arc::as_ref)
    }

    /// The server for writing: copied first (its databases stay shared) if an earlier
    /// snapshot still shares it.
    pub fn server_mut(&mut self, name: &str) -> Option<&mut SqlServer> {
        self.servers
            .iter_mut()
            .find(|s| s.name.eq_ignore_ascii_case(name))
            .map(Arc::make_mut)
    }

    pub fn resource_group(&self, name: &str) -> Option<&ResourceGroup> {
        self.resource_groups.iter().find(|g| {
            g.name.eq_ignore_ascii_case(name) && g.subscription == self.current_subscription
        })
    }

    /// A resource group's name as it was created (the case typed may differ), or as typed
    /// when the group is not in the current subscription.
    pub fn resource_group_name(&self, name: &str) -> String {
        self.resource_group(name)
            .map_or_else(|| name.to_string(), |g| g.name.clone())
    }

    /// The user-assigned identity with this ARM id (any case), if it exists.
    pub fn identity(&self, arm_id: &str) -> Option<&super::topology::UserAssignedIdentity> {
        self.identities
            .iter()
            .find(|i| i.arm_id().eq_ignore_ascii_case(arm_id.trim()))
    }

    /// Who `s` is when it calls Key Vault: its primary user-assigned identity when it has
    /// one (None once that identity is deleted), else its system-assigned identity.
    pub fn key_vault_identity(&self, s: &SqlServer) -> Option<ServerIdentity> {
        match &s.primary_user_assigned_identity {
            Some(id) => self.identity(id).map(|u| ServerIdentity {
                principal_id: u.principal_id.clone(),
                tenant_id: u.tenant_id.clone(),
            }),
            None => s.identity.clone(),
        }
    }

    pub fn subscription(&self) -> Option<&Subscription> {
        self.subscriptions
            .iter()
            .find(|s| s.id == self.current_subscription)
    }

    /// Whether two workspaces hold the same state, cheaply when one is a snapshot of the
    /// other: servers still shared between them are equal without being read.
    pub fn same_as(&self, other: &Workspace) -> bool {
        self.same_apart_from_requests(other) && self.journal == other.journal
    }

    /// Whether `other` differs from this workspace at most in its request journal (what a
    /// read such as `az keyvault key show` leaves: the vault's record of the request).
    pub fn same_apart_from_requests(&self, other: &Workspace) -> bool {
        // Every field named, so a new one cannot be forgotten here.
        let Workspace {
            format_version,
            name,
            profile,
            clock,
            schedule,
            console_user,
            tenants,
            subscriptions,
            current_subscription,
            resource_groups,
            vaults,
            servers,
            activity_log,
            notifications,
            action_groups,
            alert_rules,
            deliveries,
            outbox,
            backup_root,
            locks,
            journal: _,
            continuity,
            identities,
            apps,
            service_principals,
            networks,
            network_policies,
            bookmarks,
            customer_apps,
            synapse,
            revision: _,
        } = self;
        let servers_same = servers.len() == other.servers.len()
            && servers
                .iter()
                .zip(&other.servers)
                .all(|(a, b)| Arc::ptr_eq(a, b) || a == b);
        servers_same
            && *format_version == other.format_version
            && *name == other.name
            && *profile == other.profile
            && *clock == other.clock
            && *schedule == other.schedule
            && *console_user == other.console_user
            && *tenants == other.tenants
            && *subscriptions == other.subscriptions
            && *current_subscription == other.current_subscription
            && *resource_groups == other.resource_groups
            && *vaults == other.vaults
            && activity_log.len() == other.activity_log.len()
            && *activity_log == other.activity_log
            && *notifications == other.notifications
            && *action_groups == other.action_groups
            && *alert_rules == other.alert_rules
            && *deliveries == other.deliveries
            && *outbox == other.outbox
            && *backup_root == other.backup_root
            && *locks == other.locks
            && *continuity == other.continuity
            && *identities == other.identities
            && *networks == other.networks
            && *network_policies == other.network_policies
            && *apps == other.apps
            && *service_principals == other.service_principals
            && *bookmarks == other.bookmarks
            && *customer_apps == other.customer_apps
            && *synapse == other.synapse
    }

    /// Keeps what `discarded` — a copy of this workspace that a refused operation worked on
    /// and that is now thrown away — recorded in its request journal: a refused call changes
    /// nothing else but still leaves its trace (the vault served or refused the request).
    /// `discarded` must be a copy of `self` that only the failed work changed since.
    pub fn keep_trace_of(&mut self, discarded: Workspace) {
        self.journal = discarded.journal;
    }

    pub fn unread_notifications(&self) -> usize {
        self.notifications.iter().filter(|n| !n.read).count()
    }
}
