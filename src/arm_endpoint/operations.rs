//! Long-running operations as ARM reports them: a change that takes time answers
//! `202 Accepted` with `Azure-AsyncOperation` (and `Location`) naming a status URL; az
//! polls it (`Retry-After` seconds apart) until `Succeeded`, then reads the resource.
//! Nothing is kept for an operation: its status is read from the workspace (the server
//! still re-wrapping its keys), so a restart of `serve` loses none.

use super::{Ctx, Reply, shape};
use crate::service::{ServiceError, sql, tde};
use crate::shell::views;
use crate::vault_endpoint::http::Request;
use base64::Engine;
use serde_json::{Value, json};

/// The operation kind of a protector change (the path segment Azure SQL uses).
pub const PROTECTOR: &str = "encryptionProtectorAzureAsyncOperation";
/// The same operation's result, polled through `Location`.
pub const PROTECTOR_RESULT: &str = "encryptionProtectorOperationResults";

/// The status URL of an operation of `kind` on `server`.
pub fn url(sub: &str, location: &str, kind: &str, server: &str) -> String {
    format!(
        "https://management.azure.com/subscriptions/{sub}/providers/Microsoft.Sql/locations/{location}/{kind}/{server}?api-version=2021-11-01"
    )
}

/// The kind of a change to a resource (a create or update, or a delete) that Azure runs as
/// a long-running operation: `resourceAzureAsyncOperation` is its status,
/// `resourceOperationResults` its result.
pub const RESOURCE: &str = "resourceAzureAsyncOperation";
pub const RESOURCE_RESULT: &str = "resourceOperationResults";

/// What a resource operation did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// A PUT: its result is the resource.
    Put,
    /// A DELETE: its result is nothing.
    Delete,
}

/// The operation's name: the change and the resource's path (`p:/subscriptions/…`), so
/// its status and result are read from the workspace, nothing kept for it.
fn operation_name(change: Change, path: &str) -> String {
    let tag = match change {
        Change::Put => "p:",
        Change::Delete => "d:",
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{tag}{path}"))
}

fn parse_operation_name(name: &str) -> Option<(Change, String)> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(name)
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (tag, path) = text.split_at_checked(2)?;
    let change = match tag {
        "p:" => Change::Put,
        "d:" => Change::Delete,
        _ => return None,
    };
    path.starts_with("/subscriptions/")
        .then(|| (change, path.to_string()))
}

/// `202 Accepted` for a change the operations layer has made (Azure runs it as a
/// long-running operation, so az polls; `--no-wait` returns at once): its status URL and
/// its result URL, under the resource's region.
pub fn accepted(c: &Ctx, location: &str, change: Change) -> Reply {
    let sub = c.ws.current_subscription.0.clone();
    let path = c.request.path.clone();
    let name = operation_name(change, &path);
    Reply::Accepted {
        status: url(&sub, location, RESOURCE, &name),
        location: url(&sub, location, RESOURCE_RESULT, &name),
    }
}

/// The resource at `path` as a GET reads it now: its body, or the error.
fn read(c: &mut Ctx, path: &str) -> Result<Value, ServiceError> {
    let r = Request {
        method: "GET".into(),
        path: path.to_string(),
        ..Default::default()
    };
    let resp = super::dispatch(c.ws, c.keys, &r);
    let body: Value = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
    if resp.status == 200 {
        return Ok(body);
    }
    Err(ServiceError::new(
        body["error"]["code"].as_str().unwrap_or("ResourceNotFound"),
        resp.status,
        body["error"]["message"]
            .as_str()
            .unwrap_or("The resource was not found.")
            .to_string(),
    ))
}

/// A resource operation's status or result. The operations layer made the change before
/// the 202 was sent, so it has succeeded: the result of a PUT is the resource as it is now
/// (or why it is gone), of a DELETE nothing.
fn resource_status(c: &mut Ctx, kind: &str, name: &str) -> Result<Reply, ServiceError> {
    let (change, path) = parse_operation_name(name).ok_or_else(|| {
        ServiceError::not_found(
            "ResourceNotFound",
            format!("The operation '{name}' of kind '{kind}' was not found."),
        )
    })?;
    if kind.eq_ignore_ascii_case(RESOURCE) {
        return Ok(Reply::Ok(json!({"name": name, "status": "Succeeded"})));
    }
    match change {
        Change::Put => Ok(Reply::Ok(read(c, &path)?)),
        Change::Delete => Ok(Reply::NoContent),
    }
}

/// `GET .../locations/{location}/{kind}/{operation}`.
pub fn status(c: &mut Ctx) -> Result<Reply, ServiceError> {
    let kind = c.p("kind").to_string();
    if kind.eq_ignore_ascii_case(RESOURCE) || kind.eq_ignore_ascii_case(RESOURCE_RESULT) {
        let name = c.p("operation").to_string();
        return resource_status(c, &kind, &name);
    }
    let server = c.p("operation").to_string();
    let unknown = || {
        ServiceError::not_found(
            "ResourceNotFound",
            format!("The operation '{server}' of kind '{kind}' was not found."),
        )
    };
    let s = sql::server(c.ws, &server).map_err(|_| unknown())?;
    let running = s.protector_change_until.is_some_and(|t| t > c.ws.now());
    if kind.eq_ignore_ascii_case(PROTECTOR) {
        return Ok(Reply::Ok(json!({
            "name": server,
            "status": if running { "InProgress" } else { "Succeeded" },
        })));
    }
    if kind.eq_ignore_ascii_case(PROTECTOR_RESULT) {
        if running {
            let (sub, location) = (c.ws.current_subscription.0.clone(), c.p("location"));
            return Ok(Reply::Accepted {
                status: url(&sub, location, PROTECTOR, &server),
                location: url(&sub, location, PROTECTOR_RESULT, &server),
            });
        }
        let (p, k) = tde::show_protector(c.ws, &server)?;
        return Ok(Reply::Ok(shape::arm(views::protector(s, &p, &k))));
    }
    Err(unknown())
}
