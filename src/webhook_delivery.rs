//! Sending the workspace's webhook outbox: the only place the console POSTs an alert.
//!
//! The operations layer never touches the network: an alert that fires appends a
//! [`PendingDelivery`] to [`Workspace::outbox`] inside its operation, so a rolled-back
//! operation leaves none. The clients send what is waiting once the operation has
//! committed, and record each outcome back through the operations layer
//! ([`service::monitor::record_deliveries`]), which moves it to the alerts' inbox:
//! - `tde-console shell` (and every [`crate::shell::Shell`] a test or scenario drives): after
//!   each command, blocking ([`drain`]);
//! - `tde-console serve`: between requests, on a thread of its own ([`Courier`]), so an
//!   endpoint slow to answer never holds a client's request;
//! - the window: the same [`Courier`], polled each frame; the POSTs run on its thread,
//!   never the UI thread, and the outcomes are recorded when no job holds the workspace.
//!
//! Each POST goes only to an `http://` loopback URL ([`crate::model::loopback_url`]), with a
//! 2 s deadline, no redirects; any status is an outcome ("HTTP 500"), as Azure Monitor's
//! delivery history shows it.

use crate::model::{PendingDelivery, Workspace, loopback_url};
use crate::service::monitor::{DeliveryOutcome, record_deliveries};
use std::sync::mpsc;
use std::time::Duration;

/// The longest one POST may take, connection included.
pub const POST_WITHIN: Duration = Duration::from_secs(2);

/// POSTs a pending delivery's JSON; what happened, in words.
pub fn post(p: &PendingDelivery) -> String {
    // Only http to a loopback address, and nothing a request line could be split on
    // (checked when the action group was made, and again here: files can be edited).
    if let Err(why) = loopback_url(&p.target) {
        return format!("Failed: {why}");
    }
    let config = ureq::Agent::config_builder()
        .timeout_global(Some(POST_WITHIN))
        .http_status_as_error(false)
        .max_redirects(0)
        .build();
    let agent = ureq::Agent::new_with_config(config);
    match agent
        .post(&p.target)
        .header("Content-Type", "application/json")
        .header("User-Agent", "tde-console-action-group")
        .send(&p.payload)
    {
        Ok(response) => format!("HTTP {}", response.status().as_u16()),
        Err(e) => format!("Failed: {e}"),
    }
}

/// Sends each delivery in turn (on the caller's thread).
pub fn send(pending: &[PendingDelivery]) -> Vec<DeliveryOutcome> {
    pending
        .iter()
        .map(|p| DeliveryOutcome {
            id: p.id,
            result: post(p),
        })
        .collect()
}

/// Sends everything waiting in `ws`'s outbox and records the outcomes, blocking: what the
/// headless shell does after each command. Returns how many were recorded.
pub fn drain(ws: &mut Workspace) -> usize {
    if ws.outbox.is_empty() {
        return 0;
    }
    let pending = ws.outbox.pending.clone();
    let outcomes = send(&pending);
    // Recording cannot be refused (it only moves deliveries from the outbox to the inbox).
    record_deliveries(ws, &outcomes).unwrap_or(0)
}

/// Sends the outbox on a thread of its own, one batch at a time, for an owner of the
/// workspace that must not wait (the window, `serve`). The owner calls [`Courier::poll`]
/// often; it starts a batch when deliveries wait, and hands back the outcomes of a finished
/// batch for the owner to record when it may change the workspace.
#[derive(Default)]
pub struct Courier {
    /// Where the outcomes of the batch being sent arrive.
    in_flight: Option<mpsc::Receiver<Vec<DeliveryOutcome>>>,
    /// Outcomes of a finished batch not recorded yet.
    done: Vec<DeliveryOutcome>,
}

impl Courier {
    /// Whether a batch is being sent or waits to be recorded.
    pub fn busy(&self) -> bool {
        self.in_flight.is_some() || !self.done.is_empty()
    }

    /// Takes in a finished batch's outcomes; records them into `ws` when `may_record` (no
    /// job works on a copy of it); then starts the next batch if deliveries wait. Returns
    /// how many were recorded (the workspace changed when more than none).
    pub fn poll(&mut self, ws: &mut Workspace, may_record: bool) -> usize {
        if let Some(rx) = self.in_flight.take() {
            match rx.try_recv() {
                Ok(outcomes) => self.done.extend(outcomes),
                Err(mpsc::TryRecvError::Empty) => self.in_flight = Some(rx),
                // The thread is gone without an answer: those deliveries are sent again.
                Err(mpsc::TryRecvError::Disconnected) => {}
            }
        }
        let mut recorded = 0;
        if may_record && !self.done.is_empty() {
            let done = std::mem::take(&mut self.done);
            recorded = record_deliveries(ws, &done).unwrap_or(0);
        }
        if self.in_flight.is_none() && self.done.is_empty() && !ws.outbox.is_empty() {
            let batch = ws.outbox.pending.clone();
            let (tx, rx) = mpsc::channel();
            let started = std::thread::Builder::new()
                .name("tde-console-webhooks".into())
                .spawn(move || {
                    let _ = tx.send(send(&batch));
                });
            if started.is_ok() {
                self.in_flight = Some(rx);
            }
        }
        recorded
    }

    /// Forgets the batch in flight and the outcomes not recorded (another workspace was
    /// opened: they belong to the one left).
    pub fn forget(&mut self) {
        self.in_flight = None;
        self.done.clear();
    }
}
