//! A fixed-rate load generator for the forwarding benchmark
//! (server/bench/forward.sh): POSTs `BODY` to `URL` at `RATE` requests per
//! second for `SECONDS` over `CONNECTIONS` keep-alive connections, and prints
//! the achieved rate and the latency percentiles, each measured from when
//! the request was due (so a stall counts fully: no coordinated omission).
//! wrk has no fixed rate and oha is not on these machines; hyper's client
//! and hdrhistogram do the job in a page.
//!
//! `cargo run --release -p friendgate-server --example fixed_rate -- URL BODY_FILE RATE SECONDS [CONNECTIONS]`

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tokio::sync::Mutex;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, url, body, rate, seconds, rest @ ..] = args.as_slice() else {
        return Err("usage: fixed_rate URL BODY_FILE RATE SECONDS [CONNECTIONS]".into());
    };
    let uri: hyper::Uri = url.parse()?;
    let body = Bytes::from(std::fs::read(body)?);
    let rate: u64 = rate.parse()?;
    let seconds: u64 = seconds.parse()?;
    let connections: usize = rest.first().map_or(Ok(32), |c| c.parse())?;
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(connections)
        .build_http();
    let histogram = Arc::new(Mutex::new(Histogram::<u64>::new(3)?));
    let errors = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let in_flight = Arc::new(tokio::sync::Semaphore::new(connections));
    let total = rate * seconds;
    let interval = Duration::from_nanos(1_000_000_000 / rate.max(1));
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..total {
        let due = start + interval * u32::try_from(n)?;
        tokio::time::sleep_until(due.into()).await;
        let permit = Arc::clone(&in_flight).acquire_owned().await?;
        let request = hyper::Request::post(uri.clone())
            .header("content-type", "application/json")
            .body(Full::new(body.clone()))?;
        let (client, histogram, errors) = (client.clone(), histogram.clone(), errors.clone());
        tasks.spawn(async move {
            let ok = match client.request(request).await {
                Ok(response) => {
                    let success = response.status().is_success();
                    response.into_body().collect().await.is_ok() && success
                }
                Err(_) => false,
            };
            let micros = u64::try_from(due.elapsed().as_micros()).unwrap_or(u64::MAX);
            if ok {
                let _ = histogram.lock().await.record(micros);
            } else {
                errors.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            drop(permit);
        });
    }
    while tasks.join_next().await.is_some() {}
    let elapsed = start.elapsed().as_secs_f64();
    let histogram = histogram.lock().await;
    println!(
        "rate {:.0}/s  ok {}  errors {}  p50 {} us  p90 {} us  p99 {} us  max {} us",
        histogram.len() as f64 / elapsed,
        histogram.len(),
        errors.load(std::sync::atomic::Ordering::Relaxed),
        histogram.value_at_quantile(0.50),
        histogram.value_at_quantile(0.90),
        histogram.value_at_quantile(0.99),
        histogram.max()
    );
    Ok(())
}
