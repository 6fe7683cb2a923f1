//! The one error type of the callback flow.
//!
//! Every variant has a stable snake_case [`code`](CallbackError::code), an HTTP
//! [`status`](CallbackError::http_status), a platform
//! [`error_code`](CallbackError::error_code) in `[38000, 39000]` and a message
//! (its `Display`) that says what was wrong and where. Bindings surface these
//! four values as they are; none of them is ever re-derived outside this file.

use thiserror::Error;

/// Every [`CallbackError::code`], for bindings and conformance runners.
pub const ERROR_CODES: &[&str] = &[
    "missing_parameter",
    "invalid_parameter",
    "duplicate_parameter",
    "unsupported_content_type",
    "unexpected_command",
    "foreign_app_id",
    "missing_signature",
    "bad_signature",
    "request_time_too_old",
    "request_time_in_future",
    "body_too_large",
    "invalid_utf8",
    "malformed_json",
    "duplicate_key",
    "missing_field",
    "wrong_type",
    "too_deep",
    "too_many_items",
    "field_too_long",
    "command_mismatch",
    "invalid_result_code",
    "decider_failed",
    "method_not_allowed",
    "request_timeout",
    "overloaded",
    "body_incomplete",
];

/// Longest piece of caller-supplied text quoted back in a message.
const QUOTE_LIMIT: usize = 64;

/// Why a callback could not be answered with `ActionStatus: "OK"`.
///
/// Messages never contain a token, a Sign, or the expected value of either.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CallbackError {
    /// A required query parameter is absent.
    #[error("query parameter `{name}` is missing")]
    MissingParameter {
        /// The parameter, spelled as on the wire.
        name: &'static str,
    },
    /// A query parameter has a value of the wrong form.
    #[error("query parameter `{name}` is invalid: {reason}")]
    InvalidParameter {
        /// The parameter, spelled as on the wire.
        name: &'static str,
        /// What was expected.
        reason: &'static str,
    },
    /// A query parameter friendgate reads appears more than once.
    #[error("query parameter `{name}` appears more than once")]
    DuplicateParameter {
        /// The parameter, spelled as on the wire.
        name: &'static str,
    },
    /// `contenttype` is not `json`.
    #[error("query parameter `contenttype` must be `json`, got `{got}`")]
    UnsupportedContentType {
        /// The value received (shortened).
        got: String,
    },
    /// The query's `CallbackCommand` is not this callback.
    #[error(
        "query parameter `CallbackCommand` must be `Sns.CallbackPrevFriendResponse`, got `{got}`"
    )]
    UnexpectedCommand {
        /// The value received (shortened).
        got: String,
    },
    /// `SdkAppid` is not one of the configured app ids.
    #[error("SdkAppid is not accepted by this endpoint")]
    ForeignAppId {
        /// The app id received (for logs; not in the message).
        app_id: u64,
    },
    /// Authentication is on and `Sign` or `RequestTime` is absent.
    #[error("query parameter `{name}` is required: callback authentication is on")]
    MissingSignature {
        /// `Sign` or `RequestTime`.
        name: &'static str,
    },
    /// `Sign` does not match any configured token.
    #[error("Sign does not match")]
    BadSignature,
    /// `RequestTime` is older than the window allows.
    #[error("RequestTime is older than the accepted window")]
    RequestTimeTooOld {
        /// How many seconds old the request is.
        age_seconds: u64,
        /// The configured window.
        window_seconds: u64,
    },
    /// `RequestTime` is further in the future than the window allows.
    #[error("RequestTime is further in the future than the accepted window")]
    RequestTimeInFuture {
        /// How many seconds ahead the request is.
        ahead_seconds: u64,
        /// The configured window.
        window_seconds: u64,
    },
    /// The body is larger than the configured limit.
    #[error("body is {size} bytes, over the limit of {limit}")]
    BodyTooLarge {
        /// Body size in bytes.
        size: usize,
        /// The configured limit in bytes.
        limit: usize,
    },
    /// The body is not UTF-8.
    #[error("body is not valid UTF-8 at byte {offset}")]
    InvalidUtf8 {
        /// Offset of the first invalid byte.
        offset: usize,
    },
    /// The body is not JSON.
    #[error("body is not valid JSON: {detail} at line {line} column {column}")]
    MalformedJson {
        /// The parser's description.
        detail: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// A JSON object has the same key twice.
    #[error("duplicate key `{key}` in {path}")]
    DuplicateKey {
        /// Path of the object, e.g. `$.ResponseFriendItem[0]`.
        path: String,
        /// The repeated key (shortened).
        key: String,
    },
    /// A required field is absent.
    #[error("missing field {path}")]
    MissingField {
        /// Path of the field, e.g. `$.ResponseFriendItem[1].To_Account`.
        path: String,
    },
    /// A field has the wrong JSON type.
    #[error("{path} must be {expected}, found {found}")]
    WrongType {
        /// Path of the value.
        path: String,
        /// The type expected.
        expected: &'static str,
        /// The type found.
        found: &'static str,
    },
    /// The body nests arrays or objects deeper than the configured limit.
    #[error("body nests deeper than {limit} levels at {path}")]
    TooDeep {
        /// Path of the value that went too deep.
        path: String,
        /// The configured limit.
        limit: usize,
    },
    /// `ResponseFriendItem` has more items than the configured limit.
    #[error("$.ResponseFriendItem has more than {limit} items")]
    TooManyItems {
        /// The configured limit.
        limit: usize,
    },
    /// A string field is longer (in UTF-8 bytes) than its limit.
    #[error("{path} is {len} bytes, over the limit of {limit}")]
    FieldTooLong {
        /// Path of the field.
        path: String,
        /// Its length in bytes.
        len: usize,
        /// The configured limit in bytes.
        limit: usize,
    },
    /// The body's `CallbackCommand` differs from the query's.
    #[error(
        "$.CallbackCommand must be `Sns.CallbackPrevFriendResponse` like the query's, got `{got}`"
    )]
    CommandMismatch {
        /// The body's value (shortened).
        got: String,
    },
    /// A result or error code outside `[38000, 39000]` was asked for.
    #[error("result code {code} is outside [38000, 39000]")]
    InvalidResultCode {
        /// The code asked for.
        code: i64,
    },
    /// The decider failed and the policy is to fail the whole callback.
    #[error("decision for item {index} failed: {reason}")]
    DeciderFailed {
        /// Index of the item whose decision failed.
        index: usize,
        /// Why it failed.
        reason: String,
    },
    /// An HTTP host received the callback with a method other than POST.
    #[error("method {method} is not allowed: the callback is a POST")]
    MethodNotAllowed {
        /// The method received (shortened).
        method: String,
    },
    /// An HTTP host did not receive and answer the callback within its deadline.
    #[error("callback not received and answered within {millis} ms")]
    RequestTimeout {
        /// The deadline.
        millis: u64,
    },
    /// An HTTP host has too many callbacks in flight to take another.
    #[error("too many callbacks in flight; try again")]
    Overloaded,
    /// An HTTP host could not read the whole body (the client stopped sending).
    #[error("body could not be read to its end: {reason}")]
    BodyIncomplete {
        /// What the HTTP layer said.
        reason: String,
    },
}

/// The broad kind of an error, for bindings that map errors onto a class
/// hierarchy (Python) or for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorFamily {
    /// The query string is malformed or names another callback.
    Query,
    /// The app id is not ours.
    AppId,
    /// Sign or RequestTime are missing, wrong or out of the window.
    Signature,
    /// The body is not a well-formed callback body.
    Body,
    /// A configured size limit was exceeded.
    Limit,
    /// A decision could not be made or was invalid.
    Decision,
    /// The HTTP exchange around the callback failed (method, deadline, load);
    /// raised by HTTP hosts, never by `handle`.
    Transport,
}

impl ErrorFamily {
    /// Stable snake_case name of the family.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Query => "query",
            Self::AppId => "app_id",
            Self::Signature => "signature",
            Self::Body => "body",
            Self::Limit => "limit",
            Self::Decision => "decision",
            Self::Transport => "transport",
        }
    }
}

impl CallbackError {
    /// Stable snake_case identifier, the same in every language.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingParameter { .. } => "missing_parameter",
            Self::InvalidParameter { .. } => "invalid_parameter",
            Self::DuplicateParameter { .. } => "duplicate_parameter",
            Self::UnsupportedContentType { .. } => "unsupported_content_type",
            Self::UnexpectedCommand { .. } => "unexpected_command",
            Self::ForeignAppId { .. } => "foreign_app_id",
            Self::MissingSignature { .. } => "missing_signature",
            Self::BadSignature => "bad_signature",
            Self::RequestTimeTooOld { .. } => "request_time_too_old",
            Self::RequestTimeInFuture { .. } => "request_time_in_future",
            Self::BodyTooLarge { .. } => "body_too_large",
            Self::InvalidUtf8 { .. } => "invalid_utf8",
            Self::MalformedJson { .. } => "malformed_json",
            Self::DuplicateKey { .. } => "duplicate_key",
            Self::MissingField { .. } => "missing_field",
            Self::WrongType { .. } => "wrong_type",
            Self::TooDeep { .. } => "too_deep",
            Self::TooManyItems { .. } => "too_many_items",
            Self::FieldTooLong { .. } => "field_too_long",
            Self::CommandMismatch { .. } => "command_mismatch",
            Self::InvalidResultCode { .. } => "invalid_result_code",
            Self::DeciderFailed { .. } => "decider_failed",
            Self::MethodNotAllowed { .. } => "method_not_allowed",
            Self::RequestTimeout { .. } => "request_timeout",
            Self::Overloaded => "overloaded",
            Self::BodyIncomplete { .. } => "body_incomplete",
        }
    }

    /// Platform `ErrorCode` for the `FAIL` answer, in `[38000, 39000]`.
    pub fn error_code(&self) -> u32 {
        match self {
            Self::MissingParameter { .. } => 38001,
            Self::InvalidParameter { .. } => 38002,
            Self::DuplicateParameter { .. } => 38003,
            Self::UnsupportedContentType { .. } => 38004,
            Self::UnexpectedCommand { .. } => 38005,
            Self::ForeignAppId { .. } => 38010,
            Self::MissingSignature { .. } => 38011,
            Self::BadSignature => 38012,
            Self::RequestTimeTooOld { .. } => 38013,
            Self::RequestTimeInFuture { .. } => 38014,
            Self::BodyTooLarge { .. } => 38020,
            Self::InvalidUtf8 { .. } => 38021,
            Self::MalformedJson { .. } => 38022,
            Self::DuplicateKey { .. } => 38023,
            Self::MissingField { .. } => 38024,
            Self::WrongType { .. } => 38025,
            Self::TooDeep { .. } => 38026,
            Self::TooManyItems { .. } => 38027,
            Self::FieldTooLong { .. } => 38028,
            Self::CommandMismatch { .. } => 38029,
            Self::InvalidResultCode { .. } => 38030,
            Self::DeciderFailed { .. } => 38031,
            Self::MethodNotAllowed { .. } => 38040,
            Self::RequestTimeout { .. } => 38041,
            Self::Overloaded => 38042,
            Self::BodyIncomplete { .. } => 38043,
        }
    }

    /// HTTP status of the `FAIL` answer.
    pub fn http_status(&self) -> u16 {
        match self {
            Self::UnsupportedContentType { .. } => 415,
            Self::ForeignAppId { .. } => 403,
            Self::MissingSignature { .. }
            | Self::BadSignature
            | Self::RequestTimeTooOld { .. }
            | Self::RequestTimeInFuture { .. } => 401,
            Self::BodyTooLarge { .. } | Self::TooManyItems { .. } => 413,
            Self::InvalidResultCode { .. } | Self::DeciderFailed { .. } => 500,
            Self::MethodNotAllowed { .. } => 405,
            Self::RequestTimeout { .. } => 408,
            Self::Overloaded => 503,
            Self::BodyIncomplete { .. } => 400,
            Self::MissingParameter { .. }
            | Self::InvalidParameter { .. }
            | Self::DuplicateParameter { .. }
            | Self::UnexpectedCommand { .. }
            | Self::InvalidUtf8 { .. }
            | Self::MalformedJson { .. }
            | Self::DuplicateKey { .. }
            | Self::MissingField { .. }
            | Self::WrongType { .. }
            | Self::TooDeep { .. }
            | Self::FieldTooLong { .. }
            | Self::CommandMismatch { .. } => 400,
        }
    }

    /// The transport refusal named `code` (`method_not_allowed` with the
    /// method as `detail`, `request_timeout` with the deadline in ms,
    /// `overloaded`, `body_incomplete` with the reason), for HTTP hosts in
    /// other languages; None for any other name.
    pub fn transport(code: &str, detail: &str) -> Option<Self> {
        Some(match code {
            "method_not_allowed" => Self::MethodNotAllowed {
                method: detail.chars().take(16).collect(),
            },
            "request_timeout" => Self::RequestTimeout {
                millis: detail.parse().unwrap_or(0),
            },
            "overloaded" => Self::Overloaded,
            "body_incomplete" => Self::BodyIncomplete {
                reason: quote(detail),
            },
            _ => return None,
        })
    }

    /// The broad kind of this error.
    pub fn family(&self) -> ErrorFamily {
        match self {
            Self::MissingParameter { .. }
            | Self::InvalidParameter { .. }
            | Self::DuplicateParameter { .. }
            | Self::UnsupportedContentType { .. }
            | Self::UnexpectedCommand { .. } => ErrorFamily::Query,
            Self::ForeignAppId { .. } => ErrorFamily::AppId,
            Self::MissingSignature { .. }
            | Self::BadSignature
            | Self::RequestTimeTooOld { .. }
            | Self::RequestTimeInFuture { .. } => ErrorFamily::Signature,
            Self::BodyTooLarge { .. } | Self::TooManyItems { .. } | Self::FieldTooLong { .. } => {
                ErrorFamily::Limit
            }
            Self::InvalidUtf8 { .. }
            | Self::MalformedJson { .. }
            | Self::DuplicateKey { .. }
            | Self::MissingField { .. }
            | Self::WrongType { .. }
            | Self::TooDeep { .. }
            | Self::CommandMismatch { .. } => ErrorFamily::Body,
            Self::InvalidResultCode { .. } | Self::DeciderFailed { .. } => ErrorFamily::Decision,
            Self::MethodNotAllowed { .. }
            | Self::RequestTimeout { .. }
            | Self::Overloaded
            | Self::BodyIncomplete { .. } => ErrorFamily::Transport,
        }
    }
}

/// Shortens caller-supplied text before it is quoted in a message, so that an
/// error never carries an unbounded copy of the input.
/// Caller-supplied text as quoted in a message: at most [`QUOTE_LIMIT`]
/// bytes, with control characters escaped (`\n`, `\u{1b}`), so that a message
/// can never break a log line or drive a terminal.
pub(crate) fn quote(text: &str) -> String {
    let mut end = text.len().min(QUOTE_LIMIT);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let mut quoted = String::with_capacity(end + 3);
    for c in text[..end].chars() {
        if c.is_control() {
            quoted.extend(c.escape_default());
        } else {
            quoted.push(c);
        }
    }
    if end < text.len() {
        quoted.push_str("...");
    }
    quoted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_cuts_on_a_char_boundary() {
        let long = "é".repeat(40); // 80 bytes
        let quoted = quote(&long);
        assert!(quoted.ends_with("..."));
        assert_eq!(quoted.len(), 64 + 3);
        assert_eq!(quote("short"), "short");
    }

    #[test]
    fn quote_escapes_control_characters() {
        assert_eq!(quote("x\nfake line\u{1b}[31m"), "x\\nfake line\\u{1b}[31m");
        assert_eq!(quote("tab\there"), "tab\\there");
        assert_eq!(quote("好"), "好");
    }

    #[test]
    fn transport_refusals_by_name() {
        let error = CallbackError::transport("method_not_allowed", "GET").unwrap();
        assert_eq!(
            error.to_string(),
            "method GET is not allowed: the callback is a POST"
        );
        assert_eq!(error.http_status(), 405);
        assert_eq!(
            CallbackError::transport("request_timeout", "1500")
                .unwrap()
                .http_status(),
            408
        );
        assert_eq!(
            CallbackError::transport("overloaded", "").unwrap().code(),
            "overloaded"
        );
        assert_eq!(CallbackError::transport("bad_signature", ""), None);
    }

    #[test]
    fn every_error_code_is_in_the_platform_range() {
        let samples = [
            CallbackError::BadSignature,
            CallbackError::ForeignAppId { app_id: 1 },
            CallbackError::DeciderFailed {
                index: 0,
                reason: String::new(),
            },
        ];
        for error in samples {
            assert!((38000..=39000).contains(&error.error_code()));
        }
    }
}
