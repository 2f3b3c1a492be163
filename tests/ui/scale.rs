//! The app over an estate of 50,000 databases, driven as a person would: expand the
//! navigator, open a server, advance the clock, and the window keeps answering while a heal
//! of a thousand databases runs on a worker thread.

use crate::common;

use common::FixtureKeys;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use std::time::{Duration as WallTime, Instant};
use tde_console::model::*;
use tde_console::service::estate::{self, EstateSpec};
use tde_console::service::{self, keyvault};
use tde_console::ui::ConsoleApp;

fn click(h: &mut Harness<'static, ConsoleApp>, label: &str) {
    h.get_all_by_label(label)
        .next()
        .unwrap_or_else(|| panic!("no widget labelled '{label}'"))
        .click();
    h.run_steps(3);
}

fn wait_idle(h: &mut Harness<'static, ConsoleApp>) {
    for _ in 0..3000 {
        h.step();
        if !h.state().busy() {
            return;
        }
        std::thread::sleep(WallTime::from_millis(10));
    }
    panic!("the job never finished");
}

fn not_online(ws: &Workspace, server: &str) -> usize {
    ws.server(server)
        .map(|s| s.databases.iter().filter(|d| !d.state.is_online()).count())
        .unwrap_or(0)
}

/// How many of `server`'s databases follow its protector (one in fifty has its own key).
fn following(ws: &Workspace, server: &str) -> usize {
    ws.server(server)
        .map(|s| {
            s.databases
                .iter()
                .filter(|d| d.encryption_protector.is_none())
                .count()
        })
        .unwrap_or(0)
}

/// The vault key protecting `server`.
fn protector_key(ws: &Workspace, server: &str) -> KeyUri {
    ws.server(server)
        .and_then(|s| s.protector_uri())
        .expect("a customer-managed protector")
}

fn set_enabled(ws: &mut Workspace, uri: &KeyUri, enabled: bool) {
    let attrs = keyvault::KeyAttributes {
        enabled: Some(enabled),
        ..Default::default()
    };
    keyvault::set_key_attributes(ws, &uri.vault, &uri.key, None, &attrs).expect("attributes");
}

#[test]
fn fifty_thousand_databases_stay_interactive_while_a_heal_runs() {
    let t0 = Instant::now();
    let mut ws = service::new_workspace("estate", 9);
    let spec = EstateSpec {
        servers: 100,
        databases_per_server: 500,
        vaults: 50,
        key_size: 2048,
        seed: 3,
    };
    let report = estate::generate(&mut ws, &spec, &FixtureKeys::new()).expect("estate");
    assert_eq!(report.databases, 50_000);
    eprintln!("generated in {:?}", t0.elapsed());
    let server = ws
        .servers
        .iter()
        .find(|s| s.protector.key_type == ServerKeyType::AzureKeyVault)
        .map(|s| s.name.clone())
        .expect("a customer-managed server");
    let uri = protector_key(&ws, &server);
    // Every server whose protector lives in that vault key breaks with it.
    let broken: Vec<String> = ws
        .servers
        .iter()
        .filter(|s| s.protector_uri().is_some_and(|u| u.vault == uri.vault))
        .map(|s| s.name.clone())
        .collect();
    set_enabled(&mut ws, &uri, false);

    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 720.0))
        .build_eframe(move |_cc| ConsoleApp::with_workspace(ws, None));
    h.run_steps(2);

    // The navigator: servers of 500 databases start closed; "Expand all" opens them all,
    // and only the rows in view are laid out.
    assert!(h.query_by_label("db-0007").is_none());
    click(&mut h, "Expand all");
    assert!(h.query_by_label("db-0007").is_some());
    let t = Instant::now();
    h.run_steps(10);
    let per_frame = t.elapsed() / 10;
    assert!(
        per_frame < WallTime::from_millis(500),
        "a frame with 50,000 databases in the navigator took {per_frame:?}"
    );

    eprintln!("navigator at {:?}", t0.elapsed());
    // Open the server: its blade lists 500 databases.
    click(&mut h, &server);
    assert!(h.query_by_label("Databases (500)").is_some());

    // Twenty minutes later the server has noticed: its databases are Inaccessible.
    for _ in 0..2 {
        click(&mut h, "+10m");
        wait_idle(&mut h);
    }
    for s in &broken {
        let ws = &h.state().ws;
        assert_eq!(not_online(ws, s), following(ws, s), "{s} is down");
    }
    let down = following(&h.state().ws, &server);
    let banner = format!("{down} of 500 databases are Inaccessible.");
    assert!(h.query_by_label(&banner).is_some(), "{banner}");

    eprintln!("inaccessible at {:?}", t0.elapsed());
    // The key comes back; "+1h" heals every database on a worker thread, and the window
    // answers between frames meanwhile.
    set_enabled(&mut h.state_mut().ws, &uri, true);
    h.get_by_label("+1h").click();
    h.step();
    assert!(h.state().busy(), "the advance runs as a job");
    let mut frames_while_busy = 0;
    let mut slowest = WallTime::ZERO;
    while h.state().busy() {
        let t = Instant::now();
        h.step();
        slowest = slowest.max(t.elapsed());
        frames_while_busy += 1;
        assert!(frames_while_busy < 20_000, "the heal never finished");
        std::thread::sleep(WallTime::from_millis(5));
    }
    assert!(frames_while_busy > 0);
    eprintln!(
        "healed at {:?} ({frames_while_busy} frames, slowest {slowest:?})",
        t0.elapsed()
    );
    assert!(
        slowest < WallTime::from_millis(1000),
        "the slowest frame during the heal took {slowest:?}"
    );
    h.run_steps(2);
    for s in &broken {
        assert_eq!(not_online(&h.state().ws, s), 0, "{s} healed");
    }
    assert!(h.query_by_label(&banner).is_none());
}
