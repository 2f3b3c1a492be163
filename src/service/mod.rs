//! The operations layer: every change a user can make is one function here, taking the
//! workspace and typed arguments and returning a typed result or a [`ServiceError`] with the
//! service's own code and text.
//!
//! A failed operation leaves the workspace exactly as it was: operations run through
//! [`transact`], which applies them to a copy and keeps the copy only on success.
//! The UI, the shell and the tests all come through here.

pub mod advisor;
pub mod availability;
pub mod backup;
pub mod behaviour;
pub mod burst;
pub mod chain;
pub mod content;
pub mod copy;
pub mod customer_app;
pub mod database_key;
pub mod dependents;
pub mod diagnostics;
pub mod directory;
pub mod dw;
mod error;
pub mod estate;
pub mod failover_group;
pub mod firewall;
pub mod geo_rules;
pub mod georeplication;
pub mod identity;
pub mod infrastructure;
pub mod key_access;
pub mod keyvault;
pub mod locks;
pub mod lookup;
pub mod managed_instance;
pub mod monitor;
pub mod network;
pub mod outage;
pub mod progress;
pub mod rbac;
pub mod recovery;
pub mod requests;
pub mod resources;
pub mod rotation;
pub mod secrets;
pub mod server_key;
pub mod sku;
pub mod sql;
pub mod synapse;
pub mod tde;

pub use error::{ServiceError, ServiceResult, panic_text};

use crate::crypto::{CryptoError, RsaKeyMaterial};
use crate::model::*;
use crate::sim::{Schedule, SimClock, TimingProfile};

/// Who is calling a vault: the person at the console, or a SQL server through its
/// managed identity (a trusted Microsoft service).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Caller {
    ConsoleUser,
    Server(String),
    /// A server reaching a database's own key with that database's user-assigned identity
    /// (its ARM id).
    ServerAs {
        server: String,
        identity: String,
    },
    /// A Synapse workspace reaching its customer-managed key with its managed identity
    /// (system-assigned, or the user-assigned one it encrypts with).
    Synapse(String),
}

impl Caller {
    /// The server making the call, if a server makes it.
    pub fn server(&self) -> Option<&str> {
        match self {
            Caller::ConsoleUser | Caller::Synapse(_) => None,
            Caller::Server(s) | Caller::ServerAs { server: s, .. } => Some(s),
        }
    }

    /// The caller for database `db` of server `s`: its own identity when it reaches its own
    /// key with one, else the server's.
    pub fn for_database(
        s: &crate::model::SqlServer,
        db: Option<&crate::model::Database>,
    ) -> Caller {
        match db
            .filter(|d| d.encryption_protector.is_some())
            .and_then(|d| d.identity.clone())
        {
            Some(identity) => Caller::ServerAs {
                server: s.name.clone(),
                identity,
            },
            None => Caller::Server(s.name.clone()),
        }
    }
}

/// Where new RSA key material comes from. The app and the shell use the OS RNG; tests use
/// pre-generated keys so they stay fast.
pub trait KeySource: Send + Sync {
    fn generate(&self, bits: usize) -> Result<RsaKeyMaterial, CryptoError>;
}

/// A shared key source is a key source (the app hands one to its blades, jobs and shell).
impl<K: KeySource + ?Sized> KeySource for std::sync::Arc<K> {
    fn generate(&self, bits: usize) -> Result<RsaKeyMaterial, CryptoError> {
        (**self).generate(bits)
    }
}

/// Fresh keys from the operating system's RNG.
pub struct OsKeySource;

impl KeySource for OsKeySource {
    fn generate(&self, bits: usize) -> Result<RsaKeyMaterial, CryptoError> {
        RsaKeyMaterial::generate(bits)
    }
}

/// Runs `op` on a copy of the workspace and keeps the copy only if it succeeds, then lets
/// the services react to the change (`behaviour::reconcile_after`). The copy is cheap:
/// servers and databases are shared until written (copy on write), so an operation costs
/// what it changes, not the size of the estate.
///
/// A refused operation changes nothing but still leaves its trace: the requests the draft
/// made to vaults (the vault served or refused them) are kept in `ws`'s journal
/// ([`Workspace::keep_trace_of`]).
pub fn transact<T>(
    ws: &mut Workspace,
    op: impl FnOnce(&mut Workspace) -> ServiceResult<T>,
) -> ServiceResult<T> {
    let mut draft = ws.clone();
    let out = match op(&mut draft) {
        Ok(out) => out,
        Err(e) => {
            ws.keep_trace_of(draft);
            return Err(e);
        }
    };
    behaviour::reconcile_after(ws, &mut draft);
    draft.bump_revision();
    *ws = draft;
    Ok(out)
}

/// An empty workspace: one tenant, one subscription, the console user, the clock at
/// [`SimClock::EPOCH`].
pub fn new_workspace(name: &str, seed: u64) -> Workspace {
    let mut clock = SimClock::new(seed);
    let tenant = TenantId(guid_from_bytes(clock.draw_bytes16()));
    let subscription = SubscriptionId(guid_from_bytes(clock.draw_bytes16()));
    let user = PrincipalId(guid_from_bytes(clock.draw_bytes16()));
    Workspace {
        format_version: FORMAT_VERSION,
        name: name.to_string(),
        profile: TimingProfile::Y2021,
        clock,
        schedule: Schedule::default(),
        console_user: ConsoleUser {
            object_id: user,
            upn: "admin@contoso.onmicrosoft.com".into(),
            tenant: tenant.clone(),
            client_ip: "203.0.113.10".into(),
            via: None,
        },
        tenants: vec![Tenant {
            id: tenant.clone(),
            display_name: "Contoso".into(),
            domain: "contoso.onmicrosoft.com".into(),
        }],
        subscriptions: vec![Subscription {
            id: subscription.clone(),
            name: "Contoso Production".into(),
            tenant,
        }],
        current_subscription: subscription,
        resource_groups: Vec::new(),
        vaults: Vec::new(),
        servers: Vec::new(),
        activity_log: imbl::Vector::new(),
        notifications: imbl::Vector::new(),
        action_groups: Vec::new(),
        alert_rules: Vec::new(),
        deliveries: Vec::new(),
        outbox: Outbox::default(),
        backup_root: crate::crypto::backup::BackupRoot::generate(),
        locks: Vec::new(),
        journal: RequestJournal::default(),
        continuity: Continuity::default(),
        identities: Vec::new(),
        networks: Vec::new(),
        network_policies: Default::default(),
        apps: Vec::new(),
        service_principals: Vec::new(),
        bookmarks: Vec::new(),
        customer_apps: Vec::new(),
        synapse: Default::default(),
        revision: 0,
    }
}

/// Sets the timing profile.
pub fn set_profile(ws: &mut Workspace, profile: TimingProfile) -> ServiceResult<()> {
    transact(ws, |ws| {
        ws.profile = profile;
        Ok(())
    })
}

/// Sets the address the console user's calls come from (what vault firewalls see).
pub fn set_client_ip(ws: &mut Workspace, ip: &str) -> ServiceResult<()> {
    transact(ws, |ws| {
        match parse_ipv4_rule(ip) {
            Some((_, 32)) => {}
            _ => {
                return Err(ServiceError::bad_request(
                    "InvalidArgument",
                    format!("'{ip}' is not an IPv4 address."),
                ));
            }
        }
        ws.console_user.client_ip = ip.trim().to_string();
        Ok(())
    })
}

/// Marks every notification read.
pub fn mark_notifications_read(ws: &mut Workspace) {
    ws.mark_notifications_read();
}

/// Records one Activity Log entry (see [`record_activity`]).
pub(crate) fn log_activity(
    ws: &mut Workspace,
    time: Timestamp,
    operation: &str,
    status: ActivityStatus,
    resource: String,
    message: String,
) {
    log_activity_by(
        ws,
        String::new(),
        time,
        operation,
        status,
        resource,
        message,
    );
}

/// [`log_activity`] for an operation the console user asked for: its caller is the
/// signed-in user, as for every other write of theirs (a `null` caller is what the service
/// did by itself).
pub(crate) fn log_user_activity(
    ws: &mut Workspace,
    time: Timestamp,
    operation: &str,
    status: ActivityStatus,
    resource: String,
    message: String,
) {
    let caller = ws.console_user.upn.clone();
    record_activity(
        ws,
        ActivityLogEntry {
            time,
            operation: operation.to_string(),
            status,
            resource,
            message,
            available_at: None,
            alerted: false,
            caller,
        },
    );
}

/// The records added to the Activity Log since it held `from` records, with no caller yet,
/// are the console user's: what their own operation did on the way (a group's failover
/// opening each database).
pub(crate) fn mark_user_activity_since(ws: &mut Workspace, from: usize) {
    let upn = ws.console_user.upn.clone();
    for i in from..ws.activity_log.len() {
        if let Some(e) = ws.activity_log.get_mut(i)
            && e.caller.is_empty()
        {
            e.caller = upn.clone();
        }
    }
}

/// The caller of the newest `operation` record that `Started` on `resource`: the completion
/// of a long-running operation (a restore, a recovery) carries the caller who started it.
pub(crate) fn started_by(ws: &Workspace, operation: &str, resource: &str) -> String {
    ws.activity_log
        .iter()
        .rev()
        .find(|e| {
            e.status == ActivityStatus::Started
                && e.operation == operation
                && e.resource == resource
        })
        .map(|e| e.caller.clone())
        .unwrap_or_default()
}

/// [`log_activity`] with a caller (empty: the service).
pub(crate) fn log_activity_by(
    ws: &mut Workspace,
    caller: String,
    time: Timestamp,
    operation: &str,
    status: ActivityStatus,
    resource: String,
    message: String,
) {
    record_activity(
        ws,
        ActivityLogEntry {
            time,
            operation: operation.to_string(),
            status,
            resource,
            message,
            available_at: None,
            alerted: false,
            caller,
        },
    );
}

/// Records a management (control-plane) operation the console user made on a vault, as
/// the Activity Log does for every write, with its caller.
pub(crate) fn log_vault_change(ws: &mut Workspace, vault: &str, operation: &str, message: String) {
    let resource = ws
        .vaults
        .iter()
        .find(|v| v.name.eq_ignore_ascii_case(vault))
        .map(ids::vault)
        .unwrap_or_else(|| vault.to_string());
    log_management(ws, operation, resource, message);
}

/// Records a management operation the console user made on a server (or one of its
/// databases).
pub(crate) fn log_server_change(
    ws: &mut Workspace,
    server: &str,
    database: Option<&str>,
    operation: &str,
    message: String,
) {
    let resource = match (ws.server(server), database) {
        (Some(s), Some(d)) => ids::database(s, d),
        (Some(s), None) => ids::server(s),
        (None, _) => server.to_string(),
    };
    log_management(ws, operation, resource, message);
}

fn log_management(ws: &mut Workspace, operation: &str, resource: String, message: String) {
    let entry = ActivityLogEntry {
        time: ws.now(),
        operation: operation.to_string(),
        status: ActivityStatus::Succeeded,
        resource,
        message,
        available_at: None,
        alerted: false,
        caller: ws.console_user.upn.clone(),
    };
    record_activity(ws, entry);
}

/// Appends an Activity Log record. Records about failures (a database turning
/// Inaccessible, a failed recovery) arrive 15 to 30 simulated minutes late, as in Azure.
pub(crate) fn record_activity(ws: &mut Workspace, mut entry: ActivityLogEntry) {
    let late =
        entry.operation == "MakeDatabaseInaccessible" || entry.status == ActivityStatus::Failed;
    if late {
        let delay = ws.clock.draw_delay(
            crate::sim::Duration::minutes(15),
            crate::sim::Duration::minutes(30),
        );
        entry.available_at = Some(entry.time + delay);
    }
    // Alert rules look at new records once a minute (Azure evaluates activity log alerts
    // about as often): a burst of thousands of late records is one evaluation a minute, not
    // one per record.
    let visible_at = entry.available_at.unwrap_or(entry.time);
    let visible_at = Timestamp(
        visible_at
            .0
            .div_euclid(60)
            .saturating_add(1)
            .saturating_mul(60),
    )
    .max(visible_at);
    ws.activity_log.push_back(entry);
    let due = crate::sim::SimEvent::EvaluateAlerts;
    if !ws
        .schedule
        .events
        .iter()
        .any(|e| e.at == visible_at && e.event == due)
    {
        ws.schedule.push(visible_at, due);
    }
}

/// An error notification from a client (e.g. a refused simulation in the UI).
pub fn notify_error(ws: &mut Workspace, title: &str, text: &str) {
    notify(ws, NotificationLevel::Error, title, text);
}

pub(crate) fn notify(
    ws: &mut Workspace,
    level: NotificationLevel,
    title: impl Into<String>,
    text: impl Into<String>,
) {
    let time = ws.now();
    ws.notifications.push_back(Notification {
        time,
        level,
        title: title.into(),
        text: text.into(),
        read: false,
        done: None,
    });
}

/// Names for a notification: all of them when few, else a count and the first ones.
pub(crate) fn name_list(names: &[String]) -> String {
    if names.len() <= 8 {
        names.join(", ")
    } else {
        format!("{} databases ({}, …)", names.len(), names[..5].join(", "))
    }
}

/// ARM resource ids.
pub mod ids {
    use crate::model::{KeyVault, SqlServer};

    pub fn resource_group(sub: &str, group: &str) -> String {
        format!("/subscriptions/{sub}/resourceGroups/{group}")
    }

    pub fn vault(v: &KeyVault) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.KeyVault/vaults/{}",
            v.subscription, v.resource_group, v.name
        )
    }

    pub fn server(s: &SqlServer) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Sql/{}/{}",
            s.subscription,
            s.resource_group,
            match s.kind {
                crate::model::ServerKind::SqlDatabaseServer => "servers",
                crate::model::ServerKind::ManagedInstance => "managedInstances",
            },
            s.name
        )
    }

    pub fn database(s: &SqlServer, db: &str) -> String {
        format!("{}/databases/{}", server(s), db)
    }
}

/// Checks an Azure resource name: length range and allowed characters.
pub(crate) fn check_name(
    kind: &str,
    name: &str,
    min: usize,
    max: usize,
    allowed: impl Fn(char) -> bool,
) -> ServiceResult<()> {
    let ok = (min..=max).contains(&name.chars().count())
        && name.chars().all(allowed)
        && !name.starts_with('-')
        && !name.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(ServiceError::bad_request(
            "InvalidResourceName",
            format!(
                "The {kind} name '{name}' is invalid. It must be {min}-{max} characters of the allowed set and may not start or end with a hyphen."
            ),
        ))
    }
}
