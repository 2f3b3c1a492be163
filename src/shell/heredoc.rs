//! bash's here-documents in the built-in interpreter: `COMMAND <<WORD` (or `<<-WORD`, which
//! strips leading tabs, or `<<'WORD'` / `<<"WORD"`, which keeps `$` literal) takes the lines
//! that follow, up to a line that is exactly WORD, as the command's standard input. In this
//! console only the filters read standard input (`cat`, `grep`, `tr`, …); any other command
//! given a here-document is refused with the reason, never run with its input dropped.

/// A here-document operator found in a line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HereDoc {
    /// The line without the operator and its word (what runs).
    pub command: String,
    pub delimiter: String,
    /// `<<-`: leading tabs are stripped from the body and the delimiter line.
    pub strip_tabs: bool,
    /// The delimiter was unquoted: `$VAR`, `$(…)` and `$((…))` expand in the body.
    pub expand: bool,
}

/// Finds a here-document operator (`<<`, not `<<<`) outside quotes and arithmetic.
pub fn operator(line: &str) -> Option<HereDoc> {
    let b: Vec<char> = line.chars().collect();
    let (mut single, mut double) = (false, false);
    let mut arith = 0usize;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match c {
            '\\' if !single => {
                i += 2;
                continue;
            }
            '\'' if !double => single = !single,
            '"' if !single => double = !double,
            '$' if !single && b.get(i + 1) == Some(&'(') && b.get(i + 2) == Some(&'(') => {
                arith += 1;
                i += 3;
                continue;
            }
            ')' if arith > 0 && b.get(i + 1) == Some(&')') => {
                arith -= 1;
                i += 2;
                continue;
            }
            '<' if !single
                && !double
                && arith == 0
                && b.get(i + 1) == Some(&'<')
                && b.get(i + 2) != Some(&'<')
                && (i == 0 || b[i - 1] != '<') =>
            {
                let start = i;
                let mut j = i + 2;
                let strip_tabs = b.get(j) == Some(&'-');
                if strip_tabs {
                    j += 1;
                }
                while b.get(j).is_some_and(|c| *c == ' ' || *c == '\t') {
                    j += 1;
                }
                let (delimiter, expand, end) = match b.get(j) {
                    Some(q @ ('\'' | '"')) => {
                        let close = b[j + 1..].iter().position(|c| c == q)?;
                        (
                            b[j + 1..j + 1 + close].iter().collect::<String>(),
                            false,
                            j + close + 2,
                        )
                    }
                    _ => {
                        let len = b[j..]
                            .iter()
                            .position(|c| c.is_whitespace() || "|;&<>()".contains(*c))
                            .unwrap_or(b.len() - j);
                        (b[j..j + len].iter().collect::<String>(), true, j + len)
                    }
                };
                if delimiter.is_empty() {
                    return None;
                }
                let command = format!(
                    "{} {}",
                    b[..start].iter().collect::<String>().trim_end(),
                    b[end..].iter().collect::<String>().trim_start()
                )
                .trim()
                .to_string();
                return Some(HereDoc {
                    command,
                    delimiter,
                    strip_tabs,
                    expand,
                });
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Takes the body from `raw[*i..]` up to the delimiter line (consumed). Returns the body
/// (each line with its newline) and whether the delimiter was found (bash warns when the
/// script ends first, and takes what there was).
pub fn body(raw: &[&str], i: &mut usize, doc: &HereDoc) -> (String, bool) {
    let mut out = String::new();
    while *i < raw.len() {
        let line = raw[*i].trim_end_matches('\r');
        *i += 1;
        let line = if doc.strip_tabs {
            line.trim_start_matches('\t')
        } else {
            line
        };
        if line == doc.delimiter {
            return (out, true);
        }
        out.push_str(line);
        out.push('\n');
    }
    (out, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operators_are_found_outside_quotes_and_arithmetic() {
        let d = operator("cat <<EOF | grep x").unwrap();
        assert_eq!(d.command, "cat | grep x");
        assert_eq!(d.delimiter, "EOF");
        assert!(d.expand && !d.strip_tabs);
        let d = operator("cat <<-'END'").unwrap();
        assert_eq!(
            (d.delimiter.as_str(), d.expand, d.strip_tabs),
            ("END", false, true)
        );
        assert_eq!(operator("echo '<<EOF'"), None);
        assert_eq!(operator("echo $((1 << 3))"), None);
        assert_eq!(operator("grep x <<< text"), None);
        assert_eq!(operator("echo a << "), None);
    }

    #[test]
    fn the_body_ends_at_the_delimiter_line() {
        let raw = ["a", "\tb", "EOF", "after"];
        let mut i = 0;
        let d = operator("cat <<EOF").unwrap();
        assert_eq!(body(&raw, &mut i, &d), ("a\n\tb\n".to_string(), true));
        assert_eq!(i, 3);
        let raw = ["\ta", "\tEOF"];
        let mut i = 0;
        let d = operator("cat <<-EOF").unwrap();
        assert_eq!(body(&raw, &mut i, &d), ("a\n".to_string(), true));
        let mut i = 0;
        let d = operator("cat <<STOP").unwrap();
        assert_eq!(body(&["x"], &mut i, &d), ("x\n".to_string(), false));
    }

    fn run(script: &str) -> crate::shell::ScriptOutcome {
        let mut ws = crate::service::new_workspace("t", 1);
        crate::shell::Shell::new().run_script(&mut ws, script, false)
    }

    #[test]
    fn a_here_document_is_the_input_of_a_filter() {
        let out = run("X=world\ncat <<EOF | grep hello\nhello $X\nbye\nEOF\necho after");
        assert_eq!(out.failures, 0, "{}", out.stderr);
        assert_eq!(out.stdout, "hello world\nafter\n");
        // Quoted, nothing expands; <<- strips the tabs.
        let out = run("cat <<-'EOF'\n\t$X and $(nothing)\n\tEOF");
        assert_eq!(out.stdout, "$X and $(nothing)\n", "{}", out.stderr);
    }

    #[test]
    fn a_command_that_reads_no_input_is_refused_with_the_reason() {
        let out = run("az group list <<EOF\n[]\nEOF\necho not reached");
        assert_eq!(out.failures, 1);
        assert!(
            out.stderr
                .contains("a here-document is standard input: nothing was run"),
            "{}",
            out.stderr
        );
        assert!(!out.stdout.contains("not reached"));
    }

    #[test]
    fn a_pasted_script_echoes_each_line_before_its_output() {
        let mut ws = crate::service::new_workspace("t", 1);
        let mut sh = crate::shell::Shell::new();
        let mut seen = String::new();
        let (failures, commands) = sh.run_script_echoed(
            &mut ws,
            "echo a \\\n  b\n\ncat <<EOF\nbody\nEOF\nnosuchcommand\necho never",
            false,
            "az>",
            |r| {
                seen.push_str(&r.stdout);
                seen.push_str(&r.stderr);
            },
        );
        assert_eq!((failures, commands), (1, 3), "{seen}");
        assert!(
            seen.starts_with("az> echo a \\\n>   b\na b\naz> \naz> cat <<EOF\n> body\n> EOF\nbody\naz> nosuchcommand\n"),
            "{seen}"
        );
        assert!(
            seen.contains("(stopped at line 7: nosuchcommand)"),
            "{seen}"
        );
        assert!(!seen.contains("never"));
    }
}
