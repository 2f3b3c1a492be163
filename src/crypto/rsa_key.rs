//! RSA key material held by a vault (or a server's service-managed key).

use super::{CryptoError, hex_upper};
use base64::Engine;
use rsa::pkcs1::EncodeRsaPublicKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use rsa::traits::PublicKeyParts;
use rsa::{PrivateKey, PublicKey};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha1::Digest;
use std::fmt;
use std::sync::{Arc, OnceLock};

/// The wrap (and encrypt) algorithms Key Vault offers for RSA keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum WrapAlgorithm {
    /// RSA-OAEP with SHA-1 and MGF1-SHA-1.
    RsaOaep,
    /// RSA-OAEP with SHA-256 and MGF1-SHA-256 (what SQL uses for the DEK).
    RsaOaep256,
    /// RSAES-PKCS1-v1_5 (`RSA1_5`): older applications still decrypt with it. The private
    /// operation is aws-lc's, whose padding check runs in constant time.
    Rsa15,
}

impl WrapAlgorithm {
    pub const ALL: [WrapAlgorithm; 3] = [
        WrapAlgorithm::RsaOaep,
        WrapAlgorithm::RsaOaep256,
        WrapAlgorithm::Rsa15,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WrapAlgorithm::RsaOaep => "RSA-OAEP",
            WrapAlgorithm::RsaOaep256 => "RSA-OAEP-256",
            WrapAlgorithm::Rsa15 => "RSA1_5",
        }
    }

    pub fn parse(text: &str) -> Option<WrapAlgorithm> {
        WrapAlgorithm::ALL.into_iter().find(|a| a.as_str() == text)
    }
}

/// An RSA private key, stored as PKCS#8 DER (base64 in workspace files).
///
/// `Debug` and `Display` show only the size and thumbprint: private material never reaches
/// a log, a blade or the shell.
#[derive(Clone)]
pub struct RsaKeyMaterial {
    pkcs8_der: Arc<Vec<u8>>,
    parsed: Arc<OnceLock<PrivateKey>>,
    /// The same key loaded into aws-lc (`None`: a size aws-lc does not take, e.g. 1024).
    fast: Arc<OnceLock<Option<FastKey>>>,
}

/// The key in aws-lc, which does the OAEP work of the service (wrapping and unwrapping
/// DEKs, many thousands at a time) about six times faster than the RustCrypto `rsa` crate.
/// `rsa` keeps the key formats (PKCS#1/PKCS#8/PEM, thumbprints, generation checks).
struct FastKey {
    private: aws_lc_rs::rsa::OaepPrivateDecryptingKey,
    public: aws_lc_rs::rsa::OaepPublicEncryptingKey,
    pkcs1_private: aws_lc_rs::rsa::Pkcs1PrivateDecryptingKey,
    pkcs1_public: aws_lc_rs::rsa::Pkcs1PublicEncryptingKey,
    /// For PS256/384/512 signatures over a digest.
    signing: aws_lc_rs::rsa::KeyPair,
}

impl FastKey {
    fn load(pkcs8_der: &[u8]) -> Option<FastKey> {
        use aws_lc_rs::rsa::{
            OaepPrivateDecryptingKey, OaepPublicEncryptingKey, Pkcs1PrivateDecryptingKey,
            Pkcs1PublicEncryptingKey, PrivateDecryptingKey,
        };
        let private = PrivateDecryptingKey::from_pkcs8(pkcs8_der).ok()?;
        let public = OaepPublicEncryptingKey::new(private.public_key()).ok()?;
        let pkcs1_public = Pkcs1PublicEncryptingKey::new(private.public_key()).ok()?;
        let pkcs1_private =
            Pkcs1PrivateDecryptingKey::new(PrivateDecryptingKey::from_pkcs8(pkcs8_der).ok()?)
                .ok()?;
        Some(FastKey {
            private: OaepPrivateDecryptingKey::new(private).ok()?,
            public,
            pkcs1_private,
            pkcs1_public,
            signing: aws_lc_rs::rsa::KeyPair::from_pkcs8(pkcs8_der).ok()?,
        })
    }
}

/// Refuses a key aws-lc finds inconsistent (a CRT value, a prime, an exponent that does not
/// match the rest), for the sizes aws-lc takes.
fn check_consistent(bits: usize, accepted_by_aws_lc: bool) -> Result<(), CryptoError> {
    if (2048..=8192).contains(&bits) && !accepted_by_aws_lc {
        return Err(CryptoError::MalformedKey(
            "the key is inconsistent: its CRT parameters, primes or exponents do not match (OpenSSL's `rsa -check` fails too)".into(),
        ));
    }
    Ok(())
}

/// The DER inside a PEM block.
fn pem_body(pem: &str) -> Option<Vec<u8>> {
    let body: String = pem
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .filter(|l| !l.contains(':'))
        .map(str::trim)
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body.as_bytes())
        .ok()
}

/// The signature algorithms of Key Vault's `sign` and `verify`, over a digest the caller
/// computed: RSASSA-PKCS1-v1_5 (`RS*`) and RSASSA-PSS (`PS*`, salt as long as the digest)
/// for RSA keys, ECDSA (`ES*`, the signature as `r || s`) for EC keys on the matching
/// curve (ES256: P-256, ES384: P-384, ES512: P-521).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignatureAlgorithm {
    Rs256,
    Rs384,
    Rs512,
    Ps256,
    Ps384,
    Ps512,
    Es256,
    Es384,
    Es512,
}

impl SignatureAlgorithm {
    pub const ALL: [SignatureAlgorithm; 9] = [
        SignatureAlgorithm::Rs256,
        SignatureAlgorithm::Rs384,
        SignatureAlgorithm::Rs512,
        SignatureAlgorithm::Ps256,
        SignatureAlgorithm::Ps384,
        SignatureAlgorithm::Ps512,
        SignatureAlgorithm::Es256,
        SignatureAlgorithm::Es384,
        SignatureAlgorithm::Es512,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SignatureAlgorithm::Rs256 => "RS256",
            SignatureAlgorithm::Rs384 => "RS384",
            SignatureAlgorithm::Rs512 => "RS512",
            SignatureAlgorithm::Ps256 => "PS256",
            SignatureAlgorithm::Ps384 => "PS384",
            SignatureAlgorithm::Ps512 => "PS512",
            SignatureAlgorithm::Es256 => "ES256",
            SignatureAlgorithm::Es384 => "ES384",
            SignatureAlgorithm::Es512 => "ES512",
        }
    }

    pub fn parse(text: &str) -> Option<SignatureAlgorithm> {
        SignatureAlgorithm::ALL
            .into_iter()
            .find(|a| a.as_str() == text)
    }

    /// The length of the digest the algorithm signs.
    pub fn digest_len(self) -> usize {
        match self {
            SignatureAlgorithm::Rs256 | SignatureAlgorithm::Ps256 | SignatureAlgorithm::Es256 => 32,
            SignatureAlgorithm::Rs384 | SignatureAlgorithm::Ps384 | SignatureAlgorithm::Es384 => 48,
            SignatureAlgorithm::Rs512 | SignatureAlgorithm::Ps512 | SignatureAlgorithm::Es512 => 64,
        }
    }

    /// The curve an `ES*` algorithm signs with (`None`: an RSA algorithm).
    pub fn curve(self) -> Option<super::EcCurve> {
        match self {
            SignatureAlgorithm::Es256 => Some(super::EcCurve::P256),
            SignatureAlgorithm::Es384 => Some(super::EcCurve::P384),
            SignatureAlgorithm::Es512 => Some(super::EcCurve::P521),
            _ => None,
        }
    }

    /// The digest as aws-lc takes it.
    pub(crate) fn digest(self, digest: &[u8]) -> Result<aws_lc_rs::digest::Digest, CryptoError> {
        let alg = match self.digest_len() {
            32 => &aws_lc_rs::digest::SHA256,
            48 => &aws_lc_rs::digest::SHA384,
            _ => &aws_lc_rs::digest::SHA512,
        };
        aws_lc_rs::digest::Digest::import_less_safe(digest, alg).map_err(|_| {
            CryptoError::IncompatibleAlgorithm(format!(
                "the digest must be {} bytes for {}",
                self.digest_len(),
                self.as_str()
            ))
        })
    }

    fn pkcs1(self) -> Option<rsa::Pkcs1v15Sign> {
        match self {
            SignatureAlgorithm::Rs256 => Some(rsa::Pkcs1v15Sign::new::<rsa::sha2::Sha256>()),
            SignatureAlgorithm::Rs384 => Some(rsa::Pkcs1v15Sign::new::<rsa::sha2::Sha384>()),
            SignatureAlgorithm::Rs512 => Some(rsa::Pkcs1v15Sign::new::<rsa::sha2::Sha512>()),
            _ => None,
        }
    }

    /// A PSS signature by the `rsa` crate (`None`: not a `PS*` algorithm).
    fn pss_sign(self, key: &PrivateKey, digest: &[u8]) -> Option<rsa::errors::Result<Vec<u8>>> {
        use rsa::pss::Pss;
        use rsa::sha2::{Sha256, Sha384, Sha512};
        let mut rng = rand::rng();
        Some(match self {
            SignatureAlgorithm::Ps256 => key.sign_with_rng(&mut rng, Pss::<Sha256>::new(), digest),
            SignatureAlgorithm::Ps384 => key.sign_with_rng(&mut rng, Pss::<Sha384>::new(), digest),
            SignatureAlgorithm::Ps512 => key.sign_with_rng(&mut rng, Pss::<Sha512>::new(), digest),
            _ => return None,
        })
    }

    /// Checks a PSS signature with the `rsa` crate (false: not a `PS*` algorithm).
    fn pss_verify(self, key: &PublicKey, digest: &[u8], signature: &[u8]) -> bool {
        use rsa::pss::Pss;
        use rsa::sha2::{Sha256, Sha384, Sha512};
        match self {
            SignatureAlgorithm::Ps256 => key.verify(Pss::<Sha256>::new(), digest, signature),
            SignatureAlgorithm::Ps384 => key.verify(Pss::<Sha384>::new(), digest, signature),
            SignatureAlgorithm::Ps512 => key.verify(Pss::<Sha512>::new(), digest, signature),
            _ => return false,
        }
        .is_ok()
    }

    fn aws_lc_pss(self) -> Option<&'static aws_lc_rs::signature::RsaSignatureEncoding> {
        match self {
            SignatureAlgorithm::Ps256 => Some(&aws_lc_rs::signature::RSA_PSS_SHA256),
            SignatureAlgorithm::Ps384 => Some(&aws_lc_rs::signature::RSA_PSS_SHA384),
            SignatureAlgorithm::Ps512 => Some(&aws_lc_rs::signature::RSA_PSS_SHA512),
            _ => None,
        }
    }
}

/// Which implementation does the RSA-OAEP arithmetic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RsaBackend {
    /// aws-lc (constant time, fast): what the console uses wherever the key size allows.
    AwsLc,
    /// The RustCrypto `rsa` crate: for key sizes aws-lc refuses, and to cross-check.
    RustCrypto,
}

impl WrapAlgorithm {
    /// The OAEP parameters (`None`: PKCS#1 v1.5).
    fn aws_lc(self) -> Option<&'static aws_lc_rs::rsa::OaepAlgorithm> {
        match self {
            WrapAlgorithm::RsaOaep => Some(&aws_lc_rs::rsa::OAEP_SHA1_MGF1SHA1),
            WrapAlgorithm::RsaOaep256 => Some(&aws_lc_rs::rsa::OAEP_SHA256_MGF1SHA256),
            WrapAlgorithm::Rsa15 => None,
        }
    }
}

impl RsaKeyMaterial {
    /// Generates a fresh key from the operating system's RNG. Slow (tens to hundreds of
    /// milliseconds): the UI calls it on a worker thread.
    pub fn generate(bits: usize) -> Result<Self, CryptoError> {
        if !(1024..=8192).contains(&bits) || !bits.is_multiple_of(8) {
            return Err(CryptoError::UnsupportedKeySize(bits));
        }
        // aws-lc generates the sizes Key Vault offers several times faster.
        use aws_lc_rs::encoding::AsDer;
        use aws_lc_rs::rsa::KeySize;
        let size = match bits {
            2048 => Some(KeySize::Rsa2048),
            3072 => Some(KeySize::Rsa3072),
            4096 => Some(KeySize::Rsa4096),
            _ => None,
        };
        if let Some(size) = size
            && let Ok(key) = aws_lc_rs::rsa::PrivateDecryptingKey::generate(size)
            && let Ok(der) = key.as_der()
        {
            return Self::from_pkcs8_der(der.as_ref());
        }
        let mut rng = rand::rng();
        let key = PrivateKey::new(&mut rng, bits)
            .map_err(|e| CryptoError::MalformedKey(e.to_string()))?;
        Self::from_private_key(key)
    }

    fn from_private_key(key: PrivateKey) -> Result<Self, CryptoError> {
        let der = key
            .to_pkcs8_der()
            .map_err(|e| CryptoError::MalformedKey(e.to_string()))?;
        let parsed = OnceLock::new();
        let _ = parsed.set(key);
        Ok(RsaKeyMaterial {
            pkcs8_der: Arc::new(der.as_bytes().to_vec()),
            parsed: Arc::new(parsed),
            fast: Arc::new(OnceLock::new()),
        })
    }

    /// Reads a PKCS#8 DER private key.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, CryptoError> {
        let key = PrivateKey::from_pkcs8_der(der)
            .map_err(|e| CryptoError::MalformedKey(e.to_string()))?;
        check_consistent(
            key.size() * 8,
            aws_lc_rs::rsa::KeyPair::from_pkcs8(der).is_ok(),
        )?;
        Self::from_private_key(key)
    }

    /// Reads a PEM private key (`BEGIN PRIVATE KEY` or `BEGIN RSA PRIVATE KEY`).
    pub fn from_pem(pem: &str) -> Result<Self, CryptoError> {
        use rsa::pkcs1::DecodeRsaPrivateKey;
        let key = PrivateKey::from_pkcs8_pem(pem)
            .or_else(|_| PrivateKey::from_pkcs1_pem(pem))
            .map_err(|e| CryptoError::MalformedKey(e.to_string()))?;
        // `rsa` recomputes the CRT values and ignores the file's; OpenSSL checks them. So do
        // we (through aws-lc), so a damaged key file is refused rather than silently repaired.
        let der = pem_body(pem);
        let accepted = der.as_deref().is_some_and(|der| {
            if pem.contains("BEGIN RSA PRIVATE KEY") {
                aws_lc_rs::rsa::KeyPair::from_der(der).is_ok()
            } else {
                aws_lc_rs::rsa::KeyPair::from_pkcs8(der).is_ok()
            }
        });
        check_consistent(key.size() * 8, accepted)?;
        Self::from_private_key(key)
    }

    /// A key from its JWK components (big-endian `n`, `e`, `d`, `p`, `q`, `dp`, `dq`, `qi`),
    /// as an import through Key Vault's REST API carries it. The CRT values are checked
    /// (through aws-lc), as for a PEM file.
    #[allow(clippy::too_many_arguments)]
    pub fn from_jwk(
        n: &[u8],
        e: &[u8],
        d: &[u8],
        p: &[u8],
        q: &[u8],
        dp: &[u8],
        dq: &[u8],
        qi: &[u8],
    ) -> Result<Self, CryptoError> {
        use rsa::pkcs1::DecodeRsaPrivateKey;
        use rsa::pkcs1::der::Encode;
        let bad = |e: &dyn fmt::Display| CryptoError::MalformedKey(e.to_string());
        fn uint(b: &[u8]) -> Result<rsa::pkcs1::UintRef<'_>, CryptoError> {
            // DER integers carry no leading zero bytes of their own.
            let first = b
                .iter()
                .position(|&x| x != 0)
                .unwrap_or(b.len().saturating_sub(1));
            rsa::pkcs1::UintRef::new(&b[first..])
                .map_err(|e| CryptoError::MalformedKey(e.to_string()))
        }
        let pkcs1 = rsa::pkcs1::RsaPrivateKey {
            modulus: uint(n)?,
            public_exponent: uint(e)?,
            private_exponent: uint(d)?,
            prime1: uint(p)?,
            prime2: uint(q)?,
            exponent1: uint(dp)?,
            exponent2: uint(dq)?,
            coefficient: uint(qi)?,
            other_prime_infos: None,
        };
        let der = pkcs1.to_der().map_err(|e| bad(&e))?;
        let key = PrivateKey::from_pkcs1_der(&der).map_err(|e| bad(&e))?;
        check_consistent(
            key.size() * 8,
            aws_lc_rs::rsa::KeyPair::from_der(&der).is_ok(),
        )?;
        Self::from_private_key(key)
    }

    /// Signs a digest (`sign` in Key Vault: the caller hashed the message) with `RS*` or
    /// `PS*`.
    pub fn sign_digest(
        &self,
        alg: SignatureAlgorithm,
        digest: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        if digest.len() != alg.digest_len() {
            return Err(CryptoError::IncompatibleAlgorithm(format!(
                "the digest must be {} bytes for {}",
                alg.digest_len(),
                alg.as_str()
            )));
        }
        if let Some(scheme) = alg.pkcs1() {
            return self
                .key()?
                .sign(scheme, digest)
                .map_err(|_| CryptoError::WrapFailed);
        }
        let Some(encoding) = alg.aws_lc_pss() else {
            return Err(CryptoError::IncompatibleAlgorithm(format!(
                "{} signs with an EC key, not an RSA key",
                alg.as_str()
            )));
        };
        // PSS: aws-lc where it takes the key, the `rsa` crate otherwise.
        if let Some(fast) = self.fast() {
            let mut sig = vec![0u8; fast.signing.public_modulus_len()];
            fast.signing
                .sign_digest(encoding, &alg.digest(digest)?, &mut sig)
                .map_err(|_| CryptoError::WrapFailed)?;
            return Ok(sig);
        }
        match alg.pss_sign(self.key()?, digest) {
            Some(r) => r.map_err(|_| CryptoError::WrapFailed),
            None => Err(CryptoError::WrapFailed),
        }
    }

    /// Checks a signature over a digest with the public key (`RS*` or `PS*`).
    pub fn verify_digest(&self, alg: SignatureAlgorithm, digest: &[u8], signature: &[u8]) -> bool {
        let Ok(k) = self.public_key() else {
            return false;
        };
        if let Some(scheme) = alg.pkcs1() {
            return k.verify(scheme, digest, signature).is_ok();
        }
        alg.pss_verify(&k, digest, signature)
    }

    fn key(&self) -> Result<&PrivateKey, CryptoError> {
        if let Some(k) = self.parsed.get() {
            return Ok(k);
        }
        let k = PrivateKey::from_pkcs8_der(&self.pkcs8_der)
            .map_err(|e| CryptoError::MalformedKey(e.to_string()))?;
        Ok(self.parsed.get_or_init(|| k))
    }

    /// Checks that the stored DER really holds an RSA private key.
    pub fn validate(&self) -> Result<(), CryptoError> {
        self.key().map(|_| ())
    }

    pub fn public_key(&self) -> Result<PublicKey, CryptoError> {
        Ok(self.key()?.to_public_key())
    }

    /// The public part as PEM (`BEGIN PUBLIC KEY`, SubjectPublicKeyInfo): what
    /// `az keyvault key download` writes. The only form of a vault key that leaves it.
    pub fn public_pem(&self) -> Result<String, CryptoError> {
        use rsa::pkcs8::{EncodePublicKey, LineEnding};
        self.public_key()?
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| CryptoError::MalformedKey(e.to_string()))
    }

    /// The private key as PKCS#8 DER, for the BYOK transfer tool that runs on the
    /// customer's side (never for anything a vault returns).
    pub(crate) fn pkcs8_der(&self) -> &[u8] {
        &self.pkcs8_der
    }

    /// Key size in bits.
    pub fn bits(&self) -> usize {
        self.key().map(|k| k.size() * 8).unwrap_or(0)
    }

    /// Big-endian modulus.
    pub fn modulus(&self) -> Vec<u8> {
        self.key().map(|k| k.n_bytes().to_vec()).unwrap_or_default()
    }

    /// Big-endian public exponent.
    pub fn exponent(&self) -> Vec<u8> {
        self.key().map(|k| k.e_bytes().to_vec()).unwrap_or_default()
    }

    /// SHA-1 of the DER PKCS#1 RSAPublicKey, 40 upper-case hex digits: the thumbprint SQL
    /// shows for a server key.
    pub fn thumbprint(&self) -> String {
        let Ok(public) = self.public_key() else {
            return String::new();
        };
        match public.to_pkcs1_der() {
            Ok(der) => hex_upper(&sha1::Sha1::digest(der.as_bytes())),
            Err(_) => String::new(),
        }
    }

    fn fast(&self) -> Option<&FastKey> {
        self.fast
            .get_or_init(|| FastKey::load(&self.pkcs8_der))
            .as_ref()
    }

    /// Wraps (encrypts) a short secret with the public key.
    pub fn wrap(&self, alg: WrapAlgorithm, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.wrap_with(RsaBackend::AwsLc, alg, plaintext)
    }

    /// Unwraps (decrypts) what `wrap` produced.
    pub fn unwrap_key(&self, alg: WrapAlgorithm, wrapped: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.unwrap_with(RsaBackend::AwsLc, alg, wrapped)
    }

    /// [`RsaKeyMaterial::wrap`] by a chosen backend (aws-lc falls back to `rsa` for sizes
    /// it refuses).
    pub fn wrap_with(
        &self,
        backend: RsaBackend,
        alg: WrapAlgorithm,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        if backend == RsaBackend::AwsLc
            && let Some(fast) = self.fast()
        {
            let Some(oaep) = alg.aws_lc() else {
                let mut out = vec![0u8; fast.pkcs1_public.ciphertext_size()];
                let n = fast
                    .pkcs1_public
                    .encrypt(plaintext, &mut out)
                    .map_err(|_| CryptoError::WrapFailed)?
                    .len();
                out.truncate(n);
                return Ok(out);
            };
            let mut out = vec![0u8; fast.public.ciphertext_size()];
            let n = fast
                .public
                .encrypt(oaep, plaintext, &mut out, None)
                .map_err(|_| CryptoError::WrapFailed)?
                .len();
            out.truncate(n);
            return Ok(out);
        }
        let public = self.public_key()?;
        let r = match alg {
            WrapAlgorithm::RsaOaep => public.oaep_encrypt::<sha1::Sha1>(plaintext),
            WrapAlgorithm::RsaOaep256 => public.oaep_encrypt::<rsa::sha2::Sha256>(plaintext),
            WrapAlgorithm::Rsa15 => public.pkcs1v15_encrypt(plaintext),
        };
        r.map_err(|_| CryptoError::WrapFailed)
    }

    /// [`RsaKeyMaterial::unwrap_key`] by a chosen backend.
    pub fn unwrap_with(
        &self,
        backend: RsaBackend,
        alg: WrapAlgorithm,
        wrapped: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        if backend == RsaBackend::AwsLc
            && let Some(fast) = self.fast()
        {
            let Some(oaep) = alg.aws_lc() else {
                let mut out = vec![0u8; fast.pkcs1_private.min_output_size()];
                let n = fast
                    .pkcs1_private
                    .decrypt(wrapped, &mut out)
                    .map_err(|_| CryptoError::UnwrapFailed)?
                    .len();
                out.truncate(n);
                return Ok(out);
            };
            let mut out = vec![0u8; fast.private.min_output_size()];
            let n = fast
                .private
                .decrypt(oaep, wrapped, &mut out, None)
                .map_err(|_| CryptoError::UnwrapFailed)?
                .len();
            out.truncate(n);
            return Ok(out);
        }
        let key = self.key()?;
        let r = match alg {
            WrapAlgorithm::RsaOaep => key.oaep_decrypt::<sha1::Sha1>(wrapped),
            WrapAlgorithm::RsaOaep256 => key.oaep_decrypt::<rsa::sha2::Sha256>(wrapped),
            WrapAlgorithm::Rsa15 => key.pkcs1v15_decrypt(wrapped),
        };
        r.map_err(|_| CryptoError::UnwrapFailed)
    }
}

#[cfg(test)]
mod signature_tests {
    use super::*;

    #[test]
    fn a_signature_verifies_and_a_changed_digest_does_not() {
        let pem = include_str!("../../tests/fixtures/rsa2048-1.pem");
        let k = RsaKeyMaterial::from_pem(pem).expect("fixture");
        let digest = [7u8; 32];
        let sig = k
            .sign_digest(SignatureAlgorithm::Rs256, &digest)
            .expect("signs");
        assert!(k.verify_digest(SignatureAlgorithm::Rs256, &digest, &sig));
        assert!(!k.verify_digest(SignatureAlgorithm::Rs256, &[8u8; 32], &sig));
        assert!(k.sign_digest(SignatureAlgorithm::Rs384, &digest).is_err());
    }

    #[test]
    fn pss_signatures_verify_with_either_backend_and_are_randomized() {
        let pem = include_str!("../../tests/fixtures/rsa2048-1.pem");
        let k = RsaKeyMaterial::from_pem(pem).expect("fixture");
        for alg in [
            SignatureAlgorithm::Ps256,
            SignatureAlgorithm::Ps384,
            SignatureAlgorithm::Ps512,
        ] {
            let digest = vec![9u8; alg.digest_len()];
            let a = k.sign_digest(alg, &digest).expect("signs");
            let b = k.sign_digest(alg, &digest).expect("signs");
            assert_ne!(a, b, "PSS salts each signature");
            assert!(k.verify_digest(alg, &digest, &a));
            assert!(k.verify_digest(alg, &digest, &b));
            // The `rsa` crate's PSS agrees with aws-lc's.
            let rust = alg
                .pss_sign(k.key().expect("key"), &digest)
                .expect("a PS algorithm")
                .expect("signs");
            assert!(k.verify_digest(alg, &digest, &rust));
            let mut other = digest.clone();
            other[0] ^= 1;
            assert!(!k.verify_digest(alg, &other, &a));
            // A PSS signature is not a PKCS#1 v1.5 one.
            let rs = SignatureAlgorithm::parse(&alg.as_str().replace('P', "R")).expect("RS");
            assert!(!k.verify_digest(rs, &digest, &a));
        }
        assert!(
            k.sign_digest(SignatureAlgorithm::Es256, &[0u8; 32])
                .is_err()
        );
    }

    #[test]
    fn rsa1_5_round_trips_with_either_backend() {
        let pem = include_str!("../../tests/fixtures/rsa2048-1.pem");
        let k = RsaKeyMaterial::from_pem(pem).expect("fixture");
        let secret = [5u8; 32];
        for (enc, dec) in [
            (RsaBackend::AwsLc, RsaBackend::RustCrypto),
            (RsaBackend::RustCrypto, RsaBackend::AwsLc),
        ] {
            let c = k
                .wrap_with(enc, WrapAlgorithm::Rsa15, &secret)
                .expect("wraps");
            assert_eq!(c.len(), 256);
            assert_eq!(
                k.unwrap_with(dec, WrapAlgorithm::Rsa15, &c)
                    .expect("unwraps"),
                secret
            );
            assert!(k.unwrap_with(dec, WrapAlgorithm::RsaOaep256, &c).is_err());
        }
        assert!(
            k.unwrap_key(WrapAlgorithm::Rsa15, &[1u8; 256]).is_err(),
            "bad padding is an error"
        );
    }
}

impl PartialEq for RsaKeyMaterial {
    fn eq(&self, other: &Self) -> bool {
        self.pkcs8_der == other.pkcs8_der
    }
}

impl fmt::Debug for RsaKeyMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "RsaKeyMaterial(RSA {} bits, thumbprint {})",
            self.bits(),
            self.thumbprint()
        )
    }
}

impl Serialize for RsaKeyMaterial {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(&*self.pkcs8_der))
    }
}

impl<'de> Deserialize<'de> for RsaKeyMaterial {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let der = base64::engine::general_purpose::STANDARD
            .decode(text.as_bytes())
            .map_err(serde::de::Error::custom)?;
        RsaKeyMaterial::from_pkcs8_der(&der).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> RsaKeyMaterial {
        let pem = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/rsa2048-1.pem"
        ))
        .unwrap();
        RsaKeyMaterial::from_pem(&pem).unwrap()
    }

    #[test]
    fn thumbprint_matches_openssl() {
        // openssl rsa -in rsa2048-1.pem -RSAPublicKey_out -outform DER | sha1sum
        let k = fixture();
        assert_eq!(k.thumbprint(), "C1593207C6F7BA2EA0973E6F8330F35AF8EF2751");
        assert_eq!(k.bits(), 2048);
        assert!(hex_upper(&k.modulus()).starts_with("BB4869CFF3F6DDEACFDD3A9173BD7626"));
    }

    #[test]
    fn oaep_wraps_round_trip_and_fail_with_another_key() {
        let k = fixture();
        for alg in [WrapAlgorithm::RsaOaep, WrapAlgorithm::RsaOaep256] {
            let w = k.wrap(alg, &[9u8; 32]).unwrap();
            assert_eq!(w.len(), 256);
            assert_eq!(k.unwrap_key(alg, &w).unwrap(), vec![9u8; 32]);
        }
        let pem = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/rsa2048-2.pem"
        ))
        .unwrap();
        let other = RsaKeyMaterial::from_pem(&pem).unwrap();
        let w = k.wrap(WrapAlgorithm::RsaOaep256, &[1u8; 32]).unwrap();
        assert_eq!(
            other.unwrap_key(WrapAlgorithm::RsaOaep256, &w),
            Err(CryptoError::UnwrapFailed)
        );
    }

    /// Every wrap by one backend unwraps by the other, for both algorithms and the sizes
    /// Key Vault offers.
    #[test]
    fn both_backends_agree_on_every_wrap_and_unwrap() {
        for file in ["rsa2048-1.pem", "rsa3072-1.pem", "rsa4096-1.pem"] {
            let pem = std::fs::read_to_string(format!(
                "{}/tests/fixtures/{file}",
                env!("CARGO_MANIFEST_DIR")
            ))
            .unwrap();
            let k = RsaKeyMaterial::from_pem(&pem).unwrap();
            assert!(k.fast().is_some(), "aws-lc takes {file}");
            for alg in [WrapAlgorithm::RsaOaep, WrapAlgorithm::RsaOaep256] {
                for (by, back) in [
                    (RsaBackend::AwsLc, RsaBackend::RustCrypto),
                    (RsaBackend::RustCrypto, RsaBackend::AwsLc),
                ] {
                    let secret: Vec<u8> = (0..32u8).map(|i| i ^ 0x5a).collect();
                    let w = k.wrap_with(by, alg, &secret).unwrap();
                    assert_eq!(w.len(), k.bits() / 8);
                    assert_eq!(k.unwrap_with(back, alg, &w).unwrap(), secret);
                    assert_eq!(k.unwrap_with(by, alg, &w).unwrap(), secret);
                    // A damaged wrap is refused by both.
                    let mut bad = w.clone();
                    bad[5] ^= 1;
                    assert!(k.unwrap_with(back, alg, &bad).is_err());
                    assert!(k.unwrap_with(by, alg, &bad).is_err());
                }
            }
        }
        // 1024-bit keys (which aws-lc refuses) still work through `rsa`.
        let pem = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/rsa1024-1.pem"
        ))
        .unwrap();
        let small = RsaKeyMaterial::from_pem(&pem).unwrap();
        let w = small.wrap(WrapAlgorithm::RsaOaep256, &[7u8; 32]).unwrap();
        assert_eq!(
            small.unwrap_key(WrapAlgorithm::RsaOaep256, &w).unwrap(),
            vec![7u8; 32]
        );
    }

    /// A PKCS#1 key whose CRT coefficient was swapped for another value: `rsa` alone would
    /// import it (it recomputes CRT values); OpenSSL and aws-lc refuse it, and so do we.
    #[test]
    fn keys_with_damaged_crt_values_are_refused() {
        use rsa::pkcs1::EncodeRsaPrivateKey;
        use rsa::pkcs1::der::{Decode, Encode};
        let k = fixture();
        let der = k.key().unwrap().to_pkcs1_der().unwrap();
        let good = rsa::pkcs1::RsaPrivateKeyRef::from_der(der.as_bytes()).unwrap();
        let damaged = rsa::pkcs1::RsaPrivateKeyRef {
            coefficient: good.exponent1,
            ..good.clone()
        }
        .to_der()
        .unwrap();
        let pem = |der: &[u8]| {
            let b64 = base64::engine::general_purpose::STANDARD.encode(der);
            let lines: Vec<String> = b64
                .as_bytes()
                .chunks(64)
                .map(|c| String::from_utf8_lossy(c).to_string())
                .collect();
            format!(
                "-----BEGIN RSA PRIVATE KEY-----\n{}\n-----END RSA PRIVATE KEY-----\n",
                lines.join("\n")
            )
        };
        assert!(RsaKeyMaterial::from_pem(&pem(&good.to_der().unwrap())).is_ok());
        let e = RsaKeyMaterial::from_pem(&pem(&damaged)).unwrap_err();
        assert!(e.to_string().contains("inconsistent"), "{e}");
    }

    #[test]
    fn generated_keys_are_of_the_size_asked() {
        let k = RsaKeyMaterial::generate(2048).unwrap();
        assert_eq!(k.bits(), 2048);
        let w = k
            .wrap_with(
                RsaBackend::RustCrypto,
                WrapAlgorithm::RsaOaep256,
                &[3u8; 32],
            )
            .unwrap();
        assert_eq!(
            k.unwrap_key(WrapAlgorithm::RsaOaep256, &w).unwrap(),
            vec![3u8; 32]
        );
    }

    #[test]
    fn serde_and_debug_never_show_pem_and_round_trip() {
        let k = fixture();
        let dbg = format!("{k:?}");
        assert!(dbg.contains("C1593207") && !dbg.contains("MII"));
        let ron = ron::to_string(&k).unwrap();
        let back: RsaKeyMaterial = ron::from_str(&ron).unwrap();
        assert!(back == k);
        assert!(ron::from_str::<RsaKeyMaterial>("\"bm90IGEga2V5\"").is_err());
    }
}
