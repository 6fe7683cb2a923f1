//! `Reply` (what to send back) and the answers built by hand.

use friendgate_core::{Reply as CoreReply, Response, ResultCode};

use crate::decision::Decision;
use crate::error::{ArgumentError, CallbackError, UniffiErrorExt};

/// What to send back.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Reply {
    /// HTTP status.
    pub status: i32,
    /// `application/json`.
    pub content_type: String,
    /// Core's exact answer bytes.
    pub body: Vec<u8>,
    /// Core's error code when the answer is FAIL.
    pub error_code: Option<String>,
}

impl From<CoreReply> for Reply {
    fn from(reply: CoreReply) -> Self {
        Self {
            status: i32::from(reply.status),
            content_type: reply.content_type.to_owned(),
            error_code: reply.error.as_ref().map(|e| e.code().to_owned()),
            body: reply.body,
        }
    }
}

/// Core's answer for hand-made decisions, one per account in order; a
/// `Reject` code outside [38000, 39000] throws.
#[uniffi::export]
pub fn answer_bytes(
    accounts: Vec<String>,
    decisions: Vec<Decision>,
) -> Result<Vec<u8>, CallbackError> {
    let mut response = Response::ok();
    for (account, decision) in accounts.into_iter().zip(decisions) {
        response.push_decision(account, decision.checked().or_refuse()?);
    }
    Ok(response.to_bytes())
}

/// Core's FAIL answer with `code` in [38000, 39000].
#[uniffi::export]
pub fn fail_bytes(code: i64, info: String) -> Result<Vec<u8>, CallbackError> {
    let code = ResultCode::new(code).or_refuse()?;
    Ok(Response::fail(code, info).to_bytes())
}

/// Core's FAIL reply for a transport refusal (`method_not_allowed`,
/// `request_timeout`, `overloaded`, `body_incomplete`); any other code
/// throws with core's message, as in every binding.
#[uniffi::export]
pub fn refusal(code: String, detail: String) -> Result<Reply, ArgumentError> {
    friendgate_core::CallbackError::transport_refusal(&code, &detail)
        .map(|error| CoreReply::from_error(error).into())
        .map_err(|reason| ArgumentError::Invalid { reason })
}

/// Core's 200 "processed, go on" reply for a callback of another command
/// that nobody decides.
#[uniffi::export]
pub fn processed() -> Reply {
    CoreReply::processed().into()
}
