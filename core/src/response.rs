//! The answer: `ActionStatus`, `ErrorCode`, `ErrorInfo` and one `ResultItem`
//! per request item, in order, as compact JSON in the platform sample's field
//! order. Every binding returns these bytes.

use std::borrow::Cow;

use serde::Serialize;

use crate::decision::{Decision, ResultCode};
use crate::error::CallbackError;

/// Written if serialization ever failed (it cannot for these types), so that
/// the answer is still a well-formed `FAIL`.
const FALLBACK: &[u8] =
    br#"{"ActionStatus":"FAIL","ErrorCode":39000,"ErrorInfo":"internal error","ResultItem":[]}"#;

/// `ActionStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionStatus {
    /// The backend processed the callback.
    Ok,
    /// The backend failed; the platform ignores the answer by default.
    Fail,
}

impl ActionStatus {
    /// `OK` or `FAIL`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "OK",
            Self::Fail => "FAIL",
        }
    }
}

/// One `ResultItem`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResultItem<'a> {
    /// `To_Account` of the item answered.
    #[serde(rename = "To_Account")]
    pub to_account: Cow<'a, str>,
    /// `ResultCode`: 0 to allow, else in `[38000, 39000]`.
    #[serde(rename = "ResultCode")]
    pub result_code: u32,
    /// `ResultInfo`: the reason.
    #[serde(rename = "ResultInfo")]
    pub result_info: Cow<'a, str>,
}

impl<'a> ResultItem<'a> {
    /// The item for `to_account` carrying `decision`.
    pub fn new(to_account: impl Into<Cow<'a, str>>, decision: &'a Decision) -> Self {
        Self {
            to_account: to_account.into(),
            result_code: decision.result_code(),
            result_info: Cow::Borrowed(decision.info()),
        }
    }
}

/// The wire form, fields in the platform sample's order.
#[derive(Serialize)]
struct Wire<'r> {
    #[serde(rename = "ActionStatus")]
    action_status: &'static str,
    #[serde(rename = "ErrorCode")]
    error_code: u32,
    #[serde(rename = "ErrorInfo")]
    error_info: &'r str,
    #[serde(rename = "ResultItem")]
    result_item: &'r [ResultItem<'r>],
}

/// A callback answer, built by [`handle`](crate::handle) or by hand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response<'a> {
    status: ActionStatus,
    error_code: u32,
    error_info: Cow<'a, str>,
    items: Vec<ResultItem<'a>>,
}

impl<'a> Response<'a> {
    /// An `OK` answer with no items yet.
    pub fn ok() -> Self {
        Self::with_capacity(0)
    }

    /// An `OK` answer with room for `items` items.
    pub fn with_capacity(items: usize) -> Self {
        Self {
            status: ActionStatus::Ok,
            error_code: 0,
            error_info: Cow::Borrowed(""),
            items: Vec::with_capacity(items),
        }
    }

    /// A `FAIL` answer with `code` and `info` and no items.
    pub fn fail(code: ResultCode, info: impl Into<Cow<'a, str>>) -> Self {
        Self {
            status: ActionStatus::Fail,
            error_code: code.get(),
            error_info: info.into(),
            items: Vec::new(),
        }
    }

    /// The `FAIL` answer for `error`: its platform code and message.
    pub fn from_error(error: &CallbackError) -> Response<'static> {
        Response {
            status: ActionStatus::Fail,
            error_code: error.error_code(),
            error_info: Cow::Owned(error.to_string()),
            items: Vec::new(),
        }
    }

    /// An `OK` answer allowing every account in `to_accounts`, in order.
    pub fn allow_all<S: Into<Cow<'a, str>>>(to_accounts: impl IntoIterator<Item = S>) -> Self {
        let mut response = Self::ok();
        for account in to_accounts {
            response.items.push(ResultItem {
                to_account: account.into(),
                result_code: 0,
                result_info: Cow::Borrowed(""),
            });
        }
        response
    }

    /// Appends a result item.
    pub fn push(&mut self, item: ResultItem<'a>) {
        self.items.push(item);
    }

    /// Rejects every item for `to_account` with `code` and `info`.
    pub fn reject_account(mut self, to_account: &str, code: ResultCode, info: &str) -> Self {
        for item in self.items.iter_mut().filter(|i| i.to_account == to_account) {
            item.result_code = code.get();
            item.result_info = Cow::Owned(info.to_owned());
        }
        self
    }

    /// `ActionStatus`.
    pub fn status(&self) -> ActionStatus {
        self.status
    }

    /// `ErrorCode`.
    pub fn error_code(&self) -> u32 {
        self.error_code
    }

    /// `ErrorInfo`.
    pub fn error_info(&self) -> &str {
        &self.error_info
    }

    /// The result items, in order.
    pub fn items(&self) -> &[ResultItem<'a>] {
        &self.items
    }

    /// Appends the compact JSON answer to `out`.
    pub fn write_into(&self, out: &mut Vec<u8>) {
        let wire = Wire {
            action_status: self.status.as_str(),
            error_code: self.error_code,
            error_info: &self.error_info,
            result_item: &self.items,
        };
        let start = out.len();
        if serde_json::to_writer(&mut *out, &wire).is_err() {
            out.truncate(start);
            out.extend_from_slice(FALLBACK);
        }
    }

    /// The compact JSON answer.
    pub fn to_bytes(&self) -> Vec<u8> {
        let estimate = 80
            + self.error_info.len()
            + self
                .items
                .iter()
                .map(|i| 52 + i.to_account.len() + i.result_info.len())
                .sum::<usize>();
        let mut out = Vec::with_capacity(estimate);
        self.write_into(&mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_platform_sample_answer() {
        let bytes = Response::allow_all(["id1", "id2"]).to_bytes();
        assert_eq!(
            std::str::from_utf8(&bytes).unwrap(),
            r#"{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","ResultItem":[{"To_Account":"id1","ResultCode":0,"ResultInfo":""},{"To_Account":"id2","ResultCode":0,"ResultInfo":""}]}"#
        );
    }

    #[test]
    fn by_hand_reject_one_and_fail() {
        let code = ResultCode::new(38001).unwrap();
        let response = Response::allow_all(["a", "b\"q"]).reject_account("b\"q", code, "spam ring");
        assert_eq!(
            String::from_utf8(response.to_bytes()).unwrap(),
            r#"{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","ResultItem":[{"To_Account":"a","ResultCode":0,"ResultInfo":""},{"To_Account":"b\"q","ResultCode":38001,"ResultInfo":"spam ring"}]}"#
        );
        let fail = Response::fail(ResultCode::new(38500).unwrap(), "down");
        assert_eq!(
            fail.to_bytes(),
            br#"{"ActionStatus":"FAIL","ErrorCode":38500,"ErrorInfo":"down","ResultItem":[]}"#
        );
    }
}
