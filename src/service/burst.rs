//! `sim keyvault burst`: many real requests to one key, spread over simulated seconds, to
//! show a vault's throttling. A tier-3 operation (docs/architecture.md): it makes tier-1
//! requests and lets the clock run (`behaviour::advance`) between them.

use super::requests::VaultCall;
use super::{Caller, ServiceError, ServiceResult};
use crate::model::*;
use crate::sim::Duration;

/// The data-plane call a burst repeats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BurstOperation {
    Get,
    WrapKey,
}

/// What a burst of requests met.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BurstReport {
    pub requests: u32,
    pub succeeded: u32,
    pub throttled: u32,
    pub other_failures: u32,
    /// The vault's limit for these requests, per 10 seconds.
    pub limit_per_10_seconds: u32,
    pub seconds: u32,
}

/// The request log's size past which simulated bursts are refused.
pub const MAX_SIMULATED_LOG: usize = 1_000_000;

/// `sim keyvault burst`: the console user makes `count` real requests to one key, spread
/// evenly over `seconds` of simulated time (all at once for 0); the clock advances by
/// `seconds`. Requests beyond the vault's 10-second limit get 429.
pub fn burst(
    ws: &mut Workspace,
    vault: &str,
    key: &str,
    operation: BurstOperation,
    count: u32,
    seconds: u32,
) -> ServiceResult<BurstReport> {
    if count == 0 || count > 100_000 {
        return Err(ServiceError::bad_request(
            "InvalidArgument",
            "A burst is 1 to 100000 requests.",
        ));
    }
    if seconds > 86_400 {
        return Err(ServiceError::bad_request(
            "InvalidArgument",
            format!("A burst spreads over at most 86400 seconds (asked: {seconds})."),
        ));
    }
    // Every request is kept (audit log, metrics) and saved with the workspace: simulated
    // traffic stops where the log would pass a million records.
    if ws.journal.len() + count as usize > MAX_SIMULATED_LOG {
        return Err(ServiceError::bad_request(
            "QuotaExceeded",
            format!(
                "The vaults' request log holds {} records; a burst may not take it past {MAX_SIMULATED_LOG}. Start from a saved workspace with a shorter log.",
                ws.journal.len()
            ),
        ));
    }
    let uri = {
        let (v, k, _) = super::keyvault::data_plane::key_state(ws, vault, key, None)?;
        KeyUri {
            managed_hsm: v.is_managed_hsm(),
            vault: v.name,
            key: k.name,
            version: None,
        }
    };
    let op_name = match operation {
        BurstOperation::Get => "KeyGet",
        BurstOperation::WrapKey => "KeyWrap",
    };
    let limit = VaultCall::new(ws, vault, op_name, &Caller::ConsoleUser, Some(key))
        .and_then(|c| c.class.limit())
        .unwrap_or(0);
    let mut report = BurstReport {
        requests: count,
        succeeded: 0,
        throttled: 0,
        other_failures: 0,
        limit_per_10_seconds: limit,
        seconds,
    };
    let steps = seconds.max(1);
    let payload = [7u8; 32];
    for step in 0..steps {
        let n = count / steps + u32::from(step < count % steps);
        for _ in 0..n {
            let result = match operation {
                BurstOperation::Get => {
                    super::keyvault::keys::show_key(ws, &uri.vault, &uri.key, None).map(|_| ())
                }
                BurstOperation::WrapKey => {
                    super::keyvault::data_plane::user_wrap_key(ws, &uri, &payload).map(|_| ())
                }
            };
            match result {
                Ok(()) => report.succeeded += 1,
                Err(e) if e.status == 429 => report.throttled += 1,
                Err(_) => report.other_failures += 1,
            }
        }
        if seconds > 0 {
            super::behaviour::advance(ws, Duration::seconds(1))?;
        }
    }
    Ok(report)
}
