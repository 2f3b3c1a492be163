//! The vaults of a workspace as real Key Vault endpoints for real clients: the Azure SDKs
//! (Python, .NET, Java, Go, JavaScript) point at `https://127.0.0.1:PORT/` and call the
//! keys API as they would call `https://NAME.vault.azure.net/`.
//!
//! Each vault gets a port of its own on 127.0.0.1 (never another interface): the SDKs
//! parse key ids as `https://HOST[:PORT]/keys/NAME/VERSION`, so a vault URL has no path.
//! TLS uses a certificate made at start ([`tls`]); clients trust its CA file. Requests are
//! authenticated with tokens of this workspace ([`token`]) and run through the operations
//! layer as the token's principal ([`rest`]): access policies or RBAC, firewall (the
//! client's address counts as the console's client IP setting), limits with 429 and
//! `Retry-After`, soft delete, and the audit records the Logs blade shows.
//!
//! Threads: a listener per vault and a thread per connection (at most
//! [`MAX_CONNECTIONS`], [`MAX_CONNECTIONS_PER_VAULT`] to one vault) read and write HTTP,
//! with an idle limit and a deadline for each request; the workspace stays with its owner (the UI
//! thread of the app, the main thread of `tde-console serve`), which handles each request
//! in turn ([`Endpoint::serve_waiting`], [`Endpoint::serve_next`]). Key generation for a
//! create or rotate runs on the connection's thread, never the owner's.
//!
//! While serving, the simulated clock follows the wall clock between requests (at most a
//! minute at a time), so a throttled client's `Retry-After` wait really opens the next
//! window.
//!
//! For the real `az` CLI, one more port is an HTTPS proxy ([`proxy`]): az reaches
//! `https://NAME.vault.azure.net`, `https://management.azure.com` and
//! `https://login.microsoftonline.com` through it (`HTTPS_PROXY`), and the proxy answers
//! them itself, with certificates of the same local CA: the vault's data plane ([`rest`]),
//! the Resource Manager routes ([`crate::arm_endpoint`]) and the sign-in authority
//! ([`crate::arm_endpoint::login`]). Nothing is forwarded anywhere; key ids stay canonical.

pub mod http;
pub mod json;
pub mod proxy;
pub mod rest;
pub mod tls;
pub mod token;

use crate::crypto::KeyMaterial;
use crate::model::Workspace;
use crate::service::KeySource;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Connections served at once, in all (beyond it a new connection is closed at once)...
pub const MAX_CONNECTIONS: usize = 128;
/// ...and to one vault, so clients holding one vault's connections leave the others alone.
pub const MAX_CONNECTIONS_PER_VAULT: usize = 32;
/// How long a connection may sit idle between requests.
const IDLE: Duration = Duration::from_secs(15);
/// How long a client has to send a whole request (TLS handshake included) once it has
/// started: a client trickling bytes does not hold a connection longer.
const REQUEST_WITHIN: Duration = Duration::from_secs(10);
/// How long a connection waits for the workspace's owner to answer.
const ANSWER_WITHIN: Duration = Duration::from_secs(60);
/// A default token's lifetime (wall-clock seconds).
pub const TOKEN_LIFETIME_S: i64 = 8 * 3600;

/// Where a connection's requests go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A vault's data plane; key ids are built on `base`.
    Vault { vault: String, base: String },
    /// Azure Resource Manager (`management.azure.com`).
    Arm,
    /// The sign-in authority (`login.microsoftonline.com`).
    Login,
}

/// A request waiting for the workspace's owner.
pub struct Pending {
    target: Target,
    request: http::Request,
    material: Option<KeyMaterial>,
    reply: mpsc::SyncSender<rest::Outcome>,
}

/// A vault being served, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServedVault {
    pub name: String,
    pub url: String,
}

/// Counters for the status indicator.
#[derive(Default)]
pub struct Stats {
    pub requests: AtomicU64,
    pub connections: AtomicUsize,
}

/// The running endpoint. Dropping it stops the listeners.
pub struct Endpoint {
    pub vaults: Vec<ServedVault>,
    /// PEM of the certificate authority clients trust (`connection_verify=`).
    pub ca_pem: String,
    /// The same, in a file of a private folder that lives as long as the endpoint.
    pub ca_path: std::path::PathBuf,
    /// The HTTPS proxy the real az reaches Azure's host names through
    /// (`http://127.0.0.1:PORT`).
    pub az_proxy: String,
    /// A private az configuration folder (`AZURE_CONFIG_DIR`): the user's own is never touched.
    pub az_config_dir: std::path::PathBuf,
    _ca_dir: tempfile::TempDir,
    pub stats: Arc<Stats>,
    requests: mpsc::Receiver<Pending>,
    stop: Arc<AtomicBool>,
    listening: Vec<SocketAddr>,
    token_key: [u8; 32],
    last_tick: Instant,
    /// Requests handled, with their outcome status, newest last (for the app's window).
    pub recent: Arc<Mutex<Vec<(String, u16)>>>,
}

/// Wall-clock unix seconds.
pub fn wall_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl Endpoint {
    /// Serves every live vault of `ws`, the first on `first_port` and the others on the
    /// ports after it (`0`: ports the system picks). `wake` is called when a request is
    /// waiting (the app repaints).
    pub fn start(
        ws: &Workspace,
        first_port: u16,
        keys: Arc<dyn KeySource>,
        wake: Arc<dyn Fn() + Send + Sync>,
    ) -> Result<Endpoint, String> {
        let certs = tls::make()?;
        let ca_dir = tempfile::Builder::new()
            .prefix("tde-console-vaults-")
            .tempdir()
            .map_err(|e| format!("cannot make a folder for the certificate: {e}"))?;
        let ca_path = ca_dir.path().join("ca.pem");
        crate::persist::write_new_file(&ca_path, certs.ca_pem.as_bytes())?;
        let az_config_dir = ca_dir.path().join("az");
        std::fs::create_dir(&az_config_dir)
            .map_err(|e| format!("cannot make a folder for az's configuration: {e}"))?;
        let proxy_tls = certs.for_hosts(proxy::HOSTS)?;
        let (tx, rx) = mpsc::channel::<Pending>();
        let stop = Arc::new(AtomicBool::new(false));
        let stats = Arc::new(Stats::default());
        let mut vaults = Vec::new();
        let mut listening = Vec::new();
        let live: Vec<&crate::model::KeyVault> =
            ws.vaults.iter().filter(|v| v.deleted.is_none()).collect();
        // Every port first: when one is taken, nothing has started (the listeners bound so
        // far close as they drop).
        let mut bound = Vec::with_capacity(live.len());
        for (i, v) in live.iter().enumerate() {
            let port = if first_port == 0 {
                0
            } else {
                u16::try_from(first_port as usize + i).map_err(|_| {
                    format!("no port left for vault '{}' after {first_port}", v.name)
                })?
            };
            let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port)).map_err(|e| {
                format!(
                    "cannot listen on 127.0.0.1:{port} for vault '{}': {e}",
                    v.name
                )
            })?;
            bound.push((v.name.clone(), listener));
        }
        let proxy_listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .map_err(|e| format!("cannot listen on 127.0.0.1 for az: {e}"))?;
        for (name, listener) in bound {
            let addr = listener.local_addr().map_err(|e| e.to_string())?;
            let base = format!("https://127.0.0.1:{}/", addr.port());
            vaults.push(ServedVault {
                name: name.clone(),
                url: base.clone(),
            });
            listening.push(addr);
            let (tx, stop, stats, tls, keys, wake, vault) = (
                tx.clone(),
                stop.clone(),
                stats.clone(),
                certs.server.clone(),
                keys.clone(),
                wake.clone(),
                name.clone(),
            );
            std::thread::Builder::new()
                .name(format!("vault-endpoint {name}"))
                .spawn(move || {
                    let mine = Arc::new(AtomicUsize::new(0));
                    for stream in listener.incoming() {
                        if stop.load(Ordering::SeqCst) {
                            break;
                        }
                        let Ok(stream) = stream else { continue };
                        if stats.connections.load(Ordering::SeqCst) >= MAX_CONNECTIONS
                            || mine.load(Ordering::SeqCst) >= MAX_CONNECTIONS_PER_VAULT
                        {
                            drop(stream);
                            continue;
                        }
                        stats.connections.fetch_add(1, Ordering::SeqCst);
                        mine.fetch_add(1, Ordering::SeqCst);
                        let conn = Connection {
                            target: Target::Vault {
                                vault: vault.clone(),
                                base: base.clone(),
                            },
                            tx: tx.clone(),
                            keys: keys.clone(),
                            wake: wake.clone(),
                            stop: stop.clone(),
                        };
                        let (tls, counters, vault_count) =
                            (tls.clone(), stats.clone(), mine.clone());
                        let spawned = std::thread::Builder::new()
                            .name("vault-endpoint connection".into())
                            .spawn(move || {
                                conn.serve(stream, tls);
                                counters.connections.fetch_sub(1, Ordering::SeqCst);
                                vault_count.fetch_sub(1, Ordering::SeqCst);
                            });
                        if spawned.is_err() {
                            stats.connections.fetch_sub(1, Ordering::SeqCst);
                            mine.fetch_sub(1, Ordering::SeqCst);
                        }
                    }
                })
                .map_err(|e| e.to_string())?;
        }
        let proxy_addr = proxy_listener.local_addr().map_err(|e| e.to_string())?;
        listening.push(proxy_addr);
        {
            let (tx, stop, stats, keys, wake) = (
                tx.clone(),
                stop.clone(),
                stats.clone(),
                keys.clone(),
                wake.clone(),
            );
            std::thread::Builder::new()
                .name("az proxy".into())
                .spawn(move || {
                    for stream in proxy_listener.incoming() {
                        if stop.load(Ordering::SeqCst) {
                            break;
                        }
                        let Ok(stream) = stream else { continue };
                        if stats.connections.load(Ordering::SeqCst) >= MAX_CONNECTIONS {
                            drop(stream);
                            continue;
                        }
                        stats.connections.fetch_add(1, Ordering::SeqCst);
                        let conn = Connection {
                            target: Target::Arm,
                            tx: tx.clone(),
                            keys: keys.clone(),
                            wake: wake.clone(),
                            stop: stop.clone(),
                        };
                        let (tls, counters) = (proxy_tls.clone(), stats.clone());
                        let spawned = std::thread::Builder::new()
                            .name("az proxy connection".into())
                            .spawn(move || {
                                conn.serve_tunnel(stream, tls);
                                counters.connections.fetch_sub(1, Ordering::SeqCst);
                            });
                        if spawned.is_err() {
                            stats.connections.fetch_sub(1, Ordering::SeqCst);
                        }
                    }
                })
                .map_err(|e| e.to_string())?;
        }
        Ok(Endpoint {
            vaults,
            ca_pem: certs.ca_pem,
            ca_path,
            az_proxy: format!("http://{proxy_addr}"),
            az_config_dir,
            _ca_dir: ca_dir,
            stats,
            requests: rx,
            stop,
            listening,
            token_key: ws.backup_root.token_signing_key(),
            last_tick: Instant::now(),
            recent: Arc::new(Mutex::new(Vec::new())),
        })
    }

    /// Handles every request waiting; returns how many (the app calls it each frame).
    pub fn serve_waiting(&mut self, ws: &mut Workspace, keys: &dyn KeySource) -> usize {
        let mut n = 0;
        while let Ok(p) = self.requests.try_recv() {
            let _ = self.answer(ws, keys, p, &mut |_| Ok(()));
            n += 1;
        }
        n
    }

    /// Waits up to `timeout` for a request and handles it (the headless server's loop).
    /// The simulated clock follows the wall clock meanwhile.
    pub fn serve_next(&mut self, ws: &mut Workspace, keys: &dyn KeySource, timeout: Duration) {
        let _ = self.serve_next_durably(ws, keys, timeout, &mut |_| Ok(()));
    }

    /// [`serve_next`](Self::serve_next), making each answered request's changes durable
    /// with `commit` before the answer is sent: a change the client is told of survives a
    /// crash. When `commit` fails, the client gets a 503 instead of its answer (the change
    /// stays in this process, not acknowledged) and the error is returned.
    pub fn serve_next_durably(
        &mut self,
        ws: &mut Workspace,
        keys: &dyn KeySource,
        timeout: Duration,
        commit: &mut dyn FnMut(&Workspace) -> Result<(), String>,
    ) -> Result<(), String> {
        match self.requests.recv_timeout(timeout) {
            Ok(p) => self.answer(ws, keys, p, commit),
            Err(_) => {
                self.follow_wall_clock(ws, keys);
                Ok(())
            }
        }
    }

    fn follow_wall_clock(&mut self, ws: &mut Workspace, keys: &dyn KeySource) {
        let secs = self.last_tick.elapsed().as_secs();
        if secs == 0 {
            return;
        }
        self.last_tick += Duration::from_secs(secs);
        let by = crate::sim::Duration::seconds(secs.min(60) as i64);
        // A failed advance (nothing to do, or too much) leaves the clock where it is.
        let _ = crate::service::behaviour::advance_with(ws, by, keys);
    }

    fn answer(
        &mut self,
        ws: &mut Workspace,
        keys: &dyn KeySource,
        p: Pending,
        commit: &mut dyn FnMut(&Workspace) -> Result<(), String>,
    ) -> Result<(), String> {
        self.follow_wall_clock(ws, keys);
        let (mut outcome, label) = match &p.target {
            Target::Vault { vault, base } => (
                rest::handle(
                    ws,
                    rest::Call {
                        vault,
                        base,
                        request: &p.request,
                        material: p.material,
                        token_key: &self.token_key,
                        wall_now: wall_now(),
                    },
                ),
                vault.as_str(),
            ),
            Target::Arm => (
                rest::Outcome::Done(crate::arm_endpoint::handle(
                    ws,
                    keys,
                    &p.request,
                    &self.token_key,
                    wall_now(),
                )),
                "ARM",
            ),
            Target::Login => (
                rest::Outcome::Done(crate::arm_endpoint::login::handle(
                    ws,
                    &p.request,
                    &self.token_key,
                    wall_now(),
                )),
                "sign-in",
            ),
        };
        if let rest::Outcome::Done(r) = &outcome {
            self.stats.requests.fetch_add(1, Ordering::SeqCst);
            if let Ok(mut recent) = self.recent.lock() {
                recent.push((
                    format!("{} {} ({label})", p.request.method, p.request.path),
                    r.status,
                ));
                let excess = recent.len().saturating_sub(200);
                recent.drain(..excess);
            }
        }
        let committed = match &outcome {
            rest::Outcome::Done(_) => commit(ws),
            rest::Outcome::NeedsMaterial(_) => Ok(()),
        };
        if let Err(e) = &committed {
            outcome = rest::Outcome::Done(http::Response::error(
                503,
                "ServiceUnavailable",
                &format!("The change could not be made durable, so it is not acknowledged: {e}"),
            ));
        }
        // The connection may have given up meanwhile; nothing is lost by not answering it.
        let _ = p.reply.send(outcome);
        committed
    }

    /// A token for the console user (what `tde-console serve` prints).
    pub fn console_token(&self, ws: &Workspace) -> String {
        // The console user always has a token; nothing about it can fail.
        token_for(ws, &Bearer::ConsoleUser, TOKEN_LIFETIME_S).unwrap_or_default()
    }

    /// The environment under which an unmodified `az` talks to this workspace: its
    /// requests to Azure's host names go through the proxy, which answers them here, with
    /// certificates of the local CA; az's configuration stays in a private folder.
    pub fn az_env(&self) -> Vec<(String, String)> {
        let ca = self.ca_path.display().to_string();
        [
            ("AZURE_CONFIG_DIR", self.az_config_dir.display().to_string()),
            ("HTTPS_PROXY", self.az_proxy.clone()),
            ("https_proxy", self.az_proxy.clone()),
            ("NO_PROXY", String::new()),
            ("no_proxy", String::new()),
            // az 2.91's requests, its MSAL sign-in included, trust this bundle (and
            // only it: nothing else is reached from this environment).
            ("REQUESTS_CA_BUNDLE", ca),
            ("AZURE_CORE_COLLECT_TELEMETRY", "false".into()),
            ("AZURE_CORE_SURVEY_MESSAGE", "false".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    /// The one command that signs az in (in [`az_env`](Self::az_env)'s environment): as
    /// the console user, through the Azure CLI's application with this workspace's secret.
    pub fn az_login(&self, ws: &Workspace) -> String {
        format!(
            "az login --service-principal --username {} --password {} --tenant {} --output none",
            token::CONSOLE_APP_ID,
            crate::arm_endpoint::login::client_secret(&self.token_key),
            ws.console_user.tenant.0
        )
    }

    /// [`az_env`](Self::az_env) as POSIX shell exports, then [`az_login`](Self::az_login):
    /// what the app's Serve panel copies.
    pub fn az_shell(&self, ws: &Workspace) -> String {
        let mut out: String = self
            .az_env()
            .iter()
            .map(|(k, v)| format!("export {k}='{}'\n", v.replace('\'', "'\\''")))
            .collect();
        out.push_str(&self.az_login(ws));
        out.push('\n');
        out
    }

    /// Stops listening (connections already open finish their request and close).
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        for addr in &self.listening {
            // Wakes the listener's accept so it sees the flag.
            let _ = TcpStream::connect_timeout(addr, Duration::from_millis(200));
        }
    }
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One client connection: TLS, then requests in turn until the client closes or idles.
struct Connection {
    target: Target,
    tx: mpsc::Sender<Pending>,
    keys: Arc<dyn KeySource>,
    wake: Arc<dyn Fn() + Send + Sync>,
    stop: Arc<AtomicBool>,
}

impl Connection {
    fn serve(self, tcp: TcpStream, tls: Arc<rustls::ServerConfig>) {
        let _ = tcp.set_read_timeout(Some(Duration::from_millis(500)));
        let _ = tcp.set_write_timeout(Some(IDLE));
        let sock = Deadlines {
            tcp,
            idle_until: Instant::now() + IDLE,
            started: None,
            stop: self.stop.clone(),
        };
        self.serve_tls(sock, tls);
    }

    /// A proxy client: `CONNECT HOST:443` in the clear, then TLS for that host, answered
    /// here ([`proxy::target_of`]); a host this endpoint does not answer for is refused.
    fn serve_tunnel(mut self, tcp: TcpStream, tls: Arc<rustls::ServerConfig>) {
        // A response's head and body go out at once, not held for the client's delayed ACK.
        let _ = tcp.set_nodelay(true);
        let _ = tcp.set_read_timeout(Some(Duration::from_millis(500)));
        let _ = tcp.set_write_timeout(Some(IDLE));
        let mut sock = Deadlines {
            tcp,
            idle_until: Instant::now() + IDLE,
            started: None,
            stop: self.stop.clone(),
        };
        let mut buf = Vec::new();
        let Ok(request) = http::read_request(&mut sock, &mut buf) else {
            return;
        };
        match proxy::tunnel(&request) {
            Ok(target) => {
                if std::io::Write::write_all(&mut sock.tcp, proxy::ESTABLISHED).is_err() {
                    return;
                }
                self.target = target;
                sock.between_requests();
                self.serve_tls(sock, tls);
            }
            Err(refusal) => {
                let _ = http::write_response(&mut sock.tcp, &refusal, true);
            }
        }
    }

    fn serve_tls(self, sock: Deadlines, tls: Arc<rustls::ServerConfig>) {
        let Ok(conn) = rustls::ServerConnection::new(tls) else {
            return;
        };
        let mut stream = rustls::StreamOwned::new(conn, sock);
        let mut buf = Vec::new();
        loop {
            if self.stop.load(Ordering::SeqCst) {
                return;
            }
            if buf.is_empty() {
                stream.sock.between_requests();
            }
            let request = match http::read_request(&mut stream, &mut buf) {
                Ok(r) => r,
                Err(http::ReadError::Closed) => return,
                Err(http::ReadError::Malformed(status, why)) => {
                    let r = http::Response::error(status, "BadParameter", &why);
                    let _ = http::write_response(&mut stream, &r, true);
                    stream.conn.send_close_notify();
                    let _ = std::io::Write::flush(&mut stream);
                    return;
                }
            };
            let close = request.close;
            let response = self.answer(request);
            if http::write_response(&mut stream, &response, close).is_err() {
                return;
            }
            if close {
                stream.conn.send_close_notify();
                let _ = std::io::Write::flush(&mut stream);
                return;
            }
        }
    }

    /// Hands the request to the workspace's owner and waits for the answer, making key
    /// material here when the request needs some.
    fn answer(&self, request: http::Request) -> http::Response {
        let unavailable =
            || http::Response::error(503, "ServiceUnavailable", "The console is not serving.");
        let mut material = None;
        for _ in 0..2 {
            let (reply, answer) = mpsc::sync_channel(1);
            let pending = Pending {
                target: self.target.clone(),
                request: request.clone(),
                material: material.take(),
                reply,
            };
            if self.tx.send(pending).is_err() {
                return unavailable();
            }
            (self.wake)();
            match answer.recv_timeout(ANSWER_WITHIN) {
                Ok(rest::Outcome::Done(r)) => return r,
                Ok(rest::Outcome::NeedsMaterial(spec)) => match spec.make(self.keys.as_ref()) {
                    Ok(m) => material = Some(m),
                    Err(e) => {
                        return http::Response::error(500, "InternalError", &e);
                    }
                },
                Err(_) => return unavailable(),
            }
        }
        unavailable()
    }
}

/// A connection's socket with its time limits: idle between requests up to [`IDLE`], and
/// a request (from its first byte, TLS handshake included) within [`REQUEST_WITHIN`],
/// however slowly its bytes trickle in.
struct Deadlines {
    tcp: TcpStream,
    idle_until: Instant,
    started: Option<Instant>,
    stop: Arc<AtomicBool>,
}

impl Deadlines {
    fn between_requests(&mut self) {
        self.started = None;
        self.idle_until = Instant::now() + IDLE;
    }
}

impl std::io::Read for Deadlines {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            match self.tcp.read(buf) {
                Ok(n) => {
                    let now = Instant::now();
                    match self.started {
                        None if n > 0 => self.started = Some(now),
                        // Bytes trickling in do not stretch a request's time.
                        Some(t) if now >= t + REQUEST_WITHIN => {
                            return Err(std::io::ErrorKind::TimedOut.into());
                        }
                        _ => {}
                    }
                    return Ok(n);
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    let now = Instant::now();
                    let within = match self.started {
                        None => now < self.idle_until,
                        Some(t) => now < t + REQUEST_WITHIN,
                    };
                    if !within || self.stop.load(Ordering::SeqCst) {
                        return Err(e);
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }
}

impl std::io::Write for Deadlines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.tcp.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.tcp.flush()
    }
}

/// Who a token is for (`tde-console token`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Bearer {
    ConsoleUser,
    /// A user-assigned identity (name, ARM id or principal id), or a server (its
    /// system-assigned identity).
    Identity(String),
    /// An application (app id), as its service principal in `tenant` (default: the
    /// console's tenant, else the first tenant it has one in).
    App {
        app_id: String,
        tenant: Option<String>,
    },
}

/// A token of this workspace for `who`, valid for `lifetime_s` seconds from now.
pub fn token_for(ws: &Workspace, who: &Bearer, lifetime_s: i64) -> Result<String, String> {
    let claims = match who {
        Bearer::ConsoleUser => {
            let u = &ws.console_user;
            token::Claims::new(
                &u.object_id.0,
                &u.tenant.0,
                token::CONSOLE_APP_ID,
                &u.upn,
                true,
                wall_now(),
                lifetime_s,
            )
        }
        Bearer::Identity(id) => {
            if let Some(u) = ws.identities.iter().find(|u| {
                u.name.eq_ignore_ascii_case(id)
                    || u.arm_id().eq_ignore_ascii_case(id)
                    || u.principal_id.0.eq_ignore_ascii_case(id)
            }) {
                token::Claims::new(
                    &u.principal_id.0,
                    &u.tenant_id.0,
                    &u.client_id,
                    &u.name,
                    false,
                    wall_now(),
                    lifetime_s,
                )
            } else if let Some((s, i)) = ws.servers.iter().find_map(|s| {
                s.identity
                    .as_ref()
                    .filter(|i| {
                        s.name.eq_ignore_ascii_case(id) || i.principal_id.0.eq_ignore_ascii_case(id)
                    })
                    .map(|i| (s, i))
            }) {
                token::Claims::new(
                    &i.principal_id.0,
                    &i.tenant_id.0,
                    &i.principal_id.0,
                    &s.name,
                    false,
                    wall_now(),
                    lifetime_s,
                )
            } else {
                return Err(format!(
                    "'{id}' is not a user-assigned identity or a server with a system-assigned identity in this workspace"
                ));
            }
        }
        Bearer::App { app_id, tenant } => {
            let sps: Vec<&crate::model::ServicePrincipal> = ws
                .service_principals
                .iter()
                .filter(|s| s.app_id.eq_ignore_ascii_case(app_id))
                .collect();
            let sp = match tenant {
                Some(t) => sps.iter().find(|s| s.tenant.0.eq_ignore_ascii_case(t)),
                None => sps
                    .iter()
                    .find(|s| s.tenant == ws.console_user.tenant)
                    .or(sps.first()),
            }
            .ok_or_else(|| format!("the application '{app_id}' has no service principal in that tenant (az ad sp create --id {app_id})"))?;
            let name = ws
                .apps
                .iter()
                .find(|a| a.app_id.eq_ignore_ascii_case(app_id))
                .map(|a| a.display_name.clone())
                .unwrap_or_else(|| app_id.clone());
            token::Claims::new(
                &sp.object_id.0,
                &sp.tenant.0,
                &sp.app_id,
                &name,
                false,
                wall_now(),
                lifetime_s,
            )
        }
    };
    Ok(token::issue(&claims, &ws.backup_root.token_signing_key()))
}
