//! The gateway: answers one callback with core's `verify`/`respond` and the
//! policy, writes the log line and the metrics, and swaps in a new
//! configuration on reload. The HTTP server and `friendgate handle` both go
//! through [`Gateway::answer`].

mod answer;
pub(crate) mod other;
pub(crate) mod record;
mod reload;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use arc_swap::ArcSwap;

use friendgate_core::{unix_now, Decider, FriendAdd};

use crate::config::settings::{Settings, SettingsError};
use crate::decided::Command;
pub use crate::decided::EMBEDDED_RULE;
use crate::events::{EventBus, SinkQueues};
use crate::logging::refusals::RefusalLog;
use crate::metrics::{DecisionCounters, Metrics};
use crate::state::Store;
use crate::upstream::Forwarder;

/// Time kept back from the request deadline for writing a late upstream's
/// FAIL answer.
pub(crate) const ANSWER_MARGIN: std::time::Duration = std::time::Duration::from_millis(20);

/// A friend-response decider shared across threads.
pub type SharedDecider = Arc<dyn Decider + Send + Sync>;

/// A friend-request decider shared across threads.
pub type SharedAddDecider = Arc<dyn Decider<FriendAdd> + Send + Sync>;

/// A clock giving Unix seconds.
pub type Clock = Arc<dyn Fn() -> u64 + Send + Sync>;

/// A configuration with its decision counters; swapped as one on reload.
struct Loaded {
    settings: Arc<Settings>,
    /// Per friend command, in [`Command::ALL`] order.
    counters: [DecisionCounters; 2],
}

impl Loaded {
    fn new(mut settings: Settings, metrics: &Metrics, store: Option<&Store>) -> Self {
        let counters = Command::ALL
            .map(|command| metrics.decision_counters(command, settings.policy.rule_names()));
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
    /// The configuration in force and its counters (swapped whole on reload).
    current: ArcSwap<Loaded>,
    config_path: PathBuf,
    decider: Option<SharedDecider>,
    add_decider: Option<SharedAddDecider>,
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
            current: ArcSwap::from_pointee(Loaded::new(settings, &metrics, store.as_deref())),
            store,
            events: Arc::new(events),
            sink_queues: std::sync::Mutex::new(Some(sink_queues)),
            events_stop: tokio::sync::watch::channel(None).0,
            sink_tasks: std::sync::Mutex::new(Vec::new()),
            edits: tokio::sync::Mutex::new(()),
            decider: None,
            add_decider: None,
            clock: Arc::new(unix_now),
            metrics,
            ready: AtomicBool::new(true),
            refusals: RefusalLog::default(),
            forwarder,
        }
    }

    /// Decides friend responses with `decider` instead of the rules (for
    /// Rust services that embed the server with their own logic).
    pub fn with_decider(mut self, decider: SharedDecider) -> Self {
        self.decider = Some(decider);
        self
    }

    /// Decides friend requests with `decider` instead of the rules.
    pub fn with_add_decider(mut self, decider: SharedAddDecider) -> Self {
        self.add_decider = Some(decider);
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
        self.current.load().settings.clone()
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decided::{Slot, DECIDER_ERROR_RULE};
    use crate::gateway::record::{items_json, ItemLog};
    use crate::policy::subject::Subject;

    #[test]
    fn the_items_of_the_log_line_are_a_json_array() {
        let log = [
            ItemLog {
                slot: Slot::Default,
                subject: Subject::response("id1", "Response_Action_AgreeAndAdd"),
                rule: "default",
                result: Some(0),
                error: None,
            },
            ItemLog {
                slot: Slot::DeciderError,
                subject: Subject::response("a\"b", "Response_Action_Reject"),
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
