//! The one error type of the callback flow.
//!
//! Every variant has a stable snake_case [`code`](CallbackError::code), an HTTP
//! [`status`](CallbackError::http_status), a platform
//! [`error_code`](CallbackError::error_code) in `[38000, 39000]` and a message
//! (its `Display`) that says what was wrong and where. Bindings surface these
//! four values as they are; none of them is ever re-derived outside this file.

use thiserror::Error;

/// Longest piece of caller-supplied text quoted back in a message.
const QUOTE_LIMIT: usize = 64;

/// One row of the error catalogue: everything about an error but its
/// fields, the same in every language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorEntry {
    /// Stable snake_case identifier ([`CallbackError::code`]).
    pub code: &'static str,
    /// Platform `ErrorCode` of the `FAIL` answer, in `[38000, 39000]`.
    pub error_code: u32,
    /// HTTP status of the `FAIL` answer.
    pub http_status: u16,
    /// The broad kind.
    pub family: ErrorFamily,
    /// The message, with `{field}` where a field's value goes.
    pub message: &'static str,
}

/// Declares [`CallbackError`] from one table: per variant, its doc, fields,
/// code, platform `ErrorCode`, HTTP status, family and message template.
/// The enum, its `Display` (thiserror), [`CallbackError::entry`] (and so
/// `code`, `error_code`, `http_status`, `family`), [`ERROR_CODES`] and
/// [`CATALOGUE`] all come from it, so they cannot disagree.
macro_rules! catalogue {
    ($(
        $(#[$doc:meta])*
        $variant:ident $({ $($fields:tt)* })?
            => $code:literal, $error_code:literal, $status:literal, $family:ident, $message:literal;
    )*) => {
        /// Why a callback could not be answered with `ActionStatus: "OK"`.
        ///
        /// Messages never contain a token, a Sign, or the expected value of either.
        #[derive(Debug, Clone, PartialEq, Eq, Error)]
        #[non_exhaustive]
        pub enum CallbackError {
            $(
                $(#[$doc])*
                #[error($message)]
                $variant $({ $($fields)* })?,
            )*
        }

        /// Every error's row, in catalogue order.
        pub const CATALOGUE: &[ErrorEntry] = &[$(ErrorEntry {
            code: $code,
            error_code: $error_code,
            http_status: $status,
            family: ErrorFamily::$family,
            message: $message,
        }),*];

        /// Every [`CallbackError::code`], for bindings and conformance runners.
        pub const ERROR_CODES: &[&str] = &[$($code),*];

        impl CallbackError {
            /// This error's row of the [`CATALOGUE`].
            pub fn entry(&self) -> &'static ErrorEntry {
                match self {
                    $(Self::$variant { .. } => &ErrorEntry {
                        code: $code,
                        error_code: $error_code,
                        http_status: $status,
                        family: ErrorFamily::$family,
                        message: $message,
                    },)*
                }
            }
        }
    };
}

catalogue! {

    /// A required query parameter is absent.
    MissingParameter {
        /// The parameter, spelled as on the wire.
        name: &'static str,
    } => "missing_parameter", 38001, 400, Query, "query parameter `{name}` is missing";

    /// A query parameter has a value of the wrong form.
    InvalidParameter {
        /// The parameter, spelled as on the wire.
        name: &'static str,
        /// What was expected.
        reason: &'static str,
    } => "invalid_parameter", 38002, 400, Query, "query parameter `{name}` is invalid: {reason}";

    /// A query parameter friendgate reads appears more than once.
    DuplicateParameter {
        /// The parameter, spelled as on the wire.
        name: &'static str,
    } => "duplicate_parameter", 38003, 400, Query, "query parameter `{name}` appears more than once";

    /// `contenttype` is not `json`.
    UnsupportedContentType {
        /// The value received (shortened).
        got: String,
    } => "unsupported_content_type", 38004, 415, Query, "query parameter `contenttype` must be `json`, got `{got}`";

    /// The query's `CallbackCommand` is not this callback.
    UnexpectedCommand {
        /// The command the entry point answers.
        expected: &'static str,
        /// The value received (shortened).
        got: String,
    } => "unexpected_command", 38005, 400, Query, "query parameter `CallbackCommand` must be `{expected}`, got `{got}`";

    /// `SdkAppid` is not one of the configured app ids.
    ForeignAppId {
        /// The app id received (for logs; not in the message).
        app_id: u64,
    } => "foreign_app_id", 38010, 403, AppId, "SdkAppid is not accepted by this endpoint";

    /// Authentication is on and `Sign` or `RequestTime` is absent.
    MissingSignature {
        /// `Sign` or `RequestTime`.
        name: &'static str,
    } => "missing_signature", 38011, 401, Signature, "query parameter `{name}` is required: callback authentication is on";

    /// `Sign` does not match any configured token.
    BadSignature => "bad_signature", 38012, 401, Signature, "Sign does not match";

    /// `RequestTime` is older than the window allows.
    RequestTimeTooOld {
        /// How many seconds old the request is.
        age_seconds: u64,
        /// The configured window.
        window_seconds: u64,
    } => "request_time_too_old", 38013, 401, Signature, "RequestTime is older than the accepted window";

    /// `RequestTime` is further in the future than the window allows.
    RequestTimeInFuture {
        /// How many seconds ahead the request is.
        ahead_seconds: u64,
        /// The configured window.
        window_seconds: u64,
    } => "request_time_in_future", 38014, 401, Signature, "RequestTime is further in the future than the accepted window";

    /// The body is larger than the configured limit.
    BodyTooLarge {
        /// Body size in bytes.
        size: usize,
        /// The configured limit in bytes.
        limit: usize,
    } => "body_too_large", 38020, 413, Limit, "body is {size} bytes, over the limit of {limit}";

    /// The body is not UTF-8.
    InvalidUtf8 {
        /// Offset of the first invalid byte.
        offset: usize,
    } => "invalid_utf8", 38021, 400, Body, "body is not valid UTF-8 at byte {offset}";

    /// The body is not JSON.
    MalformedJson {
        /// The parser's description.
        detail: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    } => "malformed_json", 38022, 400, Body, "body is not valid JSON: {detail} at line {line} column {column}";

    /// A JSON object has the same key twice.
    DuplicateKey {
        /// Path of the object, e.g. `$.ResponseFriendItem[0]`.
        path: String,
        /// The repeated key (shortened).
        key: String,
    } => "duplicate_key", 38023, 400, Body, "duplicate key `{key}` in {path}";

    /// A required field is absent.
    MissingField {
        /// Path of the field, e.g. `$.ResponseFriendItem[1].To_Account`.
        path: String,
    } => "missing_field", 38024, 400, Body, "missing field {path}";

    /// A field has the wrong JSON type.
    WrongType {
        /// Path of the value.
        path: String,
        /// The type expected.
        expected: &'static str,
        /// The type found.
        found: &'static str,
    } => "wrong_type", 38025, 400, Body, "{path} must be {expected}, found {found}";

    /// The body nests arrays or objects deeper than the configured limit.
    TooDeep {
        /// Path of the value that went too deep.
        path: String,
        /// The configured limit.
        limit: usize,
    } => "too_deep", 38026, 400, Body, "body nests deeper than {limit} levels at {path}";

    /// `ResponseFriendItem` has more items than the configured limit.
    TooManyItems {
        /// The items array (`ResponseFriendItem`, `FriendItem`).
        list: &'static str,
        /// The configured limit.
        limit: usize,
    } => "too_many_items", 38027, 413, Limit, "$.{list} has more than {limit} items";

    /// A string field is longer (in UTF-8 bytes) than its limit.
    FieldTooLong {
        /// Path of the field.
        path: String,
        /// Its length in bytes.
        len: usize,
        /// The configured limit in bytes.
        limit: usize,
    } => "field_too_long", 38028, 400, Limit, "{path} is {len} bytes, over the limit of {limit}";

    /// The body's `CallbackCommand` differs from the query's.
    CommandMismatch {
        /// The query's command.
        expected: &'static str,
        /// The body's value (shortened).
        got: String,
    } => "command_mismatch", 38029, 400, Body, "$.CallbackCommand must be `{expected}` like the query's, got `{got}`";

    /// A result or error code outside `[38000, 39000]` was asked for.
    InvalidResultCode {
        /// The code asked for.
        code: i64,
    } => "invalid_result_code", 38030, 500, Decision, "result code {code} is outside [38000, 39000]";

    /// The decider failed and the policy is to fail the whole callback.
    DeciderFailed {
        /// Index of the item whose decision failed.
        index: usize,
        /// Why it failed.
        reason: String,
    } => "decider_failed", 38031, 500, Decision, "decision for item {index} failed: {reason}";

    /// An HTTP host received the callback with a method other than POST.
    MethodNotAllowed {
        /// The method received (shortened).
        method: String,
    } => "method_not_allowed", 38040, 405, Transport, "method {method} is not allowed: the callback is a POST";

    /// An HTTP host did not receive and answer the callback within its deadline.
    RequestTimeout {
        /// The deadline.
        millis: u64,
    } => "request_timeout", 38041, 408, Transport, "callback not received and answered within {millis} ms";

    /// An HTTP host has too many callbacks in flight to take another.
    Overloaded => "overloaded", 38042, 503, Transport, "too many callbacks in flight; try again";

    /// An HTTP host could not read the whole body (the client stopped sending).
    BodyIncomplete {
        /// What the HTTP layer said.
        reason: String,
    } => "body_incomplete", 38043, 400, Transport, "body could not be read to its end: {reason}";

    /// The request came from an address outside the configured sources
    /// (a gateway's allowlist).
    SourceNotAllowed => "source_not_allowed", 38044, 403, Transport, "the request's source address is not an allowed callback source";

    /// The upstream a callback of another command is forwarded to did not
    /// answer in time.
    UpstreamTimeout {
        /// The time it had.
        millis: u64,
    } => "upstream_timeout", 38045, 504, Transport, "upstream did not answer within {millis} ms";

    /// The upstream could not be reached, or closed the connection before it
    /// answered.
    UpstreamUnavailable {
        /// What the HTTP client said.
        reason: String,
    } => "upstream_unavailable", 38046, 502, Transport, "upstream unavailable: {reason}";

    /// The upstream's answer could not be passed on (too large, or broken
    /// off).
    UpstreamBadAnswer {
        /// Why.
        reason: String,
    } => "upstream_bad_answer", 38047, 502, Transport, "upstream answer not usable: {reason}";
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
    /// Every family, in catalogue order.
    pub const ALL: [Self; 7] = [
        Self::Query,
        Self::AppId,
        Self::Signature,
        Self::Body,
        Self::Limit,
        Self::Decision,
        Self::Transport,
    ];

    /// The codes of this family's errors, from the [`CATALOGUE`].
    pub fn codes(self) -> impl Iterator<Item = &'static str> {
        CATALOGUE
            .iter()
            .filter(move |entry| entry.family == self)
            .map(|entry| entry.code)
    }

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
    /// [`CallbackError::UnexpectedCommand`] for the command `got` where
    /// `expected` was, with `got` quoted as every message quotes what a
    /// caller sent (cut, control characters escaped).
    pub fn unexpected_command(expected: &'static str, got: &str) -> Self {
        Self::UnexpectedCommand {
            expected,
            got: quote(got),
        }
    }

    /// Stable snake_case identifier, the same in every language.
    pub fn code(&self) -> &'static str {
        self.entry().code
    }

    /// Platform `ErrorCode` for the `FAIL` answer, in `[38000, 39000]`.
    pub fn error_code(&self) -> u32 {
        self.entry().error_code
    }

    /// HTTP status of the `FAIL` answer.
    pub fn http_status(&self) -> u16 {
        self.entry().http_status
    }

    /// The broad kind of this error.
    pub fn family(&self) -> ErrorFamily {
        self.entry().family
    }

    /// [`CallbackError::transport`], or why `code` names none: the message
    /// every binding raises as its language's argument error.
    pub fn transport_refusal(code: &str, detail: &str) -> Result<Self, String> {
        Self::transport(code, detail).ok_or_else(|| {
            format!(
                "{} is not a transport refusal ({})",
                quote(code),
                HOST_REFUSALS.join(", ")
            )
        })
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
}

/// The refusals an HTTP host in another language answers itself
/// ([`CallbackError::transport`]).
pub const HOST_REFUSALS: [&str; 4] = [
    "method_not_allowed",
    "request_timeout",
    "overloaded",
    "body_incomplete",
];

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
    fn the_catalogue_is_consistent() {
        let mut codes = std::collections::HashSet::new();
        let mut error_codes = std::collections::HashSet::new();
        for entry in CATALOGUE {
            assert!(codes.insert(entry.code), "{} twice", entry.code);
            assert!(
                error_codes.insert(entry.error_code),
                "{} twice",
                entry.error_code
            );
            assert!((38000..=39000).contains(&entry.error_code), "{entry:?}");
            assert!((400..600).contains(&entry.http_status), "{entry:?}");
        }
        assert_eq!(ERROR_CODES.len(), CATALOGUE.len());
        let by_family: usize = ErrorFamily::ALL.iter().map(|f| f.codes().count()).sum();
        assert_eq!(by_family, CATALOGUE.len(), "every error in one family");
        let error = CallbackError::BodyTooLarge { size: 5, limit: 4 };
        assert_eq!(
            error.entry().message,
            "body is {size} bytes, over the limit of {limit}"
        );
        assert_eq!(error.to_string(), "body is 5 bytes, over the limit of 4");
        assert_eq!(
            (error.code(), error.error_code(), error.http_status()),
            ("body_too_large", 38020, 413)
        );
    }

    #[test]
    fn quote_escapes_control_characters() {
        assert_eq!(quote("x\nfake line\u{1b}[31m"), "x\\nfake line\\u{1b}[31m");
        assert_eq!(quote("tab\there"), "tab\\there");
        assert_eq!(quote("好"), "好");
    }

    #[test]
    fn an_unexpected_command_is_quoted_like_every_caller_text() {
        let error = CallbackError::unexpected_command("Sns.CallbackPrevFriendAdd", "Sns.X\nforged");
        assert_eq!(
            error.to_string(),
            "query parameter `CallbackCommand` must be `Sns.CallbackPrevFriendAdd`, got `Sns.X\\nforged`"
        );
        assert_eq!(error.code(), "unexpected_command");
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
        assert_eq!(
            CallbackError::transport_refusal("bad_signature", "").unwrap_err(),
            "bad_signature is not a transport refusal (method_not_allowed, request_timeout, overloaded, body_incomplete)"
        );
        for code in HOST_REFUSALS {
            assert!(
                CallbackError::transport_refusal(code, "1").is_ok(),
                "{code}"
            );
        }
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
