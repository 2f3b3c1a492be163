//! View > "Serve vaults on localhost": the workspace's vaults as Key Vault endpoints on
//! 127.0.0.1 for real SDK clients (see [`crate::vault_endpoint`]), a status indicator in
//! the top bar, and a panel with what a client needs: each vault's URL, the CA file to
//! trust, a token, a snippet, the environment and sign-in command of the real az CLI, and
//! the requests as they arrive.
//!
//! The UI thread owns the workspace but answers no request itself: each frame, after the
//! frame's own changes, it takes those waiting (the endpoint wakes the UI when one arrives)
//! and hands them to a job, which answers them on a worker thread with a copy of the
//! workspace (key creation, wraps and unwraps included). While a job runs, requests wait
//! for it, so neither overwrites the other.

use super::ConsoleApp;
use super::jobs::{Job, JobOrigin};
use crate::vault_endpoint::{Bearer, Endpoint, TOKEN_LIFETIME_S, token_for};
use egui::RichText;
use std::sync::Arc;

/// The first port tried; the vaults take the ports after it.
pub const FIRST_PORT: u16 = 8443;

/// The endpoint of the app, while it serves.
#[derive(Default)]
pub struct Serving {
    pub endpoint: Option<Endpoint>,
    pub open: bool,
    /// Why it did not start.
    pub error: Option<String>,
    token: Option<String>,
}

/// Starts or stops serving.
pub fn set_serving(app: &mut ConsoleApp, ctx: &egui::Context, on: bool) {
    if !on {
        app.serving.endpoint = None;
        app.serving.token = None;
        // Its panel goes with it (walk 35: it stayed at half the window holding one line,
        // squeezing the blades); View > Serve vaults on localhost brings both back.
        app.serving.open = false;
        return;
    }
    let wake_ctx = ctx.clone();
    // Free ports from FIRST_PORT up; `0` (any free ports) when those are taken.
    let started = Endpoint::start(
        &app.ws,
        FIRST_PORT,
        app.keys.clone(),
        Arc::new(move || wake_ctx.request_repaint()),
    )
    .or_else(|_| {
        let wake_ctx = ctx.clone();
        Endpoint::start(
            &app.ws,
            0,
            app.keys.clone(),
            Arc::new(move || wake_ctx.request_repaint()),
        )
    });
    match started {
        Ok(e) => {
            app.serving.token = token_for(&app.ws, &Bearer::ConsoleUser, TOKEN_LIFETIME_S).ok();
            app.serving.endpoint = Some(e);
            app.serving.error = None;
            app.serving.open = true;
        }
        Err(e) => {
            app.serving.error = Some(e);
            app.serving.open = true;
        }
    }
}

/// Hands the requests waiting to a job (each frame, after the frame's own changes): they
/// are answered on a worker thread with a copy of the workspace, which replaces it when the
/// job is done, as any change made off the UI thread (its own History point, autosave,
/// unsaved marker). While another job runs, requests wait for it in the endpoint's channel.
pub fn serve(app: &mut ConsoleApp, ctx: &egui::Context) {
    if app.job.is_some() {
        return;
    }
    let Some(endpoint) = app.serving.endpoint.as_mut() else {
        return;
    };
    let waiting = endpoint.take_waiting();
    if !waiting.is_empty() {
        let answerer = endpoint.answerer();
        let keys = app.keys.clone();
        let wake = ctx.clone();
        let job = Job::spawn(
            "Key Vault requests from SDK clients",
            JobOrigin::Endpoint,
            &app.ws,
            move |ws| {
                let n = answerer.answer_all(ws, keys.as_ref(), waiting);
                wake.request_repaint();
                (
                    Ok(format!(
                        "{n} request{} answered",
                        if n == 1 { "" } else { "s" }
                    )),
                    String::new(),
                )
            },
        );
        app.queue_job(job, ctx);
        ctx.request_repaint();
    }
    let Some(endpoint) = app.serving.endpoint.as_mut() else {
        return;
    };
    // Vaults created (in a blade, the shell or by a client) are served as they appear;
    // deleted ones stop. The panel lists `endpoint.vaults`.
    for change in endpoint.sync(&app.ws) {
        use crate::vault_endpoint::Change;
        app.serving.error = match change {
            Change::NotServed { vault, why } => {
                Some(format!("Vault '{vault}' is not served: {why}"))
            }
            Change::Served(_) | Change::Stopped(_) => app.serving.error.take(),
        };
        ctx.request_repaint();
    }
}

/// The status bar's indicator while serving; whether it was clicked (the panel opens or
/// closes).
pub fn indicator(serving: &Serving, ui: &mut egui::Ui) -> bool {
    let Some(e) = &serving.endpoint else {
        return false;
    };
    let requests = e.stats.requests.load(std::sync::atomic::Ordering::SeqCst);
    let mut text = RichText::new(format!(
        "Serving {} vault{} · {requests} request{}",
        e.vaults.len(),
        if e.vaults.len() == 1 { "" } else { "s" },
        if requests == 1 { "" } else { "s" }
    ));
    if !serving.open {
        text = text.color(egui::Color32::from_rgb(0x3c, 0xb0, 0x3c));
    }
    ui.selectable_label(serving.open, text)
        .on_hover_text("The workspace's vaults answer SDK clients on 127.0.0.1: click for URLs, the certificate and a token")
        .clicked()
}

/// The panel: URLs, certificate, token, a snippet, and the latest requests.
pub fn panel(app: &mut ConsoleApp, ui: &mut egui::Ui) {
    ui.horizontal(|ui| {
        ui.strong("Vaults on localhost");
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui.button("×").on_hover_text("Close").clicked() {
                app.serving.open = false;
            }
        });
    });
    if let Some(e) = &app.serving.error {
        ui.colored_label(crate::ui::widgets::ink(ui, crate::ui::widgets::RED), e);
    }
    let Some(endpoint) = &app.serving.endpoint else {
        ui.label("Not serving. View > Serve vaults on localhost starts it.");
        return;
    };
    ui.label(
        RichText::new(
            "Point an Azure SDK client at a vault's URL: requests go through the vault's access policies or RBAC, firewall, limits and audit log, as the shell's do.",
        )
        .weak(),
    );
    egui::ScrollArea::vertical().show(ui, |ui| {
        // One wrapping row a vault: in a narrow panel (200 %) the Copy button goes under
        // the URL instead of past the panel's edge.
        for v in &endpoint.vaults {
            ui.horizontal_wrapped(|ui| {
                ui.label(&v.name);
                ui.monospace(&v.url);
                if ui
                    .small_button("Copy")
                    .on_hover_text(format!("Copy {}'s URL", v.name))
                    .clicked()
                {
                    ui.ctx().copy_text(v.url.clone());
                }
            });
        }
        ui.separator();
        ui.label("Certificate authority to trust (connection_verify=):");
        let ca = endpoint.ca_path.display().to_string();
        ui.horizontal_wrapped(|ui| {
            ui.monospace(&ca);
            if ui.small_button("Copy").clicked() {
                ui.ctx().copy_text(ca.clone());
            }
        });
        ui.label("Token for the console user (8 hours):");
        if let Some(t) = &app.serving.token {
            ui.horizontal_wrapped(|ui| {
                ui.monospace(format!("{}…", t.chars().take(32).collect::<String>()));
                if ui.small_button("Copy token").clicked() {
                    ui.ctx().copy_text(t.clone());
                }
            });
        }
        ui.label(
            RichText::new(
                "Other callers: tde-console token WORKSPACE.ron --identity NAME | --app APPID",
            )
            .weak(),
        );
        ui.separator();
        ui.label("The real az CLI (pip install azure-cli): run these in a shell, then any az command works on this workspace:");
        let az = endpoint.az_shell(&app.ws);
        super::widgets::code_block(ui, "served-az-environment", &az);
        if ui
            .small_button("Copy az environment")
            .on_hover_text("The exports and the az login command, for a POSIX shell")
            .clicked()
        {
            ui.ctx().copy_text(az);
        }
        ui.separator();
        ui.label("Python (azure-keyvault-keys; Copy snippet puts the whole token in it):");
        let url = endpoint
            .vaults
            .first()
            .map(|v| v.url.trim_end_matches('/').to_string())
            .unwrap_or_default();
        let token = app.serving.token.clone().unwrap_or_default();
        let shown = format!("{}…", token.chars().take(16).collect::<String>());
        let snippet = python_snippet(&url, &ca, &token);
        super::widgets::code_block(
            ui,
            "served-python-snippet",
            &python_snippet(&url, &ca, &shown),
        );
        if ui.small_button("Copy snippet").clicked() {
            ui.ctx().copy_text(snippet);
        }
        ui.separator();
        ui.strong("Latest requests");
        let recent = endpoint
            .recent
            .lock()
            .map(|r| r.iter().rev().take(40).cloned().collect::<Vec<_>>())
            .unwrap_or_default();
        if recent.is_empty() {
            ui.label(RichText::new("None yet.").weak());
        }
        for (what, status) in recent {
            let color = match status {
                200..=299 => egui::Color32::from_rgb(0x10, 0x7c, 0x10),
                401 => egui::Color32::GRAY,
                _ => egui::Color32::from_rgb(0xa4, 0x26, 0x2c),
            };
            ui.horizontal_wrapped(|ui| {
                ui.colored_label(crate::ui::widgets::ink(ui, color), status.to_string());
                ui.label(what);
            });
        }
    });
}

/// A complete Python program that lists the keys of the vault at `url` through the local
/// endpoint: the imports, a credential that hands the SDK the console's `token` (as
/// `tests/sdk/kv_sdk_e2e.py` does), the CA to trust and the client.
pub fn python_snippet(url: &str, ca: &str, token: &str) -> String {
    format!(
        r#"import time
from azure.core.credentials import AccessToken
from azure.keyvault.keys import KeyClient

TOKEN = "{token}"

class ConsoleToken:
    """Hands the SDK the token the console issued (valid 8 hours)."""
    def get_token(self, *scopes, **kwargs):
        return AccessToken(TOKEN, int(time.time()) + 3600)

credential = ConsoleToken()
keys = KeyClient("{url}", credential,
    connection_verify=r"{ca}",
    verify_challenge_resource=False)
for key in keys.list_properties_of_keys():
    print(key.name)
"#
    )
}
