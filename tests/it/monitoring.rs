//! Monitoring: the Activity Log, Resource Health history, and alert rules whose webhook
//! action really POSTs to a local endpoint.

use crate::common;

use common::FixtureKeys;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use tde_console::model::{ActionGroup, AlertRule};
use tde_console::service;
use tde_console::shell::Shell;

/// A loopback HTTP endpoint that answers 200 and hands every request body to the test.
fn endpoint() -> (String, mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://127.0.0.1:{}/alerts",
        listener.local_addr().unwrap().port()
    );
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(16) {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut len = 0usize;
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 0 && line != "\r\n" {
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
                line.clear();
            }
            let mut body = vec![0u8; len];
            reader.read_exact(&mut body).unwrap();
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            let _ = tx.send(String::from_utf8_lossy(&body).to_string());
        }
    });
    (url, rx)
}

#[test]
fn a_webhook_alert_delivers_each_transition_and_health_and_activity_log_show_them() {
    let (url, rx) = endpoint();
    let mut ws = service::new_workspace("t", 1);
    let mut sh = Shell::new().with_keys(FixtureKeys::boxed());
    let slice = std::fs::read_to_string(format!(
        "{}/tests/scripts/slice.azcli",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let setup: String = slice
        .lines()
        .take_while(|l| !l.starts_with("sim connect"))
        .map(|l| format!("{l}\n"))
        .collect();
    let script = format!(
        "{setup}
az monitor action-group create --name ag-dba --resource-group rg-tde --short-name dba \\
    --action email oncall dba@contoso.com --action webhook hook {url} -o none
az monitor activity-log alert create --name tde-inaccessible --resource-group rg-tde \\
    --condition category=Administrative and operationName=MakeDatabaseInaccessible --action-group ag-dba -o none
az monitor activity-log alert create --name tde-accessible --resource-group rg-tde \\
    --condition category=Administrative and operationName=MakeDatabaseAccessible and status=Succeeded --action-group ag-dba -o none
az keyvault delete-policy --name kv-contoso-weu --object-id $PRINCIPAL -o none
"
    );
    let out = sh.run_script(&mut ws, &script, false);
    assert_eq!(out.failures, 0, "{}", out.stderr);
    // Minute by minute until Inaccessible (at most 20 minutes: propagation, then detection).
    let mut minutes = 0;
    while sh
        .run_line(
            &mut ws,
            "az sql db show -n sales -s sql-contoso-weu -g rg-tde --query status -o tsv",
        )
        .stdout
        .trim()
        != "Inaccessible"
    {
        assert!(sh.run_line(&mut ws, "sim clock advance 1m -o none").ok);
        minutes += 1;
        assert!(minutes <= 20, "not Inaccessible after 20 minutes");
    }
    // The Activity Log entry (and so the alert) is not there yet.
    assert!(sh.run_line(&mut ws, "az monitor activity-log list --query \"[?operationName.value=='MakeDatabaseInaccessible']\" -o tsv").stdout.trim().is_empty());
    assert!(ws.deliveries.is_empty());
    // A denied connection turns Resource Health Unavailable.
    assert!(
        !sh.run_line(
            &mut ws,
            "sim connect --server sql-contoso-weu --database sales"
        )
        .ok
    );
    // 15 to 30 minutes later the records arrive and the alert fires: email (simulated) and a real POST.
    assert!(sh.run_line(&mut ws, "sim clock advance 30m -o none").ok);
    let listed = sh.run_line(&mut ws, "az monitor activity-log list --query \"[?operationName.value=='MakeDatabaseInaccessible'].status.value\" -o tsv");
    assert_eq!(
        listed.stdout.lines().collect::<Vec<_>>(),
        ["Succeeded", "Started"]
    );
    // The server's failed key access is a record of its own, in the service's words.
    let failure = sh.run_line(&mut ws, "az monitor activity-log list --query \"[?operationName.value=='AzureKeyVaultKeyAccessFailure']\"");
    let failure: serde_json::Value = serde_json::from_str(&failure.stdout).unwrap();
    assert_eq!(failure.as_array().map(Vec::len), Some(1), "{failure}");
    assert_eq!(failure[0]["status"]["value"], "Failed");
    assert!(
        failure[0]["description"]
            .as_str()
            .unwrap()
            .contains("AzureKeyVaultMissingPermissions"),
        "{failure}"
    );
    let body = rx
        .recv_timeout(std::time::Duration::from_secs(5))
        .expect("the webhook was POSTed");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["schemaId"], "azureMonitorCommonAlertSchema");
    assert_eq!(v["data"]["essentials"]["alertRule"], "tde-inaccessible");
    assert_eq!(
        v["data"]["alertContext"]["operationName"],
        "MakeDatabaseInaccessible"
    );
    let webhook: Vec<_> = ws
        .deliveries
        .iter()
        .filter(|d| d.receiver == "hook")
        .collect();
    assert!(
        webhook.iter().all(|d| d.result == "HTTP 200"),
        "{:?}",
        webhook.iter().map(|d| &d.result).collect::<Vec<_>>()
    );
    assert!(ws.deliveries.iter().any(|d| d.receiver == "oncall"));

    // Grant access back: auto-heal, MakeDatabaseAccessible Succeeded, a second webhook.
    let out = sh.run_script(&mut ws, "az keyvault set-policy --name kv-contoso-weu --object-id $PRINCIPAL --key-permissions get wrapKey unwrapKey -o none\nsim clock advance 61m -o none\n", false);
    assert_eq!(out.failures, 0, "{}", out.stderr);
    let mut bodies = Vec::new();
    while let Ok(b) = rx.recv_timeout(std::time::Duration::from_secs(2)) {
        bodies.push(b);
    }
    assert!(
        bodies
            .iter()
            .any(|b| b.contains("\"alertRule\":\"tde-accessible\"")),
        "{bodies:?}"
    );
    let health = sh.run_line(&mut ws, "sim resource-health --server sql-contoso-weu --database sales --query \"[].availabilityState\" -o tsv");
    assert_eq!(
        health.stdout.lines().collect::<Vec<_>>(),
        ["Available", "Unavailable", "Available"]
    );
}

#[test]
fn webhooks_to_anything_but_loopback_are_refused() {
    let mut ws = service::new_workspace("t", 1);
    let mut sh = Shell::new().with_keys(FixtureKeys::boxed());
    sh.run_line(&mut ws, "az group create -n g -l eastus -o none");
    let before = ws.clone();
    let r = sh.run_line(
        &mut ws,
        "az monitor action-group create -n ag -g g --action webhook h http://203.0.113.5/hook",
    );
    assert!(
        r.stderr.starts_with("ERROR: (InvalidWebhookUrl)"),
        "{}",
        r.stderr
    );
    assert!(ws == before);
}

#[test]
fn an_alert_rule_refused_with_its_new_action_group_leaves_no_action_group() {
    let mut ws = service::new_workspace("t", 1);
    let mut sh = Shell::new().with_keys(FixtureKeys::boxed());
    sh.run_line(&mut ws, "az group create -n g -l eastus -o none");
    let before = ws.clone();
    let group = ActionGroup {
        name: "ag".into(),
        resource_group: "g".into(),
        short_name: "ag".into(),
        receivers: Vec::new(),
    };
    let rule = AlertRule {
        name: "rule".into(),
        resource_group: "g".into(),
        scope: format!("/subscriptions/{}", ws.current_subscription),
        operation_name: " ".into(),
        status: None,
        action_groups: vec!["ag".into()],
        enabled: true,
    };
    let r = service::monitor::create_alert_with_action_group(&mut ws, group, rule);
    assert!(r.is_err());
    assert!(ws.action_groups.is_empty(), "no action group left behind");
    assert!(ws == before);
    assert_eq!(
        ws.revision, before.revision,
        "a refused operation is no change"
    );
}

/// A workspace with a webhook action group on `url` and an alert rule on vault writes, then
/// a vault created: its Activity Log record becomes visible within the next minute, and
/// the alert fires on the advance after it.
fn vault_write_alert(url: &str, sh: &mut Shell) -> tde_console::model::Workspace {
    let mut ws = service::new_workspace("t", 1);
    assert!(
        sh.run_line(&mut ws, "az group create -n g -l eastus -o none")
            .ok
    );
    service::monitor::create_action_group(
        &mut ws,
        ActionGroup {
            name: "ag-hook".into(),
            resource_group: "g".into(),
            short_name: "hook".into(),
            receivers: vec![tde_console::model::Receiver {
                name: "hook".into(),
                kind: tde_console::model::ReceiverKind::Webhook,
                target: url.to_string(),
            }],
        },
    )
    .unwrap();
    let scope = format!("/subscriptions/{}", ws.current_subscription);
    service::monitor::create_alert_rule(
        &mut ws,
        AlertRule {
            name: "vault-written".into(),
            resource_group: "g".into(),
            scope,
            operation_name: "Create or update key vault".into(),
            status: None,
            action_groups: vec!["ag-hook".into()],
            enabled: true,
        },
    )
    .unwrap();
    let r = sh.run_line(
        &mut ws,
        "az keyvault create -n kv-hook -g g -l eastus -o none",
    );
    assert!(r.ok, "{}", r.stderr);
    assert!(ws.outbox.is_empty() && ws.deliveries.is_empty());
    ws
}

#[test]
fn an_operation_rolled_back_after_its_alert_fired_sends_nothing() {
    use tde_console::service::{ServiceError, ServiceResult};
    let (url, rx) = endpoint();
    let mut sh = Shell::new().with_keys(FixtureKeys::boxed());
    let mut ws = vault_write_alert(&url, &mut sh);
    let before = ws.clone();
    let r: ServiceResult<()> = service::transact(&mut ws, |ws| {
        service::behaviour::advance(ws, tde_console::sim::Duration::minutes(2))?;
        // Inside the operation the alert has fired: its POST only waits in the outbox.
        assert_eq!(ws.outbox.pending.len(), 1);
        Err(ServiceError::bad_request("Test", "a later step is refused"))
    });
    assert!(r.is_err());
    assert!(ws == before, "a rolled-back operation changes nothing");
    assert!(ws.outbox.is_empty());
    assert_eq!(tde_console::webhook_delivery::drain(&mut ws), 0);
    // A command after it sends nothing either.
    assert!(sh.run_line(&mut ws, "az group list -o none").ok);
    assert!(
        rx.recv_timeout(std::time::Duration::from_millis(500))
            .is_err(),
        "nothing was POSTed"
    );
    assert!(ws.deliveries.is_empty());
}

#[test]
fn the_shell_sends_the_outbox_after_the_command_has_committed() {
    let (url, rx) = endpoint();
    let mut sh = Shell::new().with_keys(FixtureKeys::boxed());
    let mut ws = vault_write_alert(&url, &mut sh);
    let fired_by = ws.now();
    let r = sh.run_line(&mut ws, "sim clock advance 2m -o none");
    assert!(r.ok, "{}", r.stderr);
    // By the time the command has returned the POST was made and its outcome recorded.
    assert!(ws.outbox.is_empty(), "{:?}", ws.outbox);
    let hook: Vec<_> = ws
        .deliveries
        .iter()
        .filter(|d| d.receiver == "hook")
        .collect();
    assert_eq!(hook.len(), 1);
    assert_eq!(hook[0].result, "HTTP 200");
    assert!(hook[0].time > fired_by && hook[0].time <= ws.now());
    let body = rx
        .recv_timeout(std::time::Duration::from_secs(5))
        .expect("the webhook was POSTed");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["data"]["essentials"]["alertRule"], "vault-written");
    assert_eq!(body, hook[0].payload, "the inbox keeps what was sent");
    let listed = sh.run_line(&mut ws, "sim deliveries --query \"[].result\" -o tsv");
    assert_eq!(listed.stdout.trim(), "HTTP 200");

    // A shell that leaves the outbox to its owner (the window's) only appends; the owner
    // sends it (here the headless drain) and records the outcome.
    let (url2, rx2) = endpoint();
    let mut quiet = Shell::new()
        .with_keys(FixtureKeys::boxed())
        .without_webhook_delivery();
    let mut ws = vault_write_alert(&url2, &mut quiet);
    assert!(quiet.run_line(&mut ws, "sim clock advance 2m -o none").ok);
    assert_eq!(ws.outbox.pending.len(), 1);
    assert!(ws.deliveries.is_empty());
    assert!(
        rx2.recv_timeout(std::time::Duration::from_millis(300))
            .is_err()
    );
    assert_eq!(tde_console::webhook_delivery::drain(&mut ws), 1);
    assert!(ws.outbox.is_empty());
    assert_eq!(ws.deliveries[0].result, "HTTP 200");
    assert!(rx2.recv_timeout(std::time::Duration::from_secs(5)).is_ok());
}

#[test]
fn a_full_outbox_records_the_delivery_it_cannot_keep_as_failed() {
    use tde_console::model::{OUTBOX_LIMIT, PendingDelivery};
    let (url, rx) = endpoint();
    let mut sh = Shell::new()
        .with_keys(FixtureKeys::boxed())
        .without_webhook_delivery();
    let mut ws = vault_write_alert(&url, &mut sh);
    for n in 0..OUTBOX_LIMIT {
        let kept = ws.outbox.push(PendingDelivery {
            id: 0,
            time: ws.now(),
            alert_rule: format!("older-{n}"),
            action_group: "ag-hook".into(),
            receiver: "hook".into(),
            target: url.clone(),
            payload: "{}".into(),
        });
        assert!(kept.is_ok());
    }
    assert!(sh.run_line(&mut ws, "sim clock advance 2m -o none").ok);
    // The outbox kept what it held; the new delivery is in the inbox as not sent.
    assert_eq!(ws.outbox.pending.len(), OUTBOX_LIMIT);
    assert_eq!(ws.outbox.pending[0].alert_rule, "older-0");
    assert_eq!(ws.deliveries.len(), 1);
    assert_eq!(ws.deliveries[0].alert_rule, "vault-written");
    assert!(
        ws.deliveries[0].result.starts_with(&format!(
            "Failed: not sent, {OUTBOX_LIMIT} webhook deliveries"
        )),
        "{}",
        ws.deliveries[0].result
    );
    assert!(
        rx.recv_timeout(std::time::Duration::from_millis(300))
            .is_err()
    );
}

/// Found on the trainers' walk: the Activity Log's "caller" was null for the user's own
/// planned failover of a group and for a restore run from the Cloud Shell (null is what the
/// service does by itself). They are now the signed-in user's, as the user's other writes;
/// the restore's completion carries the caller who started it.
#[test]
fn the_users_own_failover_and_restore_are_logged_with_their_caller() {
    let mut ws = tde_console::persist::demo().unwrap();
    let upn = ws.console_user.upn.clone();
    assert!(!upn.is_empty());
    let mut sh = Shell::new().with_keys(FixtureKeys::boxed());
    let from = ws.activity_log.len();
    let script = r#"
az sql db restore --dest-name sales-day2 --name sales --server sql-contoso-us --resource-group rg-contoso-us --time 2026-01-02T12:00:00Z -o none
az sql failover-group set-primary --name fg-contoso --server sql-contoso-us2 --resource-group rg-contoso-us -o none
sim clock advance 1h -o none
"#;
    let out = sh.run_script(&mut ws, script, false);
    assert_eq!(out.failures, 0, "{}", out.stderr);
    let listed = sh.run_line(&mut ws, "az monitor activity-log list -o json");
    assert!(listed.ok, "{}", listed.stderr);
    let events: serde_json::Value = serde_json::from_str(&listed.stdout).unwrap();
    let of = |op: &str| -> Vec<serde_json::Value> {
        events
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["operationName"]["value"] == op)
            .cloned()
            .collect()
    };
    for op in [
        "Fail over failover group",
        "Fail over replication link",
        "OpenDatabaseAfterFailover",
        "Restore SQL database",
    ] {
        let rows = of(op);
        assert!(!rows.is_empty(), "{op} is logged");
        for r in &rows {
            assert_eq!(r["caller"], serde_json::json!(upn), "{op}: {r:#}");
        }
    }
    let restore = of("Restore SQL database");
    assert!(
        restore.iter().any(|r| r["status"]["value"] == "Succeeded"),
        "the restore completed: {restore:#?}"
    );
    // What the service did by itself has no caller (no entry of this session is the service's
    // here but the demo's own history keeps them).
    let service = ws
        .activity_log
        .iter()
        .skip(from)
        .filter(|e| e.caller.is_empty())
        .map(|e| e.operation.clone())
        .collect::<Vec<_>>();
    assert!(
        !service
            .iter()
            .any(|o| o == "Fail over replication link" || o == "Restore SQL database"),
        "{service:?}"
    );
}

/// A failover of a group with no database still leaves the group's own record.
#[test]
fn an_empty_groups_failover_is_in_the_activity_log() {
    let mut ws = tde_console::persist::demo().unwrap();
    let mut sh = Shell::new().with_keys(FixtureKeys::boxed());
    let script = r#"
az sql failover-group create --name fg-empty --partner-server sql-contoso-us2 --resource-group rg-contoso-us --server sql-contoso-us -o none
az sql failover-group set-primary --name fg-empty --server sql-contoso-us2 --resource-group rg-contoso-us -o none
"#;
    let out = sh.run_script(&mut ws, script, false);
    assert_eq!(out.failures, 0, "{}", out.stderr);
    let row = ws
        .activity_log
        .iter()
        .find(|e| e.operation == "Fail over failover group")
        .expect("the group's failover is logged");
    assert!(
        row.resource.ends_with("/failoverGroups/fg-empty"),
        "{row:?}"
    );
    assert!(row.message.contains("0 database(s) opened"), "{row:?}");
    assert_eq!(row.caller, ws.console_user.upn);
}
