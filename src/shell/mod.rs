//! An Azure-CLI-compatible command runner over the operations layer: `az ...` lines (and
//! the simulator's own `sim ...` verbs) from a script, standard input, or the in-app panel.
//!
//! Scripts may use `#` comments, `\` continuations, `NAME=value`, `export NAME=value`,
//! `$NAME`, `${NAME}`, `${NAME:-default}`, `${NAME:=default}`, `$(command)`, `$(( expr ))`,
//! `let`, `$RANDOM`, `$$`, `$?`, command lists (`;`, `&&`, `||`), redirections to
//! `/dev/null` and between the two streams (`2>&1`), `if` / `for` / `while` / `until`
//! (`compound`), `set -e`, `exit`, `printf`, `expr`, `date` (the simulated clock), `[ … ]`,
//! pipes into the filters of `utils` (`tr`, `head`, `grep`, …), per-command `--query` and
//! `-o json|tsv|table|none`. Errors print as `ERROR: (<Code>) <Message>`; the shell's own
//! as bash words them (`bash: …`).

pub mod account;
pub mod args;
pub mod arith;
pub mod az_table;
#[cfg(unix)]
pub mod bridge;
pub mod commands;
pub mod compound;
pub mod continuity;
pub mod date;
pub mod directory;
pub mod dw;
pub mod estate;
pub mod governance;
pub mod heredoc;
pub mod identity;
pub mod invocation;
pub mod keyvault;
pub mod lexer;
pub mod managed_instance;
pub mod monitor;
pub mod network;
pub mod output;
pub mod pwsh;
pub mod registry;
pub mod rotation;
pub mod secrets;
pub mod sim;
pub mod sql;
pub mod synapse;
pub mod transfer;
pub mod utils;
pub mod views;

use crate::model::Workspace;
use crate::service::{KeySource, OsKeySource};
use commands::CommandError;
use lexer::Piece;
use output::OutputFormat;
use std::collections::BTreeMap;

/// What one line printed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LineOutput {
    pub stdout: String,
    pub stderr: String,
    pub ok: bool,
}

/// What a whole script did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScriptOutcome {
    pub stdout: String,
    pub stderr: String,
    pub failures: usize,
    pub commands: usize,
}

/// A shell session: its variables and where new keys come from. Each call acts on the
/// workspace it is given.
pub struct Shell {
    pub vars: BTreeMap<String, String>,
    /// `az` (bash-like) or PowerShell, as Cloud Shell offers both.
    pub mode: ShellMode,
    /// PowerShell variables: objects, as cmdlets return them.
    ps_vars: BTreeMap<String, serde_json::Value>,
    keys: Box<dyn KeySource + Send>,
    /// How deep `$(...)` substitutions are nested right now.
    depth: usize,
    /// `$?`: whether the last command succeeded (bash's 0) or not (1).
    last_ok: bool,
    /// Whether the last line failed only because a command before its last `&&` / `||`
    /// did (bash's `set -e` lets such a line go on).
    last_exempt: bool,
    /// `set -e` (`Some(true)`) or `set +e` (`Some(false)`); `None`: a script stops at its
    /// first failing line unless it is run with keep-going.
    errexit: Option<bool>,
    /// `set -o pipefail`: a pipe fails when any of its commands does.
    pipefail: bool,
    /// `exit N` ran: the script ends.
    exit_requested: Option<i32>,
    /// `--until-chapter NAME`: the script ends at `sim chapter NAME`.
    until_chapter: Option<String>,
    /// That chapter was reached.
    chapter_reached: bool,
    /// A here-document waiting for the next command to read it as its standard input.
    stdin: Option<String>,
    /// Echo each line before it runs, after this prompt (a pasted script in Cloud Shell).
    echo: Option<String>,
    /// The `az` lines of the changes PowerShell cmdlets made (each cmdlet runs its `az`
    /// twin), kept until [`Shell::take_pwsh_changes`]: a session's script replays them
    /// under bash.
    pwsh_changes: Vec<String>,
    /// Sends the webhook outbox after each top-level command (off for the window's shell:
    /// the window sends it itself).
    delivers_webhooks: bool,
}

impl Default for Shell {
    fn default() -> Self {
        Shell {
            vars: BTreeMap::new(),
            mode: ShellMode::Az,
            ps_vars: BTreeMap::new(),
            keys: Box::new(OsKeySource),
            depth: 0,
            last_ok: true,
            last_exempt: false,
            errexit: None,
            pipefail: false,
            exit_requested: None,
            until_chapter: None,
            chapter_reached: false,
            stdin: None,
            echo: None,
            pwsh_changes: Vec::new(),
            delivers_webhooks: true,
        }
    }
}

/// Which language the shell reads: `az` lines in a bash-like syntax, or PowerShell with
/// the Az cmdlets. `pwsh` and `bash` switch between them, as in Cloud Shell.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ShellMode {
    #[default]
    Az,
    Pwsh,
}

/// The longest a line may become once its variables and substitutions are expanded.
pub const MAX_EXPANDED_LINE: usize = 1 << 20;

/// The deepest `$(...)` nesting a line may have.
pub const MAX_SUBSTITUTION_DEPTH: usize = 16;

/// The most commands one script (or one line's loops) may run.
pub const MAX_SCRIPT_COMMANDS: usize = 1_000_000;

/// A script's run: where outputs go and what it counted.
struct Run<'a> {
    keep_going: bool,
    each: &'a mut dyn FnMut(&LineOutput),
    failures: usize,
    commands: usize,
}

/// A logical line's commands, cut at its top-level `;`.
fn segments(line_no: usize, line: &str) -> Vec<compound::Seg> {
    lexer::semicolon_segments(line)
        .into_iter()
        .map(|text| compound::Seg {
            line: line_no,
            text,
        })
        .collect()
}

impl Shell {
    pub fn new() -> Self {
        Self::default()
    }

    /// Uses another key source (tests use pre-generated keys).
    pub fn with_keys(mut self, keys: Box<dyn KeySource + Send>) -> Self {
        self.keys = keys;
        self
    }

    /// Leaves the workspace's webhook outbox to its owner (the window sends it from a thread
    /// of its own): by default the shell sends it after each command.
    pub fn without_webhook_delivery(mut self) -> Self {
        self.delivers_webhooks = false;
        self
    }

    /// After a command at the top level has committed: the webhooks its alerts fired are
    /// sent now and their outcomes recorded ([`crate::webhook_delivery::drain`]).
    fn deliver_webhooks(&self, ws: &mut Workspace) {
        if self.delivers_webhooks {
            crate::webhook_delivery::drain(ws);
        }
    }

    /// The `az` lines of the changes PowerShell cmdlets made since the last call, oldest
    /// first (a cmdlet that changed nothing left none).
    pub fn take_pwsh_changes(&mut self) -> Vec<String> {
        std::mem::take(&mut self.pwsh_changes)
    }

    /// Runs a script. Stops at the first error unless `keep_going`.
    pub fn run_script(
        &mut self,
        ws: &mut Workspace,
        script: &str,
        keep_going: bool,
    ) -> ScriptOutcome {
        let mut out = ScriptOutcome::default();
        let (failures, commands) = self.run_script_with(ws, script, keep_going, |r| {
            out.stdout.push_str(&r.stdout);
            out.stderr.push_str(&r.stderr);
        });
        out.failures = failures;
        out.commands = commands;
        out
    }

    /// Runs a script as a terminal shows a pasted one: each line is echoed after `prompt`
    /// (continuation lines and here-document bodies after `> `) just before it runs, and
    /// its output follows it. Returns (failures, commands).
    pub fn run_script_echoed(
        &mut self,
        ws: &mut Workspace,
        script: &str,
        keep_going: bool,
        prompt: &str,
        each: impl FnMut(&LineOutput),
    ) -> (usize, usize) {
        self.echo = Some(prompt.to_string());
        let out = self.run_script_with(ws, script, keep_going, each);
        self.echo = None;
        out
    }

    /// Runs a script, handing each line's output to `each` as soon as the line has run (so
    /// a terminal shows errors beside the output around them). Returns (failures, commands).
    pub fn run_script_with(
        &mut self,
        ws: &mut Workspace,
        script: &str,
        keep_going: bool,
        mut each: impl FnMut(&LineOutput),
    ) -> (usize, usize) {
        let raw: Vec<&str> = script.lines().collect();
        let mut i = 0;
        let mut ctx = Run {
            keep_going,
            each: &mut each,
            failures: 0,
            commands: 0,
        };
        self.exit_requested = None;
        loop {
            let first = i;
            let Some((line_no, line)) = self.next_logical_line(&raw, &mut i) else {
                break;
            };
            if line.is_empty() || line.starts_with('#') {
                self.echo_lines(&raw[first..i], &mut ctx);
                continue;
            }
            // A here-document: the lines up to its delimiter are the command's input.
            let here = match self.mode {
                ShellMode::Az => heredoc::operator(&line),
                ShellMode::Pwsh => None,
            };
            if let Some(doc) = here {
                let (body, closed) = heredoc::body(&raw, &mut i, &doc);
                self.echo_lines(&raw[first..i], &mut ctx);
                if !closed {
                    (ctx.each)(&LineOutput {
                        stderr: format!(
                            "bash: warning: here-document at line {line_no} delimited by end-of-file (wanted `{}')\n",
                            doc.delimiter
                        ),
                        ok: true,
                        ..Default::default()
                    });
                }
                let body = if doc.expand {
                    let quoted = format!("\"{}\"", body.replace('"', "\\\""));
                    self.expand_line(ws, &quoted).map(|w| w.join(" "))
                } else {
                    Ok(body)
                };
                let go_on = match body {
                    Ok(body) => {
                        self.stdin = Some(body);
                        let node = compound::Node::Simple(compound::Seg {
                            line: line_no,
                            text: doc.command.clone(),
                        });
                        let go_on = self.exec_nodes(ws, &[node], &mut ctx, false, 0);
                        self.stdin = None;
                        go_on
                    }
                    Err(e) => self.script_error(&mut ctx, &e, false),
                };
                if !go_on {
                    break;
                }
                continue;
            }
            // bash's compound commands (`if`, `for`, `while`) may span lines: the lines up
            // to the one that closes them are parsed and run together.
            let nodes = match self.mode {
                ShellMode::Az => {
                    let mut segs = segments(line_no, &line);
                    if compound::has_keyword(&segs) {
                        while compound::open_count(&segs) > 0
                            && let Some((n, more)) = self.next_logical_line(&raw, &mut i)
                        {
                            segs.extend(segments(n, &more));
                        }
                        compound::parse(segs)
                    } else {
                        Ok(vec![compound::Node::Simple(compound::Seg {
                            line: line_no,
                            text: line.clone(),
                        })])
                    }
                }
                ShellMode::Pwsh => Ok(vec![compound::Node::Simple(compound::Seg {
                    line: line_no,
                    text: line.clone(),
                })]),
            };
            self.echo_lines(&raw[first..i], &mut ctx);
            let go_on = match nodes {
                Ok(nodes) => self.exec_nodes(ws, &nodes, &mut ctx, false, 0),
                Err(e) => {
                    let mut r = bash_error(&e);
                    ctx.commands += 1;
                    ctx.failures += 1;
                    let stop = self.stops_on_failure(keep_going);
                    if stop {
                        r.stderr
                            .push_str(&format!("(stopped at line {line_no}: {line})\n"));
                    }
                    (ctx.each)(&r);
                    !stop
                }
            };
            if !go_on {
                break;
            }
        }
        self.exit_requested = None;
        (ctx.failures, ctx.commands)
    }

    /// Echoes the physical lines `lines` (when echoing): the first after the prompt, the
    /// rest after `> `, as bash shows continued input.
    fn echo_lines(&self, lines: &[&str], ctx: &mut Run<'_>) {
        let Some(prompt) = &self.echo else {
            return;
        };
        let mut text = String::new();
        for (n, l) in lines.iter().enumerate() {
            let p = if n == 0 { prompt.as_str() } else { ">" };
            text.push_str(&format!("{p} {}\n", l.trim_end_matches('\r')));
        }
        if !text.is_empty() {
            (ctx.each)(&LineOutput {
                stdout: text,
                ok: true,
                ..Default::default()
            });
        }
    }

    /// The next logical line from `raw[*i..]`, joined by the current mode's continuation
    /// (`\` or a backtick), trimmed, with the number of its first physical line.
    fn next_logical_line(&self, raw: &[&str], i: &mut usize) -> Option<(usize, String)> {
        if *i >= raw.len() {
            return None;
        }
        let line_no = *i + 1;
        let mut line = String::new();
        while *i < raw.len() {
            let text = match self.mode {
                ShellMode::Az => lexer::strip_comment(raw[*i]).trim_end().to_string(),
                ShellMode::Pwsh => raw[*i].trim_end().to_string(),
            };
            *i += 1;
            let continued = match self.mode {
                ShellMode::Az => text.strip_suffix('\\'),
                ShellMode::Pwsh => text.strip_suffix('`'),
            };
            match continued {
                Some(body) => {
                    line.push_str(body);
                    line.push(' ');
                }
                None => {
                    line.push_str(&text);
                    // PowerShell reads on while a `@{ … }` or `( … )` is open: a line end
                    // in a hashtable separates its entries.
                    if self.mode == ShellMode::Pwsh
                        && *i < raw.len()
                        && pwsh::open_brackets(&line) > 0
                    {
                        let joined = line.trim_end();
                        if !joined.ends_with([',', '(', '{', ';']) {
                            line.push(';');
                        }
                        line.push(' ');
                        // A comment line inside is no entry.
                        while *i < raw.len() && raw[*i].trim_start().starts_with('#') {
                            *i += 1;
                        }
                        continue;
                    }
                    break;
                }
            }
        }
        Some((line_no, line.trim().to_string()))
    }

    /// Whether a failing command ends the script: `set -e` / `set +e`, else keep-going.
    fn stops_on_failure(&self, keep_going: bool) -> bool {
        self.errexit.unwrap_or(!keep_going)
    }

    /// Runs parsed commands; false when the script must stop (`set -e`, `exit`, a limit).
    /// In a condition (`if`, `while`) a failure is an answer, not an error.
    fn exec_nodes(
        &mut self,
        ws: &mut Workspace,
        nodes: &[compound::Node],
        ctx: &mut Run<'_>,
        condition: bool,
        depth: usize,
    ) -> bool {
        use compound::Node;
        if depth > compound::MAX_NESTING {
            return self.script_error(ctx, "compound commands nest too deeply", condition);
        }
        for node in nodes {
            match node {
                Node::Simple(seg) => {
                    if ctx.commands >= MAX_SCRIPT_COMMANDS {
                        return self.script_error(
                            ctx,
                            &format!(
                                "the script ran more than {MAX_SCRIPT_COMMANDS} commands; stopped"
                            ),
                            false,
                        );
                    }
                    let mut r = self.run_line(ws, &seg.text);
                    ctx.commands += 1;
                    if self.exit_requested.is_some() {
                        if !r.ok {
                            ctx.failures += 1;
                        }
                        (ctx.each)(&r);
                        return false;
                    }
                    if !r.ok && !condition && !self.last_exempt {
                        ctx.failures += 1;
                        if self.stops_on_failure(ctx.keep_going) {
                            r.stderr.push_str(&format!(
                                "(stopped at line {}: {})\n",
                                seg.line, seg.text
                            ));
                            (ctx.each)(&r);
                            return false;
                        }
                    }
                    (ctx.each)(&r);
                }
                Node::If {
                    branches,
                    otherwise,
                } => {
                    let mut taken = false;
                    for (cond, body) in branches {
                        if !self.exec_nodes(ws, cond, ctx, true, depth + 1) {
                            return false;
                        }
                        if self.last_ok {
                            taken = true;
                            if !self.exec_nodes(ws, body, ctx, condition, depth + 1) {
                                return false;
                            }
                            break;
                        }
                    }
                    if !taken {
                        match otherwise {
                            Some(body) => {
                                if !self.exec_nodes(ws, body, ctx, condition, depth + 1) {
                                    return false;
                                }
                            }
                            // No branch ran: the `if` succeeds, as in bash.
                            None => self.last_ok = true,
                        }
                    }
                }
                Node::For {
                    var,
                    words,
                    body,
                    line,
                } => {
                    let items = match words {
                        Some(w) => match self.expand_line(ws, w) {
                            Ok(items) => items,
                            Err(e) => {
                                let _ = line;
                                return self.script_error(ctx, &e, condition);
                            }
                        },
                        None => Vec::new(),
                    };
                    if items.len() > compound::MAX_LOOP_ITERATIONS {
                        return self.script_error(
                            ctx,
                            &format!(
                                "for {var}: more than {} words to loop over",
                                compound::MAX_LOOP_ITERATIONS
                            ),
                            condition,
                        );
                    }
                    self.last_ok = true;
                    for item in items {
                        self.vars.insert(var.clone(), item);
                        if !self.exec_nodes(ws, body, ctx, condition, depth + 1) {
                            return false;
                        }
                    }
                }
                Node::While {
                    until,
                    cond,
                    body,
                    line,
                } => {
                    let mut n = 0;
                    loop {
                        if !self.exec_nodes(ws, cond, ctx, true, depth + 1) {
                            return false;
                        }
                        if self.last_ok == *until {
                            break;
                        }
                        n += 1;
                        if n > compound::MAX_LOOP_ITERATIONS {
                            return self.script_error(
                                ctx,
                                &format!(
                                    "the loop at line {line} ran {} times; stopped",
                                    compound::MAX_LOOP_ITERATIONS
                                ),
                                false,
                            );
                        }
                        if !self.exec_nodes(ws, body, ctx, condition, depth + 1) {
                            return false;
                        }
                    }
                    self.last_ok = true;
                }
            }
        }
        true
    }

    /// A shell error inside a script (a bad expansion, a limit): reported as a failing
    /// command; false when the script stops on it.
    fn script_error(&mut self, ctx: &mut Run<'_>, message: &str, condition: bool) -> bool {
        let text = if message.starts_with("bash: ") || message.starts_with("ERROR: ") {
            format!("{message}\n")
        } else {
            format!("bash: {message}\n")
        };
        let r = LineOutput {
            stderr: text,
            ..Default::default()
        };
        self.last_ok = false;
        ctx.commands += 1;
        if condition {
            (ctx.each)(&r);
            return true;
        }
        ctx.failures += 1;
        (ctx.each)(&r);
        !self.stops_on_failure(ctx.keep_going)
    }

    /// Runs one logical line: an assignment, a built-in, or a command.
    /// Runs one line. A bug that panics while the line runs becomes an error message, and
    /// the workspace is kept as it was before the line (a snapshot: cheap).
    pub fn run_line(&mut self, ws: &mut Workspace, line: &str) -> LineOutput {
        if self.depth >= MAX_SUBSTITUTION_DEPTH {
            return LineOutput {
                stderr: format!(
                    "ERROR: command substitutions $( ... ) nest deeper than {MAX_SUBSTITUTION_DEPTH}.\n"
                ),
                ..Default::default()
            };
        }
        let outer = self.depth;
        let snapshot = (outer == 0).then(|| ws.clone());
        self.depth += 1;
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.run_line_inner(ws, line)
        }));
        // Back to this line's own level, also when a panic skipped the nested levels' own
        // bookkeeping (PowerShell's `( … )` count on the same depth).
        self.depth = outer;
        let out = match result {
            Ok(out) => out,
            Err(panic) => {
                if let Some(s) = snapshot {
                    // Nothing the line changed is kept, except the requests vaults answered.
                    let failed = std::mem::replace(ws, s);
                    ws.keep_trace_of(failed);
                }
                LineOutput {
                    stderr: format!(
                        "ERROR: (InternalError) The command failed inside the console ({}); nothing was changed.\n",
                        panic_text(&panic)
                    ),
                    ..Default::default()
                }
            }
        };
        if outer == 0 {
            self.deliver_webhooks(ws);
        }
        out
    }

    /// Runs one command given as words that are already split and expanded (by real bash:
    /// they are not read again): `az …`, `sim …` or `date …`. Returns its output and its exit
    /// code as az gives it (0 ok, 1 error, 2 usage error). A panic is an error that changes
    /// nothing, as in [`Shell::run_line`].
    pub fn run_argv(&mut self, ws: &mut Workspace, words: &[String]) -> (LineOutput, u8) {
        let snapshot = ws.clone();
        let outer = self.depth;
        self.depth += 1;
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let draws = ws.clock.draws;
            let (r, code) = match words.first().map(String::as_str) {
                Some("date") => match date::date(ws.now(), &words[1..]) {
                    Ok(text) => (ok_output(text), 0),
                    Err(e) => (
                        LineOutput {
                            stderr: format!("{e}\n"),
                            ..Default::default()
                        },
                        1,
                    ),
                },
                Some("sleep") => {
                    let r = self.sleep(ws, &words[1..]);
                    let code = u8::from(!r.ok);
                    (r, code)
                }
                _ => self.run_command_coded(ws, words),
            };
            if !r.ok {
                ws.clock.draws = draws;
            }
            (r, code)
        }));
        self.depth = outer;
        let out = match result {
            Ok((r, code)) => {
                self.last_ok = r.ok;
                (r, code)
            }
            Err(panic) => {
                let failed = std::mem::replace(ws, snapshot);
                ws.keep_trace_of(failed);
                self.last_ok = false;
                (
                    LineOutput {
                        stderr: format!(
                            "ERROR: (InternalError) The command failed inside the console ({}); nothing was changed.\n",
                            panic_text(&panic)
                        ),
                        ..Default::default()
                    },
                    1,
                )
            }
        };
        if outer == 0 {
            self.deliver_webhooks(ws);
        }
        out
    }

    fn run_line_inner(&mut self, ws: &mut Workspace, line: &str) -> LineOutput {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            return LineOutput {
                ok: true,
                ..Default::default()
            };
        }
        match (self.mode, line) {
            (ShellMode::Az, "pwsh" | "powershell") => {
                self.mode = ShellMode::Pwsh;
                return LineOutput {
                    stdout: "PowerShell: Az cmdlets (Get-AzSqlServerKeyVaultKey, Set-AzKeyVaultAccessPolicy, ...). Type 'bash' to go back to az.\n".into(),
                    ok: true,
                    ..Default::default()
                };
            }
            (ShellMode::Pwsh, "bash") => {
                self.mode = ShellMode::Az;
                return LineOutput {
                    stdout: "Bash: az commands.\n".into(),
                    ok: true,
                    ..Default::default()
                };
            }
            (ShellMode::Pwsh, _) => return self.run_pwsh_line(ws, line),
            _ => {}
        }
        self.last_exempt = false;
        let segs = segments(1, line);
        if compound::has_keyword(&segs) {
            return self.run_compound_line(ws, segs);
        }
        let list = match lexer::command_list(line) {
            Ok(list) => list,
            Err(e) => return bash_error(&e),
        };
        // `a && b` runs b if a succeeded, `a || b` if it failed, `a; b` always; the
        // line's result is the last command that ran.
        let mut out = LineOutput {
            ok: true,
            ..Default::default()
        };
        let last = list.len().saturating_sub(1);
        let mut ran_last = true;
        let mut and_or = false;
        for (i, (connector, command)) in list.into_iter().enumerate() {
            let run = match connector {
                lexer::Connector::Always => true,
                lexer::Connector::And => out.ok,
                lexer::Connector::Or => !out.ok,
            };
            and_or |= connector != lexer::Connector::Always;
            if i == last {
                ran_last = run;
            }
            if !run {
                continue;
            }
            let r = self.run_simple(ws, &command);
            out.stdout.push_str(&r.stdout);
            out.stderr.push_str(&r.stderr);
            out.ok = r.ok;
        }
        // `a && b` where a failed: as under `set -e`, the script goes on.
        self.last_exempt = !out.ok && and_or && !ran_last;
        out
    }

    /// A compound command typed on one line (`for x in a b; do …; done`).
    fn run_compound_line(&mut self, ws: &mut Workspace, segs: Vec<compound::Seg>) -> LineOutput {
        let nodes = match compound::parse(segs) {
            Ok(n) => n,
            Err(e) => {
                self.last_ok = false;
                return bash_error(&e);
            }
        };
        self.exit_requested = None;
        let mut out = LineOutput::default();
        let mut each = |r: &LineOutput| {
            out.stdout.push_str(&r.stdout);
            out.stderr.push_str(&r.stderr);
        };
        let mut ctx = Run {
            keep_going: true,
            each: &mut each,
            failures: 0,
            commands: 0,
        };
        let finished = self.exec_nodes(ws, &nodes, &mut ctx, false, 0);
        let failed = !finished && ctx.failures > 0;
        out.ok = self.last_ok && !failed;
        self.last_exempt = false;
        out
    }

    /// Runs one command of a list, with its redirections. A command that fails leaves the
    /// simulation's generator where it was (its `$RANDOM` draws are not kept).
    fn run_simple(&mut self, ws: &mut Workspace, command: &str) -> LineOutput {
        // `! command`: its status inverted.
        if let Some(rest) = command.strip_prefix('!')
            && rest.starts_with(char::is_whitespace)
        {
            let mut r = self.run_simple(ws, rest.trim_start());
            r.ok = !r.ok;
            self.last_ok = r.ok;
            return r;
        }
        // A here-document is the input of the line's first command.
        let stdin = self.stdin.take();
        let stages = match lexer::pipeline(command) {
            Ok(s) => s,
            Err(e) => {
                self.last_ok = false;
                return bash_error(&e);
            }
        };
        let first = match &stdin {
            Some(input) => {
                let mut r = self.run_filter(ws, &stages[0], input);
                if !r.ok && r.stderr.contains("can read a pipe") {
                    r.stderr = format!(
                        "{} (a here-document is standard input: nothing was run)\n",
                        r.stderr.trim_end()
                    );
                }
                self.last_ok = r.ok;
                r
            }
            None if stages.len() == 1 => return self.run_stage(ws, command),
            None => self.run_stage(ws, &stages[0]),
        };
        if stages.len() == 1 {
            return first;
        }
        // A pipe: the first command runs, the filters after it read its output in memory.
        let mut all_ok = first.ok;
        let mut ok = first.ok;
        let mut input = first.stdout;
        let mut stderr = first.stderr;
        for stage in &stages[1..] {
            let r = self.run_filter(ws, stage, &input);
            all_ok &= r.ok;
            ok = r.ok;
            input = r.stdout;
            stderr.push_str(&r.stderr);
        }
        let ok = if self.pipefail { all_ok } else { ok };
        self.last_ok = ok;
        LineOutput {
            stdout: input,
            stderr,
            ok,
        }
    }

    /// One filter of a pipe (`tr -d '"'`, `head -n 1`, `grep x`) over `input`.
    fn run_filter(&mut self, ws: &mut Workspace, stage: &str, input: &str) -> LineOutput {
        let (command, streams) = match lexer::redirections(stage) {
            Ok(r) => r,
            Err(e) => return bash_error(&e),
        };
        let words = match self.expand_line(ws, &command) {
            Ok(w) => w,
            Err(e) => {
                return LineOutput {
                    stderr: format!("{e}\n"),
                    ..Default::default()
                };
            }
        };
        let (stdout, stderr, ok) = match utils::filter(&words, input) {
            Ok((o, ok)) => (o, String::new(), ok),
            Err(e) => (String::new(), format!("{e}\n"), false),
        };
        let mut out = LineOutput {
            ok,
            ..Default::default()
        };
        for (text, sink) in [(stderr, streams.stderr), (stdout, streams.stdout)] {
            match sink {
                lexer::Sink::Stdout => out.stdout.push_str(&text),
                lexer::Sink::Stderr => out.stderr.push_str(&text),
                lexer::Sink::Null => {}
            }
        }
        out
    }

    /// One command (of a pipe, or alone) with its redirections.
    fn run_stage(&mut self, ws: &mut Workspace, command: &str) -> LineOutput {
        let (command, streams) = match lexer::redirections(command) {
            Ok(r) => r,
            Err(e) => {
                self.last_ok = false;
                return bash_error(&e);
            }
        };
        let draws = ws.clock.draws;
        let r = self.run_words(ws, &command);
        if !r.ok {
            ws.clock.draws = draws;
        }
        self.last_ok = r.ok;
        let mut out = LineOutput {
            ok: r.ok,
            ..Default::default()
        };
        for (text, sink) in [(r.stderr, streams.stderr), (r.stdout, streams.stdout)] {
            match sink {
                lexer::Sink::Stdout => out.stdout.push_str(&text),
                lexer::Sink::Stderr => out.stderr.push_str(&text),
                lexer::Sink::Null => {}
            }
        }
        out
    }

    /// Runs one command without its redirections: an assignment, a built-in or a command.
    fn run_words(&mut self, ws: &mut Workspace, line: &str) -> LineOutput {
        let line = line.trim();
        let line = match line.strip_prefix("export") {
            Some(rest) if rest.starts_with(char::is_whitespace) => {
                let rest = rest.trim_start();
                if lexer::assignment(rest).is_none() {
                    // `export NAME`: every variable is already visible to commands.
                    return match lexer::words(rest) {
                        Ok(_) => ok_output(String::new()),
                        Err(e) => LineOutput {
                            stderr: format!("ERROR: {e}\n"),
                            ..Default::default()
                        },
                    };
                }
                rest
            }
            _ => line,
        };
        if let Some((name, rest)) = lexer::assignment(line) {
            return match self.expand_line(ws, rest) {
                Ok(words) => {
                    self.vars.insert(name.to_string(), words.join(" "));
                    ok_output(String::new())
                }
                Err(e) => LineOutput {
                    stderr: format!("{e}\n"),
                    ..Default::default()
                },
            };
        }
        let words = match self.expand_line(ws, line) {
            Ok(w) => w,
            Err(e) => {
                return LineOutput {
                    stderr: format!("{e}\n"),
                    ..Default::default()
                };
            }
        };
        let fail = |stderr: String| LineOutput {
            stderr: format!("{stderr}\n"),
            ..Default::default()
        };
        match words.first().map(String::as_str) {
            Some("echo") => echo(&words[1..]),
            Some("printf") => match utils::printf(&words[1..]) {
                Ok(text) => ok_output(text),
                Err(e) => fail(format!("bash: {e}")),
            },
            Some("expr") => match utils::expr(&words[1..]) {
                Ok((text, ok)) => LineOutput {
                    stdout: text,
                    ok,
                    ..Default::default()
                },
                Err(e) => fail(e),
            },
            Some(open @ ("[" | "[[" | "test")) => {
                let close = match open {
                    "[" => Some("]"),
                    "[[" => Some("]]"),
                    _ => None,
                };
                let mut args = &words[1..];
                if let Some(close) = close {
                    match args.split_last() {
                        Some((last, rest)) if last == close => args = rest,
                        _ => return fail(format!("bash: {open}: missing `{close}'")),
                    }
                }
                match utils::test(args) {
                    Ok(true) => ok_output(String::new()),
                    Ok(false) => LineOutput::default(),
                    Err(e) => fail(format!("bash: {open}: {e}")),
                }
            }
            Some("set") => self.set_builtin(&words[1..]),
            Some("exit") => {
                let code = match words.get(1).map(|w| w.parse::<i32>()) {
                    None => i32::from(!self.last_ok),
                    Some(Ok(n)) => n & 0xff,
                    Some(Err(_)) => {
                        self.exit_requested = Some(2);
                        return fail(format!(
                            "bash: exit: {}: numeric argument required",
                            words[1]
                        ));
                    }
                };
                self.exit_requested = Some(code);
                LineOutput {
                    ok: code == 0,
                    ..Default::default()
                }
            }
            Some("help") => ok_output(help_text()),
            Some("let") => self.let_builtin(ws, &words[1..]),
            Some("date") => match date::date(ws.now(), &words[1..]) {
                Ok(text) => ok_output(text),
                Err(e) => LineOutput {
                    stderr: format!("{e}\n"),
                    ..Default::default()
                },
            },
            Some("sleep") => self.sleep(ws, &words[1..]),
            Some("true" | ":") => ok_output(String::new()),
            Some("false") => LineOutput::default(),
            _ => self.run_command(ws, &words),
        }
    }

    /// `sleep N[smhd]…`: the simulated clock advances by that much (the services act as
    /// time passes), and nothing is printed.
    fn sleep(&mut self, ws: &mut Workspace, args: &[String]) -> LineOutput {
        match date::sleep_seconds(args) {
            Ok(0) => ok_output(String::new()),
            Ok(secs) => {
                let advance: Vec<String> = ["sim", "clock", "advance", &format!("{secs}s")]
                    .iter()
                    .map(|w| w.to_string())
                    .collect();
                let r = self.run_command(ws, &advance);
                LineOutput {
                    stdout: String::new(),
                    ..r
                }
            }
            Err(e) => LineOutput {
                stderr: format!("{e}\n"),
                ..Default::default()
            },
        }
    }

    /// `set -e`, `set +e`, `set -o errexit|pipefail|nounset`, `set -u`, `set -x` (the last
    /// ones accepted and ignored), combined as bash takes them (`set -euo pipefail`).
    fn set_builtin(&mut self, args: &[String]) -> LineOutput {
        let mut i = 0;
        while i < args.len() {
            let a = args[i].as_str();
            let (on, flags) = match a.strip_prefix('-') {
                Some(f) => (true, f),
                None => match a.strip_prefix('+') {
                    Some(f) => (false, f),
                    None => {
                        return bash_error(&format!(
                            "set: positional parameters ('{a}') are not supported in this console"
                        ));
                    }
                },
            };
            for f in flags.chars() {
                match f {
                    'e' => self.errexit = Some(on),
                    'u' | 'x' | 'v' | 'h' | 'B' | 'H' => {}
                    'o' => {
                        i += 1;
                        match args.get(i).map(String::as_str) {
                            Some("errexit") => self.errexit = Some(on),
                            Some("pipefail") => self.pipefail = on,
                            Some("nounset" | "xtrace" | "verbose" | "noclobber") => {}
                            Some(other) => {
                                return bash_error(&format!("set: {other}: invalid option name"));
                            }
                            None => {
                                return bash_error("set: -o: an option name is needed");
                            }
                        }
                    }
                    other => return bash_error(&format!("set: -{other}: invalid option")),
                }
            }
            i += 1;
        }
        ok_output(String::new())
    }

    /// `let EXPR...`: evaluates each; fails (status 1, as in bash) if the last is 0.
    fn let_builtin(&mut self, ws: &mut Workspace, args: &[String]) -> LineOutput {
        if args.is_empty() {
            return bash_error("let: expression expected");
        }
        let mut last = 0;
        for a in args {
            match arith::eval(a, &mut ArithEnv { shell: self, ws }) {
                Ok(v) => last = v,
                Err(e) => return bash_error(&format!("let: {e}")),
            }
        }
        LineOutput {
            ok: last != 0,
            ..Default::default()
        }
    }

    fn run_command(&mut self, ws: &mut Workspace, words: &[String]) -> LineOutput {
        self.run_command_coded(ws, words).0
    }

    /// Ends a script at its `sim chapter NAME` line (names compared as typed, trimmed):
    /// what ran before it is the state of that chapter.
    pub fn stop_at_chapter(&mut self, name: &str) {
        self.until_chapter = Some(name.trim().to_string());
        self.chapter_reached = false;
    }

    /// The chapters a script marks with `sim chapter NAME` (literal names), in order.
    pub fn chapters_of(script: &str) -> Vec<String> {
        lexer::logical_lines(script)
            .into_iter()
            .filter_map(|(_, line)| {
                let words = lexer::words(&line).ok()?;
                let literal: Option<Vec<String>> = words
                    .iter()
                    .map(|w| match w.as_slice() {
                        [lexer::Piece::Text(t)] => Some(t.clone()),
                        _ => None,
                    })
                    .collect();
                match literal?.as_slice() {
                    [sim, chapter, name, ..] if sim == "sim" && chapter == "chapter" => {
                        Some(name.trim().to_string())
                    }
                    _ => None,
                }
            })
            .collect()
    }

    /// Whether the script reached the chapter [`Shell::stop_at_chapter`] named.
    pub fn chapter_reached(&self) -> bool {
        self.chapter_reached
    }

    /// A command and its exit code as az gives it: 0 ok, 1 an error of the service,
    /// 2 a usage error (arguments, output format, query).
    fn run_command_coded(&mut self, ws: &mut Workspace, words: &[String]) -> (LineOutput, u8) {
        let (out, code) = self.run_command_inner(ws, words);
        if code == 0
            && let [sim, chapter, name] = words
            && sim == "sim"
            && chapter == "chapter"
            && self
                .until_chapter
                .as_deref()
                .is_some_and(|want| want == name.trim())
        {
            self.chapter_reached = true;
            self.exit_requested = Some(0);
        }
        (out, code)
    }

    fn run_command_inner(&mut self, ws: &mut Workspace, words: &[String]) -> (LineOutput, u8) {
        let usage = |stderr: String| {
            (
                LineOutput {
                    stderr,
                    ..Default::default()
                },
                2,
            )
        };
        let mut rest: Vec<String> = Vec::new();
        let mut query = None;
        let mut format = if words.starts_with(&["sim".to_string(), "audit".into(), "list".into()]) {
            OutputFormat::JsonLines
        } else {
            OutputFormat::Json
        };
        let mut i = 0;
        while i < words.len() {
            match words[i].as_str() {
                "--query" if i + 1 < words.len() => {
                    query = Some(words[i + 1].clone());
                    i += 2;
                }
                "-o" | "--output" if i + 1 < words.len() => {
                    match OutputFormat::parse(&words[i + 1]) {
                        Some(f) => format = f,
                        None => {
                            return usage(format!(
                                "ERROR: argument --output/-o: invalid choice: '{}' (choose from 'json', 'jsonc', 'jsonl', 'none', 'table', 'tsv')\n",
                                words[i + 1]
                            ));
                        }
                    }
                    i += 2;
                }
                _ => {
                    rest.push(words[i].clone());
                    i += 1;
                }
            }
        }
        let warnings = deprecation_warnings(&rest);
        if rest.iter().any(|w| w == "--help" || w == "-h") {
            return (ok_output(registry::help_for(&rest)), 0);
        }
        match registry::run(ws, self.keys.as_ref(), &rest) {
            Ok(value) => {
                let value = match &query {
                    Some(q) => match output::query(&value, q) {
                        Ok(v) => v,
                        Err(e) => return usage(format!("ERROR: {e}\n")),
                    },
                    None => value,
                };
                (
                    LineOutput {
                        stdout: output::render(&value, format),
                        stderr: warnings,
                        ok: true,
                    },
                    0,
                )
            }
            Err(e) => {
                let code = if e.code().is_some() { 1 } else { 2 };
                (
                    LineOutput {
                        stderr: format!("{warnings}{e}\n"),
                        ..Default::default()
                    },
                    code,
                )
            }
        }
    }

    /// A variable's value: `$RANDOM`, `$$` and `$?` as bash has them; `${VAR:-default}`,
    /// `${VAR:=default}` (which assigns), `${VAR-default}`, and `${VAR/pattern/replacement}`
    /// (the first match, as bash does).
    fn variable(&mut self, ws: &mut Workspace, name: &str) -> Result<String, String> {
        let value = |sh: &mut Shell, ws: &mut Workspace, n: &str| -> String {
            match n {
                "RANDOM" => (ws.clock.next_u64() % 32768).to_string(),
                "$" => std::process::id().to_string(),
                "?" => if sh.last_ok { "0" } else { "1" }.to_string(),
                _ => sh.vars.get(n).cloned().unwrap_or_default(),
            }
        };
        let end = name
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(name.len());
        let (var, op) = if end == 0 && (name.starts_with('$') || name.starts_with('?')) {
            name.split_at(1)
        } else {
            name.split_at(end)
        };
        if var.is_empty() {
            return Err(format!("bash: ${{{name}}}: bad substitution"));
        }
        let set =
            |sh: &Shell, n: &str| sh.vars.contains_key(n) || matches!(n, "RANDOM" | "$" | "?");
        for (marker, empty_counts) in [(":-", true), (":=", true), ("-", false), ("=", false)] {
            let Some(default) = op.strip_prefix(marker) else {
                continue;
            };
            let current = value(self, ws, var);
            let use_default = if empty_counts {
                current.is_empty()
            } else {
                !set(self, var)
            };
            if !use_default {
                return Ok(current);
            }
            let default = self.expand_line(ws, default)?.join(" ");
            if marker.ends_with('=') {
                if matches!(var, "RANDOM" | "$" | "?") {
                    return Err(format!("bash: ${var}: cannot assign in this way"));
                }
                self.vars.insert(var.to_string(), default.clone());
            }
            return Ok(default);
        }
        match op.strip_prefix('/') {
            Some(rest) => {
                let (pattern, replacement) = rest.split_once('/').unwrap_or((rest, ""));
                let v = value(self, ws, var);
                Ok(if pattern.is_empty() {
                    v
                } else {
                    v.replacen(pattern, replacement, 1)
                })
            }
            None if op.is_empty() => Ok(value(self, ws, var)),
            None => Err(format!("bash: ${{{name}}}: bad substitution")),
        }
    }

    /// Expands `$VAR`, `${VAR}` and `$(command)` in every word of a line.
    fn expand_line(&mut self, ws: &mut Workspace, line: &str) -> Result<Vec<String>, String> {
        let words = lexer::words(line).map_err(|e| format!("ERROR: {e}"))?;
        let mut out = Vec::with_capacity(words.len());
        let mut total = 0usize;
        for word in words {
            // Unquoted expansions are split into words on white space, as bash does
            // (`--add-db $DBS` adds each name); a word made only of unquoted expansions
            // that expand to nothing disappears.
            let keep_empty = word.iter().all(|p| {
                !matches!(
                    p,
                    Piece::Var(_, false) | Piece::Command(_, false) | Piece::Arith(_, false)
                )
            });
            let mut fields: Vec<String> = vec![String::new()];
            for piece in word {
                let (part, split) = match piece {
                    Piece::Text(t) => (t, false),
                    Piece::Var(name, quoted) => (self.variable(ws, &name)?, !quoted),
                    Piece::Arith(expr, quoted) => {
                        // `$( … )` inside runs first, as bash expands before evaluating.
                        let expr = if expr.contains("$(") {
                            self.expand_line(ws, &expr)?.join(" ")
                        } else {
                            expr
                        };
                        match arith::eval(&expr, &mut ArithEnv { shell: self, ws }) {
                            Ok(v) => (v.to_string(), !quoted),
                            Err(e) => return Err(format!("bash: {e}")),
                        }
                    }
                    Piece::Command(cmd, quoted) => {
                        let r = self.run_line(ws, &cmd);
                        if !r.ok {
                            return Err(r.stderr.trim_end().to_string());
                        }
                        (r.stdout.trim_end_matches(['\n', '\r']).to_string(), !quoted)
                    }
                };
                // Variables that grow by doubling would otherwise fill the memory.
                total += part.len();
                if total > MAX_EXPANDED_LINE {
                    return Err(format!(
                        "ERROR: the line expands to more than {MAX_EXPANDED_LINE} characters."
                    ));
                }
                if !split {
                    if let Some(last) = fields.last_mut() {
                        last.push_str(&part);
                    }
                    continue;
                }
                let starts_blank = part.starts_with(char::is_whitespace);
                let ends_blank = part.ends_with(char::is_whitespace);
                for (i, field) in part.split_whitespace().enumerate() {
                    let new_word = i > 0 || starts_blank;
                    if new_word && fields.last().is_some_and(|f| !f.is_empty()) {
                        fields.push(String::new());
                    }
                    if let Some(last) = fields.last_mut() {
                        last.push_str(field);
                    }
                }
                if ends_blank && fields.last().is_some_and(|f| !f.is_empty()) {
                    fields.push(String::new());
                }
            }
            if fields.len() > 1 && fields.last().is_some_and(|f| f.is_empty()) {
                fields.pop();
            }
            if fields.len() == 1 && fields[0].is_empty() && !keep_empty {
                continue;
            }
            out.extend(fields);
        }
        Ok(out)
    }
}

/// `echo [-n] [-e] WORDS…`.
fn echo(args: &[String]) -> LineOutput {
    let (mut newline, mut escapes) = (true, false);
    let mut i = 0;
    while let Some(a) = args.get(i) {
        let flags = a
            .strip_prefix('-')
            .filter(|f| !f.is_empty() && f.chars().all(|c| matches!(c, 'n' | 'e' | 'E')));
        let Some(flags) = flags else { break };
        for c in flags.chars() {
            match c {
                'n' => newline = false,
                'e' => escapes = true,
                _ => escapes = false,
            }
        }
        i += 1;
    }
    let mut text = args[i..].join(" ");
    if escapes {
        text = utils::escapes(&text);
    }
    if newline {
        text.push('\n');
    }
    ok_output(text)
}

/// A successful command's output.
fn ok_output(stdout: String) -> LineOutput {
    LineOutput {
        stdout,
        ok: true,
        ..Default::default()
    }
}

/// A shell-level error, worded as bash words it.
fn bash_error(message: &str) -> LineOutput {
    LineOutput {
        stderr: format!("bash: {message}\n"),
        ..Default::default()
    }
}

/// Variables for `let` and `$(( … ))`.
struct ArithEnv<'a> {
    shell: &'a mut Shell,
    ws: &'a mut Workspace,
}

impl arith::Env for ArithEnv<'_> {
    fn get(&mut self, name: &str) -> String {
        self.shell.variable(self.ws, name).unwrap_or_default()
    }
    fn set(&mut self, name: &str, value: String) {
        self.shell.vars.insert(name.to_string(), value);
    }
}

impl CommandError {
    pub fn code(&self) -> Option<&str> {
        match self {
            CommandError::Service(e) => Some(&e.code),
            CommandError::Usage(_) => None,
        }
    }
}

/// The warnings az prints on stderr for arguments it deprecated (older scripts still run).
fn deprecation_warnings(words: &[String]) -> String {
    let is = |prefix: &[&str]| {
        words.len() >= prefix.len() && words.iter().zip(prefix).all(|(w, p)| w == p)
    };
    let mut out = String::new();
    if is(&["az", "keyvault", "create"]) && words.iter().any(|w| w == "--enable-soft-delete") {
        out.push_str("WARNING: Argument '--enable-soft-delete' has been deprecated and will be removed in a future release. Soft delete is enabled on every key vault.\n");
    }
    out
}

pub use crate::service::panic_text;

/// The command list, for `help`.
pub fn help_text() -> String {
    let mut s = String::from(
        "Commands (Azure CLI syntax; add --query <JMESPath> and -o json|tsv|table|none):\n",
    );
    let width = registry::all().map(|c| c.name.len()).max().unwrap_or(0);
    for c in registry::all() {
        s.push_str(&format!("  {:width$}  {}\n", c.name, c.summary));
    }
    s.push_str(
        "Also: NAME=value, export, $NAME, ${NAME:-default}, $(command), $((expr)), let, $RANDOM,\n  a; b, a && b, a || b, > /dev/null, 2>&1, echo, printf, expr, date, [ … ], set -e, exit,\n  if … then … elif … else … fi, for … in …; do … done, while / until … do … done,\n  pipes into tr, head, tail, grep, wc, sort, uniq, cut, xargs, # comments, \\ continuations.\n",
    );
    s
}
