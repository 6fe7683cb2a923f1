//! The open connections, bounded by `max_connections`. At the bound, a new
//! connection closes an idle one to make room: first the oldest that never
//! sent a whole request (an outsider's idle socket, a slow-headers client)
//! or that the server is already closing (lingering after a refusal), then
//! the oldest idle one. When every connection has a request in
//! progress, the new one is refused. So sockets held open without requests
//! can never lock the platform out, and the process never runs out of file
//! descriptors.

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio::task::{AbortHandle, Id};

use crate::http::idle::Activity;

/// What to do with a new connection at accept time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admission {
    /// Below the bound.
    Admitted,
    /// An idle connection was closed to make room.
    Evicted,
    /// At the bound with every connection busy: close the new one.
    Refused,
}

/// One open connection.
#[derive(Debug)]
struct Open {
    activity: Arc<Activity>,
    task: AbortHandle,
}

/// Open connections in the order they were accepted.
#[derive(Debug)]
pub(crate) struct Connections {
    max: usize,
    /// Keyed by accept order, so the first match is the oldest.
    open: BTreeMap<u64, Open>,
    /// Accept order of each connection task.
    order: std::collections::HashMap<Id, u64>,
    next: u64,
}

impl Connections {
    pub(crate) fn new(max: usize) -> Self {
        Self {
            max,
            open: BTreeMap::new(),
            order: std::collections::HashMap::new(),
            next: 0,
        }
    }

    /// Number of open connections.
    pub(crate) fn len(&self) -> usize {
        self.open.len()
    }

    /// Makes room for one more connection if needed. A scan of the open
    /// connections happens only at the bound, that is under attack.
    pub(crate) fn admit(&mut self) -> Admission {
        if self.open.len() < self.max {
            return Admission::Admitted;
        }
        let victim = self
            .open
            .iter()
            .find(|(_, c)| {
                let a = &c.activity;
                a.is_idle() && (a.is_unused() || a.is_closing())
            })
            .or_else(|| self.open.iter().find(|(_, c)| c.activity.is_idle()))
            .map(|(key, _)| *key);
        match victim.and_then(|key| self.open.remove(&key)) {
            Some(open) => {
                open.task.abort();
                self.order.remove(&open.task.id());
                Admission::Evicted
            }
            None => Admission::Refused,
        }
    }

    /// Registers the task serving a new connection.
    pub(crate) fn insert(&mut self, activity: Arc<Activity>, task: AbortHandle) {
        let key = self.next;
        self.next += 1;
        self.order.insert(task.id(), key);
        self.open.insert(key, Open { activity, task });
    }

    /// Forgets the connection served by task `id` (when it ended).
    pub(crate) fn remove(&mut self, id: Id) {
        if let Some(key) = self.order.remove(&id) {
            self.open.remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending_task() -> AbortHandle {
        tokio::spawn(std::future::pending::<()>()).abort_handle()
    }

    #[tokio::test]
    async fn at_the_bound_the_oldest_unused_idle_connection_goes_first() {
        let mut connections = Connections::new(3);
        let used = Arc::new(Activity::default());
        drop(used.start());
        let busy = Arc::new(Activity::default());
        let _request = busy.start();
        let unused = Arc::new(Activity::default());
        let unused_task = pending_task();
        connections.insert(Arc::clone(&used), pending_task());
        connections.insert(Arc::clone(&busy), pending_task());
        connections.insert(Arc::clone(&unused), unused_task.clone());
        assert_eq!(connections.admit(), Admission::Evicted);
        tokio::task::yield_now().await;
        assert!(unused_task.is_finished(), "the never-used one was closed");
        assert_eq!(connections.len(), 2);
        connections.insert(Arc::new(Activity::default()), pending_task());
        // Next: the unused newcomer, not the used idle one (older).
        assert_eq!(connections.admit(), Admission::Evicted);
        connections.insert(Arc::clone(&busy), pending_task());
        // Now: used idle, busy, busy: the used idle one goes.
        assert_eq!(connections.admit(), Admission::Evicted);
        connections.insert(Arc::clone(&busy), pending_task());
        assert_eq!(connections.admit(), Admission::Refused, "all busy");
    }

    #[tokio::test]
    async fn a_connection_being_closed_goes_before_an_old_kept_alive_one() {
        let mut connections = Connections::new(2);
        let kept_alive = Arc::new(Activity::default());
        drop(kept_alive.start());
        let closing = Arc::new(Activity::default());
        drop(closing.start());
        closing.mark_closing();
        let kept_task = pending_task();
        connections.insert(Arc::clone(&kept_alive), kept_task.clone());
        connections.insert(Arc::clone(&closing), pending_task());
        assert_eq!(connections.admit(), Admission::Evicted);
        tokio::task::yield_now().await;
        assert!(!kept_task.is_finished(), "the kept-alive one stays");
    }

    #[tokio::test]
    async fn ended_connections_are_forgotten() {
        let mut connections = Connections::new(1);
        let task = pending_task();
        connections.insert(Arc::new(Activity::default()), task.clone());
        connections.remove(task.id());
        assert_eq!(connections.len(), 0);
        assert_eq!(connections.admit(), Admission::Admitted);
    }
}
