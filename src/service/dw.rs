//! Dedicated SQL pools (formerly SQL DW) under a logical server: `az sql dw create | show |
//! list | update | pause | resume | delete` and `Suspend-AzSqlDatabase` /
//! `Resume-AzSqlDatabase`.
//!
//! A pool is a [`Database`] of edition `DataWarehouse` with a DWU service objective
//! (`DW100c` …): it has a real DEK under the server's TDE protector, and every rule of a
//! database applies to it (loss → Inaccessible, auto-heal, revalidation, backups under the
//! protector of their time). What a pool adds is pause and resume:
//! - a paused pool ([`DatabaseState::Paused`]) holds no DEK in memory: the service does not
//!   re-wrap it when the protector changes or rotates (see `tde::rewrap_following`), so it
//!   keeps needing the key version that wrapped its DEK;
//! - resuming opens the pool as the service does: that key version must be usable (not
//!   disabled, expired or deleted, and reachable with get/wrapKey/unwrapKey), the DEK is
//!   unwrapped through the vault and every page authenticated; then the DEK is re-wrapped by
//!   the current protector ("resume, let it re-encrypt"). A failure leaves it Paused.

use super::lookup::{live_database, server, server_mut};
use super::{ServiceError, ServiceResult, transact};
use crate::model::*;

/// The edition of a dedicated SQL pool.
pub use crate::model::DW_EDITION as EDITION;

/// The default service objective of `az sql dw create` without `--service-objective`.
pub const DEFAULT_OBJECTIVE: &str = "DW100c";

/// The largest `--max-size` of a pool, in GB (240 TB).
pub use crate::model::DW_MAX_SIZE_GB as MAX_SIZE_GB;

/// A new pool's size without `--max-size`, in GB: the REST reference's sample pool
/// (`maxSizeBytes` 10995116277760).
pub const DEFAULT_SIZE_GB: u32 = 10_240;

/// Arguments of `az sql dw create` (and `New-AzSqlDatabase -Edition DataWarehouse`).
#[derive(Clone, Debug, Default)]
pub struct CreatePool {
    pub server: String,
    pub name: String,
    /// `--service-objective` (`DW100c` … `DW30000c`); `None`: [`DEFAULT_OBJECTIVE`].
    pub service_objective: Option<String>,
    /// `--max-size` in GB; `None`: [`DEFAULT_SIZE_GB`].
    pub max_size_gb: Option<u32>,
    pub collation: Option<String>,
    pub backup_storage_redundancy: Option<String>,
    pub zone_redundant: Option<bool>,
    pub tags: Vec<(String, String)>,
}

/// The SKU a pool's service objective names, refusing anything that is not a DWU level.
pub fn pool_sku(service_objective: Option<&str>) -> ServiceResult<DatabaseSku> {
    super::sku::resolve(
        &super::sku::SkuRequest {
            edition: Some(EDITION.into()),
            service_objective: Some(service_objective.unwrap_or(DEFAULT_OBJECTIVE).into()),
            ..Default::default()
        },
        None,
    )
}

/// `az sql dw create`: a database of edition DataWarehouse, its DEK generated and wrapped by
/// the server's protector like any database's.
pub fn create_pool(ws: &mut Workspace, req: &CreatePool) -> ServiceResult<Database> {
    let sku = pool_sku(req.service_objective.as_deref())?;
    let size = req.max_size_gb.unwrap_or(DEFAULT_SIZE_GB);
    let db = super::sql::CreateDatabase {
        tags: req.tags.clone(),
        sku: Some(sku.clone()),
        options: DatabaseOptions {
            collation: req.collation.clone(),
            backup_storage_redundancy: req.backup_storage_redundancy.clone(),
            zone_redundant: req.zone_redundant,
            ..Default::default()
        },
        ..super::sql::CreateDatabase::new(
            &req.server,
            &req.name,
            super::sku::service_tier(&sku),
            size,
        )
    };
    super::sql::create_database(ws, &db)
}

/// The pool `name` of `server_name`: refused when it is a database of another edition
/// (pause and resume apply to dedicated SQL pools only).
pub fn pool<'a>(ws: &'a Workspace, server_name: &str, name: &str) -> ServiceResult<&'a Database> {
    let d = live_database(ws, server_name, name)?;
    if !d.is_data_warehouse() {
        return Err(not_a_pool(&d.name));
    }
    Ok(d)
}

fn not_a_pool(name: &str) -> ServiceError {
    // The REST reference's code for pause/resume on another edition.
    ServiceError::bad_request(
        "FeatureDisabledOnSelectedEdition",
        format!(
            "User attempted to use a feature which is disabled on current database edition: '{name}' is not a dedicated SQL pool (edition DataWarehouse)."
        ),
    )
}

/// `az sql dw list`: the server's dedicated SQL pools.
pub fn list_pools<'a>(ws: &'a Workspace, server_name: &str) -> ServiceResult<Vec<&'a Database>> {
    Ok(server(ws, server_name)?
        .databases
        .iter()
        .filter(|d| d.is_data_warehouse())
        .map(|d| &**d)
        .collect())
}

/// `az sql dw update --service-objective --max-size`: scales a pool (refused while it is
/// paused, as the service scales compute that runs).
pub fn update_pool(
    ws: &mut Workspace,
    server_name: &str,
    name: &str,
    service_objective: Option<&str>,
    max_size_gb: Option<u32>,
) -> ServiceResult<Database> {
    let d = pool(ws, server_name, name)?;
    if d.state.is_paused() && service_objective.is_some() {
        return Err(paused_error(server_name, &d.name));
    }
    if let Some(so) = service_objective {
        pool_sku(Some(so))?;
    }
    let p = super::sql::DatabaseProperties {
        sku: super::sku::SkuRequest {
            edition: service_objective.map(|_| EDITION.to_string()),
            service_objective: service_objective.map(str::to_string),
            ..Default::default()
        },
        max_size_gb,
        ..Default::default()
    };
    super::sql::update_database_properties(ws, server_name, name, &p)
}

pub(crate) use super::lookup::paused_error;

/// `az sql dw pause` (`Suspend-AzSqlDatabase`): the compute is released and the DEK leaves
/// memory. A pool already paused stays so. An Inaccessible pool, or one being restored or
/// recovered, cannot be paused.
pub fn pause_pool(ws: &mut Workspace, server_name: &str, name: &str) -> ServiceResult<Database> {
    let out = transact(ws, |ws| {
        super::lookup::require_server_serving(ws, server_name)?;
        let d = pool(ws, server_name, name)?.clone();
        let id = super::ids::database(server(ws, server_name)?, &d.name);
        super::locks::check(ws, &id, super::locks::LockedAction::Write)?;
        match &d.state {
            DatabaseState::Paused { .. } => return Ok((d, false)),
            DatabaseState::Online => {}
            DatabaseState::Inaccessible { .. } => {
                return Err(ServiceError::database_inaccessible(server_name, &d.name));
            }
            DatabaseState::Recovering { .. } | DatabaseState::Restoring { .. } => {
                return Err(ServiceError::database_unavailable(server_name, &d.name));
            }
        }
        let now = ws.now();
        let x = server_mut(ws, server_name)?
            .database_mut(&d.name)
            .ok_or_else(|| ServiceError::database_not_found(server_name, &d.name))?;
        x.state = DatabaseState::Paused { since: now };
        Ok((x.clone(), true))
    });
    out.map(|(d, changed)| {
        if changed {
            super::log_server_change(
                ws,
                server_name,
                Some(&d.name),
                "Pause SQL data warehouse",
                format!("Dedicated SQL pool '{}' paused.", d.name),
            );
        }
        d
    })
}

/// `az sql dw resume` (`Resume-AzSqlDatabase`): the service opens the pool with the key
/// version that wrapped its DEK, which must still be usable; then re-wraps the DEK by the
/// key that protects the pool now. Refused (the pool stays Paused) when that version is
/// disabled, expired, deleted or out of reach. An Online pool stays so.
pub fn resume_pool(ws: &mut Workspace, server_name: &str, name: &str) -> ServiceResult<Database> {
    let out = transact(ws, |ws| {
        super::lookup::require_server_serving(ws, server_name)?;
        let d = pool(ws, server_name, name)?.clone();
        if !d.state.is_paused() {
            return Ok((d, false));
        }
        let s = server(ws, server_name)?;
        let id = super::ids::database(s, &d.name);
        super::locks::check(ws, &id, super::locks::LockedAction::Write)?;
        if let Some(w) = &d.dek {
            let key = s.key(&w.server_key_name).cloned().ok_or_else(|| {
                wrapping_key_error(ws, server_name, None, &KeyAccessFailure::KeyNotFound)
            })?;
            // The version that wrapped the DEK: enabled, in its dates, reachable.
            if key.key_type == ServerKeyType::AzureKeyVault {
                let uri = key.uri.as_deref().and_then(KeyUri::parse).ok_or_else(|| {
                    wrapping_key_error(ws, server_name, None, &KeyAccessFailure::KeyNotFound)
                })?;
                let caller = super::Caller::for_database(s, Some(&d));
                super::keyvault::data_plane::server_check_key(
                    ws,
                    &caller,
                    &uri,
                    &KeyPermission::TDE_REQUIRED,
                    Some(KeyOperation::WrapKey),
                )
                .map_err(|f| wrapping_key_error(ws, server_name, Some(&uri), &f))?;
            }
            // Open it: unwrap through the vault, authenticate every page.
            let dek = super::key_access::server_unwrap_dek(ws, server_name, &d).map_err(|f| {
                wrapping_key_error(
                    ws,
                    server_name,
                    key.uri.as_deref().and_then(KeyUri::parse).as_ref(),
                    &f,
                )
            })?;
            let platform = super::lookup::page_platform_key(ws, server_name, &d)?;
            let layers = crate::crypto::layered::PageLayers::new(Some(&dek), platform.as_ref());
            if let PageStore::Encrypted(pages) = &d.pages {
                for p in pages {
                    layers.decrypt_page(p).map_err(|e| {
                        ServiceError::new("InternalServerError", 500, e.to_string())
                    })?;
                }
            }
            // Re-encrypted under the key that protects it now, when that is another one.
            let now_key = s.database_key_name(&d).to_string();
            let rewrapped = if now_key.eq_ignore_ascii_case(&w.server_key_name) {
                None
            } else {
                Some(
                    super::key_access::server_wrap_dek(ws, server_name, &now_key, &dek)
                        .map_err(|f| super::lookup::tde_error(ws, server_name, &f))?,
                )
            };
            let x = server_mut(ws, server_name)?
                .database_mut(&d.name)
                .ok_or_else(|| ServiceError::database_not_found(server_name, &d.name))?;
            if let Some(w) = rewrapped {
                x.dek = Some(w);
            }
        }
        let x = server_mut(ws, server_name)?
            .database_mut(&d.name)
            .ok_or_else(|| ServiceError::database_not_found(server_name, &d.name))?;
        x.state = DatabaseState::Online;
        Ok((x.clone(), true))
    });
    out.map(|(d, changed)| {
        if changed {
            super::log_server_change(
                ws,
                server_name,
                Some(&d.name),
                "Resume SQL data warehouse",
                format!("Dedicated SQL pool '{}' resumed.", d.name),
            );
        }
        d
    })
}

/// The SQL error for a paused pool whose wrapping key version the server cannot use, naming
/// that key's vault (not the protector's).
fn wrapping_key_error(
    ws: &Workspace,
    server_name: &str,
    uri: Option<&KeyUri>,
    f: &KeyAccessFailure,
) -> ServiceError {
    let principal = ws
        .server(server_name)
        .and_then(|s| ws.key_vault_identity(s))
        .map(|i| i.principal_id.0.clone())
        .unwrap_or_default();
    let vault_uri = uri
        .map(|u| format!("https://{}.vault.azure.net/", u.vault))
        .unwrap_or_default();
    let e = ServiceError::from_key_access(f, server_name, &principal, &vault_uri);
    let version = uri.map(|u| u.to_uri()).unwrap_or_default();
    ServiceError {
        message: format!(
            "{} The paused dedicated SQL pool's database encryption key is wrapped by key {version}, which the pool needs to resume: re-enable that key version (and set its expiry in the future), then resume the pool.",
            e.message
        ),
        ..e
    }
}

/// Paused pools of `server_name` whose DEK is wrapped by another key than the one that
/// protects them now: they will need that older key version to resume. (Server key name,
/// pool name.)
pub fn pools_needing_old_keys(ws: &Workspace, server_name: &str) -> Vec<(String, String)> {
    let Some(s) = ws.server(server_name) else {
        return Vec::new();
    };
    s.databases
        .iter()
        .filter(|d| d.state.is_paused())
        .filter_map(|d| {
            let w = d.dek.as_ref()?;
            Some((w.server_key_name.clone(), d.name.clone()))
        })
        .collect()
}
