//! The gateway: answers one callback with core's `verify`/`respond` and the
//! policy, writes the log line and the metrics, and swaps in a new
//! configuration on reload. The HTTP server and `friendgate handle` both go
//! through [`Gateway::answer`].

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use arc_swap::ArcSwap;
use friendgate_core::{
    decide_item, respond, unix_now, verify_body, verify_query, CallbackError, CallbackQuery,
    Decider, DeciderError, Decision, FriendResponseCallback, Reply, ResponseItem,
};

use crate::logformat::{write_json_str, write_json_u64};
use crate::metrics::{DecisionCounters, Metrics};
use crate::policy::DEFAULT_RULE;
use crate::refusals::RefusalLog;
use crate::settings::{Settings, SettingsError};

/// Rule name logged for decisions made by an embedded [`Decider`].
pub const EMBEDDED_RULE: &str = "decider";

/// A decider shared across threads.
pub type SharedDecider = Arc<dyn Decider + Send + Sync>;

/// A clock giving Unix seconds.
pub type Clock = Arc<dyn Fn() -> u64 + Send + Sync>;

/// One item of the log line.
#[derive(Debug)]
struct ItemLog<'a> {
    /// The decision counter's slot (not logged).
    slot: usize,
    to: &'a str,
    action: &'a str,
    rule: &'a str,
    result: u32,
    error: Option<String>,
}

impl ItemLog<'_> {
    /// Writes `{"to":..,"action":..,"rule":..,"result":..[,"error":..]}`.
    fn write_json(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(br#"{"to":"#);
        write_json_str(out, self.to);
        out.extend_from_slice(br#","action":"#);
        write_json_str(out, self.action);
        out.extend_from_slice(br#","rule":"#);
        write_json_str(out, self.rule);
        out.extend_from_slice(br#","result":"#);
        write_json_u64(out, u64::from(self.result));
        if let Some(error) = &self.error {
            out.extend_from_slice(br#","error":"#);
            write_json_str(out, error);
        }
        out.push(b'}');
    }
}

/// A configuration with its decision counters; swapped as one on reload.
struct Loaded {
    settings: Arc<Settings>,
    counters: DecisionCounters,
}

impl Loaded {
    /// Counter slots: the rules, then `default`, the embedded decider, and
    /// failed decisions.
    fn new(settings: Settings, metrics: &Metrics) -> Self {
        let names =
            settings
                .policy
                .rule_names()
                .chain([DEFAULT_RULE, EMBEDDED_RULE, DECIDER_ERROR_RULE]);
        let counters = metrics.decision_counters(names);
        Self {
            settings: Arc::new(settings),
            counters,
        }
    }
}

/// Rule name logged for items whose decision failed.
const DECIDER_ERROR_RULE: &str = "decider_error";

/// Answers callbacks under the current configuration.
pub struct Gateway {
    state: ArcSwap<Loaded>,
    config_path: PathBuf,
    decider: Option<SharedDecider>,
    clock: Clock,
    metrics: Metrics,
    ready: AtomicBool,
    refusals: RefusalLog,
}

/// The items of the log line as a JSON array.
fn items_json(log: &[ItemLog<'_>]) -> String {
    let mut json = Vec::with_capacity(2 + log.len() * 112);
    json.push(b'[');
    for (index, item) in log.iter().enumerate() {
        if index > 0 {
            json.push(b',');
        }
        item.write_json(&mut json);
    }
    json.push(b']');
    // Only whole strings were written, so this is UTF-8.
    String::from_utf8(json).unwrap_or_else(|_| "null".to_owned())
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("config_path", &self.config_path)
            .finish_non_exhaustive()
    }
}

impl Gateway {
    /// A gateway on validated settings; its policy decides every item.
    pub fn new(settings: Settings) -> Self {
        let metrics = Metrics::new();
        Self {
            config_path: settings.path.clone(),
            state: ArcSwap::from_pointee(Loaded::new(settings, &metrics)),
            decider: None,
            clock: Arc::new(unix_now),
            metrics,
            ready: AtomicBool::new(true),
            refusals: RefusalLog::default(),
        }
    }

    /// Decides items with `decider` instead of the rules (for Rust services
    /// that embed the server with their own logic).
    pub fn with_decider(mut self, decider: SharedDecider) -> Self {
        self.decider = Some(decider);
        self
    }

    /// Checks `RequestTime` against `clock` instead of the system clock.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The current time by the gateway's clock, Unix seconds.
    pub fn now(&self) -> u64 {
        (self.clock)()
    }

    /// Loads `path` and builds a gateway on it.
    pub fn load(path: &Path) -> Result<Self, SettingsError> {
        Ok(Self::new(Settings::load(path)?))
    }

    /// The current settings.
    pub fn settings(&self) -> Arc<Settings> {
        self.state.load().settings.clone()
    }

    /// The metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Whether the gateway takes traffic (false once shutdown began).
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Relaxed)
    }

    /// Marks the gateway as draining, so `/readyz` turns away new traffic.
    pub fn set_draining(&self) {
        self.ready.store(false, Ordering::Relaxed);
    }

    /// Re-reads the config file. A file that does not validate leaves the
    /// running configuration in place and says why. Listener settings
    /// (address, TLS) need a restart and are reported when they changed.
    pub fn reload(&self) -> Result<(), SettingsError> {
        let old = self.settings();
        let loaded = Settings::load(&self.config_path).and_then(|mut new| {
            new.policy.check_shrink(&old.policy, &self.config_path)?;
            new.policy.keep_state(&old.policy);
            Ok(new)
        });
        match loaded {
            Ok(new) => {
                if new.server.listen != old.server.listen
                    || new.server.tls != old.server.tls
                    || new.admin != old.admin
                {
                    tracing::warn!(
                        target: "friendgate::reload",
                        "listen address, TLS or admin listener changed; restart to apply them"
                    );
                }
                let rules: Vec<&str> = new.policy.rule_names().collect();
                tracing::info!(target: "friendgate::reload", file = %self.config_path.display(), rules = ?rules, "configuration reloaded");
                self.state.store(Arc::new(Loaded::new(new, &self.metrics)));
                self.metrics.reload(true);
                Ok(())
            }
            Err(error) => {
                tracing::error!(target: "friendgate::reload", %error, "reload refused; the previous configuration stays");
                self.metrics.reload(false);
                Err(error)
            }
        }
    }

    /// Answers one callback: raw query, raw body, the time (Unix seconds).
    ///
    /// ```
    /// use friendgate_core::testing::{signed_query, SAMPLE_BODY};
    /// use friendgate_server::Gateway;
    ///
    /// let gateway = Gateway::load("../examples/friendgate.toml".as_ref())?;
    /// let query = signed_query(1_400_000_000, "xxxxyyyy", 1_669_872_112);
    /// let body = SAMPLE_BODY.replace("id1", "banned_user");
    /// let reply = gateway.answer(&query, body.as_bytes(), 1_669_872_112);
    /// assert_eq!(reply.status, 200);
    /// assert!(String::from_utf8(reply.body)?.contains(r#""ResultCode":38001,"ResultInfo":"account is blocked""#));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn answer(&self, query: &str, body: &[u8], now: u64) -> Reply {
        self.answer_received(query, body, now, Instant::now())
    }

    /// [`Gateway::answer`] for a callback that arrived at `received`: its
    /// latency is counted from then.
    pub(crate) fn answer_received(
        &self,
        query: &str,
        body: &[u8],
        now: u64,
        received: Instant,
    ) -> Reply {
        let config = &self.state.load().settings.callback;
        match verify_query(config, query, now) {
            Ok(query) => self.answer_authenticated(query, body, received),
            Err(error) => self.refuse(error, received),
        }
    }

    /// Parses and authenticates the query of a request (app id, `Sign`,
    /// window) under `settings`, before anything is spent on its body.
    pub(crate) fn authenticate<'q>(
        &self,
        settings: &Settings,
        query: &'q str,
    ) -> Result<CallbackQuery<'q>, CallbackError> {
        verify_query(&settings.callback, query, self.now())
    }

    /// Answers a callback whose query [`Gateway::authenticate`] accepted:
    /// validates the body, decides each item, logs and counts. Rate limits
    /// read `received` as the time (one clock read per callback).
    pub(crate) fn answer_authenticated(
        &self,
        query: CallbackQuery<'_>,
        body: &[u8],
        received: Instant,
    ) -> Reply {
        let started = received;
        let state = self.state.load();
        let settings = &state.settings;
        let config = &settings.callback;
        let callback = match verify_body(config, query, body) {
            Ok(callback) => callback,
            Err(error) => return self.refuse(error, started),
        };
        let mut log = Vec::with_capacity(callback.items().len());
        let outcomes = callback.items().iter().enumerate().map(|(index, item)| {
            let rules = settings.policy.len();
            let decided = match &self.decider {
                // Through core, so that a panicking decider is a failed
                // decision rather than a dropped connection (which the
                // platform would take as "allow").
                Some(decider) => decide_item(decider.as_ref(), &callback, index, item)
                    .map(|decision| (decision, EMBEDDED_RULE, rules + 1)),
                None => settings
                    .policy
                    .decide(&callback, item, received)
                    .map(|verdict| (verdict.decision, verdict.rule, verdict.index)),
            };
            log.push(Self::item_log(config, index, item, &decided, rules + 2));
            decided.map(|(decision, _, _)| decision)
        });
        let reply = respond(config, &callback, outcomes);
        self.record(&callback, &log, &state.counters, &reply, started);
        reply
    }

    /// The FAIL reply for `error` (from core or the HTTP layer), logged and
    /// counted like every callback.
    pub fn refuse(&self, error: CallbackError, started: Instant) -> Reply {
        self.refusal(error, started, false)
    }

    /// [`Gateway::refuse`] for a request refused before it was
    /// authenticated: counted like every refusal, but logged at a bounded
    /// rate (see [`crate::refusals`]), so that an outsider cannot fill the
    /// log.
    pub(crate) fn refuse_unauthenticated(&self, error: CallbackError, started: Instant) -> Reply {
        self.refusal(error, started, true)
    }

    fn refusal(&self, error: CallbackError, started: Instant, outsider: bool) -> Reply {
        let reply = Reply::from_error(error);
        let elapsed = started.elapsed();
        let Some(error) = &reply.error else {
            return reply;
        };
        self.metrics
            .callback(Some(error.code()), elapsed.as_secs_f64());
        let (suppressed, message) = if outsider {
            match self.refusals.admit(self.now()) {
                Some(suppressed) => (suppressed, "request refused before authentication"),
                None => return reply,
            }
        } else {
            (0, "callback refused")
        };
        tracing::warn!(
            target: "friendgate::callback",
            status = reply.status,
            error = error.code(),
            reason = %error,
            micros = elapsed.as_micros() as u64,
            suppressed,
            "{message}"
        );
        reply
    }

    fn item_log<'a>(
        config: &friendgate_core::Config,
        index: usize,
        item: &'a ResponseItem<'a>,
        decided: &Result<(Decision, &'a str, usize), DeciderError>,
        error_slot: usize,
    ) -> ItemLog<'a> {
        let (slot, rule, result, error) = match decided {
            Ok((decision, rule, slot)) => (*slot, *rule, decision.result_code(), None),
            // The answer applies core's failure policy; log what it gives.
            Err(error) => {
                let result = config
                    .on_decider_error()
                    .on_failure(index, error)
                    .map_or(0, |decision| decision.result_code());
                (
                    error_slot,
                    DECIDER_ERROR_RULE,
                    result,
                    Some(error.to_string()),
                )
            }
        };
        ItemLog {
            slot,
            to: &item.to_account,
            action: item.action.as_str(),
            rule,
            result,
            error,
        }
    }

    fn record(
        &self,
        callback: &FriendResponseCallback<'_>,
        log: &[ItemLog<'_>],
        counters: &DecisionCounters,
        reply: &Reply,
        started: Instant,
    ) {
        let elapsed = started.elapsed();
        let error = reply.error.as_ref().map(CallbackError::code);
        self.metrics.callback(error, elapsed.as_secs_f64());
        for item in log {
            counters.count(item.slot, item.result == 0);
        }
        // The items' JSON is built only when the line will be written.
        if !tracing::enabled!(target: "friendgate::callback", tracing::Level::INFO) {
            return;
        }
        let items = items_json(log);
        tracing::info!(
            target: "friendgate::callback",
            status = reply.status,
            error = error.unwrap_or("none"),
            app_id = callback.sdk_app_id(),
            platform = callback.platform().map_or("", |p| p.as_str()),
            client_ip = callback.client_ip().map_or("", |ip| ip.as_str()),
            from = callback.from_account(),
            requester = callback.requester_account(),
            event_time_ms = callback.event_time_ms(),
            items = %items,
            micros = elapsed.as_micros() as u64,
            "callback answered"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_items_of_the_log_line_are_a_json_array() {
        let log = [
            ItemLog {
                slot: 0,
                to: "id1",
                action: "Response_Action_AgreeAndAdd",
                rule: "default",
                result: 0,
                error: None,
            },
            ItemLog {
                slot: 3,
                to: "a\"b",
                action: "Response_Action_Reject",
                rule: DECIDER_ERROR_RULE,
                result: 38900,
                error: Some("decider said \"no\"\n".to_owned()),
            },
        ];
        let items: serde_json::Value = serde_json::from_str(&items_json(&log)).unwrap();
        assert_eq!(
            items,
            serde_json::json!([
                {"to": "id1", "action": "Response_Action_AgreeAndAdd", "rule": "default", "result": 0},
                {"to": "a\"b", "action": "Response_Action_Reject", "rule": "decider_error", "result": 38900, "error": "decider said \"no\"\n"},
            ])
        );
        assert_eq!(items_json(&[]), "[]");
    }
}
