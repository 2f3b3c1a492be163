//! `sim generate`: a realistic estate of servers, vaults, keys and databases, built in bulk
//! through the operations layer (see [`crate::service::estate`]).

use super::args::Args;
use super::commands::CmdResult;
use super::continuity::int_arg;
use crate::model::*;
use crate::service::KeySource;
use crate::service::estate::{self, EstateSpec};
use serde_json::{Value, json};

pub const COMMANDS: &[&str] = &["sim generate"];

pub fn run(ws: &mut Workspace, keys: &dyn KeySource, cmd: &str, a: &mut Args) -> Option<CmdResult> {
    Some(match cmd {
        "sim generate" => generate(ws, keys, a),
        _ => return None,
    })
}

fn generate(ws: &mut Workspace, keys: &dyn KeySource, a: &mut Args) -> CmdResult {
    a.check_known(&[
        "--servers",
        "--databases-per-server",
        "--vaults",
        "--key-size",
        "--seed",
    ])?;
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
