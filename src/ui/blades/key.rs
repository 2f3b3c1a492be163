//! Key version: kid, thumbprint, attributes, permitted operations; enable/disable, delete.

use super::{BladeCtx, outcome};
use crate::service::keyvault::{self, KeyAttributes};
use crate::ui::widgets::{properties, section};

pub fn show(
    ui: &mut egui::Ui,
    vault: &str,
    key: &str,
    version: &mut String,
    message: &mut Option<Result<String, String>>,
    cx: &mut BladeCtx<'_>,
) {
    let Some(v) = cx.ws.vault(vault).cloned() else {
        ui.label(format!("Key vault '{vault}' no longer exists."));
        return;
    };
    let Some(k) = v.key(key).cloned() else {
        ui.label(format!("Key '{key}' no longer exists."));
        return;
    };
    let Some(kv) = k.version(version).cloned() else {
        ui.label("This version no longer exists.");
        return;
    };
    if k.deleted.is_some() {
        crate::ui::widgets::error_box(
            ui,
            "This key is deleted (recoverable until its scheduled purge date).",
        );
    }
    properties(
        ui,
        "key-props",
        &[
            ("Key identifier", v.key_uri(&k.name, &kv.version)),
            ("Key type", k.kty.as_str().into()),
            ("RSA key size", format!("{}", kv.material.bits())),
            ("X.509 SHA-1 thumbprint (hex)", kv.material.thumbprint()),
            ("Created", kv.created.to_display()),
            ("Updated", kv.updated.to_display()),
            (
                "Activation date",
                kv.not_before
                    .map(|t| t.to_display())
                    .unwrap_or_else(|| "Not set".into()),
            ),
            (
                "Expiration date",
                kv.expires
                    .map(|t| t.to_display())
                    .unwrap_or_else(|| "Not set".into()),
            ),
            (
                "Enabled",
                if kv.enabled {
                    "Yes".into()
                } else {
                    "No".into()
                },
            ),
            (
                "Permitted operations",
                kv.key_ops
                    .iter()
                    .map(|o| o.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
        ],
    );
    section(ui, "Versions");
    for other in k.versions.iter().rev() {
        if ui
            .selectable_label(
                &other.version.0 == version,
                format!("{} · {}", other.version.0, other.created.to_display()),
            )
            .clicked()
        {
            *version = other.version.0.clone();
        }
    }
    section(ui, "Actions");
    ui.add_enabled_ui(!cx.busy && k.deleted.is_none(), |ui| {
        ui.horizontal(|ui| {
            let toggle = if kv.enabled { "Disable" } else { "Enable" };
            if ui.button(toggle).clicked() {
                let attrs = KeyAttributes {
                    enabled: Some(!kv.enabled),
                    ..Default::default()
                };
                let r = keyvault::set_key_attributes(cx.ws, vault, key, Some(version), &attrs);
                *message = Some(cx.apply(r, |kv| {
                    format!(
                        "Version is now {}.",
                        if kv.enabled { "enabled" } else { "disabled" }
                    )
                }));
            }
            if ui.button("Delete key").clicked() {
                let r = keyvault::delete_key(cx.ws, vault, key);
                *message = Some(cx.apply(r, |k| {
                    format!(
                        "Key '{}' deleted{}.",
                        k.name,
                        if k.deleted.is_some() {
                            " (recoverable)"
                        } else {
                            ""
                        }
                    )
                }));
            }
        });
    });
    outcome(ui, message);
}
