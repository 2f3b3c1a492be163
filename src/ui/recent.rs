//! The recent-files list, kept in `$XDG_CONFIG_HOME/tde-console/recent.txt`
//! (or `~/.config/...`).

use std::path::{Path, PathBuf};

const MAX: usize = 8;

fn store() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("tde-console").join("recent.txt"))
}

#[derive(Default)]
pub struct RecentFiles {
    pub paths: Vec<PathBuf>,
    /// Whether to read and write the list on disk (off in tests).
    persistent: bool,
}

impl RecentFiles {
    pub fn load() -> Self {
        let paths = store()
            .and_then(|p| std::fs::read_to_string(p).ok())
            .map(|t| {
                t.lines()
                    .filter(|l| !l.trim().is_empty())
                    .map(PathBuf::from)
                    .take(MAX)
                    .collect()
            })
            .unwrap_or_default();
        RecentFiles {
            paths,
            persistent: true,
        }
    }

    pub fn in_memory() -> Self {
        RecentFiles::default()
    }

    pub fn add(&mut self, path: &Path) {
        let abs = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        self.paths.retain(|p| p != &abs);
        self.paths.insert(0, abs);
        self.paths.truncate(MAX);
        if self.persistent
            && let Some(file) = store()
        {
            if let Some(dir) = file.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            let text: Vec<String> = self.paths.iter().map(|p| p.display().to_string()).collect();
            let _ = std::fs::write(file, text.join("\n"));
        }
    }
}
