//! `rate_limit`: accepting responses, or friend requests, per
//! `From_Account`: a token bucket per account (in this process, or in Redis
//! with `[state]`), one per command unless `bucket = "shared"`.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use friendgate_core::DeciderError;
use lru::LruCache;

use super::Building;
use crate::config::files::SettingsError;
use crate::policy::spec::{Buckets, RuleSpec};
use crate::policy::subject::{Command, Subject};
use crate::state::limits::LimitParams;

/// A `rate_limit` rule: its buckets in this process, and its parameters.
#[derive(Debug)]
pub(crate) struct RateLimit {
    /// Shared with the rule of the previous configuration when the rule is
    /// unchanged, so a reload keeps every bucket.
    pub(crate) limiter: Arc<RateLimiter>,
    /// Friend requests' buckets, unless `bucket = "shared"` (then `None`,
    /// and `limiter` counts both commands).
    pub(crate) request_limiter: Option<Arc<RateLimiter>>,
    pub(crate) actions: Actions,
    /// The script's parameters, for a store on Redis.
    pub(crate) redis: LimitParams,
    /// `(max, per_seconds, max_accounts)`, to tell an unchanged rule.
    pub(crate) params: (u32, u64, usize),
}

/// Builds a `rate_limit` rule.
pub(crate) fn build(
    building: &mut Building<'_>,
    spec: &mut RuleSpec,
) -> Result<RateLimit, SettingsError> {
    let max = spec
        .max
        .filter(|m| *m > 0)
        .ok_or_else(|| building.err("max", "needs a `max` of at least 1"))?;
    let per = spec
        .per_seconds
        .filter(|s| *s > 0)
        .ok_or_else(|| building.err("per_seconds", "needs `per_seconds` of at least 1"))?;
    let accounts = NonZeroUsize::new(spec.max_accounts.unwrap_or(100_000))
        .ok_or_else(|| building.err("max_accounts", "must be at least 1"))?;
    let actions = spec
        .actions
        .take()
        .map_or(Actions::Accepting, Actions::Listed);
    let limiter = || Arc::new(RateLimiter::new(max, Duration::from_secs(per), accounts));
    Ok(RateLimit {
        limiter: limiter(),
        request_limiter: match spec.bucket.unwrap_or_default() {
            Buckets::PerCommand => Some(limiter()),
            Buckets::Shared => None,
        },
        actions,
        redis: LimitParams::new(max, per),
        params: (max, per, accounts.get()),
    })
}

impl RateLimit {
    /// The buckets `command` is counted in.
    pub(crate) fn limiter(&self, command: Command) -> &Arc<RateLimiter> {
        match (command, &self.request_limiter) {
            (Command::FriendRequest, Some(requests)) => requests,
            _ => &self.limiter,
        }
    }

    /// The segment of its Redis keys for `command`: `rl` (friend responses,
    /// and both with a shared bucket), `rlr` (friend requests).
    pub(crate) fn key_segment(&self, command: Command) -> &'static str {
        match (command, &self.request_limiter) {
            (Command::FriendRequest, Some(_)) => "rlr",
            _ => "rl",
        }
    }
}

/// The actions a rate limit counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Actions {
    /// Every friend request, and every friend response but
    /// `Response_Action_Reject`, including actions the platform may add
    /// later (the default: an unknown action could be an acceptance, and
    /// must not pass an exhausted bucket).
    Accepting,
    /// The actions the rule lists.
    Listed(Vec<String>),
}

impl Actions {
    /// Whether `subject` is counted: by default as [`Actions::Accepting`]
    /// says; with `actions`, when its `ResponseAction` (a response) or
    /// `AddType` (a request) is listed.
    pub(crate) fn counts(&self, subject: &Subject<'_>) -> bool {
        match self {
            Self::Accepting => subject.counted,
            Self::Listed(listed) => listed.iter().any(|a| a == subject.action),
        }
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
