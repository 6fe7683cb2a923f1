//! `[state]`: state shared by every replica, on Redis (or Valkey).
//!
//! With a `[state]` section, `rate_limit` rules keep their buckets in Redis
//! (one script call per callback, see [`limits`]) and `accounts` rules may
//! read a Redis set (a local snapshot, see [`sets`]). Each such rule says
//! what it does when Redis is slow or down (`on_redis_error`). Without the
//! section, everything stays in the process, as before.

pub(crate) mod client;
pub(crate) mod edit;
pub(crate) mod limits;
pub mod sets;
pub(crate) mod settings;

pub use edit::{edit_set, SetEdit};
pub(crate) use settings::StateSection;
pub use settings::{
    OnRedisError, StateSettings, DEFAULT_KEY_PREFIX, DEFAULT_REFRESH_SECONDS, DEFAULT_TIMEOUT_MS,
};

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

use fred::clients::{Client, SubscriberClient};
use fred::interfaces::{ClientLike, EventInterface, PubsubInterface};
use fred::types::config::Options;
use fred::types::{ClusterHash, CustomCommand, Value};

use crate::metrics::RedisMetrics;
use client::{client_builder, keep_connected, read_members};
use limits::LimitCall;
use sets::SharedSet;

/// How often the store pings Redis, which bounds how long an `accounts`
/// rule trusts its snapshot after Redis went down.
const PING_EVERY: Duration = Duration::from_secs(1);

/// Time a change notice waits for more before the set is re-read, so that
/// a burst of `SADD`s costs one read.
const COALESCE: Duration = Duration::from_millis(50);

/// Why a Redis call gave no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// No answer within the time left.
    #[error("redis did not answer within {millis} ms")]
    Timeout {
        /// The time it had.
        millis: u64,
    },
    /// Redis answered with an error, or the connection failed.
    #[error("redis: {0}")]
    Redis(String),
    /// The script's answer was not one result per item.
    #[error("redis: the rate-limit script answered {got} results for {items} items")]
    Malformed {
        /// Results received.
        got: usize,
        /// Items sent.
        items: usize,
    },
    /// The connection is down: no call was made (the rules fall back at
    /// once rather than after the timeout).
    #[error("redis is down; no call was made")]
    Down,
    /// The script ran past the call's deadline and took nothing.
    #[error("redis ran the call after its deadline; it took nothing")]
    Late,
}

impl StoreError {
    fn kind(&self) -> &'static str {
        match self {
            Self::Timeout { .. } => "timeout",
            Self::Down => "down",
            Self::Late => "late",
            _ => "error",
        }
    }
}

/// The offset between this process' clock and Redis' (whose `TIME` the
/// rate-limit script runs on), measured by the ping and by every answer of
/// the script, so that a call can carry its deadline in Redis' clock.
#[derive(Debug, Default)]
struct Clock {
    /// Redis' time minus ours, µs.
    offset_us: AtomicI64,
}

/// How much earlier than the gateway gives up the script stops taking
/// tokens (at most a quarter of the call's time): the offset is measured to
/// within half a round trip, so a call the gateway has given up on never
/// takes a token, and one that ran in its last moments is counted late.
const DEADLINE_MARGIN_US: i64 = 5_000;

/// Microseconds since the Unix epoch, by this process' clock.
fn unix_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

impl Clock {
    /// Takes a reading of Redis' time `redis_us`, asked at `sent` and
    /// answered at `received` (our µs): kept when the round trip was short
    /// enough to place it within the margin (half a round trip either way).
    fn sample(&self, redis_us: i64, sent: i64, received: i64) {
        if received - sent <= 2 * DEADLINE_MARGIN_US {
            let midpoint = sent + (received - sent) / 2;
            self.offset_us.store(redis_us - midpoint, Ordering::Relaxed);
        }
    }

    /// The deadline, in Redis' clock, of a call sent at `sent` that the
    /// gateway waits `budget` for.
    fn deadline(&self, sent: i64, budget: Duration) -> i64 {
        let budget_us = i64::try_from(budget.as_micros()).unwrap_or(i64::MAX);
        let margin = DEADLINE_MARGIN_US.min(budget_us / 4);
        sent + self.offset_us.load(Ordering::Relaxed) + budget_us - margin
    }
}

/// The connection to Redis and the snapshots it keeps current.
pub struct Store {
    client: Client,
    subscriber: SubscriberClient,
    settings: StateSettings,
    metrics: RedisMetrics,
    /// Snapshots of the sets the current rules read.
    sets: Mutex<Vec<Weak<SharedSet>>>,
    /// Wakes the refresher when a set is added.
    added: tokio::sync::Notify,
    up: AtomicBool,
    clock: Clock,
    started: OnceLock<()>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("redis", &self.settings.redis)
            .field("up", &self.is_up())
            .finish_non_exhaustive()
    }
}

impl Store {
    /// A store on `settings`; nothing connects until [`Store::start`].
    pub fn new(settings: &StateSettings, metrics: RedisMetrics) -> Result<Self, String> {
        let builder = client_builder(settings);
        let client = builder.build().map_err(|e| e.to_string())?;
        let subscriber = builder
            .build_subscriber_client()
            .map_err(|e| e.to_string())?;
        Ok(Self {
            client,
            subscriber,
            settings: settings.clone(),
            metrics,
            sets: Mutex::new(Vec::new()),
            added: tokio::sync::Notify::new(),
            up: AtomicBool::new(false),
            clock: Clock::default(),
            started: OnceLock::new(),
        })
    }

    /// The client (for the Redis Stream sink of `[events]`).
    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    /// The settings it runs on.
    pub fn settings(&self) -> &StateSettings {
        &self.settings
    }

    /// Whether Redis answered the last ping.
    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::Relaxed)
    }

    /// Connects (in the background: the gateway answers with each rule's
    /// fallback until Redis answers) and starts the task that pings Redis
    /// and keeps the sets' snapshots current. Idempotent; needs a tokio
    /// runtime, and does nothing outside one.
    pub fn start(self: &Arc<Self>) {
        // Called for every callback that reaches a rate limit: the common
        // case is one load.
        if self.started.get().is_some() || tokio::runtime::Handle::try_current().is_err() {
            return;
        }
        if self.started.set(()).is_err() {
            return;
        }
        tracing::info!(target: "friendgate::state", redis = %self.settings.redis, "connecting to Redis");
        let alive = |store: Weak<Self>| move || store.strong_count() > 0;
        tokio::spawn(keep_connected(
            self.client.clone(),
            self.client.connect(),
            alive(Arc::downgrade(self)),
        ));
        tokio::spawn(keep_connected(
            self.subscriber.clone(),
            self.subscriber.connect(),
            alive(Arc::downgrade(self)),
        ));
        // A spawned task; dropping its handle leaves it running.
        drop(self.subscriber.manage_subscriptions());
        tokio::spawn(refresher(Arc::downgrade(self)));
    }

    /// Waits, at most `within`, until Redis answers and every watched set
    /// is loaded; says whether it happened.
    pub async fn wait_ready(&self, within: Duration) -> bool {
        let until = Instant::now() + within;
        loop {
            let loaded = self
                .watched()
                .iter()
                .all(|set| matches!(set.view(), sets::SetView::Current(_)));
            if self.is_up() && loaded {
                return true;
            }
            if Instant::now() >= until {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Keeps `sets` current from now on (the rules of a new configuration).
    pub fn watch(&self, sets: impl IntoIterator<Item = Arc<SharedSet>>) {
        if let Ok(mut watched) = self.sets.lock() {
            watched.retain(|set| set.strong_count() > 0);
            for set in sets {
                if !watched.iter().any(|w| w.as_ptr() == Arc::as_ptr(&set)) {
                    watched.push(Arc::downgrade(&set));
                }
            }
        }
        self.added.notify_one();
    }

    fn watched(&self) -> Vec<Arc<SharedSet>> {
        self.sets
            .lock()
            .map(|sets| sets.iter().filter_map(Weak::upgrade).collect())
            .unwrap_or_default()
    }

    /// Runs one callback's rate limits: one `EVALSHA` (one round trip; a
    /// second only when Redis lost the script, after a restart), within
    /// `state.timeout_ms` or `left`, whichever is shorter; none while the
    /// connection is down. The call carries its deadline: should Redis run
    /// it after the gateway gave up on it, it takes nothing. Gives one
    /// result per item (see [`limits`]).
    pub(crate) async fn limits(
        &self,
        mut call: LimitCall,
        left: Duration,
    ) -> Result<Vec<i64>, StoreError> {
        if !self.is_up() || !self.client.is_connected() {
            self.metrics.error("limits", StoreError::Down.kind());
            return Err(StoreError::Down);
        }
        let budget = self.settings.timeout.min(left);
        let started = Instant::now();
        let sent = unix_us();
        call.set_deadline(self.clock.deadline(sent, budget));
        let items = call.items;
        let called = self.eval_limits(call.keys, call.args);
        let timeout = || StoreError::Timeout {
            millis: u64::try_from(budget.as_millis()).unwrap_or(u64::MAX),
        };
        let result = match tokio::time::timeout(budget, called).await {
            Ok(Ok(results)) => {
                if let Some(now) = results.first() {
                    self.clock.sample(*now, sent, unix_us());
                }
                match results.split_first() {
                    Some((_, decided)) if decided.len() == items => Ok(decided.to_vec()),
                    Some((_, [])) => Err(StoreError::Late),
                    _ => Err(StoreError::Malformed {
                        got: results.len().saturating_sub(1),
                        items,
                    }),
                }
            }
            Ok(Err(error)) if *error.kind() == fred::error::ErrorKind::Timeout => Err(timeout()),
            Ok(Err(error)) => Err(StoreError::Redis(error.details().to_owned())),
            Err(_) => Err(timeout()),
        };
        match &result {
            Ok(_) => self
                .metrics
                .round_trip("limits", started.elapsed().as_secs_f64()),
            Err(error) => self.metrics.error("limits", error.kind()),
        }
        result
    }

    /// `EVALSHA` of the limits script on the slot of `keys` (one account's),
    /// loading the script on `NOSCRIPT` (a restarted or promoted Redis).
    /// Failing fast: fred does not send it again on a new connection when
    /// the one it was written to is lost, since Redis may have run it and
    /// taken its tokens (a redirection is still followed). fred's own
    /// `evalsha_with_reload` takes no per-call options.
    async fn eval_limits(
        &self,
        keys: Vec<String>,
        args: Vec<String>,
    ) -> Result<Vec<i64>, fred::error::Error> {
        let slot = keys
            .first()
            .map_or(0, |key| fred::util::redis_keyslot(key.as_bytes()));
        let once = Options {
            fail_fast: true,
            ..Options::default()
        };
        let client = self.client.with_options(&once);
        // fred's values share their bytes: the copy kept for a `NOSCRIPT`
        // retry costs no allocation per argument.
        let mut argv: Vec<Value> = Vec::with_capacity(2 + keys.len() + args.len());
        argv.push(Value::String(limits::SCRIPT.sha1().clone()));
        argv.push(Value::from(keys.len().to_string()));
        argv.extend(keys.into_iter().map(Value::from));
        argv.extend(args.into_iter().map(Value::from));
        let evalsha = || CustomCommand::new_static("EVALSHA", ClusterHash::Custom(slot), false);
        match client.custom(evalsha(), argv.clone()).await {
            Err(error) if error.details().starts_with("NOSCRIPT") => {
                limits::SCRIPT.load(&self.client).await?;
                client.custom(evalsha(), argv).await
            }
            result => result,
        }
    }

    /// Pings Redis with `TIME`, which also measures the clocks' offset.
    async fn ping(&self) -> bool {
        let budget = self.settings.timeout.max(Duration::from_millis(200));
        let started = Instant::now();
        let sent = unix_us();
        let time = self
            .client
            .custom::<Vec<i64>, String>(fred::cmd!("TIME"), Vec::new());
        let ok = match tokio::time::timeout(budget, time).await {
            Ok(Ok(time)) if time.len() == 2 => {
                self.clock
                    .sample(time[0] * 1_000_000 + time[1], sent, unix_us());
                true
            }
            _ => false,
        };
        if ok {
            self.metrics
                .round_trip("ping", started.elapsed().as_secs_f64());
        } else {
            self.metrics.error("ping", "timeout");
        }
        ok
    }

    /// Re-reads one set with `SSCAN`, pages of [`SCAN_COUNT`].
    async fn refresh(&self, set: &SharedSet) {
        let started = Instant::now();
        let read = read_members(&self.client, set.key());
        // A big set may take several round trips; bounded all the same.
        match tokio::time::timeout(self.settings.refresh, read).await {
            Ok(Ok(members)) => {
                self.metrics
                    .round_trip("set", started.elapsed().as_secs_f64());
                let (before, after) = (set.len(), members.len());
                set.replace(members);
                if before != after {
                    tracing::info!(target: "friendgate::state", set = set.key(), before, after, "account set re-read");
                }
            }
            Ok(Err(error)) => {
                self.metrics.error("set", "error");
                tracing::warn!(target: "friendgate::state", set = set.key(), error = %error.details(), "cannot read account set; the rule keeps its snapshot");
            }
            Err(_) => {
                self.metrics.error("set", "timeout");
                tracing::warn!(target: "friendgate::state", set = set.key(), "account set not read within refresh_seconds");
            }
        }
    }

    /// Subscribes to `set`'s keyspace notifications; whether Redis took it.
    async fn subscribe(&self, set: &SharedSet) -> bool {
        let db = self.settings.config.database.unwrap_or(0);
        self.subscriber
            .subscribe(format!("__keyspace@{db}__:{}", set.key()))
            .await
            .is_ok()
    }

    fn set_up(&self, up: bool) {
        let was = self.up.swap(up, Ordering::Relaxed);
        self.metrics.set_up(up);
        if was != up {
            if up {
                tracing::info!(target: "friendgate::state", redis = %self.settings.redis, "Redis answers");
            } else {
                tracing::warn!(target: "friendgate::state", redis = %self.settings.redis, "Redis does not answer; rules use their on_redis_error");
            }
        }
        if !up {
            self.watched().iter().for_each(|set| set.set_unavailable());
        }
    }
}

/// Pings Redis every [`PING_EVERY`], re-reads every set each
/// `refresh_seconds` and at once after a change notice or when Redis comes
/// back; ends when the store is dropped.
async fn refresher(store: Weak<Store>) {
    let Some(first) = store.upgrade() else {
        return;
    };
    let channel = first.settings.changes_channel();
    let mut messages = first.subscriber.message_rx();
    // Made again until Redis takes it: fred keeps (and renews after a
    // reconnection) only the subscriptions Redis took, and a gateway may
    // start before its Redis.
    let mut listening = first.subscriber.subscribe(channel.clone()).await.is_ok();
    let every = first.settings.refresh;
    drop(first);
    let mut tick = tokio::time::interval(PING_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_full = Instant::now();
    let mut subscribed: Vec<Weak<SharedSet>> = Vec::new();
    loop {
        let mut changed: HashSet<String> = HashSet::new();
        let mut full = false;
        {
            let Some(store) = store.upgrade() else {
                return;
            };
            tokio::select! {
                _ = tick.tick() => {
                    let was_up = store.is_up();
                    let up = store.ping().await;
                    if up && !was_up {
                        // A new or restarted Redis: load the script now, so
                        // that no callback pays a NOSCRIPT round trip.
                        let _ = limits::SCRIPT.load(&store.client).await;
                    }
                    store.set_up(up);
                    full = up && (!was_up || last_full.elapsed() >= every);
                }
                _ = store.added.notified() => {}
                message = messages.recv() => {
                    match message {
                        Ok(message) => { changed.insert(changed_key(&message, &channel)); }
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => full = true,
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                    }
                    tokio::time::sleep(COALESCE).await;
                    while let Ok(message) = messages.try_recv() {
                        changed.insert(changed_key(&message, &channel));
                    }
                }
            }
            let up = store.is_up();
            if !listening && up {
                listening = store.subscriber.subscribe(channel.clone()).await.is_ok();
                // Notices sent before it were not heard.
                full |= listening;
            }
            if full {
                last_full = Instant::now();
            }
            for set in store.watched() {
                let new = !subscribed.iter().any(|w| w.as_ptr() == Arc::as_ptr(&set));
                if new && up && store.subscribe(&set).await {
                    subscribed.push(Arc::downgrade(&set));
                }
                let stale = !matches!(set.view(), sets::SetView::Current(_));
                if full || changed.contains(set.key()) || ((stale || new) && up) {
                    store.refresh(&set).await;
                }
            }
            subscribed.retain(|w| w.strong_count() > 0);
        }
    }
}

/// The set a change notice names: the message of `friendgate accounts`,
/// or the key of a keyspace notification's channel.
fn changed_key(message: &fred::types::Message, channel: &str) -> String {
    if &*message.channel == channel {
        message.value.as_string().unwrap_or_default()
    } else {
        message
            .channel
            .split_once("__:")
            .map(|(_, key)| key.to_owned())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests;
