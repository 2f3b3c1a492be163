//! bash's compound commands for the built-in interpreter: `if … then … elif … else … fi`,
//! `for NAME in WORDS; do … done`, `while` / `until … do … done`, on one line or many.
//! A script's lines are cut into segments at their top-level `;`; this module parses
//! segments into a tree the shell runs.

/// One command of a script (a segment between `;` or line ends) and its line number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seg {
    pub line: usize,
    pub text: String,
}

/// A parsed command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    /// A command list (`a && b || c`), run as a line.
    Simple(Seg),
    If {
        /// (condition, body) for `if` and each `elif`.
        branches: Vec<(Vec<Node>, Vec<Node>)>,
        otherwise: Option<Vec<Node>>,
    },
    For {
        var: String,
        /// The words after `in`, expanded when the loop starts (`None`: no `in`).
        words: Option<String>,
        body: Vec<Node>,
        line: usize,
    },
    While {
        until: bool,
        cond: Vec<Node>,
        body: Vec<Node>,
        line: usize,
    },
}

/// The deepest compound commands may nest.
pub const MAX_NESTING: usize = 32;

/// The most times one loop runs its body.
pub const MAX_LOOP_ITERATIONS: usize = 100_000;

const KEYWORDS: [&str; 10] = [
    "if", "then", "elif", "else", "fi", "for", "while", "until", "do", "done",
];

/// The segment's leading keyword and the text after it.
fn keyword(text: &str) -> Option<(&'static str, &str)> {
    let t = text.trim_start();
    let end = t.find(char::is_whitespace).unwrap_or(t.len());
    let kw = KEYWORDS.into_iter().find(|k| *k == &t[..end])?;
    Some((kw, t[end..].trim()))
}

/// How many compound commands the segments open and do not close.
pub fn open_count(segs: &[Seg]) -> i64 {
    let mut n = 0;
    for s in segs {
        let mut text = s.text.as_str();
        while let Some((kw, rest)) = keyword(text) {
            match kw {
                "if" | "for" | "while" | "until" => {
                    n += 1;
                    break;
                }
                "fi" | "done" => {
                    n -= 1;
                    break;
                }
                "then" | "do" | "else" => text = rest,
                _ => break,
            }
        }
    }
    n
}

/// Whether any segment starts with a keyword (the line needs this module).
pub fn has_keyword(segs: &[Seg]) -> bool {
    segs.iter().any(|s| keyword(&s.text).is_some())
}

/// Parses segments into commands; errors read like bash's syntax errors.
pub fn parse(segs: Vec<Seg>) -> Result<Vec<Node>, String> {
    let mut p = Parser {
        segs: segs.into_iter().collect(),
    };
    let (nodes, end) = p.list(0, &[])?;
    debug_assert!(end.is_none());
    Ok(nodes)
}

struct Parser {
    segs: std::collections::VecDeque<Seg>,
}

impl Parser {
    /// Takes the front segment's keyword; what follows it becomes the front segment.
    fn take_keyword(&mut self) -> Option<(&'static str, usize)> {
        let front = self.segs.pop_front()?;
        let Some((kw, rest)) = keyword(&front.text) else {
            self.segs.push_front(front);
            return None;
        };
        if !rest.is_empty() {
            self.segs.push_front(Seg {
                line: front.line,
                text: rest.to_string(),
            });
        }
        Some((kw, front.line))
    }

    /// Commands up to one of `stops` (taken, and returned), or the end when `stops` is empty.
    fn list(
        &mut self,
        depth: usize,
        stops: &[&str],
    ) -> Result<(Vec<Node>, Option<&'static str>), String> {
        if depth > MAX_NESTING {
            return Err(format!(
                "compound commands nest deeper than {MAX_NESTING} levels"
            ));
        }
        let mut nodes = Vec::new();
        loop {
            let Some(front) = self.segs.front() else {
                if stops.is_empty() {
                    return Ok((nodes, None));
                }
                return Err("syntax error: unexpected end of file".into());
            };
            let kw = keyword(&front.text).map(|(k, _)| k);
            match kw {
                None => {
                    if let Some(seg) = self.segs.pop_front() {
                        nodes.push(Node::Simple(seg));
                    }
                }
                Some(k) if stops.contains(&k) => {
                    let line = front.line;
                    let rest_after_end = matches!(k, "fi" | "done")
                        && keyword(&front.text).is_some_and(|(_, r)| !r.is_empty());
                    if rest_after_end {
                        return Err(format!(
                            "syntax error near `{}' (line {line}): only `;' or a line end may follow `{k}' in this console",
                            front.text
                        ));
                    }
                    self.take_keyword();
                    return Ok((nodes, Some(k)));
                }
                Some("if") => {
                    self.take_keyword();
                    let mut branches = Vec::new();
                    let mut otherwise = None;
                    loop {
                        let (cond, _) = self.list(depth + 1, &["then"])?;
                        if cond.is_empty() {
                            return Err("syntax error near unexpected token `then'".into());
                        }
                        let (body, end) = self.list(depth + 1, &["elif", "else", "fi"])?;
                        if body.is_empty() {
                            return Err(format!(
                                "syntax error near unexpected token `{}'",
                                end.unwrap_or("fi")
                            ));
                        }
                        branches.push((cond, body));
                        match end {
                            Some("elif") => continue,
                            Some("else") => {
                                let (body, _) = self.list(depth + 1, &["fi"])?;
                                if body.is_empty() {
                                    return Err("syntax error near unexpected token `fi'".into());
                                }
                                otherwise = Some(body);
                                break;
                            }
                            _ => break,
                        }
                    }
                    nodes.push(Node::If {
                        branches,
                        otherwise,
                    });
                }
                Some("for") => {
                    let Some(seg) = self.segs.pop_front() else {
                        continue;
                    };
                    let (_, rest) = keyword(&seg.text).unwrap_or(("for", ""));
                    let (var, after) = match rest.find(char::is_whitespace) {
                        Some(i) => (&rest[..i], rest[i..].trim()),
                        None => (rest, ""),
                    };
                    let valid = !var.is_empty()
                        && var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                        && !var.starts_with(|c: char| c.is_ascii_digit());
                    if !valid {
                        return Err(format!("`{var}': not a valid identifier"));
                    }
                    let words = match after {
                        "" => None,
                        "in" => Some(String::new()),
                        a if a.starts_with("in ") || a.starts_with("in\t") => {
                            Some(a[2..].trim().to_string())
                        }
                        a => return Err(format!("syntax error near unexpected token `{a}'")),
                    };
                    let (before_do, _) = self.list(depth + 1, &["do"])?;
                    if !before_do.is_empty() {
                        return Err("syntax error: `do' expected after `for NAME in WORDS'".into());
                    }
                    let (body, _) = self.list(depth + 1, &["done"])?;
                    if body.is_empty() {
                        return Err("syntax error near unexpected token `done'".into());
                    }
                    nodes.push(Node::For {
                        var: var.to_string(),
                        words,
                        body,
                        line: seg.line,
                    });
                }
                Some(k @ ("while" | "until")) => {
                    let line = front.line;
                    self.take_keyword();
                    let (cond, _) = self.list(depth + 1, &["do"])?;
                    if cond.is_empty() {
                        return Err("syntax error near unexpected token `do'".into());
                    }
                    let (body, _) = self.list(depth + 1, &["done"])?;
                    if body.is_empty() {
                        return Err("syntax error near unexpected token `done'".into());
                    }
                    nodes.push(Node::While {
                        until: k == "until",
                        cond,
                        body,
                        line,
                    });
                }
                Some(other) => {
                    return Err(format!("syntax error near unexpected token `{other}'"));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segs(text: &str) -> Vec<Seg> {
        text.lines()
            .enumerate()
            .flat_map(|(i, l)| {
                crate::shell::lexer::semicolon_segments(l)
                    .into_iter()
                    .map(move |t| Seg {
                        line: i + 1,
                        text: t,
                    })
            })
            .collect()
    }

    #[test]
    fn one_line_and_many_lines_parse_alike() {
        let one = parse(segs("for x in a b; do echo $x; done")).unwrap();
        let many = parse(segs("for x in a b\ndo\n  echo $x\ndone")).unwrap();
        let strip = |n: &[Node]| {
            format!("{:?}", n)
                .replace("line: 2", "line: 1")
                .replace("line: 3", "line: 1")
        };
        assert_eq!(strip(&one), strip(&many));
        match &one[0] {
            Node::For {
                var, words, body, ..
            } => {
                assert_eq!(var, "x");
                assert_eq!(words.as_deref(), Some("a b"));
                assert_eq!(body.len(), 1);
            }
            other => panic!("{other:?}"),
        }
        let n = parse(segs(
            "if [ -z \"$a\" ]; then echo 1; elif [ 1 -eq 1 ]; then echo 2; else echo 3; fi",
        ))
        .unwrap();
        match &n[0] {
            Node::If {
                branches,
                otherwise,
            } => {
                assert_eq!(branches.len(), 2);
                assert!(otherwise.is_some());
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(open_count(&segs("if a; then")), 1);
        assert_eq!(open_count(&segs("then if b; then c; fi; fi")), -1);
        assert_eq!(open_count(&segs("while true; do x; done")), 0);
    }

    #[test]
    fn broken_compounds_are_syntax_errors() {
        for bad in [
            "if a; then b",
            "fi",
            "done",
            "if; then a; fi",
            "for x in a; echo; done",
            "for 1x in a; do b; done",
            "while a; do done",
            "if a; then b; fi extra",
            "then",
        ] {
            assert!(parse(segs(bad)).is_err(), "{bad}");
        }
        let deep = "if a; then ".repeat(40) + &"b; fi; ".repeat(40);
        assert!(parse(segs(&deep)).unwrap_err().contains("nest"));
    }
}
