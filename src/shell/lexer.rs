//! Turns script text into commands: comments, `\` continuations, quotes, `NAME=value`,
//! `$NAME`, `${NAME}` and `$(command)` substitution.

/// Splits a script into logical lines: joins `\`-continued lines, drops blank lines and
/// `#` comments (outside quotes). Each line keeps the number of its first physical line.
pub fn logical_lines(script: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut start = 0;
    for (i, raw) in script.lines().enumerate() {
        if current.is_empty() {
            start = i + 1;
        }
        let line = strip_comment(raw);
        let trimmed = line.trim_end();
        if let Some(body) = trimmed.strip_suffix('\\') {
            current.push_str(body);
            current.push(' ');
            continue;
        }
        current.push_str(trimmed);
        if !current.trim().is_empty() {
            out.push((start, current.trim().to_string()));
        }
        current.clear();
    }
    if !current.trim().is_empty() {
        out.push((start, current.trim().to_string()));
    }
    out
}

pub(crate) fn strip_comment(line: &str) -> &str {
    let mut quote: Option<char> = None;
    let mut depth = 0usize;
    let mut prev_space = true;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        if escaped {
            // A backslash outside single quotes takes the next character literally.
            escaped = false;
            prev_space = false;
            continue;
        }
        match (quote, c) {
            (None | Some('"'), '\\') => escaped = true,
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => depth = depth.saturating_sub(1),
            (None, '#') if prev_space && depth == 0 => return &line[..i],
            _ => {}
        }
        prev_space = c.is_whitespace();
    }
    line
}

/// A word of a command line, before substitution.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Piece {
    Text(String),
    /// `$NAME` / `${NAME}`; `true` inside double quotes (no word splitting).
    Var(String, bool),
    /// `$(command)`; `true` inside double quotes (no word splitting).
    Command(String, bool),
    /// `$(( expression ))`: the expression, parenthesised; `true` inside double quotes.
    Arith(String, bool),
}

/// One word: pieces joined without spaces.
pub type Word = Vec<Piece>;

/// Splits one logical line into words. Single quotes are literal; double quotes allow
/// `$` substitution; unquoted text too.
pub fn words(line: &str) -> Result<Vec<Word>, String> {
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    let mut out: Vec<Word> = Vec::new();
    let mut word: Word = Vec::new();
    let mut text = String::new();
    let mut in_word = false;
    let flush_text = |text: &mut String, word: &mut Word| {
        if !text.is_empty() {
            word.push(Piece::Text(std::mem::take(text)));
        }
    };
    let mut quote: Option<char> = None;
    while i < chars.len() {
        let c = chars[i];
        match (quote, c) {
            (None, c) if c.is_whitespace() => {
                if in_word {
                    flush_text(&mut text, &mut word);
                    out.push(std::mem::take(&mut word));
                    in_word = false;
                }
                i += 1;
            }
            (None, '\'') => {
                in_word = true;
                let end = chars[i + 1..]
                    .iter()
                    .position(|&x| x == '\'')
                    .ok_or("unterminated single quote")?;
                text.extend(&chars[i + 1..i + 1 + end]);
                i += end + 2;
            }
            (None, '"') => {
                in_word = true;
                quote = Some('"');
                i += 1;
            }
            (Some('"'), '"') => {
                quote = None;
                i += 1;
            }
            // Inside double quotes a backslash escapes only $ ` " \ (as in bash); before
            // anything else it stays.
            (Some('"'), '\\')
                if i + 1 < chars.len() && !matches!(chars[i + 1], '$' | '`' | '"' | '\\') =>
            {
                text.push('\\');
                i += 1;
            }
            (_, '\\') if i + 1 < chars.len() => {
                in_word = true;
                text.push(chars[i + 1]);
                i += 2;
            }
            (_, '$') if i + 1 < chars.len() => {
                in_word = true;
                let next = chars[i + 1];
                if next == '(' {
                    let mut depth = 0;
                    let mut j = i + 1;
                    let mut q: Option<char> = None;
                    loop {
                        if j >= chars.len() {
                            return Err("unterminated $( ... )".into());
                        }
                        match (q, chars[j]) {
                            (Some(x), y) if x == y => q = None,
                            (Some(_), _) => {}
                            (None, '\'' | '"') => q = Some(chars[j]),
                            (None, '(') => depth += 1,
                            (None, ')') => {
                                depth -= 1;
                                if depth == 0 {
                                    break;
                                }
                            }
                            _ => {}
                        }
                        j += 1;
                    }
                    flush_text(&mut text, &mut word);
                    let inner: String = chars[i + 2..j].iter().collect();
                    word.push(if inner.starts_with('(') && inner.ends_with(')') {
                        Piece::Arith(unwrap_parens(&inner).to_string(), quote.is_some())
                    } else {
                        Piece::Command(inner, quote.is_some())
                    });
                    i = j + 1;
                } else if next == '{' {
                    let end = chars[i + 2..]
                        .iter()
                        .position(|&x| x == '}')
                        .ok_or("unterminated ${ ... }")?;
                    flush_text(&mut text, &mut word);
                    word.push(Piece::Var(
                        chars[i + 2..i + 2 + end].iter().collect(),
                        quote.is_some(),
                    ));
                    i += end + 3;
                } else if next == '$' || next == '?' {
                    flush_text(&mut text, &mut word);
                    word.push(Piece::Var(next.to_string(), quote.is_some()));
                    i += 2;
                } else if next.is_ascii_alphabetic() || next == '_' {
                    let mut j = i + 1;
                    while j < chars.len() && (chars[j].is_ascii_alphanumeric() || chars[j] == '_') {
                        j += 1;
                    }
                    flush_text(&mut text, &mut word);
                    word.push(Piece::Var(
                        chars[i + 1..j].iter().collect(),
                        quote.is_some(),
                    ));
                    i = j;
                } else {
                    text.push('$');
                    i += 1;
                }
            }
            (_, c) => {
                in_word = true;
                text.push(c);
                i += 1;
            }
        }
    }
    if quote.is_some() {
        return Err("unterminated double quote".into());
    }
    if in_word {
        flush_text(&mut text, &mut word);
        out.push(word);
    }
    Ok(out)
}

/// For each character, whether it stands at the top level of a line: outside quotes,
/// `$( )`, `$(( ))`, `${ }` and parentheses, and not escaped; and where a `#` comment starts
/// (the line's length when there is none). An unterminated quote or substitution just
/// runs to the end (the word splitter reports it).
fn top_level(chars: &[char]) -> (Vec<bool>, usize) {
    #[derive(PartialEq)]
    enum Ctx {
        Double,
        Paren,
        Brace,
    }
    let mut stack: Vec<Ctx> = Vec::new();
    let mut top = vec![false; chars.len()];
    let mut word_start = true;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let in_double = stack.last() == Some(&Ctx::Double);
        top[i] = stack.is_empty();
        match c {
            '\\' => {
                top[i] = false;
                i += 2;
                word_start = false;
                continue;
            }
            '\'' if !in_double => {
                top[i] = false;
                let end = chars[i + 1..]
                    .iter()
                    .position(|&x| x == '\'')
                    .map_or(chars.len(), |e| i + 1 + e);
                i = end + 1;
                word_start = false;
                continue;
            }
            '"' if in_double => {
                stack.pop();
            }
            '"' => stack.push(Ctx::Double),
            '$' if next == Some('(') || next == Some('{') => {
                top[i] = false;
                stack.push(if next == Some('(') {
                    Ctx::Paren
                } else {
                    Ctx::Brace
                });
                i += 2;
                word_start = false;
                continue;
            }
            '(' if !in_double => stack.push(Ctx::Paren),
            ')' if stack.last() == Some(&Ctx::Paren) => {
                stack.pop();
            }
            '}' if stack.last() == Some(&Ctx::Brace) => {
                stack.pop();
            }
            '#' if stack.is_empty() && word_start => return (top, i),
            _ => {}
        }
        word_start = c.is_whitespace() || (top[i] && matches!(c, ';' | '&' | '|'));
        i += 1;
    }
    (top, chars.len())
}

/// How a command joins the one before it in a list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Connector {
    /// `;` (or the first command): always runs.
    Always,
    /// `&&`: runs if the one before succeeded.
    And,
    /// `||`: runs if the one before failed.
    Or,
}

/// Splits a line into its commands at the top-level `;`, `&&` and `||` (not inside quotes,
/// substitutions or a comment). Errors read like bash's syntax errors.
pub fn command_list(line: &str) -> Result<Vec<(Connector, String)>, String> {
    let chars: Vec<char> = line.chars().collect();
    let (top, end) = top_level(&chars);
    let mut out = Vec::new();
    let mut current = String::new();
    let mut connector = Connector::Always;
    let mut i = 0;
    while i < end {
        let c = chars[i];
        let pair = |x: char| c == x && i + 1 < end && chars[i + 1] == x && top[i + 1];
        let token = if !top[i] {
            None
        } else if pair(';') {
            return Err("syntax error near unexpected token `;;'".into());
        } else if c == ';' {
            Some((Connector::Always, ";"))
        } else if pair('&') {
            Some((Connector::And, "&&"))
        } else if pair('|') {
            Some((Connector::Or, "||"))
        } else {
            None
        };
        match token {
            Some((next, text)) => {
                if current.trim().is_empty() {
                    return Err(format!("syntax error near unexpected token `{text}'"));
                }
                out.push((connector, std::mem::take(&mut current).trim().to_string()));
                connector = next;
                i += text.len();
            }
            None => {
                current.push(c);
                i += 1;
            }
        }
    }
    if !current.trim().is_empty() {
        out.push((connector, current.trim().to_string()));
    } else if connector != Connector::Always {
        return Err("syntax error: unexpected end of file".into());
    }
    Ok(out)
}

/// Splits a line at its top-level `;` (outside quotes and substitutions, before a comment):
/// the commands of a list, one after the other. `&&` and `||` stay inside a segment.
pub fn semicolon_segments(line: &str) -> Vec<String> {
    let chars: Vec<char> = line.chars().collect();
    let (top, end) = top_level(&chars);
    let mut out = Vec::new();
    let mut current = String::new();
    for i in 0..end {
        if top[i] && chars[i] == ';' {
            out.push(std::mem::take(&mut current).trim().to_string());
        } else {
            current.push(chars[i]);
        }
    }
    out.push(current.trim().to_string());
    out.retain(|s| !s.is_empty());
    out
}

/// Splits a command at its top-level pipes `|` (a list's `||` was taken before).
pub fn pipeline(command: &str) -> Result<Vec<String>, String> {
    let chars: Vec<char> = command.chars().collect();
    let (top, end) = top_level(&chars);
    let mut out = Vec::new();
    let mut current = String::new();
    for i in 0..end {
        if top[i] && chars[i] == '|' {
            if current.trim().is_empty() {
                return Err("syntax error near unexpected token `|'".into());
            }
            out.push(std::mem::take(&mut current).trim().to_string());
        } else {
            current.push(chars[i]);
        }
    }
    if current.trim().is_empty() && !out.is_empty() {
        return Err("syntax error near unexpected token `|'".into());
    }
    out.push(current.trim().to_string());
    Ok(out)
}

/// Where one of a command's output streams goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sink {
    Stdout,
    Stderr,
    Null,
}

/// A command's redirections, applied in order: (stdout's sink, stderr's sink).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Streams {
    pub stdout: Sink,
    pub stderr: Sink,
}

impl Default for Streams {
    fn default() -> Self {
        Streams {
            stdout: Sink::Stdout,
            stderr: Sink::Stderr,
        }
    }
}

/// Takes a command's output redirections out of it: `>`, `>>`, `1>`, `2>`, `&>` to
/// `/dev/null`, `/dev/stdout` or `/dev/stderr`, and `2>&1`, `>&2`. A redirection to a file
/// is refused (the console writes no files); so is input redirection's cousin `N>` for other
/// descriptors. Returns the command without them.
pub fn redirections(command: &str) -> Result<(String, Streams), String> {
    let chars: Vec<char> = command.chars().collect();
    let (top, end) = top_level(&chars);
    let mut streams = Streams::default();
    let mut out = String::new();
    let mut i = 0;
    while i < end {
        let c = chars[i];
        let at_word_start = |k: usize| k == 0 || chars[k - 1].is_whitespace();
        // `N>` / `&>`: the descriptor is the word's first character, right before `>`.
        let prefixed = top[i]
            && (c.is_ascii_digit() || c == '&')
            && at_word_start(i)
            && chars.get(i + 1) == Some(&'>');
        if !(prefixed || (top[i] && c == '>')) {
            out.push(c);
            i += 1;
            continue;
        }
        let fd = if prefixed { Some(c) } else { None };
        let mut j = if prefixed { i + 2 } else { i + 1 };
        if chars.get(j) == Some(&'>') {
            j += 1; // `>>` appends: the same for the sinks the console has
        }
        let target: Result<Sink, String> = if chars.get(j) == Some(&'&') && fd != Some('&') {
            j += 1;
            let start = j;
            while j < end && !chars[j].is_whitespace() {
                j += 1;
            }
            let to: String = chars[start..j].iter().collect();
            match to.as_str() {
                "1" => Ok(streams.stdout),
                "2" => Ok(streams.stderr),
                "-" => Ok(Sink::Null),
                "" => Err("syntax error near unexpected token `newline'".to_string()),
                other => Err(format!("{other}: bad file descriptor")),
            }
        } else {
            while j < end && chars[j].is_whitespace() {
                j += 1;
            }
            let start = j;
            while j < end && !(top[j] && chars[j].is_whitespace()) {
                j += 1;
            }
            let word: String = chars[start..j]
                .iter()
                .filter(|&&x| x != '"' && x != '\'')
                .collect();
            match word.as_str() {
                "" => Err("syntax error near unexpected token `newline'".to_string()),
                "/dev/null" => Ok(Sink::Null),
                "/dev/stdout" => Ok(Sink::Stdout),
                "/dev/stderr" => Ok(Sink::Stderr),
                file => Err(format!(
                    "{file}: redirection to a file is not supported in this console (only /dev/null, /dev/stdout and /dev/stderr)"
                )),
            }
        };
        let target = target?;
        match fd {
            None | Some('1') => streams.stdout = target,
            Some('2') => streams.stderr = target,
            Some('&') => {
                streams.stdout = target;
                streams.stderr = target;
            }
            Some(other) => {
                return Err(format!(
                    "{other}: only the output streams 1 and 2 can be redirected in this console"
                ));
            }
        }
        out.push(' ');
        i = j;
    }
    Ok((out.trim().to_string(), streams))
}

/// `(x)` without its parentheses when they pair with each other (`$((x))` is `x`).
fn unwrap_parens(text: &str) -> &str {
    let mut depth = 0usize;
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return if i + 1 == text.len() {
                        &text[1..i]
                    } else {
                        text
                    };
                }
            }
            _ => {}
        }
    }
    text
}

/// `NAME=rest` at the start of a line: a variable assignment.
pub fn assignment(line: &str) -> Option<(&str, &str)> {
    let (name, rest) = line.split_once('=')?;
    let ok = !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    ok.then_some((name, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuations_and_comments() {
        let l = logical_lines("# c\naz group create \\\n  -n g  # trailing\n\necho '#not'\n");
        assert_eq!(
            l,
            vec![
                (2, "az group create    -n g".to_string()),
                (5, "echo '#not'".to_string())
            ]
        );
    }

    #[test]
    fn a_backslash_in_double_quotes_escapes_only_what_bash_escapes() {
        assert_eq!(
            words(r#""a\b""#).unwrap(),
            vec![vec![Piece::Text(r"a\b".into())]]
        );
        assert_eq!(
            words(r#""a\$b""#).unwrap(),
            vec![vec![Piece::Text("a$b".into())]]
        );
        assert_eq!(
            words(r#""a\"b""#).unwrap(),
            vec![vec![Piece::Text("a\"b".into())]]
        );
        assert_eq!(words(r"a\b").unwrap(), vec![vec![Piece::Text("ab".into())]]);
    }

    #[test]
    fn an_escaped_quote_does_not_hide_a_comment_or_open_a_quote() {
        let lines = logical_lines("echo 'it'\\''s #1' # note");
        assert_eq!(lines[0].1, "echo 'it'\\''s #1'");
        assert_eq!(
            words(&lines[0].1).unwrap()[1],
            vec![Piece::Text("it's #1".into())]
        );
        assert_eq!(
            logical_lines("echo \"a\\\" #b\" # c")[0].1,
            "echo \"a\\\" #b\""
        );
    }

    #[test]
    fn words_with_substitutions() {
        let w = words(r#"az x --kid "$KID" ${A}b $(az y --query "a[0]" -o tsv) 'lit $X'"#).unwrap();
        assert_eq!(w.len(), 7);
        assert_eq!(w[3], vec![Piece::Var("KID".into(), true)]);
        assert_eq!(
            w[4],
            vec![Piece::Var("A".into(), false), Piece::Text("b".into())]
        );
        assert_eq!(
            w[5],
            vec![Piece::Command("az y --query \"a[0]\" -o tsv".into(), false)]
        );
        assert_eq!(w[6], vec![Piece::Text("lit $X".into())]);
        let w = words("a $(b (c)) d").unwrap();
        assert_eq!(w[1], vec![Piece::Command("b (c)".into(), false)]);
        assert!(words("a \"b").is_err());
    }

    #[test]
    fn command_lists() {
        use Connector::*;
        let l = command_list("A=1; B=2").unwrap();
        assert_eq!(l, vec![(Always, "A=1".into()), (Always, "B=2".into())]);
        let l = command_list("a && b || c;").unwrap();
        assert_eq!(
            l,
            vec![(Always, "a".into()), (And, "b".into()), (Or, "c".into())]
        );
        let l = command_list(r#"az x --query "a || b" 'c;d' $(e; f) ${g} \; # h; i"#).unwrap();
        assert_eq!(l.len(), 1);
        assert_eq!(command_list("a 2>&1 && b&>/dev/null").unwrap().len(), 2);
        assert!(command_list("; a").is_err());
        assert!(command_list("a ;; b").is_err());
        assert!(command_list("a &&").is_err());
        assert!(command_list("a && || b").is_err());
    }

    #[test]
    fn redirections_to_null_and_between_streams() {
        let (c, s) = redirections("az x > /dev/null 2>&1").unwrap();
        assert_eq!(c, "az x");
        assert_eq!((s.stdout, s.stderr), (Sink::Null, Sink::Null));
        let (c, s) = redirections("az x 2>&1 >/dev/null").unwrap();
        assert_eq!(c, "az x");
        assert_eq!((s.stdout, s.stderr), (Sink::Null, Sink::Stdout));
        let (_, s) = redirections("az x &> /dev/null").unwrap();
        assert_eq!((s.stdout, s.stderr), (Sink::Null, Sink::Null));
        let (_, s) = redirections("echo hi >&2").unwrap();
        assert_eq!(s.stdout, Sink::Stderr);
        let (c, s) = redirections("az x --query \"[?a > `1`]\" 2>/dev/null").unwrap();
        assert_eq!(c, "az x --query \"[?a > `1`]\"");
        assert_eq!((s.stdout, s.stderr), (Sink::Stdout, Sink::Null));
        assert!(redirections("az x > out.json").is_err());
        assert!(redirections("az x >").is_err());
        assert!(redirections("az x 3>/dev/null").is_err());
    }

    #[test]
    fn arithmetic_and_special_variables() {
        let w = words("$(( 1 + 2 )) \"$$\" $?").unwrap();
        assert_eq!(w[0], vec![Piece::Arith(" 1 + 2 ".into(), false)]);
        assert_eq!(w[1], vec![Piece::Var("$".into(), true)]);
        assert_eq!(w[2], vec![Piece::Var("?".into(), false)]);
        let w = words("$((a)+(b))").unwrap();
        assert_eq!(w[0], vec![Piece::Arith("(a)+(b)".into(), false)]);
    }

    #[test]
    fn assignments() {
        assert_eq!(assignment("KID=$(az x)"), Some(("KID", "$(az x)")));
        assert_eq!(assignment("az --x=1"), None);
    }
}
