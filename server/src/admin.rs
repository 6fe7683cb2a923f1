//! The admin listener's routes: `/metrics` (OpenMetrics text), `/readyz`
//! and `/healthz`. Loopback by default and apart from the callback port, so
//! that neither the metrics nor the readiness of the gateway are open to
//! whoever can reach the callback URL; with `admin.token` set, `/metrics`
//! and `/readyz` want `Authorization: Bearer <token>` (`/healthz` tells
//! nothing and stays open, for probes).

use std::sync::Arc;

use subtle::ConstantTimeEq;
use warp::http::{header, Method, StatusCode};
use warp::reply::Response;
use warp::Filter;

use crate::gateway::Gateway;
use crate::routes::text;

/// The content type of the OpenMetrics text format that
/// prometheus-client writes (with `# EOF` and `_total` counters).
pub const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Every route of the admin listener, as one warp filter.
pub fn routes(
    gateway: Arc<Gateway>,
    token: Option<String>,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    let token = Arc::new(token);
    warp::any()
        .and(warp::method())
        .and(warp::path::full())
        .and(warp::header::optional::<String>(
            header::AUTHORIZATION.as_str(),
        ))
        .map(
            move |method: Method, path: warp::path::FullPath, authorization: Option<String>| {
                dispatch(
                    &gateway,
                    token.as_deref(),
                    &method,
                    path.as_str(),
                    authorization.as_deref(),
                )
            },
        )
}

fn dispatch(
    gateway: &Gateway,
    token: Option<&str>,
    method: &Method,
    path: &str,
    authorization: Option<&str>,
) -> Response {
    if method != Method::GET {
        return text(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain",
            "GET only\n".to_owned(),
        );
    }
    if path == "/healthz" {
        return text(StatusCode::OK, "text/plain", "ok\n".to_owned());
    }
    if !matches!(path, "/metrics" | "/readyz" | "/events") {
        return text(
            StatusCode::NOT_FOUND,
            "text/plain",
            "not found\n".to_owned(),
        );
    }
    if let Some(token) = token {
        if !bearer_matches(authorization, token) {
            let mut response = text(
                StatusCode::UNAUTHORIZED,
                "text/plain",
                "a bearer token is required\n".to_owned(),
            );
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
            return response;
        }
    }
    match path {
        "/metrics" => text(StatusCode::OK, OPENMETRICS, gateway.metrics().render()),
        "/events" => live_events(gateway),
        // A Redis that is down does not take the replica out: every rule
        // on Redis has its on_redis_error, and the other replicas share the
        // same Redis anyway.
        _ if gateway.is_ready() => text(
            StatusCode::OK,
            "text/plain",
            match gateway.store() {
                None => "ready\n".to_owned(),
                Some(store) if store.is_up() => "ready\nredis: up\n".to_owned(),
                Some(_) => {
                    "ready\nredis: down (rules on Redis use their on_redis_error)\n".to_owned()
                }
            },
        ),
        _ => text(
            StatusCode::SERVICE_UNAVAILABLE,
            "text/plain",
            "draining\n".to_owned(),
        ),
    }
}

/// `/events`: a server-sent-events stream of the events of answered
/// callbacks (`event: friend_response`, the event's JSON as data). A reader
/// that falls behind by more than the stream's buffer loses events: it gets
/// `event: dropped` with their number, and they are counted
/// (`friendgate_events_total{sink="live",outcome="dropped"}`); no callback
/// ever waits for it.
fn live_events(gateway: &Gateway) -> Response {
    use warp::Reply;
    let receiver = gateway.events().subscribe();
    let metrics = gateway.metrics().events().clone();
    let stream = futures_util::stream::unfold(receiver, move |mut receiver| {
        let metrics = metrics.clone();
        async move {
            let sse = match receiver.recv().await {
                Ok(event) => warp::sse::Event::default()
                    .event("friend_response")
                    .id(event.id.clone())
                    .json_data(&*event)
                    .unwrap_or_else(|_| warp::sse::Event::default().comment("unencodable event")),
                Err(tokio::sync::broadcast::error::RecvError::Lagged(missed)) => {
                    for _ in 0..missed {
                        metrics.dropped("live");
                    }
                    warp::sse::Event::default()
                        .event("dropped")
                        .data(missed.to_string())
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
            };
            Some((Ok::<_, std::convert::Infallible>(sse), receiver))
        }
    });
    warp::sse::reply(warp::sse::keep_alive().stream(stream)).into_response()
}

/// Whether `Authorization` is `Bearer <token>`, compared in constant time.
fn bearer_matches(authorization: Option<&str>, token: &str) -> bool {
    let Some(given) = authorization.and_then(|value| {
        value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
    }) else {
        return false;
    };
    bool::from(given.trim().as_bytes().ct_eq(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens() {
        assert!(bearer_matches(Some("Bearer s3cret"), "s3cret"));
        assert!(bearer_matches(Some("bearer s3cret"), "s3cret"));
        assert!(!bearer_matches(Some("Bearer s3cre"), "s3cret"));
        assert!(!bearer_matches(Some("Basic s3cret"), "s3cret"));
        assert!(!bearer_matches(None, "s3cret"));
    }
}
