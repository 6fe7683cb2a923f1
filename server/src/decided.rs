//! Who decided an item: a rule of the policy, no rule, an embedded decider,
//! or the failure policy; and of which friend command. One vocabulary for
//! the policy, the gateway's log line and events, and the decision counters.

use serde::Deserialize;

/// The friend commands the gateway decides, as rules and events name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
pub enum Command {
    /// `Sns.CallbackPrevFriendResponse`.
    #[serde(rename = "Sns.CallbackPrevFriendResponse")]
    FriendResponse,
    /// `Sns.CallbackPrevFriendAdd`.
    #[serde(rename = "Sns.CallbackPrevFriendAdd")]
    FriendRequest,
}

impl Command {
    /// Every command, in the order metrics and pages list them.
    pub const ALL: [Self; 2] = [Self::FriendResponse, Self::FriendRequest];

    /// Its `CallbackCommand`.
    pub fn wire(self) -> &'static str {
        match self {
            Self::FriendResponse => friendgate_core::FRIEND_RESPONSE,
            Self::FriendRequest => friendgate_core::FRIEND_ADD,
        }
    }

    /// Its event `type` (`friend_response`, `friend_request`).
    pub fn event_type(self) -> &'static str {
        match self {
            Self::FriendResponse => "friend_response",
            Self::FriendRequest => "friend_request",
        }
    }

    /// Its position in [`Command::ALL`].
    pub fn index(self) -> usize {
        match self {
            Self::FriendResponse => 0,
            Self::FriendRequest => 1,
        }
    }
}

/// The rule name of items no rule decided.
pub const DEFAULT_RULE: &str = "default";

/// The rule name of decisions made by an embedded [`Decider`](friendgate_core::Decider).
pub const EMBEDDED_RULE: &str = "decider";

/// The rule name of items whose decision failed (the failure policy decided).
pub const DECIDER_ERROR_RULE: &str = "decider_error";

/// Who decided an item, for its decision counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// The policy's rule at this position.
    Rule(usize),
    /// No rule matched ([`DEFAULT_RULE`]).
    Default,
    /// The embedded decider ([`EMBEDDED_RULE`]).
    Decider,
    /// The decision failed ([`DECIDER_ERROR_RULE`]).
    DeciderError,
}
