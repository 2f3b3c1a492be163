//! Every request that reaches a key vault goes through here: the vault's service limits
//! (HTTP 429 beyond them, with the SQL server's back-off of 1, 2, 4, 8 and 16 seconds) and
//! the record each request leaves in the workspace's [`RequestJournal`] — the vault's
//! metrics, and its audit log when a diagnostic setting sends `AuditEvent`.

use super::{Caller, ServiceError, ServiceResult};
use crate::model::*;
use crate::sim::Duration;

/// The Azure CLI's application id, as a vault's audit log shows it for `az` calls.
pub const AZURE_CLI_APP_ID: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";

/// The user agent of the console's own calls (the Azure CLI).
pub const CONSOLE_CLIENT_INFO: &str = "AZURECLI/2.67.0 (tde-console)";

/// The subscription-wide limit is this many vaults' worth.
pub const SUBSCRIPTION_FACTOR: u32 = 5;

/// The waits (seconds) a SQL server leaves between retries after a 429.
pub const SERVER_BACKOFF_SECONDS: [i64; 5] = [1, 2, 4, 8, 16];

/// Seconds from `at` until the vault's next 10-second window opens (1 to 10): what a
/// throttled request's message names and the endpoint's `Retry-After` says.
pub fn retry_after_seconds(at: Timestamp) -> i64 {
    (window_of(at) + 1) * 10 - at.0
}

/// One request about to be made to a vault.
#[derive(Clone, Debug)]
pub(crate) struct VaultCall {
    pub vault: String,
    pub resource_id: String,
    pub operation: &'static str,
    pub caller: RequestCaller,
    pub request_uri: String,
    pub object_id: String,
    pub class: ThrottleClass,
    pub audited: bool,
}

impl VaultCall {
    /// A request about `object` (a key name, or `None` for the vault itself). `None` when
    /// the vault does not exist at all: such a request never reaches a vault.
    pub fn new(
        ws: &Workspace,
        vault: &str,
        operation: &'static str,
        caller: &Caller,
        key: Option<&str>,
    ) -> Option<VaultCall> {
        let v = ws.vault(vault)?;
        let class = class_of(v, operation, key);
        // `key` names a secret for the secrets API's operations (`SecretGet`, ...).
        let collection = if operation.starts_with("Secret") {
            "secrets"
        } else {
            "keys"
        };
        let (request_uri, object_id) = match key {
            Some(k) => {
                let id = format!("{}{collection}/{k}", v.uri());
                (format!("{id}?api-version=7.4"), id)
            }
            None if class == ThrottleClass::Management => (
                format!(
                    "https://management.azure.com{}?api-version=2023-07-01",
                    super::ids::vault(v)
                ),
                v.uri(),
            ),
            None => (format!("{}{collection}?api-version=7.4", v.uri()), v.uri()),
        };
        Some(VaultCall {
            vault: v.name.clone(),
            resource_id: super::ids::vault(v),
            operation,
            caller: caller_of(ws, caller),
            request_uri,
            object_id,
            class,
            audited: v.audit_enabled(),
        })
    }

    /// Is there room for this request in the vault's current 10-second window?
    fn admitted_at(&self, ws: &Workspace, at: Timestamp) -> bool {
        let Some(limit) = self.class.limit() else {
            return true;
        };
        let journal = ws.journal.lock();
        journal.admitted_in_window(&self.vault, at, self.class) < limit
            && journal.admitted_in_subscription(subscription_of(&self.resource_id), at, self.class)
                < limit * SUBSCRIPTION_FACTOR
    }

    /// Records the request's outcome.
    pub fn record(&self, ws: &Workspace, at: Timestamp, status: u16, description: &str) {
        let mut journal = ws.journal.lock();
        let seq = journal.requests.len() as u64;
        journal.push(VaultRequest {
            seq,
            time: at,
            vault: self.vault.clone(),
            resource_id: self.resource_id.clone(),
            operation: self.operation.to_string(),
            status,
            description: description.to_string(),
            duration_ms: duration_ms(self.operation, status, seq),
            caller: self.caller.clone(),
            request_uri: self.request_uri.clone(),
            object_id: self.object_id.clone(),
            class: self.class,
            audited: self.audited,
        });
    }

    /// The vault's answer at `at` to a request beyond its limit: the wait it names is
    /// [`retry_after_seconds`], what the endpoint sends as `Retry-After`.
    fn throttled(&self, at: Timestamp) -> ServiceError {
        let wait = retry_after_seconds(at);
        ServiceError::new(
            "Throttled",
            429,
            format!(
                "Request was not processed because too many requests were received. Vault '{}' allows {} transactions per 10 seconds for {} (its subscription five times that); retry after {wait} second{}.",
                self.vault,
                self.class.limit().unwrap_or(0),
                match self.class {
                    ThrottleClass::Secrets => "secrets".to_string(),
                    c => format!("{} keys", c.describe()),
                },
                if wait == 1 { "" } else { "s" }
            ),
        )
    }

    /// Admission for the console user: a 429 at once (the CLI surfaces it).
    pub fn admit(&self, ws: &Workspace) -> ServiceResult<()> {
        let now = ws.now();
        if self.admitted_at(ws, now) {
            return Ok(());
        }
        let e = self.throttled(now);
        self.record(ws, now, 429, &e.message);
        Err(e)
    }

    /// Admission for a SQL server: on 429 it backs off 1, 2, 4, 8, 16 seconds and tries
    /// again. Returns the instant the request got through, or `None` when every retry was
    /// refused. Each refused attempt is a request of its own in the journal.
    pub fn admit_with_backoff(&self, ws: &Workspace) -> Option<Timestamp> {
        let mut at = ws.now();
        if self.admitted_at(ws, at) {
            return Some(at);
        }
        self.record(ws, at, 429, &self.throttled(at).message);
        for wait in SERVER_BACKOFF_SECONDS {
            at = at + Duration::seconds(wait);
            if self.admitted_at(ws, at) {
                return Some(at);
            }
            self.record(ws, at, 429, &self.throttled(at).message);
        }
        None
    }

    /// Admission for a request of a long-running operation, from `from`: on 429 the server
    /// backs off 1, 2, 4, 8, 16 seconds and then keeps retrying every 16 seconds, as long as
    /// it takes. Each refused attempt is a request of its own in the journal.
    pub fn admit_patiently(&self, ws: &Workspace, from: Timestamp) -> Timestamp {
        let mut at = from.max(ws.now());
        if self.admitted_at(ws, at) {
            return at;
        }
        let waits = SERVER_BACKOFF_SECONDS
            .iter()
            .copied()
            .chain(std::iter::repeat(16))
            .take(1_000_000);
        for wait in waits {
            self.record(ws, at, 429, &self.throttled(at).message);
            at = at + Duration::seconds(wait);
            if self.admitted_at(ws, at) {
                return at;
            }
        }
        at
    }

    /// Runs a console user's request: admission, the operation, its record.
    pub fn run<T>(
        self,
        ws: &mut Workspace,
        op: impl FnOnce(&mut Workspace) -> ServiceResult<T>,
    ) -> ServiceResult<T> {
        self.admit(ws)?;
        let out = op(ws);
        self.finish(ws, &out);
        out
    }

    /// Records the outcome of a request already made.
    pub fn finish<T>(&self, ws: &Workspace, out: &ServiceResult<T>) {
        let now = ws.now();
        match out {
            Ok(_) => self.record(ws, now, 200, ""),
            Err(e) => self.record(ws, now, e.status, &e.message),
        }
    }
}

/// The first instant, from now, at which a console user's `operation` on `vault` (about
/// `key`) fits within the vault's and the subscription's limits: now, or the start of a
/// later 10-second window. A client that paces itself (as `sim generate` does) waits until
/// then instead of being refused.
pub(crate) fn next_room(
    ws: &Workspace,
    vault: &str,
    operation: &'static str,
    key: Option<&str>,
) -> Timestamp {
    let mut at = ws.now();
    let Some(call) = VaultCall::new(ws, vault, operation, &Caller::ConsoleUser, key) else {
        return at;
    };
    // Windows only fill with requests already made: a few windows on there is room.
    for _ in 0..1000 {
        if call.admitted_at(ws, at) {
            break;
        }
        at = Timestamp((window_of(at) + 1).saturating_mul(10));
    }
    at
}

/// Runs a console user's request to vault `vault` about `key` (or the vault itself). A
/// vault that does not exist gets no record.
pub(crate) fn user_request<T>(
    ws: &mut Workspace,
    vault: &str,
    operation: &'static str,
    key: Option<&str>,
    op: impl FnOnce(&mut Workspace) -> ServiceResult<T>,
) -> ServiceResult<T> {
    match VaultCall::new(ws, vault, operation, &Caller::ConsoleUser, key) {
        Some(call) => call.run(ws, op),
        None => op(ws),
    }
}

/// A read-only console user's request.
pub(crate) fn user_read<T>(
    ws: &Workspace,
    vault: &str,
    operation: &'static str,
    key: Option<&str>,
    op: impl FnOnce(&Workspace) -> ServiceResult<T>,
) -> ServiceResult<T> {
    match VaultCall::new(ws, vault, operation, &Caller::ConsoleUser, key) {
        Some(call) => {
            call.admit(ws)?;
            let out = op(ws);
            call.finish(ws, &out);
            out
        }
        None => op(ws),
    }
}

/// Runs `op` as a long-running operation: the server requests it makes go out from the
/// server's [`Workers`] and wait for room in the vaults' windows (simulated time passing)
/// instead of failing. Returns `op`'s result and the instant its last request was admitted
/// (`now` if it made none).
pub(crate) fn long_running<T>(
    ws: &mut Workspace,
    op: impl FnOnce(&mut Workspace) -> T,
) -> (T, Timestamp) {
    let start = ws.now();
    let outer = ws.journal.lock().lro.replace(Workers::new(start));
    let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| op(ws)));
    // The workers live in the workspace's journal (a value): the outer operation's are put
    // back in the journal of the workspace `op` leaves behind, even if `op` panics (the
    // panic is then reported by the command's or job's boundary; later requests must not
    // stay patient).
    let end = {
        let mut j = ws.journal.lock();
        let end = j.lro.take().map_or(start, |w| w.end);
        // A nested operation hands its progress back to the one around it.
        j.lro = outer.map(|mut o| {
            o.wait_until(end);
            o
        });
        end
    };
    super::progress::current().set(None);
    match out {
        Ok(out) => (out, end),
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// The instant the running long-running operation's latest request was admitted (`now`
/// outside one).
pub(crate) fn lro_time(ws: &Workspace) -> Timestamp {
    ws.journal
        .lock()
        .lro
        .as_ref()
        .map_or(ws.now(), |w| w.last)
        .max(ws.now())
}

/// The HTTP status a vault answers a server's refused data-plane call with; `None` when the
/// call never reached the vault.
pub(crate) fn failure_status(f: &KeyAccessFailure) -> Option<u16> {
    match f {
        KeyAccessFailure::VaultNotFound
        | KeyAccessFailure::VaultUnreachable
        | KeyAccessFailure::Throttled => None,
        KeyAccessFailure::NoServerIdentity | KeyAccessFailure::TenantMismatch => Some(401),
        KeyAccessFailure::KeyNotFound
        | KeyAccessFailure::KeyDeleted
        | KeyAccessFailure::VaultDeleted => Some(404),
        KeyAccessFailure::UnwrapFailed => Some(400),
        _ => Some(403),
    }
}

/// A SQL server's request to a vault, made by `caller` (the server, or the server with a
/// database's own identity): admitted within the vault's limits (with the server's
/// back-off), journaled, and run.
pub(crate) fn server_request<T>(
    ws: &Workspace,
    caller: &Caller,
    server: &str,
    vault: &str,
    operation: &'static str,
    key: &str,
    op: impl FnOnce() -> Result<T, KeyAccessFailure>,
) -> Result<T, KeyAccessFailure> {
    let Some(call) = VaultCall::new(ws, vault, operation, caller, Some(key)) else {
        return op();
    };
    let outage = ws
        .server(server)
        .and_then(|s| s.network_outage_until)
        .is_some_and(|until| until > ws.now());
    if outage {
        return op();
    }
    let worker = ws.journal.lock().lro.as_mut().map(Workers::take);
    let at = match worker {
        Some((i, from)) => {
            let at = call.admit_patiently(ws, from);
            if let Some(w) = ws.journal.lock().lro.as_mut() {
                w.admitted(i, at);
            }
            at
        }
        None => call
            .admit_with_backoff(ws)
            .ok_or(KeyAccessFailure::Throttled)?,
    };
    let out = op();
    match &out {
        Ok(_) => call.record(ws, at, 200, ""),
        Err(f) => {
            if let Some(status) = failure_status(f) {
                call.record(ws, at, status, &f.describe());
            }
        }
    }
    out
}

/// What a request counts against: key creation/import or other key operations for the
/// key concerned (the vault's smallest software key class when none is), or nothing for
/// management calls.
fn class_of(v: &KeyVault, operation: &str, key: Option<&str>) -> ThrottleClass {
    if operation.starts_with("Vault") {
        return ThrottleClass::Management;
    }
    if operation.starts_with("Secret") {
        return ThrottleClass::Secrets;
    }
    let (bits, hsm) = key
        .and_then(|k| v.key(k))
        .and_then(|k| {
            k.current()
                .map(|kv| (kv.material.bits() as u32, k.kty.is_hsm()))
        })
        .unwrap_or((2048, false));
    if operation == "KeyCreate" || operation == "KeyImport" {
        ThrottleClass::Create { bits, hsm }
    } else {
        ThrottleClass::Other { bits, hsm }
    }
}

/// The identity claim and address of a caller.
fn caller_of(ws: &Workspace, caller: &Caller) -> RequestCaller {
    match caller {
        Caller::ConsoleUser => RequestCaller {
            object_id: ws.console_user.object_id.0.clone(),
            upn: Some(ws.console_user.upn.clone()),
            app_id: ws
                .console_user
                .via
                .as_ref()
                .map_or_else(|| AZURE_CLI_APP_ID.into(), |c| c.app_id.clone()),
            ip_address: ws.console_user.client_ip.clone(),
            client_info: ws
                .console_user
                .via
                .as_ref()
                .map_or_else(|| CONSOLE_CLIENT_INFO.into(), |c| c.user_agent.clone()),
            display: ws.console_user.upn.clone(),
        },
        Caller::Synapse(name) => {
            let oid = super::lookup::kek_principal(ws, name)
                .map(|(p, _, _)| p.0)
                .unwrap_or_default();
            RequestCaller {
                app_id: oid.clone(),
                object_id: oid,
                upn: None,
                ip_address: "20.42.0.10".into(),
                client_info: format!("Microsoft.Synapse/workspaces/{name} (CMK)"),
                display: format!("Synapse workspace {name}"),
            }
        }
        Caller::Server(name) | Caller::ServerAs { server: name, .. } => {
            let identity = match caller {
                Caller::ServerAs { identity, .. } => {
                    ws.identity(identity).map(|u| ServerIdentity {
                        principal_id: u.principal_id.clone(),
                        tenant_id: u.tenant_id.clone(),
                    })
                }
                _ => ws.server(name).and_then(|s| ws.key_vault_identity(s)),
            };
            let oid = identity
                .map(|i| i.principal_id.0.clone())
                .unwrap_or_default();
            let h = name
                .bytes()
                .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(b as u32));
            RequestCaller {
                app_id: oid.clone(),
                object_id: oid,
                upn: None,
                ip_address: format!(
                    "40.{}.{}.{}",
                    64 + h % 64,
                    (h >> 8) % 256,
                    (h >> 16) % 254 + 1
                ),
                client_info: format!("Microsoft.Sql/servers/{name} (TDE)"),
                display: format!("server {name}"),
            }
        }
    }
}

/// How long the vault took, in milliseconds: deterministic for a journal position, in the
/// range real vaults show for the operation.
fn duration_ms(operation: &str, status: u16, seq: u64) -> u32 {
    let (base, spread) = match (status, operation) {
        (429, _) => (1, 3),
        (_, "KeyCreate") => (180, 400),
        (_, "KeyWrap" | "KeyUnwrap") => (18, 30),
        (_, o) if o.starts_with("Vault") => (60, 120),
        _ => (8, 20),
    };
    let h = seq.wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(17);
    base + (h % spread) as u32
}

/// One point of a vault's metrics: the requests of one time bucket, by outcome.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MetricPoint {
    /// Start of the bucket.
    pub at: Timestamp,
    pub hits: u32,
    /// Served (2xx).
    pub ok: u32,
    /// Refused: 401, 403 (access, firewall), 404 and other client errors but 429.
    pub refused: u32,
    /// Throttled (429).
    pub throttled: u32,
    /// Mean latency of the bucket's requests; `None` when it had none.
    pub mean_latency_ms: Option<f64>,
}

/// A vault's metrics over a span of time.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Metrics {
    /// The first request the vault ever saw (`None`: none yet).
    pub first: Option<Timestamp>,
    pub from: Timestamp,
    pub to: Timestamp,
    /// Seconds a bucket covers: 10 (the throttling window) for spans up to half an hour,
    /// a minute up to two days, an hour beyond.
    pub bucket_seconds: i64,
    pub points: Vec<MetricPoint>,
}

/// The vault's metrics (API hits by outcome, mean latency) per time bucket, from `from`
/// to `to` (`None`: from its first request). Empty buckets are included, so a plot shows
/// the gaps.
pub fn metrics(ws: &Workspace, vault: &str, from: Option<Timestamp>, to: Timestamp) -> Metrics {
    let journal = ws.journal.lock();
    let mine: Vec<&VaultRequest> = journal
        .requests
        .iter()
        .filter(|r| r.vault.eq_ignore_ascii_case(vault))
        .collect();
    let Some(first) = mine.iter().map(|r| r.time).min() else {
        return Metrics::default();
    };
    let from = from.unwrap_or(first).min(to);
    let span = (to.0 - from.0).max(1);
    let bucket = if span <= 1800 {
        10
    } else if span <= 2 * 86_400 {
        60
    } else {
        3600
    };
    let n = (span / bucket + 1).clamp(1, 100_000) as usize;
    let mut points: Vec<MetricPoint> = (0..n)
        .map(|i| MetricPoint {
            at: Timestamp(from.0 + i as i64 * bucket),
            ..Default::default()
        })
        .collect();
    let mut latency_sum = vec![0f64; n];
    for r in mine.into_iter().filter(|r| r.time >= from && r.time <= to) {
        let i = (((r.time.0 - from.0) / bucket) as usize).min(n - 1);
        let p = &mut points[i];
        p.hits += 1;
        match r.status {
            200..=299 => p.ok += 1,
            429 => p.throttled += 1,
            _ => p.refused += 1,
        }
        latency_sum[i] += f64::from(r.duration_ms);
    }
    for (p, sum) in points.iter_mut().zip(latency_sum) {
        if p.hits > 0 {
            p.mean_latency_ms = Some(sum / f64::from(p.hits));
        }
    }
    Metrics {
        first: Some(first),
        from,
        to,
        bucket_seconds: bucket,
        points,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_a_429_names_is_the_time_to_the_next_window() {
        assert_eq!(retry_after_seconds(Timestamp(1_000)), 10);
        assert_eq!(retry_after_seconds(Timestamp(1_001)), 9);
        assert_eq!(retry_after_seconds(Timestamp(1_009)), 1);
        assert_eq!(retry_after_seconds(Timestamp(-1)), 1);
        for t in 0..40 {
            let at = Timestamp(t);
            let wait = retry_after_seconds(at);
            assert!((1..=10).contains(&wait));
            assert_eq!(window_of(at + Duration::seconds(wait)), window_of(at) + 1);
            assert_eq!(window_of(at + Duration::seconds(wait - 1)), window_of(at));
        }
    }

    #[test]
    fn a_throttled_request_names_the_wait_of_its_own_instant() {
        let ws = crate::persist::demo().expect("demo");
        let vault = ws.vaults[0].name.clone();
        let call = VaultCall::new(&ws, &vault, "KeyGet", &Caller::ConsoleUser, Some("k"))
            .expect("a vault of the demo");
        let m = call.throttled(Timestamp(1_003)).message;
        assert!(m.ends_with("retry after 7 seconds."), "{m}");
        let m = call.throttled(Timestamp(1_009)).message;
        assert!(m.ends_with("retry after 1 second."), "{m}");
    }
}
