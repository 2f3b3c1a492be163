//! Crash recovery: while a workspace has unsaved changes, every change is made durable (on a
//! worker) in a copy of its own under `$XDG_DATA_HOME/tde-console/recovery/` (or
//! `~/.local/share/...`), mode 0600: the first change writes the whole workspace there, each
//! later one appends its delta to the copy's write-ahead log (see `persist::store`), fsync'd
//! — so a crash (kill -9, power loss) loses nothing that was on screen for more than a
//! moment. A save, or closing without saving on purpose, removes the copy and its log.
//!
//! Each workspace has its own copy, keyed by what it is (the built-in demo, a new unsaved
//! workspace, or a file by its canonical path): `KEY-N.ron`, with `KEY-N.about` naming the
//! workspace and `KEY-N.lock`, which the console writing the copy holds locked (an exclusive
//! `flock`) for as long as it runs. A copy whose lock is held belongs to a live console and is
//! never offered, taken or overwritten; a second console on the same workspace writes a slot
//! of its own (`KEY-1`, ...). A copy whose lock is free was left by a console that died: the
//! next start offers every such copy, by name, to recover or discard.

use crate::model::Workspace;
use crate::persist::store::Store;
use poll_promise::Promise;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// `$XDG_DATA_HOME/tde-console` (or `~/.local/share/tde-console`).
fn data_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))?;
    Some(base.join("tde-console"))
}

/// What a copy is a copy of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// The built-in demo (or a scenario built on it), not saved to a file.
    Demo,
    /// A new workspace never saved.
    New,
    /// A workspace file (its canonical path).
    File(PathBuf),
}

impl Origin {
    /// What the open workspace is: its file, or the demo or a new workspace when it has none.
    pub fn of(path: Option<&Path>, ws: &Workspace) -> Origin {
        match path {
            Some(p) => Origin::File(std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())),
            None if ws.name == crate::persist::DEMO_NAME => Origin::Demo,
            None => Origin::New,
        }
    }

    /// The name its copies' files start with: one key per workspace.
    fn key(&self) -> String {
        match self {
            Origin::Demo => "demo".into(),
            Origin::New => "new".into(),
            Origin::File(p) => {
                let stem: String = p
                    .file_stem()
                    .map(|s| s.to_string_lossy().to_string())
                    .unwrap_or_default()
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .take(32)
                    .collect();
                let hash = crate::persist::wal::content_hash(p.as_os_str().as_encoded_bytes());
                let hex: String = hash[..8].iter().map(|b| format!("{b:02x}")).collect();
                format!("file-{stem}-{hex}")
            }
        }
    }

    /// Where the work came from, as the Recover dialog says it.
    pub fn describe(&self) -> String {
        match self {
            Origin::Demo => "the built-in demo".into(),
            Origin::New => "a new workspace, never saved".into(),
            Origin::File(p) => p.display().to_string(),
        }
    }

    fn about(&self, name: &str) -> String {
        let (origin, file) = match self {
            Origin::Demo => ("demo", None),
            Origin::New => ("new", None),
            Origin::File(p) => ("file", Some(p.display().to_string())),
        };
        serde_json::json!({ "name": name, "origin": origin, "file": file }).to_string()
    }
}

/// A copy left by a console that is gone (its lock free).
#[derive(Clone, Debug)]
pub struct Leftover {
    pub copy: PathBuf,
    /// The workspace's name (`None`: the copy does not say, as an older version's).
    pub name: Option<String>,
    pub origin: Option<Origin>,
    /// When the copy (or its log) was last written.
    pub changed: Option<SystemTime>,
}

impl Leftover {
    /// "Contoso demo — the built-in demo" (or the file it was opened from).
    pub fn title(&self) -> String {
        let name = self.name.as_deref().unwrap_or("Unsaved work");
        match &self.origin {
            Some(o) => format!("{name} — {}", o.describe()),
            None => format!("{name} — kept by an earlier version"),
        }
    }

    /// "last changed 1 minute ago".
    pub fn when(&self, now: SystemTime) -> String {
        match self.changed.and_then(|t| now.duration_since(t).ok()) {
            Some(age) => format!("last changed {}", ago(age.as_secs())),
            None => "last changed at an unknown time".into(),
        }
    }
}

/// "less than a minute ago", "1 minute ago", "3 hours ago", "2 days ago".
pub fn ago(secs: u64) -> String {
    let (n, unit) = match secs {
        0..60 => return "less than a minute ago".into(),
        60..3600 => (secs / 60, "minute"),
        3600..86400 => (secs / 3600, "hour"),
        _ => (secs / 86400, "day"),
    };
    format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" })
}

/// The slot this console writes its copy to, its lock held.
struct Slot {
    copy: PathBuf,
    _lock: File,
    origin: Option<Origin>,
    /// The `.about` text last written.
    about: Option<String>,
}

/// The copy's store with the passphrase it protects the copy with.
type Copy = (Store, Option<String>);

#[derive(Default)]
pub struct Recovery {
    /// Where copies go (`None`: off, as in tests).
    dir: Option<PathBuf>,
    /// The single copy an earlier version kept (`recovery.ron` beside the directory).
    legacy: Option<PathBuf>,
    slot: Option<Slot>,
    /// The copy, between writes (with the passphrase it protects the copy with).
    store: Option<Copy>,
    /// The revision the copy holds.
    recorded: Option<u64>,
    writing: Option<Promise<Option<Copy>>>,
    /// Leftover copies offered at start, their locks held until the person decides.
    offered: Vec<(PathBuf, File)>,
}

fn lock_path(copy: &Path) -> PathBuf {
    copy.with_extension("lock")
}

fn about_path(copy: &Path) -> PathBuf {
    copy.with_extension("about")
}

/// Locks `path` exclusively if no live console holds it (`None`: one does).
fn try_lock(path: &Path) -> Option<File> {
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let f = opts.open(path).ok()?;
    f.try_lock().ok()?;
    // The owner removes its lock file when done: a lock taken on a file removed meanwhile
    // guards nothing.
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let held = f.metadata().ok()?.ino();
        if std::fs::metadata(path).ok()?.ino() != held {
            return None;
        }
    }
    Some(f)
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
}

/// The first free slot for `origin`'s copies: not held by a live console, and holding no
/// copy left by a dead one (that waits for its owner's decision, never overwritten).
fn claim(dir: &Path, origin: &Origin) -> Option<Slot> {
    create_private_dir(dir).ok()?;
    let key = origin.key();
    (0..256).find_map(|n| {
        let copy = dir.join(format!("{key}-{n}.ron"));
        let lock = try_lock(&lock_path(&copy))?;
        if copy.symlink_metadata().is_ok() {
            return None;
        }
        Some(Slot {
            copy,
            _lock: lock,
            origin: Some(origin.clone()),
            about: None,
        })
    })
}

/// Removes a copy and everything beside it; its lock file last (while still held).
fn remove_copy(copy: &Path) {
    let _ = std::fs::remove_file(copy);
    let _ = std::fs::remove_file(crate::persist::wal::path_for(copy));
    let _ = std::fs::remove_file(about_path(copy));
    if let (Some(dir), Some(name)) = (copy.parent(), copy.file_name()) {
        let writers = dir.join(format!(".{}.lock", name.to_string_lossy()));
        let _ = std::fs::remove_file(writers);
    }
    let _ = std::fs::remove_file(lock_path(copy));
}

fn modified(p: &Path) -> Option<SystemTime> {
    std::fs::metadata(p).and_then(|m| m.modified()).ok()
}

fn read_about(copy: &Path) -> (Option<String>, Option<Origin>) {
    let Ok(bytes) = crate::persist::read_bounded(&about_path(copy), 64 * 1024) else {
        return (None, None);
    };
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return (None, None);
    };
    let name = v["name"].as_str().map(str::to_string);
    let origin = match (v["origin"].as_str(), v["file"].as_str()) {
        (Some("demo"), _) => Some(Origin::Demo),
        (Some("new"), _) => Some(Origin::New),
        (Some("file"), Some(f)) => Some(Origin::File(PathBuf::from(f))),
        _ => None,
    };
    (name, origin)
}

impl Recovery {
    pub fn on_disk() -> Self {
        let data = data_dir();
        Recovery {
            dir: data.as_ref().map(|d| d.join("recovery")),
            legacy: data.map(|d| d.join("recovery.ron")),
            ..Default::default()
        }
    }

    /// Copies go to `dir` (tests).
    pub fn in_dir(dir: PathBuf) -> Self {
        Recovery {
            dir: Some(dir),
            ..Default::default()
        }
    }

    /// The copy this console writes, once it has written one.
    pub fn copy(&self) -> Option<&Path> {
        self.slot
            .as_ref()
            .map(|s| s.copy.as_path())
            .filter(|p| p.is_file())
    }

    /// Every copy left by a console that is gone, newest first. Their locks stay held (no
    /// other console offers them meanwhile) until [`Self::adopt`], [`Self::discard`] or
    /// [`Self::release_offered`].
    pub fn take_leftovers(&mut self) -> Vec<Leftover> {
        let mut copies: Vec<PathBuf> = self
            .dir
            .as_deref()
            .and_then(|d| std::fs::read_dir(d).ok())
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.extension().is_some_and(|e| e == "ron")
                    && p.file_name()
                        .is_some_and(|n| !n.to_string_lossy().starts_with('.'))
            })
            .collect();
        copies.extend(self.legacy.clone());
        let mut found = Vec::new();
        for copy in copies {
            if !copy.is_file() || self.offered.iter().any(|(p, _)| *p == copy) {
                continue;
            }
            let Some(lock) = try_lock(&lock_path(&copy)) else {
                continue;
            };
            let (name, origin) = read_about(&copy);
            let changed = [
                modified(&copy),
                modified(&crate::persist::wal::path_for(&copy)),
            ]
            .into_iter()
            .flatten()
            .max();
            self.offered.push((copy.clone(), lock));
            found.push(Leftover {
                copy,
                name,
                origin,
                changed,
            });
        }
        found.sort_by_key(|l| std::cmp::Reverse(l.changed));
        found
    }

    /// Lets go of the offered copies (all but `keep`): they stay on disk for the next start.
    pub fn release_offered(&mut self, keep: Option<&Path>) {
        self.offered.retain(|(p, _)| Some(p.as_path()) == keep);
    }

    /// The offered copy is not wanted: it is removed.
    pub fn discard(&mut self, copy: &Path) {
        if let Some(i) = self.offered.iter().position(|(p, _)| p == copy) {
            let (p, lock) = self.offered.remove(i);
            remove_copy(&p);
            drop(lock);
        }
    }

    /// The offered copy was reopened: this console writes its unsaved work there from now
    /// on (the copy it wrote until now, if any, is removed). False if the copy is not held.
    pub fn adopt(&mut self, copy: &Path) -> bool {
        let Some(i) = self.offered.iter().position(|(p, _)| p == copy) else {
            return false;
        };
        let (copy, lock) = self.offered.remove(i);
        self.clear();
        let (_, origin) = read_about(&copy);
        self.slot = Some(Slot {
            copy,
            _lock: lock,
            origin,
            about: None,
        });
        true
    }

    /// Called every frame: makes the unsaved state of `ws` (opened from `path`, if from a
    /// file) durable in this console's copy (one write at a time, on a worker; a change made
    /// meanwhile is written next).
    pub fn tick(
        &mut self,
        ws: &Workspace,
        path: Option<&Path>,
        dirty: bool,
        passphrase: Option<&str>,
        _now: f64,
    ) {
        let Some(dir) = self.dir.clone() else {
            return;
        };
        if let Some(p) = self.writing.take() {
            match p.try_take() {
                Ok(store) => self.store = store,
                Err(p) => {
                    self.writing = Some(p);
                    return;
                }
            }
        }
        if !dirty || self.recorded == Some(ws.revision) {
            return;
        }
        self.recorded = Some(ws.revision);
        if self.slot.is_none() {
            // No free slot (the disk refuses?): no copy, tried again at the next change.
            self.slot = claim(&dir, &Origin::of(path, ws));
        }
        let Some(slot) = &mut self.slot else {
            return;
        };
        let origin = slot.origin.get_or_insert_with(|| Origin::of(path, ws));
        let about = origin.about(&ws.name);
        let about = (slot.about.as_ref() != Some(&about)).then(|| {
            slot.about = Some(about.clone());
            (about_path(&slot.copy), about)
        });
        let copy_path = slot.copy.clone();
        let copy = ws.clone();
        // A protected workspace's copy is protected the same way.
        let passphrase = passphrase.map(str::to_string);
        let store = self.store.take();
        self.writing = Some(Promise::spawn_thread("tde-console-recovery", move || {
            if let Some((at, text)) = about {
                let _ = crate::persist::write_atomically(&at, text.as_bytes());
            }
            write_copy(store, &copy_path, passphrase, &copy)
        }));
    }

    /// Waits for the write in flight (tests, and before the copy is removed).
    pub fn settle(&mut self) {
        if let Some(p) = self.writing.take() {
            self.store = p.block_and_take();
        }
    }

    /// The work is safe (saved, or discarded on purpose): no copy is needed any more.
    pub fn clear(&mut self) {
        self.settle();
        self.recorded = None;
        self.store = None;
        if let Some(slot) = self.slot.take() {
            remove_copy(&slot.copy);
        }
    }
}

/// One write of the copy: the change's delta logged, or the whole workspace when the copy is
/// new, adopted, protected differently or large in its log.
fn write_copy(
    store: Option<Copy>,
    path: &Path,
    passphrase: Option<String>,
    ws: &Workspace,
) -> Option<Copy> {
    let reusable = store.filter(|(s, p)| *p == passphrase && !s.log_is_large());
    let mut store = match reusable {
        Some((s, _)) => s,
        None => {
            if path.exists() {
                // Rewritten whole, atomically: the copy there stays until this one replaces it.
                crate::persist::save_with(ws, path, passphrase.as_deref()).ok()?;
            }
            Store::open(path, passphrase.as_deref(), || ws.clone())
                .ok()?
                .0
        }
    };
    match store.record(ws) {
        Ok(_) => Some((store, passphrase)),
        // The disk refused: start the copy afresh next time.
        Err(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unsaved(name: &str) -> Workspace {
        let mut ws = crate::service::new_workspace(name, 4);
        ws.bump_revision();
        ws
    }

    fn change(ws: &mut Workspace, rg: &str) {
        crate::service::resources::create_resource_group(ws, rg, "eastus").unwrap();
    }

    fn written(r: &mut Recovery, ws: &Workspace, path: Option<&Path>) -> PathBuf {
        r.tick(ws, path, true, None, 0.0);
        r.settle();
        r.copy().expect("a copy was written").to_path_buf()
    }

    #[test]
    fn unsaved_work_is_copied_privately_and_removed_once_safe() {
        let dir = tempfile::tempdir().unwrap();
        let rec = dir.path().join("sub").join("recovery");
        let mut r = Recovery::in_dir(rec.clone());
        let ws = unsaved("unsaved");
        r.tick(&ws, None, false, None, 0.0);
        assert!(r.copy().is_none(), "nothing unsaved, nothing copied");
        let copy = written(&mut r, &ws, None);
        assert_eq!(crate::persist::load(&copy).unwrap().name, "unsaved");
        use std::os::unix::fs::PermissionsExt;
        for p in [copy.clone(), about_path(&copy), lock_path(&copy)] {
            let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", p.display());
        }
        let mode = std::fs::metadata(&rec).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        r.clear();
        assert!(r.copy().is_none());
        assert_eq!(
            std::fs::read_dir(&rec).unwrap().count(),
            0,
            "nothing left behind"
        );
    }

    #[test]
    fn every_change_is_durable_at_once_and_replays_after_a_crash() {
        let dir = tempfile::tempdir().unwrap();
        let mut r = Recovery::in_dir(dir.path().to_path_buf());
        let mut ws = unsaved("unsaved");
        let copy = written(&mut r, &ws, None);
        for name in ["one", "two", "three"] {
            change(&mut ws, &format!("rg-{name}"));
            r.tick(&ws, None, true, None, 0.1);
            r.settle();
        }
        // The copy's log holds the changes made after the first write.
        assert!(crate::persist::wal::path_for(&copy).is_file());
        // A crash here (kill -9): the next start finds the copy and reads it with its log.
        drop(r);
        let back = crate::persist::load(&copy).unwrap();
        assert_eq!(
            crate::persist::to_ron(&back).unwrap(),
            crate::persist::to_ron(&ws).unwrap()
        );
        let mut again = Recovery::in_dir(dir.path().to_path_buf());
        let left = again.take_leftovers();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].copy, copy);
        again.discard(&copy);
        assert!(!copy.exists() && !crate::persist::wal::path_for(&copy).exists());
        assert!(
            Recovery::in_dir(dir.path().to_path_buf())
                .take_leftovers()
                .is_empty()
        );
    }

    #[test]
    fn two_consoles_keep_a_copy_each_and_a_live_ones_is_never_offered() {
        let dir = tempfile::tempdir().unwrap();
        let rec = dir.path().join("recovery");
        let file = dir.path().join("storm.ron");
        crate::persist::save(&unsaved("Failover storm"), &file).unwrap();
        // Console 1: unsaved work in the demo. Console 2: another workspace's file.
        let mut one = Recovery::in_dir(rec.clone());
        let mut demo = unsaved(crate::persist::DEMO_NAME);
        change(&mut demo, "rg-trainer");
        let one_copy = written(&mut one, &demo, None);
        let mut two = Recovery::in_dir(rec.clone());
        let mut storm = unsaved("Failover storm");
        change(&mut storm, "rg-storm");
        let two_copy = written(&mut two, &storm, Some(&file));
        assert_ne!(one_copy, two_copy, "each workspace has its own copy");
        // A third console starting meanwhile offers neither: both owners are alive.
        assert!(Recovery::in_dir(rec.clone()).take_leftovers().is_empty());
        // Console 2 is killed -9: only its copy is offered, named, and the demo's is intact.
        drop(two);
        let mut three = Recovery::in_dir(rec.clone());
        let left = three.take_leftovers();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].copy, two_copy);
        assert_eq!(left[0].name.as_deref(), Some("Failover storm"));
        let canonical = std::fs::canonicalize(&file).unwrap();
        assert_eq!(left[0].origin, Some(Origin::File(canonical.clone())));
        assert_eq!(
            left[0].title(),
            format!("Failover storm — {}", canonical.display())
        );
        // While console 3 offers it, a fourth does not.
        assert!(Recovery::in_dir(rec.clone()).take_leftovers().is_empty());
        let back = crate::persist::load(&one_copy).unwrap();
        assert!(back.resource_groups.iter().any(|g| g.name == "rg-trainer"));
        // Console 1 keeps writing its own copy.
        change(&mut demo, "rg-more");
        one.tick(&demo, None, true, None, 0.0);
        one.settle();
        let back = crate::persist::load(&one_copy).unwrap();
        assert!(back.resource_groups.iter().any(|g| g.name == "rg-more"));
        assert!(
            crate::persist::load(&two_copy)
                .unwrap()
                .resource_groups
                .iter()
                .all(|g| g.name != "rg-more")
        );
        // Console 1 dies too: the next start offers both, with what they are.
        drop(one);
        three.release_offered(None);
        let left = Recovery::in_dir(rec.clone()).take_leftovers();
        assert_eq!(left.len(), 2);
        assert!(
            left.iter()
                .any(|l| l.title() == "Contoso demo — the built-in demo")
        );
    }

    #[test]
    fn a_second_console_on_the_same_workspace_writes_a_slot_of_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let rec = dir.path().to_path_buf();
        let mut a = Recovery::in_dir(rec.clone());
        let mut b = Recovery::in_dir(rec.clone());
        let mut wa = unsaved(crate::persist::DEMO_NAME);
        change(&mut wa, "rg-a");
        let mut wb = unsaved(crate::persist::DEMO_NAME);
        change(&mut wb, "rg-b");
        let ca = written(&mut a, &wa, None);
        let cb = written(&mut b, &wb, None);
        assert_ne!(ca, cb);
        let has = |p: &Path, rg: &str| {
            crate::persist::load(p)
                .unwrap()
                .resource_groups
                .iter()
                .any(|g| g.name == rg)
        };
        assert!(has(&ca, "rg-a") && !has(&ca, "rg-b"));
        assert!(has(&cb, "rg-b") && !has(&cb, "rg-a"));
        // A dies; a new console on the demo does not overwrite what A left.
        drop(a);
        let mut c = Recovery::in_dir(rec.clone());
        let mut wc = unsaved(crate::persist::DEMO_NAME);
        change(&mut wc, "rg-c");
        let cc = written(&mut c, &wc, None);
        assert!(cc != ca && cc != cb);
        assert!(has(&ca, "rg-a") && !has(&ca, "rg-c"));
    }

    #[test]
    fn a_recovered_copy_is_written_on_and_removed_once_saved() {
        let dir = tempfile::tempdir().unwrap();
        let rec = dir.path().to_path_buf();
        let mut a = Recovery::in_dir(rec.clone());
        let mut ws = unsaved("work");
        change(&mut ws, "rg-1");
        let copy = written(&mut a, &ws, None);
        drop(a);
        let mut b = Recovery::in_dir(rec.clone());
        let left = b.take_leftovers();
        assert_eq!(left[0].title(), "work — a new workspace, never saved");
        assert!(b.adopt(&copy));
        let mut back = crate::persist::load(&copy).unwrap();
        back.bump_revision();
        change(&mut back, "rg-2");
        assert_eq!(
            written(&mut b, &back, None),
            copy,
            "the same copy, written on"
        );
        let again = crate::persist::load(&copy).unwrap();
        assert!(again.resource_groups.iter().any(|g| g.name == "rg-2"));
        assert!(Recovery::in_dir(rec.clone()).take_leftovers().is_empty());
        b.clear();
        assert!(!copy.exists());
    }

    #[test]
    fn ages_read_as_a_person_says_them() {
        assert_eq!(ago(5), "less than a minute ago");
        assert_eq!(ago(60), "1 minute ago");
        assert_eq!(ago(119), "1 minute ago");
        assert_eq!(ago(180), "3 minutes ago");
        assert_eq!(ago(3600), "1 hour ago");
        assert_eq!(ago(7300), "2 hours ago");
        assert_eq!(ago(86400), "1 day ago");
    }
}
