//! Benchmarks for the vault's audit log at the size the issue names (100,000 records): one
//! frame of the Logs blade, rebuilding its filtered view, a burst meeting the service
//! limits, and saving a workspace that holds the journal. `cargo bench --bench vault`.

use criterion::{Criterion, criterion_group, criterion_main};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use std::hint::black_box;
use tde_console::model::*;
use tde_console::service::{diagnostics, requests};
use tde_console::ui::ConsoleApp;

const VAULT: &str = "kv-contoso-eu";
const KEY: &str = "eu-tde-key";

/// The demo with auditing on and 100,000 requests in the vault's audit log.
fn audited_demo() -> Workspace {
    let mut ws = tde_console::persist::demo().expect("demo");
    diagnostics::create_setting(
        &mut ws,
        VAULT,
        DiagnosticSetting {
            name: "audit".into(),
            audit_event: true,
            destination: "law".into(),
        },
    )
    .expect("setting");
    requests::burst(
        &mut ws,
        VAULT,
        KEY,
        requests::BurstOperation::Get,
        100_000,
        50,
    )
    .expect("burst");
    assert_eq!(diagnostics::audit_log(&ws, VAULT).len(), 100_000);
    ws
}

fn benches(c: &mut Criterion) {
    let ws = audited_demo();

    let mut h = Harness::builder()
        .with_size(egui::vec2(1500.0, 950.0))
        .build_eframe(|_cc| ConsoleApp::with_workspace(ws.clone(), None));
    h.run_steps(2);
    h.get_by_label(VAULT).click();
    h.run_steps(5);
    h.get_by_label("Logs").click();
    h.run_steps(5);
    assert!(h.query_by_label_contains("100000 records").is_some());
    c.bench_function("Logs blade: one frame with 100,000 audit records", |b| {
        b.iter(|| h.step())
    });

    c.bench_function(
        "Logs blade: rebuild the view of 100,000 records (a filter changed)",
        |b| {
            b.iter(|| {
                let mut view = tde_console::ui::blades::LogsView::default();
                view.result = tde_console::ui::blades::ResultFilter::Failure;
                view.refresh(&ws, VAULT).expect("filters");
                black_box(view.shown())
            })
        },
    );

    let fresh = tde_console::persist::demo().expect("demo");
    c.bench_function(
        "5,000 requests at once against a 2,000 / 10 s limit (429s)",
        |b| {
            b.iter(|| {
                // A clone's journal is its own: iterations never fill each other's windows.
                let mut w = fresh.clone();
                black_box(
                    requests::burst(&mut w, VAULT, KEY, requests::BurstOperation::Get, 5_000, 0)
                        .expect("burst"),
                )
            })
        },
    );

    let path = std::env::temp_dir().join("tde-console-bench-journal.ron");
    c.bench_function("save a workspace holding 100,000 journal records", |b| {
        b.iter(|| tde_console::persist::save(&ws, &path).expect("save"))
    });
    c.bench_function("load a workspace holding 100,000 journal records", |b| {
        b.iter(|| black_box(tde_console::persist::load(&path).expect("load")))
    });
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    println!(
        "workspace file with 100,000 journal records: {} KiB",
        size / 1024
    );
}

criterion_group! {
    name = vault_benches;
    config = Criterion::default().sample_size(10).measurement_time(std::time::Duration::from_secs(3));
    targets = benches
}
criterion_main!(vault_benches);
