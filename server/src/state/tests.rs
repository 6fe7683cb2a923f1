//! The store against a scripted Redis: what fred does with a rate-limit
//! call whose connection is lost before the answer.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

use super::limits::{LimitCall, LimitParams};
use super::{Store, StoreError};
use crate::metrics::Metrics;
use crate::state::settings::StateSettings;

/// One request of a client: RESP arrays of bulk strings, read line by line.
async fn read_command(reader: &mut BufReader<TcpStream>) -> Option<Vec<String>> {
    let mut line = String::new();
    reader.read_line(&mut line).await.ok()?;
    let count: usize = line.trim_end().strip_prefix('*')?.parse().ok()?;
    let mut args = Vec::with_capacity(count);
    for _ in 0..count {
        line.clear();
        reader.read_line(&mut line).await.ok()?; // $len
        line.clear();
        reader.read_line(&mut line).await.ok()?;
        args.push(line.trim_end().to_owned());
    }
    Some(args)
}

fn bulk(text: &str) -> String {
    format!("${}\r\n{text}\r\n", text.len())
}

/// A Redis that answers what a connecting fred client and the store's
/// ping ask, and closes the connection, unanswered, on each `EVALSHA`,
/// which it counts.
async fn redis_that_drops_scripts(listener: TcpListener, scripts: Arc<AtomicUsize>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            return;
        };
        let scripts = scripts.clone();
        tokio::spawn(async move {
            let mut reader = BufReader::new(stream);
            while let Some(args) = read_command(&mut reader).await {
                let name = args
                    .first()
                    .map(|a| a.to_ascii_uppercase())
                    .unwrap_or_default();
                let answer = match name.as_str() {
                    "EVALSHA" => {
                        scripts.fetch_add(1, Ordering::SeqCst);
                        return;
                    }
                    "CLIENT" if args.get(1).is_some_and(|a| a.eq_ignore_ascii_case("ID")) => {
                        ":7\r\n".to_owned()
                    }
                    "INFO" => bulk("# Server\r\nredis_version:7.0.15"),
                    "PING" => "+PONG\r\n".to_owned(),
                    "TIME" => {
                        let now = std::time::SystemTime::now()
                            .duration_since(std::time::UNIX_EPOCH)
                            .unwrap_or_default();
                        format!(
                            "*2\r\n{}{}",
                            bulk(&now.as_secs().to_string()),
                            bulk(&now.subsec_micros().to_string())
                        )
                    }
                    "SCRIPT" => bulk(super::limits::SCRIPT.sha1()),
                    "SUBSCRIBE" => {
                        let channel = args.get(1).cloned().unwrap_or_default();
                        format!("*3\r\n{}{}:1\r\n", bulk("subscribe"), bulk(&channel))
                    }
                    _ => "+OK\r\n".to_owned(),
                };
                if reader.get_mut().write_all(answer.as_bytes()).await.is_err() {
                    return;
                }
            }
        });
    }
}

#[tokio::test]
async fn a_rate_limit_call_is_not_sent_again_after_its_connection_is_lost() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let scripts = Arc::new(AtomicUsize::new(0));
    tokio::spawn(redis_that_drops_scripts(listener, scripts.clone()));
    let mut settings = StateSettings::for_url(&format!("redis://127.0.0.1:{port}/0"));
    settings.timeout = Duration::from_millis(500);
    let store = Arc::new(Store::new(&settings, Metrics::new().redis().clone()).unwrap());
    store.start();
    assert!(
        store.wait_ready(Duration::from_secs(5)).await,
        "the store pings the scripted Redis"
    );

    let call = LimitCall::new(
        "fg",
        "alice",
        [("rl", "burst", LimitParams::new(2, 10))].into_iter(),
        [&[0][..]].into_iter(),
    );
    let answered = store.limits(call, Duration::from_millis(500)).await;
    assert!(
        matches!(answered, Err(StoreError::Redis(_))),
        "{answered:?}"
    );
    // fred reconnects within 250 ms; a call it sent again would be counted.
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        scripts.load(Ordering::SeqCst),
        1,
        "Redis may have taken the tokens the first time"
    );
}
