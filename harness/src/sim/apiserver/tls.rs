//! Per-cluster credentials: a CA, a serving certificate for 127.0.0.1 and
//! localhost signed by it, and a bearer token.

use std::sync::Arc;

use rand::RngCore;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::sim::{Error, Result};

/// The credentials of one simulated cluster.
#[derive(Clone)]
pub struct Credentials {
    /// The CA certificate (PEM), for kubeconfig `certificate-authority-data`.
    pub ca_pem: String,
    /// The serving certificate chain (leaf, CA).
    pub chain: Vec<CertificateDer<'static>>,
    /// The serving key (PKCS#8 DER).
    pub key: Vec<u8>,
    /// The bearer token.
    pub token: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Credentials(<redacted>)")
    }
}

/// Generates a CA, a serving certificate and a token for cluster `name`.
///
/// # Errors
/// [`Error::Tls`] when certificate generation fails.
pub fn generate(name: &str) -> Result<Credentials> {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(Error::Tls)?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, format!("gameday-sim-{name}-ca"));
    ca_params.distinguished_name = dn;
    let ca_key = KeyPair::generate().map_err(Error::Tls)?;
    let ca_cert = ca_params.self_signed(&ca_key).map_err(Error::Tls)?;

    let mut params = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
        .map_err(Error::Tls)?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "kube-apiserver");
    params.distinguished_name = dn;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let key = KeyPair::generate().map_err(Error::Tls)?;
    let issuer = Issuer::new(ca_params, ca_key);
    let cert = params.signed_by(&key, &issuer).map_err(Error::Tls)?;

    let mut raw = [0u8; 24];
    rand::rng().fill_bytes(&mut raw);
    let token: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    Ok(Credentials {
        ca_pem: ca_cert.pem(),
        chain: vec![cert.der().clone(), ca_cert.der().clone()],
        key: key.serialize_der(),
        token,
    })
}

/// The rustls server configuration (HTTP/1.1 via ALPN).
///
/// # Errors
/// [`Error::Rustls`] when rustls rejects the key or certificate.
pub fn server_config(creds: &Credentials) -> Result<Arc<rustls::ServerConfig>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(creds.key.clone()));
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(Error::Rustls)?
        .with_no_client_auth()
        .with_single_cert(creds.chain.clone(), key)
        .map_err(Error::Rustls)?;
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(cfg))
}
