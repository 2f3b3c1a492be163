//! A simulated customer application: it queries one database at every boundary of its
//! interval (every simulated minute by default) and keeps what each query got, so a class
//! sees an outage the way a business does (`sim app start`, View > Customer app).
//!
//! Samples are stored compactly as runs of equal outcomes (a week of minutes that all
//! succeeded is one run), at most [`MAX_SAMPLES`] per app: the oldest go first.

use crate::sim::{Duration, Timestamp};
use serde::{Deserialize, Serialize};

/// The most samples an app keeps: seven days at one per minute.
pub const MAX_SAMPLES: u32 = 7 * 24 * 60;

/// The shortest interval between an app's queries.
pub const MIN_EVERY: Duration = Duration::minutes(1);
/// The longest interval between an app's queries.
pub const MAX_EVERY: Duration = Duration::hours(1);

/// What one query of the app got.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SampleOutcome {
    /// The query was answered.
    Ok,
    /// The connection or query was refused: the service's error number or code (`40613`)
    /// and its text.
    Failed { code: String, message: String },
}

impl SampleOutcome {
    pub fn is_ok(&self) -> bool {
        matches!(self, SampleOutcome::Ok)
    }

    /// The error number or code, for a failure.
    pub fn code(&self) -> Option<&str> {
        match self {
            SampleOutcome::Ok => None,
            SampleOutcome::Failed { code, .. } => Some(code),
        }
    }
}

/// Consecutive samples (one interval apart) with the same outcome.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SampleRun {
    /// The first sample's instant.
    pub first: Timestamp,
    /// How many samples, `first`, `first + every`, ….
    pub count: u32,
    pub outcome: SampleOutcome,
}

impl SampleRun {
    /// The instant of the run's last sample.
    pub fn last(&self, every: Duration) -> Timestamp {
        self.first
            + Duration(
                every
                    .0
                    .saturating_mul(i64::from(self.count.saturating_sub(1))),
            )
    }
}

/// One customer application and what its queries got.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerApp {
    pub server: String,
    pub database: String,
    /// How often it queries (samples fall on the clock's multiples of it).
    pub every: Duration,
    /// When it was (last) started.
    pub started: Timestamp,
    /// When it was stopped; `None` while it runs.
    #[serde(default)]
    pub stopped: Option<Timestamp>,
    /// The next instant it queries at (while it runs).
    pub next: Timestamp,
    /// Its samples, oldest first, as runs of equal outcomes.
    #[serde(default)]
    pub runs: std::collections::VecDeque<SampleRun>,
}

impl CustomerApp {
    /// What a file's customer app must hold for the sampling to work on it: an interval the
    /// service takes ([`MIN_EVERY`] to [`MAX_EVERY`], whole minutes), instants within the
    /// calendar, runs in order, at most [`MAX_SAMPLES`].
    pub fn validate(&self) -> Result<(), String> {
        if self.every < MIN_EVERY || self.every > MAX_EVERY || self.every.0 % 60 != 0 {
            return Err(format!(
                "its interval ({} s) is not 1 to 60 whole minutes",
                self.every.0
            ));
        }
        let times = [Some(self.started), self.stopped, Some(self.next)];
        if times.into_iter().flatten().any(|t| !t.in_calendar()) {
            return Err("it holds a date outside 1970 to 9000".into());
        }
        let mut after = Timestamp(i64::MIN);
        for r in &self.runs {
            if !r.first.in_calendar() || r.count == 0 || r.first < after {
                return Err("its samples are not in order".into());
            }
            after = r.last(self.every) + self.every;
        }
        if after > self.next && !self.runs.is_empty() {
            return Err("its samples run past its next query".into());
        }
        if self.samples() > u64::from(MAX_SAMPLES) {
            return Err(format!("it holds more than {} samples", MAX_SAMPLES));
        }
        Ok(())
    }

    pub fn running(&self) -> bool {
        self.stopped.is_none()
    }

    pub fn is_for(&self, server: &str, database: &str) -> bool {
        self.server.eq_ignore_ascii_case(server) && self.database.eq_ignore_ascii_case(database)
    }

    /// How many samples it holds.
    pub fn samples(&self) -> u64 {
        self.runs.iter().map(|r| u64::from(r.count)).sum()
    }

    /// Records `count` samples from `first` on, one interval apart, all with `outcome`:
    /// joined to the last run when they continue it, then trimmed to [`MAX_SAMPLES`].
    pub fn record(&mut self, first: Timestamp, count: u32, outcome: SampleOutcome) {
        if count == 0 {
            return;
        }
        let every = self.every;
        match self.runs.back_mut() {
            Some(r) if r.outcome == outcome && r.last(every) + every == first => {
                r.count = r.count.saturating_add(count);
            }
            _ => self.runs.push_back(SampleRun {
                first,
                count,
                outcome,
            }),
        }
        let mut excess = self.samples().saturating_sub(u64::from(MAX_SAMPLES));
        while excess > 0 {
            let Some(front) = self.runs.front_mut() else {
                break;
            };
            let drop = u32::try_from(excess.min(u64::from(front.count))).unwrap_or(front.count);
            if drop >= front.count {
                self.runs.pop_front();
            } else {
                front.count -= drop;
                front.first = front.first + Duration(every.0.saturating_mul(i64::from(drop)));
            }
            excess -= u64::from(drop);
        }
    }

    /// The outcome of the latest sample.
    pub fn last_outcome(&self) -> Option<&SampleOutcome> {
        self.runs.back().map(|r| &r.outcome)
    }
}
