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

// ---------------------------------------------------------------------------------------
// Synapse workspaces with double encryption (service::synapse)
// ---------------------------------------------------------------------------------------

mod synapse {
    use super::*;
    use tde_console::service::synapse as syn;
    use tde_console::shell::Shell;

    const G: &str = "rg-syn";
    const W: &str = "synws01";
    const URL1: &str = "https://kv-syn-01.vault.azure.net/keys/wskey";
    const URL2: &str = "https://kv-syn-01.vault.azure.net/keys/wskey2";

    fn az(sh: &mut Shell, ws: &mut Workspace, line: &str) -> String {
        let r = sh.run_line(ws, line);
        assert!(r.ok, "{line}: {}", r.stderr);
        r.stdout.trim().to_string()
    }

    /// A group, an ADLS Gen2 account with a file system, a purge-protected vault with two
    /// RSA keys, and a workspace created with the first (awaiting activation).
    fn world(purge_protection: bool) -> (Shell, Workspace) {
        let mut sh = Shell::new().with_keys(FixtureKeys::boxed());
        let mut ws = service::new_workspace("t", 3);
        for line in [
            format!("az group create -n {G} -l eastus"),
            format!("az storage account create -n adlssyn01 -g {G} --kind StorageV2 --hns true"),
            "az storage fs create -n users --account-name adlssyn01".into(),
            format!(
                "az keyvault create -n kv-syn-01 -g {G} -l eastus --enable-purge-protection {purge_protection}"
            ),
            "az keyvault key create --vault-name kv-syn-01 -n wskey --kty RSA --size 2048".into(),
            "az keyvault key create --vault-name kv-syn-01 -n wskey2 --kty RSA --size 2048".into(),
        ] {
            az(&mut sh, &mut ws, &line);
        }
        let w = create(&mut ws, Some(URL1)).expect("workspace");
        assert_eq!(w.cmk_status, Some(CmkStatus::AwaitingUserAction));
        (sh, ws)
    }

    fn create(ws: &mut Workspace, url: Option<&str>) -> Result<SynapseWorkspace, ServiceError> {
        syn::create_workspace(
            ws,
            &syn::CreateWorkspace {
                name: W.into(),
                resource_group: G.into(),
                storage_account: "adlssyn01".into(),
                file_system: "users".into(),
                sql_admin_login_user: "cliuser1".into(),
                sql_admin_login_password: "Pa55w0rd!123".into(),
                key_identifier: url.map(str::to_string),
                key_name: Some("wskey".into()),
                ..Default::default()
            },
        )
    }

    fn grant(sh: &mut Shell, ws: &mut Workspace) {
        let p = ws.synapse.workspace(W).unwrap().principal_id.0.clone();
        az(
            sh,
            ws,
            &format!(
                "az keyvault set-policy -n kv-syn-01 --object-id {p} --key-permissions get wrapKey unwrapKey"
            ),
        );
    }

    fn activated() -> (Shell, Workspace) {
        let (mut sh, mut ws) = world(true);
        grant(&mut sh, &mut ws);
        syn::activate(&mut ws, W, G, "wskey", URL1).unwrap();
        behaviour::advance(&mut ws, Duration::minutes(3)).unwrap();
        assert_eq!(status(&ws), Some(CmkStatus::Consistent));
        (sh, ws)
    }

    fn status(ws: &Workspace) -> Option<CmkStatus> {
        ws.synapse.workspace(W).unwrap().cmk_status
    }

    fn pool(ws: &mut Workspace, name: &str) -> Result<SynapseSqlPool, ServiceError> {
        syn::create_pool(
            ws,
            &syn::CreatePool {
                workspace: W.into(),
                resource_group: G.into(),
                name: name.into(),
                performance_level: "DW100c".into(),
                ..Default::default()
            },
        )
    }

    /// Asserts `op` fails with `code` and changes nothing but the vault's request journal.
    fn refused<T: std::fmt::Debug>(
        ws: &mut Workspace,
        code: &str,
        op: impl FnOnce(&mut Workspace) -> Result<T, ServiceError>,
    ) -> ServiceError {
        let before = ws.clone();
        let e = op(ws).expect_err("refused");
        assert_eq!(e.code, code, "{e}");
        let mut after = ws.clone();
        after.journal = before.journal.clone();
        assert!(
            after == before,
            "a refused operation changed the workspace ({e})"
        );
        e
    }

    #[test]
    fn a_workspace_needs_an_existing_adls_gen2_account_and_file_system() {
        let (mut sh, mut ws) = world(true);
        syn::delete_workspace(&mut ws, W, G).unwrap();
        let mut req = syn::CreateWorkspace {
            name: W.into(),
            resource_group: G.into(),
            storage_account: "nosuchacct".into(),
            file_system: "users".into(),
            sql_admin_login_user: "u".into(),
            sql_admin_login_password: "p".into(),
            ..Default::default()
        };
        let e = refused(&mut ws, "ResourceNotFound", |ws| {
            syn::create_workspace(ws, &req)
        });
        assert!(
            e.message
                .contains("Microsoft.Storage/storageAccounts/nosuchacct")
        );
        req.storage_account = "adlssyn01".into();
        req.file_system = "missing".into();
        let e = refused(&mut ws, "FilesystemNotFound", |ws| {
            syn::create_workspace(ws, &req)
        });
        assert_eq!(e.message, "The specified filesystem does not exist.");
        // A blob account without a hierarchical namespace is not Data Lake Storage Gen2.
        az(
            &mut sh,
            &mut ws,
            &format!("az storage account create -n blobonly01 -g {G} --kind StorageV2"),
        );
        az(
            &mut sh,
            &mut ws,
            "az storage fs create -n users --account-name blobonly01",
        );
        req.storage_account = "blobonly01".into();
        req.file_system = "users".into();
        refused(&mut ws, "InvalidStorageAccount", |ws| {
            syn::create_workspace(ws, &req)
        });
        req.storage_account = "adlssyn01".into();
        let w = syn::create_workspace(&mut ws, &req).unwrap();
        assert!(!w.double_encryption && w.cmk_status.is_none());
    }

    #[test]
    fn pools_wait_for_activation_which_needs_get_wrap_unwrap_and_finishes_later() {
        let (mut sh, mut ws) = world(true);
        let e = refused(&mut ws, "WorkspaceActivationRequired", |ws| pool(ws, "p1"));
        assert!(e.message.starts_with("Workspace needs to be activated"));
        // No access yet: the vault's own refusal, nothing changes.
        let e = refused(&mut ws, "Forbidden", |ws| {
            syn::activate(ws, W, G, "wskey", URL1)
        });
        assert!(e.message.contains("does not have keys"), "{e}");
        grant(&mut sh, &mut ws);
        let k = syn::activate(&mut ws, W, G, "wskey", URL1).unwrap();
        // The PUT answers isActiveCMK false; about two minutes later the workspace is Consistent.
        assert!(!k.is_active_cmk);
        assert_eq!(status(&ws), Some(CmkStatus::AwaitingUserAction));
        behaviour::advance(&mut ws, Duration::minutes(1)).unwrap();
        assert_eq!(status(&ws), Some(CmkStatus::AwaitingUserAction));
        behaviour::advance(&mut ws, Duration::minutes(2)).unwrap();
        assert_eq!(status(&ws), Some(CmkStatus::Consistent));
        let w = ws.synapse.workspace(W).unwrap();
        assert!(w.key("wskey").unwrap().is_active_cmk);
        assert!(w.data_key.kid.as_deref().unwrap().starts_with(URL1));
        // The data reads back through the vault's unwrapKey and the platform layer.
        let rows = syn::read_workspace_data(&ws, W, G).unwrap();
        assert!(rows[0].starts_with("synws01|page 0|"));
        assert_eq!(pool(&mut ws, "p1").unwrap().status, PoolStatus::Online);
    }

    #[test]
    fn activation_needs_a_purge_protected_vault() {
        let (mut sh, mut ws) = world(false);
        grant(&mut sh, &mut ws);
        refused(&mut ws, "KeyVaultPurgeProtectionNotEnabled", |ws| {
            syn::activate(ws, W, G, "wskey", URL1)
        });
    }

    #[test]
    fn rbac_and_the_firewall_apply_to_the_workspace_identity() {
        let (mut sh, mut ws) = world(true);
        az(
            &mut sh,
            &mut ws,
            "az keyvault update -n kv-syn-01 --enable-rbac-authorization true",
        );
        refused(&mut ws, "ForbiddenByRbac", |ws| {
            syn::activate(ws, W, G, "wskey", URL1)
        });
        let p = ws.synapse.workspace(W).unwrap().principal_id.0.clone();
        let scope = ws.vault("kv-syn-01").map(service::ids::vault).unwrap();
        az(
            &mut sh,
            &mut ws,
            &format!(
                "az role assignment create --role \"Key Vault Crypto Service Encryption User\" --assignee-object-id {p} --scope {scope}"
            ),
        );
        // Role assignments take a while to propagate.
        behaviour::advance(&mut ws, Duration::minutes(15)).unwrap();
        az(
            &mut sh,
            &mut ws,
            "az keyvault update -n kv-syn-01 --default-action Deny --bypass None",
        );
        refused(&mut ws, "ForbiddenByFirewall", |ws| {
            syn::activate(ws, W, G, "wskey", URL1)
        });
        az(
            &mut sh,
            &mut ws,
            "az keyvault update -n kv-syn-01 --bypass AzureServices",
        );
        syn::activate(&mut ws, W, G, "wskey", URL1).unwrap();
    }

    #[test]
    fn double_encryption_is_chosen_at_creation_only() {
        let (mut sh, mut ws) = world(true);
        syn::delete_workspace(&mut ws, W, G).unwrap();
        let w = create(&mut ws, None).unwrap();
        assert!(!w.double_encryption);
        // Keys cannot be added, and --key-name is ignored, as az ignores it.
        refused(&mut ws, "BadRequest", |ws| {
            syn::create_key(ws, W, G, "k", URL1)
        });
        let after = syn::update_key(&mut ws, W, G, "wskey").unwrap();
        assert!(!after.double_encryption && after.cmk_status.is_none());
        let text = az(
            &mut sh,
            &mut ws,
            &format!("az synapse workspace show -n {W} -g {G} --query encryption -o json"),
        );
        assert_eq!(
            text.split_whitespace().collect::<String>(),
            "{\"doubleEncryptionEnabled\":false}"
        );
    }

    #[test]
    fn a_key_switch_goes_through_updating_and_new_versions_are_not_picked_up() {
        let (mut sh, mut ws) = activated();
        let first = ws
            .synapse
            .workspace(W)
            .unwrap()
            .data_key
            .kid
            .clone()
            .unwrap();
        az(
            &mut sh,
            &mut ws,
            "az keyvault key rotate --vault-name kv-syn-01 -n wskey",
        );
        behaviour::advance(&mut ws, Duration::hours(2)).unwrap();
        assert_eq!(
            ws.synapse.workspace(W).unwrap().data_key.kid.as_deref(),
            Some(first.as_str())
        );
        syn::create_key(&mut ws, W, G, "wskey2", URL2).unwrap();
        refused(&mut ws, "CannotAddWorkspaceKey", |ws| {
            syn::create_key(ws, W, G, "dup", URL2)
        });
        refused(&mut ws, "CannotDeleteActiveWorkspaceKey", |ws| {
            syn::delete_key(ws, W, G, "wskey")
        });
        let w = syn::update_key(&mut ws, W, G, "wskey2").unwrap();
        assert_eq!(w.cmk_status, Some(CmkStatus::Updating));
        refused(&mut ws, "WorkspaceKeyUpdateInProgress", |ws| {
            syn::update_key(ws, W, G, "wskey")
        });
        behaviour::advance(&mut ws, Duration::minutes(14)).unwrap();
        assert_eq!(status(&ws), Some(CmkStatus::Updating));
        behaviour::advance(&mut ws, Duration::minutes(17)).unwrap();
        assert_eq!(status(&ws), Some(CmkStatus::Consistent));
        assert!(
            ws.synapse
                .workspace(W)
                .unwrap()
                .data_key
                .kid
                .as_deref()
                .unwrap()
                .starts_with(URL2)
        );
        // Back to the first key: now its newest version.
        syn::update_key(&mut ws, W, G, "wskey").unwrap();
        behaviour::advance(&mut ws, Duration::minutes(31)).unwrap();
        let kid = ws
            .synapse
            .workspace(W)
            .unwrap()
            .data_key
            .kid
            .clone()
            .unwrap();
        let newest = ws
            .vault("kv-syn-01")
            .unwrap()
            .key("wskey")
            .unwrap()
            .current()
            .unwrap()
            .version
            .0
            .clone();
        assert!(kid.ends_with(&newest) && kid != first, "{kid}");
        assert!(syn::read_workspace_data(&ws, W, G).is_ok());
    }

    #[test]
    fn re_encryption_needing_a_disabled_old_version_fails() {
        let (mut sh, mut ws) = activated();
        let old = ws
            .synapse
            .workspace(W)
            .unwrap()
            .data_key
            .kid
            .clone()
            .unwrap();
        syn::create_key(&mut ws, W, G, "wskey2", URL2).unwrap();
        syn::update_key(&mut ws, W, G, "wskey2").unwrap();
        az(
            &mut sh,
            &mut ws,
            &format!("az keyvault key set-attributes --id {old} --enabled false"),
        );
        behaviour::advance(&mut ws, Duration::minutes(31)).unwrap();
        assert_eq!(status(&ws), Some(CmkStatus::Failed));
        // Enabled again, the switch succeeds.
        az(
            &mut sh,
            &mut ws,
            &format!("az keyvault key set-attributes --id {old} --enabled true"),
        );
        syn::update_key(&mut ws, W, G, "wskey2").unwrap();
        behaviour::advance(&mut ws, Duration::minutes(31)).unwrap();
        assert_eq!(status(&ws), Some(CmkStatus::Consistent));
    }

    #[test]
    fn a_paused_pool_keeps_the_old_version_and_cannot_resume_without_it() {
        let (mut sh, mut ws) = activated();
        pool(&mut ws, "p1").unwrap();
        pool(&mut ws, "p2").unwrap();
        for p in ["p1", "p2"] {
            let out = syn::set_pool_tde(&mut ws, W, G, p, true).unwrap();
            assert!(out.tde_enabled && out.dek.as_ref().unwrap().kid.is_some());
        }
        let rows = syn::read_pool_data(&ws, W, G, "p2").unwrap();
        assert!(rows[0].starts_with("p2|page 0|"));
        syn::pause_pool(&mut ws, W, G, "p2").unwrap();
        refused(&mut ws, "SqlPoolIsPaused", |ws| {
            syn::set_pool_tde(ws, W, G, "p2", false)
        });
        let old = ws
            .synapse
            .workspace(W)
            .unwrap()
            .data_key
            .kid
            .clone()
            .unwrap();
        syn::create_key(&mut ws, W, G, "wskey2", URL2).unwrap();
        syn::update_key(&mut ws, W, G, "wskey2").unwrap();
        behaviour::advance(&mut ws, Duration::minutes(31)).unwrap();
        let w = ws.synapse.workspace(W).unwrap();
        // The online pool was re-wrapped, the paused one was not.
        assert!(
            w.pool("p1")
                .unwrap()
                .dek
                .as_ref()
                .unwrap()
                .kid
                .as_deref()
                .unwrap()
                .starts_with(URL2)
        );
        assert_eq!(
            w.pool("p2").unwrap().dek.as_ref().unwrap().kid.as_deref(),
            Some(old.as_str())
        );
        az(
            &mut sh,
            &mut ws,
            &format!("az keyvault key set-attributes --id {old} --enabled false"),
        );
        let e = refused(&mut ws, "AzureKeyVaultKeyDisabled", |ws| {
            syn::resume_pool(ws, W, G, "p2")
        });
        assert!(e.message.contains("disabled"));
        az(
            &mut sh,
            &mut ws,
            &format!("az keyvault key set-attributes --id {old} --enabled true"),
        );
        let p = syn::resume_pool(&mut ws, W, G, "p2").unwrap();
        assert_eq!(p.status, PoolStatus::Online);
        assert!(
            p.dek
                .as_ref()
                .unwrap()
                .kid
                .as_deref()
                .unwrap()
                .starts_with(URL2)
        );
        // TDE off decrypts the inner layer; the platform layer stays.
        let off = syn::set_pool_tde(&mut ws, W, G, "p2", false).unwrap();
        assert!(off.dek.is_none());
        assert_eq!(syn::read_pool_data(&ws, W, G, "p2").unwrap(), rows);
    }

    #[test]
    fn bad_input_is_refused_and_changes_nothing() {
        let (_sh, mut ws) = activated();
        refused(&mut ws, "InvalidKeyVaultUrl", |ws| {
            syn::create_key(
                ws,
                W,
                G,
                "k3",
                "https://kv-syn-01.vault.azure.net/secrets/x",
            )
        });
        refused(&mut ws, "InvalidPerformanceLevel", |ws| {
            syn::create_pool(
                ws,
                &syn::CreatePool {
                    workspace: W.into(),
                    resource_group: G.into(),
                    name: "p9".into(),
                    performance_level: "DW42".into(),
                    ..Default::default()
                },
            )
        });
        refused(&mut ws, "ResourceNotFound", |ws| {
            syn::pause_pool(ws, W, G, "nosuch")
        });
        refused(&mut ws, "ResourceNotFound", |ws| {
            syn::show_key(ws, W, G, "nosuch").cloned()
        });
        assert_eq!(syn::delete_key(&mut ws, W, G, "nosuch").unwrap(), None);
    }
}
