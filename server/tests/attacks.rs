//! The attacks of the gateway-hardening issue, each against the real
//! `friendgate` binary on 127.0.0.1: what an outsider (or a stalled log
//! reader, or a half-written list file) could do to the answers of genuine,
//! signed callbacks. Each test fails on the code before its fix.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::process::{KillOnDrop, Serving};
use common::{config_head, write_config, APP, TOKEN};
use friendgate_core::testing::{QueryBuilder, SAMPLE_BODY};

/// A config with JSON logs and `extra` appended (or spliced into
/// `[server]` when it starts with `server:`).
fn config(dir: &std::path::Path, server: &str, extra: &str) -> std::path::PathBuf {
    let head = config_head(dir).replace("[server]\n", &format!("[server]\n{server}"));
    write_config(dir, &(head + "[log]\nformat = \"json\"\n\n" + extra))
}

fn signed_query() -> String {
    QueryBuilder::new(APP)
        .signed(TOKEN, friendgate_core::unix_now())
        .build()
}

/// Sends `count` signed sample callbacks on one kept-alive connection (a
/// fresh one after a failure), each with a 3 s timeout; returns the statuses
/// (0 for no answer in time). Stops after 3 failures, so a broken gateway
/// fails the test quickly.
fn signed_callbacks(addr: &str, count: usize) -> Vec<u16> {
    common::process::block_on(async {
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(3))
            .build()
            .unwrap();
        let mut statuses = Vec::with_capacity(count);
        for _ in 0..count {
            let url = format!("http://{addr}/cb?{}", signed_query());
            let status = match client.post(url).body(SAMPLE_BODY).send().await {
                Ok(response) => response.status().as_u16(),
                Err(_) => 0,
            };
            statuses.push(status);
            if statuses.iter().filter(|s| **s != 200).count() >= 3 {
                break;
            }
        }
        statuses
    })
}

fn assert_all_answered(statuses: &[u16], expected: usize, what: &str) {
    let bad: Vec<_> = statuses.iter().filter(|s| **s != 200).collect();
    assert!(
        bad.is_empty() && statuses.len() == expected,
        "{what}: {} of {} signed callbacks sent not answered 200: {bad:?}",
        bad.len(),
        statuses.len()
    );
}

fn connect(addr: &str) -> TcpStream {
    let stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
}

/// The value of an unlabelled or labelled sample in OpenMetrics text.
fn sample(metrics: &str, name: &str) -> f64 {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .map_or(0.0, |value| value.trim().parse().unwrap())
}

#[test]
fn unsigned_requests_cannot_hold_the_slots_of_signed_callbacks() {
    let dir = tempfile::tempdir().unwrap();
    let serving = Serving::start(&config(dir.path(), "max_in_flight = 4\n", ""));
    // Each declares a body it never sends: before the fix, each held an
    // in-flight slot until the request deadline.
    let mut held = Vec::new();
    for _ in 0..64 {
        let mut stream = connect(&serving.addr);
        stream
            .write_all(b"POST /cb HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n")
            .unwrap();
        held.push(stream);
    }
    assert_all_answered(
        &signed_callbacks(&serving.addr, 20),
        20,
        "unsigned requests held",
    );
    // They were refused at once, without waiting for their bodies.
    let mut answer = String::new();
    held[0].read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("`SdkAppid` is missing"), "{answer}");
    assert!(answer.contains("connection: close"), "{answer}");
    serving.stop();
}

#[test]
fn replayed_signed_urls_with_bodies_that_never_come_take_a_quarter_of_the_slots() {
    let dir = tempfile::tempdir().unwrap();
    let serving = Serving::start(&config(dir.path(), "max_in_flight = 8\n", ""));
    // The Sign does not cover the body: a captured URL can be sent again
    // with a body that never arrives.
    let mut held = Vec::new();
    for _ in 0..20 {
        let mut stream = connect(&serving.addr);
        let head = format!(
            "POST /cb?{} HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{{",
            signed_query()
        );
        stream.write_all(head.as_bytes()).unwrap();
        held.push(stream);
    }
    std::thread::sleep(Duration::from_millis(200));
    assert_all_answered(
        &signed_callbacks(&serving.addr, 20),
        20,
        "slow signed bodies held",
    );
    let metrics = serving.metrics();
    assert_eq!(
        sample(&metrics, "friendgate_awaiting_body"),
        2.0,
        "{metrics}"
    );
    // The ones past the share were answered 503 at once.
    let mut answer = String::new();
    held[19].read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    serving.stop();
}

#[test]
fn a_stopped_log_reader_costs_no_callback_its_answer() {
    let dir = tempfile::tempdir().unwrap();
    let path = config(dir.path(), "", "").to_str().unwrap().to_owned();
    let text = std::fs::read_to_string(&path).unwrap() + "";
    std::fs::write(
        &path,
        text.replace(
            "format = \"json\"\n",
            "format = \"json\"\nbuffer_bytes = 65536\n",
        ),
    )
    .unwrap();
    let mut child = KillOnDrop(
        Serving::command(path.as_ref())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut log = BufReader::new(child.0.stdout.take().unwrap());
    let (mut addr, mut admin) = (String::new(), String::new());
    while admin.is_empty() {
        let mut line = String::new();
        log.read_line(&mut line).unwrap();
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        if let Some(a) = value["local_addr"].as_str() {
            addr = a.to_owned();
        }
        if let Some(a) = value["admin_addr"].as_str() {
            admin = a.to_owned();
        }
    }
    // Nobody reads the log from here on: the pipe (64 KiB) and the buffer
    // (64 KiB) fill after a few hundred callback lines.
    let began = Instant::now();
    let statuses = signed_callbacks(&addr, 1500);
    assert_all_answered(&statuses, 1500, "log reader stopped");
    let took = began.elapsed();
    let metrics = {
        let mut stream = connect(&admin);
        stream
            .write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut text = String::new();
        stream.read_to_string(&mut text).unwrap();
        text
    };
    let dropped = sample(&metrics, "friendgate_log_lines_dropped_total");
    assert!(
        dropped > 500.0,
        "lines dropped and counted: {dropped} in {took:?}"
    );
    // Reading again: the writer catches up and says how many were lost.
    let mut notice = None;
    for line in log.lines().map_while(Result::ok).take(5000) {
        if line.contains("log lines dropped") {
            notice = Some(line);
            break;
        }
    }
    let notice = notice.expect("a line saying lines were dropped");
    let value: serde_json::Value = serde_json::from_str(&notice).unwrap();
    assert!(value["dropped"].as_u64().unwrap() > 0, "{notice}");
    drop(child);
}

#[test]
fn idle_sockets_past_the_descriptor_limit_do_not_lock_out_signed_callbacks() {
    let dir = tempfile::tempdir().unwrap();
    let path = config(dir.path(), "", "");
    // Started with a soft limit of 256 descriptors, as many systems do
    // (1024); the gateway raises it to the hard limit.
    let mut command = std::process::Command::new("sh");
    command.args([
        "-c",
        "ulimit -Sn 256 && exec \"$0\" \"$@\"",
        env!("CARGO_BIN_EXE_friendgate"),
        "serve",
        "--config",
        path.to_str().unwrap(),
    ]);
    let serving = Serving::spawn(command);
    let line = serving
        .seen("file-descriptor limit")
        .expect("the limits are logged");
    let limits: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(limits["soft_before"], 256, "{line}");
    assert_eq!(
        limits["soft"], limits["hard"],
        "raised to the hard limit: {line}"
    );
    let idle: Vec<_> = (0..400).map(|_| connect(&serving.addr)).collect();
    std::thread::sleep(Duration::from_millis(200));
    assert_all_answered(&signed_callbacks(&serving.addr, 10), 10, "400 idle sockets");
    drop(idle);
    serving.stop();
}

#[test]
fn at_max_connections_idle_sockets_are_closed_to_make_room() {
    let dir = tempfile::tempdir().unwrap();
    let serving = Serving::start(&config(dir.path(), "max_connections = 50\n", ""));
    let mut idle: Vec<_> = (0..200).map(|_| connect(&serving.addr)).collect();
    std::thread::sleep(Duration::from_millis(200));
    assert_all_answered(
        &signed_callbacks(&serving.addr, 10),
        10,
        "200 idle sockets, bound 50",
    );
    let metrics = serving.metrics();
    assert!(
        sample(
            &metrics,
            "friendgate_connections_limited_total{action=\"evicted\"}"
        ) >= 150.0,
        "{metrics}"
    );
    assert!(
        sample(&metrics, "friendgate_connections") <= 50.0,
        "{metrics}"
    );
    // The oldest idle ones were the ones closed.
    let mut byte = [0u8; 1];
    assert_eq!(idle[0].read(&mut byte).unwrap_or(0), 0, "closed");
    drop(idle.drain(..));
    serving.stop();
}

#[test]
fn declared_but_unsent_bodies_and_endless_headers_keep_memory_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let serving = Serving::start(&config(dir.path(), "", ""));
    assert_all_answered(&signed_callbacks(&serving.addr, 5), 5, "warm-up");
    let before = serving.rss();
    let mut open = Vec::new();
    // 512 signed and 512 unsigned requests declaring 1 MiB and sending two
    // chunks of 20 bytes (before the fix, a buffer of the declared size
    // was reserved for each).
    for signed in [true, false] {
        for _ in 0..512 {
            let mut stream = connect(&serving.addr);
            let query = if signed {
                signed_query()
            } else {
                String::new()
            };
            let head =
                format!("POST /cb?{query} HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\n\r\n");
            stream.write_all(head.as_bytes()).unwrap();
            stream.write_all(&[b' '; 20]).unwrap();
            open.push(stream);
        }
    }
    std::thread::sleep(Duration::from_millis(50));
    for stream in &mut open {
        let _ = stream.write_all(&[b' '; 20]);
    }
    // 500 connections sending 100 KB of headers that never end (before the
    // fix hyper buffered up to about 400 KB of each).
    let mut headers = Vec::new();
    for _ in 0..500 {
        let mut stream = connect(&serving.addr);
        let _ = stream.write_all(b"POST /cb HTTP/1.1\r\nHost: x\r\n");
        let line = format!("X-Filler: {}\r\n", "a".repeat(1000));
        for _ in 0..100 {
            if stream.write_all(line.as_bytes()).is_err() {
                break;
            }
        }
        headers.push(stream);
    }
    std::thread::sleep(Duration::from_millis(300));
    let grown = serving.rss().saturating_sub(before);
    assert!(grown < 48 << 20, "RSS grew by {} MiB", grown >> 20);
    assert_all_answered(
        &signed_callbacks(&serving.addr, 10),
        10,
        "under the memory attack",
    );
    drop(open);
    drop(headers);
    serving.stop();
}

#[test]
fn a_list_file_caught_half_written_is_not_loaded() {
    let dir = tempfile::tempdir().unwrap();
    let list: String = (0..10).map(|i| format!("user{i}\n")).collect();
    std::fs::write(dir.path().join("blocked.txt"), format!("x\n{list}")).unwrap();
    let rule = "[[rule]]\nname = \"blocked\"\nkind = \"accounts\"\naccounts_file = \"blocked.txt\"\ncode = 38001\n";
    let serving = Serving::start(&config(dir.path(), "watch_config = true\n", rule));
    let body = common::body_x_y();
    let blocked = "{\"To_Account\":\"x\",\"ResultCode\":38001";
    assert!(serving.post(&body).contains(blocked));

    // Opened for rewriting (truncated), written only a while later.
    let file = std::fs::File::create(dir.path().join("blocked.txt")).unwrap();
    let line = serving.wait_for("reload refused");
    assert!(line.contains("went from 11 to 0 entries"), "{line}");
    assert!(serving.post(&body).contains(blocked), "still blocked");
    drop(file);
    std::fs::write(dir.path().join("blocked.txt"), format!("x\ny\n{list}")).unwrap();
    serving.wait_for("configuration reloaded");
    assert!(serving
        .post(&body)
        .contains("{\"To_Account\":\"y\",\"ResultCode\":38001"));

    // Said to be intended: an emptied list is loaded.
    let path = config(
        dir.path(),
        "watch_config = true\n",
        &(rule.to_owned() + "allow_shrink = true\n"),
    );
    serving.signal("HUP");
    serving.wait_for("configuration reloaded");
    std::fs::write(dir.path().join("blocked.txt"), "").unwrap();
    serving.wait_for("configuration reloaded");
    assert!(serving
        .post(&body)
        .contains("{\"To_Account\":\"x\",\"ResultCode\":0"));
    drop(path);
    serving.stop();
}

#[test]
fn a_list_file_being_rewritten_is_read_once_it_holds_still() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("blocked.txt"), "x\n").unwrap();
    let rule = "[[rule]]\nname = \"blocked\"\nkind = \"accounts\"\naccounts_file = \"blocked.txt\"\ncode = 38001\nallow_shrink = true\n";
    let serving = Serving::start(&config(dir.path(), "watch_config = true\n", rule));
    // A slow program rewrites the list: truncated, then a line every 200
    // ms for 3 s, longer than the 2 s between looks at the files.
    let mut file = std::fs::File::create(dir.path().join("blocked.txt")).unwrap();
    let began = Instant::now();
    for i in 0..15 {
        writeln!(file, "user{i}").unwrap();
        file.flush().unwrap();
        std::thread::sleep(Duration::from_millis(200));
    }
    writeln!(file, "x").unwrap();
    drop(file);
    let line = serving.wait_for("configuration reloaded");
    assert!(
        began.elapsed() >= Duration::from_secs(3),
        "reloaded only once still"
    );
    assert!(
        serving.seen("reload").as_deref() == Some(line.as_str()),
        "no reload while the file was changing: {:?}",
        serving.seen.borrow()
    );
    assert!(serving
        .post(&common::body_x_y())
        .contains("{\"To_Account\":\"x\",\"ResultCode\":38001"));
    serving.stop();
}

#[test]
fn rate_limits_survive_a_reload_and_count_unknown_actions() {
    let dir = tempfile::tempdir().unwrap();
    let rule = "[[rule]]\nname = \"mass-accept\"\nkind = \"rate_limit\"\nmax = 2\nper_seconds = 3600\ncode = 38003\n";
    let other = |word: &str| {
        format!(
            "[[rule]]\nname = \"words\"\nkind = \"words\"\nwords = [\"{word}\"]\ncode = 38002\n"
        )
    };
    let serving = Serving::start(&config(dir.path(), "", &format!("{rule}{}", other("a"))));
    let accept = |to: &str, action: &str| common::body("alice", &[(to, "", action)]);
    let code = |answer: String| common::results(&answer)[0].0;
    assert_eq!(code(serving.post(&accept("x", "Response_Action_Agree"))), 0);
    assert_eq!(
        code(serving.post(&accept("y", "Response_Action_AgreeAndAdd"))),
        0
    );
    assert_eq!(
        code(serving.post(&accept("z", "Response_Action_Agree"))),
        38003
    );
    // An action the platform may add later counts as accepting.
    assert_eq!(
        code(serving.post(&accept("z", "Response_Action_Future"))),
        38003
    );
    assert_eq!(
        code(serving.post(&accept("z", "Response_Action_Reject"))),
        0
    );

    // Another rule changes, this one does not: alice's bucket stays empty.
    config(dir.path(), "", &format!("{rule}{}", other("b")));
    serving.signal("HUP");
    serving.wait_for("configuration reloaded");
    assert_eq!(
        code(serving.post(&accept("w", "Response_Action_Agree"))),
        38003
    );
    // Its limit changes: a new bucket, as documented.
    config(
        dir.path(),
        "",
        &format!("{}{}", rule.replace("max = 2", "max = 3"), other("b")),
    );
    serving.signal("HUP");
    serving.wait_for("configuration reloaded");
    assert_eq!(code(serving.post(&accept("w", "Response_Action_Agree"))), 0);
    serving.stop();
}

/// Writes a whole oversized signed body before reading, as HTTP clients
/// do, over `stream`; returns the answer.
fn write_then_read<S: Read + Write>(mut stream: S) -> String {
    let body = vec![b' '; 1 << 20];
    let head = format!(
        "POST /cb?{} HTTP/1.1\r\nHost: localhost\r\nContent-Length: {}\r\n\r\n",
        signed_query(),
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(&body).expect("the whole body is taken");
    stream.flush().unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

#[test]
fn a_client_that_writes_its_oversized_body_first_reads_the_413() {
    let dir = tempfile::tempdir().unwrap();
    let limits = "[callback.limits]\nmax_body_bytes = 65536\n";
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    std::fs::write(dir.path().join("cert.pem"), certified.cert.pem()).unwrap();
    std::fs::write(
        dir.path().join("key.pem"),
        certified.signing_key.serialize_pem(),
    )
    .unwrap();
    let plain = Serving::start(&config(dir.path(), "", limits));
    for _ in 0..3 {
        let answer = write_then_read(connect(&plain.addr));
        assert!(answer.starts_with("HTTP/1.1 413"), "plain: {answer:.200}");
        assert!(answer.contains("\"ActionStatus\":\"FAIL\""), "{answer}");
    }
    plain.stop();

    let tls = format!("[server.tls]\ncert = \"cert.pem\"\nkey = \"key.pem\"\n\n{limits}");
    let tls = Serving::start(&config(dir.path(), "", &tls));
    let mut roots = tokio_rustls::rustls::RootCertStore::empty();
    roots.add(certified.cert.der().clone()).unwrap();
    let provider = std::sync::Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let client = std::sync::Arc::new(
        tokio_rustls::rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    );
    for _ in 0..5 {
        let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
        let connection = tokio_rustls::rustls::ClientConnection::new(client.clone(), name).unwrap();
        let stream = tokio_rustls::rustls::StreamOwned::new(connection, connect(&tls.addr));
        let answer = write_then_read(stream);
        assert!(answer.starts_with("HTTP/1.1 413"), "TLS: {answer:.200}");
        assert!(answer.contains("\"ActionStatus\":\"FAIL\""), "{answer}");
    }
    tls.stop();
}

#[test]
fn the_text_log_escapes_what_a_request_sends() {
    let dir = tempfile::tempdir().unwrap();
    let path = config(dir.path(), "", "");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("format = \"json\"", "format = \"text\"");
    std::fs::write(&path, text).unwrap();
    let mut child = KillOnDrop(
        Serving::command(&path)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut log = BufReader::new(child.0.stdout.take().unwrap());
    let mut addr = String::new();
    while addr.is_empty() {
        let mut line = String::new();
        log.read_line(&mut line).unwrap();
        if let Some(at) = line.find("local_addr=") {
            addr = line[at + 11..]
                .split_whitespace()
                .next()
                .unwrap()
                .to_owned();
        }
    }
    let mut stream = connect(&addr);
    let forged = "contenttype=x%0A2026-01-01T00:00:00Z%20INFO%20forged%1B%5B31m&SdkAppid=1400000000&CallbackCommand=Sns.CallbackPrevFriendResponse";
    stream
        .write_all(
            format!("POST /cb?{forged} HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{{}}")
                .as_bytes(),
        )
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 415"), "{answer}");
    // The log is written every 10 ms.
    std::thread::sleep(Duration::from_millis(300));
    let _ = child.0.kill();
    let mut rest = String::new();
    let _ = log.read_to_string(&mut rest);
    let line = rest
        .lines()
        .find(|l| l.contains("unsupported_content_type"))
        .expect("the refusal is logged");
    assert!(
        line.contains("x\\\\n2026") || line.contains("x\\n2026"),
        "{line}"
    );
    assert!(
        !rest.lines().any(|l| l.starts_with("2026-01-01")),
        "no forged line: {rest}"
    );
    assert!(
        !rest.contains('\u{1b}'),
        "no escape sequence reaches the terminal"
    );
}
