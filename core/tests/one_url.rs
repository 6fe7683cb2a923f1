//! The one callback URL: every command is authenticated alike; only this
//! callback goes on to the deciders.

// Test code: a failed expectation should stop with a message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use friendgate_core::{
    authenticate_any, command_label, route_query, testing, verify_query, Config, Routed, Token,
};

const NOW: u64 = 1_700_000_000;

fn config() -> Config {
    Config::builder(testing::SAMPLE_APP_ID)
        .token(Token::new(testing::SAMPLE_TOKEN).unwrap())
        .build()
        .unwrap()
}

fn query(command: &str, token: &str, time: u64) -> String {
    testing::signed_query(testing::SAMPLE_APP_ID, token, time)
        .replace("Sns.CallbackPrevFriendResponse", command)
}

#[test]
fn other_commands_are_authenticated_and_routed() {
    let config = config();
    let signed = query("C2C.CallbackAfterSendMsg", testing::SAMPLE_TOKEN, NOW);
    match route_query(&config, &signed, NOW).unwrap() {
        Routed::Other(query) => {
            assert_eq!(query.callback_command, "C2C.CallbackAfterSendMsg");
            let view = query.view();
            assert!(view.command_known);
            assert_eq!(view.request_time, Some(NOW));
        }
        other => panic!("{other:?}"),
    }
    let ours = query("Sns.CallbackPrevFriendResponse", testing::SAMPLE_TOKEN, NOW);
    assert!(matches!(
        route_query(&config, &ours, NOW),
        Ok(Routed::FriendResponse(_))
    ));
    // A command the platform adds later is routed too, labelled `other`.
    let new = query("Future.CallbackSomething", testing::SAMPLE_TOKEN, NOW);
    let Ok(Routed::Other(query)) = route_query(&config, &new, NOW) else {
        panic!("a new command must be routed")
    };
    assert!(!query.view().command_known);
    assert_eq!(command_label(&query.callback_command), "other");
}

#[test]
fn forged_stale_and_foreign_callbacks_of_any_command_are_refused() {
    let config = config();
    let forged = query("C2C.CallbackAfterSendMsg", "not-the-token", NOW);
    assert_eq!(
        route_query(&config, &forged, NOW).unwrap_err().code(),
        "bad_signature"
    );
    let stale = query(
        "Group.CallbackAfterNewMemberJoin",
        testing::SAMPLE_TOKEN,
        NOW - 61,
    );
    assert_eq!(
        authenticate_any(&config, &stale, NOW).unwrap_err().code(),
        "request_time_too_old"
    );
    let foreign = query("State.StateChange", testing::SAMPLE_TOKEN, NOW)
        .replace(&testing::SAMPLE_APP_ID.to_string(), "1400000001");
    assert_eq!(
        route_query(&config, &foreign, NOW).unwrap_err().code(),
        "foreign_app_id"
    );
    let unsigned = "SdkAppid=1400000000&CallbackCommand=State.StateChange&contenttype=json";
    assert_eq!(
        route_query(&config, unsigned, NOW).unwrap_err().code(),
        "missing_signature"
    );
}

#[test]
fn a_host_that_answers_this_callback_alone_still_refuses_the_others() {
    let signed = query("C2C.CallbackAfterSendMsg", testing::SAMPLE_TOKEN, NOW);
    assert_eq!(
        verify_query(&config(), &signed, NOW).unwrap_err().code(),
        "unexpected_command"
    );
}

#[test]
fn one_url_decides_both_friend_commands_with_their_own_deciders() {
    use friendgate_core::{add_decider_fn, decider_fn, handle_one_url, Deciders, Decision, OneUrl};
    use std::cell::Cell;
    let config = config();
    let asked = Cell::new(0);
    let responses = decider_fn(|_, _, item| {
        asked.set(asked.get() + 1);
        Ok(Decision::reject(
            38001,
            format!("response {}", item.to_account),
        )?)
    });
    let requests = add_decider_fn(|_, _, item| {
        asked.set(asked.get() + 1);
        if item.add_wording.contains("id2") {
            Ok(Decision::reject(38010, "greeting")?)
        } else {
            Ok(Decision::allow())
        }
    });
    let deciders = Deciders {
        response: Some(&responses),
        add: Some(&requests),
    };
    let body_of = |outcome: OneUrl<'_>| match outcome {
        OneUrl::Reply(reply) => (reply.status, String::from_utf8(reply.body).unwrap()),
        OneUrl::Other(query) => panic!("{query:?}"),
    };
    let add = testing::signed_add_query(testing::SAMPLE_APP_ID, testing::SAMPLE_TOKEN, NOW);
    let (status, body) = body_of(handle_one_url(
        &config,
        &add,
        testing::SAMPLE_ADD_BODY.as_bytes(),
        NOW,
        deciders,
    ));
    assert_eq!(status, 200);
    assert!(body.contains(r#"{"To_Account":"id1","ResultCode":0,"ResultInfo":""},{"To_Account":"id2","ResultCode":38010,"ResultInfo":"greeting"}"#), "{body}");
    let response = query("Sns.CallbackPrevFriendResponse", testing::SAMPLE_TOKEN, NOW);
    let (_, body) = body_of(handle_one_url(
        &config,
        &response,
        testing::SAMPLE_BODY.as_bytes(),
        NOW,
        deciders,
    ));
    assert!(
        body.contains(r#""ResultCode":38001,"ResultInfo":"response id1""#),
        "{body}"
    );
    assert_eq!(asked.get(), 4);
    // An absent decider allows; another command is handed back.
    let (_, body) = body_of(handle_one_url(
        &config,
        &add,
        testing::SAMPLE_ADD_BODY.as_bytes(),
        NOW,
        Deciders::default(),
    ));
    assert!(!body.contains("38010"), "{body}");
    let other = query("C2C.CallbackAfterSendMsg", testing::SAMPLE_TOKEN, NOW);
    assert!(matches!(
        handle_one_url(&config, &other, b"{}", NOW, deciders),
        OneUrl::Other(_)
    ));
    // Forged, stale and foreign friend requests never reach a decider.
    let forged = testing::signed_add_query(testing::SAMPLE_APP_ID, "another token", NOW);
    let stale =
        testing::signed_add_query(testing::SAMPLE_APP_ID, testing::SAMPLE_TOKEN, NOW - 3600);
    let foreign = testing::signed_add_query(1_400_000_001, testing::SAMPLE_TOKEN, NOW);
    for (query, code) in [(forged, 401), (stale, 401), (foreign, 403)] {
        let (status, _) = body_of(handle_one_url(
            &config,
            &query,
            testing::SAMPLE_ADD_BODY.as_bytes(),
            NOW,
            deciders,
        ));
        assert_eq!(status, code, "{query}");
    }
    assert_eq!(asked.get(), 4);
}
