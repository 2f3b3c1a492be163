//! Rendered snapshots of the real app at 1280x720 (wgpu on the CPU: Mesa's lavapipe), the
//! size a trainer projects: the TDE blade, the key blade marking the version in use, a
//! database Inaccessible with its recovery wizard, the Activity Log with its filters, a
//! vault's Metrics, the light theme at 200 %, the topology of a revocation, and the
//! Scenarios panel with the History. Each is compared with the PNG in
//! `tests/snapshots/` within egui_kittest's tolerance; `UPDATE_SNAPSHOTS=1 cargo test
//! --test snapshots` rewrites them after an intended change (README screenshots are copies).

#[path = "../common/mod.rs"]
mod common;

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use std::sync::Arc;
use tde_console::model::{PrincipalId, Workspace};
use tde_console::service::{self, KeySource, behaviour, keyvault, rotation};
use tde_console::sim::Duration;
use tde_console::ui::ConsoleApp;
use tde_console::ui::blades::BladeKind;

fn demo() -> Workspace {
    tde_console::persist::demo().expect("the demo loads")
}

fn harness(ws: Workspace) -> Harness<'static, ConsoleApp> {
    Harness::builder()
        .with_size(egui::vec2(1280.0, 720.0))
        .with_render_cursor(false)
        .build_eframe(move |_cc| {
            ConsoleApp::with_workspace(ws, None).with_keys(Arc::new(common::FixtureKeys::new()))
        })
}

fn open(h: &mut Harness<'static, ConsoleApp>, kind: BladeKind) {
    h.state_mut().open_root(kind);
    h.run_steps(4);
}

/// The demo with sql-contoso-us's identity removed from kv-contoso-us and 20 minutes
/// passed: its databases are Inaccessible.
fn revoked() -> Workspace {
    let mut ws = demo();
    let principal: PrincipalId = ws
        .server("sql-contoso-us")
        .and_then(|s| s.identity.as_ref())
        .map(|i| i.principal_id.clone())
        .expect("the demo server has an identity");
    keyvault::delete_access_policy(&mut ws, "kv-contoso-us", &principal).unwrap();
    let keys = common::FixtureKeys::new();
    behaviour::advance_with(&mut ws, Duration::minutes(20), &keys).unwrap();
    ws
}

#[test]
fn tde_blade() {
    let ws = demo();
    let form = tde_console::ui::blades::TdeForm::for_server(&ws, "sql-contoso-us");
    let mut h = harness(ws);
    open(
        &mut h,
        BladeKind::ServerTde {
            server: "sql-contoso-us".into(),
            form,
        },
    );
    h.snapshot("tde-blade");
}

#[test]
fn key_version_blade_marks_the_protector() {
    let mut ws = demo();
    let bits = rotation::current_bits(&ws, "kv-contoso-us", "tde-protector").unwrap();
    let m = common::FixtureKeys::new().generate(bits).unwrap();
    rotation::rotate_key(&mut ws, "kv-contoso-us", "tde-protector", m).unwrap();
    let version =
        service::dependents::version_in_use(&ws, "kv-contoso-us", "tde-protector").unwrap();
    let mut h = harness(ws);
    open(
        &mut h,
        BladeKind::KeyVersion {
            vault: "kv-contoso-us".into(),
            key: "tde-protector".into(),
            version,
            message: None,
        },
    );
    assert!(
        h.query_all_by_label_contains("TDE protector of sql-contoso-us")
            .next()
            .is_some()
    );
    h.snapshot("key-version-protector");
}

#[test]
fn inaccessible_database_with_the_recovery_wizard() {
    let mut h = harness(revoked());
    open(
        &mut h,
        BladeKind::Database {
            server: "sql-contoso-us".into(),
            db: "sales".into(),
            message: None,
        },
    );
    assert!(
        h.query_all_by_label_contains("Step 1 of 2")
            .next()
            .is_some()
    );
    h.snapshot("database-inaccessible-wizard");
}

#[test]
fn activity_log_with_filters() {
    let mut ws = revoked();
    // Late records about the failures become visible.
    behaviour::advance_with(&mut ws, Duration::minutes(40), &common::FixtureKeys::new()).unwrap();
    let mut h = harness(ws);
    open(&mut h, BladeKind::ActivityLog);
    assert!(
        h.query_all_by_label_contains("Update key vault (access policy)")
            .next()
            .is_some(),
        "the change that caused it is in the log"
    );
    h.snapshot("activity-log");
}

#[test]
fn vault_metrics() {
    let mut h = harness(revoked());
    open(
        &mut h,
        BladeKind::VaultMetrics {
            vault: "kv-contoso-us".into(),
        },
    );
    h.snapshot("vault-metrics");
}

#[test]
fn light_theme_at_200_percent() {
    let mut h = harness(demo());
    h.state_mut()
        .presentation
        .set(2.0, tde_console::ui::presentation::Look::Light);
    h.run_steps(2);
    open(
        &mut h,
        BladeKind::Database {
            server: "sql-contoso-us".into(),
            db: "sales".into(),
            message: None,
        },
    );
    h.snapshot("light-theme-200");
}

#[test]
fn topology_of_a_revocation() {
    let mut h = harness(revoked());
    open(&mut h, BladeKind::Topology);
    assert!(
        h.query_all_by_label_contains("4 Inaccessible")
            .next()
            .is_some()
    );
    h.snapshot("topology");
}

/// The app at 200 % in `look` (640x360 points on 1280x720), as a projector shows it.
fn at_200(
    ws: Workspace,
    look: tde_console::ui::presentation::Look,
) -> Harness<'static, ConsoleApp> {
    let mut h = harness(ws);
    h.state_mut().presentation.set(2.0, look);
    h.run_steps(3);
    h
}

fn topology_200(look: tde_console::ui::presentation::Look, name: &str) {
    let mut h = at_200(revoked(), look);
    open(&mut h, BladeKind::Topology);
    assert!(
        h.query_all_by_label_contains("4 Inaccessible")
            .next()
            .is_some()
    );
    h.snapshot(name);
}

#[test]
fn topology_at_200_percent_light() {
    topology_200(
        tde_console::ui::presentation::Look::Light,
        "topology-200-light",
    );
}

#[test]
fn topology_at_200_percent_high_contrast() {
    topology_200(
        tde_console::ui::presentation::Look::HighContrast,
        "topology-200-high-contrast",
    );
}

/// The demo with a dedicated SQL pool (paused) on sql-contoso-us, a Synapse workspace
/// waiting for activation, and an activated one with a paused SQL pool.
fn with_pools_and_workspaces() -> Workspace {
    let mut ws = demo();
    let mut sh = tde_console::shell::Shell::new().with_keys(common::FixtureKeys::boxed());
    let group = ws.server("sql-contoso-us").unwrap().resource_group.clone();
    let mut run = |ws: &mut Workspace, line: &str| {
        let r = sh.run_line(ws, line);
        assert!(r.ok, "{line}: {}", r.stderr);
        r.stdout.trim().to_string()
    };
    run(
        &mut ws,
        &format!(
            "az sql dw create --name dwpool1 -g {group} --server sql-contoso-us --service-objective DW100c"
        ),
    );
    run(
        &mut ws,
        &format!("az sql dw pause --name dwpool1 -g {group} --server sql-contoso-us"),
    );
    for line in [
        "az group create -n rg-syn -l eastus",
        "az storage account create -n adlssyn01 -g rg-syn --kind StorageV2 --hns true",
        "az storage fs create -n users --account-name adlssyn01",
        "az keyvault create -n kv-syn-01 -g rg-syn -l eastus --enable-purge-protection true",
        "az keyvault key create --vault-name kv-syn-01 -n wskey --kty RSA --size 2048",
        "az keyvault key create --vault-name kv-syn-01 -n wskey2 --kty RSA --size 2048",
        "az synapse workspace create -n synws01 -g rg-syn --storage-account adlssyn01 --file-system users -u cliuser1 -p Pa55w0rd!123 --key-name wskey --cmk https://kv-syn-01.vault.azure.net/keys/wskey",
        "az synapse workspace create -n synws02 -g rg-syn --storage-account adlssyn01 --file-system users -u cliuser1 -p Pa55w0rd!123 --key-name wskey2 --cmk https://kv-syn-01.vault.azure.net/keys/wskey2",
    ] {
        run(&mut ws, line);
    }
    let principal = run(
        &mut ws,
        "az synapse workspace show -n synws02 -g rg-syn --query identity.principalId -o tsv",
    );
    for line in [
        format!("az keyvault set-policy -n kv-syn-01 --object-id {principal} --key-permissions get wrapKey unwrapKey"),
        "az synapse workspace activate --name wskey2 --workspace-name synws02 -g rg-syn --key-identifier https://kv-syn-01.vault.azure.net/keys/wskey2".into(),
        "sim clock advance 3m".into(),
        "az synapse sql pool create --name sqlpool1 --workspace-name synws02 -g rg-syn --performance-level DW100c".into(),
        "az synapse sql pool pause --name sqlpool1 --workspace-name synws02 -g rg-syn".into(),
    ] {
        run(&mut ws, &line);
    }
    ws
}

/// Pools and workspaces in the Topology at 200 % on 1280x720: every node inside the window,
/// the pools counted on their server and workspace, the workspace's state on its box, and
/// a click on a workspace opens its blade.
#[test]
fn topology_with_pools_and_workspaces_at_200_percent() {
    let mut h = at_200(
        with_pools_and_workspaces(),
        tde_console::ui::presentation::Look::Light,
    );
    open(&mut h, BladeKind::Topology);
    let screen = h.ctx.content_rect();
    for label in [
        "SQL sql-contoso-us",
        "1 Paused",
        "1 DW pool",
        "SYN synws01",
        "AwaitingUserAction",
        "No SQL pools",
        "SYN synws02",
        "Consistent",
        "1 SQL pool · 1 Paused",
    ] {
        let node = h
            .query_all_by_label_contains(label)
            .next()
            .unwrap_or_else(|| panic!("no node says '{label}'"));
        assert!(
            screen.expand(0.5).contains_rect(node.rect()),
            "'{label}' at {:?} is outside the window {screen:?}",
            node.rect()
        );
    }
    h.snapshot("topology-synapse-200");
    // (Through accessibility: the picture is a pan-and-zoom scene.)
    h.query_all_by_label_contains("SYN synws01")
        .next()
        .unwrap()
        .click_accesskit();
    h.run_steps(2);
    assert!(
        matches!(
            h.state().blades.last().map(|b| &b.kind),
            Some(BladeKind::SynapseWorkspace { workspace, .. }) if workspace == "synws01"
        ),
        "the node opened the workspace's blade"
    );
}

/// The presenter view of a revocation: the chain strip over the full-window topology.
fn presenter_200(look: tde_console::ui::presentation::Look, name: &str) {
    let mut h = at_200(revoked(), look);
    h.state_mut().presenter = true;
    h.run_steps(4);
    assert!(
        h.query_all_by_label_contains("Auto-heal window closes in")
            .next()
            .is_some()
    );
    h.snapshot(name);
}

#[test]
fn presenter_view_at_200_percent_light() {
    presenter_200(
        tde_console::ui::presentation::Look::Light,
        "presenter-200-light",
    );
}

#[test]
fn presenter_view_at_200_percent_high_contrast() {
    presenter_200(
        tde_console::ui::presentation::Look::HighContrast,
        "presenter-200-high-contrast",
    );
}

/// The TDE blade under the top bar (clock row included) at 200 %.
fn tde_200(look: tde_console::ui::presentation::Look, name: &str) {
    let ws = demo();
    let form = tde_console::ui::blades::TdeForm::for_server(&ws, "sql-contoso-us");
    let mut h = at_200(ws, look);
    open(
        &mut h,
        BladeKind::ServerTde {
            server: "sql-contoso-us".into(),
            form,
        },
    );
    h.snapshot(name);
}

#[test]
fn tde_blade_and_top_bar_at_200_percent_light() {
    tde_200(
        tde_console::ui::presentation::Look::Light,
        "tde-blade-200-light",
    );
}

#[test]
fn tde_blade_and_top_bar_at_200_percent_high_contrast() {
    tde_200(
        tde_console::ui::presentation::Look::HighContrast,
        "tde-blade-200-high-contrast",
    );
}

#[test]
fn scenarios_panel_and_history() {
    let mut h = harness(demo());
    h.state_mut().show_scenarios = true;
    h.run_steps(2);
    h.get_by_label("Start: Revoke and recover inside the window")
        .click();
    // The scenario's workspace is built off the UI thread.
    for _ in 0..500 {
        h.step();
        if h.state().scenario.is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    h.run_steps(3);
    h.state_mut().show_history = true;
    h.state_mut()
        .advance_clock(tde_console::sim::Duration::minutes(10));
    for _ in 0..200 {
        h.step();
        if !h.state().busy() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    h.run_steps(3);
    h.snapshot("scenarios-and-history");
}

/// Issue 23: the customer app during a revocation's outage, at 200 % in the light theme
/// (640x360 points): answered and refused queries per minute, the summary, the outage.
#[test]
fn customer_app_at_200_percent() {
    let mut ws = demo();
    service::customer_app::start_customer_app(
        &mut ws,
        "sql-contoso-us",
        "sales",
        service::customer_app::DEFAULT_EVERY,
    )
    .unwrap();
    let keys = common::FixtureKeys::new();
    behaviour::advance_with(&mut ws, Duration::minutes(25), &keys).unwrap();
    let principal: PrincipalId = ws
        .server("sql-contoso-us")
        .and_then(|s| s.identity.as_ref())
        .map(|i| i.principal_id.clone())
        .expect("the demo server has an identity");
    keyvault::delete_access_policy(&mut ws, "kv-contoso-us", &principal).unwrap();
    behaviour::advance_with(&mut ws, Duration::minutes(20), &keys).unwrap();
    let mut h = harness(ws);
    h.state_mut()
        .presentation
        .set(2.0, tde_console::ui::presentation::Look::Light);
    // Opened once the zoom applies, as View > Customer app at 200 % opens it.
    h.run_steps(2);
    h.state_mut().customer_app.open = true;
    h.run_steps(4);
    assert!(
        h.query_all_by_label_contains("failed (40613)")
            .next()
            .is_some()
    );
    h.snapshot("customer-app-200");
}
