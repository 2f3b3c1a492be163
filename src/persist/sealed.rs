//! Passphrase protection of a workspace file: the RON text encrypted with AES-256-GCM under
//! a key derived from the passphrase with Argon2id. The file stays RON, readable as to what
//! it is:
//!
//! ```text
//! (sealed_workspace: 1, kdf: "argon2id", m_cost_kib: 19456, t_cost: 2, p_cost: 1,
//!  salt: "...", nonce: "...", ciphertext: "...")
//! ```
//!
//! A wrong passphrase fails the GCM tag: nothing is opened, nothing is changed.

use crate::crypto::base64_bytes;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use serde::{Deserialize, Serialize};

/// What identifies the format inside the file (also authenticated).
const AAD: &[u8] = b"tde-console sealed workspace v1";

#[derive(Serialize, Deserialize)]
struct SealedFile {
    sealed_workspace: u32,
    kdf: String,
    m_cost_kib: u32,
    t_cost: u32,
    p_cost: u32,
    #[serde(with = "base64_bytes")]
    salt: Vec<u8>,
    #[serde(with = "base64_bytes")]
    nonce: Vec<u8>,
    #[serde(with = "base64_bytes")]
    ciphertext: Vec<u8>,
}

/// Why a sealed file did not open.
#[derive(Debug, PartialEq, Eq)]
pub enum UnsealError {
    WrongPassphrase,
    Damaged(String),
}

/// Whether `text` is a sealed workspace.
pub fn is_sealed(text: &str) -> bool {
    text.trim_start()
        .strip_prefix('(')
        .is_some_and(|rest| rest.trim_start().starts_with("sealed_workspace"))
}

/// The Argon2id parameters the console seals with: memory (KiB), passes, lanes.
const M_COST_KIB: u32 = 19_456;
const T_COST: u32 = 2;
const P_COST: u32 = 1;
/// The most a file may ask of the key derivation: what the console itself writes (memory
/// with a 2x margin, so a later, stronger default still opens here). Anything more is
/// refused before any work, so a hostile header cannot cost seconds and a gigabyte.
const MAX_M_COST_KIB: u32 = 2 * M_COST_KIB;
const MAX_T_COST: u32 = T_COST;
const MAX_P_COST: u32 = P_COST;

fn derive(passphrase: &str, salt: &[u8], m: u32, t: u32, p: u32) -> Result<[u8; 32], UnsealError> {
    if m > MAX_M_COST_KIB || t > MAX_T_COST || p > MAX_P_COST {
        return Err(UnsealError::Damaged(format!(
            "key derivation parameters (m_cost_kib {m}, t_cost {t}, p_cost {p}) exceed what this console writes (at most {MAX_M_COST_KIB}, {MAX_T_COST}, {MAX_P_COST}): the file is damaged or was written by something else"
        )));
    }
    let params =
        argon2::Params::new(m, t, p, Some(32)).map_err(|e| UnsealError::Damaged(e.to_string()))?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut key = [0u8; 32];
    argon
        .hash_password_into(passphrase.as_bytes(), salt, &mut key)
        .map_err(|e| UnsealError::Damaged(e.to_string()))?;
    Ok(key)
}

/// The key the console derives from `passphrase` and `salt` with the parameters it writes
/// (the workspace's log is encrypted under it).
pub fn derive_key(passphrase: &str, salt: &[u8]) -> Result<[u8; 32], String> {
    derive(passphrase, salt, 19_456, 2, 1).map_err(|e| format!("{e:?}"))
}

/// Seals workspace text under `passphrase` (fresh salt and nonce from the OS RNG).
pub fn seal(text: &str, passphrase: &str) -> Result<String, String> {
    let (m, t, p) = (M_COST_KIB, T_COST, P_COST);
    let mut salt = [0u8; 16];
    let mut nonce = [0u8; 12];
    rand::fill(&mut salt);
    rand::fill(&mut nonce);
    let key = derive(passphrase, &salt, m, t, p).map_err(|e| format!("{e:?}"))?;
    let ciphertext = Aes256Gcm::new(&Key::<Aes256Gcm>::from(key))
        .encrypt(
            &Nonce::from(nonce),
            Payload {
                msg: text.as_bytes(),
                aad: AAD,
            },
        )
        .map_err(|_| "encryption failed".to_string())?;
    let file = SealedFile {
        sealed_workspace: 1,
        kdf: "argon2id".into(),
        m_cost_kib: m,
        t_cost: t,
        p_cost: p,
        salt: salt.to_vec(),
        nonce: nonce.to_vec(),
        ciphertext,
    };
    ron::ser::to_string_pretty(&file, ron::ser::PrettyConfig::new()).map_err(|e| e.to_string())
}

/// Opens sealed workspace text with `passphrase`.
pub fn unseal(text: &str, passphrase: &str) -> Result<String, UnsealError> {
    let file: SealedFile = ron::from_str(text).map_err(|e| UnsealError::Damaged(e.to_string()))?;
    if file.sealed_workspace != 1 || file.kdf != "argon2id" {
        return Err(UnsealError::Damaged(format!(
            "unknown sealing (version {}, {})",
            file.sealed_workspace, file.kdf
        )));
    }
    let nonce: [u8; 12] = file
        .nonce
        .as_slice()
        .try_into()
        .map_err(|_| UnsealError::Damaged("bad nonce".into()))?;
    if file.salt.len() < 8 {
        return Err(UnsealError::Damaged("bad salt".into()));
    }
    let key = derive(
        passphrase,
        &file.salt,
        file.m_cost_kib,
        file.t_cost,
        file.p_cost,
    )?;
    let plain = Aes256Gcm::new(&Key::<Aes256Gcm>::from(key))
        .decrypt(
            &Nonce::from(nonce),
            Payload {
                msg: &file.ciphertext,
                aad: AAD,
            },
        )
        .map_err(|_| UnsealError::WrongPassphrase)?;
    String::from_utf8(plain).map_err(|_| UnsealError::Damaged("not UTF-8 inside".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_wrong_passphrase() {
        let sealed = seal("(format_version: 1)", "correct horse").unwrap();
        assert!(is_sealed(&sealed));
        assert!(!sealed.contains("format_version"));
        assert_eq!(
            unseal(&sealed, "correct horse").unwrap(),
            "(format_version: 1)"
        );
        assert_eq!(unseal(&sealed, "wrong"), Err(UnsealError::WrongPassphrase));
        let hostile = sealed.replace("m_cost_kib: 19456", "m_cost_kib: 4000000000");
        assert!(matches!(
            unseal(&hostile, "correct horse"),
            Err(UnsealError::Damaged(_))
        ));
    }

    /// Issue 21: a header asking for 1 GiB, 10 passes and 8 lanes (9.4 s and 1 GiB before
    /// refusal) is refused at once, as is anything above what `seal` writes.
    #[test]
    fn costly_key_derivation_parameters_are_refused_at_once() {
        let sealed = seal("(format_version: 1)", "correct horse").unwrap();
        let header = "m_cost_kib: 19456,\n    t_cost: 2,\n    p_cost: 1,";
        assert!(sealed.contains(header), "{sealed}");
        for (m, t, p) in [
            (1_048_576, 10, 8),
            (1_048_576, 2, 1),
            (19_456, 10, 1),
            (19_456, 2, 8),
            (2 * 19_456 + 1, 2, 1),
            (19_456, 3, 1),
            (19_456, 2, 2),
        ] {
            let hostile = sealed.replace(
                header,
                &format!("m_cost_kib: {m},\n    t_cost: {t},\n    p_cost: {p},"),
            );
            let started = std::time::Instant::now();
            match unseal(&hostile, "correct horse") {
                Err(UnsealError::Damaged(why)) => assert!(
                    why.contains("damaged or was written by something else"),
                    "{why}"
                ),
                other => panic!("({m}, {t}, {p}): {other:?}"),
            }
            assert!(
                started.elapsed() < std::time::Duration::from_millis(50),
                "({m}, {t}, {p}) refused before any work: {:?}",
                started.elapsed()
            );
        }
        // Cheaper parameters than the console's are still honoured (the tag decides).
        let cheaper = sealed.replace(header, "m_cost_kib: 8192,\n    t_cost: 1,\n    p_cost: 1,");
        assert_eq!(
            unseal(&cheaper, "correct horse"),
            Err(UnsealError::WrongPassphrase)
        );
    }
}
