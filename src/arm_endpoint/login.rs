//! The sign-in authority az's MSAL talks to (`https://login.microsoftonline.com`, reached
//! through the proxy): instance discovery, the tenant's OpenID configuration and the
//! token endpoint for the client-credentials grant (`az login --service-principal`).
//!
//! The one client it signs in is the Azure CLI's application (the console user's own
//! token names it) with a secret derived from the workspace's token key: the token it
//! issues is the console user's, so the real az acts as the same principal as the az
//! typed in the console's shell. Errors are Entra's (`AADSTS…`) in OAuth's shape.

use crate::model::Workspace;
use crate::vault_endpoint::TOKEN_LIFETIME_S;
use crate::vault_endpoint::http::{self, Request, Response};
use crate::vault_endpoint::token::{self, CONSOLE_APP_ID, Claims};
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::json;

/// The audience of Resource Manager's tokens, as Entra writes it.
pub const ARM_AUDIENCE: &str = "https://management.core.windows.net/";
const HOST: &str = "https://login.microsoftonline.com";

/// The client secret of the Azure CLI's application in this workspace: derived from the
/// workspace's token key, so it changes with it and only this workspace knows it.
pub fn client_secret(token_key: &[u8; 32]) -> String {
    let Ok(mut mac) = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(token_key) else {
        return String::new();
    };
    mac.update(b"tde-console az client secret");
    let bytes = mac.finalize().into_bytes();
    format!(
        "tde~{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes[..24])
    )
}

fn oauth_error(status: u16, error: &str, description: &str) -> Response {
    Response::json(
        status,
        &json!({
            "error": error,
            "error_description": description,
            "error_codes": [description
                .strip_prefix("AADSTS")
                .and_then(|d| d.split(':').next())
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or(0)],
        }),
    )
}

fn tenant_known(ws: &Workspace, tenant: &str) -> bool {
    ws.console_user.tenant.0.eq_ignore_ascii_case(tenant)
        || ws
            .tenants
            .iter()
            .any(|t| t.id.0.eq_ignore_ascii_case(tenant))
}

/// Answers one request to the authority.
pub fn handle(ws: &Workspace, r: &Request, token_key: &[u8; 32], wall_now: i64) -> Response {
    let segments = match http::segments(&r.path) {
        Ok(s) => s,
        Err(why) => return oauth_error(400, "invalid_request", &why),
    };
    let parts: Vec<&str> = segments.iter().map(String::as_str).collect();
    match (r.method.as_str(), parts.as_slice()) {
        ("GET", ["common" | "organizations", "discovery", "instance"]) => {
            let tenant = &ws.console_user.tenant.0;
            Response::json(
                200,
                &json!({
                    "tenant_discovery_endpoint": format!("{HOST}/{tenant}/v2.0/.well-known/openid-configuration"),
                    "api-version": "1.1",
                    "metadata": [{
                        "preferred_network": "login.microsoftonline.com",
                        "preferred_cache": "login.windows.net",
                        "aliases": ["login.microsoftonline.com", "login.windows.net", "login.microsoft.com", "sts.windows.net"],
                    }],
                }),
            )
        }
        ("GET", [tenant, "v2.0", ".well-known", "openid-configuration"]) => {
            if !tenant_known(ws, tenant) {
                return oauth_error(
                    400,
                    "invalid_tenant",
                    &format!(
                        "AADSTS90002: Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."
                    ),
                );
            }
            Response::json(
                200,
                &json!({
                    "token_endpoint": format!("{HOST}/{tenant}/oauth2/v2.0/token"),
                    "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
                    "jwks_uri": format!("{HOST}/{tenant}/discovery/v2.0/keys"),
                    "response_modes_supported": ["query", "fragment", "form_post"],
                    "subject_types_supported": ["pairwise"],
                    "id_token_signing_alg_values_supported": ["RS256"],
                    "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
                    "scopes_supported": ["openid", "profile", "email", "offline_access"],
                    "issuer": format!("{HOST}/{tenant}/v2.0"),
                    "request_uri_parameter_supported": false,
                    "authorization_endpoint": format!("{HOST}/{tenant}/oauth2/v2.0/authorize"),
                    "device_authorization_endpoint": format!("{HOST}/{tenant}/oauth2/v2.0/devicecode"),
                    "http_logout_supported": true,
                    "frontchannel_logout_supported": true,
                    "end_session_endpoint": format!("{HOST}/{tenant}/oauth2/v2.0/logout"),
                    "claims_supported": ["sub", "iss", "aud", "exp", "iat", "tid", "oid"],
                    "tenant_region_scope": "NA",
                    "cloud_instance_name": "microsoftonline.com",
                }),
            )
        }
        ("POST", [tenant, "oauth2", "v2.0", "token"]) => token(ws, tenant, r, token_key, wall_now),
        _ => oauth_error(
            404,
            "not_found",
            &format!(
                "AADSTS900561: The endpoint {} {} is not one tde-console's sign-in answers (it answers OpenID configuration, instance discovery and the client-credentials token request).",
                r.method, r.path
            ),
        ),
    }
}

/// `POST /{tenant}/oauth2/v2.0/token` with `grant_type=client_credentials`.
fn token(
    ws: &Workspace,
    tenant: &str,
    r: &Request,
    token_key: &[u8; 32],
    wall_now: i64,
) -> Response {
    let form = http::form(&r.body);
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    if !tenant_known(ws, tenant) {
        return oauth_error(
            400,
            "invalid_request",
            &format!(
                "AADSTS90002: Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."
            ),
        );
    }
    if field("grant_type") != Some("client_credentials") {
        return oauth_error(
            400,
            "unsupported_grant_type",
            "AADSTS70003: The app requested an unsupported grant type. tde-console signs in with client credentials only (az login --service-principal).",
        );
    }
    let client = field("client_id").unwrap_or("");
    if !client.eq_ignore_ascii_case(CONSOLE_APP_ID) {
        return oauth_error(
            400,
            "unauthorized_client",
            &format!(
                "AADSTS700016: Application with identifier '{client}' was not found in the directory '{tenant}'. Sign in with the command tde-console serve prints (az_login)."
            ),
        );
    }
    let secret = field("client_secret").unwrap_or("");
    let expected = client_secret(token_key);
    let same = secret.len() == expected.len()
        && secret
            .bytes()
            .zip(expected.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if !same {
        return oauth_error(
            401,
            "invalid_client",
            &format!(
                "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client}'."
            ),
        );
    }
    if !ws.console_user.tenant.0.eq_ignore_ascii_case(tenant) {
        return oauth_error(
            400,
            "invalid_request",
            &format!(
                "AADSTS700016: Application with identifier '{client}' was not found in the directory '{tenant}': the console user signs in to its own tenant, {}.",
                ws.console_user.tenant.0
            ),
        );
    }
    let scope = field("scope").unwrap_or("");
    let Some(audience) = scope
        .split(' ')
        .find_map(|s| s.strip_suffix("/.default"))
        .and_then(audience_of)
    else {
        return oauth_error(
            400,
            "invalid_resource",
            &format!(
                "AADSTS500011: The resource principal named '{scope}' was not found in the tenant. tde-console issues tokens for Resource Manager and Key Vault."
            ),
        );
    };
    let u = &ws.console_user;
    let mut claims = Claims::new(
        &u.object_id.0,
        &u.tenant.0,
        CONSOLE_APP_ID,
        &u.upn,
        true,
        wall_now,
        TOKEN_LIFETIME_S,
    );
    claims.aud = audience.to_string();
    Response::json(
        200,
        &json!({
            "token_type": "Bearer",
            "expires_in": TOKEN_LIFETIME_S,
            "ext_expires_in": TOKEN_LIFETIME_S,
            "access_token": token::issue(&claims, token_key),
        }),
    )
}

/// The audience of a token for `resource` (a scope without `/.default`).
fn audience_of(resource: &str) -> Option<&'static str> {
    match resource.trim_end_matches('/').to_ascii_lowercase().as_str() {
        "https://management.core.windows.net" | "https://management.azure.com" => {
            Some(ARM_AUDIENCE)
        }
        "https://vault.azure.net" => Some(token::VAULT_RESOURCE),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(ws: &Workspace, key: &[u8; 32], body: &str) -> Response {
        let tenant = ws.console_user.tenant.0.clone();
        let r = Request {
            method: "POST".into(),
            path: format!("/{tenant}/oauth2/v2.0/token"),
            body: body.as_bytes().to_vec(),
            ..Default::default()
        };
        handle(ws, &r, key, 1_800_000_000)
    }

    #[test]
    fn the_cli_app_with_the_workspace_secret_gets_the_console_users_tokens() {
        let ws = crate::service::new_workspace("t", 1);
        let key = [7u8; 32];
        let secret = client_secret(&key);
        let body = format!(
            "client_id={CONSOLE_APP_ID}&grant_type=client_credentials&client_secret={secret}&scope=https%3A%2F%2Fmanagement.core.windows.net%2F%2F.default"
        );
        let r = post(&ws, &key, &body);
        assert_eq!(r.status, 200);
        let v: serde_json::Value = serde_json::from_slice(&r.body).expect("json");
        let t = v["access_token"].as_str().expect("token");
        let c = token::verify(t, &key, 1_800_000_000, ARM_AUDIENCE.trim_end_matches('/'))
            .expect("an ARM token");
        assert_eq!(c.oid, ws.console_user.object_id.0);
        // The wrong secret, another client, another resource: refused with Entra's codes.
        let wrong = body.replace(&secret, "tde~nope");
        assert_eq!(post(&ws, &key, &wrong).status, 401);
        let other = body.replace(CONSOLE_APP_ID, "00000000-0000-0000-0000-000000000001");
        assert_eq!(post(&ws, &key, &other).status, 400);
        let graph = body.replace("management.core.windows.net%2F", "graph.microsoft.com");
        let r = post(&ws, &key, &graph);
        assert_eq!(r.status, 400);
        assert!(String::from_utf8_lossy(&r.body).contains("AADSTS500011"));
    }

    #[test]
    fn the_openid_configuration_names_the_token_endpoint_of_a_known_tenant_only() {
        let ws = crate::service::new_workspace("t", 1);
        let tenant = ws.console_user.tenant.0.clone();
        let get = |path: String| {
            let r = Request {
                method: "GET".into(),
                path,
                ..Default::default()
            };
            handle(&ws, &r, &[1u8; 32], 0)
        };
        let r = get(format!("/{tenant}/v2.0/.well-known/openid-configuration"));
        let v: serde_json::Value = serde_json::from_slice(&r.body).expect("json");
        assert_eq!(
            v["token_endpoint"],
            format!("https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token")
        );
        let r = get("/no-such-tenant/v2.0/.well-known/openid-configuration".into());
        assert_eq!(r.status, 400);
    }
}
