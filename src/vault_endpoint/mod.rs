//! The vaults of a workspace as real Key Vault endpoints for real clients: the Azure SDKs
//! (Python, .NET, Java, Go, JavaScript) point at `https://127.0.0.1:PORT/` and call the
//! keys API as they would call `https://NAME.vault.azure.net/`.
//!
//! Each vault gets a port of its own on 127.0.0.1 (never another interface): the SDKs
//! parse key ids as `https://HOST[:PORT]/keys/NAME/VERSION`, so a vault URL has no path.
//! A vault created while serving gets its port as it appears ([`Endpoint::sync`]); a vault
//! deleted stops listening (its address refuses connections, as a deleted vault's name
//! stops resolving). TLS uses a certificate made at start, under a CA made at start or
//! kept in a folder across runs ([`tls`]); clients trust the CA file. Requests are
//! authenticated with tokens of this workspace ([`token`]) and run through the operations
//! layer as the token's principal ([`rest`]): access policies or RBAC, firewall (the
//! client's address counts as the console's client IP setting), limits with 429 and
//! `Retry-After`, soft delete, and the audit records the Logs blade shows.
//!
//! Threads: a listener per vault and a thread per connection being served (at most
//! [`MAX_CONNECTIONS`], [`MAX_CONNECTIONS_PER_VAULT`] to one vault). A connection beyond
//! its vault's slots is accepted and waits in the vault's queue (at most
//! [`QUEUE_PER_VAULT`]) for a slot, never reset; a connection idle between requests gives
//! its slot up after a second when others wait. Beyond the queue a connection is answered,
//! after TLS, `503` with `Retry-After`. Each connection has an idle limit and a deadline
//! for each request; sockets are `TCP_NODELAY` and a response goes out in one write (one
//! TLS record), so a client's delayed ACK never holds half of it back. The workspace stays
//! with its owner (the UI thread of the app, the main thread of `tde-console serve`),
//! which handles each request in turn ([`Endpoint::serve_waiting`],
//! [`Endpoint::serve_next`]). Key generation for a create or rotate runs on the
//! connection's thread, never the owner's.
//!
//! While serving, the simulated clock follows the wall clock between requests: by default
//! at its pace from where the workspace's clock stands (at most a minute at a time), so a
//! throttled client's `Retry-After` wait really opens the next window; with
//! [`ClockMode::Wall`] (`serve --clock now`) at the wall-clock time itself, so `createdOn`,
//! `notBefore: now` and `expiresOn` in clients' code mean what they say.
//!
//! HTTP: the hand-written server over `httparse` ([`http`]) stays; hyper 1 (with
//! hyper-util, tokio and tokio-rustls) was weighed against it for issue 24, measured:
//! - Latency: the ~44 ms stall was never the parser's: the head and the body went out as
//!   two small writes without `TCP_NODELAY`, and the client's delayed ACK held the second.
//!   With one write per response and `TCP_NODELAY`, `benches/vault.rs` measures a
//!   `wrapKey` round trip over TLS on a kept-alive connection at ~0.06 ms (0.52 ms with a
//!   new connection and its TLS handshake), and the real Python SDK at a median of
//!   2–4 ms for 200 sequential `wrap_key` calls: what remains is the client's own
//!   pipeline, which no server can take away. hyper would not change the time that
//!   matters, the hand-off to the workspace's owner, which stays either way.
//! - Limits: the endpoint bounds what hyper leaves to the application or to extra tower
//!   layers: a request's whole time from its first byte (a client trickling bytes cannot
//!   hold a slot), head and body sizes, connections per vault with a queue and a `503`
//!   beyond it, and chunked bodies refused. Each is a few lines here and tested.
//! - Keep-alive: HTTP/1.1 persistent connections, pipelined requests read in turn, idle
//!   connections closed after [`IDLE`] (sooner when others wait): what the SDKs use.
//! - Cost: hyper brings tokio's runtime, hyper-util, tokio-rustls and the `http` crates
//!   into a build that has none of them (tokio is in the tree only without features), on
//!   machines with two cores. More routes (the ARM surface) grow the routing tables, not
//!   this layer, which parses one request and writes one response.
//!
//! If HTTP/2 or streaming bodies are ever needed, that is the time to move.
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
use std::collections::VecDeque;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Connections served at once, in all...
pub const MAX_CONNECTIONS: usize = 128;
/// ...and to one vault, so clients holding one vault's connections leave the others alone.
pub const MAX_CONNECTIONS_PER_VAULT: usize = 32;
/// Connections to one vault waiting for one of its slots. Beyond them (or when the vault
/// has no connection of its own to free a slot because all [`MAX_CONNECTIONS`] are other
/// vaults'), a connection is answered `503` with `Retry-After` after TLS, not reset.
pub const QUEUE_PER_VAULT: usize = 256;
/// Such `503` answers being made at once (each on a short-lived thread); beyond them a
/// connection is closed unanswered, the last resort against a flood.
const MAX_REFUSING: usize = 16;
/// The `Retry-After` of a `503` for a vault busy beyond its queue.
pub const BUSY_RETRY_AFTER_S: u64 = 1;
/// A connection idle between requests this long gives its slot to one waiting.
const YIELD_AFTER: Duration = Duration::from_secs(1);
/// How long a connection may sit idle between requests.
const IDLE: Duration = Duration::from_secs(15);
/// How long a client has to send a whole request (TLS handshake included) once it has
/// started: a client trickling bytes does not hold a connection longer.
const REQUEST_WITHIN: Duration = Duration::from_secs(10);
/// How long a client refused with a `503` has to send its request.
const BUSY_WITHIN: Duration = Duration::from_secs(5);
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

/// What [`Endpoint::sync`] changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// A vault that appeared is served.
    Served(ServedVault),
    /// A vault that was deleted (or purged) no longer listens.
    Stopped(String),
    /// A vault that appeared could not be given a port.
    NotServed { vault: String, why: String },
}

/// Counters for the status indicator.
#[derive(Default)]
pub struct Stats {
    pub requests: AtomicU64,
    /// Connections being served.
    pub connections: AtomicUsize,
    /// Connections answered `503` (or closed) because their vault's queue was full.
    pub refused: AtomicU64,
}

/// How the simulated clock moves while serving.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ClockMode {
    /// At the wall clock's pace from where the workspace's clock stands.
    #[default]
    Pace,
    /// At the wall-clock time (`serve --clock now`): moved forward to it, never back; a
    /// workspace whose clock is ahead keeps its pace until the wall clock catches up.
    Wall,
}

/// How to serve.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// The first vault's port, the others after it (`0`: ports the system picks).
    pub first_port: u16,
    /// Where the CA is kept across runs (`None`: a new one in a private temporary folder).
    pub ca_dir: Option<PathBuf>,
    pub clock: ClockMode,
}

/// One vault's listener.
struct Listener {
    name: String,
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

/// What every listener's threads share (kept to start listeners for vaults that appear).
#[derive(Clone)]
struct Shared {
    tx: mpsc::Sender<Pending>,
    stats: Arc<Stats>,
    tls: Arc<rustls::ServerConfig>,
    keys: Arc<dyn KeySource>,
    wake: Arc<dyn Fn() + Send + Sync>,
    refusing: Arc<AtomicUsize>,
}

/// The running endpoint. Dropping it stops the listeners.
pub struct Endpoint {
    /// The vaults served now.
    pub vaults: Vec<ServedVault>,
    /// PEM of the certificate authority clients trust (`connection_verify=`).
    pub ca_pem: String,
    /// The same, in a file: in `--ca-dir`, or in a private folder that lives as long as
    /// the endpoint.
    pub ca_path: PathBuf,
    _ca_dir: Option<tempfile::TempDir>,
    /// The HTTPS proxy the real az reaches Azure's host names through
    /// (`http://127.0.0.1:PORT`).
    pub az_proxy: String,
    /// A private az configuration folder (`AZURE_CONFIG_DIR`): the user's own is never touched.
    pub az_config_dir: PathBuf,
    _az_dir: tempfile::TempDir,
    proxy_listener: Listener,
    pub stats: Arc<Stats>,
    requests: mpsc::Receiver<Pending>,
    listeners: Vec<Listener>,
    shared: Shared,
    /// The port the next vault to appear tries first (`0`: any).
    next_port: u16,
    seen_revision: u64,
    /// What answers a request, wherever the workspace is (shared with [`Answerer`]s).
    answerer: Answerer,
    /// Requests handled, with their outcome status, newest last (for the app's window).
    pub recent: Arc<Mutex<Vec<(String, u16)>>>,
}

/// What answering a request needs besides the workspace: the token key, the counters, the
/// clock's pace. `Send`, so the owner of the workspace can answer requests on a worker
/// thread with a copy of it (the window does: [`Endpoint::take_waiting`]), never on its UI
/// thread.
#[derive(Clone)]
pub struct Answerer {
    stats: Arc<Stats>,
    clock: ClockMode,
    token_key: [u8; 32],
    /// When the simulated clock last followed the wall clock.
    last_tick: Arc<Mutex<Instant>>,
    recent: Arc<Mutex<Vec<(String, u16)>>>,
}

impl Answerer {
    /// Answers the requests in turn on `ws` (a worker's copy of the workspace, or the
    /// owner's); returns how many.
    pub fn answer_all(
        &self,
        ws: &mut Workspace,
        keys: &dyn KeySource,
        requests: Vec<Pending>,
    ) -> usize {
        let n = requests.len();
        for p in requests {
            let _ = self.answer(ws, keys, p, &mut |_| Ok(()));
        }
        n
    }

    fn follow_wall_clock(&self, ws: &mut Workspace, keys: &dyn KeySource) {
        // A poisoned lock (a panic elsewhere while holding it) still holds an instant.
        let mut last_tick = self.last_tick.lock().unwrap_or_else(|e| e.into_inner());
        if self.clock == ClockMode::Wall {
            let behind = wall_now() - ws.now().0;
            if behind > 0 {
                *last_tick = Instant::now();
                // A failed advance (too much at once) leaves the clock where it is.
                let _ = advance_by(ws, behind, keys);
                return;
            }
        }
        let secs = last_tick.elapsed().as_secs();
        if secs == 0 {
            return;
        }
        *last_tick += Duration::from_secs(secs);
        drop(last_tick);
        let by = crate::sim::Duration::seconds(secs.min(60) as i64);
        // A failed advance (nothing to do, or too much) leaves the clock where it is.
        let _ = crate::service::behaviour::advance_with(ws, by, keys);
    }

    /// Answers one request on `ws`, `commit`ting its change before the answer goes out.
    pub fn answer(
        &self,
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
}

/// Wall-clock unix seconds.
pub fn wall_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Moves the workspace's clock forward to the wall-clock time (`serve --clock now`),
/// through the operations layer: every event that falls due on the way runs. A clock
/// ahead of the wall clock is left where it is. Returns the seconds moved.
pub fn catch_up_with_wall_clock(ws: &mut Workspace, keys: &dyn KeySource) -> Result<i64, String> {
    let by = wall_now() - ws.now().0;
    if by <= 0 {
        return Ok(0);
    }
    advance_by(ws, by, keys).map_err(|e| e.message)?;
    Ok(by)
}

/// Advances by `by` seconds in as few steps as the operations layer takes: a step it
/// refuses (too many rotations' keys to make at once, or beyond its longest advance) is
/// halved, down to an hour.
fn advance_by(
    ws: &mut Workspace,
    by: i64,
    keys: &dyn KeySource,
) -> Result<(), crate::service::ServiceError> {
    use crate::service::behaviour::{MAX_ADVANCE, advance_with};
    let mut left = by;
    let mut step = by.min(MAX_ADVANCE.0);
    while left > 0 {
        let s = step.min(left);
        match advance_with(ws, crate::sim::Duration::seconds(s), keys) {
            Ok(()) => left -= s,
            Err(_) if s > 3600 => step = s / 2,
            Err(e) => return Err(e),
        }
    }
    Ok(())
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
        Self::start_with(
            ws,
            Options {
                first_port,
                ..Options::default()
            },
            keys,
            wake,
        )
    }

    /// [`start`](Self::start) with every option.
    pub fn start_with(
        ws: &Workspace,
        options: Options,
        keys: Arc<dyn KeySource>,
        wake: Arc<dyn Fn() + Send + Sync>,
    ) -> Result<Endpoint, String> {
        let first_port = options.first_port;
        let certs = match &options.ca_dir {
            Some(dir) => tls::in_dir(dir)?,
            None => tls::make()?,
        };
        let (ca_path, ca_dir) = match &options.ca_dir {
            Some(dir) => (dir.join(tls::CA_FILE), None),
            None => {
                let dir = tempfile::Builder::new()
                    .prefix("tde-console-vaults-")
                    .tempdir()
                    .map_err(|e| format!("cannot make a folder for the certificate: {e}"))?;
                let path = dir.path().join(tls::CA_FILE);
                crate::persist::write_new_file(&path, certs.ca_pem.as_bytes())?;
                (path, Some(dir))
            }
        };
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
        // The real az's way in: a proxy for Azure's host names, and a private configuration.
        let proxy = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .map_err(|e| format!("cannot listen on 127.0.0.1 for az: {e}"))?;
        let proxy_addr = proxy.local_addr().map_err(|e| e.to_string())?;
        let proxy_tls = certs.for_hosts(proxy::HOSTS)?;
        let az_dir = tempfile::Builder::new()
            .prefix("tde-console-az-")
            .tempdir()
            .map_err(|e| format!("cannot make a folder for az's configuration: {e}"))?;
        let (tx, rx) = mpsc::channel::<Pending>();
        let stats = Arc::new(Stats::default());
        let shared = Shared {
            tx,
            stats: stats.clone(),
            tls: certs.server,
            keys,
            wake,
            refusing: Arc::new(AtomicUsize::new(0)),
        };
        let proxy_stop = Arc::new(AtomicBool::new(false));
        {
            let (shared, stop) = (shared.clone(), proxy_stop.clone());
            std::thread::Builder::new()
                .name("az proxy".into())
                .spawn(move || proxy_accept_loop(proxy, proxy_tls, shared, stop))
                .map_err(|e| e.to_string())?;
        }
        let stats_for_answers = stats.clone();
        let recent = Arc::new(Mutex::new(Vec::new()));
        let mut endpoint = Endpoint {
            vaults: Vec::new(),
            ca_pem: certs.ca_pem,
            ca_path,
            _ca_dir: ca_dir,
            az_proxy: format!("http://{proxy_addr}"),
            az_config_dir: az_dir.path().to_path_buf(),
            _az_dir: az_dir,
            proxy_listener: Listener {
                name: "az proxy".into(),
                addr: proxy_addr,
                stop: proxy_stop,
            },
            stats,
            requests: rx,
            listeners: Vec::new(),
            shared,
            next_port: if first_port == 0 {
                0
            } else {
                u16::try_from(first_port as usize + live.len()).unwrap_or(0)
            },
            seen_revision: ws.revision,
            answerer: Answerer {
                stats: stats_for_answers,
                clock: options.clock,
                token_key: ws.backup_root.token_signing_key(),
                last_tick: Arc::new(Mutex::new(Instant::now())),
                recent: recent.clone(),
            },
            recent,
        };
        for (name, listener) in bound {
            endpoint.listen(name, listener)?;
        }
        Ok(endpoint)
    }

    /// Starts serving vault `name` on `listener`.
    fn listen(&mut self, name: String, listener: TcpListener) -> Result<ServedVault, String> {
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let base = format!("https://127.0.0.1:{}/", addr.port());
        let stop = Arc::new(AtomicBool::new(false));
        let served = ServedVault {
            name: name.clone(),
            url: base.clone(),
        };
        let (shared, flag) = (self.shared.clone(), stop.clone());
        std::thread::Builder::new()
            .name(format!("vault-endpoint {name}"))
            .spawn(move || accept_loop(listener, name, base, shared, flag))
            .map_err(|e| e.to_string())?;
        self.listeners.push(Listener {
            name: served.name.clone(),
            addr,
            stop,
        });
        self.vaults.push(served.clone());
        Ok(served)
    }

    /// A listener for a vault that appeared: the port after the last one given when the
    /// endpoint started on fixed ports (the next free one), else any.
    fn bind_next(&mut self) -> Result<TcpListener, String> {
        let mut port = self.next_port;
        for _ in 0..100 {
            if port == 0 {
                break;
            }
            if let Ok(l) = TcpListener::bind((Ipv4Addr::LOCALHOST, port)) {
                self.next_port = port.checked_add(1).unwrap_or(0);
                return Ok(l);
            }
            port = port.checked_add(1).unwrap_or(0);
        }
        TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .map_err(|e| format!("cannot listen on 127.0.0.1: {e}"))
    }

    /// Serves the vaults that appeared in `ws` since the last call and stops those deleted
    /// or purged; returns what changed (nothing when the workspace has not changed). The
    /// owner calls it after requests and commands (`serve`), or each frame (the app).
    pub fn sync(&mut self, ws: &Workspace) -> Vec<Change> {
        if ws.revision == self.seen_revision {
            return Vec::new();
        }
        self.seen_revision = ws.revision;
        let mut changes = Vec::new();
        let live = |name: &str| ws.vault(name).is_some_and(|v| v.deleted.is_none());
        let (kept, gone): (Vec<Listener>, Vec<Listener>) = std::mem::take(&mut self.listeners)
            .into_iter()
            .partition(|l| live(&l.name));
        self.listeners = kept;
        for l in gone {
            l.stop.store(true, Ordering::SeqCst);
            let _ = TcpStream::connect_timeout(&l.addr, Duration::from_millis(200));
            self.vaults.retain(|v| v.name != l.name);
            changes.push(Change::Stopped(l.name));
        }
        let appeared: Vec<String> = ws
            .vaults
            .iter()
            .filter(|v| v.deleted.is_none())
            .filter(|v| {
                !self
                    .listeners
                    .iter()
                    .any(|l| l.name.eq_ignore_ascii_case(&v.name))
            })
            .map(|v| v.name.clone())
            .collect();
        for name in appeared {
            match self.bind_next().and_then(|l| self.listen(name.clone(), l)) {
                Ok(served) => changes.push(Change::Served(served)),
                Err(why) => changes.push(Change::NotServed { vault: name, why }),
            }
        }
        changes
    }

    /// Handles every request waiting on `ws`, on the caller's thread; returns how many.
    pub fn serve_waiting(&mut self, ws: &mut Workspace, keys: &dyn KeySource) -> usize {
        let waiting = self.take_waiting();
        self.answerer.answer_all(ws, keys, waiting)
    }

    /// Takes the requests waiting (each a parsed request with where it goes and where its
    /// answer goes back), for the owner to answer with an [`Answerer`] wherever it works on
    /// the workspace: the window hands them to a job on a copy of it, so the History, undo,
    /// autosave and saving see them as any other change made off the UI thread.
    pub fn take_waiting(&mut self) -> Vec<Pending> {
        let mut out = Vec::new();
        while let Ok(p) = self.requests.try_recv() {
            out.push(p);
        }
        out
    }

    /// What answers this endpoint's requests (see [`Answerer`]).
    pub fn answerer(&self) -> Answerer {
        self.answerer.clone()
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
            Ok(p) => self.answerer.answer(ws, keys, p, commit),
            Err(_) => {
                self.answerer.follow_wall_clock(ws, keys);
                Ok(())
            }
        }
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
            crate::arm_endpoint::login::client_secret(&self.answerer.token_key),
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
        let all = || {
            self.listeners
                .iter()
                .chain(std::iter::once(&self.proxy_listener))
        };
        for l in all() {
            l.stop.store(true, Ordering::SeqCst);
        }
        for l in all() {
            // Wakes the listener's accept so it sees the flag.
            let _ = TcpStream::connect_timeout(&l.addr, Duration::from_millis(200));
        }
    }
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One vault's connections: those served (each on a thread of its own) and those waiting.
#[derive(Default)]
struct Slots {
    state: Mutex<SlotState>,
    /// Connections waiting (read without the lock by connections idle between requests).
    waiting: AtomicUsize,
}

#[derive(Default)]
struct SlotState {
    active: usize,
    queue: VecDeque<TcpStream>,
}

enum Admit {
    Serve(TcpStream),
    Queued,
    Refuse(TcpStream),
}

impl Slots {
    fn lock(&self) -> std::sync::MutexGuard<'_, SlotState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A slot for a new connection, or a place in the queue, or neither.
    fn admit(&self, stream: TcpStream, stats: &Stats) -> Admit {
        let mut st = self.lock();
        if st.active < MAX_CONNECTIONS_PER_VAULT
            && stats
                .connections
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                    (n < MAX_CONNECTIONS).then_some(n + 1)
                })
                .is_ok()
        {
            st.active += 1;
            return Admit::Serve(stream);
        }
        // Queued only behind a connection of this vault, which frees a slot for it.
        if st.active > 0 && st.queue.len() < QUEUE_PER_VAULT {
            st.queue.push_back(stream);
            self.waiting.store(st.queue.len(), Ordering::SeqCst);
            return Admit::Queued;
        }
        Admit::Refuse(stream)
    }

    /// The connection a thread that finished one serves next; `None`: its slot is free.
    fn next(&self, stats: &Stats) -> Option<TcpStream> {
        let mut st = self.lock();
        let next = st.queue.pop_front();
        self.waiting.store(st.queue.len(), Ordering::SeqCst);
        if next.is_none() {
            st.active = st.active.saturating_sub(1);
            stats.connections.fetch_sub(1, Ordering::SeqCst);
        }
        next
    }

    /// Closes the connections waiting (the listener stopped).
    fn clear(&self) {
        self.lock().queue.clear();
        self.waiting.store(0, Ordering::SeqCst);
    }
}

/// The az proxy's listener: a thread per connection while [`MAX_CONNECTIONS`] allows (az
/// opens a handful at a time).
fn proxy_accept_loop(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    shared: Shared,
    stop: Arc<AtomicBool>,
) {
    for stream in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else { continue };
        let admitted = shared
            .stats
            .connections
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < MAX_CONNECTIONS).then_some(n + 1)
            })
            .is_ok();
        if !admitted {
            drop(stream);
            continue;
        }
        let conn = Connection {
            target: Target::Arm,
            tx: shared.tx.clone(),
            keys: shared.keys.clone(),
            wake: shared.wake.clone(),
            stop: stop.clone(),
        };
        let (tls, counters) = (tls.clone(), shared.stats.clone());
        let spawned = std::thread::Builder::new()
            .name("az proxy connection".into())
            .spawn(move || {
                conn.serve_tunnel(stream, tls);
                counters.connections.fetch_sub(1, Ordering::SeqCst);
            });
        if spawned.is_err() {
            shared.stats.connections.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// A vault's listener: accepts every connection (never resetting one for want of a slot)
/// until `stop`.
fn accept_loop(
    listener: TcpListener,
    vault: String,
    base: String,
    shared: Shared,
    stop: Arc<AtomicBool>,
) {
    let slots = Arc::new(Slots::default());
    for stream in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else { continue };
        let _ = stream.set_nodelay(true);
        match slots.admit(stream, &shared.stats) {
            Admit::Queued => {}
            Admit::Refuse(stream) => refuse(stream, &shared, &stop),
            Admit::Serve(stream) => {
                let conn = Connection {
                    target: Target::Vault {
                        vault: vault.clone(),
                        base: base.clone(),
                    },
                    tx: shared.tx.clone(),
                    keys: shared.keys.clone(),
                    wake: shared.wake.clone(),
                    stop: stop.clone(),
                };
                let (tls, stats, mine) = (shared.tls.clone(), shared.stats.clone(), slots.clone());
                let spawned = std::thread::Builder::new()
                    .name("vault-endpoint connection".into())
                    .spawn(move || {
                        let mut next = Some(stream);
                        while let Some(stream) = next {
                            conn.serve(stream, tls.clone(), &mine);
                            next = mine.next(&stats);
                        }
                    });
                if spawned.is_err() {
                    // The slot taken for it is given back (and a waiting one, if any,
                    // stays queued behind the vault's other connections).
                    let mut st = slots.lock();
                    st.active = st.active.saturating_sub(1);
                    shared.stats.connections.fetch_sub(1, Ordering::SeqCst);
                }
            }
        }
    }
    slots.clear();
}

/// Answers a connection its vault has no room for: `503` with `Retry-After`, after TLS,
/// on a short-lived thread (at most [`MAX_REFUSING`] at once; beyond, it is closed).
fn refuse(stream: TcpStream, shared: &Shared, stop: &Arc<AtomicBool>) {
    shared.stats.refused.fetch_add(1, Ordering::SeqCst);
    if shared
        .refusing
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
            (n < MAX_REFUSING).then_some(n + 1)
        })
        .is_err()
    {
        return;
    }
    let (tls, refusing, stop) = (shared.tls.clone(), shared.refusing.clone(), stop.clone());
    let counter = refusing.clone();
    let spawned = std::thread::Builder::new()
        .name("vault-endpoint busy".into())
        .spawn(move || {
            busy(stream, tls, stop);
            counter.fetch_sub(1, Ordering::SeqCst);
        });
    if spawned.is_err() {
        refusing.fetch_sub(1, Ordering::SeqCst);
    }
}

/// TLS, the client's request read, and a `503 ServiceUnavailable` with `Retry-After`.
fn busy(tcp: TcpStream, tls: Arc<rustls::ServerConfig>, stop: Arc<AtomicBool>) {
    let _ = tcp.set_read_timeout(Some(Duration::from_millis(500)));
    let _ = tcp.set_write_timeout(Some(BUSY_WITHIN));
    let Ok(conn) = rustls::ServerConnection::new(tls) else {
        return;
    };
    let now = Instant::now();
    let sock = Deadlines {
        tcp,
        idle_until: now + BUSY_WITHIN,
        idle_since: now,
        started: None,
        stop,
        slots: None,
    };
    let mut stream = rustls::StreamOwned::new(conn, sock);
    let mut buf = Vec::new();
    if let Err(http::ReadError::Closed) = http::read_request(&mut stream, &mut buf) {
        return;
    }
    let r = http::Response::error(
        503,
        "ServiceUnavailable",
        &format!(
            "The vault is serving as many connections as it takes ({MAX_CONNECTIONS_PER_VAULT}) with {QUEUE_PER_VAULT} more waiting; retry after {BUSY_RETRY_AFTER_S} second."
        ),
    )
    .with_header("Retry-After", BUSY_RETRY_AFTER_S.to_string());
    let _ = http::write_response(&mut stream, &r, true);
    stream.conn.send_close_notify();
    let _ = std::io::Write::flush(&mut stream);
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
    fn serve(&self, tcp: TcpStream, tls: Arc<rustls::ServerConfig>, slots: &Arc<Slots>) {
        let sock = self.socket(tcp, Some(slots.clone()));
        self.serve_tls(sock, tls);
    }

    /// The connection's socket with its deadlines (`TCP_NODELAY`: a response's head and
    /// body go out at once, not held for the client's delayed ACK).
    fn socket(&self, tcp: TcpStream, slots: Option<Arc<Slots>>) -> Deadlines {
        let _ = tcp.set_nodelay(true);
        let _ = tcp.set_read_timeout(Some(Duration::from_millis(500)));
        let _ = tcp.set_write_timeout(Some(IDLE));
        let now = Instant::now();
        Deadlines {
            tcp,
            idle_until: now + IDLE,
            idle_since: now,
            started: None,
            stop: self.stop.clone(),
            slots,
        }
    }

    /// A proxy client: `CONNECT HOST:443` in the clear, then TLS for that host, answered
    /// here ([`proxy::tunnel`]); a host this endpoint does not answer for is refused.
    fn serve_tunnel(mut self, tcp: TcpStream, tls: Arc<rustls::ServerConfig>) {
        let mut sock = self.socket(tcp, None);
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

    fn serve_tls(&self, sock: Deadlines, tls: Arc<rustls::ServerConfig>) {
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
                Err(http::ReadError::Closed) => {
                    // Idle, or its slot given to a connection waiting: closed cleanly.
                    stream.conn.send_close_notify();
                    let _ = std::io::Write::flush(&mut stream);
                    return;
                }
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

/// A connection's socket with its time limits: idle between requests up to [`IDLE`] (or
/// [`YIELD_AFTER`] while connections wait for a slot of the vault), and a request (from
/// its first byte, TLS handshake included) within [`REQUEST_WITHIN`], however slowly its
/// bytes trickle in.
struct Deadlines {
    tcp: TcpStream,
    idle_until: Instant,
    idle_since: Instant,
    started: Option<Instant>,
    stop: Arc<AtomicBool>,
    slots: Option<Arc<Slots>>,
}

impl Deadlines {
    fn between_requests(&mut self) {
        self.started = None;
        let now = Instant::now();
        self.idle_since = now;
        self.idle_until = now + IDLE;
    }

    /// Others wait for a slot and this connection has idled long enough to give its up.
    fn should_yield(&self, now: Instant) -> bool {
        now >= self.idle_since + YIELD_AFTER
            && self
                .slots
                .as_ref()
                .is_some_and(|s| s.waiting.load(Ordering::SeqCst) > 0)
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
                        None => now < self.idle_until && !self.should_yield(now),
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
