//! tde-console: a desktop console that simulates Azure SQL Transparent Data Encryption with
//! customer-managed keys in Azure Key Vault, with real cryptography.
//!
//! Layers, each using only those below it:
//! `ui` and `shell` (clients) -> `service` (the operations layer) and `persist` -> `model`
//! -> `crypto` and `sim`.

pub mod crypto;
pub mod model;
pub mod persist;
pub mod service;
pub mod shell;
pub mod sim;
pub mod ui;
