//! Decisions and what a Kotlin or Swift decider gave back, as core's
//! outcomes with core's wording.

use friendgate_core::{DeciderError, Decision as CoreDecision, Returned};

use crate::error::{CallbackError, UniffiErrorExt};

/// A decision for one item. A `Reject` code outside [38000, 39000] makes the
/// decision fail (core's failure policy applies); `reject()` checks at once.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum Decision {
    /// Let it through.
    Allow,
    /// Block it.
    Reject {
        /// Result code in [38000, 39000].
        code: i32,
        /// Reason.
        info: String,
    },
}

impl Decision {
    /// Core's decision, with the code checked.
    pub(crate) fn checked(&self) -> Result<CoreDecision, friendgate_core::CallbackError> {
        match self {
            Self::Allow => Ok(CoreDecision::Allow),
            Self::Reject { code, info } => CoreDecision::reject(i64::from(*code), info.clone()),
        }
    }
}

/// A checked rejection: throws for a code outside [38000, 39000] (the
/// Kotlin layer's `reject`).
#[uniffi::export]
pub fn checked_reject(code: i64, info: String) -> Result<Decision, CallbackError> {
    let decision = CoreDecision::reject(code, info).or_refuse()?;
    Ok(Decision::Reject {
        code: i32::try_from(decision.result_code()).unwrap_or(i32::MAX),
        info: decision.info().to_owned(),
    })
}

/// What the host's decider gave back for one item (core's `Returned`).
#[derive(Debug, Clone, uniffi::Enum)]
pub enum Outcome {
    /// A decision.
    Decided {
        /// The decision (a Reject code is checked by core now).
        decision: Decision,
    },
    /// The decider threw, with this message.
    Raised {
        /// The exception's message.
        message: String,
    },
    /// The decider missed the shared deadline.
    Late,
    /// The decider returned null (from Java).
    Nothing,
}

impl Outcome {
    /// Core's outcome, worded by core.
    pub(crate) fn to_core(&self) -> Result<CoreDecision, DeciderError> {
        match self {
            Self::Decided {
                decision: Decision::Allow,
            } => Returned::Allow.outcome(),
            Self::Decided {
                decision: Decision::Reject { code, info },
            } => Returned::Reject {
                code: i64::from(*code),
                info,
            }
            .outcome(),
            Self::Raised { message } => Returned::Raised(message).outcome(),
            Self::Late => Returned::Late.outcome(),
            Self::Nothing => Returned::Nothing.outcome(),
        }
    }
}

/// A decision that failed: the item, why, and core's line reporting it.
#[derive(Debug, Clone, uniffi::Record)]
pub struct DeciderFailure {
    /// Position of the item.
    pub index: i32,
    /// Its To_Account.
    pub to_account: String,
    /// Why the decision failed (core's wording).
    pub reason: String,
    /// Core's report line, the same in every language (no secrets).
    pub report: String,
}

impl From<friendgate_core::FailedDecision> for DeciderFailure {
    fn from(failure: friendgate_core::FailedDecision) -> Self {
        Self {
            index: i32::try_from(failure.index).unwrap_or(i32::MAX),
            to_account: failure.to_account,
            reason: failure.reason,
            report: failure.report,
        }
    }
}
