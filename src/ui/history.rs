//! The session's timeline: every operation and every clock advance is a point to return to.
//! Undo / Redo (Ctrl+Z / Ctrl+Y) step between points; "Rewind to here" restores the whole
//! workspace as it was, clock included, so a trainer can replay a failure with another
//! choice. A point is a snapshot that shares its servers and databases with the others
//! (copy on write), so it costs what changed, not the estate. The timeline is bounded (the
//! oldest unmarked points go first) and lives in the session, not in the file.

use crate::model::{Timestamp, Workspace};

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
}

impl History {
    /// A timeline whose first point is `ws`.
    pub fn start(ws: &Workspace, label: &str) -> Self {
        History {
            points: vec![Point {
                label: label.to_string(),
                sim_time: ws.now(),
                bookmark: None,
                command: None,
                ws: ws.clone(),
            }],
            cursor: 0,
            seen: ws.revision,
        }
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
        for p in self.points.iter().take(self.cursor + 1).skip(1) {
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
