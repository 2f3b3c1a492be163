//! What a client connecting to a database now would see: its state (Online, Inaccessible,
//! Recovering, Restoring) and what the platform adds on top (a region outage makes an
//! Online database refuse every connection with 40613). The Query editor, `sim connect`,
//! Resource Health and every status mark in the console read it from here, so they agree.

use super::{ServiceError, ServiceResult};
use crate::model::*;

/// A database's effective availability, as a client connecting now finds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Availability {
    /// Connections work.
    Online,
    /// The database lost access to its key (refuses with 40613 until access is back).
    Inaccessible {
        /// Access came back after the auto-heal window: only "Revalidate key" helps.
        revalidation_required: bool,
    },
    /// "Revalidate key" was accepted: coming back by itself at `until`.
    Recovering { until: Timestamp },
    /// Being created by a restore, ready at `until`.
    Restoring { until: Timestamp },
    /// A dedicated SQL pool whose compute is paused: connections are refused (40613)
    /// until it is resumed.
    Paused,
    /// Its server's region is down: nothing is wrong with the database or its key, but
    /// connections fail (40613) until `until`.
    RegionOutage { region: String, until: Timestamp },
}

impl Availability {
    /// A word for the state, as the portal's Status column writes it.
    pub fn label(&self) -> &'static str {
        match self {
            Availability::Online => "Online",
            Availability::Inaccessible { .. } => "Inaccessible",
            Availability::Recovering { .. } => "Recovering",
            Availability::Restoring { .. } => "Restoring",
            Availability::RegionOutage { .. } => "Unavailable",
            Availability::Paused => "Paused",
        }
    }

    pub fn is_online(&self) -> bool {
        matches!(self, Availability::Online)
    }

    /// Whether someone has to act (or at least look): a lost key, or a region that is down.
    /// A restore or a recovery under way is progress, not a problem.
    pub fn needs_attention(&self) -> bool {
        matches!(
            self,
            Availability::Inaccessible { .. } | Availability::RegionOutage { .. }
        )
    }

    /// Resource Health as it follows from the state: Unavailable while connections are
    /// refused for a reason that is not progress (a lost key, a recovery, a region outage);
    /// Unknown while a restore creates the database (nothing reports on it yet, and
    /// "Available" beside a refused connection would mislead).
    pub fn health(&self) -> ResourceHealth {
        match self {
            Availability::Restoring { .. } => ResourceHealth::Unknown,
            Availability::Online | Availability::Paused => ResourceHealth::Available,
            Availability::Inaccessible { .. }
            | Availability::Recovering { .. }
            | Availability::RegionOutage { .. } => ResourceHealth::Unavailable,
        }
    }

    /// One sentence on why a connection is refused (`None`: it is not).
    pub fn reason(&self) -> Option<String> {
        match self {
            Availability::Online => None,
            Availability::Inaccessible {
                revalidation_required: true,
            } => Some(
                "the database is Inaccessible: access to its key came back after the auto-heal window and the key must be revalidated".into(),
            ),
            Availability::Inaccessible { .. } => {
                Some("the database is Inaccessible: it cannot access its TDE protector".into())
            }
            Availability::Recovering { until } => Some(format!(
                "the key was revalidated and the database is being brought back online (until about {until})"
            )),
            Availability::Restoring { until } => {
                Some(format!("the database is being restored (until about {until})"))
            }
            Availability::RegionOutage { region, until } => Some(format!(
                "region {region} is down until {until}: the server does not serve"
            )),
            Availability::Paused => {
                Some("the dedicated SQL pool is paused: resume it to connect".into())
            }
        }
    }
}

/// The effective availability of database `d` of server `s` now.
pub fn availability(ws: &Workspace, s: &SqlServer, d: &Database) -> Availability {
    match &d.state {
        DatabaseState::Inaccessible {
            revalidation_required,
            ..
        } => {
            return Availability::Inaccessible {
                revalidation_required: *revalidation_required,
            };
        }
        DatabaseState::Paused { .. } => return Availability::Paused,
        DatabaseState::Online
        | DatabaseState::Recovering { .. }
        | DatabaseState::Restoring { .. } => {}
    }
    if let Some(o) = ws.continuity.region_outage(&s.location, ws.now()) {
        return Availability::RegionOutage {
            region: o.region.clone(),
            until: o.until,
        };
    }
    match &d.state {
        DatabaseState::Recovering { until, .. } => Availability::Recovering { until: *until },
        DatabaseState::Restoring { until, .. } => Availability::Restoring { until: *until },
        _ => Availability::Online,
    }
}

/// The effective availability of `db` on `server_name` (an error when either is gone).
pub fn database_availability(
    ws: &Workspace,
    server_name: &str,
    db: &str,
) -> ServiceResult<Availability> {
    let s = super::lookup::server(ws, server_name)?;
    let d = s
        .database(db)
        .ok_or_else(|| ServiceError::database_not_found(server_name, db))?;
    Ok(availability(ws, s, d))
}

/// What a client connecting now gets before any page is read: nothing (it may go on), or
/// the service's refusal (error 40613).
pub fn check_connect(ws: &Workspace, server_name: &str, db: &str) -> ServiceResult<()> {
    let s = super::lookup::server(ws, server_name)?;
    let d = s
        .database(db)
        .ok_or_else(|| ServiceError::database_not_found(server_name, db))?;
    if availability(ws, s, d).is_online() {
        Ok(())
    } else {
        Err(ServiceError::database_unavailable(server_name, &d.name))
    }
}

/// Resource Health of `d` as the portal shows it now: what the service recorded, and
/// Unavailable whenever the effective state refuses connections for a reason that is not
/// progress (a region outage records nothing on the database, a file from before health
/// followed the state may still say Available on an Inaccessible database).
pub fn health(ws: &Workspace, s: &SqlServer, d: &Database) -> ResourceHealth {
    match availability(ws, s, d).health() {
        ResourceHealth::Available => d.health,
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::{behaviour, outage};
    use crate::sim::Duration;

    fn demo() -> Workspace {
        crate::persist::demo().expect("the demo loads")
    }

    #[test]
    fn a_region_outage_makes_online_databases_unavailable_then_they_come_back() {
        let mut ws = demo();
        let server = ws.servers[0].name.clone();
        let region = ws.servers[0].location.clone();
        let db = ws.servers[0].databases[0].name.clone();
        assert_eq!(
            database_availability(&ws, &server, &db).unwrap(),
            Availability::Online
        );
        outage::start_region_outage(&mut ws, &region, 60).unwrap();
        let a = database_availability(&ws, &server, &db).unwrap();
        assert!(matches!(a, Availability::RegionOutage { .. }), "{a:?}");
        assert!(a.needs_attention());
        assert_eq!(a.health(), ResourceHealth::Unavailable);
        assert_eq!(check_connect(&ws, &server, &db).unwrap_err().code, "40613");
        behaviour::advance(&mut ws, Duration::minutes(61)).unwrap();
        assert_eq!(
            database_availability(&ws, &server, &db).unwrap(),
            Availability::Online
        );
        assert!(check_connect(&ws, &server, &db).is_ok());
    }

    #[test]
    fn restoring_and_recovering_are_progress_not_problems() {
        let until = Timestamp(100);
        for a in [
            Availability::Restoring { until },
            Availability::Recovering { until },
        ] {
            assert!(!a.needs_attention());
            assert!(!a.is_online());
        }
        assert!(
            Availability::Inaccessible {
                revalidation_required: false
            }
            .needs_attention()
        );
    }
}
