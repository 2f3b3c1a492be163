//! Durability at scale (issue 21): what making one acknowledged REST change durable adds on a
//! workspace of 50,000 databases (100 servers x 500, 50 vaults) — the change's delta
//! computed, appended to the workspace's log and fsync'd, as `tde-console serve` does before
//! it answers. Target: at most 2 ms added at the median. Printed with its figures:
//! - the cost of `Store::record` after a key created through the REST handler
//!   (`POST /keys/NAME/create`), each request on the next vault (one vault admits 20
//!   creations a window);
//! - the same after a request that only reads (`GET /keys/NAME`: the audit record);
//! - a whole-file save, for comparison (what a save per request would cost).
//!
//! Run with `cargo bench --bench durability` (about a minute; a temporary file of ~150 MB).

mod common;

use common::{estate_of_50_000, median};
use criterion::Criterion;
use std::time::Instant;
use tde_console::crypto::{KeyMaterial, RsaKeyMaterial};
use tde_console::model::Workspace;
use tde_console::persist::store::Store;
use tde_console::vault_endpoint::http::Request;
use tde_console::vault_endpoint::rest::{self, Call, Outcome};
use tde_console::vault_endpoint::{Bearer, token_for, wall_now};

fn request(method: &str, path: &str, token: &str, body: &str) -> Request {
    Request {
        method: method.into(),
        path: path.into(),
        query: vec![("api-version".into(), "7.5".into())],
        headers: vec![
            ("Authorization".into(), format!("Bearer {token}")),
            ("User-Agent".into(), "durability-bench/1.0".into()),
        ],
        body: body.as_bytes().to_vec(),
        close: false,
    }
}

/// Answers a request as a connection does (making key material when it asks for some);
/// returns the status.
fn answer(ws: &mut Workspace, vault: &str, r: &Request, material: &RsaKeyMaterial) -> u16 {
    let key = ws.backup_root.token_signing_key();
    let base = "https://127.0.0.1:8443/";
    let mut m = None;
    for _ in 0..2 {
        let call = Call {
            vault,
            base,
            request: r,
            material: m.take(),
            token_key: &key,
            wall_now: wall_now(),
        };
        match rest::handle(ws, call) {
            Outcome::Done(resp) => return resp.status,
            Outcome::NeedsMaterial(_) => m = Some(KeyMaterial::Rsa(material.clone())),
        }
    }
    0
}

fn main() {
    let mut c = Criterion::default().sample_size(10).configure_from_args();
    let (ws, r) = estate_of_50_000(2048);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("estate.ron");
    let t = Instant::now();
    tde_console::persist::save(&ws, &path).expect("save");
    let save = t.elapsed().as_secs_f64();
    let size = std::fs::metadata(&path).map_or(0, |m| m.len());

    let (mut store, opened) = Store::open(&path, None, || unreachable!()).expect("open");
    let mut ws = opened.ws;
    let token = token_for(&ws, &Bearer::ConsoleUser, 3600).expect("token");
    let material = RsaKeyMaterial::generate(2048).expect("a key");
    let (mut creates, mut reads, mut whole) = (Vec::new(), Vec::new(), Vec::new());
    for (i, vault) in r.vaults.iter().enumerate() {
        let create = request(
            "POST",
            &format!("/keys/durable-{i}/create"),
            &token,
            r#"{"kty":"RSA","key_size":2048}"#,
        );
        // Ten simulated seconds pass between requests, as `serve` lets the clock follow
        // the wall clock: a new throttling window (and whatever falls due) each time.
        let _ = tde_console::service::behaviour::advance_with(
            &mut ws,
            tde_console::sim::Duration::seconds(10),
            &tde_console::service::OsKeySource,
        );
        let t = Instant::now();
        let status = answer(&mut ws, vault, &create, &material);
        let handled = t.elapsed().as_secs_f64();
        assert_eq!(status, 200, "create on {vault}");
        let t = Instant::now();
        assert!(store.record(&ws).expect("logged"));
        let logged = t.elapsed().as_secs_f64();
        creates.push(logged);
        whole.push(handled + logged);
        let read = request("GET", &format!("/keys/durable-{i}"), &token, "");
        assert_eq!(
            answer(&mut ws, vault, &read, &material),
            200,
            "read on {vault}"
        );
        let t = Instant::now();
        assert!(store.record(&ws).expect("logged"));
        reads.push(t.elapsed().as_secs_f64());
    }
    let n = creates.len();
    let (create, read, total) = (median(creates), median(reads), median(whole));
    let log_len =
        std::fs::metadata(tde_console::persist::wal::path_for(&path)).map_or(0, |m| m.len());
    println!(
        "durability: one acknowledged key creation at 50,000 databases: {:.2} ms added to make it durable (median of {n}; target <= 2 ms) {}",
        create * 1e3,
        if create <= 0.002 {
            "[meets target]"
        } else {
            "[MISSES TARGET]"
        }
    );
    println!(
        "durability: one audited read made durable: {:.2} ms (median of {n}); request + durability: {:.2} ms",
        read * 1e3,
        total * 1e3
    );
    println!(
        "durability: the log after {} entries: {:.1} KB; a whole-file save instead: {:.2} s for {:.0} MB",
        2 * n,
        log_len as f64 / 1e3,
        save,
        size as f64 / 1e6
    );
    // Replay: reopening the file with its log gives the same workspace.
    let t = Instant::now();
    let back = tde_console::persist::load(&path).expect("reopen");
    println!(
        "durability: reopen with {} logged changes: {:.2} s; same workspace: {}",
        2 * n,
        t.elapsed().as_secs_f64(),
        back == ws
    );
    c.bench_function(
        "durability: log one changed vault at 50,000 databases",
        |b| {
            let mut i = 0u64;
            b.iter(|| {
                i += 1;
                if let Some(v) = ws.vaults.first_mut() {
                    v.retention_days = 7 + (i % 80) as u16;
                }
                store.record(&ws).expect("logged")
            })
        },
    );
}
