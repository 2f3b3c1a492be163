//! What changed between two states of a workspace: the unit of the write-ahead log.
//!
//! A [`Delta`] holds the changed parts whole: a field that differs is carried entire, the
//! servers and vaults that differ are carried one by one (by position), and the logs that
//! only grew (activity log, notifications, the request journal) carry only their new tail.
//! Applying the deltas of a session in order to the state they started from gives the
//! session's state exactly (same value, same file text): [`diff`] and [`apply`] name every
//! field of [`Workspace`], so a new field cannot be forgotten.
//!
//! Finding what changed is cheap on the copy-on-write parts: servers still shared with the
//! earlier state are equal by pointer, and the persistent logs are compared chunk by chunk,
//! shared chunks by pointer.

use crate::model::{
    ActionGroup, ActivityLogEntry, AlertRule, AppRegistration, ConsoleUser, Continuity,
    CustomerApp, Delivery, KeyVault, NetworkPolicies, Notification, Outbox, ResourceGroup,
    ResourceLock, SavedBookmark, ServicePrincipal, SqlServer, Subscription, SubscriptionId,
    SynapseEstate, Tenant, UserAssignedIdentity, VaultRequest, VirtualNetwork, Workspace,
};
use crate::sim::{Schedule, SimClock, TimingProfile};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Elements of a list that changed, by position, and the list's new length.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Positions<T> {
    pub len: usize,
    pub changed: Vec<(usize, T)>,
}

/// A persistent log that grew by a tail, or changed otherwise (then carried whole).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Log<T: Clone> {
    Appended { from: usize, items: Vec<T> },
    Whole(imbl::Vector<T>),
}

macro_rules! whole_fields {
    ($($field:ident: $ty:ty),* $(,)?) => {
        /// The changed parts of a workspace (see the module's documentation).
        #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
        pub struct Delta {
            $(
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub $field: Option<$ty>,
            )*
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub servers: Option<Positions<Arc<SqlServer>>>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub vaults: Option<Positions<KeyVault>>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub activity_log: Option<Log<ActivityLogEntry>>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub notifications: Option<Log<Notification>>,
            /// The vaults' request journal: the records added (or, after a rewind, all).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub journal: Option<Log<VaultRequest>>,
        }

        impl Delta {
            /// Nothing changed.
            pub fn is_empty(&self) -> bool {
                $(self.$field.is_none() &&)*
                self.servers.is_none()
                    && self.vaults.is_none()
                    && self.activity_log.is_none()
                    && self.notifications.is_none()
                    && self.journal.is_none()
            }
        }

        fn diff_whole(old: &Workspace, new: &Workspace, d: &mut Delta) {
            $(
                if old.$field != new.$field {
                    d.$field = Some(new.$field.clone());
                }
            )*
        }

        fn apply_whole(ws: &mut Workspace, d: Delta) -> Delta {
            $(
                if let Some(v) = d.$field {
                    ws.$field = v;
                }
            )*
            Delta { servers: d.servers, vaults: d.vaults, activity_log: d.activity_log,
                    notifications: d.notifications, journal: d.journal, ..Delta::default() }
        }
    };
}

whole_fields! {
    format_version: u32,
    name: String,
    profile: TimingProfile,
    clock: SimClock,
    schedule: Schedule,
    console_user: ConsoleUser,
    tenants: Vec<Tenant>,
    subscriptions: Vec<Subscription>,
    current_subscription: SubscriptionId,
    resource_groups: Vec<ResourceGroup>,
    action_groups: Vec<ActionGroup>,
    alert_rules: Vec<AlertRule>,
    deliveries: Vec<Delivery>,
    outbox: Outbox,
    backup_root: crate::crypto::backup::BackupRoot,
    locks: Vec<ResourceLock>,
    continuity: Continuity,
    apps: Vec<AppRegistration>,
    service_principals: Vec<ServicePrincipal>,
    networks: Vec<VirtualNetwork>,
    network_policies: NetworkPolicies,
    identities: Vec<UserAssignedIdentity>,
    bookmarks: Vec<SavedBookmark>,
    customer_apps: Vec<CustomerApp>,
    synapse: SynapseEstate,
}

/// What changed from `old` to `new`.
pub fn diff(old: &Workspace, new: &Workspace) -> Delta {
    // Every field named: a field added to the workspace must be logged here too.
    let Workspace {
        format_version: _,
        name: _,
        profile: _,
        clock: _,
        schedule: _,
        console_user: _,
        tenants: _,
        subscriptions: _,
        current_subscription: _,
        resource_groups: _,
        vaults,
        servers,
        activity_log,
        notifications,
        action_groups: _,
        alert_rules: _,
        deliveries: _,
        outbox: _,
        backup_root: _,
        locks: _,
        journal,
        continuity: _,
        apps: _,
        service_principals: _,
        networks: _,
        network_policies: _,
        identities: _,
        bookmarks: _,
        customer_apps: _,
        synapse: _,
        // Shared progress of a running job: never saved.
        revision: _,
    } = new;
    let mut d = Delta::default();
    diff_whole(old, new, &mut d);
    d.servers = positions(&old.servers, servers, |a, b| Arc::ptr_eq(a, b) || a == b);
    d.vaults = positions(&old.vaults, vaults, |a, b| a == b);
    d.activity_log = log_diff(&old.activity_log, activity_log);
    d.notifications = log_diff(&old.notifications, notifications);
    d.journal = log_diff(&old.journal.requests(), &journal.requests());
    d
}

/// Brings `ws` (the earlier state) to the later state `d` was taken from.
pub fn apply(ws: &mut Workspace, d: Delta) -> Result<(), String> {
    let d = apply_whole(ws, d);
    if let Some(p) = d.servers {
        apply_positions(&mut ws.servers, p, "server")?;
    }
    if let Some(p) = d.vaults {
        apply_positions(&mut ws.vaults, p, "vault")?;
    }
    if let Some(l) = d.activity_log {
        apply_log(&mut ws.activity_log, l, "activity log")?;
    }
    if let Some(l) = d.notifications {
        apply_log(&mut ws.notifications, l, "notifications")?;
    }
    match d.journal {
        Some(Log::Appended { from, items }) => {
            if from != ws.journal.len() {
                return Err(format!(
                    "the log appends to the request journal at {from}, which holds {}",
                    ws.journal.len()
                ));
            }
            for r in items {
                ws.journal.push(r);
            }
        }
        Some(Log::Whole(all)) => {
            ws.journal = crate::model::RequestJournal::default();
            for r in all {
                ws.journal.push(r);
            }
        }
        None => {}
    }
    ws.bump_revision();
    Ok(())
}

fn positions<T: Clone>(
    old: &[T],
    new: &[T],
    same: impl Fn(&T, &T) -> bool,
) -> Option<Positions<T>> {
    let changed: Vec<(usize, T)> = new
        .iter()
        .enumerate()
        .filter(|(i, n)| old.get(*i).is_none_or(|o| !same(o, n)))
        .map(|(i, n)| (i, n.clone()))
        .collect();
    (old.len() != new.len() || !changed.is_empty()).then_some(Positions {
        len: new.len(),
        changed,
    })
}

fn apply_positions<T>(list: &mut Vec<T>, p: Positions<T>, what: &str) -> Result<(), String> {
    list.truncate(p.len);
    for (i, item) in p.changed {
        match i.cmp(&list.len()) {
            std::cmp::Ordering::Less => list[i] = item,
            std::cmp::Ordering::Equal => list.push(item),
            std::cmp::Ordering::Greater => {
                return Err(format!("the log skips {what} position {}", list.len()));
            }
        }
    }
    if list.len() != p.len {
        return Err(format!("the log leaves {what} positions unset"));
    }
    Ok(())
}

fn log_diff<T: Clone + PartialEq>(old: &imbl::Vector<T>, new: &imbl::Vector<T>) -> Option<Log<T>> {
    if old.len() == new.len() && (old.ptr_eq(new) || same_prefix(old, new)) {
        return None;
    }
    if old.len() < new.len() && same_prefix(old, new) {
        return Some(Log::Appended {
            from: old.len(),
            items: new.iter().skip(old.len()).cloned().collect(),
        });
    }
    Some(Log::Whole(new.clone()))
}

/// Whether `new` starts with all of `old`: chunk by chunk, a chunk both share is equal
/// without being read.
fn same_prefix<T: Clone + PartialEq>(old: &imbl::Vector<T>, new: &imbl::Vector<T>) -> bool {
    if old.len() > new.len() {
        return false;
    }
    let (mut fo, mut fnew) = (old.focus(), new.focus());
    let mut i = 0;
    while i < old.len() {
        let (ro, co) = fo.chunk_at(i);
        let (rn, cn) = fnew.chunk_at(i);
        let end = ro.end.min(rn.end).min(old.len());
        let (Some(a), Some(b)) = (
            co.get(i - ro.start..end - ro.start),
            cn.get(i - rn.start..end - rn.start),
        ) else {
            return false;
        };
        if !(std::ptr::eq(a.as_ptr(), b.as_ptr()) || a == b) {
            return false;
        }
        i = end.max(i + 1);
    }
    true
}

fn apply_log<T: Clone>(log: &mut imbl::Vector<T>, l: Log<T>, what: &str) -> Result<(), String> {
    match l {
        Log::Appended { from, items } => {
            if from != log.len() {
                return Err(format!(
                    "the log appends to the {what} at {from}, which holds {}",
                    log.len()
                ));
            }
            log.extend(items);
        }
        Log::Whole(v) => *log = v,
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unchanged_workspace_has_an_empty_delta() {
        let ws = crate::service::new_workspace("t", 1);
        let copy = ws.clone();
        let d = diff(&copy, &ws);
        assert!(d.is_empty(), "{d:?}");
    }

    #[test]
    fn appended_logs_carry_only_their_tail_and_replay_exactly() {
        let mut ws = crate::service::new_workspace("t", 1);
        for i in 0..300 {
            ws.notifications.push_back(crate::model::Notification {
                time: ws.clock.now,
                level: crate::model::NotificationLevel::Info,
                title: format!("n{i}"),
                text: String::new(),
                read: false,
                done: None,
            });
        }
        let before = ws.clone();
        let mut after = ws.clone();
        after.notifications.push_back(crate::model::Notification {
            time: ws.clock.now,
            level: crate::model::NotificationLevel::Info,
            title: "last".into(),
            text: String::new(),
            read: false,
            done: None,
        });
        after.name = "renamed".into();
        let d = diff(&before, &after);
        match &d.notifications {
            Some(Log::Appended { from: 300, items }) => assert_eq!(items.len(), 1),
            other => panic!("expected an appended tail, got {other:?}"),
        }
        assert_eq!(d.name.as_deref(), Some("renamed"));
        let mut replayed = before.clone();
        apply(&mut replayed, d).unwrap();
        assert_eq!(
            crate::persist::to_ron(&replayed).unwrap(),
            crate::persist::to_ron(&after).unwrap()
        );
        // A change inside the log (marking read) carries the whole log.
        let mut read = after.clone();
        if let Some(n) = read.notifications.get_mut(3) {
            n.read = true;
        }
        let d = diff(&after, &read);
        assert!(matches!(d.notifications, Some(Log::Whole(_))));
    }

    #[test]
    fn a_rewound_journal_is_carried_whole_and_a_grown_one_by_its_tail() {
        let mut ws = crate::service::new_workspace("t", 1);
        let mut sh = crate::shell::Shell::new();
        for line in [
            "az group create -n rg -l eastus",
            "az keyvault create -n kv-delta -g rg -l eastus",
            "az keyvault key list --vault-name kv-delta",
        ] {
            let r = sh.run_line(&mut ws, line);
            assert!(r.ok, "{line}: {}", r.stderr);
        }
        let earlier = ws.clone();
        let r = sh.run_line(&mut ws, "az keyvault key list --vault-name kv-delta");
        assert!(r.ok, "{}", r.stderr);
        assert!(
            ws.journal.len() > earlier.journal.len(),
            "reads are journaled"
        );
        let grown = diff(&earlier, &ws);
        assert!(
            matches!(grown.journal, Some(Log::Appended { .. })),
            "{grown:?}"
        );
        // History rewound to the earlier state: the log must say so, whole.
        let rewound = diff(&ws, &earlier);
        assert!(matches!(rewound.journal, Some(Log::Whole(_))));
        let mut replayed = ws.clone();
        apply(&mut replayed, rewound).unwrap();
        assert_eq!(
            crate::persist::to_ron(&replayed).unwrap(),
            crate::persist::to_ron(&earlier).unwrap()
        );
    }

    #[test]
    fn a_delta_that_does_not_fit_its_state_is_refused() {
        let mut ws = crate::service::new_workspace("t", 1);
        let d = Delta {
            notifications: Some(Log::Appended {
                from: 5,
                items: vec![],
            }),
            ..Delta::default()
        };
        assert!(apply(&mut ws, d).is_err());
        let d = Delta {
            vaults: Some(Positions {
                len: 3,
                changed: vec![],
            }),
            ..Delta::default()
        };
        assert!(apply(&mut ws.clone(), d).is_err());
    }
}
