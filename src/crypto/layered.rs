//! Pages under two layers of AES-256-GCM: an inner key (a database's or a workspace's data
//! encryption key) and an outer platform key (Synapse's platform layer, Azure SQL's
//! infrastructure encryption). Either layer may be absent; with the inner key alone a page
//! is exactly what [`DataEncryptionKey::encrypt_page`] makes, so pages written before an
//! outer layer existed still read.
//!
//! The layout: the inner layer seals the text as `nonce || ciphertext` ([`seal`]), and the
//! outer layer encrypts those bytes as an [`EncryptedPage`] with the same page number. Both
//! layers authenticate the page number, so pages cannot be swapped under either key.

use super::{CryptoError, DataEncryptionKey, EncryptedPage};

/// AES-256-GCM under `key` for page `n`, as `nonce || ciphertext`.
pub fn seal(key: &DataEncryptionKey, n: usize, plain: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let page = key.encrypt_page(n, plain)?;
    let mut out = page.nonce.to_vec();
    out.extend_from_slice(&page.ciphertext);
    Ok(out)
}

/// Opens what [`seal`] made for page `n`.
pub fn unseal(key: &DataEncryptionKey, n: usize, sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
    key.decrypt_page(&as_page(n, sealed)?)
}

fn as_page(n: usize, sealed: &[u8]) -> Result<EncryptedPage, CryptoError> {
    if sealed.len() < 12 {
        return Err(CryptoError::PageAuthenticationFailed(n));
    }
    let (nonce, ciphertext) = sealed.split_at(12);
    let nonce: [u8; 12] = nonce
        .try_into()
        .map_err(|_| CryptoError::PageAuthenticationFailed(n))?;
    Ok(EncryptedPage {
        page_no: n,
        nonce,
        ciphertext: ciphertext.to_vec(),
    })
}

/// The keys a page is stored under.
#[derive(Clone, Copy, Debug, Default)]
pub struct PageLayers<'a> {
    /// The data encryption key (TDE's DEK, a workspace's data key).
    pub inner: Option<&'a DataEncryptionKey>,
    /// The platform key, outside.
    pub outer: Option<&'a DataEncryptionKey>,
}

impl<'a> PageLayers<'a> {
    pub fn new(inner: Option<&'a DataEncryptionKey>, outer: Option<&'a DataEncryptionKey>) -> Self {
        PageLayers { inner, outer }
    }

    /// Encrypts one page under every layer there is (at least one).
    pub fn encrypt_page(&self, n: usize, text: &[u8]) -> Result<EncryptedPage, CryptoError> {
        match (self.inner, self.outer) {
            (Some(inner), None) => inner.encrypt_page(n, text),
            (inner, Some(outer)) => {
                let body = match inner {
                    Some(k) => seal(k, n, text)?,
                    None => text.to_vec(),
                };
                outer.encrypt_page(n, &body)
            }
            (None, None) => Err(CryptoError::IncompatibleAlgorithm(
                "a page needs at least one key to be encrypted".into(),
            )),
        }
    }

    /// Decrypts one page: the outer layer, then the inner one. Fails (authentication) when
    /// either key is wrong or missing.
    pub fn decrypt_page(&self, page: &EncryptedPage) -> Result<Vec<u8>, CryptoError> {
        match (self.inner, self.outer) {
            (Some(inner), None) => inner.decrypt_page(page),
            (inner, Some(outer)) => {
                let body = outer.decrypt_page(page)?;
                match inner {
                    Some(k) => unseal(k, page.page_no, &body),
                    None => Ok(body),
                }
            }
            (None, None) => Err(CryptoError::PageAuthenticationFailed(page.page_no)),
        }
    }

    /// Encrypts pages numbered from 0.
    pub fn encrypt_pages<T: AsRef<[u8]>>(
        &self,
        texts: &[T],
    ) -> Result<Vec<EncryptedPage>, CryptoError> {
        texts
            .iter()
            .enumerate()
            .map(|(n, t)| self.encrypt_page(n, t.as_ref()))
            .collect()
    }

    pub fn decrypt_pages(&self, pages: &[EncryptedPage]) -> Result<Vec<Vec<u8>>, CryptoError> {
        pages.iter().map(|p| self.decrypt_page(p)).collect()
    }
}

/// Puts an inner-layer page under the outer key (its inner ciphertext unchanged: no data
/// key is needed).
pub fn add_outer(
    outer: &DataEncryptionKey,
    page: &EncryptedPage,
) -> Result<EncryptedPage, CryptoError> {
    let mut body = page.nonce.to_vec();
    body.extend_from_slice(&page.ciphertext);
    outer.encrypt_page(page.page_no, &body)
}

/// Takes the outer layer off a page, leaving the inner-layer page.
pub fn remove_outer(
    outer: &DataEncryptionKey,
    page: &EncryptedPage,
) -> Result<EncryptedPage, CryptoError> {
    let body = outer.decrypt_page(page)?;
    as_page(page.page_no, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_layers_are_needed_and_the_inner_layer_alone_is_the_plain_dek_format() {
        let dek = DataEncryptionKey::generate();
        let platform = DataEncryptionKey::generate();
        let both = PageLayers::new(Some(&dek), Some(&platform));
        let text = b"FactSales rows 1..1000".to_vec();
        let page = both.encrypt_page(2, &text).unwrap();
        assert_eq!(both.decrypt_page(&page).unwrap(), text);
        // Either key alone, or a wrong key in either place, fails authentication.
        assert!(dek.decrypt_page(&page).is_err());
        assert!(
            PageLayers::new(Some(&dek), None)
                .decrypt_page(&page)
                .is_err()
        );
        let inner_only = PageLayers::new(None, Some(&platform))
            .decrypt_page(&page)
            .unwrap();
        assert_ne!(inner_only, text);
        let other = DataEncryptionKey::generate();
        assert!(
            PageLayers::new(Some(&other), Some(&platform))
                .decrypt_page(&page)
                .is_err()
        );
        assert!(
            PageLayers::new(Some(&dek), Some(&other))
                .decrypt_page(&page)
                .is_err()
        );
        // The inner layer alone reads with the DEK as before.
        let plain_dek = PageLayers::new(Some(&dek), None)
            .encrypt_page(0, &text)
            .unwrap();
        assert_eq!(dek.decrypt_page(&plain_dek).unwrap(), text);
        assert!(PageLayers::default().encrypt_page(0, &text).is_err());
    }

    #[test]
    fn the_outer_layer_goes_on_and_off_without_the_data_key() {
        let dek = DataEncryptionKey::generate();
        let platform = DataEncryptionKey::generate();
        let page = dek.encrypt_page(5, b"page five").unwrap();
        let wrapped = add_outer(&platform, &page).unwrap();
        assert_eq!(
            PageLayers::new(Some(&dek), Some(&platform))
                .decrypt_page(&wrapped)
                .unwrap(),
            b"page five"
        );
        assert_eq!(remove_outer(&platform, &wrapped).unwrap(), page);
        // A page swapped to another number fails under the outer key.
        let mut moved = wrapped.clone();
        moved.page_no = 6;
        assert!(remove_outer(&platform, &moved).is_err());
        assert!(unseal(&dek, 0, &[1, 2, 3]).is_err());
    }
}
