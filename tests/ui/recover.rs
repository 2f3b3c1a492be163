//! The Recover dialog at start: every copy of unsaved work a dead console left, by name.

use crate::common;
use crate::kit::*;

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use std::path::{Path, PathBuf};
use tde_console::persist;
use tde_console::ui::ConsoleApp;
use tde_console::ui::recovery::Recovery;

/// A console that kept `ws`'s unsaved work (opened from `file`) in `dir` and is still alive
/// while the returned value lives; its copy's path.
fn console_with_unsaved(
    dir: &Path,
    mut ws: tde_console::model::Workspace,
    file: Option<&Path>,
    rg: &str,
) -> (Recovery, PathBuf) {
    ws.bump_revision();
    tde_console::service::resources::create_resource_group(&mut ws, rg, "eastus").unwrap();
    let mut r = Recovery::in_dir(dir.to_path_buf());
    r.tick(&ws, file, true, None, 0.0);
    r.settle();
    let copy = r.copy().unwrap().to_path_buf();
    (r, copy)
}

fn changed_secs_ago(copy: &Path, secs: u64) {
    let t = std::time::SystemTime::now() - std::time::Duration::from_secs(secs);
    for p in [copy.to_path_buf(), persist::wal::path_for(copy)] {
        if let Ok(f) = std::fs::OpenOptions::new().write(true).open(&p) {
            f.set_modified(t).unwrap();
        }
    }
}

fn starting_console(dir: &Path) -> Harness<'static, ConsoleApp> {
    let dir = dir.to_path_buf();
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 720.0))
        .build_eframe(move |_cc| {
            let mut app = ConsoleApp::with_workspace(persist::demo().unwrap(), None)
                .with_keys(std::sync::Arc::new(common::FixtureKeys::new()));
            app.recovery = Recovery::in_dir(dir.clone());
            app.offer_recovery();
            app
        });
    h.run_steps(3);
    h
}

#[test]
fn the_start_offers_each_dead_consoles_copy_by_name_and_recovers_the_one_chosen() {
    let tmp = tempfile::tempdir().unwrap();
    let rec = tmp.path().join("recovery");
    let file = tmp.path().join("storm.ron");
    let mut storm = tde_console::service::new_workspace("Failover storm", 3);
    persist::save(&storm, &file).unwrap();
    // The trainer's demo console and a second console on the scenario's file both die
    // (kill -9); a third console, still running, has unsaved work of its own.
    let (demo_console, demo_copy) =
        console_with_unsaved(&rec, persist::demo().unwrap(), None, "rg-trainer");
    storm.bump_revision();
    let (storm_console, storm_copy) =
        console_with_unsaved(&rec, storm.clone(), Some(&file), "rg-storm");
    let (_alive, alive_copy) =
        console_with_unsaved(&rec, persist::demo().unwrap(), None, "rg-alive");
    drop(demo_console);
    drop(storm_console);
    changed_secs_ago(&demo_copy, 65);
    changed_secs_ago(&storm_copy, 3 * 60 + 5);

    let mut h = starting_console(&rec);
    assert!(has(&h, "Recover unsaved work?"));
    assert!(has(&h, "Contoso demo — the built-in demo"));
    assert!(
        has(&h, "last changed 1 minute ago"),
        "one minute, not '1 minutes'"
    );
    let storm_title = format!(
        "Failover storm — {}",
        std::fs::canonicalize(&file).unwrap().display()
    );
    assert!(has(&h, &storm_title));
    assert!(has(&h, "last changed 3 minutes ago"));
    // The live console's copy is not offered: two demos would be listed otherwise.
    assert_eq!(
        h.query_all_by_label_contains("the built-in demo").count(),
        1
    );
    assert_eq!(h.get_all_by_label("Recover").count(), 2);

    // Discarding the storm's copy removes only it; recovering the demo's opens it.
    h.get_all_by_label("Discard").nth(1).unwrap().click();
    h.run_steps(3);
    assert!(!storm_copy.exists());
    assert!(!has(&h, &storm_title));
    click(&mut h, "Recover");
    wait_until(&mut h, "the recovered copy", |app| {
        app.ws
            .resource_groups
            .iter()
            .any(|g| g.name == "rg-trainer")
    });
    assert!(h.state().unsaved(), "recovered work is unsaved work");
    assert!(demo_copy.exists(), "the copy stays until the work is saved");
    assert!(alive_copy.exists(), "the live console's copy is untouched");
}

#[test]
fn a_console_started_on_a_file_still_offers_the_copies() {
    let tmp = tempfile::tempdir().unwrap();
    let rec = tmp.path().join("recovery");
    let file = tmp.path().join("class.ron");
    persist::save(&persist::demo().unwrap(), &file).unwrap();
    let (dead, _) = console_with_unsaved(&rec, persist::demo().unwrap(), None, "rg-trainer");
    drop(dead);
    let mut h = starting_console(&rec);
    h.state_mut().start_load(file.clone());
    wait_until(&mut h, "the file", |app| app.doc.path.is_some());
    assert!(
        has(&h, "Contoso demo — the built-in demo"),
        "opening the file named on the command line closed the Recover dialog"
    );
}
