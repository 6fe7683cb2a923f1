//! Rate limits on Redis: one script call decides every item of a callback.
//!
//! The algorithm is GCRA (the "generic cell rate algorithm"), which is a
//! token bucket of `max` tokens refilled at `max / per_seconds` a second,
//! kept as one number per account and rule: the theoretical arrival time
//! (TAT), in microseconds of Redis' own clock (`TIME`), so that the
//! replicas' clocks never matter. A key expires when its bucket is full
//! again, so Redis holds only accounts seen within their window.

use std::sync::LazyLock;

use fred::types::scripts::Script;

/// The script. `KEYS`: one bucket per rule, all of one account (one hash
/// slot). `ARGV`: the call's deadline in µs of Redis' clock (0: none); the
/// number of rules R; for each rule its emission interval and its burst
/// (`per_seconds` in µs); then for each item the number of rules it
/// reaches and their 1-based positions in `KEYS`, in policy order.
///
/// Returns Redis' time (µs), then for each item 0 when every rule it
/// reached had a token, else the position (in the item's own list) of the
/// first rule that had none; rules after it take nothing from the item.
/// Past its deadline it takes nothing and returns Redis' time alone: the
/// gateway has given up on the call by then (a paused or busy Redis runs
/// the calls queued for it when it comes back) and answered the callback
/// with each rule's `on_redis_error`, so a token taken now would count an
/// accept that was never decided on Redis.
const LUA: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local deadline = tonumber(ARGV[1])
if deadline > 0 and now > deadline then return {now} end
local rules = tonumber(ARGV[2])
local tat, interval, burst, dirty = {}, {}, {}, {}
for r = 1, rules do
  interval[r] = tonumber(ARGV[2 * r + 1])
  burst[r] = tonumber(ARGV[2 * r + 2])
  local kept = tonumber(redis.call('GET', KEYS[r]) or '')
  if kept == nil or kept < now then kept = now end
  tat[r] = kept
end
local out, i = {now}, 2 * rules + 3
while i <= #ARGV do
  local reached = tonumber(ARGV[i])
  local refused = 0
  for j = 1, reached do
    local r = tonumber(ARGV[i + j])
    if refused == 0 then
      local next_tat = tat[r] + interval[r]
      if next_tat - now <= burst[r] then
        tat[r] = next_tat
        dirty[r] = true
      else
        refused = j
      end
    end
  end
  out[#out + 1] = refused
  i = i + reached + 1
end
for r = 1, rules do
  if dirty[r] then
    local ms = math.ceil((tat[r] - now) / 1000) + 1
    redis.call('SET', KEYS[r], string.format('%.0f', tat[r]), 'PX', ms)
  end
end
return out
";

/// The script, with its SHA-1 for `EVALSHA`.
pub(crate) static SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::from_lua(LUA));

/// One rule's parameters as the script takes them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct LimitParams {
    /// Microseconds between two tokens (`per_seconds / max`).
    pub(crate) interval_us: f64,
    /// The whole window in microseconds (`per_seconds`): how far ahead of
    /// now the TAT may run, which makes `max` the burst.
    pub(crate) burst_us: f64,
}

impl LimitParams {
    /// `max` events per `per_seconds`.
    pub(crate) fn new(max: u32, per_seconds: u64) -> Self {
        let burst_us = per_seconds as f64 * 1e6;
        Self {
            interval_us: burst_us / f64::from(max),
            burst_us,
        }
    }
}

/// The arguments of one script call.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LimitCall {
    /// One bucket key per rule, in the order the items' lists refer to.
    pub(crate) keys: Vec<String>,
    /// `ARGV` as described on [`LUA`], its deadline (the first) set by
    /// [`LimitCall::set_deadline`].
    pub(crate) args: Vec<String>,
    /// The number of items.
    pub(crate) items: usize,
}

impl LimitCall {
    /// A call for `account`'s buckets of `rules` (key segment, name and
    /// parameters),
    /// with each item's list of positions into `rules` (0-based here).
    pub(crate) fn new<'a, 'b>(
        prefix: &str,
        account: &str,
        rules: impl ExactSizeIterator<Item = (&'static str, &'a str, LimitParams)>,
        items: impl ExactSizeIterator<Item = &'b [usize]>,
    ) -> Self {
        let count = items.len();
        let tag = hash_tag(account);
        let mut keys = Vec::with_capacity(rules.len());
        let mut args = Vec::with_capacity(2 + 2 * rules.len() + count * 2);
        args.push("0".to_owned());
        args.push(rules.len().to_string());
        for (segment, name, params) in rules {
            keys.push(format!("{prefix}:{{{tag}}}:{segment}:{name}"));
            args.push(format!("{}", params.interval_us));
            args.push(format!("{}", params.burst_us));
        }
        for reached in items {
            args.push(reached.len().to_string());
            args.extend(reached.iter().map(|position| (position + 1).to_string()));
        }
        Self {
            keys,
            args,
            items: count,
        }
    }

    /// The time (µs of Redis' clock) after which the script takes nothing.
    pub(crate) fn set_deadline(&mut self, redis_us: i64) {
        if let Some(first) = self.args.first_mut() {
            *first = redis_us.max(1).to_string();
        }
    }
}

/// `account` as the hash tag of its keys: `{`, `}` and `%` are
/// percent-encoded, so that the tag is the whole account and every key of
/// one account lands in one Redis Cluster slot whatever its characters.
pub(crate) fn hash_tag(account: &str) -> std::borrow::Cow<'_, str> {
    if !account.contains(['{', '}', '%']) {
        return account.into();
    }
    let mut tag = String::with_capacity(account.len() + 8);
    for c in account.chars() {
        match c {
            '%' => tag.push_str("%25"),
            '{' => tag.push_str("%7B"),
            '}' => tag.push_str("%7D"),
            c => tag.push(c),
        }
    }
    tag.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_carry_the_account_as_one_hash_tag() {
        let call = LimitCall::new(
            "fg",
            "a}b{%",
            [
                ("rl", "burst", LimitParams::new(2, 10)),
                ("rlr", "day", LimitParams::new(100, 86_400)),
            ]
            .into_iter(),
            [&[0, 1][..], &[], &[1]].into_iter(),
        );
        assert_eq!(
            call.keys,
            ["fg:{a%7Db%7B%25}:rl:burst", "fg:{a%7Db%7B%25}:rlr:day"]
        );
        assert_eq!(
            call.args,
            [
                "0",
                "2",
                "5000000",
                "10000000",
                "864000000",
                "86400000000",
                "2",
                "1",
                "2",
                "0",
                "1",
                "2"
            ]
        );
        assert_eq!(hash_tag("plain"), "plain");
    }
}
