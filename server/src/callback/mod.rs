//! HTTP routes (warp) of the callback listener: the callback path and
//! `/healthz` (metrics and readiness are on the admin listener).
//!
//! The callback path takes only POST (405 otherwise) and authenticates the
//! query (app id, `Sign`, window) before it spends anything: an
//! unauthenticated request is answered at once, its body unread and its
//! connection closed, and never holds an in-flight slot. An authenticated
//! callback holds a slot of the in-flight limit (503 when none is left),
//! has its body read as a stream under a hard size limit (a chunked body
//! gets no free pass), and must finish within the request deadline (408),
//! all well inside the platform's 2 s.

use std::future::Future;
use std::sync::Arc;
use std::task::Poll;
use std::time::Instant;

use bytes::{Buf, BufMut};
use friendgate_core::{CallbackError, CallbackQuery};
use futures_util::{Stream, StreamExt};
use prometheus_client::metrics::gauge::Gauge;
use warp::http::{header, Method, StatusCode};
use warp::hyper::body::Bytes;
use warp::reply::Response;
use warp::Filter;

use std::net::IpAddr;

use friendgate_core::Routed;

use crate::config::settings::Settings;
use crate::gateway::other::{OtherAnswer, OtherRequest};
use crate::gateway::Gateway;
use crate::http::idle::Activity;
use crate::http::peer::Peer;
use crate::http::respond::{closing, reply, text};
use crate::upstream::Forwarded;

/// What the callback route reads of a request besides its path and body.
struct Incoming<'a> {
    method: Method,
    query: &'a str,
    length: Option<u64>,
    /// The connection's address.
    peer: Option<IpAddr>,
    forwarded_for: Option<header::HeaderValue>,
    content_type: Option<header::HeaderValue>,
    /// The connection's activity, told when a callback's answer is ready.
    activity: Option<Arc<Activity>>,
}

/// The `X-Forwarded-For` sent upstream: the incoming one with the peer
/// appended.
fn forwarded(incoming: Option<&str>, peer: Option<IpAddr>) -> String {
    let peer = peer.map_or_else(|| "unknown".to_owned(), |ip| ip.to_canonical().to_string());
    match incoming {
        Some(list) if !list.trim().is_empty() => format!("{list}, {peer}"),
        _ => peer,
    }
}

/// The upstream's answer as it came: status, content type and body.
fn passed_on(forwarded: Forwarded) -> Response {
    let mut response = Response::new(forwarded.body.into());
    *response.status_mut() = forwarded.status;
    if let Some(content_type) = forwarded.content_type {
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, content_type);
    }
    response
}

/// Shared state of the routes.
struct Routes {
    gateway: Arc<Gateway>,
    /// Callbacks handled at once (`max_in_flight`); more are answered 503.
    max_in_flight: i64,
    /// Of those, callbacks waiting for body bytes that did not come with
    /// their headers: a quarter of `max_in_flight` (at least 1).
    max_awaiting_body: i64,
    /// Of those, callbacks of other commands waiting for an upstream: half
    /// of `max_in_flight` (at least 1), so that a stalled upstream never
    /// takes every slot from friend responses.
    max_forwarding: i64,
}

/// The share of `max_in_flight` that may wait for a body: the platform's
/// bodies come with their headers, so only a replayed signed URL (the Sign
/// does not cover the body) or a slow network waits, and neither may take
/// every slot.
const AWAITING_BODY_SHARE: i64 = 4;

/// The share of `max_in_flight` forwarded callbacks may hold (see
/// `max_forwarding`).
const FORWARDING_SHARE: i64 = 2;

/// Every route of the server, as one warp filter.
pub fn routes(
    gateway: Arc<Gateway>,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    let max_in_flight = i64::try_from(gateway.settings().server.max_in_flight).unwrap_or(i64::MAX);
    let state = Arc::new(Routes {
        gateway,
        max_in_flight,
        max_awaiting_body: (max_in_flight / AWAITING_BODY_SHARE).max(1),
        max_forwarding: (max_in_flight / FORWARDING_SHARE).max(1),
    });
    warp::any()
        .map(move || Arc::clone(&state))
        .and(warp::method())
        .and(warp::path::full())
        .and(warp::query::raw().or(warp::any().map(String::new)).unify())
        // hyper has checked Content-Length already; a form it takes that
        // does not parse as one number ("10, 10") counts as absent, and the
        // streaming limit still applies.
        .and(
            warp::header::optional::<u64>(header::CONTENT_LENGTH.as_str())
                .or(warp::any().map(|| None))
                .unify(),
        )
        .and(warp::ext::optional::<Peer>())
        .and(warp::body::stream())
        .then(
            |state: Arc<Routes>,
             method: Method,
             path: warp::path::FullPath,
             query: String,
             length: Option<u64>,
             peer: Option<Peer>,
             body| async move {
                let request = Incoming {
                    method,
                    query: &query,
                    length,
                    peer: peer.as_ref().map(|p| p.addr.ip()),
                    forwarded_for: peer.as_ref().and_then(|p| p.forwarded_for.clone()),
                    activity: peer.as_ref().map(|p| Arc::clone(&p.activity)),
                    content_type: peer.and_then(|p| p.content_type),
                };
                state.dispatch(path.as_str(), request, body).await
            },
        )
}

impl Routes {
    async fn dispatch<S, B>(&self, path: &str, request: Incoming<'_>, body: S) -> Response
    where
        S: Stream<Item = Result<B, warp::Error>> + Unpin,
        B: Buf,
    {
        let settings = self.gateway.settings();
        if path == settings.server.path {
            let started = Instant::now();
            let activity = request.activity.clone();
            let (response, answered) = self.callback(&settings, request, body, started).await;
            match (activity, answered) {
                (Some(activity), Answered::Callback) => activity.answered(started),
                (Some(activity), Answered::Forwarded) => activity.answered_untimed(),
                (None, _) => {}
            }
            return response;
        }
        if let Some(activity) = &request.activity {
            activity.answered_untimed();
        }
        // Metrics and readiness are the admin listener's (crate::admin).
        match (request.method, path) {
            (Method::GET, "/healthz") => text(StatusCode::OK, "text/plain", "ok\n".to_owned()),
            _ => text(
                StatusCode::NOT_FOUND,
                "text/plain",
                "not found\n".to_owned(),
            ),
        }
    }

    /// Answers a request of the callback path, and says whether it counts
    /// in the callback latency (a forwarded command has its own).
    async fn callback<S, B>(
        &self,
        settings: &Settings,
        request: Incoming<'_>,
        body: S,
        started: Instant,
    ) -> (Response, Answered)
    where
        S: Stream<Item = Result<B, warp::Error>> + Unpin,
        B: Buf,
    {
        let gateway = &self.gateway;
        let Incoming {
            method,
            query,
            length,
            peer,
            forwarded_for,
            content_type,
            activity: _,
        } = request;
        let forwarded_for = forwarded_for.as_ref().and_then(|v| v.to_str().ok());
        if !settings.sources.admits(peer, forwarded_for) {
            return Answered::callback(closing(
                gateway.refuse_unauthenticated(CallbackError::SourceNotAllowed, started),
            ));
        }
        if method != Method::POST {
            let method = method.as_str().chars().take(16).collect();
            let mut response = closing(
                gateway.refuse_unauthenticated(CallbackError::MethodNotAllowed { method }, started),
            );
            response
                .headers_mut()
                .insert(header::ALLOW, header::HeaderValue::from_static("POST"));
            return (response, Answered::Callback);
        }
        let routed = match gateway.route(settings, query) {
            Ok(routed) => routed,
            Err(error) => {
                return Answered::callback(closing(gateway.refuse_unauthenticated(error, started)));
            }
        };
        let Some(_in_flight) = InFlight::enter(gateway.metrics().in_flight(), self.max_in_flight)
        else {
            return Answered::callback(reply(gateway.refuse(CallbackError::Overloaded, started)));
        };
        let deadline = settings.server.request_deadline;
        let limit = settings.callback.limits().max_body_bytes;
        let mut read = std::pin::pin!(read_body(body, limit, length));
        // The usual body came with the headers: no timer is needed to read it.
        let first = std::future::poll_fn(|cx| Poll::Ready(read.as_mut().poll(cx))).await;
        let read = match first {
            Poll::Ready(read) => Ok(read),
            Poll::Pending => {
                let Some(_awaiting) =
                    InFlight::enter(gateway.metrics().awaiting_body(), self.max_awaiting_body)
                else {
                    return Answered::callback(closing(
                        gateway.refuse(CallbackError::Overloaded, started),
                    ));
                };
                let at = tokio::time::Instant::from_std(started) + deadline;
                tokio::time::timeout_at(at, read).await
            }
        };
        let answer = match (read, routed) {
            (Ok(Ok(bytes)), Routed::Other(other)) => {
                let request = OtherRequest {
                    raw_query: query,
                    body: bytes,
                    content_type: content_type.as_ref().and_then(|v| v.to_str().ok()),
                    forwarded_for: Some(forwarded(forwarded_for, peer)),
                };
                return self.other(settings, other, request, started).await;
            }
            // A friend response or a friend request.
            (Ok(Ok(bytes)), friend) => gateway.answer_authenticated(friend, &bytes, started).await,
            (Ok(Err(error)), _) => gateway.refuse(error, started),
            (Err(_), _) => {
                let millis = u64::try_from(deadline.as_millis()).unwrap_or(u64::MAX);
                gateway.refuse(CallbackError::RequestTimeout { millis }, started)
            }
        };
        (reply(answer), Answered::Callback)
    }
}

impl Routes {
    /// An authenticated callback of another command, its body read: to its
    /// upstream (holding a forwarding slot) or answered by the gateway.
    async fn other(
        &self,
        settings: &Settings,
        other: CallbackQuery<'_>,
        request: OtherRequest<'_>,
        started: Instant,
    ) -> (Response, Answered) {
        let gateway = &self.gateway;
        let Some(_forwarding) =
            InFlight::enter(gateway.metrics().forwarding(), self.max_forwarding)
        else {
            return Answered::callback(reply(gateway.refuse(CallbackError::Overloaded, started)));
        };
        let response = match gateway
            .answer_other(settings, other, request, started)
            .await
        {
            OtherAnswer::Reply(answer) => reply(answer),
            OtherAnswer::Forwarded(forwarded) => passed_on(forwarded),
        };
        (response, Answered::Forwarded)
    }
}

/// Which latency an answer of the callback path counts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answered {
    /// `friendgate_callback_duration_seconds` (a friend response, or any
    /// refusal).
    Callback,
    /// `friendgate_forward_duration_seconds` (counted by the gateway).
    Forwarded,
}

impl Answered {
    fn callback(response: Response) -> (Response, Self) {
        (response, Self::Callback)
    }
}

/// Counts a callback in the in-flight gauge until dropped, also when the
/// connection goes away mid-callback and hyper drops the future. The gauge
/// is the in-flight limit's count too (one atomic addition, no semaphore).
struct InFlight<'a>(&'a Gauge);

impl<'a> InFlight<'a> {
    /// Enters, or `None` when `max` callbacks are already in flight.
    fn enter(gauge: &'a Gauge, max: i64) -> Option<Self> {
        let before = gauge.inc();
        // Over the limit, the guard is dropped at once, taking the count back.
        let entered = Self(gauge);
        (before < max).then_some(entered)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// Reads the whole body, refusing it as soon as it passes `limit` bytes
/// (at once when `Content-Length` says so).
async fn read_body<S, B>(
    mut body: S,
    limit: usize,
    length: Option<u64>,
) -> Result<Bytes, CallbackError>
where
    S: Stream<Item = Result<B, warp::Error>> + Unpin,
    B: Buf,
{
    let declared = length.map(|l| usize::try_from(l).unwrap_or(usize::MAX));
    if let Some(size) = declared.filter(|size| *size > limit) {
        return Err(CallbackError::BodyTooLarge { size, limit });
    }
    // The usual body arrives in one chunk: hand it over without a copy.
    let Some(first) = body.next().await else {
        return Ok(Bytes::new());
    };
    let mut first = first.map_err(incomplete)?;
    if first.remaining() > limit {
        let size = first.remaining();
        return Err(CallbackError::BodyTooLarge { size, limit });
    }
    let first = first.copy_to_bytes(first.remaining());
    let Some(next) = body.next().await else {
        return Ok(first);
    };
    // Never sized by the declared length alone: a client may declare the
    // limit and send a few bytes.
    let mut bytes = Vec::with_capacity((first.len() * 2).clamp(INITIAL_BODY_BUFFER, limit));
    bytes.extend_from_slice(&first);
    append(&mut bytes, next, limit)?;
    while let Some(chunk) = body.next().await {
        append(&mut bytes, chunk, limit)?;
    }
    Ok(Bytes::from(bytes))
}

fn incomplete(error: warp::Error) -> CallbackError {
    CallbackError::BodyIncomplete {
        reason: error.to_string(),
    }
}

/// Appends one chunk, refusing the body once it passes `limit`.
fn append<B: Buf>(
    bytes: &mut Vec<u8>,
    chunk: Result<B, warp::Error>,
    limit: usize,
) -> Result<(), CallbackError> {
    let chunk = chunk.map_err(incomplete)?;
    let size = bytes.len() + chunk.remaining();
    if size > limit {
        return Err(CallbackError::BodyTooLarge { size, limit });
    }
    bytes.put(chunk);
    Ok(())
}

/// First capacity of a body that came in more than one chunk.
const INITIAL_BODY_BUFFER: usize = 16 << 10;
