//! The requests the key vaults served or refused.
//!
//! Every call that reaches a vault (from the console user or a SQL server) is one
//! [`VaultRequest`]. The journal is what a vault's metrics count, what its throttling
//! counts against, and — for requests made while a diagnostic setting sends the
//! `AuditEvent` category — what its audit log holds.
//!
//! The journal is part of the workspace's value: a snapshot (clone) of a workspace holds the
//! journal as it was, restoring the snapshot (History's rewind, undo) restores the audit
//! log and the throttling windows with it, and two workspaces whose journals differ are not
//! equal. It is made of persistent collections ([`imbl`]), so a copy shares every record
//! with the original and costs the same with ten records or a million.
//!
//! Like the vault's own diagnostic pipeline the journal is written by calls that only read
//! the model (a `key show` is audited), so it sits behind a lock of its own: a `&Workspace`
//! can record. The lock is private to one workspace value — a clone gets its own — and is
//! never shared between workspaces.
//!
//! A request is recorded whether the operation succeeded or not: a refused call leaves the
//! model unchanged but still leaves its trace. The operations layer runs an operation on a
//! draft copy of the workspace; when it throws the draft away (the operation failed) it
//! keeps the draft's journal (see [`crate::service::transact`]).

use crate::sim::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

/// Admitted requests per (vault or subscription, 10-second window, class).
type Windows = imbl::HashMap<(String, i64, ThrottleClass), u32>;

/// Who made a request, as the audit record's `identity.claim` and `callerIpAddress` say.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RequestCaller {
    pub object_id: String,
    /// The user principal name, for a person.
    pub upn: Option<String>,
    pub app_id: String,
    pub ip_address: String,
    pub client_info: String,
    /// A short name for tables and filters: the UPN or `server <name>`.
    pub display: String,
}

/// What a request counts against in the vault's service limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ThrottleClass {
    /// Management-plane calls (ARM): not counted against the vault's key limits.
    Management,
    /// Key creation or import, for a key of this size and protection.
    Create { bits: u32, hsm: bool },
    /// Every other key operation, for a key of this size and protection.
    Other { bits: u32, hsm: bool },
    /// Secrets operations ("Secrets, managed storage account keys, and vault
    /// transactions": 4,000 per 10 seconds).
    Secrets,
}

impl ThrottleClass {
    /// Transactions allowed per vault per 10 seconds (Azure's current service limits; RSA
    /// 4096 from the same documentation page, which azure-facts.md does not list).
    pub fn limit(self) -> Option<u32> {
        let (create, bits, hsm) = match self {
            ThrottleClass::Management => return None,
            ThrottleClass::Secrets => return Some(4000),
            ThrottleClass::Create { bits, hsm } => (true, bits, hsm),
            ThrottleClass::Other { bits, hsm } => (false, bits, hsm),
        };
        Some(match (create, hsm, bits) {
            (true, true, _) => 10,
            (true, false, _) => 20,
            (false, true, b) if b <= 2048 => 2000,
            (false, true, b) if b <= 3072 => 500,
            (false, true, _) => 250,
            (false, false, b) if b <= 2048 => 4000,
            (false, false, b) if b <= 3072 => 1000,
            (false, false, _) => 500,
        })
    }

    pub fn describe(self) -> String {
        match self {
            ThrottleClass::Management => "management".into(),
            ThrottleClass::Secrets => "secrets".into(),
            ThrottleClass::Create { bits, hsm } => {
                format!(
                    "create, RSA {bits} {}",
                    if hsm { "HSM" } else { "software" }
                )
            }
            ThrottleClass::Other { bits, hsm } => {
                format!("other, RSA {bits} {}", if hsm { "HSM" } else { "software" })
            }
        }
    }
}

/// One request a vault served or refused.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VaultRequest {
    /// Position in the journal: also what the correlation id is derived from.
    pub seq: u64,
    pub time: Timestamp,
    pub vault: String,
    /// ARM id of the vault.
    pub resource_id: String,
    /// `KeyWrap`, `VaultGet`, ...
    pub operation: String,
    /// HTTP status the vault answered.
    pub status: u16,
    /// The error text, empty on success.
    pub description: String,
    pub duration_ms: u32,
    pub caller: RequestCaller,
    pub request_uri: String,
    /// The id of the object the request is about (key id, vault uri).
    pub object_id: String,
    pub class: ThrottleClass,
    /// Made while a diagnostic setting sent `AuditEvent`: part of the audit log.
    pub audited: bool,
}

impl VaultRequest {
    pub fn succeeded(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// `resultType`.
    pub fn result_type(&self) -> &'static str {
        if self.succeeded() {
            "Success"
        } else {
            "Failure"
        }
    }

    /// `resultSignature`: the HTTP status text.
    pub fn result_signature(&self) -> &'static str {
        match self.status {
            200 => "OK",
            201 => "Created",
            204 => "No Content",
            400 => "Bad Request",
            401 => "Unauthorized",
            403 => "Forbidden",
            404 => "Not Found",
            409 => "Conflict",
            429 => "Too Many Requests",
            503 => "Service Unavailable",
            _ => "Error",
        }
    }

    /// A correlation id (GUID-shaped), stable for a given journal position.
    pub fn correlation_id(&self) -> String {
        let h = splitmix(self.seq ^ 0x5eed_c0de);
        let l = splitmix(h);
        format!(
            "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
            h >> 32,
            (h >> 16) & 0xffff,
            h & 0xfff,
            (l >> 48) & 0xfff,
            l & 0xffff_ffff_ffff
        )
    }

    /// The record in the shape of Azure Monitor's `AuditEvent` JSON.
    pub fn to_json(&self) -> serde_json::Value {
        let mut claim = serde_json::Map::new();
        claim.insert(
            "http://schemas.microsoft.com/identity/claims/objectidentifier".into(),
            self.caller.object_id.clone().into(),
        );
        if let Some(upn) = &self.caller.upn {
            claim.insert(
                "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn".into(),
                upn.clone().into(),
            );
        }
        claim.insert("appid".into(), self.caller.app_id.clone().into());
        serde_json::json!({
            "time": self.time.to_iso().replace("+00:00", "Z"),
            "resourceId": self.resource_id.to_uppercase(),
            "operationName": self.operation,
            "operationVersion": "7.4",
            "category": "AuditEvent",
            "resultType": self.result_type(),
            "resultSignature": self.result_signature(),
            "resultDescription": self.description,
            "durationMs": self.duration_ms,
            "callerIpAddress": self.caller.ip_address,
            "correlationId": self.correlation_id(),
            "identity": { "claim": claim },
            "properties": {
                "clientInfo": self.caller.client_info,
                "requestUri": self.request_uri,
                "id": self.object_id,
                "httpStatusCode": self.status,
            },
        })
    }
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The journal's contents, behind the lock: persistent collections, so a copy is cheap.
#[derive(Clone, Default)]
pub struct JournalData {
    /// Every request, oldest first; a request's `seq` is its position.
    pub requests: imbl::Vector<VaultRequest>,
    /// Admitted requests per (vault, 10-second window, class): what throttling counts.
    windows: Windows,
    /// The same per subscription (the subscription-wide limit is five vaults' worth).
    subscription_windows: Windows,
    /// While a long-running operation runs: its server's workers and where each has got
    /// to. Its server requests wait for room in the vault's windows instead of failing
    /// after the back-off. Not saved (operations finish before a save; it is `None`
    /// whenever a workspace is at rest), but part of equality: two workspaces whose workers
    /// differ would admit the next server request at different instants.
    pub lro: Option<Workers>,
}

/// The requests a SQL server makes during a long-running operation (opening the
/// databases of a failover, re-wrapping every DEK after a protector change) go out from
/// [`Workers::COUNT`] workers at once: each worker makes one request at a time, and a
/// throttled request backs off on its own worker while the others go on. So a storm of
/// 1,102 unwraps against a 1,000-per-10-seconds vault is ~100 requests refused and
/// retried (each a 429 of its own), not one queue behind a single retry; and an estate of
/// 50,000 databases leaves a bounded number of 429s (a few per worker per full window).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Workers {
    /// Each worker's next free instant, earliest first (ties: the lower worker).
    free: std::collections::BTreeSet<(Timestamp, usize)>,
    /// The instant the latest request was admitted.
    pub last: Timestamp,
    /// The latest instant any request was admitted (the operation's end so far).
    pub end: Timestamp,
}

impl Workers {
    /// How many requests a server has in flight at once (a simulation choice: Azure does
    /// not document it).
    pub const COUNT: usize = 100;

    /// Workers all free at `start`.
    pub fn new(start: Timestamp) -> Workers {
        Workers {
            free: (0..Self::COUNT).map(|i| (start, i)).collect(),
            last: start,
            end: start,
        }
    }

    /// The worker free first, and from when: the next request goes out on it.
    pub fn take(&mut self) -> (usize, Timestamp) {
        match self.free.pop_first() {
            Some((at, i)) => (i, at),
            None => (0, self.end),
        }
    }

    /// Worker `i`'s request was admitted at `at`: it is free again from then.
    pub fn admitted(&mut self, i: usize, at: Timestamp) {
        self.free.insert((at, i));
        self.last = at;
        self.end = self.end.max(at);
    }

    /// A nested operation ended at `end`: nothing of this one goes out before it.
    pub fn wait_until(&mut self, end: Timestamp) {
        self.free = std::mem::take(&mut self.free)
            .into_iter()
            .map(|(at, i)| (at.max(end), i))
            .collect();
        self.last = self.last.max(end);
        self.end = self.end.max(end);
    }
}

impl PartialEq for JournalData {
    fn eq(&self, other: &Self) -> bool {
        // The windows are counted from the requests: equal requests, equal windows.
        self.lro == other.lro
            && self.requests.len() == other.requests.len()
            && (self.requests.ptr_eq(&other.requests)
                // Newest first: two journals that differ mostly differ in recent records.
                || self.requests.iter().rev().eq(other.requests.iter().rev()))
    }
}

/// The subscription id inside an ARM resource id.
pub fn subscription_of(resource_id: &str) -> &str {
    let mut parts = resource_id.split('/');
    while let Some(p) = parts.next() {
        if p.eq_ignore_ascii_case("subscriptions") {
            return parts.next().unwrap_or_default();
        }
    }
    ""
}

impl JournalData {
    /// Requests admitted so far in the 10-second window holding `time`.
    pub fn admitted_in_window(&self, vault: &str, time: Timestamp, class: ThrottleClass) -> u32 {
        self.windows
            .get(&(vault.to_ascii_lowercase(), window_of(time), class))
            .copied()
            .unwrap_or(0)
    }

    /// Requests admitted so far in the subscription's 10-second window holding `time`.
    pub fn admitted_in_subscription(
        &self,
        subscription: &str,
        time: Timestamp,
        class: ThrottleClass,
    ) -> u32 {
        self.subscription_windows
            .get(&(subscription.to_ascii_lowercase(), window_of(time), class))
            .copied()
            .unwrap_or(0)
    }

    fn count(&mut self, r: &VaultRequest) {
        if r.status != 429 && r.class != ThrottleClass::Management {
            *self
                .windows
                .entry((r.vault.to_ascii_lowercase(), window_of(r.time), r.class))
                .or_default() += 1;
            let sub = subscription_of(&r.resource_id).to_ascii_lowercase();
            *self
                .subscription_windows
                .entry((sub, window_of(r.time), r.class))
                .or_default() += 1;
        }
    }

    /// Appends a request, numbering it; returns its sequence number.
    pub fn push(&mut self, mut r: VaultRequest) -> u64 {
        r.seq = self.requests.len() as u64;
        self.count(&r);
        let seq = r.seq;
        self.requests.push_back(r);
        seq
    }
}

/// The start (in seconds since the epoch) of the 10-second window holding `time`.
pub fn window_of(time: Timestamp) -> i64 {
    time.0.div_euclid(10)
}

/// The request journal of a workspace: a value (cloning copies it, cheaply; equality
/// compares its records), behind a lock of its own so a call that only reads the model can
/// still record its request.
#[derive(Default)]
pub struct RequestJournal(Mutex<JournalData>);

impl RequestJournal {
    /// The journal's contents. A poisoned lock (a panic elsewhere while holding it) still
    /// gives the data: records are only ever appended whole.
    pub fn lock(&self) -> MutexGuard<'_, JournalData> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Every request, oldest first (a request's `seq` is its position): a snapshot of the
    /// records as they are now, sharing them (O(1)), so it can be read without the lock.
    pub fn requests(&self) -> imbl::Vector<VaultRequest> {
        self.lock().requests.clone()
    }

    /// The requests from position `from` on (empty when there are no more), sharing them.
    pub fn requests_from(&self, from: usize) -> imbl::Vector<VaultRequest> {
        let all = self.requests();
        if from >= all.len() {
            imbl::Vector::new()
        } else {
            all.skip(from)
        }
    }

    /// Appends a request, numbering it (its `seq` becomes its position) and counting it in
    /// the throttling windows; returns its sequence number.
    pub fn push(&self, r: VaultRequest) -> u64 {
        self.lock().push(r)
    }

    pub fn len(&self) -> usize {
        self.lock().requests.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A copy of the records matching `keep`.
    pub fn filtered(&self, keep: impl Fn(&VaultRequest) -> bool) -> Vec<VaultRequest> {
        self.lock()
            .requests
            .iter()
            .filter(|r| keep(r))
            .cloned()
            .collect()
    }
}

/// A copy that shares every record with this one until either grows (persistent
/// collections): what a workspace snapshot holds.
impl Clone for RequestJournal {
    fn clone(&self) -> Self {
        RequestJournal(Mutex::new(self.lock().clone()))
    }
}

impl std::fmt::Debug for RequestJournal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RequestJournal({} requests)", self.len())
    }
}

impl PartialEq for RequestJournal {
    fn eq(&self, other: &Self) -> bool {
        if std::ptr::eq(self, other) {
            return true;
        }
        // Copies taken under each lock in turn: never two locks held at once.
        let a = self.lock().clone();
        let b = other.lock().clone();
        a == b
    }
}

/// How a journal is stored in a workspace file: callers, vaults and repeated texts once
/// each, then one compact tab-separated row a request (about 40 bytes, so 100,000 requests
/// stay a few megabytes).
#[derive(Serialize, Deserialize)]
struct JournalFile {
    callers: Vec<RequestCaller>,
    /// (vault name, ARM id)
    vaults: Vec<(String, String)>,
    /// Operation names, request URIs, object ids and result descriptions.
    texts: Vec<String>,
    /// `time, vault#, operation#, status, ms, caller#, class, audited, request uri#,
    /// object id#, description#`, tab-separated.
    rows: Vec<String>,
}

/// Interns texts for [`JournalFile::texts`].
#[derive(Default)]
struct TextTable {
    texts: Vec<String>,
    index: HashMap<String, usize>,
}

impl TextTable {
    fn id(&mut self, text: &str) -> usize {
        if let Some(i) = self.index.get(text) {
            return *i;
        }
        let i = self.texts.len();
        self.texts.push(text.to_string());
        self.index.insert(text.to_string(), i);
        i
    }
}

fn class_code(c: ThrottleClass) -> String {
    match c {
        ThrottleClass::Management => "M".into(),
        ThrottleClass::Secrets => "S".into(),
        ThrottleClass::Create { bits, hsm } => format!("C{bits}{}", if hsm { 'h' } else { 's' }),
        ThrottleClass::Other { bits, hsm } => format!("O{bits}{}", if hsm { 'h' } else { 's' }),
    }
}

fn parse_class(text: &str) -> Option<ThrottleClass> {
    if text == "M" {
        return Some(ThrottleClass::Management);
    }
    if text == "S" {
        return Some(ThrottleClass::Secrets);
    }
    let kind = text.get(..1)?;
    let hsm = text.ends_with('h');
    let bits: u32 = text.get(1..text.len().checked_sub(1)?)?.parse().ok()?;
    match kind {
        "C" => Some(ThrottleClass::Create { bits, hsm }),
        "O" => Some(ThrottleClass::Other { bits, hsm }),
        _ => None,
    }
}

impl Serialize for RequestJournal {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let data = self.lock();
        let mut file = JournalFile {
            callers: Vec::new(),
            vaults: Vec::new(),
            texts: Vec::new(),
            rows: Vec::with_capacity(data.requests.len()),
        };
        let mut texts = TextTable::default();
        for r in data.requests.iter() {
            let caller = match file.callers.iter().position(|c| c == &r.caller) {
                Some(i) => i,
                None => {
                    file.callers.push(r.caller.clone());
                    file.callers.len() - 1
                }
            };
            let vault = match file
                .vaults
                .iter()
                .position(|(n, id)| n == &r.vault && id == &r.resource_id)
            {
                Some(i) => i,
                None => {
                    file.vaults.push((r.vault.clone(), r.resource_id.clone()));
                    file.vaults.len() - 1
                }
            };
            file.rows.push(format!(
                "{}\t{vault}\t{}\t{}\t{}\t{caller}\t{}\t{}\t{}\t{}\t{}",
                r.time.0,
                texts.id(&r.operation),
                r.status,
                r.duration_ms,
                class_code(r.class),
                u8::from(r.audited),
                texts.id(&r.request_uri),
                texts.id(&r.object_id),
                texts.id(&r.description)
            ));
        }
        file.texts = texts.texts;
        file.serialize(s)
    }
}

impl<'de> Deserialize<'de> for RequestJournal {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let file = JournalFile::deserialize(d)?;
        let mut data = JournalData::default();
        {
            for (line, row) in file.rows.iter().enumerate() {
                let bad =
                    || D::Error::custom(format!("request journal row {} is damaged", line + 1));
                let f: Vec<&str> = row.splitn(11, '\t').collect();
                if f.len() != 11 {
                    return Err(bad());
                }
                let num = |i: usize| f[i].parse::<i64>().map_err(|_| bad());
                let (vault, resource_id) =
                    file.vaults.get(num(1)? as usize).cloned().ok_or_else(bad)?;
                let caller = file
                    .callers
                    .get(num(5)? as usize)
                    .cloned()
                    .ok_or_else(bad)?;
                let text = |i: usize| -> Result<String, D::Error> {
                    let n = num(i)? as usize;
                    file.texts.get(n).cloned().ok_or_else(bad)
                };
                data.push(VaultRequest {
                    seq: 0,
                    time: Timestamp(num(0)?),
                    vault,
                    resource_id,
                    operation: text(2)?,
                    status: u16::try_from(num(3)?).map_err(|_| bad())?,
                    duration_ms: u32::try_from(num(4)?).map_err(|_| bad())?,
                    caller,
                    class: parse_class(f[6]).ok_or_else(bad)?,
                    audited: f[7] == "1",
                    request_uri: text(8)?,
                    object_id: text(9)?,
                    description: text(10)?,
                });
            }
        }
        Ok(RequestJournal(Mutex::new(data)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journal_survives_a_round_trip_through_ron() {
        let j = RequestJournal::default();
        let caller = RequestCaller {
            object_id: "o".into(),
            upn: Some("u@x".into()),
            app_id: "a".into(),
            ip_address: "1.2.3.4".into(),
            client_info: "c".into(),
            display: "d".into(),
        };
        for (i, class) in [
            ThrottleClass::Management,
            ThrottleClass::Create {
                bits: 3072,
                hsm: true,
            },
            ThrottleClass::Other {
                bits: 2048,
                hsm: false,
            },
        ]
        .into_iter()
        .enumerate()
        {
            j.lock().push(VaultRequest {
                seq: 0,
                time: Timestamp(100 + i as i64),
                vault: "kv".into(),
                resource_id: "/subscriptions/s/x".into(),
                operation: "KeyGet".into(),
                status: 403,
                description: "tab\there".into(),
                duration_ms: 12,
                caller: caller.clone(),
                request_uri: "https://kv/keys/k?api-version=7.4".into(),
                object_id: "https://kv/keys/k".into(),
                class,
                audited: i % 2 == 0,
            });
        }
        let text = ron::to_string(&j).unwrap();
        let back: RequestJournal = ron::from_str(&text).unwrap();
        let (a, b) = (j.lock().requests.clone(), back.lock().requests.clone());
        assert_eq!(a.len(), 3);
        for (x, y) in a.iter().zip(b.iter()) {
            assert_eq!(x.class, y.class);
            assert_eq!(x.audited, y.audited);
            assert_eq!(x.time, y.time);
            assert_eq!(y.description, "tab\there");
        }
        assert!(
            ron::from_str::<RequestJournal>("(callers: [], vaults: [], rows: [\"1\\t2\"])")
                .is_err()
        );
    }

    #[test]
    fn limits_follow_the_service_table() {
        let other = |bits, hsm| ThrottleClass::Other { bits, hsm }.limit();
        let create = |bits, hsm| ThrottleClass::Create { bits, hsm }.limit();
        assert_eq!(other(2048, false), Some(4000));
        assert_eq!(other(2048, true), Some(2000));
        assert_eq!(other(3072, false), Some(1000));
        assert_eq!(other(3072, true), Some(500));
        assert_eq!(create(2048, true), Some(10));
        assert_eq!(create(3072, false), Some(20));
        assert_eq!(ThrottleClass::Management.limit(), None);
    }

    #[test]
    fn correlation_ids_are_guid_shaped_and_distinct() {
        let caller = RequestCaller {
            object_id: "o".into(),
            upn: None,
            app_id: "a".into(),
            ip_address: "1.2.3.4".into(),
            client_info: "c".into(),
            display: "d".into(),
        };
        let mut r = VaultRequest {
            seq: 1,
            time: Timestamp(0),
            vault: "v".into(),
            resource_id: "r".into(),
            operation: "KeyGet".into(),
            status: 200,
            description: String::new(),
            duration_ms: 5,
            caller,
            request_uri: "u".into(),
            object_id: "i".into(),
            class: ThrottleClass::Management,
            audited: true,
        };
        let a = r.correlation_id();
        r.seq = 2;
        let b = r.correlation_id();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(a.matches('-').count(), 4);
    }

    #[test]
    fn workers_take_the_earliest_free_one_and_a_nested_end_holds_them_all() {
        let t = Timestamp(100);
        let mut w = Workers::new(t);
        // Every worker is free at the start: the first COUNT requests go out at once.
        let firsts: Vec<_> = (0..Workers::COUNT).map(|_| w.take()).collect();
        assert!(firsts.iter().all(|&(_, at)| at == t));
        for (i, (n, _)) in firsts.iter().enumerate() {
            assert_eq!(
                *n, i,
                "ties go to the lower worker, so a run replays the same"
            );
            w.admitted(*n, Timestamp(100 + i as i64 % 3));
        }
        assert_eq!(w.end, Timestamp(102));
        assert_eq!(w.last, Timestamp(100 + (Workers::COUNT as i64 - 1) % 3));
        // The next request goes on the earliest free worker.
        assert_eq!(w.take(), (0, Timestamp(100)));
        w.admitted(0, Timestamp(130));
        // A nested operation that ended at 120 holds every worker until then.
        w.wait_until(Timestamp(120));
        assert_eq!(w.take(), (1, Timestamp(120)));
        assert_eq!(w.end, Timestamp(130));
    }
}
