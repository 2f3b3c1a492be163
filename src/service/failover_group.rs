//! Failover groups: a set of databases of one server replicated to a partner server in
//! another region, behind a read-write and a read-only listener, failed over together —
//! by hand (planned or forced) or automatically after a regional outage longer than the
//! grace period.

use super::georeplication::{CreateReplica, create_replica, failover_database};
use super::lookup::{live_database, server};
use super::{ServiceError, ServiceResult, ids, notify, transact};
use crate::model::*;
use crate::sim::{Duration, SimEvent};

/// `az sql failover-group create`.
#[derive(Clone, Debug)]
pub struct CreateFailoverGroup {
    pub name: String,
    pub server: String,
    pub partner_server: String,
    pub policy: FailoverPolicy,
    pub grace_period_hours: Option<i64>,
    pub databases: Vec<String>,
}

fn not_found(name: &str) -> ServiceError {
    ServiceError::not_found(
        "ResourceNotFound",
        format!(
            "The Resource 'Microsoft.Sql/servers/failoverGroups/{name}' under resource group was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
        ),
    )
}

fn check_grace(hours: i64) -> ServiceResult<u32> {
    if hours < 1 {
        return Err(ServiceError::bad_request(
            "FailoverGroupCreateOrUpdateRequestLessThanMinimumGracePeriodValues",
            "Grace period value for the failover group must be greater than or equal to the '60' minutes minimum grace period",
        ));
    }
    u32::try_from(hours)
        .ok()
        .filter(|h| *h <= 24 * 365)
        .ok_or_else(|| {
            ServiceError::bad_request(
                "InvalidFailoverGroupGracePeriod",
                format!("A grace period of {hours} hours is not valid (1 hour to 1 year)."),
            )
        })
}

/// Adds `db` of the group's primary to it: its existing link to the partner, or a new
/// geo-secondary (with every key-material rule).
fn add_database(ws: &mut Workspace, g: &FailoverGroup, db: &str) -> ServiceResult<String> {
    let d = live_database(ws, &g.primary_server, db)?.name.clone();
    if let Some(other) = ws.continuity.group_of(&g.primary_server, &d)
        && !other.name.eq_ignore_ascii_case(&g.name)
    {
        return Err(ServiceError::bad_request(
            "DatabaseAlreadyInFailoverGroup",
            format!(
                "Database '{d}' is already in failover group '{}'.",
                other.name
            ),
        ));
    }
    let link = ws
        .continuity
        .links
        .iter()
        .find(|l| {
            l.is_primary(&g.primary_server, &d)
                && l.secondary_server.eq_ignore_ascii_case(&g.secondary_server)
        })
        .cloned();
    if let Some(l) = &link
        && !l.secondary_database.eq_ignore_ascii_case(&d)
    {
        return Err(ServiceError::bad_request(
            "FailoverGroupDatabaseNameMismatch",
            format!(
                "Database '{d}' is replicated to '{}' on server '{}': a failover group needs the same database name on both servers.",
                l.secondary_database, l.secondary_server
            ),
        ));
    }
    if link.is_none() {
        create_replica(
            ws,
            &CreateReplica {
                server: g.primary_server.clone(),
                database: d.clone(),
                partner_server: g.secondary_server.clone(),
                partner_database: None,
            },
        )?;
    }
    for s in [&g.primary_server, &g.secondary_server] {
        if let Some(x) = ws.server_mut(s).and_then(|s| s.database_mut(&d)) {
            x.settings.failover_group = Some(g.name.clone());
        }
    }
    Ok(d)
}

/// `az sql failover-group create`.
pub fn create_failover_group(
    ws: &mut Workspace,
    req: &CreateFailoverGroup,
) -> ServiceResult<FailoverGroup> {
    transact(ws, |ws| {
        super::check_name("failover group", &req.name, 1, 63, |c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'
        })?;
        let s = server(ws, &req.server)?;
        let p = server(ws, &req.partner_server)?;
        if ws.continuity.failover_group(&req.name).is_some() {
            return Err(ServiceError::conflict(
                "FailoverGroupAlreadyExists",
                format!("The failover group '{}' already exists.", req.name),
            ));
        }
        if s.name.eq_ignore_ascii_case(&p.name) || s.location.eq_ignore_ascii_case(&p.location) {
            return Err(ServiceError::bad_request(
                "InvalidFailoverGroupRegion",
                "Servers specified in a Failover Group need to reside in different regions to provide isolation.",
            ));
        }
        let grace = check_grace(req.grace_period_hours.unwrap_or(1))?;
        let mut g = FailoverGroup {
            name: req.name.clone(),
            resource_group: s.resource_group.clone(),
            primary_server: s.name.clone(),
            secondary_server: p.name.clone(),
            databases: Vec::new(),
            policy: req.policy,
            grace_period_hours: grace,
            created: ws.now(),
            last_failover: None,
        };
        for db in &req.databases {
            let name = add_database(ws, &g, db)?;
            if !g.contains(&name) {
                g.databases.push(name);
            }
        }
        let resource = ids::server(server(ws, &req.server)?);
        ws.continuity.failover_groups.push(g.clone());
        schedule_if_region_down(ws, &g);
        super::log_user_activity(
            ws,
            ws.now(),
            "Create or update failover group",
            ActivityStatus::Succeeded,
            resource,
            format!(
                "Failover group '{}' created: {} -> {} ({}).",
                g.name,
                g.primary_server,
                g.secondary_server,
                g.databases.join(", ")
            ),
        );
        Ok(g)
    })
}

/// The group `name` as seen from `server` (which must be one of its two servers).
pub fn show_failover_group(
    ws: &Workspace,
    name: &str,
    server_name: &str,
) -> ServiceResult<FailoverGroup> {
    server(ws, server_name)?;
    ws.continuity
        .failover_group(name)
        .filter(|g| g.has_server(server_name))
        .cloned()
        .ok_or_else(|| not_found(name))
}

fn on_primary(ws: &Workspace, name: &str, server_name: &str) -> ServiceResult<FailoverGroup> {
    let g = show_failover_group(ws, name, server_name)?;
    super::lookup::require_server_serving(ws, server_name)?;
    if !g.primary_server.eq_ignore_ascii_case(server_name) {
        return Err(ServiceError::bad_request(
            "FailoverGroupUpdateOrDeleteRequestOnSecondary",
            "Modifications to the failover group are not allowed on a secondary server. Execute the request on the primary server.",
        ));
    }
    Ok(g)
}

/// `az sql failover-group update`.
#[derive(Clone, Debug, Default)]
pub struct UpdateFailoverGroup {
    pub add: Vec<String>,
    pub remove: Vec<String>,
    pub policy: Option<FailoverPolicy>,
    pub grace_period_hours: Option<i64>,
}

pub fn update_failover_group(
    ws: &mut Workspace,
    name: &str,
    server_name: &str,
    req: &UpdateFailoverGroup,
) -> ServiceResult<FailoverGroup> {
    transact(ws, |ws| {
        let mut g = on_primary(ws, name, server_name)?;
        if let Some(h) = req.grace_period_hours {
            g.grace_period_hours = check_grace(h)?;
        }
        if let Some(p) = req.policy {
            g.policy = p;
        }
        for db in &req.remove {
            if !g.contains(db) {
                return Err(ServiceError::bad_request(
                    "DatabaseNotInFailoverGroup",
                    format!("Database '{db}' is not in failover group '{name}'."),
                ));
            }
            g.databases.retain(|d| !d.eq_ignore_ascii_case(db));
            for s in [&g.primary_server, &g.secondary_server] {
                if let Some(x) = ws.server_mut(s).and_then(|s| s.database_mut(db)) {
                    x.settings.failover_group = None;
                }
            }
        }
        for db in &req.add {
            let n = add_database(ws, &g, db)?;
            if !g.contains(&n) {
                g.databases.push(n);
            }
        }
        if let Some(slot) = ws
            .continuity
            .failover_groups
            .iter_mut()
            .find(|x| x.name.eq_ignore_ascii_case(name))
        {
            *slot = g.clone();
        }
        schedule_if_region_down(ws, &g);
        Ok(g)
    })
}

/// `az sql failover-group delete` (on the primary). The geo-replication links stay.
pub fn delete_failover_group(
    ws: &mut Workspace,
    name: &str,
    server_name: &str,
) -> ServiceResult<()> {
    transact(ws, |ws| {
        let g = on_primary(ws, name, server_name)?;
        for db in &g.databases {
            for s in [&g.primary_server, &g.secondary_server] {
                if let Some(x) = ws.server_mut(s).and_then(|s| s.database_mut(db)) {
                    x.settings.failover_group = None;
                }
            }
        }
        ws.continuity
            .failover_groups
            .retain(|x| !x.name.eq_ignore_ascii_case(name));
        Ok(())
    })
}

/// What a group failover did, per database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupFailoverReport {
    pub group: String,
    pub new_primary: String,
    pub lost_writes: usize,
    pub databases: Vec<String>,
    /// When the last database had opened (the vault's limits may spread a large failover).
    pub completes_at: Timestamp,
    /// The failover's timeline, as the group keeps it (`FailoverGroup::last_failover`).
    pub run: FailoverRun,
}

impl GroupFailoverReport {
    /// The one notification of a group failover, with its count and figures.
    pub fn notification_text(&self) -> String {
        let lost = if self.run.forced {
            format!(" {} write(s) lost.", self.lost_writes)
        } else {
            String::new()
        };
        format!("Failover of {}: {}.{lost}", self.group, self.run.summary())
    }
}

/// `az sql failover-group set-primary` (run against the secondary server).
pub fn set_group_primary(
    ws: &mut Workspace,
    name: &str,
    server_name: &str,
    allow_data_loss: bool,
) -> ServiceResult<GroupFailoverReport> {
    let from = ws.activity_log.len();
    let r = transact(ws, |ws| {
        failover_group(ws, name, server_name, allow_data_loss)
    })?;
    // The person's failover: its records are theirs (an automatic one stays the service's).
    super::mark_user_activity_since(ws, from);
    Ok(r)
}

/// Why `az sql failover-group set-primary --name NAME --server SERVER` would be refused now,
/// before any key is touched: `server_name` is the group's primary, not every database has
/// its geo-replication link, or (planned) a database cannot be reached on the primary.
/// `None` when it can be tried (the new primary's vault may still refuse keys). What the
/// portal's greyed failover buttons say, and what set-primary answers.
pub fn failover_refusal(
    ws: &Workspace,
    name: &str,
    server_name: &str,
    allow_data_loss: bool,
) -> Option<ServiceError> {
    if let Err(e) = server(ws, server_name) {
        return Some(e);
    }
    match ws
        .continuity
        .failover_group(name)
        .filter(|g| g.has_server(server_name))
    {
        Some(g) => refusal(ws, g, server_name, allow_data_loss),
        None => Some(not_found(name)),
    }
}

fn refusal(
    ws: &Workspace,
    g: &FailoverGroup,
    server_name: &str,
    allow_data_loss: bool,
) -> Option<ServiceError> {
    if g.primary_server.eq_ignore_ascii_case(server_name) {
        return Some(ServiceError::bad_request(
            "FailoverGroupNotSecondary",
            "Failover cannot be initiated from the primary server in a Failover Group.",
        ));
    }
    // One pass over the links (a group may hold thousands of databases; the portal asks
    // this every frame).
    let linked: std::collections::HashSet<String> = ws
        .continuity
        .links
        .iter()
        .filter(|l| l.secondary_server.eq_ignore_ascii_case(&g.secondary_server))
        .map(|l| l.secondary_database.to_ascii_lowercase())
        .collect();
    if g.databases
        .iter()
        .any(|db| !linked.contains(&db.to_ascii_lowercase()))
    {
        return Some(ServiceError::bad_request(
            "FailoverGroupReplicationLinkMissing",
            format!(
                "Failover group '{}' cannot fail over: not every database has a geo-replication link from '{}' to '{}'.",
                g.name, g.primary_server, g.secondary_server
            ),
        ));
    }
    if allow_data_loss {
        return None;
    }
    g.databases
        .iter()
        .find_map(|db| super::georeplication::primary_unreachable(ws, &g.primary_server, db))
}

fn failover_group(
    ws: &mut Workspace,
    name: &str,
    server_name: &str,
    allow_data_loss: bool,
) -> ServiceResult<GroupFailoverReport> {
    let g = show_failover_group(ws, name, server_name)?;
    if let Some(e) = refusal(ws, &g, server_name, allow_data_loss) {
        return Err(e);
    }
    let members = g.databases.clone();
    let started = ws.now();
    let journal_before = ws.journal.len();
    let opened = open_new_primaries(ws, &g.secondary_server, &members)?;
    let throttled = {
        let j = ws.journal.lock();
        j.requests
            .iter()
            .skip(journal_before)
            .filter(|r| r.status == 429)
            .count()
    };
    let run = FailoverRun::from_instants(
        &g.primary_server,
        &g.secondary_server,
        allow_data_loss,
        started,
        opened,
        u32::try_from(throttled).unwrap_or(u32::MAX),
    );
    let completes_at = run.completed();
    let mut lost = 0;
    for db in &members {
        lost += failover_database(ws, &g.secondary_server, db, allow_data_loss, false, false)?
            .lost_writes;
    }
    if let Some(slot) = ws
        .continuity
        .failover_groups
        .iter_mut()
        .find(|x| x.name.eq_ignore_ascii_case(name))
    {
        std::mem::swap(&mut slot.primary_server, &mut slot.secondary_server);
        slot.last_failover = Some(run.clone());
    }
    // The group's own record (an empty group's failover has no database records).
    let resource = format!(
        "{}/failoverGroups/{}",
        ids::server(server(ws, &g.secondary_server)?),
        g.name
    );
    let kind = if allow_data_loss { "Forced" } else { "Planned" };
    super::log_activity(
        ws,
        completes_at,
        "Fail over failover group",
        ActivityStatus::Succeeded,
        resource,
        format!(
            "{kind} failover of failover group '{}': {}.",
            g.name,
            run.summary()
        ),
    );
    Ok(GroupFailoverReport {
        group: g.name.clone(),
        new_primary: g.secondary_server.clone(),
        lost_writes: lost,
        databases: g.databases.clone(),
        completes_at,
        run,
    })
}

/// Opens every database of a failover on its new primary: a real unwrap of each DEK
/// through that server's vault, the requests waiting for room in the vault's windows, the
/// RSA work on every core. The first failure stops the failover (nothing changes).
fn open_new_primaries(
    ws: &mut Workspace,
    server_name: &str,
    dbs: &[String],
) -> ServiceResult<Vec<Timestamp>> {
    let now = ws.now();
    let (opened, _) = super::requests::long_running(ws, |ws| {
        let Some(s) = ws.server(server_name) else {
            return Vec::new();
        };
        let targets: Vec<&Database> = dbs
            .iter()
            .filter_map(|n| s.database(n))
            .filter(|d| d.dek.is_some())
            .collect();
        let deks = super::key_access::server_unwrap_deks(ws, server_name, &targets);
        targets
            .iter()
            .zip(deks)
            .map(|(d, (at, dek))| (d.name.clone(), at, dek.map(|_| ())))
            .collect()
    });
    let resource = ids::server(server(ws, server_name)?);
    let mut instants = Vec::with_capacity(opened.len());
    for (db, at, outcome) in opened {
        instants.push(at.max(now));
        if let Err(f) = outcome {
            return Err(super::lookup::tde_error(ws, server_name, &f));
        }
        super::log_activity(
            ws,
            at.max(now),
            "OpenDatabaseAfterFailover",
            ActivityStatus::Succeeded,
            format!("{resource}/databases/{db}"),
            format!(
                "Database {db} opened on server {server_name}: its DEK was unwrapped through the server's key vault."
            ),
        );
    }
    // Databases without a DEK (TDE off) open at once.
    while instants.len() < dbs.len() {
        instants.push(now);
    }
    Ok(instants)
}

/// A regional outage began: each automatic group whose primary is in the region fails over
/// when the grace period has passed, if the outage still lasts then.
pub(crate) fn schedule_automatic_failovers(ws: &mut Workspace, region: &str) {
    let now = ws.now();
    let due: Vec<(String, u32)> = ws
        .continuity
        .failover_groups
        .iter()
        .filter(|g| g.policy == FailoverPolicy::Automatic)
        .filter(|g| {
            ws.server(&g.primary_server)
                .is_some_and(|s| s.location.eq_ignore_ascii_case(region))
        })
        .map(|g| (g.name.clone(), g.grace_period_hours))
        .collect();
    for (group, hours) in due {
        ws.schedule.push(
            now + Duration::hours(hours as i64),
            SimEvent::FailoverGroupGraceExpired { group },
        );
    }
}

/// The grace period of an automatic group has passed: fail over (with possible data loss)
/// if its primary's region is still out.
pub(crate) fn grace_expired(ws: &mut Workspace, group: &str) {
    let now = ws.now();
    let Some(g) = ws.continuity.failover_group(group).cloned() else {
        return;
    };
    if g.policy != FailoverPolicy::Automatic {
        return;
    }
    // The primary's region must have been out, without a break, for the whole grace period
    // (an earlier, shorter outage's timer does not count).
    let grace = Duration::hours(g.grace_period_hours as i64);
    let outage = ws
        .server(&g.primary_server)
        .and_then(|s| ws.continuity.region_outage(&s.location, now))
        .cloned();
    let Some(outage) = outage else {
        return;
    };
    if now - outage.from < grace {
        // The grace period was lengthened since this was scheduled: try again at its end.
        let at = outage.from + grace;
        if at < outage.until {
            ws.schedule.push_unique(
                at,
                SimEvent::FailoverGroupGraceExpired {
                    group: group.to_string(),
                },
            );
        }
        return;
    }
    let outcome = transact(ws, |ws| {
        failover_group(ws, group, &g.secondary_server, true)
    });
    match outcome {
        Ok(r) => notify(
            ws,
            NotificationLevel::Warning,
            "Automatic failover",
            format!(
                "Failover group '{group}' failed over to '{}' after the grace period ({} h): {}. {} write(s) lost.",
                r.new_primary,
                g.grace_period_hours,
                r.run.summary(),
                r.lost_writes
            ),
        ),
        Err(e) => {
            notify(
                ws,
                NotificationLevel::Error,
                "Automatic failover failed",
                format!(
                    "Failover group '{group}' could not fail over: {e} The service tries again in 10 minutes while the outage lasts."
                ),
            );
            let retry = now + Duration::minutes(10);
            if retry < outage.until {
                ws.schedule.push_unique(
                    retry,
                    SimEvent::FailoverGroupGraceExpired {
                        group: group.to_string(),
                    },
                );
            }
        }
    }
}

/// A group created, or made automatic, or given another grace period while its primary's
/// region is already out: its automatic failover is due at the outage's start plus the
/// grace period (or at once).
fn schedule_if_region_down(ws: &mut Workspace, g: &FailoverGroup) {
    if g.policy != FailoverPolicy::Automatic {
        return;
    }
    let now = ws.now();
    let Some(o) = ws
        .server(&g.primary_server)
        .and_then(|s| ws.continuity.region_outage(&s.location, now))
        .cloned()
    else {
        return;
    };
    let at = (o.from + Duration::hours(g.grace_period_hours as i64)).max(now);
    if at < o.until {
        ws.schedule.push_unique(
            at,
            SimEvent::FailoverGroupGraceExpired {
                group: g.name.clone(),
            },
        );
    }
}
