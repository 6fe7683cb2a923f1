use std::time::Duration;

use super::*;
use crate::testing::vectors::{load_dir, vectors_dir};
use crate::testing::{SAMPLE_APP_ID, SAMPLE_TOKEN};
use crate::{Config, Limits, Token};

const NOW: u64 = 1_800_000_000;

fn target(app_id: u64, token: Option<&str>) -> Target {
    let mut builder = Config::builder(app_id);
    if let Some(token) = token {
        builder = builder.token(Token::new(token).unwrap());
    }
    Target::new(builder.build().unwrap())
}

fn strict() -> Rules {
    Rules {
        strict: true,
        latency_budget: Duration::from_secs(1),
        one_url: false,
    }
}

/// Core configured like the target answers every prepared case as the case
/// expects, strictly: the simulator's expectations and core agree.
fn core_passes(target: &Target) -> usize {
    let mut cases = cases(target).unwrap();
    cases.extend(crate::conformance::one_url_cases(target));
    let mut run = 0;
    for case in &cases {
        let Some(prepared) = case.prepare(target, NOW) else {
            continue;
        };
        // A host at the one URL: any command is authenticated, friend
        // callbacks decided, and other commands get core's processed answer.
        let reply = match prepared.method {
            Method::Post => {
                let deciders = crate::Deciders::default();
                match crate::handle_one_url(
                    target.config(),
                    &prepared.query,
                    prepared.body,
                    NOW,
                    deciders,
                ) {
                    crate::OneUrl::Reply(reply) => reply,
                    crate::OneUrl::Other(_) => crate::Reply::processed(),
                }
            }
            Method::Get => crate::Reply::from_error(crate::CallbackError::MethodNotAllowed {
                method: "GET".into(),
            }),
        };
        let observed = Observed {
            status: reply.status,
            body: &reply.body,
            elapsed: Duration::from_millis(1),
        };
        let verdict = judge(&prepared.expect, Ok(observed), &strict());
        assert!(
            verdict.passed,
            "{}: {:?} {}",
            case.name, verdict, prepared.query
        );
        run += 1;
    }
    run
}

#[test]
fn the_compiled_in_vectors_are_the_files() {
    let names = |cases: Vec<VectorCase>| cases.into_iter().map(|c| c.name).collect::<Vec<_>>();
    assert_eq!(
        names(embedded().unwrap()),
        names(load_dir(&vectors_dir()).unwrap())
    );
}

#[test]
fn every_vector_and_the_generated_cases_are_there_once() {
    let cases = cases(&target(SAMPLE_APP_ID, Some(SAMPLE_TOKEN))).unwrap();
    let vectors = embedded().unwrap();
    assert!(cases.len() >= vectors.len() + 10);
    let mut names: Vec<&str> = cases.iter().map(|c| c.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), cases.len(), "names are unique");
    for family in [
        "sign",
        "query",
        "body",
        "limits",
        "transport",
        "window",
        "platform",
    ] {
        assert!(families(&cases).contains(&family), "{family}");
    }
}

#[test]
fn core_passes_its_own_conformance() {
    assert!(core_passes(&target(SAMPLE_APP_ID, Some(SAMPLE_TOKEN))) > 100);
    assert!(core_passes(&target(1_400_012_345, Some("another token"))) > 100);
    assert!(core_passes(&target(SAMPLE_APP_ID, None)) > 80);
}

#[test]
fn translation_keeps_what_each_vector_shows() {
    // For a vector run with the endpoint's own settings (default window and
    // limits, a token, no decider policy), the translated case must expect
    // what the vector expects, against an endpoint with another app id,
    // token and clock.
    let target = target(1_400_012_345, Some("another token"));
    let cases = cases(&target).unwrap();
    let mut checked = 0;
    for vector in embedded().unwrap() {
        let config = &vector.config;
        if config.window_seconds() != 60
            || *config.limits() != Limits::default()
            || !config.authentication_on()
            || vector.expect.error.as_deref() == Some("decider_failed")
        {
            continue;
        }
        let case = cases.iter().find(|c| c.name == vector.name).unwrap();
        let prepared = case.prepare(&target, NOW).unwrap();
        match (&prepared.expect, &vector.expect.error) {
            (Expect::Answer { .. }, None) => {}
            // `handle` serves this callback alone; at the one URL a signed
            // callback of another command is answered OK.
            (Expect::Processed, Some(want)) if want == "unexpected_command" => {}
            // ...and the other friend command is decided as one: this body
            // is the first's, so it lacks the other's items.
            (Expect::Refuse { code, .. }, Some(want)) if want == "unexpected_command" => {
                assert_eq!(*code, "missing_field", "{}", vector.name)
            }
            (Expect::Refuse { code, .. }, Some(want)) => assert_eq!(code, want, "{}", vector.name),
            (got, want) => panic!("{}: {got:?} for {want:?} ({})", vector.name, prepared.query),
        }
        checked += 1;
    }
    assert!(checked > 70, "{checked}");
}

#[test]
fn the_query_follows_the_endpoint() {
    let target = target(1_400_012_345, Some("another token"));
    let cases = cases(&target).unwrap();
    let prepared = |name: &str| {
        let case = cases.iter().find(|c| c.name == name).unwrap();
        case.prepare(&target, NOW).unwrap().query
    };
    let signed = crate::testing::QueryBuilder::new(1_400_012_345)
        .signed("another token", NOW)
        .build();
    assert_eq!(prepared("page_sample_signed").len(), signed.len());
    assert!(prepared("page_sample_signed").contains(&format!(
        "RequestTime={NOW}&Sign={}",
        crate::testing::sign("another token", NOW)
    )));
    // The vector's edge (-60 s) moves 5 s inside; the vector's app id is replaced.
    assert!(prepared("window_minus_60").contains(&format!("RequestTime={}", NOW - 55)));
    assert!(prepared("window_minus_61").contains(&format!("RequestTime={}", NOW - 65)));
    assert!(prepared("window_minus_60").contains("SdkAppid=1400012345&"));
    assert!(prepared("query_foreign_app_id").contains("SdkAppid="));
    assert!(!prepared("query_foreign_app_id").contains("SdkAppid=1400012345&"));
    // Upper-case Signs stay upper case; leading zeros stay.
    let upper = crate::testing::sign("another token", NOW).to_ascii_uppercase();
    assert!(prepared("sign_uppercase_hex").contains(&upper));
    assert!(prepared("request_time_leading_zero").contains(&format!("RequestTime=0{NOW}")));
    // Unsigned vectors are signed for an endpoint with a token.
    assert!(prepared("page_sample_unsigned").contains("&Sign="));
    // Forged Signs stay forged.
    assert!(!prepared("hostile_sign_forged").contains(&crate::testing::sign("another token", NOW)));
}

#[test]
fn unsigned_endpoints_skip_authentication_cases_with_a_reason() {
    let target = target(SAMPLE_APP_ID, None);
    let cases = cases(&target).unwrap();
    let skipped: Vec<&Case> = cases.iter().filter(|c| c.skipped().is_some()).collect();
    for name in [
        "sign_missing",
        "window_minus_61",
        "hostile_sign_forged",
        "hostile_sign_stale",
    ] {
        let case = skipped.iter().find(|c| c.name == name).unwrap();
        assert!(case.skipped().unwrap().contains("no token"), "{name}");
        assert!(case.prepare(&target, NOW).is_none());
    }
    let sample = cases
        .iter()
        .find(|c| c.name == "hostile_foreign_app_id")
        .unwrap();
    assert!(!sample
        .prepare(&target, NOW)
        .unwrap()
        .query
        .contains("Sign="));
    // And the other way round: an "authentication off" vector cannot run
    // against an endpoint with a token.
    let signed = cases_for_token();
    let case = signed
        .iter()
        .find(|c| c.name == "no_tokens_ignores_sign")
        .unwrap();
    assert!(case.skipped().unwrap().contains("authentication off"));
}

fn cases_for_token() -> Vec<Case> {
    cases(&target(SAMPLE_APP_ID, Some(SAMPLE_TOKEN))).unwrap()
}

#[test]
fn an_endpoint_that_allows_everything_fails_the_hostile_cases() {
    let target = target(SAMPLE_APP_ID, Some(SAMPLE_TOKEN));
    let mut failed = Vec::new();
    let mut warned = Vec::new();
    for case in cases(&target).unwrap() {
        let Some(prepared) = case.prepare(&target, NOW) else {
            continue;
        };
        // What a hand-written endpoint often does: allow, one item per "To_Account" it can find.
        let items: Vec<String> = match &prepared.expect {
            Expect::Answer { to_accounts, .. } => to_accounts.clone(),
            Expect::Refuse { .. } => vec!["x".to_owned()],
            Expect::Processed => Vec::new(),
        };
        let body = serde_json::json!({
            "ActionStatus": "OK", "ErrorCode": 0, "ErrorInfo": "",
            "ResultItem": items.iter().map(|a| serde_json::json!({"To_Account": a, "ResultCode": 0, "ResultInfo": ""})).collect::<Vec<_>>(),
        })
        .to_string();
        let observed = Observed {
            status: 200,
            body: body.as_bytes(),
            elapsed: Duration::ZERO,
        };
        match judge(&prepared.expect, Ok(observed), &Rules::default()).level {
            crate::conformance::Level::Fail => failed.push(case.name),
            crate::conformance::Level::Warn => warned.push(case.name),
            _ => {}
        }
    }
    for name in [
        "hostile_sign_forged",
        "hostile_sign_stale",
        "hostile_sign_future",
        "hostile_foreign_app_id",
        "sign_missing",
    ] {
        assert!(
            failed.iter().any(|f| f == name),
            "{name} not caught: {failed:?}"
        );
    }
    // What the protocol is silent on only warns.
    for name in [
        "hostile_body_oversized",
        "hostile_items_too_many",
        "hostile_deep_nesting",
        "hostile_body_binary",
        "transport_get",
        "body_invalid_utf8",
        "body_truncated",
    ] {
        assert!(
            warned.iter().any(|w| w == name),
            "{name} not warned: {warned:?}"
        );
        assert!(!failed.iter().any(|f| f == name), "{name} failed");
    }
    assert!(!failed.iter().any(|f| f == "page_sample_signed"));
}
