//! Business continuity under a server: failover groups (az sql failover-group list|show,
//! and set-primary: the failover, planned or forced, POSTed to the server that becomes the
//! primary) and a database's replication links (az sql db replica list-links), as the
//! shell shows them.

use super::{Ctx, Reply, shape};
use crate::service::{ServiceError, failover_group as fg, georeplication as geo, sql};
use crate::shell::continuity::group_json;
use crate::shell::views::replication_link as link_json;

fn server_name(c: &Ctx) -> Result<String, ServiceError> {
    super::resources::require_group(c)?;
    let s = sql::server(c.ws, c.p("server"))?;
    if !s.resource_group.eq_ignore_ascii_case(c.p("rg")) {
        return Err(ServiceError::server_not_found(c.p("server")));
    }
    Ok(s.name.clone())
}

pub fn list_groups(c: &mut Ctx) -> Result<Reply, ServiceError> {
    let server = server_name(c)?;
    let ws = &*c.ws;
    Ok(Reply::Ok(shape::list(
        ws.continuity
            .failover_groups
            .iter()
            .filter(|g| g.has_server(&server))
            .map(|g| group_json(ws, g, &server)),
    )))
}

pub fn show_group(c: &mut Ctx) -> Result<Reply, ServiceError> {
    let server = server_name(c)?;
    let g = fg::show_failover_group(c.ws, c.p("name"), &server)?;
    Ok(Reply::Ok(shape::arm(group_json(c.ws, &g, &server))))
}

pub fn list_links(c: &mut Ctx) -> Result<Reply, ServiceError> {
    let server = server_name(c)?;
    let db = c.p("db").to_string();
    let links = geo::list_links(c.ws, &server, &db)?;
    Ok(Reply::Ok(shape::list(
        links.iter().map(|l| link_json(c.ws, &server, &db, l)),
    )))
}

/// How a failover group fails over to the server it is POSTed to.
enum Failover {
    Planned,
    Forced,
    /// Planned, and forced when the planned one cannot be made.
    PlannedThenForced,
}

/// The same operation as the shell's `az sql failover-group set-primary`: the call
/// returns when the last database has opened (the clock advances to it), with the group
/// as the new primary sees it (az's poller takes a 200 with its body as done).
fn fail_over(c: &mut Ctx, how: Failover) -> Result<Reply, ServiceError> {
    let server = server_name(c)?;
    let name = c.p("name").to_string();
    let keys = c.keys;
    match how {
        Failover::Planned => fg::fail_over(c.ws, &name, &server, false, true, keys).map(|_| ())?,
        Failover::Forced => fg::fail_over(c.ws, &name, &server, true, true, keys).map(|_| ())?,
        Failover::PlannedThenForced => fg::fail_over(c.ws, &name, &server, false, true, keys)
            .or_else(|_| fg::fail_over(c.ws, &name, &server, true, true, keys))
            .map(|_| ())?,
    }
    let g = fg::show_failover_group(c.ws, &name, &server)?;
    Ok(Reply::Ok(shape::arm(group_json(c.ws, &g, &server))))
}

/// `POST …/failoverGroups/{name}/failover`.
pub fn failover(c: &mut Ctx) -> Result<Reply, ServiceError> {
    fail_over(c, Failover::Planned)
}

/// `POST …/failoverGroups/{name}/forceFailoverAllowDataLoss`.
pub fn force_failover(c: &mut Ctx) -> Result<Reply, ServiceError> {
    fail_over(c, Failover::Forced)
}

/// `POST …/failoverGroups/{name}/tryPlannedBeforeForcedFailover`.
pub fn try_planned_failover(c: &mut Ctx) -> Result<Reply, ServiceError> {
    fail_over(c, Failover::PlannedThenForced)
}
