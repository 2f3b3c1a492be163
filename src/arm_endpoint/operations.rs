//! Long-running operations as ARM reports them: a change that takes time answers
//! `202 Accepted` with `Azure-AsyncOperation` (and `Location`) naming a status URL; az
//! polls it (`Retry-After` seconds apart) until `Succeeded`, then reads the resource.
//! Nothing is kept for an operation: its status is read from the workspace (the server
//! still re-wrapping its keys), so a restart of `serve` loses none.

use super::{Ctx, Reply, shape};
use crate::service::{ServiceError, sql, tde};
use crate::shell::views;
use serde_json::json;

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

/// `GET .../locations/{location}/{kind}/{operation}`.
pub fn status(c: &mut Ctx) -> Result<Reply, ServiceError> {
    let kind = c.p("kind").to_string();
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
