//! Commands that move key material across the vault's boundary, in the only forms that may
//! cross it: public keys out (`az keyvault key download`), and keys wrapped for a vault's
//! key-exchange key in (`sim byok wrap`, the customer-side BYOK transfer tool).

use super::args::Args;
use super::commands::{CommandError, usage};
use super::registry::{Command, HSM_NAME};
use crate::crypto::RsaKeyMaterial;
use crate::crypto::byok::{self, ByokFile};
use crate::model::*;
use crate::service::keyvault;
use serde_json::{Value, json};

pub const COMMANDS: &[Command] = &[
    Command::new(
        "az keyvault key download",
        "Download the public part of a stored key.",
        &[
            "--vault-name",
            "--name",
            "--version",
            "--file",
            "--encoding",
            "--id",
        ],
        |ws, _, _, a| download(ws, a),
    )
    .aliases(HSM_NAME),
    Command::new(
        "sim byok wrap",
        "Wrap an RSA private key with a vault's key-exchange key into a BYOK file.",
        &["--pem-file", "--kek-file", "--kek-id", "--file"],
        |_, _, _, a| byok_wrap(a),
    ),
];

fn write_new(file: &str, bytes: &[u8]) -> Result<(), CommandError> {
    crate::persist::write_new_file(std::path::Path::new(file), bytes).map_err(usage)
}

/// `az keyvault key download --vault-name V --name K [--version X] --file F [--encoding PEM]`.
fn download(ws: &mut Workspace, a: &mut Args) -> Result<Value, CommandError> {
    if let Some(e) = a.get("--encoding")
        && !e.eq_ignore_ascii_case("PEM")
    {
        return Err(usage(format!(
            "argument --encoding: only PEM is simulated (got '{e}')"
        )));
    }
    let (vault, name, version) = match a.get("--id") {
        Some(id) => {
            let u = KeyUri::parse(&id)
                .ok_or_else(|| usage(format!("argument --id: '{id}' is not a key identifier")))?;
            (u.vault, u.key, u.version)
        }
        None => (
            a.required("--vault-name")?,
            a.required("--name")?,
            a.get("--version"),
        ),
    };
    let file = a.required("--file")?;
    let pem = keyvault::download_public_key(ws, &vault, &name, version.as_deref())?;
    write_new(&file, pem.as_bytes())?;
    Ok(Value::Null)
}

/// `sim byok wrap --pem-file KEY --kek-file KEK_PUBLIC --kek-id KID --file OUT`: what the
/// HSM vendor's BYOK tool does on premises.
fn byok_wrap(a: &mut Args) -> Result<Value, CommandError> {
    let read = |flag: &str| -> Result<String, CommandError> {
        let file = a.required(flag)?;
        crate::persist::read_user_text(&file)
            .map_err(|e| usage(format!("cannot read '{file}': {e}")))
    };
    let target = RsaKeyMaterial::from_pem(&read("--pem-file")?)
        .map_err(|_| usage("argument --pem-file: not a PEM RSA private key (PKCS#1 or PKCS#8)"))?;
    let kek = byok::kek_from_pem(&read("--kek-file")?).map_err(|_| {
        usage(
            "argument --kek-file: not a PEM public key (download it with az keyvault key download)",
        )
    })?;
    let kek_id = a.required("--kek-id")?;
    if KeyUri::parse(&kek_id).is_none() {
        return Err(usage(format!(
            "argument --kek-id: '{kek_id}' is not a key identifier"
        )));
    }
    let ciphertext =
        byok::wrap(&target, &kek).map_err(|e| usage(format!("cannot wrap the key: {e}")))?;
    let out = a.required("--file")?;
    let file = ByokFile { kek_id, ciphertext };
    write_new(&out, file.to_json().as_bytes())?;
    Ok(json!({"file": out, "kid": file.kek_id, "enc": byok::MECHANISM}))
}
