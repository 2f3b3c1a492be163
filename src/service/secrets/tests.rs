use super::*;
use crate::service::keyvault::{self, vaults::CreateVault};
use crate::service::{behaviour, new_workspace, rbac, resources};
use crate::sim::Duration;

const V: &str = "kv-secrets";

fn vault(ws: &mut Workspace, name: &str, location: &str, purge_protection: bool) {
    keyvault::vaults::create_vault(
        ws,
        &CreateVault {
            name: name.into(),
            resource_group: "rg".into(),
            location: Some(location.into()),
            purge_protection,
            ..Default::default()
        },
    )
    .expect("vault");
}

fn setup() -> Workspace {
    let mut ws = new_workspace("secrets", 7);
    resources::create_resource_group(&mut ws, "rg", "eastus").expect("group");
    vault(&mut ws, V, "eastus", false);
    ws
}

fn set(ws: &mut Workspace, name: &str, value: &str) -> SecretVersion {
    set_secret(ws, &SetSecret::new(V, name, value))
        .expect("set")
        .2
}

/// Acts as another principal of the console user's tenant.
fn act_as(ws: &mut Workspace, oid: &str) -> PrincipalId {
    ws.console_user.object_id = PrincipalId(oid.into());
    ws.console_user.object_id.clone()
}

const OTHER: &str = "11111111-2222-4333-8444-555555555555";

#[test]
fn set_get_list_and_versions() {
    let mut ws = setup();
    let v1 = set(&mut ws, "db-password", "first");
    let v2 = set(&mut ws, "db-password", "second");
    assert_ne!(v1.version, v2.version);
    let (_, _, latest) = get_secret(&ws, V, "db-password", None).unwrap();
    assert_eq!(latest.value.reveal(), "second");
    let (_, _, old) = get_secret(&ws, V, "DB-PASSWORD", Some(&v1.version.0)).unwrap();
    assert_eq!(old.value.reveal(), "first");
    let (_, s) = list_secret_versions(&ws, V, "db-password").unwrap();
    assert_eq!(s.versions.len(), 2);
    let (_, all) = list_secrets(&ws, V).unwrap();
    assert_eq!(all.len(), 1);
    let e = get_secret(&ws, V, "nope", None).unwrap_err();
    assert_eq!(e.code, "SecretNotFound");
    assert_eq!(e.status, 404);
    assert!(
        e.message
            .starts_with("A secret with (name/id) nope was not found in this key vault.")
    );
    let e = get_secret(
        &ws,
        V,
        "db-password",
        Some("00000000000000000000000000000000"),
    )
    .unwrap_err();
    assert_eq!(e.code, "SecretNotFound");
}

#[test]
fn bad_input_changes_nothing() {
    let mut ws = setup();
    let before = ws.vault(V).unwrap().secrets.clone();
    for req in [
        SetSecret::new(V, "bad name", "x"),
        SetSecret::new(V, "", "x"),
        SetSecret::new(V, "-lead", "x"),
        SetSecret::new(V, "big", "x".repeat(MAX_VALUE_BYTES + 1)),
        SetSecret {
            content_type: Some("c".repeat(256)),
            ..SetSecret::new(V, "ct", "x")
        },
        SetSecret {
            not_before: Some(Timestamp(2_000)),
            expires: Some(Timestamp(1_000)),
            ..SetSecret::new(V, "dates", "x")
        },
        SetSecret {
            tags: (0..16).map(|i| (format!("t{i}"), String::new())).collect(),
            ..SetSecret::new(V, "tags", "x")
        },
    ] {
        let e = set_secret(&mut ws, &req).unwrap_err();
        assert_eq!(e.status, 400, "{e:?}");
    }
    assert_eq!(ws.vault(V).unwrap().secrets, before);
    let e = set_secret(&mut ws, &SetSecret::new("no-such-vault", "s", "x")).unwrap_err();
    assert_eq!(e.status, 404);
}

#[test]
fn disabled_versions_are_refused_and_expired_ones_still_answer() {
    let mut ws = setup();
    set(&mut ws, "s", "v");
    let now = ws.now();
    update_secret(
        &mut ws,
        V,
        "s",
        None,
        &SecretAttributes {
            expires: Some(Some(now + Duration::seconds(1))),
            content_type: Some(Some("text/plain".into())),
            tags: Some(vec![("env".into(), "dev".into())]),
            ..Default::default()
        },
    )
    .unwrap();
    behaviour::advance(&mut ws, Duration::minutes(1)).unwrap();
    let (_, _, sv) = get_secret(&ws, V, "s", None).expect("expired secrets still answer");
    assert_eq!(sv.content_type.as_deref(), Some("text/plain"));
    assert_eq!(sv.tags, vec![("env".to_string(), "dev".to_string())]);
    update_secret(
        &mut ws,
        V,
        "s",
        None,
        &SecretAttributes {
            enabled: Some(false),
            ..Default::default()
        },
    )
    .unwrap();
    let e = get_secret(&ws, V, "s", None).unwrap_err();
    assert_eq!((e.status, e.code.as_str()), (403, "Forbidden"));
    assert_eq!(
        e.message,
        "Operation get is not allowed on a disabled secret."
    );
    // Listing still shows it (without its value).
    assert_eq!(list_secrets(&ws, V).unwrap().1.len(), 1);
}

#[test]
fn access_policies_decide_who_may_do_what() {
    let mut ws = setup();
    set(&mut ws, "s", "v");
    let me = ws.console_user.clone();
    let other = act_as(&mut ws, OTHER);
    let e = get_secret(&ws, V, "s", None).unwrap_err();
    assert_eq!((e.status, e.code.as_str()), (403, "Forbidden"));
    assert!(
        e.message
            .contains(&format!("oid={OTHER};iss=https://sts.windows.net/"))
            && e.message.contains(
                "does not have secrets get permission on key vault 'kv-secrets;location=eastus'"
            ),
        "{}",
        e.message
    );
    ws.console_user = me.clone();
    let get_only: BTreeSet<SecretPermission> = [SecretPermission::Get].into_iter().collect();
    set_access_policy(&mut ws, V, &other, None, Some(&get_only)).unwrap();
    // Key permissions are untouched by a secret-only change, and the reverse.
    let keys: BTreeSet<KeyPermission> = [KeyPermission::Get].into_iter().collect();
    set_access_policy(&mut ws, V, &other, Some(&keys), None).unwrap();
    let p = ws
        .vault(V)
        .unwrap()
        .access_policies
        .iter()
        .find(|p| p.object_id == other)
        .cloned()
        .unwrap();
    assert_eq!(p.secret_permissions, get_only);
    assert_eq!(p.key_permissions, keys);
    act_as(&mut ws, OTHER);
    assert!(get_secret(&ws, V, "s", None).is_ok());
    let e = set_secret(&mut ws, &SetSecret::new(V, "s", "w")).unwrap_err();
    assert!(
        e.message.contains("does not have secrets set permission"),
        "{}",
        e.message
    );
    let e = list_secrets(&ws, V).unwrap_err();
    assert!(
        e.message.contains("secrets list permission"),
        "{}",
        e.message
    );
    // A revocation is honoured until it propagates.
    ws.console_user = me.clone();
    set_access_policy(&mut ws, V, &other, None, Some(&BTreeSet::new())).unwrap();
    act_as(&mut ws, OTHER);
    assert!(get_secret(&ws, V, "s", None).is_ok(), "not propagated yet");
    behaviour::advance(&mut ws, Duration::minutes(11)).unwrap();
    assert_eq!(get_secret(&ws, V, "s", None).unwrap_err().status, 403);
    // delete-policy removes the secret permissions too.
    ws.console_user = me;
    keyvault::access::delete_access_policy(&mut ws, V, &other).unwrap();
    assert!(
        !ws.vault(V)
            .unwrap()
            .access_policies
            .iter()
            .any(|p| p.object_id == other)
    );
}

#[test]
fn rbac_roles_grant_secrets_as_azure_does() {
    let mut ws = setup();
    set(&mut ws, "s", "v");
    rbac::set_rbac_authorization(&mut ws, V, true).unwrap();
    let other = PrincipalId(OTHER.into());
    rbac::create_role_assignment(&mut ws, V, &other, VaultRole::SecretsUser).unwrap();
    let crypto = PrincipalId("22222222-2222-4333-8444-555555555555".into());
    rbac::create_role_assignment(&mut ws, V, &crypto, VaultRole::CryptoOfficer).unwrap();
    behaviour::advance(&mut ws, Duration::minutes(11)).unwrap();
    act_as(&mut ws, OTHER);
    assert_eq!(get_secret(&ws, V, "s", None).unwrap().2.value.reveal(), "v");
    assert!(list_secrets(&ws, V).is_ok());
    let e = set_secret(&mut ws, &SetSecret::new(V, "s", "w")).unwrap_err();
    assert_eq!(e.code, "ForbiddenByRbac");
    assert!(
        e.message
            .contains("Microsoft.KeyVault/vaults/secrets/setSecret/action"),
        "{}",
        e.message
    );
    act_as(&mut ws, &crypto.0);
    let e = get_secret(&ws, V, "s", None).unwrap_err();
    assert!(
        e.message.contains("secrets/getSecret/action"),
        "{}",
        e.message
    );
    assert_eq!(
        VaultRole::parse("key vault secrets officer"),
        Some(VaultRole::SecretsOfficer)
    );
    assert_eq!(
        VaultRole::SecretsOfficer.secret_permissions().len(),
        SecretPermission::ALL.len()
    );
}

#[test]
fn the_firewall_refuses_a_caller_outside_it() {
    let mut ws = setup();
    set(&mut ws, "s", "v");
    crate::service::set_client_ip(&mut ws, "198.51.100.7").unwrap();
    let mut acls = ws.vault(V).unwrap().network.clone();
    acls.restricted = true;
    acls.ip_rules = vec!["203.0.113.0/24".into()];
    keyvault::access::set_network_acls(&mut ws, V, acls).unwrap();
    let e = get_secret(&ws, V, "s", None).unwrap_err();
    assert_eq!(e.code, "ForbiddenByFirewall");
}

#[test]
fn soft_delete_recover_and_purge() {
    let mut ws = setup();
    set(&mut ws, "s", "v");
    let (_, gone) = delete_secret(&mut ws, V, "s").unwrap();
    let d = gone.deleted.clone().expect("soft-deleted");
    assert_eq!(d.scheduled_purge, d.deleted_on + Duration::days(90));
    assert_eq!(
        get_secret(&ws, V, "s", None).unwrap_err().code,
        "SecretNotFound"
    );
    assert!(list_secrets(&ws, V).unwrap().1.is_empty());
    assert_eq!(list_deleted_secrets(&ws, V).unwrap().1.len(), 1);
    let e = set_secret(&mut ws, &SetSecret::new(V, "S", "again")).unwrap_err();
    assert_eq!(e.status, 409);
    assert_eq!(
        e.message,
        "Secret s is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the secret can only be recovered or purged."
    );
    recover_secret(&mut ws, V, "s").unwrap();
    assert_eq!(get_secret(&ws, V, "s", None).unwrap().2.value.reveal(), "v");
    delete_secret(&mut ws, V, "s").unwrap();
    // Nobody has purge by default.
    let e = purge_secret(&mut ws, V, "s").unwrap_err();
    assert!(
        e.message.contains("secrets purge permission"),
        "{}",
        e.message
    );
    let me = ws.console_user.object_id.clone();
    let all: BTreeSet<SecretPermission> = SecretPermission::ALL.into_iter().collect();
    set_access_policy(&mut ws, V, &me, None, Some(&all)).unwrap();
    purge_secret(&mut ws, V, "s").unwrap();
    assert!(ws.vault(V).unwrap().secrets.is_empty());
    assert_eq!(
        show_deleted_secret(&ws, V, "s").unwrap_err().message,
        "Deleted Secret not found: s"
    );
    // The name is free again.
    set(&mut ws, "s", "new");
}

#[test]
fn purge_protection_waits_for_the_retention_and_the_clock_purges() {
    let mut ws = new_workspace("secrets", 9);
    resources::create_resource_group(&mut ws, "rg", "eastus").unwrap();
    let name = "kv-protected";
    keyvault::vaults::create_vault(
        &mut ws,
        &CreateVault {
            name: name.into(),
            resource_group: "rg".into(),
            retention_days: Some(7),
            purge_protection: true,
            ..Default::default()
        },
    )
    .unwrap();
    let me = ws.console_user.object_id.clone();
    let all: BTreeSet<SecretPermission> = SecretPermission::ALL.into_iter().collect();
    set_access_policy(&mut ws, name, &me, None, Some(&all)).unwrap();
    set_secret(&mut ws, &SetSecret::new(name, "s", "v")).unwrap();
    delete_secret(&mut ws, name, "s").unwrap();
    let e = purge_secret(&mut ws, name, "s").unwrap_err();
    assert_eq!((e.status, e.code.as_str()), (403, "Forbidden"));
    assert!(
        e.message.contains("purge protection is enabled"),
        "{}",
        e.message
    );
    assert_eq!(ws.vault(name).unwrap().secrets.len(), 1, "nothing purged");
    behaviour::advance(&mut ws, Duration::days(8)).unwrap();
    assert!(
        ws.vault(name).unwrap().secrets.is_empty(),
        "the retention ended: purged by the service"
    );
}

#[test]
fn without_soft_delete_a_delete_is_final() {
    let mut ws = setup();
    set(&mut ws, "s", "v");
    ws.vault_mut(V).unwrap().soft_delete = false;
    let (_, gone) = delete_secret(&mut ws, V, "s").unwrap();
    assert!(gone.deleted.is_none());
    assert!(ws.vault(V).unwrap().secrets.is_empty());
    assert_eq!(recover_secret(&mut ws, V, "s").unwrap_err().status, 404);
}

#[test]
fn backups_restore_within_a_subscription_and_geography() {
    let mut ws = setup();
    vault(&mut ws, "kv-secrets-2", "westus", false);
    vault(&mut ws, "kv-secrets-eu", "westeurope", false);
    set(&mut ws, "s", "one");
    set(&mut ws, "s", "two");
    let blob = backup_secret(&mut ws, V, "s").unwrap();
    assert!(
        !String::from_utf8_lossy(&blob).contains("two"),
        "the value is sealed"
    );
    assert_eq!(restore_secret(&mut ws, V, &blob).unwrap_err().status, 409);
    let (_, restored) = restore_secret(&mut ws, "kv-secrets-2", &blob).unwrap();
    assert_eq!(restored.versions.len(), 2);
    assert_eq!(
        get_secret(&ws, "kv-secrets-2", "s", None)
            .unwrap()
            .2
            .value
            .reveal(),
        "two"
    );
    let e = restore_secret(&mut ws, "kv-secrets-eu", &blob).unwrap_err();
    assert!(e.message.contains("geography"), "{}", e.message);
    assert!(restore_secret(&mut ws, "kv-secrets-2", b"not a backup").is_err());
    // A key backup is not a secret backup.
    let mut key = keyvault::keys::CreateKey::new(V, "k", KeyType::Rsa, 2048);
    key.enabled = true;
    let material = crate::crypto::KeyMaterial::Rsa(
        crate::crypto::RsaKeyMaterial::from_pem(include_str!(
            "../../../tests/fixtures/rsa2048-1.pem"
        ))
        .expect("fixture"),
    );
    keyvault::keys::create_key(&mut ws, &key, material).unwrap();
    let key_blob = keyvault::keys::backup_key(&mut ws, V, "k").unwrap();
    let e = restore_secret(&mut ws, "kv-secrets-2", &key_blob).unwrap_err();
    assert!(e.message.contains("not a secret backup"), "{}", e.message);
}

#[test]
fn requests_are_journaled_as_secret_operations_without_values() {
    let mut ws = setup();
    set(&mut ws, "s", "journal-value-xyz");
    get_secret(&ws, V, "s", None).unwrap();
    let _ = get_secret(&ws, V, "missing", None);
    let journal = ws.journal.lock();
    let ops: Vec<(String, u16)> = journal
        .requests
        .iter()
        .filter(|r| r.operation.starts_with("Secret"))
        .map(|r| (r.operation.clone(), r.status))
        .collect();
    assert_eq!(
        ops,
        vec![
            ("SecretSet".to_string(), 200),
            ("SecretGet".to_string(), 200),
            ("SecretGet".to_string(), 404)
        ]
    );
    let r = journal
        .requests
        .iter()
        .find(|r| r.operation == "SecretGet")
        .unwrap();
    assert!(r.request_uri.contains("/secrets/s"), "{}", r.request_uri);
    assert_eq!(r.class, ThrottleClass::Secrets);
    assert!(
        journal
            .requests
            .iter()
            .all(|r| !format!("{r:?}").contains("journal-value-xyz"))
    );
    drop(journal);
    assert!(!format!("{ws:?}").contains("journal-value-xyz"));
}

#[test]
fn a_managed_hsm_has_no_secrets() {
    let mut ws = setup();
    let me = ws.console_user.object_id.clone();
    keyvault::vaults::create_managed_hsm(
        &mut ws,
        &CreateVault {
            name: "hsm-one".into(),
            resource_group: "rg".into(),
            ..Default::default()
        },
        &[me],
    )
    .unwrap();
    let e = set_secret(&mut ws, &SetSecret::new("hsm-one", "s", "v")).unwrap_err();
    assert_eq!(e.status, 400);
}
