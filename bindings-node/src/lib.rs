//! The native module of the `friendgate` npm package: a thin skin over
//! friendgate-core. Every check, limit, error and answer byte is core's; the
//! JavaScript layer (`lib/`) adds idioms (options objects, Promises, Error
//! classes, adapters).
//!
//! Crossing the boundary is the cost to engineer down, so a callback takes
//! two calls: `begin` (verify; the event comes back as JSON text, which V8
//! parses faster than N-API can build objects) and `finish` (the decisions as
//! parallel arrays; core applies the failure policy and writes the answer).

// napi-rs's macros expand to `unsafe` N-API glue inside this crate.
#![allow(unsafe_code)]

use friendgate_core::{
    respond, testing, unix_now, verify, CallbackError, Config, DeciderError, Decision,
    FailurePolicySpec, FriendResponseCallback, LimitOverrides, Limits, Reply as CoreReply,
    Response, ResultCode, Token,
};
use napi::bindgen_prelude::{Buffer, Either};
use napi_derive::napi;
use serde::{Deserialize, Serialize};

/// Outcome code: the decider failed (its message is in `infos`).
const FAILED: i32 = -1;
/// Outcome code: the decider missed the deadline.
const LATE: i32 = -2;

/// Options, as the JavaScript layer serializes them.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Options {
    app_ids: Vec<u64>,
    #[serde(default)]
    tokens: Vec<String>,
    tolerance_seconds: Option<u64>,
    limits: Option<LimitOverrides>,
    on_decider_error: Option<FailurePolicySpec>,
    decider_deadline_ms: Option<u64>,
}

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
}

impl From<CoreReply> for Reply {
    fn from(reply: CoreReply) -> Self {
        let error = reply.error.as_ref();
        Self {
            status: u32::from(reply.status),
            body: Buffer::from(reply.body),
            code: error.map(|e| e.code().to_owned()),
            family: error.map(|e| e.family().as_str().to_owned()),
            error_code: error.map(CallbackError::error_code),
            message: error.map(ToString::to_string),
        }
    }
}

/// A verified callback waiting for its decisions.
#[napi]
pub struct Pending {
    callback: FriendResponseCallback<'static>,
    event: String,
}

#[napi]
impl Pending {
    /// The callback as JSON: sdkAppId, platform, platformKnown, clientIp,
    /// requestTime, requesterAccount, fromAccount, eventTimeMs, items.
    #[napi(getter)]
    pub fn event(&self) -> String {
        self.event.clone()
    }
}

/// The JSON shape of a verified callback.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EventJson<'a> {
    sdk_app_id: u64,
    platform: Option<&'a str>,
    platform_known: bool,
    client_ip: Option<&'a str>,
    request_time: Option<u64>,
    requester_account: &'a str,
    from_account: &'a str,
    event_time_ms: u64,
    items: Vec<ItemJson<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ItemJson<'a> {
    index: usize,
    to_account: &'a str,
    remark: &'a str,
    tag_name: &'a str,
    action: &'a str,
    action_known: bool,
    is_accept: bool,
}

fn event_json(callback: &FriendResponseCallback<'_>) -> String {
    let event = EventJson {
        sdk_app_id: callback.sdk_app_id(),
        platform: callback.platform().map(|p| p.as_str()),
        platform_known: callback.platform().is_some_and(|p| p.is_known()),
        client_ip: callback.client_ip().map(|ip| ip.as_str()),
        request_time: callback.query.request_time.as_ref().map(|t| t.seconds()),
        requester_account: callback.requester_account(),
        from_account: callback.from_account(),
        event_time_ms: callback.event_time_ms(),
        items: callback
            .items()
            .iter()
            .enumerate()
            .map(|(index, item)| ItemJson {
                index,
                to_account: &item.to_account,
                remark: &item.remark,
                tag_name: &item.tag_name,
                action: item.action.as_str(),
                action_known: item.action.is_known(),
                is_accept: item.action.is_accept(),
            })
            .collect(),
    };
    serde_json::to_string(&event).unwrap_or_default()
}

/// A configuration core refuses: a JS Error whose message is JSON
/// `{code, message}` (the JavaScript layer turns it into ConfigurationError).
fn config_error(code: &str, message: String) -> napi::Error {
    let payload = serde_json::json!({ "code": code, "message": message });
    napi::Error::from_reason(payload.to_string())
}

/// Core's configuration for one set of app ids and tokens.
#[napi]
pub struct NativeHandler {
    config: Config,
}

#[napi]
impl NativeHandler {
    /// Builds the configuration from the JSON the JavaScript layer writes.
    #[napi(constructor)]
    pub fn new(options_json: String) -> napi::Result<Self> {
        let options: Options = serde_json::from_str(&options_json)
            .map_err(|e| config_error("invalid_setting", e.to_string()))?;
        let mut builder = Config::builder(0).app_ids(options.app_ids);
        for token in options.tokens {
            builder = builder
                .token(Token::new(token).map_err(|e| config_error(e.code(), e.to_string()))?);
        }
        if let Some(seconds) = options.tolerance_seconds {
            builder = builder.window_seconds(seconds);
        }
        if let Some(limits) = options.limits {
            builder = builder.limits(limits.apply(Limits::default()));
        }
        if let Some(policy) = options.on_decider_error {
            let policy = policy
                .build()
                .map_err(|e| config_error(e.code(), e.to_string()))?;
            builder = builder.on_decider_error(policy);
        }
        if let Some(millis) = options.decider_deadline_ms {
            builder = builder.decider_deadline(std::time::Duration::from_millis(millis));
        }
        let config = builder
            .build()
            .map_err(|e| config_error(e.code(), e.to_string()))?;
        Ok(Self { config })
    }

    /// Milliseconds deciders get for one callback.
    #[napi(getter)]
    pub fn decider_deadline_ms(&self) -> u32 {
        u32::try_from(self.config.decider_deadline().as_millis()).unwrap_or(u32::MAX)
    }

    /// Verifies a callback: a `Pending` to decide, or the refusal `Reply`.
    #[napi]
    pub fn begin(&self, query: String, body: &[u8], now: Option<f64>) -> Either<Pending, Reply> {
        let now = now.map_or_else(unix_now, |n| n as u64);
        match verify(&self.config, &query, body, now) {
            Ok(callback) => {
                let event = event_json(&callback);
                Either::A(Pending {
                    callback: callback.into_owned(),
                    event,
                })
            }
            Err(error) => Either::B(CoreReply::from_error(error).into()),
        }
    }

    /// Answers a pending callback. `codes[i]`: 0 allow, 38000..=39000
    /// reject with `infos[i]`, -1 failed with message `infos[i]`, -2 late.
    /// Missing outcomes count as failed; core's failure policy applies.
    #[napi]
    pub fn finish(&self, pending: &Pending, codes: Vec<i32>, infos: Vec<String>) -> Reply {
        let outcomes = codes.into_iter().zip(infos).map(|(code, info)| match code {
            0 => Ok(Decision::Allow),
            FAILED => Err(DeciderError::new(info)),
            LATE => Err(DeciderError::deadline_exceeded()),
            code => Ok(Decision::reject(i64::from(code), info)?),
        });
        respond(&self.config, &pending.callback, outcomes).into()
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
            code => Decision::reject(i64::from(code), info)
                .map_err(|e| napi::Error::from_reason(e.to_string()))?,
        };
        response.push_decision(account, decision);
    }
    Ok(Buffer::from(response.to_bytes()))
}

/// Core's `FAIL` answer bytes with `code` in [38000, 39000].
#[napi]
pub fn fail_bytes(code: f64, info: String) -> napi::Result<Buffer> {
    let code = ResultCode::new(code as i64).map_err(|e| napi::Error::from_reason(e.to_string()))?;
    Ok(Buffer::from(Response::fail(code, info).to_bytes()))
}

/// Why `code` cannot be a result code (core's message), or null when it can.
#[napi]
pub fn check_result_code(code: f64) -> Option<String> {
    ResultCode::new(code as i64).err().map(|e| e.to_string())
}

/// The FAIL reply an HTTP host sends around `handle`: `method_not_allowed`
/// (detail: the method), `request_timeout` (detail: ms), `overloaded`,
/// `body_incomplete` (detail: the reason).
#[napi]
pub fn refusal(code: String, detail: Option<String>) -> napi::Result<Reply> {
    let detail = detail.unwrap_or_default();
    let error = match code.as_str() {
        "method_not_allowed" => CallbackError::MethodNotAllowed {
            method: detail.chars().take(16).collect(),
        },
        "request_timeout" => CallbackError::RequestTimeout {
            millis: detail.parse().unwrap_or(0),
        },
        "overloaded" => CallbackError::Overloaded,
        "body_incomplete" => CallbackError::BodyIncomplete { reason: detail },
        other => {
            return Err(napi::Error::from_reason(format!(
                "{other} is not a transport refusal"
            )))
        }
    };
    Ok(CoreReply::from_error(error).into())
}

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
) -> String {
    let mut builder = testing::QueryBuilder::new(app_id as u64)
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

/// Every error code of core.
#[napi]
pub fn error_codes() -> Vec<String> {
    friendgate_core::error::ERROR_CODES
        .iter()
        .map(|c| (*c).to_owned())
        .collect()
}
