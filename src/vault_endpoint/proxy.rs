//! The HTTPS proxy the real `az` CLI is pointed at (`HTTPS_PROXY=http://127.0.0.1:PORT`):
//! az asks it for a tunnel to an Azure host name (`CONNECT management.azure.com:443`), and
//! the proxy answers the tunnel itself, with a certificate of the local CA for that name.
//! It never connects anywhere: a host it does not answer for is refused with 403, so az
//! fails at once instead of reaching the internet.
//!
//! Why a proxy rather than endpoints on 127.0.0.1 in a registered cloud: az builds a
//! vault's URL from the cloud's Key Vault suffix (`https://NAME.vault.azure.net`) and checks
//! `--kid` against Azure's suffixes before it sends anything, so key ids stay canonical only
//! if the canonical host names answer.

use super::Target;
use super::http::{Request, Response};

/// The host names the proxy's certificate is for.
pub const HOSTS: &[&str] = &[
    "*.vault.azure.net",
    "management.azure.com",
    "login.microsoftonline.com",
];

/// What the proxy says once the tunnel is open (the TLS handshake follows).
pub const ESTABLISHED: &[u8] = b"HTTP/1.1 200 Connection established\r\n\r\n";

/// The target of a `CONNECT` request, or the refusal to send back.
pub fn tunnel(r: &Request) -> Result<Target, Response> {
    if !r.method.eq_ignore_ascii_case("CONNECT") {
        return Err(Response::error(
            405,
            "MethodNotAllowed",
            "This proxy only opens tunnels (CONNECT HOST:443) to the Azure host names it answers for.",
        ));
    }
    target_of(&r.path).ok_or_else(|| {
        Response::error(
            403,
            "Forbidden",
            &format!(
                "tde-console answers for *.vault.azure.net, management.azure.com and login.microsoftonline.com, not '{}'; it never forwards a request.",
                r.path
            ),
        )
    })
}

/// Where a tunnel to `authority` (`HOST:443`) goes.
pub fn target_of(authority: &str) -> Option<Target> {
    let host = authority.strip_suffix(":443")?.to_ascii_lowercase();
    match host.as_str() {
        "management.azure.com" => Some(Target::Arm),
        "login.microsoftonline.com" => Some(Target::Login),
        _ => {
            let vault = host.strip_suffix(".vault.azure.net")?;
            let valid = (3..=24).contains(&vault.len())
                && vault.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
            valid.then(|| Target::Vault {
                vault: vault.to_string(),
                base: format!("https://{vault}.vault.azure.net/"),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn azure_host_names_are_answered_here_and_nothing_else() {
        assert_eq!(
            target_of("kv-contoso-us.vault.azure.net:443"),
            Some(Target::Vault {
                vault: "kv-contoso-us".into(),
                base: "https://kv-contoso-us.vault.azure.net/".into()
            })
        );
        assert_eq!(target_of("MANAGEMENT.azure.com:443"), Some(Target::Arm));
        assert_eq!(
            target_of("login.microsoftonline.com:443"),
            Some(Target::Login)
        );
        for refused in [
            "example.com:443",
            "management.azure.com:80",
            "management.azure.com",
            "a.vault.azure.net:443",
            "x_y.vault.azure.net:443",
            "evil.com/.vault.azure.net:443",
        ] {
            assert_eq!(target_of(refused), None, "{refused}");
        }
    }

    #[test]
    fn only_connect_opens_a_tunnel() {
        let get = Request {
            method: "GET".into(),
            path: "http://example.com/".into(),
            ..Default::default()
        };
        assert_eq!(tunnel(&get).map_err(|r| r.status), Err(405));
        let connect = Request {
            method: "CONNECT".into(),
            path: "example.com:443".into(),
            ..Default::default()
        };
        assert_eq!(tunnel(&connect).map_err(|r| r.status), Err(403));
    }
}
