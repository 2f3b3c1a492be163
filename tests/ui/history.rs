//! The History and the class script (issue 23: defects 2 and 8, "Replay this class"),
//! through the real app with egui_kittest, clicked by label as a trainer would; the exported
//! script replayed by the shell in-process and by `tde-console shell` itself.

use crate::common;
use crate::kit;

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use kit::*;
use tde_console::model::{ServerKeyType, Workspace};
use tde_console::persist;
use tde_console::ui::ConsoleApp;

fn open_history(h: &mut Harness<'static, ConsoleApp>) {
    click(h, "Edit");
    click(h, "History and bookmarks…");
    h.run_steps(2);
}

fn mark(h: &mut Harness<'static, ConsoleApp>, name: &str) {
    open_history(h);
    type_into(h, "Bookmark name", name);
    click(h, "Mark this moment");
}

fn labels(h: &Harness<'static, ConsoleApp>) -> Vec<String> {
    h.state()
        .history
        .points()
        .iter()
        .map(|p| p.label.clone())
        .collect()
}

/// The TDE blade of sql-contoso-eu (service-managed, no identity), eu-tde-key chosen, Save.
fn save_eu_protector(h: &mut Harness<'static, ConsoleApp>) {
    click(h, "sql-contoso-eu");
    choose_eu_tde_key(h);
    click(h, "Save");
}

/// Exports the session through the History panel's dialog and returns the script.
fn export(h: &mut Harness<'static, ConsoleApp>, path: &std::path::Path) -> String {
    let _ = std::fs::remove_file(path);
    open_history(h);
    click(h, "Export session as script…");
    h.run_steps(2);
    type_into(h, "Script file", &path.display().to_string());
    click(h, "Export");
    h.run_steps(2);
    std::fs::read_to_string(path).expect("the script was written")
}

/// What a class checks: the clock, each server's identity, protector and databases' states,
/// the vaults' access policies, and what the databases hold.
fn facts(ws: &Workspace) -> Vec<String> {
    let mut out = vec![format!("now {}", ws.now())];
    for s in &ws.servers {
        out.push(format!(
            "{} identity {:?} protector {:?} {}",
            s.name,
            s.identity.as_ref().map(|i| i.principal_id.0.clone()),
            s.protector.key_type,
            s.protector.server_key_name
        ));
        for d in &s.databases {
            out.push(format!(
                "{}/{} {} {:?}",
                s.name,
                d.name,
                d.state.label(),
                tde_console::service::content::read_text(ws, &s.name, &d.name).ok()
            ));
        }
    }
    for v in &ws.vaults {
        let mut policies: Vec<String> =
            v.access_policies.iter().map(|p| format!("{p:?}")).collect();
        policies.sort();
        out.push(format!("{} {}", v.name, policies.join("; ")));
    }
    out
}

fn same_facts(a: &Workspace, b: &Workspace, what: &str) {
    let (fa, fb) = (facts(a), facts(b));
    for (x, y) in fa.iter().zip(&fb) {
        assert_eq!(x, y, "{what}");
    }
    assert_eq!(fa.len(), fb.len(), "{what}");
}

#[test]
fn a_class_with_a_played_clock_exports_every_change_and_replays_to_the_trainers_state() {
    let mut h = app();
    h.run_steps(2);
    let opened = h.state().ws.clone();

    // Play the clock (1 min/s) for a while: many ticks, one History point.
    click(&mut h, "Play");
    for _ in 0..30 {
        h.step();
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    click(&mut h, "Pause");
    wait_until(&mut h, "the last tick", |app| !app.job_running());
    let played = h.state().ws.now().0 - opened.now().0;
    assert!(played > 60, "the clock played {played}s");
    assert_eq!(
        labels(&h)
            .iter()
            .filter(|l| l.starts_with("Clock played"))
            .count(),
        1,
        "{:?}",
        labels(&h)
    );
    assert!(
        labels(&h)
            .iter()
            .all(|l| !l.starts_with("Advancing the clock"))
    );

    // The trainer's TDE Save fails: the identity it turned on stays, as its own change.
    save_eu_protector(&mut h);
    assert!(has(
        &h,
        "The server is missing required permissions on the Azure Key Vault."
    ));
    let s = h.state().ws.server("sql-contoso-eu").unwrap().clone();
    assert!(s.identity.is_some(), "Save turned the identity on");
    assert_eq!(s.protector.key_type, ServerKeyType::ServiceManaged);
    assert!(
        has(&h, "az sql server update --name sql-contoso-eu"),
        "the identity step's toast shows its az line"
    );
    let l = labels(&h);
    assert!(
        l.iter()
            .any(|x| x.starts_with("System assigned identity turned on for 'sql-contoso-eu'")),
        "{l:?}"
    );
    assert!(l.iter().all(|x| x != "A change"), "{l:?}");
    mark(&mut h, "identity ready");
    let at_chapter_one = h.state().ws.clone();

    // Grant the identity in the vault, Save again: the protector is the vault's key.
    click(&mut h, "kv-contoso-eu");
    click(&mut h, "Add access policy");
    click(&mut h, "sql-contoso-eu (server identity)");
    click(&mut h, "SQL Server TDE (get, wrapKey, unwrapKey)");
    click(&mut h, "Add");
    assert!(has(&h, "Access policy saved."));
    save_eu_protector(&mut h);
    assert!(has(&h, "is the TDE protector"));

    // A write in the Query editor, labelled as what it was.
    click(&mut h, "web");
    click(&mut h, "Run UPDATE");
    assert!(
        labels(&h)
            .iter()
            .any(|x| x.starts_with("Run UPDATE on dbo.Notes of 'web'")),
        "{:?}",
        labels(&h)
    );
    // Two clicks on +1m in a row: one point.
    let before = h.state().history.points().len();
    advance(&mut h, "+1m");
    advance(&mut h, "+1m");
    assert_eq!(h.state().history.points().len(), before + 1);
    mark(&mut h, "protected");
    assert!(
        labels(&h).iter().all(|x| x != "A change"),
        "{:?}",
        labels(&h)
    );

    let dir = std::env::temp_dir().join(format!("tde-ui-class-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("class.azcli");
    let script = export(&mut h, &path);
    assert!(
        script.contains("# Start from: the built-in demo"),
        "{script}"
    );
    assert!(
        script.contains(&format!("\nsim clock advance {played}s\n")),
        "{script}"
    );
    assert_eq!(
        script.matches("\nsim clock advance ").count(),
        2,
        "one line for the run of Play, one for the clicks: {script}"
    );
    assert!(script.contains("\nsim clock advance 120s\n"), "{script}");
    for line in [
        "az sql server update --name sql-contoso-eu --resource-group rg-contoso-eu -i",
        "az keyvault set-policy",
        "az sql server tde-key set --server sql-contoso-eu",
        "sim write --server sql-contoso-eu --database web",
        "# == Chapter: identity ready ==\nsim chapter 'identity ready'\n",
        "# == Chapter: protected ==\nsim chapter protected\n",
    ] {
        assert!(script.contains(line), "{line} in {script}");
    }
    assert!(!script.contains("(no az equivalent)"), "{script}");
    let gui = h.state().ws.clone();

    // Replayed in-process (the built-in interpreter) on the demo: the trainer's state.
    let replay = |until: Option<&str>| {
        let mut ws = persist::demo().unwrap();
        let mut sh = tde_console::shell::Shell::new().with_keys(common::FixtureKeys::boxed());
        if let Some(c) = until {
            sh.stop_at_chapter(c);
        }
        let out = sh.run_script(&mut ws, &script, false);
        assert_eq!(out.failures, 0, "{}", out.stderr);
        assert_eq!(sh.chapter_reached(), until.is_some());
        ws
    };
    same_facts(&replay(None), &gui, "replayed to the end");
    same_facts(
        &replay(Some("identity ready")),
        &at_chapter_one,
        "replayed to the first chapter",
    );

    // And by `tde-console shell` itself, from the demo: under bash, and built in.
    let exe = env!("CARGO_BIN_EXE_tde-console");
    let end = dir.join("end.ron");
    let out = std::process::Command::new(exe)
        .args(["shell", end.to_str().unwrap(), "--demo", "--script"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    same_facts(
        &persist::load(&end).unwrap(),
        &gui,
        "tde-console shell to the end",
    );
    for builtin in [false, true] {
        let ch = dir.join(format!("chapter-{builtin}.ron"));
        let mut cmd = std::process::Command::new(exe);
        cmd.args(["shell", ch.to_str().unwrap(), "--demo", "--script"])
            .arg(&path)
            .args(["--until-chapter", "identity ready"]);
        if builtin {
            cmd.arg("--builtin");
        }
        let out = cmd.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        assert!(
            stderr.contains("Stopped at chapter 'identity ready'"),
            "{stderr}"
        );
        same_facts(
            &persist::load(&ch).unwrap(),
            &at_chapter_one,
            "tde-console shell --until-chapter",
        );
    }
    // A chapter the script does not mark: refused, nothing run or written.
    let none = dir.join("none.ron");
    let out = std::process::Command::new(exe)
        .args(["shell", none.to_str().unwrap(), "--demo", "--script"])
        .arg(&path)
        .args(["--until-chapter", "nope"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("its chapters: identity ready, protected"),
        "{stderr}"
    );
    assert!(!none.exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn test_connection_and_notifications_in_the_history() {
    let mut h = app();
    h.run_steps(2);
    // Revoke the us server's access and let it notice.
    click(&mut h, "kv-contoso-us");
    let removes: Vec<_> = h.get_all_by_label("Remove").collect();
    removes[1].click();
    h.run_steps(2);
    click(&mut h, "Remove anyway");
    h.run_steps(2);
    advance(&mut h, "+10m");
    advance(&mut h, "+10m");
    click(&mut h, "sales");
    click(&mut h, "Test connection");
    // The refused connection changes nothing (the database's health already follows its
    // state): no point, and never one labelled "A change".
    let l = labels(&h);
    assert!(
        l.iter()
            .all(|x| !x.starts_with("Test connection to 'sales'")),
        "{l:?}"
    );
    assert!(l.iter().all(|x| x != "A change"), "{l:?}");
    assert!(l.iter().any(|x| x.starts_with("Clock advanced ")), "{l:?}");

    // Opening and closing Notifications reads them: no undo point, nothing unsaved.
    assert!(h.state().ws.unread_notifications() > 0);
    let points = h.state().history.points().len();
    let cursor = h.state().history.cursor();
    let unsaved = h.state().unsaved();
    let notifications = h
        .get_all_by_label_contains("Notifications (")
        .next()
        .unwrap()
        .accesskit_node()
        .label()
        .unwrap_or_default();
    click(&mut h, &notifications);
    click(&mut h, &notifications);
    h.run_steps(3);
    assert_eq!(h.state().ws.unread_notifications(), 0, "they were read");
    assert_eq!(h.state().history.points().len(), points, "{:?}", labels(&h));
    assert_eq!(h.state().history.cursor(), cursor);
    assert_eq!(h.state().unsaved(), unsaved);
    // Undo goes back over the clock, not over the reading.
    click(&mut h, "Edit");
    let undo = h
        .get_all_by_label_contains("Undo")
        .next()
        .unwrap()
        .accesskit_node()
        .label()
        .unwrap_or_default();
    assert!(undo.contains("Clock advanced"), "{undo}");
}

/// Types one line into the Cloud Shell (at its current prompt) and runs it.
fn shell_line(h: &mut Harness<'static, ConsoleApp>, prompt: &str, line: &str) {
    h.get_by_label(prompt).click();
    h.run_steps(1);
    h.get_by_label(prompt).type_text(line);
    h.run_steps(1);
    h.key_press(egui::Key::Enter);
    wait_until(h, "the line", |app| !app.busy());
}

#[test]
fn a_class_made_partly_in_powershell_replays_under_bash_from_its_az_lines() {
    let mut h = app();
    h.run_steps(2);
    click(&mut h, ">_ Cloud Shell");
    h.run_steps(2);
    // In az mode, a line as typed.
    shell_line(
        &mut h,
        "az>",
        "az group create --name rg-class --location eastus",
    );
    // In PowerShell, the seed's procedure for sql-contoso-eu (identity, policy, key, protector).
    click(&mut h, "PowerShell");
    h.run_steps(2);
    for line in [
        "$server = Set-AzSqlServer -ResourceGroupName rg-contoso-eu -ServerName sql-contoso-eu -AssignIdentity",
        "$key = Get-AzKeyVaultKey -VaultName kv-contoso-eu -Name eu-tde-key",
        "Set-AzKeyVaultAccessPolicy -VaultName kv-contoso-eu -ObjectId $server.Identity.PrincipalId -PermissionsToKeys get, wrapKey, unwrapKey",
        "Add-AzSqlServerKeyVaultKey -ResourceGroupName rg-contoso-eu -ServerName sql-contoso-eu -KeyId $key.Id",
        "Set-AzSqlServerTransparentDataEncryptionProtector -ResourceGroupName rg-contoso-eu -ServerName sql-contoso-eu -Type AzureKeyVault -KeyId $key.Id",
        "Get-AzSqlServerTransparentDataEncryptionProtector -ResourceGroupName rg-contoso-eu -ServerName sql-contoso-eu",
    ] {
        shell_line(&mut h, "PS>", line);
    }
    let t = &h.state().shell.transcript;
    assert!(
        t.contains("Type                 : AzureKeyVault") || t.contains(": AzureKeyVault"),
        "{t}"
    );
    let s = h.state().ws.server("sql-contoso-eu").unwrap().clone();
    assert_eq!(s.protector.key_type, ServerKeyType::AzureKeyVault);
    // Back in bash, the clock moves on.
    shell_line(&mut h, "PS>", "bash");
    shell_line(&mut h, "az>", "sim clock advance 10m");
    let gui = h.state().ws.clone();

    let dir = std::env::temp_dir().join(format!("tde-ui-pwsh-class-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("class.azcli");
    let script = export(&mut h, &path);
    // Each cmdlet's change is its az twin; nothing PowerShell is left to run under bash.
    for line in [
        "\naz group create --name rg-class --location eastus\n",
        "\naz sql server update -g rg-contoso-eu -n sql-contoso-eu -i\n",
        "\naz keyvault set-policy ",
        "\naz sql server key create ",
        "\naz sql server tde-key set ",
        "https://kv-contoso-eu.vault.azure.net/keys/eu-tde-key/",
        "\n# PowerShell, nothing to replay: $key = Get-AzKeyVaultKey -VaultName kv-contoso-eu -Name eu-tde-key\n",
        "\nsim clock advance 10m\n",
    ] {
        assert!(script.contains(line), "{line:?} in {script}");
    }
    for gone in [
        "\npwsh\n",
        "\nbash\n",
        "\nSet-Az",
        "\n$server",
        "(no az equivalent)",
    ] {
        assert!(!script.contains(gone), "{gone:?} in {script}");
    }
    // `tde-console shell` replays it under bash (and built in) to the trainer's state.
    let exe = env!("CARGO_BIN_EXE_tde-console");
    for builtin in [false, true] {
        let end = dir.join(format!("end-{builtin}.ron"));
        let mut cmd = std::process::Command::new(exe);
        cmd.args(["shell", end.to_str().unwrap(), "--demo", "--script"])
            .arg(&path);
        if builtin {
            cmd.arg("--builtin");
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{}\n{script}",
            String::from_utf8_lossy(&out.stderr)
        );
        let replayed = persist::load(&end).unwrap();
        same_facts(
            &replayed,
            &gui,
            "tde-console shell replays the PowerShell part",
        );
        assert!(replayed.resource_group("rg-class").is_some());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 25, "chrome and panels queue like blades": a change made from the top bar (the
/// clock's +1h, Simulate > Key vault outage) is a request of the shell's registry, as a
/// blade's is:
/// a History point with its line rendered from what ran, in the "Your changes as az
/// commands" list, in the exported script, and the script replays to the same workspace.
#[test]
fn changes_from_the_chrome_are_history_points_with_their_lines_like_a_blades() {
    let mut h = app();
    h.run_steps(2);
    let command_of = |h: &Harness<'static, ConsoleApp>| {
        let history = &h.state().history;
        history.points()[history.cursor()].command.clone()
    };

    // A blade's change: the TDE blade's Save turns the identity on (its key is refused),
    // then the vault blade grants that identity.
    save_eu_protector(&mut h);
    click(&mut h, "kv-contoso-eu");
    click(&mut h, "Add access policy");
    click(&mut h, "sql-contoso-eu (server identity)");
    click(&mut h, "SQL Server TDE (get, wrapKey, unwrapKey)");
    click(&mut h, "Add");
    assert!(has(&h, "Access policy saved."));
    let blade = command_of(&h).expect("the blade's change has its line");
    assert!(
        blade.starts_with("az keyvault set-policy --name kv-contoso-eu"),
        "{blade}"
    );

    // The clock's +1h: its own point, with the line its job ran.
    let before = h.state().history.points().len();
    let now = h.state().ws.now();
    advance(&mut h, "+1h");
    assert_eq!(h.state().ws.now().0 - now.0, 3600);
    assert_eq!(h.state().history.points().len(), before + 1);
    assert_eq!(command_of(&h).as_deref(), Some("sim clock advance 3600s"));

    // Simulate > Key vault outage: a request, recorded and toasted as the blade's change was.
    let line = "sim keyvault outage --name kv-contoso-eu --minutes 60";
    click(&mut h, "Simulate");
    click(&mut h, "Key vault outage (1 h)");
    click(&mut h, "Outage of kv-contoso-eu");
    h.run_steps(2);
    assert_eq!(h.state().history.points().len(), before + 2);
    let point = &h.state().history.points()[h.state().history.cursor()];
    assert!(
        point
            .label
            .starts_with("'kv-contoso-eu' is unreachable until "),
        "{}",
        point.label
    );
    assert_eq!(point.command.as_deref(), Some(line));
    assert!(
        has(&h, line),
        "the toast shows its line, as a blade change's"
    );
    let out_of_reach = |h: &Harness<'static, ConsoleApp>| {
        let ws = &h.state().ws;
        ws.vault("kv-contoso-eu")
            .is_some_and(|v| tde_console::service::outage::vault_unreachable(ws, v))
    };
    assert!(out_of_reach(&h));

    // Undo from the Edit menu is the app's too: back over the outage, and Redo again.
    click(&mut h, "Edit");
    let undo = h
        .get_all_by_label_contains("Undo: 'kv-contoso-eu' is unreachable")
        .next()
        .expect("Undo names the change")
        .accesskit_node()
        .label()
        .unwrap_or_default();
    click(&mut h, &undo);
    h.run_steps(2);
    assert!(!out_of_reach(&h));
    click(&mut h, "Edit");
    let redo = h
        .get_all_by_label_contains("Redo: 'kv-contoso-eu' is unreachable")
        .next()
        .expect("Redo names the change")
        .accesskit_node()
        .label()
        .unwrap_or_default();
    click(&mut h, &redo);
    h.run_steps(2);
    assert!(out_of_reach(&h));

    // The script holds the three lines, in order, and replays to the same workspace.
    let dir = std::env::temp_dir().join(format!("tde-ui-chrome-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let script = export(&mut h, &dir.join("chrome.azcli"));
    let at = |line: &str| {
        script
            .find(line)
            .unwrap_or_else(|| panic!("{line} in {script}"))
    };
    assert!(at(&blade) < at("\nsim clock advance 3600s\n"));
    assert!(at("\nsim clock advance 3600s\n") < at(&format!("\n{line}\n")));
    let mut ws = persist::demo().unwrap();
    let mut sh = tde_console::shell::Shell::new().with_keys(common::FixtureKeys::boxed());
    let out = sh.run_script(&mut ws, &script, false);
    assert_eq!(out.failures, 0, "{}", out.stderr);
    same_facts(&ws, &h.state().ws, "the chrome's changes replayed");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Settings > Client IP: the typed address is applied as `sim client-ip set`, a History
/// point with its line; a bad address is refused beside the field and changes nothing.
#[test]
fn settings_client_ip_applies_as_its_sim_line_and_refuses_a_bad_address() {
    let mut h = app();
    h.run_steps(2);
    let before = h.state().ws.console_user.client_ip.clone();

    click(&mut h, "Settings");
    h.get_by_label("Client IP").focus();
    h.run_steps(1);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.get_by_label("Client IP").type_text("300.1.2.3");
    h.run_steps(1);
    click(&mut h, "Apply client IP");
    h.run_steps(2);
    assert_eq!(
        h.state().ws.console_user.client_ip,
        before,
        "refused: nothing changed"
    );
    assert!(
        has(&h, "'300.1.2.3' is not an IPv4 address."),
        "the refusal is shown beside the field"
    );

    h.get_by_label("Client IP").focus();
    h.run_steps(1);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.get_by_label("Client IP").type_text("198.51.100.7");
    h.run_steps(1);
    click(&mut h, "Apply client IP");
    h.run_steps(3);
    assert_eq!(h.state().ws.console_user.client_ip, "198.51.100.7");
    let history = &h.state().history;
    assert_eq!(
        history.points()[history.cursor()].command.as_deref(),
        Some("sim client-ip set 198.51.100.7")
    );
}

#[test]
fn a_line_that_only_reads_is_a_line_of_the_script_but_no_point_to_return_to() {
    let mut h = app();
    h.run_steps(2);
    click(&mut h, ">_ Cloud Shell");
    h.run_steps(2);
    let points = h.state().history.points().len();
    let requests = h.state().ws.journal.len();
    shell_line(
        &mut h,
        "az>",
        "az keyvault key show --vault-name kv-contoso-eu --name eu-tde-key",
    );
    assert!(
        h.state().shell.transcript.contains("eu-tde-key"),
        "{}",
        h.state().shell.transcript
    );
    // The vault keeps its record of the request (its Logs show it)…
    assert!(h.state().ws.journal.len() > requests);
    // …but the History has no point for a read: Undo goes over changes only.
    assert_eq!(h.state().history.points().len(), points, "{:?}", labels(&h));
    // A change after it is a point as before, and the export replays both in order.
    shell_line(&mut h, "az>", "sim clock advance 10m");
    assert_eq!(h.state().history.points().len(), points + 1);
    let dir = std::env::temp_dir().join(format!("tde-ui-read-line-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let script = export(&mut h, &dir.join("class.azcli"));
    let read = script
        .find("\naz keyvault key show --vault-name kv-contoso-eu --name eu-tde-key\n")
        .unwrap_or_else(|| panic!("the read is in the script: {script}"));
    let clock = script
        .find("\nsim clock advance 10m\n")
        .expect("the advance");
    assert!(read < clock, "{script}");
}

/// The class plays the clock and the trainer keeps working: while Play runs, Save, the
/// Cloud Shell and every other change are not greyed ("A job is running") and what they
/// ask for is done, and the clock goes on playing (walk at 200 %: nothing could be changed
/// while the clock played).
#[test]
fn the_trainer_makes_changes_while_the_clock_plays() {
    let mut h = app();
    h.run_steps(2);
    click(&mut h, "Play");
    for _ in 0..10 {
        h.step();
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let started = h.state().ws.now();
    assert!(
        !h.state().busy(),
        "a step of Play greys nothing: {}",
        tde_console::ui::widgets::BUSY_WHY
    );
    save_eu_protector(&mut h);
    wait_until(&mut h, "the Save's answer", |app| {
        app.ws
            .server("sql-contoso-eu")
            .is_some_and(|s| s.identity.is_some())
    });
    h.run_steps(2);
    assert!(has(
        &h,
        "The server is missing required permissions on the Azure Key Vault."
    ));
    crate::fit::shell(
        &mut h,
        "az keyvault key show --vault-name kv-contoso-eu --name eu-tde-key --query key.kty -o tsv",
    );
    h.run_steps(3);
    let transcript = h.state().shell.transcript.clone();
    assert!(
        transcript.lines().any(|l| l.trim() == "RSA-HSM"),
        "{transcript}"
    );
    // The clock went on playing meanwhile, and still plays.
    for _ in 0..10 {
        h.step();
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert!(h.state().ws.now() > started, "the clock played on");
    assert!(has(&h, "Pause"), "Play is still on");
}

/// Found in walk 35 (both trainers): "Export session as script…" was only in the History
/// panel; they looked for it in the File menu first. File has it too.
#[test]
fn the_file_menu_exports_the_session_as_a_script() {
    let mut h = app();
    h.run_steps(2);
    click(&mut h, "File");
    click(&mut h, "Export session as script…");
    assert!(has(&h, "Script file"), "the export dialog opened");
}
