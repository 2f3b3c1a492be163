//! Key vault overview: properties, firewall, keys (generate off the UI thread), access
//! policies (add with a template, remove), and secrets ([`super::vault_secrets`]).

use super::{BladeCtx, BladeKind, Change, Invocation, Line, outcome};
use crate::model::*;
use crate::service::keyvault::{self, CreateKey};
use crate::ui::widgets::{properties, section, text_field};
use std::collections::BTreeSet;

pub struct VaultForms {
    pub key_name: String,
    pub key_type: KeyType,
    pub key_size: usize,
    pub key_message: Option<Result<String, String>>,
    pub object_id: String,
    pub permissions: BTreeSet<KeyPermission>,
    /// Secret permissions of the policy being added (none: its secret permissions stay).
    pub secret_permissions: BTreeSet<SecretPermission>,
    pub policy_message: Option<Result<String, String>>,
    pub network_message: Option<Result<String, String>>,
    pub backup_key: String,
    pub backup_path: String,
    pub ip_rule: String,
    pub secrets: Box<super::vault_secrets::SecretsForm>,
}

impl Default for VaultForms {
    fn default() -> Self {
        VaultForms {
            key_name: String::new(),
            key_type: KeyType::Rsa,
            key_size: 3072,
            key_message: None,
            object_id: String::new(),
            permissions: KeyPermission::TDE_REQUIRED.into_iter().collect(),
            secret_permissions: BTreeSet::new(),
            policy_message: None,
            network_message: None,
            backup_key: String::new(),
            backup_path: String::new(),
            ip_rule: String::new(),
            secrets: Default::default(),
        }
    }
}

/// The vault's availability while an outage lasts (Simulate menu, or `sim keyvault outage`).
fn availability(ui: &mut egui::Ui, v: &KeyVault, cx: &mut BladeCtx<'_>) {
    use crate::service::outage;
    let now = cx.ws.now();
    if outage::vault_unreachable(cx.ws, v) {
        crate::ui::widgets::error_box(
            ui,
            &format!(
                "Unreachable (HTTP 5XX){}. Servers whose protector is here switch to a linked copy of the same key material in another vault, if they have one.",
                v.outage_until
                    .filter(|t| *t > now)
                    .map(|t| format!(" until {t}"))
                    .unwrap_or_default()
            ),
        );
    } else if outage::vault_read_only(cx.ws, v) {
        crate::ui::widgets::error_box(
            ui,
            &format!(
                "Region {} is down: the vault serves read-only from the paired region (get, wrap, unwrap work; changes are refused).",
                v.location
            ),
        );
    }
}

pub fn show(ui: &mut egui::Ui, name: &str, f: &mut VaultForms, cx: &mut BladeCtx<'_>) {
    let Some(v) = cx.ws.vault(name).filter(|v| v.deleted.is_none()).cloned() else {
        ui.label(format!("Key vault '{name}' no longer exists."));
        return;
    };
    section(ui, "Properties");
    properties(
        ui,
        "vault-props",
        &[
            ("Vault URI", v.uri()),
            ("Location", v.location.clone()),
            ("Resource group", v.resource_group.clone()),
            ("Directory (tenant)", v.tenant.0.clone()),
            (
                "Soft delete",
                if v.soft_delete {
                    format!("Enabled, {} days retention", v.retention_days)
                } else {
                    "Disabled".into()
                },
            ),
            (
                "Purge protection",
                if v.purge_protection {
                    "Enabled".into()
                } else {
                    "Disabled".into()
                },
            ),
            ("Recovery level", v.recovery_level().into()),
        ],
    );
    ui.horizontal_wrapped(|ui| {
        if ui
            .button("Access control (IAM), locks, diagnostic settings")
            .clicked()
        {
            cx.open(BladeKind::VaultGovernance {
                vault: name.to_string(),
                form: Default::default(),
            });
        }
        if ui.button("Logs").clicked() {
            cx.open(BladeKind::VaultLogs {
                vault: name.to_string(),
                view: Default::default(),
            });
        }
        if ui.button("Metrics").clicked() {
            cx.open(BladeKind::VaultMetrics {
                vault: name.to_string(),
            });
        }
        if ui.button("Topology").clicked() {
            cx.open(BladeKind::Topology);
        }
    });
    availability(ui, &v, cx);
    section(ui, "Networking");
    let mut acls = v.network.clone();
    let mut changed = ui
        .checkbox(
            &mut acls.restricted,
            "Allow public access from specific networks only (firewall on)",
        )
        .changed();
    changed |= ui
        .checkbox(
            &mut acls.public_access_disabled,
            "Disable public access (trusted services only, with the bypass)",
        )
        .changed();
    ui.add_enabled_ui(acls.restricted || acls.public_access_disabled, |ui| {
        changed |= ui
            .checkbox(
                &mut acls.bypass_trusted_services,
                "Allow trusted Microsoft services to bypass this firewall",
            )
            .on_disabled_hover_text(
                "The bypass is part of the firewall: turn on 'specific networks only' or disable public access first.",
            )
            .changed();
    });
    if changed && !cx.busy {
        cx.request_to(
            Line::Network,
            Invocation::new("az keyvault update")
                .arg("--name", v.name.clone())
                .arg(
                    "--default-action",
                    if acls.restricted { "Deny" } else { "Allow" },
                )
                .arg(
                    "--bypass",
                    if acls.bypass_trusted_services {
                        "AzureServices"
                    } else {
                        "None"
                    },
                )
                .arg(
                    "--public-network-access",
                    if acls.public_access_disabled {
                        "Disabled"
                    } else {
                        "Enabled"
                    },
                ),
            |_, _| "Networking saved.".into(),
        );
    }
    if v.network.restricted {
        let mut remove = None;
        for r in &v.network.ip_rules {
            ui.horizontal_wrapped(|ui| {
                ui.label(format!("IP rule {r}"));
                if ui
                    .add_enabled(!cx.busy, egui::Button::new(format!("Remove {r}")))
                    .on_disabled_hover_text(crate::ui::widgets::BUSY_WHY)
                    .clicked()
                {
                    remove = Some(r.clone());
                }
            });
        }
        if let Some(r) = remove {
            let ask = Invocation::new("az keyvault network-rule remove")
                .arg("--name", v.name.clone())
                .arg("--ip-address", r.clone());
            cx.request_to(Line::Network, ask, move |_, _| {
                format!("IP rule {r} removed.")
            });
        }
        ui.horizontal_wrapped(|ui| {
            crate::ui::widgets::narrow_text_field(
                ui,
                "Address or range",
                &mut f.ip_rule,
                "203.0.113.0/24",
                160.0,
            );
            if ui
                .add_enabled(!cx.busy, egui::Button::new("Add IP rule"))
                .on_disabled_hover_text(crate::ui::widgets::BUSY_WHY)
                .clicked()
            {
                let ask = Invocation::new("az keyvault network-rule add")
                    .arg("--name", v.name.clone())
                    .arg("--ip-address", f.ip_rule.trim());
                cx.request_to(Line::Network, ask, |_, _| "IP rule added.".into());
            }
            let me = cx.ws.console_user.client_ip.clone();
            if ui
                .add_enabled(
                    !cx.busy,
                    egui::Button::new(format!("Add your client IP ({me})")),
                )
                .on_disabled_hover_text(crate::ui::widgets::BUSY_WHY)
                .clicked()
            {
                let ask = Invocation::new("az keyvault network-rule add")
                    .arg("--name", v.name.clone())
                    .arg("--ip-address", me.clone());
                cx.request_to(Line::Network, ask, move |_, _| {
                    format!("IP rule {me} added.")
                });
            }
        });
    }
    outcome(ui, &f.network_message);

    section(ui, "Keys");
    for k in v.keys.iter().filter(|k| k.deleted.is_none()) {
        let Some(cur) = k.current() else { continue };
        ui.horizontal_wrapped(|ui| {
            if ui.link(&k.name).clicked() {
                cx.open(BladeKind::KeyVersion {
                    vault: v.name.clone(),
                    key: k.name.clone(),
                    // The version a server or database uses, which is not always the newest.
                    version: crate::service::dependents::version_in_use(cx.ws, &v.name, &k.name)
                        .unwrap_or_else(|| cur.version.0.clone()),
                    message: None,
                });
            }
            let disabled = k.versions.iter().filter(|x| !x.enabled).count();
            ui.label(format!(
                "{} {} · {} version(s){}",
                k.kty.as_str(),
                cur.material.bits(),
                k.versions.len(),
                match (cur.enabled, disabled) {
                    (false, _) => " · current version disabled".to_string(),
                    (true, 0) => String::new(),
                    (true, n) => format!(" · {n} older version(s) disabled"),
                }
            ));
        });
    }
    let deleted: Vec<&Key> = v.keys.iter().filter(|k| k.deleted.is_some()).collect();
    if !deleted.is_empty() {
        egui::CollapsingHeader::new(format!("Manage deleted keys ({})", deleted.len()))
            .default_open(false)
            .show(ui, |ui| {
                for k in &deleted {
                    let Some(d) = &k.deleted else { continue };
                    ui.horizontal_wrapped(|ui| {
                        ui.label(format!(
                            "{} · deleted {} · purged {}",
                            k.name, d.deleted_on, d.scheduled_purge
                        ));
                        if ui
                            .add_enabled(!cx.busy, egui::Button::new(format!("Recover {}", k.name)))
.on_disabled_hover_text(crate::ui::widgets::BUSY_WHY)
                            .clicked()
                        {
                            let ask = Invocation::new("az keyvault key recover")
                                .arg("--vault-name", v.name.clone())
                                .arg("--name", k.name.clone());
                            let key = k.name.clone();
                            cx.request(ask, move |_, _| format!("Key '{key}' recovered."));
                        }
                        if ui
                            .add_enabled(!cx.busy, egui::Button::new(format!("Purge {}", k.name)))
.on_disabled_hover_text(crate::ui::widgets::BUSY_WHY)
                            .on_hover_text("Needs the 'purge' permission; refused under purge protection until the retention ends")
                            .clicked()
                        {
                            let ask = Invocation::new("az keyvault key purge")
                                .arg("--vault-name", v.name.clone())
                                .arg("--name", k.name.clone());
                            let key = k.name.clone();
                            cx.request(ask, move |_, _| format!("Key '{key}' purged permanently."));
                        }
                    });
                }
            });
    }
    if ui.button("Import a key (PEM, PFX, BYOK)").clicked() {
        cx.open(BladeKind::KeyImport {
            vault: v.name.clone(),
            form: Default::default(),
        });
    }
    egui::CollapsingHeader::new("Generate a key")
        .default_open(false)
        .show(ui, |ui| {
            text_field(ui, "Key name", &mut f.key_name, "tde-key");
            ui.horizontal_wrapped(|ui| {
                ui.radio_value(&mut f.key_type, KeyType::Rsa, "RSA");
                ui.radio_value(&mut f.key_type, KeyType::RsaHsm, "RSA-HSM");
            });
            ui.horizontal_wrapped(|ui| {
                for size in [2048, 3072, 4096] {
                    ui.radio_value(&mut f.key_size, size, format!("{size}"));
                }
            });
            ui.horizontal_wrapped(|ui| {
                if ui
                    .add_enabled(!cx.busy, egui::Button::new("Create"))
                    .on_disabled_hover_text(crate::ui::widgets::BUSY_WHY)
                    .clicked()
                {
                    let req = CreateKey::new(&v.name, f.key_name.trim(), f.key_type, f.key_size);
                    match keyvault::validate_create_key(cx.ws, &req) {
                        Err(e) => f.key_message = Some(Err(e.to_string())),
                        Ok(()) => {
                            f.key_message = None;
                            let ask = Invocation::new("az keyvault key create")
                                .arg("--vault-name", req.vault.clone())
                                .arg("--name", req.name.clone())
                                .arg("--kty", req.kty.as_str())
                                .arg("--size", req.size.to_string());
                            let (vault, key) = (req.vault.clone(), req.name.clone());
                            cx.spawn_request(
                                format!("Generating RSA {} key '{}'…", req.size, req.name),
                                ask,
                                move |_, ws| {
                                    let name = ws
                                        .vault(&vault)
                                        .and_then(|v| v.key(&key))
                                        .map_or(key.clone(), |k| k.name.clone());
                                    format!(
                                        "Key '{name}' version {} created.",
                                        super::current_version(ws, &vault, &key)
                                            .unwrap_or_default()
                                    )
                                },
                            );
                        }
                    }
                }
                if cx.busy {
                    ui.spinner();
                }
            });
        });

    egui::CollapsingHeader::new("Back up / restore a key")
        .default_open(false)
        .show(ui, |ui| {
            let live: Vec<String> = v
                .keys
                .iter()
                .filter(|k| k.deleted.is_none())
                .map(|k| k.name.clone())
                .collect();
            crate::ui::widgets::combo(
                ui,
                "Key to back up",
                egui::WidgetText::from(if f.backup_key.is_empty() {
                    "Select a key"
                } else {
                    f.backup_key.as_str()
                }),
                None,
                |ui| {
                    for k in &live {
                        ui.selectable_value(&mut f.backup_key, k.clone(), k);
                    }
                },
            );
            text_field(ui, "Backup file", &mut f.backup_path, "/path/to/key.backup");
            ui.horizontal_wrapped(|ui| {
                let path = f.backup_path.trim().to_string();
                if ui
                    .add_enabled(
                        !cx.busy && !path.is_empty() && !f.backup_key.is_empty(),
                        egui::Button::new("Back up to file"),
                    )
                    .on_disabled_hover_text(crate::ui::widgets::why(&[
                        (cx.busy, crate::ui::widgets::BUSY_WHY),
                        (f.backup_key.is_empty(), "Pick the key to back up first."),
                        (path.is_empty(), "Type the path of the backup file first."),
                    ]))
                    .clicked()
                {
                    cx.spawn_key_backup(v.name.clone(), f.backup_key.clone(), path.clone());
                }
                if ui
                    .add_enabled(
                        !cx.busy && !path.is_empty(),
                        egui::Button::new("Restore from file"),
                    )
                    .on_disabled_hover_text(crate::ui::widgets::why(&[
                        (cx.busy, crate::ui::widgets::BUSY_WHY),
                        (path.is_empty(), "Type the path of the backup file first."),
                    ]))
                    .clicked()
                {
                    let vault = v.name.clone();
                    let ask = Invocation::new("az keyvault key restore")
                        .arg("--vault-name", vault.clone())
                        .arg("--file", path.clone());
                    let restored = Change::request(ask, move |out, ws| {
                        // The key's name from its id in the command's output.
                        let kid = out["key"]["kid"].as_str().unwrap_or_default();
                        let name = KeyUri::parse(kid).map(|u| u.key).unwrap_or_default();
                        let versions = ws
                            .vault(&vault)
                            .and_then(|v| v.key(&name))
                            .map_or(0, |k| k.versions.len());
                        format!("Key '{name}' restored with {versions} version(s).")
                    })
                    // As the portal says it (az's own words start in lower case).
                    .refused_as(|e| match e.strip_prefix("cannot read ") {
                        Some(rest) => format!("Cannot read {rest}"),
                        None => e,
                    });
                    cx.spawn_change("Restoring a key backup…", restored);
                }
            });
        });

    outcome(ui, &f.key_message);

    section(ui, "Access policies");
    let known = known_principals(cx.ws);
    let mut remove = None;
    for p in &v.access_policies {
        ui.horizontal_wrapped(|ui| {
            let who = known
                .iter()
                .find(|(id, _)| id == &p.object_id.0)
                .map(|(_, n)| n.clone())
                .unwrap_or_else(|| p.object_id.0.clone());
            ui.strong(who);
            ui.label(
                p.key_permissions
                    .iter()
                    .map(|k| k.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            );
            if !p.secret_permissions.is_empty() {
                ui.label(format!(
                    "· secrets: {}",
                    p.secret_permissions
                        .iter()
                        .map(|k| k.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            if ui
                .add_enabled(!cx.busy, egui::Button::new("Remove").small())
                .on_disabled_hover_text(crate::ui::widgets::BUSY_WHY)
                .on_hover_text(p.object_id.0.clone())
                .clicked()
            {
                remove = Some(p.object_id.clone());
            }
        });
    }
    let pending: Vec<&PendingRevocation> = v
        .pending_revocations
        .iter()
        .filter(|p| p.effective_at > cx.ws.now())
        .collect();
    for p in pending {
        ui.label(
            egui::RichText::new(format!(
                "Propagating: {} still honoured for {} until {}",
                p.permissions
                    .iter()
                    .map(|k| k.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                p.object_id,
                p.effective_at
            ))
            .weak(),
        );
    }
    // Removing a server's access asks first when databases depend on it.
    let pending_id = ui.scope_id().with("policy-to-remove");
    if let Some(oid) = &remove {
        ui.data_mut(|d| d.insert_temp(pending_id, oid.clone()));
    }
    let pending: Option<PrincipalId> = ui.data(|d| d.get_temp(pending_id));
    let warning = pending.as_ref().and_then(|oid| {
        let lost = crate::service::dependents::databases_lost_without_access(cx.ws, &v.name, oid);
        crate::service::dependents::loss_warning(
            &lost,
            "Removing this access policy",
            "within 10 minutes of the change reaching the vault (a few minutes)",
        )
    });
    let go = super::confirmed(
        ui,
        "remove-policy",
        remove.is_some(),
        "Remove this access policy?",
        warning,
        "Remove anyway",
    );
    if go && let Some(oid) = pending {
        ui.data_mut(|d| d.remove::<PrincipalId>(pending_id));
        let ask = Invocation::new("az keyvault delete-policy")
            .arg("--name", v.name.clone())
            .arg("--object-id", oid.to_string());
        cx.request_to(Line::Policy, ask, |_, _| {
            "Access policy removed. The change takes a few minutes to reach every caller.".into()
        });
    }
    egui::CollapsingHeader::new("Add access policy")
        .default_open(false)
        .show(ui, |ui| {
            ui.horizontal_wrapped(|ui| {
                ui.label("Principal:");
                for (id, label) in &known {
                    if ui.selectable_label(&f.object_id == id, label).clicked() {
                        f.object_id = id.clone();
                    }
                }
            });
            text_field(
                ui,
                "Object ID",
                &mut f.object_id,
                "00000000-0000-0000-0000-000000000000",
            );
            ui.horizontal_wrapped(|ui| {
                ui.label("Template:");
                if ui
                    .button("SQL Server TDE (get, wrapKey, unwrapKey)")
                    .clicked()
                {
                    f.permissions = KeyPermission::TDE_REQUIRED.into_iter().collect();
                }
                if ui.button("Key management").clicked() {
                    f.permissions = KeyPermission::KEY_MANAGEMENT.into_iter().collect();
                }
            });
            ui.horizontal_wrapped(|ui| {
                for p in KeyPermission::ALL {
                    let mut on = f.permissions.contains(&p);
                    if ui.checkbox(&mut on, p.as_str()).changed() {
                        if on {
                            f.permissions.insert(p);
                        } else {
                            f.permissions.remove(&p);
                        }
                    }
                }
            });
            // Secret permissions, as the portal's second list (folded: TDE needs none).
            egui::CollapsingHeader::new(format!(
                "Secret permissions ({})",
                f.secret_permissions.len()
            ))
            .id_salt("policy-secret-permissions")
            .show(ui, |ui| {
                ui.horizontal_wrapped(|ui| {
                    for p in SecretPermission::ALL {
                        let mut on = f.secret_permissions.contains(&p);
                        if ui
                            .checkbox(&mut on, format!("{} secrets", p.as_str()))
                            .changed()
                        {
                            if on {
                                f.secret_permissions.insert(p);
                            } else {
                                f.secret_permissions.remove(&p);
                            }
                        }
                    }
                });
            });
            if ui
                .add_enabled(!cx.busy, egui::Button::new("Add"))
                .on_disabled_hover_text(crate::ui::widgets::BUSY_WHY)
                .clicked()
            {
                let mut ask = Invocation::new("az keyvault set-policy")
                    .arg("--name", v.name.clone())
                    .arg("--object-id", f.object_id.trim())
                    .args(
                        "--key-permissions",
                        f.permissions.iter().map(|p| p.as_str()),
                    );
                if !f.secret_permissions.is_empty() {
                    ask = ask.args(
                        "--secret-permissions",
                        f.secret_permissions.iter().map(|p| p.as_str()),
                    );
                }
                cx.request_to(Line::Policy, ask, |_, _| "Access policy saved.".into());
            }
        });
    // "Access policy removed…" (or "saved") holds only until the policies change again (a
    // grant back from the Cloud Shell left it showing, as if still current).
    super::forget_when_changed(
        ui,
        "vault-policies",
        &mut f.policy_message,
        v.access_policies
            .iter()
            .map(|p| {
                (
                    p.object_id.to_string(),
                    p.key_permissions.len(),
                    p.secret_permissions.len(),
                )
            })
            .collect::<Vec<_>>(),
    );
    outcome(ui, &f.policy_message);

    super::vault_secrets::show(ui, &v, &mut f.secrets, cx);
}

/// Principals a user would pick from: the console user and every server identity.
pub(super) fn known_principals(ws: &Workspace) -> Vec<(String, String)> {
    let mut out = vec![(
        ws.console_user.object_id.0.clone(),
        format!("{} (you)", ws.console_user.upn),
    )];
    for s in &ws.servers {
        if let Some(id) = &s.identity {
            out.push((
                id.principal_id.0.clone(),
                format!("{} (server identity)", s.name),
            ));
        }
    }
    out
}
