//! Key Vault's secrets REST API over [`crate::service::secrets`]: the routes the SDKs'
//! `SecretClient` calls (api-version 7.x and the dated versions), with the service's JSON
//! (secret bundles with unix times, `{"value": [...], "nextLink": ...}` pages, deleted
//! secrets with `recoveryId`, `deletedDate` and `scheduledPurgeDate`).
//!
//! A value leaves the vault only in the answer to `PUT` (set) and `GET` of a secret.

use super::{Call, Outcome, bad, body, done, not_allowed, page, tags_of, unb64};
use crate::model::*;
use crate::service::ServiceError;
use crate::service::secrets::{self, SecretAttributes, SetSecret};
use serde_json::{Value, json};

fn root(base: &str) -> &str {
    base.trim_end_matches('/')
}

fn attributes(v: &KeyVault, sv: &SecretVersion) -> Value {
    let mut a = json!({
        "enabled": sv.enabled,
        "created": sv.created.0,
        "updated": sv.updated.0,
        "recoveryLevel": v.recovery_level(),
        "recoverableDays": if v.soft_delete { v.retention_days } else { 0 },
    });
    if let Some(n) = sv.not_before {
        a["nbf"] = json!(n.0);
    }
    if let Some(x) = sv.expires {
        a["exp"] = json!(x.0);
    }
    a
}

fn tags(sv: &SecretVersion) -> Value {
    Value::Object(
        sv.tags
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect::<serde_json::Map<_, _>>(),
    )
}

/// A version's properties (an item of `GET /secrets/NAME/versions`, and the body of every
/// bundle); `id` names the version or, for list items, the secret.
fn properties(id: String, v: &KeyVault, s: &Secret, sv: &SecretVersion) -> Value {
    let mut out = json!({
        "id": id,
        "attributes": attributes(v, sv),
        "tags": tags(sv),
    });
    if let Some(ct) = &sv.content_type {
        out["contentType"] = json!(ct);
    }
    if s.managed {
        out["managed"] = json!(true);
    }
    out
}

fn version_id(base: &str, s: &Secret, sv: &SecretVersion) -> String {
    format!("{}/secrets/{}/{}", root(base), s.name, sv.version)
}

/// A secret bundle; `with_value` for `set` and `get` only.
fn bundle(base: &str, v: &KeyVault, s: &Secret, sv: &SecretVersion, with_value: bool) -> Value {
    let mut out = properties(version_id(base, s, sv), v, s, sv);
    if with_value {
        out["value"] = json!(sv.value.reveal());
    }
    out
}

fn deleted_fields(base: &str, s: &Secret, out: &mut Value) {
    if let Some(d) = &s.deleted {
        out["recoveryId"] = json!(format!("{}/deletedsecrets/{}", root(base), s.name));
        out["deletedDate"] = json!(d.deleted_on.0);
        out["scheduledPurgeDate"] = json!(d.scheduled_purge.0);
    }
}

/// A deleted secret's bundle (its current version's properties, no value).
fn deleted_bundle(base: &str, v: &KeyVault, s: &Secret) -> Value {
    let mut out = match s.current() {
        Some(sv) => bundle(base, v, s, sv, false),
        None => json!({"id": format!("{}/secrets/{}", root(base), s.name)}),
    };
    deleted_fields(base, s, &mut out);
    out
}

/// An item of `GET /secrets` or `GET /deletedsecrets`: the secret's id without a version.
fn item(base: &str, v: &KeyVault, s: &Secret) -> Value {
    let id = format!("{}/secrets/{}", root(base), s.name);
    let mut out = match s.current() {
        Some(sv) => properties(id, v, s, sv),
        None => json!({"id": id}),
    };
    deleted_fields(base, s, &mut out);
    out
}

/// `attributes.nbf` / `attributes.exp`: `None` when absent, `Some(None)` for null.
fn time_field(a: &Value, field: &str) -> Result<Option<Option<Timestamp>>, ServiceError> {
    match a.get(field) {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(t) => t
            .as_i64()
            .map(|s| Some(Some(Timestamp(s))))
            .ok_or_else(|| bad(format!("attributes.{field} must be a unix time."))),
    }
}

/// A body's `attributes`, `contentType` and `tags`, each checked for its type.
fn attributes_of(b: &Value) -> Result<SecretAttributes, ServiceError> {
    if !b.is_object() {
        return Err(bad("The request body must be a JSON object."));
    }
    let a = match b.get("attributes") {
        None | Some(Value::Null) => json!({}),
        Some(a @ Value::Object(_)) => a.clone(),
        Some(_) => return Err(bad("'attributes' must be an object.")),
    };
    let enabled = match a.get("enabled") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(e)) => Some(*e),
        Some(other) => {
            return Err(bad(format!(
                "attributes.enabled must be true or false, not {other}."
            )));
        }
    };
    let content_type = match b.get("contentType") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(Value::String(c)) => Some(Some(c.clone())),
        Some(other) => return Err(bad(format!("'contentType' must be a string, not {other}."))),
    };
    Ok(SecretAttributes {
        enabled,
        not_before: time_field(&a, "nbf")?,
        expires: time_field(&a, "exp")?,
        content_type,
        tags: tags_of(b)?,
    })
}

fn set(ws: &mut Workspace, call: &Call, name: &str) -> Result<Outcome, ServiceError> {
    let b = body(call.request)?;
    let value = match b.get("value") {
        Some(Value::String(v)) => v.clone(),
        Some(other) => return Err(bad(format!("'value' must be a string, not {other}."))),
        None => return Err(bad("'value' is required.")),
    };
    let attrs = attributes_of(&b)?;
    let req = SetSecret {
        content_type: attrs.content_type.flatten(),
        enabled: attrs.enabled.unwrap_or(true),
        not_before: attrs.not_before.flatten(),
        expires: attrs.expires.flatten(),
        tags: attrs.tags.unwrap_or_default(),
        ..SetSecret::new(call.vault, name, value)
    };
    let (v, s, sv) = secrets::set_secret(ws, &req)?;
    done(200, bundle(call.base, &v, &s, &sv, true))
}

fn get(
    ws: &Workspace,
    call: &Call,
    name: &str,
    version: Option<&str>,
) -> Result<Outcome, ServiceError> {
    let (v, s, sv) = secrets::get_secret(ws, call.vault, name, version)?;
    done(200, bundle(call.base, &v, &s, &sv, true))
}

fn update(
    ws: &mut Workspace,
    call: &Call,
    name: &str,
    version: Option<&str>,
) -> Result<Outcome, ServiceError> {
    let attrs = attributes_of(&body(call.request)?)?;
    let (v, s, sv) = secrets::update_secret(ws, call.vault, name, version, &attrs)?;
    done(200, bundle(call.base, &v, &s, &sv, false))
}

/// Routes `/secrets…` and `/deletedsecrets…` (`segments` already decoded).
pub(super) fn route(
    ws: &mut Workspace,
    call: &Call,
    method: &str,
    segments: &[&str],
) -> Result<Outcome, ServiceError> {
    let vault = call.vault;
    let base = call.base;
    match (method, segments) {
        ("GET", ["secrets"] | ["secrets", ""]) => {
            let (v, list) = secrets::list_secrets(ws, vault)?;
            page(call, list.iter().map(|s| item(base, &v, s)).collect())
        }
        ("POST", ["secrets", "restore"]) => {
            let blob = unb64(&body(call.request)?, "value")?;
            let (v, s) = secrets::restore_secret(ws, vault, &blob)?;
            match s.current() {
                Some(sv) => done(200, bundle(base, &v, &s, sv, false)),
                None => Err(secrets::secret_not_found(&s.name)),
            }
        }
        ("PUT", ["secrets", name]) => set(ws, call, name),
        ("DELETE", ["secrets", name]) => {
            let (v, s) = secrets::delete_secret(ws, vault, name)?;
            done(200, deleted_bundle(base, &v, &s))
        }
        ("GET", ["secrets", name, "versions"]) => {
            let (v, s) = secrets::list_secret_versions(ws, vault, name)?;
            page(
                call,
                s.versions
                    .iter()
                    .map(|sv| properties(version_id(base, &s, sv), &v, &s, sv))
                    .collect(),
            )
        }
        ("POST", ["secrets", name, "backup"]) => {
            let blob = secrets::backup_secret(ws, vault, name)?;
            done(200, json!({"value": crate::crypto::b64url(&blob)}))
        }
        ("GET", ["secrets", name] | ["secrets", name, ""]) => get(ws, call, name, None),
        ("GET", ["secrets", name, version]) => get(ws, call, name, Some(version)),
        ("PATCH", ["secrets", name] | ["secrets", name, ""]) => update(ws, call, name, None),
        ("PATCH", ["secrets", name, version]) => update(ws, call, name, Some(version)),
        ("GET", ["deletedsecrets"] | ["deletedsecrets", ""]) => {
            let (v, list) = secrets::list_deleted_secrets(ws, vault)?;
            page(call, list.iter().map(|s| item(base, &v, s)).collect())
        }
        ("GET", ["deletedsecrets", name]) => {
            let (v, s) = secrets::show_deleted_secret(ws, vault, name)?;
            done(200, deleted_bundle(base, &v, &s))
        }
        ("DELETE", ["deletedsecrets", name]) => {
            secrets::purge_secret(ws, vault, name)?;
            Ok(Outcome::Done(super::Response::empty(204)))
        }
        ("POST", ["deletedsecrets", name, "recover"]) => {
            let (v, s) = secrets::recover_secret(ws, vault, name)?;
            match s.current() {
                Some(sv) => done(200, bundle(base, &v, &s, sv, false)),
                None => Err(secrets::secret_not_found(name)),
            }
        }
        (
            m,
            ["secrets"]
            | ["secrets", _]
            | ["secrets", _, _]
            | ["deletedsecrets"]
            | ["deletedsecrets", _]
            | ["deletedsecrets", _, "recover"],
        ) if !segments.contains(&"..") => not_allowed(m),
        _ => Err(ServiceError::not_found(
            "UnsupportedPath",
            format!(
                "The path '{}' is not part of Key Vault's secrets API.",
                call.request.path
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_checked_for_their_types() {
        assert!(attributes_of(&json!({"attributes": {"enabled": "yes"}})).is_err());
        assert!(attributes_of(&json!({"attributes": {"exp": "tomorrow"}})).is_err());
        assert!(attributes_of(&json!({"contentType": 5})).is_err());
        assert!(attributes_of(&json!([1])).is_err());
        let a = attributes_of(
            &json!({"attributes": {"exp": null, "nbf": 5}, "contentType": "text/plain"}),
        )
        .unwrap();
        assert_eq!(a.expires, Some(None));
        assert_eq!(a.not_before, Some(Some(Timestamp(5))));
        assert_eq!(a.content_type, Some(Some("text/plain".into())));
        assert_eq!(attributes_of(&json!({})).unwrap().enabled, None);
    }
}
