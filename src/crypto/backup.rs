//! Key backup blobs: a readable header (where the backup may be restored) and the key,
//! sealed with AES-256-GCM under a key derived from the workspace's backup root, the
//! subscription and the Azure geography. A restore into another subscription or geography
//! derives another key and genuinely cannot decrypt the blob.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine;
use rsa::sha2::{Digest, Sha256};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

const MAGIC: &[u8; 8] = b"AKVBKP1\0";

/// The workspace's secret from which backup keys are derived (OS RNG).
#[derive(Clone, PartialEq, Eq)]
pub struct BackupRoot([u8; 32]);

impl BackupRoot {
    /// All zeros: what a file without a root reads as.
    pub fn unset() -> Self {
        BackupRoot([0u8; 32])
    }

    /// All zeros: a file that lost its root (a real one is 32 random bytes).
    pub fn is_unset(&self) -> bool {
        self.0 == [0u8; 32]
    }

    pub fn generate() -> Self {
        let mut k = [0u8; 32];
        rand::fill(&mut k);
        BackupRoot(k)
    }

    /// The key the local vault endpoint signs its access tokens with: derived from this
    /// root, so a token made by `tde-console token` for a workspace file is accepted by
    /// `tde-console serve` on the same file, and by no other workspace.
    pub fn token_signing_key(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(b"tde-console vault endpoint tokens v1\0");
        h.update(self.0);
        h.finalize().into()
    }

    fn derive(&self, subscription: &str, geography: &str) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(b"tde-console key backup v1\0");
        h.update(self.0);
        h.update(subscription.as_bytes());
        h.update(b"\0");
        h.update(geography.as_bytes());
        h.finalize().into()
    }
}

/// The backup root of the built-in demo workspace (`assets/demo-workspace.ron`): published
/// with the source, so it protects nothing. Every instantiation of the demo gets a fresh
/// root instead, and a file still holding this one gets a fresh one when it is opened; a
/// backup made under it still opens, with a warning that it was never protected.
const PUBLISHED_DEMO_ROOT: &str = "Acr2p7RLmpenT/kOJD4e2VfxjcYp04C2JGNS8QuiiC8=";

impl BackupRoot {
    /// The root published in the repository (see [`PUBLISHED_DEMO_ROOT`]).
    pub fn published() -> BackupRoot {
        let mut k = [0u8; 32];
        if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(PUBLISHED_DEMO_ROOT) {
            let n = bytes.len().min(32);
            k[..n].copy_from_slice(&bytes[..n]);
        }
        BackupRoot(k)
    }

    /// Whether this root is the published one.
    pub fn is_published(&self) -> bool {
        *self == Self::published()
    }
}

impl Default for BackupRoot {
    fn default() -> Self {
        Self::generate()
    }
}

impl fmt::Debug for BackupRoot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BackupRoot(<hidden>)")
    }
}

impl Serialize for BackupRoot {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(self.0))
    }
}

impl<'de> Deserialize<'de> for BackupRoot {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.as_bytes())
            .map_err(serde::de::Error::custom)?;
        let k: [u8; 32] = bytes
            .try_into()
            .map_err(|_| serde::de::Error::custom("a backup root is 32 bytes"))?;
        Ok(BackupRoot(k))
    }
}

/// What a blob says about itself, readable without the key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupHeader {
    pub subscription: String,
    pub geography: String,
    pub vault: String,
    pub key: String,
    pub versions: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BackupError {
    NotABackup,
    OtherSubscription { backup: String },
    OtherGeography { backup: String },
    Damaged,
}

pub fn seal(root: &BackupRoot, header: &BackupHeader, payload: &[u8]) -> Vec<u8> {
    let head = serde_json::to_vec(header).unwrap_or_default();
    let key = root.derive(&header.subscription, &header.geography);
    let cipher = Aes256Gcm::new(&Key::<Aes256Gcm>::from(key));
    let mut nonce = [0u8; 12];
    rand::fill(&mut nonce);
    let sealed = cipher
        .encrypt(
            &Nonce::from(nonce),
            Payload {
                msg: payload,
                aad: &head,
            },
        )
        .unwrap_or_default();
    let mut out = Vec::with_capacity(MAGIC.len() + 4 + head.len() + 12 + sealed.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(head.len() as u32).to_be_bytes());
    out.extend_from_slice(&head);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&sealed);
    out
}

/// Reads the header only.
pub fn header(blob: &[u8]) -> Result<(BackupHeader, usize), BackupError> {
    let rest = blob
        .strip_prefix(MAGIC.as_slice())
        .ok_or(BackupError::NotABackup)?;
    let len_bytes: [u8; 4] = rest
        .get(..4)
        .and_then(|b| b.try_into().ok())
        .ok_or(BackupError::NotABackup)?;
    let len = u32::from_be_bytes(len_bytes) as usize;
    let head = rest.get(4..4 + len).ok_or(BackupError::NotABackup)?;
    let h: BackupHeader = serde_json::from_slice(head).map_err(|_| BackupError::NotABackup)?;
    Ok((h, MAGIC.len() + 4 + len))
}

/// Opens a blob for a vault in `subscription` / `geography`.
pub fn open(
    root: &BackupRoot,
    subscription: &str,
    geography: &str,
    blob: &[u8],
) -> Result<(BackupHeader, Vec<u8>), BackupError> {
    let (h, at) = header(blob)?;
    if !h.subscription.eq_ignore_ascii_case(subscription) {
        return Err(BackupError::OtherSubscription {
            backup: h.subscription,
        });
    }
    if h.geography != geography {
        return Err(BackupError::OtherGeography {
            backup: h.geography,
        });
    }
    let head = &blob[MAGIC.len() + 4..at];
    let nonce: [u8; 12] = blob
        .get(at..at + 12)
        .and_then(|b| b.try_into().ok())
        .ok_or(BackupError::Damaged)?;
    let sealed = blob.get(at + 12..).ok_or(BackupError::Damaged)?;
    // The key comes from the *target's* subscription and geography: only a matching target decrypts.
    let key = root.derive(subscription, geography);
    let cipher = Aes256Gcm::new(&Key::<Aes256Gcm>::from(key));
    let plain = cipher
        .decrypt(
            &Nonce::from(nonce),
            Payload {
                msg: sealed,
                aad: head,
            },
        )
        .map_err(|_| BackupError::Damaged)?;
    Ok((h, plain))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blob_opens_only_where_it_was_made() {
        let root = BackupRoot::generate();
        let h = BackupHeader {
            subscription: "s1".into(),
            geography: "Europe".into(),
            vault: "v".into(),
            key: "k".into(),
            versions: 1,
        };
        let blob = seal(&root, &h, b"secret");
        assert_eq!(open(&root, "s1", "Europe", &blob).unwrap().1, b"secret");
        assert!(matches!(
            open(&root, "s2", "Europe", &blob),
            Err(BackupError::OtherSubscription { .. })
        ));
        assert!(matches!(
            open(&root, "s1", "Japan", &blob),
            Err(BackupError::OtherGeography { .. })
        ));
        // A forged header naming the target does not help: the key still differs.
        let forged = seal(
            &root,
            &BackupHeader {
                geography: "Japan".into(),
                ..h.clone()
            },
            b"x",
        );
        let (_, at) = header(&blob).unwrap();
        let (_, at2) = header(&forged).unwrap();
        let mut spliced = forged[..at2].to_vec();
        spliced.extend_from_slice(&blob[at..]);
        assert_eq!(
            open(&root, "s1", "Japan", &spliced),
            Err(BackupError::Damaged)
        );
        let mut damaged = blob.clone();
        let n = damaged.len() - 1;
        damaged[n] ^= 1;
        assert_eq!(
            open(&root, "s1", "Europe", &damaged),
            Err(BackupError::Damaged)
        );
        assert_eq!(
            open(&root, "s1", "Europe", b"garbage"),
            Err(BackupError::NotABackup)
        );
        assert_eq!(
            open(&BackupRoot::generate(), "s1", "Europe", &blob),
            Err(BackupError::Damaged)
        );
    }
}
