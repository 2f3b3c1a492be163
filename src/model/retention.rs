//! Backup retention maths: pure rules over a database's settings and history (what the
//! point-in-time window and long-term retention keep, and the history they need). The
//! operations layer, the views and file loading all use these; nothing here reads the
//! clock (the caller passes `now`).

use super::*;
use crate::sim::{Duration, Timestamp};

/// A retention (`P4W`, `P30D`, `P12M`, `P10Y`; months as 30 days, years as 365): an ISO
/// 8601 duration ([`crate::sim::parse_iso_duration`]) of 1 day to 10 years.
pub fn parse_retention(text: &str) -> Option<Duration> {
    crate::sim::parse_iso_duration(text)
        .filter(|d| (Duration::days(1)..=Duration::days(3650)).contains(d))
}

impl Database {
    /// The earliest point-in-time restore point: creation, or the retention window's start.
    pub fn earliest_restore_point(&self, now: Timestamp) -> Timestamp {
        let window = Duration::days(self.backup_policy.retention_days.clamp(1, 35) as i64);
        // A revalidation after the auto-heal window restarts the history (`pitr_earliest`).
        let start = self
            .settings
            .pitr_earliest
            .unwrap_or(self.created)
            .max(self.created)
            .max(self.history_start.unwrap_or(self.created));
        start.max(now - window)
    }

    /// The last full backup at or before `t` (the first one is taken right after creation).
    pub fn full_backup_before(&self, t: Timestamp) -> Timestamp {
        if t <= self.created {
            return self.created;
        }
        let weeks = (t - self.created).0 / FULL_BACKUP_EVERY.0;
        self.created + Duration(weeks * FULL_BACKUP_EVERY.0)
    }

    /// The longest any long-term retention backup of the database is kept (`ltr-policy`).
    pub fn ltr_retention(&self) -> Option<Duration> {
        let s = &self.settings;
        [
            &s.ltr_weekly_retention,
            &s.ltr_monthly_retention,
            &s.ltr_yearly_retention,
        ]
        .into_iter()
        .filter_map(|r| r.as_deref().and_then(parse_retention))
        .max()
    }

    /// The oldest instant any retained backup of the database still covers: the full backup before the
    /// earliest point-in-time restore point, or an older weekly full kept for long-term retention.
    pub fn history_needed_from(&self, now: Timestamp) -> Timestamp {
        let pitr = self.full_backup_before(self.earliest_restore_point(now));
        match self.ltr_retention() {
            Some(keep) => self.full_backup_before(now - keep).min(pitr),
            None => pitr,
        }
    }

    /// Drops revisions and protector intervals older than anything a retained backup needs,
    /// keeping the one in force at that instant.
    pub fn prune_history(&mut self, now: Timestamp) {
        let from = self.history_needed_from(now);
        let keep_rev = self
            .content
            .partition_point(|r| r.at <= from)
            .saturating_sub(1);
        let keep_int = self
            .protector_history
            .partition_point(|i| i.from <= from)
            .saturating_sub(1);
        if keep_rev > 0 || keep_int > 0 {
            // Restores can no longer reach before `from`, whatever retention is set later.
            self.history_start = Some(self.history_start.map_or(from, |h| h.max(from)));
        }
        self.content.drain(..keep_rev);
        self.protector_history.drain(..keep_int);
    }

    /// How long the weekly full taken at `t` is kept: the longest of the weekly retention,
    /// the monthly one (for the first full of its month) and the yearly one (for the full of
    /// the policy's week of the year). `None`: not kept.
    pub fn ltr_kept_for(&self, t: Timestamp) -> Option<Duration> {
        let s = &self.settings;
        let parse = |r: &Option<String>| r.as_deref().and_then(parse_retention);
        let date = ::time::OffsetDateTime::from_unix_timestamp(t.0).ok()?;
        let weekly = parse(&s.ltr_weekly_retention);
        let monthly = parse(&s.ltr_monthly_retention).filter(|_| date.day() <= 7);
        let yearly = parse(&s.ltr_yearly_retention)
            .filter(|_| s.ltr_week_of_year == Some(date.iso_week() as u32));
        [weekly, monthly, yearly].into_iter().flatten().max()
    }

    /// The protector interval in force at `t`.
    pub fn interval_at(&self, t: Timestamp) -> Option<&ProtectorInterval> {
        let i = self.protector_history.partition_point(|i| i.from <= t);
        i.checked_sub(1).and_then(|i| self.protector_history.get(i))
    }

    /// The intervals a restore to `t` needs: those overlapping [full backup before `t`, `t`].
    pub fn intervals_needed(&self, t: Timestamp) -> Vec<&ProtectorInterval> {
        let full = self.full_backup_before(t);
        let first = self
            .protector_history
            .partition_point(|i| i.from <= full)
            .saturating_sub(1);
        self.protector_history[first..]
            .iter()
            .take_while(|i| i.from <= t)
            .collect()
    }

    /// When the Unavailable episode `t` falls in began (Resource Health: the database was
    /// Inaccessible, or its region down): no backup is taken then.
    fn unavailable_since(&self, t: Timestamp) -> Option<Timestamp> {
        let i = self.health_history.partition_point(|e| e.time <= t);
        let e = self.health_history.get(i.checked_sub(1)?)?;
        (e.health == super::ResourceHealth::Unavailable).then_some(e.time)
    }

    /// The newest `limit` backups taken up to `now` (newest first), with their protectors.
    /// None while the database was Unavailable: an Inaccessible database (or one whose
    /// region is down) writes no log and takes no backup.
    pub fn recent_backups(&self, now: Timestamp, limit: usize) -> Vec<BackupEntry> {
        self.recent_backups_outside(now, limit, &[])
    }

    /// [`Database::recent_backups`], with none either in `gaps` (`[from, until)`: times its
    /// region was down, when the service took no backup of it).
    pub fn recent_backups_outside(
        &self,
        now: Timestamp,
        limit: usize,
        gaps: &[(Timestamp, Timestamp)],
    ) -> Vec<BackupEntry> {
        let mut out = Vec::new();
        let full_every = FULL_BACKUP_EVERY.0;
        let diff_every =
            Duration::hours(self.backup_policy.diff_backup_hours.clamp(12, 24) as i64).0;
        let log_every = LOG_BACKUP_EVERY.0;
        let since = (now - self.created).0;
        if since < 0 {
            return out;
        }
        // Walk back over log instants; each is a full, differential or log backup.
        let mut k = since / log_every;
        while out.len() < limit && k >= 0 {
            let offset = k * log_every;
            let time = self.created + Duration(offset);
            let gap = gaps
                .iter()
                .find(|(from, until)| *from <= time && time < *until)
                .map(|(from, _)| *from);
            if let Some(since) = self.unavailable_since(time).or(gap) {
                // On to the last instant before the episode began.
                k = ((since - self.created).0 - 1).div_euclid(log_every);
                continue;
            }
            let kind = if offset % full_every == 0 {
                BackupKind::Full
            } else if (offset % full_every) % diff_every == 0 {
                BackupKind::Differential
            } else {
                BackupKind::Log
            };
            out.push(BackupEntry {
                time,
                kind,
                protector: self.interval_at(time).and_then(|i| i.protector.clone()),
            });
            k -= 1;
        }
        out
    }

    /// The latest geo-replicated backup point: the last log backup an hour or more ago.
    pub fn geo_backup_point(&self, now: Timestamp) -> Timestamp {
        let t = (now - GEO_BACKUP_LAG).max(self.created);
        let logs = (t - self.created).0 / LOG_BACKUP_EVERY.0;
        self.created + Duration(logs * LOG_BACKUP_EVERY.0)
    }

    /// The weekly full backups kept for long-term retention, newest first.
    pub fn ltr_backups(&self, now: Timestamp) -> Vec<Timestamp> {
        self.ltr_backups_until(now, now)
    }

    /// The weekly fulls taken up to `last` (the database's deletion, or now) that long-term
    /// retention still keeps at `now`, newest first.
    pub fn ltr_backups_until(&self, last: Timestamp, now: Timestamp) -> Vec<Timestamp> {
        let Some(longest) = self.ltr_retention() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut t = self.full_backup_before(last.min(now));
        // Only fulls taken while a policy was in force, and whose history is still kept.
        let first = self
            .created
            .max(self.settings.ltr_since.unwrap_or(self.created))
            .max(self.history_start.unwrap_or(self.created));
        // Ten years of weekly fulls at the most.
        while t >= first && t + longest >= now && out.len() < 600 {
            if self.ltr_kept_for(t).is_some_and(|keep| t + keep >= now) {
                out.push(t);
            }
            t = t - FULL_BACKUP_EVERY;
        }
        out
    }

    /// Which keys the backups of the database still need (URIs of Key Vault keys, oldest
    /// first).
    pub fn keys_needed_by_backups(&self, now: Timestamp) -> Vec<String> {
        let from = self.history_needed_from(now);
        let first = self
            .protector_history
            .partition_point(|i| i.from <= from)
            .saturating_sub(1);
        let mut out: Vec<String> = Vec::new();
        for i in &self.protector_history[first..] {
            if let Some(uri) = i.protector.as_ref().and_then(|p| p.uri.clone())
                && !out.iter().any(|u| u.eq_ignore_ascii_case(&uri))
            {
                out.push(uri);
            }
        }
        out
    }

    /// Is the DEK wrapped as the last protector interval records?
    fn last_interval_matches(&self) -> bool {
        self.protector_history
            .last()
            .is_some_and(|last| match (&last.protector, &self.dek) {
                (None, None) => true,
                (Some(a), Some(w)) => {
                    a.server_key_name == w.server_key_name
                        && a.dek_epoch == self.dek_epoch
                        // OAEP is randomised: two wraps of a DEK differ from their first bytes
                        // on, so a prefix tells a re-wrap without reading every byte of 50,000.
                        && a.wrapped.len() == w.wrapped.len()
                        && a.wrapped.iter().take(16).eq(w.wrapped.iter().take(16))
                }
                _ => false,
            })
    }
}

/// One backup of the derived chain ([`Database::recent_backups`]).
#[derive(Clone, Debug, PartialEq)]
pub struct BackupEntry {
    pub time: Timestamp,
    pub kind: BackupKind,
    /// What it was encrypted under (`None`: TDE was off).
    pub protector: Option<BackupProtector>,
}

impl DeletedDatabase {
    /// Is the dropped database still worth keeping: within its point-in-time retention, or
    /// with long-term retention backups still kept?
    pub fn still_restorable(&self, now: Timestamp) -> bool {
        self.database.earliest_restore_point(now) <= self.deleted_at
            || !self
                .database
                .ltr_backups_until(self.deleted_at, now)
                .is_empty()
    }
}

impl Workspace {
    /// Records a new protector interval for every database (of the servers in `only`; every
    /// server for `None`) whose DEK is now wrapped otherwise than in its last interval (a
    /// protector change, a rotation, TDE turned on or off). The operations layer runs it after
    /// every operation and event; opening a file runs it too (files from before backups were
    /// modelled get their first interval).
    pub fn record_protector_intervals_of(
        &mut self,
        only: Option<&std::collections::HashSet<String>>,
    ) {
        let now = self.now();
        for s in &mut self.servers {
            if only.is_some_and(|o| !o.contains(&s.name)) {
                continue;
            }
            // Read first: a server none of whose databases changed is not copied.
            let changed: Vec<usize> = s
                .databases
                .iter()
                .enumerate()
                .filter(|(_, d)| !d.last_interval_matches())
                .map(|(i, _)| i)
                .collect();
            if changed.is_empty() {
                continue;
            }
            let s = std::sync::Arc::make_mut(s);
            for i in changed {
                let d = std::sync::Arc::make_mut(&mut s.databases[i]);
                let keys = &s.keys;
                let current = d.dek.as_ref().map(|w| {
                    let key = keys
                        .iter()
                        .find(|k| k.name.eq_ignore_ascii_case(&w.server_key_name));
                    BackupProtector {
                        server_key_name: w.server_key_name.clone(),
                        key_type: key
                            .map(|k| k.key_type)
                            .unwrap_or(ServerKeyType::ServiceManaged),
                        uri: key.and_then(|k| k.uri.clone()),
                        thumbprint: w.thumbprint.clone(),
                        dek_epoch: d.dek_epoch,
                        wrapped: w.wrapped.clone(),
                    }
                });
                let from = if d.protector_history.is_empty() {
                    d.settings.pitr_earliest.unwrap_or(d.created).max(d.created)
                } else {
                    now
                };
                d.protector_history.push(ProtectorInterval {
                    from,
                    protector: current,
                });
                d.prune_history(now);
            }
        }
    }
}
