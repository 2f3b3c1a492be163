//! `Microsoft.Sql/servers` and what hangs under them: server keys (az sql server key
//! create), the encryption protector (az sql server tde-key set|show), databases and
//! their TDE (az sql db show, az sql db tde show|set). Each route runs the operation the
//! shell's az command runs; bodies are the shell's views in ARM's shape.

use super::resources::require_group;
use super::{Ctx, Reply, operations, shape};
use crate::model::{ServerKeyType, ServerKind, SqlServer, server_key_name};
use crate::service::{ServiceError, georeplication as geo, identity::ServerIdentities, sql, tde};
use crate::shell::views;
use serde_json::Value;

/// The kind of server a route names: `Microsoft.Sql/managedInstances/...` or
/// `Microsoft.Sql/servers/...` (their keys and protector are the same operations).
fn kind_of(c: &Ctx) -> ServerKind {
    if c.request
        .path
        .to_ascii_lowercase()
        .contains("/microsoft.sql/managedinstances/")
    {
        ServerKind::ManagedInstance
    } else {
        ServerKind::SqlDatabaseServer
    }
}

/// The server (or managed instance) a route names, in the route's group.
fn server_in_group<'a>(c: &'a Ctx) -> Result<&'a SqlServer, ServiceError> {
    require_group(c)?;
    let name = c.p("server");
    let kind = kind_of(c);
    c.ws.server(name)
        .filter(|s| {
            s.kind == kind
                && s.resource_group.eq_ignore_ascii_case(c.p("rg"))
                && s.subscription == c.ws.current_subscription
        })
        .ok_or_else(|| ServiceError::server_not_found(name))
}

fn server_view(c: &Ctx, name: &str) -> Result<Value, ServiceError> {
    Ok(shape::arm(views::server(c.ws, sql::server(c.ws, name)?)))
}

pub fn list_servers(c: &mut Ctx) -> Result<Reply, ServiceError> {
    let rg = c
        .params
        .iter()
        .any(|(n, _)| *n == "rg")
        .then(|| c.p("rg").to_string());
    if rg.is_some() {
        require_group(c)?;
    }
    let ws = &*c.ws;
    Ok(Reply::Ok(shape::list(
        ws.servers
            .iter()
            .filter(|s| {
                s.kind == ServerKind::SqlDatabaseServer && s.subscription == ws.current_subscription
            })
            .filter(|s| {
                rg.as_ref()
                    .is_none_or(|g| s.resource_group.eq_ignore_ascii_case(g))
            })
            .map(|s| views::server(ws, s)),
    )))
}

pub fn show_server(c: &mut Ctx) -> Result<Reply, ServiceError> {
    let name = server_in_group(c)?.name.clone();
    Ok(Reply::Ok(server_view(c, &name)?))
}

/// `PUT servers/{server}`: az sql server create (the server is new) or update (it
/// exists); `PATCH` updates.
pub fn put_server(c: &mut Ctx) -> Result<Reply, ServiceError> {
    require_group(c)?;
    if c.request.method.eq_ignore_ascii_case("PUT") && c.ws.server(c.p("server")).is_none() {
        return create_server(c);
    }
    update_server(c)
}

/// The identities a server's body names (`identity.type`, `identity.userAssignedIdentities`,
/// `properties.primaryUserAssignedIdentityId`, `properties.federatedClientId`).
fn identities_of(body: &Value) -> ServerIdentities {
    let id = &body["identity"];
    let props = &body["properties"];
    ServerIdentities {
        identity_type: id["type"].as_str().map(str::to_string),
        user_assigned: id["userAssignedIdentities"]
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default(),
        primary: props["primaryUserAssignedIdentityId"]
            .as_str()
            .map(str::to_string),
        federated_client_id: props["federatedClientId"].as_str().map(str::to_string),
    }
}

/// The body's `properties.NAME` as text, or ARM's refusal naming it.
fn required_text<'a>(props: &'a Value, name: &str) -> Result<&'a str, ServiceError> {
    props[name]
        .as_str()
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| {
            ServiceError::bad_request(
                "InvalidParameterValue",
                format!(
                    "Invalid value given for parameter {name}. Specify a valid parameter value."
                ),
            )
        })
}

/// `PUT servers/{server}` of a new server (az sql server create --assign-identity
/// --identity-type --user-assigned-identity-id --primary-user-assigned-identity-id
/// --key-id): the shell's `sql::create_server_with`, all or nothing. Azure answers 202 and
/// az polls ([`operations`]).
fn create_server(c: &mut Ctx) -> Result<Reply, ServiceError> {
    let body = c.body()?;
    let props = &body["properties"];
    let identities = identities_of(&body);
    let system = identities
        .identity_type
        .as_deref()
        .is_some_and(|t| t.to_ascii_lowercase().contains("systemassigned"));
    let req = sql::CreateServer {
        name: c.p("server").to_string(),
        resource_group: c.p("rg").to_string(),
        location: body["location"].as_str().map(str::to_string),
        admin_user: required_text(props, "administratorLogin")?.to_string(),
        admin_password: required_text(props, "administratorLoginPassword")?.to_string(),
        assign_identity: system,
        kind: ServerKind::SqlDatabaseServer,
    };
    sql::validate_create_server(c.ws, &req)?;
    let key = c
        .keys
        .generate(2048)
        .map_err(|e| ServiceError::new("InternalServerError", 500, e.to_string()))?;
    let identities = match identities.identity_type.as_deref() {
        Some(t) if t.eq_ignore_ascii_case("None") => ServerIdentities {
            identity_type: None,
            ..identities
        },
        _ => identities,
    };
    let key_id = props["keyId"].as_str().map(str::to_string);
    let s = sql::create_server_with(c.ws, &req, &identities, key_id, key)?;
    Ok(operations::accepted(
        c,
        &s.location,
        operations::Change::Put,
    ))
}

/// `DELETE servers/{server}` (az sql server delete): the shell's `sql::delete_server`.
pub fn delete_server(c: &mut Ctx) -> Result<Reply, ServiceError> {
    let s = match server_in_group(c) {
        Ok(s) => s,
        Err(_) if c.ws.server(c.p("server")).is_none() => {
            require_group(c)?;
            return Ok(Reply::NoContent);
        }
        Err(e) => return Err(e),
    };
    let (name, location) = (s.name.clone(), s.location.clone());
    sql::delete_server(c.ws, &name)?;
    Ok(operations::accepted(
        c,
        &location,
        operations::Change::Delete,
    ))
}

/// `PUT|PATCH servers/{server}` on a server that exists (az sql server update sends the
/// server back with its identity or `keyId` changed): the shell's `sql::update_server`
/// with what changed.
fn update_server(c: &mut Ctx) -> Result<Reply, ServiceError> {
    let name = server_in_group(c)?.name.clone();
    let body = c.body()?;
    let current = views::server(c.ws, sql::server(c.ws, &name)?);
    let mut identities = ServerIdentities::default();
    if let Some(id) = body.get("identity").filter(|i| !i.is_null()) {
        let kind = id["type"].as_str().unwrap_or("None").to_string();
        let user: Vec<String> = id["userAssignedIdentities"]
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        let same_user = {
            let mut now: Vec<String> = current["identity"]["userAssignedIdentities"]
                .as_object()
                .map(|m| m.keys().map(|k| k.to_ascii_lowercase()).collect())
                .unwrap_or_default();
            let mut want: Vec<String> = user.iter().map(|k| k.to_ascii_lowercase()).collect();
            now.sort();
            want.sort();
            now == want
        };
        let same_kind = current["identity"]["type"]
            .as_str()
            .unwrap_or("None")
            .replace(' ', "")
            .eq_ignore_ascii_case(&kind.replace(' ', ""));
        if !same_kind || !same_user {
            identities.identity_type = Some(kind);
            identities.user_assigned = user;
        }
    }
    let props = &body["properties"];
    if let Some(p) = props["primaryUserAssignedIdentityId"].as_str()
        && !current["primaryUserAssignedIdentityId"]
            .as_str()
            .is_some_and(|c| c.eq_ignore_ascii_case(p))
    {
        identities.primary = Some(p.to_string());
        if identities.identity_type.is_none() {
            identities.identity_type = current["identity"]["type"].as_str().map(str::to_string);
            identities.user_assigned = current["identity"]["userAssignedIdentities"]
                .as_object()
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default();
        }
    }
    let key_id = props["keyId"].as_str().filter(|k| {
        !current["keyId"]
            .as_str()
            .is_some_and(|c| c.eq_ignore_ascii_case(k))
    });
    sql::update_server(c.ws, &name, &identities, false, key_id)?;
    Ok(Reply::Ok(server_view(c, &name)?))
}

pub fn list_keys(c: &mut Ctx) -> Result<Reply, ServiceError> {
    let s = server_in_group(c)?;
    Ok(Reply::Ok(shape::list(
        s.keys.iter().map(|k| views::server_key(s, k)),
    )))
}

pub fn show_key(c: &mut Ctx) -> Result<Reply, ServiceError> {
    let s = server_in_group(c)?;
    let k = s
        .key(c.p("key"))
        .ok_or_else(ServiceError::server_key_not_found)?;
    Ok(Reply::Ok(shape::arm(views::server_key(s, k))))
}

/// `PUT servers/{server}/keys/{vault_key_version}` (az sql server key create).
pub fn create_key(c: &mut Ctx) -> Result<Reply, ServiceError> {
    let server = server_in_group(c)?.name.clone();
    let body = c.body()?;
    let props = &body["properties"];
    if props["serverKeyType"]
        .as_str()
        .is_some_and(|t| !t.eq_ignore_ascii_case("AzureKeyVault"))
    {
        return Err(ServiceError::bad_request(
            "InvalidServerKeyType",
            "Only keys of type AzureKeyVault can be added to a server; the service-managed key is always there.",
        ));
    }
    let uri = props["uri"].as_str().ok_or_else(|| {
        ServiceError::bad_request(
            "InvalidServerKeyUri",
            "The server key must name its Key Vault key (properties.uri).",
        )
    })?;
    let parsed = tde::parse_kid(uri)?;
    let expected = server_key_name(
        &parsed.vault,
        &parsed.key,
        parsed.version.as_deref().unwrap_or(""),
    );
    if !expected.eq_ignore_ascii_case(c.p("key")) {
        return Err(ServiceError::bad_request(
            "InvalidServerKeyName",
            format!(
                "The server key name '{}' does not match its uri: it must be '{expected}'.",
                c.p("key")
            ),
        ));
    }
    let existed = sql::server(c.ws, &server)?.key(&expected).is_some();
    let k = sql::add_server_key(c.ws, &server, uri)?;
    let v = shape::arm(views::server_key(sql::server(c.ws, &server)?, &k));
    Ok(if existed {
        Reply::Ok(v)
    } else {
        Reply::Created(v)
    })
}

pub fn delete_key(c: &mut Ctx) -> Result<Reply, ServiceError> {
    let s = server_in_group(c)?;
    if s.key(c.p("key")).is_none() {
        return Ok(Reply::NoContent);
    }
    let server = s.name.clone();
    let key = c.p("key").to_string();
    sql::delete_server_key(c.ws, &server, &key)?;
    Ok(Reply::Deleted)
}

fn protector_view(c: &Ctx, server: &str) -> Result<Value, ServiceError> {
    let (p, k) = tde::show_protector(c.ws, server)?;
    Ok(shape::arm(views::protector(
        sql::server(c.ws, server)?,
        &p,
        &k,
    )))
}

fn require_current(c: &Ctx) -> Result<(), ServiceError> {
    if c.p("current").eq_ignore_ascii_case("current") {
        Ok(())
    } else {
        Err(ServiceError::not_found(
            "ResourceNotFound",
            format!(
                "The requested resource '{}' was not found: a server has one encryption protector, 'current'.",
                c.p("current")
            ),
        ))
    }
}

pub fn list_protector(c: &mut Ctx) -> Result<Reply, ServiceError> {
    let server = server_in_group(c)?.name.clone();
    Ok(Reply::Ok(
        serde_json::json!({"value": [protector_view(c, &server)?]}),
    ))
}

pub fn show_protector(c: &mut Ctx) -> Result<Reply, ServiceError> {
    require_current(c)?;
    let server = server_in_group(c)?.name.clone();
    Ok(Reply::Ok(protector_view(c, &server)?))
}

/// `PUT servers/{server}/encryptionProtector/current` (az sql server tde-key set): the
/// shell's `tde::set_protector`. Azure answers 202; while the server re-wraps its
/// databases' keys, az polls the operation ([`operations`]), then reads the protector.
pub fn set_protector(c: &mut Ctx) -> Result<Reply, ServiceError> {
    require_current(c)?;
    let s = server_in_group(c)?;
    let server = s.name.clone();
    let location = s.location.clone();
    let body = c.body()?;
    let props = &body["properties"];
    let key_type = match props["serverKeyType"].as_str().unwrap_or("") {
        t if t.eq_ignore_ascii_case("AzureKeyVault") => ServerKeyType::AzureKeyVault,
        t if t.eq_ignore_ascii_case("ServiceManaged") => ServerKeyType::ServiceManaged,
        other => {
            return Err(ServiceError::bad_request(
                "InvalidServerKeyType",
                format!(
                    "The server key type '{other}' is invalid: AzureKeyVault or ServiceManaged."
                ),
            ));
        }
    };
    let kid = match key_type {
        ServerKeyType::ServiceManaged => None,
        ServerKeyType::AzureKeyVault => {
            let name = props["serverKeyName"].as_str().unwrap_or("");
            let k = s.key(name).ok_or_else(ServiceError::server_key_not_found)?;
            k.uri.clone()
        }
    };
    let req = tde::SetProtector {
        server: server.clone(),
        key_type,
        kid,
        auto_rotation: props["autoRotationEnabled"].as_bool().unwrap_or(false),
    };
    tde::set_protector(c.ws, &req)?;
    // Azure always answers this PUT with 202: az polls until the re-wrap is done.
    let sub = c.ws.current_subscription.0.clone();
    Ok(Reply::Accepted {
        status: operations::url(&sub, &location, operations::PROTECTOR, &server),
        location: operations::url(&sub, &location, operations::PROTECTOR_RESULT, &server),
    })
}

fn database_in_group<'a>(
    c: &'a Ctx,
) -> Result<(&'a SqlServer, &'a crate::model::Database), ServiceError> {
    let s = server_in_group(c)?;
    let d = s
        .database(c.p("db"))
        .ok_or_else(|| ServiceError::database_not_found(&s.name, c.p("db")))?;
    Ok((s, d))
}

pub fn list_databases(c: &mut Ctx) -> Result<Reply, ServiceError> {
    let s = server_in_group(c)?;
    Ok(Reply::Ok(shape::list(
        s.databases.iter().map(|d| views::database_in(c.ws, s, d)),
    )))
}

pub fn show_database(c: &mut Ctx) -> Result<Reply, ServiceError> {
    let (s, d) = database_in_group(c)?;
    Ok(Reply::Ok(shape::arm(views::database_in(c.ws, s, d))))
}

pub fn show_database_tde(c: &mut Ctx) -> Result<Reply, ServiceError> {
    require_current(c)?;
    let (s, d) = database_in_group(c)?;
    Ok(Reply::Ok(shape::arm(views::database_tde(s, d))))
}

/// `PUT databases/{db}/transparentDataEncryption/current` (az sql db tde set).
pub fn set_database_tde(c: &mut Ctx) -> Result<Reply, ServiceError> {
    require_current(c)?;
    let (s, d) = database_in_group(c)?;
    let (server, db) = (s.name.clone(), d.name.clone());
    let body = c.body()?;
    let enabled = match body["properties"]["state"].as_str().unwrap_or("") {
        t if t.eq_ignore_ascii_case("Enabled") => true,
        t if t.eq_ignore_ascii_case("Disabled") => false,
        other => {
            return Err(ServiceError::bad_request(
                "InvalidTransparentDataEncryptionState",
                format!("The state '{other}' is invalid: Enabled or Disabled."),
            ));
        }
    };
    let d = sql::set_database_tde(c.ws, &server, &db, enabled)?;
    Ok(Reply::Ok(shape::arm(views::database_tde(
        sql::server(c.ws, &server)?,
        &d,
    ))))
}

/// The SKU a database body asks for (`sku.name` is the service objective az resolved).
fn sku_of_body(body: &Value) -> crate::service::sku::SkuRequest {
    let sku = &body["sku"];
    crate::service::sku::SkuRequest {
        edition: sku["tier"].as_str().map(str::to_string),
        service_objective: sku["name"].as_str().map(str::to_string),
        family: sku["family"].as_str().map(str::to_string),
        capacity: sku["capacity"].as_u64().and_then(|c| u32::try_from(c).ok()),
        compute_model: None,
    }
}

/// `properties.maxSizeBytes` in whole GB.
fn max_size_gb(props: &Value) -> Result<Option<u32>, ServiceError> {
    match props.get("maxSizeBytes").filter(|v| !v.is_null()) {
        None => Ok(None),
        Some(v) => v
            .as_u64()
            .map(|b| b / (1024 * 1024 * 1024))
            .and_then(|g| u32::try_from(g).ok())
            .filter(|g| *g > 0)
            .map(Some)
            .ok_or_else(|| {
                ServiceError::bad_request(
                    "InvalidMaxSizeTierCombination",
                    format!("The requested database size of {v} bytes is not supported."),
                )
            }),
    }
}

/// The database-level customer-managed key a body names (`identity`, `properties.keys`,
/// `properties.encryptionProtector`, `properties.encryptionProtectorAutoRotation`,
/// `properties.federatedClientId`), as `az sql db create|replica create` sends them.
fn cmk_of_body(body: &Value) -> crate::service::database_key::DatabaseCmk {
    let props = &body["properties"];
    crate::service::database_key::DatabaseCmk {
        identity: body["identity"]["userAssignedIdentities"]
            .as_object()
            .and_then(|m| m.keys().next().cloned()),
        federated_client_id: props["federatedClientId"].as_str().map(str::to_string),
        keys: props["keys"]
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default(),
        encryption_protector: props["encryptionProtector"].as_str().map(str::to_string),
        auto_rotation: props["encryptionProtectorAutoRotation"]
            .as_bool()
            .unwrap_or(false),
    }
}

/// `(server, database)` of a `…/servers/S/databases/D` id.
fn database_of_id(id: &str) -> Option<(String, String)> {
    let parts: Vec<&str> = id.trim().trim_matches('/').split('/').collect();
    let at = |key: &str| {
        parts
            .iter()
            .position(|p| p.eq_ignore_ascii_case(key))
            .and_then(|i| parts.get(i + 1))
            .map(|s| s.to_string())
    };
    Some((at("servers")?, at("databases")?))
}

/// `PUT servers/{server}/databases/{db}`: az sql db create (`createMode` Default), az sql
/// db replica create (`createMode` Secondary with `sourceDatabaseId`, sent to the partner
/// server), or an update of a database that exists; each the shell's operation. Azure
/// answers 202 and az polls ([`operations`]).
pub fn put_database(c: &mut Ctx) -> Result<Reply, ServiceError> {
    let s = server_in_group(c)?;
    let (server, location) = (s.name.clone(), s.location.clone());
    let exists = s.database(c.p("db")).is_some();
    let body = c.body()?;
    let props = &body["properties"];
    let mode = props["createMode"].as_str().unwrap_or("Default");
    if mode.eq_ignore_ascii_case("Secondary") {
        let source = props["sourceDatabaseId"].as_str().ok_or_else(|| {
            ServiceError::bad_request(
                "InvalidParameterValue",
                "A database made with createMode Secondary names its primary (properties.sourceDatabaseId).",
            )
        })?;
        let (primary_server, primary_db) = database_of_id(source).ok_or_else(|| {
            ServiceError::bad_request(
                "InvalidParameterValue",
                format!("Invalid value given for parameter sourceDatabaseId: '{source}'."),
            )
        })?;
        if let Some(t) = props["secondaryType"].as_str()
            && !t.eq_ignore_ascii_case("Geo")
        {
            return Err(ServiceError::bad_request(
                "FeatureNotSupported",
                format!("A secondary of type '{t}' is not simulated: only Geo secondaries are."),
            ));
        }
        geo::create_replica_with(
            c.ws,
            &geo::CreateReplica {
                server: primary_server,
                database: primary_db,
                partner_server: server,
                partner_database: Some(c.p("db").to_string()),
            },
            &cmk_of_body(&body),
            Some(&sku_of_body(&body)),
        )?;
        return Ok(operations::accepted(c, &location, operations::Change::Put));
    }
    if mode.eq_ignore_ascii_case("Copy") {
        // az sql db copy / New-AzSqlDatabaseCopy: a PUT of the copy naming its source.
        let source = props["sourceDatabaseId"].as_str().ok_or_else(|| {
            ServiceError::bad_request(
                "InvalidParameterValue",
                "A database made with createMode Copy names its source (properties.sourceDatabaseId).",
            )
        })?;
        let (source_server, source_db) = database_of_id(source).ok_or_else(|| {
            ServiceError::bad_request(
                "InvalidParameterValue",
                format!("Invalid value given for parameter sourceDatabaseId: '{source}'."),
            )
        })?;
        crate::service::copy::copy_database(
            c.ws,
            &crate::service::copy::CopyDatabase {
                server: source_server,
                database: source_db,
                dest_server: Some(server),
                dest_name: c.p("db").to_string(),
                elastic_pool: None,
                tags: tags_of_body(&body),
            },
            &cmk_of_body(&body),
            Some(&sku_of_body(&body)),
        )?;
        return Ok(operations::accepted(c, &location, operations::Change::Put));
    }
    if !mode.eq_ignore_ascii_case("Default") {
        return Err(ServiceError::bad_request(
            "FeatureNotSupported",
            format!(
                "A database made with createMode '{mode}' is not served through Resource Manager: use the console's shell (az sql db restore)."
            ),
        ));
    }
    let size = max_size_gb(props)?;
    if exists {
        let db = c.p("db").to_string();
        sql::update_database_properties(
            c.ws,
            &server,
            &db,
            &sql::DatabaseProperties {
                sku: sku_of_body(&body),
                max_size_gb: size,
                ..Default::default()
            },
        )?;
        return Ok(operations::accepted(c, &location, operations::Change::Put));
    }
    let sku = crate::service::sku::resolve(&sku_of_body(&body), None)?;
    let req = sql::CreateDatabase {
        tags: tags_of_body(&body),
        sku: Some(sku.clone()),
        options: crate::model::DatabaseOptions {
            zone_redundant: props["zoneRedundant"].as_bool(),
            backup_storage_redundancy: props["requestedBackupStorageRedundancy"]
                .as_str()
                .map(str::to_string),
            collation: props["collation"].as_str().map(str::to_string),
            ..Default::default()
        },
        ..sql::CreateDatabase::new(
            &server,
            c.p("db"),
            crate::service::sku::service_tier(&sku),
            size.unwrap_or(32),
        )
    };
    sql::create_database_with(c.ws, &req, &cmk_of_body(&body))?;
    Ok(operations::accepted(c, &location, operations::Change::Put))
}

/// A PUT body's `tags` as the operations take them.
fn tags_of_body(body: &Value) -> Vec<(String, String)> {
    body["tags"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// `DELETE servers/{server}/databases/{db}` (az sql db delete): the shell's
/// `sql::delete_database`; nothing to delete is a 204.
pub fn delete_database(c: &mut Ctx) -> Result<Reply, ServiceError> {
    let s = server_in_group(c)?;
    let (server, location) = (s.name.clone(), s.location.clone());
    let Some(d) = s.database(c.p("db")) else {
        return Ok(Reply::NoContent);
    };
    let db = d.name.clone();
    sql::delete_database(c.ws, &server, &db)?;
    Ok(operations::accepted(
        c,
        &location,
        operations::Change::Delete,
    ))
}

/// `GET servers/{server}/databases/{db}/replicationLinks/{link}`.
pub fn show_link(c: &mut Ctx) -> Result<Reply, ServiceError> {
    let (s, d) = database_in_group(c)?;
    let (server, db) = (s.name.clone(), d.name.clone());
    let links = geo::list_links(c.ws, &server, &db)?;
    let l = links
        .iter()
        .find(|l| l.id.eq_ignore_ascii_case(c.p("link")))
        .ok_or_else(|| link_not_found(c.p("link")))?;
    Ok(Reply::Ok(shape::arm(geo::link_json(c.ws, &server, &db, l))))
}

fn link_not_found(link: &str) -> ServiceError {
    ServiceError::not_found(
        "ResourceNotFound",
        format!(
            "The Resource 'Microsoft.Sql/servers/databases/replicationLinks/{link}' under resource group was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
        ),
    )
}

/// `DELETE servers/{server}/databases/{db}/replicationLinks/{link}` (az sql db replica
/// delete-link finds the link to the partner server, then deletes it): the shell's
/// `georeplication::delete_link`.
pub fn delete_link(c: &mut Ctx) -> Result<Reply, ServiceError> {
    let (s, d) = database_in_group(c)?;
    let (server, db, location) = (s.name.clone(), d.name.clone(), s.location.clone());
    let links = geo::list_links(c.ws, &server, &db)?;
    let Some(l) = links
        .iter()
        .find(|l| l.id.eq_ignore_ascii_case(c.p("link")))
    else {
        return Ok(Reply::NoContent);
    };
    let partner = if l.is_primary(&server, &db) {
        l.secondary_server.clone()
    } else {
        l.primary_server.clone()
    };
    geo::delete_link(c.ws, &server, &db, &partner)?;
    Ok(operations::accepted(
        c,
        &location,
        operations::Change::Delete,
    ))
}
