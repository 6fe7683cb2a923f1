//! The gateway: answers one callback with core's `verify`/`respond` and the
//! policy, writes the log line and the metrics, and swaps in a new
//! configuration on reload. The HTTP server and `friendgate handle` both go
//! through [`Gateway::answer`].

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use arc_swap::ArcSwap;
use std::cell::RefCell;

use bytes::Bytes;
use friendgate_core::{
    command_label, decide_item, respond_each, route_query, unix_now, verify_body, verify_query,
    CallbackError, CallbackQuery, Decider, FriendResponseCallback, Reply, Routed,
};

use crate::config::settings::{OtherCommands, Settings, SettingsError};
use crate::events::{Event, EventBus, EventItem, SinkQueues};
use crate::logging::format::{write_json_str, write_json_u64};
use crate::logging::refusals::RefusalLog;
pub use crate::metrics::EMBEDDED_RULE;
use crate::metrics::{DecisionCounters, Metrics, Slot, DECIDER_ERROR_RULE};
use crate::state::{Store, StoreError};
use crate::upstream::{Forwarded, Forwarder, Outgoing};

/// A decider shared across threads.
pub type SharedDecider = Arc<dyn Decider + Send + Sync>;

/// A clock giving Unix seconds.
pub type Clock = Arc<dyn Fn() -> u64 + Send + Sync>;

/// One item of the log line.
#[derive(Debug)]
struct ItemLog<'a> {
    /// The decision counter's slot (not logged).
    slot: Slot,
    to: &'a str,
    action: &'a str,
    rule: &'a str,
    /// The `ResultCode` the answer carries for the item; `None` when the
    /// answer carries none (the failure policy failed the callback).
    result: Option<u32>,
    error: Option<String>,
}

impl ItemLog<'_> {
    /// Writes `{"to":..,"action":..,"rule":..,"result":..[,"error":..]}`
    /// (`result` is `null` for an item the answer does not carry).
    fn write_json(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(br#"{"to":"#);
        write_json_str(out, self.to);
        out.extend_from_slice(br#","action":"#);
        write_json_str(out, self.action);
        out.extend_from_slice(br#","rule":"#);
        write_json_str(out, self.rule);
        out.extend_from_slice(br#","result":"#);
        match self.result {
            Some(result) => write_json_u64(out, u64::from(result)),
            None => out.extend_from_slice(b"null"),
        }
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
    fn new(mut settings: Settings, metrics: &Metrics, store: Option<&Store>) -> Self {
        let counters = metrics.decision_counters(settings.policy.rule_names());
        settings.policy.count_fallbacks(metrics.redis());
        if let Some(store) = store {
            store.watch(settings.policy.shared_sets());
        }
        Self {
            settings: Arc::new(settings),
            counters,
        }
    }
}

/// Answers callbacks under the current configuration.
pub struct Gateway {
    state: ArcSwap<Loaded>,
    config_path: PathBuf,
    decider: Option<SharedDecider>,
    clock: Clock,
    metrics: Metrics,
    ready: AtomicBool,
    refusals: RefusalLog,
    forwarder: Forwarder,
    /// Redis, with `[state]` (kept across reloads: a changed `[state]`
    /// needs a restart).
    store: Option<Arc<Store>>,
    /// Events of answered callbacks, to the sinks of `[events]`.
    events: Arc<EventBus>,
    /// The sinks' queues, until their tasks start.
    sink_queues: std::sync::Mutex<Option<SinkQueues>>,
    /// Tells the sink tasks to finish by a deadline (shutdown).
    events_stop: tokio::sync::watch::Sender<Option<Instant>>,
    sink_tasks: std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>,
    /// One list edit of the admin API at a time.
    edits: tokio::sync::Mutex<()>,
}

/// The answer to a callback of another command.
#[derive(Debug)]
pub(crate) enum OtherAnswer {
    /// Answered by the gateway (core's "processed", or a FAIL).
    Reply(Reply),
    /// The upstream's answer, passed on as it came.
    Forwarded(Forwarded),
}

/// What a callback of another command brings besides its query.
pub(crate) struct OtherRequest<'a> {
    /// The raw query, passed on whole (Sign included).
    pub raw_query: &'a str,
    /// The body, unread by the gateway.
    pub body: Bytes,
    /// Its `Content-Type`.
    pub content_type: Option<&'a str>,
    /// The `X-Forwarded-For` to send on.
    pub forwarded_for: Option<String>,
}

/// Time kept back from the request deadline for writing a late upstream's
/// FAIL answer.
const ANSWER_MARGIN: std::time::Duration = std::time::Duration::from_millis(20);

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
        let forwarder = Forwarder::new(&settings.upstreams.extra_roots);
        let store = settings.state.as_ref().and_then(|state| {
            match Store::new(state, metrics.redis().clone()) {
                Ok(store) => Some(Arc::new(store)),
                Err(error) => {
                    // Every rule on Redis then uses its on_redis_error.
                    tracing::error!(target: "friendgate::state", %error, "cannot build the Redis client");
                    None
                }
            }
        });
        let (events, sink_queues) = EventBus::new(
            &settings.events,
            settings
                .admin
                .as_ref()
                .map_or(0, |admin| admin.live_readers),
            metrics.events().clone(),
        );
        Self {
            config_path: settings.path.clone(),
            state: ArcSwap::from_pointee(Loaded::new(settings, &metrics, store.as_deref())),
            store,
            events: Arc::new(events),
            sink_queues: std::sync::Mutex::new(Some(sink_queues)),
            events_stop: tokio::sync::watch::channel(None).0,
            sink_tasks: std::sync::Mutex::new(Vec::new()),
            edits: tokio::sync::Mutex::new(()),
            decider: None,
            clock: Arc::new(unix_now),
            metrics,
            ready: AtomicBool::new(true),
            refusals: RefusalLog::default(),
            forwarder,
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

    /// The Redis store of `[state]`, when configured.
    pub fn store(&self) -> Option<&Arc<Store>> {
        self.store.as_ref()
    }

    /// Connects to Redis (in the background) and starts keeping the sets'
    /// snapshots current, with `[state]`; [`crate::Server::start`] does it,
    /// and so does the first callback. Idempotent.
    pub fn start_state(&self) {
        if let Some(store) = &self.store {
            store.start();
        }
    }

    /// [`Gateway::start_state`], then waits at most `within` for Redis to
    /// answer and the sets to load (callbacks before then get each rule's
    /// `on_redis_error`); says whether they did. True without `[state]`.
    pub async fn connect_state(&self, within: std::time::Duration) -> bool {
        let Some(store) = &self.store else {
            return true;
        };
        store.start();
        let ready = store.wait_ready(within).await;
        if !ready {
            tracing::warn!(target: "friendgate::state", redis = %store.settings().redis, "Redis not ready yet; rules on Redis use their on_redis_error until it is");
        }
        ready
    }

    /// Held while the admin API edits a list.
    pub(crate) fn edits(&self) -> &tokio::sync::Mutex<()> {
        &self.edits
    }

    /// The event bus (the admin listener's live stream subscribes to it).
    pub fn events(&self) -> &Arc<EventBus> {
        &self.events
    }

    /// Starts the tasks of the event sinks of `[events]`; [`crate::Server::start`]
    /// does it. Idempotent; needs a tokio runtime.
    pub fn start_events(&self) {
        let Some(queues) = self.sink_queues.lock().ok().and_then(|mut q| q.take()) else {
            return;
        };
        let settings = self.settings();
        let mut tasks = Vec::new();
        if let (Some(webhook), Some(queue)) = (settings.events.webhook.clone(), queues.webhook) {
            tasks.push(tokio::spawn(crate::events::webhook::run(
                webhook,
                queue,
                self.forwarder.clone(),
                Arc::clone(&self.events),
                self.events_stop.subscribe(),
            )));
        }
        if let (Some(stream), Some(queue), Some(store)) = (
            settings.events.redis_stream.clone(),
            queues.redis_stream,
            &self.store,
        ) {
            store.start();
            tasks.push(tokio::spawn(crate::events::stream::run(
                stream,
                store.client().clone(),
                queue,
                Arc::clone(&self.events),
                self.events_stop.subscribe(),
            )));
        }
        // The live stream's aggregator ends with the bus: not flushed.
        tokio::spawn(crate::events::live::aggregate(Arc::downgrade(&self.events)));
        if let Ok(mut running) = self.sink_tasks.lock() {
            running.extend(tasks);
        }
    }

    /// Delivers what the sinks hold, for at most `grace`; what is left is
    /// counted as dropped. Call it after the listener stopped.
    pub async fn flush_events(&self, grace: std::time::Duration) {
        let _ = self.events_stop.send(Some(Instant::now() + grace));
        let tasks: Vec<_> = self
            .sink_tasks
            .lock()
            .map(|mut tasks| tasks.drain(..).collect())
            .unwrap_or_default();
        for task in tasks {
            let _ = tokio::time::timeout(grace, task).await;
        }
    }

    /// The metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Starts the gateway's logging as `friendgate serve` does: its
    /// `log.format` and `log.level` to standard output through a batching
    /// writer, whose dropped lines (past `log.buffer_bytes`, when standard
    /// output is slow) are counted in the metrics. Call it once, before
    /// serving; if the process already has a tracing subscriber, that one
    /// stays. Keep the guard alive: dropping it writes what is left.
    pub fn init_logging(&self) -> crate::LogGuard {
        crate::logging::init_logging(&self.settings().log, self.metrics.log_lines_dropped())
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
                    || new.upstreams.extra_roots != old.upstreams.extra_roots
                    || new.state != old.state
                    || new.events != old.events
                {
                    tracing::warn!(
                        target: "friendgate::reload",
                        "listen address, TLS, admin listener, upstream.ca_file, [state] or [events] changed; restart to apply them"
                    );
                }
                let rules: Vec<&str> = new.policy.rule_names().collect();
                tracing::info!(target: "friendgate::reload", file = %self.config_path.display(), rules = ?rules, "configuration reloaded");
                self.state.store(Arc::new(Loaded::new(
                    new,
                    &self.metrics,
                    self.store.as_deref(),
                )));
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

    /// Answers an authenticated callback of another command: forwarded to
    /// its upstream with the whole query, body and content type, or, with
    /// none, core's "processed" answer. Logged and counted by command.
    pub(crate) async fn answer_other(
        &self,
        settings: &Settings,
        query: CallbackQuery<'_>,
        request: OtherRequest<'_>,
        started: Instant,
    ) -> OtherAnswer {
        let command = command_label(&query.callback_command);
        let Some(route) = settings.upstreams.route(&query.callback_command) else {
            let reply = Reply::processed();
            self.record_other(command, None, reply.status, None, started);
            return OtherAnswer::Reply(reply);
        };
        let left = (started + settings.server.request_deadline)
            .saturating_duration_since(Instant::now())
            .saturating_sub(ANSWER_MARGIN);
        let outgoing = Outgoing {
            route,
            query: request.raw_query,
            content_type: request.content_type,
            forwarded_for: request.forwarded_for,
            body: request.body,
            timeout: settings.upstreams.timeout.min(left),
            max_answer_bytes: settings.upstreams.max_answer_bytes,
        };
        match self.forwarder.forward(outgoing).await {
            Ok(forwarded) => {
                let status = forwarded.status.as_u16();
                self.record_other(command, Some(&route.command), status, None, started);
                OtherAnswer::Forwarded(forwarded)
            }
            Err(error) => {
                let reply = Reply::from_error(error);
                let code = reply.error.as_ref().map(CallbackError::code);
                self.record_other(command, Some(&route.command), reply.status, code, started);
                if let Some(error) = &reply.error {
                    tracing::warn!(target: "friendgate::forward", command, upstream = %route.command, error = error.code(), reason = %error, "upstream failed; answered FAIL");
                }
                OtherAnswer::Reply(reply)
            }
        }
    }

    fn record_other(
        &self,
        command: &'static str,
        upstream: Option<&str>,
        status: u16,
        error: Option<&'static str>,
        started: Instant,
    ) {
        let elapsed = started.elapsed();
        self.metrics
            .other_command(command, upstream, status, error, elapsed.as_secs_f64());
        tracing::info!(
            target: "friendgate::forward",
            command,
            upstream = upstream.unwrap_or("none"),
            status,
            error = error.unwrap_or("none"),
            micros = elapsed.as_micros() as u64,
            "{}",
            if upstream.is_some() { "callback forwarded" } else { "callback of another command answered" }
        );
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
        let state = self.state.load();
        let settings = &state.settings;
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
    /// rate (see [`crate::logging::refusals`]), so that an outsider cannot fill the
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
        self.metrics.callback(Some(error.code()));
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
        self.metrics.callback(error);
        for item in log {
            if let Some(result) = item.result {
                counters.count(item.slot, result == 0);
            }
        }
        if self.events.wanted() {
            self.events.emit(Event {
                kind: "friend_response",
                version: crate::events::EVENT_VERSION,
                id: self.events.next_id(),
                answered_at_ms: crate::clock::unix_ms(),
                latency_us: u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
                app_id: callback.sdk_app_id(),
                platform: callback.platform().map(|p| p.as_str().to_owned()),
                client_ip: callback.client_ip().map(|ip| ip.as_str().to_owned()),
                requester: callback.requester_account().to_owned(),
                from: callback.from_account().to_owned(),
                event_time_ms: callback.event_time_ms(),
                status: reply.status,
                error,
                items: log
                    .iter()
                    .map(|item| EventItem {
                        to: item.to.to_owned(),
                        action: item.action.to_owned(),
                        decision: item.result.map(|r| if r == 0 { "allow" } else { "reject" }),
                        result_code: item.result,
                        rule: item.rule.to_owned(),
                    })
                    .collect(),
            });
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
                slot: Slot::Default,
                to: "id1",
                action: "Response_Action_AgreeAndAdd",
                rule: "default",
                result: Some(0),
                error: None,
            },
            ItemLog {
                slot: Slot::DeciderError,
                to: "a\"b",
                action: "Response_Action_Reject",
                rule: DECIDER_ERROR_RULE,
                result: Some(38900),
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

    /// A `MakeWriter` into a shared buffer.
    #[derive(Clone, Default)]
    struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
        type Writer = Self;
        fn make_writer(&'a self) -> Self {
            self.clone()
        }
    }

    /// The JSON callback line the gateway writes for the sample, with an
    /// embedded decider that fails item 0, under `policy`.
    fn logged_items(policy: friendgate_core::FailurePolicy) -> (u16, serde_json::Value, String) {
        use tracing_subscriber::layer::SubscriberExt;
        let callback = friendgate_core::Config::builder(friendgate_core::testing::SAMPLE_APP_ID)
            .on_decider_error(policy)
            .build()
            .unwrap();
        let settings = Settings {
            path: PathBuf::from("(in code)"),
            server: crate::config::settings::ServerSettings {
                listen: "127.0.0.1:0".parse().unwrap(),
                path: "/".to_owned(),
                request_deadline: std::time::Duration::from_millis(1500),
                header_timeout: std::time::Duration::from_secs(5),
                max_in_flight: 8,
                max_connections: 8,
                max_header_bytes: 16 << 10,
                shutdown_grace: std::time::Duration::from_secs(1),
                watch_config: false,
                tls: None,
            },
            callback,
            log: crate::config::settings::LogSettings {
                format: crate::config::settings::LogFormat::Json,
                level: "info".to_owned(),
                buffer_bytes: 1 << 20,
            },
            admin: None,
            policy: crate::policy::Policy::default(),
            upstreams: crate::upstream::Upstreams::default(),
            other_commands: crate::config::settings::OtherCommands::AnswerOk,
            sources: crate::http::sources::Sources::default(),
            state: None,
            events: Default::default(),
            watched_files: Vec::new(),
        };
        let decider: SharedDecider = Arc::new(friendgate_core::decider_fn(|_, index, _| {
            if index == 0 {
                Err(friendgate_core::DeciderError::new("lookup failed"))
            } else {
                Ok(friendgate_core::Decision::allow())
            }
        }));
        let gateway = Gateway::new(settings).with_decider(decider);
        let captured = Captured::default();
        let subscriber = tracing_subscriber::registry()
            .with(crate::logging::format::JsonLines::new(captured.clone()));
        let query =
            friendgate_core::testing::QueryBuilder::new(friendgate_core::testing::SAMPLE_APP_ID)
                .build();
        let reply = tracing::subscriber::with_default(subscriber, || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(gateway.answer(
                &query,
                friendgate_core::testing::SAMPLE_BODY.as_bytes(),
                0,
            ))
        });
        let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        let line = text
            .lines()
            .find(|l| l.contains("callback answered"))
            .unwrap()
            .to_owned();
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        (
            reply.status,
            value["items"].clone(),
            gateway.metrics().render(),
        )
    }

    #[test]
    fn under_fail_callback_the_log_shows_no_allowed_item() {
        let (status, items, metrics) = logged_items(friendgate_core::FailurePolicy::FailCallback);
        assert_eq!(status, 500);
        assert_eq!(items[0]["result"], serde_json::Value::Null, "{items}");
        assert_eq!(
            items[1]["result"],
            serde_json::Value::Null,
            "not allowed by the answer: {items}"
        );
        assert_eq!(items[0]["error"], "lookup failed");
        assert!(!metrics.contains("decision=\"allow\"} 1"), "{metrics}");
    }

    #[test]
    fn the_log_carries_what_the_failure_policy_put_in_the_answer() {
        let (status, items, _) = logged_items(friendgate_core::FailurePolicy::default());
        assert_eq!(status, 200);
        assert_eq!(items[0]["result"], 38900, "{items}");
        assert_eq!(items[0]["rule"], "decider_error");
        assert_eq!(items[1]["result"], 0);
    }
}
