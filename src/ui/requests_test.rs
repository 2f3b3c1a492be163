//! The UI's changes as data, checked by reading `src/ui`: every request a blade or a menu
//! builds names a row of the shell's registry that takes the flags it is given, renders to
//! a line that parses back into the same request, and the changes that are still closures
//! (with or without a hand-written `az` line) only get fewer.

use crate::shell::invocation::Invocation;
use crate::shell::registry;

/// Closures with `az` lines written by hand beside them (`cx.az(…)`): the old way.
/// Lower it when you convert one; it must never grow.
const HAND_WRITTEN_AZ_CEILING: usize = 5;

/// Changes that are closures (`run_unscripted`, `spawn_unscripted`, `queue_unscripted`,
/// and the old `cx.run`/`run_to`/`run_then_open`/`spawn`). Lower it when you convert one.
const CLOSURE_CEILING: usize = 6;

/// Parameters `&mut ConsoleApp` in the chrome and the panels: they read the app and return
/// [`Action`](crate::ui::blades::Action)s, applied at the end of the frame. Was 28 (the
/// top bar, History, clock, dialogs, navigator, scenarios, customer app and Cloud Shell
/// changed the workspace, the History or the clock directly); it must never grow.
const MUT_APP_CEILING: usize = 0;

/// The chrome and the panels (the blades are checked by the tests above).
const CHROME_AND_PANELS: &[&str] = &[
    "chrome.rs",
    "navigator.rs",
    "scenarios.rs",
    "customer_app.rs",
    "shell_panel.rs",
    "history.rs",
    "recovery.rs",
];

fn ui_sources() -> Vec<(String, String)> {
    fn walk(dir: &std::path::Path, out: &mut Vec<(String, String)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|e| e == "rs")
                && !p.ends_with("requests_test.rs")
                && let Ok(text) = std::fs::read_to_string(&p)
            {
                out.push((p.display().to_string(), text));
            }
        }
    }
    let mut out = Vec::new();
    walk(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/ui"),
        &mut out,
    );
    out
}

/// The string literals of `text` (no escapes needed for command words and flags).
fn literals(text: &str) -> Vec<&str> {
    text.split('"').skip(1).step_by(2).collect()
}

/// A request found in a file: its row names and its flags (with whether each takes a value).
type Found = (String, Vec<&'static str>, Vec<(String, bool)>);

/// Each request built in `src/ui`: the row names in its `Invocation::new(…)` (or a helper
/// that starts one, `on_server(…)`) and the flags of the builder chain up to the `;`.
fn requests() -> Vec<Found> {
    let mut out = Vec::new();
    for (file, text) in ui_sources() {
        let text: &'static str = Box::leak(text.into_boxed_str());
        for start in ["Invocation::new(", "on_server(\""] {
            for (at, _) in text.match_indices(start) {
                let rest = &text[at..];
                // The chain ends at the statement's end, the next request, or the end of
                // the function that builds it.
                let end = [";", "Invocation::new(", "on_server(", "\n}\n"]
                    .iter()
                    .filter_map(|stop| rest[1..].find(stop).map(|i| i + 1))
                    .min()
                    .unwrap_or(rest.len());
                let chain = &rest[..end];
                let head_end = chain.find(')').unwrap_or(chain.len());
                let names: Vec<&'static str> = literals(&chain[..head_end])
                    .into_iter()
                    .filter(|l| l.starts_with("az ") || l.starts_with("sim "))
                    .collect();
                if names.is_empty() {
                    continue;
                }
                // (flag, whether it takes a value)
                let mut flags = Vec::new();
                for (method, value) in [
                    (".arg(", true),
                    (".args(", true),
                    (".arg_opt(", true),
                    (".flag(", false),
                    (".flag_if(", false),
                ] {
                    for (m, _) in chain.match_indices(method) {
                        if let Some(flag) = literals(&chain[m..])
                            .into_iter()
                            .find(|l| l.starts_with('-'))
                        {
                            flags.push((flag.to_string(), value));
                        }
                    }
                }
                if start.starts_with("on_server") {
                    flags.extend([
                        ("--server".to_string(), true),
                        ("--resource-group".to_string(), true),
                    ]);
                }
                out.push((file.clone(), names, flags));
            }
        }
    }
    out
}

#[test]
fn every_request_names_a_row_that_takes_its_flags_and_reads_back() {
    let found = requests();
    assert!(found.len() >= 40, "only {} requests found", found.len());
    let mut problems = Vec::new();
    for (file, names, flags) in &found {
        for name in names {
            let Some(row) = registry::all().find(|r| r.name == *name) else {
                problems.push(format!("{file}: '{name}' is no row of the registry"));
                continue;
            };
            // A value with what bash would read: spaces, quotes, `$`, unicode.
            let mut request = Invocation::new(row.name);
            for (f, value) in flags {
                request = if *value {
                    request.arg(f, "it's $HOME ü 1")
                } else {
                    request.flag(f)
                };
            }
            let line = request.line();
            if Invocation::parse(&line).as_ref() != Ok(&request) {
                problems.push(format!("{file}: '{line}' does not read back"));
            }
            // The row's own parser (az's table where az has the command) must know each
            // flag; a value it refuses (a choice, a number) is the sample's, not the flag's.
            for (f, value) in flags {
                let mut words = vec![f.clone()];
                if *value {
                    words.push("x".to_string());
                }
                if let Err(e) = row.parse(&words) {
                    let e = e.to_string();
                    if e.contains("unrecognized") {
                        problems.push(format!("{file}: '{name}' does not take {f}: {e}"));
                    }
                }
                let mut args = match row.parse(&words) {
                    Ok(a) => a,
                    Err(_) => continue,
                };
                if let Err(e) = row.prepare(&mut args)
                    && e.to_string().contains("unrecognized")
                {
                    problems.push(format!("{file}: '{name}' does not take {f}: {e}"));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn closures_and_hand_written_az_lines_only_get_fewer() {
    let sources = ui_sources();
    let count = |needles: &[&str]| -> (usize, Vec<String>) {
        let mut n = 0;
        let mut at = Vec::new();
        for (file, text) in &sources {
            for (i, line) in text.lines().enumerate() {
                let trimmed = line.trim_start();
                if trimmed.starts_with("//") || trimmed.starts_with("pub fn ") {
                    continue;
                }
                for needle in needles {
                    let k = line.matches(needle).count();
                    if k > 0 {
                        n += k;
                        at.push(format!("{file}:{}", i + 1));
                    }
                }
            }
        }
        (n, at)
    };
    let (az, az_at) = count(&["cx.az("]);
    let (closures, closures_at) = count(&[
        "run_unscripted(",
        "spawn_unscripted(",
        "queue_unscripted(",
        "cx.run(",
        "cx.run_to(",
        "cx.run_then_open(",
        "cx.spawn(",
    ]);
    println!("hand-written az lines: {az} {az_at:#?}");
    println!("closure changes: {closures} {closures_at:#?}");
    assert!(
        az <= HAND_WRITTEN_AZ_CEILING,
        "{az} hand-written az lines (ceiling {HAND_WRITTEN_AZ_CEILING}): make the new change a request (cx.request). {az_at:#?}"
    );
    assert!(
        closures <= CLOSURE_CEILING,
        "{closures} closure changes (ceiling {CLOSURE_CEILING}): make the new change a request. {closures_at:#?}"
    );
    assert!(
        az == HAND_WRITTEN_AZ_CEILING && closures == CLOSURE_CEILING,
        "fewer than the ceilings ({az} az lines, {closures} closures): lower HAND_WRITTEN_AZ_CEILING and CLOSURE_CEILING to them"
    );
}

#[test]
fn chrome_and_panels_read_the_app_and_queue_like_blades() {
    let sources = ui_sources();
    let mut at = Vec::new();
    let mut seen = 0;
    for (file, text) in &sources {
        let Some(name) = CHROME_AND_PANELS
            .iter()
            .find(|n| file.ends_with(&format!("src/ui/{n}")))
        else {
            continue;
        };
        seen += 1;
        for (i, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("//") {
                continue;
            }
            // `&mut ConsoleApp`, also written with its path (`&mut super::ConsoleApp`).
            for (k, _) in line.match_indices("&mut ") {
                let ty = line[k + 5..]
                    .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                    .next()
                    .unwrap_or_default();
                if ty.rsplit("::").next() == Some("ConsoleApp") {
                    at.push(format!("{name}:{}", i + 1));
                }
            }
        }
    }
    assert_eq!(seen, CHROME_AND_PANELS.len(), "a file of the list is gone");
    println!(
        "&mut ConsoleApp in the chrome and panels: {} {at:#?}",
        at.len()
    );
    // More: read &ConsoleApp and return Actions (app_action::AppAction, or Action::Run with
    // a request). Fewer: lower MUT_APP_CEILING to the count.
    assert_eq!(
        at.len(),
        MUT_APP_CEILING,
        "parameters &mut ConsoleApp in the chrome and panels (ceiling {MUT_APP_CEILING}): {at:#?}"
    );
}
