//! Outages that are nobody's decision: one vault answering 5XX, or a whole region down.
//! A server whose protector's vault is out switches by itself to a linked key with the same
//! key material in another vault (the seed's two-vault high availability); vaults of a
//! region that is down fail over, read-only, to the paired region within a few minutes.

pub use super::lookup::{vault_read_only, vault_unreachable};
use super::{ServiceError, ServiceResult, ids, notify, transact};
use crate::model::*;
use crate::sim::{Duration, SimEvent};

/// The longest simulated outage.
const MAX_OUTAGE_MINUTES: i64 = 60 * 24 * 14;

fn check_minutes(minutes: i64) -> ServiceResult<Duration> {
    if !(1..=MAX_OUTAGE_MINUTES).contains(&minutes) {
        return Err(ServiceError::bad_request(
            "InvalidArgument",
            "An outage lasts from 1 minute to 14 days.",
        ));
    }
    Ok(Duration::minutes(minutes))
}

/// `sim keyvault outage`: the vault answers every request with a 5XX for `minutes`.
pub fn start_vault_outage(
    ws: &mut Workspace,
    vault: &str,
    minutes: i64,
) -> ServiceResult<Timestamp> {
    transact(ws, |ws| {
        let span = check_minutes(minutes)?;
        let until = ws.now() + span;
        let v = ws
            .vault_mut(vault)
            .filter(|v| v.deleted.is_none())
            .ok_or_else(|| ServiceError::vault_not_found(vault))?;
        // A shorter outage does not cut a longer one short.
        let until = v.outage_until.map_or(until, |u| u.max(until));
        v.outage_until = Some(until);
        let name = v.name.clone();
        ws.schedule.push(until, SimEvent::OutageBoundary);
        notify(
            ws,
            NotificationLevel::Warning,
            "Key vault outage",
            format!("Key vault '{name}' is unreachable (HTTP 5XX) until {until}."),
        );
        Ok(until)
    })
}

/// `sim region outage`: the region's SQL servers stop serving and its vaults fail over,
/// read-only, to the paired region after a few minutes (never, for a region without a pair).
pub fn start_region_outage(
    ws: &mut Workspace,
    region: &str,
    minutes: i64,
) -> ServiceResult<RegionOutage> {
    transact(ws, |ws| {
        let span = check_minutes(minutes)?;
        let r = crate::model::region(region).ok_or_else(|| {
            ServiceError::bad_request(
                "LocationNotAvailableForResourceType",
                format!("The provided location '{region}' is not available for this simulation."),
            )
        })?;
        let now = ws.now();
        if ws.continuity.region_outage(r.name, now).is_some() {
            return Err(ServiceError::conflict(
                "RegionOutageInProgress",
                format!("Region '{}' is already out.", r.name),
            ));
        }
        let until = now + span;
        let failover = paired_region(r.name).map(|_| {
            now + ws
                .clock
                .draw_delay(Duration::minutes(2), Duration::minutes(5))
        });
        let outage = RegionOutage {
            region: r.name.to_string(),
            from: now,
            until,
            vault_failover_at: failover,
        };
        ws.continuity.region_outages.push(outage.clone());
        if let Some(at) = failover.filter(|t| *t < until) {
            ws.schedule.push(at, SimEvent::OutageBoundary);
        }
        ws.schedule.push(until, SimEvent::OutageBoundary);
        super::failover_group::schedule_automatic_failovers(ws, r.name);
        notify(
            ws,
            NotificationLevel::Error,
            "Regional outage",
            format!(
                "Region '{}' is down until {until}: its SQL servers do not serve; its vaults {}.",
                r.name,
                match (failover, paired_region(r.name)) {
                    (Some(at), Some(pair)) =>
                        format!("fail over to '{pair}' at {at} and are read-only there"),
                    _ => "have no paired region and stay unreachable".to_string(),
                }
            ),
        );
        Ok(outage)
    })
}

/// A linked key of `server_name` with the protector's key material in another vault the
/// server can use now: where it turns when the protector's vault is out.
pub fn high_availability_twin(ws: &Workspace, server_name: &str) -> Option<ServerKey> {
    let s = ws.server(server_name)?;
    let protector = s.protector_key()?;
    if protector.key_type != ServerKeyType::AzureKeyVault {
        return None;
    }
    let vault = KeyUri::parse(protector.uri.as_deref()?)?.vault;
    s.keys
        .iter()
        .filter(|k| k.key_type == ServerKeyType::AzureKeyVault)
        .filter(|k| k.thumbprint == protector.thumbprint)
        .filter(|k| {
            k.uri
                .as_deref()
                .and_then(KeyUri::parse)
                .is_some_and(|u| !u.vault.eq_ignore_ascii_case(&vault))
        })
        .find(|k| {
            let Some(uri) = k.uri.as_deref().and_then(KeyUri::parse) else {
                return false;
            };
            super::keyvault::data_plane::check_key_use(
                ws,
                &super::Caller::Server(s.name.clone()),
                &uri,
                &KeyPermission::TDE_REQUIRED,
                Some(KeyOperation::WrapKey),
            )
            .is_ok()
        })
        .cloned()
}

/// Is the server's protector unusable only because its vault is out (not revoked, deleted,
/// or the server's own network)?
pub fn protector_vault_out(ws: &Workspace, server_name: &str) -> bool {
    let Some(uri) = ws.server(server_name).and_then(|s| s.protector_uri()) else {
        return false;
    };
    let server_net_out = ws
        .server(server_name)
        .and_then(|s| s.network_outage_until)
        .is_some_and(|t| t > ws.now());
    !server_net_out
        && ws
            .vault(&uri.vault)
            .is_some_and(|v| v.deleted.is_none() && vault_unreachable(ws, v))
}

/// Same key material: every DEK wrapped by the old protector is also wrapped by the twin.
/// Each one is really unwrapped through the twin's vault (journaled and audited there)
/// before the server relies on it.
fn adopt_twin(
    ws: &mut Workspace,
    server_name: &str,
    old: &str,
    twin: &ServerKey,
    auto_rotation: bool,
) -> ServiceResult<()> {
    let uri = twin
        .uri
        .as_deref()
        .and_then(KeyUri::parse)
        .ok_or_else(ServiceError::server_key_not_found)?;
    let caller = super::Caller::Server(server_name.to_string());
    let s = super::lookup::server(ws, server_name)?;
    let mut moved = Vec::new();
    for d in &s.databases {
        let Some(w) = d
            .dek
            .as_ref()
            .filter(|w| w.server_key_name.eq_ignore_ascii_case(old))
        else {
            continue;
        };
        super::keyvault::data_plane::unwrap_key(ws, &caller, &uri, &w.wrapped)
            .map_err(|f| super::lookup::tde_error(ws, server_name, &f))?;
        moved.push(d.name.clone());
    }
    let s = super::lookup::server_mut(ws, server_name)?;
    for name in moved {
        if let Some(w) = s.database_mut(&name).and_then(|d| d.dek.as_mut()) {
            w.server_key_name = twin.name.clone();
            w.thumbprint = twin.thumbprint.clone();
        }
    }
    s.protector = TdeProtector {
        server_key_name: twin.name.clone(),
        key_type: ServerKeyType::AzureKeyVault,
        auto_rotation,
    };
    Ok(())
}

/// The server's periodic check found its protector's vault out: switch to the twin key in
/// the other vault, re-wrapping every DEK through it. Returns whether it switched.
pub(crate) fn switch_to_twin(ws: &mut Workspace, server_name: &str) -> bool {
    if !protector_vault_out(ws, server_name) {
        return false;
    }
    let Some(twin) = high_availability_twin(ws, server_name) else {
        return false;
    };
    let Some(s) = ws.server(server_name) else {
        return false;
    };
    let old = s.protector.server_key_name.clone();
    let auto = s.protector.auto_rotation;
    let resource = ids::server(s);
    let outcome = transact(ws, |ws| adopt_twin(ws, server_name, &old, &twin, auto));
    let now = ws.now();
    match outcome {
        Ok(()) => {
            super::log_activity(
                ws,
                now,
                "TdeProtectorFailover",
                ActivityStatus::Succeeded,
                resource,
                format!(
                    "The vault of TDE protector '{old}' of server {server_name} is unavailable: the server switched to '{}' (same key material, another vault). Databases stay online.",
                    twin.name
                ),
            );
            notify(
                ws,
                NotificationLevel::Warning,
                "TDE protector switched to the second vault",
                format!(
                    "Server '{server_name}' could not reach the vault of its protector and now uses {} (same thumbprint).",
                    twin.described()
                ),
            );
            true
        }
        Err(_) => false,
    }
}
