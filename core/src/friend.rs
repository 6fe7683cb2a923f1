//! The friend callbacks friendgate decides, as one pattern: each is a
//! [`FriendCommand`] naming its `CallbackCommand`, its typed callback, its
//! item and how its body is parsed. Everything else (authentication, the
//! deciders, the failure policy, the deadline, the answer) is written once,
//! generic over the command ([`crate::handle`]).
//!
//! A third command with per-item answers is one more marker type here, its
//! typed callback and its body shape in [`crate::validate`].

use crate::error::CallbackError;
use crate::friend_add::{AddItem, FriendAddCallback};
use crate::limits::Limits;
use crate::query::CallbackQuery;
use crate::request::{FriendResponseCallback, ResponseItem};

/// A callback answered per item with allow or a code in `[38000, 39000]`.
pub trait FriendCommand: Sized + 'static {
    /// Its `CallbackCommand`.
    const NAME: &'static str;
    /// The body's array of items (`ResponseFriendItem`, `FriendItem`).
    const ITEMS_FIELD: &'static str;
    /// The verified callback a decider sees.
    type Callback<'a>;
    /// One item of it.
    type Item<'a>;

    /// Parses and validates, under `limits`, the body of a callback whose
    /// query named this command and authenticated.
    fn verify_body<'a>(
        limits: &Limits,
        query: CallbackQuery<'a>,
        body: &'a [u8],
    ) -> Result<Self::Callback<'a>, CallbackError>;

    /// The items, in order.
    fn items<'c, 'a: 'c>(callback: &'c Self::Callback<'a>) -> &'c [Self::Item<'a>];

    /// An item's `To_Account`: the key of its `ResultItem`.
    fn to_account<'c>(item: &'c Self::Item<'_>) -> &'c str;
}

/// `Sns.CallbackPrevFriendResponse`: before a friend request is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FriendResponse;

/// `Sns.CallbackPrevFriendAdd`: before a friend request is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FriendAdd;

impl FriendCommand for FriendResponse {
    const NAME: &'static str = crate::command::FRIEND_RESPONSE;
    const ITEMS_FIELD: &'static str = "ResponseFriendItem";
    type Callback<'a> = FriendResponseCallback<'a>;
    type Item<'a> = ResponseItem<'a>;

    fn verify_body<'a>(
        limits: &Limits,
        query: CallbackQuery<'a>,
        body: &'a [u8],
    ) -> Result<FriendResponseCallback<'a>, CallbackError> {
        let body = crate::validate::parse_body(body, limits)?;
        Ok(FriendResponseCallback { query, body })
    }

    fn items<'c, 'a: 'c>(callback: &'c FriendResponseCallback<'a>) -> &'c [ResponseItem<'a>] {
        callback.items()
    }

    fn to_account<'c>(item: &'c ResponseItem<'_>) -> &'c str {
        &item.to_account
    }
}

impl FriendCommand for FriendAdd {
    const NAME: &'static str = crate::command::FRIEND_ADD;
    const ITEMS_FIELD: &'static str = "FriendItem";
    type Callback<'a> = FriendAddCallback<'a>;
    type Item<'a> = AddItem<'a>;

    fn verify_body<'a>(
        limits: &Limits,
        query: CallbackQuery<'a>,
        body: &'a [u8],
    ) -> Result<FriendAddCallback<'a>, CallbackError> {
        let body = crate::validate::parse_add_body(body, limits)?;
        Ok(FriendAddCallback { query, body })
    }

    fn items<'c, 'a: 'c>(callback: &'c FriendAddCallback<'a>) -> &'c [AddItem<'a>] {
        callback.items()
    }

    fn to_account<'c>(item: &'c AddItem<'_>) -> &'c str {
        &item.to_account
    }
}
