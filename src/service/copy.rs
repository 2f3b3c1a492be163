//! `az sql db copy`: a transactionally consistent copy of a database, on the same or another
//! server. The copy is a new database with its own real DEK: the source's pages and text
//! are decrypted with the source's DEK and encrypted again under the copy's, which the
//! target server's protector (or the copy's own key) wraps. Under a customer-managed
//! protector the target server needs the key material, as for a geo-secondary.

use super::database_key::{DatabaseCmk, PreparedCmk};
use super::lookup::{live_database, server, server_mut, tde_error};
use super::{ServiceError, ServiceResult, ids, transact};
use crate::crypto::DataEncryptionKey;
use crate::crypto::layered::PageLayers;
use crate::model::*;

/// `az sql db copy --name D --server S --dest-name N [--dest-server T] [--elastic-pool P]`.
#[derive(Clone, Debug, Default)]
pub struct CopyDatabase {
    pub server: String,
    pub database: String,
    /// Defaults to the source's server.
    pub dest_server: Option<String>,
    pub dest_name: String,
    pub elastic_pool: Option<String>,
    /// `--tags` (a copy does not take the source's).
    pub tags: Vec<(String, String)>,
}

/// Copies a database (see the module's text). Nothing is created when any step fails.
pub fn copy_database(
    ws: &mut Workspace,
    req: &CopyDatabase,
    cmk: &DatabaseCmk,
    sku: Option<&super::sku::SkuRequest>,
) -> ServiceResult<Database> {
    let target_name = req
        .dest_server
        .clone()
        .unwrap_or_else(|| req.server.clone());
    let out = transact(ws, |ws| {
        let d = live_database(ws, &req.server, &req.database)?.clone();
        super::lookup::require_serving(ws, &req.server, &d.name)?;
        if !d.state.is_online() {
            return Err(ServiceError::database_inaccessible(&req.server, &d.name));
        }
        let target = server(ws, &target_name)?;
        if target.kind != ServerKind::SqlDatabaseServer {
            return Err(ServiceError::server_not_found(&target_name));
        }
        super::lookup::require_server_serving(ws, &target_name)?;
        let check = super::sql::CreateDatabase::new(&target_name, &req.dest_name, d.tier, 1);
        super::sql::check_new_database(ws, &check)?;
        let prepared = if cmk.is_empty() {
            PreparedCmk::default()
        } else {
            super::database_key::prepare_cmk(ws, &target_name, cmk)?
        };
        let s = server(ws, &req.server)?;
        let target = server(ws, &target_name)?;
        let own_key =
            super::geo_rules::target_key(s, &d, target, &req.dest_name, prepared.own_key.as_ref())?;
        let identity = match &own_key {
            Some(_) => prepared.identity.clone().or_else(|| d.identity.clone()),
            None => prepared.identity.clone(),
        };
        let sku = match sku {
            Some(r) if !r.is_empty() => super::sku::resolve(r, Some(&super::sku::sku_of(&d)))?,
            _ => super::sku::sku_of(&d),
        };
        // The source's data, really decrypted, then encrypted again under a fresh DEK.
        let pages = super::sql::read_pages(ws, &req.server, &d.name)?;
        let text = super::content::read_text(ws, &req.server, &d.name)?;
        let now = ws.now();
        let fresh = DataEncryptionKey::generate();
        // A new database of the target server: under its infrastructure encryption, if on.
        let platform = super::lookup::new_page_platform_key(ws, &target_name)?;
        let (dek, store) = if d.tde_enabled() {
            let key = own_key
                .clone()
                .unwrap_or_else(|| target.protector.server_key_name.clone());
            let wrapped = super::key_access::server_wrap_dek_as(
                ws,
                &target_name,
                &key,
                &fresh,
                own_key.as_ref().and(identity.as_deref()),
            )
            .map_err(|f| tde_error(ws, &target_name, &f))?;
            let encrypted = PageLayers::new(Some(&fresh), platform.as_ref())
                .encrypt_pages(&pages)
                .map_err(|e| ServiceError::new("InternalServerError", 500, e.to_string()))?;
            (Some(wrapped), PageStore::Encrypted(encrypted))
        } else {
            (
                None,
                PageStore::Plain(pages.into_iter().map(PlainPage).collect()),
            )
        };
        let mut copy = Database {
            name: req.dest_name.clone(),
            tier: super::sku::service_tier(&sku),
            max_size_gb: d.max_size_gb,
            created: now,
            state: DatabaseState::Online,
            health: ResourceHealth::Available,
            health_history: vec![HealthEvent {
                time: now,
                health: ResourceHealth::Available,
                reason: format!("Created as a copy of '{}' on '{}'.", d.name, req.server),
            }],
            dek,
            pages: store,
            tags: req.tags.clone(),
            settings: DatabaseSettings {
                pitr_earliest: Some(now),
                elastic_pool: req.elastic_pool.clone(),
                ..Default::default()
            },
            last_recovery: None,
            encryption_protector_auto_rotation: own_key.is_some()
                && (cmk.auto_rotation
                    || (d.encryption_protector.is_some() && d.encryption_protector_auto_rotation)),
            encryption_protector: own_key,
            identity,
            key_access_lost_since: None,
            content: Vec::new(),
            protector_history: Vec::new(),
            dek_epoch: 0,
            backup_policy: BackupPolicy::default(),
            history_start: None,
            key_history: Vec::new(),
            sku: Some(sku),
            options: d.options.clone(),
            infra_encrypted: platform.is_some(),
        };
        if !text.is_empty() {
            let sealed = super::content::seal(&copy, Some(&fresh), &text)?;
            copy.content.push(ContentRevision { at: now, sealed });
        }
        server_mut(ws, &target_name)?
            .databases
            .push(std::sync::Arc::new(copy));
        super::database_key::record_database_keys(
            ws,
            &target_name,
            &req.dest_name,
            &prepared.added,
        )?;
        Ok(live_database(ws, &target_name, &req.dest_name)?.clone())
    })?;
    let resource = ids::database(server(ws, &target_name)?, &out.name);
    let now = ws.now();
    super::log_activity(
        ws,
        now,
        "Create or update SQL database",
        ActivityStatus::Succeeded,
        resource,
        format!(
            "Database '{}' on server '{target_name}' created as a copy of '{}' on server '{}'.",
            out.name, req.database, req.server
        ),
    );
    Ok(out)
}
