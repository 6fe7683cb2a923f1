//! Friend responses: authenticate the query, read the body, decide each
//! item (the policy, with one Redis round trip for its rate limits, or an
//! embedded decider), and write the answer.

use std::cell::RefCell;
use std::time::Instant;

use friendgate_core::{
    decide_item, respond_each, route_query, verify_body, verify_query, CallbackError,
    CallbackQuery, Reply, Routed,
};

use super::{Gateway, ANSWER_MARGIN};
use crate::config::settings::{OtherCommands, Settings};
use crate::decided::{Slot, DECIDER_ERROR_RULE, EMBEDDED_RULE};
use crate::gateway::record::ItemLog;
use crate::state::StoreError;

impl Gateway {
    /// Answers one callback: raw query, raw body, the time (Unix seconds).
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
        match verify_query(&settings.callback, query, now) {
            Ok(query) => self.answer_authenticated(query, body, received).await,
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

    /// Answers a callback whose query [`Gateway::route`] accepted:
    /// validates the body, decides each item, logs and counts. Rate limits
    /// read `received` as the time (one clock read per callback); those on
    /// Redis are decided for every item in one round trip, before the rules
    /// in memory run.
    pub(crate) async fn answer_authenticated(
        &self,
        query: CallbackQuery<'_>,
        body: &[u8],
        received: Instant,
    ) -> Reply {
        let started = received;
        let current = self.current.load();
        let settings = &current.settings;
        let config = &settings.callback;
        let callback = match verify_body(config, query, body) {
            Ok(callback) => callback,
            Err(error) => return self.refuse(error, started),
        };
        let planned = match &self.decider {
            None if settings.policy.has_shared_limits() => {
                let plan = settings.policy.plan(&callback, received);
                let outcome = match settings.policy.limit_call(&plan, &callback) {
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
                Some((plan, outcome))
            }
            _ => None,
        };
        // Filled as items are decided, then with what the answer carries
        // for each (core reports it: nothing here applies the policy again).
        let log = RefCell::new(Vec::with_capacity(callback.items().len()));
        let outcomes = callback.items().iter().enumerate().map(|(index, item)| {
            let mut note = None;
            let decided = match (&self.decider, &planned) {
                // Through core, so that a panicking decider is a failed
                // decision rather than a dropped connection (which the
                // platform would take as "allow").
                (Some(decider), _) => decide_item(decider.as_ref(), &callback, index, item)
                    .map(|decision| (decision, EMBEDDED_RULE, Slot::Decider)),
                (None, Some((plan, outcome))) => {
                    let (verdict, fell_back) = settings.policy.settle(
                        plan,
                        index,
                        callback.from_account(),
                        outcome.as_ref(),
                        received,
                    );
                    note = fell_back;
                    verdict.map(|verdict| (verdict.decision, verdict.rule, verdict.slot))
                }
                (None, None) => settings
                    .policy
                    .decide(&callback, item, received)
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
                to: &item.to_account,
                action: item.action.as_str(),
                rule,
                result: None,
                error,
            });
            decided.map(|(decision, _, _)| decision)
        });
        let reply = respond_each(config, &callback, outcomes, |index, decision| {
            if let Some(item) = log.borrow_mut().get_mut(index) {
                item.result = Some(decision.result_code());
            }
        });
        let mut log = log.into_inner();
        if reply.error.is_some() {
            // A FAIL answer carries no item.
            log.iter_mut().for_each(|item| item.result = None);
        }
        self.record(&callback, &log, &current.counters, &reply, started);
        reply
    }
}
