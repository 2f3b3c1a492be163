//! `tde-console`: opens the console window (the built-in demo, or a workspace file), or runs
//! the Azure-CLI-compatible shell headless.

use clap::{ArgGroup, Args, Parser, Subcommand};
use std::io::{BufRead, IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use tde_console::{model::Workspace, persist, service, shell::Shell};

/// tde-console: Azure SQL TDE with customer-managed keys, simulated with real cryptography.
///
/// Without a subcommand it opens the console window on WORKSPACE (the built-in demo without
/// one).
#[derive(Debug, Parser)]
#[command(
    name = "tde-console",
    version,
    args_conflicts_with_subcommands = true,
    subcommand_value_name = "COMMAND"
)]
struct Cli {
    /// The workspace file to open (the built-in demo without one)
    #[arg(value_name = "WORKSPACE.ron")]
    workspace: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run az commands (or Az PowerShell cmdlets) from a script or standard input
    Shell(ShellArgs),
    /// Serve the workspace's vaults to real SDK clients over HTTPS on 127.0.0.1
    Serve(ServeArgs),
    /// Print an access token for the local vaults
    Token(TokenArgs),
}

/// Runs az commands from FILE or standard input (Az PowerShell cmdlets with --pwsh or a
/// .ps1 FILE). WORKSPACE is loaded if it exists and saved at the end.
///
/// A bash script (--script FILE, not .ps1) runs under the system's bash when there is one,
/// with `az`, `sim` and `date` on its PATH answered by this process: every bash idiom
/// works, the exit status is bash's. --builtin (or TDE_CONSOLE_BUILTIN_SHELL=1) uses the
/// console's own interpreter instead, which stops at the first failing line unless
/// --keep-going.
#[derive(Debug, Args)]
struct ShellArgs {
    /// The workspace file (created when it does not exist)
    #[arg(value_name = "WORKSPACE.ron")]
    workspace: Option<PathBuf>,
    /// Run the commands in FILE instead of standard input
    #[arg(long, value_name = "FILE")]
    script: Option<PathBuf>,
    /// Keep running after a failing line (built-in interpreter)
    #[arg(long)]
    keep_going: bool,
    /// Open the workspace with, and save it protected by, the passphrase on FILE's first line
    #[arg(long, value_name = "FILE")]
    passphrase_file: Option<PathBuf>,
    /// Read Az PowerShell cmdlets instead of az commands
    #[arg(long)]
    pwsh: bool,
    /// Run a bash script with the console's built-in interpreter, not the system's bash
    #[arg(long)]
    builtin: bool,
    /// Stop at the script's `sim chapter NAME` line (a chapter of an exported class): the
    /// workspace is saved as it was there
    #[arg(long, value_name = "NAME")]
    until_chapter: Option<String>,
    /// Start from the built-in demo (WORKSPACE, when given, must not exist yet: it is
    /// created from the demo)
    #[arg(long, conflicts_with = "scenario")]
    demo: bool,
    /// Start from a shipped scenario as it starts (WORKSPACE, when given, must not exist
    /// yet)
    #[arg(long, value_name = "ID")]
    scenario: Option<String>,
}

/// Serves the workspace's vaults to real SDK clients over HTTPS on 127.0.0.1 (the built-in
/// demo without a file). Prints one JSON line per vault (and one more for each vault
/// created while serving), the CA certificate's path and a token for the console user; runs az commands typed on standard input meanwhile. Every
/// change is in WORKSPACE.ron.wal before it is answered (kill -9 loses nothing); Ctrl+C /
/// SIGTERM folds it into the file.
#[derive(Debug, Args)]
struct ServeArgs {
    /// The workspace file to serve (the built-in demo without one)
    #[arg(value_name = "WORKSPACE.ron")]
    workspace: Option<PathBuf>,
    /// The port (0: any free ports)
    #[arg(long, default_value_t = 8443, value_name = "P")]
    port: u16,
    /// Open the workspace with the passphrase on FILE's first line
    #[arg(long, value_name = "FILE")]
    passphrase_file: Option<PathBuf>,
    /// `now`: move the workspace's simulated clock to the wall-clock time (never back)
    /// and keep it there while serving
    #[arg(long, value_name = "now", value_parser = ["now"])]
    clock: Option<String>,
    /// Keep the certificate authority in DIR across runs (ca.pem, and ca-key.pem 0600),
    /// so a client's NODE_EXTRA_CA_CERTS / connection_verify stays valid
    #[arg(long, value_name = "DIR")]
    ca_dir: Option<PathBuf>,
}

/// Prints an access token for the local vaults: for a user-assigned identity, a server's
/// identity, an application's service principal, or the console user.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("who").required(true).args(["identity", "app", "console_user"])))]
struct TokenArgs {
    /// The workspace file that `serve` serves
    #[arg(value_name = "WORKSPACE.ron")]
    workspace: Option<PathBuf>,
    /// A user-assigned identity or a server's identity
    #[arg(long, value_name = "ID")]
    identity: Option<String>,
    /// An application's service principal
    #[arg(long, value_name = "APPID")]
    app: Option<String>,
    /// The application's tenant
    #[arg(long, value_name = "T", requires = "app")]
    tenant: Option<String>,
    /// The console user
    #[arg(long)]
    console_user: bool,
    /// The token's lifetime in seconds
    #[arg(long, value_name = "S", value_parser = clap::value_parser!(i64).range(1..=tde_console::vault_endpoint::token::MAX_LIFETIME_S))]
    lifetime: Option<i64>,
    /// Open the workspace with the passphrase on FILE's first line
    #[arg(long, value_name = "FILE")]
    passphrase_file: Option<PathBuf>,
}

fn main() -> ExitCode {
    // As a thin client of a console that runs a script under real bash (`az`, `sim`,
    // `date` on the script's PATH are links to this binary).
    #[cfg(unix)]
    {
        let mut argv = std::env::args_os();
        if let Some(name) = argv
            .next()
            .and_then(|a| tde_console::shell::bridge::client_name(&a))
        {
            return ExitCode::from(tde_console::shell::bridge::client_main(
                name,
                argv.collect(),
            ));
        }
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version on stdout with 0; usage errors on stderr with 2.
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match cli.command {
        Some(Command::Shell(a)) => run_shell(a),
        Some(Command::Serve(a)) => run_serve(a),
        Some(Command::Token(a)) => run_token(a),
        None => run_gui(cli.workspace),
    }
}

fn run_gui(path: Option<PathBuf>) -> ExitCode {
    match tde_console::ui::run(path) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tde-console: cannot open a window: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run_shell(args: ShellArgs) -> ExitCode {
    let ShellArgs {
        workspace,
        script,
        keep_going,
        passphrase_file,
        pwsh,
        builtin,
        until_chapter,
        demo,
        scenario,
    } = args;
    let passphrase = match passphrase_file.map(|f| read_passphrase(&f)).transpose() {
        Ok(p) => p,
        Err(code) => return code,
    };
    // The script is read (and checked: size, UTF-8) before anything else, whoever runs it.
    let text = match &script {
        Some(f) => match persist::read_user_text(f) {
            Ok(text) => Some(text),
            Err(e) => {
                eprintln!("ERROR: cannot read script '{}': {e}", f.display());
                return ExitCode::from(2);
            }
        },
        None => None,
    };
    // A chapter to stop at must be one the script marks: else nothing runs.
    if let Some(name) = &until_chapter {
        let chapters = text.as_deref().map(Shell::chapters_of).unwrap_or_default();
        if !chapters.iter().any(|c| c == name.trim()) {
            eprintln!(
                "ERROR: --until-chapter: the script has no line `sim chapter {name}` ({}); nothing was run or saved",
                if chapters.is_empty() {
                    "it marks no chapters".to_string()
                } else {
                    format!("its chapters: {}", chapters.join(", "))
                }
            );
            return ExitCode::from(2);
        }
    }
    let start = match start_from(demo, scenario.as_deref(), workspace.as_deref()) {
        Ok(start) => start,
        Err(code) => return code,
    };
    let (mut store, mut ws) = match start {
        Some(first) => match open_new_workspace(workspace.as_deref(), passphrase.as_deref(), first)
        {
            Ok(opened) => opened,
            Err(code) => return code,
        },
        None => match open_workspace(workspace.as_deref(), passphrase.as_deref(), false) {
            Ok(opened) => opened,
            Err(code) => return code,
        },
    };
    let mut sh = Shell::new();
    if let Some(name) = &until_chapter {
        sh.stop_at_chapter(name);
    }
    let ps1 = script
        .as_ref()
        .and_then(|f| f.extension())
        .is_some_and(|e| e.eq_ignore_ascii_case("ps1"));
    if pwsh || ps1 {
        sh.mode = tde_console::shell::ShellMode::Pwsh;
    }
    let mut failures = 0;
    let mut status: Option<u8> = None;
    match (&script, text) {
        (Some(f), Some(text)) => {
            #[cfg(unix)]
            let bash = (sh.mode == tde_console::shell::ShellMode::Az
                && !builtin
                && !tde_console::shell::bridge::builtin_forced())
            .then(tde_console::shell::bridge::find_bash)
            .flatten();
            #[cfg(not(unix))]
            let bash: Option<PathBuf> = {
                let _ = builtin;
                None
            };
            match bash {
                Some(bash) => match run_under_bash(&bash, f, &mut sh, &mut ws) {
                    // bash was stopped at the chapter on purpose.
                    Ok(_) if sh.chapter_reached() => status = Some(0),
                    Ok(code) => status = Some(code),
                    Err(e) => {
                        eprintln!("ERROR: {e}");
                        return ExitCode::from(2);
                    }
                },
                None => failures += run_text(&mut sh, &mut ws, &text, keep_going),
            }
        }
        _ if std::io::stdin().is_terminal() => failures += repl(&mut sh, &mut ws),
        _ => {
            // Bounded as a script file is: `shell < /dev/zero` is refused, not read forever.
            let max = persist::MAX_INPUT_FILE;
            let mut bytes = Vec::new();
            if let Err(e) = std::io::stdin()
                .lock()
                .take(max + 1)
                .read_to_end(&mut bytes)
            {
                eprintln!("ERROR: cannot read standard input: {e}");
                return ExitCode::from(2);
            }
            if bytes.len() as u64 > max {
                eprintln!(
                    "ERROR: the script on standard input is larger than {max} bytes (the limit of a script file); nothing was run or saved"
                );
                return ExitCode::from(2);
            }
            let Ok(text) = String::from_utf8(bytes) else {
                eprintln!("ERROR: standard input is not UTF-8 text; nothing was run or saved");
                return ExitCode::from(2);
            };
            failures += run_text(&mut sh, &mut ws, &text, keep_going);
        }
    }
    if let Some(name) = &until_chapter {
        if sh.chapter_reached() {
            eprintln!(
                "Stopped at chapter '{}': the workspace is as it was there.",
                name.trim()
            );
        } else if failures == 0 && status.is_none_or(|c| c == 0) {
            eprintln!(
                "ERROR: the script ended without reaching `sim chapter {}`",
                name.trim()
            );
            failures += 1;
        }
    }
    if let Some(store) = &mut store
        && let Err(code) = finish_shell_run(store, &ws, passphrase.as_deref())
    {
        return code;
    }
    match status {
        Some(code) => ExitCode::from(code),
        None if failures > 0 => ExitCode::FAILURE,
        None => ExitCode::SUCCESS,
    }
}

/// Runs `script` under the system's `bash`, each `az` / `sim` / `date` it runs answered by
/// `sh` on `ws`, in order. Returns bash's exit status (255 at most).
#[cfg(unix)]
fn run_under_bash(
    bash: &std::path::Path,
    script: &std::path::Path,
    sh: &mut Shell,
    ws: &mut Workspace,
) -> Result<u8, String> {
    use tde_console::shell::bridge;
    let exe = std::env::current_exe()
        .map_err(|e| format!("cannot find this program to run it as az: {e}"))?;
    // Ctrl+C and SIGTERM stop bash (it gets Ctrl+C itself too); what already ran is
    // saved, as after a failing line.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = stop.clone();
    let _ = ctrlc::set_handler(move || flag.store(true, std::sync::atomic::Ordering::SeqCst));
    let home = std::env::current_dir().ok();
    // bash's $RANDOM from the simulation's seeded generator, peeked (not drawn: a run
    // that changes nothing leaves the workspace as it was).
    let seed = ws.clock.clone().next_u64() % (1 << 31);
    let chapter_stop = stop.clone();
    let outcome = bridge::run_script(bash, script, &exe, seed, &stop, |req| {
        // At the chapter asked for (`--until-chapter`) bash is stopped, and a command it
        // started meanwhile is not run.
        if sh.chapter_reached() {
            chapter_stop.store(true, std::sync::atomic::Ordering::SeqCst);
            return bridge::Response {
                code: 130,
                stdout: Vec::new(),
                stderr: b"stopped at the chapter asked for: not run\n".to_vec(),
            };
        }
        // Relative paths (`--file backup.bin`) are the client's, which may have `cd`-ed.
        let moved = match (&req.cwd, &home) {
            (Some(cwd), Some(h)) if cwd != h => std::env::set_current_dir(cwd).is_ok(),
            _ => false,
        };
        let (out, code) = sh.run_argv(ws, &req.words);
        if moved && let Some(h) = &home {
            let _ = std::env::set_current_dir(h);
        }
        if sh.chapter_reached() {
            chapter_stop.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        bridge::Response {
            code,
            stdout: out.stdout.into_bytes(),
            stderr: out.stderr.into_bytes(),
        }
    })?;
    if stop.load(std::sync::atomic::Ordering::SeqCst) && !sh.chapter_reached() {
        eprintln!("Interrupted: the commands that ran before are kept.");
    }
    Ok(u8::try_from(outcome.status).unwrap_or(1))
}

#[cfg(not(unix))]
fn run_under_bash(
    _bash: &std::path::Path,
    _script: &std::path::Path,
    _sh: &mut Shell,
    _ws: &mut Workspace,
) -> Result<u8, String> {
    Err("running scripts under bash needs a Unix system".into())
}

/// The workspace at `path` (a new one when the file does not exist yet) with the changes
/// its log holds, and the store that keeps it; or the built-in demo (with
/// `demo_without_file`) or an empty one without a path.
fn open_workspace(
    path: Option<&std::path::Path>,
    passphrase: Option<&str>,
    demo_without_file: bool,
) -> Result<(Option<persist::store::Store>, Workspace), ExitCode> {
    let fail = |e: String| {
        eprintln!("ERROR: {e}");
        ExitCode::from(2)
    };
    match path {
        Some(p) => {
            let stem = p
                .file_stem()
                .map(|s| s.to_string_lossy().to_string())
                .unwrap_or_default();
            let (store, opened) =
                persist::store::Store::open(p, passphrase, || service::new_workspace(&stem, 1))
                    .map_err(|e| fail(e.to_string()))?;
            if opened.recovered > 0 {
                eprintln!(
                    "Recovered {} change(s) from '{}' that were not yet saved into the file (a process stopped without saving).",
                    opened.recovered,
                    persist::wal::path_for(p).display()
                );
            }
            Ok((Some(store), opened.ws))
        }
        None if demo_without_file => persist::demo()
            .map(|ws| (None, ws))
            .map_err(|e| fail(e.to_string())),
        None => Ok((None, service::new_workspace("shell", 1))),
    }
}

/// The workspace `--demo` / `--scenario ID` start from, if one of them is given.
fn start_from(
    demo: bool,
    scenario: Option<&str>,
    path: Option<&std::path::Path>,
) -> Result<Option<Workspace>, ExitCode> {
    if !demo && scenario.is_none() {
        return Ok(None);
    }
    let fail = |e: String| {
        eprintln!("ERROR: {e}; nothing was run or saved");
        ExitCode::from(2)
    };
    if let Some(p) = path
        && (p.exists() || persist::wal::path_for(p).exists())
    {
        return Err(fail(format!(
            "'{}' exists: --demo / --scenario start a new workspace file (give a new name)",
            p.display()
        )));
    }
    if demo {
        return persist::demo().map(Some).map_err(|e| fail(e.to_string()));
    }
    let id = scenario.unwrap_or_default();
    let shipped = tde_console::scenario::shipped();
    let Some((_, found)) = shipped.iter().find(|(i, _)| i == id) else {
        let ids: Vec<&str> = shipped.iter().map(|(i, _)| i.as_str()).collect();
        return Err(fail(format!(
            "--scenario: no scenario '{id}' (the scenarios: {})",
            ids.join(", ")
        )));
    };
    let s = found
        .clone()
        .map_err(|e| fail(format!("scenario '{id}': {e}")))?;
    tde_console::scenario::start(&s, Box::new(service::OsKeySource))
        .map(Some)
        .map_err(|e| fail(format!("scenario '{id}' could not start: {e}")))
}

/// A workspace file that does not exist yet, starting as `first` (or `first` alone, not
/// saved, without a path).
fn open_new_workspace(
    path: Option<&std::path::Path>,
    passphrase: Option<&str>,
    first: Workspace,
) -> Result<(Option<persist::store::Store>, Workspace), ExitCode> {
    let Some(p) = path else {
        return Ok((None, first));
    };
    let (store, opened) =
        persist::store::Store::open(p, passphrase, move || first).map_err(|e| {
            eprintln!("ERROR: {e}");
            ExitCode::from(2)
        })?;
    Ok((Some(store), opened.ws))
}

/// The end of a shell run: a run that changed nothing leaves the file as it was; one whose
/// only trace is the vaults' request journal (reads) logs it; any other change is saved.
fn finish_shell_run(
    store: &mut persist::store::Store,
    ws: &Workspace,
    passphrase: Option<&str>,
) -> Result<(), ExitCode> {
    let pending = store.pending(ws);
    if pending.is_empty() && store.path().exists() {
        return Ok(());
    }
    let journal_only = persist::delta::Delta {
        journal: pending.journal.clone(),
        ..Default::default()
    } == pending;
    let result = if journal_only && store.path().exists() && !store.log_is_large() {
        store.record(ws).map(|_| ())
    } else {
        store.save(ws)
    };
    result.map_err(|e| keep_aside(ws, store.path(), &e.to_string(), passphrase))
}

/// When the file cannot take this process's work (another process saved it meanwhile, or
/// the disk refused), the work is written to a new file beside it and the run fails.
fn keep_aside(ws: &Workspace, p: &std::path::Path, e: &str, passphrase: Option<&str>) -> ExitCode {
    let aside = p.with_extension(format!("conflict-{}.ron", std::process::id()));
    let kept = persist::file_bytes(ws, passphrase)
        .map_err(|e| e.to_string())
        .and_then(|bytes| persist::write_new_file(&aside, &bytes));
    match kept {
        Ok(()) => eprintln!(
            "ERROR: {e}\nThis run's workspace was saved to '{}' instead.",
            aside.display()
        ),
        Err(e2) => eprintln!("ERROR: {e}\nERROR: {e2}"),
    }
    ExitCode::from(2)
}

/// `--passphrase-file FILE`: the passphrase on the file's first line.
fn read_passphrase(f: &std::path::Path) -> Result<String, ExitCode> {
    match persist::read_user_text(f) {
        Ok(t) => {
            let first = t.lines().next().unwrap_or_default().to_string();
            if first.is_empty() {
                eprintln!("ERROR: the passphrase file is empty");
                return Err(ExitCode::from(2));
            }
            Ok(first)
        }
        Err(e) => {
            eprintln!(
                "ERROR: cannot read the passphrase file '{}': {e}",
                f.display()
            );
            Err(ExitCode::from(2))
        }
    }
}

/// `tde-console serve`: the vaults on 127.0.0.1 until Ctrl+C or SIGTERM, then the
/// workspace saved (when it came from a file).
fn run_serve(args: ServeArgs) -> ExitCode {
    use tde_console::vault_endpoint::Endpoint;
    let ServeArgs {
        workspace,
        port,
        passphrase_file,
        clock,
        ca_dir,
    } = args;
    let passphrase = match passphrase_file.map(|f| read_passphrase(&f)).transpose() {
        Ok(p) => p,
        Err(code) => return code,
    };
    let (mut store, mut ws) =
        match open_workspace(workspace.as_deref(), passphrase.as_deref(), true) {
            Ok(opened) => opened,
            Err(code) => return code,
        };
    // One server a workspace file.
    let _claim = match workspace
        .as_deref()
        .map(|p| persist::resolve_target(p).map_err(|e| e.to_string()))
        .transpose()
        .and_then(|t| t.map(|t| persist::claim_for_serving(&t)).transpose())
    {
        Ok(claim) => claim,
        Err(e) => {
            eprintln!("ERROR: {e}");
            return ExitCode::from(2);
        }
    };
    let keys: std::sync::Arc<dyn service::KeySource> = std::sync::Arc::new(service::OsKeySource);
    let clock = if clock.is_some() {
        // Through the operations layer: every event due on the way runs.
        let started = std::time::Instant::now();
        match tde_console::vault_endpoint::catch_up_with_wall_clock(&mut ws, keys.as_ref()) {
            Ok(0) => eprintln!(
                "The workspace's clock ({}) is not behind the wall clock: left as it is.",
                ws.now()
            ),
            Ok(by) => eprintln!(
                "The workspace's clock moved {} forward to the wall-clock time ({}) in {} ms.",
                tde_console::sim::Duration::seconds(by).human(),
                ws.now(),
                started.elapsed().as_millis()
            ),
            Err(e) => {
                eprintln!("ERROR: cannot move the workspace's clock to the wall-clock time: {e}");
                return ExitCode::from(2);
            }
        }
        tde_console::vault_endpoint::ClockMode::Wall
    } else {
        tde_console::vault_endpoint::ClockMode::Pace
    };
    // What the file must hold before anything is served (a fresh secret replacing the
    // published one: the tokens printed below are signed with it).
    if let Some(s) = &mut store
        && let Err(e) = s.record(&ws)
    {
        eprintln!("ERROR: {e}");
        return ExitCode::from(2);
    }
    // serve's JSON lines: a reader that stopped reading (`serve | head -3`, a test that
    // has what it needs) never stops the server; the lines are only announcements.
    let say = |line: serde_json::Value| emit(&format!("{line}\n"), "");
    let options = tde_console::vault_endpoint::Options {
        first_port: port,
        ca_dir,
        clock,
    };
    let mut endpoint =
        match Endpoint::start_with(&ws, options, keys.clone(), std::sync::Arc::new(|| {})) {
            Ok(e) => e,
            Err(e) => {
                eprintln!("ERROR: {e}");
                return ExitCode::from(2);
            }
        };
    for v in &endpoint.vaults {
        say(serde_json::json!({"vault": v.name, "url": v.url}));
    }
    say(serde_json::json!({"ca_cert": endpoint.ca_path.display().to_string()}));
    say(serde_json::json!({"token": endpoint.console_token(&ws)}));
    // The real az CLI: the environment it runs under against this workspace, and the one
    // command that signs it in there.
    let az_env: serde_json::Map<String, serde_json::Value> = endpoint
        .az_env()
        .into_iter()
        .map(|(k, v)| (k, serde_json::Value::String(v)))
        .collect();
    say(serde_json::json!({ "az_env": az_env }));
    say(serde_json::json!({"az_login": endpoint.az_login(&ws)}));
    let _ = std::io::stdout().flush();
    eprintln!(
        "Serving {} vault(s) on 127.0.0.1. Ctrl+C stops{}.",
        endpoint.vaults.len(),
        if workspace.is_some() {
            " and saves the workspace"
        } else {
            ""
        }
    );
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = stop.clone();
    if let Err(e) =
        ctrlc::set_handler(move || flag.store(true, std::sync::atomic::Ordering::SeqCst))
    {
        eprintln!(
            "WARNING: cannot catch Ctrl+C ({e}); the workspace is saved only on a clean exit"
        );
    }
    // Shell commands on standard input run between requests, on the same workspace: a
    // trainer revokes access (or reads the audit log) while a client is calling.
    let (line_tx, lines) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        bounded_lines(std::io::stdin().lock(), MAX_STDIN_LINE, |line| match line {
            Ok(line) => line_tx.send(line).is_ok(),
            Err(why) => {
                eprintln!("ERROR: {why}");
                true
            }
        });
    });
    // The webhooks alerts fire are sent by the courier's thread, between requests: an
    // endpoint slow to answer never holds a client's request (nor does a typed line).
    let mut sh = Shell::new().without_webhook_delivery();
    let mut courier = tde_console::webhook_delivery::Courier::default();
    // Every change a client is answered for, and every line typed, is in the workspace's
    // log before the answer: a crash (kill -9, power loss) loses none of them.
    let mut durable = |ws: &Workspace| -> Result<(), String> {
        let Some(s) = &mut store else {
            return Ok(());
        };
        s.record(ws).map_err(|e| e.to_string())?;
        // A log grown past the file is folded into it (a whole save, now and then).
        if s.log_is_large() {
            s.save(ws).map_err(|e| e.to_string())?;
        }
        Ok(())
    };
    let mut lost: Option<String> = None;
    while !stop.load(std::sync::atomic::Ordering::SeqCst) && lost.is_none() {
        if let Err(e) = endpoint.serve_next_durably(
            &mut ws,
            keys.as_ref(),
            std::time::Duration::from_millis(50),
            &mut durable,
        ) {
            lost = Some(e);
        }
        while lost.is_none()
            && let Ok(line) = lines.try_recv()
        {
            run_text(&mut sh, &mut ws, &line, true);
            if let Err(e) = durable(&ws) {
                lost = Some(e);
            }
        }
        // Webhooks fired by what was just made durable; their outcomes are made durable too.
        if lost.is_none()
            && courier.poll(&mut ws, true) > 0
            && let Err(e) = durable(&ws)
        {
            lost = Some(e);
        }
        // Vaults created meanwhile are served, and announced as the first ones were;
        // vaults deleted stop listening.
        for change in endpoint.sync(&ws) {
            use tde_console::vault_endpoint::Change;
            match change {
                Change::Served(v) => say(serde_json::json!({"vault": v.name, "url": v.url})),
                Change::Stopped(name) => say(serde_json::json!({"vault_gone": name})),
                Change::NotServed { vault, why } => {
                    eprintln!("WARNING: vault '{vault}' is not served: {why}")
                }
            }
            let _ = std::io::stdout().flush();
        }
    }
    endpoint.stop();
    eprintln!(
        "Stopped after {} request(s).",
        endpoint
            .stats
            .requests
            .load(std::sync::atomic::Ordering::SeqCst)
    );
    if let Some(e) = &lost {
        eprintln!("ERROR: stopped serving: {e}");
    }
    if let Some(s) = &mut store
        && let Err(e) = s.save(&ws)
    {
        return keep_aside(&ws, s.path(), &e.to_string(), passphrase.as_deref());
    }
    if lost.is_some() {
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

/// The longest line `serve` takes on standard input (a command, not a script).
const MAX_STDIN_LINE: usize = 1024 * 1024;

/// Reads `input` line by line, handing each line (without its `\n` or `\r\n`) to `each`,
/// until the end of input or `each` returns false. A line longer than `max` bytes is never
/// kept: `each` gets an error for it once and the rest of it is skipped, up to its newline;
/// a line that is not UTF-8 gets an error too. Memory stays within `max` plus one buffer.
fn bounded_lines(
    mut input: impl BufRead,
    max: usize,
    mut each: impl FnMut(Result<String, String>) -> bool,
) {
    let mut line: Vec<u8> = Vec::new();
    let mut too_long = false;
    let mut finish = |line: &mut Vec<u8>, too_long: &mut bool| -> bool {
        let out = if std::mem::take(too_long) {
            Err(format!(
                "a line of standard input longer than {max} bytes was ignored"
            ))
        } else {
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            String::from_utf8(std::mem::take(line))
                .map_err(|_| "a line of standard input that is not UTF-8 was ignored".into())
        };
        line.clear();
        each(out)
    };
    loop {
        let buf = match input.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        if buf.is_empty() {
            if !line.is_empty() || too_long {
                finish(&mut line, &mut too_long);
            }
            return;
        }
        let newline = buf.iter().position(|b| *b == b'\n');
        let part = &buf[..newline.unwrap_or(buf.len())];
        if !too_long {
            if line.len() + part.len() > max {
                too_long = true;
                line = Vec::new();
            } else {
                line.extend_from_slice(part);
            }
        }
        let used = newline.map_or(buf.len(), |i| i + 1);
        input.consume(used);
        if newline.is_some() && !finish(&mut line, &mut too_long) {
            return;
        }
    }
}

/// `tde-console token`: an access token for the local vaults.
fn run_token(args: TokenArgs) -> ExitCode {
    use tde_console::vault_endpoint::{Bearer, TOKEN_LIFETIME_S, token_for};
    let TokenArgs {
        workspace,
        identity,
        app,
        tenant,
        console_user,
        lifetime,
        passphrase_file,
    } = args;
    let passphrase = match passphrase_file.map(|f| read_passphrase(&f)).transpose() {
        Ok(p) => p,
        Err(code) => return code,
    };
    let lifetime = lifetime.unwrap_or(TOKEN_LIFETIME_S);
    // clap lets exactly one of them through.
    let who = match (identity, app) {
        (Some(id), _) => Bearer::Identity(id),
        (None, Some(app_id)) => Bearer::App { app_id, tenant },
        (None, None) => {
            debug_assert!(console_user);
            Bearer::ConsoleUser
        }
    };
    if workspace.as_deref().is_some_and(|p| !p.exists()) {
        eprintln!(
            "ERROR: no workspace file at '{}'",
            workspace
                .as_deref()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        );
        return ExitCode::from(2);
    }
    let ws = match workspace.as_deref() {
        Some(p) => match persist::load_with(p, passphrase.as_deref()) {
            Ok(ws) => ws,
            Err(e) => {
                eprintln!("ERROR: {e}");
                return ExitCode::from(2);
            }
        },
        None => {
            eprintln!(
                "ERROR: token needs the workspace file that `serve` serves (the built-in demo gets fresh secrets each time it starts)"
            );
            return ExitCode::from(2);
        }
    };
    match token_for(&ws, &who, lifetime) {
        Ok(t) => {
            println!("{t}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("ERROR: {e}");
            ExitCode::from(2)
        }
    }
}

fn run_text(sh: &mut Shell, ws: &mut Workspace, text: &str, keep_going: bool) -> usize {
    // Each line's output as soon as it has run, so errors stand beside their command's
    // neighbours in a transcript (`2>&1`).
    let (failures, _) = sh.run_script_with(ws, text, keep_going, |r| emit(&r.stdout, &r.stderr));
    failures
}

/// A command's output, as bash writes it: a reader that has gone (`… | head -3`, a test that
/// read what it needed, a closed terminal) costs that output, never the process; the
/// commands after it still run and their changes are still saved.
fn emit(stdout: &str, stderr: &str) {
    if !stdout.is_empty() {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(stdout.as_bytes());
        let _ = out.flush();
    }
    if !stderr.is_empty() {
        let _ = std::io::stderr().lock().write_all(stderr.as_bytes());
    }
}

fn repl(sh: &mut Shell, ws: &mut Workspace) -> usize {
    let mut failures = 0;
    let stdin = std::io::stdin();
    let mut pending = String::new();
    loop {
        emit(if pending.is_empty() { "az> " } else { "... " }, "");
        let mut line = String::new();
        match stdin.lock().read_line(&mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        let line = line.trim_end_matches(['\n', '\r']);
        if let Some(body) = line.strip_suffix('\\') {
            pending.push_str(body);
            pending.push(' ');
            continue;
        }
        pending.push_str(line);
        if matches!(pending.trim(), "exit" | "quit") {
            break;
        }
        // An `if` / `for` / `while` typed over several lines runs once it is closed.
        if sh.mode == tde_console::shell::ShellMode::Az {
            use tde_console::shell::{compound, lexer};
            let segs: Vec<compound::Seg> = lexer::semicolon_segments(&pending)
                .into_iter()
                .map(|text| compound::Seg { line: 1, text })
                .collect();
            if compound::open_count(&segs) > 0 {
                pending.push_str("; ");
                continue;
            }
        }
        let r = sh.run_line(ws, &pending);
        pending.clear();
        emit(&r.stdout, &r.stderr);
        if !r.ok {
            failures += 1;
        }
    }
    failures
}
