//! Workspace files: round trip, atomic save, clear errors for bad files, the demo.

mod common;

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
    // No temporary file is left beside it.
    let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name() != "ws.ron")
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
}
