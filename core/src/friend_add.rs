//! The typed friend-request callback, `Sns.CallbackPrevFriendAdd` ("before a
//! friend request is sent"): the body's fields and, with the query, the
//! [`FriendAddCallback`] every friend-request decider sees.
//!
//! It mirrors [`crate::request`] (friend responses) field for field where
//! the two share a meaning; the texts a client writes (`Remark`,
//! `GroupName`, `AddSource`, `AddWording`) carry no length limit of their
//! own: the platform's figures describe what it accepts from clients, and
//! refusing a callback only lets it through.

use std::borrow::Cow;

use crate::query::{CallbackQuery, ClientIp, Platform};

/// `AddType`: one-way or two-way.
///
/// Values the platform may add later, and an absent `AddType` (the empty
/// string), parse as [`AddType::Other`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AddType<'a> {
    /// `Add_Type_Single`: `From_Account` adds `To_Account` one way.
    Single,
    /// `Add_Type_Both`: both become friends of each other.
    Both,
    /// Any other value (or `""` when absent), kept as sent.
    Other(Cow<'a, str>),
}

impl<'a> AddType<'a> {
    /// Maps a wire value to an add type; never fails.
    pub fn from_wire(value: Cow<'a, str>) -> Self {
        match &*value {
            "Add_Type_Single" => Self::Single,
            "Add_Type_Both" => Self::Both,
            _ => Self::Other(value),
        }
    }

    /// The wire spelling (`""` when the body had none).
    pub fn as_str(&self) -> &str {
        match self {
            Self::Single => "Add_Type_Single",
            Self::Both => "Add_Type_Both",
            Self::Other(value) => value,
        }
    }

    /// Whether this is one of the documented two.
    pub fn is_known(&self) -> bool {
        !matches!(self, Self::Other(_))
    }

    /// The same add type, owning its text.
    pub fn into_owned(self) -> AddType<'static> {
        match self {
            Self::Single => AddType::Single,
            Self::Both => AddType::Both,
            Self::Other(value) => AddType::Other(Cow::Owned(value.into_owned())),
        }
    }
}

impl Default for AddType<'_> {
    fn default() -> Self {
        Self::Other(Cow::Borrowed(""))
    }
}

/// The `AddSource` prefix every documented source has (`AddSource_Type_`
/// plus a keyword the app chooses).
pub const ADD_SOURCE_PREFIX: &str = "AddSource_Type_";

/// One `FriendItem`: an account `From_Account` asks to add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddItem<'a> {
    /// `To_Account`: the account asked.
    pub to_account: Cow<'a, str>,
    /// `Remark` `From_Account` sets for `To_Account` (empty when absent).
    pub remark: Cow<'a, str>,
    /// `GroupName`: the friend list `To_Account` goes into (empty when absent).
    pub group_name: Cow<'a, str>,
    /// `AddSource`, as sent (empty when absent).
    pub add_source: Cow<'a, str>,
    /// `AddWording`: the request's message to `To_Account` (empty when absent).
    pub add_wording: Cow<'a, str>,
}

impl AddItem<'_> {
    /// The keyword after [`ADD_SOURCE_PREFIX`] (`Android` in
    /// `AddSource_Type_Android`), or the whole `AddSource` when it lacks the
    /// prefix.
    pub fn add_source_keyword(&self) -> &str {
        self.add_source
            .strip_prefix(ADD_SOURCE_PREFIX)
            .unwrap_or(&self.add_source)
    }

    /// The same item, owning its strings.
    pub fn into_owned(self) -> AddItem<'static> {
        AddItem {
            to_account: owned(self.to_account),
            remark: owned(self.remark),
            group_name: owned(self.group_name),
            add_source: owned(self.add_source),
            add_wording: owned(self.add_wording),
        }
    }
}

fn owned(text: Cow<'_, str>) -> Cow<'static, str> {
    Cow::Owned(text.into_owned())
}

/// The validated body of a friend request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddBody<'a> {
    /// `CallbackCommand` (equal to the query's).
    pub callback_command: Cow<'a, str>,
    /// `Requester_Account`: who initiated the request (empty when absent).
    pub requester_account: Cow<'a, str>,
    /// `From_Account`: who asks to add friends.
    pub from_account: Cow<'a, str>,
    /// `FriendItem`, in order.
    pub items: Vec<AddItem<'a>>,
    /// `AddType`.
    pub add_type: AddType<'a>,
    /// `ForceAddFlags` (0 when absent; documented as 0 or 1, kept as sent).
    pub force_add_flags: u64,
    /// `EventTime`, Unix milliseconds (0 when absent).
    pub event_time_ms: u64,
}

impl AddBody<'_> {
    /// The same body, owning its strings.
    pub fn into_owned(self) -> AddBody<'static> {
        AddBody {
            callback_command: owned(self.callback_command),
            requester_account: owned(self.requester_account),
            from_account: owned(self.from_account),
            items: self.items.into_iter().map(AddItem::into_owned).collect(),
            add_type: self.add_type.into_owned(),
            force_add_flags: self.force_add_flags,
            event_time_ms: self.event_time_ms,
        }
    }
}

/// A verified friend request: the query that authenticated it and its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FriendAddCallback<'a> {
    /// The parsed query string.
    pub query: CallbackQuery<'a>,
    /// The parsed body.
    pub body: AddBody<'a>,
}

impl<'a> FriendAddCallback<'a> {
    /// The same callback, owning its strings.
    pub fn into_owned(self) -> FriendAddCallback<'static> {
        FriendAddCallback {
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

    /// `From_Account`: who asks.
    pub fn from_account(&self) -> &str {
        &self.body.from_account
    }

    /// `AddType`.
    pub fn add_type(&self) -> &AddType<'a> {
        &self.body.add_type
    }

    /// `ForceAddFlags`.
    pub fn force_add_flags(&self) -> u64 {
        self.body.force_add_flags
    }

    /// `EventTime` in Unix milliseconds.
    pub fn event_time_ms(&self) -> u64 {
        self.body.event_time_ms
    }

    /// The items, in order.
    pub fn items(&self) -> &[AddItem<'a>] {
        &self.body.items
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_types_and_sources_tolerate_new_values() {
        assert_eq!(AddType::from_wire("Add_Type_Both".into()), AddType::Both);
        let later = AddType::from_wire("Add_Type_Group".into());
        assert!(!later.is_known());
        assert_eq!(later.as_str(), "Add_Type_Group");
        assert_eq!(AddType::default().as_str(), "");
        let item = AddItem {
            to_account: "a".into(),
            remark: "".into(),
            group_name: "".into(),
            add_source: "AddSource_Type_Android".into(),
            add_wording: "".into(),
        };
        assert_eq!(item.add_source_keyword(), "Android");
        let odd = AddItem {
            add_source: "QRCode".into(),
            ..item
        };
        assert_eq!(odd.add_source_keyword(), "QRCode");
    }
}
