//! The callback as every host language shows it: flat fields, derived flags
//! worked out once, text borrowed from the request (or owned, for hosts that
//! decide after an await or across an FFI boundary).
//!
//! Bindings convert these fields to their own types and case; none of them
//! reads [`FriendResponseCallback`] for itself, so a field added here reaches
//! every language the same way.

use std::borrow::Cow;

use crate::friend_add::FriendAddCallback;
use crate::query::CallbackQuery;
use crate::request::FriendResponseCallback;

/// One item of a [`CallbackView`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemView<'a> {
    /// Position in `ResponseFriendItem`.
    pub index: usize,
    /// `To_Account`: who sent the friend request.
    pub to_account: Cow<'a, str>,
    /// `Remark` (empty when absent).
    pub remark: Cow<'a, str>,
    /// `TagName` (empty when absent).
    pub tag_name: Cow<'a, str>,
    /// `ResponseAction` as sent.
    pub action: Cow<'a, str>,
    /// Whether the action is one of the documented three.
    pub action_known: bool,
    /// Whether the user accepts (`AgreeAndAdd` or `Agree`).
    pub is_accept: bool,
}

/// A verified callback as host languages show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackView<'a> {
    /// `SdkAppid`.
    pub sdk_app_id: u64,
    /// `OptPlatform` in its canonical spelling, or as sent when unknown;
    /// `None` when absent.
    pub platform: Option<Cow<'a, str>>,
    /// Whether the platform is one of the documented ones.
    pub platform_known: bool,
    /// `ClientIP` as sent; `None` when absent.
    pub client_ip: Option<Cow<'a, str>>,
    /// `RequestTime` (Unix seconds), when signed.
    pub request_time: Option<u64>,
    /// `Requester_Account` (empty when absent).
    pub requester_account: Cow<'a, str>,
    /// `From_Account`: who is responding.
    pub from_account: Cow<'a, str>,
    /// `EventTime` in Unix milliseconds (0 when absent).
    pub event_time_ms: u64,
    /// The items, in order.
    pub items: Vec<ItemView<'a>>,
}

impl<'a> FriendResponseCallback<'a> {
    /// The host view of this callback, borrowing its text.
    pub fn view(&self) -> CallbackView<'_> {
        CallbackView {
            sdk_app_id: self.sdk_app_id(),
            platform: self.platform().map(|p| Cow::Borrowed(p.as_str())),
            platform_known: self.platform().is_some_and(|p| p.is_known()),
            client_ip: self.client_ip().map(|ip| Cow::Borrowed(ip.as_str())),
            request_time: self.query.request_time.as_ref().map(|t| t.seconds()),
            requester_account: Cow::Borrowed(self.requester_account()),
            from_account: Cow::Borrowed(self.from_account()),
            event_time_ms: self.event_time_ms(),
            items: self
                .items()
                .iter()
                .enumerate()
                .map(|(index, item)| ItemView {
                    index,
                    to_account: Cow::Borrowed(&item.to_account),
                    remark: Cow::Borrowed(&item.remark),
                    tag_name: Cow::Borrowed(&item.tag_name),
                    action: Cow::Borrowed(item.action.as_str()),
                    action_known: item.action.is_known(),
                    is_accept: item.action.is_accept(),
                })
                .collect(),
        }
    }
}

/// One item of an [`AddCallbackView`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddItemView<'a> {
    /// Position in `FriendItem`.
    pub index: usize,
    /// `To_Account`: the account asked.
    pub to_account: Cow<'a, str>,
    /// `Remark` (empty when absent).
    pub remark: Cow<'a, str>,
    /// `GroupName` (empty when absent).
    pub group_name: Cow<'a, str>,
    /// `AddSource` as sent (empty when absent).
    pub add_source: Cow<'a, str>,
    /// `AddWording`: the request's message (empty when absent).
    pub add_wording: Cow<'a, str>,
}

/// A verified friend request as host languages show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddCallbackView<'a> {
    /// `SdkAppid`.
    pub sdk_app_id: u64,
    /// `OptPlatform` in its canonical spelling, or as sent when unknown;
    /// `None` when absent.
    pub platform: Option<Cow<'a, str>>,
    /// Whether the platform is one of the documented ones.
    pub platform_known: bool,
    /// `ClientIP` as sent; `None` when absent.
    pub client_ip: Option<Cow<'a, str>>,
    /// `RequestTime` (Unix seconds), when signed.
    pub request_time: Option<u64>,
    /// `Requester_Account` (empty when absent).
    pub requester_account: Cow<'a, str>,
    /// `From_Account`: who asks.
    pub from_account: Cow<'a, str>,
    /// `AddType` as sent (empty when absent).
    pub add_type: Cow<'a, str>,
    /// Whether the add type is one of the documented two.
    pub add_type_known: bool,
    /// `ForceAddFlags` (0 when absent).
    pub force_add_flags: u64,
    /// `EventTime` in Unix milliseconds (0 when absent).
    pub event_time_ms: u64,
    /// The items, in order.
    pub items: Vec<AddItemView<'a>>,
}

impl<'a> FriendAddCallback<'a> {
    /// The host view of this friend request, borrowing its text.
    pub fn view(&self) -> AddCallbackView<'_> {
        AddCallbackView {
            sdk_app_id: self.sdk_app_id(),
            platform: self.platform().map(|p| Cow::Borrowed(p.as_str())),
            platform_known: self.platform().is_some_and(|p| p.is_known()),
            client_ip: self.client_ip().map(|ip| Cow::Borrowed(ip.as_str())),
            request_time: self.query.request_time.as_ref().map(|t| t.seconds()),
            requester_account: Cow::Borrowed(self.requester_account()),
            from_account: Cow::Borrowed(self.from_account()),
            add_type: Cow::Borrowed(self.add_type().as_str()),
            add_type_known: self.add_type().is_known(),
            force_add_flags: self.force_add_flags(),
            event_time_ms: self.event_time_ms(),
            items: self
                .items()
                .iter()
                .enumerate()
                .map(|(index, item)| AddItemView {
                    index,
                    to_account: Cow::Borrowed(&item.to_account),
                    remark: Cow::Borrowed(&item.remark),
                    group_name: Cow::Borrowed(&item.group_name),
                    add_source: Cow::Borrowed(&item.add_source),
                    add_wording: Cow::Borrowed(&item.add_wording),
                })
                .collect(),
        }
    }
}

/// An authenticated callback of any command as host languages show it
/// (what a host's own handlers for its other callbacks get).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestView<'a> {
    /// `CallbackCommand` as sent.
    pub command: Cow<'a, str>,
    /// Whether the Chat documentation lists the command.
    pub command_known: bool,
    /// `SdkAppid`.
    pub sdk_app_id: u64,
    /// `OptPlatform` in its canonical spelling, or as sent; `None` when absent.
    pub platform: Option<Cow<'a, str>>,
    /// Whether the platform is one of the documented ones.
    pub platform_known: bool,
    /// `ClientIP` as sent; `None` when absent.
    pub client_ip: Option<Cow<'a, str>>,
    /// `RequestTime` (Unix seconds), when signed.
    pub request_time: Option<u64>,
}

impl CallbackQuery<'_> {
    /// The host view of this query.
    pub fn view(&self) -> RequestView<'_> {
        RequestView {
            command: Cow::Borrowed(&self.callback_command),
            command_known: crate::command::command_label(&self.callback_command) != "other",
            sdk_app_id: self.sdk_app_id,
            platform: self.platform.as_ref().map(|p| Cow::Borrowed(p.as_str())),
            platform_known: self.platform.as_ref().is_some_and(|p| p.is_known()),
            client_ip: self.client_ip.as_ref().map(|ip| Cow::Borrowed(ip.as_str())),
            request_time: self.request_time.as_ref().map(|t| t.seconds()),
        }
    }
}

impl CallbackView<'_> {
    /// The same view, owning its text.
    pub fn into_owned(self) -> CallbackView<'static> {
        let owned = |text: Cow<'_, str>| Cow::Owned(text.into_owned());
        CallbackView {
            sdk_app_id: self.sdk_app_id,
            platform: self.platform.map(owned),
            platform_known: self.platform_known,
            client_ip: self.client_ip.map(owned),
            request_time: self.request_time,
            requester_account: owned(self.requester_account),
            from_account: owned(self.from_account),
            event_time_ms: self.event_time_ms,
            items: self
                .items
                .into_iter()
                .map(|item| ItemView {
                    index: item.index,
                    to_account: owned(item.to_account),
                    remark: owned(item.remark),
                    tag_name: owned(item.tag_name),
                    action: owned(item.action),
                    action_known: item.action_known,
                    is_accept: item.is_accept,
                })
                .collect(),
        }
    }
}

impl AddCallbackView<'_> {
    /// The same view, owning its text.
    pub fn into_owned(self) -> AddCallbackView<'static> {
        let owned = |text: Cow<'_, str>| Cow::Owned(text.into_owned());
        AddCallbackView {
            sdk_app_id: self.sdk_app_id,
            platform: self.platform.map(owned),
            platform_known: self.platform_known,
            client_ip: self.client_ip.map(owned),
            request_time: self.request_time,
            requester_account: owned(self.requester_account),
            from_account: owned(self.from_account),
            add_type: owned(self.add_type),
            add_type_known: self.add_type_known,
            force_add_flags: self.force_add_flags,
            event_time_ms: self.event_time_ms,
            items: self
                .items
                .into_iter()
                .map(|item| AddItemView {
                    index: item.index,
                    to_account: owned(item.to_account),
                    remark: owned(item.remark),
                    group_name: owned(item.group_name),
                    add_source: owned(item.add_source),
                    add_wording: owned(item.add_wording),
                })
                .collect(),
        }
    }
}

#[cfg(all(test, feature = "testing"))]
mod tests {
    use crate::{testing, verify, Config, Token};

    #[test]
    fn the_sample_as_hosts_see_it() {
        let config = Config::builder(testing::SAMPLE_APP_ID)
            .token(Token::new(testing::SAMPLE_TOKEN).unwrap())
            .build()
            .unwrap();
        let now = 1_700_000_000;
        let query = testing::QueryBuilder::new(testing::SAMPLE_APP_ID)
            .platform("IOS")
            .client_ip("10.0.0.1")
            .signed(testing::SAMPLE_TOKEN, now)
            .build();
        let body = testing::SAMPLE_BODY.replace("Response_Action_Reject", "Response_Action_Later");
        let callback = verify(&config, &query, body.as_bytes(), now).unwrap();
        let view = callback.view().into_owned();
        assert_eq!(view.sdk_app_id, testing::SAMPLE_APP_ID);
        assert_eq!(view.platform.as_deref(), Some("iOS"));
        assert!(view.platform_known);
        assert_eq!(view.client_ip.as_deref(), Some("10.0.0.1"));
        assert_eq!(view.request_time, Some(now));
        assert_eq!(view.from_account, "id");
        let items: Vec<_> = view
            .items
            .iter()
            .map(|i| {
                (
                    i.index,
                    &*i.to_account,
                    &*i.action,
                    i.action_known,
                    i.is_accept,
                )
            })
            .collect();
        assert_eq!(
            items,
            [
                (0, "id1", "Response_Action_AgreeAndAdd", true, true),
                (1, "id2", "Response_Action_Later", false, false),
            ]
        );
    }
}
