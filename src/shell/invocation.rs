//! A command as data: one row of the [`registry`](super::registry) and its arguments, the
//! value the shell parses a typed line into and the value a blade or a menu asks for.
//!
//! Its `az` (or `sim`) line is rendered from it ([`Invocation::line`]), never written beside
//! it, and it runs through the row's own handler with the arguments checked by the row
//! exactly as a typed line's are ([`Invocation::run`]). [`Invocation::parse`] reads a line
//! back with the shell's lexer, so `parse(line(i)) == i` (the round trip is tested).

use super::commands::{CmdResult, CommandError, usage};
use super::{lexer, registry};
use crate::model::Workspace;
use crate::service::KeySource;

/// A request for one command: its row's name and its arguments, in the order given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invocation {
    command: &'static str,
    /// Words before the first flag (`sim clock advance 20m`).
    positional: Vec<String>,
    /// Each flag as written (`--name`, or a short `-i`) with its values (none for a switch).
    args: Vec<(String, Vec<String>)>,
}

impl Invocation {
    /// A request for the command whose words are `command` (a row of the registry; a name
    /// that is none is refused when it runs, and by the test over the UI's requests).
    pub fn new(command: &'static str) -> Invocation {
        Invocation {
            command,
            positional: Vec::new(),
            args: Vec::new(),
        }
    }

    /// `flag value`.
    pub fn arg(mut self, flag: &str, value: impl Into<String>) -> Invocation {
        self.args.push((flag.to_string(), vec![value.into()]));
        self
    }

    /// `flag value` when there is a value.
    pub fn arg_opt(self, flag: &str, value: Option<impl Into<String>>) -> Invocation {
        match value {
            Some(v) => self.arg(flag, v),
            None => self,
        }
    }

    /// `flag value value …` (az's `nargs='+'` arguments: permissions, tags).
    pub fn args<S: Into<String>>(
        mut self,
        flag: &str,
        values: impl IntoIterator<Item = S>,
    ) -> Invocation {
        self.args.push((
            flag.to_string(),
            values.into_iter().map(Into::into).collect(),
        ));
        self
    }

    /// A switch: `flag` with no value (`--yes`, `-i`).
    pub fn flag(mut self, flag: &str) -> Invocation {
        self.args.push((flag.to_string(), Vec::new()));
        self
    }

    /// A switch when `on`.
    pub fn flag_if(self, on: bool, flag: &str) -> Invocation {
        if on { self.flag(flag) } else { self }
    }

    /// A positional word (`sim clock advance 20m`).
    pub fn positional(mut self, word: impl Into<String>) -> Invocation {
        self.positional.push(word.into());
        self
    }

    /// The row's name (`az keyvault key create`).
    pub fn command(&self) -> &'static str {
        self.command
    }

    /// The flags and their values, in order.
    pub fn arguments(&self) -> &[(String, Vec<String>)] {
        &self.args
    }

    /// The values of `flag` (its first occurrence).
    pub fn value(&self, flag: &str) -> Option<&str> {
        self.args
            .iter()
            .find(|(f, _)| f == flag)
            .and_then(|(_, v)| v.first())
            .map(String::as_str)
    }

    /// The words the shell would have after lexing the line: the command's, the positional
    /// ones, then each flag and its values. A value that starts with `-` is written
    /// `--flag=value`, as argparse needs it (else it would read as a flag).
    pub fn words(&self) -> Vec<String> {
        let mut words: Vec<String> = self.command.split(' ').map(str::to_string).collect();
        words.extend(self.positional.iter().cloned());
        for (flag, values) in &self.args {
            match values.as_slice() {
                [one] if needs_inline(one) => words.push(format!("{flag}={one}")),
                _ => {
                    words.push(flag.clone());
                    words.extend(values.iter().cloned());
                }
            }
        }
        words
    }

    /// The line as bash (and the console's shell) reads it back into [`Invocation::words`].
    pub fn line(&self) -> String {
        let mut out: Vec<String> = self.command.split(' ').map(str::to_string).collect();
        out.extend(self.positional.iter().map(|w| quoted(w)));
        for (flag, values) in &self.args {
            match values.as_slice() {
                [one] if needs_inline(one) => out.push(quoted(&format!("{flag}={one}"))),
                _ => {
                    out.push(flag.clone());
                    out.extend(values.iter().map(|v| quoted(v)));
                }
            }
        }
        out.join(" ")
    }

    /// Reads a line with the shell's lexer and registry back into a request. Only literal
    /// lines: a `$` substitution outside single quotes is refused, as it would need a shell.
    pub fn parse(line: &str) -> Result<Invocation, String> {
        let mut words = Vec::new();
        for word in lexer::words(line)? {
            let mut text = String::new();
            for piece in word {
                match piece {
                    lexer::Piece::Text(t) => text.push_str(&t),
                    _ => return Err(format!("'{line}' is not a literal line")),
                }
            }
            words.push(text);
        }
        let (row, rest) = registry::find(&words)
            .ok_or_else(|| format!("'{line}' names no command of the registry"))?;
        let mut out = Invocation::new(row.name);
        for w in rest {
            let is_flag = w.starts_with("--") || (w.len() == 2 && w.starts_with('-'));
            match w.split_once('=') {
                Some((flag, value)) if is_flag => {
                    out.args.push((flag.to_string(), vec![value.to_string()]));
                }
                _ if is_flag => out.args.push((w.clone(), Vec::new())),
                _ => match out.args.last_mut() {
                    Some((_, values)) => values.push(w.clone()),
                    None => out.positional.push(w.clone()),
                },
            }
        }
        Ok(out)
    }

    /// Runs it as the shell runs a typed line: the registry's row, its argument checks (az's
    /// own table where az has the command) and its handler. The handler's JSON output, or
    /// the same refusal the shell prints.
    pub fn run(&self, ws: &mut Workspace, keys: &dyn KeySource) -> CmdResult {
        registry::run(ws, keys, &self.words())
    }

    /// Whether the row exists and its parser takes these arguments (nothing runs).
    pub fn check(&self) -> Result<(), CommandError> {
        let words = self.words();
        let (row, rest) = registry::find(&words)
            .filter(|(row, _)| row.name == self.command)
            .ok_or_else(|| usage(format!("'{}' is not a command", self.command)))?;
        let mut args = row.parse(rest)?;
        args.take("--subscription");
        row.prepare(&mut args)
    }
}

/// A value argparse would read as a flag.
fn needs_inline(value: &str) -> bool {
    value.starts_with('-') && value.len() > 1
}

/// `value` as one shell word for an `az` line: as it is when it is plain, else in single
/// quotes (a `'` inside written as `'\''`), as bash reads it.
pub fn quoted(value: &str) -> String {
    let plain = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-/:=@,+%".contains(c));
    if plain {
        value.to_string()
    } else {
        format!("'{}'", value.replace('\'', "'\\''"))
    }
}

/// The text of a refusal for a client that shows it apart from a shell: a service error as
/// `(Code) message` (as the operations layer words it), an argument error as az words it.
pub fn refusal_text(e: &CommandError) -> String {
    match e {
        CommandError::Service(e) => e.to_string(),
        CommandError::Usage(u) => u.0.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_request_renders_its_line_and_reads_back() {
        let i = Invocation::new("az keyvault key set-attributes")
            .arg("--vault-name", "contoso-kv")
            .arg("--name", "tde key")
            .arg("--enabled", "false");
        assert_eq!(
            i.line(),
            "az keyvault key set-attributes --vault-name contoso-kv --name 'tde key' --enabled false"
        );
        assert_eq!(Invocation::parse(&i.line()), Ok(i.clone()));
        assert!(i.check().is_ok(), "{:?}", i.check());
        let sim = Invocation::new("sim clock advance").positional("20m");
        assert_eq!(sim.line(), "sim clock advance 20m");
        assert_eq!(Invocation::parse(&sim.line()), Ok(sim));
        let switch = Invocation::new("az sql server update")
            .arg("--name", "s")
            .arg("--resource-group", "g")
            .flag("-i");
        assert_eq!(
            switch.line(),
            "az sql server update --name s --resource-group g -i"
        );
        assert_eq!(Invocation::parse(&switch.line()), Ok(switch));
    }

    #[test]
    fn a_row_refuses_what_it_does_not_take() {
        let unknown = Invocation::new("az keyvault key delete").arg("--nonsense", "x");
        assert!(unknown.check().is_err());
        assert!(Invocation::new("az no such command").check().is_err());
        assert!(Invocation::parse("az keyvault key show --name $K").is_err());
    }

    proptest! {
        /// Any values (spaces, quotes, unicode, `$`, leading dashes, empty): the rendered
        /// line lexes back into the same request.
        #[test]
        fn rendering_and_parsing_are_inverse(
            values in proptest::collection::vec("\\PC{0,12}|[ '\"$`\\\\!*?;&|<>()#~-]{0,6}", 1..4),
            switch in any::<bool>(),
        ) {
            let mut i = Invocation::new("az keyvault secret set")
                .arg("--vault-name", values[0].clone());
            if let Some(v) = values.get(1) {
                i = i.arg("--name", v.clone());
            }
            if let Some(v) = values.get(2) {
                i = i.args("--tags", [format!("t{v}"), "a=b".to_string()]);
            }
            i = i.flag_if(switch, "--disabled");
            let line = i.line();
            prop_assert_eq!(Invocation::parse(&line), Ok(i.clone()), "{}", line);
        }
    }
}
