//! Judging an answer by docs/protocol.md: what the platform needs from a valid
//! callback, and what an endpoint must never do with a forged or broken one.

use std::fmt::Write as _;
use std::time::Duration;

use serde_json::Value;

use crate::decision::ResultCode;

/// What a case must get back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// A valid callback: 200 and an `OK` answer with `ErrorCode` 0 and one
    /// `ResultItem` per item, for these `To_Account`s in this order, each
    /// `ResultCode` 0 or in `[38000, 39000]`.
    Answer {
        /// The items' `To_Account`s, in order.
        to_accounts: Vec<String>,
        /// Documented fields this body lacks, which friendgate answers
        /// anyway (`EventTime`, `Requester_Account`, an item's `Remark` or
        /// `TagName`): an endpoint that refuses such a body only warns,
        /// since every sample of the documentation has them.
        absent: Vec<&'static str>,
    },
    /// A request the platform never sends: anything but an `OK` answer that
    /// allows. friendgate refuses it as below (checked under [`Rules::strict`]).
    Refuse {
        /// friendgate's HTTP status.
        status: u16,
        /// friendgate's `ErrorCode`.
        error_code: u32,
        /// friendgate's error code name.
        code: &'static str,
        /// friendgate's message.
        message: String,
    },
    /// A signed callback of another command. At the app's one callback URL
    /// it must get 200 and an `OK` answer with `ErrorCode` 0 (friendgate's
    /// default; required under [`Rules::strict`] and [`Rules::one_url`]); an
    /// endpoint that serves this callback alone may refuse it instead.
    Processed,
}

impl Expect {
    /// A short description for reports.
    pub fn describe(&self, rules: &Rules) -> String {
        match self {
            Self::Answer { to_accounts, .. } => format!("200 OK, {} item(s)", to_accounts.len()),
            Self::Refuse {
                status,
                error_code,
                code,
                ..
            } if rules.strict => format!("{status} FAIL {error_code} ({code})"),
            Self::Refuse { code, .. } => format!("no OK that allows ({code})"),
            Self::Processed if rules.strict || rules.one_url => "200 OK, ErrorCode 0".to_owned(),
            Self::Processed => "200 OK, or a refusal".to_owned(),
        }
    }
}

/// How strictly to judge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    /// Also require friendgate's exact status and `ErrorCode` for refused
    /// requests (for endpoints built on friendgate).
    pub strict: bool,
    /// The slowest acceptable answer; the platform waits 2 s at most.
    pub latency_budget: Duration,
    /// The endpoint sits at the app's one callback URL: signed callbacks of
    /// other commands must be answered `OK`, never refused.
    pub one_url: bool,
}

impl Default for Rules {
    fn default() -> Self {
        Self {
            strict: false,
            latency_budget: Duration::from_secs(1),
            one_url: false,
        }
    }
}

/// An HTTP answer.
#[derive(Debug, Clone, Copy)]
pub struct Observed<'a> {
    /// HTTP status.
    pub status: u16,
    /// Body bytes.
    pub body: &'a [u8],
    /// From the first byte sent to the last byte received.
    pub elapsed: Duration,
}

/// No answer came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoAnswer {
    /// Nothing within this time: a hang.
    TimedOut(Duration),
    /// The connection failed or closed without an answer.
    Closed(String),
}

/// How an answer stands, in the manner of Autobahn|Testsuite's OK /
/// NON-STRICT / INFORMATIONAL / FAILED.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// As the protocol wants.
    Pass,
    /// The protocol or its security is broken (a forged or foreign request
    /// answered `OK`, a valid callback answered wrong, late, or not at all).
    Fail,
    /// A hardening friendgate recommends is missing; the protocol is silent.
    Warn,
    /// An observation (the endpoint refuses with statuses or codes other
    /// than friendgate's).
    Info,
}

impl Level {
    /// `pass`, `fail`, `warn` or `info`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Fail => "fail",
            Self::Warn => "warn",
            Self::Info => "info",
        }
    }
}

/// Where the protocol's facts are written (each with its source).
pub const PROTOCOL_FACTS: &str = "docs/protocol.md#what-the-platform-sends-and-expects";
/// Where friendgate's hardenings are written, each with what it protects.
pub const HARDENINGS: &str =
    "docs/protocol.md#refusals-of-authenticated-callbacks-and-why-each-stays";

/// The judgement of one answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// Whether the answer is acceptable: anything but [`Level::Fail`].
    pub passed: bool,
    /// Pass, fail, warn or info.
    pub level: Level,
    /// What came back, in short (`200 OK [0, 38001]`, `401 FAIL 38012`).
    pub got: String,
    /// Why it is not as friendgate would answer (a fail, a warning's risk,
    /// or an observation).
    pub problem: Option<String>,
    /// The rule the verdict rests on (a line of docs/protocol.md).
    pub rule: &'static str,
}

impl Verdict {
    fn new(got: String, problem: Option<String>) -> Self {
        let level = if problem.is_some() {
            Level::Fail
        } else {
            Level::Pass
        };
        Self {
            passed: problem.is_none(),
            level,
            got,
            problem,
            rule: PROTOCOL_FACTS,
        }
    }

    /// A failure found outside the judge (a connection the endpoint closed).
    pub fn failed(got: String, problem: String) -> Self {
        Self::new(got, Some(problem))
    }

    fn at(mut self, level: Level, rule: &'static str) -> Self {
        self.level = level;
        self.passed = level != Level::Fail;
        self.rule = rule;
        self
    }
}

/// Whether a refusal of `code` guards the protocol's security (the Sign,
/// the window, the app id): answering such a request `OK` fails. Any other
/// refusal is a hardening of friendgate's: answering `OK` only warns.
fn guards_security(code: &str) -> bool {
    matches!(
        code,
        "missing_signature"
            | "bad_signature"
            | "request_time_too_old"
            | "request_time_in_future"
            | "foreign_app_id"
    )
}

/// What a missing hardening risks, in one line (docs/protocol.md says more).
fn risk(code: &str) -> &'static str {
    match code {
        "body_too_large" | "too_many_items" | "too_deep" | "field_too_long" => {
            "unbounded memory or time per callback: one request can hold any amount of work"
        }
        "duplicate_key" | "duplicate_parameter" | "wrong_type" | "command_mismatch" => {
            "input two readers can understand differently: what is decided may not be what the app reads"
        }
        "invalid_utf8" | "malformed_json" | "missing_field" => {
            "a body with no To_Account to answer for was answered as if it had one"
        }
        "unsupported_content_type" => "a body announced as something other than JSON was taken as JSON",
        "method_not_allowed" => "a request that is not a callback was answered as one",
        _ => "a request the platform never sends was answered OK",
    }
}

/// Judges what came back for a case that expects `expect`.
pub fn judge(expect: &Expect, answer: Result<Observed<'_>, NoAnswer>, rules: &Rules) -> Verdict {
    let observed = match answer {
        Ok(observed) => observed,
        Err(NoAnswer::TimedOut(after)) => {
            return Verdict::new(
                format!("no answer in {} ms", after.as_millis()),
                Some(
                    "the endpoint hung; the platform gives up after 2 s and lets it through"
                        .to_owned(),
                ),
            )
        }
        Err(NoAnswer::Closed(reason)) => {
            let got = format!("no answer: {reason}");
            let problem = match expect {
                Expect::Answer { .. } => Some(
                    "a valid callback got no answer, which the platform treats as allow".to_owned(),
                ),
                Expect::Refuse { status, .. } if rules.strict => {
                    Some(format!("friendgate answers {status} with a FAIL body"))
                }
                Expect::Refuse { .. } => None,
                Expect::Processed if rules.strict || rules.one_url => Some(ONE_URL.to_owned()),
                Expect::Processed => None,
            };
            return Verdict::new(got, problem);
        }
    };
    let answer = Answer::read(&observed);
    if observed.elapsed > rules.latency_budget {
        let problem = format!(
            "answered in {} ms, over the {} ms budget (the platform waits 2 s)",
            observed.elapsed.as_millis(),
            rules.latency_budget.as_millis()
        );
        return Verdict::new(answer.summary(), Some(problem));
    }
    let problem = match expect {
        Expect::Answer {
            to_accounts,
            absent,
        } => {
            let problem = answer.problem_as_answer(to_accounts);
            if problem.is_some() && !absent.is_empty() && !rules.strict && answer.refused() {
                let problem = format!(
                    "refused a callback without {}, which friendgate answers: the documentation shows the field in every sample, but the platform lets a refused callback through",
                    absent.join(", ")
                );
                return Verdict::new(answer.summary(), Some(problem)).at(Level::Warn, HARDENINGS);
            }
            problem
        }
        Expect::Processed => answer.problem_as_processed(rules.strict || rules.one_url),
        Expect::Refuse {
            status,
            error_code,
            code,
            ..
        } => {
            let verdict = Verdict::new(
                answer.summary(),
                answer.problem_as_refusal(*status, *error_code, rules.strict),
            );
            if rules.strict || verdict.passed {
                if verdict.passed && !rules.strict && answer.differs(*status, *error_code) {
                    let note = format!(
                        "refused otherwise than friendgate, which answers {status} FAIL with ErrorCode {error_code} ({code})"
                    );
                    return Verdict::new(verdict.got, Some(note)).at(Level::Info, HARDENINGS);
                }
                return verdict;
            }
            if guards_security(code) {
                return verdict;
            }
            let problem = format!(
                "answered OK where friendgate refuses ({code}): {}",
                risk(code)
            );
            return Verdict::new(verdict.got, Some(problem)).at(Level::Warn, HARDENINGS);
        }
    };
    Verdict::new(answer.summary(), problem)
}

/// Why a one-URL endpoint must answer another command `OK`.
const ONE_URL: &str = "a signed callback of another command must get 200 OK with ErrorCode 0: \
the app has one callback URL for every command, and refusing one breaks that callback";

/// The parts of an answer the protocol cares about.
struct Answer {
    status: u16,
    body_len: usize,
    json: Option<Value>,
}

impl Answer {
    fn read(observed: &Observed<'_>) -> Self {
        Self {
            status: observed.status,
            body_len: observed.body.len(),
            json: serde_json::from_slice::<Value>(observed.body)
                .ok()
                .filter(Value::is_object),
        }
    }

    fn field(&self, name: &str) -> Option<&Value> {
        self.json.as_ref().and_then(|json| json.get(name))
    }

    /// A refusal: a status other than 200, or a `FAIL` answer.
    fn refused(&self) -> bool {
        self.status != 200 || self.field("ActionStatus").and_then(Value::as_str) == Some("FAIL")
    }

    fn is_ok(&self) -> bool {
        self.field("ActionStatus").and_then(Value::as_str) == Some("OK")
    }

    fn result_codes(&self) -> Option<Vec<Option<i64>>> {
        let items = self.field("ResultItem")?.as_array()?;
        Some(
            items
                .iter()
                .map(|item| item.get("ResultCode").and_then(Value::as_i64))
                .collect(),
        )
    }

    /// `200 OK [0, 38001]`, `401 FAIL 38012`, `200 (not JSON, 12 bytes)`.
    fn summary(&self) -> String {
        let mut out = self.status.to_string();
        let Some(json) = &self.json else {
            let _ = write!(out, " (not a JSON object, {} bytes)", self.body_len);
            return out;
        };
        match json.get("ActionStatus").and_then(Value::as_str) {
            Some(status) => {
                let _ = write!(out, " {status}");
            }
            None => out.push_str(" (no ActionStatus)"),
        }
        if !self.is_ok() {
            if let Some(code) = json.get("ErrorCode") {
                let _ = write!(out, " {code}");
            }
            return out;
        }
        match self.result_codes() {
            Some(codes) => {
                const SHOWN: usize = 6;
                let mut shown: Vec<String> = codes
                    .iter()
                    .take(SHOWN)
                    .map(|code| code.map_or_else(|| "?".to_owned(), |code| code.to_string()))
                    .collect();
                if codes.len() > SHOWN {
                    shown.push(format!("… {} items", codes.len()));
                }
                let _ = write!(out, " [{}]", shown.join(", "));
            }
            None => out.push_str(" (no ResultItem)"),
        }
        out
    }

    fn problem_as_answer(&self, to_accounts: &[String]) -> Option<String> {
        if self.status != 200 {
            return Some(format!(
                "HTTP {} to a valid callback: the platform counts it as failed and lets it through",
                self.status
            ));
        }
        let Some(json) = &self.json else {
            return Some(
                "the body is not a JSON object: the platform lets the callback through".to_owned(),
            );
        };
        match json.get("ActionStatus").and_then(Value::as_str) {
            Some("OK") => {}
            Some("FAIL") => {
                return Some(format!(
                    "FAIL to a valid callback ({}): the platform ignores it and lets every item through",
                    json.get("ErrorInfo").map_or_else(String::new, Value::to_string)
                ))
            }
            _ => return Some("ActionStatus is neither \"OK\" nor \"FAIL\"".to_owned()),
        }
        if json.get("ErrorCode").and_then(Value::as_i64) != Some(0) {
            return Some("an OK answer needs ErrorCode 0".to_owned());
        }
        if !json.get("ErrorInfo").is_some_and(Value::is_string) {
            return Some("ErrorInfo is missing or not a string".to_owned());
        }
        let Some(items) = json.get("ResultItem").and_then(Value::as_array) else {
            return Some("ResultItem is missing or not an array".to_owned());
        };
        if items.len() != to_accounts.len() {
            return Some(format!(
                "{} ResultItem(s) for {} item(s): the platform needs one per item",
                items.len(),
                to_accounts.len()
            ));
        }
        items
            .iter()
            .zip(to_accounts)
            .enumerate()
            .find_map(|(index, (item, to_account))| item_problem(index, item, to_account))
    }

    /// Whether a refusal's status or `ErrorCode` differs from friendgate's.
    fn differs(&self, status: u16, error_code: u32) -> bool {
        self.status != status
            || self.field("ErrorCode").and_then(Value::as_i64) != Some(i64::from(error_code))
    }

    fn problem_as_processed(&self, required: bool) -> Option<String> {
        let ok = self.status == 200
            && self.is_ok()
            && self.field("ErrorCode").and_then(Value::as_i64) == Some(0);
        if ok || !required {
            None
        } else {
            Some(ONE_URL.to_owned())
        }
    }

    fn problem_as_refusal(&self, status: u16, error_code: u32, strict: bool) -> Option<String> {
        if self.status == 200 && self.is_ok() {
            let codes = self.result_codes().unwrap_or_default();
            if codes.is_empty() || codes.iter().any(|code| *code == Some(0) || code.is_none()) {
                return Some(
                    "answered OK and allowed a request the platform never sends".to_owned(),
                );
            }
        }
        if strict {
            let got_code = self.field("ErrorCode").and_then(Value::as_i64);
            if self.status != status || self.is_ok() || got_code != Some(i64::from(error_code)) {
                return Some(format!(
                    "friendgate answers {status} FAIL with ErrorCode {error_code}"
                ));
            }
        }
        None
    }
}

fn item_problem(index: usize, item: &Value, to_account: &str) -> Option<String> {
    let at = format!("ResultItem[{index}]");
    if item.get("To_Account").and_then(Value::as_str) != Some(to_account) {
        return Some(format!(
            "{at}.To_Account is not {to_account:?} (items must stay in order)"
        ));
    }
    let Some(code) = item.get("ResultCode").and_then(Value::as_i64) else {
        return Some(format!("{at}.ResultCode is missing or not an integer"));
    };
    if code != 0 && ResultCode::new(code).is_err() {
        return Some(format!(
            "{at}.ResultCode {code} is neither 0 nor in [38000, 39000]"
        ));
    }
    if !item.get("ResultInfo").is_some_and(Value::is_string) {
        return Some(format!("{at}.ResultInfo is missing or not a string"));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn observed(status: u16, body: &str) -> Observed<'_> {
        Observed {
            status,
            body: body.as_bytes(),
            elapsed: Duration::from_millis(3),
        }
    }

    fn answer(accounts: &[&str]) -> Expect {
        Expect::Answer {
            to_accounts: accounts.iter().map(|a| (*a).to_owned()).collect(),
            absent: Vec::new(),
        }
    }

    #[test]
    fn refusing_a_body_without_a_documented_field_warns_unless_strict() {
        let lacking = Expect::Answer {
            to_accounts: vec!["a".to_owned()],
            absent: vec!["EventTime"],
        };
        let refused = |rules: &Rules| judge(&lacking, Ok(observed(400, FAIL)), rules);
        let warned = refused(&Rules::default());
        assert_eq!(warned.level, Level::Warn);
        assert!(warned.problem.unwrap().contains("without EventTime"));
        let strict = Rules {
            strict: true,
            ..Rules::default()
        };
        assert_eq!(refused(&strict).level, Level::Fail);
        // Answered wrongly (not a refusal) still fails.
        let dropped = judge(
            &lacking,
            Ok(observed(
                200,
                r#"{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","ResultItem":[]}"#,
            )),
            &Rules::default(),
        );
        assert_eq!(dropped.level, Level::Fail);
        // A body with every documented field: refusing it fails.
        assert_eq!(
            judge(&answer(&["a"]), Ok(observed(400, FAIL)), &Rules::default()).level,
            Level::Fail
        );
    }

    fn refuse() -> Expect {
        Expect::Refuse {
            status: 401,
            error_code: 38012,
            code: "bad_signature",
            message: "bad".to_owned(),
        }
    }

    const OK_ONE: &str = r#"{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","ResultItem":[{"To_Account":"a","ResultCode":0,"ResultInfo":""}]}"#;
    const OK_REJECT: &str = r#"{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","ResultItem":[{"To_Account":"a","ResultCode":38001,"ResultInfo":"no"}]}"#;
    const FAIL: &str = r#"{"ActionStatus":"FAIL","ErrorCode":38012,"ErrorInfo":"bad Sign"}"#;

    /// The failure or warning, if any (observations are not problems).
    fn problem(expect: &Expect, status: u16, body: &str) -> Option<String> {
        let verdict = judge(expect, Ok(observed(status, body)), &Rules::default());
        match verdict.level {
            Level::Pass | Level::Info => None,
            Level::Fail | Level::Warn => verdict.problem,
        }
    }

    #[test]
    fn valid_callbacks_need_one_ok_item_per_item() {
        assert_eq!(problem(&answer(&["a"]), 200, OK_ONE), None);
        assert_eq!(problem(&answer(&["a"]), 200, OK_REJECT), None);
        for (status, body, why) in [
            (500, OK_ONE, "HTTP 500"),
            (200, "not json", "not a JSON object"),
            (200, FAIL, "FAIL to a valid callback"),
            (
                200,
                r#"{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","ResultItem":[]}"#,
                "0 ResultItem(s) for 1",
            ),
            (
                200,
                r#"{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":""}"#,
                "ResultItem is missing",
            ),
            (
                200,
                r#"{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","ResultItem":[{"To_Account":"b","ResultCode":0,"ResultInfo":""}]}"#,
                "To_Account is not \"a\"",
            ),
            (
                200,
                r#"{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","ResultItem":[{"To_Account":"a","ResultCode":1,"ResultInfo":""}]}"#,
                "ResultCode 1 is neither",
            ),
            (
                200,
                r#"{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","ResultItem":[{"To_Account":"a","ResultCode":"0","ResultInfo":""}]}"#,
                "not an integer",
            ),
            (
                200,
                r#"{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","ResultItem":[{"To_Account":"a","ResultCode":0}]}"#,
                "ResultInfo is missing",
            ),
            (
                200,
                r#"{"ActionStatus":"OK","ErrorCode":1,"ErrorInfo":"","ResultItem":[]}"#,
                "ErrorCode 0",
            ),
            (
                200,
                r#"{"ActionStatus":"ok","ErrorCode":0}"#,
                "neither \"OK\" nor \"FAIL\"",
            ),
        ] {
            let got = problem(&answer(&["a"]), status, body).unwrap_or_default();
            assert!(got.contains(why), "{body}: {got}");
        }
    }

    #[test]
    fn security_refusals_fail_hardenings_warn_and_other_refusals_are_noted() {
        let refusal = |code: &'static str| Expect::Refuse {
            status: 400,
            error_code: 38025,
            code,
            message: String::new(),
        };
        let level = |expect: &Expect, status, body: &str| {
            judge(expect, Ok(observed(status, body)), &Rules::default()).level
        };
        assert_eq!(level(&refusal("bad_signature"), 200, OK_ONE), Level::Fail);
        assert_eq!(level(&refusal("foreign_app_id"), 200, OK_ONE), Level::Fail);
        let warned = judge(
            &refusal("too_deep"),
            Ok(observed(200, OK_ONE)),
            &Rules::default(),
        );
        assert_eq!(warned.level, Level::Warn);
        assert!(warned.passed);
        assert_eq!(warned.rule, HARDENINGS);
        assert!(warned.problem.unwrap().contains("unbounded memory or time"));
        // Refused, but not as friendgate refuses: an observation.
        let noted = judge(
            &refusal("wrong_type"),
            Ok(observed(422, FAIL)),
            &Rules::default(),
        );
        assert_eq!(noted.level, Level::Info);
        assert!(noted.passed);
        // --strict keeps today's meaning: anything but friendgate's answer fails.
        let strict = Rules {
            strict: true,
            ..Rules::default()
        };
        let strict_level =
            |status, body| judge(&refusal("too_deep"), Ok(observed(status, body)), &strict).level;
        assert_eq!(strict_level(200, OK_ONE), Level::Fail);
        assert_eq!(strict_level(422, FAIL), Level::Fail);
    }

    #[test]
    fn refused_requests_must_not_be_allowed() {
        assert_eq!(problem(&refuse(), 401, FAIL), None);
        assert_eq!(problem(&refuse(), 400, "nope"), None);
        assert_eq!(problem(&refuse(), 200, OK_REJECT), None);
        for body in [
            OK_ONE,
            r#"{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":""}"#,
        ] {
            let got = problem(&refuse(), 200, body).unwrap_or_default();
            assert!(got.contains("allowed a request"), "{got}");
        }
    }

    #[test]
    fn other_commands_at_the_one_url_must_be_answered_ok() {
        const PROCESSED: &str = r#"{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":""}"#;
        const REFUSED: &str =
            r#"{"ActionStatus":"FAIL","ErrorCode":38005,"ErrorInfo":"x","ResultItem":[]}"#;
        let one_url = Rules {
            one_url: true,
            ..Rules::default()
        };
        let judged = |rules: &Rules, status, body: &str| {
            judge(&Expect::Processed, Ok(observed(status, body)), rules).passed
        };
        assert!(judged(&one_url, 200, PROCESSED));
        assert!(!judged(&one_url, 400, REFUSED));
        assert!(!judged(&one_url, 200, "not json"));
        assert!(!judged(
            &one_url,
            200,
            r#"{"ActionStatus":"OK","ErrorCode":1,"ErrorInfo":""}"#
        ));
        let closed = judge(
            &Expect::Processed,
            Err(NoAnswer::Closed("reset".into())),
            &one_url,
        );
        assert!(!closed.passed);
        // An endpoint that serves this callback alone may refuse them.
        assert!(judged(&Rules::default(), 400, REFUSED));
        assert!(judged(&Rules::default(), 200, PROCESSED));
    }

    #[test]
    fn strict_refusals_need_friendgates_status_and_code() {
        let strict = Rules {
            strict: true,
            ..Rules::default()
        };
        let judged = |status, body: &str| judge(&refuse(), Ok(observed(status, body)), &strict);
        assert!(judged(401, FAIL).passed);
        assert!(!judged(403, FAIL).passed);
        assert!(!judged(401, "nope").passed);
        assert!(!judged(200, OK_REJECT).passed);
        assert!(!judge(&refuse(), Err(NoAnswer::Closed("reset".into())), &strict).passed);
        assert!(
            judge(
                &refuse(),
                Err(NoAnswer::Closed("reset".into())),
                &Rules::default()
            )
            .passed
        );
    }

    #[test]
    fn hangs_and_slow_answers_fail() {
        let hang = judge(
            &refuse(),
            Err(NoAnswer::TimedOut(Duration::from_secs(5))),
            &Rules::default(),
        );
        assert_eq!(hang.got, "no answer in 5000 ms");
        assert!(!hang.passed);
        let slow = Observed {
            elapsed: Duration::from_millis(1500),
            ..observed(200, OK_ONE)
        };
        let verdict = judge(&answer(&["a"]), Ok(slow), &Rules::default());
        assert!(verdict
            .problem
            .unwrap_or_default()
            .contains("1500 ms, over the 1000 ms budget"));
    }

    #[test]
    fn summaries_are_short() {
        let got = |status, body: &str| {
            judge(&refuse(), Ok(observed(status, body)), &Rules::default()).got
        };
        assert_eq!(got(200, OK_REJECT), "200 OK [38001]");
        assert_eq!(got(401, FAIL), "401 FAIL 38012");
        assert_eq!(got(502, "<html>"), "502 (not a JSON object, 6 bytes)");
    }
}
