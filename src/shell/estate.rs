//! `sim generate`: a realistic estate of servers, vaults, keys and databases, built in bulk
//! through the operations layer (see [`crate::service::estate`]).

use super::args::Args;
use super::commands::CmdResult;
use super::continuity::int_arg;
use super::registry::Command;
use crate::model::*;
use crate::service::KeySource;
use crate::service::estate::{self, EstateSpec};
use crate::service::sql::CreateDatabase;
use serde_json::{Value, json};

pub const COMMANDS: &[Command] = &[
    Command::new(
        "sim generate",
        "Generate an estate of servers, databases and vaults.",
        &[
            "--servers",
            "--databases-per-server",
            "--vaults",
            "--key-size",
            "--seed",
        ],
        |ws, keys, _, a| generate(ws, keys, a),
    ),
    Command::new(
        "sim sql db create-many",
        "Create many databases on a server at once (all or nothing).",
        &[
            "--server",
            "--resource-group",
            "--count",
            "--prefix",
            "--edition",
            "--tier",
            "--max-size",
        ],
        |ws, _, _, a| create_many(ws, a),
    ),
];

/// The most databases one `sim sql db create-many` creates (a server holds at most 5,000).
const MAX_CREATE_MANY: usize = 5000;

fn generate(ws: &mut Workspace, keys: &dyn KeySource, a: &mut Args) -> CmdResult {
    a.required("--servers")?;
    a.required("--databases-per-server")?;
    let servers: usize = int_arg(a, "--servers")?.unwrap_or_default();
    let databases_per_server: usize = int_arg(a, "--databases-per-server")?.unwrap_or_default();
    let spec = EstateSpec {
        servers,
        databases_per_server,
        vaults: int_arg(a, "--vaults")?.unwrap_or(servers.div_ceil(2).max(1)),
        key_size: int_arg(a, "--key-size")?.unwrap_or(3072),
        seed: int_arg(a, "--seed")?.unwrap_or(1),
    };
    let r = estate::generate(ws, &spec, keys)?;
    Ok(json!({
        "servers": r.servers.len(),
        "vaults": r.vaults.len(),
        "databases": r.databases,
        "databaseLevelKeys": r.database_level_keys,
        "firstServer": r.servers.first(),
        "lastServer": r.servers.last(),
        "vaultNames": Value::from(r.vaults.iter().take(3).cloned().collect::<Vec<_>>()),
    }))
}

/// `sim sql db create-many --server S [-g G] --count N [--prefix P] [--edition T]
/// [--max-size 32GB]`: databases P-0001 … P-N on one server, in one operation (all or
/// nothing), each with its own DEK wrapped by the server's protector, as `az sql db create`
/// would make them one by one. For trainers who need an estate over a guidance's numbers.
fn create_many(ws: &mut Workspace, a: &mut Args) -> CmdResult {
    let server = a.required("--server")?;
    super::commands::check_group(ws, a, &server)?;
    a.required("--count")?;
    let count: usize = int_arg(a, "--count")?.unwrap_or_default();
    if count == 0 || count > MAX_CREATE_MANY {
        return Err(crate::service::ServiceError::bad_request(
            "InvalidArgument",
            format!("--count must be between 1 and {MAX_CREATE_MANY}."),
        )
        .into());
    }
    let prefix = a.get("--prefix").unwrap_or_else(|| "db".into());
    let tier = match a.get("--edition").or_else(|| a.get("--tier")) {
        None => ServiceTier::GeneralPurpose,
        Some(t) => ServiceTier::parse(&t).ok_or_else(|| {
            super::commands::usage(format!(
                "argument --edition: invalid value '{t}' (GeneralPurpose or BusinessCritical are simulated)"
            ))
        })?,
    };
    let max_size_gb: u32 = super::commands::max_size_gb(a)?.unwrap_or(32);
    let width = count.to_string().len().max(4);
    let reqs: Vec<CreateDatabase> = (1..=count)
        .map(|i| CreateDatabase::new(&server, &format!("{prefix}-{i:0width$}"), tier, max_size_gb))
        .collect();
    let made = estate::create_databases(ws, &server, &reqs)?;
    Ok(json!({
        "server": server,
        "created": made,
        "first": reqs.first().map(|r| r.name.clone()),
        "last": reqs.last().map(|r| r.name.clone()),
    }))
}
