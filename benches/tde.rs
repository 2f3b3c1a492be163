//! Benchmarks of the operations whose speed a user feels: re-wrapping every DEK when the
//! protector changes, page encryption, a month of simulated time, saving a workspace.
//! Run with `cargo bench`; criterion prints the figures.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use tde_console::crypto::{DataEncryptionKey, PAGE_SIZE, RsaKeyMaterial};
use tde_console::model::*;
use tde_console::service::{self, behaviour, keyvault, sql, tde};
use tde_console::sim::Duration;

fn key(name: &str) -> RsaKeyMaterial {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    RsaKeyMaterial::from_pem(&std::fs::read_to_string(path).expect("fixture")).expect("fixture key")
}

/// A server with `n` databases and a 3072-bit Key Vault key linked to it.
fn server_with(n: usize) -> (Workspace, String) {
    let mut ws = service::new_workspace("bench", 3);
    service::resources::create_resource_group(&mut ws, "rg", "eastus").expect("group");
    let req = sql::CreateServer {
        name: "s".into(),
        resource_group: "rg".into(),
        location: None,
        admin_user: "a".into(),
        admin_password: "P@ssw0rd-2026!".into(),
        assign_identity: true,
        kind: ServerKind::SqlDatabaseServer,
    };
    sql::create_server(&mut ws, &req, key("rsa2048-1.pem")).expect("server");
    for i in 0..n {
        sql::create_database(
            &mut ws,
            &sql::CreateDatabase::new("s", &format!("db{i}"), ServiceTier::GeneralPurpose, 32),
        )
        .expect("db");
    }
    keyvault::create_vault(
        &mut ws,
        &keyvault::CreateVault {
            name: "kv-bench".into(),
            resource_group: "rg".into(),
            soft_delete: Some(true),
            purge_protection: true,
            ..Default::default()
        },
    )
    .expect("vault");
    let (_, v) = keyvault::create_key(
        &mut ws,
        &keyvault::CreateKey::new("kv-bench", "k", KeyType::Rsa, 3072),
        key("rsa3072-1.pem"),
    )
    .expect("key");
    let kid = ws
        .vault("kv-bench")
        .expect("vault")
        .key_uri("k", &v.version);
    let p = ws
        .server("s")
        .and_then(|s| s.identity.clone())
        .expect("identity")
        .principal_id;
    keyvault::set_access_policy(
        &mut ws,
        "kv-bench",
        &p,
        &KeyPermission::TDE_REQUIRED.into_iter().collect(),
    )
    .expect("policy");
    sql::add_server_key(&mut ws, "s", &kid).expect("server key");
    (ws, kid)
}

/// A copy with its own request journal (every clone's is: the journal is a value), so
/// iterations never fill each other's vault throttling windows and get 429s.
fn independent(ws: &Workspace) -> Workspace {
    ws.clone()
}

fn benches(c: &mut Criterion) {
    let (ws, kid) = server_with(50);
    c.bench_function(
        "set protector: re-wrap 50 DEKs (service-managed -> RSA-3072 in Key Vault)",
        |b| {
            b.iter(|| {
                let mut w = independent(&ws);
                tde::set_protector(
                    &mut w,
                    &tde::SetProtector {
                        server: "s".into(),
                        key_type: ServerKeyType::AzureKeyVault,
                        kid: Some(kid.clone()),
                        auto_rotation: false,
                    },
                )
                .expect("set");
                black_box(w);
            })
        },
    );

    let dek = DataEncryptionKey::generate();
    let page = vec![7u8; PAGE_SIZE];
    let enc = dek.encrypt_page(0, &page).expect("encrypt");
    c.bench_function("AES-256-GCM encrypt one 8 KiB page", |b| {
        b.iter(|| black_box(dek.encrypt_page(1, &page)))
    });
    c.bench_function("AES-256-GCM decrypt one 8 KiB page", |b| {
        b.iter(|| black_box(dek.decrypt_page(&enc)))
    });

    let (mut protected, kid) = server_with(10);
    tde::set_protector(
        &mut protected,
        &tde::SetProtector {
            server: "s".into(),
            key_type: ServerKeyType::AzureKeyVault,
            kid: Some(kid),
            auto_rotation: false,
        },
    )
    .expect("set");
    c.bench_function(
        "advance 30 simulated days through a revocation and an auto-heal (10 databases)",
        |b| {
            b.iter(|| {
                let mut w = independent(&protected);
                let p = w
                    .server("s")
                    .and_then(|s| s.identity.clone())
                    .expect("identity")
                    .principal_id;
                keyvault::delete_access_policy(&mut w, "kv-bench", &p).expect("revoke");
                behaviour::advance(&mut w, Duration::minutes(30)).expect("advance");
                keyvault::set_access_policy(
                    &mut w,
                    "kv-bench",
                    &p,
                    &KeyPermission::TDE_REQUIRED.into_iter().collect(),
                )
                .expect("grant");
                behaviour::advance(&mut w, Duration::days(30)).expect("advance");
                black_box(w);
            })
        },
    );

    let demo = tde_console::persist::demo().expect("demo");
    let dir = std::env::temp_dir().join("tde-console-bench.ron");
    c.bench_function(
        "save the demo workspace atomically (RON, fsync, rename)",
        |b| b.iter(|| tde_console::persist::save(&demo, &dir).expect("save")),
    );
    c.bench_function("load the demo workspace (parse RON, check keys)", |b| {
        b.iter(|| black_box(tde_console::persist::load(&dir).expect("load")))
    });
}

criterion_group! {
    name = tde_benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(3));
    targets = benches
}
criterion_main!(tde_benches);
