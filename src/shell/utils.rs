//! The few command-line tools Microsoft's sample scripts use around `az`, for the built-in
//! interpreter: `printf`, `expr`, `test` / `[ … ]`, and the filters a pipe may end in
//! (`tr`, `head`, `tail`, `grep`, `wc`, `sort`, `uniq`, `cut`, `cat`, `xargs`). Each works on
//! text in memory and fails with the tool's own kind of message; none reads or writes files.

/// The tools that can read a pipe.
pub const FILTERS: [&str; 10] = [
    "tr", "head", "tail", "grep", "wc", "sort", "uniq", "cut", "cat", "xargs",
];

/// Runs filter `words[0]` over `input`: (its output, whether it succeeded).
pub fn filter(words: &[String], input: &str) -> Result<(String, bool), String> {
    let args = words.get(1..).unwrap_or_default();
    match words.first().map(String::as_str) {
        Some("tr") => tr(args, input).map(|o| (o, true)),
        Some("head") => head_tail(args, input, true).map(|o| (o, true)),
        Some("tail") => head_tail(args, input, false).map(|o| (o, true)),
        Some("grep") => grep(args, input),
        Some("wc") => wc(args, input).map(|o| (o, true)),
        Some("sort") => sort(args, input).map(|o| (o, true)),
        Some("uniq") => {
            let mut out = String::new();
            let mut last: Option<&str> = None;
            for l in input.lines() {
                if last != Some(l) {
                    out.push_str(l);
                    out.push('\n');
                }
                last = Some(l);
            }
            Ok((out, true))
        }
        Some("cut") => cut(args, input).map(|o| (o, true)),
        Some("cat") if args.is_empty() || args == ["-"] => Ok((input.to_string(), true)),
        Some("xargs") if args.is_empty() || args == ["echo"] => Ok((
            input.split_whitespace().collect::<Vec<_>>().join(" ") + "\n",
            true,
        )),
        Some(other) => Err(format!(
            "bash: {other}: only {} can read a pipe in this console (as they are used with az: tr -d, head -n, grep, …)",
            FILTERS.join(", ")
        )),
        None => Err("bash: syntax error near unexpected token `|'".into()),
    }
}

/// A `tr` set: ranges `a-z`, escapes `\n \t \r \\`, classes `[:upper:]` and the like.
fn tr_set(spec: &str) -> Vec<char> {
    let mut chars: Vec<char> = Vec::new();
    let s = spec;
    for (class, test) in [
        ("[:upper:]", char::is_ascii_uppercase as fn(&char) -> bool),
        ("[:lower:]", char::is_ascii_lowercase),
        ("[:digit:]", char::is_ascii_digit),
        ("[:alpha:]", char::is_ascii_alphabetic),
        ("[:alnum:]", char::is_ascii_alphanumeric),
        ("[:space:]", |c: &char| c.is_ascii_whitespace()),
        ("[:punct:]", char::is_ascii_punctuation),
    ] {
        if s.contains(class) {
            chars.extend((0u8..128).map(char::from).filter(test));
        }
        if s.contains(class) {
            let owned = s.replace(class, "");
            return chars.into_iter().chain(tr_set(&owned)).collect();
        }
    }
    let raw: Vec<char> = {
        let mut out = Vec::new();
        let mut it = s.chars();
        while let Some(c) = it.next() {
            if c == '\\' {
                out.push(match it.next() {
                    Some('n') => '\n',
                    Some('t') => '\t',
                    Some('r') => '\r',
                    Some(o) => o,
                    None => '\\',
                });
            } else {
                out.push(c);
            }
        }
        out
    };
    let mut i = 0;
    while i < raw.len() {
        if i + 2 < raw.len() && raw[i + 1] == '-' && raw[i] <= raw[i + 2] {
            let (a, b) = (raw[i] as u32, raw[i + 2] as u32);
            // A range is at most the BMP's worth of characters.
            chars.extend((a..=b.min(a + 0xFFFF)).filter_map(char::from_u32));
            i += 3;
        } else {
            chars.push(raw[i]);
            i += 1;
        }
    }
    chars
}

fn tr(args: &[String], input: &str) -> Result<String, String> {
    let (mut delete, mut squeeze) = (false, false);
    let mut sets = Vec::new();
    for a in args {
        match a.as_str() {
            "-d" => delete = true,
            "-s" => squeeze = true,
            "-ds" | "-sd" => {
                delete = true;
                squeeze = true;
            }
            s if s.starts_with('-') && s.len() > 1 => {
                return Err(format!("tr: invalid option -- '{}'", &s[1..]));
            }
            s => sets.push(tr_set(s)),
        }
    }
    let lookup: Vec<std::collections::HashSet<char>> =
        sets.iter().map(|s| s.iter().copied().collect()).collect();
    let in_set = |set: &Vec<char>, c: char| {
        sets.iter()
            .position(|s| std::ptr::eq(s, set))
            .is_some_and(|i| lookup[i].contains(&c))
    };
    match (delete, squeeze, sets.as_slice()) {
        (true, false, [d]) => Ok(input.chars().filter(|c| !in_set(d, *c)).collect()),
        (false, _, [from, to]) if !to.is_empty() => {
            // The first place of each character in SET1 (later ones do not count, as in tr).
            let mut map = std::collections::HashMap::new();
            for (i, c) in from.iter().enumerate() {
                map.entry(*c).or_insert(to[i.min(to.len() - 1)]);
            }
            let mut out = String::new();
            let mut last: Option<char> = None;
            for c in input.chars() {
                let m = map.get(&c).copied().unwrap_or(c);
                if squeeze && last == Some(m) && in_set(to, m) {
                    continue;
                }
                out.push(m);
                last = Some(m);
            }
            Ok(out)
        }
        (false, true, [s]) => {
            let mut out = String::new();
            let mut last: Option<char> = None;
            for c in input.chars() {
                if last == Some(c) && in_set(s, c) {
                    continue;
                }
                out.push(c);
                last = Some(c);
            }
            Ok(out)
        }
        (true, true, [d, s]) => {
            let mut out = String::new();
            let mut last: Option<char> = None;
            for c in input.chars().filter(|c| !in_set(d, *c)) {
                if last == Some(c) && in_set(s, c) {
                    continue;
                }
                out.push(c);
                last = Some(c);
            }
            Ok(out)
        }
        _ => Err("tr: missing operand\nTry 'tr --help' for more information.".into()),
    }
}

/// `-n N`, `-N`, `-nN`, `--lines=N`; tail also `-n +N`.
fn count_arg(args: &[String], tool: &str) -> Result<(i64, bool, bool), String> {
    let (mut n, mut from_start, mut bytes) = (10i64, false, false);
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        let value = match a {
            "-n" | "-c" => {
                bytes = a == "-c";
                i += 1;
                args.get(i).cloned().ok_or(format!(
                    "{tool}: option requires an argument -- '{}'",
                    &a[1..]
                ))?
            }
            _ if a.starts_with("--lines=") => a["--lines=".len()..].to_string(),
            _ if a.starts_with("-n") || a.starts_with("-c") => {
                bytes = a.starts_with("-c");
                a[2..].to_string()
            }
            _ if a.starts_with('-') && a.len() > 1 => a[1..].to_string(),
            _ => {
                return Err(format!(
                    "{tool}: cannot open '{a}' for reading: this console's {tool} reads a pipe only"
                ));
            }
        };
        from_start = value.starts_with('+');
        n = value
            .trim_start_matches('+')
            .parse()
            .map_err(|_| format!("{tool}: invalid number of lines: '{value}'"))?;
        i += 1;
    }
    Ok((n, from_start, bytes))
}

fn head_tail(args: &[String], input: &str, head: bool) -> Result<String, String> {
    let tool = if head { "head" } else { "tail" };
    let (n, from_start, bytes) = count_arg(args, tool)?;
    if bytes {
        let chars: Vec<char> = input.chars().collect();
        let n = (n.unsigned_abs() as usize).min(chars.len());
        return Ok(if head {
            chars[..n].iter().collect()
        } else {
            chars[chars.len() - n..].iter().collect()
        });
    }
    let lines: Vec<&str> = input.lines().collect();
    let len = lines.len();
    let n = n.unsigned_abs() as usize;
    let picked: &[&str] = match (head, from_start) {
        (true, _) => &lines[..n.min(len)],
        (false, true) => &lines[n.saturating_sub(1).min(len)..],
        (false, false) => &lines[len - n.min(len)..],
    };
    Ok(picked.iter().map(|l| format!("{l}\n")).collect())
}

/// A small regular expression matcher (Rob Pike's): `^ $ . *` and literal characters,
/// `\` escaping; with `-E`, also `+` and `?`.
fn re_match(re: &[char], text: &[char], icase: bool, budget: &mut usize) -> bool {
    if let Some(rest) = re.strip_prefix(&['^']) {
        return re_here(rest, text, icase, budget);
    }
    let mut t = text;
    loop {
        if re_here(re, t, icase, budget) {
            return true;
        }
        match t.split_first() {
            Some((_, rest)) => t = rest,
            None => return false,
        }
    }
}

fn re_atom(re: &[char]) -> Option<(Option<char>, usize)> {
    // (None: any character; the atom's length in the pattern)
    match re {
        ['\\', c, ..] => Some((Some(*c), 2)),
        ['.', ..] => Some((None, 1)),
        [c, ..] => Some((Some(*c), 1)),
        [] => None,
    }
}

fn same(a: Option<char>, c: char, icase: bool) -> bool {
    match a {
        None => true,
        Some(a) if icase => a.to_lowercase().eq(c.to_lowercase()),
        Some(a) => a == c,
    }
}

/// How many steps a grep may take over its whole input (backtracking over `*` can explode).
const GREP_STEPS: usize = 50_000_000;

fn re_here(re: &[char], text: &[char], icase: bool, budget: &mut usize) -> bool {
    if *budget == 0 {
        return false;
    }
    *budget -= 1;
    let Some((atom, len)) = re_atom(re) else {
        return true;
    };
    if re == ['$'] {
        return text.is_empty();
    }
    let rest = &re[len..];
    match rest.first() {
        Some('*') | Some('+') | Some('?') => {
            let op = rest[0];
            let after = &rest[1..];
            let min = usize::from(op == '+');
            let max = if op == '?' { 1 } else { usize::MAX };
            let mut n = 0;
            while n < text.len() && n < max && same(atom, text[n], icase) {
                n += 1;
            }
            (min..=n)
                .rev()
                .any(|k| re_here(after, &text[k..], icase, budget))
        }
        _ => match text.first() {
            Some(c) if same(atom, *c, icase) => re_here(rest, &text[1..], icase, budget),
            _ => false,
        },
    }
}

fn grep(args: &[String], input: &str) -> Result<(String, bool), String> {
    let (mut invert, mut count, mut quiet, mut icase, mut fixed, mut extended, mut whole) =
        (false, false, false, false, false, false, false);
    let mut pattern: Option<String> = None;
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        if a == "-e" {
            i += 1;
            pattern = args.get(i).cloned();
        } else if a.starts_with('-') && a.len() > 1 && pattern.is_none() {
            for f in a[1..].chars() {
                match f {
                    'v' => invert = true,
                    'c' => count = true,
                    'q' => quiet = true,
                    'i' => icase = true,
                    'F' => fixed = true,
                    'E' => extended = true,
                    'x' => whole = true,
                    other => return Err(format!("grep: invalid option -- '{other}'")),
                }
            }
        } else if pattern.is_none() {
            pattern = Some(a.to_string());
        } else {
            return Err(format!(
                "grep: {a}: this console's grep reads a pipe only, not files"
            ));
        }
        i += 1;
    }
    let Some(pattern) = pattern else {
        return Err("Usage: grep [OPTION]... PATTERNS".into());
    };
    let mut re: Vec<char> = pattern.chars().collect();
    if fixed {
        re = re
            .into_iter()
            .flat_map(|c| {
                if matches!(c, '\\' | '.' | '*' | '^' | '$' | '+' | '?') {
                    vec!['\\', c]
                } else {
                    vec![c]
                }
            })
            .collect();
    } else if !extended {
        // Basic expressions: `+` and `?` are literal.
        re = re
            .into_iter()
            .flat_map(|c| {
                if matches!(c, '+' | '?') {
                    vec!['\\', c]
                } else {
                    vec![c]
                }
            })
            .collect();
    }
    if whole {
        re.insert(0, '^');
        re.push('$');
    }
    let mut out = String::new();
    let mut n = 0;
    let mut budget = GREP_STEPS;
    for line in input.lines() {
        let chars: Vec<char> = line.chars().collect();
        let found = re_match(&re, &chars, icase, &mut budget);
        if budget == 0 {
            return Err(format!(
                "grep: the pattern '{pattern}' takes too many steps over this input"
            ));
        }
        if found != invert {
            n += 1;
            if !count && !quiet {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    if quiet {
        out.clear();
    } else if count {
        out = format!("{n}\n");
    }
    Ok((out, n > 0))
}

fn wc(args: &[String], input: &str) -> Result<String, String> {
    let lines = input.matches('\n').count();
    let words = input.split_whitespace().count();
    let bytes = input.len();
    Ok(
        match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
            ["-l"] => format!("{lines}\n"),
            ["-w"] => format!("{words}\n"),
            ["-c"] | ["-m"] => format!("{bytes}\n"),
            [] => format!("{lines:7} {words:7} {bytes:7}\n"),
            _ => return Err("wc: this console's wc takes -l, -w or -c over a pipe".into()),
        },
    )
}

fn sort(args: &[String], input: &str) -> Result<String, String> {
    let (mut reverse, mut unique, mut numeric) = (false, false, false);
    for a in args {
        match a.as_str() {
            "-r" => reverse = true,
            "-u" => unique = true,
            "-n" => numeric = true,
            "-rn" | "-nr" => {
                reverse = true;
                numeric = true;
            }
            other => return Err(format!("sort: this console's sort does not take '{other}'")),
        }
    }
    let mut lines: Vec<&str> = input.lines().collect();
    if numeric {
        let key = |l: &str| l.trim().parse::<f64>().unwrap_or(0.0);
        lines.sort_by(|a, b| key(a).total_cmp(&key(b)).then(a.cmp(b)));
    } else {
        lines.sort();
    }
    if unique {
        lines.dedup();
    }
    if reverse {
        lines.reverse();
    }
    Ok(lines.iter().map(|l| format!("{l}\n")).collect())
}

fn cut(args: &[String], input: &str) -> Result<String, String> {
    let mut delim = '\t';
    let mut fields: Option<Vec<(usize, usize)>> = None;
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        let mut value = |flag: &str| -> Result<String, String> {
            if a.len() > flag.len() {
                Ok(a[flag.len()..].to_string())
            } else {
                i += 1;
                args.get(i).cloned().ok_or(format!(
                    "cut: option requires an argument -- '{}'",
                    &flag[1..]
                ))
            }
        };
        if a.starts_with("-d") {
            let d = value("-d")?;
            let mut cs = d.chars();
            delim = match (cs.next(), cs.next()) {
                (Some(c), None) => c,
                _ => return Err("cut: the delimiter must be a single character".into()),
            };
        } else if a.starts_with("-f") {
            let spec = value("-f")?;
            let mut list = Vec::new();
            for part in spec.split(',') {
                let bad = || format!("cut: invalid field value '{part}'");
                let (a, b) = match part.split_once('-') {
                    Some((a, b)) => (
                        if a.is_empty() {
                            1
                        } else {
                            a.parse().map_err(|_| bad())?
                        },
                        if b.is_empty() {
                            usize::MAX
                        } else {
                            b.parse().map_err(|_| bad())?
                        },
                    ),
                    None => {
                        let n = part.parse().map_err(|_| bad())?;
                        (n, n)
                    }
                };
                if a == 0 {
                    return Err("cut: fields are numbered from 1".into());
                }
                list.push((a, b));
            }
            fields = Some(list);
        } else {
            return Err(format!(
                "cut: this console's cut takes -d and -f, not '{a}'"
            ));
        }
        i += 1;
    }
    let Some(fields) = fields else {
        return Err("cut: you must specify a list of bytes, characters, or fields".into());
    };
    let mut out = String::new();
    for line in input.lines() {
        if !line.contains(delim) {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        let parts: Vec<&str> = line.split(delim).collect();
        let picked: Vec<&str> = parts
            .iter()
            .enumerate()
            .filter(|(i, _)| fields.iter().any(|(a, b)| (*a..=*b).contains(&(i + 1))))
            .map(|(_, p)| *p)
            .collect();
        out.push_str(&picked.join(&delim.to_string()));
        out.push('\n');
    }
    Ok(out)
}

/// Backslash escapes of `printf`'s format and of `%b` / `echo -e`.
pub fn escapes(text: &str) -> String {
    let mut out = String::new();
    let mut it = text.chars().peekable();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('\\') => out.push('\\'),
            Some('a') => out.push('\x07'),
            Some('"') => out.push('"'),
            Some('\'') => out.push('\''),
            Some(o) => {
                out.push('\\');
                out.push(o);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// The widest field and the longest precision `printf` takes.
const MAX_PRINTF_WIDTH: usize = 4096;

/// The most `printf` prints at once.
const MAX_PRINTF_OUTPUT: usize = 16 << 20;

/// bash's `printf FORMAT [ARGUMENTS…]`: `%s %b %d %i %u %x %X %o %c %f %e %%` with flags,
/// width and precision; the format is reused while arguments remain.
pub fn printf(args: &[String]) -> Result<String, String> {
    let Some(format) = args.first() else {
        return Err("printf: usage: printf [-v var] format [arguments]".into());
    };
    let format: Vec<char> = format.chars().collect();
    let mut rest = args[1..].iter();
    let mut out = String::new();
    let mut errors = Vec::new();
    // Each pass over the format takes arguments; a pass that takes none ends.
    for _ in 0..=args.len() {
        let mut took = false;
        let mut i = 0;
        while i < format.len() {
            let c = format[i];
            if c == '\\' {
                let end = (i + 2).min(format.len());
                out.push_str(&escapes(&format[i..end].iter().collect::<String>()));
                i = end;
                continue;
            }
            if c != '%' {
                out.push(c);
                i += 1;
                continue;
            }
            let start = i;
            i += 1;
            while i < format.len() && matches!(format[i], '-' | '+' | ' ' | '0' | '#') {
                i += 1;
            }
            while i < format.len() && (format[i].is_ascii_digit() || format[i] == '.') {
                i += 1;
            }
            let Some(&conv) = format.get(i) else {
                return Err(format!(
                    "printf: `{}': missing format character",
                    format[start..].iter().collect::<String>()
                ));
            };
            i += 1;
            let spec: String = format[start + 1..i - 1].iter().collect();
            if conv == '%' {
                out.push('%');
                continue;
            }
            let arg = rest.next();
            took |= arg.is_some();
            let arg = arg.map(String::as_str).unwrap_or("");
            let left = spec.contains('-');
            let flags: String = spec
                .chars()
                .take_while(|c| matches!(c, '-' | '+' | ' ' | '0' | '#'))
                .collect();
            let zero = flags.contains('0') && !left;
            let (width, precision) = {
                let digits = spec.trim_start_matches(['-', '+', ' ', '0', '#']);
                let n = |t: &str| -> Result<usize, String> {
                    match t.parse::<usize>() {
                        Ok(v) if v > MAX_PRINTF_WIDTH => Err(format!(
                            "printf: `%{spec}{conv}': widths and precisions above {MAX_PRINTF_WIDTH} are not supported"
                        )),
                        Ok(v) => Ok(v),
                        Err(_) if t.is_empty() => Ok(0),
                        Err(_) => Err(format!("printf: `%{spec}{conv}': invalid width")),
                    }
                };
                match digits.split_once('.') {
                    Some((w, p)) => (n(w)?, Some(n(p)?)),
                    None => (n(digits)?, None),
                }
            };
            let int = |s: &str, errors: &mut Vec<String>| -> i64 {
                let t = s.trim();
                if t.is_empty() {
                    return 0;
                }
                if let Some(c) = t.strip_prefix(['\'', '"']) {
                    return c.chars().next().map_or(0, |c| c as i64);
                }
                let parsed = if let Some(h) = t.strip_prefix("0x").or(t.strip_prefix("0X")) {
                    i64::from_str_radix(h, 16).ok()
                } else {
                    t.parse().ok()
                };
                parsed.unwrap_or_else(|| {
                    errors.push(format!("printf: {s}: invalid number"));
                    0
                })
            };
            let body = match conv {
                's' => match precision {
                    Some(p) => arg.chars().take(p).collect(),
                    None => arg.to_string(),
                },
                'b' => escapes(arg),
                'c' => arg.chars().next().map(String::from).unwrap_or_default(),
                'd' | 'i' | 'u' => {
                    let v = int(arg, &mut errors);
                    if spec.contains('+') && v >= 0 {
                        format!("+{v}")
                    } else {
                        v.to_string()
                    }
                }
                'x' => format!("{:x}", int(arg, &mut errors)),
                'X' => format!("{:X}", int(arg, &mut errors)),
                'o' => format!("{:o}", int(arg, &mut errors)),
                'f' | 'F' | 'e' | 'g' => {
                    let v: f64 = if arg.trim().is_empty() {
                        0.0
                    } else {
                        arg.trim().parse().unwrap_or_else(|_| {
                            errors.push(format!("printf: {arg}: invalid number"));
                            0.0
                        })
                    };
                    let p = precision.unwrap_or(6);
                    if conv == 'e' {
                        format!("{v:.p$e}")
                    } else {
                        format!("{v:.p$}")
                    }
                }
                other => {
                    return Err(format!("printf: `{other}': invalid format character"));
                }
            };
            let len = body.chars().count();
            if len >= width {
                out.push_str(&body);
            } else if left {
                out.push_str(&body);
                out.push_str(&" ".repeat(width - len));
            } else if zero && !matches!(conv, 's' | 'b' | 'c') {
                let (sign, digits) = match body.strip_prefix(['-', '+']) {
                    Some(d) => (&body[..1], d),
                    None => ("", body.as_str()),
                };
                out.push_str(sign);
                out.push_str(&"0".repeat(width - len));
                out.push_str(digits);
            } else {
                out.push_str(&" ".repeat(width - len));
                out.push_str(&body);
            }
        }
        if out.len() > MAX_PRINTF_OUTPUT {
            return Err(format!(
                "printf: the output is longer than {MAX_PRINTF_OUTPUT} bytes"
            ));
        }
        if !took || rest.len() == 0 {
            break;
        }
    }
    if !errors.is_empty() {
        return Err(out + "\n" + &errors.join("\n"));
    }
    Ok(out)
}

/// `expr ARGS…`: integer arithmetic, comparisons, `|` and `&`, `length STRING`; prints the
/// value. Succeeds unless the value is 0 or empty (as expr's exit status says).
pub fn expr(args: &[String]) -> Result<(String, bool), String> {
    fn num(s: &str) -> Result<i64, String> {
        s.trim()
            .parse()
            .map_err(|_| "expr: non-integer argument".to_string())
    }
    struct P<'a> {
        t: &'a [String],
        i: usize,
        depth: usize,
    }
    impl P<'_> {
        fn peek(&self) -> Option<&str> {
            self.t.get(self.i).map(String::as_str)
        }
        fn or(&mut self) -> Result<String, String> {
            let mut l = self.and()?;
            while self.peek() == Some("|") {
                self.i += 1;
                let r = self.and()?;
                if l.is_empty() || l == "0" {
                    l = if r.is_empty() { "0".into() } else { r };
                }
            }
            Ok(l)
        }
        fn and(&mut self) -> Result<String, String> {
            let mut l = self.cmp()?;
            while self.peek() == Some("&") {
                self.i += 1;
                let r = self.cmp()?;
                let null = |s: &str| s.is_empty() || s == "0";
                if null(&l) || null(&r) {
                    l = "0".into();
                }
            }
            Ok(l)
        }
        fn cmp(&mut self) -> Result<String, String> {
            let mut l = self.add()?;
            while let Some(op @ ("=" | "==" | "!=" | "<" | "<=" | ">" | ">=")) = self.peek() {
                let op = op.to_string();
                self.i += 1;
                let r = self.add()?;
                let ord = match (l.trim().parse::<i64>(), r.trim().parse::<i64>()) {
                    (Ok(a), Ok(b)) => a.cmp(&b),
                    _ => l.cmp(&r),
                };
                let v = match op.as_str() {
                    "=" | "==" => ord.is_eq(),
                    "!=" => ord.is_ne(),
                    "<" => ord.is_lt(),
                    "<=" => ord.is_le(),
                    ">" => ord.is_gt(),
                    _ => ord.is_ge(),
                };
                l = u8::from(v).to_string();
            }
            Ok(l)
        }
        fn add(&mut self) -> Result<String, String> {
            let mut l = self.mul()?;
            while let Some(op @ ("+" | "-")) = self.peek() {
                let plus = op == "+";
                self.i += 1;
                let r = self.mul()?;
                let (a, b) = (num(&l)?, num(&r)?);
                l = if plus {
                    a.wrapping_add(b)
                } else {
                    a.wrapping_sub(b)
                }
                .to_string();
            }
            Ok(l)
        }
        fn mul(&mut self) -> Result<String, String> {
            let mut l = self.atom()?;
            while let Some(op @ ("*" | "/" | "%")) = self.peek() {
                let op = op.to_string();
                self.i += 1;
                let r = self.atom()?;
                let (a, b) = (num(&l)?, num(&r)?);
                if op != "*" && b == 0 {
                    return Err("expr: division by zero".into());
                }
                l = match op.as_str() {
                    "*" => a.wrapping_mul(b),
                    "/" => a.wrapping_div(b),
                    _ => a.wrapping_rem(b),
                }
                .to_string();
            }
            Ok(l)
        }
        fn atom(&mut self) -> Result<String, String> {
            self.depth += 1;
            if self.depth > 64 {
                return Err("expr: expression nests too deeply".into());
            }
            let r = match self.peek() {
                None => Err("expr: syntax error: missing argument".into()),
                Some("(") => {
                    self.i += 1;
                    let v = self.or()?;
                    if self.peek() != Some(")") {
                        return Err("expr: syntax error: expecting ')'".into());
                    }
                    self.i += 1;
                    Ok(v)
                }
                Some("length") if self.i + 1 < self.t.len() => {
                    self.i += 2;
                    Ok(self.t[self.i - 1].chars().count().to_string())
                }
                Some(v) => {
                    let v = v.to_string();
                    self.i += 1;
                    Ok(v)
                }
            };
            self.depth -= 1;
            r
        }
    }
    let mut p = P {
        t: args,
        i: 0,
        depth: 0,
    };
    let v = p.or()?;
    if p.i < args.len() {
        return Err(format!(
            "expr: syntax error: unexpected argument '{}'",
            args[p.i]
        ));
    }
    let ok = !(v.is_empty() || v == "0");
    Ok((v + "\n", ok))
}

/// `test ARGS…` / `[ ARGS… ]`: string and integer comparisons, `-z -n`, file tests,
/// `! -a -o ( )`. Ok(true) when the test holds.
pub fn test(args: &[String]) -> Result<bool, String> {
    struct T<'a> {
        a: &'a [String],
        i: usize,
        depth: usize,
    }
    impl T<'_> {
        fn peek(&self) -> Option<&str> {
            self.a.get(self.i).map(String::as_str)
        }
        fn or(&mut self) -> Result<bool, String> {
            let mut v = self.and()?;
            while self.peek() == Some("-o") {
                self.i += 1;
                v |= self.and()?;
            }
            Ok(v)
        }
        fn and(&mut self) -> Result<bool, String> {
            let mut v = self.not()?;
            while self.peek() == Some("-a") {
                self.i += 1;
                v &= self.not()?;
            }
            Ok(v)
        }
        fn not(&mut self) -> Result<bool, String> {
            self.depth += 1;
            if self.depth > 64 {
                return Err("test: expression nests too deeply".into());
            }
            let remaining = self.a.len() - self.i;
            let v = if self.peek() == Some("!") && remaining > 1 {
                self.i += 1;
                !self.not()?
            } else {
                self.primary()?
            };
            self.depth -= 1;
            Ok(v)
        }
        fn primary(&mut self) -> Result<bool, String> {
            let Some(first) = self.peek().map(str::to_string) else {
                return Err("argument expected".into());
            };
            // A binary operator next: a comparison.
            if let Some(op) = self.a.get(self.i + 1).map(String::as_str)
                && let Some(right) = self.a.get(self.i + 2)
                && is_binary(op)
            {
                let op = op.to_string();
                let right = right.clone();
                self.i += 3;
                return compare(&first, &op, &right);
            }
            if first == "(" && self.a.len() > self.i + 1 {
                self.i += 1;
                let v = self.or()?;
                if self.peek() != Some(")") {
                    return Err("`)' expected".into());
                }
                self.i += 1;
                return Ok(v);
            }
            if first.len() == 2
                && first.starts_with('-')
                && let Some(operand) = self.a.get(self.i + 1)
            {
                let operand = operand.clone();
                self.i += 2;
                return unary(&first, &operand);
            }
            self.i += 1;
            Ok(!first.is_empty())
        }
    }
    fn is_binary(op: &str) -> bool {
        matches!(
            op,
            "=" | "==" | "!=" | "<" | ">" | "-eq" | "-ne" | "-lt" | "-le" | "-gt" | "-ge"
        )
    }
    fn compare(l: &str, op: &str, r: &str) -> Result<bool, String> {
        let int = |s: &str| -> Result<i64, String> {
            s.trim()
                .parse()
                .map_err(|_| format!("{s}: integer expression expected"))
        };
        Ok(match op {
            "=" | "==" => l == r,
            "!=" => l != r,
            "<" => l < r,
            ">" => l > r,
            _ => {
                let (a, b) = (int(l)?, int(r)?);
                match op {
                    "-eq" => a == b,
                    "-ne" => a != b,
                    "-lt" => a < b,
                    "-le" => a <= b,
                    "-gt" => a > b,
                    _ => a >= b,
                }
            }
        })
    }
    fn unary(op: &str, x: &str) -> Result<bool, String> {
        let meta = std::fs::metadata(x);
        Ok(match op {
            "-z" => x.is_empty(),
            "-n" => !x.is_empty(),
            "-e" => meta.is_ok(),
            "-f" => meta.is_ok_and(|m| m.is_file()),
            "-d" => meta.is_ok_and(|m| m.is_dir()),
            "-s" => meta.is_ok_and(|m| m.len() > 0),
            "-r" | "-w" | "-x" => meta.is_ok(),
            _ => return Err(format!("{op}: unary operator expected")),
        })
    }
    if args.is_empty() {
        return Ok(false);
    }
    let mut t = T {
        a: args,
        i: 0,
        depth: 0,
    };
    let v = t.or()?;
    if t.i < args.len() {
        return Err(format!("{}: unexpected argument", args[t.i]));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn filters_as_the_samples_use_them() {
        assert_eq!(
            filter(&w(&["tr", "-d", "\""]), "\"abc\"\n").unwrap().0,
            "abc\n"
        );
        assert_eq!(
            filter(&w(&["tr", "a-z", "A-Z"]), "abc\n").unwrap().0,
            "ABC\n"
        );
        assert_eq!(filter(&w(&["tr", "-d", "\\r"]), "a\r\n").unwrap().0, "a\n");
        assert_eq!(filter(&w(&["head", "-n", "1"]), "a\nb\n").unwrap().0, "a\n");
        assert_eq!(filter(&w(&["head", "-1"]), "a\nb\n").unwrap().0, "a\n");
        assert_eq!(filter(&w(&["tail", "-n", "1"]), "a\nb\n").unwrap().0, "b\n");
        assert_eq!(
            filter(&w(&["grep", "b"]), "ab\ncd\nbb\n").unwrap(),
            ("ab\nbb\n".into(), true)
        );
        assert_eq!(
            filter(&w(&["grep", "-c", "^b"]), "ab\nbb\n").unwrap().0,
            "1\n"
        );
        assert_eq!(filter(&w(&["grep", "-v", "x"]), "x\ny\n").unwrap().0, "y\n");
        assert!(!filter(&w(&["grep", "-q", "z"]), "x\n").unwrap().1);
        assert_eq!(
            filter(&w(&["grep", "-i", "A.C$"]), "xabc\nabcd\n")
                .unwrap()
                .0,
            "xabc\n"
        );
        assert_eq!(
            filter(&w(&["grep", "-E", "ab+c"]), "abbc\nac\n").unwrap().0,
            "abbc\n"
        );
        assert_eq!(filter(&w(&["wc", "-l"]), "a\nb\n").unwrap().0, "2\n");
        assert_eq!(
            filter(&w(&["cut", "-d", "/", "-f", "3"]), "/s/sub/rg\n")
                .unwrap()
                .0,
            "sub\n"
        );
        assert_eq!(
            filter(&w(&["sort", "-r"]), "a\nc\nb\n").unwrap().0,
            "c\nb\na\n"
        );
        assert!(filter(&w(&["az", "x"]), "").is_err());
        assert!(filter(&[], "x").is_err());
        assert!(filter(&w(&["grep", "-Z", "x"]), "").is_err());
        assert!(filter(&w(&["head", "-n"]), "").is_err());
    }

    #[test]
    fn printf_as_bash() {
        assert_eq!(printf(&w(&["%s-%d\\n", "a", "42"])).unwrap(), "a-42\n");
        assert_eq!(printf(&w(&["%s\\n", "a", "b"])).unwrap(), "a\nb\n");
        assert_eq!(
            printf(&w(&["[%5s|%-3s|%03d]", "ab", "c", "7"])).unwrap(),
            "[   ab|c  |007]"
        );
        assert_eq!(printf(&w(&["%d%%", "5"])).unwrap(), "5%");
        assert_eq!(printf(&w(&["%.2f", "3.14159"])).unwrap(), "3.14");
        assert!(printf(&w(&["%d", "x"])).is_err());
        assert!(printf(&w(&["%"])).is_err());
        assert!(printf(&[]).is_err());
        assert!(printf(&w(&["%99999999999d", "1"])).is_err());
        assert!(printf(&w(&["%.99999999f", "1"])).is_err());
        let many: Vec<String> = std::iter::once("x".repeat(4096) + "%s")
            .chain((0..10_000).map(|_| "a".to_string()))
            .collect();
        assert!(printf(&many).unwrap_err().contains("longer than"));
        // Backtracking is bounded: an error, not a hang.
        let line = "a".repeat(3000) + "\n";
        assert!(filter(&w(&["grep", "a*a*a*a*a*a*a*a*c"]), &line.repeat(10)).is_err());
    }

    #[test]
    fn expr_and_test() {
        assert_eq!(
            expr(&w(&["1", "+", "2", "*", "3"])).unwrap(),
            ("7\n".into(), true)
        );
        assert_eq!(expr(&w(&["5", "-", "5"])).unwrap(), ("0\n".into(), false));
        assert_eq!(expr(&w(&["length", "abcd"])).unwrap().0, "4\n");
        assert!(expr(&w(&["1", "/", "0"])).is_err());
        assert!(expr(&w(&["a", "+", "1"])).is_err());
        assert!(expr(&w(&["1", "+"])).is_err());
        assert!(test(&w(&["-z", ""])).unwrap());
        assert!(test(&w(&["-n", "x"])).unwrap());
        assert!(test(&w(&["a", "=", "a"])).unwrap());
        assert!(test(&w(&["a", "!=", "a"])).is_ok_and(|v| !v));
        assert!(test(&w(&["3", "-gt", "2", "-a", "!", "-z", "q"])).unwrap());
        assert!(test(&w(&["x", "-eq", "1"])).is_err());
        assert!(!test(&[]).unwrap());
        assert!(test(&w(&["-z"])).unwrap());
    }
}
