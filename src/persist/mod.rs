//! Workspace files: RON with a `format_version`, written atomically (temporary file, fsync,
//! rename), read with clear errors. A file that cannot be read changes nothing.

pub mod delta;
pub mod sealed;
pub mod store;
pub mod wal;

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
    /// Protected with a passphrase, and none was given.
    NeedsPassphrase {
        path: PathBuf,
    },
    WrongPassphrase {
        path: PathBuf,
    },
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
            PersistError::NeedsPassphrase { path } => write!(
                f,
                "'{}' is protected with a passphrase: give it (shell: --passphrase-file FILE).",
                path.display()
            ),
            PersistError::WrongPassphrase { path } => write!(
                f,
                "The passphrase does not open '{}' (nothing was changed).",
                path.display()
            ),
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
    ws.record_protector_intervals_of(None);
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

/// Cross-references a file must satisfy for the services to work on it, and values the
/// services would loop on (a rotation policy of zero days would rotate forever).
fn check_invariants(ws: &Workspace) -> Result<(), String> {
    // A bookmark holds a whole workspace: the same rules, and no bookmarks of its own.
    for b in &ws.bookmarks {
        if !b.state.bookmarks.is_empty() {
            return Err(format!("bookmark '{}' holds bookmarks of its own", b.name));
        }
        check_invariants(&b.state).map_err(|e| format!("bookmark '{}': {e}", b.name))?;
    }
    // Times the clock and the calendar can work with (1970 to the year 9000): an instant
    // beyond would overflow dates or make the services catch up forever.
    let in_range = |t: crate::model::Timestamp| t.in_calendar();
    if !in_range(ws.clock.now) {
        return Err(format!(
            "the simulated clock ({}) is outside 1970 to 9000",
            ws.clock.now.0
        ));
    }
    for v in &ws.vaults {
        for k in &v.keys {
            for kv in &k.versions {
                let times = [
                    Some(kv.created),
                    Some(kv.updated),
                    kv.expires,
                    kv.not_before,
                ];
                if times.into_iter().flatten().any(|t| !in_range(t)) {
                    return Err(format!(
                        "key '{}' in vault '{}' has a version with a date outside 1970 to 9000",
                        k.name, v.name
                    ));
                }
            }
            if let Some(p) = &k.rotation_policy {
                p.check().map_err(|e| {
                    format!(
                        "key '{}' in vault '{}' has an invalid rotation policy: {e}",
                        k.name, v.name
                    )
                })?;
            }
            if k.versions.is_empty() && k.deleted.is_none() {
                return Err(format!(
                    "key '{}' in vault '{}' has no version",
                    k.name, v.name
                ));
            }
        }
    }
    for g in &ws.action_groups {
        for r in &g.receivers {
            if r.kind == crate::model::ReceiverKind::Webhook {
                crate::model::loopback_url(&r.target).map_err(|e| {
                    format!(
                        "action group '{}' has a webhook that is not allowed: {e}",
                        g.name
                    )
                })?;
            }
        }
    }
    if ws.backup_root.is_unset() {
        return Err("the workspace has no backup root key (backup_root)".into());
    }
    for a in &ws.customer_apps {
        a.validate()
            .map_err(|e| format!("customer app on '{}/{}': {e}", a.server, a.database))?;
    }
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

/// Reads a workspace file (a passphrase-protected one is refused with
/// [`PersistError::NeedsPassphrase`]).
pub fn load(path: &Path) -> Result<Workspace, PersistError> {
    load_with(path, None)
}

/// Reads a workspace file, opening it with `passphrase` if it is protected, with the
/// changes its write-ahead log holds (see [`wal`]).
pub fn load_with(path: &Path, passphrase: Option<&str>) -> Result<Workspace, PersistError> {
    load_logged(path, passphrase).map(|l| l.ws)
}

/// A workspace read from its file and log.
pub struct Loaded {
    pub ws: Workspace,
    /// The content hash of the file (what its log continues).
    pub base: [u8; 32],
    /// What the log held.
    pub log: wal::Replayed,
    /// The key of a sealed log.
    pub log_key: Option<wal::LogKey>,
    /// The state the file and log hold, when it differs from `ws`: the file held the
    /// published demo secret, and `ws` has a fresh one not yet written.
    pub on_disk: Option<Workspace>,
}

/// [`load_with`], telling what the log held.
pub fn load_logged(path: &Path, passphrase: Option<&str>) -> Result<Loaded, PersistError> {
    let target = resolve_target(path).map_err(|error| PersistError::Io {
        path: path.to_path_buf(),
        error,
    })?;
    let bytes = read_bounded(&target, MAX_WORKSPACE_FILE).map_err(|error| PersistError::Io {
        path: path.to_path_buf(),
        error,
    })?;
    let base = wal::content_hash(&bytes);
    let mut ws = parse_file(bytes, path, passphrase)?;
    let log_path = wal::path_for(&target);
    let (log, log_key) = match read_bounded(&log_path, MAX_WORKSPACE_FILE) {
        Ok(log_bytes) => wal::replay(&log_bytes, &base, passphrase, &mut ws).map_err(|detail| {
            PersistError::Corrupt {
                path: log_path.clone(),
                detail,
            }
        })?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => (wal::Replayed::default(), None),
        Err(error) => {
            return Err(PersistError::Io {
                path: log_path,
                error,
            });
        }
    };
    if log.entries > 0 {
        // The logged changes must leave a workspace the services can work on, as a file must.
        check_invariants(&ws).map_err(|detail| PersistError::Corrupt {
            path: wal::path_for(&target),
            detail,
        })?;
    }
    let holds_published = ws.backup_root.is_published()
        || ws
            .bookmarks
            .iter()
            .any(|b| b.state.backup_root.is_published());
    let on_disk = holds_published.then(|| {
        let before = ws.clone();
        refresh_published_secrets(&mut ws);
        before
    });
    Ok(Loaded {
        ws,
        base,
        log,
        log_key,
        on_disk,
    })
}

/// A workspace file's bytes: checked, unsealed, parsed.
fn parse_file(
    bytes: Vec<u8>,
    path: &Path,
    passphrase: Option<&str>,
) -> Result<Workspace, PersistError> {
    let text = String::from_utf8(bytes).map_err(|_| PersistError::Corrupt {
        path: path.to_path_buf(),
        detail: "the file is not UTF-8 text".into(),
    })?;
    if sealed::is_sealed(&text) {
        let Some(p) = passphrase else {
            return Err(PersistError::NeedsPassphrase {
                path: path.to_path_buf(),
            });
        };
        let plain = sealed::unseal(&text, p).map_err(|e| match e {
            sealed::UnsealError::WrongPassphrase => PersistError::WrongPassphrase {
                path: path.to_path_buf(),
            },
            sealed::UnsealError::Damaged(detail) => PersistError::Corrupt {
                path: path.to_path_buf(),
                detail,
            },
        })?;
        return from_ron(&plain, path);
    }
    check_checksum(&text).map_err(|detail| PersistError::Corrupt {
        path: path.to_path_buf(),
        detail,
    })?;
    from_ron(&text, path)
}

/// The last line of a saved workspace file: the SHA-256 of everything before it.
const CHECKSUM_PREFIX: &str = "// sha256: ";

/// Workspace text with its checksum line.
fn with_checksum(mut text: String) -> String {
    if !text.ends_with('\n') {
        text.push('\n');
    }
    let sum = crate::crypto::hex_upper(&wal::content_hash(text.as_bytes())).to_ascii_lowercase();
    text.push_str(CHECKSUM_PREFIX);
    text.push_str(&sum);
    text.push('\n');
    text
}

/// A file with a checksum line must match it (damage is refused at open, never found by a
/// later operation); a file without one (written by hand, or by an older console) is read
/// as it is.
fn check_checksum(text: &str) -> Result<(), String> {
    let body = text.trim_end();
    let Some(at) = body.rfind('\n').map(|i| i + 1) else {
        return Ok(());
    };
    let Some(sum) = body[at..].strip_prefix(CHECKSUM_PREFIX) else {
        return Ok(());
    };
    let actual =
        crate::crypto::hex_upper(&wal::content_hash(&text.as_bytes()[..at])).to_ascii_lowercase();
    if sum.trim().eq_ignore_ascii_case(&actual) {
        Ok(())
    } else {
        Err(format!(
            "its content does not match the checksum on its last line: it was damaged (or edited) after it was saved. Nothing was opened. To open a file edited on purpose, delete its last line ({CHECKSUM_PREFIX}…)."
        ))
    }
}

/// The file a path names: symlinks followed, even to a target that does not exist yet (a
/// save writes through a symlink, never replaces it).
pub fn resolve_target(path: &Path) -> std::io::Result<PathBuf> {
    let mut p = path.to_path_buf();
    for _ in 0..40 {
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let link = std::fs::read_link(&p)?;
                p = if link.is_absolute() {
                    link
                } else {
                    dir_of(&p).join(link)
                };
            }
            _ => return Ok(p),
        }
    }
    Err(std::io::Error::other(format!(
        "'{}': too many levels of symbolic links",
        path.display()
    )))
}

/// Claims the workspace at `target` for a process that keeps it open and writes it for a
/// long time (`serve`): a second such process is refused at start, not told at its first
/// write. Held until the file handle is dropped (or the process dies).
pub fn claim_for_serving(target: &Path) -> Result<std::fs::File, String> {
    let claim = dir_of(target).join(format!(".{}.serving", file_name_of(target)));
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let f = opts
        .open(&claim)
        .map_err(|e| format!("Cannot claim '{}': {e}", target.display()))?;
    match f.try_lock() {
        Ok(()) => Ok(f),
        Err(std::fs::TryLockError::WouldBlock) => Err(format!(
            "'{}' is being served by another tde-console process: stop it first (two servers writing one workspace would refuse each other's changes).",
            target.display()
        )),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(format!("Cannot claim '{}': {e}", target.display()))
        }
    }
}

/// Holds other writers of the workspace at `target` off (an advisory lock on a sibling
/// `.NAME.lock` file) until dropped: between checking that nobody saved since and renaming,
/// no other console process can save or log.
pub fn lock_writers(target: &Path) -> std::io::Result<std::fs::File> {
    let lock = dir_of(target).join(format!(".{}.lock", file_name_of(target)));
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let f = opts.open(&lock)?;
    // A writer holds it for one save or one log append; one that holds it far longer is
    // stuck (stopped with SIGSTOP?): say so rather than wait forever.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        match f.try_lock() {
            Ok(()) => return Ok(f),
            Err(std::fs::TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::WouldBlock,
                    format!(
                        "another process has held '{}' for 30 s while writing the workspace; nothing was written",
                        lock.display()
                    ),
                ));
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(e),
        }
    }
}

/// What a file looked like on disk when this process last read or wrote it: another
/// process's save changes it (a new inode after its rename, a new time, a new size).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DiskStamp {
    len: u64,
    modified: Option<std::time::SystemTime>,
    inode: u64,
    /// The length of the file's write-ahead log (0: none): another process's logged
    /// change is a change of the file too.
    log_len: u64,
}

/// The file's stamp now (`None`: there is no file).
pub fn stamp(path: &Path) -> Option<DiskStamp> {
    let target = resolve_target(path).ok()?;
    let m = std::fs::metadata(&target).ok()?;
    let log_len = std::fs::metadata(wal::path_for(&target)).map_or(0, |m| m.len());
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&m);
    #[cfg(not(unix))]
    let inode = 0;
    Some(DiskStamp {
        len: m.len(),
        modified: m.modified().ok(),
        inode,
        log_len,
    })
}

/// Saves unless another process saved `path` (or logged a change to it) since `expected`
/// was taken: then nothing is written and the error says so. Other writers are locked out
/// from the check to the rename. The file's log is folded in (removed). Returns the new
/// stamp.
pub fn save_checked(
    ws: &Workspace,
    path: &Path,
    expected: Option<DiskStamp>,
    passphrase: Option<&str>,
) -> Result<Option<DiskStamp>, String> {
    let bytes = file_bytes(ws, passphrase).map_err(|e| e.to_string())?;
    let target =
        resolve_target(path).map_err(|e| format!("Cannot write '{}': {e}", path.display()))?;
    let _lock = lock_writers(&target)
        .map_err(|e| format!("Cannot lock '{}' for writing: {e}", path.display()))?;
    if stamp(path) != expected {
        return Err(changed_on_disk(path));
    }
    write_file_and_fold_log(&target, &bytes).map_err(|error| {
        PersistError::Io {
            path: path.to_path_buf(),
            error,
        }
        .to_string()
    })?;
    Ok(stamp(path))
}

/// What a writer that finds the file changed since it read it is told.
pub fn changed_on_disk(path: &Path) -> String {
    format!(
        "'{}' changed on disk since this console opened or last saved it (another process saved it?). Nothing was written: save under another name, or use Save as… to overwrite it.",
        path.display()
    )
}

/// The bytes a workspace file holds: RON with its checksum line, or sealed.
pub fn file_bytes(ws: &Workspace, passphrase: Option<&str>) -> Result<Vec<u8>, PersistError> {
    let text = to_ron(ws)?;
    Ok(match passphrase {
        Some(p) => sealed::seal(&text, p).map_err(PersistError::Serialize)?,
        None => with_checksum(text),
    }
    .into_bytes())
}

/// Writes the file atomically, then removes its log (a crash between the two leaves a log
/// that names the old content: recognised on open as folded in).
fn write_file_and_fold_log(target: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomically(target, bytes)?;
    match std::fs::remove_file(wal::path_for(target)) {
        Ok(()) => sync_dir(target),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    Ok(())
}

/// Writes a workspace atomically: a temporary file beside the target, fsync, rename.
pub fn save(ws: &Workspace, path: &Path) -> Result<(), PersistError> {
    save_with(ws, path, None)
}

/// [`save`], sealed under `passphrase` when given (Argon2id + AES-256-GCM).
pub fn save_with(
    ws: &Workspace,
    path: &Path,
    passphrase: Option<&str>,
) -> Result<(), PersistError> {
    let bytes = file_bytes(ws, passphrase)?;
    let io = |error| PersistError::Io {
        path: path.to_path_buf(),
        error,
    };
    let target = resolve_target(path).map_err(io)?;
    let _lock = lock_writers(&target).map_err(io)?;
    write_file_and_fold_log(&target, &bytes).map_err(io)
}

/// Writes a new file (atomically), refusing any path that exists (a file, a symlink, a
/// FIFO, a device): how exports, downloads and backups leave the console. Mode 0600: they
/// may hold key material. The error is the text a person reads.
pub fn write_new_file(path: &Path, bytes: &[u8]) -> Result<(), String> {
    if path.symlink_metadata().is_ok() {
        return Err(format!("File '{}' already exists.", path.display()));
    }
    let result = (|| {
        let tmp = temp_file_beside(path)?;
        let mut f = tmp.as_file();
        f.write_all(bytes)?;
        f.sync_all()?;
        // No-clobber: fails if something appeared at the path meanwhile.
        tmp.persist_noclobber(path).map_err(|e| e.error)?;
        sync_dir(path);
        Ok::<(), std::io::Error>(())
    })();
    result.map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            format!("File '{}' already exists.", path.display())
        } else {
            format!("Cannot write '{}': {e}", path.display())
        }
    })
}

/// Writes a file atomically: a temporary file beside the target (created exclusively, with
/// an unpredictable name, mode 0600), fsync, rename. A reader sees the old file or the new
/// one, never half of it. A symlink is written through to its target; an existing file keeps
/// its mode (a new one gets 0600: workspaces hold private keys); a path that is not a
/// regular file (a FIFO, a device, a directory) is refused.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let target = resolve_target(path)?;
    let mode = match std::fs::metadata(&target) {
        Ok(m) if !m.is_file() => {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("'{}' is not a regular file", target.display()),
            ));
        }
        Ok(m) => Some(m.permissions()),
        Err(_) => None,
    };
    remove_stale_temp_files(&target);
    let tmp = temp_file_beside(&target)?;
    {
        let mut f = tmp.as_file();
        f.write_all(bytes)?;
        if let Some(p) = mode {
            f.set_permissions(p)?;
        }
        f.sync_all()?;
    }
    tmp.persist(&target).map_err(|e| e.error)?;
    sync_dir(&target);
    Ok(())
}

/// A temporary file in `path`'s directory: `.<name>.<random>.tmp`, created exclusively,
/// mode 0600; removed if dropped before it is persisted.
fn temp_file_beside(path: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    let dir = dir_of(path);
    let name = file_name_of(path);
    let prefix = format!(".{name}.");
    let mut b = tempfile::Builder::new();
    b.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        b.permissions(std::fs::Permissions::from_mode(0o600));
    }
    b.tempfile_in(dir)
}

fn dir_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn file_name_of(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "workspace.ron".into())
}

fn sync_dir(path: &Path) {
    if let Ok(d) = std::fs::File::open(dir_of(path)) {
        let _ = d.sync_all();
    }
}

/// Temporary files of earlier saves of `path` that a killed process left (older than an
/// hour, so a save running elsewhere is never touched).
fn remove_stale_temp_files(path: &Path) {
    let prefix = format!(".{}.", file_name_of(path));
    let Ok(entries) = std::fs::read_dir(dir_of(path)) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        let old = e
            .metadata()
            .ok()
            .filter(|m| m.is_file())
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > std::time::Duration::from_secs(3600));
        if name.starts_with(&prefix) && name.ends_with(".tmp") && old {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// Reads a file the user named, refusing what is not a regular file (a FIFO would block, a
/// device never ends) and anything larger than `max` bytes.
pub fn read_bounded(path: &Path, max: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let m = std::fs::metadata(path)?;
    if !m.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    if m.len() > max {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("larger than {max} bytes"),
        ));
    }
    let mut out = Vec::with_capacity(m.len() as usize);
    std::fs::File::open(path)?
        .take(max + 1)
        .read_to_end(&mut out)?;
    if out.len() as u64 > max {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("larger than {max} bytes"),
        ));
    }
    Ok(out)
}

/// A key, certificate, backup or policy file the user named (bounded, regular files only).
pub fn read_user_file(path: impl AsRef<Path>) -> std::io::Result<Vec<u8>> {
    read_bounded(path.as_ref(), MAX_INPUT_FILE)
}

/// [`read_user_file`] as UTF-8 text.
pub fn read_user_text(path: impl AsRef<Path>) -> std::io::Result<String> {
    String::from_utf8(read_user_file(path)?).map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "the file is not UTF-8 text",
        )
    })
}

/// The largest key, certificate, backup or policy file the console reads.
pub const MAX_INPUT_FILE: u64 = 16 * 1024 * 1024;

/// The largest workspace file the console opens.
pub const MAX_WORKSPACE_FILE: u64 = 4 * 1024 * 1024 * 1024;

/// The built-in demo workspace (embedded in the binary).
pub const DEMO_RON: &str = include_str!("../../assets/demo-workspace.ron");

/// Gives a workspace that still holds the secret published with the built-in demo (a copy
/// of the asset, or a file saved from the demo by an older console) a fresh one of its own,
/// bookmarks included. Returns whether anything changed.
pub fn refresh_published_secrets(ws: &mut Workspace) -> bool {
    let mut changed = false;
    if ws.backup_root.is_published() {
        ws.backup_root = crate::crypto::backup::BackupRoot::generate();
        changed = true;
    }
    let root = ws.backup_root.clone();
    for b in &mut ws.bookmarks {
        if b.state.backup_root.is_published() {
            std::sync::Arc::make_mut(&mut b.state).backup_root = root.clone();
            changed = true;
        }
    }
    changed
}

/// The name the built-in demo opens with.
pub const DEMO_NAME: &str = "Contoso demo";

/// Opens the built-in demo, with fresh secrets of its own.
pub fn demo() -> Result<Workspace, PersistError> {
    let mut ws = from_ron(DEMO_RON, Path::new("<built-in demo>"))?;
    refresh_published_secrets(&mut ws);
    ws.name = DEMO_NAME.into();
    ws.mark_notifications_read();
    Ok(ws)
}
