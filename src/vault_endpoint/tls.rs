//! The endpoint's certificates, made at start: a local certificate authority (what a
//! client is told to trust) and a server certificate for `127.0.0.1` and `localhost`
//! signed by it. Both live only as long as the process; nothing is installed anywhere.

use std::sync::Arc;

/// The certificate authority's PEM and the TLS configuration that serves with it.
pub struct LocalCertificates {
    pub ca_pem: String,
    pub server: Arc<rustls::ServerConfig>,
}

pub fn make() -> Result<LocalCertificates, String> {
    use rcgen::{
        BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose,
        IsCa, KeyPair, KeyUsagePurpose, SanType,
    };
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
    let mut leaf = CertificateParams::default();
    leaf.subject_alt_names = vec![
        SanType::IpAddress(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)),
        SanType::DnsName("localhost".try_into().map_err(err)?),
    ];
    leaf.distinguished_name
        .push(DnType::CommonName, "tde-console vaults on 127.0.0.1");
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf.use_authority_key_identifier_extension = true;
    let leaf_key = KeyPair::generate().map_err(err)?;
    let leaf_cert = leaf.signed_by(&leaf_key, &ca).map_err(err)?;
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
    Ok(LocalCertificates {
        ca_pem: ca.pem(),
        server: Arc::new(server),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_certificate_authority_and_a_server_certificate_are_made() {
        let c = super::make().expect("made");
        assert!(c.ca_pem.starts_with("-----BEGIN CERTIFICATE-----"));
    }
}
