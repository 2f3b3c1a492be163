//! Azure Resource Manager for the real `az` CLI (`https://management.azure.com`, reached
//! through [`crate::vault_endpoint::proxy`]): each request is authenticated with a token of
//! this workspace for Resource Manager ([`login`] issues them), matched against one table
//! ([`ROUTES`]: method and route template to the operation) and run as the SAME operation
//! of [`crate::service`] the console's shell runs for the matching az command. Bodies are
//! the shell's az views ([`crate::shell::views`]) put in ARM's shape ([`shape`]); errors are
//! `{"error": {"code", "message"}}` with the service's codes and texts. Any api-version is
//! accepted. Changes that take time in Azure answer `202 Accepted` with
//! `Azure-AsyncOperation` and `Location`, which az polls ([`operations`]).

pub mod continuity;
pub mod identity;
pub mod keyvault;
pub mod login;
pub mod monitor;
pub mod network;
pub mod operations;
pub mod resources;
pub mod shape;
pub mod sql;

use crate::model::Workspace;
use crate::service::{KeySource, ServiceError};
use crate::vault_endpoint::http::{self, Request, Response};
use crate::vault_endpoint::token;
use serde_json::{Value, json};

/// What an operation answers.
#[derive(Debug)]
pub enum Reply {
    /// 200 with a body.
    Ok(Value),
    /// 201 with a body (a resource made by a PUT).
    Created(Value),
    /// 202: a long-running operation az polls at `status` (its `Azure-AsyncOperation`);
    /// `location` answers 202 until it is done, then the resource.
    Accepted { status: String, location: String },
    /// 200 with no body (a DELETE that removed something).
    Deleted,
    /// 204 (a DELETE of nothing).
    NoContent,
}

/// One request, as an operation sees it.
pub struct Ctx<'a> {
    pub ws: &'a mut Workspace,
    pub keys: &'a dyn KeySource,
    pub request: &'a Request,
    /// The route's captures (`{server}` → its value), in template order.
    pub params: Vec<(&'static str, String)>,
}

impl Ctx<'_> {
    /// A capture of the route (every handler's captures are in its template).
    pub fn p(&self, name: &str) -> &str {
        self.params
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }

    /// The request body as JSON (an empty body is `{}`).
    pub fn body(&self) -> Result<Value, ServiceError> {
        if self.request.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(json!({}));
        }
        serde_json::from_slice(&self.request.body).map_err(|e| {
            ServiceError::bad_request(
                "InvalidRequestContent",
                format!("The request content was invalid and could not be deserialized: '{e}'."),
            )
        })
    }

    /// The URL of this request's resource (what `Location` and final GETs name).
    pub fn url(&self) -> String {
        format!("https://management.azure.com{}", self.request.path)
    }
}

pub type Handler = fn(&mut Ctx) -> Result<Reply, ServiceError>;

const SUB: &str = "/subscriptions/{sub}";
const RG: &str = "/subscriptions/{sub}/resourceGroups/{rg}";

/// The mapping table: (method, route template, operation). Literal segments match without
/// case, as ARM's do; `{name}` captures a segment. The first match wins.
pub const ROUTES: &[(&str, &str, Handler)] = &[
    // Subscriptions, tenants, resource groups (az login and every command's checks).
    ("GET", "/subscriptions", resources::list_subscriptions),
    ("GET", "/tenants", resources::list_tenants),
    ("GET", SUB, resources::show_subscription),
    (
        "GET",
        "/subscriptions/{sub}/resourceGroups",
        resources::list_groups,
    ),
    ("GET", RG, resources::show_group),
    (
        "GET",
        "/subscriptions/{sub}/resources",
        resources::list_resources,
    ),
    // Microsoft.ManagedIdentity (az identity create|show|delete).
    (
        "PUT",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}",
        identity::create,
    ),
    (
        "GET",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}",
        identity::show,
    ),
    (
        "DELETE",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}",
        identity::delete,
    ),
    (
        "GET",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities",
        identity::list,
    ),
    // Microsoft.KeyVault (az keyvault show|list|set-policy|delete-policy).
    (
        "GET",
        "/subscriptions/{sub}/providers/Microsoft.KeyVault/vaults",
        keyvault::list,
    ),
    (
        "GET",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.KeyVault/vaults",
        keyvault::list,
    ),
    (
        "GET",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.KeyVault/vaults/{vault}",
        keyvault::show,
    ),
    (
        "PUT",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.KeyVault/vaults/{vault}",
        keyvault::put,
    ),
    (
        "PUT",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.KeyVault/vaults/{vault}/accessPolicies/{kind}",
        keyvault::update_access_policy,
    ),
    // Microsoft.Sql servers, keys, the TDE protector, databases and their TDE.
    (
        "GET",
        "/subscriptions/{sub}/providers/Microsoft.Sql/servers",
        sql::list_servers,
    ),
    (
        "GET",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Sql/servers",
        sql::list_servers,
    ),
    (
        "GET",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Sql/servers/{server}",
        sql::show_server,
    ),
    (
        "PUT",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Sql/servers/{server}",
        sql::put_server,
    ),
    (
        "PATCH",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Sql/servers/{server}",
        sql::put_server,
    ),
    (
        "DELETE",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Sql/servers/{server}",
        sql::delete_server,
    ),
    (
        "GET",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Sql/servers/{server}/keys",
        sql::list_keys,
    ),
    (
        "GET",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Sql/servers/{server}/keys/{key}",
        sql::show_key,
    ),
    (
        "PUT",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Sql/servers/{server}/keys/{key}",
        sql::create_key,
    ),
    (
        "DELETE",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Sql/servers/{server}/keys/{key}",
        sql::delete_key,
    ),
    (
        "GET",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Sql/servers/{server}/encryptionProtector",
        sql::list_protector,
    ),
    (
        "GET",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Sql/servers/{server}/encryptionProtector/{current}",
        sql::show_protector,
    ),
    (
        "PUT",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Sql/servers/{server}/encryptionProtector/{current}",
        sql::set_protector,
    ),
    (
        "GET",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Sql/servers/{server}/databases",
        sql::list_databases,
    ),
    (
        "GET",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Sql/servers/{server}/databases/{db}",
        sql::show_database,
    ),
    (
        "PUT",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Sql/servers/{server}/databases/{db}",
        sql::put_database,
    ),
    (
        "DELETE",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Sql/servers/{server}/databases/{db}",
        sql::delete_database,
    ),
    (
        "GET",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Sql/servers/{server}/databases/{db}/transparentDataEncryption/{current}",
        sql::show_database_tde,
    ),
    (
        "PUT",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Sql/servers/{server}/databases/{db}/transparentDataEncryption/{current}",
        sql::set_database_tde,
    ),
    // Managed instances: the same key and protector operations as a server's.
    (
        "GET",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Sql/managedInstances/{server}",
        sql::show_server,
    ),
    (
        "PUT",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Sql/managedInstances/{server}",
        network::put_managed_instance,
    ),
    (
        "PATCH",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Sql/managedInstances/{server}",
        sql::put_server,
    ),
    (
        "DELETE",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Sql/managedInstances/{server}",
        network::delete_managed_instance,
    ),
    (
        "GET",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Sql/managedInstances/{server}/keys",
        sql::list_keys,
    ),
    (
        "GET",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Sql/managedInstances/{server}/keys/{key}",
        sql::show_key,
    ),
    (
        "PUT",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Sql/managedInstances/{server}/keys/{key}",
        sql::create_key,
    ),
    (
        "DELETE",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Sql/managedInstances/{server}/keys/{key}",
        sql::delete_key,
    ),
    (
        "GET",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Sql/managedInstances/{server}/encryptionProtector",
        sql::list_protector,
    ),
    (
        "GET",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Sql/managedInstances/{server}/encryptionProtector/{current}",
        sql::show_protector,
    ),
    (
        "PUT",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Sql/managedInstances/{server}/encryptionProtector/{current}",
        sql::set_protector,
    ),
    // Microsoft.Network: what a managed instance's subnet needs.
    (
        "GET",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/virtualNetworks/{vnet}",
        network::show_vnet,
    ),
    (
        "PUT",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/virtualNetworks/{vnet}",
        network::put_vnet,
    ),
    (
        "GET",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/virtualNetworks/{vnet}/subnets/{subnet}",
        network::show_subnet,
    ),
    (
        "PUT",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/virtualNetworks/{vnet}/subnets/{subnet}",
        network::put_subnet,
    ),
    (
        "GET",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/networkSecurityGroups/{nsg}",
        network::show_nsg,
    ),
    (
        "PUT",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/networkSecurityGroups/{nsg}",
        network::put_nsg,
    ),
    (
        "DELETE",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/networkSecurityGroups/{nsg}",
        network::delete_nsg,
    ),
    (
        "GET",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/networkSecurityGroups/{nsg}/securityRules/{rule}",
        network::show_rule,
    ),
    (
        "PUT",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/networkSecurityGroups/{nsg}/securityRules/{rule}",
        network::put_rule,
    ),
    (
        "DELETE",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/networkSecurityGroups/{nsg}/securityRules/{rule}",
        network::delete_rule,
    ),
    (
        "GET",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/routeTables/{table}",
        network::show_route_table,
    ),
    (
        "PUT",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/routeTables/{table}",
        network::put_route_table,
    ),
    (
        "DELETE",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/routeTables/{table}",
        network::delete_route_table,
    ),
    (
        "GET",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/routeTables/{table}/routes/{route}",
        network::show_route,
    ),
    (
        "PUT",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/routeTables/{table}/routes/{route}",
        network::put_route,
    ),
    (
        "DELETE",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/routeTables/{table}/routes/{route}",
        network::delete_route,
    ),
    // Business continuity: failover groups and replication links.
    (
        "GET",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Sql/servers/{server}/failoverGroups",
        continuity::list_groups,
    ),
    (
        "GET",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Sql/servers/{server}/failoverGroups/{name}",
        continuity::show_group,
    ),
    (
        "PUT",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Sql/servers/{server}/failoverGroups/{name}",
        continuity::put_group,
    ),
    (
        "DELETE",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Sql/servers/{server}/failoverGroups/{name}",
        continuity::delete_group,
    ),
    (
        "POST",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Sql/servers/{server}/failoverGroups/{name}/failover",
        continuity::failover,
    ),
    (
        "POST",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Sql/servers/{server}/failoverGroups/{name}/forceFailoverAllowDataLoss",
        continuity::force_failover,
    ),
    (
        "POST",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Sql/servers/{server}/failoverGroups/{name}/tryPlannedBeforeForcedFailover",
        continuity::try_planned_failover,
    ),
    (
        "GET",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Sql/servers/{server}/databases/{db}/replicationLinks",
        continuity::list_links,
    ),
    (
        "GET",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Sql/servers/{server}/databases/{db}/replicationLinks/{link}",
        sql::show_link,
    ),
    (
        "DELETE",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Sql/servers/{server}/databases/{db}/replicationLinks/{link}",
        sql::delete_link,
    ),
    // The activity log.
    (
        "GET",
        "/subscriptions/{sub}/providers/microsoft.insights/eventtypes/management/values",
        monitor::list,
    ),
    // Long-running operations az polls.
    (
        "GET",
        "/subscriptions/{sub}/providers/Microsoft.Sql/locations/{location}/{kind}/{operation}",
        operations::status,
    ),
];

/// Matches `path`'s segments against `template`'s: the captures, or `None`.
fn matches(template: &'static str, segments: &[String]) -> Option<Vec<(&'static str, String)>> {
    let parts: Vec<&'static str> = template.split('/').skip(1).collect();
    if parts.len() != segments.len() {
        return None;
    }
    let mut captures = Vec::new();
    for (t, s) in parts.iter().zip(segments) {
        if let Some(name) = t.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
            if s.is_empty() {
                return None;
            }
            captures.push((name, s.clone()));
        } else if !t.eq_ignore_ascii_case(s) {
            return None;
        }
    }
    Some(captures)
}

/// ARM's error body with the service's code, status and text.
pub fn error_response(e: &ServiceError) -> Response {
    Response::json(
        e.status,
        &json!({"error": {"code": e.code, "message": e.message}}),
    )
}

/// Handles one request to Resource Manager.
pub fn handle(
    ws: &mut Workspace,
    keys: &dyn KeySource,
    r: &Request,
    token_key: &[u8; 32],
    wall_now: i64,
) -> Response {
    if let Err(refusal) = authenticate(ws, r, token_key, wall_now) {
        return refusal;
    }
    dispatch(ws, keys, r)
}

/// Runs an authenticated request through [`ROUTES`] (also how a long-running operation's
/// `Location` reads the resource it made).
pub(crate) fn dispatch(ws: &mut Workspace, keys: &dyn KeySource, r: &Request) -> Response {
    let segments = match http::segments(&r.path) {
        Ok(s) => s,
        Err(why) => {
            return error_response(&ServiceError::bad_request("InvalidRequestUri", why));
        }
    };
    // A trailing slash names the same resource.
    let segments: Vec<String> = match segments.split_last() {
        Some((last, rest)) if last.is_empty() => rest.to_vec(),
        _ => segments,
    };
    let mut allowed = false;
    for (method, template, handler) in ROUTES {
        let Some(params) = matches(template, &segments) else {
            continue;
        };
        allowed = true;
        if !method.eq_ignore_ascii_case(&r.method) {
            continue;
        }
        // The route's subscription is the current one for the length of the request (the
        // operations work in the current subscription, as the shell's do after
        // `az account set`).
        let home = ws.current_subscription.clone();
        if let Some((_, sub)) = params.iter().find(|(n, _)| *n == "sub") {
            match ws
                .subscriptions
                .iter()
                .find(|s| s.id.0.eq_ignore_ascii_case(sub))
            {
                Some(s) => ws.current_subscription = s.id.clone(),
                None => {
                    return error_response(&resources::subscription_not_found(sub));
                }
            }
        }
        let mut ctx = Ctx {
            ws,
            keys,
            request: r,
            params,
        };
        let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handler(&mut ctx)));
        let response = match out {
            Ok(Ok(reply)) => respond(reply, &ctx),
            Ok(Err(e)) => error_response(&e),
            Err(panic) => error_response(&ServiceError::new(
                "InternalServerError",
                500,
                format!("the simulator failed: {}", crate::shell::panic_text(&panic)),
            )),
        };
        ctx.ws.current_subscription = home;
        return response;
    }
    if allowed {
        return error_response(&ServiceError::new(
            "MethodNotAllowed",
            405,
            format!(
                "The requested resource does not support http method '{}'.",
                r.method
            ),
        ));
    }
    error_response(&ServiceError::not_found(
        "NoRegisteredProviderFound",
        format!(
            "tde-console does not simulate '{} {}': it serves subscriptions, resource groups, Microsoft.ManagedIdentity identities, Microsoft.KeyVault vaults, Microsoft.Sql servers and managed instances, their keys and encryption protectors, databases, failover groups and replication links, the Microsoft.Network resources a managed instance needs (virtual networks, subnets, network security groups, route tables), and the activity log.",
            r.method, r.path
        ),
    ))
}

fn respond(reply: Reply, ctx: &Ctx) -> Response {
    match reply {
        Reply::Ok(v) => Response::json(200, &v),
        Reply::Created(v) => Response::json(201, &v),
        Reply::Accepted { status, location } => Response::empty(202)
            .with_header("Azure-AsyncOperation", status)
            .with_header("Location", location)
            .with_header("Retry-After", "1")
            .with_header("x-ms-resource-url", ctx.url()),
        Reply::Deleted => Response::empty(200),
        Reply::NoContent => Response::empty(204),
    }
}

/// A token of this workspace for Resource Manager, of the console user (the principal
/// the shell's az runs as): else ARM's 401.
fn authenticate(
    ws: &Workspace,
    r: &Request,
    token_key: &[u8; 32],
    wall_now: i64,
) -> Result<(), Response> {
    let refuse = |code: &str, message: String| {
        Response::json(401, &json!({"error": {"code": code, "message": message}})).with_header(
            "WWW-Authenticate",
            format!(
                "Bearer authorization_uri=\"https://login.microsoftonline.com/{}\", error=\"invalid_token\"",
                ws.console_user.tenant.0
            ),
        )
    };
    let Some(bearer) = r.header("Authorization").and_then(|h| {
        h.strip_prefix("Bearer ")
            .or_else(|| h.strip_prefix("bearer "))
    }) else {
        return Err(refuse(
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is missing.".into(),
        ));
    };
    let audience = login::ARM_AUDIENCE.trim_end_matches('/');
    let claims = token::verify(bearer.trim(), token_key, wall_now, audience).map_err(|e| {
        let why = match e {
            token::TokenError::Expired => "The token is expired.".to_string(),
            token::TokenError::WrongAudience(a) => {
                format!("The access token has been obtained for wrong audience or resource '{a}'. It should exactly match with one of the allowed audiences '{}','https://management.azure.com/'.", login::ARM_AUDIENCE)
            }
            other => other.message(),
        };
        refuse("InvalidAuthenticationToken", why)
    })?;
    if !claims
        .oid
        .eq_ignore_ascii_case(&ws.console_user.object_id.0)
    {
        return Err(Response::json(
            403,
            &json!({"error": {"code": "AuthorizationFailed", "message": format!(
                "The client '{}' with object id '{}' does not have authorization to perform this action: Resource Manager serves the console user only.",
                claims.name, claims.oid
            )}}),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::OsKeySource;

    const KEY: [u8; 32] = [5u8; 32];
    const NOW: i64 = 1_800_000_000;

    fn arm_token(ws: &Workspace, audience: &str) -> String {
        let u = &ws.console_user;
        let mut c = token::Claims::new(
            &u.object_id.0,
            &u.tenant.0,
            token::CONSOLE_APP_ID,
            &u.upn,
            true,
            NOW,
            3600,
        );
        c.aud = audience.into();
        token::issue(&c, &KEY)
    }

    fn call(ws: &mut Workspace, method: &str, path: &str, body: &str) -> (u16, Response, Value) {
        let bearer = arm_token(ws, login::ARM_AUDIENCE);
        let r = Request {
            method: method.into(),
            path: path.into(),
            headers: vec![("Authorization".into(), format!("Bearer {bearer}"))],
            body: body.as_bytes().to_vec(),
            ..Default::default()
        };
        let resp = handle(ws, &OsKeySource, &r, &KEY, NOW);
        let v = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
        (resp.status, resp, v)
    }

    fn server_path(ws: &Workspace, server: &str) -> String {
        let s = ws.server(server).expect("server");
        format!(
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Sql/servers/{}",
            s.subscription, s.resource_group, s.name
        )
    }

    #[test]
    fn a_request_needs_a_resource_manager_token_of_this_workspace() {
        let mut ws = crate::persist::demo().expect("demo");
        let path = server_path(&ws, "sql-contoso-us");
        let r = Request {
            method: "GET".into(),
            path: path.clone(),
            ..Default::default()
        };
        let resp = handle(&mut ws, &OsKeySource, &r, &KEY, NOW);
        assert_eq!(resp.status, 401);
        assert!(String::from_utf8_lossy(&resp.body).contains("AuthenticationFailed"));
        // A Key Vault token is not a Resource Manager token.
        let vault = arm_token(&ws, token::VAULT_RESOURCE);
        let r = Request {
            headers: vec![("Authorization".into(), format!("Bearer {vault}"))],
            ..r
        };
        let resp = handle(&mut ws, &OsKeySource, &r, &KEY, NOW);
        assert_eq!(resp.status, 401);
        assert!(String::from_utf8_lossy(&resp.body).contains("InvalidAuthenticationToken"));
    }

    #[test]
    fn a_server_comes_back_in_arms_shape_and_errors_carry_the_shells_codes() {
        let mut ws = crate::persist::demo().expect("demo");
        let path = server_path(&ws, "sql-contoso-us");
        let (status, _, v) = call(&mut ws, "GET", &path, "");
        assert_eq!(status, 200, "{v}");
        assert_eq!(v["name"], "sql-contoso-us");
        assert_eq!(
            v["properties"]["fullyQualifiedDomainName"],
            "sql-contoso-us.database.windows.net"
        );
        assert!(v.get("resourceGroup").is_none());
        // The same error the shell gives for an unknown server.
        let missing = path.replace("sql-contoso-us", "no-such-server");
        let (status, _, v) = call(&mut ws, "GET", &missing, "");
        let expected = ServiceError::server_not_found("no-such-server");
        assert_eq!(status, expected.status);
        assert_eq!(v["error"]["code"], expected.code.as_str());
        assert_eq!(v["error"]["message"], expected.message.as_str());
        // Unknown subscription, unknown route, wrong method.
        let (status, _, v) = call(&mut ws, "GET", "/subscriptions/nope/resourceGroups/rg", "");
        assert_eq!(
            (status, v["error"]["code"].as_str()),
            (404, Some("SubscriptionNotFound"))
        );
        let (status, _, v) = call(&mut ws, "GET", "/providers/Microsoft.Web/sites", "");
        assert_eq!(
            (status, v["error"]["code"].as_str()),
            (404, Some("NoRegisteredProviderFound"))
        );
        let (status, _, _) = call(&mut ws, "POST", &path, "");
        assert_eq!(status, 405);
    }

    #[test]
    fn a_failover_group_fails_over_when_posted_to_its_secondary() {
        let mut ws = crate::persist::demo().expect("demo");
        let g = ws.continuity.failover_groups[0].clone();
        let secondary = g.secondary_server.clone();
        let base = server_path(&ws, &secondary);
        let path = format!("{base}/failoverGroups/{}/failover", g.name);
        let (status, _, v) = call(&mut ws, "POST", &path, "");
        assert_eq!(status, 200, "{v}");
        assert_eq!(v["properties"]["replicationRole"], "Primary", "{v}");
        let now = ws
            .continuity
            .failover_group(&g.name)
            .expect("the group")
            .primary_server
            .clone();
        assert_eq!(now, secondary, "the secondary is the primary");
        // An unknown group: the shell's error, and nothing changes.
        let before = ws.clone();
        let missing = format!("{base}/failoverGroups/no-such-group/forceFailoverAllowDataLoss");
        let (status, _, v) = call(&mut ws, "POST", &missing, "");
        assert_eq!(status, 404, "{v}");
        assert!(ws.same_as(&before));
    }

    #[test]
    fn a_refused_change_leaves_the_workspace_as_it_was() {
        let mut ws = crate::persist::demo().expect("demo");
        let before = ws.clone();
        let path = server_path(&ws, "sql-contoso-us2");
        let (status, _, v) = call(
            &mut ws,
            "PUT",
            &format!("{path}/encryptionProtector/current"),
            r#"{"properties":{"serverKeyType":"AzureKeyVault","serverKeyName":"kv_nokey_1"}}"#,
        );
        assert_eq!(status, 404, "{v}");
        assert_eq!(v["error"]["code"], "ServerKeyNotFound");
        let (status, _, v) = call(
            &mut ws,
            "PUT",
            &format!("{path}/keys/wrong-name"),
            r#"{"properties":{"serverKeyType":"AzureKeyVault","uri":"https://kv-contoso-us2.vault.azure.net/keys/k/0123456789abcdef0123456789abcdef"}}"#,
        );
        assert_eq!(status, 400, "{v}");
        assert_eq!(v["error"]["code"], "InvalidServerKeyName");
        let (status, _, _) = call(&mut ws, "PUT", &format!("{path}/keys/x"), "{not json");
        assert_eq!(status, 400);
        assert_eq!(ws.revision, before.revision);
    }

    #[test]
    fn the_protector_change_is_a_long_running_operation_az_polls() {
        let mut ws = crate::persist::demo().expect("demo");
        let path = server_path(&ws, "sql-contoso-us2");
        let (status, resp, v) = call(
            &mut ws,
            "PUT",
            &format!("{path}/encryptionProtector/current"),
            r#"{"properties":{"serverKeyType":"ServiceManaged","serverKeyName":"ServiceManaged"}}"#,
        );
        assert_eq!(status, 202, "{v}");
        let header = |n: &str| {
            resp.headers
                .iter()
                .find(|(k, _)| k == n)
                .map(|(_, v)| v.clone())
                .expect(n)
        };
        let status_url = header("Azure-AsyncOperation");
        let status_path = status_url
            .strip_prefix("https://management.azure.com")
            .and_then(|p| p.split('?').next())
            .expect("a management URL")
            .to_string();
        let (code, _, v) = call(&mut ws, "GET", &status_path, "");
        assert_eq!(
            (code, v["status"].as_str()),
            (200, Some("Succeeded")),
            "{v}"
        );
        let location = header("Location");
        let location = location
            .strip_prefix("https://management.azure.com")
            .and_then(|p| p.split('?').next())
            .expect("a management URL")
            .to_string();
        let (code, _, v) = call(&mut ws, "GET", &location, "");
        assert_eq!(code, 200);
        assert_eq!(v["properties"]["serverKeyType"], "ServiceManaged");
        let (_, _, v) = call(
            &mut ws,
            "GET",
            &format!("{path}/encryptionProtector/current"),
            "",
        );
        assert_eq!(v["properties"]["serverKeyType"], "ServiceManaged");
    }

    /// A header of a response (`Azure-AsyncOperation`, `Location`) as a path to GET.
    fn lro_path(resp: &Response, name: &str) -> String {
        let url = resp
            .headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no {name} header"));
        url.strip_prefix("https://management.azure.com")
            .and_then(|p| p.split('?').next())
            .expect("a management URL")
            .to_string()
    }

    /// Polls a 202 as az does: the status until Succeeded, then the result.
    fn poll(ws: &mut Workspace, resp: &Response) -> (u16, Value) {
        assert_eq!(resp.status, 202);
        let (code, _, v) = call(ws, "GET", &lro_path(resp, "Azure-AsyncOperation"), "");
        assert_eq!(
            (code, v["status"].as_str()),
            (200, Some("Succeeded")),
            "{v}"
        );
        let (code, _, v) = call(ws, "GET", &lro_path(resp, "Location"), "");
        (code, v)
    }

    #[test]
    fn a_server_is_created_with_its_identity_and_deleted_through_the_shells_operations() {
        let mut ws = crate::persist::demo().expect("demo");
        let sub = ws.current_subscription.0.clone();
        let path = format!(
            "/subscriptions/{sub}/resourceGroups/rg-contoso-us/providers/Microsoft.Sql/servers/sql-arm-new"
        );
        // A weak password: the shell's refusal, and nothing made.
        let before = ws.revision;
        let (status, _, v) = call(
            &mut ws,
            "PUT",
            &path,
            r#"{"location":"westus","properties":{"administratorLogin":"sqladmin","administratorLoginPassword":"short"}}"#,
        );
        assert_eq!(
            (status, v["error"]["code"].as_str()),
            (400, Some("PasswordNotComplex"))
        );
        assert_eq!(ws.revision, before);
        assert!(ws.server("sql-arm-new").is_none());
        let (_, resp, v) = call(
            &mut ws,
            "PUT",
            &path,
            r#"{"location":"westus","identity":{"type":"SystemAssigned"},"properties":{"administratorLogin":"sqladmin","administratorLoginPassword":"Str0ng!Passw0rd","minimalTlsVersion":"1.2","createMode":"Normal"}}"#,
        );
        assert_eq!(resp.status, 202, "{v}");
        let (code, v) = poll(&mut ws, &resp);
        assert_eq!(code, 200, "{v}");
        assert_eq!(v["name"], "sql-arm-new");
        assert_eq!(v["identity"]["type"], "SystemAssigned", "{v}");
        let s = ws.server("sql-arm-new").expect("made");
        assert_eq!(s.location, "westus");
        assert!(s.identity.is_some());
        // The name is taken now, in any group: a PUT updates it instead.
        let (status, _, v) = call(&mut ws, "PATCH", &path, r#"{"properties":{}}"#);
        assert_eq!(status, 200, "{v}");
        let (_, resp, _) = call(&mut ws, "DELETE", &path, "");
        let (code, _) = poll(&mut ws, &resp);
        assert_eq!(code, 204);
        assert!(ws.server("sql-arm-new").is_none());
        let (status, _, _) = call(&mut ws, "DELETE", &path, "");
        assert_eq!(status, 204, "nothing left to delete");
        // A server of a failover group is refused, as the shell refuses it.
        let primary = server_path(&ws, "sql-contoso-us");
        let (status, _, v) = call(&mut ws, "DELETE", &primary, "");
        assert_eq!(
            (status, v["error"]["code"].as_str()),
            (400, Some("FailoverGroupAlreadySetup"))
        );
        assert!(ws.server("sql-contoso-us").is_some());
    }

    #[test]
    fn a_database_and_its_geo_replica_are_created_and_removed_as_az_sends_them() {
        let mut ws = crate::persist::demo().expect("demo");
        let base = server_path(&ws, "sql-contoso-us");
        let (_, resp, v) = call(
            &mut ws,
            "PUT",
            &format!("{base}/databases/orders"),
            r#"{"location":"eastus","sku":{"name":"S0"},"properties":{"maxSizeBytes":2147483648}}"#,
        );
        assert_eq!(resp.status, 202, "{v}");
        let (code, v) = poll(&mut ws, &resp);
        assert_eq!(code, 200, "{v}");
        assert_eq!(v["properties"]["currentServiceObjectiveName"], "S0", "{v}");
        let d = ws
            .server("sql-contoso-us")
            .and_then(|s| s.database("orders"))
            .expect("made");
        assert_eq!(d.max_size_gb, 2);
        // The geo-secondary: az PUTs the partner's database with createMode Secondary.
        let partner = server_path(&ws, "sql-contoso-us2");
        let body = json!({"location": "westus", "properties": {
            "createMode": "Secondary", "secondaryType": "Geo",
            "sourceDatabaseId": format!("{base}/databases/orders")}});
        let (_, resp, v) = call(
            &mut ws,
            "PUT",
            &format!("{partner}/databases/orders"),
            &body.to_string(),
        );
        assert_eq!(resp.status, 202, "{v}");
        let (code, v) = poll(&mut ws, &resp);
        assert_eq!(
            (code, v["properties"]["secondaryType"].as_str()),
            (200, Some("Geo")),
            "{v}"
        );
        let (_, _, links) = call(
            &mut ws,
            "GET",
            &format!("{base}/databases/orders/replicationLinks"),
            "",
        );
        let link = links["value"][0]["name"]
            .as_str()
            .expect("a link")
            .to_string();
        let (status, _, v) = call(
            &mut ws,
            "GET",
            &format!("{base}/databases/orders/replicationLinks/{link}"),
            "",
        );
        assert_eq!(
            (status, v["properties"]["partnerServer"].as_str()),
            (200, Some("sql-contoso-us2"))
        );
        let (_, resp, _) = call(
            &mut ws,
            "DELETE",
            &format!("{base}/databases/orders/replicationLinks/{link}"),
            "",
        );
        assert_eq!(poll(&mut ws, &resp).0, 204);
        assert!(
            ws.continuity
                .links
                .iter()
                .all(|l| !l.touches("sql-contoso-us", "orders"))
        );
        // createMode Copy (az sql db copy) names its source; without one it is refused
        // and nothing is made.
        let (status, _, v) = call(
            &mut ws,
            "PUT",
            &format!("{base}/databases/copy1"),
            r#"{"properties":{"createMode":"Copy"}}"#,
        );
        assert_eq!(
            (status, v["error"]["code"].as_str()),
            (400, Some("InvalidParameterValue"))
        );
        let (_, resp, _) = call(
            &mut ws,
            "PUT",
            &format!("{base}/databases/copy1"),
            &format!(
                r#"{{"properties":{{"createMode":"Copy","sourceDatabaseId":"{base}/databases/orders"}}}}"#
            ),
        );
        assert!(poll(&mut ws, &resp).0 < 300);
        assert!(
            ws.server("sql-contoso-us")
                .and_then(|s| s.database("copy1"))
                .is_some(),
            "the copy is made"
        );
        // The restore modes are not a silent default.
        let (status, _, v) = call(
            &mut ws,
            "PUT",
            &format!("{base}/databases/restored1"),
            r#"{"properties":{"createMode":"PointInTimeRestore"}}"#,
        );
        assert_eq!(
            (status, v["error"]["code"].as_str()),
            (400, Some("FeatureNotSupported"))
        );
        let (_, resp, _) = call(&mut ws, "DELETE", &format!("{base}/databases/orders"), "");
        assert_eq!(poll(&mut ws, &resp).0, 204);
        assert!(
            ws.server("sql-contoso-us")
                .and_then(|s| s.database("orders"))
                .is_none()
        );
        // A database of a failover group: the shell's refusal.
        let (status, _, v) = call(&mut ws, "DELETE", &format!("{base}/databases/sales"), "");
        assert_eq!(
            (status, v["error"]["code"].as_str()),
            (400, Some("FailoverGroupAlreadySetup")),
            "{v}"
        );
    }

    #[test]
    fn a_failover_group_is_created_updated_and_deleted_as_az_sends_it() {
        let mut ws = crate::persist::demo().expect("demo");
        let base = server_path(&ws, "sql-contoso-us");
        let partner = server_path(&ws, "sql-contoso-us2");
        let path = format!("{base}/failoverGroups/fg-hr");
        // As az sql failover-group create --partner-server sql-contoso-us2 --add-db hr sends it.
        let body = json!({"properties": {
            "partnerServers": [{"id": partner}],
            "databases": [format!("{base}/databases/hr")],
            "readWriteEndpoint": {"failoverPolicy": "Manual"},
            "readOnlyEndpoint": {"failoverPolicy": "Disabled", "targetServer": partner}}});
        let (_, resp, v) = call(&mut ws, "PUT", &path, &body.to_string());
        assert_eq!(resp.status, 202, "{v}");
        let (code, v) = poll(&mut ws, &resp);
        assert_eq!(code, 200, "{v}");
        assert_eq!(v["properties"]["replicationRole"], "Primary");
        let g = ws.continuity.failover_group("fg-hr").expect("made").clone();
        assert_eq!(
            (g.secondary_server.as_str(), g.databases.clone()),
            ("sql-contoso-us2", vec!["hr".to_string()])
        );
        assert_eq!(g.policy, crate::model::FailoverPolicy::Manual);
        // az sql failover-group update --remove-db hr --failover-policy Automatic --grace-period 2:
        // the group comes back with its databases changed.
        let mut update = v.clone();
        update["properties"]["databases"] = json!([]);
        update["properties"]["readWriteEndpoint"] =
            json!({"failoverPolicy": "Automatic", "failoverWithDataLossGracePeriodMinutes": 120});
        let (_, resp, v) = call(&mut ws, "PUT", &path, &update.to_string());
        assert_eq!(resp.status, 202, "{v}");
        poll(&mut ws, &resp);
        let g = ws.continuity.failover_group("fg-hr").expect("kept").clone();
        assert!(g.databases.is_empty());
        assert_eq!(
            (g.policy, g.grace_period_hours),
            (crate::model::FailoverPolicy::Automatic, 2)
        );
        // Changes on the secondary are refused as the shell refuses them.
        let (status, _, v) = call(
            &mut ws,
            "DELETE",
            &format!("{partner}/failoverGroups/fg-hr"),
            "",
        );
        assert_eq!(
            (status, v["error"]["code"].as_str()),
            (400, Some("FailoverGroupUpdateOrDeleteRequestOnSecondary"))
        );
        let (_, resp, _) = call(&mut ws, "DELETE", &path, "");
        assert_eq!(poll(&mut ws, &resp).0, 204);
        assert!(ws.continuity.failover_group("fg-hr").is_none());
        // Two partners: Azure's refusal.
        let two = json!({"properties": {"partnerServers": [{"id": partner}, {"id": partner}]}});
        let (status, _, v) = call(&mut ws, "PUT", &path, &two.to_string());
        assert_eq!(
            (status, v["error"]["code"].as_str()),
            (
                400,
                Some("FailoverGroupCreateOrUpdateRequestUnsupportedPartnerCount")
            )
        );
    }

    #[test]
    fn a_managed_instance_is_created_over_the_network_az_builds_for_it() {
        let mut ws = crate::persist::demo().expect("demo");
        let sub = ws.current_subscription.0.clone();
        let rg = format!("/subscriptions/{sub}/resourceGroups/rg-contoso-us/providers");
        let net = format!("{rg}/Microsoft.Network");
        let put = |ws: &mut Workspace, path: &str, body: &str| {
            let (status, _, v) = call(ws, "PUT", path, body);
            assert!(matches!(status, 200 | 201), "{path}: {v}");
            assert_eq!(v["properties"]["provisioningState"], "Succeeded", "{v}");
            v
        };
        // As az network vnet|nsg|nsg rule|route-table|route-table route create send them.
        put(
            &mut ws,
            &format!("{net}/virtualNetworks/vnet-mi"),
            r#"{"location":"westus","properties":{"addressSpace":{"addressPrefixes":["10.0.0.0/16"]},"enableDdosProtection":false}}"#,
        );
        put(
            &mut ws,
            &format!("{net}/networkSecurityGroups/nsg-mi"),
            r#"{"location":"westus"}"#,
        );
        let rule = put(
            &mut ws,
            &format!("{net}/networkSecurityGroups/nsg-mi/securityRules/allow_tds"),
            r#"{"name":"allow_tds","properties":{"access":"Allow","destinationAddressPrefix":"*","destinationPortRange":"1433","direction":"Inbound","priority":1000,"protocol":"Tcp","sourceAddressPrefix":"*","sourcePortRange":"*"}}"#,
        );
        assert_eq!(rule["properties"]["destinationPortRange"], "1433");
        put(
            &mut ws,
            &format!("{net}/routeTables/rt-mi"),
            r#"{"location":"westus"}"#,
        );
        put(
            &mut ws,
            &format!("{net}/routeTables/rt-mi/routes/to-internet"),
            r#"{"name":"to-internet","properties":{"addressPrefix":"0.0.0.0/0","nextHopType":"Internet"}}"#,
        );
        // A subnet without the delegation: the instance is refused, nothing made.
        put(
            &mut ws,
            &format!("{net}/virtualNetworks/vnet-mi/subnets/plain"),
            r#"{"name":"plain","properties":{"addressPrefix":"10.0.1.0/24"}}"#,
        );
        let mi = format!("{rg}/Microsoft.Sql/managedInstances/mi-arm");
        let mi_body = |subnet: &str| {
            json!({"location": "westus", "properties": {
                "administratorLogin": "sqladmin", "administratorLoginPassword": "Str0ng!Passw0rd",
                "subnetId": format!("{net}/virtualNetworks/vnet-mi/subnets/{subnet}"),
                "administrators": {}}})
            .to_string()
        };
        let (status, _, v) = call(&mut ws, "PUT", &mi, &mi_body("plain"));
        assert_eq!(
            (status, v["error"]["code"].as_str()),
            (400, Some("MiCreateFailedNonDelegatedSubnet")),
            "{v}"
        );
        assert!(ws.server("mi-arm").is_none());
        let subnet = format!("{net}/virtualNetworks/vnet-mi/subnets/mi-subnet");
        put(&mut ws, &subnet, &json!({"name": "mi-subnet", "properties": {
            "addressPrefix": "10.0.0.0/24",
            "delegations": [{"name": "0", "properties": {"serviceName": "Microsoft.Sql/managedInstances"}}],
            "networkSecurityGroup": {"id": format!("{net}/networkSecurityGroups/nsg-mi")},
            "routeTable": {"id": format!("{net}/routeTables/rt-mi")}}}).to_string());
        // az network vnet subnet update reads the subnet and sends it back: it stays whole.
        let (_, _, read) = call(&mut ws, "GET", &subnet, "");
        let back = put(&mut ws, &subnet, &read.to_string());
        assert_eq!(
            back["properties"]["delegations"][0]["properties"]["serviceName"],
            "Microsoft.Sql/managedInstances",
            "{back}"
        );
        assert!(
            back["properties"]["routeTable"]["id"].as_str().is_some(),
            "{back}"
        );
        let (_, resp, v) = call(&mut ws, "PUT", &mi, &mi_body("mi-subnet"));
        assert_eq!(resp.status, 202, "{v}");
        let (code, v) = poll(&mut ws, &resp);
        assert_eq!(code, 200, "{v}");
        let made = ws.server("mi-arm").expect("made");
        assert_eq!(made.kind, crate::model::ServerKind::ManagedInstance);
        assert!(
            made.subnet_id
                .as_deref()
                .is_some_and(|id| id.ends_with("/subnets/mi-subnet"))
        );
        // The subnet keeps what the instance needs (the network intent policy).
        let mut bare = read.clone();
        bare["properties"]["routeTable"] = Value::Null;
        let (status, _, v) = call(&mut ws, "PUT", &subnet, &bare.to_string());
        assert_eq!(
            (status, v["error"]["code"].as_str()),
            (400, Some("NetworkIntentPolicyViolation")),
            "{v}"
        );
        let (_, resp, _) = call(&mut ws, "DELETE", &mi, "");
        assert_eq!(poll(&mut ws, &resp).0, 204);
        assert!(ws.server("mi-arm").is_none());
    }

    #[test]
    fn templates_match_segments_without_case_and_capture_names() {
        let segs: Vec<String> =
            "subscriptions/S1/resourcegroups/rg-1/providers/microsoft.sql/servers/sql-a"
                .split('/')
                .map(String::from)
                .collect();
        let got = matches(
            "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Sql/servers/{server}",
            &segs,
        )
        .expect("matches");
        assert_eq!(
            got,
            vec![
                ("sub", "S1".into()),
                ("rg", "rg-1".into()),
                ("server", "sql-a".into())
            ]
        );
        assert!(matches("/subscriptions/{sub}", &segs).is_none());
    }

    #[test]
    fn every_route_template_is_well_formed_and_reachable() {
        for (i, (method, template, _)) in ROUTES.iter().enumerate() {
            assert!(template.starts_with('/'), "{template}");
            assert!(["GET", "PUT", "PATCH", "DELETE", "POST"].contains(method));
            // No earlier route of the same method shadows this one.
            let sample: Vec<String> = template
                .split('/')
                .skip(1)
                .map(|t| {
                    if t.starts_with('{') {
                        "x".to_string()
                    } else {
                        t.to_string()
                    }
                })
                .collect();
            let first = ROUTES
                .iter()
                .position(|(m, t, _)| m == method && matches(t, &sample).is_some());
            assert_eq!(first, Some(i), "{method} {template} is shadowed");
        }
    }
}
