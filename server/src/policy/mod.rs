//! The gateway's policy: ordered rules, the first that decides an item wins;
//! an item no rule decides is allowed.
//!
//! Every rule applies to both friend commands (responses and requests)
//! unless it names `commands`; rules read items as [`subject::Subject`]s.
//!
//! Rule kinds: `accounts` (block list, or allow-only list), `words` (a word
//! filter on an item's texts), `rate_limit` (accepting responses, or
//! requests, per `From_Account`), `action` (always allow or reject some
//! `ResponseAction`s or `AddType`s).

pub(crate) mod list;
pub(crate) mod normalize;
pub(crate) mod rule;
pub(crate) mod rules;
pub(crate) mod spec;
pub(crate) mod subject;

pub use list::parse_list;
pub(crate) use list::{list_line, parse_entry};
pub use rule::Verdict;
pub use rules::rate_limit::RateLimiter;
pub use spec::RuleSpec;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use friendgate_core::{DeciderError, Decision};

use crate::config::files::SettingsError;
use crate::policy::rule::{Matcher, Rule};
use crate::policy::rules::accounts::AccountList;
use crate::policy::rules::rate_limit::RateLimit;
use crate::policy::spec::ListMode;
pub use crate::policy::subject::Command;
pub(crate) use crate::policy::subject::Ruled;
use crate::policy::subject::Subject;

use crate::decided::Slot;
pub use crate::decided::DEFAULT_RULE;
use crate::metrics::RedisMetrics;
use crate::state::limits::LimitCall;
use crate::state::sets::SharedSet;
use crate::state::{OnRedisError, StateSettings, StoreError};

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
            rules.push(Rule::build(
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
                .any(|rule| matches!(rule.matcher, Matcher::RateLimit(_)))
    }

    /// The snapshots of the Redis sets the rules read.
    pub fn shared_sets(&self) -> impl Iterator<Item = Arc<SharedSet>> + '_ {
        self.rules.iter().filter_map(|rule| match &rule.matcher {
            Matcher::Accounts(AccountList {
                shared: Some(set), ..
            }) => Some(Arc::clone(set)),
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
                    Matcher::Accounts(AccountList { mode, .. }) => (
                        "accounts",
                        Some(match mode {
                            ListMode::Block => "block",
                            ListMode::AllowOnly => "allow_only",
                        }),
                    ),
                    Matcher::Words(_) => ("words", None),
                    Matcher::RateLimit(_) => ("rate_limit", None),
                    Matcher::Action(_) => ("action", None),
                };
                let store = match &rule.matcher {
                    Matcher::Accounts(AccountList {
                        shared: Some(set), ..
                    }) => Some(ListStore::RedisSet(set.key())),
                    Matcher::Accounts(_) | Matcher::Words(_) => {
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
                Matcher::Accounts(AccountList {
                    shared: Some(set), ..
                }) => Some(set.key()),
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
    pub(crate) fn plan(&self, subjects: &[Subject<'_>], now: Instant) -> LimitPlan {
        let mut rules: Vec<usize> = Vec::new();
        let items = subjects
            .iter()
            .map(|subject| {
                let mut reached = Vec::new();
                let mut then = Ok(None);
                for (index, rule) in self.rules.iter().enumerate() {
                    if let Matcher::RateLimit(limit) = &rule.matcher {
                        if rule.applies(subject.command) && limit.actions.counts(subject) {
                            let position =
                                rules.iter().position(|r| *r == index).unwrap_or_else(|| {
                                    rules.push(index);
                                    rules.len() - 1
                                });
                            reached.push(position);
                        }
                        continue;
                    }
                    match rule.matches(subject, now) {
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

    /// The script call of `plan` for the items of `command` from `from`;
    /// `None` when no item reaches a rate limit.
    pub(crate) fn limit_call(
        &self,
        plan: &LimitPlan,
        command: Command,
        from: &str,
    ) -> Option<LimitCall> {
        let prefix = self.shared_limits.as_deref()?;
        if plan.items.iter().all(|item| item.reached.is_empty()) {
            return None;
        }
        let rules = plan.rules.iter().filter_map(|&index| {
            let rule = self.rules.get(index)?;
            match &rule.matcher {
                Matcher::RateLimit(limit) => {
                    Some((limit.key_segment(command), rule.name.as_str(), limit.redis))
                }
                _ => None,
            }
        });
        Some(LimitCall::new(
            prefix,
            from,
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
        subject: &Subject<'_>,
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
                        (Matcher::RateLimit(limit), OnRedisError::Local) => {
                            match limit.limiter(subject.command).take(subject.from, now) {
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
            if let Matcher::Accounts(AccountList {
                shared: Some(set), ..
            }) = &mut rule.matcher
            {
                if let Some(kept) = old_sets.iter().find(|o| o.key() == set.key()) {
                    *set = Arc::clone(kept);
                }
                continue;
            }
            let Matcher::RateLimit(RateLimit {
                limiter,
                request_limiter,
                actions,
                params,
                ..
            }) = &mut rule.matcher
            else {
                continue;
            };
            let same = old.rules.iter().find_map(|o| match &o.matcher {
                Matcher::RateLimit(kept)
                    if o.name == rule.name
                        && kept.actions == *actions
                        && kept.params == *params
                        && kept.request_limiter.is_some() == request_limiter.is_some()
                        && o.commands == rule.commands =>
                {
                    Some(kept)
                }
                _ => None,
            });
            if let Some(kept) = same {
                *limiter = Arc::clone(&kept.limiter);
                *request_limiter = kept.request_limiter.clone();
            }
        }
    }

    /// Names of the rules, in order.
    pub fn rule_names(&self) -> impl Iterator<Item = &str> {
        self.rules.iter().map(|rule| rule.name.as_str())
    }

    /// Decides one item: the first rule that matches decides; otherwise allow.
    pub(crate) fn decide(
        &self,
        subject: &Subject<'_>,
        now: Instant,
    ) -> Result<Verdict<'_>, DeciderError> {
        for (index, rule) in self.rules.iter().enumerate() {
            if rule.matches(subject, now)? {
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

#[cfg(test)]
mod shared_tests {
    use serde::Deserialize;
    use std::time::Duration;

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
        let subject =
            <friendgate_core::FriendResponse as Ruled>::subject(&callback, &callback.items()[0]);
        let verdict = policy.decide(&subject, Instant::now()).unwrap();
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
