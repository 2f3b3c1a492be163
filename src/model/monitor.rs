//! Azure Monitor: action groups, activity-log alert rules, and the deliveries they made.

use crate::sim::Timestamp;
use serde::{Deserialize, Serialize};

/// How an action group reaches someone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReceiverKind {
    Email,
    Sms,
    Push,
    Voice,
    Webhook,
    LogicApp,
    Itsm,
    AutomationRunbook,
}

impl ReceiverKind {
    pub const ALL: [ReceiverKind; 8] = [
        ReceiverKind::Email,
        ReceiverKind::Sms,
        ReceiverKind::Push,
        ReceiverKind::Voice,
        ReceiverKind::Webhook,
        ReceiverKind::LogicApp,
        ReceiverKind::Itsm,
        ReceiverKind::AutomationRunbook,
    ];

    /// The word `az monitor action-group create --action` uses.
    pub fn as_str(self) -> &'static str {
        match self {
            ReceiverKind::Email => "email",
            ReceiverKind::Sms => "sms",
            ReceiverKind::Push => "azureapppush",
            ReceiverKind::Voice => "voice",
            ReceiverKind::Webhook => "webhook",
            ReceiverKind::LogicApp => "logicapp",
            ReceiverKind::Itsm => "itsm",
            ReceiverKind::AutomationRunbook => "automationrunbook",
        }
    }

    pub fn parse(text: &str) -> Option<ReceiverKind> {
        ReceiverKind::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(text))
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Receiver {
    pub name: String,
    pub kind: ReceiverKind,
    /// Address, phone number, URL or resource id, as the kind needs.
    pub target: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActionGroup {
    pub name: String,
    pub resource_group: String,
    pub short_name: String,
    pub receivers: Vec<Receiver>,
}

/// An activity-log alert: fires when a record with this operation (and status, if given)
/// appears for a resource under `scope`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlertRule {
    pub name: String,
    pub resource_group: String,
    pub scope: String,
    pub operation_name: String,
    pub status: Option<String>,
    pub action_groups: Vec<String>,
    pub enabled: bool,
}

/// One notification an action group sent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    pub time: Timestamp,
    pub alert_rule: String,
    pub action_group: String,
    pub receiver: String,
    pub kind: ReceiverKind,
    pub target: String,
    /// The common alert schema JSON that was sent.
    pub payload: String,
    /// What happened: "Delivered", "HTTP 200", "Failed: connection refused", ...
    pub result: String,
}

/// The only webhook targets the console delivers to: `http://127.0.0.1:PORT/path` (or
/// localhost, [::1]), with nothing a request line could be split on. Host, port, path; or
/// why not.
pub fn loopback_url(url: &str) -> Result<(String, u16, String), String> {
    let bad = || {
        format!(
            "'{url}' is not allowed: this training console only delivers webhooks over http to a loopback address (http://127.0.0.1:PORT/path, http://localhost:PORT/path or http://[::1]:PORT/path)."
        )
    };
    // Nothing a request line could be split on (CR, LF, spaces, other controls) may reach
    // the wire.
    if url.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(bad());
    }
    let rest = url.strip_prefix("http://").ok_or_else(bad)?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.is_empty() && !p.contains(']') => {
            (h, p.parse::<u16>().map_err(|_| bad())?)
        }
        _ => (authority, 80),
    };
    if !matches!(host, "127.0.0.1" | "localhost" | "[::1]") {
        return Err(bad());
    }
    Ok((host.to_string(), port, path.to_string()))
}

/// The most webhook deliveries waiting to be sent ([`Outbox`]).
pub const OUTBOX_LIMIT: usize = 256;

/// A webhook POST an alert asked for and no client has sent yet: what to send, to whom,
/// and since when. The operations layer only appends these; a client sends them after the
/// operation that fired the alert has committed (a rolled-back operation leaves none) and
/// records what happened as a [`Delivery`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PendingDelivery {
    /// Unique within its outbox (numbered in order).
    pub id: u64,
    /// When the alert fired.
    pub time: Timestamp,
    pub alert_rule: String,
    pub action_group: String,
    pub receiver: String,
    /// The loopback URL.
    pub target: String,
    /// The common alert schema JSON to POST.
    pub payload: String,
}

/// The webhook deliveries waiting for a client to send them, oldest first: plain data, in
/// the workspace (saved with it, so a delivery fired just before the app closed is sent
/// when it opens again). At most [`OUTBOX_LIMIT`]: beyond that a new delivery is not kept
/// but recorded at once as failed (see [`Outbox::push`]), so the inbox says what was lost.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Outbox {
    pub pending: Vec<PendingDelivery>,
    /// The id the next delivery gets.
    pub next_id: u64,
}

impl Outbox {
    /// Appends a delivery (its `id` is set here) and returns its id; when the outbox is
    /// full the delivery is handed back untouched, for the caller to record as failed.
    pub fn push(&mut self, mut d: PendingDelivery) -> Result<u64, Box<PendingDelivery>> {
        if self.pending.len() >= OUTBOX_LIMIT {
            return Err(Box::new(d));
        }
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        d.id = id;
        self.pending.push(d);
        Ok(id)
    }

    /// Takes the pending delivery `id` out, if it is still waiting.
    pub fn take(&mut self, id: u64) -> Option<PendingDelivery> {
        let i = self.pending.iter().position(|p| p.id == id)?;
        Some(self.pending.remove(i))
    }

    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(n: u64) -> PendingDelivery {
        PendingDelivery {
            id: 999,
            time: Timestamp(n as i64),
            alert_rule: "r".into(),
            action_group: "ag".into(),
            receiver: "hook".into(),
            target: "http://127.0.0.1:9/x".into(),
            payload: "{}".into(),
        }
    }

    #[test]
    fn the_outbox_is_bounded_and_numbers_what_it_keeps() {
        let mut o = Outbox::default();
        for n in 0..OUTBOX_LIMIT as u64 {
            assert_eq!(o.push(pending(n)), Ok(n));
        }
        // Full: the next one comes back as it was, and nothing is dropped from the outbox.
        let back = o.push(pending(7)).unwrap_err();
        assert_eq!(*back, pending(7));
        assert_eq!(o.pending.len(), OUTBOX_LIMIT);
        assert_eq!(o.pending[0].time, Timestamp(0));
        // Sent ones make room; ids are not reused.
        assert_eq!(o.take(3).map(|p| p.time), Some(Timestamp(3)));
        assert_eq!(o.take(3), None);
        assert_eq!(o.push(pending(1)), Ok(OUTBOX_LIMIT as u64));
    }
}
