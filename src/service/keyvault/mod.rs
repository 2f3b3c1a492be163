//! Key Vault: vaults, access policies, keys and key versions, and the data-plane calls
//! (wrapKey / unwrapKey) that check who is calling, one file per job:
//! - [`vaults`]: the vault lifecycle (create, show, protection, delete, recover, purge, move);
//! - [`access`]: access policies and the firewall;
//! - [`keys`]: keys and versions (create, attributes, delete, recover, purge, backup, restore);
//! - [`import`]: importing key material (PEM, PFX, BYOK, EC);
//! - [`data_plane`] (tier 1): who may use a key, and wrap / unwrap / get with every check.
//!
//! The operations are re-exported here, so callers outside the operations layer keep
//! `service::keyvault::create_key`; modules inside it import from the file that defines
//! what they use (see `docs/architecture.md`).

pub mod access;
pub mod data_plane;
pub mod import;
pub mod keys;
pub mod vaults;

pub use access::*;
pub use data_plane::*;
pub use import::*;
pub use keys::*;
pub use vaults::*;
