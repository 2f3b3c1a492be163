//! What the command groups share: the command error, and parsers for arguments several
//! groups take (key references, times, tags, key types and operations, identities).
//! The commands themselves are rows of [`super::registry`], in one module per group.

use super::args::{Args, UsageError};
use crate::model::*;
use crate::service::{self, ServiceError};
use serde_json::Value;

/// Why a command failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CommandError {
    Usage(UsageError),
    Service(ServiceError),
}

impl From<UsageError> for CommandError {
    fn from(e: UsageError) -> Self {
        CommandError::Usage(e)
    }
}

impl From<ServiceError> for CommandError {
    fn from(e: ServiceError) -> Self {
        CommandError::Service(e)
    }
}

impl std::fmt::Display for CommandError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CommandError::Usage(u) => write!(f, "ERROR: {}", u.0),
            CommandError::Service(e) => write!(f, "ERROR: ({}) {}", e.code, e.message),
        }
    }
}

pub type CmdResult = Result<Value, CommandError>;

pub(crate) fn usage(text: impl Into<String>) -> CommandError {
    CommandError::Usage(UsageError(text.into()))
}

/// `--identity-type`, `--user-assigned-identity-id ID...` and
/// `--primary-user-assigned-identity-id` of `az sql server create|update`.
pub(crate) fn identity_args(a: &Args) -> service::identity::ServerIdentities {
    service::identity::ServerIdentities {
        identity_type: a.get("--identity-type"),
        user_assigned: a
            .list("--user-assigned-identity-id")
            .into_iter()
            .flat_map(|v| v.split([',', ' ']).map(str::to_string).collect::<Vec<_>>())
            .filter(|v| !v.is_empty())
            .collect(),
        primary: a.get("--primary-user-assigned-identity-id"),
        federated_client_id: a.get("--federated-client-id"),
    }
}

/// A resource-group argument must name the group the server is in.
pub(crate) fn check_group(ws: &Workspace, a: &Args, server: &str) -> Result<(), CommandError> {
    if let Some(g) = a.get("--resource-group") {
        if ws.resource_group(&g).is_none() {
            return Err(ServiceError::resource_group_not_found(&g).into());
        }
        if let Some(s) = ws.server(server)
            && !s.resource_group.eq_ignore_ascii_case(&g)
        {
            return Err(ServiceError::server_not_found(server).into());
        }
    }
    Ok(())
}

/// `--vault-name V --name K [--version X]` or `--id <kid>`.
pub(crate) fn key_ref(a: &Args) -> Result<(String, String, Option<String>), CommandError> {
    if let Some(id) = a.get("--id") {
        let u = KeyUri::parse(&id)
            .ok_or_else(|| usage(format!("argument --id: invalid key identifier '{id}'")))?;
        return Ok((u.vault, u.key, u.version));
    }
    Ok((
        a.required("--vault-name")?,
        a.required("--name")?,
        a.get("--version"),
    ))
}

pub(crate) fn time_arg(a: &Args, flag: &str) -> Result<Option<Timestamp>, CommandError> {
    match a.get(flag) {
        None => Ok(None),
        Some(t) if t.is_empty() => Ok(None),
        Some(t) => Timestamp::parse(&t).map(Some).ok_or_else(|| {
            usage(format!(
                "argument {flag}: invalid datetime value: '{t}' (use e.g. 2026-12-31T00:00:00Z)"
            ))
        }),
    }
}

/// `--tags a=b c=d`; a word without `=` is a tag with an empty value, as az takes it, and
/// `--tags ""` clears the tags.
pub(crate) fn tags_arg(a: &Args) -> Result<Vec<(String, String)>, CommandError> {
    a.list("--tags")
        .iter()
        .filter(|t| !t.is_empty())
        .map(|t| match t.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
            None => Ok((t.to_string(), String::new())),
            _ => Err(usage(format!(
                "argument --tags: invalid tag '{t}' (use key=value)"
            ))),
        })
        .collect()
}

/// `--kty RSA|RSA-HSM` or `--protection software|hsm`.
pub(crate) fn kty_arg(a: &Args) -> Result<KeyType, CommandError> {
    Ok(match (a.get("--kty"), a.get("--protection")) {
        (Some(k), p) => {
            let kty = KeyType::parse(&k).ok_or_else(|| {
                usage(format!(
                    "argument --kty: invalid choice: '{k}' (choose from 'EC', 'EC-HSM', 'RSA', 'RSA-HSM'; oct keys are not simulated)"
                ))
            })?;
            // az import spells an HSM key --kty RSA --protection hsm.
            if p.as_deref() == Some("hsm") {
                kty.in_hsm()
            } else {
                kty
            }
        }
        (None, Some(p)) if p == "hsm" => KeyType::RsaHsm,
        (None, Some(p)) if p == "software" => KeyType::Rsa,
        (None, Some(p)) => {
            return Err(usage(format!(
                "argument --protection/-p: invalid choice: '{p}' (choose from 'hsm', 'software')"
            )));
        }
        (None, None) => KeyType::Rsa,
    })
}

pub(crate) fn ops_arg(a: &Args) -> Result<Vec<KeyOperation>, CommandError> {
    a.list("--ops")
        .iter()
        .map(|o| KeyOperation::parse(o).ok_or_else(|| usage(format!("argument --ops: invalid choice: '{o}' (choose from 'decrypt', 'encrypt', 'import', 'sign', 'unwrapKey', 'verify', 'wrapKey')"))))
        .collect()
}

/// `--max-size` as az reads it (its `SizeWithUnitConverter`): a number of bytes, or a number
/// with B, KB, MB, GB or TB (powers of 1024); in whole GB, rounded up.
pub(crate) fn max_size_gb(a: &Args) -> Result<Option<u32>, CommandError> {
    let Some(text) = a.get("--max-size") else {
        return Ok(None);
    };
    let invalid = || {
        usage(format!(
            "argument --max-size: invalid size '{text}' (a number of bytes, or a number with B, KB, MB, GB or TB, e.g. 250GB)"
        ))
    };
    let t = text.trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(digits);
    let number: u64 = number.parse().map_err(|_| invalid())?;
    let scale: u64 = match unit.to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "KB" => 1 << 10,
        "MB" => 1 << 20,
        "GB" => 1 << 30,
        "TB" => 1 << 40,
        _ => return Err(invalid()),
    };
    let bytes = number.checked_mul(scale).ok_or_else(invalid)?;
    let gb = bytes.div_ceil(1 << 30);
    u32::try_from(gb)
        .ok()
        .filter(|gb| *gb > 0)
        .map(Some)
        .ok_or_else(invalid)
}
