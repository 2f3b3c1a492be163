//! Portal-like blades. Each is a function of (workspace, its own view state) that calls the
//! operations layer and reports what it wants the app to do as [`Action`]s.

mod activity;
mod backups;
mod compromised;
mod database;
mod georeplication;
mod key;
mod key_import;
mod monitor;
mod server;
mod synapse_workspace;
mod tde;
pub mod topology;
mod vault;
mod vault_insights;
mod vault_secrets;

pub use backups::BackupsForm;
pub use compromised::CompromisedForm;
pub use georeplication::{GeoForm, GroupForm};
pub use key_import::ImportForm;
pub use monitor::AlertForm;
pub use synapse_workspace::SynapseForm;
pub use tde::TdeForm;
pub use vault::VaultForms;
pub use vault_insights::{GovernanceForm, LogsView, ResultFilter};

use super::jobs::Job;
use crate::model::Workspace;
pub use crate::shell::invocation::Invocation;

/// What a blade shows. Per-blade form state lives here, apart from the workspace.
pub enum BladeKind {
    Server {
        server: String,
        message: Option<Result<String, String>>,
    },
    ServerTde {
        server: String,
        form: TdeForm,
    },
    Vault {
        vault: String,
        forms: VaultForms,
    },
    KeyVersion {
        vault: String,
        key: String,
        version: String,
        message: Option<Result<String, String>>,
    },
    Database {
        server: String,
        db: String,
        message: Option<Result<String, String>>,
    },
    ActivityLog,
    Advisor,
    Alerts {
        form: AlertForm,
    },
    CompromisedKey {
        server: String,
        form: CompromisedForm,
    },
    VaultGovernance {
        vault: String,
        form: GovernanceForm,
    },
    VaultLogs {
        vault: String,
        view: Box<LogsView>,
    },
    VaultMetrics {
        vault: String,
    },
    KeyImport {
        vault: String,
        form: Box<ImportForm>,
    },
    Backups {
        server: String,
        db: String,
        form: Box<BackupsForm>,
    },
    GeoReplication {
        server: String,
        db: String,
        form: Box<GeoForm>,
    },
    FailoverGroups {
        server: String,
        form: Box<GroupForm>,
    },
    /// The picture of regions, servers, vaults, keys and the arrows between them.
    Topology,
    /// A Synapse workspace: overview, Encryption page, dedicated SQL pools.
    SynapseWorkspace {
        workspace: String,
        form: Box<SynapseForm>,
    },
}

pub struct Blade {
    pub id: u64,
    pub kind: BladeKind,
}

impl Blade {
    pub fn title(&self) -> String {
        match &self.kind {
            BladeKind::Server { server, .. } => server.clone(),
            BladeKind::ServerTde { .. } => "Transparent data encryption".into(),
            BladeKind::Vault { vault, .. } => vault.clone(),
            BladeKind::KeyVersion { key, version, .. } => {
                format!("{key} / {}", version.chars().take(8).collect::<String>())
            }
            BladeKind::Database { db, .. } => db.clone(),
            BladeKind::ActivityLog => "Activity log".into(),
            BladeKind::Advisor => "Advisor".into(),
            BladeKind::CompromisedKey { .. } => "Remove a potentially compromised key".into(),
            BladeKind::Alerts { .. } => "Alerts".into(),
            BladeKind::VaultGovernance { vault, .. } => {
                format!("{vault} · Settings")
            }
            BladeKind::VaultLogs { vault, .. } => format!("{vault} · Logs"),
            BladeKind::VaultMetrics { vault } => format!("{vault} · Metrics"),
            BladeKind::KeyImport { vault, .. } => format!("{vault} · Import a key"),
            BladeKind::Backups { db, .. } => format!("{db} · Backups"),
            BladeKind::GeoReplication { db, .. } => format!("{db} · Geo-replication"),
            BladeKind::FailoverGroups { server, .. } => format!("{server} · Failover groups"),
            BladeKind::Topology => "Topology".into(),
            BladeKind::SynapseWorkspace { workspace, .. } => workspace.clone(),
        }
    }

    /// How wide the blade is drawn: tables and plots get more room.
    pub fn width(&self) -> f32 {
        match &self.kind {
            BladeKind::Topology => 1600.0,
            BladeKind::VaultLogs { .. } | BladeKind::ActivityLog => 940.0,
            BladeKind::VaultMetrics { .. } => 700.0,
            BladeKind::Backups { .. } | BladeKind::GeoReplication { .. } => 620.0,
            _ => 500.0,
        }
    }

    /// The server the blade is about, and its database if it is about one.
    pub fn server_and_database(&self) -> Option<(&str, Option<&str>)> {
        match &self.kind {
            BladeKind::Server { server, .. }
            | BladeKind::ServerTde { server, .. }
            | BladeKind::CompromisedKey { server, .. }
            | BladeKind::FailoverGroups { server, .. } => Some((server, None)),
            BladeKind::Database { server, db, .. }
            | BladeKind::Backups { server, db, .. }
            | BladeKind::GeoReplication { server, db, .. } => Some((server, Some(db))),
            _ => None,
        }
    }

    /// The weak line under the blade's title, as the portal words it: a managed instance's
    /// blades say "SQL managed instance", not "SQL server".
    pub fn subtitle(&self, ws: &Workspace) -> String {
        let server_kind = |server: &str| {
            ws.server(server)
                .map_or("SQL server", |s| s.kind.label())
                .to_string()
        };
        match &self.kind {
            BladeKind::Server { server, .. } => server_kind(server),
            BladeKind::ServerTde { server, .. } | BladeKind::CompromisedKey { server, .. } => {
                format!("{} · Security", server_kind(server))
            }
            BladeKind::FailoverGroups { server, .. } => {
                format!("{} · Data management", server_kind(server))
            }
            BladeKind::Vault { .. } => "Key vault".into(),
            BladeKind::KeyVersion { .. } => "Key version".into(),
            BladeKind::Database { .. } => "SQL database".into(),
            BladeKind::ActivityLog | BladeKind::Alerts { .. } => "Monitor".into(),
            BladeKind::Advisor => "Recommendations".into(),
            BladeKind::VaultGovernance { .. } => "Key vault · Settings".into(),
            BladeKind::KeyImport { .. } => "Key vault · Keys".into(),
            BladeKind::Backups { .. } | BladeKind::GeoReplication { .. } => {
                "SQL database · Data management".into()
            }
            BladeKind::Topology => "Regions, servers, vaults and keys".into(),
            BladeKind::SynapseWorkspace { .. } => "Synapse workspace".into(),
            BladeKind::VaultLogs { .. } | BladeKind::VaultMetrics { .. } => {
                "Key vault · Monitoring".into()
            }
        }
    }
}

/// What a blade asks of the app, applied after the frame's drawing. (A few a frame: the
/// size of an [`AppAction`](crate::ui::app_action::AppAction) inline does not matter.)
#[allow(clippy::large_enum_variant)]
pub enum Action {
    /// Open a blade to the right of blade `from` (closing those further right).
    Open { from: usize, kind: Box<BladeKind> },
    /// Run a change through the operations layer: after this frame, or once the running job
    /// has landed (so nothing done during a job is overwritten by its result). Its outcome
    /// goes to message line `line` of blade `blade` (none for a menu's or a panel's).
    Run {
        blade: Option<u64>,
        line: Line,
        change: Change,
        /// A blade to open to the right of this one when the change works.
        then_open: Option<Box<BladeKind>>,
    },
    /// Run an operation off the UI thread.
    Spawn(Box<Job>),
    /// What the chrome and the panels ask of the app besides a change (the History, the
    /// clock, the document, what is shown): see [`crate::ui::app_action::AppAction`].
    App(crate::ui::app_action::AppAction),
}

impl Action {
    /// A change asked for by a menu or a panel (no blade hears its outcome).
    pub fn change(change: Change) -> Action {
        Action::Run {
            blade: None,
            line: Line::Main,
            change,
            then_open: None,
        }
    }

    /// A request of the shell's registry asked for by a menu or a panel.
    pub fn request(
        invocation: Invocation,
        wording: impl FnOnce(&serde_json::Value, &Workspace) -> String + Send + 'static,
    ) -> Action {
        Action::change(Change::request(invocation, wording))
    }
}

impl From<crate::ui::app_action::AppAction> for Action {
    fn from(a: crate::ui::app_action::AppAction) -> Action {
        Action::App(a)
    }
}

pub use crate::shell::invocation::quoted;

/// What a change reports to the blade that asked for it.
pub type Outcome = Result<String, String>;

/// A change as a closure: only for what has no row in the shell's registry (see
/// [`Change::Unscripted`]).
pub type Command = Box<dyn FnOnce(&mut Workspace) -> Outcome + Send>;

/// How a request that worked is worded for the blade that asked: from the last handler's
/// JSON output and the workspace after the change.
pub type Wording = Box<dyn FnOnce(&serde_json::Value, &Workspace) -> String + Send>;

/// What a request's asker does with its outcome, on the workspace after it.
pub type Report = Box<dyn FnOnce(&mut Workspace, &Outcome) + Send>;

/// A change a blade or a menu asks for. Blades only read the workspace; every change is one
/// of these, run by the app.
pub enum Change {
    /// Commands of the shell's registry, the same values the shell parses a typed line into:
    /// run in order through their rows' handlers, all or nothing. Their `az` lines (the
    /// toast, the History, the session's script) are rendered from them.
    Request {
        script: Vec<Invocation>,
        wording: Wording,
        /// What the asker does with the outcome besides showing it (a refused simulation
        /// is told to the notifications centre; a panel keeps it): see [`Change::reported`].
        report: Option<Report>,
        /// How a refusal is worded for the asker (the command's own text by default).
        refusal: Option<Box<dyn FnOnce(String) -> String + Send>>,
    },
    /// A change no command of the registry makes (a UI convenience): a named closure,
    /// with no `az` line. Their number only goes down (a test counts them).
    Unscripted {
        label: String,
        command: Command,
        /// The `az` lines written by hand beside the closure: the old way, left where a
        /// change is not a request yet (a test counts them; their number only goes down).
        az: Option<String>,
    },
    /// History > "Keep bookmarks in the workspace file": the bookmarked moments to keep in
    /// the file (none: take them out). Session state, not Azure's: no command makes it, and
    /// the session's script marks bookmarks as `sim chapter` lines instead.
    Bookmarks(Vec<crate::model::SavedBookmark>),
}

impl Change {
    /// A request for one command.
    pub fn request(
        invocation: Invocation,
        wording: impl FnOnce(&serde_json::Value, &Workspace) -> String + Send + 'static,
    ) -> Change {
        Change::script(vec![invocation], wording)
    }

    /// A request for a few commands, run in order, all or nothing.
    pub fn script(
        script: Vec<Invocation>,
        wording: impl FnOnce(&serde_json::Value, &Workspace) -> String + Send + 'static,
    ) -> Change {
        Change::Request {
            script,
            wording: Box::new(wording),
            report: None,
            refusal: None,
        }
    }

    /// Words a refusal for the asker (`Test connection to 'x' failed: …`).
    pub fn refused_as(self, words: impl FnOnce(String) -> String + Send + 'static) -> Change {
        match self {
            Change::Request {
                script,
                wording,
                report,
                ..
            } => Change::Request {
                script,
                wording,
                report,
                refusal: Some(Box::new(words)),
            },
            unscripted => unscripted,
        }
    }

    /// Gives a request a [`Report`]: `report` sees the outcome (and may note it in the
    /// workspace) after the change ran.
    pub fn reported(
        self,
        report: impl FnOnce(&mut Workspace, &Outcome) + Send + 'static,
    ) -> Change {
        match self {
            Change::Request {
                script,
                wording,
                refusal,
                ..
            } => Change::Request {
                script,
                wording,
                report: Some(Box::new(report)),
                refusal,
            },
            unscripted => unscripted,
        }
    }

    /// The change as `az` (or `sim`) lines, rendered from the request.
    pub fn az(&self) -> Option<String> {
        match self {
            Change::Request { script, .. } => Some(
                script
                    .iter()
                    .map(Invocation::line)
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
            Change::Unscripted { az, .. } => az.clone(),
            Change::Bookmarks(_) => None,
        }
    }

    /// The requests (none for an unscripted change).
    pub fn requests(&self) -> &[Invocation] {
        match self {
            Change::Request { script, .. } => script,
            Change::Unscripted { .. } | Change::Bookmarks(_) => &[],
        }
    }

    /// Runs the change: a request through the registry's handlers (a refusal worded as
    /// [`crate::shell::invocation::refusal_text`]; when a later command of a script is
    /// refused, the earlier ones are undone, except the requests vaults answered).
    pub fn run(self, ws: &mut Workspace, keys: &dyn crate::service::KeySource) -> Outcome {
        match self {
            Change::Unscripted { command, .. } => command(ws),
            Change::Bookmarks(saved) => {
                let n = saved.len();
                ws.bookmarks = saved;
                Ok(if n == 0 {
                    "Bookmarks are no longer kept in the workspace file.".into()
                } else {
                    format!("{n} bookmark(s) kept in the workspace file (saved with it).")
                })
            }
            Change::Request {
                script,
                wording,
                report,
                refusal,
            } => {
                let mut out = run_script(&script, wording, ws, keys);
                if let (Some(words), Err(e)) = (refusal, &out) {
                    out = Err(words(e.clone()));
                }
                if let Some(report) = report {
                    report(ws, &out);
                }
                out
            }
        }
    }
}

/// Runs a script of requests through the registry, all or nothing.
fn run_script(
    script: &[Invocation],
    wording: Wording,
    ws: &mut Workspace,
    keys: &dyn crate::service::KeySource,
) -> Outcome {
    let mut draft = (script.len() > 1).then(|| ws.clone());
    let target = draft.as_mut().unwrap_or(ws);
    let mut last = serde_json::Value::Null;
    for invocation in script {
        match invocation.run(target, keys) {
            Ok(v) => last = v,
            Err(e) => {
                if let Some(d) = draft {
                    ws.keep_trace_of(d);
                }
                return Err(crate::shell::invocation::refusal_text(&e));
            }
        }
    }
    if let Some(d) = draft {
        *ws = d;
    }
    Ok(wording(&last, ws))
}

/// Which message line of a blade an outcome goes to (most blades have one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Line {
    Main,
    /// A vault's access policies section.
    Policy,
    /// A vault's networking section.
    Network,
    /// A vault's secrets section.
    Secrets,
    /// A database's query editor: a write that worked shows in the editor, not as a message.
    Query,
    /// A failover group's "Remove selected" / "Add selected": shown under those buttons
    /// (above them it pushed the buttons ~76 points down under the pointer).
    Members,
}

/// An operation's result as a blade's outcome: `ok` words the success, the service's error
/// (code and text) is kept as it is.
pub fn said<T>(r: crate::service::ServiceResult<T>, ok: impl FnOnce(T) -> String) -> Outcome {
    r.map(ok).map_err(|e| e.to_string())
}

/// Everything a blade may touch while it draws: the workspace only to read.
pub struct BladeCtx<'a> {
    pub ws: &'a Workspace,
    pub actions: Vec<Action>,
    /// A background job is running: controls that change the workspace are disabled.
    pub busy: bool,
    /// This blade's index in the stack.
    pub index: usize,
    pub blade_id: u64,
    /// Where new key material comes from (tests use pre-generated keys).
    pub keys: &'a std::sync::Arc<dyn crate::service::KeySource>,
    /// The hand-written `az` lines of the closure asked for next (see [`BladeCtx::az`]).
    pub az: Option<String>,
}

impl BladeCtx<'_> {
    pub fn open(&mut self, kind: BladeKind) {
        self.actions.push(Action::Open {
            from: self.index,
            kind: Box::new(kind),
        });
    }

    /// Asks for a command of the shell's registry; its outcome (worded by `wording` when it
    /// works, the command's refusal when not) comes back to this blade's message.
    pub fn request(
        &mut self,
        invocation: Invocation,
        wording: impl FnOnce(&serde_json::Value, &Workspace) -> String + Send + 'static,
    ) {
        self.change_to(Line::Main, Change::request(invocation, wording), None);
    }

    /// [`BladeCtx::request`] with the outcome to message line `line` of this blade.
    pub fn request_to(
        &mut self,
        line: Line,
        invocation: Invocation,
        wording: impl FnOnce(&serde_json::Value, &Workspace) -> String + Send + 'static,
    ) {
        self.change_to(line, Change::request(invocation, wording), None);
    }

    /// [`BladeCtx::request`] that, when it works, opens `kind` to the right of this blade.
    pub fn request_then_open(
        &mut self,
        invocation: Invocation,
        wording: impl FnOnce(&serde_json::Value, &Workspace) -> String + Send + 'static,
        kind: BladeKind,
    ) {
        self.change_to(
            Line::Main,
            Change::request(invocation, wording),
            Some(Box::new(kind)),
        );
    }

    /// Asks for a change (a request or, named, a closure) to message line `line`.
    pub fn change_to(&mut self, line: Line, change: Change, then_open: Option<Box<BladeKind>>) {
        self.actions.push(Action::Run {
            blade: Some(self.blade_id),
            line,
            change,
            then_open,
        });
    }

    /// The old way, left where a change is not a request yet: gives the next closure
    /// (`run`, `run_to`, `run_then_open`, `spawn`) `az` lines written by hand. A test counts
    /// the calls; convert them to [`BladeCtx::request`].
    pub fn az(&mut self, lines: impl Into<String>) -> &mut Self {
        self.az = Some(lines.into());
        self
    }

    /// A closure change (the old way; see [`BladeCtx::az`]).
    pub fn run(&mut self, command: impl FnOnce(&mut Workspace) -> Outcome + Send + 'static) {
        self.run_to(Line::Main, command);
    }

    /// A closure change to message line `line` (the old way; see [`BladeCtx::az`]).
    pub fn run_to(
        &mut self,
        line: Line,
        command: impl FnOnce(&mut Workspace) -> Outcome + Send + 'static,
    ) {
        let az = self.az.take();
        let change = Change::Unscripted {
            label: String::new(),
            command: Box::new(command),
            az,
        };
        self.change_to(line, change, None);
    }

    /// A closure change that opens `kind` when it works (the old way; see [`BladeCtx::az`]).
    pub fn run_then_open(
        &mut self,
        command: impl FnOnce(&mut Workspace) -> Outcome + Send + 'static,
        kind: BladeKind,
    ) {
        let az = self.az.take();
        let change = Change::Unscripted {
            label: String::new(),
            command: Box::new(command),
            az,
        };
        self.change_to(Line::Main, change, Some(Box::new(kind)));
    }

    /// A closure job (the old way; see [`BladeCtx::az`]).
    pub fn spawn(
        &mut self,
        label: impl Into<String>,
        work: impl FnOnce(&mut Workspace) -> Outcome + Send + 'static,
    ) {
        let label = label.into();
        let az = self.az.take();
        let change = Change::Unscripted {
            label: label.clone(),
            command: Box::new(work),
            az,
        };
        self.spawn_change(label, change);
    }

    /// Asks for a change that no command of the registry makes (a UI convenience), named
    /// `label`; it has no `az` line. Prefer [`BladeCtx::request`]: a test counts these.
    pub fn run_unscripted(
        &mut self,
        label: &'static str,
        line: Line,
        command: impl FnOnce(&mut Workspace) -> Outcome + Send + 'static,
    ) {
        self.change_to(
            line,
            Change::Unscripted {
                label: label.to_string(),
                command: Box::new(command),
                az: None,
            },
            None,
        );
    }

    /// Runs `change` on a copy of the workspace on a worker thread (a long one: the status
    /// bar shows its progress); its outcome comes back to this blade's message.
    pub fn spawn_change(&mut self, label: impl Into<String>, change: Change) {
        let keys = self.keys.clone();
        let az = change.az();
        let mut job = Job::spawn(
            label,
            super::jobs::JobOrigin::Blade(self.blade_id),
            self.ws,
            move |ws| (change.run(ws, keys.as_ref()), String::new()),
        );
        job.command = az;
        self.actions.push(Action::Spawn(Box::new(job)));
    }

    /// [`BladeCtx::spawn_change`] of one request.
    pub fn spawn_request(
        &mut self,
        label: impl Into<String>,
        invocation: Invocation,
        wording: impl FnOnce(&serde_json::Value, &Workspace) -> String + Send + 'static,
    ) {
        self.spawn_change(label, Change::request(invocation, wording));
    }

    /// Backs `key` up to the file at `path` (`az keyvault key backup`), off the UI thread;
    /// the outcome comes back to this blade.
    pub fn spawn_key_backup(&mut self, vault: String, key: String, path: String) {
        let ask = Invocation::new("az keyvault key backup")
            .arg("--vault-name", vault)
            .arg("--name", key.clone())
            .arg("--file", path.clone());
        self.spawn_request(format!("Backing up '{key}'…"), ask, move |_, _| {
            format!("Key '{key}' backed up to {path}.")
        });
    }

    /// Runs `work` on a copy of the workspace on a worker thread, for a change that no
    /// command of the registry makes, named `label` (a test counts these).
    pub fn spawn_unscripted(
        &mut self,
        label: impl Into<String>,
        work: impl FnOnce(&mut Workspace) -> Outcome + Send + 'static,
    ) {
        let label = label.into();
        self.spawn_change(
            label.clone(),
            Change::Unscripted {
                label,
                command: Box::new(work),
                az: None,
            },
        );
    }
}

impl BladeKind {
    /// Puts an outcome on message line `line`.
    pub fn deliver(&mut self, line: Line, r: Outcome) {
        match self {
            BladeKind::Vault { forms, .. } => match line {
                Line::Policy => forms.policy_message = Some(r),
                Line::Network => forms.network_message = Some(r),
                Line::Secrets => forms.secrets.message = Some(r),
                _ => forms.key_message = Some(r),
            },
            BladeKind::ServerTde { form, .. } => form.message = Some(r),
            BladeKind::CompromisedKey { form, .. } => form.message = Some(r),
            BladeKind::KeyVersion { message, .. } => *message = Some(r),
            BladeKind::Database { message, .. } => match (line, r) {
                // A write that worked shows in the editor itself.
                (Line::Query, Ok(_)) => {}
                (_, r) => *message = Some(r),
            },
            BladeKind::VaultGovernance { form, .. } => form.message = Some(r),
            BladeKind::VaultLogs { view, .. } => view.message = Some(r),
            BladeKind::KeyImport { form, .. } => form.message = Some(r),
            BladeKind::Backups { form, .. } => form.message = Some(r),
            BladeKind::GeoReplication { form, .. } => form.message = Some(r),
            BladeKind::FailoverGroups { form, .. } => match line {
                Line::Members => form.members_message = Some(r),
                _ => form.message = Some(r),
            },
            BladeKind::Alerts { form } => form.message = Some(r),
            BladeKind::Server { message, .. } => *message = Some(r),
            BladeKind::SynapseWorkspace { form, .. } => form.message = Some(r),
            BladeKind::ActivityLog
            | BladeKind::Advisor
            | BladeKind::VaultMetrics { .. }
            | BladeKind::Topology => {}
        }
    }
}

impl BladeKind {
    /// Every message line of the blade.
    fn messages_mut(&mut self) -> Vec<&mut Option<Outcome>> {
        match self {
            BladeKind::Vault { forms, .. } => vec![
                &mut forms.key_message,
                &mut forms.policy_message,
                &mut forms.network_message,
                &mut forms.secrets.message,
            ],
            BladeKind::ServerTde { form, .. } => vec![&mut form.message],
            BladeKind::CompromisedKey { form, .. } => vec![&mut form.message],
            BladeKind::KeyVersion { message, .. }
            | BladeKind::Database { message, .. }
            | BladeKind::Server { message, .. } => vec![message],
            BladeKind::VaultGovernance { form, .. } => vec![&mut form.message],
            BladeKind::VaultLogs { view, .. } => vec![&mut view.message],
            BladeKind::KeyImport { form, .. } => vec![&mut form.message],
            BladeKind::Backups { form, .. } => vec![&mut form.message],
            BladeKind::GeoReplication { form, .. } => vec![&mut form.message],
            BladeKind::FailoverGroups { form, .. } => {
                vec![&mut form.message, &mut form.members_message]
            }
            BladeKind::Alerts { form } => vec![&mut form.message],
            BladeKind::SynapseWorkspace { form, .. } => vec![&mut form.message],
            BladeKind::ActivityLog
            | BladeKind::Advisor
            | BladeKind::VaultMetrics { .. }
            | BladeKind::Topology => Vec::new(),
        }
    }
}

/// A message describes the workspace it was said about: when the workspace is put back to
/// an earlier point (Undo, Rewind to here), what was said after that point is no longer
/// true and goes. Revisions only grow, so an earlier point has a smaller one.
fn forget_rewound_messages(ui: &egui::Ui, blade: &mut Blade, ws: &Workspace) {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for m in blade.kind.messages_mut() {
        m.hash(&mut h);
    }
    let said = h.finish();
    let id = egui::Id::unique("blade-messages-said-at").with(blade.id);
    match ui.data(|d| d.get_temp::<(u64, u64)>(id)) {
        // New words: they describe the workspace as it is now.
        Some((before, _)) if before != said => {
            ui.data_mut(|d| d.insert_temp(id, (said, ws.revision)));
        }
        Some((_, at)) if ws.revision < at => {
            for m in blade.kind.messages_mut() {
                *m = None;
            }
            let mut h = std::collections::hash_map::DefaultHasher::new();
            for m in blade.kind.messages_mut() {
                m.hash(&mut h);
            }
            ui.data_mut(|d| d.insert_temp(id, (h.finish(), ws.revision)));
        }
        Some(_) => {}
        None => {
            ui.data_mut(|d| d.insert_temp(id, (said, ws.revision)));
        }
    }
}

/// Draws one blade's body.
pub fn show(ui: &mut egui::Ui, blade: &mut Blade, cx: &mut BladeCtx<'_>) {
    forget_rewound_messages(ui, blade, cx.ws);
    match &mut blade.kind {
        BladeKind::Server { server, message } => server::show(ui, server, message, cx),
        BladeKind::ServerTde { server, form } => tde::show(ui, server, form, cx),
        BladeKind::Vault { vault, forms } => vault::show(ui, vault, forms, cx),
        BladeKind::KeyVersion {
            vault,
            key,
            version,
            message,
        } => key::show(ui, vault, key, version, message, cx),
        BladeKind::Database {
            server,
            db,
            message,
        } => database::show(ui, server, db, message, cx),
        BladeKind::ActivityLog => activity::show(ui, cx),
        BladeKind::Advisor => monitor::advisor(ui, cx),
        BladeKind::Alerts { form } => monitor::alerts(ui, form, cx),
        BladeKind::CompromisedKey { server, form } => compromised::show(ui, server, form, cx),
        BladeKind::VaultGovernance { vault, form } => {
            vault_insights::governance(ui, vault, form, cx)
        }
        BladeKind::VaultLogs { vault, view } => vault_insights::logs(ui, vault, view, cx),
        BladeKind::VaultMetrics { vault } => vault_insights::metrics(ui, vault, cx),
        BladeKind::KeyImport { vault, form } => key_import::show(ui, vault, form, cx),
        BladeKind::Backups { server, db, form } => backups::show(ui, server, db, form, cx),
        BladeKind::GeoReplication { server, db, form } => {
            georeplication::show_database(ui, server, db, form, cx)
        }
        BladeKind::FailoverGroups { server, form } => {
            georeplication::show_groups(ui, server, form, cx)
        }
        BladeKind::Topology => topology::show(ui, cx),
        BladeKind::SynapseWorkspace { workspace, form } => {
            synapse_workspace::show(ui, workspace, form, cx)
        }
    }
}

/// Whether the confirmation of action `what` is open in this blade.
pub fn confirming(ui: &egui::Ui, what: &str) -> bool {
    let id = ui.scope_id().with(("confirm", what));
    ui.data(|d| d.get_temp::<bool>(id)).unwrap_or(false)
}

/// A dangerous action asks first. Call it every frame with whether its button was
/// `clicked` and the `warning` of what it would do (`None`: nothing depends on it, so it
/// runs at once). With a warning, a dialog shows it with `verb` and Cancel; returns true on
/// the frame the action should run.
pub fn confirmed(
    ui: &egui::Ui,
    what: &str,
    clicked: bool,
    title: &str,
    warning: Option<String>,
    verb: &str,
) -> bool {
    let id = ui.scope_id().with(("confirm", what));
    let open = ui.data(|d| d.get_temp::<bool>(id)).unwrap_or(false);
    let Some(warning) = warning else {
        ui.data_mut(|d| d.remove::<bool>(id));
        return clicked;
    };
    let opening = clicked && !open;
    if opening {
        ui.data_mut(|d| d.insert_temp(id, true));
    } else if !open {
        return false;
    }
    let (mut go, mut close) = (false, false);
    let modal = egui::Modal::new(id.with("modal")).show(ui.ctx(), |ui| {
        ui.set_width(480.0);
        ui.heading(title);
        super::widgets::error_box(ui, &warning);
        ui.horizontal(|ui| {
            go = ui.button(verb).clicked();
            let cancel = ui.button("Cancel");
            // The safe choice has the keyboard: Enter or Space on a dialog that names
            // what will break must not be what breaks it.
            if opening {
                cancel.request_focus();
            }
            close = cancel.clicked();
        });
    });
    if go || close || modal.should_close() {
        ui.data_mut(|d| d.remove::<bool>(id));
    }
    go
}

/// The current version of a key after a change (for the words of its outcome).
pub fn current_version(ws: &Workspace, vault: &str, key: &str) -> Option<String> {
    ws.vault(vault)
        .and_then(|v| v.key(key))
        .and_then(|k| k.current())
        .map(|kv| kv.version.to_string())
}

/// The resource group of a server (for the `az` lines of a change).
pub fn group_of(ws: &Workspace, server: &str) -> String {
    ws.server(server)
        .map(|s| s.resource_group.clone())
        .unwrap_or_default()
}

/// Keeps `message` only while what it describes still holds. `fact` is what the message is
/// about (a protector, a group's primary, a database's availability): it is taken on the
/// first frame a message shows, and when it changes (the clock, a rewind, a change made
/// elsewhere) the message goes, so a blade never says what is no longer true.
pub fn forget_when_changed(
    ui: &egui::Ui,
    what: &str,
    message: &mut Option<Outcome>,
    fact: impl std::hash::Hash,
) {
    use std::hash::{Hash, Hasher};
    let hash = |x: &dyn Fn(&mut std::collections::hash_map::DefaultHasher)| {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        x(&mut h);
        h.finish()
    };
    let said = hash(&|h| message.hash(h));
    let now = hash(&|h| fact.hash(h));
    let id = ui.scope_id().with(("message-fact", what));
    match ui.data(|d| d.get_temp::<(u64, u64)>(id)) {
        Some((before, fact_then)) if before == said && fact_then != now && message.is_some() => {
            *message = None;
            let none = hash(&|h| Option::<Outcome>::None.hash(h));
            ui.data_mut(|d| d.insert_temp(id, (none, now)));
        }
        Some((before, _)) if before == said => {}
        _ => {
            ui.data_mut(|d| d.insert_temp(id, (said, now)));
        }
    }
}

/// Shows an operation's last outcome.
pub fn outcome(ui: &mut egui::Ui, message: &Option<Result<String, String>>) {
    match message {
        Some(Ok(t)) => super::widgets::success_box(ui, t),
        Some(Err(e)) => super::widgets::error_box(ui, e),
        None => {}
    }
}

#[cfg(test)]
mod subtitle_tests {
    use super::{Blade, BladeKind};
    use crate::model::ServerKind;

    /// A managed instance's blade says so under its title, as the portal does.
    #[test]
    fn a_managed_instances_blade_is_not_called_a_sql_server() {
        let mut ws = crate::persist::demo().expect("the demo");
        let blade = Blade {
            id: 1,
            kind: BladeKind::Server {
                server: "sql-contoso-us".into(),
                message: None,
            },
        };
        assert_eq!(blade.subtitle(&ws), "SQL server");
        ws.server_mut("sql-contoso-us").expect("demo server").kind = ServerKind::ManagedInstance;
        assert_eq!(blade.subtitle(&ws), "SQL managed instance");
        let unknown = Blade {
            id: 2,
            kind: BladeKind::Server {
                server: "gone".into(),
                message: None,
            },
        };
        assert_eq!(unknown.subtitle(&ws), "SQL server");
    }
}
