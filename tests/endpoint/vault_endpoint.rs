//! Issue 14: the local Key Vault endpoint. The REST handler directly (authentication,
//! errors, hostile requests, principals other than the console user), then the real
//! thing over TLS on 127.0.0.1. The Python SDK's walk is in `sdk.rs`.

use crate::common;

use common::FixtureKeys;
use proptest::prelude::*;
use std::io::{Read, Write};
use std::sync::Arc;
use tde_console::model::Workspace;
use tde_console::shell::Shell;
use tde_console::vault_endpoint::http::{Request, Response};
use tde_console::vault_endpoint::rest::{self, Call, MaterialSpec, Outcome};
use tde_console::vault_endpoint::{Bearer, Endpoint, token_for};

const VAULT: &str = "kv-contoso-us";
const BASE: &str = "https://127.0.0.1:8443/";

fn demo() -> Workspace {
    tde_console::persist::demo().expect("demo")
}

fn request(method: &str, path: &str, token: Option<&str>, body: &str) -> Request {
    let (path, query) = path.split_once('?').unwrap_or((path, "api-version=7.5"));
    let mut headers = vec![("User-Agent".to_string(), "test-client/1.0".to_string())];
    if let Some(t) = token {
        headers.push(("Authorization".into(), format!("Bearer {t}")));
    }
    Request {
        method: method.into(),
        path: path.into(),
        query: query
            .split('&')
            .filter_map(|p| p.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        headers,
        body: body.as_bytes().to_vec(),
        close: false,
    }
}

/// Handles a request, making key material when it asks for some (as a connection does).
fn call(ws: &mut Workspace, r: &Request) -> Response {
    let key = ws.backup_root.token_signing_key();
    let mut material = None;
    for _ in 0..2 {
        let out = rest::handle(
            ws,
            Call {
                vault: VAULT,
                base: BASE,
                request: r,
                material: material.take(),
                token_key: &key,
                wall_now: tde_console::vault_endpoint::wall_now(),
            },
        );
        match out {
            Outcome::Done(resp) => return resp,
            Outcome::NeedsMaterial(spec) => {
                let bits = match spec {
                    MaterialSpec::Rsa(b) => b,
                    MaterialSpec::Ec(_) => 2048,
                };
                let m = match spec {
                    MaterialSpec::Ec(_) => spec.make(&FixtureKeys::new()).expect("ec"),
                    _ => tde_console::crypto::KeyMaterial::Rsa(
                        tde_console::service::KeySource::generate(&FixtureKeys::new(), bits)
                            .expect("fixture key"),
                    ),
                };
                material = Some(m);
            }
        }
    }
    panic!("asked for material twice");
}

fn json(r: &Response) -> serde_json::Value {
    serde_json::from_slice(&r.body).unwrap_or(serde_json::Value::Null)
}

fn console_token(ws: &Workspace) -> String {
    token_for(ws, &Bearer::ConsoleUser, 3600).expect("token")
}

#[test]
fn without_a_token_the_vault_challenges_as_azure_does() {
    let mut ws = demo();
    let r = call(&mut ws, &request("GET", "/keys", None, ""));
    assert_eq!(r.status, 401);
    let challenge = r
        .headers
        .iter()
        .find(|(n, _)| n == "WWW-Authenticate")
        .map(|(_, v)| v.clone())
        .expect("challenge");
    assert!(
        challenge.starts_with("Bearer authorization=\"https://login.microsoftonline.com/"),
        "{challenge}"
    );
    assert!(
        challenge.contains("resource=\"https://vault.azure.net\""),
        "{challenge}"
    );
    assert_eq!(json(&r)["error"]["code"], "Unauthorized");
}

#[test]
fn invalid_expired_and_foreign_tokens_are_refused() {
    let mut ws = demo();
    let before = ws.clone();
    let mut other = tde_console::service::new_workspace("other", 1);
    other.console_user = ws.console_user.clone();
    let foreign = console_token(&other);
    let expired = {
        let u = &ws.console_user;
        let c = tde_console::vault_endpoint::token::Claims::new(
            &u.object_id.0,
            &u.tenant.0,
            "app",
            &u.upn,
            true,
            1_000,
            60,
        );
        tde_console::vault_endpoint::token::issue(&c, &ws.backup_root.token_signing_key())
    };
    for t in [foreign.as_str(), expired.as_str(), "garbage", "a.b.c", ""] {
        let r = call(
            &mut ws,
            &request("POST", "/keys/x/create", Some(t), r#"{"kty":"RSA"}"#),
        );
        assert_eq!(r.status, 401, "{t}: {}", String::from_utf8_lossy(&r.body));
    }
    assert!(ws.same_as(&before), "a refused request changed nothing");
}

/// Issue 21: a token living longer than a day is refused whatever its signature, even one
/// signed with this workspace's own key (a forged `exp` of 2^63-1 used to pass).
#[test]
fn a_correctly_signed_token_living_longer_than_a_day_is_refused() {
    use tde_console::vault_endpoint::token::{self, Claims, MAX_LIFETIME_S};
    let mut ws = demo();
    let key = ws.backup_root.token_signing_key();
    let now = tde_console::vault_endpoint::wall_now();
    let u = ws.console_user.clone();
    let claims = |iat: i64, exp: i64| {
        let mut c = Claims::new(
            &u.object_id.0,
            &u.tenant.0,
            token::CONSOLE_APP_ID,
            &u.upn,
            true,
            iat,
            60,
        );
        c.exp = exp;
        token::issue(&c, &key)
    };
    let day_and_a_second = claims(now - 10, now - 10 + MAX_LIFETIME_S + 1);
    let forever = claims(now - 10, i64::MAX);
    let issued_late = claims(now + 200, now + MAX_LIFETIME_S + 100);
    let fine = claims(now - 10, now - 10 + MAX_LIFETIME_S);
    for t in [&day_and_a_second, &forever, &issued_late] {
        let r = call(&mut ws, &request("GET", "/keys", Some(t), ""));
        assert_eq!(r.status, 401, "{}", String::from_utf8_lossy(&r.body));
        assert_eq!(json(&r)["error"]["code"], "Unauthorized");
        assert!(
            json(&r)["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("lifetime exceeds")),
            "{}",
            String::from_utf8_lossy(&r.body)
        );
    }
    let r = call(&mut ws, &request("GET", "/keys", Some(&fine), ""));
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
}

#[test]
fn the_keys_api_answers_in_the_services_shapes() {
    let mut ws = demo();
    let t = console_token(&ws);
    let r = call(
        &mut ws,
        &request(
            "POST",
            "/keys/api-key/create",
            Some(&t),
            r#"{"kty":"RSA","key_size":2048,"tags":{}}"#,
        ),
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let b = json(&r);
    let kid = b["key"]["kid"].as_str().expect("kid").to_string();
    assert!(
        kid.starts_with("https://127.0.0.1:8443/keys/api-key/"),
        "{kid}"
    );
    assert_eq!(b["key"]["kty"], "RSA");
    assert!(b["key"]["n"].as_str().is_some_and(|n| n.len() > 300));
    assert!(b["key"]["d"].is_null(), "never the private part");
    assert!(b["attributes"]["created"].is_i64());
    // Latest by the trailing slash the SDKs send, list, versions.
    assert_eq!(
        call(&mut ws, &request("GET", "/keys/api-key/", Some(&t), "")).status,
        200
    );
    let list = json(&call(&mut ws, &request("GET", "/keys", Some(&t), "")));
    assert!(list["value"].as_array().is_some_and(|v| {
        v.iter()
            .any(|k| k["kid"] == "https://127.0.0.1:8443/keys/api-key")
    }));
    assert!(list["nextLink"].is_null());
    // Pages: maxresults items and a nextLink the SDKs follow.
    let first = json(&call(
        &mut ws,
        &request("GET", "/keys?api-version=7.5&maxresults=1", Some(&t), ""),
    ));
    assert_eq!(first["value"].as_array().map(Vec::len), Some(1));
    let next = first["nextLink"].as_str().expect("a next page").to_string();
    assert!(next.starts_with("https://127.0.0.1:8443/keys?"), "{next}");
    let query = next
        .split_once('?')
        .map(|(_, q)| q.to_string())
        .unwrap_or_default();
    let second = json(&call(
        &mut ws,
        &request("GET", &format!("/keys?{query}"), Some(&t), ""),
    ));
    assert_eq!(second["value"].as_array().map(Vec::len), Some(1));
    assert_ne!(first["value"][0]["kid"], second["value"][0]["kid"]);
    // Errors: Key Vault's codes and statuses.
    let r = call(&mut ws, &request("GET", "/keys/nope/", Some(&t), ""));
    assert_eq!(r.status, 404);
    assert_eq!(json(&r)["error"]["code"], "KeyNotFound");
    let r = call(
        &mut ws,
        &request("POST", "/keys/api-key/create", Some(&t), "{not json"),
    );
    assert_eq!(r.status, 400);
    assert_eq!(json(&r)["error"]["code"], "BadParameter");
    assert_eq!(
        call(&mut ws, &request("GET", "/keys?x=1", Some(&t), "")).status,
        400,
        "no api-version"
    );
    assert_eq!(
        call(&mut ws, &request("PATCH", "/rng", Some(&t), "")).status,
        405
    );
    // Secrets have an API of their own: a caller without secret permissions is refused
    // with Key Vault's words, never with KeyNotFound.
    let r = call(&mut ws, &request("GET", "/secrets/s", Some(&t), ""));
    assert_eq!(r.status, 403, "{}", String::from_utf8_lossy(&r.body));
    assert!(
        json(&r)["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("does not have secrets get permission"),
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    // Sign and verify (RS256 over a digest).
    let digest = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
    let s = json(&call(
        &mut ws,
        &request(
            "POST",
            "/keys/api-key//sign",
            Some(&t),
            &format!(r#"{{"alg":"RS256","value":"{digest}"}}"#),
        ),
    ));
    let sig = s["value"].as_str().expect("signature");
    let v = json(&call(
        &mut ws,
        &request(
            "POST",
            "/keys/api-key//verify",
            Some(&t),
            &format!(r#"{{"alg":"RS256","digest":"{digest}","value":"{sig}"}}"#),
        ),
    ));
    assert_eq!(v["value"], true);
    // Purge answers 204 with no body.
    assert_eq!(
        call(&mut ws, &request("DELETE", "/keys/api-key", Some(&t), "")).status,
        200
    );
    let r = call(
        &mut ws,
        &request("DELETE", "/deletedkeys/api-key", Some(&t), ""),
    );
    assert!(r.status == 204 || r.status == 403, "{}", r.status);
}

/// A user-assigned identity's token acts as that identity: refused until an access policy
/// names it, then served; the audit records carry its object id and the client.
#[test]
fn an_identity_acts_through_its_own_access_policy() {
    let mut ws = demo();
    let mut sh = Shell::new().with_keys(FixtureKeys::boxed());
    let out = sh.run_script(
        &mut ws,
        &format!("az identity create --name app-umi --resource-group rg-contoso-us --location eastus -o none\naz monitor diagnostic-settings create --name audit --resource {VAULT} --logs '[{{\"category\":\"AuditEvent\",\"enabled\":true}}]' --workspace law -o none"),
        false,
    );
    assert_eq!(out.failures, 0, "{}", out.stderr);
    let t = token_for(&ws, &Bearer::Identity("app-umi".into()), 3600).expect("token");
    let r = call(
        &mut ws,
        &request("GET", "/keys/tde-protector/", Some(&t), ""),
    );
    assert_eq!(r.status, 403, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(json(&r)["error"]["code"], "Forbidden");
    let principal = ws
        .identities
        .iter()
        .find(|i| i.name == "app-umi")
        .unwrap()
        .principal_id
        .0
        .clone();
    let out = sh.run_script(
        &mut ws,
        &format!("az keyvault set-policy --name {VAULT} --object-id {principal} --key-permissions get -o none\nsim clock advance 15m -o none"),
        false,
    );
    assert_eq!(out.failures, 0, "{}", out.stderr);
    assert_eq!(
        call(
            &mut ws,
            &request("GET", "/keys/tde-protector/", Some(&t), "")
        )
        .status,
        200
    );
    let audit = sh
        .run_line(&mut ws, &format!("sim audit list --vault {VAULT} -o json"))
        .stdout;
    assert!(
        audit.contains(&principal) && audit.contains("test-client/1.0"),
        "{audit}"
    );
    // The console user is itself again after the requests.
    assert_eq!(ws.console_user.upn, "admin@contoso.onmicrosoft.com");
    assert!(ws.console_user.via.is_none());
}

/// Wrong types and out-of-range values are refused with a 400, never quietly replaced by a
/// default; dates outside 1970 to 9000 are refused so a saved workspace always reopens.
#[test]
fn wrong_types_and_impossible_dates_are_refused() {
    let mut ws = demo();
    let t = console_token(&ws);
    let before = ws.clone();
    for body in [
        r#"{"kty":"RSA","key_size":"4096"}"#,
        r#"{"kty":"RSA","key_size":1024}"#,
        r#"{"kty":"RSA","key_size":2048.5}"#,
        r#"{"kty":"RSA","public_exponent":3}"#,
        r#"{"kty":"RSA","key_ops":"wrapKey"}"#,
        r#"{"kty":"RSA","attributes":{"enabled":"no"}}"#,
        r#"{"kty":"RSA","attributes":"x"}"#,
        r#"{"kty":"RSA","attributes":{"exp":-1}}"#,
        r#"{"kty":"RSA","attributes":{"exp":253402300800}}"#,
        r#"{"kty":"RSA","attributes":{"nbf":9223372036854775807}}"#,
        r#"{"kty":"RSA","tags":"x"}"#,
        r#"{"kty":"RSA","tags":{"a":1}}"#,
        r#"[]"#,
    ] {
        let r = call(
            &mut ws,
            &request("POST", "/keys/typed/create", Some(&t), body),
        );
        assert_eq!(
            r.status,
            400,
            "{body}: {}",
            String::from_utf8_lossy(&r.body)
        );
    }
    assert!(
        common::unchanged_but_its_trace(&ws, &before).is_some(),
        "nothing was created"
    );
    for q in [
        "api-version=banana",
        "api-version=7.5&maxresults=0",
        "api-version=7.5&maxresults=abc",
    ] {
        assert_eq!(
            call(
                &mut ws,
                &request("GET", &format!("/keys?{q}"), Some(&t), "")
            )
            .status,
            400,
            "{q}"
        );
    }
    // Tags are kept and returned; a PATCH with a date out of range changes nothing.
    let r = call(
        &mut ws,
        &request(
            "POST",
            "/keys/tagged/create",
            Some(&t),
            r#"{"kty":"RSA","tags":{"team":"orders"}}"#,
        ),
    );
    assert_eq!(json(&r)["tags"]["team"], "orders");
    let before = ws.clone();
    let r = call(
        &mut ws,
        &request(
            "PATCH",
            "/keys/tagged/",
            Some(&t),
            r#"{"attributes":{"exp":-5}}"#,
        ),
    );
    assert_eq!(r.status, 400);
    assert!(common::unchanged_but_its_trace(&ws, &before).is_some());
    let r = call(
        &mut ws,
        &request(
            "PATCH",
            "/keys/tagged/",
            Some(&t),
            r#"{"tags":{"team":"billing"}}"#,
        ),
    );
    assert_eq!(json(&r)["tags"]["team"], "billing");
    // The file reopens.
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("w.ron");
    tde_console::persist::save(&ws, &f).unwrap();
    tde_console::persist::load(&f).expect("reopens");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    /// Whatever arrives (methods, paths, bodies, with a valid token), the answer is an HTTP
    /// status and an error body, never a panic.
    #[test]
    fn hostile_requests_get_answers_not_panics(
        method in prop::sample::select(vec!["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "BREW"]),
        segments in prop::collection::vec(prop::sample::select(vec!["keys", "deletedkeys", "rng", "", "tde-protector", "create", "rotate", "backup", "restore", "wrapkey", "unwrapkey", "sign", "verify", "versions", "rotationpolicy", "recover", "..", "%00", "é"]), 0..6),
        body in prop::sample::select(vec!["", "{}", "null", "[]", "{\"kty\":\"RSA\",\"key_size\":99999}", "{\"kty\":\"EC\",\"crv\":\"P-999\"}", "{\"alg\":\"RSA-OAEP-256\",\"value\":\"!!!\"}", "{\"count\":-1}", "{\"count\":100000}", "{\"value\":\"AAAA\"}", "{\"key\":{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\",\"d\":\"AQAB\",\"p\":\"AQ\",\"q\":\"AQ\",\"dp\":\"AQ\",\"dq\":\"AQ\",\"qi\":\"AQ\"}}", "{\"lifetimeActions\":[{\"action\":{\"type\":\"x\"}}]}", "\u{0}\u{1}"]),
    ) {
        let mut ws = demo();
        let t = console_token(&ws);
        let path = format!("/{}", segments.join("/"));
        let r = call(&mut ws, &request(method, &path, Some(&t), body));
        prop_assert!((200..600).contains(&r.status));
        if r.status >= 400 {
            prop_assert!(json(&r)["error"]["code"].is_string(), "{}", String::from_utf8_lossy(&r.body));
        }
    }
}

/// The real thing: TLS on 127.0.0.1 with the endpoint's CA, a 401 challenge, a served
/// request, and a connection of garbage that leaves the endpoint serving.
#[test]
fn over_tls_on_loopback() {
    let mut ws = demo();
    let keys: Arc<dyn tde_console::service::KeySource> = Arc::new(FixtureKeys::new());
    let mut endpoint = Endpoint::start(&ws, 0, keys.clone(), Arc::new(|| {})).expect("started");
    assert_eq!(
        endpoint.vaults.len(),
        ws.vaults.iter().filter(|v| v.deleted.is_none()).count()
    );
    let port_of = |url: &str| -> u16 {
        url.trim_end_matches('/')
            .rsplit(':')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    // A client holding every connection one vault takes leaves the other vaults serving.
    let hogged = port_of(&endpoint.vaults[1].url);
    let hogs: Vec<std::net::TcpStream> = (0
        ..tde_console::vault_endpoint::MAX_CONNECTIONS_PER_VAULT)
        .map(|_| std::net::TcpStream::connect(("127.0.0.1", hogged)).unwrap())
        .collect();
    let url = endpoint.vaults[0].url.clone();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    let port = port_of(&url);
    let ca = endpoint.ca_pem.clone();
    let token = endpoint.console_token(&ws);
    let client = std::thread::spawn(move || {
        // Garbage first: not TLS at all.
        let mut raw = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let _ = raw.write_all(b"\x16\x03\x01garbage garbage garbage\r\n\r\n");
        drop(raw);
        let get = |auth: Option<&str>| -> String {
            https_as(port, &ca, "GET", "/keys?api-version=7.5", auth, "")
        };
        (get(None), get(Some(&token)))
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !client.is_finished() && std::time::Instant::now() < deadline {
        endpoint.serve_next(&mut ws, keys.as_ref(), std::time::Duration::from_millis(20));
    }
    let (challenged, served) = client.join().expect("client");
    drop(hogs);
    assert!(challenged.starts_with("HTTP/1.1 401"), "{challenged}");
    assert!(
        challenged.contains("WWW-Authenticate: Bearer authorization="),
        "{challenged}"
    );
    assert!(served.starts_with("HTTP/1.1 200"), "{served}");
    assert!(served.contains("\"value\":["), "{served}");
    endpoint.stop();
}

// ---- Issue 21: acknowledged changes survive kill -9; published secrets open nothing ----

/// `tde-console serve` on any free ports: the child, each vault's port, the CA and the
/// console user's token (from the JSON lines it prints).
struct Served {
    child: std::process::Child,
    ports: Vec<(String, u16)>,
    ca: String,
    token: String,
}

fn serve(file: Option<&std::path::Path>) -> Served {
    use std::io::BufRead;
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_tde-console"));
    cmd.arg("serve");
    if let Some(f) = file {
        cmd.arg(f);
    }
    let mut child = cmd
        .args(["--port", "0"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("serve starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = std::io::BufReader::new(stdout).lines();
    let (mut ports, mut ca, mut token) = (Vec::new(), String::new(), String::new());
    while token.is_empty() {
        let line = lines
            .next()
            .expect("serve prints its lines")
            .expect("a line");
        let v: serde_json::Value = serde_json::from_str(&line).expect("JSON");
        if let (Some(name), Some(url)) = (v["vault"].as_str(), v["url"].as_str()) {
            let port = url.trim_end_matches('/').rsplit(':').next().unwrap();
            ports.push((name.to_string(), port.parse().unwrap()));
        } else if let Some(p) = v["ca_cert"].as_str() {
            ca = std::fs::read_to_string(p).expect("CA file");
        } else if let Some(t) = v["token"].as_str() {
            token = t.to_string();
        }
    }
    Served {
        child,
        ports,
        ca,
        token,
    }
}

/// One HTTPS request to 127.0.0.1:`port`, trusting `ca`; the whole response text.
fn https(port: u16, ca: &str, method: &str, path: &str, token: &str, body: &str) -> String {
    https_as(port, ca, method, path, Some(token), body)
}

/// [`https`], with or without a token.
fn https_as(
    port: u16,
    ca: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> String {
    let tcp = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    https_on(tcp, port, ca, method, path, token, body)
}

/// [`https_as`] on a connection already made.
fn https_on(
    tcp: std::net::TcpStream,
    port: u16,
    ca: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> String {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls::pki_types::CertificateDer::pem_slice_iter(ca.as_bytes()) {
        roots.add(c.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let conn = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    tcp.set_read_timeout(Some(std::time::Duration::from_secs(60)))
        .unwrap();
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    tls.write_all(
        format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    )
    .unwrap();
    let mut out = Vec::new();
    let _ = tls.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn a_key_acknowledged_by_serve_survives_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("served.ron");
    tde_console::persist::save(&demo(), &file).unwrap();
    let mut served = serve(Some(&file));
    let port = served
        .ports
        .iter()
        .find(|(n, _)| n == VAULT)
        .map(|(_, p)| *p)
        .expect("the vault is served");
    let answer = https(
        port,
        &served.ca,
        "POST",
        "/keys/acknowledged-key/create?api-version=7.5",
        &served.token,
        r#"{"kty":"RSA","key_size":2048}"#,
    );
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // A line typed on standard input is as durable once it has run. It prints its JSON
    // to a standard output nobody reads any more (`serve()` stopped reading after the
    // token): the server goes on, as bash does (it once died of the broken pipe here).
    served
        .child
        .stdin
        .as_mut()
        .unwrap()
        .write_all(b"az group create -n rg-typed-on-stdin -l eastus\n")
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let log = tde_console::persist::wal::path_for(&file);
    let logged = |size: u64| std::fs::metadata(&log).map_or(0, |m| m.len()) > size;
    let after_key = std::fs::metadata(&log).map_or(0, |m| m.len());
    while !logged(after_key) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(
        served.child.try_wait().unwrap().is_none(),
        "serve is still running after printing to a closed standard output"
    );
    // A second server on the same file is refused at start (and if it were not, it
    // would serve forever: it is given 60 s, then killed, so this test fails, not hangs).
    let mut second = std::process::Command::new(env!("CARGO_BIN_EXE_tde-console"))
        .arg("serve")
        .arg(&file)
        .args(["--port", "0"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let until = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while second.try_wait().unwrap().is_none() && std::time::Instant::now() < until {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let _ = second.kill();
    let second = second.wait_with_output().unwrap();
    assert_eq!(second.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&second.stderr).contains("being served by another"),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    served.child.kill().unwrap(); // SIGKILL: nothing runs after it.
    served.child.wait().unwrap();
    let back = tde_console::persist::load(&file).expect("reopens");
    let v = back.vault(VAULT).unwrap();
    assert!(
        v.key("acknowledged-key").is_some(),
        "the key acknowledged with 200 is in the workspace after kill -9"
    );
    assert!(back.resource_group("rg-typed-on-stdin").is_some());
}

#[test]
fn a_token_or_backup_made_with_the_published_demo_secret_opens_nothing() {
    use tde_console::crypto::backup::BackupRoot;
    // The asset as published holds the published root.
    let asset =
        tde_console::persist::from_ron(tde_console::persist::DEMO_RON, std::path::Path::new("a"))
            .unwrap();
    assert!(asset.backup_root.is_published());
    // Every instantiation of the demo gets its own.
    assert!(!demo().backup_root.is_published());
    assert!(demo().backup_root != demo().backup_root);
    // A token forged with the published root, for the console user, is refused by `serve`
    // run without a file.
    let forged = token_for(&asset, &Bearer::ConsoleUser, 3600).unwrap();
    let mut served = serve(None);
    let port = served.ports[0].1;
    let refused = https(
        port,
        &served.ca,
        "GET",
        "/keys?api-version=7.5",
        &forged,
        "",
    );
    let accepted = https(
        port,
        &served.ca,
        "GET",
        "/keys?api-version=7.5",
        &served.token,
        "",
    );
    let _ = served.child.kill();
    let _ = served.child.wait();
    assert!(refused.starts_with("HTTP/1.1 401"), "{refused}");
    assert!(accepted.starts_with("HTTP/1.1 200"), "{accepted}");
    // A copy of the asset file gets a fresh secret when opened: a backup made in it does
    // not open with the published root.
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("copy.ron");
    std::fs::write(&copy, tde_console::persist::DEMO_RON).unwrap();
    let mut ws = tde_console::persist::load(&copy).unwrap();
    assert!(!ws.backup_root.is_published());
    let blob = tde_console::service::keyvault::backup_key(&mut ws, VAULT, "tde-protector")
        .expect("backup");
    let v = ws.vault(VAULT).unwrap();
    let geo = tde_console::service::keyvault::geography_of(&v.location);
    assert!(
        tde_console::crypto::backup::open(&BackupRoot::published(), &v.subscription.0, &geo, &blob)
            .is_err()
    );
    assert!(
        tde_console::crypto::backup::open(&ws.backup_root, &v.subscription.0, &geo, &blob).is_ok()
    );
}

/// Issue 21: routing is on the path as sent, split on `/` before any segment is decoded,
/// as Key Vault routes: `%2f` inside a segment never splits it (and a name holding a `/` is
/// refused), `//keys` is not `/keys`, and a segment is decoded after the split.
#[test]
fn routing_splits_the_raw_path_before_decoding() {
    let mut ws = demo();
    let keys: Arc<dyn tde_console::service::KeySource> = Arc::new(FixtureKeys::new());
    let mut endpoint = Endpoint::start(&ws, 0, keys.clone(), Arc::new(|| {})).expect("started");
    let url = endpoint
        .vaults
        .iter()
        .find(|v| v.name == VAULT)
        .expect("the demo vault is served")
        .url
        .clone();
    let port: u16 = url
        .trim_end_matches('/')
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let ca = endpoint.ca_pem.clone();
    let token = endpoint.console_token(&ws);
    let client = std::thread::spawn(move || {
        [
            "/keys/tde-protector/versions?api-version=7.5",
            "/keys/tde%2Dprotector/versions?api-version=7.5",
            "/keys/tde-protector%2fversions?api-version=7.5",
            "/keys/tde-protector%2Fversions?api-version=7.5",
            "//keys?api-version=7.5",
            "//keys/tde-protector/versions?api-version=7.5",
            "/keys/tde-protector/?api-version=7.5",
        ]
        .map(|t| tls_get(&ca, port, t, &token))
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !client.is_finished() && std::time::Instant::now() < deadline {
        endpoint.serve_next(&mut ws, keys.as_ref(), std::time::Duration::from_millis(20));
    }
    let [
        versions,
        decoded_after_split,
        encoded_slash,
        encoded_slash_upper,
        double_slash,
        double_slash_deep,
        latest,
    ] = client.join().expect("client");
    endpoint.stop();
    assert!(versions.starts_with("HTTP/1.1 200"), "{versions}");
    assert!(versions.contains("\"value\":["), "{versions}");
    assert!(
        decoded_after_split.starts_with("HTTP/1.1 200"),
        "{decoded_after_split}"
    );
    assert!(latest.starts_with("HTTP/1.1 200"), "{latest}");
    for r in [&encoded_slash, &encoded_slash_upper] {
        assert!(r.starts_with("HTTP/1.1 400"), "{r}");
        assert!(r.contains("BadParameter"), "{r}");
        assert!(!r.contains("\"value\":["), "never the versions list: {r}");
    }
    for r in [&double_slash, &double_slash_deep] {
        assert!(r.starts_with("HTTP/1.1 404"), "{r}");
        assert!(!r.contains("\"value\":["), "never a list: {r}");
    }
}

/// One GET over TLS to `port` with the raw request target `target` (sent as is, not
/// normalised), answered with `Connection: close`: the whole response as text.
fn tls_get(ca: &str, port: u16, target: &str, token: &str) -> String {
    https(port, ca, "GET", target, token, "")
}

/// The secrets API as `SecretClient` calls it: set, get (latest and by version), pages with
/// `nextLink`, update, delete, deleted secrets, recover, backup and restore, and values only
/// in the answers to set and get.
#[test]
fn the_secrets_api_answers_in_the_services_shapes() {
    use std::collections::BTreeSet;
    use tde_console::model::SecretPermission;
    let mut ws = demo();
    let t = console_token(&ws);
    let me = ws.console_user.object_id.clone();
    let all: BTreeSet<SecretPermission> = SecretPermission::ALL.into_iter().collect();
    tde_console::service::secrets::set_access_policy(&mut ws, VAULT, &me, None, Some(&all))
        .expect("granted");
    let body = |r: &Response| String::from_utf8_lossy(&r.body).to_string();
    let put = |ws: &mut Workspace, name: &str, b: &str| {
        call(
            ws,
            &request("PUT", &format!("/secrets/{name}"), Some(&t), b),
        )
    };
    let r = put(
        &mut ws,
        "api-secret",
        r#"{"value":"v1","contentType":"text/plain","tags":{"app":"x"},"attributes":{"enabled":true}}"#,
    );
    assert_eq!(r.status, 200, "{}", body(&r));
    let first = json(&r);
    assert_eq!(first["value"], "v1");
    assert_eq!(first["contentType"], "text/plain");
    assert_eq!(first["tags"]["app"], "x");
    let id = first["id"].as_str().unwrap().to_string();
    assert!(
        id.starts_with(&format!("{BASE}secrets/api-secret/")),
        "{id}"
    );
    let v1 = id.rsplit('/').next().unwrap().to_string();
    assert!(first["attributes"]["created"].is_i64());
    assert!(put(&mut ws, "api-secret", r#"{"value":"v2"}"#).status == 200);
    for n in 0..3 {
        assert_eq!(
            put(&mut ws, &format!("other-{n}"), r#"{"value":"x"}"#).status,
            200
        );
    }
    let get = |ws: &mut Workspace, path: &str| call(ws, &request("GET", path, Some(&t), ""));
    assert_eq!(json(&get(&mut ws, "/secrets/api-secret/"))["value"], "v2");
    assert_eq!(
        json(&get(&mut ws, &format!("/secrets/api-secret/{v1}")))["value"],
        "v1"
    );
    // Pages of one, followed through nextLink.
    let mut path = "/secrets?api-version=7.5&maxresults=1".to_string();
    let mut names = Vec::new();
    loop {
        let page = json(&get(&mut ws, &path));
        for item in page["value"].as_array().unwrap() {
            assert!(
                item.get("value").is_none(),
                "a list holds no values: {item}"
            );
            names.push(item["id"].as_str().unwrap().to_string());
        }
        match page["nextLink"].as_str() {
            Some(next) => {
                path = next
                    .strip_prefix(BASE.trim_end_matches('/'))
                    .unwrap()
                    .to_string()
            }
            None => break,
        }
    }
    assert_eq!(names.len(), 4, "{names:?}");
    let versions = json(&get(&mut ws, "/secrets/api-secret/versions"));
    assert_eq!(versions["value"].as_array().unwrap().len(), 2);
    // Update: disable; a get is then refused.
    let r = call(
        &mut ws,
        &request(
            "PATCH",
            "/secrets/api-secret/",
            Some(&t),
            r#"{"attributes":{"enabled":false}}"#,
        ),
    );
    assert_eq!(r.status, 200, "{}", body(&r));
    assert!(json(&r).get("value").is_none());
    let r = get(&mut ws, "/secrets/api-secret/");
    assert_eq!(r.status, 403);
    assert_eq!(
        json(&r)["error"]["message"],
        "Operation get is not allowed on a disabled secret."
    );
    let r = call(
        &mut ws,
        &request(
            "PATCH",
            "/secrets/api-secret/",
            Some(&t),
            r#"{"attributes":{"enabled":"no"}}"#,
        ),
    );
    assert_eq!(r.status, 400);
    // Backup, delete, the name conflict, recover.
    let r = call(
        &mut ws,
        &request("POST", "/secrets/other-0/backup", Some(&t), ""),
    );
    assert_eq!(r.status, 200);
    let blob = json(&r)["value"].as_str().unwrap().to_string();
    let r = call(
        &mut ws,
        &request("DELETE", "/secrets/other-0", Some(&t), ""),
    );
    assert_eq!(r.status, 200);
    let d = json(&r);
    assert_eq!(d["recoveryId"], format!("{BASE}deletedsecrets/other-0"));
    assert!(d["scheduledPurgeDate"].is_i64() && d["deletedDate"].is_i64());
    assert!(d.get("value").is_none());
    let r = put(&mut ws, "other-0", r#"{"value":"again"}"#);
    assert_eq!(
        (r.status, json(&r)["error"]["code"].as_str()),
        (409, Some("Conflict"))
    );
    let deleted = json(&get(&mut ws, "/deletedsecrets"));
    assert_eq!(deleted["value"].as_array().unwrap().len(), 1);
    assert_eq!(get(&mut ws, "/deletedsecrets/other-0").status, 200);
    let r = call(
        &mut ws,
        &request("POST", "/deletedsecrets/other-0/recover", Some(&t), ""),
    );
    assert_eq!(r.status, 200, "{}", body(&r));
    assert_eq!(json(&get(&mut ws, "/secrets/other-0/"))["value"], "x");
    // Restore into the same vault: the name exists.
    let r = call(
        &mut ws,
        &request(
            "POST",
            "/secrets/restore",
            Some(&t),
            &format!(r#"{{"value":"{blob}"}}"#),
        ),
    );
    assert_eq!(r.status, 409, "{}", body(&r));
    let r = get(&mut ws, "/secrets/nope/");
    assert_eq!(json(&r)["error"]["code"], "SecretNotFound");
    assert_eq!(
        call(&mut ws, &request("POST", "/secrets/x", Some(&t), "")).status,
        405
    );
    let r = put(&mut ws, "bad", r#"{"value":5}"#);
    assert_eq!(r.status, 400);
}

/// Issue 24: a 429's body and its `Retry-After` tell the same wait (the seconds to the
/// vault's next 10-second window), and waiting that long gets the next request through.
#[test]
fn a_429_says_the_same_wait_in_its_body_and_its_retry_after() {
    let mut ws = demo();
    let t = console_token(&ws);
    let mut throttled = None;
    for i in 0..60 {
        let r = call(
            &mut ws,
            &request(
                "POST",
                &format!("/keys/burst-{i}/create"),
                Some(&t),
                r#"{"kty":"EC"}"#,
            ),
        );
        if r.status == 429 {
            throttled = Some(r);
            break;
        }
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    }
    let r = throttled.expect("the create limit is reached within 60 creates");
    let header: i64 = r
        .headers
        .iter()
        .find(|(n, _)| n == "Retry-After")
        .map(|(_, v)| v.parse().expect("seconds"))
        .expect("Retry-After");
    let message = json(&r)["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let unit = if header == 1 { "second" } else { "seconds" };
    assert!(
        message.ends_with(&format!("retry after {header} {unit}.")),
        "Retry-After {header} vs {message}"
    );
    tde_console::service::behaviour::advance(&mut ws, tde_console::sim::Duration::seconds(header))
        .expect("advance");
    let r = call(
        &mut ws,
        &request(
            "POST",
            "/keys/after-the-wait/create",
            Some(&t),
            r#"{"kty":"EC"}"#,
        ),
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
}

/// Issue 24: the algorithms real applications use. PS256/384/512 on RSA keys, ES256/384/512
/// on EC keys of the matching curve (each checked by the verify route and refused on the
/// wrong key), RSA1_5 encrypt and decrypt, an EC key imported as a JWK, `oct` refused by a
/// vault as Azure refuses it, and attestation / release answered "not supported".
#[test]
fn the_algorithms_real_apps_use() {
    use base64::Engine;
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let unb64 = |v: &serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(v.as_str().expect("base64url"))
            .expect("base64url")
    };
    let mut ws = demo();
    let t = console_token(&ws);
    let post = |ws: &mut Workspace, path: &str, body: serde_json::Value| {
        call(ws, &request("POST", path, Some(&t), &body.to_string()))
    };
    // Sign with one algorithm, verify with the service, and a changed digest fails.
    let sign_verify = |ws: &mut Workspace, key: &str, alg: &str, len: usize| -> Response {
        let digest = vec![0x5au8; len];
        let r = post(
            ws,
            &format!("/keys/{key}//sign"),
            serde_json::json!({"alg": alg, "value": b64(&digest)}),
        );
        if r.status != 200 {
            return r;
        }
        let sig = json(&r)["value"].clone();
        let ok = post(
            ws,
            &format!("/keys/{key}//verify"),
            serde_json::json!({"alg": alg, "digest": b64(&digest), "value": sig}),
        );
        assert_eq!(json(&ok)["value"], true, "{alg} on {key}");
        let mut other = digest.clone();
        other[0] ^= 1;
        let no = post(
            ws,
            &format!("/keys/{key}//verify"),
            serde_json::json!({"alg": alg, "digest": b64(&other), "value": sig}),
        );
        assert_eq!(json(&no)["value"], false, "{alg} on {key}, changed digest");
        r
    };
    let r = post(
        &mut ws,
        "/keys/app-rsa/create",
        serde_json::json!({"kty": "RSA", "key_size": 2048}),
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    for (alg, len) in [("PS256", 32), ("PS384", 48), ("PS512", 64), ("RS256", 32)] {
        let r = sign_verify(&mut ws, "app-rsa", alg, len);
        assert_eq!(r.status, 200, "{alg}: {}", String::from_utf8_lossy(&r.body));
        assert_eq!(unb64(&json(&r)["value"]).len(), 256);
    }
    for (crv, alg, len, sig_len) in [
        ("P-256", "ES256", 32, 64),
        ("P-384", "ES384", 48, 96),
        ("P-521", "ES512", 64, 132),
    ] {
        let name = format!("app-ec-{}", &crv[2..]);
        let r = post(
            &mut ws,
            &format!("/keys/{name}/create"),
            serde_json::json!({"kty": "EC", "crv": crv}),
        );
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        let r = sign_verify(&mut ws, &name, alg, len);
        assert_eq!(r.status, 200, "{alg}: {}", String::from_utf8_lossy(&r.body));
        assert_eq!(unb64(&json(&r)["value"]).len(), sig_len, "r || s");
        // The wrong curve's algorithm, and an RSA one, are refused with a reason.
        let wrong = if alg == "ES256" {
            ("ES384", 48)
        } else {
            ("ES256", 32)
        };
        for (a, l) in [wrong, ("RS256", 32)] {
            let r = sign_verify(&mut ws, &name, a, l);
            assert_eq!(r.status, 400, "{a} on {crv}");
            assert_eq!(json(&r)["error"]["code"], "BadParameter");
        }
    }
    // RSA1_5: encrypt through the service, decrypt through the service.
    let secret = b"a 32-byte content encryption key";
    let enc = post(
        &mut ws,
        "/keys/app-rsa//encrypt",
        serde_json::json!({"alg": "RSA1_5", "value": b64(secret)}),
    );
    assert_eq!(enc.status, 200, "{}", String::from_utf8_lossy(&enc.body));
    let dec = post(
        &mut ws,
        "/keys/app-rsa//decrypt",
        serde_json::json!({"alg": "RSA1_5", "value": json(&enc)["value"]}),
    );
    assert_eq!(dec.status, 200, "{}", String::from_utf8_lossy(&dec.body));
    assert_eq!(unb64(&json(&dec)["value"]), secret);
    // An EC key imported as a JWK signs, and its bundle carries the same point.
    let fixture = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/ec-p256.pem"
    ))
    .expect("fixture");
    let imported = tde_console::crypto::EcKeyMaterial::from_pem(&fixture).expect("fixture");
    let jwk = ec_jwk_of_fixture(&fixture);
    let r = call(
        &mut ws,
        &request(
            "PUT",
            "/keys/app-ec-imported",
            Some(&t),
            &serde_json::json!({"key": jwk}).to_string(),
        ),
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let (ix, iy) = imported.coordinates();
    assert_eq!(unb64(&json(&r)["key"]["x"]), ix);
    assert_eq!(unb64(&json(&r)["key"]["y"]), iy);
    assert_eq!(
        sign_verify(&mut ws, "app-ec-imported", "ES256", 32).status,
        200
    );
    // A JWK whose `d` does not give its point is refused and adds nothing.
    let mut bad = jwk.clone();
    bad["x"] = serde_json::json!(b64(&[7u8; 32]));
    let r = call(
        &mut ws,
        &request(
            "PUT",
            "/keys/app-ec-bad",
            Some(&t),
            &serde_json::json!({"key": bad}).to_string(),
        ),
    );
    assert_eq!(r.status, 400);
    assert!(ws.vault(VAULT).unwrap().key("app-ec-bad").is_none());
    // `oct` in a vault: Azure's own refusal.
    for (method, path, body) in [
        (
            "PUT",
            "/keys/app-aes",
            serde_json::json!({"key": {"kty": "oct", "k": b64(&[1u8; 32])}}),
        ),
        (
            "POST",
            "/keys/app-aes/create",
            serde_json::json!({"kty": "oct", "key_size": 256}),
        ),
    ] {
        let r = call(&mut ws, &request(method, path, Some(&t), &body.to_string()));
        assert_eq!(r.status, 400);
        assert_eq!(json(&r)["error"]["code"], "BadParameter");
        assert_eq!(json(&r)["error"]["message"], "Invalid kty value: oct");
        assert_eq!(
            json(&r)["error"]["innererror"]["code"],
            "KeyTypeNotSupported"
        );
    }
    // Attestation and secure key release: "not supported by this simulation", not a 404.
    for (method, path) in [
        ("GET", "/keys/app-rsa//attestation?api-version=7.6"),
        ("POST", "/keys/app-rsa//release?api-version=7.6"),
    ] {
        let r = call(&mut ws, &request(method, path, Some(&t), "{}"));
        assert_eq!(r.status, 501, "{path}");
        assert_eq!(json(&r)["error"]["code"], "NotSupportedBySimulation");
        assert!(
            json(&r)["error"]["message"]
                .as_str()
                .unwrap()
                .contains("not supported by this simulation")
        );
    }
    // ...except for a key that does not exist, which is the 404 it always is.
    let r = call(
        &mut ws,
        &request(
            "GET",
            "/keys/no-such-key//attestation?api-version=7.6",
            Some(&t),
            "",
        ),
    );
    assert_eq!(r.status, 404);
}

/// The JWK (`kty`, `crv`, `x`, `y`, `d`) of the P-256 fixture, read with openssl's layout
/// of a PKCS#8 EC key: the private scalar follows `04 20`, the point follows `03 42 00 04`.
fn ec_jwk_of_fixture(pem: &str) -> serde_json::Value {
    use base64::Engine;
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .expect("PEM");
    let find = |pat: &[u8]| {
        der.windows(pat.len())
            .position(|w| w == pat)
            .expect("marker")
            + pat.len()
    };
    let d = &der[find(&[0x04, 0x20])..][..32];
    let point = &der[find(&[0x03, 0x42, 0x00, 0x04])..][..64];
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    serde_json::json!({"kty": "EC", "crv": "P-256", "x": b64(&point[..32]), "y": b64(&point[32..]), "d": b64(d)})
}

fn port_of(url: &str) -> u16 {
    url.trim_end_matches('/')
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("a port")
}

/// Issue 24: 64 connections at once to one vault (twice its slots) are all answered:
/// those beyond the slots wait their turn instead of being reset before TLS.
#[test]
fn sixty_four_concurrent_connections_to_one_vault_all_get_an_answer() {
    let mut ws = demo();
    let keys: Arc<dyn tde_console::service::KeySource> = Arc::new(FixtureKeys::new());
    let mut endpoint = Endpoint::start(&ws, 0, keys.clone(), Arc::new(|| {})).expect("started");
    let port = port_of(&endpoint.vaults[0].url);
    let (ca, token) = (endpoint.ca_pem.clone(), endpoint.console_token(&ws));
    const N: usize = 64;
    const { assert!(N > tde_console::vault_endpoint::MAX_CONNECTIONS_PER_VAULT) };
    let connected = Arc::new(std::sync::Barrier::new(N));
    let clients: Vec<_> = (0..N)
        .map(|_| {
            let (ca, token, connected) = (ca.clone(), token.clone(), connected.clone());
            std::thread::spawn(move || {
                let tcp = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connects");
                // Every connection open before any sends a byte.
                connected.wait();
                https_on(
                    tcp,
                    port,
                    &ca,
                    "GET",
                    "/keys?api-version=7.5",
                    Some(&token),
                    "",
                )
            })
        })
        .collect();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !clients.iter().all(|c| c.is_finished()) && std::time::Instant::now() < deadline {
        endpoint.serve_next(&mut ws, keys.as_ref(), std::time::Duration::from_millis(10));
    }
    let answers: Vec<String> = clients
        .into_iter()
        .map(|c| c.join().expect("client"))
        .collect();
    for a in &answers {
        assert!(
            a.starts_with("HTTP/1.1 200"),
            "{}",
            a.lines().next().unwrap_or("(nothing: reset)")
        );
    }
    assert_eq!(
        endpoint
            .stats
            .refused
            .load(std::sync::atomic::Ordering::SeqCst),
        0
    );
    endpoint.stop();
}

/// Beyond a vault's slots and its whole queue, a connection still gets HTTP: a 503 with
/// `Retry-After`, after TLS.
#[test]
fn beyond_the_queue_a_connection_gets_a_503_with_retry_after() {
    use tde_console::vault_endpoint::{MAX_CONNECTIONS_PER_VAULT, QUEUE_PER_VAULT};
    let ws = demo();
    let keys: Arc<dyn tde_console::service::KeySource> = Arc::new(FixtureKeys::new());
    let endpoint = Endpoint::start(&ws, 0, keys, Arc::new(|| {})).expect("started");
    let port = port_of(&endpoint.vaults[0].url);
    let ca = endpoint.ca_pem.clone();
    // Every slot held by a client that has begun a TLS record and sends no more...
    let hogs: Vec<std::net::TcpStream> = (0..MAX_CONNECTIONS_PER_VAULT)
        .map(|_| {
            let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
            s.write_all(&[0x16]).unwrap();
            s
        })
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(300));
    // ...and the whole queue waiting behind them.
    let waiting: Vec<std::net::TcpStream> = (0..QUEUE_PER_VAULT)
        .map(|_| std::net::TcpStream::connect(("127.0.0.1", port)).unwrap())
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let busy = https_as(port, &ca, "GET", "/keys?api-version=7.5", None, "");
    assert!(busy.starts_with("HTTP/1.1 503"), "{busy}");
    assert!(busy.contains("Retry-After: 1\r\n"), "{busy}");
    assert!(busy.contains("ServiceUnavailable"), "{busy}");
    assert!(
        endpoint
            .stats
            .refused
            .load(std::sync::atomic::Ordering::SeqCst)
            >= 1
    );
    drop((hogs, waiting));
    endpoint.stop();
}

/// Issue 24: a vault created while serving is served at once (a new port, the same
/// shape as the others), and a deleted one stops listening.
#[test]
fn vaults_are_served_as_they_appear_and_stop_when_deleted() {
    use tde_console::vault_endpoint::Change;
    let mut ws = demo();
    let keys: Arc<dyn tde_console::service::KeySource> = Arc::new(FixtureKeys::new());
    let mut endpoint = Endpoint::start(&ws, 0, keys.clone(), Arc::new(|| {})).expect("started");
    assert!(endpoint.sync(&ws).is_empty(), "nothing changed yet");
    let mut sh = Shell::new().with_keys(FixtureKeys::boxed());
    let out = sh.run_script(
        &mut ws,
        "az keyvault create --name kv-new-app --resource-group rg-contoso-us --location eastus -o none",
        false,
    );
    assert_eq!(out.failures, 0, "{}", out.stderr);
    let changes = endpoint.sync(&ws);
    let [Change::Served(new)] = changes.as_slice() else {
        panic!("{changes:?}");
    };
    assert_eq!(new.name, "kv-new-app");
    assert!(endpoint.vaults.iter().any(|v| v == new));
    let port = port_of(&new.url);
    let (ca, token) = (endpoint.ca_pem.clone(), endpoint.console_token(&ws));
    let client =
        std::thread::spawn(move || https(port, &ca, "GET", "/keys?api-version=7.5", &token, ""));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !client.is_finished() && std::time::Instant::now() < deadline {
        endpoint.serve_next(&mut ws, keys.as_ref(), std::time::Duration::from_millis(10));
    }
    let listed = client.join().expect("client");
    assert!(listed.starts_with("HTTP/1.1 200"), "{listed}");
    let out = sh.run_script(
        &mut ws,
        "az keyvault delete --name kv-new-app -o none",
        false,
    );
    assert_eq!(out.failures, 0, "{}", out.stderr);
    assert_eq!(
        endpoint.sync(&ws),
        vec![Change::Stopped("kv-new-app".into())]
    );
    assert!(!endpoint.vaults.iter().any(|v| v.name == "kv-new-app"));
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "a deleted vault's port refuses connections"
    );
    endpoint.stop();
}
