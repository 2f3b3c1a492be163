//! The architecture test: reads every file under `src/` and checks the layer rules of
//! `docs/architecture.md` against the code, the way ripgrep keeps a test next to each flag.
//!
//! It finds every path a file names (`use crate::…`, `super::…`, `self::…`, and paths in
//! expressions such as `crate::service::sql::server(ws, n)`, grouped `{…}` included), with
//! comments and string literals left out, and resolves each to the file that defines it. Then
//! it fails, printing each offending arrow with `file:line`, on:
//! - a forbidden arrow between layers ([`FORBIDDEN`]);
//! - shared mutable state inside `src/model` (`Arc<Mutex`, `RwLock`, `Cell`, atomics): the
//!   model is plain values, so a clone or a snapshot never shares a mutable cell;
//! - any import cycle among the files of `src/service` ([`MAX_SERVICE_CYCLE`]), printing the
//!   files and the arrows.
//!
//! `service/mod.rs` (the root: `transact`, `ServiceError`, the Activity Log helpers) is not a
//! node of the service graph: every operation goes through `transact`, which lets `behaviour`
//! react after it, and that is the one sanctioned arrow back up.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The largest import cycle allowed among the files of `src/service`: none (a "cycle" of one
/// file is the file itself). Issue 25 asked for at most 3; the cycle was 18 files, then 14
/// with Synapse, and went to none when key access became tier 1 (`key_access.rs`,
/// `keyvault/data_plane.rs`), the geo-replication key rules and the vault lookups tier 0,
/// server keys a module of their own and the waiting failover tier 3. The tier test below
/// ([`tiers_import_only_downward`]) keeps it so; this one prints the cycle if it comes back.
const MAX_SERVICE_CYCLE: usize = 1;

/// `(from layer, to layer, why)`: a file in `from` may not name anything in `to`.
const FORBIDDEN: &[(&str, &str, &str)] = &[
    (
        "persist",
        "service",
        "persist reads and writes workspaces; the caller runs operations",
    ),
    (
        "shell",
        "vault_endpoint",
        "two clients side by side share lower modules, not each other",
    ),
    (
        "vault_endpoint",
        "shell",
        "two clients side by side share lower modules, not each other",
    ),
    ("service", "shell", "the operations layer knows no client"),
    ("service", "ui", "the operations layer knows no client"),
    (
        "service",
        "vault_endpoint",
        "the operations layer knows no client",
    ),
    (
        "service",
        "arm_endpoint",
        "the operations layer knows no client",
    ),
    (
        "service",
        "scenario",
        "the operations layer knows no client",
    ),
    (
        "model",
        "service",
        "the model is data below the operations layer",
    ),
    ("model", "shell", "the model is data below every client"),
    ("model", "ui", "the model is data below every client"),
    (
        "model",
        "persist",
        "the model is data: files are persist's job",
    ),
    (
        "model",
        "vault_endpoint",
        "the model is data below every client",
    ),
    (
        "model",
        "arm_endpoint",
        "the model is data below every client",
    ),
    ("model", "scenario", "the model is data below every client"),
    ("crypto", "model", "crypto is the bottom layer"),
    ("crypto", "service", "crypto is the bottom layer"),
    ("crypto", "persist", "crypto is the bottom layer"),
    ("crypto", "shell", "crypto is the bottom layer"),
    ("crypto", "ui", "crypto is the bottom layer"),
    ("crypto", "vault_endpoint", "crypto is the bottom layer"),
    ("crypto", "arm_endpoint", "crypto is the bottom layer"),
    ("crypto", "scenario", "crypto is the bottom layer"),
    ("crypto", "sim", "crypto is the bottom layer"),
    ("sim", "model", "sim (time) is the bottom layer"),
    ("sim", "service", "sim (time) is the bottom layer"),
    ("sim", "persist", "sim (time) is the bottom layer"),
    ("sim", "shell", "sim (time) is the bottom layer"),
    ("sim", "ui", "sim (time) is the bottom layer"),
    ("sim", "vault_endpoint", "sim (time) is the bottom layer"),
    ("sim", "arm_endpoint", "sim (time) is the bottom layer"),
    ("sim", "scenario", "sim (time) is the bottom layer"),
    ("sim", "crypto", "sim (time) is the bottom layer"),
    (
        "service",
        "webhook_delivery",
        "the operations layer appends to the outbox; the clients send it after the commit",
    ),
    (
        "service",
        "webhook_receiver",
        "the operations layer knows no network endpoint",
    ),
    (
        "model",
        "webhook_delivery",
        "the model is data below every client",
    ),
    (
        "model",
        "webhook_receiver",
        "the model is data below every client",
    ),
];

/// Crates and `std::net` sockets that reach the network (addresses such as `Ipv4Addr` are
/// arithmetic and allowed). No file under `src/service` or
/// `src/model` may name one ([`no_network_in_the_service_or_the_model`]): an operation may
/// be rolled back, and a request it sent cannot be. Webhooks wait in the workspace's outbox
/// and the clients send them after the commit (`src/webhook_delivery.rs`).
const NETWORK: &[&str] = &[
    "ureq",
    "reqwest",
    "hyper",
    "hyper_util",
    "isahc",
    "attohttpc",
    "minreq",
    "curl",
    "tungstenite",
    "tokio",
    "mio",
    "socket2",
    "rustls",
    "TcpStream",
    "TcpListener",
    "UdpSocket",
    "ToSocketAddrs",
];

/// Shared mutable state the model may not hold (see the module doc).
const SHARED_STATE: &[&str] = &[
    "Arc<Mutex",
    "Arc<RwLock",
    "RwLock<",
    "Cell<",
    "Atomic",
    "Rc<",
];

/// `(file, text on the line)`: the explicit exceptions, each with its reason.
const SHARED_STATE_ALLOWED: &[(&str, &str)] = &[
    // A process-wide counter that hands out revision stamps (views cache by revision); no
    // workspace holds it, so no clone or snapshot shares it.
    ("model/workspace.rs", "static NEXT_REVISION"),
];

/// One source file: its module path (`["service", "sql"]`), its text with comments and
/// string literals blanked (same length, same lines) and the items it defines at top level.
struct SourceFile {
    rel: String,
    module: Vec<String>,
    code: String,
    items: BTreeSet<String>,
}

/// A path a file names, resolved to the module (file) that defines it.
struct Arrow {
    from: usize,
    line: usize,
    target: Vec<String>,
    text: String,
}

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// The module path of a file: `service/keyvault/mod.rs` is `service::keyvault`,
/// `lib.rs` and `main.rs` are the crate root.
fn module_of(rel: &str) -> Vec<String> {
    let rel = rel.trim_end_matches(".rs");
    let mut parts: Vec<String> = rel.split('/').map(str::to_string).collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// Blanks comments, string and char literals (keeping newlines and byte lengths).
fn strip(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = b.to_vec();
    let blank = |out: &mut Vec<u8>, from: usize, to: usize| {
        for c in out.iter_mut().take(to.min(b.len())).skip(from) {
            if *c != b'\n' {
                *c = b' ';
            }
        }
    };
    let mut i = 0;
    while i < b.len() {
        if b[i..].starts_with(b"//") {
            let end = b[i..]
                .iter()
                .position(|&c| c == b'\n')
                .map_or(b.len(), |p| i + p);
            blank(&mut out, i, end);
            i = end;
        } else if b[i..].starts_with(b"/*") {
            let mut depth = 0;
            let mut j = i;
            while j < b.len() {
                if b[j..].starts_with(b"/*") {
                    depth += 1;
                    j += 2;
                } else if b[j..].starts_with(b"*/") {
                    depth -= 1;
                    j += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    j += 1;
                }
            }
            blank(&mut out, i, j);
            i = j;
        } else if b[i] == b'r'
            && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_'))
            && b.get(i + 1).is_some_and(|&c| c == b'"' || c == b'#')
        {
            // Raw string r"…" or r#"…"#.
            let mut j = i + 1;
            let mut hashes = 0;
            while b.get(j) == Some(&b'#') {
                hashes += 1;
                j += 1;
            }
            if b.get(j) != Some(&b'"') {
                i += 1;
                continue;
            }
            let mut close = vec![b'"'];
            close.extend(std::iter::repeat_n(b'#', hashes));
            let end = b[j + 1..]
                .windows(close.len())
                .position(|w| w == close.as_slice())
                .map_or(b.len(), |p| j + 1 + p + close.len());
            blank(&mut out, i, end);
            i = end;
        } else if b[i] == b'"' {
            let mut j = i + 1;
            while j < b.len() && b[j] != b'"' {
                if b[j] == b'\\' {
                    j += 1;
                }
                j += 1;
            }
            blank(&mut out, i, j + 1);
            i = j + 1;
        } else if b[i] == b'\'' {
            // A char literal ('x', '\n', '\u{..}', '"'), or a lifetime ('a): skip literals only.
            if b.get(i + 1) == Some(&b'\\') {
                let end = b[i + 2..]
                    .iter()
                    .position(|&c| c == b'\'')
                    .map_or(b.len(), |p| i + 2 + p + 1);
                blank(&mut out, i, end);
                i = end;
            } else {
                // One (possibly multi-byte) char then a quote.
                let ch_len = text[i + 1..].chars().next().map_or(1, char::len_utf8);
                if b.get(i + 1 + ch_len) == Some(&b'\'') {
                    blank(&mut out, i, i + 2 + ch_len);
                    i += 2 + ch_len;
                } else {
                    i += 1;
                }
            }
        } else {
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Blanks inline `#[cfg(test)] mod … { … }` blocks: tests may set up with any module.
fn without_test_modules(code: &str) -> String {
    let mut out = code.as_bytes().to_vec();
    let mut from = 0;
    while let Some(p) = code[from..].find("#[cfg(test)]") {
        let start = from + p;
        from = start + 1;
        let rest = code[start + "#[cfg(test)]".len()..].trim_start();
        if !rest.starts_with("mod ") {
            continue;
        }
        let Some(open) = code[start..].find(['{', ';']).map(|o| start + o) else {
            break;
        };
        if code.as_bytes()[open] == b';' {
            continue;
        }
        let mut depth = 0usize;
        let mut end = code.len();
        for (k, c) in code.bytes().enumerate().skip(open) {
            match c {
                b'{' => depth += 1,
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = k + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        for c in out.iter_mut().take(end).skip(start) {
            if *c != b'\n' {
                *c = b' ';
            }
        }
        from = end;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// Names a file defines (functions, types, constants, statics, modules; at the start of a
/// line, public or not): what a path into this module can end in. Re-exports are not
/// definitions: a name a directory module re-exports resolves to the child defining it.
fn top_items(code: &str) -> BTreeSet<String> {
    let mut items = BTreeSet::new();
    for line in code.lines() {
        let t = line.trim_start();
        let t = t
            .strip_prefix("pub(crate) ")
            .or_else(|| t.strip_prefix("pub(super) "))
            .or_else(|| t.strip_prefix("pub "))
            .unwrap_or(t);
        let t = t.strip_prefix("async ").unwrap_or(t);
        for kw in [
            "fn ", "struct ", "enum ", "const ", "static ", "type ", "trait ", "mod ",
        ] {
            if let Some(rest) = t.strip_prefix(kw) {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    items.insert(name);
                }
            }
        }
    }
    items
}

/// Reads one path (use tree) starting at `i` (just after `prefix::`): the segment lists it
/// names, grouped `{a, b::c}` expanded.
fn use_tree(b: &[u8], mut i: usize, depth: usize) -> (Vec<Vec<String>>, usize) {
    let skip_ws = |i: &mut usize| {
        while *i < b.len() && b[*i].is_ascii_whitespace() {
            *i += 1;
        }
    };
    let mut segs: Vec<String> = Vec::new();
    loop {
        skip_ws(&mut i);
        if i < b.len() && b[i] == b'{' && depth < 8 {
            i += 1;
            let mut all = Vec::new();
            loop {
                skip_ws(&mut i);
                if i >= b.len() || b[i] == b'}' {
                    i += 1;
                    break;
                }
                if b[i] == b',' {
                    i += 1;
                    continue;
                }
                let (sub, next) = use_tree(b, i, depth + 1);
                for s in sub {
                    let mut p = segs.clone();
                    p.extend(s);
                    all.push(p);
                }
                if next == i {
                    i += 1;
                } else {
                    i = next;
                }
                // Skip `as alias` and anything else up to the next separator.
                while i < b.len() && b[i] != b',' && b[i] != b'}' {
                    i += 1;
                }
            }
            return (all, i);
        }
        let start = i;
        while i < b.len() && is_ident(b[i]) {
            i += 1;
        }
        if i == start {
            break;
        }
        segs.push(String::from_utf8_lossy(&b[start..i]).into_owned());
        if b[i..].starts_with(b"::") {
            i += 2;
        } else {
            break;
        }
    }
    (vec![segs], i)
}

fn load() -> Vec<SourceFile> {
    let root = src_dir();
    let mut paths = Vec::new();
    rust_files(&root, &mut paths);
    paths
        .into_iter()
        .filter_map(|p| {
            let rel = p
                .strip_prefix(&root)
                .ok()?
                .to_string_lossy()
                .replace('\\', "/");
            let text = std::fs::read_to_string(&p).ok()?;
            let code = without_test_modules(&strip(&text));
            Some(SourceFile {
                module: module_of(&rel),
                items: top_items(&code),
                rel,
                code,
            })
        })
        .collect()
}

/// Every path each file names, resolved to the file that defines its target.
fn arrows(files: &[SourceFile]) -> Vec<Arrow> {
    let by_module: BTreeMap<&[String], usize> = files
        .iter()
        .enumerate()
        .filter(|(_, f)| f.rel != "main.rs")
        .map(|(i, f)| (f.module.as_slice(), i))
        .collect();
    let mut out = Vec::new();
    for (fi, f) in files.iter().enumerate() {
        let b = f.code.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if !is_ident(b[i]) || (i > 0 && (is_ident(b[i - 1]) || b[i - 1] == b'$')) {
                i += 1;
                continue;
            }
            let word_end = (i..b.len()).find(|&j| !is_ident(b[j])).unwrap_or(b.len());
            let word = &f.code[i..word_end];
            let preceded_by_path = i >= 2 && &b[i - 2..i] == b"::";
            let base: Option<Vec<String>> = match word {
                _ if preceded_by_path => None,
                "crate" | "tde_console" => Some(Vec::new()),
                "super" | "self" => {
                    // super::super::x, self::x
                    let mut m = f.module.clone();
                    // A file's own module is `module`; `super` is its parent.
                    let mut j = i;
                    let mut ok = true;
                    loop {
                        let w_end = (j..b.len()).find(|&k| !is_ident(b[k])).unwrap_or(b.len());
                        match &f.code[j..w_end] {
                            "super" => {
                                if m.pop().is_none() {
                                    ok = false;
                                }
                            }
                            "self" => {}
                            _ => break,
                        }
                        if b[w_end..].starts_with(b"::") {
                            j = w_end + 2;
                        } else {
                            ok = false;
                            break;
                        }
                    }
                    if ok {
                        // Re-point `i` so the tree is read after the last super/self.
                        let line = f.code[..i].matches('\n').count() + 1;
                        let (trees, next) = use_tree(b, j, 0);
                        for t in trees {
                            let mut full = m.clone();
                            full.extend(t);
                            push_arrow(&mut out, files, &by_module, fi, line, full);
                        }
                        i = next.max(i + 1);
                        continue;
                    }
                    None
                }
                _ => None,
            };
            if let Some(base) = base
                && b[word_end..].starts_with(b"::")
            {
                let line = f.code[..i].matches('\n').count() + 1;
                let (trees, next) = use_tree(b, word_end + 2, 0);
                for t in trees {
                    let mut full = base.clone();
                    full.extend(t);
                    push_arrow(&mut out, files, &by_module, fi, line, full);
                }
                i = next.max(word_end);
                continue;
            }
            i = word_end;
        }
    }
    out
}

/// Resolves `path` to the longest module prefix that is a file; a name under a directory
/// module that re-exports it (`pub use keys::*`) resolves to the child file defining it.
fn push_arrow(
    out: &mut Vec<Arrow>,
    files: &[SourceFile],
    by_module: &BTreeMap<&[String], usize>,
    from: usize,
    line: usize,
    path: Vec<String>,
) {
    let text = path.join("::");
    let mut n = path.len();
    while n > 0 && !by_module.contains_key(&path[..n]) {
        n -= 1;
    }
    let mut target = path[..n].to_vec();
    if let (Some(&m), Some(name)) = (by_module.get(&path[..n]), path.get(n))
        && !files[m].items.contains(name)
        && let Some(child) = files.iter().find(|c| {
            c.module.len() == n + 1 && c.module[..n] == path[..n] && c.items.contains(name)
        })
    {
        target = child.module.clone();
    }
    out.push(Arrow {
        from,
        line,
        target,
        text,
    });
}

fn layer(module: &[String]) -> &str {
    module.first().map_or("", String::as_str)
}

#[test]
fn no_forbidden_arrow_between_layers() {
    let files = load();
    assert!(
        files.len() > 50,
        "found only {} files under src/",
        files.len()
    );
    let mut bad = Vec::new();
    for a in arrows(&files) {
        let from = &files[a.from];
        let (fl, tl) = (layer(&from.module), layer(&a.target));
        if let Some((_, _, why)) = FORBIDDEN.iter().find(|(f, t, _)| *f == fl && *t == tl) {
            bad.push(format!(
                "src/{}:{}: {fl} -> {tl} (`{}`): {why}",
                from.rel, a.line, a.text
            ));
        }
    }
    bad.dedup();
    assert!(
        bad.is_empty(),
        "{} forbidden arrow(s):\n{}",
        bad.len(),
        bad.join("\n")
    );
}

#[test]
fn no_shared_mutable_state_in_the_model() {
    let files = load();
    let mut bad = Vec::new();
    for f in files.iter().filter(|f| layer(&f.module) == "model") {
        for (n, line) in f.code.lines().enumerate() {
            let allowed = SHARED_STATE_ALLOWED
                .iter()
                .any(|(file, text)| f.rel == *file && line.contains(text));
            for pat in SHARED_STATE {
                if line.contains(pat) && !allowed {
                    bad.push(format!(
                        "src/{}:{}: `{pat}` in `{}`",
                        f.rel,
                        n + 1,
                        line.trim()
                    ));
                }
            }
        }
    }
    assert!(
        bad.is_empty(),
        "shared mutable state in src/model (move it to the client or service that owns it, or make it a plain value):\n{}",
        bad.join("\n")
    );
}

/// The identifiers of a line of code (comments and strings are blanked already).
fn identifiers(line: &str) -> impl Iterator<Item = &str> {
    line.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
}

#[test]
fn no_network_in_the_service_or_the_model() {
    let files = load();
    let mut bad = Vec::new();
    for f in files
        .iter()
        .filter(|f| matches!(layer(&f.module), "service" | "model"))
    {
        for (n, line) in f.code.lines().enumerate() {
            if let Some(what) = identifiers(line).find(|w| NETWORK.contains(w)) {
                bad.push(format!(
                    "src/{}:{}: `{what}` in `{}`",
                    f.rel,
                    n + 1,
                    line.trim()
                ));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "the network reached from src/service or src/model (append to the workspace's outbox and let the clients send it, see src/webhook_delivery.rs):\n{}",
        bad.join("\n")
    );
}

#[test]
fn the_network_scan_sees_crate_paths_and_sockets() {
    let hits = |line: &str| identifiers(line).any(|w| NETWORK.contains(&w));
    assert!(hits("let agent = ureq::Agent::new_with_config(config);"));
    assert!(hits("use std :: net::TcpStream;"));
    assert!(hits("use std::net::{Ipv4Addr, UdpSocket};"));
    // Addresses are arithmetic (a firewall's CIDR ranges), not the network.
    assert!(!hits("use std::net::Ipv4Addr;"));
    assert!(hits("fn f(s: TcpListener) {}"));
    assert!(!hits("let requested = hyperlink(url); // not a crate"));
    assert!(!hits("let network = ws.networks.len();"));
}

/// The endpoint's functions that take a workspace to change. The window never hands them
/// its own (`&mut app.ws`, `&mut self.ws`): requests are answered by a job on a copy of it
/// (`ui::endpoint_panel::serve`), as other changes off the UI thread are.
const ENDPOINT_WRITERS: &[&str] = &[
    "serve_waiting",
    "serve_next",
    "serve_next_durably",
    "answer_all",
    "answer",
    "catch_up_with_wall_clock",
    "handle",
];

/// Where `code` (whitespace removed) passes the app's own workspace to an endpoint writer.
fn app_workspace_to_endpoint(code: &str) -> Vec<String> {
    let compact: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    let mut out = Vec::new();
    for name in ENDPOINT_WRITERS {
        for own in ["&mutapp.ws", "&mutself.ws"] {
            let call = format!("{name}({own}");
            let mut from = 0;
            while let Some(i) = compact[from..].find(&call) {
                let at = from + i;
                // A whole name: `answer(` but not `my_answer(`.
                let whole = at == 0
                    || !compact.as_bytes()[at - 1].is_ascii_alphanumeric()
                        && compact.as_bytes()[at - 1] != b'_';
                let next = compact.as_bytes().get(at + call.len());
                if whole && next.is_none_or(|c| !c.is_ascii_alphanumeric() && *c != b'_') {
                    out.push(format!("{name}({own}"));
                }
                from = at + call.len();
            }
        }
    }
    out
}

#[test]
fn the_window_never_hands_its_workspace_to_the_endpoint() {
    let files = load();
    let mut bad = Vec::new();
    for f in files.iter().filter(|f| layer(&f.module) == "ui") {
        for hit in app_workspace_to_endpoint(&f.code) {
            bad.push(format!("src/{}: `{hit}…`", f.rel));
        }
    }
    assert!(
        bad.is_empty(),
        "the window changes its workspace for the endpoint on the UI thread (take the requests with `Endpoint::take_waiting` and answer them in a job, see ui::endpoint_panel::serve):\n{}",
        bad.join("\n")
    );
}

#[test]
fn the_endpoint_scan_sees_the_calls_it_forbids() {
    assert_eq!(
        app_workspace_to_endpoint(
            "if endpoint.serve_waiting(&mut app.ws, app.keys.as_ref()) > 0 {"
        ),
        ["serve_waiting(&mutapp.ws"]
    );
    assert_eq!(
        app_workspace_to_endpoint("answerer.answer_all(\n    &mut self.ws,\n    keys, w);"),
        ["answer_all(&mutself.ws"]
    );
    // A job's own copy, and reads, are fine.
    assert!(
        app_workspace_to_endpoint("answerer.answer_all(ws, keys.as_ref(), waiting)").is_empty()
    );
    assert!(app_workspace_to_endpoint("endpoint.sync(&app.ws)").is_empty());
    assert!(app_workspace_to_endpoint("self.ws.outbox = outbox; unhandle(&mut app.ws)").is_empty());
}

/// The service's files as graph nodes: `service/sql.rs` is `sql`,
/// `service/keyvault/keys.rs` is `keyvault::keys`; the root `service/mod.rs` is no node.
fn service_node(module: &[String]) -> Option<String> {
    (module.len() >= 2 && module[0] == "service").then(|| module[1..].join("::"))
}

#[test]
fn import_cycles_in_the_service_are_small() {
    let files = load();
    let mut edges: BTreeMap<String, BTreeMap<String, (String, usize, String)>> = BTreeMap::new();
    for f in &files {
        if let Some(n) = service_node(&f.module) {
            edges.entry(n).or_default();
        }
    }
    for a in arrows(&files) {
        let from = &files[a.from];
        let (Some(fnode), Some(tnode)) = (service_node(&from.module), service_node(&a.target))
        else {
            continue;
        };
        // A file's own submodules (`secrets/tests.rs`) are part of it.
        if fnode == tnode || tnode.starts_with(&format!("{fnode}::")) {
            continue;
        }
        edges
            .entry(fnode)
            .or_default()
            .entry(tnode)
            .or_insert((from.rel.clone(), a.line, a.text));
    }
    let sccs = strongly_connected(&edges);
    let largest = sccs
        .iter()
        .max_by_key(|c| c.len())
        .cloned()
        .unwrap_or_default();
    if largest.len() > MAX_SERVICE_CYCLE {
        let members: BTreeSet<&String> = largest.iter().collect();
        let mut lines = Vec::new();
        for m in &largest {
            for (t, (file, line, text)) in &edges[m] {
                if members.contains(t) {
                    lines.push(format!("src/{file}:{line}: {m} -> {t} (`{text}`)"));
                }
            }
        }
        panic!(
            "the largest import cycle in src/service has {} files (at most {MAX_SERVICE_CYCLE}): {}\narrows inside it:\n{}",
            largest.len(),
            largest.join(", "),
            lines.join("\n")
        );
    }
}

/// Tarjan's strongly connected components, iterative.
fn strongly_connected(
    edges: &BTreeMap<String, BTreeMap<String, (String, usize, String)>>,
) -> Vec<Vec<String>> {
    let names: Vec<&String> = edges.keys().collect();
    let index_of: BTreeMap<&String, usize> =
        names.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    let adj: Vec<Vec<usize>> = names
        .iter()
        .map(|n| {
            edges[*n]
                .keys()
                .filter_map(|t| index_of.get(t).copied())
                .collect()
        })
        .collect();
    let n = names.len();
    let (mut index, mut low, mut on) = (vec![usize::MAX; n], vec![0; n], vec![false; n]);
    let (mut stack, mut out, mut next) = (Vec::new(), Vec::new(), 0);
    for root in 0..n {
        if index[root] != usize::MAX {
            continue;
        }
        let mut work = vec![(root, 0usize)];
        while let Some(&mut (v, ref mut k)) = work.last_mut() {
            if *k == 0 && index[v] == usize::MAX {
                index[v] = next;
                low[v] = next;
                next += 1;
                stack.push(v);
                on[v] = true;
            }
            if let Some(&w) = adj[v].get(*k) {
                *k += 1;
                if index[w] == usize::MAX {
                    work.push((w, 0));
                } else if on[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == index[v] {
                let mut comp = Vec::new();
                while let Some(w) = stack.pop() {
                    on[w] = false;
                    comp.push(names[w].clone());
                    if w == v {
                        break;
                    }
                }
                comp.sort();
                out.push(comp);
            }
        }
    }
    out
}

#[test]
fn the_scanner_reads_paths_as_rustc_does() {
    // Comments and strings are not imports; grouped trees and super:: resolve.
    let code = strip(
        "use crate::{service::{sql::server, lookup}, model};\n// crate::ui::x\nlet s = \"crate::shell::y\"; let c = '\"'; super::sim::now();\n",
    );
    assert!(!code.contains("crate::ui") && !code.contains("crate::shell"));
    let (trees, _) = use_tree(code.as_bytes(), "use crate::".len(), 0);
    assert_eq!(
        trees,
        vec![
            vec!["service".to_string(), "sql".into(), "server".into()],
            vec!["service".to_string(), "lookup".into()],
            vec!["model".to_string()],
        ]
    );
    let mut edges: BTreeMap<String, BTreeMap<String, (String, usize, String)>> = BTreeMap::new();
    for (a, b) in [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"), ("d", "d")] {
        edges
            .entry(a.into())
            .or_default()
            .insert(b.into(), (String::new(), 0, String::new()));
        edges.entry(b.into()).or_default();
    }
    let mut sccs = strongly_connected(&edges);
    sccs.sort_by_key(|c| std::cmp::Reverse(c.len()));
    assert_eq!(sccs[0], vec!["a", "b", "c"]);
    assert_eq!(sccs.len(), 2);
}

/// The tiers of `src/service` (`docs/architecture.md`), as data: every file of the service
/// (by its node name, see [`service_node`]) in exactly one tier. A file imports only files of
/// lower tiers, of its own tier in tiers 0, 1 and 3, and of tier 2 only as [`TIER2_ALLOWED`]
/// says. `service/mod.rs` (the root: `transact`, the Activity Log helpers) is no node, and
/// test files (`secrets/tests.rs`) may set up with anything.
const TIERS: &[(u8, &str, &[&str])] = &[
    (
        0,
        "lookups, checks and pure rules every operation shares; they read the workspace only",
        &[
            "error",
            "lookup",
            "geo_rules",
            "progress",
            "sku",
            "locks",
            "diagnostics",
        ],
    ),
    (
        1,
        "key access: the only path to key material (journaled vault requests, check, wrap, unwrap, open a database, seal and unseal content)",
        &["requests", "keyvault::data_plane", "key_access", "content"],
    ),
    (
        2,
        "operations, one module per concept",
        &[
            "advisor",
            "availability",
            "backup",
            "copy",
            "customer_app",
            "database_key",
            "dependents",
            "directory",
            "dw",
            "failover_group",
            "firewall",
            "georeplication",
            "identity",
            "infrastructure",
            "keyvault",
            "keyvault::access",
            "keyvault::import",
            "keyvault::keys",
            "keyvault::vaults",
            "managed_instance",
            "monitor",
            "network",
            "outage",
            "rbac",
            "recovery",
            "resources",
            "rotation",
            "secrets",
            "server_key",
            "sql",
            "synapse",
            "tde",
        ],
    ),
    (
        3,
        "reactions over time: the clock, its event handlers, and what lets time pass between operations",
        &["behaviour", "burst", "chain", "estate"],
    ),
];

/// `(from, to, why)`: the imports allowed between two tier-2 modules, each with its reason.
/// Anything shared by more than a pair belongs a tier lower; keep this list short.
const TIER2_ALLOWED: &[(&str, &str, &str)] = &[
    // A database's own keys (`DatabaseCmk`, `prepare_cmk`, `record_database_keys`): the
    // operations that create a database with them (create, copy, restore, replica) use the
    // one place that links and records them.
    ("sql", "database_key", "az sql db create with its own keys"),
    (
        "copy",
        "database_key",
        "az sql db copy keeps the source's own keys",
    ),
    (
        "backup",
        "database_key",
        "a restore with the database's own keys",
    ),
    (
        "georeplication",
        "database_key",
        "a replica with the database's own keys",
    ),
    // Linking a key to a server first (`az sql server key create`).
    (
        "sql",
        "server_key",
        "create/update with --key-id links the key (and re-exports)",
    ),
    (
        "tde",
        "server_key",
        "the portal's Save links the key before it becomes the protector",
    ),
    (
        "database_key",
        "server_key",
        "a database's keys are linked to its server first",
    ),
    (
        "georeplication",
        "server_key",
        "a rotated protector version is linked on each secondary",
    ),
    (
        "recovery",
        "server_key",
        "revalidation re-links the protector's current version",
    ),
    // A server's identities.
    (
        "sql",
        "identity",
        "az sql server create/update with identities (and re-exports)",
    ),
    (
        "tde",
        "identity",
        "the portal's Save turns on the server's identity first",
    ),
    (
        "managed_instance",
        "identity",
        "a managed instance's identities are a server's",
    ),
    // Operations built on another concept's operation.
    (
        "sql",
        "tde",
        "create/update with --key-id makes the key the protector",
    ),
    (
        "copy",
        "sql",
        "a copy is a new database: the same checks and pages",
    ),
    (
        "dw",
        "sql",
        "a dedicated SQL pool is a database: created and updated as one",
    ),
    (
        "managed_instance",
        "sql",
        "a managed instance is created as a server is",
    ),
    (
        "managed_instance",
        "network",
        "a managed instance lives in a delegated subnet",
    ),
    (
        "failover_group",
        "georeplication",
        "a group fails over database by database",
    ),
    (
        "outage",
        "failover_group",
        "a regional outage starts automatic failover grace",
    ),
    (
        "database_key",
        "recovery",
        "a database key restored in time starts the recovery",
    ),
    (
        "secrets",
        "keyvault::access",
        "secret permissions live in the vault's access policy",
    ),
    (
        "keyvault::import",
        "keyvault::keys",
        "an imported key is added as a created one",
    ),
];

fn tier_of(node: &str) -> Option<u8> {
    TIERS
        .iter()
        .find(|(_, _, files)| files.contains(&node))
        .map(|(t, _, _)| *t)
}

fn is_test_file(node: &str) -> bool {
    node == "tests" || node.ends_with("::tests")
}

#[test]
fn every_service_file_is_in_exactly_one_tier() {
    let files = load();
    let nodes: BTreeSet<String> = files
        .iter()
        .filter_map(|f| service_node(&f.module))
        .filter(|n| !is_test_file(n))
        .collect();
    let mut bad = Vec::new();
    for n in &nodes {
        let count = TIERS
            .iter()
            .filter(|(_, _, files)| files.contains(&n.as_str()))
            .count();
        if count != 1 {
            bad.push(format!(
                "src/service/{}: in {count} tiers (add it to exactly one of TIERS)",
                n.replace("::", "/")
            ));
        }
    }
    for (t, _, listed) in TIERS {
        for n in *listed {
            if !nodes.contains(*n) {
                bad.push(format!(
                    "tier {t} lists `{n}`, which is no file of src/service"
                ));
            }
        }
    }
    for (from, to, why) in TIER2_ALLOWED {
        if tier_of(from) != Some(2) || tier_of(to) != Some(2) || why.is_empty() {
            bad.push(format!(
                "TIER2_ALLOWED `{from} -> {to}` is not between two tier-2 modules with a reason"
            ));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn tiers_import_only_downward() {
    let files = load();
    let mut bad = BTreeSet::new();
    let mut used = BTreeSet::new();
    for a in arrows(&files) {
        let from = &files[a.from];
        let (Some(fnode), Some(tnode)) = (service_node(&from.module), service_node(&a.target))
        else {
            continue;
        };
        if fnode == tnode || tnode.starts_with(&format!("{fnode}::")) || is_test_file(&fnode) {
            continue;
        }
        let (Some(ft), Some(tt)) = (tier_of(&fnode), tier_of(&tnode)) else {
            continue; // every_service_file_is_in_exactly_one_tier names it
        };
        let allowed = TIER2_ALLOWED
            .iter()
            .find(|(f, t, _)| *f == fnode && *t == tnode);
        if let Some(rule) = allowed {
            used.insert(*rule);
        }
        let why = if tt > ft {
            "imports a higher tier"
        } else if ft == 2 && tt == 2 && allowed.is_none() {
            "imports another tier-2 module without a line in TIER2_ALLOWED"
        } else {
            continue;
        };
        bad.insert(format!(
            "src/{}:{}: {fnode} (tier {ft}) -> {tnode} (tier {tt}) `{}`: {why}",
            from.rel, a.line, a.text
        ));
    }
    for rule in TIER2_ALLOWED {
        if !used.contains(rule) {
            bad.insert(format!(
                "TIER2_ALLOWED `{} -> {}` is no longer used: remove it",
                rule.0, rule.1
            ));
        }
    }
    assert!(
        bad.is_empty(),
        "{} arrow(s) against the tiers (docs/architecture.md):\n{}",
        bad.len(),
        bad.into_iter().collect::<Vec<_>>().join("\n")
    );
}
