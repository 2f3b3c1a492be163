//! Workspace files: round trip, atomic save, clear errors for bad files, the demo.

use crate::common;

use common::*;
use tde_console::persist::{self, PersistError};
use tde_console::service::sql;

fn temp(name: &str) -> std::path::PathBuf {
    let dir =
        std::env::temp_dir().join(format!("tde-console-persist-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("ws.ron")
}

#[test]
fn save_load_round_trip_keeps_everything_and_pages_still_decrypt() {
    let keys = FixtureKeys::new();
    let (mut ws, kid) = setup(&keys);
    protect(&mut ws, &kid);
    let path = temp("rt");
    persist::save(&ws, &path).unwrap();
    let back = persist::load(&path).unwrap();
    assert!(back == ws, "the reloaded workspace differs");
    assert_eq!(all_pages(&back), all_pages(&ws));
    assert_eq!(all_pages(&back)[0], sql::sample_pages("sales")[0]);
    // No temporary file (or log) is left beside it: only the writers' lock file.
    let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name() != "ws.ron" && e.file_name() != ".ws.ron.lock")
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn private_keys_are_stored_as_der_in_the_vault_section_only() {
    let keys = FixtureKeys::new();
    let (ws, _) = setup(&keys);
    let text = persist::to_ron(&ws).unwrap();
    assert!(!text.contains("PRIVATE KEY"), "no PEM in workspace files");
    let dbg = format!("{ws:?}");
    assert!(
        !dbg.contains("MII"),
        "Debug output must not print key material"
    );
}

#[test]
fn garbage_truncated_and_wrong_version_files_give_clear_errors() {
    let keys = FixtureKeys::new();
    let (ws, _) = setup(&keys);
    let path = temp("bad");
    std::fs::write(&path, b"\x00\x01 this is not a workspace").unwrap();
    assert!(matches!(
        persist::load(&path),
        Err(PersistError::Corrupt { .. })
    ));
    let text = persist::to_ron(&ws).unwrap();
    std::fs::write(&path, &text[..text.len() / 2]).unwrap();
    let e = persist::load(&path).unwrap_err();
    assert!(matches!(e, PersistError::Corrupt { .. }), "{e}");
    assert!(
        e.to_string()
            .contains("not a readable tde-console workspace")
    );
    std::fs::write(
        &path,
        text.replacen("format_version: 1", "format_version: 99", 1),
    )
    .unwrap();
    let e = persist::load(&path).unwrap_err();
    assert!(
        matches!(e, PersistError::WrongVersion { found: 99, .. }),
        "{e}"
    );
    assert!(matches!(
        persist::load(&path.with_file_name("missing.ron")),
        Err(PersistError::Io { .. })
    ));
}

#[test]
fn the_built_in_demo_has_what_it_promises() {
    let ws = persist::demo().unwrap();
    let regions: std::collections::BTreeSet<&str> =
        ws.servers.iter().map(|s| s.location.as_str()).collect();
    assert!(regions.len() >= 2);
    assert!(ws.servers.len() >= 2 && ws.vaults.len() >= 2);
    let dbs: Vec<_> = ws.servers.iter().flat_map(|s| s.databases.iter()).collect();
    assert!(dbs.len() >= 6);
    assert!(
        dbs.iter()
            .any(|d| d.tier == tde_console::model::ServiceTier::GeneralPurpose)
    );
    assert!(
        dbs.iter()
            .any(|d| d.tier == tde_console::model::ServiceTier::BusinessCritical)
    );
    use tde_console::model::ServerKeyType::*;
    assert!(
        ws.servers
            .iter()
            .any(|s| s.protector.key_type == AzureKeyVault)
    );
    assert!(
        ws.servers
            .iter()
            .any(|s| s.protector.key_type == ServiceManaged)
    );
    for s in &ws.servers {
        for d in &s.databases {
            let pages = sql::read_pages(&ws, &s.name, &d.name).unwrap();
            assert_eq!(pages, sql::sample_pages(&d.name));
        }
    }
    // Business continuity: a geo-secondary in another region with identical material in its
    // own vault, a failover group over two databases, two protector intervals and more.
    let g = ws.continuity.failover_group("fg-contoso").unwrap();
    assert_eq!(g.databases.len(), 2);
    let (p, q) = (
        ws.server(&g.primary_server).unwrap(),
        ws.server(&g.secondary_server).unwrap(),
    );
    assert_ne!(p.location, q.location);
    assert_eq!(
        p.protector_key().unwrap().thumbprint,
        q.protector_key().unwrap().thumbprint
    );
    assert_ne!(
        p.protector_uri().unwrap().vault,
        q.protector_uri().unwrap().vault
    );
    let sales = p.database("sales").unwrap();
    assert!(sales.protector_history.len() >= 2);
    assert_eq!(
        tde_console::service::content::read_text(&ws, &q.name, "sales").unwrap(),
        tde_console::service::content::read_text(&ws, &p.name, "sales").unwrap()
    );
    // It survives a save and a load.
    let path = temp("demo");
    persist::save(&ws, &path).unwrap();
    assert!(persist::load(&path).unwrap() == ws);
}

/// Values the services would loop on, or lose data over, are refused when a file is opened.
#[test]
fn files_with_values_the_services_cannot_take_are_refused() {
    use tde_console::model::{Duration, RotationPolicy};
    let keys = FixtureKeys::new();
    let (mut ws, _) = setup(&keys);
    let now = ws.now();
    tde_console::service::rotation::set_rotation_policy(
        &mut ws,
        VAULT,
        KEY,
        RotationPolicy {
            rotate_after_create: Some(Duration::days(30)),
            rotate_before_expiry: None,
            notify_before_expiry: RotationPolicy::DEFAULT_NOTIFY,
            expiry_time: None,
            updated: now,
        },
    )
    .unwrap();
    let text = persist::to_ron(&ws).unwrap();
    assert!(persist::from_ron(&text, std::path::Path::new("ok.ron")).is_ok());
    let thirty = Duration::days(30).0.to_string();
    for bad in ["0", "-5", "60"] {
        let damaged = text.replace(
            &format!("rotate_after_create: Some({thirty})"),
            &format!("rotate_after_create: Some({bad})"),
        );
        assert_ne!(damaged, text);
        match persist::from_ron(&damaged, std::path::Path::new("bad.ron")) {
            Err(PersistError::Corrupt { detail, .. }) => {
                assert!(detail.contains("invalid rotation policy"), "{detail}")
            }
            other => panic!("{bad}: {other:?}"),
        }
    }
    let without_root: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("backup_root:"))
        .collect::<Vec<_>>()
        .join("\n");
    assert_ne!(without_root, text);
    match persist::from_ron(&without_root, std::path::Path::new("bad.ron")) {
        Err(PersistError::Corrupt { detail, .. }) => assert!(detail.contains("backup root")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn times_a_calendar_cannot_hold_are_refused_on_load() {
    let demo = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/assets/demo-workspace.ron"
    ));
    let origin = std::path::Path::new("edited.ron");
    for now in ["9223372036854775807", "253402300700", "-5"] {
        let text = demo.replacen("now: 1767430800", &format!("now: {now}"), 1);
        match persist::from_ron(&text, origin) {
            Err(PersistError::Corrupt { detail, .. }) => {
                assert!(detail.contains("outside 1970 to 9000"), "{detail}")
            }
            other => panic!("now {now}: {:?}", other.map(|w| w.name)),
        }
    }
}

/// The README's description of the demo counts the databases the demo really has (and the
/// status bar shows).
#[test]
fn the_readme_counts_the_demo_databases() {
    let ws = persist::demo().expect("the demo loads");
    let n: usize = ws.servers.iter().map(|s| s.databases.len()).sum();
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md is readable");
    let words = [
        "Zero", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten",
        "Eleven", "Twelve",
    ];
    let said: Vec<&str> = words
        .iter()
        .copied()
        .filter(|w| readme.contains(&format!("{w} databases")))
        .collect();
    assert_eq!(
        said,
        vec![words[n]],
        "the README says {said:?} databases; the demo has {n}"
    );
}
