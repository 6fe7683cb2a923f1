//! `action`: always allow, or always reject, some `ResponseAction`s (of
//! friend responses) or `AddType`s (of friend requests).

use super::Building;
use crate::config::files::SettingsError;
use crate::policy::spec::RuleSpec;

/// The actions an `action` rule decides.
#[derive(Debug)]
pub(crate) struct ActionList {
    pub(crate) actions: Vec<String>,
}

/// Builds an `action` rule.
pub(crate) fn build(
    building: &mut Building<'_>,
    spec: &mut RuleSpec,
) -> Result<ActionList, SettingsError> {
    if spec.decision.is_none() {
        return Err(building.err("decision", "needs `decision = \"allow\"` or `\"reject\"`"));
    }
    let actions = spec
        .actions
        .take()
        .filter(|a| !a.is_empty())
        .ok_or_else(|| building.err("actions", "needs at least one action"))?;
    Ok(ActionList { actions })
}

impl ActionList {
    /// Whether `action` is one of them.
    pub(crate) fn matches(&self, action: &str) -> bool {
        self.actions.iter().any(|a| a == action)
    }
}
