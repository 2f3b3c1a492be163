//! Key rotation on the vault's side: `az keyvault key rotate`, rotation policies (lifetime
//! actions Rotate and Notify, `expiryTime`) run by the simulated clock, and the near-expiry
//! and expired events a key raises in the notifications centre and the audit log.
//!
//! Rules (azure-facts.md): a Rotate trigger is at least 7 days; `expiryTime` at least 28
//! days; Notify defaults to 30 days before expiry.

use super::requests::{VaultCall, user_read, user_request};
use super::{Caller, ServiceError, ServiceResult, notify, transact};
use crate::crypto::{KeyMaterial, RsaKeyMaterial};
use crate::model::*;
use crate::sim::{Duration, SimEvent};

/// `az keyvault key rotate`: a new version from `material` (same size and operations as
/// the current one; with the policy's `expiryTime`, an expiry date). Needs `rotate`.
pub fn rotate_key(
    ws: &mut Workspace,
    vault: &str,
    key: &str,
    material: impl Into<KeyMaterial>,
) -> ServiceResult<KeyVersion> {
    let material = material.into();
    user_request(ws, vault, "KeyRotate", Some(key), |ws| {
        transact(ws, |ws| {
            super::keyvault::data_plane::authorize_user(ws, vault, KeyPermission::Rotate)?;
            add_rotated_version(ws, vault, key, material)
        })
    })
}

/// The bits of the key's current version: what a rotation must generate.
pub fn current_bits(ws: &Workspace, vault: &str, key: &str) -> ServiceResult<usize> {
    let (_, _, kv) = super::keyvault::data_plane::key_state(ws, vault, key, None)?;
    Ok(kv.material.bits())
}

/// New material of the key's kind for a rotation: RSA of its size from `keys`, or a new
/// pair on its curve.
pub fn new_material_for(
    ws: &Workspace,
    vault: &str,
    key: &str,
    keys: &dyn super::KeySource,
) -> ServiceResult<KeyMaterial> {
    let (_, _, kv) = super::keyvault::data_plane::key_state(ws, vault, key, None)?;
    let internal = |e: crate::crypto::CryptoError| {
        ServiceError::new("InternalServerError", 500, e.to_string())
    };
    Ok(match &kv.material {
        KeyMaterial::Rsa(r) => keys.generate(r.bits()).map_err(internal)?.into(),
        KeyMaterial::Ec(e) => {
            KeyMaterial::Ec(crate::crypto::EcKeyMaterial::generate(e.curve()).map_err(internal)?)
        }
    })
}

fn add_rotated_version(
    ws: &mut Workspace,
    vault: &str,
    key: &str,
    material: KeyMaterial,
) -> ServiceResult<KeyVersion> {
    let now = ws.now();
    let version = version_id_from_bytes(ws.clock.draw_bytes16());
    let v = ws
        .vault_mut(vault)
        .filter(|v| v.deleted.is_none())
        .ok_or_else(|| ServiceError::vault_not_found(vault))?;
    let k = v
        .key_mut(key)
        .filter(|k| k.deleted.is_none())
        .ok_or_else(|| ServiceError::key_not_found(key))?;
    let current = k
        .current()
        .cloned()
        .ok_or_else(|| ServiceError::key_not_found(key))?;
    if material.bits() != current.material.bits()
        || material.rsa().is_some() != current.material.rsa().is_some()
    {
        return Err(ServiceError::bad_request(
            "BadParameter",
            format!(
                "A rotation keeps the key's size ({} bits), not {}.",
                current.material.bits(),
                material.bits()
            ),
        ));
    }
    let expires = k
        .rotation_policy
        .as_ref()
        .and_then(|p| p.expiry_time)
        .map(|d| now + d);
    let kv = KeyVersion {
        version,
        enabled: true,
        not_before: None,
        expires,
        created: now,
        updated: now,
        key_ops: current.key_ops.clone(),
        material,
    };
    k.versions.push(kv.clone());
    Ok(kv)
}

/// `az keyvault key rotation-policy show`. Needs `getrotationpolicy`.
pub fn rotation_policy(
    ws: &Workspace,
    vault: &str,
    key: &str,
) -> ServiceResult<Option<RotationPolicy>> {
    user_read(ws, vault, "KeyGetRotationPolicy", Some(key), |ws| {
        super::keyvault::data_plane::authorize_user(ws, vault, KeyPermission::GetRotationPolicy)?;
        let (_, k, _) = super::keyvault::data_plane::key_state(ws, vault, key, None)?;
        Ok(k.rotation_policy)
    })
}

/// Checks a policy against the service's rules ([`RotationPolicy::check`]).
pub fn validate_policy(p: &RotationPolicy) -> ServiceResult<()> {
    p.check()
        .map_err(|m| ServiceError::bad_request("BadParameter", m))
}

/// `az keyvault key rotation-policy update`. Needs `setrotationpolicy`.
pub fn set_rotation_policy(
    ws: &mut Workspace,
    vault: &str,
    key: &str,
    mut policy: RotationPolicy,
) -> ServiceResult<RotationPolicy> {
    user_request(ws, vault, "KeyUpdateRotationPolicy", Some(key), |ws| {
        transact(ws, |ws| {
            super::keyvault::data_plane::authorize_user(
                ws,
                vault,
                KeyPermission::SetRotationPolicy,
            )?;
            validate_policy(&policy)?;
            policy.updated = ws.now();
            let k = ws
                .vault_mut(vault)
                .filter(|v| v.deleted.is_none())
                .and_then(|v| v.key_mut(key))
                .filter(|k| k.deleted.is_none())
                .ok_or_else(|| ServiceError::key_not_found(key))?;
            k.rotation_policy = Some(policy.clone());
            Ok(policy)
        })
    })
}

/// A lifecycle event of a key version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Lifecycle {
    Rotate,
    NearExpiry,
    Expired,
}

impl Lifecycle {
    fn name(self) -> &'static str {
        match self {
            Lifecycle::Rotate => "Rotate",
            Lifecycle::NearExpiry => "NearExpiry",
            Lifecycle::Expired => "Expired",
        }
    }
}

/// The events the key's current version still has to raise, with their times.
fn pending(k: &Key) -> Vec<(Timestamp, Lifecycle)> {
    let Some(cur) = k.current() else {
        return Vec::new();
    };
    let done = |e: Lifecycle| {
        k.lifecycle_events
            .iter()
            .any(|(v, n)| v == &cur.version && n == e.name())
    };
    let policy = k.rotation_policy.as_ref();
    let mut out = Vec::new();
    if let Some(p) = policy {
        let due = match (p.rotate_after_create, p.rotate_before_expiry, cur.expires) {
            (Some(a), _, _) => Some(cur.created + a),
            (None, Some(b), Some(exp)) => Some(exp - b),
            _ => None,
        };
        if let Some(t) = due {
            out.push((t, Lifecycle::Rotate));
        }
    }
    if let Some(exp) = cur.expires {
        let notify = policy
            .map(|p| p.notify_before_expiry)
            .unwrap_or(RotationPolicy::DEFAULT_NOTIFY);
        out.push((exp - notify, Lifecycle::NearExpiry));
        out.push((exp, Lifecycle::Expired));
    }
    out.retain(|(_, e)| !done(*e));
    out
}

thread_local! {
    /// Key material generated ahead, by size, for the rotations the running advance makes.
    static POOL: std::cell::RefCell<std::collections::HashMap<usize, Vec<RsaKeyMaterial>>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

/// Clears the pool when the advance that filled it ends (even by a panic).
pub(crate) struct PoolGuard;

impl Drop for PoolGuard {
    fn drop(&mut self) {
        POOL.with(|p| p.borrow_mut().clear());
    }
}

/// The key sizes of every rotation the policies will make until `target` (in order), with
/// the vault and key of each. A version overdue now rotates now, then every period.
fn planned_rotations(ws: &Workspace, target: Timestamp) -> Vec<(usize, String, String)> {
    let now = ws.now();
    let mut out = Vec::new();
    for v in ws.vaults.iter().filter(|v| v.deleted.is_none()) {
        for k in v.keys.iter().filter(|k| k.deleted.is_none()) {
            let (Some(p), Some(cur)) = (&k.rotation_policy, k.current()) else {
                continue;
            };
            let Some((first, _)) = pending(k)
                .into_iter()
                .find(|(_, e)| *e == Lifecycle::Rotate)
            else {
                continue;
            };
            // Each new version rotates again after the same span.
            let period = match (p.rotate_after_create, p.rotate_before_expiry, p.expiry_time) {
                (Some(a), _, _) => a,
                (None, Some(b), Some(e)) => e - b,
                _ => continue,
            };
            if period.0 <= 0 {
                continue;
            }
            // EC pairs are made in microseconds when due: only RSA is planned ahead.
            if cur.material.rsa().is_none() {
                continue;
            }
            let bits = cur.material.bits();
            let mut t = first.max(now);
            while t <= target && out.len() < 10_000 {
                out.push((bits, v.name.clone(), k.name.clone()));
                t = t + period;
            }
        }
    }
    out
}

/// What generating a key of `bits` costs, in units of an RSA-2048 key.
fn generation_cost(bits: usize) -> usize {
    match bits {
        0..=2048 => 1,
        2049..=3072 => 3,
        _ => 8,
    }
}

/// The most key generation one advance may ask of the policies (about 100 RSA-3072 keys,
/// some seconds on two cores): a longer stretch is refused with how far to go at a time.
pub const MAX_ROTATION_WORK: usize = 300;

/// Refuses an advance whose policy rotations would generate more keys than one advance
/// may: every version is a real key (each wraps DEKs and backups need it), so a decade of
/// weekly rotations is taken in steps.
pub(crate) fn check_rotation_work(ws: &Workspace, by: Duration) -> ServiceResult<()> {
    let plan = planned_rotations(ws, ws.now() + by);
    let cost: usize = plan.iter().map(|(bits, _, _)| generation_cost(*bits)).sum();
    if cost <= MAX_ROTATION_WORK {
        return Ok(());
    }
    let (_, vault, key) = &plan[0];
    let days = (by.0 / 86_400).max(1);
    let fits = (days as usize * MAX_ROTATION_WORK / cost).max(1);
    Err(ServiceError::bad_request(
        "InvalidArgument",
        format!(
            "This advance would make {} new key versions by rotation policy (e.g. '{key}' in '{vault}'), each a real RSA key. Advance at most {fits} day(s) at a time with these policies.",
            plan.len()
        ),
    ))
}

/// Generates, on every core and before the advance runs, the key material for every
/// rotation the policies will make until `target` (a year of weekly rotations of one key is
/// 52 keys: generated together instead of one at a time as each falls due).
pub(crate) fn pregenerate_rotations(
    ws: &Workspace,
    target: Timestamp,
    keys: &dyn super::KeySource,
) -> PoolGuard {
    let sizes: Vec<usize> = planned_rotations(ws, target)
        .into_iter()
        .map(|(bits, _, _)| bits)
        .collect();
    if !sizes.is_empty() {
        let made = crate::crypto::par_map(&sizes, |bits| keys.generate(*bits));
        POOL.with(|pool| {
            let mut pool = pool.borrow_mut();
            for m in made.into_iter().flatten() {
                pool.entry(m.bits()).or_default().push(m);
            }
        });
    }
    PoolGuard
}

/// Key material for one rotation: from the pool if the advance generated it ahead.
fn rotation_material(bits: usize) -> Result<RsaKeyMaterial, crate::crypto::CryptoError> {
    let pooled = POOL.with(|p| p.borrow_mut().get_mut(&bits).and_then(Vec::pop));
    match pooled {
        Some(m) => Ok(m),
        None => RsaKeyMaterial::generate(bits),
    }
}

/// Schedules the next key lifecycle event of any vault (runs after every change).
pub(crate) fn schedule_lifecycle(ws: &mut Workspace) {
    let now = ws.now();
    let next = ws
        .vaults
        .iter()
        .filter(|v| v.deleted.is_none())
        .flat_map(|v| v.keys.iter().filter(|k| k.deleted.is_none()))
        .flat_map(pending)
        .map(|(t, _)| t.max(now))
        .min();
    if let Some(at) = next {
        ws.schedule.push_unique(at, SimEvent::KeyLifecycle);
    }
}

/// Raises every lifecycle event that has fallen due: rotations (new key material from the
/// OS RNG), near-expiry and expired notifications.
pub(crate) fn run_lifecycle(ws: &mut Workspace) {
    let now = ws.now();
    let mut due: Vec<(String, String, KeyVersionId, Lifecycle)> = Vec::new();
    for v in ws.vaults.iter().filter(|v| v.deleted.is_none()) {
        for k in v.keys.iter().filter(|k| k.deleted.is_none()) {
            let Some(cur) = k.current() else { continue };
            for (t, e) in pending(k) {
                if t <= now {
                    due.push((v.name.clone(), k.name.clone(), cur.version.clone(), e));
                }
            }
        }
    }
    for (vault, key, version, event) in due {
        if let Some(k) = ws.vault_mut(&vault).and_then(|v| v.key_mut(&key)) {
            k.lifecycle_events
                .push((version.clone(), event.name().into()));
        }
        match event {
            Lifecycle::Rotate => {
                let internal = |e: crate::crypto::CryptoError| {
                    ServiceError::new("InternalServerError", 500, e.to_string())
                };
                let result = super::keyvault::data_plane::key_state(ws, &vault, &key, None)
                    .and_then(|(_, _, kv)| match &kv.material {
                        KeyMaterial::Rsa(r) => rotation_material(r.bits())
                            .map(KeyMaterial::Rsa)
                            .map_err(internal),
                        KeyMaterial::Ec(e) => crate::crypto::EcKeyMaterial::generate(e.curve())
                            .map(KeyMaterial::Ec)
                            .map_err(internal),
                    })
                    .and_then(|m| add_rotated_version(ws, &vault, &key, m));
                match result {
                    Ok(kv) => {
                        service_record(ws, &vault, &key, "KeyRotate");
                        notify(
                            ws,
                            NotificationLevel::Info,
                            "Key rotated by policy",
                            format!(
                                "Key '{key}' in vault '{vault}' has a new version {} (rotation policy).",
                                kv.version
                            ),
                        );
                    }
                    Err(e) => notify(
                        ws,
                        NotificationLevel::Error,
                        "Key rotation failed",
                        format!("Key '{key}' in vault '{vault}': {e}"),
                    ),
                }
            }
            Lifecycle::NearExpiry => {
                service_record(ws, &vault, &key, "KeyNearExpiryEventGridNotification");
                let exp = ws
                    .vault(&vault)
                    .and_then(|v| v.key(&key))
                    .and_then(|k| k.current())
                    .and_then(|c| c.expires);
                notify(
                    ws,
                    NotificationLevel::Warning,
                    "Key near expiry",
                    format!(
                        "Key '{key}' in vault '{vault}' (version {version}) expires {}.",
                        exp.map(|t| t.to_string()).unwrap_or_default()
                    ),
                );
            }
            Lifecycle::Expired => {
                service_record(ws, &vault, &key, "KeyExpiredEventGridNotification");
                notify(
                    ws,
                    NotificationLevel::Error,
                    "Key expired",
                    format!(
                        "Key '{key}' in vault '{vault}' (version {version}) has expired: servers using it lose access."
                    ),
                );
            }
        }
    }
}

/// A request the vault makes of itself (policy rotation, Event Grid notifications): in the
/// journal and, with auditing on, the audit log.
fn service_record(ws: &Workspace, vault: &str, key: &str, operation: &'static str) {
    if let Some(mut call) = VaultCall::new(ws, vault, operation, &Caller::ConsoleUser, Some(key)) {
        call.caller = RequestCaller {
            object_id: String::new(),
            upn: None,
            app_id: ROTATION_APP_ID.into(),
            ip_address: String::new(),
            client_info: "Azure Key Vault (rotation policy, Event Grid)".into(),
            display: "Azure Key Vault".into(),
        };
        call.record(ws, ws.now(), 200, "");
    }
}

/// A rotation policy from its JSON (the REST body, and `az keyvault key rotation-policy
/// update --value`): ISO 8601 durations, Rotate and Notify actions.
pub fn parse_policy(v: &serde_json::Value) -> Result<RotationPolicy, String> {
    let duration =
        |s: &serde_json::Value, what: &str| -> Result<Option<crate::sim::Duration>, String> {
            match s.as_str() {
                None => Ok(None),
                Some(t) => crate::sim::parse_iso_duration(t).map(Some).ok_or_else(|| {
                    format!("{what} '{t}' is not an ISO 8601 duration such as P90D or P2Y")
                }),
            }
        };
    let mut policy = RotationPolicy {
        rotate_after_create: None,
        rotate_before_expiry: None,
        notify_before_expiry: RotationPolicy::DEFAULT_NOTIFY,
        expiry_time: duration(&v["attributes"]["expiryTime"], "expiryTime")?,
        updated: Timestamp(0),
    };
    if !v.is_object() {
        return Err("the policy must be a JSON object".into());
    }
    let no_actions = Vec::new();
    let actions = match &v["lifetimeActions"] {
        serde_json::Value::Null => &no_actions,
        serde_json::Value::Array(a) => a,
        _ => return Err("lifetimeActions must be a list".into()),
    };
    for action in actions {
        let after = duration(&action["trigger"]["timeAfterCreate"], "timeAfterCreate")?;
        let before = duration(&action["trigger"]["timeBeforeExpiry"], "timeBeforeExpiry")?;
        let kind = action["action"]["type"].as_str().unwrap_or_default();
        if kind.eq_ignore_ascii_case("rotate") && after.is_none() && before.is_none() {
            return Err(
                "a Rotate action needs trigger.timeAfterCreate or trigger.timeBeforeExpiry".into(),
            );
        }
        match kind.to_ascii_lowercase().as_str() {
            "rotate" => {
                if policy.rotate_after_create.is_some() || policy.rotate_before_expiry.is_some() {
                    return Err("a policy has at most one Rotate action".into());
                }
                policy.rotate_after_create = after;
                policy.rotate_before_expiry = before;
            }
            "notify" => {
                policy.notify_before_expiry =
                    before.ok_or("a Notify action needs trigger.timeBeforeExpiry")?;
            }
            other => {
                return Err(format!("unknown action type '{other}' (Rotate or Notify)"));
            }
        }
    }
    Ok(policy)
}

/// An ISO 8601 duration in days (`P90D`), as the CLI prints a policy.
pub fn iso_days(d: Duration) -> String {
    format!("P{}D", d.0 / 86_400)
}

/// One lifetime action of a rotation policy, named as Key Vault names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LifetimeAction {
    /// `Rotate` or `Notify`.
    pub action: &'static str,
    /// `timeAfterCreate` or `timeBeforeExpiry`.
    pub trigger: &'static str,
    /// The trigger's ISO 8601 duration (`P90D`).
    pub duration: String,
}

/// A policy's lifetime actions in the order Key Vault lists them: its Rotate action (after
/// creation or before expiry), then Notify. Every surface that shows a policy (the shell,
/// the endpoint, the key blade's az line) renders these.
pub fn lifetime_actions(p: &RotationPolicy) -> Vec<LifetimeAction> {
    let action = |action, trigger, d| LifetimeAction {
        action,
        trigger,
        duration: iso_days(d),
    };
    let mut out = Vec::new();
    if let Some(a) = p.rotate_after_create {
        out.push(action("Rotate", "timeAfterCreate", a));
    }
    if let Some(b) = p.rotate_before_expiry {
        out.push(action("Rotate", "timeBeforeExpiry", b));
    }
    out.push(action("Notify", "timeBeforeExpiry", p.notify_before_expiry));
    out
}

/// A policy's `lifetimeActions` as JSON, each action with the one trigger it has: Key
/// Vault's REST shape, and what `az keyvault key rotation-policy update --value` takes.
pub fn lifetime_actions_json(p: &RotationPolicy) -> Vec<serde_json::Value> {
    lifetime_actions(p)
        .into_iter()
        .map(|a| {
            serde_json::json!({
                "trigger": {a.trigger: a.duration},
                "action": {"type": a.action},
            })
        })
        .collect()
}

pub use super::lookup::ROTATION_APP_ID;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_policy_lists_its_rotate_action_then_notify_and_reads_back() {
        let p = RotationPolicy {
            rotate_after_create: Some(Duration::days(90)),
            rotate_before_expiry: None,
            notify_before_expiry: Duration::days(30),
            expiry_time: Some(Duration::days(365)),
            updated: Timestamp(0),
        };
        let actions = lifetime_actions(&p);
        let named: Vec<_> = actions
            .iter()
            .map(|a| (a.action, a.trigger, a.duration.as_str()))
            .collect();
        assert_eq!(
            named,
            [
                ("Rotate", "timeAfterCreate", "P90D"),
                ("Notify", "timeBeforeExpiry", "P30D")
            ]
        );
        let json = serde_json::json!({
            "lifetimeActions": lifetime_actions_json(&p),
            "attributes": {"expiryTime": "P365D"},
        });
        assert_eq!(parse_policy(&json), Ok(p));
    }

    #[test]
    fn iso_days_print() {
        // Parsing is crate::sim::parse_iso_duration's (tested there).
        assert_eq!(iso_days(Duration::days(30)), "P30D");
    }

    #[test]
    fn policies_follow_the_7_and_28_day_rules() {
        let p = |after: Option<i64>, before: Option<i64>, exp: Option<i64>| RotationPolicy {
            rotate_after_create: after.map(Duration::days),
            rotate_before_expiry: before.map(Duration::days),
            notify_before_expiry: RotationPolicy::DEFAULT_NOTIFY,
            expiry_time: exp.map(Duration::days),
            updated: Timestamp(0),
        };
        assert!(validate_policy(&p(Some(90), None, Some(365))).is_ok());
        assert!(validate_policy(&p(None, Some(30), Some(365))).is_ok());
        assert!(validate_policy(&p(Some(6), None, None)).is_err());
        assert!(validate_policy(&p(Some(90), None, Some(27))).is_err());
        assert!(validate_policy(&p(Some(90), Some(30), Some(365))).is_err());
        assert!(validate_policy(&p(None, Some(30), None)).is_err());
        assert!(validate_policy(&p(Some(360), None, Some(365))).is_err());
    }
}
