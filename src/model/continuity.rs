//! Business continuity: a database's content over time, the protector its backups were
//! written under, dropped databases kept for restore, geo-replication links, failover groups
//! and outages of vaults and regions.
//!
//! Backups are not stored one record per backup: the schedule (full weekly, differential
//! every 12 or 24 hours, log every 10 minutes) is derived from the database's creation time,
//! and what each backup needs is derived from the database's protector intervals.

use crate::crypto::EncryptedPage;
use crate::sim::{Duration, Timestamp};
use serde::{Deserialize, Serialize};

/// The content a user wrote (`sim write`), sealed the way the database holds it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SealedText {
    /// AES-256-GCM under the database's DEK of epoch `dek_epoch`.
    Encrypted { dek_epoch: u32, page: EncryptedPage },
    /// TDE off: the page in the clear.
    Plain(#[serde(with = "crate::crypto::base64_bytes")] Vec<u8>),
}

/// One version of a database's content, from `at` until the next one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentRevision {
    /// When the write became visible on this database (on a geo-secondary: the primary's
    /// write time plus the replication lag).
    pub at: Timestamp,
    pub sealed: SealedText,
}

/// What protected a database's DEK from `from` until the next interval: the backups taken
/// in that time carry this wrapped DEK, so restoring them needs this key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProtectorInterval {
    pub from: Timestamp,
    /// `None`: TDE was off (backups in the clear).
    pub protector: Option<BackupProtector>,
}

/// The key a backup was encrypted under, and the DEK as wrapped by it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupProtector {
    pub server_key_name: String,
    pub key_type: super::ServerKeyType,
    /// The versioned Key Vault key id (`None` for the service-managed key).
    pub uri: Option<String>,
    pub thumbprint: String,
    /// Which DEK this is (a new one each time TDE is turned on).
    pub dek_epoch: u32,
    #[serde(with = "crate::crypto::base64_bytes")]
    pub wrapped: Vec<u8>,
}

impl BackupProtector {
    /// What to show for it: the key id, or "Service-managed key".
    pub fn label(&self) -> String {
        self.uri
            .clone()
            .unwrap_or_else(|| "Service-managed key".to_string())
    }
}

/// Short-term retention (`az sql db str-policy set`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupPolicy {
    /// Point-in-time restore retention, 1 to 35 days.
    pub retention_days: u32,
    /// Differential backups every 12 or 24 hours.
    pub diff_backup_hours: u32,
}

impl BackupPolicy {
    pub fn is_default(&self) -> bool {
        *self == BackupPolicy::default()
    }
}

impl Default for BackupPolicy {
    fn default() -> Self {
        BackupPolicy {
            retention_days: 7,
            diff_backup_hours: 12,
        }
    }
}

/// The three kinds of automatic backup.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BackupKind {
    Full,
    Differential,
    Log,
}

impl BackupKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BackupKind::Full => "Full",
            BackupKind::Differential => "Differential",
            BackupKind::Log => "Log",
        }
    }
}

/// How often each kind of backup is taken.
pub const FULL_BACKUP_EVERY: Duration = Duration::days(7);
pub const LOG_BACKUP_EVERY: Duration = Duration::minutes(10);
/// Geo-redundant backups reach the paired region up to this late.
pub const GEO_BACKUP_LAG: Duration = Duration::hours(1);
/// Writes reach a geo-secondary this late (asynchronous replication).
pub const REPLICATION_LAG: Duration = Duration::seconds(5);
/// At most this many geo-secondaries per database.
pub const MAX_GEO_SECONDARIES: usize = 4;

/// A database that was dropped, kept (with its history) for restore while its retention runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeletedDatabase {
    pub deleted_at: Timestamp,
    pub database: super::Database,
}

/// State of a geo-replication link.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LinkState {
    Seeding,
    CatchUp,
    Suspended,
}

impl LinkState {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkState::Seeding => "SEEDING",
            LinkState::CatchUp => "CATCH_UP",
            LinkState::Suspended => "SUSPENDED",
        }
    }
}

/// An active geo-replication link: `primary` database -> `secondary` database.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReplicationLink {
    /// A GUID, as `az sql db replica list-links` shows it.
    pub id: String,
    pub primary_server: String,
    pub primary_database: String,
    pub secondary_server: String,
    pub secondary_database: String,
    pub created: Timestamp,
    pub state: LinkState,
}

impl ReplicationLink {
    /// Does this link end (either side) at `server`/`database`?
    pub fn touches(&self, server: &str, database: &str) -> bool {
        (self.primary_server.eq_ignore_ascii_case(server)
            && self.primary_database.eq_ignore_ascii_case(database))
            || (self.secondary_server.eq_ignore_ascii_case(server)
                && self.secondary_database.eq_ignore_ascii_case(database))
    }

    pub fn is_secondary(&self, server: &str, database: &str) -> bool {
        self.secondary_server.eq_ignore_ascii_case(server)
            && self.secondary_database.eq_ignore_ascii_case(database)
    }

    pub fn is_primary(&self, server: &str, database: &str) -> bool {
        self.primary_server.eq_ignore_ascii_case(server)
            && self.primary_database.eq_ignore_ascii_case(database)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FailoverPolicy {
    Automatic,
    Manual,
}

impl FailoverPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            FailoverPolicy::Automatic => "Automatic",
            FailoverPolicy::Manual => "Manual",
        }
    }

    pub fn parse(text: &str) -> Option<FailoverPolicy> {
        match text.trim().to_ascii_lowercase().as_str() {
            "automatic" => Some(FailoverPolicy::Automatic),
            "manual" => Some(FailoverPolicy::Manual),
            _ => None,
        }
    }
}

/// A failover group: databases of `primary_server` replicated to `secondary_server`, behind
/// the listeners `NAME.database.windows.net` and `NAME.secondary.database.windows.net`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FailoverGroup {
    pub name: String,
    pub resource_group: String,
    pub primary_server: String,
    pub secondary_server: String,
    /// Database names (the same on both servers).
    pub databases: Vec<String>,
    pub policy: FailoverPolicy,
    pub grace_period_hours: u32,
    pub created: Timestamp,
    /// The group's last failover as the service recorded it (its timeline), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_failover: Option<FailoverRun>,
}

/// One failover of a group, recorded once by the service: when it began, when each
/// database opened on the new primary (its DEK unwrapped through that server's vault),
/// and the vault's refusals on the way. Every figure shown about the failover (the blade's
/// summary, its plot, the notification) is computed from this one timeline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailoverRun {
    pub from_server: String,
    pub to_server: String,
    /// With data loss (`--allow-data-loss`, or automatic after the grace period).
    pub forced: bool,
    pub started: Timestamp,
    /// `(seconds after started, databases that opened at that second)`, in time order.
    pub opened: Vec<(u32, u32)>,
    /// The new primary's unwrap requests its vault(s) refused with 429 on the way.
    #[serde(default)]
    pub throttled: u32,
}

impl FailoverRun {
    /// Builds the timeline from each database's opening instant.
    pub fn from_instants(
        from_server: &str,
        to_server: &str,
        forced: bool,
        started: Timestamp,
        opened_at: impl IntoIterator<Item = Timestamp>,
        throttled: u32,
    ) -> FailoverRun {
        let mut secs: Vec<u32> = opened_at
            .into_iter()
            .map(|t| u32::try_from((t.0 - started.0).max(0)).unwrap_or(u32::MAX))
            .collect();
        secs.sort_unstable();
        let mut opened: Vec<(u32, u32)> = Vec::new();
        for s in secs {
            match opened.last_mut() {
                Some((at, n)) if *at == s => *n += 1,
                _ => opened.push((s, 1)),
            }
        }
        FailoverRun {
            from_server: from_server.to_string(),
            to_server: to_server.to_string(),
            forced,
            started,
            opened,
            throttled,
        }
    }

    /// How many databases the failover opened.
    pub fn databases(&self) -> u32 {
        self.opened.iter().map(|(_, n)| *n).sum()
    }

    /// How long it took, from its start until the last database had opened.
    pub fn took(&self) -> Duration {
        Duration::seconds(self.opened.last().map_or(0, |(s, _)| i64::from(*s)))
    }

    /// When the last database had opened.
    pub fn completed(&self) -> Timestamp {
        self.started + self.took()
    }

    /// Whether every database had opened by `now`.
    pub fn complete_at(&self, now: Timestamp) -> bool {
        now >= self.completed()
    }

    /// The databases open on the new primary at `at` (0 before the start).
    pub fn opened_by(&self, at: Timestamp) -> u32 {
        if at < self.started {
            return 0;
        }
        let secs = at.0 - self.started.0;
        self.opened
            .iter()
            .take_while(|(s, _)| i64::from(*s) <= secs)
            .map(|(_, n)| *n)
            .sum()
    }

    /// The timeline as a step chart: `(seconds after the start, databases open)`, from
    /// `(0, 0)`; each opening is a vertical step.
    pub fn steps(&self) -> Vec<(f64, f64)> {
        let mut out = vec![(0.0, 0.0)];
        let mut total = 0u32;
        for (s, n) in &self.opened {
            out.push((f64::from(*s), f64::from(total)));
            total += n;
            out.push((f64::from(*s), f64::from(total)));
        }
        out
    }

    /// One sentence with the figures: "1,102 databases opened on sql-contoso-us2 in 20s
    /// (09:00:00 to 09:00:20 UTC); 2,204 unwraps throttled (429)".
    pub fn summary(&self) -> String {
        let throttled = if self.throttled > 0 {
            format!(
                "; {} unwrap request(s) throttled (429) and retried",
                thousands(u64::from(self.throttled))
            )
        } else {
            String::new()
        };
        format!(
            "{} database(s) opened on {} in {} of simulated time ({} to {}){throttled}",
            thousands(u64::from(self.databases())),
            self.to_server,
            self.took().human(),
            clock_of(self.started),
            clock_of(self.completed()),
        )
    }
}

/// `1102` as `1,102`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `09:00:20` (UTC) of an instant.
pub fn clock_of(t: Timestamp) -> String {
    let s = t.0.rem_euclid(86_400);
    format!("{:02}:{:02}:{:02}", s / 3600, s % 3600 / 60, s % 60)
}

impl FailoverGroup {
    pub fn read_write_listener(&self) -> String {
        format!("{}.database.windows.net", self.name)
    }

    pub fn read_only_listener(&self) -> String {
        format!("{}.secondary.database.windows.net", self.name)
    }

    pub fn contains(&self, database: &str) -> bool {
        self.databases
            .iter()
            .any(|d| d.eq_ignore_ascii_case(database))
    }

    pub fn has_server(&self, server: &str) -> bool {
        self.primary_server.eq_ignore_ascii_case(server)
            || self.secondary_server.eq_ignore_ascii_case(server)
    }
}

/// A simulated outage of a whole Azure region.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegionOutage {
    pub region: String,
    pub from: Timestamp,
    pub until: Timestamp,
    /// When the region's vaults are serving again, read-only, from the paired region
    /// (`None`: the region has no pair, so its vaults stay unreachable).
    pub vault_failover_at: Option<Timestamp>,
}

impl RegionOutage {
    pub fn active(&self, now: Timestamp) -> bool {
        self.from <= now && now < self.until
    }
}

/// The region each region fails over to (Azure's region pairs, for the regions offered).
pub fn paired_region(region: &str) -> Option<&'static str> {
    Some(match region.to_ascii_lowercase().as_str() {
        "eastus" => "westus",
        "westus" => "eastus",
        "eastus2" => "centralus",
        "centralus" => "eastus2",
        "westus2" => "westcentralus",
        "northeurope" => "westeurope",
        "westeurope" => "northeurope",
        "uksouth" => "ukwest",
        "ukwest" => "uksouth",
        "japaneast" => "japanwest",
        "japanwest" => "japaneast",
        _ => return None,
    })
}

/// Everything a workspace holds about continuity beyond the databases themselves.
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct Continuity {
    pub links: Vec<ReplicationLink>,
    pub failover_groups: Vec<FailoverGroup>,
    pub region_outages: Vec<RegionOutage>,
}

impl Continuity {
    /// The active outage of `region`, if any.
    pub fn region_outage(&self, region: &str, now: Timestamp) -> Option<&RegionOutage> {
        self.region_outages
            .iter()
            .find(|o| o.region.eq_ignore_ascii_case(region) && o.active(now))
    }

    /// The link where `server`/`database` is the secondary.
    pub fn primary_of(&self, server: &str, database: &str) -> Option<&ReplicationLink> {
        self.links.iter().find(|l| l.is_secondary(server, database))
    }

    /// The links where `server`/`database` is the primary.
    pub fn secondaries_of<'a>(
        &'a self,
        server: &'a str,
        database: &'a str,
    ) -> impl Iterator<Item = &'a ReplicationLink> + 'a {
        self.links
            .iter()
            .filter(move |l| l.is_primary(server, database))
    }

    pub fn failover_group(&self, name: &str) -> Option<&FailoverGroup> {
        self.failover_groups
            .iter()
            .find(|g| g.name.eq_ignore_ascii_case(name))
    }

    /// The failover group `server`/`database` belongs to.
    pub fn group_of(&self, server: &str, database: &str) -> Option<&FailoverGroup> {
        self.failover_groups
            .iter()
            .find(|g| g.has_server(server) && g.contains(database))
    }
}
