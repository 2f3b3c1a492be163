//! Subscriptions, tenants and resource groups: what `az login` lists and what every
//! command checks first.

use super::{Ctx, Reply, shape};
use crate::model::{Subscription, Workspace};
use crate::service::{ServiceError, ids};
use crate::shell::views;
use serde_json::{Value, json};

fn subscription(ws: &Workspace, s: &Subscription) -> Value {
    json!({
        "id": format!("/subscriptions/{}", s.id.0),
        "authorizationSource": "RoleBased",
        "managedByTenants": [],
        "subscriptionId": s.id.0,
        "tenantId": s.tenant.0,
        "displayName": s.name,
        "state": "Enabled",
        "subscriptionPolicies": {
            "locationPlacementId": "Public_2014-09-01",
            "quotaId": "PayAsYouGo_2014-09-01",
            "spendingLimit": "Off"
        },
        "tags": {},
        "isDefault": s.id == ws.current_subscription,
    })
}

/// The subscriptions the console user sees (those of its tenant: az asks the tenant it
/// signed in to).
pub fn list_subscriptions(c: &mut Ctx) -> Result<Reply, ServiceError> {
    let tenant = c.ws.console_user.tenant.clone();
    let value: Vec<Value> =
        c.ws.subscriptions
            .iter()
            .filter(|s| s.tenant == tenant)
            .map(|s| subscription(c.ws, s))
            .collect();
    Ok(Reply::Ok(json!({"value": value})))
}

pub fn show_subscription(c: &mut Ctx) -> Result<Reply, ServiceError> {
    let ws = &*c.ws;
    let s = ws
        .subscriptions
        .iter()
        .find(|s| s.id == ws.current_subscription)
        .ok_or_else(|| subscription_not_found(c.p("sub")))?;
    Ok(Reply::Ok(subscription(ws, s)))
}

pub fn subscription_not_found(sub: &str) -> ServiceError {
    ServiceError::not_found(
        "SubscriptionNotFound",
        format!("The subscription '{sub}' could not be found."),
    )
}

pub fn list_tenants(c: &mut Ctx) -> Result<Reply, ServiceError> {
    let value: Vec<Value> =
        c.ws.tenants
            .iter()
            .filter(|t| t.id == c.ws.console_user.tenant)
            .map(|t| {
                json!({
                    "id": format!("/tenants/{}", t.id.0),
                    "tenantId": t.id.0,
                    "tenantCategory": "Home",
                    "displayName": t.display_name,
                    "defaultDomain": t.domain,
                    "domains": [t.domain],
                    "tenantType": "AAD",
                })
            })
            .collect();
    Ok(Reply::Ok(json!({"value": value})))
}

pub fn list_groups(c: &mut Ctx) -> Result<Reply, ServiceError> {
    let sub = c.ws.current_subscription.0.clone();
    let groups =
        c.ws.resource_groups
            .iter()
            .filter(|g| g.subscription.0 == sub)
            .map(|g| views::group(&sub, g));
    Ok(Reply::Ok(shape::list(groups)))
}

pub fn show_group(c: &mut Ctx) -> Result<Reply, ServiceError> {
    let sub = c.ws.current_subscription.0.clone();
    let g =
        c.ws.resource_group(c.p("rg"))
            .ok_or_else(|| ServiceError::resource_group_not_found(c.p("rg")))?;
    Ok(Reply::Ok(shape::arm(views::group(&sub, g))))
}

/// The group a route names must exist, in the request's subscription.
pub fn require_group(c: &Ctx) -> Result<(), ServiceError> {
    c.ws.resource_group(c.p("rg"))
        .map(|_| ())
        .ok_or_else(|| ServiceError::resource_group_not_found(c.p("rg")))
}

/// `GET /subscriptions/S/resources?$filter=resourceType eq 'T' and name eq 'N'` (how az
/// finds a vault's resource group from its name): the workspace's vaults, servers and
/// identities, filtered by type and name.
pub fn list_resources(c: &mut Ctx) -> Result<Reply, ServiceError> {
    let filter = c.request.query("$filter").unwrap_or("");
    let wanted = |field: &str| {
        let at = filter.to_ascii_lowercase().find(&format!("{field} eq '"))?;
        let rest = &filter[at + field.len() + 5..];
        rest.split('\'').next().map(str::to_string)
    };
    let (kind, name) = (wanted("resourcetype"), wanted("name"));
    let ws = &*c.ws;
    let sub = &ws.current_subscription;
    let mut all: Vec<(String, String, String, String)> = Vec::new();
    for v in ws
        .vaults
        .iter()
        .filter(|v| v.deleted.is_none() && &v.subscription == sub)
    {
        all.push((
            ids::vault(v),
            v.name.clone(),
            "Microsoft.KeyVault/vaults".into(),
            v.location.clone(),
        ));
    }
    for s in ws.servers.iter().filter(|s| &s.subscription == sub) {
        let id = ids::server(s);
        let t = if id.contains("/managedInstances/") {
            "Microsoft.Sql/managedInstances"
        } else {
            "Microsoft.Sql/servers"
        };
        all.push((id, s.name.clone(), t.into(), s.location.clone()));
    }
    for i in ws.identities.iter().filter(|i| &i.subscription == sub) {
        all.push((
            i.arm_id(),
            i.name.clone(),
            "Microsoft.ManagedIdentity/userAssignedIdentities".into(),
            i.location.clone(),
        ));
    }
    let value: Vec<Value> = all
        .into_iter()
        .filter(|(_, n, t, _)| {
            kind.as_ref().is_none_or(|k| k.eq_ignore_ascii_case(t))
                && name.as_ref().is_none_or(|w| w.eq_ignore_ascii_case(n))
        })
        .map(|(id, name, t, location)| json!({"id": id, "name": name, "type": t, "location": location, "tags": {}}))
        .collect();
    Ok(Reply::Ok(json!({"value": value})))
}
