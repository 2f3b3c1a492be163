//! Typed identifiers. Each wraps the string form Azure shows, so a value cannot be passed
//! where another kind of id is expected.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

string_id!(
    /// An Azure AD (Entra ID) tenant GUID.
    TenantId
);
string_id!(
    /// A subscription GUID.
    SubscriptionId
);
string_id!(
    /// The object id of a principal: a user, or a server's system-assigned identity.
    PrincipalId
);
string_id!(
    /// A key version: 32 lower-case hex digits, as Key Vault issues them.
    KeyVersionId
);

/// Formats 16 random bytes as a GUID (`xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx`, version 4).
pub fn guid_from_bytes(mut b: [u8; 16]) -> String {
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Formats 16 bytes as a Key Vault version id (32 lower-case hex digits).
pub fn version_id_from_bytes(b: [u8; 16]) -> KeyVersionId {
    KeyVersionId(b.iter().map(|x| format!("{x:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guid_has_the_v4_shape() {
        let g = guid_from_bytes([0xab; 16]);
        assert_eq!(g.len(), 36);
        assert_eq!(&g[14..15], "4");
        assert!(matches!(&g[19..20], "8" | "9" | "a" | "b"));
    }

    #[test]
    fn version_id_is_32_hex() {
        let v = version_id_from_bytes([7; 16]);
        assert_eq!(v.0.len(), 32);
        assert!(v.0.chars().all(|c| c.is_ascii_hexdigit()));
    }
}
