//! The local Key Vault endpoint (`tde-console serve`): the REST handler and the server over
//! TLS on 127.0.0.1 (`vault_endpoint`), and the real Azure SDK for Python and the real az
//! CLI against it (`sdk`), in one test binary.

#[path = "../common/mod.rs"]
mod common;

mod sdk;
mod vault_endpoint;
