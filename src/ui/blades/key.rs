//! Key version: kid, thumbprint, attributes, permitted operations; enable/disable, delete,
//! rotate, the rotation policy, and downloading the public key.

use super::{BladeCtx, Invocation, confirmed, confirming, outcome};
use crate::model::{Duration, RotationPolicy, Timestamp};
use crate::service::dependents::{self, Dependent};
use crate::service::rotation;
use crate::ui::widgets::{AMBER, BLUE, badge, properties, section};

/// What depends on each version of the key (`None`: on the key as a whole), worked out
/// again only when the workspace changes.
fn cached_dependents(
    ui: &egui::Ui,
    cx: &BladeCtx<'_>,
    vault: &str,
    key: &str,
) -> std::sync::Arc<Vec<(Option<String>, Dependent)>> {
    type Cached = (u64, std::sync::Arc<Vec<(Option<String>, Dependent)>>);
    let id = ui
        .scope_id()
        .with(("key-dependents", cx.blade_id, vault, key));
    if let Some((rev, deps)) = ui.data(|d| d.get_temp::<Cached>(id))
        && rev == cx.ws.revision
    {
        return deps;
    }
    let versions: Vec<String> = cx
        .ws
        .vault(vault)
        .and_then(|v| v.key(key))
        .map(|k| k.versions.iter().map(|v| v.version.0.clone()).collect())
        .unwrap_or_default();
    let mut deps = Vec::new();
    for v in versions {
        for d in dependents::dependents(cx.ws, vault, key, Some(&v)) {
            deps.push((Some(v.clone()), d));
        }
    }
    let deps = std::sync::Arc::new(deps);
    ui.data_mut(|d| d.insert_temp(id, (cx.ws.revision, deps.clone())));
    deps
}

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
            match &kv.material {
                crate::crypto::KeyMaterial::Rsa(r) => ("RSA key size", format!("{}", r.bits())),
                crate::crypto::KeyMaterial::Ec(e) => (
                    "Elliptic curve name",
                    format!("{} (TDE cannot use EC keys)", e.curve().as_str()),
                ),
            },
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
    let deps = cached_dependents(ui, cx, vault, key);
    section(ui, "Used by (this version)");
    let mine: Vec<&(Option<String>, Dependent)> = deps
        .iter()
        .filter(|(v, _)| v.as_deref().is_none_or(|v| v.eq_ignore_ascii_case(version)))
        .collect();
    if mine.is_empty() {
        ui.label(
            egui::RichText::new(
                "Nothing: no server, database or backup within retention uses this version.",
            )
            .weak(),
        );
    }
    for (_, d) in &mine {
        ui.horizontal_wrapped(|ui| {
            // The pill names the kind of use: a linked key is not a backup.
            badge(ui, d.kind_word(), if d.is_live() { BLUE } else { AMBER });
            ui.label(d.describe());
        });
    }
    section(ui, "Versions");
    let newest = k.current().map(|c| c.version.0.clone());
    for other in k.versions.iter().rev() {
        let mut marks: Vec<String> = Vec::new();
        if newest.as_deref() == Some(other.version.0.as_str()) {
            marks.push("current version".into());
        }
        for (v, d) in deps.iter() {
            if v.as_deref()
                .is_some_and(|v| v.eq_ignore_ascii_case(&other.version.0))
            {
                marks.push(match d {
                    Dependent::Protector { server, .. } => format!("TDE protector of {server}"),
                    Dependent::DatabaseKey { database, .. } => format!("own key of {database}"),
                    Dependent::Linked { server } => format!("linked to {server}"),
                    Dependent::Backups { database, .. } => format!("backups of {database}"),
                });
            }
        }
        marks.dedup();
        if !other.enabled {
            marks.push("disabled".into());
        }
        let text = format!(
            "{} · {}{}",
            other.version.0.get(..12).unwrap_or(&other.version.0),
            other.created.to_display(),
            if marks.is_empty() {
                String::new()
            } else {
                format!(" · {}", marks.join(" · "))
            }
        );
        if ui
            .selectable_label(&other.version.0 == version, text)
            .on_hover_text(&other.version.0)
            .clicked()
            && &other.version.0 != version
        {
            *version = other.version.0.clone();
            // What was said about the version shown before is not about this one.
            *message = None;
        }
    }
    section(ui, "Actions");
    // What the greyed actions say.
    let why = if cx.busy {
        crate::ui::widgets::BUSY_WHY.to_string()
    } else {
        format!(
            "'{key}' is deleted: recover it first (the vault's Manage deleted keys), or it is purged at the end of its retention."
        )
    };
    ui.add_enabled_ui(!cx.busy && k.deleted.is_none(), |ui| {
        ui.horizontal_wrapped(|ui| {
            let toggle = if kv.enabled { "Disable" } else { "Enable" };
            let clicked = ui.button(toggle).on_disabled_hover_text(&why).clicked();
            let warn = || {
                dependents::key_loss_warning(
                    cx.ws,
                    vault,
                    key,
                    Some(version),
                    "Disabling this version",
                    "disabled",
                )
            };
            let warning = if kv.enabled && (clicked || confirming(ui, "disable")) {
                warn()
            } else {
                None
            };
            if confirmed(
                ui,
                "disable",
                clicked,
                "Disable this key version?",
                warning,
                "Disable anyway",
            ) {
                let enable = !kv.enabled;
                cx.request(
                    Invocation::new("az keyvault key set-attributes")
                        .arg("--vault-name", vault)
                        .arg("--name", key)
                        .arg("--version", version.to_string())
                        .arg("--enabled", enable.to_string()),
                    move |_, _| {
                        format!(
                            "Version is now {}.",
                            if enable { "enabled" } else { "disabled" }
                        )
                    },
                );
            }
            if ui
                .button("Rotate now")
                .on_disabled_hover_text(&why)
                .clicked()
            {
                let (v, k) = (vault.to_string(), key.to_string());
                cx.spawn_request(
                    format!("Rotating '{key}'…"),
                    Invocation::new("az keyvault key rotate")
                        .arg("--vault-name", vault)
                        .arg("--name", key),
                    move |_, ws| {
                        format!(
                            "Key rotated: new version {}.",
                            super::current_version(ws, &v, &k).unwrap_or_default()
                        )
                    },
                );
            }
            let clicked = ui
                .button("Delete key")
                .on_disabled_hover_text(&why)
                .clicked();
            let warning = if clicked || confirming(ui, "delete") {
                dependents::key_loss_warning(
                    cx.ws,
                    vault,
                    key,
                    None,
                    "Deleting this key",
                    "deleted",
                )
            } else {
                None
            };
            if confirmed(
                ui,
                "delete",
                clicked,
                "Delete this key?",
                warning,
                "Delete anyway",
            ) {
                let (v, k) = (vault.to_string(), key.to_string());
                cx.request(
                    Invocation::new("az keyvault key delete")
                        .arg("--vault-name", vault)
                        .arg("--name", key),
                    move |_, ws| {
                        let kept = ws.vault(&v).and_then(|v| v.key(&k));
                        format!(
                            "Key '{}' deleted{}.",
                            kept.map_or(k.as_str(), |k| k.name.as_str()),
                            if kept.is_some_and(|k| k.deleted.is_some()) {
                                " (recoverable)"
                            } else {
                                ""
                            }
                        )
                    },
                );
            }
        });
    });
    outcome(ui, message);
    if k.deleted.is_none() {
        rotation_policy(ui, vault, key, k.rotation_policy.as_ref(), message, cx);
        download_public_key(ui, vault, key, version, cx);
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
    // Wrapped: at 200 % the three fields ran past the blade's right edge.
    ui.horizontal_wrapped(|ui| {
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
        .on_disabled_hover_text(crate::ui::widgets::BUSY_WHY)
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
                cx.request(
                    Invocation::new("az keyvault key rotation-policy update")
                        .arg("--vault-name", vault)
                        .arg("--name", key)
                        .arg("--value", policy_json(&p)),
                    |_, _| "Rotation policy saved.".into(),
                );
            }
        }
    }
    ui.data_mut(|d| d.insert_temp(id, form));
}

/// A rotation policy as the JSON `az keyvault key rotation-policy update --value` takes.
fn policy_json(p: &RotationPolicy) -> String {
    use serde_json::json;
    json!({
        "lifetimeActions": rotation::lifetime_actions_json(p),
        "attributes": {"expiryTime": p.expiry_time.map(rotation::iso_days)}
    })
    .to_string()
}

/// Writes the version's public key (PEM) to a file, off the UI thread.
fn download_public_key(
    ui: &mut egui::Ui,
    vault: &str,
    key: &str,
    version: &str,
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
        .on_disabled_hover_text(crate::ui::widgets::why(&[
            (cx.busy, crate::ui::widgets::BUSY_WHY),
            (
                path.trim().is_empty(),
                "Type the path of the public key file first.",
            ),
        ]))
        .clicked()
    {
        let target = path.trim().to_string();
        let ask = Invocation::new("az keyvault key download")
            .arg("--vault-name", vault)
            .arg("--name", key)
            .arg("--version", version)
            .arg("--file", target.clone())
            .arg("--encoding", "PEM");
        cx.spawn_request("Saving the public key…", ask, move |_, _| {
            format!("Public key written to {target}.")
        });
    }
    ui.data_mut(|d| d.insert_temp(id, path));
}
