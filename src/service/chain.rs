//! The failure chain of each server with a customer-managed key, as the presenter view's
//! strip narrates it while the clock plays: what happened, what is happening now, and what
//! comes next with the time it comes ("policy removed → propagating → server notices →
//! 4 databases Inaccessible → auto-heal window closes in 7 h 50 m").
//!
//! Only a reading of the workspace (its state and its scheduled events): nothing here
//! changes anything. A server that uses its key without trouble has no chain.

use crate::model::*;
use crate::sim::{Duration, SimEvent, TimingProfile};

/// Where a step stands against the simulated clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepState {
    /// It has happened.
    Done,
    /// It is happening now (the step the class is waiting on).
    Now,
    /// It will happen if nothing is done.
    Next,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    pub state: StepState,
    pub text: String,
}

/// One server's chain, first step first.
#[derive(Clone, Debug, PartialEq)]
pub struct Chain {
    pub server: String,
    pub steps: Vec<Step>,
}

fn step(state: StepState, text: impl Into<String>) -> Step {
    Step {
        state,
        text: text.into(),
    }
}

/// `in 7 h 50 m` (or `now`).
fn in_(d: Duration) -> String {
    if d.0 <= 0 {
        "now".into()
    } else {
        format!("in {}", spaced(d))
    }
}

/// `7 h 50 m`: the minutes a class reads from a seat (seconds only under a minute).
fn spaced(d: Duration) -> String {
    let s = d.0.max(0);
    let (days, h, m) = (s / 86_400, s % 86_400 / 3600, s % 3600 / 60);
    let mut parts = Vec::new();
    if days > 0 {
        parts.push(format!("{days} d"));
    }
    if h > 0 {
        parts.push(format!("{h} h"));
    }
    if m > 0 || (days == 0 && h == 0 && s >= 60) {
        parts.push(format!("{m} m"));
    }
    if parts.is_empty() {
        parts.push(format!("{s} s"));
    }
    parts.join(" ")
}

/// Every server's chain, in the workspace's order of servers.
pub fn chains(ws: &Workspace) -> Vec<Chain> {
    ws.servers.iter().filter_map(|s| chain(ws, s)).collect()
}

fn plural(n: usize, one: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {one}s")
    }
}

/// The chain of one server's TDE protector, when it is in trouble (or about to be).
pub fn chain(ws: &Workspace, s: &SqlServer) -> Option<Chain> {
    let now = ws.now();
    let uri = s.protector_uri()?;
    let window = ws.profile.auto_heal_window();
    let follows = |d: &&std::sync::Arc<Database>| d.encryption_protector.is_none();
    // Every Inaccessible database of the server (those with keys of their own in the same
    // vault included), so the strip and the server's box give one number.
    let inaccessible: Vec<(Timestamp, Option<Timestamp>, bool)> = s
        .databases
        .iter()
        .filter_map(|d| match &d.state {
            DatabaseState::Inaccessible {
                since,
                access_restored_at,
                revalidation_required,
                ..
            } => Some((*since, *access_restored_at, *revalidation_required)),
            _ => None,
        })
        .collect();
    let recovering: Vec<Timestamp> = s
        .databases
        .iter()
        .filter(follows)
        .filter_map(|d| match &d.state {
            DatabaseState::Recovering { until, .. } => Some(*until),
            _ => None,
        })
        .collect();
    let access = super::key_access::protector_access(ws, &s.name);
    let mut steps = Vec::new();
    // A removed permission that has not reached the vault's replicas yet.
    let principal = ws.key_vault_identity(s).map(|i| i.principal_id.clone());
    let pending = ws
        .vault(&uri.vault)
        .into_iter()
        .flat_map(|v| v.pending_revocations.iter())
        .filter(|p| p.effective_at > now && Some(&p.object_id) == principal.as_ref())
        .map(|p| p.effective_at)
        .min();
    let notice_at = ws
        .schedule
        .events
        .iter()
        .filter(|e| {
            matches!(&e.event, SimEvent::ProtectorCheck { server, database: None }
                if server.eq_ignore_ascii_case(&s.name))
        })
        .map(|e| e.at)
        .min();
    let heal_at = ws
        .schedule
        .events
        .iter()
        .filter(|e| {
            matches!(&e.event, SimEvent::AutoHeal { server } if server.eq_ignore_ascii_case(&s.name))
        })
        .map(|e| e.at)
        .min();
    let vault = &uri.vault;
    let dbs = s.databases.iter().filter(follows).count();
    match (&access, pending) {
        (Ok(()), Some(at)) if inaccessible.is_empty() => {
            steps.push(step(StepState::Done, format!("Access to {vault} removed")));
            steps.push(step(
                StepState::Now,
                format!(
                    "Propagating (up to {} min): takes effect {}",
                    TimingProfile::MAX_PERMISSION_PROPAGATION.0 / 60,
                    in_(at - now)
                ),
            ));
            steps.push(step(StepState::Next, "Server notices (1–10 min)"));
            steps.push(step(
                StepState::Next,
                format!("{} Inaccessible", plural(dbs, "database")),
            ));
            steps.push(step(
                StepState::Next,
                format!("Auto-heal window {}", spaced(window)),
            ));
        }
        (Err(cause), _) if inaccessible.is_empty() => {
            steps.push(step(
                StepState::Done,
                format!("Key unusable: {}", cause.code()),
            ));
            match notice_at {
                Some(at)
                    if cause.is_transient() && at - now > TimingProfile::MAX_DETECTION_DELAY =>
                {
                    steps.push(step(
                        StepState::Now,
                        format!(
                            "Transient: the service waits it out, checks again {}",
                            in_(at - now)
                        ),
                    ))
                }
                Some(at) => steps.push(step(
                    StepState::Now,
                    format!("Server notices {}", in_(at - now)),
                )),
                None => steps.push(step(StepState::Now, "Server notices (1–10 min)")),
            }
            steps.push(step(
                StepState::Next,
                format!("{} Inaccessible", plural(dbs, "database")),
            ));
            steps.push(step(
                StepState::Next,
                format!("Auto-heal window {}", spaced(window)),
            ));
        }
        _ if !inaccessible.is_empty() => {
            let first = inaccessible.iter().map(|i| i.0).min().unwrap_or(now);
            let closes = first + window;
            match &access {
                Err(cause) => steps.push(step(
                    StepState::Done,
                    format!("Key unusable: {}", cause.code()),
                )),
                Ok(()) => steps.push(step(StepState::Done, "Key access lost")),
            }
            steps.push(step(
                StepState::Done,
                format!(
                    "{} Inaccessible since {}",
                    plural(inaccessible.len(), "database"),
                    first.clock_time()
                ),
            ));
            let restored = inaccessible.iter().filter_map(|i| i.1).max();
            let revalidate = inaccessible.iter().any(|i| i.2);
            match (&access, restored) {
                (Ok(()), Some(back)) if !revalidate => {
                    steps.push(step(
                        StepState::Done,
                        format!("Access restored at {}", back.clock_time()),
                    ));
                    steps.push(step(
                        StepState::Now,
                        match heal_at {
                            Some(at) => format!("Auto-heal: databases Online {}", in_(at - now)),
                            None => "Auto-heal: databases come back (within 1 h)".into(),
                        },
                    ));
                }
                _ if revalidate || now >= closes => {
                    steps.push(step(
                        StepState::Done,
                        format!("Auto-heal window closed at {}", closes.clock_time()),
                    ));
                    steps.push(step(
                        StepState::Now,
                        if access.is_ok() {
                            "Access is back: Revalidate key brings them Online"
                        } else {
                            "Restore access, then Revalidate key"
                        },
                    ));
                }
                _ => {
                    steps.push(step(
                        StepState::Now,
                        format!(
                            "Auto-heal window closes {} ({})",
                            in_(closes - now),
                            closes.clock_time()
                        ),
                    ));
                    steps.push(step(
                        StepState::Next,
                        "After it: Revalidate key, settings lost",
                    ));
                }
            }
        }
        _ if !recovering.is_empty() => {
            let until = recovering.iter().copied().max().unwrap_or(now);
            steps.push(step(StepState::Done, "Revalidate key accepted"));
            steps.push(step(
                StepState::Now,
                format!(
                    "{} recovering: Online {}",
                    plural(recovering.len(), "database"),
                    in_(until - now)
                ),
            ));
        }
        _ => return None,
    }
    Some(Chain {
        server: s.name.clone(),
        steps,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_a_class_reads_them() {
        assert_eq!(spaced(Duration::minutes(470)), "7 h 50 m");
        assert_eq!(spaced(Duration(45)), "45 s");
        assert_eq!(spaced(Duration::days(1)), "1 d");
        assert_eq!(in_(Duration(0)), "now");
        assert_eq!(in_(Duration::minutes(6)), "in 6 m");
    }

    fn texts(ws: &Workspace) -> Vec<(StepState, String)> {
        chains(ws)
            .into_iter()
            .flat_map(|c| c.steps)
            .map(|s| (s.state, s.text))
            .collect()
    }

    #[test]
    fn a_revocation_is_narrated_from_propagation_to_the_closed_window() {
        let mut ws = crate::persist::demo().expect("the demo loads");
        assert!(chains(&ws).is_empty(), "every server can use its key");
        let principal = ws
            .server("sql-contoso-us")
            .and_then(|s| s.identity.as_ref())
            .map(|i| i.principal_id.clone())
            .expect("the demo server has an identity");
        crate::service::keyvault::access::delete_access_policy(
            &mut ws,
            "kv-contoso-us",
            &principal,
        )
        .expect("the policy goes");
        let steps = texts(&ws);
        assert_eq!(
            steps[0],
            (StepState::Done, "Access to kv-contoso-us removed".into())
        );
        assert_eq!(steps[1].0, StepState::Now);
        assert!(
            steps[1]
                .1
                .starts_with("Propagating (up to 10 min): takes effect in")
        );
        assert!(steps.iter().skip(2).all(|s| s.0 == StepState::Next));
        // Past the propagation and the server's check: Inaccessible, the window counting.
        crate::service::behaviour::advance(&mut ws, Duration::minutes(25)).expect("advances");
        let steps = texts(&ws);
        let inaccessible = steps
            .iter()
            .find(|s| s.1.contains("Inaccessible since"))
            .expect("the databases are Inaccessible");
        assert_eq!(inaccessible.0, StepState::Done);
        let now = steps
            .iter()
            .find(|s| s.0 == StepState::Now)
            .expect("a step now");
        assert!(
            now.1.starts_with("Auto-heal window closes in 7 h"),
            "{now:?}"
        );
        // Past the window: it says it closed and what brings the databases back.
        crate::service::behaviour::advance(&mut ws, Duration::hours(8)).expect("advances");
        let steps = texts(&ws);
        assert!(
            steps
                .iter()
                .any(|s| s.1.starts_with("Auto-heal window closed at"))
        );
        assert!(steps.contains(&(StepState::Now, "Restore access, then Revalidate key".into())));
    }
}
