//! `friendgate conform` (the real binary) against endpoints on 127.0.0.1:
//! the gateway passes everything strictly; endpoints with the usual
//! mistakes fail exactly the cases that show them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::process::Output;
use std::time::Duration;

use bytes::Bytes;
use common::{signing_config as config, start, APP, TOKEN};
use friendgate_core::testing::vectors::{load_dir, vectors_dir};
use friendgate_core::Config;
use friendgate_server::Gateway;
use serde_json::Value;
use warp::Filter;

async fn conform(args: &[&str]) -> (Output, String, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_friendgate"))
        .arg("conform")
        .args(args)
        .env("CONFORM_TOKEN", TOKEN)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out, stdout, stderr)
}

/// `conform` against `url` for the test app, signed with the test token.
async fn conform_signed(url: &str, extra: &[&str]) -> (Output, String, String) {
    let app = APP.to_string();
    let head = [
        "--url",
        url,
        "--app-id",
        &app,
        "--token-env",
        "CONFORM_TOKEN",
    ];
    conform(&[&head[..], extra].concat()).await
}

fn read_report(path: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn case<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|case| case["name"] == name)
        .unwrap_or_else(|| panic!("no case {name}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_gateway_passes_every_case_strictly() {
    let running = start(Gateway::new(common::settings(config()))).await;
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("report.json");
    let url = format!("{}/cb", running.base);
    let (out, stdout, stderr) =
        conform_signed(&url, &["--strict", "--json", json.to_str().unwrap()]).await;
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("PASS: "), "{stdout}");
    assert!(stdout.contains("│ transport"), "the family table: {stdout}");
    let report = read_report(&json);
    assert_eq!(report["passed"], true);
    assert_eq!(report["strict"], true);
    assert_eq!(report["summary"]["failed"], 0);
    // Every vector is a case, plus the generated ones; the only skip is the
    // vector that needs authentication off.
    let vectors = load_dir(&vectors_dir()).unwrap();
    let cases = report["cases"].as_array().unwrap();
    assert!(cases.len() >= vectors.len() + 10);
    for vector in &vectors {
        assert!(
            cases.iter().any(|c| c["name"] == vector.name.as_str()),
            "{}",
            vector.name
        );
    }
    let skipped: Vec<&str> = cases
        .iter()
        .filter(|c| c["result"] == "skip")
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(skipped, ["no_tokens_ignores_sign"]);
    assert_eq!(
        case(&report, "hostile_sign_forged")["got"],
        "401 FAIL 38012"
    );
    assert_eq!(report["families"]["transport"]["passed"], 2);
    // Both friend commands, a report line each; friend requests include
    // the generated hostile ones.
    for command in [
        "Sns.CallbackPrevFriendResponse",
        "Sns.CallbackPrevFriendAdd",
    ] {
        assert!(
            report["commands"][command]["passed"].as_u64().unwrap() >= 50,
            "{command}"
        );
        assert!(stdout.contains(&format!("{command}: ")), "{stdout}");
    }
    assert_eq!(
        case(&report, "hostile_add_sign_forged")["got"],
        "401 FAIL 38012"
    );
    assert_eq!(case(&report, "hostile_add_wording_huge")["result"], "pass");
    assert_eq!(
        case(&report, "hostile_add_items_too_many")["result"],
        "pass"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_gateway_passes_one_url_strictly() {
    let running = start(Gateway::new(common::settings(config()))).await;
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("report.json");
    let url = format!("{}/cb", running.base);
    let (out, stdout, stderr) = conform_signed(
        &url,
        &["--strict", "--one-url", "--json", json.to_str().unwrap()],
    )
    .await;
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let report = read_report(&json);
    // Three other commands, each four ways, and a friend request decided.
    assert_eq!(report["families"]["one_url"]["passed"], 13, "{stdout}");
    assert_eq!(
        case(&report, "one_url_friend_request_decided")["got"],
        "200 OK [0, 0]"
    );
    assert_eq!(
        case(&report, "one_url_c2c_callbackaftersendmsg")["got"],
        "200 OK (no ResultItem)"
    );
    assert_eq!(
        case(&report, "one_url_state_statechange_forged")["got"],
        "401 FAIL 38012"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_endpoint_that_refuses_other_commands_fails_one_url() {
    let mut settings = common::settings(config());
    settings.other_commands = friendgate_server::settings::OtherCommands::Refuse;
    let running = start(Gateway::new(settings)).await;
    let url = format!("{}/cb", running.base);
    let (out, stdout, _) = conform_signed(&url, &["--one-url", "--only", "one_url"]).await;
    assert!(!out.status.success(), "{stdout}");
    assert!(
        stdout.contains("refusing one breaks that callback"),
        "{stdout}"
    );
    // Without --one-url, refusing them is an endpoint's right.
    let (out, stdout, _) = conform_signed(&url, &["--only", "sibling"]).await;
    assert!(out.status.success(), "{stdout}");
}

#[tokio::test(flavor = "multi_thread")]
async fn unsigned_runs_skip_authentication_and_say_so() {
    let running = start(Gateway::new(common::settings(
        Config::builder(APP).build().unwrap(),
    )))
    .await;
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("report.json");
    let url = format!("{}/cb", running.base);
    let (out, stdout, _) = conform(&[
        "--url",
        &url,
        "--app-id",
        &APP.to_string(),
        "--json",
        json.to_str().unwrap(),
    ])
    .await;
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("the endpoint's authentication was not checked"));
    let report = read_report(&json);
    assert_eq!(report["signed"], false);
    let forged = case(&report, "hostile_sign_forged");
    assert_eq!(forged["result"], "skip");
    assert!(forged["reason"]
        .as_str()
        .unwrap()
        .contains("no token given"));
    assert!(report["families"]["sign"]["skipped"].as_u64().unwrap() >= 10);
}

/// Serves `reply` for every request on 127.0.0.1; returns its callback URL.
async fn serve<F, R>(reply: F) -> String
where
    F: Fn(Bytes) -> R + Clone + Send + Sync + 'static,
    R: warp::Reply + 'static,
{
    let route = warp::any()
        .and(warp::body::bytes())
        .map(move |body: Bytes| reply(body));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        warp::serve(route).incoming(listener).run().await;
    });
    format!("http://{addr}/callback")
}

/// What many hand-written endpoints do: no Sign check, loose parsing, and
/// "allow" for every `To_Account` found (or for nothing, when there is none).
fn careless(body: &Bytes) -> String {
    let accounts: Vec<Value> = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|json| json.get("ResponseFriendItem").cloned())
        .and_then(|items| items.as_array().cloned())
        .unwrap_or_default()
        .iter()
        .map(|item| serde_json::json!({"To_Account": item.get("To_Account").cloned().unwrap_or(Value::Null), "ResultCode": 0, "ResultInfo": ""}))
        .collect();
    serde_json::json!({"ActionStatus": "OK", "ErrorCode": 0, "ErrorInfo": "", "ResultItem": accounts}).to_string()
}

/// The `class` of every `<tr>` of an HTML report, parsed as XML (the
/// report is well-formed, so a strict parser must take all of it).
fn html_rows(path: &std::path::Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut reader = quick_xml::Reader::from_str(&text);
    let mut rows = Vec::new();
    loop {
        match reader.read_event().unwrap() {
            quick_xml::events::Event::Start(tag) if tag.name().as_ref() == b"tr" => {
                let class = tag
                    .try_get_attribute("class")
                    .unwrap()
                    .map(|a| String::from_utf8(a.value.to_vec()).unwrap())
                    .unwrap_or_default();
                rows.push(class);
            }
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    rows
}

#[tokio::test(flavor = "multi_thread")]
async fn a_careless_endpoint_fails_the_hostile_cases() {
    let url = serve(|body: Bytes| careless(&body)).await;
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("report.json");
    let html = dir.path().join("report.html");
    let (out, stdout, _) = conform_signed(
        &url,
        &[
            "--json",
            json.to_str().unwrap(),
            "--html",
            html.to_str().unwrap(),
            "--failures-only",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("FAIL: "), "{stdout}");
    assert!(
        !stdout.contains("│ page_sample_signed"),
        "--failures-only lists failures only"
    );
    let report = read_report(&json);
    assert_eq!(report["passed"], false);
    // Security: a forged, stale, future or missing Sign, or a foreign app
    // id, answered OK fails.
    for name in [
        "hostile_sign_forged",
        "hostile_sign_stale",
        "hostile_sign_future",
        "hostile_foreign_app_id",
        "sign_missing",
    ] {
        let case = case(&report, name);
        assert_eq!(case["result"], "fail", "{name}");
        assert!(
            case["reason"]
                .as_str()
                .unwrap()
                .contains("allowed a request the platform never sends"),
            "{name}: {case}"
        );
        assert_eq!(
            case["rule"],
            "docs/protocol.md#what-the-platform-sends-and-expects"
        );
    }
    // friendgate's hardenings the protocol is silent on only warn, each
    // with its risk and the line it rests on.
    for (name, risk) in [
        ("hostile_body_oversized", "unbounded memory or time"),
        ("hostile_items_too_many", "unbounded memory or time"),
        ("body_invalid_utf8", "no To_Account to answer for"),
        ("body_truncated", "no To_Account to answer for"),
        ("transport_get", "not a callback"),
    ] {
        let case = case(&report, name);
        assert_eq!(case["result"], "warn", "{name}: {case}");
        assert!(
            case["reason"].as_str().unwrap().contains(risk),
            "{name}: {case}"
        );
        assert_eq!(
            case["rule"],
            "docs/protocol.md#refusals-of-authenticated-callbacks-and-why-each-stays"
        );
    }
    assert!(report["summary"]["warned"].as_u64().unwrap() >= 5);
    // The HTML report parses, and holds every case with its verdict and
    // its request and answer.
    let rows = html_rows(&html);
    let cases = report["cases"].as_array().unwrap();
    let case_rows: Vec<&String> = rows.iter().filter(|c| c.starts_with("case ")).collect();
    assert_eq!(case_rows.len(), cases.len());
    for (row, case) in case_rows.iter().zip(cases) {
        assert_eq!(**row, format!("case {}", case["result"].as_str().unwrap()));
    }
    assert!(rows.iter().filter(|c| *c == "exchange").count() >= cases.len() - 5);
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("hostile_sign_forged"));
    assert!(
        page.contains("&quot;ActionStatus&quot;"),
        "bodies are escaped"
    );
    assert!(
        stdout.contains("warn: answered OK where friendgate refuses"),
        "{stdout}"
    );
    // Valid callbacks it answers well.
    assert_eq!(case(&report, "page_sample_signed")["result"], "pass");
    assert_eq!(case(&report, "transport_keep_alive")["result"], "pass");
}

#[tokio::test(flavor = "multi_thread")]
async fn dropped_items_fail_answers_and_closed_connections_fail_keep_alive() {
    // Answers two items at most, and closes every connection.
    let url = serve(|body: Bytes| {
        let mut answer: Value = serde_json::from_str(&careless(&body)).unwrap();
        if let Some(items) = answer["ResultItem"].as_array_mut() {
            items.truncate(2);
        }
        warp::reply::with_header(answer.to_string(), "connection", "close")
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("report.json");
    let (out, _, _) = conform_signed(&url, &["--json", json.to_str().unwrap()]).await;
    assert_eq!(out.status.code(), Some(1));
    let report = read_report(&json);
    let many = case(&report, "items_many");
    assert_eq!(many["result"], "fail");
    assert!(
        many["reason"]
            .as_str()
            .unwrap()
            .contains("2 ResultItem(s) for 100 item(s)"),
        "{many}"
    );
    assert_eq!(case(&report, "page_sample_signed")["result"], "pass");
    assert_eq!(case(&report, "items_empty")["result"], "pass");
    let keep_alive = case(&report, "transport_keep_alive");
    assert!(
        keep_alive["reason"]
            .as_str()
            .unwrap()
            .contains("closed the connection after 1 callback"),
        "{keep_alive}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn slow_and_hanging_endpoints_fail() {
    let slow = {
        let route = warp::any()
            .and(warp::body::bytes())
            .and_then(|body: Bytes| async move {
                tokio::time::sleep(Duration::from_millis(300)).await;
                Ok::<_, Infallible>(careless(&body))
            });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { warp::serve(route).incoming(listener).run().await });
        format!("http://{addr}/cb")
    };
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("report.json");
    let run = |budget: &'static str, timeout: &'static str| {
        let slow = slow.clone();
        let json = json.clone();
        async move {
            conform_signed(
                &slow,
                &[
                    "--only",
                    "page_sample_signed",
                    "--latency-budget-ms",
                    budget,
                    "--timeout-ms",
                    timeout,
                    "--json",
                    json.to_str().unwrap(),
                ],
            )
            .await
        }
    };
    let (out, stdout, _) = run("100", "5000").await;
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let reason = case(&read_report(&json), "page_sample_signed")["reason"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(reason.contains("over the 100 ms budget"), "{reason}");
    let (out, _, _) = run("1000", "100").await;
    assert_eq!(out.status.code(), Some(1));
    let report = read_report(&json);
    assert_eq!(
        case(&report, "page_sample_signed")["got"],
        "no answer in 100 ms"
    );
    let (out, _, _) = run("1000", "5000").await;
    assert!(out.status.success());
}

#[tokio::test(flavor = "multi_thread")]
async fn https_endpoints_with_a_private_authority() {
    let dir = tempfile::tempdir().unwrap();
    let (running, _) = common::start_tls(dir.path()).await;
    let url = format!(
        "https://localhost:{}/cb",
        running.server.local_addr().port()
    );
    let cert = dir.path().join("cert.pem");
    let ca = ["--only", "page_sample", "--ca-cert", cert.to_str().unwrap()];
    let (out, stdout, _) = conform_signed(&url, &ca).await;
    assert!(out.status.success(), "{stdout}");
    // Without the authority the certificate is not trusted: no answer.
    let (out, stdout, _) = conform_signed(&url, &ca[..2]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout.contains("TLS handshake failed"), "{stdout}");
}

/// A gateway over TLS with an openssl-style certificate: its directory
/// (holding `cert.pem`), the server, and the callback URL on `localhost`.
async fn openssl_style_tls() -> (tempfile::TempDir, common::Running, String) {
    let dir = tempfile::tempdir().unwrap();
    let running = common::start_tls_like_openssl(dir.path()).await;
    let url = format!(
        "https://localhost:{}/cb",
        running.server.local_addr().port()
    );
    (dir, running, url)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_self_signed_certificate_as_openssl_makes_it_is_trusted_as_itself() {
    let (dir, _running, url) = openssl_style_tls().await;
    let cert = dir.path().join("cert.pem");
    let json = dir.path().join("report.json");
    let args = [
        "--only",
        "page_sample",
        "--ca-cert",
        cert.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ];
    let (out, stdout, stderr) = conform_signed(&url, &args).await;
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert_eq!(read_report(&json)["insecure"], false);
    // --insecure skips verification, and says so.
    let (out, stdout, stderr) = conform_signed(
        &url,
        &[
            "--only",
            "page_sample",
            "--insecure",
            "--json",
            json.to_str().unwrap(),
        ],
    )
    .await;
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("certificate not verified (--insecure)"),
        "{stdout}"
    );
    assert_eq!(read_report(&json)["insecure"], true);
    // Another certificate is still refused.
    let other = tempfile::tempdir().unwrap();
    let _ = common::start_tls_like_openssl(other.path()).await;
    let other_cert = other.path().join("cert.pem");
    let args = [
        "--only",
        "page_sample",
        "--ca-cert",
        other_cert.to_str().unwrap(),
    ];
    let (out, stdout, _) = conform_signed(&url, &args).await;
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("TLS handshake failed"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread")]
async fn load_reports_percentiles_and_stays_on_loopback() {
    let running = start(Gateway::new(common::settings(config()))).await;
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("load.json");
    let url = format!("{}/cb", running.base);
    let (out, stdout, stderr) = conform_signed(
        &url,
        &[
            "--load",
            "--rate",
            "200",
            "--duration",
            "1",
            "--json",
            json.to_str().unwrap(),
        ],
    )
    .await;
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("latency (ms): p50"), "{stdout}");
    let report = read_report(&json);
    assert_eq!(report["sent"], 200);
    assert_eq!(report["ok"], 200);
    assert_eq!(report["errors"].as_array().unwrap().len(), 0);
    let p = &report["latency_ms"];
    assert!(
        p["p50"].as_f64().unwrap() > 0.0
            && p["p50"].as_f64().unwrap() <= p["p99"].as_f64().unwrap()
    );
    assert!(p["p99"].as_f64().unwrap() <= p["max"].as_f64().unwrap());

    // Unsigned load against a signing gateway: every callback is an error.
    let (out, stdout, _) = conform(&[
        "--url",
        &url,
        "--app-id",
        &APP.to_string(),
        "--load",
        "--rate",
        "50",
        "--duration",
        "1",
    ])
    .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout.contains("error ×50: 401 FAIL 38011"), "{stdout}");

    // TEST-NET-1 is outside the loopback range: refused before connecting.
    let started = std::time::Instant::now();
    let (out, _, stderr) = conform(&[
        "--url",
        "http://192.0.2.1:8080/cb",
        "--app-id",
        "1",
        "--load",
        "--rate",
        "10",
        "--duration",
        "1",
    ])
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr.contains("outside the loopback range") && stderr.contains("--allow-remote"),
        "{stderr}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test(flavor = "multi_thread")]
async fn load_counts_the_backlog_of_a_slow_endpoint() {
    // 50 ms a callback on one connection serves 20 a second; 100 are due
    // within the first second, so the last waits about 5 s from its
    // scheduled time. Timing each from when it was sent would show 50 ms.
    let route = warp::any()
        .and(warp::body::bytes())
        .and_then(|body: Bytes| async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            Ok::<_, Infallible>(careless(&body))
        });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { warp::serve(route).incoming(listener).run().await });
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("load.json");
    let url = format!("http://{addr}/cb");
    let load = [
        "--load",
        "--rate",
        "100",
        "--duration",
        "1",
        "--connections",
        "1",
    ];
    let (out, stdout, _) = conform_signed(
        &url,
        &[&load[..], &["--json", json.to_str().unwrap()]].concat(),
    )
    .await;
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let report = read_report(&json);
    assert_eq!(report["sent"], 100);
    assert!(report["over_deadline"].as_u64().unwrap() > 30, "{report}");
    assert!(
        report["latency_ms"]["max"].as_f64().unwrap() > 3500.0,
        "{report}"
    );
    assert!(
        report["latency_ms"]["p50"].as_f64().unwrap() > 1000.0,
        "{report}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn usage_errors_exit_2_and_say_why() {
    for (args, says) in [
        (
            vec!["--url", "ftp://x/cb", "--app-id", "1"],
            "give an http:// or https:// URL",
        ),
        (
            vec![
                "--url",
                "http://127.0.0.1:1/cb",
                "--app-id",
                "1",
                "--token-env",
                "FRIENDGATE_UNSET_VAR",
            ],
            "FRIENDGATE_UNSET_VAR is not set",
        ),
        (
            vec![
                "--url",
                "http://127.0.0.1:1/cb",
                "--app-id",
                "1",
                "--skip",
                "nosuch",
            ],
            "no such family (families: actions, body",
        ),
        (
            vec![
                "--url",
                "http://127.0.0.1:1/cb",
                "--app-id",
                "1",
                "--only",
                "no_such_case",
            ],
            "--only matches no case",
        ),
        (
            vec!["--url", "http://127.0.0.1:1/cb", "--app-id", "1", "--load"],
            "--rate",
        ),
        (
            vec![
                "--url",
                "http://127.0.0.1:1/cb",
                "--app-id",
                "1",
                "--load",
                "--rate",
                "0",
                "--duration",
                "1",
            ],
            "0 is not in 1..=200000",
        ),
    ] {
        let (out, _, stderr) = conform(&args).await;
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
}

/// The lenient standard-library endpoint (tests/conform/lenient_endpoint.py)
/// on a free port, broken as `mode` says ("" for not at all).
fn lenient_endpoint(mode: &str) -> (common::process::KillOnDrop, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/conform/lenient_endpoint.py");
    let child = std::process::Command::new("python3")
        .arg(script)
        .arg(port.to_string())
        .env("FRIENDGATE_TOKEN", TOKEN)
        .env("BREAK", mode)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("python3 runs the lenient endpoint");
    (
        common::process::KillOnDrop(child),
        format!("http://127.0.0.1:{port}/callback"),
    )
}

/// A signed run against `url` that passes with no failure: its JSON report
/// and what it printed.
async fn passes_with_no_failure(url: &str) -> (Value, String) {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("report.json");
    let args = ["--wait", "10", "--json", json.to_str().unwrap()];
    let (out, stdout, stderr) = conform_signed(url, &args).await;
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let report = read_report(&json);
    assert_eq!(report["summary"]["failed"], 0, "{stdout}");
    (report, stdout)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lenient_hand_written_endpoint_passes_with_warnings() {
    let (_endpoint, url) = lenient_endpoint("");
    let (report, stdout) = passes_with_no_failure(&url).await;
    assert!(
        report["summary"]["warned"].as_u64().unwrap() >= 5,
        "{stdout}"
    );
    // Where only friendgate's choices decide: warnings, not failures.
    for name in [
        "body_event_time_negative",
        "body_depth_past_limit",
        "query_duplicate_sign",
        "hostile_items_too_many",
    ] {
        assert_eq!(case(&report, name)["result"], "warn", "{name}");
    }
    // And the same run fails with warnings counted as failures.
    let (out, stdout, _) = conform_signed(&url, &["--warnings-as-failures"]).await;
    assert_eq!(out.status.code(), Some(1), "{stdout}");
}

/// A correct endpoint that refuses bodies lacking a documented field (every
/// sample of the documentation has them) is warned, never failed.
#[tokio::test(flavor = "multi_thread")]
async fn a_strict_endpoint_that_wants_every_documented_field_only_warns() {
    let (_endpoint, url) = lenient_endpoint("strict");
    let (report, _) = passes_with_no_failure(&url).await;
    for name in ["body_missing_event_time", "body_missing_requester"] {
        let case = case(&report, name);
        assert_eq!(case["result"], "warn", "{name}: {case}");
        assert!(
            case["reason"]
                .as_str()
                .unwrap()
                .contains("refused a callback without"),
            "{case}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn endpoints_broken_on_purpose_still_fail_with_the_right_reasons() {
    for (mode, name, reason) in [
        (
            "nosign",
            "hostile_sign_forged",
            "allowed a request the platform never sends",
        ),
        ("reorder", "page_sample_signed", "items must stay in order"),
        (
            "drop",
            "page_sample_signed",
            "1 ResultItem(s) for 2 item(s)",
        ),
        (
            "badcode",
            "page_sample_signed",
            "is neither 0 nor in [38000, 39000]",
        ),
        ("slow", "page_sample_signed", "over the 1000 ms budget"),
        // Friend requests answered "processed" (left to the platform's
        // allow): the gate is open where most abuse comes in.
        (
            "noadd",
            "add_documented_sample_signed",
            "ResultItem is missing",
        ),
    ] {
        let (_endpoint, url) = lenient_endpoint(mode);
        let dir = tempfile::tempdir().unwrap();
        let json = dir.path().join("report.json");
        let only = name.trim_end_matches("_signed");
        let args = [
            "--wait",
            "10",
            "--only",
            only,
            "--json",
            json.to_str().unwrap(),
        ];
        let (out, stdout, _) = conform_signed(&url, &args).await;
        assert_eq!(out.status.code(), Some(1), "{mode}: {stdout}");
        let case = case(&read_report(&json), name).clone();
        assert_eq!(case["result"], "fail", "{mode}: {case}");
        assert!(
            case["reason"].as_str().unwrap().contains(reason),
            "{mode}: {case}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn strict_runs_over_tls_have_no_flaky_case() {
    // The oversized body is refused while the simulator is still sending
    // it: the answer must still be read, over TLS too, every time.
    let (dir, _running, url) = openssl_style_tls().await;
    let cert = dir.path().join("cert.pem");
    let ca = cert.to_str().unwrap();
    for run in 0..10 {
        let (out, stdout, _) = conform_signed(
            &url,
            &[
                "--strict",
                "--ca-cert",
                ca,
                "--only",
                "hostile_body_oversized",
            ],
        )
        .await;
        assert!(out.status.success(), "run {run}: {stdout}");
    }
    for run in 0..3 {
        let (out, stdout, _) = conform_signed(
            &url,
            &["--strict", "--one-url", "--ca-cert", ca, "--failures-only"],
        )
        .await;
        assert!(out.status.success(), "full run {run}: {stdout}");
    }
}
