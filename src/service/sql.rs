//! SQL servers, their identities, linked keys and databases, and client connections.

pub use super::content::{SAMPLE_PAGE_BYTES, SAMPLE_PAGES, sample_pages};
pub use super::identity::assign_identity;
use super::key_access::{server_unwrap_dek, server_wrap_dek, unwrap_in_memory};
pub(crate) use super::lookup::{
    live_database, new_identity, require_online, server, server_mut, tde_error,
};
pub use super::server_key::{add_server_key, add_server_key_as, delete_server_key};
use super::{ServiceError, ServiceResult, check_name, ids, notify, transact};
use crate::crypto::layered::PageLayers;
use crate::crypto::{DataEncryptionKey, EncryptedPage, RsaKeyMaterial};
use crate::model::*;

/// Arguments of `az sql server create`.
#[derive(Clone, Debug)]
pub struct CreateServer {
    pub name: String,
    pub resource_group: String,
    pub location: Option<String>,
    pub admin_user: String,
    pub admin_password: String,
    pub assign_identity: bool,
    pub kind: ServerKind,
}

/// Checks a server-create request before the service-managed key is generated.
pub fn validate_create_server(ws: &Workspace, req: &CreateServer) -> ServiceResult<()> {
    // Upper case is taken and kept as lower case, as the service does (Microsoft's own
    // "copy a database to a new server" sample names its server `…-targetServer-…`).
    check_name("server", &req.name, 1, 63, |c| {
        c.is_ascii_alphanumeric() || c == '-'
    })?;
    super::lookup::resolve_location(ws, &req.resource_group, req.location.as_deref())?;
    if ws.server(&req.name).is_some() {
        return Err(ServiceError::conflict(
            "NameAlreadyExists",
            format!(
                "The name '{}.database.windows.net' already exists. Choose a different name.",
                req.name
            ),
        ));
    }
    if req.admin_user.trim().is_empty() {
        return Err(ServiceError::bad_request(
            "InvalidParameterValue",
            "Invalid value given for parameter Login. Specify a valid parameter value.",
        ));
    }
    let p = &req.admin_password;
    let classes = [
        p.chars().any(|c| c.is_ascii_lowercase()),
        p.chars().any(|c| c.is_ascii_uppercase()),
        p.chars().any(|c| c.is_ascii_digit()),
        p.chars().any(|c| !c.is_ascii_alphanumeric()),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if p.chars().count() < 8 || classes < 3 {
        return Err(ServiceError::bad_request(
            "PasswordNotComplex",
            "Password validation failed. The password does not meet policy requirements because it is not complex enough.",
        ));
    }
    Ok(())
}

/// `az sql server create`. `service_key` protects DEKs while TDE is service-managed.
pub fn create_server(
    ws: &mut Workspace,
    req: &CreateServer,
    service_key: RsaKeyMaterial,
) -> ServiceResult<SqlServer> {
    transact(ws, |ws| {
        validate_create_server(ws, req)?;
        let location =
            super::lookup::resolve_location(ws, &req.resource_group, req.location.as_deref())?;
        let identity = req.assign_identity.then(|| new_identity(ws));
        let now = ws.now();
        let server = SqlServer {
            name: req.name.to_ascii_lowercase(),
            kind: req.kind,
            resource_group: req.resource_group.clone(),
            subscription: ws.current_subscription.clone(),
            tenant: ws.console_user.tenant.clone(),
            location,
            admin_login: req.admin_user.clone(),
            identity,
            user_assigned_identities: Vec::new(),
            primary_user_assigned_identity: None,
            subnet_id: None,
            federated_client_id: None,
            database_federations: Default::default(),
            keys: vec![ServerKey {
                name: "ServiceManaged".into(),
                key_type: ServerKeyType::ServiceManaged,
                uri: None,
                thumbprint: service_key.thumbprint(),
                created: now,
            }],
            service_managed_key: service_key,
            protector: TdeProtector::service_managed(),
            databases: Vec::new(),
            created: now,
            key_access_lost_since: None,
            network_outage_until: None,
            deleted_databases: Vec::new(),
            protector_change_until: None,
            firewall_rules: Vec::new(),
            infrastructure_encryption: None,
            db_index: Default::default(),
        };
        ws.servers.push(std::sync::Arc::new(server.clone()));
        Ok(server)
    })
}

/// `az sql server create` with identities and, optionally, a customer-managed key from
/// the start (`--key-id`), all or nothing: the key is reached with the primary
/// user-assigned identity, which must already have access to it.
pub fn create_server_with(
    ws: &mut Workspace,
    req: &CreateServer,
    identities: &super::identity::ServerIdentities,
    key_id: Option<String>,
    service_key: RsaKeyMaterial,
) -> ServiceResult<SqlServer> {
    let plain = identities.identity_type.is_none()
        && identities.user_assigned.is_empty()
        && identities.primary.is_none()
        && identities.federated_client_id.is_none();
    if plain && key_id.is_none() {
        return create_server(ws, req, service_key);
    }
    transact(ws, |ws| {
        create_server(ws, req, service_key)?;
        if !plain {
            super::identity::set_server_identities(ws, &req.name, identities, req.assign_identity)?;
        }
        if let Some(kid) = key_id {
            if server(ws, &req.name)?
                .primary_user_assigned_identity
                .is_none()
            {
                return Err(ServiceError::bad_request(
                    "InvalidParameterValue",
                    "A customer-managed key at server creation (--key-id) needs a primary user-assigned identity with access to the key (--identity-type UserAssigned --user-assigned-identity-id ID --primary-user-assigned-identity-id ID).",
                ));
            }
            add_server_key(ws, &req.name, &kid)?;
            super::tde::set_protector(
                ws,
                &super::tde::SetProtector {
                    server: req.name.clone(),
                    key_type: ServerKeyType::AzureKeyVault,
                    kid: Some(kid),
                    auto_rotation: false,
                },
            )?;
        }
        Ok(server(ws, &req.name)?.clone())
    })
}

/// `az sql server delete`: the logical server and its databases. Refused under a delete
/// lock and while the server is one of a failover group's two servers (delete the group
/// first). Its databases' geo-replication links go with it: a partner's secondary becomes a
/// database of its own, as after `az sql db replica delete-link`.
pub fn delete_server(ws: &mut Workspace, name: &str) -> ServiceResult<()> {
    let out = transact(ws, |ws| {
        let s = server(ws, name)?;
        if s.kind != ServerKind::SqlDatabaseServer {
            return Err(ServiceError::server_not_found(name));
        }
        super::locks::check(ws, &ids::server(s), super::locks::LockedAction::Delete)?;
        let name = s.name.clone();
        if let Some(g) = ws
            .continuity
            .failover_groups
            .iter()
            .find(|g| g.has_server(&name))
        {
            return Err(ServiceError::bad_request(
                "FailoverGroupAlreadySetup",
                format!(
                    "The server '{name}' cannot be deleted while it is a server of failover group '{}'. Delete the failover group first.",
                    g.name
                ),
            ));
        }
        ws.continuity.links.retain(|l| {
            !l.primary_server.eq_ignore_ascii_case(&name)
                && !l.secondary_server.eq_ignore_ascii_case(&name)
        });
        let id = ids::server(server(ws, &name)?);
        ws.servers.retain(|s| !s.name.eq_ignore_ascii_case(&name));
        Ok((name, id))
    });
    out.map(|(deleted, id)| {
        super::log_management(
            ws,
            "Delete SQL server",
            id,
            format!("Server '{deleted}' deleted with its databases."),
        )
    })
}

/// `az sql server update` (and `Set-AzSqlServer`): the server's identities and, with
/// `key_id`, its customer-managed key: the key linked if it is not yet a server key and made
/// the TDE protector, as the Server resource's `keyId` property does. All or nothing.
pub fn update_server(
    ws: &mut Workspace,
    name: &str,
    identities: &super::identity::ServerIdentities,
    assign: bool,
    key_id: Option<&str>,
) -> ServiceResult<SqlServer> {
    let with_identities = identities.identity_type.is_some()
        || !identities.user_assigned.is_empty()
        || identities.primary.is_some()
        || identities.federated_client_id.is_some();
    transact(ws, |ws| {
        if with_identities {
            super::identity::set_server_identities(ws, name, identities, assign)?;
        } else if assign {
            assign_identity(ws, name)?;
        } else {
            server(ws, name)?;
        }
        if let Some(kid) = key_id {
            // Linking an already linked key changes nothing.
            add_server_key(ws, name, kid)?;
            super::tde::set_protector(
                ws,
                &super::tde::SetProtector {
                    server: name.to_string(),
                    key_type: ServerKeyType::AzureKeyVault,
                    kid: Some(kid.to_string()),
                    auto_rotation: server(ws, name)?.protector.auto_rotation,
                },
            )?;
        }
        Ok(server(ws, name)?.clone())
    })
}

/// `sim identity delete`: deletes the server's managed identity in Azure AD.
pub fn delete_identity(ws: &mut Workspace, server_name: &str) -> ServiceResult<SqlServer> {
    transact(ws, |ws| {
        let s = server_mut(ws, server_name)?;
        if s.identity.take().is_none() {
            return Err(ServiceError::bad_request(
                "AzureKeyVaultNoServerIdentity",
                "The server identity is not correctly configured on server. Please contact support.",
            ));
        }
        Ok(s.clone())
    })
}

/// Arguments of `az sql db create`.
#[derive(Clone, Debug)]
pub struct CreateDatabase {
    pub server: String,
    pub name: String,
    pub tier: ServiceTier,
    pub max_size_gb: u32,
    pub tags: Vec<(String, String)>,
    pub settings: DatabaseSettings,
    /// A database-level key (`--encryption-protector`) instead of the server's protector.
    pub encryption_protector: Option<String>,
    /// `--encryption-protector-auto-rotation`: that key follows its newest version.
    pub encryption_protector_auto_rotation: bool,
    /// `--assign-identity --user-assigned-identity-id`: the database's own identity.
    pub identity: Option<String>,
    /// The SKU as given (`None`: derived from `tier`).
    pub sku: Option<DatabaseSku>,
    /// What az stores as given (zone redundancy, backup storage redundancy, sample, …).
    pub options: DatabaseOptions,
}

impl CreateDatabase {
    pub fn new(server: &str, name: &str, tier: ServiceTier, max_size_gb: u32) -> Self {
        CreateDatabase {
            server: server.into(),
            name: name.into(),
            tier,
            max_size_gb,
            tags: Vec::new(),
            settings: DatabaseSettings::default(),
            encryption_protector: None,
            encryption_protector_auto_rotation: false,
            identity: None,
            sku: None,
            options: DatabaseOptions::default(),
        }
    }
}

/// `az sql db create`: a real DEK encrypts the sample pages and is wrapped by the protector.
pub fn create_database(ws: &mut Workspace, req: &CreateDatabase) -> ServiceResult<Database> {
    let out = {
        transact(ws, |ws| {
            check_new_database(ws, req)?;
            // The DEK is wrapped by the database's own key when it has one, else the protector.
            let identity =
                super::database_key::check_database_identity(ws, req.identity.as_deref())?;
            let own_key = match &req.encryption_protector {
                Some(kid) => {
                    super::database_key::require_identity_for_own_key(ws, identity.as_deref())?;
                    let uri = super::key_access::parse_kid(kid)?;
                    add_server_key_as(ws, &req.server, kid, identity.as_deref())?;
                    let auto = req.encryption_protector_auto_rotation;
                    Some(
                        super::key_access::validate_protector_as(
                            ws,
                            &req.server,
                            &uri,
                            auto,
                            identity.as_deref(),
                        )?
                        .name,
                    )
                }
                None => None,
            };
            let protector = match &own_key {
                Some(k) => k.clone(),
                None => server(ws, &req.server)?.protector.server_key_name.clone(),
            };
            let dek = DataEncryptionKey::generate();
            let wrapped = super::key_access::server_wrap_dek_as(
                ws,
                &req.server,
                &protector,
                &dek,
                own_key.as_ref().and(identity.as_deref()),
            )
            .map_err(|f| tde_error(ws, &req.server, &f))?;
            let platform = super::lookup::new_page_platform_key(ws, &req.server)?;
            let db = new_database(ws.now(), req, own_key, &dek, platform.as_ref(), wrapped)?;
            server_mut(ws, &req.server)?
                .databases
                .push(std::sync::Arc::new(db.clone()));
            super::database_key::record_database_keys(ws, &req.server, &req.name, &[])?;
            Ok(live_database(ws, &req.server, &req.name)?.clone())
        })
    };
    out.inspect(|_| {
        super::log_server_change(
            ws,
            &req.server,
            Some(&req.name),
            "Create or update SQL database",
            format!("Database '{}' created.", req.name),
        )
    })
}

/// `az sql db create` with its database-level CMK arguments: the identity is checked and
/// federated, `--keys` are linked to the server and added to the database, and the database
/// is created with its own protector, all in one operation.
pub fn create_database_with(
    ws: &mut Workspace,
    req: &CreateDatabase,
    cmk: &super::database_key::DatabaseCmk,
) -> ServiceResult<Database> {
    transact(ws, |ws| {
        let prepared = super::database_key::prepare_cmk(
            ws,
            &req.server,
            &super::database_key::DatabaseCmk {
                encryption_protector: None,
                ..cmk.clone()
            },
        )?;
        let req = CreateDatabase {
            identity: prepared.identity.clone(),
            encryption_protector: cmk.encryption_protector.clone(),
            encryption_protector_auto_rotation: cmk.auto_rotation,
            ..req.clone()
        };
        create_database(ws, &req)?;
        super::database_key::record_database_keys(ws, &req.server, &req.name, &prepared.added)?;
        Ok(live_database(ws, &req.server, &req.name)?.clone())
    })
}

/// What `az sql db update` changes besides keys: the SKU and what az stores as given.
#[derive(Clone, Debug, Default)]
pub struct DatabaseProperties {
    pub sku: super::sku::SkuRequest,
    /// Only the `Some` fields change.
    pub options: DatabaseOptions,
    pub max_size_gb: Option<u32>,
    pub elastic_pool: Option<String>,
    pub read_scale: Option<bool>,
    pub auto_pause_delay_minutes: Option<u32>,
}

impl DatabaseProperties {
    pub fn is_empty(&self) -> bool {
        self.sku.is_empty()
            && self.options.is_default()
            && self.max_size_gb.is_none()
            && self.elastic_pool.is_none()
            && self.read_scale.is_none()
            && self.auto_pause_delay_minutes.is_none()
    }
}

/// `az sql db update --service-objective|--edition|--capacity|--family|--compute-model
/// |--zone-redundant|--backup-storage-redundancy|--max-size|…`: the new SKU is built from
/// the database's own (as az does) and kept as given.
pub fn update_database_properties(
    ws: &mut Workspace,
    server_name: &str,
    db: &str,
    p: &DatabaseProperties,
) -> ServiceResult<Database> {
    let out = transact(ws, |ws| {
        super::lookup::require_server_serving(ws, server_name)?;
        let d = live_database(ws, server_name, db)?.clone();
        let id = ids::database(server(ws, server_name)?, &d.name);
        super::locks::check(ws, &id, super::locks::LockedAction::Write)?;
        if matches!(d.state, DatabaseState::Inaccessible { .. }) {
            return Err(ServiceError::database_inaccessible(server_name, &d.name));
        }
        let sku = super::sku::resolve(&p.sku, Some(&super::sku::sku_of(&d)))?;
        let size = p.max_size_gb.unwrap_or(d.max_size_gb);
        if size == 0 || size > max_size_limit_gb(Some(&sku)) {
            return Err(ServiceError::bad_request(
                "InvalidMaxSizeTierCombination",
                format!(
                    "The requested database size of {size} GB is not supported for the {} tier.",
                    sku.tier
                ),
            ));
        }
        let x = server_mut(ws, server_name)?
            .database_mut(&d.name)
            .ok_or_else(|| ServiceError::database_not_found(server_name, &d.name))?;
        x.tier = super::sku::service_tier(&sku);
        x.sku = Some(sku);
        x.max_size_gb = size;
        let o = &p.options;
        let mine = &mut x.options;
        if o.zone_redundant.is_some() {
            mine.zone_redundant = o.zone_redundant;
        }
        if o.backup_storage_redundancy.is_some() {
            mine.backup_storage_redundancy = o.backup_storage_redundancy.clone();
        }
        if o.collation.is_some() {
            mine.collation = o.collation.clone();
        }
        if o.min_capacity.is_some() {
            mine.min_capacity = o.min_capacity;
        }
        if o.license_type.is_some() {
            mine.license_type = o.license_type.clone();
        }
        if p.elastic_pool.is_some() {
            x.settings.elastic_pool = p.elastic_pool.clone();
        }
        if let Some(r) = p.read_scale {
            x.settings.read_scale = r;
        }
        if p.auto_pause_delay_minutes.is_some() {
            x.settings.auto_pause_delay_minutes = p.auto_pause_delay_minutes;
        }
        Ok(x.clone())
    });
    out.inspect(|d| {
        super::log_server_change(
            ws,
            server_name,
            Some(&d.name),
            "Create or update SQL database",
            format!("Database '{}' updated.", d.name),
        )
    })
}

/// The largest `--max-size` a SKU takes, in GB: 240 TB for a dedicated SQL pool, 4 TB
/// otherwise.
fn max_size_limit_gb(sku: Option<&DatabaseSku>) -> u32 {
    if sku.is_some_and(|s| s.tier == DW_EDITION) {
        DW_MAX_SIZE_GB
    } else {
        4096
    }
}

/// Checks a database-create request against the server as it is (not its key).
pub(crate) fn check_new_database(ws: &Workspace, req: &CreateDatabase) -> ServiceResult<()> {
    super::lookup::require_server_serving(ws, &req.server)?;
    check_name("database", &req.name, 1, 128, |c| {
        !"<>*%&:\\/?".contains(c)
            && !c.is_control()
            && !matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    })?;
    if req.name.ends_with('.') || req.name.ends_with(' ') || req.name.trim().is_empty() {
        return Err(ServiceError::bad_request(
            "InvalidResourceName",
            format!(
                "The database name '{}' is invalid. It cannot end with '.' or a space.",
                req.name
            ),
        ));
    }
    if req.name.eq_ignore_ascii_case("master") {
        return Err(ServiceError::bad_request(
            "ReservedDatabaseName",
            "The database name 'master' is reserved.",
        ));
    }
    if req.max_size_gb == 0 || req.max_size_gb > max_size_limit_gb(req.sku.as_ref()) {
        return Err(ServiceError::bad_request(
            "InvalidMaxSizeTierCombination",
            format!(
                "The requested database size of {} GB is not supported for the {} tier.",
                req.max_size_gb,
                req.tier.label()
            ),
        ));
    }
    let s = server(ws, &req.server)?;
    if s.protector_change_until.is_some_and(|t| t > ws.now()) {
        return Err(ServiceError::bad_request(
            "CreateDatabaseAttemptedWithRotationInProgress",
            "The create database operation can not be performed at this time due to ongoing Transparent Data Encryption (TDE) key rotation on the server. Please try the operation again later.",
        ));
    }
    if s.database(&req.name).is_some() {
        return Err(ServiceError::conflict(
            "DatabaseAlreadyExists",
            format!(
                "Database '{}' already exists. Choose a different database name.",
                req.name
            ),
        ));
    }
    Ok(())
}

/// A new Online database whose sample pages `dek` encrypts (and, with infrastructure
/// encryption, the server's `platform` key outside it) and whose DEK is `wrapped`.
pub(crate) fn new_database(
    now: Timestamp,
    req: &CreateDatabase,
    own_key: Option<String>,
    dek: &DataEncryptionKey,
    platform: Option<&DataEncryptionKey>,
    wrapped: WrappedDek,
) -> ServiceResult<Database> {
    let pages = PageLayers::new(Some(dek), platform)
        .encrypt_pages(&sample_pages(&req.name))
        .map_err(|e| ServiceError::new("InternalServerError", 500, e.to_string()))?;
    Ok(Database {
        name: req.name.clone(),
        tier: req.tier,
        max_size_gb: req.max_size_gb,
        created: now,
        state: DatabaseState::Online,
        health: ResourceHealth::Available,
        health_history: vec![HealthEvent {
            time: now,
            health: ResourceHealth::Available,
            reason: "Created.".into(),
        }],
        dek: Some(wrapped),
        pages: PageStore::Encrypted(pages),
        tags: req.tags.clone(),
        settings: DatabaseSettings {
            pitr_earliest: Some(now),
            ..req.settings.clone()
        },
        encryption_protector_auto_rotation: own_key.is_some()
            && req.encryption_protector_auto_rotation,
        identity: req.identity.clone(),
        encryption_protector: own_key,
        key_access_lost_since: None,
        last_recovery: None,
        content: Vec::new(),
        protector_history: Vec::new(),
        dek_epoch: 0,
        backup_policy: BackupPolicy::default(),
        history_start: None,
        key_history: Vec::new(),
        sku: req.sku.clone(),
        options: req.options.clone(),
        infra_encrypted: platform.is_some(),
    })
}

/// `az sql db delete`. The service takes a last backup before the drop, so a database whose
/// customer-managed key it cannot reach is not dropped (`CannotDropDatabaseAKVError`). The
/// dropped database is kept, with its history, for restore while its retention runs.
/// Dropping a geo-secondary removes its link; a database in a failover group must leave it
/// first.
pub fn delete_database(ws: &mut Workspace, server_name: &str, db: &str) -> ServiceResult<()> {
    let out = {
        transact(ws, |ws| {
            super::lookup::require_server_serving(ws, server_name)?;
            let d = live_database(ws, server_name, db)?.clone();
            let id = super::ids::database(server(ws, server_name)?, db);
            super::locks::check(ws, &id, super::locks::LockedAction::Delete)?;
            let s = server(ws, server_name)?;
            let cmk = s
                .database_key(&d)
                .is_some_and(|k| k.key_type == ServerKeyType::AzureKeyVault);
            if d.tde_enabled()
                && cmk
                && super::key_access::database_key_access(ws, server_name, db).is_err()
            {
                return Err(ServiceError::bad_request(
                    "CannotDropDatabaseAKVError",
                    format!(
                        "The database {} on server {} cannot be safely dropped because it is encrypted with a customer managed key that is no longer accessible to take the last backup before drop. Please restore Azure Key Vault Access on the server and revalidate the keys to make this database accessible and then proceed with the drop. For details see https://aka.ms/tdecmkrestorability",
                        d.name, s.name
                    ),
                ));
            }
            if ws.continuity.group_of(server_name, db).is_some() {
                return Err(ServiceError::bad_request(
                    "FailoverGroupAlreadySetup",
                    "The operation cannot be performed because the geo-replication link is part of a Failover Group. Remove the database from the failover group first.",
                ));
            }
            // A geo-secondary has no backups of its own: nothing of it stays restorable.
            let secondary = ws.continuity.primary_of(server_name, db).is_some();
            ws.continuity.links.retain(|l| !l.touches(server_name, db));
            let now = ws.now();
            let s = server_mut(ws, server_name)?;
            s.databases.retain(|x| !x.name.eq_ignore_ascii_case(db));
            if !matches!(d.state, DatabaseState::Restoring { .. }) && !secondary {
                s.deleted_databases.retain(|x| x.still_restorable(now));
                s.deleted_databases.push(DeletedDatabase {
                    deleted_at: now,
                    database: d,
                });
            }
            Ok(())
        })
    };
    out.inspect(|_| {
        super::log_server_change(
            ws,
            server_name,
            Some(db),
            "Delete SQL database",
            format!("Database '{db}' deleted."),
        )
    })
}

/// `az sql db tde set --status Enabled|Disabled`: really encrypts or decrypts the pages.
pub fn set_database_tde(
    ws: &mut Workspace,
    server_name: &str,
    db: &str,
    enabled: bool,
) -> ServiceResult<Database> {
    transact(ws, |ws| {
        super::lookup::require_server_serving(ws, server_name)?;
        require_online(ws, server_name, db)?;
        let current = live_database(ws, server_name, db)?.clone();
        // A geo-replica shares its primary's DEK: a new one (or none) on one side only would
        // split them.
        let replicated = ws
            .continuity
            .links
            .iter()
            .any(|l| l.touches(server_name, db));
        if replicated && enabled != current.tde_enabled() {
            return Err(ServiceError::bad_request(
                "OperationNotSupportedOnGeoReplicatedDatabase",
                format!(
                    "Transparent data encryption cannot be turned {} on database '{db}' while it has geo-replication links: remove the links (az sql db replica delete-link) first.",
                    if enabled { "on" } else { "off" }
                ),
            ));
        }
        let updated = match (enabled, &current.pages) {
            (true, PageStore::Plain(plain)) => {
                let protector = server(ws, server_name)?
                    .database_key_name(&current)
                    .to_string();
                let dek = DataEncryptionKey::generate();
                let wrapped = server_wrap_dek(ws, server_name, &protector, &dek)
                    .map_err(|f| tde_error(ws, server_name, &f))?;
                let platform = super::lookup::page_platform_key(ws, server_name, &current)?;
                let pages: Vec<EncryptedPage> = PageLayers::new(Some(&dek), platform.as_ref())
                    .encrypt_pages(&plain.iter().map(|p| &p.0).collect::<Vec<_>>())
                    .map_err(|e| ServiceError::new("InternalServerError", 500, e.to_string()))?;
                let mut d = Database {
                    dek: Some(wrapped),
                    pages: PageStore::Encrypted(pages),
                    dek_epoch: current.dek_epoch + 1,
                    ..current
                };
                reseal_current_text(&mut d, None, Some(&dek), ws.now())?;
                d
            }
            (false, PageStore::Encrypted(enc)) => {
                let dek = server_unwrap_dek(ws, server_name, &current)
                    .map_err(|f| tde_error(ws, server_name, &f))?;
                let platform = super::lookup::page_platform_key(ws, server_name, &current)?;
                let plain = PageLayers::new(Some(&dek), platform.as_ref())
                    .decrypt_pages(enc)
                    .map_err(|e| ServiceError::new("InternalServerError", 500, e.to_string()))?
                    .into_iter()
                    .map(PlainPage)
                    .collect();
                let mut d = Database {
                    dek: None,
                    pages: PageStore::Plain(plain),
                    ..current
                };
                reseal_current_text(&mut d, Some(&dek), None, ws.now())?;
                d
            }
            _ => current,
        };
        let s = server_mut(ws, server_name)?;
        if let Some(d) = s.database_mut(db) {
            *d = updated.clone();
        }
        Ok(updated)
    })
}

/// TDE turned on or off: the current text is rewritten under the new DEK (or in the clear),
/// as a revision of its own.
fn reseal_current_text(
    d: &mut Database,
    old: Option<&DataEncryptionKey>,
    new: Option<&DataEncryptionKey>,
    now: Timestamp,
) -> ServiceResult<()> {
    let Some(rev) = super::content::revision_at(d, now) else {
        return Ok(());
    };
    let text = super::content::unseal(&rev.sealed, old)?;
    let sealed = super::content::seal(d, new, &text)?;
    let i = d.content.partition_point(|r| r.at <= now);
    d.content.insert(i, ContentRevision { at: now, sealed });
    Ok(())
}

/// `sim connect`: a client login. Online databases answer by decrypting a data page with
/// the DEK the server holds in memory; Inaccessible ones refuse with error 40613, and the
/// first refusal turns Resource Health "Unavailable".
pub fn connect(ws: &mut Workspace, server_name: &str, db: &str) -> ServiceResult<ConnectionReport> {
    let d = live_database(ws, server_name, db)?.clone();
    super::lookup::require_serving(ws, server_name, db)?;
    // Being restored or brought back is not a key problem: refused, but Resource Health
    // records only a lost key.
    if matches!(
        d.state,
        DatabaseState::Restoring { .. }
            | DatabaseState::Recovering { .. }
            | DatabaseState::Paused { .. }
    ) {
        return Err(ServiceError::database_unavailable(server_name, &d.name));
    }
    if !d.state.is_online() {
        if d.health == ResourceHealth::Available {
            let resource = ids::database(server(ws, server_name)?, &d.name);
            let now = ws.now();
            if let Some(dd) = server_mut(ws, server_name)?.database_mut(db) {
                dd.set_health(
                    now,
                    ResourceHealth::Unavailable,
                    "A connection was denied: the database cannot access its TDE protector.",
                );
            }
            super::log_activity(
                ws,
                now,
                "ResourceHealthUnavailable",
                ActivityStatus::Succeeded,
                resource,
                format!(
                    "Resource Health: database '{}' is Unavailable (a connection was denied).",
                    d.name
                ),
            );
            notify(
                ws,
                NotificationLevel::Error,
                "Database unavailable",
                format!(
                    "A connection to '{}' on '{}' was denied.",
                    d.name, server_name
                ),
            );
        }
        return Err(ServiceError::database_unavailable(server_name, &d.name));
    }
    let pages_verified = match &d.pages {
        PageStore::Plain(p) => p.len(),
        PageStore::Encrypted(pages) => {
            let dek = unwrap_in_memory(ws, server_name, &d)
                .map_err(|f| tde_error(ws, server_name, &f))?;
            let platform = super::lookup::page_platform_key(ws, server_name, &d)?;
            let layers = PageLayers::new(Some(&dek), platform.as_ref());
            let first = pages.first().map(|p| layers.decrypt_page(p)).transpose();
            first.map_err(|e| ServiceError::new("InternalServerError", 500, e.to_string()))?;
            1
        }
    };
    Ok(ConnectionReport { pages_verified })
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectionReport {
    pub pages_verified: usize,
}

/// Reads every sample page of a database the way the service opens it: the DEK unwrapped
/// through the vault (with every check), each page decrypted and authenticated. Returns the
/// plaintext pages (data, not key material).
pub fn read_pages(ws: &Workspace, server_name: &str, db: &str) -> ServiceResult<Vec<Vec<u8>>> {
    let d = live_database(ws, server_name, db)?;
    if !d.state.is_online() {
        return Err(ServiceError::database_unavailable(server_name, &d.name));
    }
    match &d.pages {
        PageStore::Plain(p) => Ok(p.iter().map(|p| p.0.clone()).collect()),
        PageStore::Encrypted(pages) => {
            let dek = server_unwrap_dek(ws, server_name, d)
                .map_err(|f| tde_error(ws, server_name, &f))?;
            let platform = super::lookup::page_platform_key(ws, server_name, d)?;
            PageLayers::new(Some(&dek), platform.as_ref())
                .decrypt_pages(pages)
                .map_err(|e| ServiceError::new("InternalServerError", 500, e.to_string()))
        }
    }
}

/// `sim network outage`: the server cannot reach Key Vault for `minutes` (an HTTP 5XX cause,
/// which needs no action: databases come back by themselves).
pub fn start_network_outage(
    ws: &mut Workspace,
    server_name: &str,
    minutes: i64,
) -> ServiceResult<Timestamp> {
    transact(ws, |ws| {
        if !(1..=60 * 24 * 14).contains(&minutes) {
            return Err(ServiceError::bad_request(
                "InvalidArgument",
                "An outage lasts from 1 minute to 14 days.",
            ));
        }
        let until = ws.now() + crate::sim::Duration::minutes(minutes);
        server_mut(ws, server_name)?.network_outage_until = Some(until);
        ws.schedule.push(
            until,
            crate::sim::SimEvent::NetworkOutageEnds {
                server: server_name.to_string(),
            },
        );
        Ok(until)
    })
}

/// `az sql db ltr-policy set`: each retention given replaces the current one (`PT0S` turns
/// it off); the others stay.
#[derive(Clone, Debug, Default)]
pub struct LtrPolicy {
    pub weekly: Option<String>,
    pub monthly: Option<String>,
    pub yearly: Option<String>,
    pub week_of_year: Option<u32>,
}

fn ltr_value(flag: &str, value: &Option<String>) -> ServiceResult<Option<Option<String>>> {
    let Some(v) = value else { return Ok(None) };
    let v = v.trim();
    if v.eq_ignore_ascii_case("PT0S") || v == "0" {
        return Ok(Some(None));
    }
    if crate::model::parse_retention(v).is_some() {
        return Ok(Some(Some(v.to_string())));
    }
    let in_form = v
        .strip_prefix('P')
        .and_then(|r| r.get(..r.len().saturating_sub(1)))
        .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
        && v.ends_with(['D', 'W', 'M', 'Y']);
    Err(ServiceError::bad_request(
        "InvalidLongTermRetention",
        if in_form {
            format!("{flag} '{v}' is longer than the 10 years long-term retention keeps backups.")
        } else {
            format!("{flag} '{v}' is not an ISO 8601 duration such as P4W, P12M or P10Y.")
        },
    ))
}

/// `az sql db ltr-policy set`.
pub fn set_ltr_policy(
    ws: &mut Workspace,
    server_name: &str,
    db: &str,
    policy: &LtrPolicy,
) -> ServiceResult<Database> {
    transact(ws, |ws| {
        require_online(ws, server_name, db)?;
        let ws_now = ws.now();
        let weekly = ltr_value("--weekly-retention", &policy.weekly)?;
        let monthly = ltr_value("--monthly-retention", &policy.monthly)?;
        let yearly = ltr_value("--yearly-retention", &policy.yearly)?;
        if let Some(w) = policy.week_of_year
            && !(1..=52).contains(&w)
        {
            return Err(ServiceError::bad_request(
                "InvalidLongTermRetention",
                format!("--week-of-year {w} is not a week of the year (1 to 52)."),
            ));
        }
        let d = server_mut(ws, server_name)?
            .database_mut(db)
            .ok_or_else(|| ServiceError::database_not_found(server_name, db))?;
        let s = &mut d.settings;
        let was_on = s.ltr_weekly_retention.is_some()
            || s.ltr_monthly_retention.is_some()
            || s.ltr_yearly_retention.is_some();
        if let Some(w) = weekly {
            s.ltr_weekly_retention = w;
        }
        if let Some(m) = monthly {
            s.ltr_monthly_retention = m;
        }
        if let Some(y) = yearly {
            s.ltr_yearly_retention = y;
        }
        if let Some(w) = policy.week_of_year {
            s.ltr_week_of_year = Some(w);
        }
        let is_on = s.ltr_weekly_retention.is_some()
            || s.ltr_monthly_retention.is_some()
            || s.ltr_yearly_retention.is_some();
        if is_on && !was_on {
            s.ltr_since = Some(ws_now);
        }
        if s.ltr_yearly_retention.is_some() && s.ltr_week_of_year.is_none() {
            return Err(ServiceError::bad_request(
                "InvalidLongTermRetention",
                "A yearly retention needs the week of the year whose backup is kept (--week-of-year).",
            ));
        }
        Ok(d.clone())
    })
}
