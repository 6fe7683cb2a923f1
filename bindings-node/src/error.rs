//! Core's errors as the JavaScript layer reads them: one extension trait on
//! core's results, and the `!`-prefixed refusal text `begin`/`finish` return.

use friendgate_core::{CallbackError, ConfigError, Reply as CoreReply};
use serde::Serialize;

/// Turns core's errors into N-API errors: `result.or_throw()?`.
pub(crate) trait NapiErrorExt<T> {
    /// The value, or core's error as a JS Error the JavaScript layer maps to
    /// its classes.
    fn or_throw(self) -> napi::Result<T>;
}

impl<T> NapiErrorExt<T> for Result<T, CallbackError> {
    /// A JS Error whose message is core's message (the JavaScript layer
    /// builds the family class from the catalogue when it needs one).
    fn or_throw(self) -> napi::Result<T> {
        self.map_err(|error| napi::Error::from_reason(error.to_string()))
    }
}

impl<T> NapiErrorExt<T> for Result<T, ConfigError> {
    /// A JS Error whose message is JSON `{code, message}` (the JavaScript
    /// layer turns it into `ConfigurationError`).
    fn or_throw(self) -> napi::Result<T> {
        self.map_err(|error| {
            let payload = serde_json::json!({ "code": error.code(), "message": error.to_string() });
            napi::Error::from_reason(payload.to_string())
        })
    }
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

/// `!` + the refusal as JSON, or empty text for a reply that is no refusal.
pub(crate) fn refusal_text(reply: &CoreReply) -> String {
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

/// One row of core's error catalogue.
#[napi_derive::napi(object)]
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
#[napi_derive::napi]
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

/// Every error code of core.
#[napi_derive::napi]
pub fn error_codes() -> Vec<String> {
    friendgate_core::error::ERROR_CODES
        .iter()
        .map(|c| (*c).to_owned())
        .collect()
}
