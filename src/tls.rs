//! Which servers traceforge trusts over https, for the proxy's upstream client and the load
//! client alike: the bundled Mozilla roots, or, when `SSL_CERT_FILE` names a PEM file, the
//! certificates in it instead, as k6 (Go) and OpenSSL do. For `traceforge load`, one rustls
//! client configuration per run, shared by every virtual user; `insecureSkipTLSVerify: true`
//! in the scenario skips verification, as in k6, and only HTTP/1.1 is offered (ALPN), since
//! that is what the load client speaks.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{self, CryptoProvider};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

/// The environment variable naming a PEM file of trusted certificates.
pub const CERT_FILE_VAR: &str = "SSL_CERT_FILE";

/// The file `SSL_CERT_FILE` names, if it is set and not empty.
pub fn cert_file() -> Option<PathBuf> {
    std::env::var_os(CERT_FILE_VAR)
        .filter(|v| !v.is_empty())
        .map(Into::into)
}

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{CERT_FILE_VAR}={}: {message}", path.display())]
    CertFile { path: PathBuf, message: String },
    #[error("TLS setup: {0}")]
    Setup(#[from] rustls::Error),
}

/// The client configuration for this run: roots from `cert_file` (the value of
/// `SSL_CERT_FILE`) or the bundled ones, and no verification at all when `insecure`.
pub fn client_config(
    insecure: bool,
    cert_file: Option<&Path>,
) -> Result<Arc<ClientConfig>, TlsError> {
    let provider = Arc::new(crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?;
    let mut config = if insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerification(provider)))
            .with_no_client_auth()
    } else {
        let roots = match cert_file {
            Some(path) => roots_from(path)?,
            None => RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            },
        };
        builder.with_root_certificates(roots).with_no_client_auth()
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Every certificate of a PEM file; a file with none is an error (a typo in the path of an
/// empty file would otherwise fail every request with "unknown issuer").
pub fn pem_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let error = |message: String| TlsError::CertFile {
        path: path.to_path_buf(),
        message,
    };
    let text = std::fs::read(path).map_err(|e| error(e.to_string()))?;
    let certs = CertificateDer::pem_slice_iter(&text)
        .enumerate()
        .map(|(n, cert)| cert.map_err(|e| error(format!("certificate {}: {e}", n + 1))))
        .collect::<Result<Vec<_>, _>>()?;
    if certs.is_empty() {
        return Err(error("no PEM certificates in the file".into()));
    }
    Ok(certs)
}

/// The certificates of a PEM file as trust anchors.
fn roots_from(path: &Path) -> Result<RootCertStore, TlsError> {
    let mut roots = RootCertStore::empty();
    for (n, cert) in pem_certificates(path)?.into_iter().enumerate() {
        roots.add(cert).map_err(|e| TlsError::CertFile {
            path: path.to_path_buf(),
            message: format!("certificate {}: {e}", n + 1),
        })?;
    }
    Ok(roots)
}

/// The server name a request's certificate must be valid for: the URL's host, a DNS name or
/// an IP address (IPv6 without its brackets).
pub fn server_name(host: &str) -> Result<ServerName<'static>, String> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    ServerName::try_from(bare.to_string())
        .map_err(|e| format!("{host:?} is not a valid TLS server name: {e}"))
}

/// A failed handshake, on one line; a rejected certificate says how to trust it.
pub fn handshake_error(authority: &str, error: &std::io::Error) -> String {
    let rejected = error
        .get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>())
        .is_some_and(|e| matches!(e, rustls::Error::InvalidCertificate(_)));
    let hint = match rejected {
        true => format!(
            " (trust its CA with {CERT_FILE_VAR}=ca.pem, or skip verification with \
             `insecureSkipTLSVerify: true`)"
        ),
        false => String::new(),
    };
    format!("TLS handshake with {authority}: {error}{hint}")
}

/// `insecureSkipTLSVerify`: accepts any certificate, but still checks that the server holds
/// the key of the certificate it sent (the handshake signatures), as k6 and curl `-k` do.
#[derive(Debug)]
struct NoVerification(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/tls")
            .join(name)
    }

    #[test]
    fn a_cert_file_replaces_the_bundled_roots() {
        let roots = roots_from(&fixture("ca.pem")).unwrap();
        assert_eq!(roots.len(), 1);
        assert!(client_config(false, Some(&fixture("ca.pem"))).is_ok());
        assert!(client_config(false, None).is_ok());
        assert!(client_config(true, None).is_ok());
    }

    #[test]
    fn bad_cert_files_name_the_variable_and_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        let text = client_config(false, Some(&missing))
            .unwrap_err()
            .to_string();
        assert!(
            text.starts_with(&format!("SSL_CERT_FILE={}: ", missing.display())),
            "{text}"
        );
        let key_only = fixture("server.key");
        let text = client_config(false, Some(&key_only))
            .unwrap_err()
            .to_string();
        assert!(text.ends_with("no PEM certificates in the file"), "{text}");
        let garbled = dir.path().join("garbled.pem");
        std::fs::write(
            &garbled,
            "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let text = client_config(false, Some(&garbled))
            .unwrap_err()
            .to_string();
        assert!(text.contains("certificate 1: "), "{text}");
    }

    #[test]
    fn server_names_take_hosts_and_addresses() {
        assert!(matches!(
            server_name("example.com"),
            Ok(ServerName::DnsName(_))
        ));
        assert!(matches!(
            server_name("127.0.0.1"),
            Ok(ServerName::IpAddress(_))
        ));
        assert!(matches!(server_name("[::1]"), Ok(ServerName::IpAddress(_))));
    }
}
