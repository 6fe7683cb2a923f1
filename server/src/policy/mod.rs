//! The gateway's policy: ordered rules, the first that decides an item wins;
//! an item no rule decides is allowed.
//!
//! Rule kinds: `accounts` (block list, or allow-only list), `words` (a word
//! filter on `Remark` and `TagName`), `rate_limit` (accepting responses per
//! `From_Account`), `action` (always allow or reject some `ResponseAction`s).

pub(crate) mod normalize;

use std::collections::HashSet;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aho_corasick::AhoCorasick;
use friendgate_core::{DeciderError, Decision, FriendResponseCallback, ResponseItem};
use lru::LruCache;
use serde::Deserialize;

use crate::config::files::{resolve, SettingsError};
use crate::policy::normalize::{normalize, skeletons};

pub use crate::metrics::DEFAULT_RULE;
use crate::metrics::{RedisMetrics, Slot};
use crate::state::limits::{LimitCall, LimitParams};
use crate::state::sets::{SetView, SharedSet};
use crate::state::{OnRedisError, StateSettings, StoreError};
use prometheus_client::metrics::counter::Counter;

/// One `[[rule]]` table as written. Which keys apply depends on `kind`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    name: String,
    kind: RuleKind,
    code: Option<i64>,
    info: Option<String>,
    accounts: Option<Vec<String>>,
    accounts_file: Option<PathBuf>,
    field: Option<AccountField>,
    mode: Option<ListMode>,
    words: Option<Vec<String>>,
    words_file: Option<PathBuf>,
    fields: Option<Vec<TextField>>,
    max: Option<u32>,
    per_seconds: Option<u64>,
    max_accounts: Option<usize>,
    actions: Option<Vec<String>>,
    decision: Option<RuleDecision>,
    confusables: Option<bool>,
    allow_shrink: Option<bool>,
    redis_set: Option<String>,
    on_redis_error: Option<OnRedisError>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum RuleKind {
    Accounts,
    Words,
    RateLimit,
    Action,
}

/// Which account of an item an `accounts` rule looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum AccountField {
    From,
    To,
    Either,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum ListMode {
    Block,
    AllowOnly,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
enum TextField {
    Remark,
    TagName,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum RuleDecision {
    Allow,
    Reject,
}

/// What a rule checks.
#[derive(Debug)]
enum Matcher {
    Accounts {
        set: HashSet<String>,
        field: AccountField,
        mode: ListMode,
        /// The snapshot of the rule's Redis set (`redis_set`), shared with
        /// the rule of the previous configuration that read the same set.
        shared: Option<Arc<SharedSet>>,
    },
    Words {
        matcher: AhoCorasick,
        /// The lower- and upper-case skeletons' automata (`confusables`).
        confusable: Option<[AhoCorasick; 2]>,
        fields: Vec<TextField>,
    },
    RateLimit {
        /// Shared with the rule of the previous configuration when the
        /// rule is unchanged, so a reload keeps every bucket.
        limiter: Arc<RateLimiter>,
        actions: Actions,
        /// The script's parameters, for a store on Redis.
        redis: LimitParams,
        /// `(max, per_seconds, max_accounts)`, to tell an unchanged rule.
        params: (u32, u64, usize),
    },
    Action {
        actions: Vec<String>,
    },
}

/// The actions a rate limit counts.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Actions {
    /// Every action but `Response_Action_Reject`, including ones the
    /// platform may add later (the default: an unknown action could be an
    /// acceptance, and must not pass an exhausted bucket).
    Accepting,
    /// The actions the rule lists.
    Listed(Vec<String>),
}

impl Actions {
    fn counts(&self, action: &friendgate_core::ResponseAction<'_>) -> bool {
        match self {
            Self::Accepting => !matches!(action, friendgate_core::ResponseAction::Reject),
            Self::Listed(listed) => listed.iter().any(|a| a == action.as_str()),
        }
    }
}

/// A validated rule.
#[derive(Debug)]
struct Rule {
    name: String,
    matcher: Matcher,
    decision: Decision,
    /// Entries read from the rule's list file, when it has one.
    listed: Option<usize>,
    /// Whether the list file may shrink by more than half on a reload.
    allow_shrink: bool,
    /// What the rule does when Redis fails (rules on Redis only).
    on_redis_error: OnRedisError,
    /// Counts the items it decided that way (`friendgate_redis_fallbacks`).
    fallbacks: Counter,
    /// Its `accounts_file` or `words_file`, resolved.
    list_file: Option<PathBuf>,
}

impl Rule {
    /// The verdict of this rule, at `index` in the policy.
    fn verdict(&self, index: usize) -> Verdict<'_> {
        Verdict {
            decision: self.decision.clone(),
            rule: &self.name,
            slot: Slot::Rule(index),
        }
    }
}

/// Below this share of its previous entries, a list file is taken for one
/// caught half-written (or emptied by mistake) and the reload is refused.
const SHRINK_FLOOR: f64 = 0.5;

/// The ordered rules.
#[derive(Debug, Default)]
pub struct Policy {
    rules: Vec<Rule>,
    /// `state.key_prefix`, when rate limits keep their buckets in Redis.
    shared_limits: Option<String>,
}

/// What the rules make of a callback before its one Redis round trip:
/// for each item, the Redis rate limits it reaches, in order, and the rule
/// after them that decides it without Redis, if any.
#[derive(Debug)]
pub(crate) struct LimitPlan {
    items: Vec<ItemPlan>,
    /// Positions in the policy of the rate-limit rules any item reaches.
    rules: Vec<usize>,
}

#[derive(Debug)]
struct ItemPlan {
    /// Positions into [`LimitPlan::rules`].
    reached: Vec<usize>,
    /// The first rule past them that matched (its position in the policy).
    then: Result<Option<usize>, DeciderError>,
}

/// Where an edit of a rule's list is persisted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "type", content = "at", rename_all = "snake_case")]
pub enum ListStore<'p> {
    /// The rule's `accounts_file` or `words_file`.
    File(&'p Path),
    /// The rule's `redis_set`.
    RedisSet(&'p str),
}

/// One rule, as the admin API lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RuleInfo<'p> {
    /// Its name.
    pub name: &'p str,
    /// `accounts`, `words`, `rate_limit` or `action`.
    pub kind: &'static str,
    /// An accounts rule's `block` or `allow_only`.
    pub mode: Option<&'static str>,
    /// Where an edit of its list goes; `None` when its list cannot be
    /// edited at runtime (inline only, or not a list).
    pub store: Option<ListStore<'p>>,
}

/// A decision and the name of the rule that made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict<'p> {
    /// The decision.
    pub decision: Decision,
    /// The rule's name, or [`DEFAULT_RULE`].
    pub rule: &'p str,
    /// [`Slot::Rule`] with the rule's position, or [`Slot::Default`].
    pub slot: Slot,
}

impl Policy {
    /// Validates the rules; files they name are added to `watched`.
    pub(crate) fn build(
        file: &Path,
        base: &Path,
        specs: Vec<RuleSpec>,
        state: Option<&StateSettings>,
        watched: &mut Vec<PathBuf>,
    ) -> Result<Self, SettingsError> {
        let mut rules = Vec::with_capacity(specs.len());
        let mut names = HashSet::new();
        for (index, spec) in specs.into_iter().enumerate() {
            let key = format!("rule[{index}]");
            if spec.name.is_empty() || spec.name == DEFAULT_RULE || !names.insert(spec.name.clone())
            {
                return Err(SettingsError::new(
                    file,
                    format!("{key}.name"),
                    format!(
                        "`{}` must be non-empty, unique and not `{DEFAULT_RULE}`",
                        spec.name
                    ),
                ));
            }
            rules.push(build_rule(
                file,
                base,
                &key,
                spec,
                state.is_some(),
                watched,
            )?);
        }
        Ok(Self {
            rules,
            shared_limits: state.map(|state| state.key_prefix.clone()),
        })
    }

    /// Whether some rate limit keeps its buckets in Redis, so that a
    /// callback is decided with [`Policy::plan`] and [`Policy::settle`].
    pub(crate) fn has_shared_limits(&self) -> bool {
        self.shared_limits.is_some()
            && self
                .rules
                .iter()
                .any(|rule| matches!(rule.matcher, Matcher::RateLimit { .. }))
    }

    /// The snapshots of the Redis sets the rules read.
    pub fn shared_sets(&self) -> impl Iterator<Item = Arc<SharedSet>> + '_ {
        self.rules.iter().filter_map(|rule| match &rule.matcher {
            Matcher::Accounts {
                shared: Some(set), ..
            } => Some(Arc::clone(set)),
            _ => None,
        })
    }

    /// What each rule is, and where an edit of its list is kept (the admin
    /// API and the live page read it).
    pub fn describe(&self) -> Vec<RuleInfo<'_>> {
        self.rules
            .iter()
            .map(|rule| {
                let (kind, mode) = match &rule.matcher {
                    Matcher::Accounts { mode, .. } => (
                        "accounts",
                        Some(match mode {
                            ListMode::Block => "block",
                            ListMode::AllowOnly => "allow_only",
                        }),
                    ),
                    Matcher::Words { .. } => ("words", None),
                    Matcher::RateLimit { .. } => ("rate_limit", None),
                    Matcher::Action { .. } => ("action", None),
                };
                let store = match &rule.matcher {
                    Matcher::Accounts {
                        shared: Some(set), ..
                    } => Some(ListStore::RedisSet(set.key())),
                    Matcher::Accounts { .. } | Matcher::Words { .. } => {
                        rule.list_file.as_deref().map(ListStore::File)
                    }
                    _ => None,
                };
                RuleInfo {
                    name: &rule.name,
                    kind,
                    mode,
                    store,
                }
            })
            .collect()
    }

    /// The Redis set of the `accounts` rule named `rule`.
    pub fn redis_set(&self, rule: &str) -> Option<&str> {
        self.rules
            .iter()
            .find(|r| r.name == rule)
            .and_then(|r| match &r.matcher {
                Matcher::Accounts {
                    shared: Some(set), ..
                } => Some(set.key()),
                _ => None,
            })
    }

    /// Counts each rule's Redis fallbacks in `metrics`.
    pub(crate) fn count_fallbacks(&mut self, metrics: &RedisMetrics) {
        for rule in &mut self.rules {
            rule.fallbacks = metrics.fallback(&rule.name, rule.on_redis_error.as_str());
        }
    }

    /// Walks the rules for every item, deferring the Redis rate limits:
    /// an item's list stops at the first other rule that matches it, so
    /// that the script takes a token only where the rules in memory would.
    pub(crate) fn plan(&self, callback: &FriendResponseCallback<'_>, now: Instant) -> LimitPlan {
        let mut rules: Vec<usize> = Vec::new();
        let items = callback
            .items()
            .iter()
            .map(|item| {
                let mut reached = Vec::new();
                let mut then = Ok(None);
                for (index, rule) in self.rules.iter().enumerate() {
                    if let Matcher::RateLimit { actions, .. } = &rule.matcher {
                        if actions.counts(&item.action) {
                            let position =
                                rules.iter().position(|r| *r == index).unwrap_or_else(|| {
                                    rules.push(index);
                                    rules.len() - 1
                                });
                            reached.push(position);
                        }
                        continue;
                    }
                    match rule.matches(callback, item, now) {
                        Ok(false) => {}
                        Ok(true) => {
                            then = Ok(Some(index));
                            break;
                        }
                        Err(error) => {
                            then = Err(error);
                            break;
                        }
                    }
                }
                ItemPlan { reached, then }
            })
            .collect();
        LimitPlan { items, rules }
    }

    /// The script call of `plan`; `None` when no item reaches a rate limit.
    pub(crate) fn limit_call(
        &self,
        plan: &LimitPlan,
        callback: &FriendResponseCallback<'_>,
    ) -> Option<LimitCall> {
        let prefix = self.shared_limits.as_deref()?;
        if plan.items.iter().all(|item| item.reached.is_empty()) {
            return None;
        }
        let rules = plan.rules.iter().filter_map(|&index| {
            let rule = self.rules.get(index)?;
            match &rule.matcher {
                Matcher::RateLimit { redis, .. } => Some((rule.name.as_str(), *redis)),
                _ => None,
            }
        });
        Some(LimitCall::new(
            prefix,
            callback.from_account(),
            rules.collect::<Vec<_>>().into_iter(),
            plan.items.iter().map(|item| item.reached.as_slice()),
        ))
    }

    /// Decides item `index` of a planned callback with the script's
    /// `outcome` (`None`: no call was needed). When Redis failed, each rate
    /// limit the item reaches applies its `on_redis_error`, and the note
    /// for the log says so.
    pub(crate) fn settle(
        &self,
        plan: &LimitPlan,
        index: usize,
        account: &str,
        outcome: Option<&Result<Vec<i64>, StoreError>>,
        now: Instant,
    ) -> (Result<Verdict<'_>, DeciderError>, Option<String>) {
        let Some(item) = plan.items.get(index) else {
            return (Err(DeciderError::new("item outside the plan")), None);
        };
        let mut note = None;
        for (nth, &position) in item.reached.iter().enumerate() {
            let Some((rule_index, rule)) = plan
                .rules
                .get(position)
                .and_then(|&i| Some((i, self.rules.get(i)?)))
            else {
                continue;
            };
            let refused = match outcome {
                Some(Ok(results)) => results.get(index).copied() == i64::try_from(nth + 1).ok(),
                Some(Err(error)) => {
                    rule.fallbacks.inc();
                    note = Some(format!(
                        "{error}; rule {} used on_redis_error = {}",
                        rule.name,
                        rule.on_redis_error.as_str()
                    ));
                    match (&rule.matcher, rule.on_redis_error) {
                        (_, OnRedisError::Allow) => false,
                        (_, OnRedisError::Reject) => true,
                        (Matcher::RateLimit { limiter, .. }, OnRedisError::Local) => {
                            match limiter.take(account, now) {
                                Ok(taken) => !taken,
                                Err(error) => return (Err(error), note),
                            }
                        }
                        _ => false,
                    }
                }
                None => false,
            };
            if refused {
                return (Ok(rule.verdict(rule_index)), note);
            }
        }
        let verdict = match &item.then {
            Ok(Some(index)) => match self.rules.get(*index) {
                Some(rule) => Ok(rule.verdict(*index)),
                None => Err(DeciderError::new("rule outside the policy")),
            },
            Ok(None) => Ok(Verdict {
                decision: Decision::Allow,
                rule: DEFAULT_RULE,
                slot: Slot::Default,
            }),
            Err(error) => Err(error.clone()),
        };
        (verdict, note)
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether there are no rules.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Refuses a reload in which a rule's list file lost more than half of
    /// its entries (or all of them) against `old`, unless the rule says
    /// `allow_shrink = true`: a file caught while being rewritten must not
    /// silently switch a block list off.
    pub(crate) fn check_shrink(&self, old: &Self, file: &Path) -> Result<(), SettingsError> {
        for (index, rule) in self.rules.iter().enumerate() {
            let (Some(now), false) = (rule.listed, rule.allow_shrink) else {
                continue;
            };
            let before = old
                .rules
                .iter()
                .find(|o| o.name == rule.name)
                .and_then(|o| o.listed);
            if let Some(before) = before.filter(|b| *b > 0) {
                if (now as f64) < (before as f64) * SHRINK_FLOOR {
                    return Err(SettingsError::new(
                        file,
                        format!("rule[{index}]"),
                        format!(
                            "the list of rule `{}` went from {before} to {now} entries; kept out as a file caught half-written (set `allow_shrink = true` on the rule if this is intended)",
                            rule.name
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Takes over the rate-limit state of every rule of `old` whose name,
    /// limits and actions are unchanged, so that a reload re-arms nobody.
    pub(crate) fn keep_state(&mut self, old: &Self) {
        let old_sets: Vec<Arc<SharedSet>> = old.shared_sets().collect();
        for rule in &mut self.rules {
            if let Matcher::Accounts {
                shared: Some(set), ..
            } = &mut rule.matcher
            {
                if let Some(kept) = old_sets.iter().find(|o| o.key() == set.key()) {
                    *set = Arc::clone(kept);
                }
                continue;
            }
            let Matcher::RateLimit {
                limiter,
                actions,
                params,
                ..
            } = &mut rule.matcher
            else {
                continue;
            };
            let same = old.rules.iter().find_map(|o| match &o.matcher {
                Matcher::RateLimit {
                    limiter: kept,
                    actions: a,
                    params: p,
                    ..
                } if o.name == rule.name && a == actions && p == params => Some(kept),
                _ => None,
            });
            if let Some(kept) = same {
                *limiter = Arc::clone(kept);
            }
        }
    }

    /// Names of the rules, in order.
    pub fn rule_names(&self) -> impl Iterator<Item = &str> {
        self.rules.iter().map(|rule| rule.name.as_str())
    }

    /// Decides one item: the first rule that matches decides; otherwise allow.
    pub fn decide(
        &self,
        callback: &FriendResponseCallback<'_>,
        item: &ResponseItem<'_>,
        now: Instant,
    ) -> Result<Verdict<'_>, DeciderError> {
        for (index, rule) in self.rules.iter().enumerate() {
            if rule.matches(callback, item, now)? {
                return Ok(rule.verdict(index));
            }
        }
        Ok(Verdict {
            decision: Decision::Allow,
            rule: DEFAULT_RULE,
            slot: Slot::Default,
        })
    }
}

impl Rule {
    fn matches(
        &self,
        callback: &FriendResponseCallback<'_>,
        item: &ResponseItem<'_>,
        now: Instant,
    ) -> Result<bool, DeciderError> {
        Ok(match &self.matcher {
            Matcher::Accounts {
                set,
                field,
                mode,
                shared,
            } => {
                let snapshot = match shared.as_ref().map(|s| s.view()) {
                    None => None,
                    Some(SetView::Current(members)) => Some(members),
                    Some(SetView::Unavailable(members)) => {
                        self.fallbacks.inc();
                        match self.on_redis_error {
                            OnRedisError::Allow => return Ok(false),
                            OnRedisError::Reject => return Ok(true),
                            OnRedisError::Local => Some(members),
                        }
                    }
                };
                let listed = |account: &str| {
                    set.contains(account) || snapshot.as_ref().is_some_and(|s| s.contains(account))
                };
                let from = listed(callback.from_account());
                let to = listed(&item.to_account);
                match (mode, field) {
                    (ListMode::Block, AccountField::From) => from,
                    (ListMode::Block, AccountField::To) => to,
                    (ListMode::Block, AccountField::Either) => from || to,
                    (ListMode::AllowOnly, AccountField::From) => !from,
                    (ListMode::AllowOnly, AccountField::To) => !to,
                    (ListMode::AllowOnly, AccountField::Either) => !(from && to),
                }
            }
            Matcher::Words {
                matcher,
                confusable,
                fields,
            } => fields.iter().any(|field| {
                let text = match field {
                    TextField::Remark => &item.remark,
                    TextField::TagName => &item.tag_name,
                };
                if text.is_empty() {
                    return false;
                }
                // Patterns were normalized the same way at load.
                let text = normalize(text);
                matcher.is_match(&*text)
                    || confusable.as_ref().is_some_and(|[lower, upper]| {
                        let [l, u] = skeletons(&text);
                        lower.is_match(&l) || upper.is_match(&u)
                    })
            }),
            Matcher::RateLimit {
                limiter, actions, ..
            } => actions.counts(&item.action) && !limiter.take(callback.from_account(), now)?,
            Matcher::Action { actions } => actions.iter().any(|a| a == item.action.as_str()),
        })
    }
}

/// Token buckets per account, in an LRU cache so that memory stays bounded
/// however many accounts appear. An account evicted and seen again starts
/// with a full bucket.
#[derive(Debug)]
pub struct RateLimiter {
    capacity: f64,
    per_second: f64,
    buckets: Mutex<LruCache<String, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

impl RateLimiter {
    /// `max` events per `per` for each account, tracking at most `accounts`.
    pub fn new(max: u32, per: Duration, accounts: NonZeroUsize) -> Self {
        Self {
            capacity: f64::from(max),
            per_second: f64::from(max) / per.as_secs_f64(),
            buckets: Mutex::new(LruCache::new(accounts)),
        }
    }

    /// Takes one event for `account` at `now`; false when over the limit.
    pub fn take(&self, account: &str, now: Instant) -> Result<bool, DeciderError> {
        let mut buckets = self
            .buckets
            .lock()
            .map_err(|_| DeciderError::new("rate limiter state is poisoned"))?;
        let bucket = match buckets.get_mut(account) {
            Some(bucket) => bucket,
            None => {
                buckets.push(
                    account.to_owned(),
                    Bucket {
                        tokens: self.capacity,
                        updated: now,
                    },
                );
                buckets
                    .get_mut(account)
                    .ok_or_else(|| DeciderError::new("rate limiter lost an account"))?
            }
        };
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.per_second).min(self.capacity);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    /// Accounts currently tracked.
    pub fn tracked(&self) -> usize {
        self.buckets.lock().map_or(0, |b| b.len())
    }
}

/// Keys each kind accepts besides `name`, `kind`, `code`, `info`.
fn allowed_keys(kind: RuleKind) -> &'static [&'static str] {
    match kind {
        RuleKind::Accounts => &[
            "accounts",
            "accounts_file",
            "field",
            "mode",
            "allow_shrink",
            "redis_set",
            "on_redis_error",
        ],
        RuleKind::Words => &[
            "words",
            "words_file",
            "fields",
            "confusables",
            "allow_shrink",
        ],
        RuleKind::RateLimit => &[
            "max",
            "per_seconds",
            "max_accounts",
            "actions",
            "on_redis_error",
        ],
        RuleKind::Action => &["actions", "decision"],
    }
}

fn build_rule(
    file: &Path,
    base: &Path,
    key: &str,
    spec: RuleSpec,
    has_state: bool,
    watched: &mut Vec<PathBuf>,
) -> Result<Rule, SettingsError> {
    let err =
        |field: &str, reason: String| SettingsError::new(file, format!("{key}.{field}"), reason);
    let present = [
        ("accounts", spec.accounts.is_some()),
        ("accounts_file", spec.accounts_file.is_some()),
        ("field", spec.field.is_some()),
        ("mode", spec.mode.is_some()),
        ("words", spec.words.is_some()),
        ("words_file", spec.words_file.is_some()),
        ("fields", spec.fields.is_some()),
        ("max", spec.max.is_some()),
        ("per_seconds", spec.per_seconds.is_some()),
        ("max_accounts", spec.max_accounts.is_some()),
        ("actions", spec.actions.is_some()),
        ("decision", spec.decision.is_some()),
        ("confusables", spec.confusables.is_some()),
        ("allow_shrink", spec.allow_shrink.is_some()),
        ("redis_set", spec.redis_set.is_some()),
        ("on_redis_error", spec.on_redis_error.is_some()),
    ];
    let allowed = allowed_keys(spec.kind);
    if let Some((name, _)) = present
        .iter()
        .find(|(name, set)| *set && !allowed.contains(name))
    {
        return Err(err(
            name,
            format!(
                "does not apply to a rule of kind `{:?}`; it takes {}",
                spec.kind,
                allowed.join(", ")
            )
            .to_lowercase(),
        ));
    }
    if !has_state {
        if let Some((name, _)) = present
            .iter()
            .find(|(name, set)| *set && matches!(*name, "redis_set" | "on_redis_error"))
        {
            return Err(err(
                name,
                "needs a [state] section (the Redis the rule shares with other replicas)"
                    .to_owned(),
            ));
        }
    }
    if spec.kind == RuleKind::Accounts && spec.on_redis_error.is_some() && spec.redis_set.is_none()
    {
        return Err(err(
            "on_redis_error",
            "applies to an accounts rule with a `redis_set`".to_owned(),
        ));
    }
    let action_allows = spec.kind == RuleKind::Action && spec.decision == Some(RuleDecision::Allow);
    let decision = if action_allows {
        if spec.code.is_some() || spec.info.is_some() {
            return Err(err(
                "code",
                "an allowing rule takes no `code` or `info`".to_owned(),
            ));
        }
        Decision::Allow
    } else {
        let code = spec.code.ok_or_else(|| {
            err(
                "code",
                "a rejecting rule needs a `code` in [38000, 39000]".to_owned(),
            )
        })?;
        let info = spec
            .info
            .unwrap_or_else(|| format!("rejected by rule {}", spec.name));
        Decision::reject(code, info).map_err(|e| err("code", e.to_string()))?
    };
    let mut listed = None;
    let mut list_file = None;
    let matcher = match spec.kind {
        RuleKind::Accounts => {
            let mut set: HashSet<String> = spec.accounts.unwrap_or_default().into_iter().collect();
            if let Some(list) = spec.accounts_file {
                let entries = read_list(file, base, key, "accounts_file", &list, watched)?;
                listed = Some(entries.len());
                list_file = watched.last().cloned();
                set.extend(entries);
            }
            let shared = match spec.redis_set {
                Some(key) if key.is_empty() || key.contains(char::is_whitespace) => {
                    return Err(err(
                        "redis_set",
                        "must be a Redis key without spaces".to_owned(),
                    ))
                }
                Some(key) => Some(Arc::new(SharedSet::new(key))),
                None => None,
            };
            Matcher::Accounts {
                set,
                field: spec.field.unwrap_or(AccountField::Either),
                mode: spec.mode.unwrap_or(ListMode::Block),
                shared,
            }
        }
        RuleKind::Words => {
            let mut words: Vec<String> = spec.words.unwrap_or_default();
            if let Some(list) = spec.words_file {
                let entries = read_list(file, base, key, "words_file", &list, watched)?;
                listed = Some(entries.len());
                list_file = watched.last().cloned();
                words.extend(entries);
            }
            let words: Vec<String> = words
                .iter()
                .map(|w| normalize(w).trim().to_owned())
                .filter(|w| !w.is_empty())
                .collect();
            if words.is_empty() {
                return Err(err(
                    "words",
                    "a words rule needs at least one word (`words` or `words_file`)".to_owned(),
                ));
            }
            let automaton =
                |words: &[String]| AhoCorasick::new(words).map_err(|e| err("words", e.to_string()));
            let matcher = automaton(&words)?;
            let confusable = if spec.confusables.unwrap_or(false) {
                let [lower, upper]: [Vec<String>; 2] =
                    [0, 1].map(|case| words.iter().map(|w| skeletons(w)[case].clone()).collect());
                Some([automaton(&lower)?, automaton(&upper)?])
            } else {
                None
            };
            let fields = spec
                .fields
                .unwrap_or_else(|| vec![TextField::Remark, TextField::TagName]);
            Matcher::Words {
                matcher,
                confusable,
                fields,
            }
        }
        RuleKind::RateLimit => {
            let max = spec
                .max
                .filter(|m| *m > 0)
                .ok_or_else(|| err("max", "needs a `max` of at least 1".to_owned()))?;
            let per = spec.per_seconds.filter(|s| *s > 0).ok_or_else(|| {
                err(
                    "per_seconds",
                    "needs `per_seconds` of at least 1".to_owned(),
                )
            })?;
            let accounts = NonZeroUsize::new(spec.max_accounts.unwrap_or(100_000))
                .ok_or_else(|| err("max_accounts", "must be at least 1".to_owned()))?;
            let actions = spec.actions.map_or(Actions::Accepting, Actions::Listed);
            Matcher::RateLimit {
                limiter: Arc::new(RateLimiter::new(max, Duration::from_secs(per), accounts)),
                actions,
                redis: LimitParams::new(max, per),
                params: (max, per, accounts.get()),
            }
        }
        RuleKind::Action => {
            if spec.decision.is_none() {
                return Err(err(
                    "decision",
                    "needs `decision = \"allow\"` or `\"reject\"`".to_owned(),
                ));
            }
            let actions = spec
                .actions
                .filter(|a| !a.is_empty())
                .ok_or_else(|| err("actions", "needs at least one action".to_owned()))?;
            Matcher::Action { actions }
        }
    };
    Ok(Rule {
        name: spec.name,
        matcher,
        decision,
        listed,
        allow_shrink: spec.allow_shrink.unwrap_or(false),
        on_redis_error: spec.on_redis_error.unwrap_or_default(),
        fallbacks: Counter::default(),
        list_file,
    })
}

/// Reads a list file: one entry per line; blank lines and `#` comments skipped.
fn read_list(
    file: &Path,
    base: &Path,
    key: &str,
    field: &str,
    list: &Path,
    watched: &mut Vec<PathBuf>,
) -> Result<Vec<String>, SettingsError> {
    let list = resolve(base, list);
    let text = std::fs::read_to_string(&list).map_err(|e| {
        SettingsError::new(
            file,
            format!("{key}.{field}"),
            format!("cannot read {}: {e}", list.display()),
        )
    })?;
    let entries = parse_list(&text).map_err(|reason| {
        SettingsError::new(
            file,
            format!("{key}.{field}"),
            format!("{}: {reason}", list.display()),
        )
    })?;
    watched.push(list);
    Ok(entries)
}

/// The entries of a list file: one per line, trimmed; blank lines and `#`
/// comments skipped. A line starting with `"` is one JSON string, for an
/// entry a plain line cannot hold (white space at its ends, a leading `#`
/// or `"`, a control character): the platform documents a UserID's length
/// (32 bytes), not its characters, so a list holds any text.
pub fn parse_list(text: &str) -> Result<Vec<String>, String> {
    text.lines()
        .enumerate()
        .map(|(index, line)| (index, line.trim()))
        .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'))
        .map(|(index, line)| {
            parse_entry(line).map_err(|reason| format!("line {}: {reason}", index + 1))
        })
        .collect()
}

/// One trimmed, non-comment line of a list file as its entry.
pub(crate) fn parse_entry(line: &str) -> Result<String, String> {
    if line.starts_with('"') {
        serde_json::from_str::<String>(line)
            .map_err(|e| format!("a line starting with `\"` is one JSON string ({e})"))
    } else {
        Ok(line.to_owned())
    }
}

/// `entry` as a line of a list file: as it is, or as a JSON string when a
/// plain line would read back as something else (see [`parse_list`]).
pub(crate) fn list_line(entry: &str) -> std::borrow::Cow<'_, str> {
    let plain = !entry.is_empty()
        && entry.trim() == entry
        && !entry.starts_with(['#', '"'])
        && !entry.contains(char::is_control);
    if plain {
        entry.into()
    } else {
        serde_json::to_string(entry).unwrap_or_default().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_bucket_refills_over_time() {
        let limiter = RateLimiter::new(2, Duration::from_secs(10), NonZeroUsize::new(8).unwrap());
        let t0 = Instant::now();
        assert!(limiter.take("a", t0).unwrap());
        assert!(limiter.take("a", t0).unwrap());
        assert!(!limiter.take("a", t0).unwrap());
        assert!(limiter.take("b", t0).unwrap(), "accounts are separate");
        assert!(
            limiter.take("a", t0 + Duration::from_secs(5)).unwrap(),
            "one token back after 5 s"
        );
        assert!(!limiter.take("a", t0 + Duration::from_secs(5)).unwrap());
    }

    #[test]
    fn memory_is_bounded_by_the_lru() {
        let limiter = RateLimiter::new(1, Duration::from_secs(60), NonZeroUsize::new(100).unwrap());
        let now = Instant::now();
        for i in 0..10_000 {
            limiter.take(&format!("user{i}"), now).unwrap();
        }
        assert_eq!(limiter.tracked(), 100);
    }
}

#[cfg(test)]
mod shared_tests {
    use super::*;
    use crate::state::StateSection;
    use friendgate_core::testing::{QueryBuilder, SAMPLE_APP_ID};

    /// A policy with `[state]` from TOML.
    fn policy(text: &str) -> Policy {
        #[derive(Deserialize)]
        struct File {
            state: StateSection,
            rule: Vec<RuleSpec>,
        }
        let file: File = toml::from_str(text).unwrap();
        let path = Path::new("test.toml");
        let state = StateSettings::build(
            path,
            Path::new("."),
            file.state,
            Duration::from_millis(1500),
        )
        .unwrap();
        Policy::build(
            path,
            Path::new("."),
            file.rule,
            Some(&state),
            &mut Vec::new(),
        )
        .unwrap()
    }

    /// The rule deciding one item from `from` to `to` under `policy`.
    fn rule_for(policy: &Policy, from: &str, to: &str) -> String {
        let config = friendgate_core::Config::builder(SAMPLE_APP_ID)
            .build()
            .unwrap();
        let body = format!(
            r#"{{"CallbackCommand":"Sns.CallbackPrevFriendResponse","Requester_Account":"{from}","From_Account":"{from}","ResponseFriendItem":[{{"To_Account":"{to}","ResponseAction":"Response_Action_Agree"}}],"EventTime":1}}"#
        );
        let query = QueryBuilder::new(SAMPLE_APP_ID).build();
        let callback = friendgate_core::verify(&config, &query, body.as_bytes(), 0).unwrap();
        let verdict = policy
            .decide(&callback, &callback.items()[0], Instant::now())
            .unwrap();
        verdict.rule.to_owned()
    }

    const RULES: &str = r#"
[state]
redis_url = "redis://127.0.0.1:1/0"

[[rule]]
name = "strict"
kind = "accounts"
field = "from"
redis_set = "strict"
on_redis_error = "reject"
code = 38001

[[rule]]
name = "open"
kind = "accounts"
field = "to"
mode = "allow_only"
redis_set = "open"
on_redis_error = "allow"
code = 38002

[[rule]]
name = "kept"
kind = "accounts"
field = "to"
accounts = ["static"]
redis_set = "kept"
code = 38003
"#;

    #[test]
    fn account_sets_apply_their_policy_while_redis_is_unavailable() {
        let policy = policy(RULES);
        let sets: Vec<Arc<SharedSet>> = policy.shared_sets().collect();
        // Never loaded: `strict` rejects everyone.
        assert_eq!(rule_for(&policy, "anyone", "x"), "strict");
        sets[0].replace(HashSet::from(["mallory".to_owned()]));
        assert_eq!(rule_for(&policy, "mallory", "x"), "strict");
        // `open` (allow_only) matches nothing while unavailable; `kept`
        // (local) matches its static entries and its last snapshot.
        assert_eq!(rule_for(&policy, "bob", "x"), "default");
        assert_eq!(rule_for(&policy, "bob", "static"), "kept");
        sets[2].replace(HashSet::from(["snap".to_owned()]));
        sets[2].set_unavailable();
        assert_eq!(
            rule_for(&policy, "bob", "snap"),
            "kept",
            "the last snapshot"
        );
        // Loaded, `open` applies its list: only listed accounts pass it.
        sets[1].replace(HashSet::from(["friend".to_owned()]));
        assert_eq!(rule_for(&policy, "bob", "x"), "open");
        assert_eq!(rule_for(&policy, "bob", "friend"), "default");
        // Down again: `strict` rejects whatever its snapshot says.
        sets[0].set_unavailable();
        assert_eq!(rule_for(&policy, "bob", "friend"), "strict");
    }
}
