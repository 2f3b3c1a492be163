//! The vault blade's Secrets section: the secrets with their versions' state, a value shown
//! only on demand (a `get`, audited as `SecretGet`; masked otherwise), "Generate/Import"
//! (set), disable / enable, delete, and the deleted secrets with recover and purge. Every
//! click is an operation of [`crate::service::secrets`] with its `az` line.
//!
//! A value never goes into an `az` line: the session's script says `--value
//! "$SECRET_VALUE"`, so an exported script holds no secret.

use super::{BladeCtx, Invocation, Line, outcome, quoted, said};
use crate::model::*;
use crate::service::secrets::{self, SetSecret};
use crate::ui::widgets::{section, text_field};
use std::sync::{Arc, Mutex};

/// A value shown on demand: (secret, version, value). Filled by the `get` the click
/// queued, emptied by Hide.
type Revealed = Arc<Mutex<Option<(String, String, SecretValue)>>>;

#[derive(Default)]
pub struct SecretsForm {
    pub name: String,
    pub value: String,
    pub content_type: String,
    pub message: Option<Result<String, String>>,
    revealed: Revealed,
}

/// Letters and digits for a generated value (no characters a shell or a connection string
/// would need quoted).
const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

fn generated_value() -> String {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes[..]);
    bytes
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect()
}

fn revealed(f: &SecretsForm) -> Option<(String, String, SecretValue)> {
    f.revealed.lock().ok().and_then(|r| r.clone())
}

pub fn show(ui: &mut egui::Ui, v: &KeyVault, f: &mut SecretsForm, cx: &mut BladeCtx<'_>) {
    section(ui, "Secrets");
    if v.is_managed_hsm() {
        ui.label("A Managed HSM holds keys only.");
        return;
    }
    let shown = revealed(f);
    let live: Vec<&Secret> = v.secrets.iter().filter(|s| s.deleted.is_none()).collect();
    if live.is_empty() {
        ui.label(egui::RichText::new("No secrets.").weak());
    }
    for s in &live {
        let Some(cur) = s.current() else { continue };
        ui.horizontal_wrapped(|ui| {
            ui.strong(&s.name);
            ui.label(format!(
                "{} version(s) · {}{}{}",
                s.versions.len(),
                if cur.enabled { "enabled" } else { "disabled" },
                cur.content_type
                    .as_deref()
                    .map(|c| format!(" · {c}"))
                    .unwrap_or_default(),
                cur.expires
                    .map(|x| format!(" · expires {x}"))
                    .unwrap_or_default(),
            ));
            match shown.as_ref().filter(|(n, ver, _)| {
                n.eq_ignore_ascii_case(&s.name) && ver == &cur.version.0
            }) {
                Some((_, _, value)) => {
                    ui.monospace(value.reveal());
                    if ui.button(format!("Hide {}", s.name)).clicked()
                        && let Ok(mut r) = f.revealed.lock()
                    {
                        *r = None;
                    }
                }
                None => {
                    ui.monospace("••••••••");
                    if ui
                        .add_enabled(!cx.busy, egui::Button::new(format!("Show value of {}", s.name)))
.on_disabled_hover_text(crate::ui::widgets::BUSY_WHY)
                        .on_hover_text("Gets the secret (needs the 'get' permission; audited as SecretGet)")
                        .clicked()
                    {
                        let (vault, name) = (v.name.clone(), s.name.clone());
                        let cell = f.revealed.clone();
                        cx.az(format!(
                            "az keyvault secret show --vault-name {vault} --name {} --query value -o tsv",
                            quoted(&name)
                        ));
                        cx.run_to(Line::Secrets, move |ws| {
                            said(secrets::get_secret(ws, &vault, &name, None), |(_, s, sv)| {
                                let text = format!("Value of secret '{}' shown.", s.name);
                                if let Ok(mut r) = cell.lock() {
                                    *r = Some((s.name, sv.version.0, sv.value));
                                }
                                text
                            })
                        });
                    }
                }
            }
            let toggle = if cur.enabled { "Disable" } else { "Enable" };
            if ui
                .add_enabled(!cx.busy, egui::Button::new(format!("{toggle} {}", s.name)))
.on_disabled_hover_text(crate::ui::widgets::BUSY_WHY)
                .clicked()
            {
                let enable = !cur.enabled;
                let ask = Invocation::new("az keyvault secret set-attributes")
                    .arg("--vault-name", v.name.clone())
                    .arg("--name", s.name.clone())
                    .arg("--enabled", enable.to_string());
                let name = s.name.clone();
                cx.request_to(Line::Secrets, ask, move |_, _| {
                    format!(
                        "Secret '{name}' {}.",
                        if enable { "enabled" } else { "disabled" }
                    )
                });
            }
            if ui
                .add_enabled(!cx.busy, egui::Button::new(format!("Delete {}", s.name)))
.on_disabled_hover_text(crate::ui::widgets::BUSY_WHY)
                .clicked()
            {
                let (vault, name) = (v.name.clone(), s.name.clone());
                if let Ok(mut r) = f.revealed.lock() {
                    *r = None;
                }
                let ask = Invocation::new("az keyvault secret delete")
                    .arg("--vault-name", vault.clone())
                    .arg("--name", name.clone());
                cx.request_to(Line::Secrets, ask, move |_, ws| {
                    match ws.vault(&vault).and_then(|v| v.secret(&name)) {
                        Some(s) if s.deleted.is_some() => {
                            format!("Secret '{}' deleted (recoverable).", s.name)
                        }
                        _ => format!("Secret '{name}' deleted permanently."),
                    }
                });
            }
        });
    }
    let deleted: Vec<&Secret> = v.secrets.iter().filter(|s| s.deleted.is_some()).collect();
    if !deleted.is_empty() {
        egui::CollapsingHeader::new(format!("Manage deleted secrets ({})", deleted.len()))
            .default_open(false)
            .show(ui, |ui| {
                for s in &deleted {
                    let Some(d) = &s.deleted else { continue };
                    ui.horizontal_wrapped(|ui| {
                        ui.label(format!(
                            "{} · deleted {} · purged {}",
                            s.name, d.deleted_on, d.scheduled_purge
                        ));
                        if ui
                            .add_enabled(!cx.busy, egui::Button::new(format!("Recover secret {}", s.name)))
.on_disabled_hover_text(crate::ui::widgets::BUSY_WHY)
                            .clicked()
                        {
                            let ask = Invocation::new("az keyvault secret recover")
                                .arg("--vault-name", v.name.clone())
                                .arg("--name", s.name.clone());
                            let name = s.name.clone();
                            cx.request_to(Line::Secrets, ask, move |_, _| {
                                format!("Secret '{name}' recovered.")
                            });
                        }
                        if ui
                            .add_enabled(!cx.busy, egui::Button::new(format!("Purge secret {}", s.name)))
.on_disabled_hover_text(crate::ui::widgets::BUSY_WHY)
                            .on_hover_text("Needs the 'purge' permission; refused under purge protection until the retention ends")
                            .clicked()
                        {
                            let ask = Invocation::new("az keyvault secret purge")
                                .arg("--vault-name", v.name.clone())
                                .arg("--name", s.name.clone());
                            let name = s.name.clone();
                            cx.request_to(Line::Secrets, ask, move |_, _| {
                                format!("Secret '{name}' purged permanently.")
                            });
                        }
                    });
                }
            });
    }
    egui::CollapsingHeader::new("Generate/Import a secret")
        .default_open(false)
        .show(ui, |ui| {
            text_field(ui, "Secret name", &mut f.name, "db-password");
            ui.horizontal_wrapped(|ui| {
                let l = ui.label("Secret value");
                ui.add(
                    egui::TextEdit::singleline(&mut f.value)
                        .password(true)
                        .hint_text("value")
                        .desired_width(240.0),
                )
                .labelled_by(l.id);
                if ui.button("Generate a value").clicked() {
                    f.value = generated_value();
                }
            });
            text_field(ui, "Content type (optional)", &mut f.content_type, "text/plain");
            if ui
                .add_enabled(!cx.busy, egui::Button::new("Create secret"))
.on_disabled_hover_text(crate::ui::widgets::BUSY_WHY)
                .clicked()
            {
                let content_type = f.content_type.trim().to_string();
                let req = SetSecret {
                    content_type: (!content_type.is_empty()).then(|| content_type.clone()),
                    ..SetSecret::new(&v.name, f.name.trim(), f.value.clone())
                };
                match secrets::validate_set_secret(&req) {
                    Err(e) => f.message = Some(Err(e.to_string())),
                    Ok(()) => {
                        f.message = None;
                        f.value.clear();
                        cx.az(format!(
                            "az keyvault secret set --vault-name {} --name {} --value \"$SECRET_VALUE\"{}",
                            req.vault,
                            quoted(&req.name),
                            if content_type.is_empty() {
                                String::new()
                            } else {
                                format!(" --content-type {}", quoted(&content_type))
                            }
                        ));
                        cx.run_to(Line::Secrets, move |ws| {
                            said(secrets::set_secret(ws, &req), |(_, s, sv)| {
                                format!("Secret '{}' version {} set.", s.name, sv.version)
                            })
                        });
                    }
                }
            }
        });
    outcome(ui, &f.message);
}
