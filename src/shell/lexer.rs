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
                    word.push(Piece::Command(
                        chars[i + 2..j].iter().collect(),
                        quote.is_some(),
                    ));
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
    fn assignments() {
        assert_eq!(assignment("KID=$(az x)"), Some(("KID", "$(az x)")));
        assert_eq!(assignment("az --x=1"), None);
    }
}
