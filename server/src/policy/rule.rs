//! A validated rule: what it checks (its kind's matcher), its decision,
//! and what it does when Redis fails; built from its `[[rule]]` table by
//! its kind's builder (`rules/`).

use std::path::{Path, PathBuf};
use std::time::Instant;

use friendgate_core::{DeciderError, Decision};
use prometheus_client::metrics::counter::Counter;

use crate::config::files::SettingsError;
use crate::decided::Slot;
use crate::policy::rules::accounts::{self, AccountList};
use crate::policy::rules::action::{self, ActionList};
use crate::policy::rules::rate_limit::{self, RateLimit};
use crate::policy::rules::words::{self, WordFilter};
use crate::policy::rules::Building;
use crate::policy::spec::{RuleKind, RuleSpec};
use crate::policy::subject::{Command, Subject};
use crate::state::OnRedisError;

/// A decision and the name of the rule that made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict<'p> {
    /// The decision.
    pub decision: Decision,
    /// The rule's name, or [`DEFAULT_RULE`](crate::decided::DEFAULT_RULE).
    pub rule: &'p str,
    /// [`Slot::Rule`] with the rule's position, or [`Slot::Default`].
    pub slot: Slot,
}

/// What a rule checks: its kind's matcher.
#[derive(Debug)]
pub(crate) enum Matcher {
    Accounts(AccountList),
    Words(WordFilter),
    RateLimit(RateLimit),
    Action(ActionList),
}

/// A validated rule.
#[derive(Debug)]
pub(crate) struct Rule {
    pub(crate) name: String,
    pub(crate) matcher: Matcher,
    pub(crate) decision: Decision,
    /// The friend commands it applies to; `None`: both.
    pub(crate) commands: Option<Vec<Command>>,
    /// Entries read from the rule's list file, when it has one.
    pub(crate) listed: Option<usize>,
    /// Whether the list file may shrink by more than half on a reload.
    pub(crate) allow_shrink: bool,
    /// What the rule does when Redis fails (rules on Redis only).
    pub(crate) on_redis_error: OnRedisError,
    /// Counts the items it decided that way (`friendgate_redis_fallbacks`).
    pub(crate) fallbacks: Counter,
    /// Its `accounts_file` or `words_file`, resolved.
    pub(crate) list_file: Option<PathBuf>,
}

impl Rule {
    /// The verdict of this rule, at `index` in the policy.
    pub(crate) fn verdict(&self, index: usize) -> Verdict<'_> {
        Verdict {
            decision: self.decision.clone(),
            rule: &self.name,
            slot: Slot::Rule(index),
        }
    }
}

impl Rule {
    /// Whether the rule applies to items of `command`.
    pub(crate) fn applies(&self, command: Command) -> bool {
        self.commands
            .as_ref()
            .map_or(true, |commands| commands.contains(&command))
    }

    /// Whether the rule matches `subject` at `now`.
    pub(crate) fn matches(
        &self,
        subject: &Subject<'_>,
        now: Instant,
    ) -> Result<bool, DeciderError> {
        if !self.applies(subject.command) {
            return Ok(false);
        }
        Ok(match &self.matcher {
            Matcher::Accounts(list) => {
                list.matches((self.on_redis_error, &self.fallbacks), subject)?
            }
            Matcher::Words(filter) => filter.matches(subject),
            Matcher::RateLimit(limit) => {
                limit.actions.counts(subject)
                    && !limit.limiter(subject.command).take(subject.from, now)?
            }
            Matcher::Action(list) => list.matches(subject.action),
        })
    }

    /// Builds the rule of `spec` (at `key` of `file`): the checks every
    /// kind shares, then its kind's builder.
    pub(crate) fn build(
        file: &Path,
        base: &Path,
        key: &str,
        mut spec: RuleSpec,
        has_state: bool,
        watched: &mut Vec<PathBuf>,
    ) -> Result<Self, SettingsError> {
        let mut building = Building {
            file,
            base,
            key,
            watched,
            listed: None,
            list_file: None,
        };
        let err = |field: &str, reason: String| {
            SettingsError::new(file, format!("{key}.{field}"), reason)
        };
        spec.check_keys(has_state, err)?;
        let decision = spec.decision(err)?;
        let matcher = match spec.kind {
            RuleKind::Accounts => Matcher::Accounts(accounts::build(&mut building, &mut spec)?),
            RuleKind::Words => Matcher::Words(words::build(&mut building, &mut spec)?),
            RuleKind::RateLimit => Matcher::RateLimit(rate_limit::build(&mut building, &mut spec)?),
            RuleKind::Action => Matcher::Action(action::build(&mut building, &mut spec)?),
        };
        let (listed, list_file) = (building.listed, building.list_file);
        Ok(Self {
            name: spec.name,
            matcher,
            decision,
            commands: spec.commands,
            listed,
            allow_shrink: spec.allow_shrink.unwrap_or(false),
            on_redis_error: spec.on_redis_error.unwrap_or_default(),
            fallbacks: Counter::default(),
            list_file,
        })
    }
}
