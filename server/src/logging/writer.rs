//! Where log lines go: a shared buffer that a background thread writes to
//! standard output every few milliseconds (or once a batch's worth waits). A callback pays for copying its
//! line, not for a system call or for waking a thread (which, on a busy core,
//! cost more than the callback itself), and a slow or stopped reader of
//! standard output never blocks a callback: once the buffer is full, lines
//! are dropped and counted, and the first batch written after that says how
//! many were lost.

use std::io::Write;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use prometheus_client::metrics::counter::Counter;
use tracing_subscriber::fmt::MakeWriter;

/// How often the buffer is written out.
const INTERVAL: Duration = Duration::from_millis(10);

/// Past this many buffered bytes the background thread is woken early, so a
/// batch stays small enough to be written from cache and to fit a pipe's
/// default 64 KiB buffer in one write.
const BATCH: usize = 60 << 10;

/// Buffered bytes past which lines are dropped, unless configured
/// (`log.buffer_bytes`).
pub const DEFAULT_CAPACITY: usize = 16 << 20;

struct Shared {
    state: Mutex<State>,
    /// Signalled when a batch is waiting or when stopping (for the
    /// background thread).
    changed: Condvar,
    /// Bytes past which lines are dropped.
    capacity: usize,
    /// Lines dropped, for the metrics.
    dropped: Counter,
}

#[derive(Default)]
struct State {
    buffer: Vec<u8>,
    stopping: bool,
    /// Lines dropped since the last notice of it was written.
    dropped: u64,
}

/// The writer handed to tracing-subscriber.
#[derive(Clone)]
pub struct BatchWriter {
    shared: Arc<Shared>,
}

/// Keeps the background thread running; dropping it writes what is left.
pub struct BatchGuard {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

/// A writer to `out` that holds at most `capacity` bytes waiting (lines
/// past that are dropped and counted in `dropped`), and the guard of its
/// background thread.
pub fn batch_writer<W: Write + Send + 'static>(
    out: W,
    capacity: usize,
    dropped: Counter,
) -> (BatchWriter, BatchGuard) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State::default()),
        changed: Condvar::new(),
        capacity,
        dropped,
    });
    let background = Arc::clone(&shared);
    let thread = std::thread::Builder::new()
        .name("friendgate-log".to_owned())
        .spawn(move || drain(&background, out))
        .ok();
    (
        BatchWriter {
            shared: Arc::clone(&shared),
        },
        BatchGuard { shared, thread },
    )
}

fn lock(shared: &Shared) -> MutexGuard<'_, State> {
    // A panic while holding the lock cannot leave the buffer half-written
    // in a way that matters for log lines; keep logging.
    shared
        .state
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn drain<W: Write>(shared: &Shared, mut out: W) {
    let mut spare = Vec::new();
    loop {
        let mut state = lock(shared);
        if !state.stopping {
            state = shared
                .changed
                .wait_timeout(state, INTERVAL)
                .map_or_else(|e| e.into_inner().0, |(state, _)| state);
        }
        let stopping = state.stopping;
        std::mem::swap(&mut state.buffer, &mut spare);
        let dropped = std::mem::take(&mut state.dropped);
        drop(state);
        if !spare.is_empty() {
            // Nowhere to report a failed write to standard output.
            let _ = out.write_all(&spare).and_then(|()| out.flush());
            spare.clear();
        }
        if dropped > 0 {
            // Through the subscriber, so the notice has the log's format;
            // it lands in the buffer just emptied.
            tracing::warn!(
                target: "friendgate::log",
                dropped,
                "log lines dropped: the reader of standard output fell behind"
            );
        }
        if stopping {
            return;
        }
    }
}

impl Write for &BatchWriter {
    fn write(&mut self, line: &[u8]) -> std::io::Result<usize> {
        let mut state = lock(&self.shared);
        if state.buffer.len() + line.len() > self.shared.capacity {
            // Never wait here: this runs on the thread answering a callback.
            state.dropped += 1;
            drop(state);
            self.shared.dropped.inc();
            return Ok(line.len());
        }
        let before = state.buffer.len();
        state.buffer.extend_from_slice(line);
        let wake = before < BATCH && state.buffer.len() >= BATCH;
        drop(state);
        if wake {
            self.shared.changed.notify_all();
        }
        Ok(line.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Write for BatchWriter {
    fn write(&mut self, line: &[u8]) -> std::io::Result<usize> {
        (&*self).write(line)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for BatchWriter {
    type Writer = &'a BatchWriter;

    fn make_writer(&'a self) -> Self::Writer {
        self
    }
}

impl Drop for BatchGuard {
    fn drop(&mut self) {
        lock(&self.shared).stopping = true;
        self.shared.changed.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `Write` into a shared Vec.
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl Write for Sink {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn lines_arrive_in_order_and_the_guard_flushes_the_rest() {
        let sink = Sink::default();
        let (writer, guard) = batch_writer(sink.clone(), DEFAULT_CAPACITY, Counter::default());
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let mut writer = writer.clone();
                std::thread::spawn(move || {
                    for i in 0..1000 {
                        writer.write_all(format!("{t} {i}\n").as_bytes()).unwrap();
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        drop(guard);
        let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        assert_eq!(text.lines().count(), 4000);
        for t in 0..4 {
            let mine: Vec<usize> = text
                .lines()
                .filter_map(|line| line.strip_prefix(&format!("{t} ")))
                .map(|i| i.parse().unwrap())
                .collect();
            assert_eq!(
                mine,
                (0..1000).collect::<Vec<_>>(),
                "thread {t}'s lines in order"
            );
        }
    }

    #[test]
    fn lines_are_written_without_waiting_for_the_guard() {
        let sink = Sink::default();
        let (mut writer, _guard) = batch_writer(sink.clone(), DEFAULT_CAPACITY, Counter::default());
        writer.write_all(b"hello\n").unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while sink.0.lock().unwrap().is_empty() {
            assert!(std::time::Instant::now() < deadline, "written within 5 s");
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(&*sink.0.lock().unwrap(), b"hello\n");
    }

    /// A `Write` that blocks until released, like a pipe whose reader stopped.
    #[derive(Clone)]
    struct Stalled {
        release: Arc<(Mutex<bool>, Condvar)>,
        sink: Sink,
    }

    impl Write for Stalled {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            let (lock, released) = &*self.release;
            let mut open = lock.lock().unwrap();
            while !*open {
                open = released.wait(open).unwrap();
            }
            self.sink.write(bytes)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_stalled_reader_drops_and_counts_lines_instead_of_blocking() {
        let release = Arc::new((Mutex::new(false), Condvar::new()));
        let stalled = Stalled {
            release: Arc::clone(&release),
            sink: Sink::default(),
        };
        let dropped = Counter::default();
        let (mut writer, guard) = batch_writer(stalled.clone(), 1024, dropped.clone());
        let line = [b'x'; 99];
        // The background thread takes one batch and blocks on it; the
        // buffer then fills and every further line is dropped at once.
        let began = std::time::Instant::now();
        for _ in 0..10_000 {
            writer.write_all(&line).unwrap();
            writer.write_all(b"\n").unwrap();
        }
        assert!(
            began.elapsed() < Duration::from_secs(5),
            "writing never waits"
        );
        assert!(dropped.get() > 15_000, "dropped {}", dropped.get());
        {
            let (lock, released) = &*release;
            *lock.lock().unwrap() = true;
            released.notify_all();
        }
        drop(guard);
        let written = stalled.sink.0.lock().unwrap().len() as u64;
        assert!(
            written <= 2 * 1024 + 100,
            "at most two buffers' worth: {written}"
        );
    }
}
