//! Which server certificates `friendgate conform` trusts: the web's roots;
//! any certificate given with `--ca-cert`, as an authority and as itself
//! (so the self-signed certificate `openssl req -x509 -nodes` makes, which
//! carries the CA flag and no subjectAltName, is accepted when it is the one
//! given: webpki alone refuses it with `CaUsedAsEndEntity`); or, with
//! `--insecure`, any certificate at all.
//!
//! The handshake's signatures are always checked with the provider's
//! algorithms: a pinned or unverified certificate still has to be the
//! peer's.

use std::sync::Arc;

use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use tokio_rustls::rustls::client::danger::{
    HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
};
use tokio_rustls::rustls::client::WebPkiServerVerifier;
use tokio_rustls::rustls::crypto::{
    verify_tls12_signature, verify_tls13_signature, CryptoProvider,
};
use tokio_rustls::rustls::{DigitallySignedStruct, Error, RootCertStore, SignatureScheme};

/// How the peer's certificate is judged.
#[derive(Debug)]
pub(crate) struct Trust {
    /// Certificates trusted as themselves (`--ca-cert`).
    pinned: Vec<CertificateDer<'static>>,
    /// The web's roots plus `--ca-cert` as authorities; `None` with
    /// `--insecure`.
    webpki: Option<Arc<WebPkiServerVerifier>>,
    provider: Arc<CryptoProvider>,
}

impl Trust {
    /// The web's roots plus `extra` (as authorities and as themselves), or
    /// nothing checked when `insecure`.
    pub(crate) fn new(
        extra: Vec<CertificateDer<'static>>,
        insecure: bool,
        provider: Arc<CryptoProvider>,
    ) -> Result<Self, String> {
        let webpki = if insecure {
            None
        } else {
            let mut roots =
                RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            // A certificate webpki cannot take as an authority is still pinned.
            roots.add_parsable_certificates(extra.iter().cloned());
            let verifier =
                WebPkiServerVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&provider))
                    .build()
                    .map_err(|e| e.to_string())?;
            Some(verifier)
        };
        Ok(Self {
            pinned: extra,
            webpki,
            provider,
        })
    }
}

impl ServerCertVerifier for Trust {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        // The very certificate the user gave: trusted as itself, whatever its
        // CA flag or names say.
        if self
            .pinned
            .iter()
            .any(|cert| cert.as_ref() == end_entity.as_ref())
        {
            return Ok(ServerCertVerified::assertion());
        }
        match &self.webpki {
            None => Ok(ServerCertVerified::assertion()),
            Some(webpki) => webpki.verify_server_cert(
                end_entity,
                intermediates,
                server_name,
                ocsp_response,
                now,
            ),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
