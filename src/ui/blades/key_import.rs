//! Import a key into a vault (PEM, .pfx, .byok), and the BYOK transfer tool: create a
//! key-exchange key, download its public part, and wrap an on-premises key for it. File
//! reads and writes run off the UI thread.

use super::{BladeCtx, Invocation, outcome};
use crate::model::*;
use crate::service::keyvault::{self, CreateKey};
use crate::ui::widgets::{section, text_field};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImportFormat {
    Pem,
    Pfx,
    Byok,
}

pub struct ImportForm {
    pub format: ImportFormat,
    pub name: String,
    pub hsm: bool,
    pub path: String,
    pub password: String,
    pub kek_name: String,
    pub kek: String,
    pub kek_download: String,
    pub onprem_pem: String,
    pub byok_out: String,
    pub message: Option<Result<String, String>>,
}

impl Default for ImportForm {
    fn default() -> Self {
        ImportForm {
            format: ImportFormat::Pem,
            name: String::new(),
            hsm: false,
            path: String::new(),
            password: String::new(),
            kek_name: "byok-kek".into(),
            kek: String::new(),
            kek_download: String::new(),
            onprem_pem: String::new(),
            byok_out: String::new(),
            message: None,
        }
    }
}

fn read(path: &str) -> Result<Vec<u8>, String> {
    crate::persist::read_user_file(path).map_err(|e| format!("Cannot read '{path}': {e}"))
}

pub fn show(ui: &mut egui::Ui, vault: &str, f: &mut ImportForm, cx: &mut BladeCtx<'_>) {
    let Some(v) = cx.ws.vault(vault).filter(|v| v.deleted.is_none()).cloned() else {
        ui.label(format!("Key vault '{vault}' no longer exists."));
        return;
    };
    outcome(ui, &f.message);
    section(ui, "Import a key");
    ui.horizontal_wrapped(|ui| {
        ui.radio_value(&mut f.format, ImportFormat::Pem, "PEM file");
        ui.radio_value(&mut f.format, ImportFormat::Pfx, "PFX file");
        ui.radio_value(&mut f.format, ImportFormat::Byok, "BYOK file");
    });
    text_field(ui, "Name of the new key", &mut f.name, "imported-key");
    if f.format == ImportFormat::Byok {
        f.hsm = true;
        ui.label("Keys brought with BYOK are HSM-protected (RSA-HSM).");
    } else {
        ui.checkbox(&mut f.hsm, "HSM-protected (RSA-HSM)");
    }
    text_field(
        ui,
        "Key file",
        &mut f.path,
        "/path/to/key.pem, .pfx or .byok",
    );
    if f.format == ImportFormat::Pfx {
        ui.horizontal_wrapped(|ui| {
            let l = ui.label("PFX password");
            ui.add(egui::TextEdit::singleline(&mut f.password).password(true))
                .labelled_by(l.id);
        });
    }
    let ready = !f.name.trim().is_empty() && !f.path.trim().is_empty();
    if ui
        .add_enabled(!cx.busy && ready, egui::Button::new("Import"))
        .on_disabled_hover_text(crate::ui::widgets::why(&[
            (cx.busy, crate::ui::widgets::BUSY_WHY),
            (!ready, "Type the key name and the path of the file first."),
        ]))
        .clicked()
    {
        let (vault, name, path, password, format) = (
            v.name.clone(),
            f.name.trim().to_string(),
            f.path.trim().to_string(),
            f.password.clone(),
            f.format,
        );
        let kty = if f.hsm { KeyType::RsaHsm } else { KeyType::Rsa };
        let file_flag = match format {
            ImportFormat::Pem => "--pem-file",
            ImportFormat::Pfx => "--pfx-file",
            ImportFormat::Byok => "--byok-file",
        };
        // az spells an HSM key's import --kty RSA --protection hsm; it has no PFX input
        // (--pfx-file is this console's: the comment says how az does it).
        let mut az = format!(
            "{}az keyvault key import --vault-name {vault} --name {} --kty RSA{} {file_flag} {}",
            if format == ImportFormat::Pfx {
                "# az has no --pfx-file: convert first (openssl pkcs12 -in FILE -nocerts -out key.pem) and use --pem-file\n"
            } else {
                ""
            },
            super::quoted(&name),
            if f.hsm { " --protection hsm" } else { "" },
            super::quoted(&path)
        );
        // The password itself never goes into a script: a placeholder stands for it.
        if format == ImportFormat::Pfx && !password.is_empty() {
            az.push_str(" --pfx-password '<password>'");
        }
        cx.az(az);
        cx.spawn(format!("Importing '{name}'…"), move |ws| {
            let bytes = read(&path)?;
            let r = match format {
                ImportFormat::Pem => {
                    let pem = String::from_utf8_lossy(&bytes);
                    keyvault::import_pem_key(ws, &vault, &name, kty, &pem)
                }
                ImportFormat::Pfx => {
                    keyvault::import_pfx_key(ws, &vault, &name, kty, &bytes, &password)
                }
                ImportFormat::Byok => keyvault::import_byok_key(ws, &vault, &name, kty, &bytes),
            };
            r.map(|(k, kv)| {
                format!(
                    "Key '{}' imported ({} {}, thumbprint {}).",
                    k.name,
                    k.kty.as_str(),
                    kv.material.bits(),
                    kv.material.thumbprint()
                )
            })
            .map_err(|e| e.to_string())
        });
    }

    section(ui, "BYOK transfer tool");
    ui.label("1. In the vault: a key-exchange key (KEK), an RSA-HSM key whose only operation is 'import'.");
    let keks: Vec<(String, String)> = v
        .keys
        .iter()
        .filter(|k| k.deleted.is_none() && k.kty == KeyType::RsaHsm)
        .filter_map(|k| {
            let cur = k.current()?;
            (cur.key_ops == [KeyOperation::Import])
                .then(|| (k.name.clone(), v.key_uri(&k.name, &cur.version)))
        })
        .collect();
    ui.horizontal_wrapped(|ui| {
        text_field(ui, "KEK name", &mut f.kek_name, "byok-kek");
    });
    if ui
        .add_enabled(
            !cx.busy && !f.kek_name.trim().is_empty(),
            egui::Button::new("Create key-exchange key"),
        )
        .on_disabled_hover_text(crate::ui::widgets::why(&[
            (cx.busy, crate::ui::widgets::BUSY_WHY),
            (f.kek_name.trim().is_empty(), "Type the KEK name first."),
        ]))
        .clicked()
    {
        let mut req = CreateKey::new(&v.name, f.kek_name.trim(), KeyType::RsaHsm, 3072);
        req.ops = Some(vec![KeyOperation::Import]);
        match keyvault::validate_create_key(cx.ws, &req) {
            Err(e) => f.message = Some(Err(e.to_string())),
            Ok(()) => {
                let ask = super::Invocation::new("az keyvault key create")
                    .arg("--vault-name", req.vault.clone())
                    .arg("--name", req.name.clone())
                    .arg("--kty", "RSA-HSM")
                    .arg("--size", req.size.to_string())
                    .arg("--ops", "import");
                let name = req.name.clone();
                cx.spawn_request(
                    format!("Generating key-exchange key '{}'…", req.name),
                    ask,
                    move |_, _| {
                        format!("Key-exchange key '{name}' created (RSA-HSM 3072, import only).")
                    },
                )
            }
        }
    }
    crate::ui::widgets::combo(
        ui,
        "Key-exchange key",
        egui::WidgetText::from(if f.kek.is_empty() {
            "Select a KEK"
        } else {
            f.kek.as_str()
        }),
        None,
        |ui| {
            for (name, _) in &keks {
                ui.selectable_value(&mut f.kek, name.clone(), format!("{name} (KEK)"));
            }
        },
    );
    let kek = keks.iter().find(|(n, _)| n == &f.kek).cloned();
    ui.label("2. Download the KEK's public key and take it to the on-premises HSM.");
    text_field(
        ui,
        "Save public key to",
        &mut f.kek_download,
        "/path/to/kek.pem",
    );
    if ui
        .add_enabled(
            !cx.busy && kek.is_some() && !f.kek_download.trim().is_empty(),
            egui::Button::new("Download public key"),
        )
        .on_disabled_hover_text(crate::ui::widgets::why(&[
            (cx.busy, crate::ui::widgets::BUSY_WHY),
            (kek.is_none(), "Create the key-exchange key first."),
            (
                f.kek_download.trim().is_empty(),
                "Type where to save the public key first.",
            ),
        ]))
        .clicked()
        && let Some((name, _)) = &kek
    {
        let path = f.kek_download.trim().to_string();
        let ask = Invocation::new("az keyvault key download")
            .arg("--vault-name", v.name.clone())
            .arg("--name", name.clone())
            .arg("--file", path.clone())
            .arg("--encoding", "PEM");
        cx.spawn_request("Saving the public key…", ask, move |_, _| {
            format!("Public key written to {path}.")
        });
    }
    ui.label("3. On premises: wrap the key to bring (PEM) for the KEK, then import the .byok file above.");
    text_field(
        ui,
        "Key to bring (PEM)",
        &mut f.onprem_pem,
        "/path/to/onprem-key.pem",
    );
    text_field(
        ui,
        "Write .byok file to",
        &mut f.byok_out,
        "/path/to/key.byok",
    );
    let ready = kek.is_some()
        && !f.onprem_pem.trim().is_empty()
        && !f.byok_out.trim().is_empty()
        && !f.kek_download.trim().is_empty();
    if ui
        .add_enabled(!cx.busy && ready, egui::Button::new("Make .byok file"))
.on_disabled_hover_text(crate::ui::widgets::why(&[(cx.busy, crate::ui::widgets::BUSY_WHY), (!ready, "Create and download the KEK, then fill in the on-premises key and the output file.")]))
        .on_hover_text("Uses only the downloaded public key, as the vendor's tool does")
        .clicked()
        && let Some((_, kid)) = kek
    {
        let (pem_path, kek_path, out) = (
            f.onprem_pem.trim().to_string(),
            f.kek_download.trim().to_string(),
            f.byok_out.trim().to_string(),
        );
        // What the HSM vendor's tool does on premises, with the downloaded public key only.
        let ask = Invocation::new("sim byok wrap")
            .arg("--pem-file", pem_path)
            .arg("--kek-file", kek_path)
            .arg("--kek-id", kid)
            .arg("--file", out);
        cx.spawn_request("Wrapping the key for the KEK…", ask, |said, _| {
            format!(
                "BYOK file written to {} (for KEK {}).",
                said["file"].as_str().unwrap_or_default(),
                said["kid"].as_str().unwrap_or_default()
            )
        });
    }
}
