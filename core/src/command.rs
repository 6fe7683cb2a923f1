//! `CallbackCommand`: an app has one callback URL for every callback it
//! turns on, told apart only by this query parameter. This module knows the
//! commands the Chat documentation lists (so that hosts label logs and
//! metrics with bounded cardinality) and the answer the platform expects
//! from a callback nobody decides.

/// `Sns.CallbackPrevFriendResponse`: before a friend request is answered.
pub const FRIEND_RESPONSE: &str = "Sns.CallbackPrevFriendResponse";

/// `Sns.CallbackPrevFriendAdd`: before a friend request is sent.
pub const FRIEND_ADD: &str = "Sns.CallbackPrevFriendAdd";

/// The commands friendgate decides item by item, at the one URL.
pub const DECIDED_COMMANDS: [&str; 2] = [FRIEND_RESPONSE, FRIEND_ADD];

/// The commands the Chat documentation lists (third-party callbacks), in
/// groups. A command not here is still authenticated and routed: the
/// platform may add commands; only its label is `other`.
pub const DOCUMENTED_COMMANDS: &[&str] = &[
    "State.StateChange",
    "Profile.CallbackPortraitSet",
    "Sns.CallbackPrevFriendAdd",
    "Sns.CallbackPrevFriendResponse",
    "Sns.CallbackFriendAdd",
    "Sns.CallbackFriendDelete",
    "Sns.CallbackBlackListAdd",
    "Sns.CallbackBlackListDelete",
    "C2C.CallbackBeforeSendMsg",
    "C2C.CallbackAfterSendMsg",
    "C2C.CallbackAfterMsgReport",
    "C2C.CallbackAfterMsgWithDraw",
    "Group.CallbackBeforeCreateGroup",
    "Group.CallbackAfterCreateGroup",
    "Group.CallbackBeforeApplyJoinGroup",
    "Group.CallbackBeforeInviteJoinGroup",
    "Group.CallbackAfterNewMemberJoin",
    "Group.CallbackAfterMemberExit",
    "Group.CallbackBeforeSendMsg",
    "Group.CallbackAfterSendMsg",
    "Group.CallbackAfterGroupFull",
    "Group.CallbackAfterGroupDestroyed",
    "Group.CallbackAfterGroupInfoChanged",
    "Group.CallbackAfterRecallMsg",
    "Group.CallbackBeforeRecallMsg",
    "Group.CallbackAfterMemberFieldChanged",
    "Group.CallbackAfterGrantAdmin",
    "Group.CallbackAfterRevokeAdmin",
];

/// The label for `command` in logs and metrics: the command itself when the
/// documentation lists it, else `other` (a sender cannot grow a label set).
pub fn command_label(command: &str) -> &'static str {
    DOCUMENTED_COMMANDS
        .iter()
        .find(|known| **known == command)
        .copied()
        .unwrap_or("other")
}

/// What an endpoint at the one URL answers a callback it does not decide
/// and has nowhere to send: the platform's "processed, go on" (for an
/// "after" callback, success; for a "before" one, `ErrorCode` 0 lets the
/// action through, exactly as a refused callback would, without counting as
/// a failure).
pub const PROCESSED_ANSWER: &str = r#"{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":""}"#;

/// Whether `pattern` (an exact command, a prefix ending in `*` such as
/// `C2C.*`, or `*`) covers `command`.
pub fn command_matches(pattern: &str, command: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => command.starts_with(prefix),
        None => pattern == command,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_bounded() {
        assert_eq!(
            command_label("C2C.CallbackAfterSendMsg"),
            "C2C.CallbackAfterSendMsg"
        );
        assert_eq!(command_label("C2C.CallbackFromTheFuture"), "other");
        assert_eq!(command_label(""), "other");
    }

    #[test]
    fn patterns() {
        assert!(command_matches("C2C.*", "C2C.CallbackAfterSendMsg"));
        assert!(!command_matches("C2C.*", "Group.CallbackAfterSendMsg"));
        assert!(command_matches("*", "anything"));
        assert!(command_matches("State.StateChange", "State.StateChange"));
        assert!(!command_matches("State.StateChange", "State.StateChanged"));
    }

    #[test]
    fn the_processed_answer_is_json() {
        let value: serde_json::Value = serde_json::from_str(PROCESSED_ANSWER).unwrap();
        assert_eq!(value["ActionStatus"], "OK");
        assert_eq!(value["ErrorCode"], 0);
    }
}
