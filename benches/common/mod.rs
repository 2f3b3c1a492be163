//! Timing helpers shared by the benchmarks that print their own figures beside criterion's.
#![allow(dead_code)]

use std::time::Instant;

pub fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

/// Median wall time of `runs` calls of `f`, in seconds.
pub fn time(runs: usize, mut f: impl FnMut()) -> f64 {
    median(
        (0..runs)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64()
            })
            .collect(),
    )
}

/// The estate of the scale targets, as `sim generate --servers 100 --databases-per-server 500
/// --vaults 50 --key-size KEY_SIZE` builds it: 50,000 databases. Prints what it built.
pub fn estate_of_50_000(
    key_size: usize,
) -> (
    tde_console::model::Workspace,
    tde_console::service::estate::EstateReport,
) {
    use tde_console::service::estate::{self, EstateSpec};
    let t = Instant::now();
    let mut ws = tde_console::service::new_workspace("estate", 42);
    let spec = EstateSpec {
        servers: 100,
        databases_per_server: 500,
        vaults: 50,
        key_size,
        seed: 1,
    };
    let r = estate::generate(&mut ws, &spec, &tde_console::service::OsKeySource).expect("generate");
    println!(
        "generated {} servers, {} vaults, {} databases ({} with their own key, RSA {key_size}) in {:.1} s on {} cores",
        r.servers.len(),
        r.vaults.len(),
        r.databases,
        r.database_level_keys,
        t.elapsed().as_secs_f64(),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    (ws, r)
}
