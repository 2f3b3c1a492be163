//! Files on disk, in one test binary: workspace files (`persist`: round trip, atomic save,
//! bad files) and files that hold key material (`files`: never clobbered, never readable by
//! others, bounded reads, a process killed during a save, two processes saving one workspace).

#[path = "../common/mod.rs"]
mod common;

mod files;
mod persist;
