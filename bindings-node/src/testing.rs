//! Test helpers: Signs, signed queries and sample bodies, all core's.

use friendgate_core::{testing, unix_now};
use napi_derive::napi;

/// The Sign for `token` at `requestTime`: hex(SHA-256(token ++ requestTime)).
#[napi]
pub fn sign(token: String, request_time: f64) -> String {
    testing::sign(&token, request_time as u64)
}

/// A callback query string as the platform sends it; signed when `token` is given.
#[napi]
pub fn signed_query(
    app_id: f64,
    token: Option<String>,
    request_time: Option<f64>,
    platform: Option<String>,
    client_ip: Option<String>,
    command: Option<String>,
) -> String {
    let mut builder = testing::QueryBuilder::new(app_id as u64)
        .command(
            command
                .as_deref()
                .unwrap_or(friendgate_core::FRIEND_RESPONSE),
        )
        .platform(platform.as_deref().unwrap_or("iOS"))
        .client_ip(client_ip.as_deref().unwrap_or("127.0.0.1"));
    if let Some(token) = token {
        builder = builder.signed(&token, request_time.map_or_else(unix_now, |t| t as u64));
    }
    builder.build()
}

/// The platform's sample body, or one with `items` items.
#[napi]
pub fn sample_body(items: Option<u32>, from_account: Option<String>) -> String {
    match items {
        None => testing::sample_body(),
        Some(count) => {
            testing::body_with_items(from_account.as_deref().unwrap_or("id"), count as usize)
        }
    }
}

/// The documentation's friend-request sample, or one with `items` items.
#[napi]
pub fn sample_add_body(items: Option<u32>, from_account: Option<String>) -> String {
    match items {
        None => testing::SAMPLE_ADD_BODY.to_owned(),
        Some(count) => {
            testing::add_body_with_items(from_account.as_deref().unwrap_or("id"), count as usize)
        }
    }
}
