//! Decisions as they cross from JavaScript: one number per item (0 allow,
//! 38000..=39000 reject, negative for a failure), core's wording for what a
//! decider got wrong, and core's failure report.

use friendgate_core::{DeciderError, Decision, ResultCode, Returned};
use napi_derive::napi;

/// Outcome code: the decider failed (its message is in `infos`).
const FAILED: i32 = -1;
/// Outcome code: the decider missed the deadline.
const LATE: i32 = -2;

/// Core's outcomes for the first `count` codes (see `NativeHandler::finish`).
pub(crate) fn outcomes(
    codes: &[i32],
    count: usize,
    infos: Option<Vec<String>>,
) -> impl Iterator<Item = Result<Decision, DeciderError>> + '_ {
    let mut infos = infos.unwrap_or_default().into_iter();
    codes.iter().take(count).map(move |&code| {
        let info = infos.next().unwrap_or_default();
        match code {
            0 => Returned::Allow.outcome(),
            FAILED => Returned::Raised(&info).outcome(),
            LATE => Returned::Late.outcome(),
            code => Returned::Reject {
                code: i64::from(code),
                info: &info,
            }
            .outcome(),
        }
    })
}

/// Core's reason for a decider that returned `kind` (`nothing`, `pending`
/// or `other`) named `name` (`number`, `Promise`, ...).
#[napi]
pub fn wrong_return(kind: String, name: String) -> String {
    let returned = match kind.as_str() {
        "nothing" => Returned::Nothing,
        "pending" => Returned::Pending(&name),
        _ => Returned::Other(&name),
    };
    returned
        .outcome()
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default()
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
