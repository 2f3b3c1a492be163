//! Integration tests through the operations layer: protector requirements, re-wrapping,
//! and the simulated behaviour over time.

use crate::common;

use common::*;
use std::collections::BTreeSet;
use tde_console::model::*;
use tde_console::service::KeySource;
use tde_console::service::{self, ServiceError, behaviour, keyvault, sql, tde};
use tde_console::sim::{Duration, TimingProfile};

fn set_akv(ws: &mut Workspace, kid: &str) -> Result<TdeProtector, ServiceError> {
    tde::set_protector(
        ws,
        &tde::SetProtector {
            server: SERVER.into(),
            key_type: ServerKeyType::AzureKeyVault,
            kid: Some(kid.into()),
            auto_rotation: false,
        },
    )
}

/// Asserts that `op` fails with `code` and leaves the workspace exactly as it was.
fn fails_unchanged(
    ws: &mut Workspace,
    code: &str,
    op: impl FnOnce(&mut Workspace) -> Result<TdeProtector, ServiceError>,
) -> ServiceError {
    let before = ws.clone();
    let err = op(ws).expect_err("the operation should fail");
    assert_eq!(err.code, code, "{err}");
    // Only the requests it made to the vault stay (a refused call leaves its trace).
    assert!(
        unchanged_but_its_trace(ws, &before).is_some(),
        "a failed operation changed the workspace ({err})"
    );
    err
}

#[test]
fn service_managed_to_customer_managed_to_new_version_and_back_keeps_pages() {
    let keys = FixtureKeys::new();
    let (mut ws, kid) = setup(&keys);
    let plain = all_pages(&ws);
    assert_eq!(plain[0], sql::sample_pages("sales")[0]);
    let cipher = ciphertexts(&ws);

    protect(&mut ws, &kid);
    let s = ws.server(SERVER).unwrap();
    assert_eq!(s.protector.key_type, ServerKeyType::AzureKeyVault);
    assert!(
        s.databases
            .iter()
            .all(|d| d.dek.as_ref().unwrap().server_key_name == s.protector.server_key_name)
    );
    assert_eq!(
        ciphertexts(&ws),
        cipher,
        "switching the protector must not re-encrypt pages"
    );
    assert_eq!(all_pages(&ws), plain);

    // A new key version, then rotate to it.
    let (_, v2) = keyvault::create_key(
        &mut ws,
        &keyvault::CreateKey::new(VAULT, KEY, KeyType::Rsa, 2048),
        keys.generate(2048).unwrap(),
    )
    .unwrap();
    let kid2 = ws.vault(VAULT).unwrap().key_uri(KEY, &v2.version);
    sql::add_server_key(&mut ws, SERVER, &kid2).unwrap();
    set_akv(&mut ws, &kid2).unwrap();
    assert!(
        ws.server(SERVER)
            .unwrap()
            .protector
            .server_key_name
            .ends_with(&v2.version.0)
    );
    assert_eq!(ciphertexts(&ws), cipher);
    assert_eq!(all_pages(&ws), plain);

    // Back to service-managed.
    tde::set_protector(
        &mut ws,
        &tde::SetProtector {
            server: SERVER.into(),
            key_type: ServerKeyType::ServiceManaged,
            kid: None,
            auto_rotation: false,
        },
    )
    .unwrap();
    assert_eq!(ciphertexts(&ws), cipher);
    assert_eq!(all_pages(&ws), plain);
    assert!(
        ws.server(SERVER)
            .unwrap()
            .databases
            .iter()
            .all(|d| d.state.is_online())
    );
    for db in ["sales", "ledger"] {
        sql::connect(&mut ws, SERVER, db).unwrap();
    }
}

#[test]
fn each_unmet_requirement_gets_its_named_error_and_changes_nothing() {
    let keys = FixtureKeys::new();
    let (mut ws, kid) = setup(&keys);
    grant_tde(&mut ws);
    sql::add_server_key(&mut ws, SERVER, &kid).unwrap();

    // Malformed key id.
    fails_unchanged(&mut ws, "InvalidKeyName", |ws| {
        set_akv(ws, "https://kv-test.vault.azure.net/secrets/x")
    });
    // Versionless without auto-rotation.
    fails_unchanged(&mut ws, "InvalidKeyName", |ws| {
        set_akv(ws, "https://kv-test.vault.azure.net/keys/tde-key")
    });
    // Not linked to the server.
    let (_, other) = keyvault::create_key(
        &mut ws,
        &keyvault::CreateKey::new(VAULT, "other", KeyType::Rsa, 2048),
        keys.generate(2048).unwrap(),
    )
    .unwrap();
    let other_kid = ws.vault(VAULT).unwrap().key_uri("other", &other.version);
    fails_unchanged(&mut ws, "ServerKeyNotFound", |ws| set_akv(ws, &other_kid));

    // No server identity.
    let mut no_id = ws.clone();
    no_id.server_mut(SERVER).unwrap().identity = None;
    let e = fails_unchanged(&mut no_id, "AzureKeyVaultNoServerIdentity", |ws| {
        set_akv(ws, &kid)
    });
    assert_eq!(
        e.message,
        "The server identity is not correctly configured on server. Please contact support."
    );

    // Soft delete off (and purge protection under the current profile).
    let mut soft = ws.clone();
    soft.vault_mut(VAULT).unwrap().soft_delete = false;
    fails_unchanged(
        &mut soft,
        "SecurityInvalidAzureKeyVaultRecoveryLevel",
        |ws| set_akv(ws, &kid),
    );
    let mut current = ws.clone();
    current.vault_mut(VAULT).unwrap().purge_protection = false;
    set_akv(&mut current.clone(), &kid).expect("2021 profile: soft delete alone is enough");
    service::set_profile(&mut current, TimingProfile::Current).unwrap();
    fails_unchanged(
        &mut current,
        "SecurityInvalidAzureKeyVaultRecoveryLevel",
        |ws| set_akv(ws, &kid),
    );

    // Missing permissions (grant all but unwrapKey; the revocation has to propagate first).
    let mut perms = ws.clone();
    let p = principal(&perms);
    keyvault::set_access_policy(
        &mut perms,
        VAULT,
        &p,
        &[KeyPermission::Get, KeyPermission::WrapKey]
            .into_iter()
            .collect(),
    )
    .unwrap();
    set_akv(&mut perms.clone(), &kid).expect("a revocation is honoured until it propagates");
    behaviour::advance(&mut perms, Duration::minutes(10)).unwrap();
    let e = fails_unchanged(&mut perms, "AzureKeyVaultMissingPermissions", |ws| {
        set_akv(ws, &kid)
    });
    assert_eq!(
        e.message,
        "The server is missing required permissions on the Azure Key Vault."
    );

    // Firewall without the trusted-services bypass.
    let mut fw = ws.clone();
    keyvault::set_network_acls(
        &mut fw,
        VAULT,
        NetworkAcls {
            restricted: true,
            bypass_trusted_services: false,
            ip_rules: vec![],
            public_access_disabled: false,
        },
    )
    .unwrap();
    fails_unchanged(&mut fw, "AkvEndpointNotReachableFromNode", |ws| {
        set_akv(ws, &kid)
    });
    keyvault::set_network_acls(
        &mut fw,
        VAULT,
        NetworkAcls {
            restricted: true,
            bypass_trusted_services: true,
            ip_rules: vec![],
            public_access_disabled: false,
        },
    )
    .unwrap();
    set_akv(&mut fw, &kid).expect("trusted services may bypass the firewall");

    // Disabled, not yet active, expired.
    let version = kid.rsplit('/').next().unwrap().to_string();
    for (code, attrs) in [
        (
            "AzureKeyVaultKeyDisabled",
            keyvault::KeyAttributes {
                enabled: Some(false),
                ..Default::default()
            },
        ),
        (
            "AzureKeyVaultInvalidExpirationDate",
            keyvault::KeyAttributes {
                expires: Some(Some(Timestamp(ws.now().0 - 60))),
                ..Default::default()
            },
        ),
        (
            "AzureKeyVaultInvalidExpirationDate",
            keyvault::KeyAttributes {
                not_before: Some(Some(ws.now() + Duration::days(1))),
                ..Default::default()
            },
        ),
    ] {
        let mut w = ws.clone();
        keyvault::set_key_attributes(&mut w, VAULT, KEY, Some(&version), &attrs).unwrap();
        let e = fails_unchanged(&mut w, code, |ws| set_akv(ws, &kid));
        if code == "AzureKeyVaultKeyDisabled" {
            // The service's own text for a disabled key.
            assert_eq!(
                e.message,
                "The operation could not be completed on the server because the Azure Key Vault key is disabled."
            );
            continue;
        }
        assert!(
            e.message.contains("Get, WrapKey, UnwrapKey"),
            "{}",
            e.message
        );
        assert!(
            e.message.contains(&p.0),
            "the message names the principal: {}",
            e.message
        );
    }

    // key_ops without wrapKey.
    let mut ops = ws.clone();
    keyvault::set_key_attributes(
        &mut ops,
        VAULT,
        KEY,
        None,
        &keyvault::KeyAttributes {
            ops: Some(vec![KeyOperation::Sign, KeyOperation::Verify]),
            ..Default::default()
        },
    )
    .unwrap();
    fails_unchanged(&mut ops, "AzureKeyVaultMissingPermissions", |ws| {
        set_akv(ws, &kid)
    });

    // RSA 4096: the vault accepts it, SQL does not.
    let mut big = ws.clone();
    let (_, v4096) = keyvault::create_key(
        &mut big,
        &keyvault::CreateKey::new(VAULT, "big", KeyType::Rsa, 4096),
        keys.generate(4096).unwrap(),
    )
    .unwrap();
    let big_kid = big.vault(VAULT).unwrap().key_uri("big", &v4096.version);
    // Refused already when it is linked (and so when it would become the protector).
    let before = big.clone();
    let e = sql::add_server_key(&mut big, SERVER, &big_kid).expect_err("4096 is refused");
    assert_eq!(e.code, "AzureKeyVaultRsaKeyNotSupported");
    assert!(
        unchanged_but_its_trace(&big, &before).is_some(),
        "a refused link changes nothing"
    );
    assert_eq!(
        e.message,
        "The supported RSA key size is 2048 or 3072 and Key Type is RSA or RSA-HSM."
    );

    // Vault + key name over 94 characters.
    let long = format!(
        "https://{}.vault.azure.net/keys/{}/{}",
        "v".repeat(24),
        "k".repeat(71),
        "0".repeat(32)
    );
    fails_unchanged(&mut ws, "InvalidKeyName", |ws| set_akv(ws, &long));

    // Deleted vault.
    let mut gone = ws.clone();
    gone.vault_mut(VAULT).unwrap().deleted = Some(DeletedState {
        deleted_on: gone.now(),
        scheduled_purge: gone.now() + Duration::days(90),
    });
    fails_unchanged(&mut gone, "AzureKeyVaultConnectionFailed", |ws| {
        set_akv(ws, &kid)
    });

    // Another tenant.
    let mut cross = ws.clone();
    cross.vault_mut(VAULT).unwrap().tenant =
        TenantId("00000000-0000-4000-8000-000000000001".into());
    fails_unchanged(&mut cross, "AzureKeyVaultCrossTenantNotSupported", |ws| {
        set_akv(ws, &kid)
    });

    // And with everything in place it works.
    set_akv(&mut ws, &kid).unwrap();
}

#[test]
fn revocation_makes_databases_inaccessible_within_ten_minutes_of_taking_effect_and_never_before() {
    let keys = FixtureKeys::new();
    let (mut ws, kid) = setup(&keys);
    protect(&mut ws, &kid);
    let p = principal(&ws);
    keyvault::delete_access_policy(&mut ws, VAULT, &p).unwrap();
    let pending = ws.vault(VAULT).unwrap().pending_revocations[0].effective_at;
    assert!(pending - ws.now() <= Duration::minutes(10));
    // Minute by minute: Online until the revocation takes effect, Inaccessible at most 10 minutes later.
    while ws.now() < pending {
        assert_eq!(status(&ws, "sales"), "Online");
        sql::connect(&mut ws, SERVER, "sales").expect("connections work until the server notices");
        behaviour::advance(&mut ws, Duration::seconds(30)).unwrap();
    }
    let effective = ws.now();
    while status(&ws, "sales") == "Online" {
        assert!(
            ws.now() - effective <= Duration::minutes(10),
            "not Inaccessible within 10 minutes"
        );
        behaviour::advance(&mut ws, Duration::seconds(30)).unwrap();
    }
    assert!(ws.now() - pending >= Duration::seconds(30));
    assert_eq!(status(&ws, "ledger"), "Inaccessible");
    let err = sql::connect(&mut ws, SERVER, "sales").unwrap_err();
    assert_eq!(
        err.message,
        "Database 'sales' on server 'sql-test' is not currently available. Please retry the connection later."
    );
    assert_eq!(
        ws.server(SERVER).unwrap().database("sales").unwrap().health,
        ResourceHealth::Unavailable
    );
    // Only Delete is allowed.
    assert_eq!(
        sql::set_database_tde(&mut ws, SERVER, "sales", false)
            .unwrap_err()
            .code,
        "DatabaseInaccessible"
    );
    let to_sm = tde::set_protector(
        &mut ws,
        &tde::SetProtector {
            server: SERVER.into(),
            key_type: ServerKeyType::ServiceManaged,
            kid: None,
            auto_rotation: false,
        },
    );
    assert_eq!(to_sm.unwrap_err().code, "DatabaseInaccessible");
    let ops: Vec<&str> = ws
        .activity_log
        .iter()
        .map(|e| e.operation.as_str())
        .collect();
    assert!(ops.contains(&"MakeDatabaseInaccessible"));
    // The service cannot take the last backup before a drop without the key.
    assert_eq!(
        sql::delete_database(&mut ws, SERVER, "ledger")
            .unwrap_err()
            .code,
        "CannotDropDatabaseAKVError"
    );
}

fn lose_and_restore(profile: TimingProfile, wait: Duration) -> Workspace {
    let keys = FixtureKeys::new();
    let (mut ws, kid) = setup(&keys);
    service::set_profile(&mut ws, profile).unwrap();
    ws.vault_mut(VAULT).unwrap().purge_protection = true;
    protect(&mut ws, &kid);
    let version = kid.rsplit('/').next().unwrap().to_string();
    set_key_enabled(&mut ws, &version, false);
    behaviour::advance(&mut ws, Duration::minutes(10)).unwrap();
    assert_eq!(status(&ws, "sales"), "Inaccessible");
    behaviour::advance(&mut ws, wait).unwrap();
    set_key_enabled(&mut ws, &version, true);
    behaviour::advance(&mut ws, Duration::minutes(60)).unwrap();
    ws
}

#[test]
fn access_restored_inside_the_window_auto_heals_within_an_hour() {
    for (profile, wait) in [
        (TimingProfile::Y2021, Duration::hours(7)),
        (TimingProfile::Current, Duration::minutes(15)),
    ] {
        let mut ws = lose_and_restore(profile, wait);
        assert_eq!(status(&ws, "sales"), "Online", "{profile:?}");
        assert_eq!(status(&ws, "ledger"), "Online");
        sql::connect(&mut ws, SERVER, "sales").unwrap();
        assert_eq!(all_pages(&ws)[0], sql::sample_pages("sales")[0]);
        assert!(
            ws.activity_log
                .iter()
                .any(|e| e.operation == "MakeDatabaseAccessible"
                    && e.status == ActivityStatus::Succeeded)
        );
    }
}

#[test]
fn access_restored_after_the_window_needs_revalidation() {
    for (profile, wait) in [
        (TimingProfile::Y2021, Duration::hours(9)),
        (TimingProfile::Current, Duration::minutes(45)),
    ] {
        let ws = lose_and_restore(profile, wait);
        let d = ws.server(SERVER).unwrap().database("sales").unwrap();
        assert!(
            matches!(
                d.state,
                DatabaseState::Inaccessible {
                    revalidation_required: true,
                    ..
                }
            ),
            "{profile:?}: {:?}",
            d.state
        );
    }
}

#[test]
fn deleting_the_key_or_the_identity_loses_access() {
    let keys = FixtureKeys::new();
    let (mut ws, kid) = setup(&keys);
    protect(&mut ws, &kid);
    let mut by_key = ws.clone();
    keyvault::delete_key(&mut by_key, VAULT, KEY).unwrap();
    behaviour::advance(&mut by_key, Duration::minutes(10)).unwrap();
    assert_eq!(status(&by_key, "sales"), "Inaccessible");

    sql::delete_identity(&mut ws, SERVER).unwrap();
    behaviour::advance(&mut ws, Duration::minutes(10)).unwrap();
    assert_eq!(status(&ws, "sales"), "Inaccessible");
}

#[test]
fn a_brief_loss_fixed_before_the_check_changes_nothing() {
    let keys = FixtureKeys::new();
    let (mut ws, kid) = setup(&keys);
    protect(&mut ws, &kid);
    let version = kid.rsplit('/').next().unwrap().to_string();
    set_key_enabled(&mut ws, &version, false);
    set_key_enabled(&mut ws, &version, true);
    behaviour::advance(&mut ws, Duration::hours(1)).unwrap();
    assert_eq!(status(&ws, "sales"), "Online");
}

#[test]
fn an_expiring_key_is_noticed_when_it_expires() {
    let keys = FixtureKeys::new();
    let (mut ws, kid) = setup(&keys);
    protect(&mut ws, &kid);
    let exp = ws.now() + Duration::days(3);
    keyvault::set_key_attributes(
        &mut ws,
        VAULT,
        KEY,
        None,
        &keyvault::KeyAttributes {
            expires: Some(Some(exp)),
            ..Default::default()
        },
    )
    .unwrap();
    behaviour::advance(&mut ws, Duration(Duration::days(3).0 - 60)).unwrap();
    assert_eq!(status(&ws, "sales"), "Online");
    behaviour::advance(&mut ws, Duration::minutes(11)).unwrap();
    assert_eq!(status(&ws, "sales"), "Inaccessible");
}

#[test]
fn the_same_steps_replay_the_same_way() {
    let run = || {
        let keys = FixtureKeys::new();
        let (mut ws, kid) = setup(&keys);
        protect(&mut ws, &kid);
        let p = principal(&ws);
        keyvault::delete_access_policy(&mut ws, VAULT, &p).unwrap();
        behaviour::advance(&mut ws, Duration::minutes(30)).unwrap();
        ws.activity_log
            .iter()
            .map(|e| (e.time, e.operation.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(run(), run());
}

#[test]
fn bad_input_is_refused_with_the_service_error() {
    let keys = FixtureKeys::new();
    let (mut ws, _) = setup(&keys);
    let before = ws.clone();
    let e = service::resources::create_resource_group(&mut ws, "rg2", "atlantis").unwrap_err();
    assert_eq!(e.code, "LocationNotAvailableForResourceType");
    let e = keyvault::create_vault(
        &mut ws,
        &keyvault::CreateVault {
            name: VAULT.into(),
            resource_group: RG.into(),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert_eq!(e.code, "VaultAlreadyExists");
    let e = keyvault::create_vault(
        &mut ws,
        &keyvault::CreateVault {
            name: "kv2".into(),
            resource_group: RG.into(),
            retention_days: Some(3),
            soft_delete: Some(true),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert_eq!(e.code, "BadRequest");
    let e = sql::create_database(
        &mut ws,
        &sql::CreateDatabase::new(SERVER, "sales", ServiceTier::GeneralPurpose, 32),
    )
    .unwrap_err();
    assert_eq!(e.code, "DatabaseAlreadyExists");
    let e = sql::delete_server_key(&mut ws, SERVER, "ServiceManaged").unwrap_err();
    assert_eq!(e.code, "AzureKeyVaultKeyInUse");
    let e =
        keyvault::set_access_policy(&mut ws, "nope", &PrincipalId("x".into()), &BTreeSet::new())
            .unwrap_err();
    assert_eq!(e.code, "ResourceNotFound");
    assert!(ws == before);
}
