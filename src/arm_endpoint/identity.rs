//! `Microsoft.ManagedIdentity/userAssignedIdentities` (az identity create|show|list|delete).

use super::resources::require_group;
use super::{Ctx, Reply, shape};
use crate::service::{ServiceError, identity};
use crate::shell::views;

pub fn create(c: &mut Ctx) -> Result<Reply, ServiceError> {
    let body = c.body()?;
    let (name, rg) = (c.p("name").to_string(), c.p("rg").to_string());
    let existed = identity::show_identity(c.ws, &name, &rg).is_ok();
    let location = body.get("location").and_then(|l| l.as_str());
    let i = identity::create_identity(c.ws, &name, &rg, location)?;
    let v = shape::arm(views::identity(&i));
    Ok(if existed {
        Reply::Ok(v)
    } else {
        Reply::Created(v)
    })
}

pub fn show(c: &mut Ctx) -> Result<Reply, ServiceError> {
    let i = identity::show_identity(c.ws, c.p("name"), c.p("rg"))?;
    Ok(Reply::Ok(shape::arm(views::identity(i))))
}

pub fn list(c: &mut Ctx) -> Result<Reply, ServiceError> {
    require_group(c)?;
    let ws = &*c.ws;
    let rg = c.p("rg");
    Ok(Reply::Ok(shape::list(
        ws.identities
            .iter()
            .filter(|i| {
                i.subscription == ws.current_subscription
                    && i.resource_group.eq_ignore_ascii_case(rg)
            })
            .map(views::identity),
    )))
}

pub fn delete(c: &mut Ctx) -> Result<Reply, ServiceError> {
    let (name, rg) = (c.p("name").to_string(), c.p("rg").to_string());
    require_group(c)?;
    if identity::show_identity(c.ws, &name, &rg).is_err() {
        return Ok(Reply::NoContent);
    }
    identity::delete_identity(c.ws, &name, &rg)?;
    Ok(Reply::Deleted)
}
