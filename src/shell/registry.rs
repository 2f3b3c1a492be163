//! The shell's one table of commands. Each command group (a module beside this one)
//! declares its commands as [`Command`] rows: the words, a one-line summary, the arguments
//! the command takes, and the handler. Dispatch, `--help`, `help` and "did you mean" all
//! read this table, so a command exists exactly when it has a row.

use super::args::Args;
use super::az_table;
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

    /// Parses the words after the command's own: against azure-cli's declaration of the
    /// command when az's table has it (every spelling az accepts, az's messages for what it
    /// refuses), else against the console's own list.
    pub fn parse(&self, words: &[String]) -> Result<Args, CommandError> {
        match az_table::arguments(self.name) {
            Some(table) => {
                let spec = az_table::Spec::new(self.name, table, self.arguments, self.aliases);
                let mut args = az_table::parse(words, &spec)?;
                az_table::apply_ids(&spec, &mut args)?;
                Ok(args)
            }
            None => Ok(Args::parse_with(words, self.shorts)?),
        }
    }

    /// Makes parsed arguments this command's: ignored globals out, aliases renamed, then
    /// nothing unknown (az's table has already refused what az refuses).
    pub fn prepare(&self, a: &mut Args) -> Result<(), CommandError> {
        for ignored in az_table::IGNORED {
            a.take(ignored);
        }
        if a.take("--no-wait").is_some() && self.no_wait {
            a.set("--no-wait", Vec::new());
        }
        for (alias, canonical) in self.aliases {
            a.rename(alias, canonical);
        }
        if az_table::arguments(self.name).is_some() {
            return Ok(());
        }
        if self.positional.is_some() {
            a.check_flags(self.arguments)?;
        } else {
            a.check_known(self.arguments)?;
        }
        Ok(())
    }
}

/// Commands of older az releases that the `2021` profile keeps (gone from today's az, so
/// not in its table): `az sql db tde list-activity` was removed in azure-cli 2.35.
pub const LEGACY_COMMANDS: &[&str] = &["az sql db tde list-activity"];

/// Key commands name a Managed HSM with `--hsm-name` where a vault takes `--vault-name`.
pub const HSM_NAME: &[(&str, &str)] = &[("--hsm-name", "--vault-name")];

/// Every command group, in the order `help` lists them.
const GROUPS: &[&[Command]] = &[
    super::account::COMMANDS,
    super::identity::COMMANDS,
    super::keyvault::COMMANDS,
    super::secrets::COMMANDS,
    super::rotation::COMMANDS,
    super::transfer::COMMANDS,
    super::sql::COMMANDS,
    super::dw::COMMANDS,
    super::continuity::COMMANDS,
    super::managed_instance::COMMANDS,
    super::synapse::COMMANDS,
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
    let mut a = cmd.parse(rest)?;
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
    let near = suggestions(words);
    if let Some(real) = az_table::real_command(words).filter(|_| typed.starts_with("az ")) {
        return usage(format!(
            "'az {real}' is an Azure CLI command (azure-cli {}) that this console does not simulate. Type 'help' for the commands it does.",
            az_table::table().azure_cli
        ));
    }
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

/// The commands a mistyped line may have meant, nearest first: those under the longest run
/// of its first words that names a group (at least `az <group>`), ranked by the edit
/// distance of the word that follows it (so `az sql db tde shw` puts `az sql db tde show`
/// first), then of the rest of the command words, then by name. At most eight.
fn suggestions(words: &[String]) -> Vec<&'static str> {
    let typed: Vec<&str> = words
        .iter()
        .map(String::as_str)
        .take_while(|w| !w.starts_with('-'))
        .collect();
    let typed = &typed;
    let under = |k: usize| {
        all().filter(move |c| {
            let mut cw = c.words();
            typed[..k].iter().all(|t| cw.next() == Some(*t))
        })
    };
    let Some(k) = (2..=typed.len()).rev().find(|&k| under(k).next().is_some()) else {
        return by_last_words(typed);
    };
    let next = typed.get(k).copied().unwrap_or("");
    let rest = typed.get(k..).unwrap_or_default().join(" ");
    let mut ranked: Vec<(usize, usize, &'static str)> = under(k)
        .map(|c| {
            let words: Vec<&str> = c.words().collect();
            let word = words.get(k).copied().unwrap_or("");
            let tail = words.get(k..).unwrap_or_default().join(" ");
            (
                edit_distance(next, word),
                edit_distance(&rest, &tail),
                c.name,
            )
        })
        .collect();
    ranked.sort_unstable();
    ranked.into_iter().take(8).map(|(_, _, n)| n).collect()
}

/// The commands a line that names no group may have meant (`tde shw`, `az tde shw`,
/// `sql db tde shw`): those whose last words are nearest to the line's words (`az` left
/// out), nearest first, when near enough to be a typo or a left-out group. At most eight.
fn by_last_words(typed: &[&str]) -> Vec<&'static str> {
    let typed: Vec<&str> = typed.iter().copied().skip_while(|w| *w == "az").collect();
    if typed.len() < 2 {
        // One word ("shw") is near too many commands to say which.
        return Vec::new();
    }
    let line = typed.join(" ");
    let near_enough = (line.chars().count() / 3).max(2);
    let mut ranked: Vec<(usize, usize, &'static str)> = all()
        .filter_map(|c| {
            let words: Vec<&str> = c.words().collect();
            let tail = words.get(words.len().checked_sub(typed.len())?..)?;
            let d = edit_distance(&line, &tail.join(" "));
            (d <= near_enough).then_some((d, words.len(), c.name))
        })
        .collect();
    ranked.sort_unstable();
    ranked.into_iter().take(8).map(|(_, _, n)| n).collect()
}

/// Levenshtein distance between two words (in characters).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
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
        let from_az: Option<Vec<String>> = az_table::arguments(c.name).map(|table| {
            table
                .iter()
                .filter(|a| {
                    !a.options.iter().any(|o| {
                        az_table::IGNORED.contains(&o.as_str())
                            || ["--output", "--query", "--subscription"].contains(&o.as_str())
                    })
                })
                .map(|a| {
                    let mut line = format!("    {}", a.options.join(" "));
                    if a.required {
                        line.push_str(" [Required]");
                    }
                    if !a.choices.is_empty() {
                        line.push_str(&format!(" : Allowed values: {}.", a.choices.join(", ")));
                    }
                    line
                })
                .collect()
        });
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
        if let Some(from_az) = from_az {
            arguments = from_az;
        }
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
    fn did_you_mean_puts_the_nearest_command_first() {
        let words = |line: &str| -> Vec<String> { line.split(' ').map(String::from).collect() };
        let near = suggestions(&words("az sql db tde shw"));
        assert_eq!(near.first(), Some(&"az sql db tde show"), "{near:?}");
        // A typo in a group word: the group nearest to it comes first.
        let near = suggestions(&words("az sql db tdee show"));
        assert!(near[0].starts_with("az sql db tde "), "{near:?}");
        // Arguments do not count as command words.
        let near = suggestions(&words("az keyvault sho -n x"));
        assert_eq!(near.first(), Some(&"az keyvault show"), "{near:?}");
        assert!(near.len() <= 8);
        // Nothing under an unknown group.
        assert!(suggestions(&words("az nosuchgroup list")).is_empty());
        // A line that leaves the group out is matched by its last words (walk: `tde shw`
        // had no suggestion at all).
        for line in ["tde shw", "az tde shw", "sql db tde shw", "tde show"] {
            let near = suggestions(&words(line));
            assert_eq!(
                near.first(),
                Some(&"az sql db tde show"),
                "{line}: {near:?}"
            );
        }
        assert!(
            suggestions(&words("shw")).is_empty(),
            "one word says too little"
        );
        assert!(suggestions(&words("make coffee now")).is_empty());
        let CommandError::Usage(e) = unknown_command(&words("az sql db tde shw")) else {
            panic!("a usage error");
        };
        assert!(
            e.0.contains("Did you mean: az sql db tde show |"),
            "{}",
            e.0
        );
    }

    #[test]
    fn edit_distance_counts_insertions_deletions_and_substitutions() {
        assert_eq!(edit_distance("shw", "show"), 1);
        assert_eq!(edit_distance("shw", "set"), 2);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }

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

    /// Every az command the console registers is in azure-cli's table, and every argument
    /// az accepts there, under each of its spellings, is accepted by the console's parser.
    /// The console's own arguments that az does not have are listed (there must be none).
    #[test]
    fn every_argument_az_accepts_is_accepted() {
        let mut missing_commands = Vec::new();
        let mut refused = Vec::new();
        let mut console_only = Vec::new();
        let mut accepted = 0;
        for c in all().filter(|c| c.name.starts_with("az ")) {
            let Some(table) = az_table::arguments(c.name) else {
                if !LEGACY_COMMANDS.contains(&c.name) {
                    missing_commands.push(c.name);
                }
                continue;
            };
            for arg in table {
                for option in &arg.options {
                    let mut words: Vec<String> = Vec::new();
                    // The required arguments, then the one under test.
                    for req in table
                        .iter()
                        .filter(|r| r.required && !std::ptr::eq(*r, arg))
                    {
                        words.push(req.options[0].clone());
                        words.push(req.choices.first().cloned().unwrap_or("x".into()));
                    }
                    words.push(option.clone());
                    if option == "--ids" {
                        words.push("/subscriptions/s/resourceGroups/g/providers/P/t/n".into());
                    } else if !arg.is_switch() {
                        words.push(arg.choices.first().cloned().unwrap_or("x".into()));
                    }
                    match c.parse(&words) {
                        Ok(_) => accepted += 1,
                        Err(e) => refused.push(format!("{} {option}: {e}", c.name)),
                    }
                }
            }
            for (name, own, _) in az_table::EXTENSIONS.iter().filter(|e| e.0 == c.name) {
                let words = vec![own.to_string(), "x".into()];
                if table.iter().any(|a| a.options.iter().any(|o| o == own)) {
                    console_only.push(format!("{name} {own} is az's own, not an extension"));
                } else if let Err(e) = c.parse(&words)
                    && e.to_string().contains("unrecognized")
                {
                    console_only.push(format!("{name} {own}: {e}"));
                }
            }
        }
        assert!(
            missing_commands.is_empty(),
            "not in az's table: {missing_commands:?}"
        );
        assert!(refused.is_empty(), "refused: {refused:#?}");
        assert!(accepted > 1000, "{accepted}");
        assert!(console_only.is_empty(), "extensions: {console_only:#?}");
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
