//! Events the services have scheduled for later simulated times.

use super::Timestamp;
use serde::{Deserialize, Serialize};

/// Something a service will do at a given simulated time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SimEvent {
    /// A revoked access-policy permission stops being honoured.
    PermissionRevocationPropagated { vault: String },
    /// The server's periodic check of a key: if access is still lost, the encrypted
    /// databases it protects turn Inaccessible. `database` is `None` for the server's TDE
    /// protector, or names the database whose own (database-level) key is checked.
    ProtectorCheck {
        server: String,
        #[serde(default)]
        database: Option<String>,
    },
    /// Access is back within the window: the service brings the databases online.
    AutoHeal { server: String },
    /// A revalidated database finishes coming back.
    RecoveryComplete { server: String, database: String },
    /// A simulated network outage between a server and its vault ends.
    NetworkOutageEnds { server: String },
    /// An auto-rotating server picks up its key's newest version: its protector's
    /// (`database: None`) or a database's own key.
    AutoRotate {
        server: String,
        #[serde(default)]
        database: Option<String>,
    },
    /// Deleted keys and vaults whose retention ended are purged.
    ScheduledPurge,
    /// Activity-log alert rules look at the records that have become visible.
    EvaluateAlerts,
    /// A time-dependent key attribute (activation, expiry) changes: re-evaluate access.
    KeyAttributeBoundary { server: String },
    /// A key's rotation policy or expiry falls due (rotate, near-expiry, expired).
    KeyLifecycle,
    /// A restored database finishes restoring and opens.
    RestoreComplete { server: String, database: String },
    /// A vault or region outage starts failing over or ends: re-evaluate access.
    OutageBoundary,
    /// The grace period of an automatic failover group has passed.
    FailoverGroupGraceExpired { group: String },
    /// A Synapse workspace finishes an activation or a key switch.
    SynapseKeyChange { workspace: String },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduledEvent {
    pub at: Timestamp,
    /// Tie-breaker: events at the same instant run in the order they were scheduled.
    pub seq: u64,
    pub event: SimEvent,
}

/// The queue, kept sorted by (time, sequence).
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct Schedule {
    pub events: Vec<ScheduledEvent>,
    pub next_seq: u64,
}

impl Schedule {
    pub fn push(&mut self, at: Timestamp, event: SimEvent) {
        let seq = self.next_seq;
        self.next_seq += 1;
        let pos = self.events.partition_point(|e| (e.at, e.seq) <= (at, seq));
        self.events.insert(pos, ScheduledEvent { at, seq, event });
    }

    /// Schedules `event` unless the same event is already due at or before `at`.
    pub fn push_unique(&mut self, at: Timestamp, event: SimEvent) {
        if self.events.iter().any(|e| e.event == event && e.at <= at) {
            return;
        }
        self.push(at, event);
    }

    pub fn contains(&self, event: &SimEvent) -> bool {
        self.events.iter().any(|e| &e.event == event)
    }

    /// Takes the earliest event due at or before `until`.
    pub fn pop_due(&mut self, until: Timestamp) -> Option<ScheduledEvent> {
        if self.events.first().is_some_and(|e| e.at <= until) {
            Some(self.events.remove(0))
        } else {
            None
        }
    }

    pub fn remove_where(&mut self, pred: impl Fn(&SimEvent) -> bool) {
        self.events.retain(|e| !pred(&e.event));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_pop_in_time_then_insertion_order() {
        let mut s = Schedule::default();
        s.push(Timestamp(20), SimEvent::AutoHeal { server: "b".into() });
        s.push(Timestamp(10), SimEvent::AutoHeal { server: "a".into() });
        s.push(Timestamp(20), SimEvent::AutoHeal { server: "c".into() });
        let order: Vec<String> = std::iter::from_fn(|| s.pop_due(Timestamp(100)))
            .map(|e| match e.event {
                SimEvent::AutoHeal { server } => server,
                _ => String::new(),
            })
            .collect();
        assert_eq!(order, ["a", "b", "c"]);
    }
}
