//! Test helpers: Signs, signed queries and sample bodies, all core's.

use friendgate_core::{testing, unix_now};

fn unsigned(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

/// The Sign for `token` at `request_time`.
#[uniffi::export]
pub fn sign(token: String, request_time: i64) -> String {
    testing::sign(&token, unsigned(request_time))
}

/// A callback query string, signed when `token` is given (at
/// `request_time`, default now).
#[uniffi::export(default(token = None, request_time = None, command = None))]
pub fn signed_query(
    app_id: i64,
    token: Option<String>,
    request_time: Option<i64>,
    command: Option<String>,
) -> String {
    let builder = testing::QueryBuilder::new(unsigned(app_id)).command(
        command
            .as_deref()
            .unwrap_or(friendgate_core::FRIEND_RESPONSE),
    );
    match token {
        Some(token) => builder
            .signed(&token, request_time.map_or_else(unix_now, unsigned))
            .build(),
        None => builder.build(),
    }
}

/// The platform's sample body, or one with `items` items.
#[uniffi::export(default(items = None))]
pub fn sample_body(items: Option<i32>) -> String {
    match items {
        None => testing::sample_body(),
        Some(count) => testing::body_with_items("id", usize::try_from(count).unwrap_or(0)),
    }
}

/// The documentation's friend-request sample, or one with `items` items.
#[uniffi::export(default(items = None))]
pub fn sample_add_body(items: Option<i32>) -> String {
    match items {
        None => testing::SAMPLE_ADD_BODY.to_owned(),
        Some(count) => testing::add_body_with_items("id", usize::try_from(count).unwrap_or(0)),
    }
}
