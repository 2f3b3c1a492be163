//! tde-console: a desktop console that simulates Azure SQL Transparent Data Encryption with
//! customer-managed keys in Azure Key Vault, with real cryptography.
//!
//! Layers, each using only those below it:
//! `ui` and `shell` (clients) -> `service` (the operations layer) and `persist` -> `model`
//! -> `crypto` and `sim`. `scenario` (guided exercises) sits beside the clients: it starts
//! from the demo with the shell and checks its goals against the model.
//!
//! The shell is the quickest way in: it runs Azure CLI lines against a workspace.
//!
//! ```
//! use tde_console::{service, shell::Shell};
//!
//! let mut ws = service::new_workspace("example", 1);
//! let mut sh = Shell::new();
//! let out = sh.run_script(&mut ws, "az group create --name rg --location westeurope --query location -o tsv", false);
//! assert_eq!(out.stdout, "westeurope\n");
//! let r = sh.run_line(&mut ws, "az sql server show --name nope");
//! assert!(r.stderr.starts_with("ERROR: (ResourceNotFound)"));
//! ```

#[cfg(test)]
mod architecture_test;
pub mod arm_endpoint;
pub mod crypto;
pub mod model;
pub mod persist;
pub mod scenario;
pub mod service;
pub mod shell;
pub mod sim;
pub mod ui;
pub mod vault_endpoint;
pub mod webhook_delivery;
pub mod webhook_receiver;
