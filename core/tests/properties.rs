//! Property tests: `handle` always answers with a well-formed reply, and
//! generated callbacks survive parse and answer unchanged.

// Test code: a failed expectation should stop with a message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use friendgate_core::testing::{QueryBuilder, SAMPLE_ADD_BODY, SAMPLE_BODY};
use friendgate_core::{
    add_decider_fn, decider_fn, handle, handle_add, respond, verify, Config, DeciderError,
    Decision, Platform, Reply, ResponseAction, Token, FRIEND_ADD,
};
use proptest::prelude::*;
use serde_json::{json, Value};

const APP: u64 = 1_400_000_000;
const TOKEN: &str = "prop-token";
const NOW: u64 = 1_700_000_000;

fn config() -> Config {
    Config::builder(APP)
        .token(Token::new(TOKEN).unwrap())
        .build()
        .unwrap()
}

fn signed() -> String {
    QueryBuilder::new(APP).signed(TOKEN, NOW).build()
}

/// A reply is well formed: JSON with the four fields in order, OK exactly
/// when 200, codes in range, and a FAIL carries an error.
fn assert_well_formed(reply: &Reply, items: Option<usize>) {
    let text = std::str::from_utf8(&reply.body).expect("answer is UTF-8");
    let value: Value = serde_json::from_str(text).expect("answer is JSON");
    let keys: Vec<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        ["ActionStatus", "ErrorCode", "ErrorInfo", "ResultItem"]
    );
    let code = value["ErrorCode"].as_u64().unwrap();
    let results = value["ResultItem"].as_array().unwrap();
    if reply.status == 200 {
        assert_eq!(value["ActionStatus"], "OK");
        assert_eq!(code, 0);
        assert!(reply.error.is_none());
        if let Some(items) = items {
            assert_eq!(results.len(), items);
        }
        for result in results {
            let rc = result["ResultCode"].as_u64().unwrap();
            assert!(rc == 0 || (38000..=39000).contains(&rc));
        }
    } else {
        assert_eq!(value["ActionStatus"], "FAIL");
        assert!((38000..=39000).contains(&code));
        let error = reply.error.as_ref().expect("a FAIL has an error");
        assert_eq!(u64::from(error.error_code()), code);
        assert_eq!(error.http_status(), reply.status);
        assert!(results.is_empty());
    }
}

/// `handle` under the signed test query, every item allowed.
fn allow_all(body: &[u8]) -> Reply {
    handle(&config(), &signed(), body, NOW, &friendgate_core::AllowAll)
}

fn user_id() -> impl Strategy<Value = String> {
    // Any Unicode, within the 32-byte UserID limit.
    "\\PC{1,10}".prop_filter("32 bytes at most", |s| s.len() <= 32)
}

fn text(max: usize) -> impl Strategy<Value = String> {
    "\\PC{0,30}".prop_filter("byte limit", move |s| s.len() <= max)
}

fn action() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("Response_Action_AgreeAndAdd".to_owned()),
        Just("Response_Action_Agree".to_owned()),
        Just("Response_Action_Reject".to_owned()),
        "[A-Za-z_]{1,20}",
    ]
}

#[derive(Debug, Clone)]
struct GenItem {
    to: String,
    remark: String,
    tag: String,
    action: String,
    decision: Option<(i64, String)>,
}

impl GenItem {
    /// The scripted decision, made through the public API.
    fn outcome(&self) -> Result<Decision, DeciderError> {
        match &self.decision {
            None => Ok(Decision::allow()),
            Some((code, info)) => Ok(Decision::reject(*code, info.clone())?),
        }
    }
}

fn gen_item() -> impl Strategy<Value = GenItem> {
    (
        user_id(),
        text(96),
        text(96),
        action(),
        proptest::option::of((37990i64..39010, text(40))),
    )
        .prop_map(|(to, remark, tag, action, decision)| GenItem {
            to,
            remark,
            tag,
            action,
            decision,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_query_and_bytes_get_a_well_formed_reply(query in ".{0,200}", body in proptest::collection::vec(any::<u8>(), 0..400)) {
        let reply = handle(&config(), &query, &body, NOW, &friendgate_core::AllowAll);
        assert_well_formed(&reply, None);
    }

    #[test]
    fn any_body_under_a_valid_signature_gets_a_well_formed_reply(body in proptest::collection::vec(any::<u8>(), 0..400)) {
        let reply = allow_all(&body);
        assert_well_formed(&reply, None);
        prop_assert_ne!(reply.status, 401);
    }

    #[test]
    fn any_json_text_gets_a_well_formed_reply(body in "[\\[\\]{}\":,0-9a-zA-Z_ \\\\.-]{0,300}") {
        let reply = allow_all(body.as_bytes());
        assert_well_formed(&reply, None);
    }

    #[test]
    fn mutated_sample_gets_a_well_formed_reply(at in 0usize..SAMPLE_BODY.len(), byte in any::<u8>(), cut in 0usize..=SAMPLE_BODY.len()) {
        let mut body = SAMPLE_BODY.as_bytes().to_vec();
        body[at] = byte;
        let reply = allow_all(&body);
        assert_well_formed(&reply, None);
        let reply = allow_all(&SAMPLE_BODY.as_bytes()[..cut]);
        assert_well_formed(&reply, None);
    }

    #[test]
    fn generated_callbacks_round_trip(from in user_id(), items in proptest::collection::vec(gen_item(), 0..20), extra in text(20)) {
        let body = json!({
            "Extra": {"nested": [extra.clone(), 1, null]},
            "CallbackCommand": "Sns.CallbackPrevFriendResponse",
            "Requester_Account": from,
            "From_Account": from,
            "ResponseFriendItem": items.iter().map(|i| json!({
                "To_Account": i.to, "Remark": i.remark, "TagName": i.tag, "ResponseAction": i.action,
            })).collect::<Vec<_>>(),
            "EventTime": 1_631_777_645_424u64,
        }).to_string();
        let query = signed();
        let callback = verify(&config(), &query, body.as_bytes(), NOW).unwrap();
        prop_assert_eq!(callback.from_account(), from.as_str());
        prop_assert_eq!(callback.items().len(), items.len());
        for (parsed, generated) in callback.items().iter().zip(&items) {
            prop_assert_eq!(&parsed.to_account, &generated.to);
            prop_assert_eq!(&parsed.remark, &generated.remark);
            prop_assert_eq!(&parsed.tag_name, &generated.tag);
            prop_assert_eq!(parsed.action.as_str(), generated.action.as_str());
            prop_assert_eq!(ResponseAction::from_wire(generated.action.as_str().into()), parsed.action.clone());
        }

        // Answer with the scripted decisions; invalid codes fall to the policy.
        let decider = decider_fn(|_, index, _| items[index].outcome());
        let reply = handle(&config(), &query, body.as_bytes(), NOW, &decider);
        assert_well_formed(&reply, Some(items.len()));
        let answer: Value = serde_json::from_slice(&reply.body).unwrap();
        for (result, generated) in answer["ResultItem"].as_array().unwrap().iter().zip(&items) {
            prop_assert_eq!(result["To_Account"].as_str().unwrap(), generated.to.as_str());
            let (code, info) = match &generated.decision {
                None => (0, String::new()),
                Some((code, info)) if (38000..=39000).contains(code) => (*code as u64, info.clone()),
                Some(_) => (38900, "decision unavailable".to_owned()),
            };
            prop_assert_eq!(result["ResultCode"].as_u64().unwrap(), code);
            prop_assert_eq!(result["ResultInfo"].as_str().unwrap(), info.as_str());
        }

        // The split flow (verify, decide elsewhere, respond) gives the same bytes.
        let outcomes = items.iter().map(GenItem::outcome);
        prop_assert_eq!(respond(&config(), &callback, outcomes).body, reply.body.clone());

        // An owned copy answers the same way after the buffers are gone.
        let owned = callback.clone().into_owned();
        prop_assert_eq!(&owned, &callback);
        drop(body);
        prop_assert_eq!(respond(&config(), &owned, items.iter().map(GenItem::outcome)).body, reply.body);
    }

    #[test]
    fn any_friend_request_body_gets_a_well_formed_reply(body in proptest::collection::vec(any::<u8>(), 0..400), at in 0usize..SAMPLE_ADD_BODY.len(), byte in any::<u8>()) {
        let query = QueryBuilder::new(APP).command(FRIEND_ADD).signed(TOKEN, NOW).build();
        let reply = handle_add(&config(), &query, &body, NOW, &friendgate_core::AllowAll);
        assert_well_formed(&reply, None);
        let mut mutated = SAMPLE_ADD_BODY.as_bytes().to_vec();
        mutated[at] = byte;
        assert_well_formed(&handle_add(&config(), &query, &mutated, NOW, &friendgate_core::AllowAll), None);
    }

    #[test]
    fn generated_friend_requests_round_trip(from in user_id(), items in proptest::collection::vec((user_id(), text(300), text(40)), 0..20), add_type in "\\PC{0,20}") {
        let body = json!({
            "CallbackCommand": FRIEND_ADD,
            "From_Account": from,
            "FriendItem": items.iter().map(|(to, wording, group)| json!({
                "To_Account": to, "AddWording": wording, "GroupName": group,
            })).collect::<Vec<_>>(),
            "AddType": add_type,
        }).to_string();
        let query = QueryBuilder::new(APP).command(FRIEND_ADD).signed(TOKEN, NOW).build();
        // Any greeting of any length is decided, and read back as sent.
        let callback = friendgate_core::verify_for::<friendgate_core::FriendAdd>(&config(), &query, body.as_bytes(), NOW).unwrap();
        prop_assert_eq!(callback.add_type().as_str(), add_type.as_str());
        for (parsed, (to, wording, group)) in callback.items().iter().zip(&items) {
            prop_assert_eq!(&parsed.to_account, to);
            prop_assert_eq!(&parsed.add_wording, wording);
            prop_assert_eq!(&parsed.group_name, group);
        }
        let decider = add_decider_fn(|_, index, _| Ok(if index % 2 == 1 { Decision::reject(38010, "odd")? } else { Decision::allow() }));
        let reply = handle_add(&config(), &query, body.as_bytes(), NOW, &decider);
        assert_well_formed(&reply, Some(items.len()));
        let owned = friendgate_core::Verified::from(callback).into_owned();
        let outcomes = (0..items.len()).map(|index| Ok(if index % 2 == 1 { Decision::reject(38010, "odd")? } else { Decision::allow() }));
        prop_assert_eq!(owned.respond(&config(), outcomes).body, reply.body);
    }

    #[test]
    fn query_builder_and_parser_agree(platform in "\\PC{1,12}", ip in "\\PC{1,40}", time in 0u64..=u64::MAX) {
        let query = QueryBuilder::new(APP).platform(&platform).client_ip(&ip).signed(TOKEN, time).build();
        let parsed = friendgate_core::CallbackQuery::parse(&query).unwrap();
        prop_assert_eq!(parsed.sdk_app_id, APP);
        let client_ip = parsed.client_ip.clone().unwrap();
        prop_assert_eq!(client_ip.as_str(), ip.as_str());
        let expected = Platform::from_wire(platform.as_str().into());
        prop_assert_eq!(parsed.platform.unwrap(), expected);
        prop_assert_eq!(parsed.request_time.unwrap().seconds(), time);
    }
}

#[test]
fn huge_inputs_are_refused_quickly_and_boundedly() {
    // 1 MiB of nested arrays, 60k distinct unknown keys, 5000 items: each is
    // refused or answered without recursion blow-up or quadratic work.
    let deep = format!("{{\"X\":{}0{}}}", "[".repeat(600_000), "]".repeat(600_000));
    let reply = allow_all(deep.as_bytes());
    assert_eq!(reply.error.unwrap().code(), "body_too_large");
    let deep = format!("{{\"X\":{}0{}}}", "[".repeat(100_000), "]".repeat(100_000));
    let reply = allow_all(deep.as_bytes());
    assert_eq!(reply.error.unwrap().code(), "too_deep");

    let keys: String = (0..60_000).map(|i| format!("\"k{i}\":0,")).collect();
    let wide = SAMPLE_BODY.replacen('{', &format!("{{{keys}"), 1);
    let reply = allow_all(wide.as_bytes());
    assert_eq!(reply.status, 200);

    let many = friendgate_core::testing::body_with_items("spammer", 5000);
    let reply = allow_all(many.as_bytes());
    assert_eq!(reply.error.unwrap().code(), "too_many_items");
}

#[test]
fn a_panicking_decider_is_a_failed_decision_not_a_crash() {
    let decider = decider_fn(|_, index, _| {
        if index == 1 {
            panic!("bug in user code");
        }
        Ok(Decision::allow())
    });
    let reply = handle(&config(), &signed(), SAMPLE_BODY.as_bytes(), NOW, &decider);
    assert_eq!(reply.status, 200);
    assert_eq!(
        String::from_utf8(reply.body).unwrap(),
        r#"{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","ResultItem":[{"To_Account":"id1","ResultCode":0,"ResultInfo":""},{"To_Account":"id2","ResultCode":38900,"ResultInfo":"decision unavailable"}]}"#
    );
}

#[test]
fn respond_fills_missing_outcomes_with_the_policy() {
    let query = signed();
    let callback = verify(&config(), &query, SAMPLE_BODY.as_bytes(), NOW).unwrap();
    let reply = respond(&config(), &callback, [Ok(Decision::allow())]);
    assert!(String::from_utf8(reply.body)
        .unwrap()
        .contains(r#"{"To_Account":"id2","ResultCode":38900"#));
}
