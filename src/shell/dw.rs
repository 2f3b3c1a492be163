//! `az sql dw …`: dedicated SQL pools (formerly SQL DW) under a logical server, run through
//! [`crate::service::dw`]. Their output is the database's (`az sql db show`'s view): a pool
//! is a database of edition DataWarehouse.

use super::args::Args;
use super::commands::*;
use super::registry::Command;
use super::views;
use crate::model::*;
use crate::service::{KeySource, ServiceError, dw, sql};
use serde_json::Value;

pub const COMMANDS: &[Command] = &[
    Command::new(
        "az sql dw create",
        "Create a data warehouse.",
        &[
            "--name",
            "--server",
            "--resource-group",
            "--service-objective",
            "--max-size",
            "--collation",
            "--tags",
            "--zone-redundant",
            "--backup-storage-redundancy",
            "--availability-zone",
            "--no-wait",
        ],
        sql_dw_create,
    )
    .shorts(&[("-z", "--zone-redundant")])
    .aliases(DW_ALIASES)
    .no_wait(),
    Command::new(
        "az sql dw show",
        "Get the details for a data warehouse.",
        &["--name", "--server", "--resource-group"],
        sql_dw_show,
    ),
    Command::new(
        "az sql dw list",
        "List data warehouses for a server.",
        &["--server", "--resource-group"],
        sql_dw_list,
    ),
    Command::new(
        "az sql dw update",
        "Update a data warehouse.",
        &[
            "--name",
            "--server",
            "--resource-group",
            "--service-objective",
            "--max-size",
            "--no-wait",
        ],
        sql_dw_update,
    )
    .aliases(DW_ALIASES),
    Command::new(
        "az sql dw pause",
        "Pauses a datawarehouse.",
        &["--name", "--server", "--resource-group"],
        sql_dw_pause_resume,
    ),
    Command::new(
        "az sql dw resume",
        "Resumes a datawarehouse.",
        &["--name", "--server", "--resource-group"],
        sql_dw_pause_resume,
    ),
    Command::new(
        "az sql dw delete",
        "Delete a data warehouse.",
        &[
            "--name",
            "--server",
            "--resource-group",
            "--yes",
            "--no-wait",
        ],
        sql_dw_delete,
    ),
];

/// az's other spellings of the pool arguments.
const DW_ALIASES: &[(&str, &str)] = &[
    ("--service-level-objective", "--service-objective"),
    ("--bsr", "--backup-storage-redundancy"),
];

fn sql_dw_create(ws: &mut Workspace, _keys: &dyn KeySource, _cmd: &str, a: &mut Args) -> CmdResult {
    let server = a.required("--server")?;
    check_group(ws, a, &server)?;
    let options = super::sql::options_args(a)?;
    let req = dw::CreatePool {
        server: server.clone(),
        name: a.required("--name")?,
        service_objective: a.get("--service-objective"),
        max_size_gb: max_size_gb(a)?,
        collation: options.collation,
        backup_storage_redundancy: options.backup_storage_redundancy,
        zone_redundant: options.zone_redundant,
        tags: tags_arg(a)?,
    };
    let d = dw::create_pool(ws, &req)?;
    Ok(views::database_in(ws, sql::server(ws, &server)?, &d))
}

/// The `--server` and `--name` of a pool command, the group checked.
fn pool_args(ws: &Workspace, a: &Args) -> Result<(String, String), CommandError> {
    let server = a.required("--server")?;
    check_group(ws, a, &server)?;
    Ok((server, a.required("--name")?))
}

fn sql_dw_show(ws: &mut Workspace, _keys: &dyn KeySource, _cmd: &str, a: &mut Args) -> CmdResult {
    let (server, name) = pool_args(ws, a)?;
    let s = sql::server(ws, &server)?;
    let d = s
        .database(&name)
        .ok_or_else(|| ServiceError::database_not_found(&server, &name))?;
    Ok(views::database_in(ws, s, d))
}

fn sql_dw_list(ws: &mut Workspace, _keys: &dyn KeySource, _cmd: &str, a: &mut Args) -> CmdResult {
    let server = a.required("--server")?;
    check_group(ws, a, &server)?;
    let s = sql::server(ws, &server)?;
    Ok(Value::Array(
        dw::list_pools(ws, &server)?
            .into_iter()
            .map(|d| views::database_in(ws, s, d))
            .collect(),
    ))
}

fn sql_dw_update(ws: &mut Workspace, _keys: &dyn KeySource, _cmd: &str, a: &mut Args) -> CmdResult {
    let (server, name) = pool_args(ws, a)?;
    let so = a.get("--service-objective");
    let size = max_size_gb(a)?;
    let d = dw::update_pool(ws, &server, &name, so.as_deref(), size)?;
    Ok(views::database_in(ws, sql::server(ws, &server)?, &d))
}

fn sql_dw_pause_resume(
    ws: &mut Workspace,
    _keys: &dyn KeySource,
    cmd: &str,
    a: &mut Args,
) -> CmdResult {
    let (server, name) = pool_args(ws, a)?;
    if cmd.ends_with("pause") {
        dw::pause_pool(ws, &server, &name)?;
    } else {
        dw::resume_pool(ws, &server, &name)?;
    }
    // az prints nothing for either.
    Ok(Value::Null)
}

fn sql_dw_delete(ws: &mut Workspace, _keys: &dyn KeySource, _cmd: &str, a: &mut Args) -> CmdResult {
    let (server, name) = pool_args(ws, a)?;
    sql::delete_database(ws, &server, &name)?;
    Ok(Value::Null)
}
