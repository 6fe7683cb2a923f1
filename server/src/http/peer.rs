//! What a route knows of its request's connection: the peer's address, the
//! headers it reads besides warp's filters, the connection's activity, and
//! a handle to close it.

use std::net::SocketAddr;
use std::sync::Arc;

use crate::http::idle::Activity;

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
    pub(crate) fn set(&self, task: tokio::task::AbortHandle) {
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
pub(crate) struct WithPeer<S> {
    pub(crate) inner: S,
    pub(crate) peer: SocketAddr,
    pub(crate) connection: Arc<Connection>,
    pub(crate) activity: Arc<Activity>,
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
