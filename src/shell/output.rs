//! `--query` (JMESPath) and `-o json|jsonc|tsv|table|none`, shaped like the Azure CLI's.

use serde_json::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    Json,
    /// One compact JSON value a line (each element of an array); `sim audit list`'s default.
    JsonLines,
    Tsv,
    Table,
    None,
}

impl OutputFormat {
    pub fn parse(text: &str) -> Option<OutputFormat> {
        match text {
            "json" | "jsonc" | "yaml" | "yamlc" => Some(OutputFormat::Json),
            "jsonl" => Some(OutputFormat::JsonLines),
            "tsv" => Some(OutputFormat::Tsv),
            "table" => Some(OutputFormat::Table),
            "none" => Some(OutputFormat::None),
            _ => None,
        }
    }
}

/// The deepest bracket nesting a `--query` may have.
pub const MAX_QUERY_DEPTH: usize = 64;

/// Applies a JMESPath expression.
pub fn query(value: &Value, expr: &str) -> Result<Value, String> {
    // The jmespath parser recurses per bracket: refuse what would overflow the stack.
    let mut depth = 0usize;
    let mut deepest = 0usize;
    for c in expr.chars() {
        match c {
            '(' | '[' | '{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    if deepest > MAX_QUERY_DEPTH || expr.len() > 10_000 {
        return Err(format!(
            "argument --query: invalid jmespath_type value: the expression nests deeper than {MAX_QUERY_DEPTH} or is longer than 10000 characters"
        ));
    }
    let compiled = jmespath::compile(expr)
        .map_err(|e| format!("argument --query: invalid jmespath_type value: '{expr}' ({e})"))?;
    if !slices_in_range(compiled.as_ast()) {
        return Err(format!(
            "argument --query: invalid jmespath_type value: '{expr}' (slice bounds and steps must be within ±{MAX_SLICE})"
        ));
    }
    let data = jmespath::Variable::from_json(&value.to_string()).map_err(|e| e.to_string())?;
    let result = compiled.search(data).map_err(|e| e.to_string())?;
    serde_json::to_value(&*result).map_err(|e| e.to_string())
}

/// The largest slice bound or step a query may use: the jmespath crate adds start and step
/// as 32-bit numbers, so larger ones would overflow inside it.
const MAX_SLICE: i32 = 1 << 29;

/// Whether every slice of the expression has bounds and step the evaluator handles.
fn slices_in_range(ast: &jmespath::ast::Ast) -> bool {
    use jmespath::ast::Ast;
    let ok = |n: i32| (-MAX_SLICE..=MAX_SLICE).contains(&n);
    match ast {
        Ast::Slice {
            start, stop, step, ..
        } => start.is_none_or(ok) && stop.is_none_or(ok) && ok(*step),
        Ast::Comparison { lhs, rhs, .. }
        | Ast::Projection { lhs, rhs, .. }
        | Ast::And { lhs, rhs, .. }
        | Ast::Or { lhs, rhs, .. }
        | Ast::Subexpr { lhs, rhs, .. } => slices_in_range(lhs) && slices_in_range(rhs),
        Ast::Condition {
            predicate, then, ..
        } => slices_in_range(predicate) && slices_in_range(then),
        Ast::Expref { ast, .. } => slices_in_range(ast),
        Ast::Flatten { node, .. } | Ast::Not { node, .. } | Ast::ObjectValues { node, .. } => {
            slices_in_range(node)
        }
        Ast::Function { args, .. } => args.iter().all(slices_in_range),
        Ast::MultiList { elements, .. } => elements.iter().all(slices_in_range),
        Ast::MultiHash { elements, .. } => elements.iter().all(|kv| slices_in_range(&kv.value)),
        Ast::Identity { .. } | Ast::Field { .. } | Ast::Index { .. } | Ast::Literal { .. } => true,
    }
}

/// Renders a result the way `az` prints it (with a final newline unless empty).
pub fn render(value: &Value, format: OutputFormat) -> String {
    match format {
        OutputFormat::None => String::new(),
        OutputFormat::Json => {
            if value.is_null() {
                return String::new();
            }
            let mut s = serde_json::to_string_pretty(value).unwrap_or_default();
            s.push('\n');
            s
        }
        OutputFormat::JsonLines => match value {
            Value::Array(items) => items.iter().map(|v| format!("{v}\n")).collect(),
            Value::Null => String::new(),
            v => format!("{v}\n"),
        },
        OutputFormat::Tsv => tsv(value),
        OutputFormat::Table => table(value),
    }
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => Some(String::new()),
        Value::Bool(b) => Some(if *b { "True".into() } else { "False".into() }),
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

fn tsv_row(v: &Value) -> String {
    match v {
        Value::Object(map) => map
            .values()
            .filter_map(scalar_text)
            .collect::<Vec<_>>()
            .join("\t"),
        Value::Array(items) => items
            .iter()
            .filter_map(scalar_text)
            .collect::<Vec<_>>()
            .join("\t"),
        other => scalar_text(other).unwrap_or_default(),
    }
}

fn tsv(value: &Value) -> String {
    let rows: Vec<String> = match value {
        Value::Null => return String::new(),
        // az prints nothing for an empty list.
        Value::Array(items) if items.is_empty() => return String::new(),
        Value::Array(items) => items.iter().map(tsv_row).collect(),
        other => vec![tsv_row(other)],
    };
    let mut s = rows.join("\n");
    s.push('\n');
    s
}

fn table(value: &Value) -> String {
    let items: Vec<&Value> = match value {
        Value::Null => return String::new(),
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    let mut columns: Vec<String> = Vec::new();
    for item in &items {
        match item {
            Value::Object(map) => {
                for (k, v) in map {
                    if scalar_text(v).is_some() && k != "id" && !columns.contains(k) {
                        columns.push(k.clone());
                    }
                }
            }
            _ => {
                if !columns.iter().any(|c| c == "Result") {
                    columns.push("Result".into());
                }
            }
        }
    }
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|item| {
            columns
                .iter()
                .map(|c| match item {
                    Value::Object(map) => map.get(c).and_then(scalar_text).unwrap_or_default(),
                    other => scalar_text(other).unwrap_or_default(),
                })
                .collect()
        })
        .collect();
    let headers: Vec<String> = columns.iter().map(|c| header(c)).collect();
    let widths: Vec<usize> = (0..columns.len())
        .map(|i| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([headers[i].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[String]| {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    let mut out = vec![
        line(&headers),
        widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .join("  "),
    ];
    out.extend(rows.iter().map(|r| line(r)));
    out.join("\n") + "\n"
}

/// `resourceGroup` -> `ResourceGroup`, as az table headers read.
fn header(key: &str) -> String {
    let mut c = key.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn query_and_formats() {
        let v = json!([{"name": "a", "n": 1, "x": {"y": 2}}, {"name": "b", "n": 2, "x": {"y": 3}}]);
        assert_eq!(query(&v, "[].x.y").unwrap(), json!([2, 3]));
        assert_eq!(
            render(&query(&v, "[0].name").unwrap(), OutputFormat::Tsv),
            "a\n"
        );
        assert_eq!(render(&v, OutputFormat::Tsv), "1\ta\n2\tb\n");
        let t = render(&v, OutputFormat::Table);
        assert!(t.starts_with("N  Name\n"), "{t}");
        assert!(query(&v, "[?").is_err());
        assert_eq!(render(&Value::Null, OutputFormat::Json), "");
    }
}
