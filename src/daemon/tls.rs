//! The API over TLS: the certificate and key from `daemon.tls`, the bound on
//! a handshake (each runs on its connection's own task, http_server.rs, so a
//! slow or silent client holds up nobody else), and the rule that plain HTTP
//! is served only on loopback unless `daemon.allow_plain_http` says otherwise.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

use super::ServeError;
use crate::config::DaemonTlsConfig;

/// A client that has not finished its handshake by then is dropped.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The rustls server settings for `daemon.tls`; errors name the file, never its content.
pub fn acceptor(tls: &DaemonTlsConfig) -> Result<TlsAcceptor, ServeError> {
    let bad = |path: &Path, what: &str| ServeError::Tls { path: path.to_owned(), what: what.to_owned() };
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&tls.cert)
        .map_err(|e| bad(&tls.cert, &format!("cannot read the certificate: {}", pem_reason(&e))))?
        .collect::<Result<_, _>>()
        .map_err(|e| bad(&tls.cert, &format!("not a PEM certificate chain: {}", pem_reason(&e))))?;
    if chain.is_empty() {
        return Err(bad(&tls.cert, "holds no certificate (expected PEM: -----BEGIN CERTIFICATE-----)"));
    }
    let key = PrivateKeyDer::from_pem_file(&tls.key)
        .map_err(|e| bad(&tls.key, &format!("no usable private key: {}", pem_reason(&e))))?;
    let mut config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| bad(&tls.key, &format!("does not fit the certificate in {}: {e}", tls.cert.display())))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Why a PEM file could not be used, without any of its bytes.
fn pem_reason(error: &rustls_pki_types::pem::Error) -> String {
    use rustls_pki_types::pem::Error as Pem;
    match error {
        Pem::Io(e) => e.to_string(),
        Pem::NoItemsFound => "no PEM section of the expected kind".to_owned(),
        _ => "malformed PEM".to_owned(),
    }
}

/// Whether the API may be served as plain HTTP on `address`.
pub fn plain_http_allowed(address: SocketAddr, allow_plain_http: bool) -> Result<(), ServeError> {
    if address.ip().is_loopback() || allow_plain_http {
        return Ok(());
    }
    Err(ServeError::PlainHttp { address })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_is_for_loopback_unless_allowed() {
        let loopback: SocketAddr = "127.0.0.1:8480".parse().unwrap();
        let v6: SocketAddr = "[::1]:8480".parse().unwrap();
        let anywhere: SocketAddr = "0.0.0.0:8480".parse().unwrap();
        assert!(plain_http_allowed(loopback, false).is_ok());
        assert!(plain_http_allowed(v6, false).is_ok());
        let refused = plain_http_allowed(anywhere, false).unwrap_err().to_string();
        assert!(refused.contains("daemon.tls") && refused.contains("allow_plain_http"), "{refused}");
        assert!(plain_http_allowed(anywhere, true).is_ok());
    }

    #[test]
    fn unusable_files_are_named_without_their_content() {
        let dir = tempfile::tempdir().unwrap().keep();
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("cert.pem"), "not a certificate: top-secret-bytes").unwrap();
        let tls = DaemonTlsConfig { cert: dir.join("cert.pem"), key: dir.join("missing.key"), ca: None };
        let error = acceptor(&tls).err().expect("refused").to_string();
        assert!(error.contains("cert.pem") && error.contains("holds no certificate"), "{error}");
        assert!(!error.contains("top-secret-bytes"), "{error}");
        let tls = DaemonTlsConfig { cert: dir.join("absent.pem"), ..tls };
        let error = acceptor(&tls).err().expect("refused").to_string();
        assert!(error.contains("absent.pem") && error.contains("No such file"), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
