//! A bounded log of refused unauthenticated requests: anyone can send
//! those, so one line each would let an outsider fill the log (and, with a
//! slow log reader, the log buffer). At most [`PER_SECOND`] are written in
//! each second; the next line written says how many were left out
//! (`suppressed`). Every refusal is still counted in the metrics.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// Refusal lines written per second at most.
pub(crate) const PER_SECOND: u32 = 10;

/// The state of the current one-second window.
#[derive(Debug, Default)]
pub(crate) struct RefusalLog {
    /// The second (Unix time) the window is for.
    second: AtomicU64,
    /// Lines written in that second.
    written: AtomicU32,
    /// Refusals not written since the last line that was.
    suppressed: AtomicU64,
}

impl RefusalLog {
    /// Whether to write the line of a refusal at `now` (Unix seconds):
    /// `Some(n)` with the number left out before it, or `None`.
    ///
    /// Relaxed atomics: under a race a window may take one or two lines
    /// more than the bound, which is all the precision a log needs.
    pub(crate) fn admit(&self, now: u64) -> Option<u64> {
        let second = self.second.load(Ordering::Relaxed);
        if now != second
            && self
                .second
                .compare_exchange(second, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            self.written.store(0, Ordering::Relaxed);
        }
        if self.written.fetch_add(1, Ordering::Relaxed) < PER_SECOND {
            Some(self.suppressed.swap(0, Ordering::Relaxed))
        } else {
            self.suppressed.fetch_add(1, Ordering::Relaxed);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_the_bound_per_second_and_the_next_line_counts_the_rest() {
        let log = RefusalLog::default();
        let first: Vec<_> = (0..100).map(|_| log.admit(1000)).collect();
        assert_eq!(
            first.iter().filter(|a| a.is_some()).count(),
            PER_SECOND as usize
        );
        assert!(first[..PER_SECOND as usize].iter().all(|a| *a == Some(0)));
        assert_eq!(log.admit(1001), Some(100 - u64::from(PER_SECOND)));
        assert_eq!(log.admit(1001), Some(0));
    }
}
