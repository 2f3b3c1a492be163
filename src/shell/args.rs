//! Command-line arguments after the command words: `--flag value...`, short aliases,
//! and the CLI's own errors for missing or unknown arguments.

use std::collections::BTreeMap;

/// Marks the "error" `check_known` returns for `--help`: the command's arguments, which
/// the shell prints as help instead.
pub const HELP_MARK: &str = "\u{1}help:";

/// A CLI-level error (before the service is called), printed as `ERROR: <text>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsageError(pub String);

#[derive(Clone, Debug, Default)]
pub struct Args {
    flags: BTreeMap<String, Vec<String>>,
    /// Each occurrence of a flag with its own values (for repeatable flags like `--action`).
    occurrences: Vec<(String, Vec<String>)>,
    positional: Vec<String>,
}

/// The short flags `az` gives most commands (a command may give one another meaning).
pub const SHORT_FLAGS: &[(&str, &str)] = &[
    ("-g", "--resource-group"),
    ("-n", "--name"),
    ("-l", "--location"),
    ("-o", "--output"),
    ("-s", "--server"),
    ("-u", "--admin-user"),
    ("-p", "--admin-password"),
    ("-i", "--assign-identity"),
    ("-d", "--database"),
    ("-t", "--server-key-type"),
    ("-k", "--kid"),
    ("-y", "--yes"),
    ("-h", "--help"),
];

impl Args {
    pub fn parse(words: &[String]) -> Result<Args, UsageError> {
        Args::parse_with(words, &[])
    }

    /// Parses with a command's own short flags taking precedence over [`SHORT_FLAGS`].
    pub fn parse_with(words: &[String], shorts: &[(&str, &str)]) -> Result<Args, UsageError> {
        let mut args = Args::default();
        let mut current: Option<String> = None;
        for w in words {
            let is_flag = (w.starts_with("--") && w.len() > 2)
                || (w.len() == 2
                    && w.starts_with('-')
                    && !w[1..].starts_with(|c: char| c.is_ascii_digit()));
            if is_flag {
                let (name, inline) = match w.split_once('=') {
                    Some((n, v)) => (n.to_string(), Some(v.to_string())),
                    None => (w.clone(), None),
                };
                let name = if name.starts_with("--") {
                    name
                } else {
                    shorts
                        .iter()
                        .chain(SHORT_FLAGS)
                        .find(|(s, _)| *s == name)
                        .map(|(_, l)| *l)
                        .ok_or_else(|| UsageError(format!("unrecognized arguments: {w}")))?
                        .to_string()
                };
                let entry = args.flags.entry(name.clone()).or_default();
                args.occurrences.push((name.clone(), Vec::new()));
                if let Some(v) = inline {
                    entry.push(v.clone());
                    if let Some(o) = args.occurrences.last_mut() {
                        o.1.push(v);
                    }
                }
                current = Some(name);
            } else if let Some(c) = &current {
                args.flags.entry(c.clone()).or_default().push(w.clone());
                if let Some(o) = args.occurrences.last_mut() {
                    o.1.push(w.clone());
                }
            } else {
                args.positional.push(w.clone());
            }
        }
        Ok(args)
    }

    /// Adds one occurrence of a flag with its values (the az table's parser builds the
    /// arguments this way).
    pub fn push(&mut self, flag: &str, values: Vec<String>) {
        self.flags
            .entry(flag.to_string())
            .or_default()
            .extend(values.iter().cloned());
        self.occurrences.push((flag.to_string(), values));
    }

    /// Each occurrence of a flag, in the order given.
    pub fn occurrences(&self) -> &[(String, Vec<String>)] {
        &self.occurrences
    }

    /// Takes the global arguments out (`--query`, `--output`, and those the console ignores).
    pub fn take(&mut self, flag: &str) -> Option<Vec<String>> {
        self.flags.remove(flag)
    }

    /// Sets a flag's values.
    pub fn set(&mut self, flag: &str, values: Vec<String>) {
        self.flags.insert(flag.to_string(), values);
    }

    /// Renames a flag (`--hsm-name` is `--vault-name` for key commands).
    pub fn rename(&mut self, from: &str, to: &str) {
        if let Some(v) = self.flags.remove(from) {
            self.flags.insert(to.to_string(), v);
        }
    }

    /// Takes the positional words (e.g. the `20m` of `sim clock advance 20m`).
    pub fn take_positional(&mut self) -> Vec<String> {
        std::mem::take(&mut self.positional)
    }

    /// Fails on any argument the command does not know.
    pub fn check_known(&self, known: &[&str]) -> Result<(), UsageError> {
        self.check_flags(known)?;
        if let Some(p) = self.positional.first() {
            return Err(UsageError(format!("unrecognized arguments: {p}")));
        }
        Ok(())
    }

    /// Fails on any flag the command does not know (positional words are the command's).
    pub fn check_flags(&self, known: &[&str]) -> Result<(), UsageError> {
        let unknown: Vec<&String> = self
            .flags
            .keys()
            .filter(|k| !known.contains(&k.as_str()))
            .collect();
        if let Some(first) = unknown.first() {
            return Err(UsageError(format!("unrecognized arguments: {first}")));
        }
        Ok(())
    }

    /// The values of each occurrence of a repeatable flag.
    pub fn groups(&self, flag: &str) -> Vec<Vec<String>> {
        self.occurrences
            .iter()
            .filter(|(f, _)| f == flag)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// A flag that takes one of a few words, as az's parser checks it: the value for the
    /// word given, or az's "invalid choice" error naming the words.
    pub fn choice<T: Copy>(
        &self,
        flag: &str,
        options: &[(&str, T)],
    ) -> Result<Option<T>, UsageError> {
        let Some(given) = self.get(flag) else {
            return Ok(None);
        };
        options
            .iter()
            .find(|(word, _)| *word == given)
            .map(|(_, v)| Some(*v))
            .ok_or_else(|| {
                UsageError(format!(
                    "argument {flag}: invalid choice: '{given}' (choose from {})",
                    options
                        .iter()
                        .map(|(w, _)| format!("'{w}'"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })
    }

    pub fn has(&self, flag: &str) -> bool {
        self.flags.contains_key(flag)
    }

    pub fn get(&self, flag: &str) -> Option<String> {
        self.flags.get(flag).map(|v| v.join(" "))
    }

    /// A flag's values when it was given (possibly none, for a switch).
    pub fn get_all(&self, flag: &str) -> Option<Vec<String>> {
        self.flags.get(flag).cloned()
    }

    pub fn list(&self, flag: &str) -> Vec<String> {
        self.flags.get(flag).cloned().unwrap_or_default()
    }

    pub fn required(&self, flag: &str) -> Result<String, UsageError> {
        match self.flags.get(flag) {
            Some(v) if !v.is_empty() => Ok(v.join(" ")),
            _ => {
                let short = ["-g", "-n", "-l", "-s", "-u", "-p", "-d"]
                    .iter()
                    .find(|s| {
                        SHORT_FLAGS
                            .iter()
                            .any(|(short, long)| short == *s && *long == flag)
                    })
                    .map(|s| format!("/{s}"))
                    .unwrap_or_default();
                Err(UsageError(format!(
                    "the following arguments are required: {flag}{short}"
                )))
            }
        }
    }

    /// A boolean flag: present without a value means true.
    pub fn bool(&self, flag: &str) -> Result<Option<bool>, UsageError> {
        match self.flags.get(flag) {
            None => Ok(None),
            Some(v) if v.is_empty() => Ok(Some(true)),
            Some(v) => match v.join(" ").to_ascii_lowercase().as_str() {
                "true" | "yes" | "1" | "enabled" => Ok(Some(true)),
                "false" | "no" | "0" | "disabled" => Ok(Some(false)),
                other => Err(UsageError(format!(
                    "argument {flag}: invalid boolean value: '{other}'"
                ))),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn flags_values_and_aliases() {
        let a = Args::parse(&w(
            "-g rg --key-permissions get wrapKey --assign-identity --size=3072",
        ))
        .unwrap();
        assert_eq!(a.get("--resource-group").as_deref(), Some("rg"));
        assert_eq!(a.list("--key-permissions"), ["get", "wrapKey"]);
        assert_eq!(a.bool("--assign-identity").unwrap(), Some(true));
        assert_eq!(a.get("--size").as_deref(), Some("3072"));
        assert!(
            a.check_known(&["--resource-group", "--key-permissions", "--assign-identity"])
                .is_err()
        );
        assert!(a.required("--name").unwrap_err().0.contains("--name/-n"));
        assert!(Args::parse(&w("-z x")).is_err());
    }
}
