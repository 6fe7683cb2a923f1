//! The simulator's HTTP side: one HTTP/1.1 connection at a time (plain or
//! TLS), so a case controls exactly what a connection carries.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use friendgate_core::conformance::{Method, NoAnswer};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{handshake, SendRequest};
use hyper::header::{CONTENT_TYPE, HOST, USER_AGENT};
use hyper::{Request, Uri};
use hyper_util::rt::TokioIo;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;
use tokio_rustls::rustls::ClientConfig;
use tokio_rustls::TlsConnector;

use super::trust::Trust;

/// What the simulator says it is.
const AGENT: &str = concat!("friendgate-conform/", env!("CARGO_PKG_VERSION"));

/// The endpoint's URL, taken apart.
#[derive(Clone)]
pub struct Endpoint {
    url: String,
    host: String,
    port: u16,
    authority: String,
    path: String,
    tls: Option<(TlsConnector, ServerName<'static>)>,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.url)
    }
}

/// A connection to the endpoint.
pub struct Connection {
    sender: SendRequest<Full<Bytes>>,
}

/// A complete answer.
#[derive(Debug)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Body bytes.
    pub body: Bytes,
    /// From sending the request to the last byte of the answer.
    pub elapsed: Duration,
}

impl Endpoint {
    /// Parses `url` (`http://` or `https://`; a path and query of its own
    /// are kept). `ca` adds PEM certificates to the web roots, trusted as
    /// authorities and as themselves; `insecure` trusts any certificate.
    pub fn parse(url: &str, ca: Option<&Path>, insecure: bool) -> Result<Self, String> {
        let uri: Uri = url.parse().map_err(|e| format!("--url {url:?}: {e}"))?;
        let secure = match uri.scheme_str() {
            Some("http") => false,
            Some("https") => true,
            _ => return Err(format!("--url {url:?}: give an http:// or https:// URL")),
        };
        let host = uri
            .host()
            .ok_or_else(|| format!("--url {url:?}: no host"))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let port = uri.port_u16().unwrap_or(if secure { 443 } else { 80 });
        let authority = uri
            .authority()
            .map_or_else(|| host.clone(), ToString::to_string);
        let path = uri
            .path_and_query()
            .map_or_else(|| "/".to_owned(), ToString::to_string);
        let tls = if secure {
            let name =
                ServerName::try_from(host.clone()).map_err(|e| format!("--url {url:?}: {e}"))?;
            Some((tls_connector(ca, insecure)?, name))
        } else {
            None
        };
        Ok(Self {
            url: url.to_owned(),
            host,
            port,
            authority,
            path,
            tls,
        })
    }

    /// The URL as given.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The addresses the host resolves to.
    pub async fn resolve(&self) -> Result<Vec<SocketAddr>, String> {
        let addresses: Vec<SocketAddr> = tokio::net::lookup_host((self.host.as_str(), self.port))
            .await
            .map_err(|e| format!("cannot resolve {}: {e}", self.host))?
            .collect();
        if addresses.is_empty() {
            return Err(format!("{} resolves to no address", self.host));
        }
        Ok(addresses)
    }

    /// Opens a new connection.
    pub async fn connect(&self) -> Result<Connection, String> {
        let tcp = TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(|e| format!("cannot connect: {e}"))?;
        // Requests are small and answers are awaited one at a time.
        tcp.set_nodelay(true).map_err(|e| e.to_string())?;
        let sender = match &self.tls {
            None => spawn(tcp).await?,
            Some((connector, name)) => {
                let stream = connector
                    .connect(name.clone(), tcp)
                    .await
                    .map_err(|e| format!("TLS handshake failed: {e}"))?;
                spawn(stream).await?
            }
        };
        Ok(Connection { sender })
    }

    /// Waits until the endpoint accepts connections, up to `patience`.
    pub async fn wait_until_up(&self, patience: Duration) -> Result<(), String> {
        let deadline = Instant::now() + patience;
        loop {
            match TcpStream::connect((self.host.as_str(), self.port)).await {
                Ok(_) => return Ok(()),
                Err(error) if Instant::now() >= deadline => {
                    return Err(format!(
                        "{} did not accept connections within {} s: {error}",
                        self.url,
                        patience.as_secs()
                    ))
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    fn request(
        &self,
        method: Method,
        query: &str,
        body: &[u8],
    ) -> Result<Request<Full<Bytes>>, String> {
        let separator = if self.path.contains('?') { '&' } else { '?' };
        let target = if query.is_empty() {
            self.path.clone()
        } else {
            format!("{}{separator}{}", self.path, query.trim_start_matches('?'))
        };
        let method = match method {
            Method::Post => hyper::Method::POST,
            Method::Get => hyper::Method::GET,
        };
        let builder = Request::builder()
            .method(method)
            .uri(target)
            .header(HOST, &self.authority)
            .header(USER_AGENT, AGENT);
        let builder = if body.is_empty() {
            builder
        } else {
            builder.header(CONTENT_TYPE, "application/json")
        };
        builder
            .body(Full::new(Bytes::copy_from_slice(body)))
            .map_err(|e| e.to_string())
    }
}

impl Connection {
    /// Whether the endpoint has closed this connection.
    pub fn is_closed(&self) -> bool {
        self.sender.is_closed()
    }

    /// Sends one request and reads the whole answer, giving up after
    /// `timeout`.
    pub async fn send(
        &mut self,
        endpoint: &Endpoint,
        method: Method,
        query: &str,
        body: &[u8],
        timeout: Duration,
    ) -> Result<Answer, NoAnswer> {
        let request = endpoint
            .request(method, query, body)
            .map_err(NoAnswer::Closed)?;
        let started = Instant::now();
        let exchange = async {
            self.sender
                .ready()
                .await
                .map_err(|_| NoAnswer::Closed("the connection was closed".to_owned()))?;
            let response = self
                .sender
                .send_request(request)
                .await
                .map_err(|e| NoAnswer::Closed(describe(&e)))?;
            let status = response.status().as_u16();
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(|e| NoAnswer::Closed(format!("answer cut short: {}", describe(&e))))?
                .to_bytes();
            Ok(Answer {
                status,
                body,
                elapsed: started.elapsed(),
            })
        };
        tokio::time::timeout(timeout, exchange)
            .await
            .unwrap_or(Err(NoAnswer::TimedOut(timeout)))
    }
}

async fn spawn<S>(stream: S) -> Result<SendRequest<Full<Bytes>>, String>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static,
{
    let (sender, connection) = handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("HTTP handshake failed: {e}"))?;
    // The connection ends when the endpoint closes it or the sender is dropped.
    tokio::spawn(connection);
    Ok(sender)
}

fn describe(error: &hyper::Error) -> String {
    use std::error::Error as _;
    match error.source() {
        Some(source) => format!("{error}: {source}"),
        None => error.to_string(),
    }
}

fn tls_connector(ca: Option<&Path>, insecure: bool) -> Result<TlsConnector, String> {
    let mut extra = Vec::new();
    if let Some(ca) = ca {
        for cert in CertificateDer::pem_file_iter(ca)
            .map_err(|e| format!("--ca-cert {}: {e}", ca.display()))?
        {
            extra.push(cert.map_err(|e| format!("--ca-cert {}: {e}", ca.display()))?);
        }
    }
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let trust = Trust::new(extra, insecure, Arc::clone(&provider))?;
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(trust))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsConnector::from(Arc::new(config)))
}
