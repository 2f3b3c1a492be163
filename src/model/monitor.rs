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
