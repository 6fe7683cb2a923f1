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
