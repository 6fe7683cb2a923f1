//! UniFFI binding of friendgate-core for Kotlin (JVM) and Swift. Types are
//! converted; every behaviour is core's.

// UniFFI's macros expand to `unsafe` FFI glue inside this crate.
#![allow(unsafe_code)]

use std::sync::Arc;

use friendgate_core::{
    decide_item, respond, testing, unix_now, verify, Config, ConfigSpec, DeciderError,
    FailurePolicySpec, LimitOverrides, Reply as CoreReply, Response, ResultCode,
};

uniffi::setup_scaffolding!();

/// Why a callback or a configuration was refused: core's stable `code`, the
/// HTTP status, the platform ErrorCode and the message. Kotlin sees
/// `CallbackException.Refused`.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum CallbackError {
    /// The one variant: everything is in the fields.
    #[error("{reason}")]
    Refused {
        /// Core's code, e.g. `bad_signature`.
        code: String,
        /// HTTP status (0 for a configuration error).
        http_status: u16,
        /// Platform ErrorCode (0 for a configuration error).
        error_code: u32,
        /// Core's message (`message` would clash with Throwable's).
        reason: String,
    },
}

impl From<&friendgate_core::CallbackError> for CallbackError {
    fn from(error: &friendgate_core::CallbackError) -> Self {
        Self::Refused {
            code: error.code().to_owned(),
            http_status: error.http_status(),
            error_code: error.error_code(),
            reason: error.to_string(),
        }
    }
}

fn config_error(code: &str, message: String) -> CallbackError {
    CallbackError::Refused {
        code: code.to_owned(),
        http_status: 0,
        error_code: 0,
        reason: message,
    }
}

/// What a decider failed with; a Kotlin decider may throw anything, and an
/// undeclared exception arrives as `Unexpected`.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum DeciderException {
    /// A failure the decider reports itself.
    #[error("{reason}")]
    Failed {
        /// Why.
        reason: String,
    },
    /// Any other exception thrown by the foreign decider.
    #[error("{reason}")]
    Unexpected {
        /// Its message.
        reason: String,
    },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for DeciderException {
    fn from(error: uniffi::UnexpectedUniFFICallbackError) -> Self {
        Self::Unexpected {
            reason: exception_message(&error.reason).to_owned(),
        }
    }
}

/// The message of a foreign exception as UniFFI reports it: Kotlin sends
/// `pkg.Class: message` and the stack trace; every language must put only
/// the message in the answer (the conformance vectors check it).
fn exception_message(reason: &str) -> &str {
    let first = reason.lines().next().unwrap_or("");
    match first.split_once(": ") {
        Some((class, message)) if !class.is_empty() && !class.contains(' ') => message,
        _ => first,
    }
}

#[cfg(test)]
mod tests {
    use super::exception_message;

    #[test]
    fn foreign_exception_messages() {
        assert_eq!(
            exception_message(
                "java.lang.IllegalStateException: database unreachable\n\tat a.b(C.kt:1)"
            ),
            "database unreachable"
        );
        assert_eq!(
            exception_message("java.lang.RuntimeException"),
            "java.lang.RuntimeException"
        );
        assert_eq!(
            exception_message("db down: retry later"),
            "db down: retry later"
        );
    }
}

/// Body limits; a field left null keeps core's default.
#[derive(Debug, Clone, Default, uniffi::Record)]
pub struct BodyLimits {
    /// Largest body in bytes (default 1 MiB).
    #[uniffi(default = None)]
    pub max_body_bytes: Option<u64>,
    /// Most items (default 1000).
    #[uniffi(default = None)]
    pub max_items: Option<u64>,
    /// Longest UserID in bytes (default 32).
    #[uniffi(default = None)]
    pub max_user_id_bytes: Option<u64>,
    /// Longest Remark in bytes (default 96).
    #[uniffi(default = None)]
    pub max_remark_bytes: Option<u64>,
    /// Longest TagName in bytes (default 96).
    #[uniffi(default = None)]
    pub max_tag_name_bytes: Option<u64>,
    /// Deepest nesting (default 32).
    #[uniffi(default = None)]
    pub max_depth: Option<u64>,
}

/// What an item whose decider failed gets.
#[derive(Debug, Clone, uniffi::Enum)]
pub enum OnDeciderError {
    /// Rejected with `code` and `info` (core's default: 38900, "decision unavailable").
    Reject {
        /// Result code in [38000, 39000].
        code: u32,
        /// Reason.
        info: String,
    },
    /// Allowed (fail open).
    Allow,
    /// The whole callback answers FAIL.
    FailCallback,
}

/// A handler's configuration.
#[derive(Debug, Clone, uniffi::Record)]
pub struct HandlerConfig {
    /// Accepted SdkAppid values.
    pub app_ids: Vec<u64>,
    /// Console tokens (several during rotation; none turns authentication off).
    #[uniffi(default = [])]
    pub tokens: Vec<String>,
    /// RequestTime window in seconds, each way.
    #[uniffi(default = 60)]
    pub window_seconds: u64,
    /// Body limits.
    #[uniffi(default = None)]
    pub limits: Option<BodyLimits>,
    /// Failure policy (core's default when null).
    #[uniffi(default = None)]
    pub on_decider_error: Option<OnDeciderError>,
}

/// One friend request being answered.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ResponseItem {
    /// Position in ResponseFriendItem.
    pub index: u32,
    /// To_Account.
    pub to_account: String,
    /// Remark.
    pub remark: String,
    /// TagName.
    pub tag_name: String,
    /// ResponseAction as sent.
    pub action: String,
    /// Whether the action is documented.
    pub action_known: bool,
    /// Whether the user accepts.
    pub is_accept: bool,
}

/// A verified callback.
#[derive(Debug, Clone, uniffi::Record)]
pub struct FriendResponseCallback {
    /// SdkAppid.
    pub sdk_app_id: u64,
    /// OptPlatform (canonical spelling), when sent.
    pub platform: Option<String>,
    /// ClientIP as sent.
    pub client_ip: Option<String>,
    /// RequestTime, when signed.
    pub request_time: Option<u64>,
    /// Requester_Account.
    pub requester_account: String,
    /// From_Account.
    pub from_account: String,
    /// EventTime in Unix milliseconds.
    pub event_time_ms: u64,
    /// The items.
    pub items: Vec<ResponseItem>,
}

/// A decision for one item. `Reject` codes outside [38000, 39000] make the
/// decision fail (core's failure policy applies); `reject()` checks at once.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum Decision {
    /// Let it through.
    Allow,
    /// Block it.
    Reject {
        /// Result code in [38000, 39000].
        code: u32,
        /// Reason.
        info: String,
    },
}

/// A checked rejection: throws for a code outside [38000, 39000].
#[uniffi::export]
pub fn reject(code: i64, info: String) -> Result<Decision, CallbackError> {
    match ResultCode::new(code) {
        Ok(code) => Ok(Decision::Reject {
            code: code.get(),
            info,
        }),
        Err(error) => Err((&error).into()),
    }
}

/// Decides each item (implemented in Kotlin or Swift).
#[uniffi::export(with_foreign)]
pub trait Decider: Send + Sync {
    /// The decision for `item` of `event`.
    fn decide(
        &self,
        event: FriendResponseCallback,
        item: ResponseItem,
    ) -> Result<Decision, DeciderException>;
}

/// What to send back.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
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
            status: reply.status,
            content_type: reply.content_type.to_owned(),
            error_code: reply.error.as_ref().map(|e| e.code().to_owned()),
            body: reply.body,
        }
    }
}

/// Verifies and answers callbacks; immutable, share one across threads.
#[derive(uniffi::Object)]
pub struct CallbackHandler {
    config: Config,
}

/// A foreign decider as core's Decider.
struct Foreign<'a> {
    decider: &'a dyn Decider,
    event: FriendResponseCallback,
}

impl friendgate_core::Decider for Foreign<'_> {
    fn decide(
        &self,
        _: &friendgate_core::FriendResponseCallback<'_>,
        index: usize,
        _: &friendgate_core::ResponseItem<'_>,
    ) -> Result<friendgate_core::Decision, DeciderError> {
        let item = self
            .event
            .items
            .get(index)
            .cloned()
            .ok_or_else(|| DeciderError::new("no such item"))?;
        match self.decider.decide(self.event.clone(), item) {
            Ok(Decision::Allow) => Ok(friendgate_core::Decision::Allow),
            Ok(Decision::Reject { code, info }) => {
                Ok(friendgate_core::Decision::reject(i64::from(code), info)?)
            }
            Err(error) => Err(DeciderError::new(error.to_string())),
        }
    }
}

fn event_of(callback: &friendgate_core::FriendResponseCallback<'_>) -> FriendResponseCallback {
    FriendResponseCallback {
        sdk_app_id: callback.sdk_app_id(),
        platform: callback.platform().map(|p| p.as_str().to_owned()),
        client_ip: callback.client_ip().map(|ip| ip.as_str().to_owned()),
        request_time: callback.query.request_time.as_ref().map(|t| t.seconds()),
        requester_account: callback.requester_account().to_owned(),
        from_account: callback.from_account().to_owned(),
        event_time_ms: callback.event_time_ms(),
        items: callback
            .items()
            .iter()
            .enumerate()
            .map(|(index, item)| ResponseItem {
                index: index as u32,
                to_account: item.to_account.to_string(),
                remark: item.remark.to_string(),
                tag_name: item.tag_name.to_string(),
                action: item.action.as_str().to_owned(),
                action_known: item.action.is_known(),
                is_accept: item.action.is_accept(),
            })
            .collect(),
    }
}

#[uniffi::export]
impl CallbackHandler {
    /// Builds a handler; throws `CallbackException` for a configuration core refuses.
    #[uniffi::constructor]
    pub fn new(config: HandlerConfig) -> Result<Arc<Self>, CallbackError> {
        let size = |v: Option<u64>| v.map(|v| usize::try_from(v).unwrap_or(usize::MAX));
        let spec = ConfigSpec {
            app_ids: config.app_ids,
            tokens: config.tokens,
            window_seconds: Some(config.window_seconds),
            limits: config.limits.map(|l| LimitOverrides {
                max_body_bytes: size(l.max_body_bytes),
                max_items: size(l.max_items),
                max_user_id_bytes: size(l.max_user_id_bytes),
                max_remark_bytes: size(l.max_remark_bytes),
                max_tag_name_bytes: size(l.max_tag_name_bytes),
                max_depth: size(l.max_depth),
            }),
            on_decider_error: config.on_decider_error.map(|policy| match policy {
                OnDeciderError::Reject { code, info } => FailurePolicySpec::Reject {
                    code: Some(i64::from(code)),
                    info: Some(info),
                },
                OnDeciderError::Allow => FailurePolicySpec::Allow {},
                OnDeciderError::FailCallback => FailurePolicySpec::FailCallback {},
            }),
            decider_deadline_ms: None,
        };
        let config = spec
            .build()
            .map_err(|e| config_error(e.code(), e.to_string()))?;
        Ok(Arc::new(Self { config }))
    }

    /// Verifies and answers one callback; `decider` null allows every item. A
    /// decider that throws or returns an invalid code gets the failure policy.
    #[uniffi::method(default(decider = None, now = None))]
    pub fn handle(
        &self,
        query: String,
        body: Vec<u8>,
        decider: Option<Arc<dyn Decider>>,
        now: Option<u64>,
    ) -> Reply {
        let callback = match verify(&self.config, &query, &body, now.unwrap_or_else(unix_now)) {
            Ok(callback) => callback,
            Err(error) => return CoreReply::from_error(error).into(),
        };
        let outcomes: Vec<_> = match &decider {
            None => vec![Ok(friendgate_core::Decision::Allow); callback.items().len()],
            Some(decider) => {
                let foreign = Foreign {
                    decider: decider.as_ref(),
                    event: event_of(&callback),
                };
                let items = callback.items().iter().enumerate();
                items
                    .map(|(index, item)| decide_item(&foreign, &callback, index, item))
                    .collect()
            }
        };
        respond(&self.config, &callback, outcomes).into()
    }

    /// Verifies a callback and returns it typed; throws `CallbackException` when refused.
    #[uniffi::method(default(now = None))]
    pub fn verify(
        &self,
        query: String,
        body: Vec<u8>,
        now: Option<u64>,
    ) -> Result<FriendResponseCallback, CallbackError> {
        verify(&self.config, &query, &body, now.unwrap_or_else(unix_now))
            .map(|callback| event_of(&callback))
            .map_err(|e| CallbackError::from(&e))
    }
}

/// Core's answer allowing every account, in order.
#[uniffi::export]
pub fn allow_all_response(accounts: Vec<String>) -> Vec<u8> {
    Response::allow_all(accounts).to_bytes()
}

/// Core's answer for hand-made decisions, one per account in order; a
/// `Reject` code outside [38000, 39000] throws.
#[uniffi::export]
pub fn build_response(
    accounts: Vec<String>,
    decisions: Vec<Decision>,
) -> Result<Vec<u8>, CallbackError> {
    let mut response = Response::ok();
    for (account, decision) in accounts.into_iter().zip(decisions) {
        let decision = match decision {
            Decision::Allow => friendgate_core::Decision::Allow,
            Decision::Reject { code, info } => {
                friendgate_core::Decision::reject(i64::from(code), info)
                    .map_err(|e| CallbackError::from(&e))?
            }
        };
        response.push_decision(account, decision);
    }
    Ok(response.to_bytes())
}

/// Core's FAIL answer with `code` in [38000, 39000].
#[uniffi::export]
pub fn fail_response(code: i64, info: String) -> Result<Vec<u8>, CallbackError> {
    let code = ResultCode::new(code).map_err(|e| CallbackError::from(&e))?;
    Ok(Response::fail(code, info).to_bytes())
}

/// The FAIL reply an HTTP host sends around `handle`: `method_not_allowed`
/// (detail: the method), `request_timeout` (detail: the deadline in ms),
/// `overloaded`, or `body_incomplete` (detail: what went wrong). Null for
/// any other code.
#[uniffi::export]
pub fn refusal(code: String, detail: String) -> Option<Reply> {
    friendgate_core::CallbackError::transport(&code, &detail)
        .map(|error| CoreReply::from_error(error).into())
}

/// The Sign for `token` at `request_time`.
#[uniffi::export]
pub fn sign(token: String, request_time: u64) -> String {
    testing::sign(&token, request_time)
}

/// A callback query string, signed when `token` is given.
#[uniffi::export(default(token = None, request_time = None))]
pub fn signed_query(app_id: u64, token: Option<String>, request_time: Option<u64>) -> String {
    let builder = testing::QueryBuilder::new(app_id);
    match token {
        Some(token) => builder
            .signed(&token, request_time.unwrap_or_else(unix_now))
            .build(),
        None => builder.build(),
    }
}

/// The platform's sample body, or one with `items` items.
#[uniffi::export(default(items = None))]
pub fn sample_body(items: Option<u32>) -> String {
    match items {
        None => testing::sample_body(),
        Some(count) => testing::body_with_items("id", count as usize),
    }
}
