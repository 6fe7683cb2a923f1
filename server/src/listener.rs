//! The listener: TCP or TLS (rustls), HTTP/1.1 with keep-alive (the platform
//! keeps connections open), a header timeout against slow clients, and a
//! graceful shutdown that stops accepting and lets in-flight callbacks finish.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use thiserror::Error;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::TlsAcceptor;

use crate::admin;
use crate::connections::{Admission, Connections};
use crate::gateway::Gateway;
use crate::idle::{watchdog, Activity, Counted};
use crate::linger::Lingering;
use crate::routes::routes;

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
            Some((cert, key)) => Some(TlsAcceptor::from(
                crate::tls::server_config(cert, key).map_err(ServeError::Tls)?,
            )),
            None => None,
        };
        let (listener, local_addr) = bind(settings.server.listen).await?;
        let (shutdown, signal) = watch::channel(false);
        let max_connections = connection_bound(settings.server.max_connections);
        let listen = Listen {
            listener,
            tls,
            max_connections,
            public: true,
        };
        let service = warp::service(routes(gateway.clone()));
        let mut tasks = vec![tokio::spawn(accept_loop(
            listen,
            service,
            gateway.clone(),
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
                    public: false,
                };
                let service = warp::service(admin::routes(gateway.clone(), admin.token.clone()));
                tasks.push(tokio::spawn(accept_loop(
                    listen,
                    service,
                    gateway.clone(),
                    signal,
                )));
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

/// One listener and how it takes connections.
struct Listen {
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    max_connections: usize,
    /// The callback listener (counted in the connection metrics).
    public: bool,
}

async fn accept_loop<S>(
    listen: Listen,
    service: S,
    gateway: Arc<Gateway>,
    mut signal: watch::Receiver<bool>,
) where
    S: tower_service::Service<
            hyper::Request<hyper::body::Incoming>,
            Response = warp::reply::Response,
            Error = std::convert::Infallible,
        > + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    let Listen {
        listener,
        tls,
        max_connections,
        public,
    } = listen;
    let settings = gateway.settings();
    let header_timeout = settings.server.header_timeout;
    let grace = settings.server.shutdown_grace;
    let max_header_bytes = settings.server.max_header_bytes;
    let graceful = GracefulShutdown::new();
    // Connection tasks, so that those still open when the grace period ends
    // are closed rather than left running; watchdogs beside them.
    let mut tasks = JoinSet::new();
    let mut open = Connections::new(max_connections);
    let metrics = gateway.metrics();
    loop {
        let (tcp, peer) = tokio::select! {
            _ = signal.changed() => break,
            Some(ended) = tasks.join_next_with_id(), if !tasks.is_empty() => {
                let id = match ended {
                    Ok((id, ())) => id,
                    Err(error) => error.id(),
                };
                open.remove(id);
                if public {
                    metrics.connections().set(open.len() as i64);
                }
                continue;
            }
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
        match open.admit() {
            Admission::Admitted => {}
            Admission::Evicted => metrics.connection_limited("evicted"),
            Admission::Refused => {
                metrics.connection_limited("refused");
                drop(tcp);
                continue;
            }
        }
        let _ = tcp.set_nodelay(true);
        let activity = Arc::new(if public {
            Activity::measured(metrics.latency().clone())
        } else {
            Activity::default()
        });
        let connection = Arc::new(Connection::default());
        let service = Counted::new(
            TowerToHyperService::new(WithPeer {
                inner: service.clone(),
                peer,
                connection: Arc::clone(&connection),
                activity: Arc::clone(&activity),
            }),
            Arc::clone(&activity),
        );
        let mut http = http1::Builder::new();
        // The header timeout is the watchdog's (see crate::idle), not a
        // timer per request.
        http.header_read_timeout(None)
            .keep_alive(true)
            .max_buf_size(max_header_bytes);
        let tcp = Lingering::new(tcp, Arc::clone(&activity));
        let task = match &tls {
            None => {
                let connection = graceful.watch(http.serve_connection(TokioIo::new(tcp), service));
                tasks.spawn(async move {
                    if let Err(error) = connection.await {
                        log_error(peer, &error);
                    }
                })
            }
            Some(acceptor) => {
                let acceptor = acceptor.clone();
                let watcher = graceful.watcher();
                tasks.spawn(async move {
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
                })
            }
        };
        connection.set(task.clone());
        open.insert(Arc::clone(&activity), task.clone());
        if public {
            metrics.connections().set(open.len() as i64);
        }
        tasks.spawn(watchdog(activity, header_timeout, task, peer));
    }
    drop(listener);
    if public {
        gateway.set_draining();
        tracing::info!(target: "friendgate::server", "shutting down: finishing in-flight callbacks");
    } else {
        // The live stream's answers never finish by themselves.
        gateway.events().live_readers().end();
    }
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(target: "friendgate::server", "grace period over; closing remaining connections");
    }
    tasks.shutdown().await;
}

/// What the callback route reads of a request's connection and headers
/// besides warp's filters, put in the request's extensions by [`WithPeer`]:
/// the header values are hyper's own bytes, shared, not copied (two
/// `warp::header::optional::<String>` filters cost the friend-response path
/// about 4% of its throughput in `server/bench/compare.sh`).
#[derive(Debug, Clone)]
pub(crate) struct Peer {
    /// The connection's address (source allowlist, `X-Forwarded-For`).
    pub addr: SocketAddr,
    /// `Content-Type`, passed on to an upstream.
    pub content_type: Option<hyper::header::HeaderValue>,
    /// `X-Forwarded-For`, for the allowlist behind trusted proxies and
    /// passed on to an upstream.
    pub forwarded_for: Option<hyper::header::HeaderValue>,
    /// The connection, to close it from a route.
    pub connection: Arc<Connection>,
    /// The connection's activity (a callback's answer is marked in it).
    pub activity: Arc<Activity>,
}

/// The task serving one connection, which a route may close (a live reader
/// that fell behind: its buffers go with it).
#[derive(Debug, Default)]
pub(crate) struct Connection(std::sync::OnceLock<tokio::task::AbortHandle>);

impl Connection {
    fn set(&self, task: tokio::task::AbortHandle) {
        let _ = self.0.set(task);
    }

    /// Closes the connection: its task ends, dropping what it holds.
    pub(crate) fn close(&self) {
        if let Some(task) = self.0.get() {
            task.abort();
        }
    }
}

/// A service that stamps every request with its connection's [`Peer`].
#[derive(Clone)]
struct WithPeer<S> {
    inner: S,
    peer: SocketAddr,
    connection: Arc<Connection>,
    activity: Arc<Activity>,
}

impl<S, B> tower_service::Service<hyper::Request<B>> for WithPeer<S>
where
    S: tower_service::Service<hyper::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: hyper::Request<B>) -> Self::Future {
        let headers = request.headers();
        let peer = Peer {
            addr: self.peer,
            content_type: headers.get(hyper::header::CONTENT_TYPE).cloned(),
            forwarded_for: forwarded_for(headers),
            connection: Arc::clone(&self.connection),
            activity: Arc::clone(&self.activity),
        };
        request.extensions_mut().insert(peer);
        self.inner.call(request)
    }
}

/// Every `X-Forwarded-For` line, in order, as one list: a proxy may add a
/// line of its own rather than extend the client's, and reading the first
/// line alone would take the client's word for its source.
fn forwarded_for(headers: &hyper::HeaderMap) -> Option<hyper::header::HeaderValue> {
    let mut lines = headers.get_all("x-forwarded-for").iter();
    let first = lines.next()?;
    let Some(second) = lines.next() else {
        return Some(first.clone());
    };
    let mut list = first.as_bytes().to_vec();
    for line in std::iter::once(second).chain(lines) {
        list.extend_from_slice(b", ");
        list.extend_from_slice(line.as_bytes());
    }
    // Each line was a valid value; so is their join.
    hyper::header::HeaderValue::from_bytes(&list).ok()
}

fn log_error(peer: SocketAddr, error: &hyper::Error) {
    tracing::debug!(target: "friendgate::server", %peer, %error, "connection ended with an error");
}
