//! Database overview: status, Resource Health, TDE and its wrapped DEK, "Test connection".

use super::{BladeCtx, outcome};
use crate::model::*;
use crate::ui::widgets::{self, health_badge, properties, section, state_badge};

pub fn show(
    ui: &mut egui::Ui,
    server: &str,
    db: &str,
    message: &mut Option<Result<String, String>>,
    cx: &mut BladeCtx<'_>,
) {
    let Some(d) = cx.ws.server(server).and_then(|s| s.database(db)).cloned() else {
        ui.label(format!("Database '{db}' no longer exists."));
        return;
    };
    ui.horizontal(|ui| {
        ui.label("Status:");
        state_badge(ui, &d.state);
        ui.label("Resource health:");
        health_badge(ui, d.health);
    });
    if let DatabaseState::Inaccessible {
        since,
        cause,
        access_restored_at,
        revalidation_required,
    } = &d.state
    {
        let window = cx.ws.profile.auto_heal_window();
        let left = (*since + window) - cx.ws.now();
        let mut text = format!(
            "This database is inaccessible since {since}: the server lost access to its TDE protector ({}: {}).",
            cause.code(),
            cause.describe()
        );
        if *revalidation_required {
            text.push_str(
                " Access came back after the auto-heal window: the key must be revalidated.",
            );
        } else if let Some(at) = access_restored_at {
            text.push_str(&format!(
                " Access was restored at {at}; the database comes back online within the hour."
            ));
        } else if left.0 > 0 {
            text.push_str(&format!(
                " Restore access within {} for it to heal by itself.",
                left.human()
            ));
        } else {
            text.push_str(
                " The auto-heal window has passed: after restoring access, revalidate the key.",
            );
        }
        widgets::error_box(ui, &text);
    }
    section(ui, "Essentials");
    let mut rows = vec![
        ("Server", server.to_string()),
        ("Service tier", d.tier.label().to_string()),
        ("Max size", format!("{} GB", d.max_size_gb)),
        ("Created", d.created.to_display()),
        (
            "Transparent data encryption",
            if d.tde_enabled() {
                "On".into()
            } else {
                "Off".into()
            },
        ),
        ("Sample data pages", format!("{} × 8 KiB", d.pages.len())),
    ];
    if let Some(w) = &d.dek {
        rows.push(("DEK wrapped by", w.server_key_name.clone()));
        rows.push(("Protector thumbprint", w.thumbprint.clone()));
        rows.push((
            "Wrapped DEK",
            format!("{} bytes (RSA-OAEP-256)", w.wrapped.len()),
        ));
    }
    properties(ui, "db-props", &rows);
    ui.add_space(6.0);
    if ui.button("Test connection").clicked() {
        let r = crate::service::sql::connect(cx.ws, server, db);
        cx.actions.push(super::Action::Changed);
        *message = Some(match r {
            Ok(rep) => Ok(format!(
                "Connected. {} page(s) read and authenticated with the database encryption key.",
                rep.pages_verified
            )),
            Err(e) => Err(e.to_string()),
        });
    }
    outcome(ui, message);
}
