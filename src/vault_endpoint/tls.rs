//! The endpoint's certificates: a local certificate authority (what a client is told to
//! trust) and a server certificate for `127.0.0.1` and `localhost` signed by it. Nothing
//! is installed anywhere.
//!
//! [`make`] makes a CA that lives as long as the process. [`in_dir`] keeps one in a folder
//! across runs (`serve --ca-dir DIR`): `DIR/ca.pem` (the certificate clients trust, e.g.
//! with `NODE_EXTRA_CA_CERTS`, which Node reads only at start) and `DIR/ca-key.pem` (its
//! private key, mode 0600), both created exclusively; a fresh server certificate is signed
//! with it at each start.
//!
//! [`LocalCertificates::for_hosts`] signs more with the same CA: the host names the az proxy
//! answers for (`*.vault.azure.net`, `management.azure.com`, `login.microsoftonline.com`).
//!
//! Both certificates pass strict X.509 checks (Python 3.13's default context sets
//! `VERIFY_X509_STRICT`): the CA has a critical basicConstraints, a subject key identifier
//! and an authority key identifier; the server certificate has an authority key identifier.

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The certificate authority's PEM and the TLS configuration that serves with it.
pub struct LocalCertificates {
    pub ca_pem: String,
    pub server: Arc<rustls::ServerConfig>,
    /// The CA's issuer (its name and key), for more certificates ([`Self::for_hosts`]).
    ca: Arc<Issuer<'static, KeyPair>>,
    ca_der: rustls::pki_types::CertificateDer<'static>,
}

impl LocalCertificates {
    /// A TLS configuration serving a certificate of this CA for `hosts` (DNS names,
    /// wildcards allowed).
    pub fn for_hosts(&self, hosts: &[&str]) -> Result<Arc<rustls::ServerConfig>, String> {
        let sans = hosts
            .iter()
            .map(|h| Ok(SanType::DnsName((*h).try_into().map_err(err)?)))
            .collect::<Result<Vec<_>, String>>()?;
        let first = hosts.first().copied().unwrap_or("tde-console");
        leaf_config(&self.ca, self.ca_der.clone(), sans, first).map(|(config, _)| config)
    }
}

/// The CA's certificate in a `--ca-dir` folder.
pub const CA_FILE: &str = "ca.pem";
/// Its private key beside it (mode 0600).
pub const CA_KEY_FILE: &str = "ca-key.pem";

fn err(e: rcgen::Error) -> String {
    format!("cannot make the local certificate: {e}")
}

fn ca_params() -> CertificateParams {
    let mut ca = CertificateParams::default();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    ca.distinguished_name
        .push(DnType::CommonName, "tde-console local vaults CA");
    // Self-signed, its authority key identifier is its own subject key identifier:
    // OpenSSL's strict mode (Python 3.13) wants one.
    ca.use_authority_key_identifier_extension = true;
    ca
}

/// A new certificate authority, for this process only.
pub fn make() -> Result<LocalCertificates, String> {
    new_ca(KeyPair::generate().map_err(err)?).map(|(c, _)| c)
}

/// A new self-signed CA for `key`, and its key's PEM (to keep in a file).
fn new_ca(key: KeyPair) -> Result<(LocalCertificates, String), String> {
    let key_pem = key.serialize_pem();
    let cert = CertifiedIssuer::self_signed(ca_params(), key).map_err(err)?;
    let issuer = Issuer::new(ca_params(), KeyPair::from_pem(&key_pem).map_err(err)?);
    let (der, pem) = (cert.der().to_vec(), cert.pem());
    serve_with(issuer, der, pem).map(|c| (c, key_pem))
}

/// The certificate authority kept in `dir` (made there, exclusively, when `dir` holds
/// neither file; the folder is created, 0700, when missing). A folder holding only one of
/// the two files, files that do not go together, or a key others can read is an error
/// that names the file and what to do; nothing is overwritten.
pub fn in_dir(dir: &Path) -> Result<LocalCertificates, String> {
    if dir.exists() && !dir.is_dir() {
        return Err(format!(
            "--ca-dir '{}' is not a folder: give a folder for {CA_FILE} and {CA_KEY_FILE}",
            dir.display()
        ));
    }
    if !dir.exists() {
        make_private_dir(dir)?;
    }
    let (cert_path, key_path) = (dir.join(CA_FILE), dir.join(CA_KEY_FILE));
    match (exists(&cert_path), exists(&key_path)) {
        (false, false) => {
            let (ca, key_pem) = new_ca(KeyPair::generate().map_err(err)?)?;
            // The key first: a certificate without its key is never left behind alone by
            // this code (a crash between the two leaves a key only, which is refused below
            // with a clear message).
            crate::persist::write_new_file(&key_path, key_pem.as_bytes())?;
            crate::persist::write_new_file(&cert_path, ca.ca_pem.as_bytes())?;
            Ok(ca)
        }
        (true, true) => load(&cert_path, &key_path),
        (true, false) => Err(format!(
            "'{}' has no private key beside it ('{}'): remove it to make a new CA there, or give another --ca-dir",
            cert_path.display(),
            key_path.display()
        )),
        (false, true) => Err(format!(
            "'{}' has no certificate beside it ('{}'): remove it to make a new CA there, or give another --ca-dir",
            key_path.display(),
            cert_path.display()
        )),
    }
}

fn exists(p: &Path) -> bool {
    p.symlink_metadata().is_ok()
}

fn make_private_dir(dir: &Path) -> Result<(), String> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
        .map_err(|e| format!("cannot create --ca-dir '{}': {e}", dir.display()))
}

fn load(cert_path: &Path, key_path: &Path) -> Result<LocalCertificates, String> {
    let unusable = |p: &PathBuf, why: String| {
        format!(
            "'{}' is not usable ({why}): remove {CA_FILE} and {CA_KEY_FILE} to make a new CA there, or give another --ca-dir",
            p.display()
        )
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(key_path)
            .map_err(|e| unusable(&key_path.to_path_buf(), e.to_string()))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(format!(
                "'{}' can be read by others (mode {:o}): chmod 600 it",
                key_path.display(),
                mode & 0o777
            ));
        }
    }
    let read = |p: &Path| {
        std::fs::read_to_string(p).map_err(|e| unusable(&p.to_path_buf(), e.to_string()))
    };
    let (ca_pem, key_pem) = (read(cert_path)?, read(key_path)?);
    let key = KeyPair::from_pem(&key_pem)
        .map_err(|e| unusable(&key_path.to_path_buf(), format!("not a private key: {e}")))?;
    let ca_der = rustls::pki_types::pem::PemObject::from_pem_slice(ca_pem.as_bytes())
        .map(|c: rustls::pki_types::CertificateDer| c.to_vec())
        .map_err(|e| unusable(&cert_path.to_path_buf(), format!("not a certificate: {e}")))?;
    let issuer = Issuer::from_ca_cert_pem(&ca_pem, key)
        .map_err(|e| unusable(&cert_path.to_path_buf(), format!("not a certificate: {e}")))?;
    serve_with(issuer, ca_der, ca_pem).map_err(|e| unusable(&cert_path.to_path_buf(), e))
}

/// A server certificate signed by `ca`, checked against the CA's certificate as a client
/// checks it (a certificate and key that do not go together, or a CA expired or not a
/// CA, fail here rather than in every client), and the TLS configuration serving it.
fn serve_with(
    ca: Issuer<'static, KeyPair>,
    ca_der: Vec<u8>,
    ca_pem: String,
) -> Result<LocalCertificates, String> {
    let ca_der = rustls::pki_types::CertificateDer::from(ca_der);
    let (server, leaf) = leaf_config(
        &ca,
        ca_der.clone(),
        vec![
            SanType::IpAddress(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)),
            SanType::DnsName("localhost".try_into().map_err(err)?),
        ],
        "tde-console vaults on 127.0.0.1",
    )?;
    check_chain(&leaf, &ca_der)?;
    Ok(LocalCertificates {
        ca_pem,
        server,
        ca: Arc::new(ca),
        ca_der,
    })
}

/// A leaf for `sans` signed by `ca`, and the TLS configuration serving it with `ca_der` as
/// its chain.
fn leaf_config(
    ca: &Issuer<'static, KeyPair>,
    ca_der: rustls::pki_types::CertificateDer<'static>,
    sans: Vec<SanType>,
    common_name: &str,
) -> Result<
    (
        Arc<rustls::ServerConfig>,
        rustls::pki_types::CertificateDer<'static>,
    ),
    String,
> {
    let mut leaf = CertificateParams::default();
    leaf.subject_alt_names = sans;
    leaf.distinguished_name
        .push(DnType::CommonName, common_name);
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf.use_authority_key_identifier_extension = true;
    let leaf_key = KeyPair::generate().map_err(err)?;
    let leaf_cert = leaf.signed_by(&leaf_key, ca).map_err(err)?;
    let leaf_der = leaf_cert.der().clone();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf_der.clone(), ca_der],
            rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
        )
        .map_err(|e| format!("cannot use the local certificate: {e}"))?;
    Ok((Arc::new(server), leaf_der))
}

/// Verifies `leaf` for `127.0.0.1` against `ca` alone, as a client would.
fn check_chain(
    leaf: &rustls::pki_types::CertificateDer<'static>,
    ca: &rustls::pki_types::CertificateDer<'static>,
) -> Result<(), String> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(ca.clone())
        .map_err(|e| format!("the CA certificate cannot be trusted: {e}"))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier =
        rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .map_err(|e| format!("the CA certificate cannot be trusted: {e}"))?;
    let name = rustls::pki_types::ServerName::IpAddress(std::net::Ipv4Addr::LOCALHOST.into());
    use rustls::client::danger::ServerCertVerifier;
    verifier
        .verify_server_cert(leaf, &[], &name, &[], rustls::pki_types::UnixTime::now())
        .map(|_| ())
        .map_err(|e| format!("a certificate signed with its key does not verify: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The DER of the single certificate in `pem`.
    fn der_of(pem: &str) -> Vec<u8> {
        use rustls::pki_types::pem::PemObject;
        rustls::pki_types::CertificateDer::from_pem_slice(pem.as_bytes())
            .expect("a certificate")
            .to_vec()
    }

    fn contains(hay: &[u8], needle: &[u8]) -> bool {
        hay.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn a_certificate_authority_and_a_server_certificate_are_made() {
        let c = super::make().expect("made");
        assert!(c.ca_pem.starts_with("-----BEGIN CERTIFICATE-----"));
    }

    /// What OpenSSL's strict mode (Python 3.13) asks of a CA: basicConstraints marked
    /// critical, and authority and subject key identifiers.
    #[test]
    fn the_ca_passes_strict_x509_checks() {
        let der = der_of(&super::make().expect("made").ca_pem);
        // basicConstraints (2.5.29.19), critical TRUE.
        assert!(contains(
            &der,
            &[0x06, 0x03, 0x55, 0x1d, 0x13, 0x01, 0x01, 0xff]
        ));
        // authorityKeyIdentifier (2.5.29.35) and subjectKeyIdentifier (2.5.29.14).
        assert!(contains(&der, &[0x06, 0x03, 0x55, 0x1d, 0x23]));
        assert!(contains(&der, &[0x06, 0x03, 0x55, 0x1d, 0x0e]));
    }

    #[test]
    fn a_ca_dir_keeps_the_same_ca_across_starts() {
        let dir = tempfile::tempdir().expect("temp dir");
        let ca_dir = dir.path().join("ca");
        let first = in_dir(&ca_dir).expect("made");
        let second = in_dir(&ca_dir).expect("reused");
        assert_eq!(first.ca_pem, second.ca_pem);
        assert_eq!(
            std::fs::read_to_string(ca_dir.join(CA_FILE)).expect("ca.pem"),
            first.ca_pem
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
            assert_eq!(mode(&ca_dir.join(CA_KEY_FILE)), 0o600);
            assert_eq!(mode(&ca_dir), 0o700);
        }
        // Another folder: another CA.
        let other = in_dir(&dir.path().join("other")).expect("made");
        assert_ne!(other.ca_pem, first.ca_pem);
    }

    #[test]
    fn an_unusable_ca_dir_is_a_clear_error_and_nothing_is_overwritten() {
        let dir = tempfile::tempdir().expect("temp dir");
        // A file, not a folder.
        let file = dir.path().join("file");
        std::fs::write(&file, "x").expect("write");
        assert!(in_dir(&file).is_err_and(|e| e.contains("is not a folder")));
        // A certificate alone.
        let lone = dir.path().join("lone");
        std::fs::create_dir(&lone).expect("dir");
        std::fs::write(lone.join(CA_FILE), "junk").expect("write");
        assert!(in_dir(&lone).is_err_and(|e| e.contains("has no private key")));
        assert_eq!(
            std::fs::read_to_string(lone.join(CA_FILE)).expect("kept"),
            "junk"
        );
        // A key and a certificate that do not go together.
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        in_dir(&a).expect("a");
        in_dir(&b).expect("b");
        std::fs::remove_file(a.join(CA_FILE)).expect("rm");
        std::fs::copy(b.join(CA_FILE), a.join(CA_FILE)).expect("cp");
        let e = in_dir(&a).err().expect("mismatched files are refused");
        assert!(e.contains("is not usable"), "{e}");
        // Garbage in both.
        let g = dir.path().join("g");
        in_dir(&g).expect("g");
        std::fs::write(g.join(CA_FILE), "not a certificate").expect("write");
        assert!(in_dir(&g).is_err_and(|e| e.contains("is not usable")));
        // A key others can read.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(b.join(CA_KEY_FILE), std::fs::Permissions::from_mode(0o644))
                .expect("chmod");
            assert!(in_dir(&b).is_err_and(|e| e.contains("chmod 600")));
        }
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
