//! What the rules read of an item, whichever friend command it came in: a
//! [`Subject`] per item, built by the command's [`Ruled`] impl. Rules never
//! see core's typed callbacks, so a third command is one more impl here.

use friendgate_core::{
    AddItem, FriendAdd, FriendAddCallback, FriendCommand, FriendResponse, FriendResponseCallback,
    ResponseAction, ResponseItem,
};

pub use crate::decided::Command;
use crate::policy::spec::TextField;

impl Command {
    /// The text fields a `words` rule reads when it names none.
    pub(crate) fn default_word_fields(self) -> &'static [TextField] {
        match self {
            Self::FriendResponse => &[TextField::Remark, TextField::TagName],
            Self::FriendRequest => &[
                TextField::Remark,
                TextField::GroupName,
                TextField::AddWording,
            ],
        }
    }
}

/// One item as the rules read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Subject<'a> {
    pub(crate) command: Command,
    /// `From_Account`: whose responses or requests a rate limit counts.
    pub(crate) from: &'a str,
    /// `To_Account`.
    pub(crate) to: &'a str,
    /// What an `action` rule and a rate limit's `actions` compare:
    /// `ResponseAction` of a response, `AddType` of a request.
    pub(crate) action: &'a str,
    /// Whether a rate limit without `actions` counts it: a response that
    /// accepts, and every request.
    pub(crate) counted: bool,
    remark: &'a str,
    tag_name: &'a str,
    group_name: &'a str,
    add_wording: &'a str,
    add_source: &'a str,
}

#[cfg(test)]
impl<'a> Subject<'a> {
    /// A friend response's item to `to` with `action`, for tests.
    pub(crate) fn response(to: &'a str, action: &'a str) -> Self {
        Self {
            command: Command::FriendResponse,
            from: "",
            to,
            action,
            counted: true,
            remark: "",
            tag_name: "",
            group_name: "",
            add_wording: "",
            add_source: "",
        }
    }
}

impl<'a> Subject<'a> {
    /// Its text `field`, `None` when its command has no such field.
    pub(crate) fn text(&self, field: TextField) -> Option<&'a str> {
        let text = match (self.command, field) {
            (_, TextField::Remark) => self.remark,
            (Command::FriendResponse, TextField::TagName) => self.tag_name,
            (Command::FriendRequest, TextField::GroupName) => self.group_name,
            (Command::FriendRequest, TextField::AddWording) => self.add_wording,
            (Command::FriendRequest, TextField::AddSource) => self.add_source,
            _ => return None,
        };
        Some(text)
    }
}

/// What the log line and the event say of a callback besides its items.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Header<'c> {
    pub(crate) command: Command,
    pub(crate) app_id: u64,
    pub(crate) platform: Option<&'c str>,
    pub(crate) client_ip: Option<&'c str>,
    pub(crate) requester: &'c str,
    pub(crate) from: &'c str,
    pub(crate) event_time_ms: u64,
    /// `AddType` and `ForceAddFlags` of a friend request.
    pub(crate) add: Option<(&'c str, u64)>,
}

impl<'a> Subject<'a> {
    /// `ResponseAction` of a response; `None` for a request (its `AddType`
    /// is the callback's, in [`Header::add`]).
    pub(crate) fn response_action(&self) -> Option<&'a str> {
        (self.command == Command::FriendResponse).then_some(self.action)
    }
}

/// A friend command the rules decide: how its items become [`Subject`]s.
pub(crate) trait Ruled: FriendCommand {
    /// The command.
    const COMMAND: Command;

    /// `From_Account` of a callback.
    fn from_account<'c>(callback: &'c Self::Callback<'_>) -> &'c str;

    /// The subject of `item` of `callback`.
    fn subject<'c>(callback: &'c Self::Callback<'_>, item: &'c Self::Item<'_>) -> Subject<'c>;

    /// What the log line and the event say of `callback`.
    fn header<'c, 'a: 'c>(callback: &'c Self::Callback<'a>) -> Header<'c>;
}

impl Ruled for FriendResponse {
    const COMMAND: Command = Command::FriendResponse;

    fn from_account<'c>(callback: &'c FriendResponseCallback<'_>) -> &'c str {
        callback.from_account()
    }

    fn header<'c, 'a: 'c>(callback: &'c FriendResponseCallback<'a>) -> Header<'c> {
        Header {
            command: Self::COMMAND,
            app_id: callback.sdk_app_id(),
            platform: callback.platform().map(|p| p.as_str()),
            client_ip: callback.client_ip().map(|ip| ip.as_str()),
            requester: callback.requester_account(),
            from: callback.from_account(),
            event_time_ms: callback.event_time_ms(),
            add: None,
        }
    }

    fn subject<'c>(
        callback: &'c FriendResponseCallback<'_>,
        item: &'c ResponseItem<'_>,
    ) -> Subject<'c> {
        Subject {
            command: Command::FriendResponse,
            from: callback.from_account(),
            to: &item.to_account,
            action: item.action.as_str(),
            counted: !matches!(item.action, ResponseAction::Reject),
            remark: &item.remark,
            tag_name: &item.tag_name,
            group_name: "",
            add_wording: "",
            add_source: "",
        }
    }
}

impl Ruled for FriendAdd {
    const COMMAND: Command = Command::FriendRequest;

    fn from_account<'c>(callback: &'c FriendAddCallback<'_>) -> &'c str {
        callback.from_account()
    }

    fn header<'c, 'a: 'c>(callback: &'c FriendAddCallback<'a>) -> Header<'c> {
        Header {
            command: Self::COMMAND,
            app_id: callback.sdk_app_id(),
            platform: callback.platform().map(|p| p.as_str()),
            client_ip: callback.client_ip().map(|ip| ip.as_str()),
            requester: callback.requester_account(),
            from: callback.from_account(),
            event_time_ms: callback.event_time_ms(),
            add: Some((callback.add_type().as_str(), callback.force_add_flags())),
        }
    }

    fn subject<'c>(callback: &'c FriendAddCallback<'_>, item: &'c AddItem<'_>) -> Subject<'c> {
        Subject {
            command: Command::FriendRequest,
            from: callback.from_account(),
            to: &item.to_account,
            action: callback.add_type().as_str(),
            counted: true,
            remark: &item.remark,
            tag_name: "",
            group_name: &item.group_name,
            add_wording: &item.add_wording,
            add_source: &item.add_source,
        }
    }
}
