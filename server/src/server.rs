//! The server: the callback listener and the admin listener, each an
//! accept loop (`http::accept`) given its routes, its limits, its metrics
//! and what to do when it drains; started and stopped as one.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use thiserror::Error;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use crate::gateway::Gateway;
use crate::http::accept::{accept_loop, ConnectionLimits, Listen};

/// Connections the admin listener keeps open at most besides its live
/// stream's readers (`admin.live_readers`).
const ADMIN_MAX_CONNECTIONS: usize = 64;

/// File descriptors kept for what is not a connection (the listeners,
/// config and list files, the log).
const RESERVED_DESCRIPTORS: u64 = 64;

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

/// A running server: the callback listener, and the admin listener when
/// configured.
#[derive(Debug)]
pub struct Server {
    local_addr: SocketAddr,
    admin_addr: Option<SocketAddr>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

/// Time `start` waits for Redis (`[state]`) before it listens anyway.
const STATE_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

impl Server {
    /// Binds the configured addresses (port 0 picks a free one) and serves.
    pub async fn start(gateway: Arc<Gateway>) -> Result<Self, ServeError> {
        gateway.connect_state(STATE_WAIT).await;
        gateway.start_events();
        let settings = gateway.settings();
        let tls = match &settings.server.tls {
            Some((cert, key)) => {
                let config = crate::http::tls::server_config(cert, key).map_err(ServeError::Tls)?;
                if let Some(not_after) = crate::http::tls::not_after(cert) {
                    gateway.metrics().tls_not_after(not_after);
                }
                Some(TlsAcceptor::from(config))
            }
            None => None,
        };
        let (listener, local_addr) = bind(settings.server.listen).await?;
        let (shutdown, signal) = watch::channel(false);
        let max_connections = connection_bound(settings.server.max_connections);
        let limits = ConnectionLimits::of(&settings.server);
        let metrics = gateway.metrics();
        let callbacks = Listen {
            listener,
            tls,
            max_connections,
            limits,
            metrics: metrics.connection_metrics(true),
            on_drain: Box::new({
                let gateway = Arc::clone(&gateway);
                move || {
                    gateway.set_draining();
                    tracing::info!(target: "friendgate::server", "shutting down: finishing in-flight callbacks");
                }
            }),
        };
        let service = warp::service(crate::callback::routes(gateway.clone()));
        let mut tasks = vec![tokio::spawn(accept_loop(
            callbacks,
            service,
            signal.clone(),
        ))];
        tracing::info!(target: "friendgate::server", %local_addr, tls = settings.server.tls.is_some(), path = %settings.server.path, max_connections, "listening");
        let admin_addr = match &settings.admin {
            Some(admin) => {
                let (listener, admin_addr) = bind(admin.listen).await?;
                let listen = Listen {
                    listener,
                    tls: None,
                    max_connections: ADMIN_MAX_CONNECTIONS + admin.live_readers,
                    limits,
                    metrics: metrics.connection_metrics(false),
                    // The live stream's answers never finish by themselves.
                    on_drain: Box::new({
                        let events = Arc::clone(gateway.events());
                        move || events.live_readers().end()
                    }),
                };
                let service =
                    warp::service(crate::admin::routes(gateway.clone(), admin.token.clone()));
                tasks.push(tokio::spawn(accept_loop(listen, service, signal)));
                tracing::info!(target: "friendgate::server", %admin_addr, token = admin.token.is_some(), "admin listening");
                Some(admin_addr)
            }
            None => None,
        };
        Ok(Self {
            local_addr,
            admin_addr,
            shutdown,
            tasks,
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

    /// The address of the admin listener, when there is one.
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin_addr
    }

    /// Waits until the server has stopped.
    pub async fn stopped(self) {
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

async fn bind(addr: SocketAddr) -> Result<(TcpListener, SocketAddr), ServeError> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })?;
    let local_addr = listener
        .local_addr()
        .map_err(|source| ServeError::Bind { addr, source })?;
    Ok((listener, local_addr))
}

/// `max_connections`, lowered to what the file-descriptor limit allows.
fn connection_bound(configured: usize) -> usize {
    let Ok((soft, _)) = rlimit::Resource::NOFILE.get() else {
        return configured;
    };
    let allowed =
        usize::try_from(soft.saturating_sub(RESERVED_DESCRIPTORS).max(16)).unwrap_or(usize::MAX);
    if allowed < configured {
        tracing::warn!(target: "friendgate::server", configured, allowed, descriptor_limit = soft, "max_connections lowered to what the file-descriptor limit allows");
        allowed
    } else {
        configured
    }
}

/// Raises the soft file-descriptor limit to the hard one (each connection
/// takes a descriptor) and logs both.
pub fn raise_descriptor_limit() {
    match rlimit::Resource::NOFILE.get() {
        Ok((soft, hard)) => match rlimit::increase_nofile_limit(hard) {
            Ok(raised) => {
                tracing::info!(target: "friendgate::server", soft_before = soft, soft = raised, hard, "file-descriptor limit")
            }
            Err(error) => {
                tracing::warn!(target: "friendgate::server", soft, hard, %error, "could not raise the file-descriptor limit")
            }
        },
        Err(error) => {
            tracing::warn!(target: "friendgate::server", %error, "could not read the file-descriptor limit");
        }
    }
}
