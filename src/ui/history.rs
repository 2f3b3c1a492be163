//! The session's timeline: every operation and every clock advance is a point to return to.
//! Undo / Redo (Ctrl+Z / Ctrl+Y) step between points; "Rewind to here" restores the whole
//! workspace as it was, clock included, so a trainer can replay a failure with another
//! choice. A point is a snapshot that shares its servers and databases with the others
//! (copy on write), so it costs what changed, not the estate. The timeline is bounded (the
//! oldest unmarked points go first) and lives in the session, not in the file, except
//! bookmarks when the user asks for them to be kept ([`History::saved_bookmarks`]): a file
//! that carries them opens with them on its timeline.

use crate::model::{SavedBookmark, Timestamp, Workspace};
use std::sync::Arc;

/// Points kept at most.
pub const MAX_POINTS: usize = 200;

pub struct Point {
    /// What led here ("Opened", "Advancing the clock by 10m", "Access policy removed…").
    pub label: String,
    pub sim_time: Timestamp,
    /// A name given with "Mark this moment".
    pub bookmark: Option<String>,
    /// The change as `az` / `sim` lines, when it has them (the session's script).
    pub command: Option<String>,
    pub ws: Workspace,
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
        });
        History {
            points,
            cursor: origin,
            seen: ws.revision,
            origin,
        }
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
    /// drops the points that were ahead (as any editor's redo does).
    pub fn record(
        &mut self,
        ws: &Workspace,
        command: Option<String>,
        label: impl FnOnce() -> String,
    ) {
        if ws.revision == self.seen {
            return;
        }
        self.seen = ws.revision;
        self.points.truncate(self.cursor + 1);
        self.origin = self.origin.min(self.cursor);
        self.points.push(Point {
            label: label(),
            sim_time: ws.now(),
            bookmark: None,
            command,
            ws: ws.clone(),
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

    /// The session up to the current point as a script: each change's `az` / `sim` lines
    /// (or a comment where a change has none), run on the workspace of the first point.
    pub fn script(&self) -> String {
        let mut out = String::from(
            "# tde-console session script: run with `tde-console shell WORKSPACE --script FILE`\n# on the workspace the session started from.\n",
        );
        if self.cursor < self.origin {
            out.push_str("# (the current point is a bookmark from before this session)\n");
            return out;
        }
        for p in self
            .points
            .iter()
            .take(self.cursor + 1)
            .skip(self.origin + 1)
        {
            match &p.command {
                Some(c) => {
                    out.push_str(&format!("# {}\n{c}\n", p.label.replace('\n', " ")));
                }
                None => out.push_str(&format!(
                    "# (no az equivalent) {}\n",
                    p.label.replace('\n', " ")
                )),
            }
        }
        out
    }

    /// Names the current point.
    pub fn mark(&mut self, name: &str) {
        if let Some(p) = self.points.get_mut(self.cursor) {
            p.bookmark = Some(name.trim().to_string());
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
        assert!(script.contains("# d\naz d\n"), "{script}");
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
}
