//! Issue 13, section 2: subscriptions of a tenant, `az account`, and `--subscription`
//! honoured on every command.

use crate::common;

use tde_console::model::Workspace;
use tde_console::shell::Shell;

const DEV: &str = "11111111-2222-4333-8444-555555555555";

fn demo_with_dev() -> (Shell, Workspace) {
    let mut sh = Shell::new().with_keys(common::FixtureKeys::boxed());
    let mut ws = tde_console::persist::demo().expect("demo");
    let r = sh.run_line(
        &mut ws,
        &format!("sim subscription create --id {DEV} --name 'Contoso Dev' -o none"),
    );
    assert!(r.ok, "{}", r.stderr);
    (sh, ws)
}

fn out(sh: &mut Shell, ws: &mut Workspace, line: &str) -> String {
    let r = sh.run_line(ws, line);
    assert!(r.ok, "{line}: {}", r.stderr);
    r.stdout.trim().to_string()
}

fn err(sh: &mut Shell, ws: &mut Workspace, line: &str) -> String {
    let before = ws.clone();
    let r = sh.run_line(ws, line);
    assert!(!r.ok, "{line} was accepted");
    // Only the requests it made to vaults stay (a refused call leaves its trace).
    assert!(
        common::unchanged_but_its_trace(ws, &before).is_some(),
        "{line} changed the workspace"
    );
    r.stderr
}

#[test]
fn subscriptions_are_listed_selected_and_honoured_per_command() {
    let (mut sh, mut ws) = demo_with_dev();
    assert_eq!(
        out(
            &mut sh,
            &mut ws,
            "az account list --query \"[].name\" -o tsv"
        ),
        "Contoso Production\nContoso Dev"
    );
    assert_eq!(
        out(&mut sh, &mut ws, "az account show --query name -o tsv"),
        "Contoso Production"
    );
    // A group made in Dev by id, visible there only (and found by name, any case).
    out(
        &mut sh,
        &mut ws,
        &format!("az group create -n rg-dev -l eastus --subscription {DEV} -o none"),
    );
    assert!(!out(&mut sh, &mut ws, "az group list --query \"[].name\" -o tsv").contains("rg-dev"));
    assert_eq!(
        out(
            &mut sh,
            &mut ws,
            "az group list --subscription 'contoso dev' --query \"[].name\" -o tsv"
        ),
        "rg-dev"
    );
    assert!(err(&mut sh, &mut ws, "az group show -n rg-dev").contains("ResourceGroupNotFound"));
    // The command ran in Dev; the selection stays where it was.
    assert_eq!(
        out(&mut sh, &mut ws, "az account show --query name -o tsv"),
        "Contoso Production"
    );
    out(&mut sh, &mut ws, "az account set -s 'Contoso Dev'");
    assert_eq!(
        out(
            &mut sh,
            &mut ws,
            "az group show -n rg-dev --query name -o tsv"
        ),
        "rg-dev"
    );
    assert_eq!(
        out(&mut sh, &mut ws, "az account show --query isDefault -o tsv"),
        "True"
    );
}

#[test]
fn an_unknown_subscription_is_refused_as_az_does_and_changes_nothing() {
    let (mut sh, mut ws) = demo_with_dev();
    let e = err(
        &mut sh,
        &mut ws,
        "az group create -n rg-x -l eastus --subscription nope",
    );
    assert_eq!(
        e.trim(),
        "ERROR: Subscription 'nope' not found. Check the spelling and casing and try again."
    );
    err(&mut sh, &mut ws, "az account set --subscription nope");
    err(
        &mut sh,
        &mut ws,
        "sim subscription create --id not-a-guid --name x",
    );
    err(
        &mut sh,
        &mut ws,
        &format!("sim subscription create --id {DEV} --name 'Another'"),
    );
}

#[test]
fn a_key_backup_does_not_restore_into_another_subscription() {
    let (mut sh, mut ws) = demo_with_dev();
    let dir = std::env::temp_dir().join(format!("tde-subs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("billing.keybackup");
    let _ = std::fs::remove_file(&file);
    out(
        &mut sh,
        &mut ws,
        &format!("az group create -n rg-dev -l eastus --subscription {DEV} -o none"),
    );
    out(
        &mut sh,
        &mut ws,
        &format!(
            "az keyvault create -n kv-dev -g rg-dev -l eastus --subscription {DEV} --enable-soft-delete true -o none"
        ),
    );
    out(
        &mut sh,
        &mut ws,
        &format!(
            "az keyvault key backup --vault-name kv-contoso-us --name billing-key --file {}",
            file.display()
        ),
    );
    let e = err(
        &mut sh,
        &mut ws,
        &format!(
            "az keyvault key restore --vault-name kv-dev --file {} --subscription {DEV}",
            file.display()
        ),
    );
    assert!(
        e.contains("restore only into a vault of the same subscription"),
        "{e}"
    );
    let _ = std::fs::remove_file(&file);
}
