//! Per-item decisions: allow, or reject with a code in `[38000, 39000]`; the
//! [`Decider`] that makes them; and the [`FailurePolicy`] for when it can't.

use std::fmt;

use crate::error::CallbackError;
use crate::friend::{FriendAdd, FriendCommand, FriendResponse};
use crate::friend_add::{AddItem, FriendAddCallback};
use crate::request::{FriendResponseCallback, ResponseItem};

/// A platform result or error code, always in `[38000, 39000]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResultCode(u32);

impl ResultCode {
    /// Smallest code the platform accepts for "do not allow".
    pub const MIN: u32 = 38000;
    /// Largest code the platform accepts for "do not allow".
    pub const MAX: u32 = 39000;
    /// Default code for an item whose decision failed or came too late.
    pub const DECIDER_FAILED: ResultCode = ResultCode(38900);

    /// Checks that `code` lies in `[38000, 39000]`; anything else is refused,
    /// never clamped.
    pub fn new(code: i64) -> Result<Self, CallbackError> {
        match u32::try_from(code) {
            Ok(code) if (Self::MIN..=Self::MAX).contains(&code) => Ok(Self(code)),
            _ => Err(CallbackError::InvalidResultCode { code }),
        }
    }

    /// The code as a number.
    pub fn get(self) -> u32 {
        self.0
    }
}

impl fmt::Display for ResultCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The answer for one friend-request response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Let it through (`ResultCode` 0).
    Allow,
    /// Do not let it through.
    Reject {
        /// The `ResultCode`.
        code: ResultCode,
        /// The `ResultInfo` text.
        info: String,
    },
}

impl Decision {
    /// Let the response through.
    pub fn allow() -> Self {
        Self::Allow
    }

    /// Block the response with `code` (checked to be in `[38000, 39000]`) and
    /// a reason.
    pub fn reject(code: i64, info: impl Into<String>) -> Result<Self, CallbackError> {
        Ok(Self::Reject {
            code: ResultCode::new(code)?,
            info: info.into(),
        })
    }

    /// `ResultCode` on the wire: 0 to allow.
    pub fn result_code(&self) -> u32 {
        match self {
            Self::Allow => 0,
            Self::Reject { code, .. } => code.get(),
        }
    }

    /// `ResultInfo` on the wire: empty to allow.
    pub fn info(&self) -> &str {
        match self {
            Self::Allow => "",
            Self::Reject { info, .. } => info,
        }
    }

    /// Whether this lets the response through.
    pub fn is_allow(&self) -> bool {
        matches!(self, Self::Allow)
    }
}

/// Why a decider could not decide (an exception in a binding, a timeout, a
/// panic, an invalid code).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeciderError {
    message: String,
}

impl DeciderError {
    /// A failure with a reason (kept out of the platform answer unless the
    /// policy is [`FailurePolicy::FailCallback`]).
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }

    /// The decider ran past the configured deadline.
    pub fn deadline_exceeded() -> Self {
        Self::new("decider deadline exceeded")
    }

    /// The reason.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The line a host reports a failed decision with (Python's `friendgate`
    /// logger, Node's warning), the same in every language: it names the
    /// item and the reason, never a token or a Sign.
    pub fn report(&self, index: usize, to_account: &str) -> String {
        format!(
            "decision for item {index} (To_Account {}) failed: {}; answered by the failure policy",
            serde_json::Value::from(to_account),
            self.message
        )
    }
}

impl fmt::Display for DeciderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DeciderError {}

impl From<CallbackError> for DeciderError {
    fn from(error: CallbackError) -> Self {
        Self::new(error.to_string())
    }
}

impl From<&str> for DeciderError {
    fn from(message: &str) -> Self {
        Self::new(message)
    }
}

impl From<String> for DeciderError {
    fn from(message: String) -> Self {
        Self::new(message)
    }
}

/// What a host language's decider gave back for one item, as its binding
/// sees it. [`Returned::outcome`] words each wrong kind of value the same
/// way in every language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returned<'a> {
    /// An allow decision.
    Allow,
    /// A rejection whose code the host has not checked yet.
    Reject {
        /// The code as the host holds it.
        code: i64,
        /// The reason.
        info: &'a str,
    },
    /// The decider raised or threw, with this message.
    Raised(&'a str),
    /// The decider did not finish before the deadline.
    Late,
    /// Nothing came back (`None`, `null`, `undefined`).
    Nothing,
    /// A value still to be awaited (a coroutine, a Promise) from a
    /// synchronous handler, named as the host calls it.
    Pending(&'a str),
    /// A value of another type, named as the host calls it.
    Other(&'a str),
}

impl Returned<'_> {
    /// Core's outcome for this value: the decision, or the failure (with
    /// core's message) that the failure policy then answers.
    pub fn outcome(self) -> Result<Decision, DeciderError> {
        match self {
            Self::Allow => Ok(Decision::Allow),
            Self::Reject { code, info } => Ok(Decision::reject(code, info)?),
            Self::Raised(message) => Err(DeciderError::new(message)),
            Self::Late => Err(DeciderError::deadline_exceeded()),
            Self::Nothing => Err(DeciderError::new(
                "decide returned no decision, expected allow or reject",
            )),
            Self::Pending(kind) => Err(DeciderError::new(format!(
                "decide returned {kind}, which needs the async handler"
            ))),
            Self::Other(kind) => Err(DeciderError::new(format!(
                "decide returned {kind}, expected allow or reject"
            ))),
        }
    }
}

/// Decides each item of a verified callback of command `K` (friend
/// responses unless named: `Decider<FriendAdd>` decides friend requests).
///
/// Closures `Fn(&K::Callback, usize, &K::Item) -> Result<Decision,
/// DeciderError>` are deciders: `Fn(&FriendResponseCallback, usize,
/// &ResponseItem)` of friend responses, `Fn(&FriendAddCallback, usize,
/// &AddItem)` of friend requests.
pub trait Decider<K: FriendCommand = FriendResponse> {
    /// The decision for item `index` of `callback`. An `Err` is answered by
    /// the configured [`FailurePolicy`].
    fn decide(
        &self,
        callback: &K::Callback<'_>,
        index: usize,
        item: &K::Item<'_>,
    ) -> Result<Decision, DeciderError>;
}

impl<F> Decider<FriendResponse> for F
where
    F: Fn(&FriendResponseCallback<'_>, usize, &ResponseItem<'_>) -> Result<Decision, DeciderError>,
{
    fn decide(
        &self,
        callback: &FriendResponseCallback<'_>,
        index: usize,
        item: &ResponseItem<'_>,
    ) -> Result<Decision, DeciderError> {
        self(callback, index, item)
    }
}

impl<F> Decider<FriendAdd> for F
where
    F: Fn(&FriendAddCallback<'_>, usize, &AddItem<'_>) -> Result<Decision, DeciderError>,
{
    fn decide(
        &self,
        callback: &FriendAddCallback<'_>,
        index: usize,
        item: &AddItem<'_>,
    ) -> Result<Decision, DeciderError> {
        self(callback, index, item)
    }
}

/// Types a closure as a friend-response [`Decider`] (so that its argument
/// types need no annotation).
///
/// ```
/// use friendgate_core::{decider_fn, Decision};
/// let decider = decider_fn(|_, _, item| {
///     if item.remark.contains("spam") {
///         Ok(Decision::reject(38001, "remark not allowed")?)
///     } else {
///         Ok(Decision::allow())
///     }
/// });
/// # let _ = decider;
/// ```
pub fn decider_fn<F>(decide: F) -> F
where
    F: Fn(&FriendResponseCallback<'_>, usize, &ResponseItem<'_>) -> Result<Decision, DeciderError>,
{
    decide
}

/// Types a closure as a friend-request [`Decider<FriendAdd>`].
///
/// ```
/// use friendgate_core::{add_decider_fn, Decision};
/// let decider = add_decider_fn(|_, _, item| {
///     if item.add_wording.contains("spam") {
///         Ok(Decision::reject(38002, "greeting not allowed")?)
///     } else {
///         Ok(Decision::allow())
///     }
/// });
/// # let _ = decider;
/// ```
pub fn add_decider_fn<F>(decide: F) -> F
where
    F: Fn(&FriendAddCallback<'_>, usize, &AddItem<'_>) -> Result<Decision, DeciderError>,
{
    decide
}

/// A decider that allows every item of any command (watch-only
/// deployments, tests).
#[derive(Debug, Clone, Copy, Default)]
pub struct AllowAll;

impl<K: FriendCommand> Decider<K> for AllowAll {
    fn decide(
        &self,
        _: &K::Callback<'_>,
        _: usize,
        _: &K::Item<'_>,
    ) -> Result<Decision, DeciderError> {
        Ok(Decision::Allow)
    }
}

/// What to answer for an item whose decider failed, panicked or was late.
///
/// The platform lets everything through when the answer is late, broken or
/// `FAIL`, so the default rejects the item: a broken decider must not turn the
/// gate into an open door.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FailurePolicy {
    /// Reject the item with this code and info (the default: 38900,
    /// `"decision unavailable"`).
    Reject {
        /// The `ResultCode`.
        code: ResultCode,
        /// The `ResultInfo` text.
        info: String,
    },
    /// Allow the item (fail open).
    Allow,
    /// Answer the whole callback with `FAIL` (`decider_failed`); the platform
    /// then applies its own default, which is to let everything through.
    FailCallback,
}

impl Default for FailurePolicy {
    fn default() -> Self {
        Self::Reject {
            code: ResultCode::DECIDER_FAILED,
            info: DEFAULT_FAILURE_INFO.to_owned(),
        }
    }
}

/// A failure policy as written in a config file:
/// `{policy = "reject", code = 38900, info = "..."}` (code and info optional),
/// `{policy = "allow"}` or `{policy = "fail_callback"}`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(tag = "policy", rename_all = "snake_case", deny_unknown_fields)]
pub enum FailurePolicySpec {
    /// [`FailurePolicy::Reject`].
    Reject {
        /// Result code (default 38900).
        code: Option<i64>,
        /// Reason (default [`DEFAULT_FAILURE_INFO`]).
        info: Option<String>,
    },
    /// [`FailurePolicy::Allow`]. (Braces, so that stray keys are refused:
    /// serde does not check unit variants of a tagged enum.)
    Allow {},
    /// [`FailurePolicy::FailCallback`].
    FailCallback {},
}

impl FailurePolicySpec {
    /// The policy, with its code checked to be in `[38000, 39000]`.
    pub fn build(self) -> Result<FailurePolicy, CallbackError> {
        Ok(match self {
            Self::Reject { code, info } => FailurePolicy::Reject {
                code: code.map_or(Ok(ResultCode::DECIDER_FAILED), ResultCode::new)?,
                info: info.unwrap_or_else(|| DEFAULT_FAILURE_INFO.to_owned()),
            },
            Self::Allow {} => FailurePolicy::Allow,
            Self::FailCallback {} => FailurePolicy::FailCallback,
        })
    }
}

/// `ResultInfo` of the default failure policy.
pub const DEFAULT_FAILURE_INFO: &str = "decision unavailable";

impl FailurePolicy {
    /// Stable snake_case name: `reject`, `allow` or `fail_callback`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Reject { .. } => "reject",
            Self::Allow => "allow",
            Self::FailCallback => "fail_callback",
        }
    }

    /// The decision to send for item `index` whose decider failed, or the
    /// error that fails the whole callback.
    pub fn on_failure(
        &self,
        index: usize,
        error: &DeciderError,
    ) -> Result<Decision, CallbackError> {
        match self {
            Self::Reject { code, info } => Ok(Decision::Reject {
                code: *code,
                info: info.clone(),
            }),
            Self::Allow => Ok(Decision::Allow),
            Self::FailCallback => Err(CallbackError::DeciderFailed {
                index,
                reason: crate::error::quote(error.message()),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_outside_the_range_are_refused_not_clamped() {
        for code in [0, 37999, 39001, -38000, i64::MAX] {
            assert_eq!(
                Decision::reject(code, "x"),
                Err(CallbackError::InvalidResultCode { code })
            );
        }
        assert_eq!(Decision::reject(38000, "x").unwrap().result_code(), 38000);
        assert_eq!(Decision::reject(39000, "x").unwrap().result_code(), 39000);
        assert_eq!(Decision::allow().result_code(), 0);
    }

    #[test]
    fn failure_policy_specs_from_config_files() {
        let spec: FailurePolicySpec = serde_json::from_str(r#"{"policy":"reject"}"#).unwrap();
        assert_eq!(spec.build().unwrap(), FailurePolicy::default());
        let spec: FailurePolicySpec =
            serde_json::from_str(r#"{"policy":"reject","code":38777,"info":"later"}"#).unwrap();
        assert_eq!(
            spec.build().unwrap(),
            FailurePolicy::Reject {
                code: ResultCode::new(38777).unwrap(),
                info: "later".into()
            }
        );
        let spec: FailurePolicySpec =
            serde_json::from_str(r#"{"policy":"reject","code":1}"#).unwrap();
        assert_eq!(spec.build().unwrap_err().code(), "invalid_result_code");
        let spec: FailurePolicySpec =
            serde_json::from_str(r#"{"policy":"fail_callback"}"#).unwrap();
        assert_eq!(spec.build().unwrap(), FailurePolicy::FailCallback);
        assert!(
            serde_json::from_str::<FailurePolicySpec>(r#"{"policy":"allow","code":1}"#).is_err()
        );
        assert!(serde_json::from_str::<FailurePolicySpec>(r#"{"policy":"maybe"}"#).is_err());
    }

    #[test]
    fn what_deciders_return_is_worded_by_core() {
        assert!(Returned::Allow.outcome().unwrap().is_allow());
        let rejected = Returned::Reject {
            code: 38001,
            info: "spam",
        }
        .outcome()
        .unwrap();
        assert_eq!((rejected.result_code(), rejected.info()), (38001, "spam"));
        let message = |returned: Returned<'_>| returned.outcome().unwrap_err().to_string();
        assert_eq!(
            message(Returned::Reject { code: 5, info: "" }),
            "result code 5 is outside [38000, 39000]"
        );
        assert_eq!(message(Returned::Raised("db down")), "db down");
        assert_eq!(message(Returned::Late), "decider deadline exceeded");
        assert_eq!(
            message(Returned::Nothing),
            "decide returned no decision, expected allow or reject"
        );
        assert_eq!(
            message(Returned::Other("int")),
            "decide returned int, expected allow or reject"
        );
        assert!(message(Returned::Pending("coroutine")).contains("which needs the async handler"));
    }

    #[test]
    fn failed_decisions_are_reported_in_one_wording() {
        assert_eq!(
            DeciderError::new("db down").report(1, "id\"2"),
            r#"decision for item 1 (To_Account "id\"2") failed: db down; answered by the failure policy"#
        );
    }

    #[test]
    fn failure_policies() {
        let failed = DeciderError::new("boom");
        let rejected = FailurePolicy::default().on_failure(0, &failed).unwrap();
        assert_eq!(rejected.result_code(), 38900);
        assert_eq!(rejected.info(), "decision unavailable");
        assert!(FailurePolicy::Allow
            .on_failure(0, &failed)
            .unwrap()
            .is_allow());
        assert_eq!(
            FailurePolicy::FailCallback
                .on_failure(3, &failed)
                .unwrap_err(),
            CallbackError::DeciderFailed {
                index: 3,
                reason: "boom".into()
            }
        );
    }
}
