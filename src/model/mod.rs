//! Plain data: everything a workspace file holds, and the invariants that hold between the parts.
//!
//! Nothing here reads the clock, touches a file or draws a pixel. The operations layer
//! (`crate::service`) is the only code that changes these values.

pub mod continuity;
pub mod customer_app;
pub mod ids;
pub mod journal;
pub mod monitor;
pub mod retention;
pub mod secret;
pub mod sql;
pub mod synapse;

pub mod topology;
pub mod vault;
pub mod workspace;

pub use crate::sim::{Duration, Timestamp};
pub use continuity::*;
pub use customer_app::{CustomerApp, SampleOutcome, SampleRun};
pub use ids::*;
pub use journal::*;
pub use monitor::*;
pub use retention::{BackupEntry, parse_retention};
pub use secret::*;
pub use sql::*;
pub use synapse::*;
pub use topology::*;
pub use vault::*;
pub use workspace::*;

/// For `skip_serializing_if`: a counter still at zero.
pub fn is_zero(n: &u32) -> bool {
    *n == 0
}
