//! Vault-side rotation: `az keyvault key rotate`, rotation policies run by the clock, and
//! near-expiry / expired events; a TDE server with auto-rotation follows.

use crate::common;

use common::*;
use tde_console::model::*;
use tde_console::service::{self, diagnostics, rotation, tde};
use tde_console::shell::Shell;

fn shell() -> Shell {
    Shell::new().with_keys(FixtureKeys::boxed())
}

/// A policy rotating `after` days after creation, versions expiring after `expiry` days.
fn rotate_every(after: i64, expiry: Option<i64>) -> RotationPolicy {
    RotationPolicy {
        rotate_after_create: Some(Duration::days(after)),
        rotate_before_expiry: None,
        notify_before_expiry: RotationPolicy::DEFAULT_NOTIFY,
        expiry_time: expiry.map(Duration::days),
        updated: Timestamp(0),
    }
}

#[test]
fn policies_follow_the_rules_and_bad_ones_change_nothing() {
    let keys = FixtureKeys::new();
    let (mut ws, _) = setup(&keys);
    let mut sh = shell();
    let ok = sh.run_line(&mut ws, &format!(r#"az keyvault key rotation-policy update --vault-name {VAULT} --name {KEY} --value '{{"lifetimeActions":[{{"trigger":{{"timeAfterCreate":"P90D"}},"action":{{"type":"Rotate"}}}},{{"trigger":{{"timeBeforeExpiry":"P30D"}},"action":{{"type":"Notify"}}}}],"attributes":{{"expiryTime":"P1Y"}}}}' --query "lifetimeActions[0].trigger.timeAfterCreate" -o tsv"#));
    assert!(ok.ok, "{}", ok.stderr);
    assert_eq!(ok.stdout, "P90D\n");
    for (value, words) in [
        (
            r#"{"lifetimeActions":[{"trigger":{"timeAfterCreate":"P3D"},"action":{"type":"Rotate"}}]}"#,
            "at most every 7 days",
        ),
        (
            r#"{"lifetimeActions":[],"attributes":{"expiryTime":"P20D"}}"#,
            "at least 28 days",
        ),
        (
            r#"{"lifetimeActions":[{"trigger":{"timeAfterCreate":"soon"},"action":{"type":"Rotate"}}]}"#,
            "ISO 8601",
        ),
    ] {
        let before = ws.clone();
        let r = sh.run_line(&mut ws, &format!("az keyvault key rotation-policy update --vault-name {VAULT} --name {KEY} --value '{value}'"));
        assert!(r.stderr.contains(words), "{value}: {}", r.stderr);
        assert!(unchanged_but_its_trace(&ws, &before).is_some());
    }
    // Manual rotation: a new version of the same size, expiring after expiryTime.
    let r = sh.run_line(
        &mut ws,
        &format!("az keyvault key rotate --vault-name {VAULT} --name {KEY} -o none"),
    );
    assert!(r.ok, "{}", r.stderr);
    let k = ws.vault(VAULT).unwrap().key(KEY).unwrap();
    assert_eq!(k.versions.len(), 2);
    let cur = k.current().unwrap();
    assert_eq!(cur.material.bits(), 2048);
    assert_eq!(cur.expires, Some(ws.now() + Duration::days(365)));
}

#[test]
fn the_clock_rotates_by_policy_and_a_tde_server_with_auto_rotation_follows() {
    let keys = FixtureKeys::new();
    let (mut ws, kid) = setup(&keys);
    grant_tde(&mut ws);
    tde_console::service::sql::add_server_key(&mut ws, SERVER, &kid).unwrap();
    tde::set_protector(
        &mut ws,
        &tde::SetProtector {
            server: SERVER.into(),
            key_type: ServerKeyType::AzureKeyVault,
            kid: Some(kid.clone()),
            auto_rotation: true,
        },
    )
    .unwrap();
    // The notification names the key and its vault as the portal does, not the server
    // key's raw `<vault>_<key>_<version>` name.
    let updated = ws
        .notifications
        .iter()
        .rfind(|n| n.title == "TDE protector updated")
        .expect("a notification");
    let version = &kid.rsplit('/').next().unwrap()[..8];
    assert_eq!(
        updated.text,
        format!(
            "Server '{SERVER}' now uses key '{KEY}' (version {version}) in vault '{VAULT}' as its TDE protector."
        )
    );
    rotation::set_rotation_policy(&mut ws, VAULT, KEY, rotate_every(30, None)).unwrap();
    service::behaviour::advance(&mut ws, Duration::days(29)).unwrap();
    assert_eq!(ws.vault(VAULT).unwrap().key(KEY).unwrap().versions.len(), 1);
    service::behaviour::advance(&mut ws, Duration::days(1)).unwrap();
    let k = ws.vault(VAULT).unwrap().key(KEY).unwrap();
    assert_eq!(k.versions.len(), 2, "rotated 30 days after creation");
    let new_version = k.current().unwrap().version.clone();
    assert!(
        ws.notifications
            .iter()
            .any(|n| n.title == "Key rotated by policy")
    );
    // The server follows within its window (60 minutes under the 2021 profile).
    service::behaviour::advance(&mut ws, Duration::minutes(61)).unwrap();
    let uri = ws.server(SERVER).unwrap().protector_uri().unwrap();
    assert_eq!(uri.version.as_deref(), Some(new_version.0.as_str()));
    assert_eq!(status(&ws, "sales"), "Online");
}

#[test]
fn near_expiry_and_expired_events_reach_notifications_and_the_audit_log() {
    let keys = FixtureKeys::new();
    let (mut ws, _) = setup(&keys);
    diagnostics::create_setting(
        &mut ws,
        VAULT,
        DiagnosticSetting {
            name: "audit".into(),
            audit_event: true,
            destination: "law".into(),
        },
    )
    .unwrap();
    let exp = ws.now() + Duration::days(40);
    service::keyvault::set_key_attributes(
        &mut ws,
        VAULT,
        KEY,
        None,
        &service::keyvault::KeyAttributes {
            expires: Some(Some(exp)),
            ..Default::default()
        },
    )
    .unwrap();
    service::behaviour::advance(&mut ws, Duration::days(9)).unwrap();
    assert!(
        !ws.notifications
            .iter()
            .any(|n| n.title == "Key near expiry")
    );
    service::behaviour::advance(&mut ws, Duration::days(2)).unwrap();
    assert!(
        ws.notifications
            .iter()
            .any(|n| n.title == "Key near expiry"),
        "30 days before expiry"
    );
    service::behaviour::advance(&mut ws, Duration::days(30)).unwrap();
    assert!(ws.notifications.iter().any(|n| n.title == "Key expired"));
    let ops: Vec<String> = diagnostics::audit_log(&ws, VAULT)
        .into_iter()
        .filter(|r| r.caller.display == "Azure Key Vault")
        .map(|r| r.operation)
        .collect();
    assert_eq!(
        ops,
        [
            "KeyNearExpiryEventGridNotification",
            "KeyExpiredEventGridNotification"
        ]
    );
    // Raised once each, not on every later tick.
    service::behaviour::advance(&mut ws, Duration::days(30)).unwrap();
    assert_eq!(
        ws.notifications
            .iter()
            .filter(|n| n.title == "Key expired")
            .count(),
        1
    );
}

#[test]
fn policy_rotations_take_their_key_material_from_the_key_source() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    /// Fixture keys, counted.
    struct Counted(FixtureKeys, AtomicUsize);
    impl service::KeySource for Counted {
        fn generate(
            &self,
            bits: usize,
        ) -> Result<tde_console::crypto::RsaKeyMaterial, tde_console::crypto::CryptoError> {
            self.1.fetch_add(1, Ordering::Relaxed);
            self.0.generate(bits)
        }
    }
    let keys = FixtureKeys::new();
    let (mut ws, _) = setup(&keys);
    rotation::set_rotation_policy(&mut ws, VAULT, KEY, rotate_every(30, None)).unwrap();
    let source = Counted(FixtureKeys::new(), AtomicUsize::new(0));
    service::behaviour::advance_with(&mut ws, Duration::days(365), &source).unwrap();
    let k = ws.vault(VAULT).unwrap().key(KEY).unwrap();
    assert_eq!(
        k.versions.len(),
        13,
        "twelve rotations in a year of 30-day periods"
    );
    assert_eq!(
        source.1.load(Ordering::Relaxed),
        12,
        "every rotation's key came from the key source, none from elsewhere"
    );
}

#[test]
fn a_decade_of_weekly_rotations_is_refused_in_one_advance_with_how_far_to_go() {
    let keys = FixtureKeys::new();
    let (mut ws, _) = setup(&keys);
    rotation::set_rotation_policy(&mut ws, VAULT, KEY, rotate_every(7, Some(28))).unwrap();
    let before = ws.clone();
    let err = service::behaviour::advance_with(&mut ws, Duration::days(3650), &keys).unwrap_err();
    assert_eq!(err.code, "InvalidArgument");
    assert!(err.message.contains("Advance at most"), "{}", err.message);
    assert!(ws == before, "nothing changed");
    // The stretch it names is accepted, each version a real key.
    let days: i64 = err
        .message
        .split("Advance at most ")
        .nth(1)
        .and_then(|t| t.split(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("a number of days");
    service::behaviour::advance_with(&mut ws, Duration::days(days), &keys).unwrap();
    let versions = ws.vault(VAULT).unwrap().key(KEY).unwrap().versions.len();
    assert!(versions > 250, "{versions}");
}
