//! The `friendgate` binary: check-config, sign, handle, and serve with
//! SIGHUP reload and SIGTERM shutdown, as a user runs them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;
use std::process::Command;

use common::process::Serving;
use common::{config_head, write_config, APP, TOKEN};
use friendgate_core::testing::{signed_query, SAMPLE_BODY, SAMPLE_REQUEST_TIME, SAMPLE_SIGN};

fn friendgate(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_friendgate"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn example_config() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/friendgate.toml")
        .display()
        .to_string()
}

#[test]
fn check_config_accepts_the_example() {
    let (code, out, _) = friendgate(&["check-config", "--config", &example_config()]);
    assert_eq!(code, 0);
    assert!(out.contains("ok (listen 127.0.0.1:8080, path /callback, 1 app id(s), 1 token(s), rules: rejections-always-pass, blocked-accounts, abusive-words, mass-requests, mass-accept; other commands: answered OK; sources: any; state: in memory)"), "{out}");
}

#[test]
fn check_config_says_file_key_and_why() {
    let dir = tempfile::tempdir().unwrap();
    let head = config_head(dir.path());
    let cases = [
        (head.replace("[server]", "[server]\nlisen = \"x\""), "line 2: unknown field `lisen`"),
        (head.replace("listen = \"127.0.0.1:0\"", "listen = \"localhost\""), "server.listen: `localhost` is not an address like 127.0.0.1:8080"),
        (head.replace("{ file = \"token\" }", "{ env = \"FG_TEST_UNSET_VAR\" }"), "callback.tokens[0]: environment variable FG_TEST_UNSET_VAR is not set"),
        (head.replace("{ file = \"token\" }", "{ file = \"missing.token\" }"), "callback.tokens[0]: cannot read"),
        (head.replace("app_ids = [1400000000]", "app_ids = []"), "callback.app_ids: at least one app id is required"),
        (head.clone() + "[server.tls]\ncert = \"c.pem\"\nkey = \"k.pem\"\n", "is not a readable file"),
        (head.clone() + "[[rule]]\nname = \"r\"\nkind = \"words\"\nmax = 3\ncode = 38001\nwords = [\"a\"]\n", "rule[0].max: does not apply to a rule of kind `words`"),
        (head.clone() + "[[rule]]\nname = \"r\"\nkind = \"accounts\"\naccounts_file = \"nope.txt\"\ncode = 38001\n", "rule[0].accounts_file: cannot read"),
        (head.clone() + "[[rule]]\nname = \"r\"\nkind = \"accounts\"\naccounts = []\n", "rule[0].code: a rejecting rule needs a `code`"),
        (head.replace("[callback]", "[server.x]\n[callback]"), "unknown field `x`"),
    ];
    for (text, expected) in cases {
        let path = write_config(dir.path(), &text);
        let (code, _, err) = friendgate(&["check-config", "--config", path.to_str().unwrap()]);
        assert_eq!(code, 2, "{text}");
        assert!(
            err.contains(&format!("{}: ", path.display())),
            "names the file: {err}"
        );
        assert!(err.contains(expected), "expected `{expected}` in: {err}");
    }
}

#[test]
fn config_errors_never_print_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    let head = config_head(dir.path());
    for tokens in [
        "[\"sekrit-TOKEN-123\"]",
        "[{ value = 123456789 }]",
        "\"sekrit-TOKEN-123\"",
    ] {
        let text = head.replace("[{ file = \"token\" }]", tokens);
        let path = write_config(dir.path(), &text);
        let (code, _, err) = friendgate(&["check-config", "--config", path.to_str().unwrap()]);
        assert_eq!(code, 2, "{err}");
        assert!(
            !err.contains("sekrit") && !err.contains("123456789"),
            "secret echoed: {err}"
        );
        assert!(
            err.contains("(the value is not shown)") || err.contains("invalid type"),
            "{err}"
        );
    }
}

#[test]
fn check_config_loads_the_tls_pair_and_finds_a_swapped_or_foreign_key() {
    let dir = tempfile::tempdir().unwrap();
    let one = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let two = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    std::fs::write(dir.path().join("cert.pem"), one.cert.pem()).unwrap();
    std::fs::write(dir.path().join("key.pem"), one.signing_key.serialize_pem()).unwrap();
    std::fs::write(
        dir.path().join("other.pem"),
        two.signing_key.serialize_pem(),
    )
    .unwrap();
    let head = config_head(dir.path());
    for (cert, key, expected) in [
        ("cert.pem", "key.pem", None),
        ("key.pem", "cert.pem", Some("are `cert` and `key` swapped?")),
        ("cert.pem", "other.pem", Some("do not go together")),
    ] {
        let text = format!("{head}[server.tls]\ncert = \"{cert}\"\nkey = \"{key}\"\n");
        let path = write_config(dir.path(), &text);
        let (code, _, err) = friendgate(&["check-config", "--config", path.to_str().unwrap()]);
        match expected {
            None => assert_eq!(code, 0, "{err}"),
            Some(expected) => {
                assert_eq!(code, 2);
                assert!(
                    err.contains("server.tls") && err.contains(expected),
                    "{err}"
                );
            }
        }
    }
}

#[test]
fn the_admin_listener_wants_its_bearer_token() {
    let dir = tempfile::tempdir().unwrap();
    let text = config_head(dir.path()).replace(
        "[admin]\nlisten = \"127.0.0.1:0\"\n",
        "[admin]\nlisten = \"127.0.0.1:0\"\ntoken = { value = \"adm1n\" }\n",
    ) + "[log]\nformat = \"json\"\n";
    let serving = Serving::start(&write_config(dir.path(), &text));
    common::process::block_on(async {
        let client = common::client();
        for (path, token, status) in [
            ("/metrics", None, 401),
            ("/metrics", Some("wrong"), 401),
            ("/metrics", Some("adm1n"), 200),
            ("/readyz", None, 401),
            ("/readyz", Some("adm1n"), 200),
            ("/healthz", None, 200),
        ] {
            let mut request = client.get(format!("http://{}{path}", serving.admin));
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.status().as_u16(), status, "{path} {token:?}");
        }
        let response = client
            .get(format!("http://{}/metrics", serving.addr))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "not on the callback port");
    });
    serving.stop();
}

#[test]
fn sign_prints_the_known_answer_and_a_url() {
    let (code, out, _) = friendgate(&[
        "sign",
        "--token",
        "xxxxyyyy",
        "--time",
        "1669872112",
        "--url",
        "http://127.0.0.1:8080/callback",
    ]);
    assert_eq!(code, 0);
    let expected_url = format!(
        "http://127.0.0.1:8080/callback?{}",
        signed_query(APP, TOKEN, SAMPLE_REQUEST_TIME)
    );
    assert_eq!(
        out,
        format!("RequestTime=1669872112\nSign={SAMPLE_SIGN}\n{expected_url}\n")
    );
    let out = Command::new(env!("CARGO_BIN_EXE_friendgate"))
        .args(["sign", "--token-env", "FG_TOKEN", "--time", "1669872112"])
        .env("FG_TOKEN", "xxxxyyyy")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains(SAMPLE_SIGN));
}

#[test]
fn handle_answers_through_the_gateway() {
    let dir = tempfile::tempdir().unwrap();
    let body = dir.path().join("body.json");
    std::fs::write(
        &body,
        SAMPLE_BODY.replace("\"To_Account\":\"id1\"", "\"To_Account\":\"banned_user\""),
    )
    .unwrap();
    let query = signed_query(APP, TOKEN, SAMPLE_REQUEST_TIME);
    let args = [
        "handle",
        "--config",
        &example_config(),
        "--query",
        &query,
        "--body",
        body.to_str().unwrap(),
        "--now",
        "1669872112",
    ];
    let (code, out, _) = friendgate(&args);
    assert_eq!(code, 0);
    assert_eq!(out, "HTTP 200\n{\"ActionStatus\":\"OK\",\"ErrorCode\":0,\"ErrorInfo\":\"\",\"ResultItem\":[{\"To_Account\":\"banned_user\",\"ResultCode\":38001,\"ResultInfo\":\"account is blocked\"},{\"To_Account\":\"id2\",\"ResultCode\":0,\"ResultInfo\":\"\"}]}\n");
    // Without --now the 2022 signature is stale.
    let (code, out, _) = friendgate(&args[..7]);
    assert_eq!(code, 1);
    assert!(out.starts_with("HTTP 401\n"), "{out}");
}

#[test]
fn help_explains_and_hides_secrets() {
    let out = Command::new(env!("CARGO_BIN_EXE_friendgate"))
        .args(["serve", "--help"])
        .env("FRIENDGATE_CONFIG", "/secret/path.toml")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        help.contains("SIGHUP") && help.contains("--config"),
        "{help}"
    );
    assert!(!help.contains("/secret/path.toml"));
    let (_, help, _) = friendgate(&["--help"]);
    for command in ["serve", "check-config", "sign", "handle"] {
        assert!(help.contains(command), "{help}");
    }
}

#[test]
fn serve_reloads_on_sighup_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let head = config_head(dir.path()) + "[log]\nformat = \"json\"\n\n";
    let rule = |who: &str| {
        format!("[[rule]]\nname = \"blocked\"\nkind = \"accounts\"\naccounts = [\"{who}\"]\ncode = 38001\n")
    };
    let path = write_config(dir.path(), &(head.clone() + &rule("x")));
    let mut serving = Serving::start(&path);
    let body = common::body_x_y();

    assert!(serving
        .post(&body)
        .contains("{\"To_Account\":\"x\",\"ResultCode\":38001"));
    let line = serving.wait_for("callback answered");
    let log: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(log["from"], "alice");
    assert_eq!(log["status"], 200);
    assert_eq!(log["target"], "friendgate::callback");
    assert_eq!(log["level"], "INFO");
    // An array, not a string holding one.
    let items = &log["items"];
    assert_eq!(items[0]["to"], "x");
    assert_eq!(items[0]["rule"], "blocked");
    assert_eq!(items[0]["result"], 38001);
    assert_eq!(items[1]["rule"], "default");
    assert!(
        !line.contains(TOKEN) && !line.contains("Sign"),
        "no secrets in logs: {line}"
    );

    write_config(dir.path(), &(head.clone() + &rule("y")));
    serving.signal("HUP");
    serving.wait_for("configuration reloaded");
    assert!(serving
        .post(&body)
        .contains("{\"To_Account\":\"y\",\"ResultCode\":38001"));

    write_config(dir.path(), &(head + "[[rule]]\nname = \"broken\"\n"));
    serving.signal("HUP");
    let line = serving.wait_for("reload refused");
    assert!(line.contains("friendgate.toml"), "{line}");
    assert!(
        serving
            .post(&body)
            .contains("{\"To_Account\":\"y\",\"ResultCode\":38001"),
        "old policy stays"
    );

    serving.signal("TERM");
    let status = serving.child.wait().unwrap();
    assert!(status.success(), "{status}");
}

#[test]
fn watch_config_reloads_when_a_list_file_changes() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("blocked.txt"), "x\n").unwrap();
    let text = config_head(dir.path()).replace("[server]", "[server]\nwatch_config = true")
        + "[log]\nformat = \"json\"\n\n[[rule]]\nname = \"blocked\"\nkind = \"accounts\"\naccounts_file = \"blocked.txt\"\ncode = 38001\n";
    let path = write_config(dir.path(), &text);
    let mut serving = Serving::start(&path);
    let body = common::body_x_y();
    assert!(serving
        .post(&body)
        .contains("{\"To_Account\":\"x\",\"ResultCode\":38001"));

    std::fs::write(dir.path().join("blocked.txt"), "y\n").unwrap();
    serving.wait_for("configuration reloaded");
    assert!(serving
        .post(&body)
        .contains("{\"To_Account\":\"y\",\"ResultCode\":38001"));
    serving.signal("TERM");
    assert!(serving.child.wait().unwrap().success());
}

/// Passwords with each of `/?#@:%` in a Redis, upstream or webhook URL
/// (plain, or through `{ env = ... }`), through `check-config`, `serve`
/// refusing to start, and a refused reload: no output shows them.
#[test]
fn no_url_password_is_printed_whatever_it_holds() {
    let dir = tempfile::tempdir().unwrap();
    let head = config_head(dir.path());
    std::fs::write(
        dir.path().join("webhook.secret"),
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n",
    )
    .unwrap();
    let variants = |password: &str| {
        [
            format!("[state]\nredis_url = \"redis://:{password}@127.0.0.1:1/0\"\n"),
            "[state]\nredis_url = { env = \"FG_TEST_REDIS_URL\" }\n".to_owned(),
            format!("[upstream]\nurl = \"http://user:{password}@127.0.0.1:1/im\"\n"),
            format!("[events.webhook]\nurl = \"https://user:{password}@127.0.0.1:1/hook\"\nsecret = {{ file = \"webhook.secret\" }}\n"),
            format!("[upstream]\nurl = \"http://127.0.0.1:1/im\"\nroutes = [{{ command = \"C2C.*\", url = \"http://user:{password}@127.0.0.1:2/c2c\" }}]\n"),
        ]
    };
    for c in ['/', '?', '#', '@', ':', '%'] {
        let password = format!("Sup3r{c}Secr3t{c}pw");
        let redis_url = format!("redis://:{password}@127.0.0.1:1/0");
        for section in variants(&password) {
            let path = write_config(dir.path(), &format!("{head}{section}"));
            for args in [
                vec!["check-config", "--config", path.to_str().unwrap()],
                vec!["serve", "--config", path.to_str().unwrap()],
            ] {
                if args[0] == "serve" && !section.contains("redis_url") {
                    continue;
                }
                // A `serve` that starts is stopped after a second.
                let mut child = Command::new(env!("CARGO_BIN_EXE_friendgate"))
                    .args(&args)
                    .env("FG_TEST_REDIS_URL", &redis_url)
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap();
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
                while child.try_wait().unwrap().is_none() && std::time::Instant::now() < deadline {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                if child.try_wait().unwrap().is_none() {
                    let _ = child.kill();
                }
                let out = child.wait_with_output().unwrap();
                let shown = format!(
                    "{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
                assert!(
                    !shown.contains("Secr3t") && !shown.contains("Sup3r"),
                    "{args:?} with {section}: {shown}"
                );
            }
        }
    }
    // A refused reload logs its reason: without the password.
    let path = write_config(dir.path(), &format!("{head}[log]\nformat = \"json\"\n"));
    let serving = Serving::start(&path);
    for c in ['/', '?', '#', '@', ':', '%'] {
        let password = format!("Sup3r{c}Secr3t{c}pw");
        // Each variant that is refused must be refused without the secret.
        for section in variants(&password)
            .into_iter()
            .filter(|s| !s.contains("env"))
        {
            write_config(
                dir.path(),
                &format!("{head}[log]\nformat = \"json\"\n{section}[[rule]]\nname = \"broken\"\n"),
            );
            serving.signal("HUP");
            let line = serving.wait_for("reload refused");
            assert!(
                !line.contains("Secr3t") && !line.contains("Sup3r"),
                "{line}"
            );
        }
    }
    serving.stop();
}
