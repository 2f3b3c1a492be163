//! A failover storm: a failover group of 500 databases fails over to a server whose
//! protector is an RSA-3072 key in a software vault. Every database opens by really
//! unwrapping its DEK through that vault. Printed in the same run: the time for 500
//! RSA-OAEP-256 unwraps done directly with the same RSA backend on all cores, and the ratio
//! (target: the failover takes no more than 1.3x the direct time).
//! Run with `cargo bench --bench failover_storm`.

mod common;

use common::time;
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use tde_console::crypto::{DataEncryptionKey, RsaKeyMaterial, WrapAlgorithm, par_map};
use tde_console::model::*;
use tde_console::service::failover_group::{self as fg, CreateFailoverGroup};
use tde_console::service::georeplication::{self as geo, CreateReplica};
use tde_console::service::{self, keyvault, sql, tde};

const DATABASES: usize = 500;

fn pem(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(path).expect("fixture")
}

/// Server `name` in `region` with vault `vault` holding the shared RSA-3072 material as its
/// protector.
fn protected_server(ws: &mut Workspace, name: &str, region: &str, vault: &str) {
    let req = sql::CreateServer {
        name: name.into(),
        resource_group: "rg".into(),
        location: Some(region.into()),
        admin_user: "a".into(),
        admin_password: "P@ssw0rd-2026!".into(),
        assign_identity: true,
        kind: ServerKind::SqlDatabaseServer,
    };
    let sm = RsaKeyMaterial::from_pem(&pem("rsa2048-1.pem")).expect("key");
    sql::create_server(ws, &req, sm).expect("server");
    keyvault::create_vault(
        ws,
        &keyvault::CreateVault {
            name: vault.into(),
            resource_group: "rg".into(),
            location: Some(region.into()),
            soft_delete: Some(true),
            purge_protection: true,
            ..Default::default()
        },
    )
    .expect("vault");
    let (_, v) = keyvault::import_pem_key(ws, vault, "tde", KeyType::Rsa, &pem("rsa3072-1.pem"))
        .expect("import");
    let kid = ws.vault(vault).expect("vault").key_uri("tde", &v.version);
    let p = ws
        .server(name)
        .and_then(|s| s.identity.clone())
        .expect("identity")
        .principal_id;
    keyvault::set_access_policy(
        ws,
        vault,
        &p,
        &KeyPermission::TDE_REQUIRED.into_iter().collect(),
    )
    .expect("policy");
    sql::add_server_key(ws, name, &kid).expect("link");
    tde::set_protector(
        ws,
        &tde::SetProtector {
            server: name.into(),
            key_type: ServerKeyType::AzureKeyVault,
            kid: Some(kid),
            auto_rotation: false,
        },
    )
    .expect("protector");
}

/// 500 databases on `p` (East US) replicated to `q` (West US), all in one failover group.
fn estate() -> Workspace {
    let mut ws = service::new_workspace("storm", 11);
    service::resources::create_resource_group(&mut ws, "rg", "eastus").expect("group");
    protected_server(&mut ws, "p", "eastus", "kv-p");
    protected_server(&mut ws, "q", "westus", "kv-q");
    sql::create_database(
        &mut ws,
        &sql::CreateDatabase::new("p", "db0", ServiceTier::GeneralPurpose, 32),
    )
    .expect("db");
    let link = geo::create_replica(
        &mut ws,
        &CreateReplica {
            server: "p".into(),
            database: "db0".into(),
            partner_server: "q".into(),
            partner_database: None,
        },
    )
    .expect("replica");
    // The other 499 pairs: copies of the first (each a real wrapped DEK to unwrap).
    for side in ["p", "q"] {
        let s = ws.server_mut(side).expect("server");
        let template = s.database("db0").expect("db0").clone();
        for i in 1..DATABASES {
            s.databases.push(std::sync::Arc::new(Database {
                name: format!("db{i}"),
                ..template.clone()
            }));
        }
    }
    for i in 1..DATABASES {
        ws.continuity.links.push(ReplicationLink {
            id: format!("link-{i}"),
            primary_database: format!("db{i}"),
            secondary_database: format!("db{i}"),
            ..link.clone()
        });
    }
    fg::create_failover_group(
        &mut ws,
        &CreateFailoverGroup {
            name: "fg-storm".into(),
            server: "p".into(),
            partner_server: "q".into(),
            policy: FailoverPolicy::Manual,
            grace_period_hours: None,
            databases: (0..DATABASES).map(|i| format!("db{i}")).collect(),
        },
    )
    .expect("group");
    ws
}

fn independent(ws: &Workspace) -> Workspace {
    // A clone's request journal is its own (a value): iterations never share one.
    ws.clone()
}

fn failover(ws: &Workspace) {
    let mut w = independent(ws);
    let r = fg::set_group_primary(&mut w, "fg-storm", "q", false).expect("failover");
    assert_eq!(r.databases.len(), DATABASES);
    black_box(w);
}

/// The same unwraps, directly: the wrapped DEKs of the secondaries, the same key material.
fn direct(material: &RsaKeyMaterial, wrapped: &[Vec<u8>]) {
    let deks = par_map(wrapped, |w| {
        let b = material
            .unwrap_key(WrapAlgorithm::RsaOaep256, w)
            .expect("unwrap");
        DataEncryptionKey::from_bytes(&b).expect("dek")
    });
    assert_eq!(deks.len(), DATABASES);
    black_box(deks);
}

fn benches(c: &mut Criterion) {
    let ws = estate();
    let material = RsaKeyMaterial::from_pem(&pem("rsa3072-1.pem")).expect("key");
    let wrapped: Vec<Vec<u8>> = ws
        .server("q")
        .expect("q")
        .databases
        .iter()
        .filter_map(|d| d.dek.as_ref().map(|w| w.wrapped.clone()))
        .collect();
    // Warm up (parse the keys once), then time both the same way, in the same run.
    direct(&material, &wrapped);
    failover(&ws);
    let d = time(5, || direct(&material, &wrapped));
    let f = time(5, || failover(&ws));
    println!(
        "failover_storm: {DATABASES} RSA-OAEP-256 unwraps directly on {} cores: {:.3} s; failover group of {DATABASES} databases (RSA-3072 software vault): {:.3} s; ratio {:.2} (target <= 1.30)",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        d,
        f,
        f / d
    );
    c.bench_function(
        "failover_storm: 500 direct RSA-3072 unwraps on all cores",
        |b| b.iter(|| direct(&material, &wrapped)),
    );
    c.bench_function("failover_storm: fail over a group of 500 databases", |b| {
        b.iter(|| failover(&ws))
    });
}

criterion_group! {
    name = storm;
    config = Criterion::default().sample_size(10).measurement_time(std::time::Duration::from_secs(10));
    targets = benches
}
criterion_main!(storm);
