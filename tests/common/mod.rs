//! Shared test helpers: pre-generated keys and a ready-made workspace.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use tde_console::crypto::{CryptoError, RsaKeyMaterial};
use tde_console::model::*;
use tde_console::service::{self, KeySource, keyvault, sql, tde};

fn fixture(name: &str) -> RsaKeyMaterial {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let pem = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    RsaKeyMaterial::from_pem(&pem).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Keys from `tests/fixtures`, handed out in turn for each size.
pub struct FixtureKeys {
    next: AtomicUsize,
}

impl FixtureKeys {
    pub fn new() -> Self {
        FixtureKeys {
            next: AtomicUsize::new(0),
        }
    }

    pub fn boxed() -> Box<dyn KeySource + Send> {
        Box::new(Self::new())
    }
}

impl KeySource for FixtureKeys {
    fn generate(&self, bits: usize) -> Result<RsaKeyMaterial, CryptoError> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let name = match bits {
            2048 => format!("rsa2048-{}.pem", n % 8 + 1),
            3072 => format!("rsa3072-{}.pem", n % 3 + 1),
            4096 => "rsa4096-1.pem".to_string(),
            1024 => "rsa1024-1.pem".to_string(),
            other => return Err(CryptoError::UnsupportedKeySize(other)),
        };
        Ok(fixture(&name))
    }
}

pub const RG: &str = "rg-test";
pub const SERVER: &str = "sql-test";
pub const VAULT: &str = "kv-test";
pub const KEY: &str = "tde-key";

/// A workspace with a group, a server (with identity) and two databases on service-managed
/// TDE, and a vault (soft delete + purge protection) holding a 2048-bit key. Returns the
/// versioned key id.
pub fn setup(keys: &FixtureKeys) -> (Workspace, String) {
    let mut ws = service::new_workspace("test", 7);
    service::resources::create_resource_group(&mut ws, RG, "westeurope").unwrap();
    let req = sql::CreateServer {
        name: SERVER.into(),
        resource_group: RG.into(),
        location: None,
        admin_user: "sqladmin".into(),
        admin_password: "P@ssw0rd-2026!".into(),
        assign_identity: true,
        kind: ServerKind::SqlDatabaseServer,
    };
    sql::create_server(&mut ws, &req, keys.generate(2048).unwrap()).unwrap();
    for (db, tier) in [
        ("sales", ServiceTier::GeneralPurpose),
        ("ledger", ServiceTier::BusinessCritical),
    ] {
        sql::create_database(&mut ws, &sql::CreateDatabase::new(SERVER, db, tier, 32)).unwrap();
    }
    keyvault::create_vault(
        &mut ws,
        &keyvault::CreateVault {
            name: VAULT.into(),
            resource_group: RG.into(),
            soft_delete: Some(true),
            purge_protection: true,
            ..Default::default()
        },
    )
    .unwrap();
    let (_, kv) = keyvault::create_key(
        &mut ws,
        &keyvault::CreateKey::new(VAULT, KEY, KeyType::Rsa, 2048),
        keys.generate(2048).unwrap(),
    )
    .unwrap();
    let kid = ws.vault(VAULT).unwrap().key_uri(KEY, &kv.version);
    (ws, kid)
}

pub fn principal(ws: &Workspace) -> PrincipalId {
    ws.server(SERVER)
        .unwrap()
        .identity
        .as_ref()
        .unwrap()
        .principal_id
        .clone()
}

pub fn grant_tde(ws: &mut Workspace) {
    let p = principal(ws);
    keyvault::set_access_policy(
        ws,
        VAULT,
        &p,
        &KeyPermission::TDE_REQUIRED
            .into_iter()
            .collect::<BTreeSet<_>>(),
    )
    .unwrap();
}

/// Grants access, links the key and makes it the protector.
pub fn protect(ws: &mut Workspace, kid: &str) {
    grant_tde(ws);
    link_as_protector(ws, kid);
}

/// Links a key the server may already use and makes it the protector.
pub fn link_as_protector(ws: &mut Workspace, kid: &str) {
    sql::add_server_key(ws, SERVER, kid).unwrap();
    tde::set_protector(
        ws,
        &tde::SetProtector {
            server: SERVER.into(),
            key_type: ServerKeyType::AzureKeyVault,
            kid: Some(kid.into()),
            auto_rotation: false,
        },
    )
    .unwrap();
}

pub fn status(ws: &Workspace, db: &str) -> &'static str {
    ws.server(SERVER)
        .unwrap()
        .database(db)
        .unwrap()
        .state
        .label()
}

/// Every page of every database, decrypted through the service.
pub fn all_pages(ws: &Workspace) -> Vec<Vec<u8>> {
    let s = ws.server(SERVER).unwrap();
    s.databases
        .iter()
        .flat_map(|d| sql::read_pages(ws, SERVER, &d.name).unwrap())
        .collect()
}

pub fn ciphertexts(ws: &Workspace) -> Vec<PageStore> {
    ws.server(SERVER)
        .unwrap()
        .databases
        .iter()
        .map(|d| d.pages.clone())
        .collect()
}

/// Enables or disables one version of the test key.
pub fn set_key_enabled(ws: &mut Workspace, version: &str, enabled: bool) {
    keyvault::set_key_attributes(
        ws,
        VAULT,
        KEY,
        Some(version),
        &keyvault::KeyAttributes {
            enabled: Some(enabled),
            ..Default::default()
        },
    )
    .unwrap();
}

/// `ws` is `before` except for requests appended to its journal: what a refused call
/// leaves (nothing changed, but the vault served or refused the request and it stays in
/// the audit log and the throttling windows). Returns how many records were appended.
pub fn unchanged_but_its_trace(ws: &Workspace, before: &Workspace) -> Option<usize> {
    let (now, then) = (ws.journal.requests(), before.journal.requests());
    if now.len() < then.len() || now.clone().slice(..then.len()) != then {
        return None;
    }
    let mut aligned = before.clone();
    aligned.journal = ws.journal.clone();
    ws.same_as(&aligned).then(|| now.len() - then.len())
}
