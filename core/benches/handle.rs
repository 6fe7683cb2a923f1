//! `handle` on the platform's signed sample and on a 100-item request, and
//! `handle_add` on the friend-request sample and 100 requests, each beside a
//! naive baseline doing the same checks the usual way (serde_json into a
//! `Value`, hand checks, a `Value` answer serialized back to bytes).
//!
//! Run: `cargo bench -p friendgate-core --bench handle`

// Test code: a failed expectation should stop with a message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use friendgate_core::testing::{
    add_body_with_items, body_with_items, signed_add_query, signed_query, SAMPLE_ADD_BODY,
    SAMPLE_BODY,
};
use friendgate_core::{
    add_decider_fn, decider_fn, handle, handle_add, AllowAll, Config, Decision, Token,
};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::hint::black_box;

const APP: u64 = 1_400_000_000;
const TOKEN: &str = "xxxxyyyy";
const NOW: u64 = 1_669_872_112;

/// What each command's naive endpoint reads: its name, its items' field, and
/// how an item is checked and decided.
struct Naive {
    command: &'static str,
    items: &'static str,
    item: fn(&Value) -> Option<(u32, &'static str)>,
}

fn short(v: &Value, max: usize) -> bool {
    v.as_str().is_some_and(|s| s.len() <= max)
}

/// A friend response: the documented limits, a decision on the remark.
const RESPONSES: Naive = Naive {
    command: "Sns.CallbackPrevFriendResponse",
    items: "ResponseFriendItem",
    item: |item| {
        let ok = short(&item["To_Account"], 32)
            && (item.get("Remark").is_none() || short(&item["Remark"], 96))
            && (item.get("TagName").is_none() || short(&item["TagName"], 96))
            && item["ResponseAction"].is_string();
        let remark = item["Remark"].as_str().unwrap_or("");
        ok.then_some(if remark.contains("spam") {
            (38001, "spam")
        } else {
            (0, "")
        })
    },
};

/// A friend request: the texts' types, a decision on the greeting.
const REQUESTS: Naive = Naive {
    command: "Sns.CallbackPrevFriendAdd",
    items: "FriendItem",
    item: |item| {
        let text = |key: &str| item.get(key).map_or(true, Value::is_string);
        let ok = short(&item["To_Account"], 32)
            && ["Remark", "GroupName", "AddSource", "AddWording"]
                .into_iter()
                .all(text);
        let wording = item["AddWording"].as_str().unwrap_or("");
        ok.then_some(if wording.contains("spam") {
            (38010, "spam")
        } else {
            (0, "")
        })
    },
};

/// What a careful hand-written endpoint does: the same checks, the obvious way.
fn naive(query: &str, body: &[u8]) -> (u16, Vec<u8>) {
    naive_for(&RESPONSES, query, body)
}

fn naive_for(cmd: &Naive, query: &str, body: &[u8]) -> (u16, Vec<u8>) {
    fn fail(status: u16, code: u32, info: &str) -> (u16, Vec<u8>) {
        let answer =
            json!({"ActionStatus": "FAIL", "ErrorCode": code, "ErrorInfo": info, "ResultItem": []});
        (status, serde_json::to_vec(&answer).unwrap_or_default())
    }
    let params: HashMap<String, String> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let Some(app) = params.get("SdkAppid").and_then(|v| v.parse::<u64>().ok()) else {
        return fail(400, 38001, "bad SdkAppid");
    };
    if app != APP {
        return fail(403, 38010, "foreign app");
    }
    if params.get("CallbackCommand").map(String::as_str) != Some(cmd.command)
        || params.get("contenttype").map(String::as_str) != Some("json")
    {
        return fail(400, 38005, "bad command");
    }
    let (Some(time), Some(sign)) = (params.get("RequestTime"), params.get("Sign")) else {
        return fail(401, 38011, "missing Sign");
    };
    let expected = const_hex::encode(Sha256::digest(format!("{TOKEN}{time}").as_bytes()));
    if !bool::from(subtle::ConstantTimeEq::ct_eq(
        expected.as_bytes(),
        sign.as_bytes(),
    )) {
        return fail(401, 38012, "bad Sign");
    }
    let Ok(seconds) = time.parse::<u64>() else {
        return fail(400, 38002, "bad RequestTime");
    };
    if seconds.abs_diff(NOW) > 60 {
        return fail(401, 38013, "stale");
    }
    if body.len() > 1 << 20 {
        return fail(413, 38020, "too large");
    }
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return fail(400, 38022, "bad JSON");
    };
    if value["CallbackCommand"] != cmd.command
        || !short(&value["Requester_Account"], 32)
        || !short(&value["From_Account"], 32)
        || !value["EventTime"].is_u64()
    {
        return fail(400, 38025, "bad field");
    }
    let Some(items) = value[cmd.items].as_array() else {
        return fail(400, 38025, "bad items");
    };
    if items.len() > 1000 {
        return fail(413, 38027, "too many items");
    }
    let mut results = Vec::with_capacity(items.len());
    for item in items {
        let Some((code, info)) = (cmd.item)(item) else {
            return fail(400, 38025, "bad item");
        };
        results.push(
            json!({"To_Account": item["To_Account"], "ResultCode": code, "ResultInfo": info}),
        );
    }
    let answer =
        json!({"ActionStatus": "OK", "ErrorCode": 0, "ErrorInfo": "", "ResultItem": results});
    (200, serde_json::to_vec(&answer).unwrap_or_default())
}

fn bench(c: &mut Criterion) {
    let config = Config::builder(APP)
        .token(Token::new(TOKEN).expect("token"))
        .build()
        .expect("config");
    let query = signed_query(APP, TOKEN, NOW);
    let decider = decider_fn(|_, _, item| {
        if item.remark.contains("spam") {
            Ok(Decision::reject(38001, "spam")?)
        } else {
            Ok(Decision::allow())
        }
    });
    let hundred = body_with_items("bench", 100);
    let inputs = [
        ("sample_2_items", SAMPLE_BODY.as_bytes()),
        ("100_items", hundred.as_bytes()),
    ];

    // Both sides must give the same answer, or the comparison means nothing.
    // (As JSON values: a `Value` sorts keys, so the naive bytes are in another
    // field order than the platform sample's.)
    for (_, body) in inputs {
        let reply = handle(&config, &query, body, NOW, &decider);
        let (status, naive_body) = naive(&query, body);
        assert_eq!((reply.status, status), (200, 200));
        let parse = |bytes: &[u8]| serde_json::from_slice::<Value>(bytes).expect("JSON answer");
        assert_eq!(parse(&naive_body), parse(&reply.body));
    }

    let mut group = c.benchmark_group("handle");
    for (name, body) in inputs {
        group.throughput(Throughput::Elements(1));
        // The engine alone: every item allowed by a decider that costs nothing.
        group.bench_with_input(
            BenchmarkId::new("friendgate_allow_all", name),
            body,
            |b, body| {
                b.iter(|| handle(&config, black_box(&query), black_box(body), NOW, &AllowAll))
            },
        );
        // Engine plus a decider that reads each remark, like the baseline.
        group.bench_with_input(
            BenchmarkId::new("friendgate_remark_check", name),
            body,
            |b, body| b.iter(|| handle(&config, black_box(&query), black_box(body), NOW, &decider)),
        );
        group.bench_with_input(BenchmarkId::new("naive_value", name), body, |b, body| {
            b.iter(|| naive(black_box(&query), black_box(body)))
        });
    }
    group.finish();

    // Friend requests: the same engine on the other command.
    let add_query = signed_add_query(APP, TOKEN, NOW);
    let add_decider = add_decider_fn(|_, _, item| {
        if item.add_wording.contains("spam") {
            Ok(Decision::reject(38010, "spam")?)
        } else {
            Ok(Decision::allow())
        }
    });
    let hundred_adds = add_body_with_items("bench", 100);
    let adds = [
        ("sample_2_items", SAMPLE_ADD_BODY.as_bytes()),
        ("100_items", hundred_adds.as_bytes()),
    ];
    for (_, body) in adds {
        let reply = handle_add(&config, &add_query, body, NOW, &add_decider);
        let (status, naive_body) = naive_for(&REQUESTS, &add_query, body);
        assert_eq!((reply.status, status), (200, 200));
        let parse = |bytes: &[u8]| serde_json::from_slice::<Value>(bytes).expect("JSON answer");
        assert_eq!(parse(&naive_body), parse(&reply.body));
    }
    let mut group = c.benchmark_group("handle_add");
    for (name, body) in adds {
        group.throughput(Throughput::Elements(1));
        group.bench_with_input(
            BenchmarkId::new("friendgate_wording_check", name),
            body,
            |b, body| {
                b.iter(|| {
                    handle_add(
                        &config,
                        black_box(&add_query),
                        black_box(body),
                        NOW,
                        &add_decider,
                    )
                })
            },
        );
        group.bench_with_input(BenchmarkId::new("naive_value", name), body, |b, body| {
            b.iter(|| naive_for(&REQUESTS, black_box(&add_query), black_box(body)))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
