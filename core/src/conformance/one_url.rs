//! `--one-url` cases: the app has one callback URL for every command, so an
//! endpoint there must answer signed callbacks of other commands `OK`
//! (bodies from the Chat documentation, PROTOCOL.md) and refuse forged,
//! stale and foreign ones like any other.

use super::hostile::{case, needs_token};
use super::template::{Param, QueryTemplate};
use super::{Case, Target};

/// A command, its `OptPlatform` as the platform sends it, and a body.
const OTHER_COMMANDS: [(&str, &str, &str); 3] = [
    (
        "C2C.CallbackAfterSendMsg",
        "iOS",
        r#"{"CallbackCommand":"C2C.CallbackAfterSendMsg","From_Account":"jared","To_Account":"jonh","MsgSeq":48374,"MsgRandom":2837546,"MsgTime":1557481126,"MsgKey":"48374_2837546_1557481126","OnlineOnlyFlag":1,"SendMsgResult":0,"ErrorInfo":"send msg succeed","UnreadMsgNum":7,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"hello"}}],"CloudCustomData":"","EventTime":1670574414123}"#,
    ),
    (
        "State.StateChange",
        "IOS",
        r#"{"CallbackCommand":"State.StateChange","EventTime":1670574414123,"Info":{"Action":"Login","To_Account":"jared","Reason":"Register"},"KickedDevice":[{"Platform":"Windows"}]}"#,
    ),
    (
        "Group.CallbackAfterNewMemberJoin",
        "Android",
        r#"{"CallbackCommand":"Group.CallbackAfterNewMemberJoin","GroupId":"@TGS#2J4SZEAEL","Type":"Public","JoinType":"Apply","Operator_Account":"leckie","NewMemberList":[{"Member_Account":"jared"}],"EventTime":1670574414123}"#,
    ),
];

const FAR: i64 = 3600;

pub(super) fn cases(target: &Target) -> Vec<Case> {
    // At the one URL, a friend request is decided, not forwarded or
    // answered "processed": one ResultItem per item.
    let mut cases = vec![Case {
        command: crate::command::FRIEND_ADD,
        ..case(
            "one_url_friend_request_decided",
            "one_url",
            "a signed Sns.CallbackPrevFriendAdd: decided item by item, not passed on",
            QueryTemplate::platform(0).set(
                "CallbackCommand",
                Some(Param::Raw(format!(
                    "CallbackCommand={}",
                    crate::command::FRIEND_ADD
                ))),
            ),
            crate::testing::SAMPLE_ADD_BODY.as_bytes().to_vec(),
        )
    }];
    for (command, platform, body) in OTHER_COMMANDS {
        let query = |offset| {
            QueryTemplate::platform(offset)
                .set(
                    "CallbackCommand",
                    Some(Param::Raw(format!("CallbackCommand={command}"))),
                )
                .set(
                    "OptPlatform",
                    Some(Param::Raw(format!("OptPlatform={platform}"))),
                )
        };
        let short = command.replace('.', "_").to_lowercase();
        let body = body.as_bytes().to_vec();
        cases.push(case(
            &format!("one_url_{short}"),
            "one_url",
            &format!("a signed {command} callback at the one URL"),
            query(0),
            body.clone(),
        ));
        let signed = |case: Case| needs_token(target, case);
        cases.push(signed(case(
            &format!("one_url_{short}_forged"),
            "one_url",
            &format!("{command} with a Sign made with another token"),
            query(0).set("Sign", Some(Param::ForgedSign)),
            body.clone(),
        )));
        cases.push(signed(case(
            &format!("one_url_{short}_stale"),
            "one_url",
            &format!("{command} with a valid Sign made an hour ago"),
            query(-FAR),
            body.clone(),
        )));
        cases.push(case(
            &format!("one_url_{short}_foreign"),
            "one_url",
            &format!("{command} for another app id"),
            query(0).set("SdkAppid", Some(Param::ForeignAppId)),
            body,
        ));
    }
    cases
}
