//! Property tests: invariants that hold for any input. The cases proptest once shrank a
//! failure to are replayed first from `tests/proptest-regressions/main.txt` (where proptest
//! keeps them for a test binary's `main.rs`; a module `tests/X/m.rs` gets `m.txt` there).

#[path = "../common/mod.rs"]
mod common;

use common::*;
use proptest::prelude::*;
use std::collections::BTreeSet;
use std::sync::OnceLock;
use tde_console::model::*;
use tde_console::service::{behaviour, keyvault, sql, tde};
use tde_console::shell::Shell;
use tde_console::sim::Duration;

/// One workspace with the key linked to the server, built once.
fn base() -> &'static (Workspace, String) {
    static BASE: OnceLock<(Workspace, String)> = OnceLock::new();
    BASE.get_or_init(|| {
        let keys = FixtureKeys::new();
        let (mut ws, kid) = setup(&keys);
        grant_tde(&mut ws);
        sql::add_server_key(&mut ws, SERVER, &kid).unwrap();
        (ws, kid)
    })
}

fn set(ws: &mut Workspace, kid: &str) -> Result<TdeProtector, tde_console::service::ServiceError> {
    tde::set_protector(
        ws,
        &tde::SetProtector {
            server: SERVER.into(),
            key_type: ServerKeyType::AzureKeyVault,
            kid: Some(kid.into()),
            auto_rotation: false,
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Whatever the key id, setting the protector either works or changes nothing.
    #[test]
    fn any_key_id_succeeds_or_changes_nothing(kid in "(https://)?[a-z-]{0,12}(\\.vault\\.azure\\.net)?(/keys/)?[a-z-]{0,8}(/[0-9a-f]{0,33})?") {
        let (ws0, _) = base();
        let mut ws = ws0.clone();
        if set(&mut ws, &kid).is_err() {
            prop_assert!(ws == *ws0);
        }
    }

    /// The protector can be set exactly when get, wrapKey and unwrapKey are all granted.
    #[test]
    fn protector_needs_exactly_get_wrap_unwrap(mask in 0u32..(1 << 19)) {
        let (ws0, kid) = base();
        let mut ws = ws0.clone();
        let perms: BTreeSet<KeyPermission> = KeyPermission::ALL.iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, p)| *p).collect();
        let p = principal(&ws);
        keyvault::set_access_policy(&mut ws, VAULT, &p, &perms).unwrap();
        behaviour::advance(&mut ws, Duration::minutes(10)).unwrap();
        let before = ws.clone();
        let needed = KeyPermission::TDE_REQUIRED.iter().all(|r| perms.contains(r));
        match set(&mut ws, kid) {
            Ok(_) => prop_assert!(needed),
            Err(e) => {
                prop_assert!(!needed);
                prop_assert_eq!(e.code.as_str(), "AzureKeyVaultMissingPermissions");
                prop_assert!(unchanged_but_its_trace(&ws, &before).is_some());
            }
        }
    }

    /// Any line typed into the shell is handled without a panic, and a failing line
    /// changes nothing.
    #[test]
    fn any_shell_line_fails_cleanly(line in "(az |sim )?(sql |keyvault |group |clock )?(db |server |key |tde-key )?(create|show|set|advance|delete|list)? ?(--?[a-z-]{1,12} ?)*[ -~]{0,20}") {
        let (ws0, _) = base();
        let mut ws = ws0.clone();
        let mut sh = Shell::new().with_keys(FixtureKeys::boxed());
        let r = sh.run_line(&mut ws, &line);
        if !r.ok {
            prop_assert!(ws == *ws0, "failed line changed the workspace: {}", line);
            // az's errors, or the shell's own in bash's words (`bash: …`).
            prop_assert!(r.stderr.starts_with("ERROR: ") || r.stderr.starts_with("bash: "), "{}", r.stderr);
        }
    }

    /// Advancing the clock never moves it backwards and lands exactly on the target.
    #[test]
    fn advancing_lands_on_the_target(steps in proptest::collection::vec(0i64..20_000, 1..8)) {
        let (ws0, _) = base();
        let mut ws = ws0.clone();
        let start = ws.now();
        let mut total = 0;
        for s in steps {
            behaviour::advance(&mut ws, Duration(s)).unwrap();
            total += s;
            prop_assert_eq!(ws.now(), Timestamp(start.0 + total));
            prop_assert!(ws.schedule.events.iter().all(|e| e.at > ws.now()));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// However requests arrive, no 10-second window admits more than the vault's limit, and
    /// every request is either served or refused with 429.
    #[test]
    fn no_window_admits_more_than_the_limit(
        bursts in proptest::collection::vec((1u32..3000, 0u32..25), 1..4)
    ) {
        let mut ws = base().0.clone();
        for (count, seconds) in bursts {
            let r = tde_console::service::burst::burst(
                &mut ws, VAULT, KEY, tde_console::service::burst::BurstOperation::Get, count, seconds,
            ).unwrap();
            prop_assert_eq!(r.succeeded + r.throttled, count);
            prop_assert_eq!(r.other_failures, 0);
        }
        let mut per_window = std::collections::HashMap::new();
        for r in ws.journal.filtered(|r| r.operation == "KeyGet" && r.status == 200) {
            *per_window.entry(window_of(r.time)).or_insert(0u32) += 1;
        }
        prop_assert!(per_window.values().all(|n| *n <= 4000), "{:?}", per_window);
    }
}

/// Something an administrator does to a server with database-level keys.
#[derive(Clone, Debug)]
enum DbKeyStep {
    /// The database gets `db-key`: versioned, or versionless with auto-rotation.
    GiveOwnKey {
        db: usize,
        auto: bool,
    },
    /// A new version of `db-key` (true) or of the server's key.
    NewVersion(bool),
    Revert(usize),
    SetKeyEnabled {
        db_key: bool,
        enabled: bool,
    },
    Advance(i64),
    Revalidate(usize),
}

fn db_key_step() -> impl Strategy<Value = DbKeyStep> {
    prop_oneof![
        (0usize..2, any::<bool>()).prop_map(|(db, auto)| DbKeyStep::GiveOwnKey { db, auto }),
        any::<bool>().prop_map(DbKeyStep::NewVersion),
        (0usize..2).prop_map(DbKeyStep::Revert),
        (any::<bool>(), any::<bool>())
            .prop_map(|(db_key, enabled)| DbKeyStep::SetKeyEnabled { db_key, enabled }),
        (1i64..600).prop_map(DbKeyStep::Advance),
        (0usize..2).prop_map(DbKeyStep::Revalidate),
    ]
}

/// The server protected by `KEY`, and a second key `db-key` for database-level use.
fn protected_with_db_key() -> &'static (Workspace, String) {
    static BASE: OnceLock<(Workspace, String)> = OnceLock::new();
    BASE.get_or_init(|| {
        let keys = FixtureKeys::new();
        let (mut ws, kid) = setup(&keys);
        protect(&mut ws, &kid);
        let (_, v) = keyvault::create_key(
            &mut ws,
            &keyvault::CreateKey::new(VAULT, "db-key", KeyType::Rsa, 2048),
            tde_console::service::KeySource::generate(&keys, 2048).unwrap(),
        )
        .unwrap();
        let db_kid = ws.vault(VAULT).unwrap().key_uri("db-key", &v.version);
        (ws, db_kid)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    /// Whatever an administrator does with database-level keys, every DEK stays wrapped by
    /// exactly the key the database says protects it, a refused step changes nothing, and
    /// once the keys are usable again every page decrypts to what was written.
    #[test]
    fn database_keys_never_lose_data(steps in proptest::collection::vec(db_key_step(), 1..14)) {
        use tde_console::service::{database_key, recovery};
        let (ws0, db_kid) = protected_with_db_key();
        let mut ws = ws0.clone();
        let dbs = ["sales", "ledger"];
        let keys = FixtureKeys::new();
        let versionless = db_kid.rsplit_once('/').unwrap().0.to_string();
        let key_of = |db_key: bool| if db_key { "db-key" } else { KEY };
        for step in &steps {
            let before = ws.clone();
            let r = match step {
                DbKeyStep::GiveOwnKey { db, auto } => {
                    let kid = if *auto { &versionless } else { db_kid };
                    database_key::set_database_protector(&mut ws, SERVER, dbs[*db], kid, *auto).map(|_| ())
                }
                DbKeyStep::NewVersion(db_key) => keyvault::create_key(
                    &mut ws,
                    &keyvault::CreateKey::new(VAULT, key_of(*db_key), KeyType::Rsa, 2048),
                    tde_console::service::KeySource::generate(&keys, 2048).unwrap(),
                ).map(|_| ()),
                DbKeyStep::Revert(i) => database_key::revert_database_protector(&mut ws, SERVER, dbs[*i]).map(|_| ()),
                DbKeyStep::SetKeyEnabled { db_key, enabled } => keyvault::set_key_attributes(
                    &mut ws, VAULT, key_of(*db_key), None,
                    &keyvault::KeyAttributes { enabled: Some(*enabled), ..Default::default() },
                ).map(|_| ()),
                DbKeyStep::Advance(m) => behaviour::advance(&mut ws, Duration::minutes(*m)),
                DbKeyStep::Revalidate(i) => recovery::revalidate_database(&mut ws, SERVER, dbs[*i]).map(|_| ()),
            };
            if r.is_err() {
                prop_assert!(unchanged_but_its_trace(&ws, &before).is_some(), "{:?} failed but changed the workspace", step);
            }
            // Operations and events reconcile only what they touched: a full reconcile
            // finds nothing more to do.
            let mut full = ws.clone();
            behaviour::reconcile(&mut full);
            prop_assert!(full == ws, "a full reconcile after {:?} changed more", step);
            let s = ws.server(SERVER).unwrap();
            for d in &s.databases {
                let w = d.dek.as_ref().unwrap();
                prop_assert_eq!(&w.server_key_name, s.database_key_name(d), "{} after {:?}", d.name, step);
            }
        }
        // Make every key usable again, let the service heal, revalidate what waits for it.
        for db_key in [false, true] {
            let versions: Vec<String> = ws.vault(VAULT).unwrap().key(key_of(db_key)).unwrap()
                .versions.iter().map(|v| v.version.0.clone()).collect();
            for v in versions {
                keyvault::set_key_attributes(&mut ws, VAULT, key_of(db_key), Some(&v),
                    &keyvault::KeyAttributes { enabled: Some(true), ..Default::default() }).unwrap();
            }
        }
        behaviour::advance(&mut ws, Duration::hours(2)).unwrap();
        for db in dbs {
            if status(&ws, db) == "Inaccessible" {
                recovery::revalidate_database(&mut ws, SERVER, db).unwrap();
            }
        }
        behaviour::advance(&mut ws, Duration::hours(2)).unwrap();
        for db in dbs {
            prop_assert_eq!(status(&ws, db), "Online");
            prop_assert_eq!(sql::read_pages(&ws, SERVER, db).unwrap(), sql::sample_pages(db));
        }
    }
}

/// One step of a continuity scenario.
#[derive(Clone, Debug)]
enum ContinuityStep {
    Write(u8),
    Advance(i64),
    /// Make key 1 (`false`) or key 2 (`true`) the protector.
    Rotate(bool),
    DeleteKey1,
    RecoverKey1,
    /// Restore to this many minutes ago.
    Restore(i64),
}

fn continuity_step() -> impl Strategy<Value = ContinuityStep> {
    prop_oneof![
        any::<u8>().prop_map(ContinuityStep::Write),
        (1i64..600).prop_map(ContinuityStep::Advance),
        any::<bool>().prop_map(ContinuityStep::Rotate),
        Just(ContinuityStep::DeleteKey1),
        Just(ContinuityStep::RecoverKey1),
        (0i64..900).prop_map(ContinuityStep::Restore),
    ]
}

/// Key 1 (the fixture key) and key 2, both linked; key 1 is the protector.
fn two_keys() -> &'static (Workspace, String, String) {
    static BASE: OnceLock<(Workspace, String, String)> = OnceLock::new();
    BASE.get_or_init(|| {
        let keys = FixtureKeys::new();
        let (mut ws, kid) = setup(&keys);
        protect(&mut ws, &kid);
        let (_, v) = keyvault::create_key(
            &mut ws,
            &keyvault::CreateKey::new(VAULT, "key-two", KeyType::Rsa, 2048),
            tde_console::service::KeySource::generate(&keys, 2048).unwrap(),
        )
        .unwrap();
        let kid2 = ws.vault(VAULT).unwrap().key_uri("key-two", &v.version);
        sql::add_server_key(&mut ws, SERVER, &kid2).unwrap();
        (ws, kid, kid2)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Whatever happens to the keys, a restore either reads exactly the text that was
    /// current at its point in time, or is refused (a missing key, a point out of range)
    /// and changes nothing.
    #[test]
    fn restores_read_the_past_or_change_nothing(steps in proptest::collection::vec(continuity_step(), 1..12)) {
        use tde_console::service::backup::{self, RestoreRequest, RestoreSource};
        use tde_console::service::content;
        let (ws0, kid1, kid2) = two_keys();
        let mut ws = ws0.clone();
        // What the database held from each instant (the oracle).
        let mut history: Vec<(Timestamp, String)> = vec![(ws.now(), String::new())];
        for (i, step) in steps.into_iter().enumerate() {
            match step {
                ContinuityStep::Write(b) => {
                    let text = format!("text {b}");
                    if content::write_text(&mut ws, SERVER, "sales", &text).is_ok() {
                        history.push((ws.now(), text));
                    }
                }
                ContinuityStep::Advance(m) => {
                    behaviour::advance(&mut ws, Duration::minutes(m)).unwrap();
                }
                ContinuityStep::Rotate(second) => {
                    let _ = set(&mut ws, if second { kid2 } else { kid1 });
                }
                ContinuityStep::DeleteKey1 => {
                    // Only while it is not the protector (else the databases go Inaccessible).
                    let protector = ws.server(SERVER).unwrap().protector.server_key_name.clone();
                    if protector.contains("key-two") {
                        let _ = keyvault::delete_key(&mut ws, VAULT, KEY);
                    }
                }
                ContinuityStep::RecoverKey1 => {
                    let _ = keyvault::recover_key(&mut ws, VAULT, KEY);
                }
                ContinuityStep::Restore(ago) => {
                    let t = ws.now() - Duration::minutes(ago);
                    let dest = format!("r{i}");
                    let before = ws.clone();
                    let r = backup::restore_database(&mut ws, &RestoreRequest {
                        source_server: SERVER.into(),
                        source_database: "sales".into(),
                        source: RestoreSource::PointInTime { time: t },
                        target_server: SERVER.into(),
                        dest_name: dest.clone(),
                        tier: None,
                    });
                    match r {
                        Err(e) => {
                            prop_assert!(
                                ["MissingKeyVaultUriForRestore", "InvalidPointInTimeRestoreRequest"].contains(&e.code.as_str()),
                                "{e}"
                            );
                            prop_assert!(unchanged_but_its_trace(&ws, &before).is_some());
                        }
                        Ok(d) => {
                            let DatabaseState::Restoring { until, .. } = d.state else {
                                return Err(TestCaseError::fail("not restoring"));
                            };
                            let wait = until - ws.now();
                            behaviour::advance(&mut ws, wait).unwrap();
                            let expected = history.iter().rev().find(|(at, _)| *at <= t).map(|(_, s)| s.clone()).unwrap_or_default();
                            prop_assert_eq!(content::read_text(&ws, SERVER, &dest).unwrap(), expected);
                        }
                    }
                }
            }
        }
    }
}

/// The demo, loaded once.
fn demo() -> &'static Workspace {
    static DEMO: OnceLock<Workspace> = OnceLock::new();
    DEMO.get_or_init(|| tde_console::persist::demo().unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Any bytes, and the demo file with random damage, either load or are refused with an
    /// error: never a panic.
    #[test]
    fn the_loader_takes_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048),
                                  edits in proptest::collection::vec((0usize..80_000, any::<u8>()), 1..6)) {
        let path = std::path::Path::new("fuzz.ron");
        let _ = tde_console::persist::from_ron(&String::from_utf8_lossy(&bytes), path);
        let mut demo = tde_console::persist::DEMO_RON.as_bytes().to_vec();
        for (at, b) in edits {
            let i = at % demo.len();
            demo[i] = b;
        }
        let _ = tde_console::persist::from_ron(&String::from_utf8_lossy(&demo), path);
    }

    /// Any `--query` and any line of shell words: an answer or an `ERROR:` line, and a
    /// failed line changes nothing.
    #[test]
    fn any_query_or_line_fails_cleanly(query in "[\\[\\](){}.*:|&!@,a-z0-9 '`\"-]{0,40}",
                                       line in "\\PC{0,60}") {
        let mut ws = demo().clone();
        let before = ws.clone();
        let mut sh = Shell::new().with_keys(FixtureKeys::boxed());
        let r = sh.run_line(&mut ws, &format!("az sql server list --query '{}'", query.replace('\'', "")));
        prop_assert!(r.ok || r.stderr.starts_with("ERROR"), "{}", r.stderr);
        prop_assert!(ws == before);
        let _ = tde_console::shell::lexer::words(&line);
        let r = sh.run_line(&mut ws, &line);
        if !r.ok {
            prop_assert!(unchanged_but_its_trace(&ws, &before).is_some(), "failed line changed the workspace: {}", line);
        }
    }

    /// Any text given as a key file is imported as a key or refused, and a refusal changes
    /// nothing.
    #[test]
    fn any_key_file_imports_or_is_refused(text in "\\PC{0,300}",
                                          cut in 0usize..2000, flip in any::<u8>()) {
        let (ws0, _) = base();
        let mut ws = ws0.clone();
        let before = ws.clone();
        let r = keyvault::import_pem_key(&mut ws, VAULT, "fuzz", KeyType::Rsa, &text);
        prop_assert!(r.is_err());
        prop_assert!(unchanged_but_its_trace(&ws, &before).is_some());
        // A real PEM, damaged at one place.
        let pem = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/rsa2048-1.pem")).unwrap();
        let mut bytes = pem.into_bytes();
        let i = cut % bytes.len();
        bytes[i] = flip;
        let damaged = String::from_utf8_lossy(&bytes).to_string();
        if keyvault::import_pem_key(&mut ws, VAULT, "fuzz", KeyType::Rsa, &damaged).is_err() {
            prop_assert!(unchanged_but_its_trace(&ws, &before).is_some());
        }
    }
}

/// The words bash scripts are made of, for the shell's token soup.
const SOUP: &[&str] = &[
    "if",
    "then",
    "elif",
    "else",
    "fi",
    "for",
    "x",
    "in",
    "do",
    "done",
    "while",
    "until",
    "[",
    "]",
    "[[",
    "]]",
    "-z",
    "-n",
    "=",
    "!=",
    "-eq",
    "-lt",
    "$x",
    "\"$x\"",
    ";",
    "\n",
    "&&",
    "||",
    "|",
    "tr",
    "-d",
    "head",
    "-n",
    "1",
    "grep",
    "-c",
    "a",
    "printf",
    "%s\\n",
    "%d",
    "expr",
    "+",
    "\\*",
    "echo",
    "true",
    "false",
    "set",
    "-e",
    "+e",
    "-o",
    "pipefail",
    "exit",
    "$(date +%s)",
    "$(expr 1 + 2)",
    "'",
    "\"",
    "$((1+2))",
    "x=1",
    "let",
    "!",
    "sim",
    "clock",
    "show",
    "az",
    "group",
    "list",
    "$(",
    ")",
    "$RANDOM",
    "2>&1",
    ">/dev/null",
    "test",
    "wc",
    "-l",
    "cut",
    "date",
    "xargs",
    "sort",
    "(",
    "{",
    "}",
    "\\",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Any soup of bash's words, as a script and as one line: it runs or fails with a
    /// message, never panics (an InternalError) and ends (loops and nesting are bounded).
    #[test]
    fn token_soup_never_panics_or_hangs(picks in proptest::collection::vec(0usize..SOUP.len(), 0..40)) {
        let text: String = picks.iter().map(|i| SOUP[*i]).collect::<Vec<_>>().join(" ");
        let mut ws = tde_console::service::new_workspace("soup", 1);
        let mut sh = Shell::new().with_keys(FixtureKeys::boxed());
        let started = std::time::Instant::now();
        let out = sh.run_script(&mut ws, &text, true);
        prop_assert!(!out.stderr.contains("InternalError"), "{text:?}: {}", out.stderr);
        let r = sh.run_line(&mut ws, &text.replace('\n', " "));
        prop_assert!(!r.stderr.contains("InternalError"), "{text:?}: {}", r.stderr);
        prop_assert!(started.elapsed() < std::time::Duration::from_secs(60), "{text:?} took {:?}", started.elapsed());
    }
}
