//! TLS configurations (rustls): the server's, loaded the same way by
//! `check-config` and by `serve`, and the client's, for upstreams and Redis.

use std::path::Path;
use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::{ClientConfig, RootCertStore, ServerConfig};

/// Loads the PEM certificate chain and key, checking that the chain is not
/// empty and that the key belongs to its first certificate.
pub(crate) fn server_config(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, String> {
    let certs = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("{}: {e}", cert.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "{}: no certificate found (are `cert` and `key` swapped?)",
            cert.display()
        ));
    }
    let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| {
        format!(
            "{}: no private key found ({e}; are `cert` and `key` swapped?)",
            key.display()
        )
    })?;
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(certs, key_der)
        .map_err(|e| {
            format!(
                "{} and {} do not go together: {e}",
                cert.display(),
                key.display()
            )
        })?;
    Ok(Arc::new(config))
}

/// The `notAfter` of the first certificate of the PEM file `cert`, Unix
/// seconds: when the served certificate expires (`None` when it cannot be
/// read; `server_config` has said why).
pub(crate) fn not_after(cert: &Path) -> Option<i64> {
    let first = CertificateDer::pem_file_iter(cert).ok()?.next()?.ok()?;
    let (_, parsed) = x509_parser::parse_x509_certificate(first.as_ref()).ok()?;
    Some(parsed.validity().not_after.timestamp())
}

/// A TLS client configuration trusting the web's roots (webpki-roots) and
/// `extra_roots` (a certificate that does not parse is skipped: the
/// settings already read it). Upstreams and Redis connect with it.
pub(crate) fn client_config(
    extra_roots: &[CertificateDer<'static>],
) -> Result<ClientConfig, tokio_rustls::rustls::Error> {
    let mut roots = RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for cert in extra_roots {
        let _ = roots.add(cert.clone());
    }
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    Ok(ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// Reads the PEM certificates of `file` (relative to `base`), for the
/// `ca_file` key `key` of the config file `path`.
pub(crate) fn read_roots(
    path: &Path,
    base: &Path,
    key: &str,
    file: &Path,
) -> Result<Vec<CertificateDer<'static>>, crate::config::files::SettingsError> {
    let file = crate::config::files::resolve(base, file);
    let bad = |e: &dyn std::fmt::Display| {
        crate::config::files::SettingsError::new(path, key, format!("{}: {e}", file.display()))
    };
    let roots = CertificateDer::pem_file_iter(&file)
        .map_err(|e| bad(&e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(&e))?;
    if roots.is_empty() {
        return Err(bad(&"no certificate found"));
    }
    Ok(roots)
}
