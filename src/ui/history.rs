//! The session's timeline: every operation and every clock advance is a point to return to.
//! Undo / Redo (Ctrl+Z / Ctrl+Y) step between points; "Rewind to here" restores the whole
//! workspace as it was, clock included, so a trainer can replay a failure with another
//! choice. A point is a snapshot that shares its servers and databases with the others
//! (copy on write), so it costs what changed, not the estate. The timeline is bounded (the
//! oldest unmarked points go first) and lives in the session, not in the file, except
//! bookmarks when the user asks for them to be kept ([`History::saved_bookmarks`]): a file
//! that carries them opens with them on its timeline.
//!
//! Beside the bounded points, the session keeps its **script**: one entry per change (its
//! label, its `az` / `sim` lines, the simulated time), never trimmed, so "Export session as
//! script" holds every change of the session however long it ran. Each point knows how many
//! entries lead to it. A new change after Undo / Rewind drops the entries that led past the
//! current point, as it drops the points ahead: the script is always the way from the
//! session's start to the current state (the abandoned branch is not in it). Bookmarks are
//! the script's chapters (`# == Chapter: NAME ==` and `sim chapter NAME`, which
//! `tde-console shell … --until-chapter NAME` stops at).
//!
//! While the clock plays, its ticks make one point (and one `sim clock advance` of the
//! total) per run of the clock; consecutive +1m / +10m clicks with nothing between them
//! make one point too.

use crate::model::{SavedBookmark, Timestamp, Workspace};
use std::sync::Arc;

/// Points kept at most.
pub const MAX_POINTS: usize = 200;

pub struct Point {
    /// What led here ("Opened", "Clock played 09:00 to 10:12 (1h 12m)", "Access policy removed…").
    pub label: String,
    pub sim_time: Timestamp,
    /// A name given with "Mark this moment".
    pub bookmark: Option<String>,
    /// The change as `az` / `sim` lines, when it has them.
    pub command: Option<String>,
    pub ws: Workspace,
    /// How many entries of the session's script lead here.
    log_len: usize,
    /// A clock advance this point is, to add the next one of the same run to.
    clock: Option<ClockSpan>,
}

/// What made a clock advance: a run of Play (its number) or a click on +1m / +10m / ….
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClockSource {
    Played(u64),
    Clicked,
}

/// A clock advance: where it started, by how much, and what made it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClockSpan {
    pub from: Timestamp,
    pub seconds: i64,
    pub source: ClockSource,
}

impl ClockSpan {
    fn label(&self) -> String {
        let to = Timestamp(self.from.0 + self.seconds);
        let (a, b) = (self.from.to_display(), to.to_display());
        let short = |t: &str| t.get(11..16).unwrap_or(t).to_string();
        let end = if a.get(..10) == b.get(..10) {
            short(&b)
        } else {
            b.get(..16).unwrap_or(&b).to_string()
        };
        let by = crate::sim::Duration(self.seconds).human();
        match self.source {
            ClockSource::Played(_) => format!("Clock played {} to {end} ({by})", short(&a)),
            ClockSource::Clicked => format!("Clock advanced {} to {end} (+{by})", short(&a)),
        }
    }

    fn command(&self) -> String {
        clock_request(self.seconds).line()
    }
}

/// The request a clock advance of `seconds` is (`sim clock advance 600s`): what the clock's
/// job runs and what its History point renders.
pub fn clock_request(seconds: i64) -> crate::shell::invocation::Invocation {
    crate::shell::invocation::Invocation::new("sim clock advance").positional(format!("{seconds}s"))
}

/// One change of the session's script.
#[derive(Clone, Debug)]
pub struct Entry {
    pub label: String,
    pub sim_time: Timestamp,
    /// Its `az` / `sim` lines; `None`: a change made in the GUI without an equivalent.
    pub command: Option<String>,
    /// Whether it changed the workspace (not a read or a `KID=$(…)` the script keeps only
    /// because later lines use what it set: see [`History::note`]).
    pub changed: bool,
}

pub struct History {
    points: Vec<Point>,
    /// The point the workspace is at.
    cursor: usize,
    /// The revision last recorded (or restored).
    seen: u64,
    /// The point the session's script starts from (bookmarks kept in the file come before
    /// it: they have no commands leading to them).
    origin: usize,
    /// The session's script: every change from the origin, never trimmed.
    log: Vec<Entry>,
    /// Bookmarks as chapters: (entries before it, name).
    chapters: Vec<(usize, String)>,
    /// The workspace the script runs on, in words, for its header.
    source: String,
}

impl History {
    /// A timeline whose first points are the bookmarks `ws` carries, then `ws` itself.
    pub fn start(ws: &Workspace, label: &str) -> Self {
        let mut points: Vec<Point> = ws
            .bookmarks
            .iter()
            .map(|b| {
                let mut state = (*b.state).clone();
                // Every point has its own revision (a file's states all read as 0).
                state.bump_revision();
                Point {
                    label: b.label.clone(),
                    sim_time: state.now(),
                    bookmark: Some(b.name.clone()),
                    command: None,
                    ws: state,
                    log_len: 0,
                    clock: None,
                }
            })
            .collect();
        let origin = points.len();
        points.push(Point {
            label: label.to_string(),
            sim_time: ws.now(),
            bookmark: None,
            command: None,
            ws: ws.clone(),
            log_len: 0,
            clock: None,
        });
        History {
            points,
            cursor: origin,
            seen: ws.revision,
            origin,
            log: Vec::new(),
            chapters: Vec::new(),
            source: format!("the workspace '{}' as the session opened it", ws.name),
        }
    }

    /// Says which workspace the session (and so its script) starts from, for the script's
    /// header: e.g. "the workspace file /path/class.ron" or "the built-in demo".
    pub fn set_source(&mut self, source: impl Into<String>) {
        self.source = source.into();
    }

    /// The bookmarked points, to keep in the workspace file.
    pub fn saved_bookmarks(&self) -> Vec<SavedBookmark> {
        self.points
            .iter()
            .filter_map(|p| {
                let name = p.bookmark.clone()?;
                let mut state = p.ws.clone();
                state.bookmarks.clear();
                Some(SavedBookmark {
                    name,
                    label: p.label.clone(),
                    state: Arc::new(state),
                })
            })
            .collect()
    }

    /// Adds a point when the workspace changed since the last one; a change after an undo
    /// drops the points that were ahead (as any editor's redo does), and their script.
    pub fn record(
        &mut self,
        ws: &Workspace,
        command: Option<String>,
        label: impl FnOnce() -> String,
    ) {
        if ws.revision == self.seen {
            return;
        }
        self.push(ws, label(), command, None);
    }

    /// Records a clock advance: added to the current point when that point is the advance
    /// just before it of the same run of Play (or a click after a click) and nothing else
    /// happened since; else a point of its own.
    pub fn record_clock(&mut self, ws: &Workspace, span: ClockSpan) {
        if ws.revision == self.seen {
            return;
        }
        let at_end = self.cursor + 1 == self.points.len() && self.cursor > self.origin;
        let log_at_end = self
            .points
            .get(self.cursor)
            .is_some_and(|p| p.log_len == self.log.len() && p.log_len > 0);
        if at_end
            && log_at_end
            && let Some(p) = self.points.get_mut(self.cursor)
            && p.bookmark.is_none()
            && let Some(prev) = p.clock
            && prev.source == span.source
            && prev.from.0 + prev.seconds == span.from.0
        {
            let merged = ClockSpan {
                seconds: prev.seconds + span.seconds,
                ..prev
            };
            p.label = merged.label();
            p.command = Some(merged.command());
            p.sim_time = ws.now();
            p.ws = ws.clone();
            p.clock = Some(merged);
            if let Some(e) = self.log.last_mut() {
                e.label = merged.label();
                e.command = Some(merged.command());
                e.sim_time = ws.now();
            }
            self.seen = ws.revision;
            return;
        }
        self.push(ws, span.label(), Some(span.command()), Some(span));
    }

    /// Takes a change that is no point to return to (notifications marked read) into the
    /// current point, so Undo does not stop at it and the script does not show it.
    pub fn absorb(&mut self, ws: &Workspace) {
        if let Some(p) = self.points.get_mut(self.cursor) {
            p.ws = ws.clone();
        }
        self.seen = ws.revision;
    }

    /// Adds a line to the session's script that changed nothing in the workspace but that
    /// later lines need (a Cloud Shell `KID=$(…)`): no point of its own. Only at the newest
    /// point (after an Undo there is no way on to add it to).
    pub fn note(&mut self, label: &str, command: &str) {
        if self.cursor + 1 != self.points.len() || self.cursor < self.origin {
            return;
        }
        let Some(p) = self.points.get_mut(self.cursor) else {
            return;
        };
        self.log.truncate(p.log_len);
        self.log.push(Entry {
            label: label.to_string(),
            sim_time: p.ws.now(),
            command: Some(command.to_string()),
            changed: false,
        });
        p.log_len = self.log.len();
        // Something happened since the clock last advanced: the next advance is new.
        p.clock = None;
    }

    fn push(
        &mut self,
        ws: &Workspace,
        label: String,
        command: Option<String>,
        clock: Option<ClockSpan>,
    ) {
        self.seen = ws.revision;
        self.points.truncate(self.cursor + 1);
        if self.cursor < self.origin {
            // A change on a bookmark kept in the file: the script starts from that moment.
            let name = self.points[self.cursor]
                .bookmark
                .clone()
                .unwrap_or_default();
            self.source = format!(
                "the bookmark '{name}' kept in the workspace file (the session rewound to it)"
            );
            self.origin = self.cursor;
            self.log.clear();
            self.chapters.clear();
            if let Some(p) = self.points.get_mut(self.cursor) {
                p.log_len = 0;
            }
        }
        // The script is the way to the current point: what led past it is dropped.
        let keep = self.points.get(self.cursor).map_or(0, |p| p.log_len);
        self.log.truncate(keep);
        self.chapters.retain(|(at, _)| *at <= keep);
        self.log.push(Entry {
            label: label.clone(),
            sim_time: ws.now(),
            command: command.clone(),
            changed: true,
        });
        self.points.push(Point {
            label,
            sim_time: ws.now(),
            bookmark: None,
            command,
            ws: ws.clone(),
            log_len: self.log.len(),
            clock,
        });
        while self.points.len() > MAX_POINTS {
            // The oldest point without a bookmark goes (the last one never does).
            let i = self
                .points
                .iter()
                .take(self.points.len() - 1)
                .position(|p| p.bookmark.is_none())
                .unwrap_or(0);
            self.points.remove(i);
            if i < self.origin || (i == self.origin && self.origin > 0) {
                self.origin -= 1;
            }
        }
        self.cursor = self.points.len() - 1;
    }

    pub fn points(&self) -> &[Point] {
        &self.points
    }

    pub fn cursor(&self) -> usize {
        self.cursor
    }

    pub fn can_undo(&self) -> bool {
        self.cursor > 0
    }

    pub fn can_redo(&self) -> bool {
        self.cursor + 1 < self.points.len()
    }

    /// The workspace of point `i`, which becomes the current point.
    pub fn rewind_to(&mut self, i: usize) -> Option<Workspace> {
        let p = self.points.get(i)?;
        self.cursor = i;
        self.seen = p.ws.revision;
        Some(p.ws.clone())
    }

    pub fn undo(&mut self) -> Option<Workspace> {
        if !self.can_undo() {
            return None;
        }
        self.rewind_to(self.cursor - 1)
    }

    pub fn redo(&mut self) -> Option<Workspace> {
        if !self.can_redo() {
            return None;
        }
        self.rewind_to(self.cursor + 1)
    }

    /// The script's entries that lead to the current point (all of them unless the session
    /// undid some): every change, however many points the timeline keeps.
    pub fn entries(&self) -> &[Entry] {
        if self.cursor < self.origin {
            return &[];
        }
        let n = self
            .points
            .get(self.cursor)
            .map_or(0, |p| p.log_len)
            .min(self.log.len());
        &self.log[..n]
    }

    /// The session up to the current point as a script: a header that says which workspace
    /// to run it on, then each change's `az` / `sim` lines (a comment where a change has
    /// none), with each bookmark as a chapter.
    pub fn script(&self) -> String {
        let mut out = String::from("# tde-console session script (a class to replay).\n");
        out.push_str(&format!(
            "# Start from: {}.\n",
            self.source.replace('\n', " ")
        ));
        out.push_str(
            "# Replay: tde-console shell WORKSPACE --script FILE   (WORKSPACE: a copy of that workspace)\n\
             # Stop at a chapter: tde-console shell WORKSPACE --script FILE --until-chapter NAME\n\
             # A line that failed in the session ends in `|| true`: it fails the same way here.\n",
        );
        if self.cursor < self.origin {
            out.push_str("# (the current point is a bookmark from before this session)\n");
            return out;
        }
        let entries = self.entries();
        let chapter = |out: &mut String, at: usize| {
            for (_, name) in self.chapters.iter().filter(|(p, _)| *p == at) {
                let one_line = name.replace(['\n', '\r'], " ");
                out.push_str(&format!(
                    "\n# == Chapter: {one_line} ==\nsim chapter {}\n",
                    crate::ui::blades::quoted(&one_line)
                ));
            }
        };
        chapter(&mut out, 0);
        for (i, e) in entries.iter().enumerate() {
            let label = e.label.replace(['\n', '\r'], " ");
            match &e.command {
                Some(c) => out.push_str(&format!("# {label}  [{}]\n{c}\n", e.sim_time)),
                None => out.push_str(&format!("# (no az equivalent) {label}  [{}]\n", e.sim_time)),
            }
            chapter(&mut out, i + 1);
        }
        out
    }

    /// Names the current point (and makes it a chapter of the script).
    pub fn mark(&mut self, name: &str) {
        let name = name.trim().to_string();
        let in_session = self.cursor >= self.origin;
        if let Some(p) = self.points.get_mut(self.cursor) {
            // Renaming a point renames its chapter.
            if let Some(old) = p.bookmark.take()
                && in_session
            {
                let at = p.log_len;
                self.chapters.retain(|(a, n)| !(*a == at && *n == old));
            }
            p.bookmark = Some(name.clone());
            if in_session {
                self.chapters.push((p.log_len, name));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn changed(ws: &Workspace) -> Workspace {
        let mut w = ws.clone();
        w.name.push('+');
        w.bump_revision();
        w
    }

    #[test]
    fn undo_redo_and_a_new_change_after_undo() {
        let a = crate::service::new_workspace("a", 1);
        let mut h = History::start(&a, "Opened");
        let b = changed(&a);
        h.record(&b, None, || "b".into());
        let c = changed(&b);
        h.record(&c, None, || "c".into());
        h.record(&c, None, || "same".into());
        assert_eq!(h.points().len(), 3, "no point without a change");
        assert_eq!(h.undo().unwrap().name, b.name);
        assert_eq!(h.undo().unwrap().name, a.name);
        assert!(h.undo().is_none());
        assert_eq!(h.redo().unwrap().name, b.name);
        // A change here drops c.
        let d = changed(&b);
        h.record(&d, Some("az d".into()), || "d".into());
        assert_eq!(h.points().len(), 3);
        assert_eq!(h.points()[2].label, "d");
        assert!(!h.can_redo());
        let script = h.script();
        assert!(script.contains("# (no az equivalent) b"), "{script}");
        assert!(script.contains("\naz d\n"), "{script}");
        assert!(!script.contains("(no az equivalent) c"), "{script}");
    }

    #[test]
    fn bookmarks_kept_in_the_file_come_back_on_the_timeline() {
        let a = crate::service::new_workspace("a", 1);
        let mut h = History::start(&a, "Opened");
        let b = changed(&a);
        h.record(&b, Some("az b".into()), || "b".into());
        h.mark("after b");
        let c = changed(&b);
        h.record(&c, Some("az c".into()), || "c".into());
        let mut saved = c.clone();
        saved.bookmarks = h.saved_bookmarks();
        assert_eq!(saved.bookmarks.len(), 1);
        assert!(saved.bookmarks[0].state.bookmarks.is_empty());
        // Through the file format and back.
        let text = ron::to_string(&saved).unwrap();
        let reopened: Workspace = ron::from_str(&text).unwrap();
        assert!(reopened.same_as(&saved));
        let mut h2 = History::start(&reopened, "Opened");
        assert_eq!(h2.points().len(), 2);
        assert_eq!(h2.points()[0].bookmark.as_deref(), Some("after b"));
        assert_eq!(h2.points()[0].label, "b");
        assert_eq!(h2.cursor(), 1);
        // The script starts at the opened point, not at the bookmark.
        let d = changed(&reopened);
        h2.record(&d, Some("az d".into()), || "d".into());
        let script = h2.script();
        assert!(
            script.contains("az d") && !script.contains("az b"),
            "{script}"
        );
        let back = h2.rewind_to(0).unwrap();
        assert_eq!(back.name, b.name);
        assert_ne!(back.revision, reopened.revision);
    }

    #[test]
    fn bounded_keeping_bookmarks() {
        let mut ws = crate::service::new_workspace("a", 1);
        let mut h = History::start(&ws, "Opened");
        h.mark("start");
        for i in 0..(MAX_POINTS + 50) {
            ws = changed(&ws);
            h.record(&ws, None, || format!("{i}"));
        }
        assert_eq!(h.points().len(), MAX_POINTS);
        assert_eq!(h.points()[0].bookmark.as_deref(), Some("start"));
        assert_eq!(h.cursor(), MAX_POINTS - 1);
    }

    fn advanced(ws: &Workspace, seconds: i64) -> Workspace {
        let mut w = ws.clone();
        w.clock.now = w.now() + crate::sim::Duration(seconds);
        w.bump_revision();
        w
    }

    fn tick(h: &mut History, ws: &Workspace, seconds: i64, source: ClockSource) -> Workspace {
        let next = advanced(ws, seconds);
        h.record_clock(
            &next,
            ClockSpan {
                from: ws.now(),
                seconds,
                source,
            },
        );
        next
    }

    #[test]
    fn a_run_of_the_clock_is_one_point_and_one_line() {
        let a = crate::service::new_workspace("a", 1);
        let mut h = History::start(&a, "Opened");
        let mut ws = a.clone();
        for _ in 0..500 {
            ws = tick(&mut h, &ws, 8, ClockSource::Played(1));
        }
        assert_eq!(h.points().len(), 2, "one point for the whole run");
        let p = &h.points()[1];
        assert_eq!(p.command.as_deref(), Some("sim clock advance 4000s"));
        assert!(p.label.starts_with("Clock played "), "{}", p.label);
        assert!(p.label.contains("1h 6m 40s"), "{}", p.label);
        assert_eq!(p.ws.now(), ws.now());
        // A change, then another run: points of their own.
        let b = changed(&ws);
        h.record(&b, Some("az b".into()), || "b".into());
        ws = tick(&mut h, &b, 60, ClockSource::Played(2));
        ws = tick(&mut h, &ws, 60, ClockSource::Played(2));
        // Play stopped and started again: a new run.
        ws = tick(&mut h, &ws, 30, ClockSource::Played(3));
        // Clicks in a row are one point, not joined with Play's.
        ws = tick(&mut h, &ws, 600, ClockSource::Clicked);
        let _ = tick(&mut h, &ws, 600, ClockSource::Clicked);
        let script = h.script();
        let advances: Vec<&str> = script
            .lines()
            .filter(|l| l.starts_with("sim clock advance"))
            .collect();
        assert_eq!(
            advances,
            [
                "sim clock advance 4000s",
                "sim clock advance 120s",
                "sim clock advance 30s",
                "sim clock advance 1200s"
            ],
            "{script}"
        );
        assert!(script.contains("\naz b\n"), "{script}");
        assert!(script.contains("Clock advanced "), "{script}");
    }

    #[test]
    fn the_script_keeps_every_change_whatever_the_cap() {
        let mut ws = crate::service::new_workspace("a", 1);
        let mut h = History::start(&ws, "Opened");
        for i in 0..(MAX_POINTS * 2) {
            ws = changed(&ws);
            h.record(&ws, Some(format!("az op {i}")), || format!("op {i}"));
        }
        assert_eq!(h.points().len(), MAX_POINTS);
        assert_eq!(h.entries().len(), MAX_POINTS * 2);
        let script = h.script();
        assert!(script.contains("\naz op 0\n"), "the first change is kept");
        assert!(script.contains(&format!("\naz op {}\n", MAX_POINTS * 2 - 1)));
        // Undo three points, then a new change: the undone ones leave the script.
        for _ in 0..3 {
            h.undo();
        }
        let at = h.points()[h.cursor()].ws.clone();
        assert_eq!(
            h.entries().len(),
            MAX_POINTS * 2 - 3,
            "the script is the way to here"
        );
        let new = changed(&at);
        h.record(&new, Some("az branch".into()), || "branch".into());
        let script = h.script();
        assert!(!script.contains(&format!("\naz op {}\n", MAX_POINTS * 2 - 1)));
        assert!(script.contains(&format!("\naz op {}\n", MAX_POINTS * 2 - 4)));
        assert!(script.ends_with("\naz branch\n"), "{script}");
        assert_eq!(h.entries().len(), MAX_POINTS * 2 - 2);
    }

    #[test]
    fn bookmarks_are_chapters_and_the_header_names_the_start() {
        let a = crate::service::new_workspace("a", 1);
        let mut h = History::start(&a, "Opened");
        h.set_source("the built-in demo");
        h.mark("start here");
        let b = changed(&a);
        h.record(&b, Some("az b".into()), || "b".into());
        h.mark("after b");
        let c = changed(&b);
        h.record(&c, Some("az c".into()), || "c".into());
        let script = h.script();
        assert!(
            script.contains("# Start from: the built-in demo."),
            "{script}"
        );
        let order: Vec<usize> = [
            "sim chapter 'start here'",
            "\naz b\n",
            "# == Chapter: after b ==\nsim chapter 'after b'\n",
            "\naz c\n",
        ]
        .iter()
        .map(|s| script.find(s).unwrap_or_else(|| panic!("{s} in {script}")))
        .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{script}");
        assert_eq!(
            crate::shell::Shell::chapters_of(&script),
            ["start here", "after b"]
        );
        // Reading notifications is absorbed: no point, no line.
        let mut read = c.clone();
        read.bump_revision();
        h.absorb(&read);
        h.record(&read, None, || "read".into());
        assert_eq!(h.points().len(), 3);
        assert_eq!(h.entries().len(), 2);
    }
}
