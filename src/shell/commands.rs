//! The `az ...` and `sim ...` commands: each parses its arguments, calls the operations
//! layer and returns the JSON the real CLI would print.

use super::args::{Args, UsageError};
use super::views;
use crate::model::*;
use crate::service::{self, ServiceError, keyvault, sql, tde};
use crate::sim::{Duration, TimingProfile};
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// Why a command failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CommandError {
    Usage(UsageError),
    Service(ServiceError),
}

impl From<UsageError> for CommandError {
    fn from(e: UsageError) -> Self {
        CommandError::Usage(e)
    }
}

impl From<ServiceError> for CommandError {
    fn from(e: ServiceError) -> Self {
        CommandError::Service(e)
    }
}

impl std::fmt::Display for CommandError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CommandError::Usage(u) => write!(f, "ERROR: {}", u.0),
            CommandError::Service(e) => write!(f, "ERROR: ({}) {}", e.code, e.message),
        }
    }
}

pub type CmdResult = Result<Value, CommandError>;

pub(crate) fn usage(text: impl Into<String>) -> CommandError {
    CommandError::Usage(UsageError(text.into()))
}

/// Every command the shell knows, as its words. Used for help and for "did you mean".
pub const COMMANDS: &[&str] = &[
    "az group create",
    "az identity create",
    "az identity show",
    "az identity list",
    "az identity delete",
    "az keyvault create",
    "az keyvault update",
    "az keyvault show",
    "az keyvault delete",
    "az keyvault recover",
    "az keyvault key recover",
    "az keyvault key backup",
    "az keyvault key import",
    "az keyvault key list-deleted",
    "az keyvault key show-deleted",
    "az keyvault key purge",
    "az keyvault list-deleted",
    "az keyvault purge",
    "az keyvault key restore",
    "az sql db tde key revalidate",
    "az sql db tde key revert",
    "az sql db update",
    "az sql server tde-key revalidate",
    "az monitor activity-log list",
    "sim network outage",
    "az monitor action-group create",
    "az monitor action-group list",
    "az monitor activity-log alert create",
    "az monitor activity-log alert list",
    "sim deliveries",
    "sim advisor",
    "sim tde select-backup-key",
    "sim resource-health",
    "sim keyvault move-tenant",
    "az keyvault list",
    "az keyvault set-policy",
    "az keyvault delete-policy",
    "az keyvault key create",
    "az keyvault key show",
    "az keyvault key list",
    "az keyvault key list-versions",
    "az keyvault key set-attributes",
    "az keyvault key delete",
    "az sql server create",
    "az sql server update",
    "az sql server show",
    "az sql server list",
    "az sql db create",
    "az sql db show",
    "az sql db list",
    "az sql db delete",
    "az sql db tde set",
    "az sql db tde show",
    "az sql db tde list-activity",
    "az sql server key create",
    "az sql server key list",
    "az sql server key show",
    "az sql server key delete",
    "az sql server tde-key set",
    "az sql server tde-key show",
    "sim clock show",
    "sim clock advance",
    "sim connect",
    "sim profile set",
    "sim profile show",
    "sim identity delete",
    "sim events",
    "sim activity-log",
];

/// Runs one command (already split into words, with substitutions done).
pub fn run(ws: &mut Workspace, keys: &dyn service::KeySource, words: &[String]) -> CmdResult {
    // The longest known command that prefixes the words.
    let (cmd, rest) = all_commands()
        .filter_map(|c| {
            let parts: Vec<&str> = c.split(' ').collect();
            (words.len() >= parts.len() && words.iter().zip(&parts).all(|(w, p)| w == p))
                .then_some((c, parts.len()))
        })
        .max_by_key(|(_, n)| *n)
        .map(|(c, n)| (c, &words[n..]))
        .ok_or_else(|| unknown_command(words))?;
    let mut a = Args::parse(rest)?;
    // `--subscription` (by id or name) on any command but `az account`'s own: the command
    // runs in that subscription, which must exist.
    if !cmd.starts_with("az account ")
        && let Some(sub) = a.take("--subscription")
    {
        let wanted = sub.join(" ");
        let id = service::resources::find_subscription(ws, &wanted)
            .map_err(|e| usage(e.message))?
            .id
            .clone();
        let home = std::mem::replace(&mut ws.current_subscription, id);
        let out = run_command(ws, keys, words, cmd, a);
        ws.current_subscription = home;
        return out;
    }
    run_command(ws, keys, words, cmd, a)
}

/// Runs `cmd` with its parsed arguments in the current subscription.
fn run_command(
    ws: &mut Workspace,
    keys: &dyn service::KeySource,
    words: &[String],
    cmd: &str,
    mut a: Args,
) -> CmdResult {
    for ignored in ["--only-show-errors", "--debug", "--verbose"] {
        a.take(ignored);
    }
    // `--no-wait` returns at once from the long-running operations where `az` has it; the
    // console's other operations complete at once anyway.
    if a.take("--no-wait").is_some() && super::continuity::NO_WAIT.contains(&cmd) {
        a.set("--no-wait", Vec::new());
    }
    // Key commands name a Managed HSM with --hsm-name where a vault takes --vault-name.
    if cmd.starts_with("az keyvault key ") {
        a.rename("--hsm-name", "--vault-name");
    }
    match cmd {
        "az group create" => {
            a.check_known(&["--name", "--location", "--tags"])?;
            let g = service::resources::create_resource_group(
                ws,
                &a.required("--name")?,
                &a.required("--location")?,
            )?;
            Ok(views::group(ws.current_subscription.as_str(), &g))
        }
        "az keyvault create" => {
            a.check_known(&[
                "--name",
                "--resource-group",
                "--location",
                "--enable-soft-delete",
                "--retention-days",
                "--enable-purge-protection",
                "--sku",
                "--enable-rbac-authorization",
                "--hsm-name",
                "--administrators",
            ])?;
            let hsm = a.get("--hsm-name");
            let req = keyvault::CreateVault {
                name: match &hsm {
                    Some(h) => h.clone(),
                    None => a.required("--name")?,
                },
                resource_group: a.required("--resource-group")?,
                location: a.get("--location"),
                soft_delete: a.bool("--enable-soft-delete")?,
                retention_days: a
                    .get("--retention-days")
                    .map(|d| {
                        d.parse().map_err(|_| {
                            usage(format!(
                                "argument --retention-days: invalid int value: '{d}'"
                            ))
                        })
                    })
                    .transpose()?,
                purge_protection: a.bool("--enable-purge-protection")?.unwrap_or(false),
                tenant: None,
                rbac_authorization: a.bool("--enable-rbac-authorization")?.unwrap_or(false),
            };
            if hsm.is_some() {
                let admins: Vec<PrincipalId> = a
                    .list("--administrators")
                    .into_iter()
                    .map(PrincipalId)
                    .collect();
                return Ok(views::vault(&keyvault::create_managed_hsm(
                    ws, &req, &admins,
                )?));
            }
            Ok(views::vault(&keyvault::create_vault(ws, &req)?))
        }
        "az keyvault update" => {
            a.check_known(&[
                "--name",
                "--resource-group",
                "--default-action",
                "--bypass",
                "--public-network-access",
                "--enable-rbac-authorization",
            ])?;
            if let Some(rbac) = a.bool("--enable-rbac-authorization")? {
                let name = a.required("--name")?;
                return Ok(views::vault(&service::rbac::set_rbac_authorization(
                    ws, &name, rbac,
                )?));
            }
            let name = a.required("--name")?;
            let v = keyvault::vault_state(ws, &name)?;
            let mut acls = v.network.clone();
            if let Some(d) = a.get("--default-action") {
                acls.restricted = match d.as_str() {
                    "Deny" => true,
                    "Allow" => false,
                    _ => {
                        return Err(usage(format!(
                            "argument --default-action: invalid choice: '{d}' (choose from 'Allow', 'Deny')"
                        )));
                    }
                };
            }
            if let Some(b) = a.get("--bypass") {
                acls.bypass_trusted_services = match b.as_str() {
                    "AzureServices" => true,
                    "None" => false,
                    _ => {
                        return Err(usage(format!(
                            "argument --bypass: invalid choice: '{b}' (choose from 'AzureServices', 'None')"
                        )));
                    }
                };
            }
            if let Some(p) = a.get("--public-network-access") {
                acls.public_access_disabled = match p.as_str() {
                    "Disabled" => true,
                    "Enabled" => false,
                    _ => {
                        return Err(usage(format!(
                            "argument --public-network-access: invalid choice: '{p}' (choose from 'Disabled', 'Enabled')"
                        )));
                    }
                };
            }
            Ok(views::vault(&keyvault::set_network_acls(ws, &name, acls)?))
        }
        "az keyvault show" => {
            a.check_known(&["--name", "--resource-group"])?;
            Ok(views::vault(&keyvault::show_vault(
                ws,
                &a.required("--name")?,
            )?))
        }
        "az keyvault list" => {
            a.check_known(&["--resource-group"])?;
            let g = a.get("--resource-group");
            Ok(Value::Array(
                ws.vaults
                    .iter()
                    .filter(|v| {
                        v.deleted.is_none()
                            && g.as_ref()
                                .is_none_or(|g| v.resource_group.eq_ignore_ascii_case(g))
                    })
                    .map(views::vault)
                    .collect(),
            ))
        }
        "az keyvault set-policy" => {
            a.check_known(&[
                "--name",
                "--resource-group",
                "--object-id",
                "--key-permissions",
                "--secret-permissions",
                "--certificate-permissions",
            ])?;
            let name = a.required("--name")?;
            let oid = PrincipalId(a.required("--object-id")?);
            let mut perms: BTreeSet<KeyPermission> = BTreeSet::new();
            for p in a.list("--key-permissions") {
                if p.eq_ignore_ascii_case("all") {
                    perms.extend(KeyPermission::ALL);
                    continue;
                }
                perms.insert(KeyPermission::parse(&p).ok_or_else(|| {
                    usage(format!(
                        "argument --key-permissions: invalid choice: '{p}' (choose from {})",
                        KeyPermission::ALL
                            .iter()
                            .map(|k| format!("'{}'", k.as_str()))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                })?);
            }
            if !a.has("--key-permissions") {
                let existing = keyvault::vault_state(ws, &name)?;
                perms = existing
                    .access_policies
                    .iter()
                    .filter(|p| p.object_id == oid)
                    .flat_map(|p| p.key_permissions.clone())
                    .collect();
            }
            Ok(views::vault(&keyvault::set_access_policy(
                ws, &name, &oid, &perms,
            )?))
        }
        "az keyvault delete-policy" => {
            a.check_known(&["--name", "--resource-group", "--object-id"])?;
            Ok(views::vault(&keyvault::delete_access_policy(
                ws,
                &a.required("--name")?,
                &PrincipalId(a.required("--object-id")?),
            )?))
        }
        "az keyvault key create" => {
            a.check_known(&[
                "--vault-name",
                "--name",
                "--protection",
                "--kty",
                "--size",
                "--curve",
                "--ops",
                "--disabled",
                "--expires",
                "--not-before",
                "--tags",
            ])?;
            let kty = kty_arg(&a)?;
            let curve = match (kty.is_rsa(), a.get("--curve")) {
                (true, Some(_)) => {
                    return Err(usage("--curve is for EC keys (--kty EC or EC-HSM)"));
                }
                (true, None) => None,
                (false, c) => Some(
                    crate::crypto::EcCurve::parse(c.as_deref().unwrap_or("P-256")).ok_or_else(
                        || {
                            usage(format!(
                                "argument --curve: invalid choice: '{}' (choose from 'P-256', 'P-384', 'P-521'; P-256K is not simulated)",
                                c.unwrap_or_default()
                            ))
                        },
                    )?,
                ),
            };
            let size = match (curve, a.get("--size")) {
                (Some(c), _) => c.bits(),
                (None, Some(s)) => s
                    .parse()
                    .map_err(|_| usage(format!("argument --size: invalid int value: '{s}'")))?,
                (None, None) => 2048,
            };
            let mut req = keyvault::CreateKey::new(
                &a.required("--vault-name")?,
                &a.required("--name")?,
                kty,
                size,
            );
            req.enabled = a.bool("--disabled")? != Some(true);
            req.expires = time_arg(&a, "--expires")?;
            req.not_before = time_arg(&a, "--not-before")?;
            if a.has("--ops") {
                req.ops = Some(ops_arg(&a)?);
            }
            keyvault::validate_create_key(ws, &req)?;
            let internal = |e: crate::crypto::CryptoError| {
                ServiceError::new("InternalServerError", 500, e.to_string())
            };
            let material: crate::crypto::KeyMaterial = match curve {
                Some(c) => crate::crypto::KeyMaterial::Ec(
                    crate::crypto::EcKeyMaterial::generate(c).map_err(internal)?,
                ),
                None => keys.generate(size).map_err(internal)?.into(),
            };
            let (k, kv) = keyvault::create_key(ws, &req, material)?;
            let v = keyvault::vault_state(ws, &req.vault)?;
            Ok(views::key(&v, &k, &kv))
        }
        "az keyvault key show" => {
            a.check_known(&["--vault-name", "--name", "--version", "--id"])?;
            let (vault, name, version) = key_ref(&a)?;
            let (v, k, kv) = keyvault::show_key(ws, &vault, &name, version.as_deref())?;
            Ok(views::key(&v, &k, &kv))
        }
        "az keyvault key list" => {
            a.check_known(&["--vault-name"])?;
            let (v, keys) = keyvault::list_keys(ws, &a.required("--vault-name")?)?;
            Ok(Value::Array(
                keys.iter().map(|k| views::key_list_item(&v, k)).collect(),
            ))
        }
        "az keyvault key list-versions" => {
            a.check_known(&["--vault-name", "--name", "--id"])?;
            let (vault, name, _) = key_ref(&a)?;
            let (v, k) = keyvault::list_key_versions(ws, &vault, &name)?;
            Ok(Value::Array(
                k.versions
                    .iter()
                    .map(|kv| views::key_version_item(&v, &k, kv))
                    .collect(),
            ))
        }
        "az keyvault key set-attributes" => {
            a.check_known(&[
                "--vault-name",
                "--name",
                "--version",
                "--id",
                "--enabled",
                "--expires",
                "--not-before",
                "--ops",
            ])?;
            let (vault, name, version) = key_ref(&a)?;
            let attrs = keyvault::KeyAttributes {
                enabled: a.bool("--enabled")?,
                not_before: a
                    .has("--not-before")
                    .then(|| time_arg(&a, "--not-before"))
                    .transpose()?,
                expires: a
                    .has("--expires")
                    .then(|| time_arg(&a, "--expires"))
                    .transpose()?,
                ops: a.has("--ops").then(|| ops_arg(&a)).transpose()?,
            };
            keyvault::set_key_attributes(ws, &vault, &name, version.as_deref(), &attrs)?;
            let (v, k, kv) = keyvault::key_state(ws, &vault, &name, version.as_deref())?;
            Ok(views::key(&v, &k, &kv))
        }
        "az keyvault key delete" => {
            a.check_known(&["--vault-name", "--name", "--id"])?;
            let (vault, name, _) = key_ref(&a)?;
            let k = keyvault::delete_key(ws, &vault, &name)?;
            let v = ws
                .vault(&vault)
                .cloned()
                .ok_or_else(|| ServiceError::vault_not_found(&vault))?;
            Ok(views::deleted_key(&v, &k))
        }
        "az sql server create" => {
            a.check_known(&[
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
            ])?;
            let req = sql::CreateServer {
                name: a.required("--name")?,
                resource_group: a.required("--resource-group")?,
                location: a.get("--location"),
                admin_user: a.required("--admin-user")?,
                admin_password: a.required("--admin-password")?,
                assign_identity: a.bool("--assign-identity")?.unwrap_or(false),
                kind: ServerKind::SqlDatabaseServer,
            };
            let identities = identity_args(&a);
            sql::validate_create_server(ws, &req)?;
            let key = keys
                .generate(2048)
                .map_err(|e| ServiceError::new("InternalServerError", 500, e.to_string()))?;
            let s = sql::create_server_with(ws, &req, &identities, a.get("--key-id"), key)?;
            Ok(views::server(ws, &s))
        }
        "az sql server update" => {
            // az spells it -i or --assign_identity here (--assign-identity is create's).
            if words.iter().any(|w| w == "--assign-identity") {
                return Err(usage("unrecognized arguments: --assign-identity"));
            }
            a.rename("--assign_identity", "--assign-identity");
            a.check_known(&[
                "--name",
                "--resource-group",
                "--assign-identity",
                "--identity-type",
                "--user-assigned-identity-id",
                "--primary-user-assigned-identity-id",
                "--federated-client-id",
            ])?;
            let name = a.required("--name")?;
            check_group(ws, &a, &name)?;
            let identities = identity_args(&a);
            let assign = a.bool("--assign-identity")?.unwrap_or(false);
            let s = if identities.identity_type.is_some()
                || !identities.user_assigned.is_empty()
                || identities.primary.is_some()
                || identities.federated_client_id.is_some()
            {
                service::identity::set_server_identities(ws, &name, &identities, assign)?
            } else if assign {
                sql::assign_identity(ws, &name)?
            } else {
                sql::server(ws, &name)?.clone()
            };
            Ok(views::server(ws, &s))
        }
        "az identity create" => {
            a.check_known(&["--name", "--resource-group", "--location", "--tags"])?;
            let i = service::identity::create_identity(
                ws,
                &a.required("--name")?,
                &a.required("--resource-group")?,
                a.get("--location").as_deref(),
            )?;
            Ok(views::identity(&i))
        }
        "az identity show" | "az identity delete" => {
            a.check_known(&["--name", "--resource-group", "--ids"])?;
            let (name, group) = match a.get("--ids") {
                Some(id) => {
                    let i = ws.identity(&id).ok_or_else(|| {
                        ServiceError::not_found(
                            "ResourceNotFound",
                            format!("The Resource '{id}' was not found."),
                        )
                    })?;
                    (i.name.clone(), i.resource_group.clone())
                }
                None => (a.required("--name")?, a.required("--resource-group")?),
            };
            if cmd == "az identity show" {
                Ok(views::identity(service::identity::show_identity(
                    ws, &name, &group,
                )?))
            } else {
                service::identity::delete_identity(ws, &name, &group)?;
                Ok(Value::Null)
            }
        }
        "az identity list" => {
            a.check_known(&["--resource-group"])?;
            let g = a.get("--resource-group");
            Ok(Value::Array(
                ws.identities
                    .iter()
                    .filter(|i| i.subscription == ws.current_subscription)
                    .filter(|i| {
                        g.as_ref()
                            .is_none_or(|g| i.resource_group.eq_ignore_ascii_case(g))
                    })
                    .map(views::identity)
                    .collect(),
            ))
        }
        "az sql server show" => {
            a.check_known(&["--name", "--resource-group"])?;
            let name = a.required("--name")?;
            check_group(ws, &a, &name)?;
            // A managed instance is `az sql mi`'s, not a logical server.
            let s = sql::server(ws, &name)?;
            if s.kind == ServerKind::ManagedInstance {
                return Err(ServiceError::server_not_found(&name).into());
            }
            Ok(views::server(ws, s))
        }
        "az sql server list" => {
            a.check_known(&["--resource-group"])?;
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
        "az sql db create" => {
            a.check_known(&[
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
            ])?;
            let server = a.required("--server")?;
            check_group(ws, &a, &server)?;
            let tier = match a.get("--edition").or(a.get("--tier")) {
                Some(t) => ServiceTier::parse(&t).ok_or_else(|| usage(format!("argument --edition: invalid value '{t}' (GeneralPurpose or BusinessCritical are simulated)")))?,
                None => ServiceTier::GeneralPurpose,
            };
            let max_size_gb = match a.get("--max-size") {
                Some(s) => s
                    .trim_end_matches("GB")
                    .trim_end_matches("gb")
                    .parse()
                    .map_err(|_| {
                        usage(format!(
                            "argument --max-size: invalid size '{s}' (e.g. 32GB)"
                        ))
                    })?,
                None => 32,
            };
            let identity = a.get("--user-assigned-identity-id");
            let link_keys = a.list("--keys");
            let req = sql::CreateDatabase {
                tags: tags_arg(&a)?,
                settings: DatabaseSettings {
                    elastic_pool: a.get("--elastic-pool"),
                    read_scale: match a.get("--read-scale").as_deref() {
                        None | Some("Disabled") => false,
                        Some("Enabled") => true,
                        Some(other) => {
                            return Err(usage(format!(
                                "argument --read-scale: invalid choice: '{other}' (choose from 'Disabled', 'Enabled')"
                            )));
                        }
                    },
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
                encryption_protector: a.get("--encryption-protector"),
                encryption_protector_auto_rotation: a
                    .bool("--encryption-protector-auto-rotation")?
                    .unwrap_or(false),
                identity: identity.clone(),
                ..sql::CreateDatabase::new(&server, &a.required("--name")?, tier, max_size_gb)
            };
            // Keys named with --keys are linked first (with the database's identity), all
            // in one operation with the creation.
            let d = service::transact(ws, |ws| {
                let id = service::database_key::check_database_identity(ws, identity.as_deref())?;
                for kid in &link_keys {
                    sql::add_server_key_as(ws, &server, kid, id.as_deref())?;
                }
                sql::create_database(ws, &req)
            })?;
            Ok(views::database_in(ws, sql::server(ws, &server)?, &d))
        }
        "az sql db tde list-activity" if ws.profile == crate::sim::TimingProfile::Current => {
            // Removed from az in 2.35 (2022): today's CLI does not know it.
            Err(usage(
                "'list-activity' is misspelled or not recognized by the system.",
            ))
        }
        "az sql db show"
        | "az sql db delete"
        | "az sql db tde show"
        | "az sql db tde set"
        | "az sql db tde list-activity" => {
            let name_flag = if cmd.contains(" tde ") {
                "--database"
            } else {
                "--name"
            };
            a.check_known(&[
                name_flag,
                "--server",
                "--resource-group",
                "--yes",
                "--status",
                "--expand-keys",
                "--keys-filter",
            ])?;
            let server = a.required("--server")?;
            check_group(ws, &a, &server)?;
            let db = a.required(name_flag)?;
            let s = sql::server(ws, &server)?;
            let d = s
                .database(&db)
                .ok_or_else(|| ServiceError::database_not_found(&server, &db))?;
            match cmd {
                "az sql db show" => {
                    let mut v = views::database_in(ws, s, d);
                    if a.has("--expand-keys") {
                        let since = time_arg(&a, "--keys-filter")?;
                        v["keys"] = views::database_keys(s, d, since);
                    }
                    Ok(v)
                }
                "az sql db tde show" => Ok(views::database_tde(s, d)),
                // The 2021 CLI's encryption scan activity: a scan in this console completes
                // as TDE is switched, so none is ever in progress (an empty list, as az
                // prints for a database that is not being encrypted or decrypted).
                "az sql db tde list-activity" => Ok(Value::Array(Vec::new())),
                "az sql db delete" => {
                    sql::delete_database(ws, &server, &db)?;
                    Ok(Value::Null)
                }
                _ => {
                    let status = a.required("--status")?;
                    let enabled = match status.as_str() {
                        "Enabled" => true,
                        "Disabled" => false,
                        other => {
                            return Err(usage(format!(
                                "argument --status: invalid choice: '{other}' (choose from 'Disabled', 'Enabled')"
                            )));
                        }
                    };
                    let d = sql::set_database_tde(ws, &server, &db, enabled)?;
                    Ok(views::database_tde(sql::server(ws, &server)?, &d))
                }
            }
        }
        "az sql db list" => {
            a.check_known(&["--server", "--resource-group"])?;
            let server = a.required("--server")?;
            check_group(ws, &a, &server)?;
            let s = sql::server(ws, &server)?;
            Ok(Value::Array(
                s.databases
                    .iter()
                    .map(|d| views::database_in(ws, s, d))
                    .collect(),
            ))
        }
        "az sql server key create" => {
            a.check_known(&["--server", "--resource-group", "--kid"])?;
            let server = a.required("--server")?;
            check_group(ws, &a, &server)?;
            let k = sql::add_server_key(ws, &server, &a.required("--kid")?)?;
            Ok(views::server_key(sql::server(ws, &server)?, &k))
        }
        "az sql server key list" => {
            a.check_known(&["--server", "--resource-group"])?;
            let server = a.required("--server")?;
            check_group(ws, &a, &server)?;
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
        "az sql server key show" | "az sql server key delete" => {
            a.check_known(&["--server", "--resource-group", "--name", "--kid", "--yes"])?;
            let server = a.required("--server")?;
            check_group(ws, &a, &server)?;
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
        "az sql server tde-key set" => {
            a.check_known(&[
                "--server",
                "--resource-group",
                "--server-key-type",
                "--kid",
                "--auto-rotation-enabled",
            ])?;
            let server = a.required("--server")?;
            check_group(ws, &a, &server)?;
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
        "az sql server tde-key show" => {
            a.check_known(&["--server", "--resource-group"])?;
            let server = a.required("--server")?;
            check_group(ws, &a, &server)?;
            let (p, k) = tde::show_protector(ws, &server)?;
            Ok(views::protector(sql::server(ws, &server)?, &p, &k))
        }
        "az keyvault delete" | "az keyvault recover" => {
            a.check_known(&["--name", "--resource-group"])?;
            let name = a.required("--name")?;
            if cmd.ends_with("delete") {
                keyvault::delete_vault(ws, &name)?;
                Ok(Value::Null)
            } else {
                Ok(views::vault(&keyvault::recover_vault(ws, &name)?))
            }
        }
        "az keyvault key list-deleted" => {
            a.check_known(&["--vault-name"])?;
            let (v, keys) = keyvault::list_deleted_keys(ws, &a.required("--vault-name")?)?;
            Ok(Value::Array(
                keys.iter().map(|k| views::deleted_key(&v, k)).collect(),
            ))
        }
        "az keyvault key show-deleted" => {
            a.check_known(&["--vault-name", "--name", "--id"])?;
            let (vault, name, _) = key_ref(&a)?;
            let (v, k) = keyvault::show_deleted_key(ws, &vault, &name)?;
            Ok(views::deleted_key(&v, &k))
        }
        "az keyvault key purge" => {
            a.check_known(&["--vault-name", "--name", "--id"])?;
            let (vault, name, _) = key_ref(&a)?;
            keyvault::purge_key(ws, &vault, &name)?;
            Ok(Value::Null)
        }
        "az keyvault list-deleted" => {
            a.check_known(&["--resource-type"])?;
            Ok(Value::Array(
                keyvault::list_deleted_vaults(ws)
                    .iter()
                    .map(|v| {
                        let d = v.deleted.as_ref();
                        json!({"name": v.name, "properties": {"location": v.location, "vaultId": service::ids::vault(v), "deletionDate": d.map(|d| d.deleted_on.to_iso()), "scheduledPurgeDate": d.map(|d| d.scheduled_purge.to_iso()), "purgeProtectionEnabled": v.purge_protection}, "type": "Microsoft.KeyVault/deletedVaults"})
                    })
                    .collect(),
            ))
        }
        "az keyvault purge" => {
            a.check_known(&["--name", "--location"])?;
            keyvault::purge_vault(ws, &a.required("--name")?)?;
            Ok(Value::Null)
        }
        "az keyvault key import" => {
            a.check_known(&[
                "--vault-name",
                "--name",
                "--pem-file",
                "--pfx-file",
                "--pfx-password",
                "--byok-file",
                "--kty",
                "--protection",
            ])?;
            let vault = a.required("--vault-name")?;
            let name = a.required("--name")?;
            let kty = kty_arg(&a)?;
            let read = |file: &str| {
                crate::persist::read_user_file(file)
                    .map_err(|e| usage(format!("cannot read '{file}': {e}")))
            };
            let (k, kv) = match (
                a.get("--pem-file"),
                a.get("--pfx-file"),
                a.get("--byok-file"),
            ) {
                (Some(file), None, None) => {
                    let pem = String::from_utf8_lossy(&read(&file)?).to_string();
                    if kty.is_rsa() {
                        keyvault::import_pem_key(ws, &vault, &name, kty, &pem)?
                    } else {
                        keyvault::import_ec_pem_key(ws, &vault, &name, kty, &pem)?
                    }
                }
                (None, Some(file), None) => {
                    let password = a.get("--pfx-password").unwrap_or_default();
                    keyvault::import_pfx_key(ws, &vault, &name, kty, &read(&file)?, &password)?
                }
                (None, None, Some(file)) => {
                    keyvault::import_byok_key(ws, &vault, &name, kty, &read(&file)?)?
                }
                _ => {
                    return Err(usage(
                        "give exactly one of --pem-file, --pfx-file (with --pfx-password) or --byok-file",
                    ));
                }
            };
            let v = keyvault::vault_state(ws, &vault)?;
            Ok(views::key(&v, &k, &kv))
        }
        "az keyvault key backup" => {
            a.check_known(&["--vault-name", "--name", "--id", "--file"])?;
            let (vault, name, _) = key_ref(&a)?;
            let file = a.required("--file")?;
            if std::path::Path::new(&file).exists() {
                return Err(usage(format!("File '{file}' already exists.")));
            }
            // Recorded as backed up only once the file is safely written.
            let mut draft = ws.clone();
            let blob = keyvault::backup_key(&mut draft, &vault, &name)?;
            crate::persist::write_new_file(std::path::Path::new(&file), &blob).map_err(usage)?;
            *ws = draft;
            // az prints nothing for a backup.
            Ok(Value::Null)
        }
        "az keyvault key restore" => {
            a.check_known(&["--vault-name", "--file"])?;
            let vault = a.required("--vault-name")?;
            let file = a.required("--file")?;
            let blob = crate::persist::read_user_file(&file)
                .map_err(|e| usage(format!("cannot read '{file}': {e}")))?;
            let k = keyvault::restore_key(ws, &vault, &blob)?;
            let (v, k, kv) = keyvault::key_state(ws, &vault, &k.name, None)?;
            Ok(views::key(&v, &k, &kv))
        }
        "az keyvault key recover" => {
            a.check_known(&["--vault-name", "--name", "--id"])?;
            let (vault, name, _) = key_ref(&a)?;
            keyvault::recover_key(ws, &vault, &name)?;
            let (v, k, kv) = keyvault::key_state(ws, &vault, &name, None)?;
            Ok(views::key(&v, &k, &kv))
        }
        "az sql db tde key revalidate" => {
            a.check_known(&["--database", "--server", "--resource-group"])?;
            let server = a.required("--server")?;
            check_group(ws, &a, &server)?;
            let d =
                service::recovery::revalidate_database(ws, &server, &a.required("--database")?)?;
            Ok(views::database_in(ws, sql::server(ws, &server)?, &d))
        }
        "az sql db tde key revert" => {
            a.check_known(&["--database", "--server", "--resource-group"])?;
            let server = a.required("--server")?;
            check_group(ws, &a, &server)?;
            let d = service::database_key::revert_database_protector(
                ws,
                &server,
                &a.required("--database")?,
            )?;
            Ok(views::database_in(ws, sql::server(ws, &server)?, &d))
        }
        "az sql db update" => {
            a.check_known(&[
                "--name",
                "--server",
                "--resource-group",
                "--encryption-protector",
                "--encryption-protector-auto-rotation",
                "--assign-identity",
                "--user-assigned-identity-id",
                "--keys",
                "--federated-client-id",
            ])?;
            let server = a.required("--server")?;
            check_group(ws, &a, &server)?;
            let name = a.required("--name")?;
            let identity = a.get("--user-assigned-identity-id");
            let link_keys = a.list("--keys");
            let protector = a.get("--encryption-protector");
            if identity.is_none() && link_keys.is_empty() && protector.is_none() {
                return Err(usage(
                    "az sql db update: nothing to update (the simulated properties are --assign-identity --user-assigned-identity-id, --keys and --encryption-protector; use `az sql db tde key revert` to go back to the server's key)",
                ));
            }
            let auto = a
                .bool("--encryption-protector-auto-rotation")?
                .unwrap_or(false);
            // Identity, then keys, then the protector: one operation, all or nothing.
            let d = service::transact(ws, |ws| {
                if let Some(id) = &identity {
                    service::database_key::set_database_identity(ws, &server, &name, id)?;
                }
                let own = sql::server(ws, &server)?
                    .database(&name)
                    .ok_or_else(|| ServiceError::database_not_found(&server, &name))?
                    .identity
                    .clone();
                for kid in &link_keys {
                    sql::add_server_key_as(ws, &server, kid, own.as_deref())?;
                }
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
        "az sql server tde-key revalidate" => {
            a.check_known(&["--server", "--resource-group"])?;
            let server = a.required("--server")?;
            check_group(ws, &a, &server)?;
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
        "az monitor activity-log list" => {
            a.check_known(&[
                "--resource-group",
                "--offset",
                "--max-events",
                "--caller",
                "--status",
                "--resource-id",
            ])?;
            let g = a
                .get("--resource-group")
                .map(|g| format!("/resourcegroups/{}/", g.to_ascii_lowercase()));
            let caller = a.get("--caller");
            let status = a.get("--status");
            let resource = a.get("--resource-id");
            let now = ws.now();
            Ok(Value::Array(
                ws.activity_log
                    .iter()
                    .rev()
                    .filter(|e| e.visible(now))
                    .filter(|e| g.as_ref().is_none_or(|g| e.resource.to_ascii_lowercase().contains(g.as_str())))
                    .filter(|e| caller.as_deref().is_none_or(|c| e.caller.eq_ignore_ascii_case(c)))
                    .filter(|e| status.as_deref().is_none_or(|s| e.status.as_str().eq_ignore_ascii_case(s)))
                    .filter(|e| resource.as_deref().is_none_or(|r| e.resource.eq_ignore_ascii_case(r)))
                    .map(|e| {
                        json!({
                            "caller": e.caller,
                            "eventTimestamp": e.time.to_iso(),
                            "submissionTimestamp": e.available_at.unwrap_or(e.time).to_iso(),
                            "operationName": {"value": e.operation, "localizedValue": e.operation},
                            "status": {"value": e.status.as_str(), "localizedValue": e.status.as_str()},
                            "resourceId": e.resource,
                            "description": e.message,
                            "level": if e.operation == "MakeDatabaseInaccessible" || e.status == ActivityStatus::Failed { "Error" } else { "Informational" }
                        })
                    })
                    .collect(),
            ))
        }
        "az monitor action-group create" => {
            a.check_known(&["--name", "--resource-group", "--short-name", "--action"])?;
            let mut receivers = Vec::new();
            for g in a.groups("--action") {
                // az takes sms and voice as NAME COUNTRY_CODE PHONE_NUMBER.
                let phone;
                let (kind, name, target) = match g.as_slice() {
                    [k, n, cc, number]
                        if ["sms", "voice"].contains(&k.to_ascii_lowercase().as_str()) =>
                    {
                        phone = format!("+{} {number}", cc.trim_start_matches('+'));
                        (k, n, &phone)
                    }
                    [k, n, t, ..] => (k, n, t),
                    _ => {
                        return Err(usage(
                            "argument --action: expected TYPE NAME TARGET, e.g. --action webhook hook1 http://127.0.0.1:8080/alert",
                        ));
                    }
                };
                let kind = ReceiverKind::parse(kind).ok_or_else(|| {
                    usage(format!(
                        "argument --action: invalid type '{kind}' (choose from {})",
                        ReceiverKind::ALL
                            .iter()
                            .map(|k| k.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                })?;
                receivers.push(Receiver {
                    name: name.clone(),
                    kind,
                    target: target.clone(),
                });
            }
            let name = a.required("--name")?;
            let group = ActionGroup {
                short_name: a
                    .get("--short-name")
                    .unwrap_or_else(|| name.chars().take(12).collect()),
                name,
                resource_group: a.required("--resource-group")?,
                receivers,
            };
            let created = service::monitor::create_action_group(ws, group)?;
            Ok(action_group_json(ws, &created))
        }
        "az monitor action-group list" => {
            a.check_known(&["--resource-group"])?;
            Ok(Value::Array(
                ws.action_groups
                    .iter()
                    .map(|g| action_group_json(ws, g))
                    .collect(),
            ))
        }
        "az monitor activity-log alert create" => {
            a.check_known(&[
                "--name",
                "--resource-group",
                "--condition",
                "--action-group",
                "--scope",
                "--description",
            ])?;
            let condition = a.required("--condition")?;
            let mut operation = String::new();
            let mut status = None;
            for term in condition.split(" and ") {
                match term.trim().split_once('=') {
                    Some(("operationName", v)) => operation = v.trim().to_string(),
                    Some(("status", v)) => status = Some(v.trim().to_string()),
                    Some(("category", _)) => {}
                    _ => {
                        return Err(usage(format!(
                            "argument --condition: cannot read '{term}' (use e.g. category=Administrative and operationName=MakeDatabaseInaccessible)"
                        )));
                    }
                }
            }
            let group = a.required("--resource-group")?;
            let scope = a
                .get("--scope")
                .unwrap_or_else(|| format!("/subscriptions/{}", ws.current_subscription));
            let rule = AlertRule {
                name: a.required("--name")?,
                resource_group: group,
                scope,
                operation_name: operation,
                status,
                action_groups: a.list("--action-group"),
                enabled: true,
            };
            let r = service::monitor::create_alert_rule(ws, rule)?;
            Ok(
                json!({"name": r.name, "scopes": [r.scope], "condition": {"allOf": [{"field": "operationName", "equals": r.operation_name}]}, "actions": {"actionGroups": r.action_groups}, "enabled": r.enabled, "type": "Microsoft.Insights/ActivityLogAlerts"}),
            )
        }
        "az monitor activity-log alert list" => {
            a.check_known(&["--resource-group"])?;
            Ok(Value::Array(ws.alert_rules.iter().map(|r| json!({"name": r.name, "scopes": [r.scope], "operationName": r.operation_name, "status": r.status, "actionGroups": r.action_groups, "enabled": r.enabled})).collect()))
        }
        "sim tde select-backup-key" => {
            a.check_known(&["--server", "--kid"])?;
            let server = a.required("--server")?;
            let names =
                service::recovery::revalidate_with_backup_key(ws, &server, &a.required("--kid")?)?;
            let s = sql::server(ws, &server)?;
            Ok(Value::Array(
                s.databases
                    .iter()
                    .filter(|d| names.contains(&d.name))
                    .map(|d| views::database(s, d))
                    .collect(),
            ))
        }
        "sim advisor" => {
            a.check_known(&[])?;
            Ok(serde_json::to_value(service::advisor::advise(ws)).unwrap_or(Value::Null))
        }
        "sim deliveries" => {
            a.check_known(&[])?;
            Ok(Value::Array(ws.deliveries.iter().map(|d| json!({"time": d.time.to_iso(), "alertRule": d.alert_rule, "actionGroup": d.action_group, "receiver": d.receiver, "type": d.kind.as_str(), "target": d.target, "result": d.result})).collect()))
        }
        "sim resource-health" => {
            a.check_known(&["--server", "--database"])?;
            let server = a.required("--server")?;
            let db = a.required("--database")?;
            let d = sql::server(ws, &server)?
                .database(&db)
                .ok_or_else(|| ServiceError::database_not_found(&server, &db))?;
            Ok(Value::Array(d.health_history.iter().map(|h| json!({"time": h.time.to_iso(), "availabilityState": format!("{:?}", h.health), "summary": h.reason})).collect()))
        }
        "sim network outage" => {
            a.check_known(&["--server", "--minutes"])?;
            let minutes = a.required("--minutes")?;
            let m: i64 = minutes.parse().map_err(|_| {
                usage(format!(
                    "argument --minutes: invalid int value: '{minutes}'"
                ))
            })?;
            let until = sql::start_network_outage(ws, &a.required("--server")?, m)?;
            Ok(json!({"outageUntil": until.to_iso()}))
        }
        "sim keyvault move-tenant" => {
            a.check_known(&["--name", "--tenant-id"])?;
            Ok(views::vault(&keyvault::move_vault_to_tenant(
                ws,
                &a.required("--name")?,
                &TenantId(a.required("--tenant-id")?),
            )?))
        }
        "sim clock show" => {
            a.check_known(&[])?;
            Ok(clock_json(ws))
        }
        "sim clock advance" => {
            let text = a
                .take_positional()
                .first()
                .cloned()
                .ok_or_else(|| usage("usage: sim clock advance <N>m|h|d"))?;
            a.check_known(&[])?;
            let d = Duration::parse(&text).ok_or_else(|| {
                usage(format!(
                    "invalid duration '{text}': use e.g. 30s, 20m, 9h or 2d"
                ))
            })?;
            service::behaviour::advance_with(ws, d, keys)?;
            Ok(clock_json(ws))
        }
        "sim connect" => {
            a.check_known(&["--server", "--database"])?;
            sql::connect(ws, &a.required("--server")?, &a.required("--database")?)?;
            Ok(json!({"connected": true}))
        }
        "sim profile set" => {
            let text = a
                .take_positional()
                .first()
                .cloned()
                .ok_or_else(|| usage("usage: sim profile set 2021|current"))?;
            a.check_known(&[])?;
            let p = TimingProfile::parse(&text).ok_or_else(|| {
                usage(format!("invalid profile '{text}': choose 2021 or current"))
            })?;
            service::set_profile(ws, p)?;
            Ok(json!({"profile": p.as_str()}))
        }
        "sim profile show" => {
            a.check_known(&[])?;
            Ok(
                json!({"profile": ws.profile.as_str(), "autoHealWindow": ws.profile.auto_heal_window().human()}),
            )
        }
        "sim identity delete" => {
            a.check_known(&["--server"])?;
            let s = sql::delete_identity(ws, &a.required("--server")?)?;
            Ok(views::server(ws, &s))
        }
        "sim events" => {
            a.check_known(&[])?;
            Ok(Value::Array(
                ws.schedule
                    .events
                    .iter()
                    .map(|e| {
                        // `{"at", "event": name, ...its fields}`.
                        let mut out = serde_json::Map::new();
                        out.insert("at".into(), json!(e.at.to_iso()));
                        match serde_json::to_value(&e.event) {
                            Ok(Value::Object(m)) => {
                                for (name, fields) in m {
                                    out.insert("event".into(), json!(name));
                                    if let Value::Object(f) = fields {
                                        out.extend(f);
                                    }
                                }
                            }
                            Ok(other) => {
                                out.insert("event".into(), other);
                            }
                            Err(_) => {}
                        }
                        Value::Object(out)
                    })
                    .collect(),
            ))
        }
        "sim activity-log" => {
            a.check_known(&[])?;
            Ok(Value::Array(
                ws.activity_log
                    .iter()
                    .filter(|e| e.visible(ws.now()))
                    .map(|e| json!({"eventTimestamp": e.time.to_iso(), "operationName": e.operation, "status": e.status.as_str(), "resourceId": e.resource, "description": e.message}))
                    .collect(),
            ))
        }
        other => EXTENSIONS
            .iter()
            .find(|(names, _)| names.contains(&other))
            .and_then(|(_, run)| run(ws, keys, other, &mut a))
            .unwrap_or_else(|| Err(unknown_command(words))),
    }
}

/// `az … --help`: a command's arguments (as its own parser knows them), or a group's
/// commands. Runs on a copy: help never changes the workspace.
pub fn help_for(ws: &Workspace, keys: &dyn service::KeySource, words: &[String]) -> String {
    let words: Vec<String> = words
        .iter()
        .filter(|w| *w != "--help" && *w != "-h")
        .cloned()
        .collect();
    let command = all_commands().find(|c| {
        let parts: Vec<&str> = c.split(' ').collect();
        parts.len() == words.len() && words.iter().zip(&parts).all(|(w, p)| w == p)
    });
    let Some(command) = command else {
        let group = words.join(" ");
        let mut under: Vec<&str> = all_commands()
            .filter(|c| c.starts_with(&format!("{group} ")))
            .collect();
        under.sort_unstable();
        under.dedup();
        if under.is_empty() {
            return format!(
                "'{group}' is not a command or group this console knows. Type 'help' for the list.\n"
            );
        }
        return format!(
            "\nGroup\n    {group}\n\nCommands:\n{}\n",
            under
                .iter()
                .map(|c| format!("    {}", c.trim_start_matches(&format!("{group} "))))
                .collect::<Vec<_>>()
                .join("\n")
        );
    };
    let mut probe = ws.clone();
    let mut line = words.clone();
    line.push("--help".into());
    let arguments = match run(&mut probe, keys, &line) {
        Err(CommandError::Usage(UsageError(text))) if text.starts_with(super::args::HELP_MARK) => {
            text[super::args::HELP_MARK.len()..]
                .split(' ')
                .filter(|a| !a.is_empty())
                .map(|a| format!("    {a}"))
                .collect::<Vec<_>>()
                .join("\n")
        }
        _ => "    (see the Azure CLI reference)".into(),
    };
    format!(
        "\nCommand\n    {command}\n\nArguments\n{arguments}\n\nGlobal Arguments\n    --output -o : json, jsonc, jsonl, none, table, tsv.\n    --query     : JMESPath query string.\n    --subscription : Name or ID of subscription.\n    --help -h   : Show this help message and exit.\n"
    )
}

/// A module of commands of its own: it runs `cmd` if it is one of its commands.
pub type Runner = fn(&mut Workspace, &dyn service::KeySource, &str, &mut Args) -> Option<CmdResult>;

/// The command modules beside this one, with their command words.
const EXTENSIONS: [(&[&str], Runner); 8] = [
    (super::account::COMMANDS, super::account::run),
    (super::directory::COMMANDS, super::directory::run),
    (
        super::managed_instance::COMMANDS,
        super::managed_instance::run,
    ),
    (super::continuity::COMMANDS, super::continuity::run),
    (super::estate::COMMANDS, super::estate::run),
    (super::governance::COMMANDS, super::governance::run),
    (super::transfer::COMMANDS, super::transfer::run),
    (super::rotation::COMMANDS, super::rotation::run),
];

/// Every command the shell knows: this module's and those of [`EXTENSIONS`].
pub fn all_commands() -> impl Iterator<Item = &'static str> {
    COMMANDS
        .iter()
        .chain(EXTENSIONS.iter().flat_map(|(names, _)| names.iter()))
        .copied()
}

fn action_group_json(ws: &Workspace, g: &ActionGroup) -> Value {
    let of = |k: ReceiverKind| -> Vec<Value> {
        g.receivers
            .iter()
            .filter(|r| r.kind == k)
            .map(|r| json!({"name": r.name, "target": r.target}))
            .collect()
    };
    json!({
        "id": format!("/subscriptions/{}/resourceGroups/{}/providers/microsoft.insights/actionGroups/{}", ws.current_subscription, g.resource_group, g.name),
        "name": g.name,
        "groupShortName": g.short_name,
        "enabled": true,
        "emailReceivers": of(ReceiverKind::Email),
        "smsReceivers": of(ReceiverKind::Sms),
        "azureAppPushReceivers": of(ReceiverKind::Push),
        "voiceReceivers": of(ReceiverKind::Voice),
        "webhookReceivers": of(ReceiverKind::Webhook),
        "logicAppReceivers": of(ReceiverKind::LogicApp),
        "itsmReceivers": of(ReceiverKind::Itsm),
        "automationRunbookReceivers": of(ReceiverKind::AutomationRunbook),
        "resourceGroup": g.resource_group,
        "type": "Microsoft.Insights/ActionGroups"
    })
}

fn clock_json(ws: &Workspace) -> Value {
    json!({
        "now": ws.now().to_iso(),
        "profile": ws.profile.as_str(),
        "nextEvent": service::behaviour::next_event_time(ws).map(|t| t.to_iso())
    })
}

fn unknown_command(words: &[String]) -> CommandError {
    let typed = words.join(" ");
    let group = words.iter().take(3).cloned().collect::<Vec<_>>().join(" ");
    let near: Vec<&str> = all_commands()
        .filter(|c| c.starts_with(&group))
        .take(8)
        .collect();
    if near.is_empty() {
        usage(format!(
            "'{typed}' is not a command this console knows. Type 'help' for the list."
        ))
    } else {
        usage(format!(
            "'{typed}' is misspelled or not recognized. Did you mean: {}?",
            near.join(" | ")
        ))
    }
}

/// `--identity-type`, `--user-assigned-identity-id ID...` and
/// `--primary-user-assigned-identity-id` of `az sql server create|update`.
fn identity_args(a: &Args) -> service::identity::ServerIdentities {
    service::identity::ServerIdentities {
        identity_type: a.get("--identity-type"),
        user_assigned: a
            .list("--user-assigned-identity-id")
            .into_iter()
            .flat_map(|v| v.split([',', ' ']).map(str::to_string).collect::<Vec<_>>())
            .filter(|v| !v.is_empty())
            .collect(),
        primary: a.get("--primary-user-assigned-identity-id"),
        federated_client_id: a.get("--federated-client-id"),
    }
}

/// A resource-group argument must name the group the server is in.
pub(crate) fn check_group(ws: &Workspace, a: &Args, server: &str) -> Result<(), CommandError> {
    if let Some(g) = a.get("--resource-group") {
        if ws.resource_group(&g).is_none() {
            return Err(ServiceError::resource_group_not_found(&g).into());
        }
        if let Some(s) = ws.server(server)
            && !s.resource_group.eq_ignore_ascii_case(&g)
        {
            return Err(ServiceError::server_not_found(server).into());
        }
    }
    Ok(())
}

/// `--vault-name V --name K [--version X]` or `--id <kid>`.
fn key_ref(a: &Args) -> Result<(String, String, Option<String>), CommandError> {
    if let Some(id) = a.get("--id") {
        let u = KeyUri::parse(&id)
            .ok_or_else(|| usage(format!("argument --id: invalid key identifier '{id}'")))?;
        return Ok((u.vault, u.key, u.version));
    }
    Ok((
        a.required("--vault-name")?,
        a.required("--name")?,
        a.get("--version"),
    ))
}

fn time_arg(a: &Args, flag: &str) -> Result<Option<Timestamp>, CommandError> {
    match a.get(flag) {
        None => Ok(None),
        Some(t) if t.is_empty() => Ok(None),
        Some(t) => Timestamp::parse(&t).map(Some).ok_or_else(|| {
            usage(format!(
                "argument {flag}: invalid datetime value: '{t}' (use e.g. 2026-12-31T00:00:00Z)"
            ))
        }),
    }
}

/// `--tags a=b c=d`.
fn tags_arg(a: &Args) -> Result<Vec<(String, String)>, CommandError> {
    a.list("--tags")
        .iter()
        .map(|t| match t.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
            _ => Err(usage(format!(
                "argument --tags: invalid tag '{t}' (use key=value)"
            ))),
        })
        .collect()
}

/// `--kty RSA|RSA-HSM` or `--protection software|hsm`.
fn kty_arg(a: &Args) -> Result<KeyType, CommandError> {
    Ok(match (a.get("--kty"), a.get("--protection")) {
        (Some(k), p) => {
            let kty = KeyType::parse(&k).ok_or_else(|| {
                usage(format!(
                    "argument --kty: invalid choice: '{k}' (choose from 'EC', 'EC-HSM', 'RSA', 'RSA-HSM'; oct keys are not simulated)"
                ))
            })?;
            // az import spells an HSM key --kty RSA --protection hsm.
            if p.as_deref() == Some("hsm") {
                kty.in_hsm()
            } else {
                kty
            }
        }
        (None, Some(p)) if p == "hsm" => KeyType::RsaHsm,
        (None, Some(p)) if p == "software" => KeyType::Rsa,
        (None, Some(p)) => {
            return Err(usage(format!(
                "argument --protection/-p: invalid choice: '{p}' (choose from 'hsm', 'software')"
            )));
        }
        (None, None) => KeyType::Rsa,
    })
}

fn ops_arg(a: &Args) -> Result<Vec<KeyOperation>, CommandError> {
    a.list("--ops")
        .iter()
        .map(|o| KeyOperation::parse(o).ok_or_else(|| usage(format!("argument --ops: invalid choice: '{o}' (choose from 'decrypt', 'encrypt', 'import', 'sign', 'unwrapKey', 'verify', 'wrapKey')"))))
        .collect()
}
