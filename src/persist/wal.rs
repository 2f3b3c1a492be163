//! The write-ahead log beside a workspace file (`NAME.ron.wal`): the changes made since the
//! file was last written, one checksummed [`Delta`] an entry, so an acknowledged change is
//! on disk before it is acknowledged and a crash loses nothing.
//!
//! ```text
//! header:  "TDEWAL1\n" | sha256 of the workspace file it continues (32) | sealed (1) | salt (16, sealed only)
//! entry:   payload length (u32 LE) | first 16 bytes of sha256(payload) | payload
//! payload: the delta as RON; sealed: nonce (12) | AES-256-GCM of the RON
//! ```
//!
//! A log continues exactly one file: its header names the file's content hash, so a log
//! left over after the file was rewritten (a crash between the rename and the log's
//! removal) is recognised as already folded in and ignored. An entry whose length runs past
//! the end or whose checksum fails is a torn write: it and anything after it are dropped.
//! A log of a passphrase-protected workspace is encrypted under a key derived from the same
//! passphrase (Argon2id, the log's own salt).

use super::delta::{self, Delta};
use crate::model::Workspace;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 8] = b"TDEWAL1\n";
const AAD: &[u8] = b"tde-console workspace log v1";
/// The largest entry read back (a delta carries changed parts, never a whole estate twice).
const MAX_ENTRY: u32 = 1 << 30;

/// The log's path for a workspace file (its real path, symlinks resolved).
pub fn path_for(target: &Path) -> PathBuf {
    let mut s = target.as_os_str().to_os_string();
    s.push(".wal");
    PathBuf::from(s)
}

/// SHA-256 of a file's bytes: what a log names as the file it continues.
pub fn content_hash(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// What reading a log found.
#[derive(Debug, Default)]
pub struct Replayed {
    /// Entries applied.
    pub entries: usize,
    /// Bytes of the log that hold whole entries (what follows is torn and dropped).
    pub valid_len: u64,
    /// The log continues another state of the file (already folded in): ignored.
    pub stale: bool,
}

/// The key a sealed log's entries are encrypted under.
#[derive(Clone)]
pub struct LogKey {
    salt: [u8; 16],
    key: [u8; 32],
}

impl LogKey {
    /// A fresh key for a new log of a workspace protected by `passphrase`.
    pub fn new(passphrase: &str) -> Result<LogKey, String> {
        let mut salt = [0u8; 16];
        rand::fill(&mut salt);
        Self::with_salt(passphrase, salt)
    }

    fn with_salt(passphrase: &str, salt: [u8; 16]) -> Result<LogKey, String> {
        let key = super::sealed::derive_key(passphrase, &salt)?;
        Ok(LogKey { salt, key })
    }
}

/// The header of a new log continuing the file whose content hash is `base`.
pub fn header(base: &[u8; 32], key: Option<&LogKey>) -> Vec<u8> {
    let mut h = MAGIC.to_vec();
    h.extend_from_slice(base);
    match key {
        Some(k) => {
            h.push(1);
            h.extend_from_slice(&k.salt);
        }
        None => h.push(0),
    }
    h
}

/// One entry, ready to append.
pub fn entry(d: &Delta, key: Option<&LogKey>) -> Result<Vec<u8>, String> {
    let ron = ron::to_string(d).map_err(|e| format!("cannot write the change to the log: {e}"))?;
    let payload = match key {
        None => ron.into_bytes(),
        Some(k) => {
            let mut nonce = [0u8; 12];
            rand::fill(&mut nonce);
            let sealed = Aes256Gcm::new(&Key::<Aes256Gcm>::from(k.key))
                .encrypt(
                    &Nonce::from(nonce),
                    Payload {
                        msg: ron.as_bytes(),
                        aad: AAD,
                    },
                )
                .map_err(|_| "cannot encrypt the change for the log".to_string())?;
            let mut p = nonce.to_vec();
            p.extend_from_slice(&sealed);
            p
        }
    };
    let len = u32::try_from(payload.len())
        .ok()
        .filter(|l| *l <= MAX_ENTRY)
        .ok_or("the change is too large for the log")?;
    let mut out = Vec::with_capacity(payload.len() + 20);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&Sha256::digest(&payload)[..16]);
    out.extend_from_slice(&payload);
    Ok(out)
}

/// Applies the log `bytes` to `ws` (the state of the file whose hash is `base`). Entries
/// apply whole or not at all; a torn or damaged entry ends the replay there. The key of a
/// sealed log is returned for appending to it.
pub fn replay(
    bytes: &[u8],
    base: &[u8; 32],
    passphrase: Option<&str>,
    ws: &mut Workspace,
) -> Result<(Replayed, Option<LogKey>), String> {
    let head = MAGIC.len() + 32 + 1;
    if bytes.len() < head || &bytes[..MAGIC.len()] != MAGIC {
        // Not a log this console wrote whole (a crash while writing the header, or a
        // stranger): nothing in it was ever acknowledged.
        return Ok((
            Replayed {
                stale: true,
                ..Replayed::default()
            },
            None,
        ));
    }
    if &bytes[MAGIC.len()..MAGIC.len() + 32] != base {
        return Ok((
            Replayed {
                stale: true,
                ..Replayed::default()
            },
            None,
        ));
    }
    let sealed = bytes[head - 1] == 1;
    let mut at = head;
    let key = if sealed {
        let Some(salt) = bytes.get(head..head + 16) else {
            return Ok((
                Replayed {
                    stale: true,
                    ..Replayed::default()
                },
                None,
            ));
        };
        at += 16;
        let p = passphrase.ok_or("the workspace's log is protected with a passphrase")?;
        let mut s = [0u8; 16];
        s.copy_from_slice(salt);
        Some(LogKey::with_salt(p, s)?)
    } else {
        None
    };
    let mut out = Replayed {
        valid_len: at as u64,
        ..Replayed::default()
    };
    // Applied to a copy, entry by entry: a damaged entry leaves the state of the one before.
    let mut state = ws.clone();
    while let Some(len_bytes) = bytes.get(at..at + 4) {
        let len = u32::from_le_bytes([len_bytes[0], len_bytes[1], len_bytes[2], len_bytes[3]]);
        if len > MAX_ENTRY {
            break;
        }
        let start = at + 20;
        let Some(payload) = bytes.get(start..start + len as usize) else {
            break;
        };
        if Sha256::digest(payload)[..16] != bytes[at + 4..at + 20] {
            break;
        }
        let Some(d) = decode(payload, key.as_ref()) else {
            break;
        };
        let mut next = state.clone();
        if delta::apply(&mut next, d).is_err() {
            break;
        }
        state = next;
        at = start + len as usize;
        out.entries += 1;
        out.valid_len = at as u64;
    }
    *ws = state;
    Ok((out, key))
}

fn decode(payload: &[u8], key: Option<&LogKey>) -> Option<Delta> {
    let plain = match key {
        None => payload.to_vec(),
        Some(k) => {
            let (nonce, sealed) = payload.split_at_checked(12)?;
            let nonce: [u8; 12] = nonce.try_into().ok()?;
            Aes256Gcm::new(&Key::<Aes256Gcm>::from(k.key))
                .decrypt(
                    &Nonce::from(nonce),
                    Payload {
                        msg: sealed,
                        aad: AAD,
                    },
                )
                .ok()?
        }
    };
    ron::from_str(std::str::from_utf8(&plain).ok()?).ok()
}

/// Appends `bytes` to the log at `path` and makes them durable; creates the log (with
/// `header`, exclusively, mode 0600) when `create`.
pub fn append(path: &Path, create: bool, header: &[u8], bytes: &[u8]) -> std::io::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    if create {
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
    } else {
        opts.append(true);
    }
    let mut f = opts.open(path)?;
    if create {
        f.write_all(header)?;
    }
    f.write_all(bytes)?;
    f.sync_data()?;
    if create {
        // The log's name must survive a crash too.
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}
