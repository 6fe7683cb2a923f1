//! Account lists kept in Redis sets, shared by every replica.
//!
//! Each replica holds a snapshot of each set, so that an `accounts` rule
//! decides in memory with no round trip (and works on Redis Cluster, where
//! one set and an account's buckets live in different slots and cannot be
//! read by one script). The snapshot is re-read:
//! - at once when `friendgate accounts` publishes a change on the
//!   `<key_prefix>:changed` channel, or when Redis sends a keyspace
//!   notification for the set (if the server has them on);
//! - every `state.refresh_seconds` in any case, which bounds how long a
//!   plain `redis-cli SADD` takes to apply.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use arc_swap::ArcSwap;

/// The local snapshot of one Redis set.
#[derive(Debug)]
pub struct SharedSet {
    key: String,
    members: ArcSwap<HashSet<String>>,
    /// Loaded at least once, and Redis answering.
    usable: AtomicBool,
}

/// What a rule sees of a set.
#[derive(Debug)]
pub(crate) enum SetView {
    /// The snapshot, current within the refresh bound.
    Current(Arc<HashSet<String>>),
    /// Redis is down (or was never reached): the last snapshot, possibly
    /// empty, for a rule whose policy is `local`.
    Unavailable(Arc<HashSet<String>>),
}

impl SharedSet {
    /// An empty, not yet loaded snapshot of `key`.
    pub(crate) fn new(key: String) -> Self {
        Self {
            key,
            members: ArcSwap::from_pointee(HashSet::new()),
            usable: AtomicBool::new(false),
        }
    }

    /// The set's key in Redis.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Entries in the snapshot.
    pub fn len(&self) -> usize {
        self.members.load().len()
    }

    /// Whether the snapshot is empty.
    pub fn is_empty(&self) -> bool {
        self.members.load().is_empty()
    }

    /// The snapshot and whether it can be trusted.
    pub(crate) fn view(&self) -> SetView {
        let members = self.members.load_full();
        if self.usable.load(Ordering::Acquire) {
            SetView::Current(members)
        } else {
            SetView::Unavailable(members)
        }
    }

    /// Replaces the snapshot with what Redis holds.
    pub(crate) fn replace(&self, members: HashSet<String>) {
        self.members.store(Arc::new(members));
        self.usable.store(true, Ordering::Release);
    }

    /// Marks the snapshot as not current (Redis is down).
    pub(crate) fn set_unavailable(&self) {
        self.usable.store(false, Ordering::Release);
    }
}
