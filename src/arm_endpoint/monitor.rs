//! The activity log (az monitor activity-log list): the events the console's shell lists,
//! filtered by `resourceGroupName`, `resourceId`, `caller` and `status` in `$filter`. Its
//! `eventTimestamp` window is not applied: az sends one in wall-clock time, and the
//! workspace's events are in simulated time.

use super::{Ctx, Reply};
use crate::service::ServiceError;
use crate::service::monitor::activity_event_json;
use serde_json::json;

/// `field eq 'VALUE'` in an OData filter, if there.
fn clause(filter: &str, field: &str) -> Option<String> {
    let lower = filter.to_ascii_lowercase();
    let at = lower.find(&format!("{} eq '", field.to_ascii_lowercase()))?;
    filter[at + field.len() + 5..]
        .split('\'')
        .next()
        .map(str::to_string)
}

pub fn list(c: &mut Ctx) -> Result<Reply, ServiceError> {
    let filter = c.request.query("$filter").unwrap_or("");
    let group = clause(filter, "resourceGroupName")
        .map(|g| format!("/resourcegroups/{}/", g.to_ascii_lowercase()));
    let resource = clause(filter, "resourceId");
    let caller = clause(filter, "caller");
    let status = clause(filter, "status");
    let now = c.ws.now();
    let value: Vec<_> =
        c.ws.activity_log
            .iter()
            .rev()
            .filter(|e| e.visible(now))
            .filter(|e| {
                group
                    .as_ref()
                    .is_none_or(|g| e.resource.to_ascii_lowercase().contains(g.as_str()))
            })
            .filter(|e| {
                resource
                    .as_deref()
                    .is_none_or(|r| e.resource.eq_ignore_ascii_case(r))
            })
            .filter(|e| {
                caller
                    .as_deref()
                    .is_none_or(|x| e.caller.eq_ignore_ascii_case(x))
            })
            .filter(|e| {
                status
                    .as_deref()
                    .is_none_or(|s| e.status.as_str().eq_ignore_ascii_case(s))
            })
            .map(activity_event_json)
            .collect();
    Ok(Reply::Ok(json!({"value": value})))
}

#[cfg(test)]
mod tests {
    #[test]
    fn filter_clauses_are_read_without_case() {
        let f = "eventTimestamp ge '2026-01-01' and ResourceGroupName eq 'rg-contoso-us'";
        assert_eq!(
            super::clause(f, "resourceGroupName").as_deref(),
            Some("rg-contoso-us")
        );
        assert_eq!(super::clause(f, "caller"), None);
    }
}
