//! An Azure-CLI-compatible command runner over the operations layer: `az ...` lines (and
//! the simulator's own `sim ...` verbs) from a script, standard input, or the in-app panel.
//!
//! Scripts may use `#` comments, `\` continuations, `NAME=value`, `$NAME`, `${NAME}`,
//! `$(command)`, per-command `--query` and `-o json|tsv|table|none`. Errors print as
//! `ERROR: (<Code>) <Message>`.

pub mod account;
pub mod args;
pub mod commands;
pub mod continuity;
pub mod directory;
pub mod estate;
pub mod governance;
pub mod identity;
pub mod keyvault;
pub mod lexer;
pub mod managed_instance;
pub mod monitor;
pub mod output;
pub mod pwsh;
pub mod registry;
pub mod rotation;
pub mod sim;
pub mod sql;
pub mod transfer;
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
}

impl Default for Shell {
    fn default() -> Self {
        Shell {
            vars: BTreeMap::new(),
            mode: ShellMode::Az,
            ps_vars: BTreeMap::new(),
            keys: Box::new(OsKeySource),
            depth: 0,
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

impl Shell {
    pub fn new() -> Self {
        Self::default()
    }

    /// Uses another key source (tests use pre-generated keys).
    pub fn with_keys(mut self, keys: Box<dyn KeySource + Send>) -> Self {
        self.keys = keys;
        self
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

    /// Runs a script, handing each line's output to `each` as soon as the line has run (so
    /// a terminal shows errors beside the output around them). Returns (failures, commands).
    pub fn run_script_with(
        &mut self,
        ws: &mut Workspace,
        script: &str,
        keep_going: bool,
        mut each: impl FnMut(&LineOutput),
    ) -> (usize, usize) {
        let (mut failures, mut commands) = (0, 0);
        let raw: Vec<&str> = script.lines().collect();
        let mut i = 0;
        while i < raw.len() {
            // One logical line, joined by the current mode's continuation (`\` or a backtick).
            let line_no = i + 1;
            let mut line = String::new();
            while i < raw.len() {
                let text = match self.mode {
                    ShellMode::Az => lexer::strip_comment(raw[i]).trim_end().to_string(),
                    ShellMode::Pwsh => raw[i].trim_end().to_string(),
                };
                i += 1;
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
                        break;
                    }
                }
            }
            let line = line.trim().to_string();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut r = self.run_line(ws, &line);
            commands += 1;
            if !r.ok {
                failures += 1;
                if !keep_going {
                    r.stderr
                        .push_str(&format!("(stopped at line {line_no}: {line})\n"));
                    each(&r);
                    break;
                }
            }
            each(&r);
        }
        (failures, commands)
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
        match result {
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
        }
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
        if let Some((name, rest)) = lexer::assignment(line) {
            return match self.expand_line(ws, rest) {
                Ok(words) => {
                    self.vars.insert(name.to_string(), words.join(" "));
                    LineOutput {
                        ok: true,
                        ..Default::default()
                    }
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
        match words.first().map(String::as_str) {
            Some("echo") => LineOutput {
                stdout: words[1..].join(" ") + "\n",
                ok: true,
                ..Default::default()
            },
            Some("help") => LineOutput {
                stdout: help_text(),
                ok: true,
                ..Default::default()
            },
            _ => self.run_command(ws, &words),
        }
    }

    fn run_command(&mut self, ws: &mut Workspace, words: &[String]) -> LineOutput {
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
                            return LineOutput {
                                stderr: format!(
                                    "ERROR: argument --output/-o: invalid choice: '{}' (choose from 'json', 'jsonc', 'jsonl', 'none', 'table', 'tsv')\n",
                                    words[i + 1]
                                ),
                                ..Default::default()
                            };
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
            return LineOutput {
                stdout: registry::help_for(&rest),
                ok: true,
                ..Default::default()
            };
        }
        match registry::run(ws, self.keys.as_ref(), &rest) {
            Ok(value) => {
                let value = match &query {
                    Some(q) => match output::query(&value, q) {
                        Ok(v) => v,
                        Err(e) => {
                            return LineOutput {
                                stderr: format!("ERROR: {e}\n"),
                                ..Default::default()
                            };
                        }
                    },
                    None => value,
                };
                LineOutput {
                    stdout: output::render(&value, format),
                    stderr: warnings,
                    ok: true,
                }
            }
            Err(e) => LineOutput {
                stderr: format!("{warnings}{e}\n"),
                ..Default::default()
            },
        }
    }

    /// A variable's value; `${VAR/pattern/replacement}` replaces the first match, as bash does.
    fn variable(&self, name: &str) -> String {
        let value = |n: &str| self.vars.get(n).cloned().unwrap_or_default();
        match name.split_once('/') {
            Some((var, rest)) => {
                let (pattern, replacement) = rest.split_once('/').unwrap_or((rest, ""));
                let v = value(var);
                if pattern.is_empty() {
                    v
                } else {
                    v.replacen(pattern, replacement, 1)
                }
            }
            None => value(name),
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
            let keep_empty = word
                .iter()
                .all(|p| !matches!(p, Piece::Var(_, false) | Piece::Command(_, false)));
            let mut fields: Vec<String> = vec![String::new()];
            for piece in word {
                let (part, split) = match piece {
                    Piece::Text(t) => (t, false),
                    Piece::Var(name, quoted) => (self.variable(&name), !quoted),
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

/// The message a panic carried.
pub fn panic_text(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a bug".to_string())
}

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
        "Also: NAME=value, $NAME, ${NAME}, $(command), echo, # comments, \\ continuations.\n",
    );
    s
}
