//! The accept loop of one listener: TCP or TLS (rustls), HTTP/1.1 with
//! keep-alive (the platform keeps connections open), a bound on open
//! connections, a header timeout against slow clients, and a graceful
//! shutdown that stops accepting and lets in-flight callbacks finish. It
//! takes narrow handles (limits, connection metrics, a drain hook), never
//! the gateway.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{AbortHandle, JoinSet};
use tokio_rustls::TlsAcceptor;

use crate::config::settings::ServerSettings;
use crate::http::connections::{Admission, Connections};
use crate::http::idle::{watchdog, Activity, Counted};
use crate::http::linger::Lingering;
use crate::http::peer::{Connection, WithPeer};
use crate::metrics::ConnectionMetrics;

/// One listener and the narrow handles its loop takes: its limits, its
/// connection metrics, and what to do once it stops accepting.
pub(crate) struct Listen {
    pub(crate) listener: TcpListener,
    pub(crate) tls: Option<TlsAcceptor>,
    pub(crate) max_connections: usize,
    pub(crate) limits: ConnectionLimits,
    pub(crate) metrics: ConnectionMetrics,
    /// Called once the listener stops accepting, before the grace period.
    pub(crate) on_drain: Box<dyn FnOnce() + Send>,
}

/// What bounds a connection's time (`[server]`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConnectionLimits {
    /// A connection idle this long (or sending its headers this slowly) is closed.
    pub(crate) header_timeout: Duration,
    /// How long connections may finish after the listener stops.
    pub(crate) grace: Duration,
    /// The largest request head.
    pub(crate) max_header_bytes: usize,
}

impl ConnectionLimits {
    pub(crate) fn of(server: &ServerSettings) -> Self {
        Self {
            header_timeout: server.header_timeout,
            grace: server.shutdown_grace,
            max_header_bytes: server.max_header_bytes,
        }
    }
}

pub(crate) async fn accept_loop<S>(listen: Listen, service: S, mut signal: watch::Receiver<bool>)
where
    S: ConnectionService,
    S::Future: Send + 'static,
{
    let Listen {
        listener,
        tls,
        max_connections,
        limits,
        metrics,
        on_drain,
    } = listen;
    let graceful = GracefulShutdown::new();
    // Connection tasks, so that those still open when the grace period ends
    // are closed rather than left running; watchdogs beside them.
    let mut tasks = JoinSet::new();
    let mut open = Connections::new(max_connections);
    loop {
        let (tcp, peer) = tokio::select! {
            _ = signal.changed() => break,
            Some(ended) = tasks.join_next_with_id(), if !tasks.is_empty() => {
                open.remove(match ended {
                    Ok((id, ())) => id,
                    Err(error) => error.id(),
                });
                metrics.set_open(open.len());
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
        if !admit(&mut open, &metrics) {
            drop(tcp);
            continue;
        }
        let _ = tcp.set_nodelay(true);
        let activity = Arc::new(match metrics.latency() {
            Some(latency) => Activity::measured(latency.clone()),
            None => Activity::default(),
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
        let tcp = Lingering::new(tcp, Arc::clone(&activity));
        let serve = Serve {
            http: http_builder(limits),
            graceful: &graceful,
            header_timeout: limits.header_timeout,
            peer,
        };
        let task = match &tls {
            None => serve.plain(&mut tasks, tcp, service),
            Some(acceptor) => serve.tls(&mut tasks, acceptor.clone(), tcp, service),
        };
        connection.set(task.clone());
        open.insert(Arc::clone(&activity), task.clone());
        metrics.set_open(open.len());
        tasks.spawn(watchdog(activity, limits.header_timeout, task, peer));
    }
    drop(listener);
    on_drain();
    if tokio::time::timeout(limits.grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(target: "friendgate::server", "grace period over; closing remaining connections");
    }
    tasks.shutdown().await;
}

/// The routes of a listener, as hyper serves them on each connection.
pub(crate) trait ConnectionService:
    tower_service::Service<
        hyper::Request<hyper::body::Incoming>,
        Response = warp::reply::Response,
        Error = std::convert::Infallible,
    > + Clone
    + Send
    + 'static
{
}

impl<S> ConnectionService for S where
    S: tower_service::Service<
            hyper::Request<hyper::body::Incoming>,
            Response = warp::reply::Response,
            Error = std::convert::Infallible,
        > + Clone
        + Send
        + 'static
{
}

/// Takes a new connection at `max_connections` (evicting an idle one, or
/// refusing it, counted); false when it is refused.
fn admit(open: &mut Connections, metrics: &ConnectionMetrics) -> bool {
    match open.admit() {
        Admission::Admitted => true,
        Admission::Evicted => {
            metrics.limited("evicted");
            true
        }
        Admission::Refused => {
            metrics.limited("refused");
            false
        }
    }
}

/// HTTP/1.1 with keep-alive; the header timeout is the watchdog's (see
/// `crate::http::idle`), not a timer per request.
fn http_builder(limits: ConnectionLimits) -> http1::Builder {
    let mut http = http1::Builder::new();
    http.header_read_timeout(None)
        .keep_alive(true)
        .max_buf_size(limits.max_header_bytes);
    http
}

/// How one accepted connection is served, in its own task.
struct Serve<'a> {
    http: http1::Builder,
    graceful: &'a GracefulShutdown,
    header_timeout: Duration,
    peer: SocketAddr,
}

type Served<S> = Counted<TowerToHyperService<WithPeer<S>>>;

impl Serve<'_> {
    fn plain<S>(
        self,
        tasks: &mut JoinSet<()>,
        tcp: Lingering<TcpStream>,
        service: Served<S>,
    ) -> AbortHandle
    where
        S: ConnectionService,
        S::Future: Send + 'static,
    {
        let peer = self.peer;
        let connection = self
            .graceful
            .watch(self.http.serve_connection(TokioIo::new(tcp), service));
        tasks.spawn(async move {
            if let Err(error) = connection.await {
                log_error(peer, &error);
            }
        })
    }

    /// The TLS handshake first, within the header timeout.
    fn tls<S>(
        self,
        tasks: &mut JoinSet<()>,
        acceptor: TlsAcceptor,
        tcp: Lingering<TcpStream>,
        service: Served<S>,
    ) -> AbortHandle
    where
        S: ConnectionService,
        S::Future: Send + 'static,
    {
        let Self {
            http,
            graceful,
            header_timeout,
            peer,
        } = self;
        let watcher = graceful.watcher();
        tasks.spawn(async move {
            let stream = match tokio::time::timeout(header_timeout, acceptor.accept(tcp)).await {
                Ok(Ok(stream)) => stream,
                Ok(Err(error)) => {
                    tracing::debug!(target: "friendgate::server", %peer, %error, "TLS handshake failed");
                    return;
                }
                Err(_) => return,
            };
            let connection = watcher.watch(http.serve_connection(TokioIo::new(stream), service));
            if let Err(error) = connection.await {
                log_error(peer, &error);
            }
        })
    }
}

fn log_error(peer: SocketAddr, error: &hyper::Error) {
    tracing::debug!(target: "friendgate::server", %peer, %error, "connection ended with an error");
}
