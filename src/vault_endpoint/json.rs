//! Key Vault's REST shapes for keys: bundles with their JWK, list items, deleted keys and
//! rotation policies, with unix times, as the service returns them. Ids are built on the
//! base URL the client used (`https://127.0.0.1:PORT/`).

use crate::crypto::KeyMaterial;
use crate::model::*;
use crate::service::rotation;
use base64::Engine;
use serde_json::{Value, json};

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A vault's key id (`https://NAME.vault.azure.net/keys/...`) on the local base.
pub fn local_id(base: &str, id: &str) -> String {
    match id.find("/keys/").or_else(|| id.find("/deletedkeys/")) {
        Some(i) => format!("{}{}", base.trim_end_matches('/'), &id[i..]),
        None => id.to_string(),
    }
}

fn attributes(v: &KeyVault, kv: &KeyVersion) -> Value {
    let mut a = json!({
        "enabled": kv.enabled,
        "created": kv.created.0,
        "updated": kv.updated.0,
        "recoveryLevel": v.recovery_level(),
        "exportable": false,
    });
    if v.soft_delete {
        a["recoverableDays"] = json!(v.retention_days);
    }
    if let Some(t) = kv.not_before {
        a["nbf"] = json!(t.0);
    }
    if let Some(t) = kv.expires {
        a["exp"] = json!(t.0);
    }
    a
}

fn tags(k: &Key) -> Value {
    Value::Object(k.tags.iter().map(|(n, v)| (n.clone(), json!(v))).collect())
}

/// The public JWK of a key version (never its private parts).
pub fn jwk(base: &str, v: &KeyVault, k: &Key, kv: &KeyVersion) -> Value {
    let mut j = json!({
        "kid": local_id(base, &v.key_uri(&k.name, &kv.version)),
        "kty": k.kty.as_str(),
        "key_ops": kv.key_ops.iter().map(|o| o.as_str()).collect::<Vec<_>>(),
    });
    match &kv.material {
        KeyMaterial::Rsa(r) => {
            j["n"] = json!(b64url(&r.modulus()));
            j["e"] = json!(b64url(&r.exponent()));
        }
        KeyMaterial::Ec(ec) => {
            let (x, y) = ec.coordinates();
            j["crv"] = json!(ec.curve().as_str());
            j["x"] = json!(b64url(&x));
            j["y"] = json!(b64url(&y));
        }
    }
    j
}

/// A key bundle: the JWK, attributes and tags of one version.
pub fn bundle(base: &str, v: &KeyVault, k: &Key, kv: &KeyVersion) -> Value {
    json!({
        "key": jwk(base, v, k, kv),
        "attributes": attributes(v, kv),
        "tags": tags(k),
    })
}

/// An item of `GET /keys` (the key id without a version).
pub fn key_item(base: &str, v: &KeyVault, k: &Key) -> Value {
    let mut item = json!({
        "kid": format!("{}/keys/{}", base.trim_end_matches('/'), k.name),
        "tags": tags(k),
    });
    if let Some(kv) = k.current() {
        item["attributes"] = attributes(v, kv);
    }
    item
}

/// An item of `GET /keys/NAME/versions`.
pub fn version_item(base: &str, v: &KeyVault, k: &Key, kv: &KeyVersion) -> Value {
    json!({
        "kid": local_id(base, &v.key_uri(&k.name, &kv.version)),
        "attributes": attributes(v, kv),
        "tags": tags(k),
    })
}

fn deleted_fields(base: &str, k: &Key, out: &mut Value) {
    if let Some(d) = &k.deleted {
        out["recoveryId"] = json!(format!(
            "{}/deletedkeys/{}",
            base.trim_end_matches('/'),
            k.name
        ));
        out["deletedDate"] = json!(d.deleted_on.0);
        out["scheduledPurgeDate"] = json!(d.scheduled_purge.0);
    }
}

/// A deleted key's bundle (`DELETE /keys/NAME`, `GET /deletedkeys/NAME`). A vault without
/// soft delete removes the key outright: no recovery id, so the SDK's poller does not wait.
pub fn deleted_bundle(base: &str, v: &KeyVault, k: &Key) -> Value {
    let mut out = match k.current() {
        Some(kv) => bundle(base, v, k, kv),
        None => json!({}),
    };
    deleted_fields(base, k, &mut out);
    out
}

/// An item of `GET /deletedkeys`.
pub fn deleted_item(base: &str, v: &KeyVault, k: &Key) -> Value {
    let mut out = key_item(base, v, k);
    deleted_fields(base, k, &mut out);
    out
}

/// A key's rotation policy. A key without one has the service's default: notify 30 days
/// before expiry.
pub fn policy(base: &str, key: &str, p: Option<&RotationPolicy>) -> Value {
    let id = format!("{}/keys/{key}/rotationpolicy", base.trim_end_matches('/'));
    let notify = |d| json!({"trigger": {"timeBeforeExpiry": rotation::iso_days(d)}, "action": {"type": "Notify"}});
    let Some(p) = p else {
        return json!({
            "id": id,
            "lifetimeActions": [notify(RotationPolicy::DEFAULT_NOTIFY)],
            "attributes": {},
        });
    };
    let mut actions = Vec::new();
    if let Some(a) = p.rotate_after_create {
        actions.push(json!({"trigger": {"timeAfterCreate": rotation::iso_days(a)}, "action": {"type": "Rotate"}}));
    }
    if let Some(b) = p.rotate_before_expiry {
        actions.push(json!({"trigger": {"timeBeforeExpiry": rotation::iso_days(b)}, "action": {"type": "Rotate"}}));
    }
    actions.push(notify(p.notify_before_expiry));
    let mut attributes = json!({"updated": p.updated.0});
    if let Some(e) = p.expiry_time {
        attributes["expiryTime"] = json!(rotation::iso_days(e));
    }
    json!({"id": id, "lifetimeActions": actions, "attributes": attributes})
}

pub use crate::service::rotation::parse_policy;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_move_to_the_local_base() {
        assert_eq!(
            local_id(
                "https://127.0.0.1:8443/",
                "https://kv-a.vault.azure.net/keys/k/v1"
            ),
            "https://127.0.0.1:8443/keys/k/v1"
        );
    }

    #[test]
    fn a_policy_reads_back_as_written() {
        let text = json!({"lifetimeActions": [
            {"trigger": {"timeAfterCreate": "P90D"}, "action": {"type": "Rotate"}},
            {"trigger": {"timeBeforeExpiry": "P30D"}, "action": {"type": "Notify"}}],
            "attributes": {"expiryTime": "P2Y"}});
        let p = parse_policy(&text).expect("parses");
        let again = parse_policy(&policy("https://127.0.0.1:1/", "k", Some(&p))).expect("again");
        assert_eq!(p, again);
        assert!(
            parse_policy(&json!({"lifetimeActions": [{"action": {"type": "Explode"}}]})).is_err()
        );
    }
}
