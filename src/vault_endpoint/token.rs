//! Access tokens for the local vault endpoint: JWTs shaped like Microsoft Entra's (`aud`
//! `https://vault.azure.net`, `iss`, `tid`, `oid`, `appid`), signed with HS256 under a key
//! derived from the workspace's own secret, so only this workspace's tokens are accepted.
//! Lifetimes are wall-clock seconds, as the SDKs check them.

use crate::crypto::b64url;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};

type HmacSha256 = Hmac<sha2::Sha256>;

/// The audience of a Key Vault token (and of a Managed HSM's).
pub const VAULT_RESOURCE: &str = "https://vault.azure.net";
pub const HSM_RESOURCE: &str = "https://managedhsm.azure.net";
/// The longest lifetime a token may have (wall-clock seconds): Entra issues access tokens
/// of at most a day, so a token claiming longer was not issued by anything honest, whatever
/// its signature.
pub const MAX_LIFETIME_S: i64 = 24 * 3600;
/// The Azure CLI's application id: the app of the console user's own token.
pub const CONSOLE_APP_ID: &str = crate::service::requests::AZURE_CLI_APP_ID;

/// What a token says about its bearer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub aud: String,
    pub iss: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    /// The principal's object id.
    pub oid: String,
    pub sub: String,
    /// The tenant the token was issued in.
    pub tid: String,
    /// The application the token was issued to.
    pub appid: String,
    /// `user` or `app`.
    pub idtyp: String,
    /// A name for logs: the UPN, or the identity's or app's name.
    pub name: String,
}

impl Claims {
    /// Claims for `oid` of tenant `tid`, valid from `now` for `lifetime_s` seconds.
    pub fn new(
        oid: &str,
        tid: &str,
        appid: &str,
        name: &str,
        user: bool,
        now: i64,
        lifetime_s: i64,
    ) -> Claims {
        Claims {
            aud: VAULT_RESOURCE.into(),
            iss: format!("https://sts.windows.net/{tid}/"),
            iat: now,
            nbf: now,
            exp: now.saturating_add(lifetime_s),
            oid: oid.into(),
            sub: oid.into(),
            tid: tid.into(),
            appid: appid.into(),
            idtyp: if user { "user" } else { "app" }.into(),
            name: name.into(),
        }
    }
}

/// Signs `claims` into a compact JWT.
pub fn issue(claims: &Claims, key: &[u8; 32]) -> String {
    let header = b64url(br#"{"alg":"HS256","typ":"JWT"}"#);
    let body = b64url(serde_json::to_string(claims).unwrap_or_default().as_bytes());
    let signing_input = format!("{header}.{body}");
    // HMAC takes a key of any length: a 32-byte key never fails.
    let Ok(mut mac) = <HmacSha256 as KeyInit>::new_from_slice(key) else {
        return String::new();
    };
    mac.update(signing_input.as_bytes());
    let sig = mac.finalize().into_bytes();
    format!("{signing_input}.{}", b64url(&sig))
}

/// Why a token is refused, with Key Vault's message for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenError {
    Malformed,
    BadSignature,
    Expired,
    NotYetValid,
    WrongAudience(String),
    /// The token's lifetime (from issue, or from now) exceeds [`MAX_LIFETIME_S`].
    TooLong,
}

impl TokenError {
    pub fn message(&self) -> String {
        match self {
            TokenError::Malformed => "AKV10000: Request is missing a Bearer or PoP token.".into(),
            TokenError::BadSignature => {
                "AKV10032: Invalid issuer. The token's signature does not verify.".into()
            }
            TokenError::Expired => {
                "AKV10022: Invalid audience or token. The token has expired.".into()
            }
            TokenError::NotYetValid => "AKV10022: The token is not valid yet.".into(),
            TokenError::TooLong => format!(
                "AKV10022: Invalid token. Its lifetime exceeds the maximum of {MAX_LIFETIME_S} seconds."
            ),
            TokenError::WrongAudience(a) => {
                format!("AKV10022: Invalid audience. Expected {VAULT_RESOURCE}, found: {a}.")
            }
        }
    }
}

/// Checks a compact JWT's signature, lifetime (at wall-clock `now`) and audience.
pub fn verify(token: &str, key: &[u8; 32], now: i64, resource: &str) -> Result<Claims, TokenError> {
    let mut parts = token.split('.');
    let (Some(header), Some(body), Some(sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed);
    };
    let decode = |p: &str| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(p.trim_end_matches('='))
            .map_err(|_| TokenError::Malformed)
    };
    let header: serde_json::Value =
        serde_json::from_slice(&decode(header)?).map_err(|_| TokenError::Malformed)?;
    if header.get("alg").and_then(|a| a.as_str()) != Some("HS256") {
        return Err(TokenError::BadSignature);
    }
    let mut mac =
        <HmacSha256 as KeyInit>::new_from_slice(key).map_err(|_| TokenError::Malformed)?;
    mac.update(&token.as_bytes()[..token.len() - sig.len() - 1]);
    mac.verify_slice(&decode(sig)?)
        .map_err(|_| TokenError::BadSignature)?;
    let claims: Claims =
        serde_json::from_slice(&decode(body)?).map_err(|_| TokenError::Malformed)?;
    if claims.exp <= now {
        return Err(TokenError::Expired);
    }
    if claims.nbf > now.saturating_add(300) {
        return Err(TokenError::NotYetValid);
    }
    // Saturating: a forged `exp` of i64::MAX or an `iat` of i64::MIN must not wrap round.
    if claims.exp.saturating_sub(claims.iat) > MAX_LIFETIME_S
        || claims.exp.saturating_sub(now) > MAX_LIFETIME_S
    {
        return Err(TokenError::TooLong);
    }
    if claims.aud.trim_end_matches('/') != resource {
        return Err(TokenError::WrongAudience(claims.aud));
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [9u8; 32];

    fn claims(now: i64) -> Claims {
        Claims::new(
            "oid-1",
            "tid-1",
            CONSOLE_APP_ID,
            "admin@contoso.com",
            true,
            now,
            3600,
        )
    }

    #[test]
    fn a_token_verifies_until_it_expires() {
        let t = issue(&claims(1000), &KEY);
        assert_eq!(verify(&t, &KEY, 1001, VAULT_RESOURCE).unwrap().oid, "oid-1");
        assert_eq!(
            verify(&t, &KEY, 4600, VAULT_RESOURCE),
            Err(TokenError::Expired)
        );
        assert_eq!(
            verify(&t, &KEY, 1001, HSM_RESOURCE),
            Err(TokenError::WrongAudience(VAULT_RESOURCE.into()))
        );
    }

    #[test]
    fn a_token_living_longer_than_a_day_is_refused_even_if_signed() {
        let ok = Claims::new("o", "t", CONSOLE_APP_ID, "n", true, 1000, MAX_LIFETIME_S);
        assert!(verify(&issue(&ok, &KEY), &KEY, 1001, VAULT_RESOURCE).is_ok());
        let long = Claims::new(
            "o",
            "t",
            CONSOLE_APP_ID,
            "n",
            true,
            1000,
            MAX_LIFETIME_S + 1,
        );
        assert_eq!(
            verify(&issue(&long, &KEY), &KEY, 1001, VAULT_RESOURCE),
            Err(TokenError::TooLong)
        );
        let mut forever = claims(1000);
        forever.exp = i64::MAX;
        assert_eq!(
            verify(&issue(&forever, &KEY), &KEY, 1001, VAULT_RESOURCE),
            Err(TokenError::TooLong)
        );
        // A recent `iat` does not excuse an `exp` far in the future either.
        let mut late = claims(1000);
        late.iat = i64::MAX - 10;
        late.exp = i64::MAX;
        assert_eq!(
            verify(&issue(&late, &KEY), &KEY, 1001, VAULT_RESOURCE),
            Err(TokenError::TooLong)
        );
        let mut ancient = claims(1000);
        ancient.iat = i64::MIN;
        assert_eq!(
            verify(&issue(&ancient, &KEY), &KEY, 1001, VAULT_RESOURCE),
            Err(TokenError::TooLong)
        );
        assert!(TokenError::TooLong.message().contains("86400"));
    }

    #[test]
    fn another_key_a_changed_claim_or_garbage_is_refused() {
        let t = issue(&claims(1000), &KEY);
        assert_eq!(
            verify(&t, &[1u8; 32], 1001, VAULT_RESOURCE),
            Err(TokenError::BadSignature)
        );
        let mut parts: Vec<String> = t.split('.').map(String::from).collect();
        let mut c = claims(1000);
        c.oid = "someone-else".into();
        parts[1] = b64url(serde_json::to_string(&c).unwrap().as_bytes());
        assert_eq!(
            verify(&parts.join("."), &KEY, 1001, VAULT_RESOURCE),
            Err(TokenError::BadSignature)
        );
        for junk in ["", "a.b", "a.b.c.d", "....", "x.y.z", "\u{0}.\u{0}.\u{0}"] {
            assert!(
                verify(junk, &KEY, 1001, VAULT_RESOURCE).is_err(),
                "{junk:?}"
            );
        }
    }
}
