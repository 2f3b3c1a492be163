//! `az keyvault secret …`: set, show, list, versions, attributes, delete, recover, purge,
//! backup, restore and download, with azure-cli 2.91's arguments and its JSON.
//!
//! Only `set`, `show` and `download` put a secret's value in their output, as az does;
//! every other command prints properties only.

use super::args::Args;
use super::commands::*;
use super::registry::Command;
use crate::model::*;
use crate::service::KeySource;
use crate::service::secrets::{self, SecretAttributes, SetSecret};
use base64::Engine;
use serde_json::{Value, json};

pub const COMMANDS: &[Command] = &[
    Command::new(
        "az keyvault secret set",
        "Create a secret (if one doesn't exist) or update a secret in a KeyVault.",
        &[
            "--vault-name",
            "--name",
            "--value",
            "--file",
            "--encoding",
            "--content-type",
            "--tags",
            "--disabled",
            "--expires",
            "--not-before",
        ],
        secret_set,
    ),
    Command::new(
        "az keyvault secret show",
        "Get a specified secret from a given key vault.",
        &["--vault-name", "--name", "--version", "--id"],
        secret_show,
    ),
    Command::new(
        "az keyvault secret list",
        "List secrets in a specified key vault.",
        &["--vault-name", "--id", "--maxresults", "--include-managed"],
        secret_list,
    ),
    Command::new(
        "az keyvault secret list-versions",
        "List all versions of the specified secret.",
        &["--vault-name", "--name", "--id", "--maxresults"],
        secret_list_versions,
    ),
    Command::new(
        "az keyvault secret set-attributes",
        "Update a secret's attributes (content type, dates, tags, enabled).",
        &[
            "--vault-name",
            "--name",
            "--version",
            "--id",
            "--content-type",
            "--expires",
            "--not-before",
            "--tags",
            "--enabled",
        ],
        secret_set_attributes,
    ),
    Command::new(
        "az keyvault secret delete",
        "Delete all versions of a secret.",
        &["--vault-name", "--name", "--id"],
        secret_delete,
    ),
    Command::new(
        "az keyvault secret show-deleted",
        "Get the specified deleted secret.",
        &["--vault-name", "--name", "--id"],
        secret_show_deleted,
    ),
    Command::new(
        "az keyvault secret list-deleted",
        "List deleted secrets in a specified key vault.",
        &["--vault-name", "--id", "--maxresults"],
        secret_list_deleted,
    ),
    Command::new(
        "az keyvault secret recover",
        "Recover a deleted secret to its latest version.",
        &["--vault-name", "--name", "--id"],
        secret_recover,
    ),
    Command::new(
        "az keyvault secret purge",
        "Permanently delete the specified secret.",
        &["--vault-name", "--name", "--id"],
        secret_purge,
    ),
    Command::new(
        "az keyvault secret backup",
        "Back up the specified secret.",
        &["--vault-name", "--name", "--id", "--file"],
        secret_backup,
    ),
    Command::new(
        "az keyvault secret restore",
        "Restore a backed up secret to a vault.",
        &["--vault-name", "--file"],
        secret_restore,
    ),
    Command::new(
        "az keyvault secret download",
        "Download a secret from a KeyVault.",
        &[
            "--vault-name",
            "--name",
            "--id",
            "--version",
            "--file",
            "--encoding",
            "--overwrite",
        ],
        secret_download,
    ),
];

fn time(t: Option<Timestamp>) -> Value {
    t.map_or(Value::Null, |t| json!(t.to_iso()))
}

fn tags(t: &[(String, String)]) -> Value {
    Value::Object(
        t.iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect::<serde_json::Map<_, _>>(),
    )
}

fn attributes(v: &KeyVault, sv: &SecretVersion) -> Value {
    json!({
        "created": sv.created.to_iso(),
        "enabled": sv.enabled,
        "expires": time(sv.expires),
        "notBefore": time(sv.not_before),
        "recoverableDays": if v.soft_delete { json!(v.retention_days) } else { json!(0) },
        "recoveryLevel": v.recovery_level(),
        "updated": sv.updated.to_iso()
    })
}

/// A secret version's properties as az prints them; `with_value` adds the value (only for
/// `set` and `show`).
pub fn secret_json(v: &KeyVault, s: &Secret, sv: &SecretVersion, with_value: bool) -> Value {
    let mut out = json!({
        "attributes": attributes(v, sv),
        "contentType": sv.content_type,
        "id": v.secret_uri(&s.name, &sv.version),
        "kid": null,
        "managed": if s.managed { json!(true) } else { Value::Null },
        "name": s.name,
        "tags": tags(&sv.tags),
    });
    if with_value && let Some(o) = out.as_object_mut() {
        o.insert("value".into(), json!(sv.value.reveal()));
    }
    out
}

/// A list item (`az keyvault secret list`): the current version's properties, the secret's
/// id without a version.
fn secret_item(v: &KeyVault, s: &Secret) -> Value {
    let Some(sv) = s.current() else {
        return Value::Null;
    };
    json!({
        "attributes": attributes(v, sv),
        "contentType": sv.content_type,
        "id": format!("{}secrets/{}", v.uri(), s.name),
        "managed": if s.managed { json!(true) } else { Value::Null },
        "name": s.name,
        "tags": tags(&sv.tags),
    })
}

/// A deleted secret (no value), with its deletion and purge dates and recovery id.
pub fn deleted_json(v: &KeyVault, s: &Secret) -> Value {
    let mut out = match s.current() {
        Some(sv) => secret_json(v, s, sv, false),
        None => json!({"name": s.name}),
    };
    if let Some(o) = out.as_object_mut() {
        let d = s.deleted.as_ref();
        o.insert("deletedDate".into(), time(d.map(|d| d.deleted_on)));
        o.insert(
            "recoveryId".into(),
            match d {
                Some(_) => json!(format!("{}deletedsecrets/{}", v.uri(), s.name)),
                None => Value::Null,
            },
        );
        o.insert(
            "scheduledPurgeDate".into(),
            time(d.map(|d| d.scheduled_purge)),
        );
    }
    out
}

/// `--id https://V.vault.azure.net/secrets/NAME[/VERSION]`, or `--vault-name` and `--name`
/// (and `--version`).
fn secret_ref(a: &Args) -> Result<(String, String, Option<String>), CommandError> {
    if let Some(id) = a.get("--id") {
        let bad = || usage(format!("argument --id: invalid secret identifier '{id}'"));
        let rest = id.trim().strip_prefix("https://").ok_or_else(bad)?;
        let (host, path) = rest.split_once('/').ok_or_else(bad)?;
        let vault = host.strip_suffix(".vault.azure.net").ok_or_else(bad)?;
        let parts: Vec<&str> = path.trim_end_matches('/').split('/').collect();
        return match parts.as_slice() {
            ["secrets", name] if !name.is_empty() && !vault.is_empty() => {
                Ok((vault.to_string(), name.to_string(), None))
            }
            ["secrets", name, version] if !name.is_empty() && !vault.is_empty() => Ok((
                vault.to_string(),
                name.to_string(),
                Some(version.to_string()),
            )),
            _ => Err(bad()),
        };
    }
    Ok((
        a.required("--vault-name")?,
        a.required("--name")?,
        a.get("--version"),
    ))
}

/// The vault of a list command: `--vault-name`, or `--id https://V.vault.azure.net/`.
fn vault_ref(a: &Args) -> Result<String, CommandError> {
    if let Some(id) = a.get("--id") {
        return id
            .trim()
            .strip_prefix("https://")
            .and_then(|r| r.trim_end_matches('/').strip_suffix(".vault.azure.net"))
            .filter(|v| !v.is_empty() && !v.contains('/'))
            .map(str::to_string)
            .ok_or_else(|| usage(format!("argument --id: invalid vault URI '{id}'")));
    }
    Ok(a.required("--vault-name")?)
}

/// `--maxresults N`: at most N items (az passes it to the service's paging).
fn max_results(a: &Args) -> Result<Option<usize>, CommandError> {
    a.get("--maxresults")
        .map(|m| {
            m.parse::<usize>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| usage(format!("argument --maxresults: invalid int value: '{m}'")))
        })
        .transpose()
}

const ENCODINGS: &[&str] = &["utf-8", "utf-16le", "utf-16be", "ascii", "base64", "hex"];

fn encoding_arg(a: &Args) -> Result<Option<String>, CommandError> {
    match a.get("--encoding") {
        None => Ok(None),
        Some(e) if ENCODINGS.contains(&e.as_str()) => Ok(Some(e)),
        Some(e) => Err(usage(format!(
            "argument --encoding/-e: invalid choice: '{e}' (choose from {})",
            ENCODINGS
                .iter()
                .map(|x| format!("'{x}'"))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    let t = text.trim();
    if !t.len().is_multiple_of(2) {
        return None;
    }
    (0..t.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(t.get(i..i + 2)?, 16).ok())
        .collect()
}

fn utf16(bytes: &[u8], big_endian: bool) -> Option<String> {
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|c| {
            if big_endian {
                u16::from_be_bytes([c[0], c[1]])
            } else {
                u16::from_le_bytes([c[0], c[1]])
            }
        })
        .collect();
    String::from_utf16(&units).ok()
}

/// A file's bytes as a secret value under az's `--encoding`: text encodings are decoded,
/// `base64` and `hex` encode the bytes.
fn value_from_file(bytes: &[u8], encoding: &str, file: &str) -> Result<String, CommandError> {
    let cannot = || {
        usage(format!(
            "cannot read '{file}' as {encoding}: use --encoding base64 or hex for binary files"
        ))
    };
    match encoding {
        "utf-8" => String::from_utf8(bytes.to_vec()).map_err(|_| cannot()),
        "ascii" if bytes.is_ascii() => String::from_utf8(bytes.to_vec()).map_err(|_| cannot()),
        "ascii" => Err(cannot()),
        "utf-16le" => utf16(bytes, false).ok_or_else(cannot),
        "utf-16be" => utf16(bytes, true).ok_or_else(cannot),
        "base64" => Ok(base64::engine::general_purpose::STANDARD.encode(bytes)),
        _ => Ok(hex(bytes)),
    }
}

/// A secret value written back to a file under `encoding` (what `download` does).
fn file_from_value(value: &str, encoding: &str) -> Result<Vec<u8>, CommandError> {
    let bad = || {
        usage(format!(
            "The secret's value is not {encoding}: download it with another --encoding."
        ))
    };
    match encoding {
        "utf-8" => Ok(value.as_bytes().to_vec()),
        "ascii" if value.is_ascii() => Ok(value.as_bytes().to_vec()),
        "ascii" => Err(bad()),
        "utf-16le" => Ok(value.encode_utf16().flat_map(u16::to_le_bytes).collect()),
        "utf-16be" => Ok(value.encode_utf16().flat_map(u16::to_be_bytes).collect()),
        "base64" => base64::engine::general_purpose::STANDARD
            .decode(value.trim())
            .map_err(|_| bad()),
        _ => unhex(value).ok_or_else(bad),
    }
}

fn secret_set(ws: &mut Workspace, _keys: &dyn KeySource, _cmd: &str, a: &mut Args) -> CmdResult {
    let vault = a.required("--vault-name")?;
    let name = a.required("--name")?;
    let encoding = encoding_arg(a)?;
    let mut tags = if a.has("--tags") {
        tags_arg(a)?
    } else {
        Vec::new()
    };
    let value = match (a.get("--value"), a.get("--file")) {
        (Some(v), None) => {
            if encoding.is_some() {
                return Err(usage("usage error: --encoding is for --file"));
            }
            v
        }
        (None, Some(file)) => {
            let encoding = encoding.unwrap_or_else(|| "utf-8".into());
            let bytes = crate::persist::read_user_file(&file)
                .map_err(|e| usage(format!("cannot read '{file}': {e}")))?;
            let value = value_from_file(&bytes, &encoding, &file)?;
            // az remembers how the file was read, for `download`.
            tags.retain(|(k, _)| k != "file-encoding");
            tags.push(("file-encoding".into(), encoding));
            value
        }
        _ => return Err(usage("usage error: --value VALUE | --file PATH")),
    };
    let req = SetSecret {
        content_type: a.get("--content-type"),
        enabled: a.bool("--disabled")? != Some(true),
        not_before: time_arg(a, "--not-before")?,
        expires: time_arg(a, "--expires")?,
        tags,
        ..SetSecret::new(&vault, &name, value)
    };
    let (v, s, sv) = secrets::set_secret(ws, &req)?;
    Ok(secret_json(&v, &s, &sv, true))
}

fn secret_show(ws: &mut Workspace, _keys: &dyn KeySource, _cmd: &str, a: &mut Args) -> CmdResult {
    let (vault, name, version) = secret_ref(a)?;
    let (v, s, sv) = secrets::get_secret(ws, &vault, &name, version.as_deref())?;
    Ok(secret_json(&v, &s, &sv, true))
}

fn secret_list(ws: &mut Workspace, _keys: &dyn KeySource, _cmd: &str, a: &mut Args) -> CmdResult {
    let vault = vault_ref(a)?;
    let max = max_results(a)?;
    let include_managed = a.bool("--include-managed")?.unwrap_or(false);
    let (v, list) = secrets::list_secrets(ws, &vault)?;
    Ok(Value::Array(
        list.iter()
            .filter(|s| include_managed || !s.managed)
            .take(max.unwrap_or(usize::MAX))
            .map(|s| secret_item(&v, s))
            .collect(),
    ))
}

fn secret_list_versions(
    ws: &mut Workspace,
    _keys: &dyn KeySource,
    _cmd: &str,
    a: &mut Args,
) -> CmdResult {
    let (vault, name, _) = secret_ref(a)?;
    let max = max_results(a)?;
    let (v, s) = secrets::list_secret_versions(ws, &vault, &name)?;
    Ok(Value::Array(
        s.versions
            .iter()
            .take(max.unwrap_or(usize::MAX))
            .map(|sv| {
                let mut item = secret_json(&v, &s, sv, false);
                if let Some(o) = item.as_object_mut() {
                    o.remove("kid");
                }
                item
            })
            .collect(),
    ))
}

fn secret_set_attributes(
    ws: &mut Workspace,
    _keys: &dyn KeySource,
    _cmd: &str,
    a: &mut Args,
) -> CmdResult {
    let (vault, name, version) = secret_ref(a)?;
    let attrs = SecretAttributes {
        enabled: a.bool("--enabled")?,
        not_before: a
            .has("--not-before")
            .then(|| time_arg(a, "--not-before"))
            .transpose()?,
        expires: a
            .has("--expires")
            .then(|| time_arg(a, "--expires"))
            .transpose()?,
        content_type: a
            .get("--content-type")
            .map(|c| (!c.is_empty()).then_some(c)),
        tags: a.has("--tags").then(|| tags_arg(a)).transpose()?,
    };
    let (v, s, sv) = secrets::update_secret(ws, &vault, &name, version.as_deref(), &attrs)?;
    Ok(secret_json(&v, &s, &sv, false))
}

fn secret_delete(ws: &mut Workspace, _keys: &dyn KeySource, _cmd: &str, a: &mut Args) -> CmdResult {
    let (vault, name, _) = secret_ref(a)?;
    let (v, s) = secrets::delete_secret(ws, &vault, &name)?;
    Ok(deleted_json(&v, &s))
}

fn secret_show_deleted(
    ws: &mut Workspace,
    _keys: &dyn KeySource,
    _cmd: &str,
    a: &mut Args,
) -> CmdResult {
    let (vault, name, _) = secret_ref(a)?;
    let (v, s) = secrets::show_deleted_secret(ws, &vault, &name)?;
    Ok(deleted_json(&v, &s))
}

fn secret_list_deleted(
    ws: &mut Workspace,
    _keys: &dyn KeySource,
    _cmd: &str,
    a: &mut Args,
) -> CmdResult {
    let vault = vault_ref(a)?;
    let max = max_results(a)?;
    let (v, list) = secrets::list_deleted_secrets(ws, &vault)?;
    Ok(Value::Array(
        list.iter()
            .take(max.unwrap_or(usize::MAX))
            .map(|s| {
                let mut item = deleted_json(&v, s);
                if let Some(o) = item.as_object_mut() {
                    o.remove("kid");
                    o.insert("id".into(), json!(format!("{}secrets/{}", v.uri(), s.name)));
                }
                item
            })
            .collect(),
    ))
}

fn secret_recover(
    ws: &mut Workspace,
    _keys: &dyn KeySource,
    _cmd: &str,
    a: &mut Args,
) -> CmdResult {
    let (vault, name, _) = secret_ref(a)?;
    let (v, s) = secrets::recover_secret(ws, &vault, &name)?;
    Ok(match s.current() {
        Some(sv) => secret_json(&v, &s, sv, false),
        None => Value::Null,
    })
}

fn secret_purge(ws: &mut Workspace, _keys: &dyn KeySource, _cmd: &str, a: &mut Args) -> CmdResult {
    let (vault, name, _) = secret_ref(a)?;
    secrets::purge_secret(ws, &vault, &name)?;
    Ok(Value::Null)
}

fn secret_backup(ws: &mut Workspace, _keys: &dyn KeySource, _cmd: &str, a: &mut Args) -> CmdResult {
    let (vault, name, _) = secret_ref(a)?;
    let file = a.required("--file")?;
    if std::path::Path::new(&file).exists() {
        return Err(usage(format!("File '{file}' already exists.")));
    }
    let blob = secrets::backup_secret(ws, &vault, &name)?;
    crate::persist::write_new_file(std::path::Path::new(&file), &blob).map_err(usage)?;
    // az prints nothing for a backup.
    Ok(Value::Null)
}

fn secret_restore(
    ws: &mut Workspace,
    _keys: &dyn KeySource,
    _cmd: &str,
    a: &mut Args,
) -> CmdResult {
    let vault = a.required("--vault-name")?;
    let file = a.required("--file")?;
    let blob = crate::persist::read_user_file(&file)
        .map_err(|e| usage(format!("cannot read '{file}': {e}")))?;
    let (v, s) = secrets::restore_secret(ws, &vault, &blob)?;
    Ok(match s.current() {
        Some(sv) => secret_json(&v, &s, sv, false),
        None => Value::Null,
    })
}

fn secret_download(
    ws: &mut Workspace,
    _keys: &dyn KeySource,
    _cmd: &str,
    a: &mut Args,
) -> CmdResult {
    let (vault, name, version) = secret_ref(a)?;
    let file = a.required("--file")?;
    let encoding = encoding_arg(a)?;
    let overwrite = a.bool("--overwrite")?.unwrap_or(false);
    let path = std::path::Path::new(&file);
    if path.is_dir() {
        return Err(usage(format!(
            "Cannot write to '{file}': it is a directory."
        )));
    }
    if !overwrite && path.symlink_metadata().is_ok() {
        return Err(usage(format!(
            "File '{file}' already exists. Use --overwrite to overwrite the existing file."
        )));
    }
    let (_, _, sv) = secrets::get_secret(ws, &vault, &name, version.as_deref())?;
    let encoding = encoding.unwrap_or_else(|| {
        sv.tags
            .iter()
            .find(|(k, _)| k == "file-encoding")
            .map(|(_, v)| v.clone())
            .filter(|e| ENCODINGS.contains(&e.as_str()))
            .unwrap_or_else(|| "utf-8".into())
    });
    let bytes = file_from_value(sv.value.reveal(), &encoding)?;
    if overwrite && path.symlink_metadata().is_ok() {
        crate::persist::write_atomically(path, &bytes)
            .map_err(|e| usage(format!("Cannot write '{file}': {e}")))?;
    } else {
        crate::persist::write_new_file(path, &bytes).map_err(usage)?;
    }
    Ok(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_encodings_round_trip() {
        let bytes = [0u8, 1, 2, 250, 255];
        for enc in ["base64", "hex"] {
            let v = value_from_file(&bytes, enc, "f").unwrap();
            assert_eq!(file_from_value(&v, enc).unwrap(), bytes);
        }
        for enc in ["utf-8", "utf-16le", "utf-16be"] {
            let b = file_from_value("héllo", enc).unwrap();
            assert_eq!(value_from_file(&b, enc, "f").unwrap(), "héllo");
        }
        assert!(value_from_file(&bytes, "utf-8", "f").is_err());
        assert!(value_from_file("é".as_bytes(), "ascii", "f").is_err());
        assert_eq!(unhex("0g"), None);
    }
}
