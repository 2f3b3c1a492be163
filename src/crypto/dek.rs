//! Database encryption keys and the AES-256-GCM pages they protect.

use super::CryptoError;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The size of a SQL data page.
pub const PAGE_SIZE: usize = 8192;

/// A 256-bit database encryption key in the clear. Exists only in memory, only while an
/// operation needs it; it is wiped when dropped and never serialised.
pub struct DataEncryptionKey([u8; 32]);

impl DataEncryptionKey {
    /// A fresh random DEK from the operating system's RNG.
    pub fn generate() -> Self {
        let mut k = [0u8; 32];
        rand::fill(&mut k);
        DataEncryptionKey(k)
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        let k: [u8; 32] = bytes.try_into().map_err(|_| CryptoError::UnwrapFailed)?;
        Ok(DataEncryptionKey(k))
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(&Key::<Aes256Gcm>::from(self.0))
    }

    /// Encrypts one page; the page number is authenticated so pages cannot be swapped.
    pub fn encrypt_page(
        &self,
        page_no: usize,
        plaintext: &[u8],
    ) -> Result<EncryptedPage, CryptoError> {
        let mut nonce = [0u8; 12];
        rand::fill(&mut nonce);
        let aad = (page_no as u64).to_be_bytes();
        let ciphertext = self
            .cipher()
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            .map_err(|_| CryptoError::WrapFailed)?;
        Ok(EncryptedPage {
            page_no,
            nonce,
            ciphertext,
        })
    }

    /// Decrypts and authenticates one page.
    pub fn decrypt_page(&self, page: &EncryptedPage) -> Result<Vec<u8>, CryptoError> {
        let aad = (page.page_no as u64).to_be_bytes();
        self.cipher()
            .decrypt(
                &Nonce::from(page.nonce),
                Payload {
                    msg: &page.ciphertext,
                    aad: &aad,
                },
            )
            .map_err(|_| CryptoError::PageAuthenticationFailed(page.page_no))
    }
}

impl Drop for DataEncryptionKey {
    fn drop(&mut self) {
        // Volatile writes so the compiler keeps the wipe.
        for b in self.0.iter_mut() {
            // SAFETY: `b` is a valid, aligned, exclusive reference into our own array.
            unsafe { std::ptr::write_volatile(b, 0) };
        }
    }
}

impl fmt::Debug for DataEncryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataEncryptionKey(<hidden>)")
    }
}

/// One AES-256-GCM encrypted data page (ciphertext includes the 16-byte tag).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncryptedPage {
    pub page_no: usize,
    pub nonce: [u8; 12],
    #[serde(with = "base64_bytes")]
    pub ciphertext: Vec<u8>,
}

impl fmt::Debug for EncryptedPage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "EncryptedPage(#{}, {} bytes)",
            self.page_no,
            self.ciphertext.len()
        )
    }
}

/// Serialises bytes as base64 text (compact and readable in RON).
pub mod base64_bytes {
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(text.as_bytes())
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_round_trip_and_detect_tampering() {
        let dek = DataEncryptionKey::generate();
        let page = vec![42u8; PAGE_SIZE];
        let mut enc = dek.encrypt_page(3, &page).unwrap();
        assert_eq!(dek.decrypt_page(&enc).unwrap(), page);
        enc.ciphertext[10] ^= 1;
        assert_eq!(
            dek.decrypt_page(&enc),
            Err(CryptoError::PageAuthenticationFailed(3))
        );
        let other = DataEncryptionKey::generate();
        let enc = dek.encrypt_page(0, &page).unwrap();
        assert!(other.decrypt_page(&enc).is_err());
    }
}
