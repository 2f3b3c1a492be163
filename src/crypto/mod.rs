//! Real cryptography: RSA key material, RSA-OAEP wrapping of data encryption keys,
//! AES-256-GCM page encryption (one layer or two: [`layered`]) and key thumbprints.
//!
//! Key material always comes from the operating system's RNG, never from the simulation's
//! seeded generator.

pub mod backup;
pub mod byok;
mod dek;
mod ec_key;
pub mod layered;
mod parallel;
mod rsa_key;

pub use dek::{DataEncryptionKey, EncryptedPage, PAGE_SIZE, base64_bytes};
pub use ec_key::{EcCurve, EcKeyMaterial, KeyMaterial};
pub use parallel::par_map;
pub use rsa_key::{RsaBackend, RsaKeyMaterial, SignatureAlgorithm, WrapAlgorithm};

use base64::Engine;
use std::fmt;

/// Base64url without padding (RFC 4648 §5), as JWKs, JWTs and Key Vault's REST API write
/// bytes.
pub fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// What went wrong inside a cryptographic primitive. The operations layer turns these into
/// the service's own error codes; the text never contains key material.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CryptoError {
    /// A key of this size cannot be generated or used.
    UnsupportedKeySize(usize),
    /// DER/PEM that does not hold an RSA private key.
    MalformedKey(String),
    /// Wrapping failed (e.g. plaintext too long for the key).
    WrapFailed,
    /// Unwrapping failed: wrong key or damaged ciphertext.
    UnwrapFailed,
    /// A page failed AES-GCM authentication: wrong DEK or damaged page.
    PageAuthenticationFailed(usize),
    /// The algorithm does not go with the key or the input (why).
    IncompatibleAlgorithm(String),
}

impl fmt::Display for CryptoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CryptoError::UnsupportedKeySize(b) => write!(f, "RSA key size {b} is not supported"),
            CryptoError::MalformedKey(why) => write!(f, "the key is not a valid RSA key: {why}"),
            CryptoError::WrapFailed => f.write_str("the key could not wrap the data"),
            CryptoError::UnwrapFailed => {
                f.write_str("the wrapped key could not be unwrapped with this key")
            }
            CryptoError::IncompatibleAlgorithm(why) => f.write_str(why),
            CryptoError::PageAuthenticationFailed(n) => {
                write!(
                    f,
                    "page {n} failed authentication (wrong DEK or damaged page)"
                )
            }
        }
    }
}

impl std::error::Error for CryptoError {}

/// Upper-case hex, as thumbprints are shown.
pub fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}
