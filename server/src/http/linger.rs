//! A lingering close, as nginx does it: when the server closes a connection
//! (after refusing a request whose body it did not read: too large, or not
//! authenticated), it first shuts down its sending side, then reads and
//! discards what the client still sends, for a bounded time, before it
//! closes. Closing with unread bytes would make the kernel send a reset,
//! which can destroy the answer before a client that writes its whole body
//! before reading (as HTTP clients do) has read it.
//!
//! The wrapper sits under hyper (and under TLS, so a TLS close_notify goes
//! out first); it acts in `poll_shutdown`, which hyper calls when it closes
//! a connection. It also tells the connection's [`Activity`] when bytes are
//! read and writes flushed, for the answer latency the client sees.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{sleep, Instant, Sleep};

use crate::http::idle::Activity;

/// The longest a lingering close takes in all.
pub(crate) const LINGER_TIME: Duration = Duration::from_secs(5);

/// A lingering close ends when the client sends nothing for this long.
pub(crate) const LINGER_IDLE: Duration = Duration::from_secs(1);

/// The most bytes discarded before closing anyway.
pub(crate) const LINGER_BYTES: usize = 8 << 20;

/// An IO whose shutdown lingers.
#[derive(Debug)]
pub(crate) struct Lingering<IO> {
    inner: IO,
    drain: Option<Drain>,
    /// The connection's activity, marked closing once the close begins
    /// (such a connection goes first at `max_connections`).
    activity: Arc<Activity>,
}

/// The state of a lingering close under way.
#[derive(Debug)]
struct Drain {
    until: Instant,
    idle: Pin<Box<Sleep>>,
    discarded: usize,
}

impl<IO> Lingering<IO> {
    pub(crate) fn new(inner: IO, activity: Arc<Activity>) -> Self {
        Self {
            inner,
            drain: None,
            activity,
        }
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> AsyncRead for Lingering<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let read = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(read, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.bytes_read();
        }
        read
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> AsyncWrite for Lingering<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let flushed = Pin::new(&mut self.inner).poll_flush(cx);
        if matches!(flushed, Poll::Ready(Ok(()))) {
            self.activity.flushed();
        }
        flushed
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.drain.is_none() {
            this.activity.mark_closing();
            // Our side first: the client sees the answer end (FIN).
            ready!(Pin::new(&mut this.inner).poll_shutdown(cx))?;
            let now = Instant::now();
            this.drain = Some(Drain {
                until: now + LINGER_TIME,
                idle: Box::pin(sleep(LINGER_IDLE)),
                discarded: 0,
            });
        }
        let Some(drain) = this.drain.as_mut() else {
            return Poll::Ready(Ok(()));
        };
        let mut scratch = [0u8; 4096];
        loop {
            let mut buf = ReadBuf::new(&mut scratch);
            match Pin::new(&mut this.inner).poll_read(cx, &mut buf) {
                // The client closed (or the connection broke): done.
                Poll::Ready(Ok(())) if buf.filled().is_empty() => return Poll::Ready(Ok(())),
                Poll::Ready(Err(_)) => return Poll::Ready(Ok(())),
                Poll::Ready(Ok(())) => {
                    drain.discarded += buf.filled().len();
                    let now = Instant::now();
                    if drain.discarded >= LINGER_BYTES || now >= drain.until {
                        return Poll::Ready(Ok(()));
                    }
                    drain
                        .idle
                        .as_mut()
                        .reset((now + LINGER_IDLE).min(drain.until));
                }
                Poll::Pending => {
                    return match drain.idle.as_mut().poll(cx) {
                        Poll::Ready(()) => Poll::Ready(Ok(())),
                        Poll::Pending => Poll::Pending,
                    };
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn shutdown_waits_for_the_client_to_finish_sending_then_closes() {
        let (client, server) = tokio::io::duplex(1024);
        let mut server = Lingering::new(server, Arc::default());
        let (mut client_read, mut client_write) = tokio::io::split(client);
        let sender = tokio::spawn(async move {
            // 64 KiB through a 1 KiB pipe: only possible while the server drains.
            for _ in 0..64 {
                client_write.write_all(&[7u8; 1024]).await.unwrap();
            }
            drop(client_write);
        });
        server.write_all(b"answer").await.unwrap();
        server.shutdown().await.unwrap();
        sender.await.unwrap();
        let mut answer = Vec::new();
        client_read.read_to_end(&mut answer).await.unwrap();
        assert_eq!(answer, b"answer");
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_client_is_given_up_after_the_idle_span() {
        let (_client, server) = tokio::io::duplex(1024);
        let mut server = Lingering::new(server, Arc::default());
        let began = Instant::now();
        server.shutdown().await.unwrap();
        assert_eq!(began.elapsed(), LINGER_IDLE);
    }

    #[tokio::test(start_paused = true)]
    async fn a_client_that_never_stops_is_given_up_after_the_linger_time() {
        let (client, server) = tokio::io::duplex(1 << 16);
        let mut server = Lingering::new(server, Arc::default());
        let (_read, mut write) = tokio::io::split(client);
        let sender = tokio::spawn(async move {
            loop {
                if write.write_all(b"x").await.is_err() {
                    return;
                }
                sleep(Duration::from_millis(100)).await;
            }
        });
        let began = Instant::now();
        server.shutdown().await.unwrap();
        let took = began.elapsed();
        assert!(
            took >= LINGER_TIME && took <= LINGER_TIME + LINGER_IDLE,
            "{took:?}"
        );
        sender.abort();
    }
}
