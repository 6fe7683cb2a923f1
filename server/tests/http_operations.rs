//! Operations over real HTTP: metrics, health, reload, hostile input,
//! overload, TLS, graceful shutdown.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{
    client, config_head, results, signing_config as config, start, write_config, APP, TOKEN,
};
use friendgate_core::testing::{QueryBuilder, SAMPLE_BODY};
use friendgate_core::{Config, Token};
use friendgate_server::Gateway;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn default_server() -> common::Running {
    start(Gateway::new(common::settings(config()))).await
}

/// Sends raw bytes on a new connection and reads the whole answer.
async fn raw_exchange(base: &str, request: &[u8]) -> String {
    let addr = base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

/// A connection that has sent the headers of a signed sample callback and
/// the first `sent` bytes of its body.
async fn partly_sent(running: &common::Running, sent: usize) -> TcpStream {
    let addr = running.base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(post_head(running, SAMPLE_BODY.len(), "").as_bytes())
        .await
        .unwrap();
    stream
        .write_all(&SAMPLE_BODY.as_bytes()[..sent])
        .await
        .unwrap();
    stream
}

/// Reads what the server has answered so far (one answer), within 5 s.
async fn read_answer(stream: &mut TcpStream) -> String {
    let mut answer = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut answer))
        .await
        .unwrap()
        .unwrap();
    String::from_utf8_lossy(&answer[..n]).into_owned()
}

fn post_head(running: &common::Running, content_length: usize, extra: &str) -> String {
    let query = QueryBuilder::new(APP)
        .signed(TOKEN, running.gateway.now())
        .build();
    format!("POST /cb?{query} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {content_length}\r\n{extra}\r\n")
}

#[tokio::test]
async fn metrics_count_known_traffic_and_health_endpoints_answer() {
    let running = default_server().await;
    let client = client();
    for _ in 0..2 {
        let r = client
            .post(running.signed(TOKEN))
            .body(SAMPLE_BODY)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let r = client
        .post(running.signed("wrong-token"))
        .body(SAMPLE_BODY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = client.get(running.signed(TOKEN)).send().await.unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()["allow"], "POST");

    // The latency of an answer is observed once its last byte is written,
    // which a fast client may see before the server has: wait for it.
    let mut metrics = String::new();
    for _ in 0..100 {
        let response = client
            .get(format!("{}/metrics", running.admin))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.headers()["content-type"],
            friendgate_server::admin::OPENMETRICS
        );
        metrics = response.text().await.unwrap();
        if metrics.contains("friendgate_callback_duration_seconds_count 4") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    for line in [
        "friendgate_callbacks_total{outcome=\"ok\",error=\"none\",command=\"Sns.CallbackPrevFriendResponse\"} 2",
        "friendgate_callbacks_total{outcome=\"fail\",error=\"bad_signature\",command=\"unknown\"} 1",
        "friendgate_callbacks_total{outcome=\"fail\",error=\"method_not_allowed\",command=\"unknown\"} 1",
        "friendgate_decisions_total{rule=\"default\",decision=\"allow\",command=\"Sns.CallbackPrevFriendResponse\"} 4",
        "friendgate_callback_duration_seconds_count 4",
        "friendgate_in_flight 0",
    ] {
        assert!(metrics.contains(line), "missing `{line}` in\n{metrics}");
    }
    assert!(metrics.ends_with("# EOF\n"), "OpenMetrics text");
    for (path, answer) in [("/healthz", "ok\n"), ("/readyz", "ready\n")] {
        assert_eq!(
            common::get_admin(&running, path).await,
            (200, answer.to_owned())
        );
    }
    assert_eq!(
        common::get(&running, "/healthz").await,
        (200, "ok\n".to_owned()),
        "/healthz on both listeners"
    );
    for path in ["/metrics", "/readyz", "/nothing"] {
        assert_eq!(
            common::get(&running, path).await.0,
            404,
            "{path} is not on the callback port"
        );
    }
}

#[tokio::test]
async fn reload_swaps_a_good_file_and_keeps_the_old_policy_on_a_bad_one() {
    let dir = tempfile::tempdir().unwrap();
    let head = config_head(dir.path());
    let rule = |who: &str| {
        format!("[[rule]]\nname = \"blocked\"\nkind = \"accounts\"\naccounts = [\"{who}\"]\ncode = 38001\n")
    };
    let path = write_config(dir.path(), &(head.clone() + &rule("x")));
    let running = start(Gateway::load(&path).unwrap()).await;
    let ask = || async {
        let r = client()
            .post(running.signed(TOKEN))
            .body(common::body_x_y())
            .send()
            .await
            .unwrap();
        results(&r.text().await.unwrap())
            .into_iter()
            .map(|(code, _)| code)
            .collect::<Vec<_>>()
    };
    assert_eq!(ask().await, [38001, 0]);

    write_config(dir.path(), &(head.clone() + &rule("y")));
    running.gateway.reload().unwrap();
    assert_eq!(ask().await, [0, 38001]);

    // A bad file: refused with the file, key and reason; the old policy stays.
    write_config(
        dir.path(),
        &(head.clone()
            + "[[rule]]\nname = \"bad\"\nkind = \"accounts\"\naccounts = [\"x\"]\ncode = 37000\n"),
    );
    let error = running.gateway.reload().unwrap_err();
    assert_eq!(error.key, "rule[0].code");
    assert!(
        error
            .to_string()
            .contains("friendgate.toml: rule[0].code: result code 37000 is outside [38000, 39000]"),
        "{error}"
    );
    write_config(dir.path(), "not toml [");
    assert!(running.gateway.reload().is_err());
    assert_eq!(ask().await, [0, 38001]);

    let metrics = running.gateway.metrics().render();
    assert!(
        metrics.contains("friendgate_reloads_total{result=\"ok\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("friendgate_reloads_total{result=\"error\"} 2"),
        "{metrics}"
    );
}

#[tokio::test]
async fn oversized_bodies_are_refused_with_or_without_content_length() {
    let limits = friendgate_core::Limits {
        max_body_bytes: 1000,
        ..Default::default()
    };
    let config = Config::builder(APP)
        .token(Token::new(TOKEN).unwrap())
        .limits(limits)
        .build()
        .unwrap();
    let running = start(Gateway::new(common::settings(config))).await;

    // Declared too large: refused before reading.
    let answer = raw_exchange(&running.base, post_head(&running, 5000, "").as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        answer.contains("body is 5000 bytes, over the limit of 1000"),
        "{answer}"
    );

    // Chunked, no length: refused once the limit is passed.
    let big = "x".repeat(3000);
    let response = client()
        .post(running.signed(TOKEN))
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            vec![Ok::<_, std::io::Error>(big.clone()), Ok(big)],
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    let text = response.text().await.unwrap();
    assert!(text.contains("\"ErrorCode\":38020"), "{text}");
}

#[tokio::test]
async fn truncated_and_slow_bodies_and_the_server_stays_up() {
    let mut settings = common::settings(config());
    settings.server.request_deadline = Duration::from_millis(300);
    let running = start(Gateway::new(settings)).await;

    // Truncated: promises 400 bytes, sends 10 and closes its side.
    let addr = running.base.trim_start_matches("http://").to_owned();
    let mut stream = TcpStream::connect(&addr).await.unwrap();
    stream
        .write_all(post_head(&running, 400, "").as_bytes())
        .await
        .unwrap();
    stream.write_all(b"{\"Callback").await.unwrap();
    stream.shutdown().await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(
        answer.contains("\"ErrorCode\":38043,\"ErrorInfo\":\"body could not be read to its end"),
        "{answer}"
    );

    // Slow: the body trickles past the 300 ms deadline.
    let mut stream = partly_sent(&running, 20).await;
    let answer = read_answer(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer.contains("callback not received and answered within 300 ms"),
        "{answer}"
    );

    // Garbage instead of HTTP, then a normal callback still works.
    let _ = raw_exchange(&running.base, b"\x16\x03\x01 not http at all\r\n\r\n").await;
    assert_eq!(common::post_sample(&running).await.0, 200);
}

#[tokio::test]
async fn a_content_length_listed_twice_is_refused_not_allowed() {
    let running = default_server().await;
    let query = QueryBuilder::new(APP)
        .signed(TOKEN, running.gateway.now())
        .build();
    let n = SAMPLE_BODY.len();
    let request = format!(
        "POST /cb?{query} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {n}, {n}\r\n\r\n{SAMPLE_BODY}"
    );
    // hyper refuses the list before the routes see it.
    let answer = raw_exchange(&running.base, request.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(!answer.contains("\"ActionStatus\":\"OK\""), "{answer}");
}

#[tokio::test]
async fn callbacks_cut_off_by_the_grace_period_leave_nothing_in_flight() {
    let mut settings = common::settings(config());
    settings.server.shutdown_grace = Duration::from_millis(200);
    settings.server.request_deadline = Duration::from_secs(10);
    let running = start(Gateway::new(settings)).await;
    // A body that never finishes, so the grace period ends the connection.
    let _stream = partly_sent(&running, 100).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(running
        .gateway
        .metrics()
        .render()
        .contains("friendgate_in_flight 1\n"));
    let gateway = Arc::clone(&running.gateway);
    running.server.shutdown();
    tokio::time::timeout(Duration::from_secs(5), running.server.stopped())
        .await
        .unwrap();
    let metrics = gateway.metrics().render();
    assert!(metrics.contains("friendgate_in_flight 0\n"), "{metrics}");
}

/// Reads until the server closes the connection; how long that took.
async fn closed_after(stream: &mut TcpStream) -> Duration {
    let began = std::time::Instant::now();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => return began.elapsed(),
            Ok(Ok(_)) => {}
            Err(_) => panic!("connection still open after 5 s"),
        }
    }
}

#[tokio::test]
async fn slow_headers_and_idle_connections_are_cut_off() {
    let mut settings = common::settings(config());
    settings.server.header_timeout = Duration::from_millis(400);
    let running = start(Gateway::new(settings)).await;
    let addr = running.base.trim_start_matches("http://").to_owned();

    // Headers that never finish.
    let mut stream = TcpStream::connect(&addr).await.unwrap();
    stream
        .write_all(b"POST /cb HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let waited = closed_after(&mut stream).await;
    assert!(waited >= Duration::from_millis(350), "{waited:?}");

    // Headers trickling a byte every 50 ms (slowloris): bytes keep coming,
    // but no request does.
    let mut stream = TcpStream::connect(&addr).await.unwrap();
    let trickle = async {
        for byte in b"POST /cb HTTP/1.1\r\nHost: x\r\nX-Slow: ".iter().cycle() {
            if stream.write_all(&[*byte]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(5), trickle)
        .await
        .expect("connection cut off while trickling");

    // A kept-alive connection: answered, then closed once idle.
    let mut stream = partly_sent(&running, SAMPLE_BODY.len()).await;
    let answer = read_answer(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let waited = closed_after(&mut stream).await;
    assert!(waited >= Duration::from_millis(350), "{waited:?}");
}

#[tokio::test]
async fn a_slow_body_within_the_deadline_is_not_cut_off_by_the_header_timeout() {
    let mut settings = common::settings(config());
    settings.server.header_timeout = Duration::from_millis(200);
    settings.server.request_deadline = Duration::from_millis(1500);
    let running = start(Gateway::new(settings)).await;
    let mut stream = partly_sent(&running, 0).await;
    let body = SAMPLE_BODY.as_bytes();
    // The body takes 600 ms, three header timeouts.
    for chunk in body.chunks(body.len().div_ceil(6)) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        stream.write_all(chunk).await.unwrap();
    }
    let answer = read_answer(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"ActionStatus\":\"OK\""), "{answer}");
}

#[tokio::test]
async fn over_the_in_flight_limit_callbacks_get_503() {
    let mut settings = common::settings(config());
    settings.server.max_in_flight = 1;
    let running = start(Gateway::new(settings)).await;
    let addr = running.base.trim_start_matches("http://").to_owned();
    // Hold the only permit with a body that has not arrived yet.
    let mut held = TcpStream::connect(&addr).await.unwrap();
    held.write_all(post_head(&running, SAMPLE_BODY.len(), "").as_bytes())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let response = client()
        .post(running.signed(TOKEN))
        .body(SAMPLE_BODY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("\"ErrorCode\":38042"));
    // Finish the held one: it is answered normally and frees the permit.
    held.write_all(SAMPLE_BODY.as_bytes()).await.unwrap();
    let mut answer = vec![0u8; 4096];
    let n = held.read(&mut answer).await.unwrap();
    assert!(String::from_utf8_lossy(&answer[..n]).starts_with("HTTP/1.1 200"));
    assert_eq!(common::post_sample(&running).await.0, 200);
}

#[tokio::test]
async fn keep_alive_serves_many_callbacks_on_one_connection() {
    let running = default_server().await;
    let addr = running.base.trim_start_matches("http://").to_owned();
    let mut stream = TcpStream::connect(&addr).await.unwrap();
    for _ in 0..3 {
        stream
            .write_all(post_head(&running, SAMPLE_BODY.len(), "").as_bytes())
            .await
            .unwrap();
        stream.write_all(SAMPLE_BODY.as_bytes()).await.unwrap();
        let mut answer = vec![0u8; 4096];
        let n = stream.read(&mut answer).await.unwrap();
        let answer = String::from_utf8_lossy(&answer[..n]);
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.ends_with("\"ResultItem\":[{\"To_Account\":\"id1\",\"ResultCode\":0,\"ResultInfo\":\"\"},{\"To_Account\":\"id2\",\"ResultCode\":0,\"ResultInfo\":\"\"}]}"), "{answer}");
    }
}

#[tokio::test]
async fn tls_with_a_self_signed_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let (running, cert_pem) = common::start_tls(dir.path()).await;
    let addr = running.server.local_addr();
    let client = reqwest::Client::builder()
        .no_proxy()
        .use_rustls_tls()
        .add_root_certificate(reqwest::Certificate::from_pem(cert_pem.as_bytes()).unwrap())
        .resolve("localhost", addr)
        .build()
        .unwrap();
    let query = QueryBuilder::new(APP)
        .signed(TOKEN, running.gateway.now())
        .build();
    let url = format!("https://localhost:{}/cb?{query}", addr.port());
    let response = client.post(&url).body(SAMPLE_BODY).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response
        .text()
        .await
        .unwrap()
        .starts_with("{\"ActionStatus\":\"OK\""));
    // The certificate's notAfter is exported for the expiry alert (rcgen's
    // default validity ends on 4096-01-01).
    let metrics = running.gateway.metrics().render();
    assert!(
        metrics.contains("friendgate_tls_certificate_not_after_seconds 67090118400"),
        "{metrics}"
    );
    // Plain HTTP on the TLS port gets no answer.
    let plain = common::client()
        .post(url.replace("https://", "http://"))
        .body(SAMPLE_BODY)
        .send()
        .await;
    assert!(plain.is_err() || plain.unwrap().status() != 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_finishes_callbacks_in_flight() {
    let running = default_server().await;
    let addr = running.base.trim_start_matches("http://").to_owned();
    // Five callbacks whose bodies are half sent when shutdown begins.
    let mut streams = Vec::new();
    for _ in 0..5 {
        let stream = partly_sent(&running, 100).await;
        streams.push(stream);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    running.server.shutdown();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!running.gateway.is_ready(), "readyz turns to draining");
    // New connections are refused once the listener is closed.
    assert!(TcpStream::connect(&addr).await.is_err());
    let mut answered = 0;
    for mut stream in streams {
        stream
            .write_all(&SAMPLE_BODY.as_bytes()[100..])
            .await
            .unwrap();
        let mut answer = Vec::new();
        tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer))
            .await
            .unwrap()
            .unwrap();
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.contains("\"ActionStatus\":\"OK\""));
        answered += 1;
    }
    assert_eq!(answered, 5);
    let gateway = Arc::clone(&running.gateway);
    tokio::time::timeout(Duration::from_secs(5), running.server.stopped())
        .await
        .unwrap();
    assert_eq!(
        gateway
            .metrics()
            .render()
            .matches("outcome=\"ok\",error=\"none\",command=\"Sns.CallbackPrevFriendResponse\"} 5")
            .count(),
        1
    );
}

#[tokio::test]
async fn a_panicking_embedded_decider_gets_the_failure_policy() {
    let decider: friendgate_server::gateway::SharedDecider =
        Arc::new(friendgate_core::decider_fn(|_, index, _| {
            if index == 0 {
                panic!("bug in the embedding service");
            }
            Ok(friendgate_core::Decision::allow())
        }));
    let running = start(Gateway::new(common::settings(config())).with_decider(decider)).await;
    let (status, body) = common::post_sample(&running).await;
    assert_eq!(status, 200);
    assert_eq!(
        results(&body),
        vec![
            (38900, "decision unavailable".to_owned()),
            (0, String::new())
        ]
    );
}
