//! Operations-layer and shell tests, one module per concern, in one test binary (every
//! integration-test binary links eframe and wgpu, so each costs a link; see the README's
//! "Tests" section for the six binaries). Shared helpers are in `tests/common/`.
//!
//! The tests of every module run on the same threads of one process: none of them may
//! change process-wide state (environment variables, the current directory). What one
//! process keeps for all is shared: the webhook receivers of `sim webhook listen` (at most 8
//! a process; here only the walk of the monitoring-webhook scenario starts one).

#[path = "../common/mod.rs"]
mod common;

mod cli_exactness;
mod continuity;
mod cross_tenant;
mod database_key;
mod estate;
mod identities;
mod infrastructure;
mod lifecycle;
mod managed_instance;
mod monitoring;
mod ms_samples;
mod operations;
mod pwsh;
mod rotation;
mod scenarios;
mod shell;
mod storm;
mod subscriptions;
mod vault_governance;
