//! `sim …`: what only the simulator does: the clock, the timing profile, outages,
//! connections, the advisor and the event lists.

use super::args::Args;
use super::commands::*;
use super::registry::Command;
use super::views;
use crate::model::*;
use crate::service::{self, KeySource, ServiceError, keyvault, sql};
use crate::sim::{Duration, TimingProfile};
use serde_json::{Value, json};

pub const COMMANDS: &[Command] = &[
    Command::new(
        "sim tde select-backup-key",
        "Show which key a backup of a database needs.",
        &["--server", "--kid"],
        sim_tde_select_backup_key,
    ),
    Command::new(
        "sim advisor",
        "Show the recommendations for the workspace.",
        &[],
        sim_advisor,
    ),
    Command::new(
        "sim deliveries",
        "Show the notifications the action groups delivered.",
        &[],
        sim_deliveries,
    ),
    Command::new(
        "sim resource-health",
        "Show a database's resource health.",
        &["--server", "--database"],
        sim_resource_health,
    ),
    Command::new(
        "sim network outage",
        "Cut or restore a server's network path to Key Vault.",
        &["--server", "--minutes"],
        sim_network_outage,
    ),
    Command::new(
        "sim keyvault move-tenant",
        "Move a vault to another tenant (its access policies stop matching).",
        &["--name", "--tenant-id"],
        sim_keyvault_move_tenant,
    ),
    Command::new(
        "sim clock show",
        "Show the simulated clock.",
        &[],
        sim_clock_show,
    ),
    Command::new(
        "sim clock advance",
        "Advance the simulated clock (e.g. 20m, 9h, 2d).",
        &[],
        sim_clock_advance,
    )
    .positional("<N>s|m|h|d"),
    Command::new(
        "sim notifications read",
        "Mark every notification read (the portal's Notifications panel closed).",
        &[],
        sim_notifications_read,
    ),
    Command::new(
        "sim chapter",
        "Mark where a chapter of a class script begins (changes nothing; `tde-console shell --until-chapter NAME` stops here).",
        &[],
        sim_chapter,
    )
    .positional("<NAME>"),
    Command::new(
        "sim connect",
        "Connect to a database (fails while it is Inaccessible).",
        &["--server", "--database"],
        sim_connect,
    ),
    Command::new(
        "sim profile set",
        "Choose the timing profile: 2021 (the seed's) or current.",
        &[],
        sim_profile_set,
    )
    .positional("2021|current"),
    Command::new(
        "sim profile show",
        "Show the timing profile.",
        &[],
        sim_profile_show,
    ),
    Command::new(
        "sim identity delete",
        "Delete a server's system-assigned identity.",
        &["--server"],
        sim_identity_delete,
    ),
    Command::new(
        "sim events",
        "List the simulation's events.",
        &[],
        sim_events,
    ),
    Command::new(
        "sim app start",
        "Start a customer app that queries a database every simulated minute (or --every).",
        &["--server", "--database", "--every"],
        sim_app_start,
    ),
    Command::new(
        "sim app stop",
        "Stop a customer app (its samples stay).",
        &["--server", "--database"],
        sim_app_stop,
    ),
    Command::new(
        "sim app delete",
        "Remove a stopped customer app and its samples.",
        &["--server", "--database"],
        sim_app_delete,
    ),
    Command::new(
        "sim app show",
        "Show the customer apps and what their queries got.",
        &["--server", "--database"],
        sim_app_show,
    ),
    Command::new(
        "sim sql server infrastructure-encryption enable",
        "Microsoft grants a request for infrastructure encryption on a server: new databases are encrypted twice (no az or ARM switch exists).",
        &["--resource-group", "--name"],
        sim_infra_enable,
    ),
    Command::new(
        "sim sql server infrastructure-encryption show",
        "Show whether a server has infrastructure encryption, and which databases are under it.",
        &["--resource-group", "--name"],
        sim_infra_show,
    ),
    Command::new(
        "sim sql mi infrastructure-encryption enable",
        "Microsoft grants a request for infrastructure encryption on a managed instance: new databases are encrypted twice.",
        &["--resource-group", "--name"],
        sim_infra_enable,
    ),
    Command::new(
        "sim sql mi infrastructure-encryption show",
        "Show whether a managed instance has infrastructure encryption, and which databases are under it.",
        &["--resource-group", "--name"],
        sim_infra_show,
    ),
    Command::new(
        "sim activity-log",
        "List the activity log as the simulation wrote it.",
        &[],
        sim_activity_log,
    ),
];

fn sim_tde_select_backup_key(
    ws: &mut Workspace,
    _keys: &dyn KeySource,
    _cmd: &str,
    a: &mut Args,
) -> CmdResult {
    let server = a.required("--server")?;
    let names = service::recovery::revalidate_with_backup_key(ws, &server, &a.required("--kid")?)?;
    let s = sql::server(ws, &server)?;
    Ok(Value::Array(
        s.databases
            .iter()
            .filter(|d| names.contains(&d.name))
            .map(|d| views::database(s, d))
            .collect(),
    ))
}

fn sim_advisor(ws: &mut Workspace, _keys: &dyn KeySource, _cmd: &str, _a: &mut Args) -> CmdResult {
    Ok(serde_json::to_value(service::advisor::advise(ws)).unwrap_or(Value::Null))
}

fn sim_deliveries(
    ws: &mut Workspace,
    _keys: &dyn KeySource,
    _cmd: &str,
    _a: &mut Args,
) -> CmdResult {
    Ok(Value::Array(ws.deliveries.iter().map(|d| json!({"time": d.time.to_iso(), "alertRule": d.alert_rule, "actionGroup": d.action_group, "receiver": d.receiver, "type": d.kind.as_str(), "target": d.target, "result": d.result})).collect()))
}

fn sim_resource_health(
    ws: &mut Workspace,
    _keys: &dyn KeySource,
    _cmd: &str,
    a: &mut Args,
) -> CmdResult {
    let server = a.required("--server")?;
    let db = a.required("--database")?;
    let d = sql::server(ws, &server)?
        .database(&db)
        .ok_or_else(|| ServiceError::database_not_found(&server, &db))?;
    Ok(Value::Array(d.health_history.iter().map(|h| json!({"time": h.time.to_iso(), "availabilityState": format!("{:?}", h.health), "summary": h.reason})).collect()))
}

fn sim_network_outage(
    ws: &mut Workspace,
    _keys: &dyn KeySource,
    _cmd: &str,
    a: &mut Args,
) -> CmdResult {
    let minutes = a.required("--minutes")?;
    let m: i64 = minutes.parse().map_err(|_| {
        usage(format!(
            "argument --minutes: invalid int value: '{minutes}'"
        ))
    })?;
    let until = sql::start_network_outage(ws, &a.required("--server")?, m)?;
    Ok(json!({"outageUntil": until.to_iso()}))
}

fn sim_keyvault_move_tenant(
    ws: &mut Workspace,
    _keys: &dyn KeySource,
    _cmd: &str,
    a: &mut Args,
) -> CmdResult {
    Ok(views::vault(&keyvault::move_vault_to_tenant(
        ws,
        &a.required("--name")?,
        &TenantId(a.required("--tenant-id")?),
    )?))
}

fn sim_clock_show(
    ws: &mut Workspace,
    _keys: &dyn KeySource,
    _cmd: &str,
    _a: &mut Args,
) -> CmdResult {
    Ok(clock_json(ws))
}

fn sim_clock_advance(
    ws: &mut Workspace,
    keys: &dyn KeySource,
    _cmd: &str,
    a: &mut Args,
) -> CmdResult {
    let text = a
        .take_positional()
        .first()
        .cloned()
        .ok_or_else(|| usage("usage: sim clock advance <N>m|h|d"))?;
    let d = Duration::parse(&text).ok_or_else(|| {
        usage(format!(
            "invalid duration '{text}': use e.g. 30s, 20m, 9h or 2d"
        ))
    })?;
    service::behaviour::advance_with(ws, d, keys)?;
    Ok(clock_json(ws))
}

/// `sim notifications read`: every notification is read (what closing the portal's
/// Notifications panel does).
fn sim_notifications_read(
    ws: &mut Workspace,
    _keys: &dyn KeySource,
    _cmd: &str,
    _a: &mut Args,
) -> CmdResult {
    let unread = ws.unread_notifications();
    service::mark_notifications_read(ws);
    Ok(json!({ "read": unread }))
}

/// `sim chapter NAME`: a marker in a class script; the shell stops at it when asked to.
fn sim_chapter(_ws: &mut Workspace, _keys: &dyn KeySource, _cmd: &str, a: &mut Args) -> CmdResult {
    let names = a.take_positional();
    match names.as_slice() {
        [name] if !name.trim().is_empty() => Ok(json!({ "chapter": name })),
        _ => Err(usage(
            "usage: sim chapter NAME (one word, or the name in quotes)",
        )),
    }
}

fn sim_connect(ws: &mut Workspace, _keys: &dyn KeySource, _cmd: &str, a: &mut Args) -> CmdResult {
    let report = sql::connect(ws, &a.required("--server")?, &a.required("--database")?)?;
    Ok(json!({"connected": true, "pagesVerified": report.pages_verified}))
}

fn sim_profile_set(
    ws: &mut Workspace,
    _keys: &dyn KeySource,
    _cmd: &str,
    a: &mut Args,
) -> CmdResult {
    let text = a
        .take_positional()
        .first()
        .cloned()
        .ok_or_else(|| usage("usage: sim profile set 2021|current"))?;
    let p = TimingProfile::parse(&text)
        .ok_or_else(|| usage(format!("invalid profile '{text}': choose 2021 or current")))?;
    service::set_profile(ws, p)?;
    Ok(json!({"profile": p.as_str()}))
}

fn sim_profile_show(
    ws: &mut Workspace,
    _keys: &dyn KeySource,
    _cmd: &str,
    _a: &mut Args,
) -> CmdResult {
    Ok(
        json!({"profile": ws.profile.as_str(), "autoHealWindow": ws.profile.auto_heal_window().human()}),
    )
}

fn sim_identity_delete(
    ws: &mut Workspace,
    _keys: &dyn KeySource,
    _cmd: &str,
    a: &mut Args,
) -> CmdResult {
    let s = sql::delete_identity(ws, &a.required("--server")?)?;
    Ok(views::server(ws, &s))
}

fn sim_events(ws: &mut Workspace, _keys: &dyn KeySource, _cmd: &str, _a: &mut Args) -> CmdResult {
    Ok(Value::Array(
        ws.schedule
            .events
            .iter()
            .map(|e| {
                // `{"at", "event": name, ...its fields}`.
                let mut out = serde_json::Map::new();
                out.insert("at".into(), json!(e.at.to_iso()));
                match serde_json::to_value(&e.event) {
                    Ok(Value::Object(m)) => {
                        for (name, fields) in m {
                            out.insert("event".into(), json!(name));
                            if let Value::Object(f) = fields {
                                out.extend(f);
                            }
                        }
                    }
                    Ok(other) => {
                        out.insert("event".into(), other);
                    }
                    Err(_) => {}
                }
                Value::Object(out)
            })
            .collect(),
    ))
}

fn sim_activity_log(
    ws: &mut Workspace,
    _keys: &dyn KeySource,
    _cmd: &str,
    _a: &mut Args,
) -> CmdResult {
    Ok(Value::Array(
        ws.activity_log
            .iter()
            .filter(|e| e.visible(ws.now()))
            .map(|e| json!({"eventTimestamp": e.time.to_iso(), "operationName": e.operation, "status": e.status.as_str(), "resourceId": e.resource, "description": e.message}))
            .collect(),
    ))
}

fn sim_app_start(ws: &mut Workspace, _keys: &dyn KeySource, _cmd: &str, a: &mut Args) -> CmdResult {
    let every = match a.get("--every") {
        None => service::customer_app::DEFAULT_EVERY,
        Some(text) => Duration::parse(&text).ok_or_else(|| {
            usage(format!(
                "argument --every: invalid duration '{text}': use e.g. 1m or 5m"
            ))
        })?,
    };
    let app = service::customer_app::start_customer_app(
        ws,
        &a.required("--server")?,
        &a.required("--database")?,
        every,
    )?;
    Ok(app_json(ws, &app))
}

/// The app `--server`/`--database` name, or the only one there is (running, for `stop`).
fn app_named(ws: &Workspace, a: &Args, running: bool) -> Result<(String, String), CommandError> {
    match (a.get("--server"), a.get("--database")) {
        (Some(s), Some(d)) => Ok((s, d)),
        (None, None) => {
            let apps: Vec<&CustomerApp> = ws
                .customer_apps
                .iter()
                .filter(|x| !running || x.running())
                .collect();
            match apps.as_slice() {
                [one] => Ok((one.server.clone(), one.database.clone())),
                [] => Err(ServiceError::not_found(
                    "CustomerAppNotFound",
                    if running {
                        "No customer app is running."
                    } else {
                        "There is no customer app."
                    },
                )
                .into()),
                many => Err(usage(format!(
                    "{} customer apps: name one with --server and --database ({}).",
                    many.len(),
                    many.iter()
                        .map(|x| format!("{}/{}", x.server, x.database))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))),
            }
        }
        (Some(_), None) => Err(usage("the following arguments are required: --database")),
        (None, Some(_)) => Err(usage("the following arguments are required: --server")),
    }
}

fn sim_app_stop(ws: &mut Workspace, _keys: &dyn KeySource, _cmd: &str, a: &mut Args) -> CmdResult {
    let (server, database) = app_named(ws, a, true)?;
    let app = service::customer_app::stop_customer_app(ws, &server, &database)?;
    Ok(app_json(ws, &app))
}

fn sim_app_delete(
    ws: &mut Workspace,
    _keys: &dyn KeySource,
    _cmd: &str,
    a: &mut Args,
) -> CmdResult {
    let (server, database) = app_named(ws, a, false)?;
    service::customer_app::remove_customer_app(ws, &server, &database)?;
    Ok(Value::Null)
}

fn sim_app_show(ws: &mut Workspace, _keys: &dyn KeySource, _cmd: &str, a: &mut Args) -> CmdResult {
    if a.has("--server") || a.has("--database") {
        let (server, database) = app_named(ws, a, false)?;
        let app = service::customer_app::find(ws, &server, &database)?;
        return Ok(app_json(ws, app));
    }
    Ok(Value::Array(
        ws.customer_apps.iter().map(|x| app_json(ws, x)).collect(),
    ))
}

/// A customer app: its last hour, the outage it is in, and its samples as runs.
fn app_json(ws: &Workspace, app: &CustomerApp) -> Value {
    let now = ws.now();
    let hour = service::customer_app::summary(app, now - Duration::hours(1), now);
    let all = service::customer_app::summary(app, Timestamp(i64::MIN / 2), now);
    let result = |o: &SampleOutcome| match o {
        SampleOutcome::Ok => "ok".to_string(),
        SampleOutcome::Failed { code, .. } => code.clone(),
    };
    json!({
        "server": app.server,
        "database": app.database,
        "every": app.every.human(),
        "running": app.running(),
        "started": app.started.to_iso(),
        "stopped": app.stopped.map(|t| t.to_iso()),
        "samples": app.samples(),
        "ok": all.ok,
        "failed": all.failed,
        "lastHour": {"ok": hour.ok, "failed": hour.failed, "summary": hour.counts_text()},
        "last": app.last_outcome().map(result),
        "downSince": hour.down_since.map(|t| t.to_iso()),
        "firstError": all.first_error,
        "runs": app.runs.iter().map(|r| json!({
            "from": r.first.to_iso(),
            "to": r.last(app.every).to_iso(),
            "count": r.count,
            "result": result(&r.outcome),
        })).collect::<Vec<_>>(),
    })
}

fn clock_json(ws: &Workspace) -> Value {
    json!({
        "now": ws.now().to_iso(),
        "profile": ws.profile.as_str(),
        "nextEvent": service::behaviour::next_event_time(ws).map(|t| t.to_iso())
    })
}

/// `sim sql server|mi infrastructure-encryption …`: which kind the command names.
fn infra_kind(cmd: &str) -> ServerKind {
    if cmd.starts_with("sim sql mi ") {
        ServerKind::ManagedInstance
    } else {
        ServerKind::SqlDatabaseServer
    }
}

fn infra_json(st: &service::infrastructure::InfrastructureStatus) -> Value {
    json!({
        "name": st.server,
        "type": match st.kind {
            ServerKind::SqlDatabaseServer => "Microsoft.Sql/servers",
            ServerKind::ManagedInstance => "Microsoft.Sql/managedInstances",
        },
        "infrastructureEncryption": if st.enabled.is_some() { "Enabled" } else { "Disabled" },
        "enabledDate": st.enabled.map(|t| t.to_iso()),
        "algorithm": "AES-256",
        "keySource": "Platform-managed",
        "databases": st.databases.iter().map(|(n, on)| json!({"name": n, "isInfraEncryptionEnabled": on})).collect::<Vec<_>>(),
    })
}

fn sim_infra_enable(
    ws: &mut Workspace,
    _keys: &dyn KeySource,
    cmd: &str,
    a: &mut Args,
) -> CmdResult {
    let st = service::infrastructure::enable(
        ws,
        &a.required("--name")?,
        &a.required("--resource-group")?,
        infra_kind(cmd),
    )?;
    Ok(infra_json(&st))
}

fn sim_infra_show(ws: &mut Workspace, _keys: &dyn KeySource, cmd: &str, a: &mut Args) -> CmdResult {
    let st = service::infrastructure::status(
        ws,
        &a.required("--name")?,
        &a.required("--resource-group")?,
        infra_kind(cmd),
    )?;
    Ok(infra_json(&st))
}
