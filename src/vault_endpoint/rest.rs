//! Key Vault's data-plane REST API for keys (and, in [`secrets`], for secrets), over the
//! operations layer. Each request is
//! authenticated (challenge-based bearer auth), then run as the token's principal through
//! the same checks, limits, soft delete and records as the shell's requests: the console
//! user is that principal for the length of the request.
//!
//! Shapes follow the service (api-version 7.x and 2025-07-01): key bundles with a JWK,
//! unix times, `{"value": [...], "nextLink": null}` lists, `{"error": {"code", "message"}}`.

use super::http::{Request, Response};
use super::json;
use super::token::{self, Claims};
use crate::crypto::{
    EcCurve, KeyMaterial, RsaKeyMaterial, SignatureAlgorithm, WrapAlgorithm, b64url,
};
use crate::model::*;
use crate::service::keyvault::{self, CreateKey, KeyAttributes};
use crate::service::{ServiceError, rotation};
use base64::Engine;
use serde_json::{Value, json};

mod secrets;

/// Key material a request needs made before it can run (off the thread that owns the
/// workspace: RSA generation takes tens of milliseconds).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MaterialSpec {
    Rsa(usize),
    Ec(EcCurve),
}

impl MaterialSpec {
    pub fn make(self, keys: &dyn crate::service::KeySource) -> Result<KeyMaterial, String> {
        match self {
            MaterialSpec::Rsa(bits) => keys
                .generate(bits)
                .map(KeyMaterial::Rsa)
                .map_err(|e| e.to_string()),
            MaterialSpec::Ec(curve) => crate::crypto::EcKeyMaterial::generate(curve)
                .map(KeyMaterial::Ec)
                .map_err(|e| e.to_string()),
        }
    }
}

/// What handling a request came to.
#[derive(Debug)]
pub enum Outcome {
    Done(Response),
    /// Make this key material and send the request again with it.
    NeedsMaterial(MaterialSpec),
}

/// One request to a vault of the workspace.
pub struct Call<'a> {
    /// The vault the port serves.
    pub vault: &'a str,
    /// `https://127.0.0.1:PORT/`: what key ids are built on (the SDKs follow them).
    pub base: &'a str,
    pub request: &'a Request,
    pub material: Option<KeyMaterial>,
    /// The signing key of the workspace's tokens.
    pub token_key: &'a [u8; 32],
    /// Wall-clock unix seconds (token lifetimes).
    pub wall_now: i64,
}

/// Handles one request: authentication, then the operation as the token's principal.
pub fn handle(ws: &mut Workspace, call: Call) -> Outcome {
    // A deleted vault's port stops listening; a request already on its way gets this.
    let Some(vault) = ws.vault(call.vault).filter(|v| v.deleted.is_none()) else {
        return Outcome::Done(Response::error(
            404,
            "VaultNotFound",
            &format!(
                "The vault '{}' no longer exists in the workspace.",
                call.vault
            ),
        ));
    };
    let resource = if vault.is_managed_hsm() {
        token::HSM_RESOURCE
    } else {
        token::VAULT_RESOURCE
    };
    let challenge = format!(
        "Bearer authorization=\"https://login.microsoftonline.com/{}\", resource=\"{resource}\"",
        vault.tenant.0
    );
    let unauthorized = |message: &str| {
        Outcome::Done(
            Response::error(401, "Unauthorized", message)
                .with_header("WWW-Authenticate", challenge.clone()),
        )
    };
    let Some(bearer) = call.request.header("Authorization").and_then(|h| {
        h.strip_prefix("Bearer ")
            .or_else(|| h.strip_prefix("bearer "))
    }) else {
        return unauthorized("AKV10000: Request is missing a Bearer or PoP token.");
    };
    let claims = match token::verify(bearer.trim(), call.token_key, call.wall_now, resource) {
        Ok(c) => c,
        Err(e) => return unauthorized(&e.message()),
    };
    let Some(acting) = principal(ws, &claims, call.request) else {
        return unauthorized(&format!(
            "AKV10032: Invalid issuer. The token's principal {} of tenant {} is not in this workspace.",
            claims.oid, claims.tid
        ));
    };
    let home = std::mem::replace(&mut ws.console_user, acting);
    let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| route(ws, &call)));
    ws.console_user = home;
    match out {
        Ok(Ok(o)) => o,
        Ok(Err(e)) => Outcome::Done(error_response(ws, call.vault, &e)),
        Err(panic) => Outcome::Done(Response::error(
            500,
            "InternalError",
            &format!(
                "the simulator failed: {}",
                crate::service::panic_text(&panic)
            ),
        )),
    }
}

/// The principal a token names, as the console user it acts as: the console user, a
/// server's system-assigned identity, a user-assigned identity, or an application's
/// service principal in the token's tenant.
fn principal(ws: &Workspace, c: &Claims, r: &Request) -> Option<ConsoleUser> {
    let oid = c.oid.to_ascii_lowercase();
    let tid = TenantId(c.tid.clone());
    let known = ws.console_user.object_id.0.eq_ignore_ascii_case(&oid)
        || ws.servers.iter().any(|s| {
            s.identity
                .as_ref()
                .is_some_and(|i| i.principal_id.0.eq_ignore_ascii_case(&oid))
        })
        || ws
            .identities
            .iter()
            .any(|i| i.principal_id.0.eq_ignore_ascii_case(&oid))
        || ws
            .service_principals
            .iter()
            .any(|s| s.object_id.0.eq_ignore_ascii_case(&oid) && s.tenant == tid);
    known.then(|| ConsoleUser {
        object_id: PrincipalId(oid),
        upn: c.name.clone(),
        tenant: tid,
        client_ip: ws.console_user.client_ip.clone(),
        via: Some(ClientApp {
            app_id: c.appid.clone(),
            user_agent: r
                .header("User-Agent")
                .unwrap_or("unknown client")
                .chars()
                .take(200)
                .collect(),
        }),
    })
}

/// A service error as Key Vault returns it (429s with `Retry-After`: the seconds to the
/// next 10-second window of the vault's limits).
fn error_response(ws: &Workspace, _vault: &str, e: &ServiceError) -> Response {
    let code = match (e.status, e.code.as_str()) {
        (403, c) if c.contains("Forbidden") || c.contains("Permission") => "Forbidden",
        (404, "ResourceNotFound" | "NotFound") => "KeyNotFound",
        (_, c) => c,
    };
    let r = if code == "BadParameter" && e.message.starts_with("Invalid kty value") {
        Response::json(
            e.status,
            &json!({"error": {"code": code, "message": e.message, "innererror": {"code": "KeyTypeNotSupported"}}}),
        )
    } else {
        Response::error(e.status, code, &e.message)
    };
    if e.status == 429 {
        // The same instant and the same rule as the message's "retry after N seconds".
        let wait = crate::service::requests::retry_after_seconds(ws.now());
        return r.with_header("Retry-After", wait.to_string());
    }
    r
}

fn bad(message: impl Into<String>) -> ServiceError {
    ServiceError::bad_request("BadParameter", message)
}

/// What the service offers and this simulation does not: `501` with a code that says so,
/// never a 404 that reads as a missing key.
fn not_simulated(what: &str) -> ServiceError {
    ServiceError::new(
        "NotSupportedBySimulation",
        501,
        format!("{what} is not supported by this simulation (tde-console)."),
    )
}

/// A symmetric (`oct`, `oct-HSM`) key: a vault refuses it as Azure does; a Managed HSM
/// holds them in Azure, not in this simulation.
fn octet_key(ws: &Workspace, vault: &str, kty: &str) -> ServiceError {
    if ws.vault(vault).is_some_and(|v| v.is_managed_hsm()) {
        not_simulated(&format!("A symmetric key ('{kty}') in a Managed HSM"))
    } else {
        // Azure's answer: {"error":{"code":"BadParameter","message":"Invalid kty value:
        // oct","innererror":{"code":"KeyTypeNotSupported"}}}.
        bad(format!("Invalid kty value: {kty}"))
    }
}

fn is_octet(kty: &str) -> bool {
    kty.eq_ignore_ascii_case("oct") || kty.eq_ignore_ascii_case("oct-HSM")
}

fn body(r: &Request) -> Result<Value, ServiceError> {
    if r.body.is_empty() {
        return Ok(json!({}));
    }
    serde_json::from_slice(&r.body)
        .map_err(|e| bad(format!("The request body is not valid JSON: {e}")))
}

/// Base64url, padded or not (the SDKs send it unpadded; some clients pad).
fn unb64(v: &Value, field: &str) -> Result<Vec<u8>, ServiceError> {
    let text = v[field]
        .as_str()
        .ok_or_else(|| bad(format!("'{field}' is required (base64url).")))?;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('=').as_bytes())
        .map_err(|_| bad(format!("'{field}' is not base64url.")))
}

/// The methods a path takes, for a 405.
fn not_allowed(method: &str) -> Result<Outcome, ServiceError> {
    Err(ServiceError::new(
        "MethodNotAllowed",
        405,
        format!("The requested resource does not support http method '{method}'."),
    ))
}

/// One page of a list, as the service pages: `maxresults` items (25 by default) from the
/// `$skiptoken` offset, and a `nextLink` to the rest that the SDKs follow.
fn page(call: &Call, items: Vec<Value>) -> Result<Outcome, ServiceError> {
    let r = call.request;
    let size = r
        .query("maxresults")
        .and_then(|m| m.parse::<usize>().ok())
        .unwrap_or(25);
    let from = match r.query("$skiptoken") {
        None => 0,
        Some(t) => t
            .parse::<usize>()
            .ok()
            .filter(|n| *n <= items.len())
            .ok_or_else(|| bad(format!("Invalid $skiptoken '{t}'.")))?,
    };
    let next = (from + size < items.len()).then(|| {
        format!(
            "{}{}?api-version={}&maxresults={size}&$skiptoken={}",
            call.base.trim_end_matches('/'),
            r.path,
            r.query("api-version").unwrap_or("7.5"),
            from + size
        )
    });
    let value: Vec<Value> = items.into_iter().skip(from).take(size).collect();
    done(200, json!({"value": value, "nextLink": next}))
}

fn done(status: u16, v: Value) -> Result<Outcome, ServiceError> {
    Ok(Outcome::Done(Response::json(status, &v)))
}

fn route(ws: &mut Workspace, call: &Call) -> Result<Outcome, ServiceError> {
    let r = call.request;
    let versions: Vec<&str> = r
        .query
        .iter()
        .filter(|(k, _)| k == "api-version")
        .map(|(_, v)| v.as_str())
        .collect();
    if versions.windows(2).any(|w| w[0] != w[1]) {
        return Err(bad(
            "The 'api-version' query parameter is given more than once.",
        ));
    }
    match r.query("api-version") {
        None => return Err(bad("The 'api-version' query parameter is required.")),
        Some(v) if !api_version_known(v) => {
            return Err(bad(format!(
                "The specified version ({v}) is not recognized. Consider using the latest supported version (7.6)."
            )));
        }
        Some(_) => {}
    }
    if let Some(m) = r.query("maxresults")
        && !m.parse::<u32>().is_ok_and(|n| (1..=25).contains(&n))
    {
        return Err(bad(format!(
            "Invalid maxresults '{m}': it must be an integer from 1 to 25."
        )));
    }
    let vault = call.vault;
    // Split as sent, then decode each segment: `%2F` never splits one, and `//keys` is
    // not `/keys`.
    let decoded = super::http::segments(&r.path).map_err(bad)?;
    let segments: Vec<&str> = decoded.iter().map(String::as_str).collect();
    let method = r.method.as_str();
    match (method, segments.as_slice()) {
        (_, ["secrets" | "deletedsecrets", ..]) => secrets::route(ws, call, method, &segments),
        ("GET", ["keys"] | ["keys", ""]) => {
            let (v, keys) = keyvault::list_keys(ws, vault)?;
            let items: Vec<Value> = keys
                .iter()
                .map(|k| json::key_item(call.base, &v, k))
                .collect();
            page(call, items)
        }
        ("POST", ["keys", "restore"]) => {
            let blob = unb64(&body(r)?, "value")?;
            let k = keyvault::restore_key(ws, vault, &blob)?;
            bundle_of(ws, call, &k.name, None)
        }
        ("POST", ["keys", name, "create"]) => create(ws, call, name),
        ("PUT", ["keys", name]) => import(ws, call, name),
        ("DELETE", ["keys", name]) => {
            let k = keyvault::delete_key(ws, vault, name)?;
            let v = keyvault::vault_state(ws, vault)?;
            done(200, json::deleted_bundle(call.base, &v, &k))
        }
        ("GET", ["keys", name, "versions"]) => {
            let (v, k) = keyvault::list_key_versions(ws, vault, name)?;
            let items: Vec<Value> = k
                .versions
                .iter()
                .map(|kv| json::version_item(call.base, &v, &k, kv))
                .collect();
            page(call, items)
        }
        ("POST", ["keys", name, "rotate"]) => rotate(ws, call, name),
        ("POST", ["keys", name, "backup"]) => {
            let blob = keyvault::backup_key(ws, vault, name)?;
            done(200, json!({"value": b64url(&blob)}))
        }
        ("GET", ["keys", name, "rotationpolicy"]) => {
            let p = rotation::rotation_policy(ws, vault, name)?;
            done(200, json::policy(call.base, name, p.as_ref()))
        }
        ("PUT", ["keys", name, "rotationpolicy"]) => {
            let policy = rotation::parse_policy(&body(r)?).map_err(bad)?;
            let p = rotation::set_rotation_policy(ws, vault, name, policy)?;
            done(200, json::policy(call.base, name, Some(&p)))
        }
        ("GET", ["keys", name] | ["keys", name, ""]) => bundle_of(ws, call, name, None),
        ("GET", ["keys", name, version]) => bundle_of(ws, call, name, Some(version)),
        ("PATCH", ["keys", name] | ["keys", name, ""]) => update(ws, call, name, None),
        ("PATCH", ["keys", name, version]) => update(ws, call, name, Some(version)),
        ("GET", ["keys", name, version, "attestation"]) => {
            keyvault::show_key(ws, vault, name, Some(*version).filter(|v| !v.is_empty()))?;
            Err(not_simulated("Key attestation (getKeyAttestation)"))
        }
        ("POST", ["keys", name, version, "release"]) => {
            keyvault::show_key(ws, vault, name, Some(*version).filter(|v| !v.is_empty()))?;
            Err(not_simulated("Secure key release (release)"))
        }
        ("POST", ["keys", name, "release"]) => {
            keyvault::show_key(ws, vault, name, None)?;
            Err(not_simulated("Secure key release (release)"))
        }
        ("POST", ["keys", name, version, op]) => crypto_op(ws, call, name, version, op),
        ("GET", ["deletedkeys"] | ["deletedkeys", ""]) => {
            let (v, keys) = keyvault::list_deleted_keys(ws, vault)?;
            let items: Vec<Value> = keys
                .iter()
                .map(|k| json::deleted_item(call.base, &v, k))
                .collect();
            page(call, items)
        }
        ("GET", ["deletedkeys", name]) => {
            let (v, k) = keyvault::show_deleted_key(ws, vault, name)?;
            done(200, json::deleted_bundle(call.base, &v, &k))
        }
        ("DELETE", ["deletedkeys", name]) => {
            keyvault::purge_key(ws, vault, name)?;
            Ok(Outcome::Done(Response::empty(204)))
        }
        ("POST", ["deletedkeys", name, "recover"]) => {
            let k = keyvault::recover_key(ws, vault, name)?;
            bundle_of(ws, call, &k.name, None)
        }
        ("POST", ["rng"]) => {
            let count = body(r)?["count"].as_u64().unwrap_or(0);
            if !(1..=128).contains(&count) {
                return Err(bad("'count' must be between 1 and 128."));
            }
            keyvault::authorize_user(ws, vault, KeyPermission::Get).or_else(|e| {
                // Any data-plane access will do for random bytes; a caller with none is refused.
                if e.status == 403 { Err(e) } else { Ok(()) }
            })?;
            let mut bytes = vec![0u8; count as usize];
            rand::fill(&mut bytes[..]);
            done(200, json!({"value": b64url(&bytes)}))
        }
        (
            m,
            ["keys"]
            | ["keys", _]
            | ["keys", _, _]
            | [
                "keys",
                _,
                _,
                "wrapkey" | "unwrapkey" | "encrypt" | "decrypt" | "sign" | "verify" | "release",
            ]
            | ["keys", _, "release"]
            | ["keys", _, _, "attestation"]
            | ["deletedkeys"]
            | ["deletedkeys", _]
            | ["deletedkeys", _, "recover"]
            | ["rng"],
        ) if !segments.contains(&"..") => not_allowed(m),
        _ => Err(ServiceError::not_found(
            "NotFound",
            format!("The path '{}' is not part of Key Vault's keys API.", r.path),
        )),
    }
}

/// The api-versions of the keys API: `7.0`…`7.6` (and previews), `2016-10-01`, and the
/// dated versions the SDKs send now (`2025-07-01`).
fn api_version_known(v: &str) -> bool {
    let (base, preview) = match v.split_once("-preview") {
        Some((b, rest)) => (b, rest.is_empty() || rest.starts_with('.')),
        None => (v, true),
    };
    let numbered = base
        .strip_prefix("7.")
        .is_some_and(|m| !m.is_empty() && m.len() <= 2 && m.bytes().all(|b| b.is_ascii_digit()));
    let dated = base.len() == 10
        && base.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        })
        && base >= "2016-10-01";
    preview && (numbered || dated)
}

/// A key (its latest version, or `version`) as a bundle.
fn bundle_of(
    ws: &Workspace,
    call: &Call,
    name: &str,
    version: Option<&str>,
) -> Result<Outcome, ServiceError> {
    let (v, k, kv) = keyvault::show_key(ws, call.vault, name, version)?;
    done(200, json::bundle(call.base, &v, &k, &kv))
}

/// `attributes.nbf` / `attributes.exp` (unix seconds).
fn time_attr(v: &Value, field: &str) -> Result<Option<Timestamp>, ServiceError> {
    match &v["attributes"][field] {
        Value::Null => Ok(None),
        t => t
            .as_i64()
            .map(|s| Some(Timestamp(s)))
            .ok_or_else(|| bad(format!("attributes.{field} must be a unix time."))),
    }
}

fn key_ops(v: &Value) -> Result<Option<Vec<KeyOperation>>, ServiceError> {
    match &v["key_ops"] {
        Value::Null => Ok(None),
        Value::Array(ops) => ops
            .iter()
            .map(|o| {
                o.as_str()
                    .and_then(KeyOperation::parse)
                    .ok_or_else(|| bad(format!("Invalid key operation {o}.")))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        other => Err(bad(format!(
            "'key_ops' must be a list of operations, not {other}."
        ))),
    }
}

/// `tags`: an object of string values.
fn tags_of(v: &Value) -> Result<Option<Vec<(String, String)>>, ServiceError> {
    match &v["tags"] {
        Value::Null => Ok(None),
        Value::Object(m) => m
            .iter()
            .map(|(k, x)| {
                x.as_str()
                    .map(|x| (k.clone(), x.to_string()))
                    .ok_or_else(|| bad(format!("The tag '{k}' must have a string value.")))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        other => Err(bad(format!("'tags' must be an object, not {other}."))),
    }
}

fn create(ws: &mut Workspace, call: &Call, name: &str) -> Result<Outcome, ServiceError> {
    let b = body(call.request)?;
    let kty_text = b["kty"].as_str().ok_or_else(|| bad("'kty' is required."))?;
    if is_octet(kty_text) {
        return Err(octet_key(ws, call.vault, kty_text));
    }
    let kty = KeyType::parse(kty_text).ok_or_else(|| {
        bad(format!(
            "The key type '{kty_text}' is not supported here (RSA, RSA-HSM, EC, EC-HSM)."
        ))
    })?;
    let (size, spec) = if kty.is_rsa() {
        let bits = match &b["key_size"] {
            Value::Null => 2048,
            v => match v.as_u64() {
                Some(n @ (2048 | 3072 | 4096)) => n as usize,
                _ => {
                    return Err(bad(format!(
                        "Invalid key_size {v}: RSA keys are 2048, 3072 or 4096 bits."
                    )));
                }
            },
        };
        if !b["public_exponent"].is_null() && b["public_exponent"].as_u64() != Some(65537) {
            return Err(bad("Only the public exponent 65537 is supported."));
        }
        (bits, MaterialSpec::Rsa(bits))
    } else {
        if !matches!(&b["crv"], Value::Null | Value::String(_)) {
            return Err(bad("'crv' must be a string (P-256, P-384 or P-521)."));
        }
        let crv = b["crv"].as_str().unwrap_or("P-256");
        let curve = EcCurve::parse(crv).ok_or_else(|| {
            bad("The curve is not supported. Supported curves are P-256, P-384 and P-521.")
        })?;
        (curve.bits(), MaterialSpec::Ec(curve))
    };
    let attrs = attributes_of(&b)?;
    let req = CreateKey {
        enabled: attrs.enabled.unwrap_or(true),
        not_before: attrs.not_before.flatten(),
        expires: attrs.expires.flatten(),
        ops: attrs.ops,
        tags: attrs.tags,
        ..CreateKey::new(call.vault, name, kty, size)
    };
    keyvault::validate_create_key(ws, &req)?;
    let Some(material) = call.material.clone() else {
        return Ok(Outcome::NeedsMaterial(spec));
    };
    keyvault::create_key(ws, &req, material)?;
    bundle_of(ws, call, name, None)
}

fn import(ws: &mut Workspace, call: &Call, name: &str) -> Result<Outcome, ServiceError> {
    let b = body(call.request)?;
    let jwk = &b["key"];
    let kty_text = jwk["kty"].as_str().unwrap_or("RSA");
    if is_octet(kty_text) {
        return Err(octet_key(ws, call.vault, kty_text));
    }
    let part = |f: &str| unb64(jwk, f);
    let hsm = b["Hsm"].as_bool().unwrap_or(false) || kty_text.ends_with("-HSM");
    match KeyType::parse(kty_text) {
        Some(KeyType::Rsa | KeyType::RsaHsm) => {
            let material = RsaKeyMaterial::from_jwk(
                &part("n")?,
                &part("e")?,
                &part("d")?,
                &part("p")?,
                &part("q")?,
                &part("dp")?,
                &part("dq")?,
                &part("qi")?,
            )
            .map_err(|e| bad(format!("The key is not valid: {e}")))?;
            let kty = if hsm { KeyType::RsaHsm } else { KeyType::Rsa };
            keyvault::import_material(ws, call.vault, name, kty, material)?;
        }
        Some(KeyType::Ec | KeyType::EcHsm) => {
            let crv = jwk["crv"]
                .as_str()
                .ok_or_else(|| bad("'crv' is required for an EC key (P-256, P-384 or P-521)."))?;
            let material =
                crate::crypto::EcKeyMaterial::from_jwk(crv, &part("x")?, &part("y")?, &part("d")?)
                    .map_err(|e| bad(format!("The key is not valid: {e}")))?;
            let kty = if hsm { KeyType::EcHsm } else { KeyType::Ec };
            keyvault::import_ec_key(ws, call.vault, name, kty, material)?;
        }
        None => return Err(bad(format!("Invalid kty value: {kty_text}"))),
    }
    if b.get("attributes").is_some()
        || b.get("key_ops").is_some()
        || b.get("tags").is_some()
        || jwk.get("key_ops").is_some()
    {
        let mut ops_source = b.clone();
        if ops_source.get("key_ops").is_none() {
            ops_source["key_ops"] = jwk["key_ops"].clone();
        }
        keyvault::set_key_attributes(ws, call.vault, name, None, &attributes_of(&ops_source)?)?;
    }
    bundle_of(ws, call, name, None)
}

/// A body's `attributes` (`enabled`, `nbf`, `exp`), `key_ops` and `tags`, each checked for
/// its type: a wrong one is a 400, never silently ignored.
fn attributes_of(b: &Value) -> Result<KeyAttributes, ServiceError> {
    if !b.is_object() {
        return Err(bad("The request body must be a JSON object."));
    }
    let a = &b["attributes"];
    if !matches!(a, Value::Null | Value::Object(_)) {
        return Err(bad("'attributes' must be an object."));
    }
    let enabled = match &a["enabled"] {
        Value::Null => None,
        Value::Bool(e) => Some(*e),
        other => {
            return Err(bad(format!(
                "attributes.enabled must be true or false, not {other}."
            )));
        }
    };
    Ok(KeyAttributes {
        tags: tags_of(b)?,
        enabled,
        not_before: if a.get("nbf").is_some() {
            Some(time_attr(b, "nbf")?)
        } else {
            None
        },
        expires: if a.get("exp").is_some() {
            Some(time_attr(b, "exp")?)
        } else {
            None
        },
        ops: key_ops(b)?,
    })
}

fn update(
    ws: &mut Workspace,
    call: &Call,
    name: &str,
    version: Option<&str>,
) -> Result<Outcome, ServiceError> {
    let b = body(call.request)?;
    keyvault::set_key_attributes(ws, call.vault, name, version, &attributes_of(&b)?)?;
    bundle_of(ws, call, name, version)
}

fn rotate(ws: &mut Workspace, call: &Call, name: &str) -> Result<Outcome, ServiceError> {
    keyvault::authorize_user(ws, call.vault, KeyPermission::Rotate)?;
    let Some(material) = call.material.clone() else {
        let (_, k, kv) = keyvault::key_state(ws, call.vault, name, None)?;
        return Ok(Outcome::NeedsMaterial(match &kv.material {
            KeyMaterial::Ec(ec) => MaterialSpec::Ec(ec.curve()),
            KeyMaterial::Rsa(_) if k.kty.is_rsa() => MaterialSpec::Rsa(kv.material.bits()),
            KeyMaterial::Rsa(_) => MaterialSpec::Rsa(2048),
        }));
    };
    rotation::rotate_key(ws, call.vault, name, material)?;
    bundle_of(ws, call, name, None)
}

/// `wrapkey`, `unwrapkey`, `encrypt`, `decrypt`, `sign`, `verify` on a key version (an
/// empty version is the latest).
fn crypto_op(
    ws: &mut Workspace,
    call: &Call,
    name: &str,
    version: &str,
    op: &str,
) -> Result<Outcome, ServiceError> {
    let b = body(call.request)?;
    let uri = KeyUri {
        vault: call.vault.to_string(),
        key: name.to_string(),
        version: (!version.is_empty()).then(|| version.to_string()),
        managed_hsm: ws.vault(call.vault).is_some_and(|v| v.is_managed_hsm()),
    };
    let alg_text = b["alg"].as_str().unwrap_or_default().to_string();
    let wrap_alg = || match WrapAlgorithm::parse(&alg_text) {
        Some(a) => Ok(a),
        None if alg_text.is_empty() => Err(bad("'alg' is required.")),
        None => Err(bad(format!(
            "The algorithm '{alg_text}' is not supported by the simulator (RSA-OAEP, RSA-OAEP-256, RSA1_5)."
        ))),
    };
    let sign_alg = || match SignatureAlgorithm::parse(&alg_text) {
        Some(a) => Ok(a),
        None if alg_text.is_empty() => Err(bad("'alg' is required.")),
        None => Err(bad(format!(
            "The algorithm '{alg_text}' is not supported by the simulator (RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512)."
        ))),
    };
    let rsa = |m: &KeyMaterial| {
        m.rsa()
            .cloned()
            .ok_or_else(|| bad(format!("The operation '{op}' needs an RSA key.")))
    };
    let value = || {
        let v = unb64(&b, "value")?;
        if v.is_empty() {
            return Err(bad("'value' is empty."));
        }
        Ok(v)
    };
    let (permission, operation, audit) = match op {
        "wrapkey" => (KeyPermission::WrapKey, KeyOperation::WrapKey, "KeyWrap"),
        "unwrapkey" => (
            KeyPermission::UnwrapKey,
            KeyOperation::UnwrapKey,
            "KeyUnwrap",
        ),
        "encrypt" => (KeyPermission::Encrypt, KeyOperation::Encrypt, "KeyEncrypt"),
        "decrypt" => (KeyPermission::Decrypt, KeyOperation::Decrypt, "KeyDecrypt"),
        "sign" => (KeyPermission::Sign, KeyOperation::Sign, "KeySign"),
        "verify" => (KeyPermission::Verify, KeyOperation::Verify, "KeyVerify"),
        _ => {
            return Err(ServiceError::not_found(
                "NotFound",
                format!("'{op}' is not a key operation."),
            ));
        }
    };
    let (kid, result) = match op {
        "wrapkey" | "encrypt" => {
            let (alg, data) = (wrap_alg()?, value()?);
            keyvault::user_key_operation(ws, &uri, permission, operation, audit, |m| {
                rsa(m)?
                    .wrap(alg, &data)
                    .map(|c| json!(b64url(&c)))
                    .map_err(|e| bad(e.to_string()))
            })?
        }
        "unwrapkey" | "decrypt" => {
            let (alg, data) = (wrap_alg()?, value()?);
            keyvault::user_key_operation(ws, &uri, permission, operation, audit, |m| {
                rsa(m)?
                    .unwrap_key(alg, &data)
                    .map(|p| json!(b64url(&p)))
                    .map_err(|_| bad("The ciphertext could not be decrypted with this key."))
            })?
        }
        "sign" => {
            let (alg, digest) = (sign_alg()?, value()?);
            keyvault::user_key_operation(ws, &uri, permission, operation, audit, |m| {
                let signed = match m {
                    KeyMaterial::Rsa(k) => k.sign_digest(alg, &digest),
                    KeyMaterial::Ec(k) => k.sign_digest(alg, &digest),
                };
                signed
                    .map(|s| json!(b64url(&s)))
                    .map_err(|e| bad(format!("The key cannot sign with {alg_text}: {e}.")))
            })?
        }
        _ => {
            let alg = sign_alg()?;
            let (digest, signature) = (unb64(&b, "digest")?, value()?);
            keyvault::user_key_operation(ws, &uri, permission, operation, audit, |m| {
                let fits = match m {
                    KeyMaterial::Rsa(_) => alg.curve().is_none(),
                    KeyMaterial::Ec(k) => alg.curve() == Some(k.curve()),
                };
                if !fits {
                    return Err(bad(format!(
                        "The algorithm '{alg_text}' does not go with this key."
                    )));
                }
                Ok(json!(match m {
                    KeyMaterial::Rsa(k) => k.verify_digest(alg, &digest, &signature),
                    KeyMaterial::Ec(k) => k.verify_digest(alg, &digest, &signature),
                }))
            })?
        }
    };
    let kid = json::local_id(call.base, &kid);
    if op == "verify" {
        return done(200, json!({"value": result}));
    }
    done(200, json!({"kid": kid, "value": result}))
}
