//! The real azure-cli's command table: for every command under the groups the console
//! simulates, each argument's option strings, how many values it takes, its choices and
//! whether it is required; for every other az command, its name.
//!
//! The data is `assets/az-command-table.json`, written by `tools/az_command_table.py` from
//! azure-cli's own parser (README: "Regenerating az's command table"). The shell parses an
//! az command's arguments against it ([`parse`]), so every spelling az accepts is
//! accepted (aliases, short flags, unique prefixes of long options) and what az refuses is
//! refused with argparse's own message.

use super::args::{Args, UsageError};
use serde::Deserialize;
use std::collections::{BTreeSet, HashMap};
use std::sync::OnceLock;

const TABLE_JSON: &str = include_str!("../../assets/az-command-table.json");

/// One argument of an az command as az's parser declares it.
#[derive(Clone, Debug, Deserialize)]
pub struct Argument {
    /// Its option strings, long and short, in az's order (`--name`, `-n`).
    pub options: Vec<String>,
    /// argparse's nargs: `0` (a switch), `1`, `?`, `*` or `+`.
    pub nargs: String,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub choices: Vec<String>,
    /// Whether the choices are taken in any case (az's enum arguments).
    #[serde(default)]
    pub any_case: bool,
    /// Whether the argument is one of az's AAZ-generated commands', which check their
    /// words themselves with their own message.
    #[serde(default)]
    pub aaz: bool,
}

impl Argument {
    /// How argparse names the argument in its messages: `--name/-n`.
    pub fn display(&self) -> String {
        self.options.join("/")
    }

    pub fn is_switch(&self) -> bool {
        self.nargs == "0"
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct Table {
    /// The azure-cli version the table was read from.
    pub azure_cli: String,
    /// Simulated groups' commands (without the leading `az`) and their arguments.
    pub commands: HashMap<String, Vec<Argument>>,
    /// Every other az command's name.
    pub other_commands: BTreeSet<String>,
}

/// The table, read once. A table that does not parse is empty (a unit test guards it).
pub fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| serde_json::from_str(TABLE_JSON).unwrap_or_default())
}

/// The arguments az gives a command (`az sql db create`), if the table has it.
pub fn arguments(command: &str) -> Option<&'static [Argument]> {
    let name = command.strip_prefix("az ")?;
    table().commands.get(name).map(Vec::as_slice)
}

/// The real az command that `words` (after `az`) name, when the console does not simulate
/// it: the longest command name the words start with.
pub fn real_command(words: &[String]) -> Option<String> {
    let words: Vec<&str> = words
        .iter()
        .map(String::as_str)
        .skip_while(|w| *w == "az")
        .take_while(|w| !w.starts_with('-'))
        .collect();
    (1..=words.len())
        .rev()
        .map(|n| words[..n].join(" "))
        .find(|name| table().other_commands.contains(name) || table().commands.contains_key(name))
}

/// Arguments every command takes that change nothing in the console: az's logging
/// switches and its internal or policy arguments.
pub const IGNORED: &[&str] = &[
    "--only-show-errors",
    "--debug",
    "--verbose",
    "--cmd",
    "--acquire-policy-token",
    "--change-reference",
];

/// Arguments the console takes that today's az does not, each with why: the `2021`
/// profile's older az, and what the PowerShell layer needs to say to the az layer.
pub const EXTENSIONS: &[(&str, &str, &str)] = &[
    (
        "az keyvault create",
        "--enable-soft-delete",
        "the 2021 profile's az (removed in azure-cli 2.41); accepted with az's deprecation warning",
    ),
    (
        "az keyvault key import",
        "--pfx-file",
        "Add-AzKeyVaultKey -KeyFilePath F.pfx (az itself takes PEM and BYOK files only)",
    ),
    (
        "az sql db show-deleted",
        "--name",
        "printed by Microsoft Learn's database-level CMK geo-replication and restore page (az 2.91 has no --name there; the dropped database is named by --restorable-dropped-database-id)",
    ),
    (
        "az keyvault key import",
        "--pfx-password",
        "Add-AzKeyVaultKey -KeyFilePassword for a .pfx file",
    ),
];

/// A command's arguments as the console names them: each az argument under the spelling
/// the command's handler reads (the first of its options the console lists, else its first
/// long option), with az's declaration.
pub struct Spec<'a> {
    /// The command (`az network nsg create`), as AAZ's messages name it.
    pub command: String,
    pub arguments: Vec<(String, &'a Argument)>,
    /// The console's [`EXTENSIONS`] to this command (matched exactly).
    pub extra: Vec<&'static str>,
}

impl<'a> Spec<'a> {
    pub fn new(
        command: &str,
        table: &'a [Argument],
        console: &'a [&'a str],
        aliases: &[(&str, &str)],
    ) -> Self {
        let arguments = table
            .iter()
            .map(|arg| {
                let known = |o: &&String| {
                    console.contains(&o.as_str()) || aliases.iter().any(|(a, _)| a == o)
                };
                // A console name that is a shorter spelling of the option (argparse takes
                // `--address-prefix` for `--address-prefixes`).
                // Only a name that is no other argument's own option.
                let shorter = || {
                    console
                        .iter()
                        .filter(|c| c.starts_with("--"))
                        .filter(|c| !table.iter().any(|t| t.options.iter().any(|o| o == **c)))
                        .find(|c| arg.options.iter().any(|o| o.starts_with(**c)))
                        .map(|c| c.to_string())
                };
                let name = arg
                    .options
                    .iter()
                    .find(known)
                    .cloned()
                    .or_else(shorter)
                    .or_else(|| arg.options.iter().find(|o| o.starts_with("--")).cloned())
                    .or_else(|| arg.options.first().cloned())
                    .unwrap_or_default();
                (name, arg)
            })
            .collect();
        let extra = EXTENSIONS
            .iter()
            .filter(|(c, _, _)| *c == command)
            .map(|(_, a, _)| *a)
            .collect();
        Spec {
            command: command.to_string(),
            arguments,
            extra,
        }
    }

    /// The argument an option string names, as argparse resolves it: an exact option, or
    /// a long option's unique prefix.
    fn resolve(&self, option: &str) -> Result<Option<(&str, Option<&Argument>)>, UsageError> {
        if let Some((name, arg)) = self
            .arguments
            .iter()
            .find(|(_, a)| a.options.iter().any(|o| o == option))
        {
            return Ok(Some((name, Some(arg))));
        }
        if let Some(extra) = self.extra.iter().find(|e| **e == option) {
            return Ok(Some((extra, None)));
        }
        if !option.starts_with("--") {
            return Ok(None);
        }
        let mut matches: Vec<(&str, &Argument, &str)> = Vec::new();
        for (name, arg) in &self.arguments {
            if let Some(o) = arg.options.iter().find(|o| o.starts_with(option)) {
                matches.push((name, arg, o));
            }
        }
        match matches.as_slice() {
            [] => Ok(None),
            [(name, arg, _)] => Ok(Some((name, Some(arg)))),
            many => Err(UsageError(format!(
                "ambiguous option: {option} could match {}",
                many.iter()
                    .map(|(_, _, o)| *o)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }
}

/// Whether a word is an option rather than a value, as the console has always told them
/// apart: `--x`, or `-x` that is not a negative number.
pub fn is_option(w: &str) -> bool {
    (w.starts_with("--") && w.len() > 2)
        || (w.len() == 2 && w.starts_with('-') && !w[1..].starts_with(|c: char| c.is_ascii_digit()))
}

/// Parses a command's words against az's declaration of its arguments, with argparse's
/// rules and messages: unknown and ambiguous options, values too few or too many,
/// choices, then the required arguments missing.
pub fn parse(words: &[String], spec: &Spec) -> Result<Args, UsageError> {
    // Each option given: the name the console reads, az's declaration, the values, and the
    // spelling typed.
    let mut given: Vec<(String, Option<&Argument>, Vec<String>, String)> = Vec::new();
    let mut stray: Vec<String> = Vec::new();
    // After an option argparse does not know, the words up to the next option are its.
    let mut after_stray = false;
    for w in words {
        if is_option(w) {
            let (option, inline) = match w.split_once('=') {
                Some((o, v)) if o.starts_with("--") || o.len() == 2 => (o, Some(v.to_string())),
                _ => (w.as_str(), None),
            };
            let Some((name, arg)) = spec.resolve(option)? else {
                stray.push(w.clone());
                after_stray = true;
                continue;
            };
            after_stray = false;
            given.push((
                name.to_string(),
                arg,
                inline.into_iter().collect(),
                option.to_string(),
            ));
            continue;
        }
        match given.last_mut() {
            Some((_, arg, values, _)) if !after_stray && takes_more(*arg, values.len()) => {
                values.push(w.clone())
            }
            _ => stray.push(w.clone()),
        }
    }
    if !stray.is_empty() {
        return Err(UsageError(format!(
            "unrecognized arguments: {}",
            stray.join(" ")
        )));
    }
    for (_, arg, values, typed) in &given {
        let Some(arg) = arg else { continue };
        match arg.nargs.as_str() {
            "1" if values.len() != 1 => {
                return Err(UsageError(format!(
                    "argument {}: expected one argument",
                    arg.display()
                )));
            }
            "+" if values.is_empty() => {
                return Err(UsageError(format!(
                    "argument {}: expected at least one argument",
                    arg.display()
                )));
            }
            "0" if !values.is_empty() => {
                return Err(UsageError(format!(
                    "argument {}: ignored explicit argument '{}'",
                    arg.display(),
                    values.join(" ")
                )));
            }
            _ => {}
        }
        if !arg.choices.is_empty() {
            for v in values {
                let ok = arg
                    .choices
                    .iter()
                    .any(|c| c == v || (arg.any_case && c.eq_ignore_ascii_case(v)));
                if !ok && arg.aaz {
                    return Err(UsageError(format!(
                        "{}: '{v}' is not a valid value for '{typed}'. Allowed values: {}.",
                        spec.command,
                        arg.choices.join(", ")
                    )));
                }
                if !ok {
                    return Err(UsageError(format!(
                        "argument {}: invalid choice: '{v}' (choose from {})",
                        arg.display(),
                        arg.choices
                            .iter()
                            .map(|c| format!("'{c}'"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )));
                }
            }
        }
    }
    let missing: Vec<String> = spec
        .arguments
        .iter()
        .filter(|(_, a)| a.required)
        .filter(|(_, a)| {
            !given
                .iter()
                .any(|(_, g, _, _)| g.is_some_and(|g| std::ptr::eq(g, *a)))
        })
        .map(|(_, a)| a.display())
        .collect();
    if !missing.is_empty() {
        return Err(UsageError(format!(
            "the following arguments are required: {}",
            missing.join(", ")
        )));
    }
    let mut args = Args::default();
    for (name, _, values, _) in given {
        args.push(&name, values);
    }
    Ok(args)
}

/// `--ids ID`: az's "Resource Id" arguments filled from an ARM id, as az fills them
/// (`/subscriptions/S/resourceGroups/G/providers/Microsoft.Sql/servers/SV/databases/DB` gives
/// `--resource-group G --server SV --name DB`); what is also given by name is kept. One id at
/// a time.
pub fn apply_ids(spec: &Spec, args: &mut Args) -> Result<(), UsageError> {
    let Some(ids) = args.get_all("--ids") else {
        return Ok(());
    };
    let id = match ids.as_slice() {
        [id] => id.clone(),
        [] => {
            return Err(UsageError(
                "argument --ids: expected at least one argument".into(),
            ));
        }
        _ => {
            return Err(UsageError(
                "argument --ids: this console takes one resource id at a time (run the command once per id)"
                    .into(),
            ));
        }
    };
    let parts: Vec<&str> = id.trim_matches('/').split('/').collect();
    if parts.len() < 2 || !parts[0].eq_ignore_ascii_case("subscriptions") {
        return Err(UsageError(format!(
            "argument --ids: invalid resource ID '{id}': it starts with /subscriptions/SUBSCRIPTION"
        )));
    }
    // (type, name) pairs after the subscription, providers' namespace skipped.
    let mut pairs: Vec<(String, &str)> = Vec::new();
    let mut i = 2;
    while i + 1 < parts.len() {
        if parts[i].eq_ignore_ascii_case("providers") {
            i += 2;
            continue;
        }
        pairs.push((parts[i].to_ascii_lowercase(), parts[i + 1]));
        i += 2;
    }
    let takes = |flag: &str| spec.arguments.iter().any(|(n, _)| n == flag);
    let count = pairs.len();
    for (at, (kind, value)) in pairs.iter().enumerate() {
        let last = at + 1 == count;
        let candidates: &[&str] = match (kind.as_str(), last) {
            ("resourcegroups", _) => &["--resource-group"],
            ("servers", true) => &["--name", "--server"],
            ("servers", false) => &["--server"],
            ("managedinstances", true) => &["--name", "--managed-instance"],
            ("managedinstances", false) => &["--managed-instance"],
            ("databases", _) => &["--name", "--database"],
            ("vaults" | "managedhsms", true) => &["--name", "--vault-name", "--hsm-name"],
            ("vaults", false) => &["--vault-name"],
            ("managedhsms", false) => &["--hsm-name", "--vault-name"],
            ("virtualnetworks", true) => &["--name"],
            ("virtualnetworks", false) => &["--vnet-name"],
            ("networksecuritygroups", true) => &["--name"],
            ("networksecuritygroups", false) => &["--nsg-name"],
            ("routetables", true) => &["--name"],
            ("routetables", false) => &["--route-table-name"],
            (
                "failovergroups"
                | "userassignedidentities"
                | "subnets"
                | "securityrules"
                | "routes"
                | "keys"
                | "firewallrules",
                _,
            ) => &["--name"],
            _ => &[],
        };
        if let Some(flag) = candidates.iter().find(|f| takes(f))
            && !args.has(flag)
        {
            args.set(flag, vec![value.to_string()]);
        }
    }
    Ok(())
}

/// Whether an argument with `have` values takes one more word.
fn takes_more(arg: Option<&Argument>, have: usize) -> bool {
    match arg.map(|a| a.nargs.as_str()) {
        Some("0") => false,
        Some("1" | "?") => have == 0,
        // `*`, `+`, and the console's own arguments take every word up to the next option.
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn the_table_is_azure_clis() {
        let t = table();
        assert!(t.azure_cli.starts_with("2."), "{}", t.azure_cli);
        assert!(t.commands.len() > 100);
        assert!(t.other_commands.contains("vm create"));
    }

    #[test]
    fn spellings_az_accepts() {
        let table = arguments("az sql db create").expect("in the table");
        let spec = Spec::new(
            "az sql db create",
            table,
            &["--name", "--server", "--resource-group", "--edition"],
            &[],
        );
        let a = parse(
            &w("-n db --serve s --resource-group rg -e Standard --service-level-objective S0 --compute-model serverless -c 2"),
            &spec,
        )
        .expect("parsed");
        assert_eq!(a.get("--server").as_deref(), Some("s"));
        assert_eq!(a.get("--edition").as_deref(), Some("Standard"));
        assert_eq!(a.get("--service-objective").as_deref(), Some("S0"));
        assert_eq!(a.get("--capacity").as_deref(), Some("2"));
        let refuse = |line: &str| parse(&w(line), &spec).expect_err(line).0;
        assert_eq!(
            refuse("-n db -s s -g rg --compute-model Both"),
            "argument --compute-model: invalid choice: 'Both' (choose from 'Provisioned', 'Serverless')"
        );
        assert!(refuse("-n db -s s -g rg --s x").starts_with("ambiguous option: --s could match"));
        assert_eq!(
            refuse("-n db -g rg"),
            "the following arguments are required: --server/-s"
        );
        assert_eq!(
            refuse("-n db -s s -g rg --bogus 1"),
            "unrecognized arguments: --bogus 1"
        );
        assert_eq!(refuse("-n db x -s s -g rg"), "unrecognized arguments: x");
        assert_eq!(
            refuse("-n -s s -g rg"),
            "argument --name/-n: expected one argument"
        );
    }

    proptest::proptest! {
        /// Any words parse or are refused; nothing panics, and what parses names only the
        /// command's own arguments.
        #[test]
        fn any_words_parse_or_are_refused(
            picks in proptest::collection::vec((0usize..80, "[-=a-zA-Z0-9]{0,6}"), 0..12)
        ) {
            let table = arguments("az sql db create").expect("in the table");
            let spec = Spec::new("az sql db create", table, &["--name", "--server"], &[]);
            let options: Vec<&String> = table.iter().flat_map(|a| &a.options).collect();
            let words: Vec<String> = picks
                .iter()
                .map(|(i, free)| match options.get(*i) {
                    Some(o) if i % 3 == 0 => format!("{o}={free}"),
                    Some(o) => o.to_string(),
                    None => free.clone(),
                })
                .collect();
            if let Ok(args) = parse(&words, &spec) {
                for (name, _) in args.occurrences() {
                    proptest::prop_assert!(spec.arguments.iter().any(|(n, _)| n == name), "{name}");
                }
            }
        }
    }

    #[test]
    fn ids_fill_the_resource_id_arguments() {
        let table = arguments("az sql db show").expect("in the table");
        let spec = Spec::new(
            "az sql db show",
            table,
            &["--name", "--server", "--resource-group"],
            &[],
        );
        let mut a = parse(
            &w("--ids /subscriptions/s/resourceGroups/rg/providers/Microsoft.Sql/servers/srv/databases/db1"),
            &spec,
        )
        .expect("parsed");
        apply_ids(&spec, &mut a).expect("applied");
        assert_eq!(a.get("--resource-group").as_deref(), Some("rg"));
        assert_eq!(a.get("--server").as_deref(), Some("srv"));
        assert_eq!(a.get("--name").as_deref(), Some("db1"));
        let mut bad = parse(&w("--ids nonsense"), &spec).expect("parsed");
        assert!(apply_ids(&spec, &mut bad).is_err());
    }

    #[test]
    fn a_real_command_not_simulated_is_named() {
        assert_eq!(
            real_command(&w("az vm create -n x")).as_deref(),
            Some("vm create")
        );
        assert_eq!(real_command(&w("az vmm create")), None);
    }
}
