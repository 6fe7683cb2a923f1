//! Who decided an item: a rule of the policy, no rule, an embedded decider,
//! or the failure policy. One vocabulary for the policy, the gateway's log
//! line and events, and the decision counters.

/// The rule name of items no rule decided.
pub const DEFAULT_RULE: &str = "default";

/// The rule name of decisions made by an embedded [`Decider`](friendgate_core::Decider).
pub const EMBEDDED_RULE: &str = "decider";

/// The rule name of items whose decision failed (the failure policy decided).
pub const DECIDER_ERROR_RULE: &str = "decider_error";

/// Who decided an item, for its decision counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// The policy's rule at this position.
    Rule(usize),
    /// No rule matched ([`DEFAULT_RULE`]).
    Default,
    /// The embedded decider ([`EMBEDDED_RULE`]).
    Decider,
    /// The decision failed ([`DECIDER_ERROR_RULE`]).
    DeciderError,
}
