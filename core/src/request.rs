//! The typed callback: the body's fields and, with the query, the
//! [`FriendResponseCallback`] every decider sees.

use std::borrow::Cow;

use crate::query::{CallbackQuery, ClientIp, Platform};

/// `ResponseAction`: how the user responded.
///
/// Values the platform may add later parse as [`ResponseAction::Other`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ResponseAction<'a> {
    /// `Response_Action_AgreeAndAdd`: accept, and add the requester back.
    AgreeAndAdd,
    /// `Response_Action_Agree`: let the requester add you.
    Agree,
    /// `Response_Action_Reject`: reject the request.
    Reject,
    /// Any other value, kept as sent.
    Other(Cow<'a, str>),
}

impl<'a> ResponseAction<'a> {
    /// Maps a wire value to an action; never fails.
    pub fn from_wire(value: Cow<'a, str>) -> Self {
        match &*value {
            "Response_Action_AgreeAndAdd" => Self::AgreeAndAdd,
            "Response_Action_Agree" => Self::Agree,
            "Response_Action_Reject" => Self::Reject,
            _ => Self::Other(value),
        }
    }

    /// The wire spelling.
    pub fn as_str(&self) -> &str {
        match self {
            Self::AgreeAndAdd => "Response_Action_AgreeAndAdd",
            Self::Agree => "Response_Action_Agree",
            Self::Reject => "Response_Action_Reject",
            Self::Other(value) => value,
        }
    }

    /// Whether this is one of the documented actions.
    pub fn is_known(&self) -> bool {
        !matches!(self, Self::Other(_))
    }

    /// Whether the user accepts the request (`AgreeAndAdd` or `Agree`).
    pub fn is_accept(&self) -> bool {
        matches!(self, Self::AgreeAndAdd | Self::Agree)
    }

    /// The same action, owning its text.
    pub fn into_owned(self) -> ResponseAction<'static> {
        match self {
            Self::AgreeAndAdd => ResponseAction::AgreeAndAdd,
            Self::Agree => ResponseAction::Agree,
            Self::Reject => ResponseAction::Reject,
            Self::Other(value) => ResponseAction::Other(owned(value)),
        }
    }
}

fn owned(text: Cow<'_, str>) -> Cow<'static, str> {
    Cow::Owned(text.into_owned())
}

impl ResponseItem<'_> {
    /// The same item, owning its strings.
    pub fn into_owned(self) -> ResponseItem<'static> {
        ResponseItem {
            to_account: owned(self.to_account),
            remark: owned(self.remark),
            tag_name: owned(self.tag_name),
            action: self.action.into_owned(),
        }
    }
}

impl CallbackBody<'_> {
    /// The same body, owning its strings.
    pub fn into_owned(self) -> CallbackBody<'static> {
        CallbackBody {
            callback_command: owned(self.callback_command),
            requester_account: owned(self.requester_account),
            from_account: owned(self.from_account),
            items: self
                .items
                .into_iter()
                .map(ResponseItem::into_owned)
                .collect(),
            event_time_ms: self.event_time_ms,
        }
    }
}

/// One `ResponseFriendItem`: a friend request being answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseItem<'a> {
    /// `To_Account`: the user who sent the friend request.
    pub to_account: Cow<'a, str>,
    /// `Remark` set for `To_Account` (empty when absent).
    pub remark: Cow<'a, str>,
    /// `TagName`: the friend list `To_Account` goes into (empty when absent).
    pub tag_name: Cow<'a, str>,
    /// `ResponseAction`.
    pub action: ResponseAction<'a>,
}

/// The validated body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackBody<'a> {
    /// `CallbackCommand` (equal to the query's).
    pub callback_command: Cow<'a, str>,
    /// `Requester_Account`: the account that made the request to the
    /// platform (empty when the body has none).
    pub requester_account: Cow<'a, str>,
    /// `From_Account`: the user responding to friend requests.
    pub from_account: Cow<'a, str>,
    /// `ResponseFriendItem`, in order.
    pub items: Vec<ResponseItem<'a>>,
    /// `EventTime`, Unix milliseconds (0 when the body has none).
    pub event_time_ms: u64,
}

/// A verified callback: the query that authenticated it and its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FriendResponseCallback<'a> {
    /// The parsed query string.
    pub query: CallbackQuery<'a>,
    /// The parsed body.
    pub body: CallbackBody<'a>,
}

impl<'a> FriendResponseCallback<'a> {
    /// The same callback, owning its strings, so that it can outlive the
    /// request buffers (async hosts decide after an await).
    pub fn into_owned(self) -> FriendResponseCallback<'static> {
        FriendResponseCallback {
            query: self.query.into_owned(),
            body: self.body.into_owned(),
        }
    }

    /// `SdkAppid`.
    pub fn sdk_app_id(&self) -> u64 {
        self.query.sdk_app_id
    }

    /// `OptPlatform`, when sent.
    pub fn platform(&self) -> Option<&Platform<'a>> {
        self.query.platform.as_ref()
    }

    /// `ClientIP`, when sent.
    pub fn client_ip(&self) -> Option<&ClientIp<'a>> {
        self.query.client_ip.as_ref()
    }

    /// `Requester_Account`.
    pub fn requester_account(&self) -> &str {
        &self.body.requester_account
    }

    /// `From_Account`: who is responding.
    pub fn from_account(&self) -> &str {
        &self.body.from_account
    }

    /// `EventTime` in Unix milliseconds.
    pub fn event_time_ms(&self) -> u64 {
        self.body.event_time_ms
    }

    /// The items, in order.
    pub fn items(&self) -> &[ResponseItem<'a>] {
        &self.body.items
    }
}
