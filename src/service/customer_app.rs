//! Customer applications: a simulated client that queries one database at every interval
//! boundary of the simulated clock (`sim app start`, View > Customer app), so a class sees
//! an outage the way a business does: queries answered, then refused with 40613 while the
//! database is Inaccessible, then answered again.
//!
//! A query is the availability check every client connection makes (the one in front of the
//! Query editor and `sim connect`): the database exists, its server's region serves, and it
//! is Online. Between two events of the simulation nothing that check reads can change, so
//! [`sample_through`] records all the boundaries up to the next event as one run with one
//! check: thirty simulated days with an app running cost what their events cost, not
//! 43,200 queries.

use super::{ServiceError, ServiceResult, transact};
use crate::model::customer_app::MAX_SAMPLES;
use crate::model::*;
use crate::sim::Duration;
use std::collections::BTreeMap;

/// The interval an app queries at unless told otherwise.
pub const DEFAULT_EVERY: Duration = Duration::minutes(1);

/// The shortest and longest intervals an app takes.
pub use crate::model::customer_app::{MAX_EVERY, MIN_EVERY};

/// What a client's query of `server`/`database` gets now: answered, or the service's
/// refusal (its error number and text).
pub fn query(ws: &Workspace, server: &str, database: &str) -> SampleOutcome {
    match super::content::connectable(ws, server, database) {
        Ok(_) => SampleOutcome::Ok,
        Err(e) => SampleOutcome::Failed {
            code: e.code,
            message: e.message,
        },
    }
}

/// The first multiple of `every` at or after `t` (samples fall on the clock's boundaries).
fn boundary_at_or_after(t: Timestamp, every: Duration) -> Timestamp {
    let e = every.0.max(1);
    Timestamp(
        t.0.div_euclid(e)
            .saturating_add(i64::from(t.0.rem_euclid(e) != 0))
            * e,
    )
}

/// `sim app start`: starts a customer app querying `database` of `server` every `every`
/// (whole minutes, 1 to 60). An app stopped earlier on the same database resumes with its
/// samples (unless its interval changes). Its first query is at the current instant when
/// that is a boundary, else at the next one.
pub fn start_customer_app(
    ws: &mut Workspace,
    server: &str,
    database: &str,
    every: Duration,
) -> ServiceResult<CustomerApp> {
    transact(ws, |ws| {
        if every < MIN_EVERY || every > MAX_EVERY || every.0 % 60 != 0 {
            return Err(ServiceError::bad_request(
                "InvalidArgument",
                format!(
                    "A customer app queries every 1 to 60 whole minutes (asked: every {}).",
                    every.human()
                ),
            ));
        }
        let s = super::lookup::server(ws, server)?;
        let d = s
            .database(database)
            .ok_or_else(|| ServiceError::database_not_found(&s.name, database))?;
        let (server, database) = (s.name.clone(), d.name.clone());
        let now = ws.now();
        let next = boundary_at_or_after(now, every);
        match ws
            .customer_apps
            .iter_mut()
            .find(|a| a.is_for(&server, &database))
        {
            Some(a) if a.running() => {
                return Err(ServiceError::conflict(
                    "CustomerAppRunning",
                    format!(
                        "A customer app already queries database '{database}' on server '{server}' (since {}). Stop it first.",
                        a.started
                    ),
                ));
            }
            Some(a) => {
                if a.every != every {
                    a.runs.clear();
                }
                a.every = every;
                a.started = now;
                a.stopped = None;
                a.next = next;
            }
            None => ws.customer_apps.push(CustomerApp {
                server: server.clone(),
                database: database.clone(),
                every,
                started: now,
                stopped: None,
                next,
                runs: Default::default(),
            }),
        }
        sample_through(ws, now);
        find(ws, &server, &database).cloned()
    })
}

/// `sim app stop`: stops the app querying `database` of `server`; its samples stay (the
/// chart keeps them) until it is removed.
pub fn stop_customer_app(
    ws: &mut Workspace,
    server: &str,
    database: &str,
) -> ServiceResult<CustomerApp> {
    transact(ws, |ws| {
        let now = ws.now();
        let a = find_mut(ws, server, database)?;
        if !a.running() {
            return Err(ServiceError::conflict(
                "CustomerAppStopped",
                format!(
                    "The customer app on database '{}' of server '{}' is not running.",
                    a.database, a.server
                ),
            ));
        }
        a.stopped = Some(now);
        Ok(a.clone())
    })
}

/// `sim app delete`: removes a stopped app and its samples.
pub fn remove_customer_app(ws: &mut Workspace, server: &str, database: &str) -> ServiceResult<()> {
    transact(ws, |ws| {
        let a = find_mut(ws, server, database)?;
        if a.running() {
            return Err(ServiceError::conflict(
                "CustomerAppRunning",
                format!(
                    "The customer app on database '{}' of server '{}' is running: stop it first.",
                    a.database, a.server
                ),
            ));
        }
        ws.customer_apps.retain(|a| !a.is_for(server, database));
        Ok(())
    })
}

/// What a file's customer app must hold for the sampling to work on it
/// ([`CustomerApp::validate`]).
pub fn validate(a: &CustomerApp) -> Result<(), String> {
    a.validate()
}

/// The app on `database` of `server`, if there is one.
pub fn find<'a>(ws: &'a Workspace, server: &str, database: &str) -> ServiceResult<&'a CustomerApp> {
    ws.customer_apps
        .iter()
        .find(|a| a.is_for(server, database))
        .ok_or_else(|| app_not_found(server, database))
}

fn find_mut<'a>(
    ws: &'a mut Workspace,
    server: &str,
    database: &str,
) -> ServiceResult<&'a mut CustomerApp> {
    ws.customer_apps
        .iter_mut()
        .find(|a| a.is_for(server, database))
        .ok_or_else(|| app_not_found(server, database))
}

fn app_not_found(server: &str, database: &str) -> ServiceError {
    ServiceError::not_found(
        "CustomerAppNotFound",
        format!("No customer app queries database '{database}' on server '{server}'."),
    )
}

/// Takes every sample of every running app due at or before `upto`, with the state the
/// workspace has now: the clock's advance calls it before each event (through the instant
/// before it) and at the end, so each boundary sees the state of its own instant. One
/// check per app covers all the boundaries up to `upto`.
pub fn sample_through(ws: &mut Workspace, upto: Timestamp) {
    if !ws
        .customer_apps
        .iter()
        .any(|a| a.running() && a.next <= upto)
    {
        return;
    }
    let due: Vec<(usize, SampleOutcome)> = ws
        .customer_apps
        .iter()
        .enumerate()
        .filter(|(_, a)| a.running() && a.next <= upto)
        .map(|(i, a)| (i, query(ws, &a.server, &a.database)))
        .collect();
    for (i, outcome) in due {
        let Some(a) = ws.customer_apps.get_mut(i) else {
            continue;
        };
        let every = a.every.0.max(1);
        let count = upto.0.saturating_sub(a.next.0) / every + 1;
        let first = a.next;
        a.next = a.next + Duration(count.saturating_mul(every));
        // A long advance only keeps its last MAX_SAMPLES samples.
        let kept = count.min(i64::from(MAX_SAMPLES));
        let first = first + Duration((count - kept).saturating_mul(every));
        a.record(first, u32::try_from(kept).unwrap_or(MAX_SAMPLES), outcome);
    }
}

/// What an app's samples in `(from, to]` add up to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub ok: u64,
    pub failed: u64,
    /// Failures by error number, most frequent first.
    pub codes: Vec<(String, u64)>,
    /// The first sample of the failures the app is in now, if its last query failed.
    pub down_since: Option<Timestamp>,
    /// The text of the first failure of the current episode, else of the window's first.
    pub first_error: Option<String>,
    /// When that first failure was sampled, and its error number.
    pub first_error_at: Option<(Timestamp, String)>,
}

impl Summary {
    /// `47 ok, 13 failed (40613)`.
    pub fn counts_text(&self) -> String {
        let mut t = format!("{} ok, {} failed", self.ok, self.failed);
        if !self.codes.is_empty() {
            let codes: Vec<String> = self
                .codes
                .iter()
                .map(|(c, n)| {
                    if self.codes.len() == 1 {
                        c.clone()
                    } else {
                        format!("{c} ×{n}")
                    }
                })
                .collect();
            t.push_str(&format!(" ({})", codes.join(", ")));
        }
        t
    }
}

/// How many of the run's samples fall in `[lo, hi)`.
fn in_span(r: &SampleRun, every: Duration, lo: Timestamp, hi: Timestamp) -> u64 {
    let e = every.0.max(1);
    let k = |t: Timestamp| -> i64 {
        // The number of samples before `t`: ceil((t - first) / every), within 0..=count.
        let d = t.0 - r.first.0;
        let n = if d <= 0 { 0 } else { (d + e - 1) / e };
        n.clamp(0, i64::from(r.count))
    };
    u64::try_from(k(hi) - k(lo)).unwrap_or(0)
}

/// The samples of `app` in `(from, to]`, added up.
pub fn summary(app: &CustomerApp, from: Timestamp, to: Timestamp) -> Summary {
    let (lo, hi) = (from + Duration(1), to + Duration(1));
    let mut s = Summary::default();
    let mut codes: BTreeMap<String, u64> = BTreeMap::new();
    for r in &app.runs {
        let n = in_span(r, app.every, lo, hi);
        if n == 0 {
            continue;
        }
        match &r.outcome {
            SampleOutcome::Ok => s.ok += n,
            SampleOutcome::Failed { code, message } => {
                s.failed += n;
                *codes.entry(code.clone()).or_default() += n;
                if s.first_error.is_none() {
                    s.first_error = Some(message.clone());
                    // The run's first sample inside the window.
                    let e = app.every.0.max(1);
                    let skipped = if lo.0 > r.first.0 {
                        (lo.0 - r.first.0 + e - 1) / e
                    } else {
                        0
                    };
                    s.first_error_at = Some((Timestamp(r.first.0 + skipped * e), code.clone()));
                }
            }
        }
    }
    let mut codes: Vec<(String, u64)> = codes.into_iter().collect();
    codes.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    s.codes = codes;
    // The failures the app is in now: the trailing failed runs that follow each other.
    let mut episode: Option<&SampleRun> = None;
    for r in app.runs.iter().rev() {
        if r.outcome.is_ok() {
            break;
        }
        if let Some(after) = episode
            && r.last(app.every) + app.every != after.first
        {
            break;
        }
        episode = Some(r);
    }
    if let Some(r) = episode {
        s.down_since = Some(r.first);
        if let SampleOutcome::Failed { message, code } = &r.outcome {
            s.first_error = Some(message.clone());
            s.first_error_at = Some((r.first, code.clone()));
        }
    }
    s
}

/// An app's samples in one bucket of a chart.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bucket {
    pub ok: u64,
    /// Failures by error number.
    pub failed: BTreeMap<String, u64>,
}

/// The app's samples in `n` buckets of `width` from `from` on (`[from + i·width, from +
/// (i+1)·width)`), for a chart.
pub fn buckets(app: &CustomerApp, from: Timestamp, width: Duration, n: usize) -> Vec<Bucket> {
    let mut out = vec![Bucket::default(); n];
    let w = width.0.max(1);
    let end = from + Duration(w.saturating_mul(n as i64));
    for r in &app.runs {
        let last = r.last(app.every);
        if last < from || r.first >= end {
            continue;
        }
        let b0 = usize::try_from((r.first.0 - from.0).max(0) / w).unwrap_or(0);
        let b1 = usize::try_from((last.0 - from.0) / w)
            .unwrap_or(0)
            .min(n.saturating_sub(1));
        for (b, bucket) in out.iter_mut().enumerate().take(b1 + 1).skip(b0) {
            let lo = from + Duration(w * b as i64);
            let k = in_span(r, app.every, lo, lo + Duration(w));
            if k == 0 {
                continue;
            }
            match &r.outcome {
                SampleOutcome::Ok => bucket.ok += k,
                SampleOutcome::Failed { code, .. } => {
                    *bucket.failed.entry(code.clone()).or_default() += k
                }
            }
        }
    }
    out
}

/// A request an SDK client sent to a vault served on localhost (View > Serve vaults on
/// localhost): neither the console's own CLI, nor a SQL server, nor the vault's rotation.
pub fn is_sdk_request(r: &VaultRequest) -> bool {
    let info = r.caller.client_info.as_str();
    info != super::requests::CONSOLE_CLIENT_INFO
        && !info.starts_with("Microsoft.Sql/")
        && r.caller.app_id != super::lookup::ROTATION_APP_ID
}

/// The SDK clients' requests to the vaults, answered and refused, in `n` buckets of
/// `width` from `from` on.
pub fn sdk_buckets(ws: &Workspace, from: Timestamp, width: Duration, n: usize) -> Vec<(u64, u64)> {
    let mut out = vec![(0u64, 0u64); n];
    let w = width.0.max(1);
    let requests = ws.journal.requests();
    // The journal is in the order requests were made; a long operation's requests may
    // carry instants a little ahead of the clock, never hours behind it.
    let stop = from - Duration::hours(1);
    for r in requests.iter().rev() {
        if r.time < stop {
            break;
        }
        if r.time < from || !is_sdk_request(r) {
            continue;
        }
        let Ok(b) = usize::try_from((r.time.0 - from.0) / w) else {
            continue;
        };
        if let Some(slot) = out.get_mut(b) {
            if r.succeeded() {
                slot.0 += 1;
            } else {
                slot.1 += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(every: Duration) -> CustomerApp {
        CustomerApp {
            server: "s".into(),
            database: "d".into(),
            every,
            started: Timestamp(0),
            stopped: None,
            next: Timestamp(0),
            runs: Default::default(),
        }
    }

    fn failed(code: &str) -> SampleOutcome {
        SampleOutcome::Failed {
            code: code.into(),
            message: format!("error {code}"),
        }
    }

    #[test]
    fn equal_outcomes_one_interval_apart_share_a_run_and_the_oldest_go_first() {
        let mut a = app(Duration::minutes(1));
        a.record(Timestamp(60), 3, SampleOutcome::Ok);
        a.record(Timestamp(240), 2, SampleOutcome::Ok);
        assert_eq!(a.runs.len(), 1);
        assert_eq!(a.samples(), 5);
        a.record(Timestamp(360), 1, failed("40613"));
        a.record(Timestamp(420), 1, SampleOutcome::Ok);
        assert_eq!(a.runs.len(), 3);
        // A gap (stopped, then started again) starts a new run.
        a.record(Timestamp(3600), 1, SampleOutcome::Ok);
        assert_eq!(a.runs.len(), 4);
        a.record(Timestamp(3660), MAX_SAMPLES, SampleOutcome::Ok);
        assert_eq!(a.samples(), u64::from(MAX_SAMPLES));
        assert_eq!(a.runs.len(), 1);
        assert_eq!(a.runs[0].first, Timestamp(3660));
    }

    #[test]
    fn summary_and_buckets_count_exactly() {
        let mut a = app(Duration::minutes(1));
        a.record(Timestamp(60), 10, SampleOutcome::Ok);
        a.record(Timestamp(660), 4, failed("40613"));
        a.record(Timestamp(900), 2, failed("ResourceNotFound"));
        let s = summary(&a, Timestamp(0), Timestamp(960));
        assert_eq!((s.ok, s.failed), (10, 6));
        assert_eq!(
            s.codes,
            vec![("40613".into(), 4), ("ResourceNotFound".into(), 2)]
        );
        assert_eq!(s.down_since, Some(Timestamp(660)));
        assert_eq!(s.first_error.as_deref(), Some("error 40613"));
        assert_eq!(
            s.counts_text(),
            "10 ok, 6 failed (40613 ×4, ResourceNotFound ×2)"
        );
        assert_eq!(s.first_error_at, Some((Timestamp(660), "40613".into())));
        // Recovered: the window's first failure is a past one, with its time and number
        // (the panel shows it as past, not as a live red error).
        a.record(Timestamp(1020), 1, SampleOutcome::Ok);
        let s = summary(&a, Timestamp(700), Timestamp(1020));
        assert_eq!(s.down_since, None);
        assert_eq!(s.first_error_at, Some((Timestamp(720), "40613".into())));
        // (from, to]: the sample at `from` is not in the window.
        let s = summary(&a, Timestamp(60), Timestamp(600));
        assert_eq!((s.ok, s.failed), (9, 0));
        let b = buckets(&a, Timestamp(0), Duration::minutes(5), 4);
        assert_eq!(b[0].ok, 4);
        assert_eq!(b[1].ok, 5);
        assert_eq!(b[2].ok, 1);
        assert_eq!(b[2].failed.get("40613"), Some(&4));
        assert_eq!(b[3].failed.get("ResourceNotFound"), Some(&2));
        assert_eq!(b[3].failed.get("40613"), None);
    }

    #[test]
    fn boundaries_fall_on_multiples_of_the_interval() {
        let m = Duration::minutes(1);
        assert_eq!(boundary_at_or_after(Timestamp(120), m), Timestamp(120));
        assert_eq!(boundary_at_or_after(Timestamp(121), m), Timestamp(180));
        assert_eq!(
            boundary_at_or_after(Timestamp(121), Duration::minutes(5)),
            Timestamp(300)
        );
    }
}
