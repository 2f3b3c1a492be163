//! Business-continuity commands: content (`sim write|read`), backups and restores,
//! geo-replication, failover groups, and outages of vaults and regions.
//!
//! Long-running operations (`db restore`, `replica create`, `ltr-backup restore`,
//! `geo-backup restore`) wait, as `az` does, until the service finishes: the simulated
//! clock advances to their end. With `--no-wait` they return at once.

use super::args::Args;
use super::commands::{CommandError, check_group, time_arg, usage};
use super::registry::Command;
use super::views;
use crate::model::*;
use crate::service::backup::{self, RestoreRequest, RestoreSource};
use crate::service::failover_group::{self as fg, CreateFailoverGroup, UpdateFailoverGroup};
use crate::service::georeplication::{self as geo, CreateReplica};
use crate::service::{self, ServiceError, content, ids, outage, sql};
use serde_json::{Value, json};

/// The commands of this module, as their words.
pub const COMMANDS: &[Command] = &[
    Command::new(
        "sim write",
        "Write rows to a database (encrypted pages); a text of several lines as one --line each.",
        &[
            "--server",
            "--database",
            "--name",
            "--text",
            "--line",
            "--resource-group",
        ],
        |ws, _, _, a| sim_write(ws, a),
    ),
    Command::new(
        "sim read",
        "Read a database's rows back (decrypting its pages).",
        &["--server", "--database", "--name", "--resource-group"],
        |ws, _, _, a| sim_read(ws, a),
    ),
    Command::new(
        "sim backups",
        "List a database's backups and the keys they need.",
        &[
            "--server",
            "--database",
            "--name",
            "--resource-group",
            "--limit",
        ],
        |ws, _, _, a| sim_backups(ws, a),
    ),
    Command::new(
        "sim keyvault outage",
        "Start or end an outage of a vault.",
        &["--name", "--minutes", "--resource-group"],
        |ws, _, _, a| vault_outage(ws, a),
    ),
    Command::new(
        "sim region outage",
        "Start or end an outage of a region.",
        &["--region", "--location", "--minutes"],
        |ws, _, _, a| region_outage(ws, a),
    ),
    Command::new(
        "az sql db str-policy set",
        "Update short term retention settings for a live database.",
        &[
            "--name",
            "--server",
            "--resource-group",
            "--retention-days",
            "--diffbackup-hours",
            "--no-wait",
        ],
        |ws, _, _, a| str_policy(ws, a, true),
    )
    .no_wait(),
    Command::new(
        "az sql db str-policy show",
        "Show the short term retention policy for a live database.",
        &["--name", "--server", "--resource-group"],
        |ws, _, _, a| str_policy(ws, a, false),
    ),
    Command::new(
        "az sql db restore",
        "Create a new database by restoring from a backup.",
        &[
            "--dest-name",
            "--name",
            "--server",
            "--resource-group",
            "--time",
            "--deleted-time",
            "--no-wait",
            "--elastic-pool",
            "--service-objective",
            "--edition",
            "--tier",
            "--backup-storage-redundancy",
            "--bsr",
            "--compute-model",
            "--family",
            "--capacity",
            "--assign-identity",
            "--user-assigned-identity-id",
            "--keys",
            "--encryption-protector",
            "--encryption-protector-auto-rotation",
            "--federated-client-id",
            "--zone-redundant",
        ],
        |ws, _, _, a| restore(ws, a),
    )
    .shorts(super::sql::DB_SHORTS)
    .aliases(super::sql::DB_ALIASES)
    .no_wait(),
    Command::new(
        "az sql db list-deleted",
        "Get a list of restorable dropped databases.",
        &["--server", "--resource-group"],
        |ws, _, _, a| list_deleted(ws, a),
    ),
    Command::new(
        "az sql db show-deleted",
        "Get a restorable dropped database.",
        &[
            "--restorable-dropped-database-id",
            "--server",
            "--resource-group",
            "--name",
            "--expand-keys",
            "--keys-filter",
        ],
        |ws, _, _, a| show_deleted(ws, a),
    )
    .shorts(&[("-r", "--restorable-dropped-database-id")]),
    Command::new(
        "az sql db geo-backup list",
        "Gets a list of recoverable databases.",
        &["--server", "--resource-group"],
        |ws, _, _, a| geo_backup_list(ws, a),
    ),
    Command::new(
        "az sql db geo-backup show",
        "Gets a recoverable database.",
        &[
            "--server",
            "--resource-group",
            "--database",
            "--name",
            "--expand-keys",
            "--keys-filter",
        ],
        |ws, _, _, a| geo_backup_show(ws, a),
    )
    .aliases(&[
        ("--database-name", "--database"),
        ("--server-name", "--server"),
    ]),
    Command::new(
        "az sql db geo-backup restore",
        "Restore a geo-redundant backup to a new database.",
        &[
            "--dest-database",
            "--dest-server",
            "--geo-backup-id",
            "--resource-group",
            "--no-wait",
            "--elastic-pool",
            "--service-objective",
            "--edition",
            "--tier",
            "--backup-storage-redundancy",
            "--bsr",
            "--compute-model",
            "--family",
            "--capacity",
            "--assign-identity",
            "--user-assigned-identity-id",
            "--keys",
            "--encryption-protector",
            "--encryption-protector-auto-rotation",
            "--federated-client-id",
            "--zone-redundant",
        ],
        |ws, _, _, a| geo_backup_restore(ws, a),
    )
    .shorts(super::sql::DB_SHORTS)
    .aliases(super::sql::DB_ALIASES)
    .no_wait(),
    Command::new(
        "az sql db ltr-policy set",
        "Update long term retention settings for a database.",
        &[
            "--name",
            "--server",
            "--resource-group",
            "--weekly-retention",
            "--monthly-retention",
            "--yearly-retention",
            "--week-of-year",
        ],
        |ws, _, _, a| ltr_policy(ws, a, true),
    ),
    Command::new(
        "az sql db ltr-policy show",
        "Show the long term retention policy for a database.",
        &["--name", "--server", "--resource-group"],
        |ws, _, _, a| ltr_policy(ws, a, false),
    ),
    Command::new(
        "az sql db ltr-backup list",
        "List the long term retention backups for a location, server or database.",
        &[
            "--location",
            "--server",
            "--database",
            "--resource-group",
            "--only-latest-per-database",
            "--database-state",
        ],
        |ws, _, _, a| ltr_list(ws, a),
    ),
    Command::new(
        "az sql db ltr-backup show",
        "Get a long term retention backup for a database.",
        &[
            "--backup-id",
            "--id",
            "--location",
            "--server",
            "--database",
            "--name",
        ],
        |ws, _, _, a| ltr_show(ws, a),
    ),
    Command::new(
        "az sql db ltr-backup restore",
        "Restore a long term retention backup to a new database.",
        &[
            "--backup-id",
            "--dest-database",
            "--dest-server",
            "--dest-resource-group",
            "--no-wait",
            "--elastic-pool",
            "--service-objective",
            "--edition",
            "--tier",
            "--backup-storage-redundancy",
            "--bsr",
            "--compute-model",
            "--family",
            "--capacity",
            "--assign-identity",
            "--user-assigned-identity-id",
            "--keys",
            "--encryption-protector",
            "--encryption-protector-auto-rotation",
            "--federated-client-id",
            "--zone-redundant",
        ],
        |ws, _, _, a| ltr_restore(ws, a),
    )
    .shorts(super::sql::DB_SHORTS)
    .aliases(super::sql::DB_ALIASES)
    .no_wait(),
    Command::new(
        "az sql db replica create",
        "Create a database as a readable secondary replica of an existing database.",
        &[
            "--name",
            "--server",
            "--resource-group",
            "--partner-server",
            "--partner-database",
            "--partner-resource-group",
            "--secondary-type",
            "--service-objective",
            "--no-wait",
            "--elastic-pool",
            "--family",
            "--capacity",
            "--compute-model",
            "--backup-storage-redundancy",
            "--bsr",
            "--edition",
            "--assign-identity",
            "--user-assigned-identity-id",
            "--keys",
            "--encryption-protector",
            "--encryption-protector-auto-rotation",
            "--federated-client-id",
            "--zone-redundant",
        ],
        |ws, _, _, a| replica_create(ws, a),
    )
    .shorts(super::sql::DB_SHORTS)
    .aliases(super::sql::DB_ALIASES)
    .no_wait(),
    Command::new(
        "az sql db replica list-links",
        "List the replicas of a database and their replication status.",
        &["--name", "--server", "--resource-group"],
        |ws, _, _, a| replica_links(ws, a),
    ),
    Command::new(
        "az sql db replica set-primary",
        "Set the primary replica database by failing over from the current primary replica database.",
        &[
            "--name",
            "--server",
            "--resource-group",
            "--allow-data-loss",
        ],
        |ws, _, _, a| replica_set_primary(ws, a),
    ),
    Command::new(
        "az sql db replica delete-link",
        "Permanently stop data replication between two database replicas.",
        &[
            "--name",
            "--server",
            "--resource-group",
            "--partner-server",
            "--partner-resource-group",
            "--yes",
        ],
        |ws, _, _, a| replica_delete_link(ws, a),
    ),
    Command::new(
        "az sql failover-group create",
        "Creates a failover group.",
        &[
            "--name",
            "--server",
            "--resource-group",
            "--partner-server",
            "--partner-resource-group",
            "--add-db",
            "--failover-policy",
            "--grace-period",
            "--secondary-type",
        ],
        |ws, _, _, a| group_create(ws, a),
    ),
    Command::new(
        "az sql failover-group show",
        "Gets a failover group.",
        &["--name", "--server", "--resource-group"],
        |ws, _, _, a| group_show(ws, a),
    ),
    Command::new(
        "az sql failover-group list",
        "Lists the failover groups in a server.",
        &["--server", "--resource-group"],
        |ws, _, _, a| group_list(ws, a),
    ),
    Command::new(
        "az sql failover-group update",
        "Updates the failover group.",
        &[
            "--name",
            "--server",
            "--resource-group",
            "--add-db",
            "--remove-db",
            "--failover-policy",
            "--grace-period",
        ],
        |ws, _, _, a| group_update(ws, a),
    ),
    Command::new(
        "az sql failover-group set-primary",
        "Set the primary of the failover group by failing over all databases from the current primary server.",
        &[
            "--name",
            "--server",
            "--resource-group",
            "--allow-data-loss",
            "--try-planned-before-forced-failover",
            "--tpbff",
        ],
        |ws, keys, _, a| group_set_primary(ws, keys, a),
    ),
    Command::new(
        "az sql failover-group delete",
        "Deletes a failover group.",
        &["--name", "--server", "--resource-group", "--yes"],
        |ws, _, _, a| group_delete(ws, a),
    ),
];

type CmdResult = Result<Value, CommandError>;

/// `--server` may name a server, its FQDN, or a failover group's listener.
fn resolve_server(ws: &Workspace, name: &str) -> String {
    let lower = name.trim().to_ascii_lowercase();
    if let Some(group) = lower.strip_suffix(".secondary.database.windows.net")
        && let Some(g) = ws.continuity.failover_group(group)
    {
        return g.secondary_server.clone();
    }
    if let Some(host) = lower.strip_suffix(".database.windows.net") {
        if let Some(g) = ws.continuity.failover_group(host) {
            return g.primary_server.clone();
        }
        return host.to_string();
    }
    name.to_string()
}

/// `--server S [-g G]`, checked.
fn server_arg(ws: &Workspace, a: &Args) -> Result<String, CommandError> {
    let server = a.required("--server")?;
    check_group(ws, a, &server)?;
    Ok(server)
}

/// `--database D` (or `--name D`).
fn database_arg(a: &Args) -> Result<String, CommandError> {
    a.get("--database")
        .or_else(|| a.get("--name"))
        .ok_or_else(|| usage("the following arguments are required: --database/-d"))
}

/// Advances the clock until a long-running operation's end, unless `--no-wait`.
fn wait_until(ws: &mut Workspace, a: &Args, until: Timestamp) -> Result<(), CommandError> {
    if a.has("--no-wait") || until <= ws.now() {
        return Ok(());
    }
    let by = until - ws.now();
    service::behaviour::advance(ws, by)?;
    Ok(())
}

fn database_json(ws: &Workspace, server: &str, db: &str) -> CmdResult {
    let s = sql::server(ws, server)?;
    let d = s
        .database(db)
        .ok_or_else(|| ServiceError::database_not_found(server, db))?;
    Ok(views::database_in(ws, s, d))
}

fn sim_write(ws: &mut Workspace, a: &mut Args) -> CmdResult {
    let server = resolve_server(ws, &a.required("--server")?);
    let db = database_arg(a)?;
    // A text with line breaks is one `--line` a line (a script line holds no line break).
    let text = match (a.get_all("--line"), a.has("--text")) {
        (Some(lines), false) => lines.join("\n"),
        (Some(_), true) => return Err(usage("use --text or --line, not both")),
        (None, _) => a.required("--text")?,
    };
    content::write_text(ws, &server, &db, &text)?;
    Ok(json!({"server": server, "database": db, "time": ws.now().to_iso(), "bytes": text.len()}))
}

fn sim_read(ws: &mut Workspace, a: &mut Args) -> CmdResult {
    let server = resolve_server(ws, &a.required("--server")?);
    let db = database_arg(a)?;
    Ok(json!({"text": content::read_text(ws, &server, &db)?}))
}

fn sim_backups(ws: &mut Workspace, a: &mut Args) -> CmdResult {
    let server = server_arg(ws, a)?;
    let db = database_arg(a)?;
    let limit: usize = match a.get("--limit") {
        None => 12,
        Some(l) => l
            .parse()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| usage(format!("argument --limit: invalid value '{l}' (1 to 1000)")))?,
    };
    let now = ws.now();
    let s = sql::server(ws, &server)?;
    let d = s
        .database(&db)
        .ok_or_else(|| ServiceError::database_not_found(&server, &db))?;
    let intervals: Vec<Value> = d
        .protector_history
        .iter()
        .enumerate()
        .map(|(i, iv)| {
            let to = d.protector_history.get(i + 1).map(|n| n.from.to_iso());
            json!({
                "from": iv.from.to_iso(),
                "to": to,
                "protector": iv.protector.as_ref().map(|p| p.label()),
                "thumbprint": iv.protector.as_ref().map(|p| p.thumbprint.clone()),
                "reachable": backup::interval_reachable(ws, &server, iv),
            })
        })
        .collect();
    let backups: Vec<Value> = backup::recent_backups_on(ws, &server, d, now, limit)
        .iter()
        .map(|b| {
            json!({
                "time": b.time.to_iso(),
                "type": b.kind.as_str(),
                "protector": b.protector.as_ref().map(|p| p.label()),
            })
        })
        .collect();
    Ok(json!({
        "database": d.name,
        "earliestRestoreDate": backup::earliest_restore_point(d, now).to_iso(),
        "retentionDays": d.backup_policy.retention_days,
        "protectorIntervals": intervals,
        "keysNeededByBackups": backup::keys_needed_by_backups(d, now),
        "recentBackups": backups,
        "longTermRetentionBackups": backup::ltr_backups(d, now).iter().map(|t| t.to_iso()).collect::<Vec<_>>(),
    }))
}

/// An integer argument, with the CLI's error for anything else.
pub(super) fn int_arg<T: std::str::FromStr>(
    a: &Args,
    flag: &str,
) -> Result<Option<T>, CommandError> {
    match a.get(flag) {
        None => Ok(None),
        Some(v) => v
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| usage(format!("argument {flag}: invalid int value: '{v}'"))),
    }
}

fn minutes_arg(a: &Args) -> Result<i64, CommandError> {
    a.required("--minutes")?;
    Ok(int_arg(a, "--minutes")?.unwrap_or_default())
}

fn vault_outage(ws: &mut Workspace, a: &mut Args) -> CmdResult {
    let name = a.required("--name")?;
    let until = outage::start_vault_outage(ws, &name, minutes_arg(a)?)?;
    Ok(json!({"vault": name, "unreachableUntil": until.to_iso()}))
}

fn region_outage(ws: &mut Workspace, a: &mut Args) -> CmdResult {
    let region = a
        .get("--region")
        .or_else(|| a.get("--location"))
        .ok_or_else(|| usage("the following arguments are required: --region"))?;
    let o = outage::start_region_outage(ws, &region, minutes_arg(a)?)?;
    Ok(json!({
        "region": o.region,
        "from": o.from.to_iso(),
        "until": o.until.to_iso(),
        "pairedRegion": paired_region(&o.region),
        "vaultsReadOnlyFrom": o.vault_failover_at.map(|t| t.to_iso()),
    }))
}

fn str_policy(ws: &mut Workspace, a: &mut Args, set: bool) -> CmdResult {
    let server = server_arg(ws, a)?;
    let db = a.required("--name")?;
    let policy = if set {
        a.required("--retention-days")?;
        let days: u32 = int_arg(a, "--retention-days")?.unwrap_or_default();
        let hours = int_arg(a, "--diffbackup-hours")?;
        backup::set_backup_policy(ws, &server, &db, days, hours)?
    } else {
        sql::live_database(ws, &server, &db)?.backup_policy.clone()
    };
    let s = sql::server(ws, &server)?;
    Ok(json!({
        "diffBackupIntervalInHours": policy.diff_backup_hours,
        "id": format!("{}/backupShortTermRetentionPolicies/default", ids::database(s, &db)),
        "name": "default",
        "resourceGroup": s.resource_group,
        "retentionDays": policy.retention_days,
        "type": "Microsoft.Sql/servers/databases/backupShortTermRetentionPolicies"
    }))
}

/// Starts a restore and waits for it (unless `--no-wait`); prints the new database. The
/// database-level CMK arguments and the SKU arguments are the create's.
fn run_restore(ws: &mut Workspace, a: &Args, req: &RestoreRequest) -> CmdResult {
    super::sql::options_args(a)?;
    let sku = super::sql::sku_args(a)?;
    let cmk = super::sql::cmk_args(a)?;
    let d = backup::restore_database_with(ws, req, &cmk, Some(&sku))?;
    if let DatabaseState::Restoring { until, .. } = d.state {
        wait_until(ws, a, until)?;
    }
    database_json(ws, &req.target_server, &d.name)
}

fn restore(ws: &mut Workspace, a: &mut Args) -> CmdResult {
    let server = server_arg(ws, a)?;
    let name = a.required("--name")?;
    let dest = a.required("--dest-name")?;
    let time = time_arg(a, "--time")?;
    let deleted = time_arg(a, "--deleted-time")?;
    let source = match (time, deleted) {
        (None, None) => return Err(usage("Either --time or --deleted-time must be specified.")),
        (Some(t), None) => RestoreSource::PointInTime { time: t },
        (time, Some(d)) => RestoreSource::Deleted {
            deleted_at: d,
            time,
        },
    };
    let req = RestoreRequest {
        source_server: server.clone(),
        source_database: name,
        source,
        target_server: server,
        dest_name: dest,
        tier: None,
    };
    run_restore(ws, a, &req)
}

/// .NET ticks, as restorable dropped database names carry them.
fn ticks(t: Timestamp) -> i128 {
    (t.0 as i128 + 62_135_596_800) * 10_000_000
}

/// A restorable dropped database as az prints it.
fn deleted_json(s: &SqlServer, x: &DeletedDatabase, now: Timestamp) -> Value {
    let d = &x.database;
    let name = format!("{},{}", d.name, ticks(x.deleted_at));
    json!({
        "creationDate": d.created.to_iso(),
        "databaseName": d.name,
        "deletionDate": x.deleted_at.to_iso(),
        "earliestRestoreDate": backup::earliest_restore_point(d, now.min(x.deleted_at)).to_iso(),
        "edition": service::sku::sku_of(d).tier,
        "id": format!("{}/restorableDroppedDatabases/{name}", ids::server(s)),
        "location": s.location,
        "maxSizeBytes": d.max_size_gb as u64 * 1024 * 1024 * 1024,
        "name": name,
        "resourceGroup": s.resource_group,
        "serviceLevelObjective": service::sku::sku_of(d).service_objective,
        "type": "Microsoft.Sql/servers/restorableDroppedDatabases"
    })
}

fn list_deleted(ws: &mut Workspace, a: &mut Args) -> CmdResult {
    let server = server_arg(ws, a)?;
    let now = ws.now();
    let s = sql::server(ws, &server)?;
    Ok(Value::Array(
        backup::list_deleted(ws, &server)?
            .iter()
            .map(|x| deleted_json(s, x, now))
            .collect(),
    ))
}

/// `az sql db show-deleted --restorable-dropped-database-id "NAME,TICKS" [--expand-keys
/// [--keys-filter current|T]]`: a restorable dropped database, with the keys it used.
fn show_deleted(ws: &mut Workspace, a: &mut Args) -> CmdResult {
    let server = server_arg(ws, a)?;
    let id = a.required("--restorable-dropped-database-id")?;
    let now = ws.now();
    let s = sql::server(ws, &server)?;
    let not_found = || -> CommandError {
        ServiceError::not_found(
            "ResourceNotFound",
            format!(
                "The requested resource of type 'Microsoft.Sql/servers/restorableDroppedDatabases' with name '{id}' was not found on server '{server}'."
            ),
        )
        .into()
    };
    let (name, at) = id.rsplit_once(',').ok_or_else(not_found)?;
    let ticks_given: i128 = at.trim().parse().map_err(|_| not_found())?;
    let dropped = backup::list_deleted(ws, &server)?;
    let x = dropped
        .iter()
        .filter(|x| x.database.name.eq_ignore_ascii_case(name.trim()))
        .find(|x| (ticks(x.deleted_at) - ticks_given).abs() <= 10_000_000)
        .ok_or_else(not_found)?;
    if let Some(n) = a.get("--name")
        && !n.eq_ignore_ascii_case(&x.database.name)
    {
        return Err(not_found());
    }
    let mut v = deleted_json(s, x, now);
    if a.has("--expand-keys") {
        let filter = super::sql::keys_filter_arg(a)?;
        v["keys"] = views::database_keys(s, &x.database, filter, now.min(x.deleted_at));
    }
    Ok(v)
}

fn recoverable_json(ws: &Workspace, s: &SqlServer, d: &Database) -> Value {
    json!({
        "edition": service::sku::sku_of(d).tier,
        "elasticPoolName": d.settings.elastic_pool,
        "id": format!("{}/recoverableDatabases/{}", ids::server(s), d.name),
        "lastAvailableBackupDate": backup::geo_backup_point(d, ws.now()).to_iso(),
        "name": d.name,
        "resourceGroup": s.resource_group,
        "serviceLevelObjective": service::sku::sku_of(d).service_objective,
        "type": "Microsoft.Sql/servers/recoverableDatabases"
    })
}

fn geo_backup_list(ws: &mut Workspace, a: &mut Args) -> CmdResult {
    let server = server_arg(ws, a)?;
    let s = sql::server(ws, &server)?;
    Ok(Value::Array(
        s.databases
            .iter()
            .filter(|d| ws.continuity.primary_of(&s.name, &d.name).is_none())
            .map(|d| recoverable_json(ws, s, d))
            .collect(),
    ))
}

fn geo_backup_show(ws: &mut Workspace, a: &mut Args) -> CmdResult {
    let server = server_arg(ws, a)?;
    let db = database_arg(a)?;
    let s = sql::server(ws, &server)?;
    let d = s
        .database(&db)
        .ok_or_else(|| ServiceError::database_not_found(&server, &db))?;
    let mut v = recoverable_json(ws, s, d);
    if a.has("--expand-keys") {
        let filter = super::sql::keys_filter_arg(a)?;
        v["keys"] = views::database_keys(s, d, filter, ws.now());
    }
    Ok(v)
}

/// The segment after `name` in an ARM id (`.../servers/S/...` -> `S`).
fn id_segment(id: &str, name: &str) -> Option<String> {
    let parts: Vec<&str> = id.split('/').collect();
    let i = parts.iter().position(|p| p.eq_ignore_ascii_case(name))?;
    parts
        .get(i + 1)
        .filter(|s| !s.is_empty())
        .map(|s| s.to_string())
}

fn geo_backup_restore(ws: &mut Workspace, a: &mut Args) -> CmdResult {
    let id = a.required("--geo-backup-id")?;
    let (Some(src_server), Some(src_db)) = (
        id_segment(&id, "servers"),
        id_segment(&id, "recoverableDatabases").or_else(|| id_segment(&id, "databases")),
    ) else {
        return Err(usage(format!(
            "argument --geo-backup-id: '{id}' is not the id of a recoverable database (see az sql db geo-backup list)"
        )));
    };
    let target = a.required("--dest-server")?;
    check_group(ws, a, &target)?;
    let req = RestoreRequest {
        source_server: src_server,
        source_database: src_db,
        source: RestoreSource::Geo,
        target_server: target,
        dest_name: a.required("--dest-database")?,
        tier: None,
    };
    run_restore(ws, a, &req)
}

fn ltr_name(s: &SqlServer, d: &Database, t: Timestamp) -> String {
    use sha1::Digest;
    let mut h = sha1::Sha1::new();
    h.update(format!("{}/{}/{}", ids::database(s, &d.name), d.created.0, t.0).as_bytes());
    let digest = h.finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    format!("{};{}", guid_from_bytes(b), ticks(t))
}

fn ltr_policy(ws: &mut Workspace, a: &mut Args, set: bool) -> CmdResult {
    let server = server_arg(ws, a)?;
    let db = a.required("--name")?;
    let d = if set {
        let week_of_year = int_arg(a, "--week-of-year")?;
        sql::set_ltr_policy(
            ws,
            &server,
            &db,
            &sql::LtrPolicy {
                weekly: a.get("--weekly-retention"),
                monthly: a.get("--monthly-retention"),
                yearly: a.get("--yearly-retention"),
                week_of_year,
            },
        )?
    } else {
        sql::live_database(ws, &server, &db)?.clone()
    };
    let s = sql::server(ws, &server)?;
    let or_off = |r: &Option<String>| r.clone().unwrap_or_else(|| "PT0S".into());
    Ok(json!({
        "id": format!("{}/backupLongTermRetentionPolicies/default", ids::database(s, &d.name)),
        "makeBackupsImmutable": false,
        "monthlyRetention": or_off(&d.settings.ltr_monthly_retention),
        "name": "default",
        "resourceGroup": s.resource_group,
        "type": "Microsoft.Sql/servers/databases/backupLongTermRetentionPolicies",
        "weekOfYear": d.settings.ltr_week_of_year.unwrap_or(0),
        "weeklyRetention": or_off(&d.settings.ltr_weekly_retention),
        "yearlyRetention": or_off(&d.settings.ltr_yearly_retention),
    }))
}

/// One long-term retention backup: of a live database, or of a dropped one (they outlive it).
struct LtrBackup<'a> {
    server: &'a SqlServer,
    database: &'a Database,
    deleted_at: Option<Timestamp>,
    time: Timestamp,
}

/// Every long-term retention backup still kept, newest first per database.
fn ltr_backups(ws: &Workspace) -> Vec<LtrBackup<'_>> {
    let now = ws.now();
    let mut out = Vec::new();
    for s in &ws.servers {
        let live = s.databases.iter().map(|d| (&**d, None));
        let dropped = s
            .deleted_databases
            .iter()
            .map(|x| (&x.database, Some(x.deleted_at)));
        for (d, deleted_at) in live.chain(dropped) {
            for time in backup::ltr_backups_until(d, deleted_at.unwrap_or(now), now) {
                out.push(LtrBackup {
                    server: s,
                    database: d,
                    deleted_at,
                    time,
                });
            }
        }
    }
    out
}

/// The id `az sql db ltr-backup list` gives the long-term retention backup of `db` on
/// `server` taken at `time` (of the database deleted at `deleted_at`, for a dropped one's).
pub fn ltr_backup_id(
    ws: &Workspace,
    server: &str,
    db: &str,
    time: Timestamp,
    deleted_at: Option<Timestamp>,
) -> Option<String> {
    ltr_backups(ws)
        .iter()
        .find(|b| {
            b.server.name.eq_ignore_ascii_case(server)
                && b.database.name.eq_ignore_ascii_case(db)
                && b.time == time
                && b.deleted_at == deleted_at
        })
        .and_then(|b| ltr_json(ws, b)["id"].as_str().map(str::to_string))
}

fn ltr_json(ws: &Workspace, b: &LtrBackup<'_>) -> Value {
    let (s, d, t) = (b.server, b.database, b.time);
    let name = ltr_name(s, d, t);
    let expires = backup::ltr_kept_for(d, t).map(|k| (t + k).to_iso());
    json!({
        "backupExpirationTime": expires,
        "backupStorageRedundancy": "Geo",
        "backupTime": t.to_iso(),
        "databaseDeletionTime": b.deleted_at.map(|t| t.to_iso()),
        "databaseName": d.name,
        "id": format!(
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Sql/locations/{}/longTermRetentionServers/{}/longTermRetentionDatabases/{}/longTermRetentionBackups/{name}",
            ws.current_subscription, s.resource_group, s.location, s.name, d.name
        ),
        "name": name,
        "resourceGroup": s.resource_group,
        "serverName": s.name,
        "type": "Microsoft.Sql/locations/longTermRetentionServers/longTermRetentionDatabases/longTermRetentionBackups"
    })
}

fn ltr_list(ws: &mut Workspace, a: &mut Args) -> CmdResult {
    let location = a.required("--location")?;
    let server = a.get("--server");
    let db = a.get("--database");
    let latest_only = a.bool("--only-latest-per-database")?.unwrap_or(false);
    let state = a.get("--database-state").unwrap_or_else(|| "All".into());
    let matches = |want: &Option<String>, have: &str| {
        want.as_ref().is_none_or(|w| w.eq_ignore_ascii_case(have))
    };
    let mut seen: Vec<(String, String, Option<Timestamp>)> = Vec::new();
    let mut out = Vec::new();
    for b in ltr_backups(ws) {
        let wanted_state = match state.to_ascii_lowercase().as_str() {
            "live" => b.deleted_at.is_none(),
            "deleted" => b.deleted_at.is_some(),
            _ => true,
        };
        if !b.server.location.eq_ignore_ascii_case(&location)
            || !matches(&server, &b.server.name)
            || !matches(&db, &b.database.name)
            || !wanted_state
        {
            continue;
        }
        let key = (b.server.name.clone(), b.database.name.clone(), b.deleted_at);
        if latest_only && seen.contains(&key) {
            continue;
        }
        seen.push(key);
        out.push(ltr_json(ws, &b));
    }
    Ok(Value::Array(out))
}

/// The long-term backup an id (or its name) names.
fn find_ltr<'a>(ws: &'a Workspace, id: &str) -> Result<LtrBackup<'a>, CommandError> {
    let name = id.rsplit('/').next().unwrap_or(id);
    ltr_backups(ws)
        .into_iter()
        .find(|b| ltr_name(b.server, b.database, b.time).eq_ignore_ascii_case(name))
        .ok_or_else(|| {
            ServiceError::not_found(
                "LongTermRetentionBackupNotFound",
                format!("The long-term retention backup '{name}' was not found (or has expired)."),
            )
            .into()
        })
}

fn ltr_show(ws: &mut Workspace, a: &mut Args) -> CmdResult {
    let id = a
        .get("--backup-id")
        .or_else(|| a.get("--id"))
        .or_else(|| a.get("--name"))
        .ok_or_else(|| usage("the following arguments are required: --backup-id"))?;
    let b = find_ltr(ws, &id)?;
    Ok(ltr_json(ws, &b))
}

fn ltr_restore(ws: &mut Workspace, a: &mut Args) -> CmdResult {
    let b = find_ltr(ws, &a.required("--backup-id")?)?;
    let (server, db, time, deleted_at) = (
        b.server.name.clone(),
        b.database.name.clone(),
        b.time,
        b.deleted_at,
    );
    let target = a.required("--dest-server")?;
    if let Some(g) = a.get("--dest-resource-group") {
        let mut b = Args::default();
        b.set("--resource-group", vec![g]);
        check_group(ws, &b, &target)?;
    }
    let req = RestoreRequest {
        source_server: server,
        source_database: db,
        source: RestoreSource::LongTerm { time, deleted_at },
        target_server: target,
        dest_name: a.required("--dest-database")?,
        tier: None,
    };
    run_restore(ws, a, &req)
}

fn replica_create(ws: &mut Workspace, a: &mut Args) -> CmdResult {
    let server = server_arg(ws, a)?;
    if let Some(t) = a.get("--secondary-type")
        && !t.eq_ignore_ascii_case("Geo")
    {
        return Err(usage(format!(
            "argument --secondary-type: '{t}' is not simulated (only Geo secondaries are)"
        )));
    }
    let partner = a.required("--partner-server")?;
    if let Some(g) = a.get("--partner-resource-group") {
        let mut b = Args::default();
        b.set("--resource-group", vec![g]);
        check_group(ws, &b, &partner)?;
    }
    super::sql::options_args(a)?;
    let sku = super::sql::sku_args(a)?;
    let cmk = super::sql::cmk_args(a)?;
    let link = geo::create_replica_with(
        ws,
        &CreateReplica {
            server,
            database: a.required("--name")?,
            partner_server: partner,
            partner_database: a.get("--partner-database"),
        },
        &cmk,
        Some(&sku),
    )?;
    database_json(ws, &link.secondary_server, &link.secondary_database)
}

fn replica_links(ws: &mut Workspace, a: &mut Args) -> CmdResult {
    let server = server_arg(ws, a)?;
    let db = a.required("--name")?;
    let links = geo::list_links(ws, &server, &db)?;
    Ok(Value::Array(
        links
            .iter()
            .map(|l| geo::link_json(ws, &server, &db, l))
            .collect(),
    ))
}

fn replica_set_primary(ws: &mut Workspace, a: &mut Args) -> CmdResult {
    let server = server_arg(ws, a)?;
    let allow = a.bool("--allow-data-loss")?.unwrap_or(false);
    geo::set_primary(ws, &server, &a.required("--name")?, allow)?;
    Ok(Value::Null)
}

fn replica_delete_link(ws: &mut Workspace, a: &mut Args) -> CmdResult {
    let server = server_arg(ws, a)?;
    geo::delete_link(
        ws,
        &server,
        &a.required("--name")?,
        &a.required("--partner-server")?,
    )?;
    Ok(Value::Null)
}

/// A failover group seen from server `from`, as az prints it (also Resource Manager's body).
pub(crate) fn group_json(ws: &Workspace, g: &FailoverGroup, from: &str) -> Value {
    let local_primary = g.primary_server.eq_ignore_ascii_case(from);
    let (local, partner) = if local_primary {
        (&g.primary_server, &g.secondary_server)
    } else {
        (&g.secondary_server, &g.primary_server)
    };
    let s = ws.server(local);
    let p = ws.server(partner);
    // Nothing replicates while the region of either server is down.
    let now = ws.now();
    let down = [s, p]
        .into_iter()
        .flatten()
        .any(|x| ws.continuity.region_outage(&x.location, now).is_some());
    json!({
        "databases": g.databases.iter().map(|d| s.map(|s| ids::database(s, d))).collect::<Vec<_>>(),
        "id": s.map(|s| format!("{}/failoverGroups/{}", ids::server(s), g.name)),
        "location": s.map(|s| s.location.clone()),
        "name": g.name,
        "partnerServers": [{
            "id": p.map(ids::server),
            "location": p.map(|p| p.location.clone()),
            "replicationRole": if local_primary { "Secondary" } else { "Primary" }
        }],
        "readOnlyEndpoint": {"failoverPolicy": "Disabled"},
        "readWriteEndpoint": {
            "failoverPolicy": g.policy.as_str(),
            "failoverWithDataLossGracePeriodMinutes": match g.policy {
                FailoverPolicy::Automatic => Some(g.grace_period_hours as u64 * 60),
                FailoverPolicy::Manual => None,
            }
        },
        "replicationRole": if local_primary { "Primary" } else { "Secondary" },
        "replicationState": if down { "SUSPENDED" } else { "CATCH_UP" },
        "resourceGroup": g.resource_group,
        "tags": {},
        "type": "Microsoft.Sql/servers/failoverGroups"
    })
}

fn grace_arg(a: &Args) -> Result<Option<i64>, CommandError> {
    int_arg(a, "--grace-period")
}

fn policy_arg(a: &Args) -> Result<Option<FailoverPolicy>, CommandError> {
    match a.get("--failover-policy") {
        None => Ok(None),
        Some(p) => FailoverPolicy::parse(&p).map(Some).ok_or_else(|| {
            usage(format!(
                "argument --failover-policy: invalid choice: '{p}' (choose from 'Automatic', 'Manual')"
            ))
        }),
    }
}

fn group_create(ws: &mut Workspace, a: &mut Args) -> CmdResult {
    let server = server_arg(ws, a)?;
    let g = fg::create_failover_group(
        ws,
        &CreateFailoverGroup {
            name: a.required("--name")?,
            server: server.clone(),
            partner_server: a.required("--partner-server")?,
            policy: policy_arg(a)?.unwrap_or(FailoverPolicy::Automatic),
            grace_period_hours: grace_arg(a)?,
            databases: a.list("--add-db"),
        },
    )?;
    Ok(group_json(ws, &g, &server))
}

fn group_show(ws: &mut Workspace, a: &mut Args) -> CmdResult {
    let server = server_arg(ws, a)?;
    let g = fg::show_failover_group(ws, &a.required("--name")?, &server)?;
    Ok(group_json(ws, &g, &server))
}

fn group_list(ws: &mut Workspace, a: &mut Args) -> CmdResult {
    let server = server_arg(ws, a)?;
    sql::server(ws, &server)?;
    Ok(Value::Array(
        ws.continuity
            .failover_groups
            .iter()
            .filter(|g| g.has_server(&server))
            .map(|g| group_json(ws, g, &server))
            .collect(),
    ))
}

fn group_update(ws: &mut Workspace, a: &mut Args) -> CmdResult {
    let server = server_arg(ws, a)?;
    let g = fg::update_failover_group(
        ws,
        &a.required("--name")?,
        &server,
        &UpdateFailoverGroup {
            add: a.list("--add-db"),
            remove: a.list("--remove-db"),
            policy: policy_arg(a)?,
            grace_period_hours: grace_arg(a)?,
        },
    )?;
    Ok(group_json(ws, &g, &server))
}

fn group_set_primary(ws: &mut Workspace, keys: &dyn service::KeySource, a: &mut Args) -> CmdResult {
    let server = server_arg(ws, a)?;
    let name = a.required("--name")?;
    let allow = a.bool("--allow-data-loss")?.unwrap_or(false);
    let try_planned = a
        .bool("--try-planned-before-forced-failover")?
        .unwrap_or(false)
        || a.bool("--tpbff")?.unwrap_or(false);
    // The call returns when the last database has opened (the clock advances to it),
    // unless --no-wait; one notification tells the whole failover.
    let wait = !a.has("--no-wait");
    if try_planned {
        crate::service::behaviour::fail_over(ws, &name, &server, false, wait, keys).or_else(
            |_| crate::service::behaviour::fail_over(ws, &name, &server, true, wait, keys),
        )?;
    } else {
        crate::service::behaviour::fail_over(ws, &name, &server, allow, wait, keys)?;
    }
    Ok(Value::Null)
}

fn group_delete(ws: &mut Workspace, a: &mut Args) -> CmdResult {
    let server = server_arg(ws, a)?;
    fg::delete_failover_group(ws, &a.required("--name")?, &server)?;
    Ok(Value::Null)
}
