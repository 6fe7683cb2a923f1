//! The whole flow for one callback, and its steps for hosts that run the
//! deciders themselves (async bindings, the server):
//! [`verify`] → decide → [`respond`], or all at once with [`handle`].

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::auth::authenticate;
use crate::config::Config;
use crate::decision::{AllowAll, Decider, DeciderError, Decision};
use crate::error::CallbackError;
use crate::friend::{FriendAdd, FriendCommand, FriendResponse};
use crate::query::CallbackQuery;
use crate::request::{FriendResponseCallback, ResponseItem};
use crate::response::{estimate_len, ActionStatus, AnswerWriter, Response};

/// `Content-Type` of every answer.
pub const CONTENT_TYPE_JSON: &str = "application/json";

/// What to send back: HTTP status, content type and body bytes, plus the error
/// (if any) for logs and metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// HTTP status: 200, or the error's status.
    pub status: u16,
    /// Always [`CONTENT_TYPE_JSON`].
    pub content_type: &'static str,
    /// The JSON answer.
    pub body: Vec<u8>,
    /// Why the answer is `FAIL`, if it is.
    pub error: Option<CallbackError>,
}

/// The headers an answer with `status` carries besides its body:
/// `Content-Type`, and on the 405 of a method other than POST the `Allow:
/// POST` HTTP requires (RFC 9110, 15.5.6). Every host sends these.
pub fn reply_headers(status: u16) -> &'static [(&'static str, &'static str)] {
    const JSON: (&str, &str) = ("Content-Type", CONTENT_TYPE_JSON);
    if status == 405 {
        &[JSON, ("Allow", "POST")]
    } else {
        &[JSON]
    }
}

impl Reply {
    /// The headers to send with [`Reply::body`] ([`reply_headers`]).
    pub fn headers(&self) -> &'static [(&'static str, &'static str)] {
        reply_headers(self.status)
    }

    /// The `FAIL` reply for `error`.
    pub fn from_error(error: CallbackError) -> Self {
        Self {
            status: error.http_status(),
            content_type: CONTENT_TYPE_JSON,
            body: Response::from_error(&error).to_bytes(),
            error: Some(error),
        }
    }

    /// The 200 "processed, go on" reply for a callback of another command
    /// that nobody decides ([`crate::command::PROCESSED_ANSWER`]).
    pub fn processed() -> Self {
        Self {
            status: 200,
            content_type: CONTENT_TYPE_JSON,
            body: crate::command::PROCESSED_ANSWER.as_bytes().to_vec(),
            error: None,
        }
    }

    /// A 200 reply carrying `response`.
    pub fn from_response(response: &Response<'_>) -> Self {
        Self {
            status: 200,
            content_type: CONTENT_TYPE_JSON,
            body: response.to_bytes(),
            error: None,
        }
    }
}

/// The current Unix time in seconds (0 if the clock is before 1970).
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

/// Parses and authenticates the query, then parses and validates the body
/// of a friend response. `now` is Unix seconds (inject a fixed value in
/// tests).
pub fn verify<'a>(
    config: &Config,
    query: &'a str,
    body: &'a [u8],
    now: u64,
) -> Result<FriendResponseCallback<'a>, CallbackError> {
    verify_for::<FriendResponse>(config, query, body, now)
}

/// [`verify`] for the callback of command `K`.
pub fn verify_for<'a, K: FriendCommand>(
    config: &Config,
    query: &'a str,
    body: &'a [u8],
    now: u64,
) -> Result<K::Callback<'a>, CallbackError> {
    let query = CallbackQuery::parse_for(query, K::NAME)?;
    authenticate(config, &query, now)?;
    K::verify_body(config.limits(), query, body)
}

/// The first half of [`verify`]: parses and authenticates the query alone.
///
/// The query comes complete with the request's headers, so a host calls this
/// before it spends anything on the request (an in-flight slot, reading the
/// body): an outsider without a valid `Sign` is refused at once.
pub fn verify_query<'a>(
    config: &Config,
    query: &'a str,
    now: u64,
) -> Result<CallbackQuery<'a>, CallbackError> {
    let query = CallbackQuery::parse(query)?;
    authenticate(config, &query, now)?;
    Ok(query)
}

/// What an authenticated request on the one callback URL is for.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Routed<'a> {
    /// `Sns.CallbackPrevFriendResponse`: go on with [`verify_body`] and the
    /// deciders.
    FriendResponse(CallbackQuery<'a>),
    /// `Sns.CallbackPrevFriendAdd`: go on with [`verify_body_for`]
    /// `::<FriendAdd>` and the friend-request deciders.
    FriendAdd(CallbackQuery<'a>),
    /// Any other command, authenticated like this callback, for the host to
    /// route (or answer with [`crate::command::PROCESSED_ANSWER`]).
    Other(CallbackQuery<'a>),
}

impl<'a> Routed<'a> {
    /// The authenticated query, whatever the command.
    pub fn query(&self) -> &CallbackQuery<'a> {
        match self {
            Self::FriendResponse(query) | Self::FriendAdd(query) | Self::Other(query) => query,
        }
    }
}

/// [`verify_query`] for the one callback URL: parses and authenticates the
/// query of a callback of any command (the same app id, `Sign` and window
/// checks, the same errors), then says where it goes.
pub fn route_query<'a>(
    config: &Config,
    query: &'a str,
    now: u64,
) -> Result<Routed<'a>, CallbackError> {
    let query = authenticate_any(config, query, now)?;
    Ok(match &*query.callback_command {
        FriendResponse::NAME => Routed::FriendResponse(query),
        FriendAdd::NAME => Routed::FriendAdd(query),
        _ => Routed::Other(query),
    })
}

/// Parses and authenticates the query of a callback of any command: what a
/// host's own handlers for its other callbacks check before they trust one.
pub fn authenticate_any<'a>(
    config: &Config,
    query: &'a str,
    now: u64,
) -> Result<CallbackQuery<'a>, CallbackError> {
    let query = CallbackQuery::parse_any(query)?;
    authenticate(config, &query, now)?;
    Ok(query)
}

/// The second half of [`verify`]: parses and validates the body of a callback
/// whose query [`verify_query`] accepted.
pub fn verify_body<'a>(
    config: &Config,
    query: CallbackQuery<'a>,
    body: &'a [u8],
) -> Result<FriendResponseCallback<'a>, CallbackError> {
    FriendResponse::verify_body(config.limits(), query, body)
}

/// [`verify_body`] for the callback of command `K`.
pub fn verify_body_for<'a, K: FriendCommand>(
    config: &Config,
    query: CallbackQuery<'a>,
    body: &'a [u8],
) -> Result<K::Callback<'a>, CallbackError> {
    K::verify_body(config.limits(), query, body)
}

/// Asks `decider` about item `index`. A panic counts as a failure of that
/// item's decision, not of the host. Hosts that drive deciders themselves
/// (the server) call this rather than `Decider::decide`.
pub fn decide_item<D: Decider + ?Sized>(
    decider: &D,
    callback: &FriendResponseCallback<'_>,
    index: usize,
    item: &ResponseItem<'_>,
) -> Result<Decision, DeciderError> {
    decide_item_for::<FriendResponse, D>(decider, callback, index, item)
}

/// [`decide_item`] for the callback of command `K`.
pub fn decide_item_for<K: FriendCommand, D: Decider<K> + ?Sized>(
    decider: &D,
    callback: &K::Callback<'_>,
    index: usize,
    item: &K::Item<'_>,
) -> Result<Decision, DeciderError> {
    catch_unwind(AssertUnwindSafe(|| decider.decide(callback, index, item)))
        .unwrap_or_else(|_| Err(DeciderError::new("decider panicked")))
}

/// Asks `decider` about each item in order (panics count as failures).
pub fn decide_all<D: Decider + ?Sized>(
    callback: &FriendResponseCallback<'_>,
    decider: &D,
) -> Vec<Result<Decision, DeciderError>> {
    decide_all_for::<FriendResponse, D>(callback, decider)
}

/// [`decide_all`] for the callback of command `K`.
pub fn decide_all_for<K: FriendCommand, D: Decider<K> + ?Sized>(
    callback: &K::Callback<'_>,
    decider: &D,
) -> Vec<Result<Decision, DeciderError>> {
    let items = K::items(callback).iter().enumerate();
    items
        .map(|(index, item)| decide_item_for::<K, D>(decider, callback, index, item))
        .collect()
}

/// Builds the reply from one outcome per item, in order, applying the
/// configured failure policy to failed ones. Missing outcomes count as failed
/// ("no decision"); extra ones are ignored.
pub fn respond<I>(config: &Config, callback: &FriendResponseCallback<'_>, outcomes: I) -> Reply
where
    I: IntoIterator<Item = Result<Decision, DeciderError>>,
{
    respond_each_for::<FriendResponse, I, _>(config, callback, outcomes, |_, _| {})
}

/// [`respond`] for the callback of command `K`.
pub fn respond_for<K: FriendCommand, I>(
    config: &Config,
    callback: &K::Callback<'_>,
    outcomes: I,
) -> Reply
where
    I: IntoIterator<Item = Result<Decision, DeciderError>>,
{
    respond_each_for::<K, I, _>(config, callback, outcomes, |_, _| {})
}

/// [`respond`], calling `written(index, decision)` with the decision each
/// item's `ResultItem` carries (after the failure policy), as it is written,
/// so that a host logs what the answer says rather than working it out
/// again. When the failure policy fails the whole callback, the reply is a
/// `FAIL` that carries no item (its `error` is set): what was reported
/// before that is not in the answer.
pub fn respond_each<I, F>(
    config: &Config,
    callback: &FriendResponseCallback<'_>,
    outcomes: I,
    written: F,
) -> Reply
where
    I: IntoIterator<Item = Result<Decision, DeciderError>>,
    F: FnMut(usize, &Decision),
{
    respond_each_for::<FriendResponse, I, F>(config, callback, outcomes, written)
}

/// [`respond_each`] for the callback of command `K`.
pub fn respond_each_for<K: FriendCommand, I, F>(
    config: &Config,
    callback: &K::Callback<'_>,
    outcomes: I,
    mut written: F,
) -> Reply
where
    I: IntoIterator<Item = Result<Decision, DeciderError>>,
    F: FnMut(usize, &Decision),
{
    let items = K::items(callback);
    let policy = config.on_decider_error();
    let mut outcomes = outcomes.into_iter();
    let text: usize = items.iter().map(|item| K::to_account(item).len()).sum();
    let mut body = Vec::with_capacity(estimate_len(items.len(), text));
    let mut answer = AnswerWriter::start(&mut body, ActionStatus::Ok, 0, "");
    for (index, item) in items.iter().enumerate() {
        let outcome = outcomes
            .next()
            .unwrap_or_else(|| Err(DeciderError::new("no decision")));
        let decision = match outcome {
            Ok(decision) => decision,
            Err(error) => match policy.on_failure(index, &error) {
                Ok(decision) => decision,
                Err(error) => return Reply::from_error(error),
            },
        };
        written(index, &decision);
        answer.item(K::to_account(item), decision.result_code(), decision.info());
    }
    answer.finish();
    Reply {
        status: 200,
        content_type: CONTENT_TYPE_JSON,
        body,
        error: None,
    }
}

/// Runs the whole flow for a friend response: verify, decide each item,
/// build the reply. Never panics; every failure is a well-formed `FAIL`
/// reply.
pub fn handle<D: Decider + ?Sized>(
    config: &Config,
    query: &str,
    body: &[u8],
    now: u64,
    decider: &D,
) -> Reply {
    handle_for::<FriendResponse, D>(config, query, body, now, decider)
}

/// [`handle`] for a friend request (`Sns.CallbackPrevFriendAdd`).
pub fn handle_add<D: Decider<FriendAdd> + ?Sized>(
    config: &Config,
    query: &str,
    body: &[u8],
    now: u64,
    decider: &D,
) -> Reply {
    handle_for::<FriendAdd, D>(config, query, body, now, decider)
}

/// [`handle`] for the callback of command `K`.
pub fn handle_for<K: FriendCommand, D: Decider<K> + ?Sized>(
    config: &Config,
    query: &str,
    body: &[u8],
    now: u64,
    decider: &D,
) -> Reply {
    match verify_for::<K>(config, query, body, now) {
        Ok(callback) => {
            let items = K::items(&callback).iter().enumerate();
            let outcomes =
                items.map(|(index, item)| decide_item_for::<K, D>(decider, &callback, index, item));
            respond_for::<K, _>(config, &callback, outcomes)
        }
        Err(error) => Reply::from_error(error),
    }
}

/// The deciders of the one callback URL, one per friend command; an absent
/// one allows every item (the platform's own answer when nobody decides).
#[derive(Clone, Copy, Default)]
pub struct Deciders<'d> {
    /// For `Sns.CallbackPrevFriendResponse`.
    pub response: Option<&'d dyn Decider<FriendResponse>>,
    /// For `Sns.CallbackPrevFriendAdd`.
    pub add: Option<&'d dyn Decider<FriendAdd>>,
}

impl std::fmt::Debug for Deciders<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deciders")
            .field("response", &self.response.is_some())
            .field("add", &self.add.is_some())
            .finish()
    }
}

/// What the one callback URL makes of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OneUrl<'a> {
    /// A friend callback answered (or refused): send this reply.
    Reply(Reply),
    /// An authenticated callback of another command, for the host's own
    /// handler (or [`Reply::processed`]).
    Other(CallbackQuery<'a>),
}

/// Answers a request on the one callback URL: authenticates the query of
/// any command; decides a friend response or a friend request with its
/// decider (an absent one allows); hands any other command back.
pub fn handle_one_url<'q>(
    config: &Config,
    query: &'q str,
    body: &[u8],
    now: u64,
    deciders: Deciders<'_>,
) -> OneUrl<'q> {
    fn decided<K: FriendCommand>(
        config: &Config,
        query: CallbackQuery<'_>,
        body: &[u8],
        decider: Option<&dyn Decider<K>>,
    ) -> Reply {
        let callback = match K::verify_body(config.limits(), query, body) {
            Ok(callback) => callback,
            Err(error) => return Reply::from_error(error),
        };
        let decider = decider.unwrap_or(&AllowAll);
        let outcomes = decide_all_for::<K, dyn Decider<K>>(&callback, decider);
        respond_for::<K, _>(config, &callback, outcomes)
    }
    match route_query(config, query, now) {
        Err(error) => OneUrl::Reply(Reply::from_error(error)),
        Ok(Routed::FriendResponse(query)) => OneUrl::Reply(decided::<FriendResponse>(
            config,
            query,
            body,
            deciders.response,
        )),
        Ok(Routed::FriendAdd(query)) => {
            OneUrl::Reply(decided::<FriendAdd>(config, query, body, deciders.add))
        }
        Ok(Routed::Other(query)) => OneUrl::Other(query),
    }
}
