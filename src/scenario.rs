//! Guided scenarios: a file in `assets/scenarios/` (RON) with a title, an audience, the
//! seed section it teaches, a starting workspace (the demo, then an optional script of `az`
//! lines), and steps. Each step has a goal checked against the model ("database sales is
//! Inaccessible", "the protector of sql-contoso-us is a key in a vault in westus"), hints,
//! and the shell lines of its solution (what the tests run, and what a trainer can show).

use crate::model::*;
use serde::Deserialize;

/// A scenario as its file describes it.
#[derive(Clone, Debug, Deserialize)]
pub struct Scenario {
    pub title: String,
    pub audience: String,
    /// The seed's section (and the guidance) it teaches.
    pub teaches: String,
    /// `az` / `sim` lines run on the demo before the first step (may be empty).
    #[serde(default)]
    pub setup: Vec<String>,
    pub steps: Vec<Step>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Step {
    pub title: String,
    pub goal: Goal,
    #[serde(default)]
    pub hints: Vec<String>,
    /// Shell lines that reach the goal (run in order; `$(...)` and variables work).
    pub solution: Vec<String>,
}

/// What a step asks for, checked against the workspace.
#[derive(Clone, Debug, Deserialize)]
pub enum Goal {
    /// Database `database` of `server` is in state `state` ("Online", "Inaccessible", …).
    DatabaseState {
        server: String,
        database: String,
        state: String,
    },
    /// The database exists (a restore, a replica) and a client reading it sees `text`
    /// (really decrypted), or anything when `text` is empty.
    DatabaseReads {
        server: String,
        database: String,
        text: String,
    },
    /// The server's TDE protector is a customer-managed key in a vault of `region` (any
    /// region when empty), with auto-rotation as asked (either when `None`).
    ProtectorInRegion {
        server: String,
        region: String,
        #[serde(default)]
        auto_rotation: Option<bool>,
    },
    /// The server uses a service-managed key.
    ServiceManaged { server: String },
    /// The server's TDE protector is a key of `vault`.
    ProtectorInVault { server: String, vault: String },
    /// The server's TDE protector is (a version of) key `key` of `vault`.
    ProtectorIsKey {
        server: String,
        vault: String,
        key: String,
    },
    /// The server's TDE protector is the newest version of its key (it followed a
    /// rotation).
    ProtectorIsNewest { server: String },
    /// The database is Inaccessible and waits for "Revalidate key" (access came back after
    /// the auto-heal window).
    RevalidationRequired { server: String, database: String },
    /// Key `key` of `vault` has at least `versions` versions.
    KeyVersions {
        vault: String,
        key: String,
        versions: usize,
    },
    /// Key `key` of `vault` is deleted (soft-deleted) or gone.
    KeyDeleted { vault: String, key: String },
    /// The vault's firewall is on, and lets trusted Microsoft services through as asked.
    VaultFirewall { vault: String, bypass: bool },
    /// An alert rule on `operation` delivered at least once.
    AlertDelivered { operation: String },
    /// An enabled alert rule watches `operation`, with at least one action group.
    AlertRuleOn { operation: String },
    /// The server has linked a key whose material (thumbprint) is that of the current
    /// version of `key` in `vault`: a geo-secondary ready before its primary rotates.
    ServerHasKeyMaterialOf {
        server: String,
        vault: String,
        key: String,
    },
    /// The server holds key material with the same thumbprint as its primary's protector
    /// (a geo-secondary ready before rotation), in a vault of `region`.
    ServerHasKeyInRegion { server: String, region: String },
    /// The database no longer exists on the server (dropped).
    DatabaseDropped { server: String, database: String },
    /// The vault answered a backup of `key` (the key's material is kept outside the vault).
    KeyBackedUp { vault: String, key: String },
    /// The server has linked, from a vault of `region` other than its protector's vault, a
    /// key with the protector's material: the second vault of the high-availability
    /// guidance.
    ProtectorCopyInRegion { server: String, region: String },
    /// A geo-replication link from `database` on `primary` to `secondary` exists.
    ReplicaOf {
        primary: String,
        database: String,
        secondary: String,
    },
    /// Failover group `group`'s primary is `server`.
    GroupPrimary { group: String, server: String },
    /// The vault refused requests of `operation` (e.g. KeyUnwrap) with 429.
    VaultThrottled { vault: String, operation: String },
    /// Failover group `group` holds at most 500 General Purpose and 200 Business Critical
    /// databases (the guidance per vault, so a failover stays within the vault's limits).
    GroupWithinGuidance { group: String },
    /// An alert rule on `operation` reached a webhook receiver, which answered 2xx.
    WebhookDelivered { operation: String },
    /// Synapse workspace `workspace` has encryption status `status` (`AwaitingUserAction`,
    /// `Updating`, `Consistent`, `Failed`), with key `key` when it is not empty.
    SynapseStatus {
        workspace: String,
        status: String,
        #[serde(default)]
        key: String,
    },
    /// Dedicated SQL pool `pool` of Synapse workspace `workspace` is Online with TDE on, its
    /// DEK wrapped by the workspace's customer-managed key.
    SynapsePoolEncrypted { workspace: String, pool: String },
    /// Every goal holds.
    All(Vec<Goal>),
}

impl Goal {
    /// Whether the workspace meets the goal.
    pub fn met(&self, ws: &Workspace) -> bool {
        match self {
            Goal::DatabaseState {
                server,
                database,
                state,
            } => ws
                .server(server)
                .and_then(|s| s.database(database))
                .is_some_and(|d| d.state.label().eq_ignore_ascii_case(state)),
            Goal::DatabaseReads {
                server,
                database,
                text,
            } => crate::service::content::read_text(ws, server, database)
                .is_ok_and(|t| text.is_empty() || t.contains(text.as_str())),
            Goal::ProtectorInRegion {
                server,
                region,
                auto_rotation,
            } => ws.server(server).is_some_and(|s| {
                let in_region = s
                    .protector_uri()
                    .and_then(|u| ws.vault(&u.vault).map(|v| v.location.clone()))
                    .is_some_and(|l| region.is_empty() || l.eq_ignore_ascii_case(region));
                in_region
                    && s.protector.key_type == ServerKeyType::AzureKeyVault
                    && auto_rotation.is_none_or(|a| a == s.protector.auto_rotation)
            }),
            Goal::ServiceManaged { server } => ws
                .server(server)
                .is_some_and(|s| s.protector.key_type == ServerKeyType::ServiceManaged),
            Goal::ProtectorInVault { server, vault } => ws
                .server(server)
                .and_then(|s| s.protector_uri())
                .is_some_and(|u| u.vault.eq_ignore_ascii_case(vault)),
            Goal::ProtectorIsKey { server, vault, key } => ws
                .server(server)
                .and_then(|s| s.protector_uri())
                .is_some_and(|u| {
                    u.vault.eq_ignore_ascii_case(vault) && u.key.eq_ignore_ascii_case(key)
                }),
            Goal::ProtectorIsNewest { server } => ws
                .server(server)
                .and_then(|s| s.protector_uri())
                .is_some_and(|u| {
                    ws.vault(&u.vault)
                        .and_then(|v| v.key(&u.key))
                        .and_then(|k| k.current())
                        .is_some_and(|c| u.version.as_deref() == Some(c.version.0.as_str()))
                }),
            Goal::RevalidationRequired { server, database } => ws
                .server(server)
                .and_then(|s| s.database(database))
                .is_some_and(|d| {
                    matches!(
                        d.state,
                        DatabaseState::Inaccessible {
                            revalidation_required: true,
                            ..
                        }
                    )
                }),
            Goal::KeyVersions {
                vault,
                key,
                versions,
            } => ws
                .vault(vault)
                .and_then(|v| v.key(key))
                .is_some_and(|k| k.versions.len() >= *versions),
            Goal::KeyDeleted { vault, key } => ws
                .vault(vault)
                .and_then(|v| v.key(key))
                .is_none_or(|k| k.deleted.is_some()),
            Goal::VaultFirewall { vault, bypass } => ws.vault(vault).is_some_and(|v| {
                (v.network.restricted || v.network.public_access_disabled)
                    && v.network.bypass_trusted_services == *bypass
            }),
            Goal::AlertDelivered { operation } => ws.deliveries.iter().any(|d| {
                ws.alert_rules.iter().any(|r| {
                    r.name.eq_ignore_ascii_case(&d.alert_rule)
                        && r.operation_name.eq_ignore_ascii_case(operation)
                })
            }),
            Goal::AlertRuleOn { operation } => ws.alert_rules.iter().any(|r| {
                r.enabled
                    && r.operation_name.eq_ignore_ascii_case(operation)
                    && !r.action_groups.is_empty()
            }),
            Goal::ServerHasKeyMaterialOf { server, vault, key } => {
                let thumb = ws
                    .vault(vault)
                    .and_then(|v| v.key(key))
                    .and_then(|k| k.current())
                    .map(|c| c.material.thumbprint());
                thumb.is_some_and(|t| {
                    ws.server(server).is_some_and(|s| {
                        s.keys.iter().any(|k| k.thumbprint.eq_ignore_ascii_case(&t))
                    })
                })
            }
            Goal::ServerHasKeyInRegion { server, region } => ws.server(server).is_some_and(|s| {
                s.keys.iter().any(|k| {
                    k.uri
                        .as_deref()
                        .and_then(KeyUri::parse)
                        .and_then(|u| ws.vault(&u.vault))
                        .is_some_and(|v| v.location.eq_ignore_ascii_case(region))
                })
            }),
            Goal::DatabaseDropped { server, database } => ws
                .server(server)
                .is_some_and(|s| s.database(database).is_none()),
            Goal::KeyBackedUp { vault, key } => {
                let suffix = format!("/keys/{}", key.to_ascii_lowercase());
                ws.journal.lock().requests.iter().any(|r| {
                    r.operation == "KeyBackup"
                        && r.status == 200
                        && r.vault.eq_ignore_ascii_case(vault)
                        && r.object_id.to_ascii_lowercase().ends_with(&suffix)
                })
            }
            Goal::ProtectorCopyInRegion { server, region } => ws.server(server).is_some_and(|s| {
                let (Some(p), Some(pk)) = (s.protector_uri(), s.protector_key()) else {
                    return false;
                };
                s.keys.iter().any(|k| {
                    k.key_type == ServerKeyType::AzureKeyVault
                        && k.thumbprint.eq_ignore_ascii_case(&pk.thumbprint)
                        && k.uri
                            .as_deref()
                            .and_then(KeyUri::parse)
                            .filter(|u| !u.vault.eq_ignore_ascii_case(&p.vault))
                            .and_then(|u| ws.vault(&u.vault))
                            .is_some_and(|v| v.location.eq_ignore_ascii_case(region))
                })
            }),
            Goal::ReplicaOf {
                primary,
                database,
                secondary,
            } => ws.continuity.links.iter().any(|l| {
                l.is_primary(primary, database)
                    && l.secondary_server.eq_ignore_ascii_case(secondary)
            }),
            Goal::GroupPrimary { group, server } => ws
                .continuity
                .failover_group(group)
                .is_some_and(|g| g.primary_server.eq_ignore_ascii_case(server)),
            Goal::VaultThrottled { vault, operation } => {
                ws.journal.lock().requests.iter().any(|r| {
                    r.status == 429
                        && r.vault.eq_ignore_ascii_case(vault)
                        && r.operation.eq_ignore_ascii_case(operation)
                })
            }
            Goal::GroupWithinGuidance { group } => {
                ws.continuity.failover_group(group).is_some_and(|g| {
                    let Some(s) = ws.server(&g.primary_server) else {
                        return false;
                    };
                    let tiers = g.databases.iter().filter_map(|d| s.database(d));
                    let (gp, bc) = tiers.fold((0, 0), |(gp, bc), d| match d.tier {
                        ServiceTier::GeneralPurpose => (gp + 1, bc),
                        _ => (gp, bc + 1),
                    });
                    gp <= crate::service::advisor::MAX_GP_PER_VAULT
                        && bc <= crate::service::advisor::MAX_BC_PER_VAULT
                })
            }
            Goal::WebhookDelivered { operation } => ws.deliveries.iter().any(|d| {
                d.kind == ReceiverKind::Webhook
                    && d.result.starts_with("HTTP 2")
                    && ws.alert_rules.iter().any(|r| {
                        r.name.eq_ignore_ascii_case(&d.alert_rule)
                            && r.operation_name.eq_ignore_ascii_case(operation)
                    })
            }),
            Goal::SynapseStatus {
                workspace,
                status,
                key,
            } => ws.synapse.workspace(workspace).is_some_and(|w| {
                w.cmk_status
                    .is_some_and(|s| s.as_str().eq_ignore_ascii_case(status))
                    && (key.is_empty()
                        || w.cmk_key
                            .as_deref()
                            .is_some_and(|k| k.eq_ignore_ascii_case(key)))
            }),
            Goal::SynapsePoolEncrypted { workspace, pool } => ws
                .synapse
                .workspace(workspace)
                .and_then(|w| w.pool(pool))
                .is_some_and(|p| {
                    p.status == PoolStatus::Online
                        && p.tde_enabled
                        && p.dek.as_ref().is_some_and(|d| d.kid.is_some())
                }),
            Goal::All(goals) => goals.iter().all(|g| g.met(ws)),
        }
    }

    /// The goal in words, for the Scenarios panel.
    pub fn describe(&self) -> String {
        match self {
            Goal::DatabaseState {
                server,
                database,
                state,
            } => format!("Database {database} on {server} is {state}."),
            Goal::DatabaseReads {
                server,
                database,
                text,
            } if text.is_empty() => format!("Database {database} on {server} can be read."),
            Goal::DatabaseReads {
                server,
                database,
                text,
            } => format!("Database {database} on {server} exists and reads '{text}'."),
            Goal::ProtectorInRegion {
                server,
                region,
                auto_rotation,
            } => {
                let place = if region.is_empty() {
                    "a key vault".to_string()
                } else {
                    format!("a key vault in {region}")
                };
                let auto = match auto_rotation {
                    Some(true) => ", with auto-rotation on",
                    Some(false) => ", with auto-rotation off",
                    None => "",
                };
                format!("The TDE protector of {server} is a customer-managed key in {place}{auto}.")
            }
            Goal::ServiceManaged { server } => {
                format!("{server} uses a service-managed TDE protector.")
            }
            Goal::ProtectorInVault { server, vault } => {
                format!("The TDE protector of {server} is a key in {vault}.")
            }
            Goal::ProtectorIsNewest { server } => {
                format!("The TDE protector of {server} is the newest version of its key.")
            }
            Goal::ProtectorIsKey { server, vault, key } => {
                format!("The TDE protector of {server} is {key} in {vault}.")
            }
            Goal::RevalidationRequired { server, database } => {
                format!("Database {database} on {server} waits for its key to be revalidated.")
            }
            Goal::KeyVersions {
                vault,
                key,
                versions,
            } => format!("Key {key} in {vault} has {versions} or more versions."),
            Goal::KeyDeleted { vault, key } => format!("Key {key} in {vault} is deleted."),
            Goal::VaultFirewall { vault, bypass } => format!(
                "The firewall of {vault} is on{}.",
                if *bypass {
                    " and lets trusted Microsoft services through"
                } else {
                    ", without the trusted-services exception"
                }
            ),
            Goal::AlertDelivered { operation } => {
                format!("An alert rule on {operation} has delivered.")
            }
            Goal::AlertRuleOn { operation } => {
                format!("An alert rule with an action group watches {operation}.")
            }
            Goal::ServerHasKeyMaterialOf { server, vault, key } => {
                format!("{server} has linked a key with the material of {key} in {vault}.")
            }
            Goal::ServerHasKeyInRegion { server, region } => {
                format!("{server} has a key linked from a vault in {region}.")
            }
            Goal::DatabaseDropped { server, database } => {
                format!("Database {database} is dropped from {server}.")
            }
            Goal::KeyBackedUp { vault, key } => format!("Key {key} in {vault} is backed up."),
            Goal::ProtectorCopyInRegion { server, region } => format!(
                "{server} has linked a copy of its TDE protector from a second vault in {region}."
            ),
            Goal::ReplicaOf {
                primary,
                database,
                secondary,
            } => format!("Database {database} on {primary} has a geo-secondary on {secondary}."),
            Goal::GroupPrimary { group, server } => {
                format!("The primary of failover group {group} is {server}.")
            }
            Goal::VaultThrottled { vault, operation } => {
                format!("{vault} has throttled {operation} requests (429).")
            }
            Goal::GroupWithinGuidance { group } => format!(
                "Failover group {group} holds at most 500 General Purpose / 200 Business Critical databases."
            ),
            Goal::WebhookDelivered { operation } => {
                format!("An alert on {operation} reached a webhook, which answered 2xx.")
            }
            Goal::SynapseStatus {
                workspace,
                status,
                key,
            } if key.is_empty() => {
                format!("Synapse workspace {workspace} has encryption status {status}.")
            }
            Goal::SynapseStatus {
                workspace,
                status,
                key,
            } => format!(
                "Synapse workspace {workspace} has encryption status {status}, with key {key}."
            ),
            Goal::SynapsePoolEncrypted { workspace, pool } => format!(
                "Dedicated SQL pool {pool} of {workspace} is Online with TDE on under the workspace key."
            ),
            Goal::All(goals) => goals
                .iter()
                .map(Goal::describe)
                .collect::<Vec<_>>()
                .join(" "),
        }
    }
}

/// The scenarios shipped with the console (`assets/scenarios/*.ron`, in teaching order).
pub const SHIPPED: &[(&str, &str)] = &[
    (
        "first-byok-setup",
        include_str!("../assets/scenarios/first-byok-setup.ron"),
    ),
    (
        "revoke-and-recover",
        include_str!("../assets/scenarios/revoke-and-recover.ron"),
    ),
    (
        "late-recovery",
        include_str!("../assets/scenarios/late-recovery.ron"),
    ),
    ("rotation", include_str!("../assets/scenarios/rotation.ron")),
    (
        "compromised-key",
        include_str!("../assets/scenarios/compromised-key.ron"),
    ),
    (
        "firewall-without-trusted-services",
        include_str!("../assets/scenarios/firewall-without-trusted-services.ron"),
    ),
    (
        "backup-restore-old-key",
        include_str!("../assets/scenarios/backup-restore-old-key.ron"),
    ),
    (
        "monitoring",
        include_str!("../assets/scenarios/monitoring.ron"),
    ),
    (
        "monitoring-webhook",
        include_str!("../assets/scenarios/monitoring-webhook.ron"),
    ),
    (
        "compromised-key-inaccessible",
        include_str!("../assets/scenarios/compromised-key-inaccessible.ron"),
    ),
    (
        "ha-second-vault",
        include_str!("../assets/scenarios/ha-second-vault.ron"),
    ),
    (
        "geo-replication-setup",
        include_str!("../assets/scenarios/geo-replication-setup.ron"),
    ),
    (
        "geo-rotation-secondary-first",
        include_str!("../assets/scenarios/geo-rotation-secondary-first.ron"),
    ),
    (
        "failover-storm",
        include_str!("../assets/scenarios/failover-storm.ron"),
    ),
    (
        "synapse-activation-key-switch",
        include_str!("../assets/scenarios/synapse-activation-key-switch.ron"),
    ),
];

/// Parses a scenario file.
pub fn parse(text: &str) -> Result<Scenario, String> {
    let s: Scenario = ron::from_str(text).map_err(|e| e.to_string())?;
    if s.steps.is_empty() {
        return Err("a scenario needs at least one step".into());
    }
    Ok(s)
}

/// Every shipped scenario (a broken file is a bug the tests catch).
pub fn shipped() -> Vec<(String, Result<Scenario, String>)> {
    SHIPPED
        .iter()
        .map(|(id, text)| (id.to_string(), parse(text)))
        .collect()
}

/// The starting workspace of a scenario: the demo, then its setup lines.
pub fn start(
    s: &Scenario,
    keys: Box<dyn crate::service::KeySource + Send>,
) -> Result<Workspace, String> {
    let mut ws = crate::persist::demo().map_err(|e| e.to_string())?;
    let mut sh = crate::shell::Shell::new().with_keys(keys);
    let script = s.setup.join("\n");
    if !script.trim().is_empty() {
        let out = sh.run_script(&mut ws, &script, false);
        if out.failures > 0 {
            return Err(format!("the scenario's setup failed: {}", out.stderr));
        }
    }
    Ok(ws)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every string literal of the UI's sources (what the console can show as a label).
    fn ui_literals() -> Vec<String> {
        fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for e in std::fs::read_dir(dir)
                .expect("src/ui is readable")
                .flatten()
            {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, out);
                } else if p.extension().is_some_and(|x| x == "rs") {
                    out.push(p);
                }
            }
        }
        let mut files = Vec::new();
        walk(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/ui"),
            &mut files,
        );
        let mut out = Vec::new();
        for f in files {
            let text = std::fs::read_to_string(&f).expect("a UI source is readable");
            let chars: Vec<char> = text.chars().collect();
            let mut i = 0;
            while i < chars.len() {
                match chars[i] {
                    '/' if chars.get(i + 1) == Some(&'/') => {
                        while i < chars.len() && chars[i] != '\n' {
                            i += 1;
                        }
                    }
                    '\'' if chars.get(i + 2) == Some(&'\'') => i += 3,
                    '\'' if chars.get(i + 1) == Some(&'\\') => i += 4,
                    '"' => {
                        let mut lit = String::new();
                        i += 1;
                        while i < chars.len() && chars[i] != '"' {
                            if chars[i] == '\\' && i + 1 < chars.len() {
                                i += 1;
                            }
                            lit.push(chars[i]);
                            i += 1;
                        }
                        out.push(lit);
                    }
                    _ => {}
                }
                i += 1;
            }
        }
        out
    }

    /// The labels a hint names: between double quotes, between single quotes used as
    /// quotes, and each step of a path written "A > B > C" (but the first, a resource or
    /// a menu).
    fn named_labels(hint: &str) -> Vec<String> {
        let mut out = Vec::new();
        for (i, part) in hint.split('"').enumerate() {
            if i % 2 == 1 {
                out.push(part.to_string());
            }
        }
        let chars: Vec<char> = hint.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let opens = chars[i] == '\''
                && (i == 0 || chars[i - 1] == ' ' || chars[i - 1] == '(')
                && chars.get(i + 1).is_some_and(|c| c.is_alphabetic());
            if opens && let Some(len) = chars[i + 1..].iter().position(|c| *c == '\'') {
                out.push(chars[i + 1..i + 1 + len].iter().collect());
                i += len + 2;
                continue;
            }
            i += 1;
        }
        for seg in hint.split(" > ").skip(1) {
            let label = seg
                .split([':', ',', ';', '.'])
                .next()
                .unwrap_or("")
                .trim()
                .trim_end_matches('…');
            let first_two: Vec<&str> = label.split_whitespace().take(2).collect();
            out.push(format!(">{}", first_two.join(" ")));
        }
        out
    }

    /// Hints name only what exists: every label a hint quotes is (part of) a label of the
    /// UI, and every step of a "A > B" path starts a label of the UI.
    #[test]
    fn every_scenario_hint_names_labels_that_exist() {
        let literals = ui_literals();
        assert!(literals.len() > 500, "the UI sources were read");
        let mut missing = Vec::new();
        for (id, parsed) in shipped() {
            let s = parsed.unwrap_or_else(|e| panic!("{id}: {e}"));
            for step in &s.steps {
                for hint in &step.hints {
                    for label in named_labels(hint) {
                        let found = match label.strip_prefix('>') {
                            Some(path) => {
                                !path.is_empty()
                                    && literals.iter().any(|l| l.trim().starts_with(path))
                            }
                            None => literals.iter().any(|l| l.contains(label.as_str())),
                        };
                        if !found {
                            missing.push(format!("{id}: '{label}' in \"{hint}\""));
                        }
                    }
                }
            }
        }
        assert!(
            missing.is_empty(),
            "hints name labels the UI lacks:\n{}",
            missing.join("\n")
        );
    }

    #[test]
    fn a_hint_naming_a_tab_that_does_not_exist_is_caught() {
        let labels = named_labels("Then kv-contoso-us2 > Insights: the unwraps were throttled.");
        assert_eq!(labels, [">Insights"]);
        let literals = ui_literals();
        assert!(!literals.iter().any(|l| l.trim().starts_with("Insights")));
        assert_eq!(
            named_labels(
                "Tick \"Auto-rotate key\", and 'Make this key the default' (the server's)"
            ),
            ["Auto-rotate key", "Make this key the default"]
        );
    }
}
