//! The eframe app.

use std::path::PathBuf;

pub fn run(_path: Option<PathBuf>) -> Result<(), String> {
    Err("not yet".into())
}
