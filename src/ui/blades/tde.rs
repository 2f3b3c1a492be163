//! Server > Transparent data encryption: service-managed or customer-managed key, "Select a
//! key" (vault, key, version) or "Enter a key identifier", default protector, auto-rotation.

use super::{BladeCtx, BladeKind, Change, Invocation, Line, outcome};
use crate::model::*;
use crate::ui::widgets::{self, properties, section, text_field};

pub struct TdeForm {
    pub mode: ServerKeyType,
    pub enter_identifier: bool,
    pub vault: String,
    pub key: String,
    /// Empty: the current version.
    pub version: String,
    pub kid_text: String,
    pub make_default: bool,
    pub auto_rotate: bool,
    pub message: Option<Result<String, String>>,
    /// The form's fields and the server's protector when they last agreed (or the form
    /// was filled from the server). The server changed since by something else than this
    /// form (Rewind to here, Undo, the Cloud Shell): a form with no unsaved edits then
    /// shows the server as it is; one with unsaved edits keeps them.
    seen: Option<(Fields, Protector)>,
}

/// What the person can set in the form.
type Fields = (
    ServerKeyType,
    bool,
    String,
    String,
    String,
    String,
    bool,
    bool,
);

/// What a protector is, as the form can ask for it: the key type and, for a customer-managed
/// key, (vault, key, version) in lower case (no version: the key's current one) and
/// auto-rotation.
type Protector = (ServerKeyType, Option<(String, String, String)>, bool);

/// (vault, key, version) of `uri` in lower case; no version is the key's current one.
fn key_of(
    ws: &Workspace,
    vault: &str,
    key: &str,
    version: Option<&str>,
) -> (String, String, String) {
    let version = match version.filter(|v| !v.is_empty()) {
        Some(v) => v.to_string(),
        None => ws
            .vault(vault)
            .and_then(|v| v.key(key))
            .and_then(|k| k.current())
            .map(|k| k.version.0.clone())
            .unwrap_or_default(),
    };
    (
        vault.to_ascii_lowercase(),
        key.to_ascii_lowercase(),
        version.to_ascii_lowercase(),
    )
}

/// The server's protector now.
fn protector_of(ws: &Workspace, server: &str) -> Option<Protector> {
    let s = ws.server(server)?;
    Some(match s.protector.key_type {
        ServerKeyType::ServiceManaged => (ServerKeyType::ServiceManaged, None, false),
        t => (
            t,
            s.protector_uri()
                .map(|u| key_of(ws, &u.vault, &u.key, u.version.as_deref())),
            s.protector.auto_rotation,
        ),
    })
}

impl TdeForm {
    /// The form as the server is configured now.
    pub fn for_server(ws: &Workspace, server: &str) -> TdeForm {
        let mut f = TdeForm {
            mode: ServerKeyType::ServiceManaged,
            enter_identifier: false,
            vault: String::new(),
            key: String::new(),
            version: String::new(),
            kid_text: String::new(),
            make_default: true,
            auto_rotate: false,
            message: None,
            seen: None,
        };
        if let Some(s) = ws.server(server) {
            f.mode = s.protector.key_type;
            f.auto_rotate = s.protector.auto_rotation;
            if let Some(uri) = s.protector_uri() {
                f.kid_text = uri.to_uri();
                f.vault = uri.vault;
                f.key = uri.key;
                f.version = uri.version.unwrap_or_default();
            }
        }
        f.seen = protector_of(ws, server).map(|p| (f.fields(), p));
        f
    }

    fn fields(&self) -> Fields {
        (
            self.mode,
            self.enter_identifier,
            self.vault.clone(),
            self.key.clone(),
            self.version.clone(),
            self.kid_text.clone(),
            self.make_default,
            self.auto_rotate,
        )
    }

    /// The protector a Save of the form would give the server.
    fn asks(&self, ws: &Workspace) -> Protector {
        match self.mode {
            ServerKeyType::ServiceManaged => (ServerKeyType::ServiceManaged, None, false),
            t => {
                let key = if self.enter_identifier {
                    KeyUri::parse(&self.kid_text)
                        .map(|u| key_of(ws, &u.vault, &u.key, u.version.as_deref()))
                } else {
                    Some(key_of(ws, &self.vault, &self.key, Some(&self.version)))
                };
                (t, key, self.auto_rotate)
            }
        }
    }

    /// Follows a change of the server this form did not make. Whether the form has unsaved
    /// edits the server's protector changed under (the form says so).
    fn follow(&mut self, ws: &Workspace, server: &str) -> bool {
        let Some(now) = protector_of(ws, server) else {
            return false;
        };
        if self.asks(ws) == now {
            // The form says what the server has (a Save of it landed, or it was never
            // edited): in agreement.
            self.seen = Some((self.fields(), now));
            return false;
        }
        match &self.seen {
            Some((_, then)) if *then == now => false,
            // No unsaved edits: the form shows the server as it is now (what was said
            // stays: it goes by its own rule).
            Some((fields, _)) if *fields == self.fields() => {
                let message = self.message.take();
                *self = TdeForm::for_server(ws, server);
                self.message = message;
                false
            }
            _ => true,
        }
    }

    fn selected_kid(&self, ws: &Workspace) -> Option<String> {
        if self.enter_identifier {
            return Some(self.kid_text.trim().to_string());
        }
        let v = ws.vault(&self.vault)?;
        let k = v.key(&self.key)?;
        let version = if self.version.is_empty() {
            k.current()?.version.clone()
        } else {
            KeyVersionId(self.version.clone())
        };
        Some(v.key_uri(&k.name, &version))
    }
}

pub fn show(ui: &mut egui::Ui, server: &str, form: &mut TdeForm, cx: &mut BladeCtx<'_>) {
    let Some(s) = cx.ws.server(server).cloned() else {
        ui.label(format!("Server '{server}' no longer exists."));
        return;
    };
    // "Saved: 'k' is the TDE protector" holds only while it is (a rewind, an undo or a
    // change from the Cloud Shell takes it back). A refusal holds only while its cause
    // does: the key chosen and what the server's check of it says (a grant from the Cloud
    // Shell or the vault blade, or another key chosen, takes the red text away).
    let cause = matches!(form.message, Some(Err(_))).then(|| refusal_cause(server, form, cx.ws));
    super::forget_when_changed(
        ui,
        "tde-protector",
        &mut form.message,
        (
            &s.protector.server_key_name,
            s.protector.key_type.as_str(),
            s.protector.auto_rotation,
            s.keys.len(),
            cause,
        ),
    );
    let overtaken = form.follow(cx.ws, server);
    ui.label("Transparent data encryption encrypts your databases, backups, and logs at rest. The TDE protector wraps each database encryption key.");
    section(ui, "TDE protector");
    if overtaken {
        ui.label(
            egui::RichText::new(
                "The server's TDE protector changed since you began editing (an undo, a rewind or the Cloud Shell): Save applies your choice, Discard shows the server as it is.",
            )
            .color(widgets::AMBER),
        );
    }
    // Wrapped: beside the navigator and History at 150 % the blade is 300 points wide.
    ui.horizontal_wrapped(|ui| {
        ui.radio_value(
            &mut form.mode,
            ServerKeyType::ServiceManaged,
            "Service-managed key",
        );
        ui.radio_value(
            &mut form.mode,
            ServerKeyType::AzureKeyVault,
            "Customer-managed key",
        );
    });
    if form.mode == ServerKeyType::AzureKeyVault {
        ui.horizontal_wrapped(|ui| {
            ui.radio_value(&mut form.enter_identifier, false, "Select a key");
            ui.radio_value(&mut form.enter_identifier, true, "Enter a key identifier");
        });
        if form.enter_identifier {
            text_field(
                ui,
                "Key identifier",
                &mut form.kid_text,
                "https://<vault>.vault.azure.net/keys/<key>/<version>",
            );
        } else {
            key_picker(ui, form, cx.ws);
        }
        ui.checkbox(
            &mut form.make_default,
            "Make this key the default TDE protector",
        );
        ui.checkbox(&mut form.auto_rotate, "Auto-rotate key");
        match &s.identity {
            Some(id) => {
                ui.label(
                    egui::RichText::new(format!("Server identity: {}", id.principal_id)).weak(),
                );
            }
            None => {
                ui.label(egui::RichText::new("The server has no identity yet: Save creates a system-assigned identity first.").weak());
            }
        }
    }
    ui.add_space(6.0);
    ui.horizontal_wrapped(|ui| {
        let save = ui
            .add_enabled(!cx.busy, egui::Button::new("Save"))
            .on_disabled_hover_text(crate::ui::widgets::BUSY_WHY);
        if save.clicked() {
            form.message = Some(save_form(form, server, cx));
        }
        if ui.button("Discard").clicked() {
            *form = TdeForm::for_server(cx.ws, server);
        }
    });
    outcome(ui, &form.message);
    // The offer to grant the identity its key permissions follows Save and what it said:
    // above Save, it appeared as a Save was refused and pushed Save ~89 points down under
    // the pointer (at 200 %).
    if form.mode == ServerKeyType::AzureKeyVault {
        grant_offer(ui, server, form, cx);
    }
    if matches!(form.message, Some(Err(_))) {
        diagnose(ui, server, form, cx);
    }

    if s.protector.key_type == ServerKeyType::AzureKeyVault
        && ui.button("Remove a potentially compromised key…").clicked()
    {
        cx.open(super::BladeKind::CompromisedKey {
            server: server.to_string(),
            form: super::CompromisedForm::for_server(cx.ws, server),
        });
    }

    if let Some(until) = s.protector_change_until.filter(|t| *t > cx.ws.now()) {
        widgets::error_box(
            ui,
            &format!(
                "Protector change in progress: DEKs are being re-wrapped at the vault's limits until {until}. Another change, or a new database, waits until then."
            ),
        );
    }
    geo_warnings(ui, &s, cx.ws);
    section(ui, "Keys linked to this server");
    // The protector first: after a switch to a customer-managed key, the service-managed
    // entry is history, not what the class should read first.
    let mut keys: Vec<&ServerKey> = s.keys.iter().collect();
    keys.sort_by_key(|k| k.name != s.protector.server_key_name);
    for k in keys {
        let current = k.name == s.protector.server_key_name;
        let own_key_of: Vec<&str> = s
            .databases
            .iter()
            .filter(|d| d.encryption_protector.as_deref() == Some(k.name.as_str()))
            .map(|d| d.name.as_str())
            .collect();
        ui.horizontal_wrapped(|ui| {
            ui.label(if current {
                "Protector:"
            } else if !own_key_of.is_empty() {
                "Database key:"
            } else {
                "Linked:"
            });
            ui.monospace(&k.name);
            if !own_key_of.is_empty() {
                ui.label(format!("(own key of {})", own_key_of.join(", ")));
            }
        });
        let mut rows = vec![
            ("Type", key_type_label(k.key_type)),
            ("Thumbprint", k.thumbprint.clone()),
            ("Created", k.created.to_display()),
        ];
        let twins = same_material_elsewhere(cx.ws, &s, k);
        if !twins.is_empty() {
            rows.push(("Same material in", twins.join("; ")));
        }
        properties(ui, &format!("sk-{}", k.name), &rows);
    }
}

/// A key's type in words, with the API's value (what `az sql server key list` prints) after it.
fn key_type_label(t: ServerKeyType) -> String {
    let words = match t {
        ServerKeyType::ServiceManaged => "Service-managed key",
        ServerKeyType::AzureKeyVault => "Customer-managed key",
    };
    format!("{words} ({})", t.as_str())
}

/// Other vaults that hold `k`'s key material: linked to the server (its HA pair) or not.
fn same_material_elsewhere(ws: &Workspace, s: &SqlServer, k: &ServerKey) -> Vec<String> {
    let vault_of = |k: &ServerKey| {
        k.uri
            .as_deref()
            .and_then(KeyUri::parse)
            .map(|u| u.vault)
            .unwrap_or_default()
    };
    if k.key_type != ServerKeyType::AzureKeyVault {
        return Vec::new();
    }
    let mine = vault_of(k);
    ws.vaults
        .iter()
        .filter(|v| v.deleted.is_none() && !v.name.eq_ignore_ascii_case(&mine))
        .filter(|v| {
            v.keys
                .iter()
                .filter(|x| x.deleted.is_none())
                .flat_map(|x| x.versions.iter())
                .any(|kv| kv.material.thumbprint() == k.thumbprint)
        })
        .map(|v| {
            let linked = s
                .keys
                .iter()
                .any(|o| o.thumbprint == k.thumbprint && vault_of(o).eq_ignore_ascii_case(&v.name));
            if linked {
                format!("{} ({}, linked: the HA pair)", v.name, v.location)
            } else {
                format!("{} ({}, not linked to this server)", v.name, v.location)
            }
        })
        .collect()
}

/// Geo-partners that lack the protector's key material, or keys the backups still need.
fn geo_warnings(ui: &mut egui::Ui, s: &SqlServer, ws: &Workspace) {
    use crate::service::{backup, georeplication};
    if let Some(p) = s.protector_key() {
        let lacking = georeplication::partners_lacking(ws, &s.name, p);
        if !lacking.is_empty() {
            widgets::error_box(
                ui,
                &format!(
                    "Geo-secondary server(s) {} lack the key material of the TDE protector: add it there first (secondary first, then primary), or failover and replication break.",
                    lacking.join(", ")
                ),
            );
        }
    }
    let now = ws.now();
    // One warning a partner server, however many of its databases replicate there.
    let mut partners: Vec<&str> = ws
        .continuity
        .links
        .iter()
        .filter(|l| l.primary_server.eq_ignore_ascii_case(&s.name))
        .map(|l| l.secondary_server.as_str())
        .collect();
    partners.sort_unstable_by_key(|p| p.to_ascii_lowercase());
    partners.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
    for partner in partners {
        let Some(p) = ws.server(partner) else {
            continue;
        };
        let missing: Vec<String> = s
            .databases
            .iter()
            .flat_map(|d| backup::keys_needed_by_backups(d, now))
            .filter(|uri| {
                let thumb = s
                    .keys
                    .iter()
                    .find(|k| k.uri.as_deref() == Some(uri.as_str()))
                    .map(|k| k.thumbprint.clone());
                !p.keys.iter().any(|k| Some(&k.thumbprint) == thumb.as_ref())
            })
            .collect();
        if !missing.is_empty() {
            let mut missing = missing;
            missing.sort();
            missing.dedup();
            widgets::error_box(
                ui,
                &format!(
                    "Geo-partner '{partner}' lacks key material that backups of this server still need: {}. After a failover it could not restore them.",
                    missing.join(", ")
                ),
            );
        }
    }
}

/// What a refused Save depends on, checked each frame: the mode and key chosen, the
/// server's identity, the server's own check of that key (its failure's code) and which
/// of its databases are Inaccessible.
fn refusal_cause(server: &str, form: &TdeForm, ws: &Workspace) -> RefusalCause {
    let kid = (form.mode == ServerKeyType::AzureKeyVault)
        .then(|| form.selected_kid(ws))
        .flatten();
    let check = kid.as_deref().and_then(KeyUri::parse).map(|uri| {
        crate::service::keyvault::check_key_use(
            ws,
            &crate::service::Caller::Server(server.to_string()),
            &uri,
            &KeyPermission::TDE_REQUIRED,
            None,
        )
        .err()
        .map(|f| f.code().to_string())
    });
    let identity = ws
        .server(server)
        .and_then(|s| s.identity.as_ref())
        .map(|i| i.principal_id.to_string());
    // "(DatabaseInaccessible) … while database 'sales' is Inaccessible" holds only while it
    // is: an auto-heal or a revalidation takes the refusal away.
    let inaccessible: Vec<String> = ws
        .server(server)
        .map(|s| {
            s.databases
                .iter()
                .filter(|d| matches!(d.state, DatabaseState::Inaccessible { .. }))
                .map(|d| d.name.clone())
                .collect()
        })
        .unwrap_or_default();
    (form.mode.as_str(), kid, identity, check, inaccessible)
}

/// The mode, the key chosen, the server's identity, the code its check of the key fails
/// with and the server's Inaccessible databases.
type RefusalCause = (
    &'static str,
    Option<String>,
    Option<String>,
    Option<Option<String>>,
    Vec<String>,
);

/// After a refused save: what the server's own check of the chosen key says (as the
/// recovery wizard does), with the identity it uses and a button to where it is fixed.
fn diagnose(ui: &mut egui::Ui, server: &str, form: &TdeForm, cx: &mut BladeCtx<'_>) {
    use crate::service::Caller;
    let Some(uri) = form.selected_kid(cx.ws).as_deref().and_then(KeyUri::parse) else {
        return;
    };
    let Err(f) = crate::service::keyvault::check_key_use(
        cx.ws,
        &Caller::Server(server.to_string()),
        &uri,
        &KeyPermission::TDE_REQUIRED,
        None,
    ) else {
        return;
    };
    let identity = cx
        .ws
        .server(server)
        .and_then(|s| s.identity.as_ref())
        .map(|i| format!("its identity {}", i.principal_id))
        .unwrap_or_else(|| "no identity yet".into());
    widgets::error_box(
        ui,
        &format!(
            "Why: the server ({identity}) cannot use '{}' in '{}': {} ({}).",
            uri.key,
            uri.vault,
            f.code(),
            f.describe()
        ),
    );
    match f {
        KeyAccessFailure::NoServerIdentity => {
            if ui.button("Open the server (identity)").clicked() {
                cx.open(BladeKind::Server {
                    server: server.to_string(),
                    message: None,
                });
            }
        }
        _ => {
            if ui
                .button("Open the key vault (access policies, networking)")
                .clicked()
            {
                cx.open(BladeKind::Vault {
                    vault: uri.vault.clone(),
                    forms: Default::default(),
                });
            }
        }
    }
}

/// On a vault that uses access policies, when the server's identity lacks what TDE needs
/// on the chosen key: the portal's offer to grant it get, wrapKey and unwrapKey, as its own
/// change (`az keyvault set-policy`), kept next to what the identity already had.
fn grant_offer(ui: &mut egui::Ui, server: &str, form: &TdeForm, cx: &mut BladeCtx<'_>) {
    use crate::service::{Caller, keyvault};
    let Some(uri) = form.selected_kid(cx.ws).as_deref().and_then(KeyUri::parse) else {
        return;
    };
    let Some(v) = cx.ws.vault(&uri.vault).filter(|v| v.deleted.is_none()) else {
        return;
    };
    if v.rbac_authorization || v.is_managed_hsm() {
        return;
    }
    let Some(identity) = cx
        .ws
        .server(server)
        .and_then(|s| cx.ws.key_vault_identity(s))
    else {
        return;
    };
    let Err(KeyAccessFailure::MissingPermissions(missing)) = keyvault::check_key_use(
        cx.ws,
        &Caller::Server(server.to_string()),
        &uri,
        &KeyPermission::TDE_REQUIRED,
        None,
    ) else {
        return;
    };
    let oid = identity.principal_id.clone();
    // What the identity has now, plus what TDE needs (set-policy replaces the list).
    let mut permissions: std::collections::BTreeSet<KeyPermission> = v
        .access_policies
        .iter()
        .filter(|p| p.object_id == oid)
        .flat_map(|p| p.key_permissions.iter().copied())
        .collect();
    permissions.extend(KeyPermission::TDE_REQUIRED);
    widgets::warning_box(
        ui,
        &format!(
            "The server's identity ({oid}) lacks {} on key vault '{}': Save will fail until it has get, wrapKey and unwrapKey.",
            missing.join(", "),
            v.name
        ),
    );
    let ask = Invocation::new("az keyvault set-policy")
        .arg("--name", v.name.clone())
        .arg("--object-id", oid.to_string())
        .args("--key-permissions", permissions.iter().map(|p| p.as_str()));
    let button = ui
        .add_enabled(
            !cx.busy,
            egui::Button::new(
                "Grant the server's identity access to the key (get, wrapKey, unwrapKey)",
            ),
        )
        .on_disabled_hover_text(crate::ui::widgets::BUSY_WHY)
        .on_hover_text(ask.line());
    if button.clicked() {
        let vault = v.name.clone();
        cx.request(ask, move |_, _| {
            format!(
                "Access granted: the server's identity has get, wrapKey and unwrapKey on '{vault}'. Save again."
            )
        });
    }
}

/// The Save of the TDE blade as requests: the identity and the key link the portal makes
/// on the way (the identity only when `with_identity`), then the protector.
fn tde_requests(
    ws: &Workspace,
    server: &str,
    form: &TdeForm,
    with_identity: bool,
) -> Vec<Invocation> {
    let group = super::group_of(ws, server);
    let on_server = |command: &'static str| {
        Invocation::new(command)
            .arg("--server", server)
            .arg("--resource-group", group.clone())
    };
    match (form.mode, form.selected_kid(ws)) {
        (ServerKeyType::AzureKeyVault, Some(kid)) => {
            let mut script = Vec::new();
            if with_identity && ws.server(server).is_some_and(|s| s.identity.is_none()) {
                script.push(identity_request(server, &group));
            }
            script.push(on_server("az sql server key create").arg("--kid", kid.clone()));
            if form.make_default {
                script.push(
                    on_server("az sql server tde-key set")
                        .arg("--server-key-type", "AzureKeyVault")
                        .arg("--kid", kid)
                        .arg_opt(
                            "--auto-rotation-enabled",
                            form.auto_rotate.then_some("true"),
                        ),
                );
            }
            script
        }
        _ => {
            vec![on_server("az sql server tde-key set").arg("--server-key-type", "ServiceManaged")]
        }
    }
}

/// `az sql server update -i`: the server's system assigned identity.
fn identity_request(server: &str, group: &str) -> Invocation {
    Invocation::new("az sql server update")
        .arg("--name", server)
        .arg("--resource-group", group)
        .flag("-i")
}

/// Above this many databases a protector change (one RSA unwrap each, at the vault's
/// limits) runs as a job off the UI thread, with the top bar's progress bar.
const IN_FRAME_DATABASES: usize = 32;

fn save_form(form: &TdeForm, server: &str, cx: &mut BladeCtx<'_>) -> Result<String, String> {
    let many = cx
        .ws
        .server(server)
        .is_some_and(|s| s.databases.len() > IN_FRAME_DATABASES);
    let kid = match form.mode {
        ServerKeyType::ServiceManaged => None,
        ServerKeyType::AzureKeyVault => Some(
            form.selected_kid(cx.ws)
                .ok_or_else(|| "Select a key vault and a key first.".to_string())?,
        ),
    };
    let server_name = server;
    let (server, make_default) = (server.to_string(), form.make_default);
    let service_managed = kid.is_none();
    let wording = move |out: &serde_json::Value, ws: &Workspace| {
        if service_managed {
            return "Saved: the server uses a service-managed key. Every DEK was re-wrapped."
                .into();
        }
        if make_default {
            // The key as a person names it, as the toast does (not the server key's
            // `<vault>_<key>_<version>` name).
            let key = ws
                .server(&server)
                .and_then(|s| s.protector_key())
                .map(|k| k.described())
                .unwrap_or_default();
            format!(
                "Saved: {key} is the TDE protector. Every DEK was re-wrapped; no page was re-encrypted."
            )
        } else {
            format!(
                "Saved: '{}' is linked to the server.",
                out["name"].as_str().unwrap_or_default()
            )
        }
    };
    // A refusal is told as a failure (a red toast and a notification with the service's
    // code and message), not only inline below the fold: the identity the Save created on
    // the way has its own blue toast, which read as if the Save had worked.
    let refused_on = server_name.to_string();
    let tell_refusal = move |ws: &mut Workspace, out: &super::Outcome| {
        if let Err(e) = out {
            crate::service::notify_error(ws, &format!("TDE Save refused on {refused_on}"), e);
        }
    };
    if many {
        // On a worker, all or nothing: a refused Save keeps nothing, not even the identity
        // it would have turned on (the job's copy is dropped).
        let script = tde_requests(cx.ws, server_name, form, true);
        cx.spawn_change(
            "Changing the TDE protector…",
            Change::script(script, wording).reported(tell_refusal),
        );
    } else {
        // As the portal does, in two requests: the server's identity first (it stays, with
        // its own az line and History point, when the key step is refused: the identity is
        // what the vault then grants), then the key and the protector.
        let no_identity = form.mode == ServerKeyType::AzureKeyVault
            && cx
                .ws
                .server(server_name)
                .is_some_and(|s| s.identity.is_none());
        if no_identity {
            let group = super::group_of(cx.ws, server_name);
            let name = server_name.to_string();
            cx.request(identity_request(server_name, &group), move |_, _| {
                format!("System assigned identity turned on for '{name}' (TDE Save, step 1 of 2).")
            });
        }
        let script = tde_requests(cx.ws, server_name, form, false);
        cx.change_to(
            Line::Main,
            Change::script(script, wording).reported(tell_refusal),
            None,
        );
    }
    Ok("Saving…".into())
}

fn key_picker(ui: &mut egui::Ui, form: &mut TdeForm, ws: &Workspace) {
    let vaults: Vec<&KeyVault> = ws.vaults.iter().filter(|v| v.deleted.is_none()).collect();
    crate::ui::widgets::combo(
        ui,
        "Key vault",
        egui::WidgetText::from(if form.vault.is_empty() {
            "Select a key vault"
        } else {
            form.vault.as_str()
        }),
        Some(240.0),
        |ui| {
            for v in &vaults {
                if ui
                    .selectable_label(
                        form.vault == v.name,
                        if v.is_managed_hsm() {
                            format!("{} ({}, Managed HSM, preview)", v.name, v.location)
                        } else {
                            format!("{} ({})", v.name, v.location)
                        },
                    )
                    .clicked()
                {
                    form.vault = v.name.clone();
                    form.key.clear();
                    form.version.clear();
                }
            }
        },
    );
    let keys: Vec<&Key> = ws
        .vault(&form.vault)
        .map(|v| v.keys.iter().filter(|k| k.deleted.is_none()).collect())
        .unwrap_or_default();
    let empty_why = if form.vault.is_empty() {
        "Choose a key vault first: its keys are listed here.".to_string()
    } else {
        format!(
            "Key vault '{}' has no keys: generate or import one in the vault's blade.",
            form.vault
        )
    };
    let key_combo = crate::ui::widgets::combo(
        ui,
        "Key",
        egui::WidgetText::from(if form.key.is_empty() {
            "Select a key"
        } else {
            form.key.as_str()
        }),
        Some(240.0),
        |ui| {
            for k in &keys {
                let bits = k.current().map(|v| v.material.bits()).unwrap_or(0);
                if ui
                    .selectable_label(
                        form.key == k.name,
                        format!("{} ({} {bits})", k.name, k.kty.as_str()),
                    )
                    .clicked()
                {
                    form.key = k.name.clone();
                    form.version.clear();
                }
            }
        },
    );
    // An empty list says why (walk 35: hovering it said nothing).
    if keys.is_empty() {
        key_combo.response.on_hover_text(empty_why);
    }
    let versions: Vec<&KeyVersion> = keys
        .iter()
        .find(|k| k.name == form.key)
        .map(|k| k.versions.iter().rev().collect())
        .unwrap_or_default();
    let label = if form.version.is_empty() {
        "Current version".to_string()
    } else {
        form.version.clone()
    };
    crate::ui::widgets::combo(ui, "Version", label, Some(240.0), |ui| {
        ui.selectable_value(&mut form.version, String::new(), "Current version");
        for v in &versions {
            let text = format!(
                "{} · {}{}",
                &v.version.0,
                v.created.to_display(),
                if v.enabled { "" } else { " (disabled)" }
            );
            ui.selectable_value(&mut form.version, v.version.0.clone(), text);
        }
    });
}
