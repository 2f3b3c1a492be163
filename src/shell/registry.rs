//! The shell's one table of commands. Each command group (a module beside this one)
//! declares its commands as [`Command`] rows: the words, a one-line summary, the arguments
//! the command takes, and the handler. Dispatch, `--help`, `help` and "did you mean" all
//! read this table, so a command exists exactly when it has a row.

use super::args::Args;
use super::commands::{CmdResult, CommandError, usage};
use crate::model::Workspace;
use crate::service::{self, KeySource};

/// What runs a command: the workspace, the key source, the command's own words (so one
/// handler can serve a few sibling commands) and its parsed, already checked arguments.
pub type Handler = fn(&mut Workspace, &dyn KeySource, &str, &mut Args) -> CmdResult;

/// One command of the shell.
#[derive(Clone, Copy)]
pub struct Command {
    /// Its words, e.g. `az keyvault key create`.
    pub name: &'static str,
    /// What it does, as `--help` and `help` print it.
    pub summary: &'static str,
    /// The arguments it takes (long names). Anything else is refused before it runs.
    pub arguments: &'static [&'static str],
    /// The positional word it takes, if any (`sim clock advance 20m`).
    pub positional: Option<&'static str>,
    /// Short flags that mean something else here than elsewhere (`-s` is `--subscription`
    /// in `az account`, `-i` is `--assign_identity` on `az sql server update`).
    pub shorts: &'static [(&'static str, &'static str)],
    /// Other spellings of an argument, renamed before the arguments are checked
    /// (`--hsm-name` is `--vault-name` for key commands, `--mi` is `--managed-instance`).
    pub aliases: &'static [(&'static str, &'static str)],
    /// Whether `--no-wait` changes anything (long-running operations); elsewhere it is
    /// accepted and ignored, as the console's other operations complete at once.
    pub no_wait: bool,
    pub run: Handler,
}

impl Command {
    pub const fn new(
        name: &'static str,
        summary: &'static str,
        arguments: &'static [&'static str],
        run: Handler,
    ) -> Command {
        Command {
            name,
            summary,
            arguments,
            positional: None,
            shorts: &[],
            aliases: &[],
            no_wait: false,
            run,
        }
    }

    pub const fn positional(mut self, what: &'static str) -> Command {
        self.positional = Some(what);
        self
    }

    pub const fn shorts(mut self, shorts: &'static [(&'static str, &'static str)]) -> Command {
        self.shorts = shorts;
        self
    }

    pub const fn aliases(mut self, aliases: &'static [(&'static str, &'static str)]) -> Command {
        self.aliases = aliases;
        self
    }

    pub const fn no_wait(mut self) -> Command {
        self.no_wait = true;
        self
    }

    fn words(&self) -> impl Iterator<Item = &'static str> {
        self.name.split(' ')
    }

    /// Makes parsed arguments this command's: ignored globals out, aliases renamed, then
    /// nothing unknown.
    pub fn prepare(&self, a: &mut Args) -> Result<(), CommandError> {
        for ignored in ["--only-show-errors", "--debug", "--verbose"] {
            a.take(ignored);
        }
        if a.take("--no-wait").is_some() && self.no_wait {
            a.set("--no-wait", Vec::new());
        }
        for (alias, canonical) in self.aliases {
            a.rename(alias, canonical);
        }
        if self.positional.is_some() {
            a.check_flags(self.arguments)?;
        } else {
            a.check_known(self.arguments)?;
        }
        Ok(())
    }
}

/// Key commands name a Managed HSM with `--hsm-name` where a vault takes `--vault-name`.
pub const HSM_NAME: &[(&str, &str)] = &[("--hsm-name", "--vault-name")];

/// Every command group, in the order `help` lists them.
const GROUPS: &[&[Command]] = &[
    super::account::COMMANDS,
    super::identity::COMMANDS,
    super::keyvault::COMMANDS,
    super::rotation::COMMANDS,
    super::transfer::COMMANDS,
    super::sql::COMMANDS,
    super::continuity::COMMANDS,
    super::managed_instance::COMMANDS,
    super::network::COMMANDS,
    super::directory::COMMANDS,
    super::monitor::COMMANDS,
    super::governance::COMMANDS,
    super::estate::COMMANDS,
    super::sim::COMMANDS,
];

/// Every registered command.
pub fn all() -> impl Iterator<Item = &'static Command> {
    GROUPS.iter().flat_map(|g| g.iter())
}

/// The command `words` start with (the longest match) and the words after it.
pub fn find(words: &[String]) -> Option<(&'static Command, &[String])> {
    all()
        .filter_map(|c| {
            let n = c.words().count();
            (words.len() >= n && c.words().zip(words).all(|(p, w)| p == w)).then_some((c, n))
        })
        .max_by_key(|(_, n)| *n)
        .map(|(c, n)| (c, &words[n..]))
}

/// Runs one command (already split into words, with substitutions done).
pub fn run(ws: &mut Workspace, keys: &dyn KeySource, words: &[String]) -> CmdResult {
    let (cmd, rest) = find(words).ok_or_else(|| unknown_command(words))?;
    let mut a = Args::parse_with(rest, cmd.shorts)?;
    // `--subscription` (by id or name) on any command but `az account`'s own: the command
    // runs in that subscription, which must exist.
    let subscription = match a.take("--subscription") {
        Some(sub) if !cmd.name.starts_with("az account ") => Some(
            service::resources::find_subscription(ws, &sub.join(" "))
                .map_err(|e| usage(e.message))?
                .id
                .clone(),
        ),
        Some(sub) => {
            a.set("--subscription", sub);
            None
        }
        None => None,
    };
    cmd.prepare(&mut a)?;
    match subscription {
        Some(id) => {
            let home = std::mem::replace(&mut ws.current_subscription, id);
            let out = (cmd.run)(ws, keys, cmd.name, &mut a);
            ws.current_subscription = home;
            out
        }
        None => (cmd.run)(ws, keys, cmd.name, &mut a),
    }
}

/// Why a line is not a command, with the commands it may have meant.
fn unknown_command(words: &[String]) -> CommandError {
    let typed = words.join(" ");
    let group = words.iter().take(3).cloned().collect::<Vec<_>>().join(" ");
    let near: Vec<&str> = all()
        .map(|c| c.name)
        .filter(|c| c.starts_with(&group))
        .take(8)
        .collect();
    if near.is_empty() {
        usage(format!(
            "'{typed}' is not a command this console knows. Type 'help' for the list."
        ))
    } else {
        usage(format!(
            "'{typed}' is misspelled or not recognized. Did you mean: {}?",
            near.join(" | ")
        ))
    }
}

/// `az … --help`: a command's summary and arguments, or a group's commands. Read from
/// the table; nothing runs.
pub fn help_for(words: &[String]) -> String {
    let words: Vec<&str> = words
        .iter()
        .map(String::as_str)
        .filter(|w| *w != "--help" && *w != "-h")
        .collect();
    let group = words.join(" ");
    if let Some(c) = all().find(|c| c.name == group) {
        let mut arguments: Vec<String> = c
            .arguments
            .iter()
            .map(|a| {
                let short = c
                    .shorts
                    .iter()
                    .map(|(s, l)| (*s, *l))
                    .chain(super::args::SHORT_FLAGS.iter().copied())
                    .find(|(_, l)| l == a)
                    .map(|(s, _)| format!(" {s}"))
                    .unwrap_or_default();
                let alias: String = c
                    .aliases
                    .iter()
                    .filter(|(_, canonical)| canonical == a)
                    .map(|(alias, _)| format!(" {alias}"))
                    .collect();
                format!("    {a}{short}{alias}")
            })
            .collect();
        if let Some(p) = c.positional {
            arguments.insert(0, format!("    {p}"));
        }
        if arguments.is_empty() {
            arguments.push("    (none)".into());
        }
        return format!(
            "\nCommand\n    {} : {}\n\nArguments\n{}\n\nGlobal Arguments\n    --output -o : json, jsonc, jsonl, none, table, tsv.\n    --query     : JMESPath query string.\n    --subscription : Name or ID of subscription.\n    --help -h   : Show this help message and exit.\n",
            c.name,
            c.summary,
            arguments.join("\n")
        );
    }
    let prefix = format!("{group} ");
    let mut under: Vec<&Command> = all().filter(|c| c.name.starts_with(&prefix)).collect();
    under.sort_unstable_by_key(|c| c.name);
    if under.is_empty() {
        return format!(
            "'{group}' is not a command or group this console knows. Type 'help' for the list.\n"
        );
    }
    let width = under
        .iter()
        .map(|c| c.name.len() - prefix.len())
        .max()
        .unwrap_or(0);
    format!(
        "\nGroup\n    {group}\n\nCommands:\n{}\n",
        under
            .iter()
            .map(|c| format!("    {:width$} : {}", &c.name[prefix.len()..], c.summary))
            .collect::<Vec<_>>()
            .join("\n")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_summaries_present() {
        let mut names: Vec<&str> = all().map(|c| c.name).collect();
        let n = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), n, "a command is registered twice");
        for c in all() {
            assert!(!c.summary.is_empty(), "{} has no summary", c.name);
            assert!(c.summary.ends_with('.'), "{}: {}", c.name, c.summary);
            assert!(
                c.name.starts_with("az ") || c.name.starts_with("sim "),
                "{}",
                c.name
            );
            for a in c.arguments {
                assert!(a.starts_with("--"), "{}: {a}", c.name);
            }
        }
    }

    #[test]
    fn the_longest_command_wins() {
        let words: Vec<String> = "az keyvault key create --name k"
            .split(' ')
            .map(String::from)
            .collect();
        let (c, rest) = find(&words).expect("found");
        assert_eq!(c.name, "az keyvault key create");
        assert_eq!(rest.len(), 2);
    }
}
