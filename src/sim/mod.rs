//! Simulated time: the clock, the timing profiles, the seeded generator the simulation
//! draws its own choices from, and the queue of scheduled events.
//!
//! Time moves only when the user (or the shell) advances it; behaviour reacts to scheduled
//! events, so a month of simulated time costs the number of events, not the seconds.

mod schedule;
mod time;

pub use schedule::{Schedule, ScheduledEvent, SimEvent};
pub use time::{Duration, Timestamp, parse_iso_duration};

use serde::{Deserialize, Serialize};

/// The service behaviour to simulate: the seed document's (Feb 2021) or today's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum TimingProfile {
    #[default]
    Y2021,
    Current,
}

impl TimingProfile {
    pub fn as_str(self) -> &'static str {
        match self {
            TimingProfile::Y2021 => "2021",
            TimingProfile::Current => "current",
        }
    }

    pub fn parse(text: &str) -> Option<TimingProfile> {
        match text.trim() {
            "2021" => Some(TimingProfile::Y2021),
            "current" => Some(TimingProfile::Current),
            _ => None,
        }
    }

    /// Access restored within this window after a database turned Inaccessible: auto-heal.
    pub fn auto_heal_window(self) -> Duration {
        match self {
            TimingProfile::Y2021 => Duration::hours(8),
            TimingProfile::Current => Duration::minutes(30),
        }
    }

    /// A server with auto-rotation picks up a new key version within this.
    pub fn auto_rotation_window(self) -> Duration {
        match self {
            TimingProfile::Y2021 => Duration::minutes(60),
            TimingProfile::Current => Duration::hours(24),
        }
    }

    /// Soft delete alone (2021) or soft delete and purge protection (current).
    pub fn requires_purge_protection(self) -> bool {
        matches!(self, TimingProfile::Current)
    }

    /// Longest time a revoked permission is still honoured.
    pub const MAX_PERMISSION_PROPAGATION: Duration = Duration::minutes(10);
    /// Longest time between losing key access and the databases turning Inaccessible.
    pub const MAX_DETECTION_DELAY: Duration = Duration::minutes(10);
    /// Under `current`, how long 5XX causes are waited out before databases turn Inaccessible.
    pub const TRANSIENT_BUFFER: Duration = Duration::hours(24);
    /// Auto-heal completes within this after access is back.
    pub const MAX_AUTO_HEAL_DELAY: Duration = Duration::minutes(60);
}

/// The simulated clock and the simulation's own seeded generator.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SimClock {
    pub now: Timestamp,
    pub seed: u64,
    /// How many values have been drawn: the generator's whole state with `seed`.
    pub draws: u64,
}

impl SimClock {
    /// 2026-01-01T09:00:00Z: every new workspace starts here, so scripts replay exactly.
    pub const EPOCH: Timestamp = Timestamp(1_767_258_000);

    pub fn new(seed: u64) -> Self {
        SimClock {
            now: Self::EPOCH,
            seed,
            draws: 0,
        }
    }

    /// The next value of a splitmix64 stream over (seed, draws).
    pub fn next_u64(&mut self) -> u64 {
        self.draws = self.draws.wrapping_add(1);
        let mut z = self
            .seed
            .wrapping_add(self.draws.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A delay drawn uniformly from `[min, max]` seconds.
    pub fn draw_delay(&mut self, min: Duration, max: Duration) -> Duration {
        let span = (max.0 - min.0).max(0) as u64 + 1;
        Duration(min.0 + (self.next_u64() % span) as i64)
    }

    /// 16 bytes for simulated identifiers (GUIDs, version ids): replayable, not secret.
    pub fn draw_bytes16(&mut self) -> [u8; 16] {
        let a = self.next_u64().to_le_bytes();
        let b = self.next_u64().to_le_bytes();
        let mut out = [0u8; 16];
        out[..8].copy_from_slice(&a);
        out[8..].copy_from_slice(&b);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_replays() {
        let mut a = SimClock::new(7);
        let mut b = SimClock::new(7);
        let xs: Vec<u64> = (0..5).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..5).map(|_| b.next_u64()).collect();
        assert_eq!(xs, ys);
        let d = a.draw_delay(Duration::minutes(1), Duration::minutes(10));
        assert!(d >= Duration::minutes(1) && d <= Duration::minutes(10));
    }
}
