//! Estates in bulk: many databases created in one operation (their DEKs generated, wrapped
//! and their pages encrypted on every core), and `sim generate`, which builds a realistic
//! estate of servers, vaults, keys and databases through the operations layer.
//!
//! An estate is generated as if it had been built over time: the vault requests its
//! databases' creation made are not replayed into the request journal (they would all land
//! in one 10-second throttling window); every access check still runs, once per key. Its
//! key creations are real requests within the vaults' limits: when a window is full the
//! generator lets simulated time pass to the next one with room.

use super::keyvault::{self, data_plane::check_key_use, keys::CreateKey, vaults::CreateVault};
use super::sql::{self, CreateDatabase, CreateServer};
use super::tde::{self, SetProtector};
use super::{KeySource, ServiceError, ServiceResult, database_key, transact};
use crate::crypto::{DataEncryptionKey, RsaKeyMaterial, WrapAlgorithm, par_map};
use crate::model::*;
use rand::{RngExt, SeedableRng};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

/// Creates many databases on one server in one operation: each request is checked as
/// `az sql db create` checks it (all or nothing), each wrapping key's access is checked
/// once, then DEKs are generated, wrapped and their pages encrypted on every core.
pub fn create_databases(
    ws: &mut Workspace,
    server_name: &str,
    reqs: &[CreateDatabase],
) -> ServiceResult<usize> {
    transact(ws, |ws| {
        let mut seen = HashSet::new();
        for req in reqs {
            if !req.server.eq_ignore_ascii_case(server_name) {
                return Err(ServiceError::bad_request(
                    "InvalidArgument",
                    format!(
                        "Database '{}' is asked for on server '{}', not '{server_name}'.",
                        req.name, req.server
                    ),
                ));
            }
            sql::check_new_database(ws, req)?;
            if !seen.insert(req.name.to_ascii_lowercase()) {
                return Err(ServiceError::conflict(
                    "DatabaseAlreadyExists",
                    format!(
                        "Database '{}' already exists. Choose a different database name.",
                        req.name
                    ),
                ));
            }
        }
        // Database-level keys are linked and validated as `az sql db create` does, with
        // the database's own user-assigned identity.
        let mut own_keys = Vec::with_capacity(reqs.len());
        let mut identities = Vec::with_capacity(reqs.len());
        for req in reqs {
            let identity = database_key::check_database_identity(ws, req.identity.as_deref())?;
            own_keys.push(match &req.encryption_protector {
                Some(kid) => {
                    database_key::require_identity_for_own_key(ws, identity.as_deref())?;
                    let uri = super::key_access::parse_kid(kid)?;
                    sql::add_server_key_as(ws, server_name, kid, identity.as_deref())?;
                    let auto = req.encryption_protector_auto_rotation;
                    Some(
                        super::key_access::validate_protector_as(
                            ws,
                            server_name,
                            &uri,
                            auto,
                            identity.as_deref(),
                        )?
                        .name,
                    )
                }
                None => None,
            });
            identities.push(identity);
        }
        let s = super::lookup::server(ws, server_name)?;
        // The key each database is wrapped with, and who reaches it: the server's protector
        // as the server, or the database's own key as the database's identity.
        let mut materials: HashMap<WrapAs, (&RsaKeyMaterial, WrappedDek)> = HashMap::new();
        let wrap_as: Vec<WrapAs> = own_keys
            .iter()
            .zip(&identities)
            .map(|(own, identity)| match own {
                Some(k) => (k.clone(), identity.clone()),
                None => (s.protector.server_key_name.clone(), None),
            })
            .collect();
        for (name, identity) in &wrap_as {
            if materials.contains_key(&(name.clone(), identity.clone())) {
                continue;
            }
            let key = s.key(name).ok_or_else(|| {
                super::lookup::tde_error(ws, server_name, &KeyAccessFailure::KeyNotFound)
            })?;
            let material = match key.key_type {
                ServerKeyType::ServiceManaged => &s.service_managed_key,
                ServerKeyType::AzureKeyVault => {
                    let uri = key.uri.as_deref().and_then(KeyUri::parse).ok_or_else(|| {
                        super::lookup::tde_error(ws, server_name, &KeyAccessFailure::KeyNotFound)
                    })?;
                    let usable = check_key_use(
                        ws,
                        &super::key_access::caller_with(s, identity.as_deref()),
                        &uri,
                        &KeyPermission::TDE_REQUIRED,
                        Some(KeyOperation::WrapKey),
                    )
                    .map_err(|f| super::lookup::tde_error(ws, server_name, &f))?;
                    usable.version.material.rsa().ok_or_else(|| {
                        super::lookup::tde_error(
                            ws,
                            server_name,
                            &KeyAccessFailure::KeyOperationsNotPermitted,
                        )
                    })?
                }
            };
            let template = WrappedDek {
                server_key_name: key.name.clone(),
                thumbprint: key.thumbprint.clone(),
                wrapped: Vec::new(),
            };
            materials.insert((name.clone(), identity.clone()), (material, template));
        }
        let now = ws.now();
        /// A database to build: its request, its own key, and the key it is wrapped with
        /// (with the identity that reaches it).
        type Job<'a> = (&'a CreateDatabase, &'a Option<String>, &'a WrapAs);
        let jobs: Vec<Job> = reqs
            .iter()
            .zip(&own_keys)
            .zip(&wrap_as)
            .map(|((r, o), w)| (r, o, w))
            .collect();
        let platform = super::lookup::new_page_platform_key(ws, server_name)?;
        let built = par_map(&jobs, |(req, own, wrap)| {
            let (material, template) = &materials[*wrap];
            let dek = DataEncryptionKey::generate();
            let wrapped = material
                .wrap(WrapAlgorithm::RsaOaep256, dek.as_bytes())
                .map_err(|e| ServiceError::new("InternalServerError", 500, e.to_string()))?;
            let w = WrappedDek {
                wrapped,
                ..template.clone()
            };
            sql::new_database(now, req, (*own).clone(), &dek, platform.as_ref(), w)
        });
        let dbs = built.into_iter().collect::<ServiceResult<Vec<_>>>()?;
        let n = dbs.len();
        super::lookup::server_mut(ws, server_name)?
            .databases
            .extend(dbs.into_iter().map(Arc::new));
        Ok(n)
    })
}

/// A server key name, with the database identity that reaches it (None: the server's).
type WrapAs = (String, Option<String>);

/// What `sim generate` builds.
#[derive(Clone, Debug)]
pub struct EstateSpec {
    pub servers: usize,
    pub databases_per_server: usize,
    pub vaults: usize,
    pub key_size: usize,
    pub seed: u64,
}

impl EstateSpec {
    pub const MAX_DATABASES: usize = 200_000;
}

/// What was built.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EstateReport {
    pub servers: Vec<String>,
    pub vaults: Vec<String>,
    pub databases: usize,
    pub database_level_keys: usize,
}

const REGIONS: [&str; 4] = ["eastus", "westus", "westeurope", "northeurope"];
const SIZES_GB: [u32; 6] = [32, 64, 128, 250, 500, 1024];

/// `sim generate`: `spec.vaults` vaults (soft delete, purge protection) each holding one TDE
/// key of `spec.key_size` bits and a key for database-level protectors; `spec.servers`
/// servers spread over four regions, nine in ten protected by a vault key (the vault of
/// their region), one in ten on service-managed TDE; `spec.databases_per_server` databases
/// each, mixed tiers and sizes, one in fifty with its own database-level key reached with
/// the estate's user-assigned identity (`umi-<tag>`, granted on every vault). The choices
/// come from `spec.seed`; key material from `keys`. All or nothing.
pub fn generate(
    ws: &mut Workspace,
    spec: &EstateSpec,
    keys: &dyn KeySource,
) -> ServiceResult<EstateReport> {
    check_spec(ws, spec)?;
    // Key material first (the slow part), on every core, before anything changes.
    let vault_material = par_map(&(0..spec.vaults * 2).collect::<Vec<_>>(), |_| {
        keys.generate(spec.key_size)
    });
    let server_material = par_map(&(0..spec.servers).collect::<Vec<_>>(), |_| {
        keys.generate(2048)
    });
    let crypto_err = |e: crate::crypto::CryptoError| {
        ServiceError::new("InternalServerError", 500, e.to_string())
    };
    let mut vault_material = vault_material
        .into_iter()
        .collect::<Result<Vec<_>, _>>()
        .map_err(crypto_err)?
        .into_iter();
    let mut server_material = server_material
        .into_iter()
        .collect::<Result<Vec<_>, _>>()
        .map_err(crypto_err)?
        .into_iter();
    let mut rng = rand::rngs::StdRng::seed_from_u64(spec.seed);
    transact(ws, |ws| {
        let mut report = EstateReport::default();
        let tag = next_estate_tag(ws);
        for region in REGIONS {
            super::resources::create_resource_group(ws, &group_name(&tag, region), region)?;
        }
        let mut vault_keys: Vec<(String, String)> = Vec::new(); // (tde kid, database kid)
        // The user-assigned identity the databases with their own key reach it with.
        let umi = super::identity::create_identity(
            ws,
            &format!("umi-{tag}"),
            &group_name(&tag, REGIONS[0]),
            None,
        )?;
        let umi_id = umi.arm_id();
        for i in 0..spec.vaults {
            let region = REGIONS[i % REGIONS.len()];
            let name = format!("kv-{tag}-{i:03}");
            keyvault::vaults::create_vault(
                ws,
                &CreateVault {
                    name: name.clone(),
                    resource_group: group_name(&tag, region),
                    soft_delete: Some(true),
                    purge_protection: true,
                    ..Default::default()
                },
            )?;
            let mut kids = Vec::new();
            for key in ["tde-protector", "tde-database"] {
                let material = vault_material.next().ok_or_else(|| {
                    ServiceError::new("InternalServerError", 500, "key material ran out")
                })?;
                // Key creation is limited per vault and per subscription (20 and 100 per
                // 10 seconds): the generator paces itself as a careful client would, letting
                // simulated time pass to the next window with room rather than being
                // throttled (an estate of 1,000 servers creates 1,000 keys).
                let room = super::requests::next_room(ws, &name, "KeyCreate", Some(key));
                if room > ws.now() {
                    super::behaviour::advance_with(ws, room - ws.now(), keys)?;
                }
                let (_, kv) = keyvault::keys::create_key(
                    ws,
                    &CreateKey::new(&name, key, KeyType::Rsa, spec.key_size),
                    material,
                )?;
                let vault = super::lookup::live_vault(ws, &name)?;
                kids.push(vault.key_uri(key, &kv.version));
            }
            keyvault::access::set_access_policy(
                ws,
                &name,
                &umi.principal_id,
                &KeyPermission::TDE_REQUIRED
                    .into_iter()
                    .collect::<BTreeSet<_>>(),
            )?;
            vault_keys.push((kids[0].clone(), kids[1].clone()));
            report.vaults.push(name);
        }
        for i in 0..spec.servers {
            let region = REGIONS[i % REGIONS.len()];
            let name = format!("sql-{tag}-{i:03}");
            let material = server_material.next().ok_or_else(|| {
                ServiceError::new("InternalServerError", 500, "key material ran out")
            })?;
            sql::create_server(
                ws,
                &CreateServer {
                    name: name.clone(),
                    resource_group: group_name(&tag, region),
                    location: None,
                    admin_user: "sqladmin".into(),
                    admin_password: "Estate-P@ssw0rd-2026".into(),
                    assign_identity: true,
                    kind: ServerKind::SqlDatabaseServer,
                },
                material,
            )?;
            // The vaults of the server's region, in turn.
            let in_region: Vec<usize> = (0..spec.vaults)
                .filter(|v| v % REGIONS.len() == i % REGIONS.len())
                .collect();
            let vault_index = (!in_region.is_empty())
                .then(|| in_region[(i / REGIONS.len()) % in_region.len()])
                .or((spec.vaults > 0).then_some(i % spec.vaults.max(1)));
            let byok = vault_index.filter(|_| rng.random_range(0..10) != 0);
            if let Some(v) = byok {
                let principal = super::lookup::server(ws, &name)?
                    .identity
                    .as_ref()
                    .map(|id| id.principal_id.clone())
                    .ok_or_else(|| {
                        ServiceError::new("InternalServerError", 500, "no server identity")
                    })?;
                keyvault::access::set_access_policy(
                    ws,
                    &report.vaults[v],
                    &principal,
                    &KeyPermission::TDE_REQUIRED
                        .into_iter()
                        .collect::<BTreeSet<_>>(),
                )?;
                sql::add_server_key(ws, &name, &vault_keys[v].0)?;
                tde::set_protector(
                    ws,
                    &SetProtector {
                        server: name.clone(),
                        key_type: ServerKeyType::AzureKeyVault,
                        kid: Some(vault_keys[v].0.clone()),
                        auto_rotation: false,
                    },
                )?;
            }
            let reqs: Vec<CreateDatabase> = (0..spec.databases_per_server)
                .map(|j| {
                    let tier = if rng.random_range(0..5) == 0 {
                        ServiceTier::BusinessCritical
                    } else {
                        ServiceTier::GeneralPurpose
                    };
                    let size = SIZES_GB[rng.random_range(0..SIZES_GB.len())];
                    let mut req = CreateDatabase::new(&name, &format!("db-{j:04}"), tier, size);
                    req.tags = vec![(
                        "env".into(),
                        ["prod", "test", "dev"][rng.random_range(0..3)].into(),
                    )];
                    if let Some(v) = byok
                        && rng.random_range(0..50) == 0
                    {
                        req.encryption_protector = Some(vault_keys[v].1.clone());
                        req.identity = Some(umi_id.clone());
                        report.database_level_keys += 1;
                    }
                    req
                })
                .collect();
            report.databases += create_databases(ws, &name, &reqs)?;
            report.servers.push(name);
        }
        Ok(report)
    })
}

fn check_spec(ws: &Workspace, spec: &EstateSpec) -> ServiceResult<()> {
    let total = spec.servers.saturating_mul(spec.databases_per_server);
    let existing: usize = ws.servers.iter().map(|s| s.databases.len()).sum();
    let bad = |text: String| Err(ServiceError::bad_request("InvalidArgument", text));
    if spec.servers == 0 || spec.servers > 1000 {
        return bad(format!(
            "--servers must be between 1 and 1000 (asked: {}).",
            spec.servers
        ));
    }
    if spec.databases_per_server > 5000 {
        return bad(format!(
            "--databases-per-server must be at most 5000 (asked: {}).",
            spec.databases_per_server
        ));
    }
    if existing.saturating_add(total) > EstateSpec::MAX_DATABASES {
        return bad(format!(
            "A workspace holds at most {} databases ({existing} exist, {total} asked).",
            EstateSpec::MAX_DATABASES
        ));
    }
    if spec.vaults > 500 {
        return bad(format!(
            "--vaults must be at most 500 (asked: {}).",
            spec.vaults
        ));
    }
    if ![2048, 3072, 4096].contains(&spec.key_size) {
        return bad(format!(
            "--key-size must be 2048, 3072 or 4096 (asked: {}).",
            spec.key_size
        ));
    }
    Ok(())
}

/// `est`, or `est2`, `est3`... when an earlier estate took the name.
fn next_estate_tag(ws: &Workspace) -> String {
    (1..)
        .map(|n| {
            if n == 1 {
                "est".to_string()
            } else {
                format!("est{n}")
            }
        })
        .find(|tag| {
            !ws.resource_groups
                .iter()
                .any(|g| g.name.starts_with(&format!("rg-{tag}-")))
        })
        .unwrap_or_else(|| "est".into())
}

fn group_name(tag: &str, region: &str) -> String {
    format!("rg-{tag}-{region}")
}
