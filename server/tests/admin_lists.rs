//! The admin API's list edits: authenticated, persisted atomically where the
//! rule reads its list, applied without a reload, audited, kept across a
//! restart. Real `friendgate serve` processes on 127.0.0.1.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};

use common::process::{block_on, Serving};
use common::redis::Redis;
use common::{body, config_head, results, write_config};

const ADMIN_TOKEN: &str = "admin-s3cret";

fn config(dir: &Path, extra: &str, rules: &str) -> PathBuf {
    std::fs::write(dir.join("admin.token"), ADMIN_TOKEN).unwrap();
    std::fs::write(dir.join("blocked.txt"), "# blocked accounts\nmallory\n").unwrap();
    std::fs::write(dir.join("words.txt"), "spam\n").unwrap();
    let head = config_head(dir).replace(
        "[admin]\nlisten = \"127.0.0.1:0\"\n",
        "[admin]\nlisten = \"127.0.0.1:0\"\ntoken = { file = \"admin.token\" }\n",
    );
    write_config(
        dir,
        &(head + "[log]\nformat = \"json\"\n\n" + extra + rules),
    )
}

const RULES: &str = r#"
[[rule]]
name = "blocked"
kind = "accounts"
accounts_file = "blocked.txt"
field = "from"
code = 38001

[[rule]]
name = "inline"
kind = "accounts"
accounts = ["x"]
code = 38004

[[rule]]
name = "words"
kind = "words"
words_file = "words.txt"
code = 38003

[[rule]]
name = "accepts"
kind = "rate_limit"
max = 3
per_seconds = 3600
code = 38002
"#;

/// `POST /rules/<rule>/<list>` on the admin listener: status and body.
fn edit(replica: &Serving, path: &str, token: Option<&str>, json: &str) -> (u16, String) {
    block_on(async {
        let mut request = common::client()
            .post(format!("http://{}{path}", replica.admin))
            .body(json.to_owned());
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    })
}

fn code(replica: &Serving, from: &str, remark: &str) -> u64 {
    let answer = replica.post(&body(
        from,
        &[("bob", remark, "Response_Action_AgreeAndAdd")],
    ));
    results(&answer)[0].0
}

#[test]
fn edits_need_the_admin_token() {
    let dir = tempfile::tempdir().unwrap();
    let replica = Serving::start(&config(dir.path(), "", RULES));
    let add = r#"{"add": ["eve"]}"#;
    assert_eq!(edit(&replica, "/rules/blocked/accounts", None, add).0, 401);
    assert_eq!(
        edit(&replica, "/rules/blocked/accounts", Some("wrong"), add).0,
        401
    );
    assert_eq!(code(&replica, "eve", ""), 0, "nothing was applied");
    assert!(!std::fs::read_to_string(dir.path().join("blocked.txt"))
        .unwrap()
        .contains("eve"));
    replica.stop();

    // Without admin.token, the API refuses to edit at all.
    let dir = tempfile::tempdir().unwrap();
    let path = config(dir.path(), "", RULES);
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("token = { file = \"admin.token\" }\n", "");
    std::fs::write(&path, text).unwrap();
    let replica = Serving::start(&path);
    let (status, said) = edit(&replica, "/rules/blocked/accounts", None, add);
    assert_eq!(status, 403, "{said}");
    assert!(said.contains("admin.token"), "{said}");
    replica.stop();
}

#[test]
fn an_edit_is_persisted_applied_at_once_audited_and_kept_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), "", RULES);
    let replica = Serving::start(&config);
    // Two of the three accepts of `alice`'s bucket: the edit must keep it.
    assert_eq!(code(&replica, "alice", ""), 0);
    assert_eq!(code(&replica, "alice", ""), 0);
    assert_eq!(code(&replica, "eve", ""), 0);

    let (status, said) = edit(
        &replica,
        "/rules/blocked/accounts",
        Some(ADMIN_TOKEN),
        r#"{"add": ["eve", "trudy"], "remove": ["mallory"]}"#,
    );
    assert_eq!(status, 200, "{said}");
    let said: serde_json::Value = serde_json::from_str(&said).unwrap();
    assert_eq!(said["added"], 2);
    assert_eq!(said["removed"], 1);
    assert_eq!(code(&replica, "eve", ""), 38001, "applied without a reload");
    assert_eq!(code(&replica, "mallory", ""), 0);
    assert_eq!(code(&replica, "alice", ""), 0, "the third of three");
    assert_eq!(code(&replica, "alice", ""), 38002, "the bucket was kept");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("blocked.txt")).unwrap(),
        "# blocked accounts\neve\ntrudy\n"
    );
    let audit = replica.wait_for("list edited through the admin API");
    assert!(
        audit.contains("\"rule\":\"blocked\"") && audit.contains("eve"),
        "{audit}"
    );

    let (status, said) = edit(
        &replica,
        "/rules/words/words",
        Some(ADMIN_TOKEN),
        r#"{"add": ["scam"]}"#,
    );
    assert_eq!(status, 200, "{said}");
    assert_eq!(code(&replica, "bob", "a scam offer"), 38003);

    // Refusals: an unknown rule, a rule whose list lives only in the config,
    // a list of the wrong kind, a bad entry, a bad body.
    for (path, json, status) in [
        ("/rules/nope/accounts", r#"{"add": ["a"]}"#, 404),
        ("/rules/inline/accounts", r#"{"add": ["a"]}"#, 409),
        ("/rules/words/accounts", r#"{"add": ["a"]}"#, 404),
        ("/rules/blocked/accounts", r#"{"add": ["a\nb"]}"#, 400),
        ("/rules/blocked/accounts", r#"{"add": "a"}"#, 400),
        ("/rules/blocked/phones", r#"{"add": ["a"]}"#, 404),
    ] {
        let (got, said) = edit(&replica, path, Some(ADMIN_TOKEN), json);
        assert_eq!(got, status, "{path} {json}: {said}");
        assert!(said.contains("\"error\""), "{said}");
    }
    replica.stop();

    let replica = Serving::start(&config);
    assert_eq!(
        code(&replica, "trudy", ""),
        38001,
        "the edit survives a restart"
    );
    assert_eq!(code(&replica, "mallory", ""), 0);
    replica.stop();
}

#[test]
fn an_edit_of_a_rule_on_a_redis_set_goes_to_the_set() {
    let redis = Redis::start();
    let dir = tempfile::tempdir().unwrap();
    let state = format!(
        "[state]\nredis_url = \"{}\"\nkey_prefix = \"fgtest\"\nrefresh_seconds = 3600\n\n",
        redis.url()
    );
    let rules = "[[rule]]\nname = \"shared\"\nkind = \"accounts\"\nredis_set = \"fgtest:blocked\"\ncode = 38001\n";
    let config = config(dir.path(), &state, rules);
    let replicas = [Serving::start(&config), Serving::start(&config)];
    let (status, said) = edit(
        &replicas[0],
        "/rules/shared/accounts",
        Some(ADMIN_TOKEN),
        r#"{"add": ["eve"]}"#,
    );
    assert_eq!(status, 200, "{said}");
    assert_eq!(
        redis
            .cli(&["SISMEMBER", "fgtest:blocked", "eve"])
            .unwrap()
            .trim(),
        "1"
    );
    for replica in &replicas {
        let mut refused = false;
        for _ in 0..100 {
            if code(replica, "eve", "") == 38001 {
                refused = true;
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert!(refused, "every replica applies it at once");
    }
    for replica in replicas {
        replica.stop();
    }
}

/// Entries are stored and matched exactly as given: blocking `"ceo "` (or
/// with a no-break or ideographic space) blocks that account, never the
/// innocent `ceo`; an account starting with `#` or `"` can be listed. The
/// file keeps each as a JSON string on its line, and a restart reads them
/// back the same.
#[test]
fn entries_are_kept_and_matched_exactly_as_given() {
    let dir = tempfile::tempdir().unwrap();
    let path = config(dir.path(), "", RULES);
    let replica = Serving::start(&path);
    let odd = ["ceo ", "\u{a0}ceo2", "ceo3\u{3000}", "#vip", "\"quoted"];
    let json = serde_json::json!({ "add": odd }).to_string();
    let (status, said) = edit(
        &replica,
        "/rules/blocked/accounts",
        Some(ADMIN_TOKEN),
        &json,
    );
    assert_eq!(status, 200, "{said}");
    assert!(said.contains("\"added\":5"), "{said}");
    let check = |replica: &Serving| {
        for account in odd {
            assert_eq!(code(replica, account, ""), 38001, "{account:?} is blocked");
        }
        for innocent in ["ceo", "ceo2", "ceo3", "vip", "quoted"] {
            assert_eq!(code(replica, innocent, ""), 0, "{innocent:?} is not");
        }
    };
    check(&replica);
    let file = std::fs::read_to_string(dir.path().join("blocked.txt")).unwrap();
    assert_eq!(
        file,
        "# blocked accounts\nmallory\n\"ceo \"\n\"\u{a0}ceo2\"\n\"ceo3\u{3000}\"\n\"#vip\"\n\"\\\"quoted\"\n"
    );
    // Removed exactly as given, too.
    let (status, said) = edit(
        &replica,
        "/rules/blocked/accounts",
        Some(ADMIN_TOKEN),
        r##"{"remove": ["#vip", "ceo"]}"##,
    );
    assert_eq!(status, 200, "{said}");
    assert!(said.contains("\"removed\":1"), "{said}");
    assert_eq!(code(&replica, "#vip", ""), 0);
    replica.stop();
    let replica = Serving::start(&path);
    assert_eq!(
        code(&replica, "ceo ", ""),
        38001,
        "read back after a restart"
    );
    assert_eq!(code(&replica, "ceo", ""), 0);
    // What can never be an account is refused, naming the problem.
    for (entry, why) in [
        ("", "empty"),
        (&"x".repeat(300)[..], "bytes"),
        ("tab\there", "U+0009"),
    ] {
        let json = serde_json::json!({ "add": [entry] }).to_string();
        let (status, said) = edit(
            &replica,
            "/rules/blocked/accounts",
            Some(ADMIN_TOKEN),
            &json,
        );
        assert_eq!(status, 400, "{said}");
        assert!(said.contains(why), "{said}");
    }
    replica.stop();
}

/// An edit the reload refuses (here: a list losing more than half its
/// entries) leaves the file and the rules as they were; a later edit does
/// not apply it.
#[test]
fn a_refused_edit_leaves_the_file_and_the_rules_as_they_were() {
    let dir = tempfile::tempdir().unwrap();
    let path = config(dir.path(), "", RULES);
    let ten: Vec<String> = (0..10).map(|n| format!("spammer{n}")).collect();
    std::fs::write(dir.path().join("blocked.txt"), ten.join("\n") + "\n").unwrap();
    let before = std::fs::read(dir.path().join("blocked.txt")).unwrap();
    let replica = Serving::start(&path);
    let json = serde_json::json!({ "remove": &ten[..6] }).to_string();
    let (status, said) = edit(
        &replica,
        "/rules/blocked/accounts",
        Some(ADMIN_TOKEN),
        &json,
    );
    assert_eq!(status, 409, "{said}");
    assert!(said.contains("as it was"), "{said}");
    assert_eq!(
        std::fs::read(dir.path().join("blocked.txt")).unwrap(),
        before
    );
    assert_eq!(code(&replica, "spammer0", ""), 38001);
    // An unrelated edit: the refused removal stays refused.
    let (status, said) = edit(
        &replica,
        "/rules/blocked/accounts",
        Some(ADMIN_TOKEN),
        r#"{"add": ["spammer10"]}"#,
    );
    assert_eq!(status, 200, "{said}");
    for n in 0..=10 {
        assert_eq!(
            code(&replica, &format!("spammer{n}"), ""),
            38001,
            "spammer{n}"
        );
    }
    replica.stop();
}
