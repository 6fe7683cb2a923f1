//! `accounts`: a block list, or an allow-only list, of UserIDs; inline, in a
//! list file, and in a Redis set shared by the replicas.

use std::collections::HashSet;
use std::sync::Arc;

use friendgate_core::DeciderError;
use prometheus_client::metrics::counter::Counter;

use super::Building;
use crate::config::files::SettingsError;
use crate::policy::spec::{AccountField, ListMode, RuleSpec};
use crate::policy::subject::Subject;
use crate::state::sets::{SetView, SharedSet};
use crate::state::OnRedisError;

/// Builds an `accounts` rule's list.
pub(crate) fn build(
    building: &mut Building<'_>,
    spec: &mut RuleSpec,
) -> Result<AccountList, SettingsError> {
    let mut set: HashSet<String> = spec
        .accounts
        .take()
        .unwrap_or_default()
        .into_iter()
        .collect();
    if let Some(list) = spec.accounts_file.take() {
        set.extend(building.read_list("accounts_file", &list)?);
    }
    let shared = match spec.redis_set.take() {
        Some(key) if key.is_empty() || key.contains(char::is_whitespace) => {
            return Err(building.err("redis_set", "must be a Redis key without spaces"))
        }
        Some(key) => Some(Arc::new(SharedSet::new(key))),
        None => None,
    };
    Ok(AccountList {
        set,
        field: spec.field.unwrap_or(AccountField::Either),
        mode: spec.mode.unwrap_or(ListMode::Block),
        shared,
    })
}

/// An `accounts` rule's list: inline and file entries, and the snapshot of
/// its Redis set (shared with the rule of the previous configuration that
/// read the same set).
#[derive(Debug)]
pub(crate) struct AccountList {
    pub(crate) set: HashSet<String>,
    pub(crate) field: AccountField,
    pub(crate) mode: ListMode,
    pub(crate) shared: Option<Arc<SharedSet>>,
}

impl AccountList {
    /// Whether the rule matches `item`: its account(s) listed (block) or
    /// not (allow-only). While its Redis set is unavailable,
    /// `on_redis_error` decides (counted in `fallbacks`).
    pub(crate) fn matches(
        &self,
        (on_redis_error, fallbacks): (OnRedisError, &Counter),
        subject: &Subject<'_>,
    ) -> Result<bool, DeciderError> {
        let snapshot = match self.shared.as_ref().map(|s| s.view()) {
            None => None,
            Some(SetView::Current(members)) => Some(members),
            Some(SetView::Unavailable(members)) => {
                fallbacks.inc();
                match on_redis_error {
                    OnRedisError::Allow => return Ok(false),
                    OnRedisError::Reject => return Ok(true),
                    OnRedisError::Local => Some(members),
                }
            }
        };
        let listed = |account: &str| {
            self.set.contains(account) || snapshot.as_ref().is_some_and(|s| s.contains(account))
        };
        let from = listed(subject.from);
        let to = listed(subject.to);
        Ok(match (self.mode, self.field) {
            (ListMode::Block, AccountField::From) => from,
            (ListMode::Block, AccountField::To) => to,
            (ListMode::Block, AccountField::Either) => from || to,
            (ListMode::AllowOnly, AccountField::From) => !from,
            (ListMode::AllowOnly, AccountField::To) => !to,
            (ListMode::AllowOnly, AccountField::Either) => !(from && to),
        })
    }
}
