//! Management locks (`az lock create|delete|list`): CanNotDelete and ReadOnly on a resource
//! group or a resource, enforced by the management-plane operations they cover. As in
//! Azure, locks do not reach the data plane: keys in a locked vault can still be created,
//! used and deleted.

use super::{ServiceError, ServiceResult, check_name, transact};
use crate::model::*;

/// What an operation does to the resource it touches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockedAction {
    /// Changes the resource (refused under ReadOnly).
    Write,
    /// Deletes the resource (refused under CanNotDelete and ReadOnly).
    Delete,
}

/// Refuses `action` on the resource `id` when a lock covers it, with ARM's `ScopeLocked`.
pub fn check(ws: &Workspace, id: &str, action: LockedAction) -> ServiceResult<()> {
    let blocking: Vec<&ResourceLock> = ws
        .locks
        .iter()
        .filter(|l| l.covers(id))
        .filter(|l| action == LockedAction::Delete || l.level == LockLevel::ReadOnly)
        .collect();
    if blocking.is_empty() {
        return Ok(());
    }
    let scopes: Vec<String> = blocking.iter().map(|l| format!("'{}'", l.scope)).collect();
    Err(ServiceError::conflict(
        "ScopeLocked",
        format!(
            "The scope '{id}' cannot perform {} operation because following scope(s) are locked: {}. Please remove the lock and try again.",
            match action {
                LockedAction::Write => "write",
                LockedAction::Delete => "delete",
            },
            scopes.join(", ")
        ),
    ))
}

/// The ARM id of what a lock is placed on: a resource group, or a vault or SQL server in it.
pub fn scope_id(
    ws: &Workspace,
    group: &str,
    resource: Option<(&str, &str)>,
) -> ServiceResult<String> {
    let g = ws
        .resource_group(group)
        .ok_or_else(|| ServiceError::resource_group_not_found(group))?;
    let rg = super::ids::resource_group(&g.subscription.0, &g.name);
    let Some((kind, name)) = resource else {
        return Ok(rg);
    };
    let found = match kind.to_ascii_lowercase().as_str() {
        "microsoft.keyvault/vaults" => ws
            .vault(name)
            .filter(|v| v.deleted.is_none() && v.resource_group.eq_ignore_ascii_case(&g.name))
            .map(super::ids::vault),
        "microsoft.sql/servers" => ws
            .server(name)
            .filter(|s| s.resource_group.eq_ignore_ascii_case(&g.name))
            .map(super::ids::server),
        _ => {
            return Err(ServiceError::bad_request(
                "InvalidResourceType",
                format!(
                    "The resource type '{kind}' cannot be locked here (Microsoft.KeyVault/vaults or Microsoft.Sql/servers)."
                ),
            ));
        }
    };
    found.ok_or_else(|| {
        ServiceError::not_found(
            "ResourceNotFound",
            format!(
                "The Resource '{kind}/{name}' under resource group '{}' was not found.",
                g.name
            ),
        )
    })
}

/// `az lock create`.
pub fn create_lock(
    ws: &mut Workspace,
    name: &str,
    level: LockLevel,
    scope: &str,
    notes: &str,
) -> ServiceResult<ResourceLock> {
    transact(ws, |ws| {
        check_name("lock", name, 1, 90, |c| {
            c.is_ascii_alphanumeric() || "-_.() ".contains(c)
        })?;
        if name.ends_with([' ', '.']) || name.starts_with(' ') {
            return Err(ServiceError::bad_request(
                "InvalidLockName",
                format!(
                    "The lock name '{name}' is invalid: it cannot start with a space or end with a space or a period."
                ),
            ));
        }
        let lock = ResourceLock {
            name: name.to_string(),
            level,
            scope: scope.to_string(),
            notes: notes.to_string(),
        };
        // Creating a lock with an existing name at the same scope updates it.
        ws.locks.retain(|l| {
            !(l.name.eq_ignore_ascii_case(name) && l.scope.eq_ignore_ascii_case(scope))
        });
        ws.locks.push(lock.clone());
        Ok(lock)
    })
}

/// `az lock delete`.
pub fn delete_lock(ws: &mut Workspace, name: &str, scope: &str) -> ServiceResult<()> {
    transact(ws, |ws| {
        let before = ws.locks.len();
        ws.locks.retain(|l| {
            !(l.name.eq_ignore_ascii_case(name) && l.scope.eq_ignore_ascii_case(scope))
        });
        if ws.locks.len() == before {
            return Err(ServiceError::not_found(
                "LockNotFound",
                format!("The lock '{name}' could not be found at scope '{scope}'."),
            ));
        }
        Ok(())
    })
}

/// The locks at or under `scope` (all of them for `None`).
pub fn list_locks(ws: &Workspace, scope: Option<&str>) -> Vec<ResourceLock> {
    ws.locks
        .iter()
        .filter(|l| {
            scope.is_none_or(|s| {
                let (l, s) = (l.scope.to_ascii_lowercase(), s.to_ascii_lowercase());
                l == s || l.starts_with(&format!("{s}/"))
            })
        })
        .cloned()
        .collect()
}

/// The locks that cover a resource (on it or on its resource group).
pub fn locks_covering<'a>(ws: &'a Workspace, id: &str) -> Vec<&'a ResourceLock> {
    ws.locks.iter().filter(|l| l.covers(id)).collect()
}
