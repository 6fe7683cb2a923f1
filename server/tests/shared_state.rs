//! `[state]` on a real Redis: two `friendgate serve` processes share rate
//! limits and account sets; restarts, reloads, a Redis that stops, and a
//! Redis that is slow.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::process::{block_on, Serving};
use common::redis::Redis;
use common::{add_body, body, config_head, results, write_config};

const AGREE: &str = "Response_Action_AgreeAndAdd";
const REJECT: &str = "Response_Action_Reject";

/// A words rule, an account set on Redis and an accepting-responses limit
/// of `max` a day, on `redis`.
fn rules(max: u32, on_redis_error: &str) -> String {
    format!(
        r#"
[[rule]]
name = "blocked"
kind = "accounts"
field = "from"
redis_set = "fgtest:blocked"
code = 38001
info = "account is blocked"

[[rule]]
name = "words"
kind = "words"
words = ["spam"]
code = 38003
info = "abusive remark"

[[rule]]
name = "accepts"
kind = "rate_limit"
max = {max}
per_seconds = 86400
on_redis_error = "{on_redis_error}"
code = 38002
info = "too many accepts"
"#
    )
}

/// A config of `rules` on `redis`, with `state.refresh_seconds = refresh`.
fn config_refreshed(dir: &Path, redis: &Redis, rules: &str, refresh: u64) -> PathBuf {
    write_config(
        dir,
        &(config_head(dir)
            + "[log]\nformat = \"json\"\n\n"
            + &format!(
                "[state]\nredis_url = \"{}\"\nkey_prefix = \"fgtest\"\nrefresh_seconds = {refresh}\n",
                redis.url()
            )
            + rules),
    )
}

/// A Redis, a temporary folder and a config file on them.
struct Setup {
    redis: Redis,
    config: PathBuf,
    dir: tempfile::TempDir,
}

/// A fresh Redis and a config of `rules` on it (`refresh_seconds = refresh`).
fn setup(rules: &str, refresh: u64) -> Setup {
    let redis = Redis::start();
    let dir = tempfile::tempdir().unwrap();
    let config = config_refreshed(dir.path(), &redis, rules, refresh);
    Setup { redis, config, dir }
}

/// Stops every replica, checking each exits cleanly.
fn stop_all<const N: usize>(replicas: [Serving; N]) {
    for replica in replicas {
        replica.stop();
    }
}

/// Result codes of the answer `replica` gives to `items` from `from`.
fn codes(replica: &Serving, from: &str, items: &[(&str, &str, &str)]) -> Vec<u64> {
    results(&replica.post(&body(from, items)))
        .into_iter()
        .map(|(code, _)| code)
        .collect()
}

/// Polls `check` every 20 ms for at most `within`; the time it took to hold.
fn eventually(within: Duration, mut check: impl FnMut() -> bool) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < within {
        if check() {
            return Some(started.elapsed());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

fn admin_get(replica: &Serving, path: &str) -> (u16, String) {
    block_on(async {
        let response = common::client()
            .get(format!("http://{}{path}", replica.admin))
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    })
}

/// The value of the metric line starting with `prefix` (0 when absent).
fn metric(metrics: &str, prefix: &str) -> f64 {
    metrics
        .lines()
        .find(|line| line.starts_with(prefix))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

fn friendgate_accounts(config: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_friendgate"))
        .args([
            "accounts",
            "--config",
            config.to_str().unwrap(),
            "--rule",
            "blocked",
        ])
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn a_limit_holds_across_two_replicas_with_one_round_trip_per_callback() {
    let Setup {
        redis,
        config,
        dir: _dir,
    } = setup(&rules(5, "local"), 1);
    let replicas = [Serving::start(&config), Serving::start(&config)];
    let before = redis.calls("evalsha");
    let mut accepted = 0;
    for round in 0..12 {
        let replica = &replicas[round % 2];
        match codes(replica, "alice", &[("bob", "", AGREE)])[..] {
            [0] => accepted += 1,
            [38002] => {}
            ref other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(accepted, 5, "5 a day in all, not 5 per replica");
    assert_eq!(
        redis.calls("evalsha") - before,
        12,
        "one script call per callback"
    );

    // Four items, one call: the item the words rule rejects takes no token,
    // and a rejection is not an acceptance.
    let before = redis.calls("evalsha");
    let answer = codes(
        &replicas[0],
        "carol",
        &[
            ("w", "spam", AGREE),
            ("x", "", AGREE),
            ("y", "", REJECT),
            ("z", "", AGREE),
        ],
    );
    assert_eq!(answer, [38003, 0, 0, 0]);
    assert_eq!(redis.calls("evalsha") - before, 1);
    let answer = codes(
        &replicas[1],
        "carol",
        &[
            ("a", "", AGREE),
            ("b", "", AGREE),
            ("c", "", AGREE),
            ("d", "", AGREE),
        ],
    );
    assert_eq!(
        answer,
        [0, 0, 0, 38002],
        "2 + 3 of 5 taken, across replicas"
    );

    // Friend requests: counted per From_Account in their own bucket, on
    // Redis as in memory, one round trip per callback whatever its items.
    let request = |replica: &Serving, items: &[(&str, &str, &str, &str)]| -> Vec<u64> {
        let answer = replica.post_command(friendgate_core::FRIEND_ADD, &add_body("mallory", items));
        results(&answer).into_iter().map(|(code, _)| code).collect()
    };
    let before = redis.calls("evalsha");
    let four = [
        ("a", "", "", "hi"),
        ("b", "", "", "spam!"),
        ("c", "", "", "hi"),
        ("d", "", "", "hi"),
    ];
    assert_eq!(request(&replicas[0], &four), [0, 38003, 0, 0]);
    assert_eq!(
        request(&replicas[1], &four),
        [0, 38003, 0, 38002],
        "5 of 5 across replicas"
    );
    assert_eq!(
        redis.calls("evalsha") - before,
        2,
        "one script call per callback"
    );
    assert_eq!(
        codes(&replicas[0], "mallory", &[("x", "", AGREE)]),
        [0],
        "responses have their own bucket"
    );
    let kinds = redis
        .cli(&[
            "EXISTS",
            "fgtest:{mallory}:rlr:accepts",
            "fgtest:{mallory}:rl:accepts",
        ])
        .unwrap();
    assert_eq!(kinds.trim(), "2");

    // A callback no rate limit concerns makes no round trip.
    let before = redis.calls("evalsha");
    assert_eq!(codes(&replicas[0], "dave", &[("x", "", REJECT)]), [0]);
    assert_eq!(redis.calls("evalsha"), before);

    // The keys expire and carry the account as their hash tag.
    let ttl: i64 = redis
        .cli(&["PTTL", "fgtest:{alice}:rl:accepts"])
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(ttl > 0 && ttl <= 86_400_000, "{ttl}");
    let metrics = replicas[0].metrics();
    assert!(
        metric(
            &metrics,
            "friendgate_redis_round_trip_seconds_count{op=\"limits\"}"
        ) >= 6.0,
        "{metrics}"
    );
    assert_eq!(metric(&metrics, "friendgate_redis_up"), 1.0);
    stop_all(replicas);
}

#[test]
fn an_account_blocked_in_redis_is_refused_by_every_replica() {
    let Setup { redis, config, dir } = setup(&rules(1000, "local"), 1);
    let replicas = [Serving::start(&config), Serving::start(&config)];
    for replica in &replicas {
        assert_eq!(codes(replica, "mallory", &[("bob", "", AGREE)]), [0]);
    }
    // A plain SADD, without any notice: applies within refresh_seconds (1 s).
    redis.cli(&["SADD", "fgtest:blocked", "mallory"]).unwrap();
    for replica in &replicas {
        let took = eventually(Duration::from_secs(4), || {
            codes(replica, "mallory", &[("bob", "", AGREE)]) == [38001]
        });
        assert!(took.is_some(), "refused by every replica after SADD");
    }
    let (ok, said) = friendgate_accounts(&config, &["add", "trudy", "eve"]);
    assert!(ok && said.contains("2 added"), "{said}");
    let (ok, said) = friendgate_accounts(&config, &["remove", "mallory"]);
    assert!(ok, "{said}");
    for replica in &replicas {
        assert!(eventually(Duration::from_secs(4), || {
            codes(replica, "mallory", &[("bob", "", AGREE)]) == [0]
        })
        .is_some());
    }
    // Loading a file; --replace refuses to drop more than half.
    let list = dir.path().join("blocked.txt");
    std::fs::write(&list, "# comment\nzed\n\nyann\n").unwrap();
    let (ok, said) = friendgate_accounts(&config, &["load", list.to_str().unwrap()]);
    assert!(ok, "{said}");
    assert!(said.contains("4 accounts now"), "{said}");
    std::fs::write(&list, "zed\n").unwrap();
    let (ok, said) = friendgate_accounts(&config, &["load", "--replace", list.to_str().unwrap()]);
    assert!(!ok && said.contains("--allow-shrink"), "{said}");
    let (ok, said) = friendgate_accounts(
        &config,
        &[
            "load",
            "--replace",
            "--allow-shrink",
            list.to_str().unwrap(),
        ],
    );
    assert!(ok && said.contains("1 accounts now"), "{said}");
    assert!(eventually(Duration::from_secs(4), || {
        codes(&replicas[1], "trudy", &[("bob", "", AGREE)]) == [0]
            && codes(&replicas[1], "zed", &[("bob", "", AGREE)]) == [38001]
    })
    .is_some());
    stop_all(replicas);
}

#[test]
fn friendgate_accounts_tells_every_replica_at_once() {
    let Setup {
        redis: _redis,
        config,
        dir: _dir,
    } = setup(&rules(1000, "local"), 3600);
    let replicas = [Serving::start(&config), Serving::start(&config)];
    assert_eq!(codes(&replicas[0], "trudy", &[("bob", "", AGREE)]), [0]);
    let (ok, said) = friendgate_accounts(&config, &["add", "trudy", "eve"]);
    assert!(ok, "{said}");
    assert!(
        said.contains("2 added, 0 removed, 2 accounts now"),
        "{said}"
    );
    for replica in &replicas {
        let took = eventually(Duration::from_secs(2), || {
            codes(replica, "trudy", &[("bob", "", AGREE)]) == [38001]
        });
        assert!(
            took.is_some(),
            "trudy refused at once, not after refresh_seconds"
        );
    }
    stop_all(replicas);
}

#[test]
fn state_survives_a_restart_and_a_reload() {
    let Setup {
        redis,
        config,
        dir: _dir,
    } = setup(&rules(3, "local"), 1);
    let replica = Serving::start(&config);
    assert_eq!(
        codes(&replica, "alice", &[("a", "", AGREE), ("b", "", AGREE)]),
        [0, 0]
    );
    redis.cli(&["SADD", "fgtest:blocked", "mallory"]).unwrap();
    replica.stop();

    let replica = Serving::start(&config);
    assert_eq!(
        codes(&replica, "alice", &[("c", "", AGREE), ("d", "", AGREE)]),
        [0, 38002],
        "a restart gives no fresh bucket"
    );
    assert_eq!(
        codes(&replica, "mallory", &[("x", "", AGREE)]),
        [38001],
        "the set is read at start"
    );

    // A reload (the words rule changes) keeps both.
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("[\"spam\"]", "[\"spam\", \"scam\"]");
    std::fs::write(&config, text).unwrap();
    replica.signal("HUP");
    replica.wait_for("configuration reloaded");
    assert_eq!(codes(&replica, "alice", &[("e", "", AGREE)]), [38002]);
    assert_eq!(codes(&replica, "mallory", &[("x", "", AGREE)]), [38001]);
    assert_eq!(codes(&replica, "bob", &[("x", "scam", AGREE)]), [38003]);
    replica.stop();
}

/// Three rate limits, one per failure policy, by action.
fn policy_rules() -> String {
    r#"
[[rule]]
name = "blocked"
kind = "accounts"
field = "from"
redis_set = "fgtest:blocked"
code = 38001

[[rule]]
name = "agree-reject"
kind = "rate_limit"
actions = ["Response_Action_Agree"]
max = 100
per_seconds = 60
on_redis_error = "reject"
code = 38011

[[rule]]
name = "add-local"
kind = "rate_limit"
actions = ["Response_Action_AgreeAndAdd"]
max = 1
per_seconds = 60
on_redis_error = "local"
code = 38012

[[rule]]
name = "reject-allow"
kind = "rate_limit"
actions = ["Response_Action_Reject"]
max = 1
per_seconds = 60
on_redis_error = "allow"
code = 38013
"#
    .to_owned()
}

/// What each policy gives while Redis does not answer, and the time the
/// answer took.
fn answers_without_redis(replica: &Serving) -> (Vec<u64>, Vec<u64>, Duration) {
    let started = Instant::now();
    let bob = codes(
        replica,
        "bob",
        &[
            ("a", "", "Response_Action_Agree"),
            ("b", "", AGREE),
            ("c", "", AGREE),
            ("d", "", REJECT),
            ("e", "", REJECT),
        ],
    );
    let took = started.elapsed();
    let mallory = codes(replica, "mallory", &[("a", "", AGREE)]);
    (bob, mallory, took)
}

#[test]
fn redis_stopped_mid_run_gives_each_rules_policy_then_recovers() {
    let Setup {
        mut redis,
        config,
        dir: _dir,
    } = setup(&policy_rules(), 1);
    redis.cli(&["SADD", "fgtest:blocked", "mallory"]).unwrap();
    let replica = Serving::start(&config);
    assert_eq!(codes(&replica, "mallory", &[("a", "", AGREE)]), [38001]);
    assert_eq!(
        codes(&replica, "bob", &[("d", "", REJECT), ("e", "", REJECT)]),
        [0, 38013],
        "on Redis, the limit of 1 holds"
    );

    redis.kill();
    let (bob, mallory, took) = answers_without_redis(&replica);
    // reject: 38011; local: a bucket of 1 in the process; allow: no limit.
    assert_eq!(bob, [38011, 0, 38012, 0, 0]);
    assert_eq!(mallory, [38001], "the set's last snapshot (local)");
    assert!(
        took < Duration::from_millis(1500),
        "within the request deadline: {took:?}"
    );
    assert!(
        eventually(Duration::from_secs(5), || admin_get(&replica, "/readyz")
            == (
                200,
                "ready\nredis: down (rules on Redis use their on_redis_error)\n".to_owned()
            ))
        .is_some(),
        "/readyz says Redis is down and keeps the replica in service"
    );
    let metrics = replica.metrics();
    for (rule, policy) in [
        ("agree-reject", "reject"),
        ("add-local", "local"),
        ("reject-allow", "allow"),
    ] {
        let line =
            format!("friendgate_redis_fallbacks_total{{rule=\"{rule}\",policy=\"{policy}\"}}");
        assert!(metric(&metrics, &line) >= 1.0, "{line}\n{metrics}");
    }
    assert!(
        metric(&metrics, "friendgate_redis_errors_total{op=\"limits\"") >= 1.0,
        "{metrics}"
    );

    // Back (with its data): Redis decides again.
    redis.restart();
    assert!(
        eventually(Duration::from_secs(5), || admin_get(&replica, "/readyz").1
            == "ready\nredis: up\n")
        .is_some()
    );
    let before = redis.calls("evalsha");
    assert!(eventually(Duration::from_secs(5), || {
        codes(&replica, "bob", &[("a", "", "Response_Action_Agree")]) == [0]
    })
    .is_some());
    assert!(redis.calls("evalsha") > before, "limits are on Redis again");
    assert_eq!(
        codes(&replica, "bob", &[("d", "", REJECT)]),
        [38013],
        "the bucket Redis kept from before the crash"
    );
    replica.stop();
}

#[test]
fn a_gateway_started_before_its_redis_uses_it_once_it_answers() {
    // Before: fred's first connection failed fast, its connection task
    // ended, and the gateway fell back on every callback until restarted.
    let Setup {
        mut redis,
        config,
        dir: _dir,
    } = setup(&policy_rules(), 3600);
    redis.kill();
    let replica = Serving::start(&config);
    assert_eq!(
        admin_get(&replica, "/readyz").1,
        "ready\nredis: down (rules on Redis use their on_redis_error)\n"
    );
    assert_eq!(
        codes(&replica, "bob", &[("a", "", "Response_Action_Agree")]),
        [38011],
        "the rule's on_redis_error"
    );

    redis.restart();
    assert!(
        eventually(Duration::from_secs(5), || admin_get(&replica, "/readyz").1
            == "ready\nredis: up\n")
        .is_some(),
        "the gateway connects once Redis answers"
    );
    let before = redis.calls("evalsha");
    assert_eq!(
        codes(&replica, "bob", &[("a", "", "Response_Action_Agree")]),
        [0],
        "decided on Redis"
    );
    assert_eq!(redis.calls("evalsha"), before + 1);
    let (ok, said) = friendgate_accounts(&config, &["add", "mallory"]);
    assert!(ok, "{said}");
    assert!(
        eventually(Duration::from_secs(2), || codes(
            &replica,
            "mallory",
            &[("a", "", AGREE)]
        ) == [38001])
        .is_some(),
        "the set's change notice is heard (refresh_seconds is an hour)"
    );
    replica.stop();
}

#[test]
fn a_slow_redis_hits_the_timeout_not_the_platforms_two_seconds() {
    let Setup {
        redis,
        config,
        dir: _dir,
    } = setup(&policy_rules(), 1);
    let replica = Serving::start(&config);
    assert_eq!(
        codes(&replica, "bob", &[("a", "", "Response_Action_Agree")]),
        [0]
    );

    // DEBUG SLEEP holds Redis for 1.5 s; the call gives up after 50 ms.
    let port = redis.port.to_string();
    let sleeper = std::thread::spawn(move || {
        Command::new("redis-cli")
            .args(["-p", &port, "DEBUG", "SLEEP", "1.5"])
            .output()
            .unwrap()
    });
    std::thread::sleep(Duration::from_millis(100));
    let started = Instant::now();
    let answer = codes(
        &replica,
        "bob",
        &[("a", "", "Response_Action_Agree"), ("b", "", AGREE)],
    );
    let took = started.elapsed();
    assert_eq!(answer, [38011, 0], "reject and local policies");
    assert!(
        took < Duration::from_millis(1000),
        "the 50 ms timeout, not Redis' 1.5 s: {took:?}"
    );
    sleeper.join().unwrap();

    // A paused process (the connection stays open, nothing answers).
    redis.signal("STOP");
    let started = Instant::now();
    let answer = codes(&replica, "bob", &[("a", "", "Response_Action_Agree")]);
    let took = started.elapsed();
    redis.signal("CONT");
    assert_eq!(answer, [38011]);
    assert!(took < Duration::from_millis(1000), "{took:?}");
    assert!(
        eventually(Duration::from_secs(5), || {
            codes(&replica, "bob", &[("a", "", "Response_Action_Agree")]) == [0]
        })
        .is_some(),
        "back on Redis once it answers"
    );
    // The paused Redis: a call that timed out, or, once the ping has found
    // it silent, no call at all (`down`).
    let metrics = replica.metrics();
    let kind = |kind: &str| {
        metric(
            &metrics,
            &format!("friendgate_redis_errors_total{{op=\"limits\",kind=\"{kind}\"}}"),
        )
    };
    assert!(kind("timeout") >= 1.0, "{metrics}");
    assert!(kind("timeout") + kind("down") >= 2.0, "{metrics}");
    replica.stop();
}

#[test]
fn a_tls_redis_with_a_password_is_used_only_with_its_ca_trusted() {
    let (redis, ca) = Redis::start_tls("s3cret-pw");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("redis-ca.pem"), ca).unwrap();
    std::fs::write(dir.path().join("redis.password"), "s3cret-pw\n").unwrap();
    let write = |ca_file: &str| {
        write_config(
            dir.path(),
            &(config_head(dir.path())
                + "[log]\nformat = \"json\"\n\n"
                + &format!(
                    "[state]\nredis_url = \"{}\"\npassword = {{ file = \"redis.password\" }}\nkey_prefix = \"fgtest\"\n{ca_file}\n",
                    redis.url()
                )
                + &rules(1, "reject")),
        )
    };
    let config = write("ca_file = \"redis-ca.pem\"");
    let replica = Serving::start(&config);
    assert_eq!(
        codes(&replica, "alice", &[("a", "", AGREE), ("b", "", AGREE)]),
        [0, 38002],
        "the limit of 1, on Redis"
    );
    assert_eq!(
        redis
            .cli(&["EXISTS", "fgtest:{alice}:rl:accepts"])
            .unwrap()
            .trim(),
        "1"
    );
    replica.stop();

    // The web's roots alone do not trust this certificate: no connection,
    // and the rule's on_redis_error (reject) decides.
    let config = write("");
    let replica = Serving::start(&config);
    assert_eq!(codes(&replica, "bob", &[("a", "", AGREE)]), [38002]);
    assert_eq!(
        admin_get(&replica, "/readyz"),
        (
            200,
            "ready\nredis: down (rules on Redis use their on_redis_error)\n".to_owned()
        )
    );
    assert_eq!(
        redis
            .cli(&["EXISTS", "fgtest:{bob}:rl:accepts"])
            .unwrap()
            .trim(),
        "0"
    );
    replica.stop();
}

#[test]
fn events_go_to_a_redis_stream_trimmed_to_its_cap() {
    let Setup {
        redis,
        config,
        dir: _dir,
    } = setup(&rules(1000, "local"), 1);
    let text = std::fs::read_to_string(&config).unwrap()
        + "\n[events]\n\n[events.redis_stream]\nkey = \"fgtest:events\"\nmax_len = 100\n";
    std::fs::write(&config, text).unwrap();
    redis.cli(&["SADD", "fgtest:blocked", "mallory"]).unwrap();
    let replica = Serving::start(&config);
    assert_eq!(codes(&replica, "mallory", &[("bob", "", AGREE)]), [38001]);
    let xlen = || -> u64 {
        redis
            .cli(&["XLEN", "fgtest:events"])
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    };
    assert!(eventually(Duration::from_secs(5), || xlen() == 1).is_some());
    let entry = redis.cli(&["XRANGE", "fgtest:events", "-", "+"]).unwrap();
    let json = entry.lines().nth(2).unwrap();
    let event: serde_json::Value = serde_json::from_str(json).unwrap();
    assert_eq!(event["type"], "friend_response");
    assert_eq!(event["from"], "mallory");
    assert_eq!(event["items"][0]["rule"], "blocked");
    assert_eq!(event["items"][0]["result_code"], 38001);
    for i in 0..299 {
        codes(&replica, &format!("u{i}"), &[("bob", "", REJECT)]);
    }
    assert!(eventually(Duration::from_secs(5), || {
        metric(
            &replica.metrics(),
            "friendgate_events_total{sink=\"redis_stream\",outcome=\"delivered\"}",
        ) == 300.0
    })
    .is_some());
    let kept = xlen();
    assert!((100..300).contains(&kept), "trimmed to about 100: {kept}");
    replica.stop();
}

fn check_config(dir: &Path, text: &str) -> String {
    let path = write_config(dir, &(config_head(dir) + text));
    let out = Command::new(env!("CARGO_BIN_EXE_friendgate"))
        .args(["check-config", "--config", path.to_str().unwrap()])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

#[test]
fn state_settings_are_checked_with_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let said = check_config(
        dir,
        "[[rule]]\nname = \"b\"\nkind = \"accounts\"\nredis_set = \"k\"\ncode = 38001\n",
    );
    assert!(
        said.contains("rule[0].redis_set: needs a [state] section"),
        "{said}"
    );
    let said = check_config(
        dir,
        "[state]\nredis_url = \"redis://127.0.0.1:1\"\n\n[[rule]]\nname = \"b\"\nkind = \"accounts\"\naccounts = [\"x\"]\non_redis_error = \"reject\"\ncode = 38001\n",
    );
    assert!(
        said.contains("rule[0].on_redis_error: applies to an accounts rule with a `redis_set`"),
        "{said}"
    );
    let said = check_config(
        dir,
        "[state]\nredis_url = \"redis://127.0.0.1:1\"\ntimeout_ms = 900\n",
    );
    assert!(
        said.contains("state.timeout_ms: must be between 1 and 749"),
        "{said}"
    );
    let said = check_config(dir, "[state]\nredis_url = \"mysql://user:hunter2@db\"\n");
    assert!(said.contains("state.redis_url"), "{said}");
    assert!(
        !said.contains("hunter2"),
        "the password is not shown: {said}"
    );
    let said = check_config(
        dir,
        "[state]\nredis_url = \"redis://:hunter2@127.0.0.1:1/0\"\nkey_prefix = \"a{b}\"\n",
    );
    assert!(said.contains("state.key_prefix"), "{said}");
    let said = check_config(
        dir,
        "[state]\nredis_url = \"redis://:hunter2@127.0.0.1:6390/0\"\n",
    );
    assert!(
        said.contains("state: redis://***@127.0.0.1:6390/0)"),
        "{said}"
    );
    assert!(!said.contains("hunter2"), "{said}");
}

/// A limit of 3 on Redis; Redis paused (SIGSTOP) while three accepts come:
/// each is answered by the rule's `reject` fallback. After SIGCONT Redis
/// runs the three calls it had queued: they are past their deadline and
/// take nothing, so the account's next three accepts still have their
/// tokens. Then Redis killed: the rules fall back at once (no call is made
/// while the connection is down), counted as `down`, not after the timeout.
#[test]
fn a_call_that_timed_out_never_takes_a_token_later_and_a_dead_redis_fails_fast() {
    let Setup {
        mut redis,
        config,
        dir: _dir,
    } = setup(&rules(3, "reject"), 1);
    let replica = Serving::start(&config);
    let accept = [("a", "", AGREE)];
    redis.signal("STOP");
    for _ in 0..3 {
        assert_eq!(codes(&replica, "carol", &accept), [38002], "the fallback");
    }
    redis.signal("CONT");
    // Another account's accept decided on Redis: Redis has run the queued
    // calls by then (they were sent before it).
    assert!(eventually(Duration::from_secs(5), || {
        codes(&replica, "probe", &accept) == [0]
    })
    .is_some());
    let metrics = replica.metrics();
    for n in 1..=3 {
        assert_eq!(
            codes(&replica, "carol", &accept),
            [0],
            "accept {n} of 3 still has its token\n{metrics}"
        );
    }
    assert_eq!(codes(&replica, "carol", &accept), [38002], "the fourth");

    redis.kill();
    assert!(eventually(Duration::from_secs(5), || {
        admin_get(&replica, "/readyz").1.contains("redis: down")
    })
    .is_some());
    let timeouts = |metrics: &str| {
        metric(
            metrics,
            "friendgate_redis_errors_total{op=\"limits\",kind=\"timeout\"}",
        )
    };
    let before = replica.metrics();
    for _ in 0..10 {
        assert_eq!(codes(&replica, "dave", &accept), [38002]);
    }
    let after = replica.metrics();
    assert_eq!(
        timeouts(&after),
        timeouts(&before),
        "no call waited: {after}"
    );
    assert_eq!(
        metric(
            &after,
            "friendgate_redis_errors_total{op=\"limits\",kind=\"down\"}"
        ),
        10.0,
        "{after}"
    );
    replica.stop();
}
