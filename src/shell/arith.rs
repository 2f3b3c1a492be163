//! Bash integer arithmetic, for `let` and `$(( … ))`: 64-bit integers that wrap as bash's
//! do, `+ - * / % **`, comparisons, `! ~ & | ^ << >> && ||`, parentheses, and assignments
//! (`=`, `+=`, `-=`, `*=`, `/=`, `%=`). Variables are read by name, with or without `$`.

/// Where variables are read and written.
pub trait Env {
    /// The variable's text (empty when unset).
    fn get(&mut self, name: &str) -> String;
    fn set(&mut self, name: &str, value: String);
}

/// How deeply parentheses and variables holding expressions may nest.
const MAX_DEPTH: usize = 64;

/// The most tokens an expression may have (the parser recurses on unary operators).
const MAX_TOKENS: usize = 2048;

/// Evaluates `expr`; errors read like bash's (`1/0: division by 0 (error token is "0")`).
pub fn eval(expr: &str, env: &mut dyn Env) -> Result<i64, String> {
    eval_at(expr, env, 0)
}

fn eval_at(expr: &str, env: &mut dyn Env, depth: usize) -> Result<i64, String> {
    if depth > MAX_DEPTH {
        return Err(format!(
            "{}: expression recursion level exceeded",
            expr.trim()
        ));
    }
    let tokens = tokenize(expr)?;
    if tokens.len() > MAX_TOKENS {
        return Err(format!(
            "{}...: expression longer than {MAX_TOKENS} tokens",
            expr.trim().chars().take(40).collect::<String>()
        ));
    }
    if tokens.is_empty() {
        return Ok(0);
    }
    let mut p = Parser {
        expr,
        tokens,
        pos: 0,
        env,
        depth,
    };
    let v = p.assignment()?;
    if p.pos < p.tokens.len() {
        return Err(p.error_at(p.pos, "syntax error in expression"));
    }
    Ok(v)
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Num(i64),
    Name(String),
    Op(&'static str),
}

const OPS: [&str; 30] = [
    "**=", "<<=", ">>=", "**", "<<", ">>", "<=", ">=", "==", "!=", "&&", "||", "+=", "-=", "*=",
    "/=", "%=", "+", "-", "*", "/", "%", "<", ">", "!", "~", "&", "|", "^", "=",
];

/// The tokens and, for each, the text from it to the end (bash's "error token").
fn tokenize(expr: &str) -> Result<Vec<(Tok, usize)>, String> {
    let b = expr.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        if c.is_ascii_digit() {
            while i < b.len() && b[i].is_ascii_alphanumeric() {
                i += 1;
            }
            let text = &expr[start..i];
            out.push((Tok::Num(number(text)?), start));
            continue;
        }
        if c == b'$' || c.is_ascii_alphabetic() || c == b'_' {
            let braced = c == b'$' && b.get(i + 1) == Some(&b'{');
            i += if braced { 2 } else { usize::from(c == b'$') };
            let name_start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            if name_start == i {
                return Err(format!(
                    "{}: syntax error: operand expected (error token is \"{}\")",
                    expr.trim(),
                    &expr[start..].trim()
                ));
            }
            let name = expr[name_start..i].to_string();
            if braced {
                if b.get(i) != Some(&b'}') {
                    return Err(format!("{}: bad substitution", expr.trim()));
                }
                i += 1;
            }
            out.push((Tok::Name(name), start));
            continue;
        }
        if c == b'(' || c == b')' {
            out.push((Tok::Op(if c == b'(' { "(" } else { ")" }), start));
            i += 1;
            continue;
        }
        match OPS.iter().find(|op| expr[i..].starts_with(**op)) {
            Some(op) => {
                out.push((Tok::Op(op), start));
                i += op.len();
            }
            None => {
                return Err(format!(
                    "{}: syntax error: invalid arithmetic operator (error token is \"{}\")",
                    expr.trim(),
                    expr[start..].trim()
                ));
            }
        }
    }
    Ok(out)
}

/// A bash integer constant: decimal, `0x` hex, `0` octal or `base#digits`; wraps on overflow.
fn number(text: &str) -> Result<i64, String> {
    let too_great = || format!("{text}: value too great for base (error token is \"{text}\")");
    let (base, digits) =
        if let Some(h) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
            (16, h)
        } else if text.len() > 1 && text.starts_with('0') {
            (8, &text[1..])
        } else {
            (10, text)
        };
    let mut v: i64 = 0;
    for ch in digits.chars() {
        let d = ch.to_digit(base).ok_or_else(too_great)?;
        v = v.wrapping_mul(i64::from(base)).wrapping_add(i64::from(d));
    }
    Ok(v)
}

struct Parser<'a> {
    expr: &'a str,
    tokens: Vec<(Tok, usize)>,
    pos: usize,
    env: &'a mut dyn Env,
    depth: usize,
}

impl Parser<'_> {
    fn error_at(&self, pos: usize, what: &str) -> String {
        let token = self
            .tokens
            .get(pos)
            .map(|(_, at)| self.expr[*at..].trim())
            .unwrap_or("");
        format!("{}: {what} (error token is \"{token}\")", self.expr.trim())
    }

    fn peek_op(&self) -> Option<&'static str> {
        match self.tokens.get(self.pos) {
            Some((Tok::Op(op), _)) => Some(op),
            _ => None,
        }
    }

    fn assignment(&mut self) -> Result<i64, String> {
        if let (Some((Tok::Name(name), _)), Some((Tok::Op(op), _))) =
            (self.tokens.get(self.pos), self.tokens.get(self.pos + 1))
        {
            let op: &'static str = op;
            if let Some(kind) = op
                .strip_suffix('=')
                .filter(|_| !matches!(op, "==" | "!=" | "<=" | ">="))
            {
                let name = name.clone();
                let at = self.pos + 1;
                self.pos += 2;
                let rhs = self.assignment()?;
                let v = if kind.is_empty() {
                    rhs
                } else {
                    let lhs = self.value_of(&name)?;
                    self.binary(kind, lhs, rhs, at)?
                };
                self.env.set(&name, v.to_string());
                return Ok(v);
            }
        }
        self.binary_level(0)
    }

    fn value_of(&mut self, name: &str) -> Result<i64, String> {
        let text = self.env.get(name);
        let t = text.trim();
        if t.is_empty() {
            return Ok(0);
        }
        if let Ok(v) = t.parse::<i64>() {
            return Ok(v);
        }
        // A variable holding an expression is evaluated, as bash does.
        eval_at(t, self.env, self.depth + 1)
    }

    /// Binary operators by precedence, lowest first.
    fn binary_level(&mut self, level: usize) -> Result<i64, String> {
        const LEVELS: [&[&str]; 10] = [
            &["||"],
            &["&&"],
            &["|"],
            &["^"],
            &["&"],
            &["==", "!="],
            &["<", ">", "<=", ">="],
            &["<<", ">>"],
            &["+", "-"],
            &["*", "/", "%"],
        ];
        if level >= LEVELS.len() {
            return self.power();
        }
        let mut lhs = self.binary_level(level + 1)?;
        while let Some(op) = self.peek_op().filter(|op| LEVELS[level].contains(op)) {
            let at = self.pos;
            self.pos += 1;
            let rhs = self.binary_level(level + 1)?;
            lhs = self.binary(op, lhs, rhs, at)?;
        }
        Ok(lhs)
    }

    fn power(&mut self) -> Result<i64, String> {
        let base = self.unary()?;
        if self.peek_op() == Some("**") {
            let at = self.pos;
            self.pos += 1;
            let exp = self.power()?;
            return self.binary("**", base, exp, at);
        }
        Ok(base)
    }

    fn binary(&self, op: &str, a: i64, b: i64, at: usize) -> Result<i64, String> {
        let zero = || {
            let token = self
                .tokens
                .get(at + 1)
                .map(|(_, p)| self.expr[*p..].trim())
                .unwrap_or("");
            format!(
                "{}: division by 0 (error token is \"{token}\")",
                self.expr.trim()
            )
        };
        Ok(match op {
            "+" => a.wrapping_add(b),
            "-" => a.wrapping_sub(b),
            "*" => a.wrapping_mul(b),
            "/" if b == 0 => return Err(zero()),
            "%" if b == 0 => return Err(zero()),
            "/" => a.wrapping_div(b),
            "%" => a.wrapping_rem(b),
            "**" if b < 0 => return Err(self.error_at(at, "exponent less than 0")),
            "**" => {
                let mut r: i64 = 1;
                let mut base = a;
                let mut e = b as u64;
                while e > 0 {
                    if e & 1 == 1 {
                        r = r.wrapping_mul(base);
                    }
                    base = base.wrapping_mul(base);
                    e >>= 1;
                }
                r
            }
            "<<" => a.wrapping_shl((b & 63) as u32),
            ">>" => a.wrapping_shr((b & 63) as u32),
            "<" => i64::from(a < b),
            ">" => i64::from(a > b),
            "<=" => i64::from(a <= b),
            ">=" => i64::from(a >= b),
            "==" => i64::from(a == b),
            "!=" => i64::from(a != b),
            "&" => a & b,
            "|" => a | b,
            "^" => a ^ b,
            "&&" => i64::from(a != 0 && b != 0),
            "||" => i64::from(a != 0 || b != 0),
            _ => return Err(self.error_at(at, "syntax error in expression")),
        })
    }

    fn unary(&mut self) -> Result<i64, String> {
        match self.peek_op() {
            Some(op @ ("-" | "+" | "!" | "~")) => {
                self.pos += 1;
                let v = self.unary()?;
                Ok(match op {
                    "-" => v.wrapping_neg(),
                    "+" => v,
                    "!" => i64::from(v == 0),
                    _ => !v,
                })
            }
            _ => self.primary(),
        }
    }

    fn primary(&mut self) -> Result<i64, String> {
        let Some((tok, _)) = self.tokens.get(self.pos).cloned() else {
            return Err(format!(
                "{}: syntax error: operand expected (error token is \"\")",
                self.expr.trim()
            ));
        };
        match tok {
            Tok::Num(n) => {
                self.pos += 1;
                Ok(n)
            }
            Tok::Name(name) => {
                self.pos += 1;
                self.value_of(&name)
            }
            Tok::Op("(") => {
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    return Err(self.error_at(self.pos, "expression recursion level exceeded"));
                }
                self.pos += 1;
                let v = self.assignment()?;
                if self.peek_op() != Some(")") {
                    return Err(self.error_at(self.pos, "missing `)'"));
                }
                self.pos += 1;
                self.depth -= 1;
                Ok(v)
            }
            Tok::Op(_) => Err(self.error_at(self.pos, "syntax error: operand expected")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    impl Env for BTreeMap<String, String> {
        fn get(&mut self, name: &str) -> String {
            BTreeMap::get(self, name).cloned().unwrap_or_default()
        }
        fn set(&mut self, name: &str, value: String) {
            self.insert(name.to_string(), value);
        }
    }

    fn ev(s: &str) -> Result<i64, String> {
        let mut env = BTreeMap::new();
        env.insert("a".to_string(), "6".to_string());
        eval(s, &mut env)
    }

    #[test]
    fn arithmetic_like_bash() {
        assert_eq!(ev("1 + 2 * 3"), Ok(7));
        assert_eq!(ev("(1 + 2) * 3"), Ok(9));
        assert_eq!(ev("a*$a - 7 % 4"), Ok(33));
        assert_eq!(ev("-7 / 2"), Ok(-3));
        assert_eq!(ev("2**10"), Ok(1024));
        assert_eq!(ev("9223372036854775807 + 1"), Ok(i64::MIN));
        assert_eq!(ev("unset + 1"), Ok(1));
        assert_eq!(ev("010 + 0x10"), Ok(24));
        assert_eq!(
            ev("1/0"),
            Err("1/0: division by 0 (error token is \"0\")".into())
        );
        assert!(ev("1 +").is_err());
        assert!(ev("(1").is_err());
        assert!(ev("08").is_err());
        assert!(ev(&"(".repeat(10_000)).is_err());
        assert!(ev(&"-".repeat(100_000)).is_err());
        let mut env = BTreeMap::new();
        assert_eq!(eval("x = 3 * 4", &mut env), Ok(12));
        assert_eq!(eval("x += 1", &mut env), Ok(13));
        assert_eq!(env.get("x").map(String::as_str), Some("13"));
        env.insert("r".into(), "r + 1".into());
        assert!(eval("r", &mut env).is_err());
    }
}
