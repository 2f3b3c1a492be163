//! The shell's az views in Resource Manager's shape. az prints a resource with its
//! `properties` lifted to the top (the SDK's models flatten them) and adds `resourceGroup`;
//! ARM sends the envelope (`id`, `name`, `type`, `location`, `tags`, `identity`, `sku`,
//! `kind`) with everything else under `properties`. One view, two shapes: the values come
//! from the same place as the shell's output.

use serde_json::{Map, Value};

/// The envelope's fields; every other field of a view belongs under `properties`.
const ENVELOPE: &[&str] = &[
    "id",
    "name",
    "type",
    "location",
    "tags",
    "identity",
    "sku",
    "kind",
    "etag",
    "managedBy",
    "systemData",
    "zones",
];

/// `view` (an az-shaped resource) as ARM sends it.
pub fn arm(view: Value) -> Value {
    let Value::Object(fields) = view else {
        return view;
    };
    let mut out = Map::new();
    let mut properties = Map::new();
    for (k, v) in fields {
        if k == "resourceGroup" {
            continue;
        }
        if k == "properties" {
            if let Value::Object(p) = v {
                properties.extend(p);
            }
        } else if ENVELOPE.contains(&k.as_str()) {
            out.insert(k, v);
        } else {
            properties.insert(k, v);
        }
    }
    out.insert("properties".into(), Value::Object(properties));
    Value::Object(out)
}

/// A list as ARM pages it (one page).
pub fn list(items: impl IntoIterator<Item = Value>) -> Value {
    serde_json::json!({"value": items.into_iter().map(arm).collect::<Vec<_>>()})
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn the_envelope_stays_and_the_rest_goes_under_properties() {
        let v = super::arm(json!({
            "id": "/x", "name": "n", "type": "T", "location": "westus", "resourceGroup": "rg",
            "state": "Ready", "identity": {"type": "SystemAssigned"},
            "properties": {"already": 1}
        }));
        assert_eq!(
            v,
            json!({"id": "/x", "name": "n", "type": "T", "location": "westus",
                   "identity": {"type": "SystemAssigned"},
                   "properties": {"state": "Ready", "already": 1}})
        );
    }
}
