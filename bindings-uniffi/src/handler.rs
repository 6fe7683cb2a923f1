//! `NativeHandler`: core's `Config`, and the `begin`/`finish` pair the
//! Kotlin layer decides between (in item order, or concurrently under core's
//! deadline), the callback crossing once each way.

use std::sync::{Arc, Mutex};

use friendgate_core::{
    authenticate_any, route_query, unix_now, verify, verify_body_for, verify_for, ConfigError,
    ConfigSpec, FriendAdd, FriendResponse, Reply as CoreReply, Routed, Verified,
};

use crate::decision::{DeciderFailure, Outcome};
use crate::error::{CallbackError, UniffiErrorExt};
use crate::request::{CallbackRequest, FriendAddCallback, FriendResponseCallback};
use crate::response::Reply;

/// Body limits; a field left null keeps core's default.
#[derive(Debug, Clone, Default, uniffi::Record)]
pub struct BodyLimits {
    /// Largest body in bytes (default 1 MiB).
    #[uniffi(default = None)]
    pub max_body_bytes: Option<i64>,
    /// Most items (default 1000).
    #[uniffi(default = None)]
    pub max_items: Option<i64>,
    /// Longest UserID in bytes (default 32).
    #[uniffi(default = None)]
    pub max_user_id_bytes: Option<i64>,
    /// Longest Remark in bytes (default 96).
    #[uniffi(default = None)]
    pub max_remark_bytes: Option<i64>,
    /// Longest TagName in bytes (default 96).
    #[uniffi(default = None)]
    pub max_tag_name_bytes: Option<i64>,
    /// Deepest nesting (default 32).
    #[uniffi(default = None)]
    pub max_depth: Option<i64>,
}

/// What an item whose decider failed gets.
#[derive(Debug, Clone, uniffi::Enum)]
pub enum OnDeciderError {
    /// Rejected with `code` and `info` (core's default: 38900, "decision unavailable").
    Reject {
        /// Result code in [38000, 39000].
        code: i32,
        /// Reason.
        info: String,
    },
    /// Allowed (fail open).
    Allow,
    /// The whole callback answers FAIL.
    FailCallback,
}

/// A handler's configuration (core's `ConfigSpec`).
#[derive(Debug, Clone, uniffi::Record)]
pub struct HandlerConfig {
    /// Accepted SdkAppid values.
    pub app_ids: Vec<i64>,
    /// Console tokens (several during rotation; none turns authentication off).
    #[uniffi(default = [])]
    pub tokens: Vec<String>,
    /// RequestTime window in seconds, each way (core's default when null).
    #[uniffi(default = None)]
    pub window_seconds: Option<i64>,
    /// Body limits.
    #[uniffi(default = None)]
    pub limits: Option<BodyLimits>,
    /// Failure policy (core's default when null).
    #[uniffi(default = None)]
    pub on_decider_error: Option<OnDeciderError>,
    /// Milliseconds all async decisions of one callback share (core's default when null).
    #[uniffi(default = None)]
    pub decider_deadline_ms: Option<i64>,
}

impl HandlerConfig {
    /// The record as core's `ConfigSpec`, read by core from one value as
    /// every binding's settings are (Python's keyword arguments, Node's
    /// options object), so that every check and message is core's.
    fn spec(self) -> Result<ConfigSpec, ConfigError> {
        let limits = self.limits.map(|l| {
            serde_json::json!({
                "max_body_bytes": l.max_body_bytes,
                "max_items": l.max_items,
                "max_user_id_bytes": l.max_user_id_bytes,
                "max_remark_bytes": l.max_remark_bytes,
                "max_tag_name_bytes": l.max_tag_name_bytes,
                "max_depth": l.max_depth,
            })
        });
        let on_decider_error = self.on_decider_error.map(|policy| match policy {
            OnDeciderError::Reject { code, info } => {
                serde_json::json!({"policy": "reject", "code": code, "info": info})
            }
            OnDeciderError::Allow => serde_json::json!({"policy": "allow"}),
            OnDeciderError::FailCallback => serde_json::json!({"policy": "fail_callback"}),
        });
        let settings = serde_json::json!({
            "app_ids": self.app_ids,
            "tokens": self.tokens,
            "window_seconds": self.window_seconds,
            "limits": limits,
            "on_decider_error": on_decider_error,
            "decider_deadline_ms": self.decider_deadline_ms,
        });
        ConfigSpec::from_json(&settings.to_string())
    }
}

/// Core's configuration for one set of app ids and tokens; immutable, share
/// one across threads.
#[derive(uniffi::Object)]
pub struct NativeHandler {
    config: Arc<friendgate_core::Config>,
}

/// What `begin` gives: the refusal to send, or the event to decide and the
/// pending callback to `finish`.
#[derive(uniffi::Record)]
pub struct Started {
    /// The FAIL reply when the callback is refused.
    pub refused: Option<Reply>,
    /// The verified friend response (once, for every item's decider).
    pub event: Option<FriendResponseCallback>,
    /// The verified friend request (`begin_add`, `begin_friend`).
    pub add_event: Option<FriendAddCallback>,
    /// The callback waiting for its outcomes.
    pub pending: Option<Arc<Pending>>,
}

/// Where a request on the one callback URL goes.
#[derive(Debug, Clone, uniffi::Enum)]
pub enum Route {
    /// `Sns.CallbackPrevFriendResponse`: answer it with `handle`.
    FriendResponse,
    /// `Sns.CallbackPrevFriendAdd`: answer it with `handle_add`.
    FriendAdd,
    /// An authenticated callback of another command, for the app's own handler.
    Other {
        /// The request.
        request: CallbackRequest,
    },
    /// Refused (forged, stale, foreign, malformed): send this reply.
    Refused {
        /// The FAIL reply.
        reply: Reply,
    },
}

/// What `finish` gives: the reply, and each failed decision to report.
#[derive(uniffi::Record)]
pub struct Finished {
    /// What to send back.
    pub reply: Reply,
    /// The failed decisions, in item order (the failure policy answered them).
    pub failures: Vec<DeciderFailure>,
}

fn now_or(now: Option<i64>) -> u64 {
    now.map_or_else(unix_now, |n| u64::try_from(n).unwrap_or(0))
}

/// Builds a handler; throws `CallbackException` for a configuration core
/// refuses. A function, not a constructor: UniFFI 0.32.2's Kotlin template
/// names a constructor's error by its Rust name, past the rename Kotlin's
/// hand-written `CallbackException` needs (uniffi.toml).
#[uniffi::export]
pub fn native_handler(config: HandlerConfig) -> Result<Arc<NativeHandler>, CallbackError> {
    let config = config.spec().and_then(ConfigSpec::build).or_refuse()?;
    Ok(Arc::new(NativeHandler {
        config: Arc::new(config),
    }))
}

#[uniffi::export]
impl NativeHandler {
    /// A strong reference to core's configuration for the JNI transport
    /// (`jni.rs`), released by its `release`.
    pub fn jni_config(&self) -> i64 {
        crate::jni::config_handle(&self.config)
    }

    /// Milliseconds all async decisions of one callback share.
    pub fn decider_deadline_ms(&self) -> i64 {
        i64::try_from(self.config.decider_deadline().as_millis()).unwrap_or(i64::MAX)
    }

    /// Verifies a friend response: its event and the pending callback to
    /// finish, or the refusal to send.
    #[uniffi::method(default(now = None))]
    pub fn begin(&self, query: String, body: Vec<u8>, now: Option<i64>) -> Started {
        self.started(self.verified(Command::Response, &query, &body, now))
    }

    /// `begin` for a friend request.
    #[uniffi::method(default(now = None))]
    pub fn begin_add(&self, query: String, body: Vec<u8>, now: Option<i64>) -> Started {
        self.started(self.verified(Command::Add, &query, &body, now))
    }

    /// `begin` for either friend callback, by the query's command (the one
    /// URL): `event` or `add_event` says which.
    #[uniffi::method(default(now = None))]
    pub fn begin_friend(&self, query: String, body: Vec<u8>, now: Option<i64>) -> Started {
        self.started(self.verified(Command::Either, &query, &body, now))
    }

    /// Authenticates the query of a callback of any command (app id, Sign,
    /// window); throws `CallbackException` when refused.
    #[uniffi::method(default(now = None))]
    pub fn authenticate(
        &self,
        query: String,
        now: Option<i64>,
    ) -> Result<CallbackRequest, CallbackError> {
        let query = authenticate_any(&self.config, &query, now_or(now)).or_refuse()?;
        Ok(query.view().into())
    }

    /// Where a request on the one callback URL goes.
    #[uniffi::method(default(now = None))]
    pub fn route(&self, query: String, now: Option<i64>) -> Route {
        match route_query(&self.config, &query, now_or(now)) {
            Ok(Routed::FriendResponse(_)) => Route::FriendResponse,
            Ok(Routed::FriendAdd(_)) => Route::FriendAdd,
            Ok(Routed::Other(other)) => Route::Other {
                request: other.view().into(),
            },
            // A command core learns to decide later: authenticated, the app's.
            Ok(routed) => Route::Other {
                request: routed.query().view().into(),
            },
            Err(error) => Route::Refused {
                reply: CoreReply::from_error(error).into(),
            },
        }
    }

    /// Verifies a callback and returns it typed; throws `CallbackException` when refused.
    #[uniffi::method(default(now = None))]
    pub fn verify(
        &self,
        query: String,
        body: Vec<u8>,
        now: Option<i64>,
    ) -> Result<FriendResponseCallback, CallbackError> {
        let callback = verify(&self.config, &query, &body, now_or(now)).or_refuse()?;
        Ok(callback.view().into())
    }

    /// `verify` for a friend request.
    #[uniffi::method(default(now = None))]
    pub fn verify_add(
        &self,
        query: String,
        body: Vec<u8>,
        now: Option<i64>,
    ) -> Result<FriendAddCallback, CallbackError> {
        let verified = verify_for::<FriendAdd>(&self.config, &query, &body, now_or(now));
        Ok(verified.or_refuse()?.view().into())
    }
}

/// The callback `command` verified (owned, to wait for its outcomes), or
/// core's refusal; `now` in seconds (the clock when `None`). Both
/// transports' `begin`.
pub(crate) fn verified(
    config: &friendgate_core::Config,
    command: Command,
    query: &str,
    body: &[u8],
    now: Option<i64>,
) -> Result<Verified<'static>, friendgate_core::CallbackError> {
    let now = now_or(now);
    let verified = match command {
        Command::Response => verify(config, query, body, now).map(Verified::from),
        Command::Add => verify_for::<FriendAdd>(config, query, body, now).map(Verified::from),
        Command::Either => match route_query(config, query, now) {
            Ok(Routed::FriendAdd(q)) => {
                verify_body_for::<FriendAdd>(config, q, body).map(Verified::from)
            }
            Ok(Routed::FriendResponse(q)) => {
                verify_body_for::<FriendResponse>(config, q, body).map(Verified::from)
            }
            // Core's unexpected_command, worded by core.
            Ok(_) => verify(config, query, body, now).map(Verified::from),
            Err(error) => Err(error),
        },
    };
    verified.map(Verified::into_owned)
}

/// Which friend callback a `begin` expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Command {
    /// `Sns.CallbackPrevFriendResponse`.
    Response,
    /// `Sns.CallbackPrevFriendAdd`.
    Add,
    /// Either, by the query's command (the one URL).
    Either,
}

impl NativeHandler {
    /// The callback `command` verified (owned, to wait for its outcomes),
    /// or core's refusal; `now` in seconds (the clock when `None`).
    fn verified(
        &self,
        command: Command,
        query: &str,
        body: &[u8],
        now: Option<i64>,
    ) -> Result<Verified<'static>, friendgate_core::CallbackError> {
        verified(&self.config, command, query, body, now)
    }

    /// The `Started` of a verified callback or of its refusal.
    fn started(
        &self,
        verified: Result<Verified<'static>, friendgate_core::CallbackError>,
    ) -> Started {
        let callback = match verified {
            Ok(callback) => callback,
            Err(error) => {
                return Started {
                    refused: Some(CoreReply::from_error(error).into()),
                    event: None,
                    add_event: None,
                    pending: None,
                }
            }
        };
        let (event, add_event) = match &callback {
            Verified::Add(add) => (None, Some(add.view().into())),
            Verified::Response(response) => (Some(response.view().into()), None),
            _ => (None, None),
        };
        Started {
            refused: None,
            event,
            add_event,
            pending: Some(Arc::new(Pending {
                config: Arc::clone(&self.config),
                callback: Mutex::new(Some(callback)),
            })),
        }
    }
}

/// A verified callback waiting for one outcome per item.
#[derive(uniffi::Object)]
pub struct Pending {
    config: Arc<friendgate_core::Config>,
    /// Taken by `finish`: a callback is answered once.
    callback: Mutex<Option<Verified<'static>>>,
}

#[uniffi::export]
impl Pending {
    /// Answers with one outcome per item, in order; core's failure policy
    /// answers the failed ones. A second call answers FAIL.
    pub fn finish(&self, outcomes: Vec<Outcome>) -> Finished {
        let taken = self.callback.lock().ok().and_then(|mut c| c.take());
        let outcomes = outcomes.iter().map(Outcome::to_core).collect();
        finish(&self.config, taken, outcomes)
    }
}

/// The answer of `callback` (`None`: already answered, which answers FAIL)
/// with one outcome per item; core's failure policy answers the failed ones.
pub(crate) fn finish(
    config: &friendgate_core::Config,
    callback: Option<Verified<'static>>,
    outcomes: Vec<Result<friendgate_core::Decision, friendgate_core::DeciderError>>,
) -> Finished {
    let Some(callback) = callback else {
        let error = friendgate_core::CallbackError::DeciderFailed {
            index: 0,
            reason: "callback already answered".to_owned(),
        };
        return Finished {
            reply: CoreReply::from_error(error).into(),
            failures: Vec::new(),
        };
    };
    let failures = callback
        .failures(&outcomes)
        .into_iter()
        .map(DeciderFailure::from)
        .collect();
    Finished {
        reply: callback.respond(config, outcomes).into(),
        failures,
    }
}
