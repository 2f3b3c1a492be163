//! JSON shaped and named like the Azure CLI's output for each resource.

use crate::model::*;
use crate::service::ids;
use serde_json::{Value, json};

fn opt_time(t: Option<Timestamp>) -> Value {
    t.map(|t| Value::String(t.to_iso())).unwrap_or(Value::Null)
}

pub fn group(sub: &str, g: &ResourceGroup) -> Value {
    json!({
        "id": ids::resource_group(sub, &g.name),
        "location": g.location,
        "managedBy": null,
        "name": g.name,
        "properties": {"provisioningState": "Succeeded"},
        "tags": if g.tags.is_empty() {
            Value::Null
        } else {
            Value::Object(g.tags.iter().map(|(k, v)| (k.clone(), json!(v))).collect())
        },
        "type": "Microsoft.Resources/resourceGroups"
    })
}

pub fn vault(v: &KeyVault) -> Value {
    let policies: Vec<Value> = v
        .access_policies
        .iter()
        .map(|p| {
            json!({
                "applicationId": null,
                "objectId": p.object_id.0,
                "permissions": {
                    "certificates": null,
                    "keys": p.key_permissions.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
                    "secrets": if p.secret_permissions.is_empty() {
                        Value::Null
                    } else {
                        json!(p.secret_permissions.iter().map(|k| k.as_str()).collect::<Vec<_>>())
                    },
                    "storage": null
                },
                "tenantId": p.tenant_id.0
            })
        })
        .collect();
    let acls = if v.network.restricted || !v.network.ip_rules.is_empty() {
        json!({
            "bypass": if v.network.bypass_trusted_services { "AzureServices" } else { "None" },
            "defaultAction": if v.network.restricted { "Deny" } else { "Allow" },
            "ipRules": v.network.ip_rules.iter().map(|r| json!({"value": r})).collect::<Vec<_>>(),
            "virtualNetworkRules": []
        })
    } else {
        Value::Null
    };
    json!({
        "id": ids::vault(v),
        "location": v.location,
        "name": v.name,
        "properties": {
            "accessPolicies": policies,
            "enablePurgeProtection": if v.purge_protection { json!(true) } else { Value::Null },
            "enableRbacAuthorization": v.rbac_authorization,
            "enableSoftDelete": v.soft_delete,
            "networkAcls": acls,
            "provisioningState": "Succeeded",
            "publicNetworkAccess": if v.network.public_access_disabled { "Disabled" } else { "Enabled" },
            "sku": {"family": "A", "name": "standard"},
            "softDeleteRetentionInDays": v.retention_days,
            "tenantId": v.tenant.0,
            "vaultUri": v.uri()
        },
        "resourceGroup": v.resource_group,
        "tags": {},
        "type": "Microsoft.KeyVault/vaults"
    })
}

/// `az keyvault key show|create`: the JWK (public parts only) and attributes.
pub fn key(v: &KeyVault, k: &Key, kv: &KeyVersion) -> Value {
    // Every JWK member az prints, the private ones null; then the public part of this key.
    let mut jwk = json!({
        "crv": null, "d": null, "dp": null, "dq": null, "e": null, "k": null,
        "keyOps": kv.key_ops.iter().map(|o| o.as_str()).collect::<Vec<_>>(),
        "kid": v.key_uri(&k.name, &kv.version),
        "kty": k.kty.as_str(),
        "n": null, "p": null, "q": null, "qi": null, "t": null, "x": null, "y": null
    });
    for (name, value) in kv.material.public_jwk() {
        jwk[name] = json!(value);
    }
    json!({
        "attributes": {
            "created": kv.created.to_iso(),
            "enabled": kv.enabled,
            "expires": opt_time(kv.expires),
            "exportable": false,
            "hsmPlatform": null,
            "notBefore": opt_time(kv.not_before),
            "recoverableDays": if v.soft_delete { json!(v.retention_days) } else { json!(0) },
            "recoveryLevel": v.recovery_level(),
            "updated": kv.updated.to_iso()
        },
        "key": jwk,
        "managed": null,
        "releasePolicy": null,
        "tags": if k.tags.is_empty() { Value::Null } else { json!(k.tags.iter().cloned().collect::<std::collections::BTreeMap<_, _>>()) }
    })
}

/// `az keyvault key list`: one item a key (its current version).
pub fn key_list_item(v: &KeyVault, k: &Key) -> Value {
    let Some(kv) = k.current() else {
        return Value::Null;
    };
    json!({
        "attributes": {
            "created": kv.created.to_iso(),
            "enabled": kv.enabled,
            "expires": opt_time(kv.expires),
            "notBefore": opt_time(kv.not_before),
            "recoveryLevel": v.recovery_level(),
            "updated": kv.updated.to_iso()
        },
        "kid": format!("{}keys/{}", v.uri(), k.name),
        "managed": null,
        "name": k.name,
        "tags": null
    })
}

/// `az keyvault key list-versions`.
pub fn key_version_item(v: &KeyVault, k: &Key, kv: &KeyVersion) -> Value {
    json!({
        "attributes": {
            "created": kv.created.to_iso(),
            "enabled": kv.enabled,
            "expires": opt_time(kv.expires),
            "notBefore": opt_time(kv.not_before),
            "recoveryLevel": v.recovery_level(),
            "updated": kv.updated.to_iso()
        },
        "kid": v.key_uri(&k.name, &kv.version),
        "managed": null,
        "name": k.name,
        "tags": null
    })
}

/// `az keyvault key delete`: the deleted-key bundle.
pub fn deleted_key(v: &KeyVault, k: &Key) -> Value {
    let mut out = match k.current() {
        Some(kv) => key(v, k, kv),
        None => json!({}),
    };
    if let (Some(obj), Some(d)) = (out.as_object_mut(), &k.deleted) {
        obj.insert("deletedDate".into(), json!(d.deleted_on.to_iso()));
        obj.insert(
            "recoveryId".into(),
            json!(format!("{}deletedkeys/{}", v.uri(), k.name)),
        );
        obj.insert(
            "scheduledPurgeDate".into(),
            json!(d.scheduled_purge.to_iso()),
        );
    }
    out
}

/// A server's `identity` as ARM shows it: type, the system-assigned principal, and each
/// user-assigned identity with its principal and client ids.
fn server_identity(ws: &Workspace, s: &SqlServer) -> Value {
    let user: serde_json::Map<String, Value> = s
        .user_assigned_identities
        .iter()
        .map(|id| {
            let u = ws.identity(id);
            (
                id.clone(),
                json!({
                    "clientId": u.map(|u| u.client_id.clone()),
                    "principalId": u.map(|u| u.principal_id.0.clone()),
                }),
            )
        })
        .collect();
    let kind = match (s.identity.is_some(), user.is_empty()) {
        (true, true) => "SystemAssigned",
        (true, false) => "SystemAssigned,UserAssigned",
        (false, false) => "UserAssigned",
        (false, true) => return Value::Null,
    };
    json!({
        "principalId": s.identity.as_ref().map(|i| i.principal_id.0.clone()),
        "tenantId": s.identity.as_ref().map(|i| i.tenant_id.0.clone()).unwrap_or_else(|| s.tenant.0.clone()),
        "type": kind,
        "userAssignedIdentities": if user.is_empty() { Value::Null } else { Value::Object(user) }
    })
}

pub fn identity(i: &UserAssignedIdentity) -> Value {
    json!({
        "clientId": i.client_id,
        "id": i.arm_id(),
        "location": i.location,
        "name": i.name,
        "principalId": i.principal_id.0,
        "resourceGroup": i.resource_group,
        "systemData": null,
        "tags": {},
        "tenantId": i.tenant_id.0,
        "type": "Microsoft.ManagedIdentity/userAssignedIdentities"
    })
}

pub fn server(ws: &Workspace, s: &SqlServer) -> Value {
    json!({
        "administratorLogin": s.admin_login,
        "administratorLoginPassword": null,
        "fullyQualifiedDomainName": s.fqdn(),
        "id": ids::server(s),
        "identity": server_identity(ws, s),
        "primaryUserAssignedIdentityId": s.primary_user_assigned_identity,
        "keyId": s.protector_key().and_then(|k| k.uri.clone()),
        "kind": match s.kind { ServerKind::SqlDatabaseServer => "v12.0", ServerKind::ManagedInstance => "v12.0,managedinstance" },
        "location": s.location,
        "minimalTlsVersion": "1.2",
        "name": s.name,
        "publicNetworkAccess": "Enabled",
        "resourceGroup": s.resource_group,
        "state": "Ready",
        "tags": null,
        "type": match s.kind { ServerKind::SqlDatabaseServer => "Microsoft.Sql/servers", ServerKind::ManagedInstance => "Microsoft.Sql/managedInstances" },
        "version": "12.0"
    })
}

pub fn database(s: &SqlServer, d: &Database) -> Value {
    let sku = crate::service::sku::sku_of(d);
    let kind = match (sku.is_vcore(), sku.is_serverless()) {
        (true, true) => "v12.0,user,vcore,serverless",
        (true, false) => "v12.0,user,vcore",
        (false, _) if sku.tier == "DataWarehouse" => "v12.0,user,datawarehouse",
        (false, _) => "v12.0,user",
    };
    let collation = d
        .options
        .collation
        .clone()
        .unwrap_or_else(|| "SQL_Latin1_General_CP1_CI_AS".into());
    let redundancy = d
        .options
        .backup_storage_redundancy
        .clone()
        .unwrap_or_else(|| "Geo".into());
    json!({
        "autoPauseDelay": d.settings.auto_pause_delay_minutes.map(|m| m as i64).or(sku.is_serverless().then_some(60)),
        "catalogCollation": "SQL_Latin1_General_CP1_CI_AS",
        "collation": collation,
        "creationDate": d.created.to_iso(),
        "currentBackupStorageRedundancy": redundancy,
        "currentServiceObjectiveName": sku.service_objective,
        "currentSku": {"capacity": sku.capacity, "family": sku.family, "name": sku.name, "size": null, "tier": sku.tier},
        "edition": sku.tier,
        "elasticPoolId": d.settings.elastic_pool.as_ref().map(|p| format!("{}/elasticPools/{p}", ids::server(s))),
        "encryptionProtector": d.encryption_protector.as_ref().and_then(|_| s.database_key(d)).and_then(|k| k.uri.clone()),
        "encryptionProtectorAutoRotation": d.encryption_protector.as_ref().map(|_| d.encryption_protector_auto_rotation),
        "id": ids::database(s, &d.name),
        "isInfraEncryptionEnabled": d.infra_encrypted,
        "kind": kind,
        "licenseType": d.options.license_type.clone().or(sku.is_vcore().then(|| "LicenseIncluded".to_string())),
        "location": s.location,
        "maxSizeBytes": d.max_size_gb as u64 * 1024 * 1024 * 1024,
        "minCapacity": d.options.min_capacity.or(sku.is_serverless().then_some(0.5)),
        "name": d.name,
        "readScale": if d.settings.read_scale { "Enabled" } else { "Disabled" },
        "requestedBackupStorageRedundancy": redundancy,
        "requestedServiceObjectiveName": sku.service_objective,
        "resourceGroup": s.resource_group,
        "sampleName": d.options.sample_name,
        "sku": {"capacity": sku.capacity, "family": sku.family, "name": sku.name, "size": null, "tier": sku.tier},
        "status": d.state.label(),
        "tags": if d.tags.is_empty() { Value::Null } else { json!(d.tags.iter().cloned().collect::<std::collections::BTreeMap<_, _>>()) },
        "type": "Microsoft.Sql/servers/databases",
        "zoneRedundant": d.options.zone_redundant.unwrap_or(false)
    })
}

/// A database as `az sql db show` prints it, with what only the workspace knows: the earliest
/// restore point, its failover group, whether it is a geo-secondary.
pub fn database_in(ws: &Workspace, s: &SqlServer, d: &Database) -> Value {
    let mut v = database(s, d);
    if let Some(obj) = v.as_object_mut() {
        obj.insert(
            "earliestRestoreDate".into(),
            json!(crate::service::backup::earliest_restore_point(d, ws.now()).to_iso()),
        );
        obj.insert(
            "failoverGroupId".into(),
            match ws.continuity.group_of(&s.name, &d.name) {
                Some(g) => json!(format!("{}/failoverGroups/{}", ids::server(s), g.name)),
                None => Value::Null,
            },
        );
        obj.insert(
            "identity".into(),
            match &d.identity {
                Some(id) => {
                    let u = ws.identity(id);
                    json!({
                        "tenantId": u.map(|u| u.tenant_id.0.clone()),
                        "type": "UserAssigned",
                        "userAssignedIdentities": {
                            id.clone(): {
                                "clientId": u.map(|u| u.client_id.clone()),
                                "principalId": u.map(|u| u.principal_id.0.clone()),
                            }
                        }
                    })
                }
                None => Value::Null,
            },
        );
        obj.insert(
            "secondaryType".into(),
            match ws.continuity.primary_of(&s.name, &d.name) {
                Some(_) => json!("Geo"),
                None => Value::Null,
            },
        );
    }
    v
}

/// `az sql db show --expand-keys [--keys-filter current|T]`: the database's `keys` map,
/// by key id: every key ever added, those in use now, or those in use at T.
pub fn database_keys(
    s: &SqlServer,
    d: &Database,
    filter: crate::service::database_key::KeysFilter,
    now: Timestamp,
) -> Value {
    let keys: serde_json::Map<String, Value> =
        crate::service::database_key::database_keys(s, d, filter, now)
            .into_iter()
            .map(|k| {
                (
                    k.uri,
                    json!({
                        "creationDate": k.added.to_iso(),
                        "subregion": null,
                        "thumbprint": k.thumbprint,
                        "type": "AzureKeyVault"
                    }),
                )
            })
            .collect();
    Value::Object(keys)
}

pub fn database_tde(s: &SqlServer, d: &Database) -> Value {
    json!({
        "id": format!("{}/transparentDataEncryption/Current", ids::database(s, &d.name)),
        "name": "Current",
        "resourceGroup": s.resource_group,
        "state": if d.tde_enabled() { "Enabled" } else { "Disabled" },
        "type": "Microsoft.Sql/servers/databases/transparentDataEncryption"
    })
}

pub fn server_key(s: &SqlServer, k: &ServerKey) -> Value {
    json!({
        "autoRotationEnabled": null,
        "creationDate": k.created.to_iso(),
        "id": format!("{}/keys/{}", ids::server(s), k.name),
        "kind": if k.key_type == ServerKeyType::AzureKeyVault { "azurekeyvault" } else { "servicemanaged" },
        "location": s.location,
        "name": k.name,
        "resourceGroup": s.resource_group,
        "serverKeyType": k.key_type.as_str(),
        "subregion": null,
        "thumbprint": k.thumbprint,
        "type": "Microsoft.Sql/servers/keys",
        "uri": k.uri
    })
}

pub fn protector(s: &SqlServer, p: &TdeProtector, k: &ServerKey) -> Value {
    json!({
        "autoRotationEnabled": p.auto_rotation,
        "id": format!("{}/encryptionProtector/current", ids::server(s)),
        "kind": if k.key_type == ServerKeyType::AzureKeyVault { "azurekeyvault" } else { "servicemanaged" },
        "location": s.location,
        "name": "current",
        "resourceGroup": s.resource_group,
        "serverKeyName": k.name,
        "serverKeyType": k.key_type.as_str(),
        "subregion": null,
        "thumbprint": k.thumbprint,
        "type": "Microsoft.Sql/servers/encryptionProtector",
        "uri": k.uri
    })
}
