//! `Reply` (what to send back) and the answers built by hand.

use std::collections::HashMap;

use friendgate_core::{CallbackError, Decision, Reply as CoreReply, Response, ResultCode};
use napi::bindgen_prelude::Buffer;
use napi_derive::napi;

use crate::error::NapiErrorExt;

/// An answer, or a refusal with core's error details.
#[napi(object)]
pub struct Reply {
    /// HTTP status.
    pub status: u32,
    /// The JSON answer (core's exact bytes).
    pub body: Buffer,
    /// Core's error code (`bad_signature`, ...) when the answer is FAIL.
    pub code: Option<String>,
    /// The error's family (`signature`, `body`, ...).
    pub family: Option<String>,
    /// The platform ErrorCode in [38000, 39000].
    pub error_code: Option<u32>,
    /// The error message.
    pub message: Option<String>,
    /// The headers to send (core's `reply_headers`: `content-type`, and
    /// `allow: POST` on a 405), names in lower case as node:http writes them.
    pub headers: HashMap<String, String>,
}

impl From<CoreReply> for Reply {
    fn from(reply: CoreReply) -> Self {
        let headers = reply
            .headers()
            .iter()
            .map(|(name, value)| (name.to_ascii_lowercase(), (*value).to_owned()))
            .collect();
        let error = reply.error.as_ref();
        Self {
            status: u32::from(reply.status),
            body: Buffer::from(reply.body),
            code: error.map(|e| e.code().to_owned()),
            family: error.map(|e| e.family().as_str().to_owned()),
            error_code: error.map(CallbackError::error_code),
            message: error.map(ToString::to_string),
            headers,
        }
    }
}

/// Core's answer bytes for hand-made decisions: `codes[i]` 0 allows
/// `accounts[i]`, 38000..=39000 rejects it with `infos[i]`.
#[napi]
pub fn answer_bytes(
    accounts: Vec<String>,
    codes: Vec<i32>,
    infos: Vec<String>,
) -> napi::Result<Buffer> {
    let mut response = Response::ok();
    for ((account, code), info) in accounts.into_iter().zip(codes).zip(infos) {
        let decision = match code {
            0 => Decision::Allow,
            code => Decision::reject(i64::from(code), info).or_throw()?,
        };
        response.push_decision(account, decision);
    }
    Ok(Buffer::from(response.to_bytes()))
}

/// Core's `FAIL` answer bytes with `code` in [38000, 39000].
#[napi]
pub fn fail_bytes(code: f64, info: String) -> napi::Result<Buffer> {
    let code = ResultCode::new(code as i64).or_throw()?;
    Ok(Buffer::from(Response::fail(code, info).to_bytes()))
}

/// The FAIL reply an HTTP host sends around `handle`: `method_not_allowed`
/// (detail: the method), `request_timeout` (detail: ms), `overloaded`,
/// `body_incomplete` (detail: the reason).
#[napi]
pub fn refusal(code: String, detail: Option<String>) -> napi::Result<Reply> {
    let error = CallbackError::transport_refusal(&code, detail.as_deref().unwrap_or(""))
        .map_err(|reason| napi::Error::new(napi::Status::InvalidArg, reason))?;
    Ok(CoreReply::from_error(error).into())
}

/// Core's 200 "processed, go on" reply for a callback of another command
/// that nobody decides.
#[napi]
pub fn processed() -> Reply {
    CoreReply::processed().into()
}
