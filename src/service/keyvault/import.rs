//! Importing key material: PEM, PFX, BYOK (a transfer blob wrapped for an HSM key-exchange
//! key) and EC keys.

use super::keys::{CreateKey, add_key};
use crate::crypto::RsaKeyMaterial;
use crate::model::*;
use crate::service::lookup::live_vault;
use crate::service::{ServiceError, ServiceResult};

/// `az keyvault key import --pem-file`: a key made elsewhere (PKCS#1 or PKCS#8 PEM) becomes
/// a new key or a new version. Only RSA 2048, 3072 and 4096 are accepted; anything else
/// creates nothing.
pub fn import_pem_key(
    ws: &mut Workspace,
    vault: &str,
    name: &str,
    kty: KeyType,
    pem: &str,
) -> ServiceResult<(Key, KeyVersion)> {
    let material = RsaKeyMaterial::from_pem(pem).map_err(|_| {
        let what = if pem.contains("EC PRIVATE KEY") || pem.contains("BEGIN PUBLIC KEY") {
            "it is not an RSA private key (EC keys and public keys cannot be imported as TDE keys)"
        } else if pem.contains("ENCRYPTED PRIVATE KEY") {
            "it is encrypted; decrypt it first (openssl pkcs8 -in key.pem -out plain.pem)"
        } else {
            "it is not a PEM RSA private key (PKCS#1 or PKCS#8), or it is damaged"
        };
        ServiceError::bad_request(
            "BadParameter",
            format!("The key could not be imported: {what}."),
        )
    })?;
    import_material(ws, vault, name, kty, material)
}

/// `az keyvault key import --pfx-file F --pfx-password P`: the private key of a PKCS#12
/// file (modern PBES2/AES or legacy 3DES). Wrong password, damaged file, or a key that is
/// not RSA 2048/3072/4096 create nothing.
pub fn import_pfx_key(
    ws: &mut Workspace,
    vault: &str,
    name: &str,
    kty: KeyType,
    pfx: &[u8],
    password: &str,
) -> ServiceResult<(Key, KeyVersion)> {
    use p12_keystore::error::Error as P12;
    let refused = |what: &str| {
        ServiceError::bad_request(
            "BadParameter",
            format!("The key could not be imported: {what}."),
        )
    };
    let archive = p12_keystore::Pkcs12Archive::from_pkcs12(pfx, password).map_err(|e| match e {
        P12::MacError(_) => refused("the .pfx password is wrong (MAC verification failed)"),
        P12::UnsupportedEncryptionScheme | P12::UnsupportedMacAlgorithm => {
            refused("the .pfx file uses an encryption this tool does not read")
        }
        _ => refused("the file is not a PKCS#12 (.pfx) file, or it is damaged"),
    })?;
    let bag = match archive.keys.as_slice() {
        [one] => one,
        [] => return Err(refused("the .pfx file holds no private key")),
        _ => return Err(refused("the .pfx file holds more than one private key")),
    };
    let material = RsaKeyMaterial::from_pkcs8_der(bag.key.as_der()).map_err(|_| {
        refused("the .pfx file's key is not an RSA key (EC keys cannot be imported as TDE keys)")
    })?;
    import_material(ws, vault, name, kty, material)
}

/// `az keyvault key import --byok-file F`: a key wrapped on the customer's side for one of
/// this vault's key-exchange keys (an RSA-HSM key whose only operation is `import`). The
/// result is an RSA-HSM key; a file made for another KEK, or damaged, creates nothing.
pub fn import_byok_key(
    ws: &mut Workspace,
    vault: &str,
    name: &str,
    kty: KeyType,
    byok: &[u8],
) -> ServiceResult<(Key, KeyVersion)> {
    use crate::crypto::byok::{self, ByokError, ByokFile};
    let refused = |what: String| {
        ServiceError::bad_request(
            "BadParameter",
            format!("The key could not be imported: {what}."),
        )
    };
    if kty != KeyType::RsaHsm {
        return Err(refused(
            "keys brought with BYOK are HSM-protected: use --protection hsm (or --kty RSA-HSM on a Managed HSM)".into(),
        ));
    }
    let file = ByokFile::from_json(byok).map_err(|e| match e {
        ByokError::NotByok(why) => refused(format!("the file is not a .byok file ({why})")),
        ByokError::WrongKek => refused("the file is damaged".into()),
    })?;
    let kek_uri = KeyUri::parse(&file.kek_id)
        .ok_or_else(|| refused(format!("'{}' is not a key identifier", file.kek_id)))?;
    if !kek_uri.vault.eq_ignore_ascii_case(vault) {
        return Err(refused(format!(
            "the file was made for a key-exchange key of vault '{}'; import it into that vault",
            kek_uri.vault
        )));
    }
    let material = {
        let v = live_vault(ws, vault)?;
        let kek = v
            .key(&kek_uri.key)
            .filter(|k| k.deleted.is_none())
            .ok_or_else(|| {
                refused(format!(
                    "the key-exchange key '{}' does not exist",
                    file.kek_id
                ))
            })?;
        let version = match &kek_uri.version {
            Some(id) => kek.version(id),
            None => kek.current(),
        }
        .ok_or_else(|| {
            refused(format!(
                "the key-exchange key '{}' does not exist",
                file.kek_id
            ))
        })?;
        if kek.kty != KeyType::RsaHsm || version.key_ops != [KeyOperation::Import] {
            return Err(refused(format!(
                "'{}' is not a key-exchange key (an RSA-HSM key whose only operation is 'import')",
                kek.name
            )));
        }
        let kek_material = version
            .material
            .rsa()
            .ok_or_else(|| refused(format!("'{}' is not an RSA key-exchange key", kek.name)))?;
        byok::unwrap(&file.ciphertext, kek_material).map_err(|e| match e {
            ByokError::WrongKek => refused(format!(
                "it does not open with the key-exchange key '{}' (wrapped for another KEK, or damaged)",
                kek.name
            )),
            ByokError::NotByok(why) => refused(why),
        })?
    };
    import_material(ws, vault, name, kty, material)
}

/// The checks every import makes on the key material, then the new key or version.
pub fn import_material(
    ws: &mut Workspace,
    vault: &str,
    name: &str,
    kty: KeyType,
    material: RsaKeyMaterial,
) -> ServiceResult<(Key, KeyVersion)> {
    let bits = material.bits();
    if ![2048, 3072, 4096].contains(&bits) {
        return Err(ServiceError::bad_request(
            "BadParameter",
            format!(
                "The key could not be imported: RSA keys of {bits} bits are not supported (2048, 3072 or 4096)."
            ),
        ));
    }
    add_key(
        ws,
        &CreateKey::new(vault, name, kty, bits),
        material.into(),
        KeyPermission::Import,
    )
}

/// `az keyvault key import --kty EC --pem-file F`: an EC private key (P-256, P-384, P-521).
pub fn import_ec_pem_key(
    ws: &mut Workspace,
    vault: &str,
    name: &str,
    kty: KeyType,
    pem: &str,
) -> ServiceResult<(Key, KeyVersion)> {
    let material = crate::crypto::EcKeyMaterial::from_pem(pem).map_err(|_| {
        ServiceError::bad_request(
            "BadParameter",
            "The key could not be imported: it is not a PEM EC private key on P-256, P-384 or P-521.",
        )
    })?;
    import_ec_key(ws, vault, name, kty, material)
}

/// An EC key's import (a JWK through the REST API, or a PEM file): checked and added as
/// any import (`EC` or `EC-HSM`; a Managed HSM takes `EC-HSM` only).
pub fn import_ec_key(
    ws: &mut Workspace,
    vault: &str,
    name: &str,
    kty: KeyType,
    material: crate::crypto::EcKeyMaterial,
) -> ServiceResult<(Key, KeyVersion)> {
    let bits = material.curve().bits();
    add_key(
        ws,
        &CreateKey::new(vault, name, kty, bits),
        crate::crypto::KeyMaterial::Ec(material),
        KeyPermission::Import,
    )
}
