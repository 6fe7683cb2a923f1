//! The one callback URL over real HTTP: callbacks of other commands are
//! authenticated like this one, then forwarded to a real upstream on
//! 127.0.0.1 (which counts what it receives) or answered by the gateway.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::{signing_config as config, start, Running, APP, TOKEN};
use friendgate_core::testing::QueryBuilder;
use friendgate_server::settings::OtherCommands;
use friendgate_server::sources::Sources;
use friendgate_server::upstream::{Route, Upstreams};
use friendgate_server::{Gateway, Settings};
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;

const AFTER_SEND: &str = r#"{"CallbackCommand":"C2C.CallbackAfterSendMsg","From_Account":"jared","To_Account":"jonh","MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"hello"}}],"EventTime":1670574414123}"#;
const UPSTREAM_ANSWER: &str =
    r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0,"From":"upstream"}"#;

/// What the upstream received.
#[derive(Debug, Clone)]
struct Received {
    path_and_query: String,
    content_type: Option<String>,
    forwarded_for: Option<String>,
    body: Bytes,
}

/// A real upstream on 127.0.0.1 that records requests and counts
/// connections, answering after `delay` with status 201 (so that passing the
/// status on shows).
struct Upstream {
    addr: SocketAddr,
    connections: Arc<AtomicUsize>,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Upstream {
    async fn start(delay: Duration) -> Self {
        Self::start_with(delay, None).await
    }

    /// The upstream over TLS with `config`.
    async fn start_with(delay: Duration, tls: Option<tokio_rustls::TlsAcceptor>) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let connections = Arc::new(AtomicUsize::new(0));
        let received = Arc::new(Mutex::new(Vec::new()));
        let (count, log) = (connections.clone(), received.clone());
        tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                count.fetch_add(1, Ordering::SeqCst);
                let log = log.clone();
                let tls = tls.clone();
                tokio::spawn(async move {
                    let service =
                        service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                            let log = log.clone();
                            async move {
                                let header = |name: &str| {
                                    request
                                        .headers()
                                        .get(name)
                                        .map(|v| v.to_str().unwrap().to_owned())
                                };
                                let path_and_query = request.uri().to_string();
                                let content_type = header("content-type");
                                let forwarded_for = header("x-forwarded-for");
                                let body = request.into_body().collect().await.unwrap().to_bytes();
                                log.lock().unwrap().push(Received {
                                    path_and_query,
                                    content_type,
                                    forwarded_for,
                                    body,
                                });
                                tokio::time::sleep(delay).await;
                                let response = hyper::Response::builder()
                                    .status(201)
                                    .header("content-type", "application/json; charset=utf-8")
                                    .body(Full::new(Bytes::from_static(UPSTREAM_ANSWER.as_bytes())))
                                    .unwrap();
                                Ok::<_, Infallible>(response)
                            }
                        });
                    let http = hyper::server::conn::http1::Builder::new();
                    match tls {
                        None => {
                            let _ = http.serve_connection(TokioIo::new(tcp), service).await;
                        }
                        Some(acceptor) => {
                            let Ok(stream) = acceptor.accept(tcp).await else {
                                return;
                            };
                            let _ = http.serve_connection(TokioIo::new(stream), service).await;
                        }
                    }
                });
            }
        });
        Self {
            addr,
            connections,
            received,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

fn upstreams(routes: &[(&str, String)]) -> Upstreams {
    Upstreams {
        routes: routes
            .iter()
            .map(|(command, url)| Route {
                command: (*command).to_owned(),
                url: url.parse().unwrap(),
            })
            .collect(),
        ..Upstreams::default()
    }
}

fn with_upstreams(routes: &[(&str, String)]) -> Settings {
    let mut settings = common::settings(config());
    settings.upstreams = upstreams(routes);
    settings
}

fn signed_query(running: &Running, command: &str) -> String {
    QueryBuilder::new(APP)
        .signed(TOKEN, running.gateway.now())
        .build()
        .replace("Sns.CallbackPrevFriendResponse", command)
}

async fn post(url: &str, body: &'static str) -> (u16, Option<String>, String) {
    let response = common::client()
        .post(url)
        .header("content-type", "application/json")
        .header("x-forwarded-for", "198.51.100.1")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, content_type, response.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_commands_are_forwarded_byte_for_byte_and_answered_as_the_upstream_said() {
    let upstream = Upstream::start(Duration::ZERO).await;
    let running = start(Gateway::new(with_upstreams(&[(
        "*",
        upstream.url("/im/callbacks"),
    )])))
    .await;
    let query = signed_query(&running, "C2C.CallbackAfterSendMsg");
    let (status, content_type, body) = post(&running.callback(&query), AFTER_SEND).await;
    assert_eq!(status, 201);
    assert_eq!(
        content_type.as_deref(),
        Some("application/json; charset=utf-8")
    );
    assert_eq!(body, UPSTREAM_ANSWER);
    let [received] = upstream.received().try_into().unwrap();
    assert_eq!(received.path_and_query, format!("/im/callbacks?{query}"));
    assert_eq!(received.content_type.as_deref(), Some("application/json"));
    assert_eq!(received.body, AFTER_SEND.as_bytes());
    assert_eq!(
        received.forwarded_for.as_deref(),
        Some("198.51.100.1, 127.0.0.1")
    );
    // Friend responses are still decided by friendgate, never forwarded.
    let (status, _, body) = post(
        &running.signed(TOKEN),
        friendgate_core::testing::SAMPLE_BODY,
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        body.contains(r#""ResultItem":[{"To_Account":"id1""#),
        "{body}"
    );
    assert_eq!(upstream.received().len(), 1);
    let (_, metrics) = common::get_admin(&running, "/metrics").await;
    assert!(
        metrics.contains(r#"friendgate_other_commands_total{command="C2C.CallbackAfterSendMsg",upstream="*",status="201",error="none"} 1"#),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_stale_and_foreign_callbacks_never_reach_the_upstream() {
    let upstream = Upstream::start(Duration::ZERO).await;
    let running = start(Gateway::new(with_upstreams(&[("*", upstream.url("/"))]))).await;
    let now = running.gateway.now();
    let command =
        |query: String| query.replace("Sns.CallbackPrevFriendResponse", "State.StateChange");
    let forged = command(QueryBuilder::new(APP).signed("not-the-token", now).build());
    let stale = command(QueryBuilder::new(APP).signed(TOKEN, now - 3600).build());
    let foreign = command(QueryBuilder::new(APP + 1).signed(TOKEN, now).build());
    let unsigned = command(QueryBuilder::new(APP).build());
    for (query, code) in [
        (forged, "38012"),
        (stale, "38013"),
        (foreign, "38010"),
        (unsigned, "38011"),
    ] {
        let (status, _, body) = post(&running.callback(&query), AFTER_SEND).await;
        assert_ne!(status, 200, "{body}");
        assert!(body.contains(&format!(r#""ErrorCode":{code}"#)), "{body}");
    }
    assert!(upstream.received().is_empty(), "{:?}", upstream.received());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_upstream_gets_a_fail_answer_within_the_deadline() {
    let upstream = Upstream::start(Duration::from_secs(5)).await;
    let mut settings = with_upstreams(&[("*", upstream.url("/"))]);
    settings.upstreams.timeout = Duration::from_millis(300);
    let running = start(Gateway::new(settings)).await;
    let started = Instant::now();
    let (status, _, body) = post(
        &running.callback(&signed_query(&running, "State.StateChange")),
        AFTER_SEND,
    )
    .await;
    let elapsed = started.elapsed();
    assert_eq!(status, 504, "{body}");
    assert!(
        body.starts_with(r#"{"ActionStatus":"FAIL","ErrorCode":38045,"#),
        "{body}"
    );
    assert!(elapsed < Duration::from_millis(1500), "{elapsed:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upstream_that_is_down_gets_a_fail_answer_at_once() {
    // A port that was just free: nothing listens there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let running = start(Gateway::new(with_upstreams(&[(
        "*",
        format!("http://{closed}/"),
    )])))
    .await;
    let started = Instant::now();
    let (status, _, body) = post(
        &running.callback(&signed_query(&running, "State.StateChange")),
        AFTER_SEND,
    )
    .await;
    assert_eq!(status, 502, "{body}");
    assert!(
        body.starts_with(r#"{"ActionStatus":"FAIL","ErrorCode":38046,"#),
        "{body}"
    );
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_callbacks_reuse_few_upstream_connections() {
    let upstream = Upstream::start(Duration::ZERO).await;
    let running = start(Gateway::new(with_upstreams(&[("*", upstream.url("/"))]))).await;
    for _ in 0..50 {
        let (status, _, _) = post(
            &running.callback(&signed_query(&running, "C2C.CallbackAfterSendMsg")),
            AFTER_SEND,
        )
        .await;
        assert_eq!(status, 201);
    }
    assert_eq!(upstream.received().len(), 50);
    let connections = upstream.connections.load(Ordering::SeqCst);
    assert!(
        connections <= 2,
        "{connections} upstream connections for 50 callbacks"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_are_routed_by_name_and_prefix() {
    let c2c = Upstream::start(Duration::ZERO).await;
    let group = Upstream::start(Duration::ZERO).await;
    let rest = Upstream::start(Duration::ZERO).await;
    let running = start(Gateway::new(with_upstreams(&[
        ("C2C.*", c2c.url("/c2c")),
        ("Group.CallbackAfterNewMemberJoin", group.url("/join")),
        ("*", rest.url("/rest")),
    ])))
    .await;
    for command in [
        "C2C.CallbackAfterSendMsg",
        "C2C.CallbackBeforeSendMsg",
        "Group.CallbackAfterNewMemberJoin",
        "Group.CallbackAfterMemberExit",
        "State.StateChange",
    ] {
        let (status, _, _) = post(
            &running.callback(&signed_query(&running, command)),
            AFTER_SEND,
        )
        .await;
        assert_eq!(status, 201, "{command}");
    }
    let commands = |upstream: &Upstream| -> Vec<String> {
        upstream
            .received()
            .iter()
            .map(|r| {
                r.path_and_query
                    .split("CallbackCommand=")
                    .nth(1)
                    .unwrap()
                    .split('&')
                    .next()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    };
    assert_eq!(
        commands(&c2c),
        ["C2C.CallbackAfterSendMsg", "C2C.CallbackBeforeSendMsg"]
    );
    assert_eq!(commands(&group), ["Group.CallbackAfterNewMemberJoin"]);
    assert_eq!(
        commands(&rest),
        ["Group.CallbackAfterMemberExit", "State.StateChange"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_upstream_other_commands_get_the_processed_answer_or_the_refusal() {
    let running = start(Gateway::new(common::settings(config()))).await;
    let url = running.callback(&signed_query(&running, "Group.CallbackAfterNewMemberJoin"));
    let (status, content_type, body) = post(&url, AFTER_SEND).await;
    assert_eq!(status, 200);
    assert_eq!(content_type.as_deref(), Some("application/json"));
    assert_eq!(
        body,
        r#"{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":""}"#
    );
    let mut settings = common::settings(config());
    settings.other_commands = OtherCommands::Refuse;
    let refusing = start(Gateway::new(settings)).await;
    let url = refusing.callback(&signed_query(&refusing, "Group.CallbackAfterNewMemberJoin"));
    let (status, _, body) = post(&url, AFTER_SEND).await;
    assert_eq!(status, 400);
    assert!(body.contains(r#""ErrorCode":38005"#), "{body}");
}

fn sources(allow: &[&str], trusted: &[&str]) -> Sources {
    let dir = tempfile::tempdir().unwrap();
    let list = |items: &[&str]| {
        items
            .iter()
            .map(|s| format!("\"{s}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let text = format!(
        "{}[sources]\nallow = [{}]\ntrusted_proxies = [{}]\n",
        common::config_head(dir.path()),
        list(allow),
        list(trusted)
    );
    let path = common::write_config(dir.path(), &text);
    Settings::load(&path).unwrap().sources
}

async fn post_from(running: &Running, forwarded_for: Option<&str>) -> (u16, String) {
    let mut request = common::client()
        .post(running.signed(TOKEN))
        .body(friendgate_core::testing::SAMPLE_BODY);
    if let Some(value) = forwarded_for {
        request = request.header("x-forwarded-for", value);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_source_allowlist_with_and_without_a_trusted_proxy() {
    let with = |allow: &[&str], trusted: &[&str]| {
        let mut settings = common::settings(config());
        settings.sources = sources(allow, trusted);
        settings
    };
    // Direct: the peer (127.0.0.1) is the source; its header is not believed.
    let outside = start(Gateway::new(with(&["10.0.0.0/8"], &[]))).await;
    let (status, body) = post_from(&outside, Some("10.1.2.3")).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains(r#""ErrorCode":38044"#), "{body}");
    let inside = start(Gateway::new(with(&["127.0.0.0/8"], &[]))).await;
    assert_eq!(post_from(&inside, None).await.0, 200);
    // Behind a trusted proxy (127.0.0.1), the client it names is the source.
    let proxied = start(Gateway::new(with(&["10.0.0.0/8"], &["127.0.0.1"]))).await;
    assert_eq!(post_from(&proxied, Some("10.1.2.3")).await.0, 200);
    assert_eq!(
        post_from(&proxied, Some("10.1.2.3, 203.0.113.9")).await.0,
        403
    );
    assert_eq!(post_from(&proxied, None).await.0, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_upstreams_with_an_internal_ca() {
    use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert: CertificateDer<'static> = certified.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = tokio_rustls::rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let upstream = Upstream::start_with(Duration::ZERO, Some(acceptor)).await;
    let url = format!("https://localhost:{}/secure", upstream.addr.port());
    // Without the CA, the upstream's certificate is not trusted.
    let untrusted = start(Gateway::new(with_upstreams(&[("*", url.clone())]))).await;
    let (status, _, body) = post(
        &untrusted.callback(&signed_query(&untrusted, "State.StateChange")),
        AFTER_SEND,
    )
    .await;
    assert_eq!(status, 502, "{body}");
    assert!(body.contains("38046"), "{body}");
    let mut settings = with_upstreams(&[("*", url)]);
    settings.upstreams.extra_roots = vec![cert];
    let trusted = start(Gateway::new(settings)).await;
    let (status, _, body) = post(
        &trusted.callback(&signed_query(&trusted, "State.StateChange")),
        AFTER_SEND,
    )
    .await;
    assert_eq!((status, body.as_str()), (201, UPSTREAM_ANSWER));
    assert_eq!(upstream.received().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_upstream_cannot_take_every_slot_from_friend_responses() {
    let upstream = Upstream::start(Duration::from_secs(5)).await;
    let mut settings = with_upstreams(&[("*", upstream.url("/"))]);
    settings.server.max_in_flight = 4;
    settings.upstreams.timeout = Duration::from_millis(1000);
    let running = start(Gateway::new(settings)).await;
    // More stalled forwards than there are slots.
    let mut stalled = Vec::new();
    for _ in 0..6 {
        let url = running.callback(&signed_query(&running, "C2C.CallbackAfterSendMsg"));
        stalled.push(tokio::spawn(async move { post(&url, AFTER_SEND).await }));
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    // A genuine friend response still gets its answer.
    let (status, _, body) = post(
        &running.signed(TOKEN),
        friendgate_core::testing::SAMPLE_BODY,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let mut statuses = Vec::new();
    for forward in stalled {
        statuses.push(forward.await.unwrap().0);
    }
    statuses.sort_unstable();
    // The forwards past their share are answered 503 at once; the rest time out.
    assert!(
        statuses.contains(&503) && statuses.contains(&504),
        "{statuses:?}"
    );
}

/// Sends `body` to `url` with each of `forwarded_for` as its own
/// `X-Forwarded-For` line (as a proxy that adds a line rather than extends
/// the one the client sent); the status.
async fn post_with_lines(url: &str, forwarded_for: &[&str], body: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url.split_once("://").unwrap().1;
    let (host, path) = rest.split_at(rest.find('/').unwrap());
    let mut request = format!("POST {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for line in forwarded_for {
        request.push_str(&format!("X-Forwarded-For: {line}\r\n"));
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    let mut tcp = tokio::net::TcpStream::connect(host).await.unwrap();
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    tcp.read_to_string(&mut answer).await.unwrap();
    answer[9..12].parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_x_forwarded_for_line_counts_in_order() {
    let upstream = Upstream::start(Duration::ZERO).await;
    let mut settings = with_upstreams(&[("*", upstream.url("/im"))]);
    settings.sources = sources(&["203.0.113.0/24"], &["127.0.0.1"]);
    let running = start(Gateway::new(settings)).await;
    let friend = running.signed(TOKEN);
    let sample = friendgate_core::testing::SAMPLE_BODY;
    // The client's own line names an allowed address; the trusted proxy's
    // line, after it, names the client: refused.
    assert_eq!(
        post_with_lines(&friend, &["203.0.113.7", "198.51.100.9"], sample).await,
        403
    );
    assert_eq!(
        post_with_lines(&friend, &["203.0.113.7", "198.51.100.9, 10.0.0.1"], sample).await,
        403
    );
    // The proxy's line names an allowed client: admitted, whatever the
    // client wrote before it.
    assert_eq!(
        post_with_lines(&friend, &["198.51.100.9", "203.0.113.7"], sample).await,
        200
    );
    // The upstream gets every line, in order, as one list, the peer appended.
    let other = running.callback(&signed_query(&running, "State.StateChange"));
    assert_eq!(
        post_with_lines(&other, &["198.51.100.9", "203.0.113.7"], AFTER_SEND).await,
        201
    );
    assert_eq!(
        upstream.received()[0].forwarded_for.as_deref(),
        Some("198.51.100.9, 203.0.113.7, 127.0.0.1")
    );
}
