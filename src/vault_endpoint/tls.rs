//! The endpoint's certificates, made at start: a local certificate authority (what a
//! client is told to trust) and a server certificate for `127.0.0.1` and `localhost`
//! signed by it. Both live only as long as the process; nothing is installed anywhere.
//! [`LocalCertificates::for_hosts`] signs more: the host names the az proxy answers for
//! (`*.vault.azure.net`, `management.azure.com`, `login.microsoftonline.com`).

use rcgen::{CertificateParams, CertifiedIssuer, KeyPair};
use std::sync::Arc;

/// The certificate authority's PEM and the TLS configuration that serves with it.
pub struct LocalCertificates {
    pub ca_pem: String,
    pub server: Arc<rustls::ServerConfig>,
    ca: Arc<CertifiedIssuer<'static, KeyPair>>,
}

impl LocalCertificates {
    /// A TLS configuration serving a certificate of this CA for `hosts` (DNS names,
    /// wildcards allowed).
    pub fn for_hosts(&self, hosts: &[&str]) -> Result<Arc<rustls::ServerConfig>, String> {
        let err = |e: rcgen::Error| format!("cannot make the local certificate: {e}");
        let sans = hosts
            .iter()
            .map(|h| Ok(rcgen::SanType::DnsName((*h).try_into().map_err(err)?)))
            .collect::<Result<Vec<_>, String>>()?;
        let first = hosts.first().copied().unwrap_or("tde-console");
        server_config(&self.ca, sans, first)
    }
}

/// A leaf for `sans` signed by `ca`, served with `ca` as its chain.
fn server_config(
    ca: &CertifiedIssuer<'static, KeyPair>,
    sans: Vec<rcgen::SanType>,
    common_name: &str,
) -> Result<Arc<rustls::ServerConfig>, String> {
    use rcgen::{DnType, ExtendedKeyUsagePurpose, KeyUsagePurpose};
    let err = |e: rcgen::Error| format!("cannot make the local certificate: {e}");
    let mut leaf = CertificateParams::default();
    leaf.subject_alt_names = sans;
    leaf.distinguished_name
        .push(DnType::CommonName, common_name);
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf.use_authority_key_identifier_extension = true;
    let leaf_key = KeyPair::generate().map_err(err)?;
    let leaf_cert = leaf.signed_by(&leaf_key, ca).map_err(err)?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf_cert.der().clone(), ca.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
        )
        .map_err(|e| format!("cannot use the local certificate: {e}"))?;
    Ok(Arc::new(server))
}

pub fn make() -> Result<LocalCertificates, String> {
    use rcgen::{BasicConstraints, DnType, IsCa, KeyUsagePurpose, SanType};
    let err = |e: rcgen::Error| format!("cannot make the local certificate: {e}");
    let mut ca = CertificateParams::default();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    ca.distinguished_name
        .push(DnType::CommonName, "tde-console local vaults CA");
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().map_err(err)?).map_err(err)?;
    let server = server_config(
        &ca,
        vec![
            SanType::IpAddress(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)),
            SanType::DnsName("localhost".try_into().map_err(err)?),
        ],
        "tde-console vaults on 127.0.0.1",
    )?;
    Ok(LocalCertificates {
        ca_pem: ca.pem(),
        server,
        ca: Arc::new(ca),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_certificate_authority_and_a_server_certificate_are_made() {
        let c = super::make().expect("made");
        assert!(c.ca_pem.starts_with("-----BEGIN CERTIFICATE-----"));
    }

    #[test]
    fn a_certificate_for_azure_host_names_is_signed_by_the_same_authority() {
        let c = super::make().expect("made");
        assert!(
            c.for_hosts(&["*.vault.azure.net", "management.azure.com"])
                .is_ok()
        );
        assert!(c.for_hosts(&["vault.é.example"]).is_err());
    }
}
