//! Every shipped scenario, walked with the shell lines of its solution: each step's goal
//! fails before its solution and holds after it; wrong moves leave goals unmet.

mod common;

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
