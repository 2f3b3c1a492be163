//! Business continuity under a server: failover groups (az sql failover-group list|show,
//! and set-primary: the failover, planned or forced, POSTed to the server that becomes the
//! primary) and a database's replication links (az sql db replica list-links), as the
//! shell shows them.

use super::{Ctx, Reply, operations, shape};
use crate::model::FailoverPolicy;
use crate::service::failover_group::{CreateFailoverGroup, UpdateFailoverGroup};
use crate::service::georeplication::link_json;
use crate::service::{ServiceError, failover_group as fg, georeplication as geo, sql};
use crate::shell::continuity::group_json;
use serde_json::Value;

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
        Failover::Planned => {
            crate::service::behaviour::fail_over(c.ws, &name, &server, false, true, keys)
                .map(|_| ())?
        }
        Failover::Forced => {
            crate::service::behaviour::fail_over(c.ws, &name, &server, true, true, keys)
                .map(|_| ())?
        }
        Failover::PlannedThenForced => {
            crate::service::behaviour::fail_over(c.ws, &name, &server, false, true, keys)
                .or_else(|_| {
                    crate::service::behaviour::fail_over(c.ws, &name, &server, true, true, keys)
                })
                .map(|_| ())?
        }
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

/// The last segment after `kind` in a resource id (`servers` of `…/servers/S`).
fn id_segment(id: &str, kind: &str) -> Option<String> {
    let parts: Vec<&str> = id.trim().trim_matches('/').split('/').collect();
    parts
        .iter()
        .rposition(|p| p.eq_ignore_ascii_case(kind))
        .and_then(|i| parts.get(i + 1))
        .filter(|s| !s.is_empty())
        .map(|s| s.to_string())
}

/// The databases a group's body lists (ids of the primary's databases), by name.
fn databases_of(props: &Value) -> Vec<String> {
    props["databases"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(Value::as_str)
        .filter_map(|id| id_segment(id, "databases"))
        .collect()
}

/// `readWriteEndpoint`: the policy and the grace period in whole hours.
fn policy_of(props: &Value) -> Result<(Option<FailoverPolicy>, Option<i64>), ServiceError> {
    let rw = &props["readWriteEndpoint"];
    let policy = match rw["failoverPolicy"].as_str() {
        None => None,
        Some(p) => Some(FailoverPolicy::parse(p).ok_or_else(|| {
            ServiceError::bad_request(
                "InvalidFailoverPolicy",
                format!("The failover policy '{p}' is invalid: Automatic or Manual."),
            )
        })?),
    };
    let grace = rw["failoverWithDataLossGracePeriodMinutes"]
        .as_i64()
        .map(|m| m / 60);
    Ok((policy, grace))
}

/// `PUT servers/{server}/failoverGroups/{name}`: az sql failover-group create (a new group:
/// the partner from `partnerServers`, the databases from `databases`) or update (az sends
/// the group back with `databases` changed by --add-db/--remove-db, and the policy); each
/// the shell's operation. Azure answers 202 and az polls ([`operations`]).
pub fn put_group(c: &mut Ctx) -> Result<Reply, ServiceError> {
    let server = server_name(c)?;
    let location = sql::server(c.ws, &server)?.location.clone();
    let name = c.p("name").to_string();
    let body = c.body()?;
    let props = &body["properties"];
    let (policy, grace) = policy_of(props)?;
    let wanted = databases_of(props);
    if let Some(g) = c.ws.continuity.failover_group(&name).cloned() {
        if !g.has_server(&server) {
            return Err(ServiceError::conflict(
                "FailoverGroupAlreadyExists",
                format!("The failover group '{name}' already exists."),
            ));
        }
        let add = wanted.iter().filter(|d| !g.contains(d)).cloned().collect();
        let remove = g
            .databases
            .iter()
            .filter(|d| !wanted.iter().any(|w| w.eq_ignore_ascii_case(d)))
            .cloned()
            .collect();
        let grace = match (policy.unwrap_or(g.policy), grace) {
            (FailoverPolicy::Automatic, Some(h)) if h != i64::from(g.grace_period_hours) => Some(h),
            _ => None,
        };
        let policy = policy.filter(|p| *p != g.policy);
        fg::update_failover_group(
            c.ws,
            &name,
            &server,
            &UpdateFailoverGroup {
                add,
                remove,
                policy,
                grace_period_hours: grace,
            },
        )?;
        return Ok(operations::accepted(c, &location, operations::Change::Put));
    }
    let partners = props["partnerServers"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    if partners.len() != 1 {
        return Err(ServiceError::bad_request(
            "FailoverGroupCreateOrUpdateRequestUnsupportedPartnerCount",
            "Only one partner server is supported.",
        ));
    }
    let partner = partners[0]["id"]
        .as_str()
        .and_then(|id| id_segment(id, "servers"))
        .ok_or_else(|| {
            ServiceError::bad_request(
                "InvalidParameterValue",
                "Invalid value given for parameter partnerServers. Specify a valid parameter value.",
            )
        })?;
    fg::create_failover_group(
        c.ws,
        &CreateFailoverGroup {
            name,
            server,
            partner_server: partner,
            policy: policy.unwrap_or(FailoverPolicy::Manual),
            grace_period_hours: grace,
            databases: wanted,
        },
    )?;
    Ok(operations::accepted(c, &location, operations::Change::Put))
}

/// `DELETE servers/{server}/failoverGroups/{name}` (az sql failover-group delete, on the
/// primary): the shell's `failover_group::delete_failover_group`.
pub fn delete_group(c: &mut Ctx) -> Result<Reply, ServiceError> {
    let server = server_name(c)?;
    let location = sql::server(c.ws, &server)?.location.clone();
    let name = c.p("name").to_string();
    if fg::show_failover_group(c.ws, &name, &server).is_err() {
        return Ok(Reply::NoContent);
    }
    fg::delete_failover_group(c.ws, &name, &server)?;
    Ok(operations::accepted(
        c,
        &location,
        operations::Change::Delete,
    ))
}
