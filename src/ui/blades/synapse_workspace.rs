//! A Synapse workspace: Overview (storage, identity, dedicated SQL pools with pause, resume
//! and TDE) and its Encryption page (double encryption, the activation banner and link,
//! the key picker, the status). Every click is the `az synapse …` line it queues.

use super::{BladeCtx, Invocation};
use crate::model::*;
use crate::service::synapse as syn;
use crate::ui::widgets::{self, properties, section};

/// What the blade's forms hold.
#[derive(Default)]
pub struct SynapseForm {
    pub message: Option<super::Outcome>,
    /// The key picked on the Encryption page.
    pub key: String,
    /// A new key: its name and Key Vault URL.
    pub new_key_name: String,
    pub new_key_url: String,
    /// A new pool's name.
    pub pool_name: String,
}

pub fn show(ui: &mut egui::Ui, name: &str, form: &mut SynapseForm, cx: &mut BladeCtx<'_>) {
    let Some(w) = cx.ws.synapse.workspace(name).cloned() else {
        ui.label(format!("Workspace '{name}' no longer exists."));
        return;
    };
    let g = w.resource_group.clone();
    section(ui, "Essentials");
    properties(
        ui,
        "synapse-essentials",
        &[
            ("Resource group", g),
            ("Location", w.location.clone()),
            (
                "Primary ADLS Gen2 account",
                format!("https://{}.dfs.core.windows.net", w.storage_account),
            ),
            ("Primary ADLS Gen2 file system", w.file_system.clone()),
            ("SQL admin username", w.sql_admin_login.clone()),
            ("Managed identity object ID", w.principal_id.0.clone()),
        ],
    );
    section(ui, "Encryption");
    if !w.double_encryption {
        ui.label("Double encryption using a customer-managed key: Disabled. It can only be chosen when the workspace is created.");
    } else {
        encryption(ui, &w, form, cx);
    }
    section(ui, "Dedicated SQL pools");
    pools(ui, &w, form, cx);
    super::forget_when_changed(
        ui,
        "synapse",
        &mut form.message,
        (
            w.cmk_status.map(CmkStatus::as_str),
            &w.cmk_key,
            w.pools.len(),
        ),
    );
    super::outcome(ui, &form.message);
}

fn encryption(
    ui: &mut egui::Ui,
    w: &SynapseWorkspace,
    form: &mut SynapseForm,
    cx: &mut BladeCtx<'_>,
) {
    let (n, g) = (w.name.clone(), w.resource_group.clone());
    let status = w.cmk_status.map(CmkStatus::as_str).unwrap_or("-");
    let active = w.cmk_key.as_deref().and_then(|k| w.key(k));
    properties(
        ui,
        "synapse-encryption",
        &[
            (
                "Double encryption using a customer-managed key",
                "Enabled".into(),
            ),
            ("Encryption status", status.to_string()),
            (
                "Key",
                active.map_or_else(
                    || "-".into(),
                    |k| format!("{} ({})", k.name, k.key_vault_url),
                ),
            ),
            (
                "Key version in use",
                w.data_key
                    .kid
                    .as_deref()
                    .and_then(|k| k.rsplit('/').next())
                    .unwrap_or("- (not activated)")
                    .to_string(),
            ),
        ],
    );
    match w.cmk_status {
        Some(CmkStatus::AwaitingUserAction) => {
            widgets::warning_box(ui, syn::ACTIVATION_BANNER);
            if let Some(PendingKeyChange::Activate { due, .. }) = &w.pending {
                widgets::info_box(ui, &format!("Activation requested: it completes at {due}."));
            } else if let Some(k) = active {
                let (key, url) = (k.name.clone(), k.key_vault_url.clone());
                let (n, g) = (n.clone(), g.clone());
                if ui
                    .add_enabled(!cx.busy, egui::Button::new("Activate"))
                    .on_disabled_hover_text(widgets::BUSY_WHY)
                    .clicked()
                {
                    let ask = Invocation::new("az synapse workspace activate")
                        .arg("--name", key.clone())
                        .arg("--workspace-name", n)
                        .arg("--resource-group", g)
                        .arg("--key-identifier", url.clone());
                    cx.request(ask, |_, _| {
                        "Activation requested: the workspace turns Consistent in about two minutes."
                            .into()
                    });
                }
            }
        }
        Some(CmkStatus::Updating) => widgets::info_box(
            ui,
            "The workspace is re-encrypting its data with the new key (15 to 30 minutes).",
        ),
        Some(CmkStatus::Failed) => widgets::error_box(
            ui,
            "Re-encryption failed: the previous key version is disabled, expired or unreachable. Enable it (with a future expiry) and select the key again.",
        ),
        _ => {}
    }
    if w.cmk_status != Some(CmkStatus::AwaitingUserAction) {
        ui.horizontal_wrapped(|ui| {
            let current = if form.key.is_empty() {
                w.cmk_key.clone().unwrap_or_default()
            } else {
                form.key.clone()
            };
            widgets::combo(ui, "Select key", current.clone(), Some(160.0), |ui| {
                for k in &w.keys {
                    ui.selectable_value(&mut form.key, k.name.clone(), &k.name);
                }
            });
            let picked = if form.key.is_empty() {
                current
            } else {
                form.key.clone()
            };
            let changes = !w
                .cmk_key
                .as_deref()
                .is_some_and(|a| a.eq_ignore_ascii_case(&picked));
            if ui
                .add_enabled(
                    !cx.busy && changes && !picked.is_empty(),
                    egui::Button::new("Save"),
                )
                .on_disabled_hover_text(if cx.busy {
                    widgets::BUSY_WHY.to_string()
                } else if picked.is_empty() {
                    "Select a key first.".to_string()
                } else {
                    format!("'{picked}' is already the workspace's key: select another one.")
                })
                .clicked()
            {
                let (n, g) = (n.clone(), g.clone());
                let ask = Invocation::new("az synapse workspace update")
                    .arg("--name", n.clone())
                    .arg("--resource-group", g)
                    .arg("--key-name", picked.clone());
                cx.request(ask, move |_, ws| {
                    format!(
                        "Key change accepted: encryption status {}.",
                        ws.synapse
                            .workspace(&n)
                            .and_then(|w| w.cmk_status)
                            .map(CmkStatus::as_str)
                            .unwrap_or("-")
                    )
                });
            }
        });
    }
    ui.horizontal_wrapped(|ui| {
        widgets::narrow_text_field(ui, "Key name", &mut form.new_key_name, "wskey2", 90.0);
        widgets::narrow_text_field(
            ui,
            "Key identifier",
            &mut form.new_key_url,
            "https://<vault>.vault.azure.net/keys/<key>",
            220.0,
        );
        if ui
            .add_enabled(
                !cx.busy
                    && !form.new_key_name.trim().is_empty()
                    && !form.new_key_url.trim().is_empty(),
                egui::Button::new("Add key"),
            )
            .on_disabled_hover_text(widgets::why(&[
                (cx.busy, widgets::BUSY_WHY),
                (
                    form.new_key_name.trim().is_empty() || form.new_key_url.trim().is_empty(),
                    "Type the key's name and its key identifier first.",
                ),
            ]))
            .clicked()
        {
            let (n, g) = (n.clone(), g.clone());
            let (key, url) = (
                form.new_key_name.trim().to_string(),
                form.new_key_url.trim().to_string(),
            );
            let ask = Invocation::new("az synapse workspace key create")
                .arg("--name", key.clone())
                .arg("--workspace-name", n)
                .arg("--resource-group", g)
                .arg("--key-identifier", url);
            cx.request(ask, move |_, _| format!("Key '{key}' added."));
        }
    });
}

fn pools(ui: &mut egui::Ui, w: &SynapseWorkspace, form: &mut SynapseForm, cx: &mut BladeCtx<'_>) {
    let (n, g) = (w.name.clone(), w.resource_group.clone());
    for p in &w.pools {
        ui.horizontal_wrapped(|ui| {
            ui.label(format!(
                "{} · {} · {} · TDE {}",
                p.name,
                p.performance_level,
                p.status.as_str(),
                if p.tde_enabled { "Enabled" } else { "Disabled" }
            ));
            let (verb, op) = match p.status {
                PoolStatus::Online => ("pause", "Pause"),
                PoolStatus::Paused => ("resume", "Resume"),
            };
            if ui
                .add_enabled(!cx.busy, egui::Button::new(format!("{op} {}", p.name)))
                .on_disabled_hover_text(widgets::BUSY_WHY)
                .clicked()
            {
                let (n, g, pool) = (n.clone(), g.clone(), p.name.clone());
                let ask = Invocation::new(if verb == "pause" {
                    "az synapse sql pool pause"
                } else {
                    "az synapse sql pool resume"
                })
                .arg("--name", pool.clone())
                .arg("--workspace-name", n.clone())
                .arg("--resource-group", g);
                cx.request(ask, move |_, ws| {
                    let status = ws
                        .synapse
                        .workspace(&n)
                        .and_then(|w| w.pool(&pool))
                        .map(|p| p.status.as_str())
                        .unwrap_or_default();
                    format!("Pool {pool} is {status}.")
                });
            }
            let to = !p.tde_enabled;
            let label = if to { "Enable TDE" } else { "Disable TDE" };
            if ui
                .add_enabled(
                    !cx.busy && p.status == PoolStatus::Online,
                    egui::Button::new(format!("{label} on {}", p.name)),
                )
                .on_disabled_hover_text(if cx.busy {
                    widgets::BUSY_WHY.to_string()
                } else {
                    format!(
                        "'{}' is paused: the service refuses a TDE change on a paused pool (SqlPoolIsPaused). Resume it first.",
                        p.name
                    )
                })
                .clicked()
            {
                let (n, g, pool) = (n.clone(), g.clone(), p.name.clone());
                let state = if to { "Enabled" } else { "Disabled" };
                let ask = Invocation::new("az synapse sql pool tde set")
                    .arg("--name", pool.clone())
                    .arg("--workspace-name", n)
                    .arg("--resource-group", g)
                    .arg("--status", state)
                    .arg("--transparent-data-encryption-name", "current");
                cx.request(ask, move |_, _| format!("TDE on {pool} is {state}."));
            }
        });
    }
    ui.horizontal_wrapped(|ui| {
        widgets::narrow_text_field(ui, "Pool name", &mut form.pool_name, "sqlpool1", 120.0);
        if ui
            .add_enabled(
                !cx.busy && !form.pool_name.trim().is_empty(),
                egui::Button::new("New dedicated SQL pool"),
            )
            .on_disabled_hover_text(widgets::why(&[
                (cx.busy, widgets::BUSY_WHY),
                (
                    form.pool_name.trim().is_empty(),
                    "Type the pool's name first.",
                ),
            ]))
            .clicked()
        {
            let (n, g, pool) = (n.clone(), g.clone(), form.pool_name.trim().to_string());
            let ask = Invocation::new("az synapse sql pool create")
                .arg("--name", pool.clone())
                .arg("--workspace-name", n)
                .arg("--resource-group", g)
                .arg("--performance-level", "DW100c");
            cx.request(ask, move |_, _| {
                format!("Dedicated SQL pool {pool} created.")
            });
        }
    });
}
