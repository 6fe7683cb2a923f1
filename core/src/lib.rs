//! # friendgate-core
//!
//! The protocol engine for Tencent Cloud Chat's friend callbacks,
//! `Sns.CallbackPrevFriendResponse` ("before a friend request is responded")
//! and `Sns.CallbackPrevFriendAdd` ("before a friend request is sent"): the
//! platform POSTs each request a user sends and each accept or reject a user
//! makes, and the app backend answers, per item, allow or do not allow,
//! within 2 seconds. Each command is a [`FriendCommand`] ([`FriendResponse`],
//! [`FriendAdd`]); the flow below is written once, generic over it
//! ([`handle_for`], [`handle_add`]), and [`handle_one_url`] answers both at
//! the app's one callback URL.
//!
//! One request flows through:
//!
//! 1. [`CallbackQuery::parse`]: the query string;
//! 2. [`auth::authenticate`]: app id, `Sign`, `RequestTime` window;
//! 3. [`validate::parse_body`]: strict, borrowed parsing of the body;
//! 4. a [`Decider`]: [`Decision::Allow`] or [`Decision::Reject`] per item,
//!    with [`FailurePolicy`] for deciders that fail;
//! 5. [`Response`]: the answer bytes.
//!
//! [`handle`] runs them all and never panics: every problem is a
//! [`CallbackError`] with a stable code and a well-formed `FAIL` answer.
//!
//! ```
//! use friendgate_core::{decider_fn, handle, testing, Config, Decision, Token};
//!
//! let config = Config::builder(testing::SAMPLE_APP_ID)
//!     .token(Token::new(testing::SAMPLE_TOKEN)?)
//!     .build()?;
//! let query = testing::signed_query(testing::SAMPLE_APP_ID, testing::SAMPLE_TOKEN, 1_700_000_000);
//! let decider = decider_fn(|_callback, _index, item| {
//!     if item.remark.contains("spam") {
//!         Ok(Decision::reject(38001, "remark not allowed")?)
//!     } else {
//!         Ok(Decision::allow())
//!     }
//! });
//! let reply = handle(&config, &query, testing::SAMPLE_BODY.as_bytes(), 1_700_000_000, &decider);
//! assert_eq!(reply.status, 200);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]

pub mod auth;
pub mod command;
pub mod config;
#[cfg(feature = "conformance")]
pub mod conformance;
pub mod decision;
pub mod error;
pub mod friend;
pub mod friend_add;
pub mod handle;
pub mod limits;
pub mod query;
pub mod request;
pub mod response;
pub mod sign;
pub mod spec;
#[cfg(feature = "testing")]
pub mod testing;
pub mod validate;
pub mod verified;
pub mod view;

pub use command::{
    command_label, command_matches, DECIDED_COMMANDS, DOCUMENTED_COMMANDS, FRIEND_ADD,
    FRIEND_RESPONSE, PROCESSED_ANSWER,
};
pub use config::{Config, ConfigBuilder, ConfigError, LimitOverrides, Limits, Token};
pub use decision::{
    add_decider_fn, decider_fn, AllowAll, Decider, DeciderError, Decision, FailurePolicy,
    FailurePolicySpec, ResultCode, Returned,
};
pub use error::{CallbackError, ErrorEntry, ErrorFamily, CATALOGUE};
pub use friend::{FriendAdd, FriendCommand, FriendResponse};
pub use friend_add::{AddBody, AddItem, AddType, FriendAddCallback, ADD_SOURCE_PREFIX};
pub use handle::{
    authenticate_any, decide_all, decide_all_for, decide_item, decide_item_for, handle, handle_add,
    handle_for, handle_one_url, reply_headers, respond, respond_each, respond_each_for,
    respond_for, route_query, unix_now, verify, verify_body, verify_body_for, verify_for,
    verify_query, Deciders, OneUrl, Reply, Routed, CONTENT_TYPE_JSON,
};
pub use query::{CallbackQuery, ClientIp, Platform, RequestTime, CALLBACK_COMMAND};
pub use request::{CallbackBody, FriendResponseCallback, ResponseAction, ResponseItem};
pub use response::{ActionStatus, AnswerWriter, Response, ResultItem};
pub use spec::ConfigSpec;
pub use verified::{failures_of, FailedDecision, Verified};
pub use view::{AddCallbackView, AddItemView, CallbackView, ItemView, RequestView};
