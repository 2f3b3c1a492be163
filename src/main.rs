//! `tde-console`: opens the console window (the built-in demo, or a workspace file), or runs
//! the Azure-CLI-compatible shell headless.

use std::ffi::OsString;
use std::io::{BufRead, IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use tde_console::{model::Workspace, persist, service, shell::Shell};

const USAGE: &str = "\
tde-console: Azure SQL TDE with customer-managed keys, simulated with real cryptography.

USAGE:
  tde-console [WORKSPACE.ron]            open the console (the built-in demo without a file)
  tde-console shell [WORKSPACE.ron] [--script FILE] [--keep-going] [--passphrase-file FILE] [--pwsh]
                                         run az commands from FILE or standard input
                                         (Az PowerShell cmdlets with --pwsh or a .ps1 FILE);
                                         WORKSPACE is loaded if it exists and saved at the end
                                         (with --passphrase-file: opened with, and saved
                                         protected by, the passphrase on FILE's first line)
  tde-console --help
";

fn main() -> ExitCode {
    // Arguments as the OS gives them: a path need not be UTF-8.
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let first = args.first().map(|a| a.to_string_lossy().into_owned());
    match first.as_deref() {
        Some("-h" | "--help" | "help") => {
            print!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some("shell") => run_shell(&args[1..]),
        Some(option) if option.starts_with('-') => {
            eprintln!("unknown option '{option}'\n\n{USAGE}");
            ExitCode::from(2)
        }
        _ => run_gui(args.first().map(PathBuf::from)),
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

fn run_shell(args: &[OsString]) -> ExitCode {
    let mut workspace: Option<PathBuf> = None;
    let mut script: Option<PathBuf> = None;
    let mut keep_going = false;
    let mut pwsh = false;
    let mut passphrase: Option<String> = None;
    let mut i = 0;
    while i < args.len() {
        match args[i].to_string_lossy().as_ref() {
            "--keep-going" => keep_going = true,
            "--pwsh" => pwsh = true,
            "--passphrase-file" => {
                i += 1;
                let text = args.get(i).map(|f| (f, persist::read_user_text(f)));
                match text {
                    Some((_, Ok(t))) => {
                        let first = t.lines().next().unwrap_or_default().to_string();
                        if first.is_empty() {
                            eprintln!("ERROR: the passphrase file is empty");
                            return ExitCode::from(2);
                        }
                        passphrase = Some(first);
                    }
                    Some((f, Err(e))) => {
                        eprintln!(
                            "ERROR: cannot read the passphrase file '{}': {e}",
                            PathBuf::from(f).display()
                        );
                        return ExitCode::from(2);
                    }
                    None => {
                        eprintln!("--passphrase-file needs a file");
                        return ExitCode::from(2);
                    }
                }
            }
            "--script" => {
                i += 1;
                match args.get(i) {
                    Some(f) => script = Some(PathBuf::from(f)),
                    None => {
                        eprintln!("--script needs a file");
                        return ExitCode::from(2);
                    }
                }
            }
            a if a.starts_with('-') => {
                eprintln!("unknown option '{a}'\n\n{USAGE}");
                return ExitCode::from(2);
            }
            _ => {
                if workspace.is_some() {
                    eprintln!("only one workspace file may be given\n\n{USAGE}");
                    return ExitCode::from(2);
                }
                workspace = Some(PathBuf::from(&args[i]));
            }
        }
        i += 1;
    }
    // Taken before reading: a save by another process from here on is noticed at the end.
    let opened = workspace.as_deref().and_then(persist::stamp);
    let ws = match &workspace {
        Some(p) if p.exists() => match persist::load_with(p, passphrase.as_deref()) {
            Ok(ws) => ws,
            Err(e) => {
                eprintln!("ERROR: {e}");
                return ExitCode::from(2);
            }
        },
        Some(p) => service::new_workspace(
            &p.file_stem()
                .map(|s| s.to_string_lossy().to_string())
                .unwrap_or_default(),
            1,
        ),
        None => service::new_workspace("shell", 1),
    };
    let mut ws = ws;
    let mut sh = Shell::new();
    let ps1 = script
        .as_ref()
        .and_then(|f| f.extension())
        .is_some_and(|e| e.eq_ignore_ascii_case("ps1"));
    if pwsh || ps1 {
        sh.mode = tde_console::shell::ShellMode::Pwsh;
    }
    let mut failures = 0;
    match &script {
        Some(f) => match persist::read_user_text(f) {
            Ok(text) => failures += run_text(&mut sh, &mut ws, &text, keep_going),
            Err(e) => {
                eprintln!("ERROR: cannot read script '{}': {e}", f.display());
                return ExitCode::from(2);
            }
        },
        None if std::io::stdin().is_terminal() => failures += repl(&mut sh, &mut ws),
        None => {
            let mut text = String::new();
            if let Err(e) = std::io::stdin().read_to_string(&mut text) {
                eprintln!("ERROR: cannot read standard input: {e}");
                return ExitCode::from(2);
            }
            failures += run_text(&mut sh, &mut ws, &text, keep_going);
        }
    }
    if let Some(p) = &workspace
        && let Err(e) = persist::save_checked(&ws, p, opened, passphrase.as_deref())
    {
        // Another process saved the file meanwhile: keep both, never lose this run's work.
        let aside = p.with_extension(format!("conflict-{}.ron", std::process::id()));
        let kept = persist::to_ron(&ws)
            .map_err(|e| e.to_string())
            .and_then(|text| match &passphrase {
                Some(p) => persist::sealed::seal(&text, p),
                None => Ok(text),
            })
            .and_then(|text| persist::write_new_file(&aside, text.as_bytes()));
        match kept {
            Ok(()) => eprintln!(
                "ERROR: {e}\nThis run's workspace was saved to '{}' instead.",
                aside.display()
            ),
            Err(e2) => eprintln!("ERROR: {e}\nERROR: {e2}"),
        }
        return ExitCode::from(2);
    }
    if failures > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn run_text(sh: &mut Shell, ws: &mut Workspace, text: &str, keep_going: bool) -> usize {
    // Each line's output as soon as it has run, so errors stand beside their command's
    // neighbours in a transcript (`2>&1`).
    let (failures, _) = sh.run_script_with(ws, text, keep_going, |r| {
        print!("{}", r.stdout);
        let _ = std::io::stdout().flush();
        eprint!("{}", r.stderr);
    });
    failures
}

fn repl(sh: &mut Shell, ws: &mut Workspace) -> usize {
    let mut failures = 0;
    let stdin = std::io::stdin();
    let mut pending = String::new();
    loop {
        print!("{}", if pending.is_empty() { "az> " } else { "... " });
        let _ = std::io::stdout().flush();
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
        let r = sh.run_line(ws, &pending);
        pending.clear();
        print!("{}", r.stdout);
        eprint!("{}", r.stderr);
        if !r.ok {
            failures += 1;
        }
    }
    failures
}
