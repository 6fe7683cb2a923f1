//! Runs every conformance vector in `tests/vectors/` through `handle` and
//! compares status, error code and the exact answer bytes.

// Test code: a failed expectation should stop with a message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use base64::Engine;
use friendgate_core::{
    decider_fn, handle, Config, DeciderError, Decision, FailurePolicy, Limits, ResultCode, Token,
};
use serde_json::Value;

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors")
}

struct Case {
    file: String,
    value: Value,
}

fn load_cases() -> Vec<Case> {
    let mut files: Vec<_> = std::fs::read_dir(vectors_dir())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    let mut cases = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let doc: Value = serde_json::from_str(&text).unwrap();
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        for value in doc["cases"].as_array().unwrap() {
            cases.push(Case {
                file: file.clone(),
                value: value.clone(),
            });
        }
    }
    cases
}

fn config_of(spec: &Value) -> Config {
    let ids = spec["app_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap());
    let mut builder = Config::builder(0).app_ids(ids);
    for token in spec["tokens"].as_array().unwrap() {
        builder = builder.token(Token::new(token.as_str().unwrap()).unwrap());
    }
    if let Some(window) = spec.get("window_seconds") {
        builder = builder.window_seconds(window.as_u64().unwrap());
    }
    if let Some(limits) = spec.get("limits") {
        let mut l = Limits::default();
        let get = |name: &str, default: usize| {
            limits
                .get(name)
                .map_or(default, |v| v.as_u64().unwrap() as usize)
        };
        l.max_body_bytes = get("max_body_bytes", l.max_body_bytes);
        l.max_items = get("max_items", l.max_items);
        l.max_user_id_bytes = get("max_user_id_bytes", l.max_user_id_bytes);
        l.max_remark_bytes = get("max_remark_bytes", l.max_remark_bytes);
        l.max_tag_name_bytes = get("max_tag_name_bytes", l.max_tag_name_bytes);
        l.max_depth = get("max_depth", l.max_depth);
        builder = builder.limits(l);
    }
    if let Some(policy) = spec.get("on_decider_error") {
        let policy = match policy["policy"].as_str().unwrap() {
            "reject" => FailurePolicy::Reject {
                code: ResultCode::new(policy["code"].as_i64().unwrap()).unwrap(),
                info: policy["info"].as_str().unwrap().to_owned(),
            },
            "allow" => FailurePolicy::Allow,
            "fail_callback" => FailurePolicy::FailCallback,
            other => panic!("unknown policy {other}"),
        };
        builder = builder.on_decider_error(policy);
    }
    builder.build().unwrap()
}

/// The scripted decision for one item, made through the public API so that
/// an invalid code fails the decider exactly as user code would.
fn scripted(script: Option<&Value>) -> Result<Decision, DeciderError> {
    match script {
        None => Ok(Decision::allow()),
        Some(Value::String(s)) if s == "allow" => Ok(Decision::allow()),
        Some(v) if v.get("reject").is_some() => {
            let r = &v["reject"];
            Ok(Decision::reject(
                r["code"].as_i64().unwrap(),
                r["info"].as_str().unwrap(),
            )?)
        }
        Some(v) if v.get("fail").is_some() => Err(DeciderError::new(v["fail"].as_str().unwrap())),
        Some(other) => panic!("unknown decision script {other}"),
    }
}

fn body_of(case: &Value) -> Vec<u8> {
    match (case.get("body"), case.get("body_base64")) {
        (Some(text), None) => text.as_str().unwrap().as_bytes().to_vec(),
        (None, Some(b64)) => base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().unwrap())
            .unwrap(),
        _ => panic!("a case needs exactly one of body and body_base64"),
    }
}

#[test]
fn every_vector_matches_byte_for_byte() {
    let cases = load_cases();
    let mut failures = Vec::new();
    for Case { file, value: case } in &cases {
        let name = case["name"].as_str().unwrap();
        let config = config_of(&case["config"]);
        let decisions = case.get("decisions").and_then(Value::as_array);
        let decider = decider_fn(|_, index, _| scripted(decisions.and_then(|d| d.get(index))));
        let body = body_of(case);
        let reply = handle(
            &config,
            case["query"].as_str().unwrap(),
            &body,
            case["now"].as_u64().unwrap(),
            &decider,
        );
        let expect = &case["expect"];
        let got_error = reply.error.as_ref().map(|e| e.code());
        let got_body = String::from_utf8_lossy(&reply.body);
        if u64::from(reply.status) != expect["status"].as_u64().unwrap()
            || got_error != expect["error"].as_str()
            || got_body != expect["body"].as_str().unwrap()
        {
            failures.push(format!(
                "{file}/{name}:\n  expected {} {:?} {}\n  got      {} {:?} {}",
                expect["status"],
                expect["error"],
                expect["body"],
                reply.status,
                got_error,
                got_body
            ));
        }
        assert_eq!(reply.content_type, "application/json");
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn vectors_are_many_and_cover_every_error_code() {
    let cases = load_cases();
    assert!(cases.len() >= 50, "only {} cases", cases.len());
    let mut names: Vec<&str> = cases
        .iter()
        .map(|c| c.value["name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    let before = names.len();
    names.dedup();
    assert_eq!(before, names.len(), "case names must be unique");
    let seen: Vec<&str> = cases
        .iter()
        .filter_map(|c| c.value["expect"]["error"].as_str())
        .collect();
    // invalid_result_code is refused where a decision is made; the vectors
    // see it through the decider_failed reason it produces. The transport
    // codes are raised by HTTP hosts around `handle`, and tested there.
    let not_from_handle = [
        "invalid_result_code",
        "method_not_allowed",
        "request_timeout",
        "overloaded",
    ];
    for code in friendgate_core::error::ERROR_CODES {
        if not_from_handle.contains(code) {
            continue;
        }
        assert!(seen.contains(code), "no vector expects `{code}`");
    }
}
