//! The listener: TCP or TLS (rustls), HTTP/1.1 with keep-alive (the platform
//! keeps connections open), a header timeout against slow clients, and a
//! graceful shutdown that stops accepting and lets in-flight callbacks finish.

use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use thiserror::Error;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::TlsAcceptor;

use crate::gateway::Gateway;
use crate::idle::{watchdog, Activity, Counted};
use crate::routes::routes;

/// Why the server could not start.
#[derive(Debug, Error)]
pub enum ServeError {
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        source: io::Error,
    },
    /// The TLS certificate or key could not be used.
    #[error("TLS: {0}")]
    Tls(String),
}

/// A running server.
#[derive(Debug)]
pub struct Server {
    local_addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Server {
    /// Binds the configured address (port 0 picks a free one) and serves.
    pub async fn start(gateway: Arc<Gateway>) -> Result<Self, ServeError> {
        let settings = gateway.settings();
        let addr = settings.server.listen;
        let tls = match &settings.server.tls {
            Some((cert, key)) => Some(tls_acceptor(cert, key)?),
            None => None,
        };
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| ServeError::Bind { addr, source })?;
        let local_addr = listener
            .local_addr()
            .map_err(|source| ServeError::Bind { addr, source })?;
        let (shutdown, signal) = watch::channel(false);
        let task = tokio::spawn(accept_loop(listener, tls, gateway, signal));
        tracing::info!(target: "friendgate::server", %local_addr, tls = settings.server.tls.is_some(), path = %settings.server.path, "listening");
        Ok(Self {
            local_addr,
            shutdown,
            task,
        })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Begins a graceful shutdown: no new connections; in-flight callbacks
    /// finish (up to the configured grace period).
    pub fn shutdown(&self) {
        let _ = self.shutdown.send(true);
    }

    /// Waits until the server has stopped.
    pub async fn stopped(self) {
        let _ = self.task.await;
    }
}

async fn accept_loop(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    gateway: Arc<Gateway>,
    mut signal: watch::Receiver<bool>,
) {
    let settings = gateway.settings();
    let header_timeout = settings.server.header_timeout;
    let grace = settings.server.shutdown_grace;
    let service = warp::service(routes(gateway.clone()));
    let graceful = GracefulShutdown::new();
    // Connection tasks, so that those still open when the grace period ends
    // are closed rather than left running.
    let mut connections = JoinSet::new();
    loop {
        let (tcp, peer) = tokio::select! {
            _ = signal.changed() => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(error) => {
                    // Out of file descriptors and the like: back off briefly.
                    tracing::warn!(target: "friendgate::server", %error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = tcp.set_nodelay(true);
        let activity = Arc::new(Activity::default());
        let service = Counted::new(
            TowerToHyperService::new(service.clone()),
            Arc::clone(&activity),
        );
        let mut http = http1::Builder::new();
        // The header timeout is the watchdog's (see crate::idle), not a
        // timer per request.
        http.header_read_timeout(None).keep_alive(true);
        match &tls {
            None => {
                let connection = graceful.watch(http.serve_connection(TokioIo::new(tcp), service));
                let task = connections.spawn(async move {
                    if let Err(error) = connection.await {
                        log_error(peer, &error);
                    }
                });
                connections.spawn(watchdog(activity, header_timeout, task, peer));
            }
            Some(acceptor) => {
                let acceptor = acceptor.clone();
                let watcher = graceful.watcher();
                let task = connections.spawn(async move {
                    let stream = match tokio::time::timeout(header_timeout, acceptor.accept(tcp))
                        .await
                    {
                        Ok(Ok(stream)) => stream,
                        Ok(Err(error)) => {
                            tracing::debug!(target: "friendgate::server", %peer, %error, "TLS handshake failed");
                            return;
                        }
                        Err(_) => return,
                    };
                    let connection =
                        watcher.watch(http.serve_connection(TokioIo::new(stream), service));
                    if let Err(error) = connection.await {
                        log_error(peer, &error);
                    }
                });
                connections.spawn(watchdog(activity, header_timeout, task, peer));
            }
        }
    }
    drop(listener);
    gateway.set_draining();
    tracing::info!(target: "friendgate::server", "shutting down: finishing in-flight callbacks");
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(target: "friendgate::server", "grace period over; closing remaining connections");
    }
    connections.shutdown().await;
}

fn log_error(peer: SocketAddr, error: &hyper::Error) {
    tracing::debug!(target: "friendgate::server", %peer, %error, "connection ended with an error");
}

fn tls_acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor, ServeError> {
    let certs = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| ServeError::Tls(format!("{}: {e}", cert.display())))?;
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| ServeError::Tls(format!("{}: {e}", key.display())))?;
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ServeError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| ServeError::Tls(e.to_string()))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}
