//! Signing like the platform, for tests of an endpoint.

use friendgate_core::testing;
use pyo3::prelude::*;

/// The Sign for `token` at `request_time`: hex(SHA-256(token ++ request_time)).
#[pyfunction]
pub fn sign(token: &str, request_time: u64) -> String {
    testing::sign(token, request_time)
}

/// A callback query string as the platform sends it, signed when `token` is given.
#[pyfunction]
#[pyo3(signature = (app_id, token = None, request_time = None, *, platform = "iOS", client_ip = "127.0.0.1", command = friendgate_core::FRIEND_RESPONSE))]
pub fn signed_query(
    app_id: u64,
    token: Option<&str>,
    request_time: Option<u64>,
    platform: &str,
    client_ip: &str,
    command: &str,
) -> String {
    let mut builder = testing::QueryBuilder::new(app_id)
        .command(command)
        .platform(platform)
        .client_ip(client_ip);
    if let Some(token) = token {
        builder = builder.signed(
            token,
            request_time.unwrap_or_else(friendgate_core::unix_now),
        );
    }
    builder.build()
}

/// The platform's sample body (2 items), or one with `items` items.
#[pyfunction]
#[pyo3(signature = (items = None, from_account = "id"))]
pub fn sample_body(items: Option<usize>, from_account: &str) -> String {
    match items {
        None => testing::sample_body(),
        Some(count) => testing::body_with_items(from_account, count),
    }
}

/// The documentation's friend-request sample (2 items), or one with
/// `items` items.
#[pyfunction]
#[pyo3(signature = (items = None, from_account = "id"))]
pub fn sample_add_body(items: Option<usize>, from_account: &str) -> String {
    match items {
        None => testing::SAMPLE_ADD_BODY.to_owned(),
        Some(count) => testing::add_body_with_items(from_account, count),
    }
}
