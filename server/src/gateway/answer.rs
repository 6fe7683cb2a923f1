//! Friend responses and friend requests: authenticate the query, read the
//! body, decide each item (the policy, with one Redis round trip for its
//! rate limits, or an embedded decider), and write the answer. One path,
//! generic over the command ([`Ruled`]).

use std::cell::RefCell;
use std::time::Instant;

use friendgate_core::{
    decide_item_for, respond_each_for, route_query, verify_body_for, verify_query, CallbackError,
    Decider, FriendAdd, FriendResponse, Reply, Routed,
};

use super::{Gateway, ANSWER_MARGIN};
use crate::config::settings::{OtherCommands, Settings};
use crate::decided::{Slot, DECIDER_ERROR_RULE, EMBEDDED_RULE};
use crate::gateway::record::ItemLog;
use crate::policy::subject::Subject;
use crate::policy::{Command, LimitPlan, Ruled};
use crate::state::StoreError;

/// The rules' plan for a callback and the outcome of its one Redis round
/// trip (`None`: no item reaches a rate limit).
type Planned = (LimitPlan, Option<Result<Vec<i64>, StoreError>>);

impl Gateway {
    /// Walks the rules for every item of a callback of `command` from
    /// `from`, then takes the tokens of its Redis rate limits in one round
    /// trip, within what is left of the request deadline.
    async fn shared_limits(
        &self,
        settings: &Settings,
        command: Command,
        from: &str,
        subjects: &[Subject<'_>],
        received: Instant,
    ) -> Planned {
        let plan = settings.policy.plan(subjects, received);
        let outcome = match settings.policy.limit_call(&plan, command, from) {
            Some(call) => Some(match &self.store {
                Some(store) => {
                    store.start();
                    let left = (received + settings.server.request_deadline)
                        .saturating_duration_since(Instant::now())
                        .saturating_sub(ANSWER_MARGIN);
                    store.limits(call, left).await
                }
                None => Err(StoreError::Redis(
                    "no client (see the log at start)".to_owned(),
                )),
            }),
            None => None,
        };
        (plan, outcome)
    }

    /// Answers one friend callback (a response or a request): raw query,
    /// raw body, the time (Unix seconds). Another command is refused as
    /// `unexpected_command`.
    ///
    /// ```
    /// use friendgate_core::testing::{signed_query, SAMPLE_BODY};
    /// use friendgate_server::Gateway;
    ///
    /// let gateway = Gateway::load("../examples/friendgate.toml".as_ref())?;
    /// let query = signed_query(1_400_000_000, "xxxxyyyy", 1_669_872_112);
    /// let body = SAMPLE_BODY.replace("id1", "banned_user");
    /// let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    /// let reply = runtime.block_on(gateway.answer(&query, body.as_bytes(), 1_669_872_112));
    /// assert_eq!(reply.status, 200);
    /// assert!(String::from_utf8(reply.body)?.contains(r#""ResultCode":38001,"ResultInfo":"account is blocked""#));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// Rate limits on Redis (`[state]`) need a tokio runtime.
    pub async fn answer(&self, query: &str, body: &[u8], now: u64) -> Reply {
        self.answer_received(query, body, now, Instant::now()).await
    }

    /// [`Gateway::answer`] for a callback that arrived at `received`: its
    /// latency is counted from then.
    pub(crate) async fn answer_received(
        &self,
        query: &str,
        body: &[u8],
        now: u64,
        received: Instant,
    ) -> Reply {
        let settings = self.settings();
        match route_query(&settings.callback, query, now) {
            Ok(routed) => self.answer_authenticated(routed, body, received).await,
            Err(error) => self.refuse(error, received),
        }
    }

    /// Parses and authenticates the query of a request on the one callback
    /// URL (app id, `Sign`, window), before anything is spent on its body: a
    /// callback of any command, authenticated alike. Another command with no upstream is
    /// refused here when `callback.other_commands = "refuse"`.
    pub(crate) fn route<'q>(
        &self,
        settings: &Settings,
        query: &'q str,
    ) -> Result<Routed<'q>, CallbackError> {
        let now = self.now();
        let routed = route_query(&settings.callback, query, now)?;
        if let Routed::Other(other) = &routed {
            if settings.other_commands == OtherCommands::Refuse
                && settings.upstreams.route(&other.callback_command).is_none()
            {
                // Core's unexpected_command, worded by core.
                verify_query(&settings.callback, query, now)?;
            }
        }
        Ok(routed)
    }

    /// Answers a friend callback whose query [`Gateway::route`] accepted:
    /// validates the body, decides each item, logs and counts.
    pub(crate) async fn answer_authenticated(
        &self,
        routed: Routed<'_>,
        body: &[u8],
        received: Instant,
    ) -> Reply {
        match routed {
            Routed::FriendResponse(query) => {
                let decider = self.decider.as_deref().map(|d| d as &(dyn Decider + Sync));
                self.answer_friend::<FriendResponse>(query, decider, body, received)
                    .await
            }
            Routed::FriendAdd(query) => {
                let decider = self
                    .add_decider
                    .as_deref()
                    .map(|d| d as &(dyn Decider<FriendAdd> + Sync));
                self.answer_friend::<FriendAdd>(query, decider, body, received)
                    .await
            }
            // Other commands go to their upstream (the HTTP route); here,
            // core's unexpected_command.
            other => {
                let error = CallbackError::unexpected_command(
                    friendgate_core::FRIEND_RESPONSE,
                    &other.query().callback_command,
                );
                self.refuse(error, received)
            }
        }
    }

    /// [`Gateway::answer_authenticated`] for command `K`: rate limits read
    /// `received` as the time (one clock read per callback); those on Redis
    /// are decided for every item in one round trip, before the rules in
    /// memory run.
    async fn answer_friend<K: Ruled>(
        &self,
        query: friendgate_core::CallbackQuery<'_>,
        decider: Option<&(dyn Decider<K> + Sync)>,
        body: &[u8],
        received: Instant,
    ) -> Reply {
        let started = received;
        let current = self.current.load();
        let settings = &current.settings;
        let config = &settings.callback;
        let callback = match verify_body_for::<K>(config, query, body) {
            Ok(callback) => callback,
            Err(error) => return self.refuse_command(K::COMMAND, error, started),
        };
        let items = K::items(&callback);
        let subjects: Vec<_> = items
            .iter()
            .map(|item| K::subject(&callback, item))
            .collect();
        let planned = match decider {
            None if settings.policy.has_shared_limits() => {
                let from = K::from_account(&callback);
                Some(
                    self.shared_limits(settings, K::COMMAND, from, &subjects, received)
                        .await,
                )
            }
            _ => None,
        };
        // Filled as items are decided, then with what the answer carries
        // for each (core reports it: nothing here applies the policy again).
        let log = RefCell::new(Vec::with_capacity(items.len()));
        let outcomes = items
            .iter()
            .zip(&subjects)
            .enumerate()
            .map(|(index, (item, subject))| {
                let mut note = None;
                let decided = match (decider, &planned) {
                    // Through core, so that a panicking decider is a failed
                    // decision rather than a dropped connection (which the
                    // platform would take as "allow").
                    (Some(decider), _) => decide_item_for::<K, _>(decider, &callback, index, item)
                        .map(|decision| (decision, EMBEDDED_RULE, Slot::Decider)),
                    (None, Some((plan, outcome))) => {
                        let (verdict, fell_back) = settings.policy.settle(
                            plan,
                            index,
                            subject,
                            outcome.as_ref(),
                            received,
                        );
                        note = fell_back;
                        verdict.map(|verdict| (verdict.decision, verdict.rule, verdict.slot))
                    }
                    (None, None) => settings
                        .policy
                        .decide(subject, received)
                        .map(|verdict| (verdict.decision, verdict.rule, verdict.slot)),
                };
                let (slot, rule, error) = match &decided {
                    Ok((_, rule, slot)) => (*slot, *rule, note),
                    Err(error) => (
                        Slot::DeciderError,
                        DECIDER_ERROR_RULE,
                        Some(error.to_string()),
                    ),
                };
                log.borrow_mut().push(ItemLog {
                    slot,
                    subject: *subject,
                    rule,
                    result: None,
                    error,
                });
                decided.map(|(decision, _, _)| decision)
            });
        let reply = respond_each_for::<K, _, _>(config, &callback, outcomes, |index, decision| {
            if let Some(item) = log.borrow_mut().get_mut(index) {
                item.result = Some(decision.result_code());
            }
        });
        let mut log = log.into_inner();
        if reply.error.is_some() {
            // A FAIL answer carries no item.
            log.iter_mut().for_each(|item| item.result = None);
        }
        let counters = &current.counters[K::COMMAND.index()];
        self.record(K::header(&callback), &log, counters, &reply, started);
        reply
    }
}
