//! `az sql server …` and `az sql db …`: servers, databases, server keys and the TDE protector.

use super::args::Args;
use super::commands::*;
use super::registry::Command;
use super::views;
use crate::model::*;
use crate::service::{self, KeySource, ServiceError, sql, tde};
use crate::sim::TimingProfile;
use serde_json::Value;

pub const COMMANDS: &[Command] = &[
    Command::new(
        "az sql server create",
        "Create a server.",
        &[
            "--name",
            "--resource-group",
            "--location",
            "--admin-user",
            "--admin-password",
            "--assign-identity",
            "--enable-public-network",
            "--minimal-tls-version",
            "--identity-type",
            "--user-assigned-identity-id",
            "--primary-user-assigned-identity-id",
            "--key-id",
            "--federated-client-id",
        ],
        sql_server_create,
    ),
    Command::new(
        "az sql server delete",
        "Delete a server and its databases.",
        &["--name", "--resource-group", "--yes"],
        sql_server_delete,
    ),
    Command::new(
        "az sql server update",
        "Update a server.",
        &[
            "--name",
            "--resource-group",
            "--assign_identity",
            "--identity-type",
            "--user-assigned-identity-id",
            "--primary-user-assigned-identity-id",
            "--federated-client-id",
        ],
        sql_server_update,
    )
    .shorts(&[("-i", "--assign_identity")]),
    Command::new(
        "az sql server show",
        "Gets a server.",
        &["--name", "--resource-group"],
        sql_server_show,
    ),
    Command::new(
        "az sql server list",
        "List available servers.",
        &["--resource-group"],
        sql_server_list,
    ),
    Command::new(
        "az sql db create",
        "Create a database.",
        &[
            "--name",
            "--server",
            "--resource-group",
            "--edition",
            "--tier",
            "--max-size",
            "--tags",
            "--elastic-pool",
            "--read-scale",
            "--auto-pause-delay",
            "--service-objective",
            "--family",
            "--capacity",
            "--encryption-protector",
            "--encryption-protector-auto-rotation",
            "--assign-identity",
            "--user-assigned-identity-id",
            "--keys",
            "--federated-client-id",
            "--no-wait",
            "--backup-storage-redundancy",
            "--zone-redundant",
            "--compute-model",
            "--sample-name",
            "--collation",
            "--min-capacity",
            "--license-type",
        ],
        sql_db_create,
    )
    .shorts(DB_SHORTS)
    .aliases(DB_ALIASES)
    .no_wait(),
    Command::new(
        "az sql db copy",
        "Create a copy of a database.",
        &[
            "--name",
            "--server",
            "--resource-group",
            "--dest-name",
            "--dest-server",
            "--dest-resource-group",
            "--service-objective",
            "--elastic-pool",
            "--compute-model",
            "--family",
            "--capacity",
            "--edition",
            "--backup-storage-redundancy",
            "--zone-redundant",
            "--auto-pause-delay",
            "--min-capacity",
            "--read-scale",
            "--read-replicas",
            "--license-type",
            "--tags",
            "--availability-zone",
            "--preferred-enclave-type",
            "--assign-identity",
            "--user-assigned-identity-id",
            "--keys",
            "--encryption-protector",
            "--encryption-protector-auto-rotation",
            "--federated-client-id",
            "--no-wait",
        ],
        sql_db_copy,
    )
    .shorts(DB_SHORTS)
    .aliases(COPY_ALIASES)
    .no_wait(),
    Command::new(
        "az sql server firewall-rule create",
        "Create a firewall rule.",
        &[
            "--name",
            "--server",
            "--resource-group",
            "--start-ip-address",
            "--end-ip-address",
        ],
        sql_firewall_rule,
    ),
    Command::new(
        "az sql server firewall-rule show",
        "Shows the details for a firewall rule.",
        &["--name", "--server", "--resource-group"],
        sql_firewall_rule,
    ),
    Command::new(
        "az sql server firewall-rule list",
        "List a server's firewall rules.",
        &["--server", "--resource-group"],
        sql_firewall_rule,
    ),
    Command::new(
        "az sql server firewall-rule update",
        "Update a firewall rule.",
        &[
            "--name",
            "--server",
            "--resource-group",
            "--start-ip-address",
            "--end-ip-address",
        ],
        sql_firewall_rule,
    ),
    Command::new(
        "az sql server firewall-rule delete",
        "Deletes a firewall rule.",
        &["--name", "--server", "--resource-group"],
        sql_firewall_rule,
    ),
    Command::new(
        "az sql db list",
        "List databases on a server or elastic pool.",
        &["--server", "--resource-group"],
        sql_db_list,
    ),
    Command::new(
        "az sql server key create",
        "Creates a server key.",
        &["--server", "--resource-group", "--kid"],
        sql_server_key_create,
    ),
    Command::new(
        "az sql server key list",
        "Gets a list of server keys.",
        &["--server", "--resource-group"],
        sql_server_key_list,
    ),
    Command::new(
        "az sql server key show",
        "Gets a server key.",
        &["--server", "--resource-group", "--name", "--kid", "--yes"],
        sql_server_key_show,
    ),
    Command::new(
        "az sql server key delete",
        "Deletes a server key.",
        &["--server", "--resource-group", "--name", "--kid", "--yes"],
        sql_server_key_show,
    ),
    Command::new(
        "az sql server tde-key set",
        "Sets the server's encryption protector.",
        &[
            "--server",
            "--resource-group",
            "--server-key-type",
            "--kid",
            "--auto-rotation-enabled",
        ],
        sql_server_tde_key_set,
    ),
    Command::new(
        "az sql server tde-key show",
        "Gets a server encryption protector.",
        &["--server", "--resource-group"],
        sql_server_tde_key_show,
    ),
    Command::new(
        "az sql db tde key revalidate",
        "Revalidate a database's encryption protector.",
        &["--database", "--server", "--resource-group"],
        sql_db_tde_key_revalidate,
    ),
    Command::new(
        "az sql db tde key revert",
        "Revert a database's encryption protector to the server's.",
        &["--database", "--server", "--resource-group"],
        sql_db_tde_key_revert,
    ),
    Command::new(
        "az sql db update",
        "Update a database.",
        &[
            "--name",
            "--server",
            "--resource-group",
            "--encryption-protector",
            "--encryption-protector-auto-rotation",
            "--assign-identity",
            "--user-assigned-identity-id",
            "--keys",
            "--federated-client-id",
            "--edition",
            "--service-objective",
            "--family",
            "--capacity",
            "--compute-model",
            "--zone-redundant",
            "--backup-storage-redundancy",
            "--max-size",
            "--min-capacity",
            "--license-type",
            "--elastic-pool",
            "--read-scale",
            "--auto-pause-delay",
        ],
        sql_db_update,
    )
    .shorts(DB_SHORTS)
    .aliases(DB_ALIASES),
    Command::new(
        "az sql server tde-key revalidate",
        "Revalidate a server encryption protector.",
        &["--server", "--resource-group"],
        sql_server_tde_key_revalidate,
    ),
    Command::new(
        "az sql db show",
        "Get the details for a database.",
        &[
            "--name",
            "--server",
            "--resource-group",
            "--expand-keys",
            "--keys-filter",
        ],
        sql_db_show,
    ),
    Command::new(
        "az sql db delete",
        "Delete a database.",
        &[
            "--name",
            "--server",
            "--resource-group",
            "--yes",
            "--no-wait",
        ],
        sql_db_delete,
    ),
    Command::new(
        "az sql db tde show",
        "Shows a transparent data encryption.",
        &["--database", "--server", "--resource-group"],
        sql_db_tde_show,
    ),
    Command::new(
        "az sql db tde set",
        "Sets a database's transparent data encryption configuration.",
        &["--database", "--server", "--resource-group", "--status"],
        sql_db_tde_set,
    ),
    Command::new(
        "az sql db tde list-activity",
        "Show a database's encryption scan activity (removed from az in 2.35; the 2021 profile only).",
        &["--database", "--server", "--resource-group"],
        sql_db_tde_list_activity,
    ),
];

/// The short flags az gives the database commands (`-e` edition, `-f` family, `-c`
/// capacity, `-z` zone redundancy).
pub(super) const DB_SHORTS: &[(&str, &str)] = &[
    ("-e", "--edition"),
    ("-f", "--family"),
    ("-c", "--capacity"),
    ("-z", "--zone-redundant"),
];

/// az's other spellings of the database arguments.
pub(super) const DB_ALIASES: &[(&str, &str)] = &[
    ("--tier", "--edition"),
    ("--service-level-objective", "--service-objective"),
    ("--bsr", "--backup-storage-redundancy"),
    ("--umi", "--user-assigned-identity-id"),
    ("--epauto", "--encryption-protector-auto-rotation"),
];

/// `az sql db copy`'s other spellings (`--ha-replicas`, and the database ones).
const COPY_ALIASES: &[(&str, &str)] = &[
    ("--tier", "--edition"),
    ("--service-level-objective", "--service-objective"),
    ("--bsr", "--backup-storage-redundancy"),
    ("--umi", "--user-assigned-identity-id"),
    ("--epauto", "--encryption-protector-auto-rotation"),
    ("--ha-replicas", "--read-replicas"),
];

/// A flag taking one of az's words, matched as az does (any case); the canonical word.
fn enum_arg(
    a: &Args,
    flag: &str,
    words: &'static [&'static str],
) -> Result<Option<&'static str>, CommandError> {
    match a.get(flag) {
        None => Ok(None),
        Some(v) => words
            .iter()
            .find(|w| w.eq_ignore_ascii_case(v.trim()))
            .map(|w| Some(*w))
            .ok_or_else(|| {
                usage(format!(
                    "argument {flag}: invalid choice: '{v}' (choose from {})",
                    words
                        .iter()
                        .map(|w| format!("'{w}'"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            }),
    }
}

/// `--edition --service-objective --family --capacity --compute-model`.
pub(super) fn sku_args(a: &Args) -> Result<service::sku::SkuRequest, CommandError> {
    use service::sku::ComputeModel;
    Ok(service::sku::SkuRequest {
        edition: a.get("--edition"),
        service_objective: a.get("--service-objective"),
        family: a.get("--family"),
        capacity: super::continuity::int_arg(a, "--capacity")?,
        compute_model: enum_arg(a, "--compute-model", &["Provisioned", "Serverless"])?.map(|m| {
            match m {
                "Serverless" => ComputeModel::Serverless,
                _ => ComputeModel::Provisioned,
            }
        }),
    })
}

/// What az stores on a database as given: `--zone-redundant`, `--backup-storage-redundancy`,
/// `--sample-name`, `--collation`, `--min-capacity`, `--license-type`.
pub(super) fn options_args(a: &Args) -> Result<DatabaseOptions, CommandError> {
    Ok(DatabaseOptions {
        zone_redundant: a.bool("--zone-redundant")?,
        backup_storage_redundancy: enum_arg(
            a,
            "--backup-storage-redundancy",
            &["Local", "Zone", "Geo", "GeoZone"],
        )?
        .map(String::from),
        sample_name: enum_arg(
            a,
            "--sample-name",
            &[
                "AdventureWorksLT",
                "WideWorldImportersStd",
                "WideWorldImportersFull",
            ],
        )?
        .map(String::from),
        collation: a.get("--collation"),
        min_capacity: match a.get("--min-capacity") {
            None => None,
            Some(v) => Some(
                v.trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|c| *c > 0.0)
                    .ok_or_else(|| {
                        usage(format!(
                            "argument --min-capacity: invalid float value: '{v}'"
                        ))
                    })?,
            ),
        },
        license_type: enum_arg(a, "--license-type", &["BasePrice", "LicenseIncluded"])?
            .map(String::from),
    })
}

/// `-i --user-assigned-identity-id --federated-client-id --keys --encryption-protector
/// --encryption-protector-auto-rotation`.
pub(super) fn cmk_args(a: &Args) -> Result<service::database_key::DatabaseCmk, CommandError> {
    Ok(service::database_key::DatabaseCmk {
        identity: a.get("--user-assigned-identity-id"),
        federated_client_id: a.get("--federated-client-id"),
        keys: a.list("--keys"),
        encryption_protector: a.get("--encryption-protector"),
        auto_rotation: a
            .bool("--encryption-protector-auto-rotation")?
            .unwrap_or(false),
    })
}

fn sql_server_create(
    ws: &mut Workspace,
    keys: &dyn KeySource,
    _cmd: &str,
    a: &mut Args,
) -> CmdResult {
    let req = sql::CreateServer {
        name: a.required("--name")?,
        resource_group: a.required("--resource-group")?,
        location: a.get("--location"),
        admin_user: a.required("--admin-user")?,
        admin_password: a.required("--admin-password")?,
        assign_identity: a.bool("--assign-identity")?.unwrap_or(false),
        kind: ServerKind::SqlDatabaseServer,
    };
    let identities = identity_args(a);
    sql::validate_create_server(ws, &req)?;
    let key = keys
        .generate(2048)
        .map_err(|e| ServiceError::new("InternalServerError", 500, e.to_string()))?;
    let s = sql::create_server_with(ws, &req, &identities, a.get("--key-id"), key)?;
    Ok(views::server(ws, &s))
}

fn sql_server_delete(
    ws: &mut Workspace,
    _keys: &dyn KeySource,
    _cmd: &str,
    a: &mut Args,
) -> CmdResult {
    let name = a.required("--name")?;
    check_group(ws, a, &name)?;
    sql::delete_server(ws, &name)?;
    Ok(Value::Null)
}

fn sql_server_update(
    ws: &mut Workspace,
    _keys: &dyn KeySource,
    _cmd: &str,
    a: &mut Args,
) -> CmdResult {
    // az spells it -i or --assign_identity here (--assign-identity is create's).
    a.rename("--assign_identity", "--assign-identity");
    let name = a.required("--name")?;
    check_group(ws, a, &name)?;
    let identities = identity_args(a);
    let assign = a.bool("--assign-identity")?.unwrap_or(false);
    let s = sql::update_server(ws, &name, &identities, assign, a.get("--key-id").as_deref())?;
    Ok(views::server(ws, &s))
}

fn sql_server_show(
    ws: &mut Workspace,
    _keys: &dyn KeySource,
    _cmd: &str,
    a: &mut Args,
) -> CmdResult {
    let name = a.required("--name")?;
    check_group(ws, a, &name)?;
    // A managed instance is `az sql mi`'s, not a logical server.
    let s = sql::server(ws, &name)?;
    if s.kind == ServerKind::ManagedInstance {
        return Err(ServiceError::server_not_found(&name).into());
    }
    Ok(views::server(ws, s))
}

fn sql_server_list(
    ws: &mut Workspace,
    _keys: &dyn KeySource,
    _cmd: &str,
    a: &mut Args,
) -> CmdResult {
    let g = a.get("--resource-group");
    Ok(Value::Array(
        ws.servers
            .iter()
            .filter(|s| s.kind == ServerKind::SqlDatabaseServer)
            .filter(|s| {
                g.as_ref()
                    .is_none_or(|g| s.resource_group.eq_ignore_ascii_case(g))
            })
            .map(|s| views::server(ws, s))
            .collect(),
    ))
}

fn sql_db_create(ws: &mut Workspace, _keys: &dyn KeySource, _cmd: &str, a: &mut Args) -> CmdResult {
    let server = a.required("--server")?;
    check_group(ws, a, &server)?;
    let sku = service::sku::resolve(&sku_args(a)?, None)?;
    let size_gb = max_size_gb(a)?.unwrap_or(32);
    let req = sql::CreateDatabase {
        tags: tags_arg(a)?,
        settings: DatabaseSettings {
            elastic_pool: a.get("--elastic-pool"),
            read_scale: a
                .choice("--read-scale", &[("Disabled", false), ("Enabled", true)])?
                .unwrap_or(false),
            auto_pause_delay_minutes: a
                .get("--auto-pause-delay")
                .map(|d| {
                    d.parse().map_err(|_| {
                        usage(format!(
                            "argument --auto-pause-delay: invalid int value: '{d}'"
                        ))
                    })
                })
                .transpose()?,
            ..Default::default()
        },
        sku: Some(sku.clone()),
        options: options_args(a)?,
        ..sql::CreateDatabase::new(
            &server,
            &a.required("--name")?,
            service::sku::service_tier(&sku),
            size_gb,
        )
    };
    // Keys named with --keys are linked first (with the database's identity), all in one
    // operation with the creation.
    let d = sql::create_database_with(ws, &req, &cmk_args(a)?)?;
    Ok(views::database_in(ws, sql::server(ws, &server)?, &d))
}

fn sql_db_list(ws: &mut Workspace, _keys: &dyn KeySource, _cmd: &str, a: &mut Args) -> CmdResult {
    let server = a.required("--server")?;
    check_group(ws, a, &server)?;
    let s = sql::server(ws, &server)?;
    Ok(Value::Array(
        s.databases
            .iter()
            .map(|d| views::database_in(ws, s, d))
            .collect(),
    ))
}

fn sql_server_key_create(
    ws: &mut Workspace,
    _keys: &dyn KeySource,
    _cmd: &str,
    a: &mut Args,
) -> CmdResult {
    let server = a.required("--server")?;
    check_group(ws, a, &server)?;
    let k = sql::add_server_key(ws, &server, &a.required("--kid")?)?;
    Ok(views::server_key(sql::server(ws, &server)?, &k))
}

fn sql_server_key_list(
    ws: &mut Workspace,
    _keys: &dyn KeySource,
    _cmd: &str,
    a: &mut Args,
) -> CmdResult {
    let server = a.required("--server")?;
    check_group(ws, a, &server)?;
    let s = sql::server(ws, &server)?;
    // What Get-AzSqlServerKeyVaultKey's users look for: keys old backups still need.
    let needed: Vec<String> = s
        .databases
        .iter()
        .flat_map(|d| service::backup::keys_needed_by_backups(d, ws.now()))
        .collect();
    Ok(Value::Array(
        s.keys
            .iter()
            .map(|k| {
                let mut v = views::server_key(s, k);
                if let Some(o) = v.as_object_mut() {
                    let by_backups = k
                        .uri
                        .as_deref()
                        .is_some_and(|u| needed.iter().any(|n| n.eq_ignore_ascii_case(u)));
                    o.insert("neededByBackups".into(), Value::Bool(by_backups));
                }
                v
            })
            .collect(),
    ))
}

fn sql_server_key_show(
    ws: &mut Workspace,
    _keys: &dyn KeySource,
    cmd: &str,
    a: &mut Args,
) -> CmdResult {
    let server = a.required("--server")?;
    check_group(ws, a, &server)?;
    let name = match (a.get("--name"), a.get("--kid")) {
        (Some(n), _) => n,
        (None, Some(kid)) => {
            let u = tde::parse_kid(&kid)?;
            server_key_name(&u.vault, &u.key, u.version.as_deref().unwrap_or(""))
        }
        (None, None) => {
            return Err(usage(
                "the following arguments are required: --kid or --name",
            ));
        }
    };
    if cmd.ends_with("delete") {
        sql::delete_server_key(ws, &server, &name)?;
        return Ok(Value::Null);
    }
    let s = sql::server(ws, &server)?;
    let k = s
        .key(&name)
        .ok_or_else(ServiceError::server_key_not_found)?;
    Ok(views::server_key(s, k))
}

fn sql_server_tde_key_set(
    ws: &mut Workspace,
    keys: &dyn KeySource,
    _cmd: &str,
    a: &mut Args,
) -> CmdResult {
    let server = a.required("--server")?;
    check_group(ws, a, &server)?;
    let key_type = match a.required("--server-key-type")?.as_str() {
        "ServiceManaged" => ServerKeyType::ServiceManaged,
        "AzureKeyVault" => ServerKeyType::AzureKeyVault,
        other => {
            return Err(usage(format!(
                "argument --server-key-type/-t: invalid choice: '{other}' (choose from 'AzureKeyVault', 'ServiceManaged')"
            )));
        }
    };
    let req = tde::SetProtector {
        server: server.clone(),
        key_type,
        kid: a.get("--kid"),
        auto_rotation: a.bool("--auto-rotation-enabled")?.unwrap_or(false),
    };
    tde::set_protector(ws, &req)?;
    // A long-running operation: `az` waits until every DEK is re-wrapped.
    if let Some(until) = sql::server(ws, &server)?.protector_change_until {
        let by = until - ws.now();
        service::behaviour::advance_with(ws, by, keys)?;
    }
    let (p, k) = tde::show_protector(ws, &server)?;
    Ok(views::protector(sql::server(ws, &server)?, &p, &k))
}

fn sql_server_tde_key_show(
    ws: &mut Workspace,
    _keys: &dyn KeySource,
    _cmd: &str,
    a: &mut Args,
) -> CmdResult {
    let server = a.required("--server")?;
    check_group(ws, a, &server)?;
    let (p, k) = tde::show_protector(ws, &server)?;
    Ok(views::protector(sql::server(ws, &server)?, &p, &k))
}

fn sql_db_tde_key_revalidate(
    ws: &mut Workspace,
    _keys: &dyn KeySource,
    _cmd: &str,
    a: &mut Args,
) -> CmdResult {
    let server = a.required("--server")?;
    check_group(ws, a, &server)?;
    let d = service::recovery::revalidate_database(ws, &server, &a.required("--database")?)?;
    Ok(views::database_in(ws, sql::server(ws, &server)?, &d))
}

fn sql_db_tde_key_revert(
    ws: &mut Workspace,
    _keys: &dyn KeySource,
    _cmd: &str,
    a: &mut Args,
) -> CmdResult {
    let server = a.required("--server")?;
    check_group(ws, a, &server)?;
    let d =
        service::database_key::revert_database_protector(ws, &server, &a.required("--database")?)?;
    Ok(views::database_in(ws, sql::server(ws, &server)?, &d))
}

fn sql_db_update(ws: &mut Workspace, _keys: &dyn KeySource, _cmd: &str, a: &mut Args) -> CmdResult {
    let server = a.required("--server")?;
    check_group(ws, a, &server)?;
    let name = a.required("--name")?;
    let identity = a.get("--user-assigned-identity-id");
    let link_keys = a.list("--keys");
    let protector = a.get("--encryption-protector");
    let federated = a.get("--federated-client-id");
    let sku = sku_args(a)?;
    let options = options_args(a)?;
    let properties = sql::DatabaseProperties {
        sku: sku.clone(),
        options: options.clone(),
        max_size_gb: max_size_gb(a)?,
        elastic_pool: a.get("--elastic-pool"),
        read_scale: a.choice("--read-scale", &[("Disabled", false), ("Enabled", true)])?,
        auto_pause_delay_minutes: super::continuity::int_arg(a, "--auto-pause-delay")?,
    };
    if identity.is_none()
        && link_keys.is_empty()
        && protector.is_none()
        && federated.is_none()
        && properties.is_empty()
    {
        return Err(usage(
            "az sql db update: nothing to update (give e.g. --service-objective, --capacity, --zone-redundant, --backup-storage-redundancy, --max-size, or the database-level key arguments --assign-identity --user-assigned-identity-id, --keys and --encryption-protector; use `az sql db tde key revert` to go back to the server's key)",
        ));
    }
    let auto = a
        .bool("--encryption-protector-auto-rotation")?
        .unwrap_or(false);
    // Properties, identity, then keys, then the protector: one operation, all or nothing.
    let d = service::transact(ws, |ws| {
        if !properties.is_empty() {
            sql::update_database_properties(ws, &server, &name, &properties)?;
        }
        if let Some(id) = &identity {
            service::database_key::set_database_identity(ws, &server, &name, id)?;
        }
        let own = sql::server(ws, &server)?
            .database(&name)
            .ok_or_else(|| ServiceError::database_not_found(&server, &name))?
            .identity
            .clone();
        if let Some(app) = &federated {
            let id = own.as_deref().ok_or_else(|| {
                ServiceError::bad_request(
                    "InvalidParameterValue",
                    "--federated-client-id needs the database's user-assigned identity (--assign-identity --user-assigned-identity-id).",
                )
            })?;
            service::database_key::federate_database_identity(ws, &server, id, app)?;
        }
        service::database_key::add_database_keys(ws, &server, &name, &link_keys)?;
        match &protector {
            Some(kid) => {
                service::database_key::set_database_protector(ws, &server, &name, kid, auto)
            }
            None => sql::server(ws, &server)?
                .database(&name)
                .cloned()
                .ok_or_else(|| ServiceError::database_not_found(&server, &name)),
        }
    })?;
    Ok(views::database_in(ws, sql::server(ws, &server)?, &d))
}

fn sql_server_tde_key_revalidate(
    ws: &mut Workspace,
    _keys: &dyn KeySource,
    _cmd: &str,
    a: &mut Args,
) -> CmdResult {
    let server = a.required("--server")?;
    check_group(ws, a, &server)?;
    let names = service::recovery::revalidate_server(ws, &server)?;
    let s = sql::server(ws, &server)?;
    Ok(Value::Array(
        s.databases
            .iter()
            .filter(|d| names.contains(&d.name))
            .map(|d| views::database(s, d))
            .collect(),
    ))
}

/// The database a `--name` (or `--database`) names on `--server`.
fn database_arg<'w>(
    ws: &'w Workspace,
    a: &Args,
    name_flag: &str,
) -> Result<(&'w SqlServer, &'w Database), CommandError> {
    let server = a.required("--server")?;
    check_group(ws, a, &server)?;
    let db = a.required(name_flag)?;
    let s = sql::server(ws, &server)?;
    let d = s
        .database(&db)
        .ok_or_else(|| ServiceError::database_not_found(&server, &db))?;
    Ok((s, d))
}

fn sql_db_show(ws: &mut Workspace, _keys: &dyn KeySource, _cmd: &str, a: &mut Args) -> CmdResult {
    let (s, d) = database_arg(ws, a, "--name")?;
    let mut v = views::database_in(ws, s, d);
    if a.has("--expand-keys") {
        let filter = keys_filter_arg(a)?;
        v["keys"] = views::database_keys(s, d, filter, ws.now());
    }
    Ok(v)
}

/// `--keys-filter current|<datetime>` (none: every key ever added).
pub(super) fn keys_filter_arg(a: &Args) -> Result<service::database_key::KeysFilter, CommandError> {
    use service::database_key::KeysFilter;
    match a.get("--keys-filter") {
        None => Ok(KeysFilter::All),
        Some(f) if f.trim().eq_ignore_ascii_case("current") => Ok(KeysFilter::Current),
        Some(f) if f.trim().is_empty() => Ok(KeysFilter::All),
        Some(_) => Ok(time_arg(a, "--keys-filter")?
            .map(KeysFilter::At)
            .unwrap_or(KeysFilter::All)),
    }
}

fn sql_db_delete(ws: &mut Workspace, _keys: &dyn KeySource, _cmd: &str, a: &mut Args) -> CmdResult {
    database_arg(ws, a, "--name")?;
    sql::delete_database(ws, &a.required("--server")?, &a.required("--name")?)?;
    Ok(Value::Null)
}

fn sql_db_tde_show(
    ws: &mut Workspace,
    _keys: &dyn KeySource,
    _cmd: &str,
    a: &mut Args,
) -> CmdResult {
    let (s, d) = database_arg(ws, a, "--database")?;
    Ok(views::database_tde(s, d))
}

fn sql_db_tde_set(
    ws: &mut Workspace,
    _keys: &dyn KeySource,
    _cmd: &str,
    a: &mut Args,
) -> CmdResult {
    database_arg(ws, a, "--database")?;
    a.required("--status")?;
    let enabled = a
        .choice("--status", &[("Disabled", false), ("Enabled", true)])?
        .unwrap_or(false);
    let server = a.required("--server")?;
    let d = sql::set_database_tde(ws, &server, &a.required("--database")?, enabled)?;
    Ok(views::database_tde(sql::server(ws, &server)?, &d))
}

/// The 2021 CLI's encryption scan activity. A scan in this console completes as TDE is
/// switched, so none is ever in progress: an empty list, as az printed for a database that
/// is not being encrypted or decrypted. Removed from az in 2.35 (2022), so the `current`
/// profile does not know it.
fn sql_db_tde_list_activity(
    ws: &mut Workspace,
    _keys: &dyn KeySource,
    _cmd: &str,
    a: &mut Args,
) -> CmdResult {
    if ws.profile == TimingProfile::Current {
        return Err(usage(
            "'list-activity' is misspelled or not recognized by the system.",
        ));
    }
    database_arg(ws, a, "--database")?;
    Ok(Value::Array(Vec::new()))
}

/// `az sql db copy`: a new database with its own DEK holding the source's data, on the same
/// or another server (which needs the key material under a customer-managed protector, as
/// for a geo-secondary). Waits, as az does, unless `--no-wait` (the copy is ready at once).
fn sql_db_copy(ws: &mut Workspace, _keys: &dyn KeySource, _cmd: &str, a: &mut Args) -> CmdResult {
    let server = a.required("--server")?;
    check_group(ws, a, &server)?;
    let name = a.required("--name")?;
    let dest_name = a.required("--dest-name")?;
    let dest_server = a.get("--dest-server");
    if let Some(g) = a.get("--dest-resource-group") {
        let mut b = Args::default();
        b.set("--resource-group", vec![g]);
        check_group(ws, &b, dest_server.as_deref().unwrap_or(&server))?;
    }
    options_args(a)?;
    let d = service::copy::copy_database(
        ws,
        &service::copy::CopyDatabase {
            server: server.clone(),
            database: name,
            dest_server: dest_server.clone(),
            dest_name: dest_name.clone(),
            elastic_pool: a.get("--elastic-pool"),
            tags: tags_arg(a)?,
        },
        &cmk_args(a)?,
        Some(&sku_args(a)?),
    )?;
    let target = dest_server.unwrap_or(server);
    Ok(views::database_in(ws, sql::server(ws, &target)?, &d))
}

fn firewall_rule_json(s: &SqlServer, r: &FirewallRule) -> Value {
    serde_json::json!({
        "endIpAddress": r.end_ip,
        "id": format!("{}/firewallRules/{}", service::ids::server(s), r.name),
        "name": r.name,
        "resourceGroup": s.resource_group,
        "startIpAddress": r.start_ip,
        "type": "Microsoft.Sql/servers/firewallRules"
    })
}

/// `az sql server firewall-rule create|show|list|update|delete`.
fn sql_firewall_rule(
    ws: &mut Workspace,
    _keys: &dyn KeySource,
    cmd: &str,
    a: &mut Args,
) -> CmdResult {
    use service::firewall;
    let server = a.required("--server")?;
    check_group(ws, a, &server)?;
    let verb = cmd.rsplit(' ').next().unwrap_or_default();
    let rule = match verb {
        "list" => {
            let rules = firewall::list_rules(ws, &server)?;
            let s = sql::server(ws, &server)?;
            return Ok(Value::Array(
                rules.iter().map(|r| firewall_rule_json(s, r)).collect(),
            ));
        }
        "create" => firewall::create_rule(
            ws,
            &server,
            &a.required("--name")?,
            &a.required("--start-ip-address")?,
            &a.required("--end-ip-address")?,
        )?,
        "update" => firewall::update_rule(
            ws,
            &server,
            &a.required("--name")?,
            a.get("--start-ip-address").as_deref(),
            a.get("--end-ip-address").as_deref(),
        )?,
        "delete" => {
            firewall::delete_rule(ws, &server, &a.required("--name")?)?;
            return Ok(Value::Null);
        }
        _ => firewall::show_rule(ws, &server, &a.required("--name")?)?,
    };
    Ok(firewall_rule_json(sql::server(ws, &server)?, &rule))
}
