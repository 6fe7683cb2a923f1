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
    respond, testing, unix_now, verify, CallbackError, Config, ConfigSpec, DeciderError, Decision,
    FriendResponseCallback, Reply as CoreReply, Response, ResultCode,
};
use std::sync::{Arc, Mutex};

use napi::bindgen_prelude::{AsyncTask, Buffer, Int32Array};
use napi::{Env, Task};
use napi_derive::napi;
use serde::Serialize;

/// Outcome code: the decider failed (its message is in `infos`).
const FAILED: i32 = -1;
/// Outcome code: the decider missed the deadline.
const LATE: i32 = -2;

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

/// The request's own query and body, which the parsed callback borrows.
struct Request {
    query: String,
    body: Vec<u8>,
}

type Borrowed<'a> = FriendResponseCallback<'a>;

self_cell::self_cell!(
    /// A verified callback kept with the buffers it borrows from, so that
    /// keeping it between `begin` and `finish` copies one buffer instead of
    /// every string of the callback.
    struct Kept {
        owner: Request,
        #[covariant]
        dependent: Borrowed,
    }
);

/// Verified callbacks waiting for their decisions, by slot number. The
/// JavaScript layer always ends a slot with `finish` or `discard`.
#[derive(Default)]
struct Slots {
    entries: Vec<Option<Kept>>,
    free: Vec<u32>,
}

impl Slots {
    fn insert(&mut self, callback: Kept) -> u32 {
        match self.free.pop() {
            Some(slot) => {
                self.entries[slot as usize] = Some(callback);
                slot
            }
            None => {
                self.entries.push(Some(callback));
                u32::try_from(self.entries.len() - 1).unwrap_or(u32::MAX)
            }
        }
    }

    fn take(&mut self, slot: u32) -> Option<Kept> {
        let callback = self.entries.get_mut(slot as usize)?.take()?;
        self.free.push(slot);
        Some(callback)
    }
}

/// The event as the JavaScript layer reads it, built for a cheap crossing
/// (V8's JSON.parse of the event cost more than all of core's work):
/// `slot:` then comma-separated integers ending in `;`, then the strings
/// back to back. The integers: item count, SdkAppid, EventTime (ms),
/// RequestTime (-1 when absent), platform known (0/1), platform present,
/// ClientIP present, then per item `action known`, `is accept`, then the
/// UTF-16 length of every string in order: platform, ClientIP,
/// Requester_Account, From_Account, and per item To_Account, Remark,
/// TagName, ResponseAction.
fn event_wire(slot: u32, callback: &FriendResponseCallback<'_>) -> String {
    let items = callback.items();
    let platform = callback.platform().map(|p| p.as_str());
    let client_ip = callback.client_ip().map(|ip| ip.as_str());
    let mut strings: Vec<&str> = Vec::with_capacity(4 + 4 * items.len());
    strings.extend([
        platform.unwrap_or(""),
        client_ip.unwrap_or(""),
        callback.requester_account(),
        callback.from_account(),
    ]);
    for item in items {
        strings.extend([
            &*item.to_account,
            &*item.remark,
            &*item.tag_name,
            item.action.as_str(),
        ]);
    }
    let text_len: usize = strings.iter().map(|s| s.len()).sum();
    let mut out = String::with_capacity(64 + 8 * strings.len() + text_len);
    let mut buffer = itoa::Buffer::new();
    let mut number = |out: &mut String, value: i64| {
        out.push_str(buffer.format(value));
        out.push(',');
    };
    out.push_str(itoa::Buffer::new().format(slot));
    out.push(':');
    number(&mut out, items.len() as i64);
    number(&mut out, callback.sdk_app_id() as i64);
    number(&mut out, callback.event_time_ms() as i64);
    number(
        &mut out,
        callback
            .query
            .request_time
            .as_ref()
            .map_or(-1, |t| t.seconds() as i64),
    );
    number(
        &mut out,
        i64::from(callback.platform().is_some_and(|p| p.is_known())),
    );
    number(&mut out, i64::from(platform.is_some()));
    number(&mut out, i64::from(client_ip.is_some()));
    for item in items {
        number(&mut out, i64::from(item.action.is_known()));
        number(&mut out, i64::from(item.action.is_accept()));
    }
    for text in &strings {
        let units = if text.is_ascii() {
            text.len()
        } else {
            text.encode_utf16().count()
        };
        number(&mut out, units as i64);
    }
    out.pop();
    out.push(';');
    for text in strings {
        out.push_str(text);
    }
    out
}

/// Verifies a request and keeps it in a slot (see `NativeHandler::begin`).
fn begin(
    config: &Config,
    slots: &Mutex<Slots>,
    query: String,
    body: Vec<u8>,
    now: Option<f64>,
) -> String {
    let now = now.map_or_else(unix_now, |n| n as u64);
    let kept = Kept::try_new(Request { query, body }, |request| {
        verify(config, &request.query, &request.body, now)
    });
    match kept {
        Ok(kept) => match slots.lock() {
            Ok(mut slots) => {
                let slot = slots
                    .free
                    .last()
                    .copied()
                    .unwrap_or(slots.entries.len() as u32);
                let wire = event_wire(slot, kept.borrow_dependent());
                slots.insert(kept);
                wire
            }
            Err(_) => String::new(),
        },
        Err(error) => refusal_text(&CoreReply::from_error(error)),
    }
}

/// `begin` run off the event loop.
pub struct BeginTask {
    config: Arc<Config>,
    slots: Arc<Mutex<Slots>>,
    work: Option<(String, Vec<u8>, Option<f64>)>,
}

impl Task for BeginTask {
    type Output = String;
    type JsValue = String;

    fn compute(&mut self) -> napi::Result<String> {
        let (query, body, now) = self.work.take().unwrap_or_default();
        Ok(begin(&self.config, &self.slots, query, body, now))
    }

    fn resolve(&mut self, _env: Env, output: String) -> napi::Result<String> {
        Ok(output)
    }
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
    config: Arc<Config>,
    slots: Arc<Mutex<Slots>>,
}

/// A refusal as the JavaScript layer reads it (`!` + this JSON).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RefusalJson<'a> {
    status: u16,
    code: &'a str,
    family: &'a str,
    error_code: u32,
    message: String,
    body: &'a str,
}

fn refusal_text(reply: &CoreReply) -> String {
    let Some(error) = reply.error.as_ref() else {
        return String::new();
    };
    let refusal = RefusalJson {
        status: reply.status,
        code: error.code(),
        family: error.family().as_str(),
        error_code: error.error_code(),
        message: error.to_string(),
        body: std::str::from_utf8(&reply.body).unwrap_or(""),
    };
    format!("!{}", serde_json::to_string(&refusal).unwrap_or_default())
}

#[napi]
impl NativeHandler {
    /// Builds the configuration from the JSON the JavaScript layer writes.
    #[napi(constructor)]
    pub fn new(options_json: String) -> napi::Result<Self> {
        let config = ConfigSpec::from_json(&options_json)
            .and_then(ConfigSpec::build)
            .map_err(|e| config_error(e.code(), e.to_string()))?;
        Ok(Self {
            config: Arc::new(config),
            slots: Arc::new(Mutex::new(Slots::default())),
        })
    }

    /// Milliseconds deciders get for one callback.
    #[napi(getter)]
    pub fn decider_deadline_ms(&self) -> u32 {
        u32::try_from(self.config.decider_deadline().as_millis()).unwrap_or(u32::MAX)
    }

    /// Verifies a callback. Returns `slot:` + the event (see `event_wire`;
    /// the slot is to `finish` or `discard`), or `!` + the refusal as JSON.
    #[napi]
    pub fn begin(&self, query: String, body: &[u8], now: Option<f64>) -> String {
        begin(&self.config, &self.slots, query, body.to_vec(), now)
    }

    /// `begin` on libuv's thread pool, for large bodies, so that parsing
    /// never holds the event loop.
    #[napi]
    pub fn begin_async(
        &self,
        query: String,
        body: &[u8],
        now: Option<f64>,
    ) -> AsyncTask<BeginTask> {
        AsyncTask::new(BeginTask {
            config: Arc::clone(&self.config),
            slots: Arc::clone(&self.slots),
            work: Some((query, body.to_vec(), now)),
        })
    }

    /// Answers the callback in `slot` from the first `count` outcomes (the
    /// array is reused between calls). `codes[i]`: 0 allow, 38000..=39000
    /// reject with `infos[i]`, -1 failed with message `infos[i]`, -2 late;
    /// `infos` may be omitted when every code is 0. Core's failure policy
    /// applies. Returns the answer (JSON text), or `!` + the refusal as JSON
    /// when the policy fails the callback.
    #[napi]
    pub fn finish(
        &self,
        slot: u32,
        codes: Int32Array,
        count: u32,
        infos: Option<Vec<String>>,
    ) -> String {
        let Some(callback) = self
            .slots
            .lock()
            .ok()
            .and_then(|mut slots| slots.take(slot))
        else {
            let error = CallbackError::DeciderFailed {
                index: 0,
                reason: "unknown slot".to_owned(),
            };
            return refusal_text(&CoreReply::from_error(error));
        };
        let mut infos = infos.unwrap_or_default().into_iter();
        let outcomes = codes.iter().take(count as usize).map(|&code| {
            let info = infos.next().unwrap_or_default();
            match code {
                0 => Ok(Decision::Allow),
                FAILED => Err(DeciderError::new(info)),
                LATE => Err(DeciderError::deadline_exceeded()),
                code => Ok(Decision::reject(i64::from(code), info)?),
            }
        });
        let reply = respond(&self.config, callback.borrow_dependent(), outcomes);
        // A string crosses faster than an external Buffer; core's answer is
        // UTF-8 JSON, which never starts with `!`.
        if reply.error.is_some() {
            refusal_text(&reply)
        } else {
            String::from_utf8(reply.body).unwrap_or_default()
        }
    }

    /// Frees `slot` without answering (the JavaScript side failed).
    #[napi]
    pub fn discard(&self, slot: u32) {
        if let Ok(mut slots) = self.slots.lock() {
            slots.take(slot);
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

/// One row of core's error catalogue.
#[napi(object)]
pub struct ErrorEntry {
    /// Stable snake_case code.
    pub code: String,
    /// Platform ErrorCode of the FAIL answer.
    pub error_code: u32,
    /// HTTP status of the FAIL answer.
    pub http_status: u32,
    /// The family (`signature`, `body`, ...).
    pub family: String,
}

/// Core's error catalogue, read once when the module loads, so that the
/// JavaScript layer states no code, status or ErrorCode of its own.
#[napi]
pub fn error_catalogue() -> Vec<ErrorEntry> {
    friendgate_core::CATALOGUE
        .iter()
        .map(|entry| ErrorEntry {
            code: entry.code.to_owned(),
            error_code: entry.error_code,
            http_status: u32::from(entry.http_status),
            family: entry.family.as_str().to_owned(),
        })
        .collect()
}

/// Core's line reporting a failed decision of item `index`.
#[napi]
pub fn failure_report(index: u32, to_account: String, reason: String) -> String {
    DeciderError::new(reason).report(index as usize, &to_account)
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
    let error = CallbackError::transport(&code, detail.as_deref().unwrap_or(""))
        .ok_or_else(|| napi::Error::from_reason(format!("{code} is not a transport refusal")))?;
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
