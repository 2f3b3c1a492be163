//! Every shipped scenario, walked with the shell lines of its solution: each step's goal
//! fails before its solution and holds after it; wrong moves leave goals unmet.

use crate::common;

use tde_console::model::Workspace;
use tde_console::scenario::{self, Goal, Scenario};
use tde_console::shell::Shell;

fn start(s: &Scenario) -> (Workspace, Shell) {
    let ws = scenario::start(s, common::FixtureKeys::boxed()).expect("the scenario starts");
    let mut sh = Shell::new().with_keys(common::FixtureKeys::boxed());
    // Scenarios that write files (key backups) write them under $WORKDIR.
    let dir = std::env::temp_dir().join(format!(
        "tde-scenario-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    // A directory left by an earlier run whose process had the same id holds its files
    // (a key backup refuses to overwrite one): start from an empty one.
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    sh.vars.insert("WORKDIR".into(), dir.display().to_string());
    (ws, sh)
}

static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn run(sh: &mut Shell, ws: &mut Workspace, lines: &[String]) {
    let out = sh.run_script(ws, &lines.join("\n"), false);
    assert_eq!(out.failures, 0, "{}", out.stderr);
}

#[test]
fn every_shipped_scenario_parses_and_its_solutions_reach_every_goal() {
    let all = scenario::shipped();
    assert!(all.len() >= 9);
    for (id, parsed) in all {
        let s = parsed.unwrap_or_else(|e| panic!("{id}: {e}"));
        let (mut ws, mut sh) = start(&s);
        for (i, step) in s.steps.iter().enumerate() {
            // A goal met before anything is done would teach nothing (a later step may
            // legitimately hold already, e.g. "the databases still open").
            if i == 0 {
                assert!(
                    !step.goal.met(&ws),
                    "{id}: the first goal holds before any move"
                );
            }
            run(&mut sh, &mut ws, &step.solution);
            assert!(
                step.goal.met(&ws),
                "{id} step {}: '{}' not met after its solution",
                i + 1,
                step.goal.describe()
            );
        }
    }
}

fn shipped(id: &str) -> Scenario {
    scenario::shipped()
        .into_iter()
        .find(|(i, _)| i == id)
        .and_then(|(_, s)| s.ok())
        .unwrap_or_else(|| panic!("no scenario {id}"))
}

#[test]
fn wrong_moves_leave_the_goals_unmet() {
    // Revoke and recover: waiting without restoring the access heals nothing.
    let s = shipped("revoke-and-recover");
    let (mut ws, mut sh) = start(&s);
    run(&mut sh, &mut ws, &s.steps[0].solution);
    run(
        &mut sh,
        &mut ws,
        &["sim clock advance 2h -o none".to_string()],
    );
    assert!(!s.steps[1].goal.met(&ws), "no access, no heal");

    // Late recovery: restoring the access is not enough after the window.
    let s = shipped("late-recovery");
    let (mut ws, mut sh) = start(&s);
    run(&mut sh, &mut ws, &s.steps[0].solution);
    run(&mut sh, &mut ws, &s.steps[1].solution);
    run(
        &mut sh,
        &mut ws,
        &["sim clock advance 3h -o none".to_string()],
    );
    assert!(!s.steps[2].goal.met(&ws), "Online only after revalidation");

    // Backups: a restore to 1 January reads that day's text, not 2 January's.
    let s = shipped("backup-restore-old-key");
    let (mut ws, mut sh) = start(&s);
    run(
        &mut sh,
        &mut ws,
        &["az sql db restore --dest-name sales-day2 --name sales --server sql-contoso-us --resource-group rg-contoso-us --time 2026-01-01T12:00:00Z -o none".to_string()],
    );
    assert!(!s.steps[0].goal.met(&ws));

    // The compromised key: deleting the old key before moving the protector breaks the
    // databases (the goal's "stay Online" fails).
    let s = shipped("compromised-key");
    let (mut ws, mut sh) = start(&s);
    run(
        &mut sh,
        &mut ws,
        &[
            "az keyvault key delete --vault-name kv-contoso-eu --name eu-tde-key -o none"
                .to_string(),
            "sim clock advance 30m -o none".to_string(),
        ],
    );
    assert!(!s.steps[1].goal.met(&ws));

    // Geo-replication: the primary first is refused, and the goal stays unmet.
    let s = shipped("geo-rotation-secondary-first");
    let (mut ws, mut sh) = start(&s);
    let out = sh.run_script(
        &mut ws,
        "az keyvault key create --vault-name kv-contoso-us --name tde-protector-2026 --protection software --size 3072 -o none\nKID=$(az keyvault key show --vault-name kv-contoso-us --name tde-protector-2026 --query key.kid -o tsv)\naz sql server key create --server sql-contoso-us --resource-group rg-contoso-us --kid $KID -o none\naz sql server tde-key set --server sql-contoso-us --resource-group rg-contoso-us --server-key-type AzureKeyVault --kid $KID -o none",
        true,
    );
    assert!(
        out.stderr.contains("SameKeyMaterialNotFoundOnRemoteServer"),
        "{}",
        out.stderr
    );
    assert!(!s.steps[1].goal.met(&ws));
}

fn lines(script: &str) -> Vec<String> {
    script.lines().map(str::to_string).collect()
}

#[test]
fn wrong_moves_in_the_continuity_scenarios_leave_their_goals_unmet() {
    // High availability: without the second vault, the outage takes the databases down.
    let s = shipped("ha-second-vault");
    let (mut ws, mut sh) = start(&s);
    run(&mut sh, &mut ws, &s.steps[1].solution);
    assert!(!s.steps[1].goal.met(&ws), "no second vault, no switch");
    assert!(
        ws.server("sql-contoso-eu")
            .and_then(|s| s.database("web"))
            .is_some_and(|d| !d.state.is_online())
    );

    // Geo-replication from scratch: the replica before the secondary holds the key is
    // refused, and nothing is created.
    let s = shipped("geo-replication-setup");
    let (mut ws, mut sh) = start(&s);
    let out = sh.run_script(
        &mut ws,
        "az sql server create --name sql-contoso-ne --resource-group rg-contoso-eu --location northeurope --admin-user sqladmin --admin-password 'Str0ng!Passw0rd-2026' --assign-identity -o none\naz sql db replica create --name web --server sql-contoso-eu --resource-group rg-contoso-eu --partner-server sql-contoso-ne -o none",
        true,
    );
    assert_eq!(out.failures, 1, "{}", out.stderr);
    assert!(!s.steps[1].goal.met(&ws));

    // The storm: failing back without leaving the guidance's bounds is still over them.
    let s = shipped("failover-storm");
    let (mut ws, mut sh) = start(&s);
    run(&mut sh, &mut ws, &s.steps[0].solution);
    run(
        &mut sh,
        &mut ws,
        &lines(
            "az sql failover-group set-primary --name fg-contoso --server sql-contoso-us -g rg-contoso-us -o none",
        ),
    );
    assert!(
        !s.steps[1].goal.met(&ws),
        "1,102 databases are over the guidance"
    );

    // Making the data inaccessible: deleting the key first leaves the databases in place
    // (Inaccessible after the 10 minutes, not dropped).
    let s = shipped("compromised-key-inaccessible");
    let (mut ws, mut sh) = start(&s);
    run(
        &mut sh,
        &mut ws,
        &lines(
            "az keyvault key delete --vault-name kv-contoso-eu --name eu-tde-key -o none\nsim clock advance 30m -o none",
        ),
    );
    assert!(!s.steps[0].goal.met(&ws));
    assert!(!s.steps[1].goal.met(&ws), "deleted without a backup");

    // Webhooks: an endpoint nobody listens on is not a delivery.
    let s = shipped("monitoring-webhook");
    let (mut ws, mut sh) = start(&s);
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    run(
        &mut sh,
        &mut ws,
        &lines(&format!(
            "az monitor action-group create -n ag-hook -g rg-contoso-us --short-name hook --action webhook oncall http://127.0.0.1:{port}/hook -o none\naz monitor activity-log alert create -n inaccessible-hook -g rg-contoso-us --condition category=Administrative and operationName=MakeDatabaseInaccessible --action-group ag-hook -o none"
        )),
    );
    run(&mut sh, &mut ws, &s.steps[1].solution);
    assert!(ws.deliveries.iter().any(|d| d.result.starts_with("Failed")));
    assert!(!s.steps[1].goal.met(&ws));
}

#[test]
fn a_broken_scenario_file_is_a_clear_error() {
    assert!(scenario::parse("(title: \"x\")").is_err());
    assert!(scenario::parse("(title: \"x\", audience: \"a\", teaches: \"t\", steps: [])").is_err());
    let g = Goal::DatabaseState {
        server: "nope".into(),
        database: "nope".into(),
        state: "Online".into(),
    };
    assert!(!g.met(&tde_console::persist::demo().unwrap()));
}

/// The Synapse scenario: activating before the identity has access is refused and leaves
/// the workspace waiting; a switch is not done until the re-encryption has run.
#[test]
fn wrong_moves_in_the_synapse_scenario_leave_its_goals_unmet() {
    let s = shipped("synapse-activation-key-switch");
    let (mut ws, mut sh) = start(&s);
    let out = sh.run_script(
        &mut ws,
        "az synapse workspace activate --name wskey --workspace-name syn-contoso -g rg-synapse --key-identifier https://kv-synapse-01.vault.azure.net/keys/wskey -o none\nsim clock advance 10m -o none",
        false,
    );
    assert_eq!(out.failures, 1, "activation without access is refused");
    assert!(!s.steps[0].goal.met(&ws), "no access, no activation");
    run(&mut sh, &mut ws, &s.steps[0].solution);
    run(&mut sh, &mut ws, &s.steps[1].solution);
    let switch = &s.steps[2].solution;
    run(&mut sh, &mut ws, &switch[..2]);
    assert!(!s.steps[2].goal.met(&ws), "still Updating");
    run(&mut sh, &mut ws, &switch[2..]);
    assert!(s.steps[2].goal.met(&ws));
}
