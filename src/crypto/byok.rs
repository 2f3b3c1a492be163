//! Bring your own key: the `.byok` transfer format.
//!
//! On the customer's side, the key to import (PKCS#8 DER) is wrapped for the vault's
//! key-exchange key (KEK) with `CKM_RSA_AES_KEY_WRAP`: a fresh AES-256 key is encrypted with
//! the KEK's public key (RSA-OAEP, SHA-1), and the target key is wrapped with that AES key
//! (AES key wrap with padding, RFC 5649). The ciphertext is the two concatenated. The
//! `.byok` file is JSON naming the KEK it was made for. Only the vault, which holds the
//! KEK's private key, can unwrap it.

use super::{CryptoError, RsaKeyMaterial, WrapAlgorithm};
use aes_kw::KwpAes256;
use aes_kw::cipher::KeyInit;
use base64::Engine;
use rsa::PublicKey;

/// The mechanism name a `.byok` file carries.
pub const MECHANISM: &str = "CKM_RSA_AES_KEY_WRAP";

/// What a `.byok` file holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ByokFile {
    /// The key id of the KEK the key was wrapped for.
    pub kek_id: String,
    pub ciphertext: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ByokError {
    /// Not a `.byok` file (not JSON, missing fields, other mechanism).
    NotByok(String),
    /// The ciphertext does not open with this KEK.
    WrongKek,
}

impl ByokFile {
    /// The JSON text of the file.
    pub fn to_json(&self) -> String {
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        serde_json::json!({
            "schema_version": "1.0.0",
            "header": {"kid": self.kek_id, "alg": "dir", "enc": MECHANISM},
            "ciphertext": b64.encode(&self.ciphertext),
            "generator": "tde-console BYOK transfer tool"
        })
        .to_string()
    }

    pub fn from_json(bytes: &[u8]) -> Result<ByokFile, ByokError> {
        let v: serde_json::Value = serde_json::from_slice(bytes)
            .map_err(|_| ByokError::NotByok("it is not JSON".into()))?;
        let enc = v["header"]["enc"].as_str().unwrap_or_default();
        if enc != MECHANISM {
            return Err(ByokError::NotByok(format!(
                "its mechanism is '{enc}', not {MECHANISM}"
            )));
        }
        let kek_id = v["header"]["kid"]
            .as_str()
            .ok_or_else(|| ByokError::NotByok("it names no key-exchange key".into()))?
            .to_string();
        let text = v["ciphertext"]
            .as_str()
            .ok_or_else(|| ByokError::NotByok("it has no ciphertext".into()))?;
        let ciphertext = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(text.trim_end_matches('='))
            .map_err(|_| ByokError::NotByok("its ciphertext is not base64url".into()))?;
        Ok(ByokFile { kek_id, ciphertext })
    }
}

/// The customer's side: wraps `target` for the KEK whose public key is `kek`.
pub fn wrap(target: &RsaKeyMaterial, kek: &PublicKey) -> Result<Vec<u8>, CryptoError> {
    use rand::RngExt;
    let mut aes_key = [0u8; 32];
    rand::rng().fill(&mut aes_key);
    let wrapped_aes = kek
        .oaep_encrypt::<sha1::Sha1>(&aes_key)
        .map_err(|_| CryptoError::WrapFailed)?;
    let der = target.pkcs8_der();
    let kwp = KwpAes256::new(&aes_key.into());
    let mut buf = vec![0u8; der.len().div_ceil(8) * 8 + 8];
    let wrapped_key = kwp
        .wrap_key(der, &mut buf)
        .map_err(|_| CryptoError::WrapFailed)?
        .to_vec();
    Ok([wrapped_aes, wrapped_key].concat())
}

/// The vault's side: opens a ciphertext with the KEK's private key.
pub fn unwrap(ciphertext: &[u8], kek: &RsaKeyMaterial) -> Result<RsaKeyMaterial, ByokError> {
    let n = kek.bits() / 8;
    if n == 0 || ciphertext.len() <= n + 16 {
        return Err(ByokError::WrongKek);
    }
    let (wrapped_aes, wrapped_key) = ciphertext.split_at(n);
    let aes_key = kek
        .unwrap_key(WrapAlgorithm::RsaOaep, wrapped_aes)
        .map_err(|_| ByokError::WrongKek)?;
    let aes_key: [u8; 32] = aes_key.try_into().map_err(|_| ByokError::WrongKek)?;
    let kwp = KwpAes256::new(&aes_key.into());
    let mut buf = vec![0u8; wrapped_key.len()];
    let der = kwp
        .unwrap_key(wrapped_key, &mut buf)
        .map_err(|_| ByokError::WrongKek)?;
    RsaKeyMaterial::from_pkcs8_der(der)
        .map_err(|_| ByokError::NotByok("the unwrapped key is not an RSA private key".into()))
}

/// Reads a KEK public key (`BEGIN PUBLIC KEY`), as downloaded from the vault.
pub fn kek_from_pem(pem: &str) -> Result<PublicKey, CryptoError> {
    use rsa::pkcs8::DecodePublicKey;
    PublicKey::from_public_key_pem(pem).map_err(|e| CryptoError::MalformedKey(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> RsaKeyMaterial {
        let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        RsaKeyMaterial::from_pem(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn wraps_for_a_kek_and_only_that_kek_opens_it() {
        let target = fixture("rsa2048-4.pem");
        let kek = fixture("rsa3072-1.pem");
        let other = fixture("rsa3072-2.pem");
        let public = kek_from_pem(&kek.public_pem().unwrap()).unwrap();
        let ct = wrap(&target, &public).unwrap();
        let file = ByokFile {
            kek_id: "https://kv.vault.azure.net/keys/kek/0123".into(),
            ciphertext: ct,
        };
        let back = ByokFile::from_json(file.to_json().as_bytes()).unwrap();
        assert_eq!(back, file);
        let opened = unwrap(&back.ciphertext, &kek).unwrap();
        assert_eq!(opened.modulus(), target.modulus());
        assert_eq!(
            unwrap(&back.ciphertext, &other).err(),
            Some(ByokError::WrongKek)
        );
        let mut damaged = back.ciphertext.clone();
        let last = damaged.len() - 1;
        damaged[last] ^= 1;
        assert_eq!(unwrap(&damaged, &kek).err(), Some(ByokError::WrongKek));
        assert!(ByokFile::from_json(b"{}").is_err());
    }
}
