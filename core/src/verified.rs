//! A verified friend callback of either command: what a host answers without
//! knowing the command in its types (the one URL), borrowing the request, or
//! owning its text ([`Verified::into_owned`]) to hold it between asking its
//! deciders (after an await, across an FFI boundary) and answering; and the
//! failed decisions it reports.

use crate::config::Config;
use crate::decision::{DeciderError, Decision};
use crate::friend::{FriendAdd, FriendCommand, FriendResponse};
use crate::friend_add::FriendAddCallback;
use crate::handle::{respond_for, Reply};
use crate::request::FriendResponseCallback;

/// A verified friend response or friend request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verified<'a> {
    /// `Sns.CallbackPrevFriendResponse`.
    Response(FriendResponseCallback<'a>),
    /// `Sns.CallbackPrevFriendAdd`.
    Add(FriendAddCallback<'a>),
}

/// A decision that failed, as every host reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedDecision {
    /// The item's position.
    pub index: usize,
    /// Its `To_Account`.
    pub to_account: String,
    /// Why the decision failed.
    pub reason: String,
    /// Core's one-line report ([`DeciderError::report`]).
    pub report: String,
}

impl<'a> From<FriendResponseCallback<'a>> for Verified<'a> {
    fn from(callback: FriendResponseCallback<'a>) -> Self {
        Self::Response(callback)
    }
}

impl<'a> From<FriendAddCallback<'a>> for Verified<'a> {
    fn from(callback: FriendAddCallback<'a>) -> Self {
        Self::Add(callback)
    }
}

impl Verified<'_> {
    /// The same callback, owning its text.
    pub fn into_owned(self) -> Verified<'static> {
        match self {
            Self::Response(callback) => Verified::Response(callback.into_owned()),
            Self::Add(callback) => Verified::Add(callback.into_owned()),
        }
    }

    /// Its `CallbackCommand`.
    pub fn command(&self) -> &'static str {
        match self {
            Self::Response(_) => FriendResponse::NAME,
            Self::Add(_) => FriendAdd::NAME,
        }
    }

    /// How many items it has.
    pub fn len(&self) -> usize {
        match self {
            Self::Response(callback) => callback.items().len(),
            Self::Add(callback) => callback.items().len(),
        }
    }

    /// Whether it has no item.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The answer for one outcome per item, in order ([`respond_for`]).
    pub fn respond<I>(&self, config: &Config, outcomes: I) -> Reply
    where
        I: IntoIterator<Item = Result<Decision, DeciderError>>,
    {
        match self {
            Self::Response(callback) => {
                respond_for::<FriendResponse, _>(config, callback, outcomes)
            }
            Self::Add(callback) => respond_for::<FriendAdd, _>(config, callback, outcomes),
        }
    }

    /// The failed outcomes among `outcomes`, in item order, to report.
    pub fn failures(&self, outcomes: &[Result<Decision, DeciderError>]) -> Vec<FailedDecision> {
        match self {
            Self::Response(callback) => failures_of::<FriendResponse>(callback, outcomes),
            Self::Add(callback) => failures_of::<FriendAdd>(callback, outcomes),
        }
    }
}

/// [`Verified::failures`] for the callback of command `K`.
pub fn failures_of<K: FriendCommand>(
    callback: &K::Callback<'_>,
    outcomes: &[Result<Decision, DeciderError>],
) -> Vec<FailedDecision> {
    let items = K::items(callback);
    outcomes
        .iter()
        .enumerate()
        .filter_map(|(index, outcome)| {
            let error = outcome.as_ref().err()?;
            let to_account = items.get(index).map_or("", |item| K::to_account(item));
            Some(FailedDecision {
                index,
                to_account: to_account.to_owned(),
                reason: error.message().to_owned(),
                report: error.report(index, to_account),
            })
        })
        .collect()
}
