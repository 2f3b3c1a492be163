//! Workspace files: RON with a `format_version`, written atomically (temporary file, fsync,
//! rename), read with clear errors. A file that cannot be read changes nothing.

use crate::model::{FORMAT_VERSION, Workspace};
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug)]
pub enum PersistError {
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    /// Not a workspace file, or damaged / truncated.
    Corrupt {
        path: PathBuf,
        detail: String,
    },
    /// Written by another version of the console.
    WrongVersion {
        path: PathBuf,
        found: u32,
    },
    Serialize(String),
}

impl fmt::Display for PersistError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PersistError::Io { path, error } => {
                write!(f, "Cannot access '{}': {error}", path.display())
            }
            PersistError::Corrupt { path, detail } => write!(
                f,
                "'{}' is not a readable tde-console workspace (damaged or truncated?): {detail}",
                path.display()
            ),
            PersistError::WrongVersion { path, found } => write!(
                f,
                "'{}' has workspace format version {found}; this console reads version {FORMAT_VERSION}.",
                path.display()
            ),
            PersistError::Serialize(e) => write!(f, "Cannot serialise the workspace: {e}"),
        }
    }
}

impl std::error::Error for PersistError {}

/// Just enough of a file to learn its version before parsing the rest.
#[derive(serde::Deserialize)]
struct VersionProbe {
    format_version: u32,
}

/// Parses workspace text. `origin` names the source in errors.
pub fn from_ron(text: &str, origin: &Path) -> Result<Workspace, PersistError> {
    // One parse. Only a file that does not parse as a workspace is probed for its version,
    // to tell "written by another version" from "damaged".
    let mut ws: Workspace = match ron::from_str(text) {
        Ok(ws) => ws,
        Err(e) => {
            return Err(match version_of(text) {
                Some(found) if found != FORMAT_VERSION => PersistError::WrongVersion {
                    path: origin.to_path_buf(),
                    found,
                },
                _ => PersistError::Corrupt {
                    path: origin.to_path_buf(),
                    detail: e.to_string(),
                },
            });
        }
    };
    if ws.format_version != FORMAT_VERSION {
        return Err(PersistError::WrongVersion {
            path: origin.to_path_buf(),
            found: ws.format_version,
        });
    }
    check_invariants(&ws).map_err(|detail| PersistError::Corrupt {
        path: origin.to_path_buf(),
        detail,
    })?;
    // Files from before backups were modelled: each database's backups so far were taken
    // under the protector it has now (derived, so a file saved since reads back unchanged).
    crate::service::content::record_protector_intervals(&mut ws);
    Ok(ws)
}

/// The `format_version` a file declares, if it is RON with one.
fn version_of(text: &str) -> Option<u32> {
    ron::Options::default()
        .with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME)
        .from_str::<VersionProbe>(text)
        .ok()
        .map(|p| p.format_version)
}

/// Cross-references a file must satisfy for the services to work on it.
fn check_invariants(ws: &Workspace) -> Result<(), String> {
    for s in &ws.servers {
        if s.protector_key().is_none() {
            return Err(format!(
                "server '{}' has a TDE protector '{}' that is not among its keys",
                s.name, s.protector.server_key_name
            ));
        }
        for d in &s.databases {
            if let Some(own) = &d.encryption_protector
                && s.key(own).is_none()
            {
                return Err(format!(
                    "database '{}' has an encryption protector '{own}' that is not among the server's keys",
                    d.name
                ));
            }
            if let Some(w) = &d.dek
                && s.key(&w.server_key_name).is_none()
            {
                return Err(format!(
                    "database '{}' is wrapped by unknown server key '{}'",
                    d.name, w.server_key_name
                ));
            }
        }
    }
    Ok(())
}

/// Serialises a workspace to RON text.
pub fn to_ron(ws: &Workspace) -> Result<String, PersistError> {
    let cfg = ron::ser::PrettyConfig::new()
        .depth_limit(6)
        .indentor("  ".to_string());
    ron::ser::to_string_pretty(ws, cfg).map_err(|e| PersistError::Serialize(e.to_string()))
}

/// Reads a workspace file.
pub fn load(path: &Path) -> Result<Workspace, PersistError> {
    let bytes = std::fs::read(path).map_err(|error| PersistError::Io {
        path: path.to_path_buf(),
        error,
    })?;
    let text = String::from_utf8(bytes).map_err(|_| PersistError::Corrupt {
        path: path.to_path_buf(),
        detail: "the file is not UTF-8 text".into(),
    })?;
    from_ron(&text, path)
}

/// Writes a workspace atomically: a temporary file beside the target, fsync, rename.
pub fn save(ws: &Workspace, path: &Path) -> Result<(), PersistError> {
    let text = to_ron(ws)?;
    write_atomically(path, text.as_bytes()).map_err(|error| PersistError::Io {
        path: path.to_path_buf(),
        error,
    })
}

/// Writes a new file (atomically), refusing to overwrite one that exists: how exports,
/// downloads and backups leave the console. The error is the text a person reads.
pub fn write_new_file(path: &Path, bytes: &[u8]) -> Result<(), String> {
    if path.exists() {
        return Err(format!("File '{}' already exists.", path.display()));
    }
    write_atomically(path, bytes).map_err(|e| format!("Cannot write '{}': {e}", path.display()))
}

/// Writes a file atomically: a temporary file beside the target, fsync, rename. A reader
/// sees the old file or the new one, never half of it.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "workspace.ron".into());
    let tmp = dir.join(format!(".{file_name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)?;
        if let Ok(d) = std::fs::File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// The built-in demo workspace (embedded in the binary).
pub const DEMO_RON: &str = include_str!("../../assets/demo-workspace.ron");

/// Opens the built-in demo.
pub fn demo() -> Result<Workspace, PersistError> {
    let mut ws = from_ron(DEMO_RON, Path::new("<built-in demo>"))?;
    ws.name = "Contoso demo".into();
    crate::service::mark_notifications_read(&mut ws);
    Ok(ws)
}
