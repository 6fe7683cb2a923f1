//! `[state]`: state shared by every replica, on Redis (or Valkey).
//!
//! With a `[state]` section, `rate_limit` rules keep their buckets in Redis
//! (one script call per callback, see [`limits`]) and `accounts` rules may
//! read a Redis set (a local snapshot, see [`sets`]). Each such rule says
//! what it does when Redis is slow or down (`on_redis_error`). Without the
//! section, everything stays in the process, as before.

pub(crate) mod limits;
pub mod sets;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

use fred::clients::{Client, SubscriberClient};
use fred::interfaces::{ClientLike, EventInterface, PubsubInterface, SetsInterface};
use fred::types::config::{Config as RedisConfig, ReconnectPolicy};
use fred::types::scan::Scanner;
use futures_util::StreamExt;
use rustls_pki_types::CertificateDer;
use serde::Deserialize;

use crate::config::files::SettingsError;
use crate::config::secret::{read_secret, SecretSource};
use crate::metrics::RedisMetrics;
use limits::LimitCall;
use sets::SharedSet;

/// Default of `state.timeout_ms`: a Redis round trip on a LAN takes well
/// under a millisecond; a call this late is failing, and the callback
/// still has most of its deadline for the fallback.
pub const DEFAULT_TIMEOUT_MS: u64 = 50;

/// Default of `state.refresh_seconds`.
pub const DEFAULT_REFRESH_SECONDS: u64 = 5;

/// Default of `state.key_prefix`.
pub const DEFAULT_KEY_PREFIX: &str = "friendgate";

/// How often the store pings Redis, which bounds how long an `accounts`
/// rule trusts its snapshot after Redis went down.
const PING_EVERY: Duration = Duration::from_secs(1);

/// Members read per `SSCAN` page.
const SCAN_COUNT: u32 = 1000;

/// Time a change notice waits for more before the set is re-read, so that
/// a burst of `SADD`s costs one read.
const COALESCE: Duration = Duration::from_millis(50);

/// The URL schemes fred takes (Valkey's names too).
const SCHEMES: &[&str] = &[
    "redis",
    "rediss",
    "redis-cluster",
    "rediss-cluster",
    "redis-sentinel",
    "rediss-sentinel",
    "redis+unix",
    "valkey",
    "valkeys",
    "valkey-cluster",
    "valkeys-cluster",
    "valkey-sentinel",
    "valkeys-sentinel",
    "valkey+unix",
];

/// `[state]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StateSection {
    redis_url: UrlSource,
    #[serde(default)]
    password: Option<SecretSource>,
    #[serde(default = "default_timeout")]
    timeout_ms: u64,
    #[serde(default = "default_prefix")]
    key_prefix: String,
    #[serde(default = "default_refresh")]
    refresh_seconds: u64,
    #[serde(default)]
    ca_file: Option<PathBuf>,
}

/// The URL as a string, or from the environment or a file (managed Redis
/// often gives one URL with the password in it).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum UrlSource {
    Plain(String),
    Secret(SecretSource),
}

fn default_timeout() -> u64 {
    DEFAULT_TIMEOUT_MS
}

fn default_prefix() -> String {
    DEFAULT_KEY_PREFIX.to_owned()
}

fn default_refresh() -> u64 {
    DEFAULT_REFRESH_SECONDS
}

/// What a rule does when Redis does not answer in time (`on_redis_error`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnRedisError {
    /// The rule does not decide the item (the gate opens for it).
    Allow,
    /// The rule decides the item, with its own code and info.
    Reject,
    /// The rule decides in the process: a rate limit with a bucket of this
    /// replica (so N replicas allow up to N times the limit), an account
    /// list with its last snapshot (the default).
    #[default]
    Local,
}

impl OnRedisError {
    /// The name written in the config and in the metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allow => "allow",
            Self::Reject => "reject",
            Self::Local => "local",
        }
    }
}

/// Validated `[state]`.
#[derive(Clone)]
pub struct StateSettings {
    config: RedisConfig,
    /// URL, password and CA as given, to tell a changed section on reload.
    source: (String, Option<String>, Vec<CertificateDer<'static>>),
    /// The URL with any password replaced by `***`, for logs.
    pub redis: String,
    /// Time one Redis call may take.
    pub timeout: Duration,
    /// Prefix of every key friendgate writes.
    pub key_prefix: String,
    /// Time after which a set's snapshot is re-read in any case.
    pub refresh: Duration,
}

impl PartialEq for StateSettings {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
            && self.timeout == other.timeout
            && self.key_prefix == other.key_prefix
            && self.refresh == other.refresh
    }
}

impl std::fmt::Debug for StateSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateSettings")
            .field("redis", &self.redis)
            .field("timeout", &self.timeout)
            .field("key_prefix", &self.key_prefix)
            .field("refresh", &self.refresh)
            .finish_non_exhaustive()
    }
}

impl StateSettings {
    /// Validates `[state]`; `deadline` is `server.request_deadline`.
    pub(crate) fn build(
        path: &Path,
        base: &Path,
        section: StateSection,
        deadline: Duration,
    ) -> Result<Self, SettingsError> {
        let err =
            |key: &str, reason: String| SettingsError::new(path, format!("state.{key}"), reason);
        let url = match &section.redis_url {
            UrlSource::Plain(url) => url.clone(),
            UrlSource::Secret(source) => read_secret(path, base, "state.redis_url", source)?,
        };
        // fred's parse errors may quote the URL, which may hold a password.
        let scheme = url.split_once("://").map_or("", |(scheme, _)| scheme);
        let known = SCHEMES.contains(&scheme);
        let mut config = RedisConfig::from_url(if known { &url } else { "" }).map_err(|_| {
            err(
                "redis_url",
                format!(
                    "`{}` is not a Redis URL (redis://, rediss://, redis-sentinel://, redis-cluster://, redis+unix://; a sentinel URL needs ?sentinelServiceName=...)",
                    crate::config::redact::url(&url)
                ),
            )
        })?;
        let password = match &section.password {
            Some(source) => {
                let password = read_secret(path, base, "state.password", source)?;
                if password.is_empty() {
                    return Err(err("password", "is empty".to_owned()));
                }
                config.password = Some(password.clone());
                Some(password)
            }
            None => None,
        };
        let roots = match &section.ca_file {
            Some(file) => crate::http::tls::read_roots(path, base, "state.ca_file", file)?,
            None => Vec::new(),
        };
        if config.tls.is_some() {
            // rustls with the web's roots and `ca_file`, as for upstreams.
            let tls = crate::http::tls::client_config(&roots)
                .map_err(|e| err("redis_url", format!("TLS: {e}")))?;
            config.tls = Some(tls.into());
        } else if section.ca_file.is_some() {
            return Err(err(
                "ca_file",
                "applies to a TLS URL only (rediss://, rediss-sentinel://, rediss-cluster://)"
                    .to_owned(),
            ));
        }
        let timeout = Duration::from_millis(section.timeout_ms);
        if section.timeout_ms == 0 || timeout >= deadline / 2 {
            return Err(err(
                "timeout_ms",
                format!(
                    "must be between 1 and {} (half of server.request_deadline_ms), so that a callback whose Redis call failed still gets its fallback answer in time",
                    deadline.as_millis() / 2 - 1
                ),
            ));
        }
        let prefix = section.key_prefix;
        if prefix.is_empty() || prefix.contains(['{', '}']) || prefix.contains(char::is_whitespace)
        {
            return Err(err(
                "key_prefix",
                "must be non-empty, without braces (they make Redis Cluster hash tags) or spaces"
                    .to_owned(),
            ));
        }
        if !(1..=3600).contains(&section.refresh_seconds) {
            return Err(err(
                "refresh_seconds",
                "must be between 1 and 3600".to_owned(),
            ));
        }
        Ok(Self {
            config,
            redis: crate::config::redact::url(&url),
            source: (url, password, roots),
            timeout,
            key_prefix: prefix,
            refresh: Duration::from_secs(section.refresh_seconds),
        })
    }

    /// The channel on which `friendgate accounts` announces a changed set.
    pub fn changes_channel(&self) -> String {
        format!("{}:changed", self.key_prefix)
    }
}

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

/// A fred client on `settings`: calls time out after `timeout`, are not
/// retried after a lost connection (a rate-limit take must not count
/// twice), and the connection is re-made forever with a backoff of 50 ms
/// to 1 s; a connection that answers nothing for 2 s is closed and re-made.
fn client_builder(settings: &StateSettings) -> fred::types::Builder {
    let mut builder = fred::types::Builder::from_config(settings.config.clone());
    let timeout = settings.timeout;
    builder
        .with_performance_config(|performance| {
            performance.default_command_timeout = timeout;
        })
        .with_connection_config(|connection| {
            connection.connection_timeout = Duration::from_secs(1);
            connection.internal_command_timeout = Duration::from_secs(1);
            connection.max_command_attempts = 1;
            connection.unresponsive.max_timeout = Some(Duration::from_secs(2));
            connection.unresponsive.interval = Duration::from_millis(500);
        })
        .set_policy(ReconnectPolicy::new_exponential(0, 50, 1000, 2));
    builder
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
        // Each is a spawned task; dropping its handle leaves it running.
        drop(self.client.connect());
        drop(self.subscriber.connect());
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
        let called = limits::SCRIPT.evalsha_with_reload::<Vec<i64>, _, _>(
            &self.client,
            call.keys,
            call.args,
        );
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

    async fn subscribe(&self, set: &SharedSet) {
        let db = self.settings.config.database.unwrap_or(0);
        let _ = self
            .subscriber
            .subscribe(format!("__keyspace@{db}__:{}", set.key()))
            .await;
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
    let _ = first.subscriber.subscribe(channel.clone()).await;
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
            if full {
                last_full = Instant::now();
            }
            for set in store.watched() {
                let new = !subscribed.iter().any(|w| w.as_ptr() == Arc::as_ptr(&set));
                if new {
                    store.subscribe(&set).await;
                    subscribed.push(Arc::downgrade(&set));
                }
                let stale = !matches!(set.view(), sets::SetView::Current(_));
                if full || changed.contains(set.key()) || (stale && store.is_up()) || new {
                    store.refresh(&set).await;
                }
            }
            subscribed.retain(|w| w.strong_count() > 0);
        }
    }
}

/// Every member of the set `key`, read with `SSCAN` in pages of
/// [`SCAN_COUNT`] (never one `SMEMBERS` that would hold Redis up on a big set).
async fn read_members(client: &Client, key: &str) -> Result<HashSet<String>, fred::error::Error> {
    let mut members = HashSet::new();
    let mut pages = std::pin::pin!(client.sscan(key, "*", Some(SCAN_COUNT)));
    while let Some(page) = pages.next().await {
        let mut page = page?;
        if let Some(values) = page.take_results() {
            members.extend(values.into_iter().filter_map(|v| v.into_string()));
        }
        page.next();
    }
    Ok(members)
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

/// A change to a rule's set made by `friendgate accounts`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetEdit {
    /// `SADD` these accounts.
    Add(Vec<String>),
    /// `SREM` these accounts.
    Remove(Vec<String>),
    /// Make the set hold exactly these accounts (`load --replace`);
    /// refused when it would lose more than half of the set unless
    /// `allow_shrink`.
    Replace {
        /// The accounts.
        accounts: Vec<String>,
        /// Whether a shrink by more than half is intended.
        allow_shrink: bool,
    },
}

/// Applies `edit` to `key`, announces it to every replica, and says what
/// changed.
pub async fn edit_set(
    settings: &StateSettings,
    key: &str,
    edit: SetEdit,
) -> Result<String, String> {
    let client = client_builder(settings)
        .build()
        .map_err(|e| e.to_string())?;
    let connect = tokio::time::timeout(Duration::from_secs(5), client.init())
        .await
        .map_err(|_| format!("cannot reach {} within 5 s", settings.redis))?;
    connect.map_err(|e| format!("cannot reach {}: {}", settings.redis, e.details()))?;
    let run = async {
        let chunks = |accounts: &[String]| {
            accounts
                .chunks(SCAN_COUNT as usize)
                .map(<[String]>::to_vec)
                .collect::<Vec<_>>()
        };
        let (mut added, mut removed) = (0u64, 0u64);
        match edit {
            SetEdit::Add(accounts) => {
                for chunk in chunks(&accounts) {
                    added += client.sadd::<u64, _, _>(key, chunk).await?;
                }
            }
            SetEdit::Remove(accounts) => {
                for chunk in chunks(&accounts) {
                    removed += client.srem::<u64, _, _>(key, chunk).await?;
                }
            }
            SetEdit::Replace {
                accounts,
                allow_shrink,
            } => {
                let wanted: HashSet<&String> = accounts.iter().collect();
                let current = read_members(&client, key).await?;
                if !allow_shrink
                    && !current.is_empty()
                    && (wanted.len() as f64) < current.len() as f64 * 0.5
                {
                    return Ok(Err(format!(
                        "{key} holds {} accounts and the file {}; not replaced (give --allow-shrink if this is intended)",
                        current.len(),
                        wanted.len()
                    )));
                }
                let gone: Vec<String> = current
                    .into_iter()
                    .filter(|a| !wanted.contains(a))
                    .collect();
                for chunk in chunks(&accounts) {
                    added += client.sadd::<u64, _, _>(key, chunk).await?;
                }
                for chunk in chunks(&gone) {
                    removed += client.srem::<u64, _, _>(key, chunk).await?;
                }
            }
        }
        let _: i64 = client.publish(settings.changes_channel(), key).await?;
        let size: u64 = client.scard(key).await?;
        Ok::<_, fred::error::Error>(Ok(format!(
            "{key}: {added} added, {removed} removed, {size} accounts now; replicas told on {}",
            settings.changes_channel()
        )))
    };
    let done = run
        .await
        .map_err(|e| format!("{}: {}", settings.redis, e.details()));
    let _ = client.quit().await;
    done?
}
