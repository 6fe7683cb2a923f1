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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultItem<'a> {
    /// `To_Account` of the item answered.
    pub to_account: Cow<'a, str>,
    /// `ResultCode`: 0 to allow, else in `[38000, 39000]`.
    pub result_code: u32,
    /// `ResultInfo`: the reason.
    pub result_info: Cow<'a, str>,
}

impl<'a> ResultItem<'a> {
    /// The item for `to_account` carrying `decision` (its info is moved, not copied).
    pub fn new(to_account: impl Into<Cow<'a, str>>, decision: Decision) -> Self {
        let (result_code, result_info) = match decision {
            Decision::Allow => (0, Cow::Borrowed("")),
            Decision::Reject { code, info } => (code.get(), Cow::Owned(info)),
        };
        Self {
            to_account: to_account.into(),
            result_code,
            result_info,
        }
    }
}

/// Appends one JSON value with serde_json's escaping. Writing to a `Vec`
/// cannot fail; `false` would mean it did.
fn json_value<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) -> bool {
    serde_json::to_writer(&mut *out, value).is_ok()
}

/// Writes an answer straight into a buffer, item by item, so that the hot
/// path needs no list of result items.
///
/// The frame (keys, punctuation) is fixed, so it is written as literal bytes;
/// every value goes through serde_json, which does the escaping. This is
/// measurably faster than serializing a struct, whose keys serde would escape
/// again on every call.
pub struct AnswerWriter<'o> {
    out: &'o mut Vec<u8>,
    start: usize,
    items: usize,
    ok: bool,
}

impl<'o> AnswerWriter<'o> {
    /// Writes the frame up to the first result item.
    pub fn start(
        out: &'o mut Vec<u8>,
        status: ActionStatus,
        error_code: u32,
        error_info: &str,
    ) -> Self {
        let start = out.len();
        out.extend_from_slice(b"{\"ActionStatus\":\"");
        out.extend_from_slice(status.as_str().as_bytes());
        out.extend_from_slice(b"\",\"ErrorCode\":");
        let mut ok = json_value(out, &error_code);
        out.extend_from_slice(b",\"ErrorInfo\":");
        ok &= json_value(out, error_info);
        out.extend_from_slice(b",\"ResultItem\":[");
        Self {
            out,
            start,
            items: 0,
            ok,
        }
    }

    /// Writes one result item.
    pub fn item(&mut self, to_account: &str, result_code: u32, result_info: &str) {
        let out = &mut *self.out;
        if self.items > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"To_Account\":");
        self.ok &= json_value(out, to_account);
        out.extend_from_slice(b",\"ResultCode\":");
        self.ok &= json_value(out, &result_code);
        out.extend_from_slice(b",\"ResultInfo\":");
        self.ok &= json_value(out, result_info);
        out.push(b'}');
        self.items += 1;
    }

    /// Closes the answer.
    pub fn finish(self) {
        self.out.extend_from_slice(b"]}");
        if !self.ok {
            self.out.truncate(self.start);
            self.out.extend_from_slice(FALLBACK);
        }
    }
}

/// Bytes to reserve for an answer with `items` items, `text` bytes of
/// accounts and reasons.
pub(crate) fn estimate_len(items: usize, text: usize) -> usize {
    80 + 52 * items + text + text / 8
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

    /// Appends the result item for `to_account` carrying `decision`.
    pub fn push_decision(&mut self, to_account: impl Into<Cow<'a, str>>, decision: Decision) {
        self.items.push(ResultItem::new(to_account, decision));
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
        let mut writer = AnswerWriter::start(out, self.status, self.error_code, &self.error_info);
        for item in &self.items {
            writer.item(&item.to_account, item.result_code, &item.result_info);
        }
        writer.finish();
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
