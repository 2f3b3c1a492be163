//! Advisor: the recommendations of the TDE with customer-managed key guidance, checked
//! against the workspace. Read-only.

use crate::model::*;
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Severity {
    High,
    Medium,
    Low,
}

/// Where the fix is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Fix {
    Vault(String),
    Key { vault: String, key: String },
    Server(String),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Recommendation {
    pub severity: Severity,
    pub check: &'static str,
    pub resource: String,
    pub passed: bool,
    pub detail: String,
    pub fix: Fix,
}

/// The most databases one vault should protect in one subscription.
pub const MAX_GP_PER_VAULT: usize = 500;
pub const MAX_BC_PER_VAULT: usize = 200;

pub fn advise(ws: &Workspace) -> Vec<Recommendation> {
    let mut out = Vec::new();
    for v in ws.vaults.iter().filter(|v| v.deleted.is_none()) {
        let protected: Vec<(&SqlServer, &ServerKey)> = ws
            .servers
            .iter()
            .filter_map(|s| s.protector_key().map(|k| (&**s, k)))
            .filter(|(_, k)| {
                k.uri
                    .as_deref()
                    .and_then(KeyUri::parse)
                    .is_some_and(|u| u.vault.eq_ignore_ascii_case(&v.name))
            })
            .collect();
        // Every encrypted database whose key (the server's protector or its own) is here.
        let in_vault = |k: &ServerKey| {
            k.uri
                .as_deref()
                .and_then(KeyUri::parse)
                .is_some_and(|u| u.vault.eq_ignore_ascii_case(&v.name))
        };
        let dbs: Vec<&Database> = ws
            .servers
            .iter()
            .flat_map(|s| s.databases.iter().map(move |d| (s, d)))
            .filter(|(s, d)| d.tde_enabled() && s.database_key(d).is_some_and(in_vault))
            .map(|(_, d)| &**d)
            .collect();
        if protected.is_empty() && dbs.is_empty() {
            continue;
        }
        let gp = dbs
            .iter()
            .filter(|d| d.tier == ServiceTier::GeneralPurpose)
            .count();
        let bc = dbs.len() - gp;
        out.push(Recommendation {
            severity: Severity::High,
            check: "Databases per key vault",
            resource: v.name.clone(),
            passed: gp <= MAX_GP_PER_VAULT && bc <= MAX_BC_PER_VAULT,
            detail: format!("{gp} General Purpose and {bc} Business Critical databases use this vault (at most {MAX_GP_PER_VAULT} / {MAX_BC_PER_VAULT} in one subscription, so a server failover stays within the vault's limits)."),
            fix: Fix::Vault(v.name.clone()),
        });
        let vault_id = super::ids::vault(v);
        let lock = super::locks::locks_covering(ws, &vault_id)
            .into_iter()
            .next();
        out.push(Recommendation {
            severity: Severity::Medium,
            check: "Resource lock on the key vault",
            resource: v.name.clone(),
            passed: lock.is_some(),
            detail: match lock {
                Some(l) => format!("Lock '{}' ({}) protects the vault from accidental deletion.", l.name, l.level.as_str()),
                None => "No CanNotDelete lock protects this vault from accidental deletion (az lock create --lock-type CanNotDelete).".into(),
            },
            fix: Fix::Vault(v.name.clone()),
        });
        let audit = v.diagnostic_settings.iter().find(|d| d.audit_event);
        out.push(Recommendation {
            severity: Severity::Medium,
            check: "Auditing of key operations",
            resource: v.name.clone(),
            passed: audit.is_some(),
            detail: match audit {
                Some(d) => format!("Diagnostic setting '{}' sends AuditEvent to {}.", d.name, d.destination),
                None => "AuditEvent logging is not enabled in the vault's diagnostic settings (az monitor diagnostic-settings create).".into(),
            },
            fix: Fix::Vault(v.name.clone()),
        });
        for (s, k) in &protected {
            let region = v.location.as_str();
            let secondary = ws
                .vaults
                .iter()
                .filter(|o| o.deleted.is_none() && o.location != region)
                .find(|o| {
                    o.keys
                        .iter()
                        .filter(|x| x.deleted.is_none())
                        .flat_map(|x| x.versions.iter())
                        .any(|kv| kv.material.thumbprint() == k.thumbprint)
                });
            out.push(Recommendation {
                severity: Severity::High,
                check: "Secondary key vault in another region",
                resource: s.name.clone(),
                passed: secondary.is_some(),
                detail: match secondary {
                    Some(o) => format!("'{}' in {} holds the same key material (thumbprint {}).", o.name, o.location, k.thumbprint),
                    None => format!("No vault outside {region} holds the protector's key material (thumbprint {}): an outage of '{}' would make the databases inaccessible.", k.thumbprint, v.name),
                },
                fix: Fix::Vault(v.name.clone()),
            });
            if let Some(u) = k.uri.as_deref().and_then(KeyUri::parse)
                && let Some(key) = v.key(&u.key)
            {
                let fresh = key
                    .last_backup
                    .is_some_and(|b| key.last_change().is_none_or(|c| b >= c));
                out.push(Recommendation {
                    severity: Severity::High,
                    check: "Backup of the TDE protector",
                    resource: format!("{}/{}", v.name, u.key),
                    passed: fresh,
                    detail: match key.last_backup {
                        Some(b) if fresh => format!("Backed up at {b}, after its last change."),
                        Some(b) => format!("The last backup ({b}) is older than the key's last change: back it up again."),
                        None => "The key has never been backed up (az keyvault key backup).".into(),
                    },
                    fix: Fix::Key { vault: v.name.clone(), key: u.key.clone() },
                });
            }
        }
    }
    for s in &ws.servers {
        if let Some(k) = s
            .protector_key()
            .filter(|k| k.key_type == ServerKeyType::AzureKeyVault)
        {
            let vault = k
                .uri
                .as_deref()
                .and_then(KeyUri::parse)
                .and_then(|u| ws.vault(&u.vault));
            if let Some(v) = vault {
                let same = v.location.eq_ignore_ascii_case(&s.location);
                out.push(Recommendation {
                    severity: Severity::Medium,
                    check: "Key vault in the server's region",
                    resource: s.name.clone(),
                    passed: same,
                    detail: if same {
                        format!("The protector's vault '{}' is in {}, like the server.", v.name, v.location)
                    } else {
                        format!("The protector's vault '{}' is in {}, the server in {}: use a vault colocated with the server (a regional outage of {} would take the key away).", v.name, v.location, s.location, v.location)
                    },
                    fix: Fix::Server(s.name.clone()),
                });
            }
            let lacking = super::geo_rules::partners_lacking(ws, &s.name, k);
            if ws
                .continuity
                .links
                .iter()
                .any(|l| l.primary_server.eq_ignore_ascii_case(&s.name))
            {
                out.push(Recommendation {
                    severity: Severity::High,
                    check: "Geo-secondaries hold the protector's key material",
                    resource: s.name.clone(),
                    passed: lacking.is_empty(),
                    detail: if lacking.is_empty() {
                        "Every geo-secondary server has the protector's key material linked.".into()
                    } else {
                        format!("{} lack the protector's key material: add it there first (secondary first, then primary).", lacking.join(", "))
                    },
                    fix: Fix::Server(s.name.clone()),
                });
            }
        }
        paused_pools(ws, s, &mut out);
        let missing: Vec<String> = s
            .keys
            .iter()
            .filter(|k| k.key_type == ServerKeyType::AzureKeyVault)
            .filter(|k| !linked_key_available(ws, k))
            .map(|k| k.name.clone())
            .collect();
        let on_sm = s.protector.key_type == ServerKeyType::ServiceManaged;
        let linked = s
            .keys
            .iter()
            .filter(|k| k.key_type == ServerKeyType::AzureKeyVault)
            .count();
        if linked == 0 {
            continue;
        }
        out.push(Recommendation {
            severity: Severity::High,
            check: if on_sm { "Keys still needed by backups after switching to service-managed" } else { "Previous key versions kept" },
            resource: s.name.clone(),
            passed: missing.is_empty(),
            detail: if missing.is_empty() {
                format!("All {linked} Key Vault keys linked to the server are still available for restoring old backups.")
            } else {
                format!("Backups taken under these keys can no longer be restored: {}. Recover or restore them.", missing.join(", "))
            },
            fix: Fix::Server(s.name.clone()),
        });
    }
    out.sort_by_key(|r| (r.passed, r.severity));
    out
}

/// Paused dedicated SQL pools under a Key Vault key: a rotation or protector change does not
/// re-encrypt them, so they keep needing the key version that wraps their DEK to resume.
fn paused_pools(ws: &Workspace, s: &SqlServer, out: &mut Vec<Recommendation>) {
    let needing: Vec<(String, String, bool)> = s
        .databases
        .iter()
        .filter(|d| d.state.is_paused())
        .filter_map(|d| {
            let w = d.dek.as_ref()?;
            let k = s.key(&w.server_key_name)?;
            if k.key_type != ServerKeyType::AzureKeyVault {
                return None;
            }
            let uri = k.uri.clone().unwrap_or_else(|| k.name.clone());
            let usable = linked_key_usable(ws, k);
            Some((d.name.clone(), uri, usable))
        })
        .collect();
    if needing.is_empty() {
        return;
    }
    let broken: Vec<&(String, String, bool)> = needing.iter().filter(|n| !n.2).collect();
    let list = needing
        .iter()
        .map(|(d, uri, _)| format!("{d} needs {uri}"))
        .collect::<Vec<_>>()
        .join("; ");
    out.push(Recommendation {
        severity: if broken.is_empty() { Severity::Medium } else { Severity::High },
        check: "Paused dedicated SQL pools keep the old key version",
        resource: s.name.clone(),
        passed: false,
        detail: if broken.is_empty() {
            format!("Before rotating or changing the TDE protector: paused pools are not re-encrypted and will need their current key version to resume ({list}). Keep that version enabled with a future expiry, or resume the pools first so they re-encrypt.")
        } else {
            format!("Paused pools cannot resume: the key version their DEK needs is disabled, expired or deleted ({}). Re-enable it and set its expiry in the future, then resume them.", broken.iter().map(|(d, uri, _)| format!("{d} needs {uri}")).collect::<Vec<_>>().join("; "))
        },
        fix: Fix::Server(s.name.clone()),
    });
}

/// Whether the linked key's version is there, enabled and within its dates.
fn linked_key_usable(ws: &Workspace, k: &ServerKey) -> bool {
    let Some(u) = k.uri.as_deref().and_then(KeyUri::parse) else {
        return false;
    };
    let now = ws.now();
    ws.vault(&u.vault)
        .filter(|v| v.deleted.is_none())
        .and_then(|v| v.key(&u.key))
        .filter(|key| key.deleted.is_none())
        .and_then(|key| u.version.as_deref().and_then(|id| key.version(id)))
        .is_some_and(|v| {
            v.enabled && v.expires.is_none_or(|e| e > now) && v.not_before.is_none_or(|n| n <= now)
        })
}

fn linked_key_available(ws: &Workspace, k: &ServerKey) -> bool {
    let Some(u) = k.uri.as_deref().and_then(KeyUri::parse) else {
        return false;
    };
    ws.vault(&u.vault)
        .filter(|v| v.deleted.is_none())
        .and_then(|v| v.key(&u.key))
        .filter(|key| key.deleted.is_none())
        .and_then(|key| u.version.as_deref().and_then(|id| key.version(id)))
        .is_some()
}
