//! "What changed": after a clock advance or an operation, the servers and databases whose
//! state changed are marked for a few seconds, so a class sees where to look. The
//! workspace before the change is a snapshot (shared structure): servers still shared with
//! it did not change and are not read.

use crate::model::Workspace;
use std::collections::HashMap;
use std::sync::Arc;

/// How long a change stays marked, in seconds.
const MARKED_FOR: f64 = 6.0;

#[derive(Default)]
pub struct Changes {
    before: Option<Workspace>,
    /// Lower-case `server` or `server/database` → until when it is marked.
    marked: HashMap<String, f64>,
}

impl Changes {
    /// Compares the workspace with the one seen last (once per revision).
    pub fn observe(&mut self, ws: &Workspace, now: f64) {
        self.marked.retain(|_, until| *until > now);
        let Some(before) = &self.before else {
            self.before = Some(ws.clone());
            return;
        };
        if before.revision == ws.revision {
            return;
        }
        let old: HashMap<String, &Arc<crate::model::SqlServer>> = before
            .servers
            .iter()
            .map(|s| (s.name.to_ascii_lowercase(), s))
            .collect();
        for s in &ws.servers {
            let key = s.name.to_ascii_lowercase();
            let Some(o) = old.get(&key) else { continue };
            if Arc::ptr_eq(s, o) {
                continue;
            }
            let mut any = false;
            for d in &s.databases {
                let was = o.database(&d.name).map(|x| x.state.label());
                if was.is_some_and(|w| w != d.state.label()) {
                    self.marked.insert(
                        format!("{key}/{}", d.name.to_ascii_lowercase()),
                        now + MARKED_FOR,
                    );
                    any = true;
                }
            }
            if any {
                self.marked.insert(key, now + MARKED_FOR);
            }
        }
        self.before = Some(ws.clone());
    }

    /// Forgets the workspace seen (another one was opened: nothing in it "changed").
    pub fn reset(&mut self) {
        self.before = None;
        self.marked.clear();
    }

    pub fn server(&self, server: &str) -> bool {
        self.marked.contains_key(&server.to_ascii_lowercase())
    }

    pub fn database(&self, server: &str, db: &str) -> bool {
        !self.marked.is_empty()
            && self.marked.contains_key(&format!(
                "{}/{}",
                server.to_ascii_lowercase(),
                db.to_ascii_lowercase()
            ))
    }

    /// Whether anything is marked (the frame repaints until the marks go).
    pub fn any(&self) -> bool {
        !self.marked.is_empty()
    }
}
