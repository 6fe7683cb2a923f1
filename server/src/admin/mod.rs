//! The admin listener's routes: `/metrics` (OpenMetrics text), `/readyz`
//! and `/healthz`. Loopback by default and apart from the callback port, so
//! that neither the metrics nor the readiness of the gateway are open to
//! whoever can reach the callback URL; with `admin.token` set, `/metrics`
//! and `/readyz` want `Authorization: Bearer <token>` (`/healthz` tells
//! nothing and stays open, for probes).

pub mod lists;

use std::sync::Arc;

use subtle::ConstantTimeEq;
use warp::http::{header, Method, StatusCode};
use warp::reply::Response;
use warp::Filter;

use crate::gateway::Gateway;
use crate::http::peer::{Connection, Peer};
use crate::http::respond::text;

/// The content type of the OpenMetrics text format that
/// prometheus-client writes (with `# EOF` and `_total` counters).
pub const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Every route of the admin listener, as one warp filter.
pub fn routes(
    gateway: Arc<Gateway>,
    token: Option<String>,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    let token = Arc::new(token);
    let edits = {
        let gateway = Arc::clone(&gateway);
        let token = Arc::clone(&token);
        warp::post()
            .and(warp::path!("rules" / String / String))
            .and(warp::header::optional::<String>(
                header::AUTHORIZATION.as_str(),
            ))
            .and(warp::body::content_length_limit(EDIT_BODY_BYTES))
            .and(warp::body::bytes())
            .then(
                move |rule: String,
                      list: String,
                      authorization: Option<String>,
                      body: bytes::Bytes| {
                    let gateway = Arc::clone(&gateway);
                    let token = Arc::clone(&token);
                    async move {
                        edit(
                            &gateway,
                            token.as_deref(),
                            &rule,
                            &list,
                            authorization.as_deref(),
                            &body,
                        )
                        .await
                    }
                },
            )
    };
    let views = warp::any()
        .and(warp::method())
        .and(warp::path::full())
        .and(warp::header::optional::<String>(
            header::AUTHORIZATION.as_str(),
        ))
        .and(warp::ext::optional::<Peer>())
        .map(
            move |method: Method,
                  path: warp::path::FullPath,
                  authorization: Option<String>,
                  peer: Option<Peer>| {
                let request = View {
                    method: &method,
                    path: path.as_str(),
                    authorization: authorization.as_deref(),
                    connection: peer.map(|peer| peer.connection),
                };
                dispatch(&gateway, token.as_deref(), request)
            },
        );
    edits.or(views).unify()
}

/// Largest body of a list edit.
const EDIT_BODY_BYTES: u64 = 1 << 20;

/// `POST /rules/<rule>/accounts` or `/words` with `{"add": [...],
/// "remove": [...]}`: only with `admin.token` set, and its bearer token.
async fn edit(
    gateway: &Gateway,
    token: Option<&str>,
    rule: &str,
    list: &str,
    authorization: Option<&str>,
    body: &[u8],
) -> Response {
    let json = |status: StatusCode, value: serde_json::Value| {
        text(status, "application/json", format!("{value}\n"))
    };
    let refused =
        |status: StatusCode, reason: &str| json(status, serde_json::json!({ "error": reason }));
    let Some(token) = token else {
        return refused(
            StatusCode::FORBIDDEN,
            "lists are edited only with admin.token set (the edit is then authenticated)",
        );
    };
    if !bearer_matches(authorization, token) {
        return unauthorized();
    }
    if !matches!(list, "accounts" | "words") {
        return refused(
            StatusCode::NOT_FOUND,
            "the lists are `accounts` and `words`",
        );
    }
    let edit: crate::admin::lists::ListEdit = match serde_json::from_slice(body) {
        Ok(edit) => edit,
        Err(error) => {
            return refused(
                StatusCode::BAD_REQUEST,
                &format!("the body is {{\"add\": [...], \"remove\": [...]}}: {error}"),
            )
        }
    };
    match crate::admin::lists::apply(gateway, rule, list, edit).await {
        Ok(done) => json(StatusCode::OK, done),
        Err((status, reason)) => refused(status, &reason),
    }
}

/// 401 with `WWW-Authenticate: Bearer`.
fn unauthorized() -> Response {
    let mut response = text(
        StatusCode::UNAUTHORIZED,
        "text/plain",
        "a bearer token is required\n".to_owned(),
    );
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        header::HeaderValue::from_static("Bearer"),
    );
    response
}

/// A GET of the admin listener.
struct View<'a> {
    method: &'a Method,
    path: &'a str,
    authorization: Option<&'a str>,
    /// Its connection (a live reader's is closed if it falls behind).
    connection: Option<Arc<Connection>>,
}

fn dispatch(gateway: &Gateway, token: Option<&str>, request: View<'_>) -> Response {
    let View {
        method,
        path,
        authorization,
        connection,
    } = request;
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
    if matches!(path, "/" | "/live") {
        // The page holds no data: it asks for the token, then reads the
        // authenticated endpoints.
        return text(
            StatusCode::OK,
            "text/html; charset=utf-8",
            LIVE_PAGE.to_owned(),
        );
    }
    if !matches!(path, "/metrics" | "/readyz" | "/events" | "/rules") {
        return text(
            StatusCode::NOT_FOUND,
            "text/plain",
            "not found\n".to_owned(),
        );
    }
    if let Some(token) = token {
        if !bearer_matches(authorization, token) {
            return unauthorized();
        }
    }
    match path {
        "/metrics" => text(StatusCode::OK, OPENMETRICS, gateway.metrics().render()),
        "/events" => crate::events::live::response(gateway.events(), connection),
        "/rules" => text(
            StatusCode::OK,
            "application/json",
            serde_json::json!({
                "rules": gateway.settings().policy.describe(),
                "editable": token.is_some(),
            })
            .to_string(),
        ),
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

/// The live page: one file, its script and style inline, embedded in the
/// binary (it works offline, with no CDN).
const LIVE_PAGE: &str = include_str!("live.html");

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
