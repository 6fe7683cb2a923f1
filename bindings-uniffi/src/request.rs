//! The verified callback as Kotlin and Swift records: core's `CallbackView`.

use friendgate_core::{AddCallbackView, CallbackView, RequestView};

/// An authenticated callback of any command (the app's one callback URL
/// receives them all): what a handler for another callback gets.
#[derive(Debug, Clone, uniffi::Record)]
pub struct CallbackRequest {
    /// CallbackCommand as sent.
    pub command: String,
    /// Whether the Chat documentation lists the command.
    pub command_known: bool,
    /// SdkAppid.
    pub sdk_app_id: i64,
    /// OptPlatform (canonical spelling), when sent.
    pub platform: Option<String>,
    /// Whether the platform is one of the documented ones.
    pub platform_known: bool,
    /// ClientIP as sent.
    pub client_ip: Option<String>,
    /// RequestTime, when signed.
    pub request_time: Option<i64>,
}

impl From<RequestView<'_>> for CallbackRequest {
    fn from(view: RequestView<'_>) -> Self {
        Self {
            command: view.command.into(),
            command_known: view.command_known,
            sdk_app_id: signed(view.sdk_app_id),
            platform: view.platform.map(Into::into),
            platform_known: view.platform_known,
            client_ip: view.client_ip.map(Into::into),
            request_time: view.request_time.map(signed),
        }
    }
}

/// One friend request being answered.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ResponseItem {
    /// Position in ResponseFriendItem.
    pub index: i32,
    /// To_Account.
    pub to_account: String,
    /// Remark.
    pub remark: String,
    /// TagName.
    pub tag_name: String,
    /// ResponseAction as sent.
    pub action: String,
    /// Whether the action is documented.
    pub action_known: bool,
    /// Whether the user accepts.
    pub is_accept: bool,
}

/// A verified callback.
#[derive(Debug, Clone, uniffi::Record)]
pub struct FriendResponseCallback {
    /// SdkAppid.
    pub sdk_app_id: i64,
    /// OptPlatform (canonical spelling), when sent.
    pub platform: Option<String>,
    /// Whether the platform is one of the documented ones.
    pub platform_known: bool,
    /// ClientIP as sent.
    pub client_ip: Option<String>,
    /// RequestTime, when signed.
    pub request_time: Option<i64>,
    /// Requester_Account.
    pub requester_account: String,
    /// From_Account.
    pub from_account: String,
    /// EventTime in Unix milliseconds.
    pub event_time_ms: i64,
    /// The items.
    pub items: Vec<ResponseItem>,
}

/// Core's numbers fit Java's signed ones (SdkAppid, seconds, milliseconds
/// and item positions are far below `i64::MAX`); saturate rather than wrap.
fn signed(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

impl From<CallbackView<'_>> for FriendResponseCallback {
    fn from(view: CallbackView<'_>) -> Self {
        Self {
            sdk_app_id: signed(view.sdk_app_id),
            platform: view.platform.map(Into::into),
            platform_known: view.platform_known,
            client_ip: view.client_ip.map(Into::into),
            request_time: view.request_time.map(signed),
            requester_account: view.requester_account.into(),
            from_account: view.from_account.into(),
            event_time_ms: signed(view.event_time_ms),
            items: view
                .items
                .into_iter()
                .map(|item| ResponseItem {
                    index: i32::try_from(item.index).unwrap_or(i32::MAX),
                    to_account: item.to_account.into(),
                    remark: item.remark.into(),
                    tag_name: item.tag_name.into(),
                    action: item.action.into(),
                    action_known: item.action_known,
                    is_accept: item.is_accept,
                })
                .collect(),
        }
    }
}

/// One FriendItem of a friend request: an account `from_account` asks to add.
#[derive(Debug, Clone, uniffi::Record)]
pub struct AddItem {
    /// Position in FriendItem.
    pub index: i32,
    /// To_Account: the account asked.
    pub to_account: String,
    /// Remark (empty when absent).
    pub remark: String,
    /// GroupName (empty when absent).
    pub group_name: String,
    /// AddSource as sent (empty when absent).
    pub add_source: String,
    /// AddWording: the request's message (empty when absent).
    pub add_wording: String,
}

/// A verified friend request (`Sns.CallbackPrevFriendAdd`).
#[derive(Debug, Clone, uniffi::Record)]
pub struct FriendAddCallback {
    /// SdkAppid.
    pub sdk_app_id: i64,
    /// OptPlatform (canonical spelling), when sent.
    pub platform: Option<String>,
    /// Whether the platform is one of the documented ones.
    pub platform_known: bool,
    /// ClientIP as sent.
    pub client_ip: Option<String>,
    /// RequestTime, when signed.
    pub request_time: Option<i64>,
    /// Requester_Account: who initiated the request.
    pub requester_account: String,
    /// From_Account: who asks to add friends.
    pub from_account: String,
    /// AddType as sent (empty when absent).
    pub add_type: String,
    /// Whether the add type is one of the documented two.
    pub add_type_known: bool,
    /// ForceAddFlags (0 when absent).
    pub force_add_flags: i64,
    /// EventTime in Unix milliseconds.
    pub event_time_ms: i64,
    /// The items.
    pub items: Vec<AddItem>,
}

impl From<AddCallbackView<'_>> for FriendAddCallback {
    fn from(view: AddCallbackView<'_>) -> Self {
        Self {
            sdk_app_id: signed(view.sdk_app_id),
            platform: view.platform.map(Into::into),
            platform_known: view.platform_known,
            client_ip: view.client_ip.map(Into::into),
            request_time: view.request_time.map(signed),
            requester_account: view.requester_account.into(),
            from_account: view.from_account.into(),
            add_type: view.add_type.into(),
            add_type_known: view.add_type_known,
            force_add_flags: signed(view.force_add_flags),
            event_time_ms: signed(view.event_time_ms),
            items: view
                .items
                .into_iter()
                .map(|item| AddItem {
                    index: i32::try_from(item.index).unwrap_or(i32::MAX),
                    to_account: item.to_account.into(),
                    remark: item.remark.into(),
                    group_name: item.group_name.into(),
                    add_source: item.add_source.into(),
                    add_wording: item.add_wording.into(),
                })
                .collect(),
        }
    }
}
