//! Elliptic-curve keys (Key Vault's `EC` / `EC-HSM`, curves P-256, P-384, P-521): real key
//! pairs from aws-lc, kept as PKCS#8. Key Vault holds them for signing; TDE cannot use them
//! (it wraps with RSA), which is what they are here to show. [`KeyMaterial`] is a vault key
//! version's material, RSA or EC.

use super::{CryptoError, RsaKeyMaterial, hex_upper};
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P384_SHA384_FIXED,
    ECDSA_P384_SHA384_FIXED_SIGNING, ECDSA_P521_SHA512_FIXED, ECDSA_P521_SHA512_FIXED_SIGNING,
    EcdsaKeyPair, EcdsaSigningAlgorithm, EcdsaVerificationAlgorithm, KeyPair, UnparsedPublicKey,
};
use base64::Engine;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha1::{Digest, Sha1};
use std::sync::Arc;

/// A curve Key Vault offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EcCurve {
    P256,
    P384,
    P521,
}

impl EcCurve {
    pub const ALL: [EcCurve; 3] = [EcCurve::P256, EcCurve::P384, EcCurve::P521];

    pub fn as_str(self) -> &'static str {
        match self {
            EcCurve::P256 => "P-256",
            EcCurve::P384 => "P-384",
            EcCurve::P521 => "P-521",
        }
    }

    pub fn parse(text: &str) -> Option<EcCurve> {
        EcCurve::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(text.trim()))
    }

    pub fn bits(self) -> usize {
        match self {
            EcCurve::P256 => 256,
            EcCurve::P384 => 384,
            EcCurve::P521 => 521,
        }
    }

    fn algorithm(self) -> &'static EcdsaSigningAlgorithm {
        match self {
            EcCurve::P256 => &ECDSA_P256_SHA256_FIXED_SIGNING,
            EcCurve::P384 => &ECDSA_P384_SHA384_FIXED_SIGNING,
            EcCurve::P521 => &ECDSA_P521_SHA512_FIXED_SIGNING,
        }
    }

    fn verification(self) -> &'static EcdsaVerificationAlgorithm {
        match self {
            EcCurve::P256 => &ECDSA_P256_SHA256_FIXED,
            EcCurve::P384 => &ECDSA_P384_SHA384_FIXED,
            EcCurve::P521 => &ECDSA_P521_SHA512_FIXED,
        }
    }

    /// The bytes of a coordinate (and of the private scalar).
    pub fn coordinate_len(self) -> usize {
        self.bits().div_ceil(8)
    }
}

/// An EC private key (PKCS#8), with its curve.
#[derive(Clone)]
pub struct EcKeyMaterial {
    curve: EcCurve,
    pkcs8_der: Arc<Vec<u8>>,
}

impl EcKeyMaterial {
    /// A new key pair from the OS RNG.
    pub fn generate(curve: EcCurve) -> Result<Self, CryptoError> {
        let pair = EcdsaKeyPair::generate(curve.algorithm())
            .map_err(|_| CryptoError::MalformedKey("EC key generation failed".into()))?;
        let der = pair
            .to_pkcs8v1()
            .map_err(|_| CryptoError::MalformedKey("EC key encoding failed".into()))?;
        Ok(EcKeyMaterial {
            curve,
            pkcs8_der: Arc::new(der.as_ref().to_vec()),
        })
    }

    /// A private key in DER (PKCS#8 or SEC1), on whichever curve it is.
    pub fn from_der(der: &[u8]) -> Result<Self, CryptoError> {
        for curve in EcCurve::ALL {
            let pair = EcdsaKeyPair::from_pkcs8(curve.algorithm(), der)
                .or_else(|_| EcdsaKeyPair::from_private_key_der(curve.algorithm(), der));
            if let Ok(pair) = pair
                && let Ok(doc) = pair.to_pkcs8v1()
            {
                return Ok(EcKeyMaterial {
                    curve,
                    pkcs8_der: Arc::new(doc.as_ref().to_vec()),
                });
            }
        }
        Err(CryptoError::MalformedKey(
            "not an EC private key on P-256, P-384 or P-521".into(),
        ))
    }

    /// A PEM private key (`BEGIN PRIVATE KEY` or `BEGIN EC PRIVATE KEY`).
    pub fn from_pem(pem: &str) -> Result<Self, CryptoError> {
        let body: String = pem
            .lines()
            .map(str::trim)
            .filter(|l| !l.starts_with("-----") && !l.is_empty() && !l.contains(':'))
            .collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(body.as_bytes())
            .map_err(|e| CryptoError::MalformedKey(e.to_string()))?;
        Self::from_der(&der)
    }

    /// A key from its JWK components (`crv`, and big-endian `x`, `y`, `d`), as an import
    /// through Key Vault's REST API carries it: the private scalar must give the public
    /// point.
    pub fn from_jwk(crv: &str, x: &[u8], y: &[u8], d: &[u8]) -> Result<Self, CryptoError> {
        let curve = EcCurve::parse(crv).ok_or_else(|| {
            CryptoError::MalformedKey(format!(
                "the curve '{crv}' is not one of P-256, P-384, P-521"
            ))
        })?;
        let len = curve.coordinate_len();
        // Left-padded to the curve's size (some encoders drop leading zero bytes).
        let fixed = |b: &[u8], what: &str| -> Result<Vec<u8>, CryptoError> {
            let b = &b[b.iter().position(|&v| v != 0).unwrap_or(b.len())..];
            if b.len() > len {
                return Err(CryptoError::MalformedKey(format!(
                    "'{what}' is longer than {len} bytes for {}",
                    curve.as_str()
                )));
            }
            let mut out = vec![0u8; len - b.len()];
            out.extend_from_slice(b);
            Ok(out)
        };
        let mut point = vec![0x04];
        point.extend(fixed(x, "x")?);
        point.extend(fixed(y, "y")?);
        let pair = EcdsaKeyPair::from_private_key_and_public_key(
            curve.algorithm(),
            &fixed(d, "d")?,
            &point,
        )
        .map_err(|e| {
            CryptoError::MalformedKey(format!(
                "the private key does not go with the public point ({e})"
            ))
        })?;
        let der = pair
            .to_pkcs8v1()
            .map_err(|_| CryptoError::MalformedKey("EC key encoding failed".into()))?;
        Ok(EcKeyMaterial {
            curve,
            pkcs8_der: Arc::new(der.as_ref().to_vec()),
        })
    }

    pub fn curve(&self) -> EcCurve {
        self.curve
    }

    /// Signs a digest with `ES256` (P-256), `ES384` (P-384) or `ES512` (P-521): the
    /// signature as `r || s`, as Key Vault returns it.
    pub fn sign_digest(
        &self,
        alg: super::SignatureAlgorithm,
        digest: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        self.check_algorithm(alg)?;
        let digest = alg.digest(digest)?;
        let pair = self
            .pair()
            .ok_or_else(|| CryptoError::MalformedKey("the EC key cannot be read".into()))?;
        pair.sign_digest(&digest)
            .map(|s| s.as_ref().to_vec())
            .map_err(|_| CryptoError::WrapFailed)
    }

    /// Checks an `r || s` signature over a digest.
    pub fn verify_digest(
        &self,
        alg: super::SignatureAlgorithm,
        digest: &[u8],
        signature: &[u8],
    ) -> bool {
        self.check_algorithm(alg).is_ok()
            && alg.digest(digest).is_ok_and(|d| {
                UnparsedPublicKey::new(self.curve.verification(), self.point())
                    .verify_digest(&d, signature)
                    .is_ok()
            })
    }

    fn check_algorithm(&self, alg: super::SignatureAlgorithm) -> Result<(), CryptoError> {
        match alg.curve() {
            Some(c) if c == self.curve => Ok(()),
            Some(c) => Err(CryptoError::IncompatibleAlgorithm(format!(
                "{} signs with a {} key; this key is {}",
                alg.as_str(),
                c.as_str(),
                self.curve.as_str()
            ))),
            None => Err(CryptoError::IncompatibleAlgorithm(format!(
                "{} signs with an RSA key, not an EC key",
                alg.as_str()
            ))),
        }
    }

    fn pair(&self) -> Option<EcdsaKeyPair> {
        EcdsaKeyPair::from_pkcs8(self.curve.algorithm(), &self.pkcs8_der).ok()
    }

    /// The public point, uncompressed (`04 || x || y`).
    fn point(&self) -> Vec<u8> {
        self.pair()
            .map(|p| p.public_key().as_ref().to_vec())
            .unwrap_or_default()
    }

    /// The JWK `x` and `y` coordinates.
    pub fn coordinates(&self) -> (Vec<u8>, Vec<u8>) {
        let point = self.point();
        let body = point.get(1..).unwrap_or_default();
        let half = body.len() / 2;
        (body[..half].to_vec(), body[half..].to_vec())
    }

    /// The public key as PEM (`BEGIN PUBLIC KEY`, SubjectPublicKeyInfo).
    pub fn public_pem(&self) -> String {
        // SPKI = SEQUENCE { SEQUENCE { id-ecPublicKey, curve OID }, BIT STRING point }.
        let curve_oid: &[u8] = match self.curve {
            EcCurve::P256 => &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07],
            EcCurve::P384 => &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22],
            EcCurve::P521 => &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23],
        };
        let ec_oid: &[u8] = &[0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
        let der_len = |n: usize| -> Vec<u8> {
            if n < 0x80 {
                vec![n as u8]
            } else if n < 0x100 {
                vec![0x81, n as u8]
            } else {
                vec![0x82, (n >> 8) as u8, n as u8]
            }
        };
        let mut alg = vec![0x30];
        alg.extend(der_len(ec_oid.len() + curve_oid.len()));
        alg.extend_from_slice(ec_oid);
        alg.extend_from_slice(curve_oid);
        let point = self.point();
        let mut bits = vec![0x03];
        bits.extend(der_len(point.len() + 1));
        bits.push(0);
        bits.extend(point);
        let mut spki = vec![0x30];
        spki.extend(der_len(alg.len() + bits.len()));
        spki.extend(alg);
        spki.extend(bits);
        let b64 = base64::engine::general_purpose::STANDARD.encode(spki);
        let lines: Vec<&str> = b64
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap_or_default())
            .collect();
        format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            lines.join("\n")
        )
    }

    /// SHA-1 of the public point, upper-case hex (the console's thumbprint of an EC key).
    pub fn thumbprint(&self) -> String {
        hex_upper(&Sha1::digest(self.point()))
    }
}

impl PartialEq for EcKeyMaterial {
    fn eq(&self, other: &Self) -> bool {
        self.curve == other.curve && self.pkcs8_der == other.pkcs8_der
    }
}

impl std::fmt::Debug for EcKeyMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "EcKeyMaterial({}, thumbprint {})",
            self.curve.as_str(),
            self.thumbprint()
        )
    }
}

/// A vault key version's material.
#[derive(Clone, Debug, PartialEq)]
pub enum KeyMaterial {
    Rsa(RsaKeyMaterial),
    Ec(EcKeyMaterial),
}

impl From<RsaKeyMaterial> for KeyMaterial {
    fn from(m: RsaKeyMaterial) -> Self {
        KeyMaterial::Rsa(m)
    }
}

impl KeyMaterial {
    /// The RSA key, when it is one (what TDE can wrap with).
    pub fn rsa(&self) -> Option<&RsaKeyMaterial> {
        match self {
            KeyMaterial::Rsa(r) => Some(r),
            KeyMaterial::Ec(_) => None,
        }
    }

    /// The key size: RSA modulus bits, or the curve's size.
    pub fn bits(&self) -> usize {
        match self {
            KeyMaterial::Rsa(r) => r.bits(),
            KeyMaterial::Ec(e) => e.curve().bits(),
        }
    }

    pub fn thumbprint(&self) -> String {
        match self {
            KeyMaterial::Rsa(r) => r.thumbprint(),
            KeyMaterial::Ec(e) => e.thumbprint(),
        }
    }

    /// The public members of the key's JWK (RFC 7518 §6), base64url without padding: `n`
    /// and `e` for RSA, `crv`, `x` and `y` for EC. Never a private member: every surface
    /// that shows a key (the shell's JSON, the endpoint's REST bundles) renders these.
    pub fn public_jwk(&self) -> Vec<(&'static str, String)> {
        match self {
            KeyMaterial::Rsa(r) => vec![
                ("n", super::b64url(&r.modulus())),
                ("e", super::b64url(&r.exponent())),
            ],
            KeyMaterial::Ec(ec) => {
                let (x, y) = ec.coordinates();
                vec![
                    ("crv", ec.curve().as_str().to_string()),
                    ("x", super::b64url(&x)),
                    ("y", super::b64url(&y)),
                ]
            }
        }
    }
}

/// RSA material is stored as before (base64 PKCS#8, so older files read unchanged); EC as
/// `EC:<curve>:<base64 PKCS#8>`.
impl Serialize for KeyMaterial {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            KeyMaterial::Rsa(r) => r.serialize(s),
            KeyMaterial::Ec(e) => s.serialize_str(&format!(
                "EC:{}:{}",
                e.curve.as_str(),
                base64::engine::general_purpose::STANDARD.encode(&*e.pkcs8_der)
            )),
        }
    }
}

impl<'de> Deserialize<'de> for KeyMaterial {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        if let Some(rest) = text.strip_prefix("EC:") {
            let (_, b64) = rest
                .split_once(':')
                .ok_or_else(|| serde::de::Error::custom("EC key material without its curve"))?;
            let der = base64::engine::general_purpose::STANDARD
                .decode(b64.as_bytes())
                .map_err(serde::de::Error::custom)?;
            return EcKeyMaterial::from_der(&der)
                .map(KeyMaterial::Ec)
                .map_err(serde::de::Error::custom);
        }
        let der = base64::engine::general_purpose::STANDARD
            .decode(text.as_bytes())
            .map_err(serde::de::Error::custom)?;
        RsaKeyMaterial::from_pkcs8_der(&der)
            .map(KeyMaterial::Rsa)
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_curve_generates_round_trips_and_has_its_coordinates() {
        for curve in EcCurve::ALL {
            let k = EcKeyMaterial::generate(curve).unwrap();
            let m = KeyMaterial::Ec(k.clone());
            let text = serde_json::to_string(&m).unwrap();
            let back: KeyMaterial = serde_json::from_str(&text).unwrap();
            assert_eq!(back, m);
            assert_eq!(m.bits(), curve.bits());
            let (x, y) = k.coordinates();
            assert_eq!(x.len(), y.len());
            assert_eq!(x.len(), curve.bits().div_ceil(8));
            assert!(m.rsa().is_none());
        }
    }

    #[test]
    fn a_public_jwk_has_the_public_members_only() {
        use base64::Engine;
        let decode = |t: &str| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(t)
                .expect("base64url without padding")
        };
        let pem = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/rsa2048-1.pem"
        ))
        .expect("fixture");
        let rsa = crate::crypto::RsaKeyMaterial::from_pem(&pem).expect("an RSA key");
        let jwk = KeyMaterial::Rsa(rsa.clone()).public_jwk();
        let names: Vec<&str> = jwk.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, ["n", "e"]);
        assert_eq!(decode(&jwk[0].1), rsa.modulus());
        assert_eq!(jwk[1].1, "AQAB", "65537");

        let ec = EcKeyMaterial::generate(EcCurve::P384).unwrap();
        let jwk = KeyMaterial::Ec(ec.clone()).public_jwk();
        let (x, y) = ec.coordinates();
        assert_eq!(
            jwk,
            [
                ("crv", "P-384".to_string()),
                ("x", crate::crypto::b64url(&x)),
                ("y", crate::crypto::b64url(&y)),
            ]
        );
        assert_eq!(decode(&jwk[1].1), x);
    }

    #[test]
    fn every_curve_signs_its_es_algorithm_and_refuses_the_others() {
        use crate::crypto::SignatureAlgorithm as A;
        for (curve, alg) in [
            (EcCurve::P256, A::Es256),
            (EcCurve::P384, A::Es384),
            (EcCurve::P521, A::Es512),
        ] {
            let k = EcKeyMaterial::generate(curve).unwrap();
            let digest = vec![3u8; alg.digest_len()];
            let sig = k.sign_digest(alg, &digest).expect("signs");
            assert_eq!(sig.len(), 2 * curve.coordinate_len(), "r || s");
            assert!(k.verify_digest(alg, &digest, &sig));
            let mut other = digest.clone();
            other[1] ^= 1;
            assert!(!k.verify_digest(alg, &other, &sig));
            assert!(k.sign_digest(alg, &digest[1..]).is_err(), "digest size");
            for wrong in [A::Es256, A::Es384, A::Es512, A::Rs256, A::Ps256] {
                if wrong != alg {
                    let d = vec![3u8; wrong.digest_len()];
                    assert!(k.sign_digest(wrong, &d).is_err(), "{curve:?} {wrong:?}");
                }
            }
        }
    }

    #[test]
    fn a_jwk_imports_when_its_scalar_gives_its_point() {
        let k = EcKeyMaterial::generate(EcCurve::P256).unwrap();
        let pair = k.pair().unwrap();
        // The private scalar from the PKCS#8 (aws-lc exports it as big-endian bytes).
        use aws_lc_rs::encoding::AsBigEndian;
        let d = pair.private_key().as_be_bytes().unwrap();
        let (x, y) = k.coordinates();
        let back = EcKeyMaterial::from_jwk("P-256", &x, &y, d.as_ref()).expect("imports");
        assert_eq!(back.coordinates(), k.coordinates());
        let other = EcKeyMaterial::generate(EcCurve::P256).unwrap();
        let (ox, oy) = other.coordinates();
        assert!(EcKeyMaterial::from_jwk("P-256", &ox, &oy, d.as_ref()).is_err());
        assert!(EcKeyMaterial::from_jwk("P-999", &x, &y, d.as_ref()).is_err());
        assert!(EcKeyMaterial::from_jwk("P-256", &[1u8; 40], &y, d.as_ref()).is_err());
    }

    #[test]
    fn the_fixture_pem_reads_as_p256() {
        let pem = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/ec-p256.pem"
        ))
        .unwrap();
        assert_eq!(
            EcKeyMaterial::from_pem(&pem).unwrap().curve(),
            EcCurve::P256
        );
        assert!(
            EcKeyMaterial::from_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----")
                .is_err()
        );
    }
}
