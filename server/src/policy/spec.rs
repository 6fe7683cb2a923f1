//! A `[[rule]]` table as written, and the checks every kind shares: which
//! keys a kind takes, what needs `[state]`, and the rule's decision.

use std::path::PathBuf;

use friendgate_core::Decision;
use serde::Deserialize;

use crate::config::files::SettingsError;
use crate::decided::Command;
use crate::state::OnRedisError;

/// One `[[rule]]` table as written. Which keys apply depends on `kind`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub(crate) name: String,
    pub(crate) kind: RuleKind,
    pub(crate) code: Option<i64>,
    pub(crate) info: Option<String>,
    pub(crate) accounts: Option<Vec<String>>,
    pub(crate) accounts_file: Option<PathBuf>,
    pub(crate) field: Option<AccountField>,
    pub(crate) mode: Option<ListMode>,
    pub(crate) words: Option<Vec<String>>,
    pub(crate) words_file: Option<PathBuf>,
    pub(crate) fields: Option<Vec<TextField>>,
    pub(crate) max: Option<u32>,
    pub(crate) per_seconds: Option<u64>,
    pub(crate) max_accounts: Option<usize>,
    pub(crate) actions: Option<Vec<String>>,
    /// The friend commands the rule applies to (both when absent).
    pub(crate) commands: Option<Vec<Command>>,
    /// A rate limit's buckets: one per command (default) or one shared.
    pub(crate) bucket: Option<Buckets>,
    pub(crate) decision: Option<RuleDecision>,
    pub(crate) confusables: Option<bool>,
    pub(crate) allow_shrink: Option<bool>,
    pub(crate) redis_set: Option<String>,
    pub(crate) on_redis_error: Option<OnRedisError>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum RuleKind {
    Accounts,
    Words,
    RateLimit,
    Action,
}

/// Which account of an item an `accounts` rule looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum AccountField {
    From,
    To,
    Either,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ListMode {
    Block,
    AllowOnly,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub(crate) enum TextField {
    /// `Remark` (both commands).
    Remark,
    /// `TagName` (friend responses).
    TagName,
    /// `GroupName` (friend requests).
    GroupName,
    /// `AddWording`: a friend request's message.
    AddWording,
    /// `AddSource` (friend requests).
    AddSource,
}

/// A rate limit's buckets across the friend commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Buckets {
    /// Friend responses and friend requests are counted apart.
    #[default]
    PerCommand,
    /// One bucket counts both.
    Shared,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum RuleDecision {
    Allow,
    Reject,
}

/// Keys each kind accepts besides `name`, `kind`, `code`, `info`.
pub(crate) fn allowed_keys(kind: RuleKind) -> &'static [&'static str] {
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
            "bucket",
            "on_redis_error",
        ],
        RuleKind::Action => &["actions", "decision"],
    }
}

impl RuleSpec {
    /// Checks the keys `self` sets against its kind (and `[state]`);
    /// `err` names the key at fault.
    pub(crate) fn check_keys(
        &self,
        has_state: bool,
        err: impl Fn(&str, String) -> SettingsError,
    ) -> Result<(), SettingsError> {
        let spec = self;
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
            ("bucket", spec.bucket.is_some()),
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
        if spec.commands.as_ref().is_some_and(Vec::is_empty) {
            return Err(err(
                "commands",
                "names no command; leave it out for both friend commands".to_owned(),
            ));
        }
        if spec.kind == RuleKind::Accounts
            && spec.on_redis_error.is_some()
            && spec.redis_set.is_none()
        {
            return Err(err(
                "on_redis_error",
                "applies to an accounts rule with a `redis_set`".to_owned(),
            ));
        }
        Ok(())
    }

    /// The rule's decision: allow (an allowing `action` rule), or reject
    /// with its `code` and `info`.
    pub(crate) fn decision(
        &self,
        err: impl Fn(&str, String) -> SettingsError,
    ) -> Result<Decision, SettingsError> {
        let spec = self;
        let action_allows =
            spec.kind == RuleKind::Action && spec.decision == Some(RuleDecision::Allow);
        Ok(if action_allows {
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
                .clone()
                .unwrap_or_else(|| format!("rejected by rule {}", spec.name));
            Decision::reject(code, info).map_err(|e| err("code", e.to_string()))?
        })
    }
}
