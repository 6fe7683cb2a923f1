//! HTTP answers: a core reply as a response, one that closes its
//! connection, and plain text.

use friendgate_core::Reply;
use warp::http::{header, StatusCode};
use warp::reply::Response;

/// An answer after which hyper closes the connection (its unread body is
/// discarded by a bounded lingering read, see [`crate::http::linger`]): for
/// requests refused before authentication, so an outsider keeps no
/// connection open with a refused request, and for bodies refused unread.
pub(crate) fn closing(answer: Reply) -> Response {
    let mut response = reply(answer);
    response.headers_mut().insert(
        header::CONNECTION,
        header::HeaderValue::from_static("close"),
    );
    response
}

/// The HTTP response for a core reply.
pub(crate) fn reply(reply: Reply) -> Response {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = Response::new(reply.body.into());
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(reply.content_type),
    );
    response
}

/// A plain answer of the non-callback routes.
pub(crate) fn text(status: StatusCode, content_type: &'static str, body: String) -> Response {
    let mut response = Response::new(body.into());
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(content_type),
    );
    response
}
