//! "Remove a potentially compromised key": the two documented procedures as guided steps.
//! Keep data accessible: a new key in a separate vault becomes the protector, verify, back
//! up the old key, delete it. Make data inaccessible: drop the databases first, back up the
//! key, delete it.

use super::{BladeCtx, Invocation, outcome};
use crate::model::*;
use crate::service::tde;
use crate::ui::widgets::{properties, section, success_box, text_field};

#[derive(Default)]
pub struct CompromisedForm {
    pub keep_accessible: bool,
    /// The compromised key, fixed when the blade opens.
    pub old_vault: String,
    pub old_key: String,
    pub new_vault: String,
    pub new_key: String,
    pub backup_path: String,
    pub message: Option<Result<String, String>>,
}

impl CompromisedForm {
    pub fn for_server(ws: &Workspace, server: &str) -> Self {
        let uri = ws.server(server).and_then(|s| s.protector_uri());
        CompromisedForm {
            keep_accessible: true,
            old_vault: uri.as_ref().map(|u| u.vault.clone()).unwrap_or_default(),
            old_key: uri.map(|u| u.key).unwrap_or_default(),
            ..Default::default()
        }
    }
}

pub fn show(ui: &mut egui::Ui, server: &str, f: &mut CompromisedForm, cx: &mut BladeCtx<'_>) {
    if f.old_key.is_empty() {
        ui.label(
            "This server does not use a customer-managed key: there is no Key Vault key to remove.",
        );
        return;
    }
    let old_present = cx
        .ws
        .vault(&f.old_vault)
        .and_then(|v| v.key(&f.old_key))
        .is_some_and(|k| k.deleted.is_none());
    properties(
        ui,
        "compromised-key",
        &[
            ("Compromised key", format!("{}/{}", f.old_vault, f.old_key)),
            (
                "Still in the vault",
                if old_present {
                    "Yes".into()
                } else {
                    "No (deleted)".into()
                },
            ),
        ],
    );
    ui.horizontal_wrapped(|ui| {
        ui.radio_value(&mut f.keep_accessible, true, "Keep the data accessible");
        ui.radio_value(&mut f.keep_accessible, false, "Make the data inaccessible");
    });
    if f.keep_accessible {
        keep_accessible(ui, server, f, cx);
    } else {
        make_inaccessible(ui, server, f, cx);
    }
    outcome(ui, &f.message);
}

fn keep_accessible(
    ui: &mut egui::Ui,
    server: &str,
    f: &mut CompromisedForm,
    cx: &mut BladeCtx<'_>,
) {
    section(ui, "1. A new key in a separate key vault");
    let vaults: Vec<(String, String)> = cx
        .ws
        .vaults
        .iter()
        .filter(|v| v.deleted.is_none() && !v.name.eq_ignore_ascii_case(&f.old_vault))
        .map(|v| (v.name.clone(), v.location.clone()))
        .collect();
    crate::ui::widgets::combo(
        ui,
        "New key vault",
        egui::WidgetText::from(if f.new_vault.is_empty() {
            "Select a key vault"
        } else {
            f.new_vault.as_str()
        }),
        None,
        |ui| {
            for (v, location) in &vaults {
                if ui
                    .selectable_label(&f.new_vault == v, format!("{v} ({location})"))
                    .clicked()
                {
                    f.new_vault = v.clone();
                    f.new_key.clear();
                }
            }
        },
    );
    let keys: Vec<String> = cx
        .ws
        .vault(&f.new_vault)
        .map(|v| {
            v.keys
                .iter()
                .filter(|k| k.deleted.is_none())
                .map(|k| k.name.clone())
                .collect()
        })
        .unwrap_or_default();
    crate::ui::widgets::combo(
        ui,
        "New key",
        egui::WidgetText::from(if f.new_key.is_empty() {
            "Select a key"
        } else {
            f.new_key.as_str()
        }),
        None,
        |ui| {
            for k in &keys {
                ui.selectable_value(&mut f.new_key, k.clone(), k);
            }
        },
    );
    let kid = cx.ws.vault(&f.new_vault).and_then(|v| {
        v.key(&f.new_key)
            .and_then(|k| k.current())
            .map(|kv| v.key_uri(&f.new_key, &kv.version))
    });
    if ui
        .add_enabled(
            !cx.busy && kid.is_some(),
            egui::Button::new("Add the key and make it the TDE protector"),
        )
        .on_disabled_hover_text(crate::ui::widgets::why(&[
            (cx.busy, crate::ui::widgets::BUSY_WHY),
            (
                kid.is_none(),
                "Pick a vault and a key with a current version first.",
            ),
        ]))
        .clicked()
        && let Some(kid) = kid
    {
        let server = server.to_string();
        // What the portal's Save does: the server's identity if it has none, the key linked
        // to the server, then the protector.
        let group = super::group_of(cx.ws, &server);
        if cx.ws.server(&server).is_some_and(|s| s.identity.is_none()) {
            // Its own change (and az line): it stays if the key step is refused.
            let name = server.clone();
            cx.request(
                Invocation::new("az sql server update")
                    .arg("--name", server.clone())
                    .arg("--resource-group", group.clone())
                    .flag("-i"),
                move |_, _| format!("System assigned identity turned on for '{name}'."),
            );
        }
        let on_server = |command: &'static str| {
            Invocation::new(command)
                .arg("--server", server.clone())
                .arg("--resource-group", group.clone())
        };
        let script = vec![
            on_server("az sql server key create").arg("--kid", kid.clone()),
            on_server("az sql server tde-key set")
                .arg("--server-key-type", "AzureKeyVault")
                .arg("--kid", kid),
        ];
        let name = server.clone();
        cx.change_to(
            super::Line::Main,
            super::Change::script(script, move |_, ws| {
                format!(
                    "'{}' is the TDE protector.",
                    ws.server(&name)
                        .and_then(|s| s.protector_key())
                        .map(|k| k.name.clone())
                        .unwrap_or_default()
                )
            }),
            None,
        );
    }
    section(ui, "2. Verify");
    let (on, all) = tde::protector_coverage(cx.ws, server).unwrap_or((0, 0));
    let replaced = cx
        .ws
        .server(server)
        .and_then(|s| s.protector_uri())
        .is_some_and(|u| !u.vault.eq_ignore_ascii_case(&f.old_vault));
    let verified = replaced && on == all;
    if verified {
        success_box(
            ui,
            &format!("All {all} encrypted databases use the new protector."),
        );
    } else {
        ui.label(format!("{on} of {all} encrypted databases use the current protector; the protector {} the compromised vault.", if replaced { "is no longer in" } else { "is still in" }));
    }
    if let Some(s) = cx.ws.server(server) {
        for d in s.databases.iter().filter(|d| d.tde_enabled()) {
            if let Some(own) = &d.encryption_protector {
                ui.label(format!(
                    "'{}' has a key of its own ('{own}'): the server's protector does not protect it. If that key is compromised too, give the database another key or revert it to the server's key in its blade.",
                    d.name
                ));
            }
        }
    }
    section(ui, "3. Back up the old key");
    backup_step(ui, f, cx);
    section(ui, "4. Delete the old key");
    delete_step(
        ui,
        f,
        cx,
        verified,
        "Make the new key the protector and check it (steps above) first.",
    );
}

fn make_inaccessible(
    ui: &mut egui::Ui,
    server: &str,
    f: &mut CompromisedForm,
    cx: &mut BladeCtx<'_>,
) {
    section(ui, "1. Drop the databases first");
    ui.label("Otherwise up to 10 minutes of recent transactions can be lost when the key goes.");
    let dbs = crate::ui::widgets::database_names(cx.ws, server);
    crate::ui::widgets::virtual_rows(ui, "drop-databases", 240.0, dbs.len(), |ui, i| {
        let db = &dbs[i];
        ui.horizontal_wrapped(|ui| {
            ui.label(db);
            if ui
                .add_enabled(!cx.busy, egui::Button::new("Delete").small())
                .on_disabled_hover_text(crate::ui::widgets::BUSY_WHY)
                .clicked()
            {
                let ask = Invocation::new("az sql db delete")
                    .arg("--name", db.clone())
                    .arg("--server", server)
                    .arg("--resource-group", super::group_of(cx.ws, server))
                    .flag("--yes");
                let db = db.clone();
                cx.request(ask, move |_, _| format!("Database '{db}' deleted."));
            }
        });
    });
    if dbs.is_empty() {
        success_box(ui, "No databases left on the server.");
    }
    section(ui, "2. Back up the key");
    backup_step(ui, f, cx);
    section(ui, "3. Delete the key");
    delete_step(
        ui,
        f,
        cx,
        dbs.is_empty(),
        "Drop the databases first (step 1).",
    );
}

fn backup_step(ui: &mut egui::Ui, f: &mut CompromisedForm, cx: &mut BladeCtx<'_>) {
    text_field(
        ui,
        "Backup file",
        &mut f.backup_path,
        "/path/to/compromised.backup",
    );
    let path = f.backup_path.trim().to_string();
    if ui
        .add_enabled(
            !cx.busy && !path.is_empty(),
            egui::Button::new("Back up the old key"),
        )
        .on_disabled_hover_text(crate::ui::widgets::why(&[
            (cx.busy, crate::ui::widgets::BUSY_WHY),
            (path.is_empty(), "Type the path of the backup file first."),
        ]))
        .clicked()
    {
        cx.spawn_key_backup(f.old_vault.clone(), f.old_key.clone(), path);
    }
}

fn delete_step(
    ui: &mut egui::Ui,
    f: &mut CompromisedForm,
    cx: &mut BladeCtx<'_>,
    ready: bool,
    not_ready: &'static str,
) {
    let backed_up = cx
        .ws
        .vault(&f.old_vault)
        .and_then(|v| v.key(&f.old_key))
        .is_some_and(|k| {
            k.last_backup
                .is_some_and(|b| k.last_change().is_none_or(|c| b >= c))
        });
    if !backed_up {
        ui.label("Back up the key first (step above).");
    }
    if ui
        .add_enabled(
            !cx.busy && ready && backed_up,
            egui::Button::new("Delete the old key"),
        )
        .on_disabled_hover_text(crate::ui::widgets::why(&[
            (cx.busy, crate::ui::widgets::BUSY_WHY),
            (!ready, not_ready),
            (!backed_up, "Back up the old key first (step above)."),
        ]))
        .clicked()
    {
        let (vault, key) = (f.old_vault.clone(), f.old_key.clone());
        let ask = Invocation::new("az keyvault key delete")
            .arg("--vault-name", vault.clone())
            .arg("--name", key.clone());
        cx.request(ask, move |_, ws| {
            let name = ws
                .vault(&vault)
                .and_then(|v| v.key(&key))
                .map_or(key.clone(), |k| k.name.clone());
            format!("Key '{name}' deleted (recoverable from soft delete or the backup).")
        });
    }
}
