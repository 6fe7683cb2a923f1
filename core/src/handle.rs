//! The whole flow for one callback, and its steps for hosts that run the
//! deciders themselves (async bindings, the server):
//! [`verify`] → decide → [`respond`], or all at once with [`handle`].

use std::borrow::Cow;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::auth::authenticate;
use crate::config::Config;
use crate::decision::{Decider, DeciderError, Decision};
use crate::error::CallbackError;
use crate::query::CallbackQuery;
use crate::request::FriendResponseCallback;
use crate::response::{Response, ResultItem};
use crate::validate::parse_body;

/// `Content-Type` of every answer.
pub const CONTENT_TYPE_JSON: &str = "application/json";

/// What to send back: HTTP status, content type and body bytes, plus the error
/// (if any) for logs and metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// HTTP status: 200, or the error's status.
    pub status: u16,
    /// Always [`CONTENT_TYPE_JSON`].
    pub content_type: &'static str,
    /// The JSON answer.
    pub body: Vec<u8>,
    /// Why the answer is `FAIL`, if it is.
    pub error: Option<CallbackError>,
}

impl Reply {
    /// The `FAIL` reply for `error`.
    pub fn from_error(error: CallbackError) -> Self {
        Self {
            status: error.http_status(),
            content_type: CONTENT_TYPE_JSON,
            body: Response::from_error(&error).to_bytes(),
            error: Some(error),
        }
    }

    /// A 200 reply carrying `response`.
    pub fn from_response(response: &Response<'_>) -> Self {
        Self {
            status: 200,
            content_type: CONTENT_TYPE_JSON,
            body: response.to_bytes(),
            error: None,
        }
    }
}

/// The current Unix time in seconds (0 if the clock is before 1970).
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

/// Parses and authenticates the query, then parses and validates the body.
/// `now` is Unix seconds (inject a fixed value in tests).
pub fn verify<'a>(
    config: &Config,
    query: &'a str,
    body: &'a [u8],
    now: u64,
) -> Result<FriendResponseCallback<'a>, CallbackError> {
    let query = CallbackQuery::parse(query)?;
    authenticate(config, &query, now)?;
    let body = parse_body(body, config.limits())?;
    Ok(FriendResponseCallback { query, body })
}

/// Asks `decider` about each item in order. A panic counts as a failure of
/// that item's decision, not of the host.
pub fn decide_all<D: Decider + ?Sized>(
    callback: &FriendResponseCallback<'_>,
    decider: &D,
) -> Vec<Result<Decision, DeciderError>> {
    callback
        .items()
        .iter()
        .enumerate()
        .map(|(index, item)| {
            catch_unwind(AssertUnwindSafe(|| decider.decide(callback, index, item)))
                .unwrap_or_else(|_| Err(DeciderError::new("decider panicked")))
        })
        .collect()
}

/// Builds the reply from one outcome per item, in order, applying the
/// configured failure policy to failed ones. Missing outcomes count as failed
/// ("no decision"); extra ones are ignored.
pub fn respond<I>(config: &Config, callback: &FriendResponseCallback<'_>, outcomes: I) -> Reply
where
    I: IntoIterator<Item = Result<Decision, DeciderError>>,
{
    let items = callback.items();
    let mut outcomes: Vec<_> = outcomes.into_iter().take(items.len()).collect();
    outcomes.resize_with(items.len(), || Err(DeciderError::new("no decision")));
    let policy = config.on_decider_error();
    let mut decisions = Vec::with_capacity(items.len());
    for (index, outcome) in outcomes.iter().enumerate() {
        match policy.resolve(index, outcome) {
            Ok(decision) => decisions.push(decision),
            Err(error) => return Reply::from_error(error),
        }
    }
    let mut response = Response::with_capacity(items.len());
    for (item, decision) in items.iter().zip(&decisions) {
        response.push(ResultItem {
            to_account: Cow::Borrowed(&item.to_account),
            result_code: decision.result_code(),
            result_info: Cow::Borrowed(decision.info()),
        });
    }
    Reply::from_response(&response)
}

/// Runs the whole flow: verify, decide each item, build the reply. Never
/// panics; every failure is a well-formed `FAIL` reply.
pub fn handle<D: Decider + ?Sized>(
    config: &Config,
    query: &str,
    body: &[u8],
    now: u64,
    decider: &D,
) -> Reply {
    match verify(config, query, body, now) {
        Ok(callback) => {
            let outcomes = decide_all(&callback, decider);
            respond(config, &callback, outcomes)
        }
        Err(error) => Reply::from_error(error),
    }
}
