//! Key version: kid, thumbprint, attributes, permitted operations; enable/disable, delete,
//! rotate, the rotation policy, and downloading the public key.

use super::{BladeCtx, outcome, said};
use crate::model::{Duration, RotationPolicy, Timestamp};
use crate::service::keyvault::{self, KeyAttributes};
use crate::service::rotation;
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
                let (vault, key, version) = (vault.to_string(), key.to_string(), version.clone());
                cx.run(move |ws| {
                    said(
                        keyvault::set_key_attributes(ws, &vault, &key, Some(&version), &attrs),
                        |kv| {
                            format!(
                                "Version is now {}.",
                                if kv.enabled { "enabled" } else { "disabled" }
                            )
                        },
                    )
                });
            }
            if ui.button("Rotate now").clicked() {
                let (vault, key) = (vault.to_string(), key.to_string());
                let keys = cx.keys.clone();
                cx.spawn(format!("Rotating '{key}'…"), move |ws| {
                    let bits =
                        rotation::current_bits(ws, &vault, &key).map_err(|e| e.to_string())?;
                    let m = keys.generate(bits).map_err(|e| e.to_string())?;
                    rotation::rotate_key(ws, &vault, &key, m)
                        .map(|kv| format!("Key rotated: new version {}.", kv.version))
                        .map_err(|e| e.to_string())
                });
            }
            if ui.button("Delete key").clicked() {
                let (vault, key) = (vault.to_string(), key.to_string());
                cx.run(move |ws| {
                    said(keyvault::delete_key(ws, &vault, &key), |k| {
                        format!(
                            "Key '{}' deleted{}.",
                            k.name,
                            if k.deleted.is_some() {
                                " (recoverable)"
                            } else {
                                ""
                            }
                        )
                    })
                });
            }
        });
    });
    outcome(ui, message);
    if k.deleted.is_none() {
        rotation_policy(ui, vault, key, k.rotation_policy.as_ref(), message, cx);
        download_public_key(ui, vault, key, version, message, cx);
    }
}

/// The rotation policy editor (days).
fn rotation_policy(
    ui: &mut egui::Ui,
    vault: &str,
    key: &str,
    current: Option<&RotationPolicy>,
    message: &mut Option<Result<String, String>>,
    cx: &mut BladeCtx<'_>,
) {
    section(ui, "Rotation policy");
    let days = |d: Option<Duration>| d.map(|d| (d.0 / 86_400).to_string()).unwrap_or_default();
    let id = ui.scope_id().with(("rotation-policy", vault, key));
    let mut form: [String; 3] = ui.data_mut(|d| d.get_temp(id)).unwrap_or_else(|| {
        [
            days(current.and_then(|p| p.rotate_after_create)),
            days(current.and_then(|p| p.expiry_time)),
            days(Some(
                current
                    .map(|p| p.notify_before_expiry)
                    .unwrap_or(RotationPolicy::DEFAULT_NOTIFY),
            )),
        ]
    });
    ui.label(match current {
        Some(p) => format!(
            "Rotate {} · new versions expire {} · notify {} before expiry.",
            p.rotate_after_create
                .map(|d| format!("{} after creation", d.human()))
                .or(p
                    .rotate_before_expiry
                    .map(|d| format!("{} before expiry", d.human())))
                .unwrap_or_else(|| "never automatically".into()),
            p.expiry_time
                .map(|d| format!("{} after creation", d.human()))
                .unwrap_or_else(|| "never".into()),
            p.notify_before_expiry.human()
        ),
        None => "No rotation policy: the key is rotated only by hand.".into(),
    });
    ui.horizontal(|ui| {
        crate::ui::widgets::narrow_text_field(ui, "Rotate after (days)", &mut form[0], "90", 50.0);
        crate::ui::widgets::narrow_text_field(ui, "Expire after (days)", &mut form[1], "365", 50.0);
        crate::ui::widgets::narrow_text_field(
            ui,
            "Notify before expiry (days)",
            &mut form[2],
            "30",
            50.0,
        );
    });
    if ui
        .add_enabled(!cx.busy, egui::Button::new("Save rotation policy"))
        .clicked()
    {
        let parse = |t: &str| -> Result<Option<Duration>, String> {
            let t = t.trim();
            if t.is_empty() {
                return Ok(None);
            }
            t.parse::<i64>()
                .map(|n| Some(Duration::days(n)))
                .map_err(|_| format!("'{t}' is not a number of days."))
        };
        let policy = (|| -> Result<RotationPolicy, String> {
            Ok(RotationPolicy {
                rotate_after_create: parse(&form[0])?,
                rotate_before_expiry: None,
                expiry_time: parse(&form[1])?,
                notify_before_expiry: parse(&form[2])?.unwrap_or(RotationPolicy::DEFAULT_NOTIFY),
                updated: Timestamp(0),
            })
        })();
        match policy {
            Err(e) => *message = Some(Err(e)),
            Ok(p) => {
                let (vault, key) = (vault.to_string(), key.to_string());
                cx.run(move |ws| {
                    said(rotation::set_rotation_policy(ws, &vault, &key, p), |_| {
                        "Rotation policy saved.".into()
                    })
                });
            }
        }
    }
    ui.data_mut(|d| d.insert_temp(id, form));
}

/// Writes the version's public key (PEM) to a file, off the UI thread.
fn download_public_key(
    ui: &mut egui::Ui,
    vault: &str,
    key: &str,
    version: &str,
    message: &mut Option<Result<String, String>>,
    cx: &mut BladeCtx<'_>,
) {
    section(ui, "Download public key");
    let id = ui.scope_id().with(("public-key-path", vault, key));
    let mut path: String = ui.data_mut(|d| d.get_temp(id)).unwrap_or_default();
    crate::ui::widgets::text_field(ui, "Public key file", &mut path, "/path/to/public.pem");
    if ui
        .add_enabled(
            !cx.busy && !path.trim().is_empty(),
            egui::Button::new("Download public key (PEM)"),
        )
        .clicked()
    {
        match keyvault::download_public_key(cx.ws, vault, key, Some(version)) {
            Err(e) => *message = Some(Err(e.to_string())),
            Ok(pem) => {
                let target = path.trim().to_string();
                cx.spawn("Saving the public key…", move |_| {
                    crate::persist::write_new_file(std::path::Path::new(&target), pem.as_bytes())
                        .map(|()| format!("Public key written to {target}."))
                });
            }
        }
    }
    ui.data_mut(|d| d.insert_temp(id, path));
}
