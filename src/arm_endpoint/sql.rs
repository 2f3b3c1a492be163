//! `Microsoft.Sql/servers` and what hangs under them: server keys (az sql server key
//! create), the encryption protector (az sql server tde-key set|show), databases and
//! their TDE (az sql db show, az sql db tde show|set). Each route runs the operation the
//! shell's az command runs; bodies are the shell's views in ARM's shape.

use super::resources::require_group;
use super::{Ctx, Reply, operations, shape};
use crate::model::{ServerKeyType, ServerKind, SqlServer, server_key_name};
use crate::service::{ServiceError, identity::ServerIdentities, sql, tde};
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

/// `PUT|PATCH servers/{server}` on a server that exists (az sql server update sends the
/// server back with its identity or `keyId` changed): the shell's `sql::update_server`
/// with what changed. Creating a server through Resource Manager is not served yet.
pub fn update_server(c: &mut Ctx) -> Result<Reply, ServiceError> {
    let name = match server_in_group(c) {
        Ok(s) => s.name.clone(),
        Err(e) if c.ws.server(c.p("server")).is_none() && c.request.method == "PUT" => {
            return Err(ServiceError::bad_request(
                "FeatureNotSupported",
                format!(
                    "{} tde-console creates servers in the console (az sql server create in its shell); Resource Manager updates them.",
                    e.message
                ),
            ));
        }
        Err(e) => return Err(e),
    };
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
