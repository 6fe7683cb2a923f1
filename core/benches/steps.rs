//! Each step of `handle` alone, to see where the time goes.
//!
//! Run: `cargo bench -p friendgate-core --bench steps`

// Test code: a failed expectation should stop with a message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use friendgate_core::testing::{
    signed_query, SAMPLE_BODY, SAMPLE_REQUEST_TIME, SAMPLE_SIGN, SAMPLE_TOKEN,
};
use friendgate_core::{
    auth::authenticate, sign::verify_sign, validate::parse_body, AllowAll, CallbackQuery, Config,
    Limits, Response, Token,
};

/// The sample body as a plain derived struct of borrowed strings: serde_json's
/// floor for this body, with none of friendgate's checks.
#[derive(serde::Deserialize)]
#[allow(non_snake_case, dead_code)]
struct FloorBody<'a> {
    CallbackCommand: &'a str,
    Requester_Account: &'a str,
    From_Account: &'a str,
    #[serde(borrow)]
    ResponseFriendItem: Vec<FloorItem<'a>>,
    EventTime: u64,
}

#[derive(serde::Deserialize)]
#[allow(non_snake_case, dead_code)]
struct FloorItem<'a> {
    To_Account: &'a str,
    Remark: &'a str,
    TagName: &'a str,
    ResponseAction: &'a str,
}

fn bench(c: &mut Criterion) {
    let config = Config::builder(1_400_000_000)
        .token(Token::new(SAMPLE_TOKEN).expect("token"))
        .build()
        .expect("config");
    let query = signed_query(1_400_000_000, SAMPLE_TOKEN, SAMPLE_REQUEST_TIME);
    let tokens = config.tokens().to_vec();
    let limits = Limits::default();
    let mut group = c.benchmark_group("steps");
    group.bench_function("query_parse", |b| {
        b.iter(|| CallbackQuery::parse(black_box(&query)))
    });
    let parsed = CallbackQuery::parse(&query).expect("query");
    group.bench_function("sign_verify", |b| {
        b.iter(|| verify_sign(&tokens, black_box("1669872112"), black_box(SAMPLE_SIGN)))
    });
    group.bench_function("authenticate", |b| {
        b.iter(|| authenticate(&config, black_box(&parsed), SAMPLE_REQUEST_TIME))
    });
    group.bench_function("body_parse", |b| {
        b.iter(|| parse_body(black_box(SAMPLE_BODY.as_bytes()), &limits))
    });
    group.bench_function("serde_json_derive_floor", |b| {
        b.iter(|| serde_json::from_str::<FloorBody<'_>>(black_box(SAMPLE_BODY)).is_ok())
    });
    group.bench_function("response_bytes", |b| {
        b.iter(|| Response::allow_all(black_box(["id1", "id2"])).to_bytes())
    });
    let callback =
        friendgate_core::verify(&config, &query, SAMPLE_BODY.as_bytes(), SAMPLE_REQUEST_TIME)
            .expect("verify");
    group.bench_function("decide_and_respond", |b| {
        b.iter(|| {
            let outcomes = friendgate_core::decide_all(black_box(&callback), &AllowAll);
            friendgate_core::respond(&config, &callback, outcomes)
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
