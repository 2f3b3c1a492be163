//! What depends on a key: the servers it protects, the databases whose own key it is, the
//! servers it is linked to, the backups that still need it; and what losing it (disabling,
//! deleting, removing a server's access) would do. The portal says this before a
//! dangerous action; the key blade shows it for every key and version.

use crate::model::*;

/// One thing that depends on a key (or one of its versions).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Dependent {
    /// The server's TDE protector; `databases` encrypted databases depend on it.
    Protector { server: String, databases: usize },
    /// A database's own (database-level) key.
    DatabaseKey { server: String, database: String },
    /// Linked ("added") to the server without being its protector (e.g. an HA twin).
    Linked { server: String },
    /// Backups of the database within retention were made under it.
    Backups { server: String, database: String },
}

impl Dependent {
    pub fn describe(&self) -> String {
        match self {
            Dependent::Protector { server, databases } => {
                format!("TDE protector of {server} ({databases} encrypted database(s))")
            }
            Dependent::DatabaseKey { server, database } => {
                format!("Own key of database {database} on {server}")
            }
            Dependent::Linked { server } => format!("Linked to {server} (not its protector)"),
            Dependent::Backups { server, database } => {
                format!("Needed to restore backups of {database} on {server}")
            }
        }
    }

    /// The word a badge shows for it: what kind of use this is.
    pub fn kind_word(&self) -> &'static str {
        match self {
            Dependent::Protector { .. } | Dependent::DatabaseKey { .. } => "In use",
            Dependent::Linked { .. } => "Linked",
            Dependent::Backups { .. } => "Backups",
        }
    }

    /// Whether losing the key makes databases Inaccessible (not only old backups).
    pub fn is_live(&self) -> bool {
        matches!(
            self,
            Dependent::Protector { .. } | Dependent::DatabaseKey { .. }
        )
    }
}

/// Whether the key id `uri` names key `key` of vault `vault` (and `version`, when given).
fn names(uri: &str, vault: &str, key: &str, version: Option<&str>) -> bool {
    KeyUri::parse(uri).is_some_and(|u| {
        u.vault.eq_ignore_ascii_case(vault)
            && u.key.eq_ignore_ascii_case(key)
            && match (version, u.version.as_deref()) {
                (None, _) | (_, None) => true,
                (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
            }
    })
}

fn key_names(k: Option<&ServerKey>, vault: &str, key: &str, version: Option<&str>) -> bool {
    k.and_then(|k| k.uri.as_deref())
        .is_some_and(|u| names(u, vault, key, version))
}

/// Everything that depends on key `key` of `vault` (one `version`, or any).
pub fn dependents(ws: &Workspace, vault: &str, key: &str, version: Option<&str>) -> Vec<Dependent> {
    let now = ws.now();
    let mut out = Vec::new();
    for s in &ws.servers {
        let protector = key_names(s.protector_key(), vault, key, version);
        if protector {
            let databases = s
                .databases
                .iter()
                .filter(|d| d.tde_enabled() && d.encryption_protector.is_none())
                .count();
            out.push(Dependent::Protector {
                server: s.name.clone(),
                databases,
            });
        } else if s
            .keys
            .iter()
            .any(|k| key_names(Some(k), vault, key, version))
        {
            out.push(Dependent::Linked {
                server: s.name.clone(),
            });
        }
        for d in &s.databases {
            if d.encryption_protector.is_some() && key_names(s.database_key(d), vault, key, version)
            {
                out.push(Dependent::DatabaseKey {
                    server: s.name.clone(),
                    database: d.name.clone(),
                });
            } else if d
                .keys_needed_by_backups(now)
                .iter()
                .any(|u| names(u, vault, key, version))
                && !key_names(s.database_key(d), vault, key, version)
            {
                out.push(Dependent::Backups {
                    server: s.name.clone(),
                    database: d.name.clone(),
                });
            }
        }
    }
    out
}

/// The databases that turn Inaccessible if key `key` of `vault` (one `version`, or all)
/// can no longer be used: encrypted, Online now, protected by that key.
pub fn databases_lost_with(
    ws: &Workspace,
    vault: &str,
    key: &str,
    version: Option<&str>,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for s in &ws.servers {
        for d in &s.databases {
            if d.tde_enabled()
                && d.state.is_online()
                && key_names(s.database_key(d), vault, key, version)
            {
                out.push((s.name.clone(), d.name.clone()));
            }
        }
    }
    out
}

/// The databases that turn Inaccessible if `principal` loses its access to `vault`: those
/// of the servers with that identity whose key lives in the vault.
pub fn databases_lost_without_access(
    ws: &Workspace,
    vault: &str,
    principal: &PrincipalId,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for s in ws.servers.iter().filter(|s| {
        ws.key_vault_identity(s)
            .is_some_and(|i| &i.principal_id == principal)
    }) {
        for d in &s.databases {
            let in_vault = s
                .database_key(d)
                .and_then(|k| k.uri.as_deref())
                .and_then(KeyUri::parse)
                .is_some_and(|u| u.vault.eq_ignore_ascii_case(vault));
            if d.tde_enabled() && d.state.is_online() && in_vault {
                out.push((s.name.clone(), d.name.clone()));
            }
        }
    }
    out
}

/// The warning a dangerous action shows before it runs, or `None` when nothing depends on
/// what it takes away. `when` says when the databases go (e.g. "within 10 minutes").
pub fn loss_warning(lost: &[(String, String)], what: &str, when: &str) -> Option<String> {
    if lost.is_empty() {
        return None;
    }
    let names: Vec<String> = lost
        .iter()
        .take(6)
        .map(|(s, d)| format!("{d} ({s})"))
        .collect();
    let more = if lost.len() > 6 {
        format!(" and {} more", lost.len() - 6)
    } else {
        String::new()
    };
    Some(format!(
        "{what}: {} database(s) will become Inaccessible {when}: {}{more}. They come back by themselves only if access is restored within the auto-heal window.",
        lost.len(),
        names.join(", ")
    ))
}

/// The stretches of time whose backups of `d` were made under key `key` of `vault` (one
/// `version`, or any): what a restore to a point inside them needs.
pub fn backup_spans_needing(
    d: &Database,
    vault: &str,
    key: &str,
    version: Option<&str>,
    now: Timestamp,
) -> Vec<(Timestamp, Timestamp)> {
    let from = d.history_needed_from(now);
    let h = &d.protector_history;
    let mut out: Vec<(Timestamp, Timestamp)> = Vec::new();
    for (i, interval) in h.iter().enumerate() {
        let to = h.get(i + 1).map(|n| n.from).unwrap_or(now);
        if to <= from {
            continue;
        }
        let uses = interval
            .protector
            .as_ref()
            .and_then(|p| p.uri.as_deref())
            .is_some_and(|u| names(u, vault, key, version));
        if !uses {
            continue;
        }
        let start = interval.from.max(from);
        match out.last_mut() {
            Some(last) if last.1 >= start => last.1 = to,
            _ => out.push((start, to)),
        }
    }
    out
}

/// The warning before an action that takes key `key` of `vault` (one `version`, or every
/// version) out of use: `what` is the action ("Disabling this version"), `state` what the
/// key is then ("disabled"). It names the databases that turn Inaccessible, the
/// Inaccessible ones that wait for the key to come back, the backups whose restores need it
/// (with the points in time), and the servers linked to it (geo-secondaries, the HA twin)
/// that would need it at a failover. `None`: nothing depends on it.
pub fn key_loss_warning(
    ws: &Workspace,
    vault: &str,
    key: &str,
    version: Option<&str>,
    what: &str,
    state: &str,
) -> Option<String> {
    let now = ws.now();
    let list = |names: &[String]| {
        let mut text = names.iter().take(6).cloned().collect::<Vec<_>>().join(", ");
        if names.len() > 6 {
            text.push_str(&format!(" and {} more", names.len() - 6));
        }
        text
    };
    let mut parts: Vec<String> = Vec::new();
    let lost = databases_lost_with(ws, vault, key, version);
    if let Some(w) = loss_warning(&lost, what, "within 10 minutes") {
        parts.push(w);
    }
    let mut waiting: Vec<String> = Vec::new();
    let mut backups: Vec<String> = Vec::new();
    let mut linked: Vec<String> = Vec::new();
    for s in &ws.servers {
        for d in &s.databases {
            let uses_now = d.tde_enabled() && key_names(s.database_key(d), vault, key, version);
            if uses_now && matches!(d.state, DatabaseState::Inaccessible { .. }) {
                waiting.push(format!("{} ({})", d.name, s.name));
            }
            let spans = backup_spans_needing(d, vault, key, version, now);
            // A database that uses the key now is already named; its older backups are not.
            let older: Vec<&(Timestamp, Timestamp)> = spans
                .iter()
                .filter(|(_, to)| !(uses_now && *to >= now))
                .collect();
            if !older.is_empty() {
                let when = older
                    .iter()
                    .map(|(a, b)| format!("{} to {}", a.to_display(), b.to_display()))
                    .collect::<Vec<_>>()
                    .join("; ");
                backups.push(format!("{} ({}) made {when}", d.name, s.name));
            }
        }
        // Linked without being the protector: a geo-secondary's copy of its primary's key,
        // or the HA twin of the protector (same material in this vault).
        let is_protector = key_names(s.protector_key(), vault, key, version);
        let secondary = ws
            .continuity
            .links
            .iter()
            .any(|l| l.secondary_server.eq_ignore_ascii_case(&s.name));
        let twin_of = s.protector_key().map(|p| p.thumbprint.as_str());
        if let Some(k) = s
            .keys
            .iter()
            .find(|k| key_names(Some(k), vault, key, version))
            .filter(|_| !is_protector)
        {
            if secondary {
                linked.push(format!("{} (a geo-secondary)", s.name));
            } else if twin_of == Some(k.thumbprint.as_str()) {
                linked.push(format!("{} (the twin of its protector)", s.name));
            }
        }
    }
    if !waiting.is_empty() {
        parts.push(format!(
            "{} Inaccessible database(s) wait for this key to come back and stay down while it is {state}: {}.",
            waiting.len(),
            list(&waiting)
        ));
    }
    if !backups.is_empty() {
        parts.push(format!(
            "Backups still need it: restores of {} to a point in those times fail (MissingKeyVaultUriForRestore) while it is {state}.",
            list(&backups)
        ));
    }
    if !linked.is_empty() {
        parts.push(format!(
            "It is linked to {}: a failover to that server, or its switch to this vault, would need it.",
            list(&linked)
        ));
    }
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// The version of a key a blade should open on: the one a server uses as its protector
/// (or a database as its own key), else the newest.
pub fn version_in_use(ws: &Workspace, vault: &str, key: &str) -> Option<String> {
    let k = ws.vault(vault)?.key(key)?;
    for s in &ws.servers {
        let keys =
            std::iter::once(s.protector_key()).chain(s.databases.iter().map(|d| s.database_key(d)));
        for sk in keys.flatten() {
            if let Some(u) = sk.uri.as_deref().and_then(KeyUri::parse)
                && u.vault.eq_ignore_ascii_case(vault)
                && u.key.eq_ignore_ascii_case(key)
                && let Some(v) = u.version
            {
                return Some(v);
            }
        }
    }
    k.current().map(|v| v.version.0.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_use_has_its_own_word() {
        let server = "s".to_string();
        let database = "d".to_string();
        let words: Vec<&str> = [
            Dependent::Protector {
                server: server.clone(),
                databases: 1,
            },
            Dependent::DatabaseKey {
                server: server.clone(),
                database: database.clone(),
            },
            Dependent::Linked {
                server: server.clone(),
            },
            Dependent::Backups { server, database },
        ]
        .iter()
        .map(Dependent::kind_word)
        .collect();
        // A key linked as an HA twin was labelled "Backups" beside "Linked to …".
        assert_eq!(words, ["In use", "In use", "Linked", "Backups"]);
    }
}
